import Glibc

/// Element types of an array. Float types support all math; integer types support storage,
/// casts, comparisons, indices and simple arithmetic.
public enum DType: String, Sendable, CaseIterable {
    case float32, float64, int32, int64, uint8

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8: return 1
        }
    }

    /// True for float32 and float64.
    public var isFloat: Bool { self == .float32 || self == .float64 }
}

/// How a backward pass writes a variable's gradient buffer (MXNet grad_req).
public enum GradReq: String, Sendable { case null, write, add }

/// A scalar type that can live in an array. Arithmetic never traps: integers wrap and
/// integer division by zero gives 0.
protocol Element: Comparable {
    static var dtype: DType { get }
    static var zero: Self { get }
    static var one: Self { get }
    init(double: Double)
    var double: Double { get }
    static func add(_ a: Self, _ b: Self) -> Self
    static func sub(_ a: Self, _ b: Self) -> Self
    static func mul(_ a: Self, _ b: Self) -> Self
    static func div(_ a: Self, _ b: Self) -> Self
    static func mod(_ a: Self, _ b: Self) -> Self
    static func pow(_ a: Self, _ b: Self) -> Self
}

extension Element where Self: FixedWidthInteger {
    static var zero: Self { 0 }
    static var one: Self { 1 }
    /// Truncates toward zero and saturates (MXNet's astype truncates).
    init(double: Double) {
        if double.isNaN { self = 0 } else if double >= Double(Self.max) { self = .max } else if double <= Double(Self.min) { self = .min } else { self = Self(double) }
    }
    var double: Double { Double(self) }
    static func add(_ a: Self, _ b: Self) -> Self { a &+ b }
    static func sub(_ a: Self, _ b: Self) -> Self { a &- b }
    static func mul(_ a: Self, _ b: Self) -> Self { a &* b }
    static func div(_ a: Self, _ b: Self) -> Self { b == 0 ? 0 : a.dividedReportingOverflow(by: b).partialValue }
    static func mod(_ a: Self, _ b: Self) -> Self {
        // MXNet's mod follows Python: the result has the sign of the divisor.
        if b == 0 { return 0 }
        let r = a.remainderReportingOverflow(dividingBy: b).partialValue
        return (r != 0 && ((r < 0) != (b < 0))) ? r &+ b : r
    }
    static func pow(_ a: Self, _ b: Self) -> Self { Self(double: Glibc.pow(a.double, b.double)) }
}

extension Int32: Element { static var dtype: DType { .int32 } }
extension Int64: Element { static var dtype: DType { .int64 } }
extension UInt8: Element { static var dtype: DType { .uint8 } }

extension Float: Element {
    static var dtype: DType { .float32 }
    init(double: Double) { self = Float(double) }
    var double: Double { Double(self) }
    static var zero: Float { 0 }
    static var one: Float { 1 }
    static func add(_ a: Float, _ b: Float) -> Float { a + b }
    static func sub(_ a: Float, _ b: Float) -> Float { a - b }
    static func mul(_ a: Float, _ b: Float) -> Float { a * b }
    static func div(_ a: Float, _ b: Float) -> Float { a / b }
    static func mod(_ a: Float, _ b: Float) -> Float { Float(floatMod(Double(a), Double(b))) }
    static func pow(_ a: Float, _ b: Float) -> Float { powf(a, b) }
}

extension Double: Element {
    static var dtype: DType { .float64 }
    init(double: Double) { self = double }
    var double: Double { self }
    static var zero: Double { 0 }
    static var one: Double { 1 }
    static func add(_ a: Double, _ b: Double) -> Double { a + b }
    static func sub(_ a: Double, _ b: Double) -> Double { a - b }
    static func mul(_ a: Double, _ b: Double) -> Double { a * b }
    static func div(_ a: Double, _ b: Double) -> Double { a / b }
    static func mod(_ a: Double, _ b: Double) -> Double { floatMod(a, b) }
    static func pow(_ a: Double, _ b: Double) -> Double { Glibc.pow(a, b) }
}

/// Python-style modulo: the result takes the divisor's sign.
@inline(__always) func floatMod(_ a: Double, _ b: Double) -> Double {
    let r = fmod(a, b)
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
}
