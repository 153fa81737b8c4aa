import Foundation
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import Synchronization

/// The interpreter: a checked program in, effects through the effect pipeline and a `RunResult`
/// out.
///
/// It walks the syntax tree using the checker's side tables: names are slots (`Resolution`),
/// literals have their adopted types, ensures are compiled contracts. Only builtins, actions and
/// constants are found by name, in the `Registry` that holds their bodies, and labelled arguments
/// are matched to parameters by name. Every effect goes through `EffectPipeline` (gates, ceiling,
/// locks, journal, plan). Overflow, the step limit and the call depth are runtime errors with a
/// location, never traps.
///
/// `@unchecked Sendable`: `parallel for` branches share the interpreter. What they share is
/// immutable, or guarded in one place: `globals` is written only by top-level code (before and
/// between loops, never while branches run), step records and the project files sit behind
/// mutexes, the step counter is atomic, and each branch has its own `Context`.
package final class Interpreter: @unchecked Sendable {
  let program: CheckedProgram
  let registry: Registry
  let options: RunOptions
  var network: ProjectFiles.Network { pipeline.network }
  package let pipeline: EffectPipeline
  var backend: Backend { pipeline.backend }
  package var globals: [Value?]
  /// Per-function data the call path needs, computed once (profiling fib(27): copying
  /// `FunctionInfo` and rebuilding parameter-name arrays on every call cost about a fifth).
  let functionTable: [CompiledFunction]
  let started = DispatchTime.now().uptimeNanoseconds
  let records = Mutex<[StepRecord]>([])
  /// `on failure` blocks registered in each running step (by step index), with the frame and the
  /// branch label they were registered with; a `parallel for` branch's land here too.
  let failureHandlers = Mutex<[Int: [(block: Block, frame: [Value], label: String?)]]>([:])
  let stepCount = Atomic<Int>(0)
  /// Threads `parallel for` may still start, for all levels together (`RunOptions.maxThreads`).
  let workerSlots: Atomic<Int>
  /// The project files, read once (by the first `canister_ids`, or to resolve the network) and
  /// then kept for the run.
  private let projectFiles: Mutex<ProjectFiles?>

  var project: ProjectFiles {
    projectFiles.withLock { p in
      if let p { return p }
      let read = ProjectFiles(directory: options.projectDirectory)
      p = read
      return read
    }
  }

  /// `network`: the network already resolved by the host (a REPL session resolves it once, not
  /// for every input); otherwise it is resolved from the project files here.
  package init(
    program: CheckedProgram, registry: Registry, backend: Backend, options: RunOptions, globals: [Value?] = [],
    budget: CyclesBudget? = nil, network: ProjectFiles.Network? = nil
  ) {
    self.program = program
    self.registry = registry
    self.options = options
    var read: ProjectFiles?
    let resolved =
      network
      ?? {
        let project = ProjectFiles(directory: options.projectDirectory)
        read = project
        return project.network(named: options.networkName(for: program))
      }()
    self.projectFiles = Mutex(read)
    self.pipeline = EffectPipeline(options: options, backend: backend, network: resolved, budget: budget)
    self.globals = globals + Array(repeating: nil, count: max(0, program.globalCount - globals.count))
    self.workerSlots = Atomic(max(0, options.maxThreads - 1))
    self.functionTable = program.functions.map {
      CompiledFunction(
        body: $0.declaration.body, frameSize: max($0.frameSize, $0.parameterTypes.count),
        names: $0.declaration.parameters.map(\.name.name))
    }
  }

  /// Gives a backend this run's cancellation and journal for its external commands.
  package func attach(_ backend: Backend) {
    backend.begin(
      BackendSession(cancellation: options.cancellation, record: { [pipeline] in pipeline.journalCommand($0) }))
  }

  struct CompiledFunction {
    var body: Block
    var frameSize: Int
    var names: [String]
  }

  /// Per-branch execution state.
  struct Context {
    var frame: [Value]
    var subject: Principal?
    /// The index of the current step in `records`, if inside one.
    var step: Int?
    var depth = 0
    /// The canisters and wallets whose locks this branch holds (an ensure's).
    var held: Set<Principal> = []
    /// In a `parallel for` branch: its item, named on every line it prints.
    var label: String?
    /// In a plain `for`: its item, named in the checklist (nine canisters, nine distinct lines).
    var item: String?
  }

  var stepRecords: [StepRecord] { records.withLock { $0 } }

  func journal(_ event: JournalEvent, _ fields: [(String, JournalValue)]) {
    pipeline.journal(event, fields)
  }

  func say(_ line: String, _ ctx: Context) { pipeline.say(line, label: ctx.label) }

  // MARK: - Errors

  func failure(_ kind: RuntimeError.Kind, _ message: String, at range: SourceRange, labels: [Diagnostic.Label] = [])
    -> RuntimeError
  {
    RuntimeError(
      kind, Diagnostic.error(.runtimeError, message, at: range, labels: labels))
  }

  func backendFailure(_ error: BackendError, at range: SourceRange) -> RuntimeError {
    if options.cancellation.isCancelled {
      journal(.interrupted, [("during", .text(error.description))])
      return failure(.interrupted, "interrupted", at: range)
    }
    return located(.backend(error), at: range)
  }

  /// An error from a builtin, an action or the pipeline, placed at `range` when it has no location.
  func located(_ error: RuntimeError, at range: SourceRange) -> RuntimeError {
    var error = error
    if error.diagnostic.range.file.raw < 0 { error.diagnostic.range = range }
    return error
  }

  /// Counts `n` units of work against the step limit.
  func charge(_ n: Int, at range: SourceRange) throws(Unwind) {
    guard n > 0 else { return }
    if stepCount.add(n, ordering: .relaxed).newValue > options.maxSteps {
      throw .failed(failure(.limit, "the run exceeded its limit of \(options.maxSteps) steps", at: range))
    }
    if n >= 4096 { try checkMemory(at: range) }
  }

  /// Stops the run when the process's resident memory is past `maxMemoryBytes` (Linux:
  /// `/proc/self/statm`; elsewhere the value limits alone apply).
  func checkMemory(at range: SourceRange) throws(Unwind) {
    guard let limit = options.maxMemoryBytes, let resident = Self.residentBytes(), resident > limit else { return }
    throw .failed(
      failure(
        .limit,
        "the run exceeded its memory limit of \(ValueFormat.bytesText(Int64(limit))) (resident: \(ValueFormat.bytesText(Int64(resident))))",
        at: range))
  }

  static func residentBytes() -> Int? {
    guard let data = FileManager.default.contents(atPath: "/proc/self/statm"),
      let pages = String(decoding: data, as: UTF8.self).split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { return nil }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
  }

  /// List elements in `values` (top level), the measure of a builtin's work.
  static func elements(_ values: [Value]) -> Int {
    values.reduce(0) { n, v in if case .list(let items) = v { n + items.count } else { n } }
  }

  /// `v`, if it is within the value limits (`maxValueElements`, `maxTextBytes`).
  func sized(_ v: Value, at range: SourceRange) throws(Unwind) -> Value {
    switch v {
    case .list(let items) where items.count > options.maxValueElements:
      throw .failed(
        failure(
          .failed, "a list of \(items.count) elements is over the limit of \(options.maxValueElements)", at: range))
    case .text(let t) where t.utf8.count > options.maxTextBytes, .path(let t) where t.utf8.count > options.maxTextBytes:
      throw .failed(
        failure(.failed, "a text of \(t.utf8.count) bytes is over the limit of \(options.maxTextBytes)", at: range))
    default: return v
    }
  }

  /// Counts one unit of work against the step limit and honours cancellation.
  func tick(at range: SourceRange) throws(Unwind) {
    if options.cancellation.isCancelled {
      journal(.interrupted, [])
      throw .failed(failure(.interrupted, "interrupted", at: range))
    }
    let count = stepCount.add(1, ordering: .relaxed).newValue
    if count & 4095 == 0 { try checkMemory(at: range) }
    if count > options.maxSteps {
      throw .failed(failure(.limit, "the run exceeded its limit of \(options.maxSteps) steps", at: range))
    }
    if let limit = options.timeLimit, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 > limit {
      throw .failed(failure(.limit, "the run exceeded its time limit of \(limit) s", at: range))
    }
  }

  // MARK: - Canister state

  func state(of canister: Principal, at range: SourceRange) throws(Unwind) -> CanisterState {
    do { return try pipeline.state(of: canister) } catch { throw .failed(backendFailure(error, at: range)) }
  }

  func property(_ p: CanisterProperty, of canister: Principal, at range: SourceRange) throws(Unwind) -> Value {
    if p == .id { return .principal(canister) }
    // The module hash and the controllers are public: once the controller view has been refused,
    // a non-controller reads them from the state tree (`dfx canister info`) instead of failing.
    if p == .hash || p == .controllers, !pipeline.isCached(canister), let info = try publicView(of: canister, at: range)
    {
      return p == .hash ? (info.moduleHash.map(Value.hash) ?? .none) : .list(info.controllers.map(Value.principal))
    }
    let s: CanisterState
    do {
      s = try state(of: canister, at: range)
    } catch {
      // The first refusal: fall back to the public view for what it can answer.
      if p == .hash || p == .controllers, let info = try publicView(of: canister, at: range) {
        return p == .hash ? (info.moduleHash.map(Value.hash) ?? .none) : .list(info.controllers.map(Value.principal))
      }
      throw error
    }
    switch p {
    case .id: return .principal(canister)
    case .cycles, .balance: return .cycles(s.cycles)
    case .hash: return s.moduleHash.map(Value.hash) ?? .none
    case .controllers: return .list(s.controllers.map(Value.principal))
    case .status: return .status(s.status)
    case .memory: return .bytes(s.memory)
    case .freezingThreshold: return .duration(Self.nanoseconds(s.freezingThreshold))
    case .idleBurn: return .cycles(s.idleBurnPerDay)
    case .reservedCycles: return .cycles(s.reservedCycles)
    case .freezeIn: return .duration(s.secondsUntilFrozen.map(Self.nanoseconds) ?? Int64.max)
    case .memoryAllocation: return .bytes(s.memoryAllocation)
    case .reservedCyclesLimit: return .cycles(s.reservedCyclesLimit)
    case .logVisibility: return .text(s.logVisibility.rawValue)
    }
  }

  /// Seconds as a duration (nanoseconds), saturating.
  package static func nanoseconds(_ seconds: Int64) -> Int64 {
    let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    return overflow ? Int64.max : ns
  }

  /// The public view, when the controller view was refused; nil when the identity is a controller.
  func publicView(of canister: Principal, at range: SourceRange) throws(Unwind) -> PublicCanisterInfo? {
    do { return try pipeline.publicView(of: canister) } catch { throw .failed(backendFailure(error, at: range)) }
  }

  // MARK: - Expressions

  func type(_ e: Expr) -> RType? { e.id < program.types.count ? program.types[e.id] : nil }

  func eval(_ e: Expr, _ ctx: inout Context) throws(Unwind) -> Value {
    switch e.kind {
    case .reply(let inner, let cycles):
      return try callCanister(inner, carrying: cycles, &ctx, as: type(e))
    case .integer(let v):
      switch type(e) {
      case .cycles: return .cycles(Int128(v))
      case .bytes: return .bytes(v)
      case .duration: return .duration(v)
      case .icp: return .icp(v)
      default: return .int(v)
      }
    case .amount(let unit, let v):
      switch unit {
      case .cycles: return .cycles(v)
      case .icp: return .icp(Int64(v))
      case .duration: return .duration(Int64(v))
      case .bytes: return .bytes(Int64(v))
      }
    case .string(let parts):
      var text = ""
      var secret = false
      for part in parts {
        switch part {
        case .text(let t): text += t
        case .expr(let x):
          let v = try eval(x, &ctx)
          if v.isUnknown { return v }
          if case .secret(let s) = v {  // a text typed `text` that carries a secret (a command's output)
            secret = true
            text += s.reveal
          } else {
            text += ValueFormat.display(v, exact: true)
          }
        }
      }
      if secret { return .secret(Secret(text)) }
      return try sized(type(e) == .path ? .path(text) : .text(text), at: e.range)
    case .bool(let b): return .bool(b)
    case .none: return .none
    case .hash(let bytes): return .hash(bytes)
    case .principal(let bytes): return .principal(Principal(bytes: bytes))
    case .variant(let tag, let payload):
      guard let payload else { return .variant(tag.name, .void) }
      let value = try eval(payload, &ctx)
      return value.isUnknown ? value : .variant(tag.name, value)
    case .invalid:
      throw .failed(failure(.failed, "this expression did not check", at: e.range))
    case .name:
      return try evalName(e, &ctx)
    case .paren(let x):
      return try eval(x, &ctx)
    case .list(let items):
      var out: [Value] = []
      out.reserveCapacity(items.count)
      for item in items { out.append(try eval(item, &ctx)) }
      return .list(out)
    case .record(let fields):
      var values: [Value] = []
      for f in fields { values.append(try eval(f.value, &ctx)) }
      return .record(fields.map(\.name.name), values)
    case .unary(.not, let x):
      let v = try eval(x, &ctx)
      return v.isUnknown ? v : .bool(!v.asBool)
    case .unary(.negate, let x):
      let v = try eval(x, &ctx)
      return v.isUnknown ? v : try negate(v, at: e.range)
    case .binary(let op, let l, let r):
      return try evalBinary(op, l, r, e, &ctx)
    case .member(let target, let name):
      let value = try eval(target, &ctx)
      return value.isUnknown ? value : try member(value, name.name, &ctx, at: e.range)
    case .index(let target, let index):
      let list = try eval(target, &ctx)
      let i = try eval(index, &ctx)
      if list.isUnknown { return list }
      if i.isUnknown { return i }
      guard case .list(let items) = list, case .int(let n) = i else {
        throw .failed(failure(.failed, "cannot index this value", at: e.range))
      }
      guard n >= 0, n < items.count else {
        throw .failed(failure(.failed, "index \(n) is out of range for a list of \(items.count)", at: index.range))
      }
      return items[Int(n)]
    case .call(let callee, let arguments):
      return try evalCall(e, callee, arguments, &ctx)
    }
  }

  func evalName(_ e: Expr, _ ctx: inout Context) throws(Unwind) -> Value {
    guard e.id < program.resolutions.count, let resolution = program.resolutions[e.id] else {
      throw .failed(failure(.failed, "unresolved name", at: e.range))
    }
    switch resolution {
    case .global(let slot):
      guard let v = globals[slot] else {
        throw .failed(
          failure(
            .failed, "`\(program.files[e.range.file].text(e.range))` is used before it is initialised", at: e.range))
      }
      return v
    case .local(let slot): return ctx.frame[slot]
    case .constant(let name):
      if let value = registry.constantValues[name] { return value }
      // The checker resolved it as a constant; a status word is the only other kind.
      guard let status = CanisterStatus(rawValue: name) else {
        throw .failed(failure(.failed, "`\(name)` has no value in this registry", at: e.range))
      }
      return .status(status)
    case .word(let w): return .text(w)
    case .subjectProperty(let p):
      guard let subject = ctx.subject else { throw .failed(failure(.failed, "no step subject here", at: e.range)) }
      return try property(p, of: subject, at: e.range)
    case .function, .builtin:
      throw .failed(failure(.failed, "a function is not a value", at: e.range))
    }
  }

  func member(_ value: Value, _ name: String, _ ctx: inout Context, at range: SourceRange) throws(Unwind) -> Value {
    switch value {
    case .principal(let p):
      guard let property = CanisterProperty(rawValue: name) else { break }
      return try property.self == .id ? .principal(p) : self.property(property, of: p, at: range)
    case .list(let items) where name == "count": return .int(Int64(items.count))
    case .text(let t) where name == "count": return .int(Int64(t.count))
    case .record(let keys, let values):
      if let i = keys.firstIndex(of: name) { return values[i] }
    default: break
    }
    throw .failed(failure(.failed, "no property `\(name)` here", at: range))
  }

  func negate(_ v: Value, at range: SourceRange) throws(Unwind) -> Value {
    switch v {
    case .int(let i):
      guard i != .min else { throw .failed(failure(.failed, "integer overflow in negation", at: range)) }
      return .int(-i)
    case .cycles(let c) where c != .min: return .cycles(-c)
    case .icp(let x) where x != .min: return .icp(-x)
    case .duration(let x) where x != .min: return .duration(-x)
    case .bytes(let x) where x != .min: return .bytes(-x)
    default: throw .failed(failure(.failed, "overflow in negation", at: range))
    }
  }

  func evalBinary(_ op: BinaryOp, _ l: Expr, _ r: Expr, _ e: Expr, _ ctx: inout Context) throws(Unwind) -> Value {
    switch op {
    case .and, .or:
      let left = try eval(l, &ctx)
      if left.isUnknown || left.asBool == (op == .or) { return left.isUnknown ? left : .bool(op == .or) }
      let right = try eval(r, &ctx)
      return right.isUnknown ? right : .bool(right.asBool)
    case .coalesce:
      let left = try eval(l, &ctx)
      if case .none = left { return try eval(r, &ctx) }
      return left
    default:
      break
    }
    let a = try eval(l, &ctx)
    let b = try eval(r, &ctx)
    if a.isUnknown { return a }
    if b.isUnknown { return b }
    if op == .add, case .list(let x) = a, case .list(let y) = b { try charge(x.count + y.count, at: e.range) }
    guard let result = Arithmetic.apply(op, a, b) else {
      let what = (op == .divide || op == .remainder) && Arithmetic.isZero(b) ? "division by zero" : "overflow"
      throw .failed(
        failure(
          .failed, "\(what) in `\(op.rawValue)`", at: e.range,
          labels: [.init(l.range, ValueFormat.display(a)), .init(r.range, ValueFormat.display(b))]))
    }
    return try sized(result, at: e.range)
  }

  // MARK: - Calls

  func evalCall(_ e: Expr, _ callee: Expr, _ arguments: [Argument], _ ctx: inout Context) throws(Unwind) -> Value {
    guard callee.id < program.resolutions.count, let resolution = program.resolutions[callee.id] else {
      throw .failed(failure(.failed, "canister methods are called with `call`", at: e.range))
    }
    switch resolution {
    case .builtin(let name):
      guard let signature = registry.builtins[name], let body = registry.builtinBodies[name] else {
        throw .failed(failure(.environment, "`\(name)` is not available in this host", at: e.range))
      }
      let values = try arrange(
        arguments, names: signature.parameters.map(\.name),
        defaults: signature.parameters.map(\.defaultValue), positional: signature.positionalCount, &ctx, at: e.range)
      if let unknown = values.first(where: \.isUnknown) { return unknown }
      let result: Value
      do {
        result = try body(values, builtinContext(ctx))
      } catch {
        throw .failed(located(error, at: e.range))
      }
      // Secrets enter a run only from builtins typed to return one (`secret_env`, a host's): the
      // redactor learns those; anything made from them contains them. No walk of other results.
      if type(e)?.containsSecret == true { pipeline.redactor.learn(result) }
      // A builtin's work counts against the step limit like statements do: one step per element
      // it was given or built (`sum(range(10M))` is 20M steps, not one).
      try charge(Self.elements(values) + Self.elements([result]), at: e.range)
      return try sized(result, at: e.range)
    case .function(let index):
      let names = functionTable[index].names
      // Fast path: all arguments positional, one per parameter.
      if arguments.count == names.count, arguments.allSatisfy({ $0.label == nil }) {
        var values: [Value] = []
        values.reserveCapacity(functionTable[index].frameSize)
        for a in arguments { values.append(try eval(a.value, &ctx)) }
        return try callFunction(index, values, &ctx, at: e.range)
      }
      let values = try arrange(
        arguments, names: names, defaults: Array(repeating: nil, count: names.count), &ctx, at: e.range)
      return try callFunction(index, values, &ctx, at: e.range)
    default:
      throw .failed(failure(.failed, "not a function", at: e.range))
    }
  }

  /// Positional then labelled arguments, in parameter order, defaults filled in; extra
  /// positional arguments (variadic) follow.
  func arrange(
    _ arguments: [Argument], names: [String], defaults: [Value?], positional: Int? = nil, _ ctx: inout Context,
    at range: SourceRange
  )
    throws(Unwind) -> [Value]
  {
    var slots = [Value?](repeating: nil, count: names.count)
    var extra: [Value] = []
    var position = 0
    for argument in arguments {
      let v = try eval(argument.value, &ctx)
      if let label = argument.label, let i = names.firstIndex(of: label.name) {
        slots[i] = v
      } else if position < (positional ?? names.count) {
        slots[position] = v
        position += 1
      } else {
        extra.append(v)
      }
    }
    var out: [Value] = []
    for (i, slot) in slots.enumerated() {
      guard let v = slot ?? defaults[i] else {
        throw .failed(failure(.failed, "missing argument `\(names[i])`", at: range))
      }
      out.append(v)
    }
    return out + extra
  }

  /// What builtins and actions may use: the pipeline, with the branch's locks and item.
  func builtinContext(_ ctx: Context, performed: EffectLog? = nil) -> BuiltinContext {
    BuiltinContext(
      pipeline: pipeline,
      project: { [weak self, directory = options.projectDirectory] in
        self?.project ?? ProjectFiles(directory: directory)
      }, held: ctx.held, label: ctx.label,
      changed: { [weak self, step = ctx.step, label = ctx.label] change in
        self?.recordChange(change, step: step, label: label)
      }, performed: performed)
  }

  func callFunction(_ index: Int, _ arguments: [Value], _ ctx: inout Context, at range: SourceRange) throws(Unwind)
    -> Value
  {
    guard ctx.depth < options.maxCallDepth else {
      throw .failed(
        failure(.failed, "calls nested deeper than \(options.maxCallDepth) (runaway recursion?)", at: range))
    }
    let frameSize = functionTable[index].frameSize
    var frame = arguments
    while frame.count < frameSize { frame.append(.void) }
    swap(&frame, &ctx.frame)
    ctx.depth += 1
    defer {
      ctx.depth -= 1
      swap(&frame, &ctx.frame)
    }
    do {
      try execute(functionTable[index].body, &ctx)
    } catch .returned(let v) {
      return v
    }
    return .void
  }
}

/// Non-local exits of the interpreter.
enum Unwind: Error {
  case returned(Value)
  case skipped(String)
  case failed(RuntimeError)
  /// A statement had to decide on a value known only after a real run (`Value.unknown`).
  case unknown(String, SourceRange)
}
