/// A compact JSON writer into a byte buffer.
///
/// Numbers use the shortest text that parses back to the same value: integers without a
/// fraction, floating-point values in shortest round-trip form (Ryu; `Float` values with Float32
/// digits, not Double digits), laid out like Swift's `description` ("0.1", "1.0", "1e-05").
/// Non-finite values are written as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`. Pieces can
/// be composed with `writeRaw`, e.g. a tensor object whose `data` is written from a `[Float]`
/// buffer by `writeFloats`.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8]

    /// Creates an empty writer reserving `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The compact encoding of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var w = JSONWriter()
        w.write(value)
        return w.bytes
    }

    /// Appends `text` verbatim (the caller guarantees it is valid JSON in context).
    public mutating func writeRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends `"key":` with `key` escaped.
    public mutating func writeKey(_ key: String) {
        writeString(key)
        bytes.append(0x3A)
    }

    /// Appends `value`.
    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: writeRaw("null")
        case .bool(let b): if b { writeRaw("true") } else { writeRaw("false") }
        case .number(let n): writeNumber(n)
        case .string(let s): writeString(s)
        case .array(let items):
            bytes.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                write(item)
            }
            bytes.append(0x5D)
        case .object(let o):
            bytes.append(0x7B)
            for (i, m) in o.members.enumerated() {
                if i > 0 { bytes.append(0x2C) }
                writeKey(m.key)
                write(m.value)
            }
            bytes.append(0x7D)
        case .numbers(let n):
            // Nested per shape so that the output parses back to the same value.
            write(n.jsonValue())
        }
    }

    /// Appends a number: an integer literal when `isInteger`, else the shortest round-trip Double.
    public mutating func writeNumber(_ n: JSONNumber) {
        if n.isInteger && n.double == 0 && n.double.sign == .minus {
            writeRaw("-0")  // Int has no negative zero
        } else if n.isInteger {
            var s = Int(n.double).description
            s.withUTF8 { bytes.append(contentsOf: $0) }
        } else {
            withUnsafePointer(to: n.double) { writeDoubles(UnsafeBufferPointer(start: $0, count: 1), bracketed: false) }
        }
    }

    /// Appends `s` as a JSON string (escaping quote, backslash and control characters).
    public mutating func writeString(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            bytes.append(0x22)
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                bytes.append(0x5C)
                switch c {
                case 0x22: bytes.append(0x22)
                case 0x5C: bytes.append(0x5C)
                case 0x0A: bytes.append(0x6E)
                case 0x0D: bytes.append(0x72)
                case 0x09: bytes.append(0x74)
                case 0x08: bytes.append(0x62)
                case 0x0C: bytes.append(0x66)
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [0x75, 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
            bytes.append(0x22)
        }
    }

    /// Appends `values` as a flat JSON array of shortest Float32 texts (non-generic entry point,
    /// specialised here so callers in other modules get the fast loop).
    public mutating func writeFloats(_ values: UnsafeBufferPointer<Float>) {
        let old = bytes.count
        // 15 bytes for the longest text ("-1.17549435e-38"), one for the comma.
        bytes.append(contentsOf: repeatElement(0, count: values.count * 16 + 2))
        let written = Float32Format.pow5InvSplit.withUnsafeBufferPointer { inv in
            Float32Format.pow5Split.withUnsafeBufferPointer { pow5 in
                bytes.withUnsafeMutableBufferPointer { buffer -> Int in
                    let out = buffer.baseAddress! + old
                    out[0] = 0x5B
                    var n = 1
                    for (i, x) in values.enumerated() {
                        if i > 0 { out[n] = 0x2C; n += 1 }
                        if x.isFinite {
                            n += Float32Format.write(x, to: out + n, inv.baseAddress!, pow5.baseAddress!)
                        } else {
                            n += JSONWriter.writeSpecial(Double(x), to: out + n)
                        }
                    }
                    out[n] = 0x5D
                    return n + 1
                }
            }
        }
        bytes.removeLast(bytes.count - old - written)
    }

    private static func writeSpecial(_ x: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        let special: StaticString = x.isNaN ? "\"NaN\"" : (x < 0 ? "\"-Infinity\"" : "\"Infinity\"")
        out.update(from: special.utf8Start, count: special.utf8CodeUnitCount)
        return special.utf8CodeUnitCount
    }

    /// Appends `values` as a flat JSON array of shortest round-trip Float64 texts.
    public mutating func writeDoubles(_ values: UnsafeBufferPointer<Double>) {
        writeDoubles(values, bracketed: true)
    }

    private mutating func writeDoubles(_ values: UnsafeBufferPointer<Double>, bracketed: Bool) {
        // 24 bytes for the longest text ("-2.2250738585072014e-308"), one for the comma.
        let old = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: values.count * 25 + 2))
        let written = ryuDoublePow5InvSplit.withUnsafeBufferPointer { inv in
            ryuDoublePow5Split.withUnsafeBufferPointer { pow5 in
                bytes.withUnsafeMutableBufferPointer { buffer -> Int in
                    let out = buffer.baseAddress! + old
                    var n = 0
                    if bracketed { out[0] = 0x5B; n = 1 }
                    for (i, x) in values.enumerated() {
                        if i > 0 { out[n] = 0x2C; n += 1 }
                        if x.isFinite {
                            n += Float64Format.write(x, to: out + n, inv.baseAddress!, pow5.baseAddress!)
                        } else {
                            n += JSONWriter.writeSpecial(x, to: out + n)
                        }
                    }
                    if bracketed { out[n] = 0x5D; n += 1 }
                    return n
                }
            }
        }
        bytes.removeLast(bytes.count - old - written)
    }

    /// The shortest round-trip text of `v` (for messages).
    static func numberText(_ v: Double) -> String {
        var w = JSONWriter(capacity: 32)
        w.writeNumber(JSONNumber(v))
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
