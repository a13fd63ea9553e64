/// Shapes of a dot product: the 2-D views (rows, cols) as stored, and the output shape.
private func dotShapes(_ l: [Int], _ r: [Int], ta: Bool, tb: Bool) throws -> (m: Int, k: Int, n: Int, out: [Int]) {
    guard !l.isEmpty && !r.isEmpty else { throw AutogradError(.shapeMismatch, "dot: 0-d operands are not supported") }
    let lk = ta ? l[0] : l[l.count - 1], rk = tb ? r[r.count - 1] : r[0]
    guard lk == rk else {
        throw AutogradError(.shapeMismatch, "dot: shapes \(shapeText(l)) and \(shapeText(r)) are not aligned (\(lk) vs \(rk))")
    }
    let mDims = ta ? Array(l.dropFirst()) : Array(l.dropLast())
    let nDims = tb ? Array(r.dropLast()) : Array(r.dropFirst())
    let out = mDims + nDims
    return (mDims.reduce(1, *), lk, nDims.reduce(1, *), out.isEmpty ? [1] : out)
}

private func floatOnly(_ op: String, _ xs: [NDArray]) throws {
    for (i, x) in xs.enumerated() {
        try sameDType(xs[0], x, input: i)
        guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(op): requires float32 or float64, got \(x.dtype.rawValue)") }
    }
}

extension Context {
    func dot(_ a: NDArray, _ b: NDArray, ta: Bool = false, tb: Bool = false, batch: Bool = false) throws -> NDArray {
        try op(batch ? "batch_dot" : "dot", [a, b], ["transpose_a": .bool(ta), "transpose_b": .bool(tb)])
    }
}

/// Gradients of C = op(A)·op(B) for the stored A, B (2-D, or 3-D batched), given G = dC.
private func matmulVJP(_ c: Context, _ A: NDArray, _ B: NDArray, _ G: NDArray, ta: Bool, tb: Bool, batch: Bool,
                       needs: [Bool]) throws -> [NDArray?] {
    var dA: NDArray? = nil, dB: NDArray? = nil
    if needs[0] {
        dA = ta ? try c.dot(B, G, ta: tb, tb: true, batch: batch) : try c.dot(G, B, ta: false, tb: !tb, batch: batch)
    }
    if needs[1] {
        dB = tb ? try c.dot(G, A, ta: true, tb: ta, batch: batch) : try c.dot(A, G, ta: !ta, tb: false, batch: batch)
    }
    return [dA, dB]
}

private let transposeParams = [param("transpose_a", .bool, .bool(false)), param("transpose_b", .bool, .bool(false))]

let linalgOps: [OpDef] = [
    OpDef("dot", inputs: ["lhs", "rhs"], params: transposeParams + [param("forward_stype", .optDType, .null, "ignored (dense only)")],
          summary: "matrix product contracting lhs's last (first if transpose_a) axis with rhs's first (last if transpose_b)",
          saves: .inputs, forward: { a in
              let l = a[0], r = a[1], ta = a.attrs.bool("transpose_a"), tb = a.attrs.bool("transpose_b")
              try floatOnly("dot", [l, r])
              let s = try dotShapes(l.shape, r.shape, ta: ta, tb: tb)
              let out = try a.ctx.empty(s.out, l.dtype)
              BLAS.gemm(l, r, out, m: s.m, n: s.n, k: s.k, transA: ta, transB: tb)
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, l = a.input(0), r = a.input(1), ta = a.attrs.bool("transpose_a"), tb = a.attrs.bool("transpose_b")
              let s = try dotShapes(l.shape, r.shape, ta: ta, tb: tb)
              let A = try c.reshape(l, ta ? [s.k, s.m] : [s.m, s.k])
              let B = try c.reshape(r, tb ? [s.n, s.k] : [s.k, s.n])
              let G = try c.reshape(a.g, [s.m, s.n])
              let d = try matmulVJP(c, A, B, G, ta: ta, tb: tb, batch: false, needs: a.needs)
              return [try d[0].map { try c.reshape($0, l.shape) }, try d[1].map { try c.reshape($0, r.shape) }]
          }),
    OpDef("batch_dot", inputs: ["lhs", "rhs"], params: transposeParams,
          summary: "batched matrix product of (B,n,k) and (B,k,m)", saves: .inputs, forward: { a in
              let l = a[0], r = a[1], ta = a.attrs.bool("transpose_a"), tb = a.attrs.bool("transpose_b")
              try floatOnly("batch_dot", [l, r])
              guard l.ndim == 3 && r.ndim == 3 && l.shape[0] == r.shape[0] else {
                  throw AutogradError(.shapeMismatch, "batch_dot: expects 3-D operands with equal batch size, got \(shapeText(l.shape)) and \(shapeText(r.shape))")
              }
              let s = try dotShapes(Array(l.shape.dropFirst()), Array(r.shape.dropFirst()), ta: ta, tb: tb)
              let out = try a.ctx.empty([l.shape[0], s.m, s.n], l.dtype)
              BLAS.gemm(l, r, out, m: s.m, n: s.n, k: s.k, transA: ta, transB: tb, batch: l.shape[0])
              return ForwardResult(out)
          }, vjp: { a in
              try matmulVJP(a.ctx, a.input(0), a.input(1), a.g, ta: a.attrs.bool("transpose_a"), tb: a.attrs.bool("transpose_b"),
                            batch: true, needs: a.needs)
          }),
    OpDef("FullyConnected", inputs: ["data", "weight", "bias"], minInputs: 2,
          params: [param("num_hidden", .int, nil), param("no_bias", .bool, .bool(false)), param("flatten", .bool, .bool(true))],
          summary: "x·Wᵀ + b; flatten collapses all but the first axis, otherwise applies to the last axis", saves: .inputs,
          forward: { a in
              let x = a[0], w = a[1], h = a.attrs.int("num_hidden"), noBias = a.attrs.bool("no_bias")
              guard a.inputs.count == (noBias ? 2 : 3) else {
                  throw AutogradError(.invalidArgument, "FullyConnected: expects \(noBias ? 2 : 3) inputs with no_bias=\(noBias), got \(a.inputs.count)")
              }
              try floatOnly("FullyConnected", a.inputs)
              guard x.ndim >= 1 else { throw AutogradError(.shapeMismatch, "FullyConnected: data must have at least one axis") }
              let (m, k, outShape) = fcShapes(x.shape, h, flatten: a.attrs.bool("flatten"))
              guard w.shape == [h, k] else {
                  throw AutogradError(.shapeMismatch, "Shape inconsistent, Provided = \(shapeText(w.shape)), inferred shape=(\(h),\(k))")
              }
              if !noBias, a[2].shape != [h] {
                  throw AutogradError(.shapeMismatch, "Shape inconsistent, Provided = \(shapeText(a[2].shape)), inferred shape=(\(h),)")
              }
              let out = try a.ctx.empty(outShape, x.dtype)
              BLAS.gemm(x, w, out, m: m, n: h, k: k, transA: false, transB: true)
              if !noBias {
                  let bias2 = NDArray(context: a.ctx, storage: a[2].storage, shape: [1, h], dtype: x.dtype)
                  let out2 = NDArray(context: a.ctx, storage: out.storage, shape: [m, h], dtype: x.dtype)
                  Kernels.binary(.add, out2, bias2, out2)
              }
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, x = a.input(0), w = a.input(1), h = a.attrs.int("num_hidden")
              let (m, k, _) = fcShapes(x.shape, h, flatten: a.attrs.bool("flatten"))
              let g2 = try c.reshape(a.g, [m, h])
              let dx = a.needs[0] ? try c.reshape(c.dot(g2, w), x.shape) : nil
              let dw = a.needs[1] ? try c.dot(g2, c.reshape(x, [m, k]), ta: true) : nil
              let db = a.needs.count > 2 && a.needs[2] ? try c.sum(g2, axes: [0]) : nil
              return [dx, dw, db]
          }),
]

private func fcShapes(_ x: [Int], _ h: Int, flatten: Bool) -> (m: Int, k: Int, out: [Int]) {
    if flatten {
        let k = x.dropFirst().reduce(1, *)
        return (x[0], k, [x[0], h])
    }
    let k = x[x.count - 1]
    return (x.dropLast().reduce(1, *), k, Array(x.dropLast()) + [h])
}
