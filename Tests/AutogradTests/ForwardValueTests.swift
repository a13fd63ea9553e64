import Testing
import Glibc
@testable import Autograd

/// Forward values against the C library / closed forms, float64.
@Suite struct ForwardValueTests {
    static let unary: [(String, [Double], @Sendable (Double) -> Double)] = [
        ("negative", [-1.5, 2], { -$0 }), ("abs", [-1.5, 2], { Swift.abs($0) }), ("sign", [-1.5, 0, 2], { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
        ("floor", [-1.5, 2.5], { Glibc.floor($0) }), ("ceil", [-1.5, 2.5], { Glibc.ceil($0) }),
        ("round", [-2.5, 0.5, 1.4], { Glibc.round($0) }), ("rint", [-2.5, 0.5, 1.5], { Glibc.rint($0) }), ("trunc", [-1.7, 1.7], { Glibc.trunc($0) }),
        ("exp", [-1, 0.5], { Glibc.exp($0) }), ("log", [0.5, 3], { Glibc.log($0) }), ("log2", [0.5, 8], { Glibc.log2($0) }),
        ("log10", [0.5, 100], { Glibc.log10($0) }), ("log1p", [0.5, 3], { Glibc.log1p($0) }), ("expm1", [-1, 0.5], { Glibc.expm1($0) }),
        ("sqrt", [0.25, 9], { $0.squareRoot() }), ("rsqrt", [0.25, 9], { 1 / $0.squareRoot() }), ("cbrt", [-8, 27], { Glibc.cbrt($0) }),
        ("rcbrt", [8, 27], { 1 / Glibc.cbrt($0) }), ("square", [-3, 2], { $0 * $0 }), ("reciprocal", [-4, 0.5], { 1 / $0 }),
        ("sin", [0.3, 2], { Glibc.sin($0) }), ("cos", [0.3, 2], { Glibc.cos($0) }), ("tan", [0.3, 1], { Glibc.tan($0) }),
        ("arcsin", [-0.5, 0.9], { Glibc.asin($0) }), ("arccos", [-0.5, 0.9], { Glibc.acos($0) }), ("arctan", [-2, 0.5], { Glibc.atan($0) }),
        ("sinh", [-1, 2], { Glibc.sinh($0) }), ("cosh", [-1, 2], { Glibc.cosh($0) }), ("tanh", [-1, 2], { Glibc.tanh($0) }),
        ("arcsinh", [-1, 2], { Glibc.asinh($0) }), ("arccosh", [1.5, 3], { Glibc.acosh($0) }), ("arctanh", [-0.5, 0.9], { Glibc.atanh($0) }),
        ("degrees", [Double.pi], { $0 * 180 / .pi }), ("radians", [180], { $0 * .pi / 180 }), ("erf", [-0.5, 1], { Glibc.erf($0) }),
        ("sigmoid", [-30, 0, 2], { 1 / (1 + Glibc.exp(-$0)) }), ("relu", [-1, 0, 2], { Swift.max($0, 0) }),
        ("softsign", [-3, 1], { $0 / (1 + Swift.abs($0)) }),
    ]

    @Test("unary math", arguments: unary.map { $0.0 })
    func unaryValues(_ name: String) throws {
        let (_, v, f) = Self.unary.first { $0.0 == name }!
        let c = Context()
        #expect(close(try c.f(name, c.a(v, nil, .float64)).toDoubles(), v.map(f), tol: 1e-14))
        #expect(close(try c.f(name, c.a(v)).toDoubles(), v.map { Double(Float(f(Double(Float($0))))) }, tol: 1e-6))
    }

    @Test("Activation, LeakyReLU, clip, binary and scalar arithmetic")
    func activations() throws {
        let c = Context()
        let x = try c.a([-2, 0.5], nil, .float64)
        #expect(close(try c.f("Activation", x, p: ["act_type": .string("softrelu")]).toDoubles(), [Glibc.log1p(Glibc.exp(-2)), Glibc.log1p(Glibc.exp(0.5))]))
        #expect(close(try c.f("LeakyReLU", x).toDoubles(), [-0.5, 0.5]))
        #expect(close(try c.f("LeakyReLU", x, p: ["act_type": .string("elu"), "slope": .double(1)]).toDoubles(), [Glibc.expm1(-2), 0.5]))
        #expect(close(try c.f("LeakyReLU", x, p: ["act_type": .string("gelu")]).toDoubles(), [-2 * 0.5 * (1 + Glibc.erf(-2 / 2.0.squareRoot())), 0.5 * 0.5 * (1 + Glibc.erf(0.5 / 2.0.squareRoot()))]))
        #expect(try c.f("clip", x, p: ["a_min": .int(-1), "a_max": .double(0.25)]).toDoubles() == [-1, 0.25])
        let a = try c.a([7, -7, 2], nil, .float64), b = try c.a([3, 3, -3], nil, .float64)
        #expect(try c.f("broadcast_mod", a, b).toDoubles() == [1, 2, -1], "Python sign convention")
        #expect(try c.f("broadcast_power", b, a).toDoubles() == [2187, Glibc.pow(3, -7), 9])
        #expect(try c.f("broadcast_maximum", a, b).toDoubles() == [7, 3, 2])
        #expect(try c.f("broadcast_minimum", a, b).toDoubles() == [3, -7, -3])
        #expect(try c.f("_rpower_scalar", b, p: ["scalar": .int(2)]).toDoubles() == [8, 8, 0.125])
        #expect(try c.f("_rmod_scalar", b, p: ["scalar": .int(7)]).toDoubles() == [1, 1, -2])
        #expect(try c.f("_maximum_scalar", a, p: ["scalar": .int(0)]).toDoubles() == [7, 0, 2])
        #expect(try c.f("add_n", a, b, a).toDoubles() == [17, -11, 1])
        #expect(try c.f("elemwise_div", a, b).toDoubles() == [7.0 / 3, -7.0 / 3, -2.0 / 3])
    }
}
