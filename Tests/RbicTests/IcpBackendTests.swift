import Foundation
import Testing

@testable import RbicRuntime

/// The `icp` driver, end to end through the test double answering as `icp` over a sim state file.
@Suite struct IcpBackendTests {
  struct Setup {
    let dir: String
    let state: String
    let environment: [String: String]

    init(_ edit: (inout SimulatedIC.State) -> Void = { _ in }) throws {
      dir = try CLI.temporaryDirectory()
      try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
      let double = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent(
        "rbic-test-double"
      ).path
      try FileManager.default.createSymbolicLink(atPath: dir + "/bin/icp", withDestinationPath: double)
      state = dir + "/state.json"
      var world = SimulatedIC.demoWorld
      edit(&world)
      try SimulatedIC(state: world).save(path: state)
      environment = [
        "PATH": dir + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? ""), "RBIC_SIM_STATE": state,
        "ICP_NETWORK": "should-be-scrubbed",
      ]
    }

    func run(_ extra: [String] = [], identity: String = "github-ci") throws -> CLI.Result {
      try CLI.run(
        [
          "run", "scripts/canister-prod-activation.rb.ic", "--backend", "icp", "--identity", identity, "--yes",
          "--journal", dir + "/runs",
          "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param", "wasm=demo/user_service_with_metadata.wasm",
        ] + extra,
        in: Corpus.repository, environment: environment)
    }

    var world: SimulatedIC.State { try! SimulatedIC.load(path: state) }
  }

  @Test func activationRunbookThroughIcpEndsVerifiedAndIsIdempotent() throws {
    let s = try Setup()
    let first = try s.run()
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("Recap: 3 changed, 1 ok, 1 skipped, 0 failed"))
    let user = s.world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]!
    #expect(user.controllers.count == 4 && user.module_hash == ValueFormat.hex(Harness.wasmHash))
    #expect(ToolOutput.number(user.cycles)! >= 1_000_000_000_000)
    let second = try s.run()
    #expect(second.stdout.contains("Recap: 0 changed, 4 ok, 1 skipped, 0 failed"))
  }

  /// The same runbook on the in-process sim and through `icp` ends in the same state with the
  /// same outcomes.
  @Test func parityWithTheSimulatedIC() throws {
    let s = try Setup()
    let throughIcp = try s.run(["--format", "json"])
    let direct = Harness.run(Harness.activation, params: Harness.activationParams)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(throughIcp.stdout.utf8)) as? [String: Any])
    let outcomes = (object["steps"] as? [[String: Any]])?.map { $0["outcome"] as? String }
    #expect(outcomes == direct.result.steps.map(\.outcome.rawValue))
    #expect(s.world.canisters == direct.sim.snapshot.canisters)
    #expect(s.world.identities == direct.sim.snapshot.identities)
  }

  @Test func nonControllerIsNamedEvenThoughIcpFallsBackToThePublicView() throws {
    let s = try Setup()
    let r = try s.run(identity: "operator")
    #expect(r.status == 1)
    #expect(r.stderr.contains("identity `operator` is not a controller of 6iu47-dyaaa-aaaaf-qgeza-cai"))
  }

  @Test func garbledOutputIsAnEnvironmentErrorQuotingTheLine() throws {
    let s = try Setup { $0.faults = [.init(operation: "status", kind: "garbled")] }
    let r = try s.run()
    #expect(r.status == 3)
    #expect(r.stderr.contains("unexpected output from `icp canister status --json`"))
  }

  @Test func silentExit255IsAnEnvironmentError() throws {
    let s = try Setup { $0.faults = [.init(operation: "status", kind: "exit")] }
    let r = try s.run()
    #expect(r.status == 3)
    #expect(r.stderr.contains("exited with status 255 and printed nothing"))
  }

  @Test func aHungMutationTimesOutIsJournaledAndNotRetried() throws {
    let s = try Setup {
      $0.faults = [.init(operation: "wallet_send", kind: "timeout")]
      $0.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.module_hash = ValueFormat.hex(Harness.wasmHash)
    }
    let started = Date()
    let r = try s.run(["--timeout", "1"])
    #expect(r.status == 3, "\(r.stderr)")
    #expect(Date().timeIntervalSince(started) < 30)
    #expect(r.stderr.contains("is unknown"))
    #expect(
      s.world.identities["github-ci"]?.cycles_ledger == "5000000000000",
      "top_up was not tried after the unknown outcome")
    let journal = try FileManager.default.contentsOfDirectory(atPath: s.dir + "/runs").first.map {
      try String(contentsOfFile: s.dir + "/runs/" + $0, encoding: .utf8)
    }
    #expect(journal?.contains("\"event\":\"outcome_unknown\"") == true)
  }

  @Test func aMissingToolIsExitThree() throws {
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", "icp", "--param",
        "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
      ],
      in: Corpus.repository, environment: ["PATH": "/nonexistent"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("`icp` is not on PATH"))
  }
}

@Suite struct ToolOutputTests {
  let canister = Principal(text: "6iu47-dyaaa-aaaaf-qgeza-cai")!

  @Test func icpStatusJSONWithUnderscoresAndNoModule() throws {
    let json =
      #"{"id":"6iu47-dyaaa-aaaaf-qgeza-cai","status":"Running","settings":{"controllers":["aaaaa-aa"],"compute_allocation":"0","freezing_threshold":"2_592_000"},"module_hash":null,"memory_size":"3_580_000","cycles":"38_800_000_000","reserved_cycles":"0"}"#
    let s = try ToolOutput.icpStatus(json + "\n", canister: canister, identity: "ci")
    #expect(s.cycles == 38_800_000_000 && s.moduleHash == nil && s.status == .running)
    #expect(s.controllers.map(\.text) == ["aaaaa-aa"] && s.memory == 3_580_000 && s.freezingThreshold == 2_592_000)
  }

  @Test func publicViewMeansNotAController() {
    let json = #"{"id":"6iu47-dyaaa-aaaaf-qgeza-cai","controllers":["aaaaa-aa"],"module_hash":null}"#
    #expect(throws: BackendError.notController(canister: canister, identity: "ci")) {
      try ToolOutput.icpStatus(json, canister: canister, identity: "ci")
    }
  }

  @Test func truncatedJSONIsQuotedNotGuessed() {
    #expect(throws: BackendError.environment("unexpected output from `icp canister status --json`: `{\"id\":\"6iu47`"))
    {
      try ToolOutput.icpStatus(#"{"id":"6iu47"#, canister: canister, identity: "ci")
    }
  }

  @Test func balancesAndErrors() throws {
    #expect(try ToolOutput.cyclesBalance("Balance: 1_000_000_000_000_000 cycles\n") == 1_000_000_000_000_000)
    #expect(try ToolOutput.cyclesBalance("Balance: 0 cycles") == 0)
    let reject = ToolRunner.Output(
      status: 1, stdout: "",
      stderr:
        "Error: failed\n\nCaused by:\n    The replica returned a rejection error: reject code CanisterError, reject message trapped, error code Some(\"IC0503\")\n",
      seconds: 0)
    guard case .reject(let code, _) = ToolOutput.failure(reject, tool: "icp", canister: canister, identity: "ci") else {
      Issue.record("not a reject")
      return
    }
    #expect(code == "IC0503")
    let panic = ToolRunner.Output(
      status: 101, stdout: "", stderr: "thread 'main' panicked at src/main.rs:1\n", seconds: 0)
    #expect(
      ToolOutput.failure(panic, tool: "icp", canister: nil, identity: "ci").description.contains("crashed (exit 101)"))
    let funds = ToolRunner.Output(
      status: 1, stdout: "",
      stderr:
        "Error: failed to top up: Insufficient cycles. Requested: 10_000_000_000_000 cycles, balance: 0 cycles.\n",
      seconds: 0)
    guard case .insufficientFunds = ToolOutput.failure(funds, tool: "icp", canister: canister, identity: "ci") else {
      Issue.record("not insufficient funds")
      return
    }
    #expect(throws: Never.self) { try ToolOutput.walletSendReply("(variant { 17_724 })\n") }
    do {
      try ToolOutput.walletSendReply("(variant { 3_456_837 = \"Insufficient balance\" })")
      Issue.record("an Err reply was taken for Ok")
    } catch .insufficientFunds {
    } catch {
      Issue.record("an Err reply about the balance should be insufficient funds, not \(error)")
    }
  }
}
