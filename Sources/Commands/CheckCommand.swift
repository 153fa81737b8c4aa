import ArgumentParser
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicParser
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
      if let base, !program.hasErrors, let d = Versioning.check(program.main, base: base, path: path) {
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

/// The versioning rule: a runbook whose meaning changed since a base ref must raise its version.
enum Versioning {
  static func check(_ tree: SyntaxTree, base: String, path: String) -> Diagnostic? {
    guard let header = tree.header, let oldBytes = Git.show(ref: base, path: path) else { return nil }
    var files = SourceFiles()
    let old = Parser.parse(files.add(path: "\(base):\(path)", bytes: oldBytes))
    guard !old.diagnostics.hasErrors, let oldVersion = old.header?.version else { return nil }
    if header.version < oldVersion {
      return Diagnostic.warning(
        .versionNotIncreased, "version went down from \(oldVersion) at `\(base)` to \(header.version)",
        at: header.versionRange)
    }
    let diff = RunbookDiff(old: old, new: tree)
    guard !diff.isEmpty, header.version == oldVersion else { return nil }
    var d = Diagnostic.warning(
      .versionNotIncreased, "the runbook changed since `\(base)` but its version is still \(oldVersion)",
      at: header.versionRange)
    d = d.note("`rbic diff \(base):\(path) \(path)` shows what changed")
    return d.help("raise it to \(oldVersion + 1)")
  }
}
