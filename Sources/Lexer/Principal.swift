/// Textual principals: `base32(crc32_be(bytes) ++ bytes)`, lowercase, no padding, grouped by five
/// with dashes (the IC interface specification's textual encoding).
package enum PrincipalText {
  static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
  /// Byte → 5-bit value, or -1.
  static let values: [Int8] = {
    var table = [Int8](repeating: -1, count: 256)
    for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
    return table
  }()

  /// Whether `b` is a lowercase base32 character.
  @inline(__always)
  package static func isBase32(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "2") && b <= UInt8(ascii: "7"))
  }

  /// Why a candidate failed to decode.
  package enum Failure: Error, Equatable {
    /// The groups decode but the checksum does not match the bytes.
    case checksum
    /// The text cannot be a principal (wrong length, non-zero padding bits, more than 29 bytes).
    case malformed(String)
  }

  /// Decodes a textual principal into its raw bytes (without the checksum).
  package static func decode(_ text: String) -> Result<[UInt8], Failure> {
    var bits: UInt64 = 0
    var bitCount = 0
    var bytes: [UInt8] = []
    bytes.reserveCapacity(33)
    for c in text.utf8 where c != UInt8(ascii: "-") {
      let index = values[Int(c)]
      guard index >= 0 else { return .failure(.malformed("`\(text)` is not base32")) }
      bits = (bits << 5) | UInt64(index)
      bitCount += 5
      if bitCount >= 8 {
        bitCount -= 8
        bytes.append(UInt8((bits >> UInt64(bitCount)) & 0xFF))
      }
    }
    guard bytes.count >= 4 else { return .failure(.malformed("`\(text)` is too short to hold a checksum")) }
    let body = Array(bytes[4...])
    guard body.count <= 29 else {
      return .failure(.malformed("a principal has at most 29 bytes, this has \(body.count)"))
    }
    let expected = crc32(body)
    let actual = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
    let paddingIsZero = bitCount == 0 || bits & ((1 << UInt64(bitCount)) - 1) == 0
    guard expected == actual, paddingIsZero else { return .failure(.checksum) }
    guard encode(body) == text else { return .failure(.malformed("`\(text)` is not in canonical form")) }
    return .success(body)
  }

  /// Encodes raw principal bytes as text.
  package static func encode(_ body: [UInt8]) -> String {
    let sum = crc32(body)
    let data = [UInt8(sum >> 24), UInt8(sum >> 16 & 0xFF), UInt8(sum >> 8 & 0xFF), UInt8(sum & 0xFF)] + body
    var out: [UInt8] = []
    var bits: UInt64 = 0
    var bitCount = 0
    for byte in data {
      bits = (bits << 8) | UInt64(byte)
      bitCount += 8
      while bitCount >= 5 {
        bitCount -= 5
        out.append(alphabet[Int((bits >> UInt64(bitCount)) & 31)])
      }
    }
    if bitCount > 0 { out.append(alphabet[Int((bits << UInt64(5 - bitCount)) & 31)]) }
    var grouped: [UInt8] = []
    for (i, c) in out.enumerated() {
      if i > 0, i % 5 == 0 { grouped.append(UInt8(ascii: "-")) }
      grouped.append(c)
    }
    return String(decoding: grouped, as: UTF8.self)
  }

  private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  /// CRC-32 (IEEE 802.3), as the textual principal encoding uses.
  package static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }
}
