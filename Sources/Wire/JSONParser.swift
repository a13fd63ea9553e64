/// A strict RFC 8259 JSON parser with a fast path for numeric arrays (tensor data).
///
/// Arrays that contain only numbers (and the strings `"NaN"`, `"Infinity"`, `"-Infinity"`),
/// flat or nested with a rectangular shape, are decoded straight into one contiguous `[Double]`
/// (`JSONValue.numbers`) without a `JSONValue` per element. Bare `NaN`/`Infinity` tokens,
/// duplicate object keys, invalid UTF-8, lone surrogate escapes, numbers beyond the `Double`
/// range and trailing data are rejected with the byte offset of the problem.
public enum JSONParser {
    /// Limits applied while parsing.
    public struct Options: Sendable {
        /// Maximum nesting of arrays and objects (at most 512, which bounds the parser's stack use
        /// to well under a 512 KiB thread stack; larger values are treated as 512).
        public var maxDepth: Int
        /// Maximum input size in bytes.
        public var maxInputBytes: Int

        /// Creates options; the defaults allow 128 levels of nesting and 1 GiB of input.
        public init(maxDepth: Int = 128, maxInputBytes: Int = 1 << 30) {
            self.maxDepth = maxDepth
            self.maxInputBytes = maxInputBytes
        }
    }

    /// Parses one JSON value (any type at top level) from `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: Options = Options()) throws(WireError) -> JSONValue {
        if bytes.count > options.maxInputBytes {
            throw WireError(.invalidJSON, "invalid JSON: input of \(bytes.count) bytes exceeds the limit of \(options.maxInputBytes) bytes")
        }
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw WireError(.invalidJSON, "invalid JSON at byte 0: unexpected end of input")
        }
        var reader = JSONReader(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count,
                                maxDepth: options.maxDepth)
        return try reader.parseDocument()
    }

    /// Parses one JSON value from `bytes`.
    public static func parse(_ bytes: [UInt8], options: Options = Options()) throws(WireError) -> JSONValue {
        try bytes.withUnsafeBytes { raw in Result { () throws(WireError) in try parse(raw, options: options) } }.get()
    }

    /// Parses one JSON value from the UTF-8 of `text`.
    public static func parse(_ text: String, options: Options = Options()) throws(WireError) -> JSONValue {
        try parse(Array(text.utf8), options: options)
    }
}

private enum Byte {
    static let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C, colon: UInt8 = 0x3A, minus: UInt8 = 0x2D, plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E, zero: UInt8 = 0x30, nine: UInt8 = 0x39
    static let openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
    static let lowerE: UInt8 = 0x65, upperE: UInt8 = 0x45
}

/// The Double halfway between `Float.greatestFiniteMagnitude` and 2^128: a decimal just below
/// it rounds to Float.max, one at or above it to infinity.
private let float32OverflowTie = Double(Float.greatestFiniteMagnitude) + 0x1p103

/// Exact powers of ten representable in a Double (for the Clinger fast path).
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private struct JSONReader {
    let p: UnsafePointer<UInt8>
    let end: Int
    let maxDepth: Int
    var pos = 0
    var depth = 0
    /// Values of the numeric arrays being parsed (shared by nested arrays so they end up contiguous).
    var nums: [Double] = []
    /// Float32 corrections, indexed into `nums`.
    var corrections: [NumericArray.Float32Correction] = []
    /// `dims[d]` is the length of the numeric array that most recently completed at depth `d`;
    /// together with deeper entries it is that array's shape.
    var dims: [Int]

    init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        p = base
        end = count
        self.maxDepth = min(max(1, maxDepth), 512)
        dims = [Int](repeating: 0, count: self.maxDepth + 2)
    }

    // MARK: errors

    func fail(_ what: String, at offset: Int? = nil) -> WireError {
        WireError(.invalidJSON, "invalid JSON at byte \(offset ?? pos): \(what)")
    }

    func unexpected(_ expected: String) -> WireError {
        if pos >= end { return fail("unexpected end of input, expected \(expected)") }
        return fail("expected \(expected)")
    }

    // MARK: document

    mutating func parseDocument() throws(WireError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if pos < end { throw fail("unexpected data after the JSON value") }
        return value
    }

    @inline(__always) mutating func skipWhitespace() {
        while pos < end {
            let c = p[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }

    mutating func parseValue() throws(WireError) -> JSONValue {
        guard pos < end else { throw unexpected("a value") }
        switch p[pos] {
        case Byte.openBrace: return try parseObject()
        case Byte.openBracket:
            switch try parseArray() {
            case .generic(let items): return .array(items)
            case .numeric(let start, let rank, let allInts):
                let shape = Array(dims[(depth + 1)..<(depth + 1 + rank)])
                return .numbers(extract(from: start, shape: shape, allIntegers: allInts))
            }
        case Byte.quote: return .string(try parseString())
        case Byte.minus, Byte.zero...Byte.nine:
            let start = pos
            var isInteger = false
            let d = try parseNumber(isInteger: &isInteger)
            return .number(JSONNumber(double: d, float: try float32(of: d, tokenStart: start), isInteger: isInteger))
        case 0x74: try expectLiteral("true"); return .bool(true)
        case 0x66: try expectLiteral("false"); return .bool(false)
        case 0x6E: try expectLiteral("null"); return .null
        default: throw invalidValueStart()
        }
    }

    func invalidValueStart() -> WireError {
        let c = p[pos]
        if c == 0x4E || c == 0x49 { return bareNonFinite(at: pos) }
        if c >= 0x20 && c < 0x7F { return fail("unexpected character '\(Character(Unicode.Scalar(c)))', expected a value") }
        return fail("unexpected byte 0x\(String(c, radix: 16, uppercase: true)), expected a value")
    }

    func bareNonFinite(at offset: Int) -> WireError {
        fail("bare NaN/Infinity is not valid JSON; send non-finite values as the strings \"NaN\", \"Infinity\", \"-Infinity\", or send the array as application/x-npy", at: offset)
    }

    mutating func expectLiteral(_ word: StaticString) throws(WireError) {
        let n = word.utf8CodeUnitCount
        let w = word.utf8Start
        for i in 0..<n where pos + i >= end || p[pos + i] != w[i] {
            throw fail("invalid literal, expected '\(word)'", at: pos)
        }
        pos += n
    }

    mutating func enter() throws(WireError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
    }

    // MARK: objects

    mutating func parseObject() throws(WireError) -> JSONValue {
        try enter()
        pos += 1
        var members: [JSONMember] = []
        var seen: Set<String>? = nil
        skipWhitespace()
        if pos < end && p[pos] == Byte.closeBrace {
            pos += 1
            depth -= 1
            return .object(JSONObject(members))
        }
        while true {
            guard pos < end, p[pos] == Byte.quote else { throw unexpected("a string key") }
            let keyOffset = pos
            let key = try parseString()
            if members.count < 16 {
                if members.contains(where: { $0.key == key }) { throw duplicate(key, keyOffset) }
            } else {
                if seen == nil { seen = Set(members.map(\.key)) }
                if !seen!.insert(key).inserted { throw duplicate(key, keyOffset) }
            }
            skipWhitespace()
            guard pos < end, p[pos] == Byte.colon else { throw unexpected("':'") }
            pos += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONMember(key, value))
            if members.count == 16 { seen = Set(members.map(\.key)) } else if members.count > 16 { seen!.insert(key) }
            skipWhitespace()
            guard pos < end else { throw unexpected("',' or '}'") }
            if p[pos] == Byte.comma {
                pos += 1
                skipWhitespace()
            } else if p[pos] == Byte.closeBrace {
                pos += 1
                depth -= 1
                return .object(JSONObject(members))
            } else {
                throw unexpected("',' or '}'")
            }
        }
    }

    func duplicate(_ key: String, _ offset: Int) -> WireError {
        fail("duplicate key \"\(key)\"", at: offset)
    }

    // MARK: arrays

    enum ArrayResult {
        /// Values are `nums[start...]`; the shape is `dims[depth ..< depth + rank]` (depth of the array).
        case numeric(start: Int, rank: Int, allIntegers: Bool)
        case generic([JSONValue])
    }

    /// The kind of the elements seen so far in an array being parsed in numeric mode.
    enum ElementKind { case none, scalar, array(rank: Int, shape: [Int]) }

    /// Parses an array at `pos` (on '['). Numeric mode until an element breaks it, then generic.
    mutating func parseArray() throws(WireError) -> ArrayResult {
        try enter()
        let myDepth = depth
        pos += 1
        let contentStart = pos
        let start = nums.count
        var count = 0
        var kind = ElementKind.none
        var allInts = true
        var generic: [JSONValue]? = nil
        skipWhitespace()
        if pos < end && p[pos] == Byte.closeBracket {
            pos += 1
            depth -= 1
            dims[myDepth] = 0
            return .numeric(start: start, rank: 1, allIntegers: true)
        }
        while true {
            guard pos < end else { throw unexpected("a value") }
            let c = p[pos]
            if generic == nil {
                var handled = false
                if c == Byte.minus || (c >= Byte.zero && c <= Byte.nine) {
                    if case .array = kind {} else {
                        kind = .scalar
                        let tokenStart = pos
                        var isInteger = false
                        let d = try parseNumber(isInteger: &isInteger)
                        allInts = allInts && isInteger
                        try appendNumber(d, tokenStart: tokenStart)
                        count += 1
                        handled = true
                    }
                } else if c == Byte.quote {
                    if case .array = kind {} else if let special = matchSpecialString() {
                        kind = .scalar
                        allInts = false
                        nums.append(special)
                        count += 1
                        handled = true
                    }
                } else if c == Byte.openBracket {
                    if case .scalar = kind {} else {
                        let childStart = nums.count
                        switch try parseArray() {
                        case .numeric(_, let rank, let childInts):
                            let childDims = dims[(myDepth + 1)..<(myDepth + 1 + rank)]
                            switch kind {
                            case .none:
                                kind = .array(rank: rank, shape: Array(childDims))
                                allInts = allInts && childInts
                                count += 1
                                handled = true
                            case .array(let r, let shape) where r == rank && shape.elementsEqual(childDims):
                                allInts = allInts && childInts
                                count += 1
                                handled = true
                            default:
                                // A ragged array: this and all later elements are kept generically.
                                let child = extract(from: childStart, shape: Array(childDims), allIntegers: childInts)
                                generic = try reparseElements(from: contentStart, count: count, numbersStart: start)
                                generic!.append(.numbers(child))
                                handled = true
                            }
                        case .generic(let childItems):
                            generic = try reparseElements(from: contentStart, count: count, numbersStart: start)
                            generic!.append(.array(childItems))
                            handled = true
                        }
                    }
                }
                if !handled {
                    generic = try reparseElements(from: contentStart, count: count, numbersStart: start)
                    generic!.append(try parseValue())
                }
            } else {
                generic!.append(try parseValue())
            }
            skipWhitespace()
            guard pos < end else { throw unexpected("',' or ']'") }
            let d = p[pos]
            if d == Byte.comma {
                pos += 1
                skipWhitespace()
            } else if d == Byte.closeBracket {
                pos += 1
                depth -= 1
                if let items = generic { return .generic(items) }
                dims[myDepth] = count
                switch kind {
                case .array(let rank, let shape):
                    // Deeper `dims` entries may have been overwritten by ragged siblings' children: restore.
                    for (i, n) in shape.enumerated() { dims[myDepth + 1 + i] = n }
                    return .numeric(start: start, rank: rank + 1, allIntegers: allInts)
                default:
                    return .numeric(start: start, rank: 1, allIntegers: allInts)
                }
            } else {
                throw unexpected("',' or ']'")
            }
        }
    }

    @inline(__always) mutating func appendNumber(_ d: Double, tokenStart: Int) throws(WireError) {
        // Only a Double exactly between two Floats can round differently via Double; such a
        // Double has its low 28 mantissa bits clear, so most values skip the full check.
        if d.bitPattern & 0x0FFF_FFFF == 0 {
            let f = try float32(of: d, tokenStart: tokenStart)
            if f.bitPattern != Float(d).bitPattern {
                corrections.append(NumericArray.Float32Correction(index: nums.count, value: f))
            }
        }
        nums.append(d)
    }

    /// If `pos` is on `"NaN"`, `"Infinity"` or `"-Infinity"`, consumes it and returns its value.
    mutating func matchSpecialString() -> Double? {
        @inline(__always) func matches(_ s: StaticString) -> Bool {
            let n = s.utf8CodeUnitCount
            guard pos + n <= end else { return false }
            for i in 0..<n where p[pos + i] != s.utf8Start[i] { return false }
            return true
        }
        if matches("\"NaN\"") { pos += 5; return .nan }
        if matches("\"Infinity\"") { pos += 10; return .infinity }
        if matches("\"-Infinity\"") { pos += 11; return -.infinity }
        return nil
    }

    /// Drops `nums[start...]` and their corrections.
    mutating func truncate(to start: Int) {
        nums.removeSubrange(start...)
        if !corrections.isEmpty { corrections.removeAll { $0.index >= start } }
    }

    /// Copies `nums[start...]` into a `NumericArray` and drops it from the shared buffer.
    mutating func extract(from start: Int, shape: [Int], allIntegers: Bool) -> NumericArray {
        let values: [Double]
        if start == 0 {
            values = nums
            nums = []
        } else {
            values = Array(nums[start...])
        }
        var mine: [NumericArray.Float32Correction] = []
        if !corrections.isEmpty {
            for c in corrections where c.index >= start {
                mine.append(NumericArray.Float32Correction(index: c.index - start, value: c.value))
            }
        }
        truncate(to: start)
        return NumericArray(values: values, shape: shape, allIntegers: allIntegers, float32Corrections: mine)
    }

    /// The first `count` elements of the array whose content starts at `offset`, parsed again
    /// as generic values (when the array turns out not to be numeric): numeric mode kept only
    /// array-wide integer flags and float32 corrections, each element needs its own. The elements
    /// re-read are numbers and numeric arrays, which parse without falling back, so an input byte
    /// is read at most twice.
    mutating func reparseElements(from offset: Int, count: Int, numbersStart: Int) throws(WireError) -> [JSONValue] {
        truncate(to: numbersStart)
        let resume = pos
        pos = offset
        var items: [JSONValue] = []
        items.reserveCapacity(count + 1)
        for _ in 0..<count {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            pos += 1  // the ',' the first pass found after this element
        }
        pos = resume
        return items
    }

    // MARK: numbers

    /// Parses a number at `pos`; sets `isInteger` when it is an integer literal within +-2^53.
    @inline(__always) mutating func parseNumber(isInteger: inout Bool) throws(WireError) -> Double {
        let start = pos
        var negative = false
        if p[pos] == Byte.minus {
            negative = true
            pos += 1
        }
        guard pos < end, p[pos] &- Byte.zero < 10 else {
            if pos < end && p[pos] == 0x49 { throw bareNonFinite(at: start) }
            throw fail("expected a digit in the number", at: pos)
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var truncated = false
        if p[pos] == Byte.zero {
            pos += 1
            if pos < end && p[pos] &- Byte.zero < 10 { throw fail("leading zeros are not allowed in numbers", at: start) }
        } else {
            while pos < end {
                let digit = p[pos] &- Byte.zero
                if digit >= 10 { break }
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    significant += 1
                } else {
                    exponent += 1
                    truncated = truncated || digit != 0
                }
                pos += 1
            }
        }
        var isFloatLiteral = false
        if pos < end && p[pos] == Byte.dot {
            isFloatLiteral = true
            pos += 1
            guard pos < end, p[pos] &- Byte.zero < 10 else { throw fail("expected a digit after '.'", at: pos) }
            while pos < end {
                let digit = p[pos] &- Byte.zero
                if digit >= 10 { break }
                if significant < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    exponent -= 1
                    if mantissa != 0 { significant += 1 }
                } else {
                    truncated = truncated || digit != 0
                }
                pos += 1
            }
        }
        if pos < end && (p[pos] | 0x20) == Byte.lowerE {
            isFloatLiteral = true
            pos += 1
            var expNegative = false
            if pos < end && (p[pos] == Byte.minus || p[pos] == Byte.plus) {
                expNegative = p[pos] == Byte.minus
                pos += 1
            }
            guard pos < end, p[pos] &- Byte.zero < 10 else { throw fail("expected a digit in the exponent", at: pos) }
            var e = 0
            while pos < end {
                let digit = p[pos] &- Byte.zero
                if digit >= 10 { break }
                // Saturates far above any offset the mantissa digits can make (one per input
                // byte), so a saturated exponent is still out of range either way; a lower cap
                // (it was 10^6) let "0.<10^6 zeros>1e1000001" parse as 0.1 instead of 1.
                if e < 1 << 40 { e = e * 10 + Int(digit) }
                pos += 1
            }
            exponent += expNegative ? -e : e
        }
        isInteger = !isFloatLiteral && !truncated && mantissa <= 1 << 53
        // Trailing zeros of the mantissa move into the exponent, so that e.g. 1000000000000000000000
        // still takes the fast path below.
        while !truncated && mantissa > 1 << 53 && mantissa % 10 == 0 {
            mantissa /= 10
            exponent += 1
        }
        var value: Double
        if mantissa == 0 {
            value = 0
        } else if !truncated && mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            // Clinger's fast path: both operands exact, so one correctly rounded operation.
            value = Double(mantissa)
            if exponent < 0 { value /= exactPowersOfTen[-exponent] } else { value *= exactPowersOfTen[exponent] }
        } else if !truncated, let fast = EiselLemire.double(w: mantissa, q: exponent) {
            value = fast
        } else {
            // Long tokens would make the decimal conversion slow; no real number needs this many characters.
            if pos - start > 1000 { throw fail("number longer than 1000 characters", at: start) }
            guard let slow = Double(tokenText(from: start)) else { throw fail("invalid number", at: start) }
            value = slow.magnitude
        }
        if value.isInfinite { throw fail("number out of range (beyond the float64 range)", at: start) }
        return negative ? -value : value
    }

    func tokenText(from start: Int) -> String {
        String(decoding: UnsafeBufferPointer(start: p + start, count: pos - start), as: UTF8.self)
    }

    /// The correctly rounded Float of the number token at `tokenStart` whose Double is `d`.
    func float32(of d: Double, tokenStart: Int) throws(WireError) -> Float {
        let f = Float(d)
        if f.isFinite {
            let back = Double(f)
            if back == d { return f }
            let neighbour = Double(back < d ? f.nextUp : f.nextDown)
            guard neighbour.isFinite, d * 2 == back + neighbour else { return f }
        } else if d.magnitude != float32OverflowTie {
            return f
        }
        // `d` is exactly halfway between two Floats (or between Float.max and the overflow
        // threshold 2^128, where Float(d) ties to infinity): decide from the decimal text itself.
        guard let exact = Float(tokenText(from: tokenStart)) else { throw fail("invalid number", at: tokenStart) }
        return exact
    }

    // MARK: strings

    /// Parses a string at `pos` (on '"'), validating UTF-8 and escapes.
    mutating func parseString() throws(WireError) -> String {
        let open = pos
        pos += 1
        let start = pos
        var ascii = true
        while pos < end {
            let c = p[pos]
            if c == Byte.quote {
                let bytes = UnsafeBufferPointer(start: p + start, count: pos - start)
                pos += 1
                if ascii { return String(decoding: bytes, as: UTF8.self) }
                guard let s = String(validating: bytes, as: UTF8.self) else { throw invalidUTF8(in: bytes, offset: start) }
                return s
            }
            if c == Byte.backslash { return try parseEscapedString(open: open, start: start) }
            if c < 0x20 { throw fail("control character 0x\(String(c, radix: 16, uppercase: true)) in a string must be escaped") }
            if c >= 0x80 { ascii = false }
            pos += 1
        }
        throw fail("unterminated string", at: open)
    }

    func invalidUTF8(in bytes: UnsafeBufferPointer<UInt8>, offset: Int) -> WireError {
        // Locate the first bad byte for the message.
        var i = 0
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var consumed = 0
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s):
                consumed += UTF8.width(s)
                i = consumed
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        return fail("invalid UTF-8 in a string", at: offset + i)
    }

    mutating func parseEscapedString(open: Int, start: Int) throws(WireError) -> String {
        var out = [UInt8](UnsafeBufferPointer(start: p + start, count: pos - start))
        while pos < end {
            let c = p[pos]
            if c == Byte.quote {
                pos += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw fail("invalid UTF-8 in a string", at: open)
                }
                return s
            }
            if c < 0x20 { throw fail("control character 0x\(String(c, radix: 16, uppercase: true)) in a string must be escaped") }
            if c != Byte.backslash {
                out.append(c)
                pos += 1
                continue
            }
            let escapeOffset = pos
            pos += 1
            guard pos < end else { break }
            let e = p[pos]
            pos += 1
            switch e {
            case Byte.quote: out.append(Byte.quote)
            case Byte.backslash: out.append(Byte.backslash)
            case Byte.slash: out.append(Byte.slash)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4(escapeOffset)
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard pos + 1 < end, p[pos] == Byte.backslash, p[pos + 1] == 0x75 else {
                        throw fail("unpaired surrogate in \\u escape", at: escapeOffset)
                    }
                    pos += 2
                    let low = try hex4(escapeOffset)
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate in \\u escape", at: escapeOffset) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw fail("unpaired surrogate in \\u escape", at: escapeOffset)
                }
                // Valid by construction: not a surrogate, at most 0x10FFFF.
                let u = Unicode.Scalar(scalar)!
                out.append(contentsOf: UTF8.encode(u)!)
            default:
                throw fail("invalid escape sequence in a string", at: escapeOffset)
            }
        }
        throw fail("unterminated string", at: open)
    }

    mutating func hex4(_ escapeOffset: Int) throws(WireError) -> UInt32 {
        guard pos + 4 <= end else { throw fail("invalid \\u escape: expected 4 hex digits", at: escapeOffset) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = p[pos]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("invalid \\u escape: expected 4 hex digits", at: escapeOffset)
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }
}
