import Foundation
import RbicCheck
import RbicRuntime

/// The world's rules for the identity and its money: its principal, its cycles-ledger and ICP
/// balances, a wallet's `wallet_send`, a top-up from the cycles ledger, and ICP minted into cycles.
extension SimulatedIC {
  /// The cycles ledger's fee per withdrawal.
  package static let cyclesLedgerFee: Int128 = 100_000_000
  /// The ICP ledger's transfer fee, in e8s.
  package static let icpFee: Int64 = 10_000

  public func identityPrincipal() throws(BackendError) -> Principal {
    lock.lock()
    defer { lock.unlock() }
    try readFault(.identity, nil)
    return try callerPrincipal()
  }

  public func cyclesBalance() throws(BackendError) -> Int128 {
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    _ = try callerPrincipal()
    return Int128(state.identities[identityName]?.cycles_ledger ?? "0") ?? 0
  }

  public func walletSend(wallet: Principal, to canister: Principal, amount: Int128) throws(BackendError) {
    try mutate(.walletSend, canister) { () throws(BackendError) in
      var w = try controlled(wallet)
      guard takenAsWallet(w) else {
        throw .reject(code: "IC0536", message: "Canister \(wallet.text) has no update method 'wallet_send'")
      }
      var target = try record(canister)
      guard cycles(w) >= amount else {
        throw .insufficientFunds(
          "wallet \(wallet.text) holds \(ValueFormat.cycles(cycles(w))), cannot send \(ValueFormat.cycles(amount))")
      }
      w.cycles = String(try Self.remainder(cycles(w), amount))
      state.canisters[wallet.text] = w
      target = state.canisters[canister.text] ?? target
      target.cycles = String(try Self.total(cycles(target), amount))
      state.canisters[canister.text] = target
    }
  }

  public func topUp(_ canister: Principal, amount: Int128) throws(BackendError) {
    try mutate(.topUp, canister) { () throws(BackendError) in
      _ = try callerPrincipal()
      var target = try record(canister)
      let balance = Int128(state.identities[identityName]?.cycles_ledger ?? "0") ?? 0
      guard balance >= amount else {
        throw .insufficientFunds(
          "failed to top up: Insufficient cycles. Requested: \(ValueFormat.grouped(amount)) cycles, balance: \(balance) cycles."
        )
      }
      state.identities[identityName]?.cycles_ledger = String(try Self.remainder(balance, amount))
      target.cycles = String(try Self.total(cycles(target), amount))
      state.canisters[canister.text] = target
    }
  }

  public func icpBalance() throws(BackendError) -> Int64 {
    lock.lock()
    defer { lock.unlock() }
    deliverDue()
    try readFault(.icpBalance, nil)
    return try icpE8s()
  }

  /// The acting identity's ICP, in e8s (in plan, read from the source the first time).
  func icpE8s() throws(BackendError) -> Int64 {
    _ = try callerPrincipal()
    try icpFromSource()
    return Int64(state.identities[identityName]?.icp_e8s ?? "0") ?? 0
  }

  /// The ICP transfer to the cycles minting canister and its notification, as one request: the
  /// sim has no state between them, so a fault hits the whole conversion.
  public func mintCycles(icp e8s: Int64) throws(BackendError) -> Int128 {
    var minted: Int128 = 0
    try mutate(.mint, nil) { () throws(BackendError) in
      let balance = try icpE8s()
      let (needed, overflow) = e8s.addingReportingOverflow(Self.icpFee)
      guard !overflow, balance >= needed else {
        throw .insufficientFunds(
          "Insufficient funds: \(ValueFormat.icp(needed)) required, \(ValueFormat.icp(balance)) available.")
      }
      let rate = state.cycles_per_icp.flatMap { Int128($0) } ?? 3_519_900_000_000
      let (product, o1) = Int128(e8s).multipliedReportingOverflow(by: rate)
      minted = product / 100_000_000
      let (cycles, o2) = ledger(identityName).addingReportingOverflow(minted)
      let (left, o3) = balance.subtractingReportingOverflow(needed)
      guard !o1, !o2, !o3 else { throw .reject(code: "IC0503", message: "the minted amount overflows") }
      state.identities[identityName]?.icp_e8s = String(left)
      state.identities[identityName]?.cycles_ledger = String(cycles)
    }
    return minted
  }

  /// `a + b` and `a - b` for amounts a world holds (a state file may give any): past the largest
  /// amount is a reject, never a trap.
  static func total(_ a: Int128, _ b: Int128) throws(BackendError) -> Int128 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    guard !overflow else { throw .reject(code: "IC0503", message: "the amount of cycles overflows") }
    return sum
  }

  static func remainder(_ a: Int128, _ b: Int128) throws(BackendError) -> Int128 {
    let (difference, overflow) = a.subtractingReportingOverflow(b)
    guard !overflow else { throw .reject(code: "IC0503", message: "the amount of cycles overflows") }
    return difference
  }
}
