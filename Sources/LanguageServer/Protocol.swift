import Foundation
import RbicDiagnostics

// The Language Server Protocol's types rbic uses, on Codable (no LSP library is available).

public struct Position: Codable, Sendable, Equatable {
  public var line: Int
  /// UTF-16 code units from the start of the line.
  public var character: Int
  public init(line: Int, character: Int) {
    self.line = line
    self.character = character
  }
}

public struct LSPRange: Codable, Sendable, Equatable {
  public var start: Position
  public var end: Position
  public init(start: Position, end: Position) {
    self.start = start
    self.end = end
  }
}

public struct Location: Codable, Sendable, Equatable {
  public var uri: String
  public var range: LSPRange
}

struct TextDocumentIdentifier: Codable { var uri: String }
struct TextDocumentItem: Codable {
  var uri: String
  var text: String
  var version: Int?
}
struct VersionedTextDocumentIdentifier: Codable {
  var uri: String
  var version: Int?
}
struct ContentChange: Codable {
  var range: LSPRange?
  var text: String
}
struct DidOpenParams: Codable { var textDocument: TextDocumentItem }
struct DidChangeParams: Codable {
  var textDocument: VersionedTextDocumentIdentifier
  var contentChanges: [ContentChange]
}
struct DocumentParams: Codable { var textDocument: TextDocumentIdentifier }
struct PositionParams: Codable {
  var textDocument: TextDocumentIdentifier
  var position: Position
}

struct LSPDiagnostic: Codable {
  struct Related: Codable {
    var location: Location
    var message: String
  }
  var range: LSPRange
  /// 1 error, 2 warning, 3 information, 4 hint.
  var severity: Int
  var code: String
  var source = "rbic"
  var message: String
  var relatedInformation: [Related]?
}

struct PublishDiagnosticsParams: Codable {
  var uri: String
  var version: Int?
  var diagnostics: [LSPDiagnostic]
}

struct MarkupContent: Codable {
  var kind = "markdown"
  var value: String
}

struct Hover: Codable {
  var contents: MarkupContent
  var range: LSPRange?
}

struct CompletionItem: Codable {
  /// 3 function, 5 field, 6 variable, 10 property, 14 keyword, 2 method, 12 value, 21 constant.
  var label: String
  var kind: Int
  var detail: String?
  var documentation: MarkupContent?
  var insertText: String?
  var sortText: String?
}

struct CompletionList: Codable {
  var isIncomplete = false
  var items: [CompletionItem]
}

struct TextEdit: Codable {
  var range: LSPRange
  var newText: String
}

struct DocumentSymbol: Codable {
  var name: String
  var detail: String?
  /// 12 function, 13 variable, 14 constant, 2 module, 7 property, 5 class, 24 event.
  var kind: Int
  var range: LSPRange
  var selectionRange: LSPRange
  var children: [DocumentSymbol]?
}

/// Byte offsets ↔ LSP positions (lines, UTF-16 units) over a file's bytes, on the same line index
/// as diagnostics' columns (`LineIndex`, counting UTF-16 units): a position costs at most a stride
/// of decoding however long its line.
struct LineTable {
  let bytes: [UInt8]
  let index: LineIndex
  var starts: [Int] { index.starts }

  init(_ bytes: [UInt8]) {
    self.bytes = bytes
    index = LineIndex(bytes, unit: .utf16)
  }

  func position(_ offset: Int) -> Position {
    let offset = min(max(0, offset), bytes.count)
    let line = index.line(of: offset)
    if index.isASCII(line) { return Position(line: line, character: offset - starts[line]) }
    let from = index.mark(onLine: line, atOrBefore: offset)
    return Position(line: line, character: from.column + index.count(bytes[from.offset..<offset]))
  }

  func offset(_ p: Position) -> Int {
    guard p.line >= 0 else { return 0 }
    guard p.line < starts.count else { return bytes.count }
    let start = starts[p.line]
    let end = p.line + 1 < starts.count ? starts[p.line + 1] : bytes.count
    // `character` units span at most 4 bytes each: decode no more of the line than that.
    let wanted = max(0, p.character)
    let limit = wanted >= end - start ? end : min(end, start + 4 * (wanted + 1))
    var units = 0
    var i = start
    let line = String(decoding: bytes[start..<limit], as: UTF8.self)
    for scalar in line.unicodeScalars {
      if units >= p.character || scalar == "\n" || scalar == "\r" { break }
      units += scalar.utf16.count
      i += String(scalar).utf8.count
    }
    return min(i, end)
  }

  func range(_ r: SourceRange) -> LSPRange { LSPRange(start: position(r.start), end: position(r.end)) }
}
