import Foundation

/// Any JSON value, Codable: the envelope of every JSON-RPC message, decoded once and handed to
/// the handler of its method, which decodes its own params.
public enum JSONValue: Codable, Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let n = try? c.decode(Double.self) {
      self = .number(n)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .null: try c.encodeNil()
    case .bool(let b): try c.encode(b)
    case .number(let n):
      if n.rounded() == n, abs(n) < 1e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
    case .string(let s): try c.encode(s)
    case .array(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    }
  }

  public subscript(key: String) -> JSONValue? {
    if case .object(let o) = self { return o[key] }
    return nil
  }

  public var string: String? { if case .string(let s) = self { s } else { nil } }
  public var int: Int? { if case .number(let n) = self, n.rounded() == n, abs(n) < 1e15 { Int(n) } else { nil } }

  /// A Codable value as JSON (through its encoding).
  public static func from<T: Encodable>(_ value: T) -> JSONValue {
    guard let data = try? JSONEncoder().encode(value), let v = try? JSONDecoder().decode(JSONValue.self, from: data)
    else { return .null }
    return v
  }

  /// This JSON as a Codable value (nil when it does not fit).
  public func decode<T: Decodable>(_ type: T.Type) -> T? {
    guard let data = try? JSONEncoder().encode(self) else { return nil }
    return try? JSONDecoder().decode(type, from: data)
  }
}

/// One JSON-RPC 2.0 message: a request (id and method), a notification (method only) or a
/// response (id and result or error).
public struct RPCMessage: Codable, Sendable {
  public var jsonrpc = "2.0"
  public var id: JSONValue?
  public var method: String?
  public var params: JSONValue?
  public var result: JSONValue?
  public var error: RPCError?

  public init(
    id: JSONValue? = nil, method: String? = nil, params: JSONValue? = nil, result: JSONValue? = nil,
    error: RPCError? = nil
  ) {
    self.id = id
    self.method = method
    self.params = params
    self.result = result
    self.error = error
  }

  /// A response carries `result: null` explicitly (a missing result is not a valid response).
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(jsonrpc, forKey: .jsonrpc)
    try c.encodeIfPresent(id, forKey: .id)
    try c.encodeIfPresent(method, forKey: .method)
    try c.encodeIfPresent(params, forKey: .params)
    if let error {
      try c.encode(error, forKey: .error)
    } else if method == nil {
      try c.encode(result ?? .null, forKey: .result)
    }
  }
}

public struct RPCError: Codable, Sendable, Error {
  public var code: Int
  public var message: String
  public init(code: Int, message: String) {
    self.code = code
    self.message = message
  }
  public static let parseError = -32700
  public static let methodNotFound = -32601
  public static let invalidParams = -32602
  public static let serverNotInitialized = -32002
}

/// The base protocol's framing: `Content-Length: N\r\n\r\n` then N bytes of JSON. Reads from a
/// file descriptor; a message over the limit, or a header that does not parse, is reported and
/// skipped, never a crash. After a header without a valid `Content-Length` the length of what
/// follows is unknown, so the reader resynchronises: it drops bytes up to the next
/// `Content-Length:` (in any case), where the next message's header starts, and reads on from there.
public final class MessageReader {
  private let fd: Int32
  private var buffer: [UInt8] = []
  private var eof = false
  /// Set after a malformed header: the next `Content-Length:` starts the next message.
  private var resynchronizing = false
  public static let maxMessage = 64 << 20
  /// A header block is at most this long (a real one is a few dozen bytes).
  static let maxHeader = 64 << 10
  private static let contentLength = Array("content-length:".utf8)

  public init(fd: Int32) { self.fd = fd }

  public enum Event {
    case message(Data)
    case malformed(String)
    case end
  }

  public func next() -> Event {
    while true {
      if resynchronizing {
        if let at = findContentLength() {
          buffer.removeSubrange(0..<at)
          resynchronizing = false
        } else {
          // Keep a tail that may be the start of a split `Content-Length:`.
          buffer.removeSubrange(0..<max(0, buffer.count - Self.contentLength.count))
          guard fill() else { return .end }
          continue
        }
      }
      if let headerEnd = find([13, 10, 13, 10]) {
        let header = String(decoding: buffer[0..<headerEnd], as: UTF8.self)
        var length: Int?
        for line in header.split(separator: "\r\n") {
          let parts = line.split(separator: ":", maxSplits: 1)
          if parts.count == 2, parts[0].lowercased() == "content-length" {
            length = Int(parts[1].trimmingCharacters(in: .whitespaces))
          }
        }
        guard let length, length >= 0, length <= Self.maxMessage else {
          buffer.removeSubrange(0..<(headerEnd + 4))
          resynchronizing = true
          return .malformed("a message header without a valid Content-Length: \(header.prefix(200))")
        }
        let start = headerEnd + 4
        while buffer.count < start + length {
          guard fill() else { return .end }
        }
        let body = Data(buffer[start..<(start + length)])
        buffer.removeSubrange(0..<(start + length))
        return .message(body)
      }
      if buffer.count > Self.maxHeader {  // a header this long is not a header
        buffer.removeAll()
        resynchronizing = true
        return .malformed("a header over 64 KiB")
      }
      guard fill() else { return .end }
    }
  }

  private func find(_ pattern: [UInt8]) -> Int? {
    guard buffer.count >= pattern.count else { return nil }
    for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] {
      if buffer[i..<(i + pattern.count)].elementsEqual(pattern) { return i }
    }
    return nil
  }

  /// Where `Content-Length:` (in any case) starts in the buffer.
  private func findContentLength() -> Int? {
    let pattern = Self.contentLength
    guard buffer.count >= pattern.count else { return nil }
    for i in 0...(buffer.count - pattern.count) {
      var k = 0
      // ASCII lowercase: set bit 5 of letters only (the pattern's other bytes are `-` and `:`).
      while k < pattern.count, buffer[i + k] | (pattern[k] >= 0x61 ? 0x20 : 0) == pattern[k] { k += 1 }
      if k == pattern.count { return i }
    }
    return nil
  }

  private func fill() -> Bool {
    if eof { return false }
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      if n <= 0 {
        eof = true
        return false
      }
      buffer.append(contentsOf: chunk[0..<n])
      return true
    }
  }
}

/// Writes framed messages; one at a time (a lock), so replies and notifications never interleave.
public final class MessageWriter: @unchecked Sendable {
  private let fd: Int32
  private let lock = NSLock()

  public init(fd: Int32) { self.fd = fd }

  public func send(_ message: RPCMessage) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    guard let body = try? encoder.encode(message) else { return }
    let frame = Array("Content-Length: \(body.count)\r\n\r\n".utf8) + Array(body)
    lock.lock()
    defer { lock.unlock() }
    var written = 0
    while written < frame.count {
      let n = frame[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { return }
      written += n
    }
  }
}
