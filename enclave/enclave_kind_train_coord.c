/*  enclave_kind_train_coord: the aggregation enclave's side of a federated training job
 *  (see the protocol at the top of enclave_kind_train_fed.c): the pooled standardisation,
 *  ml_fed's coordinator with the spec's robust rule and the aggregation's party-level DP
 *  (clip agg_clip, noise for agg_eps, seeded from randombytes), the coalition models of the
 *  valuation, exact Shapley (or leave-one-out) contribution weights from the pooled holdout
 *  accuracies, the final model, and time: ticks start the job, drive ml_fed's deadlines and
 *  resend what a phase misses.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train_job.h"
#include "ml/ml_model.h"
#include "ml/ml_scale.h"
#include "ml/ml_shapley.h"

/* Forwards the ml_fed coordinator's outbox as FED payloads. */
static int s_flush_fed(enclave_job_io_t *io)
{
    ml_fed_coord_t *f = io->job->fed;
    int rc = PROTO_OK;
    for (size_t i = 0; i < ml_fed_coord_outbox_count(f) && rc == PROTO_OK; i++) {
        enclave_train_payload_t p = {.kind = ENCLAVE_TRAIN_P_FED};
        uint32_t to = 0;
        ml_fed_coord_outbox_get(f, i, &to, &p.fed, &p.fed_len);
        rc = to < io->job->k ? enclave_job_send(io, to, &p) : PROTO_E_INVALID;
    }
    io->job->round = ml_fed_coord_round(f);
    return rc;
}

/* ---- the coordinator side ---- */

/* Enters phase PH at NOW: nobody heard from yet, a fresh deadline, no tick yet. */
static void s_phase(enclave_job_t *j, enclave_job_cphase_t ph, uint64_t now)
{
    j->cphase = ph;
    j->deadline = now + ENCLAVE_JOB_PHASE_TIMEOUT_MS;
    j->phase_ticks = 0;
    memset(j->got, 0, sizeof j->got);
    j->n_got = 0;
}

int enclave_job_coord_stats(enclave_job_io_t *io, uint32_t from, const enclave_train_payload_t *in)
{
    enclave_job_t *j = io->job;
    size_t p = j->cfg.p;
    if (j->cphase != ENCLAVE_JOB_C_STATS || j->got[from])
        return PROTO_OK;
    if (in->n == 0)
        return ENCLAVE_E_FED_MSG;
    j->got[from] = true;
    j->n_got++;
    j->n_train[from] = in->n;
    j->n_total += (double)in->n;
    for (size_t c = 0; c < p; c++) {
        j->sum[c] += in->a[c];
        j->sumsq[c] += in->b[c];
    }
    if (j->n_got < j->k)
        return PROTO_OK;
    enclave_train_payload_t sc = {
        .kind = ENCLAVE_TRAIN_P_SCALE, .dim = p, .a = j->mean, .b = j->sd};
    for (size_t c = 0; c < p; c++) {
        j->mean[c] = j->sum[c] / j->n_total;
        double var = j->sumsq[c] / j->n_total - j->mean[c] * j->mean[c];
        j->sd[c] = var > 1e-12 ? sqrt(var) : 1.0;
    }
    ml_robust_rule_t rule;
    char err[128];
    int rc = enclave_train_config_rule(&j->cfg, j->k, &rule, err, sizeof err);
    /* the aggregation's DP: the noise seed comes from libsodium, never from the config */
    ml_fed_spec_t spec = {.parties = j->k,
                          .rounds = j->cfg.rounds,
                          .dim = enclave_job_dim(j),
                          .rule = rule,
                          .round_timeout = ENCLAVE_JOB_ROUND_TIMEOUT_MS,
                          .max_retries = ENCLAVE_JOB_MAX_RETRIES,
                          .clip = j->cfg.agg_clip,
                          .dp_delta = j->cfg.delta,
                          .dp_eps_max = j->cfg.agg_eps};
    if (rc == PROTO_OK)
        rc = enclave_train_config_agg_noise(&j->cfg, &spec.noise, err, sizeof err);
    randombytes_buf(&spec.seed, sizeof spec.seed);
    if (rc == PROTO_OK)
        rc = enclave_job_broadcast(io, &sc);
    if (rc == PROTO_OK && !(j->fed = ml_fed_coord_new(&spec))) {
        rc = ml_fed_spec_check(&spec, err, sizeof err); /* ML_E_SPEC, ML_E_BUDGET */
        if (rc == PROTO_OK)
            rc = PROTO_E_NOMEM;
    }
    sodium_memzero(&spec.seed, sizeof spec.seed);
    if (rc == PROTO_OK)
        rc = ml_fed_coord_start(j->fed, io->now);
    if (rc == PROTO_OK)
        rc = s_flush_fed(io);
    s_phase(j, ENCLAVE_JOB_C_FED, io->now);
    return rc;
}

int enclave_job_coord_fed(enclave_job_io_t *io, const uint8_t *msg, size_t len)
{
    enclave_job_t *j = io->job;
    if (j->cphase != ENCLAVE_JOB_C_FED)
        return PROTO_OK;
    ml_fed_event_t ev = ML_FED_EV_NONE;
    int rc = ml_fed_coord_input(j->fed, msg, len, io->now, &ev);
    if (rc != PROTO_OK)
        return rc == ML_E_FED_MSG || rc > ENCLAVE_E_FIRST ? ENCLAVE_E_FED_MSG : rc;
    if (ev == ML_FED_EV_DONE) {
        s_phase(j, ENCLAVE_JOB_C_LOCAL, io->now);
        for (size_t i = 0; i < ml_fed_coord_outbox_count(j->fed); i++) {
            uint32_t to = 0;
            const uint8_t *b = NULL;
            size_t n = 0;
            ml_fed_coord_outbox_get(j->fed, i, &to, &b, &n);
            if (to >= j->k || j->done_msg[to])
                continue;
            if (!(j->done_msg[to] = malloc(n)))
                return PROTO_E_NOMEM;
            memcpy(j->done_msg[to], b, n);
            j->done_len[to] = n;
        }
    }
    return s_flush_fed(io);
}

/* The model of coalition MASK into OUT: the rule over its members' local models (the plain
   mean where the rule needs more vectors); zeros for the empty coalition. */
static int s_coalition(const enclave_job_t *j, uint64_t mask, double *out)
{
    const double *v[ENCLAVE_WIRE_PARTIES_MAX];
    double w[ENCLAVE_WIRE_PARTIES_MAX];
    size_t k = 0, dim = enclave_job_dim(j);
    for (uint32_t i = 0; i < j->k; i++)
        if (mask >> i & 1u) {
            v[k] = j->local[i];
            w[k++] = (double)j->n_train[i];
        }
    memset(out, 0, dim * sizeof *out);
    if (k == 0)
        return PROTO_OK;
    ml_robust_rule_t rule;
    char err[128];
    if (enclave_train_config_rule(&j->cfg, k, &rule, err, sizeof err) != PROTO_OK)
        rule = (ml_robust_rule_t){.kind = ML_ROBUST_MEAN};
    return ml_robust_aggregate(&rule, v, w, k, dim, out, NULL, err, sizeof err);
}

static int s_c_eval_send(enclave_job_io_t *io)
{
    enclave_job_t *j = io->job;
    size_t dim = enclave_job_dim(j);
    uint64_t full = ((uint64_t)1 << j->k) - 1;
    j->n_models = 1;
    if (j->k <= ENCLAVE_JOB_SHAPLEY_EXACT_K) {
        for (uint64_t m = 0; m <= full; m++)
            j->masks[j->n_models++] = m;
    } else {
        j->masks[j->n_models++] = full;
        for (uint32_t i = 0; i < j->k; i++)
            j->masks[j->n_models++] = full & ~((uint64_t)1 << i);
    }
    j->models = calloc(j->n_models * dim, sizeof *j->models);
    if (!j->models)
        return PROTO_E_NOMEM;
    memcpy(j->models, ml_fed_coord_weights(j->fed), dim * sizeof(double));
    int rc = PROTO_OK;
    for (size_t m = 1; m < j->n_models && rc == PROTO_OK; m++)
        rc = s_coalition(j, j->masks[m], j->models + m * dim);
    enclave_train_payload_t ev = {
        .kind = ENCLAVE_TRAIN_P_EVAL, .dim = dim, .models = j->models, .n_models = j->n_models};
    s_phase(j, ENCLAVE_JOB_C_EVAL, io->now);
    if (rc == PROTO_OK)
        rc = enclave_job_broadcast(io, &ev);
    return rc;
}

int enclave_job_coord_local(enclave_job_io_t *io, uint32_t from, enclave_train_payload_t *in)
{
    enclave_job_t *j = io->job;
    if (j->cphase != ENCLAVE_JOB_C_LOCAL || j->got[from])
        return PROTO_OK;
    if (in->n_ids == 0)
        return ENCLAVE_E_FED_MSG;
    for (size_t i = 1; i < in->n_ids; i++)
        if (memcmp(in->ids[i - 1], in->ids[i], 32) >= 0)
            return ENCLAVE_E_FED_MSG; /* sorted, unique */
    j->got[from] = true;
    j->n_got++;
    j->local[from] = in->a;
    in->a = NULL;
    j->ids[from] = in->ids;
    j->n_ids[from] = in->n_ids;
    in->ids = NULL;
    return j->n_got < j->k ? PROTO_OK : s_c_eval_send(io);
}

typedef struct {
    const enclave_job_t *j;
} s_util_ctx_t;

static int s_utility(void *ctx, uint64_t mask, double *u)
{
    const enclave_job_t *j = ((s_util_ctx_t *)ctx)->j;
    for (size_t m = 1; m < j->n_models; m++)
        if (j->masks[m] == mask) {
            *u = (double)j->correct[m] / (double)j->n_test;
            return PROTO_OK;
        }
    return ML_E_SPEC;
}

/* Contribution weights in basis points summing to 10000 (largest remainders). */
static int s_c_weights(enclave_job_t *j)
{
    double value[ENCLAVE_WIRE_PARTIES_MAX], w[ENCLAVE_WIRE_PARTIES_MAX];
    s_util_ctx_t ctx = {j};
    int rc = j->k <= ENCLAVE_JOB_SHAPLEY_EXACT_K ? ml_shapley_exact(j->k, s_utility, &ctx, value)
                                                 : ml_shapley_loo(j->k, s_utility, &ctx, value);
    if (rc == PROTO_OK)
        rc = ml_shapley_weights(value, j->k, w);
    if (rc != PROTO_OK)
        return rc;
    uint32_t total = 0;
    double rem[ENCLAVE_WIRE_PARTIES_MAX];
    for (uint32_t i = 0; i < j->k; i++) {
        double x = w[i] * 10000.0;
        j->weight_bp[i] = (uint32_t)floor(x);
        rem[i] = x - floor(x);
        total += j->weight_bp[i];
    }
    while (total < 10000) {
        uint32_t best = 0;
        for (uint32_t i = 1; i < j->k; i++)
            if (rem[i] > rem[best])
                best = i;
        j->weight_bp[best]++;
        rem[best] = -1;
        total++;
    }
    return total == 10000 ? PROTO_OK : ML_E_FAILED;
}

/* The final model: logistic, the pooled scaling, the metrics; encoded and kept. */
static int s_c_model(enclave_job_t *j)
{
    size_t p = j->cfg.p;
    const double *w = j->models;
    char *names[ENCLAVE_TRAIN_FEATURES_MAX];
    for (size_t c = 0; c < p; c++)
        names[c] = j->cfg.features[c];
    ml_model_t *m = ml_model_new(ML_MODEL_LOGISTIC, p, names, w, w[p]);
    ml_scale_t *sc = ml_scale_new(p);
    int rc = m && sc ? PROTO_OK : PROTO_E_NOMEM;
    if (rc == PROTO_OK) {
        memcpy(sc->mean, j->mean, p * sizeof(double));
        memcpy(sc->sd, j->sd, p * sizeof(double));
        rc = ml_model_set_scaling(m, sc);
    }
    double acc = (double)j->correct[0] / (double)j->n_test;
    if (rc == PROTO_OK)
        rc = ml_model_add_metric(m, "accuracy_test", acc);
    if (rc == PROTO_OK)
        rc = ml_model_add_metric(m, "logloss_test", j->loss / (double)j->n_test);
    if (rc == PROTO_OK)
        rc = ml_model_add_metric(m, "epsilon", j->eps);
    /* the aggregation's party-level guarantee beside the parties' record-level one */
    double z = 0;
    if (rc == PROTO_OK)
        rc = enclave_train_config_agg_noise(&j->cfg, &z, NULL, 0);
    if (rc == PROTO_OK)
        rc = ml_model_add_metric(m, "agg_epsilon", ml_fed_coord_eps(j->fed));
    if (rc == PROTO_OK)
        rc = ml_model_add_metric(m, "agg_noise", z);
    if (rc == PROTO_OK)
        rc = ml_model_add_metric(m, "agg_clip", j->cfg.agg_clip);
    if (rc == PROTO_OK)
        rc = ml_model_encode(m, &j->model, &j->model_len);
    ml_scale_destroy(&sc);
    ml_model_destroy(&m);
    return rc;
}

int enclave_job_coord_report(enclave_job_io_t *io, uint32_t from, const enclave_train_payload_t *in)
{
    enclave_job_t *j = io->job;
    if (j->cphase != ENCLAVE_JOB_C_EVAL || j->got[from])
        return PROTO_OK;
    if (in->n_models != j->n_models || in->n == 0)
        return ENCLAVE_E_FED_MSG;
    j->got[from] = true;
    j->n_got++;
    j->n_test += in->n;
    for (size_t m = 0; m < j->n_models; m++)
        j->correct[m] += in->correct[m];
    j->loss += in->loss;
    j->eps = fmax(j->eps, in->eps);
    if (j->n_got < j->k)
        return PROTO_OK;
    int rc = s_c_weights(j);
    if (rc == PROTO_OK)
        rc = s_c_model(j);
    j->cphase = rc == PROTO_OK ? ENCLAVE_JOB_C_DONE : ENCLAVE_JOB_C_FAILED;
    return rc;
}

/* Sends the phase's message again to every party not heard from (a relayed message may be
   lost; repeats are answered idempotently). At the phase's ticks 2, 4, 8, 16, ... */
static int s_resend_phase(enclave_job_io_t *io)
{
    enclave_job_t *j = io->job;
    int rc = PROTO_OK;
    for (uint32_t i = 0; i < j->k && rc == PROTO_OK; i++) {
        if (j->got[i] || i == j->me)
            continue;
        enclave_train_payload_t p = {.kind = ENCLAVE_TRAIN_P_START};
        if (j->cphase == ENCLAVE_JOB_C_LOCAL) {
            p.kind = ENCLAVE_TRAIN_P_FED;
            p.fed = j->done_msg[i];
            p.fed_len = j->done_len[i];
            if (!p.fed)
                continue;
        } else if (j->cphase == ENCLAVE_JOB_C_EVAL) {
            p.kind = ENCLAVE_TRAIN_P_EVAL;
            p.dim = enclave_job_dim(j);
            p.models = j->models;
            p.n_models = j->n_models;
        }
        rc = enclave_job_send(io, i, &p);
    }
    return rc;
}

/* Passes time at the coordinator: starts the job, runs ml_fed's deadlines, fails a phase
   that waited too long. */
int enclave_job_coord_tick(enclave_job_io_t *io)
{
    enclave_job_t *j = io->job;
    if (!enclave_job_is_coord(j))
        return PROTO_OK;
    int rc = PROTO_OK;
    if (j->cphase == ENCLAVE_JOB_C_IDLE) {
        size_t p = j->cfg.p;
        j->sum = calloc(p, sizeof(double));
        j->sumsq = calloc(p, sizeof(double));
        j->mean = calloc(p, sizeof(double));
        j->sd = calloc(p, sizeof(double));
        if (!j->sum || !j->sumsq || !j->mean || !j->sd)
            return PROTO_E_NOMEM;
        s_phase(j, ENCLAVE_JOB_C_STATS, io->now);
        enclave_train_payload_t st = {.kind = ENCLAVE_TRAIN_P_START};
        rc = enclave_job_broadcast(io, &st);
    } else if (j->cphase == ENCLAVE_JOB_C_FED) {
        ml_fed_event_t ev = ML_FED_EV_NONE;
        rc = ml_fed_coord_tick(j->fed, io->now, &ev);
        if (rc == PROTO_OK)
            rc = s_flush_fed(io);
        else
            j->cphase = ENCLAVE_JOB_C_FAILED;
    } else if (j->cphase == ENCLAVE_JOB_C_STATS || j->cphase == ENCLAVE_JOB_C_LOCAL ||
               j->cphase == ENCLAVE_JOB_C_EVAL) {
        if (io->now > j->deadline)
            j->cphase = ENCLAVE_JOB_C_FAILED;
        else if (++j->phase_ticks >= 2 && (j->phase_ticks & (j->phase_ticks - 1)) == 0)
            rc = s_resend_phase(io); /* ticks 2, 4, 8, ... of the phase: a backoff */
    }
    return rc;
}
