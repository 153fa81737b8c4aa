import Foundation
import RbicDiagnostics

/// A Candid text, `.did` file or value that is not what it should be, located.
package struct CandidFailure: Error, Sendable {
  package var diagnostic: Diagnostic
  package init(diagnostic: Diagnostic) { self.diagnostic = diagnostic }
}

/// A `.did` file, parsed: type definitions, imports, and the main service if it has one.
package struct DidFile: Sendable {
  package struct Definition: Sendable {
    package var name: String
    package var type: CandidType
    package var range: SourceRange
  }
  package struct Import: Sendable {
    package var path: String
    /// `import service "…"`: the imported file's methods join this service.
    package var isService: Bool
    package var range: SourceRange
  }
  package struct Actor: Sendable {
    /// The service constructor's arguments (`service : (init) -> {…}`), if any.
    package var arguments: [CandidType]?
    /// A service type, or the name of a definition that is one.
    package var type: CandidType
    package var range: SourceRange
  }
  package var definitions: [Definition] = []
  package var imports: [Import] = []
  package var actor: Actor?
  /// Where each method of the main service was written.
  package var methodRanges: [String: SourceRange] = [:]
}

/// The `.did` grammar of the Candid spec, with its comments (`//`, nested `/* */`), text
/// escapes (`\n \t \r \\ \" \' \HH \u{…}`), numeric and quoted labels, `blob`, and service
/// constructors. Errors are located diagnostics; the first one ends the parse.
package struct DidParser {
  enum Token: Equatable {
    case word(String)
    case text(String)
    /// A string literal whose bytes are not UTF-8: only a `blob` may hold it.
    case bytes([UInt8])
    case number(UInt64)
    /// Digits beyond a `UInt64` (a `nat` value may be that large; a label may not).
    case bigNumber(String)
    case symbol(String)
    case end
  }

  let file: SourceFile
  let bytes: [UInt8]
  var at = 0
  var token: Token = .end
  var tokenStart = 0
  var depth = 0
  static let maxDepth = 200

  typealias Failure = CandidFailure

  package static func parse(_ file: SourceFile) throws(CandidFailure) -> DidFile {
    var p = DidParser(file: file, bytes: file.bytes)
    try p.next()
    return try p.program()
  }

  func range(_ start: Int, _ end: Int) -> SourceRange { SourceRange(file: file.id, start: start, end: max(start, end)) }

  func fail(_ message: String, at start: Int? = nil) -> Failure {
    let s = start ?? tokenStart
    return Failure(diagnostic: .error(.candidSyntax, message, at: range(s, max(s + 1, start == nil ? at : s + 1))))
  }

  var shown: String {
    switch token {
    case .word(let w): "`\(w)`"
    case .text: "a text"
    case .bytes: "a text that is not valid UTF-8"
    case .number(let n): "`\(n)`"
    case .bigNumber(let digits): "`\(digits)`"
    case .symbol(let s): "`\(s)`"
    case .end: "the end of the file"
    }
  }

  // MARK: - Lexer

  mutating func skipTrivia() throws(Failure) {
    while at < bytes.count {
      let b = bytes[at]
      if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 {
        at += 1
      } else if b == UInt8(ascii: "/"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "/") {
        while at < bytes.count, bytes[at] != 0x0A { at += 1 }
      } else if b == UInt8(ascii: "/"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "*") {
        let start = at
        var level = 0
        repeat {
          if at + 1 < bytes.count, bytes[at] == UInt8(ascii: "/"), bytes[at + 1] == UInt8(ascii: "*") {
            level += 1
            at += 2
          } else if at + 1 < bytes.count, bytes[at] == UInt8(ascii: "*"), bytes[at + 1] == UInt8(ascii: "/") {
            level -= 1
            at += 2
          } else if at >= bytes.count {
            throw fail("unclosed comment", at: start)
          } else {
            at += 1
          }
        } while level > 0
      } else {
        return
      }
    }
  }

  mutating func next() throws(Failure) {
    try skipTrivia()
    tokenStart = at
    guard at < bytes.count else {
      token = .end
      return
    }
    let b = bytes[at]
    if b == UInt8(ascii: "\"") {
      let decoded = try CandidText.decodeBytes(bytes, &at, file: file)
      token = String(validating: decoded, as: UTF8.self).map(Token.text) ?? .bytes(decoded)
    } else if b == UInt8(ascii: "_") || (b < 0x80 && Character(UnicodeScalar(b)).isLetter) {
      while at < bytes.count,
        bytes[at] == UInt8(ascii: "_") || (bytes[at] < 0x80 && Character(UnicodeScalar(bytes[at])).isLetter)
          || (bytes[at] >= 0x30 && bytes[at] <= 0x39)
      {
        at += 1
      }
      token = .word(String(decoding: bytes[tokenStart..<at], as: UTF8.self))
    } else if b >= 0x30 && b <= 0x39 {
      var digits = ""
      var hex = false
      if b == UInt8(ascii: "0"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "x") {
        hex = true
        at += 2
      }
      while at < bytes.count, bytes[at] == UInt8(ascii: "_") || Character(UnicodeScalar(bytes[at])).isHexDigit {
        if bytes[at] != UInt8(ascii: "_") { digits.append(Character(UnicodeScalar(bytes[at]))) }
        at += 1
      }
      guard !digits.isEmpty else { throw fail("`0x` needs hex digits") }
      token = UInt64(digits, radix: hex ? 16 : 10).map(Token.number) ?? .bigNumber(digits)
    } else if b == UInt8(ascii: "-"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: ">") {
      at += 2
      token = .symbol("->")
    } else if ":;,=(){}.-+".utf8.contains(b) {
      at += 1
      token = .symbol(String(UnicodeScalar(b)))
    } else {
      throw fail(
        "unexpected character `\(String(decoding: bytes[at..<min(at + 4, bytes.count)], as: UTF8.self).prefix(1))`")
    }
  }

  func isSymbol(_ s: String) -> Bool { token == .symbol(s) }
  func isWord(_ w: String) -> Bool { token == .word(w) }

  mutating func expect(_ s: String) throws(Failure) {
    guard isSymbol(s) else { throw fail("expected `\(s)`, found \(shown)") }
    try next()
  }

  mutating func accept(_ s: String) throws(Failure) -> Bool {
    guard isSymbol(s) else { return false }
    try next()
    return true
  }

  /// An identifier (not a keyword).
  mutating func identifier(_ what: String) throws(Failure) -> String {
    guard case .word(let w) = token, !CandidLabel.keywords.contains(w) else {
      throw fail("expected \(what), found \(shown)")
    }
    try next()
    return w
  }

  /// A name: an identifier or a text.
  mutating func name(_ what: String) throws(Failure) -> String {
    if case .text(let t) = token {
      try next()
      return t
    }
    return try identifier(what)
  }

  // MARK: - Grammar

  mutating func program() throws(Failure) -> DidFile {
    var out = DidFile()
    while true {
      let start = tokenStart
      if isWord("type") {
        try next()
        let name = try identifier("a type name")
        try expect("=")
        let type = try datatype()
        out.definitions.append(.init(name: name, type: type, range: range(start, at)))
      } else if isWord("import") {
        try next()
        var isService = false
        if isWord("service") {
          isService = true
          try next()
        }
        guard case .text(let path) = token else { throw fail("expected the imported file's path as a text") }
        try next()
        out.imports.append(.init(path: path, isService: isService, range: range(start, tokenStart)))
      } else {
        break
      }
      guard try accept(";") else {
        if isWord("service") || token == .end { continue }
        throw fail("expected `;` after the definition, found \(shown)")
      }
    }
    if isWord("service") {
      let start = tokenStart
      try next()
      if case .word(let w) = token, !CandidLabel.keywords.contains(w) { try next() }
      try expect(":")
      var arguments: [CandidType]?
      if isSymbol("(") {
        arguments = try tuple()
        try expect("->")
      }
      let type: CandidType
      if isSymbol("{") {
        type = .service(try methods(&out.methodRanges))
      } else {
        type = .named(try identifier("a service type"))
      }
      out.actor = .init(arguments: arguments, type: type, range: range(start, tokenStart))
      _ = try accept(";")
    }
    guard token == .end else { throw fail("expected a definition or the service, found \(shown)") }
    return out
  }

  mutating func methods(_ ranges: inout [String: SourceRange]) throws(Failure) -> [CandidMethod] {
    try expect("{")
    var list: [CandidMethod] = []
    while !isSymbol("}") {
      let start = tokenStart
      let name = try name("a method name")
      try expect(":")
      let type: CandidType = isSymbol("(") ? .function(try functionType()) : .named(try identifier("a function type"))
      list.append(CandidMethod(name: name, type: type))
      ranges[name] = ranges[name] ?? range(start, tokenStart)
      guard try accept(";") else { break }
    }
    try expect("}")
    return list
  }

  mutating func functionType() throws(Failure) -> CandidFunction {
    let arguments = try tuple()
    try expect("->")
    let results = try tuple()
    var modes: [CandidFunction.Mode] = []
    while case .word(let w) = token, let mode = CandidFunction.Mode(rawValue: w) {
      modes.append(mode)
      try next()
    }
    return CandidFunction(arguments: arguments, results: results, modes: modes)
  }

  /// `( T, name : T, … )`
  mutating func tuple() throws(Failure) -> [CandidType] {
    try expect("(")
    var list: [CandidType] = []
    while !isSymbol(")") {
      // `name : type` arguments keep only the type.
      if case .word(let w) = token, !CandidLabel.keywords.contains(w) {
        let saved = (at, token, tokenStart)
        try next()
        if try accept(":") {
          list.append(try datatype())
        } else {
          (at, token, tokenStart) = saved
          list.append(try datatype())
        }
      } else if case .text = token {
        try next()
        try expect(":")
        list.append(try datatype())
      } else {
        list.append(try datatype())
      }
      guard try accept(",") else { break }
    }
    try expect(")")
    return list
  }

  mutating func datatype() throws(Failure) -> CandidType {
    depth += 1
    defer { depth -= 1 }
    guard depth <= Self.maxDepth else { throw fail("types nested more than \(Self.maxDepth) deep") }
    guard case .word(let w) = token else { throw fail("expected a type, found \(shown)") }
    try next()
    if let p = CandidType.primitives[w] { return p }
    switch w {
    case "opt": return .opt(try datatype())
    case "vec": return .vec(try datatype())
    case "blob": return .vec(.nat8)
    case "record": return .record(try fields(variant: false))
    case "variant": return .variant(try fields(variant: true))
    case "func": return .function(try functionType())
    case "service":
      var ignored: [String: SourceRange] = [:]
      return .service(try methods(&ignored))
    default:
      guard !CandidLabel.keywords.contains(w) else { throw fail("`\(w)` is not a type here", at: tokenStart) }
      return .named(w)
    }
  }

  /// Record and variant fields: `name : T`, `"text" : T`, `5 : T`; in a record a bare `T` is
  /// positional, in a variant a bare name is `name : null`.
  mutating func fields(variant: Bool) throws(Failure) -> [CandidField] {
    try expect("{")
    var list: [CandidField] = []
    var position: UInt32 = 0
    while !isSymbol("}") {
      let start = tokenStart
      var field: CandidField
      switch token {
      case .number(let n):
        try next()
        guard n <= UInt64(UInt32.max) else { throw fail("the label \(n) is beyond 2^32-1", at: start) }
        if try accept(":") {
          field = CandidField(.id(UInt32(n)), try datatype())
        } else {
          guard variant else { throw fail("expected `:` after the label", at: start) }
          field = CandidField(.id(UInt32(n)), .null)
        }
      case .bigNumber(let digits):
        throw fail("the label \(digits) is beyond 2^32-1", at: start)
      case .text(let t):
        try next()
        if try accept(":") {
          field = CandidField(.named(t), try datatype())
        } else {
          guard variant else { throw fail("expected `:` after the label", at: start) }
          field = CandidField(.named(t), .null)
        }
      case .word(let w) where !CandidLabel.keywords.contains(w) || !variant:
        let saved = (at, token, tokenStart)
        try next()
        if try accept(":") {
          field = CandidField(.named(w), try datatype())
        } else if variant {
          field = CandidField(.named(w), .null)
        } else {
          (at, token, tokenStart) = saved
          field = CandidField(.unnamed(position), try datatype())
          position &+= 1
        }
      default:
        guard !variant else { throw fail("expected a variant label, found \(shown)") }
        field = CandidField(.unnamed(position), try datatype())
        position &+= 1
      }
      if case .named = field.label {} else if case .id(let n) = field.label { position = n &+ 1 }
      list.append(field)
      guard try accept(";") else { break }
    }
    try expect("}")
    return list
  }
}
