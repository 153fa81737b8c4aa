import Foundation
import RbicDiagnostics
import RbicParser

var files = SourceFiles()
let path = CommandLine.arguments[1]
let f = files.add(path: path, bytes: Array(FileManager.default.contents(atPath: path)!))
let tree = Parser.parse(f)
print(SyntaxDump.dump(tree))
print(DiagnosticRenderer(files: files, style: .human(colors: false)).render(tree.diagnostics))
