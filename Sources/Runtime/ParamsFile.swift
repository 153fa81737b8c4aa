import Foundation
import RbicCheck
import RbicDiagnostics
import Yams

/// A params file (`--params FILE`): a YAML or JSON mapping of param name to value, each value
/// written in rbic's literal syntax, as `--param NAME=VALUE` takes it (`floor: 5T`,
/// `extra: "aaaaa-aa, 2vxsx-fae"`). A YAML number or boolean is taken as the text it is written as.
///
/// Invariants: every key is a param of the runbook; every value is one scalar (a list is written
/// as `--param` writes it, comma-separated); nothing in it is a secret (a param cannot be a
/// `secret`: a file in a repository is not a secret store). Its path and sha256 are journaled with
/// the run and saved in plans, and a plan is stale once the file's bytes change. Errors are located
/// in the file (`file:line:column`), rendered against `files`.
package struct ParamsFile: Sendable {
  /// The path as given (relative to the project directory).
  package let path: String
  /// The values by param name, as text.
  package let values: [String: String]
  /// The file as a source (for located errors), the files to render them with (the program's
  /// and this one), and its path and sha256 (what is saved in plans and journaled).
  let source: SourceFile
  package let files: SourceFiles
  package let record: InputFile
  /// Where each key and each value is written.
  private let keyRanges: [String: SourceRange]
  private let valueRanges: [String: SourceRange]

  /// The most a params file may hold.
  static let maxBytes = 1 << 20

  /// A located problem with a params file: its diagnostic, and the files to render it with (the
  /// program's and the params file).
  package struct Failure: Error, Sendable {
    package var error: RuntimeError
    package var files: SourceFiles
  }

  /// Reads and parses `path` (relative to the options' project directory; inside `fileRoots` when
  /// the run is confined), registering it in `files` for located errors.
  package static func load(_ path: String, options: RunOptions, files: SourceFiles) throws(Failure) -> ParamsFile {
    var files = files
    func fail(_ message: String) -> Failure {
      let file = files.add(path: path, bytes: [])
      return Failure(error: RuntimeError(.usage, .error(.invalidParam, message, at: file.whole)), files: files)
    }
    guard let data = contents(of: path, options: options) else {
      throw fail("cannot read the params file `\(path)`")
    }
    guard data.count <= maxBytes else {
      throw fail("the params file `\(path)` has \(data.count) bytes, over the \(maxBytes >> 20) MiB limit")
    }
    let source = files.add(path: path, bytes: Array(data))
    func located(_ message: String, _ range: SourceRange) -> Failure {
      Failure(error: RuntimeError(.usage, .error(.invalidParam, message, at: range)), files: files)
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
    } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
      let name = duplicates.first ?? ""
      throw located(
        "`\(name)` is given twice; each param appears once", source.range(at: context.mark, length: name.utf8.count))
    } catch let error as YamlError {
      let (mark, problem) = Self.problem(error)
      throw located("the params file is not YAML or JSON: \(problem)", source.range(at: mark, length: 1))
    } catch {
      throw located("the params file is not YAML or JSON: \(error)", source.whole)
    }
    var values: [String: String] = [:]
    var keyRanges: [String: SourceRange] = [:]
    var valueRanges: [String: SourceRange] = [:]
    switch root {
    case nil: break  // empty, or only comments: no params
    case .mapping(let mapping)?:
      for (key, value) in mapping {
        let keyRange = source.range(of: key)
        guard case .scalar(let k) = key else {
          throw located("a params file's keys are param names, not a \(Self.kind(key))", keyRange)
        }
        let name = k.string
        let valueRange = source.range(of: value)
        switch value {
        case .scalar(let v):
          if v.style == .plain, ["", "~", "null", "Null", "NULL"].contains(v.string) {
            throw located(
              "`\(name)` has no value (YAML null); write `none` for an optional param's none, or quote a text",
              v.string.isEmpty ? keyRange : valueRange)
          }
          values[name] = v.string
        case .sequence:
          throw located(
            "`\(name)` is a list; a value is written as `--param` takes it, a list comma-separated: `\(name): \"a, b\"`",
            valueRange)
        case .mapping, .alias:
          throw located(
            "`\(name)` is a nested \(Self.kind(value)); a params file maps each param to one value", valueRange)
        }
        keyRanges[name] = keyRange
        valueRanges[name] = valueRange
      }
    case let other?:
      throw located(
        "a params file is a mapping of NAME: VALUE, not a \(Self.kind(other))", source.range(of: other))
    }
    return ParamsFile(
      path: path, values: values, source: source, files: files,
      record: InputFile(path: path, bytes: Array(data)), keyRanges: keyRanges,
      valueRanges: valueRanges)
  }

  /// The path and sha256 of the file at `path` now, or nil when it cannot be read (applying a plan
  /// compares it with the plan's).
  package static func record(of path: String, options: RunOptions) -> InputFile? {
    guard let data = contents(of: path, options: options) else { return nil }
    return InputFile(path: path, bytes: Array(data))
  }

  /// Why these values cannot run `program`: a name it has no param for (did you mean), or a value
  /// that is not of its param's type; nil when they can. Values `overridden` by `--param` are not
  /// used, so not checked, but their names must still be params.
  package func problem(for program: CheckedProgram, overridden: Set<String>) -> Failure? {
    func located(_ message: String, _ range: SourceRange?) -> Failure {
      Failure(
        error: RuntimeError(.usage, .error(.invalidParam, message, at: range ?? source.whole)), files: files)
    }
    let known = program.params.map(\.name)
    for name in values.keys.sorted(by: { (keyRanges[$0]?.start ?? 0) < (keyRanges[$1]?.start ?? 0) }) {
      guard let param = program.params.first(where: { $0.name == name }) else {
        let guess = closestMatch(to: name, in: known).map { " (did you mean `\($0)`?)" } ?? ""
        let list = known.isEmpty ? "no params" : known.map { "`\($0)`" }.joined(separator: ", ")
        return located("unknown param `\(name)`\(guess); this runbook takes \(list)", keyRanges[name])
      }
      guard !overridden.contains(name), let text = values[name], ParamParser.parse(text, as: param.type) == nil
      else { continue }
      let why = ParamParser.problem(text, as: param.type).map { ": \($0)" } ?? ""
      return located("`\(name): \(text)` is not a valid `\(param.type)`\(why)", valueRanges[name])
    }
    return nil
  }

  /// The file's bytes: relative paths from the project directory; a confined run
  /// (`RunOptions.fileRoots`) reads nothing outside its roots.
  private static func contents(of path: String, options: RunOptions) -> Data? {
    if let roots = options.fileRoots {
      guard let inside = PathScope(roots: roots).resolveInside(path, from: options.projectDirectory) else {
        return nil
      }
      return FileManager.default.contents(atPath: inside)
    }
    let full = path.hasPrefix("/") ? path : (options.projectDirectory as NSString).appendingPathComponent(path)
    return FileManager.default.contents(atPath: full)
  }

  private static func problem(_ error: YamlError) -> (Mark?, String) {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
      .composer(_, let problem, let mark, _):
      return (mark, problem)
    default:
      return (nil, "\(error)")
    }
  }

  private static func kind(_ node: Node) -> String {
    switch node {
    case .scalar: "value"
    case .sequence: "list"
    case .mapping: "mapping"
    case .alias: "alias"
    }
  }
}

extension SourceFile {
  /// The whole file (empty at its start when it has no bytes).
  fileprivate var whole: SourceRange { SourceRange(file: id, start: 0, end: min(bytes.count, lineEnd(1))) }

  /// Where a YAML node starts, as long as the text it holds (a quoted scalar with its quotes) on
  /// its line.
  fileprivate func range(of node: Node) -> SourceRange {
    let length: Int
    switch node {
    case .scalar(let s): length = s.string.utf8.count + (s.style == .singleQuoted || s.style == .doubleQuoted ? 2 : 0)
    default: length = 1
    }
    return range(at: node.mark, length: max(1, length))
  }

  /// `length` bytes from a YAML mark (1-based line, column in Unicode scalars), clamped to its
  /// line; the file's start when there is no mark or it lies outside the file.
  fileprivate func range(at mark: Mark?, length: Int) -> SourceRange {
    guard let mark, mark.line >= 1, mark.line <= lineStarts.count else { return whole }
    let start = lineStarts[mark.line - 1]
    let end = lineEnd(mark.line)
    let line = String(decoding: bytes[start..<end], as: UTF8.self)
    let offset = start + line.unicodeScalars.prefix(max(0, mark.column - 1)).reduce(0) { $0 + $1.utf8.count }
    return SourceRange(file: id, start: offset, end: min(end, offset + length))
  }
}
