/// Shortest round-trip formatting of `Float` (Ryu, Ulf Adams 2018, the 32-bit variant), laid out
/// exactly like Swift's `Float.description` ("0.1", "100.0", "1e-05", "1.6777218e+07") but written
/// straight into a byte buffer without creating a `String`.
enum Float32Format {
    static let pow5InvBitCount = 59
    static let pow5BitCount = 61

    /// `floor(2^(pow5bits(i) - 1 + 59) / 5^i) + 1` for i < 31.
    static let pow5InvSplit: [UInt64] = (0..<31).map { i in
        let p = pow5(i)
        let shift = pow5bits(i) - 1 + pow5InvBitCount
        // 2^128 does not fit; 5^i never divides it, so floor((2^128 - 1) / p) == floor(2^128 / p).
        let q = shift == 128 ? UInt128.max / p : (UInt128(1) << shift) / p
        return UInt64(q + 1)
    }

    /// The top 61 bits of `5^i` for i < 47.
    static let pow5Split: [UInt64] = (0..<47).map { i in
        let shift = pow5bits(i) - pow5BitCount
        return UInt64(shift >= 0 ? pow5(i) >> shift : pow5(i) << -shift)
    }

    static func pow5(_ i: Int) -> UInt128 {
        var p: UInt128 = 1
        for _ in 0..<i { p *= 5 }
        return p
    }

    /// The bit length of 5^e (for 0 <= e <= 3528).
    @inline(__always) static func pow5bits(_ e: Int) -> Int { Int((UInt32(e) &* 1_217_359) >> 19) + 1 }
    /// floor(log10(2^e)).
    @inline(__always) static func log10Pow2(_ e: Int) -> Int { Int((UInt32(e) &* 78913) >> 18) }
    /// floor(log10(5^e)).
    @inline(__always) static func log10Pow5(_ e: Int) -> Int { Int((UInt32(e) &* 732_923) >> 20) }

    @inline(__always) static func pow5Factor(_ value: UInt32) -> Int {
        var v = value, count = 0
        while v % 5 == 0 {
            v /= 5
            count += 1
        }
        return count
    }

    @inline(__always) static func mulShift(_ m: UInt32, _ factor: UInt64, _ shift: Int) -> UInt32 {
        let lo = UInt64(m) &* (factor & 0xFFFF_FFFF)
        let hi = UInt64(m) &* (factor >> 32)
        let sum = (lo >> 32) &+ hi
        return UInt32(truncatingIfNeeded: sum &>> UInt64(shift - 32))
    }

    /// The shortest decimal `digits * 10^exponent` that rounds to the finite, nonzero `x` (sign ignored).
    @inline(__always) static func shortest(_ x: Float, _ invTable: UnsafePointer<UInt64>, _ table: UnsafePointer<UInt64>)
        -> (digits: UInt32, exponent: Int) {
        let bits = x.bitPattern
        let ieeeMantissa = bits & 0x7F_FFFF
        let ieeeExponent = Int((bits >> 23) & 0xFF)
        let e2: Int
        let m2: UInt32
        if ieeeExponent == 0 {
            e2 = 1 - 127 - 23 - 2
            m2 = ieeeMantissa
        } else {
            e2 = ieeeExponent - 127 - 23 - 2
            m2 = (1 << 23) | ieeeMantissa
        }
        let acceptBounds = m2 & 1 == 0
        let mv = 4 * m2
        let mmShift: UInt32 = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0

        var vr: UInt32, vp: UInt32, vm: UInt32
        let e10: Int
        var vmIsTrailingZeros = false, vrIsTrailingZeros = false
        var lastRemovedDigit: UInt32 = 0
        if e2 >= 0 {
            let q = log10Pow2(e2)
            e10 = q
            let k = pow5InvBitCount + pow5bits(q) - 1
            let i = -e2 + q + k
            vr = mulShift(mv, invTable[q], i)
            vp = mulShift(mv + 2, invTable[q], i)
            vm = mulShift(mv - 1 - mmShift, invTable[q], i)
            if q != 0 && (vp - 1) / 10 <= vm / 10 {
                let l = pow5InvBitCount + pow5bits(q - 1) - 1
                lastRemovedDigit = mulShift(mv, invTable[q - 1], -e2 + q - 1 + l) % 10
            }
            if q <= 9 {
                if mv % 5 == 0 {
                    vrIsTrailingZeros = pow5Factor(mv) >= q
                } else if acceptBounds {
                    vmIsTrailingZeros = pow5Factor(mv - 1 - mmShift) >= q
                } else if pow5Factor(mv + 2) >= q {
                    vp -= 1
                }
            }
        } else {
            let q = log10Pow5(-e2)
            e10 = q + e2
            let i = -e2 - q
            let k = pow5bits(i) - pow5BitCount
            var j = q - k
            vr = mulShift(mv, table[i], j)
            vp = mulShift(mv + 2, table[i], j)
            vm = mulShift(mv - 1 - mmShift, table[i], j)
            if q != 0 && (vp - 1) / 10 <= vm / 10 {
                j = q - 1 - (pow5bits(i + 1) - pow5BitCount)
                lastRemovedDigit = mulShift(mv, table[i + 1], j) % 10
            }
            if q <= 1 {
                vrIsTrailingZeros = true
                if acceptBounds { vmIsTrailingZeros = mmShift == 1 } else { vp -= 1 }
            } else if q < 31 {
                vrIsTrailingZeros = mv & ((1 << UInt32(q - 1)) - 1) == 0
            }
        }

        var removed = 0
        var output: UInt32
        if vmIsTrailingZeros || vrIsTrailingZeros {
            while vp / 10 > vm / 10 {
                vmIsTrailingZeros = vmIsTrailingZeros && vm % 10 == 0
                vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0
                lastRemovedDigit = vr % 10
                vr /= 10; vp /= 10; vm /= 10
                removed += 1
            }
            if vmIsTrailingZeros {
                while vm % 10 == 0 {
                    vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0
                    lastRemovedDigit = vr % 10
                    vr /= 10; vp /= 10; vm /= 10
                    removed += 1
                }
            }
            if vrIsTrailingZeros && lastRemovedDigit == 5 && vr % 2 == 0 { lastRemovedDigit = 4 }
            output = vr
            if (vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5 { output += 1 }
        } else {
            while vp / 10 > vm / 10 {
                lastRemovedDigit = vr % 10
                vr /= 10; vp /= 10; vm /= 10
                removed += 1
            }
            output = vr
            if vr == vm || lastRemovedDigit >= 5 { output += 1 }
        }
        return (output, e10 + removed)
    }

    /// Writes the text of finite `x` at `out` (at most 15 bytes); returns the byte count.
    @inline(__always) static func write(_ x: Float, to out: UnsafeMutablePointer<UInt8>,
                                        _ invTable: UnsafePointer<UInt64>, _ table: UnsafePointer<UInt64>) -> Int {
        var n = 0
        if x.sign == .minus {
            out[0] = 0x2D
            n = 1
        }
        if x == 0 { return n + DecimalLayout.writeZero(to: out + n) }
        let (digits, exponent) = shortest(x, invTable, table)
        return n + DecimalLayout.write(UInt64(digits), exponent: exponent, exponentialAbove: 0x1p24,
                                       magnitude: Double(x.magnitude), to: out + n)
    }
}

/// The text layout shared by the Float and Double formatters, identical to Swift's `description`:
/// plain decimal ("0.001", "123.5", "100.0") for 1e-4 <= |x| <= 2^(significand bits + 1), else
/// exponential with at least two exponent digits ("1e-05", "1.5e+300").
enum DecimalLayout {
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
