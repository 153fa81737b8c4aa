import Foundation
import RbicCandid
import RbicCheck
import RbicDiagnostics
import Synchronization

/// The one path every effect takes. For an effect on canisters, in order:
///
/// 1. `--read-only` refuses it; a pending unknown outcome on one of its canisters (from an earlier
///    run, found in the journal directory) holds it until an operator confirms or the settle
///    window has passed;
/// 2. its cycles are reserved against the ceiling (atomically: parallel branches share one budget);
/// 3. the gate asks where policy requires (mainnet, or where the effect's `confirmation` says), one question at a time
///    across branches, naming the branch's item, the canister and the exact action;
/// 4. its canisters are locked (beyond what the branch already holds);
/// 5. `action_start` is journaled, and must be written: a mutation is never left unjournaled;
/// 6. the body runs (in `plan`, against the predictor); the result is journaled, the reservation
///    committed or released, the cached state of its canisters dropped.
///
/// A local effect (`run`, `http_get`) runs in `run` mode only, unless the operator allowed local
/// effects in `plan` and `--read-only`. The pipeline also owns the state cache: a canister's state
/// is read once and reused until a mutation of it, a confirmation (time passes while a person
/// reads), or `RunOptions.stateMaxAge`.
package final class EffectPipeline: Sendable {
  package let options: RunOptions
  package let backend: Backend
  /// The network this run acts on, resolved once (`isMainnet` decides the gate).
  package let network: ProjectFiles.Network
  package let budget: CyclesBudget
  package let locks = ResourceLocks()
  /// Every secret seen this run; every text leaving the run goes through it.
  package let redactor = Redactor()
  /// One question at a time: parallel branches wait here for the terminal.
  private let prompts = Mutex<Void>(())
  private let cache = Mutex<[Principal: (state: CanisterState, read: UInt64)]>([:])
  private let publicCache = Mutex<[Principal: PublicCanisterInfo]>([:])
  /// Canisters whose controller view was refused (IC0512) this run: their public view is read.
  private let refused = Mutex<Set<Principal>>([])
  /// Earlier runs' unknown outcomes, read from the journal directory on first need (a run that
  /// mutates nothing, or a REPL input, never scans it).
  private let pending = Mutex<[PendingOutcome]?>(nil)
  /// Interfaces read from canisters' `candid:service` metadata, once per canister until an effect
  /// replaces its module (nil: none, or it could not be read).
  private let fetchedInterfaces = Mutex<[Principal: CandidEnvironment?]>([:])

  /// Records what a canister publishes once an effect put a module there whose interface is known
  /// (an install): the next call need not read it back.
  package func knowInterface(_ env: CandidEnvironment?, of canister: Principal) {
    fetchedInterfaces.withLock { $0[canister] = .some(env) }
  }

  /// The interface a canister's module publishes, read once until its module is replaced; nil when
  /// there is none.
  package func interface(of canister: Principal) -> CandidEnvironment? {
    if let known = fetchedInterfaces.withLock({ $0[canister] }) { return known }
    var env: CandidEnvironment?
    if let text = try? backend.metadata(canister, name: "candid:service") {
      var files = SourceFiles()
      env = try? CandidEnvironment.parse(text, path: "\(canister.text) candid:service", into: &files)
    }
    fetchedInterfaces.withLock { $0[canister] = env }
    return env
  }

  /// `canister_ids.json` entries this run wrote (or, in `plan`, would have written): later reads
  /// see them, though the project files were read before.
  package let writtenCanisterIDs = Mutex<[String: [String: String]]>([:])
  // What the run saw and did, for a saved plan (and, applying one, what it is checked against).
  /// The first read of each canister before any effect touched it.
  private let observedStates = Mutex<[Principal: CanisterState]>([:])
  private let touched = Mutex<Set<Principal>>([])
  /// Every effect on canisters that passed the gates, in order (in `plan`, the intended ones).
  private let performedEffects = Mutex<[Effect]>([])
  private let createdCanisters = Mutex<[Principal]>([])
  /// Local effects shown and not run (`plan`, `--read-only`).
  private let withheldLocal = Mutex<[Effect]>([])

  /// What this run observed and intended, in the order it happened.
  package var record: RunRecord {
    RunRecord(
      observed: observedStates.withLock { $0.values.sorted { $0.id < $1.id } },
      effects: performedEffects.withLock { $0 }, created: createdCanisters.withLock { $0 },
      withheld: withheldLocal.withLock { $0 })
  }

  /// A canister this run created (in `plan`, the predicted one).
  package func noteCreated(_ canister: Principal) {
    createdCanisters.withLock { $0.append(canister) }
    touched.withLock { _ = $0.insert(canister) }
  }

  /// Set when a journal line could not be written: no mutation may follow.
  private let journalBroken = Atomic<Bool>(false)

  /// Whether the journal still records (or there is none): a `keep going` loop stops when it does
  /// not, since every later effect would be refused the same way.
  package var journalWritable: Bool { !journalBroken.load(ordering: .relaxed) }

  /// `budget` is shared when several runs count as one (a REPL session's inputs).
  package init(options: RunOptions, backend: Backend, network: ProjectFiles.Network, budget: CyclesBudget? = nil) {
    self.options = options
    self.backend = backend
    self.network = network
    self.budget = budget ?? CyclesBudget(ceiling: options.cyclesCeiling)
    let now = Self.now()
    cache.withLock { c in for s in options.primedStates { c[s.id] = (s, now) } }
    observedStates.withLock { o in for s in options.primedStates { o[s.id] = s } }
  }

  /// Journals the primed states as reads (after `run_start`): the journal has every state the run
  /// acted on.
  package func journalPrimedStates() {
    for s in options.primedStates { journalRead(s, seconds: 0, source: "the saved plan's check") }
  }

  private func journalRead(_ s: CanisterState, seconds: Double, source: String? = nil) {
    var fields: [(String, JournalValue)] = [
      ("canister", .text(s.id.text)), ("cycles", .integer(s.cycles)),
      ("hash", .optional(s.moduleHash.map(ValueFormat.hex))), ("status", .text(s.status.rawValue)),
      ("controllers", .texts(s.controllers.map(\.text))), ("seconds", .seconds(seconds)),
    ]
    if let source { fields.append(("source", .text(source))) }
    journal(.read, fields)
  }

  package var isPlan: Bool { options.mode == .plan }

  /// The settle window, as people read it (`10min`).
  private var settleText: String { ValueFormat.duration(Int64(options.settleWindow * 1e9)) }

  // MARK: - Journal and output

  /// Writes one journal line; false (and no further mutation allowed) if it could not be written.
  @discardableResult
  package func journal(_ event: JournalEvent, _ fields: [(String, JournalValue)], sync: Bool = true) -> Bool {
    guard let journal = options.journal else { return true }
    // Secrets are removed from the values, before anything is encoded.
    let entry = JournalEntry(event, fields).mappingTexts(redactor.scrub)
    if journal.write(entry, sync: sync) { return true }
    journalBroken.store(true, ordering: .relaxed)
    return false
  }

  /// A progress line; in a `parallel for` branch it names the branch's item after the indentation.
  /// It waits while a question is on the terminal, so no branch writes into another's prompt.
  package func say(_ line: String, label: String?) {
    let line = redactor.scrub(Self.labelled(line, label))
    prompts.withLock { _ in options.progress(line) }
  }

  /// A `print` statement's text, with the same rule as `say`.
  package func print(_ text: String, label: String?) {
    let text = redactor.scrub(Self.labelled(text, label))
    prompts.withLock { _ in options.print(text) }
  }

  package static func labelled(_ line: String, _ label: String?) -> String {
    guard let label else { return line }
    let indent = line.prefix { $0 == " " }
    return indent + "[\(label)] " + line.dropFirst(indent.count)
  }

  /// Journals one external command; its output is capped.
  package func journalCommand(_ command: ExternalCommand) {
    journal(
      .command,
      [
        ("argv", .texts(command.argv)), ("exit", .init(command.status)), ("seconds", .seconds(command.seconds)),
        ("output", .text(String(command.output.prefix(4000)))),
      ])
  }

  // MARK: - Reads

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

  /// The controller view of a canister: from the cache if it is fresh, else read and journaled.
  package func state(of canister: Principal) throws(BackendError) -> CanisterState {
    let maxAge = UInt64(max(0, options.stateMaxAge) * 1e9)
    if let hit = cache.withLock({ $0[canister] }), Self.now() - hit.read <= maxAge { return hit.state }
    let started = Date()
    do {
      let s = try backend.status(canister)
      cache.withLock { $0[canister] = (s, Self.now()) }
      if !touched.withLock({ $0.contains(canister) }) {
        observedStates.withLock { if $0[canister] == nil { $0[canister] = s } }
      }
      journalRead(s, seconds: Date().timeIntervalSince(started))
      return s
    } catch {
      journal(
        .readFailed,
        [("canister", .text(canister.text)), ("error", .text(error.description))])
      if case .notController = error { refused.withLock { _ = $0.insert(canister) } }
      throw error
    }
  }

  /// The public view, once the controller view of `canister` has been refused; nil otherwise.
  package func publicView(of canister: Principal) throws(BackendError) -> PublicCanisterInfo? {
    guard refused.withLock({ $0.contains(canister) }) else { return nil }
    if let hit = publicCache.withLock({ $0[canister] }) { return hit }
    let info = try backend.publicInfo(canister)
    publicCache.withLock { $0[canister] = info }
    return info
  }

  package func isCached(_ canister: Principal) -> Bool { cache.withLock { $0[canister] != nil } }

  /// Drops cached state: of `canisters`, or of all when nil.
  package func invalidate(_ canisters: [Principal]? = nil) {
    cache.withLock { c in
      if let canisters { for p in canisters { c[p] = nil } } else { c.removeAll() }
    }
    publicCache.withLock { c in
      if let canisters { for p in canisters { c[p] = nil } } else { c.removeAll() }
    }
    // Time passed (a person read a question, a `fn` ran): anything may have been upgraded. An
    // effect that replaces a module drops its canisters' interfaces itself.
    if canisters == nil { fetchedInterfaces.withLock { $0.removeAll() } }
  }

  // MARK: - Effects

  /// Runs one effect through the gates (see the type's comment). Gate refusals, a broken journal
  /// and interruptions are thrown; what the effect itself did is the returned outcome.
  package func perform<T: Sendable>(
    _ effect: Effect, held: Set<Principal>, label: String?, _ body: (Backend) throws(BackendError) -> T
  ) throws(RuntimeError) -> EffectOutcome<T> {
    if case .local = effect.target {
      var failure: BackendError?
      let ran = try performLocal(effect, label: label) { () -> T? in
        do throws(BackendError) { return try body(ScopedBackend(backend, scope: [], effect: effect.description)) } catch
        {
          failure = error
          return nil
        }
      }
      if let failure { return .failed(failure) }
      guard let value = ran ?? nil else { return .withheld }
      return .done(value)
    }
    if options.mode == .run, options.readOnly {
      throw .message(.refused, "refused by --read-only: \(effect.description)")
    }
    if options.mode == .run, let approval = options.approval,
      let why = approval.admit(
        effect, created: createdCanisters.withLock { $0 }, current: { p in cache.withLock { $0[p]?.state } })
    {
      throw .message(
        .refused,
        "refused: \(why): the run went another way than the plan; nothing more is done (make a new plan)")
    }
    if options.mode == .run { try settlePending(effect, label: label) }
    if let total = budget.reserve(effect.cycles) {
      throw .message(
        .refused,
        "refused: \(effect.description) would move \(ValueFormat.cycles(total)) this run, above the ceiling of \(ValueFormat.cycles(budget.ceiling))"
      )
    }
    // Released when this returns or throws, unless `keep()` committed it first: the effect
    // happened, or may have.
    var reserved = effect.cycles
    defer { budget.release(reserved) }
    func keep() {
      budget.commit(reserved)
      reserved = 0
    }
    if network.isMainnet || effect.confirmation != .onMainnet {
      try confirm(
        "\(effect.description) on \(network.name)?", label: label, mutation: true,
        always: effect.confirmation == .always)
    }
    touched.withLock { $0.formUnion(effect.canisters) }
    performedEffects.withLock { $0.append(effect) }
    if isPlan, !effect.predictable {
      say("  ~ would \(effect.description)", label: label)
      keep()
      return .withheld
    }
    let targets = effect.canisters
    // One id for the request from its start: an `action_start` no `action_end` follows (rbic was
    // killed while the tool ran) is pending for the next run, exactly like an unknown outcome.
    let request = UUID().uuidString.lowercased()
    let fields: [(String, JournalValue)] =
      [
        ("request", .text(request)), ("network", .text(network.name)),
        ("observable", .bool(effect.observable)),
        ("operation", .text(effect.operation)),
        ("canister", .text(targets.first?.text ?? "")),
        ("canisters", .texts(targets.map(\.text))),
        ("description", .text(effect.description)),
      ] + (effect.cycles > 0 ? [("amount", .integer(effect.cycles))] : [])
    return try locks.holding(Set(targets), held: held) { () throws(RuntimeError) -> EffectOutcome<T> in
      try journalStart(effect, fields)
      say("  → \(isPlan ? "would " : "")\(effect.description)", label: label)
      let started = Date()
      defer {
        invalidate(targets)
        if effect.replacesModule { fetchedInterfaces.withLock { c in for p in targets { c[p] = nil } } }
      }
      do throws(BackendError) {
        let value = try body(ScopedBackend(backend, scope: targets, effect: effect.description))
        journal(
          .actionEnd,
          fields + [("result", "ok"), ("seconds", .seconds(Date().timeIntervalSince(started)))])
        keep()
        return .done(value)
      } catch {
        journal(.actionEnd, fields + [("result", .text(error.description))])
        // Definite only when the error proves nothing happened; anything else may have landed.
        if error.provesNothingHappened { return .failed(error) }
        keep()
        let message: String
        if case .unknownOutcome(let m) = error { message = m } else { message = error.description }
        journal(.outcomeUnknown, fields + [("message", .text(message))])
        if options.cancellation.isCancelled {
          journal(.interrupted, [("during", .text(effect.operation))])
          throw .message(
            .interrupted,
            "interrupted during \(effect.description): the outcome is unknown. Check \(targets.map(\.text).joined(separator: " and ")) before running again; a re-run on `\(network.name)` will not repeat it until an operator confirms or \(settleText) have passed"
          )
        }
        return .unknown(message)
      }
    }
  }

  /// A local effect (`run`, `http_get`, a project-file write): withheld in `plan` and
  /// `--read-only` unless the operator allowed local effects; under a saved plan, admitted only if
  /// the plan showed exactly it; journaled from start to end like any effect, and never run when
  /// the journal cannot record it. nil when withheld.
  package func performLocal<T>(_ effect: Effect, label: String?, _ body: () throws(RuntimeError) -> T)
    throws(RuntimeError) -> T?
  {
    guard allowsLocal(effect, label: label) else { return nil }
    if options.mode == .run, let approval = options.approval,
      let why = approval.admitLocal(effect, created: createdCanisters.withLock { $0 })
    {
      throw .message(
        .refused, "refused: \(why): the plan did not show it; nothing more is done (make a new plan)")
    }
    let fields: [(String, JournalValue)] = [
      ("request", .text(UUID().uuidString.lowercased())),
      ("network", .text(network.name)), ("operation", .text(effect.operation)),
      ("local", true), ("description", .text(effect.description)),
    ]
    try journalStart(effect, fields)
    let started = Date()
    do throws(RuntimeError) {
      let value = try body()
      journal(
        .actionEnd,
        fields + [("result", "ok"), ("seconds", .seconds(Date().timeIntervalSince(started)))])
      return value
    } catch {
      journal(.actionEnd, fields + [("result", .text(error.diagnostic.message))])
      throw error
    }
  }

  /// Journals an effect's `action_start`, which must be written before the effect acts: with a
  /// journal that cannot be written (now or earlier), nothing more is done.
  private func journalStart(_ effect: Effect, _ fields: [(String, JournalValue)]) throws(RuntimeError) {
    if journalBroken.load(ordering: .relaxed) || !journal(.actionStart, fields) {
      throw .message(
        .environment,
        "the journal cannot be written (\(options.journal?.path ?? "")); stopping before \(effect.description), so that nothing goes unrecorded"
      )
    }
  }

  /// Whether a local effect may run: always in `run`; in `plan` and `--read-only` only when the
  /// operator allowed local effects. A withheld one is shown and journaled.
  package func allowsLocal(_ effect: Effect, label: String?) -> Bool {
    if !(isPlan || options.readOnly) || options.allowLocalEffects { return true }
    say("  ? would \(effect.description) (not run in \(isPlan ? "plan" : "--read-only"))", label: label)
    withheldLocal.withLock { $0.append(effect) }
    journal(
      .withheld,
      [
        ("operation", .text(effect.operation)),
        ("description", .text(effect.description)),
      ])
    return false
  }

  // MARK: - Questions

  /// Asks the operator, one question at a time across branches. `always` questions are asked even
  /// with `--yes` (a reinstall, a resend over a pending unknown outcome).
  package func confirm(_ question: String, label: String?, mutation: Bool, always: Bool = false)
    throws(RuntimeError)
  {
    let question = redactor.scrub(Self.labelled(question, label))
    if isPlan {
      say("  ? would ask: \(question)", label: nil)
      return
    }
    if options.cancellation.isCancelled {
      journal(.interrupted, [("during", .text(question))])
      throw .message(.interrupted, "interrupted")
    }
    if options.yes, !always {
      journal(.confirm, [("question", .text(question)), ("answer", "yes (--yes)")])
      return
    }
    guard options.interactive else {
      let why =
        !mutation
        ? "`confirm` needs an answer"
        : network.isMainnet
          ? "mutations on `\(network.name)`\(network.name == "ic" ? "" : " (mainnet)") need confirmation"
          : "this change needs confirmation"
      throw .message(
        .refused,
        "refused: \(why); no terminal to ask \"\(question)\"\(always ? "" : " (pass --yes to confirm)")")
    }
    let answer = prompts.withLock { _ in options.confirm(question) }
    invalidate()  // time passed while a person read the question
    if options.cancellation.isCancelled {
      journal(.interrupted, [("during", .text(question))])
      throw .message(.interrupted, "interrupted at the question: \(question)")
    }
    journal(.confirm, [("question", .text(question)), ("answer", .text(answer ? "yes" : "no"))])
    if !answer { throw .message(.refused, "declined: \(question)") }
  }

  // MARK: - Pending unknown outcomes

  /// Earlier unknown outcomes on this network not yet settled or confirmed (`run` mode with a
  /// journal only; scanned once).
  package var pendingOutcomes: [PendingOutcome] {
    pending.withLock { list in
      if let list { return list }
      var found: [PendingOutcome] = []
      if options.mode == .run, let journal = options.journal {
        found = PendingOutcome.scan(
          directory: journal.directory, network: network.name, excluding: journal.path,
          within: max(options.settleWindow, PendingOutcome.horizon))
      }
      list = found
      return found
    }
  }

  /// Holds an effect on a canister with an unknown outcome from an earlier run until the settle
  /// window has passed or an operator confirms at a terminal (`--yes` is not enough).
  private func settlePending(_ effect: Effect, label: String?) throws(RuntimeError) {
    let touched = Set(effect.canisters)
    let open = pendingOutcomes.filter { !touched.isDisjoint(with: $0.canisters) }
    for p in open {
      let age = Date().timeIntervalSince(p.time)
      // Time releases only what a re-read can see: a create or a conversion that landed late
      // shows nowhere the run looks, so only an operator releases it.
      if age >= options.settleWindow, p.observable {
        reconcile(p, "the settle window of \(settleText) has passed")
        continue
      }
      let earlier =
        "an earlier run's \(p.operation) on \(p.canisters.map(\.text).joined(separator: ", ")) (\(Int(age)) s ago, journal \(p.journal)) \(p.started ? "was started and never ended" : "has an unknown outcome") and may still land"
      guard options.interactive else {
        let left = ValueFormat.duration(Int64((options.settleWindow - age).rounded(.up)) * 1_000_000_000)
        let until =
          p.observable
          ? "until it settles (in \(left); see --settle) or an operator confirms at a terminal"
          : "until an operator has checked and confirms at a terminal (a \(p.operation) is not seen by a re-read, so time does not release it)"
        throw .message(.refused, "refused: \(earlier). rbic will not \(effect.description) \(until)")
      }
      try confirm("\(earlier); \(effect.description) anyway?", label: label, mutation: true, always: true)
      reconcile(p, "an operator confirmed acting again")
    }
  }

  private func reconcile(_ p: PendingOutcome, _ why: String) {
    pending.withLock { list in list?.removeAll { $0.id == p.id } }
    journal(.reconciled, [("request", .text(p.id)), ("reason", .text(why))])
  }
}
