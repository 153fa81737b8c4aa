import RbicDiagnostics

/// Walks a tree: every statement (nested blocks included) and every expression, with the chain of
/// statements enclosing it. The language server finds what is under the cursor with it.
package enum SyntaxWalk {
  /// The blocks directly inside a statement.
  package static func blocks(of s: Stmt) -> [Block] {
    switch s.kind {
    case .function(let f): [f.body]
    case .step(_, _, let body), .onFailure(let body): [body]
    case .for(_, _, let body, _): [body]
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
    case .useIdentity(let e), .confirm(let e), .skip(let e), .fail(let e), .call(let e), .print(let e),
      .expression(let e):
      [e]
    case .param(_, _, let d): d.map { [$0] } ?? []
    case .let(_, _, let v): [v]
    case .step(let title, let subject, _): [title] + (subject.map { [$0] } ?? [])
    case .ensure(let c, let actions): [c] + actions.flatMap { $0.arguments.map(\.value) }
    case .require(let e, let m), .expect(let e, let m): [e] + (m.map { [$0] } ?? [])
    case .if(let c, _, _): [c]
    case .for(_, let seq, _, let limit): [seq] + (limit.map { [$0] } ?? [])
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
    case .unary(_, let x), .paren(let x), .reply(let x), .member(let x, _): [x]
    case .binary(_, let a, let b), .index(let a, let b): [a, b]
    case .call(let callee, let args): [callee] + args.map(\.value)
    case .integer, .amount, .bool, .none, .hash, .principal, .invalid, .name: []
    }
  }

  /// Every statement, outermost first, with the statements enclosing it.
  package static func statements(_ list: [Stmt], enclosing: [Stmt] = [], _ visit: (Stmt, [Stmt]) -> Void) {
    for s in list {
      visit(s, enclosing)
      for b in blocks(of: s) { statements(b.statements, enclosing: enclosing + [s], visit) }
    }
  }

  /// The innermost expression whose range holds `offset` (an end boundary counts, so a cursor
  /// right after a name is on it), with the statements enclosing it.
  package static func expression(at offset: Int, in list: [Stmt]) -> (Expr, [Stmt])? {
    var best: (Expr, [Stmt])?
    func consider(_ e: Expr, _ chain: [Stmt]) {
      guard e.range.start <= offset, offset <= e.range.end else { return }
      let width = e.range.end - e.range.start
      if let (b, _) = best, b.range.end - b.range.start < width {} else { best = (e, chain) }
      for c in children(of: e) { consider(c, chain) }
    }
    statements(list) { s, enclosing in
      guard s.range.start <= offset, offset <= s.range.end else { return }
      for e in expressions(of: s) { consider(e, enclosing + [s]) }
    }
    return best
  }

  /// The innermost statement holding `offset`, with its enclosing chain.
  package static func statement(at offset: Int, in list: [Stmt]) -> (Stmt, [Stmt])? {
    var best: (Stmt, [Stmt])?
    statements(list) { s, enclosing in
      if s.range.start <= offset, offset <= s.range.end { best = (s, enclosing) }
    }
    return best
  }
}
