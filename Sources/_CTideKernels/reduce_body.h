// reduce_body.h: reduction kernel bodies, included by reduce_kernels.c once per scalar type
// (TIDE_T, TIDE_TS name suffix, TIDE_LANES per 32-byte vector, TIDE_ROWSUM: the level's
// contiguous sum) and instruction-set level (TIDE_SFX, TIDE_TGT).
//
// Layout: a dense block x[o][r][i] (row stride ld between consecutive r) reduced over r.
//   rows: I = 1, each output reduces one contiguous run of R (SIMD across the run);
//   cols: I > 1, each output column accumulates R rows (SIMD across the columns).
// NaN propagates through max and min (the first NaN wins for the arg forms); ties give the
// first index. f32 sums accumulate blocks of 64 rows in f32, then the blocks in f64.

#define TIDE_RFN(name) TIDE_CAT(TIDE_CAT(tide_rk_##name, TIDE_TS), TIDE_SFX)
#define TIDE_CHUNK 256  /* columns per pass: partials stay in L1 */

typedef TIDE_T TIDE_CAT(tide_rv, TIDE_TS) __attribute__((vector_size(32), aligned(sizeof(TIDE_T))));
#define TIDE_VT TIDE_CAT(tide_rv, TIDE_TS)

// The max (is_max) or min of a contiguous run (n >= 1), NaN if it holds one.
TIDE_TGT static TIDE_T TIDE_RFN(extreme)(const TIDE_T *restrict x, size_t n, int is_max) {
  size_t i = 0;
  TIDE_T m = x[0];
  int nan = 0;
  if (n >= 4 * TIDE_LANES) {
    TIDE_VT m0 = *(const TIDE_VT *)x, m1 = m0, m2 = m0, m3 = m0;
    __typeof__(m0 != m0) bad = {0};
    for (; i + 4 * TIDE_LANES <= n; i += 4 * TIDE_LANES) {
      TIDE_VT a = *(const TIDE_VT *)(x + i), b = *(const TIDE_VT *)(x + i + TIDE_LANES);
      TIDE_VT c = *(const TIDE_VT *)(x + i + 2 * TIDE_LANES), d = *(const TIDE_VT *)(x + i + 3 * TIDE_LANES);
      if (is_max) {
        m0 = __builtin_elementwise_max(m0, a); m1 = __builtin_elementwise_max(m1, b);
        m2 = __builtin_elementwise_max(m2, c); m3 = __builtin_elementwise_max(m3, d);
      } else {
        m0 = __builtin_elementwise_min(m0, a); m1 = __builtin_elementwise_min(m1, b);
        m2 = __builtin_elementwise_min(m2, c); m3 = __builtin_elementwise_min(m3, d);
      }
      bad |= (a != a) | (b != b) | (c != c) | (d != d);
    }
    for (int k = 0; k < TIDE_LANES; k++) {
      TIDE_T v[4] = {m0[k], m1[k], m2[k], m3[k]};
      for (int j = 0; j < 4; j++) m = is_max ? (v[j] > m ? v[j] : m) : (v[j] < m ? v[j] : m);
      nan |= bad[k] != 0;
    }
  }
  for (; i < n; i++) {
    m = is_max ? (x[i] > m ? x[i] : m) : (x[i] < m ? x[i] : m);
    nan |= x[i] != x[i];
  }
  return nan ? (TIDE_T)__builtin_nan("") : m;
}

// A product in order, as NumPy computes it: in vector lanes, a lane that overflows to inf
// meets another's 0 as NaN where the sequential product is 0, so no reassociation here.
TIDE_TGT static TIDE_T TIDE_RFN(prod_run)(const TIDE_T *restrict x, size_t n) {
  TIDE_T p = 1;
  for (size_t i = 0; i < n; i++) p *= x[i];
  return p;
}

// The index of the first element of a run equal to e (or of its first NaN when e is NaN),
// known to be there: a vector compare per step, then the exact lane.
TIDE_TGT static size_t TIDE_RFN(find)(const TIDE_T *restrict x, size_t n, TIDE_T e) {
  size_t j = 0;
  const TIDE_VT ev = (TIDE_VT){0} + e;
  if (e == e) {
    for (; j + TIDE_LANES <= n; j += TIDE_LANES)
      if (__builtin_reduce_or(*(const TIDE_VT *)(x + j) == ev)) break;
    while (x[j] != e) j++;
  } else {
    for (; j + TIDE_LANES <= n; j += TIDE_LANES) {
      TIDE_VT v = *(const TIDE_VT *)(x + j);
      if (__builtin_reduce_or(v != v)) break;
    }
    while (x[j] == x[j]) j++;
  }
  return j;
}

TIDE_TGT static void TIDE_RFN(rows)(int op, const TIDE_T *restrict x, TIDE_T *restrict out, size_t O, size_t R) {
  for (size_t o = 0; o < O; o++) {
    const TIDE_T *row = x + o * R;
    switch (op) {
      case TIDE_RED_SUM: out[o] = (TIDE_T)TIDE_ROWSUM(row, R); break;
      case TIDE_RED_MEAN: out[o] = (TIDE_T)(TIDE_ROWSUM(row, R) / (double)R); break;
      case TIDE_RED_PROD: out[o] = TIDE_RFN(prod_run)(row, R); break;
      default: out[o] = R == 0 ? (TIDE_T)__builtin_nan("") : TIDE_RFN(extreme)(row, R, op == TIDE_RED_MAX); break;
    }
  }
}

TIDE_TGT static void TIDE_RFN(cols)(int op, const TIDE_T *restrict x, TIDE_T *restrict out, size_t R, size_t I, size_t ld) {
  TIDE_T part[TIDE_CHUNK];
  double acc[TIDE_CHUNK];
  for (size_t c0 = 0; c0 < I; c0 += TIDE_CHUNK) {
    const size_t w = I - c0 < TIDE_CHUNK ? I - c0 : TIDE_CHUNK;
    const TIDE_T *restrict xc = x + c0;
    if (op == TIDE_RED_SUM || op == TIDE_RED_MEAN) {
      for (size_t i = 0; i < w; i++) acc[i] = 0;
      for (size_t r0 = 0; r0 < R; r0 += 64) {
        const size_t r1 = R - r0 < 64 ? R : r0 + 64;
        for (size_t i = 0; i < w; i++) part[i] = xc[r0 * ld + i];
        for (size_t r = r0 + 1; r < r1; r++) {
          const TIDE_T *restrict row = xc + r * ld;
          for (size_t i = 0; i < w; i++) part[i] += row[i];
        }
        for (size_t i = 0; i < w; i++) acc[i] += (double)part[i];
      }
      const double scale = op == TIDE_RED_MEAN ? 1.0 / (double)R : 1.0;
      for (size_t i = 0; i < w; i++) out[c0 + i] = (TIDE_T)(op == TIDE_RED_MEAN ? acc[i] * scale : acc[i]);
      if (op == TIDE_RED_MEAN && R == 0) for (size_t i = 0; i < w; i++) out[c0 + i] = (TIDE_T)__builtin_nan("");
    } else if (op == TIDE_RED_PROD) {
      for (size_t i = 0; i < w; i++) part[i] = 1;
      for (size_t r = 0; r < R; r++) {
        const TIDE_T *restrict row = xc + r * ld;
        for (size_t i = 0; i < w; i++) part[i] *= row[i];
      }
      for (size_t i = 0; i < w; i++) out[c0 + i] = part[i];
    } else {
      if (R == 0) { for (size_t i = 0; i < w; i++) out[c0 + i] = (TIDE_T)__builtin_nan(""); continue; }
      for (size_t i = 0; i < w; i++) part[i] = xc[i];
      for (size_t r = 1; r < R; r++) {
        const TIDE_T *restrict row = xc + r * ld;
        if (op == TIDE_RED_MAX) {
          for (size_t i = 0; i < w; i++) { TIDE_T v = row[i], m = part[i]; part[i] = ((v > m) | (v != v)) ? v : m; }
        } else {
          for (size_t i = 0; i < w; i++) { TIDE_T v = row[i], m = part[i]; part[i] = ((v < m) | (v != v)) ? v : m; }
        }
      }
      for (size_t i = 0; i < w; i++) out[c0 + i] = part[i];
    }
  }
}

// Values and (0-based) indices of the extremes over r (R >= 1).
TIDE_TGT static void TIDE_RFN(arg_rows)(int is_max, const TIDE_T *restrict x, TIDE_T *restrict val, int64_t *restrict idx, size_t O, size_t R) {
  for (size_t o = 0; o < O; o++) {
    const TIDE_T *row = x + o * R;
    TIDE_T e = TIDE_RFN(extreme)(row, R, is_max);
    val[o] = e;
    idx[o] = (int64_t)TIDE_RFN(find)(row, R, e);
  }
}

TIDE_TGT static void TIDE_RFN(arg_cols)(int is_max, const TIDE_T *restrict x, TIDE_T *restrict val, int64_t *restrict idx, size_t R, size_t I, size_t ld) {
  TIDE_T best[TIDE_CHUNK];
  int64_t at[TIDE_CHUNK];
  for (size_t c0 = 0; c0 < I; c0 += TIDE_CHUNK) {
    const size_t w = I - c0 < TIDE_CHUNK ? I - c0 : TIDE_CHUNK;
    const TIDE_T *restrict xc = x + c0;
    for (size_t i = 0; i < w; i++) { best[i] = xc[i]; at[i] = 0; }
    for (size_t r = 1; r < R; r++) {
      const TIDE_T *restrict row = xc + r * ld;
      const int64_t rr = (int64_t)r;
      for (size_t i = 0; i < w; i++) {
        TIDE_T v = row[i], b = best[i];
        int take = (is_max ? v > b : v < b) | ((v != v) & (b == b));
        best[i] = take ? v : b;
        at[i] = take ? rr : at[i];
      }
    }
    for (size_t i = 0; i < w; i++) { val[c0 + i] = best[i]; idx[c0 + i] = at[i]; }
  }
}

// Running sums (or products) over r, each in order (as a sequential loop computes them):
// contiguous runs four at a time (four independent chains hide the add latency), columns
// with SIMD across i.
TIDE_TGT static void TIDE_RFN(scan_rows)(int product, const TIDE_T *restrict x, TIDE_T *restrict y, size_t O, size_t R) {
  size_t o = 0;
  for (; o + 4 <= O; o += 4) {
    const TIDE_T *x0 = x + o * R, *x1 = x0 + R, *x2 = x1 + R, *x3 = x2 + R;
    TIDE_T *y0 = y + o * R, *y1 = y0 + R, *y2 = y1 + R, *y3 = y2 + R;
    TIDE_T a = product ? 1 : 0, b = a, c = a, d = a;
    for (size_t r = 0; r < R; r++) {
      if (product) { a *= x0[r]; b *= x1[r]; c *= x2[r]; d *= x3[r]; }
      else { a += x0[r]; b += x1[r]; c += x2[r]; d += x3[r]; }
      y0[r] = a; y1[r] = b; y2[r] = c; y3[r] = d;
    }
  }
  for (; o < O; o++) {
    TIDE_T a = product ? 1 : 0;
    for (size_t r = 0; r < R; r++) { a = product ? a * x[o * R + r] : a + x[o * R + r]; y[o * R + r] = a; }
  }
}

TIDE_TGT static void TIDE_RFN(scan_cols)(int product, const TIDE_T *restrict x, TIDE_T *restrict y, size_t R, size_t I, size_t ld) {
  if (R == 0) return;
  for (size_t i = 0; i < I; i++) y[i] = x[i];
  for (size_t r = 1; r < R; r++) {
    const TIDE_T *restrict xr = x + r * ld;
    const TIDE_T *restrict prev = y + (r - 1) * ld;
    TIDE_T *restrict yr = y + r * ld;
    if (product) { for (size_t i = 0; i < I; i++) yr[i] = prev[i] * xr[i]; }
    else { for (size_t i = 0; i < I; i++) yr[i] = prev[i] + xr[i]; }
  }
}

#undef TIDE_RFN
#undef TIDE_VT
#undef TIDE_CHUNK
