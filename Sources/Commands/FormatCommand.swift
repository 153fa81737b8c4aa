import ArgumentParser
import Foundation
import RbicDiagnostics
import RbicTooling

/// `rbic fmt [--check] FILE…`: rewrite in canonical layout, or list files that are not.
struct FormatCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fmt",
    abstract: "Format runbooks in place; with --check, list unformatted files and exit 1.")

  @Flag(help: "Change nothing; list the files that are not formatted and exit 1 if any.")
  var check = false

  @ArgumentParser.Argument(help: "Runbook files (*.rb.ic).")
  var files: [String]

  func run() throws {
    var broken = false
    var unformatted = false
    for path in files {
      guard let data = FileManager.default.contents(atPath: path) else {
        Terminal.writeError("error: cannot read `\(path)`\n")
        broken = true
        continue
      }
      var sources = SourceFiles()
      let source = RunbookSource(path: path, bytes: Array(data), into: &sources)
      guard let formatted = source.formatted() else {
        let renderer = DiagnosticRenderer(files: sources, style: .human(colors: Terminal.colorsOnStderr))
        Terminal.writeError(source.diagnostics.map { renderer.render($0) + "\n" }.joined())
        Terminal.writeError("error: `\(path)` has syntax errors; it was not formatted\n")
        broken = true
        continue
      }
      guard Array(formatted.utf8) != Array(data) else { continue }
      if check {
        Terminal.writeOut(path + "\n")
        unformatted = true
      } else if !FileManager.default.createFile(atPath: path, contents: Data(formatted.utf8)) {
        Terminal.writeError("error: cannot write `\(path)`\n")
        broken = true
      }
    }
    if broken { throw ExitCode(2) }
    if unformatted { throw ExitCode(1) }
  }
}
