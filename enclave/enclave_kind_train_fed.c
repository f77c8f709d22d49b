/*  enclave_kind_train_fed: federated training across training enclaves, one of them the
 *  aggregation enclave (the job's coordinator), inside genie-enclave.
 *
 *  A job (TRAIN_PREPARE) names K <= 16 parties by their enclave keys and one coordinator
 *  among them. Each party builds its samples from the donations it holds for the spec
 *  (enclave_kind_train_data.c: the ones the ledger no longer allows are wiped), splits a
 *  stratified holdout (ml_split) and checks the privacy budget up front (ml_fed_party_check).
 *  The runners then relay FED_STEP messages between the enclaves; every message is sealed to
 *  the recipient's box key and signed by the sender's enclave key (enclave_kind_train_msg.c),
 *  so a runner sees ciphertext only and cannot forge, redirect or replay one into another
 *  job. The protocol, started by a tick to the coordinator:
 *    1. START -> every party answers STATS (its training count, per-feature sums and sums of
 *       squares); the coordinator pools them into one standardisation (mean, sd) -> SCALE.
 *    2. ml_fed rounds (ml_fed.h): the coordinator runs ml_fed's coordinator with the spec's
 *       aggregation rule (ml_robust: mean, median, trimmed mean, Krum); every party runs
 *       ml_fed's party, which trains with DP-SGD when the config's epsilon is not 0. The
 *       differential privacy is the parties' DP-SGD (record-level, per party, accounted by
 *       ml_dp against the job's epsilon at its delta); the aggregation adds no noise of its
 *       own (ml/ has no aggregation-level mechanism), and the aggregation enclave is the
 *       only place where parties' updates exist in the clear.
 *    3. After "done", every party trains a local-only model (plain SGD from zero, the same
 *       epochs x rounds, no DP: it leaves the party only into the aggregation enclave and
 *       only accuracies come out of the valuation) and sends it with the data ids it used
 *       (LOCAL). The coordinator builds the model of every coalition of parties (the rule
 *       over the coalition's local models; the plain mean where the rule needs more
 *       parties) and sends them with the final global model (EVAL).
 *    4. Every party answers the number of its holdout samples each model classifies right,
 *       the global model's summed log-loss and its privacy spent (REPORT), then wipes its
 *       samples and its donations for the spec. The coordinator's utility of a coalition is
 *       the pooled holdout accuracy; contribution weights are exact Shapley values over the
 *       parties (ml_shapley_exact) for K <= 6, leave-one-out above, clipped at 0 and turned
 *       into basis points summing to 10000 (largest remainders).
 *  PUBLISH (coordinator) signs the proto_publish (records_root and the donor-seq bitmap of
 *  the used ids, parties, weights, metrics); MODEL_SEAL verifies a query enclave's quote
 *  offline and seals the model and the publication to it.
 *  Lost messages: from the second tick of phases 1, 3 and 4 on, the coordinator sends the
 *  phase's message again to the parties it has not heard from, and a party answers a
 *  repeat with what it sent before (its STATS, LOCAL or REPORT, kept encoded); ml_fed's
 *  rounds resend on their own deadline (60 s). A phase that waits 5 minutes fails the job.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train.h"
#include "ml/ml_fed.h"
#include "ml/ml_model.h"
#include "ml/ml_scale.h"
#include "ml/ml_shapley.h"
#include "ml/ml_split.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_publish.h"

#define S_JOBS_MAX 4
#define S_ROUND_TIMEOUT_MS 60000u
#define S_PHASE_TIMEOUT_MS 300000u
#define S_MAX_RETRIES 3u
#define S_CLIP 1.0
#define S_SHAPLEY_EXACT_K 6u
#define S_ENCLAVE_ID_DOMAIN "genie/enclave/id/v1" /* ledger_enclave_id's */
#define S_QUEUE_MAX 64u

/* The party side. */
typedef enum { S_P_PREPARED = 1, S_P_SCALED, S_P_TRAINED, S_P_EVALUATED, S_P_FAILED } s_pphase_t;
/* The coordinator side. */
typedef enum {
    S_C_IDLE = 1,
    S_C_STATS,
    S_C_FED,
    S_C_LOCAL,
    S_C_EVAL,
    S_C_DONE,
    S_C_FAILED
} s_cphase_t;

typedef struct {
    uint8_t job_id[32], spec_id[32];
    enclave_train_config_t cfg;
    uint32_t me, coord, k;
    uint8_t sign_pk[ENCLAVE_WIRE_PARTIES_MAX][32], box_pk[ENCLAVE_WIRE_PARTIES_MAX][32];
    uint8_t query_measurement[32], attest_pk[32];
    uint32_t round;
    /* party */
    s_pphase_t pphase;
    ml_dataset_t *train, *test;
    uint8_t (*used)[32];
    size_t n_used;
    ml_fed_party_opts_t popts;
    ml_fed_party_t *party;
    uint8_t *p_local, *p_report; /* what it sent last (LOCAL, REPORT), resent on a repeat */
    size_t p_local_len, p_report_len;
    /* coordinator (me == coord) */
    s_cphase_t cphase;
    uint64_t deadline;
    uint32_t phase_ticks;                        /* ticks since the phase's messages went */
    uint8_t *done_msg[ENCLAVE_WIRE_PARTIES_MAX]; /* ml_fed's "done" per party, for resends */
    size_t done_len[ENCLAVE_WIRE_PARTIES_MAX];
    bool got[ENCLAVE_WIRE_PARTIES_MAX];
    uint32_t n_got;
    double n_total, *sum, *sumsq, *mean, *sd;
    ml_fed_coord_t *fed;
    double *local[ENCLAVE_WIRE_PARTIES_MAX];
    uint8_t (*ids[ENCLAVE_WIRE_PARTIES_MAX])[32];
    size_t n_ids[ENCLAVE_WIRE_PARTIES_MAX];
    uint64_t n_train[ENCLAVE_WIRE_PARTIES_MAX];
    size_t n_models;
    double *models; /* n_models x dim: the global model, then the coalitions */
    uint64_t masks[ENCLAVE_TRAIN_EVAL_MAX];
    uint64_t correct[ENCLAVE_TRAIN_EVAL_MAX], n_test;
    double loss, eps;
    uint32_t weight_bp[ENCLAVE_WIRE_PARTIES_MAX];
    uint8_t *model, *pub; /* encoded final model and publication */
    size_t model_len, pub_len;
} s_job_t;

struct enclave_jobs_t {
    s_job_t *jobs[S_JOBS_MAX];
};

/* What one FED_STEP makes: messages to other parties, and messages to this enclave itself
   (the coordinator is a party too), handled in order before answering. */
typedef struct {
    const enclave_state_t *st;
    s_job_t *job;
    uint64_t now;
    size_t n_out;
    uint32_t out_to[ENCLAVE_WIRE_FED_OUT_MAX];
    uint8_t *out[ENCLAVE_WIRE_FED_OUT_MAX];
    size_t out_len[ENCLAVE_WIRE_FED_OUT_MAX];
    size_t q_head, q_n;
    uint8_t *queue[S_QUEUE_MAX];
    size_t queue_len[S_QUEUE_MAX];
} s_io_t;

static size_t s_dim(const s_job_t *j)
{
    return j->cfg.p + 1;
}

static void s_free_vec(double **v, size_t n)
{
    if (*v)
        sodium_memzero(*v, n * sizeof **v);
    free(*v);
    *v = NULL;
}

/* Wipes the party's samples (after its evaluation, or with the job). */
static void s_party_wipe(s_job_t *j)
{
    ml_fed_party_destroy(&j->party);
    enclave_train_dataset_wipe(&j->train);
    enclave_train_dataset_wipe(&j->test);
    free(j->used);
    j->used = NULL;
}

static void s_job_free(s_job_t **jp)
{
    s_job_t *j = *jp;
    if (!j)
        return;
    s_party_wipe(j);
    ml_fed_coord_destroy(&j->fed);
    size_t p = j->cfg.p;
    s_free_vec(&j->sum, p);
    s_free_vec(&j->sumsq, p);
    s_free_vec(&j->mean, p);
    s_free_vec(&j->sd, p);
    for (size_t i = 0; i < ENCLAVE_WIRE_PARTIES_MAX; i++) {
        s_free_vec(&j->local[i], s_dim(j));
        free(j->ids[i]);
        free(j->done_msg[i]);
    }
    free(j->p_local);
    free(j->p_report);
    s_free_vec(&j->models, j->n_models * s_dim(j));
    if (j->model)
        sodium_memzero(j->model, j->model_len);
    free(j->model);
    free(j->pub);
    sodium_memzero(j, sizeof *j);
    free(j);
    *jp = NULL;
}

enclave_jobs_t *enclave_jobs_new(void)
{
    return calloc(1, sizeof(enclave_jobs_t));
}

void enclave_jobs_destroy(enclave_jobs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t i = 0; i < S_JOBS_MAX; i++)
        s_job_free(&(*self_p)->jobs[i]);
    free(*self_p);
    *self_p = NULL;
}

static s_job_t *s_find(enclave_jobs_t *js, const uint8_t job_id[32])
{
    for (size_t i = 0; i < S_JOBS_MAX; i++)
        if (js->jobs[i] && memcmp(js->jobs[i]->job_id, job_id, 32) == 0)
            return js->jobs[i];
    return NULL;
}

static bool s_is_coord(const s_job_t *j)
{
    return j->me == j->coord;
}

static bool s_finished(const s_job_t *j)
{
    if (s_is_coord(j))
        return j->cphase == S_C_DONE || j->cphase == S_C_FAILED;
    return j->pphase == S_P_EVALUATED || j->pphase == S_P_FAILED;
}

/* A free slot, evicting the oldest finished job when all are taken; NULL when none. */
static s_job_t **s_slot(enclave_jobs_t *js)
{
    for (size_t i = 0; i < S_JOBS_MAX; i++)
        if (!js->jobs[i])
            return &js->jobs[i];
    for (size_t i = 0; i < S_JOBS_MAX; i++)
        if (s_finished(js->jobs[i])) {
            s_job_free(&js->jobs[i]);
            return &js->jobs[i];
        }
    return NULL;
}

/* ---- TRAIN_PREPARE ---- */

/* Splits ALL into the job's training and holdout sets. */
static int s_split(s_job_t *j, const ml_dataset_t *all, char *err, size_t err_cap)
{
    ml_split_t *sp = NULL;
    int rc =
        ml_split_new(all->x->rows, 0.0, j->cfg.holdout / 100.0, j->cfg.seed ^ j->me, all->y, &sp);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "holdout split");
    if (sp->n_train == 0 || sp->n_test == 0)
        rc = proto_err_fail(err, err_cap, ML_E_EMPTY, "too few samples for a holdout");
    if (rc == PROTO_OK) {
        j->train = ml_dataset_subset(all, sp->train, sp->n_train);
        j->test = ml_dataset_subset(all, sp->test, sp->n_test);
        if (!j->train || !j->test)
            rc = PROTO_E_NOMEM;
    }
    ml_split_destroy(&sp);
    return rc;
}

/* The party's ml_fed options (DP-SGD when eps > 0, sigma chosen to spend eps over the
   planned rounds), checked against the budget. */
static int s_party_opts(s_job_t *j, double *eps, char *err, size_t err_cap)
{
    const enclave_train_config_t *c = &j->cfg;
    ml_fed_party_opts_t *o = &j->popts;
    memset(o, 0, sizeof *o);
    o->id = j->me;
    o->rounds = c->rounds;
    o->sgd.epochs = c->epochs;
    o->sgd.batch = c->batch;
    o->sgd.lr = c->lr;
    o->sgd.l2 = c->l2;
    o->sgd.sampling = ML_SGD_SAMPLE_POISSON;
    if (c->eps > 0) {
        double q = 0;
        uint64_t steps = ml_sgd_steps(&o->sgd, j->train->x->rows, &q) * c->rounds;
        o->sgd.dp = true;
        o->sgd.clip = S_CLIP;
        int rc = ml_dp_sigma_for(c->eps, c->delta, q, steps, &o->sgd.noise);
        if (rc)
            return proto_err_fail(err, err_cap, ML_E_BUDGET, "no noise meets the budget");
        o->dp_delta = c->delta;
        o->dp_eps_max = c->eps;
        randombytes_buf(&o->seed, sizeof o->seed); /* DP noise must be unpredictable */
    } else {
        o->seed = c->seed ^ ((uint64_t)j->me << 32);
    }
    return ml_fed_party_check(o, j->train->x->rows, eps, err, err_cap);
}

/* Copies the request's job fields; checks this enclave is the party it names. */
static int s_job_fill(s_job_t *j, const enclave_state_t *st, const enclave_req_t *req, char *err,
                      size_t err_cap)
{
    const struct enclave_req_train_prepare *p = &req->u.train_prepare;
    memcpy(j->job_id, p->job_id, 32);
    memcpy(j->spec_id, p->spec_id, 32);
    j->me = p->party;
    j->coord = p->coordinator;
    j->k = (uint32_t)p->n_parties;
    memcpy(j->sign_pk, p->sign_pk, sizeof j->sign_pk);
    memcpy(j->box_pk, p->box_pk, sizeof j->box_pk);
    memcpy(j->query_measurement, p->query_measurement, 32);
    memcpy(j->attest_pk, p->attest_pk, 32);
    /* the config first: it is the part worth fuzzing, and a fuzzer cannot guess our keys */
    int rc = enclave_train_config_decode(p->config, p->config_len, &j->cfg, err, err_cap);
    ml_robust_rule_t rule;
    if (rc == PROTO_OK)
        rc = enclave_train_config_rule(&j->cfg, j->k, &rule, err, err_cap);
    if (rc != PROTO_OK)
        return rc;
    if (memcmp(j->sign_pk[j->me], st->sign_pk, 32) != 0 ||
        memcmp(j->box_pk[j->me], st->box_pk, 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "not the party the job names");
    for (uint32_t a = 0; a < j->k; a++)
        for (uint32_t b = 0; b < a; b++)
            if (memcmp(j->sign_pk[a], j->sign_pk[b], 32) == 0)
                return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "a party named twice");
    return PROTO_OK;
}

int enclave_kind_train_prepare(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                               char *err, size_t err_cap)
{
    if (s_find(st->jobs, req->u.train_prepare.job_id))
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "job already prepared");
    s_job_t **slot = s_slot(st->jobs);
    if (!slot)
        return proto_err_fail(err, err_cap, ENCLAVE_E_FULL, "too many running jobs");
    s_job_t *j = calloc(1, sizeof *j);
    if (!j)
        return PROTO_E_NOMEM;
    ml_dataset_t *all = NULL;
    uint32_t dropped = 0;
    double eps = 0;
    int rc = s_job_fill(j, st, req, err, err_cap);
    if (rc == PROTO_OK)
        rc = enclave_train_samples(st->train, j->spec_id, &req->u.train_prepare.eligible, &j->cfg,
                                   &all, &j->used, &j->n_used, &dropped, err, err_cap);
    if (rc == PROTO_OK)
        rc = s_split(j, all, err, err_cap);
    if (rc == PROTO_OK)
        rc = s_party_opts(j, &eps, err, err_cap);
    enclave_train_dataset_wipe(&all);
    if (rc != PROTO_OK) {
        s_job_free(&j);
        return rc;
    }
    j->pphase = S_P_PREPARED;
    j->cphase = S_C_IDLE;
    *slot = j;
    ans->type = ENCLAVE_ANS_PREPARED;
    ans->u.prepared.n_records = (uint32_t)j->n_used;
    ans->u.prepared.n_train = (uint32_t)j->train->x->rows;
    ans->u.prepared.n_test = (uint32_t)j->test->x->rows;
    ans->u.prepared.dropped = dropped;
    return PROTO_OK;
}

/* ---- sending ---- */

/* Sends the encoded payload *BUF (taken) to party TO: sealed into the answer, or queued
   when TO is this enclave. */
static int s_send_raw(s_io_t *io, uint32_t to, uint8_t **buf, size_t len)
{
    s_job_t *j = io->job;
    int rc = PROTO_OK;
    if (to == j->me) {
        if (io->q_head + io->q_n >= S_QUEUE_MAX)
            rc = PROTO_E_TOO_BIG;
        else {
            io->queue[io->q_head + io->q_n] = *buf;
            io->queue_len[io->q_head + io->q_n] = len;
            io->q_n++;
            *buf = NULL;
        }
    } else if (io->n_out >= ENCLAVE_WIRE_FED_OUT_MAX) {
        rc = PROTO_E_TOO_BIG;
    } else {
        rc = enclave_train_msg_seal(j->job_id, j->me, to, *buf, len, io->st->secrets->sign_sk,
                                    j->box_pk[to], &io->out[io->n_out], &io->out_len[io->n_out]);
        if (rc == PROTO_OK)
            io->out_to[io->n_out++] = to;
    }
    if (*buf) {
        sodium_memzero(*buf, len);
        free(*buf);
        *buf = NULL;
    }
    return rc;
}

static int s_send(s_io_t *io, uint32_t to, const enclave_train_payload_t *p)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = enclave_train_payload_encode(p, &buf, &len);
    if (rc == PROTO_OK)
        rc = s_send_raw(io, to, &buf, len);
    return rc;
}

/* As s_send, keeping a copy of the encoded payload in *KEEP (replacing one kept before). */
static int s_send_keep(s_io_t *io, uint32_t to, const enclave_train_payload_t *p, uint8_t **keep,
                       size_t *keep_len)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = enclave_train_payload_encode(p, &buf, &len);
    if (rc != PROTO_OK)
        return rc;
    free(*keep);
    *keep_len = 0;
    if (!(*keep = malloc(len))) {
        free(buf);
        return PROTO_E_NOMEM;
    }
    memcpy(*keep, buf, len);
    *keep_len = len;
    return s_send_raw(io, to, &buf, len);
}

/* Sends a copy of the kept payload KEEP (LEN bytes) again. */
static int s_resend(s_io_t *io, uint32_t to, const uint8_t *keep, size_t len)
{
    if (!keep)
        return PROTO_OK;
    uint8_t *buf = malloc(len);
    if (!buf)
        return PROTO_E_NOMEM;
    memcpy(buf, keep, len);
    return s_send_raw(io, to, &buf, len);
}

static int s_broadcast(s_io_t *io, const enclave_train_payload_t *p)
{
    int rc = PROTO_OK;
    for (uint32_t i = 0; i < io->job->k && rc == PROTO_OK; i++)
        rc = s_send(io, i, p);
    return rc;
}

/* Forwards the ml_fed coordinator's outbox as FED payloads. */
static int s_flush_fed(s_io_t *io)
{
    ml_fed_coord_t *f = io->job->fed;
    int rc = PROTO_OK;
    for (size_t i = 0; i < ml_fed_coord_outbox_count(f) && rc == PROTO_OK; i++) {
        enclave_train_payload_t p = {.kind = ENCLAVE_TRAIN_P_FED};
        uint32_t to = 0;
        ml_fed_coord_outbox_get(f, i, &to, &p.fed, &p.fed_len);
        rc = to < io->job->k ? s_send(io, to, &p) : PROTO_E_INVALID;
    }
    io->job->round = ml_fed_coord_round(f);
    return rc;
}

/* ---- the party side ---- */

static int s_p_stats(s_io_t *io)
{
    s_job_t *j = io->job;
    size_t p = j->cfg.p, n = j->train->x->rows;
    enclave_train_payload_t out = {.kind = ENCLAVE_TRAIN_P_STATS, .n = n, .dim = p};
    out.a = calloc(p, sizeof(double));
    out.b = calloc(p, sizeof(double));
    int rc = out.a && out.b ? PROTO_OK : PROTO_E_NOMEM;
    for (size_t i = 0; i < n && rc == PROTO_OK; i++)
        for (size_t c = 0; c < p; c++) {
            double v = ml_mat_row(j->train->x, i)[c];
            out.a[c] += v;
            out.b[c] += v * v;
        }
    if (rc == PROTO_OK)
        rc = s_send(io, j->coord, &out);
    enclave_train_payload_clear(&out);
    return rc;
}

static void s_apply_scale(ml_mat_t *x, const double *mean, const double *sd)
{
    for (size_t i = 0; i < x->rows; i++)
        for (size_t c = 0; c < x->cols; c++)
            ml_mat_row(x, i)[c] = (ml_mat_row(x, i)[c] - mean[c]) / sd[c];
}

static int s_p_scale(s_io_t *io, const enclave_train_payload_t *in)
{
    s_job_t *j = io->job;
    if (j->pphase != S_P_PREPARED)
        return PROTO_OK; /* a repeat */
    for (size_t c = 0; c < j->cfg.p; c++)
        if (!(in->b[c] > 0))
            return ENCLAVE_E_FED_MSG;
    s_apply_scale(j->train->x, in->a, in->b);
    s_apply_scale(j->test->x, in->a, in->b);
    j->party = ml_fed_party_new(&j->popts, j->train->x, j->train->y);
    if (!j->party)
        return PROTO_E_NOMEM;
    j->pphase = S_P_SCALED;
    return PROTO_OK;
}

/* The party's local-only model (valuation only): plain SGD from zero. */
static int s_p_local(s_io_t *io)
{
    s_job_t *j = io->job;
    enclave_train_payload_t out = {.kind = ENCLAVE_TRAIN_P_LOCAL, .dim = s_dim(j)};
    out.a = calloc(s_dim(j), sizeof(double));
    if (!out.a)
        return PROTO_E_NOMEM;
    ml_sgd_opts_t o = j->popts.sgd;
    o.dp = false;
    o.epochs = (size_t)j->cfg.epochs * j->cfg.rounds;
    ml_sgd_rng_t rng;
    ml_sgd_rng_init(&rng, j->cfg.seed, 0x10ca1u + j->me);
    char err[128];
    int rc = ml_sgd_train(j->train->x, j->train->y, out.a, &o, &rng, NULL, err, sizeof err);
    ml_sgd_rng_wipe(&rng);
    out.ids = j->used;
    out.n_ids = j->n_used;
    if (rc == PROTO_OK)
        rc = s_send_keep(io, j->coord, &out, &j->p_local, &j->p_local_len);
    out.ids = NULL;
    enclave_train_payload_clear(&out);
    return rc;
}

static int s_p_fed(s_io_t *io, const uint8_t *msg, size_t len, ml_fed_kind_t kind)
{
    s_job_t *j = io->job;
    if (j->pphase == S_P_TRAINED && kind == ML_FED_DONE) /* "done" again: LOCAL was lost */
        return s_resend(io, j->coord, j->p_local, j->p_local_len);
    if (j->pphase != S_P_SCALED)
        return j->pphase == S_P_PREPARED ? ENCLAVE_E_JOB : PROTO_OK;
    uint8_t *up = NULL;
    size_t up_len = 0;
    char err[128];
    int rc = ml_fed_party_step(j->party, msg, len, &up, &up_len, err, sizeof err);
    if (rc != PROTO_OK) {
        if (rc == ML_E_BUDGET)
            j->pphase = S_P_FAILED;
        return rc;
    }
    if (up) {
        enclave_train_payload_t p = {.kind = ENCLAVE_TRAIN_P_FED, .fed = up, .fed_len = up_len};
        rc = s_send(io, j->coord, &p);
        free(up);
    }
    if (rc == PROTO_OK && ml_fed_party_final(j->party)) {
        j->pphase = S_P_TRAINED;
        rc = s_p_local(io);
    }
    return rc;
}

static int s_p_eval(s_io_t *io, const enclave_train_payload_t *in)
{
    s_job_t *j = io->job;
    if (j->pphase == S_P_EVALUATED) /* EVAL again: REPORT was lost */
        return s_resend(io, j->coord, j->p_report, j->p_report_len);
    if (j->pphase != S_P_TRAINED)
        return PROTO_OK;
    const ml_dataset_t *t = j->test;
    size_t p = j->cfg.p, n = t->x->rows;
    enclave_train_payload_t out = {.kind = ENCLAVE_TRAIN_P_REPORT, .n = n};
    out.n_models = in->n_models;
    out.correct = calloc(in->n_models, sizeof *out.correct);
    if (!out.correct)
        return PROTO_E_NOMEM;
    for (size_t m = 0; m < in->n_models; m++) {
        const double *w = in->models + m * (p + 1);
        for (size_t i = 0; i < n; i++) {
            double pr = ml_sgd_sigmoid(ml_sgd_margin(ml_mat_row(t->x, i), w, p));
            out.correct[m] += (pr >= 0.5) == (t->y[i] != 0);
            if (m == 0) {
                double q = fmin(fmax(pr, 1e-15), 1 - 1e-15);
                out.loss -= t->y[i] != 0 ? log(q) : log(1 - q);
            }
        }
    }
    out.eps = ml_fed_party_eps(j->party);
    int rc = s_send_keep(io, j->coord, &out, &j->p_report, &j->p_report_len);
    enclave_train_payload_clear(&out);
    /* the evaluation is sent: the data goes */
    s_party_wipe(j);
    (void)enclave_train_wipe_spec(io->st->train, j->spec_id);
    j->pphase = S_P_EVALUATED;
    return rc;
}

/* ---- the coordinator side ---- */

/* Enters phase PH at NOW: nobody heard from yet, a fresh deadline, no tick yet. */
static void s_phase(s_job_t *j, s_cphase_t ph, uint64_t now)
{
    j->cphase = ph;
    j->deadline = now + S_PHASE_TIMEOUT_MS;
    j->phase_ticks = 0;
    memset(j->got, 0, sizeof j->got);
    j->n_got = 0;
}

static int s_c_stats(s_io_t *io, uint32_t from, const enclave_train_payload_t *in)
{
    s_job_t *j = io->job;
    size_t p = j->cfg.p;
    if (j->cphase != S_C_STATS || j->got[from])
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
    ml_fed_spec_t spec = {.parties = j->k,
                          .rounds = j->cfg.rounds,
                          .dim = s_dim(j),
                          .rule = rule,
                          .round_timeout = S_ROUND_TIMEOUT_MS,
                          .max_retries = S_MAX_RETRIES};
    if (rc == PROTO_OK)
        rc = s_broadcast(io, &sc);
    if (rc == PROTO_OK && !(j->fed = ml_fed_coord_new(&spec)))
        rc = PROTO_E_NOMEM;
    if (rc == PROTO_OK)
        rc = ml_fed_coord_start(j->fed, io->now);
    if (rc == PROTO_OK)
        rc = s_flush_fed(io);
    s_phase(j, S_C_FED, io->now);
    return rc;
}

static int s_c_fed(s_io_t *io, const uint8_t *msg, size_t len)
{
    s_job_t *j = io->job;
    if (j->cphase != S_C_FED)
        return PROTO_OK;
    ml_fed_event_t ev = ML_FED_EV_NONE;
    int rc = ml_fed_coord_input(j->fed, msg, len, io->now, &ev);
    if (rc != PROTO_OK)
        return rc == ML_E_FED_MSG || rc > ENCLAVE_E_FIRST ? ENCLAVE_E_FED_MSG : rc;
    if (ev == ML_FED_EV_DONE) {
        s_phase(j, S_C_LOCAL, io->now);
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
static int s_coalition(const s_job_t *j, uint64_t mask, double *out)
{
    const double *v[ENCLAVE_WIRE_PARTIES_MAX];
    double w[ENCLAVE_WIRE_PARTIES_MAX];
    size_t k = 0, dim = s_dim(j);
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

static int s_c_eval_send(s_io_t *io)
{
    s_job_t *j = io->job;
    size_t dim = s_dim(j);
    uint64_t full = ((uint64_t)1 << j->k) - 1;
    j->n_models = 1;
    if (j->k <= S_SHAPLEY_EXACT_K) {
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
    s_phase(j, S_C_EVAL, io->now);
    if (rc == PROTO_OK)
        rc = s_broadcast(io, &ev);
    return rc;
}

static int s_c_local(s_io_t *io, uint32_t from, enclave_train_payload_t *in)
{
    s_job_t *j = io->job;
    if (j->cphase != S_C_LOCAL || j->got[from])
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
    const s_job_t *j;
} s_util_ctx_t;

static int s_utility(void *ctx, uint64_t mask, double *u)
{
    const s_job_t *j = ((s_util_ctx_t *)ctx)->j;
    for (size_t m = 1; m < j->n_models; m++)
        if (j->masks[m] == mask) {
            *u = (double)j->correct[m] / (double)j->n_test;
            return PROTO_OK;
        }
    return ML_E_SPEC;
}

/* Contribution weights in basis points summing to 10000 (largest remainders). */
static int s_c_weights(s_job_t *j)
{
    double value[ENCLAVE_WIRE_PARTIES_MAX], w[ENCLAVE_WIRE_PARTIES_MAX];
    s_util_ctx_t ctx = {j};
    int rc = j->k <= S_SHAPLEY_EXACT_K ? ml_shapley_exact(j->k, s_utility, &ctx, value)
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
static int s_c_model(s_job_t *j)
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
    if (rc == PROTO_OK)
        rc = ml_model_encode(m, &j->model, &j->model_len);
    ml_scale_destroy(&sc);
    ml_model_destroy(&m);
    return rc;
}

static int s_c_report(s_io_t *io, uint32_t from, const enclave_train_payload_t *in)
{
    s_job_t *j = io->job;
    if (j->cphase != S_C_EVAL || j->got[from])
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
    j->cphase = rc == PROTO_OK ? S_C_DONE : S_C_FAILED;
    return rc;
}

/* ---- dispatch ---- */

/* Handles one payload from party FROM (already authenticated). */
static int s_payload(s_io_t *io, uint32_t from, const uint8_t *buf, size_t len)
{
    s_job_t *j = io->job;
    enclave_train_payload_t in;
    int rc = enclave_train_payload_decode(buf, len, j->cfg.p, &in);
    if (rc != PROTO_OK) {
        enclave_train_payload_clear(&in);
        return ENCLAVE_E_FED_MSG;
    }
    bool from_coord = from == j->coord, to_coord = s_is_coord(j);
    ml_fed_msg_t fm;
    memset(&fm, 0, sizeof fm);
    switch (in.kind) {
    case ENCLAVE_TRAIN_P_START:
        rc =
            from_coord ? (j->pphase == S_P_PREPARED ? s_p_stats(io) : PROTO_OK) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_SCALE:
        rc = from_coord ? s_p_scale(io, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_EVAL:
        rc = from_coord ? s_p_eval(io, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_STATS:
        rc = to_coord ? s_c_stats(io, from, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_LOCAL:
        rc = to_coord ? s_c_local(io, from, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_REPORT:
        rc = to_coord ? s_c_report(io, from, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_FED:
        /* updates go to the coordinator role, global and done messages to the party role */
        rc = ml_fed_msg_decode(in.fed, in.fed_len, s_dim(j), &fm);
        if (rc != PROTO_OK)
            rc = ENCLAVE_E_FED_MSG;
        else if (fm.kind == ML_FED_UPDATE)
            rc = to_coord && fm.party == from ? s_c_fed(io, in.fed, in.fed_len) : ENCLAVE_E_FED_MSG;
        else if (from_coord) {
            if (fm.kind == ML_FED_GLOBAL && fm.round > j->round && !to_coord)
                j->round = fm.round;
            rc = s_p_fed(io, in.fed, in.fed_len, fm.kind);
        } else
            rc = ENCLAVE_E_FED_MSG;
        ml_fed_msg_clear(&fm);
        break;
    }
    enclave_train_payload_clear(&in);
    return rc;
}

/* From the second tick of a phase on, sends the phase's message again to every party not
   heard from (a relayed message may be lost; repeats are answered idempotently). */
static int s_resend_phase(s_io_t *io)
{
    s_job_t *j = io->job;
    int rc = PROTO_OK;
    for (uint32_t i = 0; i < j->k && rc == PROTO_OK; i++) {
        if (j->got[i] || i == j->me)
            continue;
        enclave_train_payload_t p = {.kind = ENCLAVE_TRAIN_P_START};
        if (j->cphase == S_C_LOCAL) {
            p.kind = ENCLAVE_TRAIN_P_FED;
            p.fed = j->done_msg[i];
            p.fed_len = j->done_len[i];
            if (!p.fed)
                continue;
        } else if (j->cphase == S_C_EVAL) {
            p.kind = ENCLAVE_TRAIN_P_EVAL;
            p.dim = s_dim(j);
            p.models = j->models;
            p.n_models = j->n_models;
        }
        rc = s_send(io, i, &p);
    }
    return rc;
}

/* Passes time at the coordinator: starts the job, runs ml_fed's deadlines, fails a phase
   that waited too long. */
static int s_tick(s_io_t *io)
{
    s_job_t *j = io->job;
    if (!s_is_coord(j))
        return PROTO_OK;
    int rc = PROTO_OK;
    if (j->cphase == S_C_IDLE) {
        size_t p = j->cfg.p;
        j->sum = calloc(p, sizeof(double));
        j->sumsq = calloc(p, sizeof(double));
        j->mean = calloc(p, sizeof(double));
        j->sd = calloc(p, sizeof(double));
        if (!j->sum || !j->sumsq || !j->mean || !j->sd)
            return PROTO_E_NOMEM;
        s_phase(j, S_C_STATS, io->now);
        enclave_train_payload_t st = {.kind = ENCLAVE_TRAIN_P_START};
        rc = s_broadcast(io, &st);
    } else if (j->cphase == S_C_FED) {
        ml_fed_event_t ev = ML_FED_EV_NONE;
        rc = ml_fed_coord_tick(j->fed, io->now, &ev);
        if (rc == PROTO_OK)
            rc = s_flush_fed(io);
        else
            j->cphase = S_C_FAILED;
    } else if (j->cphase == S_C_STATS || j->cphase == S_C_LOCAL || j->cphase == S_C_EVAL) {
        if (io->now > j->deadline)
            j->cphase = S_C_FAILED;
        else if (j->phase_ticks++ > 0)
            rc = s_resend_phase(io);
    }
    return rc;
}

static void s_io_clear(s_io_t *io)
{
    for (size_t i = 0; i < io->n_out; i++)
        free(io->out[i]);
    for (size_t i = io->q_head; i < io->q_head + io->q_n; i++) {
        sodium_memzero(io->queue[i], io->queue_len[i]);
        free(io->queue[i]);
    }
}

/* Packs the outgoing messages into one buffer (*BLOB) the answer points into. */
static int s_answer(s_io_t *io, enclave_ans_t *ans, uint8_t **blob)
{
    s_job_t *j = io->job;
    size_t total = 1;
    for (size_t i = 0; i < io->n_out; i++)
        total += io->out_len[i];
    if (!(*blob = malloc(total)))
        return PROTO_E_NOMEM;
    ans->type = ENCLAVE_ANS_FED_OUT;
    size_t off = 0;
    for (size_t i = 0; i < io->n_out; i++) {
        memcpy(*blob + off, io->out[i], io->out_len[i]);
        ans->u.fed_out.out[i].to = io->out_to[i];
        ans->u.fed_out.out[i].msg = *blob + off;
        ans->u.fed_out.out[i].len = io->out_len[i];
        off += io->out_len[i];
    }
    ans->u.fed_out.n_out = io->n_out;
    bool failed = s_is_coord(j) ? j->cphase == S_C_FAILED : j->pphase == S_P_FAILED;
    bool done = s_is_coord(j) ? j->cphase == S_C_DONE : j->pphase == S_P_EVALUATED;
    ans->u.fed_out.state = failed ? ENCLAVE_FED_FAILED
                           : done ? ENCLAVE_FED_DONE
                                  : ENCLAVE_FED_RUNNING;
    ans->u.fed_out.round = j->round;
    return PROTO_OK;
}

int enclave_kind_fed_step(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                          uint8_t **blob, char *err, size_t err_cap)
{
    s_job_t *j = s_find(st->jobs, req->u.fed_step.job_id);
    if (!j)
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "no such job");
    s_io_t *io = calloc(1, sizeof *io);
    if (!io)
        return PROTO_E_NOMEM;
    io->st = st;
    io->job = j;
    io->now = enclave_kind_now_ms();
    int rc = PROTO_OK;
    uint32_t from = req->u.fed_step.from;
    if (from == ENCLAVE_WIRE_FED_TICK) {
        rc = s_tick(io);
    } else if (from >= j->k || from == j->me) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_FED_MSG, "not a party of the job");
    } else {
        uint8_t *plain = NULL;
        size_t plain_len = 0, plen = 0;
        const uint8_t *payload = NULL;
        rc = enclave_train_msg_open(req->u.fed_step.msg, req->u.fed_step.msg_len, st->box_pk,
                                    st->secrets->box_sk, j->job_id, from, j->me, j->sign_pk[from],
                                    &plain, &plain_len, &payload, &plen);
        if (rc == PROTO_OK)
            rc = s_payload(io, from, payload, plen);
        if (plain)
            sodium_memzero(plain, plain_len);
        free(plain);
    }
    /* messages to itself, in order */
    while (rc == PROTO_OK && io->q_n > 0) {
        uint8_t *buf = io->queue[io->q_head];
        size_t len = io->queue_len[io->q_head];
        io->queue[io->q_head++] = NULL;
        io->q_n--;
        rc = s_payload(io, j->me, buf, len);
        sodium_memzero(buf, len);
        free(buf);
    }
    if (rc == PROTO_OK)
        rc = s_answer(io, ans, blob);
    else if (rc != ENCLAVE_E_FED_MSG && rc != ENCLAVE_E_JOB && rc != PROTO_E_NOMEM) {
        /* a failure of the job itself, not of one message */
        if (s_is_coord(j))
            j->cphase = S_C_FAILED;
        else
            j->pphase = S_P_FAILED;
    }
    s_io_clear(io);
    free(io);
    return rc;
}

/* ---- PUBLISH ---- */

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The union of the parties' used ids, sorted and unique, into a new *OUT. */
static int s_union(const s_job_t *j, uint8_t (**out)[32], size_t *n)
{
    size_t total = 0;
    for (uint32_t i = 0; i < j->k; i++)
        total += j->n_ids[i];
    uint8_t(*u)[32] = calloc(total ? total : 1, 32);
    if (!u)
        return PROTO_E_NOMEM;
    size_t k = 0;
    for (uint32_t i = 0; i < j->k; i++) {
        memcpy(u[k], j->ids[i], j->n_ids[i] * 32);
        k += j->n_ids[i];
    }
    qsort(u, k, 32, s_id_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || memcmp(u[m - 1], u[i], 32) != 0)
            memmove(u[m++], u[i], 32);
    *out = u;
    *n = m;
    return PROTO_OK;
}

static void s_metric(proto_publish_t *p, const char *name, double v)
{
    proto_publish_metric_t *m = &p->metrics[p->n_metrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value_micro = (int64_t)llround(v * 1e6);
}

static int s_publication(const enclave_state_t *st, s_job_t *j, const enclave_wire_ids_t *donors,
                         proto_publish_t *p, char *err, size_t err_cap)
{
    uint8_t(*u)[32] = NULL;
    size_t n = 0;
    int rc = s_union(j, &u, &n);
    if (rc)
        return rc;
    memset(p, 0, sizeof *p);
    p->version = 1;
    memcpy(p->job_id, j->job_id, 32);
    memcpy(p->spec_id, j->spec_id, 32);
    ml_model_t *m = NULL;
    char merr[64];
    rc = ml_model_decode(j->model, j->model_len, &m, merr, sizeof merr);
    if (rc == PROTO_OK)
        ml_model_hash(m, p->model_hash);
    ml_model_destroy(&m);
    uint64_t n_train = 0;
    for (uint32_t i = 0; i < j->k; i++)
        n_train += j->n_train[i];
    p->n_train = (uint32_t)n_train;
    p->n_test = (uint32_t)j->n_test;
    s_metric(p, "accuracy", (double)j->correct[0] / (double)j->n_test);
    s_metric(p, "logloss", j->loss / (double)j->n_test);
    s_metric(p, "epsilon", j->eps);
    s_metric(p, "rounds", j->cfg.rounds);
    size_t found = 0;
    for (size_t i = 0; i < donors->n && rc == PROTO_OK; i++) {
        uint8_t id[32];
        enclave_wire_ids_get(donors, i, id);
        if (bsearch(id, u, n, 32, s_id_cmp)) {
            if (p->bitmap[i / 8] & (1u << (i % 8)))
                continue;
            p->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            p->bitmap_len = i / 8 + 1; /* no trailing zero byte */
            found++;
        }
    }
    if (rc == PROTO_OK && found != n)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_JOB,
                            "%zu used records are not among the spec's donors", n - found);
    size_t total = 0;
    for (uint32_t i = 0; i < j->k; i++)
        total += j->n_ids[i];
    if (rc == PROTO_OK && total != n)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "a record used by two parties");
    if (rc == PROTO_OK) {
        proto_publish_records_root_inplace(u, n, p->records_root);
        p->n_records = (uint32_t)n;
        p->n_parties = j->k;
        for (uint32_t i = 0; i < j->k; i++) {
            proto_hash(S_ENCLAVE_ID_DOMAIN, j->sign_pk[i], 32, p->parties[i].enclave_id);
            p->parties[i].n_records = (uint32_t)j->n_ids[i];
            p->parties[i].weight_bp = j->weight_bp[i];
        }
        p->time_ms = enclave_kind_now_ms();
        memcpy(p->enclave_pk, st->sign_pk, 32);
        rc = proto_publish_sign(p, st->secrets->sign_sk);
    }
    free(u);
    return rc;
}

int enclave_kind_publish(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                         uint8_t **blob, char *err, size_t err_cap)
{
    s_job_t *j = s_find(st->jobs, req->u.publish.job_id);
    if (!j || !s_is_coord(j) || j->cphase != S_C_DONE)
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "no finished job coordinated here");
    if (req->u.publish.donors.n > PROTO_PUBLISH_BITMAP_MAX * 8u)
        return proto_err_fail(err, err_cap, PROTO_E_TOO_BIG, "too many donors");
    proto_publish_t *p = calloc(1, sizeof *p);
    if (!p)
        return PROTO_E_NOMEM;
    uint8_t *enc = NULL;
    size_t len = 0;
    int rc = s_publication(st, j, &req->u.publish.donors, p, err, err_cap);
    if (rc == PROTO_OK)
        rc = proto_publish_encode(p, &enc, &len);
    free(p);
    if (rc == PROTO_OK && !(*blob = malloc(len + j->model_len)))
        rc = PROTO_E_NOMEM;
    if (rc != PROTO_OK) {
        free(enc);
        return rc;
    }
    free(j->pub);
    j->pub = enc;
    j->pub_len = len;
    memcpy(*blob, enc, len);
    memcpy(*blob + len, j->model, j->model_len);
    ans->type = ENCLAVE_ANS_PUBLICATION;
    ans->u.publication.publication = *blob;
    ans->u.publication.publication_len = len;
    ans->u.publication.model = *blob + len;
    ans->u.publication.model_len = j->model_len;
    return PROTO_OK;
}

/* ---- MODEL_SEAL ---- */

int enclave_kind_model_seal(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                            uint8_t **blob, char *err, size_t err_cap)
{
    s_job_t *j = s_find(st->jobs, req->u.model_seal.job_id);
    if (!j || !s_is_coord(j) || !j->pub)
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "no published job coordinated here");
    proto_attest_quote_t q;
    int rc = proto_attest_quote_decode(req->u.model_seal.quote, req->u.model_seal.quote_len, &q);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "not a quote");
    proto_attest_policy_t pol;
    memset(&pol, 0, sizeof pol);
    pol.want_measurement = j->query_measurement;
    pol.now_ms = enclave_kind_now_ms();
    pol.max_skew_ms = 600000;
    pol.cert_skew_ms = 600000;
    if ((rc = proto_attest_quote_verify(&q, j->attest_pk, &pol, err, err_cap)))
        return rc;
    uint8_t rd[PROTO_ATTEST_REPORT_DATA_LEN];
    proto_attest_report_data(PROTO_ATTEST_KIND_QUERY, rd);
    if (sodium_memcmp(rd, q.body.report_data, sizeof rd) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_KIND, "not a query enclave's quote");
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_bin(&w, j->model, j->model_len);
    proto_wr_bin(&w, j->pub, j->pub_len);
    size_t plen = 0;
    const uint8_t *plain = proto_wr_data(&w, &plen);
    rc = plain ? PROTO_OK : PROTO_E_NOMEM;
    if (rc == PROTO_OK && !(*blob = malloc(plen + crypto_box_SEALBYTES)))
        rc = PROTO_E_NOMEM;
    if (rc == PROTO_OK && crypto_box_seal(*blob, plain, plen, q.body.box_pk) != 0)
        rc = proto_err_fail(err, err_cap, PROTO_E_CRYPTO, "the quote's box key is not usable");
    proto_wr_free(&w);
    if (rc != PROTO_OK)
        return rc;
    ans->type = ENCLAVE_ANS_SEALED_MODEL;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = plen + crypto_box_SEALBYTES;
    return PROTO_OK;
}
