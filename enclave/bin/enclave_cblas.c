/*  enclave_cblas: the CBLAS routines ml/ calls, serial and in plain C, linked into the
 *  genie-enclave program only.
 *
 *  Why: ml/ (ml_model_predict, the fits) calls CBLAS, which the rest of genie gets from
 *  OpenBLAS. Loaded into an enclave, OpenBLAS's constructor starts worker threads before
 *  the process locks itself down (so they run outside the seccomp filter, which binds only
 *  the thread that installs it), and its destructor wakes and joins them with futex, which
 *  the filter forbids. Defined here, in an object of the program itself, these symbols
 *  resolve ml/'s references before the linker reaches libopenblas, which --as-needed then
 *  leaves out: the enclave stays one thread (CMakeLists.txt checks it has no libopenblas).
 *
 *  Semantics are the reference BLAS's for real double precision (row- and column-major,
 *  any increment; beta == 0 does not read Y or C). No threads, no system calls.
 */
#include <cblas.h>
#include <math.h>
#include <stddef.h>

/* Offset of element I of a vector of N elements with increment INC (BLAS's convention: a
   negative increment walks the vector backwards from its last element). */
static ptrdiff_t s_ix(blasint i, blasint n, blasint inc)
{
    ptrdiff_t start = inc < 0 ? (ptrdiff_t)(1 - n) * inc : 0;
    return start + (ptrdiff_t)i * inc;
}

/* Element (I, J) of the matrix A with leading dimension LDA in ORDER. */
static ptrdiff_t s_at(enum CBLAS_ORDER order, blasint i, blasint j, blasint lda)
{
    return order == CblasRowMajor ? (ptrdiff_t)i * lda + j : (ptrdiff_t)j * lda + i;
}

double cblas_ddot(const blasint n, const double *x, const blasint incx, const double *y,
                  const blasint incy)
{
    double s = 0;
    for (blasint i = 0; i < n; i++)
        s += x[s_ix(i, n, incx)] * y[s_ix(i, n, incy)];
    return s;
}

double cblas_dnrm2(const blasint N, const double *X, const blasint incX)
{
    /* scaled, as the reference does, so a large or tiny vector neither overflows nor
       underflows */
    double scale = 0, ssq = 1;
    if (N < 1 || incX < 1)
        return 0;
    for (blasint i = 0; i < N; i++) {
        double a = fabs(X[(ptrdiff_t)i * incX]);
        if (a == 0)
            continue;
        if (scale < a) {
            ssq = 1 + ssq * (scale / a) * (scale / a);
            scale = a;
        } else {
            ssq += (a / scale) * (a / scale);
        }
    }
    return scale * sqrt(ssq);
}

void cblas_daxpy(const blasint n, const double alpha, const double *x, const blasint incx,
                 double *y, const blasint incy)
{
    if (alpha == 0)
        return;
    for (blasint i = 0; i < n; i++)
        y[s_ix(i, n, incy)] += alpha * x[s_ix(i, n, incx)];
}

void cblas_dscal(const blasint N, const double alpha, double *X, const blasint incX)
{
    if (incX < 1)
        return;
    for (blasint i = 0; i < N; i++)
        X[(ptrdiff_t)i * incX] *= alpha;
}

void cblas_dgemv(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE trans, const blasint m,
                 const blasint n, const double alpha, const double *a, const blasint lda,
                 const double *x, const blasint incx, const double beta, double *y,
                 const blasint incy)
{
    int t = trans == CblasTrans || trans == CblasConjTrans;
    blasint ylen = t ? n : m, xlen = t ? m : n;
    for (blasint i = 0; i < ylen; i++) {
        double s = 0;
        for (blasint j = 0; j < xlen; j++)
            s += a[t ? s_at(order, j, i, lda) : s_at(order, i, j, lda)] * x[s_ix(j, xlen, incx)];
        double *yi = &y[s_ix(i, ylen, incy)];
        *yi = (beta == 0 ? 0 : beta * *yi) + alpha * s;
    }
}

void cblas_dsyr(const enum CBLAS_ORDER order, const enum CBLAS_UPLO Uplo, const blasint N,
                const double alpha, const double *X, const blasint incX, double *A,
                const blasint lda)
{
    for (blasint i = 0; i < N; i++)
        for (blasint j = 0; j < N; j++)
            if (Uplo == CblasUpper ? j >= i : j <= i)
                A[s_at(order, i, j, lda)] += alpha * X[s_ix(i, N, incX)] * X[s_ix(j, N, incX)];
}

void cblas_dsyrk(const enum CBLAS_ORDER Order, const enum CBLAS_UPLO Uplo,
                 const enum CBLAS_TRANSPOSE Trans, const blasint N, const blasint K,
                 const double alpha, const double *A, const blasint lda, const double beta,
                 double *C, const blasint ldc)
{
    int t = Trans == CblasTrans || Trans == CblasConjTrans;
    for (blasint i = 0; i < N; i++) {
        for (blasint j = 0; j < N; j++) {
            if (Uplo == CblasUpper ? j < i : j > i)
                continue;
            double s = 0;
            for (blasint l = 0; l < K; l++)
                s += t ? A[s_at(Order, l, i, lda)] * A[s_at(Order, l, j, lda)]
                       : A[s_at(Order, i, l, lda)] * A[s_at(Order, j, l, lda)];
            double *c = &C[s_at(Order, i, j, ldc)];
            *c = (beta == 0 ? 0 : beta * *c) + alpha * s;
        }
    }
}
