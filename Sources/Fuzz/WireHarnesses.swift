import Wire

// Fuzz harnesses for the Wire decoders. Bad input must only ever produce a WireError; a broken
// property (checked on accepted and rejected input alike) is a PropertyFailure.

/// JSON: ``JSONParser`` is compared with ``ReferenceJSON``, a slow decoder written straight from
/// RFC 8259 and the parser's documented rules. Properties: both accept or both reject; accepted
/// documents decode to the same tree (number bits, correctly rounded float32, integer flags,
/// numeric-array classification and shapes); numeric arrays are consistent; and
/// `parse(encode(value))` gives back the same values, bit for bit.
enum JSONHarness {
    static let options = JSONParser.Options(maxDepth: 64, maxInputBytes: 1 << 20)

    static func run(_ data: UnsafeRawBufferPointer) throws(PropertyFailure) {
        var reference = ReferenceJSON(bytes: [UInt8](data), maxDepth: options.maxDepth)
        let expected = reference.document()
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(data, options: options)
        } catch {
            try require(error.kind == .invalidJSON, "JSON rejected with kind \(error.kind)")
            try require(expected == nil || reference.unspecified, "parser rejects what the reference accepts: \(error)")
            return
        }
        guard let expected else {
            try require(reference.unspecified, "parser accepts what the reference rejects")
            return
        }
        try checkNumericArrays(parsed)
        let tree = JSONTree(parsed)
        try require(tree == expected, "parser and reference differ:\n  parser    \(tree)\n  reference \(expected)")

        let encoded = JSONWriter.encode(parsed)
        guard let again = try? JSONParser.parse(encoded) else {
            throw PropertyFailure(message: "re-encoded JSON does not parse: \(String(decoding: encoded, as: UTF8.self))")
        }
        try require(JSONTree(again).values == tree.values,
                    "JSON round trip changed the value: \(String(decoding: encoded, as: UTF8.self))")
    }

    static func checkNumericArrays(_ value: JSONValue) throws(PropertyFailure) {
        switch value {
        case .numbers(let n):
            try require(n.shape.reduce(1, *) == n.values.count, "numeric array shape does not match its values")
            try require(n.float32Corrections.allSatisfy { $0.index < n.values.count }, "correction out of range")
            // floats() (the float32 tensor path) gives each element's correctly rounded Float,
            // and fails exactly when a finite value rounds to infinity.
            var rounded = n.values.map(Float.init)
            for c in n.float32Corrections where c.index < rounded.count { rounded[c.index] = c.value }
            let overflows = zip(rounded, n.values).contains { $0.isInfinite && $1.isFinite }
            if let floats = try? n.floats() {
                try require(!overflows, "floats() accepts a value beyond the float32 range")
                try require(floats.map(\.bitPattern) == rounded.map(\.bitPattern), "floats() differs from the corrected values")
            } else {
                try require(overflows, "floats() fails without a value beyond the float32 range")
            }
            _ = try? n.integers(Int64.self)
        case .array(let items):
            for item in items { try checkNumericArrays(item) }
        case .object(let o):
            for member in o.members { try checkNumericArrays(member.value) }
        default:
            break
        }
    }
}

/// The JSON data model the parser and the reference are compared in: numbers as bit patterns,
/// strings as UTF-8 bytes, arrays marked when they took the numeric (tensor) fast path.
indirect enum JSONTree: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(double: UInt64, float: UInt32, isInteger: Bool)
    case string([UInt8])
    case array([JSONTree], numeric: Bool)
    case object(keys: [[UInt8]], values: [JSONTree])

    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n): self = .number(double: n.double.bitPattern, float: n.float.bitPattern, isInteger: n.isInteger)
        case .string(let s): self = .string(Array(s.utf8))
        case .array(let items): self = .array(items.map(JSONTree.init), numeric: false)
        case .object(let o): self = .object(keys: o.members.map { Array($0.key.utf8) }, values: o.members.map { JSONTree($0.value) })
        case .numbers(let n):
            var floats = n.values.map(Float.init)
            for c in n.float32Corrections where c.index < floats.count { floats[c.index] = c.value }
            var index = 0
            self = JSONTree.numeric(n, floats, dim: 0, index: &index)
        }
    }

    private static func numeric(_ n: NumericArray, _ floats: [Float], dim: Int, index: inout Int) -> JSONTree {
        guard dim < n.shape.count else {
            let v = n.values[index]
            defer { index += 1 }
            if v.isNaN { return .string(Array("NaN".utf8)) }
            if v.isInfinite { return .string(Array((v < 0 ? "-Infinity" : "Infinity").utf8)) }
            return .number(double: v.bitPattern, float: floats[index].bitPattern, isInteger: n.allIntegers)
        }
        var items: [JSONTree] = []
        for _ in 0..<n.shape[dim] { items.append(numeric(n, floats, dim: dim + 1, index: &index)) }
        return .array(items, numeric: true)
    }

    /// The tree without what a re-encoding may legitimately change: float32 bits (a double at a
    /// float32 tie), integer flags and the numeric classification (`1` in `[1,"\u004EaN"]` is
    /// written as `[1,"NaN"]`, which is numeric).
    var values: JSONTree {
        switch self {
        case .number(let d, _, _): .number(double: d, float: 0, isInteger: false)
        case .array(let items, _): .array(items.map(\.values), numeric: false)
        case .object(let keys, let values): .object(keys: keys, values: values.map(\.values))
        default: self
        }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let d, let f, let i): "\(Double(bitPattern: d))/\(Float(bitPattern: f))\(i ? "i" : "")"
        case .string(let s): String(decoding: s, as: UTF8.self).debugDescription
        case .array(let items, let numeric): (numeric ? "n" : "") + "[" + items.map(\.description).joined(separator: ",") + "]"
        case .object(let keys, let values):
            "{" + zip(keys, values).map { "\(String(decoding: $0, as: UTF8.self).debugDescription):\($1)" }.joined(separator: ",") + "}"
        }
    }
}

/// A deliberately simple JSON decoder (RFC 8259 plus the parser's documented rules: duplicate
/// keys, lone surrogates, invalid UTF-8 and numbers beyond the float64 range are errors; arrays
/// of numbers and the exact strings "NaN", "Infinity", "-Infinity", flat or rectangular, are
/// numeric; depth limit). Numbers go through the C library's correctly rounded conversions.
struct ReferenceJSON {
    let bytes: [UInt8]
    let maxDepth: Int
    var pos = 0
    var depth = 0
    /// Set when the input holds something whose acceptance the parser leaves open (a number
    /// token over 1,000 characters that needs the slow conversion).
    var unspecified = false

    struct Reject: Error {}

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// The decoded document, or nil when it is not valid.
    mutating func document() -> JSONTree? {
        do {
            skipWhitespace()
            let (tree, _) = try value()
            skipWhitespace()
            guard pos == bytes.count else { throw Reject() }
            return Self.markIntegers(tree, inNumeric: nil)
        } catch {
            return nil
        }
    }

    /// In a numeric array the integer flag belongs to the whole (outermost) array.
    static func markIntegers(_ tree: JSONTree, inNumeric allIntegers: Bool?) -> JSONTree {
        switch tree {
        case .number(let d, let f, let i): return .number(double: d, float: f, isInteger: allIntegers ?? i)
        case .array(let items, let numeric):
            let flag = allIntegers ?? (numeric ? items.allSatisfy(Self.integersOnly) : nil)
            return .array(items.map { markIntegers($0, inNumeric: flag) }, numeric: numeric)
        case .object(let keys, let values): return .object(keys: keys, values: values.map { markIntegers($0, inNumeric: nil) })
        default: return tree
        }
    }

    static func integersOnly(_ tree: JSONTree) -> Bool {
        switch tree {
        case .number(_, _, let isInteger): isInteger
        case .array(let items, _): items.allSatisfy(integersOnly)
        default: false
        }
    }

    mutating func skipWhitespace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    /// What an element contributes to its array's numeric shape: nil = not numeric.
    enum Numeric { case leaf, array([Int]) }

    mutating func value() throws(Reject) -> (JSONTree, Numeric?) {
        guard pos < bytes.count else { throw Reject() }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return (try object(), nil)
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""):
            let (s, raw) = try string()
            let special = raw && ["NaN", "Infinity", "-Infinity"].contains(where: { Array($0.utf8) == s })
            return (.string(s), special ? .leaf : nil)
        case UInt8(ascii: "t"): try literal("true"); return (.bool(true), nil)
        case UInt8(ascii: "f"): try literal("false"); return (.bool(false), nil)
        case UInt8(ascii: "n"): try literal("null"); return (.null, nil)
        default: return (try number(), .leaf)
        }
    }

    mutating func literal(_ word: String) throws(Reject) {
        let w = Array(word.utf8)
        guard bytes.count - pos >= w.count, Array(bytes[pos..<(pos + w.count)]) == w else { throw Reject() }
        pos += w.count
    }

    mutating func enter() throws(Reject) {
        depth += 1
        guard depth <= maxDepth else { throw Reject() }
    }

    mutating func object() throws(Reject) -> JSONTree {
        try enter()
        pos += 1
        var keys: [[UInt8]] = [], values: [JSONTree] = [], names: [String] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(keys: [], values: [])
        }
        while true {
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw Reject() }
            let (key, _) = try string()
            // Duplicates as Swift compares strings (canonical equivalence), which is what the
            // parser's key lookups and its duplicate check use.
            let name = String(decoding: key, as: UTF8.self)
            guard !names.contains(name) else { throw Reject() }
            names.append(name)
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw Reject() }
            pos += 1
            skipWhitespace()
            keys.append(key)
            values.append(try value().0)
            skipWhitespace()
            guard pos < bytes.count else { throw Reject() }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                skipWhitespace()
            } else if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                depth -= 1
                return .object(keys: keys, values: values)
            } else {
                throw Reject()
            }
        }
    }

    mutating func array() throws(Reject) -> (JSONTree, Numeric?) {
        try enter()
        pos += 1
        var items: [JSONTree] = [], kinds: [Numeric?] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return (.array([], numeric: true), .array([0]))
        }
        while true {
            let (item, kind) = try value()
            items.append(item)
            kinds.append(kind)
            skipWhitespace()
            guard pos < bytes.count else { throw Reject() }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                skipWhitespace()
            } else if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                depth -= 1
                break
            } else {
                throw Reject()
            }
        }
        // Numeric: all leaves, or all numeric arrays of one shape.
        var shape: [Int]? = nil
        if kinds.allSatisfy({ if case .leaf = $0 { true } else { false } }) {
            shape = [items.count]
        } else if case .array(let first) = kinds[0],
                  kinds.allSatisfy({ if case .array(let s) = $0 { s == first } else { false } }) {
            shape = [items.count] + first
        }
        // Only the outermost numeric array is kept as one: nested ones are numeric too.
        return (.array(items, numeric: shape != nil), shape.map { .array($0) })
    }

    /// A string's UTF-8 and whether it was written without escapes.
    mutating func string() throws(Reject) -> ([UInt8], raw: Bool) {
        pos += 1
        var out: [UInt8] = []
        var raw = true
        while true {
            guard pos < bytes.count else { throw Reject() }
            let c = bytes[pos]
            pos += 1
            if c == UInt8(ascii: "\"") { break }
            guard c >= 0x20 else { throw Reject() }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            raw = false
            guard pos < bytes.count else { throw Reject() }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else { throw Reject() }
                    pos += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw Reject() }
                    scalar = 0x10000 + (scalar - 0xD800) * 0x400 + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw Reject()
                }
                guard let u = Unicode.Scalar(scalar) else { throw Reject() }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw Reject()
            }
        }
        guard String(validating: out, as: UTF8.self) != nil else { throw Reject() }
        return (out, raw)
    }

    mutating func hex4() throws(Reject) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw Reject() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = UInt32(String(UnicodeScalar(bytes[pos])), radix: 16) else { throw Reject() }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, finite as a float64.
    mutating func number() throws(Reject) -> JSONTree {
        let start = pos
        func digits(_ p: inout Int, _ b: [UInt8]) -> Int {
            let s = p
            while p < b.count, (0x30...0x39).contains(b[p]) { p += 1 }
            return p - s
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, (0x30...0x39).contains(bytes[pos]) else { throw Reject() }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
        } else {
            _ = digits(&pos, bytes)
        }
        var integerLiteral = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            integerLiteral = false
            pos += 1
            guard digits(&pos, bytes) > 0 else { throw Reject() }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            integerLiteral = false
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits(&pos, bytes) > 0 else { throw Reject() }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if text.utf8.count > 1000 { unspecified = true }
        guard let double = Double(text), double.isFinite, let float = Float(text) else { throw Reject() }
        let isInteger = integerLiteral && (Int(text).map { $0.magnitude <= 1 << 53 } ?? false)
        return .number(double: double.bitPattern, float: float.bitPattern, isInteger: isInteger)
    }
}

/// npy and npz: decode with a small element limit. Properties for an accepted file: the header
/// describes exactly the bytes after it, the data is copied unchanged, one element less of
/// limit is a `tooLarge` rejection, and re-encoding gives a 64-byte-aligned v1.0 file that
/// decodes to the same array and re-encodes to the same bytes. Rejections are only ever npy
/// error kinds, the same from `readHeader` and `decode`.
enum NPYHarness {
    static let limit = 1 << 20
    static let npyKinds: Set<WireError.Kind> = [.invalidNPY, .unsupportedDtype, .unsupportedLayout, .tooLarge]

    static func run(_ data: UnsafeRawBufferPointer) throws(PropertyFailure) {
        try checkNPY(data)
        try checkNPZ(data)
    }

    static func checkNPY(_ data: UnsafeRawBufferPointer) throws(PropertyFailure) {
        let header: NPYHeader
        do {
            header = try NPY.readHeader(data, maxElements: limit)
        } catch {
            try require(npyKinds.contains(error.kind), "npy rejected with kind \(error.kind)")
            switch Result(catching: { () throws(WireError) in try NPY.decode(data, maxElements: limit) }) {
            case .success: throw PropertyFailure(message: "decode accepts what readHeader rejects (\(error))")
            case .failure(let again): try require(again == error, "decode and readHeader reject differently: \(again) vs \(error)")
            }
            return
        }
        try require(header.elementCount == header.shape.reduce(1, *), "npy element count is not the shape's product")
        try require(header.elementCount <= limit, "npy element limit not enforced")
        try require(header.dataRange.upperBound == data.count, "npy data range does not end the file")
        try require(header.dataRange.count == header.elementCount * header.dtype.itemSize, "npy byte count mismatch")
        guard let array = try? NPY.decode(data, maxElements: limit) else {
            throw PropertyFailure(message: "header accepted, decode failed")
        }
        try require(array.shape == header.shape && array.dtype == header.dtype, "decode disagrees with the header")
        try require(array.data.elementsEqual(data[header.dataRange]), "decode changed the data bytes")
        if header.elementCount > 0 {
            let limit = header.elementCount - 1
            switch Result(catching: { () throws(WireError) in try NPY.readHeader(data, maxElements: limit) }) {
            case .success: throw PropertyFailure(message: "\(header.elementCount) elements accepted under a limit of \(limit)")
            case .failure(let error): try require(error.kind == .tooLarge, "a file over the element limit rejected as \(error.kind)")
            }
        }
        let encoded = NPY.encode(array)
        let again: NPYHeader
        do {
            again = try encoded.withUnsafeBytes { raw in try NPY.readHeader(raw, maxElements: limit) }
        } catch {
            throw PropertyFailure(message: "re-encoded npy does not decode: \(error)")
        }
        try require(again.dataRange.lowerBound % 64 == 0, "re-encoded npy data not 64-byte aligned")
        let decoded = try? NPY.decode(encoded, maxElements: limit)
        try require(decoded == array, "npy round trip changed the array")
        try require(decoded.map { NPY.encode($0) } == encoded, "npy re-encoding is not stable")
    }

    static func checkNPZ(_ data: UnsafeRawBufferPointer) throws(PropertyFailure) {
        let members: [NPZMember]
        do {
            members = try NPZ.decode(data, maxElements: limit)
        } catch {
            try require(npyKinds.contains(error.kind), "npz rejected with kind \(error.kind)")
            return
        }
        try require(members.allSatisfy { $0.array.shape.reduce(1, *) <= limit }, "npz member over the element limit")
        guard let encoded = try? NPZ.encode(members) else { throw PropertyFailure(message: "decoded npz does not re-encode") }
        let again = try? NPZ.decode(encoded, maxElements: limit)
        try require(again == members, "npz round trip changed the members")
        guard let again else { throw PropertyFailure(message: "re-encoded npz does not decode") }
        try require((try? NPZ.encode(again)) == encoded, "npz re-encoding is not stable")
    }
}
