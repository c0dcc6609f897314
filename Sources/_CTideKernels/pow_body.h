// pow_body.h: f32 x^y for tensors, included once per instruction-set level by kernels.c
// (TIDE_SFX / TIDE_TGT as for kernels_body.h; TIDE_POW_PERMUTE at the AVX-512 level).
//
//     y[i] = powf(a[i], b[i])      (a scalar side, as for the other binary modes)
//
// Lanes with a normal positive base and a finite exponent compute 2^(y log2 x) in double,
// eight at a time, from three 16-entry tables (the method of glibc's powf, for vectors):
//   log2 x = e + log2 c_i + log2(1 + z),  z = m / c_i - 1 = m * invc_i - 1, |z| <= 1/32,
//            x = 2^e m with m in [0.699, 1.398) and i its 16th of that range (from the bits);
//   2^u    = 2^(k/16) 2^f,  k = round(16 u), |f| <= 1/32, 2^(j/16) from a table (j = k mod 16).
// log2(1 + z) to z^6 (the next term is below 1.3e-10 of it) and 2^f to f^4 (below 4e-11):
// with |u| <= 150 where the result is a nonzero float, the double result is within 1/3 ulp
// of the true value before the one rounding to float, so every result is within 1 ulp, and
// all but about 1 in 10^4 are correctly rounded (up to 4 in 10^3 for x within 3% of 1 and
// |y| in the thousands; NumPy's AVX-512 powf: 1 in 5 are 1 ulp off).
// Every other lane (zero, subnormal, negative or non-finite base, non-finite exponent) takes
// libm's powf, so the C99 special cases come out exactly as NumPy's. At the AVX-512 level the
// tables are looked up with permutes (16 doubles = two registers) and 2^floor(k/16) applied
// by scalef; elsewhere by index and by adding to the exponent bits (the AVX2 level gives the
// same values; the portable one, without FMA, rounds a few differently, still within 1 ulp).

#ifndef TIDE_POW_TABLES
#define TIDE_POW_TABLES
// invc_i = 1 / c_i for c_i the middle of the i-th subinterval, log2 c_i = -log2 invc_i (so
// the pair is consistent whatever invc's rounding), and 2^(j/16); filled once at load time
static double tide_pow_invc[16] __attribute__((aligned(64)));
static double tide_pow_log2c[16] __attribute__((aligned(64)));
static double tide_pow_exp2[16] __attribute__((aligned(64)));
__attribute__((constructor)) static void tide_pow_tables(void) {
  for (uint32_t i = 0; i < 16; i++) {
    const uint32_t lo = 0x3f330000u + (i << 19), hi = lo + (1u << 19);
    float flo, fhi;
    __builtin_memcpy(&flo, &lo, 4);
    __builtin_memcpy(&fhi, &hi, 4);
    tide_pow_invc[i] = 1.0 / (0.5 * ((double)flo + (double)fhi));
    tide_pow_log2c[i] = -log2(tide_pow_invc[i]);
    tide_pow_exp2[i] = exp2(i / 16.0);
  }
}
#endif

static inline __attribute__((always_inline)) TIDE_TGT void TIDE_FN(pow8)(const float *x8, const float *y8, float *out) {
  typedef float v8f __attribute__((vector_size(32)));
  typedef float v8fu __attribute__((vector_size(32), aligned(4)));
  typedef int v8i __attribute__((vector_size(32)));
  typedef double v8d __attribute__((vector_size(64)));
  typedef long long v8l __attribute__((vector_size(64)));
  const v8f xf = *(const v8fu *)x8, yf = *(const v8fu *)y8;
  // x = 2^e m from the float's bits: the offset puts m in [0.699, 1.398), so log m is small
  // on both sides of 1; i is the next 4 bits
  const v8i ix = (v8i)xf, tmp = ix - 0x3f330000;
  const v8i idx = (tmp >> 19) & 15, e = tmp >> 23;
  const v8f mf = (v8f)(ix - (tmp & (int)0xff800000));
  const v8d m = __builtin_convertvector(mf, v8d), ed = __builtin_convertvector(e, v8d);
  const v8d yd = __builtin_convertvector(yf, v8d);
  v8d invc, logc;
#ifdef TIDE_POW_PERMUTE
  const __m512i li = _mm512_cvtepi32_epi64((__m256i)idx);
  invc = (v8d)_mm512_permutex2var_pd(_mm512_load_pd(tide_pow_invc), li, _mm512_load_pd(tide_pow_invc + 8));
  logc = (v8d)_mm512_permutex2var_pd(_mm512_load_pd(tide_pow_log2c), li, _mm512_load_pd(tide_pow_log2c + 8));
#else
  for (int l = 0; l < 8; l++) { invc[l] = tide_pow_invc[idx[l]]; logc[l] = tide_pow_log2c[idx[l]]; }
#endif
  // log2(1 + z) = (z - z^2/2 + ... - z^6/6) / ln2, in Estrin form
  const double L = 1.4426950408889634;
  const v8d z = m * invc - 1.0, z2 = z * z;
  const v8d a23 = (-0.5 * L) + z * (L / 3), a45 = (-0.25 * L) + z * (L / 5);
  const v8d lg = (ed + logc) + (z * L + z2 * (a23 + z2 * (a45 + z2 * (-L / 6))));
  // 2^u = 2^(k/16) 2^f with k = round(16 u), f = u - k/16; 2^f = e^(f ln2) to f^4
  const double c1 = 0.6931471805599453, c2 = 0.2402265069591007, c3 = 0.055504108664821576, c4 = 0.009618129107628477;
  const v8d u = yd * lg;
#ifdef TIDE_POW_PERMUTE
  // k/16 by a rounding to 4 fraction bits; 2^floor(k/16) applied by scalef, which saturates
  // to inf or 0 by itself (no clamp of u)
  const v8d kq = (v8d)_mm512_roundscale_pd((__m512d)u, (4 << 4) | _MM_FROUND_TO_NEAREST_INT);
  const v8d f = u - kq, f2 = f * f;
  const v8l j = (v8l)(kq * 16.0 + 6755399441055744.0) & 15;
  const v8d tj = (v8d)_mm512_permutex2var_pd(_mm512_load_pd(tide_pow_exp2), (__m512i)j, _mm512_load_pd(tide_pow_exp2 + 8));
  const v8d q = (1.0 + f * c1) + f2 * ((c2 + f * c3) + f2 * c4);
  v8f res = __builtin_convertvector((v8d)_mm512_scalef_pd((__m512d)(tj * q), (__m512d)kq), v8f);
#else
  // beyond +-300 the float result is inf or 0 anyway (and k stays small); k by the
  // 1.5 * 2^52 shifter, whose low bits then hold k
  const v8d uc = __builtin_elementwise_min(__builtin_elementwise_max(u, (v8d){0} - 300.0), (v8d){0} + 300.0);
  const v8d kd = uc * 16.0 + 6755399441055744.0;
  const v8d f = uc - (kd - 6755399441055744.0) * 0.0625, f2 = f * f;
  const v8l k = (v8l)kd;
  v8d tj;
  for (int l = 0; l < 8; l++) tj[l] = tide_pow_exp2[k[l] & 15];
  const v8d q = (1.0 + f * c1) + f2 * ((c2 + f * c3) + f2 * c4);
  // 2^(j/16) with k >> 4 added to its exponent (|k >> 4| <= 300: no overflow)
  const v8d scale = (v8d)((v8l)tj + ((k >> 4) << 52));
  v8f res = __builtin_convertvector(scale * q, v8f);
#endif
  // the lanes the formula does not cover go to libm; one vector test skips the lane loop in
  // the usual case (y - y is 0 only for a finite y)
  const v8i ok = (xf >= 1.17549435e-38f) & (xf <= 3.4028235e38f) & ((yf - yf) == 0.0f);
  if (!__builtin_reduce_and(ok)) {
    for (int l = 0; l < 8; l++) if (!ok[l]) res[l] = powf(xf[l], yf[l]);
  }
  *(v8fu *)out = res;
}

TIDE_TGT void TIDE_FN(pow_f32)(const float *a, const float *b, float *y, size_t n, int mode) {
  float xs[8], ys[8];
  size_t i = 0;
  if (mode == TIDE_MODE_VV) {
    for (; i + 8 <= n; i += 8) TIDE_FN(pow8)(a + i, b + i, y + i);
  } else if (mode == TIDE_MODE_VS) {
    for (int l = 0; l < 8; l++) ys[l] = b[0];
    for (; i + 8 <= n; i += 8) TIDE_FN(pow8)(a + i, ys, y + i);
  } else {
    for (int l = 0; l < 8; l++) xs[l] = a[0];
    for (; i + 8 <= n; i += 8) TIDE_FN(pow8)(xs, b + i, y + i);
  }
  // the tail through the same lanes, so every element gets one rounding rule
  if (i < n) {
    float xt[8] = {1, 1, 1, 1, 1, 1, 1, 1}, yt[8] = {1, 1, 1, 1, 1, 1, 1, 1}, out[8];
    for (size_t j = i; j < n; j++) {
      xt[j - i] = mode == TIDE_MODE_SV ? a[0] : a[j];
      yt[j - i] = mode == TIDE_MODE_VS ? b[0] : b[j];
    }
    TIDE_FN(pow8)(xt, yt, out);
    for (size_t j = i; j < n; j++) y[j] = out[j - i];
  }
}
