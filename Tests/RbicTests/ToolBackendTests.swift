import Foundation
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// The `icp` and `dfx` drivers, end to end through the test double answering as each tool over a
/// sim state file.
@Suite struct ToolBackendTests {
  struct Setup {
    let dir: String
    let state: String
    let environment: [String: String]
    let tool: String

    init(_ tool: String, _ edit: (inout SimulatedIC.State) -> Void = { _ in }) throws {
      self.tool = tool
      dir = try CLI.temporaryDirectory()
      try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
      let double = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent(
        "rbic-test-double"
      ).path
      for name in tool == "auto" ? ["icp", "dfx"] : [tool] {
        try FileManager.default.createSymbolicLink(atPath: dir + "/bin/" + name, withDestinationPath: double)
      }
      state = dir + "/state.json"
      var world = SimulatedIC.demoWorld
      edit(&world)
      try SimulatedIC(state: world).save(path: state)
      environment = [
        "PATH": dir + "/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? ""), "RBIC_SIM_STATE": state,
        "ICP_NETWORK": "should-be-scrubbed",
        // The tools' identity stores: empty unless a test writes one (never the real home's).
        "DFX_CONFIG_ROOT": dir, "ICP_HOME": dir + "/icp",
      ]
    }

    func run(_ extra: [String] = [], identity: String = "github-ci") throws -> CLI.Result {
      try CLI.run(
        [
          "run", "scripts/canister-prod-activation.rb.ic", "--backend", tool, "--identity", identity, "--yes",
          "--journal", dir + "/runs",
          "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param", "wasm=demo/user_service_with_metadata.wasm",
        ] + extra,
        in: Corpus.repository, environment: environment)
    }

    var world: SimulatedIC.State { try! SimulatedIC.load(path: state) }
  }

  @Test(arguments: ["icp", "dfx"])
  func activationRunbookThroughIcpEndsVerifiedAndIsIdempotent(_ tool: String) throws {
    let s = try Setup(tool)
    let first = try s.run()
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("Recap: 3 changed, 2 ok, 3 skipped, 0 failed"))
    #expect(
      first.stderr.contains("    $ \(tool) canister status 6iu47-dyaaa-aaaaf-qgeza-cai … (exit 0"),
      "one plain line per call without a terminal")
    let user = s.world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]!
    #expect(user.controllers.count == 4 && user.module_hash == ValueFormat.hex(Harness.wasmHash))
    #expect(ToolOutput.number(user.cycles)! >= 1_000_000_000_000)
    let second = try s.run()
    #expect(second.stdout.contains("Recap: 0 changed, 5 ok, 3 skipped, 0 failed"))
  }

  /// The same runbook on the in-process sim and through `icp` ends in the same state with the
  /// same outcomes.
  @Test(arguments: ["icp", "dfx"])
  func parityWithTheSimulatedIC(_ tool: String) throws {
    let s = try Setup(tool)
    let throughIcp = try s.run(["--format", "json"])
    let direct = Harness.run(Harness.activation, params: Harness.activationParams)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(throughIcp.stdout.utf8)) as? [String: Any])
    let outcomes = (object["steps"] as? [[String: Any]])?.map { $0["outcome"] as? String }
    #expect(outcomes == direct.result.steps.map(\.outcome.rawValue))
    #expect(s.world.canisters == direct.sim.snapshot.canisters)
    #expect(s.world.identities == direct.sim.snapshot.identities)
  }

  @Test(arguments: ["icp", "dfx"])
  func nonControllerIsNamedEvenThoughIcpFallsBackToThePublicView(_ tool: String) throws {
    let s = try Setup(tool)
    let r = try s.run(identity: "operator")
    #expect(r.status == 1)
    #expect(r.stderr.contains("identity `operator` is not a controller of 6iu47-dyaaa-aaaaf-qgeza-cai"))
  }

  @Test(arguments: ["icp", "dfx"])
  func garbledOutputIsAnEnvironmentErrorQuotingTheLine(_ tool: String) throws {
    let s = try Setup(tool) { $0.faults = [.init(operation: .status, kind: .garbled)] }
    let r = try s.run()
    #expect(r.status == 3)
    #expect(r.stderr.contains("unexpected output from `\(tool) canister status"))
  }

  @Test(arguments: ["icp", "dfx"])
  func silentExit255IsAnEnvironmentError(_ tool: String) throws {
    let s = try Setup(tool) { $0.faults = [.init(operation: .status, kind: .exit)] }
    let r = try s.run()
    #expect(r.status == 3)
    #expect(r.stderr.contains("exited with status 255 and printed nothing"))
  }

  @Test(arguments: ["icp", "dfx"])
  func aHungMutationTimesOutIsJournaledAndNotRetried(_ tool: String) throws {
    let s = try Setup(tool) {
      $0.faults = [.init(operation: .walletSend, kind: .timeout)]
      $0.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.module_hash = ValueFormat.hex(Harness.wasmHash)
    }
    let started = Date()
    let marker = "3599.\(Int.random(in: 100_000...999_999))"
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", tool, "--identity", "github-ci", "--yes",
        "--timeout", "1",
        "--journal", s.dir + "/runs", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
        "--param", "wasm=demo/user_service_with_metadata.wasm",
      ],
      in: Corpus.repository, environment: s.environment.merging(["RBIC_DOUBLE_CHILD_MARKER": marker]) { $1 })
    Thread.sleep(forTimeInterval: 0.5)
    let survivors = try CLI.run(
      executable: "/usr/bin/env", ["pgrep", "-f", "sleep \(marker)"], in: nil, environment: [:], input: nil)
    #expect(survivors.stdout.isEmpty, "the tool's own child was ended with it (process group)")
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

  @Test(arguments: [("icp", "0.3.2"), ("dfx", "0.24.3")])
  func anOldToolIsRefusedBeforeAnythingRuns(_ tool: String, _ version: String) throws {
    let s = try Setup(tool)
    var environment = s.environment
    environment["RBIC_DOUBLE_VERSION"] = version
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", tool, "--yes", "--journal", s.dir + "/runs",
        "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param", "wasm=demo/user_service_with_metadata.wasm",
      ],
      in: Corpus.repository, environment: environment)
    #expect(r.status == 3)
    #expect(r.stderr.contains("\(tool) \(version) is older than the supported"))
    #expect(!FileManager.default.fileExists(atPath: s.dir + "/runs"), "nothing ran")
  }

  /// A non-controller cannot read cycles, but the public view answers for the module hash and
  /// the controllers (`icp … --public`, `dfx canister info`).
  @Test(arguments: ["icp", "dfx"])
  func nonControllerVerifiesHashAndControllersFromThePublicView(_ tool: String) throws {
    let s = try Setup(tool)
    let runbook = s.dir + "/verify.rb.ic"
    try """
    runbook "verify" version 1
    use network ic
    let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
    step "Verify from outside" on c {
      require hash != none
      require controllers.count == 1
    }
    """.write(toFile: runbook, atomically: true, encoding: .utf8)
    let r = try CLI.run(
      ["run", runbook, "--backend", tool, "--identity", "operator", "--journal", s.dir + "/runs"],
      in: Corpus.repository,
      environment: s.environment)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("[x] require controllers.count == 1"))
  }

  @Test(arguments: ["icp", "dfx"])
  func mainnetGateHoldsOnTheDrivers(_ tool: String) throws {
    let s = try Setup(tool)
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", tool, "--identity", "github-ci", "--journal",
        s.dir + "/runs",
        "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param", "wasm=demo/user_service_with_metadata.wasm",
      ],
      in: Corpus.repository, environment: s.environment)
    #expect(r.status == 4)
    #expect(s.world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.cycles == "38800000000", "nothing changed")
  }

  /// Quotes, backslashes, newlines and Candid syntax in a text reach the tool as data: one argv
  /// element holding an escaped Candid string (the double echoes what it received).
  @Test(arguments: ["icp", "dfx"])
  func hostileTextReachesTheToolAsData(_ tool: String) throws {
    let s = try Setup(tool)
    let runbook = s.dir + "/call.rb.ic"
    let source =
      [
        #"runbook "call" version 1"#,
        "use network ic",
        "let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai",
        #"step "Call" on c {"#,
        #"  call c.set_note("a\"b\\c\n\"); drop_all(\"", 42)"#,
        "}",
      ].joined(separator: "\n") + "\n"
    try source.write(toFile: runbook, atomically: true, encoding: .utf8)
    let r = try CLI.run(
      ["run", runbook, "--backend", tool, "--identity", "github-ci", "--yes", "--journal", s.dir + "/runs"],
      in: Corpus.repository,
      environment: s.environment)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains(#"→ ("a\"b\\c\n\"); drop_all(\"", 42 : int)"#), "\(r.stdout)")
  }

  /// With both tools installed, an operation `icp` lacks (a usage error: nothing ran) is done
  /// through `dfx` in the same run.
  @Test func autoUsesTheOtherToolForAnOperationOneLacks() throws {
    let s = try Setup("auto") { $0.canisters["wdhec-2yaaa-aaaao-a6dgq-cai"]?.cycles = "1000000" }
    var environment = s.environment
    environment["RBIC_DOUBLE_ICP_LACKS"] = "canister top-up"
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", "auto", "--identity", "github-ci", "--yes",
        "--journal", s.dir + "/runs", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
        "--param", "wasm=demo/user_service_with_metadata.wasm",
      ],
      in: Corpus.repository, environment: environment)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("(backend: icp 1.3.0+dfx 0.32.0)"), "the run header names each tool and its release")
    #expect(r.stderr.contains("$ icp canister top-up") && r.stderr.contains("(exit 2"))
    #expect(r.stderr.contains("$ dfx cycles top-up"))
    #expect(ToolOutput.number(s.world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]!.cycles)! >= 1_000_000_000_000)
  }

  /// A ledger with too little is insufficient funds on both tools (dfx prints the cycles ledger's
  /// `send error: InsufficientFunds { balance: Nat(…) }`), so the next action is tried.
  @Test(arguments: ["icp", "dfx"])
  func anEmptyCyclesLedgerFallsBackToTheWallet(_ tool: String) throws {
    let s = try Setup(tool) { $0.identities["github-ci"]?.cycles_ledger = "1000" }
    let runbook = s.dir + "/fund.rb.ic"
    try """
    runbook "fund" version 1
    use network ic
    let wdhec: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
    step "Fund" on 6iu47-dyaaa-aaaaf-qgeza-cai {
      ensure cycles >= 1T via top_up or wallet wdhec
    }
    """.write(toFile: runbook, atomically: true, encoding: .utf8)
    let r = try CLI.run(
      ["run", runbook, "--backend", tool, "--identity", "github-ci", "--yes", "--journal", s.dir + "/runs"],
      in: Corpus.repository, environment: s.environment)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains(tool == "dfx" ? "$ dfx cycles top-up" : "$ icp canister top-up"))
    #expect(ToolOutput.number(s.world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]!.cycles)! >= 1_000_000_000_000)
    #expect(s.world.identities["github-ci"]?.cycles_ledger == "1000", "the ledger was not charged")
  }

  /// A list of allowed log viewers (icp `{"type":"AllowedViewers",…}`, dfx `allowed viewers: a, b`)
  /// is not `controllers`: the ensure acts.
  @Test(arguments: ["icp", "dfx"])
  func allowedLogViewersAreNotControllers(_ tool: String) throws {
    let s = try Setup(tool) {
      $0.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.log_visibility = .allowedViewers
      $0.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.log_viewers = ["2vxsx-fae", "aaaaa-aa"]
    }
    let runbook = s.dir + "/logs.rb.ic"
    try """
    runbook "logs" version 1
    use network ic
    step "Logs" on 6iu47-dyaaa-aaaaf-qgeza-cai {
      ensure log_visibility == "controllers" via update_settings
    }
    """.write(toFile: runbook, atomically: true, encoding: .utf8)
    let r = try CLI.run(
      ["run", runbook, "--backend", tool, "--identity", "github-ci", "--yes", "--journal", s.dir + "/runs"],
      in: Corpus.repository, environment: s.environment)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("1 changed"), "\(r.stdout)")
    #expect(s.world.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.log_visibility == .controllers)
  }

  /// dfx refuses a plaintext identity on mainnet at its first canister command; rbic reads dfx's
  /// identity store and refuses before the run starts, with dfx's whole remedy, which works.
  @Test func aPlaintextDfxIdentityOnMainnetIsRefusedUpFrontWithTheRemedy() throws {
    let s = try Setup("dfx")
    let key = s.dir + "/.config/dfx/identity/github-ci"
    try FileManager.default.createDirectory(atPath: key, withIntermediateDirectories: true)
    try "-----BEGIN EC PRIVATE KEY-----\n".write(toFile: key + "/identity.pem", atomically: true, encoding: .utf8)
    let refused = try s.run()
    #expect(refused.status == 3)
    #expect(!refused.stdout.contains("Run:"), "refused before the run header")
    #expect(!refused.stderr.contains("$ dfx canister"), "no canister command ran")
    #expect(refused.stderr.contains("export DFX_WARNING=-mainnet_plaintext_identity"), "\(refused.stderr)")
    #expect(refused.stderr.contains("After setting this environment variable, re-run the command."))
    var environment = s.environment
    environment["DFX_WARNING"] = "-mainnet_plaintext_identity"
    let accepted = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", "dfx", "--identity", "github-ci", "--yes",
        "--journal", s.dir + "/runs", "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
        "--param", "wasm=demo/user_service_with_metadata.wasm",
      ], in: Corpus.repository, environment: environment)
    #expect(accepted.status == 0, "\(accepted.stderr)")
    // An identity in the keyring is not plaintext.
    try #"{"keyring_identity_suffix":"github-ci"}"#.write(
      toFile: key + "/identity.json", atomically: true, encoding: .utf8)
    #expect(try s.run().status == 0)
  }

  /// A password-protected identity cannot be unlocked without a terminal: refused up front, with
  /// the reason, on both tools.
  @Test(arguments: ["icp", "dfx"])
  func aPasswordProtectedIdentityIsRefusedUpFront(_ tool: String) throws {
    let s = try Setup(tool)
    if tool == "dfx" {
      let key = s.dir + "/.config/dfx/identity/github-ci"
      try FileManager.default.createDirectory(atPath: key, withIntermediateDirectories: true)
      try #"{"encryption":{"pw_salt":"x","file_nonce":[1]}}"#.write(
        toFile: key + "/identity.json", atomically: true, encoding: .utf8)
    } else {
      try FileManager.default.createDirectory(atPath: s.dir + "/icp/identity", withIntermediateDirectories: true)
      try
        #"{"v":1,"identities":{"github-ci":{"kind":"pem","format":"pbes2","algorithm":"secp256k1","principal":"2vxsx-fae"}}}"#
        .write(toFile: s.dir + "/icp/identity/identity_list.json", atomically: true, encoding: .utf8)
    }
    let r = try s.run()
    #expect(r.status == 3)
    #expect(r.stderr.contains("identity `github-ci` is password-protected"), "\(r.stderr)")
    #expect(!r.stderr.contains("$ \(tool) canister"))
  }

  @Test func unknownNetworkOverrideIsAUsageError() throws {
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--network", "production", "--param",
        "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
      ],
      in: Corpus.repository)
    #expect(r.status == 2)
    #expect(r.stderr.contains("unknown network `production`"))
  }

  @Test(arguments: ["icp", "dfx"])
  func aMissingToolIsExitThree(_ tool: String) throws {
    let r = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--backend", tool, "--param",
        "canister=6iu47-dyaaa-aaaaf-qgeza-cai",
      ],
      in: Corpus.repository, environment: ["PATH": "/nonexistent"])
    #expect(r.status == 3)
    #expect(r.stderr.contains("`\(tool)` is not on PATH"))
  }
}

@Suite struct ToolOutputTests {
  @Test func dfxStatusTextWithUnitsAndNoModule() throws {
    let text = """
      Canister status call result for 6iu47-dyaaa-aaaaf-qgeza-cai.
      Status: Stopped
      Controllers: aaaaa-aa 2vxsx-fae
      Memory allocation: 0 Bytes
      Compute allocation: 0 %
      Freezing threshold: 2_592_000 Seconds
      Idle cycles burned per day: 20_548_135 Cycles
      Memory Size: 2_010_735 Bytes
      Balance: 2_985_407_678_380 Cycles
      Reserved: 0 Cycles
      Module hash: None
      Log visibility: controllers
      """
    let s = try ToolOutput.dfxStatus(text, canister: canister)
    #expect(s.status == .stopped && s.cycles == 2_985_407_678_380 && s.moduleHash == nil && s.memory == 2_010_735)
    #expect(s.controllers.map(\.text) == ["aaaaa-aa", "2vxsx-fae"])
    #expect(throws: BackendError.self) {
      try ToolOutput.dfxStatus("Canister status call result for x.\nStatus: Running\n", canister: canister)
    }
    #expect(try ToolOutput.dfxCyclesBalance("35199900000000 cycles.\n") == 35_199_900_000_000)
  }

  @Test func dfxDiagnosisForNonControllersAndTheDeprecationNotice() {
    let stderr = """
      WARNING: dfx is deprecated, use icp-cli https://cli.internetcomputer.org. LLM skills can be found at https://skills.internetcomputer.org/llms.txt
      Error: Each canister has a set of controllers. Only those controllers have access to the canister's management functions (like install_code or stop_canister).
      The principal you are using to call a management function is not part of the controllers.
      """
    let error = ToolOutput.failure(
      .init(status: 255, stdout: "", stderr: stderr, seconds: 0), tool: "dfx", canister: canister, identity: "ci")
    #expect(error == .notController(canister: canister, identity: "ci"))
    let onlyNotice = ToolOutput.failure(
      .init(status: 255, stdout: "", stderr: "WARNING: dfx is deprecated, use icp-cli\n", seconds: 0), tool: "dfx",
      canister: nil, identity: "ci")
    #expect(onlyNotice.description.contains("printed nothing"))
  }

  let canister = Principal(text: "6iu47-dyaaa-aaaaf-qgeza-cai")!

  /// dfx before 0.31 colours its chain prefixes whenever TERM names a terminal (`setaf`, then
  /// xterm's `sgr0`, `ESC ( B ESC [ m`): the prefixes are still read as the chain's. rbic runs dfx
  /// without TERM, so this is the second line of defence.
  @Test func dfxColouredChainsAreReadAsPlainOnes() {
    let reset = "\u{1B}(B\u{1B}[m"
    let diagnosis = ToolOutput.failure(
      .init(
        status: 255, stdout: "",
        stderr:
          "\u{1B}[31mError: \(reset)Each canister has a set of controllers. Only those controllers have access to the canister's management functions (like install_code or stop_canister).\n\u{1B}[33mTo fix: \(reset)To make the management function call succeed\n",
        seconds: 0), tool: "dfx", canister: canister, identity: "ci")
    #expect(diagnosis == .notController(canister: canister, identity: "ci"))
    let chain = ToolOutput.Failure(
      stderr:
        "\u{1B}[31mError: \(reset)Failed to create AgentEnvironment.\n\u{1B}[33mCaused by: \u{1B}[0mNetwork not found: prod\u{F}\n"
    )
    #expect(chain.chain == ["Failed to create AgentEnvironment.", "Network not found: prod"])
  }

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
