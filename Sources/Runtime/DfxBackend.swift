import Foundation

/// Drives `dfx` (0.25 or later: the `canister status` format with units) as a subprocess, like
/// `IcpBackend`: explicit principals, `--network` and `--identity` on every call, stdout parsed,
/// stderr's `Error:`/`Caused by:` chain (exit 255) mapped to typed errors. The deprecation notice
/// is switched off (`DFX_WARNING=-deprecation`); security warnings are left as the operator set them.
public final class DfxBackend: Backend, @unchecked Sendable {
  public let name = "dfx"
  public let identityName: String
  public let network: String
  public var runner: ToolRunner
  private let lock = NSLock()
  private var cachedPrincipal: Principal?

  public init(runner: ToolRunner, network: String, identity: String) {
    var runner = runner
    let existing = runner.environment["DFX_WARNING"].map { $0 + "," } ?? ""
    runner.environment["DFX_WARNING"] = existing + "-deprecation"
    self.runner = runner
    self.network = network
    self.identityName = identity
  }

  /// `dfx --version`: missing or older than 0.25 is an environment error before anything runs.
  public static func verify(_ runner: ToolRunner) throws(BackendError) {
    let out = try runner.run(["--version"])
    let words = out.stdout.split(separator: " ")
    let parts = (words.last ?? "").trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").compactMap {
      Int($0)
    }
    guard out.status == 0, words.first == "dfx", parts.count >= 2 else {
      throw .environment("`dfx --version` printed `\(out.stdout.prefix(80))`, not a version")
    }
    guard parts[0] > 0 || parts[1] >= 25 else {
      throw .environment(
        "dfx \(parts.map(String.init).joined(separator: ".")) is older than the supported 0.25; upgrade dfx")
    }
  }

  private var common: [String] { ["--network", network, "--identity", identityName] }

  private func call(_ arguments: [String], canister: Principal?) throws(BackendError) -> ToolRunner.Output {
    let out = try runner.run(arguments)
    guard out.status == 0 else {
      throw ToolOutput.failure(out, tool: "dfx", canister: canister, identity: identityName)
    }
    return out
  }

  public func identityPrincipal() throws(BackendError) -> Principal {
    if let p = lock.withLock({ cachedPrincipal }) { return p }
    let out = try call(["identity", "get-principal", "--identity", identityName], canister: nil)
    let p = try ToolOutput.principal(out.stdout, tool: "dfx")
    lock.withLock { cachedPrincipal = p }
    return p
  }

  public func status(_ canister: Principal) throws(BackendError) -> CanisterState {
    try ToolOutput.dfxStatus(
      try call(["canister", "status", canister.text] + common, canister: canister).stdout, canister: canister)
  }

  public func publicInfo(_ canister: Principal) throws(BackendError) -> PublicCanisterInfo {
    try ToolOutput.dfxInfo(
      try call(["canister", "info", canister.text, "--network", network], canister: canister).stdout)
  }

  public func cyclesBalance() throws(BackendError) -> Int128 {
    try ToolOutput.dfxCyclesBalance(try call(["cycles", "balance", "--precise"] + common, canister: nil).stdout)
  }

  public func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode) throws(BackendError) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("rbic-module-\(UUID().uuidString).wasm")
      .path
    guard FileManager.default.createFile(atPath: path, contents: Data(wasm)) else {
      throw .environment("cannot write the module to a temporary file")
    }
    defer { try? FileManager.default.removeItem(atPath: path) }
    _ = try call(
      ["canister", "install", canister.text, "--wasm", path, "--mode", mode.rawValue, "--yes"] + common,
      canister: canister)
  }

  public func updateControllers(_ canister: Principal, add: [Principal], remove: [Principal]) throws(BackendError) {
    var arguments = ["canister", "update-settings", canister.text]
    for p in add { arguments += ["--add-controller", p.text] }
    for p in remove { arguments += ["--remove-controller", p.text] }
    _ = try call(arguments + common, canister: canister)
  }

  public func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError) {
    let argument = "(record { canister = principal \"\(canister.text)\"; amount = \(amount) : nat64 })"
    try ToolOutput.walletSendReply(
      try call(["canister", "call", wallet.text, "wallet_send", argument] + common, canister: wallet).stdout)
  }

  public func topUp(_ canister: Principal, amount: Int128) throws(BackendError) {
    _ = try call(["cycles", "top-up", canister.text, String(amount)] + common, canister: canister)
  }

  public func start(_ canister: Principal) throws(BackendError) {
    _ = try call(["canister", "start", canister.text] + common, canister: canister)
  }

  public func stop(_ canister: Principal) throws(BackendError) {
    _ = try call(["canister", "stop", canister.text] + common, canister: canister)
  }

  public func call(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    try call(["canister", "call", canister.text, method, argument] + common, canister: canister).stdout
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
