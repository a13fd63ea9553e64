// The only file that imports CBLAS: every matrix product in the engine goes through here.
internal import CBLAS

/// OpenBLAS bindings.
public enum BLAS {
    /// OpenBLAS's name for the CPU core it selected (e.g. "Haswell").
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// C (m×n) = op(A) · op(B) for float arrays stored row-major, `batch` times with the given
    /// element strides between batches. op(A) is m×k (A stored k×m when transA), op(B) is k×n.
    static func gemm(_ a: NDArray, _ b: NDArray, _ c: NDArray, m: Int, n: Int, k: Int,
                     transA: Bool, transB: Bool, batch: Int = 1, beta: Double = 0) {
        let lda = transA ? m : k, ldb = transB ? k : n
        let ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans
        let sa = m * k, sb = k * n, sc = m * n
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            if beta == 0 { Kernels.fill(c, 0) }
            return
        }
        switch c.dtype {
        case .float32:
            let pa = a.buffer(Float.self).baseAddress!, pb = b.buffer(Float.self).baseAddress!, pc = c.buffer(Float.self).baseAddress!
            for i in 0..<batch {
                cblas_sgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, pa + i * sa, Int32(lda),
                            pb + i * sb, Int32(ldb), Float(beta), pc + i * sc, Int32(n))
            }
        case .float64:
            let pa = a.buffer(Double.self).baseAddress!, pb = b.buffer(Double.self).baseAddress!, pc = c.buffer(Double.self).baseAddress!
            for i in 0..<batch {
                cblas_dgemm(CblasRowMajor, ta, tb, Int32(m), Int32(n), Int32(k), 1, pa + i * sa, Int32(lda),
                            pb + i * sb, Int32(ldb), beta, pc + i * sc, Int32(n))
            }
        default:
            preconditionFailure("gemm on \(c.dtype)")
        }
    }
}
