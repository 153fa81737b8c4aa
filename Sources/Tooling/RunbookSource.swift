import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser

/// A runbook's text as the commands that work on it read it — `fmt`, `doc`, `diff`, the
/// versioning check, the MCP server's `describe` — parsed, not checked. The syntax tree stays
/// the package's own: a command asks for what it needs (the formatted text, the document, the
/// diff, the header, the steps' titles), never for the tree.
public struct RunbookSource {
  let tree: SyntaxTree

  /// Parses `bytes`, added to `files` as `path` (so diagnostics render against them).
  public init(path: String, bytes: [UInt8], into files: inout SourceFiles) {
    tree = Parser.parse(files.add(path: path, bytes: bytes))
  }

  /// The main file of a checked program.
  public init(_ program: CheckedProgram) { tree = program.main }

  init(_ tree: SyntaxTree) { self.tree = tree }

  public var path: String { tree.file.path }
  /// The syntax errors, in source order, at most `Diagnostic.perFileLimit` of them.
  public var errors: [Diagnostic] { tree.diagnostics.filter { $0.severity == .error }.sortedBySource().capped() }
  /// Every diagnostic the parser gave, in source order, capped per file.
  public var diagnostics: [Diagnostic] { tree.diagnostics.sortedBySource().capped() }
  public var hasErrors: Bool { tree.diagnostics.hasErrors }
  /// The `runbook "NAME" version N` line's name and version, and where the version is written.
  public var name: String? { tree.header?.name }
  public var version: Int64? { tree.header?.version }
  public var versionRange: SourceRange? { tree.header?.versionRange }

  /// The file in `rbic fmt`'s layout, or nil when it has syntax errors.
  public func formatted() -> String? { Formatter.format(tree) }
  /// The runbook as Markdown for people (`rbic doc`).
  public func document() -> String { RunbookDocument.markdown(tree) }
  /// What changed in meaning from `old` to this one (`rbic diff`).
  public func changes(since old: RunbookSource) -> RunbookDiff { RunbookDiff(old: old.tree, new: tree) }

  /// The steps' titles, in the order they are written (nested ones included).
  public var stepTitles: [String] {
    var titles: [String] = []
    SyntaxWalk.statements(tree.statements) { s in
      if case .step(let title, _, _) = s.kind { titles.append(SyntaxTree.plainText(title, in: tree)) }
    }
    return titles
  }

  /// How many brackets and braces one line of input opens (negative: closes); strings end on
  /// their line, so the REPL counts continuation lines one at a time.
  public static func bracketDelta(_ line: String) -> Int {
    var files = SourceFiles()
    var depth = 0
    for t in Lexer.lex(files.add(path: "input", bytes: Array(line.utf8))).tokens {
      switch t.kind {
      case .lParen, .lBracket, .lBrace: depth += 1
      case .rParen, .rBracket, .rBrace: depth -= 1
      default: break
      }
    }
    return depth
  }

  /// The words the REPL completes as keywords.
  public static let keywords = Keyword.completionWords
}
