import Foundation
import RbicCheck
import Synchronization

/// The audit trail: one JSON-lines file per run. Each line is written with `write(2)` and synced
/// before the next action starts, so a crash or Ctrl-C loses nothing already done. Secrets never
/// reach it: each entry's texts pass the run's redactor before the entry is encoded. A line that cannot be
/// written is reported (`write` returns false) rather than trapping; the effect pipeline then
/// refuses every further mutation.
public final class Journal: Sendable {
  public let path: String
  public var directory: String { (path as NSString).deletingLastPathComponent }
  /// The open file; the mutex serialises lines from parallel branches.
  private let descriptor: Mutex<Int32>

  /// Creates `directory/<UTC time>-<runbook>.jsonl`.
  public init(directory: String, runbook: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let stamp = Journal.timestamp().replacingOccurrences(of: ":", with: "")
    let safe = String(runbook.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    var n = 1
    while true {
      let name = n == 1 ? "\(stamp)-\(safe).jsonl" : "\(stamp)-\(safe)-\(n).jsonl"
      let candidate = (directory as NSString).appendingPathComponent(name)
      let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
      if fd >= 0 {
        path = candidate
        descriptor = Mutex(fd)
        return
      }
      guard errno == EEXIST, n < 1000 else { throw CocoaError(.fileWriteUnknown) }
      n += 1
    }
  }

  /// A journal on an already open descriptor (tests: a device that refuses every write).
  package init(path: String, descriptor: Int32) {
    self.path = path
    self.descriptor = Mutex(descriptor)
  }

  package static func timestamp() -> String {
    formatter.withLock { $0.string(from: Date()) }
  }

  /// One formatter for every line (making one costs more than writing the line).
  private static let formatter: Mutex<ISO8601DateFormatter> = {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return Mutex(f)
  }()

  /// Appends one entry as a line of JSON. Returns false when the line could not be written whole.
  /// `sync: false` leaves the line to the operating system without waiting for the disk: for
  /// lines that record no action (a REPL input's step lines), so a quick input stays quick.
  @discardableResult
  package func write(_ entry: JournalEntry, sync: Bool = true) -> Bool {
    let bytes = Array((entry.encoded() + "\n").utf8)
    return descriptor.withLock { descriptor in
      guard FileWriting.writeAll(descriptor, bytes) else { return false }
      return !sync || fsync(descriptor) == 0 || errno == EINVAL
    }
  }

  deinit { descriptor.withLock { _ = close($0) } }
}

/// The journal's events: written by the runtime, read back by `rbic report` and by the scan for
/// pending unknown outcomes.
package enum JournalEvent: String, Sendable, CaseIterable, Codable {
  case runStart = "run_start"
  case runEnd = "run_end"
  case stepStart = "step_start"
  case stepEnd = "step_end"
  case read
  case readFailed = "read_failed"
  case ensure
  case ensureNoEffect = "ensure_no_effect"
  case actionStart = "action_start"
  case actionEnd = "action_end"
  case actionSkipped = "action_skipped"
  /// A mutation whose outcome is unknown; `request` identifies it until a later run reconciles it.
  case outcomeUnknown = "outcome_unknown"
  /// An earlier run's unknown outcome found pending at the start of this one.
  case pending
  /// A pending unknown outcome closed: settled, or an operator confirmed acting again.
  case reconciled
  /// A local effect not run (plan, --read-only).
  case withheld
  case expectFailed = "expect_failed"
  /// An item of a `keep going` loop failed (`item`, `error`); the loop went on to the next.
  case itemFailed = "item_failed"
  /// A failed step's `on failure` block starts.
  case onFailure = "on_failure"
  case confirm
  case call
  case callFailed = "call_failed"
  case command
  case interrupted
}
