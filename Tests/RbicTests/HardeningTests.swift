import Foundation
import Synchronization
import Testing

@testable import RbicBuiltins
@testable import RbicRuntime

/// Hostile input never gets a signal: a diagnostic (exit 2) or a runtime error, through the real
/// binary, so a crash shows as a crash and not as a dead test runner.
@Suite struct HardeningTests {
  static func write(_ source: String) throws -> String {
    let path = try CLI.temporaryDirectory() + "/hostile.rb.ic"
    try source.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static let header = "runbook \"hostile\" version 1\n"

  @Test func deeplyNestedInterpolationsAreOneDiagnostic() throws {
    let n = 3600
    let path = try Self.write(
      Self.header + "let a = " + String(repeating: "\"{", count: n) + "1" + String(repeating: "}\"", count: n) + "\n")
    for command in [["check"], ["fmt", "--check"], ["run", "--journal", "/dev/null/x"]] {
      let r = try CLI.run(command + [path])
      #expect(r.status == 2, "\(command): \(r.status)")
      #expect(r.stderr.contains("strings are nested deeper than 16 levels"))
    }
    let repl = try CLI.runWithInput(["repl"], input: path)
    #expect(repl.status == 1, "the REPL reports it and goes on")
  }

  @Test func longElseIfChainsAreBoundedByTheNestingBudget() throws {
    let chain = "if false {\n" + String(repeating: "} else if false {\n", count: 20_000) + "}\n"
    let path = try Self.write(Self.header + "step \"s\" {\n" + chain + "}\n")
    for command in [["check"], ["fmt", "--check"]] {
      let r = try CLI.run(command + [path])
      #expect(r.status == 2)
      #expect(r.stderr.contains("nesting is deeper than 64 levels"))
    }
  }

  @Test func hugeByteCountsPrint() throws {
    let path = try Self.write(Self.header + "step \"s\" {\n  let b: bytes = 9_000_000_000_000_000_000\n  print b\n}\n")
    let r = try CLI.run(["run", path, "--journal", CLI.temporaryDirectory()])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("8381903171.5GiB"))
  }

  @Test func recursionThroughNestedParenthesesStaysWithinTheStack() throws {
    let parens = 60
    let path = try Self.write(
      Self.header + "fn f(n: int) -> int {\n  if n <= 0 { return 0 }\n  return " + String(repeating: "(", count: parens)
        + "f(n - 1)" + String(repeating: ")", count: parens) + "\n}\nstep \"s\" {\n  print f(198)\n}\n")
    let r = try CLI.run(["run", path, "--journal", CLI.temporaryDirectory()])
    #expect(r.status == 0, "\(r.status) \(r.stderr)")
  }

  /// `parallel for` inside `parallel for`, 16 × 16 with limits of 16: the run's threads stay
  /// within its one pool (`maxThreads`), where nesting used to multiply them.
  @Test func nestedParallelLoopsShareOneThreadPool() {
    final class Peak: Sendable { let value = Atomic<Int>(0) }
    let peak = Peak()
    var registry = Registry.standard
    registry.register(
      BuiltinSignature(
        "threads", [], result: .int, summary: "this process's thread count",
        body: { [peak] _, _ in
          let n = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
          peak.value.max(n, ordering: .relaxed)
          Thread.sleep(forTimeInterval: 0.002)
          return .int(Int64(n))
        }))
    let source = """
      runbook "nested" version 1
      step "s" {
        parallel for i in range(16) limit 16 {
          parallel for j in range(16) limit 16 {
            let n = threads()
          }
        }
      }
      """
    let before = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    let r = Harness.run(source, registry: registry) {
      $0.yes = true
      $0.maxThreads = 8
    }
    #expect(r.result.exitCode == 0, "\(r.result.failure?.diagnostic.message ?? "")")
    // The interpreter's own thread plus at most 7 workers, on top of what the test process had
    // (other tests run beside this one, so allow their share of noise but not 16 × 16).
    #expect(
      peak.value.load(ordering: .relaxed) - before <= 8 + 24,
      "peak \(peak.value.load(ordering: .relaxed)), before \(before)")
  }
}
