/// Largest kernel, stride, dilation, padding, adj or scale accepted, so window arithmetic stays far from overflow.
let maxWindowValue = 1 << 24

/// Rejects window parameters above `maxWindowValue`.
func checkWindowValues(_ v: [Int], _ name: String, op: String) throws {
    guard v.allSatisfy({ $0 <= maxWindowValue }) else {
        throw AutogradError(.invalidParameter, "\(op): \(name) values must be at most \(maxWindowValue), got \(shapeText(v))")
    }
}

/// Geometry of a convolution window sweep over (t, h, w); 1-D and 2-D layouts use unit leading dims.
struct ConvGeometry: Equatable {
    var n: Int, c: Int, h: Int, w: Int
    var kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int, dh: Int, dw: Int
    var oh: Int, ow: Int
    /// 1 for NCW, 2 for NCHW, 3 for NCDHW.
    var rank: Int
    /// The depth axis of NCDHW (input size, kernel, stride, pad, dilation, output size).
    var t = 1, kt = 1, st = 1, pt = 0, dt = 1, ot = 1

    var kernelSize: Int { kt * kh * kw }
    var outPlane: Int { ot * oh * ow }
    var inPlane: Int { t * h * w }
    /// Spatial output and input dims in the layout's rank.
    var outSpatial: [Int] { Array([ot, oh, ow].suffix(rank)) }
    var inSpatial: [Int] { Array([t, h, w].suffix(rank)) }
    var kernel: [Int] { Array([kt, kh, kw].suffix(rank)) }

    /// Builds a geometry from per-axis values in (t, h, w) order (already lifted to three axes).
    init(n: Int, c: Int, rank: Int, input: [Int], kernel: [Int], stride: [Int], pad: [Int], dilate: [Int], output: [Int]) {
        self.n = n; self.c = c; self.rank = rank
        (t, h, w) = (input[0], input[1], input[2])
        (kt, kh, kw) = (kernel[0], kernel[1], kernel[2])
        (st, sh, sw) = (stride[0], stride[1], stride[2])
        (pt, ph, pw) = (pad[0], pad[1], pad[2])
        (dt, dh, dw) = (dilate[0], dilate[1], dilate[2])
        (ot, oh, ow) = (output[0], output[1], output[2])
    }
}

/// Pads a per-axis tuple of a rank-1/2/3 layout to (t, h, w) with a unit value in front.
func liftToThree(_ v: [Int], _ unit: Int) -> [Int] { Array(repeating: unit, count: 3 - v.count) + v }

extension Kernels {
    /// col (C·kt·kh·kw, N, ot·oh·ow) = the input patches of x (N, C, t, h, w); padding reads as zero.
    static func im2col(_ x: NDArray, _ col: NDArray, _ g: ConvGeometry) {
        if x.dtype == .float64 { im2colLoop(x.buffer(Double.self), col.buffer(Double.self), g) } else {
            im2colLoop(x.buffer(Float.self), col.buffer(Float.self), g)
        }
    }

    /// x (N, C, t, h, w) += the patches in col (C·kt·kh·kw, N, ot·oh·ow): the adjoint of im2col.
    static func col2imAdd(_ col: NDArray, _ x: NDArray, _ g: ConvGeometry) {
        if x.dtype == .float64 { col2imLoop(col.buffer(Double.self), x.buffer(Double.self), g) } else {
            col2imLoop(col.buffer(Float.self), x.buffer(Float.self), g)
        }
    }

    private static func im2colLoop<T: BinaryFloatingPoint>(_ x: UnsafeMutableBufferPointer<T>, _ col: UnsafeMutableBufferPointer<T>,
                                                           _ g: ConvGeometry) {
        let ohw = g.outPlane, slab = g.oh * g.ow
        for c in 0..<g.c {
            for kz in 0..<g.kt {
                for ki in 0..<g.kh {
                    for kj in 0..<g.kw {
                        let row = (((c * g.kt + kz) * g.kh + ki) * g.kw + kj) * g.n * ohw
                        for n in 0..<g.n {
                            let plane = (n * g.c + c) * g.inPlane
                            for oz in 0..<g.ot {
                                let iz = oz * g.st - g.pt + kz * g.dt, base = row + n * ohw + oz * slab
                                if iz < 0 || iz >= g.t {
                                    for q in 0..<slab { col[base + q] = 0 }
                                    continue
                                }
                                for oy in 0..<g.oh {
                                    let dst = base + oy * g.ow
                                    let iy = oy * g.sh - g.ph + ki * g.dh
                                    if iy < 0 || iy >= g.h {
                                        for ox in 0..<g.ow { col[dst + ox] = 0 }
                                        continue
                                    }
                                    let src = plane + (iz * g.h + iy) * g.w
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
        }
    }

    private static func col2imLoop<T: BinaryFloatingPoint>(_ col: UnsafeMutableBufferPointer<T>, _ x: UnsafeMutableBufferPointer<T>,
                                                           _ g: ConvGeometry) {
        let ohw = g.outPlane, slab = g.oh * g.ow
        for c in 0..<g.c {
            for kz in 0..<g.kt {
                for ki in 0..<g.kh {
                    for kj in 0..<g.kw {
                        let row = (((c * g.kt + kz) * g.kh + ki) * g.kw + kj) * g.n * ohw
                        for n in 0..<g.n {
                            let plane = (n * g.c + c) * g.inPlane
                            for oz in 0..<g.ot {
                                let iz = oz * g.st - g.pt + kz * g.dt
                                if iz < 0 || iz >= g.t { continue }
                                for oy in 0..<g.oh {
                                    let iy = oy * g.sh - g.ph + ki * g.dh
                                    if iy < 0 || iy >= g.h { continue }
                                    let src = row + n * ohw + oz * slab + oy * g.ow, dst = plane + (iz * g.h + iy) * g.w
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
