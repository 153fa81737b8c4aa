import RbicCandid
import RbicCheck
import RbicDiagnostics
import Synchronization

/// Secrets as taint, enforced at the edge: every secret a run has seen (each `secret` value a
/// builtin typed to return one produced) is remembered, and every output channel — the terminal, `print`, the
/// journal, JSON, the recap, diagnostics, confirmation questions — passes its texts through
/// `scrub` before they are encoded (the journal scrubs each value of an entry, never its JSON),
/// which replaces each secret, raw or in its JSON or Candid escaped forms, with `<secret>`. So a secret that travels inside a list, a record, a command's output or a
/// canister's reply is still never shown, whatever path it took.
package final class Redactor: Sendable {
  /// Texts to replace, longest first (so a secret containing another is replaced whole).
  private let secrets = Mutex<[String]>([])

  package init() {}

  /// Secrets shorter than this are not scrubbed from text (a one-letter secret would blank out
  /// every occurrence of that letter); they are still redacted as values.
  static let minimumLength = 4

  /// Remembers every secret inside `value`.
  package func learn(_ value: Value) {
    var found: [String] = []
    Self.collect(value, into: &found)
    guard !found.isEmpty else { return }
    var forms: [String] = []
    for s in found where s.count >= Self.minimumLength {
      forms.append(s)
      // How the secret reads inside a JSON string literal, and inside a Candid one (a tool's
      // output quotes the arguments it was given, and a canister's reply may echo them).
      forms.append(String(jsonString(s).dropFirst().dropLast()))
      forms.append(String(CandidText.quote(s).dropFirst().dropLast()))
    }
    secrets.withLock { list in
      for f in forms where !list.contains(f) { list.append(f) }
      list.sort { $0.count > $1.count }
    }
  }

  private static func collect(_ value: Value, into found: inout [String]) {
    switch value {
    case .secret(let s): found.append(s.reveal)
    case .list(let items): for item in items { collect(item, into: &found) }
    case .record(_, let values): for v in values { collect(v, into: &found) }
    default: break
    }
  }

  /// `text` with every known secret replaced by `<secret>`.
  package func scrub(_ text: String) -> String {
    let list = secrets.withLock { $0 }
    guard !list.isEmpty else { return text }
    var out = text
    for s in list where out.contains(s) { out = out.replacingOccurrences(of: s, with: "<secret>") }
    return out
  }

  package func scrub(_ d: Diagnostic) -> Diagnostic {
    var d = d
    d.message = scrub(d.message)
    d.labels = d.labels.map {
      var l = $0; l.text = scrub(l.text); return l
    }
    d.notes = d.notes.map {
      var n = $0; n.message = scrub(n.message); return n
    }
    return d
  }
}

extension Value {
  /// Whether a secret is anywhere inside this value.
  package var containsSecret: Bool {
    switch self {
    case .secret: true
    case .list(let items): items.contains { $0.containsSecret }
    case .record(_, let values): values.contains { $0.containsSecret }
    default: false
    }
  }
}
