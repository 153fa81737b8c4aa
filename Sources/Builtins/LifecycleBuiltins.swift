import Foundation
import RbicBackends
import RbicCandid
import RbicCheck
import RbicRuntime

/// The canister lifecycle as builtins: create and delete, snapshots, logs, the
/// identity's balances, ICP → cycles, and `canister_ids.json` entries. Every one that changes
/// anything acts through `context.perform`, so the gates, the ceiling, the locks, the journal and
/// plan prediction apply as they do to actions.
///
/// Creates and mints have no canister to lock: they spend the identity's funds, so their effect
/// targets the identity's principal. An unknown outcome then holds the next create or mint by the
/// same identity until an operator has looked (a create whose id was lost is never repeated
/// blindly).
enum LifecycleBuiltins {
  static let snapshotType = RType.record([
    RType.Field("id", .text), RType.Field("taken_at", .text), RType.Field("size", .bytes),
  ])
  static let logType = RType.record([
    RType.Field("index", .int), RType.Field("time", .text), RType.Field("message", .text),
  ])

  static func register(into r: inout Registry) {
    r.register(
      BuiltinSignature(
        "wasm_metadata", [BuiltinParameter("module", .path), BuiltinParameter("name", .text)],
        result: .optional(.text),
        summary:
          "a module's IC metadata section (`candid:service`, public or private) as text, or `none` when it has none"),
      body: { args, context throws(RuntimeError) in
        guard case .path(let path) = args[0], case .text(let name) = args[1] else { return .none }
        guard let data = context.contents(of: path) else {
          throw .message(.environment, "cannot read the module `\(path)`")
        }
        do throws(ModuleMetadata.Failure) {
          return try ModuleMetadata.sections(Array(data))[name].map {
            .text(String(decoding: $0.bytes, as: UTF8.self))
          }
            ?? .none
        } catch {
          throw .message(.environment, "`\(path)` is \(error.description)")
        }
      })
    r.register(
      BuiltinSignature(
        "find_canister_id",
        [
          BuiltinParameter("name", .text),
          BuiltinParameter("key", .text, default: "the run's network", value: Value.none),
        ],
        result: .optional(.canister),
        summary: "a canister id from canister_ids.json or icp's mapping files, or `none` when there is no entry"),
      body: { args, context throws(RuntimeError) in
        try canisterID(args, context)?.id.map(Value.principal) ?? .none
      })
    r.register(
      BuiltinSignature(
        "record_canister_id",
        [BuiltinParameter("name", .text), BuiltinParameter("key", .text), BuiltinParameter("id", .canister)],
        result: .void,
        summary: "writes an entry to canister_ids.json, keeping the file's other entries and layout"),
      body: recordCanisterID)
    r.register(
      BuiltinSignature(
        "create_canister",
        [
          BuiltinParameter("cycles", .cycles),
          BuiltinParameter("controllers", .list(.principal), default: "[]", value: .list([])),
        ],
        result: .canister,
        summary:
          "creates a canister funded from the identity's cycles ledger (the IC keeps its creation fee); controllers default to the identity"
      ), body: create)
    r.register(
      BuiltinSignature(
        "delete_canister", [BuiltinParameter("canister", .canister)], result: .void,
        summary:
          "deletes a stopped canister (always asked, even with --yes); its cycles go back to the identity (burned on icp 1.0)"
      ),
      body: { args, context throws(RuntimeError) in
        guard case .principal(let c) = args[0] else { return .void }
        // One rule on every backend (icp would stop it itself; dfx would ask): stopped first.
        let status = try context.state(of: c).status
        guard status == .stopped else {
          throw .message(
            .failed,
            "canister \(c.text) is \(status.rawValue); it must be stopped before it is deleted (`ensure status == stopped via stop` first)"
          )
        }
        let cycles = try context.read { (b) throws(BackendError) in b.deletedCycles }
        let effect = Effect(
          "delete", target: .canisters([c]),
          description: "DELETE canister \(c.text) (its module, memory and snapshots are lost; \(cycles.phrase))",
          confirmation: .always)
        try act(context, effect) { (b) throws(BackendError) in try b.deleteCanister(c) }
        return .void
      })
    r.register(
      BuiltinSignature(
        "take_snapshot",
        [
          BuiltinParameter("canister", .canister),
          BuiltinParameter("replace", .optional(.text), default: "none", value: Value.none),
        ],
        result: snapshotType, summary: "takes a snapshot of a stopped canister (replacing `replace` when given)"),
      body: { args, context throws(RuntimeError) in
        guard case .principal(let c) = args[0] else { return .void }
        let replacing: String? = if case .text(let id) = args[1] { id } else { nil }
        let effect = Effect(
          "snapshot", target: .canisters([c]),
          description: "take a snapshot of \(c.text)" + (replacing.map { ", replacing \($0)" } ?? ""))
        let taken = try act(context, effect, { "took snapshot \($0.id) of \(c.text)" }) { (b) throws(BackendError) in
          try b.takeSnapshot(c, replacing: replacing)
        }
        return value(taken)
      })
    r.register(
      BuiltinSignature(
        "snapshots", [BuiltinParameter("canister", .canister)], result: .list(snapshotType),
        summary: "a canister's snapshots, oldest first"),
      body: { args, context throws(RuntimeError) in
        guard case .principal(let c) = args[0] else { return .void }
        return .list(try context.read { (b) throws(BackendError) in try b.snapshots(c) }.map(value))
      })
    typealias SnapshotCall = @Sendable (Backend, Principal, String) throws(BackendError) -> Void
    let restore: SnapshotCall = { (b, c, id) throws(BackendError) in try b.restoreSnapshot(c, id: id) }
    let delete: SnapshotCall = { (b, c, id) throws(BackendError) in try b.deleteSnapshot(c, id: id) }
    // A restore puts the snapshot's module back: the canister may publish another interface.
    for (name, verb, operation, summary, replacesModule, call) in [
      (
        "restore_snapshot", "restore", "restore", "loads a snapshot into a stopped canister (module and memory)", true,
        restore
      ),
      ("delete_snapshot", "delete", "delete_snapshot", "deletes a snapshot", false, delete),
    ] {
      r.register(
        BuiltinSignature(
          name, [BuiltinParameter("canister", .canister), BuiltinParameter("id", .text)], result: .void,
          summary: summary),
        body: { args, context throws(RuntimeError) in
          guard case .principal(let c) = args[0], case .text(let id) = args[1] else { return .void }
          let effect = Effect(
            operation, target: .canisters([c]), description: "\(verb) snapshot \(id) of \(c.text)",
            replacesModule: replacesModule)
          try act(context, effect) { (b) throws(BackendError) in try call(b, c, id) }
          return .void
        })
    }
    r.register(
      BuiltinSignature(
        "logs", [BuiltinParameter("canister", .canister)], result: .list(logType),
        summary: "a canister's log records (controllers only, unless its log visibility is public)"),
      body: { args, context throws(RuntimeError) in
        guard case .principal(let c) = args[0] else { return .void }
        return .list(
          try context.read { (b) throws(BackendError) in try b.logs(c) }.map { record in
            .record(
              ["index", "time", "message"],
              [.int(Int64(clamping: record.index)), .text(time(record.timestamp)), .text(record.content)])
          })
      })
    r.register(
      BuiltinSignature(
        "cycles_balance", [], result: .cycles, summary: "the identity's cycles-ledger balance (what `top_up` spends)"),
      body: { _, context throws(RuntimeError) in .cycles(try context.cyclesBalance()) })
    r.register(
      BuiltinSignature(
        "icp_balance", [], result: .icp, summary: "the identity's ICP balance on the ledger"),
      body: { _, context throws(RuntimeError) in
        .icp(try context.read { (b) throws(BackendError) in try b.icpBalance() })
      })
    r.register(
      BuiltinSignature(
        "mint_cycles", [BuiltinParameter("icp", .icp)], result: .cycles,
        summary: "converts ICP into cycles on the identity's cycles ledger; returns the cycles minted"),
      body: { args, context throws(RuntimeError) in
        guard case .icp(let e8s) = args[0] else { return .void }
        guard e8s > 0 else { throw .message(.failed, "`mint_cycles` needs a positive amount of ICP") }
        let me = try context.identityPrincipal()
        let effect = Effect(
          "mint", target: .canisters([me]),
          description: "convert \(ValueFormat.icp(e8s)) of \(context.identityName) into cycles", observable: false)
        let minted = try act(context, effect, { "minted \(ValueFormat.cycles($0)) from \(ValueFormat.icp(e8s))" }) {
          (b) throws(BackendError) in try b.mintCycles(icp: e8s)
        }
        return .cycles(minted)
      })
  }

  /// Performs an effect and returns its result, recording what changed in the step; a definite
  /// failure stops the step as itself, an unknown outcome as an `outcomeUnknown` error saying what
  /// to check.
  @discardableResult
  static func act<T: Sendable>(
    _ context: BuiltinContext, _ effect: Effect, _ summary: ((T) -> String)? = nil,
    _ body: (Backend) throws(BackendError) -> T
  ) throws(RuntimeError) -> T {
    switch try context.perform(effect, body) {
    case .done(let value):
      context.changed(
        Change(
          summary?(value) ?? effect.description, canister: effect.canisters.first, action: effect.operation,
          amount: effect.cycles > 0 ? effect.cycles : nil))
      return value
    case .failed(let error): throw .backend(error)
    case .unknown(let message):
      throw .message(
        .outcomeUnknown,
        "the outcome of \"\(effect.description)\" is unknown (\(message)); check before running again: a re-run holds it until an operator confirms or the settle window has passed"
      )
    case .withheld:
      throw .message(.environment, "\"\(effect.description)\" was not run")
    }
  }

  /// `canister_ids(name, key:)` and `find_canister_id`: the name, the key and the id under it.
  /// canister_ids.json is keyed by network, as dfx keys it: by default, the run's own, so a run on
  /// a test network never picks up the production id.
  static func canisterID(_ args: [Value], _ context: BuiltinContext) throws(RuntimeError)
    -> (name: String, key: String, id: Principal?)?
  {
    guard case .text(let name) = args[0] else { return nil }
    let key: String
    switch args[1] {
    case .text(let given): key = given
    default: key = context.network.name
    }
    return (name, key, try context.canisterID(name: name, key: key))
  }

  static func value(_ s: CanisterSnapshot) -> Value {
    .record(["id", "taken_at", "size"], [.text(s.id), .text(time(s.takenAt)), .bytes(s.size)])
  }

  /// Nanoseconds since 1970 as RFC 3339.
  static func time(_ ns: UInt64) -> String {
    ToolOutput.rfc3339.string(from: Date(timeIntervalSince1970: Double(ns) / 1e9))
  }

  static let create: BuiltinBody = { args, context throws(RuntimeError) in
    guard case .cycles(let amount) = args[0], case .list(let items) = args[1] else { return .void }
    let controllers = items.compactMap { if case .principal(let p) = $0 { p } else { nil } }
    guard amount > 0 else { throw .message(.failed, "`create_canister` needs a positive amount of cycles") }
    let me = try context.identityPrincipal()
    // Controllers that leave out the identity lock it out of what it creates: always asked.
    let lockedOut = !controllers.isEmpty && !controllers.contains(me)
    let owners = controllers.isEmpty ? "\(context.identityName)" : controllers.map(\.text).joined(separator: ", ")
    let effect = Effect(
      "create", target: .canisters([me]),
      description:
        "create a canister with \(ValueFormat.cycles(amount, exact: true)) from \(context.identityName)'s cycles ledger (controllers: \(owners))"
        + (lockedOut ? "; \(context.identityName) will NOT control it" : ""),
      cycles: amount, confirmation: lockedOut ? .always : .onMainnet, observable: false)
    let id = try act(context, effect, { "created canister \($0.text)\(context.isPlan ? " (its id predicted)" : "")" }) {
      (b) throws(BackendError) in try b.createCanister(cycles: amount, controllers: controllers)
    }
    context.noteCreated(id)
    return .principal(id)
  }

  static let recordCanisterID: BuiltinBody = { args, context throws(RuntimeError) in
    guard case .text(let name) = args[0], case .text(let key) = args[1], case .principal(let id) = args[2] else {
      return .void
    }
    let path = (context.projectDirectory as NSString).appendingPathComponent("canister_ids.json")
    let effect = Effect(
      "write_canister_ids", target: .local, description: "write \(name).\(key) = \(id.text) to canister_ids.json")
    // Read and checked first, in every mode: a malformed file stops the run before anything else.
    let existing = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    let file: CanisterIDsFile
    do throws(CanisterIDsFile.ParseError) { file = try CanisterIDsFile(text: existing ?? "{}\n") } catch {
      throw .message(.environment, "cannot read \(error.description); nothing was written")
    }
    context.rememberCanisterID(name: name, key: key, id)
    if file.ids[name]?[key] == id.text { return .void }  // already there: nothing to write
    let text: String
    do throws(CanisterIDsFile.ParseError) { text = try file.setting(name: name, key: key, to: id.text) } catch {
      throw .message(.environment, "cannot write to \(error.description); nothing was written")
    }
    let written: Void? = try context.performLocal(effect) { () throws(RuntimeError) in
      do throws(FileWriting.Failure) {
        try FileWriting.replace(path, with: Data(text.utf8))
      } catch {
        throw .message(.environment, "\(error)")  // it names the file and why
      }
    }
    if written != nil { context.changed(Change(effect.description, action: effect.operation)) }
    return .void
  }
}
