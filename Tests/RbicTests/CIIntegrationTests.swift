import Foundation
import RbicTooling
import RbicCheck
import RbicRuntime
import Testing
import Yams

/// The CI integration: `scripts/review-runbooks` (what the composite action runs), the action's
/// metadata, and the pre-commit hooks (their manifest is validated by pre-commit in scripts/test).
@Suite struct CIIntegrationTests {
  static func git(_ arguments: [String], in dir: String) throws -> CLI.Result {
    try CLI.run(
      executable: "/usr/bin/git", ["-c", "user.name=rbic", "-c", "user.email=rbic@example.org"] + arguments, in: dir,
      environment: [:], input: nil)
  }

  /// A pull request changes the activation runbook and adds a broken one: the review annotates
  /// the broken one, diffs and plans the changed one as Markdown, saves its plan, and fails.
  @Test func reviewChecksDiffsAndPlansTheChangedRunbooks() throws {
    let dir = try CLI.temporaryDirectory()
    for item in ["scripts", "demo", "canister_ids.json"] {
      try FileManager.default.copyItem(atPath: Corpus.repository + "/" + item, toPath: dir + "/" + item)
    }
    #expect(try Self.git(["init", "-q"], in: dir).status == 0)
    #expect(try Self.git(["add", "-A"], in: dir).status == 0)
    #expect(try Self.git(["commit", "-qm", "base"], in: dir).status == 0)
    let base = try Self.git(["rev-parse", "HEAD"], in: dir).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

    let path = dir + "/scripts/canister-prod-activation.rb.ic"
    var text = try String(contentsOfFile: path, encoding: .utf8)
    text = text.replacingOccurrences(of: "version 2", with: "version 3")
      .replacingOccurrences(of: "cycles >= 1T", with: "cycles >= 2T")
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    try "--param canister=6iu47-dyaaa-aaaaf-qgeza-cai\n--param wasm=demo/user_service_with_metadata.wasm\n".write(
      toFile: dir + "/scripts/canister-prod-activation.ci-params", atomically: true, encoding: .utf8)
    try "runbook \"broken\" version 1\nprint nope\n".write(
      toFile: dir + "/scripts/broken.rb.ic", atomically: true, encoding: .utf8)
    #expect(try Self.git(["add", "-A"], in: dir).status == 0)
    #expect(try Self.git(["commit", "-qm", "change"], in: dir).status == 0)

    let summary = dir + "/summary.md"
    let outputs = dir + "/outputs"
    let review = try CLI.run(
      executable: Corpus.repository + "/scripts/review-runbooks", [], in: dir,
      environment: [
        "RBIC": CLI.binary, "RBIC_BASE": base, "RBIC_PLANS": dir + "/plans", "GITHUB_STEP_SUMMARY": summary,
        "GITHUB_OUTPUT": outputs, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
      ], input: nil)
    #expect(review.status == 1, "the broken runbook fails the review: \(review.stdout)\(review.stderr)")
    #expect(review.stdout.contains("::error file=scripts/broken.rb.ic,line=2"), "\(review.stdout)")
    let markdown = try String(contentsOfFile: summary, encoding: .utf8)
    #expect(markdown.contains("### `scripts/canister-prod-activation.rb.ic`"))
    #expect(markdown.contains("cycles >= 1T → cycles >= 2T"), "the semantic diff: \(markdown)")
    #expect(markdown.contains("Plan: 3 changes"), "the plan: \(markdown)")
    #expect(try String(contentsOfFile: outputs, encoding: .utf8).contains("changed=2"))
    let plan = try SavedPlan.load(path: dir + "/plans/canister-prod-activation.plan.json").plan
    #expect(plan.version == 3 && plan.params["canister"] == "6iu47-dyaaa-aaaaf-qgeza-cai")

    // The reviewed plan is the one applied.
    let applied = try CLI.run(
      ["run", "--plan", dir + "/plans/canister-prod-activation.plan.json", "--yes", "--sim-state", dir + "/s.json"],
      in: dir)
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
  }

  /// The action's steps run scripts that exist, and use only the inputs it declares.
  @Test func theActionIsWellFormed() throws {
    let text = try String(contentsOfFile: Corpus.repository + "/action.yml", encoding: .utf8)
    let action = try #require(try Yams.load(yaml: text) as? [String: Any])
    let inputs = try #require(action["inputs"] as? [String: Any])
    let runs = try #require(action["runs"] as? [String: Any])
    #expect(runs["using"] as? String == "composite")
    let steps = try #require(runs["steps"] as? [[String: Any]])
    var scripts = 0
    for step in steps {
      let body =
        (step["run"] as? String ?? "") + ((step["env"] as? [String: Any])?.values.map { "\($0)" }.joined() ?? "")
        + (step["if"] as? String ?? "")
      if step["uses"] == nil { #expect(step["shell"] as? String == "bash", "a run step names its shell") }
      // The scripts it runs from this repository (not what it builds, under .build/).
      for match in body.matches(of: /\$GITHUB_ACTION_PATH\/(scripts\/[A-Za-z._-]+)/) {
        let path = Corpus.repository + "/" + match.1
        #expect(FileManager.default.isExecutableFile(atPath: path), "\(match.1) exists and runs")
        scripts += 1
      }
      for match in body.matches(of: /inputs\.([a-z-]+)/) {
        #expect(inputs[String(match.1)] != nil, "input `\(match.1)` is declared")
      }
    }
    #expect(scripts >= 1)
  }

  /// The hooks' entries are rbic commands that pass on a good runbook and fail on a bad one.
  @Test func preCommitHooksRunRealCommands() throws {
    let text = try String(contentsOfFile: Corpus.repository + "/.pre-commit-hooks.yaml", encoding: .utf8)
    let hooks = try #require(try Yams.load(yaml: text) as? [[String: Any]])
    #expect(Set(hooks.compactMap { $0["id"] as? String }) == ["rbic-check", "rbic-fmt"])
    let dir = try CLI.temporaryDirectory()
    try "runbook \"ok\" version 1\nprint 1\n".write(toFile: dir + "/ok.rb.ic", atomically: true, encoding: .utf8)
    try "runbook \"bad\" version 1\nprint  nope\n".write(toFile: dir + "/bad.rb.ic", atomically: true, encoding: .utf8)
    for hook in hooks {
      let entry = try #require(hook["entry"] as? String).split(separator: " ").map(String.init)
      #expect(entry.first == "rbic")
      #expect(try CLI.run(Array(entry.dropFirst()) + ["ok.rb.ic"], in: dir).status == 0, "\(entry) passes a good file")
      #expect(try CLI.run(Array(entry.dropFirst()) + ["bad.rb.ic"], in: dir).status != 0, "\(entry) fails a bad one")
    }
  }
}
