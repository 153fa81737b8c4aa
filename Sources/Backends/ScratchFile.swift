import Foundation
import RbicCheck
import RbicRuntime

/// The files a tool call reads (a call's Candid arguments, a module to install): written readable
/// only by this user, named after the process that wrote them (`rbic-tmp-PID-UUID.EXT`), and
/// removed after the call. A process killed mid-call cannot remove its own, so the first scratch
/// file a later rbic writes sweeps those whose process is gone: no argument file outlives the run
/// that wrote it by more than the next run's start.
enum ScratchFile {
  static let prefix = "rbic-tmp-"

  /// Writes `bytes` to a new file and returns its path; nothing is sent when it cannot be written.
  static func write(_ bytes: [UInt8], suffix: String) throws(BackendError) -> String {
    sweepOrphans()
    let directory = FileManager.default.temporaryDirectory.path
    let path = (directory as NSString).appendingPathComponent("\(prefix)\(getpid())-\(UUID().uuidString)\(suffix)")
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .notSent("cannot write a temporary file for the tool in \(directory)") }
    let complete = FileWriting.writeAll(fd, bytes)
    close(fd)
    guard complete else {
      unlink(path)
      throw .notSent("cannot write a temporary file for the tool in \(directory)")
    }
    return path
  }

  /// Removes scratch files whose writer is no longer running (once per process; a backend that
  /// runs a tool calls it when it is made).
  static func sweepOrphans() { _ = swept }

  private static let swept: Void = {
    let directory = FileManager.default.temporaryDirectory.path
    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
      guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isNumber }), pid > 0, pid != getpid() else {
        continue
      }
      // ESRCH: no such process. (EPERM means it runs as another user: not ours to sweep.)
      if kill(pid, 0) != 0, errno == ESRCH { unlink((directory as NSString).appendingPathComponent(name)) }
    }
  }()
}
