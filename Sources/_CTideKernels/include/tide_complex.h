// Complex element functions with NumPy's special values (C99 Annex G, component-wise).
//
// Why here, not swift-numerics: its Complex treats every non-finite value as one point at
// infinity (exp(0 + inf i) = inf, log(0) = inf, 1 / 0 = inf, abs(2 + nan i) = inf, inf == nan),
// which loses the components NumPy and PyTorch keep. The transcendental functions are the C
// library's (<complex.h>, Annex G); division, reciprocal, pow, log1p, expm1, log2 and log10
// follow NumPy's own formulas. Values are interleaved (re, im) pairs, the layout of
// Complex<Float> / Complex<Double>.
#ifndef TIDE_COMPLEX_H
#define TIDE_COMPLEX_H
#include <stddef.h>

typedef struct { float re, im; } tide_c64;
typedef struct { double re, im; } tide_c128;

// a / b as NumPy divides (Smith's method); a zero divisor gives inf or nan per component:
// (1 + 0i) / 0 = inf + nan i.
#define TIDE_CDIV_BODY(T, fabsT)                                                          \
  T ar = a.re, ai = a.im, br = b.re, bi = b.im, abr = fabsT(br), abi = fabsT(bi);         \
  if (abr >= abi) {                                                                        \
    if (abr == 0 && abi == 0) { r.re = ar / abr; r.im = ai / abi; return r; }            \
    T rat = bi / br, scl = (T)1 / (br + bi * rat);                                         \
    r.re = (ar + ai * rat) * scl; r.im = (ai - ar * rat) * scl; return r;                  \
  }                                                                                        \
  T rat = br / bi, scl = (T)1 / (bi + br * rat);                                           \
  r.re = (ar * rat + ai) * scl; r.im = (ai * rat - ar) * scl; return r;

static inline tide_c64 tide_cdiv_f32(tide_c64 a, tide_c64 b) { tide_c64 r; TIDE_CDIV_BODY(float, __builtin_fabsf) }
static inline tide_c128 tide_cdiv_f64(tide_c128 a, tide_c128 b) { tide_c128 r; TIDE_CDIV_BODY(double, __builtin_fabs) }

// a ^ b as NumPy's npy_cpow: b = 0 gives 1; 0 ^ b is 0 for re(b) > 0, else nan + nan i;
// small integer powers multiply (exact for finite values, inf-friendly); the rest is cpow.
tide_c64 tide_cpow_f32(tide_c64 a, tide_c64 b);
tide_c128 tide_cpow_f64(tide_c128 a, tide_c128 b);

enum { TIDE_CX_EXP = 0, TIDE_CX_LOG, TIDE_CX_SQRT, TIDE_CX_SIN, TIDE_CX_COS, TIDE_CX_TAN,
       TIDE_CX_SINH, TIDE_CX_COSH, TIDE_CX_TANH, TIDE_CX_ASIN, TIDE_CX_ACOS, TIDE_CX_ATAN,
       TIDE_CX_LOG1P, TIDE_CX_EXPM1, TIDE_CX_LOG2, TIDE_CX_LOG10,
       TIDE_CX_RECIPROCAL, TIDE_CX_RSQRT, TIDE_CX_SIGMOID };

// y[k] = op(x[k]) for n complex values (2n floats each); y may equal x.
void tide_cunary_f32(int op, const float *x, float *y, size_t n);
void tide_cunary_f64(int op, const double *x, double *y, size_t n);

#endif
