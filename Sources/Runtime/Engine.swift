import Foundation
import RbicCheck
import RbicDiagnostics

/// The embedding API: a host builds an `Engine` with a registry of builtins and actions (the
/// standard set from `RbicBuiltins`, plus its own), then compiles source to a checked program and
/// gets every diagnostic. The `rbic` command uses this API and RbicTooling (the run and REPL
/// sessions, saved plans), which is not part of it, and nothing else.
public final class Engine: Sendable {
  public let registry: Registry

  public struct Options: Sendable {
    /// Where `dfx.json`, `networks.json`, `icp.yaml` and `canister_ids.json` are read from.
    public var projectDirectory: String
    /// The REPL compiles fragments without a `runbook` line.
    public var requireHeader: Bool
    /// Directories imports may also resolve into, beyond the project directory and the main
    /// runbook's directory.
    public var importRoots: [String]
    /// How imported runbooks are read (by their resolved path): the disk by default; an editor
    /// passes one that reads its open buffers first.
    public var loader: @Sendable (String) -> [UInt8]?

    public init(
      projectDirectory: String = FileManager.default.currentDirectoryPath, requireHeader: Bool = true,
      importRoots: [String] = [], loader: @escaping @Sendable (String) -> [UInt8]? = Engine.readFile
    ) {
      self.projectDirectory = projectDirectory
      self.requireHeader = requireHeader
      self.importRoots = importRoots
      self.loader = loader
    }
  }

  public enum CompileError: Error, CustomStringConvertible {
    case cannotRead(String)
    public var description: String {
      switch self {
      case .cannotRead(let path): "cannot read `\(path)`"
      }
    }
  }

  public init(registry: Registry) {
    self.registry = registry
  }

  /// Reads and checks a runbook file and everything it imports.
  public func compile(path: String, options: Options = Options()) throws(CompileError) -> CheckedProgram {
    guard let bytes = Engine.readFile(path) else { throw .cannotRead(path) }
    return compile(source: bytes, path: path, options: options)
  }

  /// Checks source held in memory; `path` names it in diagnostics and anchors relative imports.
  public func compile(source: [UInt8], path: String, options: Options = Options()) -> CheckedProgram {
    let project = ProjectFiles(directory: options.projectDirectory)
    let checker = Checker(
      signatures: registry, project: project, requireHeader: options.requireHeader, loader: options.loader)
    checker.importRoots = options.importRoots
    return checker.checkMain(path: path, bytes: source)
  }

  /// Runs a checked program (it must have no errors). In `plan` mode nothing reaches `backend`'s
  /// mutations: the run goes against `backend.predictor()` (for the sim, a copy of its state; for a
  /// tool, a simulation seeded from its reads).
  public func run(_ program: CheckedProgram, backend: Backend, options: RunOptions) -> RunResult {
    if let first = program.diagnostics.first(where: { $0.severity == .error }) {
      return RunResult(
        runbook: program.main.header?.name ?? "", version: program.main.header?.version ?? 0, mode: options.mode,
        steps: [],
        exitCode: 2, failure: RuntimeError(.failed, first), journalPath: nil)
    }
    let target = options.mode == .plan ? backend.predictor() : backend
    let interpreter = Interpreter(program: program, registry: registry, backend: target, options: options)
    interpreter.attach(backend)
    if target !== backend { interpreter.attach(target) }
    return interpreter.run()
  }

  /// A file's bytes, or nil when it is missing or a directory.
  @Sendable public static func readFile(_ path: String) -> [UInt8]? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
      return nil
    }
    return FileManager.default.contents(atPath: path).map { Array($0) }
  }
}
