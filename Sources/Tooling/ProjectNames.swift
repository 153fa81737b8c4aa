import RbicCheck

/// What a command may name in a project, checked before anything runs: a runbook inside the
/// working directory (the MCP server's files), a network the project defines (`--network`).
public enum ProjectNames {
  /// `file` as a runbook inside `directory`, relative to it, or why not: a `*.rb.ic` file,
  /// resolved as the OS opens it (symbolic links and `..` followed) and compared component by
  /// component with the directory (`PathScope`), so what is checked is what is read.
  public static func runbook(_ file: String, inside directory: String) -> Result<String, RefusedName> {
    guard file.hasSuffix(".rb.ic") else { return .failure(RefusedName("`\(file)` is not a runbook (*.rb.ic)")) }
    guard let root = PathScope.resolve(directory, from: "/"),
      let inside = PathScope(roots: [root]).resolveInside(file, from: directory)
    else {
      return .failure(RefusedName("`\(file)` is outside the working directory"))
    }
    return .success(inside == root ? "." : String(inside.dropFirst(root == "/" ? 1 : root.count + 1)))
  }

  /// Why `network` (`--network`) names no network of the project in `directory`, or nil when it
  /// names one.
  public static func unknownNetwork(_ network: String, directory: String) -> String? {
    let project = ProjectFiles(directory: directory)
    if project.isKnownNetwork(network) { return nil }
    let url =
      ProjectFiles.Network.isURL(network)
      ? " (a URL is not a network name: define the network in icp.yaml, with its root key, or in dfx.json)" : ""
    return
      "unknown network `\(network)`\(url); known networks: \(project.networkNames.map { "`\($0)`" }.joined(separator: ", "))"
  }
}

/// Why a name was refused.
public struct RefusedName: Error {
  public var message: String
  init(_ message: String) { self.message = message }
}
