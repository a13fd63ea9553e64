import Glibc

// Regression output layers (their backward ignores the head gradient, like MXNet's loss layers)
// and smooth_l1 (an ordinary differentiable function).

/// The label viewed with the data's shape (MXNet accepts (N,) labels for (N, 1) data).
private func regressionLabel(_ c: Context, _ data: [Int], _ label: NDArray, op: String) throws -> NDArray {
    guard label.size == data.reduce(1, *), !data.isEmpty, label.ndim >= 1, label.shape[0] == data[0] else {
        throw AutogradError(.shapeMismatch, "\(op): label shape \(shapeText(label.shape)) does not match data shape \(shapeText(data))")
    }
    return try c.reshape(label, data)
}

/// MXNet scales regression gradients by grad_scale / (outputs per example).
private func regressionScale(_ a: VJPArgs) -> Double {
    let shape = a.inputMeta[0].shape
    return a.attrs.double("grad_scale") / Double(max(shape.dropFirst().reduce(1, *), 1))
}

private func regressionOp(_ name: String, _ summary: String, sigmoid: Bool,
                          grad: @escaping @Sendable (Context, NDArray) throws -> NDArray) -> OpDef {
    OpDef(name, inputs: ["data", "label"], params: [param("grad_scale", .double, .double(1))], summary: summary, saves: .inputs,
          forward: { a in
              let x = a[0]
              guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(name): requires a float dtype, got \(x.dtype.rawValue)") }
              _ = try regressionLabel(a.ctx, x.shape, a[1], op: name)
              let out = try a.ctx.empty(x.shape, x.dtype)
              if sigmoid { Kernels.unary(x, out) { $0 >= 0 ? 1 / (1 + exp(-$0)) : exp($0) / (1 + exp($0)) } } else { Kernels.assign(out, from: x) }
              return ForwardResult(out)
          }, vjp: { a in
              // The output is recomputed from the data: differentiating through this node again would hit
              // the contract (which ignores its head gradient) instead of the derivative.
              let c = a.ctx, y = sigmoid ? try c.unary("sigmoid", a.x) : a.x
              let label = try c.cast(regressionLabel(c, y.shape, a.input(1), op: name), y.dtype)
              return [try c.scale(grad(c, c.sub(y, label)), regressionScale(a)), nil]
          })
}

let lossOps: [OpDef] = [
    regressionOp("LinearRegressionOutput", "identity forward; backward ignores the head gradient: (out − label)·grad_scale/m (m outputs per example)",
                 sigmoid: false) { _, d in d },
    regressionOp("LogisticRegressionOutput", "sigmoid forward; backward ignores the head gradient: (sigmoid − label)·grad_scale/m",
                 sigmoid: true) { _, d in d },
    regressionOp("MAERegressionOutput", "identity forward; backward ignores the head gradient: sign(out − label)·grad_scale/m",
                 sigmoid: false) { c, d in try c.unary("sign", d) },
    OpDef("smooth_l1", inputs: ["data"], params: [param("scalar", .double, .double(1), "σ")],
          summary: "0.5·(σx)² where |x| < 1/σ², else |x| − 0.5/σ²", saves: .inputs, forward: { a in
              let x = a[0], s2 = a.attrs.double("scalar") * a.attrs.double("scalar")
              guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "smooth_l1: requires a float dtype") }
              let out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.unary(x, out) { abs($0) < 1 / s2 ? 0.5 * s2 * $0 * $0 : abs($0) - 0.5 / s2 }
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, x = a.x, s2 = a.attrs.double("scalar") * a.attrs.double("scalar")
              let inside = try c.compareScalar("_lesser_scalar", c.unary("abs", x), 1 / s2)
              let d = try c.add(c.mul(inside, c.scale(x, s2)), c.mul(c.oneMinus(inside), c.unary("sign", x)))
              return [try c.mul(a.g, d)]
          }),
]
