import RbicCandid
import RbicLexer

/// The static types of the language.
///
/// Units are types: `cycles`, `icp`, `duration` and `bytes` never mix with each other or with `int`.
/// `canister` and `wallet` are principals (a wallet is also a canister); `secret` is a text that is
/// never printed. `error` is the type of an expression that already has a diagnostic: it is
/// compatible with everything, so one mistake yields one message.
public indirect enum RType: Hashable, Sendable, CustomStringConvertible {
  case bool, int, text, cycles, icp, duration, bytes, principal, canister, wallet, hash, path, status, secret
  /// Bytes sent or received as Candid `blob` (`file(PATH)`, a reply's `vec nat8`); a `hash` is one.
  case blob
  case list(RType)
  /// A Candid variant written `.Tag` or `.Tag(value)`: its tags and their payloads (`void` for
  /// none). The type of a literal is its one tag; a list of them joins their tags.
  case variant([Field])
  case record([Field])
  case optional(RType)
  /// A canister that speaks the Candid interface imported under this name
  /// (`import "user_service.did" as UserService`): calls on it are checked against the interface.
  case service(String)
  /// The type of the literal `none` before context gives it one.
  case none
  /// What a `fn` without `->` returns.
  case void
  case error

  public struct Field: Hashable, Sendable {
    public var name: String
    public var type: RType
    public init(_ name: String, _ type: RType) {
      self.name = name
      self.type = type
    }
  }

  /// The names of the scalar types, as written in source.
  package static let named: [String: RType] = [
    "bool": .bool, "int": .int, "text": .text, "cycles": .cycles, "icp": .icp, "duration": .duration,
    "bytes": .bytes, "principal": .principal, "canister": .canister, "wallet": .wallet, "hash": .hash,
    "path": .path, "status": .status, "secret": .secret, "blob": .blob,
  ]

  package static func of(_ unit: Unit) -> RType {
    switch unit {
    case .cycles: .cycles
    case .icp: .icp
    case .duration: .duration
    case .bytes: .bytes
    }
  }

  public var description: String {
    switch self {
    case .bool: "bool"
    case .int: "int"
    case .text: "text"
    case .cycles: "cycles"
    case .icp: "icp"
    case .duration: "duration"
    case .bytes: "bytes"
    case .principal: "principal"
    case .canister: "canister"
    case .wallet: "wallet"
    case .hash: "hash"
    case .path: "path"
    case .status: "status"
    case .secret: "secret"
    case .blob: "blob"
    case .variant(let tags):
      tags.map { $0.type == .void ? ".\($0.name)" : ".\($0.name)(\($0.type))" }.joined(separator: " | ")
    case .list(let e): "[\(e)]"
    case .record(let fields): "{" + fields.map { "\($0.name): \($0.type)" }.joined(separator: ", ") + "}"
    case .optional(let w): "\(w)?"
    case .service(let name): name
    case .none: "none"
    case .void: "nothing"
    case .error: "<error>"
    }
  }

  package var isError: Bool {
    switch self {
    case .error: true
    case .list(let e), .optional(let e): e.isError
    default: false
    }
  }

  /// A measured quantity: arithmetic keeps the unit.
  package var isUnit: Bool { self == .cycles || self == .icp || self == .duration || self == .bytes }

  /// Admits `<`, `<=`, `>`, `>=`.
  package var isOrdered: Bool { self == .int || isUnit || self == .text }

  /// A canister's principal: `canister` or `wallet`.
  package var isCanister: Bool {
    if case .service = self { return true }
    return self == .canister || self == .wallet
  }

  public var unwrapped: RType {
    if case .optional(let w) = self { return w }
    return self
  }

  public var isOptional: Bool {
    if case .optional = self { return true }
    return self == .none
  }

  /// Whether `secret` appears anywhere in the type.
  package var containsSecret: Bool {
    switch self {
    case .secret: true
    case .list(let e), .optional(let e): e.containsSecret
    case .record(let fields), .variant(let fields): fields.contains { $0.type.containsSecret }
    default: false
    }
  }

  /// Whether a value of type `self` may be used where `target` is expected.
  public func isAssignable(to target: RType) -> Bool {
    if self == target || isError || target.isError { return true }
    switch (self, target) {
    case (.canister, .principal), (.wallet, .principal), (.wallet, .canister), (.hash, .blob): return true
    case (.variant(let a), .variant(let b)):
      return a.allSatisfy { tag in b.contains { $0.name == tag.name && tag.type.isAssignable(to: $0.type) } }
    // A canister said to speak an interface is still a canister; a canister may be said to speak one.
    case (.service, .principal), (.service, .canister), (.canister, .service): return true
    case (.none, .optional): return true
    case (.optional(let a), .optional(let b)): return a.isAssignable(to: b)
    case (_, .optional(let b)): return isAssignable(to: b)
    case (.list(let a), .list(let b)): return a.isAssignable(to: b)
    case (.record(let a), .record(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.name == $1.name && $0.type.isAssignable(to: $1.type) }
    default: return false
    }
  }

  /// The most specific type both may be used as, if any (for list elements and `==`).
  package func join(_ other: RType) -> RType? {
    if other.isAssignable(to: self) { return self }
    if isAssignable(to: other) { return other }
    if isCanister || self == .principal, other.isCanister || other == .principal { return .principal }
    if self == .none { return .optional(other) }
    if other == .none { return .optional(self) }
    if case .variant(let a) = self, case .variant(let b) = other {
      var tags = a
      for tag in b {
        if let i = tags.firstIndex(where: { $0.name == tag.name }) {
          guard let joined = tags[i].type.join(tag.type) else { return nil }
          tags[i].type = joined
        } else {
          tags.append(tag)
        }
      }
      return .variant(tags)
    }
    return nil
  }
}

extension RType {
  /// What may follow `x.` for a value of this type: a canister's properties (a wallet's `balance`
  /// too) and, when it speaks a known interface, its methods; a record's fields; `count` of a list
  /// or a text. The REPL's and the language server's completion.
  package func members(interfaces: [String: CandidEnvironment]) -> [String] {
    let properties = CanisterProperty.allCases.filter { $0 != .balance }.map(\.rawValue)
    switch self {
    case .wallet: return properties + ["balance"]
    case .canister: return properties
    case .service(let name): return properties + (interfaces[name]?.methods.map(\.name) ?? [])
    case .record(let fields): return fields.map(\.name)
    case .list, .text: return ["count"]
    case .optional(let inner): return inner.members(interfaces: interfaces)
    default: return []
    }
  }
}
