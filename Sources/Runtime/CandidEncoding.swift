import RbicCandid

/// rbic values encoded as Candid values of a method's exact types: `5` as `5 : nat8` when the
/// method takes a `nat8`, `1T` as `1_000_000_000_000 : nat64`, a record's fields in the
/// interface's order with absent optional fields as `null`. A value that does not fit (a
/// negative `nat`, a `nat8` over 255) is an error quoting it, never a wrap or a guess.
package enum CandidEncoding {
  package struct Misfit: Error {
    package var message: String
  }

  /// The integers a Candid number type holds, as far as rbic's `Int128` reaches.
  package static func range(of type: CandidType) -> ClosedRange<Int128>? {
    switch type {
    case .nat: 0...Int128.max
    case .int: Int128.min...Int128.max
    case .nat8: 0...Int128(UInt8.max)
    case .nat16: 0...Int128(UInt16.max)
    case .nat32: 0...Int128(UInt32.max)
    case .nat64: 0...Int128(UInt64.max)
    case .int8: Int128(Int8.min)...Int128(Int8.max)
    case .int16: Int128(Int16.min)...Int128(Int16.max)
    case .int32: Int128(Int32.min)...Int128(Int32.max)
    case .int64: Int128(Int64.min)...Int128(Int64.max)
    default: nil
    }
  }

  package static func encode(_ values: [Value], as types: [CandidType], in env: CandidEnvironment) throws(Misfit)
    -> [CandidValue]
  {
    var out: [CandidValue] = []
    for (v, t) in zip(values, types) { out.append(try encode(v, as: t, in: env)) }
    return out
  }

  package static func encode(_ value: Value, as type: CandidType, in env: CandidEnvironment) throws(Misfit)
    -> CandidValue
  {
    guard let resolved = try? env.resolve(type) else { throw Misfit(message: "the type `\(type)` is not defined") }
    func misfit() -> Misfit {
      Misfit(message: "`\(ValueFormat.display(value))` does not fit the method's `\(type)`")
    }
    switch (value, resolved) {
    case (_, .reserved): return .null
    case (.none, .null), (.none, .opt): return .null
    case (_, .opt(let inner)): return .opt(try encode(value, as: inner, in: env))
    case (.bool(let b), .bool): return .bool(b)
    case (.text(let s), .text), (.path(let s), .text): return .text(s)
    case (.secret(let s), .text): return .text(s.reveal)
    case (.principal(let p), .principal): return .principal(p.text)
    case (.hash(let bytes), .vec(.nat8)): return .blob(bytes)
    case (.list(let items), .vec(let element)):
      var encoded: [CandidValue] = []
      for item in items { encoded.append(try encode(item, as: element, in: env)) }
      return .vec(encoded)
    case (.record(let keys, let values), .record(let fields)):
      var encoded: [CandidValueField] = []
      for f in fields {
        if let i = keys.firstIndex(where: { CandidLabel.idlHash($0) == f.label.hash }) {
          encoded.append(CandidValueField(f.label, try encode(values[i], as: f.type, in: env)))
        } else {
          encoded.append(CandidValueField(f.label, try encode(.none, as: f.type, in: env)))
        }
      }
      return .record(encoded)
    default:
      let number: Int128? =
        switch value {
        case .int(let i): Int128(i)
        case .cycles(let c): c
        case .icp(let e): Int128(e)
        case .duration(let d): Int128(d)
        case .bytes(let b): Int128(b)
        default: nil
        }
      guard let number, let range = range(of: resolved) else { throw misfit() }
      guard range.contains(number) else {
        throw Misfit(message: "\(number) does not fit the method's `\(type)` (\(range.lowerBound) to \(range.upperBound))")
      }
      return .integer(number, resolved)
    }
  }
}
