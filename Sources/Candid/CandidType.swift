/// Candid, written once: types, `.did` service descriptions, and text values.
///
/// A label is a name or a number; both are compared by their `idl_hash` (a record field `foo`
/// and the field `5_097_222` are the same field when the hashes agree).
package enum CandidLabel: Hashable, Sendable, CustomStringConvertible {
  case named(String)
  case id(UInt32)
  /// A record field written without a label: its position.
  case unnamed(UInt32)

  package var isNamed: Bool { if case .named = self { true } else { false } }

  package var hash: UInt32 {
    switch self {
    case .named(let name): Self.idlHash(name)
    case .id(let n), .unnamed(let n): n
    }
  }

  /// `idl_hash`: h = (h × 223 + byte) mod 2³² over the name's UTF-8 bytes.
  package static func idlHash(_ name: String) -> UInt32 {
    name.utf8.reduce(UInt32(0)) { $0 &* 223 &+ UInt32($1) }
  }

  package var description: String {
    switch self {
    case .named(let name): CandidLabel.isIdentifier(name) ? name : CandidText.quote(name)
    case .id(let n), .unnamed(let n): String(n)
    }
  }

  static let keywords: Set<String> = [
    "type", "import", "service", "func", "query", "oneway", "composite_query", "opt", "vec", "record", "variant",
    "blob", "principal", "null", "bool", "text", "reserved", "empty", "nat", "int", "nat8", "nat16", "nat32",
    "nat64", "int8", "int16", "int32", "int64", "float32", "float64",
  ]

  static func isIdentifier(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
      return false
    }
    return !keywords.contains(s)
      && s.unicodeScalars.allSatisfy {
        $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
      }
  }
}

/// A Candid type as written (names refer to an environment's definitions).
package indirect enum CandidType: Hashable, Sendable, CustomStringConvertible {
  case null, bool, nat, int, nat8, nat16, nat32, nat64, int8, int16, int32, int64, float32, float64, text
  case reserved, empty, principal
  case opt(CandidType)
  case vec(CandidType)
  case record([CandidField])
  case variant([CandidField])
  case function(CandidFunction)
  case service([CandidMethod])
  /// A reference to a type definition.
  case named(String)

  package static let primitives: [String: CandidType] = [
    "null": .null, "bool": .bool, "nat": .nat, "int": .int, "nat8": .nat8, "nat16": .nat16, "nat32": .nat32,
    "nat64": .nat64, "int8": .int8, "int16": .int16, "int32": .int32, "int64": .int64, "float32": .float32,
    "float64": .float64, "text": .text, "reserved": .reserved, "empty": .empty, "principal": .principal,
  ]

  package var description: String {
    switch self {
    case .opt(let t): "opt \(t)"
    case .vec(.nat8): "blob"
    case .vec(let t): "vec \(t)"
    case .record(let fields):
      fields.isEmpty
        ? "record {}"
        : "record { "
          + fields.map { f in f.isPositional ? "\(f.type)" : "\(f.label) : \(f.type)" }.joined(separator: "; ")
          + " }"
    case .variant(let fields):
      fields.isEmpty
        ? "variant {}"
        : "variant { "
          + fields.map { f in f.type == .null ? "\(f.label)" : "\(f.label) : \(f.type)" }.joined(
            separator: "; ") + " }"
    case .function(let f): "func \(f)"
    case .service(let methods):
      methods.isEmpty
        ? "service {}" : "service { " + methods.map { "\($0.name) : \($0.type)" }.joined(separator: "; ") + " }"
    case .named(let name): name
    default: Self.primitives.first { $0.value == self }?.key ?? "?"
    }
  }
}

package struct CandidField: Hashable, Sendable {
  package var label: CandidLabel
  package var type: CandidType
  package init(_ label: CandidLabel, _ type: CandidType) {
    self.label = label
    self.type = type
  }
  var isPositional: Bool { if case .unnamed = label { true } else { false } }
}

package struct CandidFunction: Hashable, Sendable, CustomStringConvertible {
  package enum Mode: String, Hashable, Sendable {
    case query, oneway
    case compositeQuery = "composite_query"
  }
  package var arguments: [CandidType]
  package var results: [CandidType]
  package var modes: [Mode]
  package init(arguments: [CandidType], results: [CandidType], modes: [Mode]) {
    self.arguments = arguments
    self.results = results
    self.modes = modes
  }
  package var isQuery: Bool { modes.contains(.query) || modes.contains(.compositeQuery) }
  package var description: String {
    "(\(arguments.map(\.description).joined(separator: ", "))) -> (\(results.map(\.description).joined(separator: ", ")))"
      + modes.map { " " + $0.rawValue }.joined()
  }
}

package struct CandidMethod: Hashable, Sendable {
  package var name: String
  /// A function type, or the name of a definition that is one.
  package var type: CandidType
  package init(name: String, type: CandidType) {
    self.name = name
    self.type = type
  }
}
