import COpenSSL

/// Session ids: `r<replica>e<epoch>-` followed by 128 random bits from OpenSSL's CSPRNG,
/// base32 (RFC 4648 alphabet, lower case, no padding). This is the only file that talks to OpenSSL.
enum SessionID {
    /// Number of random bytes per id (128 bits).
    static let randomByteCount = 16

    /// The id prefix of one process: replica ordinal and boot epoch.
    static func prefix(replica: Int, epoch: String) -> String { "r\(replica)e\(epoch)-" }

    /// A fresh id with the given prefix; nil only if the CSPRNG fails (then no id is handed out).
    static func make(prefix: String) -> String? {
        randomBytes(randomByteCount).map { prefix + base32($0) }
    }

    /// `count` bytes from OpenSSL's CSPRNG; nil if it fails.
    static func randomBytes(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
        return ok == 1 ? bytes : nil
    }

    /// Lower-case hexadecimal, two digits per byte.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(2 * bytes.count)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lower-case RFC 4648 base32 without padding.
    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits an id of the form `r<digits>e<epoch>-<rest>` into replica and epoch; nil for anything else.
    static func owner(of id: String) -> (replica: Int, epoch: String)? {
        let bytes = Array(id.utf8)
        guard bytes.first == UInt8(ascii: "r") else { return nil }
        var index = 1
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        guard index > 1, index < bytes.count, bytes[index] == UInt8(ascii: "e"),
              let replica = Int(String(decoding: bytes[1..<index], as: UTF8.self)) else { return nil }
        let epochStart = index + 1
        guard let dash = bytes[epochStart...].firstIndex(of: UInt8(ascii: "-")), dash > epochStart else { return nil }
        return (replica, String(decoding: bytes[epochStart..<dash], as: UTF8.self))
    }
}
