import Foundation
import Testing

@testable import RbicDiagnostics
@testable import RbicLexer
@testable import RbicParser

/// Hostile inputs that used to take time quadratic in their size, through the real binary. Each
/// is sized so the old code took far longer than the bound (the figure is in each case's
/// comment, measured on a debug build), while the linear code takes well under a second; the
/// bound is generous so a loaded machine does not make the test flaky.
@Suite struct LinearTimeHardeningTests {
  /// Seconds any one command may take on these inputs.
  static let bound: TimeInterval = 10

  /// One slow input found by a hostile review or by mutating the corpus, and what made it slow.
  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var source: String
    var testDescription: String { name }
  }

  static let header = "runbook \"slow\" version 1\n"

  static let cases: [Case] = [
    // The lexer scanned the whole chain again from each of its groups: 60 KB took 16.5 s.
    Case(
      name: "principal-like chain ending in a long group",
      source: header + "let x = " + String(repeating: "aaaaa-", count: 20_000) + "aaaaaa\n"),
    Case(
      name: "principal-like chain followed by an identifier character",
      source: header + "let x = " + String(repeating: "abcde-", count: 20_000) + "abcdeX\n"),
    // Every diagnostic decoded its whole line, several times, to find a column and an excerpt;
    // `fmt` rendered all 20 000 of them: 100 KB took 26 s (and `check` 6 s on its 100).
    Case(name: "one long line of statements", source: header + String(repeating: "aaaa ", count: 24_000) + "\n"),
    // The same, on a line that is not ASCII (its columns count characters, not bytes).
    Case(name: "one long line that is not ASCII", source: header + String(repeating: "é ", count: 40_000) + "\n"),
    // "Did you mean" measured each misspelling against every name in scope: O(N²) edit distances.
    Case(
      name: "many names and many misspellings",
      source: header + (0..<4_000).map { "let name\($0) = \($0)\n" }.joined()
        + (0..<4_000).map { "print nmae\($0)\n" }.joined()),
    // The formatter searched every comment for each block and each bracket.
    Case(
      name: "many one-line blocks and comments",
      source: header + (0..<20_000).map { "step \"s\($0)\" { print [\($0)] }  # c\n" }.joined()),
  ]

  @Test(arguments: cases) func slowInputIsCheckedAndFormattedInLinearTime(_ c: Case) throws {
    let path = try CLI.temporaryDirectory() + "/slow.rb.ic"
    try c.source.write(toFile: path, atomically: true, encoding: .utf8)
    for command in [["check"], ["fmt", "--check"]] {
      let start = Date()
      let r = try CLI.run(command + [path])
      let seconds = Date().timeIntervalSince(start)
      #expect(seconds < Self.bound, "\(command) took \(seconds) s")
      #expect(r.status == 0 || r.status == 1 || r.status == 2, "\(command): \(r.status)")
      #expect(r.stderr.utf8.count < 200_000, "the diagnostics shown are capped")
    }
    // Where it parses, formatting is idempotent.
    var files = SourceFiles()
    let tree = Parser.parse(files.add(path: "slow.rb.ic", bytes: Array(c.source.utf8)))
    if let once = Formatter.format(tree) {
      let again = Formatter.format(Parser.parse(files.add(path: "once.rb.ic", bytes: Array(once.utf8))))
      #expect(again == once)
    }
  }

  @Test func aSourceOverTheLimitIsOneLocatedError() throws {
    let line = "let a = 1  # padding padding padding padding padding padding padding padding padding\n"
    let count = (Lexer.maxSourceBytes / line.utf8.count) + 1_000
    let path = try CLI.temporaryDirectory() + "/huge.rb.ic"
    try (Self.header + String(repeating: line, count: count)).write(toFile: path, atomically: true, encoding: .utf8)
    for command in [["check"], ["fmt", "--check"]] {
      let start = Date()
      let r = try CLI.run(command + [path])
      #expect(Date().timeIntervalSince(start) < Self.bound)
      #expect(r.status == 2)
      #expect(r.stderr.contains("a runbook is at most 4 MiB"), "\(r.stderr.prefix(500))")
      // Located where the limit falls, not at the start of the file.
      let limitLine = Lexer.maxSourceBytes / line.utf8.count + 1
      #expect(r.stderr.contains("huge.rb.ic:\(limitLine):") || r.stderr.contains("huge.rb.ic:\(limitLine + 1):"))
      #expect(!r.stderr.contains("missing-header") && !r.stderr.contains("must start with `runbook"))
    }
    let json = try CLI.run(["check", "--format", "json", path])
    #expect(json.stdout.contains("\"code\":\"source-too-large\""))
  }

  /// Columns from the checkpoints agree with counting from the start of the line.
  @Test func columnsOnLongLinesAreExact() {
    let text = String(repeating: "aé👍🏽\u{301}x ", count: 2_000) + "\n" + String(repeating: "b", count: 5_000)
    let file = SourceFile(id: FileID(0), path: "x", text: text)
    let bytes = Array(text.utf8)
    for offset in stride(from: 0, to: bytes.count, by: 997) where bytes[offset] & 0xC0 != 0x80 {
      let line = file.line(of: offset)
      let start = file.lineStarts[line - 1]
      let expected = String(decoding: bytes[start..<offset], as: UTF8.self).count + 1
      #expect(file.location(of: offset).column == expected, "offset \(offset)")
    }
    // At character boundaries, a column's offset is the character's.
    var offset = 0
    for (k, character) in text.prefix(4_000).enumerated() {
      if k % 7 == 0 { #expect(file.offset(ofColumn: k, onLine: 1) == offset, "column \(k)") }
      offset += character.utf8.count
    }
  }
}
