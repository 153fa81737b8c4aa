import Foundation
import RbicCandid
import RbicDiagnostics
import RbicParser

/// Candid interfaces in runbooks: `import "user_service.did" as UserService` makes `UserService`
/// the type of a canister that speaks it; `call c.method(args)` on such a canister is checked
/// against the method's types before anything runs (an unknown method with did-you-mean, the
/// argument count, each argument against its Candid type, literals against their range).
extension Checker {
  /// Loads the `.did` file (resolved like a runbook import, inside the project) and names it.
  func importInterface(_ path: String, at range: SourceRange, as name: Identifier, from file: SourceFile) {
    let (resolved, key, display, base) = importTarget(path, from: file)
    guard mayImport(key) else {
      outsideProject(path, range)
      brokenInterfaces.insert(name.name)
      return
    }
    if RType.named[name.name] != nil || interfaces[name.name] != nil {
      error(
        .duplicateDefinition, "`\(name.name)` is already a type", name.range, help: "name the interface differently")
      return
    }
    guard FileManager.default.isReadableFile(atPath: resolved) else {
      error(
        .importNotFound, "cannot read the interface `\(path)`", range,
        note: "paths resolve against the importing file's directory: \(base)")
      brokenInterfaces.insert(name.name)
      return
    }
    do throws(CandidFailure) {
      // Its own imports stay in the project too.
      interfaces[name.name] = try CandidEnvironment.load(
        path: resolved, displayPath: display, into: &files, mayRead: { [self] in mayImport(canonical($0)) })
    } catch {
      // Reported where the interface is wrong; its name still checks as anything after.
      diagnostics.append(error.diagnostic.note("imported as `\(name.name)` by \(file.path)"))
      brokenInterfaces.insert(name.name)
    }
  }

  /// `call c.method(args)` where `c` speaks `interface`.
  func checkMethodCall(_ e: Expr, interface: String, method: Identifier, _ arguments: [Argument]) {
    guard let env = interfaces[interface] else {
      for a in arguments { _ = check(a.value, expected: nil) }
      return
    }
    guard let f = env.method(method.name) else {
      var d = Diagnostic.error(.unknownMethod, "`\(interface)` has no method `\(method.name)`", at: method.range)
      if let guess = suggestion(for: method.name, in: { env.methods.map(\.name) }) {
        d = d.help("did you mean `\(guess)`?")
      } else {
        d = d.note("methods: " + env.methods.map { "`\($0.name)`" }.joined(separator: ", "))
      }
      diagnostics.append(d)
      for a in arguments { _ = check(a.value, expected: nil) }
      return
    }
    if arguments.count != f.arguments.count {
      error(
        .argumentCount,
        "`\(method.name)` takes \(f.arguments.count) argument\(f.arguments.count == 1 ? "" : "s") (\(f.arguments.map(\.description).joined(separator: ", "))), not \(arguments.count)",
        arguments.isEmpty
          ? method.range
          : SourceRange(
            file: arguments[0].value.range.file, start: arguments[0].value.range.start,
            end: arguments[arguments.count - 1].value.range.end))
    }
    for (argument, type) in zip(arguments, f.arguments) {
      let t = check(argument.value, expected: nil)
      if t.isError { continue }
      if let unfit = fits(t, type, env, literal: argument.value) {
        reportUnfit(unfit, t, type, at: argument.value.range)
      }
    }
    for argument in arguments.dropFirst(f.arguments.count) { _ = check(argument.value, expected: nil) }
    methodCalls[e.id] = MethodCall(interface: interface, method: method.name)
  }

  /// Why a value cannot be encoded as a Candid type, and where: the innermost literal at fault
  /// (a record's field, a list's element, a variant's tag) when the value is written out.
  struct Unfit {
    var why: String
    var at: SourceRange?
    var help: String?
  }

  /// Why a value of rbic type `t` cannot be encoded as Candid `c` (nil when it can). An integer
  /// literal is checked against the range of a fixed-width type; a literal's parts are checked
  /// where they are written.
  func fits(_ t: RType, _ c: CandidType, _ env: CandidEnvironment, literal: Expr?) -> Unfit? {
    guard let c = try? env.resolve(c) else { return Unfit(why: "its type is not defined", at: literal?.range) }
    func wants() -> Unfit { Unfit(why: "the interface wants `\(c)`, found `\(t)`", at: literal?.range) }
    var inner = literal
    while case .paren(let x)? = inner?.kind { inner = x }
    switch (t, c) {
    case (_, .reserved): return nil
    case (.none, .null), (.none, .opt): return nil
    case (.optional(let wrapped), .opt(let x)): return fits(wrapped, x, env, literal: nil)
    case (_, .opt(let x)): return fits(t, x, env, literal: literal)
    case (.text, .text), (.secret, .text), (.path, .text), (.bool, .bool): return nil
    case (.principal, .principal), (.canister, .principal), (.wallet, .principal), (.service, .principal): return nil
    case (.hash, .vec(.nat8)), (.blob, .vec(.nat8)): return nil
    case (.int, _), (.cycles, _), (.icp, _), (.duration, _), (.bytes, _):
      guard let range = CandidEncoding.range(of: c) else { return wants() }
      if t != .int, range.lowerBound < 0 {
        return Unfit(why: "a `\(t)` is never negative; use a `nat` type", at: literal?.range)
      }
      if let literal, let n = integerLiteral(literal), !range.contains(n) {
        return Unfit(
          why: "\(n) is outside \(c)'s range (\(range.lowerBound) to \(range.upperBound))", at: literal.range)
      }
      return nil
    case (.list(let e), .vec(let x)):
      if case .list(let items)? = inner?.kind {
        for item in items { if let why = fits(types[item.id] ?? e, x, env, literal: item) { return why } }
        return nil
      }
      return fits(e, x, env, literal: nil)
    case (.record(let fields), .record(let candid)):
      var given: [RecordField] = []
      if case .record(let g)? = inner?.kind { given = g }
      for f in fields where !candid.contains(where: { $0.label.hash == CandidLabel.idlHash(f.name) }) {
        let names = candid.map(\.label.description)
        let guess = suggestion(for: f.name, in: { names })
        return Unfit(
          why: "the interface's record has no field `\(f.name)`",
          at: given.first { $0.name.name == f.name }?.name.range ?? literal?.range,
          help: guess.map { "did you mean `\($0)`?" } ?? "its fields: "
            + names.map { "`\($0)`" }.joined(separator: ", "))
      }
      for cf in candid {
        guard let f = fields.first(where: { CandidLabel.idlHash($0.name) == cf.label.hash }) else {
          if env.mayBeAbsent(cf.type) { continue }
          return Unfit(why: "the field `\(cf.label)` (\(cf.type)) is missing", at: literal?.range)
        }
        let fieldLiteral = given.first { $0.name.name == f.name }?.value
        if var why = fits(f.type, cf.type, env, literal: fieldLiteral) {
          why.why = "field `\(f.name)`: \(why.why)"
          return why
        }
      }
      return nil
    case (.variant(let tags), .variant(let candid)):
      var payloadLiteral: Expr?
      var tagRange = literal?.range
      if case .variant(let tag, let payload)? = inner?.kind {
        payloadLiteral = payload
        tagRange = tag.range
      }
      for tag in tags {
        guard let ct = candid.first(where: { $0.label.hash == CandidLabel.idlHash(tag.name) }) else {
          let names = candid.map(\.label.description)
          let guess = suggestion(for: tag.name, in: { names })
          return Unfit(
            why: "the variant has no tag `\(tag.name)`", at: tagRange,
            help: guess.map { "did you mean `.\($0)`?" } ?? "its tags: "
              + names.map { "`.\($0)`" }.joined(separator: ", "))
        }
        let payloadType = (try? env.resolve(ct.type)) ?? .null
        if tag.type == .void {
          if payloadType == .null || payloadType == .reserved { continue }
          if case .opt = payloadType { continue }
          return Unfit(why: "`.\(tag.name)` carries a `\(ct.type)`: write `.\(tag.name)(value)`", at: tagRange)
        }
        if payloadType == .null {
          return Unfit(
            why: "`.\(tag.name)` carries no value: write `.\(tag.name)`", at: payloadLiteral?.range ?? tagRange)
        }
        if var why = fits(tag.type, ct.type, env, literal: payloadLiteral) {
          why.why = "`.\(tag.name)`: \(why.why)"
          return why
        }
      }
      return nil
    default:
      return wants()
    }
  }

  /// An install argument against the init arguments of the canister's imported interface
  /// (`service : (InitArgs) -> {…}`); several arguments are a record `{_0: …, _1: …}`.
  func checkInitArgument(_ value: Expr, _ t: RType, canister: RType?) {
    guard !t.isError, case .service(let name)? = canister, let env = interfaces[name],
      let types = env.constructorArguments
    else { return }
    guard !types.isEmpty else {
      error(.typeMismatch, "`\(name)` declares no init argument", value.range, help: "install without `arg`")
      return
    }
    var parts: [(RType, Expr?)] = [(t, value)]
    if types.count > 1 {
      let names = (0..<types.count).map { "_\($0)" }
      guard case .record(let fields) = t, fields.map(\.name) == names else {
        error(
          .typeMismatch,
          "`\(name)`'s init takes \(types.count) arguments (\(types.map(\.description).joined(separator: ", "))): write them as `{\(names.map { "\($0): …" }.joined(separator: ", "))}`",
          value.range)
        return
      }
      var given: [RecordField] = []
      if case .record(let g) = value.kind { given = g }
      parts = fields.map { f in (f.type, given.first { $0.name.name == f.name }?.value) }
    }
    for ((type, literal), candid) in zip(parts, types) {
      if let unfit = fits(type, candid, env, literal: literal) {
        reportUnfit(unfit, type, candid, at: literal?.range ?? value.range)
      }
    }
  }

  /// An argument that does not fit its Candid type: at the value's part at fault when it is
  /// written out (`field `amount`: …` at the field), else at the whole argument.
  func reportUnfit(_ unfit: Unfit, _ t: RType, _ type: CandidType, at range: SourceRange) {
    let whole = unfit.at == nil || unfit.at == range
    let message = whole ? "this `\(t)` cannot be sent as `\(type)`: \(unfit.why)" : unfit.why
    var d = Diagnostic.error(.typeMismatch, message, at: unfit.at ?? range)
    if !whole { d = d.note("in this argument, sent as `\(type)`") }
    if let help = unfit.help { d = d.help(help) }
    diagnostics.append(d)
  }

  /// The value of an integer literal (`5`, `-5`, `(5)`).
  func integerLiteral(_ e: Expr) -> Int128? {
    switch e.kind {
    case .integer(let n): Int128(n)
    case .amount(_, let n): n
    case .unary(.negate, let x): integerLiteral(x).map { -$0 }
    case .paren(let x): integerLiteral(x)
    default: nil
    }
  }
}

/// A checked call's method, for the interpreter's typed encoding.
package struct MethodCall: Sendable {
  package var interface: String
  package var method: String
}
