import Foundation
import Synchronization

/// An exclusive lock on a sim state file (`STATE.lock` beside it, holding the owner's pid), kept
/// until the process exits. A second run says who holds it and waits.
public enum StateLock {
  /// The locks this process holds, by path, with their descriptors.
  static let held = Mutex<[String: Int32]>([:])

  /// `say` tells the operator why it waits, or why the lock cannot be had.
  package static func acquire(for path: String, say: (String) -> Void) -> Bool {
    // Checked and taken under one lock: two callers in this process never open two descriptors.
    held.withLock { held in
      if held[path] != nil { return true }
      guard let fd = take(path, say: say) else { return false }
      held[path] = fd
      return true
    }
  }

  /// Gives the lock back (`rbic mcp` after each run, so a person's `rbic run` on the same state
  /// file is not held up while the server idles). `rbic run` keeps it until it exits.
  public static func release(_ path: String) {
    held.withLock { held in
      if let fd = held.removeValue(forKey: path) { close(fd) }
    }
  }

  /// Gives back every lock this process holds (a command run in process, when it ends).
  public static func releaseAll() {
    held.withLock { held in
      for fd in held.values { close(fd) }
      held.removeAll()
    }
  }

  private static func take(_ path: String, say: (String) -> Void) -> Int32? {
    let lockPath = path + ".lock"
    let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      say("error: cannot lock the sim state `\(path)` (\(String(cString: strerror(errno))))\n")
      return nil
    }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      var buffer = [UInt8](repeating: 0, count: 32)
      let n = pread(fd, &buffer, buffer.count, 0)
      let owner = String(decoding: buffer.prefix(max(0, n)), as: UTF8.self).trimmingCharacters(
        in: .whitespacesAndNewlines)
      say(
        "waiting: another rbic (pid \(owner.isEmpty ? "?" : owner)) is using the sim state `\(path)`\n")
      guard flock(fd, LOCK_EX) == 0 else {
        close(fd)
        return nil
      }
    }
    _ = ftruncate(fd, 0)
    let pid = Array("\(getpid())\n".utf8)
    _ = pwrite(fd, pid, pid.count, 0)
    return fd  // open (and locked) until released or the process exits
  }
}
