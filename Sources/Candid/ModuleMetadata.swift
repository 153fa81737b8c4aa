import WasmParser

/// A Wasm module's IC metadata: the custom sections named `icp:public NAME` or
/// `icp:private NAME` (`candid:service`, `enhanced-orthogonal-persistence`, …), read with WasmKit's
/// parser. Only the module's sections are walked; function bodies are not decoded.
public enum ModuleMetadata {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Every IC metadata section, by name without its visibility prefix.
  public static func sections(_ bytes: [UInt8]) throws(Failure) -> [String: (isPublic: Bool, bytes: [UInt8])] {
    var parser = WasmParser.Parser(bytes: bytes)
    var found: [String: (isPublic: Bool, bytes: [UInt8])] = [:]
    do {
      while let payload = try parser.parseNext() {
        guard case .customSection(let section) = payload else { continue }
        for (prefix, isPublic) in [("icp:public ", true), ("icp:private ", false)] where section.name.hasPrefix(prefix)
        {
          found[String(section.name.dropFirst(prefix.count))] = (isPublic, Array(section.bytes))
        }
      }
    } catch {
      throw Failure(description: "not a valid Wasm module: \(error)")
    }
    return found
  }
}
