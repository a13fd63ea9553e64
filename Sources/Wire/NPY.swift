/// The element types this service exchanges as `.npy`.
public enum NPYDType: String, Sendable, CaseIterable {
    case float32, float64, int32, int64, uint8

    /// The numpy `descr` written for this type.
    public var descr: String {
        switch self {
        case .float32: "<f4"
        case .float64: "<f8"
        case .int32: "<i4"
        case .int64: "<i8"
        case .uint8: "|u1"
        }
    }

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        case .uint8: 1
        }
    }
}

/// An array as raw little-endian, C-order bytes plus its shape and dtype.
public struct NPYArray: Sendable, Equatable {
    /// The element type.
    public var dtype: NPYDType
    /// The shape (`[]` for a 0-d scalar).
    public var shape: [Int]
    /// `product(shape) * dtype.itemSize` bytes, little-endian, row-major.
    public var data: [UInt8]

    /// Creates an array; `data.count` must equal `product(shape) * dtype.itemSize`.
    public init(dtype: NPYDType, shape: [Int], data: [UInt8]) {
        precondition(NPY.byteCount(dtype: dtype, shape: shape) == data.count, "NPYArray data size does not match its shape")
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }
}

/// What an `.npy` header says, and where the data lies in the buffer it was read from.
public struct NPYHeader: Sendable, Equatable {
    /// The element type.
    public var dtype: NPYDType
    /// The shape (`[]` for a 0-d scalar).
    public var shape: [Int]
    /// The number of elements (product of `shape`).
    public var elementCount: Int
    /// The byte range of the raw data within the buffer given to `NPY.readHeader`.
    public var dataRange: Range<Int>
}

/// The numpy `.npy` format: read versions 1.0, 2.0 and 3.0; write version 1.0.
public enum NPY {
    /// The six magic bytes every `.npy` file starts with.
    public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    /// The advice given with every layout/dtype rejection.
    static let hint = "convert with np.ascontiguousarray(a, dtype='<f4') (or '<f8', '<i4', '<i8', '|u1') before np.save"

    /// True when `bytes` starts with the `.npy` magic.
    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 6 && zip(bytes.prefix(6), magic).allSatisfy { $0 == $1 }
    }

    /// `product(shape) * itemSize`, or nil on overflow or a negative dimension.
    static func byteCount(dtype: NPYDType, shape: [Int]) -> Int? {
        guard let n = elementCount(shape) else { return nil }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: dtype.itemSize)
        return overflow ? nil : bytes
    }

    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = m
        }
        return n
    }

    /// Parses and validates the header of the `.npy` file in `bytes`, checking that the data is
    /// complete and that the element count is at most `maxElements` (before anything is allocated).
    public static func readHeader(_ bytes: UnsafeRawBufferPointer, maxElements: Int) throws(WireError) -> NPYHeader {
        func invalid(_ why: String) -> WireError { WireError(.invalidNPY, "invalid .npy: \(why)") }
        guard bytes.count >= 10 else { throw invalid("\(bytes.count) bytes is too short for a header") }
        guard hasMagic(bytes) else { throw invalid("missing the \\x93NUMPY magic") }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int
        let prefix: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            prefix = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw invalid("\(bytes.count) bytes is too short for a version \(major) header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            prefix = 12
        default:
            throw invalid("unsupported format version \(major).\(minor) (1.0, 2.0 and 3.0 are supported)")
        }
        guard minor == 0 else { throw invalid("unsupported format version \(major).\(minor) (1.0, 2.0 and 3.0 are supported)") }
        guard bytes.count - prefix >= headerLength else {
            throw invalid("truncated header: \(headerLength) bytes announced, \(bytes.count - prefix) present")
        }
        let header = UnsafeRawBufferPointer(rebasing: bytes[prefix..<(prefix + headerLength)])
        var parser = HeaderParser(text: header, fileOffset: prefix)
        let dict = try parser.parse()
        let dtype = try dtypeFor(descr: dict.descr)
        if dict.fortranOrder && dict.shape.count > 1 {
            throw WireError(.unsupportedLayout, "unsupported .npy layout: fortran_order is True; \(hint)")
        }
        guard let count = elementCount(dict.shape) else {
            throw WireError(.tooLarge, "array too large: shape \(shapeText(dict.shape)) overflows the element count")
        }
        if count > maxElements {
            throw WireError(.tooLarge, "array too large: shape \(shapeText(dict.shape)) has \(count) elements, the limit is \(maxElements)")
        }
        guard let byteCount = byteCount(dtype: dtype, shape: dict.shape) else {
            throw WireError(.tooLarge, "array too large: shape \(shapeText(dict.shape)) overflows the byte count")
        }
        let start = prefix + headerLength
        let present = bytes.count - start
        if present < byteCount {
            throw invalid("truncated data: shape \(shapeText(dict.shape)) of \(dict.descr) needs \(byteCount) bytes, \(present) present")
        }
        if present > byteCount {
            throw invalid("\(present - byteCount) unexpected bytes after the data of shape \(shapeText(dict.shape)) (\(byteCount) bytes)")
        }
        return NPYHeader(dtype: dtype, shape: dict.shape, elementCount: count, dataRange: start..<(start + byteCount))
    }

    /// Decodes a whole `.npy` file, copying its data once.
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxElements: Int) throws(WireError) -> NPYArray {
        let h = try readHeader(bytes, maxElements: maxElements)
        return NPYArray(dtype: h.dtype, shape: h.shape, data: [UInt8](UnsafeRawBufferPointer(rebasing: bytes[h.dataRange])))
    }

    /// Decodes a whole `.npy` file from `bytes`.
    public static func decode(_ bytes: [UInt8], maxElements: Int) throws(WireError) -> NPYArray {
        try bytes.withUnsafeBytes { raw in Result { () throws(WireError) in try decode(raw, maxElements: maxElements) } }.get()
    }

    /// A version 1.0 header for `dtype` and `shape`, padded so the data starts at a multiple of 64 bytes.
    public static func header(dtype: NPYDType, shape: [Int]) -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(dtype.descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        let unpadded = 10 + dict.count + 1
        let padding = (64 - unpadded % 64) % 64
        dict.append(contentsOf: repeatElement(0x20, count: padding))
        dict.append(0x0A)
        // A v1.0 header length is a UInt16; any realistic shape fits (a 64-d shape of 19-digit dims is ~1.4 KB).
        precondition(dict.count <= Int(UInt16.max), "npy header too long")
        return magic + [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + dict
    }

    /// A complete version 1.0 `.npy` file: header followed by `data` (raw little-endian, row-major).
    public static func encode(dtype: NPYDType, shape: [Int], data: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(byteCount(dtype: dtype, shape: shape) == data.count, "npy data size does not match its shape")
        var out = header(dtype: dtype, shape: shape)
        out.append(contentsOf: data)
        return out
    }

    /// A complete version 1.0 `.npy` file for `array`.
    public static func encode(_ array: NPYArray) -> [UInt8] {
        array.data.withUnsafeBytes { encode(dtype: array.dtype, shape: array.shape, data: $0) }
    }

    static func shapeText(_ shape: [Int]) -> String {
        "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    }

    static func dtypeFor(descr: String) throws(WireError) -> NPYDType {
        if let t = NPYDType.allCases.first(where: { $0.descr == descr }) { return t }
        let order = descr.first
        let code = order == "<" || order == ">" || order == "|" || order == "=" ? String(descr.dropFirst()) : descr
        if order == ">" && ["f4", "f8", "i4", "i8"].contains(code) {
            throw WireError(.unsupportedLayout, "unsupported .npy layout: big-endian dtype '\(descr)'; \(hint)")
        }
        let names = ["b1": "bool", "i1": "int8", "i2": "int16", "u2": "uint16", "u4": "uint32", "u8": "uint64",
                     "f2": "float16", "c8": "complex64", "c16": "complex128", "O": "object"]
        let name = names[code].map { " (\($0))" } ?? ""
        throw WireError(.unsupportedDtype,
                        "unsupported .npy dtype '\(descr)'\(name): supported are '<f4', '<f8', '<i4', '<i8', '|u1'; \(hint)")
    }
}

/// A strict parser for the header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
/// followed by space padding and a newline.
private struct HeaderParser {
    let text: UnsafeRawBufferPointer
    /// Where `text` starts in the file (for messages).
    let fileOffset: Int
    var pos = 0

    init(text: UnsafeRawBufferPointer, fileOffset: Int) {
        self.text = text
        self.fileOffset = fileOffset
    }

    struct Dict {
        var descr: String
        var fortranOrder: Bool
        var shape: [Int]
    }

    func fail(_ why: String, at offset: Int? = nil) -> WireError {
        WireError(.invalidNPY, "invalid .npy header at byte \(fileOffset + (offset ?? pos)): \(why)")
    }

    mutating func skipSpaces() { while pos < text.count && text[pos] == 0x20 { pos += 1 } }

    mutating func expect(_ c: UInt8) throws(WireError) {
        skipSpaces()
        guard pos < text.count, text[pos] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        pos += 1
    }

    mutating func peek() -> UInt8? {
        skipSpaces()
        return pos < text.count ? text[pos] : nil
    }

    mutating func parse() throws(WireError) -> Dict {
        try expect(0x7B)
        var descr: String?, fortran: Bool?, shape: [Int]?
        while peek() != 0x7D {
            let keyOffset = pos
            let key = try parseString()
            try expect(0x3A)
            switch key {
            case "descr":
                guard descr == nil else { throw fail("duplicate key 'descr'", at: keyOffset) }
                if peek() == 0x5B {
                    throw WireError(.unsupportedDtype, "unsupported .npy dtype: structured dtypes are not supported; \(NPY.hint)")
                }
                descr = try parseString()
            case "fortran_order":
                guard fortran == nil else { throw fail("duplicate key 'fortran_order'", at: keyOffset) }
                fortran = try parseBool()
            case "shape":
                guard shape == nil else { throw fail("duplicate key 'shape'", at: keyOffset) }
                shape = try parseShape()
            default:
                throw fail("unexpected key '\(key)' (expected 'descr', 'fortran_order', 'shape')", at: keyOffset)
            }
            if peek() == 0x2C { pos += 1 } else { break }
        }
        try expect(0x7D)
        guard let descr else { throw fail("missing key 'descr'") }
        guard let fortran else { throw fail("missing key 'fortran_order'") }
        guard let shape else { throw fail("missing key 'shape'") }
        skipSpaces()
        guard pos == text.count - 1, text[pos] == 0x0A else { throw fail("expected space padding and a final newline") }
        return Dict(descr: descr, fortranOrder: fortran, shape: shape)
    }

    mutating func parseString() throws(WireError) -> String {
        skipSpaces()
        guard pos < text.count, text[pos] == 0x27 || text[pos] == 0x22 else { throw fail("expected a quoted string") }
        let quote = text[pos]
        pos += 1
        let start = pos
        while pos < text.count && text[pos] != quote {
            guard text[pos] >= 0x20 && text[pos] < 0x7F && text[pos] != 0x5C else { throw fail("unexpected character in a string") }
            pos += 1
        }
        guard pos < text.count else { throw fail("unterminated string") }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<pos]), as: UTF8.self)
        pos += 1
        return s
    }

    mutating func parseBool() throws(WireError) -> Bool {
        skipSpaces()
        for (word, value) in [("True", true), ("False", false)] {
            let w = Array(word.utf8)
            if text.count - pos >= w.count && zip(text[pos..<(pos + w.count)], w).allSatisfy({ $0 == $1 }) {
                pos += w.count
                return value
            }
        }
        throw fail("expected True or False")
    }

    mutating func parseShape() throws(WireError) -> [Int] {
        try expect(0x28)
        var dims: [Int] = []
        while peek() != 0x29 {
            guard dims.count < 64 else { throw fail("more than 64 dimensions") }
            dims.append(try parseDimension())
            if peek() == 0x2C { pos += 1 } else if dims.count == 1 && peek() == 0x29 {
                throw fail("a 1-d shape needs a trailing comma, as in (3,)")
            } else {
                break
            }
        }
        try expect(0x29)
        return dims
    }

    mutating func parseDimension() throws(WireError) -> Int {
        skipSpaces()
        var n = 0
        let start = pos
        while pos < text.count, text[pos] >= 0x30, text[pos] <= 0x39 {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(text[pos] - 0x30))
            guard !o1 && !o2 else {
                throw WireError(.tooLarge, "array too large: a dimension in the .npy shape overflows a 64-bit integer")
            }
            n = a
            pos += 1
        }
        guard pos > start else { throw fail("expected a non-negative integer dimension") }
        return n
    }
}
