/*  enclave_blas: the two CBLAS routines ml/'s model code calls (ml_model.c: cblas_ddot and
 *  cblas_dgemv), linked into genie-enclave itself so that the enclave never loads
 *  OpenBLAS: OpenBLAS's constructor starts worker threads before the enclave locks itself
 *  down, and the seccomp filter (applied to the loading thread) would either kill them or,
 *  worse, leave them unfiltered. The executable's own definitions resolve ml_model.o's
 *  references, so `--as-needed` drops libopenblas from the enclave's NEEDED list (the node
 *  and the tools keep OpenBLAS). Plain loops: the enclave's models are small (a linear
 *  model's dot products), and the results are the same sums in the same order as the
 *  reference BLAS.
 */
#include <cblas.h>
#include <stddef.h>

double cblas_ddot(const blasint n, const double *x, const blasint incx, const double *y,
                  const blasint incy)
{
    double s = 0.0;
    if (n <= 0)
        return s;
    blasint ix = incx < 0 ? (1 - n) * incx : 0, iy = incy < 0 ? (1 - n) * incy : 0;
    for (blasint i = 0; i < n; i++, ix += incx, iy += incy)
        s += x[ix] * y[iy];
    return s;
}

/* y = alpha * op(A) x + beta * y for an M x N matrix A (leading dimension LDA). */
void cblas_dgemv(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE trans, const blasint m,
                 const blasint n, const double alpha, const double *a, const blasint lda,
                 const double *x, const blasint incx, const double beta, double *y,
                 const blasint incy)
{
    if (m <= 0 || n <= 0)
        return;
    /* row-major A is column-major A^T: reduce to "does op(A) walk A's rows" */
    int t = trans != CblasNoTrans;
    int by_rows = (order == CblasRowMajor) != t;
    blasint rows = t ? n : m, cols = t ? m : n; /* op(A) is rows x cols */
    blasint iy = incy < 0 ? (1 - rows) * incy : 0;
    blasint x0 = incx < 0 ? (1 - cols) * incx : 0;
    for (blasint i = 0; i < rows; i++, iy += incy) {
        double s = 0.0;
        blasint ix = x0;
        for (blasint j = 0; j < cols; j++, ix += incx) {
            /* element (i, j) of op(A) */
            double aij = by_rows ? a[(size_t)i * (size_t)lda + (size_t)j]
                                 : a[(size_t)j * (size_t)lda + (size_t)i];
            s += aij * x[ix];
        }
        y[iy] = alpha * s + (beta == 0.0 ? 0.0 : beta * y[iy]);
    }
}
