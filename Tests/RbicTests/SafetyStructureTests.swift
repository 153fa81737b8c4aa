import Foundation
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime
@testable import RbicTooling

/// The safety rules held by structure, each tested the way it fails on mainnet.
@Suite struct SafetyStructureTests {
  /// Runs `source` on the demo world from a project directory holding `files`, with no `--yes`
  /// and no terminal.
  static func runInProject(_ files: [String: String], _ source: String) throws -> Harness.Outcome {
    let dir = try CLI.temporaryDirectory()
    for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
    let engine = Engine(registry: .standard)
    let program = engine.compile(
      source: Array(source.utf8), path: dir + "/t.rb.ic", options: .init(projectDirectory: dir))
    #expect(!program.hasErrors, "\(program.diagnostics.map(\.message))")
    let sim = SimulatedIC(state: SimulatedIC.demoWorld)
    let lines = Harness.Lines()
    var options = RunOptions(projectDirectory: dir, environment: [:])
    options.print = { lines.add($0) }
    options.progress = { lines.add($0) }
    let result = engine.run(program, backend: sim, options: options)
    return Harness.Outcome(result: result, sim: sim, output: lines.lines)
  }

  static func topUp(on network: String) -> String {
    """
    runbook "t" version 1
    use network \(network)
    let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
    step "Top up" on c {
      ensure cycles >= 1T via top_up
    }
    """
  }

  static let mainnetProjects: [(network: String, file: String, text: String)] = [
    ("prod", "dfx.json", #"{"networks": {"prod": {"providers": ["https://icp0.io"], "type": "persistent"}}}"#),
    ("edge", "dfx.json", #"{"networks": {"edge": {"providers": ["https://boundary.IC0.app/"]}}}"#),
    (
      "prod", "icp.yaml",
      "networks:\n  - name: prod\n    mode: connected\n    url: https://icp-api.io\n    root-key: mainnet\n"
    ),
    ("production", "icp.yaml", "environments:\n  - name: production\n    network: ic\n"),
  ]

  /// A network is mainnet by where it points, not by its name: a `prod` network whose provider is
  /// mainnet asks exactly as `ic` does (here: no terminal and no `--yes`, so it is refused and
  /// nothing moves).
  @Test(arguments: 0..<mainnetProjects.count)
  func theMainnetGateFollowsWhereTheNetworkPoints(_ index: Int) throws {
    let p = Self.mainnetProjects[index]
    let run = try Self.runInProject([p.file: p.text], Self.topUp(on: p.network))
    #expect(run.result.exitCode == 4, "\(run.result.failure?.diagnostic.message ?? "ran")")
    #expect(run.result.failure?.diagnostic.message.contains("need confirmation") == true)
    #expect(try run.sim.status(Harness.userService).cycles == 38_800_000_000, "nothing moved")
  }

  /// A network that points elsewhere is not asked (the gate is not simply always on).
  @Test func aLocalProviderIsNotMainnet() throws {
    let run = try Self.runInProject(
      ["dfx.json": #"{"networks": {"staging": {"providers": ["http://127.0.0.1:4943"]}}}"#], Self.topUp(on: "staging"))
    #expect(run.result.exitCode == 0, "\(run.result.failure?.diagnostic.message ?? "")")
    #expect(try run.sim.status(Harness.userService).cycles >= 1_000_000_000_000)
  }

  @Test func mainnetHostsAreRecognisedByTheirComponents() {
    #expect(ProjectFiles.Network.isMainnetURL("https://icp0.io"))
    #expect(ProjectFiles.Network.isMainnetURL("https://a.b.ic0.app/api"))
    #expect(!ProjectFiles.Network.isMainnetURL("https://icp0.io.example.com"))
    #expect(!ProjectFiles.Network.isMainnetURL("https://notic0.app"))
    #expect(ProjectFiles.Network.isMainnetURL("not a url"), "an unreadable provider is asked about")
  }

  // MARK: - An outcome is unknown unless proven definite

  /// A failure that proves nothing (a transport error after submission, a launcher's exit code for
  /// a signal) leaves the outcome unknown: the run stops saying so, and the next run holds the
  /// effect instead of creating, converting or sending a second time.
  @Test(arguments: [SimulatedIC.FaultKind.afterSend, .afterSendSignal])
  func aFailureAfterSendingIsNotRepeated(_ kind: SimulatedIC.FaultKind) throws {
    let mint = "step \"m\" {\n  print mint_cycles(icp: 1ICP)\n}\n"
    let send = """
      use network ic
      let wdhec: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
      step "Top up" on 6iu47-dyaaa-aaaaf-qgeza-cai {
        ensure cycles >= 1T via wallet wdhec
      }
      """
    // A send is observable: the ensure's re-read sees it landed, so the run goes on and the next
    // run has nothing to send. A create or a conversion is not: the run stops, the next one holds.
    let cases:
      [(operation: SimulatedIC.FaultOperation, source: String, observable: Bool, once: (SimulatedIC.State) -> Bool)] = [
        (
          .create, LifecycleTests.createOrFind, false,
          { $0.canisters.count == SimulatedIC.demoWorld.canisters.count + 1 }
        ),
        (.mint, mint, false, { $0.identities["github-ci"]?.icp_e8s == "399990000" }),
        (
          .walletSend, send, true,
          { Int128($0.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.cycles ?? "") ?? 0 < 2_000_000_000_000 }
        ),
      ]
    for c in cases {
      let dir = try LifecycleTests.project(nil)
      let world = Harness.world {
        $0.identities["github-ci"]!.icp_e8s = "500000000"
        $0.faults = [.init(operation: c.operation, kind: kind, times: 1)]
      }
      let first = LifecycleTests.run(c.source, in: dir, state: world) {
        $0.yes = true
        $0.journal = try? Journal(directory: dir, runbook: "t")
      }
      #expect(c.once(first.sim.snapshot), "\(c.operation): the request landed once")
      let journal = try String(contentsOfFile: first.result.journalPath ?? "", encoding: .utf8)
      #expect(journal.contains("\"event\":\"outcome_unknown\""), "\(c.operation): journaled as unknown")
      let again = LifecycleTests.run(c.source, in: dir, state: first.sim.snapshot) {
        $0.yes = true
        $0.journal = try? Journal(directory: dir, runbook: "t")
      }
      #expect(c.once(again.sim.snapshot), "\(c.operation): not applied a second time")
      if c.observable {
        #expect(first.result.exitCode == 0, "\(c.operation): \(first.result.failure?.diagnostic.message ?? "")")
        #expect(again.result.exitCode == 0, "\(c.operation): \(again.result.failure?.diagnostic.message ?? "")")
        continue
      }
      #expect(first.result.exitCode == 3, "\(c.operation): \(first.result.failure?.diagnostic.message ?? "")")
      #expect(
        first.result.failure?.diagnostic.message.contains("unknown") == true,
        "\(c.operation): \(first.result.failure?.diagnostic.message ?? "")")
      #expect(again.result.exitCode == 4, "\(c.operation): \(again.result.failure?.diagnostic.message ?? "")")
      #expect(again.result.failure?.diagnostic.message.contains("an earlier run's") == true, "\(c.operation)")
    }
  }

  /// An update call that was sent and whose reply cannot be read (it does not match the
  /// interface) has an unknown outcome: a re-run does not rotate the key a second time.
  @Test func anUnreadableReplyToAnUpdateIsAnUnknownOutcome() throws {
    let dir = try CLI.temporaryDirectory()
    try "service : { rotate : () -> (text) }".write(toFile: dir + "/api.did", atomically: true, encoding: .utf8)
    let source =
      "runbook \"r\" version 1\nimport \"api.did\" as Api\nlet c: Api = \(Harness.userService.text)\n"
      + "step \"rotate\" on c {\n  let k = call c.rotate()\n  print k\n}\n"
    let engine = Engine(registry: .standard)
    let program = engine.compile(
      source: Array(source.utf8), path: dir + "/r.rb.ic", options: .init(projectDirectory: dir))
    #expect(!program.hasErrors)
    let world = Harness.world {
      $0.canisters[Harness.userService.text]!.replies = ["rotate": "(42 : nat)"]
      $0.canisters[Harness.userService.text]!.candid_service = nil
    }
    let sim = SimulatedIC(state: world)
    func run() -> RunResult {
      var options = RunOptions(projectDirectory: dir, environment: [:])
      options.print = { _ in }
      options.progress = { _ in }
      options.journal = try? Journal(directory: dir + "/runs", runbook: "r")
      return engine.run(program, backend: sim, options: options)
    }
    let first = run()
    #expect(first.exitCode == 3)
    #expect(first.failure?.diagnostic.message.contains("unknown") == true, "\(first.failure?.diagnostic.message ?? "")")
    let second = run()
    #expect(second.exitCode == 4, "\(second.failure?.diagnostic.message ?? "")")
    #expect(second.failure?.diagnostic.message.contains("an earlier run's call") == true)
  }

  // MARK: - A request started and never ended is pending

  /// rbic is killed (SIGKILL) while the tool sends cycles; the request is still in flight and
  /// lands later. An immediate re-run announces the send that was started and never ended and
  /// holds it: one send, not two. The argument file the killed run wrote is swept by the re-run.
  @Test(arguments: ["icp", "dfx"])
  func aKilledRunsRequestIsPendingForTheNextRun(_ tool: String) throws {
    let s = try ToolBackendTests.Setup(tool) {
      $0.faults = [.init(operation: .walletSend, kind: .late, times: 1, delay_ms: 60_000)]
    }
    let scratch = s.dir + "/tmp"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    var environment = ProcessInfo.processInfo.environment.merging(s.environment) { $1 }
    environment["TMPDIR"] = scratch
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = [
      "run", "scripts/canister-prod-activation.rb.ic", "--backend", tool, "--identity", "github-ci", "--yes",
      "--journal", s.dir + "/runs", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param",
      "wasm=demo/user_service_with_metadata.wasm",
    ]
    process.currentDirectoryURL = URL(fileURLWithPath: Corpus.repository)
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { Self.killTools(using: s.state) }
    // Kill rbic once the send has started (its `action_start` is on disk) and the tool runs.
    let deadline = Date().addingTimeInterval(30)
    var started = false
    while Date() < deadline, !started {
      Thread.sleep(forTimeInterval: 0.05)
      let runs = (try? FileManager.default.contentsOfDirectory(atPath: s.dir + "/runs")) ?? []
      started = runs.contains { name in
        let text = (try? String(contentsOfFile: s.dir + "/runs/" + name, encoding: .utf8)) ?? ""
        return text.contains("\"event\":\"action_start\"") && text.contains("\"operation\":\"wallet_send\"")
      }
    }
    try #require(started, "the send started")
    Thread.sleep(forTimeInterval: 0.5)
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(s.world.deliveries?.count == 1, "the killed run's send is in flight")
    let left = try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0.hasPrefix("rbic-tmp-") }
    let again = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", tool, "--identity", "github-ci", "--yes",
        "--journal", s.dir + "/runs", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param",
        "wasm=demo/user_service_with_metadata.wasm",
      ], in: Corpus.repository, environment: environment.merging(["TMPDIR": scratch]) { $1 })
    #expect(again.status == 4, "\(again.stdout)\n\(again.stderr)")
    #expect(again.stdout.contains("was started and never ended"), "\(again.stdout)")
    #expect(again.stderr.contains("an earlier run's wallet_send"), "\(again.stderr)")
    let world = s.world
    #expect(world.deliveries?.count == 1, "no second send")
    #expect(world.canisters["wdhec-2yaaa-aaaao-a6dgq-cai"]?.cycles == "11165000000000", "the send has not landed yet")
    #expect(tool == "dfx" || !left.isEmpty, "icp's call read an argument file, left by the kill")
    let after = try FileManager.default.contentsOfDirectory(atPath: scratch).filter { $0.hasPrefix("rbic-tmp-") }
    #expect(after.isEmpty, "swept: \(after)")
  }

  /// Ends the test double processes still running over `state` (a killed rbic's tool hangs).
  static func killTools(using state: String) {
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), pid != getpid(),
        let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ"),
        environ.range(of: Data("RBIC_SIM_STATE=\(state)\u{0}".utf8)) != nil
      else { continue }
      kill(pid, SIGKILL)
    }
  }

  /// Time does not release what a re-read cannot see: after the settle window, a create whose
  /// outcome is unknown is still held (a second canister otherwise); an operator releases it.
  @Test func theSettleWindowDoesNotReleaseACreate() throws {
    let dir = try LifecycleTests.project(nil)
    let world = Harness.world { $0.faults = [.init(operation: .create, kind: .late, times: 1, delay_ms: 60_000)] }
    let first = LifecycleTests.run(LifecycleTests.createOrFind, in: dir, state: world) {
      $0.journal = try? Journal(directory: dir, runbook: "create")
    }
    #expect(first.result.exitCode == 3)
    let settled = LifecycleTests.run(LifecycleTests.createOrFind, in: dir, state: first.sim.snapshot) {
      $0.journal = try? Journal(directory: dir, runbook: "create")
      $0.settleWindow = 0
    }
    #expect(settled.result.exitCode == 4, "\(settled.result.failure?.diagnostic.message ?? "")")
    #expect(settled.result.failure?.diagnostic.message.contains("time does not release it") == true)
    #expect(settled.sim.snapshot.deliveries?.count == 1, "the first create is in flight, and no second one")
    let confirmed = LifecycleTests.run(LifecycleTests.createOrFind, in: dir, state: first.sim.snapshot) {
      $0.journal = try? Journal(directory: dir, runbook: "create")
      $0.settleWindow = 0
      $0.interactive = true
      $0.confirm = { _ in true }
    }
    #expect(confirmed.result.exitCode == 0, "\(confirmed.result.failure?.diagnostic.message ?? "")")
  }

  // MARK: - Secrets never on a command line

  /// A secret in a local command's argv is refused when checked, however it is spelled (any
  /// process on the machine can read an argv); it goes in on standard input instead.
  @Test(arguments: [
    #"run("tool", s)"#, #"run("tool", "--key", s)"#, #"run(s)"#, #"run("tool", x)"#,
  ])
  func aSecretInAnArgvIsRefusedWhenChecked(_ call: String) {
    let source = """
      runbook "s" version 1
      let s = secret_env("RBIC_TEST_SECRET")
      let x = s
      step "x" {
        let r = \(call)
      }
      """
    let program = Engine(registry: .standard).compile(
      source: Array(source.utf8), path: Harness.repository + "/scripts/s.rb.ic",
      options: .init(projectDirectory: Harness.repository))
    let messages = program.diagnostics.map(\.message)
    #expect(messages.contains { $0.contains("a secret never goes on a command line") }, "\(messages)")
  }

  @Test func aSecretGoesInOnStandardInput() throws {
    let source = """
      runbook "s" version 1
      step "x" {
        let echoed = run("/bin/cat", stdin: "hello")
        require echoed.stdout == "hello"
        let r = run("/bin/sh", "-c", "test \\"$(cat)\\" = hunter2", stdin: secret_env("RBIC_TEST_SECRET"))
        require r.status == 0
      }
      """
    let dir = try CLI.temporaryDirectory()
    let run = Harness.run(source) { $0.journal = try? Journal(directory: dir, runbook: "s") }
    #expect(run.result.exitCode == 0, "\(run.result.failure?.diagnostic.message ?? "")")
    let journal = try String(contentsOfFile: run.result.journalPath ?? "", encoding: .utf8)
    #expect(!journal.contains("hunter2"))
  }

  // MARK: - A saved plan admits only what it showed

  /// Applying a saved plan runs a local command only when the plan showed exactly it: one whose
  /// argv depended on another command's output (unknown while planning) stops the apply with
  /// exit 4 before it runs; the one the plan showed runs. Both are journaled from start to end.
  @Test func aSavedPlanRunsOnlyTheLocalCommandsItShowed() throws {
    let dir = try CLI.temporaryDirectory()
    let source = """
      runbook "local" version 1
      step "shown" {
        let r = run("/usr/bin/touch", "\(dir)/shown")
      }
      step "not shown" {
        let name = run("/bin/echo", "-n", "hidden")
        let s = run("/usr/bin/touch", "\(dir)/{name.stdout}")
      }
      """
    let engine = Engine(registry: .standard)
    let program = engine.compile(
      source: Array(source.utf8), path: Harness.repository + "/scripts/test.rb.ic",
      options: .init(projectDirectory: Harness.repository))
    #expect(!program.hasErrors, "\(program.diagnostics.map(\.message))")
    let planned = Harness.run(source, mode: .plan)
    let plan = SavedPlan(
      program: program, result: planned.result, file: "scripts/test.rb.ic", params: [:], network: "local",
      identity: "github-ci", backend: "sim")
    #expect(plan.local?.map(\.description) == ["run `/usr/bin/touch \(dir)/shown`", "run `/bin/echo -n hidden`"])
    let applied = Harness.run(source) {
      $0.approval = PlanApproval(plan: plan, id: "p")
      $0.journal = try? Journal(directory: dir + "/runs", runbook: "local")
    }
    #expect(applied.result.exitCode == 4, "\(applied.result.failure?.diagnostic.message ?? "")")
    #expect(
      applied.result.failure?.diagnostic.message.contains("run `/usr/bin/touch \(dir)/hidden` is not in the plan p")
        == true, "\(applied.result.failure?.diagnostic.message ?? "")")
    #expect(FileManager.default.fileExists(atPath: dir + "/shown"), "the command the plan showed ran")
    #expect(!FileManager.default.fileExists(atPath: dir + "/hidden"), "the one it could not show did not")
    let journal = try String(contentsOfFile: applied.result.journalPath ?? "", encoding: .utf8)
    #expect(journal.components(separatedBy: "\"local\":true").count - 1 == 4, "two started and ended")
  }

  /// A local effect is never run when the journal cannot record it.
  @Test func aLocalCommandNeedsAWritableJournal() throws {
    let dir = try CLI.temporaryDirectory()
    let full = open("/dev/full", O_WRONLY)
    defer { close(full) }
    let run = Harness.run("runbook \"l\" version 1\nlet r = run(\"/usr/bin/touch\", \"\(dir)/ran\")\n") {
      $0.journal = Journal(path: "/dev/full", descriptor: dup(full))
    }
    #expect(run.result.exitCode == 3, "\(run.result.failure?.diagnostic.message ?? "")")
    #expect(!FileManager.default.fileExists(atPath: dir + "/ran"))
  }

  // MARK: - Secrets are redacted as values

  /// A secret holding a quote, a backslash and a newline, sent to a canister through the tool
  /// (which echoes it, Candid-escaped, in its output): no journal line and no output holds any
  /// form of it. The journal removes secrets from values before it encodes them.
  @Test(arguments: ["icp", "dfx"])
  func aSecretWithEscapesNeverReachesTheJournal(_ tool: String) throws {
    let s = try ToolBackendTests.Setup(tool) { $0.faults = [.init(operation: .call, kind: .echo)] }
    let runbook = s.dir + "/secret.rb.ic"
    try """
    runbook "secret" version 1
    use network ic
    let token = secret_env("RBIC_TEST_TOKEN")
    let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
    step "Send" on c {
      call c.set_note(token)
    }
    """.write(toFile: runbook, atomically: true, encoding: .utf8)
    var environment = s.environment
    environment["RBIC_TEST_TOKEN"] = "q\"b\\c\nzz-SECRET-9876"
    let r = try CLI.run(
      ["run", runbook, "--backend", tool, "--identity", "github-ci", "--yes", "--journal", s.dir + "/runs"],
      in: Corpus.repository, environment: environment)
    #expect(r.status == 0, "\(r.stderr)")
    let names = try FileManager.default.contentsOfDirectory(atPath: s.dir + "/runs")
    let journal = try String(contentsOfFile: s.dir + "/runs/" + names[0], encoding: .utf8)
    #expect(journal.contains("\"event\":\"command\""), "the tool's output is journaled")
    #expect(!journal.contains("SECRET-9876"), "\(journal)")
    #expect(!r.stdout.contains("SECRET-9876") && !r.stderr.contains("SECRET-9876"))
    // Every line is one entry of the journal's type.
    let lines = journal.split(separator: "\n")
    #expect(JournalEntry.entries(Data(journal.utf8)).count == lines.count)
  }

  // MARK: - The ceiling counts every known way to move cycles

  /// A wallet's `wallet_create_canister`, the cycles ledger's `withdraw` and `icrc1_transfer` are
  /// held to `--cycles-ceiling` like a send: refused before they are sent.
  @Test(arguments: [
    "call wdhec-2yaaa-aaaao-a6dgq-cai.wallet_create_canister({cycles: 5T, settings: {controllers: none}})",
    "call um5iw-rqaaa-aaaaq-qaaba-cai.withdraw({to: 6iu47-dyaaa-aaaaf-qgeza-cai, amount: 5T})",
    "call um5iw-rqaaa-aaaaq-qaaba-cai.icrc1_transfer({to: {owner: 6iu47-dyaaa-aaaaf-qgeza-cai}, amount: 5T})",
  ])
  func theCeilingCountsEveryCyclesMovingMethod(_ call: String) {
    let run = Harness.run("runbook \"c\" version 1\nstep \"move\" {\n  \(call)\n}\n") {
      $0.yes = true
      $0.cyclesCeiling = 1_000_000_000_000
    }
    #expect(run.result.exitCode == 4, "\(run.result.failure?.diagnostic.message ?? "")")
    #expect(run.result.failure?.diagnostic.message.contains("above the ceiling") == true)
  }

  /// A call of such a method whose amount rbic cannot read is asked, even with `--yes`.
  @Test func aCyclesMovingCallWithAnUnreadableAmountIsAsked() {
    let run = Harness.run(
      "runbook \"c\" version 1\nstep \"move\" {\n  call um5iw-rqaaa-aaaaq-qaaba-cai.withdraw(\"all of it\")\n}\n"
    ) { $0.yes = true }
    #expect(run.result.exitCode == 4, "\(run.result.failure?.diagnostic.message ?? "")")
    #expect(run.result.failure?.diagnostic.message.contains("an amount rbic cannot read") == true)
  }

  // MARK: - Test files are input

  /// A test file from a pull request cannot write escape sequences to the terminal or CI log
  /// through a test's name, nor hang the run through its world's latency.
  @Test func aHostileTestFileIsShownNotObeyedAndCannotHang() throws {
    let dir = try RunbookTestsTests.workspace(
      """
      params: { wasm: demo/user_service_with_metadata.wasm, canister: 6iu47-dyaaa-aaaaf-qgeza-cai }
      tests:
        - name: "evil \\e]2;pwned\\a\\e[2J"
          expect: { recap: { changed: 3 } }
      """)
    let named = try CLI.run(["test", "scripts/canister-prod-activation.test.yaml"], in: dir)
    #expect(named.status == 0, "\(named.stdout)\(named.stderr)")
    #expect(!named.stdout.contains("\u{1B}") && !named.stdout.contains("\u{07}"), "\(named.stdout)")
    #expect(named.stdout.contains("evil"))
    let slow = try RunbookTestsTests.workspace(
      """
      params: { wasm: demo/user_service_with_metadata.wasm, canister: 6iu47-dyaaa-aaaaf-qgeza-cai }
      tests:
        - name: slow
          world: { latency_ms: 1000000000 }
          expect: { exit: 0 }
      """)
    let started = Date()
    let hung = try CLI.run(["test", "scripts/canister-prod-activation.test.yaml"], in: slow)
    #expect(Date().timeIntervalSince(started) < 30)
    #expect(hung.status == 1, "\(hung.stdout)\(hung.stderr)")
    #expect(
      hung.stdout.contains("latency_ms is `1000000000`, not a number of milliseconds from 0 to 60000"), "\(hung.stdout)"
    )
  }

  // MARK: - Effects reach only what they declare

  /// A host's action whose effect names one canister and whose body stops another: the body's
  /// mutation is refused before it is sent (the backend it gets is scoped to the effect), and the
  /// other canister keeps running.
  @Test func anEffectsBodyReachesOnlyTheCanistersItDeclares() throws {
    let other = "mwutv-4iaaa-aaaac-behda-cai"
    var registry = Registry.standard
    registry.register(
      ActionSignature(
        "start", converges: [.comparison(.status, .equal)], requiredStatus: "running",
        summary: "starts, and (a bug) stops another canister"),
      body: { request, context throws(RuntimeError) in
        try context.act(
          Effect("start", target: .canisters([request.canister]), description: "start \(request.canister.text)"),
          summary: "start"
        ) { (b) throws(BackendError) in
          try b.stop(Principal(text: other)!)
          try b.start(request.canister)
        }
      })
    let source = """
      runbook "host" version 1
      let c: canister = \(Harness.userService.text)
      step "Start" on c {
        ensure status == running via start
      }
      """
    let r = Harness.run(
      source, state: Harness.world { $0.canisters[Harness.userService.text]?.status = .stopped }, registry: registry)
    #expect(r.result.exitCode == 3, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.result.failure?.diagnostic.message.contains("may change only \(Harness.userService.text)") == true)
    #expect(try r.sim.status(Principal(text: other)!).status == .running, "the undeclared canister was not touched")
  }

  /// A tool's output is input: a million log records are refused by size with a clear error
  /// before anything is parsed (they took 3.1 GB as values).
  @Test func aMillionLogRecordsAreRefusedBySize() {
    let record = #"{"index":1,"timestamp":5,"content":"spam spam spam"},"#
    let json = #"{"log_records":["# + String(repeating: record, count: 1_000_000).dropLast() + "]}"
    let error = #expect(throws: BackendError.self) { try ToolOutput.logs(json, tool: "icp") }
    #expect(error?.description.contains("rbic reads at most 4 MiB") == true, "\(String(describing: error))")
  }

  /// A failure after the request went out, through the tools as they print it: icp's and dfx's
  /// `agent error` after a conversion, and a launcher's exit 130 — held on the next run.
  @Test(arguments: ["icp", "dfx"], [SimulatedIC.FaultKind.afterSend, .afterSendSignal])
  func aConversionThatFailedAfterSendingIsHeldThroughTheTools(_ tool: String, _ kind: SimulatedIC.FaultKind) throws {
    let s = try ToolBackendTests.Setup(tool) {
      $0.identities["github-ci"]!.icp_e8s = "500000000"
      $0.faults = [.init(operation: .mint, kind: kind, times: 1)]
    }
    let runbook = s.dir + "/mint.rb.ic"
    try "runbook \"mint\" version 1\nuse network ic\nstep \"m\" {\n  print mint_cycles(icp: 1ICP)\n}\n".write(
      toFile: runbook, atomically: true, encoding: .utf8)
    let arguments = [
      "run", runbook, "--backend", tool, "--identity", "github-ci", "--yes", "--journal", s.dir + "/runs",
    ]
    let first = try CLI.run(arguments, in: Corpus.repository, environment: s.environment)
    #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
    #expect(first.stderr.contains("unknown"), "\(first.stderr)")
    let again = try CLI.run(arguments, in: Corpus.repository, environment: s.environment)
    #expect(again.status == 4, "\(again.stdout)\(again.stderr)")
    #expect(again.stderr.contains("an earlier run's mint"), "\(again.stderr)")
    #expect(s.world.identities["github-ci"]?.icp_e8s == "399990000", "one conversion, not two")
  }
}
