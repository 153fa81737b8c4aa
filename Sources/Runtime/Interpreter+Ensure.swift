import Foundation
import RbicDiagnostics
import RbicParser

/// `ensure COND via ACTION [or ACTION…]` (DESIGN §2.5): check against fresh state; if it does not
/// hold, derive what to do from the condition and the action, pass the safety gates, act, re-read
/// and re-check (a bounded number of times, for eventual consistency). An action that reports
/// success without making the condition hold is a warning, and the next `or` action is tried; if
/// none makes it hold, the ensure fails with the before and after values.
///
/// The wallet and top-up amount is the deficit plus a margin of 1% of the target (at least 1B
/// cycles), so that idle burn between the send and the re-check does not leave the canister just
/// short. `amount A` overrides it.
extension Interpreter {
  struct EnsureTarget {
    var canister: Principal
    var property: CanisterProperty
    /// The comparison with the property on the left.
    var op: BinaryOp
    var wanted: Value
    var propertyRange: SourceRange
    var valueRange: SourceRange
  }

  enum ActionOutcome {
    case applied(String)
    case notApplicable(String)
  }

  static func margin(for target: Int128) -> Int128 { max(target / 100, 1_000_000_000) }

  func propertyReference(_ e: Expr, _ ctx: inout Context) throws(Unwind) -> (Principal, CanisterProperty)? {
    switch e.kind {
    case .paren(let x): return try propertyReference(x, &ctx)
    case .name:
      guard e.id < program.resolutions.count, case .subjectProperty(let p) = program.resolutions[e.id],
        let s = ctx.subject
      else { return nil }
      return (s, p)
    case .member(let target, let name):
      guard let t = type(target), t.isCanister, let p = CanisterProperty(rawValue: name.name),
        case .principal(let c) = try eval(target, &ctx)
      else { return nil }
      return (c, p == .balance ? .cycles : p)
    default: return nil
    }
  }

  func ensureTarget(_ condition: Expr, _ ctx: inout Context) throws(Unwind) -> EnsureTarget? {
    var inner = condition
    while case .paren(let x) = inner.kind { inner = x }
    guard case .binary(let op, let l, let r) = inner.kind else { return nil }
    if let (c, p) = try propertyReference(l, &ctx) {
      return EnsureTarget(
        canister: c, property: p, op: op, wanted: try eval(r, &ctx), propertyRange: l.range, valueRange: r.range)
    }
    if let (c, p) = try propertyReference(r, &ctx) {
      let flipped: BinaryOp = op == .lessEqual ? .greaterEqual : op == .less ? .greater : op
      return EnsureTarget(
        canister: c, property: p, op: flipped, wanted: try eval(l, &ctx), propertyRange: r.range, valueRange: l.range)
    }
    return nil
  }

  func holds(_ condition: Expr, _ ctx: inout Context) throws(Unwind) -> Bool {
    ctx.cache.removeAll()
    return try eval(condition, &ctx).asBool
  }

  /// Holds the canister's lock for the whole check → act → verify, so two branches never both
  /// see the same deficit and both act on it (a canister listed twice in a fleet). Only when every
  /// action is built in: a user `fn` may ensure other canisters, and nested canister locks could
  /// then deadlock.
  func ensure(_ condition: Expr, _ actions: [Action], _ stmt: Stmt, _ ctx: inout Context) throws(Unwind) {
    let builtIn = actions.allSatisfy { registry.actions[$0.name.name] != nil }
    guard builtIn, let (canister, _) = try propertyReference(leftOrRight(condition), &ctx) else {
      try ensureUnlocked(condition, actions, stmt, &ctx)
      return
    }
    try resourceLocks.with([canister.text]) { () throws(Unwind) in try ensureUnlocked(condition, actions, stmt, &ctx) }
  }

  /// The property side of a comparison (either side), for locking.
  func leftOrRight(_ condition: Expr) -> Expr {
    var inner = condition
    while case .paren(let x) = inner.kind { inner = x }
    guard case .binary(_, let l, let r) = inner.kind else { return inner }
    if case .name = l.kind { return l }
    if case .member = l.kind { return l }
    return r
  }

  func ensureUnlocked(_ condition: Expr, _ actions: [Action], _ stmt: Stmt, _ ctx: inout Context) throws(Unwind) {
    let conditionText = text(condition)
    if try holds(condition, &ctx) {
      check("ensure " + conditionText, true, &ctx)
      journal("ensure", [("condition", ValueFormat.jsonQuote(conditionText)), ("outcome", "\"ok\"")])
      return
    }
    let target = try ensureTarget(condition, &ctx)
    let before = try target.map { (t) throws(Unwind) in
      try property(t.property, of: t.canister, &ctx, at: t.propertyRange)
    }
    var reasons: [String] = []
    for action in actions {
      let outcome: ActionOutcome
      if let signature = registry.actions[action.name.name] {
        guard let target, let before else {
          throw .failed(
            failure(.failed, "`\(action.name.name)` needs a condition on a canister property", at: condition.range))
        }
        outcome = try apply(signature, action, target, before, condition, &ctx)
      } else if let index = userFunction(action.name.name) {
        let names = functionTable[index].names
        let values = try arrange(
          action.arguments, names: names, defaults: Array(repeating: nil, count: names.count), &ctx, at: action.range)
        _ = try callFunction(index, values, &ctx, at: action.range)
        outcome = .applied(action.name.name)
      } else {
        throw .failed(failure(.failed, "unknown action `\(action.name.name)`", at: action.name.range))
      }
      switch outcome {
      case .notApplicable(let reason):
        reasons.append(reason)
        options.progress("  · \(action.name.name) cannot apply: \(reason)")
        journal(
          "action_skipped",
          [("action", ValueFormat.jsonQuote(action.name.name)), ("reason", ValueFormat.jsonQuote(reason))])
      case .applied(let description):
        var ok = false
        for attempt in 0..<max(1, options.recheckAttempts) {
          if try holds(condition, &ctx) {
            ok = true
            break
          }
          if attempt + 1 < options.recheckAttempts, options.recheckDelay > 0 {
            Thread.sleep(forTimeInterval: options.recheckDelay)
          }
        }
        let after = try target.map { (t) throws(Unwind) in
          try property(t.property, of: t.canister, &ctx, at: t.propertyRange)
        }
        // Controller lists read as counts here; the action names each principal, the journal keeps all.
        func shown(_ v: Value) -> String {
          if target?.property == .controllers, case .list(let items) = v { return "\(items.count)" }
          return ValueFormat.display(v)
        }
        let change =
          target.map { t in "\(t.property.rawValue): \(shown(before!)) → \(shown(after!)) via \(description)" }
          ?? "\(conditionText) via \(description)"
        if ok {
          check("ensure " + conditionText, true, &ctx)
          recordChange(change, &ctx)
          journal(
            "ensure",
            [
              ("condition", ValueFormat.jsonQuote(conditionText)),
              ("outcome", ValueFormat.jsonQuote(options.mode == .plan ? "would_change" : "changed")),
              ("before", before.map(ValueFormat.json) ?? "null"), ("after", after.map(ValueFormat.json) ?? "null"),
              ("via", ValueFormat.jsonQuote(description)),
            ])
          return
        }
        let still = after.map { " (\(target!.property.rawValue) is \(ValueFormat.display($0)))" } ?? ""
        let warning = "`\(action.name.name)` reported success but `\(conditionText)` still does not hold\(still)"
        warn(warning, &ctx)
        journal(
          "ensure_no_effect",
          [("action", ValueFormat.jsonQuote(description)), ("condition", ValueFormat.jsonQuote(conditionText))])
        reasons.append(warning)
      }
    }
    let after = try target.map { (t) throws(Unwind) in
      try property(t.property, of: t.canister, &ctx, at: t.propertyRange)
    }
    var labels: [Diagnostic.Label] = []
    var primary = condition.range
    if let target, let after {
      primary = target.propertyRange
      labels = [
        .init(target.propertyRange, ValueFormat.display(after)),
        .init(target.valueRange, ValueFormat.display(target.wanted)),
      ]
    }
    var d = Diagnostic.error(.assertionFailed, "ensure failed: \(conditionText)", at: primary, labels: labels)
    if let before, let after, let target {
      d = d.note(
        "\(target.property.rawValue) was \(ValueFormat.display(before)) before, is \(ValueFormat.display(after)) now")
    }
    for r in reasons { d = d.note(r) }
    check("ensure " + conditionText, false, &ctx)
    journal("ensure", [("condition", ValueFormat.jsonQuote(conditionText)), ("outcome", "\"failed\"")])
    throw .failed(RuntimeError(.failed, d))
  }

  func userFunction(_ name: String) -> Int? {
    program.functions.firstIndex { $0.declaration.name.name == name }
  }

  func argument(_ action: Action, _ label: String?, _ ctx: inout Context) throws(Unwind) -> Value? {
    guard let a = action.arguments.first(where: { $0.label?.name == label }) else { return nil }
    return try eval(a.value, &ctx)
  }

  /// Runs one backend mutation with the journal around it; maps its errors to outcomes.
  func perform(
    _ operation: String, _ description: String, canister: Principal, locks: [String], amount: Int128? = nil,
    condition: Expr, _ ctx: inout Context, at range: SourceRange, _ body: () throws(BackendError) -> Void
  ) throws(Unwind) -> ActionOutcome {
    options.progress("  → \(description)")
    let started = Date()
    var fields: [(String, String)] = [
      ("operation", ValueFormat.jsonQuote(operation)), ("canister", ValueFormat.jsonQuote(canister.text)),
    ]
    if let amount { fields.append(("amount", "\(amount)")) }
    journal("action_start", fields)
    do {
      try resourceLocks.with(locks, body)
      journal(
        "action_end",
        fields + [("result", "\"ok\""), ("seconds", String(format: "%.3f", Date().timeIntervalSince(started)))])
      if let amount { lock.withLock { cyclesMoved += amount } }
      ctx.cache.removeAll()
      return .applied(description)
    } catch {
      journal("action_end", fields + [("result", ValueFormat.jsonQuote(error.description))])
      switch error {
      case .insufficientFunds(let message):
        return .notApplicable(message)
      case .reject:
        return .notApplicable(error.description)
      case .unknownOutcome(let message):
        journal("outcome_unknown", fields + [("message", ValueFormat.jsonQuote(message))])
        if options.cancellation.isCancelled {
          throw .failed(failure(.interrupted, "interrupted during \(description)", at: range))
        }
        // Never re-send blindly: look at the state first.
        if try holds(condition, &ctx) {
          warn("\(operation) timed out, but the re-read state shows it took effect", &ctx)
          return .applied(description)
        }
        throw .failed(
          failure(
            .environment,
            "the outcome of \(description) is unknown (\(message)); the state does not show it, and it is not retried blindly: check the journal, then run again",
            at: range))
      default:
        throw .failed(backendFailure(error, at: range))
      }
    }
  }

  func apply(
    _ signature: ActionSignature, _ action: Action, _ target: EnsureTarget, _ before: Value, _ condition: Expr,
    _ ctx: inout Context
  ) throws(Unwind) -> ActionOutcome {
    let canister = target.canister
    let range = action.range
    let verb = options.mode == .plan ? "would " : ""
    switch signature.name {
    case "wallet", "top_up":
      guard case .cycles(let current) = before, case .cycles(let wanted) = target.wanted else {
        throw .failed(failure(.failed, "`\(signature.name)` needs a cycles condition", at: range))
      }
      let deficit = wanted - current + (target.op == .greater ? 1 : 0)
      var amount = deficit + Interpreter.margin(for: wanted)
      if case .cycles(let explicit) = try argument(action, "amount", &ctx) { amount = explicit }
      let moved = lock.withLock { cyclesMoved }
      if moved + amount > options.cyclesCeiling {
        throw .failed(
          failure(
            .refused,
            "refused: sending \(ValueFormat.cycles(amount)) would move \(ValueFormat.cycles(moved + amount)) this run, above the ceiling of \(ValueFormat.cycles(options.cyclesCeiling))",
            at: range))
      }
      if signature.name == "wallet" {
        guard case .principal(let wallet) = try argument(action, nil, &ctx) else {
          throw .failed(failure(.failed, "`wallet` needs a wallet", at: range))
        }
        let balance = try state(of: wallet, &ctx, at: range).cycles
        if balance < amount {
          return .notApplicable(
            "wallet \(wallet.text) holds \(ValueFormat.cycles(balance)), short of \(ValueFormat.cycles(amount))")
        }
        let description = "wallet \(wallet.text) (\(verb)send \(ValueFormat.cycles(amount)))"
        try gate("send \(ValueFormat.cycles(amount)) from wallet \(wallet.text) to \(canister.text)", at: range)
        return try perform(
          "wallet_send", description, canister: canister, locks: [canister.text, wallet.text], amount: amount,
          condition: condition, &ctx, at: range
        ) { () throws(BackendError) in try backend.walletSend(wallet: wallet, to: canister, amount: amount) }
      }
      let balance: Int128
      do { balance = try backend.cyclesBalance() } catch { throw .failed(backendFailure(error, at: range)) }
      if balance < amount {
        return .notApplicable(
          "the cycles-ledger balance of `\(backend.identityName)` is \(ValueFormat.cycles(balance)), short of \(ValueFormat.cycles(amount))"
        )
      }
      try gate("top up \(canister.text) with \(ValueFormat.cycles(amount)) from the cycles ledger", at: range)
      return try perform(
        "top_up", "top_up (\(verb)mint \(ValueFormat.cycles(amount)))", canister: canister,
        locks: [canister.text], amount: amount, condition: condition, &ctx, at: range
      ) { () throws(BackendError) in try backend.topUp(canister, amount: amount) }

    case "install":
      guard case .path(let path) = try argument(action, nil, &ctx) ?? .none else {
        throw .failed(failure(.failed, "`install` needs the module's path", at: range))
      }
      let full = path.hasPrefix("/") ? path : (options.projectDirectory as NSString).appendingPathComponent(path)
      guard let data = FileManager.default.contents(atPath: full) else {
        throw .failed(failure(.environment, "cannot read the module `\(path)`", at: range))
      }
      let bytes = Array(data)
      let hash = Hashing.sha256(bytes)
      guard case .hash(let wanted) = target.wanted, wanted == hash else {
        throw .failed(
          failure(
            .failed,
            "the module `\(path)` hashes to \(ValueFormat.shortHash(hash)), not the expected \(ValueFormat.display(target.wanted)); refusing to install it",
            at: range))
      }
      let word: String
      if case .text(let w) = try argument(action, "mode", &ctx) ?? .none { word = w } else { word = "auto" }
      let mode: InstallMode =
        switch word {
        case "install": .install
        case "upgrade": .upgrade
        case "reinstall": .reinstall
        default: before == .none ? .install : .upgrade
        }
      if mode == .reinstall {
        try gate("REINSTALL \(canister.text) (wipes its state) with \(path)", at: range, alwaysAsk: true)
      } else {
        try gate("\(mode.rawValue) \(path) on \(canister.text)", at: range)
      }
      return try perform(
        "install", "\(verb)\(mode.rawValue) \(path)", canister: canister, locks: [canister.text], condition: condition,
        &ctx,
        at: range
      ) { () throws(BackendError) in try backend.install(canister, wasm: bytes, mode: mode) }

    case "add_controllers", "set_controllers":
      guard case .list(let currentValues) = before else {
        throw .failed(failure(.failed, "no controllers read", at: range))
      }
      let current = currentValues.compactMap { if case .principal(let p) = $0 { p } else { nil } }
      let wantedList: [Principal]
      switch target.wanted {
      case .principal(let p): wantedList = [p]
      case .list(let items): wantedList = items.compactMap { if case .principal(let p) = $0 { p } else { nil } }
      default: throw .failed(failure(.failed, "controllers must be principals", at: target.valueRange))
      }
      let add = wantedList.filter { !current.contains($0) }
      var remove: [Principal] = []
      if signature.name == "set_controllers" {
        guard !wantedList.isEmpty else {
          throw .failed(
            failure(.refused, "refused: `set_controllers` would leave \(canister.text) with no controller", at: range))
        }
        remove = current.filter { !wantedList.contains($0) }
        let me: Principal
        do { me = try backend.identityPrincipal() } catch { throw .failed(backendFailure(error, at: range)) }
        if remove.contains(me) {
          throw .failed(
            failure(
              .refused,
              "refused: `set_controllers` would remove the acting identity `\(backend.identityName)` (\(me.text)) from \(canister.text)",
              at: range))
        }
      }
      var parts: [String] = []
      if !add.isEmpty { parts.append("add " + add.map(\.text).joined(separator: ", ")) }
      if !remove.isEmpty { parts.append("remove " + remove.map(\.text).joined(separator: ", ")) }
      let description = "\(signature.name) (\(verb)\(parts.joined(separator: "; ")))"
      try gate("\(parts.joined(separator: "; ")) as controllers of \(canister.text)", at: range)
      return try perform(
        "update_settings", description, canister: canister, locks: [canister.text], condition: condition, &ctx,
        at: range
      ) {
        () throws(BackendError) in try backend.updateControllers(canister, add: add, remove: remove)
      }

    case "start", "stop":
      try gate("\(signature.name) \(canister.text)", at: range)
      return try perform(
        signature.name, "\(verb)\(signature.name)", canister: canister, locks: [canister.text], condition: condition,
        &ctx, at: range
      ) {
        () throws(BackendError) in
        if signature.name == "start" { try backend.start(canister) } else { try backend.stop(canister) }
      }

    default:
      guard let body = signature.body else {
        throw .failed(failure(.environment, "action `\(signature.name)` has no implementation in this host", at: range))
      }
      var labeled: [String: Value] = [:]
      var value: Value?
      for a in action.arguments {
        let v = try eval(a.value, &ctx)
        if let label = a.label { labeled[label.name] = v } else { value = v }
      }
      let request = ActionRequest(
        canister: canister, property: target.property, current: before, wanted: target.wanted, value: value,
        labeled: labeled,
        isPlan: options.mode == .plan)
      try gate("\(signature.name) on \(canister.text)", at: range)
      options.progress("  → \(signature.name)")
      journal(
        "action_start",
        [("operation", ValueFormat.jsonQuote(signature.name)), ("canister", ValueFormat.jsonQuote(canister.text))])
      do {
        let description = try resourceLocks.with([canister.text]) { () throws(RuntimeError) in
          try body(request, builtinContext())
        }
        journal("action_end", [("operation", ValueFormat.jsonQuote(signature.name)), ("result", "\"ok\"")])
        ctx.cache.removeAll()
        return .applied(description)
      } catch {
        var e = error
        if e.diagnostic.range.file.raw < 0 { e.diagnostic.range = range }
        journal(
          "action_end",
          [
            ("operation", ValueFormat.jsonQuote(signature.name)),
            ("result", ValueFormat.jsonQuote(e.diagnostic.message)),
          ])
        throw .failed(e)
      }
    }
  }
}
