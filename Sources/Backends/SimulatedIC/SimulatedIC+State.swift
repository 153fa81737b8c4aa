import Foundation
import RbicCheck
import RbicRuntime

/// The sim's world as it is stored: a state file (`--sim-state FILE`), a `rbic test` world (the
/// demo world, patched) and what the test double reads and writes. The JSON keys are snake_case
/// because they are the file format, and amounts are decimal strings so no tool rounds them:
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
/// Reading a state checks every value: a key the state does not have, an amount that does not
/// parse, a fault the sim does not know (`SimulatedIC+Faults.swift`) is an error naming its place,
/// never a silent default.
extension SimulatedIC {
  package struct CanisterRecord: Codable, Sendable, Equatable {
    package var status: CanisterStatus
    package var cycles: String
    package var module_hash: String?
    package var controllers: [String]
    package var memory: Int64
    package var freezing_threshold: Int64
    package var wallet: Bool?
    // Settings and figures added with the lifecycle operations; absent in older state files.
    package var memory_allocation: Int64?
    package var reserved_cycles: String?
    package var reserved_cycles_limit: String?
    package var log_visibility: LogVisibility?
    /// With `allowed_viewers`: the principals that may read the logs besides the controllers.
    package var log_viewers: [String]?
    /// Overrides the idle burn the sim computes from the memory.
    package var idle_cycles_burned_per_day: String?
    package var snapshots: [SnapshotRecord]?
    /// The last snapshot id's counter: ids are never reused, as on the IC (a replaced or deleted
    /// snapshot's id does not come back).
    package var snapshot_counter: UInt64?
    package var logs: [CanisterLogRecord]?
    /// Canned replies, by method: the Candid text a call or query answers with.
    package var replies: [String: String]?
    /// The module's public `candid:service` metadata.
    package var candid_service: String?
    /// The Candid argument the installed module was last given (init or upgrade); nil for none.
    package var install_argument: String?

    package init(
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
  package struct SnapshotRecord: Codable, Sendable, Equatable {
    package var id: String
    package var taken_at: UInt64
    package var module_hash: String?
    package var memory: Int64
    /// What the module published then: a restore publishes it again.
    package var candid_service: String?
  }

  package struct IdentityRecord: Codable, Sendable, Equatable {
    package var principal: String
    package var cycles_ledger: String
    /// ICP on the ledger, in e8s (absent: none).
    package var icp_e8s: String?

    package init(principal: String, cycles_ledger: String, icp_e8s: String? = nil) {
      self.principal = principal
      self.cycles_ledger = cycles_ledger
      self.icp_e8s = icp_e8s
    }
  }

  public struct State: Codable, Sendable, Equatable {
    package var identity: String
    package var identities: [String: IdentityRecord]
    package var canisters: [String: CanisterRecord]
    package var faults: [Fault]?
    package var latency_ms: Int?
    /// Requests that timed out but still land (`late` faults), applied once their time comes.
    package var deliveries: [Delivery]?
    /// The cycles one ICP buys at the cycles minting canister (absent: 3_519_900_000_000).
    package var cycles_per_icp: String?
  }

  /// A `late` request's effect, due at `due` (seconds since 1970): cycles as deltas (so a second
  /// send in the meantime is not hidden), everything else as the record's new fields.
  package struct Delivery: Codable, Sendable, Equatable {
    package var due: Double
    package var cycles: [String: String]
    package var ledger: [String: String]
    package var records: [String: CanisterRecord]
    /// ICP (e8s) deltas by identity.
    package var icp: [String: String]?

    package init(
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

  // MARK: - Reading and writing

  /// A state that does not say exactly what it means, with where, when that is one value.
  public struct StateError: Error, CustomStringConvertible {
    public var description: String
    /// The value at fault, from the state's root (`faults`, 0, `kind`); empty when the message
    /// names its place itself or the state as a whole.
    package var path: [PathItem] = []

    package init(description: String) { self.description = description }

    /// `problem` about the value at `path`: "faults[0].kind is …".
    package init(at path: [PathItem], _ problem: String) {
      self.description = PathItem.render(path) + " " + problem
      self.path = path
    }
  }

  /// One step into a JSON value: an object's key or an array's index.
  package enum PathItem: Sendable, Equatable {
    case key(String)
    case index(Int)

    /// A decoder's place as steps. An array's index is the key whose number is not its text
    /// (JSON decoders name it `Index 0`); a dictionary key that reads as a number stays a key.
    static func path(_ codingPath: [any CodingKey]) -> [PathItem] {
      codingPath.map { key in
        if let i = key.intValue, key.stringValue != String(i) { return .index(i) }
        return .key(key.stringValue)
      }
    }

    /// The path as a state's messages write it: `faults[0].kind`, `canisters.ID.cycles`.
    static func render(_ path: [PathItem]) -> String {
      var text = ""
      for item in path {
        switch item {
        case .key(let key): text += text.isEmpty ? key : "." + key
        case .index(let i): text += "[\(i)]"
        }
      }
      return text
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
      var located = error
      located.description = "`\(path)`: \(error.description)"
      throw located
    }
  }

  /// A decoding error in the state's words: where, and what is wrong there.
  static func explain(_ error: DecodingError) -> String {
    func place(_ path: [any CodingKey]) -> String {
      let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      return text.hasPrefix(".") ? String(text.dropFirst()) : text
    }
    switch error {
    case .keyNotFound(let key, let context):
      let at = place(context.codingPath)
      return "`\(at.isEmpty ? "" : at + ".")\(key.stringValue)` is missing"
    case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
      return "`\(place(context.codingPath))` is not a \(type == String.self ? "string" : "\(type)".lowercased())"
    case .dataCorrupted(let context):
      let at = place(context.codingPath)
      return at.isEmpty ? "not JSON (\(context.debugDescription))" : "`\(at)`: \(context.debugDescription)"
    @unknown default:
      return "\(error)"
    }
  }

  /// The longest wait a world may ask for on each call, and the latest a late request may land.
  package static let maxLatencyMs = 60_000
  package static let maxDelayMs = 86_400_000

  /// A state from its JSON, every value checked (a `rbic test` world is one, patched).
  public static func decode(_ data: Data) throws -> State {
    let state: State
    do { state = try JSONDecoder().decode(State.self, from: data) } catch let error as DecodingError {
      throw StateError(description: Self.explain(error))
    }
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
  package func save(path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let data = try encoder.encode(snapshot) + Data("\n".utf8)
    do { try FileWriting.replace(path, with: data) } catch { throw StateError(description: error.description) }
  }

  // MARK: - The demo world

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
}
