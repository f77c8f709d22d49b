/*  ml_prs: PRS training (marginal screen + blocked joint ridge on int8 dosages) and
 *  application with allele matching (see ml_prs.h). The scoring-file parser is in
 *  ml_prs_tsv.c. */
#include "ml/ml_prs.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_linear.h"

#define S_BLOCK_ROWS 256
#define S_APPLY_BLOCK 2048 /* terms per pass in ml_prs_apply: 40 KiB of weights and counters */
#define S_LANES 8          /* independent partial sums per sample while scoring */

ml_dosage_view_t ml_dosage_view_geno(const ml_geno_t *g)
{
    return (ml_dosage_view_t){.n = g->n_samples,
                              .m = g->n_snps,
                              .dosage = g->dosage,
                              .rsids = g->rsids,
                              .ref = g->ref,
                              .alt = g->alt};
}

ml_dosage_view_t ml_dosage_view_cohort(const ml_cohort_t *c)
{
    return (ml_dosage_view_t){.n = c->n_samples,
                              .m = c->n_snps,
                              .dosage = c->dosage,
                              .rsids = c->rsids,
                              .ref1 = c->ref,
                              .alt1 = c->alt};
}

/* Allele J of the view as a string: single letters are copied into BUF[2]. */
static const char *s_allele(const ml_dosage_view_t *g, size_t j, int alt, char buf[2])
{
    const char *one = alt ? g->alt1 : g->ref1;
    char *const *str = alt ? g->alt : g->ref;
    if (one) {
        buf[0] = one[j];
        buf[1] = '\0';
        return buf;
    }
    return str ? str[j] : "";
}

static bool s_view_ok(const ml_dosage_view_t *g)
{
    return g && g->dosage && g->rsids && ((g->ref1 && g->alt1) || (g->ref && g->alt));
}

/* Per-SNP marginal statistics from one row-major pass over the dosages. */
typedef struct {
    double mean, sd, z;
    size_t j;
} s_snp_t;

static int s_cmp_absz_desc(const void *a, const void *b)
{
    double x = fabs(((const s_snp_t *)a)->z), y = fabs(((const s_snp_t *)b)->z);
    if (x != y)
        return x < y ? 1 : -1;
    size_t i = ((const s_snp_t *)a)->j, k = ((const s_snp_t *)b)->j;
    return (i > k) - (i < k);
}

static int s_cmp_col(const void *a, const void *b)
{
    size_t i = ((const s_snp_t *)a)->j, k = ((const s_snp_t *)b)->j;
    return (i > k) - (i < k);
}

/* |z| above which a two-sided normal p-value is below P (bisection on erfc). */
static double s_z_threshold(double p)
{
    double lo = 0.0, hi = 40.0;
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (erfc(mid / sqrt(2.0)) > p)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* Fills S (M entries) with every SNP's mean, sd (mean-imputed, divisor n) and marginal z
   against the centred phenotype YC. Returns 0 or ML_E_ARG for a dosage outside -1..2. */
static int s_marginal(const ml_dosage_view_t *g, const double *yc, double sdy, s_snp_t *s,
                      size_t *row_err)
{
    size_t n = g->n, m = g->m;
    int rc = 0;
    uint32_t *miss = calloc(m, sizeof *miss);
    int64_t *s1 = calloc(m, sizeof *s1), *s2 = calloc(m, sizeof *s2);
    double *sxy = calloc(m, sizeof *sxy), *smy = calloc(m, sizeof *smy);
    if (!miss || !s1 || !s2 || !sxy || !smy) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const int8_t *row = g->dosage + i * m;
        double yi = yc[i];
        for (size_t j = 0; j < m; j++) {
            int d = row[j];
            if (d >= 0 && d <= 2) {
                s1[j] += d;
                s2[j] += d * d;
                sxy[j] += d * yi;
            } else if (d == -1) {
                miss[j]++;
                smy[j] += yi;
            } else {
                *row_err = i;
                rc = ML_E_ARG;
                goto out;
            }
        }
    }
    for (size_t j = 0; j < m; j++) {
        size_t nm = n - miss[j];
        s[j].j = j;
        s[j].z = 0.0;
        s[j].mean = nm ? (double)s1[j] / (double)nm : 0.0;
        double var = nm ? ((double)s2[j] - (double)nm * s[j].mean * s[j].mean) / (double)n : 0.0;
        s[j].sd = var > 1e-12 ? sqrt(var) : 0.0;
        if (s[j].sd == 0.0)
            continue;
        /* Sum over called samples of (d - mean) * yc; the imputed ones add nothing, and
           the centred phenotype sums to zero, so its called part is -smy. */
        double cov = (sxy[j] + s[j].mean * smy[j]) / (double)n;
        double r = cov / (s[j].sd * sdy);
        r = fmax(-0.999999999, fmin(0.999999999, r));
        s[j].z = r * sqrt((double)(n - 2) / (1.0 - r * r));
    }
out:
    free(miss);
    free(s1);
    free(s2);
    free(sxy);
    free(smy);
    return rc;
}

/* Joint ridge on the K selected SNPs SEL (sorted by column): accumulates the standardised
   Gram matrix and X'yc over blocks of rows and solves; BETA gets K standardised effects. */
static int s_joint(const ml_dosage_view_t *g, const double *yc, const s_snp_t *sel, size_t k,
                   double penalty, double *beta)
{
    size_t n = g->n, m = g->m;
    int rc = 0;
    double *gram = calloc(k * k, sizeof *gram);
    double *xb = malloc(S_BLOCK_ROWS * k * sizeof *xb);
    double *tab = malloc(4 * k * sizeof *tab);
    if (!gram || !xb || !tab) {
        rc = PROTO_E_NOMEM;
        goto out;
    }
    for (size_t t = 0; t < k; t++) {
        tab[4 * t] = 0.0; /* missing: the mean, standardised */
        for (int d = 0; d <= 2; d++)
            tab[4 * t + 1 + (size_t)d] = ((double)d - sel[t].mean) / sel[t].sd;
        beta[t] = 0.0;
    }
    for (size_t i0 = 0; i0 < n; i0 += S_BLOCK_ROWS) {
        size_t rows = n - i0 < S_BLOCK_ROWS ? n - i0 : S_BLOCK_ROWS;
        for (size_t r = 0; r < rows; r++) {
            const int8_t *row = g->dosage + (i0 + r) * m;
            double *x = xb + r * k;
            for (size_t t = 0; t < k; t++)
                x[t] = tab[4 * t + (size_t)(row[sel[t].j] + 1)];
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)k, (int)rows, 1.0, xb, (int)k, 1.0,
                    gram, (int)k);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)rows, (int)k, 1.0, xb, (int)k, yc + i0, 1, 1.0,
                    beta, 1);
    }
    for (size_t t = 0; t < k; t++)
        gram[t * k + t] += penalty;
    rc = ml_linear_solve_spd(gram, k, beta);
out:
    free(gram);
    free(xb);
    free(tab);
    return rc;
}

int ml_prs_train(const ml_dosage_view_t *g, const double *y, const ml_prs_opts_t *o,
                 ml_model_t **out, char *err, size_t cap)
{
    if (!s_view_ok(g) || !y || !out)
        return proto_err_fail(err, cap, ML_E_ARG, "NULL argument or view without alleles");
    size_t n = g->n, m = g->m;
    if (n < 3 || m == 0)
        return proto_err_fail(err, cap, ML_E_ARG, "%zu samples, %zu SNPs", n, m);
    double p_thr = o && o->p_threshold > 0 ? o->p_threshold : 5e-8;
    size_t max_snps = o && o->max_snps ? o->max_snps : 2000;
    double l2 = o && o->l2 != 0 ? o->l2 : 0.01;
    if (!(p_thr <= 1.0) || max_snps > 5000 || !isfinite(l2))
        return proto_err_fail(err, cap, ML_E_ARG, "invalid options");
    if (l2 < 0)
        l2 = 0;

    int rc = 0;
    ml_model_t *model = NULL;
    char **ids = NULL;
    double *w = NULL;
    size_t k = 0;
    double *yc = malloc(n * sizeof *yc);
    s_snp_t *snp = malloc(m * sizeof *snp);
    if (!yc || !snp) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    double ybar = 0.0, vy = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            rc = proto_err_fail(err, cap, ML_E_ARG, "phenotype %zu is not finite", i);
            goto out;
        }
        ybar += y[i];
    }
    ybar /= (double)n;
    for (size_t i = 0; i < n; i++) {
        yc[i] = y[i] - ybar;
        vy += yc[i] * yc[i];
    }
    double sdy = sqrt(vy / (double)n);
    if (!(sdy > 0)) {
        rc = proto_err_fail(err, cap, ML_E_NO_VARIANCE, "the phenotype is constant");
        goto out;
    }
    size_t bad_row = 0;
    rc = s_marginal(g, yc, sdy, snp, &bad_row);
    if (rc != 0) {
        rc = proto_err_fail(err, cap, rc, "%s (sample %zu)",
                            rc == ML_E_ARG ? "dosage outside -1..2" : "out of memory", bad_row);
        goto out;
    }
    double zthr = s_z_threshold(p_thr);
    qsort(snp, m, sizeof *snp, s_cmp_absz_desc);
    size_t passed = 0;
    while (passed < m && fabs(snp[passed].z) > zthr)
        passed++;
    if (passed == 0) {
        rc = proto_err_fail(err, cap, ML_E_EMPTY, "no SNP has p < %g (largest |z| %.2f)", p_thr,
                            fabs(snp[0].z));
        goto out;
    }
    k = passed < max_snps ? passed : max_snps;
    qsort(snp, k, sizeof *snp, s_cmp_col);
    w = malloc(k * sizeof *w);
    ids = calloc(k, sizeof *ids);
    if (!w || !ids) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    rc = s_joint(g, yc, snp, k, l2 * (double)n, w);
    if (rc != 0) {
        rc = proto_err_fail(err, cap, rc, "joint fit of %zu SNPs: %s", k, proto_err_str(rc));
        goto out;
    }
    double b = ybar;
    for (size_t t = 0; t < k; t++) {
        char abuf[2];
        const char *alt = s_allele(g, snp[t].j, 1, abuf);
        w[t] /= snp[t].sd; /* per ALT allele on the raw dosage scale */
        b -= w[t] * snp[t].mean;
        size_t len = strlen(g->rsids[snp[t].j]) + strlen(alt) + 2;
        ids[t] = malloc(len);
        if (!ids[t]) {
            rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
            goto out;
        }
        snprintf(ids[t], len, "%s:%s", g->rsids[snp[t].j], alt);
    }
    model = ml_model_new(ML_MODEL_PRS, k, ids, w, b);
    if (!model || ml_model_add_metric(model, "n_snps_screened_in", (double)passed) != 0) {
        rc = proto_err_fail(err, cap, ML_E_ARG, "model: bad rsid/allele or out of memory");
        goto out;
    }
    *out = model;
    model = NULL;
out:
    if (ids)
        for (size_t t = 0; t < k; t++)
            free(ids[t]);
    free(ids);
    free(w);
    free(snp);
    free(yc);
    ml_model_destroy(&model);
    return rc;
}

/* ---- applying ---- */

typedef struct {
    const char *id;
    size_t j;
} s_idx_t;

static int s_cmp_idx(const void *a, const void *b)
{
    return strcmp(((const s_idx_t *)a)->id, ((const s_idx_t *)b)->id);
}

typedef struct {
    size_t col;
    double w, c; /* contribution = c + w * dosage */
} s_term_t;

static int s_cmp_term(const void *a, const void *b)
{
    size_t i = ((const s_term_t *)a)->col, k = ((const s_term_t *)b)->col;
    return (i > k) - (i < k);
}

/* The two kernels below are built twice (AVX2 and the baseline) and picked at load time;
   both do the same operations in the same order, with no fused multiply-add, so a score
   is bit-for-bit the same on every x86-64 machine. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang_analyzer__)
#define S_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define S_CLONES
#endif

/* Four lanes of doubles (a GCC/Clang vector: the AVX2 clone uses one register, the
   baseline two), loadable from any double-aligned address. */
typedef double s_v4d __attribute__((vector_size(32), aligned(8), may_alias));

/* One sample's dosages X[0..LEN) against terms with weights W: adds W[t] * dosage for every
   called genotype to the partial sums ACC (term t to lane t % S_LANES, so the order of
   additions is fixed by the data alone), and counts missing calls (MISS) and called ALT
   alleles (SUM) per term. TMP holds LEN contributions: the first loop is the branch-free
   form GCC vectorises. Returns bit 0 set if a call is missing, bit 1 if a dosage is outside
   -1..2. */
S_CLONES static unsigned s_score_run(const int8_t *restrict x, size_t len, const double *restrict w,
                                     uint32_t *restrict miss, uint32_t *restrict sum,
                                     double *restrict acc, double *restrict tmp)
{
    unsigned missing = 0, bad = 0;
    for (size_t t = 0; t < len; t++) {
        int xi = x[t];
        int called = xi > 0 ? xi : 0, absent = xi < 0;
        tmp[t] = w[t] * (double)called;
        miss[t] += (uint32_t)absent;
        sum[t] += (uint32_t)called;
        missing |= (unsigned)absent;
        bad |= (unsigned)(xi < -1) | (unsigned)(xi > 2);
    }
    s_v4d a0 = *(const s_v4d *)acc, a1 = *(const s_v4d *)(acc + 4);
    size_t t = 0;
    for (; t + S_LANES <= len; t += S_LANES) {
        a0 += *(const s_v4d *)(tmp + t);
        a1 += *(const s_v4d *)(tmp + t + 4);
    }
    *(s_v4d *)acc = a0;
    *(s_v4d *)(acc + 4) = a1;
    for (size_t k = 0; t < len; t++, k++)
        acc[k] += tmp[t];
    return missing | bad << 1;
}

/* Sets bit T0 + t of BITS for every missing call (negative dosage) in X[0..LEN), eight
   calls at a time: the bytes' sign bits, gathered into one byte by a multiplication. */
static void s_missing_bits(const int8_t *x, size_t len, size_t t0, uint64_t *bits)
{
    size_t t = 0;
    for (; t + 8 <= len; t += 8) {
        uint64_t word;
        memcpy(&word, x + t, sizeof word);
        uint64_t sign = (word >> 7) & 0x0101010101010101ULL; /* byte k: 1 if call k is < 0 */
        if (!sign)
            continue;
        uint64_t byte = (sign * 0x0102040810204080ULL) >> 56; /* bit k = byte k's flag */
        size_t at = t0 + t;
        bits[at / 64] |= byte << (at % 64);
        if (at % 64 > 56)
            bits[at / 64 + 1] |= byte >> (64 - at % 64);
    }
    for (; t < len; t++)
        if (x[t] < 0)
            bits[(t0 + t) / 64] |= (uint64_t)1 << ((t0 + t) % 64);
}

/* A run of terms over consecutive columns: terms [t, t + len) read columns [col, col + len). */
typedef struct {
    size_t t, col, len;
} s_run_t;

/* Splits terms [T0, T1) (sorted by column) into runs of consecutive columns; returns how
   many were written to RUNS (at most T1 - T0). */
static size_t s_runs(const s_term_t *terms, size_t t0, size_t t1, s_run_t *runs)
{
    size_t nr = 0;
    for (size_t t = t0; t < t1;) {
        size_t e = t + 1;
        while (e < t1 && terms[e].col == terms[e - 1].col + 1)
            e++;
        runs[nr++] = (s_run_t){t, terms[t].col, e - t};
        t = e;
    }
    return nr;
}

/* Scores G's samples over the NT matched TERMS (sorted by column) into OUT, starting from
   B. One pass over the dosages, in blocks of S_APPLY_BLOCK terms so a block's weights and
   counters stay in cache while every sample is visited, adds the called genotypes'
   contributions, counts missing calls and called alleles per SNP, and marks missing calls in
   a bitmap (n x nt bits, made on the first); a missing call then takes the weight times the
   SNP's mean dosage (as plink2 --score does), added from the bitmap in term order. */
static int s_apply_terms(const ml_dosage_view_t *g, const s_term_t *terms, size_t nt, double b,
                         double *out, char *err, size_t cap)
{
    size_t n = g->n, m = g->m;
    if (n > UINT32_MAX / 2)
        return proto_err_fail(err, cap, ML_E_ARG, "%zu samples: too many to score at once", n);
    int rc = 0;
    size_t nb = nt < S_APPLY_BLOCK ? nt : S_APPLY_BLOCK,
           nblk = (nt + S_APPLY_BLOCK - 1) / S_APPLY_BLOCK;
    uint32_t *miss = calloc(nt, sizeof *miss), *sum = calloc(nt, sizeof *sum);
    double *w = malloc(nt * sizeof *w), *wm = malloc(nt * sizeof *wm);
    double *acc = calloc(n * S_LANES, sizeof *acc), *tmp = malloc(nb * sizeof *tmp);
    uint64_t *bits = NULL; /* per sample, a bit per term: missing call (made on the first) */
    size_t nwords = (nt + 63) / 64;
    s_run_t *runs = malloc(nt * sizeof *runs);
    size_t *blk = malloc((nblk + 1) * sizeof *blk); /* block k's runs: [blk[k], blk[k + 1]) */
    if (!miss || !sum || !w || !wm || !acc || !tmp || !runs || !blk) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    double base = b;
    for (size_t t = 0; t < nt; t++) {
        base += terms[t].c;
        w[t] = terms[t].w;
    }
    blk[0] = 0;
    for (size_t k = 0; k < nblk; k++) {
        size_t t0 = k * S_APPLY_BLOCK, t1 = nt - t0 < S_APPLY_BLOCK ? nt : t0 + S_APPLY_BLOCK;
        blk[k + 1] = blk[k] + s_runs(terms, t0, t1, runs + blk[k]);
    }
    for (size_t k = 0; k < nblk; k++) {
        for (size_t i = 0; i < n; i++) {
            const int8_t *row = g->dosage + i * m;
            for (size_t r = blk[k]; r < blk[k + 1]; r++) {
                const int8_t *x = row + runs[r].col;
                unsigned flags = s_score_run(x, runs[r].len, w + runs[r].t, miss + runs[r].t,
                                             sum + runs[r].t, acc + i * S_LANES, tmp);
                if (flags & 2u)
                    for (size_t c = 0; c < runs[r].len; c++)
                        if (x[c] < -1 || x[c] > 2) {
                            rc = proto_err_fail(err, cap, ML_E_ARG, "sample %zu: dosage %d", i,
                                                x[c]);
                            goto out;
                        }
                if (!(flags & 1u))
                    continue;
                if (!bits && !(bits = calloc(n * nwords, sizeof *bits))) {
                    rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
                    goto out;
                }
                s_missing_bits(x, runs[r].len, runs[r].t, bits + i * nwords);
            }
        }
    }
    for (size_t t = 0; t < nt; t++) {
        uint32_t called = (uint32_t)n - miss[t];
        wm[t] = called ? terms[t].w * ((double)sum[t] / (double)called) : 0.0;
    }
    for (size_t i = 0; i < n; i++) {
        const double *a = acc + i * S_LANES;
        out[i] = base + (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])));
        for (size_t q = 0; bits && q < nwords; q++)
            for (uint64_t word = bits[i * nwords + q]; word; word &= word - 1)
                out[i] += wm[q * 64 + (size_t)__builtin_ctzll(word)];
    }
out:
    free(blk);
    free(runs);
    free(bits);
    free(tmp);
    free(acc);
    free(wm);
    free(w);
    free(sum);
    free(miss);
    return rc;
}

int ml_prs_apply(const ml_model_t *model, const ml_dosage_view_t *g, double *out,
                 ml_prs_match_t *match, char *err, size_t cap)
{
    if (!model || !s_view_ok(g) || (!out && g->n))
        return proto_err_fail(err, cap, ML_E_ARG, "NULL argument or view without alleles");
    if (ml_model_kind(model) != ML_MODEL_PRS)
        return proto_err_fail(err, cap, ML_E_ARG, "a %s model is not a PRS",
                              ml_model_kind_name(ml_model_kind(model)));
    size_t m = g->m, p = ml_model_p(model);
    ml_prs_match_t mt = {0};
    int rc = 0;
    size_t nt = 0;
    s_idx_t *idx = malloc((m ? m : 1) * sizeof *idx);
    s_term_t *terms = malloc((p ? p : 1) * sizeof *terms);
    if (!idx || !terms) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < m; j++)
        idx[j] = (s_idx_t){g->rsids[j], j};
    qsort(idx, m, sizeof *idx, s_cmp_idx);
    const double *w = ml_model_weights(model), *mean = NULL, *sd = NULL;
    bool scaled = ml_model_scaling(model, &mean, &sd);
    double b = ml_model_intercept(model);
    for (size_t i = 0; i < p; i++) {
        const char *id = ml_model_feature_id(model, i);
        const char *colon = strrchr(id, ':');
        if (!colon || colon == id || !colon[1]) {
            rc = proto_err_fail(err, cap, ML_E_ARG, "feature id \"%s\" is not RSID:ALLELE", id);
            goto out;
        }
        char rsid[ML_MODEL_MAX_ID + 1];
        memcpy(rsid, id, (size_t)(colon - id));
        rsid[colon - id] = '\0';
        s_idx_t key = {rsid, 0};
        const s_idx_t *hit = m ? bsearch(&key, idx, m, sizeof *idx, s_cmp_idx) : NULL;
        if (!hit) {
            mt.absent++;
            continue;
        }
        char b1[2], b2[2];
        const char *alt = s_allele(g, hit->j, 1, b1), *ref = s_allele(g, hit->j, 0, b2);
        double wi = scaled ? w[i] / sd[i] : w[i];
        if (scaled)
            b -= wi * mean[i];
        if (strcmp(colon + 1, alt) == 0) {
            terms[nt++] = (s_term_t){hit->j, wi, 0.0};
        } else if (strcmp(colon + 1, ref) == 0) {
            terms[nt++] = (s_term_t){hit->j, -wi, 2.0 * wi};
            mt.ref_effect++;
        } else {
            mt.mismatched++;
        }
    }
    mt.matched = nt;
    if (nt == 0) {
        rc = proto_err_fail(err, cap, ML_E_EMPTY,
                            "no model SNP matched (%zu absent, %zu allele "
                            "mismatches)",
                            mt.absent, mt.mismatched);
        goto out;
    }
    qsort(terms, nt, sizeof *terms, s_cmp_term);
    rc = s_apply_terms(g, terms, nt, b, out, err, cap);
out:
    if (match)
        *match = mt;
    free(terms);
    free(idx);
    return rc;
}
