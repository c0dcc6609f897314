// Reductions over one axis of a dense block (see include/tide_kernels.h, "reductions"), at
// each instruction-set level, with the run-time dispatch of kernels.c.
#include "tide_kernels.h"

#define TIDE_CAT2(a, b) a##b
#define TIDE_CAT(a, b) TIDE_CAT2(a, b)

// the contiguous sums of kernels.c (blocked f32 with f64 widening; vectorized f64)
double tide_k_sum_f32_portable(const float *x, size_t n);
double tide_k_sum_f64_portable(const double *x, size_t n);
#if defined(__x86_64__)
double tide_k_sum_f32_avx2(const float *x, size_t n);
double tide_k_sum_f64_avx2(const double *x, size_t n);
#endif

// reduce_levels.h instantiates reduce_body.h at each level for the type set here; a level's
// row sum is tide_k_sum<TS><level>
#define TIDE_ROWSUM_AT(level) TIDE_CAT(TIDE_CAT(tide_k_sum, TIDE_TS), level)

#define TIDE_T float
#define TIDE_TS _f32
#define TIDE_LANES 8
#include "reduce_levels.h"
#undef TIDE_T
#undef TIDE_TS
#undef TIDE_LANES

#define TIDE_T double
#define TIDE_TS _f64
#define TIDE_LANES 4
#include "reduce_levels.h"
#undef TIDE_T
#undef TIDE_TS
#undef TIDE_LANES

#if defined(__x86_64__)
#define TIDE_RPICK(name, ts, args) \
  if (tide_kernel_level() >= 1) tide_rk_##name##ts##_avx2 args; else tide_rk_##name##ts##_portable args;
#else
#define TIDE_RPICK(name, ts, args) tide_rk_##name##ts##_portable args;
#endif

// One wrapper per type: rows when I == 1 (ld is then 1), else O passes of the column kernel.
#define TIDE_REDUCE_WRAPPERS(T, TS)                                                                  \
  void tide_reduce##TS(int op, const T *x, T *out, size_t O, size_t R, size_t I, size_t ld) {       \
    if (I == 1 && ld == 1) { TIDE_RPICK(rows, TS, (op, x, out, O, R)) return; }                    \
    for (size_t o = 0; o < O; o++) TIDE_RPICK(cols, TS, (op, x + o * R * ld, out + o * ld, R, I, ld)) \
  }                                                                                                 \
  void tide_scan##TS(int product, const T *x, T *y, size_t O, size_t R, size_t I, size_t ld) {        \
    if (I == 1 && ld == 1) { TIDE_RPICK(scan_rows, TS, (product, x, y, O, R)) return; }             \
    for (size_t o = 0; o < O; o++) TIDE_RPICK(scan_cols, TS, (product, x + o * R * ld, y + o * R * ld, R, I, ld)) \
  }                                                                                                 \
  void tide_argreduce##TS(int is_max, const T *x, T *val, int64_t *idx, size_t O, size_t R, size_t I, size_t ld) { \
    if (I == 1 && ld == 1) { TIDE_RPICK(arg_rows, TS, (is_max, x, val, idx, O, R)) return; }       \
    for (size_t o = 0; o < O; o++)                                                                  \
      TIDE_RPICK(arg_cols, TS, (is_max, x + o * R * ld, val + o * ld, idx + o * ld, R, I, ld))      \
  }

TIDE_REDUCE_WRAPPERS(float, _f32)
TIDE_REDUCE_WRAPPERS(double, _f64)
