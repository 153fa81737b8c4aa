import Foundation
import RbicBackends
import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime
import Synchronization

/// One test: builds its world and scratch project, runs the runbook (and the `then:` runs) on
/// the simulated IC, and checks each expectation, collecting every one that does not hold.
struct Case {
  let test: TestCase
  let suite: TestFile
  let program: CheckedProgram
  let engine: Engine
  let project: String

  func run() -> [RunbookTests.Issue] {
    var issues: [RunbookTests.Issue] = []
    func issue(_ at: Located?, _ message: String) {
      issues.append(.init(line: at?.line ?? test.line, column: at?.column ?? 1, message: message))
    }
    let scratch: String
    do { scratch = try Self.scratchProject(mirroring: project) } catch {
      issue(nil, "cannot make a scratch project directory: \(error)")
      return issues
    }
    defer { try? FileManager.default.removeItem(atPath: scratch) }

    // The world: the demo world, patched, with the faults appended.
    guard let world = state(issue) else { return issues }
    let sim = SimulatedIC(state: world, identity: test.run.options["identity"]?.text)
    for (index, spec) in ([test.run] + test.then).enumerated() {
      if index == 0 || spec.canisterIDs != nil {
        guard writeCanisterIDs(spec.canisterIDs, to: scratch, issue) else { return issues }
      }
      if index > 0, let faults = spec.faults {
        guard let added = decodeFaults(faults, issue) else { return issues }
        sim.addFaults(added)
      }
      let outcome = execute(spec, sim: sim, scratch: scratch, issue)
      guard let outcome else { return issues }
      check(spec, outcome, sim: sim, scratch: scratch, issue)
    }
    return issues
  }

  // MARK: - Setup

  /// A directory whose entries are symbolic links to the project's (so the runbook's relative
  /// paths resolve), except `canister_ids.json`, which each test writes for itself.
  static func scratchProject(mirroring project: String) throws -> String {
    let fm = FileManager.default
    let dir = fm.temporaryDirectory.appendingPathComponent("rbic-test-\(UUID().uuidString)").path
    try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for entry in try fm.contentsOfDirectory(atPath: project) where entry != "canister_ids.json" && entry != ".rbic" {
      try fm.createSymbolicLink(
        atPath: (dir as NSString).appendingPathComponent(entry),
        withDestinationPath: (project as NSString).appendingPathComponent(entry))
    }
    return dir
  }

  /// The test's `canister_ids:` as the file, or the project's own file when the test gives none.
  func writeCanisterIDs(_ node: Located?, to scratch: String, _ issue: (Located?, String) -> Void) -> Bool {
    let target = (scratch as NSString).appendingPathComponent("canister_ids.json")
    var data: Data?
    if let node, node.isNull {
      data = nil  // `canister_ids: null`: no file
    } else if let node {
      var budget = TestFile.budget
      guard let object = node.json(&budget), JSONSerialization.isValidJSONObject(object) else {
        issue(node, "`canister_ids:` is a mapping of NAME: { NETWORK: ID }")
        return false
      }
      data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    } else {
      data = FileManager.default.contents(atPath: (project as NSString).appendingPathComponent("canister_ids.json"))
    }
    try? FileManager.default.removeItem(atPath: target)
    guard let data else { return true }
    guard FileManager.default.createFile(atPath: target, contents: data) else {
      issue(node, "cannot write the scratch canister_ids.json")
      return false
    }
    return true
  }

  /// Keys whose values are amounts of cycles: rbic literals (`38.8B`) are accepted there.
  static let cycleKeys: Set = [
    "cycles", "cycles_ledger", "reserved_cycles", "reserved_cycles_limit", "idle_cycles_burned_per_day",
    "cycles_per_icp",
  ]

  func state(_ issue: (Located?, String) -> Void) -> SimulatedIC.State? {
    var world = SimulatedIC.demoWorld
    // The file's world, then the test's own on top.
    for patch in [suite.world, test.run.world].compactMap({ $0 }) {
      var budget = TestFile.budget
      guard let changes = patch.json(&budget) as? [String: Any] else {
        issue(patch, "`world:` is a mapping patched onto the demo world (the sim's state format)")
        return nil
      }
      do {
        let encoded = try JSONEncoder().encode(world)
        guard let base = try JSONSerialization.jsonObject(with: encoded) as? [String: Any] else { return nil }
        let merged = Self.mergePatch(base, Self.amounts(changes))
        world = try SimulatedIC.decode(try JSONSerialization.data(withJSONObject: merged))
      } catch let error as SimulatedIC.StateError {
        issue(Self.locate(error.path[...], in: patch), "the world is not a valid sim state: \(error.description)")
        return nil
      } catch {
        issue(patch, "the world is not a valid sim state: \(SavedPlan.reasonText(error))")
        return nil
      }
    }
    if let faults = test.run.faults {
      guard let added = decodeFaults(faults, issue) else { return nil }
      world.faults = (world.faults ?? []) + added
    }
    return world
  }

  /// The node a state's path leads to from `node`, as far as the test file gives it: a value the
  /// file does not give (the demo world's) is reported at the deepest node it does.
  static func locate(_ path: ArraySlice<SimulatedIC.PathItem>, in node: Located) -> Located {
    var here = node
    for item in path {
      let next: Located?
      switch item {
      case .key(let key): next = here[key]
      case .index(let i): next = here.items.flatMap { $0.indices.contains(i) ? $0[i] : nil }
      }
      guard let next else { break }
      here = next
    }
    return here
  }

  func decodeFaults(_ node: Located, _ issue: (Located?, String) -> Void) -> [SimulatedIC.Fault]? {
    var budget = TestFile.budget
    guard let list = node.json(&budget), let data = try? JSONSerialization.data(withJSONObject: list) else {
      issue(node, "`faults:` is a list of the sim's faults")
      return nil
    }
    do { return try SimulatedIC.decodeFaults(data) } catch let error as SimulatedIC.StateError {
      // The error names `faults[i]…`; the node is the list itself.
      issue(Self.locate(error.path.dropFirst(), in: node), error.description)
      return nil
    } catch {
      issue(
        node,
        "a fault is { operation, kind[, canister, times, code, message, delay_ms] }: \(SavedPlan.reasonText(error))")
      return nil
    }
  }

  /// RFC 7386: objects merge, null removes, anything else replaces.
  static func mergePatch(_ target: Any, _ patch: Any) -> Any {
    guard let patch = patch as? [String: Any] else { return patch }
    var result = target as? [String: Any] ?? [:]
    for (key, value) in patch {
      if value is NSNull { result[key] = nil } else { result[key] = mergePatch(result[key] as Any, value) }
    }
    return result
  }

  /// Amounts written as rbic literals (`38.8B`, `5T`), or as YAML integers, become the sim's
  /// decimal strings.
  static func amounts(_ value: Any, key: String? = nil) -> Any {
    if let object = value as? [String: Any] {
      return object.reduce(into: [String: Any]()) { $0[$1.key] = amounts($1.value, key: $1.key) }
    }
    if let list = value as? [Any] { return list.map { amounts($0, key: key) } }
    guard let key, cycleKeys.contains(key) else { return value }
    if let n = value as? Int64 { return "\(n)" }
    if let text = value as? String, case .cycles(let c)? = ParamParser.parse(text, as: .cycles) { return "\(c)" }
    return value
  }

  // MARK: - Running

  struct Outcome {
    var result: RunResult
    var output: [String]
  }

  final class Lines: Sendable {
    let lines = Mutex<[String]>([])
    func add(_ line: String) { lines.withLock { $0.append(line) } }
  }

  func execute(_ spec: RunSpec, sim: SimulatedIC, scratch: String, _ issue: (Located?, String) -> Void) -> Outcome? {
    let environment = ProcessInfo.processInfo.environment.merging(suite.environment) { $1 }
      .merging(spec.environment) { $1 }
    var options = RunOptions(projectDirectory: scratch, environment: environment)
    options.mode = spec.mode
    options.params = suite.params.merging(spec.params) { $1 }
    options.yes = true
    if let yes = spec.options["yes"] { options.yes = yes.text == "true" }
    if let ro = spec.options["read_only"] { options.readOnly = ro.text == "true" }
    if let network = spec.options["network"]?.text { options.network = network }
    if let ceiling = spec.options["cycles_ceiling"] {
      guard let text = ceiling.text, case .cycles(let c)? = ParamParser.parse(text, as: .cycles) else {
        issue(ceiling, "`cycles_ceiling` is an amount of cycles such as 10T")
        return nil
      }
      options.cyclesCeiling = c
    }
    if let answers = spec.answers {
      let queue = Mutex(answers)
      options.interactive = true
      options.confirm = { _ in
        queue.withLock { q in
          guard !q.isEmpty else { return false }
          return ["y", "yes"].contains(q.removeFirst())
        }
      }
    }
    let lines = Lines()
    options.print = { lines.add($0) }
    options.progress = { lines.add($0) }
    let session = RunSession(engine: engine, program: program, backend: sim, file: "test", backendName: "sim")
    // The output a test sees is the run's as `rbic run` shows it: the header, the steps, the
    // checklist and the recap.
    let identityGiven = spec.options["identity"] != nil || program.identity != nil
    let outcome = session.run(
      options,
      journal: {
        try Journal(
          directory: (scratch as NSString).appendingPathComponent(".rbic/runs"),
          runbook: program.main.header?.name ?? "runbook")
      },
      starting: { final in
        lines.add(
          RunSummary.header(
            program: program, file: suite.runbook, options: final, identity: sim.identityName,
            identityGiven: identityGiven, backend: "sim", toolDefaults: false))
      })
    switch outcome {
    case .ran(let result, _, _):
      for line in RunSummary.lines(result, mode: options.mode) { lines.add(line) }
      return Outcome(result: result, output: lines.lines.withLock { $0 })
    case .usage(let error, _):
      return Outcome(result: .notStarted(program, mode: options.mode, error), output: lines.lines.withLock { $0 })
    case .noJournal(let why):
      issue(nil, "cannot create a journal: \(why)")
      return nil
    case .stale(let id, _):
      issue(nil, "the plan \(id) is stale")
      return nil
    }
  }

  // MARK: - Expectations

  static let expectKeys: Set = ["exit", "recap", "steps", "warnings", "output", "error", "canisters", "canister_ids"]

  func check(
    _ spec: RunSpec, _ outcome: Outcome, sim: SimulatedIC, scratch: String, _ issue: (Located?, String) -> Void
  ) {
    let result = outcome.result
    let expect = spec.expect
    let failure = result.failure?.diagnostic.message
    let context = failure.map { " (\(TerminalText.escaped($0)))" } ?? ""
    for (key, value) in expect.keys where !Self.expectKeys.contains(key) {
      issue(value, "unknown expectation `\(key)` (known: \(Self.expectKeys.sorted().joined(separator: ", ")))")
    }
    if let exit = expect["exit"] {
      if let wanted = exit.text.flatMap({ Int32($0) }) {
        if wanted != result.exitCode { issue(exit, "expected exit \(wanted), got \(result.exitCode)\(context)") }
      } else {
        issue(exit, "`exit` is a number")
      }
    } else if result.exitCode != 0 {
      issue(expect, "the run exited \(result.exitCode)\(context); say `exit: \(result.exitCode)` if that is expected")
    }
    if let recap = expect["recap"] {
      let r = result.recap
      let actual = ["ok": r.ok, "changed": r.changed, "skipped": r.skipped, "failed": r.failed]
      for (key, value) in recap.keys {
        guard let have = actual[key] else {
          issue(value, "a recap has ok, changed, skipped, failed")
          continue
        }
        if value.text.flatMap({ Int($0) }) != have {
          issue(
            value,
            "expected \(key): \(value.text ?? "?"), got \(have) (recap: \(r.changed) changed, \(r.ok) ok, \(r.skipped) skipped, \(r.failed) failed)"
          )
        }
      }
    }
    if let steps = expect["steps"] {
      for (title, value) in steps.keys {
        guard let step = result.steps.first(where: { $0.title == title }) else {
          issue(
            value,
            "no step titled \"\(title)\" ran (steps: \(result.steps.map { "\"\($0.title)\"" }.joined(separator: ", ")))"
          )
          continue
        }
        if value.text != step.outcome.rawValue {
          let why = (step.skipReason ?? step.failure).map { ": \($0)" } ?? ""
          issue(value, "expected step \"\(title)\" \(value.text ?? "?"), got \(step.outcome.rawValue)\(why)")
        }
      }
    }
    let warnings = result.steps.flatMap(\.warnings)
    for w in expect["warnings"]?.items ?? [] where !warnings.contains(where: { $0.contains(w.text ?? "\u{0}") }) {
      issue(
        w,
        "no warning contains \"\(w.text ?? "")\" (warnings: \(warnings.isEmpty ? "none" : warnings.joined(separator: "; ")))"
      )
    }
    for o in expect["output"]?.items ?? [] where !outcome.output.contains(where: { $0.contains(o.text ?? "\u{0}") }) {
      issue(o, "the output has no line containing \"\(o.text ?? "")\"")
    }
    if let e = expect["error"] {
      if let failure {
        if !failure.contains(e.text ?? "\u{0}") {
          issue(e, "the run failed with \"\(TerminalText.escaped(failure))\", not one containing \"\(e.text ?? "")\"")
        }
      } else {
        issue(e, "expected the run to fail with \"\(e.text ?? "")\"; it did not fail")
      }
    }
    if let canisters = expect["canisters"] { checkCanisters(canisters, sim.snapshot, issue) }
    if let ids = expect["canister_ids"] { checkCanisterIDs(ids, scratch: scratch, sim.snapshot, issue) }
  }

  func checkCanisters(_ node: Located, _ world: SimulatedIC.State, _ issue: (Located?, String) -> Void) {
    for (id, fields) in node.keys {
      guard let record = world.canisters[id] else {
        issue(fields, "no canister \(id) in the end state")
        continue
      }
      var budget = TestFile.budget
      guard let encoded = try? JSONEncoder().encode(record),
        let actual = (try? JSONSerialization.jsonObject(with: encoded)) as? [String: Any]
      else { continue }
      for (field, wanted) in fields.keys {
        let have = actual[field]
        if field == "controllers", let count = wanted.text.flatMap({ Int($0) }) {
          let n = (have as? [Any])?.count ?? 0
          if n != count { issue(wanted, "\(id): expected \(count) controllers, got \(n)") }
          continue
        }
        if let items = wanted.items {
          let expected = Set(items.compactMap(\.text))
          let got = Set((have as? [Any])?.map { "\($0)" } ?? [])
          if expected != got { issue(wanted, "\(id): expected \(field) \(expected.sorted()), got \(got.sorted())") }
          continue
        }
        guard let text = wanted.text else {
          issue(wanted, "expect a value, a comparison (`>= 1T`) or a list")
          continue
        }
        let haveText: String? = have.flatMap { $0 is NSNull ? nil : "\($0)" }
        if let why = Self.compare(field: field, have: haveText, wanted: text, isNull: wanted.isNull) {
          issue(wanted, "\(id): \(why)")
        }
        _ = budget
        budget = 0
      }
    }
  }

  /// nil when `have` satisfies `wanted`: `OP VALUE` for amounts and numbers (rbic literals), `none`
  /// or null for absent, else equality.
  static func compare(field: String, have: String?, wanted: String, isNull: Bool) -> String? {
    if isNull || wanted == "none" {
      return have == nil ? nil : "expected no \(field), got \(have ?? "")"
    }
    for op in [">=", "<=", "!=", "==", ">", "<"] where wanted.hasPrefix(op) {
      let operand = wanted.dropFirst(op.count).trimmingCharacters(in: .whitespaces)
      let literal: Int128? =
        if case .cycles(let c)? = ParamParser.parse(operand, as: .cycles) { c } else { Int128(operand) }
      guard let bound = literal else { return "`\(wanted)`: \(operand) is not an amount or a number" }
      guard let value = have.flatMap({ Int128($0) }) else {
        return "expected \(field) \(wanted), got \(have ?? "none")"
      }
      let holds =
        switch op {
        case ">=": value >= bound
        case "<=": value <= bound
        case "!=": value != bound
        case "==": value == bound
        case ">": value > bound
        default: value < bound
        }
      return holds ? nil : "expected \(field) \(wanted), got \(ValueFormat.cycles(value)) (\(value))"
    }
    if Self.cycleKeys.contains(field), case .cycles(let c)? = ParamParser.parse(wanted, as: .cycles) {
      return have == "\(c)" ? nil : "expected \(field) \(wanted), got \(have ?? "none")"
    }
    return have == wanted ? nil : "expected \(field) \(wanted), got \(have ?? "none")"
  }

  func checkCanisterIDs(
    _ node: Located, scratch: String, _ world: SimulatedIC.State, _ issue: (Located?, String) -> Void
  ) {
    let path = (scratch as NSString).appendingPathComponent("canister_ids.json")
    let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    let ids: [String: [String: String]]
    do throws(CanisterIDsFile.ParseError) { ids = try CanisterIDsFile(text: text).ids } catch {
      issue(node, "the run left canister_ids.json unreadable: \(error.description)")
      return
    }
    for (name, keys) in node.keys {
      for (key, wanted) in keys.keys {
        let have = ids[name]?[key]
        switch wanted.text {
        case "*" where have == nil: issue(wanted, "expected an entry \(name).\(key); there is none")
        case "*":
          if let have, world.canisters[have] == nil { issue(wanted, "\(name).\(key) is \(have), not a canister") }
        case "none" where have != nil: issue(wanted, "expected no entry \(name).\(key); it is \(have ?? "")")
        case "none": break
        case let id?: if have != id { issue(wanted, "expected \(name).\(key) = \(id), got \(have ?? "no entry")") }
        case nil: issue(wanted, "expect an id, \"*\" or none")
        }
      }
    }
  }
}
