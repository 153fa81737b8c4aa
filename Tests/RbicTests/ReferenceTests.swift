import Foundation
import RbicCheck
import RbicDiagnostics
import RbicRuntime
import RbicTooling
import Testing

@testable import RbicBackends
@testable import RbicBuiltins

/// The reference never drifts: `docs/builtins.md` and `docs/actions.md` are exactly what the
/// registry generates, and every ```rbic example in the docs type-checks.
/// `RBIC_UPDATE_GOLDENS=1 swift test --filter ReferenceTests` regenerates the two pages.
@Suite struct ReferenceTests {
  @Test(arguments: Reference.Topic.allCases)
  func generatedPagesMatchTheRegistry(_ topic: Reference.Topic) throws {
    let path = Corpus.repository + "/docs/\(topic.rawValue).md"
    let generated = Reference.markdown(topic, registry: .standard)
    if ProcessInfo.processInfo.environment["RBIC_UPDATE_GOLDENS"] != nil {
      try generated.write(toFile: path, atomically: true, encoding: .utf8)
    }
    let page = try String(contentsOfFile: path, encoding: .utf8)
    #expect(
      page == generated,
      "docs/\(topic.rawValue).md is stale: run `rbic help \(topic.rawValue) > docs/\(topic.rawValue).md`")
    let registry = Registry.standard
    let names = topic == .builtins ? Array(registry.builtins.keys) : Array(registry.actions.keys)
    for name in names { #expect(page.contains("\n## `\(name)`\n"), "\(name) is on the page") }
  }

  @Test func helpPrintsTheReferenceOnStandardOutput() throws {
    let builtins = try CLI.run(["help", "builtins"])
    #expect(builtins.status == 0 && builtins.stdout.hasPrefix("# Builtins") && builtins.stderr.isEmpty)
    #expect(builtins.stdout.contains("secret_env(name: text) -> secret?"))
    let actions = try CLI.run(["help", "actions"])
    #expect(actions.status == 0 && actions.stdout.contains("ensure … via wallet WALLET [amount AMOUNT]"))
    let commands = try CLI.run(["help", "run"])
    #expect(commands.status == 0 && commands.stdout.contains("--plan"), "the parser's own help still works")
  }

  @Test func shellCompletionScriptsAreGenerated() throws {
    for shell in ["bash", "zsh", "fish"] {
      let script = try CLI.run(["--generate-completion-script", shell])
      #expect(script.status == 0 && script.stdout.contains("rbic"), "\(shell): \(script.stderr)")
    }
  }

  /// docs/operations.md's tables are the tools' dialect tables, rendered: what the driver runs is
  /// what the reference says (`RBIC_UPDATE_GOLDENS=1` rewrites them).
  @Test func operationsTablesAreTheDialectTables() throws {
    let path = Corpus.repository + "/docs/operations.md"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let begin = "<!-- generated: the tables up to the end marker come from Sources/Backends/ToolDialect.swift -->\n"
    let end = "<!-- end generated -->"
    let start = try #require(text.range(of: begin)), stop = try #require(text.range(of: end))
    let generated = ToolDialect.reference
    if ProcessInfo.processInfo.environment["RBIC_UPDATE_GOLDENS"] == "1" {
      try (String(text[..<start.upperBound]) + generated + String(text[stop.lowerBound...])).write(
        toFile: path, atomically: true, encoding: .utf8)
      return
    }
    #expect(
      String(text[start.upperBound..<stop.lowerBound]) == generated,
      "docs/operations.md's tables differ from ToolDialect: run RBIC_UPDATE_GOLDENS=1 swift test --filter ReferenceTests"
    )
  }

  /// Every ```rbic block in the docs checks as a runbook (a `runbook "doc" version 1` header is
  /// put in front of a block that has none).
  @Test func everyExampleInTheDocsChecks() throws {
    let docs = Corpus.repository + "/docs"
    var checked = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: docs).sorted() where name.hasSuffix(".md") {
      let text = try String(contentsOfFile: docs + "/" + name, encoding: .utf8)
      for (line, block) in Self.blocks(in: text, tag: "rbic") {
        let source = block.hasPrefix("runbook ") ? block : "runbook \"doc\" version 1\n" + block
        let program = Engine(registry: .standard).compile(
          source: Array(source.utf8), path: docs + "/\(name)-\(line).rb.ic",
          options: .init(projectDirectory: Corpus.repository))
        let errors = DiagnosticRenderer(files: program.files, style: .tool).render(
          program.diagnostics.filter { $0.severity == .error })
        #expect(!program.hasErrors, "docs/\(name), the example at line \(line):\n\(errors)")
        checked += 1
      }
    }
    #expect(checked >= 10, "the language reference has examples (\(checked) found)")
  }

  /// Fenced blocks with exactly this tag, with the line their fence opens on.
  static func blocks(in text: String, tag: String) -> [(Int, String)] {
    var out: [(Int, String)] = []
    var current: [String]?
    var start = 0
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      if current == nil, line == "```" + tag {
        current = []
        start = i + 1
      } else if current != nil, line == "```" {
        out.append((start, (current ?? []).joined(separator: "\n") + "\n"))
        current = nil
      } else {
        current?.append(String(line))
      }
    }
    return out
  }
}
