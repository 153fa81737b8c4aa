import Foundation
import RbicTooling
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicRuntime
import Testing

/// Saved plans: `rbic plan --out` → review → `rbic run --plan` applies exactly that plan, and
/// refuses (exit 4, nothing changed) when the runbook, params or observed state changed.
@Suite struct SavedPlanTests {
  /// A working directory with the repository's scripts and demo module, and a sim state file.
  struct Workspace {
    let dir: String
    var state: String { dir + "/state.json" }
    let params = [
      "--param", "canister=6iu47-dyaaa-aaaaf-qgeza-cai", "--param", "wasm=demo/user_service_with_metadata.wasm",
    ]

    init(_ edit: (inout SimulatedIC.State) -> Void = { _ in }) throws {
      dir = try CLI.temporaryDirectory()
      for item in ["scripts", "demo", "canister_ids.json"] {
        try FileManager.default.copyItem(atPath: Corpus.repository + "/" + item, toPath: dir + "/" + item)
      }
      var world = SimulatedIC.demoWorld
      edit(&world)
      try SimulatedIC(state: world).save(path: state)
    }

    func rbic(_ arguments: [String]) throws -> CLI.Result { try CLI.run(arguments, in: dir) }

    func plan(_ extra: [String] = []) throws -> CLI.Result {
      try rbic(["plan", "scripts/canister-prod-activation.rb.ic", "--sim-state", state] + params + extra)
    }

    var stateBytes: Data { FileManager.default.contents(atPath: state) ?? Data() }
  }

  @Test func aSavedPlanRoundTripsAndAStaleOneIsRefusedWithNothingChanged() throws {
    let w = try Workspace()
    let planned = try w.plan(["--out", "plan.json", "--exit-code"])
    #expect(planned.status == 5, "changes pending: \(planned.stderr)")
    #expect(planned.stdout.contains("Saved plan ") && planned.stdout.contains("3 changes"), "\(planned.stdout)")
    let plan = try SavedPlan.load(path: w.dir + "/plan.json").plan
    #expect(plan.network == "ic" && plan.identity == "github-ci" && plan.backend == "sim")
    #expect(plan.principal != nil && plan.params["canister"] == "6iu47-dyaaa-aaaaf-qgeza-cai")
    #expect(plan.sources.contains { $0.path.hasSuffix("canister-prod-activation.rb.ic") && $0.sha256.count == 64 })
    #expect(plan.sources.contains { $0.path.hasSuffix("user_service.did") }, "the imported interface counts too")
    #expect(plan.effects.map(\.operation) == ["install", "wallet_send", "update_settings"])
    #expect(plan.effects[1].amount == "971200000000")
    let observed = try #require(plan.observed.first { $0.canister == "6iu47-dyaaa-aaaaf-qgeza-cai" })
    #expect(observed.cycles == "38800000000" && observed.controllers.count == 1)
    #expect(plan.steps.first { $0.title == "Create the production canister" }?.reason != nil, "why it is skipped")

    // Nothing was changed by planning; applying the plan changes exactly what it said.
    let applied = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes"])
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    #expect(applied.stdout.contains("Recap: 3 changed"), "\(applied.stdout)")
    let journal = try #require(
      try FileManager.default.contentsOfDirectory(atPath: w.dir + "/.rbic/runs").first { $0.hasSuffix(".jsonl") })
    let start = try String(contentsOfFile: w.dir + "/.rbic/runs/" + journal, encoding: .utf8)
    #expect(
      start.contains("\"plan\":\"\(SavedPlan.id(of: FileManager.default.contents(atPath: w.dir + "/plan.json")!))\""))

    // Now nothing is pending; the old plan is stale, and applying it changes nothing.
    #expect(try w.plan(["--exit-code"]).status == 0)
    let before = w.stateBytes
    let stale = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes"])
    #expect(stale.status == 4)
    #expect(stale.stderr.contains("is stale; nothing was changed"), "\(stale.stderr)")
    #expect(stale.stderr.contains("cycles rose from 38_800_000_000"), "\(stale.stderr)")
    #expect(stale.stderr.contains("the plan would send 971.2B"), "\(stale.stderr)")
    #expect(w.stateBytes == before)
  }

  @Test func anEditedRunbookOrAnotherNetworkMakesThePlanStale() throws {
    let w = try Workspace()
    #expect(try w.plan(["--out", "plan.json"]).status == 0)
    let network = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes", "--network", "local"])
    #expect(network.status == 4 && network.stderr.contains("made for network `ic`; this run is on `local`"))
    let path = w.dir + "/scripts/canister-prod-activation.rb.ic"
    try (String(contentsOfFile: path, encoding: .utf8) + "\n# reviewed\n").write(
      toFile: path, atomically: true, encoding: .utf8)
    let before = w.stateBytes
    let edited = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes"])
    #expect(edited.status == 4)
    #expect(edited.stderr.contains("canister-prod-activation.rb.ic` changed since the plan"), "\(edited.stderr)")
    #expect(w.stateBytes == before)
  }

  /// The reviewer approved a module by its hash: a different module at the same path (a rebuild)
  /// makes the plan stale, though the operation, the canister and the amount are the same.
  @Test func aDifferentModuleAtTheSamePathMakesThePlanStale() throws {
    let w = try Workspace()
    #expect(try w.plan(["--out", "plan.json"]).status == 0)
    let module = w.dir + "/demo/user_service_with_metadata.wasm"
    var bytes = try #require(FileManager.default.contents(atPath: module))
    bytes.append(contentsOf: [0x00, 0x03, 0x01, 0x78, 0x79])  // a custom section `x`: another module
    try bytes.write(to: URL(fileURLWithPath: module))
    let before = w.stateBytes
    let stale = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes"])
    #expect(stale.status == 4, "\(stale.stdout)\(stale.stderr)")
    // It says what changed: the module's sha256, then and now.
    #expect(
      stale.stderr.contains(
        "the plan's upgrade demo/user_service_with_metadata.wasm on 6iu47-dyaaa-aaaaf-qgeza-cai changed"),
      "\(stale.stderr)")
    #expect(
      stale.stderr.components(separatedBy: "with module sha256 0x").count - 1 == 2, "both hashes: \(stale.stderr)")
    #expect(w.stateBytes == before)
  }

  @Test func usageAroundPlansIsExitTwo() throws {
    let w = try Workspace()
    #expect(try w.plan(["--out", "plan.json"]).status == 0)
    let withParam = try w.rbic(["run", "--plan", "plan.json", "--param", "canister=aaaaa-aa"])
    #expect(withParam.status == 2 && withParam.stderr.contains("a saved plan carries its params"))
    let other = try w.rbic(["run", "scripts/fleet-cycles-topup.rb.ic", "--plan", "plan.json"])
    #expect(other.status == 2 && other.stderr.contains("is for `scripts/canister-prod-activation.rb.ic`"))
    try "{\"format\": 99}".write(toFile: w.dir + "/future.json", atomically: true, encoding: .utf8)
    let future = try w.rbic(["run", "--plan", "future.json"])
    #expect(future.status == 2 && future.stderr.contains("newer than this rbic reads"), "\(future.stderr)")
    try "{\"format\": 1, \"runbook\": 3}".write(toFile: w.dir + "/bad.json", atomically: true, encoding: .utf8)
    let bad = try w.rbic(["run", "--plan", "bad.json"])
    #expect(bad.status == 2 && bad.stderr.contains("is not an rbic plan"), "\(bad.stderr)")
    // Amounts that would overflow what is computed from them are refused when the plan is read.
    let real = try String(contentsOfFile: w.dir + "/plan.json", encoding: .utf8)
    for amount in ["-1", "170141183460469231731687303715884105727", "1T"] {
      let hostile = real.replacingOccurrences(of: "\"amount\" : \"971200000000\"", with: "\"amount\" : \"\(amount)\"")
      #expect(hostile != real)
      try hostile.write(toFile: w.dir + "/hostile.json", atomically: true, encoding: .utf8)
      let refused = try w.rbic(["run", "--plan", "hostile.json"])
      #expect(
        refused.status == 2 && refused.stderr.contains("not a whole number of cycles"), "\(amount): \(refused.stderr)")
    }
    let backend = try w.rbic(["plan", "scripts/fleet-cycles-topup.rb.ic", "--backend", "foo"])
    #expect(backend.status == 2 && backend.stderr.contains("'sim', 'icp', 'dfx' or 'auto'"), "\(backend.stderr)")
  }

  /// `--format json` gives each change as data: step, canister, property, before, after, action,
  /// amount (exact), and each skipped step's reason.
  @Test func jsonGivesChangesAsData() throws {
    let w = try Workspace()
    let planned = try w.plan(["--format", "json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(planned.stdout.utf8)) as? [String: Any])
    let steps = try #require(object["steps"] as? [[String: Any]])
    let changes = steps.flatMap { ($0["changes"] as? [[String: Any]]) ?? [] }
    let topUp = try #require(changes.first { $0["property"] as? String == "cycles" })
    #expect(topUp["step"] as? String == "Top up cycles to 1T")
    #expect(topUp["canister"] as? String == "6iu47-dyaaa-aaaaf-qgeza-cai")
    #expect((topUp["before"] as? NSNumber)?.int64Value == 38_800_000_000)
    #expect((topUp["after"] as? NSNumber)?.int64Value == 1_010_000_000_000)
    #expect(topUp["action"] as? String == "wallet" && (topUp["amount"] as? NSNumber)?.int64Value == 971_200_000_000)
    let hash = try #require(changes.first { $0["property"] as? String == "hash" })
    #expect((hash["after"] as? String)?.count == 66, "a hash in full")
    let skipped = try #require(steps.first { $0["outcome"] as? String == "skipped" })
    #expect((skipped["reason"] as? String)?.isEmpty == false)
  }

  /// Through the `icp` double, with Step 0 creating the canister: the plan's predicted id stands
  /// for the one the run creates, so the plan applies.
  @Test func aPlanThatCreatesACanisterAppliesThroughIcp() throws {
    let s = try ToolBackendTests.Setup("icp")
    try "{\n  \"user_service\": {\n    \"ic\": \"mwutv-4iaaa-aaaac-behda-cai\"\n  }\n}\n".write(
      toFile: s.dir + "/canister_ids.json", atomically: true, encoding: .utf8)
    let script = Corpus.repository + "/scripts/canister-prod-activation.rb.ic"
    let planned = try CLI.run(
      [
        "plan", script, "--backend", "icp", "--identity", "github-ci", "--param", "wasm=" + Harness.wasm, "--out",
        "plan.json",
      ], in: s.dir, environment: s.environment)
    #expect(planned.status == 0, "\(planned.stdout)\(planned.stderr)")
    let plan = try SavedPlan.load(path: s.dir + "/plan.json").plan
    #expect(plan.createdCanisters.count == 1 && plan.effects.first?.operation == "create")
    let applied = try CLI.run(
      ["run", "--plan", "plan.json", "--yes", "--journal", s.dir + "/runs"], in: s.dir, environment: s.environment)
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    let ids = try CanisterIDsFile(text: String(contentsOfFile: s.dir + "/canister_ids.json", encoding: .utf8)).ids
    let prod = try #require(ids["user_service"]?["production"])
    #expect(s.world.canisters[prod]?.controllers.count == 4)
  }

  /// While it runs, the pipeline admits only the plan's effects: a run that goes another way (here
  /// the canister burnt far more than 1% between the check and the send) stops at that effect.
  @Test func theRunStopsAtAnEffectThePlanDoesNotHold() throws {
    let engine = Engine(registry: .standard)
    let program = engine.compile(
      source: Array(Harness.activation.utf8), path: Harness.repository + "/scripts/test.rb.ic",
      options: .init(projectDirectory: Harness.repository))
    let planned = Harness.run(Harness.activation, params: Harness.activationParams, mode: .plan)
    let plan = SavedPlan(
      program: program, result: planned.result, file: "scripts/test.rb.ic", params: Harness.activationParams,
      network: "ic", identity: "github-ci", backend: "sim")
    let poorer = Harness.world { $0.canisters[Harness.userService.text]?.cycles = "10000000000" }
    let run = Harness.run(Harness.activation, state: poorer, params: Harness.activationParams) {
      $0.yes = true
      $0.approval = PlanApproval(plan: plan, id: "test-plan")
    }
    #expect(run.result.exitCode == 4)
    #expect(run.result.failure?.diagnostic.message.contains("is not in the plan test-plan") == true)
    #expect(
      run.result.failure?.diagnostic.message.contains("send 1T") == true, "\(String(describing: run.result.failure))")
    #expect(run.state.moduleHash == Harness.wasmHash, "the approved upgrade before it ran")
    #expect(run.state.cycles < 1_000_000_000_000, "the unapproved send did not")
  }

  /// One tolerance for the staleness check and for admission: what the canister burns idle over
  /// the time since the plan, and an amount may grow by what its recipient burnt — not by what
  /// another canister (the wallet that sends) spent.
  @Test func cyclesMayFallByTheCanistersOwnIdleBurnOnly() throws {
    let engine = Engine(registry: .standard)
    let program = engine.compile(
      source: Array(Harness.activation.utf8), path: Harness.repository + "/scripts/test.rb.ic",
      options: .init(projectDirectory: Harness.repository))
    let burning = Harness.world {
      $0.canisters[Harness.userService.text]?.idle_cycles_burned_per_day = "86400000000000"  // 1B a second
    }
    let planned = Harness.run(Harness.activation, state: burning, params: Harness.activationParams, mode: .plan)
    let plan = SavedPlan(
      program: program, result: planned.result, file: "scripts/test.rb.ic", params: Harness.activationParams,
      network: "ic", identity: "github-ci", backend: "sim", created: Date().addingTimeInterval(-10))
    let user = try #require(plan.observed.first { $0.canister == Harness.userService.text })
    let now = Date()
    let allowance = plan.burnAllowance(user, at: now)
    #expect(allowance >= 10_000_000_000 && allowance <= 11_000_000_000, "\(allowance)")
    let then = user.cyclesValue
    #expect(SavedPlan.cyclesDrift(then, then - 9_000_000_000, allowance: allowance) == nil, "9 s of burn")
    #expect(SavedPlan.cyclesDrift(then, then - 20_000_000_000, allowance: allowance)?.contains("idle burn") == true)
    #expect(SavedPlan.cyclesDrift(then, then + 1, allowance: allowance)?.contains("rose") == true)
    #expect(
      plan.allowedIncrease(recipient: user.canister, nowCycles: then - 9_000_000_000, at: now) == 9_000_000_000)
    #expect(plan.allowedIncrease(recipient: user.canister, nowCycles: then - 20_000_000_000, at: now) == 0)
    // Only the recipient's own burn counts: the sending wallet's spend allows nothing.
    #expect(plan.allowedIncrease(recipient: "wdhec-2yaaa-aaaao-a6dgq-cai", nowCycles: 0, at: now) == 0)
    #expect(plan.allowedIncrease(recipient: nil, nowCycles: 0, at: now) == 0)
    #expect(SavedPlan.admissible(105, planned: 100, drift: 5))
    #expect(!SavedPlan.admissible(106, planned: 100, drift: 5))
    #expect(!SavedPlan.admissible(99, planned: 100, drift: 5))
  }

}
