import ArgumentParser
import Foundation
import RbicCheck
import RbicRuntime
import RbicTooling

/// `rbic report RUN`: a journaled run as Markdown.
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report", abstract: "Render a journaled run as Markdown.")

  @ArgumentParser.Argument(
    help: "A journal file, or the start of its name in --journal (default .rbic/runs); `last` for the newest.")
  var journalRun: String

  @Option(help: "Where run journals are.")
  var journal: String = ".rbic/runs"

  func run() throws {
    var path = journalRun
    let run = journalRun
    if !FileManager.default.fileExists(atPath: path) {
      let names = ((try? FileManager.default.contentsOfDirectory(atPath: journal)) ?? []).filter {
        $0.hasSuffix(".jsonl")
      }.sorted()
      let matches = run == "last" ? Array(names.suffix(1)) : names.filter { $0.hasPrefix(run) }
      guard matches.count == 1 else {
        Terminal.writeError(
          "error: \(matches.isEmpty ? "no journal matches" : "\(matches.count) journals match") `\(run)` in \(journal)\n"
        )
        throw ExitCode(2)
      }
      path = (journal as NSString).appendingPathComponent(matches[0])
    }
    do {
      Terminal.writeOut(try RunReport.markdown(journalPath: path))
    } catch {
      Terminal.writeError("error: \(error)\n")
      throw ExitCode(2)
    }
  }
}
