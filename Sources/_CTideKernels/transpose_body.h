// transpose_body.h: elementwise ops where one operand is read transposed, included once per
// instruction-set level by kernels.c (TIDE_SFX / TIDE_TGT as for kernels_body.h).
//
//     y[i*ldy + j] = a[i*lda + j] OP b[j*ldb + i]     i < rows, j < cols
//     y[i*ldy + j] = b[j*ldb + i]                      a == NULL: a transposed copy
//
// Work goes tile by tile (TIDE_TR_TI x TIDE_TR_TJ). First b's tile is transposed into an
// L2-sized buffer, 8x8 (f32) or 4x4 (f64) blocks at a time in registers; then each output row
// of the tile is one run over a's row and the buffer's. Long runs on both sides matter here:
// measured on this machine, every new run into a big matrix costs about 15-20 ns, so a
// block-by-block walk (runs of 32 bytes) was 2x slower than the buffered one. Big outputs are
// stored around the caches, as in the flat kernels. y must not overlap b.

#ifndef TIDE_TR_SHARED
#define TIDE_TR_SHARED
#define TIDE_TR_TI 128
#define TIDE_TR_TJ 128
#define TIDE_TR_AHEAD 4
// Each new short run into a big matrix waits on memory (the hardware prefetchers need a few
// lines to catch on), so the kernel asks ahead: b's next W runs during a transpose step, a's
// row TIDE_TR_AHEAD rows on during the row pass, and a's first rows of a tile while its b
// part is transposed. Measured 10-25% off the mixed-layout add here (4 rows ahead rather
// than 1: another 5%).
#define TIDE_TR_PREFETCH(p, bytes, level)                                                     \
  for (size_t off_ = 0; off_ < (bytes); off_ += 64) __builtin_prefetch((const char *)(p) + off_, 0, level);
// one output value from operands u (a's) and v (b's); max/min propagate NaN as the flat loops
#define TIDE_TR_SCALAR(op, u, v)                                                              \
  ((op) == TIDE_OP_ADD ? (u) + (v) : (op) == TIDE_OP_SUB ? (u) - (v) :                        \
   (op) == TIDE_OP_MUL ? (u) * (v) : (op) == TIDE_OP_DIV ? (u) / (v) :                        \
   ((u) != (u) || (v) != (v)) ? (u) + (v) :                                                   \
   (op) == TIDE_OP_MAX ? ((u) > (v) ? (u) : (v)) : ((u) < (v) ? (u) : (v)))
// r = u op v on vectors (VT the vector type, IT the same-width integer vector type)
#define TIDE_TR_VEC(VT, IT, op, u, v, r)                                                      \
  switch (op) {                                                                               \
    case TIDE_OP_ADD: r = (u) + (v); break;                                                   \
    case TIDE_OP_SUB: r = (u) - (v); break;                                                   \
    case TIDE_OP_MUL: r = (u) * (v); break;                                                   \
    case TIDE_OP_DIV: r = (u) / (v); break;                                                   \
    default: {                                                                                \
      IT pick_ = (op) == TIDE_OP_MAX ? (IT)((u) > (v)) : (IT)((u) < (v));                     \
      IT nan_ = (IT)((u) != (u)) | (IT)((v) != (v));                                          \
      IT kept_ = (pick_ & (IT)(u)) | (~pick_ & (IT)(v));                                      \
      r = (VT)((nan_ & (IT)((u) + (v))) | (~nan_ & kept_));                                   \
    }                                                                                         \
  }
// The row pass of one tile: y row = a row op buffer row (or the buffer row), W lanes at a
// time, streamed when `stream` and the row start is 32-byte aligned.
#define TIDE_TR_ROWS(T, VT, VTU, IT, W)                                                       \
  for (size_t ii = 0; ii < r; ii++) {                                                         \
    const T *br = buf + ii * TIDE_TR_TJ;                                                      \
    T *yr = y + (i0 + ii) * ldy + j0;                                                         \
    const T *ar = a == NULL ? NULL : a + (i0 + ii) * lda + j0;                                \
    const int nt = stream && ((uintptr_t)yr & 31) == 0;                                       \
    if (ar != NULL && ii + TIDE_TR_AHEAD < r) TIDE_TR_PREFETCH(ar + TIDE_TR_AHEAD * lda, c * sizeof(T), 3) \
    size_t jj = 0;                                                                            \
    for (; jj + W <= c; jj += W) {                                                            \
      VT v = *(const VT *)(br + jj), o;                                                       \
      if (ar == NULL) o = v;                                                                  \
      else { VT u = *(const VTU *)(ar + jj); TIDE_TR_VEC(VT, IT, op, u, v, o) }               \
      if (nt) __builtin_nontemporal_store(o, (VT *)(yr + jj));                                \
      else *(VTU *)(yr + jj) = o;                                                             \
    }                                                                                         \
    for (; jj < c; jj++) yr[jj] = ar == NULL ? br[jj] : TIDE_TR_SCALAR(op, ar[jj], br[jj]);   \
  }
#endif

// dst[m*ldd + k] = src[k*lds + m] for an 8x8 block of floats
static inline __attribute__((always_inline)) TIDE_TGT void TIDE_FN(tr8x8_f32)(const float *src, size_t lds, float *dst, size_t ldd) {
  typedef float v8 __attribute__((vector_size(32)));
  typedef float v8u __attribute__((vector_size(32), aligned(4)));
  v8 c0 = *(const v8u *)(src), c1 = *(const v8u *)(src + lds);
  v8 c2 = *(const v8u *)(src + 2 * lds), c3 = *(const v8u *)(src + 3 * lds);
  v8 c4 = *(const v8u *)(src + 4 * lds), c5 = *(const v8u *)(src + 5 * lds);
  v8 c6 = *(const v8u *)(src + 6 * lds), c7 = *(const v8u *)(src + 7 * lds);
  // pairs, then quads, then halves: after the last step output row m holds column m
  v8 t0 = __builtin_shufflevector(c0, c1, 0, 8, 1, 9, 4, 12, 5, 13);
  v8 t1 = __builtin_shufflevector(c0, c1, 2, 10, 3, 11, 6, 14, 7, 15);
  v8 t2 = __builtin_shufflevector(c2, c3, 0, 8, 1, 9, 4, 12, 5, 13);
  v8 t3 = __builtin_shufflevector(c2, c3, 2, 10, 3, 11, 6, 14, 7, 15);
  v8 t4 = __builtin_shufflevector(c4, c5, 0, 8, 1, 9, 4, 12, 5, 13);
  v8 t5 = __builtin_shufflevector(c4, c5, 2, 10, 3, 11, 6, 14, 7, 15);
  v8 t6 = __builtin_shufflevector(c6, c7, 0, 8, 1, 9, 4, 12, 5, 13);
  v8 t7 = __builtin_shufflevector(c6, c7, 2, 10, 3, 11, 6, 14, 7, 15);
  v8 s0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
  v8 s1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
  v8 s2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
  v8 s3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
  v8 s4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
  v8 s5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
  v8 s6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
  v8 s7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
  *(v8 *)(dst) = __builtin_shufflevector(s0, s4, 0, 1, 2, 3, 8, 9, 10, 11);
  *(v8 *)(dst + ldd) = __builtin_shufflevector(s1, s5, 0, 1, 2, 3, 8, 9, 10, 11);
  *(v8 *)(dst + 2 * ldd) = __builtin_shufflevector(s2, s6, 0, 1, 2, 3, 8, 9, 10, 11);
  *(v8 *)(dst + 3 * ldd) = __builtin_shufflevector(s3, s7, 0, 1, 2, 3, 8, 9, 10, 11);
  *(v8 *)(dst + 4 * ldd) = __builtin_shufflevector(s0, s4, 4, 5, 6, 7, 12, 13, 14, 15);
  *(v8 *)(dst + 5 * ldd) = __builtin_shufflevector(s1, s5, 4, 5, 6, 7, 12, 13, 14, 15);
  *(v8 *)(dst + 6 * ldd) = __builtin_shufflevector(s2, s6, 4, 5, 6, 7, 12, 13, 14, 15);
  *(v8 *)(dst + 7 * ldd) = __builtin_shufflevector(s3, s7, 4, 5, 6, 7, 12, 13, 14, 15);
}

// the same for a 4x4 block of doubles
static inline __attribute__((always_inline)) TIDE_TGT void TIDE_FN(tr4x4_f64)(const double *src, size_t lds, double *dst, size_t ldd) {
  typedef double v4 __attribute__((vector_size(32)));
  typedef double v4u __attribute__((vector_size(32), aligned(8)));
  v4 c0 = *(const v4u *)(src), c1 = *(const v4u *)(src + lds);
  v4 c2 = *(const v4u *)(src + 2 * lds), c3 = *(const v4u *)(src + 3 * lds);
  v4 t0 = __builtin_shufflevector(c0, c1, 0, 4, 2, 6);
  v4 t1 = __builtin_shufflevector(c0, c1, 1, 5, 3, 7);
  v4 t2 = __builtin_shufflevector(c2, c3, 0, 4, 2, 6);
  v4 t3 = __builtin_shufflevector(c2, c3, 1, 5, 3, 7);
  *(v4 *)(dst) = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
  *(v4 *)(dst + ldd) = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
  *(v4 *)(dst + 2 * ldd) = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
  *(v4 *)(dst + 3 * ldd) = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

#ifndef TIDE_TR_TILES
// The tile loop: b's tile transposed into buf in W x W blocks (TRANSPOSE), the edges element
// by element, then the row pass; outputs of NT_MIN+ elements are streamed.
#define TIDE_TR_TILES(T, VT, VTU, IT, W, TRANSPOSE, NT_MIN)                                   \
  T buf[TIDE_TR_TI * TIDE_TR_TJ] __attribute__((aligned(64)));                                \
  const int stream = rows * cols >= (NT_MIN);                                                 \
  for (size_t i0 = 0; i0 < rows; i0 += TIDE_TR_TI) {                                          \
    const size_t r = rows - i0 < TIDE_TR_TI ? rows - i0 : TIDE_TR_TI, rw = r - r % W;         \
    for (size_t j0 = 0; j0 < cols; j0 += TIDE_TR_TJ) {                                        \
      const size_t c = cols - j0 < TIDE_TR_TJ ? cols - j0 : TIDE_TR_TJ, cw = c - c % W;       \
      const T *bt = b + j0 * ldb + i0;                                                        \
      /* a's first rows of the tile, on their way while b's tile is transposed */             \
      if (a != NULL)                                                                          \
        for (size_t q = 0; q < TIDE_TR_AHEAD && q < r; q++)                                   \
          TIDE_TR_PREFETCH(a + (i0 + q) * lda + j0, c * sizeof(T), 3)                         \
      /* buf[ii][jj] = b[j0+jj][i0+ii]: along b's rows, so each is one run */                 \
      for (size_t jj = 0; jj < cw; jj += W) {                                                 \
        /* the next W runs of b, into L2, while these are transposed */                       \
        for (size_t q = jj + W; q < jj + 2 * W && q < c; q++)                                 \
          TIDE_TR_PREFETCH(bt + q * ldb, r * sizeof(T), 2)                                    \
        for (size_t ii = 0; ii < rw; ii += W)                                                 \
          TRANSPOSE(bt + jj * ldb + ii, ldb, buf + ii * TIDE_TR_TJ + jj, TIDE_TR_TJ);         \
      }                                                                                       \
      for (size_t jj = 0; jj < c; jj++)                                                       \
        for (size_t ii = jj < cw ? rw : 0; ii < r; ii++) buf[ii * TIDE_TR_TJ + jj] = bt[jj * ldb + ii]; \
      TIDE_TR_ROWS(T, VT, VTU, IT, W)                                                         \
    }                                                                                         \
  }                                                                                           \
  if (stream) TIDE_SFENCE();
#endif

TIDE_TGT void TIDE_FN(binary_tr_f32)(int op, const float *a, size_t lda, const float *b, size_t ldb,
                                     float *y, size_t ldy, size_t rows, size_t cols) {
  typedef float v8 __attribute__((vector_size(32)));
  typedef float v8u __attribute__((vector_size(32), aligned(4)));
  typedef int i8v __attribute__((vector_size(32)));
  TIDE_TR_TILES(float, v8, v8u, i8v, 8, TIDE_FN(tr8x8_f32), TIDE_NT_MIN)
}

TIDE_TGT void TIDE_FN(binary_tr_f64)(int op, const double *a, size_t lda, const double *b, size_t ldb,
                                     double *y, size_t ldy, size_t rows, size_t cols) {
  typedef double v4 __attribute__((vector_size(32)));
  typedef double v4u __attribute__((vector_size(32), aligned(8)));
  typedef long long i4v __attribute__((vector_size(32)));
  TIDE_TR_TILES(double, v4, v4u, i4v, 4, TIDE_FN(tr4x4_f64), TIDE_NT_MIN / 2)
}
