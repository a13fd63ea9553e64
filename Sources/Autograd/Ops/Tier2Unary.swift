import Glibc

// erfinv, gamma and gammaln. Their derivatives need the polygamma functions, provided by the
// internal `_polygamma` op whose gradient is the next order, so every order is differentiable.

/// erf⁻¹(x): an initial guess refined by Newton steps on erf (±inf at ±1, NaN outside [−1, 1]).
func erfinv(_ x: Double) -> Double {
    if x.isNaN || abs(x) > 1 { return .nan }
    if x == 1 { return .infinity }
    if x == -1 { return -.infinity }
    // Giles' single-precision approximation as the starting point.
    var w = -log((1 - x) * (1 + x)), p: Double
    if w < 5 {
        w -= 2.5
        p = 2.81022636e-08
        for c in [3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941] {
            p = c + p * w
        }
    } else {
        w = w.squareRoot() - 3
        p = -0.000200214257
        for c in [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682] {
            p = c + p * w
        }
    }
    var y = p * x
    for _ in 0..<3 {
        let err = erf(y) - x
        y -= err / (2 / Double.pi.squareRoot() * exp(-y * y))
    }
    return y
}

/// ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (NaN at the poles 0, −1, −2, ... and below −1e6).
func polygamma(_ n: Int, _ x: Double) -> Double {
    if x.isNaN || (x <= 0 && x == x.rounded(.down)) || x < -1e6 || n < 0 { return .nan }
    if x.isInfinite { return n == 0 ? .infinity : 0 }
    var factorial = 1.0
    for k in stride(from: 2, through: n, by: 1) { factorial *= Double(k) }
    let sign: Double = n % 2 == 0 ? 1 : -1
    // Shift up with ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + 1) − (−1)ⁿ n! / xⁿ⁺¹, then use the asymptotic series.
    var x = x, acc = 0.0
    while x < 20 {
        acc -= sign * factorial / pow(x, Double(n + 1))
        x += 1
    }
    let bernoulli = [1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6]
    if n == 0 {
        var s = log(x) - 1 / (2 * x)
        for (k, b) in bernoulli.enumerated() { s -= b / (Double(2 * k + 2) * pow(x, Double(2 * k + 2))) }
        return acc + s
    }
    // (−1)ⁿ⁺¹ [ (n−1)!/xⁿ + n!/(2xⁿ⁺¹) + Σ B₂ₖ (2k+n−1)!/((2k)! x²ᵏ⁺ⁿ) ]
    var s = factorial / Double(n) / pow(x, Double(n)) + factorial / (2 * pow(x, Double(n + 1)))
    for (i, b) in bernoulli.enumerated() {
        let k = i + 1
        var ratio = 1.0   // (2k+n−1)! / (2k)!
        for j in stride(from: 2 * k + 1, through: 2 * k + n - 1, by: 1) { ratio *= Double(j) }
        s += b * ratio / pow(x, Double(2 * k + n))
    }
    return acc - sign * s
}

private func mathOp(_ name: String, saves: Saves, _ summary: String, _ f: @escaping @Sendable (Double) -> Double,
                    vjp: @escaping VJPFn) -> OpDef {
    OpDef(name, inputs: ["data"], summary: summary, saves: saves, forward: { a in
        let x = a[0]
        guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(name): requires a float dtype, got \(x.dtype.rawValue)") }
        let out = try a.ctx.empty(x.shape, x.dtype)
        Kernels.unary(x, out, f)
        return ForwardResult(out)
    }, vjp: vjp)
}

extension Context {
    /// ψ⁽ⁿ⁾(x) through the recorded internal op.
    func polygamma(_ n: Int, _ x: NDArray) throws -> NDArray { try op("_polygamma", [x], ["n": .int(n)]) }
}

let tier2UnaryOps: [OpDef] = [
    mathOp("erfinv", saves: .outputs, "inverse error function", erfinv, vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.scale(a.ctx.unary("exp", a.ctx.mul(a.y, a.y)), Double.pi.squareRoot() / 2))]
    }),
    mathOp("gamma", saves: .both, "Γ(x)", { tgamma($0) }, vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.mul(a.y, a.ctx.polygamma(0, a.x)))]
    }),
    mathOp("gammaln", saves: .inputs, "log |Γ(x)|", { lgamma($0) }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.polygamma(0, a.x))] }),
    OpDef("_polygamma", inputs: ["data"], params: [param("n", .int, .int(0))], summary: "ψ⁽ⁿ⁾(x) (derivative order n of digamma)",
          saves: .inputs, hidden: true, forward: { a in
              let x = a[0], n = a.attrs.int("n")
              guard x.dtype.isFloat, n >= 0 else { throw AutogradError(.invalidParameter, "_polygamma: needs a float input and n >= 0") }
              let out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.unary(x, out) { polygamma(n, $0) }
              return ForwardResult(out)
          }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.polygamma(a.attrs.int("n") + 1, a.x))] }),
]
