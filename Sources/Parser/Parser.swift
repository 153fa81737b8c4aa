import RbicDiagnostics
import RbicLexer

/// The parser: tokens in, a `SyntaxTree` and diagnostics out.
///
/// Recursive descent with one token of lookahead. It recovers at statement boundaries: a statement
/// with an error is reported and skipped up to the next line that can start a statement, so one
/// run reports every error. Nesting is bounded (`maxDepth`) and so is the number of operators in
/// one expression, so hostile input is an error, never a stack overflow.
///
/// Layout rules: a statement starts on a new line (the first one after `{` may share its line);
/// the arguments of a `via` action sit on the action's line.
package struct Parser {
  /// Brackets, blocks and prefix operators nested deeper than this are an error.
  package static let maxDepth = 64
  /// Operators in one expression beyond this are an error.
  package static let maxOperators = 1_000

  struct Failure: Error {}

  var tokens: [Token]
  var index = 0
  let file: SourceFile
  var diagnostics: [Diagnostic] = []
  var nextID: Int
  var depth = 0
  var operators = 0
  var comments: [Comment]
  /// Context for placement rules.
  var inStep = false
  var inFunction = false
  /// Whether this parser reads an interpolated expression inside a string.
  let isInterpolation: Bool

  init(tokens: [Token], comments: [Comment], file: SourceFile, nextID: Int, isInterpolation: Bool = false) {
    self.tokens = tokens
    self.comments = comments
    self.file = file
    self.nextID = nextID
    self.isInterpolation = isInterpolation
  }

  /// Parses a file. With `requireHeader` false (the REPL), the `runbook` line is optional.
  ///
  /// Expression ids start at `firstNodeID`, so the trees of several files can share side tables.
  package static func parse(_ file: SourceFile, requireHeader: Bool = true, firstNodeID: Int = 0) -> SyntaxTree {
    let lexed = Lexer.lex(file)
    var parser = Parser(tokens: lexed.tokens, comments: lexed.comments, file: file, nextID: firstNodeID)
    parser.diagnostics = lexed.diagnostics
    // A file the lexer would not read has no statements, and no missing header to report either.
    if lexed.diagnostics.contains(where: { $0.code == .sourceTooLarge }) {
      return SyntaxTree(
        file: file, header: nil, statements: [], comments: [], diagnostics: lexed.diagnostics, nodeCount: firstNodeID)
    }
    let header = parser.parseHeader(required: requireHeader)
    let statements = parser.parseStatements(topLevel: true)
    return SyntaxTree(
      file: file, header: header, statements: statements, comments: lexed.comments,
      diagnostics: parser.diagnostics, nodeCount: parser.nextID)
  }

  // MARK: - Tokens

  var current: Token { tokens[index] }
  var previous: Token { tokens[max(0, index - 1)] }

  func peek(_ n: Int = 1) -> Token { tokens[min(index + n, tokens.count - 1)] }

  mutating func advance() -> Token {
    let t = tokens[index]
    if index < tokens.count - 1 { index += 1 }
    return t
  }

  func at(_ kind: TokenKind) -> Bool { current.kind == kind }
  func at(_ keyword: Keyword) -> Bool { current.kind == .keyword(keyword) }

  mutating func accept(_ kind: TokenKind) -> Bool {
    guard at(kind) else { return false }
    _ = advance()
    return true
  }

  mutating func accept(_ keyword: Keyword) -> Bool { accept(.keyword(keyword)) }

  func range(_ token: Token) -> SourceRange { SourceRange(file: file.id, start: token.start, end: token.end) }
  func range(from start: Int) -> SourceRange { SourceRange(file: file.id, start: start, end: max(start, previous.end)) }

  func describe(_ token: Token) -> String {
    switch token.kind {
    case .identifier: "`\(file.text(range(token)))`"
    case .eof: "end of file"
    default: token.kind.description
    }
  }

  /// Reports "expected X, found Y" at the current token and fails the statement.
  mutating func fail(expected what: String, code: DiagnosticCode = .expectedToken, help: String? = nil) -> Failure {
    var d = Diagnostic.error(code, "expected \(what), found \(describe(current))", at: range(current))
    if current.kind == .eof, isInterpolation { d.message = "expected \(what) in interpolation" }
    if let help { d = d.help(help) }
    report(d)
    return Failure()
  }

  mutating func report(_ d: Diagnostic) {
    // One error per position is enough: recovery can revisit a token.
    if let last = diagnostics.last, last.range == d.range, last.severity == .error { return }
    guard diagnostics.count < Diagnostic.collectionLimit else { return }
    diagnostics.append(d)
  }

  mutating func expect(_ kind: TokenKind, _ what: String? = nil) throws(Failure) -> Token {
    guard at(kind) else { throw fail(expected: what ?? kind.description) }
    return advance()
  }

  mutating func expectIdentifier(_ what: String) throws(Failure) -> Identifier {
    guard at(.identifier) else {
      if case .keyword(let k) = current.kind {
        throw fail(expected: what, help: "`\(k.rawValue)` is a reserved word; choose another name")
      }
      throw fail(expected: what)
    }
    let t = advance()
    return Identifier(file.text(range(t)), range(t))
  }

  func isContextual(_ word: String) -> Bool { at(.identifier) && file.text(range(current)) == word }

  /// Whether the token after the current one is the identifier `word`, on the same line.
  func nextIsContextual(_ word: String) -> Bool {
    guard index + 1 < tokens.count else { return false }
    let next = tokens[index + 1]
    return next.kind == .identifier && !next.newlineBefore && file.text(range(next)) == word
  }

  mutating func makeExpr(_ kind: Expr.Kind, _ range: SourceRange) -> Expr {
    defer { nextID += 1 }
    return Expr(id: nextID, range: range, kind: kind)
  }

  /// Enters one level of nesting, failing past the limit.
  mutating func enter() throws(Failure) {
    depth += 1
    if depth > Parser.maxDepth {
      report(
        .error(
          .nestingTooDeep, "nesting is deeper than \(Parser.maxDepth) levels", at: range(current),
          notes: [.init(.help, "split the expression or block with `let` bindings or a `fn`")]))
      throw Failure()
    }
  }

  mutating func leave() { depth -= 1 }

  mutating func countOperator() throws(Failure) {
    operators += 1
    if operators == Parser.maxOperators + 1 {
      report(.error(.nestingTooDeep, "expression has more than \(Parser.maxOperators) operators", at: range(current)))
      throw Failure()
    }
    if operators > Parser.maxOperators { throw Failure() }
  }

  // MARK: - Header

  mutating func parseHeader(required: Bool) -> Header? {
    guard at(.runbook) else {
      if required {
        var d = Diagnostic.error(
          .missingHeader, "a runbook must start with `runbook \"name\" version N`", at: range(current))
        d = d.help("add a first line such as `runbook \"canister-production-activation\" version 1`")
        report(d)
      }
      return nil
    }
    let start = advance()
    do {
      let nameToken = try expect(.string, "the runbook's name as a string")
      let name: String
      if case .string(let parts) = nameToken.literal, parts.allSatisfy({ if case .text = $0 { true } else { false } }) {
        name = parts.map { if case .text(let t) = $0 { t } else { "" } }.joined()
      } else {
        report(.error(.expectedToken, "the runbook's name must be a plain string", at: range(nameToken)))
        name = ""
      }
      guard isContextual("version") else { throw fail(expected: "`version`") }
      _ = advance()
      let versionToken = current
      guard case .integer = versionToken.kind, case .int(let version) = versionToken.literal else {
        if versionToken.kind == .badLiteral {
          _ = advance()
          throw Failure()
        }
        throw fail(expected: "a version number", code: .invalidVersion)
      }
      _ = advance()
      if version < 1 {
        report(.error(.invalidVersion, "a runbook's version starts at 1", at: range(versionToken)))
      }
      return Header(
        name: name, nameRange: range(nameToken), version: version, versionRange: range(versionToken),
        range: range(from: start.start))
    } catch {
      synchronize()
      return nil
    }
  }

  // MARK: - Recovery

  /// Skips to the next token after the failed statement's first token that starts a line at the
  /// current bracket depth, or a `}`. A statement that begins on the line where the error was
  /// found is kept: `let a =` followed by `let b = 1` loses only the first.
  mutating func synchronize(after statementStart: Int? = nil) {
    var nesting = 0
    let startIndex = statementStart ?? index
    while !at(.eof) {
      if index > startIndex, current.newlineBefore, nesting <= 0 { return }
      switch current.kind {
      case .lParen, .lBracket, .lBrace: nesting += 1
      case .rParen, .rBracket: nesting -= 1
      case .rBrace:
        if nesting <= 0 { return }
        nesting -= 1
      default: break
      }
      _ = advance()
    }
  }
}
