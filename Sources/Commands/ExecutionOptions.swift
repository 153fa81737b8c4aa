import ArgumentParser
import Foundation
import RbicCheck
import RbicRuntime
import RbicTooling

/// Options shared by `run`, `plan`, `repl` and `mcp`.
struct ExecutionOptions: ParsableArguments {
  @Option(
    name: .customLong("param"),
    help: "A runbook param, as NAME=VALUE (repeatable); it overrides the params file's value for NAME.")
  var params: [String] = []

  @Option(
    name: .customLong("params"),
    help: ArgumentHelp(
      "A YAML or JSON file of params, NAME: VALUE, each value as --param takes it; --param overrides it.",
      valueName: "file"))
  var paramsFile: String?

  @Option(help: "The network, overriding `use network`.")
  var network: String?

  @Option(help: "The identity to act as, overriding `use identity`.")
  var identity: String?

  @Option(
    help:
      "Backend: sim (the built-in simulated IC, the default), icp or dfx (on PATH), or auto (icp if installed, else dfx)."
  )
  var backend: BackendChoice?

  @Option(help: "Seconds before an external tool call is stopped (its outcome is then unknown).")
  var timeout: Double = 120

  @Option(help: "The simulated IC's state file; created from the demo world if missing, written back after `run`.")
  var simState: String?

  @Flag(help: "Confirm every mutation and `confirm` without asking.")
  var yes = false

  @Flag(help: "Refuse every mutation.")
  var readOnly = false

  @Option(help: "Where run journals go.")
  var journal: String = ".rbic/runs"

  @Option(help: "Wall-clock time before the run is stopped (e.g. 30min).")
  var timeLimit: String = "6h"

  @Option(help: "Statements, loop iterations and builtin work (a step per element) before the run is stopped.")
  var maxSteps: Int = 50_000_000

  @Option(help: "Threads one run may use, every `parallel for` level together.")
  var maxThreads: Int = 64

  @Option(help: "The most elements one list may hold.")
  var maxListElements: Int = 10_000_000

  @Option(help: "The largest text a run may build (e.g. 64MiB).")
  var maxText: String = "64MiB"

  @Option(help: "The process's resident memory past which the run is stopped (e.g. 4GiB).")
  var maxMemory: String = "4GiB"

  @Option(help: "The most cycles one run may move (e.g. 10T), reserved before each send.")
  var cyclesCeiling: String = "10T"

  @Flag(
    help:
      "Run local effects (`run`, `http_get`) in plan and --read-only too; they are shown, not run, there otherwise.")
  var allowLocalEffects = false

  @Option(
    help:
      "How long an earlier run's unknown outcome may still land (e.g. 10min); until then nothing acts on its canister without an operator's answer."
  )
  var settle: String = "10min"

  @Option(help: "Output: text for people, json for tools (one object at the end).")
  var format: OutputFormat = .text
}

extension ExecutionOptions {
  /// The run options these flags give — params, network, gates, limits — or nil after reporting
  /// the first malformed one. `run`, `plan` and `repl` all take them from here, before anything
  /// (a state file, a lock, a journal) is touched.
  func runOptions(mode: RunOptions.Mode) -> RunOptions? {
    guard let params = parsedParams() else { return nil }
    /// A flag's value read with the language's literal rules for `type`.
    func read(_ text: String, _ flag: String, _ type: RType, _ what: String, like example: String, zero: Bool = false)
      -> Value?
    {
      guard let value = Value(parsing: text, as: type), zero || !value.isZero else {
        Terminal.writeError("error: `\(flag) \(text)` is not \(what) such as \(example)\n")
        return nil
      }
      return value
    }
    guard
      case .cycles(let ceiling)? = read(
        cyclesCeiling, "--cycles-ceiling", .cycles, "an amount of cycles", like: "10T", zero: true),
      case .duration(let settle)? = read(self.settle, "--settle", .duration, "a duration", like: "10min", zero: true),
      case .duration(let limit)? = read(timeLimit, "--time-limit", .duration, "a duration", like: "30min"),
      case .bytes(let text)? = read(maxText, "--max-text", .bytes, "a size", like: "64MiB"),
      case .bytes(let memory)? = read(maxMemory, "--max-memory", .bytes, "a size", like: "4GiB")
    else { return nil }
    guard maxSteps > 0, maxThreads > 0, maxListElements > 0 else {
      Terminal.writeError("error: --max-steps, --max-threads and --max-list-elements must be positive\n")
      return nil
    }
    var run = RunOptions(
      projectDirectory: FileManager.default.currentDirectoryPath, environment: Terminal.environment)
    run.mode = mode
    run.params = params
    run.network = network
    run.yes = yes
    run.readOnly = readOnly
    run.cyclesCeiling = ceiling
    run.allowLocalEffects = allowLocalEffects
    run.settleWindow = Double(settle) / 1e9
    run.timeLimit = Double(limit) / 1e9
    run.maxSteps = maxSteps
    run.maxThreads = maxThreads
    run.maxValueElements = maxListElements
    run.maxTextBytes = Int(text)
    run.maxMemoryBytes = Int(memory)
    return run
  }

  /// `--param NAME=VALUE` pairs, or nil after reporting a malformed one.
  func parsedParams() -> [String: String]? {
    var params: [String: String] = [:]
    for p in self.params {
      guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
        Terminal.writeError("error: `--param \(p)` should be NAME=VALUE\n")
        return nil
      }
      params[String(p[..<eq])] = String(p[p.index(after: eq)...])
    }
    return params
  }
}

extension BackendChoice: ExpressibleByArgument {}
