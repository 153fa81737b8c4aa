import Foundation
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// Every supported release of each tool, through the double posing as it: a runbook touching
/// status (a canister rbic controls and one it does not), install, cycles (wallet or top-up), a
/// snapshot and logs converges and is idempotent, the run header names the release, and what
/// changed between releases behaves as that release does — icp 1.0 burns a deleted canister's
/// cycles and takes no `--root-key` word, icp 1.0–1.3 print logs as JSON and HEAD as lines, dfx
/// 0.25–0.31 print snapshots on stderr and 0.32 on stdout, dfx before 0.31 colours its errors
/// (or crashes, with TERM=dumb) whenever TERM names a terminal.
@Suite struct ToolVersionMatrixTests {
  struct Release: Sendable, CustomTestStringConvertible {
    let tool: String
    /// What RBIC_DOUBLE_VERSION says (`HEAD`: icp's unreleased changes after 1.3.0).
    let name: String
    var testDescription: String { "\(tool) \(name)" }
    /// What `--version` prints, so what the run header names.
    var printed: String { name == "HEAD" ? "1.3.0" : name }
    var version: ToolBackend.Version { ToolBackend.Version(printed) ?? ToolBackend.Version(0, 0, 0) }
  }

  static let releases: [Release] =
    ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "HEAD"].map { Release(tool: "icp", name: $0) }
    + ["0.25.0", "0.26.0", "0.27.0", "0.28.0", "0.29.0", "0.30.2", "0.31.0", "0.32.0"].map {
      Release(tool: "dfx", name: $0)
    }

  static let user = "6iu47-dyaaa-aaaaf-qgeza-cai"
  static let idle = "mwutv-4iaaa-aaaac-behda-cai"
  /// A canister the run's identity does not control (the operator's).
  static let theirs = "bkyz2-fmaaa-aaaaa-qaaaq-cai"

  static let runbook = """
    runbook "matrix" version 1
    use network ic

    param wasm: path = "demo/user_service_with_metadata.wasm"

    let c: canister = \(user)
    let w: wallet = wdhec-2yaaa-aaaao-a6dgq-cai
    let theirs: canister = \(theirs)
    let build_hash = sha256(wasm)

    step "Upgrade" on c {
      ensure hash == build_hash via install wasm
    }

    step "Cycles" on c {
      ensure cycles >= 1T via wallet w or top_up
    }

    step "Snapshot" on c {
      if snapshots(c).count > 0 { skip "a snapshot exists" }
      ensure status == stopped via stop
      on failure { ensure status == running via start }
      let taken = take_snapshot(c)
      require snapshots(c).count == 1
      ensure status == running via start
    }

    step "Logs" on c {
      for r in logs(c) { print "log {r.index}: {r.message}" }
    }

    step "Someone else's" on theirs {
      require controllers.count == 1
      require hash != none
    }
    """

  static let deletion = """
    runbook "delete" version 1
    use network ic
    step "Delete" {
      delete_canister(\(idle))
    }
    """

  @Test(arguments: releases)
  func aRunbookConvergesOnEveryRelease(_ release: Release) throws {
    let s = try ToolBackendTests.Setup(release.tool) { world in
      world.canisters[Self.user]?.logs = [
        .init(index: 7, timestamp: 1_755_530_000_000_000_000, content: "started"),
        .init(index: 8, timestamp: 1_755_530_000_123_456_789, content: "two\nlines"),
      ]
      world.canisters[Self.idle]?.status = .stopped
      var theirs = SimulatedIC.demoWorld.canisters[Self.idle]
      theirs?.controllers = [SimulatedIC.demoWorld.identities["operator"]?.principal ?? ""]
      world.canisters[Self.theirs] = theirs
    }
    try Self.runbook.write(toFile: s.dir + "/matrix.rb.ic", atomically: true, encoding: .utf8)
    try Self.deletion.write(toFile: s.dir + "/delete.rb.ic", atomically: true, encoding: .utf8)
    // TERM=dumb: a dfx before 0.31 that saw it would crash printing the not-a-controller error.
    let environment = s.environment.merging(["RBIC_DOUBLE_VERSION": release.name, "TERM": "dumb"]) { $1 }
    func run() throws -> CLI.Result {
      try CLI.run(
        [
          "run", s.dir + "/matrix.rb.ic", "--backend", release.tool, "--identity", "github-ci", "--yes", "--journal",
          s.dir + "/runs",
        ], in: Corpus.repository, environment: environment)
    }
    let first = try run()
    #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
    #expect(
      first.stdout.contains("on `ic` as `github-ci` (backend: \(release.tool) \(release.printed))"),
      "the header names the release: \(first.stdout)")
    #expect(first.stdout.contains("Recap: 3 changed, 2 ok"), "\(first.stdout)")
    #expect(first.stdout.contains("log 7: started") && first.stdout.contains("log 8: two\nlines"), "\(first.stdout)")
    let user = try #require(s.world.canisters[Self.user])
    #expect(user.module_hash == ValueFormat.hex(Harness.wasmHash) && user.status == .running)
    #expect(user.snapshots?.count == 1 && (ToolOutput.number(user.cycles) ?? 0) >= 1_000_000_000_000)
    let second = try run()
    #expect(second.status == 0 && second.stdout.contains("Recap: 0 changed"), "converged: \(second.stdout)")

    // A delete's question says where the cycles go, as this release deletes.
    let plan = try CLI.run(
      ["plan", s.dir + "/delete.rb.ic", "--backend", release.tool, "--identity", "github-ci"], in: s.dir,
      environment: environment)
    let burns = release.tool == "icp" && release.version < ToolBackend.Version(1, 1, 0)
    let phrase: DeletedCycles =
      release.tool == "dfx" ? .toWalletOrIdentity : burns ? .burned("icp \(release.printed)") : .toIdentity
    #expect(plan.stdout.contains(phrase.phrase), "\(plan.stdout)\(plan.stderr)")

    // The outputs that differ between releases are the ones the run read.
    let tool = s.dir + "/bin/" + release.tool
    let common = ["--network", "ic", "--identity", "github-ci"]
    let direct = environment.filter { $0.key != "ICP_NETWORK" }  // rbic removes it; the double refuses it
    if release.tool == "icp" {
      let logs = try CLI.run(
        executable: tool, ["canister", "logs", Self.user] + common, in: s.dir, environment: direct, input: nil)
      #expect(logs.stdout.hasPrefix(release.name == "HEAD" ? "[7. " : "{\"log_records\""), "\(logs.stdout)")
    } else {
      let list = try CLI.run(
        executable: tool, ["canister", "snapshot", "list", Self.user] + common, in: s.dir, environment: direct,
        input: nil)
      let onStdout = release.version >= ToolBackend.Version(0, 32, 0)
      #expect((onStdout ? list.stdout : list.stderr).contains(": "), "\(list)")
      #expect(!(onStdout ? list.stderr : list.stdout).contains(" taken at "), "\(list)")
    }
  }

  /// `--root-key fetch` (a network given as a URL) is refused before anything runs on icp 1.0,
  /// which takes a hex key only — as the double, posing as 1.0, refuses it too — and passed on
  /// from 1.1.
  @Test(arguments: releases.filter { $0.tool == "icp" })
  func theRootKeyWordNeedsIcp11(_ release: Release) async throws {
    try await ToolLifecycleTests.offPool {
      let (icp, _) = try ToolLifecycleTests.backend(.icp)
      var runner = icp.runner
      runner.environment["RBIC_DOUBLE_VERSION"] = release.name
      let version = try ToolBackend.verify(.icp, runner)
      #expect(version == release.version)
      let make = { () throws(BackendError) -> ToolBackend in
        try ToolBackend(
          .icp, runner: runner, network: "http://127.0.0.1:4943", identity: "github-ci", rootKey: "fetch",
          version: version)
      }
      let direct = try runner.run(["canister", "status", Self.user, "--json", "--network", "x", "--root-key", "fetch"])
      if release.version < ToolBackend.Version(1, 1, 0) {
        #expect(throws: BackendError.self) { try make() }
        #expect(direct.status == 2 && direct.stderr.contains("invalid value 'fetch' for '--root-key"))
      } else {
        let backend = try make()
        #expect(try backend.status(Principal(text: Self.user)!).status == .running)
        #expect(direct.status == 0, "\(direct.stderr)")
      }
    }
  }
}
