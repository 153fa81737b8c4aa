import RbicDiagnostics
import RbicLexer

/// A principal's raw bytes with its text form computed once.
public struct Principal: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let bytes: [UInt8]
  public let text: String

  public init(bytes: [UInt8]) {
    self.bytes = bytes
    self.text = PrincipalText.encode(bytes)
  }

  /// Parses a textual principal, verifying its checksum.
  public init?(text: String) {
    guard case .success(let bytes) = PrincipalText.decode(text) else { return nil }
    self.bytes = bytes
    self.text = text
  }

  public var description: String { text }
  public static func < (a: Principal, b: Principal) -> Bool { a.text < b.text }
  public static func == (a: Principal, b: Principal) -> Bool { a.bytes == b.bytes }
  public func hash(into h: inout Hasher) { h.combine(bytes) }
}
