import ArgumentParser
import Foundation
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicRuntime
import RbicTooling
import Synchronization

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
      let (backend, sim) = makeBackend(
        options, identity: program.identity, network: program.network, writesState: mode == .run && !options.readOnly)
    else {
      return 3
    }
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
    let unapplied: [String]
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
    case .ran(let r, let final, let notNeeded):
      result = r
      run = final
      unapplied = notNeeded
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
    if result.exitCode == 0, !unapplied.isEmpty {
      out(
        "Note: the plan's \(unapplied.map { "\"\($0)\"" }.joined(separator: ", ")) was not needed: the canisters already matched the runbook"
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
  ) -> (Backend, BackendSetup.SimState?)? {
    var setup = BackendSetup(
      choice: options.backend ?? .sim, simState: options.simState, identity: options.identity,
      network: options.network, timeout: options.timeout,
      projectDirectory: FileManager.default.currentDirectoryPath, environment: Terminal.environment,
      say: { Terminal.writeError($0) })
    Progress.attach(to: &setup)
    switch setup.make(identity: identity, network: network, writesState: writesState) {
    case .success(let made): return (made.backend, made.sim)
    case .failure(let failure):
      if !failure.said { Terminal.writeError("error: \(failure.message)\n") }
      return nil
    }
  }
}
