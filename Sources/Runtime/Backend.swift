import RbicCheck

/// The backend protocol: everything the runtime asks of the Internet Computer, in one place.
/// Builtins and actions talk only to this protocol; the simulated IC, `icp` and `dfx` implement it.
///
/// Calls are synchronous: a backend blocks its caller for the duration of one operation (a
/// subprocess, or the sim's configured latency). The interpreter runs `parallel for` branches on
/// threads of their own, so blocking never starves anything else.

/// What `canister status` shows a controller.
public struct CanisterState: Sendable, Hashable {
  public var id: Principal
  public var status: CanisterStatus
  public var cycles: Int128
  public var moduleHash: [UInt8]?
  public var controllers: [Principal]
  public var memory: Int64
  /// Seconds.
  public var freezingThreshold: Int64
  /// Cycles set aside for future storage payments (they do not pay for anything else).
  public var reservedCycles: Int128
  /// What the canister burns per day at rest (storage and allocations), as the IC computes it.
  public var idleBurnPerDay: Int128
  /// Bytes reserved for the canister (0: best effort).
  public var memoryAllocation: Int64
  /// The most cycles the canister may reserve.
  public var reservedCyclesLimit: Int128
  public var logVisibility: LogVisibility

  public init(
    id: Principal, status: CanisterStatus, cycles: Int128, moduleHash: [UInt8]?, controllers: [Principal],
    memory: Int64,
    freezingThreshold: Int64, reservedCycles: Int128 = 0, idleBurnPerDay: Int128 = 0, memoryAllocation: Int64 = 0,
    reservedCyclesLimit: Int128 = 5_000_000_000_000, logVisibility: LogVisibility = .controllers
  ) {
    self.id = id
    self.status = status
    self.cycles = cycles
    self.moduleHash = moduleHash
    self.controllers = controllers
    self.memory = memory
    self.freezingThreshold = freezingThreshold
    self.reservedCycles = reservedCycles
    self.idleBurnPerDay = idleBurnPerDay
    self.memoryAllocation = memoryAllocation
    self.reservedCyclesLimit = reservedCyclesLimit
    self.logVisibility = logVisibility
  }

  /// The cycles below which the canister freezes: what it burns idle over its freezing threshold.
  public var freezingThresholdCycles: Int128 {
    let (product, overflow) = idleBurnPerDay.multipliedReportingOverflow(by: Int128(freezingThreshold))
    return overflow ? Int128.max : product / 86_400
  }

  /// Seconds until the canister freezes at its idle burn (nil: it burns nothing idle, so never).
  /// Reserved cycles are not spendable and do not count.
  public var secondsUntilFrozen: Int64? {
    guard idleBurnPerDay > 0 else { return nil }
    let spare = cycles - freezingThresholdCycles
    guard spare > 0 else { return 0 }
    let (product, overflow) = spare.multipliedReportingOverflow(by: 86_400)
    return overflow ? Int64.max : Int64(clamping: product / idleBurnPerDay)
  }
}

/// Where a deleted canister's remaining cycles go, as a backend deletes it.
public enum DeletedCycles: Sendable, Equatable {
  /// To the identity's cycles ledger (the sim; icp 1.1+).
  case toIdentity
  /// To the identity's cycles wallet when the tool has one configured for it, else to its cycles
  /// ledger (dfx).
  case toWalletOrIdentity
  /// Burned with the canister; the text says why.
  case burned(String)

  /// For a delete's question and description.
  package var phrase: String {
    switch self {
    case .toIdentity: "its cycles go back to the identity's cycles ledger"
    case .toWalletOrIdentity:
      "its cycles go back to the identity's cycles wallet, or its cycles ledger when it has none"
    case .burned(let why): "ITS CYCLES ARE BURNED: \(why)"
    }
  }
}

/// Who may read a canister's logs: its controllers, anyone, or its controllers and a list of
/// principals (`allowed_viewers`; the list is set with the tools, not by rbic).
public enum LogVisibility: String, Sendable, Hashable, Codable, CaseIterable {
  case controllers, `public`
  case allowedViewers = "allowed_viewers"
}

/// Settings `update_settings` changes; nil leaves a setting as it is.
public struct CanisterSettings: Sendable, Hashable {
  /// Freezing thresholds under a week or over 50,000,000 s are extreme: dfx refuses them without
  /// its confirmation flags, and rbic always asks the operator about them.
  package static let shortFreezingThreshold: Int64 = 604_800
  package static let longFreezingThreshold: Int64 = 50_000_000

  /// Seconds.
  public var freezingThreshold: Int64?
  /// Bytes.
  public var memoryAllocation: Int64?
  public var reservedCyclesLimit: Int128?
  public var logVisibility: LogVisibility?
  public init(
    freezingThreshold: Int64? = nil, memoryAllocation: Int64? = nil, reservedCyclesLimit: Int128? = nil,
    logVisibility: LogVisibility? = nil
  ) {
    self.freezingThreshold = freezingThreshold
    self.memoryAllocation = memoryAllocation
    self.reservedCyclesLimit = reservedCyclesLimit
    self.logVisibility = logVisibility
  }
}

/// A canister snapshot (`take_canister_snapshot`): its id as the tools print it (hex), when it
/// was taken, and its size.
public struct CanisterSnapshot: Sendable, Hashable {
  public var id: String
  /// Nanoseconds since 1970.
  public var takenAt: UInt64
  public var size: Int64
  public init(id: String, takenAt: UInt64, size: Int64) {
    self.id = id
    self.takenAt = takenAt
    self.size = size
  }
}

/// One line of a canister's log (also the sim's state file form).
public struct CanisterLogRecord: Sendable, Hashable, Codable {
  public var index: UInt64
  /// Nanoseconds since 1970.
  public var timestamp: UInt64
  public var content: String
  public init(index: UInt64, timestamp: UInt64, content: String) {
    self.index = index
    self.timestamp = timestamp
    self.content = content
  }
}

/// What anyone may read about a canister, without controller rights.
public struct PublicCanisterInfo: Sendable, Hashable {
  public var controllers: [Principal]
  public var moduleHash: [UInt8]?
  public init(controllers: [Principal], moduleHash: [UInt8]?) {
    self.controllers = controllers
    self.moduleHash = moduleHash
  }
}

public enum InstallMode: String, Sendable, Codable, CaseIterable {
  case install, upgrade, reinstall
}

/// Why a backend operation failed. Each case keeps the text the tool (or the sim) printed.
public enum BackendError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The identity is not a controller of the canister (IC0512).
  case notController(canister: Principal, identity: String)
  /// The canister does not exist (IC0301).
  case notFound(Principal)
  /// A replica reject with its IC error code, e.g. `IC0503`.
  case reject(code: String, message: String)
  /// Not enough cycles in a wallet or the cycles ledger.
  case insufficientFunds(String)
  /// The operation may or may not have happened (timeout, tool died mid-call).
  case unknownOutcome(String)
  /// The tool is missing, exited unexpectedly or printed something unparseable.
  case environment(String)
  /// The tool does not know the operation (a usage error: nothing ran).
  case unsupported(String)
  /// The tool stopped before it sent anything (its arguments refused, an identity or project that
  /// would not load, a local validation; each tool's list is in its dialect): nothing happened.
  case notSent(String)

  /// Whether the error proves that a mutation did not happen: the tool stopped before sending, or
  /// the IC answered that it did not execute it. Anything else — a timeout, a transport error
  /// after submission, a signal, output that cannot be read — leaves the outcome unknown: the
  /// effect pipeline decides on this alone.
  package var provesNothingHappened: Bool {
    switch self {
    case .notController, .notFound, .reject, .insufficientFunds, .unsupported, .notSent: true
    case .unknownOutcome, .environment: false
    }
  }

  public var description: String {
    switch self {
    case .notController(let c, let identity):
      "identity `\(identity)` is not a controller of \(c.text) (IC0512)"
    case .notFound(let c): "canister \(c.text) does not exist (IC0301)"
    case .reject(let code, let message): "rejected with \(code): \(message)"
    case .insufficientFunds(let m): m
    case .unknownOutcome(let m): "outcome unknown: \(m)"
    case .environment(let m): m
    case .unsupported(let m): m
    case .notSent(let m): m
    }
  }
}

/// One external command a backend ran, for the journal (argv, exit status, duration, output).
public struct ExternalCommand: Sendable {
  public var argv: [String]
  /// The exit status; -1 when the command was stopped (timeout, interruption).
  public var status: Int32
  public var seconds: Double
  public var output: String
  public init(argv: [String], status: Int32, seconds: Double, output: String) {
    self.argv = argv
    self.status = status
    self.seconds = seconds
    self.output = output
  }
}

/// What a run gives its backend when it starts: the cancellation that ends a tool call (Ctrl-C)
/// and where each external command is recorded.
public struct BackendSession: Sendable {
  public var cancellation: Cancellation
  public var record: @Sendable (ExternalCommand) -> Void
  public init(cancellation: Cancellation, record: @escaping @Sendable (ExternalCommand) -> Void) {
    self.cancellation = cancellation
    self.record = record
  }
}

/// What rbic asks of the IC, through a tool or the simulated IC. The runtime reaches a backend only
/// through the effect pipeline (mutations) and its state reads; a backend never decides policy.
public protocol Backend: AnyObject, Sendable {
  /// A short name for messages and the journal (`sim`, `icp`, `dfx`).
  var name: String { get }
  /// The tool and release the backend drives, for the run header (`icp 1.3.0`); nil for a
  /// backend that drives no tool (the sim).
  var release: String? { get }
  /// The identity the backend acts as, and its principal.
  var identityName: String { get }
  func identityPrincipal() throws(BackendError) -> Principal
  /// The controller view (`canister status`).
  func status(_ canister: Principal) throws(BackendError) -> CanisterState
  /// The public view anyone may read (the state tree): controllers and module hash
  /// (`icp canister status --public`, `dfx canister info`).
  func publicInfo(_ canister: Principal) throws(BackendError) -> PublicCanisterInfo
  /// The identity's cycles-ledger balance (what `top_up` spends).
  func cyclesBalance() throws(BackendError) -> Int128
  /// Installs a module; `argument` is the init (or upgrade) argument as Candid text, `()` when nil.
  func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode, argument: String?) throws(BackendError)
  func updateControllers(_ canister: Principal, add: [Principal], remove: [Principal]) throws(BackendError)
  /// A cycles wallet's `wallet_send` to `canister`.
  func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError)
  /// `icp canister top-up`: from the identity's cycles-ledger balance.
  func topUp(_ canister: Principal, amount: Int128) throws(BackendError)
  func start(_ canister: Principal) throws(BackendError)
  func stop(_ canister: Principal) throws(BackendError)
  /// An update call with a Candid-text argument; returns the Candid-text reply.
  func call(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String
  /// An update call made by the cycles wallet `wallet`, carrying `cycles` of its balance to the
  /// callee (which sees the wallet as its caller): dfx `--wallet W --with-cycles N`, icp `--proxy W
  /// --cycles N`. Returns the Candid-text reply.
  func call(_ canister: Principal, method: String, argument: String, cycles: Int128, wallet: Principal)
    throws(BackendError) -> String
  /// A query call (a read: nothing changes); returns the Candid-text reply.
  func query(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String
  /// A public metadata section of the canister's module (`candid:service`); nil when it has none.
  func metadata(_ canister: Principal, name: String) throws(BackendError) -> String?
  /// A new canister with `cycles` from the identity's cycles ledger and these controllers (the
  /// identity when empty); returns its id.
  func createCanister(cycles: Int128, controllers: [Principal]) throws(BackendError) -> Principal
  /// Deletes a stopped canister; its remaining cycles go where `deletedCycles` says.
  func deleteCanister(_ canister: Principal) throws(BackendError)
  /// Where `deleteCanister` sends the canister's remaining cycles.
  var deletedCycles: DeletedCycles { get }
  func updateSettings(_ canister: Principal, _ settings: CanisterSettings) throws(BackendError)
  /// Takes a snapshot of a stopped canister, replacing `replacing` when given.
  func takeSnapshot(_ canister: Principal, replacing: String?) throws(BackendError) -> CanisterSnapshot
  func snapshots(_ canister: Principal) throws(BackendError) -> [CanisterSnapshot]
  /// Loads a snapshot into a stopped canister (its module, memory and stable memory).
  func restoreSnapshot(_ canister: Principal, id: String) throws(BackendError)
  func deleteSnapshot(_ canister: Principal, id: String) throws(BackendError)
  func logs(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord]
  /// The identity's ICP balance on the ledger, in e8s.
  func icpBalance() throws(BackendError) -> Int64
  /// Converts ICP (e8s) into cycles on the identity's cycles-ledger account; returns the cycles
  /// deposited.
  func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128
  /// The backend `plan` runs against: one whose mutations change only an in-memory prediction,
  /// seeded from this backend's reads (for the sim, a copy of its state).
  func predictor() -> Backend
  /// Called when a run starts: later calls honour `session.cancellation` and record every
  /// external command through `session.record`.
  func begin(_ session: BackendSession)
}

/// A host backend written before the lifecycle operations existed keeps compiling: each says it is
/// not supported (a usage error: nothing ran).
extension Backend {
  private func lacks(_ operation: String) -> BackendError { .unsupported("the `\(name)` backend cannot \(operation)") }
  public func createCanister(cycles: Int128, controllers: [Principal]) throws(BackendError) -> Principal {
    throw lacks("create canisters")
  }
  public func deleteCanister(_ canister: Principal) throws(BackendError) { throw lacks("delete canisters") }
  public var deletedCycles: DeletedCycles { .toIdentity }
  public var release: String? { nil }
  public func updateSettings(_ canister: Principal, _ settings: CanisterSettings) throws(BackendError) {
    throw lacks("update settings")
  }
  public func takeSnapshot(_ canister: Principal, replacing: String?) throws(BackendError) -> CanisterSnapshot {
    throw lacks("take snapshots")
  }
  public func snapshots(_ canister: Principal) throws(BackendError) -> [CanisterSnapshot] {
    throw lacks("list snapshots")
  }
  public func restoreSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    throw lacks("restore snapshots")
  }
  public func deleteSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    throw lacks("delete snapshots")
  }
  public func logs(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord] { throw lacks("read logs") }
  public func icpBalance() throws(BackendError) -> Int64 { throw lacks("read ICP balances") }
  public func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128 { throw lacks("convert ICP to cycles") }
  public func query(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    throw lacks("send query calls")
  }
  public func call(_ canister: Principal, method: String, argument: String, cycles: Int128, wallet: Principal)
    throws(BackendError) -> String
  {
    throw lacks("send calls with cycles through a wallet")
  }
  public func metadata(_ canister: Principal, name: String) throws(BackendError) -> String? {
    throw lacks("read canister metadata")
  }
}

extension Backend {
  /// An install without an argument.
  public func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode) throws(BackendError) {
    try install(canister, wasm: wasm, mode: mode, argument: nil)
  }
}
