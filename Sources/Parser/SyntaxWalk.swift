import RbicDiagnostics

/// Walks a tree: every statement (nested blocks included) and every expression, with the chain of
/// statements enclosing it. The language server finds what is under the cursor with it.
package enum SyntaxWalk {
  /// The blocks directly inside a statement.
  package static func blocks(of s: Stmt) -> [Block] {
    switch s.kind {
    case .function(let f): [f.body]
    case .step(_, _, let body), .onFailure(let body): [body]
    case .for(_, _, let body, _, _): [body]
    case .if(_, let then, let otherwise):
      switch otherwise {
      case .block(let b)?: [then, b]
      case .elseIf(let s)?: [then, Block(statements: [s], range: s.range)]
      case nil: [then]
      }
    default: []
    }
  }

  /// The expressions written directly in a statement (not in its nested blocks).
  package static func expressions(of s: Stmt) -> [Expr] {
    switch s.kind {
    case .useIdentity(let e), .confirm(let e), .skip(let e), .fail(let e), .print(let e), .expression(let e):
      [e]
    case .call(let e, let cycles): [e] + (cycles.map { [$0.amount, $0.wallet] } ?? [])
    case .param(_, _, let d): d.map { [$0] } ?? []
    case .let(_, _, let v): [v]
    case .step(let title, let subject, _): [title] + (subject.map { [$0] } ?? [])
    case .ensure(let c, let actions): [c] + actions.flatMap { $0.arguments.map(\.value) }
    case .require(let e, let m), .expect(let e, let m): [e] + (m.map { [$0] } ?? [])
    case .if(let c, _, _): [c]
    case .for(_, let seq, _, let limit, _): [seq] + (limit.map { [$0] } ?? [])
    case .wait(let c, let t): [c, t]
    case .return(let e): e.map { [$0] } ?? []
    case .useNetwork, .function, .import, .importInterface, .onFailure: []
    }
  }

  package static func children(of e: Expr) -> [Expr] {
    switch e.kind {
    case .string(let parts): parts.compactMap { if case .expr(let x) = $0 { x } else { nil } }
    case .list(let items): items
    case .record(let fields): fields.map(\.value)
    case .unary(_, let x), .paren(let x), .member(let x, _): [x]
    case .reply(let x, let cycles): [x] + (cycles.map { [$0.amount, $0.wallet] } ?? [])
    case .binary(_, let a, let b), .index(let a, let b): [a, b]
    case .call(let callee, let args): [callee] + args.map(\.value)
    case .variant(_, let payload): payload.map { [$0] } ?? []
    case .integer, .amount, .bool, .none, .hash, .principal, .invalid, .name: []
    }
  }

  /// Every statement, outermost first (nested blocks included).
  package static func statements(_ list: [Stmt], _ visit: (Stmt) -> Void) {
    for s in list {
      visit(s)
      for b in blocks(of: s) { statements(b.statements, visit) }
    }
  }

  /// The innermost expression whose range holds `offset` (an end boundary counts, so a cursor
  /// right after a name is on it). Only statements that hold the offset are descended into.
  package static func expression(at offset: Int, in list: [Stmt]) -> Expr? {
    var best: Expr?
    func consider(_ e: Expr) {
      guard e.range.start <= offset, offset <= e.range.end else { return }
      if let b = best, b.range.end - b.range.start < e.range.end - e.range.start {} else { best = e }
      for c in children(of: e) { consider(c) }
    }
    for s in list where s.range.start <= offset && offset <= s.range.end {
      for e in expressions(of: s) { consider(e) }
      for b in blocks(of: s) { if let inner = expression(at: offset, in: b.statements) { consider(inner) } }
    }
    return best
  }

  /// The innermost statement holding `offset`.
  package static func statement(at offset: Int, in list: [Stmt]) -> Stmt? {
    for s in list where s.range.start <= offset && offset <= s.range.end {
      for b in blocks(of: s) { if let inner = statement(at: offset, in: b.statements) { return inner } }
      return s
    }
    return nil
  }
}

extension SyntaxTree {
  /// A string literal's text as a reader sees it: plain strings decoded, interpolated ones as
  /// written without their quotes (`Top up {c}`); other expressions as source text.
  package static func plainText(_ e: Expr, in tree: SyntaxTree) -> String {
    guard case .string(let parts) = e.kind else { return tree.file.text(e.range) }
    if parts.allSatisfy({ if case .text = $0 { true } else { false } }) {
      return parts.map { if case .text(let t) = $0 { t } else { "" } }.joined()
    }
    return String(tree.file.text(e.range).dropFirst().dropLast())
  }
}
