import Foundation
import RbicCandid
import RbicParser

/// What the checker knows about builtins and actions: typed signatures, registered by name.
///
/// The standard set lives in the `RbicBuiltins` module; hosts add their own through the same
/// table. Signatures are data: a parameter list with types and defaults, and where a builtin is
/// generic (`len`, `min`), a rule computing the result type from the argument types.

/// A canister property, usable bare inside `step … on` or as `c.name`.
public enum CanisterProperty: String, Sendable, CaseIterable {
  case id, cycles, hash, controllers, status, memory
  case freezingThreshold = "freezing_threshold"
  /// Cycles the canister burns per day at rest.
  case idleBurn = "idle_burn"
  /// Cycles set aside for storage, not spendable.
  case reservedCycles = "reserved_cycles"
  /// How long until the canister freezes at its idle burn (its cycles down to the freezing
  /// threshold's worth).
  case freezeIn = "freeze_in"
  case memoryAllocation = "memory_allocation"
  case reservedCyclesLimit = "reserved_cycles_limit"
  /// `controllers` or `public`.
  case logVisibility = "log_visibility"
  /// Wallets only: the cycles the wallet can send (its own cycles balance).
  case balance

  /// What one of its values is per, as people read it (`/day` for a rate), shown after the value.
  public var per: String? { self == .idleBurn ? "/day" : nil }

  public var type: RType {
    switch self {
    case .id: .principal
    case .cycles, .balance: .cycles
    case .hash: .optional(.hash)
    case .controllers: .list(.principal)
    case .status: .status
    case .memory, .memoryAllocation: .bytes
    case .freezingThreshold, .freezeIn: .duration
    case .idleBurn, .reservedCycles, .reservedCyclesLimit: .cycles
    case .logVisibility: .text
    }
  }

  /// Bare inside `step … on` (DESIGN §2.4): all but `id` and `balance`.
  public static let subjectProperties: [CanisterProperty] = [
    .cycles, .hash, .controllers, .status, .memory, .freezingThreshold, .idleBurn, .reservedCycles, .freezeIn,
    .memoryAllocation, .reservedCyclesLimit, .logVisibility,
  ]
}

public struct BuiltinParameter: Sendable {
  public var name: String
  public var type: RType
  /// Present when the parameter may be left out; then it is passed by label.
  public var defaultDescription: String?
  /// The value used when the argument is left out.
  public var defaultValue: Value?
  public init(_ name: String, _ type: RType, default defaultDescription: String? = nil, value: Value? = nil) {
    self.name = name
    self.type = type
    self.defaultDescription = defaultDescription
    self.defaultValue = value
  }
}

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
  /// be read. `sha256`, `install` and `wasm_metadata` read modules through it.
  /// A confined run (`RunOptions.fileRoots`) reads nothing outside its roots.
  public func contents(of path: String) -> Data? {
    readablePath(path).flatMap { FileManager.default.contents(atPath: $0) }
  }

  /// A file's size in bytes, read without reading the file (nil when it cannot be read).
  /// The Candid interface the canister's module publishes now (`candid:service`), nil for none.
  package func publishedInterface(of canister: Principal) -> CandidEnvironment? { pipeline.interface(of: canister) }

  /// Tells the run what a canister publishes after an install of a module whose interface it read.
  package func knowPublishedInterface(_ env: CandidEnvironment?, of canister: Principal) {
    pipeline.knowInterface(env, of: canister)
  }

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

/// A builtin function's static signature.
public struct BuiltinSignature: Sendable {
  public var name: String
  public var parameters: [BuiltinParameter]
  /// For variadic builtins (`run(argv…)`): the type of every extra argument. Positional arguments
  /// of a variadic builtin fill its parameters without a default, then the variadic ones: a
  /// parameter with a default is given by label (`run("gpg", "--passphrase-fd", "0", stdin: key)`).
  public var variadic: RType?

  /// How many parameters positional arguments fill.
  public var positionalCount: Int {
    guard variadic != nil else { return parameters.count }
    return parameters.prefix { $0.defaultDescription == nil }.count
  }
  public var result: RType
  /// For generic builtins: the result type from the argument types, or a message saying what is wrong.
  public var typeRule: (@Sendable ([RType]) -> Result<RType, TypeRuleError>)?
  public var summary: String

  public init(
    _ name: String, _ parameters: [BuiltinParameter], variadic: RType? = nil, result: RType, summary: String,
    typeRule: (@Sendable ([RType]) -> Result<RType, TypeRuleError>)? = nil
  ) {
    self.name = name
    self.parameters = parameters
    self.variadic = variadic
    self.result = result
    self.typeRule = typeRule
    self.summary = summary
  }
}

public struct TypeRuleError: Error, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// The comparison an action can make true.
public enum Convergence: Hashable, Sendable, CustomStringConvertible {
  /// `PROPERTY OP X`, e.g. `cycles >= X`.
  case comparison(CanisterProperty, ComparisonKind)

  public enum ComparisonKind: String, Hashable, Sendable {
    case atLeast = ">="
    case equal = "=="
    case contains
  }

  public var description: String {
    switch self {
    case .comparison(let p, .contains): "\(p.rawValue) contains X"
    case .comparison(let p, let k): "\(p.rawValue) \(k.rawValue) X"
    }
  }
}

/// An action's static signature: what it converges and the arguments it takes.
public struct ActionSignature: Sendable {
  public var name: String
  public var converges: [Convergence]
  /// The unlabelled value after the action's name, if it takes one (and whether it must be given).
  public var positional: BuiltinParameter?
  public var positionalRequired: Bool
  public var labeled: [BuiltinParameter]
  /// Restricts the condition's right side to one status (`start` makes `running`).
  public var requiredStatus: String?
  /// Words accepted as values of a labelled parameter (`mode reinstall`), by label.
  public var words: [String: [String]]
  /// Labels that mean something only beside another (`check` with `guarded`), by label.
  public var needs: [String: String]
  /// The label whose value is the canister's init argument (`install … arg {…}`): checked against
  /// the init arguments of the canister's imported interface, encoded by the module's.
  public var candidArgument: String?
  public var summary: String

  public init(
    _ name: String, converges: [Convergence], positional: BuiltinParameter? = nil, positionalRequired: Bool = false,
    labeled: [BuiltinParameter] = [], requiredStatus: String? = nil, words: [String: [String]] = [:],
    candidArgument: String? = nil, needs: [String: String] = [:], summary: String
  ) {
    self.candidArgument = candidArgument
    self.needs = needs
    self.name = name
    self.converges = converges
    self.positional = positional
    self.positionalRequired = positionalRequired
    self.labeled = labeled
    self.requiredStatus = requiredStatus
    self.words = words
    self.summary = summary
  }
}

/// The builtins and actions a compilation knows. Registering a name again replaces the entry (a
/// host's `start` replaces the standard one, checker and body alike).
public struct Registry: Sendable {
  public private(set) var builtins: [String: BuiltinSignature] = [:]
  public private(set) var actions: [String: ActionSignature] = [:]
  /// What each builtin does at run time; arguments arrive in parameter order (defaults filled in),
  /// then the variadic ones. A builtin without one checks but cannot run.
  public private(set) var builtinBodies: [String: BuiltinBody] = [:]
  /// What each action does at run time; an action without one checks but cannot run.
  public private(set) var actionBodies: [String: ActionBody] = [:]
  /// Named constants such as `running` (status values).
  public private(set) var constants: [String: RType] = ["running": .status, "stopping": .status, "stopped": .status]
  /// The values of constants that are not status words (the REPL's `_`, the last value).
  public private(set) var constantValues: [String: Value] = [:]

  /// A named constant with its type and value.
  public mutating func register(constant name: String, type: RType, value: Value) {
    constants[name] = type
    constantValues[name] = value
  }

  public init() {}

  /// A builtin, with what it does (nil: a host that checks runbooks but cannot run them).
  public mutating func register(_ builtin: BuiltinSignature, body: BuiltinBody? = nil) {
    builtins[builtin.name] = builtin
    builtinBodies[builtin.name] = body
  }

  /// An action, with what it does (nil: a host that checks runbooks but cannot run them).
  public mutating func register(_ action: ActionSignature, body: ActionBody? = nil) {
    actions[action.name] = action
    actionBodies[action.name] = body
  }
}

/// What the checker knows of the builtins, actions and constants a program may name: their
/// signatures, never their bodies (DESIGN §4). A `Registry` is one.
public protocol SignatureLookup: Sendable {
  var builtins: [String: BuiltinSignature] { get }
  var actions: [String: ActionSignature] { get }
  /// Named constants and their types (`running`).
  var constants: [String: RType] { get }
}

extension Registry: SignatureLookup {
}
