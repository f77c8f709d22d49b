/*  test_enclave_cblas: the serial CBLAS of the enclave program (enclave/bin/enclave_cblas.c)
 *  against OpenBLAS, the library the rest of genie uses.
 *
 *  The shim's functions are compiled here under other names (shim_*) beside OpenBLAS's.
 *  Shows: ddot, dnrm2, daxpy, dscal, dgemv (row- and column-major, plain and transposed,
 *  beta 0 with NaN in Y, beta 1), dsyr and dsyrk (upper and lower, plain and transposed),
 *  with unit and larger increments, agree with OpenBLAS to 1e-12 relative, on random
 *  shapes and values from a printed seed; dnrm2 of huge and tiny values neither overflows
 *  nor underflows.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

double shim_ddot(blasint n, const double *x, blasint incx, const double *y, blasint incy);
double shim_dnrm2(blasint N, const double *X, blasint incX);
void shim_daxpy(blasint n, double alpha, const double *x, blasint incx, double *y, blasint incy);
void shim_dscal(blasint N, double alpha, double *X, blasint incX);
void shim_dgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, blasint m, blasint n,
                double alpha, const double *a, blasint lda, const double *x, blasint incx,
                double beta, double *y, blasint incy);
void shim_dsyr(enum CBLAS_ORDER order, enum CBLAS_UPLO Uplo, blasint N, double alpha,
               const double *X, blasint incX, double *A, blasint lda);
void shim_dsyrk(enum CBLAS_ORDER Order, enum CBLAS_UPLO Uplo, enum CBLAS_TRANSPOSE Trans, blasint N,
                blasint K, double alpha, const double *A, blasint lda, double beta, double *C,
                blasint ldc);

#define cblas_ddot shim_ddot
#define cblas_dnrm2 shim_dnrm2
#define cblas_daxpy shim_daxpy
#define cblas_dscal shim_dscal
#define cblas_dgemv shim_dgemv
#define cblas_dsyr shim_dsyr
#define cblas_dsyrk shim_dsyrk
#include "../../../enclave/bin/enclave_cblas.c" /* NOLINT(bugprone-suspicious-include) */
#undef cblas_ddot
#undef cblas_dnrm2
#undef cblas_daxpy
#undef cblas_dscal
#undef cblas_dgemv
#undef cblas_dsyr
#undef cblas_dsyrk

#define N_MAX 40

static double s_rand(void)
{
    return (double)rand() / RAND_MAX * 4.0 - 2.0;
}

static void s_fill(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = s_rand();
}

static bool s_same(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= 1e-12 * (1 + fabs(b[i]))))
            return false;
    return true;
}

static void s_test_level1(void)
{
    double x[3 * N_MAX], y[3 * N_MAX], y2[3 * N_MAX];
    for (int round = 0; round < 50; round++) {
        blasint n = 1 + rand() % N_MAX, inc = 1 + rand() % 3;
        s_fill(x, 3 * N_MAX);
        s_fill(y, 3 * N_MAX);
        memcpy(y2, y, sizeof y);
        double a = s_rand();
        double d1 = shim_ddot(n, x, inc, y, 1), d2 = cblas_ddot(n, x, inc, y, 1);
        CHECK(s_same(&d1, &d2, 1));
        d1 = shim_dnrm2(n, x, inc);
        d2 = cblas_dnrm2(n, x, inc);
        CHECK(s_same(&d1, &d2, 1));
        shim_daxpy(n, a, x, inc, y, 1);
        cblas_daxpy(n, a, x, inc, y2, 1);
        CHECK(s_same(y, y2, 3 * N_MAX));
        shim_dscal(n, a, y, inc);
        cblas_dscal(n, a, y2, inc);
        CHECK(s_same(y, y2, 3 * N_MAX));
    }
    double big[3] = {1e200, 1e200, 1e200}, tiny[2] = {3e-200, 4e-200};
    CHECK(fabs(shim_dnrm2(3, big, 1) / (sqrt(3.0) * 1e200) - 1) < 1e-15);
    CHECK(fabs(shim_dnrm2(2, tiny, 1) / 5e-200 - 1) < 1e-15);
}

static void s_test_dgemv(void)
{
    static double a[N_MAX * N_MAX], x[3 * N_MAX], y[3 * N_MAX], y2[3 * N_MAX];
    const enum CBLAS_ORDER orders[2] = {CblasRowMajor, CblasColMajor};
    const enum CBLAS_TRANSPOSE trans[2] = {CblasNoTrans, CblasTrans};
    for (int round = 0; round < 80; round++) {
        blasint m = 1 + rand() % 20, n = 1 + rand() % 20, incx = 1 + rand() % 2;
        enum CBLAS_ORDER o = orders[round % 2];
        enum CBLAS_TRANSPOSE t = trans[(round / 2) % 2];
        blasint lda = (o == CblasRowMajor ? n : m) + rand() % 3;
        double alpha = s_rand(), beta = round % 3 == 0 ? 0.0 : s_rand();
        s_fill(a, N_MAX * N_MAX);
        s_fill(x, 3 * N_MAX);
        s_fill(y, 3 * N_MAX);
        if (beta == 0.0)
            for (size_t i = 0; i < 3 * N_MAX; i++)
                y[i] = NAN; /* beta 0: Y is not read */
        memcpy(y2, y, sizeof y);
        shim_dgemv(o, t, m, n, alpha, a, lda, x, incx, beta, y, 1);
        cblas_dgemv(o, t, m, n, alpha, a, lda, x, incx, beta, y2, 1);
        blasint ylen = t == CblasNoTrans ? m : n;
        CHECK(s_same(y, y2, (size_t)ylen));
    }
}

static void s_test_dsyr_dsyrk(void)
{
    static double a[N_MAX * N_MAX], c[N_MAX * N_MAX], c2[N_MAX * N_MAX], x[3 * N_MAX];
    const enum CBLAS_ORDER orders[2] = {CblasRowMajor, CblasColMajor};
    const enum CBLAS_UPLO uplos[2] = {CblasUpper, CblasLower};
    const enum CBLAS_TRANSPOSE trans[2] = {CblasNoTrans, CblasTrans};
    for (int round = 0; round < 80; round++) {
        blasint n = 1 + rand() % 15, k = 1 + rand() % 15, inc = 1 + rand() % 2;
        enum CBLAS_ORDER o = orders[round % 2];
        enum CBLAS_UPLO u = uplos[(round / 2) % 2];
        enum CBLAS_TRANSPOSE t = trans[(round / 4) % 2];
        blasint ldc = n + rand() % 3;
        double alpha = s_rand(), beta = round % 5 == 0 ? 0.0 : s_rand();
        s_fill(c, N_MAX * N_MAX);
        memcpy(c2, c, sizeof c);
        s_fill(x, 3 * N_MAX);
        shim_dsyr(o, u, n, alpha, x, inc, c, ldc);
        cblas_dsyr(o, u, n, alpha, x, inc, c2, ldc);
        CHECK(s_same(c, c2, N_MAX * N_MAX));
        /* A is n x k (NoTrans) or k x n (Trans), in order O */
        blasint rows = t == CblasNoTrans ? n : k, cols = t == CblasNoTrans ? k : n;
        blasint lda = (o == CblasRowMajor ? cols : rows) + rand() % 3;
        s_fill(a, N_MAX * N_MAX);
        shim_dsyrk(o, u, t, n, k, alpha, a, lda, beta, c, ldc);
        cblas_dsyrk(o, u, t, n, k, alpha, a, lda, beta, c2, ldc);
        CHECK(s_same(c, c2, N_MAX * N_MAX));
    }
}

int main(void)
{
    uint64_t seed = testutil_seed("test_enclave_cblas");
    srand((unsigned)seed);
    s_test_level1();
    s_test_dgemv();
    s_test_dsyr_dsyrk();
    return testutil_done("test_enclave_cblas");
}
