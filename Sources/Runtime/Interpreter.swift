import Foundation
import RbicDiagnostics
import RbicLexer
import RbicParser

/// The interpreter: a checked program in, effects on a backend and a `RunResult` out.
///
/// It walks the syntax tree using the checker's side tables: names are slots (`Resolution`),
/// literals have their adopted types, so nothing is looked up by string at run time. Values are
/// immutable; globals are written once, before the top-level code runs, then only read, so
/// `parallel for` branches share them safely; each branch has its own frame and step context.
/// Overflow, the step limit and the call depth are runtime errors with a location, never traps.
final class Interpreter: @unchecked Sendable {
  let program: CheckedProgram
  let registry: Registry
  var backend: Backend
  let options: RunOptions
  let network: String
  var globals: [Value?]
  /// Per-function data the call path needs, computed once (profiling fib(27): copying
  /// `FunctionInfo` and rebuilding parameter-name arrays on every call cost about a fifth).
  let functionTable: [CompiledFunction]
  let lock = NSLock()
  let started = DispatchTime.now().uptimeNanoseconds
  var stepRecords: [StepRecord] = []
  var stepCount = 0
  var cyclesMoved: Int128 = 0
  /// Per-canister and per-wallet locks for mutations in parallel branches.
  let resourceLocks = LockTable()
  /// The project files, read on first use (by `canister_ids`) and then kept for the run.
  var project: ProjectFiles {
    lock.withLock {
      if let p = projectFiles { return p }
      let p = ProjectFiles(directory: options.projectDirectory)
      projectFiles = p
      return p
    }
  }
  private var projectFiles: ProjectFiles?
  /// Canisters whose controller view was refused (IC0512) this run: their public view is read.
  var notControlled: Set<Principal> = []

  init(program: CheckedProgram, registry: Registry, backend: Backend, options: RunOptions, globals: [Value?] = []) {
    self.program = program
    self.registry = registry
    self.backend = backend
    self.options = options
    self.network = options.network ?? program.network ?? "local"
    self.globals = globals + Array(repeating: nil, count: max(0, program.globalCount - globals.count))
    self.functionTable = program.functions.map {
      CompiledFunction(
        body: $0.declaration.body, frameSize: max($0.frameSize, $0.parameterTypes.count),
        names: $0.declaration.parameters.map(\.name.name))
    }
  }

  struct CompiledFunction {
    var body: Block
    var frameSize: Int
    var names: [String]
  }

  /// Per-thread execution state.
  struct Context {
    var frame: [Value]
    var subject: Principal?
    /// The index of the current step in `stepRecords`, if inside one.
    var step: Int?
    var depth = 0
    /// Canister states read since the last statement began (fresh per statement, and after actions).
    var cache: [Principal: CanisterState] = [:]
  }

  func journal(_ event: String, _ fields: [(String, String)]) {
    options.journal?.write(event, fields)
  }

  // MARK: - Errors

  func failure(_ kind: RuntimeError.Kind, _ message: String, at range: SourceRange, labels: [Diagnostic.Label] = [])
    -> RuntimeError
  {
    RuntimeError(
      kind, Diagnostic.error(.runtimeError, message, at: range, labels: labels))
  }

  func backendFailure(_ error: BackendError, at range: SourceRange) -> RuntimeError {
    if options.cancellation.isCancelled { return failure(.interrupted, "interrupted", at: range) }
    return switch error {
    case .environment, .unknownOutcome, .unsupported: failure(.environment, error.description, at: range)
    default: failure(.failed, error.description, at: range)
    }
  }

  /// Counts one unit of work against the step limit and honours cancellation.
  func tick(at range: SourceRange) throws(Unwind) {
    if options.cancellation.isCancelled {
      journal("interrupted", [])
      throw .failed(failure(.interrupted, "interrupted", at: range))
    }
    let count = lock.withLock { () -> Int in
      stepCount += 1
      return stepCount
    }
    if count > options.maxSteps {
      throw .failed(failure(.failed, "the run exceeded its limit of \(options.maxSteps) steps", at: range))
    }
    if let limit = options.timeLimit, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 > limit {
      throw .failed(failure(.failed, "the run exceeded its time limit of \(limit) s", at: range))
    }
  }

  // MARK: - Canister state

  func state(of canister: Principal, _ ctx: inout Context, at range: SourceRange) throws(Unwind) -> CanisterState {
    if let cached = ctx.cache[canister] { return cached }
    let started = Date()
    do {
      let s = try backend.status(canister)
      ctx.cache[canister] = s
      journal(
        "read",
        [
          ("canister", ValueFormat.jsonQuote(canister.text)), ("cycles", "\(s.cycles)"),
          ("hash", s.moduleHash.map { ValueFormat.jsonQuote(ValueFormat.hex($0)) } ?? "null"),
          ("status", ValueFormat.jsonQuote(s.status.rawValue)),
          ("controllers", "[" + s.controllers.map { ValueFormat.jsonQuote($0.text) }.joined(separator: ",") + "]"),
          ("seconds", String(format: "%.3f", Date().timeIntervalSince(started))),
        ])
      return s
    } catch {
      journal(
        "read_failed",
        [("canister", ValueFormat.jsonQuote(canister.text)), ("error", ValueFormat.jsonQuote(error.description))])
      if case .notController = error { lock.withLock { _ = notControlled.insert(canister) } }
      throw .failed(backendFailure(error, at: range))
    }
  }

  func property(_ p: CanisterProperty, of canister: Principal, _ ctx: inout Context, at range: SourceRange)
    throws(Unwind) -> Value
  {
    if p == .id { return .principal(canister) }
    // The module hash and the controllers are public: once the controller view has been refused,
    // a non-controller reads them from the state tree (`dfx canister info`) instead of failing.
    if p == .hash || p == .controllers, ctx.cache[canister] == nil, let info = try publicView(of: canister, at: range) {
      return p == .hash ? (info.moduleHash.map(Value.hash) ?? .none) : .list(info.controllers.map(Value.principal))
    }
    let s: CanisterState
    do {
      s = try state(of: canister, &ctx, at: range)
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
    case .freezingThreshold:
      let (ns, overflow) = s.freezingThreshold.multipliedReportingOverflow(by: 1_000_000_000)
      return .duration(overflow ? Int64.max : ns)
    }
  }

  /// The public view, when the controller view was refused; nil when the identity is a controller.
  func publicView(of canister: Principal, at range: SourceRange) throws(Unwind) -> PublicCanisterInfo? {
    guard lock.withLock({ notControlled.contains(canister) }) else { return nil }
    do { return try backend.publicInfo(canister) } catch { throw .failed(backendFailure(error, at: range)) }
  }

  // MARK: - Expressions

  func type(_ e: Expr) -> RType? { e.id < program.types.count ? program.types[e.id] : nil }

  func eval(_ e: Expr, _ ctx: inout Context) throws(Unwind) -> Value {
    switch e.kind {
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
      for part in parts {
        switch part {
        case .text(let t): text += t
        case .expr(let x): text += ValueFormat.display(try eval(x, &ctx))
        }
      }
      return type(e) == .path ? .path(text) : .text(text)
    case .bool(let b): return .bool(b)
    case .none: return .none
    case .hash(let bytes): return .hash(bytes)
    case .principal(let bytes): return .principal(Principal(bytes: bytes))
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
      return .bool(!(try eval(x, &ctx)).asBool)
    case .unary(.negate, let x):
      return try negate(try eval(x, &ctx), at: e.range)
    case .binary(let op, let l, let r):
      return try evalBinary(op, l, r, e, &ctx)
    case .member(let target, let name):
      let value = try eval(target, &ctx)
      return try member(value, name.name, &ctx, at: e.range)
    case .index(let target, let index):
      let list = try eval(target, &ctx)
      let i = try eval(index, &ctx)
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
    case .constant(let name): return .status(CanisterStatus(rawValue: name) ?? .running)
    case .word(let w): return .text(w)
    case .subjectProperty(let p):
      guard let subject = ctx.subject else { throw .failed(failure(.failed, "no step subject here", at: e.range)) }
      return try property(p, of: subject, &ctx, at: e.range)
    case .function, .builtin:
      throw .failed(failure(.failed, "a function is not a value", at: e.range))
    }
  }

  func member(_ value: Value, _ name: String, _ ctx: inout Context, at range: SourceRange) throws(Unwind) -> Value {
    switch value {
    case .principal(let p):
      guard let property = CanisterProperty(rawValue: name) else { break }
      return try property.self == .id ? .principal(p) : self.property(property, of: p, &ctx, at: range)
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
    case .cycles(let c): return .cycles(-c)
    case .icp(let x) where x != .min: return .icp(-x)
    case .duration(let x) where x != .min: return .duration(-x)
    case .bytes(let x) where x != .min: return .bytes(-x)
    default: throw .failed(failure(.failed, "overflow in negation", at: range))
    }
  }

  func evalBinary(_ op: BinaryOp, _ l: Expr, _ r: Expr, _ e: Expr, _ ctx: inout Context) throws(Unwind) -> Value {
    switch op {
    case .and:
      guard try eval(l, &ctx).asBool else { return .bool(false) }
      return .bool(try eval(r, &ctx).asBool)
    case .or:
      if try eval(l, &ctx).asBool { return .bool(true) }
      return .bool(try eval(r, &ctx).asBool)
    case .coalesce:
      let left = try eval(l, &ctx)
      if case .none = left { return try eval(r, &ctx) }
      return left
    default:
      break
    }
    let a = try eval(l, &ctx)
    let b = try eval(r, &ctx)
    guard let result = Arithmetic.apply(op, a, b) else {
      let what = (op == .divide || op == .remainder) && Arithmetic.isZero(b) ? "division by zero" : "overflow"
      throw .failed(
        failure(
          .failed, "\(what) in `\(op.rawValue)`", at: e.range,
          labels: [.init(l.range, ValueFormat.display(a)), .init(r.range, ValueFormat.display(b))]))
    }
    return result
  }

  // MARK: - Calls

  func evalCall(_ e: Expr, _ callee: Expr, _ arguments: [Argument], _ ctx: inout Context) throws(Unwind) -> Value {
    guard callee.id < program.resolutions.count, let resolution = program.resolutions[callee.id] else {
      throw .failed(failure(.failed, "canister methods are called with `call`", at: e.range))
    }
    switch resolution {
    case .builtin(let name):
      guard let signature = registry.builtins[name], let body = signature.body else {
        throw .failed(failure(.environment, "`\(name)` is not available in this host", at: e.range))
      }
      let values = try arrange(
        arguments, names: signature.parameters.map(\.name),
        defaults: signature.parameters.map(\.defaultValue), &ctx, at: e.range)
      do {
        return try body(values, builtinContext())
      } catch {
        var error = error
        if error.diagnostic.range.file.raw < 0 { error.diagnostic.range = e.range }
        throw .failed(error)
      }
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
    _ arguments: [Argument], names: [String], defaults: [Value?], _ ctx: inout Context, at range: SourceRange
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
      } else if position < names.count {
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

  /// What builtins and host actions may use.
  func builtinContext() -> BuiltinContext {
    BuiltinContext(
      backend: backend, projectDirectory: options.projectDirectory,
      project: { [weak self, directory = options.projectDirectory] in
        self?.project ?? ProjectFiles(directory: directory)
      }, environment: options.environment,
      cancellation: options.cancellation,
      journalCommand: { [weak self] argv, status, seconds, output in
        self?.journal(
          "command",
          [
            ("argv", "[" + argv.map(ValueFormat.jsonQuote).joined(separator: ",") + "]"), ("exit", "\(status)"),
            ("seconds", String(format: "%.3f", seconds)),
            ("output", ValueFormat.jsonQuote(String(output.prefix(4000)))),
          ])
      })
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
}

/// Checked arithmetic and comparison on values; nil means overflow or division by zero.
public enum Arithmetic {
  /// Whether `a` sorts before `b`; nil when they do not compare.
  public static func isOrdered(_ a: Value, before b: Value) -> Bool? { compare(a, b).map { $0 < 0 } }

  public static func apply(_ op: BinaryOp, _ a: Value, _ b: Value) -> Value? {
    switch op {
    case .equal: return .bool(equal(a, b))
    case .notEqual: return .bool(!equal(a, b))
    case .less, .lessEqual, .greater, .greaterEqual:
      guard let c = compare(a, b) else { return nil }
      switch op {
      case .less: return .bool(c < 0)
      case .lessEqual: return .bool(c <= 0)
      case .greater: return .bool(c > 0)
      default: return .bool(c >= 0)
      }
    case .contains: return .bool(contains(a, b))
    case .add:
      switch (a, b) {
      case (.text(let x), .text(let y)): return .text(x + y)
      case (.list(let x), .list(let y)): return .list(x + y)
      default: return numeric(op, a, b)
      }
    default: return numeric(op, a, b)
    }
  }

  public static func isZero(_ v: Value) -> Bool {
    switch v {
    case .int(0), .cycles(0), .icp(0), .duration(0), .bytes(0): true
    default: false
    }
  }

  static func equal(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.principal(let x), .principal(let y)): return x == y
    case (.text(let x), .path(let y)), (.path(let x), .text(let y)): return x == y
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy(equal)
    default: return a == b
    }
  }

  static func compare(_ a: Value, _ b: Value) -> Int? {
    func c<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x == y ? 0 : 1) }
    switch (a, b) {
    case (.int(let x), .int(let y)): return c(x, y)
    case (.cycles(let x), .cycles(let y)): return c(x, y)
    case (.icp(let x), .icp(let y)): return c(x, y)
    case (.duration(let x), .duration(let y)): return c(x, y)
    case (.bytes(let x), .bytes(let y)): return c(x, y)
    case (.text(let x), .text(let y)): return c(x, y)
    default: return nil
    }
  }

  static func contains(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.text(let x), .text(let y)): return x.contains(y)
    case (.list(let items), .list(let wanted)): return wanted.allSatisfy { w in items.contains { equal($0, w) } }
    case (.list(let items), _): return items.contains { equal($0, b) }
    default: return false
    }
  }

  /// `x op y` with overflow and division by zero as nil, for any width.
  static func checked<T: FixedWidthInteger>(_ op: BinaryOp, _ x: T, _ y: T) -> T? {
    let r: (partialValue: T, overflow: Bool)
    switch op {
    case .add: r = x.addingReportingOverflow(y)
    case .subtract: r = x.subtractingReportingOverflow(y)
    case .multiply: r = x.multipliedReportingOverflow(by: y)
    case .divide: if y == 0 { return nil }; r = x.dividedReportingOverflow(by: y)
    case .remainder: if y == 0 { return nil }; r = x.remainderReportingOverflow(dividingBy: y)
    default: return nil
    }
    return r.overflow ? nil : r.partialValue
  }

  static func numeric(_ op: BinaryOp, _ a: Value, _ b: Value) -> Value? {
    func i64(_ x: Int64, _ y: Int64) -> Int64? { checked(op, x, y) }
    func i128(_ x: Int128, _ y: Int128) -> Int128? { checked(op, x, y) }
    switch (a, b) {
    case (.int(let x), .int(let y)): return i64(x, y).map(Value.int)
    case (.cycles(let x), .cycles(let y)):
      if op == .divide { return i128(x, y).flatMap { Int64(exactly: $0) }.map(Value.int) }
      return i128(x, y).map(Value.cycles)
    case (.cycles(let x), .int(let y)): return i128(x, Int128(y)).map(Value.cycles)
    case (.int(let x), .cycles(let y)): return i128(Int128(x), y).map(Value.cycles)
    case (.icp(let x), .icp(let y)): return op == .divide ? i64(x, y).map(Value.int) : i64(x, y).map(Value.icp)
    case (.icp(let x), .int(let y)): return i64(x, y).map(Value.icp)
    case (.int(let x), .icp(let y)): return i64(x, y).map(Value.icp)
    case (.duration(let x), .duration(let y)):
      return op == .divide ? i64(x, y).map(Value.int) : i64(x, y).map(Value.duration)
    case (.duration(let x), .int(let y)): return i64(x, y).map(Value.duration)
    case (.int(let x), .duration(let y)): return i64(x, y).map(Value.duration)
    case (.bytes(let x), .bytes(let y)): return op == .divide ? i64(x, y).map(Value.int) : i64(x, y).map(Value.bytes)
    case (.bytes(let x), .int(let y)): return i64(x, y).map(Value.bytes)
    case (.int(let x), .bytes(let y)): return i64(x, y).map(Value.bytes)
    default: return nil
    }
  }
}

/// One lock per resource name (canister or wallet principal), created on demand. Recursive, so
/// an ensure that holds its canister's lock can take it again (with the wallet's) for the send.
final class LockTable: @unchecked Sendable {
  private let lock = NSLock()
  private var locks: [String: NSRecursiveLock] = [:]

  /// Runs `body` holding the locks of `names`, taken in sorted order so branches never deadlock.
  func with<T, E: Error>(_ names: [String], _ body: () throws(E) -> T) throws(E) -> T {
    let ordered = Array(Set(names)).sorted()
    let held = lock.withLock {
      ordered.map { name in
        locks[name]
          ?? {
            let l = NSRecursiveLock()
            locks[name] = l
            return l
          }()
      }
    }
    for l in held { l.lock() }
    defer { for l in held.reversed() { l.unlock() } }
    return try body()
  }
}
