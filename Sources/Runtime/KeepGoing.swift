import RbicCheck
import RbicDiagnostics
import RbicParser

/// `for x in LIST keep going { … }` (and `parallel for … keep going`): every item is attempted.
///
/// The rule, decided on the error's kind (`RuntimeError.Kind.isConfinedToItem`): a definite
/// failure of an item — a failed `require`, `ensure`, `fail` or call, a tool that failed (exit 1 or
/// 3) — is said, journaled (`item_failed`) and the loop goes on; when every item has been
/// attempted, the loop fails with each failed item and its error. Anything an operator must see
/// before more is done stops the loop at once, as it would without `keep going`: a refusal by a
/// gate or a declined question (exit 4), an unknown outcome (held for the operator), an
/// interruption, a run limit, a journal that can no longer be written. The stopping error then
/// names what had failed before it and what was not attempted. A `skip` or `return` inside the
/// loop still ends it, but never hides a failure: with failed items it becomes the loop's failure.
/// In `plan` and `--read-only`, an item whose rest cannot be predicted (it depends on a withheld
/// effect) is said and the next item is shown; the loop then ends as unpredictable, as one item
/// would without `keep going`.
struct KeepGoingTally: Sendable {
  struct ItemFailure: Sendable {
    var index: Int
    var item: String
    var error: RuntimeError
  }

  /// The words `keep going`, where the loop's own failure points.
  let range: SourceRange
  let total: Int
  private(set) var failures: [ItemFailure] = []
  /// The first item whose rest could not be predicted (plan, --read-only).
  private(set) var unpredictable: Unwind?

  init(range: SourceRange, total: Int) {
    self.range = range
    self.total = total
  }

  /// Takes an item's error; true when the loop may go on to the next item.
  mutating func admit(_ error: Unwind, index: Int, item: String) -> Bool {
    switch error {
    case .failed(let e) where e.kind.isConfinedToItem:
      failures.append(ItemFailure(index: index, item: item, error: e))
      return true
    case .unknown:
      if unpredictable == nil { unpredictable = error }
      return true
    default:
      return false
    }
  }

  /// After every item was attempted: the loop's failure, else the first unpredictable item's
  /// unwind, else nil.
  var outcome: Unwind? {
    if let failure { return .failed(failure) }
    return unpredictable
  }

  /// `2 of 3 items failed: A: ensure failed: …; B: …`, each item's notes after it. Exit 3 only when
  /// every item failed in its environment, 1 otherwise.
  var failure: RuntimeError? {
    guard !failures.isEmpty else { return nil }
    let sorted = failures.sorted { $0.index < $1.index }
    let list = sorted.map { "\($0.item): \($0.error.diagnostic.message)" }.joined(separator: "; ")
    var d = Diagnostic.error(.runtimeError, "\(sorted.count) of \(total) items failed: \(list)", at: range)
    for f in sorted {
      for note in f.error.diagnostic.notes where note.kind == .note { d = d.note("\(f.item): \(note.message)") }
    }
    return RuntimeError(sorted.allSatisfy { $0.error.kind == .environment } ? .environment : .failed, d)
  }

  /// What ends the loop early, at `item`: an error keeps its kind (and exit code), and names the
  /// items that had failed and those not attempted; a `skip` or `return` after failed items
  /// becomes the loop's failure.
  func stopped(by error: Unwind, at item: String, notAttempted: [String]) -> Unwind {
    let skipped = notAttempted.isEmpty ? [] : ["not attempted: \(notAttempted.joined(separator: ", "))"]
    switch error {
    case .failed(var e):
      var notes = [
        "`keep going` does not go past a refusal, a declined question, an unknown outcome, a run limit, an interruption or a journal that cannot be written; it stopped at \(item)"
      ]
      notes += failures.sorted { $0.index < $1.index }.map { "\($0.item) had failed: \($0.error.diagnostic.message)" }
      for note in notes + skipped { e.diagnostic = e.diagnostic.note(note) }
      return .failed(e)
    case .skipped(let reason):
      guard var e = failure else { return error }
      for note in ["then \(item) ended the step with `skip`: \(reason)"] + skipped {
        e.diagnostic = e.diagnostic.note(note)
      }
      return .failed(e)
    case .returned:
      guard var e = failure else { return error }
      for note in ["then \(item) returned from the `fn`"] + skipped { e.diagnostic = e.diagnostic.note(note) }
      return .failed(e)
    case .unknown:
      return error
    }
  }
}

extension Interpreter {
  /// Runs `body` for each item in order, attempting every one (`KeepGoingTally` has the rule).
  func keepGoing(_ items: [Value], _ variable: Identifier, _ body: Block, at range: SourceRange, _ ctx: inout Context)
    throws(Unwind)
  {
    let outer = ctx.item
    defer { ctx.item = outer }
    var tally = KeepGoingTally(range: range, total: items.count)
    for (index, item) in items.enumerated() {
      let label = Self.label(of: item)
      ctx.item = label
      do {
        try tick(at: body.range)
        bind(variable, item, &ctx)
        try execute(body, &ctx)
      } catch {
        guard tally.admit(error, index: index, item: label), pipeline.journalWritable else {
          throw tally.stopped(by: error, at: label, notAttempted: items.dropFirst(index + 1).map(Self.label))
        }
        noteItemFailure(error, item: label, step: ctx.step)
      }
    }
    if let outcome = tally.outcome { throw outcome }
  }

  /// Says and journals an item a `keep going` loop goes past.
  func noteItemFailure(_ error: Unwind, item: String, step: Int?) {
    switch error {
    case .failed(let e):
      pipeline.say("  ✗ \(item) failed: \(e.diagnostic.message); going on with the next item", label: nil)
      journal(
        .itemFailed,
        [("item", .text(item)), ("error", .text(e.diagnostic.message))] + (step.map { [("step", .init($0 + 1))] } ?? [])
      )
    case .unknown(let what, _):
      pipeline.say("  – the rest of \(item) \(dependsOn(what))", label: nil)
    case .skipped, .returned:
      break
    }
  }
}
