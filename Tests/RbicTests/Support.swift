import Foundation
import RbicBuiltins
import RbicCheck
import RbicCommands
import RbicDiagnostics
import RbicParser
import RbicRuntime
import Synchronization
import Testing

/// Paths and helpers shared by the tests.
enum Corpus {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus").path
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  /// `*.rb.ic` files directly in a corpus folder (helpers live in `lib/` below it).
  static func runbooks(in folder: String) -> [String] {
    let dir = root + "/" + folder
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return names.filter { $0.hasSuffix(".rb.ic") }.sorted().map { folder + "/" + $0 }
  }

  static var good: [String] { runbooks(in: "good") }
  static var bad: [String] { runbooks(in: "bad") + runbooks(in: "bad-project") }

  static func read(_ relative: String) -> [UInt8] {
    Array(FileManager.default.contents(atPath: root + "/" + relative) ?? Data())
  }

  /// Checks a corpus runbook with its own folder as the project directory.
  static func compile(_ relative: String) -> CheckedProgram {
    let path = root + "/" + relative
    let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    return Engine(registry: .standard).compile(
      source: read(relative), path: path, options: Engine.Options(projectDirectory: directory))
  }

  /// Diagnostics in tool format with corpus-relative paths.
  static func render(_ program: CheckedProgram) -> String {
    DiagnosticRenderer(files: program.files, style: .tool).render(program.diagnostics)
      .replacingOccurrences(of: root + "/", with: "")
  }

  /// Compares `actual` with the golden file next to the case; `RBIC_UPDATE_GOLDENS=1` rewrites it.
  /// A missing golden fails.
  static func expectGolden(
    _ actual: String, _ goldenRelative: String, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let path = root + "/" + goldenRelative
    if ProcessInfo.processInfo.environment["RBIC_UPDATE_GOLDENS"] == "1" {
      FileManager.default.createFile(atPath: path, contents: Data(actual.utf8))
      return
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      Issue.record(
        "missing golden \(goldenRelative); run with RBIC_UPDATE_GOLDENS=1 to create it", sourceLocation: sourceLocation)
      return
    }
    #expect(String(decoding: data, as: UTF8.self) == actual, "golden \(goldenRelative)", sourceLocation: sourceLocation)
  }
}

/// Runs the built `rbic` binary as a real subprocess.
enum CLI {
  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static var binary: String {
    let candidates = [
      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rbic").path,
      Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("rbic").path,
      Corpus.repository + "/.build/debug/rbic",
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[2]
  }

  /// `rbic arguments…` in `directory`: in this process (`CommandLine.run(_:in:)`: output
  /// captured, nothing on standard input, no terminal), unless it needs an environment of its own.
  /// Those drive the tools (the test double on a PATH of their own), and a tool call waits on
  /// Swift's cooperative pool, which a test blocked here would starve; they run as processes.
  static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws
    -> Result
  {
    guard environment.isEmpty else { return try runProcess(arguments, in: directory, environment: environment) }
    let r = CommandLine.run(arguments, in: directory ?? Corpus.repository)
    return Result(status: r.status, stdout: r.stdout, stderr: r.stderr)
  }

  /// `rbic arguments…` as a process of its own: for what only a process has (its environment,
  /// signals, being killed, a terminal, several at once).
  static func runProcess(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:])
    throws -> Result
  {
    try run(executable: binary, arguments, in: directory, environment: environment, input: nil)
  }

  /// Runs with standard input read from a file (no terminal).
  static func runWithInput(_ arguments: [String], input: String) throws -> Result {
    try run(executable: binary, arguments, in: Corpus.repository, environment: [:], input: input)
  }

  /// `git -C directory arguments…`
  @discardableResult
  static func git(_ directory: String, _ arguments: [String]) throws -> Result {
    try run(executable: "/usr/bin/env", ["git", "-C", directory] + arguments, in: nil, environment: [:], input: nil)
  }

  /// Output goes to files, not pipes: a child that fills one pipe while we drain the other
  /// would deadlock.
  static func run(
    executable: String, _ arguments: [String], in directory: String?, environment: [String: String], input: String?
  ) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    // The repository unless told: never whatever directory a command run in process is in now.
    process.currentDirectoryURL = URL(fileURLWithPath: directory ?? Corpus.repository)
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let dir = try temporaryDirectory()
    FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
    process.standardOutput = out
    process.standardError = err
    process.standardInput =
      try input.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return Result(
      status: process.terminationStatus,
      stdout: String(decoding: FileManager.default.contents(atPath: dir + "/out") ?? Data(), as: UTF8.self),
      stderr: String(decoding: FileManager.default.contents(atPath: dir + "/err") ?? Data(), as: UTF8.self))
  }

  /// A fresh temporary directory.
  static func temporaryDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rbic-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }
}

/// A number a host builtin or action (running on interpreter threads) updates and a test reads.
final class SharedCounter: Sendable {
  let value = Atomic<Int>(0)
}
