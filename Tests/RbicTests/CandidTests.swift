import Foundation
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicRuntime
import Testing

@testable import RbicBackends
@testable import RbicBuiltins

/// Candid written once: `.did` files (our own corpus, from the spec), text values, and the
/// `wallet_send` reply decoded instead of substring-matched.
@Suite struct CandidTests {
  static let corpus = Corpus.repository + "/Tests/RbicTests/Candid"

  static func files(_ kind: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: corpus + "/" + kind)) ?? []).filter { $0.hasSuffix(".did") }
      .sorted()
  }

  @Test(arguments: CandidTests.files("good"))
  func goodInterfacesLoad(_ name: String) throws {
    var files = SourceFiles()
    let env = try CandidEnvironment.load(path: Self.corpus + "/good/" + name, into: &files)
    #expect(env.hasService || name == "types-only.did")
  }

  static let rejections: [String: (DiagnosticCode, String)] = [
    "unclosed-record.did": (.candidSyntax, "expected a type, found `)`"),
    "unbound.did": (.candidType, "unbound type identifier Missing"),
    "duplicate-field.did": (.candidType, "label 'name' hash collision with 'name'"),
    "cyclic.did": (.candidType, "A has cyclic type definition"),
    "oneway-result.did": (.candidType, "oneway function has non-unit return type"),
    "not-a-function.did": (.candidType, "method f is a non-function type"),
    "duplicate-method.did": (.candidType, "duplicate method name `f`"),
    "trailing.did": (.candidSyntax, "expected a definition or the service, found `garbage`"),
    "unclosed-comment.did": (.candidSyntax, "unclosed comment"),
    "missing-import.did": (.candidImport, "no such file"),
    "surrogate.did": (.candidSyntax, "Unicode escape out of range D800"),
    "label-overflow.did": (.candidSyntax, "the label 4294967296 is beyond 2^32-1"),
    "hash-collision.did": (.candidType, "label '97' hash collision with 'a'"),
  ]

  @Test(arguments: CandidTests.files("bad"))
  func badInterfacesAreLocatedErrors(_ name: String) throws {
    var files = SourceFiles()
    let expected = try #require(Self.rejections[name], "add \(name) to the table")
    #expect {
      try CandidEnvironment.load(path: Self.corpus + "/bad/" + name, into: &files)
    } throws: { error in
      guard let d = (error as? CandidFailure)?.diagnostic else { return false }
      return d.code == expected.0 && d.message.contains(expected.1) && d.range.end > d.range.start
    }
  }

  /// A module's `candid:service` metadata is an interface too: `import "x.wasm" as Name`.
  @Test func moduleMetadataIsAnInterface() throws {
    var files = SourceFiles()
    let env = try CandidEnvironment.load(path: Harness.wasm, into: &files)
    #expect(env.methods.map(\.name) == ["set_oracle_bridge_url", "reset_signing_key", "version"])
    let dir = try CLI.temporaryDirectory()
    try Data("\0asm\u{1}\0\0\0".utf8).write(to: URL(fileURLWithPath: dir + "/bare.wasm"))
    #expect {
      try CandidEnvironment.load(path: dir + "/bare.wasm", into: &files)
    } throws: { error in
      (error as? CandidFailure)?.diagnostic.message.contains("has no candid:service metadata") == true
    }
  }

  /// A missing interface file is one located diagnostic at the import, and the name it would
  /// have given reports nothing more.
  @Test func aMissingInterfaceIsReportedAtItsImport() throws {
    let dir = try CLI.temporaryDirectory()
    let source =
      "runbook \"m\" version 1\nimport \"nowhere.did\" as Api\nlet c: Api = \(Harness.userService.text)\nprint c.cycles\n"
    let program = Engine(registry: .standard).compile(
      source: Array(source.utf8), path: dir + "/m.rb.ic", options: .init(projectDirectory: dir))
    let errors = program.diagnostics.filter { $0.severity == .error }
    #expect(errors.map(\.code) == [.importNotFound], "\(errors.map(\.message))")
    #expect(errors.first?.message == "cannot read the interface `nowhere.did`")
  }

  @Test func everyCandidDiagnosticIsExercised() {
    #expect(Set(Self.rejections.values.map(\.0)) == DiagnosticCode.candid)
  }

  @Test func methodsAndTypesAreResolved() throws {
    var files = SourceFiles()
    let env = try CandidEnvironment.load(path: Self.corpus + "/good/imports.did", into: &files)
    #expect(env.methods.map(\.name) == ["ping", "mine"], "the imported service's methods first")
    #expect(env.method("ping")?.isQuery == true)
    let mine = try #require(env.method("mine"))
    #expect(
      try env.resolve(mine.results[0])
        == .variant([CandidField(.named("Ok"), .null), CandidField(.named("Err"), .text)]))
    let user = try CandidEnvironment.load(path: Self.corpus + "/good/user-service.did", into: &files)
    #expect(user.method("reset_signing_key")?.description == "() -> (Key)")
    #expect(user.method("history")?.description == "(nat, opt nat) -> (vec record { nat64; text }) composite_query")
    #expect(user.constructorArguments?.count == 1)
  }

  @Test func idlHashMatchesTheSpec() {
    #expect(CandidLabel.idlHash("Ok") == 17_724)
    #expect(CandidLabel.idlHash("Err") == 3_456_837)
    #expect(CandidLabel.idlHash("a") == 97)
    #expect(CandidLabel.idlHash("") == 0)
  }

  @Test(arguments: [
    "(variant { 17_724 })", "(variant { Ok })", "(record { amount = 1_000_000_000_000 : nat64 })",
    "(opt vec { 1; -2; 3 }, \"a\\n\\\"b\\\"\", principal \"aaaaa-aa\", null, true)", "(blob \"\\de\\ad AB\")",
    "(record { 1; \"x\"; 3.5 : float64 })", "(func \"aaaaa-aa\".create_canister, service \"aaaaa-aa\")",
  ])
  func valuesRoundTrip(_ text: String) throws {
    let values = try CandidValue.parseArguments(text)
    let printed = CandidValue.print(arguments: values)
    #expect(try CandidValue.parseArguments(printed) == values, "\(text) → \(printed)")
    #expect(printed == text, "the tools' form")
  }

  @Test func longValuesBreakAtEightyColumns() throws {
    let values = try CandidValue.parseArguments(
      "(record { canister = principal \"6iu47-dyaaa-aaaaf-qgeza-cai\"; amount = 1_000_000_000_000 : nat64; memo = \"top up\" })"
    )
    let printed = CandidValue.print(arguments: values)
    #expect(
      printed == """
        (
          record {
            canister = principal "6iu47-dyaaa-aaaaf-qgeza-cai";
            amount = 1_000_000_000_000 : nat64;
            memo = "top up";
          },
        )
        """)
    #expect(try CandidValue.parseArguments(printed) == values)
  }

  @Test(arguments: [
    "(variant { 17_724 }", "(vec { 1; 2 )", "(1 2)", "(340282366920938463463374607431768211456)", "(\"open",
  ])
  func malformedValuesAreErrors(_ text: String) {
    #expect(throws: CandidFailure.self) { try CandidValue.parseArguments(text) }
  }

  /// `wallet_send`'s reply is decoded: either spelling of `Ok` is success, an `Err` is a failure
  /// whatever its text says (even `17_724`), and anything else is not understood.
  @Test func walletSendReplyIsDecoded() throws {
    try ToolOutput.walletSendReply("(variant { 17_724 })\n")
    try ToolOutput.walletSendReply("(variant { Ok })\n")
    try ToolOutput.walletSendReply("(\n  variant {\n    Ok\n  },\n)\n")
    let err = """
      (
        variant {
          Err = "An error happened during the call: 4: Cycles sent: 17_724. Refunded: 1_000_000_000_000 cycles.";
        },
      )
      """
    #expect(
      throws: BackendError.reject(
        code: "wallet_send Err",
        message: "An error happened during the call: 4: Cycles sent: 17_724. Refunded: 1_000_000_000_000 cycles.")
    ) {
      try ToolOutput.walletSendReply(err)
    }
    #expect(throws: BackendError.self) {
      try ToolOutput.walletSendReply("(variant { 3_456_837 = \"Insufficient balance\" })")
    }
    for junk in ["()", "(variant { Pending })", "17_724", "(record { Ok = null })"] {
      #expect { try ToolOutput.walletSendReply(junk) } throws: { error in
        if case .environment = error as? BackendError { true } else { false }
      }
    }
  }

  /// `rbic candid FILE.did`: one method per line; a bad file is exit 2 with its location.
  @Test func candidCommandListsMethodsAndLocatesErrors() throws {
    let good = try CLI.run(["candid", Self.corpus + "/good/user-service.did"])
    #expect(good.status == 0, "\(good.stderr)")
    #expect(good.stdout.split(separator: "\n").contains("reset_signing_key : () -> (Key)"))
    #expect(good.stdout.hasPrefix("service : (record { oracle : opt text })\n"))
    let bad = try CLI.run(["candid", Self.corpus + "/bad/unbound.did"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("unbound type identifier Missing"))
    #expect(bad.stderr.contains("unbound.did:2:"), "\(bad.stderr)")
  }

  /// A call on a canister with an interface sends each argument with the method's exact type
  /// (the sim echoes what it received); a computed value that does not fit stops the call.
  @Test func typedCallsSendTheMethodsExactTypes() throws {
    let dir = try CLI.temporaryDirectory()
    try """
    service : {
      set_level : (nat8) -> ();
      configure : (record { url : text; retries : opt nat32; budget : nat64 }) -> ();
      note : (text, opt principal) -> ();
    }
    """.write(toFile: dir + "/api.did", atomically: true, encoding: .utf8)
    func run(_ body: String) -> RunResult {
      let source =
        "runbook \"typed\" version 1\nimport \"api.did\" as Api\nlet c: Api = \(Harness.userService.text)\n" + body
      let engine = Engine(registry: .standard)
      let program = engine.compile(
        source: Array(source.utf8), path: dir + "/typed.rb.ic", options: .init(projectDirectory: dir))
      #expect(
        !program.hasErrors, "\(DiagnosticRenderer(files: program.files, style: .tool).render(program.diagnostics))")
      // A canister that publishes no interface: the runbook's is all there is.
      let sim = SimulatedIC(
        state: Harness.world {
          $0.faults = [.init(operation: .call, kind: .echo)]
          $0.canisters[Harness.userService.text]!.candid_service = nil
        })
      var options = RunOptions(projectDirectory: dir, environment: [:])
      options.yes = true
      options.print = { _ in }
      options.progress = { _ in }
      return engine.run(program, backend: sim, options: options)
    }
    let r = run(
      """
      step "calls" on c {
        call c.set_level(7)
        call c.configure({url: "https://o.example", budget: 2T})
        call c.note("hello", c)
      }
      """)
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
    let changes = r.steps.first?.changes.map(\.text) ?? []
    #expect(changes.contains { $0.hasSuffix("→ (7 : nat8)") }, "\(changes)")
    // Sent as the tools print it: over 80 columns, broken over lines.
    #expect(
      changes.contains {
        $0.hasSuffix(
          "→ (\n  record {\n    url = \"https://o.example\";\n    retries = null;\n    budget = 2_000_000_000_000 : nat64;\n  },\n)"
        )
      }, "\(changes)")
    #expect(
      changes.contains { $0.hasSuffix("→ (\"hello\", opt principal \"\(Harness.userService.text)\")") }, "\(changes)")
    let overflow = run("let n = 200\nstep \"s\" on c {\n  call c.set_level(n + 100)\n}\n")
    #expect(overflow.exitCode == 3)
    #expect(
      overflow.failure?.diagnostic.message == "cannot call set_level: 300 does not fit the method's `nat8` (0 to 255)")
  }

  /// Replies decoded against the interface: variants as records of optionals, records, opt, vec,
  /// numbers, blobs; a reply that does not fit is an error naming what did not.
  @Test func repliesDecodeAgainstTheInterface() throws {
    var files = SourceFiles()
    let env = try CandidEnvironment.parse(
      """
      type Result = variant { Ok : record { minted : nat; block : opt nat64 }; Err : text; Pending };
      service : { r : () -> (Result); k : () -> (blob, vec principal) query }
      """, into: &files)
    let r = try #require(env.method("r"))
    #expect(
      CandidReply.type(of: r.results, in: env)
        == .record([
          .init("Ok", .optional(.record([.init("minted", .int), .init("block", .optional(.int))]))),
          .init("Err", .optional(.text)), .init("Pending", .optional(.bool)),
        ]))
    #expect(
      try CandidReply.decode(
        "(variant { Ok = record { minted = 5 : nat; block = opt (7 : nat64) } })", r.results, in: env)
        == .record(["Ok", "Err", "Pending"], [.record(["minted", "block"], [.int(5), .int(7)]), .none, .none]))
    // Hashed labels, as a tool without the interface prints them, decode the same.
    #expect(
      try CandidReply.decode("(variant { \(CandidLabel.idlHash("Err")) = \"boom\" })", r.results, in: env)
        == .record(["Ok", "Err", "Pending"], [.none, .text("boom"), .none]))
    #expect(
      try CandidReply.decode("(variant { Pending })", r.results, in: env)
        == .record(["Ok", "Err", "Pending"], [.none, .none, .bool(true)]))
    let k = try #require(env.method("k"))
    #expect(
      try CandidReply.decode("(blob \"\\01\\ff\", vec { principal \"aaaaa-aa\" })", k.results, in: env)
        == .record(["_0", "_1"], [.blob([0x01, 0xff]), .list([.principal(Principal(text: "aaaaa-aa")!)])]))
    // `opt`: what does not fit reads as `none` (the spec's rule), an absent field too.
    #expect(
      try CandidReply.decode(
        "(variant { Ok = record { minted = 1; block = opt \"not a number\" } })", r.results, in: env)
        == .record(["Ok", "Err", "Pending"], [.record(["minted", "block"], [.int(1), .none]), .none, .none]))
    #expect(
      try CandidReply.decode("(variant { Ok = record { minted = 1; extra = true } })", r.results, in: env)
        == .record(["Ok", "Err", "Pending"], [.record(["minted", "block"], [.int(1), .none]), .none, .none]))
    for bad in ["(variant { Nope })", "(\"text\")", "(variant { Ok = record { block = null } })", "junk"] {
      #expect(throws: CandidReply.Mismatch.self, "\(bad)") { try CandidReply.decode(bad, r.results, in: env) }
    }
  }

  /// The seed's Step 5: the activation runbook captures the new signing key and prints it, on the
  /// sim and through both tools.
  @Test(arguments: ["sim", "icp", "dfx"])
  func initHooksCaptureTheSigningKey(_ backend: String) throws {
    let key = "0x025a7fa4c9ee13385d82a7ccf1163b6085aacff4193e6388add2f71c41668bb0d5"
    if backend == "sim" {
      let r = Harness.run(Harness.activation, params: Harness.activationParams.merging(["oracle_live": "true"]) { $1 })
      #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
      #expect(r.output.contains("new signing key: \(key) (register it with the production oracle bridge)"))
      return
    }
    let s = try ToolBackendTests.Setup(backend)
    let r = try s.run(["--param", "oracle_live=true"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("new signing key: \(key)"), "\(r.stdout)")
  }

  /// A query is a read: sent in plan and under --read-only; an update's reply in plan is unknown,
  /// so what depends on it is not planned past.
  @Test func queriesAreReadsAndUpdateRepliesAreUnknownInPlan() throws {
    let dir = try CLI.temporaryDirectory()
    try "service : { version : () -> (text) query; rotate : () -> (text) }".write(
      toFile: dir + "/api.did", atomically: true, encoding: .utf8)
    let source =
      "runbook \"q\" version 1\nimport \"api.did\" as Api\nlet c: Api = \(Harness.userService.text)\n"
      + "step \"read\" on c {\n  let v = call c.version()\n  require v == \"1.2.3\"\n}\n"
      + "step \"rotate\" on c {\n  let k = call c.rotate()\n  print k\n}\n"
    let engine = Engine(registry: .standard)
    let program = engine.compile(
      source: Array(source.utf8), path: dir + "/q.rb.ic", options: .init(projectDirectory: dir))
    #expect(!program.hasErrors)
    let world = Harness.world {
      $0.canisters[Harness.userService.text]!.replies = ["version": "(\"1.2.3\")", "rotate": "(\"k2\")"]
      $0.canisters[Harness.userService.text]!.candid_service = nil
    }
    for (mode, readOnly) in [(RunOptions.Mode.plan, false), (.run, true)] {
      let sim = SimulatedIC(state: world)
      var options = RunOptions(projectDirectory: dir, environment: [:])
      options.mode = mode
      options.readOnly = readOnly
      options.print = { _ in }
      options.progress = { _ in }
      let r = engine.run(program, backend: sim, options: options)
      #expect(r.steps.first?.outcome == .ok, "\(mode) \(readOnly): the query ran")
      if mode == .plan {
        #expect(r.steps.last?.outcome == .wouldChange, "the update is shown, not sent")
        #expect(r.exitCode == 0)
      } else {
        #expect(r.exitCode == 4, "--read-only refuses the update")
      }
      #expect(sim.snapshot == world)
    }
  }

  /// Without an interface in the runbook, the one the canister's module publishes (its
  /// `candid:service` metadata, read once per run through the tool) types the arguments and
  /// tells queries from updates; the reply stays its text.
  @Test(arguments: ["sim", "icp", "dfx"])
  func publishedInterfaceTypesUncheckedCalls(_ backend: String) throws {
    let s = try ToolBackendTests.Setup(backend == "sim" ? "icp" : backend) {
      $0.canisters[Harness.userService.text]!.candid_service =
        "service : { level : (nat8) -> (); get : () -> (text) query }"
      $0.canisters[Harness.userService.text]!.replies = ["get": "(\"v1\")"]
      $0.faults = [.init(operation: .call, kind: .echo, times: 1)]
    }
    let runbook = s.dir + "/p.rb.ic"
    try """
    runbook "p" version 1
    use network ic
    let c: canister = \(Harness.userService.text)
    step "calls" on c {
      call c.level(7)
      let v = call c.get()
      print "got {v}"
    }
    """.write(toFile: runbook, atomically: true, encoding: .utf8)
    var arguments = ["run", runbook, "--yes", "--journal", s.dir + "/runs"]
    arguments += backend == "sim" ? ["--sim-state", s.state] : ["--backend", backend]
    let r = try CLI.run(arguments, in: s.dir, environment: s.environment)
    #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    #expect(r.stdout.contains("call \(Harness.userService.text).level(7 : nat8)"), "\(r.stdout)")
    #expect(r.stdout.contains("query \(Harness.userService.text).get()"), "\(r.stdout)")
    #expect(r.stdout.contains("got (\"v1\")"), "\(r.stdout)")
    if backend != "sim" { #expect(r.stderr.components(separatedBy: "canister metadata").count - 1 == 1, "read once") }
  }

  /// The tools print labels by name when they can read the canister's interface and by hash when
  /// they cannot; rbic reads both the same, through both tools.
  @Test(arguments: ["icp", "dfx"])
  func hashedAndNamedRepliesReadTheSame(_ tool: String) throws {
    for named in [false, true] {
      let s = try ToolBackendTests.Setup(tool) {
        $0.canisters[Harness.userService.text]!.candid_service =
          named ? "service : { stats : () -> (record { calls : nat64; name : text }) query }" : nil
        $0.canisters[Harness.userService.text]!.replies = ["stats": "(record { calls = 5 : nat64; name = \"us\" })"]
        // The wallet's replies too: `(variant { Ok })` with its interface, `(variant { 17_724 })` without.
        $0.canisters["wdhec-2yaaa-aaaao-a6dgq-cai"]!.candid_service = named ? "service : {}" : nil
      }
      try "service : { stats : () -> (record { calls : nat64; name : text }) query }".write(
        toFile: s.dir + "/api.did", atomically: true, encoding: .utf8)
      let runbook = s.dir + "/h.rb.ic"
      try """
      runbook "h" version 1
      use network ic
      import "api.did" as Api
      let c: Api = \(Harness.userService.text)
      let wdhec: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
      step "read" on c {
        let s = call c.stats()
        print "calls {s.calls}, name {s.name}"
        ensure cycles >= 1T via wallet wdhec
      }
      """.write(toFile: runbook, atomically: true, encoding: .utf8)
      let r = try CLI.run(
        ["run", runbook, "--backend", tool, "--yes", "--journal", s.dir + "/runs"], in: s.dir,
        environment: s.environment)
      #expect(r.status == 0, "\(named): \(r.stdout)\(r.stderr)")
      #expect(r.stdout.contains("calls 5, name us"), "\(named): \(r.stdout)")
      #expect(
        r.stdout.contains(
          named ? "→ (record { calls = 5 : nat64; name = \"us\" })" : "→ (record { 1_092_317_717 = 5 : nat64"),
        "\(r.stdout)")
    }
  }

  /// A `nat` reply is an `int`, or `cycles` where the runbook says so; an `int` never silently.
  @Test func natRepliesReadAsCyclesWhereTyped() throws {
    let dir = try CLI.temporaryDirectory()
    try
      "service : { wallet_balance : () -> (record { amount : nat64 }) query; total : () -> (nat) query; delta : () -> (int) query }"
      .write(toFile: dir + "/w.did", atomically: true, encoding: .utf8)
    func compile(_ body: String) -> CheckedProgram {
      let source = "runbook \"c\" version 1\nimport \"w.did\" as W\nlet w: W = \(Harness.userService.text)\n" + body
      return Engine(registry: .standard).compile(
        source: Array(source.utf8), path: dir + "/c.rb.ic", options: .init(projectDirectory: dir))
    }
    let ok = compile(
      "let t: cycles = call w.total()\nrequire t >= 1T\nlet a = call w.wallet_balance()\nrequire a.amount > 0\n")
    #expect(!ok.hasErrors, "\(DiagnosticRenderer(files: ok.files, style: .tool).render(ok.diagnostics))")
    let bad = compile("let d: cycles = call w.delta()\n")
    #expect(bad.diagnostics.contains { $0.code == .typeMismatch }, "an `int` reply is not cycles")
    let world = Harness.world {
      $0.canisters[Harness.userService.text]!.replies = [
        "total": "(20_000_000_000_000_000_000 : nat)", "wallet_balance": "(record { amount = 7 : nat64 })",
      ]
      $0.canisters[Harness.userService.text]!.candid_service = nil
    }
    let r = Engine(registry: .standard).run(
      ok, backend: SimulatedIC(state: world),
      options: {
        var o = RunOptions(projectDirectory: dir, environment: [:])
        o.print = { _ in }
        o.progress = { _ in }
        return o
      }())
    #expect(r.exitCode == 0, "\(r.failure?.diagnostic.message ?? "")")
  }

  /// The spec's subtyping, across two interfaces.
  @Test func subtypingFollowsTheSpec() throws {
    var files = SourceFiles()
    let newer = try CandidEnvironment.parse(
      """
      type R = record { a : nat; b : text; extra : bool };
      type V = variant { Ok; Err : text };
      type List = opt record { head : nat; tail : List };
      type T = record { head : nat; tail : vec T };
      service : { f : (int, opt text) -> (R, V); g : (List) -> (List) query; h : () -> (nat) }
      """, into: &files)
    let older = try CandidEnvironment.parse(
      """
      type R = record { a : int; b : text; missing : opt nat };
      type V = variant { Ok; Err : text; Pending };
      type List = opt record { head : int; tail : List };
      type T = record { head : int; tail : vec T };
      service : {
        f : (nat) -> (R, V); g : (List) -> (List) query; g2 : (List) -> (List); h : () -> (text)
      }
      """, into: &files)
    let s = CandidSubtyping(newer, older)
    #expect(
      s.isSubtype(try #require(newer.method("f")), try #require(older.method("f"))),
      "wider record, fewer tags, nat <: int, an extra optional argument")
    #expect(!s.isSubtype(try #require(newer.method("h")), try #require(older.method("h"))), "nat is not text")
    #expect(s.isSubtype(try #require(newer.method("g")), try #require(older.method("g"))))
    #expect(
      !s.isSubtype(try #require(newer.method("g")), try #require(older.method("g2"))),
      "the same signature, but a query against an update")
    let back = CandidSubtyping(older, newer)
    #expect(
      !back.isSubtype(CandidType.named("R"), CandidType.named("R")),
      "int is not nat; `extra` is missing and not optional")
    #expect(back.isSubtype(.named("List"), .named("List")), "recursive types, and the opt rule")
    #expect(s.isSubtype(.named("T"), .named("T")), "a recursive record with no opt: coinduction")
    #expect(!back.isSubtype(.named("T"), .named("T")), "int is not nat, at every level")
    #expect(
      !back.isSubtype(CandidType.named("R"), CandidType.named("R")),
      "asked again: what was assumed for the first answer is not kept")
    #expect(back.isSubtype(.text, .opt(.nat)), "anything reads as an opt (a misfit is null)")
  }

  /// A canister's owner writes its published interface, so its size is hostile input: a service
  /// of N methods, a chain of N type names and a record of N fields load and compare in time
  /// linear in N. (Before: 50 000 methods took 38 s to load, each method's duplicate check
  /// hashing every earlier name; each name on a chain walked the rest of it; each function
  /// compared copied every assumption made so far.) The bound is generous; the linear code takes
  /// a fraction of it.
  @Test func largeServicesLoadAndCompareInLinearTime() throws {
    let n = 20_000
    let methods = (0..<n).map { "m\($0) : (nat, opt text) -> (record { a : nat; b : T0 }) query;" }
    let chain = (0..<n).map { "type T\($0) = T\($0 + 1);" }.joined(separator: "\n") + "\ntype T\(n) = nat;"
    let fields = (0..<n).map { "f\($0) : nat" }.joined(separator: "; ")
    let text =
      chain
      + "\ntype Wide = record { \(fields) };\nservice : { \(methods.joined(separator: " ")) wide : (Wide) -> (Wide) }"
    let start = Date()
    var files = SourceFiles()
    let env = try CandidEnvironment.parse(text, into: &files)
    let other = try CandidEnvironment.parse(text, into: &files)
    #expect(env.methods.count == n + 1)
    #expect(env.method("m\(n - 1)") != nil && env.method("m\(n)") == nil)
    #expect(try env.resolve(.named("T0")) == .nat)
    let subtyping = CandidSubtyping(env, other)
    let service = CandidType.service(env.methods.map { CandidMethod(name: $0.name, type: .function($0.function)) })
    #expect(subtyping.isSubtype(service, service))
    #expect(subtyping.isSubtype(.named("Wide"), .named("Wide")))
    let seconds = Date().timeIntervalSince(start)
    #expect(seconds < 15, "\(seconds) s")
  }

  /// A canister whose published interface cannot serve the imported one's call is stopped before
  /// anything is sent.
  @Test func publishedInterfaceThatDisagreesStopsTheCall() throws {
    let dir = try CLI.temporaryDirectory()
    try "service : { set_level : (nat8) -> (); get : () -> (text) query }".write(
      toFile: dir + "/api.did", atomically: true, encoding: .utf8)
    let source =
      "runbook \"d\" version 1\nimport \"api.did\" as Api\nlet c: Api = \(Harness.userService.text)\n"
      + "step \"s\" on c {\n  call c.set_level(3)\n}\n"
    let engine = Engine(registry: .standard)
    let program = engine.compile(
      source: Array(source.utf8), path: dir + "/d.rb.ic", options: .init(projectDirectory: dir))
    #expect(!program.hasErrors)
    for (published, expected) in [
      ("service : { set_level : (text) -> () }", "does not serve `Api`'s `set_level : (nat8) -> ()`"),
      ("service : { other : () -> () }", "has no method `set_level`"),
      // nat8 is not a nat in Candid (only nat <: int).
      ("service : { set_level : (nat) -> () }", "does not serve"),
      ("service : { set_level : (nat8, opt text) -> (); extra : () -> () }", nil),
    ] {
      let world = Harness.world {
        $0.canisters[Harness.userService.text]!.candid_service = published
        $0.faults = [.init(operation: .call, kind: .echo)]
      }
      var options = RunOptions(projectDirectory: dir, environment: [:])
      options.yes = true
      options.print = { _ in }
      options.progress = { _ in }
      let r = engine.run(program, backend: SimulatedIC(state: world), options: options)
      if let expected {
        #expect(r.exitCode == 3, "\(published)")
        #expect(r.failure?.diagnostic.message.contains(expected) == true, "\(r.failure?.diagnostic.message ?? "")")
      } else {
        #expect(
          r.exitCode == 0, "an extra optional argument and an extra method: \(r.failure?.diagnostic.message ?? "")")
      }
    }
  }

  /// The canister publishes the interface of the module it runs: after the activation's upgrade,
  /// user-service answers the new module's `version` query; before it, the old module cannot,
  /// and the call stops before anything is sent.
  @Test func theInstalledModuleDecidesWhatIsPublished() throws {
    let activated = Harness.run(Harness.activation, params: Harness.activationParams)
    #expect(activated.result.exitCode == 0)
    let source = """
      runbook "v" version 1
      import "user_service.did" as UserService
      let prod: UserService = \(Harness.userService.text)
      step "version" on prod {
        let v = call prod.version()
        require v == "1.3.9"
      }
      """
    let after = Harness.run(source, state: activated.sim.snapshot, mode: .plan)
    #expect(after.result.exitCode == 0, "\(after.result.failure?.diagnostic.message ?? "")")
    let before = Harness.run(source, mode: .plan)
    #expect(before.result.exitCode == 3)
    #expect(before.result.failure?.diagnostic.message.contains("has no method `version`") == true)
  }

  /// Within one run: a call before the upgrade is checked against the old module's interface, a
  /// call after it against the new one's (the published interface is read again once the
  /// canister changed).
  @Test func anUpgradeInTheRunChangesThePublishedInterface() throws {
    let r = Harness.run(
      """
      runbook "v" version 1
      import "user_service.did" as UserService
      let prod: UserService = \(Harness.userService.text)
      param wasm: path
      step "before" on prod {
        call prod.set_oracle_bridge_url("https://o.example")
      }
      step "upgrade" on prod {
        ensure hash == sha256(wasm) via install wasm
      }
      step "after" on prod {
        let v = call prod.version()
        require v == "1.3.9"
      }
      """, params: ["wasm": Harness.wasm])
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.result.steps.map(\.outcome) == [.changed, .changed, .ok])
  }

  /// An interface's own imports stay in the project, like a runbook's; a canister's published
  /// interface reads no local file at all.
  @Test func nestedCandidImportsStayInTheProject() throws {
    let outside = try CLI.temporaryDirectory()
    try "type Secret = text;".write(toFile: outside + "/secret.did", atomically: true, encoding: .utf8)
    let dir = try CLI.temporaryDirectory()
    try "import \"\(outside)/secret.did\";\nservice : { f : () -> () }".write(
      toFile: dir + "/api.did", atomically: true, encoding: .utf8)
    try "runbook \"n\" version 1\nimport \"api.did\" as Api\n".write(
      toFile: dir + "/n.rb.ic", atomically: true, encoding: .utf8)
    let r = try CLI.run(["check", "n.rb.ic"], in: dir)
    #expect(r.status == 2)
    #expect(r.stderr.contains("outside what this interface may read"), "\(r.stderr)")
    var files = SourceFiles()
    #expect(throws: CandidFailure.self) {
      _ = try CandidEnvironment.parse("import \"\(outside)/secret.did\"; service : {}", into: &files)
    }
  }

  /// The sim's management canister answers its common methods, typed by the interface it publishes.
  @Test func simulatedManagementCanister() throws {
    let r = Harness.run(
      """
      runbook "m" version 1
      step "s" {
        let st = call aaaaa-aa.canister_status({canister_id: \(Harness.userService.text)})
        print st
        call aaaaa-aa.stop_canister({canister_id: \(Harness.userService.text)})
        print call aaaaa-aa.raw_rand()
      }
      """)
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(
      r.output.contains { $0.contains("cycles = 38_800_000_000 : nat;") && $0.contains("status = variant { running }") }
    )
    #expect(r.output.contains { $0.contains("blob \"") }, "\(r.output)")
    #expect(r.sim.snapshot.canisters[Harness.userService.text]?.status == .stopped)
  }
}
