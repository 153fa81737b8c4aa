import ArgumentParser
import Foundation

/// What the process is attached to: colour only on a TTY and never with `NO_COLOR`.
enum Terminal {
  static func isTTY(_ fd: Int32) -> Bool { isatty(fd) == 1 }

  static var colorsOnStderr: Bool {
    isTTY(STDERR_FILENO) && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
  }

  static func writeError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
  }

  static func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }
}

/// `--format`: for people or for tools.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
}
