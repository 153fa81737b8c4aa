import RbicDiagnostics

/// Reserved words. `version`, `network`, `identity`, `limit`, `keep`, `going`, `failure`, `wait`,
/// `until`, `timeout`, `with`, `cycles`, `wallet` and `as` are contextual and lex as identifiers.
package enum Keyword: String, Sendable, CaseIterable {
  case runbook, use, param, `let`, fn, `import`, step, on, ensure, via, or, and, not, require, expect
  case `else`, confirm, skip, fail, `if`, `for`, `in`, parallel, call, print, `return`, `true`, `false`, none
  case contains
}

package enum TokenKind: Hashable, Sendable {
  case identifier
  case keyword(Keyword)
  /// An integer without a unit; payload `.int`.
  case integer
  /// A number with a unit suffix; payload `.unit`.
  case unitLiteral
  /// A string; payload `.string`.
  case string
  /// `0x` and 64 hex digits; payload `.hash`.
  case hash
  /// A bare principal that verified; payload `.principal`.
  case principal
  /// A literal the lexer already reported (bad checksum, overflow…); the parser accepts it silently.
  case badLiteral
  case lParen, rParen, lBrace, rBrace, lBracket, rBracket
  case comma, colon, dot, arrow
  case plus, minus, star, slash, percent
  case assign, equal, notEqual, less, lessEqual, greater, greaterEqual
  case question, questionQuestion
  case eof
}

/// A piece of a string literal: decoded text, or the byte range of an interpolated expression.
package enum StringPart: Hashable, Sendable {
  case text(String)
  case interpolation(start: Int, end: Int)
}

package enum Literal: Hashable, Sendable {
  case none
  case int(Int64)
  case unit(Unit, Int128)
  case string([StringPart])
  case hash([UInt8])
  case principal([UInt8])
}

package struct Token: Hashable, Sendable {
  package var kind: TokenKind
  package var start: Int
  package var end: Int
  /// Whether a line break separates this token from the previous one.
  package var newlineBefore: Bool
  package var literal: Literal

  package init(kind: TokenKind, start: Int, end: Int, newlineBefore: Bool, literal: Literal = .none) {
    self.kind = kind
    self.start = start
    self.end = end
    self.newlineBefore = newlineBefore
    self.literal = literal
  }
}

/// A comment, kept as trivia for the formatter and for documentation.
package struct Comment: Hashable, Sendable {
  package var start: Int
  package var end: Int
  /// The text after `#` (or `##`), without the line break.
  package var text: String
  /// `##`: documentation for the declaration below.
  package var isDoc: Bool
  /// A token precedes it on the same line.
  package var isTrailing: Bool
}

extension TokenKind {
  /// How the kind reads in "expected …, found …" messages.
  package var description: String {
    switch self {
    case .identifier: "a name"
    case .keyword(let k): "`\(k.rawValue)`"
    case .integer: "a number"
    case .unitLiteral: "an amount"
    case .string: "a string"
    case .hash: "a hash"
    case .principal: "a principal"
    case .badLiteral: "a literal"
    case .lParen: "`(`"
    case .rParen: "`)`"
    case .lBrace: "`{`"
    case .rBrace: "`}`"
    case .lBracket: "`[`"
    case .rBracket: "`]`"
    case .comma: "`,`"
    case .colon: "`:`"
    case .dot: "`.`"
    case .arrow: "`->`"
    case .plus: "`+`"
    case .minus: "`-`"
    case .star: "`*`"
    case .slash: "`/`"
    case .percent: "`%`"
    case .assign: "`=`"
    case .equal: "`==`"
    case .notEqual: "`!=`"
    case .less: "`<`"
    case .lessEqual: "`<=`"
    case .greater: "`>`"
    case .greaterEqual: "`>=`"
    case .question: "`?`"
    case .questionQuestion: "`??`"
    case .eof: "end of file"
    }
  }
}

extension Keyword {
  /// What completion offers as keywords: the reserved words and the contextual ones (`version`,
  /// `network`, `limit`, `failure`, `until`, …).
  package static let completionWords =
    Keyword.allCases.map(\.rawValue) + [
      "version", "network", "identity", "limit", "keep", "going", "failure", "wait", "until", "timeout", "with",
    ]
}
