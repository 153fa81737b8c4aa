import Foundation
import RbicCheck
import RbicDiagnostics
import Synchronization

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
  package func json(step: String) -> String {
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

extension RunResult {
  /// A run that did not start: `error` (a usage error) ended it before anything happened.
  package static func notStarted(_ program: CheckedProgram, mode: RunOptions.Mode, _ error: RuntimeError) -> RunResult {
    RunResult(
      runbook: program.main.header?.name ?? "runbook", version: program.main.header?.version ?? 0, mode: mode,
      steps: [], exitCode: error.kind.exitCode, failure: error, journalPath: nil)
  }
}
