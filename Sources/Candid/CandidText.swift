import RbicDiagnostics

/// Candid text literals: decoding with the spec's escapes, and quoting for output.
package enum CandidText {
  /// The bytes a string literal stands for (a `blob "\de\ad"` need not be UTF-8).
  static func decodeBytes(_ bytes: [UInt8], _ at: inout Int, file: SourceFile) throws(DidParser.Failure) -> [UInt8] {
    let start = at
    func fail(_ message: String, _ where_: Int) -> DidParser.Failure {
      DidParser.Failure(
        diagnostic: .error(.candidSyntax, message, at: SourceRange(file: file.id, start: where_, end: where_ + 1)))
    }
    at += 1
    var out: [UInt8] = []
    while at < bytes.count {
      let b = bytes[at]
      if b == UInt8(ascii: "\"") {
        at += 1
        return out
      }
      if b == 0x0A { throw fail("a text cannot span lines", start) }
      if b != UInt8(ascii: "\\") {
        out.append(b)
        at += 1
        continue
      }
      let escape = at
      at += 1
      guard at < bytes.count else { break }
      let e = bytes[at]
      at += 1
      switch e {
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"): out.append(e)
      case UInt8(ascii: "u"):
        guard at < bytes.count, bytes[at] == UInt8(ascii: "{") else { throw fail("expected `{` after `\\u`", escape) }
        at += 1
        var hex = ""
        while at < bytes.count, bytes[at] != UInt8(ascii: "}") {
          if bytes[at] != UInt8(ascii: "_") { hex.append(Character(UnicodeScalar(bytes[at]))) }
          at += 1
        }
        at += 1
        guard hex.count <= 6, let code = UInt32(hex, radix: 16) else {
          throw fail("`\\u{\(hex.prefix(8))}` is not a Unicode escape", escape)
        }
        guard let scalar = Unicode.Scalar(code) else {
          throw fail("Unicode escape out of range \(String(code, radix: 16, uppercase: true))", escape)
        }
        out += Array(String(Character(scalar)).utf8)
      default:
        guard at < bytes.count, let byte = UInt8(String(decoding: [e, bytes[at]], as: UTF8.self), radix: 16) else {
          throw fail("unknown escape `\\\(String(UnicodeScalar(e)))`", escape)
        }
        at += 1
        out.append(byte)
      }
    }
    throw fail("the text is not closed", start)
  }

  /// A text as Candid writes it: printable characters as they are, `\n \t \r \" \\` and other
  /// control characters escaped.
  package static func quote(_ s: String) -> String {
    quotedLiteral(s) { $0 < 0x20 || $0 == 0x7F ? "\\u{\(String($0, radix: 16))}" : nil }
  }
}
