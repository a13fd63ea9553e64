import Glibc

/// The axes an (axis, exclude) pair reduces, normalised.
func reductionAxes(_ axis: [Int]?, exclude: Bool, ndim: Int, op: String) throws -> Set<Int> {
    guard let axis, !axis.isEmpty else { return Set(0..<ndim) }
    var s = Set<Int>()
    for a in axis {
        let n = try normAxis(a, ndim, op)
        guard s.insert(n).inserted else { throw AutogradError(.invalidParameter, "\(op): duplicate axis \(a)") }
    }
    return exclude ? Set(0..<ndim).subtracting(s) : s
}

/// Shapes of a reduction: with reduced axes as 1 (kept) and the output shape ((1,) if empty).
func reducedShapes(_ shape: [Int], _ axes: Set<Int>, keepdims: Bool) -> (kept: [Int], out: [Int]) {
    let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
    if keepdims { return (kept, kept.isEmpty ? [1] : kept) }
    let out = shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    return (kept, out.isEmpty ? [1] : out)
}

private let reduceParams = [param("axis", .axes, .null, "axes to reduce (None: all)"),
                            param("keepdims", .bool, .bool(false)), param("exclude", .bool, .bool(false), "reduce all axes except these")]

private func axesOf(_ a: ForwardArgs) throws -> (Set<Int>, kept: [Int], out: [Int]) {
    let x = a[0]
    let axes = try reductionAxes(a.attrs.axes("axis"), exclude: a.attrs.bool("exclude"), ndim: x.ndim, op: "reduce")
    let s = reducedShapes(x.shape, axes, keepdims: a.attrs.bool("keepdims"))
    return (axes, s.kept, s.out)
}

private func axesOf(_ a: VJPArgs) throws -> (Set<Int>, kept: [Int]) {
    let shape = a.inputMeta[0].shape
    let axes = try reductionAxes(a.attrs.axes("axis"), exclude: a.attrs.bool("exclude"), ndim: shape.count, op: "reduce")
    return (axes, reducedShapes(shape, axes, keepdims: true).kept)
}

private func reduceForward(_ a: ForwardArgs, _ k: ReduceKernel, scale: Bool = false) throws -> ForwardResult {
    let x = a[0]
    let (axes, _, outShape) = try axesOf(a)
    let out = try a.ctx.empty(outShape, x.dtype)
    if (k == .max || k == .min) && x.size == 0 {
        throw AutogradError(.invalidParameter, "cannot take the \(k) of an empty array")
    }
    Kernels.reduce(k, x, axes: axes, out)
    if scale {
        let n = axes.reduce(1) { $0 * x.shape[$1] }
        Kernels.scalar(.div, out, Double(n), reverse: false, out)
    }
    return ForwardResult(out)
}

/// g spread back over the input's shape.
private func spreadGrad(_ a: VJPArgs) throws -> NDArray {
    let shape = a.inputMeta[0].shape
    // broadcast_to reads 0 as "keep"; an empty input simply has an empty gradient.
    if shape.contains(0) { return try a.ctx.zeros(shape, a.g.dtype) }
    return try a.ctx.broadcastTo(a.ctx.reshape(a.g, try axesOf(a).kept), shape)
}

private func reduceOp(_ name: String, _ aliases: [String], _ k: ReduceKernel, scale: Bool = false, saves: Saves, _ summary: String,
                      vjp: @escaping VJPFn) -> OpDef {
    OpDef(name, aliases: aliases, inputs: ["data"], params: reduceParams, summary: summary, saves: saves,
          forward: { try reduceForward($0, k, scale: scale) }, vjp: vjp)
}

private func extremumVJP(_ a: VJPArgs) throws -> [NDArray?] {
    let c = a.ctx
    let kept = try axesOf(a).kept
    // Every tied position gets the full gradient, as MXNet does.
    let mask = try c.compare("broadcast_equal", a.x, c.reshape(a.y, kept))
    return [try c.mul(mask, c.reshape(a.g, kept))]
}

/// Sorted positions along `axis` for topk: (outer, inner) lines, each giving k indices.
private func topkIndices(_ x: NDArray, axis: Int, k: Int, ascending: Bool) -> [Int] {
    let v = x.toDoubles(), n = x.shape[axis]
    let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
    var r = [Int](repeating: 0, count: outer * k * inner)
    var line = [Int](repeating: 0, count: n)
    for o in 0..<outer {
        for i in 0..<inner {
            for j in 0..<n { line[j] = j }
            let at = { (j: Int) in v[(o * n + j) * inner + i] }
            line.sort { p, q in
                let a = at(p), b = at(q)
                return a == b ? p < q : (ascending ? a < b : a > b)
            }
            for j in 0..<k { r[(o * k + j) * inner + i] = line[j] }
        }
    }
    return r
}

let reductionOps: [OpDef] = [
    reduceOp("sum", ["sum_axis"], .sum, saves: .nothing, "sum over axes (no axis: shape (1,))", vjp: { a in
        [try spreadGrad(a)]
    }),
    reduceOp("mean", [], .sum, scale: true, saves: .nothing, "mean over axes", vjp: { a in
        let shape = a.inputMeta[0].shape
        let n = try axesOf(a).0.reduce(1) { $0 * shape[$1] }
        return [try a.ctx.scale(spreadGrad(a), 1 / Double(max(n, 1)))]
    }),
    reduceOp("max", ["max_axis"], .max, saves: .both, "maximum over axes (ties all get the gradient)", vjp: extremumVJP),
    reduceOp("min", ["min_axis"], .min, saves: .both, "minimum over axes (ties all get the gradient)", vjp: extremumVJP),
    reduceOp("prod", [], .prod, saves: .both, "product over axes", vjp: { a in
        let c = a.ctx, kept = try axesOf(a).kept
        return [try c.div(c.mul(c.reshape(a.g, kept), c.reshape(a.y, kept)), a.x)]
    }),
    OpDef("norm", inputs: ["data"],
          params: [param("ord", .int, .int(2), "1 or 2"), param("axis", .axes, .null), param("out_dtype", .optDType, .null),
                   param("keepdims", .bool, .bool(false))],
          summary: "L1 or L2 norm over axes (no axis: all, shape (1,))", saves: .both, forward: { a in
              let x = a[0], ord = a.attrs.int("ord")
              guard ord == 1 || ord == 2 else { throw AutogradError(.invalidParameter, "norm: ord must be 1 or 2, got \(ord)") }
              guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "norm: requires a float dtype, got \(x.dtype.rawValue)") }
              let axes = try reductionAxes(a.attrs.axes("axis"), exclude: false, ndim: x.ndim, op: "norm")
              let shapes = reducedShapes(x.shape, axes, keepdims: a.attrs.bool("keepdims"))
              let t = try a.ctx.empty(x.shape, x.dtype)
              Kernels.unary(x, t, ord == 1 ? { abs($0) } : { $0 * $0 })
              var out = try a.ctx.empty(shapes.out, x.dtype)
              Kernels.reduce(.sum, t, axes: axes, out)
              if ord == 2 { Kernels.unary(out, out) { $0.squareRoot() } }
              if let d = a.attrs.dtype("out_dtype"), d != x.dtype {
                  let o = try a.ctx.empty(shapes.out, d)
                  Kernels.convert(out, into: o)
                  out = o
              }
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, x = a.x
              let axes = try reductionAxes(a.attrs.axes("axis"), exclude: false, ndim: x.ndim, op: "norm")
              let kept = reducedShapes(x.shape, axes, keepdims: true).kept
              let g = try c.cast(c.reshape(a.g, kept), x.dtype)
              if a.attrs.int("ord") == 1 { return [try c.mul(g, c.unary("sign", x))] }
              return [try c.div(c.mul(g, x), c.cast(c.reshape(a.y, kept), x.dtype))]
          }),
    OpDef("argmax", inputs: ["data"], params: [param("axis", .optInt, .null), param("keepdims", .bool, .bool(false))],
          summary: "index of the maximum (float32; no axis: over the flattened array)",
          forward: { a in try argForward(a, max: true) }, vjp: nil),
    OpDef("argmin", inputs: ["data"], params: [param("axis", .optInt, .null), param("keepdims", .bool, .bool(false))],
          summary: "index of the minimum (float32)", forward: { a in try argForward(a, max: false) }, vjp: nil),
    OpDef("topk", inputs: ["data"],
          params: [param("axis", .optInt, .int(-1)), param("k", .int, .int(1)),
                   param("ret_typ", .string(["indices", "value", "both", "mask"]), .string("indices")),
                   param("is_ascend", .bool, .bool(false)), param("dtype", .dtype, .string("float32"), "dtype of indices")],
          summary: "k largest (or smallest) along an axis; outputs depend on ret_typ", outputs: 0, saves: .nothing, forward: { a in
              var x = a[0]
              var axis: Int
              if let ax = a.attrs.optInt("axis") { axis = try normAxis(ax, x.ndim, "topk") } else {
                  x = try a.ctx.pause { try a.ctx.reshape(x, [x.size]) }
                  axis = 0
              }
              let n = x.shape[axis], k = a.attrs.int("k")
              guard k >= 1 && k <= n else { throw AutogradError(.invalidParameter, "topk: k must be in [1, \(n)], got \(k)") }
              let idx = topkIndices(x, axis: axis, k: k, ascending: a.attrs.bool("is_ascend"))
              var outShape = x.shape
              outShape[axis] = k
              let indices = try a.ctx.empty(outShape, a.attrs.dtype("dtype")!)
              Kernels.fill(indices, idx.map(Double.init))
              switch a.attrs.string("ret_typ") {
              case "indices": return ForwardResult(indices)
              case "mask":
                  let m = try a.ctx.zeros(x.shape, x.dtype)
                  let ones = try a.ctx.ones(outShape, x.dtype)
                  Kernels.scatterAxisAdd(ones, idx, axis: axis, into: m)
                  return ForwardResult(m)
              default:
                  let v = try a.ctx.empty(outShape, x.dtype)
                  Kernels.gatherAxis(x, idx, axis: axis, into: v)
                  let idxF = try a.ctx.empty(outShape, .float64)
                  Kernels.fill(idxF, idx.map(Double.init))
                  let outs = a.attrs.string("ret_typ") == "both" ? [v, indices] : [v]
                  return ForwardResult(outs, aux: [idxF])
              }
          }, vjp: { a in
              let rt = a.attrs.string("ret_typ")
              guard rt == "value" || rt == "both", let idx = a.aux.first else { return [nil] }
              let c = a.ctx, shape = a.inputMeta[0].shape
              let axis = try a.attrs.optInt("axis").map { try normAxis($0, shape.count, "topk") }
              if let axis {
                  return [try c.op("_scatter_axis", [a.g, idx], ["axis": .int(axis), "dim": .int(shape[axis])])]
              }
              let flat = try c.op("_scatter_axis", [a.g, idx], ["axis": .int(0), "dim": .int(shape.reduce(1, *))])
              return [try c.reshape(flat, shape)]
          }),
]

private func argForward(_ a: ForwardArgs, max: Bool) throws -> ForwardResult {
    var x = a[0]
    let keep = a.attrs.bool("keepdims")
    guard x.size > 0 else { throw AutogradError(.invalidParameter, "\(max ? "argmax" : "argmin") of an empty array") }
    guard let ax = a.attrs.optInt("axis") else {
        x = try a.ctx.pause { try a.ctx.reshape(x, [x.size]) }
        let out = try a.ctx.empty(keep ? Array(repeating: 1, count: a[0].ndim) : [1], .float32)
        Kernels.argReduce(x, axis: 0, max: max, out)
        return ForwardResult(out)
    }
    let axis = try normAxis(ax, x.ndim, max ? "argmax" : "argmin")
    let shapes = reducedShapes(x.shape, [axis], keepdims: keep)
    let out = try a.ctx.empty(shapes.out, .float32)
    Kernels.argReduce(x, axis: axis, max: max, out)
    return ForwardResult(out)
}
