import Testing
@testable import Autograd

@Suite struct BLASTests {
    /// Naive C = op(A)·op(B) with A, B stored row-major.
    func naive(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, ta: Bool, tb: Bool) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]) }
                c[i * n + j] = s
            }
        }
        return c
    }

    @Test("dot and batch_dot equal naive loops for every transpose combination, float32 and float64",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func gemm(_ t: (Bool, Bool)) throws {
        let (ta, tb) = t
        var rng = TestRNG(3)
        let m = 5, n = 7, k = 6
        let av = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }, bv = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
        let expected = naive(av, bv, m: m, n: n, k: k, ta: ta, tb: tb)
        for dt in [DType.float32, .float64] {
            let c = Context()
            let a = try c.a(av, ta ? [k, m] : [m, k], dt), b = try c.a(bv, tb ? [n, k] : [k, n], dt)
            let y = try c.f("dot", a, b, p: ["transpose_a": .bool(ta), "transpose_b": .bool(tb)])
            #expect(y.shape == [m, n])
            #expect(close(y.toDoubles(), expected, tol: dt == .float32 ? 1e-5 : 1e-12))
            let a3 = try c.a(av + av.map { -$0 }, ta ? [2, k, m] : [2, m, k], dt), b3 = try c.a(bv + bv, tb ? [2, n, k] : [2, k, n], dt)
            let z = try c.f("batch_dot", a3, b3, p: ["transpose_a": .bool(ta), "transpose_b": .bool(tb)])
            #expect(close(z.toDoubles(), expected + expected.map { -$0 }, tol: dt == .float32 ? 1e-5 : 1e-12))
        }
    }

    @Test("FullyConnected forward and gradients equal naive loops")
    func fullyConnected() throws {
        var rng = TestRNG(5)
        let c = Context()
        let xv = (0..<12).map { _ in rng.uniform(-1, 1) }, wv = (0..<8).map { _ in rng.uniform(-1, 1) }
        let x = try c.a(xv, [3, 4], .float64), w = try c.a(wv, [2, 4], .float64), b = try c.a([0.5, -1], nil, .float64)
        for v in [x, w, b] { c.attachGrad(v) }
        let y = try c.record { try c.f("FullyConnected", x, w, b, p: ["num_hidden": .int(2)]) }
        let expected = naive(xv, wv, m: 3, n: 2, k: 4, ta: false, tb: true).enumerated().map { $0.element + [0.5, -1][$0.offset % 2] }
        #expect(close(y.toDoubles(), expected, tol: 1e-12))
        let g = [1.0, 2, 3, 4, 5, 6]
        try c.backward([y], headGrads: [try c.a(g, [3, 2], .float64)])
        #expect(close(x.grad!.toDoubles(), naive(g, wv, m: 3, n: 4, k: 2, ta: false, tb: false), tol: 1e-12))
        #expect(close(w.grad!.toDoubles(), naive(g, xv, m: 2, n: 4, k: 3, ta: true, tb: false), tol: 1e-12))
        #expect(close(b.grad!.toDoubles(), [9, 12], tol: 1e-12))
    }

    @Test("dot rejects integer dtypes and misaligned shapes")
    func errors() throws {
        let c = Context()
        expectError(.dtypeMismatch) { _ = try c.f("dot", c.a([1, 2], nil, .int32), c.a([1, 2], nil, .int32)) }
        expectError(.shapeMismatch) { _ = try c.f("dot", c.a([1, 2, 3]), c.a([1, 2])) }
        #expect(!BLAS.coreName.isEmpty)
    }
}

@Suite struct ReduceKernelTests {
    @Test("sum/prod/max/min over every axis subset of a (2,3,4) array equal naive loops, float32 and int32")
    func everySubset() throws {
        var rng = TestRNG(8)
        let shape = [2, 3, 4]
        let v = (0..<24).map { _ in Double(Int(rng.uniform(-9, 9))) }
        for dt in [DType.float32, .int32] {
            let c = Context()
            let x = try c.a(v, shape, dt)
            for mask in 1..<8 {
                let axes = (0..<3).filter { mask & (1 << $0) != 0 }
                let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
                var groups = [[Double]](repeating: [], count: kept.reduce(1, *))
                for i in 0..<24 {
                    let idx = [i / 12, (i / 4) % 3, i % 4]
                    let g = ((axes.contains(0) ? 0 : idx[0]) * kept[1] + (axes.contains(1) ? 0 : idx[1])) * kept[2] + (axes.contains(2) ? 0 : idx[2])
                    groups[g].append(v[i])
                }
                let p: [String: OpParam] = ["axis": .list(axes.map { .int($0) }), "keepdims": .bool(true)]
                #expect(try c.f("sum", x, p: p).toDoubles() == groups.map { $0.reduce(0, +) }, "sum \(axes) \(dt)")
                #expect(try c.f("max", x, p: p).toDoubles() == groups.map { $0.max()! }, "max \(axes) \(dt)")
                #expect(try c.f("min", x, p: p).toDoubles() == groups.map { $0.min()! }, "min \(axes) \(dt)")
                if dt == .float32 {
                    #expect(close(try c.f("prod", x, p: p).toDoubles(), groups.map { $0.reduce(1, *) }, tol: 1e-6), "prod \(axes)")
                }
            }
        }
    }
}
