import Foundation
import MCP
import RbicBackends
import RbicBuiltins
import RbicCheck
import RbicRuntime
import RbicTooling
import Synchronization
import SystemPackage
import Testing

/// `rbic mcp` driven by the MCP SDK's own client over a pipe, as an assistant's host drives it.
final class McpSession: Sendable {
  let process: Process
  let client: Client
  /// Kept for the session: the transport holds their descriptors, which close with them.
  let pipes: [Pipe]
  let directory: String
  /// The questions the server asked the human, and how the human answers.
  let asked = Mutex<[String]>([])
  let accept = Mutex(true)
  let progress = Mutex<[String]>([])

  init(_ arguments: [String], in directory: String) async throws {
    self.directory = directory
    let toServer = Pipe()
    let fromServer = Pipe()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = ["mcp"] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    process.standardInput = toServer
    process.standardOutput = fromServer
    process.standardError = FileHandle.nullDevice
    try process.run()
    self.process = process
    pipes = [toServer, fromServer]
    let transport = StdioTransport(
      input: FileDescriptor(rawValue: fromServer.fileHandleForReading.fileDescriptor),
      output: FileDescriptor(rawValue: toServer.fileHandleForWriting.fileDescriptor))
    client = Client(name: "rbic-tests", version: "1", capabilities: .init(elicitation: .init()))
    await client.withElicitationHandler { [self] parameters in
      guard case .form(let form) = parameters else { return .init(action: .decline) }
      asked.withLock { $0.append(form.message) }
      return accept.withLock { $0 } ? .init(action: .accept, content: ["confirm": true]) : .init(action: .decline)
    }
    await client.onNotification(ProgressNotification.self) { [self] message in
      progress.withLock { $0.append(message.params.message ?? "") }
    }
    try await client.connect(transport: transport)
  }

  /// Calls a tool; the whole result (structured content included).
  func call(_ name: String, _ arguments: [String: MCP.Value] = [:], meta: Metadata? = nil) async throws
    -> CallTool.Result
  {
    try await client.send(CallTool.request(.init(name: name, arguments: arguments, meta: meta))).value
  }

  /// Ends the session as a host does: closes the server's input, which ends it (exit 0).
  func close() async {
    await client.disconnect()
    try? pipes[0].fileHandleForWriting.close()
    let deadline = Date().addingTimeInterval(10)
    while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    let ended = !process.isRunning
    if !ended { kill(process.processIdentifier, SIGKILL) }
    #expect(ended, "the server ends when its input does")
    if ended { #expect(process.terminationStatus == 0) }
  }

  static func text(_ result: CallTool.Result) -> String {
    result.content.compactMap { if case .text(let t, _, _) = $0 { t } else { nil } }.joined()
  }

  /// A working directory with the repository's runbooks and demo module, and a sim state file.
  static func workspace(_ edit: (inout SimulatedIC.State) -> Void = { _ in }) throws -> String {
    let dir = try CLI.temporaryDirectory()
    for item in ["scripts", "demo", "canister_ids.json"] {
      try FileManager.default.copyItem(atPath: Corpus.repository + "/" + item, toPath: dir + "/" + item)
    }
    var world = SimulatedIC.demoWorld
    edit(&world)
    try SimulatedIC(state: world).save(path: dir + "/state.json")
    return dir
  }

  static let activation: [String: MCP.Value] = [
    "file": "scripts/canister-prod-activation.rb.ic",
    "params": ["canister": "6iu47-dyaaa-aaaaf-qgeza-cai", "wasm": "demo/user_service_with_metadata.wasm"],
  ]
}

@Suite(.serialized) struct McpTests {
  @Test func toolsHaveSchemasAnnotationsAndTheReadOnlyOnesSayGo() async throws {
    let s = try await McpSession(["--sim-state", "state.json"], in: try McpSession.workspace())
    let (tools, _) = try await s.client.listTools()
    #expect(Set(tools.map(\.name)) == ["check", "describe", "plan", "run", "inspect", "report"])
    let run = try #require(tools.first { $0.name == "run" })
    #expect(run.annotations.destructiveHint == true && run.annotations.readOnlyHint == false)
    #expect(run.inputSchema.objectValue?["required"]?.arrayValue == ["plan_id"])
    for name in ["check", "describe", "plan", "inspect", "report"] {
      #expect(tools.first { $0.name == name }?.annotations.readOnlyHint == true, "\(name)")
    }
    let described = try await s.call("describe", ["file": "scripts/canister-prod-activation.rb.ic"])
    let params = described.structuredContent?.objectValue?["params"]?.arrayValue ?? []
    #expect(params.contains { $0.objectValue?["name"]?.stringValue == "canister" })
    #expect(described.structuredContent?.objectValue?["steps"]?.arrayValue?.count == 8)
    let outside = try await s.call("describe", ["file": "../../etc/passwd.rb.ic"])
    #expect(outside.isError == true && McpSession.text(outside).contains("outside the working directory"))
    await s.close()
  }

  @Test func checkReportsABadRunbookWithLocations() async throws {
    let s = try await McpSession([], in: try McpSession.workspace())
    let result = try await s.call("check", ["source": "runbook \"bad\" version 1\nprint nope\n"])
    #expect(result.isError == true)
    let diagnostics = try #require(result.structuredContent?.objectValue?["diagnostics"]?.arrayValue)
    let first = try #require(diagnostics.first?.objectValue)
    #expect(first["line"]?.intValue == 2 && first["column"]?.intValue == 7 && first["severity"]?.stringValue == "error")
    #expect(first["code"]?.stringValue == "unknown-name")
    await s.close()
  }

  /// Plan the activation runbook on the sim, apply it by id with the human answering yes to each
  /// question; the same plan again is stale; the journal says the run came through MCP.
  @Test func planThenRunByIdWithTheHumanConfirmingThenStale() async throws {
    let dir = try McpSession.workspace()
    let s = try await McpSession(["--sim-state", "state.json", "--allow-mutations"], in: dir)
    let planned = try await s.call("plan", McpSession.activation)
    #expect(planned.isError != true, "\(McpSession.text(planned))")
    let plan = try #require(planned.structuredContent?.objectValue)
    let id = try #require(plan["plan_id"]?.stringValue)
    #expect(plan["changes"]?.arrayValue?.count == 3 && plan["network"]?.stringValue == "ic")
    #expect(FileManager.default.fileExists(atPath: dir + "/.rbic/plans/\(id).json"))
    let before = try SimulatedIC.load(path: dir + "/state.json")
    #expect(before.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.cycles == "38800000000", "planning changed nothing")

    let ran = try await s.call("run", ["plan_id": MCP.Value.string(id)])
    #expect(ran.isError != true, "\(McpSession.text(ran))")
    #expect(ran.structuredContent?.objectValue?["exit"]?.intValue == 0)
    let asked = s.asked.withLock { $0 }
    #expect(asked.count == 3, "\(asked)")
    #expect(
      asked.contains {
        $0.contains("send 971.2B from wallet wdhec-2yaaa-aaaao-a6dgq-cai to 6iu47-dyaaa-aaaaf-qgeza-cai on ic")
      }, "the question names the canister, the action and the amount: \(asked)")
    let after = try SimulatedIC.load(path: dir + "/state.json")
    #expect(after.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.controllers.count == 4)
    let journal = try #require(ran.structuredContent?.objectValue?["journal"]?.stringValue)
    let start = try String(contentsOfFile: journal, encoding: .utf8)
    #expect(start.contains("\"origin\":{\"client\":\"rbic-tests 1\",\"via\":\"mcp\"}"), "\(start.prefix(600))")
    #expect(start.contains("\"plan\":\"\(id)\""))

    // Between runs the server holds no lock on the state file: a person's `rbic run` may use it.
    let lock = open(dir + "/state.json.lock", O_RDWR)
    #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0, "the state file's lock is free")
    if lock >= 0 { close(lock) }

    let again = try await s.call("run", ["plan_id": MCP.Value.string(id)])
    #expect(again.isError == true && McpSession.text(again).contains("was applied already"))
    #expect(try SimulatedIC.load(path: dir + "/state.json") == after)
    let report = try await s.call("report", ["run": "last"])
    #expect(McpSession.text(report).contains("# Run report: canister-production-activation"))
    await s.close()
  }

  /// A plan whose canister changed after it was made (a human ran something meanwhile) is stale.
  @Test func aPlanMadeBeforeTheStateChangedIsStale() async throws {
    let dir = try McpSession.workspace()
    let s = try await McpSession(["--sim-state", "state.json", "--allow-mutations"], in: dir)
    let planned = try await s.call("plan", McpSession.activation)
    let id = try #require(planned.structuredContent?.objectValue?["plan_id"]?.stringValue)
    let meanwhile = try CLI.run(
      ["run", "scripts/controller-management.rb.ic", "--sim-state", "state.json", "--yes", "--journal", "j"], in: dir)
    #expect(meanwhile.status == 0, "\(meanwhile.stderr)")
    let changed = try SimulatedIC.load(path: dir + "/state.json")
    let stale = try await s.call("run", ["plan_id": MCP.Value.string(id)])
    #expect(stale.isError == true && McpSession.text(stale).contains("is stale; nothing was changed"))
    #expect(
      McpSession.text(stale).contains("6iu47-dyaaa-aaaaf-qgeza-cai: controllers was"), "\(McpSession.text(stale))")
    #expect(s.asked.withLock { $0.isEmpty }, "nothing asked: nothing was going to run")
    #expect(try SimulatedIC.load(path: dir + "/state.json") == changed)
    await s.close()
  }

  /// A plan made on `ic` is refused by a server on another network, and one that moves more than
  /// the server's ceiling is refused before anything runs.
  @Test func anotherNetworkOrTheCeilingRefusesThePlan() async throws {
    let dir = try McpSession.workspace()
    let planner = try await McpSession(["--sim-state", "state.json"], in: dir)
    let planned = try await planner.call("plan", McpSession.activation)
    let id = try #require(planned.structuredContent?.objectValue?["plan_id"]?.stringValue)
    await planner.close()
    let before = try SimulatedIC.load(path: dir + "/state.json")

    let local = try await McpSession(["--sim-state", "state.json", "--allow-mutations", "--network", "local"], in: dir)
    let elsewhere = try await local.call("run", ["plan_id": MCP.Value.string(id)])
    #expect(
      elsewhere.isError == true && McpSession.text(elsewhere).contains("made for network `ic`; this run is on `local`"))
    await local.close()

    let tight = try await McpSession(
      ["--sim-state", "state.json", "--allow-mutations", "--cycles-ceiling", "100B"], in: dir)
    let over = try await tight.call("run", ["plan_id": MCP.Value.string(id)])
    #expect(
      over.isError == true && McpSession.text(over).contains("above this run's ceiling of 100B"),
      "\(McpSession.text(over))")
    #expect(tight.asked.withLock { $0.isEmpty }, "nothing was asked: nothing was going to run")
    await tight.close()
    #expect(try SimulatedIC.load(path: dir + "/state.json") == before)
  }

  /// `plan` takes a params file (inside the directory only; `params` override it); the plan
  /// records its sha256, and `run` refuses the plan once the file changed.
  @Test func aParamsFileIsRecordedAndItsChangeMakesThePlanStale() async throws {
    let dir = try McpSession.workspace()
    let yaml = "canister: 6iu47-dyaaa-aaaaf-qgeza-cai\nwasm: demo/nothing.wasm\n"
    try yaml.write(toFile: dir + "/prod.yaml", atomically: true, encoding: .utf8)
    let s = try await McpSession(["--sim-state", "state.json", "--allow-mutations"], in: dir)
    let unknown = try await s.call(
      "plan", ["file": "scripts/canister-prod-activation.rb.ic", "params_file": "prod.yaml", "params": ["wasn": "x"]])
    #expect(unknown.isError == true)
    #expect(
      McpSession.text(unknown).contains("unknown param `wasn` (did you mean `wasm`?)"), "\(McpSession.text(unknown))")
    let typo = "canister: 6iu47-dyaaa-aaaaf-qgeza-cai\nwasn: demo/nothing.wasm\n"
    try typo.write(toFile: dir + "/typo.yaml", atomically: true, encoding: .utf8)
    let located = try await s.call(
      "plan", ["file": "scripts/canister-prod-activation.rb.ic", "params_file": "typo.yaml"])
    #expect(located.isError == true && McpSession.text(located).contains("typo.yaml:2:1: error: unknown param `wasn`"))
    let escaped = try await s.call(
      "plan", ["file": "scripts/canister-prod-activation.rb.ic", "params_file": "../prod.yaml"])
    #expect(escaped.isError == true && McpSession.text(escaped).contains("cannot read the params file `../prod.yaml`"))

    let planned = try await s.call(
      "plan",
      [
        "file": "scripts/canister-prod-activation.rb.ic", "params_file": "prod.yaml",
        "params": ["wasm": "demo/user_service_with_metadata.wasm"],
      ])
    #expect(planned.isError != true, "\(McpSession.text(planned))")
    let id = try #require(planned.structuredContent?.objectValue?["plan_id"]?.stringValue)
    let plan = try SavedPlan.load(path: dir + "/.rbic/plans/\(id).json").plan
    #expect(plan.paramsFile?.path == "prod.yaml")
    #expect(plan.params["wasm"] == "demo/user_service_with_metadata.wasm", "`params` override the file")
    try (yaml + "# edited\n").write(toFile: dir + "/prod.yaml", atomically: true, encoding: .utf8)
    let before = try SimulatedIC.load(path: dir + "/state.json")
    let ran = try await s.call("run", ["plan_id": MCP.Value.string(id)])
    #expect(ran.isError == true)
    #expect(
      McpSession.text(ran).contains("the params file `prod.yaml` changed since the plan"), "\(McpSession.text(ran))")
    #expect(try SimulatedIC.load(path: dir + "/state.json") == before)
    await s.close()
  }

  @Test func aDeclinedConfirmationRefusesTheRun() async throws {
    let dir = try McpSession.workspace()
    let s = try await McpSession(["--sim-state", "state.json", "--allow-mutations"], in: dir)
    s.accept.withLock { $0 = false }
    let planned = try await s.call("plan", McpSession.activation)
    let id = try #require(planned.structuredContent?.objectValue?["plan_id"]?.stringValue)
    let before = try SimulatedIC.load(path: dir + "/state.json")
    let ran = try await s.call("run", ["plan_id": MCP.Value.string(id)])
    #expect(ran.isError == true && ran.structuredContent?.objectValue?["exit"]?.intValue == 4)
    #expect(McpSession.text(ran).contains("declined"), "\(McpSession.text(ran))")
    #expect(try SimulatedIC.load(path: dir + "/state.json") == before)
    await s.close()
  }

  /// Started without --allow-mutations, the server plans and inspects but applies nothing, on
  /// `ic` or anywhere; no flag the model can pass changes that.
  @Test func aReadOnlyServerRefusesRunButInspects() async throws {
    let dir = try McpSession.workspace()
    let s = try await McpSession(["--sim-state", "state.json"], in: dir)
    let planned = try await s.call("plan", McpSession.activation)
    let id = try #require(planned.structuredContent?.objectValue?["plan_id"]?.stringValue)
    let ran = try await s.call(
      "run", ["plan_id": MCP.Value.string(id), "yes": MCP.Value.bool(true), "allow_mutations": MCP.Value.bool(true)])
    #expect(ran.isError == true && McpSession.text(ran).contains("this server is read-only"))
    #expect(s.asked.withLock { $0.isEmpty })
    let inspected = try await s.call("inspect", ["expression": "6iu47-dyaaa-aaaaf-qgeza-cai.cycles"])
    #expect(
      inspected.structuredContent?.objectValue?["value"]?.stringValue == "38.8B : cycles",
      "\(McpSession.text(inspected))")
    await s.close()
    let yes = try CLI.run(["mcp", "--yes"], in: dir)
    #expect(yes.status == 2 && yes.stderr.contains("--yes is not accepted"))
  }

  /// One containment rule: a path is resolved as the OS opens it and compared component by
  /// component (`scripts//../../outside/…` is outside); only runbooks are read (an identity PEM is
  /// not checked, so none of its lines reach the model); the model's expression sees neither the
  /// server's environment nor files outside the directory; outside text comes back as data.
  @Test func containmentIsOneRuleAndOutsideTextIsData() async throws {
    let dir = try McpSession.workspace()
    let outside = "outside-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir + "/../" + outside, withIntermediateDirectories: true)
    try "runbook \"evil\" version 1\nprint \"escaped\"\n".write(
      toFile: dir + "/../\(outside)/evil.rb.ic", atomically: true, encoding: .utf8)
    let pem = "-----BEGIN EC PRIVATE KEY-----\nMHQCAQEEICJxApEbuZznKFpV8VKACRK3\n-----END EC PRIVATE KEY-----\n"
    try pem.write(toFile: dir + "/identity.pem", atomically: true, encoding: .utf8)
    let s = try await McpSession(["--sim-state", "state.json"], in: dir)
    for spelling in ["scripts//../../\(outside)/evil.rb.ic", "scripts/./../../\(outside)/evil.rb.ic"] {
      for tool in ["check", "describe", "plan"] {
        let r = try await s.call(tool, ["file": .string(spelling)])
        #expect(r.isError == true, "\(tool) \(spelling): \(McpSession.text(r))")
        #expect(McpSession.text(r).contains("outside the working directory"), "\(tool) \(spelling)")
      }
    }
    let key = try await s.call("check", ["file": "identity.pem"])
    #expect(key.isError == true && !McpSession.text(key).contains("MHQCAQEE"), "\(McpSession.text(key))")
    let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
    let env = try await s.call("inspect", ["expression": "env(\"HOME\")"])
    #expect(!McpSession.text(env).contains(home), "\(McpSession.text(env))")
    let file = try await s.call("inspect", ["expression": "sha256(\"/etc/passwd\")"])
    #expect(file.isError == true, "\(McpSession.text(file))")
    let cycles = try await s.call("inspect", ["expression": "6iu47-dyaaa-aaaaf-qgeza-cai.cycles"])
    #expect(McpSession.text(cycles).hasPrefix("<untrusted-data source=\"live state\">\n38.8B : cycles\n"))
    await s.close()
  }

  /// A saved plan whose runbook lies outside the served directory is not applied, even when its
  /// file sits in the server's plan directory and hashes to its id.
  @Test func aPlanForARunbookOutsideTheDirectoryIsRefused() async throws {
    let dir = try McpSession.workspace()
    let outside = try CLI.temporaryDirectory()
    try "runbook \"evil\" version 1\nstep \"s\" {\n  print \"escaped\"\n}\n".write(
      toFile: outside + "/evil.rb.ic", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: dir + "/.rbic/plans", withIntermediateDirectories: true)
    let planned = try CLI.run(["plan", outside + "/evil.rb.ic", "--out", dir + "/.rbic/plans/p.json"], in: dir)
    #expect(planned.status == 0, "\(planned.stderr)")
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/.rbic/plans/p.json"))
    let id = SavedPlan.id(of: data)
    try FileManager.default.moveItem(atPath: dir + "/.rbic/plans/p.json", toPath: dir + "/.rbic/plans/\(id).json")
    let s = try await McpSession(["--allow-mutations"], in: dir)
    let ran = try await s.call("run", ["plan_id": .string(id)])
    #expect(ran.isError == true, "\(McpSession.text(ran))")
    #expect(McpSession.text(ran).contains("outside the working directory"), "\(McpSession.text(ran))")
    #expect(!McpSession.text(ran).contains("escaped"))
    await s.close()
  }

  /// Requests are read in linear time with a size limit: an 8 MiB line is skipped and answered
  /// with a JSON-RPC error, and the next request is answered at once.
  @Test func anOversizedRequestIsRefusedAndTheServerGoesOn() throws {
    let dir = try McpSession.workspace()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = ["mcp"]
    process.currentDirectoryURL = URL(fileURLWithPath: dir)
    let toServer = Pipe()
    let fromServer = Pipe()
    process.standardInput = toServer
    process.standardOutput = fromServer
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    let started = Date()
    let huge =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{\"x\":\"" + String(repeating: "a", count: 8 << 20)
      + "\"}}\n"
    let ping = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n"
    let writer = Thread {
      toServer.fileHandleForWriting.write(Data((huge + ping).utf8))
    }
    writer.start()
    var received = Data()
    while Date().timeIntervalSince(started) < 30, received.split(separator: UInt8(ascii: "\n")).count < 2 {
      let chunk = fromServer.fileHandleForReading.availableData
      if chunk.isEmpty { break }
      received.append(chunk)
    }
    let lines = received.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
    #expect(Date().timeIntervalSince(started) < 20, "answered in \(Date().timeIntervalSince(started)) s")
    #expect(lines.contains { $0.contains("\"code\":-32600") }, "\(lines)")
    #expect(lines.contains { $0.contains("\"id\":2") && $0.contains("\"result\"") }, "\(lines)")
    try toServer.fileHandleForWriting.close()
    process.waitUntilExit()
  }

  /// A cancelled run stops at the next statement; the journal records the interruption.
  @Test func cancellationStopsTheRunAndIsJournaled() async throws {
    let dir = try McpSession.workspace { $0.latency_ms = 300 }
    let s = try await McpSession(["--sim-state", "state.json", "--allow-mutations"], in: dir)
    let planned = try await s.call("plan", McpSession.activation)
    let id = try #require(planned.structuredContent?.objectValue?["plan_id"]?.stringValue)
    let token = ProgressToken.unique()
    let context = try await s.client.send(
      CallTool.request(
        .init(name: "run", arguments: ["plan_id": MCP.Value.string(id)], meta: Metadata(progressToken: token))))
    // Cancel once the run has reported its first step.
    let deadline = Date().addingTimeInterval(20)
    while s.progress.withLock({ $0.isEmpty }), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
    #expect(s.progress.withLock { $0.first } == "Create the production canister")
    try await s.client.cancelRequest(context.requestID, reason: "the human changed their mind")
    await #expect(throws: (any Error).self) { _ = try await context.value }
    // The journal ends with the interruption, whatever was in flight.
    var events: [String] = []
    while Date() < deadline {
      let runs = dir + "/.rbic/runs"
      if let name = try FileManager.default.contentsOfDirectory(atPath: runs).sorted().last {
        events = try String(contentsOfFile: runs + "/" + name, encoding: .utf8).split(separator: "\n").compactMap {
          (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["event"] as? String
        }
        if events.last == "run_end" { break }
      }
      try await Task.sleep(for: .milliseconds(50))
    }
    #expect(events.contains("interrupted"), "\(events)")
    #expect(events.last == "run_end")
    let after = try SimulatedIC.load(path: dir + "/state.json")
    #expect(after.canisters["6iu47-dyaaa-aaaaf-qgeza-cai"]?.controllers.count == 1, "stopped before the last step")
    await s.close()
  }

  @Test func resourcesAreTheRunbooksJournalsAndReference() async throws {
    let s = try await McpSession([], in: try McpSession.workspace())
    let (resources, _) = try await s.client.listResources()
    let uris = resources.map(\.uri)
    #expect(uris.contains("rbic://runbooks/scripts/canister-prod-activation.rb.ic"))
    #expect(uris.contains("rbic://reference/actions") && uris.contains("rbic://reference/language"))
    let actions = try await s.client.readResource(uri: "rbic://reference/actions")
    #expect(actions.first?.text == Reference.markdown(.actions, registry: .standard))
    await #expect(throws: (any Error).self) {
      _ = try await s.client.readResource(uri: "rbic://runbooks/../../etc/passwd")
    }
    await s.close()
  }
}
