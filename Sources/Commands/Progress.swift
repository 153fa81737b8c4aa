import Foundation
import RbicTooling
import Synchronization

/// Progress during external calls: on a terminal a spinner with the command and the elapsed time
/// (erased when the call ends); otherwise one plain line per call.
enum Progress {
  static let frames = Array("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

  static func attach(to setup: inout BackendSetup) {
    if Terminal.isTTY(STDERR_FILENO) {
      let counter = TickCounter()
      setup.waiting = { command, seconds in
        let frame = frames[counter.next() % frames.count]
        Terminal.drawProgress(
          "\r\u{1B}[K\(frame) \(command) … \(String(format: "%.1f", seconds))s", on: STDERR_FILENO)
      }
      setup.finished = { _, _, _ in Terminal.drawProgress("\r\u{1B}[K", on: STDERR_FILENO) }
    } else {
      setup.finished = { argv, status, seconds in
        let command = ([URL(fileURLWithPath: argv[0]).lastPathComponent] + argv.dropFirst().prefix(3)).joined(
          separator: " ")
        Terminal.writeError("    $ \(command) … (exit \(status), \(String(format: "%.2f", seconds))s)\n")
      }
    }
  }
}

final class TickCounter: Sendable {
  private let count = Atomic<Int>(0)
  func next() -> Int { count.add(1, ordering: .relaxed).newValue }
}
