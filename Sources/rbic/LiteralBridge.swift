import RbicDiagnostics
import RbicLexer
import RbicRuntime

/// Reads a cycles amount with the lexer's literal rules (`10T`, `500B`, `1_000`).
enum RbicLexerBridge {
  static func literal(_ text: String, _ files: inout SourceFiles) -> Value? {
    let lexed = Lexer.lex(files.add(path: "argument", bytes: Array(text.utf8)))
    guard lexed.diagnostics.isEmpty, lexed.tokens.count == 2 else { return nil }
    switch lexed.tokens[0].literal {
    case .unit(.cycles, let v): return .cycles(v)
    case .int(let v): return .cycles(Int128(v))
    default: return nil
    }
  }
}
