import Foundation
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicParser
import RbicRuntime
import Testing

/// The golden corpus: good runbooks check cleanly and format to their golden; bad runbooks give
/// exactly their golden diagnostics; together the bad cases produce every static diagnostic.
@Suite struct CorpusTests {
  @Test(arguments: Corpus.good)
  func goodRunbookChecksAndFormats(_ name: String) throws {
    let program = Corpus.compile(name)
    #expect(!program.hasErrors, "\(name):\n\(Corpus.render(program))")
    #expect(program.diagnostics.isEmpty, "warnings in \(name):\n\(Corpus.render(program))")

    var files = SourceFiles()
    let original = files.add(path: name, bytes: Corpus.read(name))
    let tree = Parser.parse(original)
    let formatted = try #require(Formatter.format(tree))
    Corpus.expectGolden(formatted, name.replacingOccurrences(of: ".rb.ic", with: ".formatted"))

    // Round trip: formatting is idempotent and never changes the tree.
    let again = files.add(path: name, bytes: Array(formatted.utf8))
    let reparsed = Parser.parse(again)
    #expect(reparsed.diagnostics.isEmpty)
    #expect(SyntaxDump.dump(reparsed) == SyntaxDump.dump(tree))
    #expect(Formatter.format(reparsed) == formatted)
  }

  @Test(arguments: Corpus.bad)
  func badRunbookReportsItsDiagnostics(_ name: String) {
    let program = Corpus.compile(name)
    #expect(!program.diagnostics.isEmpty, "\(name) produced no diagnostics")
    Corpus.expectGolden(Corpus.render(program), name.replacingOccurrences(of: ".rb.ic", with: ".diag"))
  }

  @Test func everyStaticDiagnosticIsExercised() {
    var seen: Set<DiagnosticCode> = []
    for name in Corpus.bad {
      for d in Corpus.compile(name).diagnostics { seen.insert(d.code) }
    }
    let missing = Set(DiagnosticCode.allCases).subtracting(DiagnosticCode.notStatic).subtracting(DiagnosticCode.candid)
      .subtracting(seen)
    #expect(missing.isEmpty, "no bad case produces: \(missing.map(\.rawValue).sorted())")
    #expect(Corpus.bad.count >= 60)
  }

  /// Bad runbooks that are still syntactically valid keep formatting idempotently too.
  @Test(arguments: Corpus.bad)
  func formattingIsIdempotentWhereItApplies(_ name: String) throws {
    var files = SourceFiles()
    let tree = Parser.parse(files.add(path: name, bytes: Corpus.read(name)))
    guard let once = Formatter.format(tree) else { return }
    let reparsed = Parser.parse(files.add(path: name, bytes: Array(once.utf8)))
    #expect(SyntaxDump.dump(reparsed) == SyntaxDump.dump(tree))
    #expect(Formatter.format(reparsed) == once)
  }

  @Test func scriptsCheckCleanlyAndAreFormatted() throws {
    let dir = Corpus.repository + "/scripts"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".rb.ic") }
    #expect(names.count >= 3)
    for name in names {
      let path = dir + "/" + name
      // The project is the repository, as `rbic check scripts/*.rb.ic` sees it from its root.
      let program = try Engine(registry: .standard).compile(
        path: path, options: .init(projectDirectory: Corpus.repository))
      #expect(
        program.diagnostics.isEmpty,
        "\(name): \(DiagnosticRenderer(files: program.files, style: .tool).render(program.diagnostics))")
      #expect(
        Formatter.format(program.main).map { Array($0.utf8) } == program.main.file.bytes, "\(name) is not formatted")
    }
  }
}
