/// MXNet's reshape with special codes 0, -1, -2, -3, -4 (and `reverse`).
func inferReshape(_ src: [Int], _ spec: [Int], reverse: Bool) throws -> [Int] {
    let s = reverse ? Array(src.reversed()) : src
    var t = reverse ? Array(spec.reversed()) : spec
    if reverse {
        // -4 takes the next two values; reversing must keep each triple's order.
        var i = 0
        var fixed: [Int] = []
        while i < t.count {
            if i + 2 < t.count && t[i + 2] == -4 { fixed += [-4, t[i + 1], t[i]]; i += 3 } else { fixed.append(t[i]); i += 1 }
        }
        t = fixed
    }
    var out: [Int] = []
    var i = 0, j = 0
    func bad(_ why: String) -> AutogradError {
        AutogradError(.invalidParameter, "reshape: \(why) (shape \(shapeText(spec)) for input \(shapeText(src)))")
    }
    while j < t.count {
        let d = t[j]
        switch d {
        case 0:
            guard i < s.count else { throw bad("0 refers past the input's dimensions") }
            out.append(s[i]); i += 1
        case -1:
            out.append(-1); i += 1
        case -2:
            out += s[min(i, s.count)...]; i = s.count
        case -3:
            guard i + 1 < s.count else { throw bad("-3 needs two input dimensions") }
            out.append(s[i] * s[i + 1]); i += 2
        case -4:
            guard j + 2 < t.count, i < s.count else { throw bad("-4 needs two following values") }
            var d1 = t[j + 1], d2 = t[j + 2]
            if d1 == -1 { guard d2 > 0 else { throw bad("-4 split") }; d1 = s[i] / d2 }
            if d2 == -1 { guard d1 > 0 else { throw bad("-4 split") }; d2 = s[i] / d1 }
            let (p, o) = d1.multipliedReportingOverflow(by: d2)
            guard !o, p == s[i] else { throw bad("-4 split \(d1)x\(d2) does not match \(s[i])") }
            out += [d1, d2]; i += 1; j += 2
        default:
            guard d > 0 else { throw bad("invalid dimension \(d)") }
            out.append(d); i += 1
        }
        j += 1
    }
    let total = src.reduce(1, *)
    guard let known = checkedProduct(out.filter { $0 != -1 }) else {
        throw AutogradError(.shapeMismatch, "target shape size is larger than the current shape")
    }
    let unknown = out.filter { $0 == -1 }.count
    guard unknown <= 1 else { throw bad("more than one -1") }
    if unknown == 1 {
        guard known > 0, total % known == 0 else {
            throw AutogradError(.shapeMismatch, known > total ? "target shape size is larger than the current shape" : "reshape: cannot infer -1 in \(shapeText(spec)) for input \(shapeText(src))")
        }
        out = out.map { $0 == -1 ? total / known : $0 }
    }
    guard out.reduce(1, *) == total else {
        throw AutogradError(.shapeMismatch, out.reduce(1, *) > total ? "target shape size is larger than the current shape"
            : "Target shape size is different to source. Target: \(shapeText(reverse ? out.reversed() : out)) Source: \(shapeText(src))")
    }
    return reverse ? out.reversed() : out
}

/// A same-data copy of `x` with a new shape.
func reshaped(_ c: Context, _ x: NDArray, _ shape: [Int]) throws -> ForwardResult {
    let out = try c.empty(shape, x.dtype)
    Kernels.assign(out, from: x)
    return ForwardResult(out)
}

/// Gradient of every reshape-like op: reshape back.
let reshapeBack: VJPFn = { a in [try a.ctx.reshape(a.g, a.inputMeta[0].shape)] }

/// Strided view geometry of MXNet `slice`: offset, strides and output shape.
func sliceGeometry(_ shape: [Int], begin: [Int?], end: [Int?], step: [Int?]) throws -> (offset: Int, strides: [Int], shape: [Int]) {
    guard begin.count == end.count, begin.count <= shape.count, step.isEmpty || step.count == begin.count else {
        throw AutogradError(.invalidParameter, "slice: begin \(begin.count), end \(end.count) and step \(step.count) must have equal length at most the rank \(shape.count)")
    }
    let cs = contiguousStrides(shape)
    var offset = 0
    var strides = cs, out = shape
    for i in 0..<begin.count {
        let d = shape[i], st = step.isEmpty ? 1 : (step[i] ?? 1)
        guard st != 0 else { throw AutogradError(.invalidParameter, "slice: step cannot be 0") }
        var b: Int, e: Int
        if st > 0 {
            b = begin[i].map { $0 < 0 ? $0 + d : $0 } ?? 0
            e = end[i].map { $0 < 0 ? $0 + d : $0 } ?? d
            b = min(max(b, 0), d); e = min(max(e, 0), d)
            out[i] = e > b ? (e - b + st - 1) / st : 0
        } else {
            b = begin[i].map { $0 < 0 ? $0 + d : $0 } ?? d - 1
            e = end[i].map { $0 < 0 ? $0 + d : $0 } ?? -1
            b = min(max(b, -1), d - 1); e = min(max(e, -1), d - 1)
            out[i] = b > e ? (b - e - st - 1) / -st : 0
        }
        if out[i] > 0 { offset += b * cs[i] }
        strides[i] = cs[i] * st
    }
    return (offset, strides, out)
}

private let sliceParams = [param("begin", .optInts, nil), param("end", .optInts, nil), param("step", .optInts, .list([]))]

private func sliceAxisAsSlice(_ attrs: Attrs, ndim: Int) throws -> (begin: [Int?], end: [Int?]) {
    let axis = try normAxis(attrs.int("axis"), ndim, "slice_axis")
    var b = [Int?](repeating: nil, count: axis + 1), e = b
    b[axis] = attrs.int("begin")
    e[axis] = attrs.optInt("end")
    return (b, e)
}

private func sliceForward(_ a: ForwardArgs, begin: [Int?], end: [Int?], step: [Int?]) throws -> ForwardResult {
    let x = a[0]
    let g = try sliceGeometry(x.shape, begin: begin, end: end, step: step)
    let out = try a.ctx.empty(g.shape, x.dtype)
    Kernels.stridedCopy(x, offset: g.offset, strides: g.strides, into: out)
    return ForwardResult(out)
}

extension Context {
    /// The adjoint of slice: g placed into zeros of `shape`.
    func sliceBackward(_ g: NDArray, shape: [Int], begin: [Int?], end: [Int?], step: [Int?]) throws -> NDArray {
        let l = { (v: [Int?]) in OpParam.list(v.map { $0.map { .int($0) } ?? .null }) }
        return try op("_slice_backward", [g], ["shape": .list(shape.map { .int($0) }), "begin": l(begin), "end": l(end), "step": l(step)])
    }
    func sliceAxis(_ x: NDArray, axis: Int, begin: Int, end: Int) throws -> NDArray {
        try op("slice_axis", [x], ["axis": .int(axis), "begin": .int(begin), "end": .int(end)])
    }
    func concat(_ xs: [NDArray], dim: Int) throws -> NDArray { try op("concat", xs, ["dim": .int(dim)]) }
}

/// Concatenation shapes and checks.
private func concatShape(_ xs: [NDArray], axis: Int, op: String) throws -> [Int] {
    var out = xs[0].shape
    for (i, x) in xs.enumerated().dropFirst() {
        try sameDType(xs[0], x, input: i)
        guard x.ndim == out.count, x.shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == out[$0.offset] }) else {
            throw AutogradError(.shapeMismatch, "\(op): input \(i) has shape \(shapeText(x.shape)), incompatible with \(shapeText(xs[0].shape)) along axis \(axis)")
        }
        out[axis] += x.shape[axis]
    }
    return out
}

/// tile's padded input shape and reps.
private func tileShapes(_ shape: [Int], _ reps: [Int]) -> (s: [Int], r: [Int]) {
    let n = max(shape.count, reps.count)
    return (Array(repeating: 1, count: n - shape.count) + shape, Array(repeating: 1, count: n - reps.count) + reps)
}

let shapeOps: [OpDef] = [
    OpDef("reshape", aliases: ["Reshape"], inputs: ["data"],
          params: [param("shape", .ints, nil, "target shape with MXNet codes 0,-1,-2,-3,-4"), param("reverse", .bool, .bool(false))],
          summary: "same data, new shape", forward: { a in
              try reshaped(a.ctx, a[0], inferReshape(a[0].shape, a.attrs.ints("shape"), reverse: a.attrs.bool("reverse")))
          }, vjp: reshapeBack),
    OpDef("flatten", aliases: ["Flatten"], inputs: ["data"], summary: "collapse all axes but the first", forward: { a in
        let s = a[0].shape
        return try reshaped(a.ctx, a[0], s.isEmpty ? [1, 1] : [s[0], s.dropFirst().reduce(1, *)])
    }, vjp: reshapeBack),
    OpDef("expand_dims", inputs: ["data"], params: [param("axis", .int, nil)], summary: "insert an axis of size 1", forward: { a in
        var s = a[0].shape
        let ax = a.attrs.int("axis")
        let n = ax < 0 ? ax + s.count + 1 : ax
        guard n >= 0 && n <= s.count else { throw AutogradError(.invalidParameter, "expand_dims: axis \(ax) out of range for rank \(s.count)") }
        s.insert(1, at: n)
        return try reshaped(a.ctx, a[0], s)
    }, vjp: reshapeBack),
    OpDef("squeeze", inputs: ["data"], params: [param("axis", .axes, .null)], summary: "remove axes of size 1", forward: { a in
        let s = a[0].shape
        var drop: Set<Int>
        if let axes = a.attrs.axes("axis") {
            drop = Set(try axes.map { try normAxis($0, s.count, "squeeze") })
            for d in drop where s[d] != 1 {
                throw AutogradError(.invalidParameter, "squeeze: cannot select an axis to squeeze out which has size \(s[d]) not equal to one")
            }
        } else {
            drop = Set(s.indices.filter { s[$0] == 1 })
        }
        let out = s.indices.filter { !drop.contains($0) }.map { s[$0] }
        return try reshaped(a.ctx, a[0], out.isEmpty ? [1] : out)
    }, vjp: reshapeBack),
    OpDef("transpose", inputs: ["data"], params: [param("axes", .ints, .list([]), "permutation (default: reverse)")],
          summary: "permute axes", forward: { a in
              let x = a[0]
              var axes = a.attrs.ints("axes")
              if axes.isEmpty { axes = Array(x.shape.indices.reversed()) }
              axes = try axes.map { try normAxis($0, x.ndim, "transpose") }
              guard axes.count == x.ndim, Set(axes).count == x.ndim else {
                  throw AutogradError(.invalidParameter, "transpose: axes \(axes) is not a permutation of \(x.ndim) axes")
              }
              let cs = contiguousStrides(x.shape)
              let out = try a.ctx.empty(axes.map { x.shape[$0] }, x.dtype)
              Kernels.stridedCopy(x, offset: 0, strides: axes.map { cs[$0] }, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              let n = a.inputMeta[0].shape.count
              var axes = a.attrs.ints("axes")
              if axes.isEmpty { axes = Array((0..<n).reversed()) }
              axes = axes.map { $0 < 0 ? $0 + n : $0 }
              var inv = [Int](repeating: 0, count: n)
              for (i, p) in axes.enumerated() { inv[p] = i }
              return [try a.ctx.op("transpose", [a.g], ["axes": .list(inv.map { .int($0) })])]
          }),
    OpDef("swapaxes", aliases: ["SwapAxis"], inputs: ["data"], params: [param("dim1", .int, .int(0)), param("dim2", .int, .int(0))],
          summary: "swap two axes", forward: { a in
              let x = a[0]
              let d1 = try normAxis(a.attrs.int("dim1"), x.ndim, "swapaxes"), d2 = try normAxis(a.attrs.int("dim2"), x.ndim, "swapaxes")
              var perm = Array(x.shape.indices)
              perm.swapAt(d1, d2)
              let cs = contiguousStrides(x.shape)
              let out = try a.ctx.empty(perm.map { x.shape[$0] }, x.dtype)
              Kernels.stridedCopy(x, offset: 0, strides: perm.map { cs[$0] }, into: out)
              return ForwardResult(out)
          }, vjp: { a in [try a.ctx.op("swapaxes", [a.g], ["dim1": .int(a.attrs.int("dim1")), "dim2": .int(a.attrs.int("dim2"))])] }),
    OpDef("slice", aliases: ["crop"], inputs: ["data"], params: sliceParams,
          summary: "basic slicing: begin/end/step tuples (None allowed, negative step allowed)", forward: { a in
              try sliceForward(a, begin: a.attrs.optInts("begin"), end: a.attrs.optInts("end"), step: a.attrs.optInts("step"))
          }, vjp: { a in
              [try a.ctx.sliceBackward(a.g, shape: a.inputMeta[0].shape, begin: a.attrs.optInts("begin"), end: a.attrs.optInts("end"),
                                       step: a.attrs.optInts("step"))]
          }),
    OpDef("slice_axis", inputs: ["data"], params: [param("axis", .int, nil), param("begin", .int, nil), param("end", .optInt, nil)],
          summary: "slice along one axis (end may be None)", forward: { a in
              let (b, e) = try sliceAxisAsSlice(a.attrs, ndim: a[0].ndim)
              return try sliceForward(a, begin: b, end: e, step: [])
          }, vjp: { a in
              let (b, e) = try sliceAxisAsSlice(a.attrs, ndim: a.inputMeta[0].shape.count)
              return [try a.ctx.sliceBackward(a.g, shape: a.inputMeta[0].shape, begin: b, end: e, step: [])]
          }),
    OpDef("_slice_backward", inputs: ["grad"], params: [param("shape", .ints, nil)] + sliceParams,
          summary: "adjoint of slice: grad placed into zeros of shape", hidden: true, forward: { a in
              let g = a[0], shape = a.attrs.ints("shape")
              let geo = try sliceGeometry(shape, begin: a.attrs.optInts("begin"), end: a.attrs.optInts("end"), step: a.attrs.optInts("step"))
              guard geo.shape == g.shape else { throw AutogradError(.shapeMismatch, "_slice_backward: grad shape \(shapeText(g.shape)) != slice shape \(shapeText(geo.shape))") }
              let out = try a.ctx.zeros(shape, g.dtype)
              Kernels.stridedScatter(g, into: out, offset: geo.offset, strides: geo.strides)
              return ForwardResult(out)
          }, vjp: { a in
              [try a.ctx.op("slice", [a.g], ["begin": opList(a.attrs.optInts("begin")), "end": opList(a.attrs.optInts("end")),
                                              "step": opList(a.attrs.optInts("step"))])]
          }),
    OpDef("concat", aliases: ["Concat"], inputs: ["data"], variadic: true, params: [param("dim", .int, .int(1))],
          summary: "join along an axis (default dim=1)", forward: { a in
              let axis = try normAxis(a.attrs.int("dim"), a[0].ndim, "concat")
              let out = try a.ctx.empty(concatShape(a.inputs, axis: axis, op: "concat"), a[0].dtype)
              Kernels.concat(a.inputs, axis: axis, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              let axis = try normAxis(a.attrs.int("dim"), a.inputMeta[0].shape.count, "concat")
              var start = 0
              return try a.inputMeta.enumerated().map { i, m in
                  defer { start += m.shape[axis] }
                  return a.needs[i] ? try a.ctx.sliceAxis(a.g, axis: axis, begin: start, end: start + m.shape[axis]) : nil
              }
          }),
    OpDef("stack", inputs: ["data"], variadic: true, params: [param("axis", .int, .int(0))],
          summary: "join along a new axis", forward: { a in
              let x = a[0]
              let ax = a.attrs.int("axis"), axis = ax < 0 ? ax + x.ndim + 1 : ax
              guard axis >= 0 && axis <= x.ndim else { throw AutogradError(.invalidParameter, "stack: axis \(ax) out of range") }
              var one = x.shape
              one.insert(1, at: axis)
              let parts = a.inputs.map { NDArray(context: a.ctx, storage: $0.storage, shape: $0.shape == x.shape ? one : $0.shape, dtype: $0.dtype) }
              for (i, p) in a.inputs.enumerated() where p.shape != x.shape {
                  throw AutogradError(.shapeMismatch, "stack: input \(i) has shape \(shapeText(p.shape)), expected \(shapeText(x.shape))")
              }
              let out = try a.ctx.empty(concatShape(parts, axis: axis, op: "stack"), x.dtype)
              Kernels.concat(parts, axis: axis, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              let shape = a.inputMeta[0].shape
              let ax = a.attrs.int("axis"), axis = ax < 0 ? ax + shape.count + 1 : ax
              return try a.inputMeta.indices.map { i in
                  a.needs[i] ? try a.ctx.reshape(a.ctx.sliceAxis(a.g, axis: axis, begin: i, end: i + 1), shape) : nil
              }
          }),
    OpDef("split", aliases: ["SliceChannel"], inputs: ["data"],
          params: [param("num_outputs", .int, nil), param("axis", .int, .int(1)), param("squeeze_axis", .bool, .bool(false))],
          summary: "split into num_outputs equal parts along an axis", outputs: 0, forward: { a in
              let x = a[0], n = a.attrs.int("num_outputs")
              let axis = try normAxis(a.attrs.int("axis"), x.ndim, "split")
              guard n >= 1, x.shape[axis] % n == 0 else {
                  throw AutogradError(.invalidParameter, "split: axis size \(x.shape[axis]) is not divisible by num_outputs \(n)")
              }
              let part = x.shape[axis] / n, squeeze = a.attrs.bool("squeeze_axis")
              guard !squeeze || part == 1 else { throw AutogradError(.invalidParameter, "split: squeeze_axis needs parts of size 1, got \(part)") }
              var outs: [NDArray] = []
              for i in 0..<n {
                  var b = [Int?](repeating: nil, count: axis + 1), e = b
                  b[axis] = i * part; e[axis] = (i + 1) * part
                  var y = try sliceForward(a, begin: b, end: e, step: []).outputs[0]
                  if squeeze {
                      var s = y.shape
                      s.remove(at: axis)
                      y = NDArray(context: a.ctx, storage: y.storage, shape: s.isEmpty ? [1] : s, dtype: y.dtype)
                  }
                  outs.append(y)
              }
              return ForwardResult(outs)
          }, vjp: { a in
              let shape = a.inputMeta[0].shape
              let axis = try normAxis(a.attrs.int("axis"), shape.count, "split")
              var part = shape
              part[axis] /= a.attrs.int("num_outputs")
              return [try a.ctx.concat(a.grads.map { try a.ctx.reshape($0, part) }, dim: axis)]
          }),
    OpDef("broadcast_to", inputs: ["data"], params: [param("shape", .ints, nil, "target shape (0 keeps the input size)")],
          summary: "broadcast to a shape of the same rank", forward: { a in
              let x = a[0]
              var target = a.attrs.ints("shape")
              guard target.count == x.ndim else {
                  throw AutogradError(.shapeMismatch, "Operand of shape \(shapeText(x.shape)) cannot be broadcasted to \(shapeText(target))")
              }
              for i in target.indices where target[i] == 0 { target[i] = x.shape[i] }
              for i in target.indices where x.shape[i] != target[i] && x.shape[i] != 1 {
                  throw AutogradError(.shapeMismatch, "Operand of shape \(shapeText(x.shape)) cannot be broadcasted to \(shapeText(target))")
              }
              let out = try a.ctx.empty(target, x.dtype)
              Kernels.stridedCopy(x, offset: 0, strides: broadcastStrides(x.shape, to: target), into: out)
              return ForwardResult(out)
          }, vjp: { a in [a.g] }),
    OpDef("broadcast_like", inputs: ["lhs", "rhs"], summary: "broadcast lhs to rhs's shape", forward: { a in
        let x = a[0], target = a[1].shape
        guard target.count == x.ndim, target.indices.allSatisfy({ x.shape[$0] == target[$0] || x.shape[$0] == 1 }) else {
            throw AutogradError(.shapeMismatch, "Operand of shape \(shapeText(x.shape)) cannot be broadcasted to \(shapeText(target))")
        }
        let out = try a.ctx.empty(target, x.dtype)
        Kernels.stridedCopy(x, offset: 0, strides: broadcastStrides(x.shape, to: target), into: out)
        return ForwardResult(out)
    }, vjp: { a in [a.g, nil] }),
    OpDef("tile", inputs: ["data"], params: [param("reps", .ints, nil)], summary: "repeat the whole array along each axis", forward: { a in
        let x = a[0]
        let reps = a.attrs.ints("reps")
        guard reps.allSatisfy({ $0 >= 0 }) else { throw AutogradError(.invalidParameter, "tile: reps must be non-negative") }
        let (s, r) = tileShapes(x.shape, reps)
        let cs = contiguousStrides(s)
        var inter: [Int] = [], strides: [Int] = []
        for i in s.indices { inter += [r[i], s[i]]; strides += [0, cs[i]] }
        let out = try a.ctx.empty(inter, x.dtype)
        Kernels.stridedCopy(x, offset: 0, strides: strides, into: out)
        return ForwardResult([NDArray(context: a.ctx, storage: out.storage, shape: s.indices.map { s[$0] * r[$0] }, dtype: x.dtype)])
    }, vjp: { a in
        let shape = a.inputMeta[0].shape
        let (s, r) = tileShapes(shape, a.attrs.ints("reps"))
        var inter: [Int] = []
        for i in s.indices { inter += [r[i], s[i]] }
        let c = a.ctx
        return [try c.reshape(c.sum(c.reshape(a.g, inter), axes: s.indices.map { 2 * $0 }), shape)]
    }),
    OpDef("repeat", inputs: ["data"], params: [param("repeats", .int, nil), param("axis", .optInt, .null)],
          summary: "repeat each element (along an axis, or of the flattened array)", forward: { a in
              let x = a[0], k = a.attrs.int("repeats")
              guard k >= 0 else { throw AutogradError(.invalidParameter, "repeat: repeats must be non-negative") }
              let (inter, strides, final) = try repeatGeometry(x.shape, k, a.attrs.optInt("axis"))
              let out = try a.ctx.empty(inter, x.dtype)
              Kernels.stridedCopy(x, offset: 0, strides: strides, into: out)
              return ForwardResult([NDArray(context: a.ctx, storage: out.storage, shape: final, dtype: x.dtype)])
          }, vjp: { a in
              let shape = a.inputMeta[0].shape, c = a.ctx
              let (inter, _, _) = try repeatGeometry(shape, a.attrs.int("repeats"), a.attrs.optInt("axis"))
              let kAxis = try a.attrs.optInt("axis").map { try normAxis($0, shape.count, "repeat") + 1 } ?? 1
              return [try c.reshape(c.sum(c.reshape(a.g, inter), axes: [kAxis]), shape)]
          }),
    OpDef("BlockGrad", aliases: ["stop_gradient"], inputs: ["data"], summary: "identity forward, zero gradient", forward: { a in
        try reshaped(a.ctx, a[0], a[0].shape)
    }, vjp: { _ in [nil] }),
    OpDef("_copy", aliases: ["copy", "identity"], inputs: ["data"], summary: "a copy", forward: { a in
        try reshaped(a.ctx, a[0], a[0].shape)
    }, vjp: { a in [a.g] }),
    OpDef("_grad_link", inputs: ["grad", "variable"], summary: "grad, recorded as depending on variable (zero derivative)",
          hidden: true, forward: { a in try reshaped(a.ctx, a[0], a[0].shape) }, vjp: { a in [a.g, nil] }),
    OpDef("make_loss", aliases: ["MakeLoss"], inputs: ["data"], summary: "identity whose gradient ignores the head gradient (ones)",
          forward: { a in try reshaped(a.ctx, a[0], a[0].shape) }, vjp: { a in [try a.ctx.ones(a.g.shape, a.g.dtype)] }),
    OpDef("cast", aliases: ["Cast", "astype"], inputs: ["data"], params: [param("dtype", .dtype, nil)],
          summary: "convert the dtype (float to int truncates toward zero); the gradient is cast back", forward: { a in
              let x = a[0], d = a.attrs.dtype("dtype")!
              let out = try a.ctx.empty(x.shape, d)
              Kernels.assign(out, from: x)
              return ForwardResult(out)
          }, vjp: { a in [try a.ctx.cast(a.g, a.inputMeta[0].dtype)] }),
]

/// repeat as a strided view: (interleaved shape, strides, final shape).
private func repeatGeometry(_ shape: [Int], _ k: Int, _ axis: Int?) throws -> ([Int], [Int], [Int]) {
    guard let axis else {
        let n = shape.reduce(1, *)
        return ([n, k], [1, 0], [n * k])
    }
    let ax = try normAxis(axis, shape.count, "repeat")
    let cs = contiguousStrides(shape)
    var inter = shape, strides = cs
    inter.insert(k, at: ax + 1)
    strides.insert(0, at: ax + 1)
    var final = shape
    final[ax] *= k
    return (inter, strides, final)
}

func opList(_ v: [Int?]) -> OpParam { .list(v.map { $0.map { .int($0) } ?? .null }) }
