// The test double CLI (DESIGN §4): answers as `icp` or `dfx` (by the name it is called with) over
// the simulated IC's state file ($RBIC_SIM_STATE), printing the formats of reference/icp-cli.md
// and reference/dfx-cli.md — data on stdout, chatter and `Error:` chains on stderr, exit 1 (icp)
// or 255 (dfx) on errors, 2 on usage — and turning the sim's faults into tool behaviour: garbled
// stdout, a silent exit 255, a hang (for timeouts), reject chains with IC codes.
//
// Hostile mode, RBIC_DOUBLE_HOSTILE (comma-separated): `escapes` (terminal escape sequences in
// every stderr line and in call replies), `junk` (binary junk instead of status output), `hang`
// (every mutation hangs before applying), `die-after-apply` (every mutation is applied and saved,
// then the tool kills itself with SIGKILL).
import Foundation
import RbicBuiltins
import RbicRuntime

#if canImport(Glibc)
  import Glibc
#endif

let tool = URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent
var positional: [String] = []
var flags: [String: [String]] = [:]
var switches: Set<String> = []
let valueFlags: Set<String> = [
  "--network", "-n", "--identity", "--amount", "--wasm", "--mode", "-m", "--add-controller", "--remove-controller",
]
var arguments = Array(CommandLine.arguments.dropFirst())[...]
while let a = arguments.popFirst() {
  if valueFlags.contains(a), let v = arguments.popFirst() {
    flags[a, default: []].append(v)
  } else if a.hasPrefix("-") {
    switches.insert(a)
  } else {
    positional.append(a)
  }
}

let hostile = Set(
  (ProcessInfo.processInfo.environment["RBIC_DOUBLE_HOSTILE"] ?? "").split(separator: ",").map(String.init))
/// A title change, a screen clear and hidden text: what a hostile tool or canister would send.
let escapes = "\u{1B}]0;pwned\u{7}\u{1B}[2J\u{1B}[8m"
func out(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }
func err(_ s: String) { FileHandle.standardError.write(Data(((hostile.contains("escapes") ? escapes : "") + s).utf8)) }
let isDfx = tool == "dfx"
func fail(_ message: String, code: Int32? = nil) -> Never {
  if isDfx {
    // dfx: one `Caused by:` line per cause, exit 255.
    err("Error: " + message.replacingOccurrences(of: "\n\nCaused by:\n    ", with: "\nCaused by: ") + "\n")
    exit(code ?? 255)
  }
  err("Error: \(message)\n")
  exit(code ?? 1)
}
func grouped(_ v: Int128) -> String { ValueFormat.grouped(v) }

guard tool == "icp" || tool == "dfx" else {
  err("rbic-test-double: call me as `icp` or `dfx` (got `\(tool)`)\n")
  exit(2)
}
if switches.contains("--version") {
  // RBIC_DOUBLE_VERSION lets tests pose as an old release.
  let version = ProcessInfo.processInfo.environment["RBIC_DOUBLE_VERSION"] ?? (isDfx ? "0.32.0" : "1.3.0")
  out("\(tool) \(version)\n")
  exit(0)
}
// Like icp: an environment variable selecting a network or environment conflicts with `--network`.
if !isDfx, flags["--network"] != nil,
  ["ICP_NETWORK", "ICP_ENVIRONMENT"].contains(where: { ProcessInfo.processInfo.environment[$0] != nil })
{
  fail("You can't specify both an environment and a network")
}
if isDfx, !(ProcessInfo.processInfo.environment["DFX_WARNING"] ?? "").contains("-deprecation") {
  err(
    "WARNING: dfx is deprecated, use icp-cli https://cli.internetcomputer.org. LLM skills can be found at https://skills.internetcomputer.org/llms.txt\n"
  )
}
guard let statePath = ProcessInfo.processInfo.environment["RBIC_SIM_STATE"] else { fail("RBIC_SIM_STATE is not set") }
guard let state = try? SimulatedIC.load(path: statePath) else { fail("cannot read the sim state at \(statePath)") }
let identity = flags["--identity"]?.last ?? state.identity
let sim = SimulatedIC(state: state, identity: identity)

/// Prints a sim error the way icp does and exits.
func report(_ error: BackendError, _ context: String) -> Never {
  switch error {
  case .environment(let m) where m.contains("garbled"):
    out("\u{FFFD}\u{FFFD} garbled \u{1}\n")
    exit(0)
  case .environment(let m) where m.contains("255"):
    exit(255)
  case .environment(let m) where m.contains("no identity found"):
    fail("failed to load identity\n\nCaused by:\n    no identity found with name `\(identity)`")
  case .unknownOutcome:
    // A `late` request is recorded in the state (it lands later); keep that before hanging.
    do { try sim.save(path: statePath) } catch {}
    // Hang, with a grandchild, so tests can see the whole process group ended on timeout.
    if let marker = ProcessInfo.processInfo.environment["RBIC_DOUBLE_CHILD_MARKER"] {
      // posix_spawn keeps the child in our process group (Foundation's Process would not).
      var pid: pid_t = 0
      let words: [String] = ["sleep", marker]
      let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
      _ = posix_spawnp(&pid, "sleep", nil, nil, argv, environ)
    }
    Thread.sleep(forTimeInterval: 3600)
    exit(1)
  case .notController where isDfx:
    fail(
      "Each canister has a set of controllers. Only those controllers have access to the canister's management functions (like install_code or stop_canister).\nThe principal you are using to call a management function is not part of the controllers.\nTo fix: To make the management function call succeed, you have to make sure the principal that calls the function is a controller."
    )
  case .notController(let c, _):
    fail(
      "\(context)\n\nCaused by:\n    The replica returned a rejection error: reject code CanisterError, reject message Only controllers of canister \(c.text) can call this method, error code Some(\"IC0512\")"
    )
  case .notFound(let c): fail("Canister \(c.text) was not found.")
  case .reject(let code, let message):
    fail(
      "\(context)\n\nCaused by:\n    The replica returned a rejection error: reject code CanisterError, reject message \(message), error code Some(\"\(code)\")"
    )
  case .insufficientFunds(let m): fail(m)
  default: fail("\(error)")
  }
}

/// icp's public view, in its field order: `{"id":…,"controllers":[…],"module_hash":…}`.
func publicJSON(_ c: Principal, _ controllers: [String], _ hash: String?) -> String {
  "{\"id\":\(ValueFormat.jsonQuote(c.text)),\"controllers\":[\(controllers.map(ValueFormat.jsonQuote).joined(separator: ","))],"
    + "\"module_hash\":\(hash.map(ValueFormat.jsonQuote) ?? "null")}\n"
}

func principal(_ text: String?) -> Principal {
  guard let text, let p = Principal(text: text) else { fail("invalid principal `\(text ?? "")`", code: 2) }
  return p
}

func save() {
  if hostile.contains("hang") { Thread.sleep(forTimeInterval: 3600) }
  do { try sim.save(path: statePath) } catch { fail("cannot write the sim state: \(error)") }
  if hostile.contains("die-after-apply") { kill(getpid(), SIGKILL) }
}

let command = positional.prefix(2).joined(separator: " ")
// Tests pose as a tool that lacks some commands: RBIC_DOUBLE_ICP_LACKS="canister top-up,…".
let lacking =
  ProcessInfo.processInfo.environment["RBIC_DOUBLE_\(tool.uppercased())_LACKS"]?.split(separator: ",").map(String.init)
  ?? []
if lacking.contains(command) {
  err(
    "error: unrecognized subcommand '\(positional[1])'\n\nUsage: \(tool) \(positional[0]) <COMMAND>\n\nFor more information, try '--help'.\n"
  )
  exit(2)
}
do throws(BackendError) {
  switch command {
  case "identity default" where !isDfx, "identity whoami" where isDfx:
    out(state.identity + "\n")
  case "identity principal" where !isDfx, "identity get-principal" where isDfx:
    out(try sim.identityPrincipal().text + "\n")
  case "cycles balance":
    let balance = try sim.cyclesBalance()
    out(isDfx ? "\(balance) cycles.\n" : "Balance: \(grouped(balance)) cycles\n")
  case "cycles top-up" where isDfx:
    let c = principal(positional.dropFirst(2).first)
    guard let amount = positional.dropFirst(3).first.flatMap(ToolOutput.number) else { fail("invalid amount", code: 2) }
    do { try sim.topUp(c, amount: amount) } catch .insufficientFunds(let m) {
      fail("Failed to top up.\n\nCaused by:\n    \(m)")
    }
    save()
    out("Transfer sent at block index 1_234\n")
  case "canister status" where hostile.contains("junk"), "canister info" where hostile.contains("junk"):
    out("\u{0}\u{1B}[31m\u{FFFD}junk\u{7}\n")
  case "canister status" where isDfx:
    let c = principal(positional.dropFirst(2).first)
    let s = try sim.status(c)
    out(
      """
      Canister status call result for \(positional[2]).
      Status: \(s.status.rawValue.capitalized)
      Controllers: \(s.controllers.map(\.text).sorted().joined(separator: " "))
      Memory allocation: 0 Bytes
      Compute allocation: 0 %
      Freezing threshold: \(grouped(Int128(s.freezingThreshold))) Seconds
      Idle cycles burned per day: 20_548_135 Cycles
      Memory Size: \(grouped(Int128(s.memory))) Bytes
      Balance: \(grouped(s.cycles)) Cycles
      Reserved: 0 Cycles
      Reserved cycles limit: 5_000_000_000_000 Cycles
      Wasm memory limit: 3_221_225_472 Bytes
      Wasm memory threshold: 0 Bytes
      Module hash: \(s.moduleHash.map(ValueFormat.hex) ?? "None")
      Number of queries: 0
      Instructions spent in queries: 0
      Total query request payload size: 0 Bytes
      Total query response payload size: 0 Bytes
      Log visibility: controllers

      """)
  case "canister update-settings" where isDfx:
    let c = principal(positional.dropFirst(2).first)
    try sim.updateControllers(
      c, add: (flags["--add-controller"] ?? []).map(principal),
      remove: (flags["--remove-controller"] ?? []).map(principal))
    save()
  case "canister info" where isDfx:
    let c = principal(positional.dropFirst(2).first)
    let info = try sim.publicInfo(c)
    out(
      "Controllers: \(info.controllers.map(\.text).sorted().joined(separator: " "))\nModule hash: \(info.moduleHash.map(ValueFormat.hex) ?? "None")\n"
    )
  case "canister status" where switches.contains("--public"):
    let c = principal(positional.dropFirst(2).first)
    let info = try sim.publicInfo(c)
    out(publicJSON(c, info.controllers.map(\.text), info.moduleHash.map(ValueFormat.hex)))
  case "canister status":
    let c = principal(positional.dropFirst(2).first)
    do {
      let s = try sim.status(c)
      // Field order and stringified numbers as icp's SerializableCanisterStatusResult prints them.
      func q(_ t: String) -> String { ValueFormat.jsonQuote(t) }
      let controllers = s.controllers.map { q($0.text) }.joined(separator: ",")
      out(
        "{\"id\":\(q(c.text)),\"status\":\(q(s.status.rawValue.capitalized)),\"settings\":{\"controllers\":[\(controllers)],"
          + "\"compute_allocation\":\"0\",\"memory_allocation\":\"0\",\"freezing_threshold\":\(q(grouped(Int128(s.freezingThreshold)))),"
          + "\"reserved_cycles_limit\":\"5_000_000_000_000\",\"wasm_memory_limit\":\"3_221_225_472\",\"wasm_memory_threshold\":\"0\","
          + "\"log_memory_limit\":\"4_096\",\"log_visibility\":{\"type\":\"Controllers\"},\"environment_variables\":[]},"
          + "\"module_hash\":\(s.moduleHash.map { q(ValueFormat.hex($0)) } ?? "null"),\"memory_size\":\(q(grouped(Int128(s.memory)))),"
          + "\"cycles\":\(q(grouped(s.cycles))),\"reserved_cycles\":\"0\",\"idle_cycles_burned_per_day\":\"20_548_135\","
          + "\"query_stats\":{\"num_calls_total\":\"0\",\"num_instructions_total\":\"0\",\"request_payload_bytes_total\":\"0\","
          + "\"response_payload_bytes_total\":\"0\"}}\n")
    } catch .notController {
      // icp falls back to the public view (read from the state tree) on IC0512.
      let record = sim.snapshot.canisters[c.text]!
      out(publicJSON(c, record.controllers, record.module_hash))
    }
  case "canister top-up":
    let c = principal(positional.dropFirst(2).first)
    guard let amount = flags["--amount"]?.last.flatMap(ToolOutput.number) else { fail("invalid --amount", code: 2) }
    do { try sim.topUp(c, amount: amount) } catch .insufficientFunds(let m) { fail(m) }
    save()
    err("Topped up canister \(c.text) with \(grouped(amount)) cycles\n")
  case "canister install":
    let c = principal(positional.dropFirst(2).first)
    guard let path = flags["--wasm"]?.last, let wasm = FileManager.default.contents(atPath: path) else {
      fail("Cannot install canister by principal without --wasm flag")
    }
    guard let mode = InstallMode(rawValue: flags["--mode"]?.last ?? "upgrade") else { fail("invalid --mode", code: 2) }
    try sim.install(c, wasm: Array(wasm), mode: mode)
    save()
    err(isDfx ? "Installed code for canister \(c.text)\n" : "Canister \(c.text) installed successfully\n")
  case "canister settings":
    guard positional.dropFirst(2).first == "update" else { fail("unsupported settings command", code: 2) }
    let c = principal(positional.dropFirst(3).first)
    try sim.updateControllers(
      c, add: (flags["--add-controller"] ?? []).map(principal),
      remove: (flags["--remove-controller"] ?? []).map(principal))
    save()
  case "canister start", "canister stop":
    let c = principal(positional.dropFirst(2).first)
    if positional[1] == "start" { try sim.start(c) } else { try sim.stop(c) }
    save()
  case "canister call":
    let rest = Array(positional.dropFirst(2))
    guard rest.count == 3 else { fail("pass the canister, the method and the arguments", code: 2) }
    let c = principal(rest[0])
    if rest[1] == "wallet_send" {
      let arg = rest[2]
      guard let to = arg.firstMatch(of: /principal "([a-z0-9-]+)"/).map({ principal(String($0.1)) }),
        let amount = arg.firstMatch(of: /amount = ([0-9_]+)/).flatMap({ ToolOutput.number(String($0.1)) })
      else { fail("Invalid argument: Invalid Candid values", code: 1) }
      do {
        try sim.walletSend(wallet: c, to: to, amount: amount)
        save()
        out("(variant { 17_724 })\n")
      } catch .insufficientFunds(let m) {
        out("(variant { 3_456_837 = \"Insufficient balance: \(m)\" })\n")
      }
    } else {
      _ = try sim.call(c, method: rest[1], argument: rest[2])
      // The double echoes the Candid argument it received, as one argv element.
      out((hostile.contains("escapes") ? "(\"\(escapes)\")" : rest[2]) + "\n")
      save()
    }
  default:
    err(
      "error: unrecognized subcommand '\(command)'\n\nUsage: \(tool) <COMMAND>\n\nFor more information, try '--help'.\n"
    )
    exit(2)
  }
} catch {
  report(error, "failed to \(command)")
}
