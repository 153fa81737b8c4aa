import Foundation
import RbicLexer
import Testing

/// The TextMate grammar in `editors/`: valid, every regex compiles, and every keyword and
/// literal kind of the language gets a scope of the right family.
@Suite struct GrammarTests {
  static var grammar: [String: Any] {
    let data = FileManager.default.contents(atPath: Corpus.repository + "/editors/rbic.tmLanguage.json") ?? Data()
    return (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
  }

  /// The scope the first rule (in the grammar's order) gives to the whole of `text`.
  func scope(of text: String) -> String? {
    let order = ["comments", "strings", "literals", "keywords", "types", "operators"]
    let repository = Self.grammar["repository"] as? [String: Any] ?? [:]
    for key in order {
      for rule in (repository[key] as? [String: Any])?["patterns"] as? [[String: Any]] ?? [] {
        guard let match = rule["match"] as? String, let name = rule["name"] as? String,
          let regex = try? NSRegularExpression(pattern: match)
        else { continue }
        let range = NSRange(text.startIndex..., in: text)
        if let m = regex.firstMatch(in: text, range: range), m.range == range { return name }
      }
    }
    return nil
  }

  @Test func grammarIsValidAndEveryRegexCompiles() throws {
    #expect(Self.grammar["scopeName"] as? String == "source.rbic")
    #expect((Self.grammar["fileTypes"] as? [String]) == ["rb.ic"])
    var count = 0
    func walk(_ node: Any) throws {
      if let dict = node as? [String: Any] {
        for key in ["match", "begin", "end"] {
          if let pattern = dict[key] as? String {
            _ = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
            count += 1
          }
        }
        try dict.values.forEach(walk)
      } else if let list = node as? [Any] {
        try list.forEach(walk)
      }
    }
    try walk(Self.grammar)
    #expect(count > 20)
  }

  @Test(
    arguments: Keyword.allCases.map(\.rawValue) + [
      "version", "network", "identity", "limit", "failure", "wait", "until", "timeout", "with",
    ])
  func everyKeywordHasAScope(_ word: String) {
    let s = scope(of: word)
    #expect(s?.hasPrefix("keyword.") == true || s == "constant.language.rbic", "\(word) → \(s ?? "nothing")")
  }

  @Test(arguments: [
    ("## the canister", "comment.line.documentation.rbic"),
    ("# a note", "comment.line.number-sign.rbic"),
    ("0x9e3275f06afdd37b7e1b0e3590e86b3c013fe275922bb5c10b8bdf0eba084533", "constant.numeric.hash.rbic"),
    ("wdhec-2yaaa-aaaao-a6dgq-cai", "constant.other.principal.rbic"),
    ("aaaaa-aa", "constant.other.principal.rbic"),
    ("1T", "constant.numeric.cycles.rbic"), ("38.8B", "constant.numeric.cycles.rbic"),
    ("500k", "constant.numeric.cycles.rbic"),
    ("0.5ICP", "constant.numeric.icp.rbic"),
    ("500ms", "constant.numeric.duration.rbic"), ("5min", "constant.numeric.duration.rbic"),
    ("7d", "constant.numeric.duration.rbic"),
    ("4KiB", "constant.numeric.size.rbic"), ("4GB", "constant.numeric.size.rbic"),
    ("1_000_000", "constant.numeric.integer.rbic"),
    ("running", "constant.language.rbic"), ("none", "constant.language.rbic"),
    ("cycles", "storage.type.rbic"), ("canister", "storage.type.rbic"),
    ("top_up", "support.function.action.rbic"), ("add_controllers", "support.function.action.rbic"),
    ("update_settings", "support.function.action.rbic"),
    ("??", "keyword.operator.rbic"), (">=", "keyword.operator.rbic"), ("->", "keyword.operator.rbic"),
  ])
  func literalKindsHaveTheirScopes(_ text: String, _ expected: String) {
    #expect(scope(of: text) == expected, "\(text)")
  }

  @Test func stringsHighlightEscapesAndInterpolation() throws {
    let repository = Self.grammar["repository"] as? [String: Any] ?? [:]
    let string = try #require(((repository["strings"] as? [String: Any])?["patterns"] as? [[String: Any]])?.first)
    #expect(string["name"] as? String == "string.quoted.double.rbic")
    let inner = string["patterns"] as? [[String: Any]] ?? []
    let escape = try NSRegularExpression(pattern: try #require(inner.first?["match"] as? String))
    for sample in [#"\n"#, #"\""#, #"\{"#, #"\u{1F600}"#] {
      let range = NSRange(sample.startIndex..., in: sample)
      #expect(escape.firstMatch(in: sample, range: range)?.range == range, "\(sample)")
    }
    #expect(inner.contains { $0["name"] as? String == "meta.interpolation.rbic" && $0["begin"] as? String == "\\{" })
  }
}
