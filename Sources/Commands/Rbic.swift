import ArgumentParser
import Foundation
import RbicBuiltins
import RbicCheck
import RbicRuntime
import RbicTooling
import Synchronization

/// The `rbic` command line, as a library: `main.swift` only calls `CommandLine.run()`, so tests
/// and hosts can reach every command in process.
extension CommandLine {
  /// Parses the process's arguments, runs the command and exits with its code.
  public static func run() {
    // A reader that goes away (`| head`) must not kill a run mid-mutation: writes then fail and
    // are dropped (`Terminal`), while the run and its journal complete.
    signal(SIGPIPE, SIG_IGN)
    Foundation.exit(Rbic.execute(Array(arguments.dropFirst())))
  }

  /// What one command line printed, and its exit code.
  public struct Captured: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// Runs one command line in this process, as `rbic` would in `directory` with `environment`
  /// (the process's when nil), nothing on standard input and no terminal: what it prints is
  /// captured, not written. The working directory, standard input and the sim state's locks are
  /// the process's, so calls run one at a time and each gives them back (the tests' way to the
  /// commands without starting a process).
  public static func run(_ arguments: [String], in directory: String, environment: [String: String]? = nil)
    -> Captured
  {
    inProcess.withLock { _ in
      let previous = FileManager.default.currentDirectoryPath
      let savedInput = dup(STDIN_FILENO)
      let empty = open("/dev/null", O_RDONLY | O_CLOEXEC)
      if empty >= 0 {
        dup2(empty, STDIN_FILENO)
        close(empty)
      }
      FileManager.default.changeCurrentDirectoryPath(directory)
      Terminal.startCapture(environment: environment ?? ProcessInfo.processInfo.environment)
      let status = Rbic.execute(arguments)
      let (stdout, stderr) = Terminal.endCapture()
      StateLock.releaseAll()
      FileManager.default.changeCurrentDirectoryPath(previous)
      if savedInput >= 0 {
        dup2(savedInput, STDIN_FILENO)
        close(savedInput)
      }
      return Captured(status: status, stdout: stdout, stderr: stderr)
    }
  }

  private static let inProcess = Mutex<Void>(())
}

/// The `rbic` command: a thin layer over the `Rbic` libraries.
///
/// Exit codes: 0 success; 1 the runbook failed, or `fmt --check` found unformatted files; 2 a
/// static error or bad usage; 3 an environment or tool error; 4 refused by a safety gate (or a
/// stale saved plan); 5 `plan --exit-code` with changes pending; 130 interrupted.
struct Rbic: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rbic",
    abstract: "A typed runbook language for Internet Computer operations.",
    discussion: """
      The reference: `rbic help builtins` and `rbic help actions` (generated from the registry), and docs/language.md. Shell completion: `rbic --generate-completion-script bash|zsh|fish`.
      Exit codes: 0 success; 1 the runbook failed (or `fmt --check` found unformatted files); 2 a static error or bad usage; 3 an environment or tool error; 4 refused by a safety gate (or a stale saved plan); 5 `plan --exit-code` with changes pending; 130 interrupted.
      """,
    version: "rbic \(Rbic.version)",
    subcommands: [
      CheckCommand.self, FormatCommand.self, RunCommand.self, PlanCommand.self, ReportCommand.self, DocCommand.self,
      DiffCommand.self, ReplCommand.self, CandidCommand.self, TestCommand.self, LspCommand.self, McpCommand.self,
    ])

  /// The release, printed by `rbic --version`.
  static let version = "0.4.0"

  /// Runs one command line; its exit code.
  static func execute(_ arguments: [String]) -> Int32 {
    // `rbic help builtins|actions`: the reference, from the registry (argument parser's own
    // `help` covers the commands).
    if arguments.count == 2, arguments[0] == "help", let topic = Reference.Topic(rawValue: arguments[1]) {
      Terminal.writeOut(Reference.markdown(topic, registry: .standard))
      return 0
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      return 0
    } catch let exit as ExitCode {
      return exit.rawValue
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if !message.isEmpty {
        // Help and the version are what was asked for: standard output. Errors: standard error.
        if code == .success { Terminal.writeOut(message + "\n") } else { Terminal.writeError(message + "\n") }
      }
      // Bad usage is exit 2, as for a static error; help and version requests stay 0.
      return code == .success ? 0 : (code.rawValue == 64 || code == .validationFailure ? 2 : code.rawValue)
    }
  }
}
