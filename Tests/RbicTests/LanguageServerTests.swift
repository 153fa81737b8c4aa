import Foundation
import Synchronization
import Testing

/// `rbic lsp` driven as an editor drives it: a child process, JSON-RPC with Content-Length framing
/// over its standard input and output.
final class LSPClient: @unchecked Sendable {
  let process = Process()
  let input = Pipe()
  let output = Pipe()
  private let lock = NSCondition()
  private var buffer: [UInt8] = []
  private var messages: [[String: Any]] = []
  private var nextID = 1

  init(root: String) throws {
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = ["lsp"]
    process.currentDirectoryURL = URL(fileURLWithPath: root)
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    output.fileHandleForReading.readabilityHandler = { [weak self] handle in
      let data = handle.availableData
      guard let self, !data.isEmpty else { return }
      self.lock.lock()
      self.buffer += data
      self.parse()
      self.lock.broadcast()
      self.lock.unlock()
    }
    try process.run()
  }

  /// Splits complete frames off the buffer (lock held).
  private func parse() {
    while let end = buffer.indices.dropLast(3).first(where: { buffer[$0..<($0 + 4)] == [13, 10, 13, 10] }) {
      let header = String(decoding: buffer[0..<end], as: UTF8.self)
      guard
        let length = header.split(separator: "\r\n").compactMap({ line -> Int? in
          let parts = line.split(separator: ":")
          return parts.count == 2 && parts[0].lowercased() == "content-length"
            ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : nil
        }).first, buffer.count >= end + 4 + length
      else { return }
      let body = Data(buffer[(end + 4)..<(end + 4 + length)])
      buffer.removeSubrange(0..<(end + 4 + length))
      if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] { messages.append(object) }
    }
  }

  func send(_ object: [String: Any]) throws {
    var message = object
    message["jsonrpc"] = "2.0"
    let body = try JSONSerialization.data(withJSONObject: message)
    input.fileHandleForWriting.write(Data("Content-Length: \(body.count)\r\n\r\n".utf8) + body)
  }

  func notify(_ method: String, _ params: [String: Any]) throws { try send(["method": method, "params": params]) }

  /// Sends a request and waits for its response.
  func request(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
    let id = nextID
    nextID += 1
    try send(["id": id, "method": method, "params": params])
    return try wait { ($0["id"] as? Int) == id && $0["method"] == nil }
  }

  /// The first message (taken off the queue) that `matches`, within `timeout` seconds.
  func wait(timeout: TimeInterval = 10, _ matches: ([String: Any]) -> Bool) throws -> [String: Any] {
    let deadline = Date().addingTimeInterval(timeout)
    lock.lock()
    defer { lock.unlock() }
    while true {
      if let i = messages.firstIndex(where: matches) { return messages.remove(at: i) }
      guard lock.wait(until: deadline) else { throw LSPTimeout() }
    }
  }

  func diagnostics(for uri: String) throws -> [[String: Any]] {
    let m = try wait {
      $0["method"] as? String == "textDocument/publishDiagnostics"
        && ($0["params"] as? [String: Any])?["uri"] as? String == uri
    }
    return ((m["params"] as? [String: Any])?["diagnostics"] as? [[String: Any]]) ?? []
  }

  func close() throws -> Int32 {
    _ = try request("shutdown")
    try notify("exit", [:])
    process.waitUntilExit()
    return process.terminationStatus
  }
}

struct LSPTimeout: Error {}

@Suite(.serialized) struct LanguageServerTests {
  static func uri(_ path: String) -> String { URL(fileURLWithPath: path).absoluteString }

  /// A workspace with the repository's scripts, and a client that has initialized on it.
  static func session() throws -> (LSPClient, String) {
    let dir = try CLI.temporaryDirectory()
    for item in ["scripts", "demo", "canister_ids.json"] {
      try FileManager.default.copyItem(atPath: Corpus.repository + "/" + item, toPath: dir + "/" + item)
    }
    let client = try LSPClient(root: dir)
    let initialized = try client.request(
      "initialize", ["processId": NSNull(), "rootUri": uri(dir), "capabilities": [:]])
    let result = try #require(initialized["result"] as? [String: Any])
    let capabilities = try #require(result["capabilities"] as? [String: Any])
    #expect(capabilities["hoverProvider"] as? Bool == true && capabilities["definitionProvider"] as? Bool == true)
    #expect((result["serverInfo"] as? [String: Any])?["name"] as? String == "rbic")
    try client.notify("initialized", [:])
    return (client, dir)
  }

  static func open(_ client: LSPClient, _ path: String, _ text: String) throws -> [[String: Any]] {
    try client.notify(
      "textDocument/didOpen",
      ["textDocument": ["uri": uri(path), "languageId": "rbic", "version": 1, "text": text]])
    return try client.diagnostics(for: uri(path))
  }

  /// The line (from 0) of the first line containing `marker`, and `needle`'s column on it in
  /// UTF-16 units.
  static func find(_ needle: String, onLineWith marker: String, in text: String) throws -> (Int, Int) {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let n = try #require(lines.firstIndex { $0.contains(marker) })
    let found = try #require(lines[n].range(of: needle))
    return (n, lines[n].utf16.distance(from: lines[n].startIndex, to: found.lowerBound))
  }

  static func at(_ path: String, _ line: Int, _ character: Int) -> [String: Any] {
    ["textDocument": ["uri": uri(path)], "position": ["line": line, "character": character]]
  }

  @Test func diagnosticsOnOpenAndOnIncrementalChange() throws {
    let (client, dir) = try Self.session()
    let path = dir + "/scripts/new.rb.ic"
    let text =
      "runbook \"new\" version 1\nstep \"s\" on 6iu47-dyaaa-aaaaf-qgeza-cai {\n  ensure hash == 0x\(String(repeating: "ab", count: 32)) via wallet wdhec-2yaaa-aaaao-a6dgq-cai\n}\n"
    let diagnostics = try Self.open(client, path, text)
    let error = try #require(diagnostics.first)
    #expect(error["code"] as? String == "action-cannot-converge" && error["severity"] as? Int == 1)
    #expect((error["message"] as? String)?.contains("help: actions for `hash`: `install`") == true, "\(error)")
    let range = try #require(error["range"] as? [String: Any])
    #expect((range["start"] as? [String: Any])?["line"] as? Int == 2)
    #expect((error["relatedInformation"] as? [[String: Any]])?.first?["message"] as? String == "the condition")

    // Replace `wallet wdhec-…` with `install "demo/user_service_with_metadata.wasm"`, as an editor sends it.
    let line = text.split(separator: "\n")[2]
    let (_, start) = try Self.find("wallet", onLineWith: "via wallet", in: text)
    try client.notify(
      "textDocument/didChange",
      [
        "textDocument": ["uri": Self.uri(path), "version": 2],
        "contentChanges": [
          [
            "range": ["start": ["line": 2, "character": start], "end": ["line": 2, "character": line.utf16.count]],
            "text": "install \"demo/user_service_with_metadata.wasm\"",
          ]
        ],
      ])
    #expect(try client.diagnostics(for: Self.uri(path)).isEmpty)
    #expect(try client.close() == 0)
  }

  @Test func hoverShowsTypesDocsAmountsAndPrincipals() throws {
    let (client, dir) = try Self.session()
    let path = dir + "/scripts/canister-prod-activation.rb.ic"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    _ = try Self.open(client, path, text)
    func hover(_ needle: String, in lineMatching: String, offset: Int = 0) throws -> String {
      let (n, column) = try Self.find(needle, onLineWith: lineMatching, in: text)
      let reply = try client.request("textDocument/hover", Self.at(path, n, column + offset))
      return ((reply["result"] as? [String: Any])?["contents"] as? [String: Any])?["value"] as? String ?? ""
    }
    #expect(try hover("1T", in: "ensure cycles >= 1T").contains("1_000_000_000_000 cycles: 1 trillion"))
    #expect(try hover("500B", in: "expect cycles >= 500B").contains("500 billion"))
    #expect(try hover("wdhec-", in: "let wdhec: wallet").contains("a canister id"))
    let wasm = try hover("wasm", in: "ensure hash == build_hash via install wasm", offset: 1)
    #expect(wasm.contains("`wasm` : path"), "\(wasm)")
    #expect(wasm.contains("The module to deploy, with Candid metadata attached."), "the param doc: \(wasm)")
    #expect(try hover("install", in: "via install wasm").contains("**action** `install`"))
    #expect(try hover("create_canister", in: "create_canister(cycles").contains("create_canister(cycles: cycles"))
    #expect(try close(client))
  }

  func close(_ client: LSPClient) throws -> Bool { try client.close() == 0 }

  @Test func completionOffersWhatFitsTheCursor() throws {
    let (client, dir) = try Self.session()
    let path = dir + "/scripts/canister-prod-activation.rb.ic"
    var text = try String(contentsOfFile: path, encoding: .utf8)
    text +=
      "step \"extra\" on prod {\n  ensure status == stopped via \n  ensure cycles < 1T via \n  ensure hash == build_hash via \n  print prod.\n  print canister_ids(\"\n}\n"
    _ = try Self.open(client, path, text)
    let count = text.split(separator: "\n", omittingEmptySubsequences: false).count
    func labels(_ line: Int, _ character: Int) throws -> [String] {
      let reply = try client.request("textDocument/completion", Self.at(path, line, character))
      let items = try #require((reply["result"] as? [String: Any])?["items"] as? [[String: Any]], "a completion list")
      return items.compactMap { $0["label"] as? String }
    }
    let status = try labels(count - 7, 31)
    #expect(status.contains("stop") && !status.contains("start"), "\(status)")
    let below = try labels(count - 6, 26)
    #expect(!below.contains("wallet") && !below.contains("top_up"), "nothing makes `cycles < 1T` true: \(below)")
    let actions = try labels(count - 5, 32)
    #expect(actions.contains("install") && !actions.contains("wallet") && !actions.contains("top_up"), "\(actions)")
    let members = try labels(count - 4, 13)
    #expect(
      members.contains("cycles") && members.contains("reset_signing_key") && !members.contains("balance"), "\(members)")
    #expect(try labels(count - 3, 22) == ["user_service"])
    let general = try labels(count - 2, 0)
    #expect(general.contains("ensure") && general.contains("founders") && general.contains("sha256"))
    #expect(try close(client))
  }

  @Test func definitionAcrossImportsSymbolsAndFormatting() throws {
    let (client, dir) = try Self.session()
    let path = dir + "/scripts/controller-management.rb.ic"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    _ = try Self.open(client, path, text)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let (n, column) = try Self.find("founders", onLineWith: "[ci] + founders", in: text)
    let definition = try #require(
      try client.request("textDocument/definition", Self.at(path, n, column + 2))["result"] as? [String: Any])
    #expect((definition["uri"] as? String)?.hasSuffix("scripts/lib/fleet.rb.ic") == true, "\(definition)")
    let fleet = try String(contentsOfFile: dir + "/scripts/lib/fleet.rb.ic", encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false)
    let declared = ((definition["range"] as? [String: Any])?["start"] as? [String: Any])?["line"] as? Int ?? -1
    #expect(declared >= 0 && declared < fleet.count && fleet[declared].contains("let founders"))

    let i = try #require(lines.firstIndex { $0.hasPrefix("import ") })
    let importTarget = try client.request("textDocument/definition", Self.at(path, i, 10))["result"] as? [String: Any]
    #expect((importTarget?["uri"] as? String)?.hasSuffix("lib/fleet.rb.ic") == true)

    let symbols = try #require(
      try client.request("textDocument/documentSymbol", ["textDocument": ["uri": Self.uri(path)]])["result"]
        as? [[String: Any]])
    let names = symbols.compactMap { $0["name"] as? String }
    #expect(
      names.contains("exact") && names.contains("Controllers of {c}") && names.contains("lib/fleet.rb.ic"), "\(names)")

    let messy = dir + "/scripts/messy.rb.ic"
    _ = try Self.open(client, messy, "runbook  \"m\" version 1\nlet   x=1  # keep\nprint x+1\n")
    let edits = try #require(
      try client.request(
        "textDocument/formatting",
        ["textDocument": ["uri": Self.uri(messy)], "options": ["tabSize": 2, "insertSpaces": true]])["result"]
        as? [[String: Any]])
    #expect(edits.first?["newText"] as? String == "runbook \"m\" version 1\nlet x = 1  # keep\nprint x + 1\n")
    #expect(try close(client))
  }

  @Test func protocolErrorsAreAnswersNotCrashes() throws {
    let client = try LSPClient(root: try CLI.temporaryDirectory())
    let early = try client.request("textDocument/hover", Self.at("/x.rb.ic", 0, 0))
    #expect((early["error"] as? [String: Any])?["code"] as? Int == -32002, "initialize first")
    _ = try client.request("initialize", ["processId": NSNull(), "capabilities": [:]])
    let unknown = try client.request("workspace/frobnicate")
    #expect((unknown["error"] as? [String: Any])?["code"] as? Int == -32601)
    let bad = try client.request("textDocument/hover", ["nonsense": true])
    #expect((bad["error"] as? [String: Any])?["code"] as? Int == -32602)
    // A hover on a document never opened, and positions past the end, answer null.
    let none = try client.request("textDocument/hover", Self.at("/nowhere.rb.ic", 9999, 9999))
    #expect(none["result"] is NSNull)
    client.input.fileHandleForWriting.write(Data("Content-Length: nope\r\n\r\n".utf8))
    let malformed = try client.wait { ($0["error"] as? [String: Any])?["code"] as? Int == -32700 }
    #expect(malformed["id"] is NSNull)
    #expect(try client.close() == 0)
  }

  /// A header block without `Content-Length` leaves the length of what follows unknown: the
  /// server answers a parse error, skips to the next header and answers that request. (Before,
  /// it read every later message's body as the next header and never answered again.)
  @Test func aFrameWithoutContentLengthIsSkippedAndTheNextAnswered() throws {
    let client = try LSPClient(root: try CLI.temporaryDirectory())
    _ = try client.request("initialize", ["processId": NSNull(), "capabilities": [:]])
    client.input.fileHandleForWriting.write(
      Data("Content-Type: application/json\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"shutdown\"}".utf8))
    let malformed = try client.wait { ($0["error"] as? [String: Any])?["code"] as? Int == -32700 }
    #expect(malformed["id"] is NSNull)
    for _ in 0..<3 {
      let answer = try client.request("textDocument/hover", Self.at("/nowhere.rb.ic", 0, 0))
      #expect(answer["result"] is NSNull)
    }
    #expect(try client.close() == 0)
  }

  /// A document over the front end's limit gets one diagnostic saying so, and no work: its
  /// symbols answer at once. (Before, a 10 MB document's symbols took minutes and 2.7 GB.)
  @Test func aDocumentOverTheLimitIsOneDiagnostic() throws {
    let (client, dir) = try Self.session()
    let path = dir + "/huge.rb.ic"
    let text =
      "runbook \"huge\" version 1\n" + String(repeating: "let a = 1  # padding padding padding\n", count: 150_000)
    let diagnostics = try Self.open(client, path, text)
    #expect(diagnostics.count == 1)
    #expect((diagnostics.first?["message"] as? String)?.contains("a runbook is at most 4 MiB") == true)
    #expect(diagnostics.first?["code"] as? String == "source-too-large")
    let symbols = try client.request("textDocument/documentSymbol", ["textDocument": ["uri": Self.uri(path)]])
    #expect((symbols["result"] as? [Any])?.isEmpty == true)
    let formatting = try client.request("textDocument/formatting", ["textDocument": ["uri": Self.uri(path)]])
    #expect((formatting["result"] as? [Any])?.isEmpty == true)
    #expect(try client.close() == 0)
  }

  /// Document symbols are linear in the document: each `param`'s type was found by a scan of
  /// every param (O(N²) string comparisons: minutes for 40 000 params on a debug build). The
  /// bound is generous for a loaded machine; the linear code answers in a few seconds.
  @Test func symbolsOfALargeDocumentAreLinear() throws {
    let (client, dir) = try Self.session()
    let path = dir + "/params.rb.ic"
    let n = 40_000
    let text = "runbook \"params\" version 1\n" + (0..<n).map { "param p\($0): int = \($0)\n" }.joined()
    try client.notify(
      "textDocument/didOpen",
      ["textDocument": ["uri": Self.uri(path), "languageId": "rbic", "version": 1, "text": text]])
    _ = try client.wait(timeout: 60) { $0["method"] as? String == "textDocument/publishDiagnostics" }
    let start = Date()
    try client.send([
      "id": 4_242, "method": "textDocument/documentSymbol", "params": ["textDocument": ["uri": Self.uri(path)]],
    ])
    let symbols = try client.wait(timeout: 60) { ($0["id"] as? Int) == 4_242 }
    let list = try #require(symbols["result"] as? [[String: Any]])
    #expect(list.count == n)
    #expect(list.last?["detail"] as? String == "param: int")
    #expect(Date().timeIntervalSince(start) < 30)
    #expect(try client.close() == 0)
  }
}

/// The editor configurations in editors/ are well-formed and start `rbic lsp` for `*.rb.ic`.
@Suite struct EditorConfigurationTests {
  static let editors = Corpus.repository + "/editors"

  @Test func vscodeExtensionAndSettings() throws {
    let package = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: Self.editors + "/vscode/package.json")))
        as? [String: Any])
    let contributes = try #require(package["contributes"] as? [String: Any])
    let language = try #require((contributes["languages"] as? [[String: Any]])?.first)
    #expect(language["id"] as? String == "rbic" && (language["extensions"] as? [String]) == [".rb.ic"])
    let grammar = try #require((contributes["grammars"] as? [[String: Any]])?.first)
    #expect(grammar["scopeName"] as? String == "source.rbic")
    for file in ["settings.json", "language-configuration.json"] {
      #expect(
        (try? JSONSerialization.jsonObject(
          with: Data(contentsOf: URL(fileURLWithPath: Self.editors + "/vscode/" + file))))
          != nil, "\(file) is JSON")
    }
    let settings = try String(contentsOfFile: Self.editors + "/vscode/settings.json", encoding: .utf8)
    #expect(settings.contains("\"glspc.server.command\": \"rbic\"") && settings.contains("[\"lsp\"]"))
  }

  @Test func helixLanguagesIsTOMLThatStartsTheServer() throws {
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
    let interpreter = try #require(python, ".ci/run installs python3")
    let script = """
      import sys, tomllib
      d = tomllib.load(open(sys.argv[1], "rb"))
      assert d["language-server"]["rbic"] == {"command": "rbic", "args": ["lsp"]}, d
      lang = d["language"][0]
      assert lang["name"] == "rbic" and lang["language-servers"] == ["rbic"], lang
      assert {"glob": "*.rb.ic"} in lang["file-types"], lang
      print("ok")
      """
    let r = try CLI.run(
      executable: interpreter, ["-c", script, Self.editors + "/helix/languages.toml"], in: nil, environment: [:],
      input: nil)
    #expect(r.status == 0 && r.stdout == "ok\n", "\(r.stderr)")
  }

  static let luac = ["/usr/bin/luac5.4", "/usr/bin/luac"].first { FileManager.default.isExecutableFile(atPath: $0) }

  @Test func neovimConfigurationStartsTheServer() throws {
    let text = try String(contentsOfFile: Self.editors + "/neovim/rbic.lua", encoding: .utf8)
    #expect(text.contains("cmd = { \"rbic\", \"lsp\" }") && text.contains("%.rb%.ic"))
  }

  /// Skipped, and said so in the test output, where Lua is not installed (`.ci/run` installs it).
  @Test(.enabled(if: luac != nil, "needs luac5.4: apt-get install lua5.4"))
  func neovimConfigurationIsLua() throws {
    let compiler = try #require(Self.luac)
    let r = try CLI.run(
      executable: compiler, ["-p", Self.editors + "/neovim/rbic.lua"], in: nil, environment: [:], input: nil)
    #expect(r.status == 0, "\(r.stderr)")
  }
}

/// Whatever an editor (or anything else on the pipe) sends, the server answers or ignores it and
/// keeps serving: random frames, random methods, random positions, random edits.
@Suite struct LanguageServerRobustnessTests {
  @Test func randomTrafficNeverStopsTheServer() throws {
    let (client, dir) = try LanguageServerTests.session()
    let path = dir + "/scripts/canister-prod-activation.rb.ic"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    _ = try LanguageServerTests.open(client, path, text)
    var rng = SplitMix(seed: 0x5EED)
    let methods = [
      "textDocument/hover", "textDocument/completion", "textDocument/definition", "textDocument/documentSymbol",
      "textDocument/formatting",
    ]
    for i in 0..<300 {
      let position: [String: Any] = [
        "line": Int(rng.next() % 200) - 20, "character": Int(rng.next() % 300) - 20,
      ]
      switch rng.next() % 4 {
      case 0:
        let garbage = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        client.input.fileHandleForWriting.write(
          Data("Content-Length: \(garbage.count)\r\n\r\n".utf8) + Data(garbage))
      case 1:
        try client.notify(
          "textDocument/didChange",
          [
            "textDocument": ["uri": LanguageServerTests.uri(path), "version": i],
            "contentChanges": [
              [
                "range": ["start": position, "end": position],
                "text": ["{", "}", "\"", "x.", "ensure ", "\n"][Int(rng.next() % 6)],
              ]
            ],
          ])
      default:
        try client.send([
          "id": 10_000 + i, "method": methods[Int(rng.next() % UInt64(methods.count))],
          "params": ["textDocument": ["uri": LanguageServerTests.uri(path)], "position": position],
        ])
      }
    }
    // Still serving: a symbols request is answered.
    let symbols = try client.request(
      "textDocument/documentSymbol", ["textDocument": ["uri": LanguageServerTests.uri(path)]])
    #expect(symbols["result"] != nil)
    #expect(try client.close() == 0)
  }
}

@Suite(.serialized) struct LanguageServerImportTests {
  /// A runbook that imports an open file is checked against the editor's buffer, unsaved edits
  /// included.
  @Test func anImportIsReadFromItsOpenBuffer() throws {
    let (client, dir) = try LanguageServerTests.session()
    let lib = dir + "/scripts/lib/fleet.rb.ic"
    let main = dir + "/scripts/controller-management.rb.ic"
    _ = try LanguageServerTests.open(client, lib, try String(contentsOfFile: lib, encoding: .utf8) + "let extra = 1\n")
    let diagnostics = try LanguageServerTests.open(
      client, main, try String(contentsOfFile: main, encoding: .utf8) + "print extra\n")
    #expect(!diagnostics.contains { ($0["message"] as? String)?.contains("extra") == true }, "\(diagnostics)")
    #expect(try client.close() == 0)
  }

  /// An imported file open in the editor keeps its own diagnostics: a check of the file that
  /// imports it (which reads the import from disk) does not overwrite them.
  @Test func anOpenImportKeepsItsOwnDiagnostics() throws {
    let (client, dir) = try LanguageServerTests.session()
    let lib = dir + "/scripts/lib/fleet.rb.ic"
    let main = dir + "/scripts/controller-management.rb.ic"
    // The file on disk has an error the editor's buffer (being fixed, not saved) does not.
    let good = try String(contentsOfFile: lib, encoding: .utf8)
    try (good + "let oops = nope\n").write(toFile: lib, atomically: true, encoding: .utf8)
    #expect(try LanguageServerTests.open(client, lib, good).allSatisfy { $0["severity"] as? Int != 1 })
    _ = try LanguageServerTests.open(client, main, try String(contentsOfFile: main, encoding: .utf8))
    // A request after both checks: every notification before it has arrived.
    _ = try client.request("textDocument/documentSymbol", ["textDocument": ["uri": LanguageServerTests.uri(main)]])
    #expect(throws: LSPTimeout.self) {
      _ = try client.wait(timeout: 0.3) {
        $0["method"] as? String == "textDocument/publishDiagnostics"
          && ($0["params"] as? [String: Any])?["uri"] as? String == LanguageServerTests.uri(lib)
      }
    }
    #expect(try client.close() == 0)
  }
}
