import Foundation
import RbicCheck

/// The per-canister and per-wallet locks that keep parallel branches from mutating one canister or
/// spending from one wallet at once. A branch takes every lock it needs in one step (so no order
/// between branches can deadlock) and passes what it holds down to nested effects, which then take
/// only what they lack (an ensure holds its canister and wallets for the whole check → act →
/// verify; the send inside it takes nothing more).
///
/// `@unchecked Sendable`: `busy` is read and written only while `condition` is locked. An
/// `NSCondition` rather than `Synchronization.Mutex` because a waiter must sleep until another
/// branch releases, which a mutex alone cannot express.
package final class ResourceLocks: @unchecked Sendable {
  private let condition = NSCondition()
  private var busy: Set<Principal> = []

  package init() {}

  /// Runs `body` holding the locks of `wanted` (those in `held` are already this branch's).
  package func holding<T, E: Error>(_ wanted: Set<Principal>, held: Set<Principal>, _ body: () throws(E) -> T)
    throws(E) -> T
  {
    let take = wanted.subtracting(held)
    if take.isEmpty { return try body() }
    condition.lock()
    while !busy.isDisjoint(with: take) { condition.wait() }
    busy.formUnion(take)
    condition.unlock()
    defer {
      condition.lock()
      busy.subtract(take)
      condition.broadcast()
      condition.unlock()
    }
    return try body()
  }
}
