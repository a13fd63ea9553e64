/// Reductions over a set of axes.
enum ReduceKernel { case sum, prod, max, min }

extension Kernels {
    /// out (shape = x's shape with reduced axes set to 1, same element count as `out`) = reduce(x).
    static func reduce(_ k: ReduceKernel, _ x: NDArray, axes: Set<Int>, _ out: NDArray) {
        if k == .sum && out.size == 1, let s = vectorSum(x) { fill(out, s); return }
        switch x.dtype {
        case .float32: reduceLoop(k, x, axes, out, Float.self)
        case .float64: reduceLoop(k, x, axes, out, Double.self)
        case .int32: reduceLoop(k, x, axes, out, Int32.self)
        case .int64: reduceLoop(k, x, axes, out, Int64.self)
        case .uint8: reduceLoop(k, x, axes, out, UInt8.self)
        }
    }

    private static func reduceLoop<T: Element>(_ k: ReduceKernel, _ x: NDArray, _ axes: Set<Int>, _ out: NDArray, _: T.Type) {
        let po = out.buffer(T.self)
        let keptShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        switch k {
        case .sum:
            po.update(repeating: T.zero)
            reduceInto(x, axes, keptShape, po) { (acc: T, v: T) in T.add(acc, v) }
        case .prod:
            po.update(repeating: T.one)
            reduceInto(x, axes, keptShape, po) { (acc: T, v: T) in T.mul(acc, v) }
        case .max, .min:
            // Start from each group's first element (the caller rejects empty inputs).
            let first = NDArray(context: out.context, storage: out.storage, shape: keptShape, dtype: out.dtype)
            stridedCopy(x, offset: 0, strides: contiguousStrides(x.shape), into: first)
            if k == .max {
                reduceInto(x, axes, keptShape, po) { (acc: T, v: T) in v > acc || v != v ? v : acc }
            } else {
                reduceInto(x, axes, keptShape, po) { (acc: T, v: T) in v < acc || v != v ? v : acc }
            }
        }
    }

    /// po[group] = f(po[group], v) over every element of x; runs along the last axis are
    /// accumulated in a register when that axis is reduced.
    @inline(__always)
    private static func reduceInto<T: Element>(_ x: NDArray, _ axes: Set<Int>, _ keptShape: [Int],
                                               _ po: UnsafeMutableBufferPointer<T>, _ f: (T, T) -> T) {
        let px = x.buffer(T.self)
        let cs = contiguousStrides(keptShape)
        let so = x.shape.indices.map { axes.contains($0) ? 0 : cs[$0] }
        walkRows(x.shape, contiguousStrides(x.shape), so) { ix, io, n, _, dout in
            if dout == 0 {
                var acc = po[io]
                for j in 0..<n { acc = f(acc, px[ix + j]) }
                po[io] = acc
            } else {
                for j in 0..<n { po[io + j] = f(po[io + j], px[ix + j]) }
            }
        }
    }

    /// Index (as Double) of the max (or min) along `axis`; out has the axis removed/kept as 1.
    static func argReduce(_ x: NDArray, axis: Int, max: Bool, _ out: NDArray) {
        let v = x.toDoubles()
        let n = x.shape[axis]
        let inner = x.shape[(axis + 1)...].reduce(1, *)
        let outer = x.shape[..<axis].reduce(1, *)
        var r = [Double](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = 0
                var bv = v[o * n * inner + i]
                for j in 1..<max0(n) {
                    let c = v[(o * n + j) * inner + i]
                    if (max && c > bv) || (!max && c < bv) { bv = c; best = j }
                }
                r[o * inner + i] = Double(best)
            }
        }
        fill(out, r)
    }

    private static func max0(_ n: Int) -> Int { Swift.max(n, 1) }
}
