/// The measured quantities of the language and their literal suffixes.
package enum Unit: String, Sendable, Hashable, CaseIterable {
  /// Whole cycles.
  case cycles
  /// ICP, stored as e8s (10^-8 ICP).
  case icp
  /// Durations, stored as nanoseconds.
  case duration
  /// Sizes, stored as bytes.
  case bytes

  /// One literal suffix: its unit and how many base units one of it is.
  package struct Suffix: Sendable {
    package let text: String
    package let unit: Unit
    package let multiplier: Int128
  }

  /// Every suffix the lexer accepts. Cycles suffixes work in either case, as `icp` accepts them.
  package static let suffixes: [String: Suffix] = {
    var table: [String: Suffix] = [:]
    func add(_ text: String, _ unit: Unit, _ multiplier: Int128) {
      table[text] = Suffix(text: text, unit: unit, multiplier: multiplier)
    }
    for (s, m) in [("K", 1_000), ("M", 1_000_000), ("B", 1_000_000_000), ("T", 1_000_000_000_000)] as [(String, Int128)]
    {
      add(s, .cycles, m)
      add(s.lowercased(), .cycles, m)
    }
    add("ICP", .icp, 100_000_000)
    add("icp", .icp, 100_000_000)
    add("ms", .duration, 1_000_000)
    add("s", .duration, 1_000_000_000)
    add("min", .duration, 60_000_000_000)
    add("h", .duration, 3_600_000_000_000)
    add("d", .duration, 86_400_000_000_000)
    add("KB", .bytes, 1_000)
    add("MB", .bytes, 1_000_000)
    add("GB", .bytes, 1_000_000_000)
    add("TB", .bytes, 1_000_000_000_000)
    add("KiB", .bytes, 1 << 10)
    add("MiB", .bytes, 1 << 20)
    add("GiB", .bytes, 1 << 30)
    add("TiB", .bytes, 1 << 40)
    return table
  }()

  /// The largest value a literal of this unit may have, in base units.
  package var maximum: Int128 {
    switch self {
    case .cycles: Int128(UInt64.max) * 1_000_000_000_000  // far beyond any balance; guards typos
    case .icp, .duration, .bytes: Int128(Int64.max)
    }
  }

  /// What a whole base unit is called, for messages.
  package var baseName: String {
    switch self {
    case .cycles: "cycles"
    case .icp: "e8s (8 decimals of ICP)"
    case .duration: "nanoseconds"
    case .bytes: "bytes"
    }
  }
}
