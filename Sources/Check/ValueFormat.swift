import Foundation
import RbicDiagnostics
import RbicLexer

/// How values read to operators (`1.024T`, `0x9e32…4533`) and exactly (journal, JSON).
public enum ValueFormat {
  /// `1.024T`, `38.8B`, `961.2B`, `500`: the largest suffix, up to three decimals (for progress
  /// lines). `exact`: every digit that is there (`38.812345678B`), still a valid rbic literal.
  public static func cycles(_ v: Int128, exact: Bool = false) -> String {
    let negative = v < 0
    let magnitude = v.magnitude  // UInt128: no overflow for Int128.min
    let units: [(UInt128, String)] = [(1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")]
    for (size, suffix) in units where magnitude >= size {
      let whole = magnitude / size
      if exact {
        var fraction = String(magnitude % size)
        let digits = String(size).count - 1
        fraction = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        return (negative ? "-" : "") + "\(whole)" + (fraction.isEmpty ? "" : "." + fraction) + suffix
      }
      let thousandths = (magnitude % size) * 1000 / size
      var text = "\(whole)"
      if thousandths > 0 {
        var fraction = String(thousandths)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.last == "0" { fraction.removeLast() }
        text += "." + fraction
      }
      return (negative ? "-" : "") + text + suffix
    }
    return (negative ? "-" : "") + "\(magnitude)"
  }

  /// Digits grouped by `_`, as `icp`/`dfx` print cycles.
  package static func grouped(_ v: Int128) -> String { (v < 0 ? "-" : "") + groupedDigits(String(v.magnitude)) }

  public static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var s = "0x"
    for b in bytes {
      s.append(digits[Int(b >> 4)])
      s.append(digits[Int(b & 15)])
    }
    return s
  }

  /// The bytes of `0x` and an even number of hex digits (a `blob` on the command line), or nil.
  package static func hexBytes(_ text: String) -> [UInt8]? {
    guard text.hasPrefix("0x") else { return nil }
    return bytes(ofHex: text.dropFirst(2))
  }

  /// The 32 bytes of a `0x` + 64 hex digits hash (as the tools print it), or nil.
  package static func hashBytes(_ text: String) -> [UInt8]? {
    let digits = text.hasPrefix("0x") ? text.dropFirst(2) : Substring(text)
    guard digits.utf8.count == 64 else { return nil }
    return bytes(ofHex: digits)
  }

  /// Pairs of hex digits as bytes; nil for an odd count or a character that is not one.
  static func bytes(ofHex digits: Substring) -> [UInt8]? {
    let hex = Array(digits)
    guard hex.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(hex.count / 2)
    var i = 0
    while i + 1 < hex.count {
      guard let hi = hex[i].hexDigitValue, let lo = hex[i + 1].hexDigitValue else { return nil }
      out.append(UInt8(hi << 4 | lo))
      i += 2
    }
    return out
  }

  /// `0x9e3275f0…084533`
  package static func shortHash(_ bytes: [UInt8]) -> String {
    let full = hex(bytes)
    guard full.count > 20 else { return full }
    return String(full.prefix(10)) + "…" + String(full.suffix(6))
  }

  /// A duration as operators read it: a whole number of its largest unit as that literal
  /// (`30d`, `10min`), else its two largest units (`75y 184d`, `27d 3h`, `2h 5min`), else to a
  /// tenth of a second. Exact nanoseconds are in the JSON form.
  public static func duration(_ ns: Int64) -> String {
    let table: [(Int64, String)] = [
      (365 * 86_400_000_000_000, "y"), (86_400_000_000_000, "d"), (3_600_000_000_000, "h"), (60_000_000_000, "min"),
      (1_000_000_000, "s"), (1_000_000, "ms"),
    ]
    if ns == 0 { return "0s" }
    if ns == Int64.max { return "never" }  // `freeze_in` of a canister that burns nothing idle
    let sign = ns < 0 ? "-" : ""
    let n = ns.magnitude
    guard let i = table.firstIndex(where: { n >= UInt64($0.0) }) else { return "\(ns)ns" }
    let (size, suffix) = (UInt64(table[i].0), table[i].1)
    if n % size == 0, suffix != "y" || n / size < 1000 { return "\(sign)\(n / size)\(suffix)" }
    // Seconds and below: to a tenth of a second (or a whole number of milliseconds).
    if size <= 1_000_000_000 {
      if size == 1_000_000 { return "\(sign)≈\(n / size)ms" }
      let tenths = n / 100_000_000
      return "\(sign)≈\(tenths / 10).\(tenths % 10)s"
    }
    let (smaller, next) = (UInt64(table[i + 1].0), table[i + 1].1)
    let rest = (n % size) / smaller
    let approximate = (n % size) % smaller == 0 ? "" : "≈"
    return "\(sign)\(approximate)\(n / size)\(suffix)\(rest == 0 ? "" : " \(rest)\(next)")"
  }

  package static func bytesText(_ n: Int64) -> String {
    for (size, suffix) in [(Int64(1) << 30, "GiB"), (Int64(1) << 20, "MiB"), (Int64(1) << 10, "KiB")] where n >= size {
      let tenths = Int64((Int128(n) * 10 / Int128(size)))  // in Int128: `n * 10` overflows past 9.2e17
      return tenths % 10 == 0 ? "\(tenths / 10)\(suffix)" : "\(tenths / 10).\(tenths % 10)\(suffix)"
    }
    return "\(n) bytes"
  }

  /// The longest blob shown, journaled and sent in full in texts (a key, a hash, a short id);
  /// longer ones (a module) are shown by their size and sha256.
  package static let blobShownInFull = 1024

  /// A blob in hex; one longer than `blobShownInFull` by its first bytes, size and sha256
  /// (`0x0061736d01000000… (1.2MiB, sha256 0x9ef2…e9f7)`): a module is no text to read.
  package static func blob(_ bytes: [UInt8]) -> String {
    guard bytes.count > blobShownInFull else { return hex(bytes) }
    return
      "\(hex(Array(bytes.prefix(8))))… (\(bytesText(Int64(bytes.count))), sha256 \(shortHash(Hashing.sha256(bytes))))"
  }

  public static func icp(_ e8s: Int64) -> String {
    let whole = e8s.magnitude / 100_000_000
    var fraction = String(e8s.magnitude % 100_000_000)
    fraction = String(repeating: "0", count: 8 - fraction.count) + fraction
    while fraction.last == "0" { fraction.removeLast() }
    return "\(e8s < 0 ? "-" : "")\(whole)\(fraction.isEmpty ? "" : "." + fraction)ICP"
  }

  /// ICP as the tools write it: eight decimals (`1.00000000`).
  package static func icpDecimal(_ e8s: Int64) -> String {
    let fraction = String(e8s.magnitude % 100_000_000)
    return
      "\(e8s < 0 ? "-" : "")\(e8s.magnitude / 100_000_000).\(String(repeating: "0", count: 8 - fraction.count))\(fraction)"
  }

  /// For people: units, abbreviated hashes; secrets never.
  /// `exact`: a hash in full and cycles to the last digit (what `print`, string interpolation and
  /// a REPL value show, so a hash can be compared with `sha256sum`); otherwise abbreviated
  /// (`0x9ef26765…98e9f7`, `38.812B`, in progress and change lines, whose journal entries are exact).
  public static func display(_ v: Value, exact: Bool = false) -> String {
    func inner(_ v: Value) -> String {
      if case .text(let t) = v { return "\"\(t)\"" }
      return display(v, exact: exact)
    }
    return switch v {
    case .bool(let b): "\(b)"
    case .int(let i): "\(i)"
    case .text(let t): t
    case .cycles(let c): cycles(c, exact: exact)
    case .icp(let e): icp(e)
    case .duration(let d): duration(d)
    case .bytes(let b): bytesText(b)
    case .principal(let p): p.text
    case .hash(let h): exact ? hex(h) : shortHash(h)
    case .blob(let b): blob(b)
    case .variant(let tag, .void): ".\(tag)"
    case .variant(let tag, let payload): ".\(tag)(\(inner(payload)))"
    case .path(let p): p
    case .status(let s): s.rawValue
    case .secret: "<secret>"
    case .list(let items): "[" + items.map(inner).joined(separator: ", ") + "]"
    case .record(let keys, let values):
      "{" + zip(keys, values).map { "\($0): \(inner($1))" }.joined(separator: ", ") + "}"
    case .none: "none"
    case .void: "nothing"
    case .unknown(let what): "(known after `\(what)` runs)"
    }
  }

  package static func jsonQuote(_ s: String) -> String { jsonString(s) }
}
