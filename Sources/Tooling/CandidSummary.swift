import RbicCandid
import RbicDiagnostics

/// `rbic candid FILE`: a Candid interface as one line per method (and the service's init
/// arguments first), read with its imports.
public enum CandidSummary {
  public struct Listing {
    /// `service : (ARGS)` when it has init arguments, then `NAME : FUNCTION` per method.
    public var lines: [String]
    /// Said when the file defines types but no service.
    public var note: String?
  }

  /// Why the file cannot be read as Candid.
  public struct Failure: Error {
    public var diagnostic: Diagnostic
  }

  /// The listing of the `.did` file at `path`, its files added to `files` (errors render against them).
  public static func listing(path: String, files: inout SourceFiles) -> Result<Listing, Failure> {
    do throws(CandidFailure) {
      let env = try CandidEnvironment.load(path: path, into: &files)
      var lines: [String] = []
      if let arguments = env.constructorArguments {
        lines.append("service : (\(arguments.map(\.description).joined(separator: ", ")))")
      }
      lines += env.methods.map { "\($0.name) : \($0.function)" }
      let note = env.hasService ? nil : "`\(path)` defines \(env.definitions.count) types and no service"
      return .success(Listing(lines: lines, note: note))
    } catch {
      return .failure(Failure(diagnostic: error.diagnostic))
    }
  }
}
