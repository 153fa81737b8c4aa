import Foundation
import RbicCandid
import RbicCheck
import RbicRuntime

/// Drives `icp` (icp-cli ≥ 1.0) or `dfx` (≥ 0.25) as a subprocess: one argv per operation,
/// canisters always as explicit principals with `--network` and `--identity`, data read from
/// stdout (stderr is chatter or an `Error:` chain), or from both streams where the dialect says a
/// result is printed on stderr, output parsed by `ToolOutput`. What differs between the two tools
/// is `ToolDialect`: the commands, the stream each result is on and its parser, the flags that
/// differ and per-tool behaviour; `Tool` holds only the oldest supported release (`minimum`) and
/// the release each feature arrived in (`gates`). Everything else (running, error mapping, the
/// identity cache, the module's temporary file) is shared. A mutation that times out or is
/// interrupted has an unknown outcome and is never retried here.
///
/// `@unchecked Sendable`: the identity cache and `lastStatus` are guarded by `lock`; `runner` is
/// written only by `begin`, before a run's first tool call, and read after.
public final class ToolBackend: Backend, @unchecked Sendable {
  public enum Tool: String, Sendable {
    case icp, dfx

    /// The oldest supported release: icp-cli 1.0; dfx 0.25 (status with units).
    var minimum: Version { self == .icp ? Version(1, 0, 0) : Version(0, 25, 0) }

    /// The release each feature arrived in; a feature not listed is in every supported release.
    /// The driver asks `supports`, never compares versions itself.
    var gates: [Feature: Version] {
      switch self {
      // icp 1.1.0: `canister delete` sends the remaining cycles to the caller (1.0 burns them);
      // `--root-key` takes `mainnet` and `fetch` (1.0: a hex key only).
      case .icp: [.deleteReturnsCycles: Version(1, 1, 0), .rootKeyWords: Version(1, 1, 0)]
      case .dfx: [:]
      }
    }
  }

  /// What arrived in some release of a tool (`Tool.gates`).
  enum Feature: Hashable {
    case deleteReturnsCycles, rootKeyWords
  }

  /// A release, `major.minor.patch` (a pre-release suffix is ignored).
  public struct Version: Comparable, Sendable, CustomStringConvertible {
    public var major, minor, patch: Int
    public init(_ major: Int, _ minor: Int, _ patch: Int) {
      (self.major, self.minor, self.patch) = (major, minor, patch)
    }
    /// `1.3.0`, `0.32.0-beta.1`; nil unless it starts with two numbers.
    public init?(_ text: String) {
      let parts = text.split(separator: "-").first.map { $0.split(separator: ".").map { Int($0) } } ?? []
      guard parts.count >= 2, let major = parts[0], let minor = parts[1] else { return nil }
      self.init(major, minor, parts.count > 2 ? parts[2] ?? 0 : 0)
    }
    public static func < (a: Version, b: Version) -> Bool {
      (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
    public var description: String { "\(major).\(minor).\(patch)" }
  }

  public let tool: Tool
  /// What this tool's commands are and how they print (the table the driver reads).
  let dialect: ToolDialect
  /// The release `verify` found; nil (a host that did not ask) is taken as the newest.
  public let version: Version?
  public var name: String { tool.rawValue }
  /// `icp 1.3.0`: the tool and the release `verify` found (the tool alone when none was asked).
  public var release: String? { version.map { "\(tool.rawValue) \($0)" } ?? tool.rawValue }
  public let identityName: String
  package let network: String
  /// For icp on a network given as a URL: `--root-key`.
  package let rootKey: String?
  package var runner: ToolRunner
  private let lock = NSLock()
  private var cachedPrincipal: Principal?
  /// The status each canister was last seen in through this backend, and when: a dfx upgrade
  /// uses it to decide whether to stop and restart the canister, without reading it again.
  private var lastStatus: [Principal: (status: CanisterStatus, at: Date)] = [:]
  /// Seconds a status this backend read or set is trusted for the stop/start around a dfx upgrade
  /// (the run's own cache lives in the effect pipeline; this saves the tool call the upgrade
  /// would otherwise make right after the ensure's read).
  static let statusReuse: TimeInterval = 60

  /// Refuses what the tool would refuse or get wrong, before any call: a URL network on icp
  /// without a root key, `local` on icp outside an icp project (icp has no `local` network
  /// there), an identity whose key is password-protected (the tools ask for the password on a
  /// terminal, and rbic runs them without one), and on dfx a plaintext identity on mainnet
  /// (`IdentityStorage`).
  public init(
    _ tool: Tool, runner: ToolRunner, network: String, identity: String, rootKey: String? = nil,
    projectDirectory: String? = nil, version: Version? = nil
  ) throws(BackendError) {
    self.tool = tool
    self.dialect = ToolDialect.of(tool)
    self.version = version
    var runner = runner
    if tool == .dfx {
      // The deprecation notice only; security warnings stay as the operator set them.
      runner.environment["DFX_WARNING"] = (runner.environment["DFX_WARNING"].map { $0 + "," } ?? "") + "-deprecation"
      // dfx before 0.31 colours its `Error:` chain whenever TERM names a terminal in terminfo,
      // piped or not, and panics (exit 101) printing any error when TERM names one without
      // colours (`dumb`); without TERM it prints plain text (the `term` crate's fallback).
      runner.environment["TERM"] = nil
    }
    if tool == .icp {
      // A network or environment from the environment conflicts with `--network`.
      runner.environment["ICP_NETWORK"] = nil
      runner.environment["ICP_ENVIRONMENT"] = nil
      if ProjectFiles.Network.isURL(network), rootKey == nil {
        throw .environment(
          "icp needs a root key for the network `\(network)` given as a URL: pass --root-key (`fetch` for a local or test network, `mainnet` for mainnet gateways)"
        )
      }
      if let key = rootKey, ["fetch", "mainnet"].contains(key), let version,
        let since = tool.gates[.rootKeyWords], version < since
      {
        throw .environment(
          "icp \(version) takes --root-key as a hex key only; `\(key)` arrived in icp \(since): pass the network's root key in hex, or upgrade icp"
        )
      }
      if network == "local", let dir = projectDirectory, !Self.hasIcpProject(above: dir) {
        throw .environment(
          "icp has no `local` network outside an icp project (no icp.yaml here or above); name the network with `use network` or --network, or run from the project"
        )
      }
    }
    switch tool == .icp
      ? IdentityStorage.icp(identity, environment: runner.environment)
      : IdentityStorage.dfx(identity, environment: runner.environment)
    {
    case .passwordProtected?:
      throw .environment(
        "identity `\(identity)` is password-protected in \(tool.rawValue)'s identity store: \(tool.rawValue) would ask for the password on a terminal, and rbic runs it without one (rbic does not pass passwords); use an identity kept in the OS keyring (`\(tool.rawValue) identity new NAME --storage\(tool == .icp ? "" : "-mode") keyring`) or a plaintext one for automation"
      )
    case .plaintext? where tool == .dfx:
      let net = ProjectFiles(directory: projectDirectory ?? FileManager.default.currentDirectoryPath).network(
        named: network)
      if IdentityStorage.dfxIsMainnet(net),
        !IdentityStorage.dfxWarningDisabled("mainnet_plaintext_identity", environment: runner.environment)
      {
        throw .environment(IdentityStorage.dfxPlaintextRefusal(identity))
      }
    default: break
    }
    ScratchFile.sweepOrphans()
    self.runner = runner
    self.network = network
    self.identityName = identity
    self.rootKey = rootKey
  }

  static func hasIcpProject(above directory: String) -> Bool {
    var dir = URL(fileURLWithPath: directory).standardizedFileURL
    while true {
      if FileManager.default.fileExists(atPath: dir.appendingPathComponent("icp.yaml").path) { return true }
      let parent = dir.deletingLastPathComponent()
      if parent.path == dir.path { return false }
      dir = parent
    }
  }

  /// The tool's default identity by name (`icp identity default`, `dfx identity whoami`), for a
  /// runbook that names none: rbic then names it on every command and in the run header.
  public static func defaultIdentity(_ tool: Tool, _ runner: ToolRunner) throws(BackendError) -> String {
    let out = try runner.run(try ToolDialect.of(tool).argv(.defaultIdentity))
    guard out.status == 0 else {
      throw .environment("`\(tool.rawValue)` did not name its default identity: `\(out.stdout.prefix(80))`")
    }
    return try ToolOutput.identityName(out.stdout, tool: tool.rawValue)
  }

  /// `TOOL --version`: a missing tool or one older than supported is an environment error before
  /// anything runs. Returns the release, for the feature gates.
  @discardableResult
  public static func verify(_ tool: Tool, _ runner: ToolRunner) throws(BackendError) -> Version {
    let out = try runner.run(["--version"])
    guard out.status == 0, let version = ToolOutput.version(out.stdout, tool: tool.rawValue) else {
      throw .environment("`\(tool.rawValue) --version` printed `\(out.stdout.prefix(80))`, not a version")
    }
    let minimum = tool.minimum
    guard version >= minimum else {
      let text = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(tool.rawValue.count + 1)
      throw .environment(
        "\(tool.rawValue) \(text) is older than the supported \(minimum.major).\(minimum.minor); upgrade it")
    }
    return version
  }

  /// Whether this tool's release has `feature` (`Tool.gates`).
  func supports(_ feature: Feature) -> Bool {
    guard let version, let since = tool.gates[feature] else { return true }
    return version >= since
  }

  public var deletedCycles: DeletedCycles {
    switch tool {
    case .icp:
      supports(.deleteReturnsCycles)
        ? .toIdentity
        : .burned(
          "icp \(version.map(String.init(describing:)) ?? "") deletes without withdrawing them (icp 1.1.0 sends them to the caller)"
        )
    case .dfx: .toWalletOrIdentity
    }
  }

  private var common: [String] {
    var flags = ["--network", network]
    if let flag = dialect.rootKeyFlag, ProjectFiles.Network.isURL(network) { flags += [flag, rootKey ?? "fetch"] }
    return flags + ["--identity", identityName]
  }

  /// Runs `operation` on `canister` (or none) with its words filled: the tool's output.
  private func run(
    _ operation: ToolDialect.Operation, _ fill: [String: String] = [:], extra: [String] = [],
    canister: Principal? = nil, mutating: Bool = false
  ) throws(BackendError) -> String {
    var fill = fill
    if let canister, fill["ID"] == nil { fill["ID"] = canister.text }
    let out = try output(try dialect.argv(operation, fill) + extra + common, canister: canister, mutating: mutating)
    switch dialect.stream(operation) {
    case .stdout: return out.stdout
    case .both: return out.stderr + "\n" + out.stdout
    }
  }

  /// Runs one command. For a mutation, a tool that died on a signal, crashed (exit 101) or failed
  /// without a word may have acted first: its outcome is unknown, never a plain failure. A failure
  /// the tool explained (an `Error:` chain with a reject code) is definite.
  private func call(_ arguments: [String], canister: Principal?, mutating: Bool = false) throws(BackendError)
    -> String
  {
    try output(arguments, canister: canister, mutating: mutating).stdout
  }

  /// `call`, with both streams (dfx prints some results on stderr).
  private func output(_ arguments: [String], canister: Principal?, mutating: Bool = false) throws(BackendError)
    -> ToolRunner.Output
  {
    let out = try runner.run(arguments)
    guard out.status == 0 else {
      let failure = ToolOutput.failure(out, tool: tool.rawValue, canister: canister, identity: identityName)
      if mutating, out.signaled || out.status == 101 || out.stderr.allSatisfy(\.isWhitespace) {
        throw .unknownOutcome("`\(tool.rawValue)` ended with status \(out.status) during the call: \(failure)")
      }
      throw failure
    }
    return out
  }

  public func predictor() -> Backend { SimulatedIC.predicting(from: self) }

  /// `@unchecked Sendable` covers this write: a run calls `begin` before its first tool call.
  public func begin(_ session: BackendSession) {
    runner.cancellation = session.cancellation
    runner.journal = session.record
  }

  public func identityPrincipal() throws(BackendError) -> Principal {
    if let p = lock.withLock({ cachedPrincipal }) { return p }
    let p = try ToolOutput.principal(
      try call(try dialect.argv(.principal) + ["--identity", identityName], canister: nil), tool: tool.rawValue)
    lock.withLock { cachedPrincipal = p }
    return p
  }

  public func status(_ canister: Principal) throws(BackendError) -> CanisterState {
    remember(try dialect.parseStatus(try run(.status, canister: canister), canister, identityName))
  }

  public func publicInfo(_ canister: Principal) throws(BackendError) -> PublicCanisterInfo {
    try dialect.parsePublic(try run(.publicInfo, canister: canister))
  }

  public func cyclesBalance() throws(BackendError) -> Int128 {
    try dialect.parseCyclesBalance(try run(.cyclesBalance))
  }

  public func install(_ canister: Principal, wasm: [UInt8], mode: InstallMode, argument: String?) throws(BackendError) {
    let path = try ScratchFile.write(wasm, suffix: ".wasm")
    defer { unlink(path) }
    let fill = ["F": path, "M": mode.rawValue]
    // The argument goes in a file, as for calls (icp `--args-file`, dfx `--argument-file`).
    let argumentFile = try argument.map { (text) throws(BackendError) in
      try ScratchFile.write(Array(text.utf8), suffix: ".did")
    }
    defer { if let argumentFile { unlink(argumentFile) } }
    var extra = argumentFile.map { [dialect.argumentFile, $0] } ?? []
    guard !dialect.stopsAroundUpgrade, mode != .install else {
      // icp stops a running canister around an upgrade or reinstall and restarts it afterwards,
      // even when the install failed; it keeps a Motoko heap (enhanced orthogonal persistence)
      // by reading the installed canister's metadata.
      _ = try run(.install, fill, extra: extra, canister: canister, mutating: true)
      return
    }
    // dfx does neither: rbic does both, so the two backends behave the same.
    if mode == .upgrade, (try? ModuleMetadata.sections(wasm))?["enhanced-orthogonal-persistence"] != nil {
      extra += dialect.persistentHeapFlag
    }
    let recent = lock.withLock { lastStatus[canister] }.flatMap {
      $0.at.timeIntervalSinceNow > -Self.statusReuse ? $0.status : nil
    }
    let current: CanisterStatus
    if let recent { current = recent } else { current = try status(canister).status }
    let running = current == .running
    if running {
      do { try stop(canister) } catch .unknownOutcome(let why) {
        // The stop may have happened: it did if the canister now says so.
        guard try status(canister).status == .stopped else { throw .unknownOutcome(why) }
      }
    }
    let installed: Result<Void, BackendError>
    do {
      _ = try run(.install, fill, extra: extra, canister: canister, mutating: true)
      installed = .success(())
    } catch { installed = .failure(error) }
    if running { try start(canister) }
    try installed.get()
  }

  public func updateControllers(_ canister: Principal, add: [Principal], remove: [Principal]) throws(BackendError) {
    var extra: [String] = []
    for p in add { extra += ["--add-controller", p.text] }
    for p in remove { extra += ["--remove-controller", p.text] }
    // icp asks before removing yourself unless forced; rbic has already refused that case.
    _ = try run(.settings, extra: extra + dialect.controllersForced, canister: canister, mutating: true)
  }

  public func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError) {
    let argument = CandidValue.print(
      arguments: [
        .record([
          CandidValueField(.named("canister"), .principal(canister.text)),
          CandidValueField(.named("amount"), .integer(amount, .nat64)),
        ])
      ], width: .max)
    let reply = try canisterCall(wallet, "wallet_send", argument)
    // A reply that does not say whether the cycles moved is an environment error, which the
    // effect pipeline takes as an unknown outcome (it proves nothing), as for every mutation.
    try ToolOutput.walletSendReply(reply)
  }

  public func topUp(_ canister: Principal, amount: Int128) throws(BackendError) {
    _ = try run(.topUp, ["N": String(amount)], canister: canister, mutating: true)
  }

  private func remember(_ state: CanisterState) -> CanisterState {
    lock.withLock { lastStatus[state.id] = (state.status, Date()) }
    return state
  }

  public func start(_ canister: Principal) throws(BackendError) {
    lock.withLock { lastStatus[canister] = nil }
    _ = try run(.start, canister: canister, mutating: true)
    lock.withLock { lastStatus[canister] = (.running, Date()) }
  }

  public func stop(_ canister: Principal) throws(BackendError) {
    lock.withLock { lastStatus[canister] = nil }
    _ = try run(.stop, canister: canister, mutating: true)
    lock.withLock { lastStatus[canister] = (.stopped, Date()) }
  }

  public func call(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    try canisterCall(canister, method, argument)
  }

  /// Through a wallet, with cycles: dfx's cycles wallet (`--wallet W --with-cycles N`: dfx calls
  /// the wallet's `wallet_call128`), or icp's proxy canister (`--proxy W --cycles N`: icp calls its
  /// `proxy` method). Either forwards the call with the cycles from its own balance.
  public func call(_ canister: Principal, method: String, argument: String, cycles: Int128, wallet: Principal)
    throws(BackendError) -> String
  {
    try canisterCall(canister, method, argument, .callWithCycles, ["W": wallet.text, "N": String(cycles)])
  }

  /// `canister call ID METHOD --args-file F` (icp) or `--argument-file F` (dfx), `--query` for a
  /// query, through a wallet with cycles for `.callWithCycles`: the reply on stdout. A query
  /// changes nothing, so its failure is never an unknown outcome.
  private func canisterCall(
    _ canister: Principal, _ method: String, _ argument: String, _ operation: ToolDialect.Operation = .call,
    _ fill: [String: String] = [:], query: Bool = false
  ) throws(BackendError) -> String {
    try withArgumentFile(argument) { (file) throws(BackendError) in
      try run(
        operation, fill.merging(["METHOD": method, "F": file]) { a, _ in a }, extra: query ? ["--query"] : [],
        canister: canister, mutating: !query)
    }.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  public func query(_ canister: Principal, method: String, argument: String) throws(BackendError) -> String {
    try canisterCall(canister, method, argument, query: true)
  }

  /// `canister metadata ID NAME`: the section's text, or nil when the module has none
  /// (`ToolOutput.metadata`).
  public func metadata(_ canister: Principal, name: String) throws(BackendError) -> String? {
    try ToolOutput.metadata(
      try runner.run(try dialect.argv(.metadata, ["ID": canister.text, "NAME": name]) + common), tool: tool.rawValue,
      addsNewline: dialect.metadataAddsNewline)
  }

  /// Candid arguments go in a file readable only by this user, never on the command line (where
  /// any process could read them), and the file is removed after the call (`ScratchFile`).
  private func withArgumentFile<T>(_ candid: String, _ body: (String) throws(BackendError) -> T) throws(BackendError)
    -> T
  {
    let path = try ScratchFile.write(Array(candid.utf8), suffix: ".did")
    defer { unlink(path) }
    return try body(path)
  }

  // MARK: - Lifecycle

  public func createCanister(cycles: Int128, controllers: [Principal]) throws(BackendError) -> Principal {
    // `--controller` replaces the controller list; none leaves the identity in control.
    var extra: [String] = []
    for p in controllers { extra += ["--controller", p.text] }
    let out = try run(.create, ["N": String(cycles)], extra: extra, mutating: true)
    guard let id = ToolOutput.createdCanister(out) else {
      // The canister exists, but its id is lost: the outcome is unknown to everyone after.
      throw .unknownOutcome("`icp canister create` printed `\(out.prefix(120))`, not the new canister's id")
    }
    return id
  }

  public func deleteCanister(_ canister: Principal) throws(BackendError) {
    // Where the cycles go is `deletedCycles`: icp 1.1+ sends them to the identity's cycles
    // ledger (1.0 burns them); dfx withdraws them to the identity's cycles wallet when one is
    // configured for the network, else to its cycles ledger (it needs a dfx.json, and asks about a
    // running canister unless `-y`).
    _ = try run(.delete, canister: canister, mutating: true)
  }

  public func updateSettings(_ canister: Principal, _ settings: CanisterSettings) throws(BackendError) {
    var extra: [String] = []
    if let t = settings.freezingThreshold {
      extra += ["--freezing-threshold", String(t)]
      // dfx refuses these without its confirmation flags; rbic asked the operator already
      // (an extreme threshold is always confirmed).
      if let flags = dialect.extremeThreshold {
        if t > CanisterSettings.longFreezingThreshold { extra.append(flags.long) }
        if t < CanisterSettings.shortFreezingThreshold { extra.append(flags.short) }
      }
    }
    if let m = settings.memoryAllocation { extra += ["--memory-allocation", String(m)] }
    if let l = settings.reservedCyclesLimit { extra += ["--reserved-cycles-limit", String(l)] }
    if let v = settings.logVisibility { extra += ["--log-visibility", v.rawValue] }
    _ = try run(.settings, extra: extra, canister: canister, mutating: true)
  }

  public func takeSnapshot(_ canister: Principal, replacing: String?) throws(BackendError) -> CanisterSnapshot {
    let replace = replacing.map { ["--replace", $0] } ?? []
    let out = try run(.snapshotCreate, extra: replace, canister: canister, mutating: true)
    switch try dialect.parseSnapshotCreated(out) {
    case .snapshot(let taken): return taken
    case .id(let id):
      // dfx says so on stderr (`info!`); its time and size come from the list.
      guard let taken = try snapshots(canister).first(where: { $0.id == id }) else {
        throw .environment("\(tool.rawValue) reported snapshot \(id) of \(canister.text) but does not list it")
      }
      return taken
    }
  }

  public func snapshots(_ canister: Principal) throws(BackendError) -> [CanisterSnapshot] {
    // dfx 0.32 prints the list on stdout, 0.25–0.31 on stderr; `No snapshots found` is on stderr.
    try dialect.parseSnapshots(try run(.snapshots, canister: canister))
  }

  public func restoreSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    _ = try run(.snapshotRestore, ["SNAP": id], canister: canister, mutating: true)
  }

  public func deleteSnapshot(_ canister: Principal, id: String) throws(BackendError) {
    _ = try run(.snapshotDelete, ["SNAP": id], canister: canister, mutating: true)
  }

  public func logs(_ canister: Principal) throws(BackendError) -> [CanisterLogRecord] {
    // icp 1.0–1.3 print JSON by default and lines with --json; the release after 1.3.0 swaps
    // them back. Without the flag, the output says which it is.
    try ToolOutput.logs(try run(.logs, canister: canister), tool: tool.rawValue)
  }

  public func icpBalance() throws(BackendError) -> Int64 {
    try ToolOutput.icpBalance(try run(.icpBalance), tool: tool.rawValue)
  }

  public func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128 {
    try ToolOutput.minted(
      try run(.mint, ["AMOUNT": ValueFormat.icpDecimal(e8s)], mutating: true), tool: tool.rawValue)
  }
}
