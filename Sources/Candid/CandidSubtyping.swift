/// The Candid spec's subtyping, `t <: t'` ("a value of `t` may be read as `t'`"), across two
/// environments (the interface a canister publishes and the one a runbook imports):
/// `nat <: int`; `empty` below and `reserved` above everything; anything `<: opt t'` (what does not
/// fit reads as `null`); `vec` covariant; a record may have more fields, and may lack those of
/// `opt`, `null` or `reserved` type; a variant may have fewer tags; functions are contravariant in
/// their arguments and covariant in their results, with the same annotations; a service may have
/// more methods. Recursive types are compared coinductively.
package final class CandidSubtyping {
  let left: CandidEnvironment
  let right: CandidEnvironment
  /// The pairs assumed to hold while one question is being answered (coinduction on recursive
  /// types), shared with the checker that asks the reverse question for function arguments: a
  /// pair records which way it was asked. Every rule is a conjunction, so an assumption inside a
  /// failing branch only feeds a `false` answer; the set starts empty for each question. Shared,
  /// not copied per function, so a service of N methods is compared in O(N), not O(N²).
  private let assumptions: Assumptions
  /// Whether this checker asks the reverse question (its `left` is the outer checker's `right`).
  private let reversed: Bool
  /// The checker for the reverse question, made once.
  private lazy var flipped = CandidSubtyping(right, left, assumptions, reversed: !reversed)

  final class Assumptions {
    var pairs: Set<Pair> = []
    var depth = 0
  }

  struct Pair: Hashable {
    var left: CandidType
    var right: CandidType
    var reversed: Bool
  }

  package convenience init(_ left: CandidEnvironment, _ right: CandidEnvironment) {
    self.init(left, right, Assumptions(), reversed: false)
  }

  private init(_ left: CandidEnvironment, _ right: CandidEnvironment, _ assumptions: Assumptions, reversed: Bool) {
    self.left = left
    self.right = right
    self.assumptions = assumptions
    self.reversed = reversed
  }

  /// `a` (in the left environment) `<:` `b` (in the right one).
  package func isSubtype(_ a: CandidType, _ b: CandidType) -> Bool {
    if assumptions.depth == 0 { assumptions.pairs = [] }
    assumptions.depth += 1
    defer { assumptions.depth -= 1 }
    let pair = Pair(left: a, right: b, reversed: reversed)
    if assumptions.pairs.contains(pair) { return true }
    guard let ra = try? left.resolve(a), let rb = try? right.resolve(b) else { return false }
    assumptions.pairs.insert(pair)
    switch (ra, rb) {
    case (_, .reserved), (.empty, _), (.nat, .int): return true
    case (_, .opt): return true  // the opt rule: a misfit reads as `null`
    case (.vec(let x), .vec(let y)): return isSubtype(x, y)
    case (.record(let fa), .record(let fb)):
      let byHash = Dictionary(fa.map { ($0.label.hash, $0.type) }, uniquingKeysWith: { first, _ in first })
      for f in fb {
        if let g = byHash[f.label.hash] {
          guard isSubtype(g, f.type) else { return false }
        } else if !right.mayBeAbsent(f.type) {
          return false
        }
      }
      return true
    case (.variant(let fa), .variant(let fb)):
      let byHash = Dictionary(fb.map { ($0.label.hash, $0.type) }, uniquingKeysWith: { first, _ in first })
      for f in fa {
        guard let g = byHash[f.label.hash], isSubtype(f.type, g) else { return false }
      }
      return true
    case (.function(let f), .function(let g)): return isSubtype(f, g)
    case (.service(let ma), .service(let mb)):
      let byName = Dictionary(ma.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
      for m in mb {
        guard let n = byName[m.name], isSubtype(n, m.type) else { return false }
      }
      return true
    default:
      // Primitives: the same type. (Composites of different kinds never are: `ra`, `rb` are resolved.)
      return ra == rb && CandidType.primitives.values.contains(ra)
    }
  }

  /// A method `f` (left) usable as `g` (right): arguments contravariant, results covariant.
  package func isSubtype(_ f: CandidFunction, _ g: CandidFunction) -> Bool {
    if assumptions.depth == 0 { assumptions.pairs = [] }
    assumptions.depth += 1
    defer { assumptions.depth -= 1 }
    guard Set(f.modes) == Set(g.modes) else { return false }
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

extension CandidEnvironment {
  /// What an upgrade from `old` to this interface breaks: each method of `old` this
  /// one lacks, or serves with a type its clients cannot use (`self`'s method must be a subtype
  /// of `old`'s), named with both types. Empty when every client keeps working.
  package func brokenMethods(from old: CandidEnvironment) -> [String] {
    let subtyping = CandidSubtyping(self, old)
    var broken: [String] = []
    for (name, was) in old.methods {
      guard let now = method(name) else {
        broken.append("`\(name)` is gone (it was `\(was)`)")
        continue
      }
      if !subtyping.isSubtype(now, was) { broken.append("`\(name)` changes from `\(was)` to `\(now)`") }
    }
    return broken
  }
}
