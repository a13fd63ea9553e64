/// Geometry of a 2-D convolution window sweep (1-D convolutions use h = kh = 1).
struct ConvGeometry: Equatable {
    var n: Int, c: Int, h: Int, w: Int
    var kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int, dh: Int, dw: Int
    var oh: Int, ow: Int
    /// 1 for NCW, 2 for NCHW.
    var rank: Int

    var kernelSize: Int { kh * kw }
    var outPlane: Int { oh * ow }
    var inPlane: Int { h * w }
    /// Spatial output dims in the layout's rank.
    var outSpatial: [Int] { rank == 1 ? [ow] : [oh, ow] }
    var inSpatial: [Int] { rank == 1 ? [w] : [h, w] }
}

extension Kernels {
    /// col (C·kh·kw, N, oh·ow) = the input patches of x (N, C, h, w); padding reads as zero.
    static func im2col(_ x: NDArray, _ col: NDArray, _ g: ConvGeometry) {
        if x.dtype == .float64 { im2colLoop(x.buffer(Double.self), col.buffer(Double.self), g) } else {
            im2colLoop(x.buffer(Float.self), col.buffer(Float.self), g)
        }
    }

    /// x (N, C, h, w) += the patches in col (C·kh·kw, N, oh·ow): the adjoint of im2col.
    static func col2imAdd(_ col: NDArray, _ x: NDArray, _ g: ConvGeometry) {
        if x.dtype == .float64 { col2imLoop(col.buffer(Double.self), x.buffer(Double.self), g) } else {
            col2imLoop(col.buffer(Float.self), x.buffer(Float.self), g)
        }
    }

    private static func im2colLoop<T: BinaryFloatingPoint>(_ x: UnsafeMutableBufferPointer<T>, _ col: UnsafeMutableBufferPointer<T>,
                                                           _ g: ConvGeometry) {
        let ohw = g.outPlane
        for c in 0..<g.c {
            for ki in 0..<g.kh {
                for kj in 0..<g.kw {
                    let row = ((c * g.kh + ki) * g.kw + kj) * g.n * ohw
                    for n in 0..<g.n {
                        let plane = (n * g.c + c) * g.inPlane
                        for oy in 0..<g.oh {
                            let dst = row + n * ohw + oy * g.ow
                            let iy = oy * g.sh - g.ph + ki * g.dh
                            if iy < 0 || iy >= g.h {
                                for ox in 0..<g.ow { col[dst + ox] = 0 }
                                continue
                            }
                            let src = plane + iy * g.w
                            var ix = kj * g.dw - g.pw
                            for ox in 0..<g.ow {
                                col[dst + ox] = ix >= 0 && ix < g.w ? x[src + ix] : 0
                                ix += g.sw
                            }
                        }
                    }
                }
            }
        }
    }

    private static func col2imLoop<T: BinaryFloatingPoint>(_ col: UnsafeMutableBufferPointer<T>, _ x: UnsafeMutableBufferPointer<T>,
                                                           _ g: ConvGeometry) {
        let ohw = g.outPlane
        for c in 0..<g.c {
            for ki in 0..<g.kh {
                for kj in 0..<g.kw {
                    let row = ((c * g.kh + ki) * g.kw + kj) * g.n * ohw
                    for n in 0..<g.n {
                        let plane = (n * g.c + c) * g.inPlane
                        for oy in 0..<g.oh {
                            let iy = oy * g.sh - g.ph + ki * g.dh
                            if iy < 0 || iy >= g.h { continue }
                            let src = row + n * ohw + oy * g.ow, dst = plane + iy * g.w
                            var ix = kj * g.dw - g.pw
                            for ox in 0..<g.ow {
                                if ix >= 0 && ix < g.w { x[dst + ix] += col[src + ox] }
                                ix += g.sw
                            }
                        }
                    }
                }
            }
        }
    }

    /// out (A, B, rest) = x (B, A, rest): swaps the two leading axes.
    static func swapLeading(_ x: NDArray, _ a: Int, _ b: Int, _ rest: Int, into out: NDArray) {
        let view = NDArray(context: out.context, storage: out.storage, shape: [a, b, rest], dtype: out.dtype)
        stridedCopy(x, offset: 0, strides: [rest, a * rest, 1], into: view)
    }

    /// x (N, C, plane) += bias[c].
    static func addChannelBias(_ x: NDArray, _ bias: NDArray, n: Int, c: Int, plane: Int) {
        func loop<T: BinaryFloatingPoint>(_: T.Type) {
            let px = x.buffer(T.self), pb = bias.buffer(T.self)
            for i in 0..<n {
                for j in 0..<c {
                    let b = pb[j], base = (i * c + j) * plane
                    for k in 0..<plane { px[base + k] += b }
                }
            }
        }
        if x.dtype == .float64 { loop(Double.self) } else { loop(Float.self) }
    }
}
