import Foundation
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicRuntime
import RbicTooling
import Testing

/// `--params FILE`: a YAML or JSON mapping of params beside `--param`, with located errors, its
/// path and sha256 journaled and saved in plans; a plan whose params file changed is stale.
@Suite struct ParamsFileTests {
  /// A working directory with the repository's scripts and demo module, a sim state file, and a
  /// params file for the activation runbook.
  struct Workspace {
    let dir: String
    var state: String { dir + "/state.json" }
    static let runbook = "scripts/canister-prod-activation.rb.ic"
    static let yaml = """
      # production
      canister: 6iu47-dyaaa-aaaaf-qgeza-cai
      wasm: "demo/user_service_with_metadata.wasm"
      oracle_live: false

      """

    init(params: String = Workspace.yaml, name: String = "prod.yaml") throws {
      dir = try CLI.temporaryDirectory()
      for item in ["scripts", "demo", "canister_ids.json"] {
        try FileManager.default.copyItem(atPath: Corpus.repository + "/" + item, toPath: dir + "/" + item)
      }
      try SimulatedIC(state: SimulatedIC.demoWorld).save(path: state)
      try write(params, to: name)
    }

    func write(_ text: String, to name: String) throws {
      try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    func rbic(_ arguments: [String]) throws -> CLI.Result { try CLI.run(arguments, in: dir) }

    /// `rbic COMMAND runbook --params FILE …` on the sim state, journaling under `runs/`.
    func run(_ command: String, _ extra: [String], params: String = "prod.yaml") throws -> CLI.Result {
      try rbic([command, Self.runbook, "--params", params, "--sim-state", state, "--journal", "runs"] + extra)
    }

    var journals: [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/runs")) ?? []).filter { $0.hasSuffix(".jsonl") }
    }
  }

  /// The file's values are the run's params; `--param` wins for its name; the file's path and
  /// sha256 are in the journal's run_start and in the report.
  @Test func aParamsFileGivesTheParamsAndIsJournaled() throws {
    let w = try Workspace()
    let r = try w.run("run", ["--yes", "--param", "oracle_live=true", "--format", "json"])
    #expect(r.status == 0, "\(r.stderr)")
    let journal = try #require(w.journals.first)
    let text = try String(contentsOfFile: w.dir + "/runs/" + journal, encoding: .utf8)
    let start = try #require(text.split(separator: "\n").first)
    let sha = ValueFormat.hex(Hashing.sha256(Array(Workspace.yaml.utf8))).dropFirst(2)
    #expect(start.contains("\"params_file\":{\"path\":\"prod.yaml\",\"sha256\":\"\(sha)\"}"), "\(start)")
    #expect(start.contains("\"canister\":\"6iu47-dyaaa-aaaaf-qgeza-cai\""), "\(start)")
    #expect(start.contains("\"oracle_live\":true"), "--param overrides the file: \(start)")
    #expect(start.contains("\"wasm\":\"demo/user_service_with_metadata.wasm\""), "\(start)")
    let report = try w.rbic(["report", "runs/" + journal])
    #expect(report.stdout.contains("**Params file:** `prod.yaml` (sha256 `\(sha)`)"), "\(report.stdout)")
  }

  /// JSON is read too, and a YAML (or JSON) number or boolean is taken as the text it is written as.
  @Test func jsonAndScalarsAsTheirText() throws {
    let json = """
      {"canister": "6iu47-dyaaa-aaaaf-qgeza-cai", "wasm": "demo/user_service_with_metadata.wasm", "build": false}
      """
    let w = try Workspace(params: json, name: "prod.json")
    let planned = try w.run("plan", [], params: "prod.json")
    #expect(planned.status == 0, "\(planned.stderr)")
    #expect(planned.stdout.contains("6iu47"), "\(planned.stdout)")
    let typo = """
      {"canister": "6iu47-dyaaa-aaaaf-qgeza-cai",
       "wasm": "demo/user_service_with_metadata.wasm", "build": 1}
      """
    try w.write(typo, to: "prod.json")
    let bad = try w.run("plan", [], params: "prod.json")
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("`build: 1` is not a valid `bool`: it is `true` or `false`"), "\(bad.stderr)")
    #expect(bad.stderr.contains("--> prod.json:2:59"), "at the value: \(bad.stderr)")
  }

  /// Each kind of bad file is a usage error (exit 2) located in the file, naming the key; nothing
  /// starts: no journal is written.
  @Test(arguments: [
    (
      "canister: 6iu47-dyaaa-aaaaf-qgeza-cai\nwasn: demo/x.wasm\n", "prod.yaml:2:1",
      "unknown param `wasn` (did you mean `wasm`?); this runbook takes `canister`, `name`, `wasm`"
    ),
    (
      "canister: 6iu47-dyaaa-aaaaf-qgeza-caj\n", "prod.yaml:1:11",
      "`canister: 6iu47-dyaaa-aaaaf-qgeza-caj` is not a valid `canister?`"
    ),
    ("- canister\n- wasm\n", "prod.yaml:1:1", "a params file is a mapping of NAME: VALUE, not a list"),
    ("canister:\n  id: 6iu47-dyaaa-aaaaf-qgeza-cai\n", "prod.yaml:2:3", "`canister` is a nested mapping"),
    (
      "canister: [6iu47-dyaaa-aaaaf-qgeza-cai]\n", "prod.yaml:1:11",
      "`canister` is a list; a value is written as `--param` takes it"
    ),
    ("canister:\n", "prod.yaml:1:1", "`canister` has no value (YAML null); write `none`"),
    ("canister: \"6iu47\n", "prod.yaml:2:1", "the params file is not YAML or JSON"),
    ("canister: aaaaa-aa\ncanister: 2vxsx-fae\n", "prod.yaml:1:1", "`canister` is given twice"),
  ])
  func badFilesAreLocatedUsageErrors(_ text: String, _ location: String, _ message: String) throws {
    let w = try Workspace(params: text)
    let r = try w.run("run", ["--yes"])
    #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(r.stderr.contains("--> " + location), "\(r.stderr)")
    #expect(!r.stdout.contains("Recap"), "nothing ran: \(r.stdout)")
    #expect(w.journals.isEmpty, "no journal for a run that did not start")
  }

  @Test func aMissingFileAndParamsWithAPlanAreRefused() throws {
    let w = try Workspace()
    let missing = try w.run("plan", [], params: "staging.yaml")
    #expect(missing.status == 2 && missing.stderr.contains("cannot read the params file `staging.yaml`"))
    #expect(try w.run("plan", ["--out", "plan.json"]).status == 0)
    let both = try w.rbic(["run", "--plan", "plan.json", "--params", "prod.yaml", "--sim-state", w.state])
    #expect(both.status == 2)
    #expect(both.stderr.contains("a saved plan carries its params"), "\(both.stderr)")
    let help = try w.rbic(["run", "--help"])
    #expect(help.stdout.contains("--params <file>") && help.stdout.contains("--param overrides it"), "\(help.stdout)")
  }

  /// A REPL session takes the file's values for the params it declares, checked as `--param`'s.
  @Test func aReplSessionTakesAParamsFile() throws {
    let w = try Workspace(params: "target: 2T\nname: prod\n")
    try w.write("param target: cycles\nprint target\nparam name: int\n", to: "input.txt")
    let r = try CLI.run(
      executable: CLI.binary, ["repl", "--params", "prod.yaml", "--sim-state", w.state], in: w.dir, environment: [:],
      input: w.dir + "/input.txt")
    #expect(r.stdout.contains("2T"), "\(r.stdout)\(r.stderr)")
    #expect((r.stdout + r.stderr).contains("`--param name=prod` is not a valid `int`"), "\(r.stdout)\(r.stderr)")
    try w.write("target: [1T]\n", to: "prod.yaml")
    let bad = try CLI.run(
      executable: CLI.binary, ["repl", "--params", "prod.yaml", "--sim-state", w.state], in: w.dir, environment: [:],
      input: w.dir + "/input.txt")
    #expect(bad.status == 2 && bad.stderr.contains("--> prod.yaml:1:9"), "\(bad.stderr)")
  }

  /// A param cannot be a secret at all (a file in a repository is not a secret store, nor is a
  /// command line): a runbook declaring one does not check, with or without a params file.
  @Test func aSecretNeverComesFromAParamsFile() throws {
    let w = try Workspace(params: "token: hunter2\n")
    try w.write("runbook \"t\" version 1\nparam token: secret\nprint 1\n", to: "secret.rb.ic")
    let r = try w.rbic(["run", "secret.rb.ic", "--params", "prod.yaml", "--sim-state", w.state])
    #expect(r.status == 2)
    #expect(r.stderr.contains("a param cannot be a `secret`"), "\(r.stderr)")
    #expect(!r.stdout.contains("hunter2") && !r.stderr.contains("hunter2"))
  }

  /// The plan records the file's path and sha256; applying it re-reads the file, and a file whose
  /// bytes changed since (or that is gone) makes the plan stale, with the reason, nothing changed.
  @Test func aPlanIsStaleOnceItsParamsFileChanges() throws {
    let w = try Workspace()
    let planned = try w.run("plan", ["--out", "plan.json"])
    #expect(planned.status == 0, "\(planned.stderr)")
    let plan = try SavedPlan.load(path: w.dir + "/plan.json").plan
    let sha = String(ValueFormat.hex(Hashing.sha256(Array(Workspace.yaml.utf8))).dropFirst(2))
    #expect(plan.paramsFile?.path == "prod.yaml" && plan.paramsFile?.sha256 == sha)
    #expect(plan.params["wasm"] == "demo/user_service_with_metadata.wasm")
    let raw = try String(contentsOfFile: w.dir + "/plan.json", encoding: .utf8)
    #expect(raw.contains("\"params_file\" : {"), "\(raw)")

    // A comment changes the bytes: the reviewed file is not the file now.
    try w.write(Workspace.yaml + "# edited\n", to: "prod.yaml")
    let before = FileManager.default.contents(atPath: w.state)
    let stale = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes", "--journal", "runs"])
    #expect(stale.status == 4, "\(stale.stdout)\(stale.stderr)")
    #expect(stale.stderr.contains("the params file `prod.yaml` changed since the plan (sha256 \(sha.prefix(12))… then"))
    #expect(FileManager.default.contents(atPath: w.state) == before, "nothing changed")
    #expect(w.journals.isEmpty)

    try FileManager.default.removeItem(atPath: w.dir + "/prod.yaml")
    let gone = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes"])
    #expect(
      gone.status == 4 && gone.stderr.contains("the params file `prod.yaml` the plan was made with cannot be read now"))

    // Restored byte for byte, the plan applies.
    try w.write(Workspace.yaml, to: "prod.yaml")
    let applied = try w.rbic(["run", "--plan", "plan.json", "--sim-state", w.state, "--yes", "--journal", "runs"])
    #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
    let journal = try #require(w.journals.first)
    let text = try String(contentsOfFile: w.dir + "/runs/" + journal, encoding: .utf8)
    #expect(text.contains("\"params_file\":{\"path\":\"prod.yaml\",\"sha256\":\"\(sha)\"}"))
  }
}
