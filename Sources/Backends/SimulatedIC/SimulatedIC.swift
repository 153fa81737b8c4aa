import Foundation
import RbicCheck
import RbicRuntime

/// The simulated Internet Computer: canisters, cycles wallets, identities and a cycles ledger,
/// with the real rules, fault injection and optional latency. It is the embedded default backend
/// (rehearsals, demos, tests), and, seeded from another backend's reads, the predictor behind
/// `rbic plan`. One part a file:
///
/// - `SimulatedIC+State.swift`: the world as it is stored (the state file's records, reading and
///   checking it, writing it) and the demo world;
/// - `SimulatedIC+Faults.swift`: the faults a world injects, typed (`FaultKind`,
///   `FaultOperation`), how each fires, and the late requests they leave;
/// - the world's rules, by area: `+Lifecycle` (status, install, controllers and settings,
///   start and stop, create and delete), `+Cycles` (the identity, its ledgers, wallet sends,
///   top-ups, minting), `+Snapshots`, `+Calls` (update calls and queries, the management
///   canister, metadata, logs);
/// - `SimulatedIC+Prediction.swift`: the sim as `plan`'s predictor, read from another backend
///   the first time it needs a fact, and the sim's own plan (a copy).
///
/// This file holds what every operation goes through: the latency, the lock, the fault, the
/// rule, the state written after a change; and the look-ups each rule starts from.
///
/// `@unchecked Sendable`: every field that changes (`state`, the counters, `cancellation`) is read
/// and written only while `lock` is held; the latency wait happens outside it, so parallel callers
/// overlap as they would on the IC.
public final class SimulatedIC: Backend, @unchecked Sendable {
  let lock = NSLock()
  var state: State
  /// In plan mode: where what the prediction does not know yet is read from.
  let source: Backend?
  public let name: String
  public private(set) var identityName: String

  public init(state: State, identity: String? = nil, name: String = "sim", source: Backend? = nil) {
    self.state = state
    self.identityName = identity ?? state.identity
    self.name = name
    self.source = source
  }

  public func begin(_ session: BackendSession) { lock.withLock { cancellation = session.cancellation } }

  package var snapshot: State { lock.withLock { state } }

  /// Injects more faults (a test's later run).
  package func addFaults(_ faults: [Fault]) { lock.withLock { state.faults = (state.faults ?? []) + faults } }

  /// Where the state is written after every mutation (`--sim-state`), so the file never lags
  /// behind the journal; nil keeps it in memory. Copies (plan) never persist.
  package var persistPath: String? {
    get { lock.withLock { storedPersistPath } }
    set { lock.withLock { storedPersistPath = newValue } }
  }
  private var storedPersistPath: String?

  // MARK: - The request pipeline

  /// The most mutations of one canister that were ever in flight at once (tests assert 1).
  package var maxConcurrentMutations: Int { lock.withLock { maxInFlight } }
  private var inFlight: [String: Int] = [:]
  private var maxInFlight = 0

  /// Operations that paid the configured latency (for benchmarks).
  package var latencyCalls: Int { lock.withLock { calls } }
  /// The kind of the last fault that fired: the test double turns it into the tool's behaviour
  /// (an exit status, garbled output) by its kind, never by reading the error's text.
  package var lastFault: FaultKind? { lock.withLock { firedFault } }
  /// Written by `fire`, under `lock`.
  var firedFault: FaultKind?
  private var calls = 0

  /// Set by `begin` (the run's Ctrl-C): a call waiting out its latency gives up. Guarded by `lock`.
  var cancellation: Cancellation?

  /// Waits the configured per-call latency, outside the state lock so parallel callers overlap,
  /// in short slices so a cancellation ends the wait.
  func latency() throws(BackendError) {
    let (ms, cancellation) = lock.withLock { () -> (Int, Cancellation?) in
      calls += 1
      return (state.latency_ms ?? 0, self.cancellation)
    }
    guard (cancellation ?? Cancellation()).sleep(Double(ms) / 1000, slice: 0.02) else {
      throw .unknownOutcome("interrupted while waiting for the IC")
    }
  }

  /// Runs a mutation under the sim's rules: latency, then the first matching fault, then `body`;
  /// the state is persisted after it. Returns the fault that fired, if any.
  @discardableResult
  func mutate(
    _ operation: FaultOperation, _ canister: Principal?, _ body: () throws(BackendError) -> Void
  ) throws(BackendError) -> Firing? {
    let key = canister?.text ?? ""
    lock.withLock {
      inFlight[key, default: 0] += 1
      maxInFlight = max(maxInFlight, inFlight[key] ?? 0)
    }
    defer { lock.withLock { inFlight[key, default: 1] -= 1 } }
    try latency()
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    let firing = fire(operation, canister)
    switch firing {
    case .error(let error)?:
      try persistLocked()  // a fault with `times` was consumed
      throw error
    case .silent?:
      try persistLocked()
      return firing
    case .late(let delay)?:
      // The request times out for the caller but lands `delay` later.
      try deliverLater(after: delay, body)
      try persistLocked()
      throw .unknownOutcome("`\(operation)` timed out")
    case .echo?, nil:
      try body()
      try persistLocked()
      return firing
    case .afterSend(let error)?:
      try body()
      try persistLocked()
      throw error
    }
  }

  /// Writes the state to `persistPath` (the caller holds the lock). A state that cannot be
  /// written is an environment error: the run stops (exit 3) rather than go on unrecorded.
  private func persistLocked() throws(BackendError) {
    guard let path = storedPersistPath else { return }
    let twin = SimulatedIC(state: state, identity: identityName, name: name)
    do { try twin.save(path: path) } catch { throw .environment("\(error)") }
  }

  // MARK: - Look-ups (the caller holds the lock)

  /// The acting identity's principal; it must be in the world (in plan, read from the source).
  func callerPrincipal() throws(BackendError) -> Principal {
    try identityFromSource()
    guard let record = state.identities[identityName], let p = Principal(text: record.principal) else {
      throw .notSent("no identity found with name `\(identityName)`")
    }
    return p
  }

  /// The record of a canister (in plan, read from the source the first time).
  func record(_ canister: Principal) throws(BackendError) -> CanisterRecord {
    if let r = state.canisters[canister.text] { return r }
    guard let r = try recordFromSource(canister) else { throw .notFound(canister) }
    return r
  }

  /// A canister the acting identity controls: only controllers may read its status, install or
  /// change its settings.
  func controlled(_ canister: Principal) throws(BackendError) -> CanisterRecord {
    let r = try record(canister)
    let me = try callerPrincipal()
    guard r.controllers.contains(me.text) else { throw .notController(canister: canister, identity: identityName) }
    return r
  }

  func cycles(_ r: CanisterRecord) -> Int128 { Int128(r.cycles) ?? 0 }

  /// The identity's cycles-ledger balance.
  func ledger(_ name: String) -> Int128 { Int128(state.identities[name]?.cycles_ledger ?? "0") ?? 0 }
}
