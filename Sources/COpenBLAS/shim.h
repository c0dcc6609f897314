// OpenBLAS's CBLAS plus Tide's own prototypes of the LAPACK Fortran routines it calls.
// Debian's OpenBLAS is built with NO_LAPACKE, but libopenblas exports the Fortran symbols.
// Every `char*` argument of a Fortran routine has a hidden trailing length argument
// (size_t, gfortran ABI); these prototypes spell them out and callers must pass 1.
#include <stddef.h>
#include <cblas.h>

typedef int tide_lapack_int;

void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

// LU: getrf / getrs / getri
#define TIDE_LAPACK_LU(P, T) \
void P##getrf_(const int *m, const int *n, T *a, const int *lda, int *ipiv, int *info); \
void P##getrs_(const char *trans, const int *n, const int *nrhs, const T *a, const int *lda, \
               const int *ipiv, T *b, const int *ldb, int *info, size_t trans_len); \
void P##getri_(const int *n, T *a, const int *lda, const int *ipiv, T *work, const int *lwork, int *info);
TIDE_LAPACK_LU(s, float)
TIDE_LAPACK_LU(d, double)
TIDE_LAPACK_LU(c, void)
TIDE_LAPACK_LU(z, void)

// Cholesky
#define TIDE_LAPACK_CHOL(P, T) \
void P##potrf_(const char *uplo, const int *n, T *a, const int *lda, int *info, size_t uplo_len);
TIDE_LAPACK_CHOL(s, float)
TIDE_LAPACK_CHOL(d, double)
TIDE_LAPACK_CHOL(c, void)
TIDE_LAPACK_CHOL(z, void)

// QR
void sgeqrf_(const int *m, const int *n, float *a, const int *lda, float *tau, float *work, const int *lwork, int *info);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work, const int *lwork, int *info);
void cgeqrf_(const int *m, const int *n, void *a, const int *lda, void *tau, void *work, const int *lwork, int *info);
void zgeqrf_(const int *m, const int *n, void *a, const int *lda, void *tau, void *work, const int *lwork, int *info);
void sorgqr_(const int *m, const int *n, const int *k, float *a, const int *lda, const float *tau, float *work, const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau, double *work, const int *lwork, int *info);
void cungqr_(const int *m, const int *n, const int *k, void *a, const int *lda, const void *tau, void *work, const int *lwork, int *info);
void zungqr_(const int *m, const int *n, const int *k, void *a, const int *lda, const void *tau, void *work, const int *lwork, int *info);

// SVD (divide and conquer)
void sgesdd_(const char *jobz, const int *m, const int *n, float *a, const int *lda, float *s, float *u, const int *ldu,
             float *vt, const int *ldvt, float *work, const int *lwork, int *iwork, int *info, size_t jobz_len);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u, const int *ldu,
             double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info, size_t jobz_len);
void cgesdd_(const char *jobz, const int *m, const int *n, void *a, const int *lda, float *s, void *u, const int *ldu,
             void *vt, const int *ldvt, void *work, const int *lwork, float *rwork, int *iwork, int *info, size_t jobz_len);
void zgesdd_(const char *jobz, const int *m, const int *n, void *a, const int *lda, double *s, void *u, const int *ldu,
             void *vt, const int *ldvt, void *work, const int *lwork, double *rwork, int *iwork, int *info, size_t jobz_len);

// Symmetric / Hermitian eigendecomposition (divide and conquer)
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w, float *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
void cheevd_(const char *jobz, const char *uplo, const int *n, void *a, const int *lda, float *w, void *work,
             const int *lwork, float *rwork, const int *lrwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);
void zheevd_(const char *jobz, const char *uplo, const int *n, void *a, const int *lda, double *w, void *work,
             const int *lwork, double *rwork, const int *lrwork, int *iwork, const int *liwork, int *info,
             size_t jobz_len, size_t uplo_len);

// Least squares (SVD based)
void sgelsd_(const int *m, const int *n, const int *nrhs, float *a, const int *lda, float *b, const int *ldb, float *s,
             const float *rcond, int *rank, float *work, const int *lwork, int *iwork, int *info);
void dgelsd_(const int *m, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb, double *s,
             const double *rcond, int *rank, double *work, const int *lwork, int *iwork, int *info);
void cgelsd_(const int *m, const int *n, const int *nrhs, void *a, const int *lda, void *b, const int *ldb, float *s,
             const float *rcond, int *rank, void *work, const int *lwork, float *rwork, int *iwork, int *info);
void zgelsd_(const int *m, const int *n, const int *nrhs, void *a, const int *lda, void *b, const int *ldb, double *s,
             const double *rcond, int *rank, void *work, const int *lwork, double *rwork, int *iwork, int *info);
