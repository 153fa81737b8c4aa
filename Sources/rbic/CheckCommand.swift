import ArgumentParser
import RbicBuiltins
import RbicDiagnostics
import RbicRuntime

/// `--format` of `check`.
enum CheckFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json, github
}

/// `rbic check FILE…`: parse, type-check, resolve names and networks; run nothing.
struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check", abstract: "Check runbooks without running them (exit 0 clean, 2 on errors).")

  @Argument(help: "Runbook files (*.rb.ic).")
  var files: [String]

  @Option(help: "Output: text for people, json for tools, github for workflow annotations.")
  var format: CheckFormat = .text

  @Flag(help: "Treat warnings as errors.")
  var strict = false

  func run() throws {
    let engine = Engine(registry: .standard)
    var failed = false
    var json: [String] = []
    for path in files {
      let program: CheckedProgram
      do {
        program = try engine.compile(path: path)
      } catch {
        Terminal.writeError("error: \(error)\n")
        failed = true
        continue
      }
      let diagnostics = program.diagnostics
      if diagnostics.hasErrors || (strict && !diagnostics.isEmpty) { failed = true }
      switch format {
      case .text:
        let renderer = DiagnosticRenderer(files: program.files, style: .human(colors: Terminal.colorsOnStderr))
        Terminal.writeError(diagnostics.map { renderer.render($0) + "\n" }.joined())
      case .json:
        let rendered = DiagnosticRenderer(files: program.files, style: .tool).renderJSON(diagnostics)
        json.append(String(rendered.dropFirst().dropLast()))
      case .github:
        Terminal.writeOut(DiagnosticRenderer(files: program.files, style: .tool).renderGitHub(diagnostics))
      }
    }
    if format == .json {
      Terminal.writeOut("[" + json.filter { !$0.isEmpty }.joined(separator: ",") + "]\n")
    }
    if failed { throw ExitCode(2) }
  }
}
