import Foundation
import RbicCandid
import RbicCheck
import RbicRuntime

/// Parsers for what `icp` and `dfx` print (recorded outputs: `Tests/RbicTests/Conformance`):
/// `_` digit grouping, `<none>`/`None`/`null` module hashes, `Error:`/`Caused by:` chains and
/// reject codes. Output that matches no known shape is an environment error quoting it, never a
/// guess.
package enum ToolOutput {
  /// RFC 3339 times (log lines, snapshot times): one formatter, not one per line. It is used only
  /// for parsing and printing after it is made, which Foundation allows from any thread.
  nonisolated(unsafe) package static let rfc3339 = ISO8601DateFormatter()

  /// `1_234_567` → 1234567.
  package static func number(_ text: String) -> Int128? {
    let digits = text.trimmingCharacters(in: .whitespaces).filter { $0 != "_" }
    guard !digits.isEmpty, digits.allSatisfy(\.isNumber) else { return nil }
    return Int128(digits)
  }

  static func unexpected(_ what: String, _ text: String) -> BackendError {
    let line = text.split(separator: "\n").first.map(String.init) ?? "(nothing)"
    return .environment("unexpected output from \(what): `\(line.prefix(200))`")
  }

  /// `icp canister status P --json` (controller view). The public view (no `status`, no
  /// `settings`: icp fell back to it on IC0512) means the identity is not a controller.
  package static func icpStatus(_ stdout: String, canister: Principal, identity: String) throws(BackendError)
    -> CanisterState
  {
    let what = "`icp canister status --json`"
    let object = try jsonObject(stdout, what)
    guard let statusText = object["status"] as? String, let settings = object["settings"] as? [String: Any] else {
      if object["controllers"] != nil { throw .notController(canister: canister, identity: identity) }
      throw unexpected(what, stdout)
    }
    guard let status = CanisterStatus(rawValue: statusText.lowercased()),
      let cycles = (object["cycles"] as? String).flatMap(number),
      let controllers = settings["controllers"] as? [String],
      let memory = (object["memory_size"] as? String).flatMap(number),
      let freezing = (settings["freezing_threshold"] as? String).flatMap(number)
    else { throw unexpected(what, stdout) }
    let info = try publicInfo(controllers: controllers, hash: object["module_hash"] as? String, what: what)
    // Figures a status has had since icp 1.0; a value that is there but does not parse is an error.
    func figure(_ value: Any?) throws(BackendError) -> Int128? {
      guard let value else { return nil }
      guard let text = value as? String, let n = number(text) else { throw unexpected(what, stdout) }
      return n
    }
    // `{"type":"Controllers"}`, `{"type":"Public"}`, `{"type":"AllowedViewers","value":[…]}`.
    let visibility: LogVisibility
    switch (settings["log_visibility"] as? [String: Any])?["type"] as? String {
    case "Controllers"?, nil: visibility = .controllers
    case "Public"?: visibility = .public
    case "AllowedViewers"?: visibility = .allowedViewers
    case let other?: throw unexpected("\(what) (log visibility `\(other)`)", stdout)
    }
    return CanisterState(
      id: canister, status: status, cycles: cycles, moduleHash: info.moduleHash, controllers: info.controllers,
      memory: Int64(clamping: memory), freezingThreshold: Int64(clamping: freezing),
      reservedCycles: try figure(object["reserved_cycles"]) ?? 0,
      idleBurnPerDay: try figure(object["idle_cycles_burned_per_day"]) ?? 0,
      memoryAllocation: Int64(clamping: try figure(settings["memory_allocation"]) ?? 0),
      reservedCyclesLimit: try figure(settings["reserved_cycles_limit"]) ?? 5_000_000_000_000,
      logVisibility: visibility)
  }

  /// `Balance: 1_000_000 cycles`
  package static func cyclesBalance(_ stdout: String) throws(BackendError) -> Int128 {
    let line = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard line.hasPrefix("Balance: "), line.hasSuffix(" cycles"),
      let n = number(String(line.dropFirst("Balance: ".count).dropLast(" cycles".count)))
    else { throw unexpected("`icp cycles balance`", stdout) }
    return n
  }

  /// A bare principal line (`icp identity principal`, `dfx identity get-principal`).
  package static func principal(_ stdout: String, tool: String) throws(BackendError) -> Principal {
    let line = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard let p = Principal(text: line) else { throw unexpected("`\(tool) identity`", stdout) }
    return p
  }

  /// The default identity's name on one line (`icp identity default`, `dfx identity whoami`).
  package static func identityName(_ stdout: String, tool: String) throws(BackendError) -> String {
    let name = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !name.isEmpty, !name.contains("\n"), !name.contains(" ") else {
      throw .environment("`\(tool)` did not name its default identity: `\(stdout.prefix(80))`")
    }
    return name
  }

  /// `TOOL --version`: `icp 1.3.0`, `dfx 0.32.0`, a development build's `dfx 0.9.1-63-gd7020bbb`
  /// (clap's name and version). Nil when the line is not the tool's name and a version.
  package static func version(_ stdout: String, tool: String) -> ToolBackend.Version? {
    let words = stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
    guard words.count == 2, words[0] == tool else { return nil }
    return ToolBackend.Version(String(words[1]))
  }

  /// `icp canister create --detached`: the new canister's id alone on its line (`--quiet`, what
  /// rbic passes) or `Created canister with ID <principal>`. Nil when the last line is neither.
  package static func createdCanister(_ stdout: String) -> Principal? {
    guard let line = stdout.split(separator: "\n").last?.trimmingCharacters(in: .whitespaces) else { return nil }
    let prefix = "Created canister with ID "
    return Principal(text: line.hasPrefix(prefix) ? String(line.dropFirst(prefix.count)) : line)
  }

  /// `canister metadata ID NAME`: the section's text, or nil when the canister has none (icp says
  /// `Metadata section '…' not found in canister …`; any failure the tool explained means none to
  /// use). A newline the tool adds (icp, `ToolDialect.metadataAddsNewline`) is dropped; dfx writes
  /// the section's bytes as they are, so a section's own trailing newline is kept. A tool ended by
  /// a signal said nothing, which is an environment error.
  package static func metadata(_ output: ToolRunner.Output, tool: String, addsNewline: Bool) throws(BackendError)
    -> String?
  {
    guard output.status == 0 else {
      if output.signaled { throw .environment("`\(tool) canister metadata` was interrupted") }
      return nil
    }
    return addsNewline && output.stdout.hasSuffix("\n") ? String(output.stdout.dropLast()) : output.stdout
  }

  /// What a failed tool printed on stderr, taken apart by its structure: warnings (`WARN `,
  /// `WARN: `, `WARNING:`), a clap usage error (`error: `), and the `Error:` chain (the top
  /// message, then each `Caused by:` cause, indented or not) with the replica's reject code
  /// (`error code Some("IC0512")`). Only the chain is ever classified, and a reject code wins
  /// over any wording: a canister's own reject text that says "not found" or "insufficient" is
  /// that canister's reject, nothing more.
  package struct Failure: Equatable {
    package var warnings: [String] = []
    package var usage: String?
    /// The top message and the causes, in order.
    package var chain: [String] = []
    package var rejectCode: String?

    package init(stderr: String) {
      // Colour (CSI), title (OSC) and character-set (`ESC ( B`, shift in/out) sequences are not
      // part of any message: dfx before 0.31 colours `Error:` whenever TERM names a terminal,
      // and xterm's reset is `ESC ( B ESC [ m`.
      let text = stderr.replacingOccurrences(
        of: "\u{1B}(\\[[0-9;?]*[A-Za-z]|\\][^\u{7}\u{1B}]*(\u{7}|\u{1B}\\\\)|[()*+][0-9A-Za-z])|[\u{E}\u{F}]",
        with: "", options: .regularExpression)
      var inChain = false
      for raw in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty { continue }
        if line.hasPrefix("WARN ") || line.hasPrefix("WARN: ") || line.hasPrefix("WARNING:") {
          warnings.append(line)
        } else if line.hasPrefix("Error: ") {
          inChain = true
          chain.append(String(line.dropFirst("Error: ".count)))
        } else if line.hasPrefix("error: "), !inChain, usage == nil {
          usage = String(line.dropFirst("error: ".count))
        } else if inChain, line == "Caused by:" {
          continue
        } else if inChain, line.hasPrefix("Caused by: ") {
          chain.append(String(line.dropFirst("Caused by: ".count)))
        } else if inChain {
          // An indented cause (`    0: …`), or a multi-line message's continuation.
          let cause = line.replacingOccurrences(of: #"^\d+: "#, with: "", options: .regularExpression)
          if raw.hasPrefix("    ") || raw.hasPrefix("\t") {
            chain.append(cause)
          } else {
            chain[chain.count - 1] += " " + cause
          }
        }
      }
      let joined = chain.joined(separator: "\n")
      if let m = joined.firstMatch(of: /error code Some\("(IC\d{4})"\)/) {
        rejectCode = String(m.1)
      } else if let m = chain.lazy.compactMap({
        $0.firstMatch(of: #/^Error looking up canister \S+: Some\("(IC\d{4})"\) - /#)
      })
      .first {
        // icp's `canister status` on a reject other than IC0301/IC0512: the error code's Debug
        // form, then the reject message.
        rejectCode = String(m.1)
      }
    }

    /// The message a person reads: the chain, one cause after another.
    package var message: String { chain.joined(separator: ": ") }

    /// Whether a message of the chain starts with one of these (never a search of the whole text).
    func starts(with prefixes: [String]) -> Bool {
      chain.contains { m in prefixes.contains { m.hasPrefix($0) } }
    }
  }

  /// The messages that mean a ledger or wallet had too little: `icp canister top-up`,
  /// `icp cycles mint`, `icp canister create`; dfx's diagnosis for a create, the cycles ledger's
  /// `withdraw` error of `dfx cycles top-up` (`send error: InsufficientFunds { balance: Nat(…) }`,
  /// the error's Debug form) and dfx's diagnosis of an ICP transfer (`dfx cycles convert`).
  static let insufficientFunds = [
    "failed to top up: Insufficient cycles", "Insufficient funds:", "failed to create canister: Insufficient cycles",
    "Insufficient cycles balance", "Insufficient cycles.", "send error: InsufficientFunds",
    "Insufficient ICP balance",
    // icp's proxy canister (`--proxy P --cycles N`), before it forwards anything (icp-canister-interfaces
    // `ProxyError::InsufficientCycles`).
    "proxy call failed: Proxy canister has insufficient cycles",
  ]

  /// The messages with which a tool stops before it sends anything (its chain's heads; a usage
  /// error, exit 2, is one too): a mutation that fails with one of these definitely did not happen.
  /// Every other failure of a mutation leaves its outcome unknown.
  static let notSent: [String: [String]] = [
    "icp": [
      "failed to load identity", "no identity found with name", "`--root-key` is required", "failed to load project",
      "failed to load the project", "Failed to read", "Invalid argument",
    ],
    "dfx": [
      "Identity must exist", "The specified identity must exist", "Failed to create AgentEnvironment",
      "Network not found", "Failed to load project", "Cannot find dfx configuration file",
    ],
  ]

  /// Heads that mean the request went out and a later part of the operation failed (icp's mint
  /// moves the ICP, then notifies the CMC): unknown, whatever reject code follows.
  static let afterSubmission = ["Failed to notify", "failed to notify", "agent error", "The request timed out"]

  /// icp's proxy canister refusing a caller that is not among its controllers, before it
  /// forwards anything (icp-canister-interfaces `ProxyError::UnauthorizedUser`): definite.
  static let proxyRefused = ["proxy call failed: Unauthorized"]

  /// Heads that mean the cycles minting canister answered a mint with a refund (icp prints the
  /// CMC's error in its Debug form): definite, though the ICP went out and came back.
  static let refunded = ["Failed to notify mint cycles: Refunded"]

  /// A failed call, mapped to a typed error that keeps the text.
  package static func failure(_ output: ToolRunner.Output, tool: String, canister: Principal?, identity: String)
    -> BackendError
  {
    let f = Failure(stderr: output.stderr)
    if output.status == 101 { return .environment("`\(tool)` crashed (exit 101): \(f.message.prefix(300))") }
    if output.status == 2, let usage = f.usage {
      if usage.hasPrefix("unrecognized subcommand") || usage.hasPrefix("unexpected argument") {
        return .unsupported("`\(tool)` does not support this operation: \(usage.prefix(200))")
      }
      return .notSent("`\(tool)` rejected its arguments: \(usage.prefix(200))")
    }
    if f.starts(with: refunded) {
      return .reject(
        code: refundCode,
        message:
          "\(f.message.prefix(400)); no cycles were minted, and the ICP came back less the ledger fee")
    }
    if f.starts(with: proxyRefused) { return .reject(code: "proxy", message: f.message) }
    if f.starts(with: afterSubmission) {
      return .unknownOutcome(
        "`\(tool)` failed after sending the request (exit \(output.status)): \(f.message.prefix(400))")
    }
    if f.starts(with: notSent[tool] ?? []) {
      return .notSent("`\(tool)` failed before sending anything: \(f.message.prefix(400))")
    }
    guard !f.chain.isEmpty else {
      let shown = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
      if shown.isEmpty || f.usage == nil && shown.split(separator: "\n").count == f.warnings.count {
        return .environment(
          "`\(tool)` exited with status \(output.status) and printed nothing\(shown.isEmpty ? "" : " but warnings")")
      }
      return .environment(
        "`\(tool)` exited with status \(output.status) without an error message: `\(shown.prefix(200))`")
    }
    switch (f.rejectCode, canister) {
    case ("IC0512"?, let c?): return .notController(canister: c, identity: identity)
    case ("IC0301"?, let c?): return .notFound(c)
    case (let code?, _): return .reject(code: code, message: f.message)
    case (nil, let c?):
      // dfx 0.25+ prints a diagnosis instead of the chain for these.
      if f.chain.first?.hasPrefix("Each canister has a set of controllers.") == true {
        return .notController(canister: c, identity: identity)
      }
      // icp `Canister P was not found.`; dfx `canister info` `Canister P does not exist.`
      if f.chain.contains(where: {
        $0 == "Canister \(c.text) was not found." || $0.hasPrefix("Canister \(c.text) not found")
          || $0 == "Canister \(c.text) does not exist."
      }) {
        return .notFound(c)
      }
    case (nil, nil): break
    }
    if f.starts(with: insufficientFunds) { return .insufficientFunds(f.message) }
    return .environment("`\(tool)` failed (exit \(output.status)): \(f.message.prefix(400))")
  }

  /// A `wallet_send` reply, decoded as Candid: `variant { Ok }` whether the tool printed the
  /// label's name (it had the wallet's interface) or its hash (`17_724`); `Err` with the wallet's
  /// text (on one line or broken over several) means nothing was sent. Anything else is not
  /// understood, and the caller treats the send's outcome as unknown.
  package static func walletSendReply(_ stdout: String) throws(BackendError) {
    let reply = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let values: [CandidValue]
    do throws(CandidFailure) { values = try CandidValue.parseArguments(reply) } catch {
      throw unexpected("`wallet_send` (\(error.diagnostic.message))", stdout)
    }
    guard values.count == 1, case .variant(let tag) = values[0].bare else { throw unexpected("`wallet_send`", stdout) }
    switch tag.label.hash {
    case CandidLabel.idlHash("Ok"): return
    case CandidLabel.idlHash("Err"):
      guard case .text(let text) = tag.value.bare else { throw unexpected("`wallet_send`", stdout) }
      throw text.lowercased().hasPrefix("insufficient")
        ? .insufficientFunds("wallet_send: \(text)") : .reject(code: "wallet_send Err", message: text)
    default: throw unexpected("`wallet_send`", stdout)
    }
  }

}

extension ToolOutput {
  /// `dfx canister status P` (0.25+ text, one `Key: value` per line, numbers with `_` and units).
  package static func dfxStatus(_ stdout: String, canister: Principal) throws(BackendError) -> CanisterState {
    let fields = self.fields(stdout)
    func value(_ key: String, unit: String) -> Int128? {
      guard let text = fields[key], text.hasSuffix(" " + unit) else { return nil }
      return number(String(text.dropLast(unit.count + 1)))
    }
    let what = "`dfx canister status`"
    guard let statusText = fields["Status"], let status = CanisterStatus(rawValue: statusText.lowercased()),
      let controllers = fields["Controllers"], let cycles = value("Balance", unit: "Cycles"),
      let memory = value("Memory Size", unit: "Bytes"), let freezing = value("Freezing threshold", unit: "Seconds"),
      let hash = fields["Module hash"]
    else { throw unexpected(what, stdout) }
    let info = try publicInfo(
      controllers: controllers.split(separator: " ").map(String.init), hash: hash == "None" ? nil : hash, what: what)
    return CanisterState(
      id: canister, status: status, cycles: cycles, moduleHash: info.moduleHash, controllers: info.controllers,
      memory: Int64(clamping: memory), freezingThreshold: Int64(clamping: freezing),
      reservedCycles: value("Reserved", unit: "Cycles") ?? 0,
      idleBurnPerDay: value("Idle cycles burned per day", unit: "Cycles") ?? 0,
      memoryAllocation: Int64(clamping: value("Memory allocation", unit: "Bytes") ?? 0),
      reservedCyclesLimit: value("Reserved cycles limit", unit: "Cycles") ?? 5_000_000_000_000,
      logVisibility: try dfxLogVisibility(fields["Log visibility"], stdout))
  }

  /// dfx's `Log visibility:` line: `controllers`, `public`, `allowed viewers: a, b` or `allowed
  /// viewers list is empty` (absent before 0.21: controllers).
  static func dfxLogVisibility(_ text: String?, _ stdout: String) throws(BackendError) -> LogVisibility {
    switch text {
    case nil, "controllers"?: return .controllers
    case "public"?: return .public
    case let t? where t.hasPrefix("allowed viewers"): return .allowedViewers
    case let t?: throw unexpected("`dfx canister status` (log visibility `\(t)`)", stdout)
    }
  }

  /// `dfx cycles balance --precise`: `1234 cycles.`
  package static func dfxCyclesBalance(_ stdout: String) throws(BackendError) -> Int128 {
    let line = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard line.hasSuffix(" cycles."), let n = number(String(line.dropLast(" cycles.".count))) else {
      throw unexpected("`dfx cycles balance --precise`", stdout)
    }
    return n
  }
}

extension ToolOutput {
  /// `icp canister status P --public --json`: `{"id":…,"controllers":[…],"module_hash":"0x…"|null}`.
  package static func icpPublic(_ stdout: String) throws(BackendError) -> PublicCanisterInfo {
    let what = "`icp canister status --public`"
    let object = try jsonObject(stdout, what)
    guard let controllers = object["controllers"] as? [String] else { throw unexpected(what, stdout) }
    return try publicInfo(controllers: controllers, hash: object["module_hash"] as? String, what: what)
  }

  /// `dfx canister info P`: `Controllers: a b` and `Module hash: 0x…|None`.
  package static func dfxInfo(_ stdout: String) throws(BackendError) -> PublicCanisterInfo {
    let fields = self.fields(stdout)
    guard let controllers = fields["Controllers"], let hash = fields["Module hash"] else {
      throw unexpected("`dfx canister info`", stdout)
    }
    return try publicInfo(
      controllers: controllers.split(separator: " ").map(String.init), hash: hash == "None" ? nil : hash,
      what: "`dfx canister info`")
  }

  /// The JSON object on the first line of stdout (icp prints one object per line).
  static func jsonObject(_ stdout: String, _ what: String) throws(BackendError) -> [String: Any] {
    guard let line = stdout.split(separator: "\n").first,
      let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    else { throw unexpected(what, stdout) }
    return object
  }

  /// `Key: value` lines (dfx's text reports), by key.
  static func fields(_ stdout: String) -> [String: String] {
    var fields: [String: String] = [:]
    for line in stdout.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return fields
  }

  /// Controller principals and a module hash (`0x…`), quoting the first value that is neither.
  static func publicInfo(controllers texts: [String], hash: String?, what: String) throws(BackendError)
    -> PublicCanisterInfo
  {
    var controllers: [Principal] = []
    for text in texts {
      guard let p = Principal(text: text) else { throw unexpected("\(what) (controllers)", text) }
      controllers.append(p)
    }
    var bytes: [UInt8]?
    if let hash {
      guard let b = ValueFormat.hashBytes(hash) else { throw unexpected("\(what) (module hash)", hash) }
      bytes = b
    }
    return PublicCanisterInfo(controllers: controllers, moduleHash: bytes)
  }
}

extension ToolOutput {
  /// `{"snapshot_id":"<hex>","taken_at_timestamp":<ns>,"total_size_bytes":<n>}` (icp `--json`).
  static func icpSnapshot(_ object: [String: Any], _ text: String) throws(BackendError) -> CanisterSnapshot {
    guard let id = object["snapshot_id"] as? String, id.allSatisfy(\.isHexDigit),
      let taken = (object["taken_at_timestamp"] as? NSNumber)?.uint64Value,
      let size = (object["total_size_bytes"] as? NSNumber)?.int64Value
    else { throw unexpected("`icp canister snapshot`", text) }
    return CanisterSnapshot(id: id, takenAt: taken, size: size)
  }

  /// `icp canister snapshot list --json`: `{"snapshots":[…]}`.
  static func icpSnapshots(_ stdout: String) throws(BackendError) -> [CanisterSnapshot] {
    let object = try jsonObject(stdout, "`icp canister snapshot list`")
    guard let list = object["snapshots"] as? [[String: Any]] else {
      throw unexpected("`icp canister snapshot list`", stdout)
    }
    var out: [CanisterSnapshot] = []
    for item in list { out.append(try icpSnapshot(item, stdout)) }
    return out
  }

  /// dfx: `Created a new snapshot of canister X. Snapshot ID: <hex>`.
  static func dfxSnapshotID(_ text: String) throws(BackendError) -> String {
    guard let m = text.firstMatch(of: /Snapshot ID: ([0-9a-f]+)/) else {
      throw unexpected("`dfx canister snapshot create`", text)
    }
    return String(m.1)
  }

  /// dfx: `<hex>: 1.50 MiB, taken at 2026-08-18 15:25:23 UTC` per snapshot, or
  /// `No snapshots found in canister X`. Sizes are rounded by dfx; they are read as printed.
  static func dfxSnapshots(_ text: String) throws(BackendError) -> [CanisterSnapshot] {
    var out: [CanisterSnapshot] = []
    let time = DateFormatter()
    time.locale = Locale(identifier: "en_US_POSIX")
    time.timeZone = TimeZone(identifier: "UTC")
    time.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    for line in text.split(separator: "\n").map(String.init) {
      guard let m = line.firstMatch(of: /^([0-9a-f]+): ([0-9.]+) (B|KiB|MiB|GiB|TiB), taken at (.+ UTC)$/) else {
        continue
      }
      let scale: Double =
        switch m.3 {
        case "KiB": 1024
        case "MiB": 1_048_576
        case "GiB": 1_073_741_824
        case "TiB": 1_099_511_627_776
        default: 1
        }
      guard let n = Double(m.2), n.isFinite, let date = time.date(from: String(m.4)) else {
        throw unexpected("`dfx canister snapshot list`", line)
      }
      let bytes = (n * scale).rounded()
      out.append(
        CanisterSnapshot(
          id: String(m.1), takenAt: nanoseconds(date),
          size: bytes < 9.2e18 ? Int64(bytes) : Int64.max))
    }
    if out.isEmpty, !text.contains("No snapshots found") { throw unexpected("`dfx canister snapshot list`", text) }
    return out
  }

  /// Canister logs: icp's JSON `{"log_records":[{"timestamp","index","content"}]}`, or the text
  /// lines both tools print, `[42. 2021-05-06T19:17:10.000000001Z]: message`.
  /// The most log text read (the IC keeps a few KiB of logs per canister; more is not a log).
  static let maxLogBytes = 4 << 20

  static func logs(_ stdout: String, tool: String) throws(BackendError) -> [CanisterLogRecord] {
    let what = "`\(tool) canister logs`"
    // Bounded before anything is parsed: a tool's output is input, and a million records would
    // take gigabytes as values.
    guard stdout.utf8.count <= maxLogBytes else {
      throw .environment(
        "\(what) printed \(ValueFormat.bytesText(Int64(stdout.utf8.count))) of logs; rbic reads at most \(maxLogBytes >> 20) MiB (the IC keeps a few KiB per canister)"
      )
    }
    let text = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    if text.isEmpty || text == "No logs" { return [] }
    if text.hasPrefix("{") {
      guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
        let records = object["log_records"] as? [[String: Any]]
      else { throw unexpected(what, text) }
      var out: [CanisterLogRecord] = []
      for r in records {
        guard let index = (r["index"] as? NSNumber)?.uint64Value, let time = (r["timestamp"] as? NSNumber)?.uint64Value,
          let content = r["content"] as? String
        else { throw unexpected(what, text) }
        out.append(CanisterLogRecord(index: index, timestamp: time, content: content))
      }
      return out
    }
    var out: [CanisterLogRecord] = []
    for line in stdout.split(separator: "\n").map(String.init) {
      guard let m = line.firstMatch(of: /^\[(\d+)\. (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z\]: (.*)$/),
        let index = UInt64(m.1), let seconds = rfc3339.date(from: String(m.2) + "Z")
      else {
        // A message with a newline continues on the next line.
        if !out.isEmpty {
          out[out.count - 1].content += "\n" + line
          continue
        }
        throw unexpected(what, line)
      }
      let digits = String((m.3 ?? ".").dropFirst())
      let nanos = UInt64((digits + String(repeating: "0", count: max(0, 9 - digits.count))).prefix(9)) ?? 0
      let (stamp, overflow) = nanoseconds(seconds).addingReportingOverflow(nanos)
      out.append(CanisterLogRecord(index: index, timestamp: overflow ? UInt64.max : stamp, content: String(m.4)))
    }
    return out
  }

  /// A time as nanoseconds since 1970, saturating (a tool may print any year up to 9999).
  static func nanoseconds(_ date: Date) -> UInt64 {
    let seconds = date.timeIntervalSince1970
    guard seconds > 0 else { return 0 }
    guard seconds < 18_000_000_000 else { return UInt64.max }
    return UInt64(seconds) * 1_000_000_000
  }

  /// `Balance: 1.23456780 ICP` / `Balance: 0 ICP` (icp), `87.49990000 ICP` (dfx), in e8s.
  static func icpBalance(_ stdout: String, tool: String) throws(BackendError) -> Int64 {
    var line = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("Balance: ") { line.removeFirst("Balance: ".count) }
    guard line.hasSuffix(" ICP"), let e8s = e8s(String(line.dropLast(4))) else {
      throw unexpected("`\(tool)` ICP balance", stdout)
    }
    return e8s
  }

  /// `1.23456780`, `0`, or the exponent form icp prints for dust (`1E-8`, `9.9E-7`: its decimal
  /// library switches to it past five zeros after the point), as e8s, exactly: the digits are
  /// shifted as text, never through a floating-point number. An amount finer than an e8 is nil.
  package static func e8s(_ text: String) -> Int64? {
    var mantissa = Substring(text)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "E" || $0 == "e" }) {
      mantissa = text[..<e]
      guard let x = Int(text[text.index(after: e)...]), (-40...40).contains(x) else { return nil }
      exponent = x
    }
    let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    let fraction = parts.count == 2 ? parts[1] : ""
    guard parts.count <= 2, !parts[0].isEmpty, (parts[0] + fraction).allSatisfy({ $0.isASCII && $0.isNumber })
    else { return nil }
    var digits = String(parts[0] + fraction)
    // The value is digits × 10^(exponent − fraction digits); e8s are that × 10^8.
    let shift = 8 + exponent - fraction.count
    if shift >= 0 {
      digits += String(repeating: "0", count: shift)
    } else {
      guard digits.suffix(-shift).allSatisfy({ $0 == "0" }) else { return nil }
      digits.removeLast(min(-shift, digits.count))
    }
    let significant = digits.drop { $0 == "0" }
    return significant.isEmpty ? 0 : Int64(significant)
  }

  /// The reject code of a mint the cycles minting canister refunded: a definite answer (no
  /// cycles were minted; the ICP came back less the ledger fee), not an unknown outcome.
  package static let refundCode = "CMC refund"

  /// The cycles minted: icp `Minted N cycles to your account, new balance: M cycles.`, dfx
  /// `Account was topped up with N cycles! New balance is M cycles.` dfx reports a refund on
  /// stdout with exit 0 (`Refunded at block height N with message: …`, or without the height).
  static func minted(_ stdout: String, tool: String) throws(BackendError) -> Int128 {
    if let refund = stdout.firstMatch(of: /(?m)^Refunded (at block height [0-9_]+ )?with message: (.*)$/) {
      throw .reject(
        code: refundCode,
        message:
          "the cycles minting canister refunded the ICP\(refund.1.map { " " + $0.dropLast() } ?? ""): \(refund.2); no cycles were minted, and the ICP came back less the ledger fee"
      )
    }
    let match =
      stdout.firstMatch(of: /Minted ([0-9_]+) cycles to your account/).map { String($0.1) }
      ?? stdout.firstMatch(of: /topped up with ([0-9_]+) cycles!/).map { String($0.1) }
    guard let match, let n = number(match) else {
      // The ICP may have moved; what the minting canister did is not known from this.
      throw .unknownOutcome("`\(tool)` printed `\(stdout.prefix(160))`, not the cycles minted")
    }
    return n
  }
}
