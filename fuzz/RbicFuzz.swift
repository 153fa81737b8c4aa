// libFuzzer entry point over the front end: the bytes are a runbook; it is checked (lexer, parser,
// checker) as a file and as a REPL fragment, and formatted if it parses. The same bytes are a
// `.did` file, a Candid value, and a canister_ids.json for the parsers of each. Any signal is a bug:
// hostile input must end in diagnostics. Built and run by `fuzz/run.sh`, not by `swift build`.
import Foundation
import RbicBuiltins
import RbicCandid
import RbicDiagnostics
import RbicParser
import RbicRuntime

let engine = Engine(registry: .standard)
let project = FileManager.default.temporaryDirectory.path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  for header in [true, false] {
    let program = engine.compile(
      source: bytes, path: project + "/fuzz.rb.ic", options: .init(projectDirectory: project, requireHeader: header))
    _ = DiagnosticRenderer(files: program.files, style: .human(colors: false)).render(program.diagnostics)
  }
  var files = SourceFiles()
  let tree = Parser.parse(files.add(path: "fuzz.rb.ic", bytes: bytes))
  if !tree.diagnostics.hasErrors { _ = Formatter.format(tree) }
  let text = String(decoding: bytes, as: UTF8.self)
  var didFiles = SourceFiles()
  _ = try? CandidEnvironment.parse(text, path: project + "/fuzz.did", into: &didFiles)
  if let values = try? CandidValue.parseArguments(text) {
    _ = try? CandidValue.parseArguments(CandidValue.print(arguments: values))
  }
  if let ids = try? CanisterIDsFile(text: text) { _ = try? ids.setting(name: "user_service", key: "production", to: "p") }
  return 0
}
