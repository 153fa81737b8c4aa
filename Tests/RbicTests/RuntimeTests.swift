import Foundation
import RbicCandid
import RbicDiagnostics
import RbicTooling
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// Runs source on a simulated IC through the embedding API.
enum Harness {
  static let repository = Corpus.repository
  static let wasm = repository + "/demo/user_service_with_metadata.wasm"
  static let wasmHash = Hashing.sha256(Array(FileManager.default.contents(atPath: wasm)!))
  static let activation = String(
    decoding: FileManager.default.contents(atPath: repository + "/scripts/canister-prod-activation.rb.ic")!,
    as: UTF8.self)
  static let userService = Principal(text: "6iu47-dyaaa-aaaaf-qgeza-cai")!
  static let activationParams = ["canister": userService.text, "wasm": wasm]

  struct Outcome {
    var result: RunResult
    var sim: SimulatedIC
    var output: [String]
    var state: CanisterState { try! sim.status(userService) }
  }

  final class Lines: @unchecked Sendable {
    let lock = NSLock()
    var lines: [String] = []
    func add(_ s: String) { lock.withLock { lines.append(s) } }
  }

  static func run(
    _ source: String, state: SimulatedIC.State = SimulatedIC.demoWorld, params: [String: String] = [:],
    mode: RunOptions.Mode = .run, identity: String? = nil, registry: Registry = .standard,
    configure: (inout RunOptions) -> Void = { $0.yes = true }
  ) -> Outcome {
    let engine = Engine(registry: registry)
    let program = engine.compile(
      source: Array(source.utf8), path: repository + "/scripts/test.rb.ic", options: .init(projectDirectory: repository)
    )
    #expect(!program.hasErrors, "\(DiagnosticRenderer(files: program.files, style: .tool).render(program.diagnostics))")
    let sim = SimulatedIC(state: state, identity: identity)
    let lines = Lines()
    var options = RunOptions(projectDirectory: repository, environment: ["RBIC_TEST_SECRET": "hunter2"])
    options.mode = mode
    options.params = params
    options.print = { lines.add($0) }
    options.progress = { lines.add($0) }
    configure(&options)
    let result = engine.run(program, backend: sim, options: options)
    return Outcome(result: result, sim: sim, output: lines.lines)
  }

  static func world(_ edit: (inout SimulatedIC.State) -> Void) -> SimulatedIC.State {
    var s = SimulatedIC.demoWorld
    edit(&s)
    return s
  }

  static func verified(_ s: CanisterState) -> Bool {
    s.moduleHash == wasmHash && s.cycles >= 1_000_000_000_000 && s.controllers.count == 4 && s.status == .running
  }
}

@Suite struct ActivationRunbookTests {
  @Test func workedExampleEndsVerifiedAndSecondRunChangesNothing() {
    let first = Harness.run(Harness.activation, params: Harness.activationParams)
    #expect(first.result.exitCode == 0, "\(first.result.failure?.diagnostic.message ?? "")")
    #expect(Harness.verified(first.state))
    #expect(
      first.result.steps.map(\.outcome) == [.skipped, .skipped, .changed, .changed, .changed, .skipped, .ok, .ok])
    let wallet = try! first.sim.status(Principal(text: "wdhec-2yaaa-aaaao-a6dgq-cai")!)
    #expect(
      wallet.cycles == 11_165_000_000_000 - (1_000_000_000_000 - 38_800_000_000 + 10_000_000_000),
      "deficit plus the 1% margin")

    let second = Harness.run(Harness.activation, state: first.sim.snapshot, params: Harness.activationParams)
    #expect(second.result.exitCode == 0)
    #expect(second.result.recap.changed == 0)
    #expect(second.sim.snapshot == first.sim.snapshot)
  }

  @Test func emptyCanisterGetsAFreshInstall() {
    let state = Harness.world { $0.canisters[Harness.userService.text]?.module_hash = nil }
    let run = Harness.run(Harness.activation, state: state, params: Harness.activationParams)
    #expect(run.result.exitCode == 0)
    #expect(run.result.steps[2].changes.first?.text.contains("via install ") == true)
    #expect(Harness.verified(run.state))
  }

  @Test func currentModuleIsLeftAlone() {
    let state = Harness.world {
      $0.canisters[Harness.userService.text]?.module_hash = ValueFormat.hex(Harness.wasmHash)
    }
    let run = Harness.run(Harness.activation, state: state, params: Harness.activationParams)
    #expect(run.result.exitCode == 0)
    #expect(run.result.steps[2].outcome == .ok)
    #expect(run.result.steps[3].outcome == .changed)
    #expect(Harness.verified(run.state))
  }

  @Test func silentForwardFailsLoudlyWithBothValues() {
    let state = Harness.world {
      $0.faults = [.init(operation: .walletSend, kind: .silentForward)]
      $0.identities["github-ci"]?.cycles_ledger = "0"
    }
    let run = Harness.run(Harness.activation, state: state, params: Harness.activationParams)
    #expect(run.result.exitCode == 1)
    let d = run.result.failure!.diagnostic
    #expect(d.message == "ensure failed: cycles >= 1T")
    #expect(d.labels.map(\.text) == ["38.8B", "1T"])
    #expect(d.notes.contains { $0.message.contains("reported success") })
    #expect(run.result.steps[3].outcome == .failed)
    #expect(run.result.steps[3].warnings.contains { $0.contains("`wallet` reported success") })
  }

  @Test func silentForwardIsAWarningEvenWhenTopUpRescues() {
    let state = Harness.world { $0.faults = [.init(operation: .walletSend, kind: .silentForward)] }
    let run = Harness.run(Harness.activation, state: state, params: Harness.activationParams)
    #expect(run.result.exitCode == 0)
    #expect(run.result.steps[3].warnings.contains { $0.contains("`wallet` reported success") })
    #expect(run.result.steps[3].changes.first?.text.contains("via top_up") == true)
  }

  @Test func poorWalletFallsBackToTopUp() {
    let state = Harness.world { $0.canisters["wdhec-2yaaa-aaaao-a6dgq-cai"]?.cycles = "100000000000" }
    let run = Harness.run(Harness.activation, state: state, params: Harness.activationParams)
    #expect(run.result.exitCode == 0)
    #expect(run.result.steps[3].changes.first?.text.contains("via top_up") == true)
    #expect(run.output.contains { $0.contains("wallet cannot apply") && $0.contains("holds 100B") })
    #expect(Harness.verified(run.state))
  }

  @Test func nonControllerIdentityIsNamed() {
    let run = Harness.run(Harness.activation, params: Harness.activationParams, identity: "operator")
    #expect(run.result.exitCode == 1)
    let message = run.result.failure!.diagnostic.message
    #expect(message.contains("`operator`") && message.contains(Harness.userService.text))
  }

  @Test func nonControllerReadsThePublicViewButNotCycles() {
    let source = """
      runbook "t" version 1
      let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
      step "Public" on c {
        require hash != none and controllers.count == 1
      }
      step "Private" on c {
        require cycles >= 1B
      }
      """
    let r = Harness.run(source, identity: "operator")
    #expect(r.result.steps.map(\.outcome) == [.ok, .failed])
    #expect(r.result.failure?.diagnostic.message.contains("`operator` is not a controller") == true)
  }

  @Test func planPredictsAndChangesNothing() {
    let before = SimulatedIC.demoWorld
    let run = Harness.run(Harness.activation, params: Harness.activationParams, mode: .plan)
    #expect(run.result.exitCode == 0)
    #expect(
      run.result.steps.map(\.outcome) == [
        .skipped, .skipped, .wouldChange, .wouldChange, .wouldChange, .skipped, .ok, .ok,
      ])
    #expect(run.sim.snapshot == before, "plan never mutates the backend")
    #expect(
      run.result.steps[3].changes.map(\.text) == [
        "cycles: 38.8B → 1.01T via wallet wdhec-2yaaa-aaaao-a6dgq-cai (would send 971.2B)"
      ])
  }
}

@Suite struct SafetyGateTests {
  let topUp = """
    runbook "t" version 1
    use network ic
    let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
    step "Top up" on c {
      ensure cycles >= 1T via top_up
    }
    """

  @Test func mainnetMutationWithoutTerminalOrYesIsRefused() {
    let run = Harness.run(topUp) { $0.yes = false }
    #expect(run.result.exitCode == 4)
    #expect(run.result.failure!.diagnostic.message.contains("need confirmation"))
    #expect(try! run.sim.status(Harness.userService).cycles == 38_800_000_000)
  }

  @Test func operatorCanDeclineOrAccept() {
    let declined = Harness.run(topUp) {
      $0.yes = false
      $0.interactive = true
      $0.confirm = { _ in false }
    }
    #expect(declined.result.exitCode == 4)
    let accepted = Harness.run(topUp) {
      $0.yes = false
      $0.interactive = true
      $0.confirm = { _ in true }
    }
    #expect(accepted.result.exitCode == 0)
  }

  @Test func readOnlyRefusesEveryMutation() {
    let run = Harness.run(topUp) { $0.readOnly = true }
    #expect(run.result.exitCode == 4)
    #expect(run.result.failure!.diagnostic.message.contains("--read-only"))
  }

  @Test func cyclesCeilingRefusesTypos() {
    let source = topUp.replacingOccurrences(of: "via top_up", with: "via top_up amount 1000T")
    let run = Harness.run(source)
    #expect(run.result.exitCode == 4)
    #expect(run.result.failure!.diagnostic.message.contains("ceiling of 10T"))
  }

  @Test func setControllersNeverDropsTheActingIdentity() {
    let source = """
      runbook "t" version 1
      let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
      step "Controllers" on c {
        ensure controllers == [hzlpj-e6tp4-utvf2-cllfw-mcuxn-gwpde-hwmyc-zeh33-rv7md-w7rxh-2qe] via set_controllers
      }
      """
    let run = Harness.run(source)
    #expect(run.result.exitCode == 4)
    #expect(run.result.failure!.diagnostic.message.contains("would remove the acting identity"))
  }
}

@Suite struct InterpreterTests {
  func run(_ body: String) -> Harness.Outcome { Harness.run("runbook \"t\" version 1\n" + body) }

  @Test func overflowIsARuntimeErrorWithALocation() {
    let r = run("let big = 9_223_372_036_854_775_807\nprint big + 1\n")
    #expect(r.result.exitCode == 1)
    #expect(r.result.failure!.diagnostic.message == "overflow in `+`")
    #expect(r.result.failure!.diagnostic.range.start > 0)
  }

  @Test func runawayRecursionHitsTheCallDepth() {
    let r = run("fn f(n: int) -> int {\n  return f(n + 1)\n}\nprint f(0)\n")
    #expect(r.result.exitCode == 1)
    #expect(r.result.failure!.diagnostic.message.contains("deeper than 200"))
  }

  @Test func stepLimitStopsLongLoops() {
    let r = Harness.run(
      "runbook \"t\" version 1\nfn f(n: int) -> int {\n  if n == 0 { return 0 }\n  return f(n - 1)\n}\nfor i in [1, 2, 3] {\n  print f(100)\n}\n"
    ) {
      $0.maxSteps = 50
    }
    #expect(r.result.exitCode == 1)
    #expect(r.result.failure!.diagnostic.message.contains("limit of 50 steps"))
  }

  @Test func wallClockLimitStopsSlowRuns() {
    let state = Harness.world { $0.latency_ms = 100 }
    let r = Harness.run(Harness.activation, state: state, params: Harness.activationParams) {
      $0.yes = true
      $0.timeLimit = 0.15
    }
    #expect(r.result.exitCode == 1)
    #expect(r.result.failure!.diagnostic.message.contains("time limit of 0.15 s"))
  }

  @Test func arithmeticUnitsAndFormatting() {
    let r = run(
      "print 1T + 24B\nprint 38.8B\nprint 4KiB * 2\nprint 90s\nprint 0.5ICP + 0.25ICP\nprint [1, 2][1]\nprint env(\"NOPE\") ?? \"unset\"\nprint 7 / 2\nprint 10T / 4T\n"
    )
    #expect(r.result.exitCode == 0)
    #expect(r.output == ["1.024T", "38.8B", "8KiB", "1min 30s", "0.75ICP", "2", "unset", "3", "2"])
  }

  @Test func indexOutOfRangeAndDivisionByZero() {
    #expect(run("print [1][3]\n").result.failure?.diagnostic.message == "index 3 is out of range for a list of 1")
    #expect(run("let z = 0\nprint 1 / z\n").result.failure?.diagnostic.message == "division by zero in `/`")
  }

  @Test func requireShowsSubExpressionValues() {
    let r = run("let a = 2T\nrequire a >= 3T else \"need more\"\n")
    #expect(r.result.exitCode == 1)
    let d = r.result.failure!.diagnostic
    #expect(d.message == "require failed: a >= 3T: need more")
    #expect(d.labels.map(\.text) == ["2T", "3T"])
  }

  @Test func missingParamIsAUsageErrorBeforeAnythingRuns() {
    let r = Harness.run(
      "runbook \"p\" version 1\nparam canister: canister\nstep \"s\" on canister {\n  require cycles > 0\n}\n",
      params: [:])
    #expect(r.result.exitCode == 2)
    #expect(r.result.failure!.diagnostic.message.contains("missing required param `canister`"))
    #expect(r.result.steps.isEmpty)
  }

  @Test func paramsUseTheLiteralRules() {
    #expect(ParamParser.parse("1.5T", as: .cycles) == .cycles(1_500_000_000_000))
    #expect(ParamParser.parse("1.0001K", as: .cycles) == nil)
    #expect(ParamParser.parse("wdhec-2yaaa-aaaao-a6dgq-cai", as: .wallet) != nil)
    #expect(ParamParser.parse("wdhec-2yaaa-aaaao-a6dgq-caj", as: .wallet) == nil)
    #expect(ParamParser.parse("a,b", as: .list(.text)) == .list([.text("a"), .text("b")]))
    #expect(ParamParser.parse("none", as: .optional(.int)) == Value.none)
  }

  @Test func candidTextIsEscapedData() {
    #expect(CandidText.quote("a\"b\\c\nd") == #""a\"b\\c\nd""#)
    #expect(CandidText.quote("\u{1}") == #""\u{1}""#)
    #expect(
      Candid.encode([.list([.text("x\"); drop"), .principal(Harness.userService)])])
        == #"(vec { "x\"); drop"; principal "6iu47-dyaaa-aaaaf-qgeza-cai" })"#)
    #expect(Candid.redacted([.secret(Secret("hunter2"))]) == "(\"<secret>\")")
  }

  @Test func parallelFleetTopsUpEveryCanister() {
    let source = """
      runbook "fleet" version 1
      let fleet: [canister] = [6iu47-dyaaa-aaaaf-qgeza-cai, mwutv-4iaaa-aaaac-behda-cai]
      let wdhec: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
      parallel for c in fleet limit 2 {
        step "Top up {c}" on c {
          ensure cycles >= 3T via wallet wdhec or top_up
        }
      }
      """
    let r = Harness.run(source)
    #expect(r.result.exitCode == 0)
    #expect(r.result.steps.count == 2 && r.result.steps.allSatisfy { $0.outcome == .changed })
    for id in ["6iu47-dyaaa-aaaaf-qgeza-cai", "mwutv-4iaaa-aaaac-behda-cai"] {
      #expect(try! r.sim.status(Principal(text: id)!).cycles >= 3_000_000_000_000)
    }
  }

  /// A canister listed twice in a fleet is topped up once: the second branch waits for the
  /// first's whole ensure and then finds the condition holds; mutations of one canister never overlap.
  @Test func duplicateFleetEntryIsToppedUpOnce() {
    let source = """
      runbook "fleet" version 1
      let fleet: [canister] = [6iu47-dyaaa-aaaaf-qgeza-cai, 6iu47-dyaaa-aaaaf-qgeza-cai, 6iu47-dyaaa-aaaaf-qgeza-cai]
      parallel for c in fleet limit 3 {
        step "Top up {c}" on c {
          ensure cycles >= 1T via top_up
        }
      }
      """
    let state = Harness.world { $0.latency_ms = 30 }
    let r = Harness.run(source, state: state)
    #expect(r.result.exitCode == 0)
    #expect(r.result.steps.map(\.outcome).sorted { $0.rawValue < $1.rawValue } == [.changed, .ok, .ok])
    #expect(r.state.cycles == 38_800_000_000 + 971_200_000_000, "one top-up of deficit plus margin, not three")
    #expect(r.sim.maxConcurrentMutations == 1)
  }

  @Test func journalRecordsEveryActionAndNeverASecret() throws {
    let dir = try CLI.temporaryDirectory()
    let source = """
      runbook "journaled" version 1
      let token = secret_env("RBIC_TEST_SECRET")
      let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
      step "Top up and call" on c {
        ensure cycles >= 1T via top_up
        call c.set_token(token)
      }
      """
    let journal = try Journal(directory: dir, runbook: "journaled")
    let r = Harness.run(source) {
      $0.yes = true
      $0.journal = journal
    }
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    let text = try String(contentsOfFile: journal.path, encoding: .utf8)
    #expect(!text.contains("hunter2"))
    let events = text.split(separator: "\n").map { line in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
    }
    #expect(!events.contains(nil), "every line is a JSON object")
    #expect(events.first == "run_start" && events.last == "run_end")
    #expect(events.contains("action_start") && events.contains("action_end") && events.contains("call"))
  }
}

@Suite struct EmbeddingTests {
  /// A host adds a builtin and an action; the runbook uses both, the checker knows their types.
  @Test func hostDefinedBuiltinAndAction() {
    var registry = Registry.standard
    registry.register(
      BuiltinSignature("ticket", [], result: .text, summary: "the incident ticket"), body: { _, _ in .text("INC-42") })
    registry.register(
      ActionSignature(
        "restart", converges: [.comparison(.status, .equal)], summary: "restarts through the host"),
      body: { request, context throws(RuntimeError) in
        try context.act(
          Effect("restart", target: .canisters([request.canister]), description: "restart \(request.canister.text)"),
          summary: "restart (\(request.canister.text))"
        ) { (b) throws(BackendError) in try b.start(request.canister) }
      })
    let source = """
      runbook "host" version 1
      let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
      step "Back up for {ticket()}" on c {
        ensure status == running via restart
      }
      """
    let state = Harness.world { $0.canisters[Harness.userService.text]?.status = .stopped }
    let r = Harness.run(source, state: state, registry: registry)
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.result.steps.first?.title == "Back up for INC-42")
    #expect(
      r.result.steps.first?.changes.map(\.text) == [
        "status: stopped → running via restart (6iu47-dyaaa-aaaaf-qgeza-cai)"
      ])
    #expect(r.state.status == .running)
  }
}

@Suite struct JournalReportTests {
  @Test func reportRendersTheRunAsMarkdown() throws {
    let dir = try CLI.temporaryDirectory()
    let journal = try Journal(directory: dir, runbook: "canister-production-activation")
    let run = Harness.run(Harness.activation, params: Harness.activationParams) {
      $0.yes = true
      $0.journal = journal
    }
    #expect(run.result.exitCode == 0)
    let markdown = try RunReport.markdown(journalPath: journal.path)
    #expect(markdown.hasPrefix("# Run report: canister-production-activation v2"))
    #expect(markdown.contains("### 4. Top up cycles to 1T"))
    #expect(markdown.contains("action `wallet_send` on `6iu47-dyaaa-aaaaf-qgeza-cai` amount 971200000000"))
    #expect(markdown.contains("**Outcome: skipped**: the production oracle bridge is not live yet"))
    #expect(markdown.contains("3 changed, 2 ok, 3 skipped, 0 failed — exit 0"))
    #expect(markdown.contains("`oracle_live` = `false`"))
  }

  @Test func interruptionStopsAtTheNextStatementAndIsJournaled() throws {
    let dir = try CLI.temporaryDirectory()
    let journal = try Journal(directory: dir, runbook: "slow")
    let state = Harness.world { $0.latency_ms = 150 }
    let cancellation = Cancellation()
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { cancellation.cancel() }
    let run = Harness.run(Harness.activation, state: state, params: Harness.activationParams) {
      $0.yes = true
      $0.journal = journal
      $0.cancellation = cancellation
    }
    #expect(run.result.exitCode == 130)
    #expect(run.result.steps.count < 8, "the run stopped before its last step")
    let text = try String(contentsOfFile: journal.path, encoding: .utf8)
    #expect(text.contains("\"event\":\"interrupted\""))
    #expect(text.contains("\"event\":\"run_end\""))
  }
}

/// Exact values where exactness matters: `print` and string interpolation show hashes in full
/// and cycles to the last digit; progress lines abbreviate.
@Suite struct ExactValueTests {
  @Test func printAndInterpolationAreExact() {
    let r = Harness.run(
      """
      runbook "exact" version 1
      let amount: cycles = 38_812_345_678
      let h = 0x9ef26765a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5ae98e9f7
      print amount
      print "balance {amount}, module {h}"
      print 1T + 500B
      """)
    #expect(r.result.exitCode == 0)
    #expect(r.output.contains("38.812345678B"), "\(r.output)")
    #expect(
      r.output.contains(
        "balance 38.812345678B, module 0x9ef26765a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5ae98e9f7"))
    #expect(r.output.contains("1.5T"))
    #expect(ValueFormat.cycles(38_812_345_678) == "38.812B", "progress lines abbreviate")
    #expect(ValueFormat.cycles(1_000_000_000_001, exact: true) == "1.000000000001T")
    #expect(ValueFormat.cycles(-2_500, exact: true) == "-2.5K")
  }
}

@Suite struct InterfaceParamTests {
  /// A param typed with an imported interface takes a canister id on the command line.
  @Test func aParamTypedWithAnInterfaceTakesACanisterID() {
    let r = Harness.run(
      """
      runbook "typed" version 1
      import "user_service.did" as UserService
      param c: UserService
      print c.cycles
      """, params: ["c": "6iu47-dyaaa-aaaaf-qgeza-cai"])
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.output.contains("38.8B"))
  }
}
