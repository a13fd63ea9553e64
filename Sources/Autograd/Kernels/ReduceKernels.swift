/// Reductions over a set of axes.
enum ReduceKernel { case sum, prod, max, min }

extension Kernels {
    /// out (shape = x's shape with reduced axes set to 1, same element count as `out`) = reduce(x).
    static func reduce(_ k: ReduceKernel, _ x: NDArray, axes: Set<Int>, _ out: NDArray) {
        switch x.dtype {
        case .float32: reduceLoop(k, x, axes, out, Float.self)
        case .float64: reduceLoop(k, x, axes, out, Double.self)
        case .int32: reduceLoop(k, x, axes, out, Int32.self)
        case .int64: reduceLoop(k, x, axes, out, Int64.self)
        case .uint8: reduceLoop(k, x, axes, out, UInt8.self)
        }
    }

    private static func reduceLoop<T: Element>(_ k: ReduceKernel, _ x: NDArray, _ axes: Set<Int>, _ out: NDArray, _: T.Type) {
        let px = x.buffer(T.self), po = out.buffer(T.self)
        let keptShape = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let cs = contiguousStrides(keptShape)
        let so = x.shape.indices.map { axes.contains($0) ? 0 : cs[$0] }
        let sx = contiguousStrides(x.shape)
        var first = Array(repeating: true, count: po.count)
        if k == .sum { po.update(repeating: T.zero); first.withUnsafeMutableBufferPointer { $0.update(repeating: false) } }
        if k == .prod { po.update(repeating: T.one); first.withUnsafeMutableBufferPointer { $0.update(repeating: false) } }
        walkRows(x.shape, sx, so) { ix, io, n, dx, dout in
            var ix = ix, io = io
            for _ in 0..<n {
                let v = px[ix]
                switch k {
                case .sum: po[io] = T.add(po[io], v)
                case .prod: po[io] = T.mul(po[io], v)
                case .max: if first[io] || v > po[io] || v != v { po[io] = v; first[io] = false }
                case .min: if first[io] || v < po[io] || v != v { po[io] = v; first[io] = false }
                }
                ix += dx; io += dout
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
