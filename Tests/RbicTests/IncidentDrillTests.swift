import Foundation
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// The incident drills of docs/incidents.md, typed into `rbic repl` in a real terminal (tmux) as
/// an on-call engineer would, on the simulated IC.
@Suite(.serialized) struct IncidentDrillTests {
  static let user = "6iu47-dyaaa-aaaaf-qgeza-cai"

  /// A canister near freezing: read its state, top it up on mainnet answering the question the
  /// engineer can see, and watch it recover.
  @Test func aCanisterNearFreezingIsToppedUpOnMainnet() throws {
    let dir = try CLI.temporaryDirectory()
    var world = SimulatedIC.demoWorld
    world.canisters[Self.user]?.cycles = "14000000000"  // 14B: five days from its freezing threshold
    world.canisters[Self.user]?.idle_cycles_burned_per_day = "400000000"
    try SimulatedIC(state: world).save(path: dir + "/state.json")
    let t = try ReplTerminalTests.Terminal("--network ic --sim-state \(dir)/state.json")
    try t.keys("let c: canister = \(Self.user)", "Enter")
    try t.keys("c", "Enter")
    let glance = try t.wait(for: "freezes in")
    #expect(glance.contains("running · 14B cycles (freezes in 5d; burns 400M/day)"), "\(glance)")
    try t.keys("c.freeze_in", "Enter")
    try t.wait(for: "5d : duration")
    try t.keys("ensure c.cycles >= 1T via top_up", "Enter")
    let asked = try t.wait(for: "[y/N]")
    #expect(
      asked.contains("top up 6iu47-dyaaa-aaaaf-qgeza-cai with 996B from the cycles ledger on ic? [y/N]"),
      "the question is on the screen: \(asked)")
    try t.keys("y", "Enter")
    try t.wait(for: "cycles: 14B → 1.01T via top_up (transfer 996B from the cycles ledger)")
    try t.keys(":watch c.cycles every 200ms", "Enter")
    let watched = try t.wait(for: "(unchanged)")
    #expect(watched.contains(" : cycles"), "\(watched)")
    try t.keys("C-c")
    try t.wait(for: "watch ended")
    let after = try SimulatedIC.load(path: dir + "/state.json")
    #expect((Int128(after.canisters[Self.user]?.cycles ?? "") ?? 0) >= 1_000_000_000_000)
  }

  /// A failed upgrade: the module went in but the canister misbehaves; restore the snapshot taken
  /// before the upgrade, start it, and verify the old module is back.
  @Test func aFailedUpgradeIsRolledBackFromTheSnapshot() throws {
    let dir = try CLI.temporaryDirectory()
    var world = SimulatedIC.demoWorld
    world.faults = [.init(operation: .call, kind: .reject, code: "IC0503", message: "post-upgrade check failed")]
    try SimulatedIC(state: world).save(path: dir + "/state.json")
    let t = try ReplTerminalTests.Terminal("--sim-state \(dir)/state.json")
    let lines = [
      "let c: canister = \(Self.user)",
      "let before = c.hash",
      "ensure c.status == stopped via stop",
      "let snap = take_snapshot(c)",
      "ensure c.hash == sha256(\"demo/user_service_with_metadata.wasm\") via install \"demo/user_service_with_metadata.wasm\"",
      "ensure c.status == running via start",
    ]
    for (i, line) in lines.enumerated() {
      try t.keys(line, "Enter")
      try t.wait(for: "rbic>", count: i + 2)
    }
    // The first call to the new module fails: the upgrade went in, the service is broken.
    try t.keys("call c.set_oracle_bridge_url(\"https://oracle.example\")", "Enter")
    try t.wait(for: "post-upgrade check failed")
    let rollback = [
      "ensure c.status == stopped via stop", "restore_snapshot(c, snap.id)", "ensure c.status == running via start",
      "require c.hash == before", "print \"verified\"",
    ]
    let prompts = lines.count + 2
    for (i, line) in rollback.enumerated() {
      try t.keys(line, "Enter")
      try t.wait(for: "rbic>", count: prompts + i + 1)
    }
    let screen = try t.screen()
    #expect(screen.contains("\nverified"), "\(screen)")
    #expect(screen.contains("status: stopped → running via start"), "\(screen)")
    #expect(
      !screen.contains("error:") || screen.components(separatedBy: "error:").count == 2,
      "only the call failed: \(screen)")
    let after = try SimulatedIC.load(path: dir + "/state.json")
    #expect(after.canisters[Self.user]?.module_hash == SimulatedIC.demoWorld.canisters[Self.user]?.module_hash)
    #expect(after.canisters[Self.user]?.status == .running)
  }
}
