// InstanceNorm, GroupNorm and L2Normalization (LayerNorm is in Tier2.swift). Each views its input as
// (outer, n, inner) and normalises over the middle axis; the gradients recompute the
// statistics with the public ops, so they differentiate again under create_graph.

/// How a normalisation op sees its input.
private struct NormLayout {
    /// (outer, n, inner): statistics are taken over n.
    var view: [Int]
    /// The shape in which gamma and beta apply (the data's shape, or its (N, groups, rest) view),
    /// the axis they run along in it, and their length.
    var affineShape: [Int]
    var channelAxis: Int
    var channels: Int
    /// Shape of the mean/std outputs (output_mean_var).
    var statShape: [Int]
}

private func instanceNormLayout(_ shape: [Int], _: Attrs) throws -> NormLayout {
    guard shape.count >= 3 else { throw AutogradError(.shapeMismatch, "InstanceNorm: expects (N, C, spatial...), got \(shapeText(shape))") }
    return NormLayout(view: [shape[0] * shape[1], shape[2...].reduce(1, *), 1], affineShape: shape, channelAxis: 1, channels: shape[1],
                      statShape: [shape[0], shape[1]])
}

private func groupNormLayout(_ shape: [Int], _ at: Attrs) throws -> NormLayout {
    let groups = at.int("num_groups")
    guard shape.count >= 3 else { throw AutogradError(.shapeMismatch, "GroupNorm: expects (N, C, spatial...), got \(shapeText(shape))") }
    guard groups >= 1, shape[1] % groups == 0 else {
        throw AutogradError(.invalidParameter, "GroupNorm: num_groups \(groups) must divide the channel count \(shape[1])")
    }
    // MXNet 1.x: gamma and beta have one value per group.
    let rest = shape[1] / groups * shape[2...].reduce(1, *)
    return NormLayout(view: [shape[0] * groups, rest, 1], affineShape: [shape[0], groups, rest], channelAxis: 1, channels: groups,
                      statShape: [shape[0], groups])
}

/// Normalises x over the middle axis of `view`, then applies gamma/beta along the channel axis.
/// Returns the output and the per-(outer, inner) mean and std = sqrt(var + eps).
private func normForward(_ c: Context, _ x: NDArray, _ gamma: NDArray, _ beta: NDArray, _ l: NormLayout, eps: Double) throws
    -> (out: NDArray, mean: [Double], std: [Double]) {
    let v = x.toDoubles(), (outer, n, inner) = (l.view[0], l.view[1], l.view[2])
    let gv = gamma.toDoubles(), bv = beta.toDoubles()
    var mean = [Double](repeating: 0, count: outer * inner), std = mean
    var r = [Double](repeating: 0, count: v.count)
    for o in 0..<outer {
        for i in 0..<inner {
            var s = 0.0
            for j in 0..<n { s += v[(o * n + j) * inner + i] }
            let mu = s / Double(n)
            var q = 0.0
            for j in 0..<n { let d = v[(o * n + j) * inner + i] - mu; q += d * d }
            let sd = (q / Double(n) + eps).squareRoot()
            mean[o * inner + i] = mu
            std[o * inner + i] = sd
            for j in 0..<n { r[(o * n + j) * inner + i] = (v[(o * n + j) * inner + i] - mu) / sd }
        }
    }
    let cs = contiguousStrides(l.affineShape)[l.channelAxis], ch = l.channels
    for k in r.indices {
        let q = (k / cs) % ch
        r[k] = r[k] * gv[q] + bv[q]
    }
    let out = try c.empty(x.shape, x.dtype)
    Kernels.fill(out, r)
    return (out, mean, std)
}

/// Checks data, gamma and beta of a normalisation op.
private func checkAffine(_ a: ForwardArgs, _ l: NormLayout, op: String) throws {
    guard a[0].dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(op): requires float32 or float64, got \(a[0].dtype.rawValue)") }
    for i in 1...2 {
        try sameDType(a[0], a[i], input: i)
        guard a[i].shape == [l.channels] else {
            throw AutogradError(.shapeMismatch, "\(op): \(i == 1 ? "gamma" : "beta") has shape \(shapeText(a[i].shape)), expected [\(l.channels)]")
        }
    }
}

private func normOp(_ name: String, params: [ParamSpec], summary: String, statOutputs: Bool,
                    layout: @escaping @Sendable ([Int], Attrs) throws -> NormLayout) -> OpDef {
    OpDef(name, inputs: ["data", "gamma", "beta"], params: params, summary: summary, outputs: statOutputs ? 0 : 1, saves: .inputs,
          forward: { a in
              let x = a[0], l = try layout(x.shape, a.attrs)
              try checkAffine(a, l, op: name)
              let (out, mean, std) = try normForward(a.ctx, x, a[1], a[2], l, eps: a.attrs.double("eps"))
              guard statOutputs && a.attrs.bool("output_mean_var") else { return ForwardResult(out) }
              return ForwardResult([out, try a.ctx.array(mean, shape: l.statShape, dtype: x.dtype),
                                    try a.ctx.array(std, shape: l.statShape, dtype: x.dtype)])
          }, vjp: { a in
              let c = a.ctx, x = a.input(0), l = try layout(x.shape, a.attrs)
              let mean1 = { (t: NDArray) in try c.op("mean", [t], ["axis": .int(1), "keepdims": .bool(true)]) }
              let x3 = try c.reshape(x, l.view)
              let xc = try c.sub(x3, mean1(x3))
              let inv = try c.unary("rsqrt", c.shift(mean1(c.mul(xc, xc)), a.attrs.double("eps")))
              let xhat3 = try c.mul(xc, inv)
              var kept = [Int](repeating: 1, count: l.affineShape.count)
              kept[l.channelAxis] = l.channels
              let others = l.affineShape.indices.filter { $0 != l.channelAxis }
              let g = try c.reshape(a.g, l.affineShape)
              let dgamma = a.needs[1] ? try c.sum(c.mul(g, c.reshape(xhat3, l.affineShape)), axes: others) : nil
              let dbeta = a.needs[2] ? try c.sum(g, axes: others) : nil
              guard a.needs[0] else { return [nil, dgamma, dbeta] }
              let dxhat = try c.reshape(c.mul(g, c.reshape(a.input(1), kept)), l.view)
              var dx = try c.mul(inv, c.sub(c.sub(dxhat, mean1(dxhat)), c.mul(xhat3, mean1(c.mul(dxhat, xhat3)))))
              if a.grads.count == 3 {
                  // d mean/dx = 1/n and d std/dx = (x − mean)/(n·std) = xhat/n.
                  let stat = [l.view[0], 1, l.view[2]]
                  let gm = try c.reshape(a.grads[1], stat), gs = try c.reshape(a.grads[2], stat)
                  dx = try c.add(dx, c.scale(c.add(gm, c.mul(gs, xhat3)), 1 / Double(l.view[1])))
              }
              return [try c.reshape(dx, x.shape), dgamma, dbeta]
          })
}

/// L2Normalization's view: instance (per sample), channel (across axis 1), spatial (per sample and channel).
private func l2Layout(_ shape: [Int], _ mode: String) throws -> [Int] {
    guard shape.count >= 2 else { throw AutogradError(.shapeMismatch, "L2Normalization: expects at least 2 axes, got \(shapeText(shape))") }
    switch mode {
    case "instance": return [shape[0], shape.dropFirst().reduce(1, *), 1]
    case "channel": return [shape[0], shape[1], shape[2...].reduce(1, *)]
    default:
        guard shape.count >= 3 else { throw AutogradError(.shapeMismatch, "L2Normalization: mode 'spatial' needs spatial axes, got \(shapeText(shape))") }
        return [shape[0] * shape[1], shape[2...].reduce(1, *), 1]
    }
}

let normOps: [OpDef] = [
    normOp("InstanceNorm", params: [param("eps", .double, .double(1e-3))],
           summary: "normalise each (sample, channel) over its spatial axes, then gamma·x̂ + beta per channel",
           statOutputs: false, layout: instanceNormLayout),
    normOp("GroupNorm", params: [param("num_groups", .int, .int(1)), param("eps", .double, .double(1e-5)),
                                 param("output_mean_var", .bool, .bool(false))],
           summary: "normalise each sample's channel groups, then gamma·x̂ + beta per group (gamma, beta: (num_groups,); mean, std: (N, num_groups))",
           statOutputs: true, layout: groupNormLayout),
    OpDef("L2Normalization", inputs: ["data"],
          params: [param("eps", .double, .double(1e-10)), param("mode", .string(["instance", "channel", "spatial"]), .string("instance"))],
          summary: "x / sqrt(Σx² + eps) per sample (instance), across channels (channel) or per channel plane (spatial)",
          saves: .inputs, forward: { a in
              let x = a[0]
              guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "L2Normalization: requires a float dtype") }
              let view = try l2Layout(x.shape, a.attrs.string("mode")), eps = a.attrs.double("eps")
              let (outer, n, inner) = (view[0], view[1], view[2])
              var v = x.toDoubles()
              for o in 0..<outer {
                  for i in 0..<inner {
                      var s = eps
                      for j in 0..<n { let t = v[(o * n + j) * inner + i]; s += t * t }
                      let inv = 1 / s.squareRoot()
                      for j in 0..<n { v[(o * n + j) * inner + i] *= inv }
                  }
              }
              let out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.fill(out, v)
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, x = a.x
              let view = try l2Layout(x.shape, a.attrs.string("mode"))
              let x3 = try c.reshape(x, view), g3 = try c.reshape(a.g, view)
              let norm = try c.unary("sqrt", c.shift(c.sum(c.mul(x3, x3), axes: [1], keepdims: true), a.attrs.double("eps")))
              let y = try c.div(x3, norm)
              let dx = try c.div(c.sub(g3, c.mul(y, c.sum(c.mul(g3, y), axes: [1], keepdims: true))), norm)
              return [try c.reshape(dx, x.shape)]
          }),
]
