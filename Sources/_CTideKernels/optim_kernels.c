// Optimizer update kernels (see include/tide_optim.h) at each instruction-set level, with
// the same run-time dispatch as kernels.c (tide_kernel_level: 0 portable, 1 AVX2 + FMA).
#include "tide_kernels.h"
#include "tide_optim.h"

#define TIDE_CAT2(a, b) a##b
#define TIDE_CAT(a, b) TIDE_CAT2(a, b)

#define TIDE_T float
#define TIDE_TS _f32
#define TIDE_SQRT __builtin_elementwise_sqrt  /* no errno: vectorizes */

#define TIDE_SFX _portable
#define TIDE_TGT
#include "optim_body.h"
#undef TIDE_SFX
#undef TIDE_TGT
#if defined(__x86_64__)
#define TIDE_SFX _avx2
#define TIDE_TGT __attribute__((target("avx2,fma")))
#include "optim_body.h"
#undef TIDE_SFX
#undef TIDE_TGT
#endif

#undef TIDE_T
#undef TIDE_TS
#undef TIDE_SQRT
#define TIDE_T double
#define TIDE_TS _f64
#define TIDE_SQRT __builtin_elementwise_sqrt

#define TIDE_SFX _portable
#define TIDE_TGT
#include "optim_body.h"
#undef TIDE_SFX
#undef TIDE_TGT
#if defined(__x86_64__)
#define TIDE_SFX _avx2
#define TIDE_TGT __attribute__((target("avx2,fma")))
#include "optim_body.h"
#undef TIDE_SFX
#undef TIDE_TGT
#endif

#if defined(__x86_64__)
#define TIDE_PICK(name, ts, args) \
  if (tide_kernel_level() >= 1) tide_ok_##name##ts##_avx2 args; else tide_ok_##name##ts##_portable args;
#else
#define TIDE_PICK(name, ts, args) tide_ok_##name##ts##_portable args;
#endif

void tide_adam_f32(float *p, const float *g, float *m, float *v, float *vmax, size_t n, const tide_adam_params *c) {
  TIDE_PICK(adam, _f32, (p, g, m, v, vmax, n, c))
}
void tide_adam_f64(double *p, const double *g, double *m, double *v, double *vmax, size_t n, const tide_adam_params *c) {
  TIDE_PICK(adam, _f64, (p, g, m, v, vmax, n, c))
}
void tide_sgd_f32(float *p, const float *g, float *buf, size_t n, const tide_sgd_params *c) {
  TIDE_PICK(sgd, _f32, (p, g, buf, n, c))
}
void tide_sgd_f64(double *p, const double *g, double *buf, size_t n, const tide_sgd_params *c) {
  TIDE_PICK(sgd, _f64, (p, g, buf, n, c))
}
void tide_lion_f32(float *p, const float *g, float *m, size_t n, const tide_lion_params *c) {
  TIDE_PICK(lion, _f32, (p, g, m, n, c))
}
void tide_lion_f64(double *p, const double *g, double *m, size_t n, const tide_lion_params *c) {
  TIDE_PICK(lion, _f64, (p, g, m, n, c))
}

#if defined(__x86_64__)
#define TIDE_PICK_RET(name, ts, args) \
  return tide_kernel_level() >= 1 ? tide_ok_##name##ts##_avx2 args : tide_ok_##name##ts##_portable args;
#else
#define TIDE_PICK_RET(name, ts, args) return tide_ok_##name##ts##_portable args;
#endif

double tide_sumsq_f32(const float *x, size_t n) { TIDE_PICK_RET(sumsq, _f32, (x, n)) }
double tide_sumsq_f64(const double *x, size_t n) { TIDE_PICK_RET(sumsq, _f64, (x, n)) }
