import RbicDiagnostics

/// Candid values as the tools print them: on one line when that fits in 80 columns, otherwise
/// each container broken over lines (two spaces a level, `;` or `,` after every item), numbers
/// grouped with `_`, a number with its type when it has one (`1_000 : nat64`: what rbic sends is
/// always typed, what the tools print keeps what they printed), tuples without labels.
extension CandidValue {
  package static let width = 80

  /// `(v1, v2)` in the tools' layout.
  package static func print(arguments: [CandidValue], width: Int = CandidValue.width) -> String {
    let flat = "(" + arguments.map(\.flat).joined(separator: ", ") + ")"
    if flat.count <= width { return flat }
    return "(\n" + arguments.map { "  " + $0.layout(indent: 2, width: width) + ",\n" }.joined() + ")"
  }

  package var flat: String {
    switch self {
    case .null: "null"
    case .bool(let b): b ? "true" : "false"
    case .integer(let n, let type): Self.number(n, type)
    case .float(let x, let type): "\(x)" + (type.map { " : \($0)" } ?? "")
    case .text(let t): CandidText.quote(t)
    case .blob(let bytes): "blob \(Self.blobText(bytes))"
    // `opt` takes a value, not an annotated one: `opt (5 : nat64)`, as the tools' parsers read it.
    case .opt(.integer(let n, let type?)): "opt (\(Self.number(n, type)))"
    case .opt(.float(let x, let type?)): "opt (\(x) : \(type))"
    case .opt(let v): "opt \(v.flat)"
    case .vec(let items): items.isEmpty ? "vec {}" : "vec { " + items.map(\.flat).joined(separator: "; ") + " }"
    case .record(let fields):
      fields.isEmpty
        ? "record {}" : "record { " + fields.map { Self.fieldText($0, variant: false) }.joined(separator: "; ") + " }"
    case .variant(let f): "variant { " + Self.fieldText(f, variant: true) + " }"
    case .principal(let p): "principal \(CandidText.quote(p))"
    case .service(let p): "service \(CandidText.quote(p))"
    case .function(let p, let m): "func \(CandidText.quote(p)).\(CandidLabel.named(m))"
    case .annotated(let v, let t): "(\(v.flat) : \(t))"
    }
  }

  /// This value starting at column `indent`, broken where it does not fit.
  func layout(indent: Int, width: Int) -> String {
    let one = flat
    if indent + one.count <= width { return one }
    let pad = String(repeating: " ", count: indent)
    func block(_ head: String, _ items: [String]) -> String {
      head + " {\n" + items.map { pad + "  " + $0 + ";\n" }.joined() + pad + "}"
    }
    switch self {
    case .vec(let items) where !items.isEmpty:
      return block("vec", items.map { $0.layout(indent: indent + 2, width: width) })
    case .record(let fields) where !fields.isEmpty:
      return block("record", fields.map { Self.fieldLayout($0, variant: false, indent: indent + 2, width: width) })
    case .variant(let f):
      return block("variant", [Self.fieldLayout(f, variant: true, indent: indent + 2, width: width)])
    case .opt(let v): return "opt " + v.layout(indent: indent + 4, width: width)
    default: return one
    }
  }

  /// A field; a variant's tag without a value (`null`) is its label alone.
  static func fieldText(_ f: CandidValueField, variant: Bool) -> String {
    switch f.label {
    case .unnamed: f.value.flat
    default: variant && f.value == .null ? "\(label(f.label))" : "\(label(f.label)) = \(f.value.flat)"
    }
  }

  static func fieldLayout(_ f: CandidValueField, variant: Bool, indent: Int, width: Int) -> String {
    switch f.label {
    case .unnamed: return f.value.layout(indent: indent, width: width)
    default:
      guard !variant || f.value != .null else { return label(f.label) }
      let head = "\(label(f.label)) = "
      return head + f.value.layout(indent: indent + head.count, width: width)
    }
  }

  static func label(_ l: CandidLabel) -> String {
    switch l {
    case .named(let n): CandidLabel.isIdentifier(n) ? n : CandidText.quote(n)
    case .id(let n), .unnamed(let n): groupedDigits(String(n))
    }
  }

  static func number(_ n: Int128, _ type: CandidType?) -> String {
    let text = (n < 0 ? "-" : "") + groupedDigits(String(n.magnitude))
    return type.map { "\(text) : \($0)" } ?? text
  }

  /// Printable ASCII as itself, every other byte as `\xx`.
  static func blobText(_ bytes: [UInt8]) -> String {
    "\""
      + bytes.map { b in
        b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\")
          ? String(UnicodeScalar(b)) : "\\" + (b < 16 ? "0" : "") + String(b, radix: 16)
      }.joined() + "\""
  }
}
