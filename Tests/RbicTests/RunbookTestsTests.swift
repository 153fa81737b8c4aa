import Foundation
import RbicBuiltins
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `rbic test`: the seed scripts' tests pass; a failing expectation, a malformed file and an
/// unknown key are reported at their lines; JUnit XML is well-formed and counts right.
@Suite struct RunbookTestsTests {
  @Test func theSeedScriptsTestsPass() throws {
    let r = try CLI.run(["test", "scripts"], in: Corpus.repository)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("the wdhec forward bug"))
    #expect(r.stdout.contains("decision tree: no production entry creates the canister"))
    let summary = try #require(r.stdout.split(separator: "\n").last)
    let files = try FileManager.default.contentsOfDirectory(atPath: Corpus.repository + "/scripts")
      .filter { $0.hasSuffix(".test.yaml") }.count
    #expect(summary.hasPrefix("✔ Test run with ") && summary.contains("in \(files) files passed"), "\(summary)")
  }

  static func workspace(_ tests: String) throws -> String {
    let dir = try CLI.temporaryDirectory()
    try FileManager.default.copyItem(atPath: Corpus.repository + "/scripts", toPath: dir + "/scripts")
    try FileManager.default.copyItem(atPath: Corpus.repository + "/demo", toPath: dir + "/demo")
    try tests.write(toFile: dir + "/scripts/canister-prod-activation.test.yaml", atomically: true, encoding: .utf8)
    return dir
  }

  @Test func failingExpectationsAreReportedAtTheirLinesAndInJUnit() throws {
    let dir = try Self.workspace(
      """
      params: { wasm: demo/user_service_with_metadata.wasm, canister: 6iu47-dyaaa-aaaaf-qgeza-cai }
      tests:
        - name: passes
          expect: { recap: { changed: 3 } }
        - name: wrong on purpose
          expect:
            exit: 1
            canisters:
              6iu47-dyaaa-aaaaf-qgeza-cai: { cycles: "< 1T" }
      """)
    let r = try CLI.run(["test", "scripts/canister-prod-activation.rb.ic", "--junit", "out.xml"], in: dir)
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("✔ Test \"passes\" passed"))
    #expect(r.stdout.contains("✘ Test \"wrong on purpose\" failed"))
    #expect(r.stdout.contains("canister-prod-activation.test.yaml:7:13: expected exit 1, got 0"), "\(r.stdout)")
    #expect(r.stdout.contains(":9:48: 6iu47-dyaaa-aaaaf-qgeza-cai: expected cycles < 1T, got 1.01T"), "\(r.stdout)")

    final class Counter: NSObject, XMLParserDelegate {
      var cases = 0
      var failures = 0
      func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
      ) {
        if name == "testcase" { cases += 1 }
        if name == "failure" { failures += 1 }
      }
    }
    let xml = try #require(FileManager.default.contents(atPath: dir + "/out.xml"))
    let parser = XMLParser(data: xml)
    let counter = Counter()
    parser.delegate = counter
    #expect(parser.parse(), "well-formed XML")
    #expect(counter.cases == 2 && counter.failures == 2)
  }

  @Test(arguments: [
    ("tests:\n  - name: x\n    expect: {exit: 0\n", "4:1: error: not YAML"),
    ("tests:\n  - name: x\n    expekt: {}\n", "3:13: error: unknown key `expekt`"),
    ("tests:\n  - name: x\n    mode: apply\n    expect: {}\n", "3:11: error: `mode` is `run` or `plan`"),
    ("tests: []\n", "1:8: error: `tests:` is a list of tests"),
    ("runbook: nowhere.rb.ic\ntests:\n  - name: x\n    expect: {}\n", "1:10: error: cannot read the runbook"),
  ])
  func malformedTestFilesAreExitTwoWithALocation(_ text: String, _ message: String) throws {
    let dir = try Self.workspace(text)
    let r = try CLI.run(["test", "scripts/canister-prod-activation.test.yaml"], in: dir)
    #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
    #expect(r.stderr.contains("scripts/canister-prod-activation.test.yaml:" + message), "\(r.stderr)")
  }

  @Test func aWorldThatIsNotAStateIsAnIssueAtItsLine() throws {
    let dir = try Self.workspace(
      """
      params: { wasm: demo/user_service_with_metadata.wasm }
      tests:
        - name: bad world
          world:
            canisters:
              6iu47-dyaaa-aaaaf-qgeza-cai: { cycles: lots }
          expect: {}
      """)
    let r = try CLI.run(["test", "scripts"], in: dir)
    #expect(r.status == 1)
    #expect(
      r.stdout.contains(
        ":5:7: the world is not a valid sim state: canisters.6iu47-dyaaa-aaaaf-qgeza-cai.cycles is `lots`"),
      "\(r.stdout)")
  }
}

/// Hostile test files: nesting past libyaml's limit is a located error, never a stack overflow.
@Suite struct HostileTestFileTests {
  @Test func deepNestingIsALocatedError() throws {
    let dir = try RunbookTestsTests.workspace(
      "tests:\n  - name: x\n    world: " + String(repeating: "[", count: 100_000)
        + String(repeating: "]", count: 100_000)
        + "\n    expect: {}\n")
    let r = try CLI.run(["test", "scripts/canister-prod-activation.test.yaml"], in: dir)
    #expect(r.status == 2 && r.stderr.contains(":3:13: error: not YAML: Maximum nesting level reached"), "\(r.stderr)")
  }

  @Test func anAliasBombIsBoundedNotExpanded() throws {
    var yaml = "tests:\n  - name: x\n    world:\n      a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
    for i in 1..<12 {
      yaml += "      a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    yaml += "    expect: {}\n"
    let dir = try RunbookTestsTests.workspace(yaml)
    let r = try CLI.run(["test", "scripts/canister-prod-activation.test.yaml"], in: dir)
    #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains(":4:7: `world:` is a mapping patched onto the demo world"), "\(r.stdout)")
  }
}
