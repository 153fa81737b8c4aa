import Foundation
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime

extension LanguageServer {
  // MARK: - Hover

  func hover(_ p: PositionParams) -> Hover? {
    guard let doc = documents[p.textDocument.uri], let a = doc.analysis else { return nil }
    let offset = a.table.offset(p.position)
    let program = a.program
    let tree = program.main
    // An action name in an ensure: what it does and converges.
    var actionHover: Hover?
    SyntaxWalk.statements(tree.statements) { s in
      guard case .ensure(_, let actions) = s.kind else { return }
      for action in actions where action.name.range.start <= offset && offset <= action.name.range.end {
        if let sig = registry.actions[action.name.name] {
          actionHover = Hover(
            contents: MarkupContent(
              value:
                "**action** `\(sig.name)`\n\n\(sig.summary)\n\nconverges: \(sig.converges.map { "`\($0)`" }.joined(separator: ", "))"
            ), range: a.table.range(action.name.range))
        }
      }
    }
    if let actionHover { return actionHover }
    guard let e = SyntaxWalk.expression(at: offset, in: tree.statements) else { return nil }
    let type = e.id < program.types.count ? program.types[e.id] : nil
    var lines: [String] = []
    switch e.kind {
    case .amount(let unit, let value):
      lines.append("`\(a.file.text(e.range))` : \(RType.of(unit))")
      lines.append(Self.amountInWords(unit, value))
    case .principal(let bytes):
      let p = Principal(bytes: bytes)
      lines.append("`\(p.text)` : \(type.map { "\($0)" } ?? "principal")")
      lines.append(Self.principalKind(bytes))
      let names = ProjectFiles(directory: root ?? (doc.path as NSString).deletingLastPathComponent).canisterIDs
        .flatMap { name, keys in keys.filter { $0.value == p.text }.map { "`\(name)` (\($0.key))" } }
      if !names.isEmpty { lines.append("canister_ids.json: " + names.sorted().joined(separator: ", ")) }
    case .name(let name):
      lines.append("`\(name)` : \(type.map { "\($0)" } ?? "?")")
      lines += documentation(of: e, name: name, program)
    case .member(let base, let member) where member.range.start <= offset:
      lines.append("`\(member.name)` : \(type.map { "\($0)" } ?? "?")")
      if let property = CanisterProperty(rawValue: member.name) { lines.append(Self.propertyDoc(property)) }
      if let baseType = base.id < program.types.count ? program.types[base.id] : nil,
        case .service(let interface) = baseType, let env = program.interfaces[interface],
        let f = env.methods.first(where: { $0.name == member.name })?.function
      {
        lines.append("Candid: `\(member.name) : \(f)`")
      }
    default:
      guard let type else { return nil }
      lines.append("`\(a.file.text(e.range).prefix(60))` : \(type)")
    }
    return Hover(contents: MarkupContent(value: lines.joined(separator: "\n\n")), range: a.table.range(e.range))
  }

  /// Doc comments and signatures: of a declaration, a user `fn`, a builtin.
  func documentation(of e: Expr, name: String, _ program: CheckedProgram) -> [String] {
    switch e.id < program.resolutions.count ? program.resolutions[e.id] : nil {
    case .function(let i)?:
      guard i < program.functions.count else { return [] }
      let f = program.functions[i]
      let parameters = zip(f.declaration.parameters, f.parameterTypes).map { "\($0.name.name): \($1)" }
      return ["`fn \(name)(\(parameters.joined(separator: ", "))) -> \(f.result)`"]
        + (f.doc.isEmpty ? [] : [f.doc.joined(separator: "\n")])
    case .builtin(let b)?:
      guard let sig = registry.builtins[b] else { return [] }
      let parameters = sig.parameters.map {
        "\($0.name): \($0.type)" + ($0.defaultDescription.map { " = \($0)" } ?? "")
      }
      return ["`\(b)(\(parameters.joined(separator: ", "))) -> \(sig.result)`", sig.summary]
    case .global?, .local?:
      guard let declaration = declaration(of: e, program) else { return [] }
      return docComment(at: declaration, program).map { [$0] } ?? []
    case .subjectProperty(let property)?:
      return [Self.propertyDoc(property)]
    default:
      return []
    }
  }

  /// The `##` lines above the statement that declares the name at `range`.
  func docComment(at range: SourceRange, _ program: CheckedProgram) -> String? {
    for tree in program.trees where tree.file.id == range.file {
      var found: [String]?
      SyntaxWalk.statements(tree.statements) { s in
        switch s.kind {
        case .let(let name, _, _) where name.range == range: found = s.doc
        case .param(let name, _, _) where name.range == range: found = s.doc
        default: break
        }
      }
      if let found, !found.isEmpty { return found.joined(separator: "\n") }
    }
    return nil
  }

  static func amountInWords(_ unit: RbicLexer.Unit, _ value: Int128) -> String {
    switch unit {
    case .cycles:
      let short = ValueFormat.cycles(value)
      let words = ["T": "trillion", "B": "billion", "M": "million", "K": "thousand"]
      if let suffix = short.last.map(String.init), let word = words[suffix],
        case .cycles(let exact)? = ParamParser.parse(short, as: .cycles), exact == value
      {
        return "\(ValueFormat.grouped(value)) cycles: \(short.dropLast()) \(word)"
      }
      return "\(ValueFormat.grouped(value)) cycles"
    case .icp: return "\(ValueFormat.grouped(value)) e8s: \(ValueFormat.icp(Int64(clamping: value)))"
    case .duration:
      let seconds = value / 1_000_000_000
      return "\(ValueFormat.grouped(seconds)) seconds"
        + (value % 1_000_000_000 == 0 ? "" : " (\(ValueFormat.grouped(value)) ns)")
    case .bytes: return "\(ValueFormat.grouped(value)) bytes"
    }
  }

  /// What kind of principal: the IC's principal classes, by their last byte and length.
  static func principalKind(_ bytes: [UInt8]) -> String {
    if bytes.isEmpty { return "the management canister (`aaaaa-aa`)" }
    if bytes == [0x04] { return "the anonymous principal" }
    switch bytes.last {
    case 0x01?: return "an opaque principal: a canister id"
    case 0x02?: return "a self-authenticating principal: a user or an identity's key"
    case 0x03?: return "a derived principal"
    case 0x7F?: return "a reserved principal"
    default: return "a principal of an unknown class"
    }
  }

  static func propertyDoc(_ p: CanisterProperty) -> String {
    switch p {
    case .id: "the canister's id"
    case .cycles: "the canister's cycles balance (controller view; one read per step, reused until a mutation)"
    case .hash: "the sha256 of the installed module, `none` when the canister is empty"
    case .controllers: "the canister's controllers"
    case .status: "`running`, `stopping` or `stopped`"
    case .memory: "the memory the canister uses"
    case .freezingThreshold: "how long the canister must be able to pay for itself idle before it freezes"
    case .idleBurn: "the cycles the canister burns per day at rest"
    case .reservedCycles: "cycles set aside for storage, not spendable"
    case .freezeIn: "how long until the canister freezes at its idle burn (`never` when it burns nothing)"
    case .memoryAllocation: "bytes reserved for the canister (0: best effort)"
    case .reservedCyclesLimit: "the most cycles the canister may reserve"
    case .logVisibility: "who may read the canister's logs: `controllers`, `public` or `allowed_viewers`"
    case .balance: "a wallet's own cycles: what it can send"
    }
  }

  // MARK: - Completion

  func completion(_ p: PositionParams) -> CompletionList {
    guard let doc = documents[p.textDocument.uri] else { return CompletionList(items: []) }
    let table = LineTable(doc.bytes)
    let offset = table.offset(p.position)
    let lineStart = table.offset(Position(line: p.position.line, character: 0))
    let before = String(decoding: doc.bytes[lineStart..<offset], as: UTF8.self)
    let word = String(before.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
    let head = String(before.dropLast(word.count))
    let program = doc.analysis?.program

    // Inside `canister_ids("…` and its kin: the names in canister_ids.json.
    if let match = head.firstMatch(of: /(canister_ids|find_canister_id|record_canister_id)\(\s*"$/) {
      _ = match
      let ids = ProjectFiles(directory: root ?? (doc.path as NSString).deletingLastPathComponent).canisterIDs
      return CompletionList(
        items: ids.keys.sorted().map { name in
          CompletionItem(
            label: name, kind: 12,
            detail: ids[name].map {
              $0.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            })
        })
    }
    // After `x.`: what x's type has.
    if head.hasSuffix(".") {
      let receiver = String(head.dropLast().reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" }.reversed())
      guard let program, let type = typeOfName(receiver, program) else { return CompletionList(items: []) }
      return CompletionList(
        items: type.members(interfaces: program.interfaces).map { m in
          if let property = CanisterProperty(rawValue: m) {
            return CompletionItem(
              label: m, kind: 10, detail: "\(property.type)",
              documentation: MarkupContent(value: Self.propertyDoc(property)))
          }
          if case .service(let interface) = type,
            let f = program.interfaces[interface]?.methods.first(where: { $0.name == m })
          {
            return CompletionItem(label: m, kind: 2, detail: "\(f.function)")
          }
          return CompletionItem(label: m, kind: 5)
        })
    }
    // After `via` or `or` in an ensure: the actions that can converge its condition.
    if let match = head.firstMatch(of: /\bensure\s+(.+?)\s+via\s+(?:.*\bor\s+)?$/) {
      return CompletionList(items: actions(converging: String(match.1), program))
    }
    var items = Keyword.completionWords.map { CompletionItem(label: $0, kind: 14) }
    items += ["running", "stopped", "stopping"].map { CompletionItem(label: $0, kind: 21, detail: "status") }
    for (name, sig) in registry.builtins.sorted(by: { $0.key < $1.key }) {
      items.append(
        CompletionItem(label: name, kind: 3, detail: "\(sig.result)", documentation: MarkupContent(value: sig.summary)))
    }
    if let program {
      for (name, type) in namesInScope(program).sorted(by: { $0.key < $1.key }) {
        items.append(CompletionItem(label: name, kind: 6, detail: "\(type)", sortText: "0" + name))
      }
      // Bare inside `step … on CANISTER`.
      for property in CanisterProperty.subjectProperties {
        items.append(
          CompletionItem(
            label: property.rawValue, kind: 10, detail: "\(property.type)", sortText: "1" + property.rawValue))
      }
    }
    return CompletionList(items: items)
  }

  /// The actions (registry entries and user `fn`s) that can make `condition` true: the property it
  /// names and the comparison, read from its text so a half-written line completes too.
  func actions(converging condition: String, _ program: CheckedProgram?) -> [CompletionItem] {
    let tokens = condition.split(whereSeparator: { $0 == " " }).map(String.init)
    var property: CanisterProperty?
    var kind: Convergence.ComparisonKind?
    var other: String?
    for (i, t) in tokens.enumerated() {
      let name = t.split(separator: ".").last.map(String.init) ?? t
      guard let p = CanisterProperty(rawValue: name) else { continue }
      property = p == .balance ? .cycles : p
      let (op, rest) =
        i + 1 < tokens.count
        ? (tokens[i + 1], i + 2 < tokens.count ? tokens[i + 2] : nil)
        : (i > 0 ? Self.flipped(tokens[i - 1]) : "", i > 1 ? tokens[i - 2] : nil)
      other = rest
      kind =
        switch op {
        case ">=", ">": .atLeast
        case "==": .equal
        case "contains": .contains
        default: nil
        }
      break
    }
    var items: [CompletionItem] = []
    // Only what the checker accepts: the property and the comparison (an action that cannot make
    // `cycles < 1T` true is not offered), and the status an action makes (`start` for running).
    if property == nil || kind != nil {
      for sig in registry.actions.values.sorted(by: { $0.name < $1.name }) {
        let fits = sig.converges.contains { c in
          guard case .comparison(let p, let k) = c else { return false }
          return property == nil || (p == property && k == kind)
        }
        if !fits { continue }
        if let status = sig.requiredStatus, let other, CanisterStatus(rawValue: other) != nil, other != status {
          continue
        }
        items.append(
          CompletionItem(
            label: sig.name, kind: 3, detail: sig.converges.map(\.description).joined(separator: ", "),
            documentation: MarkupContent(value: sig.summary)))
      }
    }
    for f in program?.functions ?? [] {
      items.append(CompletionItem(label: f.declaration.name.name, kind: 3, detail: "fn", sortText: "z"))
    }
    return items
  }

  /// `1T <= cycles` reads as `cycles >= 1T`.
  static func flipped(_ op: String) -> String {
    switch op {
    case "<=": ">="
    case "<": ">"
    default: op
    }
  }

  /// Names declared in the program (every file) with their types: params, `let`s, `for`
  /// variables, `fn`s.
  func namesInScope(_ program: CheckedProgram) -> [String: RType] {
    var out: [String: RType] = [:]
    for tree in program.trees {
      // A use of a name carries the type the checker gave it: the declared one (`let prod:
      // UserService = …`), and locals' and `for` variables' too.
      SyntaxWalk.statements(tree.statements) { s in
        func visit(_ e: Expr) {
          if case .name(let n) = e.kind, out[n] == nil, registry.builtins[n] == nil,
            let t = e.id < program.types.count ? program.types[e.id] : nil, !t.isError
          {
            out[n] = t
          }
          SyntaxWalk.children(of: e).forEach(visit)
        }
        SyntaxWalk.expressions(of: s).forEach(visit)
      }
    }
    for p in program.params { out[p.name] = p.type }
    for tree in program.trees {
      SyntaxWalk.statements(tree.statements) { s in
        switch s.kind {
        case .let(let name, _, let value):
          if out[name.name] == nil, let t = value.id < program.types.count ? program.types[value.id] : nil {
            out[name.name] = t
          }
        case .function(let f):
          if let info = program.functions.first(where: { $0.declaration.name.range == f.name.range }) {
            out[f.name.name] = info.result
          }
        default: break
        }
      }
    }
    return out
  }

  func typeOfName(_ name: String, _ program: CheckedProgram) -> RType? {
    namesInScope(program)[name]
  }

  // MARK: - Definition

  func definition(_ p: PositionParams) -> Location? {
    guard let doc = documents[p.textDocument.uri], let a = doc.analysis else { return nil }
    let offset = a.table.offset(p.position)
    let program = a.program
    // An import's path: the file it names.
    if let s = SyntaxWalk.statement(at: offset, in: program.main.statements) {
      switch s.kind {
      case .import(let path, let range), .importInterface(let path, let range, _):
        guard range.start <= offset, offset <= range.end else { break }
        // As the checker resolves it: against the importing file's directory.
        let found =
          path.hasPrefix("/")
          ? path : ((doc.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: found) else { return nil }
        return Location(
          uri: Self.uri(of: found),
          range: LSPRange(start: .init(line: 0, character: 0), end: .init(line: 0, character: 0)))
      default: break
      }
    }
    guard let e = SyntaxWalk.expression(at: offset, in: program.main.statements), case .name = e.kind,
      let target = declaration(of: e, program), target.file.raw >= 0, target.file.raw < program.files.files.count
    else { return nil }
    let file = program.files[target.file]
    let table = file.path == doc.path ? a.table : LineTable(file.bytes)
    return Location(uri: file.path == doc.path ? doc.uri : Self.uri(of: file.path), range: table.range(target))
  }

  /// Where the name `e` refers to was declared: the checker's resolution, matched with the
  /// declaration table (a local: the nearest declaration of its slot before the use).
  func declaration(of e: Expr, _ program: CheckedProgram) -> SourceRange? {
    guard let resolution = e.id < program.resolutions.count ? program.resolutions[e.id] : nil else { return nil }
    switch resolution {
    case .function(let i):
      return i < program.functions.count ? program.functions[i].declaration.name.range : nil
    case .global:
      return program.declarations.first { $0.value == resolution }?.key
    case .local:
      let text: String? = if case .name(let n) = e.kind { n } else { nil }
      return program.declarations
        .filter { decl, r in
          r == resolution && decl.file == e.range.file && decl.start <= e.range.start
            && program.files[decl.file].text(decl) == text
        }
        .max { $0.key.start < $1.key.start }?.key
    default:
      return nil
    }
  }

  // MARK: - Symbols and formatting

  func symbols(_ uri: String) -> [DocumentSymbol] {
    guard let doc = documents[uri], let a = doc.analysis else { return [] }
    let tree = a.program.main
    let t = a.table
    let paramTypes = Dictionary(a.program.params.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
    func symbols(_ list: [Stmt]) -> [DocumentSymbol] {
      var out: [DocumentSymbol] = []
      for s in list {
        switch s.kind {
        case .param(let name, _, _):
          let type = paramTypes[name.name].map { "\($0)" }
          out.append(
            DocumentSymbol(
              name: name.name, detail: "param" + (type.map { ": \($0)" } ?? ""), kind: 13, range: t.range(s.range),
              selectionRange: t.range(name.range)))
        case .let(let name, _, let value):
          let type = value.id < a.program.types.count ? a.program.types[value.id] : nil
          out.append(
            DocumentSymbol(
              name: name.name, detail: type.map { "\($0)" }, kind: 14, range: t.range(s.range),
              selectionRange: t.range(name.range)))
        case .function(let f):
          out.append(
            DocumentSymbol(
              name: f.name.name, detail: "fn", kind: 12, range: t.range(s.range), selectionRange: t.range(f.name.range),
              children: symbols(f.body.statements)))
        case .step(let title, _, let body):
          out.append(
            DocumentSymbol(
              name: SyntaxTree.plainText(title, in: tree), detail: "step", kind: 24, range: t.range(s.range),
              selectionRange: t.range(title.range),
              children: symbols(body.statements)))
        case .import(let path, let range), .importInterface(let path, let range, _):
          out.append(
            DocumentSymbol(
              name: path, detail: "import", kind: 2, range: t.range(s.range), selectionRange: t.range(range)))
        default:
          // Steps inside loops and conditionals still show.
          out += SyntaxWalk.blocks(of: s).flatMap { symbols($0.statements) }
        }
      }
      return out
    }
    return symbols(tree.statements)
  }

  func formatting(_ uri: String) -> [TextEdit] {
    guard let doc = documents[uri], doc.bytes.count <= Self.maxDocumentBytes else { return [] }
    var files = SourceFiles()
    let tree = Parser.parse(files.add(path: doc.path, bytes: doc.bytes))
    guard let formatted = Formatter.format(tree), Array(formatted.utf8) != doc.bytes else { return [] }
    let table = LineTable(doc.bytes)
    return [
      TextEdit(range: LSPRange(start: table.position(0), end: table.position(doc.bytes.count)), newText: formatted)
    ]
  }
}
