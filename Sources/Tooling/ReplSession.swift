import Foundation
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime

/// A REPL session: each input is checked against everything accepted so far, then run; earlier
/// inputs never run again. Declarations (`let`, `fn`, `param`, `use`, `import`) accumulate as a
/// prelude that every later input is checked with; top-level `let` values are kept in the
/// session's globals, so `let t = now()` keeps its first value. A bare expression prints its value
/// with its type (`1.5T : cycles`). Errors never end the session.
public final class ReplSession {
  public struct Reply: Sendable {
    /// Diagnostics rendered against the input alone (carets under what was typed).
    public var diagnostics: String = ""
    /// `value : type` for an expression input (a canister: its state at a glance on the next line).
    public var value: String?
    /// The expression's value itself (`:watch` shows what changed between two).
    public var raw: Value?
    /// A runtime failure, rendered.
    public var failure: String?
    public var succeeded: Bool { diagnostics.isEmpty && failure == nil }
  }

  /// The session's engine: the host's registry, plus `_` (the last value) once there is one.
  package private(set) var engine: Engine
  package let backend: Backend
  public var options: RunOptions
  public var colors = false
  /// Accepted declarations, in order.
  package private(set) var prelude: [String] = []
  /// Every input that succeeded, in order (for `:save`).
  public private(set) var transcript: [String] = []
  /// The transcript's inputs that ran in plan mode (nothing happened: saved as comments).
  private var planned: Set<Int> = []
  private var globals: [Value?] = []
  /// The cycles ceiling holds for the whole session, not per input.
  private lazy var budget = CyclesBudget(ceiling: options.cyclesCeiling)
  /// The session's journal is a run (each input a step), so `rbic report` renders it.
  private var journalStarted = false
  private var inputs = 0
  private var recap = (ok: 0, failed: 0)

  /// The session's network, resolved once from the project files (a session never switches
  /// network), not again for every input.
  private let network: ProjectFiles.Network

  public init(engine: Engine, backend: Backend, options: RunOptions) {
    self.engine = engine
    self.backend = backend
    self.options = options
    network = options.resolvedNetwork(for: nil)
  }

  struct Checked {
    var program: CheckedProgram
    var inputStart: Int
    var fragment: [Stmt]
    var input: String
    var diagnostics: [Diagnostic]
  }

  /// REPL inputs may be a bare expression, and "never used" means nothing yet.
  static let silenced: Set<DiagnosticCode> = [.unusedExpression, .unusedBinding, .unreachableCode]

  func check(_ input: String) -> Checked {
    let preludeText = prelude.isEmpty ? "" : prelude.joined(separator: "\n") + "\n"
    let source = Array((preludeText + input).utf8)
    let program = engine.compile(
      source: source, path: options.projectDirectory + "/<repl>",
      options: .init(projectDirectory: options.projectDirectory, requireHeader: false))
    let start = preludeText.utf8.count
    let fragment = program.main.statements.filter { $0.range.start >= start }
    var diagnostics = program.diagnostics.filter {
      $0.range.file == program.main.file.id && !ReplSession.silenced.contains($0.code)
    }
    // An expression statement that is not a call is fine here only if it is the whole input.
    if fragment.count != 1 || !Self.isExpression(fragment[0]) {
      diagnostics += program.diagnostics.filter { $0.code == .unusedExpression && $0.range.start >= start }
    }
    return Checked(program: program, inputStart: start, fragment: fragment, input: input, diagnostics: diagnostics)
  }

  static func isExpression(_ s: Stmt) -> Bool {
    if case .expression = s.kind { return true }
    return false
  }

  static func isDeclaration(_ s: Stmt) -> Bool {
    switch s.kind {
    case .let, .function, .param, .useNetwork, .useIdentity, .import, .importInterface: true
    default: false
    }
  }

  /// Renders diagnostics against the input alone, shifting ranges past the prelude.
  func render(_ diagnostics: [Diagnostic], _ checked: Checked) -> String {
    var files = SourceFiles()
    let file = files.add(path: "input", bytes: Array(checked.input.utf8))
    func shift(_ r: SourceRange) -> SourceRange {
      SourceRange(file: file.id, start: max(0, r.start - checked.inputStart), end: max(0, r.end - checked.inputStart))
    }
    let shifted = diagnostics.map { d -> Diagnostic in
      var d = d
      d.range = shift(d.range)
      d.labels = d.labels.filter { $0.range.file == checked.program.main.file.id }.map {
        .init(shift($0.range), $0.text)
      }
      return d
    }
    return DiagnosticRenderer(files: files, style: .human(colors: colors)).render(shifted.sortedBySource())
  }

  /// Checks and runs one input. A lone `call` prints its reply, with its type, as an expression
  /// does.
  /// `recorded: false` (a `:watch` tick) leaves no trace: no journal step, nothing in the
  /// transcript `:save` writes, `_` unchanged.
  public func evaluate(_ input: String, recorded: Bool = true) -> Reply {
    var reply = Reply()
    var checked = check(input)
    if !checked.diagnostics.hasErrors, checked.fragment.count == 1, case .call = checked.fragment[0].kind {
      let asValue = check("(" + input.trimmingCharacters(in: .whitespacesAndNewlines) + ")")
      if !asValue.diagnostics.hasErrors, asValue.fragment.count == 1,
        case .expression(let e) = asValue.fragment[0].kind,
        asValue.program.types[e.id] != .void
      {
        checked = asValue
      }
    }
    if checked.diagnostics.hasErrors || checked.fragment.isEmpty {
      reply.diagnostics = render(checked.diagnostics.filter { $0.severity == .error }, checked)
      return reply
    }
    // A session acts on the network it was started on: a `use network` naming another (typed, or
    // in a `:load`ed file) is refused, never a silent switch.
    let sessionNetwork = options.networkName(for: nil)
    for stmt in checked.fragment {
      guard case .useNetwork(let name) = stmt.kind, name.name != sessionNetwork else { continue }
      reply.failure =
        "error: this session is on `\(sessionNetwork)`; `use network \(name.name)` would switch it. Start `rbic repl --network \(name.name)` to act on `\(name.name)`\n"
      return reply
    }
    if recorded {
      inputs += 1
      startJournal()
      let title = String(input.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
      journal(.stepStart, [("step", .init(inputs)), ("title", .text(title))])
    }
    // In plan mode nothing reaches the backend's mutations: the input runs on a copy or predictor.
    let target = options.mode == .plan ? backend.predictor() : backend
    let interpreter = Interpreter(
      program: checked.program, registry: engine.registry, backend: target, options: options, globals: globals,
      budget: options.mode == .run ? budget : nil, network: network)
    interpreter.attach(backend)
    if target !== backend { interpreter.attach(target) }
    let outcome = interpreter.runFragment(checked.fragment)
    globals = interpreter.globals
    let failed = outcome.failure.map { interpreter.pipeline.redactor.scrub($0.diagnostic.message) }
    if recorded {
      var end: [(String, JournalValue)] = [
        ("step", .init(inputs)), ("outcome", .text(failed == nil ? "ok" : "failed")),
      ]
      if let failed { end.append(("reason", .text(failed))) }
      journal(.stepEnd, end)
      if failed == nil { recap.ok += 1 } else { recap.failed += 1 }
    }
    if let failure = outcome.failure {
      reply.failure = render([failure.diagnostic].filter { $0.range.file == checked.program.main.file.id }, checked)
      if reply.failure?.isEmpty != false { reply.failure = "error: \(failure.diagnostic.message)\n" }
      return reply
    }
    if let value = outcome.value, case .expression(let e) = checked.fragment[0].kind {
      let type = checked.program.types[e.id] ?? .error
      if type != .void, !type.isError {
        reply.raw = value
        // A rate reads as one (`36.58M/day`): the property says what its value is per.
        var per = ""
        if case .member(_, let name) = e.kind, let property = CanisterProperty(rawValue: name.name) {
          per = property.per ?? ""
        }
        var shown = "\(TerminalText.escaped(ValueFormat.display(value, exact: true)))\(per) : \(type)"
        // A canister shows its state at a glance (a read, cached as in a run).
        if case .canister = type, case .principal(let p) = value {
          shown += "\n" + Self.glance(p, interpreter: interpreter)
        }
        reply.value = shown
        // `_` is the last value, as in ic-repl (an unknown one, from plan, is not kept).
        if recorded, !value.isUnknown {
          var registry = engine.registry
          registry.register(constant: "_", type: type, value: value)
          engine = Engine(registry: registry)
        }
      }
    }
    guard recorded else { return reply }
    let entry = input.trimmingCharacters(in: .whitespacesAndNewlines)
    if checked.fragment.allSatisfy(Self.isDeclaration) {
      prelude.append(entry)
    } else if options.mode == .plan {
      planned.insert(transcript.count)
    }
    transcript.append(entry)
    return reply
  }

  /// A session's own lines (its start, each input's step) record no action: written, not waited
  /// for; every action inside an input is synced by the effect pipeline as in a run.
  private func journal(_ event: JournalEvent, _ fields: [(String, JournalValue)]) {
    options.journal?.write(JournalEntry(event, fields), sync: false)
  }

  /// The session's `run_start`, before its first input runs.
  private func startJournal() {
    guard !journalStarted, options.journal != nil else { return }
    journalStarted = true
    let principal = (try? backend.identityPrincipal())?.text
    journal(
      .runStart,
      [
        ("runbook", "repl-session"), ("version", .integer(0)), ("source_sha256", .null),
        ("mode", .text(options.mode.rawValue)),
        ("network", .text(options.networkName(for: nil))),
        ("backend", .text(backend.name)),
        ("identity", .text(backend.identityName)),
        ("principal", .optional(principal)), ("params", .object([:])),
      ])
  }

  /// Ends the session's journal with its recap (inputs that ran, and those that failed).
  public func finish() {
    guard journalStarted else { return }
    journal(
      .runEnd,
      [
        ("exit", .integer(recap.failed == 0 ? 0 : 1)),
        (
          "recap",
          .object([
            "ok": .init(recap.ok), "changed": .integer(0), "skipped": .integer(0), "failed": .init(recap.failed),
          ])
        ),
        ("failure", .null),
      ])
    journalStarted = false
  }

  /// `:type EXPR`: the type, without running anything.
  public func typeOf(_ expression: String) -> Reply {
    var reply = Reply()
    let checked = check(expression)
    guard !checked.diagnostics.hasErrors, checked.fragment.count == 1,
      case .expression(let e) = checked.fragment[0].kind
    else {
      reply.diagnostics =
        checked.diagnostics.hasErrors
        ? render(checked.diagnostics.filter { $0.severity == .error }, checked)
        : "error: `:type` takes one expression\n"
      return reply
    }
    reply.value = "\(checked.program.types[e.id] ?? .error)"
    return reply
  }

  /// What may follow `EXPR.`, from the expression's type (nothing runs): a canister's properties
  /// (a wallet's `balance` too) and, when it speaks a known interface, its methods; a record's
  /// fields; `count` of a list or a text. Nil when the expression does not check.
  public func members(of expression: String) -> [String]? {
    let checked = check(expression)
    guard !checked.diagnostics.hasErrors, checked.fragment.count == 1,
      case .expression(let e) = checked.fragment[0].kind, let type = checked.program.types[e.id]
    else { return nil }
    return type.members(interfaces: checked.program.interfaces)
  }

  /// The params a runbook requires (no default, not optional) that the session has no value for,
  /// with their types as written: `:load` asks for them.
  public func missingParams(path: String) -> [(name: String, type: String)] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    var files = SourceFiles()
    let file = files.add(path: path, bytes: Array(data))
    return Parser.parse(file, requireHeader: false).statements.compactMap { stmt in
      guard case .param(let name, let type, let value) = stmt.kind, value == nil, options.params[name.name] == nil,
        !{ if case .optional = type.kind { true } else { false } }()
      else { return nil }
      return (name.name, file.text(type.range))
    }
  }

  /// `:load FILE`: its declarations (and params, bound from the session's `--param`s or their
  /// defaults) join the session; steps are not run.
  public func load(path: String) -> Reply {
    guard let data = FileManager.default.contents(atPath: path) else {
      return Reply(failure: "error: cannot read `\(path)`\n")
    }
    var files = SourceFiles()
    let file = files.add(path: path, bytes: Array(data))
    let tree = Parser.parse(file, requireHeader: false)
    if tree.diagnostics.hasErrors {
      return Reply(
        diagnostics: DiagnosticRenderer(files: files, style: .human(colors: colors)).render(
          tree.diagnostics.filter { $0.severity == .error }))
    }
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    // One declaration at a time, so an error is reported at the file's own line.
    var reply = Reply()
    for stmt in tree.statements where Self.isDeclaration(stmt) {
      var text: String
      if case .import(let p, _) = stmt.kind, !p.hasPrefix("/") {
        text = "import \"\(directory)/\(p)\""
      } else if case .importInterface(let p, _, let name) = stmt.kind, !p.hasPrefix("/") {
        text = "import \"\(directory)/\(p)\" as \(name.name)"
      } else {
        text = stmt.doc.map { "## " + $0 + "\n" }.joined() + file.text(stmt.range)
      }
      // The declarations stay in the transcript, so a `:save`d session stands on its own. Blank
      // lines in front put the declaration at its own line, so a diagnostic shows the file's.
      let firstLine = file.line(of: stmt.range.start) - stmt.doc.count
      let one = evaluate(String(repeating: "\n", count: max(0, firstLine - 1)) + text)
      func located(_ rendered: String) -> String {
        rendered.replacing(/--> input:/) { _ in "--> \(path):" }
      }
      reply.diagnostics += located(one.diagnostics)
      if let failure = one.failure { reply.failure = (reply.failure ?? "") + located(failure) }
    }
    let declared = Set(
      tree.statements.compactMap { stmt -> String? in if case .param(let n, _, _) = stmt.kind { n.name } else { nil } })
    for name in options.params.keys.sorted() where !declared.contains(name) {
      reply.diagnostics += "warning: `\(name)` (from --param) is not a param of \(path)\n"
    }
    return reply
  }

  /// A canister's state in one line: status, cycles and when it freezes, module hash, controllers
  /// (or why the controller view could not be read).
  static func glance(_ canister: Principal, interpreter: Interpreter) -> String {
    do {
      let s = try interpreter.pipeline.state(of: canister)
      let freeze =
        s.secondsUntilFrozen.map { "freezes in \(ValueFormat.duration(Interpreter.nanoseconds($0)))" }
        ?? "burns nothing idle"
      let hash = s.moduleHash.map { ValueFormat.hex($0) } ?? "no module"
      let controllers = s.controllers.map(\.text).joined(separator: ", ")
      return
        "  \(s.status.rawValue) · \(ValueFormat.cycles(s.cycles)) cycles (\(freeze); burns \(ValueFormat.cycles(s.idleBurnPerDay))/day) · \(hash) · \(s.controllers.count) controller\(s.controllers.count == 1 ? "" : "s"): \(controllers)"
    } catch {
      return "  (its state cannot be read: \(error.description))"
    }
  }

  /// `:save FILE`: what the session did, as a runbook that checks and is formatted — on the
  /// session's network, as its identity; declarations where they were made; each input that ran
  /// as a step of its own, in order (a bare expression printed); an input that ran in plan mode
  /// as a comment saying so, since nothing happened.
  public func save(path: String, name: String = "repl-session") throws {
    var lines = [
      "runbook \"\(name)\" version 1", "", "use network \(options.networkName(for: nil))",
      "use identity \(ValueFormat.jsonQuote(backend.identityName))", "",
    ]
    for (index, input) in transcript.enumerated() {
      let checked = check(input)
      if checked.fragment.allSatisfy({
        if case .useNetwork = $0.kind { true } else if case .useIdentity = $0.kind { true } else { false }
      }) {
        continue  // the session's own are written above
      }
      if checked.fragment.allSatisfy(Self.isDeclaration) {
        lines.append(input)
      } else if planned.contains(index) {
        // Typed under `:plan on`, however many lines it spans (a whole `step` too): nothing
        // happened, so the runbook must not do it.
        lines += input.split(separator: "\n", omittingEmptySubsequences: false).map { "# (planned, not run) \($0)" }
      } else if checked.fragment.allSatisfy({ if case .step = $0.kind { true } else { false } }) {
        lines.append(input)
      } else {
        var body = input
        if checked.fragment.count == 1, case .expression(let e) = checked.fragment[0].kind,
          checked.program.types[e.id] != .void
        {
          body = "print " + input
        }
        lines.append("step \"REPL input \(index + 1)\" {\n\(body)\n}")
      }
    }
    let text = lines.joined(separator: "\n") + "\n"
    var files = SourceFiles()
    let tree = Parser.parse(files.add(path: path, bytes: Array(text.utf8)))
    try (Formatter.format(tree) ?? text).write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// Names for completion: builtins, actions, and everything declared so far.
  public var names: [String] {
    let checked = check("")
    var out = Set(engine.registry.builtins.keys).union(engine.registry.actions.keys)
    for tree in checked.program.trees {
      for s in tree.statements {
        switch s.kind {
        case .let(let n, _, _), .param(let n, _, _): out.insert(n.name)
        case .function(let f): out.insert(f.name.name)
        default: break
        }
      }
    }
    return out.sorted()
  }
}
