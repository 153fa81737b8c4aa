import ArgumentParser
import Foundation
import LineEditor
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicRuntime
import RbicTooling
import Synchronization

/// `rbic repl`: an interactive session on the same backends as `run` (the sim by default).
/// Without a terminal it reads statements from standard input, with no prompt.
struct ReplCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "repl", abstract: "An interactive session (incident work).")

  @OptionGroup var options: ExecutionOptions

  @Option(help: "The history file (default $RBIC_HISTORY or ~/.rbic_history).")
  var history: String?

  func run() throws {
    guard var runOptions = options.runOptions(mode: .run) else { throw ExitCode(2) }
    if let path = options.paramsFile {
      // A session declares its params as it goes: the file's values wait for their `param` (or
      // `:load`), and are checked against its type there, as `--param` values are.
      if let (error, files) = runOptions.takeParams(fromFile: path) {
        let renderer = DiagnosticRenderer(files: files, style: .human(colors: Terminal.colorsOnStderr))
        Terminal.writeError(renderer.render(error.diagnostic))
        throw ExitCode(2)
      }
    }
    guard
      let (backend, sim) = Execution.makeBackend(
        options, identity: nil, network: nil, writesState: !options.readOnly)
    else { throw ExitCode(3) }
    let interactive = Terminal.isTTY(STDIN_FILENO)
    runOptions.interactive = interactive
    // A statement that takes a while shows that it is running (on a terminal), and the line is
    // cleared before anything else is printed, so no stray characters stay on the screen.
    let spinner = Spinner(enabled: Terminal.isTTY(STDOUT_FILENO))
    runOptions.print = {
      spinner.clear()
      Terminal.writeOut(TerminalText.escaped($0) + "\n")
    }
    runOptions.progress = {
      spinner.clear()
      Terminal.writeOut(TerminalText.escaped($0) + "\n")
    }
    // The answer is read so that Ctrl-C ends the question at once (the running statement's
    // cancellation), not after the next Enter.
    let current = CurrentCancellation()
    runOptions.confirm = { question in
      spinner.clear()
      return Terminal.ask(question, on: STDOUT_FILENO, until: current.token)
    }
    runOptions.journal = try? Journal(directory: options.journal, runbook: "repl")
    let session = ReplSession(engine: Engine(registry: .standard), backend: backend, options: runOptions)
    session.colors = interactive && Terminal.colorsOnStderr
    var repl = Repl(session: session, backend: backend, sim: sim, current: current)
    repl.spinner = spinner
    // The terminal going away (SIGHUP) or SIGTERM ends the session: the running statement is
    // cancelled (its journal lines are already on disk), then the process exits.
    let endings = [SIGHUP, SIGTERM].map { number -> DispatchSourceSignal in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [current = repl.current] in
        current.cancel()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { Foundation.exit(128 + number) }
      }
      source.resume()
      return source
    }
    defer { endings.forEach { $0.cancel() } }
    repl.interactiveInput = interactive
    let status = interactive ? repl.interactive(historyPath: history) : repl.script()
    session.finish()
    if !session.options.readOnly { try? sim?.save() }
    throw ExitCode(status)
  }
}

/// The loop, shared by the terminal and the script mode.
struct Repl {
  let session: ReplSession
  let backend: Backend
  let sim: BackendSetup.SimState?
  /// The running statement's cancellation, replaced for each input; Ctrl-C cancels it.
  let current: CurrentCancellation
  /// A person is typing (questions can be asked).
  var interactiveInput = false
  var spinner = Spinner(enabled: false)
  var failures = 0
  var quit = false

  static let help = """
    Type statements or expressions; declarations (let, fn, param, use, import) accumulate.
      :type EXPR          the type of an expression, without running it
      :plan on|off        predict instead of act (nothing changes while on)
      :read-only on|off   refuse every mutation
      :load FILE          bring a runbook's declarations and params into the session
                          (asks for required params the session has no value for)
      :param NAME=VALUE   a param's value, as --param gives it
      :save FILE          write the session's successful statements as a runbook
      :journal            where this session's journal is
      :watch EXPR every D evaluate EXPR every D (read-only) until Ctrl-C
      :help  :quit        (Ctrl-D quits too; Ctrl-C cancels the running statement)
    """

  mutating func handle(_ input: String) {
    let trimmed = input.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.isEmpty else { return }
    if trimmed.hasPrefix(":") {
      meta(trimmed)
      return
    }
    session.options.cancellation = current.reset()
    spinner.start()
    let reply = session.evaluate(input)
    spinner.stop()
    show(reply)
  }

  mutating func show(_ reply: ReplSession.Reply) {
    if let value = reply.value { Terminal.writeOut(value + "\n") }
    if !reply.diagnostics.isEmpty { Terminal.writeError(reply.diagnostics) }
    if let failure = reply.failure { Terminal.writeError(failure) }
    if !reply.succeeded { failures += 1 }
  }

  mutating func meta(_ command: String) {
    let parts = command.split(separator: " ", maxSplits: 1).map(String.init)
    let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
    func toggle(_ name: String, _ set: (Bool) -> Void) {
      guard argument == "on" || argument == "off" else {
        Terminal.writeError("error: `\(parts[0])` takes on or off\n")
        failures += 1
        return
      }
      set(argument == "on")
      Terminal.writeOut("\(name) \(argument)\n")
    }
    switch parts[0] {
    case ":help": Terminal.writeOut(Repl.help + "\n")
    case ":quit", ":q", ":exit": quit = true
    case ":type": show(session.typeOf(argument))
    case ":plan": toggle("plan") { session.options.mode = $0 ? .plan : .run }
    case ":read-only": toggle("read-only") { session.options.readOnly = $0 }
    case ":load":
      // A required param the session has no value for is asked for (Ctrl-C abandons the load).
      for (name, type) in session.missingParams(path: argument) where interactiveInput {
        Terminal.writeOut("param \(name) (\(type)): ")
        guard let value = Terminal.readAnswer(until: current.reset()), !value.isEmpty else {
          Terminal.writeOut("\nnot loaded: `\(name)` has no value (`:param \(name)=VALUE` gives it one)\n")
          failures += 1
          return
        }
        session.options.params[name] = value
      }
      show(session.load(path: argument))
    case ":param":
      guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
        Terminal.writeError("error: `:param` takes NAME=VALUE\n")
        failures += 1
        return
      }
      let name = String(argument[..<equals]).trimmingCharacters(in: .whitespaces)
      session.options.params[name] = String(argument[argument.index(after: equals)...])
      Terminal.writeOut("param \(name) = \(session.options.params[name] ?? "")\n")
    case ":save":
      do {
        try session.save(path: argument)
        Terminal.writeOut("saved \(session.transcript.count) statement(s) to \(argument)\n")
      } catch {
        Terminal.writeError("error: cannot write `\(argument)`: \(error)\n")
        failures += 1
      }
    case ":journal": Terminal.writeOut((session.options.journal?.path ?? "no journal") + "\n")
    case ":watch": watch(argument)
    default:
      Terminal.writeError("error: unknown command `\(parts[0])`; `:help` lists them\n")
      failures += 1
    }
  }

  /// `:watch EXPR every D`: evaluates EXPR (read-only, fresh state each time) every D, one
  /// timestamped line each, until Ctrl-C — cycles draining, a status flapping.
  mutating func watch(_ argument: String) {
    guard let range = argument.range(of: " every ", options: .backwards),
      case .duration(let ns)? = Value(parsing: String(argument[range.upperBound...]), as: .duration), ns > 0
    else {
      Terminal.writeError("error: `:watch` takes EXPR every DURATION, e.g. `:watch c.cycles every 30s`\n")
      failures += 1
      return
    }
    let expression = String(argument[..<range.lowerBound])
    let wasReadOnly = session.options.readOnly
    session.options.readOnly = true
    defer { session.options.readOnly = wasReadOnly }
    let cancellation = current.reset()
    session.options.cancellation = cancellation
    let clock = DateFormatter()
    clock.dateFormat = "HH:mm:ss"
    var previous: Value?
    while !cancellation.isCancelled {
      let reply = session.evaluate(expression, recorded: false)  // a tick is not an input
      if let value = reply.value {
        let change = previous.flatMap { before in reply.raw.map { Self.change(from: before, to: $0) } } ?? ""
        Terminal.writeOut("\(clock.string(from: Date()))  \(value)\(change)\n")
        previous = reply.raw
      } else {
        show(reply)
        return
      }
      _ = cancellation.sleep(Double(ns) / 1e9)
    }
    Terminal.writeOut("watch ended\n")
  }

  /// What changed since the last tick: a number's difference (`  (−1.2B)`), `  (changed)`, or
  /// `  (unchanged)`.
  static func change(from before: Value, to after: Value) -> String {
    if before == after { return "  (unchanged)" }
    switch (before, after) {
    case (.cycles(let a), .cycles(let b)):
      let (d, overflow) = b.subtractingReportingOverflow(a)
      return overflow ? "  (changed)" : "  (\(d > 0 ? "+" : "")\(ValueFormat.cycles(d)))"
    case (.int(let a), .int(let b)):
      let (d, overflow) = b.subtractingReportingOverflow(a)
      return overflow ? "  (changed)" : "  (\(d > 0 ? "+" : "")\(d))"
    case (.duration(let a), .duration(let b)) where a != Int64.max && b != Int64.max:
      let (d, overflow) = b.subtractingReportingOverflow(a)
      return overflow ? "  (changed)" : "  (\(d > 0 ? "+" : "")\(ValueFormat.duration(d)))"
    default: return "  (changed)"
    }
  }

  /// Standard input without a terminal: no prompt, statements as they complete.
  mutating func script() -> Int32 {
    var buffer = ""
    var depth = 0
    while !quit, let line = readLine(strippingNewline: false) {
      buffer += line
      depth += RunbookSource.bracketDelta(line)
      if depth <= 0 {
        handle(buffer)
        buffer = ""
        depth = 0
      }
    }
    if !buffer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { handle(buffer) }
    return failures == 0 ? 0 : 1
  }

  mutating func interactive(historyPath: String?) -> Int32 {
    let home = Terminal.environment["HOME"] ?? "."
    let path = historyPath ?? Terminal.environment["RBIC_HISTORY"] ?? home + "/.rbic_history"
    let session = self.session
    let editor = LineEditor(historyPath: path) { prefix, line in Repl.completions(prefix, line, session) }
    editor.interruptFlag.onRaise = { [current] in current.cancel() }
    Terminal.writeOut(
      "rbic REPL on `\(session.options.networkName(for: nil))` as `\(backend.identityName)` (\(backend.name)). :help for commands.\n"
    )
    var buffer = ""
    var depth = 0
    while !quit {
      switch editor.read(prompt: buffer.isEmpty ? "rbic> " : "  ... ") {
      case .endOfFile:
        Terminal.writeOut("\n")
        quit = true
      case .interrupt:
        buffer = ""
        depth = 0
      case .line(let line):
        buffer += (buffer.isEmpty ? "" : "\n") + line
        depth += RunbookSource.bracketDelta(line)
        guard depth <= 0 else { continue }
        editor.remember(buffer)
        handle(buffer)
        _ = editor.takeInterrupt()
        buffer = ""
        depth = 0
      }
    }
    return 0
  }

  static let keywords = RunbookSource.keywords
  static let meta = [
    ":help", ":type", ":plan", ":read-only", ":load", ":param", ":save", ":journal", ":watch", ":quit",
  ]

  /// Keywords, builtins, names in scope; properties after `NAME.`; canister names from
  /// canister_ids.json inside `canister_ids("`; meta-commands at the start of a line.
  static func completions(_ prefix: String, _ line: String, _ session: ReplSession) -> [String] {
    let before = line.hasSuffix(prefix) ? String(line.dropLast(prefix.count)) : line
    var pool: [String]
    if before.hasSuffix(".") {
      // Only what the receiver's type has (a canister has no `count`, only a wallet `balance`).
      let receiver = String(
        before.dropLast().reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
          .reversed())
      pool = session.members(of: receiver) ?? []
    } else if before.hasSuffix("canister_ids(\"") {
      pool = ProjectFiles(directory: session.options.projectDirectory).canisterIDs.keys.sorted()
    } else if before.trimmingCharacters(in: .whitespaces).isEmpty, prefix.hasPrefix(":") || line.hasPrefix(":") {
      pool = meta.map { String($0.dropFirst()) }
    } else {
      pool = keywords + session.names + ["running", "stopped", "stopping"]
    }
    return Array(Set(pool.filter { $0.hasPrefix(prefix) })).sorted()
  }
}

/// The cancellation of the statement running now, safe to cancel from a signal source.
final class CurrentCancellation: Sendable {
  private let value = Mutex(Cancellation())

  func reset() -> Cancellation {
    value.withLock {
      $0 = Cancellation()
      return $0
    }
  }

  func cancel() { value.withLock { $0.cancel() } }

  /// The running statement's cancellation.
  var token: Cancellation { value.withLock { $0 } }
}

/// "running …" on the line below the input while a statement takes more than a second (a slow
/// call on mainnet), cleared before any other output and when the statement ends.
final class Spinner: Sendable {
  private let enabled: Bool
  /// The running statement's start (nil: none), and whether the line is showing.
  private let state = Mutex<(started: Date?, visible: Bool, generation: Int)>((nil, false, 0))

  init(enabled: Bool) { self.enabled = enabled }

  func start() {
    guard enabled else { return }
    let generation = state.withLock { s -> Int in
      s.started = Date()
      s.generation += 1
      return s.generation
    }
    tick(generation)
  }

  private func tick(_ generation: Int) {
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.25) { [self] in
      let text: String? = state.withLock { s in
        guard s.generation == generation, let started = s.started else { return nil }
        let seconds = Date().timeIntervalSince(started)
        guard seconds >= 1 else { return "" }
        s.visible = true
        let frame = Progress.frames[Int(seconds * 4) % Progress.frames.count]
        return "\r\u{1B}[K\(frame) running… \(Int(seconds)) s (Ctrl-C stops it)"
      }
      guard let text else { return }
      if !text.isEmpty { Terminal.drawProgress(text, on: STDOUT_FILENO) }
      tick(generation)
    }
  }

  /// Clears the line if it shows (before other output).
  func clear() {
    guard enabled else { return }
    let visible = state.withLock { s -> Bool in
      defer { s.visible = false }
      return s.visible
    }
    if visible { Terminal.drawProgress("\r\u{1B}[K", on: STDOUT_FILENO) }
  }

  func stop() {
    guard enabled else { return }
    state.withLock { s in
      s.started = nil
      s.generation += 1
    }
    clear()
  }
}
