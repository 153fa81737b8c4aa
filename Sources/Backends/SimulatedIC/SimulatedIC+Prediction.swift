import Foundation
import RbicCheck
import RbicRuntime

/// The sim as `plan`'s predictor. On another backend (`icp`, `dfx`), plan runs against a sim that
/// starts empty and reads each fact from that backend (`source`) the first time a rule needs it,
/// then applies the rules to it; its changes stay in memory. On the sim, plan runs against a copy.
///
/// Where a prediction differs from the sim's own world, because the source does not say:
/// - a canister the prediction does not hold yet is read through the source's status (its
///   figures and settings; not whether it is a wallet, so one named as a wallet is taken as one);
/// - a query, a metadata section or the logs of a canister it does not hold are asked of the
///   source, and logs always are (they change with no effect of the plan's);
/// - snapshots are read from the source's list, which names no module: restoring one keeps the
///   canister's module in the prediction;
/// - the identity's principal, cycles and ICP are read from the source.
extension SimulatedIC {
  /// A predictor for `plan`: starts empty and reads what it needs from `source` once.
  package static func predicting(from source: Backend) -> SimulatedIC {
    let empty = State(
      identity: source.identityName, identities: [:], canisters: [:], faults: nil, latency_ms: nil, deliveries: nil)
    return SimulatedIC(state: empty, identity: source.identityName, name: "plan", source: source)
  }

  /// As the backend it predicts deletes (the sim itself returns them to the identity).
  public var deletedCycles: DeletedCycles { source?.deletedCycles ?? .toIdentity }

  /// Plan on the sim runs against a copy of its state.
  public func predictor() -> Backend { copy() }

  /// A copy whose changes never reach this one (plan on the sim).
  package func copy() -> SimulatedIC {
    let (twin, cancellation) = lock.withLock {
      (SimulatedIC(state: state, identity: identityName, name: name, source: source), self.cancellation)
    }
    twin.lock.withLock { twin.cancellation = cancellation }
    return twin
  }

  // MARK: - Read from the source the first time (the caller holds the lock)

  /// The source, for a canister the prediction does not hold: a read of it goes there.
  func forwarding(_ canister: Principal) -> Backend? {
    guard let source, lock.withLock({ state.canisters[canister.text] == nil }) else { return nil }
    return source
  }

  /// The acting identity, with its principal and cycles.
  func identityFromSource() throws(BackendError) {
    guard state.identities[identityName] == nil, let source else { return }
    let p = try source.identityPrincipal()
    let balance = try source.cyclesBalance()
    state.identities[identityName] = IdentityRecord(principal: p.text, cycles_ledger: String(balance))
  }

  /// A canister's record, from the source's status; nil when not predicting.
  func recordFromSource(_ canister: Principal) throws(BackendError) -> CanisterRecord? {
    guard let source else { return nil }
    let s = try source.status(canister)
    var r = CanisterRecord(
      status: s.status, cycles: String(s.cycles), module_hash: s.moduleHash.map(ValueFormat.hex),
      controllers: s.controllers.map(\.text), memory: s.memory, freezing_threshold: s.freezingThreshold, wallet: nil)
    r.memory_allocation = s.memoryAllocation
    r.reserved_cycles = String(s.reservedCycles)
    r.reserved_cycles_limit = String(s.reservedCyclesLimit)
    r.log_visibility = s.logVisibility
    r.idle_cycles_burned_per_day = String(s.idleBurnPerDay)
    state.canisters[canister.text] = r
    return r
  }

  /// A canister's snapshots: their modules are not listed, so a predicted restore keeps the module.
  func snapshotsFromSource(_ r: inout CanisterRecord, _ canister: Principal) throws(BackendError) {
    guard r.snapshots == nil, let source else { return }
    r.snapshots = try source.snapshots(canister).map {
      SnapshotRecord(id: $0.id, taken_at: $0.takenAt, module_hash: nil, memory: $0.size)
    }
    state.canisters[canister.text] = r
  }

  /// The identity's ICP.
  func icpFromSource() throws(BackendError) {
    if let source, state.identities[identityName]?.icp_e8s == nil {
      state.identities[identityName]?.icp_e8s = String(try source.icpBalance())
    }
  }

  /// Logs change with no effect of the plan's: the source's, but for a canister the plan creates
  /// (the source does not know it); nil when not predicting.
  func logsFromSource(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord]? {
    guard let source else { return nil }
    do { return try source.logs(canister) } catch {
      guard case .notFound = error else { throw error }
      return nil
    }
  }

  // MARK: - What the source does not say

  /// Whether a canister answers as a wallet (`wallet_send`, a call with cycles): the world says;
  /// in plan the source does not, and a canister named as a wallet is taken as one.
  func takenAsWallet(_ r: CanisterRecord) -> Bool { source != nil || r.wallet == true }

  /// Whether restoring a snapshot puts its module back: always in the sim's own world; in plan,
  /// only a snapshot the plan took (the source's list names no module).
  func restoresModule(_ snapshot: SnapshotRecord) -> Bool { source == nil || snapshot.module_hash != nil }
}
