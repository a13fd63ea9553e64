import Testing
@testable import Autograd

/// Direct-loop reference implementations of the tier-2 window ops (NCHW; 1-D as H = 1).
private enum Naive {
    struct Win { var k: (Int, Int); var s = (1, 1); var p = (0, 0); var d = (1, 1) }

    static func convOut(_ h: Int, _ w: Int, _ win: Win) -> (Int, Int) {
        ((h + 2 * win.p.0 - win.d.0 * (win.k.0 - 1) - 1) / win.s.0 + 1, (w + 2 * win.p.1 - win.d.1 * (win.k.1 - 1) - 1) / win.s.1 + 1)
    }

    /// out[n,f,oy,ox] = b[f] + Σ_{cg,ki,kj} x[n, g·Cg+cg, oy·s−p+ki·d, ox·s−p+kj·d] · w[f,cg,ki,kj]
    static func conv(_ x: [Double], _ xs: [Int], _ w: [Double], filters: Int, groups: Int, _ win: Win, bias: [Double]?) -> [Double] {
        let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]), cg = c / groups, fg = filters / groups
        let (oh, ow) = convOut(h, wd, win)
        var out = [Double](repeating: 0, count: n * filters * oh * ow)
        for b in 0..<n { for f in 0..<filters { for oy in 0..<oh { for ox in 0..<ow {
            var s = bias?[f] ?? 0
            for q in 0..<cg { for ki in 0..<win.k.0 { for kj in 0..<win.k.1 {
                let iy = oy * win.s.0 - win.p.0 + ki * win.d.0, ix = ox * win.s.1 - win.p.1 + kj * win.d.1
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                let ch = (f / fg) * cg + q
                s += x[((b * c + ch) * h + iy) * wd + ix] * w[((f * cg + q) * win.k.0 + ki) * win.k.1 + kj]
            } } }
            out[((b * filters + f) * oh + oy) * ow + ox] = s
        } } } }
        return out
    }

    /// Scatter form of the transposed convolution: out[n, c, oy·s−p+ki·d, ...] += y[n,f,oy,ox] · w[f, c − g·Cout_g, ki, kj].
    static func deconv(_ y: [Double], _ ys: [Int], _ w: [Double], filters: Int, groups: Int, _ win: Win, outHW: (Int, Int)) -> [Double] {
        let (n, cin, oh, ow) = (ys[0], ys[1], ys[2], ys[3]), cing = cin / groups, fg = filters / groups
        var out = [Double](repeating: 0, count: n * filters * outHW.0 * outHW.1)
        for b in 0..<n { for f in 0..<cin { for oy in 0..<oh { for ox in 0..<ow {
            for q in 0..<fg { for ki in 0..<win.k.0 { for kj in 0..<win.k.1 {
                let iy = oy * win.s.0 - win.p.0 + ki * win.d.0, ix = ox * win.s.1 - win.p.1 + kj * win.d.1
                guard iy >= 0, iy < outHW.0, ix >= 0, ix < outHW.1 else { continue }
                let ch = (f / cing) * fg + q
                out[((b * filters + ch) * outHW.0 + iy) * outHW.1 + ix] += y[((b * cin + f) * oh + oy) * ow + ox] * w[((f * fg + q) * win.k.0 + ki) * win.k.1 + kj]
            } } }
        } } } }
        return out
    }

    /// MXNet pooling over (N·C) planes of h×w.
    static func pool(_ x: [Double], planes: Int, h: Int, w: Int, _ win: Win, type: String, full: Bool, includePad: Bool) -> [Double] {
        func outDim(_ i: Int, _ k: Int, _ s: Int, _ p: Int) -> Int {
            let span = i + 2 * p - k
            return 1 + (full ? Int((Double(span) / Double(s)).rounded(.up)) : span / s)
        }
        let oh = outDim(h, win.k.0, win.s.0, win.p.0), ow = outDim(w, win.k.1, win.s.1, win.p.1)
        var out: [Double] = []
        for pl in 0..<planes { for oy in 0..<oh { for ox in 0..<ow {
            let y0 = oy * win.s.0 - win.p.0, x0 = ox * win.s.1 - win.p.1
            var cells: [Double] = []
            var padded = 0
            for yy in y0..<(y0 + win.k.0) { for xx in x0..<(x0 + win.k.1) {
                if yy < h + win.p.0 && xx < w + win.p.1 { padded += 1 }
                if yy >= 0 && yy < h && xx >= 0 && xx < w { cells.append(x[(pl * h + yy) * w + xx]) }
            } }
            switch type {
            case "max": out.append(cells.max()!)
            case "sum": out.append(cells.reduce(0, +))
            // A window lying entirely in the padding averages to 0 (MXNet divides 0 by 0 there).
            default: out.append(cells.isEmpty ? 0 : cells.reduce(0, +) / Double(includePad ? padded : cells.count))
            }
        } } }
        return out
    }
}

private func randoms(_ count: Int, _ rng: inout TestRNG) -> [Double] { (0..<count).map { _ in rng.uniform(-1, 1) } }

private func near(_ a: [Double], _ b: [Double], _ tol: Double) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }
}

private func ints(_ v: [Int]) -> OpParam { .list(v.map { .int($0) }) }

@Suite struct Tier2ConvTests {
    struct ConvCase: CustomStringConvertible, Sendable {
        var x: [Int], filters: Int, groups: Int, k: [Int], s: [Int] = [], p: [Int] = [], d: [Int] = [], bias = true
        var description: String { "x\(x) F\(filters) G\(groups) k\(k) s\(s) p\(p) d\(d) bias \(bias)" }
        func full(_ v: [Int], _ def: Int) -> [Int] { v.isEmpty ? Array(repeating: def, count: k.count) : v }
        fileprivate var win: Naive.Win {
            func pair(_ v: [Int], _ unit: Int) -> (Int, Int) { k.count == 1 ? (unit, v[0]) : (v[0], v[1]) }
            var w = Naive.Win(k: pair(k, 1))
            w.s = pair(full(s, 1), 1); w.p = pair(full(p, 0), 0); w.d = pair(full(d, 1), 1)
            return w
        }
        var params: [String: OpParam] {
            var m: [String: OpParam] = ["kernel": ints(k), "num_filter": .int(filters), "num_group": .int(groups), "no_bias": .bool(!bias)]
            if !s.isEmpty { m["stride"] = ints(s) }
            if !p.isEmpty { m["pad"] = ints(p) }
            if !d.isEmpty { m["dilate"] = ints(d) }
            return m
        }
    }

    static let convCases: [ConvCase] = [
        ConvCase(x: [2, 3, 6, 6], filters: 4, groups: 1, k: [3, 3]),
        ConvCase(x: [2, 4, 7, 5], filters: 6, groups: 2, k: [3, 2], s: [2, 1], p: [1, 2], d: [1, 2]),
        ConvCase(x: [1, 6, 8, 8], filters: 6, groups: 3, k: [3, 3], s: [2, 2], p: [2, 1], d: [2, 1], bias: false),
        ConvCase(x: [3, 1, 5, 5], filters: 2, groups: 1, k: [1, 1], s: [3, 3]),
        ConvCase(x: [2, 3, 9], filters: 4, groups: 1, k: [3], s: [2], p: [1], d: [2]),
        ConvCase(x: [2, 4, 6], filters: 2, groups: 2, k: [2], bias: false),
    ]

    @Test("Convolution forward equals a direct 7-loop convolution (float64 and float32)", arguments: convCases)
    func convolutionMatchesDirectLoops(_ cc: ConvCase) throws {
        let ctx = Context()
        var rng = TestRNG(11)
        let xs = cc.x.count == 3 ? [cc.x[0], cc.x[1], 1, cc.x[2]] : cc.x
        let wShape = [cc.filters, cc.x[1] / cc.groups] + cc.k
        let xv = randoms(cc.x.reduce(1, *), &rng), wv = randoms(wShape.reduce(1, *), &rng), bv = randoms(cc.filters, &rng)
        let want = Naive.conv(xv, xs, wv, filters: cc.filters, groups: cc.groups, cc.win, bias: cc.bias ? bv : nil)
        for (dtype, tol) in [(DType.float64, 1e-12), (.float32, 1e-5)] {
            var inputs = [try ctx.array(xv, shape: cc.x, dtype: dtype), try ctx.array(wv, shape: wShape, dtype: dtype)]
            if cc.bias { inputs.append(try ctx.array(bv, shape: [cc.filters], dtype: dtype)) }
            let y = try ctx.invoke("Convolution", inputs, cc.params)[0]
            let (oh, ow) = Naive.convOut(xs[2], xs[3], cc.win)
            #expect(y.shape == [cc.x[0], cc.filters] + (cc.x.count == 3 ? [ow] : [oh, ow]))
            #expect(near(y.toDoubles(), want, tol), "\(cc) \(dtype)")
        }
    }

    @Test("Deconvolution forward equals the direct scatter loop and is the transpose of Convolution", arguments: convCases)
    func deconvolutionIsTheTranspose(_ cc: ConvCase) throws {
        let ctx = Context()
        var rng = TestRNG(5)
        let xs = cc.x.count == 3 ? [cc.x[0], cc.x[1], 1, cc.x[2]] : cc.x
        let (oh, ow) = Naive.convOut(xs[2], xs[3], cc.win)
        let ySpatial = cc.x.count == 3 ? [ow] : [oh, ow]
        let yShape = [cc.x[0], cc.filters] + ySpatial
        let wShape = [cc.filters, cc.x[1] / cc.groups] + cc.k
        let xv = randoms(cc.x.reduce(1, *), &rng), yv = randoms(yShape.reduce(1, *), &rng), wv = randoms(wShape.reduce(1, *), &rng)
        let x = try ctx.array(xv, shape: cc.x, dtype: .float64), y = try ctx.array(yv, shape: yShape, dtype: .float64)
        let w = try ctx.array(wv, shape: wShape, dtype: .float64)
        // The deconvolution that maps y back onto x's exact shape (adj absorbs the stride remainder).
        var p = cc.params
        p["num_filter"] = .int(cc.x[1])
        p["no_bias"] = .bool(true)
        let st = cc.full(cc.s, 1), dl = cc.full(cc.d, 1), pd = cc.full(cc.p, 0)
        let adj = cc.k.indices.map { i in cc.x[2 + i] - (st[i] * (ySpatial[i] - 1) + dl[i] * (cc.k[i] - 1) + 1 - 2 * pd[i]) }
        p["adj"] = ints(adj)
        let dx = try ctx.invoke("Deconvolution", [y, w], p)[0]
        #expect(dx.shape == cc.x)
        let want = Naive.deconv(yv, yShape.count == 3 ? [yShape[0], yShape[1], 1, yShape[2]] : yShape, wv, filters: cc.x[1],
                                groups: cc.groups, cc.win, outHW: (xs[2], xs[3]))
        #expect(near(dx.toDoubles(), want, 1e-12), "\(cc)")
        // <conv(x, W), y> == <x, deconv(y, W)>
        var cp = cc.params
        cp["no_bias"] = .bool(true)
        let cx = try ctx.invoke("Convolution", [x, w], cp)[0]
        let lhs = zip(cx.toDoubles(), yv).reduce(0) { $0 + $1.0 * $1.1 }
        let rhs = zip(xv, dx.toDoubles()).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(lhs - rhs) <= 1e-10 * max(1, abs(lhs)))
    }

    @Test("Deconvolution output size: (in−1)·stride − 2·pad + dilated kernel + adj, and target_shape infers pad/adj")
    func deconvolutionShapes() throws {
        let ctx = Context()
        let y = try ctx.array(Array(repeating: 1, count: 2 * 3 * 4 * 4), shape: [2, 3, 4, 4])
        let w = try ctx.array(Array(repeating: 1, count: 3 * 5 * 3 * 3), shape: [3, 5, 3, 3])
        let a = try ctx.invoke("Deconvolution", [y, w], ["kernel": ints([3, 3]), "num_filter": .int(5), "stride": ints([2, 2]),
                                                          "pad": ints([1, 1]), "adj": ints([1, 0])])[0]
        #expect(a.shape == [2, 5, 8, 7])
        let t = try ctx.invoke("Deconvolution", [y, w], ["kernel": ints([3, 3]), "num_filter": .int(5), "stride": ints([2, 2]),
                                                          "target_shape": ints([8, 8])])[0]
        #expect(t.shape == [2, 5, 8, 8])
        // With all-ones data and weight every output cell counts the (y, w) pairs reaching it; the centre of a
        // stride-2, 3×3 deconvolution without padding gets 3 channels × 1 or 2 or 4 taps.
        let full = try ctx.invoke("Deconvolution", [y, w], ["kernel": ints([3, 3]), "num_filter": .int(5), "stride": ints([2, 2])])[0]
        #expect(full.shape == [2, 5, 9, 9])
        let v = full.toDoubles()
        #expect(v[0] == 3 && v[1] == 3 && v[2] == 6 && v[9 + 1] == 3 && v[2 * 9 + 2] == 12)
    }

    struct PoolCase: CustomStringConvertible, Sendable {
        var x: [Int], type: String, k: [Int], s: [Int] = [], p: [Int] = [], full = false, includePad = true, global = false
        var description: String { "\(type) x\(x) k\(k) s\(s) p\(p) full \(full) incl \(includePad) global \(global)" }
    }

    static let poolCases: [PoolCase] = [
        PoolCase(x: [2, 3, 6, 6], type: "max", k: [2, 2], s: [2, 2]),
        PoolCase(x: [2, 2, 7, 5], type: "max", k: [3, 3], s: [2, 2], p: [1, 1], full: true),
        PoolCase(x: [2, 2, 7, 5], type: "avg", k: [3, 2], s: [2, 2], p: [1, 1]),
        PoolCase(x: [2, 2, 7, 5], type: "avg", k: [3, 2], s: [2, 2], p: [1, 1], full: true, includePad: false),
        PoolCase(x: [1, 2, 6, 6], type: "avg", k: [3, 3], s: [2, 2], p: [1, 1], full: true),
        PoolCase(x: [2, 2, 5, 5], type: "sum", k: [2, 3], s: [1, 2]),
        PoolCase(x: [2, 3, 9], type: "max", k: [3], s: [2], p: [1]),
        PoolCase(x: [2, 3, 9], type: "avg", k: [4], s: [3], full: true),
        PoolCase(x: [2, 3, 4, 5], type: "avg", k: [4, 5], global: true),
        PoolCase(x: [2, 3, 4, 5], type: "max", k: [4, 5], global: true),
    ]

    @Test("Pooling forward equals direct loops with MXNet's window and divisor rules", arguments: poolCases)
    func poolingMatchesDirectLoops(_ pc: PoolCase) throws {
        let ctx = Context()
        var rng = TestRNG(3)
        let xv = randoms(pc.x.reduce(1, *), &rng)
        var p: [String: OpParam] = ["pool_type": .string(pc.type), "pooling_convention": .string(pc.full ? "full" : "valid"),
                                    "count_include_pad": .bool(pc.includePad)]
        if pc.global { p["global_pool"] = .bool(true) } else { p["kernel"] = ints(pc.k) }
        if !pc.s.isEmpty { p["stride"] = ints(pc.s) }
        if !pc.p.isEmpty { p["pad"] = ints(pc.p) }
        let one = pc.x.count == 3
        var win = Naive.Win(k: one ? (1, pc.k[0]) : (pc.k[0], pc.k[1]))
        if !pc.s.isEmpty { win.s = one ? (1, pc.s[0]) : (pc.s[0], pc.s[1]) }
        if !pc.p.isEmpty { win.p = one ? (0, pc.p[0]) : (pc.p[0], pc.p[1]) }
        let h = one ? 1 : pc.x[2], w = pc.x[pc.x.count - 1]
        let want = Naive.pool(xv, planes: pc.x[0] * pc.x[1], h: h, w: w, win, type: pc.type, full: pc.full, includePad: pc.includePad)
        for dtype in [DType.float64, .float32] {
            let y = try ctx.invoke("Pooling", [try ctx.array(xv, shape: pc.x, dtype: dtype)], p)[0]
            #expect(y.size == want.count)
            #expect(near(y.toDoubles(), want, dtype == .float64 ? 1e-12 : 1e-6), "\(pc) \(dtype)")
        }
    }

    @Test("3-D pooling: 2×2×2 max and avg windows and global pooling over a volume")
    func pooling3D() throws {
        let ctx = Context()
        let x = try ctx.array((0..<64).map(Double.init), shape: [1, 1, 4, 4, 4], dtype: .float64)
        let k = ints([2, 2, 2])
        let mx = try ctx.invoke("Pooling", [x], ["kernel": k, "stride": k])[0]
        // window (z, y, x) starting at (2a, 2b, 2c) has its maximum at (2a+1, 2b+1, 2c+1)
        #expect(mx.shape == [1, 1, 2, 2, 2] && mx.toDoubles() == [21, 23, 29, 31, 53, 55, 61, 63])
        let avg = try ctx.invoke("Pooling", [x], ["kernel": k, "stride": k, "pool_type": .string("avg")])[0]
        #expect(avg.toDoubles() == mx.toDoubles().map { $0 - 10.5 })
        #expect(try ctx.invoke("Pooling", [x], ["global_pool": .bool(true), "pool_type": .string("avg")])[0].toDoubles() == [31.5])
    }

    @Test("max pooling sends the gradient to the first maximum of a window only")
    func maxPoolingTies() throws {
        let ctx = Context()
        let x = try ctx.array([1, 3, 3, 0, 2, 2, 2, 2], shape: [1, 1, 2, 4])
        ctx.attachGrad(x)
        let y = try ctx.record { try ctx.invoke("Pooling", [x], ["kernel": ints([2, 2]), "stride": ints([2, 2])])[0] }
        #expect(y.toDoubles() == [3, 3])
        try ctx.backward([y])
        #expect(x.grad?.toDoubles() == [0, 1, 1, 0, 0, 0, 0, 0])
    }

    @Test("convolution and pooling reject bad shapes and parameters with typed errors")
    func errors() throws {
        let ctx = Context()
        let x = try ctx.array(Array(repeating: 0, count: 2 * 4 * 5 * 5), shape: [2, 4, 5, 5])
        let w = try ctx.array(Array(repeating: 0, count: 6 * 4 * 3 * 3), shape: [6, 4, 3, 3])
        let b = try ctx.array(Array(repeating: 0, count: 6), shape: [6])
        func kind(_ body: () throws -> Void) -> AutogradError.Kind? {
            do { try body(); return nil } catch let e as AutogradError { return e.kind } catch { return nil }
        }
        let conv = { (p: [String: OpParam], inputs: [NDArray]) in _ = try ctx.invoke("Convolution", inputs, p) }
        #expect(kind { try conv(["kernel": ints([3, 3]), "num_filter": .int(6)], [x, w, b]) } == nil)
        #expect(kind { try conv(["kernel": ints([3, 3]), "num_filter": .int(5)], [x, w, b]) } == .shapeMismatch)
        #expect(kind { try conv(["kernel": ints([3, 3]), "num_filter": .int(6), "num_group": .int(3)], [x, w, b]) } == .invalidParameter)
        #expect(kind { try conv(["kernel": ints([3]), "num_filter": .int(6)], [x, w, b]) } == .invalidParameter)
        #expect(kind { try conv(["kernel": ints([3, 3]), "num_filter": .int(6)], [x, w]) } == .invalidArgument)
        #expect(kind { try conv(["kernel": ints([7, 7]), "num_filter": .int(6)], [x, w, b]) } == .shapeMismatch)
        #expect(kind { try conv(["kernel": ints([3, 3]), "num_filter": .int(6), "layout": .string("NHWC")], [x, w, b]) } == .invalidParameter)
        #expect(kind { try conv(["num_filter": .int(6)], [x, w, b]) } == .invalidParameter)
        let x6 = try ctx.array(Array(repeating: 0, count: 64), shape: [1, 2, 2, 2, 2, 4])
        #expect(kind { try conv(["kernel": ints([1, 1, 1, 1]), "num_filter": .int(6)], [x6, w, b]) } == .shapeMismatch)
        #expect(kind { _ = try ctx.invoke("Pooling", [x6], ["kernel": ints([1, 1, 1, 1])]) } == .shapeMismatch)
        let huge = 1 << 40
        #expect(kind { try conv(["kernel": ints([3, 3]), "num_filter": .int(6), "pad": ints([huge, huge])], [x, w, b]) } == .invalidParameter)
        #expect(kind { try conv(["kernel": ints([3, 3]), "num_filter": .int(6), "dilate": ints([Int.max, 1])], [x, w, b]) } == .invalidParameter)
        #expect(kind { try conv(["kernel": ints([huge, 3]), "num_filter": .int(6)], [x, w, b]) } == .invalidParameter)
        let wd = try ctx.array(Array(repeating: 0, count: 4 * 2 * 9), shape: [4, 2, 3, 3])
        #expect(kind { _ = try ctx.invoke("Deconvolution", [x, wd], ["kernel": ints([3, 3]), "num_filter": .int(2), "stride": ints([huge, 1])]) }
            == .invalidParameter)
        #expect(kind { _ = try ctx.invoke("Deconvolution", [x, wd], ["kernel": ints([3, 3]), "num_filter": .int(2),
                                                                      "stride": ints([1 << 24, 1 << 24])]) } == .arrayTooLarge)
        #expect(kind { _ = try ctx.invoke("Deconvolution", [x, wd], ["kernel": ints([3, 3]), "num_filter": .int(2), "adj": ints([1, 0])]) }
            == .invalidParameter)
        #expect(kind { _ = try ctx.invoke("UpSampling", [x], ["scale": .int(huge), "sample_type": .string("nearest")]) } == .invalidParameter)
        #expect(kind { _ = try ctx.invoke("UpSampling", [x], ["scale": .int(1 << 20), "sample_type": .string("nearest")]) } == .arrayTooLarge)
        #expect(kind { _ = try ctx.invoke("pad", [x], ["pad_width": ints([0, 0, 0, 0, huge, 0, 0, 0])]) } == .invalidParameter)
        let pool = { (p: [String: OpParam]) in _ = try ctx.invoke("Pooling", [x], p) }
        #expect(kind { try pool(["kernel": ints([2, 2]), "stride": ints([huge, 1])]) } == .invalidParameter)
        #expect(kind { try pool(["kernel": ints([2, 2]), "pool_type": .string("lp")]) } == .invalidParameter)
        #expect(kind { try pool(["kernel": ints([2])]) } == .invalidParameter)
        #expect(kind { try pool(["kernel": ints([9, 9])]) } == .shapeMismatch)
        #expect(kind { try pool(["kernel": ints([2, 2]), "pooling_convention": .string("same")]) } == .invalidParameter)
        #expect(kind { try pool(["kernel": ints([2, 2]), "pool_type": .string("median")]) } == .invalidParameter)
    }
}
