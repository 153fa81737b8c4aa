import Foundation
import RbicDiagnostics
import RbicLexer
import Testing

@Suite struct LexerTests {
  func lex(_ text: String) -> Lexer.Result {
    var files = SourceFiles()
    return Lexer.lex(files.add(path: "t", bytes: Array(text.utf8)))
  }

  func literal(_ text: String) -> Literal? {
    let r = lex(text)
    return r.diagnostics.isEmpty ? r.tokens.first?.literal : nil
  }

  func codes(_ text: String) -> [DiagnosticCode] { lex(text).diagnostics.map(\.code) }

  @Test func cyclesLiteralsInEitherCase() {
    #expect(literal("1T") == .unit(.cycles, 1_000_000_000_000))
    #expect(literal("1t") == .unit(.cycles, 1_000_000_000_000))
    #expect(literal("500B") == .unit(.cycles, 500_000_000_000))
    #expect(literal("38.8B") == .unit(.cycles, 38_800_000_000))
    #expect(literal("1.5K") == .unit(.cycles, 1_500))
    #expect(literal("1_000m") == .unit(.cycles, 1_000_000_000))
    #expect(codes("1.0001K") == [.fractionalAmount])
    #expect(codes("100000000000000000000000000000000000000000T") == [.integerTooLarge])
  }

  @Test func otherUnits() {
    #expect(literal("500ms") == .unit(.duration, 500_000_000))
    #expect(literal("5min") == .unit(.duration, 300_000_000_000))
    #expect(literal("7d") == .unit(.duration, 604_800_000_000_000))
    #expect(literal("4KB") == .unit(.bytes, 4_000))
    #expect(literal("4KiB") == .unit(.bytes, 4_096))
    #expect(literal("4GiB") == .unit(.bytes, 4 << 30))
    #expect(literal("0.5ICP") == .unit(.icp, 50_000_000))
    #expect(codes("0.000000001ICP") == [.fractionalAmount])
    #expect(codes("5mins") == [.unknownUnit])
    #expect(lex("5mins").diagnostics.first?.notes.contains { $0.message.contains("`min`") } == true)
  }

  @Test func integersAreSixtyFourBit() {
    #expect(literal("9_223_372_036_854_775_807") == .int(Int64.max))
    #expect(codes("9223372036854775808") == [.integerTooLarge])
    #expect(codes("1__0") == [.malformedNumber])
    #expect(codes("1_") == [.malformedNumber])
    #expect(codes("1.5") == [.decimalWithoutUnit])
  }

  @Test func hashLiterals() {
    let hex = "9e3275f06afdd37b7e1b0e3590e86b3c013fe275922bb5c10b8bdf0eba084533"
    guard case .hash(let bytes) = literal("0x" + hex) else {
      Issue.record("not a hash")
      return
    }
    #expect(bytes.count == 32 && bytes[0] == 0x9E && bytes[31] == 0x33)
    #expect(codes("0x" + hex.dropLast()) == [.hashLength])
    #expect(codes("0x" + hex + "0") == [.hashLength])
  }

  @Test func stringsWithEscapesAndInterpolation() {
    let r = lex(#""a\n\t\"\\ \{x\} \u{1F600} {1 + f("}")} end""#)
    #expect(r.diagnostics.isEmpty)
    guard case .string(let parts) = r.tokens[0].literal else {
      Issue.record("not a string")
      return
    }
    #expect(parts.count == 3)
    #expect(parts[0] == .text("a\n\t\"\\ {x} \u{1F600} "))
    #expect(parts[2] == .text(" end"))
    #expect(codes(#""open"#) == [.unterminatedString])
    #expect(codes(#""\q""#) == [.invalidEscape])
    #expect(codes(#""{}""#) == [.emptyInterpolation])
  }

  @Test func commentsAreKeptAsTrivia() {
    let r = lex("## doc\nlet x = 1  # trailing\n# own line\n")
    #expect(r.comments.map(\.isDoc) == [true, false, false])
    #expect(r.comments.map(\.isTrailing) == [false, true, false])
    #expect(r.comments[1].text == " trailing")
  }

  @Test func everyLexerInputEndsInEOF() {
    for input in ["", "\u{FF}", "\"", "0x", "((((", "#", "\\", "\u{7F}"] {
      #expect(lex(input).tokens.last?.kind == .eof)
    }
  }

  @Test func invalidUTF8IsOneDiagnosticPerRun() {
    var files = SourceFiles()
    let r = Lexer.lex(files.add(path: "t", bytes: [0x6C, 0x65, 0x74, 0x20, 0xFF, 0xFE, 0x20, 0x31]))
    #expect(r.diagnostics.map(\.code) == [.invalidUTF8])
  }
}

@Suite struct PrincipalTests {
  static let seedPrincipals: [String] = {
    let text = String(decoding: Corpus.read("seed-principals.txt"), as: UTF8.self)
    return text.split(separator: "\n").map(String.init)
  }()

  @Test func wellKnownPrincipalsVerify() {
    #expect(PrincipalText.decode("aaaaa-aa") == .success([]))
    #expect(PrincipalText.decode("2vxsx-fae") == .success([0x04]))
    #expect(PrincipalText.encode([]) == "aaaaa-aa")
    #expect(PrincipalText.encode([0x04]) == "2vxsx-fae")
  }

  @Test(arguments: seedPrincipals)
  func seedPrincipalVerifiesAndRoundTrips(_ text: String) throws {
    let bytes = try PrincipalText.decode(text).get()
    #expect(PrincipalText.encode(bytes) == text)
  }

  /// Changing any one character of a seed principal to another base32 character is caught.
  @Test(arguments: seedPrincipals)
  func anyOneCharacterChangeFailsTheChecksum(_ text: String) {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
    var chars = Array(text)
    for i in chars.indices where chars[i] != "-" {
      let original = chars[i]
      chars[i] = alphabet[(alphabet.firstIndex(of: original)! + 7) % 32]
      var files = SourceFiles()
      let result = Lexer.lex(files.add(path: "t", bytes: Array(String(chars).utf8)))
      #expect(result.diagnostics.map(\.code) == [.principalChecksum], "\(String(chars))")
      chars[i] = original
    }
  }

  @Test func seedPrincipalsAreSix() {
    #expect(Self.seedPrincipals.count == 6)
  }
}
