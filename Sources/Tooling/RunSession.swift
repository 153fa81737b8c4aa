import Foundation
import RbicCheck
import RbicDiagnostics
import RbicRuntime

/// One run as every host drives it — `rbic run`/`plan`/`run --plan`, `rbic mcp`, `rbic test` — so
/// that a rule about the order of things holds for all of them:
///
/// 1. the params file is read (`--params`, its values under `--param`'s) and the params are
///    checked (a usage error starts nothing, prints no header, writes no journal); applying a
///    saved plan, its params are the plan's, its params file is hashed again, and the plan is
///    checked against now (`Engine.check`): a stale one is refused with nothing done and no
///    journal written; otherwise the run starts from the check's options (only the plan's effects
///    admitted, the states just read);
/// 2. in `run` mode the journal is opened, and a run whose journal cannot be opened does not start
///    (nothing may act unrecorded);
/// 3. the host's last word (`starting`: its header, its signal handlers), then the run.
///
/// The REPL drives its inputs through the same interpreter and pipeline, one input at a time.
public struct RunSession {
  public enum Outcome {
    /// The params cannot run the program (a usage error): nothing was started or written. `files`
    /// render it: the program's, and the params file when the error is in it.
    case usage(RuntimeError, files: SourceFiles)
    /// The saved plan no longer matches now: nothing was done.
    case stale(id: String, reasons: [String])
    /// The journal could not be opened: nothing was done.
    case noJournal(String)
    /// It ran; `unapplied` are the effects of the applied plan it did not need (the canisters
    /// already matched the runbook).
    case ran(RunResult, options: RunOptions, unapplied: [String])
  }

  package var engine: Engine
  package var program: CheckedProgram
  package var backend: Backend
  /// The runbook as the host names it (saved plans record it).
  package var file: String
  /// The backend's kind as `--backend` names it (`sim`, `icp`, `dfx`, `auto`).
  package var backendName: String
  /// The params file as the host names it (`--params FILE`), relative to the project directory.
  package var paramsFile: String?

  public init(
    engine: Engine, program: CheckedProgram, backend: Backend, file: String, backendName: String,
    paramsFile: String? = nil
  ) {
    self.engine = engine
    self.program = program
    self.backend = backend
    self.file = file
    self.backendName = backendName
    self.paramsFile = paramsFile
  }

  /// Runs with `options`, applying `saved` when given; `journal` opens the run's journal (called in
  /// `run` mode only, after the plan check); `starting` sees the final options just before the run.
  public func run(
    _ options: RunOptions, applying saved: (plan: SavedPlan, id: String)? = nil, journal: () throws -> Journal,
    starting: (RunOptions) -> Void = { _ in }
  ) -> Outcome {
    var run = options
    if let saved {
      // The plan carries its params; its params file only says whether they still hold.
      run.paramsFile = saved.plan.paramsFile.flatMap { ParamsFile.record(of: $0.path, options: run) }
    } else if let paramsFile {
      do throws(ParamsFile.Failure) {
        let file = try ParamsFile.load(paramsFile, options: run, files: program.files)
        if let problem = file.problem(for: program, overridden: Set(run.params.keys)) {
          return .usage(problem.error, files: problem.files)
        }
        run.take(file)
      } catch {
        return .usage(error.error, files: error.files)
      }
    }
    if let problem = program.paramProblem(saved?.plan.params ?? run.params) {
      return .usage(problem, files: program.files)
    }
    var approval: PlanApproval?
    if let saved {
      let (reasons, checked, admitting) = engine.check(
        saved.plan, id: saved.id, program: program, backend: backend, options: run, file: file,
        network: run.networkName(for: program), identity: backend.identityName, backendName: backendName)
      guard reasons.isEmpty else { return .stale(id: saved.id, reasons: reasons) }
      run = checked
      approval = admitting
    }
    if run.mode == .run {
      do { run.journal = try journal() } catch { return .noJournal("\(error)") }
    }
    starting(run)
    let result = engine.run(program, backend: backend, options: run)
    return .ran(result, options: run, unapplied: approval?.unapplied.map(\.description) ?? [])
  }
}

extension RunOptions {
  /// The params file's values, for a session that declares its params as it goes (the REPL):
  /// each waits for its `param` (or `:load`) and is checked against its type there, as a
  /// `--param` value is; `--param` values win. nil, or why the file cannot be read (with the
  /// files the error renders against).
  public mutating func takeParams(fromFile path: String) -> (error: RuntimeError, files: SourceFiles)? {
    do throws(ParamsFile.Failure) {
      take(try ParamsFile.load(path, options: self, files: SourceFiles()))
      return nil
    } catch {
      return (error.error, error.files)
    }
  }

  /// A params file's values under the ones given (`--param` wins), and the file recorded.
  mutating func take(_ file: ParamsFile) {
    params = file.values.merging(params) { _, given in given }
    paramsFile = file.record
  }
}
