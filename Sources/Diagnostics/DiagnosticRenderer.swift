/// Renders diagnostics for people (a source excerpt with carets, colour only when asked) or for
/// tools (`file:line:col: severity: message`, or JSON).
public struct DiagnosticRenderer: Sendable {
  public enum Style: Sendable {
    /// Excerpts, carets, notes; `colors` adds ANSI colour.
    case human(colors: Bool)
    /// One line per diagnostic and note: `file:line:col: error: message [code]`.
    case tool
  }

  public let files: SourceFiles
  public let style: Style

  public init(files: SourceFiles, style: Style) {
    self.files = files
    self.style = style
  }

  public func render(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.map(render).joined()
  }

  public func render(_ d: Diagnostic) -> String {
    // Messages can quote tools, replies and files: never let their control characters through.
    var d = d
    d.message = TerminalText.escaped(d.message)
    d.labels = d.labels.map { Diagnostic.Label($0.range, TerminalText.escaped($0.text)) }
    d.notes = d.notes.map { Diagnostic.Note($0.kind, TerminalText.escaped($0.message)) }
    switch style {
    case .tool: return renderTool(d)
    case .human(let colors): return renderHuman(d, colors: colors)
    }
  }

  /// `path:line:col`
  package func position(_ range: SourceRange) -> String {
    let file = files[range.file]
    let (line, column) = file.location(of: range.start)
    return "\(file.path):\(line):\(column)"
  }

  private func renderTool(_ d: Diagnostic) -> String {
    var out = "\(position(d.range)): \(d.severity.rawValue): \(d.message) [\(d.code.rawValue)]\n"
    for note in d.notes { out += "\(position(d.range)): \(note.kind.rawValue): \(note.message)\n" }
    return out
  }

  private func renderHuman(_ d: Diagnostic, colors: Bool) -> String {
    let paint = Painter(enabled: colors)
    let file = files[d.range.file]
    let severityColor: Painter.Color = d.severity == .error ? .red : (d.severity == .warning ? .yellow : .cyan)
    var out = paint(d.severity.rawValue, severityColor, bold: true) + paint(": \(d.message)", nil, bold: true) + "\n"

    // Primary and secondary ranges in this file, grouped by line.
    // A label on the primary range gives the primary mark its text (a power-assert value).
    let primaryText = d.labels.first { $0.range == d.range }?.text ?? ""
    var marks: [(range: SourceRange, text: String, primary: Bool)] = [(d.range, primaryText, true)]
    marks += d.labels.filter { $0.range.file == d.range.file && $0.range != d.range }.map { ($0.range, $0.text, false) }
    let lines = Set(marks.map { file.line(of: $0.range.start) }).sorted()
    let gutter = String(repeating: " ", count: String(lines.last ?? 1).count)
    let (line, column) = file.location(of: d.range.start)
    out += "\(gutter)\(paint("-->", .blue, bold: true)) \(file.path):\(line):\(column)\n"
    out += "\(gutter) \(paint("|", .blue, bold: true))\n"
    var previousLine: Int?
    for n in lines {
      if let p = previousLine, n > p + 1 { out += paint("...", .blue, bold: true) + "\n" }
      previousLine = n
      let number = String(n)
      let onLine = marks.filter { file.line(of: $0.range.start) == n }.sorted { $0.range.start < $1.range.start }
      let window = excerptWindow(
        file: file, line: n, around: onLine.first { $0.primary }?.range.start ?? onLine[0].range.start)
      out += paint(String(repeating: " ", count: gutter.count - number.count) + number + " |", .blue, bold: true)
      out += " \(TerminalText.replacingControls(window.text))\n"  // same width: carets still line up
      out += caretLines(
        for: onLine, in: file, window: window, gutter: gutter, paint: paint, color: severityColor)
    }
    for label in d.labels where label.range.file != d.range.file {
      out += "\(gutter) \(paint("=", .blue, bold: true)) \(label.text) at \(position(label.range))\n"
    }
    for note in d.notes {
      out +=
        "\(gutter) \(paint("=", .blue, bold: true)) \(paint(note.kind.rawValue, nil, bold: true)): \(note.message)\n"
    }
    return out
  }

  /// The part of a long line shown in an excerpt: at most `maxExcerpt` characters around the mark.
  /// Its work is bounded by the excerpt, not the line: a long line's columns come from the file's
  /// checkpoints, and only the shown bytes are decoded.
  struct Window {
    var text: String
    /// The bytes shown: `[start, end)` of the file.
    var start: Int
    var end: Int
    /// What was printed before the first shown character (1 for `…`, else 0).
    var shift: Int
    /// Characters shown.
    var count: Int
  }

  static let maxExcerpt = 160

  private func excerptWindow(file: SourceFile, line: Int, around offset: Int) -> Window {
    let lineStart = file.lineStarts[line - 1]
    let lineEnd = file.lineEnd(line)
    let total = file.column(of: lineEnd, onLine: line)
    guard total > DiagnosticRenderer.maxExcerpt else {
      return Window(
        text: String(decoding: file.bytes[lineStart..<lineEnd], as: UTF8.self), start: lineStart, end: lineEnd,
        shift: 0, count: total)
    }
    let markColumn = file.column(of: min(max(offset, lineStart), lineEnd), onLine: line)
    let start = max(0, min(markColumn - 40, total - DiagnosticRenderer.maxExcerpt))
    let end = min(total, start + DiagnosticRenderer.maxExcerpt)
    let startOffset = file.offset(ofColumn: start, onLine: line)
    let endOffset = file.offset(ofColumn: end, onLine: line)
    let shown =
      (start > 0 ? "…" : "") + String(decoding: file.bytes[startOffset..<endOffset], as: UTF8.self)
      + (end < total ? "…" : "")
    return Window(text: shown, start: startOffset, end: endOffset, shift: start > 0 ? 1 : 0, count: end - start)
  }

  /// The caret line under a source line, then one line per extra label text (power-assert style).
  private func caretLines(
    for marks: [(range: SourceRange, text: String, primary: Bool)], in file: SourceFile, window: Window,
    gutter: String, paint: Painter, color: Painter.Color
  ) -> String {
    let chars = Array(window.text)
    // Column (in characters of the shown text) of a byte offset on this line.
    func column(_ offset: Int) -> Int {
      let clamped = min(max(offset, window.start), window.end)
      let raw = String(decoding: file.bytes[window.start..<clamped], as: UTF8.self).count
      return min(raw, window.count) + window.shift
    }
    func pad(_ upTo: Int, from: Int) -> String {
      (from..<max(from, upTo)).map { $0 < chars.count && chars[$0] == "\t" ? "\t" : " " }.joined()
    }
    var row = ""
    var width = 0
    var spans: [(start: Int, text: String)] = []
    var lastHasText = false
    for mark in marks {
      let start = column(mark.range.start)
      let end = max(start + 1, column(mark.range.end))
      if start < width { continue }
      row += pad(start, from: width)
      let underline = "^" + String(repeating: "~", count: max(0, end - start - 1))
      row += paint(underline, mark.primary ? color : .blue, bold: true)
      width = end
      lastHasText = !mark.text.isEmpty
      if !mark.text.isEmpty { spans.append((start, mark.text)) }
    }
    let prefix = "\(gutter) \(paint("|", .blue, bold: true)) "
    var out = prefix + row
    // The rightmost mark's text fits on the caret line; the others get lines of their own below
    // their marks, rightmost first (power-assert style).
    var below = spans[...]
    if lastHasText, let last = spans.last {
      out += " " + paint(last.text, .blue, bold: false)
      below = spans.dropLast()
    }
    for span in below.reversed() {
      out += "\n" + prefix + pad(span.start, from: 0) + paint(span.text, .blue, bold: false)
    }
    return out + "\n"
  }
}

/// ANSI colour, or nothing.
struct Painter {
  enum Color: String {
    case red = "31"
    case yellow = "33"
    case blue = "34"
    case cyan = "36"
    case green = "32"
  }
  let enabled: Bool

  func callAsFunction(_ text: String, _ color: Color?, bold: Bool) -> String {
    guard enabled, color != nil || bold else { return text }
    var codes: [String] = []
    if bold { codes.append("1") }
    if let color { codes.append(color.rawValue) }
    return "\u{1B}[\(codes.joined(separator: ";"))m\(text)\u{1B}[0m"
  }
}

extension DiagnosticRenderer {
  /// JSON for `--format json`: an array of objects with file, line, column, end position, severity,
  /// code, message and notes. Hand-written so that the output is stable and dependency-free.
  public func renderJSON(_ diagnostics: [Diagnostic]) -> String {
    let items = diagnostics.map { d -> String in
      let file = files[d.range.file]
      let (line, column) = file.location(of: d.range.start)
      let (endLine, endColumn) = file.location(of: d.range.end)
      let notes = d.notes.map { "{\"kind\":\(jsonString($0.kind.rawValue)),\"message\":\(jsonString($0.message))}" }
      return "{\"file\":\(jsonString(file.path)),\"line\":\(line),\"column\":\(column),\"endLine\":\(endLine),"
        + "\"endColumn\":\(endColumn),\"severity\":\(jsonString(d.severity.rawValue)),"
        + "\"code\":\(jsonString(d.code.rawValue)),\"message\":\(jsonString(d.message)),"
        + "\"notes\":[\(notes.joined(separator: ","))]}"
    }
    return "[" + items.joined(separator: ",") + "]"
  }
}

extension DiagnosticRenderer {
  /// GitHub workflow commands (`::error file=…,line=…::message`), one per diagnostic, so CI
  /// annotates the pull request's diff. Notes are appended to the message.
  public func renderGitHub(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.map { d in
      let file = files[d.range.file]
      let (line, column) = file.location(of: d.range.start)
      let (endLine, endColumn) = file.location(of: d.range.end)
      let command =
        switch d.severity {
        case .error: "error"
        case .warning: "warning"
        case .note: "notice"
        }
      var message = d.message
      for note in d.notes { message += "\n\(note.kind.rawValue): \(note.message)" }
      let properties = [
        "file=\(githubProperty(file.path))", "line=\(line)", "col=\(column)", "endLine=\(endLine)",
        "endColumn=\(endColumn)", "title=\(githubProperty("rbic " + d.code.rawValue))",
      ]
      return "::\(command) \(properties.joined(separator: ","))::\(githubData(message))\n"
    }.joined()
  }
}

/// Escapes for a workflow command's message.
func githubData(_ s: String) -> String {
  s.replacingAll("%", "%25").replacingAll("\r", "%0D").replacingAll("\n", "%0A")
}

/// Escapes for a workflow command's property value.
func githubProperty(_ s: String) -> String {
  githubData(s).replacingAll(":", "%3A").replacingAll(",", "%2C")
}

extension String {
  /// Every occurrence of `target` replaced (without Foundation).
  func replacingAll(_ target: String, _ replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}

/// A JSON string literal with the escapes RFC 8259 requires.
package func jsonString(_ s: String) -> String {
  quotedLiteral(s) {
    $0 < 0x20 ? "\\u" + String(repeating: "0", count: 4 - String($0, radix: 16).count) + String($0, radix: 16) : nil
  }
}

/// A double-quoted literal with `\" \\ \n \r \t` escaped; `control` spells any other scalar that
/// needs escaping (JSON's `\u001b`, Candid's `\u{1b}`) and returns nil for the rest.
package func quotedLiteral(_ s: String, control: (UInt32) -> String?) -> String {
  var out = "\""
  for scalar in s.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    default:
      if let escaped = control(scalar.value) { out += escaped } else { out.unicodeScalars.append(scalar) }
    }
  }
  return out + "\""
}

/// Decimal digits grouped by `_` in threes (`1234567` → `1_234_567`), as `icp`/`dfx` and Candid
/// print numbers: one rule for cycles and Candid values.
package func groupedDigits(_ digits: String) -> String {
  var out = ""
  for (i, c) in digits.enumerated() {
    if i > 0, (digits.count - i) % 3 == 0 { out.append("_") }
    out.append(c)
  }
  return out
}
