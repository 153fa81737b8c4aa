import Foundation
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicRuntime
import Testing

/// The canister lifecycle on the sim: create and `canister_ids.json`, settings and `freeze_in`,
/// snapshots with `on failure`, `wait until`, delete, logs, ICP → cycles.
@Suite struct LifecycleTests {
  static let user = Harness.userService.text
  static let ci = SimulatedIC.demoWorld.identities["github-ci"]!.principal

  /// A project directory with `canister_ids.json` as given (nil: no file).
  static func project(_ ids: String?) throws -> String {
    let dir = try CLI.temporaryDirectory()
    if let ids { try ids.write(toFile: dir + "/canister_ids.json", atomically: true, encoding: .utf8) }
    return dir
  }

  static func run(
    _ body: String, in dir: String, state: SimulatedIC.State = SimulatedIC.demoWorld, mode: RunOptions.Mode = .run,
    configure: (inout RunOptions) -> Void = { _ in }
  ) -> Harness.Outcome {
    Harness.run("runbook \"lifecycle\" version 1\n" + body, state: state, mode: mode) {
      $0.yes = true
      $0.projectDirectory = dir
      configure(&$0)
    }
  }

  static let createOrFind = """
    step "Create the production canister" {
      if find_canister_id("user_service", key: "production") != none { skip "it exists" }
      let created = create_canister(cycles: 1T)
      record_canister_id("user_service", key: "production", id: created)
    }
    let prod = canister_ids("user_service", key: "production")
    step "Fund it" on prod {
      ensure cycles >= 1T via top_up
    }
    """

  static let ids = """
    {
        "user_service": {
            "ic": "mwutv-4iaaa-aaaac-behda-cai"
        },
        "blog": {"ic": "6iu47-dyaaa-aaaaf-qgeza-cai"}
    }

    """

  @Test func createRecordsTheIdKeepingTheFileAndConverges() throws {
    let dir = try Self.project(Self.ids)
    let first = Self.run(Self.createOrFind, in: dir)
    #expect(first.result.exitCode == 0, "\(first.result.failure?.diagnostic.message ?? "")")
    let created = try #require(first.sim.snapshot.canisters.keys.first { SimulatedIC.demoWorld.canisters[$0] == nil })
    let file = try String(contentsOfFile: dir + "/canister_ids.json", encoding: .utf8)
    #expect(
      file == """
        {
            "user_service": {
                "ic": "mwutv-4iaaa-aaaac-behda-cai",
                "production": "\(created)"
            },
            "blog": {"ic": "6iu47-dyaaa-aaaaf-qgeza-cai"}
        }

        """)
    let state = try first.sim.status(Principal(text: created)!)
    #expect(state.cycles >= 1_000_000_000_000)
    #expect(state.controllers.map(\.text) == [Self.ci], "the identity controls what it created")
    #expect(first.result.steps.map(\.outcome) == [.changed, .changed])

    let second = Self.run(Self.createOrFind, in: dir, state: first.sim.snapshot)
    #expect(second.result.exitCode == 0)
    #expect(second.result.steps.map(\.outcome) == [.skipped, .ok])
    #expect(second.sim.snapshot.canisters.count == first.sim.snapshot.canisters.count, "nothing created twice")
  }

  @Test func planPredictsTheCreateAndWritesNothing() throws {
    let dir = try Self.project(nil)
    let plan = Self.run(Self.createOrFind, in: dir, mode: .plan)
    #expect(plan.result.exitCode == 0, "\(plan.result.failure?.diagnostic.message ?? "")")
    #expect(plan.result.steps.map(\.outcome) == [.wouldChange, .wouldChange], "later steps plan on the predicted id")
    #expect(!FileManager.default.fileExists(atPath: dir + "/canister_ids.json"))
    #expect(plan.sim.snapshot == SimulatedIC.demoWorld)
    #expect(plan.output.contains { $0.contains("would write user_service.production") })
  }

  @Test func malformedCanisterIdsIsAnErrorWithItsLine() throws {
    let dir = try Self.project(
      "{\n  \"user_service\": {\n    \"production\": \"6iu47-dyaaa-aaaaf-qgeza-cai\",\n  }\n}\n")
    let r = Self.run(Self.createOrFind, in: dir)
    #expect(r.result.exitCode == 3)
    let message = r.result.failure?.diagnostic.message ?? ""
    #expect(message.contains("canister_ids.json:4:3: expected a quoted name"), "\(message)")
    #expect(r.sim.snapshot == SimulatedIC.demoWorld, "nothing created")
  }

  @Test func canisterIdsFileEditsOneEntryInPlace() throws {
    let compact = try CanisterIDsFile(text: "{\"a\": {\"ic\": \"x\"}}")
    // Any file takes any entry and still parses, with the entry set and the rest kept: random
    // files (compact or pretty, any indentation, objects and other values), every name and key.
    var generator = SplitMix(seed: 0xC0FFEE)  // reproducible: a failure names a file that fails again
    let names = ["a", "b", "ic", "user_service", "é\"q"]
    for _ in 0..<500 {
      let indent = ["", "  ", "    ", "\t"].randomElement(using: &generator)!
      let newline = indent.isEmpty ? "" : "\n"
      func member(_ name: String, _ value: String, depth: Int) -> String {
        newline + String(repeating: indent, count: depth) + ValueFormat.jsonQuote(name) + ": " + value
      }
      let entries = names.shuffled(using: &generator).prefix(Int.random(in: 0...3, using: &generator)).map { name in
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: member(name, "1", depth: 1)
        case 1: member(name, "{}", depth: 1)
        default:
          member(
            name,
            "{"
              + names.prefix(Int.random(in: 1...3, using: &generator)).map { member($0, "\"id-\($0)\"", depth: 2) }
              .joined(separator: ",") + newline + indent + "}", depth: 1)
        }
      }
      let text = "{" + entries.joined(separator: ",") + newline + "}" + (Bool.random(using: &generator) ? "\n" : "")
      let file = try CanisterIDsFile(text: text)
      for name in names {
        for key in names {
          // Only an entry that is not an object (not among `ids`) refuses an edit.
          guard let edited = try? file.setting(name: name, key: key, to: "p") else {
            #expect(file.ids[name] == nil, "\(text): setting \(name).\(key) failed")
            continue
          }
          let again = try CanisterIDsFile(text: edited)
          #expect(again.ids[name]?[key] == "p", "\(text) → \(edited)")
          for (other, keys) in file.ids where other != name { #expect(again.ids[other] == keys, "\(text) → \(edited)") }
          for (k, v) in file.ids[name] ?? [:] where k != key { #expect(again.ids[name]?[k] == v) }
        }
      }
    }
    #expect(try compact.setting(name: "a", key: "ic", to: "y") == "{\"a\": {\"ic\": \"y\"}}")
    let two = try CanisterIDsFile(text: "{\n  \"a\": {\n    \"ic\": \"x\"\n  }\n}")
    #expect(
      try two.setting(name: "a", key: "prod", to: "p")
        == "{\n  \"a\": {\n    \"ic\": \"x\",\n    \"prod\": \"p\"\n  }\n}")
    #expect(
      try two.setting(name: "b", key: "prod", to: "p")
        == "{\n  \"a\": {\n    \"ic\": \"x\"\n  },\n  \"b\": {\n    \"prod\": \"p\"\n  }\n}")
    let empty = try CanisterIDsFile(text: "{}\n")
    #expect(try empty.setting(name: "b", key: "k", to: "p") == "{\n  \"b\": {\n    \"k\": \"p\"\n  }\n}\n")
    #expect(try CanisterIDsFile(text: try empty.setting(name: "b", key: "k", to: "p")).ids == ["b": ["k": "p"]])
    for (bad, line, column) in [("{\"a\": 1,}", 1, 9), ("{\n\"a\" {}}", 2, 5), ("[]", 1, 1), ("{} x", 1, 4)] {
      #expect(throws: CanisterIDsFile.ParseError.self, "\(bad)") { try CanisterIDsFile(text: bad) }
      do { _ = try CanisterIDsFile(text: bad) } catch {
        #expect((error.line, error.column) == (line, column), "\(bad): \(error)")
      }
    }
    #expect(
      try CanisterIDsFile(text: "{\"a\": 1}").setting(name: "b", key: "k", to: "p")
        == "{\"a\": 1,\n  \"b\": {\n    \"k\": \"p\"\n  }}")
    #expect(throws: CanisterIDsFile.ParseError.self) {
      try CanisterIDsFile(text: "{\"a\": \"x\"}").setting(name: "a", key: "k", to: "p")
    }
    let deep = String(repeating: "[", count: 10_000)
    #expect(throws: CanisterIDsFile.ParseError.self) { try CanisterIDsFile(text: "{\"a\": \(deep)}") }
  }

  /// The seed's upgrade, guarded: stop, snapshot, install, verify; a failed verification restores
  /// the snapshot, then restarts the canister (the `on failure` blocks, last first).
  /// A snapshot id is never reused: taking one that replaces another gets a new id, as does one
  /// taken after a delete.
  @Test func snapshotIdsAreNeverReused() throws {
    let sim = SimulatedIC(state: Harness.world { $0.canisters[Self.user]?.status = .stopped })
    let c = Principal(text: Self.user)!
    let a = try sim.takeSnapshot(c, replacing: nil)
    let b = try sim.takeSnapshot(c, replacing: a.id)
    #expect(b.id != a.id)
    try sim.deleteSnapshot(c, id: b.id)
    let d = try sim.takeSnapshot(c, replacing: nil)
    #expect(d.id != a.id && d.id != b.id)
  }

  @Test func snapshotGuardedUpgradeRestoresAndRestartsOnFailure() throws {
    let dir = try Self.project(nil)
    let source = """
      let c: canister = \(Self.user)
      step "Upgrade, guarded by a snapshot" on c {
        ensure status == stopped via stop
        on failure { ensure status == running via start }
        let before = take_snapshot(c)
        on failure { restore_snapshot(c, before.id) }
        ensure hash == sha256("\(Harness.wasm)") via install "\(Harness.wasm)"
        require hash == \(ValueFormat.hex([UInt8](repeating: 1, count: 32))) else "the verification failed"
      }
      """
    let old = SimulatedIC.demoWorld.canisters[Self.user]!.module_hash
    let journal = try Journal(directory: dir, runbook: "guarded")
    let r = Self.run(source, in: dir) { $0.journal = journal }
    #expect(r.result.exitCode == 1)
    #expect(r.result.failure?.diagnostic.message.contains("the verification failed") == true)
    let after = r.sim.snapshot.canisters[Self.user]!
    #expect(after.module_hash == old, "the snapshot was restored")
    #expect(after.status == .running, "and the canister restarted")
    let order = r.output.filter { $0.contains("→ restore") || $0.contains("→ start") }
    #expect(order.count == 2 && order[0].contains("restore") && order[1].contains("start"), "\(order)")
    let text = try String(contentsOfFile: journal.path, encoding: .utf8)
    #expect(text.components(separatedBy: "\"event\":\"on_failure\"").count == 3)
  }

  @Test func onFailureDoesNotRunWhenTheStepSucceedsAndItsOwnFailureIsAWarning() throws {
    let dir = try Self.project(nil)
    let ok = Self.run(
      "step \"s\" on \(Self.user) {\n  on failure { ensure status == stopped via stop }\n  require cycles > 0\n}\n",
      in: dir)
    #expect(ok.result.exitCode == 0)
    #expect(ok.sim.snapshot.canisters[Self.user]!.status == .running)
    let both = Self.run(
      "step \"s\" on \(Self.user) {\n  on failure { fail \"cleanup broke\" }\n  fail \"first\"\n}\n", in: dir)
    #expect(both.result.exitCode == 1)
    #expect(both.result.failure?.diagnostic.message == "first")
    #expect(both.result.steps.first?.warnings.contains { $0.contains("cleanup broke") } == true)
  }

  @Test func onFailureOutsideAStepIsAnError() {
    let program = Engine(registry: .standard).compile(
      source: Array("runbook \"x\" version 1\non failure { print 1 }\n".utf8), path: "x.rb.ic")
    #expect(program.diagnostics.contains { $0.message == "`on failure` belongs inside a step" })
  }

  /// `wait until` re-reads until the condition holds (here a stop that lands 1.2 s later), and
  /// fails with the values when its time is up.
  @Test func waitUntilPollsAndTimesOut() throws {
    let dir = try Self.project(nil)
    var stopped = SimulatedIC.demoWorld.canisters[Self.user]!
    stopped.status = .stopped
    let world = Harness.world {
      $0.deliveries = [
        .init(
          due: Date().timeIntervalSince1970 + 1.2, cycles: [Self.user: "0"], ledger: [:], records: [Self.user: stopped])
      ]
    }
    let started = Date()
    let waited = Self.run(
      "step \"w\" on \(Self.user) {\n  wait until status == stopped timeout 10s\n}\n", in: dir, state: world)
    #expect(waited.result.exitCode == 0, "\(waited.result.failure?.diagnostic.message ?? "")")
    #expect(Date().timeIntervalSince(started) >= 1.2)
    let short = Self.run("step \"w\" on \(Self.user) {\n  wait until status == stopped timeout 1s\n}\n", in: dir)
    #expect(short.result.exitCode == 1)
    #expect(short.result.failure?.diagnostic.message == "waited 1s and `status == stopped` still does not hold")
  }

  @Test func settingsConvergeAndAnExtremeFreezingThresholdIsAlwaysAsked() throws {
    let dir = try Self.project(nil)
    let r = Self.run(
      """
      step "Settings" on \(Self.user) {
        ensure freezing_threshold >= 90d via update_settings
        ensure reserved_cycles_limit == 2T via update_settings
        ensure log_visibility == "public" via update_settings
        ensure memory_allocation >= 64MiB via update_settings
      }
      """, in: dir)
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    let s = try r.sim.status(Harness.userService)
    #expect(s.freezingThreshold == 90 * 86_400)
    #expect(s.reservedCyclesLimit == 2_000_000_000_000)
    #expect(s.logVisibility == .public)
    #expect(s.memoryAllocation == 64 << 20)

    let extreme = "step \"s\" on \(Self.user) {\n  ensure freezing_threshold == 1d via update_settings\n}\n"
    let refused = Self.run(extreme, in: dir)
    #expect(refused.result.exitCode == 4, "--yes is not enough")
    #expect(refused.result.failure?.diagnostic.message.contains("under a week") == true)
    let asked = Self.run(extreme, in: dir) {
      $0.interactive = true
      $0.confirm = { _ in true }
    }
    #expect(asked.result.exitCode == 0)
    #expect(try asked.sim.status(Harness.userService).freezingThreshold == 86_400)
  }

  /// `freeze_in` is the time left at the idle burn; a cycles action converges it.
  @Test func freezeInConvergesThroughACyclesAction() throws {
    let dir = try Self.project(nil)
    let world = Harness.world { $0.canisters[Self.user]!.idle_cycles_burned_per_day = "2000000000" }
    let r = Self.run(
      "step \"s\" on \(Self.user) {\n  print freeze_in\n  ensure freeze_in >= 400d via top_up\n  print idle_burn\n}\n",
      in: dir, state: world)
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    let s = try r.sim.status(Harness.userService)
    #expect((s.secondsUntilFrozen ?? 0) >= 400 * 86_400)
    #expect(s.cycles < 900_000_000_000, "about 400 days of 2B a day plus the threshold, not more: \(s.cycles)")
    #expect(r.output.contains("2B"))
  }

  @Test func deleteIsAlwaysAskedAndRefundsTheIdentity() throws {
    let dir = try Self.project(nil)
    let source = "step \"d\" {\n  delete_canister(\(Self.user))\n}\n"
    let stoppedWorld = Harness.world { $0.canisters[Self.user]!.status = .stopped }
    let refused = Self.run(source, in: dir, state: stoppedWorld)
    #expect(refused.result.exitCode == 4)
    #expect(refused.sim.snapshot.canisters[Self.user] != nil)
    let deleted = Self.run(source, in: dir, state: stoppedWorld) {
      $0.interactive = true
      $0.confirm = { _ in true }
    }
    #expect(deleted.result.exitCode == 0, "\(deleted.result.failure?.diagnostic.message ?? "")")
    #expect(deleted.sim.snapshot.canisters[Self.user] == nil)
    #expect(try deleted.sim.cyclesBalance() == 5_000_000_000_000 + 38_800_000_000 - SimulatedIC.cyclesLedgerFee)
    let running = Self.run(source, in: dir) {
      $0.interactive = true
      $0.confirm = { _ in true }
    }
    #expect(running.result.exitCode == 1, "a running canister is not deleted")
    #expect(running.result.failure?.diagnostic.message.contains("must be stopped") == true)
  }

  @Test func mintConvertsIcpAndAPoorIdentityIsRefused() throws {
    let dir = try Self.project(nil)
    let rich = Harness.world { $0.identities["github-ci"]!.icp_e8s = "200000000" }
    let r = Self.run("step \"m\" {\n  print icp_balance()\n  print mint_cycles(icp: 1ICP)\n}\n", in: dir, state: rich)
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(try r.sim.icpBalance() == 100_000_000 - SimulatedIC.icpFee)
    #expect(try r.sim.cyclesBalance() == 5_000_000_000_000 + 3_519_900_000_000)
    let poor = Self.run("step \"m\" {\n  print mint_cycles(icp: 1ICP)\n}\n", in: dir)
    #expect(poor.result.exitCode == 1)
    #expect(poor.result.failure?.diagnostic.message.contains("Insufficient funds") == true)
  }

  /// A create whose outcome is unknown stops the run; the next run holds the create until an
  /// operator confirms, instead of creating a second canister.
  @Test func unknownCreateIsNotRepeatedBlindly() throws {
    let dir = try Self.project(nil)
    let world = Harness.world { $0.faults = [.init(operation: .create, kind: .timeout, times: 1)] }
    let first = Self.run(Self.createOrFind, in: dir, state: world) {
      $0.journal = try? Journal(directory: dir, runbook: "create")
    }
    #expect(first.result.exitCode == 3)
    #expect(first.result.failure?.diagnostic.message.contains("is unknown") == true)
    let second = Self.run(Self.createOrFind, in: dir, state: first.sim.snapshot) {
      $0.journal = try? Journal(directory: dir, runbook: "create")
    }
    #expect(second.result.exitCode == 4, "\(second.result.failure?.diagnostic.message ?? "")")
    #expect(second.result.failure?.diagnostic.message.contains("an earlier run's create") == true)
    #expect(second.sim.snapshot.canisters.count == SimulatedIC.demoWorld.canisters.count)
  }

  /// The same for ICP → cycles: a conversion whose outcome is unknown may have moved the ICP (the
  /// minting canister's notification is idempotent by block index; the transfer is not), so the
  /// next run sends no second transfer until an operator has looked.
  @Test func unknownMintIsNotRepeatedBlindly() throws {
    let dir = try Self.project(nil)
    let source = "step \"m\" {\n  print mint_cycles(icp: 1ICP)\n}\n"
    let world = Harness.world {
      $0.identities["github-ci"]!.icp_e8s = "500000000"
      $0.faults = [.init(operation: .mint, kind: .late, times: 1, delay_ms: 60_000)]
    }
    let first = Self.run(source, in: dir, state: world) { $0.journal = try? Journal(directory: dir, runbook: "mint") }
    #expect(first.result.exitCode == 3)
    let second = Self.run(source, in: dir, state: first.sim.snapshot) {
      $0.journal = try? Journal(directory: dir, runbook: "mint")
    }
    #expect(second.result.exitCode == 4, "\(second.result.failure?.diagnostic.message ?? "")")
    #expect(second.result.failure?.diagnostic.message.contains("an earlier run's mint") == true)
    #expect(second.sim.snapshot.deliveries?.count == 1, "the first transfer is still in flight, and no second one")
    #expect(second.sim.snapshot.identities["github-ci"]?.icp_e8s == "500000000")
  }

  @Test func logsAreForControllersUnlessPublic() throws {
    let dir = try Self.project(nil)
    let world = Harness.world {
      $0.canisters[Self.user]!.logs = [.init(index: 7, timestamp: 1_700_000_000_000_000_000, content: "hello")]
    }
    let source = "step \"l\" {\n  print logs(\(Self.user))\n}\n"
    let mine = Self.run(source, in: dir, state: world)
    #expect(
      mine.output.contains { $0.contains("index: 7") && $0.contains("hello") && $0.contains("2023-11-14T22:13:20Z") })
    let other = Harness.run("runbook \"l\" version 1\n" + source, state: world, identity: "operator")
    #expect(other.result.exitCode == 1)
    var open = world
    open.canisters[Self.user]!.log_visibility = .public
    let reader = Harness.run("runbook \"l\" version 1\n" + source, state: open, identity: "operator")
    #expect(reader.result.exitCode == 0)
  }
}

/// The seed's decision tree, every starting state, both forms of the activation runbook (the
/// explicit id, and the name's `production` entry in canister_ids.json, created when missing).
@Suite struct DecisionTreeTests {
  enum Start: CaseIterable {
    case noProductionCanister, emptyModule, currentModule, outdatedModule
  }

  static func world(_ start: Start) -> SimulatedIC.State {
    Harness.world { w in
      switch start {
      case .noProductionCanister, .outdatedModule: break
      case .emptyModule: w.canisters[Harness.userService.text]?.module_hash = nil
      case .currentModule: w.canisters[Harness.userService.text]?.module_hash = ValueFormat.hex(Harness.wasmHash)
      }
    }
  }

  /// Runs the activation runbook in a project directory whose canister_ids.json has the
  /// production entry unless the canister does not exist yet.
  static func activate(_ start: Start, byName: Bool, state: SimulatedIC.State? = nil, dir: String? = nil) throws
    -> (Harness.Outcome, String)
  {
    let dir =
      try dir
      ?? LifecycleTests.project(
        start == .noProductionCanister
          ? "{\n  \"user_service\": {\n    \"ic\": \"mwutv-4iaaa-aaaac-behda-cai\"\n  }\n}\n"
          : "{\n  \"user_service\": {\n    \"production\": \"\(Harness.userService.text)\"\n  }\n}\n")
    var params = ["wasm": Harness.wasm]
    if !byName { params["canister"] = Harness.userService.text }
    let run = Harness.run(Harness.activation, state: state ?? world(start), params: params) {
      $0.yes = true
      $0.projectDirectory = dir
    }
    return (run, dir)
  }

  /// Every starting state, by name and by id (but a canister that does not exist yet has no id).
  @Test(
    arguments: Start.allCases.flatMap { s in [true, false].filter { s != .noProductionCanister || $0 }.map { (s, $0) } }
  )
  func convergesFromEveryStartingState(_ start: Start, byName: Bool) throws {
    let (first, dir) = try Self.activate(start, byName: byName)
    #expect(first.result.exitCode == 0, "\(start): \(first.result.failure?.diagnostic.message ?? "")")
    let ids = try CanisterIDsFile(text: String(contentsOfFile: dir + "/canister_ids.json", encoding: .utf8)).ids
    let prod = try #require(ids["user_service"]?["production"]).description
    let state = try first.sim.status(#require(Principal(text: prod)))
    #expect(Harness.verified(state), "\(start): \(state)")
    let outcomes = first.result.steps.map(\.outcome)
    switch start {
    case .noProductionCanister:
      #expect(outcomes[0] == .changed && prod != Harness.userService.text, "created")
      #expect(ids["user_service"]?["ic"] == "mwutv-4iaaa-aaaac-behda-cai", "the other entries kept")
      #expect(first.result.steps[2].changes.first?.text.contains("via install ") == true, "a fresh install")
    case .emptyModule: #expect(first.result.steps[2].changes.first?.text.contains("via install ") == true)
    case .currentModule: #expect(outcomes[2] == .ok)
    case .outdatedModule: #expect(first.result.steps[2].changes.first?.text.contains("via upgrade ") == true)
    }
    if start != .noProductionCanister { #expect(outcomes[0] == .skipped) }
    let again = try Self.activate(start, byName: byName, state: first.sim.snapshot, dir: dir).0
    #expect(again.result.exitCode == 0)
    #expect(again.result.recap.changed == 0, "\(start): converged")
    #expect(again.sim.snapshot == first.sim.snapshot)
  }
}
