import RbicCandid
import RbicDiagnostics

/// rbic values encoded as Candid values of a method's exact types: `5` as `5 : nat8` when the
/// method takes a `nat8`, `1T` as `1_000_000_000_000 : nat64`, a record's fields in the
/// interface's order with absent optional fields as `null`. A value that does not fit (a
/// negative `nat`, a `nat8` over 255) is an error quoting it, never a wrap or a guess.
package enum CandidEncoding {
  /// The IC's limit on an ingress message (2 MiB): an argument larger than this cannot be sent.
  package static let messageLimit = 2 * 1024 * 1024

  package struct Misfit: Error {
    package var message: String
    package init(message: String) { self.message = message }
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
    case (.hash(let bytes), .vec(.nat8)), (.blob(let bytes), .vec(.nat8)): return .blob(bytes)
    case (.variant(let tag, let payload), .variant(let tags)):
      guard let t = tags.first(where: { $0.label.hash == CandidLabel.idlHash(tag) }) else {
        throw Misfit(message: "the variant `\(type)` has no tag `\(tag)`")
      }
      let inner: CandidValue =
        payload == .void ? try encode(.none, as: t.type, in: env) : try encode(payload, as: t.type, in: env)
      return .variant(CandidValueField(t.label, inner))
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
        throw Misfit(
          message: "\(number) does not fit the method's `\(type)` (\(range.lowerBound) to \(range.upperBound))")
      }
      return .integer(number, resolved)
    }
  }
}

/// Replies as rbic values: what a method's result types become in a runbook, and the
/// decoding of a reply against them. Numbers become `int`, `opt T` an optional, `vec T` a list,
/// a record a record (numbered fields as `_0`, `_1`, …), a variant a record with one optional
/// field per tag (the one that came back is set; a tag without a value is `true`), a blob a
/// `blob` (shown as `0x…`, equal to a hash of the same bytes); what rbic has no type for (floats, functions, services, `null`) its
/// Candid text.
package enum CandidReply {
  static let maxDepth = 16

  package static func type(of results: [CandidType], in env: CandidEnvironment) -> RType {
    switch results.count {
    case 0: return .void
    case 1: return type(results[0], in: env, depth: 0)
    default:
      return .record(results.enumerated().map { RType.Field("_\($0.offset)", type($0.element, in: env, depth: 0)) })
    }
  }

  static func fieldName(_ label: CandidLabel) -> String {
    switch label {
    case .named(let n): n
    case .id(let n), .unnamed(let n): "_\(n)"
    }
  }

  static func type(_ c: CandidType, in env: CandidEnvironment, depth: Int) -> RType {
    guard depth < maxDepth, let c = try? env.resolve(c) else { return .text }
    switch c {
    case .bool: return .bool
    case .text: return .text
    case .nat, .int, .nat8, .nat16, .nat32, .nat64, .int8, .int16, .int32, .int64: return .int
    case .principal: return .principal
    case .vec(.nat8): return .blob
    case .opt(let inner):
      let t = type(inner, in: env, depth: depth + 1)
      return t.isOptional ? t : .optional(t)
    case .vec(let e): return .list(type(e, in: env, depth: depth + 1))
    case .record(let fields):
      return .record(fields.map { RType.Field(fieldName($0.label), type($0.type, in: env, depth: depth + 1)) })
    case .variant(let tags):
      return .record(
        tags.map { tag in
          let payload = (try? env.resolve(tag.type)) == .null ? RType.bool : type(tag.type, in: env, depth: depth + 1)
          return RType.Field(fieldName(tag.label), payload.isOptional ? payload : .optional(payload))
        })
    default: return .text
    }
  }

  package struct Mismatch: Error {
    package var message: String
  }

  /// The range of a method's reply when it is one natural number (`nat`, `nat64`, …): what a
  /// runbook may read as cycles; nil otherwise.
  package static func naturalRange(_ results: [CandidType], in env: CandidEnvironment) -> ClosedRange<Int128>? {
    guard results.count == 1, let range = (try? env.resolve(results[0])).flatMap(CandidEncoding.range(of:)),
      range.lowerBound == 0
    else { return nil }
    return range
  }

  /// A single natural-number reply (`nat`, `nat64`, …) as an `Int128` (for cycles); nil when the
  /// method does not return one.
  package static func natural(_ reply: String, _ results: [CandidType], in env: CandidEnvironment) throws(Mismatch)
    -> Int128?
  {
    guard let range = naturalRange(results, in: env) else { return nil }
    let values: [CandidValue]
    do throws(CandidFailure) { values = try CandidValue.parseArguments(reply) } catch {
      throw Mismatch(message: "the reply is not Candid (\(error.diagnostic.message))")
    }
    guard case .integer(let n, _)? = values.first?.bare, range.contains(n) else {
      throw Mismatch(message: "`\(reply.prefix(120))` is not a `\(results[0])`")
    }
    return n
  }

  /// The reply text decoded against the method's results.
  package static func decode(_ reply: String, _ results: [CandidType], in env: CandidEnvironment) throws(Mismatch)
    -> Value
  {
    let values: [CandidValue]
    do throws(CandidFailure) { values = try CandidValue.parseArguments(reply) } catch {
      throw Mismatch(message: "the reply is not Candid (\(error.diagnostic.message))")
    }
    guard values.count >= results.count else {
      throw Mismatch(message: "the reply has \(values.count) values; the interface says \(results.count)")
    }
    switch results.count {
    case 0: return .void
    case 1: return try decode(values[0], results[0], in: env, depth: 0)
    default:
      var out: [Value] = []
      for (v, t) in zip(values, results) { out.append(try decode(v, t, in: env, depth: 0)) }
      return .record(results.indices.map { "_\($0)" }, out)
    }
  }

  static func decode(_ value: CandidValue, _ type: CandidType, in env: CandidEnvironment, depth: Int) throws(Mismatch)
    -> Value
  {
    let v = value.bare
    func mismatch() -> Mismatch {
      Mismatch(message: "`\(String(v.flat.prefix(120)))` is not a `\(type)`")
    }
    guard depth < maxDepth, let c = try? env.resolve(type) else { return .text(v.flat) }
    switch (v, c) {
    case (.bool(let b), .bool): return .bool(b)
    case (.text(let t), .text): return .text(t)
    case (.integer(let n, _), .nat), (.integer(let n, _), .int), (.integer(let n, _), .nat8),
      (.integer(let n, _), .nat16), (.integer(let n, _), .nat32), (.integer(let n, _), .nat64),
      (.integer(let n, _), .int8), (.integer(let n, _), .int16), (.integer(let n, _), .int32),
      (.integer(let n, _), .int64):
      guard let range = CandidEncoding.range(of: c), range.contains(n) else { throw mismatch() }
      guard let small = Int64(exactly: n) else {
        throw Mismatch(message: "\(n) is beyond what an `int` holds (\(Int64.max))")
      }
      return .int(small)
    case (.principal(let text), .principal):
      guard let p = Principal(text: text) else { throw mismatch() }
      return .principal(p)
    case (.blob(let bytes), .vec(.nat8)): return .blob(bytes)
    case (.vec(let items), .vec(.nat8)):
      var bytes: [UInt8] = []
      for item in items {
        guard case .integer(let n, _) = item.bare, let b = UInt8(exactly: n) else { throw mismatch() }
        bytes.append(b)
      }
      return .blob(bytes)
    // The spec's rule for `opt`: a value that does not fit its content type reads as `null`
    // (a newer canister may send what an older interface cannot name), never as an error.
    case (.null, .opt): return .none
    case (.opt(let inner), .opt(let t)): return (try? decode(inner, t, in: env, depth: depth + 1)) ?? .none
    case (_, .opt(let t)): return (try? decode(v, t, in: env, depth: depth + 1)) ?? .none
    case (.vec(let items), .vec(let t)):
      var out: [Value] = []
      for item in items { out.append(try decode(item, t, in: env, depth: depth + 1)) }
      return .list(out)
    case (.record(let given), .record(let fields)):
      var keys: [String] = []
      var out: [Value] = []
      for f in fields {
        keys.append(fieldName(f.label))
        if let g = given.first(where: { $0.label.hash == f.label.hash }) {
          out.append(try decode(g.value, f.type, in: env, depth: depth + 1))
        } else if env.mayBeAbsent(f.type) {
          out.append(.none)
        } else {
          throw Mismatch(message: "the reply's record has no field `\(f.label)`")
        }
      }
      return .record(keys, out)
    case (.variant(let tag), .variant(let tags)):
      guard let match = tags.first(where: { $0.label.hash == tag.label.hash }) else {
        throw Mismatch(message: "the reply's variant tag `\(tag.label)` is not in `\(type)`")
      }
      let values = try tags.map { (t) throws(Mismatch) -> Value in
        guard t.label.hash == match.label.hash else { return .none }
        if (try? env.resolve(t.type)) == .null { return .bool(true) }
        return try decode(tag.value, t.type, in: env, depth: depth + 1)
      }
      return .record(tags.map { fieldName($0.label) }, values)
    case (_, .null), (_, .reserved), (_, .float32), (_, .float64), (_, .function), (_, .service), (_, .empty):
      return .text(v.flat)
    default:
      throw mismatch()
    }
  }
}
