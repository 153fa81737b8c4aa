import Foundation
import RbicCandid
import RbicCheck
import RbicParser

/// The builtins and actions a compilation knows. Registering a name again replaces the entry (a
/// host's `start` replaces the standard one, checker and body alike).
public struct Registry: Sendable {
  public private(set) var builtins: [String: BuiltinSignature] = [:]
  public private(set) var actions: [String: ActionSignature] = [:]
  /// What each builtin does at run time; arguments arrive in parameter order (defaults filled in),
  /// then the variadic ones. A builtin without one checks but cannot run.
  package private(set) var builtinBodies: [String: BuiltinBody] = [:]
  /// What each action does at run time; an action without one checks but cannot run.
  package private(set) var actionBodies: [String: ActionBody] = [:]
  /// Named constants such as `running` (status values).
  public private(set) var constants: [String: RType] = ["running": .status, "stopping": .status, "stopped": .status]
  /// The values of constants that are not status words (the REPL's `_`, the last value).
  package private(set) var constantValues: [String: Value] = [:]

  /// A named constant with its type and value.
  public mutating func register(constant name: String, type: RType, value: Value) {
    constants[name] = type
    constantValues[name] = value
  }

  public init() {}

  /// A builtin, with what it does (nil: a host that checks runbooks but cannot run them).
  public mutating func register(_ builtin: BuiltinSignature, body: BuiltinBody? = nil) {
    builtins[builtin.name] = builtin
    builtinBodies[builtin.name] = body
  }

  /// An action, with what it does (nil: a host that checks runbooks but cannot run them).
  public mutating func register(_ action: ActionSignature, body: ActionBody? = nil) {
    actions[action.name] = action
    actionBodies[action.name] = body
  }
}

extension Registry: SignatureLookup {
}
