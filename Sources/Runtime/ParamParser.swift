import Foundation
import RbicCheck
import RbicDiagnostics
import RbicLexer

/// `--param NAME=VALUE`: the text is read with the language's literal rules for the param's type.
package enum ParamParser {
  package static func parse(_ text: String, as type: RType) -> Value? {
    switch type {
    case .text: return .text(text)
    case .path: return .path(text)
    case .optional(let inner): return text == "none" ? Value.none : parse(text, as: inner)
    case .list(let inner):
      if text.trimmingCharacters(in: .whitespaces).isEmpty { return .list([]) }
      var out: [Value] = []
      for part in text.split(separator: ",") {
        guard let v = parse(part.trimmingCharacters(in: .whitespaces), as: inner) else { return nil }
        out.append(v)
      }
      return .list(out)
    case .bool: return text == "true" ? .bool(true) : text == "false" ? .bool(false) : nil
    case .status: return CanisterStatus(rawValue: text).map(Value.status)
    case .blob: return ValueFormat.hexBytes(text).map(Value.blob)
    case .principal, .canister, .wallet, .service: return Principal(text: text).map(Value.principal)
    default: break
    }
    var files = SourceFiles()
    let lexed = Lexer.lex(files.add(path: "--param", bytes: Array(text.utf8)))
    guard lexed.diagnostics.isEmpty, lexed.tokens.count == 2 else { return nil }
    switch (type, lexed.tokens[0].literal) {
    case (.int, .int(let v)): return .int(v)
    case (.cycles, .int(let v)): return .cycles(Int128(v))
    case (.bytes, .int(let v)): return .bytes(v)
    case (.cycles, .unit(.cycles, let v)): return .cycles(v)
    case (.icp, .unit(.icp, let v)): return .icp(Int64(v))
    case (.duration, .unit(.duration, let v)): return .duration(Int64(v))
    case (.bytes, .unit(.bytes, let v)): return .bytes(Int64(v))
    case (.hash, .hash(let bytes)): return .hash(bytes)
    default: return nil
    }
  }
}

extension Value {
  /// `text` read as a value of `type` with the language's literal rules, as `--param` reads it
  /// (`10T`, `30min`, `64MiB`, a principal, `a,b` for a list); nil when it is not one.
  public init?(parsing text: String, as type: RType) {
    guard let value = ParamParser.parse(text, as: type) else { return nil }
    self = value
  }

  /// Whether it is an amount of nothing (`0`, `0T`, `0s`, `0B`, `0 ICP`).
  public var isZero: Bool { Arithmetic.isZero(self) }
}
