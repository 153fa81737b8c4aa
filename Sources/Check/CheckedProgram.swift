import RbicCandid
import RbicDiagnostics
import RbicParser

/// Where a name in the source refers to, decided once by the checker: variables are slots and user
/// `fn`s are indices; a builtin, constant or action keeps its name, which the interpreter looks up
/// in the `Registry` (signature and body) when it runs.
package enum Resolution: Hashable, Sendable {
  /// A top-level `let` or `param` (of any file): a slot in the globals table.
  case global(Int)
  /// A `let`, `for` variable or `fn` parameter: a slot in the current frame.
  case local(Int)
  /// A user `fn`: an index into `CheckedProgram.functions`.
  case function(Int)
  case builtin(String)
  /// A named constant such as `running`.
  case constant(String)
  /// A bare property of the step's subject.
  case subjectProperty(CanisterProperty)
  /// A word given to an action's labelled parameter (`mode reinstall`).
  case word(String)
}

/// A user `fn` after checking.
package struct FunctionInfo: Sendable {
  package var declaration: FunctionDecl
  package var parameterTypes: [RType]
  package var result: RType
  /// Slots the function's frame needs (parameters first).
  package var frameSize: Int
  package var doc: [String]
}

/// A runbook parameter after checking.
public struct ParamInfo: Sendable {
  public var name: String
  public var type: RType
  package var defaultValue: Expr?
  /// Whether the param has a default (a param without one and not optional must be given).
  public var hasDefault: Bool { defaultValue != nil }
  public var doc: [String]
  package var slot: Int
  public var range: SourceRange
}

/// The output of the checker: the trees in the order their top-level code runs (imports first),
/// and side tables keyed by expression id or declared name's range.
public struct CheckedProgram: Sendable {
  public var files: SourceFiles
  /// The main file's tree, last in `trees`.
  package var main: SyntaxTree { trees[trees.count - 1] }
  /// The runbook's name (`runbook "NAME" version N`; `runbook` when it has no such line).
  public var runbook: String { main.header?.name ?? "runbook" }
  package var trees: [SyntaxTree]
  public var network: String?
  public var identity: String?
  public var params: [ParamInfo]
  package var functions: [FunctionInfo]
  package var globalCount: Int
  /// Slots the top-level code's frame needs (locals in steps and blocks).
  package var mainFrameSize: Int
  /// By expression id (ids are dense across all files): the type of every checked expression.
  package var types: [RType?]
  /// By expression id: where each name (and callee) refers to.
  package var resolutions: [Resolution?]
  /// The slot of every declared name (`let`, `for`, parameters), by the name's range.
  package var declarations: [SourceRange: Resolution]
  /// Every `ensure`, compiled: by its condition's expression id.
  package var ensures: [Int: EnsureContract]
  /// The Candid interfaces imported, by name.
  package var interfaces: [String: CandidEnvironment]
  /// Calls checked against an interface, by the call expression's id.
  package var methodCalls: [Int: MethodCall]
  public var diagnostics: [Diagnostic]

  public var hasErrors: Bool { diagnostics.hasErrors }
}
