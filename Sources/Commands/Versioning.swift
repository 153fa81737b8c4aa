import Foundation
import RbicDiagnostics
import RbicTooling

/// The versioning rule: a runbook whose meaning changed since a base ref must raise its version.
enum Versioning {
  static func check(_ source: RunbookSource, base: String, path: String) -> Diagnostic? {
    guard let version = source.version, let versionRange = source.versionRange,
      let oldBytes = Git.show(ref: base, path: path)
    else { return nil }
    var files = SourceFiles()
    let old = RunbookSource(path: "\(base):\(path)", bytes: oldBytes, into: &files)
    guard !old.hasErrors, let oldVersion = old.version else { return nil }
    if version < oldVersion {
      return Diagnostic.warning(
        .versionNotIncreased, "version went down from \(oldVersion) at `\(base)` to \(version)", at: versionRange)
    }
    let diff = source.changes(since: old)
    guard !diff.isEmpty, version == oldVersion else { return nil }
    var d = Diagnostic.warning(
      .versionNotIncreased, "the runbook changed since `\(base)` but its version is still \(oldVersion)",
      at: versionRange)
    d = d.note("`rbic diff \(base):\(path) \(path)` shows what changed")
    return d.help("raise it to \(oldVersion + 1)")
  }
}
