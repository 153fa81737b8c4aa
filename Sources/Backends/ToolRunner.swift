import Foundation
import RbicCheck
import RbicRuntime
import Subprocess
import Synchronization
import SystemPackage

/// Runs an external tool (`icp`, `dfx`) for a backend through swift-subprocess: an argv array,
/// never a shell; the tool found on PATH; `ICP_ENVIRONMENT` and `ICP_NETWORK` removed from the
/// child's environment (they would conflict with the explicit `--network`); the child in a session
/// (process group) of its own, so a timeout or a cancellation ends it and everything it started
/// (SIGTERM to the group, then SIGKILL).
public struct ToolRunner: Sendable {
  package struct Output: Sendable {
    /// The exit status, or 128 + the signal that ended the tool.
    package var status: Int32
    package var stdout: String
    package var stderr: String
    package var seconds: Double
    /// Whether a signal ended the tool (it may have acted before it died).
    package var signaled = false
  }

  public var executable: String
  public var timeout: Double
  public var environment: [String: String]
  package var cancellation: Cancellation?
  /// Called after each call (progress): argv, exit status, seconds.
  package var record: (@Sendable ([String], Int32, Double) -> Void)?
  /// Called after each call with everything the journal keeps (set by `Backend.begin`).
  package var journal: (@Sendable (ExternalCommand) -> Void)?
  /// Called about ten times a second while a call runs (a spinner): the command, seconds so far.
  package var waiting: (@Sendable (String, Double) -> Void)?

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

  /// Runs one command. A timeout or a cancellation ends the child's process group; whether that
  /// leaves the outcome unknown is the caller's judgement (it knows whether the call mutates).
  /// Blocks the calling thread (the backend protocol is synchronous; callers are the main thread
  /// or a `parallel for` branch thread, never the cooperative pool).
  package func run(_ arguments: [String]) throws(BackendError) -> Output {
    let box = ResultBox<Result<Output, BackendError>>()
    let semaphore = DispatchSemaphore(value: 0)
    let runner = self
    Task.detached {
      box.value = await runner.runAsync(arguments)
      semaphore.signal()
    }
    semaphore.wait()
    guard let result = box.value else { throw .environment("the tool call did not finish") }
    return try result.get()
  }

  enum Race: Sendable {
    case finished(Result<Output, BackendError>)
    case stop(String)
  }

  func runAsync(_ arguments: [String]) async -> Result<Output, BackendError> {
    let started = Date()
    let name = URL(fileURLWithPath: executable).lastPathComponent
    let shown = ([name] + arguments.prefix(3)).joined(separator: " ")
    let env: [Environment.Key: String] = environment.reduce(into: [:]) { env, entry in
      if let key = Environment.Key(rawValue: entry.key) { env[key] = entry.value }
    }
    let executable = self.executable
    let (timeout, cancellation, waiting) = (self.timeout, self.cancellation, self.waiting)
    let outcome = await withTaskGroup(of: Race.self) { group -> Race in
      group.addTask {
        do {
          // A session of its own: the teardown reaches the child and everything it started.
          var platform = PlatformOptions()
          platform.createSession = true
          platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .milliseconds(300))
          ]
          let r = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), environment: .custom(env),
            platformOptions: platform,
            input: .none, output: .string(limit: 64 << 20), error: .string(limit: 64 << 20))
          let (status, signaled): (Int32, Bool) =
            switch r.terminationStatus {
            case .exited(let code): (Int32(code), false)
            case .signaled(let signal): (128 + Int32(signal), true)
            }
          return .finished(
            .success(
              Output(
                status: status, stdout: r.standardOutput ?? "", stderr: r.standardError ?? "",
                seconds: Date().timeIntervalSince(started), signaled: signaled)))
        } catch {
          if Task.isCancelled { return .stop("stopped") }
          // Not started at all, or started and then lost (its output over the cap): only the
          // first proves the command did nothing.
          guard FileManager.default.isExecutableFile(atPath: executable) else {
            return .finished(.failure(.notSent("cannot run `\(executable)`: \(error)")))
          }
          return .finished(.failure(.unknownOutcome("`\(shown)` could not be followed to its end: \(error)")))
        }
      }
      group.addTask {
        // The watchdog: timeout, cancellation, and the progress callback.
        while !Task.isCancelled {
          let elapsed = Date().timeIntervalSince(started)
          if cancellation?.isCancelled == true { return .stop("interrupted") }
          if elapsed > timeout { return .stop("timed out after \(Int(timeout)) s") }
          waiting?(shown, elapsed)
          try? await Task.sleep(for: .milliseconds(100))
        }
        return .stop("stopped")
      }
      let first = await group.next() ?? .stop("stopped")
      group.cancelAll()  // ends the other task: the watchdog, or the child's process group
      while await group.next() != nil {}
      return first
    }
    let argv = [executable] + arguments
    switch outcome {
    case .finished(let result):
      switch result {
      case .success(let output):
        record?(argv, output.status, output.seconds)
        journal?(
          ExternalCommand(
            argv: argv, status: output.status, seconds: output.seconds,
            output: output.stdout + (output.stderr.isEmpty ? "" : "\n[stderr]\n" + output.stderr)))
      case .failure(let error):
        record?(argv, -1, Date().timeIntervalSince(started))
        journal?(
          ExternalCommand(argv: argv, status: -1, seconds: Date().timeIntervalSince(started), output: "\(error)"))
      }
      return result
    case .stop(let why):
      record?(argv, -1, Date().timeIntervalSince(started))
      journal?(ExternalCommand(argv: argv, status: -1, seconds: Date().timeIntervalSince(started), output: why))
      return .failure(.unknownOutcome("`\(shown)` \(why)"))
    }
  }
}

/// A value handed from a task (or a callback queue) to a waiting thread.
package final class ResultBox<T: Sendable>: Sendable {
  private let stored = Mutex<T?>(nil)
  package init() {}
  package var value: T? {
    get { stored.withLock { $0 } }
    set { stored.withLock { $0 = newValue } }
  }
}
