// Convolution and Deconvolution (NCW / NCHW / NCDHW) via im2col + one GEMM per group over the whole
// batch. Their gradients are each other: d(conv)/d(data) is a deconvolution with the same
// weight, d(deconv)/d(data) a convolution, and both weight gradients are `_conv_weight_grad`,
// whose own gradients are again a deconvolution and a convolution, so every order is recorded.

/// Kernel, stride, dilation and padding in the layout's rank (1, 2 or 3).
private struct Window {
    var kernel: [Int], stride: [Int], dilate: [Int], pad: [Int]
}

/// Reads the window parameters of a conv-like op for inputs of spatial rank `rank`.
private func window(_ at: Attrs, rank: Int, op: String) throws -> Window {
    let k = at.ints("kernel")
    guard k.count == rank else {
        throw AutogradError(.invalidParameter, "\(op): kernel \(shapeText(k)) must have \(rank) dimension(s) for input of rank \(rank + 2)")
    }
    func tuple(_ name: String, _ def: Int, min: Int) throws -> [Int] {
        let v = at.ints(name)
        if v.isEmpty { return Array(repeating: def, count: rank) }
        guard v.count == rank else {
            throw AutogradError(.invalidParameter, "\(op): \(name) \(shapeText(v)) must have \(rank) dimension(s) like kernel")
        }
        guard v.allSatisfy({ $0 >= min }) else { throw AutogradError(.invalidParameter, "\(op): \(name) values must be >= \(min), got \(shapeText(v))") }
        try checkWindowValues(v, name, op: op)
        return v
    }
    guard k.allSatisfy({ $0 >= 1 }) else { throw AutogradError(.invalidParameter, "\(op): kernel values must be >= 1, got \(shapeText(k))") }
    try checkWindowValues(k, "kernel", op: op)
    return Window(kernel: k, stride: try tuple("stride", 1, min: 1), dilate: try tuple("dilate", 1, min: 1), pad: try tuple("pad", 0, min: 0))
}

/// The layout of each spatial rank.
private let layouts = [1: "NCW", 2: "NCHW", 3: "NCDHW"]

/// Spatial rank of an N, C, spatial... input, checking the layout parameter.
private func spatialRank(_ shape: [Int], _ at: Attrs, op: String) throws -> Int {
    let rank = shape.count - 2
    guard let expected = layouts[rank] else {
        throw AutogradError(.shapeMismatch, "\(op): expects NCW, NCHW or NCDHW input, got shape \(shapeText(shape))")
    }
    if let layout = at.optString("layout"), layout != expected {
        throw AutogradError(.invalidParameter, "\(op): layout \(layout) is not supported for input of rank \(rank + 2) (channels-first only)")
    }
    return rank
}

/// Geometry of a convolution of `shape` (N, C, spatial...) under the op's window.
private func convGeometry(_ shape: [Int], _ at: Attrs, op: String) throws -> ConvGeometry {
    let rank = try spatialRank(shape, at, op: op)
    let win = try window(at, rank: rank, op: op)
    var out: [Int] = []
    for i in 0..<rank {
        let span = win.dilate[i] * (win.kernel[i] - 1) + 1, size = shape[2 + i] + 2 * win.pad[i]
        guard size >= span else {
            throw AutogradError(.shapeMismatch, "\(op): kernel (dilated size \(span)) is larger than the padded input \(shapeText(shape))")
        }
        out.append((size - span) / win.stride[i] + 1)
    }
    return ConvGeometry(n: shape[0], c: shape[1], rank: rank, input: liftToThree(Array(shape[2...]), 1), kernel: liftToThree(win.kernel, 1),
                        stride: liftToThree(win.stride, 1), pad: liftToThree(win.pad, 0), dilate: liftToThree(win.dilate, 1),
                        output: liftToThree(out, 1))
}

/// Geometry of a deconvolution of `shape` (N, C_in, spatial...): the convolution whose input is
/// the deconvolution's output. With target_shape, pad and adj are inferred as MXNet does.
private func deconvGeometry(_ shape: [Int], _ at: Attrs, channels: Int) throws -> ConvGeometry {
    let op = "Deconvolution"
    let rank = try spatialRank(shape, at, op: op)
    let win = try window(at, rank: rank, op: op)
    var adj = at.ints("adj"), target = at.ints("target_shape")
    if adj.isEmpty { adj = Array(repeating: 0, count: rank) }
    if target.allSatisfy({ $0 == 0 }) { target = [] }
    guard adj.count == rank, target.isEmpty || target.count == rank else {
        throw AutogradError(.invalidParameter, "\(op): adj and target_shape must have \(rank) dimension(s) like kernel")
    }
    try checkWindowValues(adj, "adj", op: op)
    try checkWindowValues(target, "target_shape", op: op)
    let inDims = Array(shape[2...])
    var pad = win.pad, out = inDims
    for i in 0..<rank {
        let span = win.dilate[i] * (win.kernel[i] - 1) + 1
        let full = win.stride[i] * (inDims[i] - 1) + span
        if !target.isEmpty {
            guard full >= target[i] else { throw AutogradError(.invalidParameter, "\(op): too big target shape \(shapeText(target))") }
            adj[i] = (full - target[i]) % 2
            pad[i] = (full - target[i] + 1) / 2
        }
        guard adj[i] >= 0 && adj[i] < win.stride[i] else {
            throw AutogradError(.invalidParameter, "\(op): adj \(shapeText(adj)) must be non-negative and smaller than stride \(shapeText(win.stride))")
        }
        out[i] = full - 2 * pad[i] + adj[i]
        guard out[i] >= 1 else { throw AutogradError(.shapeMismatch, "\(op): padding leaves an empty output for input \(shapeText(shape))") }
    }
    return ConvGeometry(n: shape[0], c: channels, rank: rank, input: liftToThree(out, 1), kernel: liftToThree(win.kernel, 1),
                        stride: liftToThree(win.stride, 1), pad: liftToThree(pad, 0), dilate: liftToThree(win.dilate, 1),
                        output: liftToThree(inDims, 1))
}

/// The window parameters of a geometry, in its layout's rank.
private func windowParams(_ g: ConvGeometry, groups: Int) -> [String: OpParam] {
    let pick = { (v: [Int]) -> OpParam in .list(v.suffix(g.rank).map { .int($0) }) }
    return ["kernel": pick([g.kt, g.kh, g.kw]), "stride": pick([g.st, g.sh, g.sw]), "dilate": pick([g.dt, g.dh, g.dw]),
            "pad": pick([g.pt, g.ph, g.pw]), "num_group": .int(groups), "no_bias": .bool(true)]
}

/// adj that makes a deconvolution of the geometry's output reproduce its input size exactly.
private func exactAdj(_ g: ConvGeometry) -> OpParam {
    let adj = { (i: Int, s: Int, o: Int, d: Int, k: Int, p: Int) in i - (s * (o - 1) + d * (k - 1) + 1 - 2 * p) }
    let all = [adj(g.t, g.st, g.ot, g.dt, g.kt, g.pt), adj(g.h, g.sh, g.oh, g.dh, g.kh, g.ph), adj(g.w, g.sw, g.ow, g.dw, g.kw, g.pw)]
    return .list(all.suffix(g.rank).map { .int($0) })
}

/// Checks dtypes, groups, the weight and the optional bias of a conv-like op.
private func checkConvInputs(_ a: ForwardArgs, op: String, weightShape: [Int], filters: Int) throws {
    for (i, t) in a.inputs.enumerated() {
        try sameDType(a[0], t, input: i)
        guard t.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "\(op): requires float32 or float64, got \(t.dtype.rawValue)") }
    }
    let noBias = a.attrs.bool("no_bias")
    guard a.inputs.count == (noBias ? 2 : 3) else {
        throw AutogradError(.invalidArgument, "\(op): expects \(noBias ? 2 : 3) inputs with no_bias=\(noBias), got \(a.inputs.count)")
    }
    guard a[1].shape == weightShape else {
        throw AutogradError(.shapeMismatch, "\(op): Shape inconsistent, Provided = \(shapeText(a[1].shape)), inferred shape=\(shapeText(weightShape))")
    }
    if !noBias, a[2].shape != [filters] {
        throw AutogradError(.shapeMismatch, "\(op): Shape inconsistent, Provided = \(shapeText(a[2].shape)), inferred shape=[\(filters)]")
    }
}

/// Filters and groups of a conv-like op, validated against the input channels.
private func filtersAndGroups(_ at: Attrs, channels: Int, op: String) throws -> (filters: Int, groups: Int) {
    let f = at.int("num_filter"), g = at.int("num_group")
    guard f >= 1, g >= 1, channels % g == 0, f % g == 0 else {
        throw AutogradError(.invalidParameter, "\(op): num_filter \(f) and input channels \(channels) must be positive multiples of num_group \(g)")
    }
    return (f, g)
}

extension Context {
    /// Convolution forward: out (N, F, spatial) = W ⋆ x.
    fileprivate func convolve(_ x: NDArray, _ w: NDArray, _ g: ConvGeometry, filters: Int, groups: Int) throws -> NDArray {
        let cols = g.n * g.outPlane
        let col = try empty([g.c, g.kt, g.kh, g.kw, g.n, g.outPlane], x.dtype)
        Kernels.im2col(x, col, g)
        let outT = try empty([filters, g.n, g.outPlane], x.dtype)
        BLAS.gemm(w, col, outT, m: filters / groups, n: cols, k: g.c / groups * g.kernelSize, transA: false, transB: false, batch: groups)
        let out = try empty([g.n, filters] + g.outSpatial, x.dtype)
        Kernels.swapLeading(outT, g.n, filters, g.outPlane, into: out)
        return out
    }

    /// Deconvolution forward: out (N, C, spatial) = Wᵀ applied to y (N, F, spatial) (the adjoint of `convolve` in x).
    fileprivate func deconvolve(_ y: NDArray, _ w: NDArray, _ g: ConvGeometry, filters: Int, groups: Int) throws -> NDArray {
        let cols = g.n * g.outPlane
        let yT = try empty([filters, g.n, g.outPlane], y.dtype)
        Kernels.swapLeading(y, filters, g.n, g.outPlane, into: yT)
        let col = try empty([g.c, g.kt, g.kh, g.kw, g.n, g.outPlane], y.dtype)
        BLAS.gemm(w, yT, col, m: g.c / groups * g.kernelSize, n: cols, k: filters / groups, transA: true, transB: false, batch: groups)
        let out = try zeros([g.n, g.c] + g.inSpatial, y.dtype)
        Kernels.col2imAdd(col, out, g)
        return out
    }

    /// Weight gradient: dW (F, C/groups, kernel) = Σ over batch and positions of dy ⊗ patches of x.
    fileprivate func convWeightGrad(_ x: NDArray, _ dy: NDArray, _ g: ConvGeometry, filters: Int, groups: Int) throws -> NDArray {
        let cols = g.n * g.outPlane
        let col = try empty([g.c, g.kt, g.kh, g.kw, g.n, g.outPlane], x.dtype)
        Kernels.im2col(x, col, g)
        let dyT = try empty([filters, g.n, g.outPlane], x.dtype)
        Kernels.swapLeading(dy, filters, g.n, g.outPlane, into: dyT)
        let dw = try empty([filters, g.c / groups] + g.kernel, x.dtype)
        BLAS.gemm(dyT, col, dw, m: filters / groups, n: g.c / groups * g.kernelSize, k: cols, transA: false, transB: true, batch: groups)
        return dw
    }
}

/// Sum of a gradient over every axis but the channel axis 1 (the bias gradient).
private func channelSum(_ c: Context, _ g: NDArray) throws -> NDArray {
    try c.sum(g, axes: [0] + Array(2..<g.ndim))
}

private let windowSpecs = [param("kernel", .ints, nil, "window size (1 or 2 dims)"), param("stride", .ints, .list([]), "default 1"),
                           param("dilate", .ints, .list([]), "default 1"), param("pad", .ints, .list([]), "zero padding, default 0")]
private let cudnnSpecs = [param("cudnn_tune", .optString(["off", "limited_workspace", "fastest"]), .null, "ignored"),
                          param("cudnn_off", .bool, .bool(false), "ignored"),
                          param("layout", .optString(["NCW", "NCHW", "NCDHW", "NHWC", "NWC", "NDHWC"]), .null, "channels-first only")]
private let convSpecs = windowSpecs + [param("num_filter", .int, nil), param("num_group", .int, .int(1)),
                                       param("workspace", .int, .int(1024), "ignored"), param("no_bias", .bool, .bool(false))] + cudnnSpecs

let convOps: [OpDef] = [
    OpDef("Convolution", inputs: ["data", "weight", "bias"], minInputs: 2, params: convSpecs,
          summary: "1-D/2-D/3-D convolution (NCW/NCHW/NCDHW) with stride, pad, dilate and groups; weight (num_filter, C/num_group, *kernel)",
          saves: .inputs, forward: { a in
              let x = a[0]
              let g = try convGeometry(x.shape, a.attrs, op: "Convolution")
              let (f, groups) = try filtersAndGroups(a.attrs, channels: g.c, op: "Convolution")
              try checkConvInputs(a, op: "Convolution", weightShape: [f, g.c / groups] + a.attrs.ints("kernel"), filters: f)
              let out = try a.ctx.convolve(x, a[1], g, filters: f, groups: groups)
              if !a.attrs.bool("no_bias") { Kernels.addChannelBias(out, a[2], n: g.n, c: f, plane: g.outPlane) }
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, x = a.input(0), w = a.input(1)
              let g = try convGeometry(x.shape, a.attrs, op: "Convolution")
              let groups = a.attrs.int("num_group")
              var p = windowParams(g, groups: groups)
              var dx: NDArray? = nil, dw: NDArray? = nil
              if a.needs[0] {
                  var pd = p
                  pd["num_filter"] = .int(g.c)
                  pd["adj"] = exactAdj(g)
                  dx = try c.op("Deconvolution", [a.g, w], pd)
              }
              if a.needs[1] {
                  p["num_filter"] = .int(a.attrs.int("num_filter"))
                  dw = try c.op("_conv_weight_grad", [x, a.g], p)
              }
              let db = a.needs.count > 2 && a.needs[2] ? try channelSum(c, a.g) : nil
              return [dx, dw, db]
          }),
    OpDef("Deconvolution", inputs: ["data", "weight", "bias"], minInputs: 2,
          params: windowSpecs + [param("adj", .ints, .list([]), "extra output size at the end, < stride"),
                                 param("target_shape", .ints, .list([]), "output spatial shape (pad and adj inferred)"),
                                 param("num_filter", .int, nil), param("num_group", .int, .int(1)),
                                 param("workspace", .int, .int(512), "ignored"), param("no_bias", .bool, .bool(true))] + cudnnSpecs,
          summary: "transposed convolution (the gradient of Convolution in its data); weight (C_in, num_filter/num_group, *kernel)",
          saves: .inputs, forward: { a in
              let y = a[0]
              guard y.ndim >= 2 else { throw AutogradError(.shapeMismatch, "Deconvolution: expects NCW, NCHW or NCDHW input, got \(shapeText(y.shape))") }
              let (f, groups) = try filtersAndGroups(a.attrs, channels: y.shape[1], op: "Deconvolution")
              let g = try deconvGeometry(y.shape, a.attrs, channels: f)
              try checkConvInputs(a, op: "Deconvolution", weightShape: [y.shape[1], f / groups] + a.attrs.ints("kernel"),
                                  filters: f)
              let out = try a.ctx.deconvolve(y, a[1], g, filters: y.shape[1], groups: groups)
              if !a.attrs.bool("no_bias") { Kernels.addChannelBias(out, a[2], n: g.n, c: f, plane: g.inPlane) }
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, y = a.input(0), w = a.input(1)
              let g = try deconvGeometry(y.shape, a.attrs, channels: a.attrs.int("num_filter"))
              var p = windowParams(g, groups: a.attrs.int("num_group"))
              p["num_filter"] = .int(y.shape[1])
              let dy = a.needs[0] ? try c.op("Convolution", [a.g, w], p) : nil
              let dw = a.needs[1] ? try c.op("_conv_weight_grad", [a.g, y], p) : nil
              let db = a.needs.count > 2 && a.needs[2] ? try channelSum(c, a.g) : nil
              return [dy, dw, db]
          }),
    OpDef("_conv_weight_grad", inputs: ["data", "grad"], params: convSpecs,
          summary: "weight gradient of Convolution for data and output gradient", saves: .inputs, hidden: true, forward: { a in
              let x = a[0], dy = a[1]
              try sameDType(x, dy)
              guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "_conv_weight_grad: requires a float dtype") }
              let g = try convGeometry(x.shape, a.attrs, op: "_conv_weight_grad")
              let (f, groups) = try filtersAndGroups(a.attrs, channels: g.c, op: "_conv_weight_grad")
              guard dy.shape == [g.n, f] + g.outSpatial else {
                  throw AutogradError(.shapeMismatch, "_conv_weight_grad: grad has shape \(shapeText(dy.shape)), expected \(shapeText([g.n, f] + g.outSpatial))")
              }
              return ForwardResult(try a.ctx.convWeightGrad(x, dy, g, filters: f, groups: groups))
          }, vjp: { a in
              let c = a.ctx, x = a.input(0), dy = a.input(1)
              let g = try convGeometry(x.shape, a.attrs, op: "_conv_weight_grad")
              var p = windowParams(g, groups: a.attrs.int("num_group"))
              var dx: NDArray? = nil, ddy: NDArray? = nil
              if a.needs[0] {
                  var pd = p
                  pd["num_filter"] = .int(g.c)
                  pd["adj"] = exactAdj(g)
                  dx = try c.op("Deconvolution", [dy, a.g], pd)
              }
              if a.needs[1] {
                  p["num_filter"] = .int(a.attrs.int("num_filter"))
                  ddy = try c.op("Convolution", [x, a.g], p)
              }
              return [dx, ddy]
          }),
]
