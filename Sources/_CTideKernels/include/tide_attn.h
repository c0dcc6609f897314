// Attention block kernels (f32): the small GEMMs and row softmax of the fused
// scaled-dot-product attention in TideNN/Attention.swift.
//
// Why not BLAS: the attention blocks are 64-256 on a side with an inner dimension of 64. At
// that size OpenBLAS spends a third of its time outside the FMA loop (packing both operands,
// zeroing C for beta = 0, per-call dispatch), and one operand of every product is used in
// several blocks, so it can be laid out once per head instead of once per call.
#ifndef TIDE_ATTN_H
#define TIDE_ATTN_H
#include <stddef.h>

// C (m x n, row stride ldc) = rowscale[i] * C + alpha * A B        when accumulate != 0
//                          = alpha * A B                            when accumulate == 0
// with A[i, p] = a[i * sai + p * sak] (so A or its transpose, row-major; rowscale may be
// NULL = 1) and B in packed panels (tide_attn_pack_f32): B[p, j] = b[(j / 16) * bps + p * 16 + j % 16].
// A block of a packed matrix of K rows: rows from p0 are b + 16 p0 with bps = 16 K; columns
// from j0 (a multiple of 16) are b + (j0 / 16) bps.
//
// tri, d: the causal triangle of a block on the diagonal, where row i of the scores sees
// columns j <= i + d. It only skips work whose result is zero or masked afterwards:
//   TIDE_ATTN_TRI_OUT   C is scores-shaped: tiles with every j > i + d are not computed
//                       (set to 0 when not accumulating; the caller masks them)
//   TIDE_ATTN_TRI_KEND  A is scores-shaped (P, dS: zero past the triangle): row i sums p <= i + d
//   TIDE_ATTN_TRI_KBEG  A is a transposed score block (P^T, dS^T): row i sums p >= i - d
//   TIDE_ATTN_TRI_NONE  the whole product
enum { TIDE_ATTN_TRI_NONE = 0, TIDE_ATTN_TRI_OUT = 1, TIDE_ATTN_TRI_KEND = 2, TIDE_ATTN_TRI_KBEG = 3 };
void tide_attn_gemm_f32(size_t m, size_t n, size_t k, float alpha,
                        const float *a, ptrdiff_t sai, ptrdiff_t sak,
                        const float *b, size_t bps,
                        int accumulate, const float *rowscale,
                        float *c, size_t ldc, int tri, ptrdiff_t d);

// Packs B (k x n), B[p, j] = src[p * sp + j * sj], into panels of 16 columns: panel t holds
// rows 0..k of columns 16t..16t+16 contiguously (16 k floats), zero-padded past n. The
// microkernel then reads B at unit stride whatever the source strides (a transposed K, a
// head-interleaved (B, N, H, D) layout whose power-of-two row stride would thrash L1).
void tide_attn_pack_f32(const float *src, ptrdiff_t sp, ptrdiff_t sj, size_t k, size_t n, float *dst);

// The two softmax kernels take scores in base-2 units (the caller folds log2(e) into the
// score scale): 2^x costs fewer instructions than e^x, and e^(x - m) = 2^(x log2 e - m log2 e).
//
// Online-softmax step over a block of scores S (rows x cols, row stride ld): for each row r,
// mnew = max(m[r], max_c S[r, c]); S[r, c] = 2^(S[r, c] - mnew);
// alpha[r] = 2^(m[r] - mnew) (the factor for what was accumulated before);
// l[r] = l[r] * alpha[r] + sum_c S[r, c]; m[r] = mnew.
// A row with no finite score so far becomes zeros with alpha[r] = 1.
void tide_attn_online_softmax_f32(float *S, size_t rows, size_t cols, size_t ld,
                                  float *m, float *l, float *alpha);

// P[r, c] = 2^(S[r, c] - shift[r]) in place; a row whose shift is -inf becomes zeros.
void tide_attn_exp_rows_f32(float *S, size_t rows, size_t cols, size_t ld, const float *shift);

#endif
