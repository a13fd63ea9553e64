/// Integer positions from an index array (float or int), per MXNet's mode: clip or wrap.
func indexValues(_ idx: NDArray, n: Int, mode: String, op: String) throws -> [Int] {
    guard n > 0 else { throw AutogradError(.invalidParameter, "\(op): cannot index an axis of size 0") }
    return idx.toDoubles().map { v in
        let i = indexInt(v)
        if mode == "wrap" { return ((i % n) + n) % n }
        return min(max(i, 0), n - 1)
    }
}

private let modeParam = param("mode", .string(["clip", "wrap"]), .string("clip"))

/// Shape checks for gather/scatter along an axis: index matches data except along the axis.
private func checkAlong(_ data: [Int], _ index: [Int], axis: Int, op: String) throws {
    guard data.count == index.count, data.indices.allSatisfy({ $0 == axis || data[$0] == index[$0] }) else {
        throw AutogradError(.shapeMismatch, "\(op): index shape \(shapeText(index)) does not match data shape \(shapeText(data)) outside axis \(axis)")
    }
}

let indexOps: [OpDef] = [
    OpDef("pick", inputs: ["data", "index"],
          params: [param("axis", .optInt, .int(-1)), param("keepdims", .bool, .bool(false)), modeParam],
          summary: "pick one element along an axis per position (index as float)", saves: .inputs, forward: { a in
              var x = a[0]
              let axis: Int
              if let ax = a.attrs.optInt("axis") { axis = try normAxis(ax, x.ndim, "pick") } else {
                  x = try a.ctx.pause { try a.ctx.reshape(x, [x.size]) }
                  axis = 0
              }
              var kept = x.shape
              kept[axis] = 1
              guard a[1].size == kept.reduce(1, *) else {
                  throw AutogradError(.shapeMismatch, "pick: index shape \(shapeText(a[1].shape)) does not match data shape \(shapeText(x.shape)) without axis \(axis)")
              }
              let idx = try indexValues(a[1], n: x.shape[axis], mode: a.attrs.string("mode"), op: "pick")
              let out = try a.ctx.empty(kept, x.dtype)
              Kernels.gatherAxis(x, idx, axis: axis, into: out)
              var shape = kept
              if !a.attrs.bool("keepdims") { shape.remove(at: axis) }
              return ForwardResult([NDArray(context: a.ctx, storage: out.storage, shape: shape.isEmpty ? [1] : shape, dtype: x.dtype)])
          }, vjp: { a in
              let c = a.ctx, shape = a.inputMeta[0].shape
              let axis = try a.attrs.optInt("axis").map { try normAxis($0, shape.count, "pick") }
              var kept = axis == nil ? [1] : shape
              if let axis { kept[axis] = 1 }
              let dim = axis.map { shape[$0] } ?? shape.reduce(1, *)
              let g = try c.op("_scatter_axis", [c.reshape(a.g, kept), c.reshape(a.input(1), kept)],
                               ["axis": .int(axis ?? 0), "dim": .int(dim), "mode": .string(a.attrs.string("mode"))])
              return [try c.reshape(g, shape), nil]
          }),
    OpDef("_gather_axis", inputs: ["data", "index"], params: [param("axis", .int, nil), modeParam],
          summary: "take_along_axis", saves: .inputs, hidden: true, forward: { a in
              let x = a[0], axis = try normAxis(a.attrs.int("axis"), a[0].ndim, "_gather_axis")
              try checkAlong(x.shape, a[1].shape, axis: axis, op: "_gather_axis")
              let idx = try indexValues(a[1], n: x.shape[axis], mode: a.attrs.string("mode"), op: "_gather_axis")
              let out = try a.ctx.empty(a[1].shape, x.dtype)
              Kernels.gatherAxis(x, idx, axis: axis, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              let axis = a.attrs.int("axis"), shape = a.inputMeta[0].shape
              let n = try normAxis(axis, shape.count, "_gather_axis")
              return [try a.ctx.op("_scatter_axis", [a.g, a.input(1)], ["axis": .int(axis), "dim": .int(shape[n]), "mode": .string(a.attrs.string("mode"))]), nil]
          }),
    OpDef("_scatter_axis", inputs: ["grad", "index"], params: [param("axis", .int, nil), param("dim", .int, nil), modeParam],
          summary: "adjoint of take_along_axis: adds grad at index into zeros with dim along axis", saves: .inputs, hidden: true,
          forward: { a in
              let g = a[0], axis = try normAxis(a.attrs.int("axis"), a[0].ndim, "_scatter_axis")
              guard a[1].shape == g.shape else { throw AutogradError(.shapeMismatch, "_scatter_axis: index shape must equal grad shape") }
              var shape = g.shape
              shape[axis] = a.attrs.int("dim")
              let idx = try indexValues(a[1], n: shape[axis], mode: a.attrs.string("mode"), op: "_scatter_axis")
              let out = try a.ctx.zeros(shape, g.dtype)
              Kernels.scatterAxisAdd(g, idx, axis: axis, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              [try a.ctx.op("_gather_axis", [a.g, a.input(1)], ["axis": .int(a.attrs.int("axis")), "mode": .string(a.attrs.string("mode"))]), nil]
          }),
    OpDef("take", inputs: ["a", "indices"], params: [param("axis", .int, .int(0)), modeParam],
          summary: "gather slices along an axis by index", saves: .inputs, forward: { a in
              let x = a[0], axis = try normAxis(a.attrs.int("axis"), a[0].ndim, "take")
              let idx = try indexValues(a[1], n: x.shape[axis], mode: a.attrs.string("mode"), op: "take")
              let shape = Array(x.shape[..<axis]) + a[1].shape + Array(x.shape[(axis + 1)...])
              let out = try a.ctx.empty(shape, x.dtype)
              Kernels.take(x, idx, axis: axis, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              let shape = a.inputMeta[0].shape, axis = try normAxis(a.attrs.int("axis"), shape.count, "take")
              return [try a.ctx.op("_take_backward", [a.g, a.input(1)],
                                   ["axis": .int(axis), "dim": .int(shape[axis]), "mode": .string(a.attrs.string("mode"))]), nil]
          }),
    OpDef("_take_backward", inputs: ["grad", "indices"], params: [param("axis", .int, nil), param("dim", .int, nil), modeParam],
          summary: "adjoint of take", saves: .inputs, hidden: true, forward: { a in
              let g = a[0], ind = a[1], axis = a.attrs.int("axis"), dim = a.attrs.int("dim")
              guard axis >= 0 && axis + ind.ndim <= g.ndim else { throw AutogradError(.shapeMismatch, "_take_backward: bad shapes") }
              let idx = try indexValues(ind, n: dim, mode: a.attrs.string("mode"), op: "_take_backward")
              let shape = Array(g.shape[..<axis]) + [dim] + Array(g.shape[(axis + ind.ndim)...])
              let out = try a.ctx.empty(shape, g.dtype)
              let g2 = NDArray(context: a.ctx, storage: g.storage, shape: Array(g.shape[..<axis]) + [ind.size] + Array(g.shape[(axis + ind.ndim)...]), dtype: g.dtype)
              Kernels.takeBackward(g2, idx, axis: axis, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              [try a.ctx.op("take", [a.g, a.input(1)], ["axis": .int(a.attrs.int("axis")), "mode": .string(a.attrs.string("mode"))]), nil]
          }),
    OpDef("one_hot", inputs: ["indices"],
          params: [param("depth", .int, nil), param("on_value", .double, .double(1)), param("off_value", .double, .double(0)),
                   param("dtype", .dtype, .string("float32"))],
          summary: "one-hot encoding along a new last axis (out-of-range indices give all off_value)", forward: { a in
              let depth = a.attrs.int("depth")
              guard depth >= 0 else { throw AutogradError(.invalidParameter, "one_hot: depth must be non-negative") }
              let on = a.attrs.double("on_value"), off = a.attrs.double("off_value")
              let out = try a.ctx.empty(a[0].shape + [depth], a.attrs.dtype("dtype")!)
              var v = [Double](repeating: off, count: out.size)
              for (i, x) in a[0].toDoubles().enumerated() {
                  let j = x.isFinite ? indexInt(x) : -1
                  if j >= 0 && j < depth { v[i * depth + j] = on }
              }
              Kernels.fill(out, v)
              return ForwardResult(out)
          }, vjp: nil),
    OpDef("where", inputs: ["condition", "x", "y"], summary: "x where condition is nonzero else y", saves: .inputs, forward: { a in
        let c = a[0], x = a[1], y = a[2]
        try sameDType(x, y, input: 2)
        guard x.shape == y.shape, c.shape == x.shape || (c.ndim == 1 && x.ndim >= 1 && c.shape[0] == x.shape[0]) else {
            throw AutogradError(.shapeMismatch, "where: condition \(shapeText(c.shape)), x \(shapeText(x.shape)) and y \(shapeText(y.shape)) are incompatible")
        }
        let out = try a.ctx.empty(x.shape, x.dtype)
        let cond = c.toDoubles(), row = c.shape == x.shape ? 1 : x.size / max(x.shape[0], 1)
        let es = x.dtype.byteSize
        for i in 0..<x.size {
            let src = cond[i / row] != 0 ? x : y
            (out.storage.data + i * es).copyMemory(from: src.storage.data + i * es, byteCount: es)
        }
        return ForwardResult(out)
    }, vjp: { a in
        let c = a.ctx, z = try c.zeros(a.g.shape, a.g.dtype)
        return [nil, a.needs[1] ? try c.op("where", [a.input(0), a.g, z]) : nil, a.needs[2] ? try c.op("where", [a.input(0), z, a.g]) : nil]
    }),
]
