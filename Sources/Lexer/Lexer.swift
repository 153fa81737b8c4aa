import RbicDiagnostics

/// The lexer: UTF-8 bytes in, tokens, comments and diagnostics out.
///
/// It never throws and never stops early: every byte sequence yields a token stream ending in `.eof`
/// plus diagnostics for what was wrong. Literals are decoded and checked here (unit suffixes and
/// whole amounts, 64-bit integers, 64-digit hashes, principal checksums), so later phases see values.
/// Comments are kept as trivia with their positions; string interpolations are kept as byte ranges
/// that the parser lexes again with `lex(_:range:)`.
package struct Lexer {
  package struct Result: Sendable {
    package var tokens: [Token]
    package var comments: [Comment]
    package var diagnostics: [Diagnostic]
  }

  private let file: SourceFile
  private let bytes: [UInt8]
  private let end: Int
  private var pos: Int
  private var tokens: [Token] = []
  private var comments: [Comment] = []
  private var diagnostics: [Diagnostic] = []
  private var newlineBefore = true
  /// Offsets before this one cannot start a principal: a chain of groups that failed to be one
  /// fails the same way from each of its later groups, so it is scanned once, not once per group.
  private var noPrincipalBefore = 0

  private init(file: SourceFile, range: Range<Int>) {
    self.file = file
    self.bytes = file.bytes
    self.pos = range.lowerBound
    self.end = range.upperBound
  }

  /// The largest source the front end reads. A runbook is a page or two; a file past this is a
  /// mistake or hostile, and the time and memory of every later phase grow with it (a 10 MB file
  /// took 21 s to check), so it is one located error instead.
  package static let maxSourceBytes = 4 << 20

  /// Lexes a whole file, reporting invalid UTF-8 first. A file over `maxSourceBytes` is not read:
  /// its tokens are only `.eof`, and its one diagnostic (`sourceTooLarge`) sits where the limit
  /// falls.
  package static func lex(_ file: SourceFile) -> Result {
    guard file.bytes.count <= maxSourceBytes else {
      let at = SourceRange(file: file.id, start: maxSourceBytes, end: maxSourceBytes)
      let d = Diagnostic.error(
        .sourceTooLarge,
        "a runbook is at most \(maxSourceBytes >> 20) MiB; this file has \(file.bytes.count) bytes", at: at
      ).help("split it into files joined with `import`")
      return Result(
        tokens: [Token(kind: .eof, start: file.bytes.count, end: file.bytes.count, newlineBefore: true)], comments: [],
        diagnostics: [d])
    }
    var lexer = Lexer(file: file, range: 0..<file.bytes.count)
    lexer.validateUTF8()
    lexer.run()
    return Result(tokens: lexer.tokens, comments: lexer.comments, diagnostics: lexer.diagnostics)
  }

  /// Lexes part of a file (an interpolated expression), with offsets relative to the whole file.
  package static func lex(_ file: SourceFile, range: Range<Int>) -> Result {
    var lexer = Lexer(file: file, range: range)
    lexer.newlineBefore = false
    lexer.run()
    return Result(tokens: lexer.tokens, comments: lexer.comments, diagnostics: lexer.diagnostics)
  }

  // MARK: - Driver

  private mutating func run() {
    while true {
      skipWhitespaceAndComments()
      guard pos < end else { break }
      let start = pos
      let c = bytes[pos]
      if pos >= noPrincipalBefore, PrincipalText.isBase32(c), let principalEnd = principalCandidateEnd(from: pos) {
        lexPrincipal(start: start, end: principalEnd)
      } else if isIdentifierStart(c) {
        lexIdentifier()
      } else if isDigit(c) {
        lexNumber()
      } else if c == UInt8(ascii: "\"") {
        lexString()
      } else {
        lexPunctuation()
      }
    }
    tokens.append(Token(kind: .eof, start: end, end: end, newlineBefore: true))
  }

  private mutating func emit(_ kind: TokenKind, _ start: Int, _ literal: Literal = .none) {
    tokens.append(Token(kind: kind, start: start, end: pos, newlineBefore: newlineBefore, literal: literal))
    newlineBefore = false
  }

  private func range(_ start: Int, _ end: Int) -> SourceRange { SourceRange(file: file.id, start: start, end: end) }

  private mutating func report(_ code: DiagnosticCode, _ message: String, _ start: Int, _ end: Int, help: String? = nil)
  {
    guard diagnostics.count < Diagnostic.collectionLimit else { return }
    var d = Diagnostic.error(code, message, at: range(start, end))
    if let help { d = d.help(help) }
    diagnostics.append(d)
  }

  // MARK: - Trivia

  private mutating func skipWhitespaceAndComments() {
    while pos < end {
      switch bytes[pos] {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        pos += 1
      case UInt8(ascii: "\n"):
        newlineBefore = true
        pos += 1
      case UInt8(ascii: "#"):
        let start = pos
        let isDoc = pos + 1 < end && bytes[pos + 1] == UInt8(ascii: "#")
        let textStart = pos + (isDoc ? 2 : 1)
        while pos < end, bytes[pos] != UInt8(ascii: "\n") { pos += 1 }
        var textEnd = pos
        while textEnd > textStart, bytes[textEnd - 1] == UInt8(ascii: "\r") { textEnd -= 1 }
        let trailing = !newlineBefore && !tokens.isEmpty
        comments.append(
          Comment(
            start: start, end: textEnd, text: String(decoding: bytes[textStart..<textEnd], as: UTF8.self),
            isDoc: isDoc, isTrailing: trailing))
      default:
        return
      }
    }
  }

  /// Reports each maximal run of bytes that is not valid UTF-8.
  private mutating func validateUTF8() {
    var i = 0
    var reported = 0
    while i < bytes.count {
      if bytes[i] < 0x80 {
        i += 1
        continue
      }
      let length = validSequenceLength(at: i)
      if length > 0 {
        i += length
        continue
      }
      let start = i
      while i < bytes.count, bytes[i] >= 0x80, validSequenceLength(at: i) == 0 { i += 1 }
      if reported < 20 {
        let hex = bytes[start..<min(i, start + 4)].map { "0x" + String($0, radix: 16, uppercase: true) }
        report(.invalidUTF8, "invalid UTF-8 (bytes \(hex.joined(separator: " ")))", start, i)
      }
      reported += 1
    }
  }

  /// The length of the valid UTF-8 sequence starting at `i`, or 0.
  private func validSequenceLength(at i: Int) -> Int {
    let b0 = bytes[i]
    let (length, minimum): (Int, UInt32) =
      switch b0 {
      case 0xC2...0xDF: (2, 0x80)
      case 0xE0...0xEF: (3, 0x800)
      case 0xF0...0xF4: (4, 0x10000)
      default: (0, 0)
      }
    guard length > 0, i + length <= bytes.count else { return 0 }
    var scalar = UInt32(b0) & (0xFF >> UInt32(length + 1))
    for k in 1..<length {
      let b = bytes[i + k]
      guard b & 0xC0 == 0x80 else { return 0 }
      scalar = scalar << 6 | UInt32(b & 0x3F)
    }
    guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return 0 }
    return length
  }

  // MARK: - Words

  @inline(__always) private func isIdentifierStart(_ c: UInt8) -> Bool {
    (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
      || c == UInt8(ascii: "_")
  }

  @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

  @inline(__always) private func isIdentifierContinue(_ c: UInt8) -> Bool { isIdentifierStart(c) || isDigit(c) }

  /// Set once strings nested too deep were reported (one diagnostic, not one per level).
  private var stringsTooDeep = false

  /// How deep strings may nest inside interpolations (`"{"{…}"}"`).
  package static let maxStringNesting = 16

  private static let keywords: [String: Keyword] = Dictionary(
    uniqueKeysWithValues: Keyword.allCases.map { ($0.rawValue, $0) })

  private mutating func lexIdentifier() {
    let start = pos
    while pos < end, isIdentifierContinue(bytes[pos]) { pos += 1 }
    let word = String(decoding: bytes[start..<pos], as: UTF8.self)
    if let keyword = Lexer.keywords[word] { emit(.keyword(keyword), start) } else { emit(.identifier, start) }
  }

  /// A principal candidate is groups of lowercase base32 joined by single dashes, every group but
  /// the last exactly five long, at least two groups, not followed by an identifier character.
  ///
  /// When the chain is not a candidate, every later group of it is not either (it ends at the
  /// same group, in the same way): `noPrincipalBefore` records where, so the groups the lexer then
  /// reads one by one (`aaaaa`, `-`, `aaaaa`, …) are not scanned again. Linear in the chain.
  private mutating func principalCandidateEnd(from start: Int) -> Int? {
    var i = start
    var groups = 0
    while true {
      let groupStart = i
      while i < end, PrincipalText.isBase32(bytes[i]) { i += 1 }
      let length = i - groupStart
      guard length >= 1, length <= 5 else {
        noPrincipalBefore = i
        return nil
      }
      groups += 1
      if length == 5, i + 1 < end, bytes[i] == UInt8(ascii: "-"), PrincipalText.isBase32(bytes[i + 1]) {
        i += 1
        continue
      }
      if groups < 2 || (i < end && isIdentifierContinue(bytes[i])) {
        noPrincipalBefore = i
        return nil
      }
      return i
    }
  }

  private mutating func lexPrincipal(start: Int, end principalEnd: Int) {
    pos = principalEnd
    let text = String(decoding: bytes[start..<principalEnd], as: UTF8.self)
    switch PrincipalText.decode(text) {
    case .success(let body):
      emit(.principal, start, .principal(body))
    case .failure(.checksum):
      report(
        .principalChecksum, "principal `\(text)` has a bad checksum", start, principalEnd,
        help:
          "check it against `dfx identity get-principal` or `icp identity principal`; if this is a subtraction, put spaces around `-`"
      )
      emit(.badLiteral, start)
    case .failure(.malformed(let why)):
      report(
        .principalInvalid, "`\(text)` is not a valid principal: \(why)", start, principalEnd,
        help: "if this is a subtraction, put spaces around `-`")
      emit(.badLiteral, start)
    }
  }

  // MARK: - Numbers

  private mutating func lexNumber() {
    let start = pos
    if bytes[pos] == UInt8(ascii: "0"), pos + 1 < end,
      bytes[pos + 1] == UInt8(ascii: "x") || bytes[pos + 1] == UInt8(ascii: "X")
    {
      lexHash()
      return
    }
    var digits: [UInt8] = []
    var fractionDigits = 0
    var malformed = false
    var sawDot = false
    while pos < end {
      let c = bytes[pos]
      if isDigit(c) {
        digits.append(c - UInt8(ascii: "0"))
        if sawDot { fractionDigits += 1 }
        pos += 1
      } else if c == UInt8(ascii: "_") {
        if !(pos > start && isDigit(bytes[pos - 1]) && pos + 1 < end && isDigit(bytes[pos + 1])) { malformed = true }
        pos += 1
      } else if c == UInt8(ascii: "."), !sawDot, pos + 1 < end, isDigit(bytes[pos + 1]) {
        sawDot = true
        pos += 1
      } else {
        break
      }
    }
    let numberEnd = pos
    while pos < end, isIdentifierContinue(bytes[pos]) { pos += 1 }
    let suffix = String(decoding: bytes[numberEnd..<pos], as: UTF8.self)
    let text = String(decoding: bytes[start..<pos], as: UTF8.self)
    if malformed {
      report(
        .malformedNumber, "malformed number `\(text)`", start, pos,
        help: "`_` may only separate digits, as in `1_000_000`")
      emit(.badLiteral, start)
      return
    }
    if suffix.isEmpty {
      if sawDot {
        report(
          .decimalWithoutUnit, "decimal number `\(text)` needs a unit", start, pos,
          help: "rbic has no fractional numbers; write an amount such as `\(text)T`, `\(text)ICP` or `\(text)s`")
        emit(.badLiteral, start)
        return
      }
      var value: Int64 = 0
      for d in digits {
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (a, o2) = m.addingReportingOverflow(Int64(d))
        if o1 || o2 {
          report(
            .integerTooLarge, "integer literal `\(text)` does not fit in 64 bits", start, pos,
            help: "the largest `int` is 9_223_372_036_854_775_807")
          emit(.badLiteral, start)
          return
        }
        value = a
      }
      emit(.integer, start, .int(value))
      return
    }
    guard let unit = Unit.suffixes[suffix] else {
      var d = Diagnostic.error(.unknownUnit, "unknown unit `\(suffix)` in `\(text)`", at: range(numberEnd, pos))
      if let guess = closestMatch(to: suffix, in: Unit.suffixes.keys.sorted()) {
        d = d.help("did you mean `\(guess)`?")
      }
      d = d.note(
        "units are cycles `K M B T` (either case), `ICP`, durations `ms s min h d`, sizes `KB MB GB TB KiB MiB GiB TiB`"
      )
      diagnostics.append(d)
      emit(.badLiteral, start)
      return
    }
    // value = digits × multiplier / 10^fractionDigits, exactly.
    var mantissa: Int128 = 0
    var tooLarge = false
    for d in digits {
      let (m, o1) = mantissa.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(Int128(d))
      if o1 || o2 { tooLarge = true; break }
      mantissa = a
    }
    var scaled: Int128 = 0
    if !tooLarge {
      let (product, overflow) = mantissa.multipliedReportingOverflow(by: unit.multiplier)
      tooLarge = overflow
      scaled = product
    }
    var divisor: Int128 = 1
    for _ in 0..<fractionDigits where !tooLarge {
      let (d, o) = divisor.multipliedReportingOverflow(by: 10)
      if o { tooLarge = true } else { divisor = d }
    }
    if tooLarge || scaled / divisor > unit.unit.maximum {
      report(.integerTooLarge, "amount `\(text)` is too large", start, pos)
      emit(.badLiteral, start)
      return
    }
    if scaled % divisor != 0 {
      report(
        .fractionalAmount, "`\(text)` is not a whole number of \(unit.unit.baseName)", start, pos,
        help: unit.unit == .cycles ? "cycles are indivisible: `1.5K` is 1500 cycles, `1.0001K` would be 1000.1" : nil)
      emit(.badLiteral, start)
      return
    }
    emit(.unitLiteral, start, .unit(unit.unit, scaled / divisor))
  }

  private mutating func lexHash() {
    let start = pos
    pos += 2
    var hex: [UInt8] = []
    var valid = true
    while pos < end, isIdentifierContinue(bytes[pos]) {
      let c = bytes[pos]
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): hex.append(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): hex.append(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): hex.append(c - UInt8(ascii: "A") + 10)
      default: valid = false
      }
      pos += 1
    }
    guard valid else {
      report(
        .hashLength, "`\(file.text(range(start, pos)))` is not a hex hash", start, pos,
        help: "a hash is `0x` followed by 64 hex digits, as `Module hash:` prints it")
      emit(.badLiteral, start)
      return
    }
    guard hex.count == 64 else {
      report(
        .hashLength, "a hash literal needs exactly 64 hex digits; this one has \(hex.count)", start, pos,
        help: "copy the whole `Module hash:` value or the `sha256sum` output")
      emit(.badLiteral, start)
      return
    }
    var out: [UInt8] = []
    out.reserveCapacity(32)
    for i in stride(from: 0, to: 64, by: 2) { out.append(hex[i] << 4 | hex[i + 1]) }
    emit(.hash, start, .hash(out))
  }

  // MARK: - Strings

  private mutating func lexString() {
    let start = pos
    if let parts = scanString(decode: true) {
      emit(.string, start, .string(parts))
    } else {
      emit(.badLiteral, start)
    }
  }

  /// Scans a string starting at the opening quote. Returns its parts, or nil after reporting an error.
  /// With `decode` false it only finds the end (used for strings nested in interpolations).
  private mutating func scanString(decode: Bool, nesting: Int = 0) -> [StringPart]? {
    let start = pos
    // Strings inside interpolations inside strings: bounded like every other nesting, so that a
    // few kilobytes of `"{"{"{…` cannot exhaust the stack of the lexer or of the passes after it.
    guard nesting <= Lexer.maxStringNesting else {
      report(
        .nestingTooDeep, "strings are nested deeper than \(Lexer.maxStringNesting) levels inside interpolations",
        start, start + 1, help: "bind the inner string with `let` first")
      stringsTooDeep = true
      pos = end
      return nil
    }
    pos += 1
    var parts: [StringPart] = []
    var text: [UInt8] = []
    var ok = true
    func flush() {
      if !text.isEmpty {
        parts.append(.text(String(decoding: text, as: UTF8.self)))
        text.removeAll()
      }
    }
    while true {
      guard pos < end, bytes[pos] != UInt8(ascii: "\n") else {
        if decode {
          report(.unterminatedString, "unterminated string", start, pos, help: "add the closing `\"` on the same line")
        }
        return nil
      }
      let c = bytes[pos]
      if c == UInt8(ascii: "\"") {
        pos += 1
        flush()
        return ok ? parts : nil
      }
      if c == UInt8(ascii: "\\") {
        let escapeStart = pos
        pos += 1
        guard pos < end else { continue }
        let e = bytes[pos]
        pos += 1
        switch e {
        case UInt8(ascii: "n"): text.append(10)
        case UInt8(ascii: "t"): text.append(9)
        case UInt8(ascii: "r"): text.append(13)
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "{"), UInt8(ascii: "}"): text.append(e)
        case UInt8(ascii: "u"):
          if let scalar = scanUnicodeEscape() {
            text.append(contentsOf: Array(String(Character(scalar)).utf8))
          } else {
            if decode {
              report(
                .invalidEscape, "invalid unicode escape", escapeStart, pos,
                help: "write `\\u{1F600}`: 1 to 8 hex digits in braces")
            }
            ok = false
          }
        default:
          if decode {
            report(
              .invalidEscape, "unknown escape `\\\(Character(Unicode.Scalar(e)))`", escapeStart, pos,
              help: "the escapes are `\\n \\t \\r \\\" \\\\ \\{ \\} \\u{…}`")
          }
          ok = false
        }
        continue
      }
      if c == UInt8(ascii: "{") {
        flush()
        let open = pos
        pos += 1
        let exprStart = pos
        guard scanInterpolation(nesting: nesting) else {
          if decode, !stringsTooDeep {
            report(
              .unterminatedString, "unterminated interpolation in string", open, pos,
              help: "close it with `}`, or write `\\{` for a literal brace")
          }
          return nil
        }
        let exprEnd = pos - 1
        if file.text(range(exprStart, exprEnd)).allSatisfy(\.isWhitespace) {
          if decode {
            report(
              .emptyInterpolation, "empty interpolation `{}`", open, pos, help: "write `\\{\\}` for literal braces")
          }
          ok = false
        } else {
          parts.append(.interpolation(start: exprStart, end: exprEnd))
        }
        continue
      }
      text.append(c)
      pos += 1
    }
  }

  /// After `{` in a string: advances past the matching `}`, skipping nested strings and braces.
  private mutating func scanInterpolation(nesting: Int) -> Bool {
    var depth = 1
    while pos < end, bytes[pos] != UInt8(ascii: "\n") {
      switch bytes[pos] {
      case UInt8(ascii: "{"):
        depth += 1
        pos += 1
      case UInt8(ascii: "}"):
        depth -= 1
        pos += 1
        if depth == 0 { return true }
      case UInt8(ascii: "\""):
        if scanString(decode: false, nesting: nesting + 1) == nil { return false }
      default:
        pos += 1
      }
    }
    return false
  }

  /// After `\u`: `{hex}`; returns the scalar or nil.
  private mutating func scanUnicodeEscape() -> Unicode.Scalar? {
    guard pos < end, bytes[pos] == UInt8(ascii: "{") else { return nil }
    pos += 1
    var value: UInt32 = 0
    var count = 0
    while pos < end, bytes[pos] != UInt8(ascii: "}"), bytes[pos] != UInt8(ascii: "\""), bytes[pos] != UInt8(ascii: "\n")
    {
      guard let digit = Character(Unicode.Scalar(bytes[pos])).hexDigitValue, count < 8 else {
        pos += 1
        count = 99
        continue
      }
      value = value << 4 | UInt32(digit)
      count += 1
      pos += 1
    }
    guard pos < end, bytes[pos] == UInt8(ascii: "}") else { return nil }
    pos += 1
    guard count >= 1, count <= 8 else { return nil }
    return Unicode.Scalar(value)
  }

  // MARK: - Punctuation

  private mutating func lexPunctuation() {
    let start = pos
    let c = bytes[pos]
    let next: UInt8 = pos + 1 < end ? bytes[pos + 1] : 0
    func take(_ n: Int, _ kind: TokenKind) {
      pos += n
      emit(kind, start)
    }
    switch c {
    case UInt8(ascii: "("): take(1, .lParen)
    case UInt8(ascii: ")"): take(1, .rParen)
    case UInt8(ascii: "{"): take(1, .lBrace)
    case UInt8(ascii: "}"): take(1, .rBrace)
    case UInt8(ascii: "["): take(1, .lBracket)
    case UInt8(ascii: "]"): take(1, .rBracket)
    case UInt8(ascii: ","): take(1, .comma)
    case UInt8(ascii: ":"): take(1, .colon)
    case UInt8(ascii: "."): take(1, .dot)
    case UInt8(ascii: "+"): take(1, .plus)
    case UInt8(ascii: "-"): next == UInt8(ascii: ">") ? take(2, .arrow) : take(1, .minus)
    case UInt8(ascii: "*"): take(1, .star)
    case UInt8(ascii: "/"): take(1, .slash)
    case UInt8(ascii: "%"): take(1, .percent)
    case UInt8(ascii: "="): next == UInt8(ascii: "=") ? take(2, .equal) : take(1, .assign)
    case UInt8(ascii: "!") where next == UInt8(ascii: "="): take(2, .notEqual)
    case UInt8(ascii: "<"): next == UInt8(ascii: "=") ? take(2, .lessEqual) : take(1, .less)
    case UInt8(ascii: ">"): next == UInt8(ascii: "=") ? take(2, .greaterEqual) : take(1, .greater)
    case UInt8(ascii: "?"): next == UInt8(ascii: "?") ? take(2, .questionQuestion) : take(1, .question)
    default:
      lexUnexpected()
    }
  }

  private mutating func lexUnexpected() {
    let start = pos
    let c = bytes[pos]
    if c < 0x80 {
      pos += 1
      let next: UInt8 = pos < end ? bytes[pos] : 0
      var help: String?
      switch (c, next) {
      case (UInt8(ascii: "&"), UInt8(ascii: "&")): pos += 1; help = "write `and`"
      case (UInt8(ascii: "|"), UInt8(ascii: "|")): pos += 1; help = "write `or`"
      case (UInt8(ascii: "!"), _): help = "write `not`"
      case (UInt8(ascii: ";"), _): help = "statements end at the end of a line; remove the `;`"
      case (UInt8(ascii: "'"), _): help = "strings use double quotes"
      default: break
      }
      let shown =
        c < 0x20 || c == 0x7F ? "U+\(String(c, radix: 16, uppercase: true))" : String(Character(Unicode.Scalar(c)))
      report(.unexpectedCharacter, "unexpected character `\(shown)`", start, pos, help: help)
      return
    }
    let length = validSequenceLength(at: pos)
    if length == 0 {
      // Already reported as invalid UTF-8: skip the whole run quietly.
      while pos < end, bytes[pos] >= 0x80, validSequenceLength(at: pos) == 0 { pos += 1 }
      return
    }
    pos += length
    let scalar = String(decoding: bytes[start..<pos], as: UTF8.self)
    var help: String?
    switch scalar {
    case "“", "”": help = "strings use straight double quotes `\"`"
    case "−", "–", "—": help = "use the ASCII minus `-`"
    case "≥": help = "write `>=`"
    case "≤": help = "write `<=`"
    case "≠": help = "write `!=`"
    default: break
    }
    report(.unexpectedCharacter, "unexpected character `\(scalar)`", start, pos, help: help)
  }
}
