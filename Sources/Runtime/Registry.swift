/// What the checker knows about builtins and actions: typed signatures, registered by name.
///
/// The standard set lives in the `RbicBuiltins` module; hosts add their own through the same
/// table. Signatures are data: a parameter list with types and defaults, and where a builtin is
/// generic (`len`, `min`), a rule computing the result type from the argument types.

/// A canister property, usable bare inside `step … on` or as `c.name`.
public enum CanisterProperty: String, Sendable, CaseIterable {
  case id, cycles, hash, controllers, status, memory
  case freezingThreshold = "freezing_threshold"
  /// Wallets only: the cycles the wallet can send (its own cycles balance).
  case balance

  public var type: RType {
    switch self {
    case .id: .principal
    case .cycles, .balance: .cycles
    case .hash: .optional(.hash)
    case .controllers: .list(.principal)
    case .status: .status
    case .memory: .bytes
    case .freezingThreshold: .duration
    }
  }

  /// Bare inside `step … on` (DESIGN §2.4): all but `id` and `balance`.
  public static let subjectProperties: [CanisterProperty] = [
    .cycles, .hash, .controllers, .status, .memory, .freezingThreshold,
  ]
}

public struct BuiltinParameter: Sendable {
  public var name: String
  public var type: RType
  /// Present when the parameter may be left out; then it is passed by label.
  public var defaultDescription: String?
  /// The value used when the argument is left out.
  public var defaultValue: Value?
  public init(_ name: String, _ type: RType, default defaultDescription: String? = nil, value: Value? = nil) {
    self.name = name
    self.type = type
    self.defaultDescription = defaultDescription
    self.defaultValue = value
  }
}

/// A builtin's implementation.
public typealias BuiltinBody = @Sendable ([Value], BuiltinContext) throws(RuntimeError) -> Value

/// What a builtin may use while it runs.
public struct BuiltinContext: Sendable {
  public var backend: Backend
  public var projectDirectory: String
  /// The working directory's project files: read on the first call, then kept for the run.
  public var project: @Sendable () -> ProjectFiles
  public var environment: [String: String]
  /// Set when the run is cancelled (Ctrl-C): long builtins stop and end their child processes.
  public var cancellation: Cancellation
  /// Records an external command (argv, exit status, duration) in the journal.
  public var journalCommand: @Sendable (_ argv: [String], _ status: Int32, _ seconds: Double, _ output: String) -> Void
}

/// What a host action is asked to do: make `property` of `canister` satisfy the condition whose
/// other side is `wanted`, given its `current` value and the action's arguments.
public struct ActionRequest: Sendable {
  public var canister: Principal
  public var property: CanisterProperty
  public var current: Value
  public var wanted: Value
  /// The unlabelled argument, if any.
  public var value: Value?
  public var labeled: [String: Value]
  /// `plan`: describe, do not act (the backend is a predictor anyway).
  public var isPlan: Bool
}

/// A host action: acts through `context.backend` and returns a description for the journal and
/// the recap (`"restart through the ops API"`).
public typealias ActionBody = @Sendable (ActionRequest, BuiltinContext) throws(RuntimeError) -> String

/// A builtin function's static signature.
public struct BuiltinSignature: Sendable {
  public var name: String
  public var parameters: [BuiltinParameter]
  /// For variadic builtins (`run(argv…)`): the type of every extra argument.
  public var variadic: RType?
  public var result: RType
  /// For generic builtins: the result type from the argument types, or a message saying what is wrong.
  public var typeRule: (@Sendable ([RType]) -> Result<RType, TypeRuleError>)?
  public var summary: String
  /// What the builtin does at run time; arguments arrive in parameter order (defaults filled in),
  /// then the variadic ones.
  public var body: BuiltinBody?

  public init(
    _ name: String, _ parameters: [BuiltinParameter], variadic: RType? = nil, result: RType, summary: String,
    typeRule: (@Sendable ([RType]) -> Result<RType, TypeRuleError>)? = nil, body: BuiltinBody? = nil
  ) {
    self.body = body
    self.name = name
    self.parameters = parameters
    self.variadic = variadic
    self.result = result
    self.typeRule = typeRule
    self.summary = summary
  }
}

public struct TypeRuleError: Error, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// The comparison an action can make true.
public enum Convergence: Hashable, Sendable, CustomStringConvertible {
  /// `PROPERTY OP X`, e.g. `cycles >= X`.
  case comparison(CanisterProperty, ComparisonKind)

  public enum ComparisonKind: String, Hashable, Sendable {
    case atLeast = ">="
    case equal = "=="
    case contains
  }

  public var description: String {
    switch self {
    case .comparison(let p, .contains): "\(p.rawValue) contains X"
    case .comparison(let p, let k): "\(p.rawValue) \(k.rawValue) X"
    }
  }
}

/// An action's static signature: what it converges and the arguments it takes.
public struct ActionSignature: Sendable {
  public var name: String
  public var converges: [Convergence]
  /// The unlabelled value after the action's name, if it takes one (and whether it must be given).
  public var positional: BuiltinParameter?
  public var positionalRequired: Bool
  public var labeled: [BuiltinParameter]
  /// Restricts the condition's right side to one status (`start` makes `running`).
  public var requiredStatus: String?
  /// Words accepted as values of a labelled parameter (`mode reinstall`), by label.
  public var words: [String: [String]]
  public var summary: String
  /// A host action's implementation; the standard actions are built into the interpreter.
  public var body: ActionBody?

  public init(
    _ name: String, converges: [Convergence], positional: BuiltinParameter? = nil, positionalRequired: Bool = false,
    labeled: [BuiltinParameter] = [], requiredStatus: String? = nil, words: [String: [String]] = [:], summary: String,
    body: ActionBody? = nil
  ) {
    self.body = body
    self.name = name
    self.converges = converges
    self.positional = positional
    self.positionalRequired = positionalRequired
    self.labeled = labeled
    self.requiredStatus = requiredStatus
    self.words = words
    self.summary = summary
  }
}

/// The builtins and actions a compilation knows.
public struct Registry: Sendable {
  public private(set) var builtins: [String: BuiltinSignature] = [:]
  public private(set) var actions: [String: ActionSignature] = [:]
  /// Named constants such as `running` (status values).
  public private(set) var constants: [String: RType] = ["running": .status, "stopping": .status, "stopped": .status]

  public init() {}

  public mutating func register(_ builtin: BuiltinSignature) { builtins[builtin.name] = builtin }
  public mutating func register(_ action: ActionSignature) { actions[action.name] = action }
}
