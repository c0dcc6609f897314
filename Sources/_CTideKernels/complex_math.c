// Complex element functions (see tide_complex.h): the C library's Annex G functions and
// NumPy's formulas, one loop per op (no per-element dispatch). Not compiled per instruction
// set level: these are libm calls, not SIMD loops.
#include "tide_complex.h"
#include <complex.h>
#include <math.h>

// z = re + im i without the arithmetic re + im * I (which turns inf * 0 into NaN); CMPLX is
// not declared for every compiler glibc meets
static inline float complex tide_mk_f32(float re, float im) { float complex z; __real__ z = re; __imag__ z = im; return z; }
static inline double complex tide_mk_f64(double re, double im) { double complex z; __real__ z = re; __imag__ z = im; return z; }

// NumPy's constants for log2 / log10 (its nc_log2 and nc_log10 scale clog's components)
#define TIDE_LOG2E 1.442695040888963407359924681001892137
#define TIDE_LOG10E 0.434294481903251827651128918916605082

// TIDE_CX_BODY: the unary loops over element type T (complex C, pair struct CS); F(name) is
// the libm function of T's precision (sinf or sin). Each loop body sets rr and ri.
#define TIDE_CX_LOOP(...)                                                               \
  for (size_t k = 0; k < n; k++) {                                                       \
    T xr = x[2 * k], xi = x[2 * k + 1];                                                  \
    C z = CMPLX_T(xr, xi);                                                               \
    (void)z;                                                                             \
    __VA_ARGS__;                                                                         \
    y[2 * k] = rr; y[2 * k + 1] = ri;                                                    \
  }                                                                                      \
  return;

#define TIDE_CX_LIB(fn)                                                                 \
  TIDE_CX_LOOP(C w = fn(z); T rr = creal_T(w); T ri = cimag_T(w))

#define TIDE_CX_BODY                                                                    \
  switch (op) {                                                                          \
  case TIDE_CX_EXP: TIDE_CX_LIB(F(cexp))                                                 \
  case TIDE_CX_LOG: TIDE_CX_LIB(F(clog))                                                 \
  case TIDE_CX_SQRT: TIDE_CX_LIB(F(csqrt))                                               \
  case TIDE_CX_SIN: TIDE_CX_LIB(F(csin))                                                 \
  case TIDE_CX_COS: TIDE_CX_LIB(F(ccos))                                                 \
  case TIDE_CX_TAN: TIDE_CX_LIB(F(ctan))                                                 \
  case TIDE_CX_SINH: TIDE_CX_LIB(F(csinh))                                               \
  case TIDE_CX_COSH: TIDE_CX_LIB(F(ccosh))                                               \
  case TIDE_CX_TANH: TIDE_CX_LIB(F(ctanh))                                               \
  case TIDE_CX_ASIN: TIDE_CX_LIB(F(casin))                                               \
  case TIDE_CX_ACOS: TIDE_CX_LIB(F(cacos))                                               \
  case TIDE_CX_ATAN: TIDE_CX_LIB(F(catan))                                               \
  /* NumPy's nc_log1p: log|1 + z| + i arg(1 + z), through hypot (no cancellation in |.|) */ \
  case TIDE_CX_LOG1P:                                                                    \
    TIDE_CX_LOOP(T rr = F(log)(F(hypot)(xr + 1, xi)); T ri = F(atan2)(xi, xr + 1))       \
  /* NumPy's nc_expm1: expm1(re) cos(im) - 2 sin^2(im / 2) + i exp(re) sin(im) */         \
  case TIDE_CX_EXPM1:                                                                    \
    TIDE_CX_LOOP(T a = F(sin)(xi / 2); T rr = F(expm1)(xr) * F(cos)(xi) - 2 * a * a;     \
                 T ri = F(exp)(xr) * F(sin)(xi))                                         \
  case TIDE_CX_LOG2:                                                                     \
    TIDE_CX_LOOP(C w = F(clog)(z); T rr = creal_T(w) * (T)TIDE_LOG2E; T ri = cimag_T(w) * (T)TIDE_LOG2E) \
  case TIDE_CX_LOG10:                                                                    \
    TIDE_CX_LOOP(C w = F(clog)(z); T rr = creal_T(w) * (T)TIDE_LOG10E; T ri = cimag_T(w) * (T)TIDE_LOG10E) \
  /* NumPy's reciprocal loop (its own Smith step: 1 / 0 is nan + nan i there) */          \
  case TIDE_CX_RECIPROCAL:                                                               \
    TIDE_CX_LOOP(T rr, ri;                                                               \
      if (F(fabs)(xi) <= F(fabs)(xr)) { T r = xi / xr, d = xr + xi * r; rr = 1 / d; ri = -r / d; } \
      else { T r = xr / xi, d = xr * r + xi; rr = r / d; ri = -1 / d; })                 \
  /* 1 / sqrt(z) and 1 / (1 + exp(-z)) with NumPy's division (as NumPy computes them) */  \
  case TIDE_CX_RSQRT:                                                                    \
    TIDE_CX_LOOP(C w = F(csqrt)(z); CS one = {1, 0}, s = {creal_T(w), cimag_T(w)};       \
                 CS q = DIV(one, s); T rr = q.re; T ri = q.im)                           \
  case TIDE_CX_SIGMOID:                                                                  \
    TIDE_CX_LOOP(C w = F(cexp)(CMPLX_T(-xr, -xi)); CS one = {1, 0}, s = {1 + creal_T(w), cimag_T(w)}; \
                 CS q = DIV(one, s); T rr = q.re; T ri = q.im)                           \
  default: return;                                                                       \
  }

#define T float
#define C float complex
#define CS tide_c64
#define CMPLX_T tide_mk_f32
#define creal_T crealf
#define cimag_T cimagf
#define DIV tide_cdiv_f32
#define F(name) name##f
void tide_cunary_f32(int op, const float *x, float *y, size_t n) { TIDE_CX_BODY }
#undef T
#undef C
#undef CS
#undef CMPLX_T
#undef creal_T
#undef cimag_T
#undef DIV
#undef F

#define T double
#define C double complex
#define CS tide_c128
#define CMPLX_T tide_mk_f64
#define creal_T creal
#define cimag_T cimag
#define DIV tide_cdiv_f64
#define F(name) name
void tide_cunary_f64(int op, const double *x, double *y, size_t n) { TIDE_CX_BODY }
#undef T
#undef C
#undef CS
#undef CMPLX_T
#undef creal_T
#undef cimag_T
#undef DIV
#undef F

static inline tide_c64 tide_cmul_f32(tide_c64 a, tide_c64 b) {
  tide_c64 r = {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
  return r;
}
static inline tide_c128 tide_cmul_f64(tide_c128 a, tide_c128 b) {
  tide_c128 r = {a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
  return r;
}

// NumPy's npy_cpow (see the header), step for step: the unrolled a, a a, a (a a) for the
// exponents 1, 2, 3 keep infinities that a product starting from 1 would turn into NaN.
// Beyond it, as NumPy's z ** 0.5 and torch: an exponent of 1/2 is csqrt (exp(log(z) / 2)
// rounds pi/2 and can land off the principal branch), and c64 powers are taken in double.
#define TIDE_CPOW_BODY(T, CS, MUL, DIV)                                               \
  T ar = a.re, ai = a.im, br = b.re, bi = b.im;                                          \
  CS one = {1, 0};                                                                       \
  if (br == 0 && bi == 0) return one;                                                    \
  if (ar == 0 && ai == 0) {                                                              \
    CS r = {br > 0 ? 0 : NAN, br > 0 ? 0 : NAN};                                         \
    return r;                                                                            \
  }                                                                                      \
  if (bi == 0 && br > -100 && br < 100 && (T)(long)br == br) {                           \
    long e = (long)br;                                                                   \
    if (e == 1) return a;                                                                \
    if (e == 2) return MUL(a, a);                                                        \
    if (e == 3) return MUL(a, MUL(a, a));                                                \
    long m = e < 0 ? -e : e;                                                             \
    CS r = one, p = a;                                                                   \
    for (long mask = 1;; mask <<= 1) {                                                   \
      if (m & mask) r = MUL(r, p);                                                       \
      if (m < (mask << 1)) break;                                                        \
      p = MUL(p, p);                                                                     \
    }                                                                                    \
    return e < 0 ? DIV(one, r) : r;                                                      \
  }                                                                                      \
  if (bi == 0 && br == 0.5) {                                                            \
    double complex s = csqrt(tide_mk_f64(ar, ai));                             \
    CS r = {(T)creal(s), (T)cimag(s)};                                                   \
    return r;                                                                            \
  }                                                                                      \
  double complex w = cpow(tide_mk_f64(ar, ai), tide_mk_f64(br, bi)); \
  CS r = {(T)creal(w), (T)cimag(w)};                                                     \
  return r;

tide_c64 tide_cpow_f32(tide_c64 a, tide_c64 b) {
  TIDE_CPOW_BODY(float, tide_c64, tide_cmul_f32, tide_cdiv_f32)
}
tide_c128 tide_cpow_f64(tide_c128 a, tide_c128 b) {
  TIDE_CPOW_BODY(double, tide_c128, tide_cmul_f64, tide_cdiv_f64)
}
