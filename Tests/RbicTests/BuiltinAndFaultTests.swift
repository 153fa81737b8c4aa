import Foundation
import RbicBackends
import RbicBuiltins
import RbicDiagnostics
import Testing

@testable import RbicCheck
@testable import RbicRuntime

#if canImport(Glibc)
  import Glibc
#endif

/// A one-shot HTTP server on 127.0.0.1 (an ephemeral port), answering every request with `body`.
final class LoopbackServer: @unchecked Sendable {
  let port: UInt16
  private let fd: Int32

  init(body: String, status: String = "200 OK") throws {
    let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let size = length
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, size) }
    }
    guard bound == 0, listen(sock, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &length) }
    }
    fd = sock
    port = UInt16(bigEndian: address.sin_port)
    let listener = fd
    let response =
      "HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    Thread.detachNewThread {
      while true {
        let client = accept(listener, nil, nil)
        if client < 0 { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = read(client, &buffer, buffer.count)
        _ = response.withCString { write(client, $0, strlen($0)) }
        close(client)
      }
    }
  }

  deinit {
    shutdown(fd, Int32(SHUT_RDWR))
    close(fd)
  }
}

@Suite struct BuiltinTests {
  @Test func httpGetReadsFromALoopbackServer() throws {
    let server = try LoopbackServer(body: "healthy")
    let r = Harness.run(
      "runbook \"t\" version 1\nlet page = http_get(\"http://127.0.0.1:\(server.port)/health\")\nprint page.status\nprint page.body\n"
    )
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.output == ["200", "healthy"])
  }

  @Test func httpGetToAClosedPortIsAnEnvironmentError() throws {
    let port: UInt16
    do {
      let server = try LoopbackServer(body: "")
      port = server.port
    }
    let r = Harness.run("runbook \"t\" version 1\nprint http_get(\"http://127.0.0.1:\(port)/\").status\n")
    #expect(r.result.exitCode == 3)
  }

  @Test func runTakesAnArgvNeverAShell() throws {
    let r = Harness.run(
      "runbook \"t\" version 1\nlet out = run(\"echo\", \"a; rm -rf /tmp/nothing\", \"$HOME\")\nprint out.status\nprint out.stdout\n"
    )
    #expect(r.result.exitCode == 0)
    #expect(r.output == ["0", "a; rm -rf /tmp/nothing $HOME\n"], "metacharacters arrive as data")
  }

  @Test func cancellationStopsARunningChildProcess() {
    let cancellation = Cancellation()
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { cancellation.cancel() }
    let started = Date()
    let r = Harness.run("runbook \"t\" version 1\nprint run(\"sleep\", \"20\").status\n") {
      $0.yes = true
      $0.cancellation = cancellation
    }
    #expect(r.result.exitCode == 130)
    #expect(Date().timeIntervalSince(started) < 5, "the child did not run its 20 s")
  }

  @Test func canisterIDsReadsTheProjectFiles() throws {
    let dir = try CLI.temporaryDirectory()
    try #"{"user-service": {"ic": "6iu47-dyaaa-aaaaf-qgeza-cai"}}"#.write(
      toFile: dir + "/canister_ids.json", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: dir + "/.icp/data/mappings", withIntermediateDirectories: true)
    try #"{"docs": "mwutv-4iaaa-aaaac-behda-cai"}"#.write(
      toFile: dir + "/.icp/data/mappings/staging.ids.json", atomically: true, encoding: .utf8)
    let source =
      "runbook \"t\" version 1\nuse network ic\nprint canister_ids(\"user-service\")\nprint canister_ids(\"docs\", key: \"staging\")\nprint canister_ids(\"nope\")\n"
    let r = Harness.run(source) {
      $0.yes = true
      $0.projectDirectory = dir
    }
    #expect(r.output == ["6iu47-dyaaa-aaaaf-qgeza-cai", "mwutv-4iaaa-aaaac-behda-cai"])
    #expect(r.result.failure?.diagnostic.message.contains("no id for canister `nope`") == true)
    // The key is the run's network by default: a run on another network never reads `ic`'s id.
    let elsewhere = Harness.run(source.replacingOccurrences(of: "use network ic\n", with: "")) {
      $0.projectDirectory = dir
    }
    #expect(elsewhere.output.isEmpty)
    #expect(
      elsewhere.result.failure?.diagnostic.message.contains("no id for canister `user-service` under `local`") == true,
      "\(elsewhere.result.failure?.diagnostic.message ?? "")")
  }

  /// `network()` is the network the run acts on: `--network`, else `use network`, else `local`.
  @Test func networkIsTheRunsNetwork() {
    let source = "runbook \"t\" version 1\nuse network ic\nprint network()\nprint \"ids for {network()}\"\n"
    #expect(Harness.run(source).output == ["ic", "ids for ic"])
    #expect(Harness.run(source) { $0.network = "local" }.output == ["local", "ids for local"], "--network wins")
    let bare = Harness.run("runbook \"t\" version 1\nprint network()\n")
    #expect(bare.output == ["local"])
  }

  /// `path(TEXT)` turns a `text` value into a `path`; without it, a text value is refused where a
  /// path is expected, with the conversion named.
  @Test func pathConvertsATextValue() throws {
    let wasm = "demo/user_service_with_metadata.wasm"
    let r = Harness.run("runbook \"t\" version 1\nlet name: text = \"\(wasm)\"\nprint sha256(path(name))\n")
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    #expect(r.output == [ValueFormat.hex(Harness.wasmHash)])
    let program = Engine(registry: .standard).compile(
      source: Array("runbook \"t\" version 1\nlet name: text = \"\(wasm)\"\nprint sha256(name)\n".utf8),
      path: "t.rb.ic", options: .init(projectDirectory: Harness.repository))
    let rendered = DiagnosticRenderer(files: program.files, style: .tool).render(program.diagnostics)
    #expect(rendered.contains("should be `path`, not `text`"), "\(rendered)")
    #expect(rendered.contains("convert it with `path(…)`"), "\(rendered)")
  }

  @Test func listBuiltins() {
    let r = Harness.run(
      "runbook \"t\" version 1\nprint len([1, 2, 3])\nprint min([3T, 1T, 2T])\nprint max(4, 9, 2)\nprint sum([1B, 2B])\nprint range(3)\n"
    )
    #expect(r.output == ["3", "1T", "9", "3B", "[0, 1, 2]"])
  }
}

@Suite struct FaultTests {
  let topUp = """
    runbook "t" version 1
    let c: canister = 6iu47-dyaaa-aaaaf-qgeza-cai
    let wdhec: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
    step "Top up" on c {
      ensure cycles >= 1T via wallet wdhec or top_up
    }
    """

  /// A send whose outcome is unknown is journaled, the state is re-read, and nothing is sent
  /// again: not by the same action, not by the `or` fallback.
  @Test func unknownOutcomeIsNeverRetriedBlindly() throws {
    let state = Harness.world { $0.faults = [.init(operation: .walletSend, kind: .timeout)] }
    let dir = try CLI.temporaryDirectory()
    let journal = try Journal(directory: dir, runbook: "t")
    let r = Harness.run(topUp, state: state) {
      $0.yes = true
      $0.journal = journal
    }
    #expect(r.result.exitCode == 3)
    #expect(r.result.failure!.diagnostic.message.contains("is unknown"))
    #expect(
      r.sim.snapshot.identities["github-ci"]?.cycles_ledger == "5000000000000",
      "top_up was not tried after an unknown outcome")
    #expect(try String(contentsOfFile: journal.path, encoding: .utf8).contains("\"event\":\"outcome_unknown\""))
  }

  @Test func rejectTriesTheNextAction() {
    let state = Harness.world {
      $0.faults = [.init(operation: .walletSend, kind: .reject, code: "IC0503", message: "trapped")]
    }
    let r = Harness.run(topUp, state: state)
    #expect(r.result.exitCode == 0)
    #expect(r.output.contains { $0.contains("wallet cannot apply: rejected with IC0503: trapped") })
    #expect(r.result.steps[0].changes.first?.text.contains("via top_up") == true)
  }

  @Test func garbledOutputAndToolExitAreEnvironmentErrors() {
    for kind in [SimulatedIC.FaultKind.garbled, .exit] {
      let state = Harness.world { $0.faults = [.init(operation: .status, kind: kind)] }
      let r = Harness.run(topUp, state: state)
      #expect(r.result.exitCode == 3, "\(kind)")
    }
  }

  /// A `call` fault hits a query as it hits an update call, on the sim and through both tools:
  /// the rejected query fails its step with the reject, the fault is used up (`times: 1`), and
  /// the same runbook then reads the reply.
  @Test(arguments: ["sim", "icp", "dfx"])
  func aRejectFaultHitsAQuery(_ backend: String) throws {
    let s = try ToolBackendTests.Setup(backend == "sim" ? "icp" : backend) {
      $0.canisters[Harness.userService.text]!.candid_service = "service : { get : () -> (text) query }"
      $0.canisters[Harness.userService.text]!.replies = ["get": "(\"v1\")"]
      $0.faults = [.init(operation: .call, kind: .reject, times: 1, code: "IC0503", message: "the query trapped")]
    }
    let runbook = s.dir + "/q.rb.ic"
    try """
    runbook "q" version 1
    use network ic
    let c: canister = \(Harness.userService.text)
    step "read" on c {
      let v = call c.get()
      print "got {v}"
    }
    """.write(toFile: runbook, atomically: true, encoding: .utf8)
    var arguments = ["run", runbook, "--yes", "--journal", s.dir + "/runs"]
    arguments += backend == "sim" ? ["--sim-state", s.state] : ["--backend", backend]
    let rejected = try CLI.run(arguments, in: s.dir, environment: s.environment)
    #expect(rejected.status == 1, "\(rejected.stdout)\(rejected.stderr)")
    #expect((rejected.stdout + rejected.stderr).contains("the query trapped"), "\(rejected.stdout)\(rejected.stderr)")
    #expect(!rejected.stdout.contains("got "), "the query did not answer")
    let answered = try CLI.run(arguments, in: s.dir, environment: s.environment)
    #expect(answered.status == 0, "\(answered.stdout)\(answered.stderr)")
    #expect(answered.stdout.contains("got (\"v1\")"), "\(answered.stdout)")
  }

  /// A read (a status, a query) changes nothing: a `late` fault there is a timeout, and a failure
  /// after sending is that failure; neither is used up without effect.
  @Test func lateAndAfterSendFaultsHitReads() throws {
    let user = Harness.userService
    let sim = SimulatedIC(
      state: Harness.world {
        $0.faults = [
          .init(operation: .status, kind: .late, times: 1, delay_ms: 10),
          .init(operation: .status, kind: .afterSend, times: 1, message: "agent error: connection reset"),
          .init(operation: .call, kind: .late, times: 1),
        ]
      })
    #expect {
      _ = try sim.status(user)
    } throws: { error in
      guard case .unknownOutcome(let m)? = error as? BackendError else { return false }
      return m.contains("`status` timed out")
    }
    #expect {
      _ = try sim.status(user)
    } throws: { error in
      guard case .environment(let m)? = error as? BackendError else { return false }
      return m == "agent error: connection reset"
    }
    #expect(try sim.status(user).status == .running, "both faults were used")
    #expect {
      _ = try sim.query(user, method: "version", argument: "()")
    } throws: { error in
      guard case .unknownOutcome? = error as? BackendError else { return false }
      return true
    }
    #expect(try sim.query(user, method: "version", argument: "()") == "(\"1.3.9\")")
    #expect(sim.snapshot.deliveries == nil, "a read leaves nothing to land later")
  }

  /// A fault built in code that cannot happen to its operation (a world's would be refused when
  /// read) is an environment error when it fires, never a fault that silently does nothing.
  @Test func aFaultThatCannotHappenToItsOperationFailsLoudly() {
    let sim = SimulatedIC(state: Harness.world { $0.faults = [.init(operation: .status, kind: .echo)] })
    #expect {
      _ = try sim.status(Harness.userService)
    } throws: { error in
      guard case .environment(let m)? = error as? BackendError else { return false }
      return m == "the sim's `echo` fault cannot happen to `status`"
    }
  }

  /// A state names its faults' kinds and operations from closed lists: an unknown name, or a kind
  /// its operation cannot have, is an error at its JSON path, with "did you mean".
  @Test(arguments: [
    (
      #"{"operation": "wallet_send", "kind": "timout"}"#,
      [SimulatedIC.PathItem.key("faults"), .index(1), .key("kind")],
      "faults[1].kind is `timout`, not a fault kind (did you mean `timeout`?); the sim knows timeout, late, echo,"
    ),
    (
      #"{"operation": "walet_send", "kind": "timeout"}"#, [.key("faults"), .index(1), .key("operation")],
      "faults[1].operation is `walet_send`, not an operation (did you mean `wallet_send`?)"
    ),
    (
      #"{"operation": "status", "kind": "echo"}"#, [.key("faults"), .index(1), .key("kind")],
      "faults[1].kind is `echo`, which happens to `call` only, not `status`"
    ),
    (
      #"{"operation": "logs", "kind": "silent_forward"}"#, [.key("faults"), .index(1), .key("kind")],
      "faults[1].kind is `silent_forward`, which happens to operations that change the IC and `call`, not the reads"
    ),
  ])
  func anUnknownFaultInAStateIsAnErrorAtItsPath(
    _ fault: String, _ path: [SimulatedIC.PathItem], _ message: String
  ) throws {
    var world = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SimulatedIC.demoWorld)) as? [String: Any]
    world?["faults"] = [
      ["operation": "status", "kind": "reject"],
      try JSONSerialization.jsonObject(with: Data(fault.utf8)),
    ]
    let data = try JSONSerialization.data(withJSONObject: world ?? [:])
    #expect {
      _ = try SimulatedIC.decode(data)
    } throws: { error in
      guard let error = error as? SimulatedIC.StateError else { return false }
      return error.path == path && error.description.hasPrefix(message)
    }
  }

  /// A state file that does not decode says where and what, never a decoder's dump.
  @Test(arguments: [
    (#"{}"#, "`identity` is missing"),
    (
      #"{"identity": "x", "identities": {}, "canisters": {"a": {"status": 5}}}"#, "`canisters.a.status` is not a string"
    ),
    (#"{"identity": "#, "not JSON"),
  ])
  func aStateThatDoesNotDecodeSaysWhereAndWhat(_ text: String, _ message: String) {
    #expect {
      _ = try SimulatedIC.decode(Data(text.utf8))
    } throws: { error in
      (error as? SimulatedIC.StateError)?.description.hasPrefix(message) == true
    }
  }

  /// The test-file guide names every fault kind and operation the sim knows.
  @Test func theGuideNamesEveryFault() throws {
    let guide = try String(contentsOfFile: Harness.repository + "/docs/testing-runbooks.md", encoding: .utf8)
    let names =
      SimulatedIC.FaultKind.allCases.map(\.rawValue) + SimulatedIC.FaultOperation.allCases.map(\.rawValue)
    for name in names { #expect(guide.contains("`\(name)`"), "\(name)") }
  }

  @Test func faultsCanBeLimitedInNumber() {
    let state = Harness.world { $0.faults = [.init(operation: .status, kind: .garbled, times: 1)] }
    #expect(Harness.run(topUp, state: state).result.exitCode == 3)
    var once = state
    once.faults = [.init(operation: .status, kind: .garbled, times: 0)]
    #expect(Harness.run(topUp, state: once).result.exitCode == 0)
  }
}
