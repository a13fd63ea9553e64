/// Convolution and Pooling (tier 2) over N-d spatial data (N, C, *spatial), built on an
/// im2col/col2im pair of mutually adjoint internal ops so every gradient is differentiable.

/// Sliding-window geometry.
struct Window {
    let kernel: [Int], stride: [Int], dilate: [Int], pad: [Int]

    init(_ attrs: Attrs, spatial: Int, op: String) throws {
        kernel = attrs.ints("kernel")
        func orDefault(_ name: String, _ d: Int) throws -> [Int] {
            let v = attrs.ints(name)
            if v.isEmpty { return Array(repeating: d, count: spatial) }
            guard v.count == spatial else {
                throw AutogradError(.invalidParameter, "\(op): \(name) has \(v.count) values for \(spatial) spatial dimensions")
            }
            return v
        }
        stride = try orDefault("stride", 1)
        dilate = try orDefault("dilate", 1)
        pad = try orDefault("pad", 0)
        guard kernel.count == spatial, kernel.allSatisfy({ $0 > 0 }), stride.allSatisfy({ $0 > 0 }), dilate.allSatisfy({ $0 > 0 }),
              pad.allSatisfy({ $0 >= 0 }) else {
            throw AutogradError(.invalidParameter, "\(op): kernel \(kernel) must have \(spatial) positive sizes; stride/dilate positive, pad non-negative")
        }
    }

    /// Output spatial sizes (ceil for MXNet's 'full' pooling convention).
    func output(_ input: [Int], full: Bool = false, op: String) throws -> [Int] {
        try input.indices.map { i in
            let span = input[i] + 2 * pad[i] - dilate[i] * (kernel[i] - 1) - 1
            guard span >= 0 else { throw AutogradError(.shapeMismatch, "\(op): kernel \(kernel) is larger than the padded input \(input)") }
            return (full ? (span + stride[i] - 1) / stride[i] : span / stride[i]) + 1
        }
    }

    var params: [String: OpParam] {
        let l = { (v: [Int]) in OpParam.list(v.map { .int($0) }) }
        return ["kernel": l(kernel), "stride": l(stride), "dilate": l(dilate), "pad": l(pad)]
    }
}

/// For each (column row, output position): the flat input offset within one channel, or -1 for padding.
private func windowOffsets(_ spatial: [Int], _ w: Window, _ out: [Int]) -> [Int] {
    let k = w.kernel.reduce(1, *), l = out.reduce(1, *), d = spatial.count
    var offsets = [Int](repeating: -1, count: k * l)
    var ki = [Int](repeating: 0, count: d)
    for kk in 0..<k {
        var r = kk
        for i in stride(from: d - 1, through: 0, by: -1) { ki[i] = r % w.kernel[i]; r /= w.kernel[i] }
        for ll in 0..<l {
            var q = ll, off = 0, inside = true, scale = 1
            for i in stride(from: d - 1, through: 0, by: -1) {
                let oi = q % out[i]
                q /= out[i]
                let pos = oi * w.stride[i] - w.pad[i] + ki[i] * w.dilate[i]
                if pos < 0 || pos >= spatial[i] { inside = false }
                off += pos * scale
                scale *= spatial[i]
            }
            offsets[kk * l + ll] = inside ? off : -1
        }
    }
    return offsets
}

private let windowParams = [param("kernel", .ints, nil), param("stride", .ints, .list([])), param("dilate", .ints, .list([])),
                            param("pad", .ints, .list([]))]

extension Context {
    func im2col(_ x: NDArray, _ w: Window, padValue: Double = 0, full: Bool = false) throws -> NDArray {
        var p = w.params
        p["pad_value"] = .double(padValue)
        p["full"] = .bool(full)
        return try op("_im2col", [x], p)
    }
}

let convolutionOps: [OpDef] = [
    OpDef("_im2col", inputs: ["data"], params: windowParams + [param("pad_value", .double, .double(0)), param("full", .bool, .bool(false))],
          summary: "sliding windows of (N, C, *spatial) as (N, C*K, L)", hidden: true, forward: { a in
              let x = a[0]
              guard x.ndim >= 3 else { throw AutogradError(.shapeMismatch, "_im2col: expects (N, C, *spatial), got \(shapeText(x.shape))") }
              let spatial = Array(x.shape.dropFirst(2)), w = try Window(a.attrs, spatial: spatial.count, op: "_im2col")
              let o = try w.output(spatial, full: a.attrs.bool("full"), op: "_im2col")
              let offsets = windowOffsets(spatial, w, o)
              let n = x.shape[0], ch = x.shape[1], s = spatial.reduce(1, *), kl = offsets.count
              let out = try a.ctx.empty([n, ch * w.kernel.reduce(1, *), o.reduce(1, *)], x.dtype)
              let v = x.toDoubles(), padValue = a.attrs.double("pad_value")
              var r = [Double](repeating: 0, count: out.size)
              for b in 0..<(n * ch) {
                  for (j, off) in offsets.enumerated() { r[b * kl + j] = off < 0 ? padValue : v[b * s + off] }
              }
              Kernels.fill(out, r)
              return ForwardResult(out)
          }, vjp: { a in
              var p = try Window(a.attrs, spatial: a.inputMeta[0].shape.count - 2, op: "_im2col").params
              p["shape"] = .list(a.inputMeta[0].shape.map { .int($0) })
              p["full"] = .bool(a.attrs.bool("full"))
              return [try a.ctx.op("_col2im", [a.g], p)]
          }),
    OpDef("_col2im", inputs: ["cols"], params: windowParams + [param("shape", .ints, nil), param("full", .bool, .bool(false))],
          summary: "adjoint of _im2col: window columns summed back into (N, C, *spatial)", hidden: true, forward: { a in
              let shape = a.attrs.ints("shape")
              guard shape.count >= 3 else { throw AutogradError(.shapeMismatch, "_col2im: shape must be (N, C, *spatial)") }
              let spatial = Array(shape.dropFirst(2)), w = try Window(a.attrs, spatial: spatial.count, op: "_col2im")
              let o = try w.output(spatial, full: a.attrs.bool("full"), op: "_col2im")
              let offsets = windowOffsets(spatial, w, o)
              let n = shape[0], ch = shape[1], s = spatial.reduce(1, *), kl = offsets.count
              guard a[0].shape == [n, ch * w.kernel.reduce(1, *), o.reduce(1, *)] else {
                  throw AutogradError(.shapeMismatch, "_col2im: columns shape \(shapeText(a[0].shape)) does not match \(shapeText(shape))")
              }
              let out = try a.ctx.empty(shape, a[0].dtype)
              let v = a[0].toDoubles()
              var r = [Double](repeating: 0, count: out.size)
              for b in 0..<(n * ch) {
                  for (j, off) in offsets.enumerated() where off >= 0 { r[b * s + off] += v[b * kl + j] }
              }
              Kernels.fill(out, r)
              return ForwardResult(out)
          }, vjp: { a in
              let w = try Window(a.attrs, spatial: a.attrs.ints("shape").count - 2, op: "_col2im")
              return [try a.ctx.im2col(a.g, w, full: a.attrs.bool("full"))]
          }),
    OpDef("Convolution", inputs: ["data", "weight", "bias"], minInputs: 2,
          params: windowParams + [param("num_filter", .int, nil), param("num_group", .int, .int(1)), param("no_bias", .bool, .bool(false)),
                                  param("workspace", .int, .int(1024)), param("cudnn_off", .bool, .bool(false))],
          summary: "N-d convolution (N, C, *spatial) with weight (num_filter, C, *kernel); num_group must be 1", saves: .inputs,
          forward: { a in
              let c = a.ctx
              return ForwardResult(try c.pause { try convolution(c, a.inputs, a.attrs) })
          }, vjp: { a in
              let c = a.ctx, x = a.input(0), wt = a.input(1)
              let w = try Window(a.attrs, spatial: x.ndim - 2, op: "Convolution")
              let n = x.shape[0], f = a.attrs.int("num_filter"), ck = wt.size / f
              let cols = try c.im2col(x, w)
              let l = cols.shape[2]
              let g3 = try c.reshape(a.g, [n, f, l])
              let wb = try c.broadcastTo(c.reshape(wt, [1, f, ck]), [n, f, ck])
              let dx = a.needs[0] ? try c.op("_col2im", [c.dot(wb, g3, ta: true, batch: true)],
                                                w.params.merging(["shape": .list(x.shape.map { .int($0) })]) { $1 }) : nil
              let dw = a.needs[1] ? try c.reshape(c.sum(c.dot(g3, cols, tb: true, batch: true), axes: [0]), wt.shape) : nil
              let db = a.needs.count > 2 && a.needs[2] ? try c.sum(a.g, axes: [0] + Array(2..<x.ndim)) : nil
              return [dx, dw, db]
          }),
    OpDef("Pooling", inputs: ["data"],
          params: [param("kernel", .ints, .list([])), param("pool_type", .string(["max", "avg", "sum"]), .string("max")),
                   param("global_pool", .bool, .bool(false)), param("pooling_convention", .string(["valid", "full"]), .string("valid")),
                   param("stride", .ints, .list([])), param("pad", .ints, .list([])), param("count_include_pad", .optInt, .null),
                   param("cudnn_off", .bool, .bool(false))],
          summary: "max / avg / sum pooling over (N, C, *spatial)", saves: .inputs, forward: { a in
              let c = a.ctx
              return ForwardResult(try c.pause { try pooling(c, a[0], a.attrs, grad: nil) })
          }, vjp: { a in [try pooling(a.ctx, a.x, a.attrs, grad: a.g)] }),
]

private func convolution(_ c: Context, _ xs: [NDArray], _ attrs: Attrs) throws -> NDArray {
    let x = xs[0], wt = xs[1], f = attrs.int("num_filter"), noBias = attrs.bool("no_bias")
    guard xs.count == (noBias ? 2 : 3) else {
        throw AutogradError(.invalidArgument, "Convolution: expects \(noBias ? 2 : 3) inputs with no_bias=\(noBias), got \(xs.count)")
    }
    guard attrs.int("num_group") == 1 else { throw AutogradError(.invalidParameter, "Convolution: only num_group=1 is supported") }
    guard x.ndim >= 3 else { throw AutogradError(.shapeMismatch, "Convolution: data must be (N, C, *spatial), got \(shapeText(x.shape))") }
    let w = try Window(attrs, spatial: x.ndim - 2, op: "Convolution")
    let expected = [f, x.shape[1]] + w.kernel
    guard wt.shape == expected else {
        throw AutogradError(.shapeMismatch, "Shape inconsistent, Provided = \(shapeText(wt.shape)), inferred shape=\(shapeText(expected))")
    }
    let o = try w.output(Array(x.shape.dropFirst(2)), op: "Convolution")
    let n = x.shape[0], ck = wt.size / max(f, 1)
    let cols = try c.im2col(x, w)
    let wb = try c.broadcastTo(c.reshape(wt, [1, f, ck]), [n, f, ck])
    var out = try c.reshape(c.dot(wb, cols, batch: true), [n, f] + o)
    if !noBias {
        guard xs[2].shape == [f] else { throw AutogradError(.shapeMismatch, "Shape inconsistent, Provided = \(shapeText(xs[2].shape)), inferred shape=[\(f)]") }
        out = try c.add(out, c.reshape(xs[2], [1, f] + Array(repeating: 1, count: o.count)))
    }
    return out
}

/// Pooling forward (grad == nil) or its gradient, both with the public ops.
private func pooling(_ c: Context, _ x: NDArray, _ attrs: Attrs, grad: NDArray?) throws -> NDArray {
    guard x.ndim >= 3 else { throw AutogradError(.shapeMismatch, "Pooling: data must be (N, C, *spatial), got \(shapeText(x.shape))") }
    let spatial = Array(x.shape.dropFirst(2))
    var geometry = attrs
    if attrs.bool("global_pool") {
        geometry = Attrs(names: ["kernel", "stride", "dilate", "pad"], values: [.ints(spatial), .ints([]), .ints([]), .ints([])])
    } else {
        geometry = Attrs(names: ["kernel", "stride", "dilate", "pad"], values: [attrs.value("kernel"), attrs.value("stride"), .ints([]), attrs.value("pad")])
    }
    let w = try Window(geometry, spatial: spatial.count, op: "Pooling")
    let full = attrs.string("pooling_convention") == "full"
    let o = try w.output(spatial, full: full, op: "Pooling")
    let n = x.shape[0], ch = x.shape[1], k = w.kernel.reduce(1, *), l = o.reduce(1, *)
    let type = attrs.string("pool_type")
    guard type != "avg" || (attrs.optInt("count_include_pad") ?? 1) != 0 else {
        throw AutogradError(.invalidParameter, "Pooling: count_include_pad=False is not supported")
    }
    let cols = try c.reshape(c.im2col(x, w, padValue: type == "max" ? -.infinity : 0, full: full), [n, ch, k, l])
    let reduced = try c.op(type == "max" ? "max" : "sum", [cols], ["axis": .int(2), "keepdims": .bool(true)])
    let scale = type == "avg" ? 1 / Double(k) : 1
    guard let grad else { return try c.reshape(c.scale(reduced, scale), [n, ch] + o) }
    let g = try c.scale(c.reshape(grad, [n, ch, 1, l]), scale)
    let dcols = type == "max" ? try c.mul(c.compare("broadcast_equal", cols, reduced), g) : try c.broadcastTo(g, [n, ch, k, l])
    var p = w.params
    p["shape"] = .list(x.shape.map { .int($0) })
    p["full"] = .bool(full)
    return try c.op("_col2im", [c.reshape(dcols, [n, ch * k, l])], p)
}
