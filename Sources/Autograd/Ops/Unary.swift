import Glibc

private func unaryForward(_ a: ForwardArgs, vector: VectorUnary? = nil, _ f: (Double) -> Double) throws -> ForwardResult {
    let x = a[0]
    let out = try a.ctx.empty(x.shape, x.dtype)
    Kernels.unary(x, out, vector: vector, f)
    return ForwardResult(out)
}

/// `f` is the definition; `vector` names the vectorised kernel computing the same function.
private func unaryOp(_ name: String, _ aliases: [String] = [], saves: Saves, _ summary: String,
                     _ f: @escaping @Sendable (Double) -> Double, vector: VectorUnary? = nil, vjp: @escaping VJPFn) -> OpDef {
    OpDef(name, aliases: aliases, inputs: ["data"], summary: summary, saves: saves,
          forward: { try unaryForward($0, vector: vector, f) }, vjp: vjp)
}

extension Context {
    /// 1 - m
    func oneMinus(_ m: NDArray) throws -> NDArray { try op("_rminus_scalar", [m], ["scalar": .double(1)]) }
}

private let sqrt2 = 2.0.squareRoot()
private let seluLambda = 1.0507009873554804934193349852946, seluAlpha = 1.6732632423543772848170429916717

private func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }
private func softrelu(_ x: Double) -> Double { x > 20 ? x : log1p(exp(x)) }

/// d/dx of each Activation act_type, as a VJP on (x, y).
private func activationVJP(_ type: String, _ a: VJPArgs) throws -> NDArray {
    let c = a.ctx, g = a.g, x = a.x, y = a.y
    switch type {
    case "relu": return try c.mul(g, c.compareScalar("_greater_scalar", x, 0))
    case "sigmoid": return try c.mul(g, c.mul(y, c.oneMinus(y)))
    case "tanh": return try c.mul(g, c.oneMinus(c.mul(y, y)))
    case "softrelu": return try c.mul(g, c.unary("sigmoid", x))
    default: // softsign
        let d = try c.shift(c.unary("abs", x), 1)
        return try c.div(g, c.mul(d, d))
    }
}

private func activation(_ type: String) -> (f: (Double) -> Double, vector: VectorUnary?) {
    switch type {
    case "relu": return ({ max($0, 0) }, .relu)
    case "sigmoid": return (sigmoid, .sigmoid)
    case "tanh": return (tanh, .tanh)
    case "softrelu": return (softrelu, nil)
    default: return ({ $0 / (1 + abs($0)) }, nil)
    }
}

/// Broadcast shape of prelu's gamma: (1, C, 1, ...) for a per-channel gamma, all ones for a single slope.
private func preluGammaShape(_ shape: [Int], _ count: Int) throws -> [Int] {
    if count == 1 { return Array(repeating: 1, count: shape.count) }
    guard shape.count >= 2, count == shape[1] else {
        throw AutogradError(.shapeMismatch, "LeakyReLU: prelu gamma must have 1 or \(shape.count >= 2 ? shape[1] : 1) elements (the channel axis), got \(count)")
    }
    return shape.indices.map { $0 == 1 ? count : 1 }
}

/// prelu: x where x > 0, else gamma[channel]·x.
private func preluForward(_ a: ForwardArgs) throws -> ForwardResult {
    guard a.inputs.count == 2 else { throw AutogradError(.invalidParameter, "LeakyReLU: act_type 'prelu' needs the gamma input") }
    let x = a[0], gamma = a[1]
    try sameDType(x, gamma)
    let kept = try preluGammaShape(x.shape, gamma.size)
    let scaled = try a.ctx.empty(x.shape, x.dtype)
    Kernels.binary(.mul, x, NDArray(context: a.ctx, storage: gamma.storage, shape: kept, dtype: gamma.dtype), scaled)
    let out = try a.ctx.empty(x.shape, x.dtype)
    Kernels.binary(.max, x, try a.ctx.zeros([1], x.dtype), out)
    let neg = try a.ctx.empty(x.shape, x.dtype)
    Kernels.scalar(.le, x, 0, reverse: false, neg)
    Kernels.binary(.mul, scaled, neg, scaled)
    Kernels.addInPlace(out, scaled)
    return ForwardResult(out)
}

/// rrelu: a slope drawn uniformly from [lower_bound, upper_bound] per element in training (kept
/// for backward), the mean slope otherwise.
private func rreluForward(_ a: ForwardArgs) throws -> ForwardResult {
    let x = a[0], lo = a.attrs.double("lower_bound"), hi = a.attrs.double("upper_bound")
    guard a.ctx.isTraining else { return try unaryForward(a) { $0 > 0 ? $0 : (lo + hi) / 2 * $0 } }
    let slopes = try a.ctx.empty(x.shape, x.dtype)
    var v = [Double](repeating: 0, count: x.size)
    for i in v.indices { v[i] = lo + (hi - lo) * a.ctx.rng.uniform() }
    Kernels.fill(slopes, v)
    let out = try a.ctx.empty(x.shape, x.dtype)
    Kernels.fill(out, zip(x.toDoubles(), v).map { $0 > 0 ? $0 : $1 * $0 })
    return ForwardResult([out], aux: [slopes])
}

let unaryOps: [OpDef] = [
    unaryOp("negative", saves: .nothing, "-x", { -$0 }, vjp: { a in [try a.ctx.neg(a.g)] }),
    unaryOp("abs", saves: .inputs, "|x| (gradient sign(x), 0 at 0)", { abs($0) }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.unary("sign", a.x))] }),
    unaryOp("sign", saves: .nothing, "sign(x) (zero gradient)", { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }, vjp: { _ in [nil] }),
    unaryOp("floor", saves: .nothing, "floor(x) (zero gradient)", { floor($0) }, vjp: { _ in [nil] }),
    unaryOp("ceil", saves: .nothing, "ceil(x) (zero gradient)", { ceil($0) }, vjp: { _ in [nil] }),
    unaryOp("round", saves: .nothing, "round half away from zero (zero gradient)", { Glibc.round($0) }, vjp: { _ in [nil] }),
    unaryOp("rint", saves: .nothing, "round half to even (zero gradient)", { Glibc.rint($0) }, vjp: { _ in [nil] }),
    unaryOp("trunc", ["fix"], saves: .nothing, "truncate toward zero (zero gradient)", { Glibc.trunc($0) }, vjp: { _ in [nil] }),
    unaryOp("exp", saves: .outputs, "e^x", { exp($0) }, vector: .exp, vjp: { a in [try a.ctx.mul(a.g, a.y)] }),
    unaryOp("log", saves: .inputs, "natural logarithm", { log($0) }, vector: .log, vjp: { a in [try a.ctx.div(a.g, a.x)] }),
    unaryOp("log2", saves: .inputs, "base-2 logarithm", { log2($0) }, vjp: { a in [try a.ctx.div(a.g, a.ctx.scale(a.x, M_LN2))] }),
    unaryOp("log10", saves: .inputs, "base-10 logarithm", { log10($0) }, vjp: { a in [try a.ctx.div(a.g, a.ctx.scale(a.x, M_LN10))] }),
    unaryOp("log1p", saves: .inputs, "log(1 + x)", { log1p($0) }, vjp: { a in [try a.ctx.div(a.g, a.ctx.shift(a.x, 1))] }),
    unaryOp("expm1", saves: .outputs, "e^x - 1", { expm1($0) }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.shift(a.y, 1))] }),
    unaryOp("sqrt", saves: .outputs, "square root", { $0.squareRoot() }, vector: .sqrt, vjp: { a in [try a.ctx.div(a.ctx.scale(a.g, 0.5), a.y)] }),
    unaryOp("rsqrt", saves: .outputs, "1 / sqrt(x)", { 1 / $0.squareRoot() }, vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.scale(a.ctx.powScalar(a.y, 3), -0.5))]
    }),
    unaryOp("cbrt", saves: .outputs, "cube root", { cbrt($0) }, vjp: { a in [try a.ctx.div(a.g, a.ctx.scale(a.ctx.mul(a.y, a.y), 3))] }),
    unaryOp("rcbrt", saves: .outputs, "1 / cbrt(x)", { 1 / cbrt($0) }, vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.scale(a.ctx.powScalar(a.y, 4), -1.0 / 3))]
    }),
    unaryOp("square", saves: .inputs, "x²", { $0 * $0 }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.scale(a.x, 2))] }),
    unaryOp("reciprocal", saves: .outputs, "1 / x", { 1 / $0 }, vjp: { a in [try a.ctx.neg(a.ctx.mul(a.g, a.ctx.mul(a.y, a.y)))] }),
    unaryOp("sin", saves: .inputs, "sine", { sin($0) }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.unary("cos", a.x))] }),
    unaryOp("cos", saves: .inputs, "cosine", { cos($0) }, vjp: { a in [try a.ctx.neg(a.ctx.mul(a.g, a.ctx.unary("sin", a.x)))] }),
    unaryOp("tan", saves: .outputs, "tangent", { tan($0) }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.shift(a.ctx.mul(a.y, a.y), 1))] }),
    unaryOp("arcsin", saves: .inputs, "inverse sine", { asin($0) }, vjp: { a in
        let c = a.ctx
        return [try c.div(a.g, c.unary("sqrt", c.oneMinus(c.mul(a.x, a.x))))]
    }),
    unaryOp("arccos", saves: .inputs, "inverse cosine", { acos($0) }, vjp: { a in
        let c = a.ctx
        return [try c.neg(c.div(a.g, c.unary("sqrt", c.oneMinus(c.mul(a.x, a.x)))))]
    }),
    unaryOp("arctan", saves: .inputs, "inverse tangent", { atan($0) }, vjp: { a in
        [try a.ctx.div(a.g, a.ctx.shift(a.ctx.mul(a.x, a.x), 1))]
    }),
    unaryOp("sinh", saves: .inputs, "hyperbolic sine", { sinh($0) }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.unary("cosh", a.x))] }),
    unaryOp("cosh", saves: .inputs, "hyperbolic cosine", { cosh($0) }, vjp: { a in [try a.ctx.mul(a.g, a.ctx.unary("sinh", a.x))] }),
    unaryOp("tanh", saves: .outputs, "hyperbolic tangent", { tanh($0) }, vector: .tanh, vjp: { a in [try a.ctx.mul(a.g, a.ctx.oneMinus(a.ctx.mul(a.y, a.y)))] }),
    unaryOp("arcsinh", saves: .inputs, "inverse hyperbolic sine", { asinh($0) }, vjp: { a in
        let c = a.ctx
        return [try c.div(a.g, c.unary("sqrt", c.shift(c.mul(a.x, a.x), 1)))]
    }),
    unaryOp("arccosh", saves: .inputs, "inverse hyperbolic cosine", { acosh($0) }, vjp: { a in
        let c = a.ctx
        return [try c.div(a.g, c.unary("sqrt", c.shift(c.mul(a.x, a.x), -1)))]
    }),
    unaryOp("arctanh", saves: .inputs, "inverse hyperbolic tangent", { atanh($0) }, vjp: { a in
        [try a.ctx.div(a.g, a.ctx.oneMinus(a.ctx.mul(a.x, a.x)))]
    }),
    unaryOp("degrees", saves: .nothing, "radians to degrees", { $0 * 180 / .pi }, vjp: { a in [try a.ctx.scale(a.g, 180 / .pi)] }),
    unaryOp("radians", saves: .nothing, "degrees to radians", { $0 * .pi / 180 }, vjp: { a in [try a.ctx.scale(a.g, .pi / 180)] }),
    unaryOp("erf", saves: .inputs, "error function", { erf($0) }, vjp: { a in
        let c = a.ctx
        return [try c.mul(a.g, c.scale(c.unary("exp", c.neg(c.mul(a.x, a.x))), 2 / Double.pi.squareRoot()))]
    }),
    unaryOp("sigmoid", saves: .outputs, "1 / (1 + e^-x)", sigmoid, vector: .sigmoid, vjp: { a in [try a.ctx.mul(a.g, a.ctx.mul(a.y, a.ctx.oneMinus(a.y)))] }),
    unaryOp("relu", saves: .inputs, "max(x, 0) (gradient 0 at 0)", { max($0, 0) }, vector: .relu, vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.compareScalar("_greater_scalar", a.x, 0))]
    }),
    unaryOp("softsign", saves: .inputs, "x / (1 + |x|)", { $0 / (1 + abs($0)) }, vjp: { a in
        let c = a.ctx, d = try c.shift(c.unary("abs", a.x), 1)
        return [try c.div(a.g, c.mul(d, d))]
    }),
    OpDef("clip", inputs: ["data"], params: [param("a_min", .double, nil, "lower bound"), param("a_max", .double, nil, "upper bound")],
          summary: "clamp to [a_min, a_max] (gradient 1 inside, bounds inclusive)", saves: .inputs, forward: { a in
              let lo = a.attrs.double("a_min"), hi = a.attrs.double("a_max")
              return try unaryForward(a) { min(max($0, lo), hi) }
          }, vjp: { a in
              let c = a.ctx
              let inside = try c.mul(c.compareScalar("_greater_equal_scalar", a.x, a.attrs.double("a_min")),
                                     c.compareScalar("_lesser_equal_scalar", a.x, a.attrs.double("a_max")))
              return [try c.mul(a.g, inside)]
          }),
    OpDef("Activation", inputs: ["data"], params: [param("act_type", .string(["relu", "sigmoid", "softrelu", "softsign", "tanh"]), nil)],
          summary: "elementwise activation", saves: .both, forward: { a in
              let act = activation(a.attrs.string("act_type"))
              return try unaryForward(a, vector: act.vector, act.f)
          }, vjp: { a in [try activationVJP(a.attrs.string("act_type"), a)] }),
    OpDef("LeakyReLU", inputs: ["data", "gamma"], minInputs: 1,
          params: [param("act_type", .string(["leaky", "elu", "selu", "gelu", "prelu", "rrelu"]), .string("leaky")),
                   param("slope", .double, .double(0.25)), param("lower_bound", .double, .double(0.125)),
                   param("upper_bound", .double, .double(0.334))],
          summary: "leaky / elu / selu / gelu / prelu (learned gamma per channel) / rrelu (random slope in training, mean slope otherwise)",
          saves: .both, forward: { a in
              let s = a.attrs.double("slope")
              switch a.attrs.string("act_type") {
              case "leaky": return try unaryForward(a) { $0 > 0 ? $0 : s * $0 }
              case "elu": return try unaryForward(a) { $0 > 0 ? $0 : s * expm1($0) }
              case "selu": return try unaryForward(a) { seluLambda * ($0 > 0 ? $0 : seluAlpha * expm1($0)) }
              case "gelu": return try unaryForward(a) { 0.5 * $0 * (1 + erf($0 / sqrt2)) }
              case "prelu": return try preluForward(a)
              default: return try rreluForward(a)
              }
          }, vjp: { a in
              let c = a.ctx, x = a.x, s = a.attrs.double("slope")
              let pos = try c.compareScalar("_greater_scalar", x, 0)
              switch a.attrs.string("act_type") {
              case "leaky": return [try c.mul(a.g, c.shift(c.scale(pos, 1 - s), s))]
              case "elu": return [try c.mul(a.g, c.add(pos, c.mul(c.oneMinus(pos), c.shift(a.y, s))))]
              case "selu":
                  let neg = try c.mul(c.oneMinus(pos), c.shift(a.y, seluLambda * seluAlpha))
                  return [try c.mul(a.g, c.add(c.scale(pos, seluLambda), neg))]
              case "prelu":
                  let kept = try preluGammaShape(x.shape, a.input(1).size)
                  let gamma = try c.reshape(a.input(1), kept), neg = try c.oneMinus(pos)
                  let dx = a.needs[0] ? try c.mul(a.g, c.add(pos, c.mul(neg, gamma))) : nil
                  let axes = kept.indices.filter { kept[$0] == 1 }
                  let dgamma = a.needs[1] ? try c.reshape(c.sum(c.mul(a.g, c.mul(x, neg)), axes: axes), a.input(1).shape) : nil
                  return [dx, dgamma]
              case "rrelu":
                  // Training drew one slope per element (kept as aux); otherwise the slope is the bounds' mean.
                  let neg = try c.oneMinus(pos)
                  let slope = try a.aux.first.map { try c.mul(neg, $0) } ?? c.scale(neg, (a.attrs.double("lower_bound") + a.attrs.double("upper_bound")) / 2)
                  return [try c.mul(a.g, c.add(pos, slope))]
              default: // gelu: Φ(x) + x φ(x)
                  let cdf = try c.scale(c.shift(c.unary("erf", c.scale(x, 1 / sqrt2)), 1), 0.5)
                  let pdf = try c.scale(c.unary("exp", c.scale(c.mul(x, x), -0.5)), 1 / (2 * Double.pi).squareRoot())
                  return [try c.mul(a.g, c.add(cdf, c.mul(x, pdf)))]
              }
          }),
]
