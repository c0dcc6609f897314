// Kernels at each instruction-set level, and the dispatch that picks one at first use.
// Levels: 0 portable (baseline x86-64 / any CPU), 1 AVX2 + FMA, 2 AVX-512 (F, DQ, VL, BW).
// Level 2 runs its own compile of an op only where that was measured faster on the machine
// Tide is tuned on (AMD Zen 4, which runs a 512-bit op as two 256-bit halves but needs half
// the instructions): the compute-bound f32 ops (transcendental unary ops and their
// gradients, GELU, softmax: about 2x) and f32 pow (its own kernel, with tables that fit in
// registers there). The memory-bound ops (binary arithmetic, neg/abs/relu/sqrt/square,
// comparisons, sums) run their AVX2 kernels at level 2: the wider compile was no faster, or
// slower (square: 1.2x).
#include "tide_kernels.h"
#include <stdint.h>
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define TIDE_CAT2(a, b) a##b
#define TIDE_CAT(a, b) TIDE_CAT2(a, b)
#define TIDE_FN(name) TIDE_CAT(tide_k_##name, TIDE_SFX)

#define TIDE_SFX _portable
#define TIDE_TGT
#define TIDE_VW 8
#include "pow_body.h"
#include "kernels_body.h"
#include "transpose_body.h"
#undef TIDE_VW
#undef TIDE_SFX
#undef TIDE_TGT

#if defined(__x86_64__)
#define TIDE_SFX _avx2
#define TIDE_TGT __attribute__((target("avx2,fma")))
#define TIDE_VW 8
#include "pow_body.h"
#include "kernels_body.h"
#include "transpose_body.h"
#undef TIDE_VW
#undef TIDE_SFX
#undef TIDE_TGT

#define TIDE_SFX _avx512
#define TIDE_TGT __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma")))
#define TIDE_POW_PERMUTE
#define TIDE_VW 16
#include "pow_body.h"
#include "kernels_body.h"
#undef TIDE_VW
#undef TIDE_POW_PERMUTE
#undef TIDE_SFX
#undef TIDE_TGT
#endif

static int tide_level = -1;

int tide_kernel_best_level(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
  // (the runtime's check also asks the OS whether it saves the 512-bit state)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw")) return 2;
  return 1;
#endif
  return 0;
}

int tide_kernel_level(void) {
  if (tide_level < 0) tide_level = tide_kernel_best_level();
  return tide_level;
}

int tide_set_kernel_level(int level) {
  int best = tide_kernel_best_level();
  tide_level = level < 0 ? best : (level > best ? best : level);
  return tide_level;
}

#if defined(__x86_64__)
#define TIDE_DISPATCH(call_portable, call_avx2) \
  if (tide_kernel_level() >= 1) { call_avx2; } else { call_portable; }
#define TIDE_DISPATCH_RET(call_portable, call_avx2) \
  return tide_kernel_level() >= 1 ? call_avx2 : call_portable;
// the ops with a measured gain from the AVX-512 compile of their kernel
#define TIDE_DISPATCH3(call_portable, call_avx2, call_avx512) \
  { const int level_ = tide_kernel_level(); if (level_ >= 2) { call_avx512; } else if (level_ == 1) { call_avx2; } else { call_portable; } }
#define TIDE_DISPATCH3_RET(call_portable, call_avx2, call_avx512) \
  { const int level_ = tide_kernel_level(); return level_ >= 2 ? call_avx512 : level_ == 1 ? call_avx2 : call_portable; }
#else
#define TIDE_DISPATCH(call_portable, call_avx2) call_portable;
#define TIDE_DISPATCH_RET(call_portable, call_avx2) return call_portable;
#define TIDE_DISPATCH3(call_portable, call_avx2, call_avx512) call_portable;
#define TIDE_DISPATCH3_RET(call_portable, call_avx2, call_avx512) return call_portable;
#endif

void tide_binary_f32(int op, const float *a, const float *b, float *y, size_t n, int mode) {
#if defined(__x86_64__)
  if (op == TIDE_OP_POW && tide_kernel_level() >= 2) { tide_k_pow_f32_avx512(a, b, y, n, mode & ~TIDE_MODE_STREAM); return; }
#endif
  TIDE_DISPATCH(tide_k_binary_f32_portable(op, a, b, y, n, mode), tide_k_binary_f32_avx2(op, a, b, y, n, mode))
}
void tide_unary_grad_f32(int op, const float *x, const float *y, const float *g, float *out, size_t n) {
  TIDE_DISPATCH3(tide_k_unary_grad_f32_portable(op, x, y, g, out, n), tide_k_unary_grad_f32_avx2(op, x, y, g, out, n), tide_k_unary_grad_f32_avx512(op, x, y, g, out, n))
}
float tide_exp_shift_f32(float *x, size_t n, float shift) {
  TIDE_DISPATCH3_RET(tide_k_exp_shift_f32_portable(x, n, shift), tide_k_exp_shift_f32_avx2(x, n, shift), tide_k_exp_shift_f32_avx512(x, n, shift))
}
float tide_max_f32(const float *x, size_t n) {
  TIDE_DISPATCH_RET(tide_k_max_f32_portable(x, n), tide_k_max_f32_avx2(x, n))
}
void tide_binary_f64(int op, const double *a, const double *b, double *y, size_t n, int mode) {
  TIDE_DISPATCH(tide_k_binary_f64_portable(op, a, b, y, n, mode), tide_k_binary_f64_avx2(op, a, b, y, n, mode))
}
// the unary ops that are memory-bound: no gain from the wide compile, streamed when big
static int tide_unary_cheap(int op) {
  return op == TIDE_UN_NEG || op == TIDE_UN_ABS || op == TIDE_UN_RELU || op == TIDE_UN_SQRT || op == TIDE_UN_SQUARE;
}
static void tide_unary_f32_run(int op, const float *x, float *y, size_t n) {
  if (tide_unary_cheap(op)) { TIDE_DISPATCH(tide_k_unary_f32_portable(op, x, y, n), tide_k_unary_f32_avx2(op, x, y, n)) return; }
  TIDE_DISPATCH3(tide_k_unary_f32_portable(op, x, y, n), tide_k_unary_f32_avx2(op, x, y, n), tide_k_unary_f32_avx512(op, x, y, n))
}
static void tide_stream_copy_f32(const float *src, float *y, size_t n) {
  TIDE_DISPATCH(tide_k_stream_copy_f32_portable(src, y, n), tide_k_stream_copy_f32_avx2(src, y, n))
}
void tide_unary_f32(int op, const float *x, float *y, size_t n) { tide_unary_f32_run(op, x, y, n); }
// The memory-bound ops' big outputs (the caller's choice, as binary's TIDE_MODE_STREAM) are
// computed into an L1 block and streamed out, so no output line is read first and the input
// stays in cache; the transcendental ones are compute-bound and store plainly.
void tide_unary_f32_stream(int op, const float *x, float *y, size_t n) {
  if (!tide_unary_cheap(op) || x == y) { tide_unary_f32_run(op, x, y, n); return; }
  float block[2048] __attribute__((aligned(64)));
  for (size_t b = 0; b < n; b += 2048) {
    size_t m = n - b < 2048 ? n - b : 2048;
    tide_unary_f32_run(op, x + b, block, m);
    tide_stream_copy_f32(block, y + b, m);
  }
#if defined(__x86_64__)
  __builtin_ia32_sfence();
#endif
}
double tide_sum_f32(const float *x, size_t n) {
  TIDE_DISPATCH_RET(tide_k_sum_f32_portable(x, n), tide_k_sum_f32_avx2(x, n))
}
double tide_sum_f64(const double *x, size_t n) {
  TIDE_DISPATCH_RET(tide_k_sum_f64_portable(x, n), tide_k_sum_f64_avx2(x, n))
}
void tide_softmax_rows_f32(const float *x, float *y, size_t rows, size_t n, int log) {
  TIDE_DISPATCH3(tide_k_softmax_rows_f32_portable(x, y, rows, n, log), tide_k_softmax_rows_f32_avx2(x, y, rows, n, log), tide_k_softmax_rows_f32_avx512(x, y, rows, n, log))
}
void tide_compare_f32(int op, const float *a, const float *b, uint8_t *y, size_t n, int mode) {
  TIDE_DISPATCH(tide_k_compare_f32_portable(op, a, b, y, n, mode), tide_k_compare_f32_avx2(op, a, b, y, n, mode))
}
void tide_compare_f64(int op, const double *a, const double *b, uint8_t *y, size_t n, int mode) {
  TIDE_DISPATCH(tide_k_compare_f64_portable(op, a, b, y, n, mode), tide_k_compare_f64_avx2(op, a, b, y, n, mode))
}
void tide_binary_tr_f32(int op, const float *a, size_t lda, const float *b, size_t ldb, float *y, size_t ldy, size_t rows, size_t cols) {
  TIDE_DISPATCH(tide_k_binary_tr_f32_portable(op, a, lda, b, ldb, y, ldy, rows, cols), tide_k_binary_tr_f32_avx2(op, a, lda, b, ldb, y, ldy, rows, cols))
}
void tide_binary_tr_f64(int op, const double *a, size_t lda, const double *b, size_t ldb, double *y, size_t ldy, size_t rows, size_t cols) {
  TIDE_DISPATCH(tide_k_binary_tr_f64_portable(op, a, lda, b, ldb, y, ldy, rows, cols), tide_k_binary_tr_f64_avx2(op, a, lda, b, ldb, y, ldy, rows, cols))
}
