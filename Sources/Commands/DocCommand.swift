import ArgumentParser
import Foundation
import RbicDiagnostics
import RbicTooling

/// `rbic doc FILE`: the runbook as the Markdown document operators read.
struct DocCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doc", abstract: "Render a runbook as a Markdown document.")

  @ArgumentParser.Argument(help: "The runbook (*.rb.ic).")
  var file: String

  func run() throws {
    guard let data = FileManager.default.contents(atPath: file) else {
      Terminal.writeError("error: cannot read `\(file)`\n")
      throw ExitCode(2)
    }
    var files = SourceFiles()
    let source = RunbookSource(path: file, bytes: Array(data), into: &files)
    if source.hasErrors {
      let renderer = DiagnosticRenderer(files: files, style: .human(colors: Terminal.colorsOnStderr))
      Terminal.writeError(source.diagnostics.map { renderer.render($0) + "\n" }.joined())
      throw ExitCode(2)
    }
    Terminal.writeOut(source.document())
  }
}
