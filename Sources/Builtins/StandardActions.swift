import Foundation
import RbicCandid
import RbicCheck
import RbicRuntime

/// The standard actions as ordinary registry entries: each decides what to do from
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
        summary: "sends the deficit plus a margin from a cycles wallet (`wallet_send`)"), body: wallet)
    r.register(
      ActionSignature(
        "top_up", converges: [.comparison(.cycles, .atLeast), .comparison(.freezeIn, .atLeast)],
        labeled: [BuiltinParameter("amount", .cycles)],
        summary: "tops up from the identity's cycles-ledger balance (`icp canister top-up`)"), body: topUp)
    r.register(
      ActionSignature(
        "install", converges: [.comparison(.hash, .equal)], positional: BuiltinParameter("wasm", .path),
        positionalRequired: true,
        labeled: [
          BuiltinParameter("mode", .text), BuiltinParameter("arg", .error), BuiltinParameter("breaking", .bool),
          BuiltinParameter("guarded", .bool), BuiltinParameter("check", .text),
        ],
        words: ["mode": InstallChoice.allCases.map(\.rawValue)], candidArgument: "arg", needs: ["check": "guarded"],
        summary:
          "installs when empty, upgrades when the hash differs (never breaking the interface unless `breaking`); `arg` is the init argument; `guarded` snapshots first and restores on failure; `mode reinstall` only when written"
      ), body: install)
    r.register(
      ActionSignature(
        "add_controllers", converges: [.comparison(.controllers, .contains)],
        summary: "adds exactly the missing controllers"),
      body: { request, context throws(RuntimeError) in
        try controllers(request, context, exact: false)
      })
    r.register(
      ActionSignature(
        "set_controllers", converges: [.comparison(.controllers, .equal)],
        summary: "adds and removes controllers to match exactly; never leaves none or drops the acting identity"),
      body: { request, context throws(RuntimeError) in try controllers(request, context, exact: true) })
    r.register(
      ActionSignature(
        "update_settings",
        converges: [
          .comparison(.freezingThreshold, .equal), .comparison(.freezingThreshold, .atLeast),
          .comparison(.memoryAllocation, .equal), .comparison(.memoryAllocation, .atLeast),
          .comparison(.reservedCyclesLimit, .equal), .comparison(.reservedCyclesLimit, .atLeast),
          .comparison(.logVisibility, .equal),
        ],
        summary: "sets the setting to the value the condition names; an extreme freezing threshold is always asked"),
      body: updateSettings)
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
        summary: "\(name)s the canister"),
      body: { request, context throws(RuntimeError) in
        try context.act(
          Effect(name, target: .canisters([request.canister]), description: "\(name) \(request.canister.text)"),
          summary: "\(context.verb)\(name)"
        ) { (b) throws(BackendError) in try operation(b, request.canister) }
      })
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
    let module = InstallArgument.interface(ofModule: bytes)
    let interface = module?.env
    // The argument, typed by the init arguments the new module declares.
    var argument: String?
    var shown = ""
    if let value = request.labeled["arg"] {
      do throws(CandidEncoding.Misfit) {
        argument = CandidValue.print(arguments: try InstallArgument.encode(value, for: interface), width: .max)
        // Shown as sent, typed, with secrets hidden and long blobs abbreviated.
        shown =
          " with argument " + Candid.shown(try InstallArgument.encode(Candid.withoutSecrets(value), for: interface))
      } catch {
        throw .message(.failed, "cannot \(mode.rawValue) \(path) with this argument: \(error.message)")
      }
    }
    let breaking = request.labeled["breaking"] == .bool(true)
    var warning = ""
    var confirmation = Effect.Confirmation.onMainnet
    if mode == .upgrade {
      // Upgrades keep their clients: the new interface must serve every method as the canister
      // publishes it now, or the action must say `breaking` (always asked).
      switch (context.publishedInterface(of: canister), interface) {
      case (let old?, let new?):
        let broken = new.brokenMethods(from: old)
        if !broken.isEmpty {
          guard breaking else {
            throw .message(
              .refused,
              "refused: upgrading \(canister.text) to \(path) would break its clients: \(broken.joined(separator: "; ")). Nothing was changed; to upgrade anyway, write `breaking` after the module (always asked)"
            )
          }
          warning = " (BREAKING: \(broken.joined(separator: "; ")))"
        }
      case (nil, _):
        confirmation = .everywhere
        warning = " (\(canister.text) publishes no Candid interface to compare the upgrade with)"
      case (_, nil):
        confirmation = .everywhere
        warning = " (\(path) carries no candid:service metadata to compare with what \(canister.text) serves)"
      }
    }
    let effect =
      mode == .reinstall
      ? Effect(
        "install", target: .canisters([canister]),
        description: "REINSTALL \(canister.text) (wipes its state) with \(path)\(shown)", confirmation: .always,
        detail: "reinstall \(canister.text) with module sha256 \(ValueFormat.hex(hash))\(shown)", replacesModule: true)
      : Effect(
        "install", target: .canisters([canister]),
        description: "\(mode.rawValue) \(path) on \(canister.text)\(shown)\(warning)",
        confirmation: !warning.isEmpty && breaking ? .always : confirmation,
        detail: "\(mode.rawValue) \(canister.text) with module sha256 \(ValueFormat.hex(hash))\(shown)",
        replacesModule: true)
    let result: ActionResult
    if request.labeled["guarded"] == .bool(true) {
      var check: String?
      if case .text(let method)? = request.labeled["check"] { check = method }
      result = try guardedInstall(
        request, context, effect, hash: hash, check: check, summary: "\(context.verb)guarded \(mode.rawValue) \(path)"
      ) { (b) throws(BackendError) in try b.install(canister, wasm: bytes, mode: mode, argument: argument) }
    } else {
      result = try context.act(effect, summary: "\(context.verb)\(mode.rawValue) \(path)") {
        (b) throws(BackendError) in try b.install(canister, wasm: bytes, mode: mode, argument: argument)
      }
    }
    // What the canister publishes now is known: the next call need not read it back.
    if !request.isPlan {
      context.knowPublishedInterface(module?.isPublic == true ? interface : nil, of: canister)
    }
    return result
  }

  /// `install … guarded`: stop, snapshot, install, start, verify (the module's hash,
  /// running again, and the `check` query when given); on any failure after the snapshot, restore
  /// it and start the canister again. Each step is its own effect, journaled; the canister ends as
  /// it was found (running or stopped). The snapshot is kept: it is the way back if a problem
  /// shows later (`delete_snapshot` removes it).
  static func guardedInstall(
    _ request: ActionRequest, _ context: BuiltinContext, _ install: Effect, hash: [UInt8], check: String?,
    summary: String, _ body: (Backend) throws(BackendError) -> Void
  ) throws(RuntimeError) -> ActionResult {
    let c = request.canister
    func effect(_ operation: String, _ description: String, replacesModule: Bool = false) -> Effect {
      Effect(operation, target: .canisters([c]), description: description, replacesModule: replacesModule)
    }
    let wasRunning = try context.state(of: c).status == .running
    if wasRunning {
      try LifecycleBuiltins.act(context, effect("stop", "stop \(c.text) for a guarded upgrade")) {
        (b) throws(BackendError) in try b.stop(c)
      }
    }
    let snapshot = try LifecycleBuiltins.act(
      context, effect("snapshot", "take a snapshot of \(c.text) to restore if the upgrade fails"),
      { "took snapshot \($0.id) of \(c.text)" }
    ) { (b) throws(BackendError) in try b.takeSnapshot(c, replacing: nil) }
    do throws(RuntimeError) {
      try LifecycleBuiltins.act(context, install, nil, body)
      if wasRunning {
        try LifecycleBuiltins.act(context, effect("start", "start \(c.text) after the upgrade")) {
          (b) throws(BackendError) in try b.start(c)
        }
      }
      if !request.isPlan { try verifyUpgrade(c, context, hash: hash, running: wasRunning, check: check) }
    } catch {
      let why = error.diagnostic.message
      do throws(RuntimeError) {
        if try context.state(of: c).status != .stopped {
          try LifecycleBuiltins.act(context, effect("stop", "stop \(c.text) to restore snapshot \(snapshot.id)")) {
            (b) throws(BackendError) in try b.stop(c)
          }
        }
        try LifecycleBuiltins.act(
          context, effect("restore", "restore snapshot \(snapshot.id) of \(c.text)", replacesModule: true)
        ) { (b) throws(BackendError) in try b.restoreSnapshot(c, id: snapshot.id) }
        if wasRunning {
          try LifecycleBuiltins.act(context, effect("start", "start \(c.text) with its restored module")) {
            (b) throws(BackendError) in try b.start(c)
          }
        }
      } catch {
        throw .message(
          .environment,
          "the guarded upgrade of \(c.text) failed (\(why)), and restoring snapshot \(snapshot.id) failed too: \(error.diagnostic.message). Look at \(c.text) now: it may be stopped, or run the new module"
        )
      }
      throw RuntimeError(
        error.kind == .refused ? .refused : .failed,
        .error(
          .runtimeError,
          "the guarded upgrade of \(c.text) failed and was rolled back: snapshot \(snapshot.id) is restored\(wasRunning ? " and running" : ""). The failure: \(why)",
          at: error.diagnostic.range))
    }
    return .applied("\(summary) (snapshot \(snapshot.id) kept)")
  }

  /// After a guarded upgrade: the canister has the new module, runs if it ran, and answers the
  /// `check` query (a `false` reply fails it).
  static func verifyUpgrade(_ c: Principal, _ context: BuiltinContext, hash: [UInt8], running: Bool, check: String?)
    throws(RuntimeError)
  {
    let state = try context.state(of: c)
    guard state.moduleHash == hash else {
      throw .message(
        .failed,
        "after the upgrade \(c.text) has module \(state.moduleHash.map(ValueFormat.shortHash) ?? "none"), not \(ValueFormat.shortHash(hash))"
      )
    }
    if running, state.status != .running {
      throw .message(.failed, "after the upgrade \(c.text) is \(state.status.rawValue), not running")
    }
    guard let check else { return }
    let reply = try context.read { (b) throws(BackendError) in try b.query(c, method: check, argument: "()") }
    // Read as Candid: a reply whose first value is `false`, however the tool lays it out, fails.
    if case .bool(false)? = (try? CandidValue.parseArguments(reply))?.first?.bare {
      throw .message(.failed, "after the upgrade \(c.text)'s `\(check)` answered false")
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

  /// The freezing thresholds the tools ask about before setting (`CanisterSettings`).
  static let shortFreezingThreshold = CanisterSettings.shortFreezingThreshold
  static let longFreezingThreshold = CanisterSettings.longFreezingThreshold

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
      confirmation: extreme != nil ? .always : .onMainnet)
    return try context.act(effect, summary: "update_settings (\(context.verb)set \(shown))") {
      (b) throws(BackendError) in
      try b.updateSettings(canister, settings)
    }
  }
}
