import Foundation
import RbicRuntime

/// Parsers for what `icp` and `dfx` print (see `reference/icp-cli.md`, `reference/dfx-cli.md`):
/// `_` digit grouping, `<none>`/`None`/`null` module hashes, `Error:`/`Caused by:` chains and
/// reject codes. Output that matches no known shape is an environment error quoting it, never a
/// guess.
package enum ToolOutput {
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

  /// `icp canister status P --json` (controller view). The package view (no `status`, no
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
    return CanisterState(
      id: canister, status: status, cycles: cycles, moduleHash: info.moduleHash, controllers: info.controllers,
      memory: Int64(clamping: memory), freezingThreshold: Int64(clamping: freezing))
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
      // Colour (CSI) and title (OSC) sequences are not part of any message.
      let text = stderr.replacingOccurrences(
        of: "\u{1B}(\\[[0-9;?]*[A-Za-z]|\\][^\u{7}\u{1B}]*(\u{7}|\u{1B}\\\\))", with: "", options: .regularExpression)
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
          if raw.hasPrefix("    ") || raw.hasPrefix("\t") { chain.append(cause) } else { chain[chain.count - 1] += " " + cause }
        }
      }
      let joined = chain.joined(separator: "\n")
      if let m = joined.firstMatch(of: /error code Some\("(IC\d{4})"\)/) { rejectCode = String(m.1) }
    }

    /// The message a person reads: the chain, one cause after another.
    package var message: String { chain.joined(separator: ": ") }

    /// Whether a message of the chain starts with one of these (never a search of the whole text).
    func starts(with prefixes: [String]) -> Bool {
      chain.contains { m in prefixes.contains { m.hasPrefix($0) } }
    }
  }

  /// The messages that mean a ledger or wallet had too little: `icp canister top-up`,
  /// `icp cycles mint`, `icp canister create`, and dfx's diagnosis for a create.
  static let insufficientFunds = [
    "failed to top up: Insufficient cycles", "Insufficient funds:", "failed to create canister: Insufficient cycles",
    "Insufficient cycles balance", "Insufficient cycles.",
  ]

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
      return .environment("`\(tool)` rejected its arguments: \(usage.prefix(200))")
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
      if f.chain.contains(where: { $0 == "Canister \(c.text) was not found." || $0.hasPrefix("Canister \(c.text) not found") }) {
        return .notFound(c)
      }
    case (nil, nil): break
    }
    if f.starts(with: insufficientFunds) { return .insufficientFunds(f.message) }
    return .environment("`\(tool)` failed (exit \(output.status)): \(f.message.prefix(400))")
  }

  /// A `wallet_send` reply: `(variant { 17_724 })` is Ok; `(variant { 3_456_837 = "…" })` is Err.
  package static func walletSendReply(_ stdout: String) throws(BackendError) {
    let reply = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    if reply.contains("17_724") { return }
    if reply.contains("3_456_837") {
      let text = reply.components(separatedBy: "\"").dropFirst().first ?? reply
      throw text.lowercased().contains("insufficient") || text.lowercased().contains("balance")
        ? .insufficientFunds("wallet_send: \(text)") : .reject(code: "wallet", message: text)
    }
    throw unexpected("`wallet_send`", stdout)
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
      memory: Int64(clamping: memory), freezingThreshold: Int64(clamping: freezing))
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
