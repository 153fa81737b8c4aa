import Foundation

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

  /// The unknown outcomes on `network` in `directory`'s journals that no journal has reconciled.
  package static func scan(directory: String, network: String, excluding current: String?) -> [PendingOutcome] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    var open: [PendingOutcome] = []
    var closed: Set<String> = []
    let dates = ISO8601DateFormatter()
    dates.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    for name in names.sorted() where name.hasSuffix(".jsonl") {
      let path = (directory as NSString).appendingPathComponent(name)
      guard path != current, let data = FileManager.default.contents(atPath: path) else { continue }
      for line in data.split(separator: UInt8(ascii: "\n")) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
          let event = (object["event"] as? String).flatMap(JournalEvent.init(rawValue:))
        else { continue }
        switch event {
        case .reconciled:
          if let id = object["request"] as? String { closed.insert(id) }
        case .outcomeUnknown:
          guard let id = object["request"] as? String, object["network"] as? String == network else { continue }
          let canisters = (object["canisters"] as? [String] ?? []).compactMap(Principal.init(text:))
          open.append(
            PendingOutcome(
              id: id, operation: object["operation"] as? String ?? "a mutation", canisters: canisters,
              time: (object["t"] as? String).flatMap(dates.date(from:)) ?? .distantPast, journal: name))
        default: continue
        }
      }
    }
    return open.filter { !closed.contains($0.id) }
  }
}
