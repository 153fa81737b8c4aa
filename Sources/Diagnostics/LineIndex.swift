/// A file's lines, and what makes a column cheap to find, for the renderer's columns (characters)
/// and the language server's positions (UTF-16 units) alike: which lines are ASCII (a column is
/// then a byte count), and, on long lines that are not, the column at a boundary every `stride`
/// bytes. A column costs at most one stride of counting however long its line, so many positions
/// on one very long line stay linear.
package struct LineIndex: Sendable {
  /// What a column counts.
  package enum Unit: Sendable {
    case characters, utf16
  }

  /// Byte offset of the first byte of each line.
  package let starts: [Int]
  /// Per line (0-based): whether every byte of it is ASCII.
  private let ascii: [Bool]
  /// Per long non-ASCII line (0-based): (byte offset, 0-based column) pairs in increasing order,
  /// each at a boundary of `unit`.
  private let checkpoints: [Int: [Mark]]
  private let unit: Unit
  /// Bytes between checkpoints; lines up to this long have none.
  static let stride = 1024

  package struct Mark: Sendable {
    package var offset: Int
    package var column: Int
  }

  package init(_ bytes: [UInt8], unit: Unit) {
    self.unit = unit
    var starts = [0]
    var ascii: [Bool] = []
    var lineIsASCII = true
    for (i, b) in bytes.enumerated() {
      if b == UInt8(ascii: "\n") {
        starts.append(i + 1)
        ascii.append(lineIsASCII)
        lineIsASCII = true
      } else if b >= 0x80 {
        lineIsASCII = false
      }
    }
    ascii.append(lineIsASCII)
    var checkpoints: [Int: [Mark]] = [:]
    for (line, isASCII) in ascii.enumerated() where !isASCII {
      let start = starts[line]
      let end = line + 1 < starts.count ? starts[line + 1] : bytes.count
      guard end - start > Self.stride else { continue }
      checkpoints[line] = Self.marks(bytes[start..<end], from: start, unit: unit)
    }
    self.starts = starts
    self.ascii = ascii
    self.checkpoints = checkpoints
  }

  /// Boundaries of one line about every `stride` bytes, with their columns. A line that is not
  /// valid UTF-8 counts scalars' lead bytes (its columns are approximate anyway: the invalid
  /// bytes show as replacement characters).
  private static func marks(_ line: ArraySlice<UInt8>, from start: Int, unit: Unit) -> [Mark] {
    var out = [Mark(offset: start, column: 0)]
    var next = start + stride
    var column = 0
    var offset = start
    func step(width: Int, units: Int) {
      if offset >= next {
        out.append(Mark(offset: offset, column: column))
        next = offset + stride
      }
      column += units
      offset += width
    }
    if let text = String(validating: line, as: UTF8.self) {
      switch unit {
      case .characters: for character in text { step(width: character.utf8.count, units: 1) }
      case .utf16: for scalar in text.unicodeScalars { step(width: UTF8.width(scalar), units: scalar.utf16.count) }
      }
    } else {
      for b in line { step(width: 1, units: b & 0xC0 != 0x80 ? 1 : 0) }
    }
    return out
  }

  /// The 0-based line containing `offset`.
  package func line(of offset: Int) -> Int {
    var lo = 0
    var hi = starts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if starts[mid] <= offset { lo = mid } else { hi = mid - 1 }
    }
    return lo
  }

  /// Whether every byte of 0-based `line` is ASCII (a column is then a byte count).
  package func isASCII(_ line: Int) -> Bool { ascii[line] }

  /// The last boundary of 0-based `line` at or before `offset` (or, `byColumn`, at or before that
  /// column), with its column: counting starts there.
  package func mark(onLine line: Int, atOrBefore value: Int, byColumn: Bool = false) -> Mark {
    guard let marks = checkpoints[line] else { return Mark(offset: starts[line], column: 0) }
    var lo = 0
    var hi = marks.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if (byColumn ? marks[mid].column : marks[mid].offset) <= value { lo = mid } else { hi = mid - 1 }
    }
    return marks[lo]
  }

  /// Columns in `bytes` (from a boundary), in this index's unit.
  package func count(_ bytes: ArraySlice<UInt8>) -> Int {
    let text = String(decoding: bytes, as: UTF8.self)
    return unit == .characters ? text.count : text.utf16.count
  }
}
