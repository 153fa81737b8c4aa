import ArgumentParser
import Foundation
import RbicDiagnostics
import RbicTooling

/// `rbic diff OLD NEW`: what a change to a runbook means operationally.
///
/// OLD and NEW are files or `REF:path` (read with `git show`). As a git diff driver git calls
/// `rbic diff PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE`; set it up with
///
///     echo '*.rb.ic diff=rbic' >> .gitattributes
///     git config diff.rbic.command 'rbic diff'
struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff", abstract: "Show the semantic difference between two versions of a runbook.")

  enum Format: String, ExpressibleByArgument { case text, markdown }

  @ArgumentParser.Argument(help: "OLD NEW (files or REF:path), or git's seven external-diff arguments.")
  var arguments: [String]

  @Option(help: "text, or markdown for a pull request comment.")
  var format: Format = .text

  func run() throws {
    let (oldName, oldSource, newName, newSource): (String, [UInt8]?, String, [UInt8]?)
    switch arguments.count {
    case 2:
      (oldName, oldSource, newName, newSource) = (
        arguments[0], DiffCommand.read(arguments[0]), arguments[1], DiffCommand.read(arguments[1])
      )
    case 7:
      // git's external diff: path old-file old-hex old-mode new-file new-hex new-mode; /dev/null when absent.
      let path = arguments[0]
      (oldName, oldSource) = ("\(path)@\(arguments[2].prefix(7))", DiffCommand.read(arguments[1]))
      (newName, newSource) = ("\(path)@\(arguments[5].prefix(7))", DiffCommand.read(arguments[4]))
    default:
      Terminal.writeError("error: `rbic diff` takes OLD NEW (files or REF:path)\n")
      throw ExitCode(2)
    }
    guard let oldSource else { throw DiffCommand.fail("cannot read `\(oldName)`") }
    guard let newSource else { throw DiffCommand.fail("cannot read `\(newName)`") }
    var files = SourceFiles()
    let old = RunbookSource(path: oldName, bytes: oldSource, into: &files)
    let new = RunbookSource(path: newName, bytes: newSource, into: &files)
    for source in [old, new] where source.hasErrors {
      let renderer = DiagnosticRenderer(files: files, style: .human(colors: Terminal.colorsOnStderr))
      Terminal.writeError(source.errors.map { renderer.render($0) + "\n" }.joined())
      throw DiffCommand.fail("`\(source.path)` has syntax errors; no semantic diff")
    }
    let diff = new.changes(since: old)
    Terminal.writeOut(
      format == .markdown ? diff.markdown(old: oldName, new: newName) : diff.text(old: oldName, new: newName))
  }

  static func fail(_ message: String) -> ExitCode {
    Terminal.writeError("error: \(message)\n")
    return ExitCode(2)
  }

  /// A file, or `REF:path` through `git show` (argv, no shell). `/dev/null` (a file added or
  /// deleted) has no version to compare, so it reads as nothing.
  static func read(_ spec: String) -> [UInt8]? {
    if spec == "/dev/null" { return nil }
    if let data = FileManager.default.contents(atPath: spec) { return Array(data) }
    guard let colon = spec.firstIndex(of: ":") else { return nil }
    let path = String(spec[spec.index(after: colon)...])
    return Git.show(ref: String(spec[..<colon]), path: path)
  }
}

/// The few git operations rbic needs, run as argv subprocesses.
enum Git {
  /// `git show REF:./PATH`: the file as it was at REF (relative to the working directory), or nil.
  static func show(ref: String, path: String) -> [UInt8]? {
    let spec = ref + ":" + (path.hasPrefix("/") || path.hasPrefix("./") ? path : "./" + path)
    return run(["show", spec])
  }

  static func run(_ arguments: [String]) -> [UInt8]? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git"] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    do { try process.run() } catch { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return process.terminationStatus == 0 ? Array(data) : nil
  }
}
