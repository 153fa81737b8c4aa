import RbicDiagnostics
import RbicParser

/// What the checker compiles an `ensure` into, stored in the checked program by the
/// condition's expression id. The interpreter and the lock table use only this: nothing derives
/// the property, the comparison or the actions again from syntax, so `floor <= cycles` and
/// `cycles >= floor` are one ensure with one lock.
package struct EnsureContract: Sendable {
  /// The canister property the condition constrains, with the comparison normalised so the
  /// property is on the left. Nil when the condition is not such a comparison (then only user
  /// `fn` actions are allowed, and nothing is locked).
  package var target: Target?
  package var actions: [ResolvedAction]

  package struct Target: Sendable {
    /// The canister expression; nil for a bare property of the step's subject.
    package var canister: Expr?
    /// `balance` (a wallet's cycles) is normalised to `cycles`.
    package var property: CanisterProperty
    /// `>=`, `>`, `==`, `!=`, `<`, `<=` or `contains`, with the property on the left.
    package var comparison: BinaryOp
    /// The side the property is read from (for power-assert labels).
    package var propertyRange: SourceRange
    /// The other side: what the property should be.
    package var value: Expr
  }
}

/// An action of an `ensure`, resolved by the checker.
package struct ResolvedAction: Sendable {
  package enum Callee: Sendable, Hashable {
    /// A registry entry, by name (standard or the host's: they are the same path).
    case registered(String)
    /// A user `fn`, by index into `CheckedProgram.functions`.
    case function(Int)
  }

  package var callee: Callee
  package var name: String
  package var range: SourceRange
  /// Argument expressions in slots: for a registry entry, the positional value (if the action
  /// takes one) then its labelled parameters in signature order; for a `fn`, its parameters.
  /// Nil where the argument was left out.
  package var slots: [Expr?]
}
