// Vectorised float kernels with per-ISA variants picked at run time, CPU feature detection,
// and the CBLAS entry-point types that Autograd resolves from OpenBLAS with dlsym.
#ifndef TENSORD_CKERNELS_H
#define TENSORD_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

// MARK: - CPU features (CPUID, with XGETBV confirming the OS saves the vector registers)
enum {
    TD_CPU_AVX2 = 1 << 0,
    TD_CPU_FMA = 1 << 1,
    TD_CPU_AVX512F = 1 << 2,
    TD_CPU_AVX512BW = 1 << 3,
    TD_CPU_AVX512DQ = 1 << 4,
    TD_CPU_AVX512VL = 1 << 5,
    TD_CPU_AVX512CD = 1 << 6,
};
/// The TD_CPU_* bits this CPU and OS support.
uint32_t td_cpu_features(void);
/// The kernel variant in use: 2 = AVX-512, 1 = AVX2+FMA, 0 = baseline x86-64.
int td_kernel_level(void);
/// Makes this thread use variant `level` (at most td_kernel_level()'s) until called with -1, so
/// tests can check every variant this CPU can run.
void td_override_kernel_level(int level);

// MARK: - CBLAS entry points (LP64 OpenBLAS: the enums and blasint are int)
typedef void (*td_sgemm_fn)(int order, int transA, int transB, int m, int n, int k, float alpha,
                            const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*td_dgemm_fn)(int order, int transA, int transB, int m, int n, int k, double alpha,
                            const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc);
typedef char *(*td_corename_fn)(void);
enum { TD_CBLAS_ROW_MAJOR = 101, TD_CBLAS_NO_TRANS = 111, TD_CBLAS_TRANS = 112 };
/// Plain-loop GEMM with the cblas signature (row-major only): the fallback when OpenBLAS is
/// missing or fails its self-check.
void td_ref_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
void td_ref_dgemm(int order, int transA, int transB, int m, int n, int k, double alpha,
                  const double *a, int lda, const double *b, int ldb, double beta, double *c, int ldc);

// MARK: - Element-wise kernels on n contiguous elements (y may alias x / a)
/// Unary float32 functions, computed in double and rounded once (<= 1 ulp of the true value).
enum { TD_UNARY_EXP = 0, TD_UNARY_LOG, TD_UNARY_TANH, TD_UNARY_SIGMOID, TD_UNARY_RELU, TD_UNARY_SQRT };
void td_unary_f32(int op, const float *x, float *y, size_t n);

enum { TD_BIN_ADD = 0, TD_BIN_SUB, TD_BIN_MUL, TD_BIN_DIV };
/// y = a op b (same length).
void td_binary_f32(int op, const float *a, const float *b, float *y, size_t n);
void td_binary_f64(int op, const double *a, const double *b, double *y, size_t n);
/// y = a op s, or s op a when reverse.
void td_binary_scalar_f32(int op, const float *a, float s, int reverse, float *y, size_t n);
void td_binary_scalar_f64(int op, const double *a, double s, int reverse, double *y, size_t n);

// MARK: - Reductions
/// Sum of n elements accumulated in double over 16 fixed lanes, lanes added in a fixed order:
/// the result depends only on the data, not on the ISA or on threads.
double td_sum_f32(const float *x, size_t n);
double td_sum_f64(const double *x, size_t n);

#endif
