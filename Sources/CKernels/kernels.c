// Hot loops written so that clang vectorises them, each compiled three times (AVX-512, AVX2+FMA,
// baseline) and picked by td_kernel_level(). float32 transcendental functions are evaluated in
// double and rounded once, so float over/underflow, subnormal results and specials come out of
// the final conversion exactly as IEEE rounding gives them.
#include "ckernels.h"
#include <math.h>
#include <string.h>

#define TD_INLINE static inline __attribute__((always_inline))
#define TD_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))
#define TD_AVX2 __attribute__((target("avx2,fma")))

// One exported function per kernel that calls the variant for this CPU.
#define TD_DISPATCH(ret, name, params, args)                     \
    TD_AVX512 static ret name##_avx512 params { return name##_body args; } \
    TD_AVX2 static ret name##_avx2 params { return name##_body args; }     \
    static ret name##_base params { return name##_body args; }             \
    ret name params {                                            \
        switch (td_kernel_level()) {                             \
        case 2: return name##_avx512 args;                       \
        case 1: return name##_avx2 args;                         \
        default: return name##_base args;                        \
        }                                                        \
    }

TD_INLINE double td_from_bits(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }
TD_INLINE uint64_t td_to_bits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

/// e^x in double for x in [-700, 700] (clamped; NaN passes through), relative error ~1e-15.
TD_INLINE double td_exp_d(double x) {
    x = x < -700.0 ? -700.0 : x;
    x = x > 700.0 ? 700.0 : x;
    // k = round(x / ln 2) by the 1.5·2^52 shift, which leaves k in the low mantissa bits.
    const double shift = 0x1.8p52;
    double t = x * 0x1.71547652b82fep0 + shift;
    double k = t - shift;
    int64_t ki = (int64_t)(td_to_bits(t) - td_to_bits(shift));
    double r = x - k * 0x1.62e42fefa39efp-1 - k * 0x1.abc9e3b39803fp-56;   // |r| <= 0.347
    // Taylor polynomial of degree 10: truncation error < 2e-13 relative.
    double p = 1.0 / 3628800;
    p = p * r + 1.0 / 362880;
    p = p * r + 1.0 / 40320;
    p = p * r + 1.0 / 5040;
    p = p * r + 1.0 / 720;
    p = p * r + 1.0 / 120;
    p = p * r + 1.0 / 24;
    p = p * r + 1.0 / 6;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    return p * td_from_bits((uint64_t)(ki + 1023) << 52);
}

/// ln x in double for a positive finite normal double x, relative error ~1e-15.
TD_INLINE double td_log_d(double x) {
    uint64_t u = td_to_bits(x);
    // Exponent as a double without int64 -> double conversions (which need AVX-512DQ).
    double e = td_from_bits(0x4330000000000000ull | (u >> 52)) - 0x1p52 - 1023.0;
    double m = td_from_bits((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);   // [1, 2)
    int big = m > 0x1.6a09e667f3bcdp0;   // sqrt(2): keep m in [sqrt(1/2), sqrt(2))
    m = big ? m * 0.5 : m;
    e = big ? e + 1.0 : e;
    // ln m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716: odd series to s^15 (error < 1e-14).
    double s = (m - 1.0) / (m + 1.0), z = s * s;
    double p = 1.0 / 15;
    p = p * z + 1.0 / 13;
    p = p * z + 1.0 / 11;
    p = p * z + 1.0 / 9;
    p = p * z + 1.0 / 7;
    p = p * z + 1.0 / 5;
    p = p * z + 1.0 / 3;
    p = p * z + 1.0;
    return e * 0x1.62e42fefa39efp-1 + 2.0 * s * p;
}

TD_INLINE float td_expf(float x) { return (float)td_exp_d((double)x); }

TD_INLINE float td_logf(float x) {
    // Every positive float, subnormals included, is a normal double.
    float y = (float)td_log_d((double)x);
    y = x == 0.0f ? -INFINITY : y;
    y = x < 0.0f ? NAN : y;
    y = x == INFINITY ? INFINITY : y;
    return x != x ? x : y;
}

TD_INLINE float td_tanhf(float x) {
    double a = fabs((double)x);
    a = a > 20.0 ? 20.0 : a;   // tanh(20) rounds to 1 in float
    double t = td_exp_d(2.0 * a);
    double h = (t - 1.0) / (t + 1.0);
    // Below 2^-12, tanh(x) = x to float precision (and the quotient above loses bits).
    float y = fabsf(x) < 0x1p-12f ? x : (float)copysign(h, (double)x);
    return x != x ? x : y;
}

TD_INLINE float td_sigmoidf(float x) { return (float)(1.0 / (1.0 + td_exp_d(-(double)x))); }

/// max(x, 0) as Swift's max(x, 0) gives it: NaN stays NaN, -0 becomes +0.
TD_INLINE float td_reluf(float x) { return (x < 0.0f || x == 0.0f) ? 0.0f : x; }

TD_INLINE void td_unary_f32_body(int op, const float *x, float *y, size_t n) {
    switch (op) {
    case TD_UNARY_EXP: for (size_t i = 0; i < n; i++) y[i] = td_expf(x[i]); break;
    case TD_UNARY_LOG: for (size_t i = 0; i < n; i++) y[i] = td_logf(x[i]); break;
    case TD_UNARY_TANH: for (size_t i = 0; i < n; i++) y[i] = td_tanhf(x[i]); break;
    case TD_UNARY_SIGMOID: for (size_t i = 0; i < n; i++) y[i] = td_sigmoidf(x[i]); break;
    case TD_UNARY_RELU: for (size_t i = 0; i < n; i++) y[i] = td_reluf(x[i]); break;
    // The elementwise builtin is IEEE sqrt (correctly rounded, NaN below 0) without libm's errno.
    default: for (size_t i = 0; i < n; i++) y[i] = __builtin_elementwise_sqrt(x[i]); break;
    }
}
TD_DISPATCH(void, td_unary_f32, (int op, const float *x, float *y, size_t n), (op, x, y, n))

#define TD_BINARY_BODY(T, suffix)                                                              \
    TD_INLINE void td_binary_##suffix##_body(int op, const T *a, const T *b, T *y, size_t n) { \
        switch (op) {                                                                          \
        case TD_BIN_ADD: for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i]; break;             \
        case TD_BIN_SUB: for (size_t i = 0; i < n; i++) y[i] = a[i] - b[i]; break;             \
        case TD_BIN_MUL: for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i]; break;             \
        default: for (size_t i = 0; i < n; i++) y[i] = a[i] / b[i]; break;                     \
        }                                                                                      \
    }                                                                                          \
    TD_INLINE void td_binary_scalar_##suffix##_body(int op, const T *a, T s, int reverse, T *y, size_t n) { \
        switch (op) {                                                                          \
        case TD_BIN_ADD: for (size_t i = 0; i < n; i++) y[i] = a[i] + s; break;                \
        case TD_BIN_MUL: for (size_t i = 0; i < n; i++) y[i] = a[i] * s; break;                \
        case TD_BIN_SUB:                                                                       \
            if (reverse) for (size_t i = 0; i < n; i++) y[i] = s - a[i];                       \
            else for (size_t i = 0; i < n; i++) y[i] = a[i] - s;                               \
            break;                                                                             \
        default:                                                                               \
            if (reverse) for (size_t i = 0; i < n; i++) y[i] = s / a[i];                       \
            else for (size_t i = 0; i < n; i++) y[i] = a[i] / s;                               \
            break;                                                                             \
        }                                                                                      \
    }

TD_BINARY_BODY(float, f32)
TD_BINARY_BODY(double, f64)
TD_DISPATCH(void, td_binary_f32, (int op, const float *a, const float *b, float *y, size_t n), (op, a, b, y, n))
TD_DISPATCH(void, td_binary_f64, (int op, const double *a, const double *b, double *y, size_t n), (op, a, b, y, n))
TD_DISPATCH(void, td_binary_scalar_f32, (int op, const float *a, float s, int reverse, float *y, size_t n), (op, a, s, reverse, y, n))
TD_DISPATCH(void, td_binary_scalar_f64, (int op, const double *a, double s, int reverse, double *y, size_t n), (op, a, s, reverse, y, n))

// 16 independent double lanes (element i goes to lane i mod 16), then a fixed pairwise fold.
#define TD_SUM_BODY(T, suffix)                                         \
    TD_INLINE double td_sum_##suffix##_body(const T *x, size_t n) {    \
        double acc[16] = {0};                                          \
        size_t i = 0;                                                  \
        for (; i + 16 <= n; i += 16)                                   \
            for (int j = 0; j < 16; j++) acc[j] += (double)x[i + j];   \
        for (int j = 0; i < n; i++, j++) acc[j] += (double)x[i];       \
        for (int w = 8; w >= 1; w /= 2)                                \
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];          \
        return acc[0];                                                 \
    }
TD_SUM_BODY(float, f32)
TD_SUM_BODY(double, f64)
TD_DISPATCH(double, td_sum_f32, (const float *x, size_t n), (x, n))
TD_DISPATCH(double, td_sum_f64, (const double *x, size_t n), (x, n))

// The fallback GEMM: row-major (the only order Autograd uses), C = alpha op(A) op(B) + beta C.
#define TD_REF_GEMM(T, name)                                                                      \
    void name(int order, int transA, int transB, int m, int n, int k, T alpha, const T *a, int lda, \
              const T *b, int ldb, T beta, T *c, int ldc) {                                         \
        (void)order;                                                                               \
        for (int i = 0; i < m; i++)                                                                \
            for (int j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];    \
        for (int i = 0; i < m; i++)                                                                \
            for (int p = 0; p < k; p++) {                                                          \
                T aip = alpha * (transA == TD_CBLAS_TRANS ? a[p * lda + i] : a[i * lda + p]);      \
                T *ci = c + (size_t)i * ldc;                                                       \
                if (transB == TD_CBLAS_TRANS)                                                      \
                    for (int j = 0; j < n; j++) ci[j] += aip * b[j * ldb + p];                     \
                else                                                                               \
                    for (int j = 0; j < n; j++) ci[j] += aip * b[p * ldb + j];                     \
            }                                                                                      \
    }
TD_REF_GEMM(float, td_ref_sgemm)
TD_REF_GEMM(double, td_ref_dgemm)
