import Foundation
import RbicDiagnostics
import RbicParser
import RbicTooling
import Testing

/// Pull-request tooling: semantic diffs and generated documents, against goldens.
@Suite struct ReviewTests {
  static var diffCases: [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: Corpus.root + "/diff")) ?? []
    return names.filter { $0.hasSuffix(".old.rb.ic") }.map { String($0.dropLast(".old.rb.ic".count)) }.sorted()
  }

  func parse(_ relative: String) -> SyntaxTree {
    var files = SourceFiles()
    return Parser.parse(files.add(path: relative, bytes: Corpus.read(relative)))
  }

  @Test(arguments: diffCases)
  func semanticDiffMatchesItsGolden(_ name: String) {
    let diff = RunbookDiff(old: parse("diff/\(name).old.rb.ic"), new: parse("diff/\(name).new.rb.ic"))
    Corpus.expectGolden(diff.text(old: "\(name).old", new: "\(name).new"), "diff/\(name).diff")
    Corpus.expectGolden(diff.markdown(old: "\(name).old", new: "\(name).new"), "diff/\(name).md")
  }

  @Test func formattingOnlyChangeIsNoSemanticChange() throws {
    #expect(Self.diffCases.count >= 4)
    let diff = RunbookDiff(old: parse("diff/formatting-only.old.rb.ic"), new: parse("diff/formatting-only.new.rb.ic"))
    #expect(diff.isEmpty)
    // And formatting any good runbook is no semantic change either.
    for name in Corpus.good {
      let tree = parse(name)
      var files = SourceFiles()
      let formatted = Parser.parse(files.add(path: name, bytes: Array(try #require(Formatter.format(tree)).utf8)))
      #expect(RunbookDiff(old: tree, new: formatted).isEmpty, "\(name)")
    }
  }

  @Test(arguments: Corpus.good)
  func documentMatchesItsGolden(_ name: String) {
    Corpus.expectGolden(RunbookDocument.markdown(parse(name)), name.replacingOccurrences(of: ".rb.ic", with: ".md"))
  }

  @Test func diffWorksAsAGitExternalDiffDriver() throws {
    let old = Corpus.root + "/diff/threshold.old.rb.ic"
    let new = Corpus.root + "/diff/threshold.new.rb.ic"
    let r = try CLI.run(["diff", "scripts/x.rb.ic", old, "1111111aaaa", "100644", new, "2222222bbbb", "100644"])
    #expect(r.status == 0)
    #expect(r.stdout.hasPrefix("scripts/x.rb.ic@1111111 → scripts/x.rb.ic@2222222\n"))
    #expect(r.stdout.contains("~ ensure cycles >= 1T → cycles >= 2T"))
    let added = try CLI.run(["diff", "scripts/x.rb.ic", "/dev/null", ".", ".", new, "2222222bbbb", "100644"])
    #expect(added.status == 2, "a new file has no old version to compare; said clearly")
  }

  @Test func diffReadsRefPathFromGit() throws {
    let dir = try CLI.temporaryDirectory()
    let path = dir + "/r.rb.ic"
    func git(_ args: String...) throws { try CLI.git(dir, args) }
    try git("init", "-q")
    try git("config", "user.email", "t@example.com")
    try git("config", "user.name", "t")
    try String(decoding: Corpus.read("diff/threshold.old.rb.ic"), as: UTF8.self).write(
      toFile: path, atomically: true, encoding: .utf8)
    try git("add", "r.rb.ic")
    try git("commit", "-qm", "v1")
    try String(decoding: Corpus.read("diff/threshold.new.rb.ic"), as: UTF8.self).write(
      toFile: path, atomically: true, encoding: .utf8)
    let r = try CLI.run(["diff", "HEAD:r.rb.ic", "r.rb.ic", "--format", "markdown"], in: dir)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("- Changed: `version: 1 → 2`"))
  }
}

@Suite struct VersioningTests {
  /// A runbook changed since the base ref must raise its version; `--strict` makes it fatal.
  @Test func checkBaseWantsAHigherVersion() throws {
    let dir = try CLI.temporaryDirectory()
    func git(_ args: String...) throws { try CLI.git(dir, args) }
    let original = String(decoding: Corpus.read("diff/threshold.old.rb.ic"), as: UTF8.self)
    try git("init", "-q")
    try git("config", "user.email", "t@example.com")
    try git("config", "user.name", "t")
    try original.write(toFile: dir + "/r.rb.ic", atomically: true, encoding: .utf8)
    try git("add", "r.rb.ic")
    try git("commit", "-qm", "v1")

    // Changed meaning, same version: a warning; fatal with --strict.
    let changed = original.replacingOccurrences(of: "require cycles >= 1T\n", with: "require cycles >= 2T\n")
    try changed.write(toFile: dir + "/r.rb.ic", atomically: true, encoding: .utf8)
    let warn = try CLI.run(["check", "--base", "HEAD", "r.rb.ic"], in: dir, environment: ["NO_COLOR": "1"])
    #expect(warn.status == 0)
    #expect(warn.stderr.contains("warning: the runbook changed since `HEAD` but its version is still 1"))
    #expect(try CLI.run(["check", "--base", "HEAD", "--strict", "r.rb.ic"], in: dir).status == 2)

    // Raised version: clean. Formatting-only change: clean. Lowered version: warned.
    try changed.replacingOccurrences(of: "version 1", with: "version 2").write(
      toFile: dir + "/r.rb.ic", atomically: true, encoding: .utf8)
    #expect(try CLI.run(["check", "--base", "HEAD", "--strict", "r.rb.ic"], in: dir).stderr.isEmpty)
    try original.replacingOccurrences(of: "# Canister production", with: "#   Canister production")
      .write(toFile: dir + "/r.rb.ic", atomically: true, encoding: .utf8)
    #expect(try CLI.run(["check", "--base", "HEAD", "--strict", "r.rb.ic"], in: dir).status == 0)
    try changed.replacingOccurrences(of: "version 1", with: "version 3").write(
      toFile: dir + "/r.rb.ic", atomically: true, encoding: .utf8)
    try git("commit", "-qam", "v3")
    try changed.replacingOccurrences(of: "version 1", with: "version 2").write(
      toFile: dir + "/r.rb.ic", atomically: true, encoding: .utf8)
    let lowered = try CLI.run(["check", "--base", "HEAD", "r.rb.ic"], in: dir, environment: ["NO_COLOR": "1"])
    #expect(lowered.status == 0)
    #expect(lowered.stderr.contains("warning: version went down from 3 at `HEAD` to 2"))
  }
}
