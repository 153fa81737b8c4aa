import Foundation
import Testing

@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// `parallel for` runs its items at the same time, up to its limit: the journal, written in the
/// order things happen, shows several items' effects started and not yet ended at once. A plain
/// `for` never has two open. Counted by order, not by the clock; the sim's latency only makes
/// each effect last long enough for the others to start.
@Suite struct ParallelTests {
  static let fleet = [
    "6iu47-dyaaa-aaaaf-qgeza-cai", "mwutv-4iaaa-aaaac-behda-cai", "wdhec-2yaaa-aaaao-a6dgq-cai",
  ]

  /// The most effects in flight at once, read from the journal's `action_start`/`action_end`.
  static func mostInFlight(_ loop: String) throws -> Int {
    let dir = try CLI.temporaryDirectory()
    let source = """
      runbook "start-fleet" version 1
      let fleet: [canister] = [\(fleet.joined(separator: ", "))]
      step "Start the fleet" {
        \(loop) {
          ensure c.status == running via start
        }
      }
      """
    let stopped = Harness.world {
      $0.latency_ms = 150
      for id in fleet { $0.canisters[id]?.status = .stopped }
    }
    let r = Harness.run(source, state: stopped) {
      $0.yes = true
      $0.journal = try? Journal(directory: dir, runbook: "start-fleet")
    }
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(fleet.allSatisfy { r.sim.snapshot.canisters[$0]?.status == .running })
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".jsonl") }
    let text = try String(contentsOfFile: dir + "/" + (try #require(names.first)), encoding: .utf8)
    var open = 0
    var most = 0
    for line in text.split(separator: "\n") {
      let event = (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["event"] as? String
      if event == "action_start" { open += 1 }
      if event == "action_end" { open -= 1 }
      most = max(most, open)
    }
    #expect(open == 0, "every start has its end")
    return most
  }

  @Test func parallelForOverlapsUpToItsLimit() throws {
    // Two branches of three reach the limit of 2 and never pass it; three may all be in flight.
    #expect(try Self.mostInFlight("parallel for c in fleet limit 2") == 2)
    #expect((2...3).contains(try Self.mostInFlight("parallel for c in fleet limit 3")))
  }

  @Test func aPlainForRunsOneAtATime() throws {
    #expect(try Self.mostInFlight("for c in fleet") == 1)
  }
}
