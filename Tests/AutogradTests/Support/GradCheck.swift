@testable import Autograd

/// Deterministic test randomness (splitmix64).
struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(next() >> 11) * 0x1.0p-53 }
}

/// How to draw an input's values.
enum Gen {
    case normal          // ±[0.2, 1.5]: away from kinks at 0
    case positive        // [0.5, 2]
    case unit            // (-0.9, 0.9)
    case aboveOne        // [1.2, 3]
    case index(Int)      // integers in [0, n), never differentiated
    case mask            // 0 or 1, never differentiated
    case fixed([Double])

    var differentiable: Bool {
        switch self { case .index, .mask: return false; default: return true }
    }

    func values(_ n: Int, _ rng: inout TestRNG) -> [Double] {
        (0..<n).map { i in
            switch self {
            case .normal: return (rng.next() & 1 == 0 ? 1 : -1) * rng.uniform(0.2, 1.5)
            case .positive: return rng.uniform(0.5, 2)
            case .unit: return rng.uniform(-0.9, 0.9)
            case .aboveOne: return rng.uniform(1.2, 3)
            case .index(let k): return Double(rng.next() % UInt64(k))
            case .mask: return Double(rng.next() & 1)
            case .fixed(let v): return v[i]
            }
        }
    }
}

/// One gradient-check case of an op.
struct GradCase: CustomStringConvertible {
    let op: String
    var inputs: [([Int], Gen)]
    var params: [String: OpParam] = [:]
    /// Run forward and backward in training mode (BatchNorm batch statistics).
    var train = false
    var tolerance = 1e-6

    init(_ op: String, _ inputs: [([Int], Gen)], _ params: [String: OpParam] = [:], train: Bool = false, tolerance: Double = 1e-6) {
        self.op = op
        self.inputs = inputs
        self.params = params
        self.train = train
        self.tolerance = tolerance
    }

    var description: String { "\(op)\(inputs.map { shapeText($0.0) })\(params.isEmpty ? "" : " \(params)")" }
}

/// Centred finite differences against the engine's first- and second-order gradients, in Float64.
struct GradChecker {
    let c: GradCase
    let ctx = Context(seed: 7)
    var values: [[Double]] = []
    var weights: [[Double]] = []   // head gradients, one per output
    var weights2: [[Double]] = []  // second-order head gradients, one per checked input
    var checked: [Int]

    init(_ c: GradCase, seed: UInt64 = 1) throws {
        self.c = c
        var rng = TestRNG(seed)
        values = c.inputs.map { $0.1.values($0.0.reduce(1, *), &rng) }
        checked = c.inputs.indices.filter { c.inputs[$0].1.differentiable }
        let outs = try forwardOutputs(values)
        weights = outs.map { o in (0..<o.size).map { _ in rng.uniform(-1, 1) } }
        weights2 = checked.map { i in (0..<values[i].count).map { _ in rng.uniform(-1, 1) } }
    }

    /// Differentiates only the first `count` inputs.
    mutating func restrict(to count: Int) {
        checked = checked.filter { $0 < count }
        weights2 = Array(weights2.prefix(checked.count))
    }

    /// Runs the case's op through the table (internal adjoint ops included, unlike `invoke`).
    func runOp(_ xs: [NDArray]) throws -> [NDArray] {
        let def = OpTable.get(c.op)
        return try ctx.run(def, xs, def.parse(c.params))
    }

    func arrays(_ vals: [[Double]]) throws -> [NDArray] {
        try zip(c.inputs, vals).map { try ctx.array($1, shape: $0.0, dtype: .float64) }
    }

    func forwardOutputs(_ vals: [[Double]]) throws -> [NDArray] {
        let xs = try arrays(vals)
        return try c.train ? ctx.trainMode { try runOp(xs) } : runOp(xs)
    }

    /// L = Σ_k <w_k, y_k> over float outputs.
    func loss(_ vals: [[Double]]) throws -> Double {
        var l = 0.0
        for (y, w) in zip(try forwardOutputs(vals), weights) where y.dtype.isFloat {
            l += zip(y.toDoubles(), w).reduce(0) { $0 + $1.0 * $1.1 }
        }
        return l
    }

    /// dL/dx for the checked inputs, through the engine (optionally recording the backward).
    func analytic(_ vals: [[Double]], createGraph: Bool = false) throws -> (xs: [NDArray], grads: [NDArray]) {
        let xs = try arrays(vals)
        for i in checked { ctx.attachGrad(xs[i]) }
        return try ctx.record(trainMode: c.train) {
            let ys = try runOp(xs)
            let hg = try zip(ys, weights).map { y, w in try ctx.array(w, shape: y.shape, dtype: y.dtype) }
            let heads = zip(ys, hg).filter { $0.0.isInGraph }
            let gs = try ctx.grad(heads.map(\.0), variables: checked.map { xs[$0] }, headGrads: heads.map(\.1),
                                  createGraph: createGraph, trainMode: c.train)
            return (xs, gs)
        }
    }

    /// Max |analytic - numeric| / scale over all checked elements; returns the failures.
    func firstOrder(h: Double = 1e-6) throws -> [String] {
        let a = try analytic(values).grads
        var failures: [String] = []
        for (k, i) in checked.enumerated() {
            let got = a[k].toDoubles()
            for j in values[i].indices {
                var p = values, m = values
                p[i][j] += h
                m[i][j] -= h
                let num = (try loss(p) - loss(m)) / (2 * h)
                if abs(num - got[j]) > c.tolerance * max(1, abs(num)) {
                    failures.append("input \(i)[\(j)]: analytic \(got[j]) numeric \(num)")
                }
            }
        }
        return failures
    }

    /// S = Σ_i <v_i, dL/dx_i>: checks dS/dx (recorded backward) against differences of first-order gradients.
    func secondOrder(h: Double = 1e-5) throws -> [String] {
        func s(_ vals: [[Double]]) throws -> Double {
            let g = try analytic(vals).grads
            return zip(g, weights2).reduce(0) { acc, p in acc + zip(p.0.toDoubles(), p.1).reduce(0) { $0 + $1.0 * $1.1 } }
        }
        let (xs, gs) = try analytic(values, createGraph: true)
        let heads = gs.enumerated().filter { $0.element.isInGraph }
        let hg = try heads.map { try ctx.array(weights2[$0.offset], shape: $0.element.shape, dtype: .float64) }
        var failures: [String] = []
        for i in checked {
            var got = [Double](repeating: 0, count: values[i].count)
            if !heads.isEmpty {
                do {
                    got = try ctx.grad(heads.map(\.element), variables: [xs[i]], headGrads: hg, retainGraph: true,
                                       trainMode: c.train)[0].toDoubles()
                } catch {
                    if error.kind != .variableUnreachable { throw error }
                }
            }
            for j in values[i].indices {
                var p = values, m = values
                p[i][j] += h
                m[i][j] -= h
                let num = (try s(p) - s(m)) / (2 * h)
                if abs(num - got[j]) > max(c.tolerance, 1e-5) * max(1, abs(num)) {
                    failures.append("input \(i)[\(j)]: analytic \(got[j]) numeric \(num)")
                }
            }
        }
        return failures
    }
}
