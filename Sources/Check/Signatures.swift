import Foundation
import RbicCandid
import RbicParser

/// What the checker knows about builtins and actions: typed signatures, registered by name.
///
/// The standard set lives in the `RbicBuiltins` module; hosts add their own through the same
/// table. Signatures are data: a parameter list with types and defaults, and where a builtin is
/// generic (`len`, `min`), a rule computing the result type from the argument types.

/// A canister property, usable bare inside `step … on` or as `c.name`.
public enum CanisterProperty: String, Sendable, CaseIterable {
  case id, cycles, hash, controllers, status, memory
  case freezingThreshold = "freezing_threshold"
  /// Cycles the canister burns per day at rest.
  case idleBurn = "idle_burn"
  /// Cycles set aside for storage, not spendable.
  case reservedCycles = "reserved_cycles"
  /// How long until the canister freezes at its idle burn (its cycles down to the freezing
  /// threshold's worth).
  case freezeIn = "freeze_in"
  case memoryAllocation = "memory_allocation"
  case reservedCyclesLimit = "reserved_cycles_limit"
  /// `controllers`, `public` or `allowed_viewers` (read, never set, by rbic).
  case logVisibility = "log_visibility"
  /// Wallets only: the cycles the wallet can send (its own cycles balance).
  case balance

  /// What one of its values is per, as people read it (`/day` for a rate), shown after the value.
  package var per: String? { self == .idleBurn ? "/day" : nil }

  public var type: RType {
    switch self {
    case .id: .principal
    case .cycles, .balance: .cycles
    case .hash: .optional(.hash)
    case .controllers: .list(.principal)
    case .status: .status
    case .memory, .memoryAllocation: .bytes
    case .freezingThreshold, .freezeIn: .duration
    case .idleBurn, .reservedCycles, .reservedCyclesLimit: .cycles
    case .logVisibility: .text
    }
  }

  /// Bare inside `step … on`: all but `id` and `balance`.
  package static let subjectProperties: [CanisterProperty] = [
    .cycles, .hash, .controllers, .status, .memory, .freezingThreshold, .idleBurn, .reservedCycles, .freezeIn,
    .memoryAllocation, .reservedCyclesLimit, .logVisibility,
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

/// A builtin function's static signature.
public struct BuiltinSignature: Sendable {
  public var name: String
  public var parameters: [BuiltinParameter]
  /// For variadic builtins (`run(argv…)`): the type of every extra argument. Positional arguments
  /// of a variadic builtin fill its parameters without a default, then the variadic ones: a
  /// parameter with a default is given by label (`run("gpg", "--passphrase-fd", "0", stdin: key)`).
  public var variadic: RType?

  /// How many parameters positional arguments fill.
  package var positionalCount: Int {
    guard variadic != nil else { return parameters.count }
    return parameters.prefix { $0.defaultDescription == nil }.count
  }
  public var result: RType
  /// For generic builtins: the result type from the argument types, or a message saying what is wrong.
  public var typeRule: (@Sendable ([RType]) -> Result<RType, TypeRuleError>)?
  public var summary: String

  public init(
    _ name: String, _ parameters: [BuiltinParameter], variadic: RType? = nil, result: RType, summary: String,
    typeRule: (@Sendable ([RType]) -> Result<RType, TypeRuleError>)? = nil
  ) {
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
  /// Labels that mean something only beside another (`check` with `guarded`), by label.
  public var needs: [String: String]
  /// The label whose value is the canister's init argument (`install … arg {…}`): checked against
  /// the init arguments of the canister's imported interface, encoded by the module's.
  public var candidArgument: String?
  public var summary: String

  public init(
    _ name: String, converges: [Convergence], positional: BuiltinParameter? = nil, positionalRequired: Bool = false,
    labeled: [BuiltinParameter] = [], requiredStatus: String? = nil, words: [String: [String]] = [:],
    candidArgument: String? = nil, needs: [String: String] = [:], summary: String
  ) {
    self.candidArgument = candidArgument
    self.needs = needs
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

/// What the checker knows of the builtins, actions and constants a program may name: their
/// signatures, never their bodies. A `Registry` is one.
public protocol SignatureLookup: Sendable {
  var builtins: [String: BuiltinSignature] { get }
  var actions: [String: ActionSignature] { get }
  /// Named constants and their types (`running`).
  var constants: [String: RType] { get }
}
