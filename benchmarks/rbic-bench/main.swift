// Front-end throughput benchmark: lex, parse (lex + parse), check (lex + parse + check) and
// format of a generated runbook of about 1 MB with hundreds of steps, median of several runs,
// reported side by side in one run, with peak memory.
//
//     swift run -c release rbic-bench [target-bytes] [runs]
//     swift run -c release rbic-bench fleet      (100 canisters, 200 ms per call, limit 10)
//     swift run -c release rbic-bench candid [FILE.did]   (1 MB reply decode; a .did parse)
//     swift run -c release rbic-bench lsp        (didChange → published diagnostics, 2,000 lines)
import Foundation
import RbicBackends
import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLanguageServer
import RbicLexer
import RbicParser
import RbicRuntime

var arguments = CommandLine.arguments
let mode = arguments.count > 1 && ["fleet", "candid", "lsp"].contains(arguments[1]) ? arguments[1] : "frontend"
if mode != "frontend" { arguments.remove(at: 1) }
let targetBytes = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
let runs = arguments.count > 2 ? Int(arguments[2]) ?? 7 : 7

/// A realistic runbook: a fleet, helper functions, and many steps using every statement kind.
func generate(bytes target: Int) -> String {
  var s = """
    # Generated benchmark runbook.
    runbook "bench" version 1

    use network ic
    use identity "github-ci"

    ## The module to deploy.
    param wasm: path = "module.wasm"
    param oracle_live: bool = false

    let wdhec: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
    let founders: [principal] = [
      hzlpj-e6tp4-utvf2-cllfw-mcuxn-gwpde-hwmyc-zeh33-rv7md-w7rxh-2qe,  # Graydon
      ixqcj-7o7fo-ggcky-e3676-ke7nf-n4zkl-syi35-fshpo-fh4d5-5zfq4-qae,  # Menley
      vfnqe-wn3wk-lowg4-xzrfv-7j62s-mo4ne-vewaa-f7zce-3igsf-vobbr-3qe,  # Coby
    ]
    let fleet: [canister] = [6iu47-dyaaa-aaaaf-qgeza-cai, mwutv-4iaaa-aaaac-behda-cai]
    let build = sha256(wasm)

    fn deficit(c: canister, target: cycles) -> cycles {
      if c.cycles >= target { return 0 }
      return target - c.cycles
    }


    """
  var i = 0
  while s.utf8.count < target {
    s += """
      ## Step \(i): install, top up and harden one canister.
      step "Activate canister \(i)" on 6iu47-dyaaa-aaaaf-qgeza-cai {
        let threshold\(i) = \(i % 900 + 100)B
        expect cycles >= threshold\(i) else "below {threshold\(i)} in step \(i)"
        ensure hash == build via install wasm mode upgrade
        ensure cycles >= 1T + deficit(6iu47-dyaaa-aaaaf-qgeza-cai, 2T) via wallet wdhec amount 2T or top_up
        ensure controllers contains founders via add_controllers
        require controllers.count >= 4 and status == running else "step \(i) left the canister unhardened"
        if not oracle_live { skip "oracle bridge not live (\(i))" }
        for c in fleet {
          print "{c}: {c.cycles} after step \(i)"
        }
        call 6iu47-dyaaa-aaaaf-qgeza-cai.set_oracle_bridge_url("https://oracle.example/\(i)")
      }


      """
    i += 1
  }
  return s
}

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

func measure(_ body: () -> Void) -> Double {
  var times: [Double] = []
  for _ in 0..<runs {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
  return median(times)
}

func peakRSSMiB() -> Double {
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}

/// A fleet top-up over simulated canisters with per-call latency, `parallel for … limit N`,
/// against the ideal: the calls it makes × latency ÷ N.
func fleet(canisters: Int, latencyMs: Int, limit: Int) {
  var state = SimulatedIC.demoWorld
  let ci = state.identities["github-ci"]!.principal
  state.identities["github-ci"]!.cycles_ledger = "1000000000000000"
  var ids: [String] = []
  for i in 0..<canisters {
    let id = Principal(bytes: [0, 0, 0, 0, 0, UInt8(i >> 8), UInt8(i & 0xFF), 1, 1]).text
    ids.append(id)
    state.canisters[id] = .init(
      status: .running, cycles: "200000000000", module_hash: nil, controllers: [ci], memory: 1_000_000,
      freezing_threshold: 2_592_000, wallet: nil)
  }
  state.latency_ms = latencyMs
  let source = """
    runbook "fleet-bench" version 1
    let fleet: [canister] = [\(ids.joined(separator: ", "))]
    parallel for c in fleet limit \(limit) {
      step "Top up {c}" on c {
        ensure cycles >= 1T via top_up
      }
    }
    """
  let engine = Engine(registry: .standard)
  let program = engine.compile(
    source: Array(source.utf8), path: "fleet.rb.ic", options: .init(projectDirectory: "/nonexistent"))
  let sim = SimulatedIC(state: state)
  var options = RunOptions(projectDirectory: "/nonexistent", environment: [:])
  options.yes = true
  options.cyclesCeiling = 1_000_000_000_000_000  // 100 top-ups of ~0.8T exceed the 10T default on purpose
  options.progress = { _ in }
  options.print = { _ in }
  let start = DispatchTime.now().uptimeNanoseconds
  let result = engine.run(program, backend: sim, options: options)
  let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
  let calls = sim.latencyCalls
  let ideal =
    Double(calls) / Double(canisters) * Double(latencyMs) / 1000 * (Double(canisters) / Double(limit)).rounded(.up)
  print(
    "fleet: \(canisters) canisters, \(latencyMs) ms per call, limit \(limit): \(calls) calls (\(String(format: "%.1f", Double(calls) / Double(canisters))) per canister), exit \(result.exitCode), \(result.recap.changed) changed"
  )
  print(
    String(
      format: "wall %.2f s, ideal %.2f s (calls per canister × latency × %d rounds): %.2fx the ideal", seconds, ideal,
      Int((Double(canisters) / Double(limit)).rounded(.up)), seconds / ideal))
}

if mode == "fleet" {
  fleet(canisters: 100, latencyMs: 200, limit: 10)
  exit(0)
}

/// Candid: decoding a reply of about 1 MB (a page of ledger-like blocks, as a tool prints it)
/// against its interface, and parsing a `.did` (the file given, else a generated one of the
/// ICP ledger's size: about 60 types and 20 methods).
func candid(didPath: String?) {
  let interface = """
    type Tokens = record { e8s : nat64 };
    type Operation = variant { Mint : record { to : text; amount : Tokens }; Burn : record { from : text; amount : Tokens };
      Transfer : record { from : text; to : text; amount : Tokens; fee : Tokens } };
    type Block = record { parent_hash : opt blob; timestamp : nat64; memo : nat64; operation : opt Operation;
      created_at_time : opt nat64; icrc1_memo : opt blob };
    service : { query_blocks : (record { start : nat64; length : nat64 }) -> (vec Block) query }
    """
  var files = SourceFiles()
  guard let env = try? CandidEnvironment.parse(interface, into: &files), let f = env.method("query_blocks") else {
    print("the benchmark's interface does not parse")
    exit(1)
  }
  var blocks: [String] = []
  var size = 0
  var i = 0
  while size < 1_000_000 {
    let block =
      "record { parent_hash = opt blob \"\\01\\02\\03\\04\\05\\06\\07\\08\"; timestamp = \(1_700_000_000_000_000_000 + i) : nat64; memo = \(i) : nat64; "
      + "operation = opt variant { Transfer = record { from = \"a\(i)\"; to = \"b\(i)\"; amount = record { e8s = \(i * 1000) : nat64 }; fee = record { e8s = 10_000 : nat64 } } }; "
      + "created_at_time = null; icrc1_memo = null }"
    blocks.append(block)
    size += block.utf8.count + 2
    i += 1
  }
  let reply = "(vec { " + blocks.joined(separator: "; ") + " })"
  let megabytes = Double(reply.utf8.count) / 1_000_000
  var decoded = 0
  let decodeTime = measure {
    if case .list(let items)? = try? CandidReply.decode(reply, f.results, in: env) { decoded = items.count }
  }
  print(
    String(
      format: "reply: %.2f MB, %d blocks decoded: median %.3f s, %.1f MB/s", megabytes, decoded, decodeTime,
      megabytes / decodeTime))
  var didText = ""
  if let didPath, let data = FileManager.default.contents(atPath: didPath) {
    didText = String(decoding: data, as: UTF8.self)
  } else {
    var parts: [String] = []
    for n in 0..<60 {
      parts.append(
        "type T\(n) = record { id : nat64; owner : principal; memo : opt blob; kind : variant { A; B : text; C : T\(max(0, n - 1)) } };"
      )
    }
    parts.append(
      "service : {"
        + (0..<20).map { "m\($0) : (T\($0)) -> (variant { Ok : T\($0 + 20); Err : text })" }.joined(separator: "; ")
        + " }")
    didText = parts.joined(separator: "\n")
  }
  var methods = 0
  let parseTime = measure {
    var files = SourceFiles()
    methods =
      (try? CandidEnvironment.parse(didText, path: didPath ?? "generated.did", into: &files))?.methods.count ?? -1
  }
  print(
    String(
      format: "%@: %d bytes, %d methods: parse + check median %.2f ms", didPath ?? "generated ledger-sized .did",
      didText.utf8.count, methods, parseTime * 1000))
}

/// The language server in this process, over two pipes, driven as an editor drives it: the time
/// from writing a `didChange` of a 2,000-line runbook to reading its `publishDiagnostics`, next to
/// the time `Engine.compile` takes on the same text (what the server does in between).
func lsp() {
  var source = generate(bytes: 1)
  while source.split(separator: "\n", omittingEmptySubsequences: false).count < 2000 {
    source = generate(bytes: source.utf8.count + 2000)
  }
  let lineCount = source.split(separator: "\n", omittingEmptySubsequences: false).count
  var toServer: [Int32] = [0, 0]
  var fromServer: [Int32] = [0, 0]
  guard pipe(&toServer) == 0, pipe(&fromServer) == 0 else { return }
  let (input, output) = (toServer[0], fromServer[1])
  let thread = Thread { _ = LanguageServer(input: input, output: output, version: "bench").run() }
  thread.stackSize = 64 << 20
  thread.start()
  let writer = MessageWriter(fd: toServer[1])
  let reader = MessageReader(fd: fromServer[0])
  func send(_ method: String, _ params: JSONValue, id: Int? = nil) {
    writer.send(RPCMessage(id: id.map { .number(Double($0)) }, method: method, params: params))
  }
  func waitFor(_ method: String?, id: Int? = nil) -> JSONValue? {
    while case .message(let data) = reader.next() {
      guard let m = try? JSONDecoder().decode(RPCMessage.self, from: data) else { continue }
      if let method, m.method == method { return m.params }
      if let id, m.id?.int == id { return m.result }
    }
    return nil
  }
  let uri = "file:///tmp/bench.rb.ic"
  send(
    "initialize", .object(["processId": .null, "rootUri": .string("file:///tmp"), "capabilities": .object([:])]), id: 1)
  _ = waitFor(nil, id: 1)
  send("initialized", .object([:]))
  send(
    "textDocument/didOpen",
    .object([
      "textDocument": .object([
        "uri": .string(uri), "languageId": .string("rbic"), "version": .number(1), "text": .string(source),
      ])
    ]))
  _ = waitFor("textDocument/publishDiagnostics")
  var times: [Double] = []
  var diagnostics = 0
  // Where `= 100B` (the first step's threshold) is: its line and the column of `100B`.
  let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
  guard let row = lines.firstIndex(where: { $0.contains("= 100B") }), let at = lines[row].range(of: "100B") else {
    return
  }
  let edit = (line: row, character: lines[row].utf16.distance(from: lines[row].startIndex, to: at.lowerBound))
  for version in 2..<52 {
    // Replace the first step's threshold literal (4 characters) by range, as an editor sends a
    // keystroke's edit.
    let text = version % 2 == 0 ? "101B" : "102B"
    let position: JSONValue = .object([
      "line": .number(Double(edit.line)), "character": .number(Double(edit.character)),
    ])
    let end: JSONValue = .object(["line": .number(Double(edit.line)), "character": .number(Double(edit.character + 4))])
    let started = DispatchTime.now().uptimeNanoseconds
    send(
      "textDocument/didChange",
      .object([
        "textDocument": .object(["uri": .string(uri), "version": .number(Double(version))]),
        "contentChanges": .array([
          .object(["range": .object(["start": position, "end": end]), "text": .string(text)])
        ]),
      ]))
    let published = waitFor("textDocument/publishDiagnostics")
    times.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
    if case .array(let list)? = published?["diagnostics"] { diagnostics = list.count }
  }
  let engine = Engine(registry: .standard)
  var compileTimes: [Double] = []
  for _ in 0..<21 {
    let started = DispatchTime.now().uptimeNanoseconds
    _ = engine.compile(source: Array(source.utf8), path: "/tmp/bench.rb.ic", options: .init(projectDirectory: "/tmp"))
    compileTimes.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
  }
  let sorted = times.sorted()
  print(
    String(
      format:
        "lsp: %d lines, %d bytes, %d diagnostics: didChange → publishDiagnostics median %.2f ms, p90 %.2f ms, max %.2f ms (50 changes); Engine.compile alone median %.2f ms",
      lineCount, source.utf8.count, diagnostics, median(times), sorted[sorted.count * 9 / 10], sorted.last ?? 0,
      median(compileTimes)))
  send("shutdown", .null, id: 2)
  _ = waitFor(nil, id: 2)
  send("exit", .null)
}

if mode == "lsp" {
  lsp()
  exit(0)
}

if mode == "candid" {
  candid(didPath: arguments.count > 1 ? arguments[1] : nil)
  exit(0)
}

let source = generate(bytes: targetBytes)
let bytes = Array(source.utf8)
var files = SourceFiles()
let file = files.add(path: "bench.rb.ic", bytes: bytes)
let megabytes = Double(bytes.count) / 1_000_000
let steps = source.components(separatedBy: "\nstep ").count - 1
let rssBefore = peakRSSMiB()

let engine = Engine(registry: .standard)
var tokenCount = 0
var diagnosticsCount = 0
let lexTime = measure { tokenCount = Lexer.lex(file).tokens.count }
let parseTime = measure { _ = Parser.parse(file) }
let checkTime = measure {
  diagnosticsCount =
    engine.compile(source: bytes, path: "bench.rb.ic", options: .init(projectDirectory: "/nonexistent"))
    .diagnostics.count
}
let tree = Parser.parse(file)
let formatTime = measure { _ = Formatter.format(tree) }

print(
  "input: \(String(format: "%.2f", megabytes)) MB, \(steps) steps, \(tokenCount) tokens, \(diagnosticsCount) diagnostics"
)
print("phase                      median s     MB/s   ratio to lex")
for (name, t) in [
  ("lex", lexTime), ("lex + parse", parseTime), ("lex + parse + check", checkTime),
  ("format (tree → text)", formatTime),
] {
  print(
    name.padding(toLength: 24, withPad: " ", startingAt: 0)
      + String(format: "%10.4f %8.1f %10.2fx", t, megabytes / t, t / lexTime))
}
print(String(format: "peak RSS: %.1f MiB (%.1f MiB before the input was built)", peakRSSMiB(), rssBefore))
if diagnosticsCount != 0 { print("warning: the generated runbook has diagnostics; figures include error paths") }
