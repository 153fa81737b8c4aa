import Foundation
import Testing
import Yams

/// Distribution (DESIGN §11): the release tarball that scripts/release packs, scripts/install.sh,
/// the install step of action.yml, the release workflow and the Homebrew formula.
///
/// `RBIC_RELEASE` names a tarball made by scripts/release (scripts/test makes one, a static debug
/// build, before `swift test`); the installer and action tests use it, or without it a tarball of
/// the same layout around the development binary. The test of the static link needs the real one.
/// One test at a time: each unpacks a large binary, and the suite runs beside timing-sensitive ones.
@Suite(.serialized) struct DistributionTests {
  /// A release tarball and its `.sha256`, as scripts/release lays them out.
  struct Release {
    var tarball: String
    var version: String
    var platform: String
    var isReal: Bool

    static let real = ProcessInfo.processInfo.environment["RBIC_RELEASE"].flatMap { $0.isEmpty ? nil : $0 }

    /// `linux-x86_64`, `linux-aarch64`, `macos-arm64`, `macos-x86_64`: the names install.sh uses.
    static var platform: String {
      #if os(macOS)
        let os = "macos"
      #else
        let os = "linux"
      #endif
      #if arch(x86_64)
        return os + "-x86_64"
      #else
        return os + (os == "macos" ? "-arm64" : "-aarch64")
      #endif
    }

    /// The release in a fresh directory (a copy: tests tamper with theirs).
    static func make() throws -> Release {
      let dir = try CLI.temporaryDirectory()
      if let real {
        let name = URL(fileURLWithPath: real).lastPathComponent
        try FileManager.default.copyItem(atPath: real, toPath: dir + "/" + name)
        try FileManager.default.copyItem(atPath: real + ".sha256", toPath: dir + "/" + name + ".sha256")
        let parts = try #require(name.wholeMatch(of: /rbic-([0-9][^-]*)-([a-z]+-[a-z0-9_]+)\.tar\.gz/))
        return Release(tarball: dir + "/" + name, version: String(parts.1), platform: String(parts.2), isReal: true)
      }
      let version = try CLI.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        .replacingOccurrences(of: "rbic ", with: "")
      let name = "rbic-\(version)-\(platform)"
      try FileManager.default.createDirectory(atPath: dir + "/stage/" + name, withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: CLI.binary, toPath: dir + "/stage/\(name)/rbic")
      try FileManager.default.copyItem(atPath: Corpus.repository + "/LICENSE", toPath: dir + "/stage/\(name)/LICENSE")
      #expect(
        try shell(
          "tar -C stage -czf \(name).tar.gz \(name) && sha256sum \(name).tar.gz > \(name).tar.gz.sha256", in: dir
        ).status == 0)
      return Release(tarball: dir + "/\(name).tar.gz", version: version, platform: platform, isReal: false)
    }
  }

  static func shell(_ script: String, in dir: String? = nil, environment: [String: String] = [:]) throws -> CLI.Result {
    try CLI.run(executable: "/bin/sh", ["-c", script], in: dir, environment: environment, input: nil)
  }

  /// Runs scripts/install.sh with PATH free of the install directory.
  static func install(_ arguments: [String], environment: [String: String] = [:]) throws -> CLI.Result {
    try CLI.run(
      executable: "/bin/sh", [Corpus.repository + "/scripts/install.sh"] + arguments, in: nil,
      environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"].merging(environment) { $1 }, input: nil)
  }

  static func modified(_ path: String) throws -> Date {
    try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
  }

  @Test func theInstallerInstallsFromALocalTarballAndIsIdempotent() throws {
    let release = try Release.make()
    let prefix = try CLI.temporaryDirectory() + "/prefix"
    let first = try Self.install(["--from", release.tarball, "--prefix", prefix])
    #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
    #expect(first.stdout.contains("installed rbic \(release.version) at \(prefix)/bin/rbic"), "\(first.stdout)")
    #expect(first.stdout.contains("export PATH=\"\(prefix)/bin:$PATH\""), "how to put it on PATH: \(first.stdout)")
    let installed = prefix + "/bin/rbic"
    let version = try CLI.run(executable: installed, ["--version"], in: nil, environment: [:], input: nil)
    #expect(version.stdout == "rbic \(release.version)\n")
    let before = try Self.modified(installed)

    // Again, and with the directory on PATH: nothing changes, nothing to add to PATH.
    let second = try Self.install(
      ["--from", release.tarball, "--prefix", prefix], environment: ["PATH": prefix + "/bin:/usr/bin:/bin"])
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout == "rbic \(release.version) is already installed at \(installed)\n")
    #expect(try Self.modified(installed) == before, "the installed file is untouched")
    #expect(try FileManager.default.contentsOfDirectory(atPath: prefix + "/bin") == ["rbic"], "no leftovers")

    // A URL (file://), its checksum fetched from beside it.
    let other = try CLI.temporaryDirectory() + "/other"
    let byURL = try Self.install(["--from", "file://" + release.tarball, "--prefix", other])
    #expect(byURL.status == 0, "\(byURL.stdout)\(byURL.stderr)")
    #expect(FileManager.default.isExecutableFile(atPath: other + "/bin/rbic"))
  }

  @Test func theInstallerRefusesATamperedTarballAndInstallsNothing() throws {
    let release = try Release.make()
    let prefix = try CLI.temporaryDirectory() + "/prefix"
    // One byte changed inside the tarball; the published checksum kept.
    var bytes = try #require(FileManager.default.contents(atPath: release.tarball))
    bytes[bytes.count / 2] ^= 0x01
    try bytes.write(to: URL(fileURLWithPath: release.tarball))
    let tampered = try Self.install(["--from", release.tarball, "--prefix", prefix])
    #expect(tampered.status == 1)
    #expect(tampered.stderr.contains("checksum mismatch"), "\(tampered.stderr)")
    #expect(tampered.stderr.contains("nothing installed"), "\(tampered.stderr)")
    #expect(!FileManager.default.fileExists(atPath: prefix), "nothing installed, not even the directory")

    // Over an installed rbic: it stays as it was.
    try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
    try "#!/bin/sh\necho rbic 0.0.1\n".write(toFile: prefix + "/bin/rbic", atomically: true, encoding: .utf8)
    #expect(try Self.install(["--from", release.tarball, "--prefix", prefix]).status == 1)
    #expect(try String(contentsOfFile: prefix + "/bin/rbic", encoding: .utf8) == "#!/bin/sh\necho rbic 0.0.1\n")

    // No checksum at all: refused too.
    try FileManager.default.removeItem(atPath: release.tarball + ".sha256")
    let unchecked = try Self.install(["--from", release.tarball, "--prefix", prefix])
    #expect(unchecked.status == 1 && unchecked.stderr.contains(".sha256 is missing"), "\(unchecked.stderr)")
  }

  /// The action's install step, run as GitHub runs it (bash -e -o pipefail), from a local release
  /// and, by default, the pinned version (scripts/version) from a mirror laid out as GitHub's.
  @Test func theActionInstallsTheReleasedBinary() throws {
    let release = try Release.make()
    let text = try String(contentsOfFile: Corpus.repository + "/action.yml", encoding: .utf8)
    let action = try #require(try Yams.load(yaml: text) as? [String: Any])
    let steps = try #require((action["runs"] as? [String: Any])?["steps"] as? [[String: Any]])
    let step = try #require(steps.first { $0["name"] as? String == "Install rbic" })
    #expect(step["if"] as? String == "inputs.rbic == '' && inputs.build != 'true'", "the default")
    let script = try #require(step["run"] as? String)

    func runStep(_ inputs: [String: String]) throws -> (CLI.Result, rbic: String?) {
      let temp = try CLI.temporaryDirectory()
      let env = temp + "/github-env"
      _ = FileManager.default.createFile(atPath: env, contents: nil)
      let result = try CLI.run(
        executable: "/bin/bash", ["--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script], in: temp,
        environment: [
          "GITHUB_ACTION_PATH": Corpus.repository, "GITHUB_ENV": env, "RUNNER_TEMP": temp, "VERSION": "",
          "RELEASE": "", "REPOSITORY": "", "PATH": "/usr/local/bin:/usr/bin:/bin",
        ].merging(inputs) { $1 }, input: nil)
      let line = try String(contentsOfFile: env, encoding: .utf8).split(separator: "\n")
        .first { $0.hasPrefix("RBIC=") }
      return (result, line.map { String($0.dropFirst(5)) })
    }

    // `release:` a local tarball.
    let (local, rbic) = try runStep(["RELEASE": release.tarball])
    #expect(local.status == 0, "\(local.stdout)\(local.stderr)")
    let binary = try #require(rbic)
    let checked = try CLI.run(
      executable: binary, ["check", "scripts/canister-prod-activation.rb.ic"], in: Corpus.repository,
      environment: [:], input: nil)
    #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")

    // The default: the action's own version, downloaded and verified.
    let pinned = try CLI.run(
      executable: Corpus.repository + "/scripts/version", [], in: nil, environment: [:], input: nil
    ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(pinned == release.version)
    let mirror = try CLI.temporaryDirectory()
    let name = "rbic-\(pinned)-\(Release.platform)"
    try FileManager.default.createDirectory(atPath: mirror + "/v" + pinned, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: release.tarball, toPath: mirror + "/v\(pinned)/\(name).tar.gz")
    try FileManager.default.copyItem(
      atPath: release.tarball + ".sha256", toPath: mirror + "/v\(pinned)/\(name).tar.gz.sha256")
    let (byDefault, defaultRbic) = try runStep(["RBIC_DOWNLOAD_BASE": "file://" + mirror])
    #expect(byDefault.status == 0, "\(byDefault.stdout)\(byDefault.stderr)")
    #expect(defaultRbic != nil)

    // Another pinned version: not on the mirror, the step fails and gives the review no binary.
    let (missing, noRbic) = try runStep(["RBIC_DOWNLOAD_BASE": "file://" + mirror, "VERSION": "v9.9.9"])
    #expect(missing.status != 0 && noRbic == nil)
    #expect(missing.stderr.contains("could not download file://\(mirror)/v9.9.9/rbic-9.9.9-"), "\(missing.stderr)")

    // A tampered release: refused, no RBIC for the steps after.
    var bytes = try #require(FileManager.default.contents(atPath: release.tarball))
    bytes[bytes.count / 3] ^= 0x10
    try bytes.write(to: URL(fileURLWithPath: release.tarball))
    let (tampered, tamperedRbic) = try runStep(["RELEASE": release.tarball])
    #expect(tampered.status != 0 && tamperedRbic == nil)
    #expect(tampered.stderr.contains("checksum mismatch"), "\(tampered.stderr)")
  }

  /// The tarball scripts/release made runs where no Swift toolchain is visible: `ldd` names
  /// nothing of the toolchain, and with the toolchain's directory hidden (an empty tmpfs over it,
  /// in a private mount namespace) it prints its version and checks the activation runbook, where
  /// the development binary cannot even start.
  @Test(
    .enabled(if: Release.real != nil, "needs RBIC_RELEASE, a tarball from scripts/release (scripts/test makes one)"))
  func theReleaseBinaryRunsWithoutASwiftToolchain() throws {
    #if os(Linux)
      let release = try Release.make()
      #expect(release.isReal)
      let dir = try CLI.temporaryDirectory()
      #expect(try Self.shell("tar -xzf '\(release.tarball)'", in: dir).status == 0)
      let folder = dir + "/rbic-\(release.version)-\(release.platform)"
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == ["LICENSE", "README.md", "rbic"])
      let binary = folder + "/rbic"

      // Where this machine's toolchain keeps the Swift runtime: what the development binary loads.
      let devLdd = try Self.shell("ldd '\(CLI.binary)'").stdout
      let core = try #require(devLdd.firstMatch(of: /libswiftCore\.so => (\S+)/), "\(devLdd)").1
      let runtime = URL(fileURLWithPath: String(core)).deletingLastPathComponent().deletingLastPathComponent().path
      // The toolchain: the folder holding usr/lib/swift (/opt/swift), or lib/swift itself when the
      // toolchain is installed in /usr.
      let toolchain =
        runtime.hasSuffix("/usr/lib/swift") && runtime != "/usr/lib/swift"
        ? String(runtime.dropLast("/usr/lib/swift".count)) : runtime

      let ldd = try Self.shell("LD_LIBRARY_PATH= ldd '\(binary)'")
      #expect(ldd.status == 0, "\(ldd.stderr)")
      #expect(!ldd.stdout.contains(toolchain), "ldd names the toolchain: \(ldd.stdout)")
      #expect(!ldd.stdout.contains("libswift") && !ldd.stdout.contains("Foundation"), "\(ldd.stdout)")
      #expect(try Self.shell("readelf -S '\(binary)'").stdout.contains(".symtab") == false, "stripped")

      let inNamespace = try CLI.run(
        executable: "/usr/bin/unshare",
        [
          "--mount", "--propagation", "private", "/bin/sh", "-c",
          """
          mount -t tmpfs rbic-no-toolchain "$TOOLCHAIN" || exit 90
          [ -z "$(ls -A "$TOOLCHAIN")" ] || exit 91
          if "$DEV" --version > /dev/null 2>&1; then exit 92; fi
          "$RELEASE_BINARY" --version || exit 93
          "$RELEASE_BINARY" check scripts/canister-prod-activation.rb.ic || exit 94
          """,
        ], in: Corpus.repository,
        environment: ["TOOLCHAIN": toolchain, "DEV": CLI.binary, "RELEASE_BINARY": binary, "LD_LIBRARY_PATH": ""],
        input: nil)
      #expect(
        inNamespace.status == 0,
        "exit \(inNamespace.status) (90 no mount, 92 the toolchain still showed): \(inNamespace.stdout)\(inNamespace.stderr)"
      )
      #expect(inNamespace.stdout.hasPrefix("rbic \(release.version)\n"), "\(inNamespace.stdout)")
    #endif
  }

  /// The version has one place (Rbic.version); everything that names a release agrees with it.
  @Test func everyReleaseNameAgreesWithTheVersion() throws {
    let version = try CLI.run(
      executable: Corpus.repository + "/scripts/version", [], in: nil, environment: [:], input: nil
    ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(try CLI.run(["--version"]).stdout == "rbic \(version)\n")
    let formula = try String(contentsOfFile: Corpus.repository + "/Formula/rbic.rb", encoding: .utf8)
    #expect(formula.contains("tag: \"v\(version)\""), "Formula/rbic.rb builds v\(version)")
  }

  /// The release workflow builds the four platforms the installer knows, on a tag, with the
  /// scripts of this repository, and attaches the tarballs and checksums.
  @Test func theReleaseWorkflowBuildsEveryPlatform() throws {
    let text = try String(contentsOfFile: Corpus.repository + "/.github/workflows/release.yml", encoding: .utf8)
    let workflow = try #require(try Yams.load(yaml: text) as? [AnyHashable: Any])
    // A YAML 1.1 reader may take a bare `on` for true.
    let trigger = try #require((workflow["on"] ?? workflow[true]) as? [String: Any])
    #expect((trigger["push"] as? [String: Any])?["tags"] as? [String] == ["v*"])
    let jobs = try #require(workflow["jobs"] as? [String: Any])
    let build = try #require(jobs["build"] as? [String: Any])
    let include = try #require(
      ((build["strategy"] as? [String: Any])?["matrix"] as? [String: Any])?["include"] as? [[String: Any]])
    #expect(
      Set(include.compactMap { $0["platform"] as? String }) == [
        "linux-x86_64", "linux-aarch64", "macos-arm64", "macos-x86_64",
      ])
    let installer = try String(contentsOfFile: Corpus.repository + "/scripts/install.sh", encoding: .utf8)
    for os in ["linux", "macos"] { #expect(installer.contains("os=\(os)")) }
    #expect(text.contains("scripts/release --out dist") && text.contains("scripts/install.sh --from"))
    #expect(text.contains("gh release upload") && text.contains("dist/*.tar.gz dist/*.sha256"))
  }

  static let hasShellcheck = (try? shell("command -v shellcheck").status) == 0

  /// shellcheck passes on the installer (POSIX sh), the release scripts, and every `run:` of the
  /// action and the release workflow (bash; each `${{ … }}` stands in as a variable). CI installs
  /// shellcheck and always runs this; elsewhere it runs when shellcheck is installed.
  @Test(.enabled(if: hasShellcheck || ProcessInfo.processInfo.environment["CI"] != nil, "needs shellcheck"))
  func shellcheckPasses() throws {
    try #require(Self.hasShellcheck, "shellcheck is not installed (.ci/run installs it)")
    let scripts = Corpus.repository + "/scripts/"
    let sh = try Self.shell("shellcheck -s sh '\(scripts)install.sh' '\(scripts)version'")
    #expect(sh.status == 0, "\(sh.stdout)")
    let bash = try Self.shell(
      "shellcheck -s bash '\(scripts)release' '\(scripts)test' '\(Corpus.repository)/.ci/run'"
        + " '\(Corpus.repository)/benchmarks/release-startup.sh'")
    #expect(bash.status == 0, "\(bash.stdout)")

    let dir = try CLI.temporaryDirectory()
    var blocks = 0
    for file in ["action.yml", ".github/workflows/release.yml"] {
      let text = try String(contentsOfFile: Corpus.repository + "/" + file, encoding: .utf8)
      let yaml = try #require(try Yams.load(yaml: text) as? [AnyHashable: Any])
      // A composite action's steps, or each job's.
      let jobs = (yaml["jobs"] as? [String: Any])?.values.compactMap { $0 as? [String: Any] } ?? []
      let steps =
        ((yaml["runs"] as? [String: Any])?["steps"] as? [[String: Any]] ?? [])
        + jobs.flatMap { $0["steps"] as? [[String: Any]] ?? [] }
      for case let run as String in steps.map({ $0["run"] }) {
        blocks += 1
        let body = run.replacing(/\$\{\{[^}]*\}\}/, with: "$EXPRESSION")
        try "#!/bin/bash\n# \(file)\n\(body)".write(
          toFile: dir + "/block\(blocks).sh", atomically: true, encoding: .utf8)
      }
    }
    #expect(blocks >= 5, "the run blocks were found")
    let runs = try Self.shell("shellcheck -s bash -e SC2154 \(dir)/block*.sh", in: dir)
    #expect(runs.status == 0, "\(runs.stdout)")
  }
}
