// pow_body.h: f32 x^y for tensors, included once per instruction-set level by kernels.c
// (TIDE_SFX / TIDE_TGT as for kernels_body.h).
//
//     y[i] = powf(a[i], b[i])      (a scalar side, as for the other binary modes)
//
// Lanes with a positive finite base and a finite exponent compute exp(y log x) in double:
// log from 2 atanh(s), exp from a degree-11 Taylor polynomial, each good to about 1e-13, so
// the one rounding to float leaves the result within 0.5 ulp plus a hair. Every other lane
// (zero, negative or non-finite base, non-finite exponent) takes libm's powf, so the C99
// special cases come out exactly as NumPy's (which calls powf). Four lanes per step.

static inline __attribute__((always_inline)) TIDE_TGT void TIDE_FN(pow4)(const float *x4, const float *y4, float *out) {
  typedef double v4d __attribute__((vector_size(32)));
  typedef long long v4l __attribute__((vector_size(32)));
  typedef float v4f __attribute__((vector_size(16)));
  typedef float v4fu __attribute__((vector_size(16), aligned(4)));
  const v4f xf = *(const v4fu *)x4, yf = *(const v4fu *)y4;
  const v4d x = __builtin_convertvector(xf, v4d), yv = __builtin_convertvector(yf, v4d);
  const v4d z = {0};
  // log x: x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1)
  const v4l bits = (v4l)x;
  v4l e = ((bits >> 52) & 0x7ff) - 1023;
  v4d m = (v4d)((bits & 0x000fffffffffffffLL) | 0x3ff0000000000000LL);
  const v4l big = (v4l)(m > 1.4142135623730951);
  m = (v4d)((big & (v4l)(m * 0.5)) | (~big & (v4l)m));
  e = e - big;  // big is -1 where m was halved
  const v4d s = (m - 1.0) / (m + 1.0), s2 = s * s;
  v4d p = z + 2.0 / 15;
  p = p * s2 + 2.0 / 13; p = p * s2 + 2.0 / 11; p = p * s2 + 2.0 / 9; p = p * s2 + 2.0 / 7;
  p = p * s2 + 2.0 / 5; p = p * s2 + 2.0 / 3; p = p * s2 + 2.0;
  const v4d ln2_hi = z + 0.6931471805599453, ln2_lo = z + 2.3190468138462996e-17;
  const v4d ed = __builtin_convertvector(e, v4d);
  v4d t = yv * (ed * ln2_hi + (s * p + ed * ln2_lo));
  // exp t; beyond +-200 the float result is inf or 0 anyway
  t = __builtin_elementwise_min(__builtin_elementwise_max(t, z - 200.0), z + 200.0);
  const v4d kf = __builtin_elementwise_roundeven(t * 1.4426950408889634);
  const v4d r = (t - kf * ln2_hi) - kf * ln2_lo;
  v4d q = z + 1.0 / 39916800;
  q = q * r + 1.0 / 3628800; q = q * r + 1.0 / 362880; q = q * r + 1.0 / 40320; q = q * r + 1.0 / 5040;
  q = q * r + 1.0 / 720; q = q * r + 1.0 / 120; q = q * r + 1.0 / 24; q = q * r + 1.0 / 6;
  q = q * r + 0.5; q = q * r + 1.0; q = q * r + 1.0;
  const v4l k = __builtin_convertvector(kf, v4l);
  const v4d scale = (v4d)((k + 1023) << 52);
  v4f res = __builtin_convertvector(q * scale, v4f);
  // the lanes the formula does not cover go to libm; one vector test skips the lane loop in
  // the usual case (a positive finite base, a finite exponent: y - y is 0 only then)
  typedef int v4i __attribute__((vector_size(16)));
  const v4i ok = (xf > 0.0f) & (xf <= 3.4028235e38f) & ((yf - yf) == 0.0f);
  if (!(ok[0] & ok[1] & ok[2] & ok[3])) {
    for (int l = 0; l < 4; l++) {
      const float xl = xf[l], yl = yf[l];
      if (!(xl > 0.0f && xl <= 3.4028235e38f) || !(yl == yl && yl - yl == 0.0f)) res[l] = powf(xl, yl);
    }
  }
  *(v4fu *)out = res;
}

TIDE_TGT void TIDE_FN(pow_f32)(const float *a, const float *b, float *y, size_t n, int mode) {
  float xs[4], ys[4];
  size_t i = 0;
  if (mode == TIDE_MODE_VV) {
    for (; i + 4 <= n; i += 4) TIDE_FN(pow4)(a + i, b + i, y + i);
  } else if (mode == TIDE_MODE_VS) {
    for (int l = 0; l < 4; l++) ys[l] = b[0];
    for (; i + 4 <= n; i += 4) TIDE_FN(pow4)(a + i, ys, y + i);
  } else {
    for (int l = 0; l < 4; l++) xs[l] = a[0];
    for (; i + 4 <= n; i += 4) TIDE_FN(pow4)(xs, b + i, y + i);
  }
  // the tail through the same lanes, so every element gets one rounding rule
  if (i < n) {
    float xt[4] = {1, 1, 1, 1}, yt[4] = {1, 1, 1, 1}, out[4];
    for (size_t j = i; j < n; j++) {
      xt[j - i] = mode == TIDE_MODE_SV ? a[0] : a[j];
      yt[j - i] = mode == TIDE_MODE_VS ? b[0] : b[j];
    }
    TIDE_FN(pow4)(xt, yt, out);
    for (size_t j = i; j < n; j++) y[j] = out[j - i];
  }
}
