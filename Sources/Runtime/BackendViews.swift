import RbicCheck

/// The two halves of a backend as the runtime hands them out. Builtins and actions
/// read through `BackendReads`, which holds the backend privately and forwards only reads: nothing
/// given one can mutate. An effect's body gets a `ScopedBackend` from `EffectPipeline.perform`, the
/// only place that makes one: its mutations reach only the canisters the effect declared, so an
/// effect cannot change what its gates, locks and journal line did not name.

/// What a builtin or an action may read without an effect.
public struct BackendReads: Sendable {
  private let backend: Backend
  init(_ backend: Backend) { self.backend = backend }

  public var name: String { backend.name }
  public var identityName: String { backend.identityName }
  public var deletedCycles: DeletedCycles { backend.deletedCycles }
  public func identityPrincipal() throws(BackendError) -> Principal { try backend.identityPrincipal() }
  public func status(_ canister: Principal) throws(BackendError) -> CanisterState { try backend.status(canister) }
  public func publicInfo(_ canister: Principal) throws(BackendError) -> PublicCanisterInfo {
    try backend.publicInfo(canister)
  }
  public func cyclesBalance() throws(BackendError) -> Int128 { try backend.cyclesBalance() }
  public func icpBalance() throws(BackendError) -> Int64 { try backend.icpBalance() }
  public func query(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    try backend.query(canister, method: method, argument: argument)
  }
  public func metadata(_ canister: Principal, name: String) throws(BackendError) -> String? {
    try backend.metadata(canister, name: name)
  }
  public func snapshots(_ canister: Principal) throws(BackendError) -> [CanisterSnapshot] {
    try backend.snapshots(canister)
  }
  public func logs(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord] { try backend.logs(canister) }
}

/// A backend whose mutations reach only `scope` (the effect's canisters); reads pass through. A
/// mutation outside it fails before anything is sent.
final class ScopedBackend: Backend {
  private let backend: Backend
  private let scope: Set<Principal>
  private let effect: String

  init(_ backend: Backend, scope: [Principal], effect: String) {
    self.backend = backend
    self.scope = Set(scope)
    self.effect = effect
  }

  private func allow(_ canisters: Principal...) throws(BackendError) {
    for c in canisters where !scope.contains(c) {
      throw .notSent("`\(effect)` may change only \(scope.map(\.text).sorted().joined(separator: ", ")), not \(c.text)")
    }
  }

  /// Creating a canister or converting ICP spends the identity's funds: the effect names the
  /// identity's principal.
  private func allowIdentity() throws(BackendError) { try allow(try backend.identityPrincipal()) }

  var name: String { backend.name }
  var identityName: String { backend.identityName }
  var deletedCycles: DeletedCycles { backend.deletedCycles }
  func identityPrincipal() throws(BackendError) -> Principal { try backend.identityPrincipal() }
  func status(_ canister: Principal) throws(BackendError) -> CanisterState { try backend.status(canister) }
  func publicInfo(_ canister: Principal) throws(BackendError) -> PublicCanisterInfo { try backend.publicInfo(canister) }
  func cyclesBalance() throws(BackendError) -> Int128 { try backend.cyclesBalance() }
  func icpBalance() throws(BackendError) -> Int64 { try backend.icpBalance() }
  func query(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    try backend.query(canister, method: method, argument: argument)
  }
  func metadata(_ canister: Principal, name: String) throws(BackendError) -> String? {
    try backend.metadata(canister, name: name)
  }
  func snapshots(_ canister: Principal) throws(BackendError) -> [CanisterSnapshot] { try backend.snapshots(canister) }
  func logs(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord] { try backend.logs(canister) }
  func predictor() -> Backend { backend.predictor() }
  func begin(_ session: BackendSession) { backend.begin(session) }

  func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode, argument: String?) throws(BackendError) {
    try allow(canister)
    try backend.install(canister, wasm: wasm, mode: mode, argument: argument)
  }
  func updateControllers(_ canister: Principal, add: [Principal], remove: [Principal]) throws(BackendError) {
    try allow(canister)
    try backend.updateControllers(canister, add: add, remove: remove)
  }
  func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError) {
    try allow(wallet, canister)
    try backend.walletSend(wallet: wallet, to: canister, amount: amount)
  }
  func topUp(_ canister: Principal, amount: Int128) throws(BackendError) {
    try allow(canister)
    try backend.topUp(canister, amount: amount)
  }
  func start(_ canister: Principal) throws(BackendError) {
    try allow(canister)
    try backend.start(canister)
  }
  func stop(_ canister: Principal) throws(BackendError) {
    try allow(canister)
    try backend.stop(canister)
  }
  func call(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    try allow(canister)
    return try backend.call(canister, method: method, argument: argument)
  }
  func call(_ canister: Principal, method: String, argument: String, cycles: Int128, wallet: Principal)
    throws(BackendError) -> String
  {
    try allow(canister, wallet)
    return try backend.call(canister, method: method, argument: argument, cycles: cycles, wallet: wallet)
  }
  func createCanister(cycles: Int128, controllers: [Principal]) throws(BackendError) -> Principal {
    try allowIdentity()
    return try backend.createCanister(cycles: cycles, controllers: controllers)
  }
  func deleteCanister(_ canister: Principal) throws(BackendError) {
    try allow(canister)
    try backend.deleteCanister(canister)
  }
  func updateSettings(_ canister: Principal, _ settings: CanisterSettings) throws(BackendError) {
    try allow(canister)
    try backend.updateSettings(canister, settings)
  }
  func takeSnapshot(_ canister: Principal, replacing: String?) throws(BackendError) -> CanisterSnapshot {
    try allow(canister)
    return try backend.takeSnapshot(canister, replacing: replacing)
  }
  func restoreSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    try allow(canister)
    try backend.restoreSnapshot(canister, id: id)
  }
  func deleteSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    try allow(canister)
    try backend.deleteSnapshot(canister, id: id)
  }
  func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128 {
    try allowIdentity()
    return try backend.mintCycles(icp: e8s)
  }
}
