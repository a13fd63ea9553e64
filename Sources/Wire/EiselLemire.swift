/// Decimal to Double conversion by the Eisel-Lemire algorithm (Lemire, "Number Parsing at a
/// Gigabyte per Second", 2021, sections 5-6): `w * 10^q` correctly rounded, or nil for the rare
/// inputs it cannot decide (the caller then uses the exact slow path).
enum EiselLemire {
    /// The magnitude of `w * 10^q` (w != 0, exact) as a Double, possibly infinite; nil when undecided.
    static func double(w: UInt64, q: Int) -> Double? {
        let mantissaBits = 52
        if q < -342 { return 0 }
        if q > 308 { return .infinity }
        let lz = w.leadingZeroBitCount
        let wn = w << UInt64(lz)
        let (hi, lo) = productApproximation(q: q, w: wn, precision: mantissaBits + 3)
        if lo == .max && !(q >= -27 && q <= 55) { return nil }
        let upperBit = Int(hi >> 63)
        let shift = UInt64(upperBit + 64 - mantissaBits - 3)
        var mantissa = hi >> shift
        var power2 = (((q &* (152_170 + 65536)) >> 16) + 63) + upperBit - lz + 1023
        if power2 <= 0 {
            if -power2 + 1 >= 64 { return 0 }
            // A subnormal result.
            mantissa >>= UInt64(-power2 + 1)
            mantissa += mantissa & 1
            mantissa >>= 1
            power2 = mantissa >= (1 << UInt64(mantissaBits)) ? 1 : 0
            return Double(bitPattern: UInt64(power2) << 52 | (mantissa & ((1 << 52) - 1)))
        }
        // Exactly halfway with an even result: round down instead of up.
        if lo <= 1 && q >= -4 && q <= 23 && mantissa & 3 == 1 && mantissa << shift == hi {
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= (2 << UInt64(mantissaBits)) {
            mantissa = 1 << UInt64(mantissaBits)
            power2 += 1
        }
        mantissa &= ~(1 << UInt64(mantissaBits))
        if power2 >= 0x7FF { return .infinity }
        return Double(bitPattern: UInt64(power2) << 52 | mantissa)
    }

    /// `w * 5^q` approximated to 128 bits (high, low), exact enough for `precision` bits.
    @inline(__always) static func productApproximation(q: Int, w: UInt64, precision: Int) -> (UInt64, UInt64) {
        let mask: UInt64 = .max >> UInt64(precision)
        let index = 2 * (q + 342)
        return powersOfFive.withUnsafeBufferPointer { table in
            var first = w.multipliedFullWidth(by: table[index])
            if first.high & mask == mask {
                let second = w.multipliedFullWidth(by: table[index + 1])
                let (sum, carry) = first.low.addingReportingOverflow(second.high)
                first.low = sum
                if carry { first.high &+= 1 }
            }
            return (first.high, first.low)
        }
    }
}
