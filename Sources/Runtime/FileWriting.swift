import Foundation
import RbicCheck

/// Replacing a file's contents so that a crash leaves the old contents or the new, never half of
/// either: a temporary file beside it, written in full, synced, then renamed over it.
public enum FileWriting {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  public static func replace(_ path: String, with data: Data) throws(Failure) {
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Failure(description: "cannot write `\(path)`: \(String(cString: strerror(errno)))") }
    var ok = writeAll(fd, Array(data))
    ok = ok && fsync(fd) == 0
    close(fd)
    guard ok, rename(temporary, path) == 0 else {
      let why = String(cString: strerror(errno))
      unlink(temporary)
      throw Failure(description: "cannot write `\(path)`: \(why)")
    }
  }

  /// Writes all of `bytes` to `descriptor`, retrying after a signal; false when the descriptor
  /// stops taking them (a closed pipe, a full disk). The one write loop of the project.
  @discardableResult
  public static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
    var written = 0
    while written < bytes.count {
      let n = bytes[written...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { return false }
      written += n
    }
    return true
  }
}
