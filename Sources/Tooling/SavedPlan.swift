import Foundation
import RbicCheck
import RbicRuntime
import Synchronization

/// A saved plan (`rbic plan FILE --out PLAN`): what a reviewer approves, and what
/// `rbic run --plan PLAN` applies exactly.
///
/// It records the inputs (the runbook's files by sha256, the params, network, identity and its
/// principal, the backend), the state each canister was observed in before anything touched it,
/// and the intent: every effect on canisters (operation, canisters, cycles), the changes per step,
/// and the local effects the plan did not run. Applying it re-plans first and refuses (exit 4,
/// nothing changed) when the inputs, an observed state or the intended effects differ; while it
/// runs, the effect pipeline admits only effects the plan holds (`PlanApproval`).
///
/// One difference is tolerated, by one rule used by the staleness check and by admission alike,
/// because it is how canisters live: a canister's cycles may have fallen since the plan by what it
/// burns idle over the time elapsed (`burnAllowance`), and an effect that sends cycles may then be
/// larger than planned by exactly what its recipient burnt — never another canister's spend (a
/// wallet's own send is not its target's burn).
public struct SavedPlan: Codable, Sendable, Equatable {
  /// The file format; a newer rbic reads older formats, an older one refuses newer.
  package static let currentFormat = 1

  package var format: Int
  public var runbook: String
  public var version: Int64
  /// The main runbook, as given to `rbic plan`.
  public var file: String
  /// Every file the program was read from (the main runbook, its imports, Candid interfaces).
  package var sources: [InputFile]
  /// `--param` values as given, a params file's merged under them (secrets cannot be params; any
  /// secret the run saw is redacted).
  public var params: [String: String]
  /// The params file (`--params FILE`) the params came from, by path and sha256: applying the
  /// plan re-reads it, and a file whose bytes changed since makes the plan stale (nil: none, or a
  /// plan from an rbic that did not record it).
  package var paramsFile: InputFile?
  public var network: String
  public var identity: String
  package var principal: String?
  public var backend: String
  /// When the plan was made (ISO 8601, UTC).
  public var created: String
  package var observed: [Observed]
  package var effects: [PlannedEffect]
  /// Canisters the plan created (their ids predicted): the run's real ids take their place.
  package var createdCanisters: [String]
  /// Local effects (`run`, `http_get`, file writes) the plan showed and did not run.
  public var withheld: [String]
  /// The same, with exactly what each does (a command's argv): applying the plan runs a local
  /// effect only when it is one of these (nil in a plan from an rbic that did not record them: it
  /// runs none).
  package var local: [PlannedEffect]?
  public var steps: [Step]

  /// A canister as the plan first read it. Consumption figures (memory, idle burn, reserved
  /// cycles) move on their own and are not compared; what the run would do with them is.
  package struct Observed: Codable, Sendable, Equatable {
    package var canister: String
    package var status: String
    /// Decimal (cycles do not fit a JSON number exactly everywhere).
    package var cycles: String
    package var hash: String?
    package var controllers: [String]
    package var freezingThreshold: Int64
    package var memoryAllocation: Int64
    package var reservedCyclesLimit: String
    package var logVisibility: String
    /// What it burns a day at rest, decimal: the tolerance for its cycles (nil: 0).
    package var idleBurnPerDay: String?

    package init(_ s: CanisterState) {
      idleBurnPerDay = "\(s.idleBurnPerDay)"
      canister = s.id.text
      status = s.status.rawValue
      cycles = "\(s.cycles)"
      hash = s.moduleHash.map(ValueFormat.hex)
      controllers = s.controllers.map(\.text).sorted()
      freezingThreshold = s.freezingThreshold
      memoryAllocation = s.memoryAllocation
      reservedCyclesLimit = "\(s.reservedCyclesLimit)"
      logVisibility = s.logVisibility.rawValue
    }

    package var cyclesValue: Int128 { Int128(cycles) ?? 0 }
    var idleBurnValue: Int128 { idleBurnPerDay.flatMap { Int128($0) } ?? 0 }
  }

  package struct PlannedEffect: Codable, Sendable, Equatable {
    package var operation: String
    package var canisters: [String]
    /// Cycles it moves, decimal ("0" for none).
    package var amount: String
    package var description: String
    /// Exactly what it does but the amount (`Effect.detail`): what applying the plan must match.
    package var detail: String
    /// The canister whose cycles it raises (`Effect.recipient`): its own burn may grow the amount.
    package var recipient: String?

    package init(_ e: Effect) {
      operation = e.operation
      canisters = e.canisters.map(\.text)
      amount = "\(e.cycles)"
      description = e.description
      detail = e.detail
      recipient = e.recipient?.text
    }

    var amountValue: Int128 { Int128(amount) ?? 0 }
  }

  public struct Step: Codable, Sendable, Equatable {
    package var title: String
    package var outcome: String
    package var reason: String?
    public var changes: [PlannedChange]

    package init(title: String, outcome: String, reason: String?, changes: [PlannedChange]) {
      self.title = title
      self.outcome = outcome
      self.reason = reason
      self.changes = changes
    }

    /// A step as a run recorded it.
    public init(_ s: StepRecord) {
      self.init(
        title: s.title, outcome: s.outcome.rawValue, reason: s.skipReason ?? s.failure,
        changes: s.changes.map(PlannedChange.init))
    }
  }

  public struct PlannedChange: Codable, Sendable, Equatable {
    package var text: String
    package var canister: String?
    package var property: String?
    /// The values' exact JSON (`38800000000`, `"0x9ef2…"` in full).
    package var before: String?
    package var after: String?
    package var action: String?
    package var amount: String?

    package init(_ c: Change) {
      text = c.text
      canister = c.canister?.text
      property = c.property
      before = c.before.map(ValueFormat.json)
      after = c.after.map(ValueFormat.json)
      action = c.action
      amount = c.amount.map { "\($0)" }
    }
  }

  /// The number of changes the plan holds.
  public var changeCount: Int { steps.reduce(0) { $0 + $1.changes.count } }

  // MARK: - Files

  public enum Failure: Error, CustomStringConvertible {
    case unreadable(String)
    case malformed(String, String)
    case newerFormat(String, Int)
    public var description: String {
      switch self {
      case .unreadable(let p): "cannot read the plan `\(p)`"
      case .malformed(let p, let why): "`\(p)` is not an rbic plan (\(why))"
      case .newerFormat(let p, let f):
        "`\(p)` is a plan of format \(f), newer than this rbic reads (\(SavedPlan.currentFormat)); use the rbic that made it"
      }
    }
  }

  /// A plan file and its id (`id(of:)` its bytes).
  public static func load(path: String) throws(Failure) -> (plan: SavedPlan, id: String) {
    guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
    return (try decode(data, path: path), id(of: data))
  }

  public static func decode(_ data: Data, path: String) throws(Failure) -> SavedPlan {
    struct Header: Decodable { var format: Int }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let header: Header
    do { header = try decoder.decode(Header.self, from: data) } catch {
      throw .malformed(path, "no `format` field")
    }
    guard header.format <= currentFormat else { throw .newerFormat(path, header.format) }
    let plan: SavedPlan
    do { plan = try decoder.decode(SavedPlan.self, from: data) } catch {
      throw .malformed(path, Self.reasonText(error))
    }
    // Amounts are decimal text: each must be a whole number of cycles in range, so nothing computed
    // from a plan file (sums, differences) can overflow.
    let amounts =
      plan.observed.flatMap {
        [
          ("observed.\($0.canister).cycles", $0.cycles),
          ("observed.\($0.canister).reserved_cycles_limit", $0.reservedCyclesLimit),
        ]
      }
      + plan.effects.enumerated().map { ("effects[\($0.offset)].amount", $0.element.amount) }
    for (field, text) in amounts {
      guard let n = Int128(text), n >= 0, n <= maxAmount else {
        throw .malformed(path, "`\(field)` is `\(text.prefix(40))`, not a whole number of cycles")
      }
    }
    return plan
  }

  /// The largest amount a plan may hold (the lexer's largest cycles literal).
  static let maxAmount = Int128(UInt64.max) * 1_000_000_000_000

  /// A decoding error as one line: which field, what was wrong.
  package static func reasonText(_ error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ c: DecodingError.Context) -> String {
      c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
    switch e {
    case .keyNotFound(let key, let c): return "missing `\(path(c)).\(key.stringValue)`"
    case .typeMismatch(_, let c), .valueNotFound(_, let c): return "`\(path(c))`: \(c.debugDescription)"
    case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not JSON" : "`\(path(c))`: \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
  }

  /// Pretty JSON, keys sorted, so a plan reads and diffs well in review.
  public func encoded() -> Data {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return ((try? encoder.encode(self)) ?? Data("{}".utf8)) + Data("\n".utf8)
  }

  /// A short id for the plan: the first 12 hex digits of its file's sha256.
  public static func id(of data: Data) -> String {
    String(ValueFormat.hex(Hashing.sha256(Array(data))).dropFirst(2).prefix(12))
  }

  // MARK: - Staleness

  /// Why a fresh plan of the same runbook no longer matches this one; empty when it still does.
  /// Inputs first (the runbook, params, network, identity), then each observed canister, then the
  /// intended effects.
  public func differences(from now: SavedPlan) -> [String] {
    var out: [String] = []
    let before = Dictionary(sources.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
    let after = Dictionary(now.sources.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
    for path in Set(before.keys).union(after.keys).sorted() where before[path] != after[path] {
      out.append(
        before[path] == nil
          ? "`\(path)` is read now and was not when planned"
          : after[path] == nil ? "`\(path)` is no longer read" : "`\(path)` changed since the plan")
    }
    if params != now.params {
      for name in Set(params.keys).union(now.params.keys).sorted() where params[name] != now.params[name] {
        out.append(
          "param `\(name)` was \(params[name].map { "`\($0)`" } ?? "not given"), is \(now.params[name].map { "`\($0)`" } ?? "not given") now"
        )
      }
    }
    if paramsFile != now.paramsFile {
      out.append(Self.paramsFileDifference(paramsFile, now.paramsFile))
    }
    for (what, a, b) in [
      ("network", network, now.network), ("identity", identity, now.identity), ("backend", backend, now.backend),
    ]
    where a != b {
      out.append("the plan was made for \(what) `\(a)`; this run is on `\(b)`")
    }
    if principal != now.principal {
      out.append(
        "identity `\(identity)` was principal \(principal ?? "?") when planned, is \(now.principal ?? "?") now")
    }
    let at = Self.date(now.created) ?? Date()
    out += observedDifferences(now.observed, at: at)
    out += effectDifferences(now, at: at)
    return out
  }

  /// Why the params file now is not the plan's: its bytes changed, it cannot be read, or one of
  /// the two has none.
  private static func paramsFileDifference(_ then: InputFile?, _ now: InputFile?) -> String {
    switch (then, now) {
    case (let then?, let now?) where then.path == now.path:
      return
        "the params file `\(then.path)` changed since the plan (sha256 \(then.sha256.prefix(12))… then, \(now.sha256.prefix(12))… now)"
    case (let then?, let now?):
      return "the plan's params came from `\(then.path)`; this run's from `\(now.path)`"
    case (let then?, nil):
      return "the params file `\(then.path)` the plan was made with cannot be read now"
    case (nil, let now?):
      return "the plan was made without a params file; this run reads `\(now.path)`"
    case (nil, nil):
      return "the params file is unchanged"
    }
  }

  private func observedDifferences(_ now: [Observed], at nowDate: Date) -> [String] {
    var out: [String] = []
    let current = Dictionary(now.map { ($0.canister, $0) }, uniquingKeysWith: { a, _ in a })
    for then in observed {
      guard let n = current[then.canister] else {
        out.append("\(then.canister) was read by the plan and is not now (the runbook took another path)")
        continue
      }
      let c = then.canister
      if let why = Self.cyclesDrift(then.cyclesValue, n.cyclesValue, allowance: burnAllowance(then, at: nowDate)) {
        out.append("\(c): \(why)")
      }
      let fields: [(String, String, String)] = [
        ("status", then.status, n.status), ("module hash", then.hash ?? "none", n.hash ?? "none"),
        ("controllers", then.controllers.joined(separator: ", "), n.controllers.joined(separator: ", ")),
        ("freezing threshold", "\(then.freezingThreshold) s", "\(n.freezingThreshold) s"),
        ("memory allocation", "\(then.memoryAllocation)", "\(n.memoryAllocation)"),
        ("reserved cycles limit", then.reservedCyclesLimit, n.reservedCyclesLimit),
        ("log visibility", then.logVisibility, n.logVisibility),
      ]
      for (name, a, b) in fields where a != b { out.append("\(c): \(name) was \(a), is \(b) now") }
    }
    let known = Set(observed.map(\.canister))
    for n in now where !known.contains(n.canister) {
      out.append("\(n.canister) is read now and was not when planned (the runbook takes another path)")
    }
    return out
  }

  /// When the plan was made.
  var createdDate: Date? { Self.date(created) }

  static func date(_ text: String) -> Date? { ISO8601DateFormatter().date(from: text) }

  /// The one tolerance: what `canister` may have burnt since the plan was made, at the idle burn
  /// the plan read, by `now` (rounded up; a canister that burns nothing may lose nothing).
  package func burnAllowance(_ canister: Observed, at now: Date) -> Int128 {
    let elapsed = max(0, now.timeIntervalSince(createdDate ?? now))
    let (product, overflow) = canister.idleBurnValue.multipliedReportingOverflow(by: Int128(elapsed.rounded(.up)))
    return overflow ? Int128.max : (product + 86_399) / 86_400
  }

  /// What an effect may move beyond the plan's amount: what its recipient burnt since the plan
  /// (its cycles then, less `nowCycles`), when that is within the recipient's allowance; else 0.
  package func allowedIncrease(recipient: String?, nowCycles: Int128?, at now: Date) -> Int128 {
    guard let recipient, let nowCycles, let then = observed.first(where: { $0.canister == recipient }) else {
      return 0
    }
    let burnt = then.cyclesValue - nowCycles
    return burnt > 0 && burnt <= burnAllowance(then, at: now) ? burnt : 0
  }

  /// nil when `now` is `then` or lower by no more than the canister's burn `allowance`.
  package static func cyclesDrift(_ then: Int128, _ now: Int128, allowance: Int128) -> String? {
    if now == then { return nil }
    if now > then {
      return "cycles rose from \(ValueFormat.grouped(then)) to \(ValueFormat.grouped(now)) (someone topped it up)"
    }
    if then - now <= allowance { return nil }
    return
      "cycles fell from \(ValueFormat.grouped(then)) to \(ValueFormat.grouped(now)), more than its idle burn since the plan explains (\(ValueFormat.grouped(allowance)))"
  }

  private func effectDifferences(_ now: SavedPlan, at date: Date) -> [String] {
    let planned = effects.map { e in (e, Self.key(e, createdCanisters)) }
    var remaining = now.effects.map { e in (effect: e, key: Self.key(e, now.createdCanisters)) }
    let current = Dictionary(now.observed.map { ($0.canister, $0.cyclesValue) }, uniquingKeysWith: { a, _ in a })
    var out: [String] = []
    var unmatched: [PlannedEffect] = []
    for (e, key) in planned {
      let drift = allowedIncrease(recipient: e.recipient, nowCycles: e.recipient.flatMap { current[$0] }, at: date)
      let found = Self.take(from: &remaining, key: key) {
        Self.admissible($0.amountValue, planned: e.amountValue, drift: drift)
      }
      if found == nil { unmatched.append(e) }
    }
    for e in unmatched {
      // The same operation on the same canisters, done differently now: say what differs (the
      // module's sha256, the amount), not only that it would not be done.
      if let i = remaining.firstIndex(where: {
        $0.effect.operation == e.operation
          && $0.effect.canisters.map { Self.normal(text: $0, now.createdCanisters) }
            == e.canisters.map { Self.normal(text: $0, createdCanisters) }
      }) {
        let n = remaining.remove(at: i).effect
        var what: [String] = []
        if Self.normal(text: n.detail, now.createdCanisters) != Self.normal(text: e.detail, createdCanisters) {
          what.append("it was \"\(e.detail)\", it is \"\(n.detail)\" now")
        }
        if n.amountValue != e.amountValue {
          what.append(
            "it moved \(ValueFormat.cycles(e.amountValue, exact: true)), it would move \(ValueFormat.cycles(n.amountValue, exact: true)) now"
          )
        }
        out.append("the plan's \(e.description) changed: \(what.joined(separator: "; "))")
      } else {
        out.append("the plan would \(e.description); it would not now")
      }
    }
    for r in remaining { out.append("it would now \(r.effect.description), which the plan did not") }
    // A local effect the plan showed and did not run is part of what was reviewed: exactly it.
    let before = (local ?? []).map { Self.key($0, createdCanisters) }
    let after = (now.local ?? []).map { Self.key($0, now.createdCanisters) }
    if before != after {
      for (w, k) in zip(now.local ?? [], after) where !before.contains(k) {
        out.append("it would now \(w.description), which the plan did not show")
      }
      for (w, k) in zip(local ?? [], before) where !after.contains(k) {
        out.append("the plan showed \(w.description); it would not now")
      }
    }
    return out
  }

  /// Takes out of `list` the first effect with `key` that `fits`; nil when there is none.
  static func take(
    from list: inout [(effect: PlannedEffect, key: [String])], key: [String], where fits: (PlannedEffect) -> Bool
  ) -> PlannedEffect? {
    guard let i = list.firstIndex(where: { $0.key == key && fits($0.effect) }) else { return nil }
    return list.remove(at: i).effect
  }

  /// What an effect must match, created canisters standing for their place in the order of
  /// creation (their ids are predicted in a plan): operation, canisters and detail.
  static func key(_ e: PlannedEffect, _ created: [String]) -> [String] {
    [e.operation, normal(text: e.detail, created)] + e.canisters.map { normal(text: $0, created) }
  }

  /// `text` with each created canister's id replaced by `created#N`.
  static func normal(text: String, _ created: [String]) -> String {
    var out = text
    for (i, id) in created.enumerated() where !id.isEmpty {
      out = out.replacingOccurrences(of: id, with: "created#\(i)")
    }
    return out
  }

  /// An amount matches the planned one when equal, or larger by no more than `drift` (what the
  /// canisters burnt since).
  package static func admissible(_ amount: Int128, planned: Int128, drift: Int128) -> Bool {
    amount >= planned && amount - planned <= max(0, drift)
  }
}

/// Applying a saved plan: the effect pipeline asks `admit` before every effect on canisters, so a
/// run under a plan does exactly what the plan holds, or stops (exit 4) at the first effect it
/// does not. Canisters the plan created are matched, in order, with the ones this run creates.
package final class PlanApproval: EffectAdmission {
  public let plan: SavedPlan
  /// The plan file's id (`SavedPlan.id(of:)`), journaled with the run.
  package let id: String
  /// The plan's effects not yet done, each with its key (`SavedPlan.key`).
  private let remaining: Mutex<[(effect: SavedPlan.PlannedEffect, key: [String])]>
  /// The local effects the plan showed, not yet run.
  private let remainingLocal: Mutex<[(effect: SavedPlan.PlannedEffect, key: [String])]>

  public init(plan: SavedPlan, id: String) {
    self.plan = plan
    self.id = id
    remaining = Mutex(plan.effects.map { ($0, SavedPlan.key($0, plan.createdCanisters)) })
    remainingLocal = Mutex((plan.local ?? []).map { ($0, SavedPlan.key($0, plan.createdCanisters)) })
  }

  /// nil when the plan showed exactly this local effect (it is then used up), else why not.
  package func admitLocal(_ effect: Effect, created: [Principal]) -> String? {
    let key = SavedPlan.key(SavedPlan.PlannedEffect(effect), created.map(\.text))
    let found = remainingLocal.withLock { list in SavedPlan.take(from: &list, key: key) { _ in true } }
    return found == nil ? "\(effect.description) is not in the plan \(id)" : nil
  }

  /// nil when the plan holds `effect` (it is then used up), else why not. `created` are the
  /// canisters this run created, in order (they stand for the plan's predicted ones); `current`
  /// gives the run's latest read of a canister, for what it burnt since the plan.
  package func admit(_ effect: Effect, created: [Principal], current: (Principal) -> CanisterState?) -> String? {
    let key = SavedPlan.key(SavedPlan.PlannedEffect(effect), created.map(\.text))
    let drift = plan.allowedIncrease(
      recipient: effect.recipient?.text, nowCycles: effect.recipient.flatMap(current)?.cycles, at: Date())
    let found = remaining.withLock { list in
      SavedPlan.take(from: &list, key: key) {
        SavedPlan.admissible(effect.cycles, planned: $0.amountValue, drift: drift)
      }
    }
    return found == nil ? "\(effect.description) is not in the plan \(id)" : nil
  }

  /// Effects the plan holds that the run has not done (a run that stopped early).
  public var unapplied: [SavedPlan.PlannedEffect] { remaining.withLock { $0.map(\.effect) } }
}

extension SavedPlan {
  /// The plan a `plan`-mode run of `program` with `options` made (its params, params file and
  /// network are the options').
  public init(
    program: CheckedProgram, result: RunResult, file: String, options: RunOptions, identity: String, backend: String
  ) {
    self.init(
      program: program, result: result, file: file, params: options.params, paramsFile: options.paramsFile,
      network: options.networkName(for: program), identity: identity, backend: backend)
  }

  /// The plan a `plan`-mode run of `program` made.
  package init(
    program: CheckedProgram, result: RunResult, file: String, params: [String: String], paramsFile: InputFile? = nil,
    network: String, identity: String, backend: String, created: Date = Date()
  ) {
    format = SavedPlan.currentFormat
    runbook = result.runbook
    version = result.version
    self.file = file
    sources = program.files.files.map {
      InputFile(path: $0.path, bytes: $0.bytes)
    }
    self.params = params
    self.paramsFile = paramsFile
    self.network = network
    self.identity = identity
    principal = result.principal
    self.backend = backend
    self.created = ISO8601DateFormatter().string(from: created)
    observed = result.record.observed.map(Observed.init)
    effects = result.record.effects.map(PlannedEffect.init)
    createdCanisters = result.record.created.map(\.text)
    withheld = result.record.withheld
    local = result.record.withheldEffects.map(PlannedEffect.init)
    steps = result.steps.map(Step.init)
  }
}

extension Engine {
  /// Checks `plan` against now: the program is planned again, quietly, with the plan's params
  /// against `backend`, and compared (`SavedPlan.differences`; `options.paramsFile` is the plan's
  /// params file as read now); a plan that would move more cycles
  /// than the ceiling is refused too. With no reasons, the caller runs with the returned options:
  /// the plan's params, `approval` set (only the plan's effects are admitted) and `primedStates`
  /// set to the states just read (so the run does not read them again).
  package func check(
    _ plan: SavedPlan, id: String, program: CheckedProgram, backend: Backend, options: RunOptions, file: String,
    network: String, identity: String, backendName: String
  ) -> (reasons: [String], run: RunOptions, approval: PlanApproval) {
    var quiet = options
    quiet.mode = .plan
    quiet.params = plan.params
    quiet.print = { _ in }
    quiet.progress = { _ in }
    quiet.stepStarted = { _ in }
    quiet.journal = nil
    quiet.approval = nil
    let fresh = run(program, backend: backend, options: quiet)
    let now = SavedPlan(
      program: program, result: fresh, file: file, params: plan.params, paramsFile: options.paramsFile,
      network: network, identity: identity, backend: backendName)
    var reasons = plan.differences(from: now)
    if let failure = fresh.failure, fresh.exitCode != 0 {
      reasons.append("planning again fails: \(failure.diagnostic.message)")
    }
    let total = plan.effects.reduce(Int128(0)) { sum, e in
      let (next, overflow) = sum.addingReportingOverflow(e.amountValue)
      return overflow ? Int128.max : next
    }
    if total > options.cyclesCeiling {
      reasons.append(
        "the plan moves \(ValueFormat.cycles(total)), above this run's ceiling of \(ValueFormat.cycles(options.cyclesCeiling))"
      )
    }
    var run = options
    run.params = plan.params
    let approval = PlanApproval(plan: plan, id: id)
    run.approval = approval
    run.primedStates = fresh.record.observed
    return (reasons, run, approval)
  }
}
