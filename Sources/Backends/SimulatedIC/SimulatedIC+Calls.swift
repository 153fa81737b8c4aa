import Foundation
import RbicCandid
import RbicCheck
import RbicRuntime

/// The world's rules for messages to canisters and what they publish: update calls (by the
/// identity, or by a wallet with cycles), queries, the management canister, metadata sections and
/// logs. A canister answers with its canned `replies`, `()` for a method it has none for.
///
/// A `call` fault hits update calls and queries alike: a query that is rejected, times out or
/// whose tool fails does so as a call would; a `late` query is a timeout (it changes nothing, so
/// nothing lands later).
extension SimulatedIC {
  /// A canister that can answer a message: it has a module and runs (the caller holds the lock).
  @discardableResult
  private func answering(_ canister: Principal) throws(BackendError) -> CanisterRecord {
    let r = try record(canister)
    guard r.module_hash != nil else {
      throw .reject(
        code: "IC0537", message: "Attempted to execute a message, but the canister contains no Wasm module.")
    }
    guard r.status == .running else { throw .reject(code: "IC0508", message: "Canister \(canister.text) is stopped") }
    return r
  }

  public func call(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    if canister.text == "aaaaa-aa" { return try management(method: method, argument: argument) }
    let firing = try mutate(.call, canister) { () throws(BackendError) in
      try answering(canister)
    }
    if case .echo? = firing { return argument }
    return lock.withLock { state.canisters[canister.text]?.replies?[method] } ?? "()"
  }

  /// A call made by a wallet (`wallet: true`: a cycles wallet, or icp's proxy canister) with
  /// `amount` of its cycles: the identity must control the wallet (a wallet acts for its
  /// controllers only), the wallet must hold the cycles, and the callee must answer; then the
  /// cycles move from the wallet to the callee (which accepts them all) and the call runs as the
  /// wallet (the sim's canisters answer whoever calls). A call's faults apply (`call` on the
  /// callee).
  public func call(_ canister: Principal, method: String, argument: String, cycles amount: Int128, wallet: Principal)
    throws(BackendError) -> String
  {
    if canister.text == "aaaaa-aa" {
      throw .reject(code: "IC0536", message: "the sim's management canister takes no cycles with a call")
    }
    let firing = try mutate(.call, canister) { () throws(BackendError) in
      var w = try controlled(wallet)
      guard takenAsWallet(w) else {
        throw .reject(code: "IC0536", message: "Canister \(wallet.text) has no update method 'wallet_call128'")
      }
      guard cycles(w) >= amount else {
        throw .insufficientFunds(
          "wallet \(wallet.text) holds \(ValueFormat.cycles(cycles(w))), cannot send \(ValueFormat.cycles(amount)) with the call"
        )
      }
      try answering(canister)
      w.cycles = String(try Self.remainder(cycles(w), amount))
      state.canisters[wallet.text] = w
      var target = try record(canister)
      target.cycles = String(try Self.total(cycles(target), amount))
      state.canisters[canister.text] = target
    }
    if case .echo? = firing { return argument }
    return lock.withLock { state.canisters[canister.text]?.replies?[method] } ?? "()"
  }

  /// A query: the canister must exist, have a module and run; nothing changes. A `call` fault
  /// fires here as on an update call (`readFault`: a late reply is a timeout); `echo` answers
  /// with the argument and `silent_forward` with the canned reply, as a call's do. In plan, a
  /// canister the prediction does not hold is asked through the source (a read).
  public func query(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    if let source = forwarding(canister) { return try source.query(canister, method: method, argument: argument) }
    try latency()
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    switch try readFault(.call, canister) {
    case .echo?: return argument
    case .silent?: return state.canisters[canister.text]?.replies?[method] ?? "()"
    case nil: return try answering(canister).replies?[method] ?? "()"
    }
  }

  public func metadata(_ canister: Principal, name: String) throws(BackendError) -> String? {
    if let source = forwarding(canister) { return try source.metadata(canister, name: name) }
    if canister.text == "aaaaa-aa" { return name == "candid:service" ? Self.managementInterface : nil }
    try latency()
    lock.lock()
    defer { lock.unlock() }
    let r = try record(canister)
    return name == "candid:service" && r.module_hash != nil ? r.candid_service : nil
  }

  public func logs(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord] {
    try latency()
    lock.lock()
    defer { lock.unlock() }
    try readFault(.logs, canister)
    if let logs = try logsFromSource(canister) { return logs }
    let r = try record(canister)
    if r.log_visibility != .public {
      let me = try callerPrincipal()
      let viewers = r.log_visibility == .allowedViewers ? r.log_viewers ?? [] : []
      guard r.controllers.contains(me.text) || viewers.contains(me.text) else {
        throw .notController(canister: canister, identity: identityName)
      }
    }
    return r.logs ?? []
  }

  // MARK: - The management canister

  /// The management canister (`aaaaa-aa`): what the sim answers of it.
  package static let managementInterface = """
    type canister_id = principal;
    type status = variant { running; stopping; stopped };
    service : {
      raw_rand : () -> (blob);
      canister_status : (record { canister_id : canister_id }) -> (record {
        status : status; cycles : nat; module_hash : opt blob; memory_size : nat;
        idle_cycles_burned_per_day : nat; reserved_cycles : nat;
        settings : record { controllers : vec principal; freezing_threshold : nat };
      });
      start_canister : (record { canister_id : canister_id }) -> ();
      stop_canister : (record { canister_id : canister_id }) -> ();
    }
    """

  /// A call to the management canister, its argument read as Candid (`record { canister_id }`).
  private func management(method: String, argument: String) throws(BackendError) -> String {
    func target() throws(BackendError) -> Principal {
      guard let values = try? CandidValue.parseArguments(argument),
        case .principal(let text)? = values.first?.field("canister_id"),
        let p = Principal(text: text)
      else { throw .reject(code: "IC0503", message: "the argument has no canister_id: \(argument.prefix(80))") }
      return p
    }
    switch method {
    case "raw_rand":
      let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
      return CandidValue.print(arguments: [.blob(bytes)])
    case "canister_status":
      let s = try status(try target())
      let record: [CandidValueField] = [
        .init(.named("status"), .variant(.init(.named(s.status.rawValue), .null))),
        .init(.named("cycles"), .integer(s.cycles, .nat)),
        .init(.named("module_hash"), s.moduleHash.map { .opt(.blob($0)) } ?? .null),
        .init(.named("memory_size"), .integer(Int128(s.memory), .nat)),
        .init(.named("idle_cycles_burned_per_day"), .integer(s.idleBurnPerDay, .nat)),
        .init(.named("reserved_cycles"), .integer(s.reservedCycles, .nat)),
        .init(
          .named("settings"),
          .record([
            .init(.named("controllers"), .vec(s.controllers.map { .principal($0.text) })),
            .init(.named("freezing_threshold"), .integer(Int128(s.freezingThreshold), .nat)),
          ])),
      ]
      return CandidValue.print(arguments: [.record(record)])
    case "start_canister":
      try start(try target())
      return "()"
    case "stop_canister":
      try stop(try target())
      return "()"
    default:
      throw .reject(code: "IC0536", message: "Canister aaaaa-aa has no update method '\(method)'")
    }
  }
}
