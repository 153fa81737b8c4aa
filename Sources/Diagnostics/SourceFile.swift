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
  package func joined(_ other: SourceRange) -> SourceRange {
    SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
  }

  package var isEmpty: Bool { start == end }
}

/// One source file's bytes, with its line table (`LineIndex`, counting characters).
public final class SourceFile: Sendable {
  public let id: FileID
  /// The path as the user wrote it (shown in diagnostics).
  public let path: String
  public let bytes: [UInt8]
  private let index: LineIndex
  /// Byte offset of the first byte of each line.
  package var lineStarts: [Int] { index.starts }

  public init(id: FileID, path: String, bytes: [UInt8]) {
    self.id = id
    self.path = path
    self.bytes = bytes
    index = LineIndex(bytes, unit: .characters)
  }

  public convenience init(id: FileID, path: String, text: String) {
    self.init(id: id, path: path, bytes: Array(text.utf8))
  }

  /// The 1-based line containing `offset`.
  public func line(of offset: Int) -> Int { index.line(of: offset) + 1 }

  /// The 1-based (line, column) of `offset`; the column counts characters, not bytes.
  public func location(of offset: Int) -> (line: Int, column: Int) {
    let clamped = min(max(0, offset), bytes.count)
    let line = self.line(of: clamped)
    return (line, column(of: clamped, onLine: line) + 1)
  }

  /// Characters from the start of 1-based `line` to `offset` (an offset on that line).
  package func column(of offset: Int, onLine line: Int) -> Int {
    let start = lineStarts[line - 1]
    let offset = min(max(start, offset), bytes.count)
    if index.isASCII(line - 1) { return offset - start }
    let from = index.mark(onLine: line - 1, atOrBefore: offset)
    return from.column + index.count(bytes[from.offset..<offset])
  }

  /// The byte offset of the character at 0-based `column` on 1-based `line` (the line's end when
  /// it is shorter).
  package func offset(ofColumn column: Int, onLine line: Int) -> Int {
    let start = lineStarts[line - 1]
    let end = lineEnd(line)
    if index.isASCII(line - 1) { return min(start + max(0, column), end) }
    let from = index.mark(onLine: line - 1, atOrBefore: column, byColumn: true)
    let rest = String(decoding: bytes[from.offset..<end], as: UTF8.self)
    var position = rest.startIndex
    var k = from.column
    while k < column, position < rest.endIndex {
      rest.formIndex(after: &position)
      k += 1
    }
    // Offsets in `rest` are the file's when the line is valid UTF-8; otherwise count its bytes.
    return min(end, from.offset + rest.utf8.distance(from: rest.startIndex, to: position))
  }

  /// The offset just past the last character of 1-based `line` (before its line terminator).
  package func lineEnd(_ n: Int) -> Int {
    let start = lineStarts[n - 1]
    var end = n < lineStarts.count ? lineStarts[n] : bytes.count
    while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return end
  }

  /// The text of the 1-based line `n`, without its line terminator.
  package func lineText(_ n: Int) -> String {
    guard n >= 1, n <= lineStarts.count else { return "" }
    return String(decoding: bytes[lineStarts[n - 1]..<lineEnd(n)], as: UTF8.self)
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
