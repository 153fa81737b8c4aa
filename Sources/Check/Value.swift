import RbicDiagnostics
import RbicLexer

public enum CanisterStatus: String, Sendable, Hashable, Codable {
  case running, stopping, stopped
}

/// A text that is never printed, logged or journaled; its description is a placeholder.
public struct Secret: Hashable, Sendable, CustomStringConvertible {
  public let reveal: String
  public init(_ value: String) { self.reveal = value }
  public var description: String { "<secret>" }
}

/// A runtime value. Units keep their base representation: cycles as whole cycles (`Int128`), ICP
/// as e8s, durations as nanoseconds, sizes as bytes.
public enum Value: Hashable, Sendable {
  case bool(Bool)
  case int(Int64)
  case text(String)
  case cycles(Int128)
  case icp(Int64)
  case duration(Int64)
  case bytes(Int64)
  /// `principal`, `canister` and `wallet` values.
  case principal(Principal)
  case hash([UInt8])
  /// A Candid `blob`: a file's bytes (`file(PATH)`) or a reply's `vec nat8`.
  case blob([UInt8])
  /// `.Tag` (payload `void`) or `.Tag(value)`.
  indirect case variant(String, Value)
  case path(String)
  case status(CanisterStatus)
  case secret(Secret)
  case list([Value])
  case record([String], [Value])
  case none
  case void
  /// Known only after a real run: the result of a local effect withheld in `plan` or
  /// `--read-only`. The text says what it depends on (`run git rev-parse HEAD`). Operations on it
  /// give it back; a statement that must decide on it ends its step as unpredictable.
  case unknown(String)

  public var asBool: Bool { if case .bool(let b) = self { b } else { false } }
  public var isUnknown: Bool { if case .unknown = self { true } else { false } }
}
