import Foundation
import Yams

/// The project files of a working directory, read in one place for the checker and the backends:
/// networks from `dfx.json` (`networks`), `networks.json` and `icp.yaml` (`networks` and
/// `environments`), and canister ids from `canister_ids.json`.
public struct ProjectFiles: Sendable {
  /// A network, resolved: its name, the file that defines it, and where it points. Whether it is
  /// mainnet is decided on where it points, never on its name alone (a `prod` network whose
  /// provider is `https://icp0.io` is mainnet), and computed once, here; every gate, default and
  /// header uses `isMainnet`.
  public struct Network: Hashable, Sendable {
    public var name: String
    public var source: String
    /// The URLs it points at (dfx `providers`, icp `url`), or the network an icp environment uses.
    public var providers: [String]
    /// It is the Internet Computer's mainnet: named `ic`/`mainnet`, an icp environment on such a
    /// network, a provider on a mainnet host (`ic0.app`, `icp0.io`, `icp-api.io` or a subdomain),
    /// or a network that trusts mainnet's root key.
    public var isMainnet: Bool

    public init(name: String, source: String, providers: [String] = [], mainnetRootKey: Bool = false) {
      self.name = name
      self.source = source
      self.providers = providers
      self.isMainnet =
        Self.mainnetNames.contains(name) || mainnetRootKey || providers.contains(where: Self.isMainnetURL)
    }

    static let mainnetNames: Set<String> = ["ic", "mainnet"]
    static let mainnetHosts = ["ic0.app", "icp0.io", "icp-api.io"]

    /// Whether a URL's host is a mainnet boundary node or gateway (or a subdomain of one). A URL
    /// that cannot be parsed counts as mainnet: the gate asks rather than guesses.
    package static func isMainnetURL(_ text: String) -> Bool {
      guard let host = URL(string: text.trimmingCharacters(in: .whitespaces))?.host?.lowercased() else {
        return true
      }
      let bare = host.hasSuffix(".") ? String(host.dropLast()) : host
      return mainnetHosts.contains { bare == $0 || bare.hasSuffix("." + $0) }
    }

    package static func isURL(_ text: String) -> Bool { text.hasPrefix("http://") || text.hasPrefix("https://") }
  }

  /// The network a run acts on, resolved from its name (or a URL): what the project files say it
  /// points at. An unknown name is resolved by its name alone (the checker and the command line
  /// refuse unknown networks before anything runs).
  public func network(named name: String) -> Network {
    if let known = networks.first(where: { $0.name == name }) {
      guard let environment = environments[name], environment != name else { return known }
      // An icp environment acts on its network: mainnet when that network is.
      let target = networks.first { $0.name == environment }
      return Network(
        name: name, source: known.source, providers: [environment] + (target?.providers ?? []),
        mainnetRootKey: target?.isMainnet ?? Network.mainnetNames.contains(environment))
    }
    if Network.isURL(name) { return Network(name: name, source: "a URL", providers: [name]) }
    return Network(name: name, source: "unknown")
  }

  /// icp environments by name → the network each uses (`local` when it names none).
  private var environments: [String: String] = [:]

  public var directory: String
  /// `local` and `ic` first, then the project's own.
  public private(set) var networks: [Network] = [
    Network(name: "local", source: "built in"), Network(name: "ic", source: "built in"),
  ]
  /// Problems reading the files, as `(file, message)`; a missing file is not a problem.
  package private(set) var problems: [(file: String, message: String)] = []
  /// `canister_ids.json`: canister name → key (network or `production`-style label) → principal text.
  public private(set) var canisterIDs: [String: [String: String]] = [:]

  public init(directory: String) {
    self.directory = directory
    readDfxJSON()
    readNetworksJSON()
    readIcpYAML()
    readCanisterIDs()
  }

  package var networkNames: [String] { networks.map(\.name) }

  package func isKnownNetwork(_ name: String) -> Bool { networks.contains { $0.name == name } }

  private func contents(_ name: String) -> Data? {
    FileManager.default.contents(atPath: (directory as NSString).appendingPathComponent(name))
  }

  private mutating func add(_ name: String, from source: String, providers: [String] = [], mainnetRootKey: Bool = false)
  {
    let network = Network(name: name, source: source, providers: providers, mainnetRootKey: mainnetRootKey)
    if let i = networks.firstIndex(where: { $0.name == name }) {
      // Defined twice (dfx.json and icp.yaml): mainnet if either definition points there.
      if network.isMainnet, !networks[i].isMainnet, networks[i].source != "built in" { networks[i] = network }
    } else {
      networks.append(network)
    }
  }

  /// A dfx network entry's providers (`{"providers": [...]}`); a `bind` entry is local.
  private static func providers(_ entry: Any?) -> [String] {
    ((entry as? [String: Any])?["providers"] as? [Any] ?? []).compactMap { $0 as? String }
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
        for name in networks.keys.sorted() {
          add(name, from: "dfx.json", providers: Self.providers(networks[name]))
        }
      }
    }
  }

  private mutating func readNetworksJSON() {
    switch json("networks.json") {
    case .missing: return
    case .invalid(let message): problems.append(("networks.json", message))
    case .object(let object):
      for name in object.keys.sorted() { add(name, from: "networks.json", providers: Self.providers(object[name])) }
    }
  }

  private mutating func readIcpYAML() {
    guard let data = contents("icp.yaml") else { return }
    do {
      guard let root = try Yams.load(yaml: String(decoding: data, as: UTF8.self)) as? [String: Any] else {
        problems.append(("icp.yaml", "the top level is not a mapping"))
        return
      }
      for entry in root["networks"] as? [Any] ?? [] {
        guard let fields = entry as? [String: Any], let name = fields["name"] as? String else { continue }
        let url = (fields["url"] as? String).map { [$0] } ?? []
        add(name, from: "icp.yaml", providers: url, mainnetRootKey: (fields["root-key"] as? String) == "mainnet")
      }
      for entry in root["environments"] as? [Any] ?? [] {
        guard let fields = entry as? [String: Any], let name = fields["name"] as? String else { continue }
        environments[name] = fields["network"] as? String ?? "local"
        add(name, from: "icp.yaml")
      }
    } catch {
      problems.append(("icp.yaml", "it is not valid YAML"))
    }
  }

  /// Why `canister_ids.json` could not be read, with its line and column (nil: read, or absent).
  package private(set) var canisterIDsError: CanisterIDsFile.ParseError?

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
  package func canistersKeyed(by key: String) -> [String] {
    canisterIDs.filter { $0.value[key] != nil }.keys.sorted()
  }
}
