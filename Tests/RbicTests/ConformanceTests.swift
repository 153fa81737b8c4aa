import Foundation
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// The conformance corpus (`Conformance/`): outputs `icp` and `dfx` really printed, copied from
/// their repositories with the source and commit. rbic's parsers must read each as the file
/// says, and the test double must print each, per release, so neither can drift from the tools.
@Suite struct ConformanceTests {

  @Test func everyRecordingNamesItsSourceAndWhatRbicMustRead() {
    #expect(RecordedOutput.all.filter { $0.tool == "icp" }.count >= 15)
    #expect(RecordedOutput.all.filter { $0.tool == "dfx" }.count >= 20)
    for r in RecordedOutput.all {
      #expect(r.problems.isEmpty, "\(r.path): \(r.problems)")
      #expect(
        r.value("source").map { $0.wholeMatch(of: /[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+ [^ :]+:\d+(-\d+)?/) != nil }
          == true, "\(r.path): source")
      #expect(r.value("commit").map { $0.wholeMatch(of: /[0-9a-f]{40}/) != nil } == true, "\(r.path): commit")
      #expect(r.path.hasPrefix(r.tool + "/"), "\(r.path): tool")
      for key in ["recorded", "versions", "command", "stream", "exit", "form", "double"] {
        #expect(r.value(key) != nil, "\(r.path): no `\(key)`")
      }
      #expect(["whole", "part"].contains(r.value("form") ?? ""), "\(r.path): form")
      #expect(RecordedReading.kinds.contains(r.parser), "\(r.path): unknown parser `\(r.parser)`")
      #expect(r.parser == "none" || !r.expected.isEmpty, "\(r.path): nothing expected")
      #expect(!r.releases.isEmpty, "\(r.path): versions")
      #expect(!r.text.contains("${"), "\(r.path): a variable without a value")
      if r.value("context") != nil {
        #expect(r.value("context-source") != nil, "\(r.path): context without its source")
      }
    }
  }

  /// rbic's real parser reads the recorded text (in its context, for a part) as the file expects.
  @Test(arguments: RecordedOutput.all.filter { $0.parser != "none" })
  func rbicReadsWhatTheToolPrinted(_ r: RecordedOutput) throws {
    let canister = try #require(Principal(text: r.filled(r.value("canister") ?? "{canister}")))
    let read = RecordedReading.read(
      r.parser, r.printed, tool: r.tool, exit: r.exit, stream: r.stream(in: r.releases.last ?? ""),
      canister: canister)
    for (key, value) in r.expected.sorted(by: { $0.key < $1.key }) {
      #expect(read[key] == value, "\(r.path): \(key) read as \(read[key] ?? "nothing") (\(read))")
    }
  }

  /// The double, posing as the first and the last release the recording applies to, prints it on
  /// the same stream with the same exit status — the whole output modulo ids and numbers, or
  /// containing the part — and rbic reads back the recorded values where the world holds them.
  @Test(arguments: RecordedOutput.all.filter { $0.doubleCommand != nil })
  func theDoublePrintsWhatTheToolPrinted(_ r: RecordedOutput) throws {
    for release in r.releases {
      let situation = try DoubleWorld(r)
      let result = try situation.run(r, release: release)
      let stream = r.stream(in: release)
      let printed = stream == "stderr" ? result.stderr : result.stdout
      #expect(result.status == r.exit, "\(r.path) as \(release): exit \(result.status): \(result.stderr)")
      let shape = OutputShape.of(printed, names: r.names)
      let recorded = OutputShape.of(r.printed, names: r.names)
      if r.isWhole {
        #expect(shape == recorded, "\(r.path) as \(release), \(stream):\n\(printed)\n--- recorded ---\n\(r.printed)")
      } else {
        #expect(
          shape.contains(recorded),
          "\(r.path) as \(release), \(stream):\n\(printed)\n--- recorded part ---\n\(r.printed)")
      }
      guard situation.holdsTheRecordedValues else { continue }
      let canister = try #require(Principal(text: RecordedOutput.canister))
      let back = RecordedReading.read(
        r.parser, printed, tool: r.tool, exit: result.status, stream: stream, canister: canister)
      let original = RecordedReading.read(
        r.parser, r.printed, tool: r.tool, exit: r.exit, stream: stream, canister: canister)
      for key in r.expected.keys.sorted() where key != "class" {
        #expect(back[key] == original[key], "\(r.path) as \(release): \(key) read back as \(back[key] ?? "nothing")")
      }
    }
  }

  @Test func outputShapesCompareIdsAndNumbersByKind() {
    #expect(
      OutputShape.of("Controllers: aaaaa-aa 2vxsx-fae\nBalance: 2_985_407_678_380 Cycles")
        == OutputShape.of("Controllers: 6iu47-dyaaa-aaaaf-qgeza-cai\nBalance: 38_800_000_000 Cycles"))
    #expect(OutputShape.of("Balance: 1.00000000 ICP") == OutputShape.of("Balance: 1.23456780 ICP"))
    #expect(OutputShape.of("Balance: 1E-8 ICP") != OutputShape.of("Balance: 1.23456780 ICP"), "the exponent form")
    #expect(OutputShape.of("topped up with 44_000_000 cycles") != OutputShape.of("topped up with 44000000 cycles"))
    #expect(
      OutputShape.of("[42. 2021-05-06T19:17:10.000000001Z]: hello")
        == OutputShape.of("[7. 2026-01-01T00:00:00Z]: hello"))
    #expect(OutputShape.of("[1. 2026-01-01T00:00:00Z]: hello") != OutputShape.of("[1. 2026-01-01T00:00:00Z]: bye"))
    #expect(OutputShape.of("error code Some(\"IC0301\")") == "error code Some(\"IC0301\")", "codes are words")
    #expect(OutputShape.of("Status: Running") != OutputShape.of("Status: Stopped"))
  }
}

/// The situation in which the double prints a recording: a world (the demo world edited), the
/// identity that calls, and for dfx the identity store it reads.
struct DoubleWorld {
  var state = SimulatedIC.demoWorld
  var identity = RecordedOutput.identity
  /// A plaintext dfx identity `bob` in the double's DFX_CONFIG_ROOT.
  var plaintextBob = false
  /// Whether the world holds the values read from the recording (`world: recorded`).
  var holdsTheRecordedValues = false

  init(_ r: RecordedOutput) throws {
    let c = RecordedOutput.canister
    let situation = r.value("world") ?? "demo"
    switch situation {
    case "demo": break
    case "recorded":
      holdsTheRecordedValues = true
      try seed(r)
    case "icp": state.identities[identity]?.icp_e8s = "10000000000"
    case "no-icp": state.identities[identity]?.icp_e8s = "0"
    case "no-cycles": state.identities[identity]?.cycles_ledger = "0"
    case "not-a-controller": identity = "operator"
    case "missing-canister": state.canisters[c] = nil
    case "stopped": state.canisters[c]?.status = .stopped
    case "one-snapshot":
      state.canisters[c]?.status = .stopped
      state.canisters[c]?.snapshots = [
        .init(
          id: "0000000000000000ffffffffff9000010101", taken_at: 1_755_530_000_000_000_000, module_hash: nil,
          memory: 4096)
      ]
    case "plaintext-identity": plaintextBob = true
    case let s where s.hasPrefix("reply "):
      state.canisters[c]?.replies?[String(s.dropFirst("reply ".count))] = r.text
    default: Issue.record("\(r.path): unknown world `\(situation)`")
    }
  }

  /// Puts the values rbic reads from the recording into the world.
  private mutating func seed(_ r: RecordedOutput) throws {
    let c = RecordedOutput.canister
    let text = r.printed
    switch r.parser {
    case "principal": state.identities[identity]?.principal = try ToolOutput.principal(text, tool: r.tool).text
    case "identity-name":
      let name = try ToolOutput.identityName(text, tool: r.tool)
      state.identities[name] = state.identities[name] ?? state.identities[identity]
      state.identity = name
    case "cycles-balance": state.identities[identity]?.cycles_ledger = String(try ToolOutput.cyclesBalance(text))
    case "dfx-cycles-balance":
      state.identities[identity]?.cycles_ledger = String(try ToolOutput.dfxCyclesBalance(text))
    case "icp-balance": state.identities[identity]?.icp_e8s = String(try ToolOutput.icpBalance(text, tool: r.tool))
    case "dfx-status":
      let s = try ToolOutput.dfxStatus(text, canister: try #require(Principal(text: c)))
      state.canisters[c]?.status = s.status
      state.canisters[c]?.cycles = String(s.cycles)
      state.canisters[c]?.controllers = s.controllers.map(\.text)
      state.canisters[c]?.module_hash = s.moduleHash.map(ValueFormat.hex)
      state.canisters[c]?.memory = s.memory
      state.canisters[c]?.freezing_threshold = s.freezingThreshold
      state.canisters[c]?.reserved_cycles = String(s.reservedCycles)
      state.canisters[c]?.idle_cycles_burned_per_day = String(s.idleBurnPerDay)
      state.canisters[c]?.memory_allocation = s.memoryAllocation
      state.canisters[c]?.reserved_cycles_limit = String(s.reservedCyclesLimit)
      state.canisters[c]?.log_visibility = s.logVisibility
      // Only a controller reads a status: the caller is the first of them.
      state.identities[identity]?.principal = try #require(s.controllers.first).text
    case "dfx-info":
      let info = try ToolOutput.dfxInfo(text)
      state.canisters[c]?.controllers = info.controllers.map(\.text)
      state.canisters[c]?.module_hash = info.moduleHash.map(ValueFormat.hex)
    case "logs": state.canisters[c]?.logs = try ToolOutput.logs(text, tool: r.tool)
    case "metadata":
      state.canisters[c]?.candid_service = try ToolOutput.metadata(
        .init(status: 0, stdout: text, stderr: "", seconds: 0), tool: r.tool, addsNewline: false)
    default: Issue.record("\(r.path): `world: recorded` is not defined for `\(r.parser)`")
    }
  }

  /// Runs the double as `tool`, posing as `release`, with the recording's command (filled in),
  /// in the environment rbic gives a tool.
  func run(_ r: RecordedOutput, release: String) throws -> CLI.Result {
    let dir = try CLI.temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let double = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent(
      "rbic-test-double"
    ).path
    try FileManager.default.createSymbolicLink(atPath: dir + "/" + r.tool, withDestinationPath: double)
    try SimulatedIC(state: state).save(path: dir + "/state.json")
    if plaintextBob {
      let bob = dir + "/.config/dfx/identity/bob"
      try FileManager.default.createDirectory(atPath: bob, withIntermediateDirectories: true)
      try "-----BEGIN EC PRIVATE KEY-----\n-----END EC PRIVATE KEY-----\n".write(
        toFile: bob + "/identity.pem", atomically: true, encoding: .utf8)
    }
    let command = r.filled(r.doubleCommand ?? "", identity: identity)
    return try CLI.run(
      executable: dir + "/" + r.tool, command.split(separator: " ").map(String.init), in: dir,
      environment: [
        "RBIC_SIM_STATE": dir + "/state.json", "RBIC_DOUBLE_VERSION": release, "DFX_CONFIG_ROOT": dir,
        "ICP_HOME": dir + "/icp", "DFX_WARNING": "-deprecation", "NO_COLOR": "1", "TERM": "",
      ], input: nil)
  }
}
