/*  fedsim: shared helpers of the federated-learning tests (test_ml_fed, test_ml_robust,
 *  test_ml_dp, test_ml_shapley): a seeded synthetic logistic cohort, ROC AUC, and an
 *  in-process network that drives one ml_fed coordinator and K ml_fed parties with
 *  seeded message loss, duplication and reordering (random delivery delays).
 *
 *  The cohort: P features in LD-like blocks (AR(1) correlation 0.5 within a block of 5),
 *  the first half of them causal with weights 0.6 and -0.5 in turn, liability = x . beta - 0.4,
 *  label ~ Bernoulli(sigmoid(liability)).
 *  Header-only (static inline) so every test compiles only what it uses.
 */
#ifndef GENIE_TESTS_FEDSIM_H
#define GENIE_TESTS_FEDSIM_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_fed.h"
#include "ml/ml_mat.h"
#include "ml/ml_sgd.h"
#include "ml/ml_synth.h"

/* ---- synthetic cohort ---- */

static inline ml_dataset_t *fedsim_cohort(size_t n, size_t p, uint64_t seed)
{
    ml_dataset_t *d = ml_dataset_new(n, p);
    if (!d)
        return NULL;
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, seed, 1);
    for (size_t i = 0; i < n; i++) {
        double *x = ml_mat_row(d->x, i), z = 0.0;
        for (size_t j = 0; j < p; j++) {
            double e = ml_sgd_rng_gauss(&r);
            x[j] = (j % 5 == 0) ? e : 0.5 * x[j - 1] + sqrt(0.75) * e;
            if (j < p / 2)
                z += ((j % 2) ? -0.5 : 0.6) * x[j];
        }
        d->y[i] = ml_sgd_rng_uniform(&r) < ml_sgd_sigmoid(z - 0.4) ? 1.0 : 0.0;
    }
    return d;
}

/* A genotype cohort from ml_synth (N samples, M SNPs in LD blocks, K causal, heritability
 * H2, binary trait by liability threshold at PREVALENCE): dosages standardised by the
 * generating allele frequency f, (d - 2f) / sqrt(2 f (1 - f)) as GCTA does, so no
 * statistic of the sample leaks between training and test rows. */
static inline ml_dataset_t *fedsim_genomic(size_t n, size_t m, size_t k, double h2,
                                           double prevalence, uint64_t seed)
{
    ml_synth_params_t sp = ml_synth_params_default();
    sp.n_samples = n;
    sp.n_snps = m;
    sp.n_causal = k;
    sp.h2 = h2;
    sp.prevalence = prevalence;
    sp.seed = seed;
    ml_cohort_t *c = NULL;
    if (ml_synth_cohort(&sp, &c, NULL, 0) != 0)
        return NULL;
    ml_dataset_t *d = ml_dataset_new(n, m);
    if (d)
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < m; j++) {
                double f = c->alt_freq[j];
                ml_mat_row(d->x, i)[j] =
                    ((double)c->dosage[i * m + j] - 2 * f) / sqrt(2 * f * (1 - f));
            }
            d->y[i] = c->trait[i];
        }
    ml_cohort_destroy(&c);
    return d;
}

/* ---- ROC AUC with average ranks for ties ---- */

typedef struct {
    double s;
    double y;
} fedsim_pair_t;

static inline int fedsim_cmp_pair(const void *a, const void *b)
{
    double x = ((const fedsim_pair_t *)a)->s, y = ((const fedsim_pair_t *)b)->s;
    return (x > y) - (x < y);
}

static inline double fedsim_auc(const double *score, const double *y, size_t n)
{
    fedsim_pair_t *v = malloc(n * sizeof *v);
    if (!v)
        return NAN;
    for (size_t i = 0; i < n; i++)
        v[i] = (fedsim_pair_t){score[i], y[i]};
    qsort(v, n, sizeof *v, fedsim_cmp_pair);
    double rank_pos = 0.0, npos = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s)
            j++;
        double avg = 0.5 * ((double)i + 1 + (double)j); /* ranks i+1..j */
        for (size_t t = i; t < j; t++)
            if (v[t].y == 1.0) {
                rank_pos += avg;
                npos += 1.0;
            }
        i = j;
    }
    free(v);
    double nneg = (double)n - npos;
    if (npos == 0 || nneg == 0)
        return NAN;
    return (rank_pos - npos * (npos + 1) / 2) / (npos * nneg);
}

/* AUC of weights W (P + 1) on data set D. */
static inline double fedsim_model_auc(const ml_dataset_t *d, const double *w)
{
    double *s = malloc(d->x->rows * sizeof *s);
    if (!s)
        return NAN;
    ml_sgd_scores(d->x, w, s);
    double a = fedsim_auc(s, d->y, d->x->rows);
    free(s);
    return a;
}

/* ---- in-process network ---- */

typedef struct {
    double loss;      /* probability a message is lost */
    double dup;       /* probability it is delivered twice */
    uint64_t max_lag; /* delivery delay uniform in 1..max_lag ticks (reordering) */
    uint64_t seed;
} fedsim_net_t;

/* Called on each update a party is about to send; may replace *BUF (free the old one).
 * GLOBAL is the decoded global message the update answers. */
typedef void (*fedsim_tamper_fn)(void *ctx, uint32_t party, const ml_fed_msg_t *global,
                                 uint8_t **buf, size_t *len);

typedef struct {
    uint64_t at;
    int to; /* -1: coordinator, else party */
    uint8_t *buf;
    size_t len;
} fedsim_pkt_t;

typedef struct {
    fedsim_pkt_t *v;
    size_t n, cap;
    uint64_t sent, lost, duped;
} fedsim_queue_t;

static inline void fedsim_push(fedsim_queue_t *q, const fedsim_net_t *net, ml_sgd_rng_t *r,
                               uint64_t now, int to, const uint8_t *buf, size_t len)
{
    q->sent++;
    if (ml_sgd_rng_uniform(r) < net->loss) {
        q->lost++;
        return;
    }
    int copies = ml_sgd_rng_uniform(r) < net->dup ? 2 : 1;
    q->duped += (uint64_t)(copies - 1);
    for (int c = 0; c < copies; c++) {
        if (q->n == q->cap) {
            q->cap = q->cap ? 2 * q->cap : 64;
            q->v = realloc(q->v, q->cap * sizeof *q->v);
            if (!q->v)
                abort();
        }
        fedsim_pkt_t *p = &q->v[q->n++];
        p->at = now + 1 + (net->max_lag > 1 ? ml_sgd_rng_below(r, net->max_lag) : 0);
        p->to = to;
        p->buf = malloc(len);
        if (!p->buf)
            abort();
        memcpy(p->buf, buf, len);
        p->len = len;
    }
}

/* Takes the earliest packet (first pushed among equals) out of Q into *P. */
static inline bool fedsim_pop(fedsim_queue_t *q, fedsim_pkt_t *p)
{
    if (q->n == 0)
        return false;
    size_t b = 0;
    for (size_t i = 1; i < q->n; i++)
        if (q->v[i].at < q->v[b].at)
            b = i;
    *p = q->v[b];
    memmove(&q->v[b], &q->v[b + 1], (q->n - b - 1) * sizeof *q->v);
    q->n--;
    return true;
}

static inline void fedsim_flush(fedsim_queue_t *q, const ml_fed_coord_t *c, ml_sgd_rng_t *r,
                                const fedsim_net_t *net, uint64_t now)
{
    for (size_t i = 0; i < ml_fed_coord_outbox_count(c); i++) {
        uint32_t party;
        const uint8_t *b;
        size_t l;
        ml_fed_coord_outbox_get(c, i, &party, &b, &l);
        fedsim_push(q, net, r, now, (int)party, b, l);
    }
}

/* Runs a whole training: coordinator C (not started) and K parties over NET, TAMPER (may be
 * NULL) on the updates. 0 when the coordinator is done (its weights are the result), else
 * the first error of the coordinator or of a party. Prints the network counters. */
static inline int fedsim_run(ml_fed_coord_t *c, ml_fed_party_t **parties, size_t k,
                             const fedsim_net_t *net, fedsim_tamper_fn tamper, void *tctx)
{
    fedsim_queue_t q = {0};
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, net->seed, 77);
    uint64_t now = 0;
    int rc = ml_fed_coord_start(c, now);
    if (rc == 0)
        fedsim_flush(&q, c, &r, net, now);
    while (rc == 0 && !ml_fed_coord_done(c)) {
        fedsim_pkt_t p;
        uint64_t dl = ml_fed_coord_deadline(c), first = UINT64_MAX;
        for (size_t i = 0; i < q.n; i++)
            first = q.v[i].at < first ? q.v[i].at : first;
        if (dl != UINT64_MAX && first >= dl) { /* nothing arrives before the deadline */
            now = dl;
            ml_fed_event_t ev;
            rc = ml_fed_coord_tick(c, now, &ev);
            if (rc == 0)
                fedsim_flush(&q, c, &r, net, now);
            continue;
        }
        if (!fedsim_pop(&q, &p))
            break;
        now = p.at > now ? p.at : now;
        if (p.to < 0) {
            ml_fed_event_t ev;
            rc = ml_fed_coord_input(c, p.buf, p.len, now, &ev);
            if (rc == 0)
                fedsim_flush(&q, c, &r, net, now);
        } else if ((size_t)p.to < k) {
            uint8_t *out = NULL;
            size_t out_len = 0;
            char err[160] = "";
            rc = ml_fed_party_step(parties[p.to], p.buf, p.len, &out, &out_len, err, sizeof err);
            if (rc != 0)
                fprintf(stderr, "party %d: %s\n", p.to, err);
            if (rc == 0 && out && tamper) {
                ml_fed_msg_t g;
                if (ml_fed_msg_decode(p.buf, p.len, ML_FED_DIM_MAX, &g) == 0)
                    tamper(tctx, (uint32_t)p.to, &g, &out, &out_len);
                ml_fed_msg_clear(&g);
            }
            if (out)
                fedsim_push(&q, net, &r, now, -1, out, out_len);
            free(out);
        }
        free(p.buf);
    }
    /* deliver what is still in flight to the parties (the "done" messages) */
    fedsim_pkt_t p;
    while (fedsim_pop(&q, &p)) {
        if (rc == 0 && p.to >= 0 && (size_t)p.to < k) {
            uint8_t *out = NULL;
            size_t out_len = 0;
            if (ml_fed_party_step(parties[p.to], p.buf, p.len, &out, &out_len, NULL, 0) != 0)
                rc = ML_E_FAILED;
            free(out);
        }
        free(p.buf);
    }
    free(q.v);
    ml_fed_stats_t st;
    ml_fed_coord_stats(c, &st);
    printf("  net: %llu sent, %llu lost, %llu duplicated; coord: %u rounds, %llu updates used, "
           "%llu stale, %llu dup, %llu dropped, %llu resends\n",
           (unsigned long long)q.sent, (unsigned long long)q.lost, (unsigned long long)q.duped,
           st.rounds_closed, (unsigned long long)st.updates_used,
           (unsigned long long)st.ignored_stale, (unsigned long long)st.ignored_dup,
           (unsigned long long)st.dropped, (unsigned long long)st.resends);
    return rc;
}

/* Rows of D whose index has OWNER[i] == WHO, as a new data set. */
static inline ml_dataset_t *fedsim_share(const ml_dataset_t *d, const int *owner, int who)
{
    size_t n = d->x->rows, k = 0;
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (owner[i] == who)
            idx[k++] = i;
    ml_dataset_t *s = ml_dataset_subset(d, idx, k);
    free(idx);
    return s;
}

#endif
