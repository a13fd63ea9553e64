import Glibc

/// Binary elementwise kernels (arithmetic and comparisons).
enum BinaryKernel: Sendable {
    case add, sub, mul, div, mod, pow, max, min, eq, ne, gt, ge, lt, le

    @inline(__always) func apply<T: Element>(_ a: T, _ b: T) -> T {
        switch self {
        case .add: return T.add(a, b)
        case .sub: return T.sub(a, b)
        case .mul: return T.mul(a, b)
        case .div: return T.div(a, b)
        case .mod: return T.mod(a, b)
        case .pow: return T.pow(a, b)
        case .max: return a >= b ? a : b
        case .min: return a <= b ? a : b
        case .eq: return a == b ? T.one : T.zero
        case .ne: return a != b ? T.one : T.zero
        case .gt: return a > b ? T.one : T.zero
        case .ge: return a >= b ? T.one : T.zero
        case .lt: return a < b ? T.one : T.zero
        case .le: return a <= b ? T.one : T.zero
        }
    }
}

/// Tight loops over raw buffers; no autograd knowledge.
enum Kernels {
    /// out = a ∘ b with NumPy broadcasting (out has the broadcast shape).
    static func binary(_ k: BinaryKernel, _ a: NDArray, _ b: NDArray, _ out: NDArray) {
        if vectorBinary(k, a, b, out) { return }
        switch a.dtype {
        case .float32: binaryLoop(k, a, b, out, Float.self)
        case .float64: binaryLoop(k, a, b, out, Double.self)
        case .int32: binaryLoop(k, a, b, out, Int32.self)
        case .int64: binaryLoop(k, a, b, out, Int64.self)
        case .uint8: binaryLoop(k, a, b, out, UInt8.self)
        }
    }

    /// Switches on the kernel outside the loops so each (kernel, dtype) pair gets its own
    /// specialised, vectorisable loop.
    @inline(__always)
    private static func binaryLoop<T: Element>(_ k: BinaryKernel, _ a: NDArray, _ b: NDArray, _ out: NDArray, _: T.Type) {
        switch k {
        case .add: binaryLoops(a, b, out) { (x: T, y: T) in T.add(x, y) }
        case .sub: binaryLoops(a, b, out) { (x: T, y: T) in T.sub(x, y) }
        case .mul: binaryLoops(a, b, out) { (x: T, y: T) in T.mul(x, y) }
        default: binaryLoops(a, b, out) { (x: T, y: T) in k.apply(x, y) }
        }
    }

    @inline(__always)
    private static func binaryLoops<T: Element>(_ a: NDArray, _ b: NDArray, _ out: NDArray, _ f: (T, T) -> T) {
        let pa = a.buffer(T.self), pb = b.buffer(T.self), po = out.buffer(T.self)
        if a.shape == b.shape {
            for i in 0..<po.count { po[i] = f(pa[i], pb[i]) }
        } else if b.size == 1 && a.size == out.size {
            let s = pb[0]
            for i in 0..<po.count { po[i] = f(pa[i], s) }
        } else if a.size == 1 && b.size == out.size {
            let s = pa[0]
            for i in 0..<po.count { po[i] = f(s, pb[i]) }
        } else {
            let sa = broadcastStrides(a.shape, to: out.shape), sb = broadcastStrides(b.shape, to: out.shape)
            var o = 0
            walkRows(out.shape, sa, sb) { ia, ib, n, da, db in
                if da == 1 && db == 0 {
                    let s = pb[ib]
                    for j in 0..<n { po[o + j] = f(pa[ia + j], s) }
                } else if da == 1 && db == 1 {
                    for j in 0..<n { po[o + j] = f(pa[ia + j], pb[ib + j]) }
                } else {
                    var ia = ia, ib = ib
                    for j in 0..<n { po[o + j] = f(pa[ia], pb[ib]); ia += da; ib += db }
                }
                o += n
            }
        }
    }

    /// out = a ∘ s (or s ∘ a when `reverse`), the scalar cast to the array's dtype.
    static func scalar(_ k: BinaryKernel, _ a: NDArray, _ s: Double, reverse: Bool, _ out: NDArray) {
        if vectorScalar(k, a, s, reverse: reverse, out) { return }
        switch a.dtype {
        case .float32: scalarLoop(k, a, s, reverse, out, Float.self)
        case .float64: scalarLoop(k, a, s, reverse, out, Double.self)
        case .int32: scalarLoop(k, a, s, reverse, out, Int32.self)
        case .int64: scalarLoop(k, a, s, reverse, out, Int64.self)
        case .uint8: scalarLoop(k, a, s, reverse, out, UInt8.self)
        }
    }

    @inline(__always)
    private static func scalarLoop<T: Element>(_ k: BinaryKernel, _ a: NDArray, _ s: Double, _ reverse: Bool, _ out: NDArray, _: T.Type) {
        let pa = a.buffer(T.self), po = out.buffer(T.self), c = T(double: s)
        switch (k, reverse) {
        case (.add, _): for i in 0..<po.count { po[i] = T.add(pa[i], c) }
        case (.mul, _): for i in 0..<po.count { po[i] = T.mul(pa[i], c) }
        case (.sub, false): for i in 0..<po.count { po[i] = T.sub(pa[i], c) }
        case (_, true): for i in 0..<po.count { po[i] = k.apply(c, pa[i]) }
        case (_, false): for i in 0..<po.count { po[i] = k.apply(pa[i], c) }
        }
    }

    /// out = f(a) elementwise (float32 computes through Double); `vector`, when given, is the
    /// same function as a vectorised kernel, used where it exists.
    static func unary(_ a: NDArray, _ out: NDArray, vector: VectorUnary? = nil, _ f: (Double) -> Double) {
        if let vector, vectorUnary(vector, a, out) { return }
        switch a.dtype {
        case .float64:
            let pa = a.buffer(Double.self), po = out.buffer(Double.self)
            for i in 0..<po.count { po[i] = f(pa[i]) }
        case .float32:
            let pa = a.buffer(Float.self), po = out.buffer(Float.self)
            for i in 0..<po.count { po[i] = Float(f(Double(pa[i]))) }
        case .int32: unaryInt(a, out, f, Int32.self)
        case .int64: unaryInt(a, out, f, Int64.self)
        case .uint8: unaryInt(a, out, f, UInt8.self)
        }
    }

    private static func unaryInt<T: Element>(_ a: NDArray, _ out: NDArray, _ f: (Double) -> Double, _: T.Type) {
        let pa = a.buffer(T.self), po = out.buffer(T.self)
        for i in 0..<po.count { po[i] = T(double: f(pa[i].double)) }
    }

    /// Writes `values` (converted) into `a`.
    static func fill(_ a: NDArray, _ values: [Double]) {
        switch a.dtype {
        case .float32: let p = a.buffer(Float.self); for i in 0..<p.count { p[i] = Float(values[i]) }
        case .float64: let p = a.buffer(Double.self); for i in 0..<p.count { p[i] = values[i] }
        case .int32: let p = a.buffer(Int32.self); for i in 0..<p.count { p[i] = Int32(double: values[i]) }
        case .int64: let p = a.buffer(Int64.self); for i in 0..<p.count { p[i] = Int64(double: values[i]) }
        case .uint8: let p = a.buffer(UInt8.self); for i in 0..<p.count { p[i] = UInt8(double: values[i]) }
        }
    }

    /// Fills `a` with one value.
    static func fill(_ a: NDArray, _ v: Double) {
        switch a.dtype {
        case .float32: a.buffer(Float.self).update(repeating: Float(v))
        case .float64: a.buffer(Double.self).update(repeating: v)
        case .int32: a.buffer(Int32.self).update(repeating: Int32(double: v))
        case .int64: a.buffer(Int64.self).update(repeating: Int64(double: v))
        case .uint8: a.buffer(UInt8.self).update(repeating: UInt8(double: v))
        }
    }

    /// dst[:] = src (same size, or a one-element src broadcast), converting the dtype.
    static func assign(_ dst: NDArray, from src: NDArray) {
        if dst.storage === src.storage && dst.dtype == src.dtype { return }
        if src.size == dst.size && src.dtype == dst.dtype {
            if dst.byteCount > 0 { dst.storage.data.copyMemory(from: src.storage.data, byteCount: dst.byteCount) }
            return
        }
        if src.size == 1 && dst.size != 1 { fill(dst, src.toDoubles()[0]); return }
        convert(src, into: dst)
    }

    /// dst = cast(src) (same size).
    static func convert(_ src: NDArray, into dst: NDArray) {
        switch (src.dtype, dst.dtype) {
        case (.float32, .float64): let s = src.buffer(Float.self), d = dst.buffer(Double.self); for i in 0..<d.count { d[i] = Double(s[i]) }
        case (.float64, .float32): let s = src.buffer(Double.self), d = dst.buffer(Float.self); for i in 0..<d.count { d[i] = Float(s[i]) }
        default: fill(dst, src.toDoubles())
        }
    }

    /// dst += src (same shape and dtype).
    static func addInPlace(_ dst: NDArray, _ src: NDArray) { binary(.add, dst, src, dst) }
}
