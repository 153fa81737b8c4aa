import RbicDiagnostics
import RbicLexer

/// Expressions, loosest first:
///
///     or  <  and  <  not  <  == != < <= > >= contains  <  ??  <  + -  <  * / %  <  unary -  <  . () []
///
/// Comparisons do not chain (`a < b < c` is an error). `??` is right-associative.
extension Parser {
  mutating func parseExpression() throws(Failure) -> Expr {
    try parseOr()
  }

  mutating func binary(_ op: BinaryOp, _ lhs: Expr, _ rhs: Expr) -> Expr {
    makeExpr(.binary(op, lhs, rhs), lhs.range.joined(rhs.range))
  }

  mutating func parseOr() throws(Failure) -> Expr {
    var lhs = try parseAnd()
    while at(.or) {
      _ = advance()
      try countOperator()
      lhs = binary(.or, lhs, try parseAnd())
    }
    return lhs
  }

  mutating func parseAnd() throws(Failure) -> Expr {
    var lhs = try parseNot()
    while at(.and) {
      _ = advance()
      try countOperator()
      lhs = binary(.and, lhs, try parseNot())
    }
    return lhs
  }

  mutating func parseNot() throws(Failure) -> Expr {
    guard at(.not) else { return try parseComparison() }
    let start = advance()
    try enter()
    defer { leave() }
    let operand = try parseNot()
    return makeExpr(.unary(.not, operand), range(start).joined(operand.range))
  }

  func comparisonOperator() -> BinaryOp? {
    switch current.kind {
    case .equal: .equal
    case .notEqual: .notEqual
    case .less: .less
    case .lessEqual: .lessEqual
    case .greater: .greater
    case .greaterEqual: .greaterEqual
    case .keyword(.contains): .contains
    default: nil
    }
  }

  mutating func parseComparison() throws(Failure) -> Expr {
    var lhs = try parseCoalesce()
    var chained = false
    while let op = comparisonOperator() {
      let opToken = advance()
      try countOperator()
      if chained {
        report(
          .error(
            .expectedToken, "comparisons cannot be chained", at: range(opToken),
            notes: [.init(.help, "combine them with `and`: `a < b and b < c`")]))
      }
      chained = true
      lhs = binary(op, lhs, try parseCoalesce())
    }
    return lhs
  }

  mutating func parseCoalesce() throws(Failure) -> Expr {
    let lhs = try parseAdditive()
    guard at(.questionQuestion) else { return lhs }
    _ = advance()
    try countOperator()
    try enter()
    defer { leave() }
    return binary(.coalesce, lhs, try parseCoalesce())
  }

  mutating func parseAdditive() throws(Failure) -> Expr {
    var lhs = try parseMultiplicative()
    while at(.plus) || at(.minus) {
      let op: BinaryOp = advance().kind == .plus ? .add : .subtract
      try countOperator()
      lhs = binary(op, lhs, try parseMultiplicative())
    }
    return lhs
  }

  mutating func parseMultiplicative() throws(Failure) -> Expr {
    var lhs = try parseUnary()
    while at(.star) || at(.slash) || at(.percent) {
      let op: BinaryOp =
        switch advance().kind {
        case .star: .multiply
        case .slash: .divide
        default: .remainder
        }
      try countOperator()
      lhs = binary(op, lhs, try parseUnary())
    }
    return lhs
  }

  mutating func parseUnary() throws(Failure) -> Expr {
    guard at(.minus) else { return try parsePostfix() }
    let start = advance()
    try enter()
    defer { leave() }
    let operand = try parseUnary()
    return makeExpr(.unary(.negate, operand), range(start).joined(operand.range))
  }

  /// With `adjacentOnly` (action arguments, where values sit side by side), `(`, `[` and `.`
  /// continue the value only when written without a space: `f(x)` is a call, `amount (1T + 1B)` is
  /// two values, and so is `arg .Init(…)` (a label, then a variant).
  mutating func parsePostfix(adjacentOnly: Bool = false) throws(Failure) -> Expr {
    var expr = try parsePrimary()
    while true {
      if adjacentOnly, at(.lParen) || at(.lBracket) || at(.dot), current.start != previous.end { return expr }
      // A call or an index starts on the line of what it applies to: `[` or `(` at the start of
      // a line begins a new statement (the REPL's `[a, b]`), never `previous[…]`.
      if at(.lParen) || at(.lBracket), current.newlineBefore { return expr }
      switch current.kind {
      case .dot:
        _ = advance()
        try countOperator()
        let name = try expectIdentifier("a property name after `.`")
        expr = makeExpr(.member(expr, name), expr.range.joined(name.range))
      case .lParen:
        try countOperator()
        let arguments = try parseArguments()
        expr = makeExpr(.call(expr, arguments), range(from: expr.range.start))
      case .lBracket:
        _ = advance()
        try countOperator()
        try enter()
        let indexExpr = try parseExpression()
        leave()
        _ = try expect(.rBracket, "`]`")
        expr = makeExpr(.index(expr, indexExpr), range(from: expr.range.start))
      default:
        return expr
      }
    }
  }

  /// `(` [label `:`] expr, … `)`
  mutating func parseArguments() throws(Failure) -> [Argument] {
    let open = try expect(.lParen)
    try enter()
    defer { leave() }
    var arguments: [Argument] = []
    while !at(.rParen) {
      guard !at(.eof) else { throw unclosed(open, "`)`") }
      var label: Identifier?
      if at(.identifier), peek().kind == .colon {
        label = try expectIdentifier("a label")
        _ = advance()
      }
      arguments.append(Argument(label: label, value: try parseExpression()))
      if !accept(.comma) { break }
    }
    guard accept(.rParen) else {
      if at(.eof) { throw unclosed(open, "`)`") }
      throw fail(expected: "`,` or `)` in the argument list")
    }
    return arguments
  }

  mutating func unclosed(_ open: Token, _ closer: String) -> Failure {
    report(
      .error(
        .unclosedDelimiter, "expected \(closer) before the end of the \(isInterpolation ? "interpolation" : "file")",
        at: range(current), labels: [.init(range(open), "opened here")]))
    return Failure()
  }

  mutating func parsePrimary() throws(Failure) -> Expr {
    let token = current
    let r = range(token)
    switch token.kind {
    case .integer:
      _ = advance()
      guard case .int(let v) = token.literal else { return makeExpr(.invalid, r) }
      return makeExpr(.integer(v), r)
    case .unitLiteral:
      _ = advance()
      guard case .unit(let unit, let v) = token.literal else { return makeExpr(.invalid, r) }
      return makeExpr(.amount(unit, v), r)
    case .hash:
      _ = advance()
      guard case .hash(let bytes) = token.literal else { return makeExpr(.invalid, r) }
      return makeExpr(.hash(bytes), r)
    case .principal:
      _ = advance()
      guard case .principal(let bytes) = token.literal else { return makeExpr(.invalid, r) }
      return makeExpr(.principal(bytes), r)
    case .badLiteral:
      _ = advance()
      return makeExpr(.invalid, r)
    case .string:
      _ = advance()
      guard case .string(let parts) = token.literal else { return makeExpr(.invalid, r) }
      var out: [InterpolatedPart] = []
      for part in parts {
        switch part {
        case .text(let t): out.append(.text(t))
        case .interpolation(let s, let e): out.append(.expr(parseInterpolation(start: s, end: e)))
        }
      }
      return makeExpr(.string(out), r)
    case .keyword(.true):
      _ = advance()
      return makeExpr(.bool(true), r)
    case .keyword(.false):
      _ = advance()
      return makeExpr(.bool(false), r)
    case .keyword(.none):
      _ = advance()
      return makeExpr(.none, r)
    case .keyword(.call):
      // `let key = call c.reset_signing_key()`: the reply as a value.
      _ = advance()
      try enter()
      defer { leave() }
      let inner = try parsePostfix()
      guard case .call(let callee, _) = inner.kind, case .member = callee.kind else {
        report(
          .error(
            .invalidCallStatement, "`call` needs a canister method call such as `canister.method(args)`",
            at: inner.range))
        return makeExpr(.invalid, r.joined(inner.range))
      }
      let cycles = try parseCallCycles()
      return makeExpr(.reply(inner, cycles: cycles), r.joined(cycles?.range ?? inner.range))
    case .identifier:
      _ = advance()
      return makeExpr(.name(file.text(r)), r)
    case .dot:
      // `.Tag` or `.Tag(value)`: a variant, the payload written right after the tag.
      _ = advance()
      let tag = try expectIdentifier("a variant tag after `.`, such as `.Upgrade`")
      guard at(.lParen), current.start == previous.end else {
        return makeExpr(.variant(tag, nil), range(from: token.start))
      }
      let open = advance()
      try enter()
      defer { leave() }
      let payload = try parseExpression()
      guard accept(.rParen) else {
        if at(.eof) { throw unclosed(open, "`)`") }
        if at(.comma) {
          report(
            .error(
              .expectedExpression, "a variant carries one value", at: range(current),
              notes: [.init(.help, "put several values in a record: `.\(tag.name)({a: 1, b: 2})`")]))
          throw Failure()
        }
        throw fail(expected: "`)` after the variant's value")
      }
      return makeExpr(.variant(tag, payload), range(from: token.start))
    case .lParen:
      _ = advance()
      try enter()
      defer { leave() }
      let inner = try parseExpression()
      guard accept(.rParen) else {
        if at(.eof) { throw unclosed(token, "`)`") }
        throw fail(expected: "`)`")
      }
      return makeExpr(.paren(inner), range(from: token.start))
    case .lBracket:
      _ = advance()
      try enter()
      defer { leave() }
      var elements: [Expr] = []
      while !at(.rBracket) {
        guard !at(.eof) else { throw unclosed(token, "`]`") }
        elements.append(try parseExpression())
        if !accept(.comma) { break }
      }
      guard accept(.rBracket) else {
        if at(.eof) { throw unclosed(token, "`]`") }
        throw fail(expected: "`,` or `]` in the list")
      }
      return makeExpr(.list(elements), range(from: token.start))
    case .lBrace:
      _ = advance()
      try enter()
      defer { leave() }
      var fields: [RecordField] = []
      while !at(.rBrace) {
        guard !at(.eof) else { throw unclosed(token, "`}`") }
        let name = try expectIdentifier("a field name")
        _ = try expect(.colon, "`:` after the field name")
        fields.append(RecordField(name: name, value: try parseExpression()))
        if !accept(.comma) { break }
      }
      guard accept(.rBrace) else {
        if at(.eof) { throw unclosed(token, "`}`") }
        throw fail(expected: "`,` or `}` in the record")
      }
      return makeExpr(.record(fields), range(from: token.start))
    default:
      throw fail(expected: "an expression", code: .expectedExpression)
    }
  }

  /// Parses the expression inside `{…}` of a string, from its own token stream.
  mutating func parseInterpolation(start: Int, end: Int) -> Expr {
    let lexed = Lexer.lex(file, range: start..<end)
    diagnostics += lexed.diagnostics
    var sub = Parser(tokens: lexed.tokens, comments: [], file: file, nextID: nextID, isInterpolation: true)
    sub.depth = depth
    var expr: Expr?
    do {
      let e = try sub.parseExpression()
      if !sub.at(.eof) { throw sub.fail(expected: "the end of the interpolated expression") }
      expr = e
    } catch {}
    nextID = sub.nextID
    diagnostics += sub.diagnostics
    return expr ?? makeExpr(.invalid, SourceRange(file: file.id, start: start, end: end))
  }
}
