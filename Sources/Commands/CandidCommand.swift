import ArgumentParser
import Foundation
import RbicDiagnostics
import RbicTooling

/// `rbic candid FILE.did`: a service's methods with their argument and reply types, one per line
/// (imports followed); exit 2 with a located diagnostic when the file is not a valid interface.
struct CandidCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "candid", abstract: "List a Candid interface's methods and their types.")

  @ArgumentParser.Argument(help: "A .did file.")
  var file: String

  func run() throws {
    var files = SourceFiles()
    switch CandidSummary.listing(path: file, files: &files) {
    case .success(let listing):
      for line in listing.lines { Terminal.writeOut(TerminalText.escaped(line) + "\n") }
      if let note = listing.note { Terminal.writeError("note: \(note)\n") }
    case .failure(let failure):
      let renderer = DiagnosticRenderer(files: files, style: .human(colors: Terminal.colorsOnStderr))
      Terminal.writeError(renderer.render(failure.diagnostic))
      throw ExitCode(2)
    }
  }
}
