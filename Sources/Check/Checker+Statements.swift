import RbicDiagnostics
import RbicParser

extension Checker {
  /// Checks a block's statements (in a scope of their own unless `newScope` is false), with
  /// `narrowing` narrowed from its start.
  func checkBlock(_ block: Block, newScope: Bool = true, narrowing: [Int] = []) {
    let body = {
      self.narrow(narrowing)
      var reportedUnreachable = false
      var exited = false
      for stmt in block.statements {
        if exited, !reportedUnreachable {
          self.warning(
            .unreachableCode, "this statement never runs", stmt.range,
            help: "the statement before it always ends the block")
          reportedUnreachable = true
        }
        self.checkStatement(stmt)
        self.narrow(self.narrowingsAfter(stmt))
        if self.leaves(stmt) { exited = true }
      }
    }
    if newScope { withScope(body) } else { body() }
  }

  func checkCondition(_ e: Expr) {
    let type = check(e, expected: .bool)
    expectType(type, .bool, for: e, what: "a condition")
  }

  func checkMessage(_ e: Expr?, what: String = "a message") {
    guard let e else { return }
    let type = check(e, expected: .text)
    expectType(type, .text, for: e, what: what)
  }

  func misplaced(_ stmt: Stmt, _ message: String, help: String? = nil) {
    error(.misplacedStatement, message, stmt.range, help: help)
  }

  func checkStatement(_ stmt: Stmt) {
    switch stmt.kind {
    case .useNetwork, .useIdentity, .param, .import, .importInterface, .function:
      // The parser already reported these as misplaced; nothing more to say.
      break
    case .let(let name, let typeExpr, let value):
      let declared = typeExpr.map(resolveType)
      let actual = check(value, expected: declared)
      if let declared { expectType(actual, declared, for: value, what: "`\(name.name)`") }
      checkBindable(actual, at: value.range)
      declareLocal(name, declared ?? actual, kind: .local)
    case .step(let title, let subject, let body):
      checkMessage(title, what: "a step's title")
      var hasSubject = false
      let savedSubject = subjectType
      if let subject {
        let type = check(subject, expected: .canister)
        expectType(type, .canister, for: subject, what: "a step's subject")
        hasSubject = true
        subjectType = type
      }
      let saved = inStep
      inStep = true
      withScope(subject: hasSubject) { checkBlock(body, newScope: false) }
      inStep = saved
      subjectType = savedSubject
    case .ensure(let condition, let actions):
      if !inStep, !inFunction, requireHeader {  // the REPL runs an ensure on its own
        misplaced(
          stmt, "`ensure` belongs inside a step", help: "wrap it in `step \"…\" on CANISTER { … }` so it has an outcome"
        )
      }
      checkEnsure(condition, actions)
    case .require(let condition, let message), .expect(let condition, let message):
      checkCondition(condition)
      checkMessage(message)
    case .confirm(let e):
      checkMessage(e, what: "a question")
    case .skip(let e):
      if !inStep, !inFunction { misplaced(stmt, "`skip` ends a step, so it belongs inside one") }
      checkMessage(e, what: "a reason")
    case .fail(let e):
      checkMessage(e)
    case .print(let e):
      let type = check(e, expected: nil)
      if type == .void { error(.typeMismatch, "this expression returns nothing to print", e.range) }
      if type.containsSecret {
        error(
          .secretExposure, "a `secret` is never printed", e.range,
          help: "print something derived from it, such as whether it is set")
      }
    case .if(let condition, let then, let otherwise):
      checkCondition(condition)
      checkBlock(then, narrowing: narrowings(of: condition, when: true))
      let otherwiseNarrowing = narrowings(of: condition, when: false)
      switch otherwise {
      case .none: break
      case .block(let b): checkBlock(b, narrowing: otherwiseNarrowing)
      case .elseIf(let s): withNarrowing(otherwiseNarrowing) { checkStatement(s) }
      }
    case .for(let variable, let sequence, let body, let limit, _):
      let type = check(sequence, expected: nil)
      var element = RType.error
      if case .list(let e) = type {
        element = e
      } else if !type.isError {
        error(.typeMismatch, "`for` needs a list, not `\(type)`", sequence.range)
      }
      if let limit {
        let t = check(limit, expected: .int)
        expectType(t, .int, for: limit, what: "a parallel limit")
      }
      withScope {
        declareLocal(variable, element, kind: .loopVariable)
        checkBlock(body, newScope: false)
      }
    case .call(let e, let cycles):
      _ = check(e, expected: nil, methodCall: true)
      checkCallCycles(cycles, call: e)
    case .onFailure(let body):
      checkBlock(body)
      for s in body.statements {
        if case .skip = s.kind {
          misplaced(
            s, "`skip` cannot end a step that has already failed", help: "an `on failure` block runs after the failure")
        }
      }
    case .wait(let condition, let timeout):
      checkCondition(condition)
      let type = check(timeout, expected: .duration)
      expectType(type, .duration, for: timeout, what: "a wait's timeout")
    case .return(let value):
      guard inFunction, let returnType else {
        error(
          .returnOutsideFunction, "`return` is only allowed inside a `fn`", stmt.range,
          help: "use `skip` to end a step early")
        return
      }
      if let value {
        let type = check(value, expected: returnType)
        if returnType == .void {
          error(
            .typeMismatch, "this `fn` declares no result, so `return` takes no value", value.range,
            help: "add `-> \(type)` to the `fn`")
        } else {
          expectType(type, returnType, for: value, what: "the returned value")
        }
      } else if returnType != .void, !returnType.isError {
        error(.typeMismatch, "this `fn` must return a `\(returnType)`", stmt.range)
      }
    case .expression(let e):
      if case .call(let callee, _) = e.kind, case .member = callee.kind {
        error(
          .invalidCallStatement, "canister methods are called with `call`", e.range,
          help: "write `call \(e.range.isEmpty ? "" : "…")` before it")
        _ = check(e, expected: nil, methodCall: true)
        return
      }
      _ = check(e, expected: nil)
    }
  }

  // MARK: - ensure

  /// The canister property a condition constrains, normalised so the property is on the left,
  /// with the convergence an action must offer (nil when no action can make it true).
  struct ConvergenceTarget {
    var convergence: Convergence?
    var property: CanisterProperty
    var value: Expr
  }

  /// `c.cycles` or a bare subject property: the canister expression (nil for the subject) and the
  /// property.
  func propertyReference(_ e: Expr) -> (canister: Expr?, property: CanisterProperty)? {
    switch e.kind {
    case .paren(let x): return propertyReference(x)
    case .name:
      if case .subjectProperty(let p) = resolutions[e.id] { return (nil, p) }
      return nil
    case .member(let target, let name):
      guard let type = types[target.id], type.isCanister, let p = CanisterProperty(rawValue: name.name) else {
        return nil
      }
      return (target, p)
    default: return nil
    }
  }

  /// The ensure's target: the comparison with the property on the left (`floor <= cycles` is
  /// `cycles >= floor`); a wallet's `balance` is its `cycles`.
  func contractTarget(_ condition: Expr) -> EnsureContract.Target? {
    guard case .binary(let op, let lhs, let rhs) = condition.kind, op.isComparison else {
      if case .paren(let inner) = condition.kind { return contractTarget(inner) }
      return nil
    }
    func target(_ side: Expr, _ op: BinaryOp, _ value: Expr) -> EnsureContract.Target? {
      guard let (canister, property) = propertyReference(side) else { return nil }
      return EnsureContract.Target(
        canister: canister, property: property == .balance ? .cycles : property, comparison: op,
        propertyRange: side.range, value: value)
    }
    if let t = target(lhs, op, rhs) { return t }
    let flipped: BinaryOp? =
      switch op {
      case .lessEqual: .greaterEqual
      case .less: .greater
      case .greaterEqual: .lessEqual
      case .greater: .less
      case .equal, .notEqual: op
      default: nil
      }
    return flipped.flatMap { target(rhs, $0, lhs) }
  }

  func convergenceTarget(_ target: EnsureContract.Target?) -> ConvergenceTarget? {
    guard let target else { return nil }
    let kind: Convergence.ComparisonKind? =
      switch target.comparison {
      case .greaterEqual, .greater: .atLeast
      case .equal: .equal
      case .contains: .contains
      default: nil
      }
    return ConvergenceTarget(
      convergence: kind.map { .comparison(target.property, $0) }, property: target.property, value: target.value)
  }

  /// Checks an ensure and compiles it into its contract.
  func checkEnsure(_ condition: Expr, _ actions: [Action]) {
    checkCondition(condition)
    let contract = contractTarget(condition)
    let target = convergenceTarget(contract)
    var resolved: [ResolvedAction] = []
    for action in actions {
      let name = action.name.name
      if let signature = signatures.actions[name] {
        let canister = contract.map { $0.canister.flatMap { types[$0.id] } ?? subjectType } ?? nil
        checkBuiltinAction(action, signature, target: target, condition: condition, canister: canister)
        let labels = signature.labeled.map(\.name)
        var slots = [Expr?](repeating: nil, count: (signature.positional == nil ? 0 : 1) + labels.count)
        for argument in action.arguments {
          if let label = argument.label {
            if let i = labels.firstIndex(of: label.name) { slots[slots.count - labels.count + i] = argument.value }
          } else if signature.positional != nil {
            slots[0] = argument.value
          }
        }
        resolved.append(ResolvedAction(callee: .registered(name), name: name, range: action.range, slots: slots))
      } else if let index = lookup(name), case .function(let f) = symbols[index].resolution {
        symbols[index].used = true
        let info = functions[f]
        let parameters = zip(info.declaration.parameters, info.parameterTypes).map {
          BuiltinParameter($0.name.name, $1)
        }
        _ = checkArguments(action.arguments, parameters: parameters, variadic: nil, callee: name, at: action.range)
        let names = parameters.map(\.name)
        var slots = [Expr?](repeating: nil, count: names.count)
        var position = 0
        for argument in action.arguments {
          if let label = argument.label, let i = names.firstIndex(of: label.name) {
            slots[i] = argument.value
          } else if position < slots.count {
            slots[position] = argument.value
            position += 1
          }
        }
        resolved.append(ResolvedAction(callee: .function(f), name: name, range: action.range, slots: slots))
      } else {
        var d = Diagnostic.error(.unknownAction, "unknown action `\(name)`", at: action.name.range)
        if let guess = suggestion(
          for: name, in: { signatures.actions.keys.sorted() + functions.map(\.declaration.name.name) })
        {
          d = d.help("did you mean `\(guess)`?")
        }
        d = d.note("actions: \(signatures.actions.keys.sorted().map { "`\($0)`" }.joined(separator: ", "))")
        diagnostics.append(d)
        for argument in action.arguments { _ = check(argument.value, expected: nil) }
      }
    }
    ensures[condition.id] = EnsureContract(target: contract, actions: resolved)
  }

  func checkBuiltinAction(
    _ action: Action, _ signature: ActionSignature, target: ConvergenceTarget?, condition: Expr, canister: RType?
  ) {
    let name = signature.name
    defer { checkActionArguments(action, signature, canister: canister) }
    guard let target else {
      if types[condition.id]?.isError == true { return }
      error(
        .ensureShape,
        "`\(name)` needs a condition on a canister property, such as `\(signature.converges.first?.description ?? "cycles >= X")`",
        condition.range, help: ensureShapeHelp(condition))
      return
    }
    let text = diagnosticsText(condition)
    guard let convergence = target.convergence, signature.converges.contains(convergence) else {
      var d = Diagnostic.error(.actionCannotConverge, "`\(name)` cannot make `\(text)` true", at: action.name.range)
      d.labels.append(.init(condition.range, "the condition"))
      d = d.note("`\(name)` converges \(signature.converges.map { "`\($0)`" }.joined(separator: ", "))")
      let others = signatures.actions.values.filter { sig in
        sig.converges.contains { if case .comparison(let p, _) = $0 { p == target.property } else { false } }
      }.map(\.name).sorted()
      if !others.isEmpty {
        d = d.help("actions for `\(target.property.rawValue)`: \(others.map { "`\($0)`" }.joined(separator: ", "))")
      } else {
        d = d.help(
          "no action changes `\(target.property.rawValue)`; use `require` to check it, or a `fn` as the action")
      }
      diagnostics.append(d)
      return
    }
    if let required = signature.requiredStatus, case .name(let word) = target.value.kind,
      signatures.constants[word] != nil, word != required
    {
      let others = signatures.actions.values.filter { $0.requiredStatus == word }.map(\.name).sorted()
      error(
        .actionCannotConverge, "`\(name)` makes the canister `\(required)`, not `\(word)`", action.name.range,
        help: others.isEmpty ? nil : "use \(others.map { "`\($0)`" }.joined(separator: " or "))")
    }
  }

  /// What to write instead of a condition no action can converge: one comparison, stated as the
  /// state wanted.
  func ensureShapeHelp(_ condition: Expr) -> String {
    var inner = condition
    while case .paren(let x) = inner.kind { inner = x }
    switch inner.kind {
    case .unary(.not, _):
      return
        "an `ensure` converges toward a state, so it cannot take `not`: name the state wanted (`controllers == [P, …] via set_controllers` keeps exactly those and removes the rest), or make a `fn` the action"
    case .binary(.and, _, _), .binary(.or, _, _):
      return "an `ensure` converges one comparison: write one `ensure` per condition"
    default:
      return "inside `step … on CANISTER`, write the property bare (`cycles >= 1T`); elsewhere `c.cycles >= 1T`"
    }
  }

  /// `canister`: the type of the canister the ensure is about (its interface types a Candid argument).
  func checkActionArguments(_ action: Action, _ signature: ActionSignature, canister: RType?) {
    var positionalSeen = false
    var seen: Set<String> = []
    for argument in action.arguments {
      guard let label = argument.label else {
        guard !positionalSeen, let parameter = signature.positional else {
          error(
            .actionArgument, "`\(signature.name)` takes no \(positionalSeen ? "second " : "")unlabelled value",
            argument.value.range,
            help: signature.labeled.isEmpty
              ? nil : "labels: \(signature.labeled.map { "`\($0.name)`" }.joined(separator: ", "))")
          _ = check(argument.value, expected: nil)
          continue
        }
        positionalSeen = true
        let type = check(argument.value, expected: parameter.type)
        expectType(type, parameter.type, for: argument.value, what: "the \(parameter.name) of `\(signature.name)`")
        continue
      }
      guard let parameter = signature.labeled.first(where: { $0.name == label.name }) else {
        var d = Diagnostic.error(.actionArgument, "`\(signature.name)` has no `\(label.name)`", at: label.range)
        if let guess = suggestion(for: label.name, in: { signature.labeled.map(\.name) }) {
          d = d.help("did you mean `\(guess)`?")
        }
        diagnostics.append(d)
        _ = check(argument.value, expected: nil)
        continue
      }
      if !seen.insert(label.name).inserted {
        error(.actionArgument, "`\(label.name)` is given twice", label.range)
      }
      if label.name == signature.candidArgument {
        let type = check(argument.value, expected: nil)
        checkInitArgument(argument.value, type, canister: canister)
        continue
      }
      if let words = signature.words[label.name] {
        if case .name(let word) = argument.value.kind, words.contains(word) {
          resolutions[argument.value.id] = .word(word)
          types[argument.value.id] = .text
        } else {
          error(
            .actionArgument, "`\(label.name)` is one of \(words.map { "`\($0)`" }.joined(separator: ", "))",
            argument.value.range)
        }
        continue
      }
      let type = check(argument.value, expected: parameter.type)
      expectType(type, parameter.type, for: argument.value, what: "`\(label.name)`")
    }
    for argument in action.arguments {
      guard let label = argument.label, let needed = signature.needs[label.name], !seen.contains(needed) else {
        continue
      }
      error(
        .actionArgument, "`\(label.name)` works only with `\(needed)`", label.range,
        help: "write `\(needed)` in the action too, or leave `\(label.name)` out")
    }
    if signature.positionalRequired, !positionalSeen, let parameter = signature.positional {
      error(
        .actionArgument, "`\(signature.name)` needs the \(parameter.name)", action.range,
        help: "write `\(signature.name) \(parameter.name.uppercased())`")
    }
  }

  func diagnosticsText(_ e: Expr) -> String {
    let file = files[e.range.file]
    return file.text(e.range)
  }
}
