import RbicCandid
import RbicCheck
import RbicDiagnostics

/// Install and upgrade arguments: `ensure hash == H via install WASM arg VALUE`.
/// The value is encoded against the init arguments the module declares in its `candid:service`
/// (`service : (InitArgs) -> {…}`), several of them as a record `{_0: …, _1: …}`; a module that
/// declares none gets the value's natural Candid type.
package enum InstallArgument {
  /// The interface a module carries in its `candid:service` metadata, and whether the section is
  /// public (what the canister will answer to anyone); nil when it has none.
  package static func interface(ofModule wasm: [UInt8]) -> (env: CandidEnvironment, isPublic: Bool)? {
    guard let section = (try? ModuleMetadata.sections(wasm))?["candid:service"] else { return nil }
    var files = SourceFiles()
    guard
      let env = try? CandidEnvironment.parse(
        String(decoding: section.bytes, as: UTF8.self), path: "candid:service", into: &files)
    else { return nil }
    return (env, section.isPublic)
  }

  /// The values a runbook's argument stands for: a record `{_0: …, _1: …}` is several arguments
  /// when the module takes several.
  static func values(_ value: Value, count: Int) -> [Value] {
    guard count > 1, case .record(let keys, let values) = value, keys == (0..<count).map({ "_\($0)" }) else {
      return [value]
    }
    return values
  }

  /// The Candid values sent for `value`, typed by the module's init arguments when it declares them.
  package static func encode(_ value: Value, for env: CandidEnvironment?) throws(CandidEncoding.Misfit)
    -> [CandidValue]
  {
    guard let env, let types = env.constructorArguments else { return [Candid.value(value)] }
    let values = values(value, count: types.count)
    guard values.count == types.count else {
      throw CandidEncoding.Misfit(
        message:
          "the module's init takes \(types.count) argument\(types.count == 1 ? "" : "s") (\(types.map(\.description).joined(separator: ", "))), not \(values.count)"
      )
    }
    return try CandidEncoding.encode(values, as: types, in: env)
  }

  /// Why a module with this interface would trap on `argument` (Candid text; nil sends `()`):
  /// the simulated IC's rule for what a canister's init does with an argument it cannot decode.
  package static func refusal(_ argument: String?, for env: CandidEnvironment) -> String? {
    guard let types = env.constructorArguments, !types.isEmpty else { return nil }
    let values: [CandidValue]
    do throws(CandidFailure) { values = try CandidValue.parseArguments(argument ?? "()") } catch {
      return "the argument is not Candid (\(error.diagnostic.message))"
    }
    for (i, type) in types.enumerated() {
      guard i < values.count else {
        if env.mayBeAbsent(type) { continue }
        return "the init argument \(i) (\(type)) is missing"
      }
      do throws(CandidReply.Mismatch) {
        _ = try CandidReply.decode(CandidValue.print(arguments: [values[i]], width: .max), [type], in: env)
      } catch {
        return "the init argument \(i) is not a `\(type)`: \(error.message)"
      }
    }
    return nil
  }
}
