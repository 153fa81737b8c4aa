import Foundation
import RbicTooling
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicCommands
@testable import RbicRuntime

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct ReplSessionTests {
  func session(_ state: SimulatedIC.State = SimulatedIC.demoWorld) -> ReplSession {
    var options = RunOptions(projectDirectory: Corpus.repository, environment: [:])
    options.yes = true
    options.print = { _ in }
    options.progress = { _ in }
    return ReplSession(engine: Engine(registry: .standard), backend: SimulatedIC(state: state), options: options)
  }

  /// What Tab offers after `x.` is what the type has: a canister's properties, never a wallet's
  /// `balance` (the completion the terminal test drives, asked in process).
  @Test func completionOffersOnlyWhatTheTypeHas() {
    let s = session()
    #expect(s.evaluate("let c = 6iu47-dyaaa-aaaaf-qgeza-cai").succeeded)
    #expect(s.evaluate("let w: wallet = wdhec-2yaaa-aaaao-a6dgq-cai").succeeded)
    #expect(Repl.completions("ba", "c.ba", s) == [])
    #expect(Repl.completions("cyc", "c.cyc", s) == ["cycles"])
    #expect(Repl.completions("ba", "w.ba", s) == ["balance"])
  }

  @Test func valuesPrintWithTheirTypeAndDeclarationsAccumulate() {
    let s = session()
    #expect(s.evaluate("1T + 500B").value == "1.5T : cycles")
    #expect(s.evaluate("let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai").succeeded)
    #expect(s.evaluate("c.cycles").value == "38.8B : cycles")
    let hash = SimulatedIC.demoWorld.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.module_hash ?? ""
    #expect(s.evaluate("c.hash").value == "\(hash) : hash?", "in full")
    #expect(s.evaluate("[c.status, running]").value == "[running, running] : [status]")
    #expect(s.typeOf("c.controllers").value == "[principal]")
  }

  /// `network()` in a session is the session's network.
  @Test func networkIsTheSessionsNetwork() {
    #expect(session().evaluate("network()").value == "local : text")
    var options = RunOptions(projectDirectory: Corpus.repository, environment: [:])
    options.network = "ic"
    options.print = { _ in }
    let onIC = ReplSession(
      engine: Engine(registry: .standard), backend: SimulatedIC(state: SimulatedIC.demoWorld), options: options)
    #expect(onIC.evaluate("network()").value == "ic : text")
  }

  @Test func errorsShowCaretsUnderTheInputAndNeverEndTheSession() {
    let s = session()
    _ = s.evaluate("let a = 1")
    let bad = s.evaluate("a + 5s")
    #expect(bad.diagnostics.contains("--> input:1:1"))
    #expect(bad.diagnostics.contains("cannot combine `int` and `duration`"))
    #expect(s.evaluate("a + 1").value == "2 : int", "the session goes on")
    let failing = s.evaluate("require a > 5")
    #expect(failing.failure?.contains("require failed: a > 5") == true)
  }

  /// A canister id says what it is: `let c = …-cai` is a canister; a self-authenticating
  /// principal is not, and the error says how to declare one that names a canister.
  @Test func canisterIdsAreCanisters() {
    let s = session()
    #expect(s.evaluate("let c = 6iu47-dyaaa-aaaaf-qgeza-cai").succeeded)
    let shown = s.evaluate("c").value ?? ""
    #expect(shown.split(separator: "\n").first?.hasSuffix(": canister") == true, "\(shown)")
    // Its state at a glance: status, cycles and when it freezes, module, controllers.
    #expect(shown.contains("running · 38.8B cycles (freezes in "), "\(shown)")
    #expect(shown.contains("1 controller: er24d-"), "\(shown)")
    // A rate reads as one.
    #expect(s.evaluate("c.idle_burn").value?.hasSuffix("/day : cycles") == true)
    #expect(s.evaluate("c.controllers.count").value == "1 : int")
    #expect(s.evaluate("let p = hzlpj-e6tp4-utvf2-cllfw-mcuxn-gwpde-hwmyc-zeh33-rv7md-w7rxh-2qe").succeeded)
    let wrong = s.evaluate("p.cycles")
    #expect(!wrong.succeeded)
    #expect(wrong.diagnostics.contains("declare it so: `let c: canister = …`"), "\(wrong.diagnostics)")
  }

  /// Completion after `x.` offers only what `x`'s type has.
  @Test func membersFollowTheType() throws {
    let s = session()
    _ = s.evaluate("let c = 6iu47-dyaaa-aaaaf-qgeza-cai")
    _ = s.evaluate("let w: wallet = wdhec-2yaaa-aaaao-a6dgq-cai")
    _ = s.evaluate("let r = {name: \"x\", size: 2}")
    let canister = try #require(s.members(of: "c"))
    #expect(canister.contains("cycles") && canister.contains("freeze_in"))
    #expect(!canister.contains("balance") && !canister.contains("count"))
    #expect(s.members(of: "w")?.contains("balance") == true)
    #expect(s.members(of: "r") == ["name", "size"])
    #expect(s.members(of: "[1, 2]") == ["count"])
    #expect(s.members(of: "6iu47-dyaaa-aaaaf-qgeza-cai")?.contains("controllers") == true)
    #expect(s.members(of: "nosuch") == nil)
    let dir = try CLI.temporaryDirectory()
    try "service : { ping : () -> (text) query }".write(toFile: dir + "/a.did", atomically: true, encoding: .utf8)
    var options = RunOptions(projectDirectory: dir, environment: [:])
    options.print = { _ in }
    let inProject = ReplSession(
      engine: Engine(registry: .standard), backend: SimulatedIC(state: SimulatedIC.demoWorld), options: options)
    #expect(inProject.evaluate("import \"\(dir)/a.did\" as A").succeeded)
    #expect(inProject.evaluate("let a: A = 6iu47-dyaaa-aaaaf-qgeza-cai").succeeded)
    #expect(inProject.members(of: "a")?.contains("ping") == true, "methods from the interface")
  }

  /// `:save` writes what happened: the session's network and identity, each input that ran as a
  /// step in order, and what ran in plan mode as a comment.
  @Test func saveRecordsWhatHappened() throws {
    let s = session()
    #expect(s.evaluate("let c = 6iu47-dyaaa-aaaaf-qgeza-cai").succeeded)
    #expect(s.evaluate("c.cycles").succeeded)
    s.options.mode = .plan
    #expect(s.evaluate("ensure c.cycles >= 1T via top_up").succeeded)
    #expect(s.evaluate("step \"Top up\" on c {\n  ensure cycles >= 1T via top_up\n}").succeeded)
    s.options.mode = .run
    #expect(s.evaluate("let later = 2").succeeded)
    #expect(s.evaluate("require later == 2").succeeded)
    let dir = try CLI.temporaryDirectory()
    try s.save(path: dir + "/session.rb.ic")
    let text = try String(contentsOfFile: dir + "/session.rb.ic", encoding: .utf8)
    #expect(text.contains("use network local\nuse identity \"github-ci\""), "\(text)")
    #expect(text.contains("# (planned, not run) ensure c.cycles >= 1T via top_up"), "\(text)")
    // A step typed under `:plan on` over several lines is a comment too, every line of it.
    #expect(text.contains("# (planned, not run) step \"Top up\" on c {"), "\(text)")
    #expect(text.contains("# (planned, not run)   ensure cycles >= 1T via top_up"), "\(text)")
    #expect(!text.contains("\nstep \"Top up\""), "\(text)")
    let order = ["let c =", "step \"REPL input 2\"", "# (planned", "let later = 2", "step \"REPL input 6\""].map {
      text.range(of: $0)?.lowerBound
    }
    #expect(!order.contains(nil) && order.map { $0! } == order.map { $0! }.sorted(), "in order: \(text)")
    #expect(try CLI.run(["check", "session.rb.ic"], in: dir).status == 0)
  }

  /// A `use network` other than the session's (typed, or in a loaded file) is refused, loudly.
  @Test func aSessionNeverSwitchesNetworkSilently() {
    let s = session()
    let typed = s.evaluate("use network ic")
    #expect(typed.failure?.contains("this session is on `local`") == true)
    let loaded = s.load(path: Corpus.repository + "/scripts/canister-prod-activation.rb.ic")
    #expect(loaded.failure?.contains("`use network ic` would switch it") == true)
    #expect(s.evaluate("use network local").succeeded)
  }

  /// `:load` reports an error at the file's own line; an imported file's values are there.
  @Test func loadReportsAtTheFilesLinesAndImportsHaveValues() throws {
    let s = session()
    s.options.network = "ic"
    let loaded = s.load(path: Corpus.repository + "/scripts/canister-prod-activation.rb.ic")
    #expect(loaded.failure?.contains("scripts/canister-prod-activation.rb.ic:59:18") == true, "\(loaded.failure ?? "")")
    #expect(loaded.failure?.contains("59 | let build_hash = sha256(wasm)") == true)
    #expect(s.evaluate("prod").value == "6iu47-dyaaa-aaaaf-qgeza-cai : UserService")
    let fresh = session()
    #expect(fresh.evaluate("import \"scripts/lib/fleet.rb.ic\"").succeeded)
    #expect(fresh.evaluate("founders.count").value == "3 : int")
  }

  /// A hash prints in full (to compare with `sha256sum`), alone or inside a list.
  @Test func hashesPrintInFull() {
    let s = session()
    let full = "0x" + String(repeating: "ab", count: 32)
    #expect(s.evaluate(full).value == "\(full) : hash")
    #expect(s.evaluate("[\(full)]").value == "[\(full)] : [hash]")
  }

  /// `_` is the last value, with its type (as in ic-repl).
  @Test func underscoreIsTheLastValue() {
    let s = session()
    #expect(s.evaluate("1T + 500B").value == "1.5T : cycles")
    #expect(s.evaluate("_ * 2").value == "3T : cycles")
    #expect(s.evaluate("6iu47-dyaaa-aaaaf-qgeza-cai.controllers").succeeded)
    #expect(s.evaluate("_.count").value == "1 : int")
    #expect(!s.evaluate("_ + 1T").succeeded, "an int is not cycles: `_` keeps its type")
  }

  @Test func letValuesAreComputedOnce() {
    let s = session()
    _ = s.evaluate("let t = now()")
    let first = s.evaluate("t").value
    Thread.sleep(forTimeInterval: 1.1)
    #expect(s.evaluate("t").value == first)
  }

  /// In the REPL's read-only mode, a query on a canister with an interface answers with a typed
  /// value; an update is refused.
  @Test func readOnlyModeAllowsQueries() throws {
    let dir = try CLI.temporaryDirectory()
    try "service : { version : () -> (record { major : nat; tag : text }) query; rotate : () -> (blob) }".write(
      toFile: dir + "/api.did", atomically: true, encoding: .utf8)
    let state = Harness.world {
      $0.canisters[Harness.userService.text]!.candid_service = nil
      $0.canisters[Harness.userService.text]!.replies = ["version": "(record { major = 2 : nat; tag = \"rc1\" })"]
    }
    let sim = SimulatedIC(state: state)
    var options = RunOptions(projectDirectory: dir, environment: [:])
    options.readOnly = true
    options.print = { _ in }
    options.progress = { _ in }
    let s = ReplSession(engine: Engine(registry: .standard), backend: sim, options: options)
    #expect(s.evaluate("import \"\(dir)/api.did\" as Api").succeeded)
    #expect(s.evaluate("let c: Api = \(Harness.userService.text)").succeeded)
    #expect(s.evaluate("(call c.version()).tag").value == "rc1 : text")
    #expect(
      s.evaluate("call c.version()").value == "{major: 2, tag: \"rc1\"} : {major: int, tag: text}",
      "a reply prints with its type")
    let update = s.evaluate("call c.rotate()")
    #expect(!update.succeeded)
    #expect(update.failure?.contains("refused by --read-only") == true, "\(update.failure ?? "")")
    #expect(sim.snapshot == state)
  }

  @Test func planModeNeverTouchesTheBackend() {
    var state = SimulatedIC.demoWorld
    state.latency_ms = 0
    let sim = SimulatedIC(state: state)
    var options = RunOptions(projectDirectory: Corpus.repository, environment: [:])
    options.yes = true
    options.print = { _ in }
    options.progress = { _ in }
    options.mode = .plan
    let s = ReplSession(engine: Engine(registry: .standard), backend: sim, options: options)
    #expect(s.evaluate("ensure 6iu47-dyaaa-aaaaf-qgeza-cai.cycles >= 1T via top_up").succeeded)
    #expect(sim.snapshot == state)
  }

  @Test func loadBringsDeclarationsAndSaveWritesARunbookThatChecks() throws {
    let s = session()
    s.options.network = "ic"  // the runbook's network: a session never switches silently
    s.options.params = ["canister": "6iu47-dyaaa-aaaaf-qgeza-cai", "wasm": Harness.wasm]
    let loaded = s.load(path: Corpus.repository + "/scripts/canister-prod-activation.rb.ic")
    #expect(loaded.succeeded, "\(loaded.diagnostics)\(loaded.failure ?? "")")
    #expect(s.evaluate("founders.count").value == "3 : int")
    #expect(s.evaluate("prod.cycles").value == "38.8B : cycles")
    #expect(s.evaluate("ensure prod.cycles >= 1T via wallet wdhec").succeeded)
    let dir = try CLI.temporaryDirectory()
    try s.save(path: dir + "/session.rb.ic")
    // Checked from the project it was loaded from: its interface import stays inside that project.
    let check = try CLI.run(["check", dir + "/session.rb.ic"], in: Corpus.repository)
    #expect(check.status == 0, "\(check.stderr)")
    #expect(try CLI.run(["fmt", "--check", "session.rb.ic"], in: dir).status == 0)
  }
}

@Suite struct ReplCommandTests {
  @Test func readsStatementsFromStandardInputWithoutATerminal() throws {
    let dir = try CLI.temporaryDirectory()
    let input = dir + "/input.txt"
    try "print 1T + 500B\nlet xs = [\n  1T,\n  2T,\n]\nsum(xs)\n:type xs\n".write(
      toFile: input, atomically: true, encoding: .utf8)
    let r = try CLI.runWithInput(["repl", "--journal", dir + "/runs"], input: input)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "1.5T\n3T : cycles\n[cycles]\n")
  }

  /// A session journals as a run, each input a step, and `rbic report` renders it.
  @Test func aSessionIsAReportableRun() throws {
    let dir = try CLI.temporaryDirectory()
    let input = dir + "/input"
    try "let c = 6iu47-dyaaa-aaaaf-qgeza-cai\nc.cycles\nrequire c.cycles > 1T\n".write(
      toFile: input, atomically: true, encoding: .utf8)
    let r = try CLI.run(
      executable: CLI.binary, ["repl", "--journal", dir + "/runs"], in: Corpus.repository, environment: [:],
      input: input)
    #expect(r.status == 1, "the failed require: \(r.stderr)")
    let journal = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/runs").first)
    let report = try CLI.run(["report", dir + "/runs/" + journal])
    #expect(report.status == 0, "\(report.stderr)")
    #expect(report.stdout.contains("# Run report: repl-session"), "\(report.stdout)")
    #expect(report.stdout.contains("### 2. c.cycles"))
    #expect(report.stdout.contains("**Outcome: failed**"))
    #expect(report.stdout.contains("2 ok, 0 skipped, 1 failed"), "\(report.stdout)")
  }

  @Test func aFailingInputMakesTheScriptExitNonZero() throws {
    let dir = try CLI.temporaryDirectory()
    let input = dir + "/input.txt"
    try "print nope\nprint 2\n".write(toFile: input, atomically: true, encoding: .utf8)
    let r = try CLI.runWithInput(["repl", "--journal", dir + "/runs"], input: input)
    #expect(r.status == 1)
    #expect(r.stdout == "2\n", "the session went on after the error")
    #expect(r.stderr.contains("unknown name `nope`"))
  }
}

/// The REPL in a real pseudo-terminal, driven through tmux (one tmux server per test).
@Suite struct ReplTerminalTests {
  final class Terminal {
    let socket = "rbic-test-\(UUID().uuidString.prefix(8))"
    let dir: String

    init(_ arguments: String = "", history: String? = nil) throws {
      dir = try CLI.temporaryDirectory()
      let command =
        "cd \(Corpus.repository) && \(CLI.binary) repl --history \(history ?? dir + "/history") --journal \(dir)/runs \(arguments)"
      try tmux(["new-session", "-d", "-x", "120", "-y", "40", command])
      try wait(for: "rbic>")
    }

    /// Any command in the terminal, in `dir`; the pane stays open after it exits.
    init(command: (String) -> String) throws {
      dir = try CLI.temporaryDirectory()
      try tmux(["new-session", "-d", "-x", "220", "-y", "50", "cd \(dir) && \(command(dir)); sleep 60"])
    }

    /// Ends what the terminal started, whatever happened in the test: the pane's whole process
    /// group (the REPL or the command, and their children), then the session, which ends its
    /// tmux server. (`kill-server` alone left servers and REPLs running: tmux 3.3 answered 0 and
    /// kept the session.)
    deinit { Self.end(socket: socket, tmux: tmux) }

    static func end(socket: String, tmux: ([String]) throws -> String) {
      let pane = (try? tmux(["display-message", "-p", "-t", "0", "#{pane_pid}"])) ?? ""
      if let pid = Int32(pane.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
      }
      _ = try? tmux(["kill-session", "-t", "0"])
      _ = try? tmux(["kill-server"])
    }

    /// Runs tmux with `posix_spawn` and `waitpid`: Foundation's `Process.waitUntilExit` never
    /// returns for `tmux new-session -d` (the daemonised server keeps a descriptor it watches).
    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
      let output = dir + "/tmux-\(UUID().uuidString.prefix(6))"
      var actions = posix_spawn_file_actions_t()
      posix_spawn_file_actions_init(&actions)
      defer { posix_spawn_file_actions_destroy(&actions) }
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
      let args = ["tmux", "-L", socket] + arguments
      let argv = args.map { strdup($0) } + [nil]
      defer { argv.forEach { free($0) } }
      var pid: pid_t = 0
      guard posix_spawnp(&pid, "tmux", &actions, nil, argv, environ) == 0 else { throw POSIXError(.ENOENT) }
      var status: Int32 = 0
      waitpid(pid, &status, 0)
      defer { try? FileManager.default.removeItem(atPath: output) }
      return String(decoding: FileManager.default.contents(atPath: output) ?? Data(), as: UTF8.self)
    }

    /// `command`, run so that its pid is in `pid` (for `signal`) and its exit status shows as `EXIT=N`.
    static func recordingPID(_ command: String) -> String {
      "sh -c 'echo $$ > pid; exec \(command)'; echo EXIT=$?"
    }

    /// Sends `number` to the command started with `recordingPID`; returns the screen once it has
    /// exited and the seconds that took.
    func signal(_ number: Int32) throws -> (screen: String, seconds: Double) {
      let text = try String(contentsOfFile: dir + "/pid", encoding: .utf8)
      let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
      let sent = Date()
      kill(pid, number)
      let screen = try wait(for: "EXIT=")
      return (screen, Date().timeIntervalSince(sent))
    }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", "0"] + keys) }
    func screen() throws -> String { try tmux(["capture-pane", "-t", "0", "-p"]) }

    /// Polls the screen until `text` appears (or 15 s pass).
    @discardableResult
    func wait(for text: String, count: Int = 1) throws -> String {
      let deadline = Date().addingTimeInterval(15)
      var last = ""
      while Date() < deadline {
        last = try screen()
        if last.components(separatedBy: text).count - 1 >= count { return last }
        Thread.sleep(forTimeInterval: 0.05)
      }
      Issue.record("timed out waiting for \(text.debugDescription); screen:\n\(last)")
      return last
    }
  }

  @Test func promptEvaluationAndErrorRecovery() throws {
    let t = try Terminal()
    try t.keys("1T + 500B", "Enter")
    try t.wait(for: "1.5T : cycles")
    try t.keys("print nope", "Enter")
    try t.wait(for: "unknown name `nope`")
    try t.keys("2 * 21", "Enter")
    try t.wait(for: "42 : int")
  }

  @Test func tabCompletesNamesAndProperties() throws {
    let t = try Terminal()
    try t.keys("let wallet_x: wallet = wdhec-2yaaa-aaaao-a6dgq-cai", "Enter")
    try t.wait(for: "rbic>", count: 2)
    try t.keys("wallet_", "Tab", ".bal", "Tab", "Enter")
    let screen = try t.wait(for: "11.165T : cycles")
    #expect(screen.contains("wallet_x.balance"))
  }

  /// Tab after `c.` on a canister completes its properties through readline.
  @Test func tabCompletesAProperty() throws {
    let t = try Terminal()
    try t.keys("let c = 6iu47-dyaaa-aaaaf-qgeza-cai", "Enter")
    try t.wait(for: "rbic>", count: 2)
    try t.keys("c.cyc", "Tab", "Enter")
    let screen = try t.wait(for: "38.8B : cycles")
    #expect(screen.contains("c.cycles"))
  }

  @Test func multiLineInputAndHistoryRecall() throws {
    let t = try Terminal()
    try t.keys("let xs = [", "Enter")
    try t.wait(for: "  ...")
    try t.keys("  1T,", "Enter", "  2T,", "Enter", "]", "Enter")
    try t.keys("sum(xs)", "Enter")
    try t.wait(for: "3T : cycles")
    try t.keys("Up", "Enter")
    try t.wait(for: "3T : cycles", count: 2)
  }

  /// `:load` asks for a required param the session has no value for; `:param` gives one ahead.
  @Test func loadAsksForMissingParams() throws {
    let dir = try CLI.temporaryDirectory()
    try "runbook \"p\" version 1\n## The canister to look at.\nparam target: canister\nlet doubled = 2\n".write(
      toFile: dir + "/p.rb.ic", atomically: true, encoding: .utf8)
    let t = try Terminal()
    try t.keys(":load \(dir)/p.rb.ic", "Enter")
    try t.wait(for: "param target (canister):")
    try t.keys("6iu47-dyaaa-aaaaf-qgeza-cai", "Enter")
    try t.wait(for: "rbic>", count: 2)
    try t.keys("target.cycles", "Enter")
    try t.wait(for: "38.8B : cycles")

    let input = dir + "/input"
    try ":param target=6iu47-dyaaa-aaaaf-qgeza-cai\n:load \(dir)/p.rb.ic\ntarget.cycles\n".write(
      toFile: input, atomically: true, encoding: .utf8)
    let r = try CLI.run(
      executable: CLI.binary, ["repl", "--journal", dir + "/runs"], in: Corpus.repository, environment: [:],
      input: input)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("38.8B : cycles"), "\(r.stdout)")
  }

  /// A slow statement shows that it is running, and the line is gone when it ends.
  @Test func aSlowStatementShowsProgressAndLeavesNoTrace() throws {
    let dir = try CLI.temporaryDirectory()
    var state = SimulatedIC.demoWorld
    state.latency_ms = 2500
    try SimulatedIC(state: state).save(path: dir + "/slow.json")
    let t = try Terminal("--sim-state \(dir)/slow.json --read-only")
    try t.keys("6iu47-dyaaa-aaaaf-qgeza-cai.cycles", "Enter")
    try t.wait(for: "running…")
    let done = try t.wait(for: "38.8B : cycles")
    #expect(!done.contains("running…"), "the progress line is cleared:\n\(done)")
  }

  /// `:watch` re-reads every interval until Ctrl-C, then the session goes on; its ticks are not
  /// inputs (the journal has a step for the input after it only).
  @Test func watchRepeatsUntilControlC() throws {
    let t = try Terminal()
    try t.keys(":watch 6iu47-dyaaa-aaaaf-qgeza-cai.cycles every 200ms", "Enter")
    let ticks = try t.wait(for: "38.8B : cycles", count: 3)
    #expect(ticks.contains("38.8B : cycles  (unchanged)"), "each tick says what changed: \(ticks)")
    try t.keys("C-c")
    try t.wait(for: "watch ended")
    try t.keys("print \"after\"", "Enter")
    try t.wait(for: "after")
    let runs = t.dir + "/runs"
    let journal = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
    let text = try String(contentsOfFile: runs + "/" + journal, encoding: .utf8)
    #expect(text.components(separatedBy: "\"event\":\"step_start\"").count - 1 == 1, "\(text)")
  }

  /// A multi-line input is one history entry, recalled whole with Up after a restart too.
  @Test func multiLineInputIsRecalledWholeAfterARestart() throws {
    let history = try CLI.temporaryDirectory() + "/history"
    do {
      let t = try Terminal(history: history)
      try t.keys("let ys = [", "Enter", "  4T,", "Enter", "  5T,", "Enter", "]", "Enter")
      try t.wait(for: "rbic>", count: 2)
      try t.keys("C-d")
      Thread.sleep(forTimeInterval: 0.3)
    }
    let again = try Terminal(history: history)
    try again.keys("Up", "Enter")
    try again.wait(for: "rbic>", count: 2)
    try again.keys("sum(ys)", "Enter")
    try again.wait(for: "9T : cycles")
  }

  @Test func controlCCancelsASlowCallAndKeepsTheSession() throws {
    let dir = try CLI.temporaryDirectory()
    var state = SimulatedIC.demoWorld
    state.latency_ms = 10_000
    try SimulatedIC(state: state).save(path: dir + "/slow.json")
    let t = try Terminal("--sim-state \(dir)/slow.json --read-only")
    let started = Date()
    try t.keys("6iu47-dyaaa-aaaaf-qgeza-cai.cycles", "Enter")
    Thread.sleep(forTimeInterval: 0.5)
    try t.keys("C-c")
    try t.wait(for: "interrupted")
    #expect(Date().timeIntervalSince(started) < 5, "the 10 s call was cut short")
    try t.keys("print \"still here\"", "Enter")
    try t.wait(for: "still here")
  }

  /// A mainnet question asked while the statement's progress line is due stays on the screen
  /// until it is answered: the progress line never overwrites it, and the answer typed is the
  /// answer to the question the operator sees.
  @Test func aQuestionStaysVisibleWhileTheStatementRuns() throws {
    let dir = try CLI.temporaryDirectory()
    var state = SimulatedIC.demoWorld
    state.latency_ms = 600  // the read before the question; the progress line is due at 1 s
    try SimulatedIC(state: state).save(path: dir + "/state.json")
    let t = try Terminal("--network ic --sim-state \(dir)/state.json")
    try t.keys("ensure 6iu47-dyaaa-aaaaf-qgeza-cai.cycles >= 1T via top_up", "Enter")
    try t.wait(for: "[y/N]")
    Thread.sleep(forTimeInterval: 2)
    let screen = try t.screen()
    #expect(screen.contains("on ic? [y/N]"), "the question is still on the screen:\n\(screen)")
    #expect(!screen.contains("running…"), "no progress line over the question:\n\(screen)")
    try t.keys("n", "Enter")
    try t.wait(for: "declined")
  }

  /// Ctrl-C at a `[y/N]` question ends it at once, as an interruption (not "declined" after the
  /// next Enter), and nothing is done.
  @Test func controlCAtAQuestionInterruptsAtOnce() throws {
    let dir = try CLI.temporaryDirectory()
    try SimulatedIC(state: SimulatedIC.demoWorld).save(path: dir + "/state.json")
    let t = try Terminal("--network ic --sim-state \(dir)/state.json")
    try t.keys("ensure 6iu47-dyaaa-aaaaf-qgeza-cai.cycles >= 1T via top_up", "Enter")
    try t.wait(for: "[y/N]")
    let asked = Date()
    try t.keys("C-c")
    let screen = try t.wait(for: "interrupted at the question")
    #expect(Date().timeIntervalSince(asked) < 3)
    #expect(!screen.contains("declined"))
    try t.keys("print \"still here\"", "Enter")
    try t.wait(for: "still here")
    #expect(
      try SimulatedIC.load(path: dir + "/state.json").canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.cycles == "38800000000")
  }

  @Test func savedSessionPassesCheck() throws {
    let t = try Terminal()
    try t.keys("let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai", "Enter")
    try t.keys("c.cycles", "Enter")
    try t.wait(for: "38.8B : cycles")
    try t.keys(":save \(t.dir)/saved.rb.ic", "Enter")
    try t.wait(for: "saved 2 statement(s)")
    let check = try CLI.run(["check", t.dir + "/saved.rb.ic"])
    #expect(check.status == 0, "\(check.stderr)")
  }
}

/// Every terminal test ends what it starts: after a `Terminal` goes away, its tmux server and
/// every process of its pane are gone (a CI machine must not collect them run after run).
@Suite struct TerminalCleanupTests {
  @Test func aTerminalEndsItsServerAndItsProcesses() throws {
    var socket = ""
    var pid: pid_t = 0
    do {
      let t = try ReplTerminalTests.Terminal(command: { _ in ReplTerminalTests.Terminal.recordingPID("sleep 300") })
      socket = t.socket
      var text = ""
      for _ in 0..<100 where text.isEmpty {
        text = (try? String(contentsOfFile: t.dir + "/pid", encoding: .utf8)) ?? ""
        if text.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
      }
      pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
      #expect(kill(pid, 0) == 0, "running while the terminal is")
    }
    // Gone, or a zombie waiting for a parent that is itself gone (nothing runs either way).
    func ended() -> Bool {
      guard kill(pid, 0) == 0 else { return true }
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
      return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).first == "Z"
    }
    var gone = false
    for _ in 0..<100 where !gone {
      gone = ended()
      if !gone { Thread.sleep(forTimeInterval: 0.05) }
    }
    #expect(gone, "the pane's process ended")
    let servers = try CLI.run(
      executable: "/usr/bin/env", ["pgrep", "-f", "tmux -L \(socket) "], in: nil, environment: [:], input: nil)
    #expect(servers.stdout.isEmpty, "no tmux server left: \(servers.stdout)")
  }
}
