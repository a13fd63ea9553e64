import Glibc

/// softmax (or log-softmax) of x/T along `axis`, computed per line in Double.
private func softmaxForward(_ c: Context, _ x: NDArray, axis: Int, temperature: Double, log: Bool) throws -> NDArray {
    guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "softmax: requires a float dtype, got \(x.dtype.rawValue)") }
    let v = x.toDoubles(), n = x.shape[axis]
    let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
    var r = [Double](repeating: 0, count: v.count)
    for o in 0..<outer {
        for i in 0..<inner {
            let at = { (j: Int) in (o * n + j) * inner + i }
            var m = -Double.infinity
            for j in 0..<n { m = max(m, v[at(j)] / temperature) }
            var s = 0.0
            for j in 0..<n { s += exp(v[at(j)] / temperature - m) }
            for j in 0..<n {
                let z = v[at(j)] / temperature - m
                r[at(j)] = log ? z - Glibc.log(s) : exp(z) / s
            }
        }
    }
    let out = try c.empty(x.shape, x.dtype)
    Kernels.fill(out, r)
    return out
}

private let softmaxParams = [param("axis", .int, .int(-1)), param("temperature", .optDouble, .null), param("dtype", .optDType, .null)]

private func softmaxOp(_ name: String, log: Bool, _ summary: String, vjp: @escaping VJPFn) -> OpDef {
    OpDef(name, inputs: ["data"], params: softmaxParams, summary: summary, saves: .outputs, forward: { a in
        let x = a[0]
        let axis = try normAxis(a.attrs.int("axis"), x.ndim, name)
        var y = try softmaxForward(a.ctx, x, axis: axis, temperature: a.attrs.optDouble("temperature") ?? 1, log: log)
        if let d = a.attrs.dtype("dtype"), d != y.dtype {
            guard d.isFloat else { throw AutogradError(.invalidParameter, "\(name): dtype must be a float type") }
            let o = try a.ctx.empty(y.shape, d)
            Kernels.convert(y, into: o)
            y = o
        }
        return ForwardResult(y)
    }, vjp: vjp)
}

/// The constant target and row mask of SoftmaxOutput's gradient (p - target) · mask.
private func softmaxOutputTarget(_ c: Context, probShape: [Int], classAxis: Int, label: NDArray, attrs: Attrs) throws -> (NDArray, NDArray, Double) {
    let k = probShape[classAxis]
    let inner = probShape[(classAxis + 1)...].reduce(1, *), outer = probShape[..<classAxis].reduce(1, *)
    let labels = label.toDoubles()
    guard labels.count == outer * inner else {
        throw AutogradError(.shapeMismatch, "SoftmaxOutput: label shape \(shapeText(label.shape)) does not match data shape \(shapeText(probShape))")
    }
    let alpha = attrs.double("smooth_alpha"), useIgnore = attrs.bool("use_ignore"), ignore = attrs.double("ignore_label")
    let off = k > 1 ? alpha / Double(k - 1) : 0
    var t = [Double](repeating: off, count: outer * k * inner)
    var m = [Double](repeating: 1, count: t.count)
    var valid = 0
    for o in 0..<outer {
        for i in 0..<inner {
            let l = labels[o * inner + i]
            let ignored = useIgnore && l == ignore
            if !ignored { valid += 1 }
            let j = min(max(indexInt(l), 0), k - 1)
            for q in 0..<k {
                let at = (o * k + q) * inner + i
                if q == j { t[at] = 1 - alpha }
                if ignored { m[at] = 0; t[at] = 0 }
            }
        }
    }
    let target = try c.empty(probShape, label.dtype == .float64 ? .float64 : .float32)
    let mask = try c.empty(probShape, target.dtype)
    Kernels.fill(target, t)
    Kernels.fill(mask, m)
    var norm = 1.0
    switch attrs.string("normalization") {
    case "batch": norm = Double(probShape[0])
    case "valid": norm = Double(max(valid, 1))
    default: break
    }
    return (target, mask, norm)
}

/// Class axis and 2-D/N-D layout of SoftmaxOutput's probabilities.
private func softmaxOutputLayout(_ shape: [Int], _ attrs: Attrs) -> (probShape: [Int], axis: Int) {
    if attrs.bool("multi_output") && shape.count >= 2 { return (shape, 1) }
    if attrs.bool("preserve_shape") { return (shape, shape.count - 1) }
    return ([shape[0], shape.dropFirst().reduce(1, *)], 1)
}

private func dropoutMask(_ c: Context, _ shape: [Int], _ dtype: DType, p: Double, axes: [Int]) throws -> NDArray {
    var maskShape = shape
    for ax in axes { maskShape[try normAxis(ax, shape.count, "Dropout")] = 1 }
    let mask = try c.empty(maskShape, dtype)
    let keep = 1 / (1 - p)
    var v = [Double](repeating: 0, count: mask.size)
    if p < 1 { for i in v.indices { v[i] = c.rng.uniform() >= p ? keep : 0 } }
    Kernels.fill(mask, v)
    return mask
}

/// Per-channel shape [1, .., C, .., 1] and the reduced axes of BatchNorm.
private func bnLayout(_ shape: [Int], _ axis: Int) -> (kept: [Int], axes: [Int]) {
    (shape.indices.map { $0 == axis ? shape[$0] : 1 }, shape.indices.filter { $0 != axis })
}

let nnOps: [OpDef] = [
    softmaxOp("softmax", log: false, "softmax(x / temperature) along an axis", vjp: { a in
        let c = a.ctx, axis = try normAxis(a.attrs.int("axis"), a.y.ndim, "softmax")
        let g = try c.cast(a.g, a.y.dtype)
        let s = try c.sum(c.mul(g, a.y), axes: [axis], keepdims: true)
        let d = try c.mul(a.y, c.sub(g, s))
        return [try c.scale(d, 1 / (a.attrs.optDouble("temperature") ?? 1))]
    }),
    softmaxOp("log_softmax", log: true, "log of softmax(x / temperature) along an axis", vjp: { a in
        let c = a.ctx, axis = try normAxis(a.attrs.int("axis"), a.y.ndim, "log_softmax")
        let g = try c.cast(a.g, a.y.dtype)
        let d = try c.sub(g, c.mul(c.unary("exp", a.y), c.sum(g, axes: [axis], keepdims: true)))
        return [try c.scale(d, 1 / (a.attrs.optDouble("temperature") ?? 1))]
    }),
    OpDef("softmax_cross_entropy", inputs: ["data", "label"],
          summary: "sum over rows of -log softmax(data)[label]; output shape (1,)", saves: .inputs, forward: { a in
              let x = a[0], label = a[1]
              guard x.ndim == 2, label.size == x.shape[0] else {
                  throw AutogradError(.shapeMismatch, "softmax_cross_entropy: expects data (N,K) and label (N,), got \(shapeText(x.shape)) and \(shapeText(label.shape))")
              }
              let ls = try softmaxForward(a.ctx, x, axis: 1, temperature: 1, log: true).toDoubles()
              let k = x.shape[1]
              var total = 0.0
              for (i, l) in label.toDoubles().enumerated() { total -= ls[i * k + min(max(indexInt(l), 0), k - 1)] }
              let out = try a.ctx.empty([1], x.dtype)
              Kernels.fill(out, [total])
              return ForwardResult(out)
          }, vjp: { a in
              let c = a.ctx, x = a.input(0)
              let oh = try c.op("one_hot", [a.input(1)], ["depth": .int(x.shape[1]), "dtype": .string(x.dtype.rawValue)])
              return [try c.mul(c.sub(c.op("softmax", [x]), oh), a.g), nil]
          }),
    OpDef("SoftmaxOutput", aliases: ["Softmax"], inputs: ["data", "label"],
          params: [param("grad_scale", .double, .double(1)), param("ignore_label", .double, .double(-1)),
                   param("multi_output", .bool, .bool(false)), param("use_ignore", .bool, .bool(false)),
                   param("preserve_shape", .bool, .bool(false)), param("normalization", .string(["null", "batch", "valid"]), .string("null")),
                   param("out_grad", .bool, .bool(false)), param("smooth_alpha", .double, .double(0))],
          summary: "softmax forward; backward ignores the head gradient and gives (softmax - onehot(label)) * grad_scale",
          saves: .both, forward: { a in
              let x = a[0]
              guard x.ndim >= 1 else { throw AutogradError(.shapeMismatch, "SoftmaxOutput: data needs at least one axis") }
              let (ps, axis) = softmaxOutputLayout(x.shape, a.attrs)
              let x2 = NDArray(context: a.ctx, storage: x.storage, shape: ps, dtype: x.dtype)
              let p = try softmaxForward(a.ctx, x2, axis: axis, temperature: 1, log: false)
              _ = try softmaxOutputTarget(a.ctx, probShape: ps, classAxis: axis, label: a[1], attrs: a.attrs)
              return ForwardResult([NDArray(context: a.ctx, storage: p.storage, shape: x.shape, dtype: x.dtype)])
          }, vjp: { a in
              let c = a.ctx, shape = a.inputMeta[0].shape
              let (ps, axis) = softmaxOutputLayout(shape, a.attrs)
              let (target, mask, norm) = try softmaxOutputTarget(c, probShape: ps, classAxis: axis, label: a.input(1), attrs: a.attrs)
              let p = try c.reshape(a.y, ps)
              var d = try c.mul(c.sub(p, c.cast(target, p.dtype)), c.cast(mask, p.dtype))
              d = try c.scale(d, a.attrs.double("grad_scale") / norm)
              d = try c.reshape(d, shape)
              if a.attrs.bool("out_grad") { d = try c.mul(d, a.g) }
              return [d, nil]
          }),
    OpDef("Dropout", inputs: ["data"],
          params: [param("p", .double, .double(0.5)), param("mode", .string(["training", "always"]), .string("training")),
                   param("axes", .ints, .list([]), "axes sharing one mask value"), param("cudnn_off", .bool, .bool(false))],
          summary: "inverted dropout in training (or mode='always'): keep with prob 1-p, scale 1/(1-p); p=1 gives zeros; identity otherwise",
          forward: { a in
              let x = a[0], p = a.attrs.double("p")
              guard p >= 0 && p <= 1 else { throw AutogradError(.invalidParameter, "Dropout: p must be in [0, 1], got \(p)") }
              guard (a.ctx.isTraining || a.attrs.string("mode") == "always") && p > 0 else {
                  return try reshaped(a.ctx, x, x.shape)
              }
              let mask = try dropoutMask(a.ctx, x.shape, x.dtype, p: p, axes: a.attrs.ints("axes"))
              let out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.binary(.mul, x, mask, out)
              return ForwardResult([out], aux: [mask])
          }, vjp: { a in
              guard let mask = a.aux.first else { return [a.g] }
              return [try a.ctx.mul(a.g, mask)]
          }),
    OpDef("BatchNorm", inputs: ["data", "gamma", "beta", "moving_mean", "moving_var"],
          params: [param("eps", .double, .double(1e-3)), param("momentum", .double, .double(0.9)), param("fix_gamma", .bool, .bool(true)),
                   param("use_global_stats", .bool, .bool(false)), param("output_mean_var", .bool, .bool(false)),
                   param("axis", .int, .int(1)), param("cudnn_off", .bool, .bool(false))],
          summary: "batch normalisation; moving stats are updated in place when backward runs in train mode (as MXNet on CPU)",
          outputs: 0, saves: .inputs, forward: { a in
              let x = a[0], gamma = a[1], beta = a[2], mm = a[3], mv = a[4]
              let axis = try normAxis(a.attrs.int("axis"), x.ndim, "BatchNorm")
              let ch = x.shape[axis]
              for (i, p) in a.inputs.enumerated().dropFirst() {
                  try sameDType(x, p, input: i)
                  guard p.shape == [ch] else {
                      throw AutogradError(.shapeMismatch, "BatchNorm: input \(i) has shape \(shapeText(p.shape)), expected [\(ch)]")
                  }
              }
              guard x.dtype.isFloat else { throw AutogradError(.dtypeMismatch, "BatchNorm: requires a float dtype") }
              let eps = a.attrs.double("eps")
              if a.attrs.bool("fix_gamma") { Kernels.fill(gamma, 1) }
              let training = a.ctx.isTraining && !a.attrs.bool("use_global_stats")
              let (kept, axes) = bnLayout(x.shape, axis)
              var mean: [Double], variance: [Double]
              if training {
                  let n = Double(axes.reduce(1) { $0 * x.shape[$1] })
                  let s = try a.ctx.empty(kept, .float64), xd = try a.ctx.empty(x.shape, .float64)
                  Kernels.convert(x, into: xd)
                  Kernels.reduce(.sum, xd, axes: Set(axes), s)
                  mean = s.toDoubles().map { $0 / n }
                  let m = try a.ctx.array(mean, shape: kept, dtype: .float64)
                  Kernels.binary(.sub, xd, m, xd)
                  Kernels.binary(.mul, xd, xd, xd)
                  Kernels.reduce(.sum, xd, axes: Set(axes), s)
                  variance = s.toDoubles().map { $0 / n }
              } else {
                  mean = mm.toDoubles()
                  variance = mv.toDoubles()
              }
              let inv = variance.map { 1 / ($0 + eps).squareRoot() }
              let g = gamma.toDoubles(), b = beta.toDoubles()
              let scaleArr = try a.ctx.array(zip(inv, g).map { $0 * $1 }, shape: kept, dtype: x.dtype)
              let shiftArr = try a.ctx.array((0..<ch).map { b[$0] - mean[$0] * inv[$0] * g[$0] }, shape: kept, dtype: x.dtype)
              let out = try a.ctx.empty(x.shape, x.dtype)
              Kernels.binary(.mul, x, scaleArr, out)
              Kernels.binary(.add, out, shiftArr, out)
              var outs = [out]
              if a.attrs.bool("output_mean_var") {
                  outs.append(try a.ctx.array(mean, shape: [ch], dtype: x.dtype))
                  outs.append(try a.ctx.array(inv, shape: [ch], dtype: x.dtype))
              }
              let aux = training ? [try a.ctx.array(mean, shape: [ch], dtype: .float64), try a.ctx.array(variance, shape: [ch], dtype: .float64)] : []
              return ForwardResult(outs, aux: aux)
          }, vjp: { a in
              let c = a.ctx, x = a.input(0), eps = a.attrs.double("eps"), fixGamma = a.attrs.bool("fix_gamma")
              let axis = try normAxis(a.attrs.int("axis"), x.ndim, "BatchNorm")
              let (kept, axes) = bnLayout(x.shape, axis)
              let g = a.g
              let gam = fixGamma ? try c.ones(kept, x.dtype) : try c.reshape(a.input(1), kept)
              let dbeta = a.needs[2] ? try c.sum(g, axes: axes) : nil
              if a.aux.count == 2 {
                  if c.isTraining {
                      // Moving statistics are auxiliary state: updated in place, never recorded.
                      let mom = a.attrs.double("momentum")
                      for (stat, batch) in [(a.input(3), a.aux[0]), (a.input(4), a.aux[1])] {
                          let v = zip(stat.toDoubles(), batch.toDoubles()).map { $0 * mom + $1 * (1 - mom) }
                          Kernels.fill(stat, v)
                      }
                  }
                  // Recompute the batch statistics with the public ops so higher orders differentiate through them.
                  let mu = try c.op("mean", [x], ["axis": .list(axes.map { .int($0) }), "keepdims": .bool(true)])
                  let xc = try c.sub(x, mu)
                  let variance = try c.op("mean", [c.mul(xc, xc)], ["axis": .list(axes.map { .int($0) }), "keepdims": .bool(true)])
                  let inv = try c.unary("rsqrt", c.shift(variance, eps))
                  let xhat = try c.mul(xc, inv)
                  let dgamma = a.needs[1] && !fixGamma ? try c.sum(c.mul(g, xhat), axes: axes) : nil
                  var dx: NDArray? = nil
                  if a.needs[0] {
                      let dxhat = try c.mul(g, gam)
                      let m1 = try c.op("mean", [dxhat], ["axis": .list(axes.map { .int($0) }), "keepdims": .bool(true)])
                      let m2 = try c.op("mean", [c.mul(dxhat, xhat)], ["axis": .list(axes.map { .int($0) }), "keepdims": .bool(true)])
                      dx = try c.mul(inv, c.sub(c.sub(dxhat, m1), c.mul(xhat, m2)))
                  }
                  return [dx, dgamma, dbeta, nil, nil]
              }
              let inv = try c.unary("rsqrt", c.shift(c.reshape(a.input(4), kept), eps))
              let xhat = try c.mul(c.sub(x, c.reshape(a.input(3), kept)), inv)
              let dgamma = a.needs[1] && !fixGamma ? try c.sum(c.mul(g, xhat), axes: axes) : nil
              let dx = a.needs[0] ? try c.mul(g, c.mul(gam, inv)) : nil
              return [dx, dgamma, dbeta, nil, nil]
          }),
    OpDef("sgd_update", inputs: ["weight", "grad"],
          params: [param("lr", .double, nil), param("wd", .double, .double(0)), param("rescale_grad", .double, .double(1)),
                   param("clip_gradient", .double, .double(-1)), param("lazy_update", .bool, .bool(true))],
          summary: "w ← (1 − lr·wd)·w − lr·clip(rescale·g) (returns the new weight; never recorded)", forward: { a in
              let (w, g) = try optimizerInputs(a, "sgd_update")
              let lr = a.attrs.double("lr"), wd = a.attrs.double("wd")
              let v = zip(w, g).map { (1 - lr * wd) * $0 - lr * $1 }
              return ForwardResult(try a.ctx.array(v, shape: a[0].shape, dtype: a[0].dtype))
          }, vjp: nil),
    OpDef("sgd_mom_update", inputs: ["weight", "grad", "mom"],
          params: [param("lr", .double, nil), param("momentum", .double, .double(0)), param("wd", .double, .double(0)),
                   param("rescale_grad", .double, .double(1)), param("clip_gradient", .double, .double(-1)), param("lazy_update", .bool, .bool(true))],
          summary: "mom ← momentum·mom − lr·(clip(rescale·g) + wd·w) (in place); w ← w + mom", forward: { a in
              let (w, g) = try optimizerInputs(a, "sgd_mom_update")
              let lr = a.attrs.double("lr"), wd = a.attrs.double("wd"), mu = a.attrs.double("momentum")
              let mom = zip(a[2].toDoubles(), zip(w, g)).map { mu * $0 - lr * ($1.1 + wd * $1.0) }
              Kernels.fill(a[2], mom)
              return ForwardResult(try a.ctx.array(zip(w, mom).map { $0 + $1 }, shape: a[0].shape, dtype: a[0].dtype))
          }, vjp: nil),
    OpDef("adam_update", inputs: ["weight", "grad", "mean", "var"],
          params: [param("lr", .double, nil), param("beta1", .double, .double(0.9)), param("beta2", .double, .double(0.999)),
                   param("epsilon", .double, .double(1e-8)), param("wd", .double, .double(0)), param("rescale_grad", .double, .double(1)),
                   param("clip_gradient", .double, .double(-1)), param("lazy_update", .bool, .bool(true))],
          summary: "Adam step without bias correction; mean and var updated in place", forward: { a in
              for i in 1..<4 {
                  try sameDType(a[0], a[i], input: i)
                  guard a[i].shape == a[0].shape else { throw AutogradError(.shapeMismatch, "adam_update: input \(i) shape \(shapeText(a[i].shape)) != weight shape \(shapeText(a[0].shape))") }
              }
              let w = a[0].toDoubles(), lr = a.attrs.double("lr"), b1 = a.attrs.double("beta1"), b2 = a.attrs.double("beta2")
              let wd = a.attrs.double("wd"), rs = a.attrs.double("rescale_grad"), clipG = a.attrs.double("clip_gradient")
              // Adam clips after adding the weight decay term (SGD clips before).
              let g = zip(a[1].toDoubles(), w).map { clip(rs * $0 + wd * $1, clipG) }
              let mean = zip(a[2].toDoubles(), g).map { b1 * $0 + (1 - b1) * $1 }
              let variance = zip(a[3].toDoubles(), g).map { b2 * $0 + (1 - b2) * $1 * $1 }
              Kernels.fill(a[2], mean)
              Kernels.fill(a[3], variance)
              let eps = a.attrs.double("epsilon")
              let nw = w.indices.map { w[$0] - lr * mean[$0] / (variance[$0].squareRoot() + eps) }
              return ForwardResult(try a.ctx.array(nw, shape: a[0].shape, dtype: a[0].dtype))
          }, vjp: nil),
]

private func clip(_ v: Double, _ c: Double) -> Double { c < 0 ? v : min(max(v, -c), c) }

/// Weight and rescaled, clipped gradient of an SGD update.
private func optimizerInputs(_ a: ForwardArgs, _ op: String) throws -> ([Double], [Double]) {
    for i in a.inputs.indices.dropFirst() {
        try sameDType(a[0], a[i], input: i)
        guard a[i].shape == a[0].shape else { throw AutogradError(.shapeMismatch, "\(op): input \(i) shape \(shapeText(a[i].shape)) != weight shape \(shapeText(a[0].shape))") }
    }
    let rs = a.attrs.double("rescale_grad"), c = a.attrs.double("clip_gradient")
    return (a[0].toDoubles(), a[1].toDoubles().map { clip(rs * $0, c) })
}
