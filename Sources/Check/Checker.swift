import Foundation
import RbicCandid
import RbicDiagnostics
import RbicLexer
import RbicParser

/// The checker: parsed trees in, a `CheckedProgram` (types, name resolutions, slots) and
/// diagnostics out. It runs as its own pass before anything executes.
///
/// Invariants: every expression of a file without parse errors gets a type; every name gets a
/// `Resolution` or an error; a declaration is visible only after it (except `fn`, hoisted per
/// file); each file sees only its own declarations and those of the files it imports; an `ensure`
/// passes only if each of its actions can converge its condition. An expression that already has
/// an error has type `error`, which is compatible with everything, so one mistake gives one message.
package final class Checker {
  struct Symbol {
    enum Kind { case param, global, local, loopVariable, parameter, function, builtin, constant, property }
    var name: String
    var type: RType
    var range: SourceRange?
    var resolution: Resolution
    var kind: Kind
    var used = false
    /// For a narrowed binding (`Scope.narrowed`), the symbol it narrows.
    var narrows: Int?
  }

  struct Scope {
    var names: [String: Int] = [:]
    /// Optional bindings known not to be `none` from here to the scope's end (after
    /// `if x == none { skip … }`, inside `if x != none { … }`): a symbol of the unwrapped type with
    /// the same slot. Looked up before `names`; a declaration in the scope ends its name's narrowing.
    var narrowed: [String: Int] = [:]
    var isSubject = false
  }

  /// The builtins, actions and constants a program may name: signatures only.
  let signatures: any SignatureLookup
  let project: ProjectFiles
  let requireHeader: Bool
  let loader: @Sendable (String) -> [UInt8]?
  var files: SourceFiles
  var trees: [SyntaxTree] = []
  var diagnostics: [Diagnostic] = []
  var types: [RType?] = []
  var resolutions: [Resolution?] = []
  /// Compiled ensures, by their condition's expression id.
  var ensures: [Int: EnsureContract] = [:]
  /// Candid interfaces by the name they were imported as.
  var interfaces: [String: CandidEnvironment] = [:]
  /// Interfaces whose file did not load (already reported): their name checks as anything.
  var brokenInterfaces: Set<String> = []
  /// Calls checked against an interface, by the call expression's id.
  var methodCalls: [Int: MethodCall] = [:]
  var declarations: [SourceRange: Resolution] = [:]
  var symbols: [Symbol] = []
  var scopes: [Scope] = []
  var universe = Scope()
  var functions: [FunctionInfo] = []
  var params: [ParamInfo] = []
  var globalCount = 0
  var nextSlot = 0
  var frameSize = 0
  var mainFrameSize = 0
  var returnType: RType?
  var inFunction = false
  var inStep = false
  /// The type of the enclosing step's subject (`step … on c`), for an ensure on a bare property.
  var subjectType: RType?
  var nextNodeID = 0
  var loading: [String] = []
  var exports: [String: [Int]] = [:]
  var network: String?
  var identity: String?
  /// Top-level names of the file being checked, declared later than the current point (for messages).
  var laterDeclarations: [String: SourceRange] = [:]
  /// Names used before their declaration (already reported), so the declaration is not "unused".
  var mentionedEarly: Set<String> = []
  var suppressUnused = false
  /// Directories imports may resolve into (symlinks resolved): the project directory, the main
  /// runbook's directory, and whatever the host adds (`Engine.Options.importRoots`).
  package var importRoots: [String] = []

  package init(
    signatures: any SignatureLookup, project: ProjectFiles, requireHeader: Bool,
    loader: @escaping @Sendable (String) -> [UInt8]?
  ) {
    self.signatures = signatures
    self.project = project
    self.requireHeader = requireHeader
    self.loader = loader
    self.files = SourceFiles()
    for name in signatures.builtins.keys.sorted() {
      universe.names[name] = addSymbol(Symbol(name: name, type: .error, resolution: .builtin(name), kind: .builtin))
    }
    for (name, type) in signatures.constants.sorted(by: { $0.key < $1.key }) {
      universe.names[name] = addSymbol(Symbol(name: name, type: type, resolution: .constant(name), kind: .constant))
    }
  }

  func addSymbol(_ s: Symbol) -> Int {
    symbols.append(s)
    return symbols.count - 1
  }

  // MARK: - Driver

  package func checkMain(path: String, bytes: [UInt8]) -> CheckedProgram {
    let file = files.add(path: path, bytes: bytes)
    let tree = Parser.parse(file, requireHeader: requireHeader, firstNodeID: nextNodeID)
    reserveNodes(tree.nodeCount)
    diagnostics += tree.diagnostics
    loading = [canonical(path)]
    importRoots =
      (importRoots + [
        project.directory, URL(fileURLWithPath: path).deletingLastPathComponent().path,
      ]).map(canonical)
    _ = checkFile(tree, isMain: true)
    return CheckedProgram(
      files: files, trees: trees, network: network, identity: identity, params: params, functions: functions,
      globalCount: globalCount, mainFrameSize: mainFrameSize, types: types, resolutions: resolutions,
      declarations: declarations, ensures: ensures, interfaces: interfaces, methodCalls: methodCalls,
      diagnostics: diagnostics.sortedBySource().capped())
  }

  /// Grows the side tables to cover the expression ids of a newly parsed file.
  func reserveNodes(_ count: Int) {
    nextNodeID = count
    types += repeatElement(nil, count: max(0, count - types.count))
    resolutions += repeatElement(nil, count: max(0, count - resolutions.count))
  }

  /// A path as the operating system resolves it (`PathScope`, the one containment rule).
  func canonical(_ path: String) -> String {
    PathScope.resolve(path, from: FileManager.default.currentDirectoryPath) ?? path
  }

  func error(_ code: DiagnosticCode, _ message: String, _ range: SourceRange, help: String? = nil, note: String? = nil)
  {
    var d = Diagnostic.error(code, message, at: range)
    if let note { d = d.note(note) }
    if let help { d = d.help(help) }
    diagnostics.append(d)
  }

  func warning(_ code: DiagnosticCode, _ message: String, _ range: SourceRange, help: String? = nil) {
    var d = Diagnostic.warning(code, message, at: range)
    if let help { d = d.help(help) }
    diagnostics.append(d)
  }

  /// Checks one file with a fresh scope stack; returns the symbols it exports (its `let`s and
  /// `fn`s, and what it imports).
  func checkFile(_ tree: SyntaxTree, isMain: Bool) -> [Int] {
    let savedScopes = scopes
    let savedLater = laterDeclarations
    scopes = [universe, Scope()]
    defer {
      scopes = savedScopes
      laterDeclarations = savedLater
    }
    var exported: [Int] = []
    // Where the parser skipped code, "never used" would be noise.
    let savedSuppress = suppressUnused
    suppressUnused = tree.diagnostics.hasErrors
    defer { suppressUnused = savedSuppress }

    for stmt in tree.statements {
      if case .importInterface(let path, let range, let name) = stmt.kind {
        importInterface(path, at: range, as: name, from: tree.file)
      }
      guard case .import(let path, let range) = stmt.kind else { continue }
      for index in importFile(path, at: range, from: tree.file) {
        declare(index, at: range, imported: true)
        exported.append(index)
      }
    }

    laterDeclarations = [:]
    for stmt in tree.statements {
      switch stmt.kind {
      case .let(let name, _, _), .param(let name, _, _):
        laterDeclarations[name.name] = laterDeclarations[name.name] ?? name.range
      default: break
      }
    }

    // Functions are visible in the whole file.
    var functionIndexes: [Int] = []
    for stmt in tree.statements {
      guard case .function(let decl) = stmt.kind else { continue }
      let parameterTypes = decl.parameters.map { resolveType($0.type) }
      let result = decl.returnType.map(resolveType) ?? .void
      functions.append(
        FunctionInfo(declaration: decl, parameterTypes: parameterTypes, result: result, frameSize: 0, doc: stmt.doc))
      let index = functions.count - 1
      functionIndexes.append(index)
      let symbol = addSymbol(
        Symbol(
          name: decl.name.name, type: .error, range: decl.name.range, resolution: .function(index), kind: .function))
      declare(symbol, at: decl.name.range)
      exported.append(symbol)
    }

    var nextFunction = 0
    let firstSymbol = symbols.count
    for stmt in tree.statements {
      if !isMain {
        switch stmt.kind {
        case .let, .function, .import, .importInterface: break
        default:
          error(
            .importContent, "an imported file may only declare `let`, `fn` and `import`", stmt.range,
            help: "move this into the runbook that imports `\(tree.file.path)`")
          continue
        }
      }
      if case .function = stmt.kind {
        checkFunction(functionIndexes[nextFunction])
        nextFunction += 1
        continue
      }
      checkTopLevel(stmt, isMain: isMain)
      narrow(narrowingsAfter(stmt))
    }
    if !isMain {
      exported += (firstSymbol..<symbols.count).filter { symbols[$0].kind == .global }
    } else if !suppressUnused {
      for index in firstSymbol..<symbols.count where !symbols[index].used {
        let s = symbols[index]
        guard s.kind == .global || s.kind == .param, !s.name.hasPrefix("_"), let range = s.range else { continue }
        warning(
          .unusedBinding, "\(s.kind == .param ? "param" : "`let`") `\(s.name)` is never used", range,
          help: "remove it, or start its name with `_`")
      }
    }
    trees.append(tree)
    return exported
  }

  /// An import's file: resolved against the importing file's directory, its canonical path (the
  /// key), and how diagnostics name it.
  func importTarget(_ path: String, from file: SourceFile) -> (
    resolved: String, key: String, display: String, base: String
  ) {
    let base = URL(fileURLWithPath: file.path).deletingLastPathComponent()
    let resolved = path.hasPrefix("/") ? path : base.appendingPathComponent(path).path
    let display = file.path.contains("/") ? (base.relativePath == "." ? path : base.relativePath + "/" + path) : path
    return (resolved, canonical(resolved), display, base.path)
  }

  /// Whether a canonical path is inside an import root (imports stay in the project: no
  /// `../../etc/passwd`, no absolute path or symlink out of it).
  func mayImport(_ key: String) -> Bool {
    PathScope(roots: importRoots).contains(resolved: key)
  }

  func outsideProject(_ path: String, _ range: SourceRange) {
    error(
      .importOutsideProject, "`\(path)` is outside the project", range,
      help: "imports resolve inside the project directory or the runbook's own directory (symlinks resolved)")
  }

  /// Loads, parses and checks an imported file once; reports cycles and missing files.
  func importFile(_ path: String, at range: SourceRange, from file: SourceFile) -> [Int] {
    let (resolved, key, displayPath, base) = importTarget(path, from: file)
    if let index = loading.firstIndex(of: key) {
      let cycle = (loading[index...] + [key]).map { URL(fileURLWithPath: $0).lastPathComponent }
      error(
        .importCycle, "import cycle: \(cycle.joined(separator: " → "))", range,
        help: "move the shared declarations into a file that both import")
      return []
    }
    if let cached = exports[key] { return cached }
    guard mayImport(key) else {
      outsideProject(path, range)
      return []
    }
    guard let bytes = loader(resolved) else {
      error(
        .importNotFound, "cannot read imported file `\(path)`", range,
        note: "paths resolve against the importing file's directory: \(base)")
      return []
    }
    let imported = files.add(path: displayPath, bytes: bytes)
    let tree = Parser.parse(imported, requireHeader: true, firstNodeID: nextNodeID)
    reserveNodes(tree.nodeCount)
    guard tree.header != nil else {
      // Not a runbook: one diagnostic here, and none of the file's contents on the screen.
      error(
        .importContent, "`\(path)` is not a runbook", range,
        help: "an imported file starts with `runbook \"NAME\" version N`, like any runbook")
      return []
    }
    diagnostics += tree.diagnostics
    loading.append(key)
    let savedFunction = (returnType, inFunction, inStep, nextSlot, frameSize)
    let result = checkFile(tree, isMain: false)
    (returnType, inFunction, inStep, nextSlot, frameSize) = savedFunction
    loading.removeLast()
    exports[key] = result
    return result
  }

  // MARK: - Scopes

  /// Declares a symbol in the innermost scope, reporting a duplicate in the same scope or a
  /// clash with a builtin.
  func declare(_ index: Int, at range: SourceRange, imported: Bool = false) {
    let name = symbols[index].name
    if let existing = scopes[scopes.count - 1].names[name] {
      if existing == index { return }
      var d = Diagnostic.error(.duplicateDefinition, "`\(name)` is already defined", at: range)
      if let first = symbols[existing].range {
        d.labels.append(.init(first, "first defined here"))
      }
      if imported { d = d.note("`\(name)` comes from an imported file") }
      diagnostics.append(d)
      symbols[index].used = true  // one message per mistake: no "unused" for the duplicate
      return
    }
    if scopes.count == 2, universe.names[name] != nil {
      error(.duplicateDefinition, "`\(name)` is a builtin and cannot be redefined", range, help: "choose another name")
      symbols[index].used = true
      // Bound all the same: its uses mean this declaration, so the one mistake is one message.
    }
    if mentionedEarly.remove(name) != nil { symbols[index].used = true }
    scopes[scopes.count - 1].names[name] = index
    scopes[scopes.count - 1].narrowed[name] = nil
  }

  func declareLocal(_ name: Identifier, _ type: RType, kind: Symbol.Kind) {
    let slot = nextSlot
    nextSlot += 1
    frameSize = max(frameSize, nextSlot)
    let index = addSymbol(Symbol(name: name.name, type: type, range: name.range, resolution: .local(slot), kind: kind))
    declarations[name.range] = .local(slot)
    declare(index, at: name.range)
  }

  func declareGlobal(_ name: Identifier, _ type: RType, kind: Symbol.Kind) -> Int {
    let slot = globalCount
    globalCount += 1
    let index = addSymbol(Symbol(name: name.name, type: type, range: name.range, resolution: .global(slot), kind: kind))
    declarations[name.range] = .global(slot)
    declare(index, at: name.range)
    laterDeclarations[name.name] = nil
    return slot
  }

  func lookup(_ name: String) -> Int? {
    for scope in scopes.reversed() {
      if let index = scope.narrowed[name] ?? scope.names[name] { return index }
    }
    return nil
  }

  func withScope<T>(subject: Bool = false, _ body: () -> T) -> T {
    var scope = Scope()
    scope.isSubject = subject
    if subject {
      for property in CanisterProperty.subjectProperties {
        scope.names[property.rawValue] = addSymbol(
          Symbol(name: property.rawValue, type: property.type, resolution: .subjectProperty(property), kind: .property))
      }
    }
    scopes.append(scope)
    let firstSymbol = symbols.count
    let result = body()
    let popped = scopes.removeLast()
    for index in popped.names.values where index >= firstSymbol && !symbols[index].used && !suppressUnused {
      let s = symbols[index]
      if s.kind == .local, !s.name.hasPrefix("_"), let range = s.range {
        warning(.unusedBinding, "`let` `\(s.name)` is never used", range, help: "remove it, or start its name with `_`")
      }
    }
    return result
  }

  /// Every name visible here, for "did you mean".
  func visibleNames() -> [String] {
    scopes.flatMap { $0.names.keys }
  }

  /// How many more candidates "did you mean" may measure. Each search takes the edit distance to
  /// every candidate (every name in scope, every method of an interface), so without a budget N
  /// misspellings among N declarations cost O(N²). The budget covers a file's shown diagnostics
  /// (`Diagnostic.perFileLimit`) among a thousand names; past it, errors come without a guess.
  var suggestionBudget = 100 * 1_000

  /// The closest candidate to `name` (`closestMatch`) while the budget lasts, then nil.
  func suggestion(for name: String, in candidates: () -> [String]) -> String? {
    guard suggestionBudget > 0 else { return nil }
    let list = candidates()
    suggestionBudget -= list.count
    guard suggestionBudget >= 0 else { return nil }
    return closestMatch(to: name, in: list)
  }

  // MARK: - Types

  func resolveType(_ t: TypeExpr) -> RType {
    switch t.kind {
    case .named(let name):
      if let type = RType.named[name] { return type }
      if interfaces[name] != nil { return .service(name) }
      if brokenInterfaces.contains(name) { return .error }
      var d = Diagnostic.error(.unknownType, "unknown type `\(name)`", at: t.range)
      if let guess = suggestion(for: name, in: { RType.named.keys.sorted() }) { d = d.help("did you mean `\(guess)`?") }
      diagnostics.append(d)
      return .error
    case .list(let element): return .list(resolveType(element))
    case .optional(let wrapped):
      let inner = resolveType(wrapped)
      if case .optional = inner {
        error(.typeMismatch, "`\(inner)?` is an optional of an optional", t.range, help: "write `\(inner)`")
      }
      return .optional(inner)
    case .record(let fields):
      var seen: Set<String> = []
      for field in fields where !seen.insert(field.name.name).inserted {
        error(.duplicateDefinition, "field `\(field.name.name)` appears twice", field.name.range)
      }
      return .record(fields.map { RType.Field($0.name.name, resolveType($0.type)) })
    }
  }

  // MARK: - Top level

  func checkTopLevel(_ stmt: Stmt, isMain: Bool) {
    switch stmt.kind {
    case .useNetwork(let name):
      if network != nil {
        error(.duplicateUse, "`use network` appears more than once", stmt.range, help: "a runbook acts on one network")
        return
      }
      checkNetwork(name)
      for problem in project.problems {
        warning(
          .invalidNetworkFile, "cannot read the networks in `\(problem.file)`: \(problem.message)", name.range,
          help: "fix the file so `dfx`, `icp` and rbic agree on the networks")
      }
      network = name.name
    case .useIdentity(let expr):
      if identity != nil {
        error(
          .duplicateUse, "`use identity` appears more than once", stmt.range, help: "a runbook acts as one identity")
        return
      }
      let type = check(expr, expected: .text)
      if case .string(let parts) = expr.kind, parts.count <= 1,
        parts.allSatisfy({ if case .text = $0 { true } else { false } })
      {
        identity = parts.first.map { if case .text(let t) = $0 { t } else { "" } } ?? ""
      } else if !type.isError {
        error(.typeMismatch, "the identity must be a plain string such as `\"github-ci\"`, not `\(type)`", expr.range)
      }
    case .param(let name, let typeExpr, let defaultValue):
      let type = resolveType(typeExpr)
      checkParamType(type, at: typeExpr.range)
      if let defaultValue {
        if !isConstant(defaultValue) {
          error(
            .invalidParam, "a param's default must be a literal", defaultValue.range,
            help: "compute derived values with `let` below the param")
        }
        let actual = check(defaultValue, expected: type)
        expectType(actual, type, for: defaultValue, what: "the default of `\(name.name)`")
      }
      let slot = declareGlobal(name, type, kind: .param)
      params.append(
        ParamInfo(name: name.name, type: type, defaultValue: defaultValue, doc: stmt.doc, slot: slot, range: name.range)
      )
    case .let(let name, let typeExpr, let value):
      let declared = typeExpr.map(resolveType)
      let actual = check(value, expected: declared)
      if let declared { expectType(actual, declared, for: value, what: "`\(name.name)`") }
      checkBindable(actual, at: value.range)
      _ = declareGlobal(name, declared ?? actual, kind: .global)
    case .import, .importInterface, .function:
      break
    default:
      checkStatement(stmt)
      mainFrameSize = max(mainFrameSize, frameSize)
    }
  }

  func checkNetwork(_ name: Identifier) {
    if project.isKnownNetwork(name.name) { return }
    var d = Diagnostic.error(.unknownNetwork, "unknown network `\(name.name)`", at: name.range)
    let known = project.networks.map { "`\($0.name)` (\($0.source))" }
    d = d.note("known networks: \(known.joined(separator: ", "))")
    let keyed = project.canistersKeyed(by: name.name)
    if !keyed.isEmpty {
      d = d.note(
        "`\(name.name)` is a key in canister_ids.json (for \(keyed.map { "`\($0)`" }.joined(separator: ", "))), not a network"
      )
      d = d.help(
        "use `use network ic` and pass the canister explicitly, e.g. `canister_ids(\"\(keyed[0])\", key: \"\(name.name)\")`"
      )
    } else if let guess = suggestion(for: name.name, in: { project.networkNames }) {
      d = d.help("did you mean `\(guess)`?")
    }
    diagnostics.append(d)
  }

  func checkParamType(_ type: RType, at range: SourceRange) {
    switch type {
    case .secret:
      error(
        .invalidParam, "a param cannot be a `secret`: command lines end up in shell history and process lists", range,
        help: "read it with `secret_env(\"NAME\")` instead")
    case .record:
      error(.invalidParam, "a param cannot be a record", range, help: "declare one param per field")
    case .list(let e), .optional(let e):
      if case .list = e {
        error(.invalidParam, "a param cannot be a list of lists", range)
      } else {
        checkParamType(e, at: range)
      }
    default: break
    }
  }

  /// Literals, lists and records of literals, `none`, and negated numbers.
  func isConstant(_ e: Expr) -> Bool {
    switch e.kind {
    case .integer, .amount, .bool, .none, .hash, .principal, .invalid, .name:
      if case .name(let n) = e.kind { return signatures.constants[n] != nil }
      return true
    case .string(let parts): return parts.allSatisfy { if case .text = $0 { true } else { false } }
    case .list(let items): return items.allSatisfy(isConstant)
    case .unary(.negate, let x), .paren(let x): return isConstant(x)
    default: return false
    }
  }

  func checkBindable(_ type: RType, at range: SourceRange) {
    if type == .void { error(.typeMismatch, "this expression returns nothing, so it cannot be bound", range) }
  }

  /// Reports `value` (of type `actual`) where an `expected` is needed, unless it is assignable.
  func expectType(_ actual: RType, _ expected: RType, for value: Expr, what: String) {
    guard !actual.isAssignable(to: expected) else { return }
    var d = Diagnostic.error(.typeMismatch, "\(what) should be `\(expected)`, not `\(actual)`", at: value.range)
    if actual == .int, expected.isUnit {
      d = d.help(
        "an `int` variable never converts to `\(expected)` silently; write an amount literal or multiply one: `n * 1T`")
    } else if actual == .principal, expected.isCanister {
      d = d.help(principalHelp(value, expected))
    } else if actual.isOptional, actual.unwrapped.isAssignable(to: expected) {
      d = d.help("the value may be `none`; give a default with `??`\(noneCheckHint(value))")
    } else if actual == .text, expected == .path {
      d = d.help("a string literal is a `path`; a `text` value is not: convert it with `path(…)`")
    }
    diagnostics.append(d)
  }

  /// How to get a `canister` where a `principal` value was given: a principal value never becomes
  /// one (only a literal adopts the type), so the binding it comes from must be declared as one.
  func principalHelp(_ value: Expr, _ expected: RType) -> String {
    let never = "a `principal` value never becomes a `\(expected)` (only a principal literal does)"
    var inner = value
    while case .paren(let x) = inner.kind { inner = x }
    guard case .name(let name) = inner.kind, let index = lookup(name) else {
      return "\(never); write the id here, or take it from a binding declared `\(expected)`"
    }
    switch symbols[index].kind {
    case .param: return "\(never); declare the param as one: `param \(name): \(expected)`"
    case .global, .local: return "\(never); declare `\(name)` as one where it is bound: `let \(name): \(expected) = …`"
    case .parameter: return "\(never); declare the `fn` parameter as one: `\(name): \(expected)`"
    case .loopVariable: return "\(never); declare the list `\(name)` comes from as `[\(expected)]`"
    case .function, .builtin, .constant, .property:
      return "\(never); write the id here, or take it from a binding declared `\(expected)`"
    }
  }

  // MARK: - Functions

  func checkFunction(_ index: Int) {
    let info = functions[index]
    let saved = (returnType, inFunction, nextSlot, frameSize)
    // A `fn` may be called before an `if` that narrowed a global, so it never sees the narrowing.
    let narrowed = scopes.map(\.narrowed)
    for i in scopes.indices { scopes[i].narrowed = [:] }
    defer { for (i, n) in zip(scopes.indices, narrowed) { scopes[i].narrowed = n } }
    returnType = info.result
    inFunction = true
    nextSlot = 0
    frameSize = 0
    withScope {
      var seen: Set<String> = []
      for (parameter, type) in zip(info.declaration.parameters, info.parameterTypes) {
        if !seen.insert(parameter.name.name).inserted {
          error(.duplicateDefinition, "parameter `\(parameter.name.name)` appears twice", parameter.name.range)
          continue
        }
        declareLocal(parameter.name, type, kind: .parameter)
      }
      checkBlock(info.declaration.body, newScope: false)
    }
    if info.result != .void, !info.result.isError, !leaves(info.declaration.body) {
      error(
        .missingReturn, "`\(info.declaration.name.name)` must return `\(info.result)` on every path",
        info.declaration.name.range, help: "end each path with `return VALUE` or `fail \"why\"`")
    }
    functions[index].frameSize = frameSize
    (returnType, inFunction, nextSlot, frameSize) = saved
  }

  /// A block none of whose paths reaches its end: each ends in `return`, `fail` or `skip`.
  func leaves(_ block: Block) -> Bool {
    block.statements.contains(where: leaves)
  }

  func leaves(_ stmt: Stmt) -> Bool {
    switch stmt.kind {
    case .return, .fail, .skip: return true
    case .if(_, let then, let otherwise):
      switch otherwise {
      case .none: return false
      case .block(let b): return leaves(then) && leaves(b)
      case .elseIf(let s): return leaves(then) && leaves(s)
      }
    default: return false
    }
  }
}
