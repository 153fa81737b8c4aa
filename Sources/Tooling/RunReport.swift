import Foundation
import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime

/// Renders a run's journal (JSON lines) as Markdown for a pull request or a status note.
public enum RunReport {
  public enum Failure: Error, CustomStringConvertible {
    case unreadable(String)
    case notAJournal(String)
    public var description: String {
      switch self {
      case .unreadable(let p): "cannot read the journal `\(p)`"
      case .notAJournal(let p): "`\(p)` is not an rbic journal (no run_start line)"
      }
    }
  }

  public static func markdown(journalPath: String) throws(Failure) -> String {
    guard let data = FileManager.default.contents(atPath: journalPath) else { throw .unreadable(journalPath) }
    let entries = JournalEntry.entries(data)
    guard let start = entries.first(where: { $0.event == .runStart }) else { throw .notAJournal(journalPath) }
    /// A field as people read it; a reply or tool output may carry escapes.
    func s(_ v: JournalValue?) -> String { TerminalText.escaped(v?.shown ?? "—") }
    var out = "# Run report: \(s(start["runbook"])) v\(s(start["version"]))\n\n"
    out +=
      "- **Mode:** \(s(start["mode"])) · **network:** `\(s(start["network"]))` · **backend:** \(s(start["backend"]))\n"
    out += "- **Identity:** `\(s(start["identity"]))` (`\(s(start["principal"]))`)\n"
    out += "- **Started:** \(TerminalText.escaped(start.time)) · **source sha256:** `\(s(start["source_sha256"]))`\n"
    if let params = start["params"]?.object, !params.isEmpty {
      out +=
        "- **Params:** " + params.keys.sorted().map { "`\($0)` = `\(s(params[$0]))`" }.joined(separator: ", ") + "\n"
    }
    if let file = start["params_file"]?.object {
      out += "- **Params file:** `\(s(file["path"]))` (sha256 `\(s(file["sha256"]))`)\n"
    }
    out += "\n## Steps\n"
    var interrupted = false
    for e in entries {
      switch e.event {
      case .stepStart: out += "\n### \(s(e["step"])). \(s(e["title"]))\n\n"
      case .stepEnd: out += "- **Outcome: \(s(e["outcome"]))**\(e["reason"].map { ": \(s($0))" } ?? "")\n"
      case .ensure:
        let detail = e["via"].map { " via \(s($0)) (\(s(e["before"])) → \(s(e["after"])))" } ?? ""
        out += "- `ensure \(s(e["condition"]))`: \(s(e["outcome"]))\(detail)\n"
      case .actionStart:
        let target = e["local"]?.bool == true ? "" : " on `\(s(e["canister"]))`"
        out += "- action `\(s(e["operation"]))`\(target)\(e["amount"].map { " amount \(s($0))" } ?? "")\n"
      case .actionEnd where e["result"]?.text != "ok": out += "  - result: \(s(e["result"]))\n"
      case .actionSkipped: out += "- `\(s(e["action"]))` could not apply: \(s(e["reason"]))\n"
      case .ensureNoEffect:
        out += "- ⚠ `\(s(e["action"]))` reported success without effect on `\(s(e["condition"]))`\n"
      case .outcomeUnknown:
        out += "- ⚠ **outcome unknown** for `\(s(e["operation"]))` on `\(s(e["canister"]))`: check before re-running\n"
      case .expectFailed: out += "- ⚠ \(s(e["message"]))\n"
      case .itemFailed: out += "- ✗ item `\(s(e["item"]))` failed: \(s(e["error"])) (the loop went on)\n"
      case .confirm: out += "- confirmed: \(s(e["question"])) → \(s(e["answer"]))\n"
      case .call:
        let carried = e["wallet"].map { " with \(s(e["cycles"])) cycles via wallet `\(s($0))`" } ?? ""
        out += "- `call \(s(e["canister"])).\(s(e["method"]))\(s(e["argument"]))`\(carried) → `\(s(e["reply"]))`\n"
      case .command: out += "- command `\(s(e["argv"]))` exited \(s(e["exit"]))\n"
      case .interrupted: interrupted = true
      case .runStart, .runEnd, .read, .readFailed, .actionEnd, .pending, .reconciled, .withheld, .onFailure,
        .callFailed:
        break
      }
    }
    out += "\n## Result\n\n"
    if let end = entries.last(where: { $0.event == .runEnd }) {
      let recap = end["recap"]?.object ?? [:]
      out +=
        "\(s(recap["changed"])) changed, \(s(recap["ok"])) ok, \(s(recap["skipped"])) skipped, \(s(recap["failed"])) failed — exit \(s(end["exit"]))\n"
      if let failure = end["failure"]?.text { out += "\n**Failure:** \(TerminalText.escaped(failure))\n" }
    } else {
      out +=
        interrupted
        ? "The run was interrupted.\n"
        : "The journal ends before the run did (crash or kill): the last lines above are the last recorded actions.\n"
    }
    return out
  }
}
