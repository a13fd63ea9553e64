import Glibc

extension Kernels {
    /// out (contiguous) = the strided view (offset, strides) of src over out's shape.
    /// Covers transpose, slicing with steps, broadcasting (0 strides), tile and repeat.
    static func stridedCopy(_ src: NDArray, offset: Int, strides: [Int], into out: NDArray) {
        switch src.dtype.byteSize {
        case 1: stridedCopyLoop(src, offset, strides, out, UInt8.self)
        case 4: stridedCopyLoop(src, offset, strides, out, UInt32.self)
        default: stridedCopyLoop(src, offset, strides, out, UInt64.self)
        }
    }

    private static func stridedCopyLoop<T>(_ src: NDArray, _ offset: Int, _ strides: [Int], _ out: NDArray, _: T.Type) {
        let ps = src.storage.typed(T.self, count: src.size), po = out.storage.typed(T.self, count: out.size)
        var o = 0
        walkRows(out.shape, strides, strides, base0: offset, base1: offset) { i, _, n, d, _ in
            var i = i
            for _ in 0..<n { po[o] = ps[i]; o += 1; i += d }
        }
    }

    /// The strided view (offset, strides) of dst over src's shape = src (dst's other elements untouched).
    static func stridedScatter(_ src: NDArray, into dst: NDArray, offset: Int, strides: [Int]) {
        switch src.dtype.byteSize {
        case 1: stridedScatterLoop(src, dst, offset, strides, UInt8.self)
        case 4: stridedScatterLoop(src, dst, offset, strides, UInt32.self)
        default: stridedScatterLoop(src, dst, offset, strides, UInt64.self)
        }
    }

    private static func stridedScatterLoop<T>(_ src: NDArray, _ dst: NDArray, _ offset: Int, _ strides: [Int], _: T.Type) {
        let ps = src.storage.typed(T.self, count: src.size), pd = dst.storage.typed(T.self, count: dst.size)
        var o = 0
        walkRows(src.shape, strides, strides, base0: offset, base1: offset) { i, _, n, d, _ in
            var i = i
            for _ in 0..<n { pd[i] = ps[o]; o += 1; i += d }
        }
    }

    /// Concatenates along `axis` (all parts equal elsewhere).
    static func concat(_ parts: [NDArray], axis: Int, into out: NDArray) {
        let es = out.dtype.byteSize
        let outer = out.shape[..<axis].reduce(1, *)
        let inner = out.shape[(axis + 1)...].reduce(1, *) * es
        let rowOut = out.shape[axis] * inner
        var col = 0
        for p in parts {
            let row = p.shape[axis] * inner
            for o in 0..<outer where row > 0 {
                (out.storage.data + o * rowOut + col).copyMemory(from: p.storage.data + o * row, byteCount: row)
            }
            col += row
        }
    }

    /// out[.., j, ..] = x[.., idx[.., j, ..], ..] along `axis` (take_along_axis); idx as Doubles,
    /// already clipped/wrapped to [0, n).
    static func gatherAxis(_ x: NDArray, _ idx: [Int], axis: Int, into out: NDArray) {
        let n = x.shape[axis], k = out.shape[axis]
        let inner = x.shape[(axis + 1)...].reduce(1, *), outer = x.shape[..<axis].reduce(1, *)
        let es = x.dtype.byteSize
        for o in 0..<outer {
            for j in 0..<k {
                for i in 0..<inner {
                    let t = (o * k + j) * inner + i
                    memcpy(out.storage.data + t * es, x.storage.data + ((o * n + idx[t]) * inner + i) * es, es)
                }
            }
        }
    }

    /// out (zero-filled by the caller, dim n along axis) += g scattered at idx along `axis`.
    static func scatterAxisAdd(_ g: NDArray, _ idx: [Int], axis: Int, into out: NDArray) {
        let n = out.shape[axis], k = g.shape[axis]
        let inner = g.shape[(axis + 1)...].reduce(1, *), outer = g.shape[..<axis].reduce(1, *)
        let gv = g.toDoubles()
        var ov = out.toDoubles()
        for o in 0..<outer {
            for j in 0..<k {
                for i in 0..<inner {
                    let t = (o * k + j) * inner + i
                    ov[(o * n + idx[t]) * inner + i] += gv[t]
                }
            }
        }
        fill(out, ov)
    }

    /// take: out[pre, idx, post] = x[pre, indices[idx], post].
    static func take(_ x: NDArray, _ indices: [Int], axis: Int, into out: NDArray) {
        let n = x.shape[axis], es = x.dtype.byteSize
        let inner = x.shape[(axis + 1)...].reduce(1, *) * es, outer = x.shape[..<axis].reduce(1, *)
        let m = indices.count
        for o in 0..<outer where inner > 0 {
            for (j, ix) in indices.enumerated() {
                (out.storage.data + (o * m + j) * inner).copyMemory(from: x.storage.data + (o * n + ix) * inner, byteCount: inner)
            }
        }
    }

    /// The adjoint of take: out (zeros, n along axis) accumulates g's rows at indices.
    static func takeBackward(_ g: NDArray, _ indices: [Int], axis: Int, into out: NDArray) {
        let n = out.shape[axis], inner = out.shape[(axis + 1)...].reduce(1, *), outer = out.shape[..<axis].reduce(1, *)
        let m = indices.count
        let gv = g.toDoubles()
        var ov = [Double](repeating: 0, count: out.size)
        for o in 0..<outer {
            for (j, ix) in indices.enumerated() {
                for i in 0..<inner { ov[(o * n + ix) * inner + i] += gv[(o * m + j) * inner + i] }
            }
        }
        fill(out, ov)
    }
}
