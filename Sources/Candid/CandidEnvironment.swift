import Foundation
import RbicDiagnostics

/// A checked `.did` program: its definitions (its imports' included), its main service's methods
/// with their function types resolved, and the service constructor's arguments. Loading checks
/// what the Candid reference checks: unbound and duplicate names, definitions that are cyclic
/// without going through a constructor, label hash collisions, methods that are not functions,
/// `oneway` functions with results, and the rules for imported services.
package struct CandidEnvironment: Sendable {
  package private(set) var definitions: [String: CandidType] = [:]
  package private(set) var methods: [(name: String, function: CandidFunction)] = []
  package private(set) var constructorArguments: [CandidType]?
  package private(set) var hasService = false
  /// Where each definition was written (the imported files' too), to check them all.
  private var boundRanges: [(name: String, range: SourceRange)] = []
  /// Each method's index in `methods`, by name, and the method names by their label hash (two
  /// names with one hash are a duplicate): a service of N methods is checked in O(N), not O(N²).
  private var methodIndex: [String: Int] = [:]
  private var methodHashes: [UInt32: String] = [:]
  /// What each definition means past its chain of names (`type a = b; type b = record {…}`),
  /// computed once by `check`: a chain of N names costs O(N) to resolve, not O(N) per name.
  private var resolved: [String: CandidType] = [:]

  package func method(_ name: String) -> CandidFunction? { methodIndex[name].map { methods[$0].function } }

  /// Adds a method, unless one with the same label hash is already there (returns false).
  private mutating func addMethod(_ name: String, _ function: CandidFunction) -> Bool {
    let hash = CandidLabel.idlHash(name)
    guard methodHashes[hash] == nil else { return false }
    methodHashes[hash] = name
    methodIndex[name] = methods.count
    methods.append((name, function))
    return true
  }

  /// Loads `path` and everything it imports (paths relative to the importing file); every file
  /// read is added to `files`, so a diagnostic can be rendered.
  /// `displayPath` is how diagnostics name the main file (default: `path`).
  /// `mayRead` decides which files its imports may read (given each path as written, joined to the
  /// importing file's directory; the caller resolves it): a runbook's import
  /// passes the checker's import roots, so a nested import stays in the project too.
  package static func load(
    path: String, displayPath: String? = nil, into files: inout SourceFiles,
    mayRead: (String) -> Bool = { _ in true }
  ) throws(CandidFailure) -> CandidEnvironment {
    if path.hasSuffix(".wasm") { return try module(path: path, displayPath: displayPath ?? path, into: &files) }
    var env = CandidEnvironment()
    var seen: Set<String> = []
    guard
      let main = try env.read(
        path, importedFrom: nil, seen: &seen, files: &files, display: displayPath, mayRead: mayRead)
    else {
      let file = files.add(path: path, bytes: [])
      throw CandidFailure(
        diagnostic: .error(.candidImport, "cannot read `\(path)`", at: SourceRange(file: file.id, start: 0, end: 0)))
    }
    try env.check(main)
    return env
  }

  /// The interface a module carries in its `candid:service` metadata (what `ic-wasm … metadata
  /// candid:service` attached), checked like a `.did` file.
  static func module(path: String, displayPath: String, into files: inout SourceFiles) throws(CandidFailure)
    -> CandidEnvironment
  {
    func fail(_ message: String) -> CandidFailure {
      let file = files.add(path: displayPath, bytes: [])
      return CandidFailure(diagnostic: .error(.candidImport, message, at: SourceRange(file: file.id, start: 0, end: 0)))
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read `\(displayPath)`") }
    let sections: [String: (isPublic: Bool, bytes: [UInt8])]
    do throws(ModuleMetadata.Failure) { sections = try ModuleMetadata.sections(Array(data)) } catch {
      throw fail("`\(displayPath)` is \(error.description)")
    }
    guard let candid = sections["candid:service"] else {
      throw fail("`\(displayPath)` has no candid:service metadata (attach it with `ic-wasm … metadata candid:service`)")
    }
    return try parse(
      String(decoding: candid.bytes, as: UTF8.self), path: displayPath + " (candid:service)", into: &files)
  }

  /// Checks a `.did` text held in memory (imports resolve against `path`'s directory; `mayRead`
  /// decides which files they may read — none, by default: a canister's published interface
  /// never makes rbic read a local file).
  package static func parse(
    _ text: String, path: String = "<candid>", into files: inout SourceFiles, mayRead: (String) -> Bool = { _ in false }
  ) throws(CandidFailure) -> CandidEnvironment {
    var env = CandidEnvironment()
    let file = files.add(path: path, bytes: Array(text.utf8))
    let parsed = try DidParser.parse(file)
    var seen: Set<String> = []
    try env.bind(
      parsed, directory: (path as NSString).deletingLastPathComponent, seen: &seen, files: &files, mayRead: mayRead)
    try env.check(parsed)
    return env
  }

  private mutating func read(
    _ path: String, importedFrom: SourceRange?, seen: inout Set<String>, files: inout SourceFiles,
    display: String? = nil, mayRead: (String) -> Bool
  ) throws(CandidFailure) -> DidFile? {
    let full = URL(fileURLWithPath: path).standardizedFileURL.path
    guard !seen.contains(full) else { return nil }
    seen.insert(full)
    guard let data = FileManager.default.contents(atPath: full) else {
      guard let importedFrom else { return nil }
      throw CandidFailure(
        diagnostic: .error(.candidImport, "cannot import \"\(path)\": no such file", at: importedFrom))
    }
    let file = files.add(path: display ?? path, bytes: Array(data))
    let parsed = try DidParser.parse(file)
    try bind(
      parsed, directory: (path as NSString).deletingLastPathComponent, seen: &seen, files: &files, mayRead: mayRead)
    return parsed
  }

  /// Adds a file's definitions and its imports' (an imported service's methods too).
  private mutating func bind(
    _ parsed: DidFile, directory: String, seen: inout Set<String>, files: inout SourceFiles,
    mayRead: (String) -> Bool
  ) throws(CandidFailure) {
    for i in parsed.imports {
      let target = i.path.hasPrefix("/") ? i.path : (directory as NSString).appendingPathComponent(i.path)
      // As written, joined to the importing file's directory: `mayRead` resolves it (one rule).
      guard mayRead(target) else {
        throw CandidFailure(
          diagnostic: .error(
            .candidImport, "cannot import \"\(i.path)\": outside what this interface may read", at: i.range))
      }
      guard let imported = try read(target, importedFrom: i.range, seen: &seen, files: &files, mayRead: mayRead) else {
        continue
      }
      guard i.isService else { continue }
      guard let actor = imported.actor else {
        throw CandidFailure(
          diagnostic: .error(.candidImport, "imported service file \"\(i.path)\" has no main service", at: i.range))
      }
      guard actor.arguments == nil else {
        throw CandidFailure(
          diagnostic: .error(
            .candidImport, "imported service file \"\(i.path)\" has a service constructor", at: i.range))
      }
      for m in try serviceMethods(actor.type, at: i.range) {
        guard addMethod(m.name, try function(m.type, method: m.name, at: i.range)) else {
          throw CandidFailure(
            diagnostic: .error(.candidImport, "duplicate imported method name `\(m.name)`", at: i.range))
        }
      }
    }
    for d in parsed.definitions {
      guard definitions[d.name] == nil else {
        throw CandidFailure(diagnostic: .error(.candidType, "duplicate binding for \(d.name)", at: d.range))
      }
      definitions[d.name] = d.type
      boundRanges.append((d.name, d.range))
    }
  }

  private mutating func check(_ parsed: DidFile) throws(CandidFailure) {
    resolveDefinitions()
    // Every definition, the imported files' too, where it was written.
    for (name, range) in boundRanges {
      guard let type = definitions[name] else { continue }
      try wellFormed(type, at: range)
      try acyclic(name, at: range)
    }
    guard let actor = parsed.actor else { return }
    hasService = true
    constructorArguments = actor.arguments
    for t in actor.arguments ?? [] { try wellFormed(t, at: actor.range) }
    for m in try serviceMethods(actor.type, at: actor.range) {
      let at = parsed.methodRanges[m.name] ?? actor.range
      guard methodHashes[CandidLabel.idlHash(m.name)] == nil else {
        throw CandidFailure(diagnostic: .error(.candidType, "duplicate method name `\(m.name)`", at: at))
      }
      try wellFormed(m.type, at: at)
      _ = addMethod(m.name, try function(m.type, method: m.name, at: at))
    }
  }

  /// Fills `resolved`: each definition followed through its chain of names, every name on a
  /// chain answered by the one walk. Chains that end unbound or loop are left out; `resolve`
  /// walks those and reports them.
  private mutating func resolveDefinitions() {
    var table: [String: CandidType] = [:]
    for name in definitions.keys where table[name] == nil {
      var chain: [String] = []
      var onChain: Set<String> = []
      var t = CandidType.named(name)
      var end: CandidType?
      while true {
        guard case .named(let n) = t else {
          end = t
          break
        }
        if let known = table[n] {
          end = known
          break
        }
        guard let next = definitions[n], onChain.insert(n).inserted else { break }
        chain.append(n)
        t = next
      }
      if let end { for n in chain { table[n] = end } }
    }
    resolved = table
  }

  /// The methods of a service type (written out, or a name for one).
  private func serviceMethods(_ type: CandidType, at range: SourceRange) throws(CandidFailure) -> [CandidMethod] {
    switch try resolve(type, at: range) {
    case .service(let methods): return methods
    case let other:
      throw CandidFailure(diagnostic: .error(.candidType, "not a service type: \(other)", at: range))
    }
  }

  private func function(_ type: CandidType, method: String, at range: SourceRange) throws(CandidFailure)
    -> CandidFunction
  {
    guard case .function(let f) = try resolve(type, at: range) else {
      throw CandidFailure(diagnostic: .error(.candidType, "method \(method) is a non-function type", at: range))
    }
    if f.modes.contains(.oneway), !f.results.isEmpty {
      throw CandidFailure(diagnostic: .error(.candidType, "oneway function has non-unit return type", at: range))
    }
    return f
  }

  /// Whether a value of `type` may be left out (a record field, a trailing argument or result):
  /// `opt`, `null` and `reserved` read a missing value as `null`.
  package func mayBeAbsent(_ type: CandidType) -> Bool {
    switch try? resolve(type) {
    case .opt?, .null?, .reserved?: true
    default: false
    }
  }

  /// A name followed to what it means (through chains of names).
  package func resolve(_ type: CandidType, at range: SourceRange? = nil) throws(CandidFailure) -> CandidType {
    if case .named(let name) = type, let known = resolved[name] { return known }
    var t = type
    var hops = 0
    while case .named(let name) = t {
      guard let next = definitions[name] else {
        throw CandidFailure(
          diagnostic: .error(
            .candidType, "unbound type identifier \(name)", at: range ?? SourceRange(file: FileID(0), start: 0, end: 0))
        )
      }
      t = next
      hops += 1
      guard hops <= definitions.count else {
        throw CandidFailure(
          diagnostic: .error(
            .candidType, "\(name) has cyclic type definition",
            at: range ?? SourceRange(file: FileID(0), start: 0, end: 0)))
      }
    }
    return t
  }

  private func acyclic(_ name: String, at range: SourceRange) throws(CandidFailure) {
    _ = try resolve(.named(name), at: range)
  }

  /// Every name bound, no two labels of a record or variant with one hash, methods functions.
  private func wellFormed(_ type: CandidType, at range: SourceRange) throws(CandidFailure) {
    switch type {
    case .named(let name):
      guard definitions[name] != nil else {
        throw CandidFailure(diagnostic: .error(.candidType, "unbound type identifier \(name)", at: range))
      }
    case .opt(let t), .vec(let t): try wellFormed(t, at: range)
    case .record(let fields), .variant(let fields):
      var seen: [UInt32: CandidLabel] = [:]
      for f in fields {
        if let other = seen[f.label.hash] {
          throw CandidFailure(
            diagnostic: .error(.candidType, "label '\(f.label)' hash collision with '\(other)'", at: range))
        }
        seen[f.label.hash] = f.label
        try wellFormed(f.type, at: range)
      }
    case .function(let f):
      for t in f.arguments + f.results { try wellFormed(t, at: range) }
      if f.modes.contains(.oneway), !f.results.isEmpty {
        throw CandidFailure(diagnostic: .error(.candidType, "oneway function has non-unit return type", at: range))
      }
    case .service(let methods):
      var names: Set<String> = []
      for m in methods {
        guard names.insert(m.name).inserted else {
          throw CandidFailure(diagnostic: .error(.candidType, "duplicate method name `\(m.name)`", at: range))
        }
        try wellFormed(m.type, at: range)
        _ = try function(m.type, method: m.name, at: range)
      }
    default: break
    }
  }
}
