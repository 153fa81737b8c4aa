import RbicCheck

/// The management canister's methods a runbook may not call directly: each replaces or removes a
/// canister's module, which only the `install` action does, with its checks (the module's sha256,
/// an upgrade that keeps the canister's clients, `reinstall` always asked). Calls are the one path
/// every `call` takes, so no spelling of such a call gets past the checks.
enum ManagementCanister {
  static let id = Principal(bytes: [])
  static let replacingModule: Set<String> = ["install_code", "install_chunked_code", "uninstall_code"]
}
