import RbicCheck
import RbicRuntime

/// Two tool drivers in one run: every operation goes to the primary (`icp`), and one it does not
/// support — a usage error, so nothing ran — goes to the secondary (`dfx`). Any other failure,
/// including an unknown outcome, is final: only an operation that certainly did not run is tried
/// on the other tool.
public final class FallbackBackend: Backend, Sendable {
  public let primary: Backend
  public let secondary: Backend

  public init(primary: Backend, secondary: Backend) {
    self.primary = primary
    self.secondary = secondary
  }

  public var name: String { "\(primary.name)+\(secondary.name)" }
  public var release: String? {
    "\(primary.release ?? primary.name)+\(secondary.release ?? secondary.name)"
  }
  /// A delete goes to the primary first.
  public var deletedCycles: DeletedCycles { primary.deletedCycles }
  public var identityName: String { primary.identityName }

  private func either<T>(_ body: (Backend) throws(BackendError) -> T) throws(BackendError) -> T {
    do {
      return try body(primary)
    } catch .unsupported {
      return try body(secondary)
    }
  }

  public func identityPrincipal() throws(BackendError) -> Principal {
    try either { b throws(BackendError) in try b.identityPrincipal() }
  }
  public func status(_ c: Principal) throws(BackendError) -> CanisterState {
    try either { b throws(BackendError) in try b.status(c) }
  }
  public func publicInfo(_ c: Principal) throws(BackendError) -> PublicCanisterInfo {
    try either { b throws(BackendError) in try b.publicInfo(c) }
  }
  public func cyclesBalance() throws(BackendError) -> Int128 {
    try either { b throws(BackendError) in try b.cyclesBalance() }
  }
  public func install(_ c: Principal, wasm: [UInt8], mode: InstallMode, argument: String?) throws(BackendError) {
    try either { b throws(BackendError) in try b.install(c, wasm: wasm, mode: mode, argument: argument) }
  }
  public func updateControllers(_ c: Principal, add: [Principal], remove: [Principal]) throws(BackendError) {
    try either { b throws(BackendError) in try b.updateControllers(c, add: add, remove: remove) }
  }
  public func walletSend(wallet: Principal, to c: Principal, amount: Int128) throws(BackendError) {
    try either { b throws(BackendError) in try b.walletSend(wallet: wallet, to: c, amount: amount) }
  }
  public func topUp(_ c: Principal, amount: Int128) throws(BackendError) {
    try either { b throws(BackendError) in try b.topUp(c, amount: amount) }
  }
  public func start(_ c: Principal) throws(BackendError) { try either { b throws(BackendError) in try b.start(c) } }
  public func stop(_ c: Principal) throws(BackendError) { try either { b throws(BackendError) in try b.stop(c) } }
  public func call(_ c: Principal, method: String, argument: String) throws(BackendError) -> String {
    try either { b throws(BackendError) in try b.call(c, method: method, argument: argument) }
  }
  public func call(_ c: Principal, method: String, argument: String, cycles: Int128, wallet: Principal)
    throws(BackendError) -> String
  {
    try either { b throws(BackendError) in
      try b.call(c, method: method, argument: argument, cycles: cycles, wallet: wallet)
    }
  }
  public func createCanister(cycles: Int128, controllers: [Principal]) throws(BackendError) -> Principal {
    try either { b throws(BackendError) in try b.createCanister(cycles: cycles, controllers: controllers) }
  }
  public func deleteCanister(_ c: Principal) throws(BackendError) {
    try either { b throws(BackendError) in try b.deleteCanister(c) }
  }
  public func updateSettings(_ c: Principal, _ settings: CanisterSettings) throws(BackendError) {
    try either { b throws(BackendError) in try b.updateSettings(c, settings) }
  }
  public func takeSnapshot(_ c: Principal, replacing: String?) throws(BackendError) -> CanisterSnapshot {
    try either { b throws(BackendError) in try b.takeSnapshot(c, replacing: replacing) }
  }
  public func snapshots(_ c: Principal) throws(BackendError) -> [CanisterSnapshot] {
    try either { b throws(BackendError) in try b.snapshots(c) }
  }
  public func restoreSnapshot(_ c: Principal, id: String) throws(BackendError) {
    try either { b throws(BackendError) in try b.restoreSnapshot(c, id: id) }
  }
  public func deleteSnapshot(_ c: Principal, id: String) throws(BackendError) {
    try either { b throws(BackendError) in try b.deleteSnapshot(c, id: id) }
  }
  public func logs(_ c: Principal) throws(BackendError) -> [CanisterLogRecord] {
    try either { b throws(BackendError) in try b.logs(c) }
  }
  public func icpBalance() throws(BackendError) -> Int64 { try either { b throws(BackendError) in try b.icpBalance() } }
  public func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128 {
    try either { b throws(BackendError) in try b.mintCycles(icp: e8s) }
  }
  public func query(_ c: Principal, method: String, argument: String) throws(BackendError) -> String {
    try either { b throws(BackendError) in try b.query(c, method: method, argument: argument) }
  }
  public func metadata(_ c: Principal, name: String) throws(BackendError) -> String? {
    try either { b throws(BackendError) in try b.metadata(c, name: name) }
  }
  public func predictor() -> Backend { SimulatedIC.predicting(from: self) }
  public func begin(_ session: BackendSession) {
    primary.begin(session)
    secondary.begin(session)
  }
}
