// The test double CLI: answers as `icp` or `dfx` (by the name it is called with) over the
// simulated IC's state file ($RBIC_SIM_STATE), printing the tools' formats (recorded in
// Tests/RbicTests/Conformance) — data on stdout, chatter and `Error:` chains on stderr, exit 1 (icp)
// or 255 (dfx) on errors, 2 on usage — and turning the sim's faults into tool behaviour: garbled
// stdout, a silent exit 255, a hang (for timeouts), reject chains with IC codes.
//
// The release it poses as, RBIC_DOUBLE_VERSION: icp `1.0.0` … `1.3.0` or `HEAD` (the unreleased
// changes after 1.3.0, which still call themselves 1.3.0), dfx `0.25.0` … `0.32.0`; the newest
// release by default. What it prints for each command is checked against the tools' recorded
// outputs, per release (Tests/RbicTests/Conformance).
//
// Hostile mode, RBIC_DOUBLE_HOSTILE (comma-separated): `escapes` (terminal escape sequences in
// every stderr line and in call replies), `junk` (binary junk instead of status output), `hang`
// (every mutation hangs before applying), `die-after-apply` (every mutation is applied and saved,
// then the tool kills itself with SIGKILL).
import Foundation
import RbicBackends
import RbicBuiltins
import RbicCandid
import RbicCheck
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
  "--cycles", "--controller", "--replace", "--freezing-threshold", "--memory-allocation", "--reserved-cycles-limit",
  "--log-visibility", "--icp", "--args-file", "--argument-file", "--wasm-memory-persistence", "--root-key",
  "--wallet", "--with-cycles", "--proxy",
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

/// The release the double poses as, and what differs between the releases rbic supports (read
/// from the tools' tags).
struct Release {
  let version: ToolBackend.Version
  /// icp's changes after 1.3.0, not yet released (its Cargo.toml still says 1.3.0).
  let unreleased: Bool
  /// What `--version` prints after the tool's name.
  let printed: String

  init(tool: String, _ text: String?) {
    let newest = tool == "dfx" ? ToolBackend.Version(0, 32, 0) : ToolBackend.Version(1, 3, 0)
    let unreleased = text == "HEAD"
    let version = text.flatMap { ToolBackend.Version($0) } ?? newest
    (self.unreleased, self.version) = (unreleased, version)
    printed = text.flatMap { unreleased ? nil : $0 } ?? "\(version)"
  }
  /// icp 1.1.0 (#633): `canister delete` withdraws the cycles to the caller; 1.0 burns them.
  var deleteReturnsCycles: Bool { version >= ToolBackend.Version(1, 1, 0) }
  /// icp 1.1.0: `--root-key` takes `mainnet` and `fetch`; 1.0 takes a 133-byte hex key only.
  var rootKeyWords: Bool { version >= ToolBackend.Version(1, 1, 0) }
  /// icp 1.0–1.3 print `canister logs` as JSON unless `--json` is given (the flag was swapped);
  /// the unreleased changes (#704) print lines by default.
  var logsAsJSON: Bool { !unreleased }
  /// dfx 0.32 prints a new snapshot's id and the snapshot list on stdout (`println!`); 0.25–0.31
  /// logged them on stderr (`info!`).
  var snapshotsOnStdout: Bool { version >= ToolBackend.Version(0, 32, 0) }
  /// dfx 0.32 prints a deprecation notice first, unless DFX_WARNING has `-deprecation`.
  var deprecationNotice: Bool { version >= ToolBackend.Version(0, 32, 0) }
  /// dfx before 0.31 colours `Error:`/`Caused by:` whenever TERM names a terminal (the `term`
  /// crate, piped or not); 0.31 only on a terminal without NO_COLOR.
  var coloursByTerm: Bool { version < ToolBackend.Version(0, 31, 0) }
}
let release = Release(tool: tool, ProcessInfo.processInfo.environment["RBIC_DOUBLE_VERSION"])

/// How dfx before 0.31 writes a chain prefix (`Error: `) on stderr with TERM set: `setaf 1` or
/// `3`, the prefix, then `sgr0` (`ESC ( B ESC [ m` in xterm's terminfo). TERM naming a terminal
/// without colours (`dumb`) makes it panic (`Failed to set stderr output color.`, exit 101).
func prefix(_ word: String, colour: Int) -> String {
  let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
  guard isDfx, release.coloursByTerm, !term.isEmpty else { return word }
  if term == "dumb" {
    FileHandle.standardError.write(
      Data(
        "thread 'main' panicked at src/dfx/src/main.rs:94:18:\nFailed to set stderr output color.: ColorOutOfRange\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
          .utf8))
    exit(101)
  }
  return "\u{1B}[3\(colour)m" + word + (term.hasPrefix("xterm") ? "\u{1B}(B\u{1B}[m" : "\u{1B}[0m")
}

func fail(_ message: String, code: Int32? = nil) -> Never {
  // Chatter before the error, with words a substring search would take for the error itself.
  err(
    isDfx
      ? "WARN: Canister not found in the local cache; Insufficient cycles are reported below\n"
      : "WARN A newer version of icp-cli is available; this one may report IC0512 or not found\n")
  if isDfx {
    // dfx: one `Caused by:` line per cause, exit 255; a diagnosis's `To fix:` line after it.
    let chain = message.replacingOccurrences(
      of: "\n\nCaused by:\n    ", with: "\n" + prefix("Caused by: ", colour: 3)
    ).replacingOccurrences(of: "\nTo fix: ", with: "\n" + prefix("To fix: ", colour: 3))
    err(prefix("Error: ", colour: 1) + chain + "\n")
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
  out("\(tool) \(release.printed)\n")
  exit(0)
}
// `--root-key`: `mainnet` or `fetch` from icp 1.1.0, else a 133-byte key in hex; anything else is
// clap's usage error, with each release's reason (options.rs at v1.0.0; manifest/network.rs).
if !isDfx, let key = flags["--root-key"]?.last, !(release.rootKeyWords && ["fetch", "mainnet"].contains(key)) {
  let hex: String? =
    key.count % 2 == 1
    ? "Odd number of digits"
    : key.enumerated().first { !$0.element.isHexDigit }.map {
      "Invalid character '\($0.element)' at position \($0.offset)"
    }
  let reason: String? =
    if let hex {
      release.rootKeyWords
        ? "invalid root key: expected \"mainnet\", \"fetch\", or a hex-encoded key, but failed to decode as hex: \(hex)"
        : "Invalid root key hex string: \(hex)"
    } else if key.count != 266 {
      release.rootKeyWords
        ? "invalid root key: expected 133 bytes but got \(key.count / 2)"
        : "Invalid root key. Expected 133 bytes but got \(key.count / 2)"
    } else { nil }
  if let reason {
    err("error: invalid value '\(key)' for '--root-key <ROOT_KEY>': \(reason)\n\nFor more information, try '--help'.\n")
    exit(2)
  }
}
// Like icp: an environment variable selecting a network or environment conflicts with `--network`.
if !isDfx, flags["--network"] != nil,
  ["ICP_NETWORK", "ICP_ENVIRONMENT"].contains(where: { ProcessInfo.processInfo.environment[$0] != nil })
{
  fail("You can't specify both an environment and a network")
}
if isDfx, release.deprecationNotice,
  !(ProcessInfo.processInfo.environment["DFX_WARNING"] ?? "").contains("-deprecation")
{
  err(
    "WARNING: dfx is deprecated, use icp-cli https://cli.internetcomputer.org. LLM skills can be found at https://skills.internetcomputer.org/llms.txt\n"
  )
}
guard let statePath = ProcessInfo.processInfo.environment["RBIC_SIM_STATE"] else { fail("RBIC_SIM_STATE is not set") }
guard let state = try? SimulatedIC.load(path: statePath) else { fail("cannot read the sim state at \(statePath)") }
let identity = flags["--identity"]?.last ?? state.identity
let sim = SimulatedIC(state: state, identity: identity)

// dfx 0.25+ refuses a plaintext identity (an `identity.pem` with no `encryption`, keyring or HSM
// in `identity.json`) on mainnet for every command that builds an agent, unless DFX_WARNING has
// `-mainnet_plaintext_identity`. The double reads only $DFX_CONFIG_ROOT (never the real home).
if isDfx, let root = ProcessInfo.processInfo.environment["DFX_CONFIG_ROOT"], flags["--network"]?.last == "ic",
  ["canister", "cycles", "ledger", "wallet"].contains(positional.first ?? ""),
  !(ProcessInfo.processInfo.environment["DFX_WARNING"] ?? "").split(separator: ",").contains(
    "-mainnet_plaintext_identity")
{
  let directory = root + "/.config/dfx/identity/" + identity
  let config = FileManager.default.contents(atPath: directory + "/identity.json").map {
    String(decoding: $0, as: UTF8.self)
  }
  let secured = ["\"encryption\"", "\"keyring_identity_suffix\"", "\"hsm\""].contains {
    config?.contains($0) == true
  }
  if !secured, FileManager.default.fileExists(atPath: directory + "/identity.pem") {
    fail(
      """
      Failed to create AgentEnvironment.

      Caused by:
          Failed to create AgentEnvironment for network 'ic'.

      Caused by:
          The \(identity) identity is not stored securely. Do not use it to control a lot of cycles/ICP.
      - For enhanced security, create a new identity using the command:\u{20}
          dfx identity new
        Then, specify the new identity in mainnet-facing commands with the `--identity` flag.
      - If you understand the risks and still wish to use the insecure plaintext identity, you can suppress this warning by running:
          export DFX_WARNING=-mainnet_plaintext_identity
        After setting this environment variable, re-run the command.
      """)
  }
}

/// Prints a sim error the way the tool it poses as (icp or dfx) does, and exits.
@MainActor func report(_ error: BackendError, _ context: String) -> Never {
  // What happened before the failure stays (a request that landed, then a transport error; a
  // fault's use): the real IC keeps it whatever the tool prints after.
  do { try sim.save(path: statePath) } catch {}
  // A fault's error is the tool's behaviour for it, by the fault's kind (each throws at once,
  // so the last one fired is the one being reported).
  switch (sim.lastFault, error) {
  case (.garbled?, .environment):
    out("\u{FFFD}\u{FFFD} garbled \u{1}\n")
    exit(0)
  case (.exit?, .environment):
    exit(255)
  case (.afterSendSignal?, .environment):
    exit(130)
  default: break
  }
  switch error {
  case .notSent(let m) where m.contains("no identity found"):
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
  case .notFound(let c) where command == "canister info" && isDfx:
    // dfx reads the state tree and finds no controllers.
    fail("Canister \(c.text) does not exist.")
  case .notFound(let c) where command == "canister status" && !isDfx:
    fail("Canister \(c.text) was not found.")
  case .notFound(let c) where command == "canister status" && isDfx:
    // dfx's contexts around the management call (status.rs, operations/canister/mod.rs), then
    // the replica's reject.
    let id = positional.dropFirst(2).first ?? c.text
    fail(
      "Failed to get canister status for '\(id)'.\n\nCaused by:\n    Failed to get canister status of \(c.text).\n\nCaused by:\n    Failed to call update function 'canister_status' regarding canister '\(c.text)'.\n\nCaused by:\n    Update call (without wallet) failed.\n\nCaused by:\n    The replica returned a rejection error: reject code DestinationInvalid, reject message Canister \(c.text) not found, error code Some(\"IC0301\")"
    )
  case .notFound(let c):
    // Elsewhere the replica's reject says so.
    fail(
      "\(context)\n\nCaused by:\n    The replica returned a rejection error: reject code DestinationInvalid, reject message Canister \(c.text) not found, error code Some(\"IC0301\")"
    )
  case .reject(let code, let message) where command == "canister status" && !isDfx:
    // icp's status names the error code in its Debug form, then the reject message.
    fail("Error looking up canister \(positional.dropFirst(2).first ?? ""): Some(\"\(code)\") - \(message)")
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
    // Tests pose as a dfx whose identity store holds another key of the same name.
    let other = isDfx ? ProcessInfo.processInfo.environment["RBIC_DOUBLE_DFX_PRINCIPAL"] : nil
    let mine = try sim.identityPrincipal().text
    out((other ?? mine) + "\n")
  case "cycles balance":
    let balance = try sim.cyclesBalance()
    out(isDfx ? "\(balance) cycles.\n" : "Balance: \(grouped(balance)) cycles\n")
  case "cycles top-up" where isDfx:
    let c = principal(positional.dropFirst(2).first)
    guard let amount = positional.dropFirst(3).first.flatMap(ToolOutput.number) else { fail("invalid amount", code: 2) }
    do { try sim.topUp(c, amount: amount) } catch .insufficientFunds {
      // The cycles ledger's `withdraw` error in its Debug form, after dfx's retry hint (0.32).
      let balance = (try? sim.cyclesBalance()) ?? 0
      err("WARN: If you retry this operation, use --created-at-time 1755530000000000000\n")
      fail("send error: InsufficientFunds { balance: Nat(\(balance)) }")
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
      Memory allocation: \(grouped(Int128(s.memoryAllocation))) Bytes
      Compute allocation: 0 %
      Freezing threshold: \(grouped(Int128(s.freezingThreshold))) Seconds
      Idle cycles burned per day: \(grouped(s.idleBurnPerDay)) Cycles
      Memory Size: \(grouped(Int128(s.memory))) Bytes
      Balance: \(grouped(s.cycles)) Cycles
      Reserved: \(grouped(s.reservedCycles)) Cycles
      Reserved cycles limit: \(grouped(s.reservedCyclesLimit)) Cycles
      Wasm memory limit: 3_221_225_472 Bytes
      Wasm memory threshold: 0 Bytes
      Module hash: \(s.moduleHash.map(ValueFormat.hex) ?? "None")
      Number of queries: 0
      Instructions spent in queries: 0
      Total query request payload size: 0 Bytes
      Total query response payload size: 0 Bytes
      Log visibility: \(dfxLogVisibility(c))

      """)
  case "canister update-settings" where isDfx:
    let c = principal(positional.dropFirst(2).first)
    try applySettings(c)
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
          + "\"compute_allocation\":\"0\",\"memory_allocation\":\(q(grouped(Int128(s.memoryAllocation)))),\"freezing_threshold\":\(q(grouped(Int128(s.freezingThreshold)))),"
          + "\"reserved_cycles_limit\":\(q(grouped(s.reservedCyclesLimit))),\"wasm_memory_limit\":\"3_221_225_472\",\"wasm_memory_threshold\":\"0\","
          + "\"log_memory_limit\":\"4_096\",\"log_visibility\":\(icpLogVisibility(c)),\"environment_variables\":[]},"
          + "\"module_hash\":\(s.moduleHash.map { q(ValueFormat.hex($0)) } ?? "null"),\"memory_size\":\(q(grouped(Int128(s.memory)))),"
          + "\"cycles\":\(q(grouped(s.cycles))),\"reserved_cycles\":\(q(grouped(s.reservedCycles))),\"idle_cycles_burned_per_day\":\(q(grouped(s.idleBurnPerDay))),"
          + "\"query_stats\":{\"num_calls_total\":\"0\",\"num_instructions_total\":\"0\",\"request_payload_bytes_total\":\"0\","
          + "\"response_payload_bytes_total\":\"0\"}}\n")
    } catch .notController {
      // icp falls back to the public view (read from the state tree) on IC0512.
      let info = try sim.publicInfo(c)
      out(publicJSON(c, info.controllers.map(\.text), info.moduleHash.map(ValueFormat.hex)))
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
    guard let mode = InstallMode(rawValue: flags["--mode"]?.last ?? (isDfx ? "install" : "auto")) else {
      fail("invalid --mode", code: 2)
    }
    // icp stops a running canister around an upgrade or reinstall, and restarts it even when the
    // install failed; dfx does not.
    let running = isDfx || mode == .install ? false : try sim.status(c).status == .running
    if running { try sim.stop(c) }
    var argument: String?
    if let file = flags[isDfx ? "--argument-file" : "--args-file"]?.last {
      guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)", code: 2) }
      argument = String(decoding: data, as: UTF8.self)
    }
    do { try sim.install(c, wasm: Array(wasm), mode: mode, argument: argument) } catch {
      if running { try sim.start(c) }
      save()
      throw error
    }
    if running { try sim.start(c) }
    save()
    let verb =
      ["install": "Installed", "upgrade": "Upgraded", "reinstall": "Reinstalled"][mode.rawValue] ?? "Installed"
    err(isDfx ? "\(verb) code for canister \(c.text)\n" : "Canister \(c.text) installed successfully\n")
  case "canister settings":
    guard positional.dropFirst(2).first == "update" else { fail("unsupported settings command", code: 2) }
    let c = principal(positional.dropFirst(3).first)
    try applySettings(c)
    save()
  case "canister start", "canister stop":
    let c = principal(positional.dropFirst(2).first)
    if positional[1] == "start" { try sim.start(c) } else { try sim.stop(c) }
    save()
  case "canister call":
    var rest = Array(positional.dropFirst(2))
    if let file = flags[isDfx ? "--argument-file" : "--args-file"]?.last {
      guard rest.count == 2, let data = FileManager.default.contents(atPath: file) else {
        fail(isDfx ? "Path does not exist or is not a file." : "failed to read args file", code: isDfx ? 2 : 1)
      }
      let text = String(decoding: data, as: UTF8.self)
      rest.append(isDfx ? text : text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    guard rest.count == 3 else { fail("pass the canister, the method and the arguments", code: 2) }
    let c = principal(rest[0])
    // Cycles go with a call only from a canister: dfx's cycles wallet, icp's proxy canister.
    if isDfx, flags["--with-cycles"] != nil, flags["--wallet"] == nil {
      fail(
        "It is only possible to send cycles from a canister.\nTo fix: To send the same function call from your wallet (a canister), run the command using 'dfx canister call <other arguments> (--network ic) --wallet <wallet id>'.\nTo figure out the id of your wallet, run 'dfx identity get-wallet (--network ic)'."
      )
    }
    if !isDfx, flags["--cycles"] != nil, flags["--proxy"] == nil {
      err(
        "error: the following required arguments were not provided:\n  --proxy <PROXY>\n\nUsage: icp canister call --proxy <PROXY> --cycles <CYCLES> <CANISTER> [METHOD] [ARGS]\n\nFor more information, try '--help'.\n"
      )
      exit(2)
    }
    if let wallet = flags[isDfx ? "--wallet" : "--proxy"]?.last.map(principal) {
      let given = flags[isDfx ? "--with-cycles" : "--cycles"]?.last ?? "0"
      guard let amount = ToolOutput.number(given) else { fail("invalid value '\(given)' for cycles", code: 2) }
      let reply: String
      do {
        reply = try sim.call(c, method: rest[1], argument: rest[2], cycles: amount, wallet: wallet)
      } catch .insufficientFunds where !isDfx {
        // The proxy canister's `ProxyError::InsufficientCycles`, as icp prints it (candid `Nat`).
        let available = sim.snapshot.canisters[wallet.text].flatMap { Int128($0.cycles) } ?? 0
        fail(
          "proxy call failed: Proxy canister has insufficient cycles. Available: \(grouped(available)), required: \(grouped(amount))"
        )
      } catch .notController(let who, _) where who == wallet {
        if isDfx {
          // The cycles wallet traps on a caller that is neither a controller nor a custodian.
          fail(
            "Failed to call update function '\(rest[1])' regarding canister '\(c.text)'.\n\nCaused by:\n    Update call using wallet failed.\n\nCaused by:\n    The replica returned a rejection error: reject code CanisterError, reject message Only a controller or custodian can call this method., error code Some(\"IC0503\")"
          )
        }
        fail("proxy call failed: Unauthorized: you are not in the proxy canister's controllers list")
      }
      save()
      let record = sim.snapshot.canisters[c.text]
      out((record?.replies?[rest[1]] != nil ? printed(reply, named: record?.candid_service != nil) : rest[2]) + "\n")
    } else if rest[1] == "wallet_send" {
      let arg = rest[2]
      guard let to = arg.firstMatch(of: /principal "([a-z0-9-]+)"/).map({ principal(String($0.1)) }),
        let amount = arg.firstMatch(of: /amount = ([0-9_]+)/).flatMap({ ToolOutput.number(String($0.1)) })
      else { fail("Invalid argument: Invalid Candid values", code: 1) }
      do {
        try sim.walletSend(wallet: c, to: to, amount: amount)
        save()
        // Named when the tool could read the wallet's interface (its candid:service), hashed if not.
        out(sim.snapshot.canisters[c.text]?.candid_service != nil ? "(variant { Ok })\n" : "(variant { 17_724 })\n")
      } catch .insufficientFunds(let m) {
        out("(variant { 3_456_837 = \"Insufficient balance: \(m)\" })\n")
      }
    } else if switches.contains("--query") {
      let reply = try sim.query(c, method: rest[1], argument: rest[2])
      out(printed(reply, named: sim.snapshot.canisters[c.text]?.candid_service != nil) + "\n")
    } else {
      let reply = try sim.call(c, method: rest[1], argument: rest[2])
      // A canned reply when the canister has one (named when the tool can read the canister's
      // interface, hashed when not, as the tools print it); otherwise the double echoes the argument.
      let record = sim.snapshot.canisters[c.text]
      if hostile.contains("escapes") {
        out("(\"\(escapes)\")\n")
      } else if record?.replies?[rest[1]] != nil {
        out(printed(reply, named: record?.candid_service != nil) + "\n")
      } else {
        out(rest[2] + "\n")
      }
      save()
    }
  case "canister create":
    guard !isDfx else {
      fail("Cannot find dfx configuration file in the current working directory. Did you forget to create one?")
    }
    guard switches.contains("--detached") else { fail("Cannot create a canister by principal", code: 2) }
    guard let cycles = flags["--cycles"]?.last.flatMap(ToolOutput.number) else { fail("invalid --cycles", code: 2) }
    let id = try sim.createCanister(cycles: cycles, controllers: (flags["--controller"] ?? []).map(principal))
    save()
    out(
      switches.contains("--quiet") || switches.contains("-q") ? "\(id.text)\n" : "Created canister with ID \(id.text)\n"
    )
  case "canister delete":
    let c = principal(positional.dropFirst(2).first)
    if isDfx, !FileManager.default.fileExists(atPath: "dfx.json") {
      fail("Cannot find dfx configuration file in the current working directory. Did you forget to create one?")
    }
    if !isDfx { try sim.stop(c) }  // icp stops it itself
    let ledger = try sim.cyclesBalance()
    try sim.deleteCanister(c)
    save()
    if !isDfx, !release.deleteReturnsCycles {
      // icp 1.0 deletes without withdrawing: the cycles burn with the canister.
      var world = sim.snapshot
      world.identities[identity]?.cycles_ledger = String(ledger)
      do { try SimulatedIC(state: world).save(path: statePath) } catch { fail("cannot write the sim state: \(error)") }
    }
    err(isDfx ? "Deleting canister \(c.text), with canister_id \(c.text)\n" : "")
  case "canister snapshot":
    let verb = positional.dropFirst(2).first ?? ""
    let c = principal(positional.dropFirst(3).first)
    let name = c.text
    if verb == "create" || verb == (isDfx ? "load" : "restore") {
      let status = try sim.status(c).status
      if status == .running {
        fail(
          isDfx
            ? "Canister \(name) is running and snapshots should not be \(verb == "create" ? "taken of" : "applied to") running canisters. Run `dfx canister stop` first"
            : "Canister \(name) (\(c.text)) is currently running. Please stop the canister first with `icp canister stop`."
        )
      }
    }
    switch verb {
    case "create":
      let snap = try sim.takeSnapshot(c, replacing: flags["--replace"]?.last)
      save()
      if isDfx {
        let line = "Created a new snapshot of canister \(name). Snapshot ID: \(snap.id)\n"
        if release.snapshotsOnStdout { out(line) } else { err(line) }
      } else {
        out("{\"snapshot_id\":\"\(snap.id)\",\"taken_at_timestamp\":\(snap.takenAt),\"total_size_bytes\":\(snap.size)}")
      }
    case "list":
      let list = try sim.snapshots(c)
      if isDfx {
        let time = DateFormatter()
        time.locale = Locale(identifier: "en_US_POSIX")
        time.timeZone = TimeZone(identifier: "UTC")
        time.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        // The list goes to stdout from 0.32 (stderr before); `No snapshots found` always to
        // stderr. Sizes as indicatif's HumanBytes prints them (binary units, two decimals).
        func human(_ bytes: Int64) -> String {
          var value = Double(bytes)
          var unit = 0
          while value >= 1024, unit < 4 {
            value /= 1024
            unit += 1
          }
          return unit == 0 ? "\(bytes) B" : String(format: "%.2f %@", value, ["B", "KiB", "MiB", "GiB", "TiB"][unit])
        }
        if list.isEmpty {
          err("No snapshots found in canister \(name)\n")
        } else {
          let text =
            list.map {
              "\($0.id): \(human($0.size)), taken at \(time.string(from: Date(timeIntervalSince1970: Double($0.takenAt) / 1e9)))"
            }.joined(separator: "\n") + "\n"
          if release.snapshotsOnStdout { out(text) } else { err(text) }
        }
      } else {
        out(
          "{\"snapshots\":["
            + list.map {
              "{\"snapshot_id\":\"\($0.id)\",\"taken_at_timestamp\":\($0.takenAt),\"total_size_bytes\":\($0.size)}"
            }.joined(separator: ",") + "]}")
      }
    case "restore" where !isDfx, "load" where isDfx:
      guard let id = positional.dropFirst(4).first else { fail("missing the snapshot id", code: 2) }
      try sim.restoreSnapshot(c, id: id)
      save()
      err(
        isDfx
          ? "Loaded snapshot \(id) in canister \(name)\n"
          : "Restored canister \(name) (\(c.text)) from snapshot \(id)\n")
    case "delete":
      guard let id = positional.dropFirst(4).first else { fail("missing the snapshot id", code: 2) }
      try sim.deleteSnapshot(c, id: id)
      save()
      err(
        isDfx
          ? "Deleted snapshot \(id) from canister \(name)\n"
          : "Deleted snapshot \(id) from canister \(name) (\(c.text))\n")
    default:
      err("error: unrecognized subcommand '\(verb)'\n")
      exit(2)
    }
  case "canister metadata":
    let c = principal(positional.dropFirst(2).first)
    let name = positional.dropFirst(3).first ?? ""
    guard let value = try sim.metadata(c, name: name) else {
      fail("Metadata section '\(name)' not found in canister \(c.text)")
    }
    // icp prints the section with println (a newline added); dfx writes its bytes as they are.
    out(isDfx ? value : value + "\n")
  case "canister logs":
    let c = principal(positional.dropFirst(2).first)
    let records = try sim.logs(c)
    let stamp = ISO8601DateFormatter()
    let lines = records.map { r in
      let seconds = stamp.string(from: Date(timeIntervalSince1970: Double(r.timestamp / 1_000_000_000)))
      let nanos = r.timestamp % 1_000_000_000
      let time = nanos == 0 ? seconds : seconds.dropLast() + String(format: ".%09lluZ", nanos)
      return "[\(r.index). \(time)]: \(r.content)"
    }
    if isDfx {
      // One line per record; none prints an empty line.
      out(lines.joined(separator: "\n") + "\n")
    } else if release.logsAsJSON != switches.contains("--json") {
      // icp 1.0–1.3 print JSON without --json (the formats were swapped until after 1.3.0).
      out(
        "{\"log_records\":["
          + records.map {
            "{\"timestamp\":\($0.timestamp),\"index\":\($0.index),\"content\":\(ValueFormat.jsonQuote($0.content))}"
          }.joined(separator: ",") + "]}")
    } else {
      out(lines.joined(separator: "\n") + "\n")
    }
  case "token balance" where !isDfx, "ledger balance" where isDfx:
    let e8s = try sim.icpBalance()
    out(isDfx ? "\(ValueFormat.icpDecimal(e8s)) ICP\n" : "Balance: \(icpAmount(e8s)) ICP\n")
  case "cycles mint" where !isDfx, "cycles convert" where isDfx:
    guard let text = flags[isDfx ? "--amount" : "--icp"]?.last, let e8s = ToolOutput.e8s(text) else {
      fail("invalid amount", code: 2)
    }
    do throws(BackendError) {
      let minted = try sim.mintCycles(icp: e8s)
      save()
      let balance = try sim.cyclesBalance()
      out(
        isDfx
          ? "Transfer sent at block height 21126101\nUsing transfer at block height 21126101\nAccount was topped up with \(grouped(minted)) cycles! New balance is \(grouped(balance)) cycles.\n"
          : "Minted \(grouped(minted)) cycles to your account, new balance: \(grouped(balance)) cycles.\n")
    } catch .reject(ToolOutput.refundCode, let reason) {
      // The CMC refunded the ICP: dfx says so on stdout and exits 0; icp fails with the CMC's
      // error in its Debug form.
      if isDfx {
        out(
          "Transfer sent at block height 21126101\nUsing transfer at block height 21126101\nRefunded at block height 21126102 with message: \(reason)\n"
        )
        exit(0)
      }
      fail("Failed to notify mint cycles: Refunded { reason: \"\(reason)\", block_index: Some(21126102) }")
    } catch .insufficientFunds {
      // dfx diagnoses the ledger's InsufficientFunds: the explanation and the remedy, no chain;
      // icp says what the mint needs with the fee, as its TokenAmount prints ICP.
      let balance = (try? sim.icpBalance()) ?? 0
      let (needed, overflow) = e8s.addingReportingOverflow(SimulatedIC.icpFee)
      fail(
        isDfx
          ? "Insufficient ICP balance to finish the transfer transaction.\nTo fix: Please top up your ICP balance."
          : "Insufficient funds: \(overflow ? "?" : icpAmount(needed)) ICP required, \(icpAmount(balance)) ICP available."
      )
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

/// `settings update` (icp) and `update-settings` (dfx): controllers and the settings rbic sets,
/// with dfx's guards on extreme freezing thresholds.
@MainActor func applySettings(_ c: Principal) throws(BackendError) {
  let add = (flags["--add-controller"] ?? []).map(principal)
  let remove = (flags["--remove-controller"] ?? []).map(principal)
  if !add.isEmpty || !remove.isEmpty {
    try sim.updateControllers(c, add: add, remove: remove)
    if isDfx {
      // dfx echoes the change on stdout, the canister in quotes, the principals sorted.
      let name = "\"\(positional.dropFirst(2).first ?? "")\""
      for (list, verb) in [(add, "Added as controller"), (remove, "Removed from controller")] where !list.isEmpty {
        let plural = list.count == 1 ? "" : "s"
        let words =
          verb == "Added as controller" ? "Added as controller\(plural) of" : "Removed from controller\(plural) of"
        out("\(words) \(name): \(list.map(\.text).sorted().joined(separator: " "))\n")
      }
    }
  }
  var settings = CanisterSettings()
  if let t = flags["--freezing-threshold"]?.last {
    guard let seconds = Int64(t) else { fail("invalid value '\(t)' for '--freezing-threshold'", code: 2) }
    if isDfx, seconds > 50_000_000, !switches.contains("--confirm-very-long-freezing-threshold") {
      fail(
        "The freezing threshold is defined in SECONDS before the canister would run out of cycles, not in cycles.\nTo fix: If you truly want to set a freezing threshold that is longer than a year, please run the same command, but with the flag --confirm-very-long-freezing-threshold to confirm you want to do this."
      )
    }
    if isDfx, seconds < 604_800, !switches.contains("--confirm-very-short-freezing-threshold") {
      fail(
        "The freezing threshold is very short at less than 1 week. This may lead to canisters getting uninstalled with no or too little warning when cycles run out.\nTo fix: If you truly want to set a freezing threshold that is shorter than a week, please run the same command, but with the flag --confirm-very-short-freezing-threshold to confirm you want to do this."
      )
    }
    settings.freezingThreshold = seconds
  }
  if let m = flags["--memory-allocation"]?.last {
    guard let bytes = Int64(m) else { fail("invalid value '\(m)' for '--memory-allocation'", code: 2) }
    settings.memoryAllocation = bytes
  }
  if let l = flags["--reserved-cycles-limit"]?.last {
    guard let limit = Int128(l) else { fail("invalid value '\(l)' for '--reserved-cycles-limit'", code: 2) }
    settings.reservedCyclesLimit = limit
  }
  if let v = flags["--log-visibility"]?.last {
    guard let visibility = LogVisibility(rawValue: v), visibility != .allowedViewers else {
      fail("Must be `controllers` or `public`.", code: 2)
    }
    settings.logVisibility = visibility
  }
  if settings != CanisterSettings() { try sim.updateSettings(c, settings) }
}

/// dfx's `Log visibility:` value: the viewers sorted and joined by `, `.
@MainActor func dfxLogVisibility(_ c: Principal) -> String {
  let record = sim.snapshot.canisters[c.text]
  switch record?.log_visibility ?? .controllers {
  case .controllers: return "controllers"
  case .public: return "public"
  case .allowedViewers:
    let viewers = (record?.log_viewers ?? []).sorted()
    return viewers.isEmpty ? "allowed viewers list is empty" : "allowed viewers: " + viewers.joined(separator: ", ")
  }
}

/// icp's `log_visibility` JSON (serde, tag `type`, content `value`).
@MainActor func icpLogVisibility(_ c: Principal) -> String {
  let record = sim.snapshot.canisters[c.text]
  switch record?.log_visibility ?? .controllers {
  case .controllers: return #"{"type":"Controllers"}"#
  case .public: return #"{"type":"Public"}"#
  case .allowedViewers:
    let viewers = (record?.log_viewers ?? []).map(ValueFormat.jsonQuote).joined(separator: ",")
    return #"{"type":"AllowedViewers","value":["# + viewers + "]}"
  }
}

/// ICP as icp's TokenAmount prints it (bigdecimal 0.4's `Display` at scale 8): `0` for none, the
/// exponent form past five zeros after the point (1 e8s is `1E-8`, 10 is `1.0E-7`, 99 is
/// `9.9E-7`), eight decimals otherwise.
func icpAmount(_ e8s: Int64) -> String {
  guard e8s != 0 else { return "0" }
  guard e8s > 0, e8s < 100 else { return ValueFormat.icpDecimal(e8s) }
  let digits = String(e8s)
  return "\(digits.prefix(1))\(digits.count > 1 ? "." + digits.dropFirst() : "")E-\(9 - digits.count)"
}

/// A reply as a tool prints it: labels by name when it has the canister's interface, by hash when
/// not; the tools' layout either way.
func printed(_ reply: String, named: Bool) -> String {
  guard let values = try? CandidValue.parseArguments(reply) else { return reply }
  return CandidValue.print(arguments: named ? values : values.map(\.hashingLabels))
}
