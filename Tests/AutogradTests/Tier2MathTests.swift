import Testing
import Glibc
@testable import Autograd

private func approx(_ a: [Double], _ b: [Double], _ tol: Double = 1e-9) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol * max(1, abs($1)) || ($0.isNaN && $1.isNaN) || $0 == $1 }
}

@Suite struct Tier2MathTests {
    @Test("erfinv inverts erf to 1e-14 and maps ±1 to ±inf, |x| > 1 to NaN")
    func erfinvValues() throws {
        let c = Context()
        let xs = [-0.999999, -0.9, -0.3, 0, 1e-8, 0.5, 0.99, 0.9999999]
        let y = try c.invoke("erfinv", [try c.array(xs, shape: [8], dtype: .float64)])[0].toDoubles()
        #expect(approx(y.map { erf($0) }, xs, 1e-14))
        #expect(approx([erfinv(0.5)], [0.4769362762044699], 1e-14))
        let edges = try c.invoke("erfinv", [try c.array([1, -1, 1.5], shape: [3], dtype: .float64)])[0].toDoubles()
        #expect(edges[0] == .infinity && edges[1] == -.infinity && edges[2].isNaN)
    }

    @Test("polygamma: ψ(1) = −γ, ψ(0.5) = −γ − 2 ln 2, ψ′(1) = π²/6, ψ″(1) = −2ζ(3), ψ‴(1) = π⁴/15, and the reflection of negatives")
    func polygammaValues() {
        let euler = 0.5772156649015329
        #expect(approx([polygamma(0, 1)], [-euler], 1e-13))
        #expect(approx([polygamma(0, 0.5)], [-euler - 2 * log(2.0)], 1e-13))
        #expect(approx([polygamma(1, 1)], [Double.pi * Double.pi / 6], 1e-13))
        #expect(approx([polygamma(2, 1)], [-2.4041138063191885], 1e-13))
        #expect(approx([polygamma(3, 1)], [pow(Double.pi, 4) / 15], 1e-12))
        // ψ(1 − x) − ψ(x) = π cot(πx)
        #expect(approx([polygamma(0, 1.3) - polygamma(0, -0.3)], [Double.pi / tan(Double.pi * -0.3)], 1e-12))
        #expect(polygamma(0, 0).isNaN && polygamma(1, -2).isNaN)
    }

    @Test("gamma and gammaln match tgamma/lgamma, and their gradients are Γ·ψ and ψ")
    func gammaFunctions() throws {
        let c = Context()
        let x = try c.array([0.5, 1, 2.5, 4, -0.5], shape: [5], dtype: .float64)
        c.attachGrad(x)
        let y = try c.record { try c.invoke("gamma", [x])[0] }
        #expect(approx(y.toDoubles(), [Double.pi.squareRoot(), 1, 1.329340388179137, 6, -2 * Double.pi.squareRoot()], 1e-13))
        try c.backward([y])
        let want = zip(y.toDoubles(), x.toDoubles()).map { $0 * polygamma(0, $1) }
        #expect(approx(x.grad!.toDoubles(), want, 1e-12))
        #expect(approx([x.grad!.toDoubles()[1]], [-0.5772156649015329], 1e-13))
        let l = try c.invoke("gammaln", [x])[0]
        #expect(approx(l.toDoubles(), [0.5 * log(Double.pi), 0, log(1.329340388179137), log(6.0), log(2 * Double.pi.squareRoot())], 1e-13))
    }

    @Test("smooth_l1 is quadratic inside |x| < 1/σ² and linear outside")
    func smoothL1() throws {
        let c = Context()
        let x = try c.array([-2, -0.2, 0, 0.2, 0.3, 2], shape: [6], dtype: .float64)
        let y = try c.invoke("smooth_l1", [x], ["scalar": .double(2)])[0]
        // σ² = 4: inside |x| < 0.25 → 2x², outside → |x| − 0.125
        #expect(approx(y.toDoubles(), [1.875, 0.08, 0, 0.08, 0.175, 1.875]))
    }

    @Test("regression outputs ignore the head gradient: (out − label)·grad_scale/m, sigmoid for logistic, sign for MAE")
    func regressionContracts() throws {
        let c = Context()
        let data = [0.5, 2, -1, 0.25], label = [1.0, 1, 0, 0.25]
        for (op, fwd, grad) in [
            ("LinearRegressionOutput", { (x: Double) in x }, { (o: Double, l: Double) in o - l }),
            ("LogisticRegressionOutput", { (x: Double) in 1 / (1 + exp(-x)) }, { (o: Double, l: Double) in o - l }),
            ("MAERegressionOutput", { (x: Double) in x }, { (o: Double, l: Double) in o > l ? 1 : (o < l ? -1 : 0) }),
        ] {
            let x = try c.array(data, shape: [2, 2], dtype: .float64)
            c.attachGrad(x)
            let lab = try c.array(label, shape: [2, 2], dtype: .float64)
            let y = try c.record { try c.invoke(op, [x, lab], ["grad_scale": .double(3)])[0] }
            #expect(approx(y.toDoubles(), data.map(fwd)), "\(op)")
            try c.backward([y], headGrads: [try c.array([100, -7, 0, 5], shape: [2, 2], dtype: .float64)])
            // m = 2 outputs per example.
            let want = zip(y.toDoubles(), label).map { grad($0, $1) * 3 / 2 }
            #expect(approx(x.grad!.toDoubles(), want), "\(op)")
        }
        // The reference's probe: data 0.5 and 2 against label 1 give −0.5 and 1 (one output per example).
        let x = try c.array([0.5, 2], shape: [2, 1])
        c.attachGrad(x)
        let y = try c.record { try c.invoke("LinearRegressionOutput", [x, try c.array([1, 1], shape: [2])])[0] }
        try c.backward([y])
        #expect(x.grad!.toDoubles() == [-0.5, 1])
        expectError(.shapeMismatch) { _ = try c.invoke("LinearRegressionOutput", [x, try c.array([1, 1, 1], shape: [3])]) }
    }

    @Test("second order through LogisticRegressionOutput: d/dx of the contract gradient is σ′(x)·grad_scale/m")
    func regressionSecondOrder() throws {
        let c = Context()
        let xs = [0.3, -1.2, 2.0]
        let x = try c.array(xs, shape: [3, 1], dtype: .float64)
        c.attachGrad(x)
        let lab = try c.array([1, 0, 1], shape: [3], dtype: .float64)
        let g = try c.record { () throws -> NDArray in
            let y = try c.invoke("LogisticRegressionOutput", [x, lab], ["grad_scale": .double(2)])[0]
            return try c.grad([y], variables: [x], createGraph: true)[0]
        }
        try c.backward([g])
        let want = xs.map { v -> Double in let s = 1 / (1 + exp(-v)); return 2 * s * (1 - s) }
        #expect(approx(x.grad!.toDoubles(), want, 1e-12))
    }

    @Test("GroupNorm (one gamma/beta per group) and L2Normalization forward against closed forms")
    func normForward() throws {
        let c = Context()
        let x = try c.array([1, 2, 3, 4, 2, 2, 2, 6], shape: [1, 4, 2], dtype: .float64)
        let gamma = try c.array([2, 1], shape: [2], dtype: .float64), beta = try c.array([0, 1], shape: [2], dtype: .float64)
        let g = try c.invoke("GroupNorm", [x, gamma, beta], ["num_groups": .int(2), "output_mean_var": .bool(true), "eps": .double(0)])
        // groups [1,2,3,4] (mean 2.5, var 1.25, gamma 2) and [2,2,2,6] (mean 3, var 3, beta 1)
        let s0 = 1.25.squareRoot(), s1 = 3.0.squareRoot()
        #expect(g[1].shape == [1, 2] && approx(g[1].toDoubles(), [2.5, 3]) && approx(g[2].toDoubles(), [s0, s1]))
        #expect(approx(g[0].toDoubles(), [-3 / s0, -1 / s0, 1 / s0, 3 / s0, -1 / s1 + 1, -1 / s1 + 1, -1 / s1 + 1, 3 / s1 + 1]))
        let inst = try c.invoke("InstanceNorm", [x, try c.array([1, 1, 1, 2], shape: [4], dtype: .float64),
                                                 try c.array([0, 0, 0, 0], shape: [4], dtype: .float64)], ["eps": .double(1e-12)])[0]
        #expect(approx(inst.toDoubles(), [-1, 1, -1, 1, 0, 0, -2, 2]))
        let l2 = try c.invoke("L2Normalization", [try c.array([3, 4, 0, 5], shape: [2, 2], dtype: .float64)], ["eps": .double(0)])[0]
        #expect(approx(l2.toDoubles(), [0.6, 0.8, 0, 1]))
        expectError(.invalidParameter) { _ = try c.invoke("GroupNorm", [x, gamma, beta], ["num_groups": .int(3)]) }
        expectError(.shapeMismatch) { _ = try c.invoke("GroupNorm", [x, try c.array([1, 1, 1, 1], shape: [4], dtype: .float64), beta]) }
        expectError(.shapeMismatch) { _ = try c.invoke("InstanceNorm", [try c.array([1, 2], shape: [1, 2], dtype: .float64), gamma, beta]) }
    }

    @Test("LeakyReLU prelu uses gamma per channel; rrelu draws slopes in [lower, upper] in training and uses their mean otherwise")
    func preluAndRrelu() throws {
        let c = Context(seed: 3)
        let x = try c.array([1, -2, -1, 3, -4, 2], shape: [1, 2, 3], dtype: .float64)
        let gamma = try c.array([0.5, 0.1], shape: [2], dtype: .float64)
        c.attachGrad(x)
        c.attachGrad(gamma)
        let y = try c.record { try c.invoke("LeakyReLU", [x, gamma], ["act_type": .string("prelu")])[0] }
        #expect(approx(y.toDoubles(), [1, -1, -0.5, 3, -0.4, 2]))
        try c.backward([y])
        #expect(approx(x.grad!.toDoubles(), [1, 0.5, 0.5, 1, 0.1, 1]) && approx(gamma.grad!.toDoubles(), [-3, -4]))
        expectError(.invalidParameter) { _ = try c.invoke("LeakyReLU", [x], ["act_type": .string("prelu")]) }
        let predict = try c.invoke("LeakyReLU", [x], ["act_type": .string("rrelu")])[0]
        #expect(approx(predict.toDoubles(), x.toDoubles().map { $0 > 0 ? $0 : 0.2295 * $0 }))
        let z = try c.array((0..<200).map { _ in -1.0 }, shape: [200], dtype: .float64)
        c.attachGrad(z)
        let r = try c.record { try c.invoke("LeakyReLU", [z], ["act_type": .string("rrelu")])[0] }
        let slopes = r.toDoubles().map { -$0 }
        #expect(slopes.allSatisfy { $0 >= 0.125 && $0 <= 0.334 } && Set(slopes).count > 100)
        try c.backward([r])
        #expect(approx(z.grad!.toDoubles(), slopes), "the gradient uses the slopes drawn in forward")
    }
}
