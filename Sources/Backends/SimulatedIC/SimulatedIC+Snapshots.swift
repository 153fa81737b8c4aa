import Foundation
import RbicCheck
import RbicRuntime

/// The world's rules for canister snapshots: a stopped canister's module and memory, taken (at
/// most `snapshotLimit`, ids never reused), listed, restored and deleted by its controllers.
extension SimulatedIC {
  /// Most snapshots a canister may keep.
  package static let snapshotLimit = 10

  private var now: UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1e9)) }

  private func stopped(_ canister: Principal, _ what: String) throws(BackendError) -> CanisterRecord {
    let r = try controlled(canister)
    guard r.status == .stopped else {
      throw .reject(
        code: "IC0510", message: "Canister \(canister.text) is running; stop it before \(what) a snapshot.")
    }
    return r
  }

  public func takeSnapshot(_ canister: Principal, replacing: String?) throws(BackendError) -> CanisterSnapshot {
    var taken: SnapshotRecord?
    try mutate(.snapshot, canister) { () throws(BackendError) in
      var r = try stopped(canister, "taking")
      try snapshotsFromSource(&r, canister)
      var list = r.snapshots ?? []
      if let replacing {
        guard let i = list.firstIndex(where: { $0.id == replacing }) else {
          throw .reject(
            code: "IC0408", message: "Could not find the snapshot ID \(replacing) for canister \(canister.text)")
        }
        list.remove(at: i)
      }
      guard list.count < Self.snapshotLimit else {
        throw .reject(
          code: "IC0409",
          message:
            "Canister \(canister.text) has reached the maximum number of snapshots (\(Self.snapshotLimit)); replace or delete one"
        )
      }
      // An id is the canister's id, then a counter that only grows: hex, as the tools print it.
      let highest = (r.snapshots ?? []).map { UInt64($0.id.suffix(16), radix: 16) ?? 0 }.max() ?? 0
      let counter = max(highest, r.snapshot_counter ?? 0) &+ 1
      r.snapshot_counter = counter
      let id =
        String(ValueFormat.hex(canister.bytes).dropFirst(2)) + String(format: "%016llx", counter)
      var snapshot = SnapshotRecord(id: id, taken_at: now, module_hash: r.module_hash, memory: r.memory)
      snapshot.candid_service = r.candid_service
      list.append(snapshot)
      r.snapshots = list
      state.canisters[canister.text] = r
      taken = snapshot
    }
    guard let taken else { throw .environment("the snapshot was not taken") }
    return CanisterSnapshot(id: taken.id, takenAt: taken.taken_at, size: taken.memory)
  }

  public func snapshots(_ canister: Principal) throws(BackendError) -> [CanisterSnapshot] {
    try latency()
    lock.lock()
    defer { lock.unlock() }
    try readFault(.snapshots, canister)
    var r = try controlled(canister)
    try snapshotsFromSource(&r, canister)
    return (r.snapshots ?? []).map {
      CanisterSnapshot(id: $0.id, takenAt: $0.taken_at, size: $0.memory)
    }
  }

  public func restoreSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    try mutate(.restore, canister) { () throws(BackendError) in
      var r = try stopped(canister, "restoring")
      try snapshotsFromSource(&r, canister)
      guard let snapshot = r.snapshots?.first(where: { $0.id == id }) else {
        throw .reject(code: "IC0408", message: "Could not find the snapshot ID \(id) for canister \(canister.text)")
      }
      if restoresModule(snapshot) {
        r.module_hash = snapshot.module_hash
        r.candid_service = snapshot.candid_service
      }
      r.memory = snapshot.memory
      state.canisters[canister.text] = r
    }
  }

  public func deleteSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    try mutate(.deleteSnapshot, canister) { () throws(BackendError) in
      var r = try controlled(canister)
      try snapshotsFromSource(&r, canister)
      guard let i = r.snapshots?.firstIndex(where: { $0.id == id }) else {
        throw .reject(code: "IC0408", message: "Could not find the snapshot ID \(id) for canister \(canister.text)")
      }
      r.snapshots?.remove(at: i)
      state.canisters[canister.text] = r
    }
  }
}
