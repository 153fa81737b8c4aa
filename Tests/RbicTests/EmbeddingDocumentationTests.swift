import Foundation
import Testing

/// `docs/embedding.md` is the public API's one page: its example host type-checks against the
/// built library using only public declarations (no `-package-name`, so `package` ones are
/// invisible), and every public type of the library is named on the page.
@Suite struct EmbeddingDocumentationTests {
  static let page = Corpus.repository + "/docs/embedding.md"

  @Test func exampleHostTypeChecksAgainstThePublicAPI() throws {
    let text = try String(contentsOfFile: Self.page, encoding: .utf8)
    let code = try #require(
      text.components(separatedBy: "```swift\n").dropFirst().first?.components(separatedBy: "\n```").first)
    let dir = try CLI.temporaryDirectory()
    let file = dir + "/host.swift"
    try (code + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    let r = try Self.typecheck([file], in: dir)
    #expect(r.status == 0, "the example does not type-check:\n\(r.stderr)")
  }

  /// The command is a client of the library like any host: its sources type-check with only the
  /// public declarations visible, the library's and RbicTooling's (the command's own layer, outside
  /// the `Rbic` product). A `package` declaration of the runtime, the checker or a backend used
  /// from the command fails here.
  @Test func theCommandUsesOnlyThePublicAPIAndTooling() throws {
    let folder = Corpus.repository + "/Sources/Commands"
    let sources = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }.sorted()
    #expect(sources.count > 10)
    let r = try Self.typecheck(
      sources.map { folder + "/" + $0 }, in: try CLI.temporaryDirectory(),
      extra: ["-module-name", "RbicCommands", "-I", Corpus.repository + "/Sources/CReadline"])
    #expect(r.status == 0, "the command uses what is not public:\n\(r.stderr)")
  }

  /// `swiftc -typecheck` against the built modules, without `-package-name`: only public
  /// declarations are visible.
  static func typecheck(_ files: [String], in dir: String, extra: [String] = []) throws -> CLI.Result {
    let modules = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("Modules").path
    // The C modules the libraries' dependencies import (Yams, swift-crypto, swift-system…).
    let checkouts = Corpus.repository + "/.build/checkouts"
    var clang: [String] = []
    if let walker = FileManager.default.enumerator(atPath: checkouts) {
      for case let path as String in walker where path.hasSuffix("include/module.modulemap") {
        let map = checkouts + "/" + path
        clang += ["-Xcc", "-fmodule-map-file=" + map, "-Xcc", "-I" + (map as NSString).deletingLastPathComponent]
      }
    }
    return try CLI.run(
      executable: "/usr/bin/env", ["swiftc", "-typecheck", "-I", modules] + clang + extra + files, in: dir,
      environment: [:], input: nil)
  }

  @Test func everyPublicTypeIsOnThePage() throws {
    let text = try String(contentsOfFile: Self.page, encoding: .utf8)
    let pattern = try NSRegularExpression(
      pattern: #"^(?:public|  public) (?:final class|indirect enum|struct|enum|protocol|typealias|class) ([A-Za-z]+)"#,
      options: .anchorsMatchLines)
    var missing: [String] = []
    let folders = try Self.productFolders()
    #expect(folders.contains("Sources/Runtime") && folders.contains("Sources/Check"), "\(folders)")
    for folder in folders {
      let dir = Corpus.repository + "/" + folder
      // Subfolders too (the sim's parts are in `Backends/SimulatedIC`).
      let names = (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String]) ?? []
      for name in names where name.hasSuffix(".swift") {
        let source = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
        for m in pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)) {
          guard let range = Range(m.range(at: 1), in: source) else { continue }
          let type = String(source[range])
          if !text.contains("`\(type)") && !text.contains(type + "`") && !text.contains("." + type) {
            missing.append("\(type) (\(folder)/\(name))")
          }
        }
      }
    }
    #expect(missing.isEmpty, "public but not on docs/embedding.md: \(missing.joined(separator: ", "))")
  }

  /// The source folders of the `Rbic` product's targets, read from Package.swift: what a host can
  /// import, so a module added to the product is checked without this test changing.
  static func productFolders() throws -> [String] {
    let manifest = try String(contentsOfFile: Corpus.repository + "/Package.swift", encoding: .utf8)
    func captures(_ pattern: String, in text: String) throws -> [String] {
      let regex = try NSRegularExpression(pattern: pattern, options: .dotMatchesLineSeparators)
      return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
        Range($0.range(at: 1), in: text).map { String(text[$0]) }
      }
    }
    let targets = try captures(#"\.library\(\s*name: "Rbic",\s*targets: \[([^\]]*)\]"#, in: manifest).first ?? ""
    return try captures(#""([A-Za-z]+)""#, in: targets).flatMap { name in
      try captures(#"\.target\(\s*name: "\#(name)",.*?path: "([^"]+)""#, in: manifest).prefix(1)
    }
  }
}
