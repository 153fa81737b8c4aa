import Foundation

/// The audit trail: one JSON-lines file per run. Each line is written with one `write(2)` before
/// the next action starts, so a crash or Ctrl-C loses nothing already done. Secrets never reach it:
/// values are rendered with `ValueFormat.json`, which redacts them.
public final class Journal: @unchecked Sendable {
  public let path: String
  private let handle: FileHandle
  private let lock = NSLock()

  /// Creates `directory/<UTC time>-<runbook>.jsonl`.
  public init(directory: String, runbook: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let stamp = Journal.timestamp().replacingOccurrences(of: ":", with: "")
    let safe = String(runbook.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    var candidate = (directory as NSString).appendingPathComponent("\(stamp)-\(safe).jsonl")
    var n = 1
    while FileManager.default.fileExists(atPath: candidate) {
      n += 1
      candidate = (directory as NSString).appendingPathComponent("\(stamp)-\(safe)-\(n).jsonl")
    }
    guard FileManager.default.createFile(atPath: candidate, contents: nil) else {
      throw CocoaError(.fileWriteUnknown)
    }
    self.path = candidate
    self.handle = try FileHandle(forWritingTo: URL(fileURLWithPath: candidate))
  }

  public static func timestamp() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.string(from: Date())
  }

  /// Appends one event: `{"t": time, "event": name, …fields}`; field values are JSON already.
  public func write(_ event: String, _ fields: [(String, String)]) {
    var line = "{\"t\":\(ValueFormat.jsonQuote(Journal.timestamp())),\"event\":\(ValueFormat.jsonQuote(event))"
    for (k, v) in fields { line += ",\(ValueFormat.jsonQuote(k)):\(v)" }
    line += "}\n"
    lock.withLock {
      handle.write(Data(line.utf8))
      try? handle.synchronize()
    }
  }

  deinit { try? handle.close() }
}
