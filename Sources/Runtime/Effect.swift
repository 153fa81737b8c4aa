import RbicCheck
import Synchronization

/// An effect: anything that reaches outside the interpreter.
/// Builtins and actions — standard or a host's — describe the effect and hand its body to
/// `BuiltinContext.perform`; the pipeline applies the gates, reserves cycles, takes the locks,
/// journals, and in `plan` predicts or withholds it. Nothing else reaches a backend's mutations
/// or runs a local command.
public struct Effect: Sendable {
  public enum Target: Sendable, Equatable {
    /// Changes these canisters (and wallets) on the network; each is locked while it runs. In
    /// `plan` the body runs against the predictor; under `--read-only` it is refused.
    case canisters([Principal])
    /// Acts on this machine or the outside world (a command, an HTTP request, a file). In `plan`
    /// and `--read-only` it does not run unless the operator allowed it on the command line.
    case local
  }

  /// The operation's name in the journal (`wallet_send`, `install`, `run`).
  public var operation: String
  public var target: Target
  /// What happens, for the confirmation question and the journal
  /// (`send 961.2B from wallet wdhec-… to 6iu47-…`).
  public var description: String
  /// Cycles this effect moves out of the operator's funds: reserved against the run's ceiling
  /// before it acts, released only if it provably did not happen.
  public var cycles: Int128
  /// Where the operator is asked before it acts.
  public enum Confirmation: Sendable, Equatable {
    /// On mainnet; `--yes` answers (most mutations).
    case onMainnet
    /// On every network; `--yes` answers (an upgrade whose interfaces cannot be compared).
    case everywhere
    /// On every network, even with `--yes` (a reinstall wipes state; a delete loses the module).
    case always
  }

  public var confirmation: Confirmation
  /// Whether `plan` may run the body against the predictor. An update call's reply cannot be
  /// predicted: in `plan` it is shown, not sent.
  public var predictable: Bool
  /// Exactly what it does, but the cycles it moves (compared on their own): a saved plan admits
  /// an effect only when this is what was planned — the module's sha256 for an install, the
  /// arguments of a call, the settings. The description, unless an effect says more or less.
  public var detail: String
  /// It may put another module on its canisters (an install, a snapshot restore): what they
  /// publish — their Candid interface — is read again afterwards.
  public var replacesModule: Bool
  /// A re-read of its canisters shows whether it happened (a send raises the target's cycles).
  /// Creating a canister or converting ICP is not observable that way: an unknown outcome of one
  /// is released only by an operator, never by the settle window.
  public var observable: Bool
  /// The canister whose cycles it raises (a send's or a top-up's target): under a saved plan, the
  /// amount may grow by what this canister burnt since the plan, and by nothing else.
  public var recipient: Principal?

  public init(
    _ operation: String, target: Target, description: String, cycles: Int128 = 0,
    confirmation: Confirmation = .onMainnet, predictable: Bool = true, detail: String? = nil,
    replacesModule: Bool = false, observable: Bool = true, recipient: Principal? = nil
  ) {
    self.confirmation = confirmation
    self.recipient = recipient
    self.replacesModule = replacesModule
    self.observable = observable
    self.operation = operation
    self.target = target
    self.description = description
    self.cycles = cycles
    self.predictable = predictable
    self.detail = detail ?? description
  }

  /// The canisters the effect changes (none for a local effect).
  public var canisters: [Principal] {
    if case .canisters(let list) = target { return list }
    return []
  }
}

/// How an effect ended.
public enum EffectOutcome<T: Sendable>: Sendable {
  /// It ran (in `plan`, against the predictor).
  case done(T)
  /// It certainly did not happen (a reject, insufficient funds, a usage error): its reservation
  /// is released.
  case failed(BackendError)
  /// It may or may not have happened (timeout, interruption, the tool died): its reservation is
  /// kept, the journal marks it pending, and nothing sends it again blindly.
  case unknown(String)
  /// It was withheld: a local effect in `plan` or `--read-only`, or an update call in `plan`.
  case withheld
}

/// What an action reports to its `ensure`, which then re-reads the state and re-checks.
public enum ActionResult: Sendable, Equatable {
  /// It acted; the text describes what it did (`wallet wdhec-… (send 961.2B)`).
  case applied(String)
  /// It could not apply (a poor wallet): the next `or` action is tried.
  case notApplicable(String)
  /// It acted but its outcome is unknown: the ensure re-reads the state before anything else.
  case unknown(String)
}

/// The effects one action performed, in order (an action may send, then start).
final class EffectLog: Sendable {
  private let effects = Mutex<[Effect]>([])
  func append(_ effect: Effect) { effects.withLock { $0.append(effect) } }
  /// The cycles they moved.
  var cycles: Int128 { effects.withLock { $0.reduce(0) { $0 + $1.cycles } } }
}
