import Foundation
import RbicBackends
import RbicRuntime

/// What `--backend` names.
public enum BackendChoice: String, CaseIterable, Sendable {
  case sim, icp, dfx, auto
}

/// The backend a command runs on, as its flags name it: the simulated IC (from the demo world or
/// a state file, locked while a run writes it), or `icp`/`dfx` on PATH, verified and with the
/// identity resolved; `auto` with both tools installed is icp first and dfx for what icp lacks.
/// `rbic run`, `plan`, `repl` and `mcp` all make theirs here.
public struct BackendSetup: Sendable {
  public var choice: BackendChoice
  /// `--sim-state`: created from the demo world if missing, written back after a run that changes it.
  package var simState: String?
  /// `--identity` and `--network`: they override the runbook's `use` lines.
  package var identity: String?
  package var network: String?
  /// Seconds before a tool call is stopped.
  package var timeout: Double
  package var projectDirectory: String
  /// The environment the tools run with, and whose PATH they are found on.
  package var environment: [String: String]
  /// Called about ten times a second while a tool call runs (the command, seconds so far), and
  /// after each call (argv, exit status, seconds): the command's progress line.
  public var waiting: (@Sendable (String, Double) -> Void)?
  public var finished: (@Sendable ([String], Int32, Double) -> Void)?
  /// Tells the operator something while setting up (waiting for another run's lock).
  package var say: @Sendable (String) -> Void

  public init(
    choice: BackendChoice, simState: String?, identity: String?, network: String?, timeout: Double,
    projectDirectory: String, environment: [String: String], say: @escaping @Sendable (String) -> Void
  ) {
    self.environment = environment
    self.choice = choice
    self.simState = simState
    self.identity = identity
    self.network = network
    self.timeout = timeout
    self.projectDirectory = projectDirectory
    self.say = say
  }

  /// A backend made, and the simulated IC's state file when it is one.
  public struct Made {
    public let backend: Backend
    /// Nil on icp and dfx.
    public let sim: SimState?
  }

  /// The simulated IC a command runs on, and where its state is kept (nil: the demo world, kept
  /// in memory).
  public struct SimState {
    let sim: SimulatedIC
    package let path: String?

    /// Writes the state back to its file (atomically); nothing without one.
    public func save() throws {
      if let path { try sim.save(path: path) }
    }
  }

  /// The backend, for a runbook whose `use` lines name `identity` and `network` (nil: none); or
  /// why it cannot be used (the command exits 3). `writesState`: the run may change the sim's
  /// state, so its file is locked until the process ends and written after every mutation.
  public func make(identity programIdentity: String?, network programNetwork: String?, writesState: Bool = false)
    -> Result<Made, BackendSetupFailure>
  {
    switch choice {
    case .sim: return makeSim(identity: programIdentity, writesState: writesState)
    case .icp, .dfx, .auto: return makeTools(identity: programIdentity, network: programNetwork)
    }
  }

  func makeSim(identity programIdentity: String?, writesState: Bool) -> Result<Made, BackendSetupFailure> {
    var state = SimulatedIC.demoWorld
    // A run that writes the state holds its lock from before it reads it until it exits, so two
    // runs on one file never lose each other's updates.
    if writesState, let path = simState, !StateLock.acquire(for: path, say: say) {
      return .failure(BackendSetupFailure(message: "cannot lock the sim state `\(path)`", said: true))
    }
    if let path = simState, FileManager.default.fileExists(atPath: path) {
      do { state = try SimulatedIC.load(path: path) } catch let error as SimulatedIC.StateError {
        // It names the file and the place in it already.
        return .failure(BackendSetupFailure(message: "cannot read the sim state \(error)"))
      } catch {
        return .failure(BackendSetupFailure(message: "cannot read the sim state `\(path)`: \(error)"))
      }
    }
    let sim = SimulatedIC(state: state, identity: identity ?? programIdentity ?? state.identity)
    if writesState, let path = simState {
      sim.persistPath = path  // written after every mutation, atomically
      do { try sim.save(path: path) } catch {
        return .failure(BackendSetupFailure(message: "\(error)"))
      }
    }
    return .success(Made(backend: sim, sim: SimState(sim: sim, path: simState)))
  }

  func makeTools(identity programIdentity: String?, network programNetwork: String?) -> Result<
    Made, BackendSetupFailure
  > {
    let net = network ?? programNetwork ?? "local"
    // auto with both tools installed: icp first, dfx for what icp lacks.
    let path = environment["PATH"]
    let both =
      choice == .auto && ToolRunner.locate("icp", path: path) != nil && ToolRunner.locate("dfx", path: path) != nil
    let tools: [ToolBackend.Tool] =
      both
      ? [.icp, .dfx]
      : [choice == .auto ? (ToolRunner.locate("icp", path: path) != nil ? .icp : .dfx) : (choice == .icp ? .icp : .dfx)]
    var backends: [ToolBackend] = []
    for tool in tools {
      guard let executable = ToolRunner.locate(tool.rawValue, path: path) else {
        let how = tool == .icp ? "install icp-cli (npm i -g @icp-sdk/icp-cli)" : "install dfx (dfxvm)"
        return .failure(BackendSetupFailure(message: "`\(tool.rawValue)` is not on PATH; \(how) or use --backend sim"))
      }
      var runner = ToolRunner(executable: executable, timeout: timeout, environment: environment)
      runner.waiting = waiting
      runner.record = finished
      do {
        let version = try ToolBackend.verify(tool, runner)
        // Never the tool's defaults: the identity is named on every command, resolved here
        // when neither the runbook nor --identity names one.
        let who = try identity ?? programIdentity ?? ToolBackend.defaultIdentity(tool, runner)
        backends.append(
          try ToolBackend(
            tool, runner: runner, network: net, identity: who, projectDirectory: projectDirectory, version: version))
      } catch {
        return .failure(BackendSetupFailure(message: "\(error)"))
      }
    }
    guard backends.count == 2 else { return .success(Made(backend: backends[0], sim: nil)) }
    // The tools keep separate identity stores: the same name may be two different keys.
    do {
      let (p1, p2) = (try backends[0].identityPrincipal(), try backends[1].identityPrincipal())
      guard p1 == p2 else {
        return .failure(
          BackendSetupFailure(
            message:
              "icp and dfx disagree on identity `\(backends[0].identityName)`: icp acts as \(p1.text), dfx as \(p2.text) (they keep separate identity stores); use --backend icp or --backend dfx, or import the same key into both"
          ))
      }
    } catch {
      return .failure(BackendSetupFailure(message: "\(error)"))
    }
    return .success(Made(backend: FallbackBackend(primary: backends[0], secondary: backends[1]), sim: nil))
  }
}

/// Why a backend cannot be used.
public struct BackendSetupFailure: Error, CustomStringConvertible {
  public var message: String
  /// Whether the operator was already told (through `say`).
  public var said = false
  public var description: String { message }
}
