#include "ckernels.h"
#include <cpuid.h>
#include <stdatomic.h>

uint32_t td_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    // AVX needs both the CPU bit and the OS saving YMM state (OSXSAVE + XCR0 bits 1-2).
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6) return 0;
    uint32_t f = 0;
    if (c & (1u << 12)) f |= TD_CPU_FMA;
    if (__get_cpuid_max(0, 0) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    if (b & (1u << 5)) f |= TD_CPU_AVX2;
    // AVX-512 also needs the OS to save opmask and ZMM state (XCR0 bits 5-7).
    if ((lo & 0xe0) == 0xe0) {
        if (b & (1u << 16)) f |= TD_CPU_AVX512F;
        if (b & (1u << 17)) f |= TD_CPU_AVX512DQ;
        if (b & (1u << 28)) f |= TD_CPU_AVX512CD;
        if (b & (1u << 30)) f |= TD_CPU_AVX512BW;
        if (b & (1u << 31)) f |= TD_CPU_AVX512VL;
    }
    return f;
}

static _Thread_local int level_override = -1;

void td_override_kernel_level(int level) { level_override = level; }

int td_kernel_level(void) {
    if (level_override >= 0) return level_override;
    static _Atomic int level = -1;
    int l = atomic_load_explicit(&level, memory_order_relaxed);
    if (l >= 0) return l;
    uint32_t f = td_cpu_features();
    const uint32_t avx512 = TD_CPU_AVX512F | TD_CPU_AVX512DQ | TD_CPU_AVX512BW | TD_CPU_AVX512VL | TD_CPU_AVX2 | TD_CPU_FMA;
    l = (f & avx512) == avx512 ? 2 : ((f & (TD_CPU_AVX2 | TD_CPU_FMA)) == (TD_CPU_AVX2 | TD_CPU_FMA) ? 1 : 0);
    atomic_store_explicit(&level, l, memory_order_relaxed);
    return l;
}
