import Crypto

/// sha256 through swift-crypto (module hashes, runbook source hashes in the journal).
public enum Hashing {
  public static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}
