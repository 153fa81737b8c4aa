import RbicDiagnostics
import RbicLexer
import RbicParser

extension Checker {
  /// Types an expression, recording the type under its id. `expected` lets literals adopt a type:
  /// an integer literal becomes `cycles` or `bytes`, a principal literal a `canister` or `wallet`,
  /// a string literal a `path`, `none` and `[]` the expected optional or list.
  @discardableResult
  func check(_ e: Expr, expected: RType?, methodCall: Bool = false) -> RType {
    let type = infer(e, expected: expected, methodCall: methodCall)
    types[e.id] = type
    return type
  }

  /// Whether the expression's type comes from its context (so the other operand goes first).
  func adoptsType(_ e: Expr) -> Bool {
    switch e.kind {
    case .integer, .principal, .none: return true
    case .string(let parts): return parts.allSatisfy { if case .text = $0 { true } else { false } }
    case .list(let items): return items.allSatisfy(adoptsType)
    case .unary(.negate, let x), .paren(let x): return adoptsType(x)
    default: return false
    }
  }

  /// `with cycles N via wallet W` on a call: N is an amount of `cycles`, W a `wallet`, and the
  /// method an update (a query carries no cycles: they go with an update call made by the wallet).
  func checkCallCycles(_ cycles: CallCycles?, call: Expr) {
    guard let cycles else { return }
    let amount = check(cycles.amount, expected: .cycles)
    expectType(amount, .cycles, for: cycles.amount, what: "the cycles a call carries")
    let wallet = check(cycles.wallet, expected: .wallet)
    expectType(wallet, .wallet, for: cycles.wallet, what: "the wallet a call's cycles come from")
    if let typed = methodCalls[call.id], let f = interfaces[typed.interface]?.method(typed.method), f.isQuery {
      error(
        .typeMismatch, "`\(typed.method)` is a query, and a query carries no cycles", cycles.range,
        help: "cycles go with an update call, which the wallet makes")
    }
  }

  private func infer(_ e: Expr, expected: RType?, methodCall: Bool) -> RType {
    let want = expected?.unwrapped
    switch e.kind {
    case .invalid:
      return .error
    case .reply(let inner, let cycles):
      // The call is checked as a call; its value is the decoded reply (the Candid text when the
      // canister's interface is not known).
      let callType = check(inner, expected: nil, methodCall: true)
      checkCallCycles(cycles, call: inner)
      if callType.isError { return .error }
      guard let typed = methodCalls[inner.id], let env = interfaces[typed.interface], let f = env.method(typed.method)
      else {
        if case .call(let callee, _) = inner.kind, case .member(let target, _) = callee.kind,
          case .service = types[target.id] ?? .error
        {
          return .error  // the method was reported unknown
        }
        return .text
      }
      let replyType = CandidReply.type(of: f.results, in: env)
      // A `nat` reply read as cycles where the runbook says so (`let b: cycles = call w.balance()`).
      if want == .cycles, replyType == .int, CandidReply.naturalRange(f.results, in: env) != nil { return .cycles }
      return replyType
    case .integer(let value):
      switch want {
      case .cycles?: return .cycles
      case .bytes?: return .bytes
      case let unit? where unit == .duration || unit == .icp:
        if value == 0 { return unit }
        error(
          .ambiguousUnit, "`\(value)` needs a unit to be a `\(unit)`", e.range,
          help: want == .duration ? "write `\(value)s`, `\(value)min` or `\(value)ms`" : "write `\(value)ICP`")
        return .error
      default: return .int
      }
    case .amount(let unit, _): return RType.of(unit)
    case .string(let parts):
      for part in parts {
        guard case .expr(let x) = part else { continue }
        let t = check(x, expected: nil)
        if t.containsSecret {
          error(
            .secretExposure, "a `secret` cannot be interpolated into text", x.range,
            help: "secrets are passed as arguments, never pasted into text")
        } else if t == .void {
          error(.typeMismatch, "this expression returns nothing to interpolate", x.range)
        }
      }
      // A string written where a path is expected is that path, interpolated or not
      // (`"target/{name}.wasm"`); a `text` value elsewhere stays text.
      if want == .path { return .path }
      return .text
    case .bool: return .bool
    case .none:
      if let expected, expected.isOptional { return expected }
      return .none
    case .hash: return .hash
    case .variant(let tag, let payload):
      // The payload adopts the expected tag's type (`.Upgrade({…})` where a variant is expected).
      var hint: RType?
      if case .variant(let tags)? = want { hint = tags.first { $0.name == tag.name }?.type }
      guard let payload else { return .variant([RType.Field(tag.name, .void)]) }
      let t = check(payload, expected: hint == .void ? nil : hint)
      if t.isError { return .error }
      if t == .void {
        error(.typeMismatch, "this expression returns nothing to carry in `.\(tag.name)`", payload.range)
      }
      return .variant([RType.Field(tag.name, t)])
    case .principal(let bytes):
      if let want, want.isCanister { return want }
      // The text says what it is: an opaque id (`…-cai`) names a canister.
      return bytes.last == 0x01 ? .canister : .principal
    case .name(let name):
      return inferName(e, name)
    case .paren(let x):
      return check(x, expected: expected)
    case .list(let items):
      return inferList(e, items, expected: expected)
    case .record(let fields):
      var seen: Set<String> = []
      var out: [RType.Field] = []
      let expectedFields: [RType.Field] = if case .record(let f) = want { f } else { [] }
      for field in fields {
        if !seen.insert(field.name.name).inserted {
          error(.duplicateDefinition, "field `\(field.name.name)` appears twice", field.name.range)
        }
        let hint = expectedFields.first { $0.name == field.name.name }?.type
        out.append(RType.Field(field.name.name, check(field.value, expected: hint)))
      }
      return .record(out)
    case .unary(.not, let x):
      let t = check(x, expected: .bool)
      expectType(t, .bool, for: x, what: "the operand of `not`")
      return .bool
    case .unary(.negate, let x):
      let t = check(x, expected: expected)
      if t.isError { return .error }
      guard t == .int || t.isUnit else {
        error(.invalidOperands, "cannot negate a `\(t)`", e.range)
        return .error
      }
      return t
    case .binary(let op, let lhs, let rhs):
      return inferBinary(e, op, lhs, rhs, expected: expected)
    case .member(let target, let name):
      return inferMember(e, target, name)
    case .index(let target, let index):
      let t = check(target, expected: nil)
      let i = check(index, expected: .int)
      expectType(i, .int, for: index, what: "an index")
      if t.isError { return .error }
      guard case .list(let element) = t else {
        error(.invalidOperands, "cannot index a `\(t)`", target.range, help: "only lists are indexed: `xs[0]`")
        return .error
      }
      return element
    case .call(let callee, let arguments):
      return inferCall(e, callee, arguments, methodCall: methodCall)
    }
  }

  private func inferName(_ e: Expr, _ name: String) -> RType {
    if let index = lookup(name) {
      symbols[index].used = true
      let symbol = symbols[index]
      resolutions[e.id] = symbol.resolution
      switch symbol.kind {
      case .function, .builtin:
        error(.typeMismatch, "`\(name)` is a function; call it with `\(name)(…)`", e.range)
        return .error
      default:
        return symbol.type
      }
    }
    if let property = CanisterProperty(rawValue: name), CanisterProperty.subjectProperties.contains(property) {
      error(
        .subjectOutsideStep, "`\(name)` is a canister property, usable bare only inside `step … on CANISTER`", e.range,
        help: inStep ? "add `on CANISTER` to the step, or write `c.\(name)`" : "write `c.\(name)` for a canister `c`")
      return .error
    }
    var d = Diagnostic.error(.unknownName, "unknown name `\(name)`", at: e.range)
    if let later = laterDeclarations[name] {
      mentionedEarly.insert(name)
      d = d.note(
        "`\(name)` is declared later, on line \(files[later.file].line(of: later.start)); declarations are visible after they appear"
      )
    } else if let guess = suggestion(for: name, in: visibleNames) {
      d = d.help("did you mean `\(guess)`?")
    }
    diagnostics.append(d)
    return .error
  }

  private func inferList(_ e: Expr, _ items: [Expr], expected: RType?) -> RType {
    var elementHint: RType?
    if case .list(let t) = expected?.unwrapped { elementHint = t }
    if items.isEmpty {
      if let elementHint { return .list(elementHint) }
      error(
        .typeMismatch, "the type of an empty list is unknown here", e.range,
        help: "declare it: `let xs: [principal] = []`")
      return .error
    }
    var element: RType?
    for item in items {
      let t = check(item, expected: elementHint ?? element)
      guard let current = element else {
        element = t
        continue
      }
      if let joined = current.join(t) {
        element = joined
      } else {
        error(.typeMismatch, "list elements must have one type: `\(t)` among `\(current)`", item.range)
      }
    }
    return .list(element ?? .error)
  }

  private func inferBinary(_ e: Expr, _ op: BinaryOp, _ lhs: Expr, _ rhs: Expr, expected: RType?) -> RType {
    switch op {
    case .and, .or:
      let l = check(lhs, expected: .bool)
      expectType(l, .bool, for: lhs, what: "an operand of `\(op.rawValue)`")
      // The right side runs only when the left is true (`and`) or false (`or`): it sees what that proves.
      let r = withNarrowing(narrowings(of: lhs, when: op == .and)) { check(rhs, expected: .bool) }
      expectType(r, .bool, for: rhs, what: "an operand of `\(op.rawValue)`")
      return .bool
    case .coalesce:
      let l = check(lhs, expected: expected.map { .optional($0.unwrapped) })
      if l.isError {
        check(rhs, expected: expected)
        return .error
      }
      guard case .optional(let wrapped) = l else {
        if let name = narrowedName(lhs) {
          warning(
            .redundantDefault, "`\(name)` is never `none` here: a check before this rules it out", lhs.range,
            help: "remove `?? …`")
          check(rhs, expected: l)
          return l
        }
        error(
          .invalidOperands, "the left side of `??` is a `\(l)`, which is never `none`", lhs.range, help: "remove `?? …`"
        )
        check(rhs, expected: l)
        return l
      }
      let r = check(rhs, expected: wrapped)
      expectType(r, wrapped, for: rhs, what: "the default")
      return wrapped
    default:
      break
    }
    // The operand whose type comes from context is checked second, with the other's type.
    var l: RType
    var r: RType
    let literalFirst = adoptsType(lhs) && !adoptsType(rhs)
    let scalesByInt = op == .multiply || op == .divide
    if literalFirst {
      r = check(rhs, expected: nil)
      l = check(lhs, expected: scalesByInt ? nil : operandHint(r, op))
    } else {
      l = check(lhs, expected: nil)
      r = check(rhs, expected: scalesByInt ? nil : operandHint(l, op))
    }
    if l.isError || r.isError { return op.isComparison ? .bool : .error }
    if l.containsSecret || r.containsSecret, op != .equal, op != .notEqual {
      error(.secretExposure, "a `secret` can only be compared with `==` or `!=`", e.range)
      return .error
    }
    func invalid(_ help: String? = nil) -> RType {
      error(.invalidOperands, "`\(op.rawValue)` cannot combine `\(l)` and `\(r)`", e.range, help: help)
      return op.isComparison ? .bool : .error
    }
    switch op {
    case .equal, .notEqual:
      if l.join(r) == nil, l.unwrapped.join(r.unwrapped) == nil {
        return invalid(unitHint(l, r))
      }
      return .bool
    case .less, .lessEqual, .greater, .greaterEqual:
      if l.isOptional || r.isOptional {
        error(
          .optionalNotUnwrapped, "cannot order a value that may be `none` (`\(l.isOptional ? l : r)`)", e.range,
          help: "give a default with `??`\(noneCheckHint(l.isOptional ? lhs : rhs))")
        return .bool
      }
      guard l == r, l.isOrdered else { return invalid(unitHint(l, r)) }
      return .bool
    case .contains:
      if l == .text, r == .text { return .bool }
      guard case .list(let element) = l else { return invalid("`contains` needs a list or a text on its left") }
      if r.isAssignable(to: element) || element.isAssignable(to: r) { return .bool }
      if case .list(let other) = r, other.isAssignable(to: element) || element.join(other) != nil { return .bool }
      return invalid()
    case .add:
      if l == r, l == .int || l.isUnit || l == .text { return l }
      if case .list(let a) = l, case .list(let b) = r, let j = a.join(b) { return .list(j) }
      return invalid(unitHint(l, r))
    case .subtract:
      if l == r, l == .int || l.isUnit { return l }
      return invalid(unitHint(l, r))
    case .multiply:
      if l == .int, r == .int { return .int }
      if l.isUnit, r == .int { return l }
      if l == .int, r.isUnit { return r }
      return invalid(l.isUnit && r.isUnit ? "a unit times a unit has no meaning here; multiply by an `int`" : nil)
    case .divide:
      if l == .int, r == .int { return .int }
      if l.isUnit, r == .int { return l }
      if l.isUnit, l == r { return .int }
      return invalid()
    case .remainder:
      if l == r, l == .int || l.isUnit { return l }
      return invalid()
    default:
      return invalid()
    }
  }

  /// What the second operand of `op` should adopt, given the first operand's type.
  private func operandHint(_ other: RType, _ op: BinaryOp) -> RType? {
    if op == .contains, case .list(let element) = other { return element }
    return other.isError ? nil : other.unwrapped
  }

  private func unitHint(_ l: RType, _ r: RType) -> String? {
    if l.isUnit, r == .int || r.isUnit { return "units never mix: write the right side as a `\(l)` amount" }
    if r.isUnit, l == .int { return "units never mix: write the left side as a `\(r)` amount" }
    return nil
  }

  private func inferMember(_ e: Expr, _ target: Expr, _ name: Identifier) -> RType {
    // A principal literal in front of `.` means a canister.
    let t = check(target, expected: .canister)
    if t.isError { return .error }
    if case .optional = t {
      error(
        .optionalNotUnwrapped, "`\(diagnosticsText(target))` may be `none`", target.range,
        help: "give a default with `??` first\(noneCheckHint(target))")
      return .error
    }
    switch t {
    case .canister, .wallet, .service:
      if let property = CanisterProperty(rawValue: name.name), property != .balance || t == .wallet {
        return property.type
      }
      var names = CanisterProperty.allCases.map(\.rawValue)
      if t != .wallet { names.removeAll { $0 == "balance" } }
      return unknownMember(name, of: t, candidates: names)
    case .list, .text:
      if name.name == "count" { return .int }
      return unknownMember(name, of: t, candidates: ["count"])
    case .record(let fields):
      if let field = fields.first(where: { $0.name == name.name }) { return field.type }
      return unknownMember(name, of: t, candidates: fields.map(\.name))
    case .principal:
      var d = Diagnostic.error(.unknownProperty, "a `principal` has no property `\(name.name)`", at: name.range)
      if CanisterProperty(rawValue: name.name) != nil {
        d = d.help(
          "this principal is not a canister id (those end in `-cai`); if it names a canister, declare it so: `let c: canister = …`"
        )
      }
      diagnostics.append(d)
      return .error
    default:
      return unknownMember(name, of: t, candidates: [])
    }
  }

  private func unknownMember(_ name: Identifier, of type: RType, candidates: [String]) -> RType {
    var d = Diagnostic.error(.unknownProperty, "`\(type)` has no property `\(name.name)`", at: name.range)
    if let guess = suggestion(for: name.name, in: { candidates }) {
      d = d.help("did you mean `\(guess)`?")
    } else if !candidates.isEmpty {
      d = d.note("properties: \(candidates.map { "`\($0)`" }.joined(separator: ", "))")
    }
    diagnostics.append(d)
    return .error
  }

  private func inferCall(_ e: Expr, _ callee: Expr, _ arguments: [Argument], methodCall: Bool) -> RType {
    switch callee.kind {
    case .member(let target, let method):
      let t = check(target, expected: .canister)
      if !t.isError, !t.isCanister {
        error(.notCallable, "`\(t)` has no methods", callee.range)
      } else if !methodCall, !t.isError {
        error(
          .invalidCallStatement, "canister methods are called with `call`", e.range,
          help: "write `call \(diagnosticsText(e))` as a statement")
      }
      for argument in arguments {
        if let label = argument.label {
          error(
            .argumentLabel, "canister method arguments are positional", label.range, help: "remove `\(label.name):`")
        }
      }
      types[callee.id] = .void
      if case .service(let interface) = t {
        checkMethodCall(e, interface: interface, method: method, arguments)
        return .void
      }
      for argument in arguments {
        let a = check(argument.value, expected: nil)
        if a == .void { error(.typeMismatch, "this expression returns nothing to pass", argument.value.range) }
      }
      return .void
    case .name(let name):
      guard let index = lookup(name) else {
        _ = check(callee, expected: nil)
        for argument in arguments { check(argument.value, expected: nil) }
        return .error
      }
      symbols[index].used = true
      resolutions[callee.id] = symbols[index].resolution
      switch symbols[index].resolution {
      case .builtin(let b):
        guard let signature = signatures.builtins[b] else { return .error }
        let argTypes = checkArguments(
          arguments, parameters: signature.parameters, variadic: signature.variadic, callee: b, at: e.range,
          positional: signature.positionalCount,
          generic: signature.typeRule != nil)
        guard let rule = signature.typeRule else { return signature.result }
        if argTypes.contains(where: \.isError) { return .error }
        switch rule(argTypes) {
        case .success(let t): return t
        case .failure(let why):
          error(.typeMismatch, "`\(b)`: \(why.message)", e.range)
          return .error
        }
      case .function(let f):
        let info = functions[f]
        let parameters = zip(info.declaration.parameters, info.parameterTypes).map {
          BuiltinParameter($0.name.name, $1)
        }
        _ = checkArguments(arguments, parameters: parameters, variadic: nil, callee: name, at: e.range)
        return info.result
      default:
        error(.notCallable, "`\(name)` is a `\(symbols[index].type)`, not a function", callee.range)
        for argument in arguments { check(argument.value, expected: nil) }
        return .error
      }
    default:
      let t = check(callee, expected: nil)
      if !t.isError { error(.notCallable, "this `\(t)` is not a function", callee.range) }
      for argument in arguments { check(argument.value, expected: nil) }
      return .error
    }
  }

  /// Matches arguments to parameters (positional first, then by label) and checks their types.
  /// Returns the argument types in parameter order (for generic builtins).
  func checkArguments(
    _ arguments: [Argument], parameters: [BuiltinParameter], variadic: RType?, callee: String, at range: SourceRange,
    positional: Int? = nil, generic: Bool = false
  ) -> [RType] {
    let positional = positional ?? parameters.count
    var filled = [RType?](repeating: nil, count: parameters.count)
    var extra: [RType] = []
    var position = 0
    for argument in arguments {
      if let label = argument.label {
        guard let i = parameters.firstIndex(where: { $0.name == label.name }) else {
          var d = Diagnostic.error(.argumentLabel, "`\(callee)` has no parameter `\(label.name)`", at: label.range)
          if let guess = suggestion(for: label.name, in: { parameters.map(\.name) }) {
            d = d.help("did you mean `\(guess)`?")
          }
          diagnostics.append(d)
          check(argument.value, expected: nil)
          continue
        }
        if filled[i] != nil {
          error(.argumentLabel, "`\(label.name)` is given twice", label.range)
        }
        filled[i] = checkArgument(argument.value, parameters[i], callee: callee, generic: generic)
        continue
      }
      if position < positional {
        filled[position] = checkArgument(argument.value, parameters[position], callee: callee, generic: generic)
        position += 1
      } else if let variadic {
        let t = check(argument.value, expected: generic ? nil : variadic)
        if !generic { expectType(t, variadic, for: argument.value, what: "an argument of `\(callee)`") }
        extra.append(t)
      } else {
        error(
          .argumentCount,
          "`\(callee)` takes \(parameters.count) argument\(parameters.count == 1 ? "" : "s"), but more were given",
          argument.value.range)
        check(argument.value, expected: nil)
      }
    }
    for (i, parameter) in parameters.enumerated() where filled[i] == nil && parameter.defaultDescription == nil {
      error(.argumentCount, "`\(callee)` is missing its `\(parameter.name)` argument (a `\(parameter.type)`)", range)
      filled[i] = .error
    }
    // In parameter order, a defaulted parameter left out as its declared type (a type rule reads
    // each by its place).
    return filled.enumerated().map { i, t in t ?? parameters[i].type } + extra
  }

  private func checkArgument(_ value: Expr, _ parameter: BuiltinParameter, callee: String, generic: Bool) -> RType {
    if generic { return check(value, expected: nil) }
    let t = check(value, expected: parameter.type)
    expectType(t, parameter.type, for: value, what: "`\(parameter.name)` of `\(callee)`")
    return t
  }
}
