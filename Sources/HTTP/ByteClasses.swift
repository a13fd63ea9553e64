/// Byte classes of RFC 9110 §5.6 as bit masks: the scalar form of picohttpparser's SSE4.2 ranges.
enum ByteClass {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09

    /// tchar (RFC 9110 §5.6.2): `!#$%&'*+-.^_`|~`, DIGIT, ALPHA.
    @inline(__always)
    static func isToken(_ c: UInt8) -> Bool {
        if c < 64 { return (0x03FF_6CFA_0000_0000 as UInt64) &>> UInt64(c) & 1 != 0 }
        if c < 128 { return (0x57FF_FFFF_C7FF_FFFE as UInt64) &>> UInt64(c &- 64) & 1 != 0 }
        return false
    }

    /// field-vchar, SP or HTAB (RFC 9110 §5.5): anything but controls and DEL; obs-text allowed.
    @inline(__always)
    static func isFieldValue(_ c: UInt8) -> Bool {
        (c >= 0x20 && c != 0x7F) || c == htab
    }

    /// Bytes allowed in a request-target: visible ASCII only (RFC 9112 §3.2, RFC 3986 §2), as llhttp strict.
    @inline(__always)
    static func isTarget(_ c: UInt8) -> Bool {
        c &- 0x21 < 0x5E
    }

    /// uri-host and port characters (RFC 3986 §3.2.2): unreserved, pct-encoded, sub-delims, `:[]`.
    @inline(__always)
    static func isHost(_ c: UInt8) -> Bool {
        if c < 64 { return (0x2FFF_7FF2_0000_0000 as UInt64) &>> UInt64(c) & 1 != 0 }
        if c < 128 { return (0x47FF_FFFE_AFFF_FFFE as UInt64) &>> UInt64(c &- 64) & 1 != 0 }
        return false
    }

    /// qdtext (RFC 9110 §5.6.4): HTAB, SP, `!`, `#`-`[`, `]`-`~`, obs-text.
    @inline(__always)
    static func isQuotedText(_ c: UInt8) -> Bool {
        c == htab || c == sp || c == 0x21 || (c >= 0x23 && c != 0x5C && c != 0x7F)
    }

    // MARK: - Eight bytes at a time (SWAR), for the long runs: target and field values.

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    @inline(__always)
    static func load8(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    /// True if some byte of `w` is below `n` (n ≤ 128); exact (the classic "hasless" bit trick).
    @inline(__always)
    private static func hasByteBelow(_ w: UInt64, _ n: UInt64) -> Bool {
        (w &- ones &* n) & ~w & highs != 0
    }

    /// True if all eight bytes are field-vchar or SP (no control, no DEL); HTAB takes the byte path.
    @inline(__always)
    static func isPlainValueWord(_ w: UInt64) -> Bool {
        !hasByteBelow(w, 0x20) && !hasByteBelow(w ^ (ones &* 0x7F), 1)
    }

    /// True if all eight bytes are visible ASCII (0x21-0x7E); may say false spuriously, never true wrongly.
    @inline(__always)
    static func isTargetWord(_ w: UInt64) -> Bool {
        !hasByteBelow(w, 0x21) && ((w &+ ones) | w) & highs == 0
    }
}
