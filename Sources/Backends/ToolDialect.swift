import RbicCheck
import RbicRuntime

/// What differs between `icp` and `dfx`, as data: one table per tool. For each
/// operation it holds the command (the words after the tool's name; upper-case words are filled
/// by the driver), the stream its result is printed on and the parser that reads it, the flags
/// that differ, and what a tool lacks. `ToolBackend` reads the table and never spells a command
/// itself; `docs/operations.md`'s tables are generated from it (`ToolDialect.reference`), and a
/// test compares them.
///
/// The release a feature arrived in is `ToolBackend.Tool.gates`; what a tool prints before it
/// sends anything is `ToolOutput`'s pre-submission table.
struct ToolDialect: Sendable {
  enum Operation: String, CaseIterable, Sendable {
    case defaultIdentity, principal, status, publicInfo, cyclesBalance, icpBalance, snapshots, logs, metadata
    case install, settings, start, stop, walletSend, topUp, create, delete
    case snapshotCreate, snapshotRestore, snapshotDelete, mint, call, callWithCycles
  }

  /// Where a command prints its result.
  enum Stream: Sendable {
    case stdout
    /// Both, read together: dfx prints some results on stderr (the snapshot list before 0.32).
    case both
  }

  struct Command: Sendable {
    var words: [String]
    var stream: Stream = .stdout
    /// Shown in the operations reference, after the command.
    var note: String?
  }

  let tool: ToolBackend.Tool
  let commands: [Operation: Command]
  /// Why the tool cannot do an operation (dfx cannot create a canister outside a project).
  let unavailable: [Operation: String]
  /// How a Candid argument file is passed (`--args-file`, `--argument-file`).
  let argumentFile: String
  /// Flags after a settings command that forces what rbic has already decided (icp asks before a
  /// controller removes itself; rbic has refused that case already).
  let controllersForced: [String]
  /// The root key flag a network given as a URL needs (icp only).
  let rootKeyFlag: String?
  /// The tool stops a running canister around an upgrade or reinstall and starts it again (icp);
  /// otherwise rbic does, so the two leave a canister the same.
  let stopsAroundUpgrade: Bool
  /// The tool keeps a Motoko heap (enhanced orthogonal persistence) by itself (icp reads the
  /// installed canister's metadata); otherwise rbic passes this flag for a module that has one.
  let persistentHeapFlag: [String]
  /// The flags that confirm a freezing threshold the tool finds extreme (dfx): over the long
  /// limit, and under the short one. rbic has asked the operator about it already.
  let extremeThreshold: (long: String, short: String)?
  /// The tool adds a newline to a metadata section it prints (icp), which is dropped.
  let metadataAddsNewline: Bool

  // The parsers, by operation.
  let parseStatus: @Sendable (String, Principal, String) throws(BackendError) -> CanisterState
  let parsePublic: @Sendable (String) throws(BackendError) -> PublicCanisterInfo
  let parseCyclesBalance: @Sendable (String) throws(BackendError) -> Int128
  let parseSnapshots: @Sendable (String) throws(BackendError) -> [CanisterSnapshot]
  /// A new snapshot: in full (icp's JSON), or its id only (dfx), to be found in the list.
  let parseSnapshotCreated: @Sendable (String) throws(BackendError) -> SnapshotCreated

  enum SnapshotCreated {
    case snapshot(CanisterSnapshot)
    case id(String)
  }

  static func of(_ tool: ToolBackend.Tool) -> ToolDialect { tool == .icp ? icp : dfx }

  static let icp = ToolDialect(
    tool: .icp,
    commands: [
      .defaultIdentity: Command(words: ["identity", "default"]),
      .principal: Command(words: ["identity", "principal"]),
      .status: Command(words: ["canister", "status", "ID", "--json"]),
      .publicInfo: Command(words: ["canister", "status", "ID", "--public", "--json"]),
      .cyclesBalance: Command(words: ["cycles", "balance"]),
      .icpBalance: Command(
        words: ["token", "balance"], note: "dust in exponent form, `1E-8 ICP`, read exactly"),
      .snapshots: Command(words: ["canister", "snapshot", "list", "ID", "--json"]),
      .logs: Command(
        words: ["canister", "logs", "ID"], note: "JSON by default in icp 1.0–1.3, lines after 1.3.0; both read"),
      .metadata: Command(words: ["canister", "metadata", "ID", "NAME"], note: "a newline icp adds is dropped"),
      .install: Command(words: ["canister", "install", "ID", "--wasm", "F", "--mode", "M", "--yes"]),
      .settings: Command(words: ["canister", "settings", "update", "ID"]),
      .start: Command(words: ["canister", "start", "ID"]),
      .stop: Command(words: ["canister", "stop", "ID"]),
      .walletSend: Command(words: ["canister", "call", "W", "wallet_send", "--args-file", "F"]),
      .topUp: Command(words: ["canister", "top-up", "--amount", "N", "ID"]),
      .create: Command(words: ["canister", "create", "--detached", "--cycles", "N", "--quiet"]),
      .delete: Command(words: ["canister", "delete", "ID"]),
      .snapshotCreate: Command(words: ["canister", "snapshot", "create", "ID", "--json"]),
      .snapshotRestore: Command(words: ["canister", "snapshot", "restore", "ID", "SNAP"]),
      .snapshotDelete: Command(words: ["canister", "snapshot", "delete", "ID", "SNAP"]),
      .mint: Command(words: ["cycles", "mint", "--icp", "AMOUNT"], note: "AMOUNT with eight decimals, `1.00000000`"),
      .call: Command(words: ["canister", "call", "ID", "METHOD", "--args-file", "F"]),
      .callWithCycles: Command(
        words: ["canister", "call", "ID", "METHOD", "--args-file", "F", "--proxy", "W", "--cycles", "N"],
        note: "W is an icp proxy canister"),
    ],
    unavailable: [:], argumentFile: "--args-file", controllersForced: ["--force"], rootKeyFlag: "--root-key",
    stopsAroundUpgrade: true, persistentHeapFlag: [], extremeThreshold: nil, metadataAddsNewline: true,
    parseStatus: { (out, canister, identity) throws(BackendError) in
      try ToolOutput.icpStatus(out, canister: canister, identity: identity)
    },
    parsePublic: { (out) throws(BackendError) in try ToolOutput.icpPublic(out) },
    parseCyclesBalance: { (out) throws(BackendError) in try ToolOutput.cyclesBalance(out) },
    parseSnapshots: { (out) throws(BackendError) in try ToolOutput.icpSnapshots(out) },
    parseSnapshotCreated: { (out) throws(BackendError) in
      .snapshot(try ToolOutput.icpSnapshot(try ToolOutput.jsonObject(out, "`icp canister snapshot create`"), out))
    })

  static let dfx = ToolDialect(
    tool: .dfx,
    commands: [
      .defaultIdentity: Command(words: ["identity", "whoami"]),
      .principal: Command(words: ["identity", "get-principal"]),
      .status: Command(words: ["canister", "status", "ID"]),
      .publicInfo: Command(words: ["canister", "info", "ID"]),
      .cyclesBalance: Command(words: ["cycles", "balance", "--precise"]),
      .icpBalance: Command(words: ["ledger", "balance"]),
      .snapshots: Command(
        words: ["canister", "snapshot", "list", "ID"], stream: .both,
        note: "stdout in 0.32, stderr in 0.25–0.31; both read"),
      .logs: Command(words: ["canister", "logs", "ID"]),
      .metadata: Command(
        words: ["canister", "metadata", "ID", "NAME"], note: "the section's bytes as they are"),
      .install: Command(
        words: ["canister", "install", "ID", "--wasm", "F", "--mode", "M", "--yes"],
        note: "stopped and started around an upgrade by rbic, as icp does itself"),
      .settings: Command(words: ["canister", "update-settings", "ID"]),
      .start: Command(words: ["canister", "start", "ID"]),
      .stop: Command(words: ["canister", "stop", "ID"]),
      .walletSend: Command(words: ["canister", "call", "W", "wallet_send", "--argument-file", "F"]),
      .topUp: Command(words: ["cycles", "top-up", "ID", "N"]),
      .delete: Command(words: ["canister", "delete", "ID", "--yes"], note: "inside a dfx project"),
      .snapshotCreate: Command(
        words: ["canister", "snapshot", "create", "ID"], stream: .both,
        note: "the id on stdout in 0.32, stderr in 0.25–0.31; its time and size from the list"),
      .snapshotRestore: Command(words: ["canister", "snapshot", "load", "ID", "SNAP"]),
      .snapshotDelete: Command(words: ["canister", "snapshot", "delete", "ID", "SNAP"]),
      .mint: Command(
        words: ["cycles", "convert", "--amount", "AMOUNT"], note: "AMOUNT with eight decimals, `1.00000000`"),
      .call: Command(words: ["canister", "call", "ID", "METHOD", "--argument-file", "F"]),
      .callWithCycles: Command(
        words: ["canister", "call", "ID", "METHOD", "--argument-file", "F", "--wallet", "W", "--with-cycles", "N"],
        note: "W is a cycles wallet"),
    ],
    unavailable: [
      .create:
        "dfx cannot create a canister outside a dfx project: `dfx canister create` needs dfx.json and a canister name, and `dfx ledger create-canister` spends ICP, not cycles; use --backend icp (or auto)"
    ],
    argumentFile: "--argument-file", controllersForced: [], rootKeyFlag: nil, stopsAroundUpgrade: false,
    persistentHeapFlag: ["--wasm-memory-persistence", "keep"],
    extremeThreshold: ("--confirm-very-long-freezing-threshold", "--confirm-very-short-freezing-threshold"),
    metadataAddsNewline: false,
    parseStatus: { (out, canister, _) throws(BackendError) in try ToolOutput.dfxStatus(out, canister: canister) },
    parsePublic: { (out) throws(BackendError) in try ToolOutput.dfxInfo(out) },
    parseCyclesBalance: { (out) throws(BackendError) in try ToolOutput.dfxCyclesBalance(out) },
    parseSnapshots: { (out) throws(BackendError) in try ToolOutput.dfxSnapshots(out) },
    parseSnapshotCreated: { (out) throws(BackendError) in .id(try ToolOutput.dfxSnapshotID(out)) })

  /// The command for `operation` with its upper-case words filled from `fill`; a tool that lacks
  /// the operation is a usage error (nothing ran).
  func argv(_ operation: Operation, _ fill: [String: String] = [:]) throws(BackendError) -> [String] {
    guard let command = commands[operation] else {
      throw .unsupported(unavailable[operation] ?? "\(tool.rawValue) cannot \(operation.rawValue)")
    }
    return command.words.map { fill[$0] ?? $0 }
  }

  func stream(_ operation: Operation) -> Stream { commands[operation]?.stream ?? .stdout }
}

extension ToolDialect {
  /// One row of the operations reference: what it is, how a runbook says it, and the operation
  /// each tool runs (nil: nothing runs, `local` says what rbic does instead).
  struct ReferenceRow {
    var what: String
    var runbook: String
    var operation: Operation?
    /// Flags a row shows after the command, as this tool spells them.
    var extra: @Sendable (ToolDialect) -> String = { _ in "" }
    var local: String?
  }

  static let reads: [ReferenceRow] = [
    ReferenceRow(
      what: "status (cycles, module hash, controllers, memory, settings, idle burn, reserved cycles)",
      runbook: "`cycles`, `hash`, `idle_burn`, `freeze_in`, …", operation: .status),
    ReferenceRow(what: "public view (non-controllers)", runbook: "`hash`, `controllers`", operation: .publicInfo),
    ReferenceRow(what: "the identity's principal", runbook: "`identity()`", operation: .principal),
    ReferenceRow(what: "the identity's cycles balance", runbook: "`cycles_balance()`", operation: .cyclesBalance),
    ReferenceRow(what: "the identity's ICP balance", runbook: "`icp_balance()`", operation: .icpBalance),
    ReferenceRow(what: "snapshots", runbook: "`snapshots(c)`", operation: .snapshots),
    ReferenceRow(what: "canister logs", runbook: "`logs(c)`", operation: .logs),
    ReferenceRow(
      what: "what a canister publishes (`candid:service`)",
      runbook: "typed calls; the check before an upgrade", operation: .metadata),
    ReferenceRow(
      what: "a module's metadata", runbook: "`wasm_metadata(path, \"candid:service\")`", operation: nil,
      local: "read locally with WasmKit's parser"),
    ReferenceRow(
      what: "canister_ids.json", runbook: "`canister_ids(name, key:)`, `find_canister_id(name, key:)`",
      operation: nil, local: "read locally"),
  ]

  static let changes: [ReferenceRow] = [
    ReferenceRow(
      what: "install / upgrade / reinstall (reinstall always asked)",
      runbook: "`ensure hash == H via install PATH [mode …] [arg V] [guarded]`", operation: .install,
      extra: { " [\($0.argumentFile) F]" }),
    ReferenceRow(
      what: "controllers", runbook: "`via add_controllers`, `via set_controllers`", operation: .settings,
      extra: { " --add-controller P --remove-controller P" + $0.controllersForced.map { " " + $0 }.joined() }),
    ReferenceRow(
      what: "settings",
      runbook:
        "`ensure freezing_threshold >= 90d via update_settings` (also `memory_allocation`, `reserved_cycles_limit`, `log_visibility == \"public\"`)",
      operation: .settings,
      extra: { _ in " --freezing-threshold S --memory-allocation B --reserved-cycles-limit N --log-visibility V" }),
    ReferenceRow(what: "start", runbook: "`via start`", operation: .start),
    ReferenceRow(what: "stop", runbook: "`via stop`", operation: .stop),
    ReferenceRow(what: "wallet send", runbook: "`via wallet W [amount A]`", operation: .walletSend),
    ReferenceRow(what: "top up from the cycles ledger", runbook: "`via top_up [amount A]`", operation: .topUp),
    ReferenceRow(
      what: "create a canister", runbook: "`create_canister(cycles: 1T, controllers: […])`", operation: .create,
      extra: { _ in " [--controller P]…" }),
    ReferenceRow(
      what: "delete a canister (always asked; stopped first)", runbook: "`delete_canister(c)`", operation: .delete),
    ReferenceRow(
      what: "take a snapshot (the canister stopped)", runbook: "`take_snapshot(c [, replace: ID])`",
      operation: .snapshotCreate, extra: { _ in " [--replace ID]" }),
    ReferenceRow(what: "restore a snapshot", runbook: "`restore_snapshot(c, ID)`", operation: .snapshotRestore),
    ReferenceRow(what: "delete a snapshot", runbook: "`delete_snapshot(c, ID)`", operation: .snapshotDelete),
    ReferenceRow(
      what: "ICP → cycles (to the identity's cycles ledger)", runbook: "`mint_cycles(icp: 1ICP)`", operation: .mint),
    ReferenceRow(
      what: "canister call", runbook: "`call c.method(args)`", operation: .call, extra: { _ in " [--query]" }),
    ReferenceRow(
      what: "canister call carrying cycles, made by a wallet",
      runbook: "`call c.method(args) with cycles N via wallet W`", operation: .callWithCycles),
    ReferenceRow(
      what: "canister_ids.json entry", runbook: "`record_canister_id(name, key: \"production\", id: c)`",
      operation: nil, local: "written locally, one entry changed, the layout kept"),
  ]

  /// A row's cell for this tool: the command as the operator would type it (`…` stands for the
  /// network and identity every command names), and its note.
  func cell(_ row: ReferenceRow) -> String {
    if let local = row.local { return "— (\(local))" }
    guard let operation = row.operation, let command = commands[operation] else {
      return "not available (see below)"
    }
    let text = "`\(tool.rawValue) \(command.words.joined(separator: " "))\(row.extra(self)) …`"
    return command.note.map { "\(text) (\($0))" } ?? text
  }

  /// The operations reference's two tables, as `docs/operations.md` holds them.
  static var reference: String {
    func table(_ rows: [ReferenceRow]) -> String {
      "| what | runbook | icp | dfx |\n|---|---|---|---|\n"
        + rows.map { "| \($0.what) | \($0.runbook) | \(icp.cell($0)) | \(dfx.cell($0)) |\n" }.joined()
    }
    return "## Reads\n\n" + table(reads) + "\n## Changes\n\n" + table(changes)
  }
}
