import WasmParser

/// A Wasm module's IC metadata: the custom sections named `icp:public NAME` or
/// `icp:private NAME` (`candid:service`, `enhanced-orthogonal-persistence`, …), read with WasmKit's
/// parser. Only the module's sections are walked; function bodies are not decoded.
package enum ModuleMetadata {
  package struct Failure: Error, CustomStringConvertible {
    package var description: String
  }

  /// Every IC metadata section, by name without its visibility prefix.
  package static func sections(_ bytes: [UInt8]) throws(Failure) -> [String: (isPublic: Bool, bytes: [UInt8])] {
    if let why = notWasm(bytes) { throw Failure(description: why) }
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
      throw Failure(description: "not a valid Wasm module: \(readable(error))")
    }
    return found
  }

  /// Why `bytes` are not a Wasm module at all, as the rest of "`FILE` is …" (nil: they start
  /// like one).
  static func notWasm(_ bytes: [UInt8]) -> String? {
    if bytes.starts(with: [0x1F, 0x8B]) {
      return "not a Wasm module: it is gzip-compressed (a `.wasm.gz`); give the uncompressed `.wasm`"
    }
    guard bytes.starts(with: [0x00, 0x61, 0x73, 0x6D]) else {
      let shown = bytes.prefix(8).map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "." }.joined()
      return "not a Wasm module: it does not start with the Wasm magic `\\0asm` (it starts with `\(shown)`)"
    }
    guard bytes.count >= 8, bytes[4..<8].elementsEqual([1, 0, 0, 0]) else {
      return "not a Wasm module of version 1"
    }
    return nil
  }

  /// WasmKit's error as a sentence: its message and offset, without the Swift debug form
  /// (`"Message(text: \"…\")" at offset 0xa`).
  static func readable(_ error: Error) -> String {
    let text = "\(error)"
    guard let m = text.firstMatch(of: /text: "(.*)"\)"? at offset (0x[0-9a-fA-F]+)/) else { return text }
    return "\(m.1) (at byte \(m.2))"
  }
}
