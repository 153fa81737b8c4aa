import Foundation
import RbicCheck
import RbicDiagnostics

/// One line of the journal: when, which event, and its fields. The one type the writer (`encoded`,
/// which keeps the fields' order as `JSONEncoder` cannot), `rbic report` and the scan for pending
/// outcomes (`Decodable`) share: nothing hand-quotes JSON that
/// another file parses back, and nothing switches on an event's spelling.
package struct JournalEntry: Decodable, Sendable {
  /// When it was written (ISO 8601, UTC).
  package var time: String
  package var event: JournalEvent
  /// In the order written.
  package var fields: [(key: String, value: JournalValue)]

  package init(_ event: JournalEvent, _ fields: [(String, JournalValue)], time: String = Journal.timestamp()) {
    self.time = time
    self.event = event
    self.fields = fields.map { (key: $0.0, value: $0.1) }
  }

  package subscript(_ key: String) -> JournalValue? { fields.first { $0.key == key }?.value }

  /// The same entry with `transform` applied to every text in it (the redactor, before encoding:
  /// secrets are removed from values, never from encoded text).
  package func mappingTexts(_ transform: (String) -> String) -> JournalEntry {
    var copy = self
    copy.fields = fields.map { (key: $0.key, value: $0.value.mappingTexts(transform)) }
    return copy
  }

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  package init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: Key.self)
    time = try container.decode(String.self, forKey: Key("t"))
    event = try container.decode(JournalEvent.self, forKey: Key("event"))
    fields = try container.allKeys.filter { $0.stringValue != "t" && $0.stringValue != "event" }
      .sorted { $0.stringValue < $1.stringValue }
      .map { (key: $0.stringValue, value: try container.decode(JournalValue.self, forKey: $0)) }
  }

  /// The line as written: compact JSON with `t` and `event` first and the fields in the order
  /// given (a person reading a journal sees each event's own fields in a stable order), no
  /// newline. `JSONDecoder` reads it back as this type.
  package func encoded() -> String {
    var line = "{\"t\":\(jsonString(time)),\"event\":\(jsonString(event.rawValue))"
    for (key, value) in fields where key != "t" && key != "event" { line += ",\(jsonString(key)):\(value.json)" }
    return line + "}"
  }

  /// Every entry of a journal's text that reads as one (a torn last line, or a line an older or
  /// newer rbic wrote with an event this one does not know, is skipped).
  package static func entries(_ data: Data) -> [JournalEntry] {
    let decoder = JSONDecoder()
    return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(JournalEntry.self, from: $0) }
  }
}

/// A value in a journal entry: JSON, with cycles as exact integers.
package enum JournalValue: Decodable, Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
  case text(String)
  case integer(Int128)
  case number(Double)
  case bool(Bool)
  case list([JournalValue])
  case object([String: JournalValue])
  case null

  package init(stringLiteral value: String) { self = .text(value) }
  package init(booleanLiteral value: Bool) { self = .bool(value) }
  package init(_ n: some BinaryInteger) { self = .integer(Int128(clamping: n)) }
  /// Seconds, to the millisecond.
  package static func seconds(_ s: Double) -> JournalValue { .number((s * 1000).rounded() / 1000) }
  package static func texts(_ list: [String]) -> JournalValue { .list(list.map(JournalValue.text)) }
  package static func optional(_ text: String?) -> JournalValue { text.map(JournalValue.text) ?? .null }

  /// A runbook value, exact and machine-readable: cycles as integers, full hashes, units named
  /// (`{"e8s": …}`, `{"ns": …}`); a secret is `"<redacted>"`, whatever it holds.
  package init(_ v: Value) {
    switch v {
    case .bool(let b): self = .bool(b)
    case .int(let i): self = .init(i)
    case .text(let t), .path(let t): self = .text(t)
    case .cycles(let c): self = .integer(c)
    case .icp(let e): self = .object(["e8s": .init(e)])
    case .duration(let d): self = .object(["ns": .init(d)])
    case .bytes(let b): self = .init(b)
    case .principal(let p): self = .text(p.text)
    case .hash(let h): self = .text(ValueFormat.hex(h))
    case .blob(let b) where b.count <= ValueFormat.blobShownInFull: self = .text(ValueFormat.hex(b))
    case .blob(let b):
      self = .object(["bytes": .init(Int64(b.count)), "sha256": .text(ValueFormat.hex(Hashing.sha256(b)))])
    case .variant(let tag, let payload): self = .object([tag: JournalValue(payload)])
    case .status(let s): self = .text(s.rawValue)
    case .secret: self = .text("<redacted>")
    case .list(let items): self = .list(items.map(JournalValue.init))
    case .record(let keys, let values):
      self = .object(Dictionary(zip(keys, values.map(JournalValue.init)), uniquingKeysWith: { a, _ in a }))
    case .none, .void: self = .null
    case .unknown(let what): self = .object(["unknown": .text(what)])
    }
  }

  /// As JSON text: compact, an object's keys sorted, integers exact.
  package var json: String {
    switch self {
    case .text(let t): jsonString(t)
    case .integer(let n): "\(n)"
    case .number(let d): d.isFinite ? "\(d)" : "null"
    case .bool(let b): b ? "true" : "false"
    case .list(let l): "[" + l.map(\.json).joined(separator: ",") + "]"
    case .object(let o):
      "{" + o.keys.sorted().map { "\(jsonString($0)):\(o[$0]?.json ?? "null")" }.joined(separator: ",") + "}"
    case .null: "null"
    }
  }

  package var text: String? { if case .text(let t) = self { t } else { nil } }
  package var integer: Int128? { if case .integer(let n) = self { n } else { nil } }
  package var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
  package var list: [JournalValue]? { if case .list(let l) = self { l } else { nil } }
  package var object: [String: JournalValue]? { if case .object(let o) = self { o } else { nil } }

  /// As a person reads it in a report.
  package var shown: String {
    switch self {
    case .text(let t): t
    case .integer(let n): "\(n)"
    case .number(let d): "\(d)"
    case .bool(let b): b ? "true" : "false"
    case .list(let l): l.map(\.shown).joined(separator: " ")
    case .object(let o): o.keys.sorted().map { "\($0): \(o[$0]?.shown ?? "")" }.joined(separator: ", ")
    case .null: "—"
    }
  }

  func mappingTexts(_ transform: (String) -> String) -> JournalValue {
    switch self {
    case .text(let t): .text(transform(t))
    case .list(let l): .list(l.map { $0.mappingTexts(transform) })
    case .object(let o): .object(o.mapValues { $0.mappingTexts(transform) })
    case .integer, .number, .bool, .null: self
    }
  }

  package init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let n = try? c.decode(Int128.self) {
      self = .integer(n)
    } else if let d = try? c.decode(Double.self) {
      self = .number(d)
    } else if let t = try? c.decode(String.self) {
      self = .text(t)
    } else if let l = try? c.decode([JournalValue].self) {
      self = .list(l)
    } else {
      self = .object(try c.decode([String: JournalValue].self))
    }
  }
}

extension ValueFormat {
  /// Exact and machine-readable (journal, `--format json`): cycles as integers, full hashes;
  /// secrets redacted.
  package static func json(_ v: Value) -> String { JournalValue(v).json }
}
