import RbicCheck

/// The verification checklist a run ends with: every `require`, `expect`, `ensure` and `wait
/// until` that ran, in order, and — for a check made before a later change to the same canister —
/// that change, so `[ ] expect cycles >= 500B` after a top-up reads as what it was: a check of the
/// state before the top-up.
extension RunResult {
  public struct ChecklistLine: Sendable {
    public var text: String
    public var passed: Bool
    /// The first later change to the check's canister (`cycles: 38.8B → 1.01T`), if any.
    public var changedAfter: String?
  }

  public var checklist: [ChecklistLine] {
    var lines: [ChecklistLine] = []
    for (index, step) in steps.enumerated() {
      for check in step.checks {
        let later =
          step.changes.dropFirst(check.changesBefore).map { (step.title, $0) }
          + steps.dropFirst(index + 1).flatMap { s in s.changes.map { (s.title, $0) } }
        let change = later.first { $0.1.canister != nil && $0.1.canister == check.canister }
        lines.append(
          ChecklistLine(
            text: check.text, passed: check.passed,
            changedAfter: change.map { "\($0.1.text) in \"\($0.0)\"" }))
      }
    }
    return lines
  }
}
