/* gemm.c - pool-parallel SGEMM (see gemm.h). */
#include "gemm.h"

#include <cblas.h>

typedef struct GemmJob {
    CBLAS_TRANSPOSE ta, tb;
    int M, N, K;
    float alpha;
    const float *A;
    int lda;
    const float *B;
    int ldb;
    float beta;
    float *C;
    int ldc;
} GemmJob;

/* Where row i / column j of op(X) starts in X. */
static const float *op_row(const float *X, int ld, CBLAS_TRANSPOSE t, int i)
{
    return t == CblasNoTrans ? X + (long)i * ld : X + i;
}

static void gemm_task(void *arg, int ith, int nth)
{
    const GemmJob *j = arg;
    int b, e;
    if (j->M >= j->N) {
        pool_range(j->M, ith, nth, 16, &b, &e);
        if (b < e)
            cblas_sgemm(CblasRowMajor, j->ta, j->tb, e - b, j->N, j->K, j->alpha, op_row(j->A, j->lda, j->ta, b), j->lda,
                        j->B, j->ldb, j->beta, j->C + (long)b * j->ldc, j->ldc);
    } else {
        pool_range(j->N, ith, nth, 16, &b, &e);
        /* Column j of op(B) is row j of B when B is transposed. */
        const float *Bj = j->tb == CblasTrans ? j->B + (long)b * j->ldb : j->B + b;
        if (b < e)
            cblas_sgemm(CblasRowMajor, j->ta, j->tb, j->M, e - b, j->K, j->alpha, j->A, j->lda, Bj, j->ldb, j->beta,
                        j->C + b, j->ldc);
    }
}

static void run(Pool *p, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha, const float *A,
                int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    if (M <= 0 || N <= 0)
        return;
    GemmJob j = {ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
    /* Small products are not worth waking the threads for. */
    if ((double)M * N * K < 64.0 * 64 * 64)
        gemm_task(&j, 0, 1);
    else
        pool_run(p, gemm_task, &j);
}

void gemm_nt(Pool *p, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc)
{
    run(p, CblasNoTrans, CblasTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_nn(Pool *p, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc)
{
    run(p, CblasNoTrans, CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_tn(Pool *p, int M, int N, int K, float alpha, const float *A, int lda, const float *B, int ldb,
             float beta, float *C, int ldc)
{
    run(p, CblasTrans, CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
