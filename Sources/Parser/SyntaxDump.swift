import RbicLexer

/// A position-free S-expression rendering of a tree: two trees dump equal exactly when they mean
/// the same program. The formatter's round-trip property compares these.
package enum SyntaxDump {
  package static func dump(_ tree: SyntaxTree) -> String {
    var out = ""
    if let h = tree.header { out += "(runbook \(quoted(h.name)) \(h.version))\n" }
    for s in tree.statements { out += stmt(s, indent: "") }
    return out
  }

  static func quoted(_ s: String) -> String {
    "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\\\"") + "\""
  }

  static func block(_ b: Block, indent: String) -> String {
    b.statements.map { stmt($0, indent: indent + "  ") }.joined()
  }

  package static func stmt(_ s: Stmt, indent: String) -> String {
    let doc = s.doc.isEmpty ? "" : " (doc \(s.doc.map(quoted).joined(separator: " ")))"
    let head: String
    var body = ""
    switch s.kind {
    case .useNetwork(let n): head = "use-network \(n.name)"
    case .useIdentity(let e): head = "use-identity \(expr(e))"
    case .param(let n, let t, let d): head = "param \(n.name) \(type(t))\(d.map { " " + expr($0) } ?? "")"
    case .let(let n, let t, let v): head = "let \(n.name)\(t.map { " " + type($0) } ?? "") \(expr(v))"
    case .function(let f):
      head =
        "fn \(f.name.name) (\(f.parameters.map { "\($0.name.name) \(type($0.type))" }.joined(separator: " ")))"
        + (f.returnType.map { " -> " + type($0) } ?? "")
      body = block(f.body, indent: indent)
    case .import(let p, _): head = "import \(quoted(p))"
    case .importInterface(let p, _, let n): head = "import-interface \(quoted(p)) \(n.name)"
    case .step(let title, let subject, let b):
      head = "step \(expr(title))\(subject.map { " on " + expr($0) } ?? "")"
      body = block(b, indent: indent)
    case .ensure(let c, let actions):
      head =
        "ensure \(expr(c)) via "
        + actions.map { a in
          "(\(a.name.name)\(a.isCallForm ? "()" : "") \(a.arguments.map(argument).joined(separator: " ")))"
        }.joined(separator: " or ")
    case .require(let c, let m): head = "require \(expr(c))\(m.map { " else " + expr($0) } ?? "")"
    case .expect(let c, let m): head = "expect \(expr(c))\(m.map { " else " + expr($0) } ?? "")"
    case .confirm(let e): head = "confirm \(expr(e))"
    case .skip(let e): head = "skip \(expr(e))"
    case .fail(let e): head = "fail \(expr(e))"
    case .print(let e): head = "print \(expr(e))"
    case .call(let e, let cycles): head = "call \(expr(e))\(callCycles(cycles))"
    case .onFailure(let b):
      head = "on-failure"
      body = block(b, indent: indent)
    case .wait(let c, let t): head = "wait-until \(expr(c)) timeout \(expr(t))"
    case .return(let e): head = "return\(e.map { " " + expr($0) } ?? "")"
    case .expression(let e): head = "expr \(expr(e))"
    case .if(let c, let t, let e):
      head = "if \(expr(c))"
      body = block(t, indent: indent)
      switch e {
      case .none: break
      case .block(let b): body += "\(indent)  else\n" + block(b, indent: indent)
      case .elseIf(let s): body += "\(indent)  else\n" + stmt(s, indent: indent + "  ")
      }
    case .for(let v, let seq, let b, let limit, let keepGoing):
      head =
        "\(limit == nil ? "for" : "parallel-for") \(v.name) \(expr(seq))\(limit.map { " limit " + expr($0) } ?? "")"
        + (keepGoing == nil ? "" : " keep-going")
      body = block(b, indent: indent)
    }
    return "\(indent)(\(head)\(doc)\(body.isEmpty ? ")\n" : "\n" + body + indent + ")\n")"
  }

  static func argument(_ a: Argument) -> String { (a.label.map { $0.name + ": " } ?? "") + expr(a.value) }

  static func type(_ t: TypeExpr) -> String {
    switch t.kind {
    case .named(let n): n
    case .list(let e): "[\(type(e))]"
    case .optional(let e): "\(type(e))?"
    case .record(let fields): "{\(fields.map { "\($0.name.name): \(type($0.type))" }.joined(separator: ", "))}"
    }
  }

  package static func expr(_ e: Expr) -> String {
    switch e.kind {
    case .integer(let v): "\(v)"
    case .amount(let u, let v): "\(v)\(u.rawValue)"
    case .string(let parts):
      "(str "
        + parts.map { p in
          switch p {
          case .text(let t): quoted(t)
          case .expr(let e): expr(e)
          }
        }.joined(separator: " ") + ")"
    case .bool(let b): "\(b)"
    case .none: "none"
    case .hash(let bytes): "0x" + bytes.map { String($0, radix: 16) }.joined()
    case .principal(let bytes): "principal:" + PrincipalText.encode(bytes)
    case .invalid: "<invalid>"
    case .name(let n): n
    case .list(let items): "[" + items.map(expr).joined(separator: " ") + "]"
    case .record(let fields): "{" + fields.map { "\($0.name.name): \(expr($0.value))" }.joined(separator: " ") + "}"
    case .unary(let op, let x): "(\(op.rawValue) \(expr(x)))"
    case .binary(let op, let l, let r): "(\(op.rawValue) \(expr(l)) \(expr(r)))"
    case .member(let x, let n): "(. \(expr(x)) \(n.name))"
    case .call(let f, let args): "(call \(expr(f))\(args.map { " " + argument($0) }.joined()))"
    case .index(let x, let i): "(index \(expr(x)) \(expr(i)))"
    case .paren(let x): "(paren \(expr(x)))"
    case .reply(let x, let c): "(reply \(expr(x))\(callCycles(c)))"
    case .variant(let tag, let payload): payload.map { "(variant \(tag.name) \(expr($0)))" } ?? "(variant \(tag.name))"
    }
  }

  /// ` with-cycles N via-wallet W`, or nothing.
  static func callCycles(_ c: CallCycles?) -> String {
    c.map { " with-cycles \(expr($0.amount)) via-wallet \(expr($0.wallet))" } ?? ""
  }
}
