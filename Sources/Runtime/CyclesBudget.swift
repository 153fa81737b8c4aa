import RbicCheck
import Synchronization

/// The run's cycles ceiling as a reservation, not a check: an effect that moves cycles reserves its
/// amount atomically before it acts, so parallel branches can never together move more than the
/// ceiling. A reservation is committed when the effect happened or its outcome is unknown (an
/// unknown send may have landed), and released only when it provably did not happen.
package final class CyclesBudget: Sendable {
  package let ceiling: Int128
  private let state = Mutex<(moved: Int128, reserved: Int128)>((0, 0))

  package init(ceiling: Int128) { self.ceiling = ceiling }

  /// Reserves `amount`, or returns the total the run would reach (above the ceiling) without
  /// reserving anything. Reserving, committing or releasing nothing (0) is a no-op.
  package func reserve(_ amount: Int128) -> Int128? {
    guard amount > 0 else { return nil }
    return state.withLock { s in
      let (total, overflow) = s.moved.addingReportingOverflow(s.reserved)
      let (wanted, overflow2) = total.addingReportingOverflow(amount)
      if overflow || overflow2 || wanted > ceiling { return overflow || overflow2 ? Int128.max : wanted }
      s.reserved += amount
      return nil
    }
  }

  /// The effect happened, or may have: the amount counts as moved.
  package func commit(_ amount: Int128) {
    state.withLock { s in
      s.reserved -= amount
      s.moved += amount
    }
  }

  /// The effect provably did not happen.
  package func release(_ amount: Int128) {
    state.withLock { s in s.reserved -= amount }
  }
}
