import ArgumentParser
import Foundation
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicRuntime
import RbicTooling
import Synchronization

/// Options shared by `run` and `plan` (and, later, `repl`).
struct ExecutionOptions: ParsableArguments {
  @Option(
    name: .customLong("param"),
    help: "A runbook param, as NAME=VALUE (repeatable); it overrides the params file's value for NAME.")
  var params: [String] = []

  @Option(
    name: .customLong("params"),
    help: ArgumentHelp(
      "A YAML or JSON file of params, NAME: VALUE, each value as --param takes it; --param overrides it.",
      valueName: "file"))
  var paramsFile: String?

  @Option(help: "The network, overriding `use network`.")
  var network: String?

  @Option(help: "The identity to act as, overriding `use identity`.")
  var identity: String?

  @Option(
    help:
      "Backend: sim (the built-in simulated IC, the default), icp or dfx (on PATH), or auto (icp if installed, else dfx)."
  )
  var backend: BackendChoice?

  @Option(help: "Seconds before an external tool call is stopped (its outcome is then unknown).")
  var timeout: Double = 120

  @Option(help: "The simulated IC's state file; created from the demo world if missing, written back after `run`.")
  var simState: String?

  @Flag(help: "Confirm every mutation and `confirm` without asking.")
  var yes = false

  @Flag(help: "Refuse every mutation.")
  var readOnly = false

  @Option(help: "Where run journals go.")
  var journal: String = ".rbic/runs"

  @Option(help: "Wall-clock time before the run is stopped (e.g. 30min).")
  var timeLimit: String = "6h"

  @Option(help: "Statements, loop iterations and builtin work (a step per element) before the run is stopped.")
  var maxSteps: Int = 50_000_000

  @Option(help: "Threads one run may use, every `parallel for` level together.")
  var maxThreads: Int = 64

  @Option(help: "The most elements one list may hold.")
  var maxListElements: Int = 10_000_000

  @Option(help: "The largest text a run may build (e.g. 64MiB).")
  var maxText: String = "64MiB"

  @Option(help: "The process's resident memory past which the run is stopped (e.g. 4GiB).")
  var maxMemory: String = "4GiB"

  @Option(help: "The most cycles one run may move (e.g. 10T), reserved before each send.")
  var cyclesCeiling: String = "10T"

  @Flag(
    help:
      "Run local effects (`run`, `http_get`) in plan and --read-only too; they are shown, not run, there otherwise.")
  var allowLocalEffects = false

  @Option(
    help:
      "How long an earlier run's unknown outcome may still land (e.g. 10min); until then nothing acts on its canister without an operator's answer."
  )
  var settle: String = "10min"

  @Option(help: "Output: text for people, json for tools (one object at the end).")
  var format: OutputFormat = .text
}

extension ExecutionOptions {
  /// The run options these flags give — params, network, gates, limits — or nil after reporting
  /// the first malformed one. `run`, `plan` and `repl` all take them from here, before anything
  /// (a state file, a lock, a journal) is touched.
  func runOptions(mode: RunOptions.Mode) -> RunOptions? {
    guard let params = parsedParams() else { return nil }
    /// A flag's value read with the language's literal rules for `type`.
    func read(_ text: String, _ flag: String, _ type: RType, _ what: String, like example: String, zero: Bool = false)
      -> Value?
    {
      guard let value = Value(parsing: text, as: type), zero || !value.isZero else {
        Terminal.writeError("error: `\(flag) \(text)` is not \(what) such as \(example)\n")
        return nil
      }
      return value
    }
    guard
      case .cycles(let ceiling)? = read(
        cyclesCeiling, "--cycles-ceiling", .cycles, "an amount of cycles", like: "10T", zero: true),
      case .duration(let settle)? = read(self.settle, "--settle", .duration, "a duration", like: "10min", zero: true),
      case .duration(let limit)? = read(timeLimit, "--time-limit", .duration, "a duration", like: "30min"),
      case .bytes(let text)? = read(maxText, "--max-text", .bytes, "a size", like: "64MiB"),
      case .bytes(let memory)? = read(maxMemory, "--max-memory", .bytes, "a size", like: "4GiB")
    else { return nil }
    guard maxSteps > 0, maxThreads > 0, maxListElements > 0 else {
      Terminal.writeError("error: --max-steps, --max-threads and --max-list-elements must be positive\n")
      return nil
    }
    var run = RunOptions(
      projectDirectory: FileManager.default.currentDirectoryPath, environment: ProcessInfo.processInfo.environment)
    run.mode = mode
    run.params = params
    run.network = network
    run.yes = yes
    run.readOnly = readOnly
    run.cyclesCeiling = ceiling
    run.allowLocalEffects = allowLocalEffects
    run.settleWindow = Double(settle) / 1e9
    run.timeLimit = Double(limit) / 1e9
    run.maxSteps = maxSteps
    run.maxThreads = maxThreads
    run.maxValueElements = maxListElements
    run.maxTextBytes = Int(text)
    run.maxMemoryBytes = Int(memory)
    return run
  }

  /// `--param NAME=VALUE` pairs, or nil after reporting a malformed one.
  func parsedParams() -> [String: String]? {
    var params: [String: String] = [:]
    for p in self.params {
      guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
        Terminal.writeError("error: `--param \(p)` should be NAME=VALUE\n")
        return nil
      }
      params[String(p[..<eq])] = String(p[p.index(after: eq)...])
    }
    return params
  }
}

extension BackendChoice: ExpressibleByArgument {}

/// `rbic run FILE`: apply.
struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Run a runbook (check first, then apply).",
    discussion:
      "With --plan PLAN (made by `rbic plan FILE --out PLAN`), apply exactly that plan: it is refused (exit 4, nothing changed) when the runbook, its params or the state of a canister it observed differ now, and the run stops at any effect the plan does not hold."
  )

  @ArgumentParser.Argument(help: "The runbook (*.rb.ic); with --plan, the plan's own runbook when left out.")
  var file: String?

  @Option(help: "A saved plan to apply exactly (see `rbic plan --out`).")
  var plan: String?

  @OptionGroup var options: ExecutionOptions

  func validate() throws {
    if file == nil, plan == nil { throw ValidationError("give the runbook to run, or --plan PLAN") }
    if plan != nil, !options.params.isEmpty || options.paramsFile != nil {
      throw ValidationError(
        "a saved plan carries its params (and checks its params file is unchanged); leave out --param and --params (make a new plan to change them)"
      )
    }
  }

  func run() throws {
    if let plan {
      throw ExitCode(Execution.apply(plan: plan, file: file, options: options))
    }
    throw ExitCode(Execution.perform(file: file ?? "", options: options, mode: .run))
  }
}

/// `rbic plan FILE`: what `run` would do; changes nothing.
struct PlanCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plan", abstract: "Show what `run` would change, changing nothing.",
    discussion:
      "Exit codes with --exit-code: 0 nothing to change, \(Execution.changesPending) changes pending; 1, 2, 3, 4 and 130 as for run."
  )

  @ArgumentParser.Argument(help: "The runbook (*.rb.ic).")
  var file: String

  @Option(help: "Save the plan to this file, for review and `rbic run --plan`.")
  var out: String?

  @Flag(help: "Exit \(Execution.changesPending) when the plan has changes (0 when it has none).")
  var exitCode = false

  @OptionGroup var options: ExecutionOptions

  func run() throws {
    throw ExitCode(Execution.perform(file: file, options: options, mode: .plan, out: out, detailedExit: exitCode))
  }
}

enum Execution {
  /// `rbic plan --exit-code` when the plan has changes: not 1–4 or 130, which mean other things.
  static let changesPending: Int32 = 5

  static func perform(
    file: String, options: ExecutionOptions, mode: RunOptions.Mode, out planPath: String? = nil,
    detailedExit: Bool = false, applying saved: (plan: SavedPlan, id: String)? = nil
  ) -> Int32 {
    let engine = Engine(registry: .standard)
    let program: CheckedProgram
    do {
      program = try engine.compile(path: file)
    } catch {
      Terminal.writeError("error: \(error)\n")
      return 2
    }
    let colors = Terminal.colorsOnStderr
    let renderer = DiagnosticRenderer(files: program.files, style: .human(colors: colors))
    if program.hasErrors {
      Terminal.writeError(program.diagnostics.map { renderer.render($0) + "\n" }.joined())
      return 2
    }
    guard var run = options.runOptions(mode: mode) else { return 2 }

    guard networkIsKnown(options.network) else { return 2 }
    guard
      let made = makeBackend(
        options, identity: program.identity, network: program.network, writesState: mode == .run && !options.readOnly)
    else {
      return 3
    }
    let (backend, sim) = (made.backend, made.sim)
    let identity = backend.identityName
    let backendName = (options.backend ?? .sim).rawValue

    let json = options.format == .json
    let out: @Sendable (String) -> Void
    // Run output quotes replies, tool output and command output: control characters are escaped.
    if json {
      out = { line in Terminal.writeError(TerminalText.escaped(line) + "\n") }
    } else {
      out = { line in Terminal.writeOut(TerminalText.escaped(line) + "\n") }
    }
    run.interactive = Terminal.isTTY(STDIN_FILENO) && Terminal.isTTY(STDERR_FILENO)
    run.print = out
    run.progress = out
    let runCancellation = run.cancellation
    run.confirm = { question in Terminal.ask(question, on: STDERR_FILENO, until: runCancellation) }
    // Ctrl-C and SIGTERM stop the run at the next statement; the journal records it (exit 130).
    let cancellation = run.cancellation
    let signals = [SIGINT, SIGTERM]
    let handlers = signals.map { signal($0, SIG_IGN) }
    let signalSources = signals.map { sig -> DispatchSourceSignal in
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      source.setEventHandler { cancellation.cancel() }
      source.resume()
      return source
    }
    // The handlers go back as they were: a command run in process leaves its host's signals alone.
    defer {
      signalSources.forEach { $0.cancel() }
      for (sig, handler) in zip(signals, handlers) { signal(sig, handler) }
    }
    let header = RunSummary.header(
      program: program, file: file, options: run,
      identity: identity, identityGiven: options.identity != nil || program.identity != nil,
      backend:
        "\(backend.release ?? backend.name)\(sim == nil ? "" : options.simState.map { ", state \($0)" } ?? ", demo world")",
      toolDefaults: sim == nil)
    let session = RunSession(
      engine: engine, program: program, backend: backend, file: file, backendName: backendName,
      paramsFile: options.paramsFile)
    let outcome = session.run(
      run, applying: saved,
      journal: { try Journal(directory: options.journal, runbook: program.runbook) },
      starting: { _ in out(header) })
    let result: RunResult
    switch outcome {
    case .usage(let error, let files):
      // Before anything started: no header, no journal, nothing to report but the error.
      Terminal.writeError(DiagnosticRenderer(files: files, style: .human(colors: colors)).render(error.diagnostic))
      if options.format == .json {
        Terminal.writeOut(RunSummary.json(notStarted: program, mode: mode, error, plan: saved?.id) + "\n")
      }
      return 2
    case .stale(let id, let reasons):
      Terminal.writeError(
        "error: the plan \(id) is stale; nothing was changed. Since it was made (\(saved?.plan.created ?? "?")):\n"
          + reasons.map { "  - \(TerminalText.escaped($0))\n" }.joined()
          + "  make a new plan (`rbic plan \(file) --out PLAN`), review it, and apply that\n")
      return 4
    case .noJournal(let why):
      Terminal.writeError("error: cannot create a journal in `\(options.journal)`: \(why)\n")
      return 3
    case .ran(let r, let final):
      result = r
      run = final
    }

    if let failure = result.failure {
      let d = failure.diagnostic
      if d.range.file.raw >= 0, d.range.file.raw < program.files.files.count {
        Terminal.writeError(renderer.render(d))
      } else {
        Terminal.writeError("error: \(TerminalText.escaped(d.message))\n")
      }
    }
    var exitCode = result.exitCode
    if mode == .run, !options.readOnly, result.exitCode != 2, let sim {
      do { try sim.save() } catch {
        Terminal.writeError("error: \(error)\n")
        exitCode = 3
      }
    }
    for line in RunSummary.lines(result, mode: mode) { out(line) }
    var savedID: String?
    if let planPath {
      if result.exitCode == 0 {
        let plan = SavedPlan(
          program: program, result: result, file: file, options: run, identity: identity, backend: backendName)
        let data = plan.encoded()
        do {
          try FileWriting.replace(planPath, with: data)
          savedID = SavedPlan.id(of: data)
          out(
            "Saved plan \(savedID ?? "") to \(planPath): \(plan.changeCount) change\(plan.changeCount == 1 ? "" : "s"); apply exactly it with `rbic run --plan \(planPath)`"
          )
        } catch {
          Terminal.writeError("error: cannot write the plan `\(planPath)`: \(error)\n")
          exitCode = 3
        }
      } else {
        Terminal.writeError("error: no plan saved: the plan did not complete (exit \(result.exitCode))\n")
      }
    }
    if result.exitCode == 0, !run.unappliedPlanEffects.isEmpty {
      out(
        "Note: the plan's \(run.unappliedPlanEffects.map { "\"\($0)\"" }.joined(separator: ", ")) was not needed: the canisters already matched the runbook"
      )
    }
    if json { Terminal.writeOut(RunSummary.json(result, plan: savedID ?? saved?.id) + "\n") }
    // Pending: a change, an effect on the IC, or a local effect the plan showed and did not run.
    if detailedExit, exitCode == 0,
      !result.steps.allSatisfy({ $0.changes.isEmpty }) || !result.record.effects.isEmpty
        || !result.record.withheldEffects.isEmpty
    {
      return changesPending
    }
    return exitCode
  }

  /// `rbic run --plan PLAN [FILE]`: the plan's runbook, params, network, identity and backend
  /// (an option that names others makes the plan stale), checked against the state now.
  static func apply(plan path: String, file: String?, options: ExecutionOptions) -> Int32 {
    let plan: SavedPlan
    let id: String
    do throws(SavedPlan.Failure) {
      (plan, id) = try SavedPlan.load(path: path)
    } catch {
      Terminal.writeError("error: \(error)\n")
      return 2
    }
    if let file, file != plan.file {
      Terminal.writeError("error: the plan `\(path)` is for `\(plan.file)`, not `\(file)`\n")
      return 2
    }
    var options = options
    options.network = options.network ?? plan.network
    options.identity = options.identity ?? plan.identity
    if options.backend == nil {
      guard let backend = BackendChoice(rawValue: plan.backend) else {
        Terminal.writeError("error: the plan `\(path)` names an unknown backend `\(plan.backend)`\n")
        return 2
      }
      options.backend = backend
    }
    return perform(file: plan.file, options: options, mode: .run, applying: (plan, id))
  }

  /// `--network` overrides `use network`, so it is validated against the same project files;
  /// false after saying why (a usage error). `run`, `plan` and `mcp` check it before anything.
  static func networkIsKnown(_ network: String?) -> Bool {
    guard let network,
      let problem = ProjectNames.unknownNetwork(network, directory: FileManager.default.currentDirectoryPath)
    else { return true }
    Terminal.writeError("error: \(problem)\n")
    return false
  }

  /// The backend the options name (`BackendSetup`), or nil after saying why it cannot be used
  /// (exit 3).
  static func makeBackend(
    _ options: ExecutionOptions, identity: String?, network: String?, writesState: Bool = false
  ) -> BackendSetup.Made? {
    var setup = BackendSetup(
      choice: options.backend ?? .sim, simState: options.simState, identity: options.identity,
      network: options.network, timeout: options.timeout,
      projectDirectory: FileManager.default.currentDirectoryPath, say: { Terminal.writeError($0) })
    Progress.attach(to: &setup)
    switch setup.make(identity: identity, network: network, writesState: writesState) {
    case .success(let made): return made
    case .failure(let failure):
      if !failure.said { Terminal.writeError("error: \(failure.message)\n") }
      return nil
    }
  }
}

/// Progress during external calls: on a terminal a spinner with the command and the elapsed time
/// (erased when the call ends); otherwise one plain line per call.
enum Progress {
  static let frames = Array("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

  static func attach(to setup: inout BackendSetup) {
    if Terminal.isTTY(STDERR_FILENO) {
      let counter = TickCounter()
      setup.waiting = { command, seconds in
        let frame = frames[counter.next() % frames.count]
        Terminal.drawProgress(
          "\r\u{1B}[K\(frame) \(command) … \(String(format: "%.1f", seconds))s", on: STDERR_FILENO)
      }
      setup.finished = { _, _, _ in Terminal.drawProgress("\r\u{1B}[K", on: STDERR_FILENO) }
    } else {
      setup.finished = { argv, status, seconds in
        let command = ([URL(fileURLWithPath: argv[0]).lastPathComponent] + argv.dropFirst().prefix(3)).joined(
          separator: " ")
        Terminal.writeError("    $ \(command) … (exit \(status), \(String(format: "%.2f", seconds))s)\n")
      }
    }
  }
}

final class TickCounter: Sendable {
  private let count = Atomic<Int>(0)
  func next() -> Int { count.add(1, ordering: .relaxed).newValue }
}
