/// The shared ground of every phase: source files, byte ranges and diagnostics.
///
/// Positions are byte offsets into a file's UTF-8 bytes; lines and columns are computed only when a
/// diagnostic is rendered. Every phase (lexer, parser, checker, runtime) reports through `Diagnostic`,
/// and one `DiagnosticRenderer` turns them into text for people or for tools.

/// Identifies a source file within one compilation.
public struct FileID: Hashable, Sendable, Comparable {
  public let raw: Int
  public init(_ raw: Int) { self.raw = raw }
  public static func < (a: FileID, b: FileID) -> Bool { a.raw < b.raw }
}

/// A half-open byte range `[start, end)` in one file.
public struct SourceRange: Hashable, Sendable {
  public var file: FileID
  public var start: Int
  public var end: Int

  public init(file: FileID, start: Int, end: Int) {
    self.file = file
    self.start = start
    self.end = max(start, end)
  }

  /// The smallest range covering both (they must be in the same file).
  public func joined(_ other: SourceRange) -> SourceRange {
    SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
  }

  public var isEmpty: Bool { start == end }
}

/// One source file's bytes, with a lazily built line table.
public final class SourceFile: Sendable {
  public let id: FileID
  /// The path as the user wrote it (shown in diagnostics).
  public let path: String
  public let bytes: [UInt8]
  /// Byte offset of the first byte of each line.
  public let lineStarts: [Int]

  public init(id: FileID, path: String, bytes: [UInt8]) {
    self.id = id
    self.path = path
    self.bytes = bytes
    var starts = [0]
    for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
    self.lineStarts = starts
  }

  public convenience init(id: FileID, path: String, text: String) {
    self.init(id: id, path: path, bytes: Array(text.utf8))
  }

  /// The 1-based line containing `offset`.
  public func line(of offset: Int) -> Int {
    var lo = 0
    var hi = lineStarts.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
    }
    return lo + 1
  }

  /// The 1-based (line, column) of `offset`; the column counts characters, not bytes.
  public func location(of offset: Int) -> (line: Int, column: Int) {
    let clamped = min(max(0, offset), bytes.count)
    let line = self.line(of: clamped)
    let prefix = bytes[lineStarts[line - 1]..<clamped]
    return (line, String(decoding: prefix, as: UTF8.self).count + 1)
  }

  /// The text of the 1-based line `n`, without its line terminator.
  public func lineText(_ n: Int) -> String {
    guard n >= 1, n <= lineStarts.count else { return "" }
    let start = lineStarts[n - 1]
    var end = n < lineStarts.count ? lineStarts[n] : bytes.count
    while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }

  /// The source text of a range, decoded leniently.
  public func text(_ range: SourceRange) -> String {
    let s = min(max(0, range.start), bytes.count)
    let e = min(max(s, range.end), bytes.count)
    return String(decoding: bytes[s..<e], as: UTF8.self)
  }
}

/// The files of one compilation, by id.
public struct SourceFiles: Sendable {
  public private(set) var files: [SourceFile] = []

  public init() {}

  /// Registers a file and returns it.
  @discardableResult
  public mutating func add(path: String, bytes: [UInt8]) -> SourceFile {
    let file = SourceFile(id: FileID(files.count), path: path, bytes: bytes)
    files.append(file)
    return file
  }

  public subscript(id: FileID) -> SourceFile { files[id.raw] }
}
