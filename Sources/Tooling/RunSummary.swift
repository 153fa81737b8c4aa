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
package enum RunSummary {
  /// `Run: NAME vN on `NETWORK` as `IDENTITY` (backend: …)`, with a note for each default taken
  /// (no network named; a mainnet network by another name; the backend's default identity).
  package static func header(
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
  package static func lines(_ result: RunResult, mode: RunOptions.Mode) -> [String] {
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
}
