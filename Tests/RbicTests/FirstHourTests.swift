import Foundation
import RbicBackends
import RbicBuiltins
import Testing

@testable import RbicCheck
@testable import RbicRuntime

/// What a new user meets in the first hour (issue: the first hour and the worst hour).
@Suite struct FirstHourTests {
  /// A misspelled or invalid `--param` is a usage error before anything starts: no run header,
  /// no journal, and the message says what is wrong and where.
  @Test func aBadParamStopsBeforeAnythingStarts() throws {
    let dir = try CLI.temporaryDirectory()
    let misspelled = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--journal", dir + "/runs", "--param",
        "canistr=6iu47-dyaaa-aaaaf-qgeza-cai",
      ], in: Corpus.repository)
    #expect(misspelled.status == 2)
    #expect(!misspelled.stdout.contains("Run:"), "\(misspelled.stdout)")
    #expect(misspelled.stderr.contains("unknown param `canistr` (did you mean `canister`?)"), "\(misspelled.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/runs"), "no journal was written")
    let typo = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--journal", dir + "/runs", "--param",
        "canister=6iu47-dyaaa-aaaaf-qgezb-cai",
      ], in: Corpus.repository)
    #expect(typo.status == 2)
    #expect(typo.stderr.contains("its checksum does not match"), "\(typo.stderr)")
    #expect(typo.stderr.contains("canister-prod-activation.rb.ic:11:7"), "located at the param")
    let groups = try CLI.run(
      ["run", "scripts/canister-prod-activation.rb.ic", "--param", "canister=6iu47-dyaaaa-aaaf-qgeza-cai"],
      in: Corpus.repository)
    #expect(groups.stderr.contains("each group has 5 characters"), "\(groups.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/runs"))
  }

  /// `rbic --help` reads as sentences.
  @Test func helpHasNoRunsOfSpacesInsideSentences() throws {
    let help = try CLI.run(["--help"])
    #expect(help.stdout.contains("and docs/language.md") && help.stdout.contains("a static error"), "\(help.stdout)")
  }

  /// A module that is not Wasm is said in words, never as a Swift debug description.
  @Test func aModuleThatIsNotWasmIsSaidInWords() throws {
    let dir = try CLI.temporaryDirectory()
    try Data("hello, not wasm".utf8).write(to: URL(fileURLWithPath: dir + "/text.wasm"))
    try Data([0x00, 0x61, 0x73, 0x6D, 1, 0, 0, 0, 0x68, 0x7A]).write(to: URL(fileURLWithPath: dir + "/bad.wasm"))
    try Data([0x1F, 0x8B, 8, 0]).write(to: URL(fileURLWithPath: dir + "/gz.wasm"))
    let expected = [
      "text.wasm": "is not a Wasm module: it does not start with the Wasm magic `\\0asm` (it starts with `hello, n`)",
      "bad.wasm": "is not a valid Wasm module: malformed section id: 104 (at byte 0xa)",
      "gz.wasm": "is not a Wasm module: it is gzip-compressed",
    ]
    for (file, message) in expected {
      try "runbook \"w\" version 1\nprint wasm_metadata(\"\(dir)/\(file)\", \"candid:service\")\n".write(
        toFile: dir + "/w.rb.ic", atomically: true, encoding: .utf8)
      let r = try CLI.run(["run", dir + "/w.rb.ic", "--journal", dir + "/runs"])
      #expect(r.status == 3)
      #expect(r.stderr.contains(message), "\(r.stderr)")
      #expect(!r.stderr.contains("Message(text:"), "\(r.stderr)")
    }
  }

  /// Durations read as operators read them: a whole unit as its literal, else the two largest
  /// units.
  @Test func durationsReadAsOperatorsReadThem() {
    let day: Int64 = 86_400_000_000_000
    #expect(ValueFormat.duration(30 * day) == "30d")
    #expect(ValueFormat.duration(10 * 60_000_000_000) == "10min")
    #expect(ValueFormat.duration(90 * 60_000_000_000) == "1h 30min")
    #expect(ValueFormat.duration(27 * day + 3 * 3_600_000_000_000) == "27d 3h")
    #expect(ValueFormat.duration(2_382_661_283 * 1_000_000_000) == "≈75y 202d")
    #expect(ValueFormat.duration(1_500_000_000) == "≈1.5s")
    #expect(ValueFormat.duration(Int64.max) == "never")
    #expect(ValueFormat.duration(-90 * 60_000_000_000) == "-1h 30min")
  }

  /// An expectation checked before an action says so in the checklist: it was about the state
  /// before the change, not after.
  @Test func aCheckBeforeAChangeSaysWhenItWasChecked() {
    let source = """
      runbook "t" version 1
      let wdhec: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
      step "Top up" on 6iu47-dyaaa-aaaaf-qgeza-cai {
        expect cycles >= 500B
        ensure cycles >= 1T via wallet wdhec
        require cycles >= 1T
      }
      """
    let run = Harness.run(source)
    let lines = run.result.checklist
    #expect(lines.map(\.text) == ["expect cycles >= 500B", "ensure cycles >= 1T", "require cycles >= 1T"])
    #expect(lines[0].passed == false)
    #expect(lines[0].changedAfter?.hasPrefix("cycles: 38.8B → ") == true, "\(lines[0])")
    #expect(lines[0].changedAfter?.hasSuffix("in \"Top up\"") == true)
    #expect(lines[2].changedAfter == nil, "checked after the change")
  }

  /// One mistake, one message: a param named like a builtin, or an unescaped `{` in a string.
  @Test func oneMistakeIsOneMessage() {
    for source in [
      "runbook \"x\" version 1\nparam env: text\nprint env\nprint \"{env}\"\n",
      "runbook \"x\" version 1\nprint \"a { b\"\nprint \"ok\"\nlet x = 1\n",
    ] {
      let program = Engine(registry: .standard).compile(
        source: Array(source.utf8), path: Harness.repository + "/scripts/x.rb.ic",
        options: .init(projectDirectory: Harness.repository))
      let errors = program.diagnostics.filter { $0.severity == .error }
      #expect(errors.count == 1, "\(errors.map(\.message))")
    }
  }

  /// A test file's world with a misspelled key, or a fault the sim does not know, is an error at
  /// its line; it never runs on the demo world and passes.
  @Test(arguments: [
    (
      "world: { canisters: { 6iu47-dyaaa-aaaaf-qgeza-cai: { cycels: 1T } } }",
      "canisters.6iu47-dyaaa-aaaaf-qgeza-cai.cycels` is not part of the sim's state"
    ),
    ("world: { latency: 5 }", "`latency` is not part of the sim's state"),
    (
      "faults: [{ operation: wallet_send, kind: timout }]",
      "faults[0].kind is `timout`, not a fault kind (did you mean `timeout`?)"
    ),
    ("faults: [{ operation: walet_send, kind: timeout }]", "(did you mean `wallet_send`?)"),
    (
      "faults: [{ operation: status, kind: echo }]",
      "faults[0].kind is `echo`, which happens to `call` only, not `status`"
    ),
    (
      "world: { faults: [{ operation: stats, kind: timeout }] }",
      "faults[0].operation is `stats`, not an operation (did you mean `status`?)"
    ),
  ])
  func aMisspelledWorldOrFaultIsAnError(_ line: String, _ message: String) throws {
    let dir = try RunbookTestsTests.workspace(
      """
      params: { wasm: demo/user_service_with_metadata.wasm, canister: 6iu47-dyaaa-aaaaf-qgeza-cai }
      tests:
        - name: misspelled
          \(line)
          expect: { recap: { changed: 3 } }
      """)
    let r = try CLI.run(["test", "scripts/canister-prod-activation.test.yaml"], in: dir)
    #expect(r.status != 0, "\(r.stdout)")
    #expect((r.stdout + r.stderr).contains(message), "\(r.stdout)\(r.stderr)")
    #expect((r.stdout + r.stderr).contains("canister-prod-activation.test.yaml:4:"), "located")
  }

  /// In a list of faults written one key a line, the error is at the misspelled value itself.
  @Test func aMisspelledFaultIsAnErrorAtItsOwnLine() throws {
    let dir = try RunbookTestsTests.workspace(
      """
      params: { wasm: demo/user_service_with_metadata.wasm, canister: 6iu47-dyaaa-aaaaf-qgeza-cai }
      tests:
        - name: misspelled
          faults:
            - { operation: status, kind: reject }
            - operation: wallet_send
              kind: timout
          expect: { recap: { changed: 3 } }
      """)
    let r = try CLI.run(["test", "scripts/canister-prod-activation.test.yaml"], in: dir)
    #expect(r.status != 0, "\(r.stdout)")
    #expect(
      (r.stdout + r.stderr).contains(
        "canister-prod-activation.test.yaml:7:15: faults[1].kind is `timout`, not a fault kind (did you mean `timeout`?)"
      ), "\(r.stdout)\(r.stderr)")
  }

  /// A state file (`--sim-state`) with a fault the sim does not know is an error naming the file
  /// and the fault's JSON path, before anything runs; the file is left as it was.
  @Test(arguments: [
    (
      ["operation": "walet_send", "kind": "timeout"],
      "faults[0].operation is `walet_send`, not an operation (did you mean `wallet_send`?)"
    ),
    (
      ["operation": "wallet_send", "kind": "timout"],
      "faults[0].kind is `timout`, not a fault kind (did you mean `timeout`?)"
    ),
    (["operation": "mint", "kind": "echo"], "faults[0].kind is `echo`, which happens to `call` only, not `mint`"),
  ])
  func anUnknownFaultInAStateFileIsAnErrorAtItsPath(_ fault: [String: String], _ message: String) throws {
    let dir = try CLI.temporaryDirectory()
    var world = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SimulatedIC.demoWorld)) as? [String: Any]
    world?["faults"] = [fault]
    let state = try JSONSerialization.data(withJSONObject: world ?? [:])
    try state.write(to: URL(fileURLWithPath: dir + "/state.json"))
    try "runbook \"x\" version 1\n".write(toFile: dir + "/x.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(["run", dir + "/x.rb.ic", "--sim-state", dir + "/state.json"], in: dir)
    #expect(r.status == 3, "\(r.stdout)\(r.stderr)")
    #expect(r.stderr.contains("`\(dir)/state.json`: \(message)"), "\(r.stderr)")
    #expect(!r.stdout.contains("Recap"), "nothing ran")
    #expect(FileManager.default.contents(atPath: dir + "/state.json") == state, "the file is untouched")
  }

  /// A test file can give every test one world and environment (a test's own go on top), and a
  /// test can set `PATH` for the commands its runbook runs.
  @Test func aTestFileSharesAWorldAndAnEnvironment() throws {
    let dir = try CLI.temporaryDirectory()
    try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
    try "#!/bin/sh\necho from-the-test-path\n".write(toFile: dir + "/bin/probe", atomically: true, encoding: .utf8)
    chmod(dir + "/bin/probe", 0o755)
    try """
    runbook "shared" version 1
    step "Read" on 6iu47-dyaaa-aaaaf-qgeza-cai {
      print "cycles {cycles}; greeting {env("GREETING") ?? "none"}"
      let r = run("probe")
      print r.stdout
    }
    """.write(toFile: dir + "/shared.rb.ic", atomically: true, encoding: .utf8)
    try """
    world: { canisters: { 6iu47-dyaaa-aaaaf-qgeza-cai: { cycles: 500B } } }
    env: { GREETING: hello, PATH: "\(dir)/bin:/usr/bin:/bin" }
    tests:
      - name: the file's world and environment
        expect:
          exit: 0
          output: ["Run: shared v1 on `local`", "cycles 500B; greeting hello", "from-the-test-path", "Recap: 0 changed, 1 ok"]
      - name: a test's own on top
        world: { canisters: { 6iu47-dyaaa-aaaaf-qgeza-cai: { cycles: 2T } } }
        env: { GREETING: hi }
        expect: { exit: 0, output: ["cycles 2T; greeting hi"] }
    """.write(toFile: dir + "/shared.test.yaml", atomically: true, encoding: .utf8)
    let r = try CLI.run(["test", "shared.test.yaml"], in: dir)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("2 tests in 1 file passed"), "\(r.stdout)")
  }

  /// `plan --exit-code` counts a local command the plan showed and did not run as pending (5),
  /// and the hint for what stays unknown names what would make it known.
  @Test func aPendingLocalCommandIsAPendingChange() throws {
    let dir = try CLI.temporaryDirectory()
    try "runbook \"l\" version 1\nstep \"s\" {\n  let r = run(\"/bin/echo\", \"hi\")\n  require r.status == 0\n}\n"
      .write(
        toFile: dir + "/l.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(["plan", "l.rb.ic", "--exit-code"], in: dir)
    #expect(r.status == 5, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("--allow-local-effects runs local commands"), "\(r.stdout)")
    let allowed = try CLI.run(["plan", "l.rb.ic", "--exit-code", "--allow-local-effects"], in: dir)
    #expect(allowed.status == 0, "it ran: nothing pending: \(allowed.stdout)")
    #expect(!allowed.stdout.contains("--allow-local-effects runs"), "\(allowed.stdout)")
  }

  /// A path built from text: an interpolated string where a path is expected is that path.
  @Test func aPathCanBeBuiltFromText() {
    let source = """
      runbook "p" version 1
      param name: text = "user_service_with_metadata"
      let module = sha256("demo/{name}.wasm")
      print module == sha256("demo/user_service_with_metadata.wasm")
      """
    let run = Harness.run(source)
    #expect(run.result.exitCode == 0, "\(run.result.failure?.diagnostic.message ?? "")")
    #expect(run.output == ["true"])
  }

  /// A loop's checklist lines name their item: two canisters, two distinct lines.
  @Test func aLoopsChecklistNamesItsItems() {
    let source = """
      runbook "l" version 1
      let fleet: [canister] = [6iu47-dyaaa-aaaaf-qgeza-cai, mwutv-4iaaa-aaaac-behda-cai]
      for c in fleet {
        step "Check" on c {
          require cycles > 0
        }
      }
      """
    let run = Harness.run(source)
    #expect(
      run.result.checklist.map(\.text) == [
        "[6iu47-dyaaa-aaaaf-qgeza-cai] require cycles > 0", "[mwutv-4iaaa-aaaac-behda-cai] require cycles > 0",
      ], "\(run.result.checklist.map(\.text))")
  }
}
