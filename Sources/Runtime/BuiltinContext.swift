import Foundation
import RbicCandid
import RbicCheck
import RbicParser

/// A builtin's implementation.
public typealias BuiltinBody = @Sendable ([Value], BuiltinContext) throws(RuntimeError) -> Value

/// What builtins and actions may use while they run. Reads go through the run's state cache;
/// every effect goes through `perform` (the effect pipeline): there is no other way to a
/// backend's mutations, so a host's builtin or action passes the same gates as a standard one.
public struct BuiltinContext: Sendable {
  public var projectDirectory: String { pipeline.options.projectDirectory }
  /// The working directory's project files: read on the first call, then kept for the run.
  public let project: @Sendable () -> ProjectFiles
  public var environment: [String: String] { pipeline.options.environment }
  /// Set when the run is cancelled (Ctrl-C): long builtins stop and end their child processes.
  public var cancellation: Cancellation { pipeline.options.cancellation }
  /// `plan`: effects on canisters run against a predictor; local effects are withheld.
  public var isPlan: Bool { pipeline.isPlan }
  /// The identity the backend acts as.
  public var identityName: String { pipeline.backend.identityName }
  /// The network the run acts on, resolved (`isMainnet` from where it points).
  public var network: ProjectFiles.Network { pipeline.network }
  /// The effect pipeline, the locks the calling branch holds, and its item (in `parallel for`).
  let pipeline: EffectPipeline
  let held: Set<Principal>
  let label: String?
  /// Records a change in the calling step (its outcome becomes `changed`) and shows it.
  public let changed: @Sendable (Change) -> Void
  /// Every effect performed through this context (an ensure sums what its action moved).
  let performed: EffectLog?

  init(
    pipeline: EffectPipeline, project: @escaping @Sendable () -> ProjectFiles, held: Set<Principal>,
    label: String?, changed: @escaping @Sendable (Change) -> Void = { _ in }, performed: EffectLog? = nil
  ) {
    self.pipeline = pipeline
    self.project = project
    self.held = held
    self.label = label
    self.changed = changed
    self.performed = performed
  }

  /// A read through the backend's read half (no effect: nothing changes; the view has no way to
  /// a mutation), its failure as a runtime error.
  public func read<T>(_ body: (BackendReads) throws(BackendError) -> T) throws(RuntimeError) -> T {
    do { return try body(BackendReads(pipeline.backend)) } catch { throw .backend(error) }
  }

  /// A canister's controller view (cached until a mutation of it).
  public func state(of canister: Principal) throws(RuntimeError) -> CanisterState {
    do { return try pipeline.state(of: canister) } catch { throw .backend(error) }
  }

  public func identityPrincipal() throws(RuntimeError) -> Principal {
    do { return try pipeline.backend.identityPrincipal() } catch { throw .backend(error) }
  }

  /// A `canister_ids.json` entry (or icp's mapping files): what this run wrote first, then the
  /// files as read. A malformed `canister_ids.json` is an error with its line, never "no entry".
  public func canisterID(name: String, key: String) throws(RuntimeError) -> Principal? {
    var text = pipeline.writtenCanisterIDs.withLock { $0[name]?[key] }
    if text == nil {
      let project = self.project()
      if let e = project.canisterIDsError {
        throw .message(.environment, "cannot read \(e.description)")
      }
      text = project.canisterID(name: name, key: key)
    }
    guard let text else { return nil }
    guard let p = Principal(text: text) else {
      throw .message(.failed, "canister_ids.json has `\(text)` for `\(name)`/`\(key)`, which is not a valid principal")
    }
    return p
  }

  /// Remembers an entry written to `canister_ids.json` (or, in `plan`, one that would be), so
  /// later reads in this run see it.
  public func rememberCanisterID(name: String, key: String, _ id: Principal) {
    pipeline.writtenCanisterIDs.withLock { $0[name, default: [:]][key] = id.text }
  }

  /// A file the runbook names (a `path`: relative to the project directory), or nil when it cannot
  /// be read. `sha256`, `file`, `install` and `wasm_metadata` read files through it.
  /// A confined run (`RunOptions.fileRoots`) reads nothing outside its roots.
  public func contents(of path: String) -> Data? {
    readablePath(path).flatMap { FileManager.default.contents(atPath: $0) }
  }

  /// The Candid interface the canister's module publishes (its `candid:service` metadata), read once
  /// per run and updated after an install; nil when it has none or it does not parse.
  package func publishedInterface(of canister: Principal) -> CandidEnvironment? { pipeline.interface(of: canister) }

  /// Tells the run what a canister publishes after an install of a module whose interface it read.
  package func knowPublishedInterface(_ env: CandidEnvironment?, of canister: Principal) {
    pipeline.knowInterface(env, of: canister)
  }

  /// A file's size in bytes, read without reading the file (nil when it cannot be read).
  public func size(of path: String) -> Int? {
    guard let full = readablePath(path), let attributes = try? FileManager.default.attributesOfItem(atPath: full)
    else { return nil }
    return (attributes[.size] as? NSNumber)?.intValue
  }

  /// Where a runbook's file path is read from: inside the confined roots (`RunOptions.fileRoots`)
  /// or nil, else against the project directory.
  private func readablePath(_ path: String) -> String? {
    if let roots = pipeline.options.fileRoots {
      return PathScope(roots: roots).resolveInside(path, from: projectDirectory)
    }
    return path.hasPrefix("/") ? path : (projectDirectory as NSString).appendingPathComponent(path)
  }

  /// Tells the run a canister was created (in `plan`, its predicted id): a saved plan matches
  /// the canisters it predicted with the ones a run under it creates.
  public func noteCreated(_ canister: Principal) { pipeline.noteCreated(canister) }

  /// The identity's cycles-ledger balance.
  public func cyclesBalance() throws(RuntimeError) -> Int128 {
    do { return try pipeline.backend.cyclesBalance() } catch { throw .backend(error) }
  }

  /// Runs an effect through the pipeline: gates, ceiling reservation, locks, journal, plan.
  public func perform<T: Sendable>(_ effect: Effect, _ body: (Backend) throws(BackendError) -> T)
    throws(RuntimeError) -> EffectOutcome<T>
  {
    let outcome = try pipeline.perform(effect, held: held, label: label, body)
    if case .failed = outcome {} else { performed?.append(effect) }
    return outcome
  }

  /// A local effect (`run`, `http_get`, a file write): `body` runs unless the effect is withheld
  /// (`plan`, `--read-only`), in which case the result is nil and the effect is shown instead.
  public func performLocal<T>(_ effect: Effect, _ body: () throws(RuntimeError) -> T) throws(RuntimeError) -> T? {
    try pipeline.performLocal(effect, label: label, body)
  }

  /// An action's effect: `perform`, with the outcome as the action's result. A reject or a lack of
  /// funds means the action cannot apply (the next `or` action is tried); an unknown outcome is
  /// re-read by the ensure; any other failure stops the run.
  public func act(_ effect: Effect, summary: String, _ body: (Backend) throws(BackendError) -> Void)
    throws(RuntimeError) -> ActionResult
  {
    switch try perform(effect, body) {
    case .done, .withheld: return .applied(summary)
    case .unknown(let message): return .unknown(message)
    case .failed(let error):
      switch error {
      case .insufficientFunds(let message): return .notApplicable(message)
      case .reject: return .notApplicable(error.description)
      default: throw .backend(error)
      }
    }
  }

  /// Records an external command (argv, exit status, duration, output) in the journal.
  public func journalCommand(_ command: ExternalCommand) { pipeline.journalCommand(command) }

  /// Seconds a local command (`run`) may take before it is stopped.
  public var commandTimeout: Double { pipeline.options.commandTimeout }

  /// `would ` in `plan`, for descriptions of what an action does.
  public var verb: String { isPlan ? "would " : "" }
}

/// What an action is asked to do: make `property` of `canister` satisfy
/// `property comparison wanted`, given its `current` value and the action's arguments.
public struct ActionRequest: Sendable {
  public var canister: Principal
  public var property: CanisterProperty
  /// With the property on the left: `>=`, `>`, `==`, `contains`.
  public var comparison: BinaryOp
  public var current: Value
  public var wanted: Value
  /// The unlabelled argument, if any.
  public var value: Value?
  public var labeled: [String: Value]
  public var isPlan: Bool
}

/// An action's implementation: decides what to do from the request, and does it with
/// `context.act` (so the gates, the ceiling, the locks and the journal apply). The standard
/// actions are written this way too.
public typealias ActionBody = @Sendable (ActionRequest, BuiltinContext) throws(RuntimeError) -> ActionResult
