import ArgumentParser
import Foundation
import RbicDiagnostics
import RbicParser
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
    let tree = Parser.parse(files.add(path: file, bytes: Array(data)))
    if tree.diagnostics.hasErrors {
      let renderer = DiagnosticRenderer(files: files, style: .human(colors: Terminal.colorsOnStderr))
      Terminal.writeError(tree.diagnostics.sortedBySource().capped().map { renderer.render($0) + "\n" }.joined())
      throw ExitCode(2)
    }
    Terminal.writeOut(RunbookDocument.markdown(tree))
  }
}
