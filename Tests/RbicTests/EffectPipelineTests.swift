import Foundation
import Synchronization
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// The effect pipeline (DESIGN §3): gates that hold under `parallel for`, `plan` and
/// `--read-only`, whatever way a runbook writes the same thing.
@Suite struct EffectPipelineTests {
  static let user = "6iu47-dyaaa-aaaaf-qgeza-cai"
  static let other = "mwutv-4iaaa-aaaac-behda-cai"
  static let wallet = "wdhec-2yaaa-aaaao-a6dgq-cai"

  func walletCycles(_ sim: SimulatedIC) -> Int128 {
    Int128(sim.snapshot.canisters[Self.wallet]?.cycles ?? "") ?? -1
  }

  /// Two branches each need about 5T and 2.65T against a 6T ceiling: with latency, so both
  /// are in flight at once, at most 6T ever moves and the run is refused (exit 4). Repeated,
  /// because a check-then-act race would pass some of the time.
  @Test func ceilingIsAReservationAcrossParallelBranches() {
    let source = """
      runbook "fleet" version 1
      let fleet: [canister] = [\(Self.user), \(Self.other)]
      let wdhec: wallet = \(Self.wallet)
      step "Top up the fleet" {
        parallel for c in fleet limit 2 {
          ensure c.cycles >= 5T via wallet wdhec
        }
      }
      """
    let start = Harness.world { $0.latency_ms = 40 }
    let before = Int128(start.canisters[Self.wallet]!.cycles)!
    for _ in 0..<4 {
      let r = Harness.run(source, state: start) {
        $0.yes = true
        $0.cyclesCeiling = 6_000_000_000_000
      }
      let moved = before - walletCycles(r.sim)
      #expect(moved <= 6_000_000_000_000, "moved \(moved) past the 6T ceiling")
      #expect(moved > 0, "one branch's send went through")
      #expect(r.result.exitCode == 4)
      #expect(r.result.failure?.diagnostic.message.contains("above the ceiling of 6T") == true)
    }
  }

  /// A plain `call` of a wallet's `wallet_send` moves cycles: it is held to the ceiling like the
  /// `wallet` action.
  @Test func walletSendCallIsHeldToTheCeiling() {
    let source = """
      runbook "send" version 1
      let wdhec: canister = \(Self.wallet)
      step "Send" {
        call wdhec.wallet_send({canister: \(Self.user), amount: 11T})
      }
      """
    let refused = Harness.run(source) {
      $0.yes = true
      $0.cyclesCeiling = 1_000_000_000_000
    }
    #expect(refused.result.exitCode == 4)
    #expect(refused.result.failure?.diagnostic.message.contains("above the ceiling of 1T") == true)
    let allowed = Harness.run(source) {
      $0.yes = true
      $0.cyclesCeiling = 20_000_000_000_000
    }
    #expect(allowed.result.exitCode == 0, "\(allowed.result.failure?.diagnostic.message ?? "")")
  }

  /// `floor <= c.cycles` over a fleet that lists one canister three times: the contract locks the
  /// canister whichever way the comparison is written, so it is topped up once.
  @Test func flippedComparisonOverDuplicatesTopsUpOnce() {
    for condition in ["floor <= c.cycles", "c.cycles >= floor"] {
      let source = """
        runbook "dupes" version 1
        let floor = 1T
        let fleet: [canister] = [\(Self.user), \(Self.user), \(Self.user)]
        step "Fleet" {
          parallel for c in fleet limit 3 {
            ensure \(condition) via top_up
          }
        }
        """
      let r = Harness.run(source, state: Harness.world { $0.latency_ms = 20 })
      #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
      #expect(r.state.cycles == 38_800_000_000 + (1_000_000_000_000 - 38_800_000_000 + 10_000_000_000), "\(condition)")
      #expect(r.result.steps[0].changes.count == 1, "\(condition): \(r.result.steps[0].changes)")
    }
  }

  /// A host's `start` replaces the standard one, body and all.
  @Test func hostOverrideOfAStandardActionIsHonoured() {
    let calls = SharedCounter()
    var registry = Registry.standard
    registry.register(
      ActionSignature(
        "start", converges: [.comparison(.status, .equal)], requiredStatus: "running",
        summary: "starts through the host's change process"),
      body: { [calls] request, context throws(RuntimeError) in
        calls.value.add(1, ordering: .relaxed)
        return try context.act(
          Effect("start", target: .canisters([request.canister]), description: "start via change CHG-7"),
          summary: "start (CHG-7)"
        ) { (b) throws(BackendError) in try b.start(request.canister) }
      })
    let source = """
      runbook "host" version 1
      let c: canister = \(Self.user)
      step "Start" on c {
        ensure status == running via start
      }
      """
    let r = Harness.run(
      source, state: Harness.world { $0.canisters[Self.user]?.status = .stopped }, registry: registry)
    #expect(r.result.exitCode == 0)
    #expect(calls.value.load(ordering: .relaxed) == 1)
    #expect(r.result.steps[0].changes.map(\.text) == ["status: stopped → running via start (CHG-7)"])
    #expect(r.state.status == .running)
  }

  /// `run(...)` is a local effect: withheld in plan and --read-only (what depends on it is shown
  /// as unpredictable), run for real only in `run` or when the operator allowed it.
  @Test func localCommandsDoNotRunInPlanOrReadOnly() throws {
    let dir = try CLI.temporaryDirectory()
    let marker = dir + "/ran"
    let source = """
      runbook "local" version 1
      step "Build" {
        let r = run("/usr/bin/touch", "\(marker)")
        require r.status == 0
        print "built"
      }
      step "After" {
        print "after"
      }
      """
    let plan = Harness.run(source, mode: .plan)
    #expect(!FileManager.default.fileExists(atPath: marker), "plan ran the command")
    #expect(plan.result.exitCode == 0)
    #expect(plan.result.steps.map(\.outcome) == [.skipped, .ok])
    #expect(plan.result.steps[0].skipReason?.contains("depends on `run /usr/bin/touch") == true)
    #expect(plan.output.contains { $0.contains("? would run `/usr/bin/touch") })

    let readOnly = Harness.run(source) { $0.readOnly = true }
    #expect(!FileManager.default.fileExists(atPath: marker), "--read-only ran the command")
    #expect(readOnly.result.steps.first?.outcome == .skipped)

    _ = Harness.run(source, mode: .plan) { $0.allowLocalEffects = true }
    #expect(FileManager.default.fileExists(atPath: marker), "allowed explicitly, plan runs it")
    try FileManager.default.removeItem(atPath: marker)

    let real = Harness.run(source)
    #expect(real.result.exitCode == 0)
    #expect(FileManager.default.fileExists(atPath: marker))

    // Outside a step, the same: the rest is not predicted, and that is not a failure.
    let topLevel = Harness.run(
      "runbook \"t\" version 1\nlet r = run(\"/bin/echo\", \"hi\")\nif r.status == 0 { print \"ok\" }\n", mode: .plan)
    #expect(topLevel.result.exitCode == 0 && topLevel.result.failure == nil)
    #expect(topLevel.output.contains { $0.contains("the rest of the runbook depends on `run /bin/echo hi`") })
    #expect(!topLevel.output.contains("ok"))
  }

  /// A send that times out but lands later, then an immediate re-run: the re-run finds the pending
  /// unknown outcome in the journal directory and does not send again; once it has landed, a run
  /// sees the state and sends nothing. One send in all.
  @Test func lateRequestIsNotSentTwiceByAnImmediateRerun() throws {
    let dir = try CLI.temporaryDirectory()
    let source = """
      runbook "late" version 1
      use network ic
      let wdhec: wallet = \(Self.wallet)
      step "Top up" on \(Self.user) {
        ensure cycles >= 1T via wallet wdhec
      }
      """
    let start = Harness.world {
      $0.faults = [.init(operation: .walletSend, kind: .late, times: 1, delay_ms: 4000)]
    }
    let before = Int128(start.canisters[Self.wallet]!.cycles)!
    func run(_ state: SimulatedIC.State) throws -> Harness.Outcome {
      let journal = try Journal(directory: dir, runbook: "late")
      return Harness.run(source, state: state) {
        $0.yes = true
        $0.journal = journal
      }
    }
    let first = try run(start)
    #expect(first.result.exitCode == 3)
    #expect(first.result.failure?.diagnostic.message.contains("is unknown") == true)
    #expect(walletCycles(first.sim) == before, "not landed yet")

    let second = try run(first.sim.snapshot)
    #expect(second.result.exitCode == 4, "\(second.result.failure?.diagnostic.message ?? "")")
    #expect(second.result.failure?.diagnostic.message.contains("has an unknown outcome") == true)
    #expect(second.output.contains { $0.contains("! pending: wallet_send") })

    Thread.sleep(forTimeInterval: 4.1)
    let third = try run(second.sim.snapshot)
    #expect(third.result.exitCode == 0, "\(third.result.failure?.diagnostic.message ?? "")")
    #expect(third.result.recap.changed == 0, "the late send landed; nothing more is sent")
    let sent = before - walletCycles(third.sim)
    #expect(sent == 1_000_000_000_000 - 38_800_000_000 + 10_000_000_000, "exactly one send")
  }

  /// Ctrl-C while a wallet send is in flight: the terminal says the outcome is unknown and what to
  /// check, as the journal does, and a re-run will not repeat the send blindly.
  @Test func interruptedSendSaysItsOutcomeIsUnknown() throws {
    let dir = try CLI.temporaryDirectory()
    let journal = try Journal(directory: dir, runbook: "late")
    let source = """
      runbook "send" version 1
      let wdhec: wallet = \(Self.wallet)
      step "Top up" on \(Self.user) {
        ensure cycles >= 1T via wallet wdhec
      }
      """
    let cancellation = Cancellation()
    // Ctrl-C as the send starts, while it waits out its 300 ms on the IC.
    let r = Harness.run(source, state: Harness.world { $0.latency_ms = 300 }) {
      $0.yes = true
      $0.journal = journal
      $0.cancellation = cancellation
      $0.progress = { line in if line.contains("→ send") { cancellation.cancel() } }
    }
    #expect(r.result.exitCode == 130)
    let message = r.result.failure?.diagnostic.message ?? ""
    #expect(message.contains("interrupted during send 971.2B from wallet \(Self.wallet)"), "\(message)")
    #expect(message.contains("the outcome is unknown. Check \(Self.user) and \(Self.wallet) before running again"))
    let text = try String(contentsOfFile: journal.path, encoding: .utf8)
    #expect(text.contains("\"event\":\"outcome_unknown\""))
    #expect(PendingOutcome.scan(directory: dir, network: "local", excluding: nil).count == 1)
  }

  /// The scan for pending outcomes reads only journals written within its horizon.
  @Test func pendingScanLooksOnlyAsFarBackAsItsHorizon() throws {
    let dir = try CLI.temporaryDirectory()
    let journal = try Journal(directory: dir, runbook: "old")
    journal.write(
      JournalEntry(
        .outcomeUnknown,
        [("request", "r1"), ("network", "ic"), ("operation", "wallet_send"), ("canisters", .texts([Self.user]))]))
    #expect(PendingOutcome.scan(directory: dir, network: "ic", excluding: nil, within: 3600).map(\.id) == ["r1"])
    try FileManager.default.setAttributes(
      [.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: journal.path)
    #expect(PendingOutcome.scan(directory: dir, network: "ic", excluding: nil, within: 3600).isEmpty)
    #expect(PendingOutcome.scan(directory: dir, network: "local", excluding: nil).isEmpty, "another network")
  }

  /// An operator at a terminal may confirm acting again over a pending unknown outcome
  /// (`--yes` is not enough); the settle window passing releases it too.
  @Test func pendingOutcomeIsReleasedByAnOperatorOrTheSettleWindow() throws {
    let source = """
      runbook "late" version 1
      use network ic
      let wdhec: wallet = \(Self.wallet)
      step "Top up" on \(Self.user) {
        ensure cycles >= 1T via wallet wdhec
      }
      """
    let start = Harness.world { $0.faults = [.init(operation: .walletSend, kind: .timeout, times: 1)] }
    for release in ["operator", "window"] {
      let dir = try CLI.temporaryDirectory()
      let first = Harness.run(source, state: start) {
        $0.yes = true
        $0.journal = try? Journal(directory: dir, runbook: "late")
      }
      #expect(first.result.exitCode == 3)
      let again = Harness.run(source, state: first.sim.snapshot) {
        $0.journal = try? Journal(directory: dir, runbook: "late")
        if release == "operator" {
          $0.interactive = true
          $0.confirm = { _ in true }
        } else {
          $0.yes = true
          $0.settleWindow = 0
        }
      }
      #expect(again.result.exitCode == 0, "\(release): \(again.result.failure?.diagnostic.message ?? "")")
      let text = try String(contentsOfFile: again.result.journalPath ?? "", encoding: .utf8)
      #expect(text.contains("\"event\":\"reconciled\""), "\(release)")
      let later = Harness.run(source, state: first.sim.snapshot) {
        $0.yes = true
        $0.journal = try? Journal(directory: dir, runbook: "late")
      }
      #expect(later.result.exitCode == 0, "\(release): reconciled, no longer pending")
    }
  }
}

/// The process around a run: its terminal going away, tool-call economy, prompts from branches.
@Suite struct RunProcessTests {
  static let activation = [
    "run", "scripts/canister-prod-activation.rb.ic", "--yes", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
    "--param", "wasm=demo/user_service_with_metadata.wasm",
  ]

  /// The journal's events, in order.
  static func events(_ directory: String) throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".jsonl") }
    let name = try #require(names.first)
    let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
    return text.split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["event"] as? String
    }
  }

  /// Runs the activation with its standard output on `output` (a closed pipe, `/dev/full`).
  static func runWithStdout(_ dir: String, _ output: FileHandle, closeAfterStart: FileHandle? = nil) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments =
      activation + ["--sim-state", dir + "/state.json", "--journal", dir + "/runs", "--format", "text"]
    process.currentDirectoryURL = URL(fileURLWithPath: Corpus.repository)
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    try closeAfterStart?.close()
    process.waitUntilExit()
    return process.terminationStatus
  }

  static func latencyWorld(_ dir: String) throws {
    var world = SimulatedIC.demoWorld
    world.latency_ms = 60
    try SimulatedIC(state: world).save(path: dir + "/state.json")
  }

  static func converged(_ dir: String) throws -> Bool {
    let user = try #require(try SimulatedIC.load(path: dir + "/state.json").canisters["6iu47-dyaaa-aaaaf-qgeza-cai"])
    return user.controllers.count == 4 && user.module_hash == ValueFormat.hex(Harness.wasmHash)
      && (Int128(user.cycles) ?? 0) >= 1_000_000_000_000
  }

  /// `rbic run … | head -1`: the reader goes away after the first line. The run goes on, converges,
  /// and its journal ends with `run_end`.
  @Test func closedPipeDoesNotStopARunMidMutation() throws {
    let dir = try CLI.temporaryDirectory()
    try Self.latencyWorld(dir)
    let pipe = Pipe()
    let status = try Self.runWithStdout(dir, pipe.fileHandleForWriting, closeAfterStart: pipe.fileHandleForReading)
    #expect(status == 0)
    #expect(try Self.converged(dir))
    #expect(try Self.events(dir + "/runs").last == "run_end")
  }

  /// Standard output on a full disk: nothing traps; the run converges and is journaled whole.
  @Test func fullDiskOnStdoutDoesNotStopARun() throws {
    let dir = try CLI.temporaryDirectory()
    try Self.latencyWorld(dir)
    let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
    let status = try Self.runWithStdout(dir, full)
    #expect(status == 0)
    #expect(try Self.converged(dir))
    #expect(try Self.events(dir + "/runs").last == "run_end")
  }

  /// The seed's worked example through the test double: at most 10 tool calls on icp and 12 on
  /// dfx (a state read is reused until a mutation of that canister; dfx needs the stop and start
  /// around the upgrade that icp does inside its own install; the upgrade reads what the canister
  /// publishes, to keep its clients), every one journaled.
  @Test(arguments: ["icp", "dfx"])
  func workedExampleToolCallCount(_ tool: String) throws {
    let s = try ToolBackendTests.Setup(tool)
    let r = try s.run()
    #expect(r.status == 0, "\(r.stderr)")
    let calls = r.stderr.components(separatedBy: "    $ \(tool) ").count - 1
    #expect(calls <= (tool == "icp" ? 10 : 12), "\(calls) tool calls:\n\(r.stderr)")
    let journaled = try Self.events(s.dir + "/runs").filter { $0 == "command" }.count
    #expect(journaled == calls - 1, "every call but the version check (before the run) is journaled")
  }

  /// Four branches ask at once on mainnet: one question at a time, each naming its canister and
  /// action, each answer applied to exactly that action (answered y, n, y, n in the order asked).
  @Test func parallelPromptsAreAskedOneAtATime() throws {
    let fleet = (1...4).map { Principal(bytes: [0, 0, 0, 0, 0, 0x20, 0, UInt8($0), 1, 1]).text }
    var world = SimulatedIC.demoWorld
    let ci = world.identities["github-ci"]!.principal
    for id in fleet {
      world.canisters[id] = .init(
        status: .stopped, cycles: "1000000000000", module_hash: nil, controllers: [ci], memory: 1,
        freezing_threshold: 1,
        wallet: nil)
    }
    let source = """
      runbook "start-fleet" version 1
      use network ic
      let fleet: [canister] = [\(fleet.joined(separator: ", "))]
      step "Start the fleet" {
        parallel for c in fleet limit 4 {
          ensure c.status == running via start
        }
      }
      """
    let t = try ReplTerminalTests.Terminal { dir in
      FileManager.default.createFile(atPath: dir + "/fleet.rb.ic", contents: Data(source.utf8))
      try? SimulatedIC(state: world).save(path: dir + "/state.json")
      return "\(CLI.binary) run fleet.rb.ic --sim-state state.json --journal runs; echo EXIT=$?"
    }
    var answers: [String: Bool] = [:]
    for i in 0..<4 {
      let screen = try t.wait(for: "[y/N]", count: i + 1)
      let lines = screen.split(separator: "\n").map(String.init)
      #expect(
        lines.allSatisfy { $0.components(separatedBy: "[y/N]").count <= 2 }, "two prompts on one line:\n\(screen)")
      let prompt = try #require(lines.last { $0.contains("[y/N]") })
      let named = fleet.filter { prompt.contains("[\($0)] start \($0) on ic?") }
      try #require(named.count == 1, "the prompt names one canister and its action: \(prompt)")
      #expect(answers[named[0]] == nil, "asked twice about \(named[0])")
      let yes = i % 2 == 0
      answers[named[0]] = yes
      try t.keys(yes ? "y" : "n", "Enter")
    }
    try t.wait(for: "EXIT=")
    let state = try SimulatedIC.load(path: t.dir + "/state.json")
    for (id, yes) in answers {
      #expect(state.canisters[id]?.status == (yes ? .running : .stopped), "\(id) answered \(yes ? "y" : "n")")
    }
    #expect(answers.count == 4)
  }

  /// A journal that cannot be written stops the run before its first mutation (exit 3): no
  /// mutation is ever left unjournaled.
  @Test func unwritableJournalStopsBeforeAnyMutation() throws {
    let full = open("/dev/full", O_WRONLY)
    try #require(full >= 0)
    let journal = Journal(path: "/dev/full", descriptor: full)
    let r = Harness.run(Harness.activation, params: Harness.activationParams) {
      $0.yes = true
      $0.journal = journal
    }
    #expect(r.result.exitCode == 3)
    #expect(r.result.failure?.diagnostic.message.contains("the journal cannot be written") == true)
    #expect(r.sim.snapshot == SimulatedIC.demoWorld, "nothing changed")
  }
}
