import Glibc

// Optimizer updates beyond sgd/sgd_mom/adam (which live with the tier-1 ops in NN.swift).
// Like MXNet they are never recorded, update their state arrays in place and return the new
// weight (a new array, or the weight itself with `out: [weight]`).

/// Checks that every optimizer input has the weight's shape and a float dtype equal to it.
private func checkOptimizerInputs(_ a: ForwardArgs, _ op: String) throws {
    let w = a[0]
    guard w.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(op): requires float32 or float64, got \(w.dtype.rawValue)") }
    for i in a.inputs.indices.dropFirst() {
        try sameDType(w, a[i], input: i)
        guard a[i].shape == w.shape else {
            throw AutogradError(.shapeMismatch, "\(op): input \(i) shape \(shapeText(a[i].shape)) != weight shape \(shapeText(w.shape))")
        }
    }
}

/// MXNet's clip for optimizer gradients: a negative bound means no clipping.
@inline(__always) private func clipBound<T: BinaryFloatingPoint>(_ v: T, _ bound: T) -> T {
    bound < 0 ? v : min(max(v, -bound), bound)
}

/// rmsprop: g' = clip(rescale·g + wd·w); n ← (1−γ1)·g'² + γ1·n (in place); w ← w − lr·g'/sqrt(n + ε),
/// then w is clipped to ±clip_weights when that is ≥ 0.
private func rmspropLoop<T: BinaryFloatingPoint>(_ w: NDArray, _ g: NDArray, _ n: NDArray, _ out: NDArray, _ at: Attrs, _: T.Type) {
    let pw = w.buffer(T.self), pg = g.buffer(T.self), pn = n.buffer(T.self), po = out.buffer(T.self)
    let lr = T(at.double("lr")), g1 = T(at.double("gamma1")), eps = T(at.double("epsilon")), wd = T(at.double("wd"))
    let rs = T(at.double("rescale_grad")), cg = T(at.double("clip_gradient")), cw = T(at.double("clip_weights"))
    for i in 0..<pw.count {
        let gi = clipBound(rs * pg[i] + wd * pw[i], cg)
        let ni = (1 - g1) * gi * gi + g1 * pn[i]
        pn[i] = ni
        po[i] = clipBound(pw[i] - lr * gi / (ni + eps).squareRoot(), cw)
    }
}

/// signsgd: w ← (1 − lr·wd)·w − lr·sign(g). As in MXNet, rescale_grad and clip_gradient are
/// accepted but cannot change a sign.
private func signsgdLoop<T: BinaryFloatingPoint>(_ w: NDArray, _ g: NDArray, _ out: NDArray, _ at: Attrs, _: T.Type) {
    let pw = w.buffer(T.self), pg = g.buffer(T.self), po = out.buffer(T.self)
    let lr = T(at.double("lr")), wd = T(at.double("wd"))
    for i in 0..<pw.count {
        let s: T = pg[i] > 0 ? 1 : (pg[i] < 0 ? -1 : 0)
        po[i] = (1 - lr * wd) * pw[i] - lr * s
    }
}

let optimizerOps: [OpDef] = [
    OpDef("rmsprop_update", inputs: ["weight", "grad", "n"],
          params: [param("lr", .double, nil), param("gamma1", .double, .double(0.95)), param("epsilon", .double, .double(1e-8)),
                   param("wd", .double, .double(0)), param("rescale_grad", .double, .double(1)),
                   param("clip_gradient", .double, .double(-1), "clip the gradient to ±clip_gradient (< 0: no clipping)"),
                   param("clip_weights", .double, .double(-1), "clip the new weight to ±clip_weights (< 0: no clipping)")],
          summary: "RMSProp: n ← (1−γ1)·g² + γ1·n (in place), w ← w − lr·g/sqrt(n + ε) with g = clip(rescale·grad + wd·w)",
          forward: { a in
              try checkOptimizerInputs(a, "rmsprop_update")
              let out = try a.ctx.empty(a[0].shape, a[0].dtype)
              if a[0].dtype == .float64 { rmspropLoop(a[0], a[1], a[2], out, a.attrs, Double.self) } else {
                  rmspropLoop(a[0], a[1], a[2], out, a.attrs, Float.self)
              }
              return ForwardResult(out)
          }, vjp: nil),
    OpDef("signsgd_update", inputs: ["weight", "grad"],
          params: [param("lr", .double, nil), param("wd", .double, .double(0)), param("rescale_grad", .double, .double(1)),
                   param("clip_gradient", .double, .double(-1))],
          summary: "signSGD: w ← (1 − lr·wd)·w − lr·sign(grad)", forward: { a in
              try checkOptimizerInputs(a, "signsgd_update")
              let out = try a.ctx.empty(a[0].shape, a[0].dtype)
              if a[0].dtype == .float64 { signsgdLoop(a[0], a[1], out, a.attrs, Double.self) } else {
                  signsgdLoop(a[0], a[1], out, a.attrs, Float.self)
              }
              return ForwardResult(out)
          }, vjp: nil),
]
