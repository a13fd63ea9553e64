/// The text layout shared by the Float and Double formatters, identical to Swift's `description`:
/// plain decimal ("0.001", "123.5", "100.0") when the leading digit's decimal exponent is >= -4 and
/// |x| <= 2^(significand bits + 1), else exponential with at least two exponent digits ("1e-05",
/// "1.5e+300").
enum DecimalLayout {
    /// Writes "0.0" (the caller writes any sign); returns the byte count.
    @inline(__always) static func writeZero(to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = 0x30; out[1] = 0x2E; out[2] = 0x30
        return 3
    }

    /// Writes `digits * 10^exponent`; returns the byte count.
    @inline(__always) static func write(_ digits: UInt64, exponent: Int, exponentialAbove limit: Double,
                                        magnitude: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        let count = decimalLength(digits)
        let sci = exponent + count - 1
        if sci < -4 || magnitude > limit {
            // d[.ddd]e±XX
            writeDigits(digits, count: count, to: out + 1)
            out[0] = out[1]
            if count > 1 {
                out[1] = 0x2E
                n = count + 1
            } else {
                n = 1
            }
            out[n] = 0x65
            out[n + 1] = sci < 0 ? 0x2D : 0x2B
            n += 2
            let e = UInt64(sci.magnitude)
            if e >= 100 {
                writeDigits(e, count: 3, to: out + n)
                return n + 3
            }
            out[n] = UInt8(truncatingIfNeeded: e / 10) &+ 0x30
            out[n + 1] = UInt8(truncatingIfNeeded: e % 10) &+ 0x30
            return n + 2
        }
        if sci < 0 {
            // 0.000ddd
            out[0] = 0x30
            out[1] = 0x2E
            n = 2
            for _ in 0..<(-sci - 1) {
                out[n] = 0x30
                n += 1
            }
            writeDigits(digits, count: count, to: out + n)
            return n + count
        }
        writeDigits(digits, count: count, to: out)
        if count <= sci + 1 {
            // ddd000.0
            n = count
            for _ in 0..<(sci + 1 - count) {
                out[n] = 0x30
                n += 1
            }
            out[n] = 0x2E
            out[n + 1] = 0x30
            return n + 2
        }
        // dd.ddd: shift the fraction right by one to make room for the point.
        var i = count
        while i > sci + 1 {
            out[i] = out[i - 1]
            i -= 1
        }
        out[sci + 1] = 0x2E
        return count + 1
    }

    /// The number of decimal digits of `v` (1...20).
    @inline(__always) static func decimalLength(_ v: UInt64) -> Int {
        var n = 1
        var p: UInt64 = 10
        while n < 20 && v >= p {
            n += 1
            p = p &* 10
        }
        return n
    }

    /// "00" through "99", for writing two digits per division.
    static let digitPairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// Writes the `count` decimal digits of `v` at `out`, most significant first (`count` must be
    /// the number of digits of `v`).
    @inline(__always) static func writeDigits(_ v: UInt64, count: Int, to out: UnsafeMutablePointer<UInt8>) {
        let pairs = digitPairs.utf8Start
        var v = v
        var i = count
        while v >= 100 {
            let r = Int(v % 100)
            v /= 100
            i &-= 2
            out[i] = pairs[2 &* r]
            out[i &+ 1] = pairs[2 &* r &+ 1]
        }
        if v >= 10 {
            out[i &- 2] = pairs[2 &* Int(v)]
            out[i &- 1] = pairs[2 &* Int(v) &+ 1]
        } else {
            out[i &- 1] = UInt8(truncatingIfNeeded: v) &+ 0x30
        }
    }
}
