import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime

/// A semantic diff of two versions of a runbook, for reviewers: the header, declarations
/// (network, identity, params, lets, fns, imports), and steps (added, removed, renamed, reordered,
/// and within a step the ensures, requires and expects, with thresholds and actions shown before
/// and after). Layout and comment changes are no semantic change; doc comments are reported.
public struct RunbookDiff {
  package struct Entry: Equatable {
    package enum Kind: String { case added = "+", removed = "-", changed = "~", moved = "↕" }
    package var kind: Kind
    package var text: String
    package var details: [String] = []
  }

  package var header: [Entry] = []
  package var declarations: [Entry] = []
  package var steps: [Entry] = []

  /// True when the two versions mean the same program (only layout and comments differ).
  public var isEmpty: Bool { header.isEmpty && declarations.isEmpty && steps.isEmpty }

  package init(old: SyntaxTree, new: SyntaxTree) {
    if SyntaxDump.dump(old) == SyntaxDump.dump(new) { return }
    let a = Summary(old)
    let b = Summary(new)
    if a.name != b.name { header.append(Entry(kind: .changed, text: "name: \(a.name) → \(b.name)")) }
    if a.version != b.version {
      header.append(
        Entry(
          kind: .changed,
          text: "version: \(a.version.map(String.init) ?? "none") → \(b.version.map(String.init) ?? "none")"))
    }
    diffDeclarations(a, b)
    diffSteps(a, b)
  }

  // MARK: - Summaries

  struct Step {
    var title: String
    var context: String?
    var subject: String?
    var dump: String
    var body: [Stmt]
    var doc: [String]
    var tree: SyntaxTree
  }

  struct Declaration {
    var key: String
    var text: String
    var dump: String
    var doc: [String]
    /// The dump without the doc comment, to tell documentation-only changes apart.
    var undocumented: String = ""
  }

  struct Summary {
    var name: String
    var version: Int64?
    var declarations: [Declaration] = []
    var steps: [Step] = []

    init(_ tree: SyntaxTree) {
      name = tree.header?.name ?? ""
      version = tree.header?.version
      for stmt in tree.statements { collect(stmt, tree, context: nil) }
    }

    static func text(_ tree: SyntaxTree, _ range: SourceRange) -> String {
      tree.file.text(range).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
    }

    mutating func collect(_ stmt: Stmt, _ tree: SyntaxTree, context: String?) {
      let dump = SyntaxDump.stmt(stmt, indent: "")
      var bare = stmt
      bare.doc = []
      let undocumented = SyntaxDump.stmt(bare, indent: "")
      defer {
        if let last = declarations.indices.last, declarations[last].dump == dump {
          declarations[last].undocumented = undocumented
        }
      }
      let t = { (r: SourceRange) in Summary.text(tree, r) }
      switch stmt.kind {
      case .useNetwork(let n): declarations.append(Declaration(key: "network", text: n.name, dump: n.name, doc: []))
      case .useIdentity(let e): declarations.append(Declaration(key: "identity", text: t(e.range), dump: dump, doc: []))
      case .param(let n, _, _):
        declarations.append(Declaration(key: "param \(n.name)", text: t(stmt.range), dump: dump, doc: stmt.doc))
      case .let(let n, _, _):
        if context == nil {
          declarations.append(Declaration(key: "let \(n.name)", text: t(stmt.range), dump: dump, doc: stmt.doc))
        }
      case .function(let f):
        declarations.append(
          Declaration(key: "fn \(f.name.name)", text: "fn \(f.name.name)", dump: dump, doc: stmt.doc))
      case .import(let p, _):
        declarations.append(Declaration(key: "import \(p)", text: "import \"\(p)\"", dump: dump, doc: []))
      case .importInterface(let p, _, let n):
        declarations.append(
          Declaration(key: "interface \(n.name)", text: "import \"\(p)\" as \(n.name)", dump: dump, doc: []))
      case .step(let title, let subject, let body):
        let plainTitle = SyntaxTree.plainText(title, in: tree)
        steps.append(
          Step(
            title: plainTitle, context: context, subject: subject.map { t($0.range) }, dump: dump,
            body: body.statements,
            doc: stmt.doc, tree: tree))
      case .for(let v, let seq, let body, let limit, let keepGoing):
        let ctx =
          "\(limit == nil ? "for" : "parallel for") \(v.name) in \(t(seq.range))"
          + (limit.map { " limit \(t($0.range))" } ?? "") + (keepGoing == nil ? "" : " keep going")
        for s in body.statements { collect(s, tree, context: ctx) }
      case .if(let c, let then, _):
        for s in then.statements { collect(s, tree, context: "if \(t(c.range))") }
      default:
        if context == nil {
          declarations.append(Declaration(key: "top-level " + t(stmt.range), text: t(stmt.range), dump: dump, doc: []))
        }
      }
    }
  }

  // MARK: - Declarations

  mutating func diffDeclarations(_ a: Summary, _ b: Summary) {
    let old = Dictionary(a.declarations.map { ($0.key, $0) }, uniquingKeysWith: { x, _ in x })
    let new = Dictionary(b.declarations.map { ($0.key, $0) }, uniquingKeysWith: { x, _ in x })
    for d in a.declarations where new[d.key] == nil {
      declarations.append(Entry(kind: .removed, text: d.key == "network" ? "use network \(d.text)" : d.text))
    }
    for d in b.declarations {
      guard let before = old[d.key] else {
        declarations.append(Entry(kind: .added, text: d.key == "network" ? "use network \(d.text)" : d.text))
        continue
      }
      if before.dump == d.dump { continue }
      if d.key == "network" {
        declarations.append(Entry(kind: .changed, text: "network: \(before.text) → \(d.text)"))
      } else if before.doc != d.doc, before.undocumented == d.undocumented {
        declarations.append(Entry(kind: .changed, text: "documentation of \(d.key)"))
      } else if d.key.hasPrefix("fn ") {
        declarations.append(Entry(kind: .changed, text: "\(d.key): its body changed"))
      } else {
        declarations.append(Entry(kind: .changed, text: "\(before.text) → \(d.text)"))
      }
    }
  }

  // MARK: - Steps

  mutating func diffSteps(_ a: Summary, _ b: Summary) {
    var pairs: [(Int, Int)] = []
    var unmatchedOld = Set(a.steps.indices)
    var unmatchedNew = Set(b.steps.indices)
    for (j, s) in b.steps.enumerated() {
      if let i = a.steps.indices.first(where: { unmatchedOld.contains($0) && a.steps[$0].title == s.title }) {
        pairs.append((i, j))
        unmatchedOld.remove(i)
        unmatchedNew.remove(j)
      }
    }
    // Renames: the same body (or subject and most statements) under a new title.
    for j in b.steps.indices where unmatchedNew.contains(j) {
      let s = b.steps[j]
      let keys = s.body.map { check($0, s.tree).key }
      if let i = a.steps.indices.first(where: { i in
        guard unmatchedOld.contains(i), a.steps[i].subject == s.subject else { return false }
        let other = a.steps[i].body.map { check($0, a.steps[i].tree).key }
        return Set(other).intersection(keys).count * 2 >= max(other.count, keys.count, 1)
      }) {
        steps.append(Entry(kind: .changed, text: "step renamed: \"\(a.steps[i].title)\" → \"\(s.title)\""))
        pairs.append((i, j))
        unmatchedOld.remove(i)
        unmatchedNew.remove(j)
      }
    }
    for i in a.steps.indices where unmatchedOld.contains(i) {
      steps.append(Entry(kind: .removed, text: "step \"\(a.steps[i].title)\""))
    }
    for j in b.steps.indices where unmatchedNew.contains(j) {
      let s = b.steps[j]
      var e = Entry(kind: .added, text: "step \"\(s.title)\" (step \(j + 1) of \(b.steps.count))")
      e.details = s.body.compactMap { describe($0, s.tree) }
      steps.append(e)
    }
    // Reordering among steps present in both.
    let byNew = pairs.sorted { $0.1 < $1.1 }
    if byNew.map(\.0) != byNew.map(\.0).sorted() {
      steps.append(
        Entry(
          kind: .moved, text: "steps reordered: " + byNew.map { "\"\(b.steps[$0.1].title)\"" }.joined(separator: ", ")))
    }
    for (i, j) in byNew {
      let (old, new) = (a.steps[i], b.steps[j])
      guard old.dump != new.dump || old.context != new.context else { continue }
      var details: [String] = []
      if old.subject != new.subject { details.append("~ on \(old.subject ?? "nothing") → \(new.subject ?? "nothing")") }
      if old.context != new.context { details.append("~ runs \(old.context ?? "once") → \(new.context ?? "once")") }
      if old.doc != new.doc { details.append("~ documentation") }
      details += diffBodies(old, new)
      if details.isEmpty { continue }
      steps.append(Entry(kind: .changed, text: "step \"\(new.title)\"", details: details))
    }
  }

  /// A statement, keyed so that versions of "the same" check pair up: an ensure or comparison by
  /// its left side (`cycles`), anything else by its whole text.
  struct Check {
    var keyword: String
    var key: String
    var condition: String
    var rest: String
    var dump: String
  }

  func check(_ stmt: Stmt, _ tree: SyntaxTree) -> Check {
    let t = { (r: SourceRange) in Summary.text(tree, r) }
    let dump = SyntaxDump.stmt(stmt, indent: "")
    func key(_ c: Expr) -> String {
      if case .binary(let op, let l, _) = c.kind, op.isComparison { return t(l.range) + " " + op.rawValue }
      return t(c.range)
    }
    switch stmt.kind {
    case .ensure(let c, let actions):
      return Check(
        keyword: "ensure", key: "ensure " + key(c), condition: t(c.range),
        rest: actions.map { t($0.range) }.joined(separator: " or "), dump: dump)
    case .require(let c, let m):
      return Check(
        keyword: "require", key: "require " + key(c), condition: t(c.range), rest: m.map { t($0.range) } ?? "",
        dump: dump)
    case .expect(let c, let m):
      return Check(
        keyword: "expect", key: "expect " + key(c), condition: t(c.range), rest: m.map { t($0.range) } ?? "", dump: dump
      )
    default:
      return Check(keyword: "", key: dump, condition: t(stmt.range), rest: "", dump: dump)
    }
  }

  func diffBodies(_ old: Step, _ new: Step) -> [String] {
    let a = old.body.map { check($0, old.tree) }
    let b = new.body.map { check($0, new.tree) }
    var out: [String] = []
    var used = Set<Int>()
    for c in b {
      guard let i = a.indices.first(where: { !used.contains($0) && a[$0].key == c.key }) else { continue }
      used.insert(i)
      let before = a[i]
      guard before.dump != c.dump else { continue }
      if before.condition != c.condition { out.append("~ \(c.keyword) \(before.condition) → \(c.condition)") }
      if before.rest != c.rest {
        out.append(
          c.keyword == "ensure"
            ? "~ via \(before.rest) → via \(c.rest)" : "~ message of `\(c.condition)`: \(before.rest) → \(c.rest)")
      }
      if before.condition == c.condition, before.rest == c.rest { out.append("~ \(c.keyword) \(c.condition)") }
    }
    for (i, c) in a.enumerated() where !used.contains(i) {
      out.append(
        "- "
          + (c.keyword.isEmpty
            ? c.condition : "\(c.keyword) \(c.condition)\(c.keyword == "ensure" ? " via \(c.rest)" : "")"))
    }
    for c in b where !a.contains(where: { $0.key == c.key }) {
      out.append(
        "+ "
          + (c.keyword.isEmpty
            ? c.condition : "\(c.keyword) \(c.condition)\(c.keyword == "ensure" ? " via \(c.rest)" : "")"))
    }
    return out
  }

  func describe(_ stmt: Stmt, _ tree: SyntaxTree) -> String? {
    let c = check(stmt, tree)
    return c.keyword.isEmpty
      ? c.condition : "\(c.keyword) \(c.condition)\(c.keyword == "ensure" ? " via \(c.rest)" : "")"
  }

  // MARK: - Rendering

  public func text(old: String, new: String) -> String {
    guard !isEmpty else { return "\(old) → \(new): no semantic change (layout or comments only)\n" }
    var out = "\(old) → \(new)\n"
    for e in header + declarations { out += "\(e.kind.rawValue) \(e.text)\n" }
    if !steps.isEmpty { out += "steps:\n" }
    for e in steps {
      out += "  \(e.kind.rawValue) \(e.text)\n"
      for d in e.details { out += "      \(d)\n" }
    }
    return out
  }

  public func markdown(old: String, new: String) -> String {
    guard !isEmpty else { return "### `\(old)` → `\(new)`\n\nNo semantic change (layout or comments only).\n" }
    var out = "### `\(old)` → `\(new)`\n\n"
    let words: [Entry.Kind: String] = [.added: "Added", .removed: "Removed", .changed: "Changed", .moved: "Moved"]
    if !(header + declarations).isEmpty {
      out += "**Runbook**\n\n"
      for e in header + declarations { out += "- \(words[e.kind] ?? "Changed"): `\(e.text)`\n" }
      out += "\n"
    }
    if !steps.isEmpty {
      out += "**Steps**\n\n"
      for e in steps {
        out += "- \(words[e.kind] ?? "Changed"): \(e.text)\n"
        for d in e.details { out += "  - `\(d)`\n" }
      }
    }
    return out
  }
}
