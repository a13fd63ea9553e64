import Glibc

private let dtypeParam = param("dtype", .dtype, .string("float32"))

private func filled(_ a: ForwardArgs, _ shape: [Int], _ dtype: DType, _ v: Double) throws -> ForwardResult {
    let out = try a.ctx.empty(shape, dtype)
    Kernels.fill(out, v)
    return ForwardResult(out)
}

private func randomOp(_ name: String, _ aliases: [String], params: [ParamSpec], defaultDType: String, _ summary: String,
                      _ draw: @escaping @Sendable (inout RandomState, Attrs) -> Double) -> OpDef {
    OpDef(name, aliases: aliases, inputs: [],
          params: params + [param("shape", .ints, .list([.int(1)])), param("dtype", .dtype, .string(defaultDType))],
          summary: summary, forward: { a in
              if name == "random_randint" {
                  let lo = a.attrs.int("low"), hi = a.attrs.int("high")
                  guard lo < hi, hi.subtractingReportingOverflow(lo).overflow == false else {
                      throw AutogradError(.invalidParameter, "random_randint: needs low < high, got low=\(lo) high=\(hi)")
                  }
              }
              let out = try a.ctx.empty(a.attrs.ints("shape"), a.attrs.dtype("dtype")!)
              var v = [Double](repeating: 0, count: out.size)
              for i in v.indices { v[i] = draw(&a.ctx.rng, a.attrs) }
              Kernels.fill(out, v)
              return ForwardResult(out)
          }, vjp: nil)
}

let creationOps: [OpDef] = [
    OpDef("zeros", aliases: ["_zeros"], inputs: [], params: [param("shape", .ints, nil), dtypeParam], summary: "array of zeros",
          forward: { a in try filled(a, a.attrs.ints("shape"), a.attrs.dtype("dtype")!, 0) }, vjp: nil),
    OpDef("ones", aliases: ["_ones"], inputs: [], params: [param("shape", .ints, nil), dtypeParam], summary: "array of ones",
          forward: { a in try filled(a, a.attrs.ints("shape"), a.attrs.dtype("dtype")!, 1) }, vjp: nil),
    OpDef("full", aliases: ["_full"], inputs: [], params: [param("shape", .ints, nil), param("value", .double, nil), dtypeParam],
          summary: "array filled with value",
          forward: { a in try filled(a, a.attrs.ints("shape"), a.attrs.dtype("dtype")!, a.attrs.double("value")) }, vjp: nil),
    OpDef("zeros_like", inputs: ["data"], summary: "zeros of data's shape and dtype",
          forward: { a in try filled(a, a[0].shape, a[0].dtype, 0) }, vjp: nil),
    OpDef("ones_like", inputs: ["data"], summary: "ones of data's shape and dtype",
          forward: { a in try filled(a, a[0].shape, a[0].dtype, 1) }, vjp: nil),
    OpDef("arange", aliases: ["_arange"], inputs: [],
          params: [param("start", .double, nil), param("stop", .optDouble, .null), param("step", .double, .double(1)),
                   param("repeat", .int, .int(1)), dtypeParam],
          summary: "evenly spaced values in [start, stop) (one argument: [0, start)), each repeated", forward: { a in
              var start = a.attrs.double("start"), stop = a.attrs.optDouble("stop")
              let step = a.attrs.double("step"), rep = a.attrs.int("repeat")
              if stop == nil { stop = start; start = 0 }
              guard step != 0, rep >= 1 else { throw AutogradError(.invalidParameter, "arange: step must be nonzero and repeat >= 1") }
              let count = ceil((stop! - start) / step)
              guard count.isNaN || count <= Double(a.ctx.limits.maxElements) / Double(rep) else {
                  throw AutogradError(.arrayTooLarge, "arange: \(count) x \(rep) elements is over the limit of \(a.ctx.limits.maxElements)")
              }
              let n = count > 0 ? Int(count) : 0
              var v: [Double] = []
              v.reserveCapacity(n * rep)
              for i in 0..<n { for _ in 0..<rep { v.append(start + Double(i) * step) } }
              let out = try a.ctx.empty([v.count], a.attrs.dtype("dtype")!)
              Kernels.fill(out, v)
              return ForwardResult(out)
          }, vjp: nil),
    randomOp("random_uniform", ["_random_uniform", "uniform"], params: [param("low", .double, .double(0)), param("high", .double, .double(1))],
             defaultDType: "float32", "uniform samples in [low, high) from the context's generator") { rng, at in
        at.double("low") + (at.double("high") - at.double("low")) * rng.uniform()
    },
    randomOp("random_normal", ["_random_normal", "normal"], params: [param("loc", .double, .double(0)), param("scale", .double, .double(1))],
             defaultDType: "float32", "normal samples from the context's generator") { rng, at in
        at.double("loc") + at.double("scale") * rng.normal()
    },
    randomOp("random_randint", ["_random_randint", "randint"], params: [param("low", .int, nil), param("high", .int, nil)],
             defaultDType: "int32", "integers uniform in [low, high) from the context's generator") { rng, at in
        let lo = at.int("low"), span = UInt64(bitPattern: Int64(at.int("high")) &- Int64(lo))
        return Double(lo &+ Int(truncatingIfNeeded: rng.next() % span))
    },
]
