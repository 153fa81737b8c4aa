import Foundation
import Synchronization
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// Hostile input never gets a signal: a diagnostic (exit 2) or a runtime error, through the real
/// binary, so a crash shows as a crash and not as a dead test runner.
@Suite struct HardeningTests {
  static func write(_ source: String) throws -> String {
    let path = try CLI.temporaryDirectory() + "/hostile.rb.ic"
    try source.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static let header = "runbook \"hostile\" version 1\n"

  @Test func deeplyNestedInterpolationsAreOneDiagnostic() throws {
    let n = 3600
    let path = try Self.write(
      Self.header + "let a = " + String(repeating: "\"{", count: n) + "1" + String(repeating: "}\"", count: n) + "\n")
    for command in [["check"], ["fmt", "--check"], ["run", "--journal", "/dev/null/x"]] {
      let r = try CLI.run(command + [path])
      #expect(r.status == 2, "\(command): \(r.status)")
      #expect(r.stderr.contains("strings are nested deeper than 16 levels"))
    }
    let repl = try CLI.runWithInput(["repl"], input: path)
    #expect(repl.status == 1, "the REPL reports it and goes on")
  }

  @Test func longElseIfChainsAreBoundedByTheNestingBudget() throws {
    let chain = "if false {\n" + String(repeating: "} else if false {\n", count: 20_000) + "}\n"
    let path = try Self.write(Self.header + "step \"s\" {\n" + chain + "}\n")
    for command in [["check"], ["fmt", "--check"]] {
      let r = try CLI.run(command + [path])
      #expect(r.status == 2)
      #expect(r.stderr.contains("nesting is deeper than 64 levels"))
    }
  }

  @Test func hugeByteCountsPrint() throws {
    let path = try Self.write(Self.header + "step \"s\" {\n  let b: bytes = 9_000_000_000_000_000_000\n  print b\n}\n")
    let r = try CLI.run(["run", path, "--journal", CLI.temporaryDirectory()])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("8381903171.5GiB"))
  }

  @Test func recursionThroughNestedParenthesesStaysWithinTheStack() throws {
    let parens = 60
    let path = try Self.write(
      Self.header + "fn f(n: int) -> int {\n  if n <= 0 { return 0 }\n  return " + String(repeating: "(", count: parens)
        + "f(n - 1)" + String(repeating: ")", count: parens) + "\n}\nstep \"s\" {\n  print f(198)\n}\n")
    let r = try CLI.run(["run", path, "--journal", CLI.temporaryDirectory()])
    #expect(r.status == 0, "\(r.status) \(r.stderr)")
  }

  /// Builtins pay for their work, and values have a size limit: no runbook spins for minutes
  /// inside one builtin call or fills memory.
  @Test func builtinsChargeStepsAndValuesAreBounded() {
    // 1,000 iterations of statements would pass a 100,000-step limit; their builtins' work does not.
    let loop = Harness.run(
      "runbook \"t\" version 1\nstep \"s\" {\n  for i in range(1000) {\n    let s = sum(range(10_000))\n  }\n}\n"
    ) { $0.maxSteps = 100_000 }
    #expect(loop.result.exitCode == 1)
    #expect(loop.result.failure?.diagnostic.message.contains("exceeded its limit of 100000 steps") == true)
    let grow = Harness.run(
      "runbook \"t\" version 1\nstep \"s\" {\n  let a = range(600)\n  let b = a + a\n}\n"
    ) { $0.maxValueElements = 1_000 }
    #expect(grow.result.exitCode == 1)
    #expect(
      grow.result.failure?.diagnostic.message.contains("a list of 1200 elements is over the limit of 1000") == true)
  }

  /// A run that fills memory is stopped at the memory limit, with an error, not by the kernel.
  @Test func memoryLimitStopsARunThatFillsMemory() throws {
    let resident = try #require(Interpreter.residentBytes())
    let r = Harness.run(
      "runbook \"t\" version 1\nstep \"s\" {\n  let a = [range(1_000_000), range(1_000_000), range(1_000_000), range(1_000_000), range(1_000_000), range(1_000_000), range(1_000_000), range(1_000_000)]\n}\n"
    ) { $0.maxMemoryBytes = resident + (64 << 20) }
    #expect(r.result.exitCode == 1)
    #expect(r.result.failure?.diagnostic.message.contains("exceeded its memory limit") == true)
  }

  @Test func diagnosticsAreCappedPerFile() throws {
    let path = try Self.write(Self.header + String(repeating: "let = 1\n", count: 5_000))
    let r = try CLI.run(["check", path])
    #expect(r.status == 2)
    let errors = r.stderr.components(separatedBy: "error:").count - 1
    #expect(errors == 100, "\(errors) errors shown")
    #expect(r.stderr.contains("4900 more diagnostics in this file are not shown"))
  }

  /// `run(...)` stops a command that outlives `commandTimeout` (and says so), as tool calls do.
  @Test func localCommandsHaveATimeout() {
    let started = Date()
    let r = Harness.run("runbook \"t\" version 1\nprint run(\"sleep\", \"20\").status\n") {
      $0.commandTimeout = 0.5
    }
    #expect(r.result.exitCode == 3)
    #expect(r.result.failure?.diagnostic.message.contains("`sleep 20` took longer than") == true)
    #expect(Date().timeIntervalSince(started) < 5)
  }

  /// `parallel for` inside `parallel for`, 16 × 16 with limits of 16: the run's threads stay
  /// within its one pool (`maxThreads`), where nesting used to multiply them.
  @Test func nestedParallelLoopsShareOneThreadPool() {
    let peak = SharedCounter()
    var registry = Registry.standard
    registry.register(
      BuiltinSignature(
        "threads", [], result: .int, summary: "this process's thread count"),
      body: { [peak] _, _ in
        let n = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
        peak.value.max(n, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.002)
        return .int(Int64(n))
      })
    let source = """
      runbook "nested" version 1
      step "s" {
        parallel for i in range(16) limit 16 {
          parallel for j in range(16) limit 16 {
            let n = threads()
          }
        }
      }
      """
    let before = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    let r = Harness.run(source, registry: registry) {
      $0.yes = true
      $0.maxThreads = 8
    }
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    // The interpreter's own thread plus at most 7 workers, on top of what the test process had
    // (other tests run beside this one, so allow their share of noise but not 16 × 16).
    #expect(
      peak.value.load(ordering: .relaxed) - before <= 8 + 24,
      "peak \(peak.value.load(ordering: .relaxed)), before \(before)")
  }
}

/// Secrets as taint: a secret nested in a record and a list, passed to a command that echoes it,
/// interpolated from that output, sent to a canister that echoes it back, and compared in a failing
/// `require`, never appears on any output channel.
@Suite struct SecretChannelTests {
  @Test func noChannelShowsTheSecret() throws {
    let secret = "hunter2-s3cret"
    let dir = try CLI.temporaryDirectory()
    let path = dir + "/secrets.rb.ic"
    try """
    runbook "secrets" version 1
    let token = secret_env("RBIC_TEST_TOKEN")
    let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
    step "Leak attempts" on c {
      call c.set_config({keys: [token], note: "rotated"})
      let r = run("/bin/cat", stdin: token)
      print r.stdout
      print "out: {r.stdout}"
      call c.echo(token)
      require r.stdout == "nope"
    }
    """.write(toFile: path, atomically: true, encoding: .utf8)
    var world = SimulatedIC.demoWorld
    world.faults = [.init(operation: .call, kind: .echo)]
    try SimulatedIC(state: world).save(path: dir + "/state.json")
    let environment = ["RBIC_TEST_TOKEN": secret]
    let text = try CLI.run(
      ["run", path, "--sim-state", dir + "/state.json", "--journal", dir + "/runs"], environment: environment)
    let json = try CLI.run(
      ["run", path, "--sim-state", dir + "/state.json", "--journal", dir + "/runs", "--format", "json"],
      environment: environment)
    #expect(text.status == 1, "the require fails: \(text.stderr)")
    #expect(text.stdout.contains("<secret>"), "the printed output is there, redacted")
    let journals = try FileManager.default.contentsOfDirectory(atPath: dir + "/runs").map {
      try String(contentsOfFile: dir + "/runs/" + $0, encoding: .utf8)
    }
    #expect(journals.count == 2)
    let report = try CLI.run([
      "report", dir + "/runs/" + FileManager.default.contentsOfDirectory(atPath: dir + "/runs")[0],
    ])
    let channels: [(String, String)] =
      [
        ("terminal stdout", text.stdout), ("terminal stderr (diagnostics)", text.stderr), ("json", json.stdout),
        ("json stderr", json.stderr), ("report", report.stdout),
      ] + journals.map { ("journal", $0) }
    for (name, output) in channels {
      #expect(!output.contains(secret), "\(name) shows the secret:\n\(output)")
      #expect(!output.contains("hunter2"), "\(name) shows part of it")
    }
  }
}

/// Escape sequences from a canister's reply, a failing check's values and a source file's own
/// bytes never reach the terminal or the report raw.
@Suite struct TerminalInjectionTests {
  @Test func controlCharactersAreEscapedOnEveryChannel() throws {
    let dir = try CLI.temporaryDirectory()
    let path = dir + "/inject.rb.ic"
    try """
    runbook "inject" version 1
    # a comment with a raw escape: \u{1B}[2J
    let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
    step "Echo" on c {
      call c.echo("\\u{1b}]0;pwned\\u{7}hidden")
      require "\\u{1b}[8m" == "x"
    }
    """.replacingOccurrences(of: "\\u{1B}", with: "\u{1B}").write(toFile: path, atomically: true, encoding: .utf8)
    var world = SimulatedIC.demoWorld
    world.faults = [.init(operation: .call, kind: .echo)]
    try SimulatedIC(state: world).save(path: dir + "/state.json")
    let r = try CLI.run(["run", path, "--sim-state", dir + "/state.json", "--journal", dir + "/runs"])
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stdout.contains("\\u{1b}]0;pwned\\u{7}hidden"), "the reply is shown, escaped: \(r.stdout)")
    let journal = try FileManager.default.contentsOfDirectory(atPath: dir + "/runs")[0]
    let report = try CLI.run(["report", dir + "/runs/" + journal])
    // A file whose erroneous line holds raw escapes: the excerpt shows it, with `�` for each.
    let bad = dir + "/bad.rb.ic"
    try "runbook \"bad\" version 1\nlet x: int = \"\u{1B}]0;pwned\u{7}\"\n".write(
      toFile: bad, atomically: true, encoding: .utf8)
    let check = try CLI.run(["check", bad])
    #expect(check.status == 2)
    #expect(check.stderr.contains("\u{FFFD}]0;pwned\u{FFFD}"), "the line is shown, made safe: \(check.stderr)")
    for (name, text) in [
      ("stdout", r.stdout), ("stderr", r.stderr), ("report", report.stdout), ("check", check.stderr),
    ] {
      #expect(
        !text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 },
        "\(name) carries a raw control character")
    }
  }
}

/// Imports stay in the project; a file that is not a runbook is one diagnostic, never its lines.
@Suite struct ImportBoundaryTests {
  @Test func symlinkOutOfTheProjectIsRefused() throws {
    let outside = try CLI.temporaryDirectory()
    try "runbook \"lib\" version 1\nlet x = 1\n".write(
      toFile: outside + "/lib.rb.ic", atomically: true, encoding: .utf8)
    let project = try CLI.temporaryDirectory()
    try FileManager.default.createSymbolicLink(
      atPath: project + "/lib.rb.ic", withDestinationPath: outside + "/lib.rb.ic")
    try "runbook \"main\" version 1\nimport \"lib.rb.ic\"\nprint x\n".write(
      toFile: project + "/main.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(["check", "main.rb.ic"], in: project)
    #expect(r.status == 2)
    #expect(r.stderr.contains("`lib.rb.ic` is outside the project"))
  }

  @Test func aKeyFileIsNotPrinted() throws {
    let r = try CLI.run(["check", "bad/import-not-a-runbook.rb.ic"], in: Corpus.root)
    #expect(r.status == 2)
    #expect(r.stderr.contains("`lib/key.pem` is not a runbook"))
    #expect(!r.stderr.contains("PRIVATE KEY") && !r.stderr.contains("MIIE"))
  }
}

/// Shared state: the sim state file is locked while a run uses it, written after every mutation,
/// validated when read; journals never share a name.
@Suite struct SharedStateTests {
  static func topUp(_ canister: String) -> String {
    """
    runbook "topup" version 1
    step "Top up" on \(canister) {
      ensure cycles >= 3T via top_up
    }
    """
  }

  /// Two runs on one state file at once, each changing a different canister: both changes land.
  @Test func concurrentRunsOnOneStateFileLoseNothing() throws {
    let dir = try CLI.temporaryDirectory()
    var world = SimulatedIC.demoWorld
    world.latency_ms = 150
    try SimulatedIC(state: world).save(path: dir + "/state.json")
    let canisters = ["6iu47-dyaaa-aaaaf-qgeza-cai", "mwutv-4iaaa-aaaac-behda-cai"]
    var processes: [Process] = []
    for (i, c) in canisters.enumerated() {
      try Self.topUp(c).write(toFile: dir + "/r\(i).rb.ic", atomically: true, encoding: .utf8)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: CLI.binary)
      p.arguments = ["run", "r\(i).rb.ic", "--sim-state", "state.json", "--journal", "runs"]
      p.currentDirectoryURL = URL(fileURLWithPath: dir)
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      processes.append(p)
    }
    for p in processes { p.waitUntilExit() }
    #expect(processes.allSatisfy { $0.terminationStatus == 0 })
    let state = try SimulatedIC.load(path: dir + "/state.json")
    for c in canisters {
      #expect((Int128(state.canisters[c]?.cycles ?? "") ?? 0) >= 3_000_000_000_000, "\(c) lost its top-up")
    }
  }

  /// The state file follows each mutation, so it never lags the journal (a SIGKILL after an
  /// action leaves both saying the same).
  @Test func stateIsWrittenAfterEachMutation() throws {
    let path = try CLI.temporaryDirectory() + "/state.json"
    var registry = Registry.standard
    registry.register(
      BuiltinSignature(
        "hash_on_disk", [], result: .text, summary: "the module hash in the state file"),
      body: { _, _ in
        .text((try? SimulatedIC.load(path: path))?.canisters[Harness.userService.text]?.module_hash ?? "none")
      })
    let source = """
      runbook "persist" version 1
      param wasm: path
      step "Install" on 6iu47-dyaaa-aaaaf-qgeza-cai {
        ensure hash == sha256(wasm) via install wasm
      }
      step "Look" {
        print hash_on_disk()
      }
      """
    let engine = Engine(registry: registry)
    let program = engine.compile(
      source: Array(source.utf8), path: Harness.repository + "/scripts/t.rb.ic",
      options: .init(projectDirectory: Harness.repository))
    let sim = SimulatedIC(state: SimulatedIC.demoWorld)
    sim.persistPath = path
    let lines = Harness.Lines()
    var options = RunOptions(projectDirectory: Harness.repository, environment: [:])
    options.params = ["wasm": Harness.wasm]
    options.print = { lines.add($0) }
    let r = engine.run(program, backend: sim, options: options)
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
    #expect(lines.lines == [ValueFormat.hex(Harness.wasmHash)], "on disk before the run ended")
  }

  @Test func malformedOrUnwritableStateIsAnEnvironmentError() throws {
    let dir = try CLI.temporaryDirectory()
    var world = SimulatedIC.demoWorld
    world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.cycles = "38.8B"
    try SimulatedIC(state: world).save(path: dir + "/state.json")
    let bad = try CLI.run(
      ["run", "scripts/canister-prod-activation.rb.ic", "--sim-state", dir + "/state.json"] + Self.params)
    #expect(bad.status == 3)
    #expect(
      bad.stderr.contains("canisters.6iu47-dyaaa-aaaaf-qgeza-cai.cycles is `38.8B`, not a whole number of cycles"))
    let unwritable = try CLI.run(
      ["run", "scripts/canister-prod-activation.rb.ic", "--sim-state", "/proc/rbic/state.json"] + Self.params)
    #expect(unwritable.status == 3)
  }

  /// A malformed flag is reported before anything is touched: no state file, no lock, no journal.
  @Test func malformedFlagTouchesNothing() throws {
    let dir = try CLI.temporaryDirectory()
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--sim-state", dir + "/state.json", "--journal", dir + "/runs",
        "--max-text", "0KB",
      ] + Self.params.suffix(4), in: Corpus.repository)
    #expect(r.status == 2)
    #expect(r.stderr.contains("`--max-text 0KB` is not a size such as 64MiB"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }

  /// The REPL takes the same run options as `run`: its cycles ceiling holds.
  @Test func replHonoursTheCyclesCeiling() throws {
    let input = try CLI.temporaryDirectory() + "/input"
    try "ensure 6iu47-dyaaa-aaaaf-qgeza-cai.cycles >= 1T via top_up\n".write(
      toFile: input, atomically: true, encoding: .utf8)
    let r = try CLI.runWithInput(
      ["repl", "--cycles-ceiling", "1B", "--journal", CLI.temporaryDirectory()], input: input)
    #expect(r.status == 1)
    #expect(r.stderr.contains("above the ceiling of 1B"))
  }

  /// …and it holds for the whole session: 971.2B then 630B against 1.5T, the second is refused.
  @Test func replCyclesCeilingHoldsAcrossInputs() throws {
    let input = try CLI.temporaryDirectory() + "/input"
    try """
    ensure 6iu47-dyaaa-aaaaf-qgeza-cai.cycles >= 1T via top_up
    ensure mwutv-4iaaa-aaaac-behda-cai.cycles >= 3T via top_up

    """.write(toFile: input, atomically: true, encoding: .utf8)
    let r = try CLI.runWithInput(
      ["repl", "--cycles-ceiling", "1.5T", "--journal", CLI.temporaryDirectory()], input: input)
    #expect(r.status == 1)
    #expect(r.stderr.contains("top up mwutv-4iaaa-aaaac-behda-cai with 630B"))
    #expect(r.stderr.contains("would move 1.601T this run, above the ceiling of 1.5T"))
  }

  static let params = [
    "--yes", "--journal", "/tmp/rbic-test-journals", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param",
    "wasm=demo/user_service_with_metadata.wasm",
  ]

  /// Journals created at the same moment for the same runbook each get their own file.
  @Test func journalsNeverShareAName() throws {
    let dir = try CLI.temporaryDirectory()
    let paths = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: 8) { _ in
      if let j = try? Journal(directory: dir, runbook: "same") { paths.withLock { $0.append(j.path) } }
    }
    #expect(Set(paths.withLock { $0 }).count == 8)
  }
}

/// The test double in hostile mode: a tool that sends escape sequences, prints junk, hangs, or dies
/// right after applying a mutation.
@Suite struct HostileToolTests {
  static func run(
    _ s: ToolBackendTests.Setup, _ hostile: String, identity: String = "github-ci", _ extra: [String] = []
  )
    throws -> CLI.Result
  {
    var environment = s.environment
    environment["RBIC_DOUBLE_HOSTILE"] = hostile
    return try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", s.tool, "--identity", identity, "--yes",
        "--journal", s.dir + "/runs", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param",
        "wasm=demo/user_service_with_metadata.wasm",
      ] + extra, in: Corpus.repository, environment: environment)
  }

  static func raw(_ text: String) -> Bool { text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 } }

  @Test(arguments: ["icp", "dfx"])
  func escapeSequencesFromTheToolNeverReachTheTerminal(_ tool: String) throws {
    let s = try ToolBackendTests.Setup(tool)
    let r = try Self.run(s, "escapes", identity: "operator")
    #expect(r.status == 1, "\(r.stderr)")
    #expect(!Self.raw(r.stdout) && !Self.raw(r.stderr))
    let journal = try FileManager.default.contentsOfDirectory(atPath: s.dir + "/runs")[0]
    let report = try CLI.run(["report", s.dir + "/runs/" + journal])
    #expect(!Self.raw(report.stdout))
  }

  /// Each mutation is applied, then the tool dies by SIGKILL: every outcome is unknown, every
  /// re-read shows it took effect, so the run converges with a warning per action and sends
  /// nothing twice.
  @Test(arguments: ["icp", "dfx"])
  func toolDyingAfterApplyingIsReconciledNotRepeated(_ tool: String) throws {
    let s = try ToolBackendTests.Setup(tool)
    let r = try Self.run(s, "die-after-apply")
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.components(separatedBy: "had an unknown outcome").count - 1 >= 3)
    let world = s.world
    let wallet = ToolOutput.number(world.canisters["wdhec-2yaaa-aaaao-a6dgq-cai"]?.cycles ?? "") ?? 0
    #expect(wallet == 11_165_000_000_000 - 971_200_000_000, "one send")
  }

  @Test func junkAndHangsAreEnvironmentErrors() throws {
    let s = try ToolBackendTests.Setup("icp")
    let junk = try Self.run(s, "junk")
    #expect(junk.status == 3)
    #expect(!Self.raw(junk.stderr))
    let hang = try Self.run(s, "hang", ["--timeout", "1"])
    #expect(hang.status == 3)
    #expect(hang.stderr.contains("is unknown"))
  }
}

/// SIGTERM is honoured within a second even while the run waits for an answer at a prompt.
@Suite struct TerminationTests {
  @Test func sigtermAtAPromptEndsTheRunAndItsJournal() throws {
    let source = """
      runbook "prompt" version 1
      use network ic
      step "Start" on 6iu47-dyaaa-aaaaf-qgeza-cai {
        ensure status == running via start
      }
      """
    var world = SimulatedIC.demoWorld
    world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.status = .stopped
    let t = try ReplTerminalTests.Terminal { dir in
      FileManager.default.createFile(atPath: dir + "/prompt.rb.ic", contents: Data(source.utf8))
      try? SimulatedIC(state: world).save(path: dir + "/state.json")
      return ReplTerminalTests.Terminal.recordingPID(
        "\(CLI.binary) run prompt.rb.ic --sim-state state.json --journal runs")
    }
    try t.wait(for: "[y/N]")
    let (screen, seconds) = try t.signal(SIGTERM)
    #expect(seconds < 2, "took \(seconds) s")
    #expect(screen.contains("EXIT=130"), "\(screen)")
    let journal = try FileManager.default.contentsOfDirectory(atPath: t.dir + "/runs")[0]
    let text = try String(contentsOfFile: t.dir + "/runs/" + journal, encoding: .utf8)
    #expect(text.contains("\"event\":\"run_end\""))
    #expect(
      try SimulatedIC.load(path: t.dir + "/state.json").canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.status == .stopped)
  }

  /// The REPL, idle at its prompt, ends on SIGTERM (and on SIGHUP, its terminal going away).
  @Test(arguments: [SIGTERM, SIGHUP])
  func replEndsOnTerminationSignals(_ number: Int32) throws {
    let t = try ReplTerminalTests.Terminal { dir in
      ReplTerminalTests.Terminal.recordingPID("\(CLI.binary) repl --history \(dir)/history --journal \(dir)/runs")
    }
    try t.wait(for: "rbic>")
    let (screen, seconds) = try t.signal(number)
    #expect(seconds < 2, "took \(seconds) s")
    #expect(screen.contains("EXIT=\(128 + number)"), "\(screen)")
  }
}
