import Foundation
import RbicBuiltins
import RbicCandid
import RbicCheck
import RbicDiagnostics
import RbicLexer
import RbicParser
import RbicRuntime

/// `rbic lsp`: the Language Server Protocol over stdio. Every open document is checked on open and
/// on each change with the same checker `rbic check` uses, and its diagnostics are published; hover,
/// completion, go-to-definition (across imports), document symbols and formatting answer from
/// the last check. One thread: requests are answered in order, and a change is checked before the
/// next request is read.
public final class LanguageServer {
  let reader: MessageReader
  let writer: MessageWriter
  let registry: Registry
  /// The workspace root (from `initialize`): where `canister_ids.json`, `dfx.json` and `icp.yaml`
  /// are read, as `rbic check` reads them from its working directory.
  var root: String?
  var documents: [String: Document] = [:]
  /// URIs other than a document's own that its last check published diagnostics to (its imports).
  var published: [String: Set<String>] = [:]
  var initialized = false
  var shuttingDown = false

  struct Document {
    var uri: String
    var path: String
    var bytes: [UInt8]
    var version: Int?
    var analysis: Analysis?
  }

  /// The last check of a document.
  struct Analysis {
    var program: CheckedProgram
    var table: LineTable
    var file: SourceFile
  }

  /// The release the server reports in `initialize`.
  let version: String

  public init(input: Int32, output: Int32, registry: Registry = .standard, version: String) {
    self.version = version
    reader = MessageReader(fd: input)
    writer = MessageWriter(fd: output)
    self.registry = registry
  }

  /// Serves until `exit`: 0 after `shutdown`, 1 when the client exits (or goes away) without it.
  public func run() -> Int32 {
    while true {
      switch reader.next() {
      case .end: return shuttingDown ? 0 : 1
      case .malformed(let why):
        writer.send(RPCMessage(id: .null, error: RPCError(code: RPCError.parseError, message: why)))
      case .message(let data):
        guard let message = try? JSONDecoder().decode(RPCMessage.self, from: data) else {
          writer.send(
            RPCMessage(id: .null, error: RPCError(code: RPCError.parseError, message: "the message is not JSON-RPC")))
          continue
        }
        if message.method == "exit" { return shuttingDown ? 0 : 1 }
        handle(message)
      }
    }
  }

  func handle(_ message: RPCMessage) {
    guard let method = message.method else { return }  // a response to a request we never send
    let params = message.params ?? .null
    if let id = message.id {
      let reply: Result<JSONValue, RPCError>
      if !initialized, method != "initialize" {
        reply = .failure(RPCError(code: RPCError.serverNotInitialized, message: "initialize first"))
      } else {
        reply = request(method, params)
      }
      switch reply {
      case .success(let result): writer.send(RPCMessage(id: id, result: result))
      case .failure(let error): writer.send(RPCMessage(id: id, error: error))
      }
    } else if initialized {
      notification(method, params)
    }
  }

  func request(_ method: String, _ params: JSONValue) -> Result<JSONValue, RPCError> {
    func decode<T: Decodable>(_ type: T.Type) -> Result<T, RPCError> {
      guard let value = params.decode(type) else {
        return .failure(RPCError(code: RPCError.invalidParams, message: "invalid params for \(method)"))
      }
      return .success(value)
    }
    switch method {
    case "initialize":
      initialized = true
      root = rootPath(params)
      return .success(capabilities)
    case "shutdown":
      shuttingDown = true
      return .success(.null)
    case "textDocument/hover":
      return decode(PositionParams.self).map { p in hover(p).map { JSONValue.from($0) } ?? .null }
    case "textDocument/completion":
      return decode(PositionParams.self).map { JSONValue.from(completion($0)) }
    case "textDocument/definition":
      return decode(PositionParams.self).map { p in definition(p).map { JSONValue.from($0) } ?? .null }
    case "textDocument/documentSymbol":
      return decode(DocumentParams.self).map { JSONValue.from(symbols($0.textDocument.uri)) }
    case "textDocument/formatting":
      return decode(DocumentParams.self).map { JSONValue.from(formatting($0.textDocument.uri)) }
    default:
      return .failure(RPCError(code: RPCError.methodNotFound, message: "rbic lsp does not handle \(method)"))
    }
  }

  func notification(_ method: String, _ params: JSONValue) {
    switch method {
    case "textDocument/didOpen":
      guard let p = params.decode(DidOpenParams.self) else { return }
      let path = Self.path(of: p.textDocument.uri)
      documents[p.textDocument.uri] = Document(
        uri: p.textDocument.uri, path: path, bytes: Array(p.textDocument.text.utf8), version: p.textDocument.version)
      check(p.textDocument.uri)
    case "textDocument/didChange":
      guard let p = params.decode(DidChangeParams.self), var doc = documents[p.textDocument.uri] else { return }
      for change in p.contentChanges {
        if let range = change.range {
          let table = LineTable(doc.bytes)
          let start = table.offset(range.start)
          let end = max(start, table.offset(range.end))
          doc.bytes.replaceSubrange(start..<end, with: Array(change.text.utf8))
        } else {
          doc.bytes = Array(change.text.utf8)
        }
      }
      doc.version = p.textDocument.version
      documents[p.textDocument.uri] = doc
      check(p.textDocument.uri)
    case "textDocument/didSave":
      guard let p = params.decode(DocumentParams.self) else { return }
      check(p.textDocument.uri)
    case "textDocument/didClose":
      guard let p = params.decode(DocumentParams.self) else { return }
      documents[p.textDocument.uri] = nil
      for uri in (published[p.textDocument.uri] ?? []).union([p.textDocument.uri]) {
        publish(PublishDiagnosticsParams(uri: uri, version: nil, diagnostics: []))
      }
      published[p.textDocument.uri] = nil
    default:
      break  // initialized, $/cancelRequest, workspace notifications: nothing to do
    }
  }

  var capabilities: JSONValue {
    .object([
      "capabilities": .object([
        "textDocumentSync": .object([
          "openClose": .bool(true), "change": .number(2), "save": .object(["includeText": .bool(false)]),
        ]),
        "hoverProvider": .bool(true),
        "completionProvider": .object(["triggerCharacters": .array([".", "\"", " "].map(JSONValue.string))]),
        "definitionProvider": .bool(true),
        "documentSymbolProvider": .bool(true),
        "documentFormattingProvider": .bool(true),
      ]),
      "serverInfo": .object(["name": .string("rbic"), "version": .string(version)]),
    ])
  }

  func rootPath(_ params: JSONValue) -> String? {
    if let uri = params["rootUri"]?.string { return Self.path(of: uri) }
    if let path = params["rootPath"]?.string { return path }
    if case .array(let folders)? = params["workspaceFolders"], let uri = folders.first?["uri"]?.string {
      return Self.path(of: uri)
    }
    return nil
  }

  static func path(of uri: String) -> String {
    if let url = URL(string: uri), url.isFileURL { return url.path }
    return uri
  }

  /// A file's URI, its path normalised (`lib/./x.rb.ic`, `sub/../x.rb.ic`), as editors name it.
  static func realPath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }

  static func uri(of path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.absoluteString }

  // MARK: - Checking and diagnostics

  /// The largest document the server checks: the front end's limit on a runbook. A larger one
  /// gets one diagnostic saying so, and no analysis (no symbols, hover or completion from it).
  static let maxDocumentBytes = Lexer.maxSourceBytes

  func check(_ uri: String) {
    guard var doc = documents[uri] else { return }
    guard doc.bytes.count <= Self.maxDocumentBytes else {
      doc.analysis = nil
      documents[uri] = doc
      let start = Position(line: 0, character: 0)
      let message =
        "a runbook is at most \(Self.maxDocumentBytes >> 20) MiB; this document has \(doc.bytes.count) bytes, so rbic does not check it"
      publish(
        PublishDiagnosticsParams(
          uri: uri, version: doc.version,
          diagnostics: [
            LSPDiagnostic(
              range: LSPRange(start: start, end: start), severity: 1, code: DiagnosticCode.sourceTooLarge.rawValue,
              message: message)
          ]))
      return
    }
    let directory = root ?? (doc.path as NSString).deletingLastPathComponent
    // Imports are read from the editor's buffers when they are open (unsaved edits count).
    let buffers = Dictionary(
      documents.values.map { (Self.realPath($0.path), $0.bytes) }, uniquingKeysWith: { a, _ in a })
    let program = Engine(registry: registry).compile(
      source: doc.bytes, path: doc.path,
      options: .init(
        projectDirectory: directory, loader: { path in buffers[Self.realPath(path)] ?? Engine.readFile(path) }))
    let file =
      program.files.files.first { $0.path == doc.path } ?? SourceFile(id: FileID(0), path: doc.path, bytes: doc.bytes)
    doc.analysis = Analysis(program: program, table: LineTable(doc.bytes), file: file)
    documents[uri] = doc

    var byURI: [String: [LSPDiagnostic]] = [uri: []]
    // An imported file open in the editor has its own buffer and its own check: this check (which
    // read the file from disk) does not speak for it.
    let open = Set(documents.keys.map { Self.uri(of: Self.path(of: $0)) })
    var tables: [FileID: LineTable] = [:]
    for d in program.diagnostics {
      guard d.range.file.raw >= 0, d.range.file.raw < program.files.files.count else { continue }
      let source = program.files[d.range.file]
      let target = source.path == doc.path ? uri : Self.uri(of: source.path)
      if target != uri, open.contains(target) { continue }
      byURI[target, default: []].append(lsp(d, program.files, &tables))
    }
    let others = Set(byURI.keys).subtracting([uri])
    for stale in (published[uri] ?? []).subtracting(others) where !open.contains(stale) { byURI[stale] = [] }
    published[uri] = others
    for (target, list) in byURI.sorted(by: { $0.key < $1.key }) {
      publish(PublishDiagnosticsParams(uri: target, version: target == uri ? doc.version : nil, diagnostics: list))
    }
  }

  func publish(_ p: PublishDiagnosticsParams) {
    writer.send(RPCMessage(method: "textDocument/publishDiagnostics", params: JSONValue.from(p)))
  }

  /// A diagnostic as the protocol's; `tables` keeps each file's line table for the whole check.
  func lsp(_ d: Diagnostic, _ files: SourceFiles, _ tables: inout [FileID: LineTable]) -> LSPDiagnostic {
    func table(_ id: FileID) -> LineTable {
      if let t = tables[id] { return t }
      let t = LineTable(files[id].bytes)
      tables[id] = t
      return t
    }
    func location(_ r: SourceRange) -> Location? {
      guard r.file.raw >= 0, r.file.raw < files.files.count else { return nil }
      return Location(uri: Self.uri(of: files[r.file].path), range: table(r.file).range(r))
    }
    let table = table(d.range.file)
    let related = d.labels.compactMap { l in
      location(l.range).map { LSPDiagnostic.Related(location: $0, message: l.text) }
    }
    let severity =
      switch d.severity {
      case .error: 1
      case .warning: 2
      default: 3
      }
    return LSPDiagnostic(
      range: table.range(d.range), severity: severity, code: d.code.rawValue, message: d.messageWithNotes,
      relatedInformation: related.isEmpty ? nil : related)
  }
}
