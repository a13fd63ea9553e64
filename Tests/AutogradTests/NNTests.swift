import Testing
@testable import Autograd

@Suite struct DropoutTests {
    @Test("training dropout keeps with 1/(1-p) scaling; x.grad equals y for ones")
    func training() throws {
        let c = Context(seed: 3)
        let x = try c.f("ones", p: ["shape": .list([.int(1000)])])
        c.attachGrad(x)
        let y = try c.record { try c.f("Dropout", x, p: ["p": .double(0.5)]) }
        let v = y.toDoubles()
        #expect(Set(v).isSubset(of: [0, 2]))
        let kept = v.filter { $0 == 2 }.count
        #expect(kept > 400 && kept < 600)
        try c.backward([y])
        #expect(x.grad?.toDoubles() == v)
        let q = try c.trainMode { try c.f("Dropout", x, p: ["p": .double(0.25)]) }
        #expect(Set(q.toDoubles()).isSubset(of: [0, Double(Float(1.0 / 0.75))]))
    }

    @Test("predict mode is the identity everywhere MXNet says so; p=0 is the identity; p=1 gives zeros")
    func identity() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4])
        c.attachGrad(x)
        #expect(try c.f("Dropout", x).toDoubles() == [1, 2, 3, 4])
        let (paused, predicted) = try c.record { (try c.pause { try c.f("Dropout", x) }, try c.predictMode { try c.f("Dropout", x) }) }
        #expect(paused.toDoubles() == [1, 2, 3, 4] && predicted.toDoubles() == [1, 2, 3, 4])
        let r = try c.record(trainMode: false) { try c.f("Dropout", x) }
        #expect(r.toDoubles() == [1, 2, 3, 4])
        try c.backward([r])
        #expect(x.grad?.toDoubles() == [1, 1, 1, 1])
        #expect(try c.trainMode { try c.f("Dropout", x, p: ["p": .double(0)]) }.toDoubles() == [1, 2, 3, 4])
        #expect(try c.trainMode { try c.f("Dropout", x, p: ["p": .double(1)]) }.toDoubles() == [0, 0, 0, 0])
        #expect(Set(try c.f("Dropout", x, p: ["mode": .string("always")]).toDoubles()).isSubset(of: [0, 2, 4, 6, 8]))
        expectError(.invalidParameter) { _ = try c.f("Dropout", x, p: ["p": .double(1.5)]) }
    }

    @Test("a train forward keeps its mask when backward runs with train_mode=false")
    func maskKept() throws {
        let c = Context(seed: 11)
        let x = try c.f("ones", p: ["shape": .list([.int(64)])])
        c.attachGrad(x)
        let y = try c.record { try c.f("Dropout", x) }
        try c.backward([y], trainMode: false)
        #expect(x.grad?.toDoubles() == y.toDoubles())
    }

    @Test("axes share the mask along the listed axes; the same seed gives the same mask")
    func axesAndSeed() throws {
        let c = Context(seed: 5)
        let x = try c.f("ones", p: ["shape": .list([.int(4), .int(16)])])
        let y = try c.trainMode { try c.f("Dropout", x, p: ["axes": .list([.int(0)])]) }.toDoubles()
        for r in 1..<4 { #expect(Array(y[r * 16..<(r + 1) * 16]) == Array(y[0..<16])) }
        c.seed(42)
        let m1 = try c.trainMode { try c.f("Dropout", x) }.toDoubles()
        c.seed(42)
        let m2 = try c.trainMode { try c.f("Dropout", x) }.toDoubles()
        #expect(m1 == m2)
    }
}

@Suite struct BatchNormTests {
    func setup(_ c: Context) throws -> (NDArray, NDArray, NDArray, NDArray, NDArray) {
        let data = try c.a((0..<12).map(Double.init), [3, 2, 2])
        return (data, try c.a([2, 3]), try c.a([0, 0]), try c.a([0, 0]), try c.a([1, 1]))
    }

    @Test("training uses biased batch statistics; output_mean_var returns mean and inverse std")
    func batchStats() throws {
        let c = Context()
        let (x, g, b, mm, mv) = try setup(c)
        let outs = try c.trainMode { try c.invoke("BatchNorm", [x, g, b, mm, mv], ["output_mean_var": .bool(true)]) }
        #expect(outs.count == 3)
        #expect(close(outs[1].toDoubles(), [4.5, 6.5]))
        let inv = 1 / (10.916666666666666 + 1e-3).squareRoot()
        #expect(close(outs[2].toDoubles(), [inv, inv]))
        #expect(close([inv], [0.30265], tol: 1e-4))
        #expect(g.toDoubles() == [1, 1], "fix_gamma overwrites gamma with ones")
        #expect(close([outs[0].toDoubles()[0]], [(0 - 4.5) * inv]))
        #expect(mm.toDoubles() == [0, 0] && mv.toDoubles() == [1, 1], "forward alone leaves the moving stats")
    }

    @Test("moving stats update in place only when backward runs in train mode")
    func movingUpdate() throws {
        let c = Context()
        let (x, g, b, mm, mv) = try setup(c)
        c.attachGrad(x)
        c.attachGrad(g)
        c.attachGrad(b)
        var y = try c.record { try c.f("BatchNorm", x, g, b, mm, mv) }
        #expect(mm.toDoubles() == [0, 0])
        try c.backward([y])
        #expect(close(mm.toDoubles(), [0.45, 0.65]))
        #expect(close(mv.toDoubles(), [1.9916667, 1.9916667]))
        #expect(g.grad?.toDoubles() == [0, 0], "fix_gamma: gamma gradient 0")
        #expect(b.grad?.toDoubles() == [6, 6])
        #expect(close(x.grad!.toDoubles(), Array(repeating: 0, count: 12), tol: 1e-5), "ones head: zero data gradient")
        let before = mm.toDoubles()
        y = try c.record { try c.f("BatchNorm", x, g, b, mm, mv) }
        try c.backward([y], trainMode: false)
        #expect(mm.toDoubles() == before)
        y = try c.record { try c.f("BatchNorm", x, g, b, mm, mv, p: ["use_global_stats": .bool(true)]) }
        try c.backward([y])
        #expect(mm.toDoubles() == before)
    }

    @Test("prediction uses the moving statistics")
    func predict() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 4], [2, 2])
        let out = try c.f("BatchNorm", x, try c.a([2, 2]), try c.a([1, -1]), try c.a([1, 2]), try c.a([4, 1]),
                          p: ["fix_gamma": .bool(false), "eps": .double(0)])
        #expect(close(out.toDoubles(), [1, -1, 3, 3]))
    }
}

@Suite struct SoftmaxTests {
    @Test("softmax with temperature; log_softmax; pick of log_softmax gives the NLL")
    func softmax() throws {
        let c = Context()
        let x = try c.a([1, 2, 3], [1, 3], .float64)
        let s = try c.f("softmax", x, p: ["temperature": .double(2)]).toDoubles()
        let e = [0.5, 1, 1.5].map { Glibc.exp($0) }
        #expect(close(s, e.map { $0 / e.reduce(0, +) }, tol: 1e-12))
        let ls = try c.f("log_softmax", x).toDoubles()
        let nll = try c.f("pick", try c.f("log_softmax", x), try c.a([2], nil, .float64))
        #expect(close(nll.toDoubles(), [ls[2]], tol: 1e-12))
    }

    @Test("softmax_cross_entropy sums row losses into shape (1,) with gradient softmax - onehot")
    func crossEntropy() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 1, 1, 1], [2, 3], .float64)
        c.attachGrad(x)
        let l = try c.record { try c.f("softmax_cross_entropy", x, try c.a([2, 0], nil, .float64)) }
        #expect(l.shape == [1])
        let sm = try c.f("softmax", x).toDoubles()
        #expect(close(l.toDoubles(), [-Glibc.log(sm[2]) - Glibc.log(sm[3])], tol: 1e-12))
        try c.backward([l])
        var expected = sm
        expected[2] -= 1
        expected[3] -= 1
        #expect(close(x.grad!.toDoubles(), expected, tol: 1e-12))
    }

    @Test("SoftmaxOutput ignores the head gradient: (p - onehot) · grad_scale, batch normalisation divides by N")
    func softmaxOutput() throws {
        let c = Context()
        let x = try c.a([1, 2, 3, 1, 1, 1], [2, 3], .float64)
        c.attachGrad(x)
        let label = try c.a([2, 0], nil, .float64)
        let sm = try c.f("softmax", x).toDoubles()
        var expected = sm
        expected[2] -= 1
        expected[3] -= 1
        var y = try c.record { try c.f("SoftmaxOutput", x, label) }
        #expect(close(y.toDoubles(), sm, tol: 1e-12))
        try c.backward([y], headGrads: [try c.a(Array(repeating: 100, count: 6), [2, 3], .float64)])
        #expect(close(x.grad!.toDoubles(), expected, tol: 1e-12))
        y = try c.record { try c.f("SoftmaxOutput", x, label, p: ["grad_scale": .double(3), "normalization": .string("batch")]) }
        try c.backward([y])
        #expect(close(x.grad!.toDoubles(), expected.map { $0 * 1.5 }, tol: 1e-12))
        y = try c.record { try c.f("SoftmaxOutput", x, label, p: ["use_ignore": .bool(true), "ignore_label": .double(0)]) }
        try c.backward([y])
        #expect(close(x.grad!.toDoubles(), Array(expected[0..<3]) + [0, 0, 0], tol: 1e-12))
    }
}

import Glibc

@Suite struct Tier2Tests {
    @Test("regression outputs ignore the head gradient: linear (y-l)·s, logistic sigmoid then (y-l), MAE sign(y-l)")
    func regressionOutputs() throws {
        let c = Context()
        let x = try c.a([0.5, 2], nil, .float64), label = try c.a([1, 1], nil, .float64)
        c.attachGrad(x)
        var y = try c.record { try c.f("LinearRegressionOutput", x, label) }
        try c.backward([y], headGrads: [try c.a([100, 100], nil, .float64)])
        #expect(x.grad?.toDoubles() == [-0.5, 1])
        y = try c.record { try c.f("LogisticRegressionOutput", x, label, p: ["grad_scale": .int(2)]) }
        let s = [0.5, 2].map { 1 / (1 + Glibc.exp(-$0)) }
        #expect(close(y.toDoubles(), s, tol: 1e-12))
        try c.backward([y])
        #expect(close(x.grad!.toDoubles(), s.map { 2 * ($0 - 1) }, tol: 1e-12))
        y = try c.record { try c.f("MAERegressionOutput", x, label) }
        try c.backward([y])
        #expect(x.grad?.toDoubles() == [-1, 1])
    }

    @Test("smooth_l1, LayerNorm, Embedding, sort, argsort, cumsum forward values")
    func values() throws {
        let c = Context()
        #expect(try c.f("smooth_l1", c.a([0.5, -2], nil, .float64)).toDoubles() == [0.125, 1.5])
        let ln = try c.f("LayerNorm", c.a([1, 2, 3, 4], [2, 2], .float64), c.a([1, 2], nil, .float64), c.a([0, 1], nil, .float64), p: ["eps": .int(0)])
        #expect(close(ln.toDoubles(), [-1, 3, -1, 3], tol: 1e-12))
        let emb = try c.f("Embedding", c.a([2, 0]), c.a([1, 2, 3, 4, 5, 6], [3, 2]), p: ["input_dim": .int(3), "output_dim": .int(2)])
        #expect(emb.shape == [2, 2] && emb.toDoubles() == [5, 6, 1, 2])
        let x = try c.a([3, 1, 2, 9, 7, 8], [2, 3])
        #expect(try c.f("sort", x).toDoubles() == [1, 2, 3, 7, 8, 9])
        #expect(try c.f("argsort", x, p: ["is_ascend": .bool(false)]).toDoubles() == [0, 2, 1, 0, 2, 1])
        #expect(try c.f("cumsum", x, p: ["axis": .int(0)]).toDoubles() == [3, 1, 2, 12, 8, 10])
        #expect(try c.f("cumsum", x).toDoubles() == [3, 4, 6, 15, 22, 30])
    }
}

@Suite struct ConvolutionTests {
    @Test("Convolution equals a naive loop (stride, pad, dilate, bias)")
    func convolutionValues() throws {
        var rng = TestRNG(4)
        let c = Context()
        let (n, ch, h, w, f, k) = (2, 2, 5, 6, 3, 3)
        let xv = (0..<(n * ch * h * w)).map { _ in rng.uniform(-1, 1) }, wv = (0..<(f * ch * k * k)).map { _ in rng.uniform(-1, 1) }
        let bv = [0.5, -1, 2.0]
        let (s, p, d) = (2, 1, 1)
        let oh = (h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (w + 2 * p - d * (k - 1) - 1) / s + 1
        var expected = [Double](repeating: 0, count: n * f * oh * ow)
        for b in 0..<n { for o in 0..<f { for y in 0..<oh { for x in 0..<ow {
            var acc = bv[o]
            for ci in 0..<ch { for ky in 0..<k { for kx in 0..<k {
                let iy = y * s - p + ky * d, ix = x * s - p + kx * d
                if iy >= 0 && iy < h && ix >= 0 && ix < w { acc += xv[((b * ch + ci) * h + iy) * w + ix] * wv[((o * ch + ci) * k + ky) * k + kx] }
            } } }
            expected[((b * f + o) * oh + y) * ow + x] = acc
        } } } }
        let out = try c.f("Convolution", c.a(xv, [n, ch, h, w], .float64), c.a(wv, [f, ch, k, k], .float64), c.a(bv, nil, .float64),
                          p: ["kernel": .list([.int(3), .int(3)]), "num_filter": .int(f), "stride": .list([.int(s), .int(s)]), "pad": .list([.int(p), .int(p)])])
        #expect(out.shape == [n, f, oh, ow])
        #expect(close(out.toDoubles(), expected, tol: 1e-12))
        expectError(.shapeMismatch) {
            _ = try c.f("Convolution", c.a(xv, [n, ch, h, w]), c.a(wv, [f, ch * k * k]), c.a(bv), p: ["kernel": .list([.int(3), .int(3)]), "num_filter": .int(f)])
        }
    }

    @Test("Pooling: max, avg (pad counted), sum, global")
    func poolingValues() throws {
        let c = Context()
        let x = try c.a((1...16).map(Double.init), [1, 1, 4, 4])
        let k2: OpParam = .list([.int(2), .int(2)])
        #expect(try c.f("Pooling", x, p: ["kernel": k2, "stride": k2]).toDoubles() == [6, 8, 14, 16])
        #expect(try c.f("Pooling", x, p: ["kernel": k2, "stride": k2, "pool_type": .string("avg")]).toDoubles() == [3.5, 5.5, 11.5, 13.5])
        #expect(try c.f("Pooling", x, p: ["kernel": k2, "stride": k2, "pool_type": .string("sum")]).toDoubles() == [14, 22, 46, 54])
        #expect(try c.f("Pooling", x, p: ["global_pool": .bool(true), "pool_type": .string("avg")]).toDoubles() == [8.5])
        #expect(try c.f("Pooling", x, p: ["kernel": k2, "stride": k2, "pad": .list([.int(1), .int(1)]), "pool_type": .string("avg")]).toDoubles().first == 0.25)
        #expect(try c.f("Pooling", x, p: ["kernel": .list([.int(3), .int(3)]), "stride": k2, "pooling_convention": .string("full")]).shape == [1, 1, 2, 2])
    }
}
