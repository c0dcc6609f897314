// Attention block kernels (see include/tide_attn.h): a register-blocked 6 x 16 GEMM
// microkernel with strided A and unit-stride B, the online-softmax row step, and exp rows
// (scores in base-2 units, so the exponential is a bare 2^x).
// AVX2 + FMA versions with a portable fallback, picked by tide_kernel_level() like the other
// kernels.
#include "tide_attn.h"
#include "tide_kernels.h"
#include <math.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// ---------------------------------------------------------------- portable

static void gemm_portable(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t sai,
                          ptrdiff_t sak, const float *b, size_t bps, int accumulate,
                          const float *rowscale, float *c, size_t ldc) {
  for (size_t i = 0; i < m; i++) {
    float *cr = c + i * ldc;
    float s = accumulate ? (rowscale ? rowscale[i] : 1.0f) : 0.0f;
    for (size_t j = 0; j < n; j++) cr[j] = s == 0.0f ? 0.0f : s * cr[j];
    for (size_t j0 = 0; j0 < n; j0 += 16) {
      size_t w = n - j0 < 16 ? n - j0 : 16;
      const float *panel = b + (j0 / 16) * bps;
      for (size_t p = 0; p < k; p++) {
        float av = alpha * a[(ptrdiff_t)i * sai + (ptrdiff_t)p * sak];
        for (size_t jj = 0; jj < w; jj++) cr[j0 + jj] += av * panel[p * 16 + jj];
      }
    }
  }
}

static void online_softmax_portable(float *S, size_t rows, size_t cols, size_t ld, float *m, float *l,
                                    float *alpha) {
  for (size_t r = 0; r < rows; r++) {
    float *s = S + r * ld;
    float mx = m[r];
    for (size_t c = 0; c < cols; c++) mx = s[c] > mx || s[c] != s[c] ? s[c] : mx;
    if (mx == -INFINITY) {
      for (size_t c = 0; c < cols; c++) s[c] = 0.0f;
      alpha[r] = 1.0f;
      continue;
    }
    float sum = 0.0f;
    for (size_t c = 0; c < cols; c++) { s[c] = exp2f(s[c] - mx); sum += s[c]; }
    alpha[r] = exp2f(m[r] - mx);
    l[r] = l[r] * alpha[r] + sum;
    m[r] = mx;
  }
}

static void exp_rows_portable(float *S, size_t rows, size_t cols, size_t ld, const float *shift) {
  for (size_t r = 0; r < rows; r++) {
    float *s = S + r * ld;
    if (shift[r] == -INFINITY) { for (size_t c = 0; c < cols; c++) s[c] = 0.0f; continue; }
    for (size_t c = 0; c < cols; c++) s[c] = exp2f(s[c] - shift[r]);
  }
}

// ---------------------------------------------------------------- AVX2 + FMA

#if defined(__x86_64__)
#define TGT __attribute__((target("avx2,fma")))

// 2^x for x <= ~0 (base-2 scores minus their running max). x = n + r with n = round(x) and
// |r| <= 1/2; 2^r is a degree-5 fit (relative error below 2.5e-7 in f32), and 2^n is added to
// its exponent bits. Rounding uses the 1.5 * 2^23 shift, whose low mantissa bits then hold n.
// Below -125 (and -inf, the masked scores) gives 0, so every result is a normal float; NaN
// passes through.
static inline TGT __m256 exp2_nonpos(__m256 x) {
  const __m256 lo = _mm256_set1_ps(-125.0f), shifter = _mm256_set1_ps(12582912.0f);
  __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  __m256 xc = _mm256_max_ps(lo, x);  // the second operand is kept when it is NaN
  __m256 t = _mm256_add_ps(xc, shifter);
  __m256 r = _mm256_sub_ps(xc, _mm256_sub_ps(t, shifter));
  __m256 p = _mm256_set1_ps(1.327644451521337e-3f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(9.67553723603487e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.550713464617729e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(2.4022120237350464e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(6.931469440460205e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0000001192092896f));
  __m256i e = _mm256_slli_epi32(_mm256_castps_si256(t), 23);
  return _mm256_andnot_ps(under, _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e)));
}

// lanes below `left` set (left in 0...8)
static inline TGT __m256i lane_mask(size_t left) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(left > 8 ? 8 : left)), idx);
}

static inline TGT float hmax(__m256 v) {
  __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_max_ps(x, _mm_movehl_ps(x, x));
  x = _mm_max_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

static inline TGT float hsum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

// One row: s[c] = 2^(s[c] - shift), returning the sum.
static inline TGT float exp_row(float *s, size_t cols, float shift) {
  __m256 sh = _mm256_set1_ps(shift), acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    __m256 y0 = exp2_nonpos(_mm256_sub_ps(_mm256_loadu_ps(s + c), sh));
    __m256 y1 = exp2_nonpos(_mm256_sub_ps(_mm256_loadu_ps(s + c + 8), sh));
    _mm256_storeu_ps(s + c, y0);
    _mm256_storeu_ps(s + c + 8, y1);
    acc0 = _mm256_add_ps(acc0, y0);
    acc1 = _mm256_add_ps(acc1, y1);
  }
  for (; c < cols; c += 8) {
    __m256i mk = lane_mask(cols - c);
    __m256 x = _mm256_blendv_ps(_mm256_set1_ps(-INFINITY), _mm256_maskload_ps(s + c, mk), _mm256_castsi256_ps(mk));
    __m256 y = exp2_nonpos(_mm256_sub_ps(x, sh));
    _mm256_maskstore_ps(s + c, mk, y);
    acc0 = _mm256_add_ps(acc0, y);
  }
  return hsum(_mm256_add_ps(acc0, acc1));
}

static TGT void online_softmax_avx2(float *S, size_t rows, size_t cols, size_t ld, float *m, float *l,
                                    float *alpha) {
  for (size_t r = 0; r < rows; r++) {
    float *s = S + r * ld;
    __m256 mx0 = _mm256_set1_ps(m[r]), mx1 = mx0, bad = _mm256_setzero_ps();
    size_t c = 0;
    for (; c + 16 <= cols; c += 16) {
      __m256 x0 = _mm256_loadu_ps(s + c), x1 = _mm256_loadu_ps(s + c + 8);
      mx0 = _mm256_max_ps(mx0, x0);
      mx1 = _mm256_max_ps(mx1, x1);
      bad = _mm256_or_ps(bad, _mm256_cmp_ps(x0, x1, _CMP_UNORD_Q));
    }
    float mx = hmax(_mm256_max_ps(mx0, mx1));
    for (; c < cols; c++) mx = s[c] > mx || s[c] != s[c] ? s[c] : mx;
    if (_mm256_movemask_ps(bad)) mx = NAN;  // a NaN score makes the row NaN, as in the reference
    if (mx == -INFINITY) {
      for (c = 0; c < cols; c++) s[c] = 0.0f;
      alpha[r] = 1.0f;
      continue;
    }
    float sum = exp_row(s, cols, mx);
    alpha[r] = m[r] == -INFINITY ? 0.0f : exp2f(m[r] - mx);
    l[r] = l[r] * alpha[r] + sum;
    m[r] = mx;
  }
}

static TGT void exp_rows_avx2(float *S, size_t rows, size_t cols, size_t ld, const float *shift) {
  for (size_t r = 0; r < rows; r++) {
    float *s = S + r * ld;
    if (shift[r] == -INFINITY) { for (size_t c = 0; c < cols; c++) s[c] = 0.0f; continue; }
    (void)exp_row(s, cols, shift[r]);
  }
}

// The microkernel: C[0..MR, 0..16) (+)= alpha A[0..MR, 0..k) B[0..k, 0..16). MR and FULL are
// compile-time constants at every call site (always_inline), so the unused rows and the mask
// branches disappear; 12 accumulators + 2 B vectors + 1 broadcast fill the 16 registers. B is
// one packed panel (k rows of 16, zero-padded), so only C needs masks at a ragged edge.
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
static inline __attribute__((always_inline)) TGT void
micro(const int MR, const int FULL, size_t k, float alpha, const float *a, ptrdiff_t sai, ptrdiff_t sak,
      const float *b, __m256i m0, __m256i m1, int accumulate, const float *rs, float *c, size_t ldc) {
#define DECL(r) __m256 c##r##a = _mm256_setzero_ps(), c##r##b = _mm256_setzero_ps();
  ROWS6(DECL)
#undef DECL
  // rows 0-2 from a0 and 3-5 from a3 at offsets 0, sai, 2 sai: base + index * {1, 2} addressing,
  // two pointer bumps per step instead of a chain of adds
  const float *a0 = a, *a3 = a + 3 * sai, *bp = b;
  const ptrdiff_t s1 = sai;
  for (size_t p = 0; p < k; p++, a0 += sak, a3 += sak, bp += 16) {
    __m256 av, b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);  // a packed, padded panel row
#define STEP(r, ptr, off)                                    \
    if (MR > r) {                                            \
      av = _mm256_broadcast_ss(ptr + off);                   \
      c##r##a = _mm256_fmadd_ps(av, b0, c##r##a);            \
      c##r##b = _mm256_fmadd_ps(av, b1, c##r##b);            \
    }
    STEP(0, a0, 0) STEP(1, a0, s1) STEP(2, a0, 2 * s1) STEP(3, a3, 0) STEP(4, a3, s1) STEP(5, a3, 2 * s1)
#undef STEP
  }
  __m256 al = _mm256_set1_ps(alpha);
#define STORE(r)                                                                              \
  if (MR > r) {                                                                               \
    float *cr = c + r * ldc;                                                                  \
    __m256 va = _mm256_mul_ps(al, c##r##a), vb = _mm256_mul_ps(al, c##r##b);                  \
    if (accumulate) {                                                                         \
      __m256 sc = _mm256_set1_ps(rs ? rs[r] : 1.0f);                                          \
      __m256 oa = FULL ? _mm256_loadu_ps(cr) : _mm256_maskload_ps(cr, m0);                    \
      __m256 ob = FULL ? _mm256_loadu_ps(cr + 8) : _mm256_maskload_ps(cr + 8, m1);            \
      va = _mm256_fmadd_ps(sc, oa, va);                                                       \
      vb = _mm256_fmadd_ps(sc, ob, vb);                                                       \
    }                                                                                         \
    if (FULL) { _mm256_storeu_ps(cr, va); _mm256_storeu_ps(cr + 8, vb); }                     \
    else { _mm256_maskstore_ps(cr, m0, va); _mm256_maskstore_ps(cr + 8, m1, vb); }           \
  }
  ROWS6(STORE)
#undef STORE
}

static TGT void gemm_avx2(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t sai,
                          ptrdiff_t sak, const float *b, size_t bps, int accumulate,
                          const float *rowscale, float *c, size_t ldc, int tri, ptrdiff_t d) {
  for (size_t j = 0; j < n; j += 16) {
    size_t nr = n - j < 16 ? n - j : 16;
    __m256i m0 = lane_mask(nr), m1 = lane_mask(nr > 8 ? nr - 8 : 0);
    const float *bj = b + (j / 16) * bps;
    size_t i = 0;
    // the causal triangle (see tide_attn.h): a tile wholly past it is skipped (zeroed when not
    // accumulating), and the k range of a row block shrinks to what its rows can see
#define CALL(MR_, FULL_)                                                                          \
    do {                                                                                          \
      ptrdiff_t last = (ptrdiff_t)i + MR_ - 1 + d;                                                \
      if (tri == TIDE_ATTN_TRI_OUT && (ptrdiff_t)j > last) {                                      \
        if (!accumulate)                                                                          \
          for (size_t r = 0; r < MR_; r++)                                                        \
            for (size_t q = 0; q < nr; q++) c[(i + r) * ldc + j + q] = 0.0f;                      \
        break;                                                                                    \
      }                                                                                           \
      size_t kb = 0, ke = k;                                                                      \
      if (tri == TIDE_ATTN_TRI_KEND) ke = last + 1 <= 0 ? 0 : ((size_t)(last + 1) < k ? (size_t)(last + 1) : k); \
      if (tri == TIDE_ATTN_TRI_KBEG) { ptrdiff_t s0 = (ptrdiff_t)i - d; kb = s0 <= 0 ? 0 : ((size_t)s0 < k ? (size_t)s0 : k); } \
      if (ke < kb) ke = kb;                                                                       \
      micro(MR_, FULL_, ke - kb, alpha, a + (ptrdiff_t)i * sai + (ptrdiff_t)kb * sak, sai, sak,  \
            bj + kb * 16, m0, m1, accumulate, rowscale ? rowscale + i : NULL, c + i * ldc + j, ldc); \
    } while (0)
    if (nr == 16) {
      for (; i + 6 <= m; i += 6) CALL(6, 1);
      switch (m - i) {
        case 5: CALL(5, 1); break;
        case 4: CALL(4, 1); break;
        case 3: CALL(3, 1); break;
        case 2: CALL(2, 1); break;
        case 1: CALL(1, 1); break;
        default: break;
      }
    } else {
      for (; i + 6 <= m; i += 6) CALL(6, 0);
      switch (m - i) {
        case 5: CALL(5, 0); break;
        case 4: CALL(4, 0); break;
        case 3: CALL(3, 0); break;
        case 2: CALL(2, 0); break;
        case 1: CALL(1, 0); break;
        default: break;
      }
    }
#undef CALL
  }
}
#undef ROWS6
#endif

// ---------------------------------------------------------------- dispatch

void tide_attn_gemm_f32(size_t m, size_t n, size_t k, float alpha, const float *a, ptrdiff_t sai,
                        ptrdiff_t sak, const float *b, size_t bps, int accumulate,
                        const float *rowscale, float *c, size_t ldc, int tri, ptrdiff_t d) {
#if defined(__x86_64__)
  if (tide_kernel_level() >= 1) { gemm_avx2(m, n, k, alpha, a, sai, sak, b, bps, accumulate, rowscale, c, ldc, tri, d); return; }
#endif
  // the triangle only skips products that are zero or masked afterwards: the portable path
  // computes them all (same result)
  (void)tri; (void)d;
  gemm_portable(m, n, k, alpha, a, sai, sak, b, bps, accumulate, rowscale, c, ldc);
}

void tide_attn_online_softmax_f32(float *S, size_t rows, size_t cols, size_t ld, float *m, float *l,
                                  float *alpha) {
#if defined(__x86_64__)
  if (tide_kernel_level() >= 1) { online_softmax_avx2(S, rows, cols, ld, m, l, alpha); return; }
#endif
  online_softmax_portable(S, rows, cols, ld, m, l, alpha);
}

void tide_attn_exp_rows_f32(float *S, size_t rows, size_t cols, size_t ld, const float *shift) {
#if defined(__x86_64__)
  if (tide_kernel_level() >= 1) { exp_rows_avx2(S, rows, cols, ld, shift); return; }
#endif
  exp_rows_portable(S, rows, cols, ld, shift);
}

void tide_attn_pack_f32(const float *src, ptrdiff_t sp, ptrdiff_t sj, size_t k, size_t n, float *dst) {
  for (size_t j0 = 0; j0 < n; j0 += 16) {
    float *d = dst + (j0 / 16) * 16 * k;
    size_t w = n - j0 < 16 ? n - j0 : 16;
    if (sj == 1) {
      for (size_t p = 0; p < k; p++) {
        const float *s = src + (ptrdiff_t)p * sp + (ptrdiff_t)j0;
        size_t jj = 0;
        for (; jj < w; jj++) d[p * 16 + jj] = s[jj];
        for (; jj < 16; jj++) d[p * 16 + jj] = 0.0f;
      }
    } else {
      // a transposed source: walk each source row (unit stride along p when sp == 1)
      for (size_t jj = 0; jj < 16; jj++) {
        if (jj < w) {
          const float *s = src + (ptrdiff_t)(j0 + jj) * sj;
          for (size_t p = 0; p < k; p++) d[p * 16 + jj] = s[(ptrdiff_t)p * sp];
        } else {
          for (size_t p = 0; p < k; p++) d[p * 16 + jj] = 0.0f;
        }
      }
    }
  }
}
