import CKernels
import Glibc
import Testing
@testable import Autograd

/// Distance in units in the last place between two floats (0 for equal values, both NaN, or ±0).
private func ulps(_ a: Float, _ b: Float) -> Int {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN ? 0 : Int.max }
    if a == b { return 0 }
    func ordered(_ x: Float) -> Int { let i = Int(Int32(bitPattern: x.bitPattern)); return i < 0 ? Int(Int32.min) - i : i }
    return abs(ordered(a) - ordered(b))
}

/// Every `step`-th float bit pattern of both signs (all exponents, subnormals, ±inf, NaNs), plus edge cases.
private func sweep(step: UInt32, extra: [Float]) -> [Float] {
    var xs: [Float] = extra
    for bits in stride(from: UInt32(0), through: 0x7fc0_0000, by: Int(step)) {
        xs.append(Float(bitPattern: bits))
        xs.append(Float(bitPattern: bits | 0x8000_0000))
    }
    return xs
}

private func kernel(_ op: Int, _ xs: [Float]) -> [Float] {
    var ys = [Float](repeating: 0, count: xs.count)
    td_unary_f32(Int32(op), xs, &ys, xs.count)
    return ys
}

/// Runs `body` once with each kernel variant this CPU supports (AVX-512, AVX2+FMA, baseline).
private func eachVariant(_ body: (Int) -> Void) {
    let best = Int(td_kernel_level())
    defer { td_override_kernel_level(-1) }
    for level in stride(from: best, through: 0, by: -1) {
        td_override_kernel_level(Int32(level))
        body(level)
    }
}

@Suite struct VectorKernelTests {
    let edges: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                          .leastNonzeroMagnitude, .leastNormalMagnitude, 88.72283, 88.72284, 88.7228394, -87.33654, -87.33655,
                          -103.972076, -103.97208, -103.97209, -104, 1e-8, -1e-8, 0x1p-12, 0x1.fffffep-13, 9.01, 20, 0.5, 0.3466]

    @Test("float32 exp is within 1 ulp of libm over a dense sweep of every exponent (every ISA variant), and exact on specials")
    func exp() {
        let xs = sweep(step: 4099, extra: edges)
        eachVariant { level in
            for (x, y) in zip(xs, kernel(TD_UNARY_EXP, xs)) where ulps(y, expf(x)) > 1 {
                Issue.record("variant \(level): exp(\(x)) = \(y), libm \(expf(x))")
                break
            }
        }
        #expect(kernel(TD_UNARY_EXP, [.infinity, -.infinity, 89, -105, 0, -0.0]) == [.infinity, 0, .infinity, 0, 1, 1])
        #expect(kernel(TD_UNARY_EXP, [.nan])[0].isNaN)
        // Subnormal results are rounded, not flushed.
        #expect(kernel(TD_UNARY_EXP, [-100])[0] == expf(-100) && expf(-100).isSubnormal)
    }

    @Test("float32 log is within 1 ulp of libm for every sampled float (subnormals included); specials as IEEE")
    func log() {
        let xs = sweep(step: 4099, extra: edges)
        eachVariant { level in
            for (x, y) in zip(xs, kernel(TD_UNARY_LOG, xs)) where ulps(y, logf(x)) > 1 {
                Issue.record("variant \(level): log(\(x)) = \(y), libm \(logf(x))")
                break
            }
        }
        #expect(kernel(TD_UNARY_LOG, [0, -0.0, .infinity, 1]) == [-.infinity, -.infinity, .infinity, 0])
        #expect(kernel(TD_UNARY_LOG, [-1, -.infinity, .nan, -.leastNonzeroMagnitude]).allSatisfy { $0.isNaN })
    }

    @Test("float32 tanh and sigmoid are within 1 ulp of the double-precision values, relu matches Swift.max, sqrt is exact")
    func tanhSigmoidRelu() {
        let xs = sweep(step: 4099, extra: edges)
        for (x, y) in zip(xs, kernel(TD_UNARY_TANH, xs)) where ulps(y, Float(Glibc.tanh(Double(x)))) > 1 {
            Issue.record("tanh(\(x)) = \(y), expected \(Float(Glibc.tanh(Double(x))))")
            break
        }
        for (x, y) in zip(xs, kernel(TD_UNARY_SIGMOID, xs)) {
            let d = Double(x), want = Float(d >= 0 ? 1 / (1 + Glibc.exp(-d)) : Glibc.exp(d) / (1 + Glibc.exp(d)))
            if ulps(y, want) > 1 { Issue.record("sigmoid(\(x)) = \(y), expected \(want)"); break }
        }
        for (x, y) in zip(xs, kernel(TD_UNARY_RELU, xs)) where !(y == max(x, 0) && y.sign == max(x, 0).sign) && !(y.isNaN && x.isNaN) {
            Issue.record("relu(\(x)) = \(y)")
            break
        }
        #expect(kernel(TD_UNARY_TANH, [.infinity, -.infinity, -0.0, 1e-30]) == [1, -1, -0.0, 1e-30])
        // sqrt is correctly rounded: exactly the engine's double-then-round result.
        for (x, y) in zip(xs, kernel(TD_UNARY_SQRT, xs)) where !(y == Float(Double(x).squareRoot()) || (y.isNaN && (x.isNaN || x < 0))) {
            Issue.record("sqrt(\(x)) = \(y)")
            break
        }
        #expect(kernel(TD_UNARY_SQRT, [-1, -.infinity]).allSatisfy { $0.isNaN })
    }

    @Test("ops on arrays above the parallel threshold equal element-by-element results", arguments: [DType.float32, .float64])
    func largeArrays(_ dt: DType) throws {
        let c = Context()
        let rows = 300, cols = 257   // 77,100 elements: split across threads, rows not cache-line aligned
        var rng = TestRNG(11)
        let av = (0..<(rows * cols)).map { _ in rng.uniform(-3, 3) }, rv = (0..<cols).map { _ in rng.uniform(0.5, 2) }
        let a = try c.a(av, [rows, cols], dt), row = try c.a(rv, [cols], dt), row2 = try c.a(rv, [1, 1, cols], dt)
        func round(_ v: Double) -> Double { dt == .float32 ? Double(Float(v)) : v }
        // Each operation in the array's precision.
        func apply(_ op: Int, _ x: Double, _ y: Double) -> Double {
            if dt == .float32 {
                let a = Float(x), b = Float(y)
                let r: Float = op == 0 ? a + b : op == 1 ? a - b : op == 2 ? a * b : a / b
                return Double(r)
            }
            return op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / y
        }
        let names = ["broadcast_add", "broadcast_sub", "broadcast_mul", "broadcast_div"]
        let ar = av.map(round), rr = rv.map(round)
        for (op, name) in names.enumerated() {
            let f = { (x: Double, y: Double) in apply(op, x, y) }
            #expect(try c.f(name, a, a).toDoubles() == ar.map { f($0, $0) }, "\(name) same shape")
            let byRow = ar.indices.map { f(ar[$0], rr[$0 % cols]) }
            #expect(try c.f(name, a, row).toDoubles() == byRow, "\(name) row broadcast")
            #expect(try c.f(name, a, row2).toDoubles().count == rows * cols && c.f(name, a, row2).shape == [1, rows, cols])
            #expect(try c.f(name, a, row2).toDoubles() == byRow, "\(name) row broadcast with leading 1s")
            #expect(try c.f(name, row, a).toDoubles() == ar.indices.map { f(rr[$0 % cols], ar[$0]) }, "\(name) row on the left")
            let s = try c.a([rr[3]], [1], dt)
            #expect(try c.f(name, a, s).toDoubles() == ar.map { f($0, rr[3]) }, "\(name) scalar right")
            #expect(try c.f(name, s, a).toDoubles() == ar.map { f(rr[3], $0) }, "\(name) scalar left")
        }
        let scalarOps: [(String, (Double) -> Double)] = [
            ("_plus_scalar", { $0 + 1.5 }), ("_minus_scalar", { $0 - 1.5 }), ("_rminus_scalar", { 1.5 - $0 }),
            ("_mul_scalar", { $0 * 1.5 }), ("_div_scalar", { $0 / 1.5 }), ("_rdiv_scalar", { 1.5 / $0 })]
        for (name, f) in scalarOps {
            let want = dt == .float32 ? ar.map { Double(Float(f(Double(Float($0))))) } : ar.map(f)
            // Float arithmetic on float inputs with 1.5 (exact) rounds like the double result rounded once.
            #expect(try c.f(name, a, p: ["scalar": .double(1.5)]).toDoubles() == want, "\(name)")
        }
        if dt == .float32 {
            let e = try c.f("exp", a).toDoubles()
            #expect(zip(e, ar).allSatisfy { ulps(Float($0), expf(Float($1))) <= 1 })
        } else {
            #expect(try c.f("exp", a).toDoubles() == ar.map { Glibc.exp($0) })
        }
    }

    @Test("every ISA variant gives the same sums (bit for bit) and the same arithmetic results")
    func variantsAgree() {
        var rng = TestRNG(17)
        let a = (0..<100_003).map { _ in Float(rng.uniform(-5, 5)) }, b = (0..<100_003).map { _ in Float(rng.uniform(0.5, 5)) }
        var sums: [Double] = [], quotients: [[Float]] = [], tanhs: [[Float]] = []
        eachVariant { _ in
            sums.append(td_sum_f32(a, a.count))
            var y = [Float](repeating: 0, count: a.count)
            td_binary_f32(Int32(TD_BIN_DIV), a, b, &y, a.count)
            quotients.append(y)
            tanhs.append(kernel(TD_UNARY_TANH, a))
        }
        #expect(Set(sums).count == 1)
        #expect(quotients.allSatisfy { $0 == zip(a, b).map { $0 / $1 } })
        for t in tanhs { #expect(zip(a, t).allSatisfy { ulps($1, Float(Glibc.tanh(Double($0)))) <= 1 }) }
    }

    @Test("full sums are accumulated in double, deterministic, and exact where a float loop drifts")
    func sums() throws {
        let c = Context()
        let n = 1 << 20
        let tenth = try c.a([Double](repeating: 0.1, count: n), [1024, 1024])
        let s = try c.f("sum", tenth).toDoubles()[0]
        // A sequential float32 loop gives about 104,857.6 ± 1000; the blocked double sum is exact to float.
        #expect(s == Double(Float(Double(Float(0.1)) * Double(n))))
        #expect(try c.f("mean", tenth).toDoubles()[0] == Double(Float(Double(Float(s)) / Double(n))))
        var rng = TestRNG(5)
        let v = (0..<(n + 13)).map { _ in rng.uniform(-1, 1) }
        for dt in [DType.float32, .float64] {
            let x = try c.a(v, nil, dt)
            let exact = v.map { dt == .float32 ? Double(Float($0)) : $0 }.reduce(0, +)
            let got = try c.f("sum", x).toDoubles()[0]
            #expect(abs(got - exact) <= (dt == .float32 ? 1e-7 * max(1, abs(exact)) : 1e-10))
            // Same inputs, same bits, however the blocks were scheduled.
            for _ in 0..<5 { #expect(try c.f("sum", x).toDoubles()[0] == got) }
        }
        #expect(try c.f("sum", c.a([], [0])).toDoubles() == [0])
        #expect(try c.f("exp", c.a([], [0])).shape == [0])
    }
}
