/// Tier-2 operators that are cheap to offer: regression losses, smooth_l1, LayerNorm, Embedding,
/// sort/argsort and cumsum.

/// A regression output layer: forward `transform`, backward `(∂loss(y, label)) · grad_scale`,
/// ignoring the head gradient (MXNet's loss-layer contract).
private func regressionOutput(_ name: String, _ summary: String, transform: String?,
                              gradient: @escaping @Sendable (Context, NDArray, NDArray) throws -> NDArray) -> OpDef {
    OpDef(name, inputs: ["data", "label"], params: [param("grad_scale", .double, .double(1))], summary: summary, saves: .inputs,
          forward: { a in
              let x = a[0], label = a[1]
              try sameDType(x, label)
              guard label.size == x.size else {
                  throw AutogradError(.shapeMismatch, "\(name): label shape \(shapeText(label.shape)) does not match data shape \(shapeText(x.shape))")
              }
              guard let transform else { return try reshaped(a.ctx, x, x.shape) }
              return ForwardResult(try a.ctx.pause { try a.ctx.op(transform, [x]) })
          }, vjp: { a in
              // y is recomputed from the data: differentiating this node's saved output again would hit the
              // contract (which ignores its head gradient) instead of the derivative.
              let c = a.ctx, x = a.input(0)
              let y = try transform.map { try c.op($0, [x]) } ?? x
              let d = try gradient(c, y, c.reshape(a.input(1), x.shape))
              // MXNet scales by grad_scale / m, m = outputs per example.
              let m = Double(max(x.shape.dropFirst().reduce(1, *), 1))
              return [try c.scale(d, a.attrs.double("grad_scale") / m), nil]
          })
}

/// Sort permutation along `axis` (stable), as Ints.
private func sortIndices(_ x: NDArray, axis: Int, ascending: Bool) -> [Int] {
    let v = x.toDoubles(), n = x.shape[axis]
    let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
    var r = [Int](repeating: 0, count: v.count)
    for o in 0..<outer {
        for i in 0..<inner {
            let at = { (j: Int) in v[(o * n + j) * inner + i] }
            let perm = (0..<n).sorted { p, q in at(p) == at(q) ? p < q : (ascending ? at(p) < at(q) : at(p) > at(q)) }
            for (j, p) in perm.enumerated() { r[(o * n + j) * inner + i] = p }
        }
    }
    return r
}

private let sortParams = [param("axis", .optInt, .int(-1)), param("is_ascend", .bool, .bool(true))]

/// Flattens when axis is None; returns the array and the normalised axis.
private func axisOrFlat(_ c: Context, _ x: NDArray, _ axis: Int?, _ op: String) throws -> (NDArray, Int) {
    guard let axis else { return (try c.pause { try c.reshape(x, [x.size]) }, 0) }
    return (x, try normAxis(axis, x.ndim, op))
}

extension Context {
    /// x reversed along `axis` (a recorded slice with step -1).
    func flip(_ x: NDArray, axis: Int) throws -> NDArray {
        var b = [Int?](repeating: nil, count: axis + 1), e = b, s = b
        s[axis] = -1
        b[axis] = nil; e[axis] = nil
        return try op("slice", [x], ["begin": opList(b), "end": opList(e), "step": opList(s)])
    }
}

let tier2Ops: [OpDef] = [
    regressionOutput("LinearRegressionOutput", "identity; backward (y - label) · grad_scale, ignoring the head gradient",
                     transform: nil) { c, y, l in try c.sub(y, l) },
    regressionOutput("LogisticRegressionOutput", "sigmoid; backward (y - label) · grad_scale, ignoring the head gradient",
                     transform: "sigmoid") { c, y, l in try c.sub(y, l) },
    regressionOutput("MAERegressionOutput", "identity; backward sign(y - label) · grad_scale, ignoring the head gradient",
                     transform: nil) { c, y, l in try c.unary("sign", c.sub(y, l)) },
    OpDef("smooth_l1", inputs: ["data"], params: [param("scalar", .double, .double(1), "sigma")],
          summary: "0.5(σx)² where |x| < 1/σ², else |x| - 0.5/σ²", saves: .inputs, forward: { a in
              let s = a.attrs.double("scalar"), s2 = s * s
              let x = a[0], out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.unary(x, out) { abs($0) < 1 / s2 ? 0.5 * s2 * $0 * $0 : abs($0) - 0.5 / s2 }
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, s2 = a.attrs.double("scalar") * a.attrs.double("scalar")
              let inner = try c.compareScalar("_lesser_scalar", c.unary("abs", a.x), 1 / s2)
              let d = try c.add(c.mul(inner, c.scale(a.x, s2)), c.mul(c.oneMinus(inner), c.unary("sign", a.x)))
              return [try c.mul(a.g, d)]
          }),
    OpDef("LayerNorm", inputs: ["data", "gamma", "beta"], params: [param("axis", .int, .int(-1)), param("eps", .double, .double(1e-5))],
          summary: "normalise along an axis: (x - mean) / sqrt(var + eps) · gamma + beta", saves: .inputs, forward: { a in
              let x = a[0], axis = try normAxis(a.attrs.int("axis"), a[0].ndim, "LayerNorm")
              for i in 1...2 {
                  try sameDType(x, a[i], input: i)
                  guard a[i].shape == [x.shape[axis]] else {
                      throw AutogradError(.shapeMismatch, "LayerNorm: input \(i) has shape \(shapeText(a[i].shape)), expected [\(x.shape[axis])]")
                  }
              }
              let c = a.ctx
              return ForwardResult(try c.pause { try layerNorm(c, x, a[1], a[2], axis: axis, eps: a.attrs.double("eps")).out })
          }, vjp: { a in
              let c = a.ctx, x = a.x, axis = try normAxis(a.attrs.int("axis"), a.x.ndim, "LayerNorm")
              let (_, xhat, inv, kept) = try layerNorm(c, x, a.input(1), a.input(2), axis: axis, eps: a.attrs.double("eps"))
              let others = x.shape.indices.filter { $0 != axis }
              let dxhat = try c.mul(a.g, c.reshape(a.input(1), kept))
              let m1 = try c.op("mean", [dxhat], ["axis": .int(axis), "keepdims": .bool(true)])
              let m2 = try c.op("mean", [c.mul(dxhat, xhat)], ["axis": .int(axis), "keepdims": .bool(true)])
              let dx = a.needs[0] ? try c.mul(inv, c.sub(c.sub(dxhat, m1), c.mul(xhat, m2))) : nil
              let dgamma = a.needs[1] ? try c.sum(c.mul(a.g, xhat), axes: others) : nil
              let dbeta = a.needs[2] ? try c.sum(a.g, axes: others) : nil
              return [dx, dgamma, dbeta]
          }),
    OpDef("Embedding", inputs: ["data", "weight"],
          params: [param("input_dim", .int, nil), param("output_dim", .int, nil), param("dtype", .dtype, .string("float32")),
                   param("sparse_grad", .bool, .bool(false))],
          summary: "rows of weight (input_dim, output_dim) selected by float indices", saves: .inputs, forward: { a in
              let w = a[1], rows = a.attrs.int("input_dim")
              guard w.shape == [rows, a.attrs.int("output_dim")] else {
                  throw AutogradError(.shapeMismatch, "Embedding: weight shape \(shapeText(w.shape)) != [\(rows),\(a.attrs.int("output_dim"))]")
              }
              let idx = try indexValues(a[0], n: rows, mode: "clip", op: "Embedding")
              let out = try a.ctx.empty(a[0].shape + [w.shape[1]], w.dtype)
              Kernels.take(w, idx, axis: 0, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              [nil, try a.ctx.op("_take_backward", [a.g, a.input(0)], ["axis": .int(0), "dim": .int(a.attrs.int("input_dim"))])]
          }),
    OpDef("sort", inputs: ["data"], params: sortParams, summary: "sorted values along an axis (None: flattened)", forward: { a in
        let (x, axis) = try axisOrFlat(a.ctx, a[0], a.attrs.optInt("axis"), "sort")
        let perm = sortIndices(x, axis: axis, ascending: a.attrs.bool("is_ascend"))
        let out = try a.ctx.empty(x.shape, x.dtype)
        Kernels.gatherAxis(x, perm, axis: axis, into: out)
        let p = try a.ctx.array(perm.map(Double.init), shape: x.shape, dtype: .float64)
        return ForwardResult([out], aux: [p])
    }, vjp: { a in
        let shape = a.inputMeta[0].shape, c = a.ctx
        let axis = try a.attrs.optInt("axis").map { try normAxis($0, shape.count, "sort") }
        let dim = axis.map { shape[$0] } ?? shape.reduce(1, *)
        let g = try c.op("_scatter_axis", [a.g, a.aux[0]], ["axis": .int(axis ?? 0), "dim": .int(dim)])
        return [try c.reshape(g, shape)]
    }),
    OpDef("argsort", inputs: ["data"], params: sortParams + [param("dtype", .dtype, .string("float32"))],
          summary: "indices that sort along an axis", forward: { a in
              let (x, axis) = try axisOrFlat(a.ctx, a[0], a.attrs.optInt("axis"), "argsort")
              let out = try a.ctx.empty(x.shape, a.attrs.dtype("dtype")!)
              Kernels.fill(out, sortIndices(x, axis: axis, ascending: a.attrs.bool("is_ascend")).map(Double.init))
              return ForwardResult(out)
          }, vjp: nil),
    OpDef("cumsum", inputs: ["a"], params: [param("axis", .optInt, .null), param("dtype", .optDType, .null)],
          summary: "cumulative sum along an axis (None: flattened)", forward: { a in
              let (x, axis) = try axisOrFlat(a.ctx, a[0], a.attrs.optInt("axis"), "cumsum")
              let n = x.shape[axis], inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
              var v = x.toDoubles()
              for o in 0..<outer { for i in 0..<inner { for j in 1..<max(n, 1) { v[(o * n + j) * inner + i] += v[(o * n + j - 1) * inner + i] } } }
              let out = try a.ctx.empty(x.shape, a.attrs.dtype("dtype") ?? x.dtype)
              Kernels.fill(out, v)
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, shape = a.inputMeta[0].shape
              let axis = try a.attrs.optInt("axis").map { try normAxis($0, shape.count, "cumsum") } ?? 0
              let g = try c.reshape(a.g, a.attrs.optInt("axis") == nil ? [a.g.size] : shape)
              let r = try c.flip(c.op("cumsum", [c.flip(g, axis: axis)], ["axis": .int(axis)]), axis: axis)
              return [try c.cast(c.reshape(r, shape), a.inputMeta[0].dtype)]
          }),
]

/// LayerNorm with the public ops: (out, xhat, inverse std, per-axis broadcast shape).
private func layerNorm(_ c: Context, _ x: NDArray, _ gamma: NDArray, _ beta: NDArray, axis: Int, eps: Double)
    throws -> (out: NDArray, xhat: NDArray, inv: NDArray, kept: [Int]) {
    let kept = x.shape.indices.map { $0 == axis ? x.shape[axis] : 1 }
    let mu = try c.op("mean", [x], ["axis": .int(axis), "keepdims": .bool(true)])
    let xc = try c.sub(x, mu)
    let inv = try c.unary("rsqrt", c.shift(c.op("mean", [c.mul(xc, xc)], ["axis": .int(axis), "keepdims": .bool(true)]), eps))
    let xhat = try c.mul(xc, inv)
    return (try c.add(c.mul(xhat, c.reshape(gamma, kept)), c.reshape(beta, kept)), xhat, inv, kept)
}
