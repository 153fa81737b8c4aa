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

  public init(
    id: Principal, status: CanisterStatus, cycles: Int128, moduleHash: [UInt8]?, controllers: [Principal],
    memory: Int64,
    freezingThreshold: Int64
  ) {
    self.id = id
    self.status = status
    self.cycles = cycles
    self.moduleHash = moduleHash
    self.controllers = controllers
    self.memory = memory
    self.freezingThreshold = freezingThreshold
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

/// The operations of DESIGN §4. The runtime reaches a backend only through the effect pipeline
/// (mutations) and its state reads; a backend never decides policy.
public protocol Backend: AnyObject, Sendable {
  /// A short name for messages and the journal (`sim`, `icp`, `dfx`).
  var name: String { get }
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
  func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode) throws(BackendError)
  func updateControllers(_ canister: Principal, add: [Principal], remove: [Principal]) throws(BackendError)
  /// A cycles wallet's `wallet_send` to `canister`.
  func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError)
  /// `icp canister top-up`: from the identity's cycles-ledger balance.
  func topUp(_ canister: Principal, amount: Int128) throws(BackendError)
  func start(_ canister: Principal) throws(BackendError)
  func stop(_ canister: Principal) throws(BackendError)
  /// An update call with a Candid-text argument; returns the Candid-text reply.
  func call(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String
  /// The backend `plan` runs against: one whose mutations change only an in-memory prediction,
  /// seeded from this backend's reads (for the sim, a copy of its state).
  func predictor() -> Backend
  /// Called when a run starts: later calls honour `session.cancellation` and record every
  /// external command through `session.record`.
  func begin(_ session: BackendSession)
}
