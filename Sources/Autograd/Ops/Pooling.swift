import Glibc

// Pooling (max / avg / sum) over NCW or NCHW. Max pooling keeps the flat position of each
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
    guard rank == 1 || rank == 2 else { throw AutogradError(.shapeMismatch, "\(op): expects NCW or NCHW input, got shape \(shapeText(shape))") }
    if let layout = at.optString("layout"), layout != (rank == 1 ? "NCW" : "NCHW") {
        throw AutogradError(.invalidParameter, "\(op): layout \(layout) is not supported for input of rank \(rank + 2) (NCW and NCHW only)")
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
    }
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank where !at.bool("global_pool") {
        guard inDims[i] + 2 * p[i] >= k[i] else {
            throw AutogradError(.shapeMismatch, "\(op): kernel \(shapeText(k)) is larger than the padded input \(shapeText(shape))")
        }
        let span = inDims[i] + 2 * p[i] - k[i]
        out[i] = 1 + (convention == "full" ? (span + s[i] - 1) / s[i] : span / s[i])
    }
    let lift = { (v: [Int], unit: Int) in rank == 1 ? [unit] + v : v }
    let k2 = lift(k, 1), s2 = lift(s, 1), p2 = lift(p, 0), i2 = lift(inDims, 1), o2 = lift(out, 1)
    let conv = ConvGeometry(n: shape[0], c: shape[1], h: i2[0], w: i2[1], kh: k2[0], kw: k2[1], sh: s2[0], sw: s2[1],
                            ph: p2[0], pw: p2[1], dh: 1, dw: 1, oh: o2[0], ow: o2[1], rank: rank)
    return PoolGeometry(conv: conv, type: type, countIncludePad: at.optBool("count_include_pad") ?? true)
}

/// The clipped window of output (oy, ox) and the divisor of avg pooling (MXNet's rule: the
/// window clipped to the padded input, or to the input without count_include_pad).
@inline(__always)
private func poolWindow(_ g: PoolGeometry, _ oy: Int, _ ox: Int) -> (h0: Int, h1: Int, w0: Int, w1: Int, size: Int) {
    let c = g.conv
    var h0 = oy * c.sh - c.ph, w0 = ox * c.sw - c.pw
    var h1 = min(h0 + c.kh, c.h + c.ph), w1 = min(w0 + c.kw, c.w + c.pw)
    var size = (h1 - h0) * (w1 - w0)
    h0 = max(h0, 0); w0 = max(w0, 0); h1 = min(h1, c.h); w1 = min(w1, c.w)
    if !g.countIncludePad { size = (h1 - h0) * (w1 - w0) }
    return (h0, h1, w0, w1, size)
}

/// Forward pooling of x into out; for max pooling also the flat in-plane index of each window's first maximum.
private func poolLoop<T: BinaryFloatingPoint>(_ x: NDArray, _ out: NDArray, _ idx: UnsafeMutableBufferPointer<Double>?, _ g: PoolGeometry,
                                              _: T.Type) throws {
    let px = x.buffer(T.self), po = out.buffer(T.self), c = g.conv
    let isMax = g.type == "max", isAvg = g.type == "avg"
    for plane in 0..<(c.n * c.c) {
        let src = plane * c.inPlane
        for oy in 0..<c.oh {
            for ox in 0..<c.ow {
                let win = poolWindow(g, oy, ox), o = plane * c.outPlane + oy * c.ow + ox
                if isMax {
                    var best = -T.infinity, at = -1
                    for h in win.h0..<max(win.h1, win.h0) {
                        for w in win.w0..<max(win.w1, win.w0) where at < 0 || px[src + h * c.w + w] > best {
                            best = px[src + h * c.w + w]; at = h * c.w + w
                        }
                    }
                    guard at >= 0 else { throw AutogradError(.invalidParameter, "Pooling: a max-pooling window lies entirely in the padding") }
                    po[o] = best
                    idx?[o] = Double(at)
                } else {
                    var s: T = 0
                    for h in win.h0..<max(win.h1, win.h0) { for w in win.w0..<max(win.w1, win.w0) { s += px[src + h * c.w + w] } }
                    po[o] = isAvg ? (win.size > 0 ? s / T(win.size) : 0) : s
                }
            }
        }
    }
}

/// The transpose of avg/sum pooling: out (zeroed, input shape) += each output gradient spread over its window.
private func poolAdjointLoop<T: BinaryFloatingPoint>(_ dy: NDArray, _ out: NDArray, _ g: PoolGeometry, _: T.Type) {
    let pg = dy.buffer(T.self), po = out.buffer(T.self), c = g.conv
    let isAvg = g.type == "avg"
    for plane in 0..<(c.n * c.c) {
        let dst = plane * c.inPlane
        for oy in 0..<c.oh {
            for ox in 0..<c.ow {
                let win = poolWindow(g, oy, ox)
                var v = pg[plane * c.outPlane + oy * c.ow + ox]
                if isAvg { v = win.size > 0 ? v / T(win.size) : 0 }
                for h in win.h0..<max(win.h1, win.h0) { for w in win.w0..<max(win.w1, win.w0) { po[dst + h * c.w + w] += v } }
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
    param("layout", .optString(["NCW", "NCHW", "NCDHW", "NWC", "NHWC", "NDHWC"]), .null, "NCW or NCHW only"),
]

private func floatInput(_ x: NDArray, _ op: String) throws {
    guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(op): requires float32 or float64, got \(x.dtype.rawValue)") }
}

let poolingOps: [OpDef] = [
    OpDef("Pooling", inputs: ["data"], params: poolSpecs,
          summary: "max / avg / sum pooling over NCW or NCHW (global_pool, valid/full conventions, count_include_pad)",
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
