import RbicCheck
import RbicRuntime

/// Two tool drivers in one run: every operation goes to the primary (`icp`), and one it does not
/// support — a usage error, so nothing ran — goes to the secondary (`dfx`). Any other failure,
/// including an unknown outcome, is final: only an operation that certainly did not run is tried
/// on the other tool.
package final class FallbackBackend: Backend, Sendable {
  package let primary: Backend
  package let secondary: Backend

  package init(primary: Backend, secondary: Backend) {
    self.primary = primary
    self.secondary = secondary
  }

  package var name: String { "\(primary.name)+\(secondary.name)" }
  package var release: String? {
    "\(primary.release ?? primary.name)+\(secondary.release ?? secondary.name)"
  }
  /// A delete goes to the primary first.
  package var deletedCycles: DeletedCycles { primary.deletedCycles }
  package var identityName: String { primary.identityName }

  private func either<T>(_ body: (Backend) throws(BackendError) -> T) throws(BackendError) -> T {
    do {
      return try body(primary)
    } catch .unsupported {
      return try body(secondary)
    }
  }

  package func identityPrincipal() throws(BackendError) -> Principal {
    try either { b throws(BackendError) in try b.identityPrincipal() }
  }
  package func status(_ c: Principal) throws(BackendError) -> CanisterState {
    try either { b throws(BackendError) in try b.status(c) }
  }
  package func publicInfo(_ c: Principal) throws(BackendError) -> PublicCanisterInfo {
    try either { b throws(BackendError) in try b.publicInfo(c) }
  }
  package func cyclesBalance() throws(BackendError) -> Int128 {
    try either { b throws(BackendError) in try b.cyclesBalance() }
  }
  package func install(_ c: Principal, wasm: [UInt8], mode: InstallMode, argument: String?) throws(BackendError) {
    try either { b throws(BackendError) in try b.install(c, wasm: wasm, mode: mode, argument: argument) }
  }
  package func updateControllers(_ c: Principal, add: [Principal], remove: [Principal]) throws(BackendError) {
    try either { b throws(BackendError) in try b.updateControllers(c, add: add, remove: remove) }
  }
  package func walletSend(wallet: Principal, to c: Principal, amount: Int128) throws(BackendError) {
    try either { b throws(BackendError) in try b.walletSend(wallet: wallet, to: c, amount: amount) }
  }
  package func topUp(_ c: Principal, amount: Int128) throws(BackendError) {
    try either { b throws(BackendError) in try b.topUp(c, amount: amount) }
  }
  package func start(_ c: Principal) throws(BackendError) { try either { b throws(BackendError) in try b.start(c) } }
  package func stop(_ c: Principal) throws(BackendError) { try either { b throws(BackendError) in try b.stop(c) } }
  package func call(_ c: Principal, method: String, argument: String) throws(BackendError) -> String {
    try either { b throws(BackendError) in try b.call(c, method: method, argument: argument) }
  }
  package func call(_ c: Principal, method: String, argument: String, cycles: Int128, wallet: Principal)
    throws(BackendError) -> String
  {
    try either { b throws(BackendError) in
      try b.call(c, method: method, argument: argument, cycles: cycles, wallet: wallet)
    }
  }
  package func createCanister(cycles: Int128, controllers: [Principal]) throws(BackendError) -> Principal {
    try either { b throws(BackendError) in try b.createCanister(cycles: cycles, controllers: controllers) }
  }
  package func deleteCanister(_ c: Principal) throws(BackendError) {
    try either { b throws(BackendError) in try b.deleteCanister(c) }
  }
  package func updateSettings(_ c: Principal, _ settings: CanisterSettings) throws(BackendError) {
    try either { b throws(BackendError) in try b.updateSettings(c, settings) }
  }
  package func takeSnapshot(_ c: Principal, replacing: String?) throws(BackendError) -> CanisterSnapshot {
    try either { b throws(BackendError) in try b.takeSnapshot(c, replacing: replacing) }
  }
  package func snapshots(_ c: Principal) throws(BackendError) -> [CanisterSnapshot] {
    try either { b throws(BackendError) in try b.snapshots(c) }
  }
  package func restoreSnapshot(_ c: Principal, id: String) throws(BackendError) {
    try either { b throws(BackendError) in try b.restoreSnapshot(c, id: id) }
  }
  package func deleteSnapshot(_ c: Principal, id: String) throws(BackendError) {
    try either { b throws(BackendError) in try b.deleteSnapshot(c, id: id) }
  }
  package func logs(_ c: Principal) throws(BackendError) -> [CanisterLogRecord] {
    try either { b throws(BackendError) in try b.logs(c) }
  }
  package func icpBalance() throws(BackendError) -> Int64 {
    try either { b throws(BackendError) in try b.icpBalance() }
  }
  package func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128 {
    try either { b throws(BackendError) in try b.mintCycles(icp: e8s) }
  }
  package func query(_ c: Principal, method: String, argument: String) throws(BackendError) -> String {
    try either { b throws(BackendError) in try b.query(c, method: method, argument: argument) }
  }
  package func metadata(_ c: Principal, name: String) throws(BackendError) -> String? {
    try either { b throws(BackendError) in try b.metadata(c, name: name) }
  }
  package func predictor() -> Backend { SimulatedIC.predicting(from: self) }
  package func begin(_ session: BackendSession) {
    primary.begin(session)
    secondary.begin(session)
  }
}
