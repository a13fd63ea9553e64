// The only file that talks to OpenBLAS: every matrix product in the engine goes through here.
//
// OpenBLAS (a DYNAMIC_ARCH build, as Debian ships it) picks its kernels in a library constructor
// from its own CPU table; 0.3.21 does not know recent Xeons and falls back to `Prescott`, several
// times slower than its SkylakeX kernels. OPENBLAS_CORETYPE overrides the choice, but only if it is
// set before the library is loaded. So tensord does not link OpenBLAS: the first matrix product (or
// `BLAS.status`) chooses the core from CPUID, loads libopenblas with dlopen, checks a few products
// against plain loops, and only then uses it. This works the same in the service, the benchmarks
// and the test process, without re-executing anything.
internal import CKernels
import Glibc

/// Vector extensions that decide which OpenBLAS core is safe and best (CPUID + OS register support).
public struct CPUFeatures: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let avx2 = CPUFeatures(rawValue: UInt32(TD_CPU_AVX2))
    public static let fma = CPUFeatures(rawValue: UInt32(TD_CPU_FMA))
    public static let avx512f = CPUFeatures(rawValue: UInt32(TD_CPU_AVX512F))
    public static let avx512bw = CPUFeatures(rawValue: UInt32(TD_CPU_AVX512BW))
    public static let avx512dq = CPUFeatures(rawValue: UInt32(TD_CPU_AVX512DQ))
    public static let avx512vl = CPUFeatures(rawValue: UInt32(TD_CPU_AVX512VL))
    public static let avx512cd = CPUFeatures(rawValue: UInt32(TD_CPU_AVX512CD))
    /// What OpenBLAS's SkylakeX kernels use.
    public static let skylakeX: CPUFeatures = [.avx512f, .avx512bw, .avx512dq, .avx512vl, .avx512cd, .avx2, .fma]
    /// What OpenBLAS's Haswell kernels use.
    public static let haswell: CPUFeatures = [.avx2, .fma]

    /// This machine's features.
    public static var current: CPUFeatures { CPUFeatures(rawValue: td_cpu_features()) }
}

/// How the OpenBLAS core is selected.
public enum BLASCoreChoice: Equatable, Sendable {
    /// The user set OPENBLAS_CORETYPE: used as given.
    case user(String)
    /// tensord sets OPENBLAS_CORETYPE to this core before loading the library.
    case forced(String)
    /// No better core is known for this CPU: OpenBLAS detects its own.
    case library
}

/// OpenBLAS, loaded at first use with the right core.
public enum BLAS {
    /// The shared object loaded with dlopen (Debian: libopenblas0-pthread / libopenblas0).
    public static let libraryName = "libopenblas.so.0"

    /// The core to use for a CPU with `features` when OPENBLAS_CORETYPE is `userSetting`.
    /// A non-empty user setting always wins; otherwise the best core the CPU fully supports.
    public static func coreChoice(features: CPUFeatures, userSetting: String?) -> BLASCoreChoice {
        if let userSetting, !userSetting.isEmpty { return .user(userSetting) }
        if features.isSuperset(of: .skylakeX) { return .forced("SkylakeX") }
        if features.isSuperset(of: .haswell) { return .forced("Haswell") }
        return .library
    }

    /// OpenBLAS's name for the core in use (e.g. "SkylakeX"), or "reference" when the built-in
    /// loops stand in for it.
    public static var coreName: String { backend.coreName }

    /// One line for the start-up log: the core, how it was chosen, and the self-check result.
    public static var status: String { backend.status }

    /// True when products run on OpenBLAS (loaded and past its self-check).
    public static var usesOpenBLAS: Bool { backend.isOpenBLAS }

    /// Checks `sgemm`/`dgemm` against plain loops on odd shapes, every transpose combination,
    /// with and without beta: nil if every product is within rounding, else what was wrong.
    public static func selfCheck(_ gemm: GEMMFunctions) -> String? {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Double(seed >> 11) * 0x1.0p-53 * 2 - 1
        }
        for (m, n, k, beta) in [(7, 5, 9, 0.0), (37, 83, 129, 0.5)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = (0..<(m * k)).map { _ in next() }, b = (0..<(k * n)).map { _ in next() }, c0 = (0..<(m * n)).map { _ in next() }
                // Exact-ish reference and the bound on rounding error per entry (sum of |terms|).
                var expected = [Double](repeating: 0, count: m * n), bound = expected
                for i in 0..<m {
                    for j in 0..<n {
                        var s = beta * c0[i * n + j], mag = abs(s)
                        for p in 0..<k {
                            let t = (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j])
                            s += t
                            mag += abs(t)
                        }
                        expected[i * n + j] = s
                        bound[i * n + j] = mag
                    }
                }
                let lda = Int32(ta ? m : k), ldb = Int32(tb ? k : n)
                let opA = Int32(ta ? TD_CBLAS_TRANS : TD_CBLAS_NO_TRANS), opB = Int32(tb ? TD_CBLAS_TRANS : TD_CBLAS_NO_TRANS)
                let af = a.map { Float($0) }, bf = b.map { Float($0) }
                var cf = c0.map { Float($0) }, cd = c0
                gemm.sgemm(Int32(TD_CBLAS_ROW_MAJOR), opA, opB, Int32(m), Int32(n), Int32(k), 1, af, lda, bf, ldb, Float(beta), &cf, Int32(n))
                gemm.dgemm(Int32(TD_CBLAS_ROW_MAJOR), opA, opB, Int32(m), Int32(n), Int32(k), 1, a, lda, b, ldb, beta, &cd, Int32(n))
                let shape = "\(m)x\(n)x\(k)\(ta ? " transA" : "")\(tb ? " transB" : "") beta=\(beta)"
                for i in 0..<(m * n) {
                    // float inputs were rounded from the doubles: allow that on top of accumulation.
                    if !(abs(Double(cf[i]) - expected[i]) <= 4 * Double(k + 2) * 0x1p-24 * bound[i]) {
                        return "sgemm \(shape): entry \(i) is \(cf[i]), expected \(expected[i])"
                    }
                    if !(abs(cd[i] - expected[i]) <= 4 * Double(k + 2) * 0x1p-53 * bound[i]) {
                        return "dgemm \(shape): entry \(i) is \(cd[i]), expected \(expected[i])"
                    }
                }
            }
        }
        return nil
    }

    /// A pair of GEMM entry points with the CBLAS signature.
    public struct GEMMFunctions: @unchecked Sendable {
        let sgemm: td_sgemm_fn
        let dgemm: td_dgemm_fn
        /// The built-in loops (correct, slow).
        public static let reference = GEMMFunctions(sgemm: td_ref_sgemm, dgemm: td_ref_dgemm)
        init(sgemm: td_sgemm_fn, dgemm: td_dgemm_fn) { self.sgemm = sgemm; self.dgemm = dgemm }
    }

    private struct Backend: Sendable {
        let functions: GEMMFunctions
        let coreName: String
        let status: String
        let isOpenBLAS: Bool
    }

    /// Loaded once, thread-safely, at first use.
    private static let backend: Backend = load()

    private static func load() -> Backend {
        let features = CPUFeatures.current
        let choice = coreChoice(features: features, userSetting: getenv("OPENBLAS_CORETYPE").map { String(cString: $0) })
        let how: String
        switch choice {
        case .user(let core): how = "user: OPENBLAS_CORETYPE=\(core)"
        case .forced(let core):
            how = "auto: CPU supports \(core) kernels"
            // Read by OpenBLAS's constructor during dlopen; removed again so child processes see the
            // user's environment. (Set before any BLAS use; the service does this at start-up.)
            setenv("OPENBLAS_CORETYPE", core, 1)
        case .library: how = "OpenBLAS's own detection"
        }
        let handle = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL)
        if case .forced = choice { unsetenv("OPENBLAS_CORETYPE") }
        func fallback(_ why: String) -> Backend {
            Backend(functions: .reference, coreName: "reference", status: "\(why); using the built-in reference GEMM (correct but slow)", isOpenBLAS: false)
        }
        guard let handle else { return fallback("cannot load \(libraryName): \(dlerror().map { String(cString: $0) } ?? "unknown error")") }
        guard let s = dlsym(handle, "cblas_sgemm"), let d = dlsym(handle, "cblas_dgemm"), let n = dlsym(handle, "openblas_get_corename") else {
            return fallback("\(libraryName) lacks cblas_sgemm/cblas_dgemm/openblas_get_corename")
        }
        let functions = GEMMFunctions(sgemm: unsafeBitCast(s, to: td_sgemm_fn.self), dgemm: unsafeBitCast(d, to: td_dgemm_fn.self))
        let core = unsafeBitCast(n, to: td_corename_fn.self)().map { String(cString: $0) } ?? "unknown"
        var note = ""
        if case .forced(let wanted) = choice, wanted.lowercased() != core.lowercased() { note = " (asked for \(wanted))" }
        if let failure = selfCheck(functions) {
            return fallback("OpenBLAS core \(core)\(note) (\(how)) FAILED its self-check: \(failure)")
        }
        return Backend(functions: functions, coreName: core, status: "OpenBLAS core \(core)\(note) (\(how)), self-check passed", isOpenBLAS: true)
    }

    /// C (m×n) = op(A) · op(B) for float arrays stored row-major, `batch` times with the given
    /// element strides between batches. op(A) is m×k (A stored k×m when transA), op(B) is k×n.
    static func gemm(_ a: NDArray, _ b: NDArray, _ c: NDArray, m: Int, n: Int, k: Int,
                     transA: Bool, transB: Bool, batch: Int = 1, beta: Double = 0) {
        let lda = Int32(transA ? m : k), ldb = Int32(transB ? k : n)
        let ta = Int32(transA ? TD_CBLAS_TRANS : TD_CBLAS_NO_TRANS), tb = Int32(transB ? TD_CBLAS_TRANS : TD_CBLAS_NO_TRANS)
        let order = Int32(TD_CBLAS_ROW_MAJOR)
        let sa = m * k, sb = k * n, sc = m * n
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            if beta == 0 { Kernels.fill(c, 0) }
            return
        }
        let f = backend.functions
        switch c.dtype {
        case .float32:
            let pa = a.buffer(Float.self).baseAddress!, pb = b.buffer(Float.self).baseAddress!, pc = c.buffer(Float.self).baseAddress!
            for i in 0..<batch {
                f.sgemm(order, ta, tb, Int32(m), Int32(n), Int32(k), 1, pa + i * sa, lda, pb + i * sb, ldb, Float(beta), pc + i * sc, Int32(n))
            }
        case .float64:
            let pa = a.buffer(Double.self).baseAddress!, pb = b.buffer(Double.self).baseAddress!, pc = c.buffer(Double.self).baseAddress!
            for i in 0..<batch {
                f.dgemm(order, ta, tb, Int32(m), Int32(n), Int32(k), 1, pa + i * sa, lda, pb + i * sb, ldb, beta, pc + i * sc, Int32(n))
            }
        default:
            preconditionFailure("gemm on \(c.dtype)")
        }
    }
}
