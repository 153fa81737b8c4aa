import Foundation
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import Synchronization

extension Interpreter {
  // MARK: - The run

  /// Runs `body` on a thread whose stack fits the deepest nesting the limits allow (the call depth
  /// times the parser's nesting budget), so no runbook within its limits overflows the stack.
  /// The stack is reserved, not committed: pages are used only as deep as the run goes.
  static func onLargeStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let box = Mutex<T?>(nil)
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
      let value = body()
      box.withLock { $0 = value }
      done.signal()
    }
    thread.stackSize = Interpreter.stackSize
    thread.start()
    done.wait()
    return box.withLock { $0 } ?? body()  // the thread always sets it before signalling
  }

  /// 512 MiB of address space per interpreter thread (measured: a `fn` recursing 198 deep through
  /// 60 nested parentheses, near both limits, peaks at 141 MiB resident in a debug build; the
  /// 8 MiB of a main thread overflowed at 50 parentheses).
  static let stackSize = 512 << 20

  func run() -> RunResult {
    Interpreter.onLargeStack { [self] in runOnThisThread() }
  }

  private func runOnThisThread() -> RunResult {
    let main = program.main
    var result = RunResult(
      runbook: main.header?.name ?? "repl", version: main.header?.version ?? 0, mode: options.mode, steps: [],
      exitCode: 0, failure: nil, journalPath: options.journal?.path)
    var ctx = Context(frame: Array(repeating: .void, count: max(program.mainFrameSize, 1)))
    do {
      try bindParams()
      let principal = (try? backend.identityPrincipal())?.text
      result.principal = principal
      journal(
        .runStart,
        [
          ("runbook", .text(result.runbook)), ("version", .init(result.version)),
          ("source_sha256", .text(ValueFormat.hex(Hashing.sha256(main.file.bytes)))),
          ("mode", .text(options.mode.rawValue)), ("network", .text(network.name)),
          ("mainnet", .bool(network.isMainnet)), ("backend", .text(backend.name)),
          ("identity", .text(backend.identityName)), ("principal", .optional(principal)),
          ("plan", .optional(options.approval?.id)), ("origin", .object(options.origin.mapValues(JournalValue.text))),
          (
            "params_file",
            options.paramsFile.map { .object(["path": .text($0.path), "sha256": .text($0.sha256)]) } ?? .null
          ),
          (
            "params",
            .object(
              Dictionary(
                program.params.map { ($0.name, JournalValue(globals[$0.slot] ?? .none)) },
                uniquingKeysWith: { a, _ in a })
            )
          ),
        ])
      pipeline.journalPrimedStates()
      announcePending()
      for tree in program.trees {
        for stmt in tree.statements { try executeTopLevel(stmt, &ctx) }
      }
    } catch .failed(let error) {
      result.failure = error
      result.exitCode = error.kind.exitCode
    } catch .skipped(let reason) {
      let e = failure(
        .failed, "`skip` outside a step: \(reason)", at: SourceRange(file: main.file.id, start: 0, end: 0))
      result.failure = e
      result.exitCode = 1
    } catch .unknown(let what, _) {
      // As in a step: what follows cannot be predicted, which is not a failure of the runbook.
      pipeline.say("– the rest of the runbook \(dependsOn(what))", label: nil)
    } catch {
      result.exitCode = 1
    }
    result.steps = stepRecords.map { r in
      var r = r
      r.skipReason = r.skipReason.map(pipeline.redactor.scrub)
      r.failure = r.failure.map(pipeline.redactor.scrub)
      return r
    }
    if let failure = result.failure {
      result.failure = RuntimeError(failure.kind, pipeline.redactor.scrub(failure.diagnostic))
    }
    result.record = pipeline.record
    let recap = result.recap
    journal(
      .runEnd,
      [
        ("exit", .init(result.exitCode)),
        (
          "recap",
          .object([
            "ok": .init(recap.ok), "changed": .init(recap.changed), "skipped": .init(recap.skipped),
            "failed": .init(recap.failed),
          ])
        ),
        ("failure", .optional(result.failure?.diagnostic.message)),
      ])
    return result
  }

  /// Binds `--param` values (parsed with the literal rules) and defaults; a missing or malformed
  /// param stops the run before anything executes.
  /// `strict`: a `--param` the runbook does not declare is an error (a REPL session declares its
  /// params as it goes, so it is not).
  func bindParams(strict: Bool = true) throws(Unwind) {
    var ctx = Context(frame: [])
    // The same check a run session makes before it starts (for a host that runs a program itself).
    if strict, let problem = program.paramProblem(options.params) { throw .failed(problem) }
    for p in program.params where globals[p.slot] == nil {
      if let text = options.params[p.name] {
        guard let value = ParamParser.parse(text, as: p.type) else {
          let why = ParamParser.problem(text, as: p.type).map { ": \($0)" } ?? ""
          throw .failed(failure(.usage, "`--param \(p.name)=\(text)` is not a valid `\(p.type)`\(why)", at: p.range))
        }
        globals[p.slot] = value
      } else if let d = p.defaultValue {
        globals[p.slot] = try eval(d, &ctx)
      } else if p.type.isOptional {
        globals[p.slot] = Value.none
      } else {
        throw .failed(
          failure(.usage, "missing required param `\(p.name)`: pass `--param \(p.name)=…` (a `\(p.type)`)", at: p.range)
        )
      }
    }
  }

  func executeTopLevel(_ stmt: Stmt, _ ctx: inout Context) throws(Unwind) {
    switch stmt.kind {
    case .let(let name, _, let value):
      guard case .global(let slot) = program.declarations[name.range] else { return }
      globals[slot] = try eval(value, &ctx)
    case .param, .useNetwork, .useIdentity, .import, .importInterface, .function:
      return
    default:
      try executeStatement(stmt, &ctx)
    }
  }

  func execute(_ block: Block, _ ctx: inout Context) throws(Unwind) {
    for stmt in block.statements { try executeStatement(stmt, &ctx) }
  }

  func bind(_ name: Identifier, _ value: Value, _ ctx: inout Context) {
    switch program.declarations[name.range] {
    case .local(let slot):
      if slot >= ctx.frame.count { ctx.frame += repeatElement(.void, count: slot - ctx.frame.count + 1) }
      ctx.frame[slot] = value
    case .global(let slot): globals[slot] = value
    default: break
    }
  }

  func text(_ e: Expr) -> String { program.files[e.range.file].text(e.range) }

  // MARK: - Statements

  func executeStatement(_ stmt: Stmt, _ ctx: inout Context) throws(Unwind) {
    try tick(at: stmt.range)
    switch stmt.kind {
    case .let(let name, _, let value):
      bind(name, try eval(value, &ctx), &ctx)
    case .step(let title, let subject, let body):
      try executeStep(title, subject, body, stmt, &ctx)
    case .ensure(let condition, _):
      try ensure(condition, &ctx)
    case .require(let condition, let message):
      let passed = try holds(condition, &ctx)
      check("require " + text(condition), passed, &ctx)
      guard !passed else { return }
      throw .failed(RuntimeError(.failed, try assertionDiagnostic("require", condition, message, &ctx)))
    case .expect(let condition, let message):
      let passed = try holds(condition, &ctx)
      check("expect " + text(condition), passed, &ctx)
      guard !passed else { return }
      var d = try assertionDiagnostic("expect", condition, message, &ctx)
      d.severity = .warning
      warn(d.message, &ctx)
      journal(.expectFailed, [("message", .text(d.message))])
    case .confirm(let question):
      let q = ValueFormat.display(try concrete(try eval(question, &ctx), at: question.range))
      do { try pipeline.confirm(q, label: ctx.label, mutation: false) } catch {
        throw .failed(located(error, at: stmt.range))
      }
    case .skip(let reason):
      throw .skipped(ValueFormat.display(try eval(reason, &ctx)))
    case .fail(let message):
      let m = ValueFormat.display(try eval(message, &ctx))
      throw .failed(failure(.failed, m, at: stmt.range))
    case .print(let e):
      pipeline.print(ValueFormat.display(try eval(e, &ctx), exact: true), label: ctx.label)
    case .if(let condition, let then, let otherwise):
      if try holds(condition, &ctx) {
        try execute(then, &ctx)
      } else {
        switch otherwise {
        case .none: break
        case .block(let b): try execute(b, &ctx)
        case .elseIf(let s): try executeStatement(s, &ctx)
        }
      }
    case .for(let variable, let sequence, let body, let limit, let keepGoing):
      guard case .list(let items) = try concrete(try eval(sequence, &ctx), at: sequence.range) else {
        throw .failed(failure(.failed, "`for` needs a list", at: sequence.range))
      }
      if let limit {
        guard case .int(let n) = try eval(limit, &ctx), n >= 1 else {
          throw .failed(failure(.failed, "a parallel limit must be at least 1", at: limit.range))
        }
        try parallel(items, limit: Int(min(n, 256)), variable, body, keepGoing: keepGoing, &ctx)
      } else if let keepGoing {
        try self.keepGoing(items, variable, body, at: keepGoing, &ctx)
      } else {
        let outer = ctx.item
        defer { ctx.item = outer }
        for item in items {
          try tick(at: body.range)
          bind(variable, item, &ctx)
          ctx.item = Self.label(of: item)
          try execute(body, &ctx)
        }
      }
    case .call(let e, let cycles):
      _ = try callCanister(e, carrying: cycles, &ctx)
    case .onFailure(let block):
      guard let step = ctx.step else { return }
      let frame = ctx.frame
      let label = ctx.label
      failureHandlers.withLock { $0[step, default: []].append((block, frame, label)) }
    case .wait(let condition, let timeout):
      try wait(until: condition, timeout: timeout, stmt, &ctx)
    case .return(let value):
      throw .returned(try value.map { (x) throws(Unwind) in try eval(x, &ctx) } ?? .void)
    case .expression(let e):
      _ = try eval(e, &ctx)
    case .useNetwork, .useIdentity, .param, .import, .importInterface, .function:
      return
    }
  }

  func warn(_ message: String, _ ctx: inout Context) {
    let message = pipeline.redactor.scrub(EffectPipeline.labelled(message, ctx.label))
    if let step = ctx.step { records.withLock { $0[step].warnings.append(message) } }
    pipeline.say("  ! \(message)", label: nil)
  }

  func check(_ text: String, _ passed: Bool, _ ctx: inout Context) {
    guard let step = ctx.step else { return }
    let text = pipeline.redactor.scrub(EffectPipeline.labelled(text, ctx.label ?? ctx.item))
    records.withLock { r in
      r[step].checks.append(
        StepRecord.Check(text: text, passed: passed, canister: ctx.subject, changesBefore: r[step].changes.count))
    }
  }

  func recordChange(_ change: Change, _ ctx: inout Context) { recordChange(change, step: ctx.step, label: ctx.label) }

  func recordChange(_ change: Change, step: Int?, label: String?) {
    var change = change
    change.text = pipeline.redactor.scrub(EffectPipeline.labelled(change.text, label))
    if let step { records.withLock { $0[step].changes.append(change) } }
    pipeline.say("  \(options.mode == .plan ? "~" : "✓") \(change.text)", label: nil)
  }

  /// Why what follows a withheld effect is not run: `depends on `run …`, which plan does not run
  /// (--allow-local-effects runs local commands)`. With local effects allowed, what is still
  /// unknown is an update call's reply, which no flag sends in plan: the hint says that instead.
  func dependsOn(_ what: String) -> String {
    let mode = options.mode == .plan ? "plan" : "--read-only"
    return options.allowLocalEffects
      ? "depends on `\(what)`, whose result \(mode) cannot know (an update call is sent only by a run)"
      : "depends on `\(what)`, which \(mode) does not run (--allow-local-effects runs local commands; an update call is sent only by a run)"
  }

  /// Says which earlier unknown outcomes are pending on this network (they hold effects on their
  /// canisters until settled or confirmed).
  func announcePending() {
    for p in pipeline.pendingOutcomes {
      let age = Int(Date().timeIntervalSince(p.time))
      pipeline.say(
        "! pending: \(p.operation) on \(p.canisters.map(\.text).joined(separator: ", ")) from \(p.journal) (\(age) s ago) \(p.started ? "was started and never ended (rbic stopped while it ran)" : "has an unknown outcome"); its canister's state will be re-read, and nothing is sent to it again until \(p.observable ? "it settles or you confirm" : "you confirm")",
        label: nil
      )
      journal(
        .pending,
        [
          ("request", .text(p.id)), ("operation", .text(p.operation)),
          ("journal", .text(p.journal)),
        ])
    }
  }

  func executeStep(_ title: Expr, _ subject: Expr?, _ body: Block, _ stmt: Stmt, _ ctx: inout Context) throws(Unwind) {
    let name = ValueFormat.display(try eval(title, &ctx))
    var subjectPrincipal: Principal?
    if let subject {
      guard case .principal(let p) = try concrete(try eval(subject, &ctx), at: subject.range) else {
        throw .failed(failure(.failed, "a step's subject must be a canister", at: subject.range))
      }
      subjectPrincipal = p
    }
    let index = records.withLock { r in
      r.append(StepRecord(title: name))
      return r.count - 1
    }
    say("▸ \(name)", ctx)
    options.stepStarted(pipeline.redactor.scrub(EffectPipeline.labelled(name, ctx.label)))
    journal(.stepStart, [("step", .init(index + 1)), ("title", .text(name))])
    let saved = (ctx.subject, ctx.step)
    ctx.subject = subjectPrincipal
    ctx.step = index
    defer { (ctx.subject, ctx.step) = saved }
    var outcome: StepOutcome
    var thrown: Unwind?
    do {
      try execute(body, &ctx)
      let changed = records.withLock { !$0[index].changes.isEmpty }
      outcome = changed ? (options.mode == .plan ? .wouldChange : .changed) : .ok
    } catch .skipped(let reason) {
      outcome = .skipped
      records.withLock { $0[index].skipReason = reason }
      say("  – skipped: \(reason)", ctx)
    } catch .unknown(let what, _) {
      // Plan and --read-only withhold local effects; what depends on them cannot be predicted.
      outcome = .skipped
      let reason = "the rest of this step \(dependsOn(what))"
      records.withLock { $0[index].skipReason = reason }
      say("  – \(reason)", ctx)
    } catch {
      outcome = .failed
      runFailureHandlers(index, &ctx)
      if case .failed(var e) = error {
        if !e.diagnostic.notes.contains(where: { $0.message.hasPrefix("in step") }) {
          e.diagnostic = e.diagnostic.note("in step \(index + 1) \"\(name)\"")
        }
        records.withLock { $0[index].failure = e.diagnostic.message }
        thrown = .failed(e)
      } else {
        thrown = error
      }
    }
    failureHandlers.withLock { $0[index] = nil }
    let reason = records.withLock { r in
      r[index].outcome = outcome
      return r[index].skipReason ?? r[index].failure
    }
    var endFields: [(String, JournalValue)] = [("step", .init(index + 1)), ("outcome", .text(outcome.rawValue))]
    if let reason { endFields.append(("reason", .text(reason))) }
    journal(.stepEnd, endFields)
    if let thrown { throw thrown }
  }

  /// Runs a failed step's `on failure` blocks, the last registered first. A failure inside one is
  /// a warning (the step's own failure is what the run reports); after Ctrl-C none run, and the
  /// operator is told what was left undone.
  func runFailureHandlers(_ step: Int, _ ctx: inout Context) {
    let handlers = failureHandlers.withLock { h in
      defer { h[step] = nil }
      return h[step] ?? []
    }
    guard !handlers.isEmpty else { return }
    if options.cancellation.isCancelled {
      warn(
        "interrupted: \(handlers.count) `on failure` block\(handlers.count == 1 ? "" : "s") not run; do by hand what \(handlers.count == 1 ? "it says" : "they say")",
        &ctx)
      return
    }
    for handler in handlers.reversed() {
      say("  ↺ on failure", ctx)
      journal(.onFailure, [("step", .init(step + 1))])
      var inner = Context(frame: handler.frame, subject: ctx.subject, step: step, label: handler.label)
      do { try execute(handler.block, &inner) } catch {
        let why: String
        switch error {
        case .failed(let e): why = e.diagnostic.message
        case .skipped(let reason): why = reason
        case .unknown(let what, _): why = dependsOn(what)
        case .returned: continue
        }
        warn("an `on failure` block failed too: \(why)", &ctx)
      }
    }
  }

  /// `wait until COND timeout D`: re-reads state (dropping the cache) until COND holds, waiting
  /// 1 s, 2 s, 4 s … (at most 30 s) between reads; fails with COND's values when the time is up.
  /// Plan reads the predicted state once: what it would wait for is shown, not waited for.
  func wait(until condition: Expr, timeout: Expr, _ stmt: Stmt, _ ctx: inout Context) throws(Unwind) {
    guard case .duration(let ns) = try concrete(try eval(timeout, &ctx), at: timeout.range), ns >= 0 else {
      throw .failed(failure(.failed, "a wait's timeout must be a duration of at least 0", at: timeout.range))
    }
    let conditionText = text(condition)
    let deadline = Date().addingTimeInterval(Double(ns) / 1e9)
    var pause = 1.0
    while true {
      pipeline.invalidate()
      if try holds(condition, &ctx) {
        check("wait until " + conditionText, true, &ctx)
        return
      }
      if options.mode == .plan {
        say("  ~ would wait until \(conditionText) (at most \(ValueFormat.duration(ns)))", ctx)
        return
      }
      let left = deadline.timeIntervalSinceNow
      if left <= 0 {
        check("wait until " + conditionText, false, &ctx)
        var d = try assertionDiagnostic("wait until", condition, nil, &ctx)
        d.message = "waited \(ValueFormat.duration(ns)) and `\(conditionText)` still does not hold"
        throw .failed(RuntimeError(.failed, d))
      }
      say("  … waiting until \(conditionText) (\(Int(left.rounded(.up))) s left)", ctx)
      guard options.cancellation.sleep(min(pause, left)) else {
        throw .failed(failure(.interrupted, "interrupted while waiting until \(conditionText)", at: stmt.range))
      }
      pause = min(pause * 2, 30)
    }
  }

  /// A failed `require`/`expect`, power-assert style: the values of the comparison's two sides.
  func assertionDiagnostic(_ keyword: String, _ condition: Expr, _ message: Expr?, _ ctx: inout Context) throws(Unwind)
    -> Diagnostic
  {
    var labels: [Diagnostic.Label] = []
    var primary = condition.range
    var inner = condition
    while case .paren(let x) = inner.kind { inner = x }
    if case .binary(let op, let l, let r) = inner.kind, op.isComparison {
      let lv = try eval(l, &ctx)
      let rv = try eval(r, &ctx)
      primary = l.range
      labels = [.init(l.range, ValueFormat.display(lv)), .init(r.range, ValueFormat.display(rv))]
    }
    var text = "\(keyword) failed: \(self.text(condition))"
    if let message { text += ": " + ValueFormat.display(try eval(message, &ctx)) }
    return Diagnostic.error(.assertionFailed, text, at: primary, labels: labels)
  }

  // MARK: - call

  /// A canister call, `call c.method(args)` (statement or value): an update call goes through the
  /// pipeline like any effect. With the canister's interface, the arguments go with the method's
  /// exact types, a query is sent as a query (a read: no gate, allowed in plan and --read-only),
  /// and the reply is decoded against the method's results; without one, the reply is its Candid
  /// text. An update in plan is shown, not sent: its reply is unknown.
  ///
  /// Cycles: a call of a method known to move them (a wallet's `wallet_send`) is held to the
  /// ceiling like the `wallet` action and locks the recipient too; a call `with cycles N via wallet
  /// W` is made by the wallet, carrying N of its cycles to the callee: N counts against the ceiling,
  /// the wallet and the callee are locked, and the callee is the effect's recipient.
  func callCanister(_ e: Expr, carrying carried: CallCycles? = nil, _ ctx: inout Context, as outerType: RType? = nil)
    throws(Unwind) -> Value
  {
    guard case .call(let callee, let arguments) = e.kind, case .member(let target, let method) = callee.kind else {
      throw .failed(failure(.failed, "`call` needs `canister.method(args)`", at: e.range))
    }
    guard case .principal(let canister) = try concrete(try eval(target, &ctx), at: target.range) else {
      throw .failed(failure(.failed, "`call` needs a canister", at: target.range))
    }
    if canister == ManagementCanister.id, ManagementCanister.replacingModule.contains(method.name) {
      throw .failed(
        failure(
          .refused,
          "refused: `\(method.name)` on the management canister replaces a module without the install action's checks; write `ensure hash == H via install PATH` (nothing was sent)",
          at: e.range))
    }
    let payment = try carried.map { (c) throws(Unwind) in try callPayment(c, &ctx) }
    var values: [Value] = []
    for a in arguments { values.append(try concrete(try eval(a.value, &ctx), at: a.value.range)) }
    var candid = Candid.encode(values)
    var shown = "call \(canister.text).\(method.name)\(Candid.redacted(values))"
    var signature: (CandidFunction, CandidEnvironment)?
    // With the canister's interface — known when checked, or else the one its module publishes,
    // read once per run — every argument goes with the method's exact type.
    let checked = program.methodCalls[e.id].flatMap { typed in
      program.interfaces[typed.interface].flatMap { env in env.method(typed.method).map { ($0, env) } }
    }
    let publishedInterface = pipeline.interface(of: canister)
    let published =
      checked == nil ? publishedInterface.flatMap { env in env.method(method.name).map { ($0, env) } } : nil
    // Loud when reality disagrees: the interface the canister publishes must serve the call the
    // runbook was checked against (the wrong canister, or one upgraded under it).
    if let (expected, imported) = checked, let actual = publishedInterface,
      let typed = program.methodCalls[e.id]
    {
      guard let served = actual.method(method.name) else {
        throw .failed(
          failure(
            .environment,
            "\(canister.text) has no method `\(method.name)` (its published interface has \(actual.methods.map { "`\($0.name)`" }.joined(separator: ", "))); the runbook says it speaks `\(typed.interface)`",
            at: e.range))
      }
      let subtyping = CandidSubtyping(actual, imported)
      guard subtyping.isSubtype(served, expected) else {
        throw .failed(
          failure(
            .environment,
            "\(canister.text) publishes `\(method.name) : \(served)`, which does not serve `\(typed.interface)`'s `\(method.name) : \(expected)`; nothing was sent",
            at: e.range))
      }
    }
    if let (f, env) = checked ?? published {
      signature = (f, env)
      do throws(CandidEncoding.Misfit) {
        candid = CandidValue.print(arguments: try CandidEncoding.encode(values, as: f.arguments, in: env))
        let hidden = try CandidEncoding.encode(values.map(Candid.withoutSecrets), as: f.arguments, in: env)
        shown = "call \(canister.text).\(method.name)\(Candid.shown(hidden))"
      } catch {
        throw .failed(failure(.environment, "cannot call \(method.name): \(error.message)", at: e.range))
      }
    }
    let started = Date()
    let outcome: EffectOutcome<(text: String, value: Value)>
    let transfer = CyclesTransfer.find(canister: canister, method: method.name, values)
    // What the call moves out of the operator's funds: the cycles it carries and those its method
    // moves (a `wallet_send` made through a wallet), together.
    let (moved, overflow) = (payment?.amount ?? 0).addingReportingOverflow(transfer?.amount ?? 0)
    guard !overflow else { throw .failed(failure(.failed, "overflow in the cycles `\(shown)` moves", at: e.range)) }
    let changed = payment == nil ? transfer?.amount : moved
    if payment != nil, let (f, _) = signature, f.isQuery {
      throw .failed(
        failure(
          .failed, "`\(method.name)` is a query on \(canister.text), and a query carries no cycles; nothing was sent",
          at: e.range))
    }
    // The reply is read inside the effect: a call that was sent and whose reply cannot be read has
    // an unknown outcome (journaled, held on re-run), never a plain failure.
    let read = { (answer: String) throws(BackendError) -> (text: String, value: Value) in
      // Only an interface known when checked gives the reply a type; otherwise it is its text.
      guard let (f, env) = checked else { return (answer, .text(answer)) }
      do throws(CandidReply.Mismatch) {
        // A `nat` the runbook reads as cycles (its checked type says so).
        if case .cycles? = outerType, let n = try CandidReply.natural(answer, f.results, in: env) {
          return (answer, .cycles(n))
        }
        return (answer, try CandidReply.decode(answer, f.results, in: env))
      } catch {
        throw .environment("the reply of \(method.name) does not match its interface: \(error.message)")
      }
    }
    if payment == nil, let (f, _) = signature, f.isQuery {
      shown = shown.replacingOccurrences(of: "call ", with: "query ", options: .anchored)
      do {
        outcome = .done(try read(try pipeline.backend.query(canister, method: method.name, argument: candid)))
      } catch {
        outcome = .failed(error)
      }
    } else {
      // The amount is in the description and counted on its own; the detail (what a saved plan
      // must match exactly) names the wallet and that cycles go with the call.
      let via = payment.map { " via wallet \($0.wallet.text)" } ?? ""
      let carrying = payment.map { " with \(ValueFormat.cycles($0.amount, exact: true)) cycles\(via)" } ?? ""
      let unreadable = transfer?.unknownAmount == true ? " (it moves cycles: an amount rbic cannot read)" : ""
      let effect = Effect(
        "call",
        target: .canisters([canister] + (payment.map { [$0.wallet] } ?? []) + (transfer?.recipient.map { [$0] } ?? [])),
        description: shown + carrying + unreadable, cycles: moved,
        confirmation: transfer?.unknownAmount == true ? .always : .onMainnet,
        predictable: false, detail: shown + (payment == nil ? "" : " with cycles\(via)") + unreadable,
        recipient: payment == nil ? transfer?.recipient : canister)
      do {
        outcome = try pipeline.perform(effect, held: ctx.held, label: ctx.label) { (b) throws(BackendError) in
          guard let payment else { return try read(try b.call(canister, method: method.name, argument: candid)) }
          return try read(
            try b.call(
              canister, method: method.name, argument: candid, cycles: payment.amount, wallet: payment.wallet))
        }
      } catch {
        throw .failed(located(error, at: e.range))
      }
    }
    switch outcome {
    case .withheld:
      recordChange(Change(shown + shownPayment(payment), canister: canister, action: "call", amount: changed), &ctx)
      return .unknown(shown)
    case .done(let (answer, value)):
      // A reply to a call that carried a secret may echo it, or something made from it.
      let reply =
        values.contains(where: \.containsSecret)
        ? "<reply withheld: the call carried a secret>" : Candid.shownReply(answer)
      journal(
        .call,
        [
          ("canister", .text(canister.text)), ("method", .text(method.name)),
          ("argument", .text(Candid.redacted(values))), ("reply", .text(reply)),
          ("seconds", .seconds(Date().timeIntervalSince(started))),
        ]
          + (payment.map { [("cycles", .integer($0.amount)), ("wallet", .text($0.wallet.text))] } ?? []))
      if shown.hasPrefix("query ") {
        say("  · \(shown) → \(reply)", ctx)
      } else {
        recordChange(
          Change("\(shown)\(shownPayment(payment)) → \(reply)", canister: canister, action: "call", amount: changed),
          &ctx)
      }
      return value
    case .failed(let error):
      journal(
        .callFailed,
        [
          ("canister", .text(canister.text)), ("method", .text(method.name)),
          ("error", .text(error.description)),
        ])
      throw .failed(backendFailure(error, at: e.range))
    case .unknown(let message):
      throw .failed(
        failure(
          .outcomeUnknown,
          "the outcome of \(shown) is unknown (\(message)); it is not sent again blindly: check \(canister.text) and the journal before running again",
          at: e.range))
    }
  }

  /// The cycles a call carries and the wallet they come from, evaluated: a whole, non-negative
  /// amount, and a wallet's principal.
  func callPayment(_ c: CallCycles, _ ctx: inout Context) throws(Unwind) -> (amount: Int128, wallet: Principal) {
    guard case .cycles(let amount) = try concrete(try eval(c.amount, &ctx), at: c.amount.range), amount >= 0 else {
      throw .failed(failure(.failed, "a call carries a whole, non-negative amount of cycles", at: c.amount.range))
    }
    guard case .principal(let wallet) = try concrete(try eval(c.wallet, &ctx), at: c.wallet.range) else {
      throw .failed(failure(.failed, "cycles come from a wallet", at: c.wallet.range))
    }
    return (amount, wallet)
  }

  /// ` with N cycles via wallet W`, as a change shows it (the amount exact).
  private func shownPayment(_ payment: (amount: Int128, wallet: Principal)?) -> String {
    payment.map { " with \(ValueFormat.cycles($0.amount, exact: true)) cycles via wallet \($0.wallet.text)" } ?? ""
  }

  // MARK: - parallel for

  /// Runs the body for each item on up to `limit` threads. No branch outlives the loop; the first
  /// failure stops the others from starting new items and is rethrown after all have finished.
  /// With `keep going`, a failure the rule lets the loop go past (`KeepGoingTally`) is recorded
  /// instead, and the loop fails once every item has been attempted.
  /// Each branch names its item on every line it prints, in its checks and in its changes.
  func parallel(
    _ items: [Value], limit: Int, _ variable: Identifier, _ body: Block, keepGoing: SourceRange?,
    _ ctx: inout Context
  ) throws(Unwind) {
    let next = Atomic<Int>(0)
    let firstError = Mutex<(error: Unwind, item: String)?>(nil)
    let tally = Mutex(keepGoing.map { KeepGoingTally(range: $0, total: items.count) })
    let group = DispatchGroup()
    let base = ctx
    let work: @Sendable () -> Void = { [self] in
      var local = base
      while firstError.withLock({ $0 == nil }) {
        let i = next.add(1, ordering: .relaxed).oldValue
        guard i < items.count else { break }
        let label = Self.label(of: items[i])
        local.label = label
        do throws(Unwind) {
          try tick(at: body.range)
          bind(variable, items[i], &local)
          try execute(body, &local)
        } catch {
          let goesOn = tally.withLock { $0?.admit(error, index: i, item: label) ?? false } && pipeline.journalWritable
          if goesOn {
            noteItemFailure(error, item: label, step: local.step)
          } else {
            firstError.withLock { if $0 == nil { $0 = (error, label) } }
          }
        }
      }
    }
    // This thread is one worker; the others come from the run's one pool of worker slots, shared by
    // every `parallel for` at every level, so nesting never multiplies threads. With no slot free,
    // this thread works through the items alone.
    let extra = takeWorkers(min(limit, items.count) - 1)
    defer { workerSlots.add(extra, ordering: .relaxed) }
    for _ in 0..<extra {
      group.enter()
      let thread = Thread {
        defer { group.leave() }
        work()
      }
      thread.stackSize = Interpreter.stackSize
      thread.start()
    }
    work()
    group.wait()
    let kept = tally.withLock { $0 }
    if let (error, item) = firstError.withLock({ $0 }) {
      guard let kept else { throw error }
      let started = min(next.load(ordering: .relaxed), items.count)
      throw kept.stopped(by: error, at: item, notAttempted: items[started...].map(Self.label))
    }
    if let outcome = kept?.outcome { throw outcome }
  }

  /// Takes up to `wanted` worker slots; returns how many it got.
  func takeWorkers(_ wanted: Int) -> Int {
    var got = 0
    while got < wanted {
      let free = workerSlots.load(ordering: .relaxed)
      guard free > 0 else { break }
      if workerSlots.compareExchange(expected: free, desired: free - 1, ordering: .relaxed).exchanged { got += 1 }
    }
    return got
  }

  /// How a branch's item is named: a canister by its id, a record by its `name` field.
  static func label(of item: Value) -> String {
    switch item {
    case .record(let keys, let values):
      if let i = keys.firstIndex(of: "name") { return ValueFormat.display(values[i]) }
      if let i = keys.firstIndex(of: "id") { return ValueFormat.display(values[i]) }
    default: break
    }
    return ValueFormat.display(item)
  }
}

/// Candid for `call` arguments when the method's types are not known, built from values (never
/// by pasting source text) and printed by the one Candid printer.
package enum Candid {
  /// An rbic value as the Candid value sent without an interface: units with the type that holds
  /// them (`cycles` as `nat`), a hash as a blob, a status as its variant, nothing as `null`.
  static func value(_ v: Value) -> CandidValue {
    switch v {
    case .bool(let b): .bool(b)
    case .int(let i): .integer(Int128(i), .int)
    case .cycles(let c): .integer(c, .nat)
    case .icp(let n), .duration(let n), .bytes(let n): .integer(Int128(n), .nat64)
    case .text(let t), .path(let t): .text(t)
    case .secret(let s): .text(s.reveal)
    case .principal(let p): .principal(p.text)
    case .hash(let h), .blob(let h): .blob(h)
    case .variant(let tag, .void): .variant(CandidValueField(.named(tag), .null))
    case .variant(let tag, let payload): .variant(CandidValueField(.named(tag), value(payload)))
    case .status(let s): .variant(CandidValueField(.named(s.rawValue), .null))
    case .list(let items): .vec(items.map(value))
    case .record(let keys, let values): .record(zip(keys, values).map { CandidValueField(.named($0), value($1)) })
    case .none, .void, .unknown: .null
    }
  }

  /// The argument list sent (one line).
  static func encode(_ values: [Value]) -> String { CandidValue.print(arguments: values.map(value), width: .max) }

  /// The value with every secret, however deep, replaced by the text `<secret>`.
  package static func withoutSecrets(_ v: Value) -> Value {
    switch v {
    case .secret: .text("<secret>")
    case .list(let items): .list(items.map(withoutSecrets))
    case .record(let keys, let values): .record(keys, values.map(withoutSecrets))
    case .variant(let tag, let payload): .variant(tag, withoutSecrets(payload))
    default: v
    }
  }

  /// The argument list as shown to people and the journal: secrets hidden, however deep, and long
  /// blobs abbreviated.
  package static func redacted(_ values: [Value]) -> String {
    shown(values.map { value(withoutSecrets($0)) })
  }

  /// A reply as shown to people and the journal: as the tool printed it, unless it holds a blob
  /// longer than `ValueFormat.blobShownInFull`, which is abbreviated (`shown`).
  package static func shownReply(_ text: String) -> String {
    func long(_ v: CandidValue) -> Bool {
      switch v {
      case .blob(let b): b.count > ValueFormat.blobShownInFull
      case .opt(let x), .annotated(let x, _): long(x)
      case .vec(let items): items.contains(where: long)
      case .record(let fields): fields.contains { long($0.value) }
      case .variant(let f): long(f.value)
      default: false
      }
    }
    guard let values = try? CandidValue.parseArguments(text), values.contains(where: long) else { return text }
    return shown(values)
  }

  /// Candid values as shown to people and the journal, one line: a blob longer than
  /// `ValueFormat.blobShownInFull` as its size and sha256 (a module is not for reading). What is
  /// sent is the values themselves.
  package static func shown(_ values: [CandidValue]) -> String {
    func abbreviated(_ v: CandidValue) -> CandidValue {
      switch v {
      case .blob(let b) where b.count > ValueFormat.blobShownInFull: .text("<blob \(ValueFormat.blob(b))>")
      case .opt(let x): .opt(abbreviated(x))
      case .vec(let items): .vec(items.map(abbreviated))
      case .record(let fields): .record(fields.map { CandidValueField($0.label, abbreviated($0.value)) })
      case .variant(let f): .variant(CandidValueField(f.label, abbreviated(f.value)))
      case .annotated(let x, let t): .annotated(abbreviated(x), t)
      default: v
      }
    }
    return CandidValue.print(arguments: values.map(abbreviated), width: .max)
  }
}
