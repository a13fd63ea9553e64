/// One named array of an `.npz` archive (`name` without the `.npy` suffix, as `np.load(f)[name]`).
public struct NPZMember: Sendable, Equatable {
    /// The array name.
    public var name: String
    /// The array.
    public var array: NPYArray

    /// Creates a member.
    public init(name: String, array: NPYArray) {
        self.name = name
        self.array = array
    }
}

/// The numpy `.npz` format: a zip archive of `.npy` members. Written with stored (uncompressed)
/// members like `np.savez`; read with stored members only (`np.savez_compressed` output is
/// rejected with a clear error, since this target does not link zlib).
public enum NPZ {
    /// An `.npz` archive holding `members` as `<name>.npy`, readable by `np.load`.
    /// Throws `tooLarge` beyond the 4 GiB limit of a non-zip64 archive.
    public static func encode(_ members: [NPZMember]) throws(WireError) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for m in members {
            let name = Array((m.name + ".npy").utf8)
            let file = NPY.encode(m.array)
            let crc = CRC32.checksum(file)
            let offset = out.count
            guard file.count < 0xFFFF_FFFF, offset < 0xFFFF_FFFF, name.count <= 0xFFFF else {
                throw WireError(.tooLarge, "npz archive too large: over 4 GiB (zip64 is not written)")
            }
            // Local file header: version 2.0, no flags, stored, no time stamp.
            out.le32(0x0403_4B50); out.le16(20); out.le16(0); out.le16(0); out.le16(0); out.le16(0x21)
            out.le32(crc); out.le32(UInt32(file.count)); out.le32(UInt32(file.count))
            out.le16(UInt16(name.count)); out.le16(0)
            out.append(contentsOf: name)
            out.append(contentsOf: file)
            // Central directory entry.
            central.le32(0x0201_4B50); central.le16(20); central.le16(20); central.le16(0); central.le16(0)
            central.le16(0); central.le16(0x21)
            central.le32(crc); central.le32(UInt32(file.count)); central.le32(UInt32(file.count))
            central.le16(UInt16(name.count)); central.le16(0); central.le16(0); central.le16(0); central.le16(0)
            central.le32(0o100644 << 16); central.le32(UInt32(offset))
            central.append(contentsOf: name)
        }
        let centralOffset = out.count
        guard members.count <= 0xFFFF, centralOffset + central.count < 0xFFFF_FFFF else {
            throw WireError(.tooLarge, "npz archive too large: over 4 GiB or 65535 members (zip64 is not written)")
        }
        out.append(contentsOf: central)
        out.le32(0x0605_4B50); out.le16(0); out.le16(0)
        out.le16(UInt16(members.count)); out.le16(UInt16(members.count))
        out.le32(UInt32(central.count)); out.le32(UInt32(centralOffset)); out.le16(0)
        return out
    }

    /// Decodes an `.npz` archive; each array may have at most `maxElements` elements.
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxElements: Int) throws(WireError) -> [NPZMember] {
        func invalid(_ why: String) -> WireError { WireError(.invalidNPY, "invalid .npz: \(why)") }
        let b = bytes
        func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) | UInt64(u32(i + 4)) << 32 }

        // End of central directory: 22 bytes plus a comment of up to 65535 bytes, at the end.
        guard b.count >= 22 else { throw invalid("\(b.count) bytes is too short for a zip archive") }
        var eocd = -1
        var i = b.count - 22
        while i >= max(0, b.count - 22 - 0xFFFF) {
            if u32(i) == 0x0605_4B50 && i + 22 + u16(i + 20) == b.count { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw invalid("no zip end-of-central-directory record") }
        let entries = u16(eocd + 10), cdSize = u32(eocd + 12), cdOffset = u32(eocd + 16)
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            throw WireError(.unsupportedLayout, "unsupported .npz layout: zip64 archives (over 4 GiB) are not supported")
        }
        guard u16(eocd + 4) == 0, u16(eocd + 6) == 0, u16(eocd + 8) == entries else {
            throw invalid("multi-disk zip archives are not supported")
        }
        guard cdOffset <= eocd, cdSize <= eocd - cdOffset else { throw invalid("central directory out of bounds") }

        var members: [NPZMember] = []
        var p = cdOffset
        for _ in 0..<entries {
            guard p + 46 <= cdOffset + cdSize, u32(p) == 0x0201_4B50 else { throw invalid("corrupt central directory entry at byte \(p)") }
            let flags = u16(p + 8), method = u16(p + 10), crc = UInt32(u32(p + 16))
            var compressedSize = u32(p + 20), size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var localOffset = u32(p + 42)
            let entryEnd = p + 46 + nameLength + extraLength + commentLength
            guard entryEnd <= cdOffset + cdSize else { throw invalid("corrupt central directory entry at byte \(p)") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: b[(p + 46)..<(p + 46 + nameLength)]), as: UTF8.self)
            // Zip64 sizes/offset live in the extra field when the 32-bit fields are saturated.
            if size == 0xFFFF_FFFF || compressedSize == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
                var e = p + 46 + nameLength
                let extraEnd = e + extraLength
                var found = false
                while e + 4 <= extraEnd {
                    let id = u16(e), length = u16(e + 2)
                    guard e + 4 + length <= extraEnd else { break }
                    if id == 0x0001 {
                        var q = e + 4
                        func next() throws(WireError) -> Int {
                            guard q + 8 <= e + 4 + length else { throw invalid("corrupt zip64 extra field in '\(name)'") }
                            let v = u64(q)
                            q += 8
                            guard v < UInt64(Int.max) else { throw invalid("corrupt zip64 extra field in '\(name)'") }
                            return Int(v)
                        }
                        if size == 0xFFFF_FFFF { size = try next() }
                        if compressedSize == 0xFFFF_FFFF { compressedSize = try next() }
                        if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                        found = true
                    }
                    e += 4 + length
                }
                guard found else { throw invalid("missing zip64 extra field in '\(name)'") }
            }
            guard flags & 1 == 0 else { throw WireError(.unsupportedLayout, "unsupported .npz layout: member '\(name)' is encrypted") }
            guard method == 0 else {
                throw WireError(.unsupportedLayout,
                                "unsupported .npz layout: member '\(name)' is compressed (method \(method)); save with np.savez, not np.savez_compressed")
            }
            guard compressedSize == size else { throw invalid("stored member '\(name)' has differing sizes") }
            guard localOffset <= b.count - 30, u32(localOffset) == 0x0403_4B50 else {
                throw invalid("bad local header offset for '\(name)'")
            }
            let dataStart = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28)
            guard dataStart <= b.count, size <= b.count - dataStart else { throw invalid("member '\(name)' is truncated") }
            let file = UnsafeRawBufferPointer(rebasing: b[dataStart..<(dataStart + size)])
            guard CRC32.checksum(file) == crc else { throw invalid("CRC mismatch in member '\(name)'") }
            guard name.hasSuffix(".npy") else { throw invalid("member '\(name)' is not a .npy file") }
            let array: NPYArray
            do {
                array = try NPY.decode(file, maxElements: maxElements)
            } catch {
                throw WireError(error.kind, "member '\(name)': \(error.message)")
            }
            members.append(NPZMember(name: String(name.dropLast(4)), array: array))
            p = entryEnd
        }
        return members
    }

    /// Decodes an `.npz` archive from `bytes`.
    public static func decode(_ bytes: [UInt8], maxElements: Int) throws(WireError) -> [NPZMember] {
        try bytes.withUnsafeBytes { raw in Result { () throws(WireError) in try decode(raw, maxElements: maxElements) } }.get()
    }
}

extension [UInt8] {
    fileprivate mutating func le16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    fileprivate mutating func le32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { append(UInt8((v >> UInt32(s)) & 0xFF)) } }
}

/// CRC-32 (IEEE 802.3, as used by zip), slicing-by-8.
public enum CRC32 {
    static let tables: [[UInt32]] = {
        var t = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[0][i] = c
        }
        for i in 0..<256 {
            for k in 1..<8 { t[k][i] = (t[k - 1][i] >> 8) ^ t[0][Int(t[k - 1][i] & 0xFF)] }
        }
        return t
    }()

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// The CRC-32 of `bytes`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let flat = tables.flatMap { $0 }
        return flat.withUnsafeBufferPointer { t in
            var c: UInt32 = 0xFFFF_FFFF
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
                let hi = UInt32(bytes[i + 4]) | UInt32(bytes[i + 5]) << 8 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 24
                let x = c ^ lo
                c = t[7 * 256 + Int(x & 0xFF)] ^ t[6 * 256 + Int((x >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((x >> 16) & 0xFF)] ^ t[4 * 256 + Int(x >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
            return c ^ 0xFFFF_FFFF
        }
    }
}
