import Foundation
import RbicCheck
import RbicDiagnostics
import Synchronization

/// A failure while running, with the source range it happened at. The kind decides the exit code
/// (DESIGN §3): the runbook failed (1), the environment or a tool failed (3), a safety gate
/// refused (4), or the run was interrupted (130); and whether a `keep going` loop may go on to its
/// next item (`isConfinedToItem`).
public struct RuntimeError: Error, Sendable {
  public enum Kind: Sendable {
    /// `require`, `ensure`, `fail`, overflow: the runbook failed.
    case failed
    /// The run's step, time or memory limit: the runbook failed, and so would anything after it.
    case limit
    /// A tool, file or the network: the environment failed.
    case environment
    /// An effect that may or may not have happened (a timeout or a transport error after it was
    /// sent, a reply that cannot be read): journaled, held for an operator on re-run.
    case outcomeUnknown
    /// A safety gate refused a mutation, or the operator declined.
    case refused
    case interrupted
    /// Bad params or usage, found before anything ran.
    case usage

    public var exitCode: Int32 {
      switch self {
      case .usage: 2
      case .failed, .limit: 1
      case .environment, .outcomeUnknown: 3
      case .refused: 4
      case .interrupted: 130
      }
    }

    /// Whether the failure belongs to the one item a `keep going` loop was working on, so the loop
    /// may go on to the next: a definite failure of the runbook or of a tool. A refusal, a declined
    /// question, an unknown outcome, an interruption or a run-wide limit stops the loop instead.
    public var isConfinedToItem: Bool {
      switch self {
      case .failed, .environment: true
      case .limit, .outcomeUnknown, .refused, .interrupted, .usage: false
      }
    }
  }

  public var kind: Kind
  public var diagnostic: Diagnostic

  public init(_ kind: Kind, _ diagnostic: Diagnostic) {
    self.kind = kind
    self.diagnostic = diagnostic
  }

  /// An error whose location is filled in by the interpreter (for builtins, which have none).
  public static func message(_ kind: Kind, _ text: String) -> RuntimeError {
    RuntimeError(kind, .error(.runtimeError, text, at: SourceRange(file: FileID(-1), start: 0, end: 0)))
  }

  /// A backend failure: the tool or the environment (exit 3), or the IC refused (exit 1).
  public static func backend(_ error: BackendError) -> RuntimeError {
    switch error {
    case .environment, .unknownOutcome, .unsupported, .notSent: .message(.environment, error.description)
    default: .message(.failed, error.description)
    }
  }
}

/// The outcome of one step.
public enum StepOutcome: String, Sendable {
  case ok, changed, skipped, failed
  case wouldChange = "would_change"
}

/// One change a step made (or, in a plan, would make): the line people read, and the same as data
/// (`--format json`, saved plans): which canister, which property from what to what, by which
/// action, moving how many cycles.
public struct Change: Sendable, Equatable, CustomStringConvertible {
  /// `cycles: 38.8B → 1.024T via wallet wdhec-… (send 985.2B)`
  public var text: String
  public var canister: Principal?
  public var property: String?
  public var before: Value?
  public var after: Value?
  /// The action or operation (`wallet`, `install`, `call`, `create`).
  public var action: String?
  /// Cycles it moved out of the operator's funds.
  public var amount: Int128?

  public init(
    _ text: String, canister: Principal? = nil, property: String? = nil, before: Value? = nil, after: Value? = nil,
    action: String? = nil, amount: Int128? = nil
  ) {
    self.text = text
    self.canister = canister
    self.property = property
    self.before = before
    self.after = after
    self.action = action
    self.amount = amount
  }

  public var description: String { text }

  /// Exact and machine-readable: full values, cycles as integers.
  public func json(step: String) -> String {
    "{\"step\":\(ValueFormat.jsonQuote(step)),\"text\":\(ValueFormat.jsonQuote(text)),"
      + "\"canister\":\(canister.map { ValueFormat.jsonQuote($0.text) } ?? "null"),"
      + "\"property\":\(property.map(ValueFormat.jsonQuote) ?? "null"),"
      + "\"before\":\(before.map(ValueFormat.json) ?? "null"),\"after\":\(after.map(ValueFormat.json) ?? "null"),"
      + "\"action\":\(action.map(ValueFormat.jsonQuote) ?? "null"),\"amount\":\(amount.map { "\($0)" } ?? "null")}"
  }
}

/// What happened in one step, for the recap, `--format json` and the journal.
public struct StepRecord: Sendable {
  public var title: String
  public var outcome: StepOutcome = .ok
  /// Changes made (or, in a plan, that would be made): `~ cycles: 38.8B → 1.024T via wallet wdhec (send 985.2B)`.
  public var changes: [Change] = []
  /// Failed `expect`s, actions that reported success without effect, unknown outcomes.
  public var warnings: [String] = []
  public var skipReason: String?
  public var failure: String?
  /// Every `require`, `expect` and `ensure` that ran, in order: the verification checklist.
  public var checks: [Check] = []

  public struct Check: Sendable {
    public var text: String
    public var passed: Bool
    /// The canister it was about (the step's subject), and how many changes its step had made
    /// when it ran: what changed afterwards is said beside it in the checklist.
    public var canister: Principal?
    public var changesBefore: Int = 0
  }
}

public struct RunResult: Sendable {
  public var runbook: String
  public var version: Int64
  public var mode: RunOptions.Mode
  public var steps: [StepRecord]
  public var exitCode: Int32
  /// The error that ended the run, if any.
  public var failure: RuntimeError?
  public var journalPath: String?
  /// What the run observed and intended (a saved plan is made from it).
  public var record = RunRecord()
  /// The principal the identity acted as (nil when it could not be read).
  public var principal: String?

  public var recap: (ok: Int, changed: Int, skipped: Int, failed: Int) {
    var r = (ok: 0, changed: 0, skipped: 0, failed: 0)
    for s in steps {
      switch s.outcome {
      case .ok: r.ok += 1
      case .changed, .wouldChange: r.changed += 1
      case .skipped: r.skipped += 1
      case .failed: r.failed += 1
      }
    }
    return r
  }
}

/// What a run read before touching anything, and every effect it performed (in `plan`, intended).
public struct RunRecord: Sendable {
  public var observed: [CanisterState] = []
  public var effects: [Effect] = []
  /// Canisters created (in `plan`, their predicted ids).
  public var created: [Principal] = []
  /// Local effects shown and not run (`plan`, `--read-only`).
  public var withheldEffects: [Effect] = []
  /// What they do, as shown.
  public var withheld: [String] { withheldEffects.map(\.description) }
  public init(
    observed: [CanisterState] = [], effects: [Effect] = [], created: [Principal] = [], withheld: [Effect] = []
  ) {
    self.observed = observed
    self.effects = effects
    self.created = created
    self.withheldEffects = withheld
  }
}

/// How a program runs: mode, parameters, gates, limits and the host's callbacks.
public struct RunOptions: Sendable {
  public enum Mode: String, Sendable { case run, plan }

  public var mode: Mode = .run
  /// `--param NAME=VALUE`, as text; parsed with the literal rules of the param's type.
  public var params: [String: String] = [:]
  /// The params file (`--params FILE`) some of `params` came from, by path and sha256: journaled
  /// with the run and saved in plans (a run session loads it and merges its values into `params`).
  package var paramsFile: SavedPlan.Source?
  /// Overrides `use network`.
  public var network: String?
  /// `--yes`: confirm every mutation and `confirm`.
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
  /// When set, the files a runbook reads (`sha256`, `install`, `wasm_metadata`) must lie inside
  /// these directories, resolved as the OS opens them (a host serving one directory, like
  /// `rbic mcp`); nil reads any file the runbook names.
  public var fileRoots: [String]?
  /// Re-checks of an ensure condition after its action, for eventual consistency.
  public var recheckAttempts = 3
  public var recheckDelay = 0.0
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
  public var primedStates: [CanisterState] = []
  /// Applying a saved plan: only the effects it holds are admitted.
  public var approval: PlanApproval?
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
