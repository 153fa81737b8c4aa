import RbicDiagnostics
import RbicLexer

/// The syntax tree of a runbook. It keeps everything the formatter needs to print the source back
/// (parentheses, literal spellings through ranges, doc comments), and every expression carries a
/// unique `id` so later phases can attach types and slots in side tables.

package struct Identifier: Hashable, Sendable {
  package var name: String
  package var range: SourceRange
  package init(_ name: String, _ range: SourceRange) {
    self.name = name
    self.range = range
  }
}

package struct TypeExpr: Hashable, Sendable {
  package indirect enum Kind: Hashable, Sendable {
    case named(String)
    case list(TypeExpr)
    case record([RecordTypeField])
    case optional(TypeExpr)
  }
  package var kind: Kind
  package var range: SourceRange
}

package struct RecordTypeField: Hashable, Sendable {
  package var name: Identifier
  package var type: TypeExpr
}

package enum UnaryOp: String, Hashable, Sendable {
  case negate = "-"
  case not
}

/// A binary operator; part of the embedding API as `ActionRequest.comparison`.
public enum BinaryOp: String, Hashable, Sendable, CaseIterable {
  case or, and
  case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
  case contains
  case coalesce = "??"
  case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"

  package var isComparison: Bool {
    switch self {
    case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .contains: true
    default: false
    }
  }
}

package struct Expr: Hashable, Sendable {
  package var id: Int
  package var range: SourceRange
  package var kind: Kind

  package indirect enum Kind: Hashable, Sendable {
    case integer(Int64)
    case amount(Unit, Int128)
    case string([InterpolatedPart])
    case bool(Bool)
    case none
    case hash([UInt8])
    case principal([UInt8])
    /// A literal or expression that already has a diagnostic; it checks as anything.
    case invalid
    case name(String)
    case list([Expr])
    case record([RecordField])
    case unary(UnaryOp, Expr)
    case binary(BinaryOp, Expr, Expr)
    case member(Expr, Identifier)
    case call(Expr, [Argument])
    case index(Expr, Expr)
    case paren(Expr)
    /// `call c.method(args) [with cycles N via wallet W]` used as a value: the reply (the inner
    /// expression is the call).
    case reply(Expr, cycles: CallCycles?)
    /// `.Tag` or `.Tag(value)`: a Candid variant value.
    case variant(Identifier, Expr?)
  }
}

/// `with cycles N via wallet W` after a canister call: the call carries N cycles from the wallet
/// W, which makes it (the callee sees the wallet as its caller).
package struct CallCycles: Hashable, Sendable {
  package var amount: Expr
  package var wallet: Expr
  /// From `with` to the end of the wallet.
  package var range: SourceRange
}

package enum InterpolatedPart: Hashable, Sendable {
  case text(String)
  case expr(Expr)
}

package struct RecordField: Hashable, Sendable {
  package var name: Identifier
  package var value: Expr
}

package struct Argument: Hashable, Sendable {
  package var label: Identifier?
  package var value: Expr
  /// An action's word that stands alone (`guarded`): its value is `true`, written by the word.
  package var isFlag = false
}

package struct Parameter: Hashable, Sendable {
  package var name: Identifier
  package var type: TypeExpr
}

/// `via NAME [positional] [label value]…`, or the call form `via NAME(args)`.
/// Both forms keep their arguments in one list: the positional one (unlabelled) first.
package struct Action: Hashable, Sendable {
  /// Words that stand alone among an action's values, meaning `true`: `via install m guarded`.
  package static let flagWords: Set<String> = ["guarded", "breaking"]

  package var name: Identifier
  package var arguments: [Argument]
  package var isCallForm: Bool
  package var range: SourceRange
}

package struct Block: Hashable, Sendable {
  package var statements: [Stmt]
  /// From `{` to `}` inclusive.
  package var range: SourceRange
}

package struct FunctionDecl: Hashable, Sendable {
  package var name: Identifier
  package var parameters: [Parameter]
  package var returnType: TypeExpr?
  package var body: Block
}

package enum ElseBranch: Hashable, Sendable {
  case block(Block)
  case elseIf(Stmt)
}

package struct Stmt: Hashable, Sendable {
  package var range: SourceRange
  package var kind: Kind
  /// `##` lines directly above, without the markers.
  package var doc: [String]

  package indirect enum Kind: Hashable, Sendable {
    case useNetwork(Identifier)
    case useIdentity(Expr)
    case param(name: Identifier, type: TypeExpr, defaultValue: Expr?)
    case `let`(name: Identifier, type: TypeExpr?, value: Expr)
    case function(FunctionDecl)
    case `import`(path: String, range: SourceRange)
    /// `import "file.did" as Name`: a Candid interface; `Name` is the type of a canister that
    /// speaks it, and calls on such a canister are checked against it.
    case importInterface(path: String, range: SourceRange, name: Identifier)
    case step(title: Expr, subject: Expr?, body: Block)
    case ensure(condition: Expr, actions: [Action])
    case require(Expr, message: Expr?)
    case expect(Expr, message: Expr?)
    case confirm(Expr)
    case skip(Expr)
    case fail(Expr)
    case `if`(condition: Expr, then: Block, else: ElseBranch?)
    /// `[parallel] for x in LIST [limit N] [keep going] { … }`. `keepGoing` is the range of the
    /// words `keep going`: every item is attempted, and the loop fails at the end if any did.
    case `for`(variable: Identifier, sequence: Expr, body: Block, parallelLimit: Expr?, keepGoing: SourceRange?)
    /// `call c.method(args) [with cycles N via wallet W]`; the expression is the call.
    case call(Expr, cycles: CallCycles?)
    case print(Expr)
    /// `on failure { … }`: runs if the enclosing step fails after this point (handlers run
    /// last-registered first), e.g. to restart a canister stopped for an upgrade.
    case onFailure(Block)
    /// `wait until COND timeout D`: re-reads state with backoff until COND holds.
    case wait(condition: Expr, timeout: Expr)
    case `return`(Expr?)
    case expression(Expr)
  }
}

package struct Header: Hashable, Sendable {
  package var name: String
  package var nameRange: SourceRange
  package var version: Int64
  package var versionRange: SourceRange
  package var range: SourceRange
}

/// One parsed file.
package struct SyntaxTree: Sendable {
  package var file: SourceFile
  package var header: Header?
  package var statements: [Stmt]
  package var comments: [Comment]
  package var diagnostics: [Diagnostic]
  /// One past the largest expression id used.
  package var nodeCount: Int
}
