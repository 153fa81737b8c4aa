import Foundation

/// Drives the `icp` command-line tool (icp-cli ≥ 1.0) as a subprocess: one argv per operation,
/// canisters always as explicit principals with `--network` and `--identity`, data read from
/// stdout only (stderr is chatter or an `Error:` chain), output parsed by `ToolOutput`.
/// A mutation that times out or is interrupted has an unknown outcome and is never retried here.
public final class IcpBackend: Backend, @unchecked Sendable {
  public let name = "icp"
  public let identityName: String
  public let network: String
  public var runner: ToolRunner
  private let lock = NSLock()
  private var cachedPrincipal: Principal?

  public init(runner: ToolRunner, network: String, identity: String) {
    self.runner = runner
    self.network = network
    self.identityName = identity
  }

  /// `icp --version`: a missing tool or one older than 1.0 is an environment error before anything runs.
  public static func verify(_ runner: ToolRunner) throws(BackendError) {
    let out = try runner.run(["--version"])
    let words = out.stdout.split(separator: " ")
    guard out.status == 0, words.first == "icp",
      let version = words.last?.trimmingCharacters(in: .whitespacesAndNewlines),
      let major = Int(version.split(separator: ".").first ?? "")
    else { throw .environment("`icp --version` printed `\(out.stdout.prefix(80))`, not a version") }
    guard major >= 1 else { throw .environment("icp \(version) is older than the supported 1.0; upgrade icp-cli") }
  }

  private var common: [String] { ["--network", network, "--identity", identityName] }

  private func call(_ arguments: [String], canister: Principal?) throws(BackendError) -> ToolRunner.Output {
    let out = try runner.run(arguments)
    guard out.status == 0 else {
      throw ToolOutput.failure(out, tool: "icp", canister: canister, identity: identityName)
    }
    return out
  }

  public func identityPrincipal() throws(BackendError) -> Principal {
    if let p = lock.withLock({ cachedPrincipal }) { return p }
    let out = try call(["identity", "principal", "--identity", identityName], canister: nil)
    let p = try ToolOutput.principal(out.stdout, tool: "icp")
    lock.withLock { cachedPrincipal = p }
    return p
  }

  public func status(_ canister: Principal) throws(BackendError) -> CanisterState {
    let out = try call(["canister", "status", canister.text, "--json"] + common, canister: canister)
    return try ToolOutput.icpStatus(out.stdout, canister: canister, identity: identityName)
  }

  public func publicInfo(_ canister: Principal) throws(BackendError) -> PublicCanisterInfo {
    try ToolOutput.icpPublic(
      try call(["canister", "status", canister.text, "--public", "--json"] + common, canister: canister).stdout)
  }

  public func cyclesBalance() throws(BackendError) -> Int128 {
    try ToolOutput.cyclesBalance(try call(["cycles", "balance"] + common, canister: nil).stdout)
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
    var arguments = ["canister", "settings", "update", canister.text]
    for p in add { arguments += ["--add-controller", p.text] }
    for p in remove { arguments += ["--remove-controller", p.text] }
    _ = try call(arguments + ["--force"] + common, canister: canister)
  }

  public func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError) {
    let argument = "(record { canister = principal \"\(canister.text)\"; amount = \(amount) : nat64 })"
    let out = try call(["canister", "call", wallet.text, "wallet_send", argument] + common, canister: wallet)
    try ToolOutput.walletSendReply(out.stdout)
  }

  public func topUp(_ canister: Principal, amount: Int128) throws(BackendError) {
    _ = try call(["canister", "top-up", "--amount", String(amount), canister.text] + common, canister: canister)
  }

  public func start(_ canister: Principal) throws(BackendError) {
    _ = try call(["canister", "start", canister.text] + common, canister: canister)
  }

  public func stop(_ canister: Principal) throws(BackendError) {
    _ = try call(["canister", "stop", canister.text] + common, canister: canister)
  }

  public func call(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    let out = try call(["canister", "call", canister.text, method, argument] + common, canister: canister)
    return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
