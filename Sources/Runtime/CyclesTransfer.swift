import RbicCheck

/// The canister methods known to move cycles out of the operator's funds, as a table: a `call` of
/// one counts its amount against the run's ceiling (reserved before it is sent) exactly as the
/// `wallet` and `top_up` actions do, and locks the recipient. A call of one whose amount cannot be
/// read from its arguments is always asked, even with `--yes`.
struct CyclesTransfer {
  /// Cycles it moves (0 when `unknownAmount`).
  var amount: Int128
  var recipient: Principal?
  var unknownAmount: Bool

  /// A method that moves cycles: where its amount and its recipient are in its argument record,
  /// and which canister it must be called on (nil: any, as cycles wallets are any canister).
  struct Method {
    var name: String
    var amount: String
    var recipient: String?
    var canister: Principal?
  }

  /// The cycles ledger (its `withdraw`, `create_canister` and ICRC-1 transfers move cycles).
  static let cyclesLedger = Principal(text: "um5iw-rqaaa-aaaaq-qaaba-cai")

  static let methods: [Method] = [
    // The cycles wallet.
    Method(name: "wallet_send", amount: "amount", recipient: "canister"),
    Method(name: "wallet_send128", amount: "amount", recipient: "canister"),
    Method(name: "wallet_call", amount: "cycles", recipient: "canister"),
    Method(name: "wallet_call128", amount: "cycles", recipient: "canister"),
    Method(name: "wallet_create_canister", amount: "cycles"),
    Method(name: "wallet_create_canister128", amount: "cycles"),
    // The cycles ledger.
    Method(name: "withdraw", amount: "amount", recipient: "to", canister: cyclesLedger),
    Method(name: "withdraw_from", amount: "amount", recipient: "to", canister: cyclesLedger),
    Method(name: "create_canister", amount: "amount", canister: cyclesLedger),
    Method(name: "create_canister_from", amount: "amount", canister: cyclesLedger),
    Method(name: "icrc1_transfer", amount: "amount", canister: cyclesLedger),
    Method(name: "icrc2_transfer_from", amount: "amount", canister: cyclesLedger),
    Method(name: "icrc2_approve", amount: "amount", canister: cyclesLedger),
  ]

  /// What a call of `method` on `canister` moves; nil when the method moves no cycles.
  static func find(canister: Principal, method: String, _ arguments: [Value]) -> CyclesTransfer? {
    guard let known = methods.first(where: { $0.name == method && ($0.canister == nil || $0.canister == canister) })
    else { return nil }
    for case .record(let keys, let values) in arguments {
      var amount: Int128?
      var recipient: Principal?
      for (key, value) in zip(keys, values) {
        switch (key, value) {
        case (known.amount, .cycles(let c)): amount = c
        case (known.amount, .int(let i)): amount = Int128(i)
        case (known.recipient, .principal(let p)): recipient = p
        default: break
        }
      }
      if let amount { return CyclesTransfer(amount: max(0, amount), recipient: recipient, unknownAmount: false) }
    }
    return CyclesTransfer(amount: 0, recipient: nil, unknownAmount: true)
  }
}
