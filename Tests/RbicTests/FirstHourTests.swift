import Foundation
import Testing

@testable import RbicRuntime

/// What a new user meets in the first hour (issue: the first hour and the worst hour).
@Suite struct FirstHourTests {
  /// A misspelled or invalid `--param` is a usage error before anything starts: no run header,
  /// no journal, and the message says what is wrong and where.
  @Test func aBadParamStopsBeforeAnythingStarts() throws {
    let dir = try CLI.temporaryDirectory()
    let misspelled = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--journal", dir + "/runs", "--param",
        "canistr=6iu47-dyaaa-aaaaf-qgeza-cai",
      ], in: Corpus.repository)
    #expect(misspelled.status == 2)
    #expect(!misspelled.stdout.contains("Run:"), "\(misspelled.stdout)")
    #expect(misspelled.stderr.contains("unknown param `canistr` (did you mean `canister`?)"), "\(misspelled.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/runs"), "no journal was written")
    let typo = try CLI.run(
      [
        "run", "scripts/canister-prod-activation.rb.ic", "--journal", dir + "/runs", "--param",
        "canister=6iu47-dyaaa-aaaaf-qgezb-cai",
      ], in: Corpus.repository)
    #expect(typo.status == 2)
    #expect(typo.stderr.contains("its checksum does not match"), "\(typo.stderr)")
    #expect(typo.stderr.contains("canister-prod-activation.rb.ic:11:7"), "located at the param")
    let groups = try CLI.run(
      ["run", "scripts/canister-prod-activation.rb.ic", "--param", "canister=6iu47-dyaaaa-aaaf-qgeza-cai"],
      in: Corpus.repository)
    #expect(groups.stderr.contains("each group has 5 characters"), "\(groups.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/runs"))
  }

  /// `rbic --help` reads as sentences.
  @Test func helpHasNoRunsOfSpacesInsideSentences() throws {
    let help = try CLI.run(["--help"])
    #expect(help.stdout.contains("and docs/language.md") && help.stdout.contains("a static error"), "\(help.stdout)")
  }
}
