/// Shortest round-trip formatting of `Double` (Ryu, Ulf Adams 2018, the 64-bit variant), laid out
/// exactly like Swift's `Double.description`, written straight into a byte buffer.
enum Float64Format {
    static let pow5InvBitCount = 125
    static let pow5BitCount = 125

    @inline(__always) static func pow5bits(_ e: Int) -> Int { Int((UInt32(e) &* 1_217_359) >> 19) + 1 }
    @inline(__always) static func log10Pow2(_ e: Int) -> Int { Int((UInt32(e) &* 78913) >> 18) }
    @inline(__always) static func log10Pow5(_ e: Int) -> Int { Int((UInt32(e) &* 732_923) >> 20) }

    @inline(__always) static func pow5Factor(_ value: UInt64) -> Int {
        var v = value, count = 0
        while v % 5 == 0 {
            v /= 5
            count += 1
        }
        return count
    }

    /// `(m * table[i]) >> j` for the 128-bit table entry at `index` (words low, high); j >= 64.
    @inline(__always) static func mulShift(_ m: UInt64, _ table: UnsafePointer<UInt64>, _ index: Int, _ j: Int) -> UInt64 {
        let b0 = m.multipliedFullWidth(by: table[2 * index])
        let b2 = m.multipliedFullWidth(by: table[2 * index + 1])
        // ((b0 >> 64) + b2) >> (j - 64), in 128 bits.
        let (low, carry) = b2.low.addingReportingOverflow(b0.high)
        let high = b2.high &+ (carry ? 1 : 0)
        let shift = UInt64(j - 64)
        if shift == 0 { return low }
        if shift >= 64 { return high >> (shift - 64) }
        return (high << (64 - shift)) | (low >> shift)
    }

    /// The shortest decimal `digits * 10^exponent` that rounds to the finite, nonzero `x` (sign ignored).
    @inline(__always) static func shortest(_ x: Double, _ invTable: UnsafePointer<UInt64>, _ table: UnsafePointer<UInt64>)
        -> (digits: UInt64, exponent: Int) {
        let bits = x.bitPattern
        let ieeeMantissa = bits & ((1 << 52) - 1)
        let ieeeExponent = Int((bits >> 52) & 0x7FF)
        let e2: Int
        let m2: UInt64
        if ieeeExponent == 0 {
            e2 = 1 - 1023 - 52 - 2
            m2 = ieeeMantissa
        } else {
            e2 = ieeeExponent - 1023 - 52 - 2
            m2 = (1 << 52) | ieeeMantissa
        }
        let acceptBounds = m2 & 1 == 0
        let mv = 4 * m2
        let mmShift: UInt64 = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0

        var vr: UInt64, vp: UInt64, vm: UInt64
        let e10: Int
        var vmIsTrailingZeros = false, vrIsTrailingZeros = false
        if e2 >= 0 {
            let q = log10Pow2(e2) - (e2 > 3 ? 1 : 0)
            e10 = q
            let k = pow5InvBitCount + pow5bits(q) - 1
            let i = -e2 + q + k
            vr = mulShift(mv, invTable, q, i)
            vp = mulShift(mv + 2, invTable, q, i)
            vm = mulShift(mv - 1 - mmShift, invTable, q, i)
            if q <= 21 {
                if mv % 5 == 0 {
                    vrIsTrailingZeros = pow5Factor(mv) >= q
                } else if acceptBounds {
                    vmIsTrailingZeros = pow5Factor(mv - 1 - mmShift) >= q
                } else if pow5Factor(mv + 2) >= q {
                    vp -= 1
                }
            }
        } else {
            let q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0)
            e10 = q + e2
            let i = -e2 - q
            let k = pow5bits(i) - pow5BitCount
            let j = q - k
            vr = mulShift(mv, table, i, j)
            vp = mulShift(mv + 2, table, i, j)
            vm = mulShift(mv - 1 - mmShift, table, i, j)
            if q <= 1 {
                vrIsTrailingZeros = true
                if acceptBounds { vmIsTrailingZeros = mmShift == 1 } else { vp -= 1 }
            } else if q < 63 {
                vrIsTrailingZeros = mv & ((1 << UInt64(q)) - 1) == 0
            }
        }

        var removed = 0
        var lastRemovedDigit: UInt64 = 0
        var output: UInt64
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
            var roundUp = false
            while vp / 100 > vm / 100 {
                roundUp = vr % 100 >= 50
                vr /= 100; vp /= 100; vm /= 100
                removed += 2
            }
            while vp / 10 > vm / 10 {
                roundUp = vr % 10 >= 5
                vr /= 10; vp /= 10; vm /= 10
                removed += 1
            }
            output = vr
            if vr == vm || roundUp { output += 1 }
        }
        return (output, e10 + removed)
    }

    /// Writes the text of finite `x` at `out` (at most 24 bytes); returns the byte count.
    @inline(__always) static func write(_ x: Double, to out: UnsafeMutablePointer<UInt8>,
                                        _ invTable: UnsafePointer<UInt64>, _ table: UnsafePointer<UInt64>) -> Int {
        var n = 0
        if x.sign == .minus {
            out[0] = 0x2D
            n = 1
        }
        if x == 0 { return n + DecimalLayout.writeZero(to: out + n) }
        let (digits, exponent) = shortest(x, invTable, table)
        return n + DecimalLayout.write(digits, exponent: exponent, exponentialAbove: 0x1p53, magnitude: x.magnitude, to: out + n)
    }
}
