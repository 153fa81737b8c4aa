import Foundation
import RbicBackends
import RbicCheck
import RbicRuntime

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The standard builtins and actions, each registered with its signature (which the checker uses)
/// and its body (which the interpreter runs).
///
/// Builtins: `sha256`, `file`, `canister_ids`, `identity`, `network`, `path`, `now`, `env`,
/// `secret_env`, `run`, `http_get`, `range`, `len`, `min`, `max`, `sum`, and the lifecycle
/// builtins (`LifecycleBuiltins`). Actions (`StandardActions`): `wallet`, `top_up`, `install`,
/// `add_controllers`, `set_controllers`, `update_settings`, `start`, `stop`. `run` and `http_get`
/// are local effects: they go through the effect pipeline, which withholds them in `plan` and
/// `--read-only`.
extension Registry {
  public static let standard: Registry = {
    var r = Registry()
    r.register(
      BuiltinSignature(
        "sha256", [BuiltinParameter("file", .path)], result: .hash, summary: "the sha256 of a file's bytes"),
      body: { args, context throws(RuntimeError) in
        guard case .path(let path) = args[0] else { return .none }
        guard let data = context.contents(of: path) else {
          throw .message(.environment, "cannot read `\(path)` to hash it")
        }
        return .hash(Hashing.sha256(Array(data)))
      })
    r.register(
      BuiltinSignature(
        "file", [BuiltinParameter("path", .path)], result: .blob,
        summary: "a file's bytes, to send as a Candid `blob` (at most the IC's 2 MiB message limit)"),
      body: { args, context throws(RuntimeError) in
        guard case .path(let path) = args[0] else { return .none }
        let limit = CandidEncoding.messageLimit
        if let size = context.size(of: path), size > limit {
          throw .message(
            .failed,
            "`\(path)` is \(ValueFormat.bytesText(Int64(size))): over the IC's \(ValueFormat.bytesText(Int64(limit))) message limit, it cannot be sent as an argument"
          )
        }
        guard let data = context.contents(of: path) else { throw .message(.environment, "cannot read `\(path)`") }
        guard data.count <= limit else {
          throw .message(.failed, "`\(path)` grew past the IC's 2 MiB message limit while it was read")
        }
        return .blob(Array(data))
      })
    r.register(
      BuiltinSignature(
        "canister_ids",
        [
          BuiltinParameter("name", .text),
          BuiltinParameter("key", .text, default: "the run's network", value: Value.none),
        ],
        result: .canister, summary: "a canister id from canister_ids.json or icp's mapping files"),
      body: { args, context throws(RuntimeError) in
        guard let (name, key, id) = try LifecycleBuiltins.canisterID(args, context) else { return .none }
        guard let p = id else {
          throw .message(
            .failed,
            "no id for canister `\(name)` under `\(key)` in canister_ids.json or .icp mappings; `find_canister_id` gives `none` instead, to branch on"
          )
        }
        return .principal(p)
      })
    r.register(
      BuiltinSignature(
        "identity", [], result: .principal, summary: "the acting identity's principal"),
      body: { _, context throws(RuntimeError) in
        .principal(try context.identityPrincipal())
      })
    r.register(
      BuiltinSignature(
        "network", [], result: .text,
        summary: "the name of the network the run acts on (`--network`, else `use network`, else `local`)"),
      body: { _, context in .text(context.network.name) })
    r.register(
      BuiltinSignature(
        "path", [BuiltinParameter("text", .text)], result: .path,
        summary: "a text as a `path` (a string literal is already one where a path is expected)"),
      body: { args, _ in
        guard case .text(let text) = args[0] else { return .none }
        return .path(text)
      })
    r.register(
      BuiltinSignature(
        "now", [], result: .text, summary: "the current time, RFC 3339"),
      body: { _, _ in .text(ISO8601DateFormatter().string(from: Date())) })
    r.register(
      BuiltinSignature(
        "env", [BuiltinParameter("name", .text)], result: .optional(.text), summary: "an environment variable"),
      body: { args, context in
        guard case .text(let name) = args[0], let v = context.environment[name] else { return .none }
        return .text(v)
      })
    r.register(
      BuiltinSignature(
        "secret_env", [BuiltinParameter("name", .text)], result: .optional(.secret),
        summary: "an environment variable that is never printed or journaled"),
      body: { args, context in
        guard case .text(let name) = args[0], let v = context.environment[name] else { return .none }
        return .secret(Secret(v))
      })
    r.register(
      BuiltinSignature(
        "run",
        [
          BuiltinParameter("program", .text),
          BuiltinParameter("stdin", .optional(.secret), default: "none", value: Value.none),
        ],
        variadic: .text,
        result: .record([.init("status", .int), .init("stdout", .text), .init("stderr", .text)]),
        summary:
          "runs a local command from an argv (no shell), journaled; a secret goes in by `stdin:`, never in argv; not in plan or --read-only",
        typeRule: { types in
          // In parameter order: program, stdin, then the argv.
          let argv = [types[0]] + types.dropFirst(2)
          if argv.contains(where: \.containsSecret) {
            return .failure(
              TypeRuleError(
                "a secret never goes on a command line, where any process on the machine can read it; pass it on standard input: `run(\"tool\", \"--password-stdin\", stdin: secret)`"
              ))
          }
          for t in argv where ![.text, .path].contains(t.unwrapped) {
            return .failure(TypeRuleError("arguments are `text` or `path` (or optionals of them), not `\(t)`"))
          }
          guard [.text, .secret, .none].contains(types[1].unwrapped) else {
            return .failure(TypeRuleError("`stdin` is a `text` or a `secret`, not `\(types[1])`"))
          }
          return .success(.record([.init("status", .int), .init("stdout", .text), .init("stderr", .text)]))
        }),
      body: { args, context throws(RuntimeError) in
        let input = args[1]
        let argv = [args[0]] + args.dropFirst(2)
        let shown = argv.map { ValueFormat.display($0) }
        // The exact argv (no secret can be in it): what a saved plan admits.
        let exact = "[" + shown.map(ValueFormat.jsonQuote).joined(separator: ",") + "]"
        let effect = Effect(
          "run", target: .local,
          description: "run `\(shown.joined(separator: " "))`\(input == .none ? "" : " (with standard input)")",
          detail: exact)
        return try context.performLocal(effect) { () throws(RuntimeError) in
          try runCommand(argv, input: input, shown, context)
        } ?? .unknown("run \(shown.joined(separator: " "))")
      })
    r.register(
      BuiltinSignature(
        "http_get", [BuiltinParameter("url", .text)], result: .record([.init("status", .int), .init("body", .text)]),
        summary: "an HTTP GET (libcurl, through FoundationNetworking); not in plan or --read-only"),
      body: { args, context throws(RuntimeError) in
        guard case .text(let url) = args[0] else { return .none }
        return try context.performLocal(Effect("http_get", target: .local, description: "GET \(url)")) {
          () throws(RuntimeError) in try httpGet(args, context)
        } ?? .unknown("http_get \(url)")
      })
    r.register(
      BuiltinSignature(
        "range", [BuiltinParameter("count", .int)], result: .list(.int),
        summary: "the list 0, 1, …, count - 1 (at most 10M)"),
      body: { args, _ throws(RuntimeError) in
        guard case .int(let n) = args[0], n >= 0, n <= 10_000_000 else {
          throw .message(.failed, "`range` takes a count from 0 to 10_000_000")
        }
        return .list((0..<n).map(Value.int))
      })
    r.register(
      BuiltinSignature(
        "len", [BuiltinParameter("value", .error)], result: .int, summary: "the length of a list or text",
        typeRule: { types in
          switch types[0] {
          case .list, .text: .success(.int)
          case let t: .failure(TypeRuleError("takes a list or a text, not `\(t)`"))
          }
        }),
      body: { args, _ in
        switch args[0] {
        case .list(let items): .int(Int64(items.count))
        case .text(let t): .int(Int64(t.count))
        default: .none
        }
      })
    for name in ["min", "max"] {
      r.register(
        BuiltinSignature(
          name, [BuiltinParameter("first", .error)], variadic: .error, result: .error,
          summary: "the \(name == "min" ? "smallest" : "largest") of a list or of its arguments",
          typeRule: { types in orderedElement(types) }),
        body: { args, _ throws(RuntimeError) in try extreme(args, largest: name == "max") })
    }
    r.register(
      BuiltinSignature(
        "sum", [BuiltinParameter("values", .error)], result: .error, summary: "the sum of a list of numbers or amounts",
        typeRule: { types in
          guard case .list(let e) = types[0], e == .int || e.isUnit else {
            return .failure(TypeRuleError("takes a list of numbers or amounts, not `\(types[0])`"))
          }
          return .success(e)
        }), body: { args, _ throws(RuntimeError) in try total(args[0]) })

    LifecycleBuiltins.register(into: &r)
    StandardActions.register(into: &r)
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

/// `min`/`max` over one list or several arguments.
private func extreme(_ args: [Value], largest: Bool) throws(RuntimeError) -> Value {
  var items = args
  if args.count == 1, case .list(let list) = args[0] { items = list }
  guard var best = items.first else { throw .message(.failed, "`\(largest ? "max" : "min")` of an empty list") }
  for v in items.dropFirst() {
    guard let better = Arithmetic.isOrdered(v, before: best) else { continue }
    if better != largest { best = v }
  }
  return best
}

/// `sum` of a list, with overflow as an error.
private func total(_ list: Value) throws(RuntimeError) -> Value {
  guard case .list(let items) = list, var acc = items.first else {
    if case .list = list { return .int(0) }
    throw .message(.failed, "`sum` takes a list")
  }
  for v in items.dropFirst() {
    guard let next = Arithmetic.apply(.add, acc, v) else { throw .message(.failed, "overflow in `sum`") }
    acc = next
  }
  return acc
}

/// `run(argv…)`: a local command from an argv, never through a shell, in the project directory.
/// It waits on the calling interpreter thread (never on Swift's cooperative pool, so an async
/// host cannot starve it), and stops the child (SIGTERM, then SIGKILL) on Ctrl-C, after
/// `RunOptions.commandTimeout`, or when its output passes the same 64 MiB cap as tool calls.
/// Journaled with secrets shown as `<secret>`; when any argument is a secret, its output is secret.
private func runCommand(_ args: [Value], input: Value, _ shown: [String], _ context: BuiltinContext)
  throws(RuntimeError) -> Value
{
  // The checker refuses a secret in the argv; a secret goes in on standard input only.
  let argv = args.map { v -> String in
    switch v {
    case .text(let t), .path(let t): t
    default: ValueFormat.display(v)
    }
  }
  let command = "`\(shown.joined(separator: " "))`"
  if let i = args.firstIndex(of: .none) {
    throw .message(.failed, "`run`: argument \(i + 1) is `none` (an unset `env` or `secret_env`)")
  }
  let tainted = input.containsSecret
  guard let program = argv.first, !program.isEmpty else { throw .message(.failed, "`run` needs a program") }
  let process = Process()
  if program.contains("/") {
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = Array(argv.dropFirst())
  } else {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
  }
  process.currentDirectoryURL = URL(fileURLWithPath: context.projectDirectory)
  // The run's environment (the host's; `rbic test` sets a test's `env:` and `PATH`), never
  // another one.
  process.environment = context.environment
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rbic-run-\(UUID().uuidString)")
  let started = Date()
  func record(_ status: Int32, _ output: String) {
    context.journalCommand(
      ExternalCommand(
        argv: shown, status: status, seconds: Date().timeIntervalSince(started),
        output: tainted ? "<output withheld: the command was given a secret>" : output))
  }
  do {
    // Readable by this user only: it holds the command's input and output.
    try FileManager.default.createDirectory(
      at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("out")
    let errURL = directory.appendingPathComponent("err")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    let stdinText: String? =
      switch input {
      case .text(let t): t
      case .secret(let secret): secret.reveal
      default: nil
      }
    switch stdinText {
    case let t?:
      let inURL = directory.appendingPathComponent("in")
      FileManager.default.createFile(atPath: inURL.path, contents: Data(t.utf8), attributes: [.posixPermissions: 0o600])
      process.standardInput = try FileHandle(forReadingFrom: inURL)
    default:
      process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    func size(_ url: URL) -> Int {
      ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? 0
    }
    var ticks = 0
    while process.isRunning {
      var stop: (RuntimeError.Kind, String)?
      if context.cancellation.isCancelled {
        stop = (.interrupted, "interrupted: \(command) was stopped")
      } else if Date().timeIntervalSince(started) > context.commandTimeout {
        stop = (.environment, "\(command) took longer than \(Int(context.commandTimeout)) s and was stopped")
      } else if ticks % 20 == 0, size(outURL) + size(errURL) > runOutputCap {
        stop = (.environment, "\(command) printed more than \(runOutputCap >> 20) MiB and was stopped")
      }
      if let (kind, message) = stop {
        process.terminate()
        Thread.sleep(forTimeInterval: 0.2)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        record(process.terminationStatus, message)
        throw RuntimeError.message(kind, message)
      }
      ticks += 1
      Thread.sleep(forTimeInterval: 0.01)
    }
    try out.close()
    try err.close()
    guard size(outURL) + size(errURL) <= runOutputCap else {
      record(process.terminationStatus, "output over the cap")
      throw RuntimeError.message(.environment, "\(command) printed more than \(runOutputCap >> 20) MiB")
    }
    let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
    let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
    record(process.terminationStatus, stdout + stderr)
    let text: (String) -> Value = { tainted ? .secret(Secret($0)) : .text($0) }
    return .record(
      ["status", "stdout", "stderr"], [.int(Int64(process.terminationStatus)), text(stdout), text(stderr)])
  } catch {
    if let stopped = error as? RuntimeError { throw stopped }
    record(-1, "\(error)")
    throw .message(.environment, "cannot run \(command): \(error.localizedDescription)")
  }
}

/// The most output `run` keeps, as for tool calls.
private let runOutputCap = 64 << 20

/// `http_get(url)`: one GET through URLSession (libcurl underneath on Linux), 30 s timeout.
private func httpGet(_ args: [Value], _ context: BuiltinContext) throws(RuntimeError) -> Value {
  guard case .text(let text) = args[0], let url = URL(string: text), url.scheme == "http" || url.scheme == "https"
  else {
    throw .message(.failed, "`http_get` needs an http or https URL")
  }
  var request = URLRequest(url: url, timeoutInterval: 30)
  request.httpMethod = "GET"
  let box = ResultBox<HTTPReply>()
  let semaphore = DispatchSemaphore(value: 0)
  let started = Date()
  let task = URLSession.shared.dataTask(with: request) { data, response, error in
    box.value = HTTPReply(
      data: data, status: (response as? HTTPURLResponse)?.statusCode, error: error?.localizedDescription)
    semaphore.signal()
  }
  task.resume()
  // Wait in slices, so Ctrl-C or SIGTERM ends the request within a tenth of a second.
  while semaphore.wait(timeout: .now() + 0.1) == .timedOut {
    if context.cancellation.isCancelled {
      task.cancel()
      throw .message(.interrupted, "interrupted: GET \(text) was stopped")
    }
  }
  let reply = box.value ?? HTTPReply(error: "no reply")
  let (data, status, error) = (reply.data, reply.status, reply.error)
  context.journalCommand(
    ExternalCommand(
      argv: ["GET", text], status: Int32(status ?? -1), seconds: Date().timeIntervalSince(started), output: ""))
  if let error { throw .message(.environment, "GET \(text) failed: \(error)") }
  return .record(
    ["status", "body"], [.int(Int64(status ?? 0)), .text(String(decoding: data ?? Data(), as: UTF8.self))])
}

/// What a GET brought back, handed from URLSession's queue to the waiting thread.
private struct HTTPReply: Sendable {
  var data: Data?
  var status: Int?
  var error: String?
}
