import ArgumentParser
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicRuntime
import RbicTooling

/// `--format` of `check`.
enum CheckFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json, github
}

/// `rbic check FILE…`: parse, type-check, resolve names and networks; run nothing.
struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check", abstract: "Check runbooks without running them (exit 0 clean, 2 on errors).")

  @ArgumentParser.Argument(help: "Runbook files (*.rb.ic).")
  var files: [String]

  @Option(help: "Output: text for people, json for tools, github for workflow annotations.")
  var format: CheckFormat = .text

  @Flag(help: "Treat warnings as errors.")
  var strict = false

  @Option(help: "A git ref: warn when a runbook changed since it but its version did not increase.")
  var base: String?

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
      var diagnostics = program.diagnostics
      if let base, !program.hasErrors, let d = Versioning.check(RunbookSource(program), base: base, path: path) {
        diagnostics.append(d)
      }
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
