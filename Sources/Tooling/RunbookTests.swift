import Foundation
import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime
import Yams

/// Tests for runbooks (`rbic test`): a YAML file beside the runbook, `NAME.test.yaml` for
/// `NAME.rb.ic`, describing simulated worlds, injected faults, params and the expected outcome.
///
///     runbook: canister-prod-activation.rb.ic   # default: this file's name with .rb.ic
///     params: { wasm: demo/user_service_with_metadata.wasm }   # shared; a test adds or overrides
///     tests:
///       - name: the wdhec forward bug is caught and top_up takes over
///         params: { canister: 6iu47-dyaaa-aaaaf-qgeza-cai }
///         world:                        # a JSON merge patch on the demo world (the sim's state
///           canisters:                  # format; amounts may be written as rbic literals, and
///             6iu47-dyaaa-aaaaf-qgeza-cai: { cycles: 38.8B }     # null removes a field)
///         faults:                       # the sim's faults, appended to the world's
///           - { operation: wallet_send, kind: silent_forward, canister: wdhec-2yaaa-aaaao-a6dgq-cai }
///         canister_ids: { user_service: { ic: mwutv-4iaaa-aaaac-behda-cai } }   # the file the run sees
///         mode: run                     # or plan; options: network, identity, yes (default
///         answers: [y, n]               #   true), read_only, cycles_ceiling; answers: a terminal
///         expect:                       #   answering the questions in order (then refusing)
///           exit: 0
///           recap: { changed: 3, failed: 0 }
///           steps: { "Top up cycles to 1T": changed }
///           warnings: [ "reported success but" ]     # each appears in some warning
///           output: [ "via top_up" ]                 # each appears in the run's output
///           error: "substring of the failure"
///           canisters:
///             6iu47-dyaaa-aaaaf-qgeza-cai: { cycles: ">= 1T", controllers: 4, status: running }
///           canister_ids: { user_service: { production: "*" } }   # "*": any id; none: absent
///         then:                         # further runs on the end state (same journal directory)
///           - expect: { recap: { changed: 0 } }
///
/// Each test runs in-process on the simulated IC, in a scratch project directory that mirrors the
/// working directory (so relative paths resolve) with its own `canister_ids.json` and journal.
public enum RunbookTests {
  /// A problem with a test file itself: exit 2, located.
  public struct FileError: Error, CustomStringConvertible {
    package var path: String
    package var line: Int
    package var column: Int
    package var message: String
    public var description: String { "\(path):\(line):\(column): error: \(message)" }
  }

  /// One expectation that did not hold, at its line in the test file.
  public struct Issue: Sendable {
    public var line: Int
    public var column: Int
    public var message: String
  }

  public struct CaseResult: Sendable {
    public var name: String
    public var file: String
    package var line: Int
    public var issues: [Issue]
    public var seconds: Double
    public var passed: Bool { issues.isEmpty }
  }

  public struct FileResult: Sendable {
    package var path: String
    package var runbook: String
    public var cases: [CaseResult]
  }

  // MARK: - Running a file

  /// Runs every test in `path`. `projectDirectory` is where the runbooks' relative paths resolve
  /// (the working directory for `rbic test`).
  public static func run(
    path: String, projectDirectory: String, registry: Registry = .standard, filter: String? = nil,
    progress: (CaseResult) -> Void = { _ in }
  ) throws(FileError) -> FileResult {
    let suite = try TestFile.parse(path: path)
    let runbookPath = (URL(fileURLWithPath: path).deletingLastPathComponent().path as NSString)
      .appendingPathComponent(suite.runbook)
    let engine = Engine(registry: registry)
    let program: CheckedProgram
    do { program = try engine.compile(path: runbookPath, options: .init(projectDirectory: projectDirectory)) } catch {
      throw FileError(
        path: path, line: suite.runbookLine, column: suite.runbookColumn,
        message: "cannot read the runbook `\(runbookPath)`")
    }
    if program.hasErrors {
      let rendered = DiagnosticRenderer(files: program.files, style: .tool).render(
        program.diagnostics.filter { $0.severity == .error })
      throw FileError(
        path: path, line: suite.runbookLine, column: suite.runbookColumn,
        message: "the runbook does not check:\n\(rendered)")
    }
    var results: [CaseResult] = []
    for test in suite.tests where filter.map({ test.name.contains($0) }) ?? true {
      let started = Date()
      let issues = Case(test: test, suite: suite, program: program, engine: engine, project: projectDirectory).run()
      let result = CaseResult(
        name: test.name, file: path, line: test.line, issues: issues, seconds: Date().timeIntervalSince(started))
      progress(result)
      results.append(result)
    }
    return FileResult(path: path, runbook: runbookPath, cases: results)
  }

  /// Test files under `paths`: a test file as is, a runbook's `NAME.test.yaml` beside it, every
  /// `*.test.yaml` below a directory (hidden directories and `.build` skipped).
  public static func discover(_ paths: [String]) -> (files: [String], missing: [String]) {
    var files: [String] = []
    var missing: [String] = []
    let fm = FileManager.default
    for path in paths {
      var isDirectory: ObjCBool = false
      if path.hasSuffix(".rb.ic") {
        let test = String(path.dropLast(".rb.ic".count)) + ".test.yaml"
        if fm.fileExists(atPath: test) { files.append(test) } else { missing.append(path) }
      } else if fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        // Hidden directories (.build, .git) and node_modules are not walked into.
        var found: [String] = []
        let root = URL(fileURLWithPath: path).standardizedFileURL
        let walk = fm.enumerator(at: root, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
        while let url = walk?.nextObject() as? URL {
          if url.lastPathComponent == "node_modules" {
            walk?.skipDescendants()
          } else if url.lastPathComponent.hasSuffix(".test.yaml") {
            found.append(String(url.standardizedFileURL.path.dropFirst(root.path.count + 1)))
          }
        }
        files += found.sorted().map { path == "." ? $0 : (path as NSString).appendingPathComponent($0) }
      } else if fm.fileExists(atPath: path) {
        files.append(path)
      } else {
        missing.append(path)
      }
    }
    return (files, missing)
  }

  // MARK: - JUnit

  /// JUnit XML for CI: one `testsuite` per test file.
  public static func junit(_ files: [FileResult]) -> String {
    func escape(_ s: String) -> String {
      var out = ""
      for ch in TerminalText.escaped(s) {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(ch)
        }
      }
      return out
    }
    func seconds(_ s: Double) -> String { String(format: "%.3f", s) }
    let all = files.flatMap(\.cases)
    var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    xml +=
      "<testsuites name=\"rbic test\" tests=\"\(all.count)\" failures=\"\(all.filter { !$0.passed }.count)\" time=\"\(seconds(all.reduce(0) { $0 + $1.seconds }))\">\n"
    for f in files {
      let name = escape(f.path)
      xml +=
        "  <testsuite name=\"\(name)\" tests=\"\(f.cases.count)\" failures=\"\(f.cases.filter { !$0.passed }.count)\" time=\"\(seconds(f.cases.reduce(0) { $0 + $1.seconds }))\">\n"
      for c in f.cases {
        xml +=
          "    <testcase classname=\"\(name)\" name=\"\(escape(c.name))\" file=\"\(name)\" line=\"\(c.line)\" time=\"\(seconds(c.seconds))\""
        if c.passed {
          xml += "/>\n"
          continue
        }
        xml += ">\n"
        for issue in c.issues {
          xml +=
            "      <failure message=\"\(escape(issue.message))\" type=\"expectation\">\(escape("\(f.path):\(issue.line):\(issue.column): \(issue.message)"))</failure>\n"
        }
        xml += "    </testcase>\n"
      }
      xml += "  </testsuite>\n"
    }
    return xml + "</testsuites>\n"
  }
}

// MARK: - The file format

/// A YAML node with where it was written.
struct Located {
  var node: Node
  var line: Int { node.mark?.line ?? 1 }
  var column: Int { node.mark?.column ?? 1 }

  subscript(key: String) -> Located? {
    guard case .mapping(let m) = node, let v = m[key] else { return nil }
    return Located(node: v)
  }

  var keys: [(String, Located)] {
    guard case .mapping(let m) = node else { return [] }
    return m.map { ($0.key.string ?? "", Located(node: $0.value)) }
  }

  var items: [Located]? {
    guard case .sequence(let s) = node else { return nil }
    return s.map { Located(node: $0) }
  }

  var text: String? {
    guard case .scalar(let s) = node else { return nil }
    return s.string
  }

  var isNull: Bool {
    guard case .scalar(let s) = node, s.style == .plain else { return false }
    return ["null", "~", ""].contains(s.string)
  }

  /// JSON-compatible: plain scalars as null, bools and integers where they read as such.
  /// At most `budget` nodes (a YAML alias bomb stops here).
  func json(_ budget: inout Int) -> Any? {
    budget -= 1
    guard budget > 0 else { return nil }
    switch node {
    case .scalar(let s):
      if s.style != .plain { return s.string }
      if isNull { return NSNull() }
      if s.string == "true" || s.string == "false" { return s.string == "true" }
      if let i = Int64(s.string) { return i }
      return s.string
    case .mapping(let m):
      var out: [String: Any] = [:]
      for (k, v) in m {
        guard let key = k.string, let value = Located(node: v).json(&budget) else { return nil }
        out[key] = value
      }
      return out
    case .sequence(let s):
      var out: [Any] = []
      for v in s {
        guard let value = Located(node: v).json(&budget) else { return nil }
        out.append(value)
      }
      return out
    case .alias: return nil
    }
  }
}

struct TestFile {
  var path: String
  var runbook: String
  var runbookLine: Int
  var runbookColumn: Int
  var params: [String: String]
  /// A world patch every test of the file starts from (a test's own `world:` goes on top).
  var world: Located?
  /// Environment variables every test's runs see (`PATH` too; a test's own `env:` goes on top).
  var environment: [String: String] = [:]
  var tests: [TestCase]

  static let budget = 100_000

  static func parse(path: String) throws(RunbookTests.FileError) -> TestFile {
    func fail(_ at: Located?, _ message: String) -> RunbookTests.FileError {
      RunbookTests.FileError(path: path, line: at?.line ?? 1, column: at?.column ?? 1, message: message)
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw fail(nil, "cannot read `\(path)`") }
    guard data.count <= 4 << 20 else { throw fail(nil, "a test file of \(data.count) bytes is over the 4 MiB limit") }
    let root: Located
    do {
      guard let node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) else {
        throw fail(nil, "the file is empty")
      }
      root = Located(node: node)
    } catch let error as RunbookTests.FileError {
      throw error
    } catch let error as YamlError {
      throw Self.located(error, path: path)
    } catch {
      throw fail(nil, "not YAML: \(error)")
    }
    guard case .mapping = root.node else { throw fail(root, "a test file is a mapping with `tests:`") }
    let known: Set = ["runbook", "params", "world", "env", "tests"]
    for (key, value) in root.keys where !known.contains(key) {
      throw fail(value, "unknown key `\(key)` (a test file has `runbook`, `params`, `world`, `env`, `tests`)")
    }
    let name = URL(fileURLWithPath: path).lastPathComponent
    let defaultRunbook = name.hasSuffix(".test.yaml") ? String(name.dropLast(".test.yaml".count)) + ".rb.ic" : name
    var file = TestFile(
      path: path, runbook: root["runbook"]?.text ?? defaultRunbook, runbookLine: root["runbook"]?.line ?? 1,
      runbookColumn: root["runbook"]?.column ?? 1,
      params: try strings(root["params"], fail), world: root["world"],
      environment: try strings(root["env"], fail), tests: [])
    guard let tests = root["tests"]?.items, !tests.isEmpty else {
      throw fail(root["tests"] ?? root, "`tests:` is a list of tests, each with a `name` and an `expect`")
    }
    var names: Set<String> = []
    for t in tests {
      let test = try TestCase.parse(t, fail)
      guard names.insert(test.name).inserted else { throw fail(t["name"], "a second test named `\(test.name)`") }
      file.tests.append(test)
    }
    return file
  }

  static func strings(_ node: Located?, _ fail: (Located?, String) -> RunbookTests.FileError) throws(RunbookTests
    .FileError) -> [String: String]
  {
    guard let node else { return [:] }
    guard case .mapping = node.node else { throw fail(node, "a mapping of NAME: VALUE") }
    var out: [String: String] = [:]
    for (k, v) in node.keys {
      guard let text = v.text else { throw fail(v, "`\(k)` is a value written as text") }
      out[k] = text
    }
    return out
  }

  static func located(_ error: YamlError, path: String) -> RunbookTests.FileError {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
      return .init(path: path, line: mark.line, column: mark.column, message: "not YAML: \(problem)")
    case .composer(_, let problem, let mark, _):
      return .init(path: path, line: mark.line, column: mark.column, message: "not YAML: \(problem)")
    default:
      return .init(path: path, line: 1, column: 1, message: "not YAML: \(error)")
    }
  }
}

struct TestCase {
  var name: String
  var line: Int
  var run: RunSpec
  var then: [RunSpec]

  static func parse(_ node: Located, _ fail: (Located?, String) -> RunbookTests.FileError) throws(RunbookTests
    .FileError) -> TestCase
  {
    guard let name = node["name"]?.text, !name.isEmpty else { throw fail(node, "a test needs a `name`") }
    var then: [RunSpec] = []
    for t in node["then"]?.items ?? [] { then.append(try RunSpec.parse(t, fail, first: false)) }
    if let t = node["then"], t.items == nil { throw fail(t, "`then:` is a list of runs") }
    return TestCase(name: name, line: node.line, run: try RunSpec.parse(node, fail, first: true), then: then)
  }
}

/// One run of a test: its inputs and what is expected.
struct RunSpec {
  var params: [String: String]
  var world: Located?
  var faults: Located?
  var canisterIDs: Located?
  var mode: RunOptions.Mode
  var options: [String: Located]
  var answers: [String]?
  var expect: Located
  /// Environment variables for this run, over the file's.
  var environment: [String: String] = [:]

  static let keys: Set = [
    "name", "params", "world", "faults", "canister_ids", "mode", "network", "identity", "yes", "read_only",
    "cycles_ceiling", "answers", "expect", "then", "env",
  ]

  static func parse(_ node: Located, _ fail: (Located?, String) -> RunbookTests.FileError, first: Bool)
    throws(RunbookTests.FileError) -> RunSpec
  {
    // A later run continues the first one's world, as the first one's identity.
    let allowed = first ? keys : keys.subtracting(["name", "then", "world", "identity"])
    for (key, value) in node.keys where !allowed.contains(key) {
      let why = first || !keys.contains(key) ? "" : " (a later run continues the first one's world, identity and name)"
      throw fail(
        value,
        "unknown key `\(key)` here\(why); \(first ? "a test" : "a run under `then`") has: \(allowed.sorted().joined(separator: ", "))"
      )
    }
    guard let expect = node["expect"], case .mapping = expect.node else {
      throw fail(node, "a run needs `expect:` (exit, recap, steps, warnings, output, error, canisters, canister_ids)")
    }
    var mode = RunOptions.Mode.run
    if let m = node["mode"] {
      guard let text = m.text, let parsed = RunOptions.Mode(rawValue: text) else {
        throw fail(m, "`mode` is `run` or `plan`")
      }
      mode = parsed
    }
    var options: [String: Located] = [:]
    for key in ["network", "identity", "yes", "read_only", "cycles_ceiling"] { options[key] = node[key] }
    var answers: [String]?
    if let a = node["answers"] {
      guard let items = a.items else { throw fail(a, "`answers` is a list of y or n") }
      answers = []
      for item in items {
        guard let t = item.text, ["y", "n", "yes", "no"].contains(t) else { throw fail(item, "an answer is y or n") }
        answers?.append(t)
      }
    }
    if let faults = node["faults"], faults.items == nil {
      throw fail(faults, "`faults:` is a list of the sim's faults")
    }
    return RunSpec(
      params: try TestFile.strings(node["params"], fail), world: node["world"], faults: node["faults"],
      canisterIDs: node["canister_ids"], mode: mode, options: options, answers: answers, expect: expect,
      environment: try TestFile.strings(node["env"], fail))
  }
}
