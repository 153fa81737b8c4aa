import Foundation
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicParser
import RbicRuntime
import Testing

/// `rbic check` and `rbic fmt` as a user runs them: the real binary, real files, exit codes.
@Suite struct CommandLineTests {
  let activation = Corpus.repository + "/scripts/canister-prod-activation.rb.ic"

  @Test func checkCleanRunbookExitsZero() throws {
    let r = try CLI.run(["check", activation])
    #expect(r.status == 0)
    #expect(r.stderr.isEmpty)
  }

  @Test func checkReportsErrorsWithLocationAndExitsTwo() throws {
    let dir = try CLI.temporaryDirectory()
    let path = dir + "/bad.rb.ic"
    try "runbook \"x\" version 1\nuse network production\n".write(toFile: path, atomically: true, encoding: .utf8)
    try "{\"networks\": {\"testnet\": {\"providers\": [\"https://t\"]}}}".write(
      toFile: dir + "/dfx.json", atomically: true, encoding: .utf8)
    let r = try CLI.run(["check", "bad.rb.ic"], in: dir, environment: ["NO_COLOR": "1"])
    #expect(r.status == 2)
    #expect(r.stderr.contains("error: unknown network `production`"))
    #expect(r.stderr.contains("--> bad.rb.ic:2:13"))
    #expect(r.stderr.contains("`testnet` (dfx.json)"))
    #expect(!r.stderr.contains("\u{1B}["), "no colour without a terminal")
  }

  @Test func jsonDiagnosticsForTools() throws {
    let dir = try CLI.temporaryDirectory()
    try "runbook \"x\" version 1\nprint nope\n".write(toFile: dir + "/a.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(["check", "--format", "json", "a.rb.ic"], in: dir)
    #expect(r.status == 2)
    let items = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    #expect(items.count == 1)
    #expect(items.first?["file"] as? String == "a.rb.ic")
    #expect(items.first?["line"] as? Int == 2)
    #expect(items.first?["column"] as? Int == 7)
    #expect(items.first?["severity"] as? String == "error")
    #expect(items.first?["code"] as? String == "unknown-name")
  }

  @Test func warningsFailOnlyWhenStrict() throws {
    let dir = try CLI.temporaryDirectory()
    try "runbook \"x\" version 1\nlet unused = 1\n".write(toFile: dir + "/w.rb.ic", atomically: true, encoding: .utf8)
    #expect(try CLI.run(["check", "w.rb.ic"], in: dir).status == 0)
    let strict = try CLI.run(["check", "--strict", "w.rb.ic"], in: dir)
    #expect(strict.status == 2)
    #expect(strict.stderr.contains("warning: `let` `unused` is never used"))
  }

  @Test func badUsageAndMissingFilesExitTwo() throws {
    #expect(try CLI.run(["check", "/nonexistent/x.rb.ic"]).status == 2)
    #expect(try CLI.run(["check", "--bogus", activation]).status == 2)
    #expect(try CLI.run(["frobnicate"]).status == 2)
  }

  @Test func fmtRewritesAndCheckListsUnformatted() throws {
    let dir = try CLI.temporaryDirectory()
    let path = dir + "/m.rb.ic"
    let messy = "runbook  \"m\" version 1\nlet   x=1  # keep me\nprint x+1\n"
    try messy.write(toFile: path, atomically: true, encoding: .utf8)

    let check = try CLI.run(["fmt", "--check", "m.rb.ic"], in: dir)
    #expect(check.status == 1)
    #expect(check.stdout == "m.rb.ic\n")
    #expect(try String(contentsOfFile: path, encoding: .utf8) == messy, "--check changes nothing")

    #expect(try CLI.run(["fmt", "m.rb.ic"], in: dir).status == 0)
    #expect(
      try String(contentsOfFile: path, encoding: .utf8)
        == "runbook \"m\" version 1\nlet x = 1  # keep me\nprint x + 1\n")
    #expect(try CLI.run(["fmt", "--check", "m.rb.ic"], in: dir).status == 0)
  }

  @Test func fmtRefusesFilesWithSyntaxErrors() throws {
    let dir = try CLI.temporaryDirectory()
    let path = dir + "/broken.rb.ic"
    let broken = "runbook \"b\" version 1\nlet x = (\n"
    try broken.write(toFile: path, atomically: true, encoding: .utf8)
    let r = try CLI.run(["fmt", "broken.rb.ic"], in: dir)
    #expect(r.status == 2)
    #expect(try String(contentsOfFile: path, encoding: .utf8) == broken, "a broken file is never rewritten")
  }

  static func hostileInput(_ name: String) -> [UInt8] {
    let header = "runbook \"x\" version 1\n"
    switch name {
    case "invalid-utf8": return Array((header + "print \"").utf8) + [0xC3, 0x28, 0xFF] + Array("\"\n".utf8)
    case "nested-brackets": return Array((header + "print " + String(repeating: "[", count: 10_000)).utf8)
    case "nested-parens":
      return Array(
        (header + "print " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000)).utf8)
    case "nested-blocks": return Array((header + String(repeating: "if true {\n", count: 10_000)).utf8)
    case "nested-not": return Array((header + "print " + String(repeating: "not ", count: 10_000) + "true\n").utf8)
    case "long-chain": return Array((header + "print 1" + String(repeating: " + 1", count: 50_000) + "\n").utf8)
    case "long-member-chain": return Array((header + "print x" + String(repeating: ".y", count: 50_000) + "\n").utf8)
    case "unterminated-string": return Array((header + "print \"abc").utf8)
    case "unterminated-block": return Array((header + "step \"s\" {\n  print 1\n").utf8)
    case "huge-integer": return Array((header + "print 123456789012345678901234567890\n").utf8)
    case "bad-hash": return Array((header + "print 0xabc\n").utf8)
    case "bad-principal": return Array((header + "print wdhec-2yaaa-aaaao-a6dgq-caa\n").utf8)
    default: return [0, 0, 0, 0x72, 0x75, 0x6E]
    }
  }

  /// Hostile inputs end in diagnostics and exit 2, never a crash or a hang.
  @Test(arguments: [
    "invalid-utf8", "nested-brackets", "nested-parens", "nested-blocks", "nested-not", "long-chain",
    "long-member-chain",
    "unterminated-string", "unterminated-block", "huge-integer", "bad-hash", "bad-principal", "nul-bytes",
  ])
  func hostileInputIsADiagnostic(_ name: String) throws {
    let bytes = Self.hostileInput(name)
    let dir = try CLI.temporaryDirectory()
    let path = dir + "/\(name).rb.ic"
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
    let check = try CLI.run(["check", path])
    #expect(check.status == 2, "\(name): \(check.stderr.prefix(400))")
    #expect(check.stderr.contains("error"))
    #expect(!check.stderr.contains("Fatal error") && !check.stderr.contains("crashed"))
    let fmt = try CLI.run(["fmt", "--check", path])
    #expect(fmt.status == 2)
  }

  /// Random bytes and random token soup through the whole front end, in process: any crash fails
  /// the test run; every input must end in diagnostics rather than an exception.
  @Test func randomInputsNeverCrash() {
    var generator = SplitMix(seed: 0x5EED)
    let fragments = [
      "runbook \"x\" version 1\n", "step \"s\" on c {", "}", "ensure", "via", "wallet", "cycles >= 1T", "(", ")", "[",
      "]", "{", "\"", "\"{", "or", "and", "not", "let", "x", "=", "1.5T", "0x", "wdhec-2yaaa-aaaao-a6dgq-cai", "\n",
      "#", "##", "fn f(a: int) -> int", "return", "parallel for c in xs limit 2", ".", ",", ":", "-", "??",
      "import \"x\"",
      "use network", "param p: secret", "\u{FF}", "\\", "if", "else", "call c.m(1)", "print", "5s", "contains",
    ]
    let engine = Engine(registry: .standard)
    for i in 0..<400 {
      var source: [UInt8] = []
      if i % 2 == 0 {
        for _ in 0..<Int(generator.next() % 200) { source.append(UInt8(truncatingIfNeeded: generator.next())) }
      } else {
        for _ in 0..<Int(generator.next() % 60) {
          source += Array(fragments[Int(generator.next() % UInt64(fragments.count))].utf8) + [0x20]
        }
      }
      let program = engine.compile(
        source: source, path: "/nonexistent/fuzz.rb.ic", options: .init(projectDirectory: "/nonexistent"))
      _ = DiagnosticRenderer(files: program.files, style: .human(colors: true)).render(program.diagnostics)
      if let formatted = Formatter.format(program.main) {
        var files = SourceFiles()
        let again = Parser.parse(files.add(path: "again", bytes: Array(formatted.utf8)))
        #expect(SyntaxDump.dump(again) == SyntaxDump.dump(program.main), "\(String(decoding: source, as: UTF8.self))")
      }
    }
  }
}

/// A small deterministic generator, so a failing fuzz input is reproducible.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// `rbic run` and `rbic plan` as the README shows them, on the built-in demo world.
@Suite struct RunCommandTests {
  let arguments = [
    "scripts/canister-prod-activation.rb.ic", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
    "--param", "wasm=demo/user_service_with_metadata.wasm",
  ]

  /// What was asked for goes to standard output (help, the version); errors to standard error.
  @Test func helpAndVersionGoToStandardOutput() throws {
    let help = try CLI.run(["--help"])
    #expect(help.status == 0 && help.stdout.contains("USAGE: rbic") && help.stderr.isEmpty)
    let version = try CLI.run(["--version"])
    #expect(version.status == 0)
    #expect(version.stdout.hasPrefix("rbic ") && version.stdout.split(separator: ".").count == 3, "\(version.stdout)")
    let bad = try CLI.run(["--bogus"])
    #expect(bad.status == 2 && bad.stdout.isEmpty && bad.stderr.contains("Unknown option"))
  }

  @Test func readmeRunCommandWorksAndIsIdempotent() throws {
    let dir = try CLI.temporaryDirectory()
    let state = dir + "/state.json"
    let journal = dir + "/runs"
    let first = try CLI.run(
      ["run"] + arguments + ["--yes", "--sim-state", state, "--journal", journal], in: Corpus.repository)
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("Recap: 3 changed, 2 ok, 3 skipped, 0 failed"))
    #expect(first.stdout.contains("[x] require hash == build_hash"))
    let second = try CLI.run(
      ["run"] + arguments + ["--yes", "--sim-state", state, "--journal", journal], in: Corpus.repository)
    #expect(second.stdout.contains("Recap: 0 changed, 5 ok, 3 skipped, 0 failed"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: journal).count == 2, "one journal per run")
  }

  @Test func planLeavesTheStateFileByteIdentical() throws {
    let dir = try CLI.temporaryDirectory()
    let state = dir + "/state.json"
    try SimulatedICFixture.writeDemo(to: state)
    let before = try Data(contentsOf: URL(fileURLWithPath: state))
    let plan = try CLI.run(["plan"] + arguments + ["--sim-state", state], in: Corpus.repository)
    #expect(plan.status == 0, "\(plan.stderr)")
    #expect(plan.stdout.contains("~ cycles: 38.8B → 1.01T via wallet wdhec-2yaaa-aaaao-a6dgq-cai (would send 971.2B)"))
    #expect(try Data(contentsOf: URL(fileURLWithPath: state)) == before)
  }

  @Test func mutationWithoutTerminalOrYesExitsFour() throws {
    let dir = try CLI.temporaryDirectory()
    let r = try CLI.run(
      ["run"] + arguments + ["--sim-state", dir + "/s.json", "--journal", dir + "/runs"], in: Corpus.repository)
    #expect(r.status == 4)
    #expect(r.stderr.contains("pass --yes to confirm"))
  }

  @Test func jsonSummaryForTools() throws {
    let dir = try CLI.temporaryDirectory()
    let r = try CLI.run(
      ["run"] + arguments + ["--yes", "--format", "json", "--sim-state", dir + "/s.json", "--journal", dir + "/runs"],
      in: Corpus.repository)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(object["runbook"] as? String == "canister-production-activation")
    #expect(object["mode"] as? String == "run")
    #expect(object["exit"] as? Int == 0)
    let steps = try #require(object["steps"] as? [[String: Any]])
    #expect(
      steps.map { $0["outcome"] as? String } == [
        "skipped", "skipped", "changed", "changed", "changed", "skipped", "ok", "ok",
      ])
    #expect((object["recap"] as? [String: Int])?["changed"] == 3)
  }

  @Test func cyclesCeilingAndParamsAreValidatedAndApplied() throws {
    let dir = try CLI.temporaryDirectory()
    let common = ["--sim-state", dir + "/s.json", "--journal", dir + "/runs", "--yes"]
    let low = try CLI.run(["run"] + arguments + common + ["--cycles-ceiling", "500B"], in: Corpus.repository)
    #expect(low.status == 4, "a 971.2B send is above a 500B ceiling")
    #expect(low.stderr.contains("above the ceiling of 500B"))
    let bad = try CLI.run(["run"] + arguments + common + ["--cycles-ceiling", "1.0001K"], in: Corpus.repository)
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("is not an amount of cycles"))
    let malformed = try CLI.run(["run", arguments[0], "--param", "canister"] + common, in: Corpus.repository)
    #expect(malformed.status == 2)
    #expect(malformed.stderr.contains("`--param canister` should be NAME=VALUE"))
    let input = dir + "/input.txt"
    try "print 1\n".write(toFile: input, atomically: true, encoding: .utf8)
    let repl = try CLI.runWithInput(["repl", "--param", "=x", "--journal", dir + "/runs"], input: input)
    #expect(repl.status == 2)
  }

  @Test func staticErrorsStopBeforeRunning() throws {
    let dir = try CLI.temporaryDirectory()
    try "runbook \"x\" version 1\nuse network production\n".write(
      toFile: dir + "/bad.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(["run", "bad.rb.ic", "--yes", "--journal", dir + "/runs"], in: dir)
    #expect(r.status == 2)
    #expect(!FileManager.default.fileExists(atPath: dir + "/runs"), "nothing ran, nothing journaled")
  }
}

enum SimulatedICFixture {
  static func writeDemo(to path: String) throws {
    try SimulatedIC(state: SimulatedIC.demoWorld).save(path: path)
  }
}
