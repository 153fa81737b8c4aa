// libFuzzer entry point over the front end: the bytes are a runbook; it is checked (lexer, parser,
// checker) as a file and as a REPL fragment, and formatted if it parses. Any signal is a bug:
// hostile input must end in diagnostics. Built and run by `fuzz/run.sh`, not by `swift build`.
import Foundation
import RbicBuiltins
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
  return 0
}
