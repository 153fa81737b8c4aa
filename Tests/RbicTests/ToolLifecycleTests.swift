import Foundation
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// The lifecycle operations through `icp` and `dfx`, driven as subprocesses against the test
/// double (which prints what each tool prints), and the tools' failures classified by structure.
@Suite struct ToolLifecycleTests {
  static let user = Principal(text: "6iu47-dyaaa-aaaaf-qgeza-cai")!

  /// Runs `body` on a thread of its own: a tool call blocks its thread while the subprocess runs
  /// on the concurrency pool, so tests (which run on that pool) must not make it from there.
  static func offPool(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
      Thread.detachNewThread {
        do {
          try body()
          c.resume()
        } catch {
          c.resume(throwing: error)
        }
      }
    }
  }

  /// A driver for `tool` over a fresh copy of the demo world (edited), and that world's file.
  static func backend(_ tool: ToolBackend.Tool, _ edit: (inout SimulatedIC.State) -> Void = { _ in }) throws
    -> (ToolBackend, ToolBackendTests.Setup)
  {
    let setup = try ToolBackendTests.Setup(tool.rawValue, edit)
    var runner = ToolRunner(executable: setup.dir + "/bin/" + tool.rawValue, timeout: 30)
    runner.environment["RBIC_SIM_STATE"] = setup.state
    runner.environment["DFX_CONFIG_ROOT"] = setup.environment["DFX_CONFIG_ROOT"]
    runner.environment["ICP_HOME"] = setup.environment["ICP_HOME"]
    return (try ToolBackend(tool, runner: runner, network: "ic", identity: "github-ci"), setup)
  }

  /// `plan` on a tool: the predictor reads snapshots, logs and the identity's ICP from the tool the
  /// first time they are needed (a status read does not carry them), and changes nothing there.
  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func planReadsSnapshotsLogsAndICPThroughTheTool(_ tool: ToolBackend.Tool) async throws {
    try await Self.offPool {
      let (b, setup) = try Self.backend(tool) {
        $0.canisters[Self.user.text]!.status = .stopped
        $0.canisters[Self.user.text]!.snapshots = [
          .init(
            id: "0000000000f0000101010000000000000001", taken_at: 1_700_000_000_000_000_000, module_hash: nil,
            memory: 4096)
        ]
        $0.canisters[Self.user.text]!.logs = [.init(index: 7, timestamp: 1_700_000_000_000_000_000, content: "hello")]
        $0.identities["github-ci"]!.icp_e8s = "200000000"
      }
      let before = setup.world
      let predictor = SimulatedIC.predicting(from: b)
      #expect(try predictor.snapshots(Self.user).map(\.id) == ["0000000000f0000101010000000000000001"])
      #expect(try predictor.logs(Self.user).map(\.content) == ["hello"])
      #expect(try predictor.icpBalance() == 200_000_000)
      #expect(try predictor.mintCycles(icp: 100_000_000) > 0, "the ICP is there to convert")
      try predictor.deleteSnapshot(Self.user, id: "0000000000f0000101010000000000000001")
      #expect(try predictor.snapshots(Self.user).isEmpty, "predicted")
      #expect(setup.world == before, "nothing changed on the tool's side")
    }
  }

  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func settingsAndTheStatusFiguresRoundTrip(_ tool: ToolBackend.Tool) async throws {
    try await Self.offPool {
      let (b, setup) = try Self.backend(tool) {
        $0.canisters[Self.user.text]!.idle_cycles_burned_per_day = "2000000000"
      }
      try b.updateSettings(
        Self.user,
        CanisterSettings(
          freezingThreshold: 90 * 86_400, memoryAllocation: 64 << 20, reservedCyclesLimit: 2_000_000_000_000,
          logVisibility: .public))
      let s = try b.status(Self.user)
      #expect(s.freezingThreshold == 90 * 86_400)
      #expect(s.memoryAllocation == 64 << 20)
      #expect(s.reservedCyclesLimit == 2_000_000_000_000)
      #expect(s.logVisibility == .public)
      #expect(s.idleBurnPerDay == 2_000_000_000, "read from the tool's output, not assumed")
      // dfx refuses a threshold under a week without its flag; the driver passes it (rbic has asked).
      try b.updateSettings(Self.user, CanisterSettings(freezingThreshold: 3600))
      #expect(setup.world.canisters[Self.user.text]?.freezing_threshold == 3600)
    }
  }

  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func snapshotsTakeListRestoreDelete(_ tool: ToolBackend.Tool) async throws {
    try await Self.offPool {
      let (b, setup) = try Self.backend(tool)
      // Running: both tools refuse, and say so.
      #expect(throws: BackendError.self) { try b.takeSnapshot(Self.user, replacing: nil) }
      try b.stop(Self.user)
      let taken = try b.takeSnapshot(Self.user, replacing: nil)
      #expect(taken.id.count == 36 && taken.id.allSatisfy(\.isHexDigit))
      #expect(taken.takenAt > 1_700_000_000_000_000_000)
      let wasm = try Array(Data(contentsOf: URL(fileURLWithPath: Harness.wasm)))
      try b.install(Self.user, wasm: wasm, mode: .upgrade)
      #expect(setup.world.canisters[Self.user.text]?.module_hash == ValueFormat.hex(Harness.wasmHash))
      #expect(try b.snapshots(Self.user).map(\.id) == [taken.id])
      try b.restoreSnapshot(Self.user, id: taken.id)
      #expect(
        setup.world.canisters[Self.user.text]?.module_hash
          == SimulatedIC.demoWorld.canisters[Self.user.text]?.module_hash)
      try b.deleteSnapshot(Self.user, id: taken.id)
      #expect(try b.snapshots(Self.user).isEmpty)
    }
  }

  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func logsBalancesAndMinting(_ tool: ToolBackend.Tool) async throws {
    try await Self.offPool {
      let (b, setup) = try Self.backend(tool) {
        $0.canisters[Self.user.text]!.logs = [
          .init(index: 3, timestamp: 1_700_000_000_000_000_001, content: "upgraded"),
          .init(index: 4, timestamp: 1_700_000_060_000_000_000, content: "ready"),
        ]
        $0.identities["github-ci"]!.icp_e8s = "250000000"
      }
      #expect(
        try b.logs(Self.user) == [
          CanisterLogRecord(index: 3, timestamp: 1_700_000_000_000_000_001, content: "upgraded"),
          CanisterLogRecord(index: 4, timestamp: 1_700_000_060_000_000_000, content: "ready"),
        ])
      #expect(try b.icpBalance() == 250_000_000)
      let minted = try b.mintCycles(icp: 100_000_000)
      #expect(minted == 3_519_900_000_000)
      #expect(try b.cyclesBalance() == 5_000_000_000_000 + minted)
      #expect(setup.world.identities["github-ci"]?.icp_e8s == String(150_000_000 - SimulatedIC.icpFee))
      #expect(throws: BackendError.self) { try b.mintCycles(icp: 10_000_000_000) }
    }
  }

  /// icp 1.0 deletes a canister with its cycles (1.1.0 sends them to the caller): the delete
  /// says so before it is confirmed, and `--root-key fetch` is refused before anything runs.
  @Test func icp10BurnsADeletedCanistersCyclesAndSaysSo() async throws {
    try await Self.offPool {
      let (icp, setup) = try Self.backend(.icp)
      var runner = icp.runner
      runner.environment["RBIC_DOUBLE_VERSION"] = "1.0.2"
      let version = try ToolBackend.verify(.icp, runner)
      let old = try ToolBackend(.icp, runner: runner, network: "ic", identity: "github-ci", version: version)
      guard case .burned(let why) = old.deletedCycles else {
        Issue.record("icp 1.0.2 was taken to return a deleted canister's cycles")
        return
      }
      #expect(why.contains("icp 1.0.2") && why.contains("1.1.0"))
      #expect(
        try ToolBackend(
          .icp, runner: icp.runner, network: "ic", identity: "github-ci", version: ToolBackend.Version("1.1.0")
        )
        .deletedCycles == .toIdentity)
      #expect(
        try ToolBackend(.dfx, runner: icp.runner, network: "ic", identity: "x").deletedCycles == .toWalletOrIdentity)
      let before = setup.world.identities["github-ci"]!.cycles_ledger
      let id = try old.createCanister(cycles: 1_000_000_000_000, controllers: [])
      let afterCreate = setup.world.identities["github-ci"]!.cycles_ledger
      #expect(afterCreate != before)
      try old.deleteCanister(id)
      #expect(setup.world.identities["github-ci"]!.cycles_ledger == afterCreate, "burned, as icp 1.0 does")
      #expect(throws: BackendError.self) {
        try ToolBackend(
          .icp, runner: runner, network: "http://127.0.0.1:4943", identity: "x", rootKey: "fetch", version: version)
      }
    }
    // What the operator is asked: the plan shows where the cycles go.
    let s = try ToolBackendTests.Setup("icp") { $0.canisters[Self.user.text]!.status = .stopped }
    let runbook = s.dir + "/delete.rb.ic"
    try """
    runbook "delete" version 1
    use network ic
    step "Delete" {
      delete_canister(\(Self.user.text))
    }
    """.write(toFile: runbook, atomically: true, encoding: .utf8)
    var environment = s.environment
    environment["RBIC_DOUBLE_VERSION"] = "1.0.2"
    let plan = try CLI.run(
      ["plan", runbook, "--backend", "icp", "--identity", "github-ci"], in: s.dir, environment: environment)
    #expect(plan.stdout.contains("ITS CYCLES ARE BURNED: icp 1.0.2"), "\(plan.stdout)\(plan.stderr)")
  }

  /// A mint the cycles minting canister refunds (dfx: exit 0 and `Refunded at block height …` on
  /// stdout; icp: the CMC's error) is a definite failure, not an unknown outcome.
  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func aRefundedMintIsDefinite(_ tool: ToolBackend.Tool) async throws {
    try await Self.offPool {
      let (b, _) = try Self.backend(tool) {
        $0.identities["github-ci"]!.icp_e8s = "250000000"
        $0.faults = [.init(operation: .mint, kind: .refund, message: "Amount too small")]
      }
      #expect {
        try b.mintCycles(icp: 100_000_000)
      } throws: { error in
        guard let e = error as? BackendError, case .reject(ToolOutput.refundCode, let m) = e else { return false }
        return e.provesNothingHappened && m.contains("Amount too small") && m.contains("no cycles were minted")
      }
    }
  }

  /// icp prints dust in exponent form (`1E-8 ICP`, `9.9E-7 ICP`); it reads exactly, in e8s.
  @Test(arguments: [Int64(1), 10, 99, 100, 123_456_789])
  func icpDustBalancesReadExactly(_ e8s: Int64) async throws {
    try await Self.offPool {
      let (b, _) = try Self.backend(.icp) { $0.identities["github-ci"]!.icp_e8s = String(e8s) }
      #expect(try b.icpBalance() == e8s)
    }
  }

  @Test func e8sFromEveryFormTheToolsPrint() throws {
    #expect(ToolOutput.e8s("1E-8") == 1)
    #expect(ToolOutput.e8s("1.0E-7") == 10)
    #expect(ToolOutput.e8s("9.9E-7") == 99)
    #expect(ToolOutput.e8s("1.23E+2") == 12_300_000_000)
    #expect(ToolOutput.e8s("0.00000100") == 100)
    #expect(ToolOutput.e8s("87.49990000") == 8_749_990_000)
    #expect(ToolOutput.e8s("0") == 0)
    #expect(ToolOutput.e8s("1E-9") == nil, "finer than an e8")
    #expect(ToolOutput.e8s("1.5E") == nil && ToolOutput.e8s("-1") == nil && ToolOutput.e8s(".5") == nil)
    #expect(try ToolOutput.icpBalance("Balance: 9.9E-7 ICP\n", tool: "icp") == 99)
  }

  /// icp 1.3.0 printed JSON without `--json`; the release after prints the lines. Both parse.
  @Test func icpLogsInEitherFormat() throws {
    let json = #"{"log_records":[{"timestamp":5,"index":1,"content":"a\nb"}]}"#
    #expect(try ToolOutput.logs(json, tool: "icp") == [CanisterLogRecord(index: 1, timestamp: 5, content: "a\nb")])
    let lines = "[1. 1970-01-01T00:00:00.000000005Z]: a\nb\n[2. 2021-05-06T19:17:10Z]: c\n"
    #expect(
      try ToolOutput.logs(lines, tool: "icp") == [
        CanisterLogRecord(index: 1, timestamp: 5, content: "a\nb"),
        CanisterLogRecord(index: 2, timestamp: 1_620_328_630_000_000_000, content: "c"),
      ])
    #expect(try ToolOutput.logs("No logs\n", tool: "dfx").isEmpty)
    // Extreme values a tool could print saturate; none traps.
    #expect(try ToolOutput.logs("[1. 9999-12-31T23:59:59.999999999Z]: x\n", tool: "dfx").first?.timestamp == .max)
    let huge = try ToolOutput.dfxSnapshots("ab: 99999999999999999999999.5 TiB, taken at 9999-12-31 23:59:59 UTC\n")
    #expect(huge.first?.size == .max && huge.first?.takenAt == .max)
    #expect(throws: BackendError.self) { try ToolOutput.logs("garbage\n", tool: "dfx") }
  }

  @Test func createIsIcpOnlyAndDeleteNeedsAProjectOnDfx() async throws {
    try await Self.offPool {
      let (icp, setup) = try Self.backend(.icp)
      let me = try icp.identityPrincipal()
      let id = try icp.createCanister(cycles: 1_000_000_000_000, controllers: [])
      let created = try #require(setup.world.canisters[id.text])
      #expect(created.controllers == [me.text])
      #expect(created.cycles == String(1_000_000_000_000 - SimulatedIC.creationFee))
      try icp.deleteCanister(id)
      #expect(setup.world.canisters[id.text] == nil)

      let (dfx, _) = try Self.backend(.dfx)
      #expect {
        try dfx.createCanister(cycles: 1_000_000_000_000, controllers: [])
      } throws: { error in
        guard case .unsupported(let m) = error as? BackendError else { return false }
        return m.contains("use --backend icp")
      }
      try dfx.stop(Self.user)
      #expect {
        try dfx.deleteCanister(Self.user)
      } throws: { error in
        "\(error)".contains("Cannot find dfx configuration file")
      }
    }
  }

  /// Arguments travel in a file the double reads back (it echoes what it received).
  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func callArgumentsGoInAFileNotTheCommandLine(_ tool: ToolBackend.Tool) async throws {
    try await Self.offPool {
      let (b, _) = try Self.backend(tool)
      var argv: [[String]] = []
      let seen = Harness.Lines()
      b.begin(BackendSession(cancellation: Cancellation()) { seen.add($0.argv.joined(separator: " ")) })
      let reply = try b.call(Self.user, method: "set_key", argument: "(\"s3cret-token\")")
      #expect(reply == "(\"s3cret-token\")")
      argv = seen.lines.map { [$0] }
      #expect(!argv.isEmpty && argv.allSatisfy { !$0[0].contains("s3cret") }, "\(argv)")
      #expect(seen.lines.contains { $0.contains(tool == .icp ? "--args-file" : "--argument-file") })
    }
  }

  /// Classification reads the `Error:` chain and the reject code only: warnings and a canister's
  /// own reject text never decide it.
  @Test func failuresAreClassifiedByStructure() {
    func classify(_ stderr: String, status: Int32 = 1) -> BackendError {
      ToolOutput.failure(
        ToolRunner.Output(status: status, stdout: "", stderr: stderr, seconds: 0), tool: "icp", canister: Self.user,
        identity: "ci")
    }
    // A canister that rejects with its own words about "not found" and "Insufficient cycles".
    let trap = classify(
      "WARN A newer version is available (IC0512)\nError: Failed update call.\nCaused by: The replica returned a rejection error: reject code CanisterReject, reject message user not found; Insufficient cycles. in the pool, error code Some(\"IC0406\")\n"
    )
    #expect(
      trap
        == .reject(
          code: "IC0406",
          message:
            "Failed update call.: The replica returned a rejection error: reject code CanisterReject, reject message user not found; Insufficient cycles. in the pool, error code Some(\"IC0406\")"
        ))
    if case .notController = classify("WARN Only controllers, IC0512\nError: boom\n") {
      Issue.record("a warning decided")
    }
    #expect(
      classify(
        "Error: direct update call failed: …\n\nCaused by:\n    The replica returned a rejection error: reject code CanisterError, reject message Only the controllers, error code Some(\"IC0512\")\n"
      ) == .notController(canister: Self.user, identity: "ci"))
    #expect(classify("Error: Canister \(Self.user.text) was not found.\n") == .notFound(Self.user))
    #expect(
      classify("Error: failed to top up: Insufficient cycles. Requested: 1_000 cycles, balance: 0 cycles.\n")
        == .insufficientFunds("failed to top up: Insufficient cycles. Requested: 1_000 cycles, balance: 0 cycles."))
    if case .unsupported = classify("error: unrecognized subcommand 'snapshot'\n\nUsage: icp canister\n", status: 2) {
    } else {
      Issue.record("a usage error means the operation is not supported")
    }
  }

  /// Each tool's own words for a missing canister and a status reject keep their class.
  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func missingCanistersAndStatusRejectsKeepTheirClass(_ tool: ToolBackend.Tool) async throws {
    try await Self.offPool {
      let missing = Principal(text: "aaaaa-aa")!
      let (b, _) = try Self.backend(tool) {
        $0.faults = [
          .init(
            operation: .status, kind: .reject, canister: Self.user.text, code: "IC0504", message: "contract violation"
          )
        ]
      }
      #expect(throws: BackendError.notFound(missing)) { try b.publicInfo(missing) }
      #expect {
        try b.status(Self.user)
      } throws: { error in
        guard case .reject("IC0504", _)? = error as? BackendError else { return false }
        return true
      }
    }
    #expect(
      ToolOutput.failure(
        .init(
          status: 1, stdout: "",
          stderr: "Error: Error looking up canister \(Self.user.text): Some(\"IC0504\") - contract violation\n",
          seconds: 0), tool: "icp", canister: Self.user, identity: "ci")
        == .reject(
          code: "IC0504", message: "Error looking up canister \(Self.user.text): Some(\"IC0504\") - contract violation")
    )
    #expect(
      ToolOutput.failure(
        .init(status: 255, stdout: "", stderr: "Error: Canister \(Self.user.text) does not exist.\n", seconds: 0),
        tool: "dfx", canister: Self.user, identity: "ci") == .notFound(Self.user))
  }

  /// Step 0 through the tools: the name form with no production entry creates the canister
  /// (icp, and auto through icp), records it, and converges; dfx says why it cannot create.
  @Test(arguments: ["icp", "auto", "dfx"])
  func activationByNameCreatesTheProductionCanister(_ tool: String) throws {
    let s = try ToolBackendTests.Setup(tool)
    try "{\n  \"user_service\": {\n    \"ic\": \"mwutv-4iaaa-aaaac-behda-cai\"\n  }\n}\n".write(
      toFile: s.dir + "/canister_ids.json", atomically: true, encoding: .utf8)
    let arguments = [
      "run", Corpus.repository + "/scripts/canister-prod-activation.rb.ic", "--backend", tool, "--identity",
      "github-ci",
      "--yes", "--journal", s.dir + "/runs", "--param", "wasm=" + Harness.wasm,
    ]
    let first = try CLI.run(arguments, in: s.dir, environment: s.environment)
    guard tool != "dfx" else {
      #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
      #expect(first.stderr.contains("dfx cannot create a canister outside a dfx project"), "\(first.stderr)")
      #expect(s.world.canisters.count == SimulatedIC.demoWorld.canisters.count, "nothing created")
      return
    }
    #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
    let ids = try CanisterIDsFile(text: String(contentsOfFile: s.dir + "/canister_ids.json", encoding: .utf8)).ids
    let prod = try #require(ids["user_service"]?["production"])
    let created = try #require(s.world.canisters[prod])
    #expect(created.module_hash == ValueFormat.hex(Harness.wasmHash) && created.controllers.count == 4)
    #expect(ToolOutput.number(created.cycles)! >= 1_000_000_000_000)
    let second = try CLI.run(arguments, in: s.dir, environment: s.environment)
    #expect(second.status == 0)
    #expect(second.stdout.contains("Recap: 0 changed"), "\(second.stdout)")
  }

  /// Never a tool's defaults: the identity is resolved and named, the network is said; icp's
  /// limits (no `local` outside a project, a root key for a URL) and two identity stores that
  /// disagree are refused before anything runs.
  @Test func defaultsAreResolvedAndToolLimitsRefusedUpFront() throws {
    let s = try ToolBackendTests.Setup("auto")
    let runbook = s.dir + "/r.rb.ic"
    try
      "runbook \"r\" version 1\nuse network ic\nstep \"s\" on 6iu47-dyaaa-aaaaf-qgeza-cai {\n  require cycles > 0\n}\n"
      .write(
        toFile: runbook, atomically: true, encoding: .utf8)
    let base = ["run", runbook, "--journal", s.dir + "/runs"]
    let resolved = try CLI.run(base + ["--backend", "icp"], in: s.dir, environment: s.environment)
    #expect(resolved.status == 0, "\(resolved.stderr)")
    #expect(resolved.stdout.contains("as `github-ci` (the tool's default identity; the runbook names none)"))
    #expect(resolved.stderr.contains("$ icp identity default"))

    let local = try CLI.run(base + ["--backend", "icp", "--network", "local"], in: s.dir, environment: s.environment)
    #expect(local.status == 3)
    #expect(local.stderr.contains("icp has no `local` network outside an icp project"), "\(local.stderr)")
    let url = try CLI.run(
      base + ["--backend", "icp", "--network", "http://127.0.0.1:4943"], in: s.dir, environment: s.environment)
    #expect(url.status == 2)
    #expect(url.stderr.contains("a URL is not a network name"), "\(url.stderr)")
    // A host that hands the icp driver a URL gets the same refusal icp would give, before any call.
    #expect(throws: BackendError.self) {
      try ToolBackend(
        .icp, runner: ToolRunner(executable: "/bin/false"), network: "http://127.0.0.1:4943", identity: "x")
    }
    #expect(
      try ToolBackend(
        .icp, runner: ToolRunner(executable: "/bin/false"), network: "http://127.0.0.1:4943", identity: "x",
        rootKey: "fetch"
      ).network == "http://127.0.0.1:4943")

    var split = s.environment
    split["RBIC_DOUBLE_DFX_PRINCIPAL"] = "2vxsx-fae"
    let mismatch = try CLI.run(base + ["--backend", "auto"], in: s.dir, environment: split)
    #expect(mismatch.status == 3)
    #expect(mismatch.stderr.contains("icp and dfx disagree on identity `github-ci`"), "\(mismatch.stderr)")
    let agreed = try CLI.run(base + ["--backend", "auto"], in: s.dir, environment: s.environment)
    #expect(agreed.status == 0, "\(agreed.stderr)")
  }
}
