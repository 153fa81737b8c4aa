import Foundation
import RbicCheck
import RbicDiagnostics
import RbicParser

/// `ensure COND via ACTION [or ACTION…]`, run from the contract the checker compiled:
/// check against the state; if it does not hold, ask each action in turn (a registry entry's body,
/// standard or the host's, or a user `fn`), then re-read and re-check (a bounded number of times,
/// for eventual consistency). An action that reports success without making the condition hold is
/// a warning, and the next `or` action is tried; if none makes it hold, the ensure fails with the
/// before and after values. An action whose outcome is unknown is never followed by another send:
/// the state is re-read, and if it does not show the change the run stops and says what to check.
///
/// The canister (and every wallet an action names) stays locked for the whole check → act →
/// verify, so two branches never both see the same deficit and both act on it. Only when every
/// action is a registry entry: a user `fn` may ensure other canisters, and nested canister locks
/// taken in different orders could deadlock.
extension Interpreter {
  func ensure(_ condition: Expr, _ ctx: inout Context) throws(Unwind) {
    guard let contract = program.ensures[condition.id] else {
      throw .failed(failure(.failed, "this ensure did not check", at: condition.range))
    }
    var canister: Principal?
    if let target = contract.target {
      if let expr = target.canister {
        guard case .principal(let p) = try concrete(try eval(expr, &ctx), at: expr.range) else {
          throw .failed(failure(.failed, "not a canister", at: expr.range))
        }
        canister = p
      } else {
        guard let subject = ctx.subject else {
          throw .failed(failure(.failed, "no step subject here", at: target.propertyRange))
        }
        canister = subject
      }
    }
    var arguments: [[Value?]] = []
    for action in contract.actions {
      var slots: [Value?] = []
      for slot in action.slots {
        slots.append(try slot.map { (e) throws(Unwind) in try concrete(try eval(e, &ctx), at: e.range) })
      }
      arguments.append(slots)
    }
    var locks = Set<Principal>()
    if let canister, contract.actions.allSatisfy({ if case .registered = $0.callee { true } else { false } }) {
      locks.insert(canister)
      for slots in arguments {
        for case .principal(let p)? in slots { locks.insert(p) }
      }
    }
    try pipeline.locks.holding(locks, held: ctx.held) { () throws(Unwind) in
      let saved = ctx.held
      ctx.held.formUnion(locks)
      defer { ctx.held = saved }
      try converge(condition, contract, canister, arguments, &ctx)
    }
  }

  /// A value a statement must decide on: an unknown one ends the step as unpredictable.
  func concrete(_ v: Value, at range: SourceRange) throws(Unwind) -> Value {
    if case .unknown(let what) = v { throw .unknown(what, range) }
    return v
  }

  func holds(_ condition: Expr, _ ctx: inout Context) throws(Unwind) -> Bool {
    try concrete(try eval(condition, &ctx), at: condition.range).asBool
  }

  private func converge(
    _ condition: Expr, _ contract: EnsureContract, _ canister: Principal?, _ arguments: [[Value?]],
    _ ctx: inout Context
  ) throws(Unwind) {
    let conditionText = text(condition)
    if try holds(condition, &ctx) {
      check("ensure " + conditionText, true, &ctx)
      journal(.ensure, [("condition", .text(conditionText)), ("outcome", "ok")])
      return
    }
    func current() throws(Unwind) -> Value? {
      guard let target = contract.target, let canister else { return nil }
      return try property(target.property, of: canister, at: target.propertyRange)
    }
    let before = try current()
    let wanted = try contract.target.map { (t) throws(Unwind) in
      try concrete(try eval(t.value, &ctx), at: t.value.range)
    }
    var reasons: [String] = []
    for (action, slots) in zip(contract.actions, arguments) {
      let result: ActionResult
      let performed = EffectLog()
      switch action.callee {
      case .registered(let name):
        guard let signature = registry.actions[name], let body = registry.actionBodies[name] else {
          throw .failed(failure(.environment, "action `\(name)` has no implementation in this host", at: action.range))
        }
        guard let target = contract.target, let canister, let before, let wanted else {
          throw .failed(failure(.failed, "`\(name)` needs a condition on a canister property", at: condition.range))
        }
        let positional = signature.positional == nil ? 0 : 1
        var labeled: [String: Value] = [:]
        for (i, parameter) in signature.labeled.enumerated() {
          let given = positional + i < slots.count ? slots[positional + i] : nil
          if let v = given ?? parameter.defaultValue { labeled[parameter.name] = v }
        }
        let request = ActionRequest(
          canister: canister, property: target.property, comparison: target.comparison, current: before,
          wanted: wanted, value: positional == 1 ? slots.first ?? nil : nil, labeled: labeled,
          isPlan: options.mode == .plan)
        do {
          result = try body(request, builtinContext(ctx, performed: performed))
        } catch {
          throw .failed(located(error, at: action.range))
        }
      case .function(let index):
        _ = try callFunction(index, slots.map { $0 ?? .void }, &ctx, at: action.range)
        pipeline.invalidate()  // a fn may have changed anything
        result = .applied(action.name)
      }
      let description: String
      var unknown: String?
      switch result {
      case .notApplicable(let reason):
        reasons.append(reason)
        say("  · \(action.name) cannot apply: \(reason)", ctx)
        journal(
          .actionSkipped, [("action", .text(action.name)), ("reason", .text(reason))])
        continue
      case .applied(let text): description = text
      case .unknown(let message):
        description = action.name
        unknown = message
      }
      var ok = false
      for attempt in 0..<max(1, options.recheckAttempts) {
        if attempt > 0 {
          if options.recheckDelay > 0 { Thread.sleep(forTimeInterval: options.recheckDelay) }
          pipeline.invalidate(canister.map { [$0] })
        }
        if try holds(condition, &ctx) {
          ok = true
          break
        }
      }
      let after = try current()
      if let unknown, !ok {
        throw .failed(
          failure(
            .outcomeUnknown,
            "the outcome of `\(action.name)` on \(canister?.text ?? "the canister") is unknown (\(unknown)); the state does not show it yet, and it is not sent again blindly: check \(canister?.text ?? "the canister") and the journal, then run again (a re-run on `\(network.name)` waits until it settles or an operator confirms)",
            at: action.range))
      }
      if let unknown {
        warn("`\(action.name)` had an unknown outcome (\(unknown)), but the re-read state shows it took effect", &ctx)
      }
      // Controller lists read as counts here; the action names each principal, the journal keeps all.
      func shown(_ v: Value?) -> String {
        guard let v else { return "?" }
        if contract.target?.property == .controllers, case .list(let items) = v { return "\(items.count)" }
        return ValueFormat.display(v)
      }
      let change =
        contract.target.map { t in "\(t.property.rawValue): \(shown(before)) → \(shown(after)) via \(description)" }
        ?? "\(conditionText) via \(description)"
      if ok {
        let moved = performed.cycles
        recordChange(
          Change(
            change, canister: canister, property: contract.target?.property.rawValue, before: before, after: after,
            action: action.name, amount: moved > 0 ? moved : nil), &ctx)
        // Checked after its own change: the verify re-read the state the action made.
        check("ensure " + conditionText, true, &ctx)
        journal(
          .ensure,
          [
            ("condition", .text(conditionText)),
            ("outcome", .text(options.mode == .plan ? "would_change" : "changed")),
            ("before", before.map(JournalValue.init) ?? .null), ("after", after.map(JournalValue.init) ?? .null),
            ("via", .text(description)),
          ])
        return
      }
      let still = contract.target.map { " (\($0.property.rawValue) is \(shown(after)))" } ?? ""
      let warning = "`\(action.name)` reported success but `\(conditionText)` still does not hold\(still)"
      warn(warning, &ctx)
      journal(
        .ensureNoEffect,
        [("action", .text(description)), ("condition", .text(conditionText))])
      reasons.append(warning)
    }
    let after = try current()
    var labels: [Diagnostic.Label] = []
    var primary = condition.range
    if let target = contract.target, let after, let wanted {
      primary = target.propertyRange
      labels = [
        .init(target.propertyRange, ValueFormat.display(after)), .init(target.value.range, ValueFormat.display(wanted)),
      ]
    }
    var d = Diagnostic.error(.assertionFailed, "ensure failed: \(conditionText)", at: primary, labels: labels)
    if let before, let after, let target = contract.target {
      d = d.note(
        "\(target.property.rawValue) was \(ValueFormat.display(before)) before, is \(ValueFormat.display(after)) now")
    }
    for r in reasons { d = d.note(r) }
    check("ensure " + conditionText, false, &ctx)
    journal(.ensure, [("condition", .text(conditionText)), ("outcome", "failed")])
    throw .failed(RuntimeError(.failed, d))
  }
}
