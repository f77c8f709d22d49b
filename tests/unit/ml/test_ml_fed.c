/*  test_ml_fed: the federated-averaging message codec, the sans-IO coordinator's state
 *  machine (rounds, duplicates, stale updates, deadlines, quorum, resends), the party
 *  (repeated rounds answered from its cache), and the done-when check of issue 14:
 *  federated training over 4 parties with unequal, non-IID shares, over a network that
 *  loses, duplicates and reorders messages, reaches a held-out AUC within 0.01 of central
 *  training on the pooled data, both by the same SGD and by ml_linear's L-BFGS fit to the
 *  optimum (whose loss and gradient ml_sgd's match, divided by n). Seeds are printed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedsim.h"
#include "ml/ml_fed.h"
#include "ml/ml_linear.h"
#include "ml/ml_metrics.h"
#include "ml/ml_model.h"
#include "proto/proto_mp.h"
#include "testutil.h"

#define SEED 20261207u

static uint8_t *s_enc(ml_fed_kind_t kind, uint32_t round, uint32_t party, uint64_t n,
                      const double *w, size_t dim, size_t *len)
{
    ml_fed_msg_t m = {.kind = kind, .round = round, .party = party, .n = n, .dim = dim};
    /* the message type is shared with decode; encode only reads w */
    m.w = (double *)(uintptr_t)w; /* NOLINT(performance-no-int-to-ptr) */
    uint8_t *b = NULL;
    CHECK_EQ(ml_fed_msg_encode(&m, &b, len), 0);
    return b;
}

static void test_codec(void)
{
    double w[3] = {0.5, -1.25, 3e-300};
    size_t len;
    uint8_t *b = s_enc(ML_FED_UPDATE, 7, 2, 1000, w, 3, &len);
    CHECK(b != NULL && len == 1 + 1 + 1 + 1 + 3 + 1 + 27);
    if (!b || len != 1 + 1 + 1 + 1 + 3 + 1 + 27) { /* the rest indexes into b */
        free(b);
        return;
    }
    ml_fed_msg_t m;
    CHECK_EQ(ml_fed_msg_decode(b, len, 3, &m), 0);
    CHECK(m.kind == ML_FED_UPDATE && m.round == 7 && m.party == 2 && m.n == 1000 && m.dim == 3);
    /* bit-for-bit equality is the point (determinism)
       NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
    CHECK(m.w && memcmp(m.w, w, sizeof w) == 0);
    ml_fed_msg_clear(&m);
    /* every strict prefix is refused */
    for (size_t cut = 0; cut < len; cut++) {
        CHECK(ml_fed_msg_decode(b, cut, 3, &m) != 0);
        ml_fed_msg_clear(&m);
    }
    /* trailing byte, too many weights for the caller */
    uint8_t *t = malloc(len + 1);
    memcpy(t, b, len);
    t[len] = 0xc0;
    CHECK_EQ(ml_fed_msg_decode(t, len + 1, 3, &m), PROTO_E_TRAILING);
    ml_fed_msg_clear(&m);
    CHECK_EQ(ml_fed_msg_decode(b, len, 2, &m), PROTO_E_TOO_LONG);
    ml_fed_msg_clear(&m);
    /* a float32 weight (0xca) is not the canonical float64 */
    uint8_t f32[] = {0x95, 0x02, 0x01, 0x00, 0x01, 0x91, 0xca, 0x3f, 0x80, 0x00, 0x00, 0, 0, 0, 0};
    CHECK_EQ(ml_fed_msg_decode(f32, sizeof f32, 4, &m), PROTO_E_TYPE);
    ml_fed_msg_clear(&m);
    /* NaN and infinity are refused */
    memcpy(t, b, len);
    size_t wpos = len - 27;
    CHECK_EQ(t[wpos], 0xcb);
    memset(t + wpos + 1, 0xff, 8); /* NaN */
    CHECK_EQ(ml_fed_msg_decode(t, len, 3, &m), PROTO_E_INVALID);
    ml_fed_msg_clear(&m);
    free(t);
    /* kind out of range, n that does not fit the kind, party out of range */
    uint8_t k0[] = {0x95, 0x00, 0x01, 0x00, 0x01, 0x90};
    CHECK(ml_fed_msg_decode(k0, sizeof k0, 4, &m) == PROTO_E_RANGE);
    ml_fed_msg_clear(&m);
    uint8_t k4[] = {0x95, 0x04, 0x01, 0x00, 0x01, 0x90};
    CHECK(ml_fed_msg_decode(k4, sizeof k4, 4, &m) == PROTO_E_RANGE);
    ml_fed_msg_clear(&m);
    uint8_t n0[] = {0x95, 0x02, 0x01, 0x00, 0x00, 0x90};
    CHECK(ml_fed_msg_decode(n0, sizeof n0, 4, &m) == PROTO_E_INVALID);
    ml_fed_msg_clear(&m);
    uint8_t gn[] = {0x95, 0x01, 0x01, 0x00, 0x05, 0x90};
    CHECK(ml_fed_msg_decode(gn, sizeof gn, 4, &m) == PROTO_E_INVALID);
    ml_fed_msg_clear(&m);
    uint8_t pbig[] = {0x95, 0x02, 0x01, 0xcd, 0x04, 0x00, 0x01, 0x90}; /* party 1024 */
    CHECK(ml_fed_msg_decode(pbig, sizeof pbig, 4, &m) == PROTO_E_RANGE);
    ml_fed_msg_clear(&m);
    /* a huge declared weight count in a short message allocates nothing and fails */
    uint8_t huge[] = {0x95, 0x02, 0x01, 0x00, 0x01, 0xdd, 0x00, 0x0f, 0xff, 0xff};
    CHECK(ml_fed_msg_decode(huge, sizeof huge, ML_FED_DIM_MAX, &m) == PROTO_E_TRUNCATED);
    ml_fed_msg_clear(&m);
    /* the encoder refuses what the decoder would */
    double bad[1] = {INFINITY};
    ml_fed_msg_t e = {.kind = ML_FED_UPDATE, .round = 1, .party = 0, .n = 1, .dim = 1, .w = bad};
    uint8_t *o = NULL;
    size_t ol;
    CHECK_EQ(ml_fed_msg_encode(&e, &o, &ol), ML_E_SPEC);
    e.w = w;
    e.n = 0;
    CHECK_EQ(ml_fed_msg_encode(&e, &o, &ol), ML_E_SPEC);
    free(b);
}

/* Sends an update of constant weights V for ROUND from PARTY with N samples. */
static int s_update(ml_fed_coord_t *c, uint32_t round, uint32_t party, uint64_t n, double v,
                    size_t dim, uint64_t now, ml_fed_event_t *ev)
{
    double w[4] = {v, v, v, v};
    size_t len;
    uint8_t *b = s_enc(ML_FED_UPDATE, round, party, n, w, dim, &len);
    int rc = ml_fed_coord_input(c, b, len, now, ev);
    free(b);
    return rc;
}

static void test_coordinator(void)
{
    ml_fed_spec_t spec = {.parties = 3,
                          .rounds = 2,
                          .dim = 2,
                          .rule = {ML_ROBUST_MEAN, 0, 0},
                          .quorum = 2,
                          .round_timeout = 100,
                          .max_retries = 1};
    CHECK_EQ(ml_fed_spec_check(&spec, NULL, 0), 0);
    ml_fed_spec_t bad = spec;
    bad.quorum = 4;
    CHECK_EQ(ml_fed_spec_check(&bad, NULL, 0), ML_E_SPEC);
    bad = spec;
    bad.rule = (ml_robust_rule_t){ML_ROBUST_KRUM, 1, 0}; /* needs 5 */
    CHECK_EQ(ml_fed_spec_check(&bad, NULL, 0), ML_E_SPEC);
    CHECK(ml_fed_coord_new(&bad) == NULL);

    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    CHECK(c != NULL);
    ml_fed_event_t ev;
    CHECK_EQ(s_update(c, 1, 0, 10, 1.0, 2, 0, &ev), ML_E_SPEC); /* not started */
    CHECK_EQ(ml_fed_coord_start(c, 1000), 0);
    CHECK_EQ(ml_fed_coord_start(c, 1000), ML_E_SPEC);
    CHECK_EQ(ml_fed_coord_outbox_count(c), 0); /* the failed call emptied it */
    CHECK_EQ(ml_fed_coord_round(c), 1);
    CHECK_EQ(ml_fed_coord_deadline(c), 1100);

    CHECK_EQ(s_update(c, 1, 0, 10, 1.0, 2, 1001, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_NONE);
    CHECK_EQ(s_update(c, 1, 0, 10, 9.0, 2, 1002, &ev), 0); /* duplicate */
    CHECK_EQ(ev, ML_FED_EV_IGNORED);
    CHECK_EQ(s_update(c, 2, 1, 10, 9.0, 2, 1002, &ev), 0); /* future round */
    CHECK_EQ(ev, ML_FED_EV_IGNORED);
    CHECK_EQ(s_update(c, 1, 3, 10, 1.0, 2, 1003, &ev), ML_E_FED_MSG); /* no such party */
    CHECK_EQ(s_update(c, 1, 1, 10, 1.0, 1, 1003, &ev), ML_E_FED_MSG); /* wrong dimension */
    CHECK_EQ(s_update(c, 1, 1, 10, 1.0, 3, 1003, &ev), PROTO_E_TOO_LONG);
    double g[2] = {0, 0};
    size_t len;
    uint8_t *b = s_enc(ML_FED_GLOBAL, 1, 1, 0, g, 2, &len);
    CHECK_EQ(ml_fed_coord_input(c, b, len, 1003, &ev), ML_E_FED_MSG); /* not an update */
    free(b);
    CHECK_EQ(ml_fed_coord_input(c, (const uint8_t *)"\x93", 1, 1003, &ev), PROTO_E_ARITY);

    /* round 1 closes when all three answered: mean weighted by n (10, 30, 60) */
    CHECK_EQ(s_update(c, 1, 1, 30, 2.0, 2, 1004, &ev), 0);
    CHECK_EQ(s_update(c, 1, 2, 60, 4.0, 2, 1005, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_ROUND);
    CHECK(fabs(ml_fed_coord_weights(c)[0] - (10 * 1.0 + 30 * 2.0 + 60 * 4.0) / 100) < 1e-12);
    CHECK_EQ(ml_fed_coord_round(c), 2);
    CHECK_EQ(ml_fed_coord_outbox_count(c), 3);
    for (size_t i = 0; i < ml_fed_coord_outbox_count(c); i++) {
        uint32_t party;
        const uint8_t *ob;
        size_t ol;
        ml_fed_msg_t m;
        ml_fed_coord_outbox_get(c, i, &party, &ob, &ol);
        CHECK_EQ(ml_fed_msg_decode(ob, ol, 2, &m), 0);
        CHECK(m.kind == ML_FED_GLOBAL && m.round == 2 && m.party == party && m.n == 0);
        CHECK(fabs(m.w[1] - 3.1) < 1e-12);
        ml_fed_msg_clear(&m);
    }
    CHECK_EQ(s_update(c, 1, 2, 60, 4.0, 2, 1006, &ev), 0); /* late update of round 1 */
    CHECK_EQ(ev, ML_FED_EV_IGNORED);

    /* round 2: one answer, the deadline passes below quorum: resent to the silent two */
    CHECK_EQ(s_update(c, 2, 1, 30, 5.0, 2, 1010, &ev), 0);
    CHECK_EQ(ml_fed_coord_tick(c, 1104, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_NONE);
    CHECK_EQ(ml_fed_coord_tick(c, 1106, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_RESENT);
    CHECK_EQ(ml_fed_coord_outbox_count(c), 2);
    CHECK_EQ(ml_fed_coord_deadline(c), 1206);
    /* a second answer reaches quorum; the round closes at the deadline without party 0 */
    CHECK_EQ(s_update(c, 2, 2, 10, 7.0, 2, 1150, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_NONE);
    CHECK_EQ(ml_fed_coord_tick(c, 1206, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_DONE);
    CHECK(ml_fed_coord_done(c));
    CHECK(fabs(ml_fed_coord_weights(c)[0] - (30 * 5.0 + 10 * 7.0) / 40) < 1e-12);
    CHECK_EQ(ml_fed_coord_outbox_count(c), 3);
    CHECK_EQ(s_update(c, 2, 0, 10, 1.0, 2, 1300, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_IGNORED);
    ml_fed_stats_t st;
    ml_fed_coord_stats(c, &st);
    CHECK(st.rounds_closed == 2 && st.updates_used == 5 && st.dropped == 1 && st.resends == 1);
    CHECK(st.ignored_dup == 1 && st.ignored_stale == 3);
    ml_fed_coord_destroy(&c);
    CHECK(c == NULL);

    /* quorum never reached: fails after max_retries resends */
    c = ml_fed_coord_new(&spec);
    CHECK_EQ(ml_fed_coord_start(c, 0), 0);
    CHECK_EQ(ml_fed_coord_tick(c, 100, &ev), 0);
    CHECK_EQ(ev, ML_FED_EV_RESENT);
    CHECK_EQ(ml_fed_coord_tick(c, 200, &ev), ML_E_FED_QUORUM);
    CHECK_EQ(s_update(c, 1, 0, 10, 1.0, 2, 201, &ev), ML_E_FED_QUORUM);
    ml_fed_coord_destroy(&c);
}

static void test_party(void)
{
    ml_dataset_t *d = fedsim_cohort(200, 4, SEED);
    ml_fed_party_opts_t o = {
        .id = 1, .rounds = 3, .sgd = {.epochs = 1, .batch = 20, .lr = 0.1}, .seed = SEED};
    ml_fed_party_t *p = ml_fed_party_new(&o, d->x, d->y);
    CHECK(p != NULL);
    double g[5] = {0};
    size_t len, ol1, ol2;
    uint8_t *o1 = NULL, *o2 = NULL;
    char err[128];
    uint8_t *b = s_enc(ML_FED_GLOBAL, 1, 1, 0, g, 5, &len);
    CHECK_EQ(ml_fed_party_step(p, b, len, &o1, &ol1, err, sizeof err), 0);
    CHECK(o1 != NULL);
    /* the same round again (the coordinator resent it): the same update, no retraining */
    CHECK_EQ(ml_fed_party_step(p, b, len, &o2, &ol2, err, sizeof err), 0);
    CHECK(o1 && o2 && ol1 == ol2 && memcmp(o1, o2, ol1) == 0);
    ml_fed_msg_t m;
    CHECK_EQ(ml_fed_msg_decode(o1, ol1, 5, &m), 0);
    CHECK(m.kind == ML_FED_UPDATE && m.round == 1 && m.party == 1 && m.n == 200);
    ml_fed_msg_clear(&m);
    free(o1);
    free(o2);
    free(b);
    /* round 2, then a late copy of round 1: nothing */
    b = s_enc(ML_FED_GLOBAL, 2, 1, 0, g, 5, &len);
    CHECK_EQ(ml_fed_party_step(p, b, len, &o1, &ol1, err, sizeof err), 0);
    CHECK(o1 != NULL);
    free(o1);
    free(b);
    b = s_enc(ML_FED_GLOBAL, 1, 1, 0, g, 5, &len);
    CHECK_EQ(ml_fed_party_step(p, b, len, &o1, &ol1, err, sizeof err), 0);
    CHECK(o1 == NULL);
    free(b);
    /* round 0 (rounds start at 1), another party's message, a wrong dimension */
    b = s_enc(ML_FED_GLOBAL, 0, 1, 0, g, 5, &len);
    CHECK_EQ(ml_fed_party_step(p, b, len, &o1, &ol1, err, sizeof err), ML_E_FED_MSG);
    CHECK(o1 == NULL);
    free(b);
    b = s_enc(ML_FED_GLOBAL, 3, 0, 0, g, 5, &len);
    CHECK_EQ(ml_fed_party_step(p, b, len, &o1, &ol1, err, sizeof err), ML_E_FED_MSG);
    free(b);
    b = s_enc(ML_FED_GLOBAL, 3, 1, 0, g, 4, &len);
    CHECK(ml_fed_party_step(p, b, len, &o1, &ol1, err, sizeof err) != 0);
    free(b);
    /* done: the final weights */
    double f[5] = {1, 2, 3, 4, 5};
    CHECK(ml_fed_party_final(p) == NULL);
    b = s_enc(ML_FED_DONE, 3, 1, 0, f, 5, &len);
    CHECK_EQ(ml_fed_party_step(p, b, len, &o1, &ol1, err, sizeof err), 0);
    CHECK(o1 == NULL && ml_fed_party_final(p) && ml_fed_party_final(p)[4] == 5.0);
    free(b);
    ml_fed_party_destroy(&p);
    CHECK(p == NULL);
    /* bad options */
    o.sgd.batch = 0;
    CHECK(ml_fed_party_new(&o, d->x, d->y) == NULL);
    ml_dataset_destroy(&d);
}

/* Issue 14: 4 parties, unequal non-IID shares, faulty network, vs central training. */
/* Party J's trainer over its share SH; with PRINT, says the share's size and case rate. */
static ml_fed_party_t *s_party(const ml_dataset_t *sh, size_t j, uint32_t rounds, ml_sgd_opts_t sgd,
                               uint64_t seed, bool print)
{
    if (print) {
        double cr = 0;
        for (size_t i = 0; i < sh->x->rows; i++)
            cr += sh->y[i];
        printf("  party %zu: %zu samples, case rate %.2f\n", j, sh->x->rows,
               cr / (double)sh->x->rows);
    }
    ml_fed_party_opts_t po = {.id = (uint32_t)j, .rounds = rounds, .sgd = sgd, .seed = seed};
    return ml_fed_party_new(&po, sh->x, sh->y);
}

/* The simulations' coordinator: a plain mean over K parties of DIM weights, quorum 3. */
static ml_fed_spec_t s_mean_spec(size_t k, uint32_t rounds, size_t dim)
{
    ml_fed_spec_t spec = {.parties = (uint32_t)k,
                          .rounds = rounds,
                          .dim = dim,
                          .rule = {ML_ROBUST_MEAN, 0, 0},
                          .quorum = 3,
                          .round_timeout = 40,
                          .max_retries = 5};
    return spec;
}

/* The simulations' network: 5 % loss, 10 % duplicates, up to 10 ticks of lag. */
static fedsim_net_t s_lossy_net(uint64_t seed)
{
    fedsim_net_t net = {.loss = 0.05, .dup = 0.1, .max_lag = 10, .seed = seed};
    return net;
}

static void test_noniid_vs_central(void)
{
    const size_t n = 6000, p = 20, k = 4;
    uint64_t seed = SEED + 1;
    printf("non-IID federated vs central: seed %llu, n %zu (+2000 held out), p %zu, K %zu\n",
           (unsigned long long)seed, n, p, k);
    ml_dataset_t *all = fedsim_cohort(n, p, seed);
    ml_dataset_t *test = fedsim_cohort(2000, p, seed + 100);
    /* label skew: cases lean to parties 0 and 1, controls to 2 and 3; shares ~ 34/30/23/13 */
    static const double cases[4] = {0.50, 0.30, 0.15, 0.05};
    static const double ctrls[4] = {0.20, 0.30, 0.30, 0.20};
    int *owner = malloc(n * sizeof *owner);
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, seed, 9);
    for (size_t i = 0; i < n; i++) {
        const double *pr = all->y[i] == 1.0 ? cases : ctrls;
        double u = ml_sgd_rng_uniform(&r), acc = 0.0;
        owner[i] = 3;
        for (int j = 0; j < 4; j++)
            if (u < (acc += pr[j])) {
                owner[i] = j;
                break;
            }
    }
    ml_dataset_t *share[4];
    ml_fed_party_t *parties[4];
    ml_sgd_opts_t sgd = {.epochs = 1, .batch = 32, .lr = 0.05, .l2 = 1e-4};
    const uint32_t rounds = 30;
    for (size_t j = 0; j < k; j++) {
        share[j] = fedsim_share(all, owner, (int)j);
        parties[j] = s_party(share[j], j, rounds, sgd, seed, true);
        CHECK(parties[j] != NULL);
    }
    ml_fed_spec_t spec = s_mean_spec(k, rounds, p + 1);
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    fedsim_net_t net = s_lossy_net(seed);
    CHECK_EQ(fedsim_run(c, parties, k, &net, NULL, NULL), 0);
    CHECK(ml_fed_coord_done(c));
    double fed_auc = fedsim_model_auc(test, ml_fed_coord_weights(c));

    /* central: the same trainer on the pooled data, as many epochs as rounds */
    double w[21] = {0};
    ml_sgd_rng_t cr;
    ml_sgd_rng_init(&cr, seed, 1234);
    ml_sgd_opts_t co = sgd;
    co.epochs = rounds;
    CHECK_EQ(ml_sgd_train(all->x, all->y, w, &co, &cr, NULL, NULL, 0), 0);
    double central_auc = fedsim_model_auc(test, w);
    /* central by L-BFGS to the optimum (ml_linear; its loss is a sum, so l2 * n) */
    ml_fit_opts_t fo = {.l2 = sgd.l2 * (double)n};
    ml_model_t *model = NULL;
    char ferr[128] = "";
    CHECK_EQ(ml_logistic_fit(all, &fo, &model, ferr, sizeof ferr), 0);
    double lbfgs_auc = NAN;
    if (model) {
        double wl[21];
        memcpy(wl, ml_model_weights(model), p * sizeof(double));
        wl[p] = ml_model_intercept(model);
        lbfgs_auc = fedsim_model_auc(test, wl);
        /* fedsim_auc agrees with ml_metrics' AUC */
        double *sc = malloc(test->x->rows * sizeof *sc), auc2 = NAN;
        ml_sgd_scores(test->x, wl, sc);
        CHECK_EQ(ml_metric_auc(sc, test->y, test->x->rows, &auc2), 0);
        CHECK(fabs(auc2 - lbfgs_auc) < 1e-12);
        free(sc);
        /* and ml_sgd's mean loss and gradient are ml_linear's sum divided by n */
        double l_mine, l_sum, g_mine[21], gw[20], gb;
        ml_sgd_loss(all->x, all->y, wl, 0.0, &l_mine, g_mine);
        CHECK_EQ(ml_logistic_loss_grad(all->x, all->y, wl, wl[p], 0.0, gw, &gb, &l_sum), 0);
        CHECK(fabs(l_mine - l_sum / (double)n) < 1e-9);
        for (size_t j = 0; j < p; j++)
            CHECK(fabs(g_mine[j] - gw[j] / (double)n) < 1e-9);
        CHECK(fabs(g_mine[p] - gb / (double)n) < 1e-9);
    }
    ml_model_destroy(&model);
    printf("  held-out AUC: federated %.4f, central SGD %.4f (%+.4f), central L-BFGS %.4f "
           "(%+.4f)\n",
           fed_auc, central_auc, fed_auc - central_auc, lbfgs_auc, fed_auc - lbfgs_auc);
    CHECK(fabs(fed_auc - central_auc) <= 0.01);
    CHECK(fabs(fed_auc - lbfgs_auc) <= 0.01);
    CHECK(central_auc > 0.7);
    /* every party that heard "done" holds the coordinator's weights */
    size_t finals = 0;
    for (size_t j = 0; j < k; j++)
        if (ml_fed_party_final(parties[j])) {
            finals++;
            /* bit-for-bit equality is the point (determinism)
               NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
            CHECK(memcmp(ml_fed_party_final(parties[j]), ml_fed_coord_weights(c),
                         (p + 1) * sizeof(double)) == 0);
        }
    printf("  %zu of %zu parties received the final weights\n", finals, k);

    /* the same seed replays the same run */
    ml_fed_coord_t *c2 = ml_fed_coord_new(&spec);
    for (size_t j = 0; j < k; j++) {
        ml_fed_party_destroy(&parties[j]);
        parties[j] = s_party(share[j], j, rounds, sgd, seed, false);
    }
    CHECK_EQ(fedsim_run(c2, parties, k, &net, NULL, NULL), 0);
    /* bit-for-bit equality is the point (determinism)
       NOLINTNEXTLINE(bugprone-suspicious-memory-comparison) */
    CHECK(memcmp(ml_fed_coord_weights(c), ml_fed_coord_weights(c2), (p + 1) * sizeof(double)) == 0);
    ml_fed_coord_destroy(&c2);
    ml_fed_coord_destroy(&c);
    for (size_t j = 0; j < k; j++) {
        ml_fed_party_destroy(&parties[j]);
        ml_dataset_destroy(&share[j]);
    }
    free(owner);
    ml_dataset_destroy(&all);
    ml_dataset_destroy(&test);
}

/* The same on genotypes: an ml_synth cohort (LD blocks, liability-threshold trait),
 * 4 parties of unequal size where cases concentrate in two of them. */
static void test_genomic(void)
{
    const size_t n = 5000, m = 100, k = 4, ntrain = 4000;
    const uint64_t seed = SEED + 2;
    printf("genomic federated vs central: seed %llu, ml_synth N %zu (%zu train), M %zu, 15 "
           "causal, h2 0.5, prevalence 0.3\n",
           (unsigned long long)seed, n, ntrain, m);
    ml_dataset_t *d = fedsim_genomic(n, m, 15, 0.5, 0.3, seed);
    CHECK(d != NULL);
    if (!d)
        return;
    size_t *idx = malloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    ml_dataset_t *train = ml_dataset_subset(d, idx, ntrain);
    ml_dataset_t *test = ml_dataset_subset(d, idx + ntrain, n - ntrain);
    int *owner = malloc(ntrain * sizeof *owner);
    ml_sgd_rng_t r;
    ml_sgd_rng_init(&r, seed, 3);
    static const double cases[4] = {0.45, 0.35, 0.15, 0.05};
    static const double ctrls[4] = {0.15, 0.25, 0.35, 0.25};
    for (size_t i = 0; i < ntrain; i++) {
        const double *pr = train->y[i] == 1.0 ? cases : ctrls;
        double u = ml_sgd_rng_uniform(&r), acc = 0.0;
        owner[i] = 3;
        for (int j = 0; j < 4; j++)
            if (u < (acc += pr[j])) {
                owner[i] = j;
                break;
            }
    }
    ml_sgd_opts_t sgd = {.epochs = 1, .batch = 32, .lr = 0.02, .l2 = 1e-3};
    const uint32_t rounds = 60;
    ml_dataset_t *share[4];
    ml_fed_party_t *parties[4];
    for (size_t j = 0; j < k; j++) {
        share[j] = fedsim_share(train, owner, (int)j);
        parties[j] = s_party(share[j], j, rounds, sgd, seed, true);
        CHECK(parties[j] != NULL);
    }
    ml_fed_spec_t spec = s_mean_spec(k, rounds, m + 1);
    ml_fed_coord_t *c = ml_fed_coord_new(&spec);
    fedsim_net_t net = s_lossy_net(seed);
    CHECK_EQ(fedsim_run(c, parties, k, &net, NULL, NULL), 0);
    double fed_auc = fedsim_model_auc(test, ml_fed_coord_weights(c));
    ml_fit_opts_t fo = {.l2 = sgd.l2 * (double)ntrain};
    ml_model_t *model = NULL;
    CHECK_EQ(ml_logistic_fit(train, &fo, &model, NULL, 0), 0);
    double lbfgs_auc = NAN;
    if (model) {
        double *wl = malloc((m + 1) * sizeof *wl);
        memcpy(wl, ml_model_weights(model), m * sizeof(double));
        wl[m] = ml_model_intercept(model);
        lbfgs_auc = fedsim_model_auc(test, wl);
        free(wl);
    }
    printf("  held-out AUC: federated %.4f, central L-BFGS %.4f (%+.4f)\n", fed_auc, lbfgs_auc,
           fed_auc - lbfgs_auc);
    CHECK(fabs(fed_auc - lbfgs_auc) <= 0.01);
    CHECK(lbfgs_auc > 0.7);
    ml_model_destroy(&model);
    ml_fed_coord_destroy(&c);
    for (size_t j = 0; j < k; j++) {
        ml_fed_party_destroy(&parties[j]);
        ml_dataset_destroy(&share[j]);
    }
    free(owner);
    free(idx);
    ml_dataset_destroy(&train);
    ml_dataset_destroy(&test);
    ml_dataset_destroy(&d);
}

int main(void)
{
    printf("test_ml_fed: seed %u\n", SEED);
    test_codec();
    test_coordinator();
    test_party();
    test_noniid_vs_central();
    test_genomic();
    return testutil_done("test_ml_fed");
}
