import Crypto
import Foundation
import RbicCandid
import RbicCheck
import RbicRuntime

/// The world's rules for a canister's life: its status (the controllers' view and the public
/// one), installing a module, its controllers and settings, starting and stopping it, creating
/// and deleting it.
extension SimulatedIC {
  public func status(_ canister: Principal) throws(BackendError) -> CanisterState {
    try latency()
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    try readFault(.status, canister)
    return Self.state(of: canister, try controlled(canister))
  }

  /// Storage costs 127_000 cycles per GiB per second on a 13-node subnet: about 10.2 cycles per
  /// byte per day, charged on the larger of the memory used and the memory allocated.
  static func idleBurn(_ r: CanisterRecord) -> Int128 {
    if let fixed = r.idle_cycles_burned_per_day.flatMap({ Int128($0) }) { return fixed }
    let bytes = Int128(max(r.memory, r.memory_allocation ?? 0))
    return bytes * 127_000 * 86_400 / (1 << 30)
  }

  static func state(of canister: Principal, _ r: CanisterRecord) -> CanisterState {
    CanisterState(
      id: canister, status: r.status, cycles: Int128(r.cycles) ?? 0,
      moduleHash: r.module_hash.flatMap(ValueFormat.hashBytes),
      controllers: r.controllers.compactMap(Principal.init(text:)), memory: r.memory,
      freezingThreshold: r.freezing_threshold, reservedCycles: r.reserved_cycles.flatMap { Int128($0) } ?? 0,
      idleBurnPerDay: idleBurn(r), memoryAllocation: r.memory_allocation ?? 0,
      reservedCyclesLimit: r.reserved_cycles_limit.flatMap { Int128($0) } ?? 5_000_000_000_000,
      logVisibility: r.log_visibility ?? .controllers)
  }

  public func publicInfo(_ canister: Principal) throws(BackendError) -> PublicCanisterInfo {
    try latency()
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    try readFault(.status, canister)
    let r = try record(canister)
    return PublicCanisterInfo(
      controllers: r.controllers.compactMap(Principal.init(text:)),
      moduleHash: r.module_hash.flatMap(ValueFormat.hashBytes))
  }

  public func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode, argument: String?) throws(BackendError) {
    try mutate(.install, canister) { () throws(BackendError) in
      var r = try controlled(canister)
      switch (mode, r.module_hash) {
      case (.install, .some):
        throw .reject(
          code: "IC0514",
          message:
            "Canister \(canister.text) cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead."
        )
      case (.upgrade, .none):
        throw .reject(code: "IC0537", message: "canister \(canister.text) has no module to upgrade")
      default: break
      }
      // A module that declares init arguments traps on one it cannot decode; the canister keeps
      // its old module and state, as on the IC.
      if let env = InstallArgument.interface(ofModule: wasm)?.env, let why = InstallArgument.refusal(argument, for: env)
      {
        throw .reject(
          code: "IC0503",
          message:
            "Error from Canister \(canister.text): Canister called `ic0.trap` with message: failed to decode the init argument: \(why)"
        )
      }
      r.install_argument = argument
      r.module_hash = ValueFormat.hex(Array(SHA256.hash(data: wasm)))
      r.memory = 3_500_000 + Int64(wasm.count)
      // The module's public candid:service is what the canister now publishes.
      r.candid_service = (try? ModuleMetadata.sections(wasm))?["candid:service"].flatMap { section in
        section.isPublic ? String(decoding: section.bytes, as: UTF8.self) : nil
      }
      state.canisters[canister.text] = r
    }
  }

  public func updateControllers(_ canister: Principal, add: [Principal], remove: [Principal]) throws(BackendError) {
    try mutate(.updateSettings, canister) { () throws(BackendError) in
      var r = try controlled(canister)
      var set = r.controllers.filter { c in !remove.contains { $0.text == c } }
      for p in add where !set.contains(p.text) { set.append(p.text) }
      r.controllers = set
      state.canisters[canister.text] = r
    }
  }

  public func updateSettings(_ canister: Principal, _ settings: CanisterSettings) throws(BackendError) {
    try mutate(.updateSettings, canister) { () throws(BackendError) in
      var r = try controlled(canister)
      if let t = settings.freezingThreshold { r.freezing_threshold = t }
      if let m = settings.memoryAllocation {
        guard m == 0 || m >= r.memory else {
          throw .reject(
            code: "IC0506",
            message: "Canister \(canister.text) uses \(r.memory) bytes, more than the memory allocation of \(m) bytes")
        }
        r.memory_allocation = m
      }
      if let l = settings.reservedCyclesLimit { r.reserved_cycles_limit = String(l) }
      if let v = settings.logVisibility {
        r.log_visibility = v
        r.log_viewers = nil
      }
      state.canisters[canister.text] = r
    }
  }

  public func start(_ canister: Principal) throws(BackendError) {
    try mutate(.start, canister) { () throws(BackendError) in
      var r = try controlled(canister)
      r.status = .running
      state.canisters[canister.text] = r
    }
  }

  public func stop(_ canister: Principal) throws(BackendError) {
    try mutate(.stop, canister) { () throws(BackendError) in
      var r = try controlled(canister)
      r.status = .stopped
      state.canisters[canister.text] = r
    }
  }

  // MARK: - Create and delete

  /// The IC's fee for creating a canister on a 13-node subnet, taken from the cycles sent along.
  package static let creationFee: Int128 = 500_000_000_000

  /// The next unused canister id: an opaque id (8 bytes, then 0x01 0x01) counting up from the
  /// canisters the state already has.
  private func freshCanisterId() -> Principal {
    var n = UInt64(state.canisters.count)
    while true {
      let bytes = (0..<8).reversed().map { UInt8(truncatingIfNeeded: (n | 0x0100_0000_0000) >> (8 * UInt64($0))) }
      let p = Principal(bytes: bytes + [0x01, 0x01])
      if state.canisters[p.text] == nil { return p }
      n += 1
    }
  }

  public func createCanister(cycles amount: Int128, controllers: [Principal]) throws(BackendError) -> Principal {
    var created: Principal?
    try mutate(.create, nil) { () throws(BackendError) in
      let me = try callerPrincipal()
      let balance = ledger(identityName)
      let (debit, overflow) = amount.addingReportingOverflow(Self.cyclesLedgerFee)
      guard !overflow, balance >= debit else {
        throw .insufficientFunds(
          "failed to create canister: Insufficient cycles. Requested: \(amount) cycles, available balance: \(ValueFormat.grouped(balance)) cycles."
        )
      }
      guard amount >= Self.creationFee else {
        throw .reject(
          code: "IC0504",
          message:
            "Creating a canister requires a fee of \(ValueFormat.grouped(Self.creationFee)) cycles; \(ValueFormat.grouped(amount)) were sent"
        )
      }
      let id = freshCanisterId()
      state.identities[identityName]?.cycles_ledger = String(balance - debit)
      state.canisters[id.text] = CanisterRecord(
        status: .running, cycles: String(amount - Self.creationFee), module_hash: nil,
        controllers: (controllers.isEmpty ? [me] : controllers).map(\.text), memory: 0, freezing_threshold: 2_592_000,
        wallet: nil)
      created = id
    }
    guard let created else { throw .environment("the canister was not created") }
    return created
  }

  public func deleteCanister(_ canister: Principal) throws(BackendError) {
    try mutate(.delete, canister) { () throws(BackendError) in
      let r = try controlled(canister)
      guard r.status == .stopped else {
        throw .reject(code: "IC0510", message: "Canister \(canister.text) must be stopped before it is deleted.")
      }
      // What is left goes back to the identity's cycles ledger, less the ledger's fee.
      let refund = max(0, cycles(r) - Self.cyclesLedgerFee)
      let (balance, overflow) = ledger(identityName).addingReportingOverflow(refund)
      state.identities[identityName]?.cycles_ledger = String(overflow ? Int128.max : balance)
      state.canisters[canister.text] = nil
    }
  }
}
