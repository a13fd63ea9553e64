import Glibc

/// NumPy broadcast shape of two shapes, or MXNet's error.
func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
    if a == b { return a }
    let n = max(a.count, b.count)
    var out = [Int](repeating: 0, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        guard da == db || da == 1 || db == 1 else {
            throw AutogradError(.shapeMismatch, "operands could not be broadcast together with shapes \(shapeText(a)) \(shapeText(b))")
        }
        out[i] = da == 1 ? db : da
    }
    return out
}

/// MXNet's dtype rule: no implicit promotion between arrays.
func sameDType(_ a: NDArray, _ b: NDArray, input: Int = 1) throws {
    guard a.dtype == b.dtype else {
        throw AutogradError(.dtypeMismatch, "Incompatible attr in node  at \(input)-th input: expected \(a.dtype.rawValue), got \(b.dtype.rawValue)")
    }
}

/// Forward of a two-array elementwise op; `elemwise` requires equal shapes.
func binaryForward(_ a: ForwardArgs, _ k: BinaryKernel, elemwise: Bool) throws -> ForwardResult {
    let x = a[0], y = a[1]
    try sameDType(x, y)
    let shape: [Int]
    if elemwise {
        guard x.shape == y.shape else {
            throw AutogradError(.shapeMismatch, "Incompatible attr in node  at 1-th input: expected \(shapeText(x.shape)), got \(shapeText(y.shape))")
        }
        shape = x.shape
    } else {
        shape = try broadcastShape(x.shape, y.shape)
    }
    let out = try a.ctx.empty(shape, x.dtype)
    Kernels.binary(k, x, y, out)
    return ForwardResult(out)
}

func scalarForward(_ a: ForwardArgs, _ k: BinaryKernel, reverse: Bool = false) throws -> ForwardResult {
    let x = a[0]
    let out = try a.ctx.empty(x.shape, x.dtype)
    Kernels.scalar(k, x, a.attrs.double("scalar"), reverse: reverse, out)
    return ForwardResult(out)
}

private let lhsRhs = ["lhs", "rhs"]
private let scalarParam = [param("scalar", .double, .double(1), "the scalar operand")]

private func binary(_ name: String, _ aliases: [String] = [], _ k: BinaryKernel, elemwise: Bool = false, saves: Saves = .inputs,
                    _ summary: String, vjp: VJPFn?) -> OpDef {
    OpDef(name, aliases: aliases, inputs: lhsRhs, summary: summary, saves: vjp == nil ? .nothing : saves,
          forward: { try binaryForward($0, k, elemwise: elemwise) }, vjp: vjp)
}

private func scalarOp(_ name: String, _ aliases: [String] = [], _ k: BinaryKernel, reverse: Bool = false, saves: Saves = .nothing,
                      _ summary: String, vjp: VJPFn?) -> OpDef {
    OpDef(name, aliases: aliases, inputs: ["data"], params: scalarParam, summary: summary, saves: saves,
          forward: { try scalarForward($0, k, reverse: reverse) }, vjp: vjp)
}

// Shared gradient rules (g is the output gradient; unbroadcasting happens in backward).
private let addVJP: VJPFn = { a in [a.g, a.g] }
private let subVJP: VJPFn = { a in [a.g, a.needs[1] ? try a.ctx.neg(a.g) : nil] }
private let mulVJP: VJPFn = { a in
    [a.needs[0] ? try a.ctx.mul(a.g, a.input(1)) : nil, a.needs[1] ? try a.ctx.mul(a.g, a.input(0)) : nil]
}
private let divVJP: VJPFn = { a in
    let c = a.ctx, x = a.input(0), y = a.input(1)
    return [a.needs[0] ? try c.div(a.g, y) : nil,
            a.needs[1] ? try c.neg(c.div(c.mul(a.g, x), c.mul(y, y))) : nil]
}
private let powVJP: VJPFn = { a in
    let c = a.ctx, x = a.input(0), e = a.input(1), out = a.output(0)
    return [a.needs[0] ? try c.mul(a.g, c.mul(e, c.op("broadcast_power", [x, c.shift(e, -1)]))) : nil,
            a.needs[1] ? try c.mul(a.g, c.mul(out, c.unary("log", x))) : nil]
}
private func extremumVJP(max: Bool) -> VJPFn {
    return { a in
        let c = a.ctx, x = a.input(0), y = a.input(1)
        // Ties send the full gradient to both operands, as MXNet does.
        return [a.needs[0] ? try c.mul(a.g, c.compare(max ? "broadcast_greater_equal" : "broadcast_lesser_equal", x, y)) : nil,
                a.needs[1] ? try c.mul(a.g, c.compare(max ? "broadcast_lesser_equal" : "broadcast_greater_equal", x, y)) : nil]
    }
}
private let modVJP: VJPFn = { a in
    let c = a.ctx
    return [a.g, a.needs[1] ? try c.neg(c.mul(a.g, c.unary("floor", c.div(a.input(0), a.input(1))))) : nil]
}

let elementwiseOps: [OpDef] = [
    binary("broadcast_add", ["add", "broadcast_plus", "_plus", "_add"], .add, saves: .nothing, "lhs + rhs with broadcasting", vjp: addVJP),
    binary("broadcast_sub", ["subtract", "broadcast_minus", "_minus", "_sub"], .sub, saves: .nothing, "lhs - rhs with broadcasting", vjp: subVJP),
    binary("broadcast_mul", ["multiply", "_mul"], .mul, "lhs * rhs with broadcasting", vjp: mulVJP),
    binary("broadcast_div", ["divide", "_div"], .div, "lhs / rhs with broadcasting", vjp: divVJP),
    binary("broadcast_power", ["power", "_power"], .pow, saves: .both, "lhs ** rhs with broadcasting", vjp: powVJP),
    binary("broadcast_maximum", ["maximum", "_maximum"], .max, "elementwise maximum with broadcasting", vjp: extremumVJP(max: true)),
    binary("broadcast_minimum", ["minimum", "_minimum"], .min, "elementwise minimum with broadcasting", vjp: extremumVJP(max: false)),
    binary("broadcast_mod", ["mod", "_mod"], .mod, "lhs mod rhs (sign of rhs) with broadcasting", vjp: modVJP),
    binary("elemwise_add", [], .add, elemwise: true, saves: .nothing, "lhs + rhs, equal shapes", vjp: addVJP),
    binary("elemwise_sub", [], .sub, elemwise: true, saves: .nothing, "lhs - rhs, equal shapes", vjp: subVJP),
    binary("elemwise_mul", [], .mul, elemwise: true, "lhs * rhs, equal shapes", vjp: mulVJP),
    binary("elemwise_div", [], .div, elemwise: true, "lhs / rhs, equal shapes", vjp: divVJP),
    binary("broadcast_equal", ["equal", "_equal"], .eq, "1 where lhs == rhs else 0, in the input dtype", vjp: nil),
    binary("broadcast_not_equal", ["not_equal", "_not_equal"], .ne, "1 where lhs != rhs", vjp: nil),
    binary("broadcast_greater", ["greater", "_greater"], .gt, "1 where lhs > rhs", vjp: nil),
    binary("broadcast_greater_equal", ["greater_equal", "_greater_equal"], .ge, "1 where lhs >= rhs", vjp: nil),
    binary("broadcast_lesser", ["lesser", "_lesser"], .lt, "1 where lhs < rhs", vjp: nil),
    binary("broadcast_lesser_equal", ["lesser_equal", "_lesser_equal"], .le, "1 where lhs <= rhs", vjp: nil),

    scalarOp("_plus_scalar", ["_PlusScalar"], .add, "data + scalar", vjp: { a in [a.g] }),
    scalarOp("_minus_scalar", ["_MinusScalar"], .sub, "data - scalar", vjp: { a in [a.g] }),
    scalarOp("_rminus_scalar", ["_RMinusScalar"], .sub, reverse: true, "scalar - data", vjp: { a in [try a.ctx.neg(a.g)] }),
    scalarOp("_mul_scalar", ["_MulScalar"], .mul, "data * scalar", vjp: { a in [try a.ctx.scale(a.g, a.attrs.double("scalar"))] }),
    scalarOp("_div_scalar", ["_DivScalar"], .div, "data / scalar", vjp: { a in [try a.ctx.scale(a.g, 1 / a.attrs.double("scalar"))] }),
    scalarOp("_rdiv_scalar", ["_RDivScalar"], .div, reverse: true, saves: .both, "scalar / data", vjp: { a in
        let c = a.ctx
        return [try c.neg(c.div(c.mul(a.g, a.y), a.x))]
    }),
    scalarOp("_power_scalar", ["_PowerScalar"], .pow, saves: .inputs, "data ** scalar", vjp: { a in
        let c = a.ctx, s = a.attrs.double("scalar")
        return [try c.mul(a.g, c.scale(c.powScalar(a.x, s - 1), s))]
    }),
    scalarOp("_rpower_scalar", ["_RPowerScalar"], .pow, reverse: true, saves: .outputs, "scalar ** data", vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.scale(a.y, log(a.attrs.double("scalar"))))]
    }),
    scalarOp("_maximum_scalar", ["_MaximumScalar"], .max, saves: .inputs, "max(data, scalar)", vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.compareScalar("_greater_equal_scalar", a.x, a.attrs.double("scalar")))]
    }),
    scalarOp("_minimum_scalar", ["_MinimumScalar"], .min, saves: .inputs, "min(data, scalar)", vjp: { a in
        [try a.ctx.mul(a.g, a.ctx.compareScalar("_lesser_equal_scalar", a.x, a.attrs.double("scalar")))]
    }),
    scalarOp("_mod_scalar", ["_ModScalar"], .mod, "data mod scalar", vjp: { a in [a.g] }),
    scalarOp("_rmod_scalar", ["_RModScalar"], .mod, reverse: true, saves: .inputs, "scalar mod data", vjp: { a in
        let c = a.ctx
        let q = try c.unary("floor", c.op("_rdiv_scalar", [a.x], ["scalar": .double(a.attrs.double("scalar"))]))
        return [try c.neg(c.mul(a.g, q))]
    }),
    scalarOp("_equal_scalar", ["_EqualScalar"], .eq, "1 where data == scalar", vjp: nil),
    scalarOp("_not_equal_scalar", ["_NotEqualScalar"], .ne, "1 where data != scalar", vjp: nil),
    scalarOp("_greater_scalar", ["_GreaterScalar"], .gt, "1 where data > scalar", vjp: nil),
    scalarOp("_greater_equal_scalar", ["_GreaterEqualScalar"], .ge, "1 where data >= scalar", vjp: nil),
    scalarOp("_lesser_scalar", ["_LesserScalar"], .lt, "1 where data < scalar", vjp: nil),
    scalarOp("_lesser_equal_scalar", ["_LesserEqualScalar"], .le, "1 where data <= scalar", vjp: nil),

    OpDef("add_n", aliases: ["ElementWiseSum", "_add_n"], inputs: ["args"], variadic: true,
          summary: "sum of all inputs (equal shapes)", forward: { a in
              let x = a[0]
              for (i, y) in a.inputs.enumerated().dropFirst() {
                  try sameDType(x, y, input: i)
                  guard y.shape == x.shape else {
                      throw AutogradError(.shapeMismatch, "Incompatible attr in node  at \(i)-th input: expected \(shapeText(x.shape)), got \(shapeText(y.shape))")
                  }
              }
              let out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.assign(out, from: x)
              for y in a.inputs.dropFirst() { Kernels.addInPlace(out, y) }
              return ForwardResult(out)
          }, vjp: { a in a.needs.map { _ in a.g } }),
]
