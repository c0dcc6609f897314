// kernels_body.h: the kernel bodies, included once per instruction-set level by kernels.c with
// TIDE_SFX (name suffix) and TIDE_TGT (a target attribute, or nothing) defined.
// Plain loops (outputs may alias inputs exactly, for in-place ops; clang adds the runtime
// overlap checks): clang's vectorizer turns them into SIMD code for the
// level's target. Transcendentals are branch-free polynomials so they vectorize too.

// exp for floats: 2^n * p(r), r = x - n ln2 in [-ln2/2, ln2/2], degree-6 polynomial (about
// 1 ulp). n runs from -150 to 128, past the normal exponents, so 2^n is applied as two normal
// factors 2^(n>>1) and 2^(n - (n>>1)): p * 2^h is exact and the second product rounds once, so
// results below 2^-126 come out subnormal (exp(-100) = 3.78e-44, as libm and NumPy; exp(-104)
// and below round to 0) and results up to FLT_MAX (x <= 88.7228) do not overflow early.
// expf_nonpos is the body for x <= 89 (NaN passes through); softmax calls it directly, since
// its inputs (values minus their row max) never reach the overflow branch.
#ifndef TIDE_POLY_STEPS
#define TIDE_POLY_STEPS
// Horner steps shared by the scalar and the vector forms (p starts at the first coefficient;
// `+ c` on a vector splats c). EXP: e^r on [-ln2/2, ln2/2] less 1 + r, over r^2.
// ERFC: Numerical Recipes' erfcc exponent P(u). CENTRAL: the (1 + ...)^-8 base for Phi.
#define TIDE_EXP_STEPS(p, r)                                                                   \
  p = p * r + 1.3981999507e-3f; p = p * r + 8.3334519073e-3f; p = p * r + 4.1665795894e-2f;   \
  p = p * r + 1.6666665459e-1f; p = p * r + 5.0000001201e-1f
#define TIDE_ERFC_STEPS(p, u)                                                                  \
  p = p * u + -0.82215223f; p = p * u + 1.48851587f; p = p * u + -1.13520398f;                \
  p = p * u + 0.27886807f; p = p * u + -0.18628806f; p = p * u + 0.09678418f;                 \
  p = p * u + 0.37409196f; p = p * u + 1.00002368f; p = p * u + -1.26551223f
#define TIDE_CENTRAL_STEPS(p, a)                                                               \
  p = p * a + -1.6250200133e-05f; p = p * a + 9.5008734206e-05f; p = p * a + 1.1825171532e-04f; \
  p = p * a + 9.7040919354e-04f; p = p * a + 8.5999704897e-03f; p = p * a + 4.4785421342e-02f; \
  p = p * a + 9.9733009934e-02f; p = p * a + 1.0f
#endif

static inline TIDE_TGT float TIDE_FN(expf_nonpos)(float x) {
  float xc = x < -104.0f ? -104.0f : x;  // exp(-104) rounds to 0 like everything below it
  float n = __builtin_roundevenf(xc * 1.44269504088896341f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  TIDE_EXP_STEPS(p, r);
  p = p * r * r + r + 1.0f;
  // unsigned: NaN's conversion gives INT_MIN, and a signed shift of that would be UB
  uint32_t ni = (uint32_t)(int32_t)n, h = (uint32_t)((int32_t)ni >> 1);
  uint32_t e1 = (h + 127u) << 23, e2 = (ni - h + 127u) << 23;
  float s1, s2;
  __builtin_memcpy(&s1, &e1, 4);
  __builtin_memcpy(&s2, &e2, 4);
  return p * s1 * s2;
}

static inline TIDE_TGT float TIDE_FN(expf_poly)(float x) {
  float y = TIDE_FN(expf_nonpos)(x > 89.0f ? 89.0f : x);  // clamped: n stays a valid int
  return x != x ? x : (x > 89.0f ? __builtin_inff() : y);
}

// The logistic function: e = exp(-|x|) never overflows; 1 / (1 + e) for x >= 0, e / (1 + e)
// below (no 1 / (1 + inf) = 0 in the negative tail). NaN passes through.
static inline TIDE_TGT float TIDE_FN(sigmoidf_poly)(float x) {
  float e = TIDE_FN(expf_nonpos)(-__builtin_fabsf(x));
  float s = 1.0f / (1.0f + e);
  return x < 0.0f ? e * s : s;
}

// Natural log for floats: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log x = e ln2 + log m,
// log m = f - f^2/2 + f^3 P(f) with f = m - 1 (Cephes' logf polynomial, about 1 ulp); ln2
// in two parts so e ln2 adds no rounding. Subnormals are scaled by 2^23 first. log(0) = -inf,
// log(x < 0) = NaN, log(inf) = inf, NaN passes through.
static inline TIDE_TGT float TIDE_FN(logf_poly)(float x) {
  const int sub = x < 1.17549435e-38f;
  const float xs = sub ? x * 8388608.0f : x;
  int32_t ix;
  __builtin_memcpy(&ix, &xs, 4);
  int32_t e = ((ix >> 23) & 0xff) - 126 - (sub ? 23 : 0);
  const int32_t mi = (ix & 0x007fffff) | 0x3f000000;  // m in [0.5, 1)
  float m;
  __builtin_memcpy(&m, &mi, 4);
  const int low = m < 0.70710678118654752f;
  e -= low;
  const float f = (low ? m + m : m) - 1.0f;
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f + -1.1514610310e-1f; p = p * f + 1.1676998740e-1f; p = p * f + -1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;  p = p * f + -1.6668057665e-1f; p = p * f + 2.0000714765e-1f;
  p = p * f + -2.4999993993e-1f; p = p * f + 3.3333331174e-1f;
  const float fe = (float)e;
  float r = f * z * p + fe * -2.12194440e-4f - 0.5f * z;
  r = (f + r) + fe * 0.693359375f;
  r = x == __builtin_inff() ? x : r;
  r = x == 0.0f ? -__builtin_inff() : r;
  return (x < 0.0f || x != x) ? __builtin_nanf("") + x : r;
}

// sin (or cos, quadrant + 1) for |x| <= TIDE_TRIG_MAX: x = j pi/2 + r with |r| <= pi/4,
// reduced in double with pi/2 in two parts (the first 33 bits, so j * part 1 is exact for
// j < 2^20 and the reduction loses nothing), then Cephes' sinf/cosf polynomials on r in
// float (about 1 ulp). Larger |x| (and inf) are left to libm by the caller.
#define TIDE_TRIG_MAX 1.0e6f
static inline TIDE_TGT float TIDE_FN(sinf_poly)(float x, int cos_shift) {
  const double xd = (double)x;
  const double j = __builtin_roundeven(xd * 0.63661977236758134308);
  const double rd = (xd - j * 1.57079632673412561417) - j * 6.07710050650619224932e-11;
  const float r = (float)rd, z = r * r;
  const int q = (int)j + cos_shift;  // |j| < 2^20: a 32-bit conversion (AVX2 has no vector double -> int64)
  const float sn = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  const float cs = 1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  const float v = (q & 1) ? cs : sn;
  const float w = (q & 2) ? -v : v;
  return (x == 0.0f && !cos_shift) ? x : w;  // sin(-0) = -0 (the reduction gives +0)
}

// The normal CDF Phi(x) for GELU from erfc(z), z = |x| / sqrt 2, as u exp(P(u) - z^2) with
// u = 1 / (1 + z/2) (Numerical Recipes' erfcc: a Chebyshev fit whose relative error is below
// 1.2e-7 for every z >= 0). The error is relative in the whole negative tail, where Phi =
// erfc/2 is tiny, so x Phi(x) stays accurate until it underflows to -0 (x < -13); Phi = 1 -
// erfc/2 for x >= 0. z^2 is x*x/2 (one rounding). NaN passes through; Phi(-inf) = 0.
static inline TIDE_TGT float TIDE_FN(gelu_phi)(float x) {
  float u = 1.0f / (1.0f + 0.35355339059327376f * __builtin_fabsf(x));
  float p = 0.17087277f;
  TIDE_ERFC_STEPS(p, u);
  float h = 0.5f * u * TIDE_FN(expf_poly)(p - 0.5f * x * x);
  return x < 0 ? h : 1.0f - h;
}

// Phi(x) on TIDE_VW lanes (clang vector extensions: SIMD at every level), for x >= -3 only, cheaply:
// erfc(|x|/sqrt 2) ~ (1 + a1 |x| + ... + a8 |x|^8)^-8 (the form of Abramowitz-Stegun 7.1.28,
// coefficients fitted for Tide): one reciprocal, eight FMAs,
// three squarings, no exp. Its error is absolute (about 1e-7), so its relative error grows in
// the negative tail: 9e-6 at -3 (under np.allclose's 1e-5), 1e-4 at -4. Below -3 gelu_phi's
// erfc form takes over.
// The vector helpers are always inlined, so no call passes a vector across the ABI that the
// portable level (no AVX) would use for it; clang's -Wpsabi note does not apply.
// The lane count is the level's (TIDE_VW: 16 at AVX-512, where one op on 16 floats costs
// Zen 4 what two 8-float ops do but halves the instructions, else 8).
#pragma clang diagnostic ignored "-Wpsabi"
#ifndef TIDE_VW
#error "kernels.c defines TIDE_VW, the lane count, for each level"
#endif
typedef float TIDE_FN(vf) __attribute__((vector_size(4 * TIDE_VW)));
typedef float TIDE_FN(vfu) __attribute__((vector_size(4 * TIDE_VW), aligned(4)));
typedef int TIDE_FN(vi) __attribute__((vector_size(4 * TIDE_VW)));
static inline __attribute__((always_inline)) TIDE_TGT TIDE_FN(vf) TIDE_FN(gelu_phi_central_v)(TIDE_FN(vf) x) {
  const TIDE_FN(vf) z = {0};
  TIDE_FN(vf) ax = __builtin_elementwise_min(__builtin_elementwise_abs(x), z + 12.0f);
  TIDE_FN(vf) p = z + 2.8938554806e-06f;
  TIDE_CENTRAL_STEPS(p, ax);
  TIDE_FN(vf) r = 1.0f / p;
  r = r * r; r = r * r; r = r * r;
  TIDE_FN(vf) h = 0.5f * r;
  TIDE_FN(vi) neg = x < z;
  return (TIDE_FN(vf))((neg & (TIDE_FN(vi))h) | (~neg & (TIDE_FN(vi))(1.0f - h)));
}

// expf_nonpos and gelu_phi on TIDE_VW lanes, for the vectors of GELU inputs that reach the tail.
static inline __attribute__((always_inline)) TIDE_TGT TIDE_FN(vf) TIDE_FN(expf_nonpos_v)(TIDE_FN(vf) x) {
  const TIDE_FN(vf) z = {0};
  TIDE_FN(vf) xc = __builtin_elementwise_max(x, z - 104.0f);  // NaN lanes are restored below
  TIDE_FN(vf) n = __builtin_elementwise_roundeven(xc * 1.44269504088896341f);
  TIDE_FN(vf) r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  TIDE_FN(vf) p = z + 1.9875691500e-4f;
  TIDE_EXP_STEPS(p, r);
  p = p * r * r + r + 1.0f;
  // 2^n as two normal factors, as in expf_nonpos (subnormal results, no early overflow)
  TIDE_FN(vi) ni = __builtin_convertvector(n, TIDE_FN(vi)), h = ni >> 1;
  TIDE_FN(vi) e1 = (h + 127) << 23, e2 = (ni - h + 127) << 23;
  TIDE_FN(vf) y = p * (TIDE_FN(vf))e1 * (TIDE_FN(vf))e2;
  TIDE_FN(vi) nan = x != x;
  return (TIDE_FN(vf))((nan & (TIDE_FN(vi))x) | (~nan & (TIDE_FN(vi))y));
}

static inline __attribute__((always_inline)) TIDE_TGT TIDE_FN(vf) TIDE_FN(gelu_phi_v)(TIDE_FN(vf) x) {
  const TIDE_FN(vf) z = {0};
  TIDE_FN(vf) u = 1.0f / (1.0f + 0.35355339059327376f * __builtin_elementwise_abs(x));
  TIDE_FN(vf) p = z + 0.17087277f;
  TIDE_ERFC_STEPS(p, u);
  // the exponent is at most ~0 (erfc(0) = 1), so expf_nonpos's range holds after the clamp
  TIDE_FN(vf) a = __builtin_elementwise_min(p - 0.5f * x * x, z + 88.0f);
  TIDE_FN(vf) h = 0.5f * u * TIDE_FN(expf_nonpos_v)(a);
  TIDE_FN(vi) neg = x < z;
  return (TIDE_FN(vf))((neg & (TIDE_FN(vi))h) | (~neg & (TIDE_FN(vi))(1.0f - h)));
}

// 1 + tanh(a) for GELU's tanh form: 2 / (1 + e) with e = e^(-2|a|), times e for a < 0, so the
// negative tail (tanh near -1) does not cancel. NaN passes through.
static inline TIDE_TGT float TIDE_FN(one_plus_tanh)(float a, float *e_out) {
  float e = TIDE_FN(expf_poly)(-2.0f * __builtin_fabsf(a));
  float r = 2.0f / (1.0f + e);
  *e_out = e;
  return a < 0 ? r * e : r;
}

static inline TIDE_TGT float TIDE_FN(tanhf_poly)(float x) {
  float ax = x < 0 ? -x : x;
  float e = TIDE_FN(expf_poly)(-2.0f * ax);
  float big = (1.0f - e) / (1.0f + e);
  float x2 = x * x;  // small |x|: odd Taylor series avoids the cancellation in 1 - e
  float small = ax * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.0539682540f)));
  float y = ax < 0.0625f ? small : big;
  return x != x ? x : (x < 0 ? -y : y);
}

// Streaming (non-temporal) stores for big outputs (mode has TIDE_MODE_STREAM): when inputs
// and result together outgrow the last-level cache, the result would evict the inputs and
// first read every output line (write-allocate); storing around the caches made a 4M-element
// add 1.5x faster here. A smaller op keeps its result cached for the next one (streaming a
// 1M-element add's result made it 3x slower). VEC is the element type's 32-byte vector; OP
// one of + - * /. TIDE_NT_MIN: the transposed copies' own threshold.
#define TIDE_NT_MIN ((size_t)1 << 20)
#if defined(__x86_64__)
#define TIDE_SFENCE() __builtin_ia32_sfence()
#else
#define TIDE_SFENCE() ((void)0)
#endif
// One binary op over n elements in explicit vectors: every lane is loaded before its store,
// so y may be one of the inputs (in place), which an auto-vectorized loop would run
// scalar after its overlap check. STORE is a streaming or a plain unaligned store; ALIGN the
// address mask the vector stores need (31 for streaming, 0 for plain).
#define TIDE_STORE_NT(VEC, VECU, p, v) __builtin_nontemporal_store((v), (VEC *)(p))
#define TIDE_STORE_U(VEC, VECU, p, v) (*(VECU *)(p) = (v))
#define TIDE_BIN_V(T, VEC, VECU, W, OP, LA, LB, SA, SB, STORE, ALIGN)                           \
  do {                                                                                          \
    size_t i = 0;                                                                               \
    for (; i < n && ((uintptr_t)(y + i) & (ALIGN)) != 0; i++) y[i] = SA OP SB;                 \
    for (; i + W <= n; i += W) STORE(VEC, VECU, y + i, (LA) OP (LB));                           \
    for (; i < n; i++) y[i] = SA OP SB;                                                         \
  } while (0)
// maximum/minimum with NaN propagation (either NaN gives NaN: u + v)
#define TIDE_BIN_V_EXT(T, VEC, VECU, W, CMP, LA, LB, SA, SB, STORE, ALIGN)                      \
  do {                                                                                          \
    size_t i = 0;                                                                               \
    for (; i < n && ((uintptr_t)(y + i) & (ALIGN)) != 0; i++) {                                 \
      T u = SA, v = SB; y[i] = (u != u || v != v) ? u + v : (u CMP v ? u : v); }                \
    for (; i + W <= n; i += W) {                                                                \
      VEC u = (LA), v = (LB);                                                                   \
      __typeof__(u CMP v) pick = u CMP v, nan = (u != u) | (v != v);                             \
      __typeof__(u CMP v) r = (pick & (__typeof__(pick))u) | (~pick & (__typeof__(pick))v);     \
      r = (nan & (__typeof__(pick))(u + v)) | (~nan & r);                                        \
      STORE(VEC, VECU, y + i, (VEC)r);                                                          \
    }                                                                                           \
    for (; i < n; i++) { T u = SA, v = SB; y[i] = (u != u || v != v) ? u + v : (u CMP v ? u : v); } \
  } while (0)
#define TIDE_BIN_V_OPS(T, VEC, VECU, W, LA, LB, SA, SB, STORE, ALIGN)                           \
  switch (op) {                                                                                 \
    case TIDE_OP_ADD: TIDE_BIN_V(T, VEC, VECU, W, +, LA, LB, SA, SB, STORE, ALIGN); break;      \
    case TIDE_OP_SUB: TIDE_BIN_V(T, VEC, VECU, W, -, LA, LB, SA, SB, STORE, ALIGN); break;      \
    case TIDE_OP_MUL: TIDE_BIN_V(T, VEC, VECU, W, *, LA, LB, SA, SB, STORE, ALIGN); break;      \
    case TIDE_OP_DIV: TIDE_BIN_V(T, VEC, VECU, W, /, LA, LB, SA, SB, STORE, ALIGN); break;      \
    case TIDE_OP_MAX: TIDE_BIN_V_EXT(T, VEC, VECU, W, >, LA, LB, SA, SB, STORE, ALIGN); break;  \
    case TIDE_OP_MIN: TIDE_BIN_V_EXT(T, VEC, VECU, W, <, LA, LB, SA, SB, STORE, ALIGN); break;  \
    default: break;                                                                             \
  }
#define TIDE_BIN_V_MODES(T, VEC, VECU, W, STORE, ALIGN)                                         \
  if (mode == TIDE_MODE_VV) {                                                                   \
    TIDE_BIN_V_OPS(T, VEC, VECU, W, *(const VECU *)(a + i), *(const VECU *)(b + i), a[i], b[i], STORE, ALIGN) \
  } else if (mode == TIDE_MODE_VS) {                                                            \
    const T s = b[0];                                                                           \
    const VEC sv = s - (VEC){0};                                                                \
    TIDE_BIN_V_OPS(T, VEC, VECU, W, *(const VECU *)(a + i), sv, a[i], s, STORE, ALIGN)          \
  } else {                                                                                      \
    const T s = a[0];                                                                           \
    const VEC sv = s - (VEC){0};                                                                \
    TIDE_BIN_V_OPS(T, VEC, VECU, W, sv, *(const VECU *)(b + i), s, b[i], STORE, ALIGN)          \
  }
#define TIDE_BIN_BODY(T, VEC, VECU, W)                                                          \
  if (mode & TIDE_MODE_STREAM) {                                                                \
    mode &= ~TIDE_MODE_STREAM;                                                                  \
    TIDE_BIN_V_MODES(T, VEC, VECU, W, TIDE_STORE_NT, 31)                                        \
    TIDE_SFENCE();                                                                              \
  } else {                                                                                      \
    TIDE_BIN_V_MODES(T, VEC, VECU, W, TIDE_STORE_U, 0)                                          \
  }

TIDE_TGT void TIDE_FN(binary_f32)(int op, const float *a, const float *b,
                                  float *y, size_t n, int mode) {
  if (op == TIDE_OP_POW) { TIDE_FN(pow_f32)(a, b, y, n, mode & ~TIDE_MODE_STREAM); return; }
  typedef float v8f __attribute__((vector_size(32)));
  typedef float v8fu __attribute__((vector_size(32), aligned(4)));
  TIDE_BIN_BODY(float, v8f, v8fu, 8)
}

TIDE_TGT void TIDE_FN(binary_f64)(int op, const double *a, const double *b,
                                  double *y, size_t n, int mode) {
  if (op == TIDE_OP_POW) {  // libm's pow, over the cores (Kernels.binary splits)
    mode &= ~TIDE_MODE_STREAM;
    for (size_t i = 0; i < n; i++) y[i] = pow(mode == TIDE_MODE_SV ? a[0] : a[i], mode == TIDE_MODE_VS ? b[0] : b[i]);
    return;
  }
  typedef double v4d __attribute__((vector_size(32)));
  typedef double v4du __attribute__((vector_size(32), aligned(8)));
  TIDE_BIN_BODY(double, v4d, v4du, 4)
}

// Copies n floats from an L1 block to y with streaming stores (aligned head and tail by
// plain stores): the unary ops' big outputs, for the same reason as TIDE_MODE_STREAM.
TIDE_TGT void TIDE_FN(stream_copy_f32)(const float *restrict src, float *restrict y, size_t n) {
  typedef float v8f __attribute__((vector_size(32)));
  typedef float v8fu __attribute__((vector_size(32), aligned(4)));
  size_t i = 0;
  for (; i < n && ((uintptr_t)(y + i) & 31) != 0; i++) y[i] = src[i];
  for (; i + 8 <= n; i += 8) __builtin_nontemporal_store(*(const v8fu *)(src + i), (v8f *)(y + i));
  for (; i < n; i++) y[i] = src[i];
}

// Comparisons into bytes (0/1, Swift Bool's layout); NaN compares unequal to everything.
#define TIDE_CMP_LOOP(A, B)                                                                    \
  switch (op) {                                                                                \
    case TIDE_CMP_EQ: for (size_t i = 0; i < n; i++) y[i] = A == B; break;                    \
    case TIDE_CMP_NE: for (size_t i = 0; i < n; i++) y[i] = A != B; break;                    \
    case TIDE_CMP_LT: for (size_t i = 0; i < n; i++) y[i] = A < B; break;                     \
    case TIDE_CMP_LE: for (size_t i = 0; i < n; i++) y[i] = A <= B; break;                    \
    case TIDE_CMP_GT: for (size_t i = 0; i < n; i++) y[i] = A > B; break;                     \
    case TIDE_CMP_GE: for (size_t i = 0; i < n; i++) y[i] = A >= B; break;                    \
  }
#define TIDE_CMP_BODY(T)                                                                       \
  if (mode == TIDE_MODE_VV) { TIDE_CMP_LOOP(a[i], b[i]) }                                      \
  else if (mode == TIDE_MODE_VS) { const T s = b[0]; TIDE_CMP_LOOP(a[i], s) }                 \
  else { const T s = a[0]; TIDE_CMP_LOOP(s, b[i]) }
TIDE_TGT void TIDE_FN(compare_f32)(int op, const float *restrict a, const float *restrict b, uint8_t *restrict y, size_t n, int mode) {
  TIDE_CMP_BODY(float)
}
TIDE_TGT void TIDE_FN(compare_f64)(int op, const double *restrict a, const double *restrict b, uint8_t *restrict y, size_t n, int mode) {
  TIDE_CMP_BODY(double)
}

TIDE_TGT void TIDE_FN(unary_f32)(int op, const float *x, float *y, size_t n) {
  switch (op) {
    case TIDE_UN_EXP: for (size_t i = 0; i < n; i++) y[i] = TIDE_FN(expf_poly)(x[i]); break;
    case TIDE_UN_TANH: for (size_t i = 0; i < n; i++) y[i] = TIDE_FN(tanhf_poly)(x[i]); break;
    // sigmoid from e = exp(-|x|) <= 1: 1 / (1 + e), or e / (1 + e) for x < 0, so the negative
    // tail stays accurate down to subnormals (sigmoid(-100) = 3.78e-44, not 1 / (1 + inf) = 0)
    case TIDE_UN_SIGMOID:
      for (size_t i = 0; i < n; i++) y[i] = TIDE_FN(sigmoidf_poly)(x[i]);
      break;
    case TIDE_UN_SILU:
      for (size_t i = 0; i < n; i++) y[i] = x[i] * TIDE_FN(sigmoidf_poly)(x[i]);
      break;
    case TIDE_UN_GELU: {
      // The exp-free form on four vectors at a time (independent chains: the reciprocal and
      // the Horner steps are long), and for the lanes below -3 (or NaN; 0.13% of unit-normal
      // inputs) the erfc form, on the vectors that hold one.
      const TIDE_FN(vf) lim = (TIDE_FN(vf)){0} - 3.0f;
      size_t i = 0;
      for (; i + 4 * TIDE_VW <= n; i += 4 * TIDE_VW) {
        TIDE_FN(vf) xv[4], phi[4];
        TIDE_FN(vi) bad[4], any = {0};
        for (int k = 0; k < 4; k++) {
          xv[k] = *(const TIDE_FN(vfu) *)(x + i + TIDE_VW * k);
          phi[k] = TIDE_FN(gelu_phi_central_v)(xv[k]);
          bad[k] = ~(xv[k] >= lim);
          any |= bad[k];
        }
        if (__builtin_reduce_or(any)) {
          for (int k = 0; k < 4; k++) {
            if (!__builtin_reduce_or(bad[k])) continue;
            TIDE_FN(vf) tail = TIDE_FN(gelu_phi_v)(xv[k]);
            phi[k] = (TIDE_FN(vf))((bad[k] & (TIDE_FN(vi))tail) | (~bad[k] & (TIDE_FN(vi))phi[k]));
          }
        }
        for (int k = 0; k < 4; k++) *(TIDE_FN(vfu) *)(y + i + TIDE_VW * k) = xv[k] * phi[k];
      }
      // the last few through the same vector code (zero-padded), so that every element's value
      // depends on it alone, not on where it falls in a block
      for (; i < n; i += TIDE_VW) {
        const size_t m = n - i < TIDE_VW ? n - i : TIDE_VW;
        TIDE_FN(vf) xv = {0};
        for (size_t j = 0; j < m; j++) xv[j] = x[i + j];
        TIDE_FN(vf) phi = TIDE_FN(gelu_phi_central_v)(xv);
        TIDE_FN(vi) bad = ~(xv >= lim);
        if (__builtin_reduce_or(bad)) {
          TIDE_FN(vf) tail = TIDE_FN(gelu_phi_v)(xv);
          phi = (TIDE_FN(vf))((bad & (TIDE_FN(vi))tail) | (~bad & (TIDE_FN(vi))phi));
        }
        TIDE_FN(vf) yv = xv * phi;
        for (size_t j = 0; j < m; j++) y[i + j] = yv[j];
      }
      break;
    }
    case TIDE_UN_GELU_TANH:
      for (size_t i = 0; i < n; i++) {
        float v = x[i], e;
        y[i] = 0.5f * v * TIDE_FN(one_plus_tanh)(0.79788456080286536f * (v + 0.044715f * v * v * v), &e);
      }
      break;
    case TIDE_UN_RELU:
      for (size_t i = 0; i < n; i++) { float v = x[i]; y[i] = ((v > 0) | (v != v)) ? v : 0.0f; }
      break;
    case TIDE_UN_LOG: for (size_t i = 0; i < n; i++) y[i] = TIDE_FN(logf_poly)(x[i]); break;
    case TIDE_UN_SIN:
    case TIDE_UN_COS: {
      // blocks: the polynomial over all (vectorized), then libm for the rare huge or inf
      const int shift = op == TIDE_UN_COS;
      for (size_t b = 0; b < n; b += 1024) {
        const size_t e = n - b < 1024 ? n : b + 1024;
        for (size_t i = b; i < e; i++) y[i] = TIDE_FN(sinf_poly)(x[i], shift);
        for (size_t i = b; i < e; i++)
          if (__builtin_fabsf(x[i]) > TIDE_TRIG_MAX) y[i] = shift ? cosf(x[i]) : sinf(x[i]);
      }
      break;
    }
    case TIDE_UN_NEG: for (size_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case TIDE_UN_ABS: for (size_t i = 0; i < n; i++) y[i] = __builtin_fabsf(x[i]); break;
    case TIDE_UN_SQRT: for (size_t i = 0; i < n; i++) y[i] = __builtin_elementwise_sqrt(x[i]); break;  // no errno: vectorizes
    case TIDE_UN_SQUARE: for (size_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
  }
}

// f32 sum: eight f32 vector accumulators over blocks of 1024 (16 terms per lane), each block
// widened into f64 vector accumulators without a horizontal reduction, so the error stays
// near that of a pairwise sum and the loop runs at load speed.
TIDE_TGT double TIDE_FN(sum_f32)(const float *restrict x, size_t n) {
  typedef float v8f __attribute__((vector_size(32), aligned(4)));
  typedef double v4d __attribute__((vector_size(32)));
  typedef float v4f __attribute__((vector_size(16)));
  v4d d0 = {0, 0, 0, 0}, d1 = {0, 0, 0, 0};
  size_t i = 0;
  while (i + 32 <= n) {
    size_t end = n - i < 1024 ? i + ((n - i) & ~(size_t)31) : i + 1024;
    v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (; i + 64 <= end; i += 64) {
      a0 += *(const v8f *)(x + i);
      a1 += *(const v8f *)(x + i + 8);
      a2 += *(const v8f *)(x + i + 16);
      a3 += *(const v8f *)(x + i + 24);
      a4 += *(const v8f *)(x + i + 32);
      a5 += *(const v8f *)(x + i + 40);
      a6 += *(const v8f *)(x + i + 48);
      a7 += *(const v8f *)(x + i + 56);
    }
    for (; i < end; i += 32) {
      a0 += *(const v8f *)(x + i);
      a1 += *(const v8f *)(x + i + 8);
      a2 += *(const v8f *)(x + i + 16);
      a3 += *(const v8f *)(x + i + 24);
    }
    v8f a = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
    v4f lo = __builtin_shufflevector(a, a, 0, 1, 2, 3), hi = __builtin_shufflevector(a, a, 4, 5, 6, 7);
    d0 += __builtin_convertvector(lo, v4d);
    d1 += __builtin_convertvector(hi, v4d);
  }
  v4d d = d0 + d1;
  double s = (d[0] + d[1]) + (d[2] + d[3]);
  for (; i < n; i++) s += (double)x[i];
  return s;
}

TIDE_TGT double TIDE_FN(sum_f64)(const double *restrict x, size_t n) {
#pragma clang fp reassociate(on)
  double s = 0;
#pragma clang loop vectorize(enable) interleave_count(4)
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

// max with NaN propagation: four vector accumulators (lane maxima ignore NaN) (one would wait on the max latency every
// step), and an unordered compare that remembers whether any lane saw a NaN.
TIDE_TGT float TIDE_FN(max_f32)(const float *restrict x, size_t n) {
  typedef float v8f __attribute__((vector_size(32), aligned(4)));
  typedef int v8i __attribute__((vector_size(32)));
  if (n == 0) return -__builtin_inff();
  size_t i = 0;
  float m = x[0];
  int nan = 0;
  if (n >= 32) {
    v8f m0 = *(const v8f *)x, m1 = m0, m2 = m0, m3 = m0;
    v8i bad = {0};
    for (; i + 32 <= n; i += 32) {
      v8f a = *(const v8f *)(x + i), b = *(const v8f *)(x + i + 8);
      v8f c = *(const v8f *)(x + i + 16), d = *(const v8f *)(x + i + 24);
      m0 = __builtin_elementwise_max(m0, a); m1 = __builtin_elementwise_max(m1, b);
      m2 = __builtin_elementwise_max(m2, c); m3 = __builtin_elementwise_max(m3, d);
      bad |= (a != a) | (b != b) | (c != c) | (d != d);
    }
    m0 = __builtin_elementwise_max(__builtin_elementwise_max(m0, m1), __builtin_elementwise_max(m2, m3));
    for (int k = 0; k < 8; k++) { m = m0[k] > m ? m0[k] : m; nan |= bad[k] != 0; }
  }
  for (; i < n; i++) { m = x[i] > m ? x[i] : m; nan |= x[i] != x[i]; }
  return nan ? __builtin_nanf("") : m;
}

// softmax over rows of length n (y may not alias x): max, exp(x - max), scale by 1/sum.
TIDE_TGT void TIDE_FN(softmax_rows_f32)(const float *restrict x, float *restrict y, size_t rows, size_t n, int log) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * n;
    float *yr = y + r * n;
    float m = TIDE_FN(max_f32)(xr, n);
    if (m != m || m == __builtin_inff() || m == -__builtin_inff()) {
      // a NaN or +inf in the row, or all -inf: x - max has a NaN (inf - inf) and so has the
      // sum, so every element is NaN (as PyTorch's softmax([inf, 1]) = [nan, nan])
      for (size_t i = 0; i < n; i++) yr[i] = __builtin_nanf("");
      continue;
    }
    float s = 0;
    {
#pragma clang fp reassociate(on)
#pragma clang loop vectorize(enable) interleave_count(2)
      for (size_t i = 0; i < n; i++) { float e = TIDE_FN(expf_nonpos)(xr[i] - m); yr[i] = e; s += e; }
    }
    if (log) {
      float ls = m + __builtin_logf(s);
      for (size_t i = 0; i < n; i++) yr[i] = xr[i] - ls;
    } else {
      float inv = 1.0f / s;
      for (size_t i = 0; i < n; i++) yr[i] *= inv;
    }
  }
}

// out[i] = g[i] * op'(x[i]) for the activations (y = op(x), used where it is cheaper).
TIDE_TGT void TIDE_FN(unary_grad_f32)(int op, const float *restrict x, const float *restrict y,
                                      const float *restrict g, float *restrict out, size_t n) {
  switch (op) {
    case TIDE_UN_EXP: for (size_t i = 0; i < n; i++) out[i] = g[i] * y[i]; break;
    case TIDE_UN_TANH: for (size_t i = 0; i < n; i++) out[i] = g[i] * (1.0f - y[i] * y[i]); break;
    case TIDE_UN_SIGMOID: for (size_t i = 0; i < n; i++) out[i] = g[i] * y[i] * (1.0f - y[i]); break;
    case TIDE_UN_RELU: for (size_t i = 0; i < n; i++) out[i] = x[i] > 0.0f ? g[i] : 0.0f; break;
    case TIDE_UN_SILU:
      for (size_t i = 0; i < n; i++) {
        float s = TIDE_FN(sigmoidf_poly)(x[i]);
        out[i] = g[i] * s * (1.0f + x[i] * (1.0f - s));
      }
      break;
    case TIDE_UN_GELU:
      for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float cdf = TIDE_FN(gelu_phi)(v);
        float pdf = 0.39894228040143268f * TIDE_FN(expf_poly)(-0.5f * v * v);
        out[i] = g[i] * (cdf + v * pdf);
      }
      break;
    case TIDE_UN_GELU_TANH:
      for (size_t i = 0; i < n; i++) {
        // d/dv 0.5 v (1 + tanh a) = 0.5 (1 + tanh a) + 0.5 v sech^2(a) a'; sech^2 = 4e / (1 + e)^2
        // has no cancellation either. Once it underflows the second term is 0 (not 0 * inf when
        // v^2 overflows); v = +-inf still gives NaN, as torch.
        float v = x[i], v2 = v * v, e;
        float p = TIDE_FN(one_plus_tanh)(0.79788456080286536f * (v + 0.044715f * v2 * v), &e);
        float q = 2.0f / (1.0f + e);
        float vs = v * (q * q * e);
        float t = vs == 0.0f ? 0.0f : 0.5f * vs * 0.79788456080286536f * (1.0f + 0.134145f * v2);
        out[i] = g[i] * (0.5f * p + t);
      }
      break;
    default: break;
  }
}

// x[i] = exp(x[i] - shift) in place; returns the sum (attention's online softmax). -inf
// entries become 0.
TIDE_TGT float TIDE_FN(exp_shift_f32)(float *restrict x, size_t n, float shift) {
  // two passes: the exp loop vectorizes on its own; the sum keeps eight lanes (a single
  // float accumulator would serialize without fast-math)
  for (size_t i = 0; i < n; i++) x[i] = TIDE_FN(expf_poly)(x[i] - shift);
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) lane[k] += x[i + k];
  float s = 0.0f;
  for (int k = 0; k < 8; k++) s += lane[k];
  for (; i < n; i++) s += x[i];
  return s;
}
