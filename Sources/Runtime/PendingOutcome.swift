import Foundation
import RbicCheck

/// A mutation an earlier run left with an unknown outcome (timed out, interrupted, the tool died):
/// it may still land. Found by scanning the journal directory when a run starts; closed by a
/// `reconciled` line in any later journal. The seed's CMC notes are the model: a request is
/// identified once, and never sent again on hope.
package struct PendingOutcome: Sendable, Equatable {
  package var id: String
  package var operation: String
  package var canisters: [Principal]
  package var time: Date
  /// The journal file that recorded it.
  package var journal: String
  /// A re-read shows whether it happened (false for a create or a conversion).
  package var observable = true
  /// Only its `action_start` was journaled: rbic ended while the tool ran.
  package var started = false

  /// How far back a run looks for unknown outcomes (or further, with a longer settle window):
  /// an older one has settled, so a run's start-up cost does not grow with the journal
  /// directory's history.
  package static let horizon: Double = 24 * 3600

  /// The events that matter here, as bytes: a journal without either is skipped unparsed (most
  /// are), and only the lines that hold one are parsed as JSON.
  private static let markers = ["\"outcome_unknown\"", "\"reconciled\"", "\"action_start\"", "\"action_end\""].map {
    Data($0.utf8)
  }
  private static func mayMatter(_ bytes: Data) -> Bool {
    markers.contains { bytes.range(of: $0) != nil }
  }

  /// The unknown outcomes on `network` in `directory`'s journals that no journal has reconciled.
  /// Only journals written to within the last `window` seconds are read, and only their
  /// `outcome_unknown` and `reconciled` lines are parsed.
  package static func scan(
    directory: String, network: String, excluding current: String?, within window: Double = .infinity
  ) -> [PendingOutcome] {
    let cutoff = Date().addingTimeInterval(-window)
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { name in
      guard name.hasSuffix(".jsonl") else { return false }
      let modified =
        (try? FileManager.default.attributesOfItem(atPath: (directory as NSString).appendingPathComponent(name)))?[
          .modificationDate] as? Date
      return (modified ?? .distantFuture) >= cutoff
    }
    var open: [PendingOutcome] = []
    var unended: [String: PendingOutcome] = [:]
    var closed: Set<String> = []
    let dates = ISO8601DateFormatter()
    dates.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    for name in names.sorted() {
      let path = (directory as NSString).appendingPathComponent(name)
      guard path != current, let data = FileManager.default.contents(atPath: path), Self.mayMatter(data) else {
        continue
      }
      let decoder = JSONDecoder()
      for line in data.split(separator: UInt8(ascii: "\n")) where Self.mayMatter(line) {
        guard let entry = try? decoder.decode(JournalEntry.self, from: line) else { continue }
        func outcome(started: Bool) -> PendingOutcome? {
          guard let id = entry["request"]?.text, entry["network"]?.text == network else { return nil }
          let canisters = (entry["canisters"]?.list ?? []).compactMap { $0.text.flatMap(Principal.init(text:)) }
          return PendingOutcome(
            id: id, operation: entry["operation"]?.text ?? "a mutation", canisters: canisters,
            time: dates.date(from: entry.time) ?? .distantPast, journal: name,
            observable: entry["observable"]?.bool ?? true, started: started)
        }
        switch entry.event {
        case .reconciled:
          if let id = entry["request"]?.text { closed.insert(id) }
        case .actionStart:
          // A local effect (a command, a file write) acts on this machine, not the IC: a run
          // killed during one leaves nothing in flight on the network.
          if entry["local"]?.bool != true, let p = outcome(started: true) { unended[p.id] = p }
        case .actionEnd:
          if let id = entry["request"]?.text { unended[id] = nil }
        case .outcomeUnknown:
          if let p = outcome(started: false) { open.append(p) }
        default: continue
        }
      }
    }
    return (open + unended.values.sorted { $0.time < $1.time }).filter { !closed.contains($0.id) }
  }
}
