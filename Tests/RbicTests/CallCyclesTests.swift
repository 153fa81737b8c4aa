import Foundation
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime
@testable import RbicTooling

/// `call c.method(args) with cycles N via wallet W`: the wallet makes the call and the cycles
/// move from it to the callee, through the effect pipeline (ceiling, gate, journal, plan, saved
/// plans), on the sim and through `icp` (`--proxy W --cycles N`) and `dfx` (`--wallet W
/// --with-cycles N`).
@Suite struct CallCyclesTests {
  static let wallet = "wdhec-2yaaa-aaaao-a6dgq-cai"
  static let user = Harness.userService.text

  static func cycles(_ world: SimulatedIC.State, _ canister: String) -> Int128 {
    world.canisters[canister].flatMap { Int128($0.cycles) } ?? -1
  }

  static let runbook = """
    runbook "pay" version 1
    let w: wallet = \(wallet)
    let c: canister = \(user)
    step "pay" on c {
      call c.register("ops") with cycles 1.5T via wallet w
      let reply = call c.version() with cycles 500B via wallet w
      print "version {reply}"
    }
    """

  /// The statement and the value form both move their cycles from the wallet to the callee; the
  /// reply is the callee's; the journal's call entries carry the cycles and the wallet.
  @Test func cyclesMoveFromTheWalletToTheCallee() throws {
    let r = Harness.run(Self.runbook)
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.output.contains("version (\"1.3.9\")"), "\(r.output)")
    let world = r.sim.snapshot
    #expect(Self.cycles(world, Self.user) == 38_800_000_000 + 2_000_000_000_000)
    #expect(Self.cycles(world, Self.wallet) == 11_165_000_000_000 - 2_000_000_000_000)
    let change = r.result.steps.first?.changes.first
    #expect(change?.amount == 1_500_000_000_000)
    #expect(change?.text.contains("with 1.5T cycles via wallet \(Self.wallet)") == true, "\(change?.text ?? "")")
    #expect(r.result.record.effects.map(\.recipient) == [Harness.userService, Harness.userService])
    #expect(
      r.result.record.effects.map(\.canisters)
        == Array(repeating: [Harness.userService, Principal(text: Self.wallet)!], count: 2))
  }

  /// The journal's `call` lines name the cycles and the wallet; its `action_start` the amount.
  @Test func theJournalRecordsTheCyclesAndTheWallet() throws {
    let dir = try CLI.temporaryDirectory()
    try Self.runbook.write(toFile: dir + "/pay.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(["run", "pay.rb.ic", "--sim-state", "state.json", "--journal", "runs"], in: dir)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    let name = try #require(try FileManager.default.contentsOfDirectory(atPath: dir + "/runs").first)
    let entries = JournalEntry.entries(try Data(contentsOf: URL(fileURLWithPath: dir + "/runs/" + name)))
    let calls = entries.filter { $0.event == .call }
    #expect(calls.map { $0["cycles"] } == [.integer(1_500_000_000_000), .integer(500_000_000_000)])
    #expect(calls.allSatisfy { $0["wallet"] == .text(Self.wallet) })
    let starts = entries.filter { $0.event == .actionStart }
    #expect(starts.map { $0["amount"] } == [.integer(1_500_000_000_000), .integer(500_000_000_000)])
    let report = try CLI.run(["report", "runs/" + name], in: dir)
    #expect(report.stdout.contains("with 1500000000000 cycles via wallet `\(Self.wallet)` → `()`"), "\(report.stdout)")
  }

  /// The amount counts against the ceiling, reserved before the call: over it, nothing is sent.
  @Test func theCyclesCountAgainstTheCeiling() {
    let r = Harness.run(Self.runbook) {
      $0.yes = true
      $0.cyclesCeiling = 1_800_000_000_000
    }
    #expect(r.result.exitCode == 4)
    #expect(r.result.failure?.diagnostic.message.contains("above the ceiling of 1.8T") == true)
    #expect(Self.cycles(r.sim.snapshot, Self.user) == 38_800_000_000 + 1_500_000_000_000, "the first call only")
  }

  /// On mainnet the call is asked; unanswered (no terminal, no --yes), it is refused.
  @Test func mainnetAsks() {
    let r = Harness.run(Self.runbook.replacingOccurrences(of: "version 1\n", with: "version 1\nuse network ic\n")) {
      $0.yes = false
    }
    #expect(r.result.exitCode == 4, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.sim.snapshot == SimulatedIC.demoWorld, "nothing moved")
  }

  /// A plan shows the call with its exact cycles and sends nothing; applying the saved plan admits
  /// exactly these calls.
  @Test func planShowsTheExactCyclesAndASavedPlanAdmitsThem() throws {
    let planned = Harness.run(Self.runbook.replacingOccurrences(of: "1.5T", with: "1.512345678T"), mode: .plan)
    #expect(planned.result.exitCode == 0)
    #expect(
      planned.output.contains {
        $0.contains("would call \(Self.user).register(\"ops\") with 1.512345678T cycles via wallet \(Self.wallet)")
      },
      "\(planned.output)")
    #expect(planned.sim.snapshot == SimulatedIC.demoWorld)

    let w = try SavedPlanTests.Workspace()
    try Self.runbook.write(toFile: w.dir + "/pay.rb.ic", atomically: true, encoding: .utf8)
    #expect(try w.rbic(["plan", "pay.rb.ic", "--sim-state", w.state, "--out", "plan.json"]).status == 0)
    let plan = try SavedPlan.load(path: w.dir + "/plan.json").plan
    #expect(plan.effects.map(\.amount) == ["1500000000000", "500000000000"])
    #expect(plan.effects.first?.detail == "call \(Self.user).register(\"ops\") with cycles via wallet \(Self.wallet)")
    let applied = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes"])
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    #expect(Self.cycles(try SimulatedIC.load(path: w.state), Self.user) == 38_800_000_000 + 2_000_000_000_000)
  }

  /// The wallet must be one, be controlled by the identity and hold the cycles; otherwise nothing
  /// moves, and the failure is definite (nothing is held as pending).
  @Test func theWalletMustBeOneControlledAndFunded() {
    var poorWorld = SimulatedIC.demoWorld
    poorWorld.canisters[Self.wallet]!.cycles = "1000000000000"
    let poor = Harness.run(Self.runbook, state: poorWorld)
    #expect(poor.result.exitCode != 0)
    #expect(poor.result.failure?.diagnostic.message.contains("cannot send 1.5T with the call") == true)
    #expect(Self.cycles(poor.sim.snapshot, Self.user) == 38_800_000_000)

    var plainWorld = SimulatedIC.demoWorld
    plainWorld.canisters[Self.wallet]!.wallet = nil
    let notAWallet = Harness.run(Self.runbook, state: plainWorld)
    #expect(notAWallet.result.failure?.diagnostic.message.contains("no update method 'wallet_call128'") == true)

    let stranger = Harness.run(Self.runbook, identity: "operator")
    #expect(stranger.result.failure?.diagnostic.message.contains("is not a controller of \(Self.wallet)") == true)
    #expect(stranger.sim.snapshot.canisters == SimulatedIC.demoWorld.canisters)
  }

  /// A method the canister publishes as a query carries no cycles: refused before anything is sent.
  @Test func aPublishedQueryIsRefused() {
    var world = SimulatedIC.demoWorld
    world.canisters[Self.user]!.candid_service = "service : { register : (text) -> (); version : () -> (text) query }"
    let r = Harness.run(Self.runbook, state: world)
    #expect(r.result.exitCode == 1)
    #expect(
      r.result.failure?.diagnostic.message.contains(
        "`version` is a query on \(Self.user), and a query carries no cycles")
        == true, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(Self.cycles(r.sim.snapshot, Self.user) == 38_800_000_000 + 1_500_000_000_000, "the update went")
  }

  /// Through the tools: icp `--proxy W --cycles N`, dfx `--wallet W --with-cycles N`; the double
  /// moves the cycles as the sim does. The Candid argument is in a file, never on the command line.
  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func throughTheTools(_ tool: ToolBackend.Tool) async throws {
    try await ToolLifecycleTests.offPool {
      let (b, setup) = try ToolLifecycleTests.backend(tool)
      let seen = Harness.Lines()
      b.begin(BackendSession(cancellation: Cancellation()) { seen.add($0.argv.joined(separator: " ")) })
      let reply = try b.call(
        Harness.userService, method: "register", argument: "(\"s3cret\")", cycles: 1_000_000_000_000,
        wallet: Principal(text: Self.wallet)!)
      #expect(reply == "(\"s3cret\")", "the double echoes the argument")
      let flags =
        tool == .icp
        ? "--proxy \(Self.wallet) --cycles 1000000000000" : "--wallet \(Self.wallet) --with-cycles 1000000000000"
      #expect(
        seen.lines.contains { $0.contains("canister call \(Self.user) register") && $0.contains(flags) },
        "\(seen.lines)")
      #expect(!seen.lines.contains { $0.contains("s3cret") })
      #expect(Self.cycles(setup.world, Self.user) == 38_800_000_000 + 1_000_000_000_000)
      #expect(Self.cycles(setup.world, Self.wallet) == 11_165_000_000_000 - 1_000_000_000_000)
    }
  }

  /// A wallet (or icp proxy) short of cycles: icp's proxy says so before forwarding, a definite
  /// failure; a caller the wallet does not serve is refused, definite too. Nothing moves.
  @Test(arguments: [ToolBackend.Tool.icp, .dfx])
  func refusalsThroughTheTools(_ tool: ToolBackend.Tool) async throws {
    try await ToolLifecycleTests.offPool {
      let (b, setup) = try ToolLifecycleTests.backend(tool) { $0.canisters[Self.wallet]!.cycles = "1000" }
      let before = setup.world
      let poor = #expect(throws: BackendError.self) {
        try b.call(
          Harness.userService, method: "register", argument: "()", cycles: 2000, wallet: Principal(text: Self.wallet)!)
      }
      if tool == .icp {
        guard case .insufficientFunds(let message)? = poor else {
          Issue.record("not insufficient funds: \(String(describing: poor))")
          return
        }
        #expect(message.contains("Proxy canister has insufficient cycles. Available: 1_000, required: 2_000"))
      }
      #expect(setup.world == before)

      let (other, otherSetup) = try ToolLifecycleTests.backend(tool) {
        $0.canisters[Self.wallet]!.controllers = [SimulatedIC.demoPrincipal(seed: 0x0B).text]
      }
      #expect {
        try other.call(
          Harness.userService, method: "register", argument: "()", cycles: 1, wallet: Principal(text: Self.wallet)!)
      } throws: { error in
        guard let e = error as? BackendError else { return false }
        return e.provesNothingHappened
      }
      #expect(Self.cycles(otherSetup.world, Self.user) == 38_800_000_000)
    }
  }

  /// The whole path through the CLI and each tool: run, then the state file shows the move.
  @Test(arguments: ["icp", "dfx"])
  func aRunbookThroughEachTool(_ tool: String) throws {
    let s = try ToolBackendTests.Setup(tool)
    try Self.runbook.write(toFile: s.dir + "/pay.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(
      ["run", s.dir + "/pay.rb.ic", "--backend", tool, "--network", "ic", "--yes", "--journal", s.dir + "/runs"],
      in: s.dir, environment: s.environment)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("version (\"1.3.9\")"), "\(r.stdout)")
    #expect(Self.cycles(s.world, Self.user) == 38_800_000_000 + 2_000_000_000_000)
    #expect(Self.cycles(s.world, Self.wallet) == 11_165_000_000_000 - 2_000_000_000_000)
  }
}
