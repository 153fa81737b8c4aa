import RbicParser

/// Narrowing of optionals: where a condition proves that an optional binding is not `none`, the
/// binding has the unwrapped type.
///
/// - inside `if x != none { … }` (and the `else` of `if x == none`);
/// - after `if x == none { … }` whose block always leaves (`skip`, `fail`, `return`, or an `if`
///   whose every branch does), to the end of the enclosing block;
/// - on the right of `x != none and …` (and of `x == none or …`);
/// - through `not`, parentheses, `none == x`, and every part of an `and` (or, when false, an `or`).
///
/// Only bindings that cannot change narrow: `param`, `let`, a `fn` parameter, a loop variable
/// (the language has no assignment). A canister property read bare in a step is re-read, so it never
/// narrows. A narrowed binding is the same slot with the unwrapped type; the interpreter needs
/// nothing, since its value is not `none` there. A `fn` body never sees a narrowing made outside it:
/// functions are hoisted, and may run before the `if`.
extension Checker {
  /// The bindings `condition` proves not `none` when it evaluates to `outcome`.
  func narrowings(of condition: Expr, when outcome: Bool) -> [Int] {
    switch condition.kind {
    case .paren(let x): return narrowings(of: x, when: outcome)
    case .unary(.not, let x): return narrowings(of: x, when: !outcome)
    case .binary(.and, let l, let r):
      return outcome ? narrowings(of: l, when: true) + narrowings(of: r, when: true) : []
    case .binary(.or, let l, let r):
      return outcome ? [] : narrowings(of: l, when: false) + narrowings(of: r, when: false)
    case .binary(let op, let l, let r) where op == .equal || op == .notEqual:
      guard outcome == (op == .notEqual) else { return [] }
      let other = isNone(l) ? r : isNone(r) ? l : nil
      return other.flatMap(narrowable).map { [$0] } ?? []
    default: return []
    }
  }

  /// What an `if` proves to the statements after it: when one side always leaves, the other side's
  /// condition holds there.
  func narrowingsAfter(_ stmt: Stmt) -> [Int] {
    guard case .if(let condition, let then, let otherwise) = stmt.kind else { return [] }
    let elseLeaves: Bool
    switch otherwise {
    case .none: elseLeaves = false
    case .block(let b): elseLeaves = leaves(b)
    case .elseIf(let s): elseLeaves = leaves(s)
    }
    switch (leaves(then), elseLeaves) {
    case (true, false):
      // Past an `else if`, its own condition was false too, unless its branch left.
      if case .elseIf(let s)? = otherwise { return narrowings(of: condition, when: false) + narrowingsAfter(s) }
      return narrowings(of: condition, when: false)
    case (false, true): return narrowings(of: condition, when: true)
    default: return []
    }
  }

  /// Narrows `bindings` in the innermost scope, to its end.
  func narrow(_ bindings: [Int]) {
    for index in bindings {
      var symbol = symbols[index]
      guard case .optional(let wrapped) = symbol.type else { continue }
      symbol.type = wrapped
      symbol.used = true  // the condition that narrowed it used it
      symbol.narrows = symbol.narrows ?? index
      scopes[scopes.count - 1].narrowed[symbol.name] = addSymbol(symbol)
    }
  }

  /// `body` checked in a scope of its own where `bindings` are narrowed.
  func withNarrowing<T>(_ bindings: [Int], _ body: () -> T) -> T {
    guard !bindings.isEmpty else { return body() }
    return withScope {
      narrow(bindings)
      return body()
    }
  }

  /// `, or leave when it is: `if x == none { skip "…" }`` for a binding that can be narrowed.
  func noneCheckHint(_ e: Expr) -> String {
    guard let index = narrowable(e) else { return "" }
    return ", or leave first when it is: `if \(symbols[index].name) == none { skip \"…\" }`"
  }

  /// A name narrowed here, where an optional was expected (`x ?? default` after the check).
  func narrowedName(_ e: Expr) -> String? {
    switch e.kind {
    case .paren(let x): return narrowedName(x)
    case .name(let name):
      guard let index = lookup(name), symbols[index].narrows != nil else { return nil }
      return name
    default: return nil
    }
  }

  /// The symbol of an optional binding that cannot change, named by `e`.
  func narrowable(_ e: Expr) -> Int? {
    switch e.kind {
    case .paren(let x): return narrowable(x)
    case .name(let name):
      guard let index = lookup(name), case .optional = symbols[index].type else { return nil }
      switch symbols[index].kind {
      case .param, .global, .local, .loopVariable, .parameter: return index
      case .function, .builtin, .constant, .property: return nil
      }
    default: return nil
    }
  }

  private func isNone(_ e: Expr) -> Bool {
    switch e.kind {
    case .none: true
    case .paren(let x): isNone(x)
    default: false
    }
  }
}
