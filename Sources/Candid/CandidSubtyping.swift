/// The Candid spec's subtyping, `t <: t'` ("a value of `t` may be read as `t'`"), across two
/// environments (the interface a canister publishes and the one a runbook imports):
/// `nat <: int`; `empty` below and `reserved` above everything; anything `<: opt t'` (what does not
/// fit reads as `null`); `vec` covariant; a record may have more fields, and may lack those of
/// `opt`, `null` or `reserved` type; a variant may have fewer tags; functions are contravariant in
/// their arguments and covariant in their results, with the same annotations; a service may have
/// more methods. Recursive types are compared coinductively.
public final class CandidSubtyping {
  let left: CandidEnvironment
  let right: CandidEnvironment
  /// Pairs assumed to hold while one question is being answered (coinduction on recursive
  /// types). Every rule is a conjunction, so an assumption inside a failing branch only feeds a
  /// `false` answer; the set starts empty for each question.
  private var assumed: Set<Pair> = []
  private var depth = 0

  struct Pair: Hashable {
    var left: CandidType
    var right: CandidType
  }

  public init(_ left: CandidEnvironment, _ right: CandidEnvironment) {
    self.left = left
    self.right = right
  }

  /// `a` (in the left environment) `<:` `b` (in the right one).
  public func isSubtype(_ a: CandidType, _ b: CandidType) -> Bool {
    if depth == 0 { assumed = [] }
    depth += 1
    defer { depth -= 1 }
    let pair = Pair(left: a, right: b)
    if assumed.contains(pair) { return true }
    guard let ra = try? left.resolve(a), let rb = try? right.resolve(b) else { return false }
    assumed.insert(pair)
    switch (ra, rb) {
    case (_, .reserved), (.empty, _), (.nat, .int): return true
    case (_, .opt): return true  // the opt rule: a misfit reads as `null`
    case (.vec(let x), .vec(let y)): return isSubtype(x, y)
    case (.record(let fa), .record(let fb)):
      for f in fb {
        if let g = fa.first(where: { $0.label.hash == f.label.hash }) {
          guard isSubtype(g.type, f.type) else { return false }
        } else if !right.mayBeAbsent(f.type) {
          return false
        }
      }
      return true
    case (.variant(let fa), .variant(let fb)):
      for f in fa {
        guard let g = fb.first(where: { $0.label.hash == f.label.hash }), isSubtype(f.type, g.type) else {
          return false
        }
      }
      return true
    case (.function(let f), .function(let g)): return isSubtype(f, g)
    case (.service(let ma), .service(let mb)):
      for m in mb {
        guard let n = ma.first(where: { $0.name == m.name }), isSubtype(n.type, m.type) else { return false }
      }
      return true
    default:
      // Primitives: the same type. (Composites of different kinds never are: `ra`, `rb` are resolved.)
      return ra == rb && CandidType.primitives.values.contains(ra)
    }
  }

  /// A method `f` (left) usable as `g` (right): arguments contravariant, results covariant.
  public func isSubtype(_ f: CandidFunction, _ g: CandidFunction) -> Bool {
    guard Set(f.modes) == Set(g.modes) else { return false }
    let flipped = CandidSubtyping(right, left)
    flipped.assumed = Set(assumed.map { Pair(left: $0.right, right: $0.left) })
    flipped.depth = depth  // one question: it keeps what this one assumed
    // What the runbook sends (g's arguments) must be readable as f's; missing trailing arguments
    // must be optional on the receiving side.
    for (i, a) in f.arguments.enumerated() {
      if i < g.arguments.count {
        guard flipped.isSubtype(g.arguments[i], a) else { return false }
      } else if !left.mayBeAbsent(a) {
        return false
      }
    }
    for (i, r) in g.results.enumerated() {
      guard i < f.results.count else {
        if right.mayBeAbsent(r) { continue }
        return false
      }
      guard isSubtype(f.results[i], r) else { return false }
    }
    return true
  }
}
