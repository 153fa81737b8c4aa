import Foundation
import RbicCandid
import RbicDiagnostics
import RbicParser
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// What real deploys need (DESIGN §10): Candid variants and blobs in arguments, install and
/// upgrade arguments, compatible upgrades.
@Suite struct DeployTests {
  static let api = """
    type Action = variant {
      Motion : record { text : text };
      UpgradeSnsControlledCanister : record { canister_id : opt principal; new_canister_wasm : blob; canister_upgrade_arg : opt blob };
      Unspecified;
    };
    type Command = variant { MakeProposal : record { title : text; action : opt Action }; Disburse };
    service : {
      manage_neuron : (record { id : opt blob; command : opt Command }) -> ();
      checksum : () -> (blob) query;
      store : (blob) -> (blob);
    }
    """

  /// A project with the interface and `main.rb.ic` written from `body`.
  static func project(_ body: String, did: String = api) throws -> (dir: String, path: String) {
    let dir = try CLI.temporaryDirectory()
    try did.write(toFile: dir + "/api.did", atomically: true, encoding: .utf8)
    let source = "runbook \"deploy\" version 1\nimport \"api.did\" as Api\nlet gov: Api = \(Harness.userService.text)\n"
    try (source + body).write(toFile: dir + "/main.rb.ic", atomically: true, encoding: .utf8)
    return (dir, dir + "/main.rb.ic")
  }

  static func compile(_ path: String, _ dir: String) -> CheckedProgram {
    Engine(registry: .standard).compile(
      source: Array(FileManager.default.contents(atPath: path) ?? Data()), path: path,
      options: .init(projectDirectory: dir))
  }

  static func run(_ program: CheckedProgram, _ dir: String, sim: SimulatedIC) -> RunResult {
    var options = RunOptions(projectDirectory: dir, environment: [:])
    options.yes = true
    options.print = { _ in }
    options.progress = { _ in }
    return Engine(registry: .standard).run(program, backend: sim, options: options)
  }

  static func echoing(_ edit: (inout SimulatedIC.State) -> Void = { _ in }) -> SimulatedIC {
    SimulatedIC(
      state: Harness.world {
        $0.faults = [.init(operation: .call, kind: .echo)]
        $0.canisters[Harness.userService.text]?.candid_service = nil
        edit(&$0)
      })
  }

  @Test func variantsAndBlobsAreSentWithTheInterfacesTypes() throws {
    let (dir, path) = try Self.project(
      """
      step "propose" on gov {
        call gov.manage_neuron({
          id: file("neuron.bin"),
          command: .MakeProposal({
            title: "Upgrade",
            action: .UpgradeSnsControlledCanister({canister_id: gov, new_canister_wasm: file("neuron.bin")}),
          }),
        })
        call gov.manage_neuron({command: .Disburse})
      }
      """)
    try Data([0x01, 0xab]).write(to: URL(fileURLWithPath: dir + "/neuron.bin"))
    let program = Self.compile(path, dir)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let r = Self.run(program, dir, sim: Self.echoing())
    #expect(r.exitCode == 0, "\(String(describing: r.failure?.diagnostic))")
    let sent = r.steps.first?.changes.map(\.text).joined(separator: "\n") ?? ""
    #expect(sent.contains("command = opt variant { MakeProposal = record { title = \"Upgrade\";"), "\(sent)")
    #expect(sent.contains("UpgradeSnsControlledCanister = record {"), "\(sent)")
    #expect(sent.contains("new_canister_wasm = blob \"\\01\\ab\";"), "\(sent)")
    #expect(sent.contains("canister_upgrade_arg = null;"), "\(sent)")
    #expect(sent.contains("command = opt variant { Disburse }"), "\(sent)")
  }

  /// A module-sized blob goes whole (the echo gives back every byte) and is shown by its size and
  /// sha256 in the change line and the journal, never in full.
  @Test func aLongBlobIsSentWholeAndShownShort() throws {
    let (dir, path) = try Self.project(
      """
      step "store" on gov {
        let back = call gov.store(file("big.bin"))
        require back == file("big.bin") else "the canister got {back}"
      }
      """)
    try Data((0..<4096).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: dir + "/big.bin"))
    let program = Self.compile(path, dir)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let r = Self.run(program, dir, sim: Self.echoing())
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
    let sent = r.steps.first?.changes.map(\.text).joined(separator: "\n") ?? ""
    #expect(sent.contains("call \(Harness.userService.text).store(\"<blob 0x00010203"), "\(sent)")
    #expect(sent.contains("(4KiB, sha256 0x"), "\(sent)")
    #expect(sent.utf8.count < 600, "\(sent.utf8.count) bytes shown")
  }

  @Test func aVariantOrBlobThatDoesNotFitIsLocatedAtTheValue() throws {
    let (dir, path) = try Self.project(
      """
      step "propose" on gov {
        call gov.manage_neuron({command: .MakePropsal({title: "x"})})
        call gov.manage_neuron({command: .MakeProposal({title: 5})})
        call gov.manage_neuron({command: .Disburse(3)})
        call gov.manage_neuron({command: .MakeProposal})
        call gov.manage_neuron({id: "not bytes"})
      }
      """)
    let text = Corpus.render(Self.compile(path, dir))
    let lines = text.split(separator: "\n").map(String.init)
    func at(_ line: Int, _ message: String) -> Bool {
      lines.contains { $0.contains("main.rb.ic:\(line):") && $0.contains(message) }
    }
    #expect(at(5, "the variant has no tag `MakePropsal`"), "\(text)")
    #expect(text.contains("did you mean `.MakeProposal`?"), "\(text)")
    #expect(at(6, "`.MakeProposal`: field `title`: the interface wants `text`, found `int`"), "\(text)")
    #expect(at(7, "`.Disburse` carries no value: write `.Disburse`"), "\(text)")
    #expect(at(8, "`.MakeProposal` carries a `record"), "\(text)")
    #expect(at(9, "field `id`: the interface wants `blob`, found `text`"), "\(text)")
    // At the value, not the argument: the tag's column.
    #expect(lines.contains { $0.contains("main.rb.ic:5:37:") }, "\(text)")
  }

  @Test func aFileOverTheMessageLimitIsRefusedBeforeAnythingIsSent() throws {
    let (dir, path) = try Self.project(
      """
      step "propose" on gov {
        call gov.manage_neuron({id: file("big.wasm")})
      }
      """)
    try Data(count: CandidEncoding.messageLimit + 1).write(to: URL(fileURLWithPath: dir + "/big.wasm"))
    let program = Self.compile(path, dir)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let sim = Self.echoing()
    let r = Self.run(program, dir, sim: sim)
    #expect(r.exitCode == 1)
    #expect(
      r.failure?.diagnostic.message.contains("over the IC's 2MiB message limit") == true,
      "\(r.failure?.diagnostic.message ?? "")")
    #expect(r.steps.first?.changes.isEmpty == true, "nothing was sent")
  }

  @Test func withoutAnInterfaceVariantsGoAsWritten() throws {
    let dir = try CLI.temporaryDirectory()
    let source = """
      runbook "plain" version 1
      let c: canister = \(Harness.userService.text)
      step "s" on c {
        call c.set_mode(.Maintenance({until: 5}), .Off, 0x\(String(repeating: "ab", count: 32)))
      }
      """
    try source.write(toFile: dir + "/plain.rb.ic", atomically: true, encoding: .utf8)
    let program = Self.compile(dir + "/plain.rb.ic", dir)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let r = Self.run(program, dir, sim: Self.echoing())
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
    let sent = r.steps.first?.changes.map(\.text).joined(separator: "\n") ?? ""
    #expect(sent.contains("variant { Maintenance = record { until = 5 : int } }"), "\(sent)")
    #expect(sent.contains("variant { Off }"), "\(sent)")
    #expect(sent.contains("blob \"\\ab\\ab"), "\(sent)")
  }

  @Test func aBlobReplyComparesWithAHash() throws {
    let hash = String(repeating: "ab", count: 32)
    let bytes = String(repeating: "\\ab", count: 32)
    let (dir, path) = try Self.project(
      """
      let digest = call gov.checksum()
      require digest == 0x\(hash) else "checksum {digest}"
      print "checksum {digest}"
      """)
    let program = Self.compile(path, dir)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let sim = SimulatedIC(
      state: Harness.world {
        $0.canisters[Harness.userService.text]?.candid_service = nil
        $0.canisters[Harness.userService.text]?.replies = ["checksum": "(blob \"\(bytes)\")"]
      })
    let r = Self.run(program, dir, sim: sim)
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
  }

  @Test func variantsFormatAndParseBack() throws {
    let dir = try CLI.temporaryDirectory()
    let source = """
      runbook "f" version 1
      let c: canister = \(Harness.userService.text)
      let cmd = .MakeProposal({title: "t", action: .Motion({text: "m"})})
      let modes = [.Off, .On(5)]
      print "{cmd} {modes}"
      step "s" on c {
        call c.go(cmd, .Off)
      }

      """
    try source.write(toFile: dir + "/f.rb.ic", atomically: true, encoding: .utf8)
    var files = SourceFiles()
    let tree = Parser.parse(files.add(path: "f.rb.ic", bytes: Array(source.utf8)))
    #expect(tree.diagnostics.isEmpty, "\(tree.diagnostics.map(\.message))")
    #expect(Formatter.format(tree) == source)
    let program = Self.compile(dir + "/f.rb.ic", dir)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
  }

  // MARK: - Install arguments, compatible upgrades, guarded upgrades

  static let counterDid = """
    type InitArgs = record { owner : principal; limit : nat64 };
    type UpgradeArgs = record { limit : opt nat64 };
    type CounterArg = variant { Init : InitArgs; Upgrade : opt UpgradeArgs };
    service : (CounterArg) -> { get : () -> (nat64) query; increment : () -> (); owner : () -> (principal) query }
    """

  /// A counter project: the demo modules copied in, `main.rb.ic` from `body` (`c` is the canister).
  static func counter(_ body: String) throws -> (dir: String, program: CheckedProgram) {
    let dir = try CLI.temporaryDirectory()
    for name in ["counter-v1.wasm", "counter-v2.wasm", "counter-v3-breaking.wasm"] {
      try FileManager.default.copyItem(atPath: Harness.repository + "/demo/" + name, toPath: dir + "/" + name)
    }
    try counterDid.write(toFile: dir + "/counter.did", atomically: true, encoding: .utf8)
    let source =
      "runbook \"counter\" version 1\nimport \"counter.did\" as Counter\nlet c: Counter = \(Harness.userService.text)\n"
      + body
    try source.write(toFile: dir + "/main.rb.ic", atomically: true, encoding: .utf8)
    return (dir, compile(dir + "/main.rb.ic", dir))
  }

  static func run(
    _ program: CheckedProgram, _ dir: String, sim: SimulatedIC, configure: (inout RunOptions) -> Void
  ) -> RunResult {
    var options = RunOptions(projectDirectory: dir, environment: [:])
    options.print = { _ in }
    options.progress = { _ in }
    configure(&options)
    return Engine(registry: .standard).run(program, backend: sim, options: options)
  }

  static func sha(_ name: String) -> String {
    ValueFormat.hex(Hashing.sha256(Array(FileManager.default.contents(atPath: Harness.repository + "/demo/" + name)!)))
  }

  /// A world where the canister is empty, or runs `module` and publishes the counter's v1 interface.
  static func counterWorld(running module: String? = nil, replies: [String: String]? = nil) -> SimulatedIC {
    SimulatedIC(
      state: Harness.world {
        var r = $0.canisters[Harness.userService.text]!
        r.module_hash = module.map(sha)
        // A counter module publishes v1's interface (the one `counterDid` is).
        r.candid_service = module == nil ? nil : counterDid
        r.snapshots = []
        r.replies = replies
        $0.canisters[Harness.userService.text] = r
      })
  }

  @Test func installSendsTheInitArgumentAndUpgradeTheUpgradeArgument() throws {
    let (dir, program) = try Self.counter(
      """
      step "deploy" on c {
        ensure hash == sha256("counter-v1.wasm") via install "counter-v1.wasm" arg .Init({owner: identity(), limit: 100})
      }
      step "upgrade" on c {
        ensure hash == sha256("counter-v2.wasm") via install "counter-v2.wasm" arg .Upgrade({limit: 200})
      }
      """)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let sim = Self.counterWorld()
    let lines = Harness.Lines()
    let r = Self.run(program, dir, sim: sim) {
      $0.yes = true
      $0.progress = { lines.add($0) }
    }
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
    let record = try #require(sim.snapshot.canisters[Harness.userService.text])
    let changes = lines.lines.joined(separator: "\n")
    #expect(changes.contains("with argument (variant { Init = record {"), "\(changes)")
    #expect(record.module_hash == Self.sha("counter-v2.wasm"))
    #expect(record.install_argument == "(variant { Upgrade = opt record { limit = opt (200 : nat64) } })")
    #expect(
      changes.contains("with argument (variant { Upgrade = opt record { limit = opt (200 : nat64) } })"), "\(changes)")

  }

  @Test func aModuleThatNeedsAnArgumentTrapsWithoutOneAndNothingChanges() throws {
    let (dir, program) = try Self.counter(
      """
      step "deploy" on c {
        ensure hash == sha256("counter-v1.wasm") via install "counter-v1.wasm"
      }
      """)
    let sim = Self.counterWorld()
    let r = Self.run(program, dir, sim: sim) { $0.yes = true }
    #expect(r.exitCode == 1)
    let failure = (r.failure.map { [$0.diagnostic.message] + $0.diagnostic.notes.map(\.message) } ?? []).joined(
      separator: "\n")
    #expect(failure.contains("failed to decode the init argument"), "\(failure)")
    #expect(sim.snapshot.canisters[Harness.userService.text]?.module_hash == nil)
  }

  @Test func anInstallArgumentIsCheckedAgainstTheImportedInitArguments() throws {
    let (_, program) = try Self.counter(
      """
      step "deploy" on c {
        ensure hash == sha256("counter-v1.wasm") via install "counter-v1.wasm" arg .Init({owner: identity(), limit: "lots"})
        ensure hash == sha256("counter-v1.wasm") via install "counter-v1.wasm" arg .Upgrad({limit: 2})
      }
      """)
    let text = Corpus.render(program)
    #expect(
      text.contains("main.rb.ic:5:111: error: `.Init`: field `limit`: the interface wants `nat64`, found `text`"),
      "\(text)")
    #expect(text.contains("main.rb.ic:6:79: error: the variant has no tag `Upgrad`"), "\(text)")
    #expect(text.contains("did you mean `.Upgrade`?"), "\(text)")
  }

  @Test func aCheckWithoutGuardedIsAnError() throws {
    let (_, program) = try Self.counter(
      """
      step "upgrade" on c {
        ensure hash == sha256("counter-v2.wasm") via install "counter-v2.wasm" arg .Upgrade(none) check "healthy"
      }
      """)
    let text = Corpus.render(program)
    #expect(text.contains("main.rb.ic:5:93: error: `check` works only with `guarded`"), "\(text)")
  }

  /// A module goes on a canister only through `install`: the management canister's
  /// `install_code`, however the canister is spelt, is refused before anything is sent (the sim
  /// would only have rejected it, exit 1).
  @Test func installCodeOnTheManagementCanisterIsRefused() throws {
    let (dir, program) = try Self.counter(
      """
      let ic: canister = aaaaa-aa
      step "sneak" {
        call ic.install_code({mode: .upgrade(none), canister_id: c, wasm_module: file("counter-v3-breaking.wasm"), arg: file("counter-v1.wasm")})
      }
      """)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let sim = Self.counterWorld(running: "counter-v1.wasm")
    let r = Self.run(program, dir, sim: sim) { $0.yes = true }
    #expect(r.exitCode == 4, "\(r.failure?.diagnostic.message ?? "")")
    #expect(r.failure?.diagnostic.message.contains("replaces a module without the install action's checks") == true)
    #expect(sim.snapshot.canisters[Harness.userService.text]?.module_hash == Self.sha("counter-v1.wasm"))
  }

  static let breakingUpgrade = """
    step "upgrade" on c {
      ensure hash == sha256("counter-v3-breaking.wasm") via install "counter-v3-breaking.wasm" arg .Upgrade({limit: 1})
    }
    """

  @Test func anUpgradeThatBreaksClientsIsRefusedNamingEachMethod() throws {
    let (dir, program) = try Self.counter(Self.breakingUpgrade)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let sim = Self.counterWorld(running: "counter-v1.wasm")
    let r = Self.run(program, dir, sim: sim) { $0.yes = true }
    #expect(r.exitCode == 4)
    let message = r.failure?.diagnostic.message ?? ""
    #expect(message.contains("would break its clients"), "\(message)")
    #expect(message.contains("`increment` is gone"), "\(message)")
    #expect(message.contains("`get` changes from `() -> (nat64) query` to `() -> (text) query`"), "\(message)")
    #expect(sim.snapshot.canisters[Harness.userService.text]?.module_hash == Self.sha("counter-v1.wasm"))
  }

  @Test func aBreakingUpgradeIsAlwaysAskedEvenWithYes() throws {
    let (dir, program) = try Self.counter(
      Self.breakingUpgrade.replacingOccurrences(
        of: "arg .Upgrade({limit: 1})", with: "arg .Upgrade({limit: 1}) breaking"))
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let refused = Self.run(program, dir, sim: Self.counterWorld(running: "counter-v1.wasm")) { $0.yes = true }
    #expect(refused.exitCode == 4)
    #expect(refused.failure?.diagnostic.message.contains("no terminal to ask") == true)
    let questions = Harness.Lines()
    let sim = Self.counterWorld(running: "counter-v1.wasm")
    let asked = Self.run(program, dir, sim: sim) {
      $0.yes = true
      $0.interactive = true
      $0.confirm = {
        questions.add($0); return true
      }
    }
    #expect(asked.exitCode == 0, "\(asked.failure?.diagnostic.message ?? "")")
    #expect(questions.lines.count == 1)
    #expect(questions.lines.first?.contains("`increment` is gone (it was `() -> ()`)") == true, "\(questions.lines)")
    #expect(questions.lines.first?.contains("(BREAKING: ") == true, "\(questions.lines)")
    #expect(sim.snapshot.canisters[Harness.userService.text]?.module_hash == Self.sha("counter-v3-breaking.wasm"))
  }

  @Test func anUpgradeWhoseInterfaceCannotBeReadIsAsked() throws {
    let (dir, program) = try Self.counter(
      """
      step "upgrade" on c {
        ensure hash == sha256("counter-v2.wasm") via install "counter-v2.wasm" arg .Upgrade({limit: 1})
      }
      """)
    func world() -> SimulatedIC {
      SimulatedIC(
        state: Harness.world {
          $0.canisters[Harness.userService.text]?.module_hash = Self.sha("counter-v1.wasm")
          $0.canisters[Harness.userService.text]?.candid_service = nil
        })
    }
    let refused = Self.run(program, dir, sim: world()) { _ in }
    #expect(refused.exitCode == 4)
    #expect(
      refused.failure?.diagnostic.message.contains("this change needs confirmation") == true,
      "\(refused.failure?.diagnostic.message ?? "")")
    #expect(refused.failure?.diagnostic.message.contains("publishes no Candid interface") == true)
    let answered = Self.run(program, dir, sim: world()) { $0.yes = true }
    #expect(answered.exitCode == 0, "\(answered.failure?.diagnostic.message ?? "")")
  }

  static let guarded = """
    step "upgrade" on c {
      ensure hash == sha256("counter-v2.wasm") via install "counter-v2.wasm" arg .Upgrade({limit: 1}) guarded check "healthy"
    }
    """

  @Test func aGuardedUpgradeSnapshotsInstallsStartsAndVerifies() throws {
    let (dir, program) = try Self.counter(Self.guarded)
    #expect(!program.hasErrors, "\(Corpus.render(program))")
    let sim = Self.counterWorld(running: "counter-v1.wasm")
    let r = Self.run(program, dir, sim: sim) { $0.yes = true }
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
    let record = try #require(sim.snapshot.canisters[Harness.userService.text])
    #expect(record.module_hash == Self.sha("counter-v2.wasm"))
    #expect(record.status == .running)
    #expect(record.snapshots?.count == 1)
    #expect(record.snapshots?.first?.module_hash == Self.sha("counter-v1.wasm"))
    let changes = r.steps.flatMap(\.changes).map(\.text)
    #expect(
      changes.contains { $0.hasPrefix("stop ") } && changes.contains { $0.hasPrefix("took snapshot ") }, "\(changes)")
  }

  @Test func aGuardedUpgradeWhoseCheckFailsRestoresTheSnapshot() throws {
    let (dir, program) = try Self.counter(Self.guarded)
    let sim = Self.counterWorld(running: "counter-v1.wasm", replies: ["healthy": "(false)"])
    let r = Self.run(program, dir, sim: sim) { $0.yes = true }
    #expect(r.exitCode == 1)
    let message = r.failure?.diagnostic.message ?? ""
    #expect(message.contains("failed and was rolled back"), "\(message)")
    #expect(message.contains("`healthy` answered false"), "\(message)")
    let record = try #require(sim.snapshot.canisters[Harness.userService.text])
    #expect(record.module_hash == Self.sha("counter-v1.wasm"), "the old module is back")
    #expect(record.status == .running)
    #expect(record.candid_service == Self.counterDid, "it publishes the old interface again")
  }

  // MARK: - Through icp and dfx (the test double)

  /// The counter project run through a tool: `main.rb.ic` from `body`, the canister running v1.
  static func throughTool(_ tool: String, _ body: String, replies: [String: String]? = nil) throws -> (
    ToolBackendTests.Setup, CLI.Result
  ) {
    let v1 = try Self.counter(body)
    let s = try ToolBackendTests.Setup(tool) {
      var r = $0.canisters[Harness.userService.text]!
      r.module_hash = Self.sha("counter-v1.wasm")
      r.candid_service = Self.counterDid
      r.replies = replies
      r.snapshots = []
      $0.canisters[Harness.userService.text] = r
    }
    let r = try CLI.run(
      [
        "run", v1.dir + "/main.rb.ic", "--backend", tool, "--network", "ic", "--identity", "github-ci", "--yes",
        "--journal", s.dir + "/runs",
      ],
      in: v1.dir, environment: s.environment)
    return (s, r)
  }

  @Test(arguments: ["icp", "dfx"])
  func theUpgradeArgumentReachesTheToolInAFile(_ tool: String) throws {
    let (s, r) = try Self.throughTool(
      tool,
      """
      step "upgrade" on c {
        ensure hash == sha256("counter-v2.wasm") via install "counter-v2.wasm" arg .Upgrade({limit: 7})
      }
      """)
    #expect(r.status == 0, "\(r.stderr)")
    let record = try #require(s.world.canisters[Harness.userService.text])
    #expect(record.module_hash == Self.sha("counter-v2.wasm"))
    #expect(record.install_argument == "(variant { Upgrade = opt record { limit = opt (7 : nat64) } })")
    // The install's argv, as journaled: the argument file is named on the command line, its text
    // is not.
    let journal = try FileManager.default.contentsOfDirectory(atPath: s.dir + "/runs").filter {
      $0.hasSuffix(".jsonl")
    }
    let lines = try String(contentsOfFile: s.dir + "/runs/" + (try #require(journal.first)), encoding: .utf8)
      .split(separator: "\n")
    let install = try #require(
      lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        .compactMap { $0["argv"] as? [String] }.first { $0.contains("install") })
    let flag = tool == "icp" ? "--args-file" : "--argument-file"
    let file = try #require(install.firstIndex(of: flag).map { install.index(after: $0) })
    #expect(file < install.count && install[file].hasSuffix(".did"), "\(install)")
    #expect(!install.joined(separator: " ").contains("Upgrade"), "\(install)")
  }

  @Test(arguments: ["icp", "dfx"])
  func aBreakingUpgradeIsRefusedThroughTheTool(_ tool: String) throws {
    let (s, r) = try Self.throughTool(tool, Self.breakingUpgrade)
    #expect(r.status == 4, "\(r.stderr)")
    #expect(r.stderr.contains("`increment` is gone"), "\(r.stderr)")
    #expect(!r.stderr.contains("canister install"), "nothing was installed: \(r.stderr)")
    #expect(s.world.canisters[Harness.userService.text]?.module_hash == Self.sha("counter-v1.wasm"))
  }

  @Test(arguments: ["icp", "dfx"])
  func aGuardedUpgradeIsRolledBackThroughTheTool(_ tool: String) throws {
    let (s, r) = try Self.throughTool(tool, Self.guarded, replies: ["healthy": "(false)"])
    #expect(r.status == 1, "\(r.stderr)")
    #expect(r.stderr.contains("failed and was rolled back"), "\(r.stderr)")
    let record = try #require(s.world.canisters[Harness.userService.text])
    #expect(record.module_hash == Self.sha("counter-v1.wasm"))
    #expect(record.status == .running)
    #expect(record.snapshots?.count == 1)
  }

  /// The SNS proposal (variants, a blob of the module, an `opt int32`) through each tool: the
  /// governance canister's reply is read back as the proposal's id.
  @Test(arguments: ["icp", "dfx"])
  func anSnsProposalGoesThroughTheTool(_ tool: String) throws {
    let governance = "2jvtu-yqaaa-aaaaq-aaama-cai"
    let s = try ToolBackendTests.Setup(tool) {
      var r = $0.canisters[Harness.userService.text]!
      r.replies = [
        "manage_neuron":
          "(record { command = opt variant { MakeProposal = record { proposal_id = opt record { id = 42 : nat64 } } } })"
      ]
      r.candid_service = nil
      $0.canisters[governance] = r
    }
    let r = try CLI.run(
      [
        "run", "scripts/sns-upgrade.rb.ic", "--backend", tool, "--network", "ic", "--identity", "github-ci", "--yes",
        "--journal", s.dir + "/runs",
        "--param", "neuron=0x" + String(repeating: "5f", count: 32), "--param", "target=\(Harness.userService.text)",
        "--param", "expected=\(Self.sha("counter-v2.wasm"))", "--param", "title=Upgrade",
        "--param", "summary=Adds reset.", "--param", "url=https://forum.example.org/t/1",
      ], in: Corpus.repository, environment: s.environment)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("proposal 42 made"), "\(r.stdout)")
    #expect(r.stderr.contains("$ \(tool) canister call \(governance)"), "\(r.stderr)")
  }
}
