import RbicDiagnostics
import RbicLexer

extension Parser {
  /// Statements up to `}` (blocks) or the end of the file (top level).
  mutating func parseStatements(topLevel: Bool, firstMayShareLine: Bool = false) -> [Stmt] {
    var statements: [Stmt] = []
    var first = firstMayShareLine
    while !at(.eof) {
      if at(.rBrace) {
        if !topLevel { break }
        report(.error(.expectedStatement, "unexpected `}` with no block to close", at: range(current)))
        _ = advance()
        continue
      }
      if !first, !current.newlineBefore {
        report(
          .error(
            .statementOnSameLine, "expected a new line before \(describe(current))", at: range(current),
            notes: [.init(.help, "each statement starts on a line of its own")]))
      }
      first = false
      let startIndex = index
      operators = 0
      do {
        statements.append(try parseStatement(topLevel: topLevel))
      } catch {
        synchronize(after: startIndex)
        if index == startIndex { _ = advance() }
      }
    }
    return statements
  }

  mutating func parseBlock() throws(Failure) -> Block {
    let open = try expect(.lBrace, "`{`")
    try enter()
    defer { leave() }
    let statements = parseStatements(topLevel: false, firstMayShareLine: true)
    guard at(.rBrace) else {
      // Only the end of the file stops a block early; keep what was parsed.
      report(
        .error(
          .unclosedDelimiter, "expected `}` to close the block", at: range(current),
          labels: [.init(range(open), "block opened here")]))
      return Block(statements: statements, range: range(from: open.start))
    }
    _ = advance()
    return Block(statements: statements, range: range(from: open.start))
  }

  mutating func parseStatement(topLevel: Bool) throws(Failure) -> Stmt {
    let start = current
    let startIndex = index
    let kind: Stmt.Kind
    var doc: [String] = []
    switch current.kind {
    case .keyword(.runbook):
      report(
        .error(
          .misplacedHeader, "`runbook` must be the first line of the file, and appear once", at: range(current)))
      throw Failure()
    case .keyword(.use):
      requireTopLevel(topLevel, "use")
      _ = advance()
      if isContextual("network") {
        _ = advance()
        kind = .useNetwork(try parseNetworkName())
      } else if isContextual("identity") {
        _ = advance()
        kind = .useIdentity(try parseExpression())
      } else {
        throw fail(expected: "`network` or `identity` after `use`")
      }
    case .keyword(.param):
      requireTopLevel(topLevel, "param")
      doc = docComment(before: start)
      _ = advance()
      let name = try expectIdentifier("a parameter name")
      _ = try expect(.colon, "`:` and the parameter's type")
      let type = try parseType()
      let value = accept(.assign) ? try parseExpression() : nil
      kind = .param(name: name, type: type, defaultValue: value)
    case .keyword(.let):
      doc = docComment(before: start)
      _ = advance()
      let name = try expectIdentifier("a name after `let`")
      let type = accept(.colon) ? try parseType() : nil
      _ = try expect(.assign, "`=`")
      // A broken value still declares the name, so later uses do not cascade into more errors.
      let valueStart = current.start
      var value: Expr
      do {
        value = try parseExpression()
      } catch {
        synchronize(after: startIndex)
        value = makeExpr(.invalid, SourceRange(file: file.id, start: valueStart, end: max(valueStart, previous.end)))
      }
      kind = .let(name: name, type: type, value: value)
    case .keyword(.fn):
      requireTopLevel(topLevel, "fn")
      doc = docComment(before: start)
      kind = .function(try parseFunction())
    case .keyword(.import):
      requireTopLevel(topLevel, "import")
      _ = advance()
      let pathToken = try expect(.string, "a file path as a string")
      guard case .string(let parts) = pathToken.literal, parts.count <= 1,
        parts.allSatisfy({ if case .text = $0 { true } else { false } })
      else {
        report(.error(.expectedToken, "an import path must be a plain string", at: range(pathToken)))
        throw Failure()
      }
      let path = parts.first.map { if case .text(let t) = $0 { t } else { "" } } ?? ""
      if isContextual("as"), !current.newlineBefore {
        _ = advance()
        kind = .importInterface(path: path, range: range(pathToken), name: try expectIdentifier("the interface's name"))
      } else {
        kind = .import(path: path, range: range(pathToken))
      }
    case .keyword(.step):
      doc = docComment(before: start)
      if inStep || inFunction {
        report(
          .error(
            .nestedStep, inStep ? "a step cannot contain another step" : "a step cannot be declared inside a `fn`",
            at: range(current),
            notes: [.init(.help, "steps belong at the top level, or in `if` and `for` blocks there")]))
      }
      _ = advance()
      let title = try parseExpression()
      let subject = accept(.on) ? try parseExpression() : nil
      let saved = inStep
      inStep = true
      defer { inStep = saved }
      kind = .step(title: title, subject: subject, body: try parseBlock())
    case .keyword(.ensure):
      _ = advance()
      let condition = try parseExpression()
      guard accept(.via) else {
        throw fail(
          expected: "`via` and an action",
          help: "write `ensure CONDITION via ACTION`, e.g. `ensure cycles >= 1T via top_up`")
      }
      var actions = [try parseAction()]
      while accept(.or) { actions.append(try parseAction()) }
      kind = .ensure(condition: condition, actions: actions)
    case .keyword(.require), .keyword(.expect):
      let isRequire = at(.require)
      _ = advance()
      let condition = try parseExpression()
      let message =
        at(.else) && !current.newlineBefore
        ? try { () throws(Failure) -> Expr in
          _ = advance()
          return try parseExpression()
        }() : nil
      kind = isRequire ? .require(condition, message: message) : .expect(condition, message: message)
    case .keyword(.confirm):
      _ = advance()
      kind = .confirm(try parseExpression())
    case .keyword(.skip):
      _ = advance()
      kind = .skip(try parseExpression())
    case .keyword(.fail):
      _ = advance()
      kind = .fail(try parseExpression())
    case .keyword(.print):
      _ = advance()
      kind = .print(try parseExpression())
    case .keyword(.if):
      kind = try parseIf()
    case .keyword(.for), .keyword(.parallel):
      let parallel = accept(.parallel)
      _ = try expect(.keyword(.for), "`for` after `parallel`")
      let variable = try expectIdentifier("a loop variable")
      _ = try expect(.keyword(.in), "`in`")
      let sequence = try parseExpression()
      var keepGoing = try parseKeepGoing()
      var limit: Expr?
      if parallel {
        guard isContextual("limit") else {
          throw fail(
            expected: "`limit N` after the list",
            help: "a parallel loop says how many branches run at once: `parallel for c in fleet limit 10`")
        }
        _ = advance()
        limit = try parseExpression()
      }
      if keepGoing == nil { keepGoing = try parseKeepGoing() }
      kind = .for(
        variable: variable, sequence: sequence, body: try parseBlock(), parallelLimit: limit, keepGoing: keepGoing)
    case .keyword(.call):
      _ = advance()
      let expr = try parseExpression()
      if case .call(let callee, _) = expr.kind, case .member = callee.kind {
      } else {
        report(
          .error(
            .invalidCallStatement, "`call` needs a canister method call such as `canister.method(args)`",
            at: expr.range))
      }
      kind = .call(expr, cycles: try parseCallCycles())
    case .keyword(.on):
      _ = advance()
      guard isContextual("failure") else {
        throw fail(
          expected: "`failure` after `on`",
          help: "a statement `on failure { … }` says what to do if the step fails from here on")
      }
      if !inStep {
        report(
          .error(
            .misplacedStatement, "`on failure` belongs inside a step", at: range(previous),
            notes: [.init(.help, "it runs when its step fails, so it needs one")]))
      }
      _ = advance()
      kind = .onFailure(try parseBlock())
    case .identifier where isContextual("wait") && nextIsContextual("until"):
      _ = advance()
      _ = advance()
      let condition = try parseExpression()
      guard isContextual("timeout"), !current.newlineBefore else {
        throw fail(
          expected: "`timeout` and a duration",
          help: "a wait says how long it may take: `wait until status == stopped timeout 5min`")
      }
      _ = advance()
      kind = .wait(condition: condition, timeout: try parseExpression())
    case .keyword(.return):
      _ = advance()
      let value = current.newlineBefore || at(.rBrace) || at(.eof) ? nil : try parseExpression()
      kind = .return(value)
    default:
      guard startsExpression(current) else {
        throw fail(expected: "a statement", code: .expectedStatement)
      }
      let expr = try parseExpression()
      if case .call = expr.kind {
      } else if case .invalid = expr.kind {
      } else {
        report(
          .error(
            .unusedExpression, "this expression's value is unused", at: expr.range,
            notes: [.init(.help, "use `print` to show it, or `let` to name it")]))
      }
      kind = .expression(expr)
    }
    return Stmt(range: range(from: start.start), kind: kind, doc: doc)
  }

  /// `keep going` after a loop's list (or its limit): contextual words, so `keep` and `going` stay
  /// usable as names. Its range, or nil when the loop does not keep going.
  mutating func parseKeepGoing() throws(Failure) -> SourceRange? {
    guard isContextual("keep"), !current.newlineBefore else { return nil }
    let keep = advance()
    guard isContextual("going"), !current.newlineBefore else {
      throw fail(
        expected: "`going` after `keep`",
        help: "`keep going` attempts every item even when some fail: `for c in fleet keep going { … }`")
    }
    let going = advance()
    return range(keep).joined(range(going))
  }

  /// `with cycles N via wallet W` after a canister call, on its line; nil when the call has none.
  /// The amount is an expression (it ends at `via`); the wallet a name, a member or a call.
  mutating func parseCallCycles() throws(Failure) -> CallCycles? {
    guard isContextual("with"), !current.newlineBefore else { return nil }
    let start = advance().start
    guard isContextual("cycles") else {
      throw fail(
        expected: "`cycles` after `with`",
        help: "a call carries cycles from a wallet: `call c.method(args) with cycles 1T via wallet w`")
    }
    _ = advance()
    let amount = try parseExpression()
    guard at(.via), !current.newlineBefore, nextIsContextual("wallet") else {
      throw fail(
        expected: "`via wallet W` after the cycles",
        help: "cycles are sent from a cycles wallet, which makes the call: `with cycles 1T via wallet w`")
    }
    _ = advance()
    _ = advance()
    let wallet = try parsePostfix()
    return CallCycles(amount: amount, wallet: wallet, range: range(from: start))
  }

  /// A network name: a word, words joined by `-` without spaces (`staging-net`), or a string.
  mutating func parseNetworkName() throws(Failure) -> Identifier {
    if at(.string), case .string(let parts) = current.literal, parts.count == 1, case .text(let name) = parts[0] {
      let t = advance()
      return Identifier(name, range(t))
    }
    var name = try expectIdentifier("a network name such as `ic` or `local`")
    while at(.minus), current.start == previous.end, peek().kind == .identifier, peek().start == current.end {
      _ = advance()
      let part = advance()
      name = Identifier(name.name + "-" + file.text(range(part)), name.range.joined(range(part)))
    }
    return name
  }

  mutating func requireTopLevel(_ topLevel: Bool, _ keyword: String) {
    guard !topLevel else { return }
    report(
      .error(.misplacedDeclaration, "`\(keyword)` is only allowed at the top level of a runbook", at: range(current)))
  }

  mutating func parseFunction() throws(Failure) -> FunctionDecl {
    _ = advance()
    let name = try expectIdentifier("a function name")
    _ = try expect(.lParen, "`(` and the parameters")
    var parameters: [Parameter] = []
    while !at(.rParen) {
      let pname = try expectIdentifier("a parameter name")
      _ = try expect(.colon, "`:` and the parameter's type")
      parameters.append(Parameter(name: pname, type: try parseType()))
      if !accept(.comma) { break }
    }
    _ = try expect(.rParen, "`)`")
    let returnType = accept(.arrow) ? try parseType() : nil
    let saved = inFunction
    inFunction = true
    defer { inFunction = saved }
    return FunctionDecl(name: name, parameters: parameters, returnType: returnType, body: try parseBlock())
  }

  mutating func parseIf() throws(Failure) -> Stmt.Kind {
    _ = advance()
    let condition = try parseExpression()
    let then = try parseBlock()
    guard at(.else) else { return .if(condition: condition, then: then, else: nil) }
    _ = advance()
    if at(.if) {
      // Each `else if` is one level of the nesting budget: the chain is a nested tree for every
      // later pass (checker, formatter, interpreter), so its length is bounded like nesting.
      try enter()
      defer { leave() }
      let start = current.start
      let nested = try parseIf()
      return .if(
        condition: condition, then: then, else: .elseIf(Stmt(range: range(from: start), kind: nested, doc: [])))
    }
    return .if(condition: condition, then: then, else: .block(try parseBlock()))
  }

  /// `via NAME [value] [label value]…` (all on one line) or `via NAME(args)`.
  mutating func parseAction() throws(Failure) -> Action {
    let start = current.start
    let name = try expectIdentifier("an action such as `wallet`, `top_up`, `install` or a `fn` name")
    if at(.lParen), !current.newlineBefore {
      let arguments = try parseArguments()
      return Action(name: name, arguments: arguments, isCallForm: true, range: range(from: start))
    }
    var values: [Expr] = []
    // Words that stand alone, with how many values came before each: they keep their place.
    var flags: [(after: Int, argument: Argument)] = []
    while !current.newlineBefore, startsActionValue(current) {
      if at(.identifier), Action.flagWords.contains(file.text(range(current))) {
        let word = try expectIdentifier("a word")
        flags.append((values.count, Argument(label: word, value: makeExpr(.bool(true), word.range), isFlag: true)))
        continue
      }
      values.append(try parsePostfix(adjacentOnly: true))
    }
    var arguments: [Argument] = []
    func placeFlags(upTo consumed: Int) {
      while let first = flags.first, first.after <= consumed {
        arguments.append(first.argument)
        flags.removeFirst()
      }
    }
    var rest = values[...]
    placeFlags(upTo: 0)
    if values.count % 2 == 1 {
      arguments.append(Argument(label: nil, value: rest.removeFirst()))
      placeFlags(upTo: 1)
    }
    while let label = rest.popFirst(), let value = rest.popFirst() {
      defer { placeFlags(upTo: values.count - rest.count) }
      guard case .name(let word) = label.kind else {
        report(
          .error(
            .invalidAction, "expected a label such as `amount` or `mode` before this value", at: label.range,
            notes: [.init(.help, "an action takes one value, then `label value` pairs: `wallet wdhec amount 2T`")]))
        continue
      }
      arguments.append(Argument(label: Identifier(word, label.range), value: value))
    }
    placeFlags(upTo: values.count)
    return Action(name: name, arguments: arguments, isCallForm: false, range: range(from: start))
  }

  func startsActionValue(_ token: Token) -> Bool {
    switch token.kind {
    case .identifier, .integer, .unitLiteral, .string, .hash, .principal, .badLiteral, .lParen, .lBracket, .lBrace,
      .dot, .keyword(.true), .keyword(.false), .keyword(.none):
      true
    default: false
    }
  }

  func startsExpression(_ token: Token) -> Bool {
    switch token.kind {
    case .minus, .keyword(.not): true
    default: startsActionValue(token)
    }
  }

  // MARK: - Types

  mutating func parseType() throws(Failure) -> TypeExpr {
    let start = current.start
    try enter()
    defer { leave() }
    var type: TypeExpr
    switch current.kind {
    case .identifier:
      let t = advance()
      type = TypeExpr(kind: .named(file.text(range(t))), range: range(t))
    case .lBracket:
      _ = advance()
      let element = try parseType()
      _ = try expect(.rBracket, "`]`")
      type = TypeExpr(kind: .list(element), range: range(from: start))
    case .lBrace:
      _ = advance()
      var fields: [RecordTypeField] = []
      while !at(.rBrace) {
        let name = try expectIdentifier("a field name")
        _ = try expect(.colon, "`:`")
        fields.append(RecordTypeField(name: name, type: try parseType()))
        if !accept(.comma) { break }
      }
      _ = try expect(.rBrace, "`}`")
      type = TypeExpr(kind: .record(fields), range: range(from: start))
    default:
      throw fail(expected: "a type such as `cycles`, `[principal]` or `canister?`", code: .expectedType)
    }
    while at(.question) {
      _ = advance()
      type = TypeExpr(kind: .optional(type), range: range(from: start))
    }
    return type
  }

  // MARK: - Doc comments

  /// The `##` lines directly above `token`, with no blank line or other comment between.
  func docComment(before token: Token) -> [String] {
    var lo = 0
    var hi = comments.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if comments[mid].start < token.start { lo = mid + 1 } else { hi = mid }
    }
    var lines: [String] = []
    var expectedLine = file.line(of: token.start) - 1
    var i = lo - 1
    while i >= 0, comments[i].isDoc, !comments[i].isTrailing, file.line(of: comments[i].start) == expectedLine {
      lines.append(comments[i].text.hasPrefix(" ") ? String(comments[i].text.dropFirst()) : comments[i].text)
      expectedLine -= 1
      i -= 1
    }
    return lines.reversed()
  }
}
