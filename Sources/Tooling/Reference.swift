import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime

/// The reference of a registry's builtins and actions, as Markdown, generated from their
/// signatures and summaries (`rbic help builtins`, `rbic help actions`; `docs/builtins.md` and
/// `docs/actions.md` are this output, checked in CI so they never drift). A host documents its own
/// registry the same way.
public enum Reference {
  public enum Topic: String, CaseIterable, Sendable {
    case builtins, actions
  }

  public static func markdown(_ topic: Topic, registry: Registry) -> String {
    switch topic {
    case .builtins: builtins(registry)
    case .actions: actions(registry)
    }
  }

  static func builtins(_ registry: Registry) -> String {
    var out = """
      # Builtins

      Generated from rbic's registry by `rbic help builtins`; do not edit by hand. Each builtin is
      called like a function; arguments with a default may be left out and are then passed by
      label (`find_canister_id("user_service", key: "production")`). Builtins that act (create,
      snapshot, convert, run a command) go through the same gates as actions: nothing changes in
      `plan` or `--read-only`, mainnet asks, cycles count against the ceiling, everything is
      journaled.

      """
    for b in registry.builtins.values.sorted(by: { $0.name < $1.name }) {
      var parameters = b.parameters.map { p in
        (p.type.isError ? p.name : "\(p.name): \(p.type)") + (p.defaultDescription.map { " = \($0)" } ?? "")
      }
      if let v = b.variadic { parameters.append("\(v.isError ? "value" : "\(v)")…") }
      let result = b.typeRule != nil || b.result.isError ? "(depends on the arguments)" : "\(b.result)"
      out += "\n## `\(b.name)`\n\n```text\n\(b.name)(\(parameters.joined(separator: ", "))) -> \(result)\n```\n\n"
      out += sentence(b.summary) + "\n"
    }
    return out
  }

  static func actions(_ registry: Registry) -> String {
    var out = """
      # Actions

      Generated from rbic's registry by `rbic help actions`; do not edit by hand. An action is named
      after `via` in an `ensure` and makes the condition true when it does not hold
      (`ensure cycles >= 1T via wallet wdhec or top_up`): rbic reads the state, asks the action only
      if the condition fails, re-reads, and checks again. The checker refuses an action that cannot
      make the condition true. Every action goes through the effect pipeline (read-only refusal,
      the cycles ceiling, the mainnet question, locks, the journal, and prediction in `plan`).

      """
    for a in registry.actions.values.sorted(by: { $0.name < $1.name }) {
      var form = a.name
      if let p = a.positional { form += a.positionalRequired ? " \(p.name.uppercased())" : " [\(p.name.uppercased())]" }
      for l in a.labeled {
        form += Action.flagWords.contains(l.name) ? " [\(l.name)]" : " [\(l.name) \(l.name.uppercased())]"
      }
      out += "\n## `\(a.name)`\n\n```text\nensure … via \(form)\n```\n\n"
      out += sentence(a.summary) + "\n\n"
      let converges = a.converges.map { c -> String in
        guard let status = a.requiredStatus, case .comparison(let p, _) = c else { return "`\(c)`" }
        return "`\(p.rawValue) == \(status)`"
      }
      out += "- Converges: \(converges.joined(separator: ", "))\n"
      if let p = a.positional {
        out += "- `\(p.name.uppercased())`: a `\(p.type)`\(a.positionalRequired ? "" : " (optional)")\n"
      }
      for l in a.labeled {
        if Action.flagWords.contains(l.name) {
          out += "- `\(l.name)`: a word on its own\n"
          continue
        }
        let words = a.words[l.name].map { " — one of " + $0.map { "`\($0)`" }.joined(separator: ", ") } ?? ""
        let type =
          l.name == a.candidArgument ? "Candid value, checked against the canister's init arguments" : "`\(l.type)`"
        out += "- `\(l.name) \(l.name.uppercased())`: a \(type)\(words)\n"
      }
    }
    return out
  }

  /// A summary as a sentence: capitalised, with a full stop.
  private static func sentence(_ text: String) -> String {
    guard let first = text.first else { return text }
    let body = first.uppercased() + text.dropFirst()
    return body.hasSuffix(".") ? body : body + "."
  }
}
