// Fast paths of the element-wise and reduction kernels for float arrays: the loops live in
// CKernels (vectorised per ISA), this file picks them and splits large arrays across cores.
internal import CKernels
import Dispatch
import Glibc

/// Unary functions with a vectorised float32 kernel (named by the op table next to the scalar rule).
enum VectorUnary: Sendable {
    case exp, log, tanh, sigmoid, relu, sqrt

    var code: Int32 {
        switch self {
        case .exp: Int32(TD_UNARY_EXP)
        case .log: Int32(TD_UNARY_LOG)
        case .tanh: Int32(TD_UNARY_TANH)
        case .sigmoid: Int32(TD_UNARY_SIGMOID)
        case .relu: Int32(TD_UNARY_RELU)
        case .sqrt: Int32(TD_UNARY_SQRT)
        }
    }
}

/// Work splitting: arrays of at least `threshold` elements run on every core.
enum Parallel {
    static let threshold = 1 << 16
    static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Calls `body` on contiguous pieces covering 0..<count (in parallel when count × cost, the
    /// element count, reaches the threshold).
    static func forEach(_ count: Int, cost: Int = 1, _ body: (Range<Int>) -> Void) {
        let pieces = min(cores, count, count * cost / (threshold / 2))
        if pieces <= 1 { body(0..<count); return }
        let even = (count + pieces - 1) / pieces
        // Whole cache lines per piece when the items are elements.
        let step = cost == 1 ? (even + 63) & ~63 : even
        withoutActuallyEscaping(body) { body in
            let shared = SharedBody(body: body)
            DispatchQueue.concurrentPerform(iterations: pieces) { p in
                let lo = p * step, hi = Swift.min(count, lo + step)
                if lo < hi { shared.body(lo..<hi) }
            }
        }
    }

    /// The pieces write disjoint ranges of the output and only read shared inputs, so running
    /// one body on several threads at once is safe; the compiler cannot see that through pointers.
    private struct SharedBody: @unchecked Sendable {
        let body: (Range<Int>) -> Void
    }
}

extension BinaryKernel {
    /// The CKernels code of the four arithmetic operations, nil for the others.
    var vectorCode: Int32? {
        switch self {
        case .add: Int32(TD_BIN_ADD)
        case .sub: Int32(TD_BIN_SUB)
        case .mul: Int32(TD_BIN_MUL)
        case .div: Int32(TD_BIN_DIV)
        default: nil
        }
    }
}

extension Kernels {
    /// out = f(x) with the vectorised kernel; false when there is none for this dtype.
    static func vectorUnary(_ f: VectorUnary, _ x: NDArray, _ out: NDArray) -> Bool {
        guard x.dtype == .float32, let px = x.buffer(Float.self).baseAddress, let po = out.buffer(Float.self).baseAddress else { return false }
        Parallel.forEach(x.size) { r in td_unary_f32(f.code, px + r.lowerBound, po + r.lowerBound, r.count) }
        return true
    }

    /// The vectorised cases of out = a ∘ b: equal shapes, a scalar side, and one side repeating
    /// along the leading axes (row broadcast, e.g. (1000, 1000) + (1000,)). False otherwise.
    static func vectorBinary(_ k: BinaryKernel, _ a: NDArray, _ b: NDArray, _ out: NDArray) -> Bool {
        guard let op = k.vectorCode, out.size > 0 else { return false }
        switch a.dtype {
        case .float32: return vectorBinary(op, a, b, out, Float.self, td_binary_f32, td_binary_scalar_f32)
        case .float64: return vectorBinary(op, a, b, out, Double.self, td_binary_f64, td_binary_scalar_f64)
        default: return false
        }
    }

    private static func vectorBinary<T>(_ op: Int32, _ a: NDArray, _ b: NDArray, _ out: NDArray, _: T.Type,
                                        _ same: (Int32, UnsafePointer<T>?, UnsafePointer<T>?, UnsafeMutablePointer<T>?, Int) -> Void,
                                        _ scalar: (Int32, UnsafePointer<T>?, T, Int32, UnsafeMutablePointer<T>?, Int) -> Void) -> Bool {
        let pa = a.buffer(T.self).baseAddress!, pb = b.buffer(T.self).baseAddress!, po = out.buffer(T.self).baseAddress!
        let n = out.size
        if a.shape == b.shape {
            Parallel.forEach(n) { r in same(op, pa + r.lowerBound, pb + r.lowerBound, po + r.lowerBound, r.count) }
        } else if b.size == 1 && a.size == n {
            let s = pb[0]
            Parallel.forEach(n) { r in scalar(op, pa + r.lowerBound, s, 0, po + r.lowerBound, r.count) }
        } else if a.size == 1 && b.size == n {
            let s = pa[0]
            Parallel.forEach(n) { r in scalar(op, pb + r.lowerBound, s, 1, po + r.lowerBound, r.count) }
        } else if a.size == n && repeatsAlongLeadingAxes(b.shape, out.shape) {
            let len = b.size
            Parallel.forEach(n / len, cost: len) { rows in
                for r in rows { same(op, pa + r * len, pb, po + r * len, len) }
            }
        } else if b.size == n && repeatsAlongLeadingAxes(a.shape, out.shape) {
            let len = a.size
            Parallel.forEach(n / len, cost: len) { rows in
                for r in rows { same(op, pa, pb + r * len, po + r * len, len) }
            }
        } else {
            return false
        }
        return true
    }

    /// Whether `shape` without its leading 1s equals the trailing axes of `target`, so its
    /// elements repeat, in order, once per leading index of `target`.
    private static func repeatsAlongLeadingAxes(_ shape: [Int], _ target: [Int]) -> Bool {
        let core = shape.drop { $0 == 1 }
        return !core.isEmpty && core.count <= target.count && target.suffix(core.count).elementsEqual(core)
    }

    /// out = a ∘ s (s ∘ a when reverse) for the four arithmetic operations on floats; false otherwise.
    static func vectorScalar(_ k: BinaryKernel, _ a: NDArray, _ s: Double, reverse: Bool, _ out: NDArray) -> Bool {
        guard let op = k.vectorCode, a.size > 0 else { return false }
        let rev: Int32 = reverse ? 1 : 0
        switch a.dtype {
        case .float32:
            let pa = a.buffer(Float.self).baseAddress!, po = out.buffer(Float.self).baseAddress!, c = Float(s)
            Parallel.forEach(a.size) { r in td_binary_scalar_f32(op, pa + r.lowerBound, c, rev, po + r.lowerBound, r.count) }
        case .float64:
            let pa = a.buffer(Double.self).baseAddress!, po = out.buffer(Double.self).baseAddress!
            Parallel.forEach(a.size) { r in td_binary_scalar_f64(op, pa + r.lowerBound, s, rev, po + r.lowerBound, r.count) }
        default:
            return false
        }
        return true
    }

    /// Sum of every element of a float array, accumulated in double over fixed blocks of
    /// `Parallel.threshold` elements whose partial sums are added in order: the result does not
    /// depend on how blocks were spread over threads. nil for other dtypes.
    static func vectorSum(_ x: NDArray) -> Double? {
        let block = Parallel.threshold
        func blocked<T>(_ p: UnsafeMutablePointer<T>, _ sum: (UnsafePointer<T>?, Int) -> Double) -> Double {
            let n = x.size, blocks = (n + block - 1) / block
            if blocks <= 1 { return sum(p, n) }
            var partial = [Double](repeating: 0, count: blocks)
            partial.withUnsafeMutableBufferPointer { out in
                Parallel.forEach(blocks, cost: block) { range in
                    for i in range { out[i] = sum(p + i * block, Swift.min(block, n - i * block)) }
                }
            }
            return partial.reduce(0, +)
        }
        switch x.dtype {
        case .float32: return blocked(x.buffer(Float.self).baseAddress!, td_sum_f32)
        case .float64: return blocked(x.buffer(Double.self).baseAddress!, td_sum_f64)
        default: return nil
        }
    }
}
