import CKernels
import Glibc
import Testing
@testable import Autograd

@Suite struct BLASCoreTests {
    @Test("core choice: a user OPENBLAS_CORETYPE always wins, else the best core the CPU fully supports")
    func coreChoice() {
        let all = CPUFeatures.skylakeX
        #expect(BLAS.coreChoice(features: all, userSetting: nil) == .forced("SkylakeX"))
        #expect(BLAS.coreChoice(features: all, userSetting: "") == .forced("SkylakeX"))
        #expect(BLAS.coreChoice(features: all, userSetting: "Prescott") == .user("Prescott"))
        #expect(BLAS.coreChoice(features: [], userSetting: "SkylakeX") == .user("SkylakeX"))
        // Each missing AVX-512 piece drops to Haswell (AVX2 + FMA are still there).
        for missing in [CPUFeatures.avx512f, .avx512bw, .avx512dq, .avx512vl, .avx512cd] {
            #expect(BLAS.coreChoice(features: all.subtracting(missing), userSetting: nil) == .forced("Haswell"))
        }
        #expect(BLAS.coreChoice(features: .haswell, userSetting: nil) == .forced("Haswell"))
        #expect(BLAS.coreChoice(features: [.avx2], userSetting: nil) == .library)
        #expect(BLAS.coreChoice(features: [.fma], userSetting: nil) == .library)
        #expect(BLAS.coreChoice(features: [], userSetting: nil) == .library)
    }

    @Test("this process loaded OpenBLAS with the core chosen for its CPU and the self-check passed")
    func loadedCore() {
        #expect(BLAS.usesOpenBLAS, "\(BLAS.status)")
        #expect(BLAS.status.contains("self-check passed"))
        let user = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        switch BLAS.coreChoice(features: .current, userSetting: user) {
        case .forced(let core), .user(let core): #expect(BLAS.coreName.lowercased() == core.lowercased(), "\(BLAS.status)")
        case .library: #expect(BLAS.status.contains("own detection"))
        }
    }

    @Test("the self-check passes the reference GEMM and catches broken products")
    func selfCheckCatchesBrokenGEMM() {
        #expect(BLAS.selfCheck(.reference) == nil)
        // Transposes ignored.
        let noTranspose = BLAS.GEMMFunctions(sgemm: { o, _, _, m, n, k, al, a, lda, b, ldb, be, c, ldc in
            td_ref_sgemm(o, Int32(TD_CBLAS_NO_TRANS), Int32(TD_CBLAS_NO_TRANS), m, n, k, al, a, lda, b, ldb, be, c, ldc)
        }, dgemm: td_ref_dgemm)
        #expect(BLAS.selfCheck(noTranspose)?.hasPrefix("sgemm 7x5x9 transA") == true)
        // One entry off by 1e-3 in double.
        let offByOne = BLAS.GEMMFunctions(sgemm: td_ref_sgemm, dgemm: { o, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc in
            td_ref_dgemm(o, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc)
            c![Int(m * n - 1)] += 1e-3
        })
        #expect(BLAS.selfCheck(offByOne)?.hasPrefix("dgemm 7x5x9") == true)
        // beta ignored: only the second shape (beta 0.5) shows it.
        let noBeta = BLAS.GEMMFunctions(sgemm: { o, ta, tb, m, n, k, al, a, lda, b, ldb, _, c, ldc in
            td_ref_sgemm(o, ta, tb, m, n, k, al, a, lda, b, ldb, 0, c, ldc)
        }, dgemm: td_ref_dgemm)
        #expect(BLAS.selfCheck(noBeta)?.hasPrefix("sgemm 37x83x129 beta=0.5") == true)
        // A float product computed at reduced precision (bfloat16-like inputs) is also caught.
        let lowPrecision = BLAS.GEMMFunctions(sgemm: { o, ta, tb, m, n, k, al, a, lda, b, ldb, be, c, ldc in
            let count = Int(ta == Int32(TD_CBLAS_TRANS) ? k * lda : m * lda)
            let rounded = (0..<count).map { Float(bitPattern: a![$0].bitPattern & 0xFFFF_0000) }
            td_ref_sgemm(o, ta, tb, m, n, k, al, rounded, lda, b, ldb, be, c, ldc)
        }, dgemm: td_ref_dgemm)
        #expect(BLAS.selfCheck(lowPrecision)?.hasPrefix("sgemm") == true)
    }

    @Test("the reference GEMM equals naive loops through the engine's shapes (every transpose, beta)")
    func referenceGEMM() {
        // The OpenBLAS path is covered by BLASTests through dot/batch_dot; this is the fallback.
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let m = 3, n = 4, k = 5
            let a = (0..<(m * k)).map { Double($0 % 7) - 3 }, b = (0..<(k * n)).map { Double($0 % 5) - 2 }
            var c = [Double](repeating: 1, count: m * n)
            td_ref_dgemm(Int32(TD_CBLAS_ROW_MAJOR), Int32(ta ? TD_CBLAS_TRANS : TD_CBLAS_NO_TRANS), Int32(tb ? TD_CBLAS_TRANS : TD_CBLAS_NO_TRANS),
                         Int32(m), Int32(n), Int32(k), 2, a, Int32(ta ? m : k), b, Int32(tb ? k : n), 3, &c, Int32(n))
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k { s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]) }
                    #expect(c[i * n + j] == 2 * s + 3)
                }
            }
        }
    }
}
