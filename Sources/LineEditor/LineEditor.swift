import CReadline
import Foundation

/// Line editing through the system's GNU readline: Emacs keys, a persistent history file, tab
/// completion. It uses readline's callback interface, so the REPL's loop stays on the main thread:
/// Ctrl-C and terminal resizes arrive as flags (set by dispatch signal sources) and are handled
/// between keystrokes, never inside a signal handler.
public final class LineEditor {
  /// What the loop gets back.
  public enum Event {
    case line(String)
    case interrupt
    case endOfFile
  }

  private let historyPath: String
  private let interrupted = SignalFlag(SIGINT)
  private let resized = SignalFlag(SIGWINCH)

  public init(historyPath: String, completions: @escaping (String, String) -> [String]) {
    self.historyPath = historyPath
    LineEditorState.completions = completions
    rl_readline_name = UnsafePointer(strdup("rbic"))
    rl_catch_signals = 0
    rl_catch_sigwinch = 0
    rl_attempted_completion_function = { text, _, _ in
      rl_attempted_completion_over = 1
      rl_completion_append_character = 0  // a name is often followed by `.` or `(`, not a space
      return rl_completion_matches(text) { text, state in
        if state == 0 {
          let prefix = text.map { String(cString: $0) } ?? ""
          let line = rl_line_buffer.map { String(cString: $0) } ?? ""
          LineEditorState.matches = LineEditorState.completions(prefix, line)
          LineEditorState.index = 0
        }
        guard LineEditorState.index < LineEditorState.matches.count else { return nil }
        defer { LineEditorState.index += 1 }
        return strdup(LineEditorState.matches[LineEditorState.index])
      }
    }
    // `.` ends a completion word too, so `canister.cy<TAB>` completes the property.
    rl_completer_word_break_characters = UnsafePointer(strdup(" \t\n\"'(){}[],.:=+-*/%<>!?"))
    stifle_history(Int32(LineEditor.historyLimit))
    let history = LineEditor.readHistory(historyPath)
    entries = history.entries
    for entry in entries { add_history(entry) }
    rewriteNeeded = !history.current
  }

  /// The file is in readline's format (or missing): written whole once, appended to after.
  private var rewriteNeeded: Bool

  /// Entries kept, oldest first; a multi-line input is one entry.
  private var entries: [String] = []
  static let historyLimit = 2000
  /// The first line of a history file whose entries may span lines (escaped as `\n`); a file
  /// without it (readline's own) is read a line per entry.
  static let historyHeader = "# rbic history: one input per line; \\n is a newline, \\\\ a backslash"

  /// The file's entries, and whether it is in this format (`current`) rather than readline's.
  static func readHistory(_ path: String) -> (entries: [String], current: Bool) {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return ([], false) }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    guard lines.first == historyHeader else { return (lines, false) }
    lines.removeFirst()
    return (lines.map(unescape), true)
  }

  static func escape(_ entry: String) -> String {
    entry.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
  }

  static func unescape(_ line: String) -> String {
    var out = ""
    var escaped = false
    for c in line {
      if escaped {
        out.append(c == "n" ? "\n" : c)
        escaped = false
      } else if c == "\\" {
        escaped = true
      } else {
        out.append(c)
      }
    }
    return out
  }

  /// Reads one line with the prompt; returns on Enter, Ctrl-C or Ctrl-D.
  public func read(prompt: String) -> Event {
    LineEditorState.result = nil
    LineEditorState.done = false
    rl_callback_handler_install(prompt) { line in
      LineEditorState.done = true
      LineEditorState.result = line.map { String(cString: $0) }
      free(line)
    }
    defer { rl_callback_handler_remove() }
    var poller = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
    while !LineEditorState.done {
      if interrupted.take() {
        rl_replace_line("", 0)
        rl_crlf()
        return .interrupt
      }
      if resized.take() { rl_resize_terminal() }
      if poll(&poller, 1, 50) > 0 { rl_callback_read_char() }
    }
    guard let line = LineEditorState.result else { return .endOfFile }
    return .line(line)
  }

  /// Adds an input to the history (a multi-line one as one entry, recalled whole with Up, after
  /// a restart too) and writes the file.
  public func remember(_ entry: String) {
    guard !entry.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
    add_history(entry)
    entries.append(entry)
    // One line appended per input; the whole file rewritten only to convert or trim it.
    if !rewriteNeeded, entries.count <= LineEditor.historyLimit + LineEditor.historyLimit / 10,
      let handle = FileHandle(forWritingAtPath: historyPath)
    {
      handle.seekToEndOfFile()
      handle.write(Data((LineEditor.escape(entry) + "\n").utf8))
      handle.closeFile()
      return
    }
    if entries.count > LineEditor.historyLimit { entries.removeFirst(entries.count - LineEditor.historyLimit) }
    let text = ([LineEditor.historyHeader] + entries.map(LineEditor.escape)).joined(separator: "\n") + "\n"
    rewriteNeeded = (try? text.write(toFile: historyPath, atomically: true, encoding: .utf8)) == nil
  }

  /// True once if Ctrl-C was pressed since the last call (used while a statement runs).
  public func takeInterrupt() -> Bool { interrupted.take() }
  public var interruptFlag: SignalFlag { interrupted }
}

/// readline's C callbacks cannot capture context: the little state they share lives here, touched
/// only from the main thread.
enum LineEditorState {
  static var completions: (String, String) -> [String] = { _, _ in [] }
  static var matches: [String] = []
  static var index = 0
  static var done = false
  static var result: String?
}

/// A signal turned into a flag by a dispatch source (the signal's default action is disabled).
///
/// `@unchecked Sendable`: `raised` and `onRaise`'s calls are guarded by `lock`; `source` is set once.
public final class SignalFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var raised = false
  private let source: DispatchSourceSignal
  public var onRaise: (@Sendable () -> Void)?

  public init(_ signalNumber: Int32) {
    signal(signalNumber, SIG_IGN)
    source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
    source.setEventHandler { [unowned self] in
      lock.withLock { raised = true }
      onRaise?()
    }
    source.resume()
  }

  public func take() -> Bool {
    lock.withLock {
      defer { raised = false }
      return raised
    }
  }

  deinit { source.cancel() }
}
