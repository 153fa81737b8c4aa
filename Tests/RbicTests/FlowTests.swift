import Foundation
import RbicDiagnostics
import RbicParser
import RbicTooling
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// `for … keep going` on the simulated IC: every item is attempted, a definite failure is named at
/// the end, and what an operator must see first (a declined question, an unknown outcome) still
/// stops the loop at once.
@Suite struct KeepGoingTests {
  static let fleet = [
    "6iu47-dyaaa-aaaaf-qgeza-cai", "mwutv-4iaaa-aaaac-behda-cai", "wdhec-2yaaa-aaaao-a6dgq-cai",
  ]
  static let second = fleet[1]

  /// A loop over the three canisters of the demo world that stops each one.
  static func stopFleet(_ loop: String = "for c in fleet keep going", confirm: Bool = false) -> String {
    """
    runbook "t" version 1
    let fleet: [canister] = [\(fleet.joined(separator: ", "))]
    \(loop) {
      step "Stop {c}" on c {
    \(confirm ? "    confirm \"stop {c}?\"\n" : "")    ensure status == stopped via stop
      }
    }
    """
  }

  /// The demo world where `faults` fire on the second canister's stop.
  static func secondFails(_ kind: SimulatedIC.FaultKind) -> SimulatedIC.State {
    Harness.world { $0.faults = [.init(operation: .stop, kind: kind, canister: second)] }
  }

  static func status(_ run: Harness.Outcome, _ canister: String) -> CanisterStatus? {
    Principal(text: canister).flatMap { try? run.sim.status($0).status }
  }

  @Test func everyItemIsAttemptedAndTheFailureNamesTheItem() throws {
    let run = Harness.run(Self.stopFleet(), state: Self.secondFails(.reject))
    #expect(run.result.exitCode == 1)
    #expect(Self.status(run, Self.fleet[2]) == .stopped, "the third canister is still attempted")
    #expect(Self.status(run, Self.fleet[0]) == .stopped)
    #expect(Self.status(run, Self.second) == .running)
    #expect(run.result.steps.map(\.outcome) == [.changed, .failed, .changed])
    let d = try #require(run.result.failure?.diagnostic)
    #expect(d.message == "1 of 3 items failed: \(Self.second): ensure failed: status == stopped")
    #expect(d.notes.contains { $0.message.hasPrefix("\(Self.second): in step 2 \"Stop \(Self.second)\"") })
    #expect(run.output.contains { $0.contains("✗ \(Self.second) failed: ensure failed") })
    // The checklist names the item whose check failed.
    #expect(run.result.checklist.filter { !$0.passed }.map(\.text) == ["[\(Self.second)] ensure status == stopped"])
  }

  @Test func withoutKeepGoingTheLoopStopsAtTheFailure() {
    let run = Harness.run(Self.stopFleet("for c in fleet"), state: Self.secondFails(.reject))
    #expect(run.result.exitCode == 1)
    #expect(Self.status(run, Self.fleet[2]) == .running)
    #expect(run.result.steps.count == 2)
  }

  /// Inside one step, with one branch at a time (`limit 1`) so that the contrast is deterministic:
  /// without `keep going`, the first failure would stop the third item from starting.
  @Test(arguments: ["limit 1", "limit 3"])
  func parallelBranchesAllRunAndTheStepFailsAtTheEnd(_ limit: String) throws {
    let source = """
      runbook "t" version 1
      let fleet: [canister] = [\(Self.fleet.joined(separator: ", "))]
      step "Stop the fleet" {
        parallel for c in fleet \(limit) keep going {
          ensure c.status == stopped via stop
        }
      }
      """
    let run = Harness.run(source, state: Self.secondFails(.reject))
    #expect(run.result.exitCode == 1)
    #expect(Self.status(run, Self.fleet[0]) == .stopped)
    #expect(Self.status(run, Self.fleet[2]) == .stopped)
    let step = try #require(run.result.steps.first)
    #expect(step.outcome == .failed)
    #expect(step.failure?.hasPrefix("1 of 3 items failed: \(Self.second): ensure failed") == true)
    #expect(run.result.checklist.filter { !$0.passed }.map(\.text) == ["[\(Self.second)] ensure c.status == stopped"])
  }

  @Test func aDeclinedQuestionStopsTheLoopAndSaysWhatWasLeft() throws {
    // The first canister fails definitely, the operator declines the second: the third is never
    // asked about, and the run ends as a refusal (exit 4) that names both.
    let state = Harness.world { $0.faults = [.init(operation: .stop, kind: .reject, canister: Self.fleet[0])] }
    let asked = Harness.Lines()
    let run = Harness.run(Self.stopFleet(confirm: true), state: state) {
      $0.yes = false
      $0.interactive = true
      $0.confirm = { question in
        asked.add(question)
        return !question.contains(Self.second)
      }
    }
    #expect(run.result.exitCode == 4)
    #expect(Self.status(run, Self.fleet[2]) == .running)
    #expect(!asked.lines.contains { $0.contains(Self.fleet[2]) })
    let d = try #require(run.result.failure?.diagnostic)
    #expect(d.message.hasPrefix("declined: stop \(Self.second)?"))
    #expect(d.notes.contains { $0.message.hasPrefix("\(Self.fleet[0]) had failed: ensure failed") })
    #expect(d.notes.contains { $0.message == "not attempted: \(Self.fleet[2])" })
  }

  @Test(arguments: ["for c in fleet keep going", "parallel for c in fleet limit 1 keep going"])
  func anUnknownOutcomeStopsTheLoop(_ loop: String) throws {
    let run = Harness.run(Self.stopFleet(loop), state: Self.secondFails(.timeout))
    #expect(run.result.exitCode == 3)
    #expect(Self.status(run, Self.fleet[2]) == .running, "nothing more is done after an unknown outcome")
    let d = try #require(run.result.failure?.diagnostic)
    #expect(d.message.hasPrefix("the outcome of `stop` on \(Self.second) is unknown"))
    #expect(d.notes.contains { $0.message == "not attempted: \(Self.fleet[2])" })
  }

  @Test func aPlanShowsEveryItemsEffects() {
    let source = """
      runbook "t" version 1
      let fleet: [canister] = [\(Self.fleet.joined(separator: ", "))]
      for c in fleet keep going {
        step "Stop {c}" on c {
          require status == running
          ensure status == stopped via stop
        }
      }
      """
    let state = Harness.world { $0.canisters[Self.second]?.status = .stopped }
    let plan = Harness.run(source, state: state, mode: .plan)
    #expect(plan.result.exitCode == 1)
    #expect(plan.result.steps.map(\.outcome) == [.wouldChange, .failed, .wouldChange])
    #expect(plan.result.steps[2].changes.count == 1)
  }

  @Test func theJournalAndTheReportNameTheFailedItem() throws {
    let dir = try CLI.temporaryDirectory()
    let run = Harness.run(Self.stopFleet(), state: Self.secondFails(.reject)) {
      $0.yes = true
      $0.journal = try? Journal(directory: dir, runbook: "t")
    }
    let path = try #require(run.result.journalPath)
    let entries = JournalEntry.entries(try #require(FileManager.default.contents(atPath: path)))
    let failed = entries.filter { $0.event == .itemFailed }
    #expect(failed.map { $0["item"]?.text } == [Self.second])
    #expect(try RunReport.markdown(journalPath: path).contains("✗ item `\(Self.second)` failed: ensure failed"))
  }

  @Test func formattingPutsKeepGoingAfterTheLimitAndRoundTrips() throws {
    let source = """
      runbook "t" version 1
      let fleet: [canister] = [6iu47-dyaaa-aaaaf-qgeza-cai]
      parallel for c in fleet   keep going limit 2 {
        print c
      }
      for keep in fleet keep    going {
        print keep
      }
      """
    var files = SourceFiles()
    let tree = Parser.parse(files.add(path: "t.rb.ic", bytes: Array(source.utf8)))
    #expect(tree.diagnostics.isEmpty)
    let formatted = try #require(Formatter.format(tree))
    #expect(formatted.contains("parallel for c in fleet limit 2 keep going {\n"))
    #expect(formatted.contains("for keep in fleet keep going {\n"), "`keep` stays usable as a name")
    let again = Parser.parse(files.add(path: "t.rb.ic", bytes: Array(formatted.utf8)))
    #expect(SyntaxDump.dump(again) == SyntaxDump.dump(tree))
    #expect(SyntaxDump.dump(tree).contains("keep-going"))
    #expect(Formatter.format(again) == formatted)
  }
}

/// Narrowed optionals run as their checked types say: the values are never `none` there.
@Suite struct NarrowingTests {
  static let source = """
    runbook "t" version 1
    param target: canister? = none
    if target == none {
      fail "pass --param target=ID"
    }
    step "Report" on target {
      let module = target.hash
      if module == none { skip "{target} is empty" }
      print "{target} runs {module}, {cycles} cycles"
    }
    """

  @Test func aNarrowedParamAndLetRunAsTheirValues() {
    let run = Harness.run(Self.source, params: ["target": Harness.userService.text])
    #expect(run.result.exitCode == 0)
    #expect(run.output.contains { $0.hasPrefix("\(Harness.userService.text) runs 0x9ef2676") })
  }

  @Test func theCheckThatNarrowsStillRuns() {
    let missing = Harness.run(Self.source)
    #expect(missing.result.exitCode == 1)
    #expect(missing.result.failure?.diagnostic.message == "pass --param target=ID")
    let empty = Harness.world { $0.canisters[Harness.userService.text]?.module_hash = nil }
    let skipped = Harness.run(Self.source, state: empty, params: ["target": Harness.userService.text])
    #expect(skipped.result.exitCode == 0)
    #expect(skipped.result.steps.map(\.outcome) == [.skipped])
  }
}
