import Crypto
import Foundation
import RbicCandid
import RbicDiagnostics
import RbicRuntime

/// The simulated Internet Computer: canisters, cycles wallets, identities and a cycles ledger,
/// with the real rules, fault injection and optional latency. It is the embedded default backend
/// (rehearsals, demos, tests), and, seeded from another backend's reads, the predictor behind
/// `rbic plan`.
///
/// State file (`--sim-state FILE`), JSON; amounts are decimal strings so no tool rounds them:
///
///     {
///       "identity": "github-ci",                       // the identity acting by default
///       "identities": { "github-ci": { "principal": "…", "cycles_ledger": "5000000000000" } },
///       "canisters": {
///         "6iu47-dyaaa-aaaaf-qgeza-cai": {
///           "status": "running", "cycles": "38800000000", "module_hash": "0x9ef2…" | null,
///           "controllers": ["…"], "memory": 3580000, "freezing_threshold": 2592000,
///           "wallet": false                              // true: answers wallet_send, and
///                                                          // makes calls with its cycles
///         }
///       },
///       "faults": [ { "operation": "wallet_send", "kind": "silent_forward", "times": 1,
///                     "canister": "…", "code": "IC0503", "message": "…" } ],
///       "latency_ms": 0
///     }
///
/// Fault kinds: `timeout` (outcome unknown; nothing applied), `late` (outcome unknown; the request
/// lands `delay_ms` later, recorded under `deliveries`), `reject` (an IC error `code`), `refund`
/// (`mint`: the cycles minting canister refunds the ICP with `message`),
/// `echo` (a call replies with its own argument: a canister that echoes what it was sent),
/// `exit` (the tool exits non-zero), `garbled` (unparseable output), `silent_forward` (success
/// reported, nothing delivered: the seed's wdhec bug). Operations: `status`, `install`,
/// `update_settings`, `wallet_send`, `top_up`, `start`, `stop`, `call`, `identity`, `create`,
/// `delete`, `snapshot`, `snapshots`, `restore`, `delete_snapshot`, `logs`, `icp_balance`, `mint`. A fault
/// without `times` fires every time; `canister` limits it to one canister.
///
/// `@unchecked Sendable`: every field that changes (`state`, the counters, `cancellation`) is read
/// and written only while `lock` is held; the latency wait happens outside it, so parallel callers
/// overlap as they would on the IC.
public final class SimulatedIC: Backend, @unchecked Sendable {
  public struct CanisterRecord: Codable, Sendable, Equatable {
    public var status: CanisterStatus
    public var cycles: String
    public var module_hash: String?
    public var controllers: [String]
    public var memory: Int64
    public var freezing_threshold: Int64
    public var wallet: Bool?
    // Settings and figures added with the lifecycle operations; absent in older state files.
    public var memory_allocation: Int64?
    public var reserved_cycles: String?
    public var reserved_cycles_limit: String?
    public var log_visibility: LogVisibility?
    /// With `allowed_viewers`: the principals that may read the logs besides the controllers.
    public var log_viewers: [String]?
    /// Overrides the idle burn the sim computes from the memory.
    public var idle_cycles_burned_per_day: String?
    public var snapshots: [SnapshotRecord]?
    /// The last snapshot id's counter: ids are never reused, as on the IC (a replaced or deleted
    /// snapshot's id does not come back).
    public var snapshot_counter: UInt64?
    public var logs: [CanisterLogRecord]?
    /// Canned replies, by method: the Candid text a call or query answers with.
    public var replies: [String: String]?
    /// The module's public `candid:service` metadata.
    public var candid_service: String?
    /// The Candid argument the installed module was last given (init or upgrade); nil for none.
    public var install_argument: String?

    public init(
      status: CanisterStatus, cycles: String, module_hash: String?, controllers: [String], memory: Int64,
      freezing_threshold: Int64, wallet: Bool?
    ) {
      self.status = status
      self.cycles = cycles
      self.module_hash = module_hash
      self.controllers = controllers
      self.memory = memory
      self.freezing_threshold = freezing_threshold
      self.wallet = wallet
    }
  }

  /// A snapshot keeps what a restore puts back: the module and the memory.
  public struct SnapshotRecord: Codable, Sendable, Equatable {
    public var id: String
    public var taken_at: UInt64
    public var module_hash: String?
    public var memory: Int64
    /// What the module published then: a restore publishes it again.
    public var candid_service: String?
  }

  public struct IdentityRecord: Codable, Sendable, Equatable {
    public var principal: String
    public var cycles_ledger: String
    /// ICP on the ledger, in e8s (absent: none).
    public var icp_e8s: String?

    public init(principal: String, cycles_ledger: String, icp_e8s: String? = nil) {
      self.principal = principal
      self.cycles_ledger = cycles_ledger
      self.icp_e8s = icp_e8s
    }
  }

  public struct Fault: Codable, Sendable, Equatable {
    public var operation: String
    public var kind: String
    public var times: Int?
    public var canister: String?
    public var code: String?
    public var message: String?
    /// `late`: how long after the timeout the request still lands.
    public var delay_ms: Int?

    public init(
      operation: String, kind: String, times: Int? = nil, canister: String? = nil, code: String? = nil,
      message: String? = nil, delay_ms: Int? = nil
    ) {
      self.operation = operation
      self.kind = kind
      self.times = times
      self.canister = canister
      self.code = code
      self.message = message
      self.delay_ms = delay_ms
    }
  }

  public struct State: Codable, Sendable, Equatable {
    public var identity: String
    public var identities: [String: IdentityRecord]
    public var canisters: [String: CanisterRecord]
    public var faults: [Fault]?
    public var latency_ms: Int?
    /// Requests that timed out but still land (`late` faults), applied once their time comes.
    public var deliveries: [Delivery]?
    /// The cycles one ICP buys at the cycles minting canister (absent: 3_519_900_000_000).
    public var cycles_per_icp: String?
  }

  /// A `late` request's effect, due at `due` (seconds since 1970): cycles as deltas (so a second
  /// send in the meantime is not hidden), everything else as the record's new fields.
  public struct Delivery: Codable, Sendable, Equatable {
    public var due: Double
    public var cycles: [String: String]
    public var ledger: [String: String]
    public var records: [String: CanisterRecord]
    /// ICP (e8s) deltas by identity.
    public var icp: [String: String]?

    public init(
      due: Double, cycles: [String: String], ledger: [String: String], records: [String: CanisterRecord],
      icp: [String: String]? = nil
    ) {
      self.due = due
      self.cycles = cycles
      self.ledger = ledger
      self.records = records
      self.icp = icp
    }
  }

  private let lock = NSLock()
  private var state: State
  /// In plan mode: where canisters not yet known are read from.
  private let source: Backend?
  public let name: String
  public private(set) var identityName: String

  public init(state: State, identity: String? = nil, name: String = "sim", source: Backend? = nil) {
    self.state = state
    self.identityName = identity ?? state.identity
    self.name = name
    self.source = source
  }

  /// A predictor for `plan`: starts empty and reads what it needs from `source` once.
  /// As the backend it predicts deletes (the sim itself returns them to the identity).
  public var deletedCycles: DeletedCycles { source?.deletedCycles ?? .toIdentity }

  public static func predicting(from source: Backend) -> SimulatedIC {
    let empty = State(
      identity: source.identityName, identities: [:], canisters: [:], faults: nil, latency_ms: nil, deliveries: nil)
    return SimulatedIC(state: empty, identity: source.identityName, name: "plan", source: source)
  }

  /// Plan on the sim runs against a copy of its state.
  public func predictor() -> Backend { copy() }

  public func begin(_ session: BackendSession) { lock.withLock { cancellation = session.cancellation } }

  /// A copy whose changes never reach this one (plan on the sim).
  public func copy() -> SimulatedIC {
    let (twin, cancellation) = lock.withLock {
      (SimulatedIC(state: state, identity: identityName, name: name, source: source), self.cancellation)
    }
    twin.lock.withLock { twin.cancellation = cancellation }
    return twin
  }

  public var snapshot: State { lock.withLock { state } }

  /// Injects more faults (a test's later run).
  public func addFaults(_ faults: [Fault]) { lock.withLock { state.faults = (state.faults ?? []) + faults } }

  // MARK: - Files

  /// A state file that does not say exactly what it means.
  public struct StateError: Error, CustomStringConvertible {
    public var description: String
  }

  /// Every fault names a kind and an operation the sim knows (with "did you mean").
  public static func check(faults: [Fault]) throws(StateError) {
    for (i, f) in faults.enumerated() {
      for (field, value, known, what) in [
        ("kind", f.kind, faultKinds, "a fault kind"), ("operation", f.operation, faultOperations, "an operation"),
      ] where !known.contains(value) {
        let guess = closestMatch(to: value, in: known).map { " (did you mean `\($0)`?)" } ?? ""
        throw StateError(
          description:
            "faults[\(i)].\(field) is `\(value.prefix(80))`, not \(what)\(guess); the sim knows \(known.joined(separator: ", "))"
        )
      }
    }
  }

  /// The first key path in `given` that `known` (the same state decoded and encoded again) lacks;
  /// a key given as `null` is an absent optional, not unknown.
  static func unknownKey(_ given: Any, _ known: Any, at path: String) -> String? {
    if let g = given as? [String: Any] {
      let k = known as? [String: Any] ?? [:]
      for key in g.keys.sorted() where !(g[key] is NSNull) {
        let here = path.isEmpty ? key : "\(path).\(key)"
        guard let next = k[key] else { return here }
        if let deeper = unknownKey(g[key] as Any, next, at: here) { return deeper }
      }
    } else if let g = given as? [Any], let k = known as? [Any] {
      for (i, item) in g.enumerated() where i < k.count {
        if let deeper = unknownKey(item, k[i], at: "\(path)[\(i)]") { return deeper }
      }
    }
    return nil
  }

  /// Reads a state file and checks every value: an amount that does not parse is an error naming
  /// its field, never a silent 0.
  public static func load(path: String) throws -> State {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    do { return try decode(data) } catch let error as StateError {
      throw StateError(description: "`\(path)`: \(error.description)")
    }
  }

  /// A state from its JSON, every value checked (a `rbic test` world is one, patched).
  /// The longest wait a world may ask for on each call, and the latest a late request may land.
  public static let maxLatencyMs = 60_000
  public static let maxDelayMs = 86_400_000

  /// The faults the sim knows, by kind and by the operation they hit: anything else in a world or
  /// a test file is an error where it is read, never a fault that silently never fires.
  public static let faultKinds: [String] = [
    "timeout", "late", "echo", "reject", "refund", "exit", "garbled", "silent_forward", "after_send",
    "after_send_signal",
  ]
  public static let faultOperations: [String] = [
    "call", "create", "delete", "delete_snapshot", "icp_balance", "identity", "install", "logs", "mint", "restore",
    "snapshot", "snapshots", "start", "status", "stop", "top_up", "update_settings", "wallet_send",
  ]

  public static func decode(_ data: Data) throws -> State {
    let state = try JSONDecoder().decode(State.self, from: data)
    func fail(_ field: String, _ value: String, _ what: String) -> StateError {
      StateError(description: "\(field) is `\(value.prefix(80))`, not \(what)")
    }
    // A key the state does not have (a typo) is an error, not a world that silently stays the demo.
    if let given = try? JSONSerialization.jsonObject(with: data),
      let known = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(state)),
      let path = unknownKey(given, known, at: "")
    {
      throw StateError(description: "`\(path)` is not part of the sim's state (a misspelled key?)")
    }
    try check(faults: state.faults ?? [])
    // A world is input (a test file in a pull request): its waits are bounded, never a hang.
    if let ms = state.latency_ms, !(0...maxLatencyMs).contains(ms) {
      throw fail("latency_ms", "\(ms)", "a number of milliseconds from 0 to \(maxLatencyMs)")
    }
    for f in state.faults ?? [] {
      if let ms = f.delay_ms, !(0...maxDelayMs).contains(ms) {
        throw fail("a fault's delay_ms", "\(ms)", "a number of milliseconds from 0 to \(maxDelayMs)")
      }
    }
    for (id, c) in state.canisters.sorted(by: { $0.key < $1.key }) {
      guard Principal(text: id) != nil else { throw fail("the canister id", id, "a principal") }
      guard let cycles = Int128(c.cycles), cycles >= 0 else {
        throw fail("canisters.\(id).cycles", c.cycles, "a whole number of cycles")
      }
      if let hash = c.module_hash, ValueFormat.hashBytes(hash) == nil {
        throw fail("canisters.\(id).module_hash", hash, "0x and 64 hex digits")
      }
      for p in c.controllers where Principal(text: p) == nil {
        throw fail("canisters.\(id).controllers", p, "a principal")
      }
      for (field, value) in [
        ("reserved_cycles", c.reserved_cycles), ("reserved_cycles_limit", c.reserved_cycles_limit),
        ("idle_cycles_burned_per_day", c.idle_cycles_burned_per_day),
      ] {
        if let value, (Int128(value) ?? -1) < 0 { throw fail("canisters.\(id).\(field)", value, "a whole number") }
      }
    }
    for (name, i) in state.identities.sorted(by: { $0.key < $1.key }) {
      guard Principal(text: i.principal) != nil else {
        throw fail("identities.\(name).principal", i.principal, "a principal")
      }
      guard let balance = Int128(i.cycles_ledger), balance >= 0 else {
        throw fail("identities.\(name).cycles_ledger", i.cycles_ledger, "a whole number of cycles")
      }
      if let e8s = i.icp_e8s, (Int64(e8s) ?? -1) < 0 {
        throw fail("identities.\(name).icp_e8s", e8s, "a whole number of e8s")
      }
    }
    if let rate = state.cycles_per_icp, (Int128(rate) ?? 0) <= 0 {
      throw fail("cycles_per_icp", rate, "a positive whole number")
    }
    return state
  }

  /// Writes the state atomically: a temporary file beside it, synced, then renamed over it, so a
  /// crash leaves the old state or the new one, never half of one.
  public func save(path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let data = try encoder.encode(snapshot) + Data("\n".utf8)
    do { try FileWriting.replace(path, with: data) } catch { throw StateError(description: error.description) }
  }

  /// Where the state is written after every mutation (`--sim-state`), so the file never lags
  /// behind the journal; nil keeps it in memory. Copies (plan) never persist.
  public var persistPath: String? {
    get { lock.withLock { storedPersistPath } }
    set { lock.withLock { storedPersistPath = newValue } }
  }
  private var storedPersistPath: String?

  /// The seed's worked example (2026-05-12): user-service with 38.8B cycles, the old module, the
  /// CI identity as sole controller; the wdhec wallet with about 11T; 5T on the CI identity's
  /// cycles-ledger account.
  public static let demoWorld: State = {
    let ci = demoPrincipal(seed: 0xC1)
    let oldHash = "0x9ef2676" + String(repeating: "5a", count: 25) + "e98e9f7"
    return State(
      identity: "github-ci",
      identities: [
        "github-ci": IdentityRecord(principal: ci.text, cycles_ledger: "5000000000000"),
        "operator": IdentityRecord(principal: demoPrincipal(seed: 0x0B).text, cycles_ledger: "0"),
      ],
      canisters: [
        "6iu47-dyaaa-aaaaf-qgeza-cai": userService(oldHash, controller: ci),
        "mwutv-4iaaa-aaaac-behda-cai": CanisterRecord(
          status: .running, cycles: "2400000000000", module_hash: "0x" + String(repeating: "3c", count: 32),
          controllers: [ci.text], memory: 2_010_735, freezing_threshold: 2_592_000, wallet: nil),
        "wdhec-2yaaa-aaaao-a6dgq-cai": CanisterRecord(
          status: .running, cycles: "11165000000000", module_hash: "0x" + String(repeating: "77", count: 32),
          controllers: [ci.text], memory: 1_200_000, freezing_threshold: 2_592_000, wallet: true),
      ],
      faults: nil, latency_ms: nil, deliveries: nil)
  }()

  /// user-service as the seed found it; `reset_signing_key` answers with a new public key (a
  /// compressed secp256k1 point), as the seed's Step 5 expects to capture.
  static func userService(_ hash: String, controller: Principal) -> CanisterRecord {
    var r = CanisterRecord(
      status: .running, cycles: "38800000000", module_hash: hash, controllers: [controller.text], memory: 3_580_000,
      freezing_threshold: 2_592_000, wallet: nil)
    let key = [0x02] + (0..<32).map { UInt8(truncatingIfNeeded: 0x5A &+ $0 &* 37) }
    r.candid_service =
      "service : { set_oracle_bridge_url : (text) -> (); reset_signing_key : () -> (blob) }"
    r.replies = [
      "version": "(\"1.3.9\")",
      "reset_signing_key": "(blob \"" + key.map { "\\" + String(format: "%02x", $0) }.joined() + "\")",
    ]
    return r
  }

  /// A deterministic self-authenticating principal (29 bytes ending in 0x02).
  static func demoPrincipal(seed: UInt8) -> Principal {
    Principal(bytes: (0..<28).map { UInt8(truncatingIfNeeded: Int(seed) &* 31 &+ $0 &* 7) } + [0x02])
  }

  // MARK: - Rules

  /// The most mutations of one canister that were ever in flight at once (tests assert 1).
  public var maxConcurrentMutations: Int { lock.withLock { maxInFlight } }
  private var inFlight: [String: Int] = [:]
  private var maxInFlight = 0

  /// Operations that paid the configured latency (for benchmarks).
  public var latencyCalls: Int { lock.withLock { calls } }
  private var calls = 0

  /// Set by `begin` (the run's Ctrl-C): a call waiting out its latency gives up. Guarded by `lock`.
  private var cancellation: Cancellation?

  /// Waits the configured per-call latency, outside the state lock so parallel callers overlap,
  /// in short slices so a cancellation ends the wait.
  private func latency() throws(BackendError) {
    let (ms, cancellation) = lock.withLock { () -> (Int, Cancellation?) in
      calls += 1
      return (state.latency_ms ?? 0, self.cancellation)
    }
    guard (cancellation ?? Cancellation()).sleep(Double(ms) / 1000, slice: 0.02) else {
      throw .unknownOutcome("interrupted while waiting for the IC")
    }
  }

  /// What a matching fault does to one operation.
  private enum Firing {
    case error(BackendError)
    /// Success reported, nothing done (`silent_forward`).
    case silent
    /// Timed out for the caller; lands this many milliseconds later.
    case late(Int)
    /// A call replies with its own argument.
    case echo
    /// The request lands, then the tool fails in a way that proves nothing (a transport error
    /// after submission, a shim's exit code for a signal).
    case afterSend(BackendError)
  }

  /// The first fault matching the operation and canister, with one of its `times` consumed.
  private func fire(_ operation: String, _ canister: Principal?) -> Firing? {
    guard var faults = state.faults,
      let i = faults.firstIndex(where: {
        $0.operation == operation && ($0.canister == nil || $0.canister == canister?.text) && ($0.times ?? 1) > 0
      })
    else { return nil }
    let f = faults[i]
    if let times = f.times { faults[i].times = times - 1 }
    state.faults = faults
    switch f.kind {
    case "timeout": return .error(.unknownOutcome("`\(operation)` timed out"))
    case "late": return .late(f.delay_ms ?? 1000)
    case "echo": return .echo
    case "reject": return .error(.reject(code: f.code ?? "IC0503", message: f.message ?? "the canister trapped"))
    case "refund":
      // The cycles minting canister refunds a mint (the sim does not charge the two ledger fees).
      return .error(.reject(code: ToolOutput.refundCode, message: f.message ?? "the transaction was refunded"))
    case "exit": return .error(.environment("the tool exited with status 255 during `\(operation)`"))
    case "garbled": return .error(.environment("unexpected output from `\(operation)`: `\u{FFFD}\u{FFFD}garbled`"))
    case "silent_forward": return .silent
    case "after_send":
      return .afterSend(.environment(f.message ?? "agent error: The request timed out."))
    case "after_send_signal":
      return .afterSend(.environment("the tool exited with status 130 (a launcher's code for a signal) after sending"))
    default: return .error(.environment("unknown sim fault kind `\(f.kind)`"))
    }
  }

  /// A read's fault: only errors apply to reads.
  private func readFault(_ operation: String, _ canister: Principal?) throws(BackendError) {
    if case .error(let error)? = fire(operation, canister) { throw error }
  }

  private func callerPrincipal() throws(BackendError) -> Principal {
    if state.identities[identityName] == nil, let source {
      let p = try source.identityPrincipal()
      let balance = try source.cyclesBalance()
      state.identities[identityName] = IdentityRecord(principal: p.text, cycles_ledger: String(balance))
    }
    guard let record = state.identities[identityName], let p = Principal(text: record.principal) else {
      throw .notSent("no identity found with name `\(identityName)`")
    }
    return p
  }

  /// In plan mode, what the source has that a status read does not carry, read the first time it
  /// is needed: a canister's snapshots (their modules are not listed, so a predicted restore keeps
  /// the module), the identity's ICP.
  private func snapshotsFromSource(_ r: inout CanisterRecord, _ canister: Principal) throws(BackendError) {
    guard r.snapshots == nil, let source else { return }
    r.snapshots = try source.snapshots(canister).map {
      SnapshotRecord(id: $0.id, taken_at: $0.takenAt, module_hash: nil, memory: $0.size)
    }
    state.canisters[canister.text] = r
  }

  private func icpFromSource() throws(BackendError) -> Int64 {
    _ = try callerPrincipal()
    if let source, state.identities[identityName]?.icp_e8s == nil {
      state.identities[identityName]?.icp_e8s = String(try source.icpBalance())
    }
    return Int64(state.identities[identityName]?.icp_e8s ?? "0") ?? 0
  }

  /// The record of a canister, read from the source in plan mode the first time.
  private func record(_ canister: Principal) throws(BackendError) -> CanisterRecord {
    if let r = state.canisters[canister.text] { return r }
    guard let source else { throw .notFound(canister) }
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

  private func controlled(_ canister: Principal) throws(BackendError) -> CanisterRecord {
    let r = try record(canister)
    let me = try callerPrincipal()
    guard r.controllers.contains(me.text) else { throw .notController(canister: canister, identity: identityName) }
    return r
  }

  /// Runs a mutation under the sim's rules: latency, then the first matching fault, then `body`;
  /// the state is persisted after it. Returns the fault that fired, if any.
  @discardableResult
  private func mutate(
    _ operation: String, _ canister: Principal?, _ body: () throws(BackendError) -> Void
  ) throws(BackendError) -> Firing? {
    let key = canister?.text ?? ""
    lock.withLock {
      inFlight[key, default: 0] += 1
      maxInFlight = max(maxInFlight, inFlight[key] ?? 0)
    }
    defer { lock.withLock { inFlight[key, default: 1] -= 1 } }
    try latency()
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    let firing = fire(operation, canister)
    switch firing {
    case .error(let error)?:
      try persistLocked()  // a fault with `times` was consumed
      throw error
    case .silent?:
      try persistLocked()
      return firing
    case .late(let delay)?:
      // The request times out for the caller but lands `delay` later.
      let before = state
      try body()
      let after = state
      state = before
      var delivery = Delivery(
        due: Date().timeIntervalSince1970 + Double(delay) / 1000, cycles: [:], ledger: [:], records: [:])
      for (id, record) in after.canisters where before.canisters[id] != record {
        delivery.cycles[id] = String(cycles(record) - (before.canisters[id].map(cycles) ?? 0))
        delivery.records[id] = record
      }
      for (name, identity) in after.identities where before.identities[name] != identity {
        let was = Int128(before.identities[name]?.cycles_ledger ?? "0") ?? 0
        delivery.ledger[name] = String((Int128(identity.cycles_ledger) ?? 0) - was)
        let icpWas = Int128(before.identities[name]?.icp_e8s ?? "0") ?? 0
        delivery.icp = (delivery.icp ?? [:]).merging([name: String((Int128(identity.icp_e8s ?? "0") ?? 0) - icpWas)]) {
          $1
        }
      }
      state.deliveries = (state.deliveries ?? []) + [delivery]
      try persistLocked()
      throw .unknownOutcome("`\(operation)` timed out")
    case .echo?, nil:
      try body()
      try persistLocked()
      return firing
    case .afterSend(let error)?:
      try body()
      try persistLocked()
      throw error
    }
  }

  /// Writes the state to `persistPath` (the caller holds the lock). A state that cannot be
  /// written is an environment error: the run stops (exit 3) rather than go on unrecorded.
  private func persistLocked() throws(BackendError) {
    guard let path = storedPersistPath else { return }
    let twin = SimulatedIC(state: state, identity: identityName, name: name)
    do { try twin.save(path: path) } catch { throw .environment("\(error)") }
  }

  /// Applies the late requests whose time has come (the caller holds the lock).
  private func deliverDue() {
    guard let deliveries = state.deliveries, !deliveries.isEmpty else { return }
    let now = Date().timeIntervalSince1970
    for d in deliveries where d.due <= now {
      for (id, var record) in d.records {
        let current = state.canisters[id].map(cycles) ?? 0
        record.cycles = String(current + (Int128(d.cycles[id] ?? "0") ?? 0))
        state.canisters[id] = record
      }
      for (name, delta) in d.ledger {
        let current = Int128(state.identities[name]?.cycles_ledger ?? "0") ?? 0
        state.identities[name]?.cycles_ledger = String(current + (Int128(delta) ?? 0))
      }
      for (name, delta) in d.icp ?? [:] {
        let current = Int128(state.identities[name]?.icp_e8s ?? "0") ?? 0
        state.identities[name]?.icp_e8s = String(current + (Int128(delta) ?? 0))
      }
    }
    let left = deliveries.filter { $0.due > now }
    state.deliveries = left.isEmpty ? nil : left
  }

  private func cycles(_ r: CanisterRecord) -> Int128 { Int128(r.cycles) ?? 0 }

  // MARK: - Backend

  public func identityPrincipal() throws(BackendError) -> Principal {
    lock.lock()
    defer { lock.unlock() }
    try readFault("identity", nil)
    return try callerPrincipal()
  }

  public func status(_ canister: Principal) throws(BackendError) -> CanisterState {
    try latency()
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    try readFault("status", canister)
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
    try readFault("status", canister)
    let r = try record(canister)
    return PublicCanisterInfo(
      controllers: r.controllers.compactMap(Principal.init(text:)),
      moduleHash: r.module_hash.flatMap(ValueFormat.hashBytes))
  }

  public func cyclesBalance() throws(BackendError) -> Int128 {
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    _ = try callerPrincipal()
    return Int128(state.identities[identityName]?.cycles_ledger ?? "0") ?? 0
  }

  public func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode, argument: String?) throws(BackendError) {
    try mutate("install", canister) { () throws(BackendError) in
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
      if let env = InstallArgument.interface(ofModule: wasm), let why = InstallArgument.refusal(argument, for: env) {
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
    try mutate("update_settings", canister) { () throws(BackendError) in
      var r = try controlled(canister)
      var set = r.controllers.filter { c in !remove.contains { $0.text == c } }
      for p in add where !set.contains(p.text) { set.append(p.text) }
      r.controllers = set
      state.canisters[canister.text] = r
    }
  }

  public func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError) {
    try mutate("wallet_send", canister) { () throws(BackendError) in
      var w = try controlled(wallet)
      if source == nil, w.wallet != true {
        throw .reject(code: "IC0536", message: "Canister \(wallet.text) has no update method 'wallet_send'")
      }
      var target = try record(canister)
      guard cycles(w) >= amount else {
        throw .insufficientFunds(
          "wallet \(wallet.text) holds \(ValueFormat.cycles(cycles(w))), cannot send \(ValueFormat.cycles(amount))")
      }
      w.cycles = String(cycles(w) - amount)
      state.canisters[wallet.text] = w
      target = state.canisters[canister.text] ?? target
      target.cycles = String(cycles(target) + amount)
      state.canisters[canister.text] = target
    }
  }

  public func topUp(_ canister: Principal, amount: Int128) throws(BackendError) {
    try mutate("top_up", canister) { () throws(BackendError) in
      _ = try callerPrincipal()
      var target = try record(canister)
      let balance = Int128(state.identities[identityName]?.cycles_ledger ?? "0") ?? 0
      guard balance >= amount else {
        throw .insufficientFunds(
          "failed to top up: Insufficient cycles. Requested: \(ValueFormat.grouped(amount)) cycles, balance: \(balance) cycles."
        )
      }
      state.identities[identityName]?.cycles_ledger = String(balance - amount)
      target.cycles = String(cycles(target) + amount)
      state.canisters[canister.text] = target
    }
  }

  public func start(_ canister: Principal) throws(BackendError) {
    try mutate("start", canister) { () throws(BackendError) in
      var r = try controlled(canister)
      r.status = .running
      state.canisters[canister.text] = r
    }
  }

  public func stop(_ canister: Principal) throws(BackendError) {
    try mutate("stop", canister) { () throws(BackendError) in
      var r = try controlled(canister)
      r.status = .stopped
      state.canisters[canister.text] = r
    }
  }

  /// The management canister (`aaaaa-aa`): what the sim answers of it.
  public static let managementInterface = """
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
    let firing = try mutate("call", canister) { () throws(BackendError) in
      try answering(canister)
    }
    if case .echo? = firing { return argument }
    return lock.withLock { state.canisters[canister.text]?.replies?[method] } ?? "()"
  }

  /// A call made by a wallet (`wallet: true`: a cycles wallet, or icp's proxy canister) with
  /// `amount` of its cycles: the identity must control the wallet (a wallet acts for its
  /// controllers only), the wallet must hold the cycles, and the callee must answer; then the
  /// cycles move from the wallet to the callee (which accepts them all) and the call runs as the
  /// wallet (the sim's canisters answer whoever calls). In plan, seeded from another backend, the
  /// wallet is taken as one. A call's faults apply (`call` on the callee).
  public func call(_ canister: Principal, method: String, argument: String, cycles amount: Int128, wallet: Principal)
    throws(BackendError) -> String
  {
    if canister.text == "aaaaa-aa" {
      throw .reject(code: "IC0536", message: "the sim's management canister takes no cycles with a call")
    }
    let firing = try mutate("call", canister) { () throws(BackendError) in
      var w = try controlled(wallet)
      if source == nil, w.wallet != true {
        throw .reject(code: "IC0536", message: "Canister \(wallet.text) has no update method 'wallet_call128'")
      }
      guard cycles(w) >= amount else {
        throw .insufficientFunds(
          "wallet \(wallet.text) holds \(ValueFormat.cycles(cycles(w))), cannot send \(ValueFormat.cycles(amount)) with the call"
        )
      }
      try answering(canister)
      w.cycles = String(cycles(w) - amount)
      state.canisters[wallet.text] = w
      var target = try record(canister)
      target.cycles = String(cycles(target) + amount)
      state.canisters[canister.text] = target
    }
    if case .echo? = firing { return argument }
    return lock.withLock { state.canisters[canister.text]?.replies?[method] } ?? "()"
  }

  public func metadata(_ canister: Principal, name: String) throws(BackendError) -> String? {
    if let source, lock.withLock({ state.canisters[canister.text] == nil }) {
      return try source.metadata(canister, name: name)
    }
    if canister.text == "aaaaa-aa" { return name == "candid:service" ? Self.managementInterface : nil }
    try latency()
    lock.lock()
    defer { lock.unlock() }
    let r = try record(canister)
    return name == "candid:service" && r.module_hash != nil ? r.candid_service : nil
  }

  /// A query: the canister must exist, have a module and run; nothing changes. In plan on a tool
  /// backend, it is sent to the tool (a read).
  public func query(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    if let source, lock.withLock({ state.canisters[canister.text] == nil }) {
      return try source.query(canister, method: method, argument: argument)
    }
    try latency()
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    if case .echo? = fire("call", canister) { return argument }
    return try answering(canister).replies?[method] ?? "()"
  }

  // MARK: - Lifecycle

  /// The IC's fee for creating a canister on a 13-node subnet, taken from the cycles sent along.
  public static let creationFee: Int128 = 500_000_000_000
  /// The cycles ledger's fee per withdrawal.
  public static let cyclesLedgerFee: Int128 = 100_000_000
  /// The ICP ledger's transfer fee, in e8s.
  public static let icpFee: Int64 = 10_000
  /// Most snapshots a canister may keep.
  public static let snapshotLimit = 10

  private var now: UInt64 { UInt64(max(0, Date().timeIntervalSince1970 * 1e9)) }

  private func ledger(_ name: String) -> Int128 { Int128(state.identities[name]?.cycles_ledger ?? "0") ?? 0 }

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
    try mutate("create", nil) { () throws(BackendError) in
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
    try mutate("delete", canister) { () throws(BackendError) in
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

  public func updateSettings(_ canister: Principal, _ settings: CanisterSettings) throws(BackendError) {
    try mutate("update_settings", canister) { () throws(BackendError) in
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
    try mutate("snapshot", canister) { () throws(BackendError) in
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
    try readFault("snapshots", canister)
    var r = try controlled(canister)
    try snapshotsFromSource(&r, canister)
    return (r.snapshots ?? []).map {
      CanisterSnapshot(id: $0.id, takenAt: $0.taken_at, size: $0.memory)
    }
  }

  public func restoreSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    try mutate("restore", canister) { () throws(BackendError) in
      var r = try stopped(canister, "restoring")
      try snapshotsFromSource(&r, canister)
      guard let snapshot = r.snapshots?.first(where: { $0.id == id }) else {
        throw .reject(code: "IC0408", message: "Could not find the snapshot ID \(id) for canister \(canister.text)")
      }
      if source == nil || snapshot.module_hash != nil {
        r.module_hash = snapshot.module_hash
        r.candid_service = snapshot.candid_service
      }
      r.memory = snapshot.memory
      state.canisters[canister.text] = r
    }
  }

  public func deleteSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    try mutate("delete_snapshot", canister) { () throws(BackendError) in
      var r = try controlled(canister)
      try snapshotsFromSource(&r, canister)
      guard let i = r.snapshots?.firstIndex(where: { $0.id == id }) else {
        throw .reject(code: "IC0408", message: "Could not find the snapshot ID \(id) for canister \(canister.text)")
      }
      r.snapshots?.remove(at: i)
      state.canisters[canister.text] = r
    }
  }

  public func logs(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord] {
    try latency()
    lock.lock()
    defer { lock.unlock() }
    try readFault("logs", canister)
    // Logs change with no effect of the plan's: the source's, but for a canister the plan creates.
    if let source {
      do { return try source.logs(canister) } catch {
        guard case .notFound = error else { throw error }
      }
    }
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

  public func icpBalance() throws(BackendError) -> Int64 {
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    try readFault("icp_balance", nil)
    return try icpFromSource()
  }

  /// The ICP transfer to the cycles minting canister and its notification, as one request: the
  /// sim has no state between them, so a fault hits the whole conversion.
  public func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128 {
    var minted: Int128 = 0
    try mutate("mint", nil) { () throws(BackendError) in
      let balance = try icpFromSource()
      let (needed, overflow) = e8s.addingReportingOverflow(Self.icpFee)
      guard !overflow, balance >= needed else {
        throw .insufficientFunds(
          "Insufficient funds: \(ValueFormat.icp(needed)) required, \(ValueFormat.icp(balance)) available.")
      }
      let rate = state.cycles_per_icp.flatMap { Int128($0) } ?? 3_519_900_000_000
      let (product, o1) = Int128(e8s).multipliedReportingOverflow(by: rate)
      minted = product / 100_000_000
      let (cycles, o2) = ledger(identityName).addingReportingOverflow(minted)
      guard !o1, !o2 else { throw .reject(code: "IC0503", message: "the minted amount overflows") }
      state.identities[identityName]?.icp_e8s = String(balance - needed)
      state.identities[identityName]?.cycles_ledger = String(cycles)
    }
    return minted
  }
}
