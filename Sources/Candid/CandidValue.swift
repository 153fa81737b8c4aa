import RbicDiagnostics

/// A Candid value in its text form, as the tools print replies and take arguments.
///
/// Integers are held in `Int128` (every amount of cycles fits; a `nat` beyond 2^127 is refused
/// with its text quoted rather than rounded). A number written with a type (`5 : nat8`) keeps it.
package indirect enum CandidValue: Hashable, Sendable {
  case null
  case bool(Bool)
  case integer(Int128, CandidType?)
  case float(Double, CandidType?)
  case text(String)
  case blob([UInt8])
  case opt(CandidValue)
  case vec([CandidValue])
  case record([CandidValueField])
  case variant(CandidValueField)
  case principal(String)
  case service(String)
  case function(String, String)
  /// `v : T` around anything but a number.
  case annotated(CandidValue, CandidType)

  /// The value as a tool without the interface prints it: every named label as its hash.
  package var hashingLabels: CandidValue {
    func hashed(_ f: CandidValueField) -> CandidValueField {
      CandidValueField(f.label.isNamed ? .id(f.label.hash) : f.label, f.value.hashingLabels)
    }
    switch self {
    case .opt(let v): return .opt(v.hashingLabels)
    case .vec(let items): return .vec(items.map(\.hashingLabels))
    case .record(let fields): return .record(fields.map(hashed))
    case .variant(let f): return .variant(hashed(f))
    case .annotated(let v, let t): return .annotated(v.hashingLabels, t)
    default: return self
    }
  }

  /// The value without its annotation.
  package var bare: CandidValue { if case .annotated(let v, _) = self { v.bare } else { self } }

  /// A record's field or a variant's tag, matched by label hash.
  package func field(_ name: String) -> CandidValue? {
    let h = CandidLabel.idlHash(name)
    switch bare {
    case .record(let fields): return fields.first { $0.label.hash == h }?.value
    case .variant(let f): return f.label.hash == h ? f.value : nil
    default: return nil
    }
  }
}

package struct CandidValueField: Hashable, Sendable {
  package var label: CandidLabel
  package var value: CandidValue
  package init(_ label: CandidLabel, _ value: CandidValue) {
    self.label = label
    self.value = value
  }
}

extension CandidValue {
  /// Parses `(v, …)`, the form of every reply and argument list, or a single value.
  package static func parseArguments(_ text: String) throws(CandidFailure) -> [CandidValue] {
    var files = SourceFiles()
    let file = files.add(path: "<reply>", bytes: Array(text.utf8))
    var p = DidParser(file: file, bytes: file.bytes)
    try p.next()
    var values: [CandidValue] = []
    if p.isSymbol("(") {
      try p.next()
      while !p.isSymbol(")") {
        values.append(try p.annotatedValue())
        guard try p.accept(",") else { break }
      }
      try p.expect(")")
    } else {
      values.append(try p.annotatedValue())
    }
    guard p.token == .end else { throw p.fail("unexpected \(p.shown) after the value") }
    return values
  }
}

extension DidParser {
  /// A value, then `: type` if there is one.
  mutating func annotatedValue() throws(CandidFailure) -> CandidValue {
    let v = try value()
    guard try accept(":") else { return v }
    let type = try datatype()
    switch v {
    case .integer(let n, _): return .integer(n, type)
    case .float(let x, _): return .float(x, type)
    default: return .annotated(v, type)
    }
  }

  mutating func value() throws(CandidFailure) -> CandidValue {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maxDepth else { throw fail("values nested more than \(Self.maxDepth) deep") }
    switch token {
    case .text(let t):
      try next()
      return .text(t)
    case .number, .bigNumber, .symbol("-"), .symbol("+"):
      return try number()
    case .symbol("("):
      try next()
      let v = try annotatedValue()
      try expect(")")
      return v
    case .word(let w):
      try next()
      switch w {
      case "null": return .null
      case "true": return .bool(true)
      case "false": return .bool(false)
      case "opt": return .opt(try value())
      case "vec":
        try expect("{")
        var items: [CandidValue] = []
        while !isSymbol("}") {
          items.append(try annotatedValue())
          guard try accept(";") else { break }
        }
        try expect("}")
        return .vec(items)
      case "record": return .record(try valueFields(variant: false))
      case "variant":
        let fields = try valueFields(variant: true)
        guard fields.count == 1, let only = fields.first else { throw fail("a variant value has exactly one field") }
        return .variant(only)
      case "blob":
        switch token {
        case .text(let t):
          try next()
          return .blob(Array(t.utf8))
        case .bytes(let b):
          try next()
          return .blob(b)
        default: throw fail("expected the blob's bytes as a text")
        }
      case "principal", "service":
        guard case .text(let t) = token else { throw fail("expected the \(w) as a text") }
        try next()
        return w == "principal" ? .principal(t) : .service(t)
      case "func":
        guard case .text(let t) = token else { throw fail("expected the function's service as a text") }
        try next()
        try expect(".")
        return .function(t, try name("a method name"))
      default: throw fail("`\(w)` is not a Candid value", at: tokenStart)
      }
    default:
      throw fail("expected a Candid value, found \(shown)")
    }
  }

  /// `-12_345`, `0x1f`, `1.5`, `-2e-3`: scanned from the source (the tokens split them).
  mutating func number() throws(CandidFailure) -> CandidValue {
    let start = tokenStart
    var i = start
    func digit(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "_") }
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
    var isFloat = false
    var hex = false
    if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "0"), bytes[i + 1] == UInt8(ascii: "x") {
      hex = true
      i += 2
      while i < bytes.count, bytes[i] == UInt8(ascii: "_") || Character(UnicodeScalar(bytes[i])).isHexDigit { i += 1 }
    } else {
      while i < bytes.count, digit(bytes[i]) { i += 1 }
      if i + 1 < bytes.count, bytes[i] == UInt8(ascii: "."), digit(bytes[i + 1]) || bytes[i + 1] == UInt8(ascii: "e") {
        isFloat = true
        i += 1
        while i < bytes.count, digit(bytes[i]) { i += 1 }
      }
      if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
        isFloat = true
        i += 1
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
        while i < bytes.count, digit(bytes[i]) { i += 1 }
      }
    }
    let text = String(decoding: bytes[start..<i], as: UTF8.self).replacingOccurrences(of: "_", with: "")
    at = i
    try next()
    if isFloat {
      guard let x = Double(text) else { throw fail("`\(text)` is not a number", at: start) }
      return .float(x, nil)
    }
    let negative = text.hasPrefix("-")
    let digits = text.drop { $0 == "-" || $0 == "+" }
    guard let magnitude = hex ? Int128(digits.dropFirst(2), radix: 16) : Int128(digits, radix: 10) else {
      throw fail("`\(text.prefix(60))` is not a number rbic can hold (at most 2^127-1)", at: start)
    }
    return .integer(negative ? -magnitude : magnitude, nil)
  }

  /// Record fields (`a = v`, `5 = v`, bare `v` by position) or a variant's (`a = v`, bare `a`).
  mutating func valueFields(variant: Bool) throws(CandidFailure) -> [CandidValueField] {
    try expect("{")
    var out: [CandidValueField] = []
    var position: UInt32 = 0
    while !isSymbol("}") {
      let label: CandidLabel?
      switch token {
      case .number(let n) where n <= UInt64(UInt32.max):
        let saved = (at, token, tokenStart)
        try next()
        if isSymbol("=") || (variant && (isSymbol(";") || isSymbol("}"))) {
          label = .id(UInt32(n))
        } else {
          (at, token, tokenStart) = saved
          label = nil
        }
      case .text(let t):
        let saved = (at, token, tokenStart)
        try next()
        if isSymbol("=") || (variant && (isSymbol(";") || isSymbol("}"))) {
          label = .named(t)
        } else {
          (at, token, tokenStart) = saved
          label = nil
        }
      case .word(let w)
      where !CandidLabel.keywords.contains(w) || (variant && !["opt", "vec", "record", "variant"].contains(w)):
        try next()
        label = .named(w)
      default:
        label = nil
      }
      if let label {
        if try accept("=") {
          out.append(CandidValueField(label, try annotatedValue()))
        } else {
          guard variant else { throw fail("expected `=` after the field's label") }
          out.append(CandidValueField(label, .null))
        }
        if case .id(let n) = label { position = n &+ 1 }
      } else {
        guard !variant else { throw fail("expected a variant label, found \(shown)") }
        out.append(CandidValueField(.unnamed(position), try annotatedValue()))
        position &+= 1
      }
      guard try accept(";") else { break }
    }
    try expect("}")
    return out
  }
}
