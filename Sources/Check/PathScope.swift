import Foundation

/// One containment rule for every path rbic reads on someone else's say — imports, Candid
/// interfaces, the MCP server's runbooks, plans and resources, and a confined run's files: the
/// path is resolved as the operating system would open it (symbolic links, `.`, `..`, repeated
/// slashes), then compared component by component with the allowed roots. A string comparison
/// of the unresolved text is never the test (`scripts//../../outside` is outside).
package struct PathScope: Sendable {
  /// The roots, resolved, as components.
  private let roots: [[Substring]]

  package init(roots: [String]) {
    self.roots = roots.compactMap { Self.resolve($0, from: "/") }.map(Self.components)
  }

  /// `path` (relative to `base`) as the operating system resolves it, absolute; for a file that
  /// does not exist, its directory resolved and its name kept. nil when not even its directory
  /// exists, or its last component is `.` or `..` of a missing file.
  package static func resolve(_ path: String, from base: String) -> String? {
    let joined = path.hasPrefix("/") ? path : base + "/" + path
    if let real = realPath(joined) { return real }
    let trimmed = joined.hasSuffix("/") ? String(joined.reversed().drop { $0 == "/" }.reversed()) : joined
    guard let slash = trimmed.lastIndex(of: "/") else { return nil }
    let name = trimmed[trimmed.index(after: slash)...]
    guard !name.isEmpty, name != ".", name != ".." else { return nil }
    let directory = String(trimmed[..<slash])
    guard let real = realPath(directory.isEmpty ? "/" : directory) else { return nil }
    return (real == "/" ? "" : real) + "/" + name
  }

  private static func realPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  private static func components(_ path: String) -> [Substring] {
    path.split(separator: "/", omittingEmptySubsequences: true)
  }

  /// Whether an already resolved absolute path is one of the roots or inside one.
  package func contains(resolved path: String) -> Bool {
    let parts = Self.components(path)
    return roots.contains { root in parts.count >= root.count && parts.starts(with: root) }
  }

  /// `path` resolved from `base`, when it lies inside a root; nil otherwise.
  package func resolveInside(_ path: String, from base: String) -> String? {
    guard let resolved = Self.resolve(path, from: base), contains(resolved: resolved) else { return nil }
    return resolved
  }
}
