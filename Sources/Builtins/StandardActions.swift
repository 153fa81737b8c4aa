import Foundation
import RbicRuntime

/// The standard actions (DESIGN §2.5) as ordinary registry entries: each decides what to do from
/// its request and acts through `context.act`, the same path a host's action takes, so the gates,
/// the ceiling reservation, the locks, the journal and plan prediction apply to all alike.
///
/// Whether a wallet or the cycles ledger holds enough is the ledger's answer, not a read before
/// the send: the send is reserved against the ceiling first (so a typo like `1000T` is refused
/// before anything), and "insufficient funds" makes the action not apply (the next `or` action is
/// tried). That also saves a status read per send.
///
/// The wallet and top-up amount is the deficit plus a margin of 1% of the target (at least 1B
/// cycles), so that idle burn between the send and the re-check does not leave the canister just
/// short. `amount A` overrides it.
enum StandardActions {
  static func register(into r: inout Registry) {
    r.register(
      ActionSignature(
        "wallet", converges: [.comparison(.cycles, .atLeast), .comparison(.freezeIn, .atLeast)],
        positional: BuiltinParameter("wallet", .wallet),
        positionalRequired: true, labeled: [BuiltinParameter("amount", .cycles)],
        summary: "sends the deficit plus a margin from a cycles wallet (`wallet_send`)", body: wallet))
    r.register(
      ActionSignature(
        "top_up", converges: [.comparison(.cycles, .atLeast), .comparison(.freezeIn, .atLeast)],
        labeled: [BuiltinParameter("amount", .cycles)],
        summary: "tops up from the identity's cycles-ledger balance (`icp canister top-up`)", body: topUp))
    r.register(
      ActionSignature(
        "install", converges: [.comparison(.hash, .equal)], positional: BuiltinParameter("wasm", .path),
        positionalRequired: true, labeled: [BuiltinParameter("mode", .text)],
        words: ["mode": InstallChoice.allCases.map(\.rawValue)],
        summary: "installs when empty, upgrades when the hash differs; `mode reinstall` only when written",
        body: install))
    r.register(
      ActionSignature(
        "add_controllers", converges: [.comparison(.controllers, .contains)],
        summary: "adds exactly the missing controllers",
        body: { request, context throws(RuntimeError) in
          try controllers(request, context, exact: false)
        }))
    r.register(
      ActionSignature(
        "set_controllers", converges: [.comparison(.controllers, .equal)],
        summary: "adds and removes controllers to match exactly; never leaves none or drops the acting identity",
        body: { request, context throws(RuntimeError) in try controllers(request, context, exact: true) }))
    r.register(
      ActionSignature(
        "update_settings",
        converges: [
          .comparison(.freezingThreshold, .equal), .comparison(.freezingThreshold, .atLeast),
          .comparison(.memoryAllocation, .equal), .comparison(.memoryAllocation, .atLeast),
          .comparison(.reservedCyclesLimit, .equal), .comparison(.reservedCyclesLimit, .atLeast),
          .comparison(.logVisibility, .equal),
        ],
        summary: "sets the setting to the value the condition names; an extreme freezing threshold is always asked",
        body: updateSettings))
    register(status: .running, "start", into: &r) { (b, c) throws(BackendError) in try b.start(c) }
    register(status: .stopped, "stop", into: &r) { (b, c) throws(BackendError) in try b.stop(c) }
  }

  /// `start` and `stop`: each makes the canister reach one status through one backend operation.
  static func register(
    status: CanisterStatus, _ name: String, into r: inout Registry,
    _ operation: @escaping @Sendable (Backend, Principal) throws(BackendError) -> Void
  ) {
    r.register(
      ActionSignature(
        name, converges: [.comparison(.status, .equal)], requiredStatus: status.rawValue,
        summary: "\(name)s the canister",
        body: { request, context throws(RuntimeError) in
          try context.act(
            Effect(name, target: .canisters([request.canister]), description: "\(name) \(request.canister.text)"),
            summary: "\(context.verb)\(name)"
          ) { (b) throws(BackendError) in try operation(b, request.canister) }
        }))
  }

  static func margin(for target: Int128) -> Int128 { max(target / 100, 1_000_000_000) }

  /// The cycles to send: `amount` when given, else the deficit plus the margin. For `freeze_in`
  /// the deficit is the cycles the canister burns idle over the missing time.
  static func amount(_ request: ActionRequest, _ context: BuiltinContext) throws(RuntimeError) -> Int128 {
    if case .cycles(let explicit)? = request.labeled["amount"] { return explicit }
    var current: Int128
    var wanted: Int128
    switch (request.current, request.wanted) {
    case (.cycles(let c), .cycles(let w)): (current, wanted) = (c, w)
    case (.duration, .duration(let want)):
      // Frozen below the threshold's cycles; `freeze_in` counts the idle burn beyond them.
      let state = try context.state(of: request.canister)
      guard state.idleBurnPerDay > 0 else {
        throw .message(.failed, "the canister burns nothing idle; it never freezes")
      }
      let (burn, overflow) = Int128(want).multipliedReportingOverflow(by: state.idleBurnPerDay)
      guard !overflow else { throw .message(.failed, "overflow computing the cycles to send") }
      current = state.cycles
      wanted = state.freezingThresholdCycles + burn / 86_400_000_000_000 + 1
    default:
      throw .message(.failed, "a cycles action needs a cycles or freeze_in condition")
    }
    let (deficit, o1) = wanted.subtractingReportingOverflow(current)
    let (strict, o2) = deficit.addingReportingOverflow(request.comparison == .greater ? 1 : 0)
    let (total, o3) = strict.addingReportingOverflow(margin(for: wanted))
    guard !(o1 || o2 || o3) else { throw .message(.failed, "overflow computing the cycles to send") }
    return total
  }

  static let wallet: ActionBody = { request, context throws(RuntimeError) in
    let amount = try amount(request, context)
    guard case .principal(let wallet)? = request.value else { throw .message(.failed, "`wallet` needs a wallet") }
    let send = "send \(ValueFormat.cycles(amount, exact: true)) from wallet \(wallet.text) to \(request.canister.text)"
    return try context.act(
      Effect(
        "wallet_send", target: .canisters([request.canister, wallet]), description: send, cycles: amount,
        detail: "send from wallet \(wallet.text) to \(request.canister.text)", recipient: request.canister),
      summary: "wallet \(wallet.text) (\(context.verb)send \(ValueFormat.cycles(amount)))"
    ) { (b) throws(BackendError) in try b.walletSend(wallet: wallet, to: request.canister, amount: amount) }
  }

  static let topUp: ActionBody = { request, context throws(RuntimeError) in
    let amount = try amount(request, context)
    return try context.act(
      Effect(
        "top_up", target: .canisters([request.canister]),
        description:
          "top up \(request.canister.text) with \(ValueFormat.cycles(amount, exact: true)) from the cycles ledger",
        cycles: amount, detail: "top up \(request.canister.text) from the cycles ledger", recipient: request.canister),
      summary: "top_up (\(context.verb)transfer \(ValueFormat.cycles(amount)) from the cycles ledger)"
    ) { (b) throws(BackendError) in try b.topUp(request.canister, amount: amount) }
  }

  /// `mode` words of `install`.
  enum InstallChoice: String, CaseIterable {
    case auto, install, upgrade, reinstall
  }

  static let install: ActionBody = { request, context throws(RuntimeError) in
    guard case .path(let path)? = request.value else { throw .message(.failed, "`install` needs the module's path") }
    guard let data = context.contents(of: path) else {
      throw .message(.environment, "cannot read the module `\(path)`")
    }
    let bytes = Array(data)
    let hash = Hashing.sha256(bytes)
    guard case .hash(let wanted) = request.wanted, wanted == hash else {
      throw .message(
        .failed,
        "the module `\(path)` hashes to \(ValueFormat.shortHash(hash)), not the expected \(ValueFormat.display(request.wanted)); refusing to install it"
      )
    }
    var choice = InstallChoice.auto
    if case .text(let word)? = request.labeled["mode"], let c = InstallChoice(rawValue: word) { choice = c }
    let mode: InstallMode =
      switch choice {
      case .install: .install
      case .upgrade: .upgrade
      case .reinstall: .reinstall
      case .auto: request.current == .none ? .install : .upgrade
      }
    let canister = request.canister
    let effect =
      mode == .reinstall
      ? Effect(
        "install", target: .canisters([canister]),
        description: "REINSTALL \(canister.text) (wipes its state) with \(path)", alwaysConfirm: true,
        detail: "reinstall \(canister.text) with module sha256 \(ValueFormat.hex(hash))", replacesModule: true)
      : Effect(
        "install", target: .canisters([canister]), description: "\(mode.rawValue) \(path) on \(canister.text)",
        detail: "\(mode.rawValue) \(canister.text) with module sha256 \(ValueFormat.hex(hash))", replacesModule: true)
    return try context.act(effect, summary: "\(context.verb)\(mode.rawValue) \(path)") { (b) throws(BackendError) in
      try b.install(canister, wasm: bytes, mode: mode)
    }
  }

  /// `add_controllers` (exact: false) adds the missing ones; `set_controllers` also removes the
  /// others, never leaving none and never removing the acting identity.
  static func controllers(_ request: ActionRequest, _ context: BuiltinContext, exact: Bool) throws(RuntimeError)
    -> ActionResult
  {
    guard case .list(let currentValues) = request.current else { throw .message(.failed, "no controllers read") }
    let current = currentValues.compactMap { if case .principal(let p) = $0 { p } else { nil } }
    let wanted: [Principal]
    switch request.wanted {
    case .principal(let p): wanted = [p]
    case .list(let items): wanted = items.compactMap { if case .principal(let p) = $0 { p } else { nil } }
    default: throw .message(.failed, "controllers must be principals")
    }
    let canister = request.canister
    let add = wanted.filter { !current.contains($0) }
    var remove: [Principal] = []
    if exact {
      guard !wanted.isEmpty else {
        throw .message(.refused, "refused: `set_controllers` would leave \(canister.text) with no controller")
      }
      remove = current.filter { !wanted.contains($0) }
      let me = try context.identityPrincipal()
      if remove.contains(me) {
        throw .message(
          .refused,
          "refused: `set_controllers` would remove the acting identity `\(context.identityName)` (\(me.text)) from \(canister.text)"
        )
      }
    }
    var parts: [String] = []
    if !add.isEmpty { parts.append("add " + add.map(\.text).joined(separator: ", ")) }
    if !remove.isEmpty { parts.append("remove " + remove.map(\.text).joined(separator: ", ")) }
    let name = exact ? "set_controllers" : "add_controllers"
    return try context.act(
      Effect(
        "update_settings", target: .canisters([canister]),
        description: "\(parts.joined(separator: "; ")) as controllers of \(canister.text)"),
      summary: "\(name) (\(context.verb)\(parts.joined(separator: "; ")))"
    ) { (b) throws(BackendError) in try b.updateControllers(canister, add: add, remove: remove) }
  }

  /// The freezing thresholds the tools ask about before setting (dfx's
  /// `--confirm-very-short-freezing-threshold` / `--confirm-very-long-freezing-threshold`).
  static let shortFreezingThreshold: Int64 = 604_800
  static let longFreezingThreshold: Int64 = 50_000_000

  static let updateSettings: ActionBody = { request, context throws(RuntimeError) in
    var settings = CanisterSettings()
    var extreme: String?
    let shown: String
    switch (request.property, request.wanted) {
    case (.freezingThreshold, .duration(let ns)):
      let seconds = ns / 1_000_000_000
      guard seconds >= 0 else { throw .message(.failed, "a freezing threshold cannot be negative") }
      settings.freezingThreshold = seconds
      if seconds < shortFreezingThreshold {
        extreme = "a freezing threshold under a week leaves almost no time to top up before the canister is frozen"
      } else if seconds > longFreezingThreshold {
        extreme =
          "a freezing threshold over 50_000_000 s (about 19 months) freezes the canister while it still holds cycles for months"
      }
      shown = "freezing threshold \(ValueFormat.duration(ns))"
    case (.memoryAllocation, .bytes(let b)):
      settings.memoryAllocation = b
      shown = "memory allocation \(ValueFormat.display(.bytes(b)))"
    case (.reservedCyclesLimit, .cycles(let c)):
      guard c >= 0 else { throw .message(.failed, "a reserved cycles limit cannot be negative") }
      settings.reservedCyclesLimit = c
      shown = "reserved cycles limit \(ValueFormat.cycles(c))"
    case (.logVisibility, .text(let word)):
      guard let v = LogVisibility(rawValue: word), v != .allowedViewers else {
        throw .message(
          .failed,
          word == LogVisibility.allowedViewers.rawValue
            ? "`update_settings` sets log visibility to `controllers` or `public`; a list of allowed viewers is set with the tool"
            : "log visibility is `controllers` or `public`, not `\(word)`")
      }
      settings.logVisibility = v
      shown = "log visibility \(word)"
    default:
      throw .message(.failed, "`update_settings` cannot set \(request.property.rawValue)")
    }
    let canister = request.canister
    let effect = Effect(
      "update_settings", target: .canisters([canister]),
      description: "set the \(shown) of \(canister.text)" + (extreme.map { " (\($0))" } ?? ""),
      alwaysConfirm: extreme != nil)
    return try context.act(effect, summary: "update_settings (\(context.verb)set \(shown))") {
      (b) throws(BackendError) in
      try b.updateSettings(canister, settings)
    }
  }
}
