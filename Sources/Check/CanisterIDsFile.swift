/// `canister_ids.json` as text: read with every entry's position, so that a malformed file is an
/// error with its line and column, and so that writing one entry changes only that entry's text
/// and leaves every other entry, the key order, the indentation and the final newline as they
/// were (the file is reviewed in pull requests; a rewrite would bury the change in noise).
///
///     {
///       "user_service": {
///         "ic": "…",
///         "production": "6iu47-dyaaa-aaaaf-qgeza-cai"
///       }
///     }
package struct CanisterIDsFile: Sendable {
  package struct ParseError: Error, Sendable, CustomStringConvertible {
    package var line: Int
    package var column: Int
    package var message: String
    package var description: String { "canister_ids.json:\(line):\(column): \(message)" }
  }

  /// One `"key": "value"` pair of a canister's object, with the value's byte range.
  struct Pair: Sendable {
    var key: String
    var value: String?
    var valueRange: Range<Int>
  }

  /// A canister's entry: its pairs, where its object's `}` is, and where its value ends.
  struct Entry: Sendable {
    var name: String
    var pairs: [Pair]
    var close: Int
    var isObject: Bool
    var end: Int
  }

  package private(set) var bytes: [UInt8]
  var entries: [Entry] = []
  /// Where the top-level object's `}` is.
  var close = 0

  package init(text: String) throws(ParseError) {
    bytes = Array(text.utf8)
    var scanner = Scanner(bytes: bytes)
    try scanner.space()
    guard scanner.peek == UInt8(ascii: "{") else { throw scanner.error("expected `{` to start the file's object") }
    try scanner.object { (name, scanner) throws(ParseError) in
      if scanner.peek == UInt8(ascii: "{") {
        var pairs: [Pair] = []
        let close = try scanner.object { (key, scanner) throws(ParseError) in
          let start = scanner.at
          let value = try scanner.value()
          pairs.append(Pair(key: key, value: value, valueRange: start..<scanner.at))
        }
        entries.append(Entry(name: name, pairs: pairs, close: close, isObject: true, end: scanner.at))
      } else {
        let start = scanner.at
        _ = try scanner.value()
        entries.append(Entry(name: name, pairs: [], close: start, isObject: false, end: scanner.at))
      }
    }
    close = scanner.at - 1
    try scanner.space()
    guard scanner.at == bytes.count else { throw scanner.error("unexpected text after the file's object") }
  }

  /// The ids by canister name and key (values that are not strings are left out).
  package var ids: [String: [String: String]] {
    var result: [String: [String: String]] = [:]
    for e in entries where e.isObject {
      var keys: [String: String] = [:]
      for p in e.pairs { if let v = p.value { keys[p.key] = v } }
      result[e.name] = keys
    }
    return result
  }

  /// The file with `name`/`key` set to `id`: the value replaced in place when the key exists,
  /// otherwise a new pair (or a new entry) added last, indented like its neighbours. An entry
  /// for `name` that is not an object is an error: the file would need more than one change.
  package func setting(name: String, key: String, to id: String) throws(ParseError) -> String {
    if let other = entries.last(where: { $0.name == name }), !other.isObject {
      var scanner = Scanner(bytes: bytes)
      scanner.at = other.close
      throw scanner.error("`\(name)` is not an object of ids, so `\(key)` cannot be added to it")
    }
    let quotedID = ValueFormat.jsonQuote(id)
    if let entry = entries.last(where: { $0.name == name && $0.isObject }) {
      if let pair = entry.pairs.last(where: { $0.key == key }) {
        return splice(pair.valueRange, quotedID)
      }
      let inner = indentation(of: entry.pairs.first?.valueRange.lowerBound, fallback: depthIndent(2))
      return insert(
        "\(ValueFormat.jsonQuote(key)): \(quotedID)", before: entry.close,
        afterLast: entry.pairs.last?.valueRange.upperBound,
        indent: inner, closingIndent: depthIndent(1))
    }
    let outer = depthIndent(1)
    let member =
      "\(ValueFormat.jsonQuote(name)): {\n\(outer)\(outer)\(ValueFormat.jsonQuote(key)): \(quotedID)\n\(outer)}"
    return insert(member, before: close, afterLast: entries.last?.end, indent: outer, closingIndent: "")
  }

  /// The indentation unit the file uses (from its first indented line), repeated `depth` times.
  private func depthIndent(_ depth: Int) -> String {
    var unit = "  "
    var i = 0
    while i < bytes.count {
      if bytes[i] == UInt8(ascii: "\n") {
        var j = i + 1
        while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
        if j > i + 1, j < bytes.count, bytes[j] != UInt8(ascii: "\n") {
          unit = String(decoding: bytes[(i + 1)..<j], as: UTF8.self)
          break
        }
      }
      i += 1
    }
    return String(repeating: unit, count: depth)
  }

  /// The whitespace at the start of the line holding `offset`.
  private func indentation(of offset: Int?, fallback: String) -> String {
    guard let offset else { return fallback }
    var start = offset
    while start > 0, bytes[start - 1] != UInt8(ascii: "\n") { start -= 1 }
    var end = start
    while end < bytes.count, bytes[end] == UInt8(ascii: " ") || bytes[end] == UInt8(ascii: "\t") { end += 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }

  private func splice(_ range: Range<Int>, _ replacement: String) -> String {
    String(decoding: bytes[..<range.lowerBound] + Array(replacement.utf8) + bytes[range.upperBound...], as: UTF8.self)
  }

  /// Inserts `member` into an object whose `}` is at `close`: after its last member (with a
  /// comma) on a line of its own, or as the only member.
  private func insert(_ member: String, before close: Int, afterLast: Int?, indent: String, closingIndent: String)
    -> String
  {
    if let afterLast {
      return splice(afterLast..<afterLast, ",\n\(indent)\(member)")
    }
    // An empty object: `{}` or `{\n}` becomes a multi-line one.
    var open = close - 1
    while open > 0, bytes[open] != UInt8(ascii: "{") { open -= 1 }
    return splice((open + 1)..<close, "\n\(indent)\(member)\n\(closingIndent)")
  }

  /// A JSON reader that keeps byte offsets and reports line and column.
  struct Scanner {
    let bytes: [UInt8]
    var at = 0
    /// Objects and arrays nested deeper than this are refused (a hostile file cannot exhaust the stack).
    static let maxDepth = 64
    var depth = 0

    var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

    func error(_ message: String) -> ParseError {
      var line = 1
      var column = 1
      for b in bytes[..<min(at, bytes.count)] {
        if b == UInt8(ascii: "\n") {
          line += 1
          column = 1
        } else if b & 0xC0 != 0x80 {
          column += 1
        }
      }
      return ParseError(line: line, column: column, message: message)
    }

    mutating func space() throws(ParseError) {
      while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { at += 1 }
    }

    mutating func expect(_ c: Character) throws(ParseError) {
      guard peek == c.asciiValue else { throw error("expected `\(c)`") }
      at += 1
    }

    /// An object; `member` reads each value (positioned at it). Returns the offset of its `}`.
    @discardableResult
    mutating func object(_ member: (String, inout Scanner) throws(ParseError) -> Void) throws(ParseError) -> Int {
      depth += 1
      defer { depth -= 1 }
      guard depth <= Self.maxDepth else { throw error("objects nested too deeply") }
      try expect("{")
      try space()
      if peek == UInt8(ascii: "}") {
        at += 1
        return at - 1
      }
      while true {
        try space()
        guard peek == UInt8(ascii: "\"") else { throw error("expected a quoted name") }
        let name = try string()
        try space()
        try expect(":")
        try space()
        try member(name, &self)
        try space()
        if peek == UInt8(ascii: ",") {
          at += 1
          continue
        }
        guard peek == UInt8(ascii: "}") else { throw error("expected `,` or `}`") }
        at += 1
        return at - 1
      }
    }

    /// Any value; returns it when it is a string.
    mutating func value() throws(ParseError) -> String? {
      switch peek {
      case UInt8(ascii: "\""): return try string()
      case UInt8(ascii: "{"):
        try object { (_, s) throws(ParseError) in _ = try s.value() }
        return nil
      case UInt8(ascii: "["):
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error("arrays nested too deeply") }
        at += 1
        try space()
        if peek == UInt8(ascii: "]") {
          at += 1
          return nil
        }
        while true {
          try space()
          _ = try value()
          try space()
          if peek == UInt8(ascii: ",") {
            at += 1
            continue
          }
          try expect("]")
          return nil
        }
      default:
        let start = at
        while let b = peek,
          b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
            || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
        {
          at += 1
        }
        let word = String(decoding: bytes[start..<at], as: UTF8.self)
        guard ["true", "false", "null"].contains(word) || Double(word) != nil else {
          at = start
          throw error(word.isEmpty ? "expected a value" : "`\(word.prefix(40))` is not a JSON value")
        }
        return nil
      }
    }

    mutating func string() throws(ParseError) -> String {
      try expect("\"")
      var out: [UInt8] = []
      while let b = peek {
        at += 1
        switch b {
        case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
        case UInt8(ascii: "\\"):
          guard let e = peek else { break }
          at += 1
          switch e {
          case UInt8(ascii: "n"): out.append(0x0A)
          case UInt8(ascii: "t"): out.append(0x09)
          case UInt8(ascii: "r"): out.append(0x0D)
          case UInt8(ascii: "b"): out.append(0x08)
          case UInt8(ascii: "f"): out.append(0x0C)
          case UInt8(ascii: "u"):
            guard at + 4 <= bytes.count,
              let code = UInt32(String(decoding: bytes[at..<(at + 4)], as: UTF8.self), radix: 16)
            else { throw error("a `\\u` escape needs four hex digits") }
            at += 4
            out += Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8)
          default: out.append(e)
          }
        case 0x0A: throw error("a string cannot span lines")
        default: out.append(b)
        }
      }
      throw error("the string is not closed")
    }
  }
}
