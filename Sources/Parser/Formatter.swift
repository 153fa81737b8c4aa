import RbicDiagnostics
import RbicLexer

/// The canonical formatter: a syntax tree (without errors) in, source text out.
///
/// Layout: two-space indentation, one statement per line, single spaces around binary operators,
/// `, ` between list items, at most one blank line kept where the author had any. Literals are
/// printed exactly as written (so `1_000T` and `0x…` keep their spelling). Lists, records and
/// argument lists stay multi-line, one item per line with a trailing comma, when the author broke
/// the line after the opening bracket or put comments inside; a block stays on one line when it was
/// written so and holds one simple statement. Comments are kept: own-line comments before the item
/// that follows them, trailing comments at the end of the line they followed.
///
/// Invariants (tested over the corpus): `format(format(x)) == format(x)`, and the formatted text
/// parses to the same tree.
package struct Formatter {
  package static let maxLineWidth = 100

  private let tree: SyntaxTree
  private let file: SourceFile
  private let comments: [Comment]
  private var nextComment = 0
  private var lines: [String] = []
  private var current = ""
  private var indent = 0
  /// Source offset where the last emitted item ended; nil at the start of a block.
  private var previousEnd: Int?

  private init(tree: SyntaxTree) {
    self.tree = tree
    self.file = tree.file
    self.comments = tree.comments
  }

  /// Formats a parsed file. Returns nil when the tree has errors: a broken file is never rewritten.
  package static func format(_ tree: SyntaxTree) -> String? {
    guard !tree.diagnostics.hasErrors else { return nil }
    var f = Formatter(tree: tree)
    return f.run()
  }

  private mutating func run() -> String {
    if let header = tree.header {
      flushComments(before: header.range.start)
      emitBlankLineIfNeeded(before: header.range.start)
      write("runbook \(file.text(header.nameRange)) version \(file.text(header.versionRange))")
      endLine(at: header.range.end)
    }
    statements(tree.statements)
    flushComments(before: Int.max)
    if !current.isEmpty { newline() }
    while lines.last == "" { lines.removeLast() }
    return lines.joined(separator: "\n") + "\n"
  }

  // MARK: - Lines

  private mutating func write(_ s: String) {
    if current.isEmpty { current = String(repeating: "  ", count: indent) }
    current += s
  }

  private mutating func newline() {
    while current.last == " " { current.removeLast() }
    lines.append(current)
    current = ""
  }

  private mutating func endLine(at sourceEnd: Int) {
    newline()
    previousEnd = sourceEnd
  }

  private func newlines(from start: Int, to end: Int) -> Int {
    guard start < end else { return 0 }
    var n = 0
    for i in start..<min(end, file.bytes.count) where file.bytes[i] == UInt8(ascii: "\n") { n += 1 }
    return n
  }

  private mutating func emitBlankLineIfNeeded(before offset: Int) {
    guard let previousEnd, current.isEmpty, newlines(from: previousEnd, to: offset) >= 2, lines.last != "" else {
      return
    }
    lines.append("")
  }

  private func commentText(_ c: Comment) -> String {
    var text = (c.isDoc ? "##" : "#") + c.text
    while text.last == " " || text.last == "\t" { text.removeLast() }
    return text
  }

  /// Emits the comments that start before `offset`.
  private mutating func flushComments(before offset: Int) {
    while nextComment < comments.count, comments[nextComment].start < offset {
      let c = comments[nextComment]
      nextComment += 1
      if c.isTrailing {
        if !current.isEmpty {
          current += "  " + commentText(c)
          newline()
        } else if !lines.isEmpty, lines.last != "" {
          lines[lines.count - 1] += "  " + commentText(c)
        } else {
          write(commentText(c))
          newline()
        }
      } else {
        if !current.isEmpty { newline() }
        emitBlankLineIfNeeded(before: c.start)
        write(commentText(c))
        newline()
      }
      previousEnd = c.end
    }
  }

  /// Emits the comments before `offset` that trail the current line.
  private mutating func flushTrailingComments(before offset: Int) {
    while nextComment < comments.count, comments[nextComment].start < offset, comments[nextComment].isTrailing {
      current += "  " + commentText(comments[nextComment])
      nextComment += 1
      newline()
    }
  }

  /// The end of the last non-blank, non-comment source byte before `offset` (for blank-line checks).
  private func lastTokenEnd(before offset: Int) -> Int {
    var i = min(offset, file.bytes.count) - 1
    while i > 0,
      file.bytes[i] == UInt8(ascii: " ") || file.bytes[i] == UInt8(ascii: "\n") || file.bytes[i] == UInt8(ascii: "\t")
        || file.bytes[i] == UInt8(ascii: "\r")
    { i -= 1 }
    return i + 1
  }

  // MARK: - Statements

  private mutating func statements(_ list: [Stmt]) {
    for stmt in list {
      flushComments(before: stmt.range.start)
      emitBlankLineIfNeeded(before: stmt.range.start)
      statement(stmt)
      if !current.isEmpty { newline() }
      previousEnd = stmt.range.end
    }
  }

  /// `{`, the statements, `}`; or `{ statement }` when the author kept it on one line.
  private mutating func block(_ b: Block) {
    if let only = b.statements.first, b.statements.count == 1, isOneLine(b), isSimple(only),
      !hasComment(inside: b.range)
    {
      write("{ ")
      statement(only)
      write(" }")
      return
    }
    if b.statements.isEmpty, !hasComment(inside: b.range) {
      write("{}")
      return
    }
    write("{")
    newline()
    previousEnd = nil
    indent += 1
    statements(b.statements)
    flushComments(before: b.range.end - 1)
    indent -= 1
    write("}")
  }

  /// Whether a comment (from the `first`th on) starts strictly inside `range`: a binary search
  /// over the comments (they are in source order), so checking every block and bracket is not a
  /// scan of every comment.
  private func hasComment(inside range: SourceRange, from first: Int = 0) -> Bool {
    var lo = first
    var hi = comments.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if comments[mid].start > range.start { hi = mid } else { lo = mid + 1 }
    }
    return lo < comments.count && comments[lo].start < range.end
  }

  private func isOneLine(_ b: Block) -> Bool {
    file.line(of: b.range.start) == file.line(of: max(b.range.start, b.range.end - 1))
  }

  private func isSimple(_ s: Stmt) -> Bool {
    switch s.kind {
    case .if, .for, .step, .function, .onFailure: false
    default: current.count + file.text(s.range).count + 4 <= Formatter.maxLineWidth
    }
  }

  private mutating func statement(_ s: Stmt) {
    switch s.kind {
    case .useNetwork(let name): write("use network \(file.text(name.range))")
    case .useIdentity(let e):
      write("use identity ")
      expr(e)
    case .param(let name, let type, let value):
      write("param \(name.name): \(typeText(type))")
      if let value {
        write(" = ")
        expr(value)
      }
    case .let(let name, let type, let value):
      write("let \(name.name)")
      if let type { write(": \(typeText(type))") }
      write(" = ")
      expr(value)
    case .function(let f):
      let parameters = f.parameters.map { "\($0.name.name): \(typeText($0.type))" }.joined(separator: ", ")
      write("fn \(f.name.name)(\(parameters))")
      if let r = f.returnType { write(" -> \(typeText(r))") }
      write(" ")
      block(f.body)
    case .import(_, let range): write("import \(file.text(range))")
    case .importInterface(_, let range, let name): write("import \(file.text(range)) as \(name.name)")
    case .step(let title, let subject, let body):
      write("step ")
      expr(title)
      if let subject {
        write(" on ")
        expr(subject)
      }
      write(" ")
      block(body)
    case .ensure(let condition, let actions):
      write("ensure ")
      expr(condition)
      write(" via ")
      for (i, action) in actions.enumerated() {
        if i > 0 { write(" or ") }
        self.action(action)
      }
    case .require(let c, let m), .expect(let c, let m):
      if case .require = s.kind { write("require ") } else { write("expect ") }
      expr(c)
      if let m {
        write(" else ")
        expr(m)
      }
    case .confirm(let e): keyword("confirm", e)
    case .skip(let e): keyword("skip", e)
    case .fail(let e): keyword("fail", e)
    case .print(let e): keyword("print", e)
    case .call(let e, let cycles):
      keyword("call", e)
      callCycles(cycles)
    case .onFailure(let b):
      write("on failure ")
      block(b)
    case .wait(let c, let timeout):
      write("wait until ")
      expr(c)
      write(" timeout ")
      expr(timeout)
    case .return(let e):
      write("return")
      if let e {
        write(" ")
        expr(e)
      }
    case .expression(let e): expr(e)
    case .if(let c, let then, let otherwise):
      write("if ")
      expr(c)
      write(" ")
      block(then)
      switch otherwise {
      case .none: break
      case .block(let b):
        write(" else ")
        block(b)
      case .elseIf(let nested):
        write(" else ")
        statement(nested)
      }
    case .for(let variable, let sequence, let body, let limit, let keepGoing):
      write(limit == nil ? "for " : "parallel for ")
      write("\(variable.name) in ")
      expr(sequence)
      if let limit {
        write(" limit ")
        expr(limit)
      }
      if keepGoing != nil { write(" keep going") }
      write(" ")
      block(body)
    }
  }

  private mutating func keyword(_ k: String, _ e: Expr) {
    write(k + " ")
    expr(e)
  }

  /// ` with cycles N via wallet W` after a canister call, when it carries cycles.
  private mutating func callCycles(_ cycles: CallCycles?) {
    guard let cycles else { return }
    write(" with cycles ")
    expr(cycles.amount)
    write(" via wallet ")
    expr(cycles.wallet)
  }

  private mutating func action(_ a: Action) {
    write(a.name.name)
    if a.isCallForm {
      arguments(a.arguments, open: a.range.start)
      return
    }
    for argument in a.arguments {
      write(" ")
      if argument.isFlag, let label = argument.label {
        write(label.name)
        continue
      }
      if let label = argument.label { write(label.name + " ") }
      expr(argument.value)
    }
  }

  private func typeText(_ t: TypeExpr) -> String {
    switch t.kind {
    case .named(let n): n
    case .list(let e): "[\(typeText(e))]"
    case .optional(let e): "\(typeText(e))?"
    case .record(let fields): "{" + fields.map { "\($0.name.name): \(typeText($0.type))" }.joined(separator: ", ") + "}"
    }
  }

  // MARK: - Expressions

  private mutating func expr(_ e: Expr) {
    switch e.kind {
    case .integer, .amount, .string, .bool, .none, .hash, .principal, .invalid:
      write(file.text(e.range))
    case .name(let n): write(n)
    case .paren(let x):
      write("(")
      expr(x)
      write(")")
    case .reply(let x, let cycles):
      write("call ")
      expr(x)
      callCycles(cycles)
    case .variant(let tag, let payload):
      write("." + tag.name)
      if let payload {
        write("(")
        expr(payload)
        write(")")
      }
    case .unary(.negate, let x):
      write("-")
      expr(x)
    case .unary(.not, let x):
      write("not ")
      expr(x)
    case .binary(let op, let l, let r):
      expr(l)
      write(" \(op.rawValue) ")
      expr(r)
    case .member(let x, let name):
      expr(x)
      write(".\(name.name)")
    case .index(let x, let i):
      expr(x)
      write("[")
      expr(i)
      write("]")
    case .call(let callee, let args):
      expr(callee)
      arguments(args, open: callee.range.end)
    case .list(let items):
      sequence(
        items.map { item in { (f: inout Formatter) in f.expr(item) } }, starts: items.map(\.range.start),
        range: e.range, open: "[", close: "]")
    case .record(let fields):
      sequence(
        fields.map { field in
          { (f: inout Formatter) in
            f.write("\(field.name.name): ")
            f.expr(field.value)
          }
        }, starts: fields.map(\.name.range.start), range: e.range, open: "{", close: "}")
    }
  }

  private mutating func arguments(_ args: [Argument], open: Int) {
    guard let first = args.first else {
      write("()")
      return
    }
    // The argument list spans from its `(` to its `)`.
    var parenStart = open
    while parenStart < file.bytes.count, file.bytes[parenStart] != UInt8(ascii: "(") { parenStart += 1 }
    var end = args.last?.value.range.end ?? parenStart
    while end < file.bytes.count, file.bytes[end] != UInt8(ascii: ")") { end += 1 }
    let range = SourceRange(file: file.id, start: parenStart, end: end + 1)
    sequence(
      args.map { argument in
        { (f: inout Formatter) in
          if let label = argument.label { f.write("\(label.name): ") }
          f.expr(argument.value)
        }
      }, starts: args.map { $0.label?.range.start ?? $0.value.range.start }, range: range, open: "(", close: ")",
      firstStart: first.label?.range.start ?? first.value.range.start)
  }

  /// Items between brackets: on one line, or one per line when the author broke the line after
  /// the opening bracket or commented inside.
  private mutating func sequence(
    _ items: [(inout Formatter) -> Void], starts: [Int], range: SourceRange, open: String, close: String,
    firstStart: Int? = nil
  ) {
    let hasComments = hasComment(inside: range, from: nextComment)
    let breaksAfterOpen = starts.first.map { newlines(from: range.start, to: $0) > 0 } ?? false
    guard !items.isEmpty, hasComments || breaksAfterOpen else {
      write(open)
      for (i, item) in items.enumerated() {
        if i > 0 { write(", ") }
        item(&self)
      }
      write(close)
      return
    }
    write(open)
    newline()
    indent += 1
    let saved = previousEnd
    previousEnd = nil
    for (i, (item, start)) in zip(items, starts).enumerated() {
      flushComments(before: start)
      emitBlankLineIfNeeded(before: start)
      item(&self)
      write(",")
      let next = i + 1 < starts.count ? starts[i + 1] : range.end - 1
      flushTrailingComments(before: next)
      if !current.isEmpty { newline() }
      previousEnd = i + 1 < starts.count ? lastTokenEnd(before: next) : nil
    }
    flushComments(before: range.end - 1)
    if !current.isEmpty { newline() }
    indent -= 1
    write(close)
    previousEnd = saved
  }
}
