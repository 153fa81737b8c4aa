import RbicDiagnostics
import Testing

@Suite struct DiagnosticRendererTests {
  @Test func humanRenderingShowsExcerptCaretsLabelsAndNotes() {
    var files = SourceFiles()
    let file = files.add(path: "scripts/x.rb.ic", bytes: Array("step \"v\" on c {\n  require hash == build\n}\n".utf8))
    let hashRange = SourceRange(file: file.id, start: 26, end: 30)
    let buildRange = SourceRange(file: file.id, start: 34, end: 39)
    let d = Diagnostic.error(
      .assertionFailed, "require failed: hash == build", at: hashRange,
      labels: [.init(hashRange, "0x9ef2676…e98e9f7"), .init(buildRange, "0x9e3275f0…084533")]
    ).note("in step 1 \"v\"")
    let text = DiagnosticRenderer(files: files, style: .human(colors: false)).render(d)
    // The layout of DESIGN §2.4.
    #expect(
      text == """
        error: require failed: hash == build
         --> scripts/x.rb.ic:2:11
          |
        2 |   require hash == build
          |           ^~~~    ^~~~~ 0x9e3275f0…084533
          |           0x9ef2676…e98e9f7
          = note: in step 1 "v"

        """)
  }

  @Test func labelsSitUnderTheirOwnMarks() {
    var files = SourceFiles()
    let file = files.add(path: "t", bytes: Array("ensure hash == build via wallet w\n".utf8))
    let d = Diagnostic.error(
      .actionCannotConverge, "`wallet` cannot make `hash == build` true",
      at: SourceRange(file: file.id, start: 25, end: 31),
      labels: [.init(SourceRange(file: file.id, start: 7, end: 20), "the condition")])
    let text = DiagnosticRenderer(files: files, style: .human(colors: false)).render(d)
    #expect(
      text.contains(
        "1 | ensure hash == build via wallet w\n  |        ^~~~~~~~~~~~~     ^~~~~~\n  |        the condition\n"))
  }

  @Test func toolFormatIsOneLinePerDiagnosticAndNote() {
    var files = SourceFiles()
    let file = files.add(path: "a.rb.ic", bytes: Array("x\ny zz\n".utf8))
    let d = Diagnostic.error(.unknownName, "unknown name `zz`", at: SourceRange(file: file.id, start: 4, end: 6)).help(
      "did you mean `z`?")
    #expect(
      DiagnosticRenderer(files: files, style: .tool).render(d)
        == "a.rb.ic:2:3: error: unknown name `zz` [unknown-name]\na.rb.ic:2:3: help: did you mean `z`?\n")
  }

  @Test func colourOnlyWhenAsked() {
    var files = SourceFiles()
    let file = files.add(path: "a", bytes: Array("x\n".utf8))
    let d = Diagnostic.error(.unknownName, "m", at: SourceRange(file: file.id, start: 0, end: 1))
    #expect(DiagnosticRenderer(files: files, style: .human(colors: true)).render(d).contains("\u{1B}[1;31m"))
    #expect(!DiagnosticRenderer(files: files, style: .human(colors: false)).render(d).contains("\u{1B}["))
  }

  @Test func jsonEscapesControlCharacters() {
    #expect(jsonString("a\u{1B}[31m") == #""a\u001b[31m""#)
  }

  @Test func jsonEscapesAndPositions() {
    var files = SourceFiles()
    let file = files.add(path: "q\"t", bytes: Array("ab\ncd\n".utf8))
    let d = Diagnostic.error(.unknownName, "line\nbreak", at: SourceRange(file: file.id, start: 4, end: 5))
    #expect(
      DiagnosticRenderer(files: files, style: .tool).renderJSON([d])
        == #"[{"file":"q\"t","line":2,"column":2,"endLine":2,"endColumn":3,"severity":"error","code":"unknown-name","message":"line\nbreak","notes":[]}]"#
    )
  }

  @Test func githubAnnotationsEscapeTheirData() {
    var files = SourceFiles()
    let file = files.add(path: "scripts/a,b.rb.ic", bytes: Array("x\ny zz\n".utf8))
    let d = Diagnostic.warning(.unusedBinding, "100% unused", at: SourceRange(file: file.id, start: 4, end: 6)).help(
      "remove it")
    #expect(
      DiagnosticRenderer(files: files, style: .tool).renderGitHub([d])
        == "::warning file=scripts/a%2Cb.rb.ic,line=2,col=3,endLine=2,endColumn=5,title=rbic unused-binding::100%25 unused%0Ahelp: remove it\n"
    )
  }
}
