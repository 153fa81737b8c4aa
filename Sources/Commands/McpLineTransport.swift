import Foundation
import Logging
import MCP
import RbicCheck
import RbicRuntime
import Synchronization

/// `rbic mcp`'s transport: newline-delimited JSON-RPC on standard input and output, read in linear
/// time (each byte is looked at once for the end of its line, however the line arrives) and with a
/// size limit. A request longer than `maxLine` is skipped to its end and answered with a JSON-RPC
/// error, and the server goes on. Reads block a thread of their own, so nothing polls.
actor McpLineTransport: Transport {
  /// The longest request line taken (runbook sources travel in requests; 4 MiB is far past any).
  static let maxLine = 4 << 20

  nonisolated let logger = Logger(label: "rbic.mcp.transport", factory: { _ in SwiftLogNoOpLogHandler() })
  private let input: Int32
  private let output: Int32
  private let stream: AsyncThrowingStream<Data, Swift.Error>
  private let continuation: AsyncThrowingStream<Data, Swift.Error>.Continuation
  private var started = false

  init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
    self.input = input
    self.output = output
    (stream, continuation) = AsyncThrowingStream.makeStream()
  }

  func connect() async throws {
    guard !started else { return }
    started = true
    let (input, continuation) = (self.input, self.continuation)
    let thread = Thread { [self] in
      Self.readLines(from: input, maxLine: Self.maxLine) { line in
        switch line {
        case .message(let data): continuation.yield(data)
        case .tooLong(let size):
          Task { await self.refuse(size) }
        }
      }
      continuation.finish()
    }
    thread.start()
  }

  func disconnect() async { continuation.finish() }

  func send(_ data: Data) async throws {
    var bytes = Array(data)
    bytes.append(UInt8(ascii: "\n"))
    guard FileWriting.writeAll(output, bytes) else {
      throw MCPError.internalError("cannot write to standard output (errno \(errno))")
    }
  }

  func receive() -> AsyncThrowingStream<Data, Swift.Error> { stream }

  /// The JSON-RPC answer to a request too large to read (its id unknown: null).
  private func refuse(_ size: Int) async {
    let message =
      "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"a request line of more than \(Self.maxLine >> 20) MiB (\(size) bytes) was not read\"}}"
    try? await send(Data(message.utf8))
  }

  enum Line {
    case message(Data)
    /// A line over the limit, skipped; its size.
    case tooLong(Int)
  }

  /// Reads `descriptor` to its end, calling `deliver` for each line; linear in the input.
  static func readLines(from descriptor: Int32, maxLine: Int, _ deliver: (Line) -> Void) {
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    var line: [UInt8] = []
    var skipped = 0  // bytes of an over-long line dropped so far (0: not skipping)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { return }
      var start = 0
      while start < n {
        let newline = chunk[start..<n].firstIndex(of: UInt8(ascii: "\n"))
        let end = newline ?? n
        if skipped > 0 || line.count + (end - start) > maxLine {
          skipped += line.count + (end - start)
          line.removeAll(keepingCapacity: false)
        } else {
          line.append(contentsOf: chunk[start..<end])
        }
        guard newline != nil else { break }
        if skipped > 0 {
          deliver(.tooLong(skipped))
          skipped = 0
        } else if !line.isEmpty {
          deliver(.message(Data(line)))
          line.removeAll(keepingCapacity: true)
        }
        start = end + 1
      }
    }
  }
}
