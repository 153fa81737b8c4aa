import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime

/// What a run says around its steps, the same for every host that shows one (`rbic run`/`plan`,
/// `rbic test`'s `output:`): the header naming what it acts on — every default resolved and said
/// — and, after the steps, the plan, the verification checklist, the warnings and the recap.
public enum RunSummary {
  /// `Run: NAME vN on `NETWORK` as `IDENTITY` (backend: …)`, with a note for each default taken
  /// (no network named; a mainnet network by another name; the backend's default identity).
  public static func header(
    program: CheckedProgram, file: String, options: RunOptions, identity: String, identityGiven: Bool,
    backend: String, toolDefaults: Bool
  ) -> String {
    let resolved = options.resolvedNetwork(for: program)
    let networkNote =
      options.network == nil && program.network == nil
      ? " (the runbook names no network)"
      : resolved.isMainnet && resolved.name != "ic"
        ? " (mainnet: \(resolved.providers.joined(separator: ", ")))" : ""
    let identityNote =
      identityGiven ? "" : " (\(toolDefaults ? "the tool's" : "the sim's") default identity; the runbook names none)"
    let name = program.main.header?.name ?? file
    return
      "\(options.mode == .plan ? "Plan" : "Run"): \(name) v\(program.main.header?.version ?? 0) on `\(resolved.name)`\(networkNote) as `\(identity)`\(identityNote) (backend: \(backend))"
  }

  /// The lines after the steps: a blank line, the plan (in `plan`), the verification checklist
  /// (in `run`), the warnings, and the recap.
  public static func lines(_ result: RunResult, mode: RunOptions.Mode) -> [String] {
    var out = [""]
    if mode == .plan {
      let changes = result.steps.flatMap(\.changes)
      out.append(
        changes.isEmpty
          ? "Plan: no changes; the canisters already match the runbook."
          : "Plan: \(changes.count) change\(changes.count == 1 ? "" : "s"):")
      for step in result.steps where !step.changes.isEmpty {
        out.append("  \(step.title)")
        for c in step.changes { out.append("    ~ \(c.text)") }
      }
    }
    let checklist = result.checklist
    if !checklist.isEmpty, mode == .run {
      out.append("Verification checklist:")
      for c in checklist {
        out.append("  [\(c.passed ? "x" : " ")] \(c.text)\(c.changedAfter.map { " (checked before \($0))" } ?? "")")
      }
    }
    let warnings = result.steps.flatMap(\.warnings)
    if !warnings.isEmpty {
      out.append("Warnings:")
      for w in warnings { out.append("  ! \(w)") }
    }
    let recap = result.recap
    out.append(
      "Recap: \(recap.changed) \(mode == .plan ? "would change" : "changed"), \(recap.ok) ok, \(recap.skipped) skipped, \(recap.failed) failed"
        + (result.journalPath.map { " — journal \($0)" } ?? ""))
    return out
  }

  /// The run or plan as one JSON object: each step's outcome, why it was skipped, its changes as
  /// data (`Change.json`) and its warnings.
  public static func json(_ result: RunResult, plan: String? = nil) -> String {
    let recap = result.recap
    let steps = result.steps.map { s in
      "{\"title\":\(jsonString(s.title)),\"outcome\":\(jsonString(s.outcome.rawValue)),"
        + "\"reason\":\((s.skipReason ?? s.failure).map(jsonString) ?? "null"),"
        + "\"changes\":[\(s.changes.map { $0.json(step: s.title) }.joined(separator: ","))],"
        + "\"warnings\":[\(s.warnings.map(jsonString).joined(separator: ","))]}"
    }
    return
      "{\"runbook\":\(jsonString(result.runbook)),\"version\":\(result.version),\"mode\":\(jsonString(result.mode.rawValue)),"
      + "\"plan\":\(plan.map(jsonString) ?? "null"),"
      + "\"steps\":[\(steps.joined(separator: ","))],"
      + "\"recap\":{\"ok\":\(recap.ok),\"changed\":\(recap.changed),\"skipped\":\(recap.skipped),\"failed\":\(recap.failed)},"
      + "\"exit\":\(result.exitCode),\"journal\":\(result.journalPath.map(jsonString) ?? "null"),"
      + "\"error\":\(result.failure.map { jsonString($0.diagnostic.message) } ?? "null")}"
  }

  /// The JSON summary of a run that did not start: `error` (a usage error) ended it first.
  public static func json(
    notStarted program: CheckedProgram, mode: RunOptions.Mode, _ error: RuntimeError, plan: String? = nil
  ) -> String {
    json(.notStarted(program, mode: mode, error), plan: plan)
  }
}
