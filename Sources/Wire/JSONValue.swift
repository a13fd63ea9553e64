/// A JSON number: its `Double` value plus what the literal said about it.
public struct JSONNumber: Sendable, Hashable {
    /// The value, correctly rounded to the nearest `Double`.
    public let double: Double
    /// The value correctly rounded to the nearest `Float` (not via `Double`, so no double rounding).
    public let float: Float
    /// True when the literal was an integer (no fraction, no exponent) with magnitude <= 2^53,
    /// so `double` holds it exactly.
    public let isInteger: Bool

    /// An integer number; written without a fraction. `value` must have magnitude <= 2^53 to stay exact.
    public init(_ value: Int) {
        double = Double(value)
        float = Float(value)
        isInteger = value.magnitude <= JSONNumber.maxExactInteger
    }

    /// A floating-point number; written in shortest round-trip form (always with a `.` or exponent).
    public init(_ value: Double) {
        double = value
        float = Float(value)
        isInteger = false
    }

    init(double: Double, float: Float, isInteger: Bool) {
        self.double = double
        self.float = float
        self.isInteger = isInteger
    }

    /// The exact integer, when the literal was an integer within +-2^53; nil otherwise.
    public var int: Int? { isInteger ? Int(double) : nil }

    static let maxExactInteger: UInt = 1 << 53
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Equatable {
    /// The member name.
    public var key: String
    /// The member value.
    public var value: JSONValue

    /// Creates a member.
    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON object with its members in document order (keys are unique when parsed).
public struct JSONObject: Sendable, Equatable {
    /// The members in order.
    public var members: [JSONMember]

    /// Creates an object from members in order.
    public init(_ members: [JSONMember] = []) { self.members = members }

    /// The value for `key`, or nil.
    public subscript(key: String) -> JSONValue? {
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The member names in order.
    public var keys: [String] { members.map(\.key) }
}

/// A rectangular array of numbers parsed straight into one contiguous buffer (the tensor fast path).
///
/// Elements may have been the strings `"NaN"`, `"Infinity"`, `"-Infinity"`; they hold the
/// corresponding non-finite values (a JSON number literal never produces one).
public struct NumericArray: Sendable {
    /// The values in row-major order.
    public var values: [Double]
    /// The nested shape: `[3]` for `[1,2,3]`, `[2,2]` for `[[1,2],[3,4]]`, `[0]` for `[]`.
    public var shape: [Int]
    /// True when every element was an integer literal within +-2^53.
    public var allIntegers: Bool
    /// Elements whose nearest `Float` differs from `Float(values[i])` (double rounding at a
    /// Float32 tie), with their correctly rounded `Float`. Rare; empty for almost all inputs.
    public var float32Corrections: [Float32Correction]

    /// A correctly rounded `Float` for one element.
    public struct Float32Correction: Sendable, Equatable {
        /// The element index.
        public var index: Int
        /// The correctly rounded value.
        public var value: Float
    }

    /// Creates a numeric array; `values.count` must equal the product of `shape`.
    public init(values: [Double], shape: [Int], allIntegers: Bool = false,
                float32Corrections: [Float32Correction] = []) {
        self.values = values
        self.shape = shape
        self.allIntegers = allIntegers
        self.float32Corrections = float32Corrections
    }

    /// The values as correctly rounded `Float`s; throws if a finite value is outside Float's range.
    public func floats() throws(WireError) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        var overflowIndex = -1
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count {
                    let f = Float(src[i])
                    dst[i] = f
                    if f.isInfinite && src[i].isFinite && overflowIndex < 0 { overflowIndex = i }
                }
            }
        }
        for c in float32Corrections { out[c.index] = c.value }
        // A correction can bring a value back from infinity (a decimal just below the overflow tie).
        if overflowIndex >= 0, let i = (overflowIndex..<out.count).first(where: { out[$0].isInfinite && values[$0].isFinite }) {
            throw WireError(.valueOutOfRange, "value \(values[i]) at index \(i) is outside the float32 range")
        }
        return out
    }

    /// The values as integers of type `T`; throws for a non-integral, non-finite or out-of-range value.
    @inlinable
    public func integers<T: FixedWidthInteger>(_: T.Type = T.self) throws(WireError) -> [T] {
        var out = [T]()
        out.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard let x = T(exactly: v) else { throw NumericArray.notInteger(v, index: i, type: "\(T.self)") }
            out.append(x)
        }
        return out
    }

    @usableFromInline
    static func notInteger(_ v: Double, index: Int, type: String) -> WireError {
        WireError(.valueOutOfRange, "value \(JSONWriter.numberText(v)) at index \(index) is not a \(type)")
    }

    /// The array as plain JSON values (nested per `shape`); non-finite values become the strings.
    public func jsonValue() -> JSONValue {
        var index = 0
        return values.withUnsafeBufferPointer { buf in
            materialize(buf, dim: 0, index: &index)
        }
    }

    private func materialize(_ buf: UnsafeBufferPointer<Double>, dim: Int, index: inout Int) -> JSONValue {
        if dim == shape.count {
            let v = buf[index]
            index += 1
            return JSONValue.finiteOrSpecial(v, isInteger: allIntegers)
        }
        var items = [JSONValue]()
        items.reserveCapacity(shape[dim])
        for _ in 0..<shape[dim] { items.append(materialize(buf, dim: dim + 1, index: &index)) }
        return .array(items)
    }
}

extension NumericArray: Equatable {
    /// Bitwise comparison of values (so NaN equals NaN), plus shape.
    public static func == (a: NumericArray, b: NumericArray) -> Bool {
        a.shape == b.shape && a.values.count == b.values.count
            && zip(a.values, b.values).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
}

/// A JSON value. Arrays that hold only numbers (and the strings `"NaN"`, `"Infinity"`,
/// `"-Infinity"`), flat or rectangular-nested, parse as `.numbers`; others as `.array`.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
    /// A rectangular numeric array (the parser's fast path); see `NumericArray`.
    case numbers(NumericArray)

    /// An integer number value.
    public static func int(_ v: Int) -> JSONValue { .number(JSONNumber(v)) }
    /// A floating-point number value; non-finite values become the strings `"NaN"`, `"Infinity"`, `"-Infinity"`.
    public static func double(_ v: Double) -> JSONValue { finiteOrSpecial(v, isInteger: false) }

    static func finiteOrSpecial(_ v: Double, isInteger: Bool) -> JSONValue {
        if v.isNaN { return .string("NaN") }
        if v.isInfinite { return .string(v < 0 ? "-Infinity" : "Infinity") }
        let exact = isInteger && v.magnitude <= Double(JSONNumber.maxExactInteger)
        return .number(JSONNumber(double: v, float: Float(v), isInteger: exact))
    }

    /// The members when this is an object.
    public var object: JSONObject? { if case .object(let o) = self { o } else { nil } }
    /// The string when this is a string.
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    /// The bool when this is a bool.
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    /// The number when this is a number.
    public var number: JSONNumber? { if case .number(let n) = self { n } else { nil } }
    /// True for `null`.
    public var isNull: Bool { if case .null = self { true } else { false } }

    /// The elements when this is an array (a `.numbers` array is expanded into values).
    public var array: [JSONValue]? {
        switch self {
        case .array(let a): return a
        case .numbers(let n):
            if case .array(let a) = n.jsonValue() { return a }
            return nil
        default: return nil
        }
    }

    /// The value for `key` when this is an object.
    public subscript(key: String) -> JSONValue? { object?[key] }
}

extension JSONValue: Equatable {
    /// Structural equality; a `.numbers` array equals the `.array` it expands to.
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x.double == y.double
        case (.string(let x), .string(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.numbers(let x), .numbers(let y)): return x == y
        case (.numbers(let x), .array): return x.jsonValue() == b
        case (.array, .numbers(let y)): return a == y.jsonValue()
        default: return false
        }
    }
}
