import Foundation
import Yams

/// The project files of a working directory, read in one place for the checker and the backends:
/// networks from `dfx.json` (`networks`), `networks.json` and `icp.yaml` (`networks` and
/// `environments`), and canister ids from `canister_ids.json`.
public struct ProjectFiles: Sendable {
  /// A network name and the file that defines it.
  public struct Network: Hashable, Sendable {
    public var name: String
    public var source: String
  }

  public var directory: String
  /// `local` and `ic` first, then the project's own.
  public private(set) var networks: [Network] = [
    Network(name: "local", source: "built in"), Network(name: "ic", source: "built in"),
  ]
  /// Problems reading the files, as `(file, message)`; a missing file is not a problem.
  public private(set) var problems: [(file: String, message: String)] = []
  /// `canister_ids.json`: canister name → key (network or `production`-style label) → principal text.
  public private(set) var canisterIDs: [String: [String: String]] = [:]

  public init(directory: String) {
    self.directory = directory
    readDfxJSON()
    readNetworksJSON()
    readIcpYAML()
    readCanisterIDs()
  }

  public var networkNames: [String] { networks.map(\.name) }

  public func isKnownNetwork(_ name: String) -> Bool { networks.contains { $0.name == name } }

  private func contents(_ name: String) -> Data? {
    FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name))
  }

  private mutating func add(_ name: String, from source: String) {
    if !isKnownNetwork(name) { networks.append(Network(name: name, source: source)) }
  }

  private enum Read {
    case missing
    case invalid(String)
    case object([String: Any])
  }

  private func json(_ file: String) -> Read {
    guard let data = contents(file) else { return .missing }
    guard let parsed = try? JSONSerialization.jsonObject(with: data) else { return .invalid("it is not valid JSON") }
    guard let object = parsed as? [String: Any] else { return .invalid("the top level is not a JSON object") }
    return .object(object)
  }

  private mutating func readDfxJSON() {
    switch json("dfx.json") {
    case .missing: return
    case .invalid(let message): problems.append(("dfx.json", message))
    case .object(let object):
      if let networks = object["networks"] as? [String: Any] {
        for name in networks.keys.sorted() { add(name, from: "dfx.json") }
      }
    }
  }

  private mutating func readNetworksJSON() {
    switch json("networks.json") {
    case .missing: return
    case .invalid(let message): problems.append(("networks.json", message))
    case .object(let object):
      for name in object.keys.sorted() { add(name, from: "networks.json") }
    }
  }

  private mutating func readIcpYAML() {
    guard let data = contents("icp.yaml") else { return }
    do {
      guard let root = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) as? [String: Any] else {
        problems.append(("icp.yaml", "the top level is not a mapping"))
        return
      }
      for key in ["networks", "environments"] {
        for entry in root[key] as? [Any] ?? [] {
          if let name = (entry as? [String: Any])?["name"] as? String { add(name, from: "icp.yaml") }
        }
      }
    } catch {
      problems.append(("icp.yaml", "it is not valid YAML"))
    }
  }

  /// Why `canister_ids.json` could not be read, with its line and column (nil: read, or absent).
  public private(set) var canisterIDsError: CanisterIDsFile.ParseError?

  private mutating func readCanisterIDs() {
    guard let data = contents("canister_ids.json") else { return }
    do {
      canisterIDs = try CanisterIDsFile(text: String(decoding: data, as: UTF8.self)).ids
    } catch {
      canisterIDsError = error
    }
  }

  /// A canister id by name and key: `canister_ids.json` first, then icp's mapping file for an
  /// environment named `key` (`.icp/data/mappings/KEY.ids.json`, then `.icp/cache/…`).
  public func canisterID(name: String, key: String) -> String? {
    if let id = canisterIDs[name]?[key] { return id }
    for folder in ["data", "cache"] {
      guard case .object(let map) = json(".icp/\(folder)/mappings/\(key).ids.json"), let id = map[name] as? String
      else { continue }
      return id
    }
    return nil
  }

  /// The canister names in `canister_ids.json` that use `key` as a key (for "`production` is a key,
  /// not a network").
  public func canistersKeyed(by key: String) -> [String] {
    canisterIDs.filter { $0.value[key] != nil }.keys.sorted()
  }
}
