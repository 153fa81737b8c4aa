import RbicDiagnostics
import RbicLexer

/// The syntax tree of a runbook. It keeps everything the formatter needs to print the source back
/// (parentheses, literal spellings through ranges, doc comments), and every expression carries a
/// unique `id` so later phases can attach types and slots in side tables.

public struct Identifier: Hashable, Sendable {
  public var name: String
  public var range: SourceRange
  public init(_ name: String, _ range: SourceRange) {
    self.name = name
    self.range = range
  }
}

public struct TypeExpr: Hashable, Sendable {
  public indirect enum Kind: Hashable, Sendable {
    case named(String)
    case list(TypeExpr)
    case record([RecordTypeField])
    case optional(TypeExpr)
  }
  public var kind: Kind
  public var range: SourceRange
}

public struct RecordTypeField: Hashable, Sendable {
  public var name: Identifier
  public var type: TypeExpr
}

public enum UnaryOp: String, Hashable, Sendable {
  case negate = "-"
  case not
}

public enum BinaryOp: String, Hashable, Sendable, CaseIterable {
  case or, and
  case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
  case contains
  case coalesce = "??"
  case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"

  public var isComparison: Bool {
    switch self {
    case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual, .contains: true
    default: false
    }
  }
}

public struct Expr: Hashable, Sendable {
  public var id: Int
  public var range: SourceRange
  public var kind: Kind

  public indirect enum Kind: Hashable, Sendable {
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
  }
}

public enum InterpolatedPart: Hashable, Sendable {
  case text(String)
  case expr(Expr)
}

public struct RecordField: Hashable, Sendable {
  public var name: Identifier
  public var value: Expr
}

public struct Argument: Hashable, Sendable {
  public var label: Identifier?
  public var value: Expr
}

public struct Parameter: Hashable, Sendable {
  public var name: Identifier
  public var type: TypeExpr
}

/// `via NAME [positional] [label value]…`, or the call form `via NAME(args)`.
/// Both forms keep their arguments in one list: the positional one (unlabelled) first.
public struct Action: Hashable, Sendable {
  public var name: Identifier
  public var arguments: [Argument]
  public var isCallForm: Bool
  public var range: SourceRange
}

public struct Block: Hashable, Sendable {
  public var statements: [Stmt]
  /// From `{` to `}` inclusive.
  public var range: SourceRange
}

public struct FunctionDecl: Hashable, Sendable {
  public var name: Identifier
  public var parameters: [Parameter]
  public var returnType: TypeExpr?
  public var body: Block
}

public enum ElseBranch: Hashable, Sendable {
  case block(Block)
  case elseIf(Stmt)
}

public struct Stmt: Hashable, Sendable {
  public var range: SourceRange
  public var kind: Kind
  /// `##` lines directly above, without the markers.
  public var doc: [String]

  public indirect enum Kind: Hashable, Sendable {
    case useNetwork(Identifier)
    case useIdentity(Expr)
    case param(name: Identifier, type: TypeExpr, defaultValue: Expr?)
    case `let`(name: Identifier, type: TypeExpr?, value: Expr)
    case function(FunctionDecl)
    case `import`(path: String, range: SourceRange)
    case step(title: Expr, subject: Expr?, body: Block)
    case ensure(condition: Expr, actions: [Action])
    case require(Expr, message: Expr?)
    case expect(Expr, message: Expr?)
    case confirm(Expr)
    case skip(Expr)
    case fail(Expr)
    case `if`(condition: Expr, then: Block, else: ElseBranch?)
    case `for`(variable: Identifier, sequence: Expr, body: Block, parallelLimit: Expr?)
    case call(Expr)
    case print(Expr)
    case `return`(Expr?)
    case expression(Expr)
  }
}

public struct Header: Hashable, Sendable {
  public var name: String
  public var nameRange: SourceRange
  public var version: Int64
  public var versionRange: SourceRange
  public var range: SourceRange
}

/// One parsed file.
public struct SyntaxTree: Sendable {
  public var file: SourceFile
  public var header: Header?
  public var statements: [Stmt]
  public var comments: [Comment]
  public var diagnostics: [Diagnostic]
  /// One past the largest expression id used.
  public var nodeCount: Int
}
