// pad, slice_like, SequenceMask and UpSampling (nearest).

/// Source index along each padded axis (−1 where constant padding applies).
private func padSource(_ i: Int, before: Int, dim: Int, mode: String) -> Int {
    let j = i - before
    switch mode {
    case "edge": return min(max(j, 0), dim - 1)
    case "reflect": return j < 0 ? -j : (j >= dim ? 2 * (dim - 1) - j : j)
    default: return j >= 0 && j < dim ? j : -1
    }
}

/// For each element of the padded output, the flat input index it copies (−1: the constant).
private func padMap(_ shape: [Int], _ at: Attrs) throws -> (outShape: [Int], map: [Int]) {
    let mode = at.string("mode"), w = at.ints("pad_width")
    guard shape.count == 4 || shape.count == 5 else {
        throw AutogradError(.shapeMismatch, "pad: only 4-D and 5-D inputs are supported, got \(shapeText(shape))")
    }
    guard w.count == 2 * shape.count, w.allSatisfy({ $0 >= 0 }), w[0...3].allSatisfy({ $0 == 0 }) else {
        throw AutogradError(.invalidParameter, "pad: pad_width needs \(2 * shape.count) non-negative values with zeros for the first two axes, got \(shapeText(w))")
    }
    try checkWindowValues(w, "pad_width", op: "pad")
    for i in shape.indices where mode == "reflect" && (w[2 * i] >= shape[i] || w[2 * i + 1] >= shape[i]) && (w[2 * i] + w[2 * i + 1]) > 0 {
        throw AutogradError(.invalidParameter, "pad: reflect padding \(w[2 * i]),\(w[2 * i + 1]) must be smaller than the axis size \(shape[i])")
    }
    for i in shape.indices where mode == "edge" && shape[i] == 0 && w[2 * i] + w[2 * i + 1] > 0 {
        throw AutogradError(.invalidParameter, "pad: edge padding of an empty axis")
    }
    let out = shape.indices.map { shape[$0] + w[2 * $0] + w[2 * $0 + 1] }
    let axisMaps = shape.indices.map { i in (0..<out[i]).map { padSource($0, before: w[2 * i], dim: shape[i], mode: mode) } }
    let inStrides = contiguousStrides(shape), outStrides = contiguousStrides(out)
    var map = [Int](repeating: 0, count: out.reduce(1, *))
    for k in map.indices {
        var src = 0, rest = k
        for i in out.indices {
            let s = axisMaps[i][rest / outStrides[i]]
            rest %= outStrides[i]
            if s < 0 { src = -1; break }
            src += s * inStrides[i]
        }
        map[k] = src
    }
    return (out, map)
}

private func gatherMap<T: BinaryFloatingPoint>(_ x: NDArray, _ out: NDArray, _ map: [Int], fill: Double, _: T.Type) {
    let px = x.buffer(T.self), po = out.buffer(T.self), f = T(fill)
    for k in map.indices { po[k] = map[k] < 0 ? f : px[map[k]] }
}

private func scatterMap<T: BinaryFloatingPoint>(_ g: NDArray, _ out: NDArray, _ map: [Int], _: T.Type) {
    let pg = g.buffer(T.self), po = out.buffer(T.self)
    for k in map.indices where map[k] >= 0 { po[map[k]] += pg[k] }
}

private let padSpecs = [param("mode", .string(["constant", "edge", "reflect"]), .string("constant")),
                        param("pad_width", .ints, nil, "before/after per axis; the first two axes must be 0"),
                        param("constant_value", .double, .double(0))]

/// The (begin, end) of slice_like: data sliced from 0 to shape_like's size on the chosen axes.
private func sliceLikeBounds(_ data: [Int], _ like: [Int], _ axes: [Int]) throws -> (begin: [Int?], end: [Int?]) {
    var end = [Int?](repeating: nil, count: data.count)
    if axes.isEmpty {
        guard like.count == data.count else {
            throw AutogradError(.shapeMismatch, "slice_like: shape_like \(shapeText(like)) must have the rank of data \(shapeText(data)) when axes is empty")
        }
        for i in data.indices { end[i] = like[i] }
    } else {
        for ax in axes {
            let i = try normAxis(ax, data.count, "slice_like")
            guard i < like.count else { throw AutogradError(.shapeMismatch, "slice_like: axis \(ax) is out of range for shape_like \(shapeText(like))") }
            end[i] = like[i]
        }
    }
    for i in data.indices where (end[i] ?? 0) > data[i] {
        throw AutogradError(.shapeMismatch, "slice_like: shape_like \(shapeText(like)) exceeds data \(shapeText(data)) on axis \(i)")
    }
    return ([Int?](repeating: 0, count: data.count), end)
}

/// Integer upsampling factors of UpSampling's inputs: the first by `scale`, the others to its size.
private func upsampleFactors(_ inputs: [[Int]], scale: Int) throws -> [Int] {
    let first = inputs[0]
    let outH = first[2] * scale, outW = first[3] * scale
    return try inputs.map { s in
        guard s.count == 4, s[0] == first[0], s[2] > 0, outH % s[2] == 0, outW % s[3] == 0, outH / s[2] == outW / s[3] else {
            throw AutogradError(.shapeMismatch, "UpSampling: input \(shapeText(s)) cannot be upsampled to \(outH)x\(outW)")
        }
        return outH / s[2]
    }
}

let sequenceOps: [OpDef] = [
    OpDef("pad", aliases: ["Pad"], inputs: ["data"], params: padSpecs,
          summary: "pad a 4-D/5-D array's spatial axes (constant, edge or reflect)", forward: { a in
              let x = a[0]
              guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "pad: requires a float dtype, got \(x.dtype.rawValue)") }
              let (outShape, map) = try padMap(x.shape, a.attrs)
              let out = try a.ctx.empty(outShape, x.dtype)
              let fill = a.attrs.string("mode") == "constant" ? a.attrs.double("constant_value") : 0
              if x.dtype == .float64 { gatherMap(x, out, map, fill: fill, Double.self) } else { gatherMap(x, out, map, fill: fill, Float.self) }
              return ForwardResult(out)
          }, vjp: { a in
              let attrs = Attrs(names: a.attrs.names + ["in_shape"], values: a.attrs.values + [.ints(a.inputMeta[0].shape)])
              return [try a.ctx.run(OpTable.get("_pad_adjoint"), [a.g], attrs)[0]]
          }),
    OpDef("_pad_adjoint", inputs: ["grad"], params: padSpecs + [param("in_shape", .ints, nil)],
          summary: "transpose of pad: sums each padded cell back onto the cell it copies", hidden: true, forward: { a in
              let g = a[0]
              let (outShape, map) = try padMap(a.attrs.ints("in_shape"), a.attrs)
              guard g.shape == outShape, g.dtype.isFloat else {
                  throw AutogradError(.shapeMismatch, "_pad_adjoint: grad shape \(shapeText(g.shape)) != padded shape \(shapeText(outShape))")
              }
              let out = try a.ctx.zeros(a.attrs.ints("in_shape"), g.dtype)
              if g.dtype == .float64 { scatterMap(g, out, map, Double.self) } else { scatterMap(g, out, map, Float.self) }
              return ForwardResult(out)
          }, vjp: { a in
              // The linear part of pad: the constant contributes nothing to derivatives.
              var values = Array(a.attrs.values.dropLast())
              values[2] = .double(0)
              return [try a.ctx.run(OpTable.get("pad"), [a.g], Attrs(names: Array(a.attrs.names.dropLast()), values: values))[0]]
          }),
    OpDef("slice_like", inputs: ["data", "shape_like"], params: [param("axes", .ints, .list([]), "axes to slice (empty: all)")],
          summary: "slice data from 0 to shape_like's size on the given axes", saves: .nothing, forward: { a in
              let x = a[0]
              let (b, e) = try sliceLikeBounds(x.shape, a[1].shape, a.attrs.ints("axes"))
              let geo = try sliceGeometry(x.shape, begin: b, end: e, step: [])
              let out = try a.ctx.empty(geo.shape, x.dtype)
              Kernels.stridedCopy(x, offset: geo.offset, strides: geo.strides, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              let shape = a.inputMeta[0].shape
              let (b, e) = try sliceLikeBounds(shape, a.inputMeta[1].shape, a.attrs.ints("axes"))
              return [try a.ctx.sliceBackward(a.g, shape: shape, begin: b, end: e, step: []), nil]
          }),
    OpDef("SequenceMask", inputs: ["data", "sequence_length"], minInputs: 1,
          params: [param("use_sequence_length", .bool, .bool(false)), param("value", .double, .double(0)), param("axis", .int, .int(0))],
          summary: "set steps at or beyond each sequence's length to value (data (T,B,...) for axis 0, (B,T,...) for axis 1)",
          forward: { a in
              let x = a[0], axis = a.attrs.int("axis")
              guard axis == 0 || axis == 1, x.ndim >= 2 else {
                  throw AutogradError(.invalidParameter, "SequenceMask: axis must be 0 or 1 and data at least 2-D, got axis \(axis), \(shapeText(x.shape))")
              }
              guard a.attrs.bool("use_sequence_length") else { return try reshaped(a.ctx, x, x.shape) }
              guard a.inputs.count == 2 else { throw AutogradError(.invalidArgument, "SequenceMask: use_sequence_length needs sequence_length") }
              let steps = x.shape[axis], batch = x.shape[1 - axis], inner = x.shape[2...].reduce(1, *)
              let lengths = a[1].toDoubles()
              guard lengths.count == batch else {
                  throw AutogradError(.shapeMismatch, "SequenceMask: sequence_length has \(lengths.count) entries for batch size \(batch)")
              }
              var mask = [Double](repeating: 1, count: x.size)
              for t in 0..<steps {
                  for b in 0..<batch where Double(t) >= lengths[b].rounded(.towardZero) {
                      let base = (axis == 0 ? t * batch + b : b * steps + t) * inner
                      for i in 0..<inner { mask[base + i] = 0 }
                  }
              }
              let m = try a.ctx.empty(x.shape, x.dtype), out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.fill(m, mask)
              let value = a.attrs.double("value")
              Kernels.fill(out, zip(x.toDoubles(), mask).map { $1 == 1 ? $0 : value })
              return ForwardResult([out], aux: [m])
          }, vjp: { a in
              guard let m = a.aux.first else { return [a.g, nil] }
              return [try a.ctx.mul(a.g, m), nil]
          }),
    OpDef("UpSampling", inputs: ["data"], variadic: true,
          params: [param("scale", .int, nil), param("num_filter", .int, .int(0), "bilinear only"),
                   param("sample_type", .string(["nearest", "bilinear"]), nil, "nearest only"),
                   param("multi_input_mode", .string(["concat", "sum"]), .string("concat")), param("num_args", .int, .int(1)),
                   param("workspace", .int, .int(512), "ignored")],
          summary: "nearest-neighbour upsampling of NCHW inputs by an integer scale (several inputs: concat or sum)", forward: { a in
              guard a.attrs.string("sample_type") == "nearest" else {
                  throw AutogradError(.invalidParameter, "UpSampling: sample_type 'bilinear' is not supported")
              }
              let scale = a.attrs.int("scale")
              try checkWindowValues([scale], "scale", op: "UpSampling")
              guard scale >= 1, a.attrs.int("num_args") == a.inputs.count else {
                  throw AutogradError(.invalidParameter, "UpSampling: scale must be >= 1 and num_args must equal the number of inputs")
              }
              let factors = try upsampleFactors(a.inputs.map(\.shape), scale: scale)
              var parts: [NDArray] = []
              for (x, f) in zip(a.inputs, factors) {
                  try sameDType(a[0], x)
                  let (n, ch, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
                  let up = try a.ctx.empty([n, ch, h, f, w, f], x.dtype)
                  Kernels.stridedCopy(x, offset: 0, strides: [ch * h * w, h * w, w, 0, 1, 0], into: up)
                  parts.append(NDArray(context: a.ctx, storage: up.storage, shape: [n, ch, h * f, w * f], dtype: x.dtype))
              }
              if parts.count == 1 { return ForwardResult(parts[0]) }
              if a.attrs.string("multi_input_mode") == "sum" {
                  guard parts.allSatisfy({ $0.shape == parts[0].shape }) else {
                      throw AutogradError(.shapeMismatch, "UpSampling: multi_input_mode 'sum' needs equal channel counts")
                  }
                  let out = try a.ctx.empty(parts[0].shape, parts[0].dtype)
                  Kernels.assign(out, from: parts[0])
                  for p in parts.dropFirst() { Kernels.addInPlace(out, p) }
                  return ForwardResult(out)
              }
              var shape = parts[0].shape
              shape[1] = parts.reduce(0) { $0 + $1.shape[1] }
              let out = try a.ctx.empty(shape, parts[0].dtype)
              Kernels.concat(parts, axis: 1, into: out)
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx
              let factors = try upsampleFactors(a.inputMeta.map(\.shape), scale: a.attrs.int("scale"))
              var start = 0
              let concat = a.attrs.string("multi_input_mode") == "concat"
              return try zip(a.inputMeta, factors).enumerated().map { i, m in
                  let (shape, f) = (m.0.shape, m.1)
                  defer { start += shape[1] }
                  guard a.needs[i] else { return nil }
                  let g = concat && a.inputMeta.count > 1 ? try c.sliceAxis(a.g, axis: 1, begin: start, end: start + shape[1]) : a.g
                  let blocks = try c.reshape(g, [shape[0], shape[1], shape[2], f, shape[3], f])
                  return try c.sum(blocks, axes: [3, 5])
              }
          }),
]
