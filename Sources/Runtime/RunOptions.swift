import Foundation
import RbicCheck
import RbicDiagnostics
import Synchronization

/// How a program runs: mode, parameters, gates, limits and the host's callbacks.
public struct RunOptions: Sendable {
  public enum Mode: String, Sendable { case run, plan }

  public var mode: Mode = .run
  /// `--param NAME=VALUE`, as text; parsed with the literal rules of the param's type.
  public var params: [String: String] = [:]
  /// The params file (`--params FILE`) some of `params` came from, by path and sha256: journaled
  /// with the run and saved in plans (a run session loads it and merges its values into `params`).
  package var paramsFile: InputFile?
  /// Overrides `use network`.
  public var network: String?
  /// `--yes`: answer yes to `confirm` and to every mutation's question, except those an effect
  /// asks always (`Effect.Confirmation.always`).
  public var yes = false
  /// `--read-only`: refuse every mutation.
  public var readOnly = false
  /// The most cycles one run may move (wallet sends, top-ups and cycle-moving calls together),
  /// reserved before each effect acts.
  public var cyclesCeiling: Int128 = 10_000_000_000_000
  /// Run local effects (`run`, `http_get`) in `plan` and `--read-only` too; they are withheld there
  /// otherwise.
  public var allowLocalEffects = false
  /// Seconds a canister's state, once read, is reused (until a mutation of it or a confirmation).
  public var stateMaxAge = 60.0
  /// Seconds after which an earlier run's unknown outcome is taken as settled; before that, no
  /// effect on its canister runs without an operator's confirmation at a terminal.
  public var settleWindow = 600.0
  /// Statements and loop iterations before the run is stopped.
  public var maxSteps = 50_000_000
  public var maxCallDepth = 200
  /// Seconds a local command (`run(...)`) may take before it is stopped (its process group ended).
  public var commandTimeout = 600.0
  /// Threads one run may use, `parallel for` at every level together (the main one included).
  public var maxThreads = 64
  /// Wall-clock seconds before the run is stopped (checked at every statement); nil for none.
  /// Six hours by default: long enough for a runbook that waits on people, never forever.
  public var timeLimit: Double? = 6 * 3600
  /// The largest value a run may build: list elements, and bytes of text.
  public var maxValueElements = 10_000_000
  public var maxTextBytes = 64 << 20
  /// The process's resident memory past which the run is stopped (checked every few thousand
  /// steps and after every large builtin result); 4 GiB by default, nil for none.
  public var maxMemoryBytes: Int? = 4 << 30
  /// Whether a person can answer questions (a terminal).
  public var interactive = false
  public var projectDirectory: String
  public var environment: [String: String]
  /// When set, the files a runbook reads (`sha256`, `file`, `install`, `wasm_metadata`) must lie inside
  /// these directories, resolved as the OS opens them (a host serving one directory, like
  /// `rbic mcp`); nil reads any file the runbook names.
  public var fileRoots: [String]?
  /// Re-checks of an ensure condition after its action, for eventual consistency.
  package var recheckAttempts = 3
  package var recheckDelay = 0.0
  public var print: @Sendable (String) -> Void = { Swift.print($0) }
  /// Asks a yes/no question; only called when `interactive`.
  public var confirm: @Sendable (String) -> Bool = { _ in false }
  /// Progress for people: step starts, actions, results.
  public var progress: @Sendable (String) -> Void = { _ in }
  /// A step starts (its title, with its `parallel for` item): for hosts that report progress as
  /// data (an MCP client's progress notifications), rather than parsing `progress` lines.
  public var stepStarted: @Sendable (String) -> Void = { _ in }
  /// Where the JSON-lines journal goes; nil for none.
  public var journal: Journal?
  /// Where the run came from, journaled with its start (`{"via": "mcp", "client": "…"}`).
  public var origin: [String: String] = [:]
  /// Canister states read moments ago (applying a saved plan checks them first): the run starts
  /// with them in its state cache instead of reading them again, and journals them as reads.
  package var primedStates: [CanisterState] = []
  /// Applying a saved plan: only the effects it holds are admitted.
  package var approval: (any EffectAdmission)?
  /// Set from a signal handler (Ctrl-C, SIGTERM): the run stops at the next statement, exit 130.
  public var cancellation = Cancellation()

  public init(projectDirectory: String, environment: [String: String]) {
    self.projectDirectory = projectDirectory
    self.environment = environment
  }

  /// The network a run of `program` acts on, by name: `network` (`--network`), else the
  /// runbook's `use network`, else `local`. The one rule every caller uses.
  public func networkName(for program: CheckedProgram?) -> String { network ?? program?.network ?? "local" }

  /// That network, resolved from the project files (`ProjectFiles.network(named:)`): where it
  /// points, and whether that is mainnet.
  public func resolvedNetwork(for program: CheckedProgram?) -> ProjectFiles.Network {
    ProjectFiles(directory: projectDirectory).network(named: networkName(for: program))
  }
}

/// A flag a host sets from any thread (a signal handler's queue) to stop a run.
public final class Cancellation: Sendable {
  private let flag = Atomic<Bool>(false)
  public init() {}
  public var isCancelled: Bool { flag.load(ordering: .acquiring) }
  public func cancel() { flag.store(true, ordering: .releasing) }

  /// Sleeps `seconds` in short slices; false as soon as the flag is set (the wait is cut short).
  public func sleep(_ seconds: Double, slice: Double = 0.05) -> Bool {
    var left = seconds
    while left > 0 {
      if isCancelled { return false }
      Thread.sleep(forTimeInterval: min(slice, left))
      left -= slice
    }
    return !isCancelled
  }
}
