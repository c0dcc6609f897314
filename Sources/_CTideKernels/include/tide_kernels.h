// _CTideKernels: Tide's compute kernels in C, plus the process-wide cancel flag.
// No stable API: only TideCore calls these.
//
// Why C: Swift's default x86-64 target emits SSE only and package flags cannot change that
// without unsafeFlags. Each kernel here is compiled for AVX2+FMA (and a portable fallback)
// through per-function target attributes and chosen once at run time.
#ifndef TIDE_KERNELS_H
#define TIDE_KERNELS_H
#include <stddef.h>
#include <stdint.h>

// ---- cancellation (set from a SIGINT handler; long kernels poll it) -------------------
int tide_cancel_requested(void);
void tide_cancel_clear(void);
void tide_cancel_set(void);

// ---- autograd grad mode (thread-local; on by default) ----------------------------------
int tide_grad_enabled(void);
void tide_grad_set_enabled(int on);


// ---- tensor bytes allocated since the Lua collector was last told (see TensorUserdata) ----
void tide_alloc_note(size_t bytes);
size_t tide_alloc_take(void);  // returns the count and resets it
// live tensor bytes (all storages not yet freed)
void tide_live_add(long long delta);
long long tide_live_bytes(void);

// ---- elementwise and reduction kernels (contiguous buffers) ---------------------------
enum { TIDE_OP_ADD = 0, TIDE_OP_SUB, TIDE_OP_MUL, TIDE_OP_DIV, TIDE_OP_MAX, TIDE_OP_MIN, TIDE_OP_POW };  // POW: binary only (not the transposed kernel)
// mode: both vectors, vector with scalar b[0], or scalar a[0] with vector; binary's mode may
// add TIDE_MODE_STREAM: store y with streaming stores (the caller's choice: a working set
// bigger than the last-level cache, y not an input)
enum { TIDE_MODE_VV = 0, TIDE_MODE_VS = 1, TIDE_MODE_SV = 2, TIDE_MODE_STREAM = 4 };
enum { TIDE_UN_EXP = 0, TIDE_UN_TANH, TIDE_UN_SIGMOID, TIDE_UN_SILU, TIDE_UN_GELU, TIDE_UN_GELU_TANH,
       TIDE_UN_RELU, TIDE_UN_NEG, TIDE_UN_ABS, TIDE_UN_SQRT, TIDE_UN_SQUARE, TIDE_UN_LOG,
       TIDE_UN_SIN, TIDE_UN_COS };

void tide_binary_f32(int op, const float *a, const float *b, float *y, size_t n, int mode);
void tide_binary_f64(int op, const double *a, const double *b, double *y, size_t n, int mode);
void tide_unary_f32(int op, const float *x, float *y, size_t n);
// as tide_unary_f32, with streaming stores of y for the cheap ops (neg abs relu sqrt square)
void tide_unary_f32_stream(int op, const float *x, float *y, size_t n);
// y[i*ldy + j] = a[i*lda + j] op b[j*ldb + i] over rows x cols (b read transposed; binary ops
// only); a == NULL copies b transposed. y must not overlap b.
void tide_binary_tr_f32(int op, const float *a, size_t lda, const float *b, size_t ldb, float *y, size_t ldy, size_t rows, size_t cols);
void tide_binary_tr_f64(int op, const double *a, size_t lda, const double *b, size_t ldb, double *y, size_t ldy, size_t rows, size_t cols);
// y[i] = a[i] op b[i] as 0/1 bytes (modes as for binary); NaN is unequal to everything
enum { TIDE_CMP_EQ = 0, TIDE_CMP_NE, TIDE_CMP_LT, TIDE_CMP_LE, TIDE_CMP_GT, TIDE_CMP_GE };
void tide_compare_f32(int op, const float *a, const float *b, uint8_t *y, size_t n, int mode);
void tide_compare_f64(int op, const double *a, const double *b, uint8_t *y, size_t n, int mode);
// out = g * op'(x) for EXP TANH SIGMOID RELU SILU GELU GELU_TANH (y = op(x)).
void tide_unary_grad_f32(int op, const float *x, const float *y, const float *g, float *out, size_t n);
// x[i] = exp(x[i] - shift) in place, returning the sum; the max of x (NaN if any).
float tide_exp_shift_f32(float *x, size_t n, float shift);
float tide_max_f32(const float *x, size_t n);
double tide_sum_f32(const float *x, size_t n);
double tide_sum_f64(const double *x, size_t n);
// y[r, :] = softmax(x[r, :]) (or log_softmax when log != 0) for rows of length n.
void tide_softmax_rows_f32(const float *x, float *y, size_t rows, size_t n, int log);

// ---- reductions over one axis of a dense block (reduce_kernels.c) ----------------------
// x[o][r][i] with element (o, r, i) at x[(o*R + r)*ld + i] (i < I <= ld), reduced over r into
// out[o*ld + i]. I == 1 with ld == 1 reduces contiguous rows. max/min propagate NaN (the arg
// forms give the first NaN's index); ties give the first index; R == 0 gives 0 for sums, 1 for
// products and NaN otherwise (callers reject empty max/min).
enum { TIDE_RED_SUM = 0, TIDE_RED_MEAN, TIDE_RED_PROD, TIDE_RED_MAX, TIDE_RED_MIN };
void tide_reduce_f32(int op, const float *x, float *out, size_t O, size_t R, size_t I, size_t ld);
void tide_reduce_f64(int op, const double *x, double *out, size_t O, size_t R, size_t I, size_t ld);
// y (laid out like x) = running sum, or product when `product`, over r, each in order
void tide_scan_f32(int product, const float *x, float *y, size_t O, size_t R, size_t I, size_t ld);
void tide_scan_f64(int product, const double *x, double *y, size_t O, size_t R, size_t I, size_t ld);
// values and 0-based indices of the max (is_max) or min over r; R >= 1
void tide_argreduce_f32(int is_max, const float *x, float *val, int64_t *idx, size_t O, size_t R, size_t I, size_t ld);
void tide_argreduce_f64(int is_max, const double *x, double *val, int64_t *idx, size_t O, size_t R, size_t I, size_t ld);

// Instruction-set level: 0 portable, 1 AVX2+FMA. Chosen once from the CPU; tests force each
// level in turn to check the variants against each other.
int tide_kernel_level(void);
int tide_kernel_best_level(void);
int tide_set_kernel_level(int level);  // clamps to what the CPU supports; returns the level set

#endif
