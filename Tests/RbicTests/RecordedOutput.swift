import Foundation
import RbicCandid
import Testing

@testable import RbicBackends
@testable import RbicBuiltins
@testable import RbicCheck
@testable import RbicRuntime

/// One output a tool really printed, copied from the tool's own repository with its provenance
/// (`Tests/RbicTests/Conformance`, whose README describes the format): a header of `key: value`
/// lines, `---`, then the recorded text.
struct RecordedOutput: Sendable, CustomTestStringConvertible {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Conformance")
    .path

  /// Every recording, `icp/…` then `dfx/…`, by file name.
  static let all: [RecordedOutput] = ["icp", "dfx"].flatMap { tool in
    let dir = root + "/" + tool
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".txt") }
    return names.sorted().map { name in
      RecordedOutput(
        path: tool + "/" + name, contents: (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? "")
    }
  }

  /// The demo world's user-service canister and CI identity, which `{canister}` and `{identity}` name.
  static let canister = "6iu47-dyaaa-aaaaf-qgeza-cai"
  static let identity = "github-ci"

  let path: String
  let header: [(key: String, value: String)]
  /// The recorded text as the file holds it (`${NAME}` stands for a variable of the recording).
  let body: String
  /// What is wrong with the file's layout, if anything.
  let problems: [String]

  var testDescription: String { path }

  init(path: String, contents: String) {
    self.path = path
    var header: [(String, String)] = []
    var problems: [String] = []
    var lines = contents.split(separator: "\n", omittingEmptySubsequences: false)[...]
    var sawSeparator = false
    while let line = lines.popFirst() {
      if line == "---" {
        sawSeparator = true
        break
      }
      guard let colon = line.firstRange(of: ": ") else {
        problems.append("not `key: value`: \(line)")
        continue
      }
      header.append((String(line[..<colon.lowerBound]), String(line[colon.upperBound...])))
    }
    if !sawSeparator { problems.append("no `---` line") }
    var text = lines.joined(separator: "\n")
    if text.hasSuffix("\n") { text.removeLast() }
    self.header = header
    self.body = text
    self.problems = problems
  }

  func value(_ key: String) -> String? { header.first { $0.key == key }?.value }
  func values(_ key: String) -> [String] { header.filter { $0.key == key }.map(\.value) }

  /// `name = value` lines of `key`.
  func pairs(_ key: String) -> [String: String] {
    var out: [String: String] = [:]
    for line in values(key) {
      guard let eq = line.firstRange(of: " = ") else { continue }
      out[String(line[..<eq.lowerBound])] = String(line[eq.upperBound...])
    }
    return out
  }

  var tool: String { value("tool") ?? "" }
  var expected: [String: String] { pairs("expect") }
  var parser: String { value("parse") ?? "" }
  var isWhole: Bool { value("form") == "whole" }
  var exit: Int32 { value("exit").flatMap { Int32($0) } ?? 0 }
  /// Canister names of the recording that stand where rbic passes a canister's id.
  var names: [String] { values("names") }

  /// `{canister}`, `{identity}` and the recording's `${NAME}` variables, filled in.
  func filled(_ text: String, identity: String = RecordedOutput.identity) -> String {
    var text = text.replacingOccurrences(of: "{canister}", with: Self.canister).replacingOccurrences(
      of: "{identity}", with: identity)
    for (name, value) in pairs("vars") { text = text.replacingOccurrences(of: "${\(name)}", with: value) }
    return text
  }

  /// The recorded text with its variables filled in.
  var text: String { filled(body) }

  /// The text as the tool prints it: a part of the output inside its context from the tool's
  /// source (`{}` is the recording), or the recording itself.
  var printed: String {
    guard let context = value("context") else { return text }
    return filled(context.replacingOccurrences(of: "\\n", with: "\n")).replacingOccurrences(of: "{}", with: text)
  }

  /// The first and last releases the recording applies to (`HEAD`: icp's unreleased changes).
  var releases: [String] {
    let range = (value("versions") ?? "").components(separatedBy: "...")
    guard let first = range.first, let last = range.last else { return [] }
    return first == last ? [first] : [first, last]
  }

  /// The stream the text is on in `release`: `stdout`, or per range
  /// (`stderr (0.25.0...0.31.0), stdout (0.32.0...0.32.0)`).
  func stream(in release: String) -> String {
    let spec = value("stream") ?? ""
    for part in spec.components(separatedBy: ", ") {
      guard let open = part.firstIndex(of: "(") else { return part }
      let name = part[..<open].trimmingCharacters(in: .whitespaces)
      let bounds = part[part.index(after: open)...].dropLast().components(separatedBy: "...")
      guard let version = ToolBackend.Version(release), let low = bounds.first.flatMap(ToolBackend.Version.init),
        let high = bounds.last.flatMap(ToolBackend.Version.init)
      else { continue }
      if low <= version, version <= high { return name }
    }
    return spec
  }

  /// The double's command for this output: nil for `none: …`.
  var doubleCommand: String? {
    guard let command = value("double"), !command.hasPrefix("none") else { return nil }
    return command
  }
}

/// rbic's parsers, by the name a recording gives (`parse:`), each giving what it read as
/// `name → value` text, or the class of the error it threw (`class`).
enum RecordedReading {
  static func read(_ kind: String, _ text: String, tool: String, exit: Int32, stream: String, canister: Principal)
    -> [String: String]
  {
    do throws(BackendError) {
      return try values(kind, text, tool: tool, exit: exit, stream: stream, canister: canister)
    } catch {
      return ["class": className(error)]
    }
  }

  static func className(_ error: BackendError) -> String {
    switch error {
    case .notController: "notController"
    case .notFound: "notFound"
    case .reject: "reject"
    case .insufficientFunds: "insufficientFunds"
    case .unknownOutcome: "unknownOutcome"
    case .environment: "environment"
    case .unsupported: "unsupported"
    case .notSent: "notSent"
    }
  }

  static let kinds: Set<String> = [
    "version", "principal", "identity-name", "cycles-balance", "dfx-cycles-balance", "icp-balance", "minted",
    "dfx-status", "dfx-info", "logs", "dfx-snapshot-id", "dfx-snapshots", "metadata", "created-canister", "candid",
    "wallet-send", "failure", "none",
  ]

  private static func values(
    _ kind: String, _ text: String, tool: String, exit: Int32, stream: String, canister: Principal
  ) throws(BackendError) -> [String: String] {
    switch kind {
    case "version":
      guard let version = ToolOutput.version(text, tool: tool), let t = ToolBackend.Tool(rawValue: tool) else {
        return ["class": "environment"]
      }
      return ["version": "\(version)", "supported": version >= t.minimum ? "yes" : "no"]
    case "principal": return ["principal": try ToolOutput.principal(text, tool: tool).text]
    case "identity-name": return ["name": try ToolOutput.identityName(text, tool: tool)]
    case "cycles-balance": return ["cycles": String(try ToolOutput.cyclesBalance(text))]
    case "dfx-cycles-balance": return ["cycles": String(try ToolOutput.dfxCyclesBalance(text))]
    case "icp-balance": return ["e8s": String(try ToolOutput.icpBalance(text, tool: tool))]
    case "minted": return ["cycles": String(try ToolOutput.minted(text, tool: tool))]
    case "dfx-status":
      let s = try ToolOutput.dfxStatus(text, canister: canister)
      return [
        "status": s.status.rawValue, "cycles": String(s.cycles),
        "controllers": s.controllers.map(\.text).joined(separator: " "),
        "module-hash": s.moduleHash.map(ValueFormat.hex) ?? "none", "memory": String(s.memory),
        "freezing-threshold": String(s.freezingThreshold), "reserved-cycles": String(s.reservedCycles),
        "idle-burn": String(s.idleBurnPerDay), "memory-allocation": String(s.memoryAllocation),
        "reserved-cycles-limit": String(s.reservedCyclesLimit), "log-visibility": s.logVisibility.rawValue,
      ]
    case "dfx-info":
      let info = try ToolOutput.dfxInfo(text)
      return [
        "controllers": info.controllers.map(\.text).joined(separator: " "),
        "module-hash": info.moduleHash.map(ValueFormat.hex) ?? "none",
      ]
    case "logs":
      var out = ["count": ""]
      let records = try ToolOutput.logs(text, tool: tool)
      out["count"] = String(records.count)
      for (i, r) in records.enumerated() {
        out["\(i).index"] = String(r.index)
        out["\(i).timestamp"] = String(r.timestamp)
        out["\(i).content"] = r.content
      }
      return out
    case "dfx-snapshot-id": return ["id": try ToolOutput.dfxSnapshotID(text)]
    case "dfx-snapshots":
      let list = try ToolOutput.dfxSnapshots(text)
      var out = ["count": String(list.count)]
      for (i, s) in list.enumerated() { out["\(i).id"] = s.id }
      return out
    case "metadata":
      let output = ToolRunner.Output(
        status: exit, stdout: stream == "stdout" ? text : "", stderr: stream == "stderr" ? text : "", seconds: 0)
      let addsNewline = ToolBackend.Tool(rawValue: tool).map { ToolDialect.of($0).metadataAddsNewline } ?? false
      return ["text": try ToolOutput.metadata(output, tool: tool, addsNewline: addsNewline) ?? "none"]
    case "created-canister":
      guard let id = ToolOutput.createdCanister(text) else { return ["class": "environment"] }
      return ["principal": id.text]
    case "candid":
      do throws(CandidFailure) {
        return ["value": CandidValue.print(arguments: try CandidValue.parseArguments(text))]
      } catch {
        return ["class": "environment"]
      }
    case "wallet-send":
      try ToolOutput.walletSendReply(text)
      return ["result": "ok"]
    case "failure":
      let error = ToolOutput.failure(
        .init(status: exit, stdout: "", stderr: text, seconds: 0), tool: tool, canister: canister, identity: "ci")
      var out = ["class": className(error)]
      if case .reject(let code, _) = error { out["code"] = code }
      return out
    default: return [:]
    }
  }
}

/// What a tool prints, compared modulo ids and numbers: principals (a list of them as one),
/// `0x…` hashes and long hex ids, times, and numbers are replaced by their kind — a number by its
/// form (grouped with `_`, decimal, exponent or plain digits) — and everything else must match.
enum OutputShape {
  static func of(_ text: String, names: [String] = []) -> String {
    var s = text
    for name in names { s = s.replacingOccurrences(of: name, with: "<principal>") }
    s = replace(#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, in: s) { _ in "<time>" }
    s = replace(#"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"#, in: s) { _ in "<time>" }
    s = replace(#"(?<![a-z0-9-])[a-z0-9]{5}(-[a-z0-9]{5})*-[a-z0-9]{1,5}(?![a-z0-9-])"#, in: s) {
      Principal(text: $0) == nil ? $0 : "<principal>"
    }
    s = replace(#"<principal>((, | )<principal>)*"#, in: s) { _ in "<principals>" }
    s = replace(#"0x[0-9a-fA-F]+"#, in: s) { _ in "<hex>" }
    s = replace(#"(?<![0-9A-Za-z_])(?=[0-9]*[a-f])[0-9a-f]{16,}(?![0-9A-Za-z_])"#, in: s) { _ in "<hex>" }
    // A number keeps its form: grouped with `_` (`<n_>`), decimal, exponent, or plain.
    s = replace(#"(?<![0-9A-Za-z_.])[0-9][0-9_]*(\.[0-9]+)?(E-?[0-9]+)?(?![0-9A-Za-z_])"#, in: s) {
      $0.contains("E") ? "<nEn>" : $0.contains(".") ? "<n.n>" : $0.contains("_") ? "<n_>" : "<n>"
    }
    return s.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Each match of `pattern` (ICU syntax) replaced by `transform` of its text.
  static func replace(_ pattern: String, in text: String, _ transform: (String) -> String) -> String {
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
    var out = ""
    var last = text.startIndex
    for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
      guard let range = Range(match.range, in: text) else { continue }
      out += text[last..<range.lowerBound] + transform(String(text[range]))
      last = range.upperBound
    }
    return out + text[last...]
  }
}
