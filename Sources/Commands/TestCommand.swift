import ArgumentParser
import Foundation
import RbicBuiltins
import RbicCheck
import RbicDiagnostics
import RbicRuntime
import RbicTooling

/// `rbic test [PATH…]`: runs runbook tests (`NAME.test.yaml` beside `NAME.rb.ic`) on the simulated
/// IC, in the style of `swift test`; `--junit FILE` writes JUnit XML for CI.
struct TestCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test", abstract: "Run runbook tests (NAME.test.yaml) against simulated worlds with injected faults.",
    discussion:
      "Exit 0 when every test passes, 1 when one fails, 2 when a test file or its runbook is malformed (located). The format is described in docs/testing-runbooks.md."
  )

  @ArgumentParser.Argument(
    help:
      "Test files, runbooks (their NAME.test.yaml) or directories (every *.test.yaml below); default: the working directory."
  )
  var paths: [String] = []

  @Option(help: "Run only the tests whose name contains this text.")
  var filter: String?

  @Option(help: "Also write the results as JUnit XML to this file.")
  var junit: String?

  func run() throws {
    let started = Date()
    let (files, missing) = RunbookTests.discover(paths.isEmpty ? ["."] : paths)
    for path in missing {
      Terminal.writeError(
        "error: \(path.hasSuffix(".rb.ic") ? "no tests for `\(path)` (expected \(path.dropLast(6)).test.yaml)" : "cannot read `\(path)`")\n"
      )
    }
    if !missing.isEmpty { throw ExitCode(2) }
    let colors = Terminal.colorsOnStdout
    func paint(_ text: String, _ code: String) -> String { colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    Terminal.writeOut("◇ Test run started.\n")
    var results: [RunbookTests.FileResult] = []
    var malformed = false
    let project = FileManager.default.currentDirectoryPath
    for file in files {
      do {
        let result = try RunbookTests.run(path: file, projectDirectory: project, filter: filter) { c in
          let time = String(format: "%.3f", c.seconds)
          // A test's name and file come from a file in a pull request: shown, never obeyed.
          let name = TerminalText.escaped(c.name)
          if c.passed {
            Terminal.writeOut("\(paint("✔", "32")) Test \"\(name)\" passed after \(time) seconds.\n")
          } else {
            Terminal.writeOut(
              "\(paint("✘", "31")) Test \"\(name)\" failed after \(time) seconds with \(c.issues.count) issue\(c.issues.count == 1 ? "" : "s").\n"
            )
            for issue in c.issues {
              Terminal.writeOut(
                "    \(TerminalText.escaped(c.file)):\(issue.line):\(issue.column): \(TerminalText.escaped(issue.message))\n"
              )
            }
          }
        }
        results.append(result)
      } catch {
        malformed = true
        Terminal.writeError("\(error.description)\n")
      }
    }
    let cases = results.flatMap(\.cases)
    let failed = cases.filter { !$0.passed }
    let time = String(format: "%.3f", Date().timeIntervalSince(started))
    let counted =
      "\(cases.count) test\(cases.count == 1 ? "" : "s") in \(results.count) file\(results.count == 1 ? "" : "s")"
    if failed.isEmpty, !malformed {
      Terminal.writeOut("\(paint("✔", "32")) Test run with \(counted) passed after \(time) seconds.\n")
    } else {
      Terminal.writeOut(
        "\(paint("✘", "31")) Test run with \(counted) failed after \(time) seconds with \(failed.count) failing test\(failed.count == 1 ? "" : "s")\(malformed ? " and malformed test files" : "").\n"
      )
    }
    if let junit {
      do { try FileWriting.replace(junit, with: Data(RunbookTests.junit(results).utf8)) } catch {
        Terminal.writeError("error: cannot write `\(junit)`: \(error)\n")
        throw ExitCode(3)
      }
    }
    if malformed { throw ExitCode(2) }
    if cases.isEmpty, filter == nil {
      Terminal.writeError("error: no tests found (test files are NAME.test.yaml beside NAME.rb.ic)\n")
      throw ExitCode(2)
    }
    throw ExitCode(failed.isEmpty ? 0 : 1)
  }
}
