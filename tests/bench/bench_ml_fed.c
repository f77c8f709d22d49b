/*  bench_ml_fed: the time of one federated-averaging round with 4 parties.
 *
 *  4 parties of 2,500 synthetic samples x 50 features each (tests/unit/ml/fedsim.h's
 *  cohort), 1 local epoch of minibatch SGD (batch 32) per round, plain weighted mean and
 *  coordinate-wise median. One round = the coordinator encodes the 4 global messages,
 *  each party decodes, trains and encodes its update, the coordinator decodes and
 *  aggregates the 4 updates (in one thread, no network: the compute a round costs).
 *  Prints one line: median and best of 21 rounds in milliseconds with each rule, the part
 *  spent by the coordinator, and the update message size. Build without sanitizers
 *  (Release) for meaningful numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ml/ml_fed.h"
#include "tests/unit/ml/fedsim.h"

#define PARTIES 4
#define PER_PARTY 2500
#define FEATURES 50
#define ROUNDS 21

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double median_ms, best_ms, coord_ms;
    size_t update_len;
} s_result_t;

static int s_bench(ml_robust_kind_t kind, ml_dataset_t *const *share, s_result_t *res)
{
    ml_fed_party_t *parties[PARTIES] = {0};
    ml_fed_spec_t spec = {.parties = PARTIES,
                          .rounds = ROUNDS,
                          .dim = FEATURES + 1,
                          .rule = {kind, 0, 0},
                          .round_timeout = 1000,
                          .max_retries = 0};
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    int rc = c ? 0 : 1;
    for (int j = 0; j < PARTIES && rc == 0; j++) {
        ml_fed_party_opts_t po = {.id = (uint32_t)j,
                                  .rounds = ROUNDS,
                                  .sgd = {.epochs = 1, .batch = 32, .lr = 0.05, .l2 = 1e-4},
                                  .seed = 1};
        parties[j] = ml_fed_party_new(&po, share[j]->x, share[j]->y);
        rc = parties[j] ? 0 : 1;
    }
    double total[ROUNDS], coord[ROUNDS];
    size_t update_len = 0;
    if (rc == 0)
        rc = ml_fed_coord_start(c, 0);
    for (int r = 0; r < ROUNDS && rc == 0; r++) {
        uint8_t *upd[PARTIES] = {0};
        size_t ul[PARTIES] = {0};
        double t0 = s_now(), tc = 0;
        for (size_t i = 0; i < ml_fed_coord_outbox_count(c) && rc == 0; i++) {
            uint32_t p;
            const uint8_t *b;
            size_t l;
            ml_fed_coord_outbox_get(c, i, &p, &b, &l);
            rc = ml_fed_party_step(parties[p], b, l, &upd[p], &ul[p], NULL, 0);
        }
        double t1 = s_now();
        ml_fed_event_t ev = ML_FED_EV_NONE;
        for (int j = 0; j < PARTIES && rc == 0; j++)
            rc = ml_fed_coord_input(c, upd[j], ul[j], (uint64_t)r, &ev);
        tc = s_now() - t1;
        total[r] = s_now() - t0;
        coord[r] = tc;
        update_len = ul[0];
        for (int j = 0; j < PARTIES; j++)
            free(upd[j]);
        if (rc == 0 && ev != ML_FED_EV_ROUND && ev != ML_FED_EV_DONE)
            rc = 1;
    }
    if (rc == 0) {
        double sorted[ROUNDS], cs[ROUNDS];
        memcpy(sorted, total, sizeof sorted);
        memcpy(cs, coord, sizeof cs);
        qsort(sorted, ROUNDS, sizeof *sorted, s_cmp);
        qsort(cs, ROUNDS, sizeof *cs, s_cmp);
        res->median_ms = sorted[ROUNDS / 2] * 1e3;
        res->best_ms = sorted[0] * 1e3;
        res->coord_ms = cs[ROUNDS / 2] * 1e3;
        res->update_len = update_len;
    }
    for (int j = 0; j < PARTIES; j++)
        ml_fed_party_destroy(&parties[j]);
    ml_fed_coord_destroy(&c);
    return rc;
}

int main(void)
{
    ml_dataset_t *all = fedsim_cohort(PARTIES * PER_PARTY, FEATURES, 11);
    if (!all)
        return 1;
    int *owner = malloc(PARTIES * PER_PARTY * sizeof *owner);
    ml_dataset_t *share[PARTIES] = {0};
    int rc = owner ? 0 : 1;
    for (int i = 0; i < PARTIES * PER_PARTY && rc == 0; i++)
        owner[i] = i % PARTIES;
    for (int j = 0; j < PARTIES && rc == 0; j++) {
        share[j] = fedsim_share(all, owner, j);
        rc = share[j] ? 0 : 1;
    }
    s_result_t mean = {0}, med = {0};
    if (rc == 0)
        rc = s_bench(ML_ROBUST_MEAN, share, &mean);
    if (rc == 0)
        rc = s_bench(ML_ROBUST_MEDIAN, share, &med);
    if (rc == 0)
        printf("ml_fed round: %d parties x %d samples x %d features, 1 local epoch (batch 32): "
               "%.2f ms median (best %.2f, %d rounds) with mean, %.2f ms with median; "
               "coordinator decode + aggregate %.3f / %.3f ms; update %zu bytes\n",
               PARTIES, PER_PARTY, FEATURES, mean.median_ms, mean.best_ms, ROUNDS, med.median_ms,
               mean.coord_ms, med.coord_ms, mean.update_len);
    if (rc != 0)
        fprintf(stderr, "bench_ml_fed: failed\n");
    for (int j = 0; j < PARTIES; j++)
        ml_dataset_destroy(&share[j]);
    free(owner);
    ml_dataset_destroy(&all);
    return rc;
}
