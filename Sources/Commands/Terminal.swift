import ArgumentParser
import Foundation
import RbicCheck
import RbicRuntime
import Synchronization

/// What the process is attached to: colour only on a TTY and never with `NO_COLOR`.
enum Terminal {
  /// No descriptor is a terminal while a command's output is captured (`CommandLine.run(_:in:)`).
  static func isTTY(_ fd: Int32) -> Bool { captured.withLock { $0 == nil } && isatty(fd) == 1 }

  /// A command run in process: what it writes to standard output and standard error, kept
  /// instead of written, and the environment it was given.
  private struct Capture {
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var environment: [String: String]
  }

  private static let captured = Mutex<Capture?>(nil)

  /// The environment the command sees: the process's, or the one a command run in process was given.
  static var environment: [String: String] {
    captured.withLock { $0?.environment } ?? ProcessInfo.processInfo.environment
  }

  static func startCapture(environment: [String: String]) {
    captured.withLock { $0 = Capture(environment: environment) }
  }

  /// What was written since `startCapture`, as text; writing goes to the descriptors again.
  static func endCapture() -> (stdout: String, stderr: String) {
    captured.withLock { kept in
      defer { kept = nil }
      return (String(decoding: kept?.stdout ?? [], as: UTF8.self), String(decoding: kept?.stderr ?? [], as: UTF8.self))
    }
  }

  static var colorsOnStderr: Bool {
    isTTY(STDERR_FILENO) && environment["NO_COLOR"] == nil
  }

  static var colorsOnStdout: Bool {
    isTTY(STDOUT_FILENO) && environment["NO_COLOR"] == nil
  }

  /// Writes to standard error. A closed pipe or a full disk never stops the program (SIGPIPE is
  /// ignored, see `Rbic.main`): the text is dropped, and the run and its journal go on.
  static func writeError(_ text: String) { write(STDERR_FILENO, text) }

  /// Writes to standard output, with the same rule as `writeError`.
  static func writeOut(_ text: String) { write(STDOUT_FILENO, text) }

  /// One line from standard input, or nil at end of input or once `cancellation` is set (Ctrl-C
  /// or SIGTERM at a prompt ends the wait within a tenth of a second, not at the next Enter).
  static func readAnswer(until cancellation: Cancellation) -> String? {
    var line: [UInt8] = []
    while !cancellation.isCancelled {
      var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
      let ready = poll(&descriptor, 1, 100)
      if ready < 0, errno == EINTR { continue }
      guard ready > 0 else { continue }
      var byte: UInt8 = 0
      let n = read(STDIN_FILENO, &byte, 1)
      if n < 0, errno == EINTR { continue }
      guard n == 1 else { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
      if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
      if line.count < 4096 { line.append(byte) }
    }
    return nil
  }

  /// Whether a `[y/N]` question is on the terminal. Progress lines (the REPL's spinner, a tool
  /// call's) are drawn only through `drawProgress`, which draws nothing while one is: a question
  /// is never overwritten by a line that would leave the operator answering what they cannot see.
  private static let questionShowing = Mutex<Bool>(false)

  /// Draws a transient progress line (it starts with `\r`) unless a question is on the terminal.
  static func drawProgress(_ text: String, on descriptor: Int32) {
    questionShowing.withLock { showing in
      if !showing { write(descriptor, text) }
    }
  }

  /// Asks `question` on `descriptor` and reads the answer from standard input: yes only for `y` or
  /// `yes`; no at end of input or once `cancellation` is set. Any progress line on the terminal is
  /// erased first, and none is drawn until the question is answered.
  static func ask(_ question: String, on descriptor: Int32, until cancellation: Cancellation) -> Bool {
    questionShowing.withLock { showing in
      showing = true
      write(descriptor, "\r\u{1B}[K\(question) [y/N] ")
    }
    defer { questionShowing.withLock { $0 = false } }
    guard let answer = readAnswer(until: cancellation) else {
      write(descriptor, "\n")
      return false
    }
    return ["y", "yes"].contains(answer.lowercased())
  }

  private static func write(_ descriptor: Int32, _ text: String) {
    let kept = captured.withLock { kept -> Bool in
      guard kept != nil else { return false }
      if descriptor == STDOUT_FILENO { kept?.stdout += Array(text.utf8) } else { kept?.stderr += Array(text.utf8) }
      return true
    }
    if !kept { FileWriting.writeAll(descriptor, Array(text.utf8)) }
  }
}

/// `--format`: for people or for tools.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}
