import Glibc

// Pooling (max / avg / sum) over NCW, NCHW or NCDHW. Max pooling keeps the flat position of each
// window's first maximum and routes gradients with `_scatter_axis` (whose gradient is
// `_gather_axis`); avg and sum pooling are linear, and `_pooling_adjoint` is their transpose,
// each being the other's gradient.

/// A pooling sweep: the convolution geometry plus how windows are counted.
private struct PoolGeometry {
    var conv: ConvGeometry
    var type: String
    var countIncludePad: Bool
}

private func poolGeometry(_ shape: [Int], _ at: Attrs) throws -> PoolGeometry {
    let op = "Pooling"
    let rank = shape.count - 2
    let layouts = [1: "NCW", 2: "NCHW", 3: "NCDHW"]
    guard let expected = layouts[rank] else {
        throw AutogradError(.shapeMismatch, "\(op): expects NCW, NCHW or NCDHW input, got shape \(shapeText(shape))")
    }
    if let layout = at.optString("layout"), layout != expected {
        throw AutogradError(.invalidParameter, "\(op): layout \(layout) is not supported for input of rank \(rank + 2) (channels-first only)")
    }
    let type = at.string("pool_type")
    guard type != "lp" else { throw AutogradError(.invalidParameter, "\(op): pool_type 'lp' is not supported") }
    let convention = at.string("pooling_convention")
    guard convention != "same" else { throw AutogradError(.invalidParameter, "\(op): pooling_convention 'same' is not supported") }
    let inDims = Array(shape[2...])
    var k: [Int], s: [Int], p: [Int]
    if at.bool("global_pool") {
        k = inDims; s = Array(repeating: 1, count: rank); p = Array(repeating: 0, count: rank)
    } else {
        k = at.ints("kernel")
        guard k.count == rank, k.allSatisfy({ $0 >= 1 }) else {
            throw AutogradError(.invalidParameter, "\(op): kernel \(shapeText(k)) must have \(rank) positive dimension(s) for input \(shapeText(shape))")
        }
        s = at.ints("stride"); p = at.ints("pad")
        if s.isEmpty { s = Array(repeating: 1, count: rank) }
        if p.isEmpty { p = Array(repeating: 0, count: rank) }
        guard s.count == rank, p.count == rank, s.allSatisfy({ $0 >= 1 }), p.allSatisfy({ $0 >= 0 }) else {
            throw AutogradError(.invalidParameter, "\(op): stride \(shapeText(s)) and pad \(shapeText(p)) must have \(rank) dimension(s), stride >= 1, pad >= 0")
        }
        try checkWindowValues(k + s + p, "kernel, stride and pad", op: op)
    }
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank where !at.bool("global_pool") {
        guard inDims[i] + 2 * p[i] >= k[i] else {
            throw AutogradError(.shapeMismatch, "\(op): kernel \(shapeText(k)) is larger than the padded input \(shapeText(shape))")
        }
        let span = inDims[i] + 2 * p[i] - k[i]
        out[i] = 1 + (convention == "full" ? (span + s[i] - 1) / s[i] : span / s[i])
    }
    let conv = ConvGeometry(n: shape[0], c: shape[1], rank: rank, input: liftToThree(inDims, 1), kernel: liftToThree(k, 1),
                            stride: liftToThree(s, 1), pad: liftToThree(p, 0), dilate: [1, 1, 1], output: liftToThree(out, 1))
    return PoolGeometry(conv: conv, type: type, countIncludePad: at.optBool("count_include_pad") ?? true)
}

/// A window's clipped bounds along one axis and its extent for the divisor (MXNet's rule: the
/// window clipped to the padded input, or to the input itself without count_include_pad).
@inline(__always)
private func clippedRange(_ o: Int, stride: Int, pad: Int, kernel: Int, size: Int, includePad: Bool) -> (lo: Int, hi: Int, extent: Int) {
    let start = o * stride - pad, end = min(start + kernel, size + pad)
    let lo = max(start, 0), hi = max(min(end, size), lo)
    return (lo, hi, includePad ? max(end - start, 0) : hi - lo)
}

/// Forward pooling of x into out; for max pooling also the flat in-plane index of each window's first maximum.
private func poolLoop<T: BinaryFloatingPoint>(_ x: NDArray, _ out: NDArray, _ idx: UnsafeMutableBufferPointer<Double>?, _ g: PoolGeometry,
                                              _: T.Type) throws {
    let px = x.buffer(T.self), po = out.buffer(T.self), c = g.conv, incl = g.countIncludePad
    let isMax = g.type == "max", isAvg = g.type == "avg"
    for plane in 0..<(c.n * c.c) {
        let src = plane * c.inPlane
        var o = plane * c.outPlane
        for oz in 0..<c.ot {
            let z = clippedRange(oz, stride: c.st, pad: c.pt, kernel: c.kt, size: c.t, includePad: incl)
            for oy in 0..<c.oh {
                let y = clippedRange(oy, stride: c.sh, pad: c.ph, kernel: c.kh, size: c.h, includePad: incl)
                for ox in 0..<c.ow {
                    let xr = clippedRange(ox, stride: c.sw, pad: c.pw, kernel: c.kw, size: c.w, includePad: incl)
                    defer { o += 1 }
                    if isMax {
                        var best = -T.infinity, at = -1
                        for zz in z.lo..<z.hi { for yy in y.lo..<y.hi { for xx in xr.lo..<xr.hi {
                            let i = (zz * c.h + yy) * c.w + xx
                            if at < 0 || px[src + i] > best { best = px[src + i]; at = i }
                        } } }
                        guard at >= 0 else { throw AutogradError(.invalidParameter, "Pooling: a max-pooling window lies entirely in the padding") }
                        po[o] = best
                        idx?[o] = Double(at)
                    } else {
                        var s: T = 0
                        for zz in z.lo..<z.hi { for yy in y.lo..<y.hi { for xx in xr.lo..<xr.hi { s += px[src + (zz * c.h + yy) * c.w + xx] } } }
                        let size = z.extent * y.extent * xr.extent
                        po[o] = isAvg ? (size > 0 ? s / T(size) : 0) : s
                    }
                }
            }
        }
    }
}

/// The transpose of avg/sum pooling: out (zeroed, input shape) += each output gradient spread over its window.
private func poolAdjointLoop<T: BinaryFloatingPoint>(_ dy: NDArray, _ out: NDArray, _ g: PoolGeometry, _: T.Type) {
    let pg = dy.buffer(T.self), po = out.buffer(T.self), c = g.conv, incl = g.countIncludePad
    let isAvg = g.type == "avg"
    for plane in 0..<(c.n * c.c) {
        let dst = plane * c.inPlane
        var o = plane * c.outPlane
        for oz in 0..<c.ot {
            let z = clippedRange(oz, stride: c.st, pad: c.pt, kernel: c.kt, size: c.t, includePad: incl)
            for oy in 0..<c.oh {
                let y = clippedRange(oy, stride: c.sh, pad: c.ph, kernel: c.kh, size: c.h, includePad: incl)
                for ox in 0..<c.ow {
                    let xr = clippedRange(ox, stride: c.sw, pad: c.pw, kernel: c.kw, size: c.w, includePad: incl)
                    var v = pg[o]
                    o += 1
                    if isAvg {
                        let size = z.extent * y.extent * xr.extent
                        v = size > 0 ? v / T(size) : 0
                    }
                    for zz in z.lo..<z.hi { for yy in y.lo..<y.hi { for xx in xr.lo..<xr.hi { po[dst + (zz * c.h + yy) * c.w + xx] += v } } }
                }
            }
        }
    }
}

private let poolSpecs = [
    param("kernel", .ints, .list([]), "window size (ignored with global_pool)"),
    param("pool_type", .string(["max", "avg", "sum", "lp"]), .string("max"), "lp is not supported"),
    param("global_pool", .bool, .bool(false)), param("cudnn_off", .bool, .bool(false), "ignored"),
    param("pooling_convention", .string(["valid", "full", "same"]), .string("valid"), "same is not supported"),
    param("stride", .ints, .list([]), "default 1"), param("pad", .ints, .list([]), "default 0"),
    param("p_value", .optInt, .null, "lp pooling only"),
    param("count_include_pad", .optBool, .null, "avg: count padded cells (None means true)"),
    param("layout", .optString(["NCW", "NCHW", "NCDHW", "NWC", "NHWC", "NDHWC"]), .null, "channels-first only"),
]

private func floatInput(_ x: NDArray, _ op: String) throws {
    guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(op): requires float32 or float64, got \(x.dtype.rawValue)") }
}

let poolingOps: [OpDef] = [
    OpDef("Pooling", inputs: ["data"], params: poolSpecs,
          summary: "max / avg / sum pooling over NCW, NCHW or NCDHW (global_pool, valid/full conventions, count_include_pad)",
          forward: { a in
              let x = a[0]
              try floatInput(x, "Pooling")
              let g = try poolGeometry(x.shape, a.attrs)
              let c = g.conv
              let out = try a.ctx.empty([c.n, c.c] + c.outSpatial, x.dtype)
              guard g.type == "max" else {
                  if x.dtype == .float64 { try poolLoop(x, out, nil, g, Double.self) } else { try poolLoop(x, out, nil, g, Float.self) }
                  return ForwardResult(out)
              }
              let idx = try a.ctx.empty([c.n * c.c, c.outPlane], .float64)
              let pi = idx.buffer(Double.self)
              if x.dtype == .float64 { try poolLoop(x, out, pi, g, Double.self) } else { try poolLoop(x, out, pi, g, Float.self) }
              return ForwardResult([out], aux: [idx])
          }, vjp: { a in
              let c = a.ctx, shape = a.inputMeta[0].shape
              let g = try poolGeometry(shape, a.attrs)
              if g.type == "max" {
                  let dy = try c.reshape(a.g, [g.conv.n * g.conv.c, g.conv.outPlane])
                  let dx = try c.op("_scatter_axis", [dy, a.aux[0]], ["axis": .int(1), "dim": .int(g.conv.inPlane)])
                  return [try c.reshape(dx, shape)]
              }
              let attrs = Attrs(names: a.attrs.names + ["in_shape"], values: a.attrs.values + [.ints(shape)])
              return [try c.run(OpTable.get("_pooling_adjoint"), [a.g], attrs)[0]]
          }),
    OpDef("_pooling_adjoint", inputs: ["grad"], params: poolSpecs + [param("in_shape", .ints, nil)],
          summary: "transpose of avg/sum Pooling", hidden: true, forward: { a in
              let dy = a[0]
              try floatInput(dy, "_pooling_adjoint")
              let g = try poolGeometry(a.attrs.ints("in_shape"), a.attrs)
              guard g.type != "max", dy.shape == [g.conv.n, g.conv.c] + g.conv.outSpatial else {
                  throw AutogradError(.shapeMismatch, "_pooling_adjoint: needs avg or sum pooling and a gradient of the pooled shape")
              }
              let out = try a.ctx.zeros(a.attrs.ints("in_shape"), dy.dtype)
              if dy.dtype == .float64 { poolAdjointLoop(dy, out, g, Double.self) } else { poolAdjointLoop(dy, out, g, Float.self) }
              return ForwardResult(out)
          }, vjp: { a in
              let attrs = Attrs(names: Array(a.attrs.names.dropLast()), values: Array(a.attrs.values.dropLast()))
              return [try a.ctx.run(OpTable.get("Pooling"), [a.g], attrs)[0]]
          }),
]
