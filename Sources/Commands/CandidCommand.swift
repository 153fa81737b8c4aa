import ArgumentParser
import Foundation
import RbicCandid
import RbicDiagnostics

/// `rbic candid FILE.did`: a service's methods with their argument and reply types, one per line
/// (imports followed); exit 2 with a located diagnostic when the file is not a valid interface.
struct CandidCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "candid", abstract: "List a Candid interface's methods and their types.")

  @ArgumentParser.Argument(help: "A .did file.")
  var file: String

  func run() throws {
    var files = SourceFiles()
    do throws(CandidFailure) {
      let env = try CandidEnvironment.load(path: file, into: &files)
      if let arguments = env.constructorArguments {
        Terminal.writeOut(
          TerminalText.escaped("service : (\(arguments.map(\.description).joined(separator: ", ")))") + "\n")
      }
      for m in env.methods { Terminal.writeOut(TerminalText.escaped("\(m.name) : \(m.function)") + "\n") }
      if !env.hasService {
        Terminal.writeError("note: `\(file)` defines \(env.definitions.count) types and no service\n")
      }
    } catch {
      let renderer = DiagnosticRenderer(files: files, style: .human(colors: Terminal.colorsOnStderr))
      Terminal.writeError(renderer.render(error.diagnostic))
      throw ExitCode(2)
    }
  }
}
