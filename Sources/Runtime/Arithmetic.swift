import RbicCheck
import RbicDiagnostics
import RbicParser

/// Checked arithmetic and comparison on values; nil means overflow or division by zero.
package enum Arithmetic {
  /// Whether `a` sorts before `b`; nil when they do not compare.
  package static func isOrdered(_ a: Value, before b: Value) -> Bool? { compare(a, b).map { $0 < 0 } }

  package static func apply(_ op: BinaryOp, _ a: Value, _ b: Value) -> Value? {
    switch op {
    case .equal: return .bool(equal(a, b))
    case .notEqual: return .bool(!equal(a, b))
    case .less, .lessEqual, .greater, .greaterEqual:
      guard let c = compare(a, b) else { return nil }
      switch op {
      case .less: return .bool(c < 0)
      case .lessEqual: return .bool(c <= 0)
      case .greater: return .bool(c > 0)
      default: return .bool(c >= 0)
      }
    case .contains: return .bool(contains(a, b))
    case .add:
      switch (a, b) {
      case (.text(let x), .text(let y)): return .text(x + y)
      case (.secret(let x), .text(let y)): return .secret(Secret(x.reveal + y))
      case (.text(let x), .secret(let y)): return .secret(Secret(x + y.reveal))
      case (.secret(let x), .secret(let y)): return .secret(Secret(x.reveal + y.reveal))
      case (.list(let x), .list(let y)): return .list(x + y)
      default: return numeric(op, a, b)
      }
    default: return numeric(op, a, b)
    }
  }

  package static func isZero(_ v: Value) -> Bool {
    switch v {
    case .int(0), .cycles(0), .icp(0), .duration(0), .bytes(0): true
    default: false
    }
  }

  static func equal(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.principal(let x), .principal(let y)): return x == y
    case (.text(let x), .path(let y)), (.path(let x), .text(let y)): return x == y
    case (.secret(let x), .text(let y)), (.text(let y), .secret(let x)): return x.reveal == y
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy(equal)
    // A hash is a blob: a reply's `blob` compares with a module hash.
    case (.hash(let x), .blob(let y)), (.blob(let x), .hash(let y)): return x == y
    case (.variant(let s, let x), .variant(let t, let y)): return s == t && equal(x, y)
    case (.record(let k, let x), .record(let l, let y)): return k == l && zip(x, y).allSatisfy(equal)
    default: return a == b
    }
  }

  static func compare(_ a: Value, _ b: Value) -> Int? {
    func c<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x == y ? 0 : 1) }
    switch (a, b) {
    case (.int(let x), .int(let y)): return c(x, y)
    case (.cycles(let x), .cycles(let y)): return c(x, y)
    case (.icp(let x), .icp(let y)): return c(x, y)
    case (.duration(let x), .duration(let y)): return c(x, y)
    case (.bytes(let x), .bytes(let y)): return c(x, y)
    case (.text(let x), .text(let y)): return c(x, y)
    default: return nil
    }
  }

  static func contains(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.text(let x), .text(let y)): return x.contains(y)
    case (.secret(let x), .text(let y)): return x.reveal.contains(y)
    case (.list(let items), .list(let wanted)): return wanted.allSatisfy { w in items.contains { equal($0, w) } }
    case (.list(let items), _): return items.contains { equal($0, b) }
    default: return false
    }
  }

  /// `x op y` with overflow and division by zero as nil, for any width.
  static func checked<T: FixedWidthInteger>(_ op: BinaryOp, _ x: T, _ y: T) -> T? {
    let r: (partialValue: T, overflow: Bool)
    switch op {
    case .add: r = x.addingReportingOverflow(y)
    case .subtract: r = x.subtractingReportingOverflow(y)
    case .multiply: r = x.multipliedReportingOverflow(by: y)
    case .divide: if y == 0 { return nil }; r = x.dividedReportingOverflow(by: y)
    case .remainder: if y == 0 { return nil }; r = x.remainderReportingOverflow(dividingBy: y)
    default: return nil
    }
    return r.overflow ? nil : r.partialValue
  }

  static func numeric(_ op: BinaryOp, _ a: Value, _ b: Value) -> Value? {
    func i64(_ x: Int64, _ y: Int64) -> Int64? { checked(op, x, y) }
    func i128(_ x: Int128, _ y: Int128) -> Int128? { checked(op, x, y) }
    switch (a, b) {
    case (.int(let x), .int(let y)): return i64(x, y).map(Value.int)
    case (.cycles(let x), .cycles(let y)):
      if op == .divide { return i128(x, y).flatMap { Int64(exactly: $0) }.map(Value.int) }
      return i128(x, y).map(Value.cycles)
    case (.cycles(let x), .int(let y)): return i128(x, Int128(y)).map(Value.cycles)
    case (.int(let x), .cycles(let y)): return i128(Int128(x), y).map(Value.cycles)
    case (.icp(let x), .icp(let y)): return op == .divide ? i64(x, y).map(Value.int) : i64(x, y).map(Value.icp)
    case (.icp(let x), .int(let y)): return i64(x, y).map(Value.icp)
    case (.int(let x), .icp(let y)): return i64(x, y).map(Value.icp)
    case (.duration(let x), .duration(let y)):
      return op == .divide ? i64(x, y).map(Value.int) : i64(x, y).map(Value.duration)
    case (.duration(let x), .int(let y)): return i64(x, y).map(Value.duration)
    case (.int(let x), .duration(let y)): return i64(x, y).map(Value.duration)
    case (.bytes(let x), .bytes(let y)): return op == .divide ? i64(x, y).map(Value.int) : i64(x, y).map(Value.bytes)
    case (.bytes(let x), .int(let y)): return i64(x, y).map(Value.bytes)
    case (.int(let x), .bytes(let y)): return i64(x, y).map(Value.bytes)
    default: return nil
    }
  }
}
