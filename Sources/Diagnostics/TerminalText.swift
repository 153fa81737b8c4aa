/// External text made safe for a terminal or Markdown: tool output, canister replies and rejects,
/// file contents shown in diagnostics. Control characters (C0 but newline and tab, DEL, C1) are
/// spelled out as `\u{1b}`, so escape sequences from whoever controls a canister or a tool can
/// neither retitle the terminal, clear it nor hide text.
public enum TerminalText {
  public static func escaped(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if isControl(scalar) {
        out += "\\u{\(String(scalar.value, radix: 16))}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// One column per character, for source excerpts under which carets must line up: each
  /// control character becomes `�`.
  static func replacingControls(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = String.UnicodeScalarView()
    for scalar in text.unicodeScalars { out.append(isControl(scalar) ? "\u{FFFD}" : scalar) }
    return String(out)
  }

  static func isControl(_ s: Unicode.Scalar) -> Bool {
    (s.value < 0x20 && s != "\n" && s != "\t") || (0x7F...0x9F).contains(s.value)
  }
}
