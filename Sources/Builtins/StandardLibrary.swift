import RbicRuntime

/// The standard builtins and actions (DESIGN §2.5–2.6), as signatures the checker uses.
///
/// Builtins: `sha256`, `canister_ids`, `identity`, `now`, `env`, `secret_env`, `run`, `http_get`,
/// `len`, `min`, `max`, `sum`. Actions: `wallet`, `top_up`, `install`, `add_controllers`,
/// `set_controllers`, `start`, `stop`.
extension Registry {
  public static let standard: Registry = {
    var r = Registry()
    r.register(
      BuiltinSignature(
        "sha256", [BuiltinParameter("file", .path)], result: .hash, summary: "the sha256 of a file's bytes"))
    r.register(
      BuiltinSignature(
        "canister_ids", [BuiltinParameter("name", .text), BuiltinParameter("key", .text, default: "\"ic\"")],
        result: .canister, summary: "a canister id from canister_ids.json or icp's mapping files"))
    r.register(BuiltinSignature("identity", [], result: .principal, summary: "the acting identity's principal"))
    r.register(BuiltinSignature("now", [], result: .text, summary: "the current time, RFC 3339"))
    r.register(
      BuiltinSignature(
        "env", [BuiltinParameter("name", .text)], result: .optional(.text), summary: "an environment variable"))
    r.register(
      BuiltinSignature(
        "secret_env", [BuiltinParameter("name", .text)], result: .optional(.secret),
        summary: "an environment variable that is never printed or journaled"))
    r.register(
      BuiltinSignature(
        "run", [BuiltinParameter("program", .text)], variadic: .text,
        result: .record([.init("status", .int), .init("stdout", .text), .init("stderr", .text)]),
        summary: "runs a local command from an argv (no shell), journaled",
        typeRule: { types in
          for t in types where t != .text && t != .path && t != .secret {
            return .failure(TypeRuleError("arguments are `text`, `path` or `secret`, not `\(t)`"))
          }
          return .success(.record([.init("status", .int), .init("stdout", .text), .init("stderr", .text)]))
        }))
    r.register(
      BuiltinSignature(
        "http_get", [BuiltinParameter("url", .text)], result: .record([.init("status", .int), .init("body", .text)]),
        summary: "an HTTP GET"))
    r.register(
      BuiltinSignature(
        "len", [BuiltinParameter("value", .error)], result: .int, summary: "the length of a list or text",
        typeRule: { types in
          switch types[0] {
          case .list, .text: .success(.int)
          case let t: .failure(TypeRuleError("takes a list or a text, not `\(t)`"))
          }
        }))
    for name in ["min", "max"] {
      r.register(
        BuiltinSignature(
          name, [BuiltinParameter("first", .error)], variadic: .error, result: .error,
          summary: "the \(name == "min" ? "smallest" : "largest") of a list or of its arguments",
          typeRule: { types in orderedElement(types) }))
    }
    r.register(
      BuiltinSignature(
        "sum", [BuiltinParameter("values", .error)], result: .error, summary: "the sum of a list of numbers or amounts",
        typeRule: { types in
          guard case .list(let e) = types[0], e == .int || e.isUnit else {
            return .failure(TypeRuleError("takes a list of numbers or amounts, not `\(types[0])`"))
          }
          return .success(e)
        }))

    r.register(
      ActionSignature(
        "wallet", converges: [.comparison(.cycles, .atLeast)], positional: BuiltinParameter("wallet", .wallet),
        positionalRequired: true, labeled: [BuiltinParameter("amount", .cycles)],
        summary: "sends the deficit plus a margin from a cycles wallet (`wallet_send`)"))
    r.register(
      ActionSignature(
        "top_up", converges: [.comparison(.cycles, .atLeast)], labeled: [BuiltinParameter("amount", .cycles)],
        summary: "tops up from the identity's cycles-ledger balance (`icp canister top-up`)"))
    r.register(
      ActionSignature(
        "install", converges: [.comparison(.hash, .equal)], positional: BuiltinParameter("wasm", .path),
        positionalRequired: true, labeled: [BuiltinParameter("mode", .text)],
        words: ["mode": ["auto", "install", "upgrade", "reinstall"]],
        summary: "installs when empty, upgrades when the hash differs; `mode reinstall` only when written"))
    r.register(
      ActionSignature(
        "add_controllers", converges: [.comparison(.controllers, .contains)],
        summary: "adds exactly the missing controllers"))
    r.register(
      ActionSignature(
        "set_controllers", converges: [.comparison(.controllers, .equal)],
        summary: "adds and removes controllers to match exactly; never leaves none or drops the acting identity"))
    r.register(
      ActionSignature(
        "start", converges: [.comparison(.status, .equal)], requiredStatus: "running", summary: "starts the canister"))
    r.register(
      ActionSignature(
        "stop", converges: [.comparison(.status, .equal)], requiredStatus: "stopped", summary: "stops the canister"))
    return r
  }()
}

/// `min`/`max`: one list of ordered values, or several ordered arguments of one type.
private func orderedElement(_ types: [RType]) -> Result<RType, TypeRuleError> {
  if types.count == 1 {
    guard case .list(let e) = types[0], e.isOrdered else {
      return .failure(TypeRuleError("takes a list of numbers, amounts or texts, or several of them, not `\(types[0])`"))
    }
    return .success(e)
  }
  let first = types[0]
  guard first.isOrdered, types.allSatisfy({ $0 == first }) else {
    return .failure(
      TypeRuleError(
        "arguments must be numbers, amounts or texts of one type, not \(types.map { "`\($0)`" }.joined(separator: ", "))"
      ))
  }
  return .success(first)
}
