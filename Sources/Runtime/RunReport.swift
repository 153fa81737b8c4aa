import Foundation
import RbicDiagnostics

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
    let events: [[String: Any]] = String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
      (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
    guard let start = events.first(where: { $0["event"] as? String == "run_start" }) else {
      throw .notAJournal(journalPath)
    }
    func s(_ v: Any?) -> String {
      switch v {
      case let t as String: TerminalText.escaped(t)  // a reply or tool output may carry escapes
      case let n as NSNumber: String(cString: n.objCType) == "c" ? (n.boolValue ? "true" : "false") : n.stringValue
      case nil: "—"
      case let other?: String(describing: other)
      }
    }
    var out = "# Run report: \(s(start["runbook"])) v\(s(start["version"]))\n\n"
    out +=
      "- **Mode:** \(s(start["mode"])) · **network:** `\(s(start["network"]))` · **backend:** \(s(start["backend"]))\n"
    out += "- **Identity:** `\(s(start["identity"]))` (`\(s(start["principal"]))`)\n"
    out += "- **Started:** \(s(start["t"])) · **source sha256:** `\(s(start["source_sha256"]))`\n"
    if let params = start["params"] as? [String: Any], !params.isEmpty {
      out +=
        "- **Params:** " + params.keys.sorted().map { "`\($0)` = `\(s(params[$0]))`" }.joined(separator: ", ") + "\n"
    }
    out += "\n## Steps\n"
    var interrupted = false
    for e in events {
      switch s(e["event"]) {
      case "step_start": out += "\n### \(s(e["step"])). \(s(e["title"]))\n\n"
      case "step_end": out += "- **Outcome: \(s(e["outcome"]))**\(e["reason"].map { ": \(s($0))" } ?? "")\n"
      case "ensure":
        let detail = e["via"].map { " via \(s($0)) (\(s(e["before"])) → \(s(e["after"])))" } ?? ""
        out += "- `ensure \(s(e["condition"]))`: \(s(e["outcome"]))\(detail)\n"
      case "action_start":
        out +=
          "- action `\(s(e["operation"]))` on `\(s(e["canister"]))`\(e["amount"].map { " amount \(s($0))" } ?? "")\n"
      case "action_end" where s(e["result"]) != "ok": out += "  - result: \(s(e["result"]))\n"
      case "action_skipped": out += "- `\(s(e["action"]))` could not apply: \(s(e["reason"]))\n"
      case "ensure_no_effect":
        out += "- ⚠ `\(s(e["action"]))` reported success without effect on `\(s(e["condition"]))`\n"
      case "outcome_unknown":
        out += "- ⚠ **outcome unknown** for `\(s(e["operation"]))` on `\(s(e["canister"]))`: check before re-running\n"
      case "expect_failed": out += "- ⚠ \(s(e["message"]))\n"
      case "confirm": out += "- confirmed: \(s(e["question"])) → \(s(e["answer"]))\n"
      case "call": out += "- `call \(s(e["canister"])).\(s(e["method"]))\(s(e["argument"]))` → `\(s(e["reply"]))`\n"
      case "command":
        out += "- command `\((e["argv"] as? [Any])?.map(s).joined(separator: " ") ?? "")` exited \(s(e["exit"]))\n"
      case "interrupted": interrupted = true
      default: break
      }
    }
    out += "\n## Result\n\n"
    if let end = events.last(where: { $0["event"] as? String == "run_end" }) {
      let recap = end["recap"] as? [String: Any] ?? [:]
      out +=
        "\(s(recap["changed"])) changed, \(s(recap["ok"])) ok, \(s(recap["skipped"])) skipped, \(s(recap["failed"])) failed — exit \(s(end["exit"]))\n"
      if let failure = end["failure"] as? String { out += "\n**Failure:** \(failure)\n" }
    } else {
      out +=
        interrupted
        ? "The run was interrupted.\n"
        : "The journal ends before the run did (crash or kill): the last lines above are the last recorded actions.\n"
    }
    return out
  }
}
