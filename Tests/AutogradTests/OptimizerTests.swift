import Testing
@testable import Autograd

private func approx(_ a: [Double], _ b: [Double], _ tol: Double = 1e-9) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) }
}

private func d(_ v: Double) -> OpParam { .double(v) }

@Suite struct OptimizerTests {
    @Test("sgd clips the rescaled gradient before adding weight decay; adam clips after (hand-computed)")
    func clipOrder() throws {
        let c = Context()
        let w = try c.array([1], shape: [1], dtype: .float64), g = try c.array([3], shape: [1], dtype: .float64)
        // sgd: (1 − 0.1·0.1)·1 − 0.1·clip(0.5·3, 1) = 0.99 − 0.1 = 0.89 (clipping after wd would give 0.9).
        let s = try c.invoke("sgd_update", [w, g], ["lr": d(0.1), "wd": d(0.1), "rescale_grad": d(0.5), "clip_gradient": d(1)])[0]
        #expect(approx(s.toDoubles(), [0.89]))
        // adam: g' = clip(0.5·3 + 0.1·1, 1) = 1; mean = 0.1, var = 0.001; w = 1 − 0.01·0.1/(sqrt(0.001) + 1e-8).
        let m = try c.array([0], shape: [1], dtype: .float64), v = try c.array([0], shape: [1], dtype: .float64)
        let a = try c.invoke("adam_update", [w, g, m, v], ["lr": d(0.01), "wd": d(0.1), "rescale_grad": d(0.5), "clip_gradient": d(1)])[0]
        #expect(approx(m.toDoubles(), [0.1]) && approx(v.toDoubles(), [0.001]))
        #expect(approx(a.toDoubles(), [1 - 0.001 / (0.001.squareRoot() + 1e-8)]))
        #expect(approx(a.toDoubles(), [0.96837722], 1e-7))
        #expect(w.toDoubles() == [1], "without out= the weight itself is left alone")
    }

    @Test("sgd_mom_update: mom ← momentum·mom − lr·(clip(rescale·g) + wd·w) in place, w ← w + mom")
    func momentum() throws {
        let c = Context()
        let w = try c.array([1, -2], shape: [2], dtype: .float64), g = try c.array([4, -1], shape: [2], dtype: .float64)
        let mom = try c.array([0.5, 0.5], shape: [2], dtype: .float64)
        let out = try c.invoke("sgd_mom_update", [w, g, mom], ["lr": d(0.1), "momentum": d(0.9), "wd": d(0.01), "clip_gradient": d(2)], out: [w])
        // mom = 0.45 − 0.1·(2 + 0.01) = 0.249 and 0.45 − 0.1·(−1 − 0.02) = 0.552
        #expect(approx(mom.toDoubles(), [0.249, 0.552]))
        #expect(out[0] === w && approx(w.toDoubles(), [1.249, -1.448]))
    }

    @Test("rmsprop_update: n ← (1−γ1)g² + γ1·n in place, w ← w − lr·g/sqrt(n + ε), clip_gradient and clip_weights")
    func rmsprop() throws {
        let c = Context()
        func step(_ p: [String: OpParam]) throws -> (w: Double, n: Double) {
            let w = try c.array([1], shape: [1], dtype: .float64), g = try c.array([3], shape: [1], dtype: .float64)
            let n = try c.array([1], shape: [1], dtype: .float64)
            let r = try c.invoke("rmsprop_update", [w, g, n], p.merging(["lr": d(0.1)]) { a, _ in a })[0]
            return (r.toDoubles()[0], n.toDoubles()[0])
        }
        let plain = try step([:])          // n = 0.05·9 + 0.95 = 1.4
        #expect(approx([plain.n], [1.4]) && approx([plain.w], [1 - 0.3 / (1.4 + 1e-8).squareRoot()]))
        #expect(approx([plain.w], [0.74645372], 1e-7))
        let clipped = try step(["clip_gradient": d(2)])   // g = 2: n = 0.2 + 0.95 = 1.15
        #expect(approx([clipped.n], [1.15]) && approx([clipped.w], [0.81349904], 1e-7))
        let decayed = try step(["wd": d(1), "rescale_grad": d(0.5), "gamma1": d(0.5)])   // g = 1.5 + 1 = 2.5: n = 0.5·6.25 + 0.5
        #expect(approx([decayed.n], [3.625]) && approx([decayed.w], [1 - 0.25 / (3.625 + 1e-8).squareRoot()]))
        let bounded = try step(["clip_weights": d(0.7)])
        #expect(approx([bounded.w], [0.7]))
    }

    @Test("signsgd_update: w ← (1 − lr·wd)·w − lr·sign(g)")
    func signsgd() throws {
        let c = Context()
        for dtype in [DType.float64, .float32] {
            let w = try c.array([1, -2, 0.5], shape: [3], dtype: dtype), g = try c.array([0.5, -3, 0], shape: [3], dtype: dtype)
            let r = try c.invoke("signsgd_update", [w, g], ["lr": d(0.1), "wd": d(0.1), "rescale_grad": d(2), "clip_gradient": d(0.1)], out: [w])
            #expect(r[0] === w)
            #expect(approx(w.toDoubles(), [0.89, -1.88, 0.495], dtype == .float64 ? 1e-12 : 1e-6))
        }
    }

    @Test("five adam steps with out=weight match the closed-form recurrence (float64 and float32)")
    func adamSteps() throws {
        let c = Context()
        let w0 = [0.3, -1.2, 2.0, 0.0], grads = [[0.1, 0.5, -2.0, 1.0], [0.2, -0.4, 1.5, 0.0], [-1.0, 0.3, 0.2, 3.0],
                                                 [0.0, 0.0, -0.5, 0.7], [2.0, 1.0, 1.0, -1.0]]
        let lr = 0.05, b1 = 0.8, b2 = 0.99, eps = 1e-6, wd = 0.02, rs = 0.7, clip = 1.2
        var ew = w0, em = [Double](repeating: 0, count: 4), ev = em
        for g in grads {
            for i in 0..<4 {
                let gi = min(max(rs * g[i] + wd * ew[i], -clip), clip)
                em[i] = b1 * em[i] + (1 - b1) * gi
                ev[i] = b2 * ev[i] + (1 - b2) * gi * gi
                ew[i] -= lr * em[i] / (ev[i].squareRoot() + eps)
            }
        }
        for (dtype, tol) in [(DType.float64, 1e-12), (.float32, 2e-6)] {
            let w = try c.array(w0, shape: [2, 2], dtype: dtype)
            let m = try c.array([0, 0, 0, 0], shape: [2, 2], dtype: dtype), v = try c.array([0, 0, 0, 0], shape: [2, 2], dtype: dtype)
            for g in grads {
                _ = try c.invoke("adam_update", [w, try c.array(g, shape: [2, 2], dtype: dtype), m, v],
                                 ["lr": d(lr), "beta1": d(b1), "beta2": d(b2), "epsilon": d(eps), "wd": d(wd), "rescale_grad": d(rs),
                                  "clip_gradient": d(clip), "lazy_update": .bool(false)], out: [w])
            }
            #expect(approx(w.toDoubles(), ew, tol) && approx(m.toDoubles(), em, tol) && approx(v.toDoubles(), ev, tol), "\(dtype)")
        }
    }

    @Test("optimizer updates are never recorded, reject in-place writes to graph arrays, and check shapes")
    func recordingAndErrors() throws {
        let c = Context()
        let w = try c.array([1, 2], shape: [2]), x = try c.array([1, 1], shape: [2]), n = try c.array([0, 0], shape: [2])
        c.attachGrad(x)
        try c.record {
            let g = try x * 2
            for (op, inputs) in [("rmsprop_update", [w, g, n]), ("signsgd_update", [w, g]), ("sgd_update", [w, g])] {
                let r = try c.invoke(op, inputs, ["lr": d(0.1)])[0]
                #expect(!r.isInGraph, "\(op) must not be recorded")
            }
            expectError(.inplaceOnGraphArray) { _ = try c.invoke("signsgd_update", [x, w], ["lr": d(0.1)], out: [x]) }
        }
        let bad = try c.array([1, 2, 3], shape: [3])
        expectError(.shapeMismatch) { _ = try c.invoke("rmsprop_update", [w, bad, n], ["lr": d(0.1)]) }
        expectError(.invalidParameter) { _ = try c.invoke("signsgd_update", [w, x], [:]) }
        let i = try c.array([1, 2], shape: [2], dtype: .int32)
        expectError(.dtypeMismatch) { _ = try c.invoke("signsgd_update", [i, i], ["lr": d(1)]) }
    }
}
