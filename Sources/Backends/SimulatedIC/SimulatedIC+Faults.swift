import Foundation
import RbicCheck
import RbicDiagnostics
import RbicRuntime

/// The faults a world injects, `{ operation, kind[, canister, times, code, message, delay_ms] }`,
/// and how each fires. The kind and the operation are enums read from the same strings, so a name
/// the sim does not know is an error where the world or the test file is read, at its place
/// (`faults[0].kind`, with "did you mean"), and so is a kind that cannot happen to its operation
/// (`echo` on `status`): a fault in a world always fires.
///
/// Kinds (`FaultKind`):
/// - `timeout`: the outcome is unknown; nothing applied.
/// - `late`: the outcome is unknown, and the request lands `delay_ms` later (recorded under
///   `deliveries`). A read or a query changes nothing, so there it is a timeout.
/// - `reject`: the IC rejects with `code` (IC0503 when absent) and `message`.
/// - `refund` (`mint` only): the cycles minting canister refunds the ICP, with `message`.
/// - `echo` (`call` only): the canister replies with the argument it was sent.
/// - `exit`: the tool exits non-zero. `garbled`: the tool's output does not parse.
/// - `silent_forward` (not on a read): success reported, nothing delivered (the seed's wdhec bug);
///   a call or a query answers its canned reply without reaching the canister.
/// - `after_send`, `after_send_signal`: the request lands, then the tool fails in a way that proves
///   nothing (a transport error; a launcher's exit 130 for a signal). On a read, the failure alone.
///
/// Operations (`FaultOperation`): the reads `status` (the public view too), `identity`,
/// `snapshots`, `logs` and `icp_balance`; the changes `install`, `update_settings` (controllers
/// too), `wallet_send`, `top_up`, `start`, `stop`, `create`, `delete`, `snapshot`, `restore`,
/// `delete_snapshot` and `mint`; and `call`: every message to a canister, an update call (a
/// wallet's call with cycles too) or a query, which a fault hits alike.
///
/// A fault without `times` fires every time; `canister` limits it to one canister.
extension SimulatedIC {
  /// What a fault does.
  package enum FaultKind: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case timeout, late, echo, reject, refund, exit, garbled
    case silentForward = "silent_forward"
    case afterSend = "after_send"
    case afterSendSignal = "after_send_signal"

    package init(from decoder: any Decoder) throws { self = try SimulatedIC.named(decoder, "a fault kind") }

    package var description: String { rawValue }

    /// Whether this kind can happen to `operation`: a world whose fault cannot is refused.
    package func fits(_ operation: FaultOperation) -> Bool {
      switch self {
      case .echo: operation == .call
      case .refund: operation == .mint
      case .silentForward: !operation.isRead
      case .timeout, .late, .reject, .exit, .garbled, .afterSend, .afterSendSignal: true
      }
    }

    /// The operations `fits` allows, for a message.
    var fitting: String {
      switch self {
      case .echo: "`call`"
      case .refund: "`mint`"
      case .silentForward:
        "operations that change the IC and `call`, not the reads "
          + FaultOperation.allCases.filter(\.isRead).map { "`\($0)`" }.joined(separator: ", ")
      case .timeout, .late, .reject, .exit, .garbled, .afterSend, .afterSendSignal: "every operation"
      }
    }
  }

  /// The operation a fault hits.
  package enum FaultOperation: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case call, create, delete
    case deleteSnapshot = "delete_snapshot"
    case icpBalance = "icp_balance"
    case identity, install, logs, mint, restore, snapshot, snapshots, start, status, stop
    case topUp = "top_up"
    case updateSettings = "update_settings"
    case walletSend = "wallet_send"

    package init(from decoder: any Decoder) throws { self = try SimulatedIC.named(decoder, "an operation") }

    package var description: String { rawValue }

    /// A read changes nothing: a fault there is an error or nothing (`call` is not one: it covers
    /// update calls as well as queries).
    package var isRead: Bool {
      switch self {
      case .status, .identity, .snapshots, .logs, .icpBalance: true
      case .call, .create, .delete, .deleteSnapshot, .install, .mint, .restore, .snapshot, .start, .stop, .topUp,
        .updateSettings, .walletSend:
        false
      }
    }
  }

  package struct Fault: Codable, Sendable, Equatable {
    package var operation: FaultOperation
    package var kind: FaultKind
    package var times: Int?
    package var canister: String?
    package var code: String?
    package var message: String?
    /// `late`: how long after the timeout the request still lands.
    package var delay_ms: Int?

    package init(
      operation: FaultOperation, kind: FaultKind, times: Int? = nil, canister: String? = nil, code: String? = nil,
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

  /// A name from a closed set, read where `decoder` stands: one the sim does not know is an error
  /// at that place, with "did you mean" and the names it knows.
  static func named<Name: RawRepresentable & CaseIterable>(_ decoder: any Decoder, _ what: String) throws -> Name
  where Name.RawValue == String {
    let text = try decoder.singleValueContainer().decode(String.self)
    if let name = Name(rawValue: text) { return name }
    let known = Name.allCases.map(\.rawValue)
    let guess = closestMatch(to: text, in: known).map { " (did you mean `\($0)`?)" } ?? ""
    throw StateError(
      at: PathItem.path(decoder.codingPath),
      "is `\(text.prefix(80))`, not \(what)\(guess); the sim knows \(known.joined(separator: ", "))")
  }

  /// Every fault's kind can happen to its operation (names are checked as they are decoded).
  package static func check(faults: [Fault]) throws(StateError) {
    for (i, f) in faults.enumerated() where !f.kind.fits(f.operation) {
      throw StateError(
        at: [.key("faults"), .index(i), .key("kind")],
        "is `\(f.kind)`, which happens to \(f.kind.fitting) only, not `\(f.operation)`")
    }
  }

  /// A list of faults on its own (a test file's `faults:`), checked as a world's are: an error
  /// names `faults[i]`.
  package static func decodeFaults(_ list: Data) throws -> [Fault] {
    struct Listed: Decodable { var faults: [Fault] }
    let faults = try JSONDecoder().decode(Listed.self, from: Data("{\"faults\":".utf8) + list + Data("}".utf8)).faults
    try check(faults: faults)
    return faults
  }

  // MARK: - Firing

  /// What a matching fault does to one operation.
  enum Firing {
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

  /// The first fault matching the operation and canister, with one of its `times` consumed (the
  /// caller holds the lock). A fault built in code that cannot happen to the operation is an
  /// environment error, never a fault that silently does nothing.
  func fire(_ operation: FaultOperation, _ canister: Principal?) -> Firing? {
    guard var faults = state.faults,
      let i = faults.firstIndex(where: {
        $0.operation == operation && ($0.canister == nil || $0.canister == canister?.text) && ($0.times ?? 1) > 0
      })
    else { return nil }
    let f = faults[i]
    if let times = f.times { faults[i].times = times - 1 }
    state.faults = faults
    firedFault = f.kind
    guard f.kind.fits(operation) else {
      return .error(.environment("the sim's `\(f.kind)` fault cannot happen to `\(operation)`"))
    }
    switch f.kind {
    case .timeout: return .error(.unknownOutcome("`\(operation)` timed out"))
    case .late: return .late(f.delay_ms ?? 1000)
    case .echo: return .echo
    case .reject: return .error(.reject(code: f.code ?? "IC0503", message: f.message ?? "the canister trapped"))
    case .refund:
      // The cycles minting canister refunds a mint (the sim does not charge the two ledger fees).
      return .error(.reject(code: ToolOutput.refundCode, message: f.message ?? "the transaction was refunded"))
    case .exit: return .error(.environment("the tool exited with status 255 during `\(operation)`"))
    case .garbled: return .error(.environment("unexpected output from `\(operation)`: `\u{FFFD}\u{FFFD}garbled`"))
    case .silentForward: return .silent
    case .afterSend:
      return .afterSend(.environment(f.message ?? "agent error: The request timed out."))
    case .afterSendSignal:
      return .afterSend(.environment("the tool exited with status 130 (a launcher's code for a signal) after sending"))
    }
  }

  /// What is left of a fault for a read once its errors are thrown: a query answers with its
  /// argument (`echo`), or with its canned reply without reaching the canister (`silent_forward`).
  enum ReadFiring {
    case echo
    case silent
  }

  /// A read's fault, or a query's (the caller holds the lock). A read changes nothing, so a late
  /// reply is a timeout and a failure after sending is the failure itself.
  @discardableResult
  func readFault(_ operation: FaultOperation, _ canister: Principal?) throws(BackendError) -> ReadFiring? {
    switch fire(operation, canister) {
    case .error(let error)?, .afterSend(let error)?: throw error
    case .late?: throw .unknownOutcome("`\(operation)` timed out")
    case .echo?: return .echo
    case .silent?: return .silent
    case nil: return nil
    }
  }

  // MARK: - Late requests

  /// A `late` fault: `body` runs, and its effect is taken back and recorded under `deliveries`,
  /// due `delay` milliseconds from now (the caller holds the lock).
  func deliverLater(after delay: Int, _ body: () throws(BackendError) -> Void) throws(BackendError) {
    let before = state
    try body()
    let after = state
    state = before
    var delivery = Delivery(
      due: Date().timeIntervalSince1970 + Double(delay) / 1000, cycles: [:], ledger: [:], records: [:])
    for (id, record) in after.canisters where before.canisters[id] != record {
      delivery.cycles[id] = String(Self.difference(cycles(record), before.canisters[id].map(cycles) ?? 0))
      delivery.records[id] = record
    }
    for (name, identity) in after.identities where before.identities[name] != identity {
      let was = Int128(before.identities[name]?.cycles_ledger ?? "0") ?? 0
      delivery.ledger[name] = String(Self.difference(Int128(identity.cycles_ledger) ?? 0, was))
      let icpWas = Int128(before.identities[name]?.icp_e8s ?? "0") ?? 0
      let icp = Self.difference(Int128(identity.icp_e8s ?? "0") ?? 0, icpWas)
      delivery.icp = (delivery.icp ?? [:]).merging([name: String(icp)]) { $1 }
    }
    state.deliveries = (state.deliveries ?? []) + [delivery]
  }

  /// Applies the late requests whose time has come (the caller holds the lock).
  func deliverDue() {
    guard let deliveries = state.deliveries, !deliveries.isEmpty else { return }
    let now = Date().timeIntervalSince1970
    for d in deliveries where d.due <= now {
      for (id, var record) in d.records {
        let current = state.canisters[id].map(cycles) ?? 0
        record.cycles = String(Self.sum(current, Int128(d.cycles[id] ?? "0") ?? 0))
        state.canisters[id] = record
      }
      for (name, delta) in d.ledger {
        let current = Int128(state.identities[name]?.cycles_ledger ?? "0") ?? 0
        state.identities[name]?.cycles_ledger = String(Self.sum(current, Int128(delta) ?? 0))
      }
      for (name, delta) in d.icp ?? [:] {
        let current = Int128(state.identities[name]?.icp_e8s ?? "0") ?? 0
        state.identities[name]?.icp_e8s = String(Self.sum(current, Int128(delta) ?? 0))
      }
    }
    let left = deliveries.filter { $0.due > now }
    state.deliveries = left.isEmpty ? nil : left
  }

  /// `a + b` and `a - b`, held at the bounds: a delivery's deltas come from a state file.
  private static func sum(_ a: Int128, _ b: Int128) -> Int128 {
    let (result, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b < 0 ? .min : .max) : result
  }

  private static func difference(_ a: Int128, _ b: Int128) -> Int128 {
    let (result, overflow) = a.subtractingReportingOverflow(b)
    return overflow ? (b > 0 ? .min : .max) : result
  }
}
