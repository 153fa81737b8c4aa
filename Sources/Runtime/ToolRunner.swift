import Foundation

/// Runs an external tool (`icp`, `dfx`) for a backend: an argv array, never a shell; the tool found
/// on PATH; `ICP_ENVIRONMENT` and `ICP_NETWORK` removed from the child's environment (they would
/// conflict with the explicit `--network`); stdout and stderr captured through files; a timeout
/// per call; cancellation ends the child.
public struct ToolRunner: Sendable {
  public struct Output: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var seconds: Double
  }

  public var executable: String
  public var timeout: Double
  public var environment: [String: String]
  public var cancellation: Cancellation?
  /// Called after each call (for the journal and progress): argv, exit status, seconds.
  public var record: (@Sendable ([String], Int32, Double) -> Void)?
  /// Called about ten times a second while a call runs (a spinner): the command, seconds so far.
  public var waiting: (@Sendable (String, Double) -> Void)?

  /// Finds `name` on PATH; nil when it is not installed.
  public static func locate(_ name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
    for dir in (path ?? "").split(separator: ":") {
      let candidate = String(dir) + "/" + name
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  public init(
    executable: String, timeout: Double = 120, environment: [String: String] = ProcessInfo.processInfo.environment
  ) {
    self.executable = executable
    self.timeout = timeout
    var env = environment
    env["ICP_ENVIRONMENT"] = nil
    env["ICP_NETWORK"] = nil
    env["NO_COLOR"] = "1"
    self.environment = env
  }

  /// Runs one command. A timeout or a cancellation ends the child; whether that leaves the
  /// outcome unknown is the caller's judgement (it knows whether the call mutates).
  public func run(_ arguments: [String]) throws(BackendError) -> Output {
    let started = Date()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rbic-tool-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = environment
    do {
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      FileManager.default.createFile(atPath: dir.path + "/out", contents: nil)
      FileManager.default.createFile(atPath: dir.path + "/err", contents: nil)
      let out = try FileHandle(forWritingTo: dir.appendingPathComponent("out"))
      let err = try FileHandle(forWritingTo: dir.appendingPathComponent("err"))
      process.standardOutput = out
      process.standardError = err
      process.standardInput = FileHandle.nullDevice
      try process.run()
      var interrupted: String?
      var lastTick = Date.distantPast
      let shown = ([URL(fileURLWithPath: executable).lastPathComponent] + arguments.prefix(3)).joined(separator: " ")
      while process.isRunning {
        if let waiting, Date().timeIntervalSince(lastTick) > 0.1 {
          lastTick = Date()
          waiting(shown, lastTick.timeIntervalSince(started))
        }
        if cancellation?.isCancelled == true { interrupted = "interrupted" }
        if Date().timeIntervalSince(started) > timeout { interrupted = "timed out after \(Int(timeout)) s" }
        if let why = interrupted {
          process.terminate()
          Thread.sleep(forTimeInterval: 0.2)
          if process.isRunning { kill(process.processIdentifier, SIGKILL) }
          process.waitUntilExit()
          record?([executable] + arguments, -1, Date().timeIntervalSince(started))
          throw BackendError.unknownOutcome(
            "`\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.prefix(3).joined(separator: " "))` \(why)"
          )
        }
        Thread.sleep(forTimeInterval: 0.005)
      }
      try out.close()
      try err.close()
    } catch let error as BackendError {
      throw error
    } catch {
      throw .environment("cannot run `\(executable)`: \(error.localizedDescription)")
    }
    let output = Output(
      status: process.terminationStatus,
      stdout: String(decoding: FileManager.default.contents(atPath: dir.path + "/out") ?? Data(), as: UTF8.self),
      stderr: String(decoding: FileManager.default.contents(atPath: dir.path + "/err") ?? Data(), as: UTF8.self),
      seconds: Date().timeIntervalSince(started))
    record?([executable] + arguments, output.status, output.seconds)
    return output
  }
}
