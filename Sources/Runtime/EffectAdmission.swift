import RbicCheck

/// What a run applying a saved plan may do. The effect pipeline asks before every effect, on
/// canisters or local, so such a run does exactly what the plan holds, or stops (exit 4) at the
/// first effect it does not. The plan itself, its file and its staleness check are the command's
/// (`SavedPlan` in RbicTooling); admission is the pipeline's, like every other gate.
package protocol EffectAdmission: Sendable {
  /// The plan file's id, journaled with the run.
  var id: String { get }
  /// nil when the plan holds `effect` (it is then used up), else why not. `created` are the
  /// canisters this run created, in order; `current` gives the run's latest read of a canister.
  func admit(_ effect: Effect, created: [Principal], current: (Principal) -> CanisterState?) -> String?
  /// nil when the plan showed exactly this local effect (it is then used up), else why not.
  func admitLocal(_ effect: Effect, created: [Principal]) -> String?
}

/// A file a run took inputs from (the params file), by its path and the sha256 of its bytes
/// (hex): a saved plan records it and is stale when the bytes change.
package struct InputFile: Codable, Sendable, Equatable {
  package var path: String
  package var sha256: String

  package init(path: String, sha256: String) {
    self.path = path
    self.sha256 = sha256
  }

  /// The file at `path` as it is now: `bytes` are its contents.
  package init(path: String, bytes: [UInt8]) {
    self.init(path: path, sha256: String(ValueFormat.hex(Hashing.sha256(bytes)).dropFirst(2)))
  }
}
