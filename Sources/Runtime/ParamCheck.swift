import RbicCheck
import RbicDiagnostics
import RbicLexer

extension CheckedProgram {
  /// Why `params` (as `--param NAME=VALUE` gives them) cannot run this program — a name it has no
  /// param for, a value that is not of its param's type (saying what is wrong with it), or a
  /// required param missing — or nil. A usage error, found before anything is started, printed or
  /// written.
  package func paramProblem(_ params: [String: String]) -> RuntimeError? {
    let at = main.header?.range ?? SourceRange(file: main.file.id, start: 0, end: 0)
    for name in params.keys.sorted() where !self.params.contains(where: { $0.name == name }) {
      let known = self.params.map(\.name)
      let guess = closestMatch(to: name, in: known).map { " (did you mean `\($0)`?)" }
      let list = known.isEmpty ? "no params" : known.map { "`\($0)`" }.joined(separator: ", ")
      return RuntimeError(
        .usage, .error(.runtimeError, "unknown param `\(name)`\(guess ?? ""); this runbook takes \(list)", at: at))
    }
    for p in self.params {
      if let text = params[p.name] {
        guard ParamParser.parse(text, as: p.type) == nil else { continue }
        let why = ParamParser.problem(text, as: p.type).map { ": \($0)" } ?? ""
        return RuntimeError(
          .usage, .error(.runtimeError, "`--param \(p.name)=\(text)` is not a valid `\(p.type)`\(why)", at: p.range))
      } else if p.defaultValue == nil, !p.type.isOptional {
        return RuntimeError(
          .usage,
          .error(
            .runtimeError, "missing required param `\(p.name)`: pass `--param \(p.name)=…` (a `\(p.type)`)",
            at: p.range))
      }
    }
    return nil
  }
}

extension ParamParser {
  /// What is wrong with `text` as a `type`, when the type has more to say than "not valid".
  package static func problem(_ text: String, as type: RType) -> String? {
    switch type {
    case .optional(let inner): return problem(text, as: inner)
    case .list(let inner):
      return text.split(separator: ",").lazy.compactMap { problem($0.trimmingCharacters(in: .whitespaces), as: inner) }
        .first
    case .principal, .canister, .wallet, .service:
      if text.isEmpty { return "it is empty" }
      if text.contains(where: { $0.isUppercase }) { return "principals are written in lowercase" }
      let groups = text.split(separator: "-", omittingEmptySubsequences: false)
      if let bad = groups.dropLast().first(where: { $0.count != 5 }) {
        return "each group has 5 characters (the last may have fewer), and `\(bad)` has \(bad.count)"
      }
      switch PrincipalText.decode(text) {
      case .success: return nil
      case .failure(.checksum): return "its checksum does not match (a character is wrong or two are swapped)"
      case .failure(.malformed(let why)): return why
      }
    case .bool: return "it is `true` or `false`"
    default: return nil
    }
  }
}
