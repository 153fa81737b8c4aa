import Foundation
import RbicCheck
import RbicRuntime

/// How `icp` or `dfx` keeps an identity's key, read from the tool's own identity store before
/// anything runs, so that what the tool would refuse only at its first canister command (after
/// the run header) is refused up front, with the tool's whole remedy.
///
/// - dfx (`dfx-core` `identity_manager.rs`, `pem_safekeeping.rs`): `<root>/.config/dfx/identity/NAME/`
///   where root is `$DFX_CONFIG_ROOT` or `$HOME`; `identity.json` says `hsm`,
///   `keyring_identity_suffix` or `encryption` (a password-protected `identity.pem.encrypted`);
///   without any of them the key is the plaintext `identity.pem` (dfx's `default` identity is
///   one), which dfx 0.25+ refuses on mainnet.
/// - icp (`crates/icp/src/identity/manifest.rs`): `identity/identity_list.json` under `$ICP_HOME`
///   or the data directory (`$XDG_DATA_HOME/icp-cli`, `~/.local/share/icp-cli`, macOS
///   `~/Library/Application Support/org.dfinity.icp-cli`); an entry's `kind`, and for `pem` keys
///   (and a delegation's `storage`) the `format`: `plaintext` or `pbes2` (password-protected).
///
/// A store that cannot be read, or has no entry for the name, is unknown (nil): the tool decides.
package enum IdentityStorage: Equatable, Sendable {
  case plaintext
  /// The key is encrypted with a password the tool asks for on a terminal.
  case passwordProtected
  /// The OS keyring, a hardware module, a delegation or nothing (anonymous).
  case other

  /// dfx's store. `anonymous` is built in and never insecure.
  package static func dfx(_ name: String, environment: [String: String]) -> IdentityStorage? {
    guard name != "anonymous", !name.contains("/"),
      let root = environment["DFX_CONFIG_ROOT"] ?? environment["HOME"]
    else { return nil }
    let directory = root + "/.config/dfx/identity/" + name
    var config: [String: Any] = [:]
    if let data = FileManager.default.contents(atPath: directory + "/identity.json") {
      guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
      config = object.filter { !($0.value is NSNull) }
    }
    if config["hsm"] != nil || config["keyring_identity_suffix"] != nil { return .other }
    if config["encryption"] != nil { return .passwordProtected }
    return FileManager.default.fileExists(atPath: directory + "/identity.pem") ? .plaintext : nil
  }

  /// icp's store.
  package static func icp(_ name: String, environment: [String: String]) -> IdentityStorage? {
    let data: String
    if let home = environment["ICP_HOME"] {
      data = home
    } else if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
      data = xdg + "/icp-cli"
    } else if let home = environment["HOME"] {
      #if os(macOS)
        data = home + "/Library/Application Support/org.dfinity.icp-cli"
      #else
        data = home + "/.local/share/icp-cli"
      #endif
    } else {
      return nil
    }
    guard let bytes = FileManager.default.contents(atPath: data + "/identity/identity_list.json"),
      let list = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any],
      let entry = (list["identities"] as? [String: Any])?[name] as? [String: Any]
    else { return nil }
    let pem = entry["kind"] as? String == "pem" ? entry : entry["storage"] as? [String: Any]
    switch (pem?["kind"] as? String, pem?["format"] as? String) {
    case ("pem"?, "pbes2"?): return .passwordProtected
    case ("pem"?, "plaintext"?): return .plaintext
    default: return .other
    }
  }

  /// Whether dfx treats the network as mainnet for its plaintext-identity refusal
  /// (`NetworkDescriptor::is_ic`: the name `ic` or the gateway URL, or a single provider that is
  /// the gateway), which is narrower than rbic's own mainnet rule.
  package static func dfxIsMainnet(_ network: ProjectFiles.Network) -> Bool {
    let gateway = ["https://icp0.io", "https://icp0.io/"]
    return network.name == "ic" || gateway.contains(network.name)
      || (network.providers.count == 1 && gateway.contains(network.providers[0]))
  }

  /// Whether `DFX_WARNING` turns a warning off (`-name` in its comma-separated list).
  package static func dfxWarningDisabled(_ warning: String, environment: [String: String]) -> Bool {
    (environment["DFX_WARNING"] ?? "").split(separator: ",").contains { $0 == "-" + warning }
  }

  /// dfx's refusal of a plaintext identity on mainnet (`AgentEnvironment::new`, 0.25+), whole.
  package static func dfxPlaintextRefusal(_ name: String) -> String {
    """
    dfx refuses identity `\(name)` on mainnet: its key is stored in plaintext (\(name == "default" ? "dfx's `default` identity always is" : "identity.pem")). dfx says:
      The \(name) identity is not stored securely. Do not use it to control a lot of cycles/ICP.
      - For enhanced security, create a new identity using the command:
          dfx identity new
        Then, specify the new identity in mainnet-facing commands with the `--identity` flag.
      - If you understand the risks and still wish to use the insecure plaintext identity, you can suppress this warning by running:
          export DFX_WARNING=-mainnet_plaintext_identity
        After setting this environment variable, re-run the command.
    """
  }
}
