/*  enclave_kind_train_fed: federated training across training enclaves, one of them the
 *  aggregation enclave (the job's coordinator), inside genie-enclave. This file holds the
 *  job store, TRAIN_PREPARE, FED_STEP (the envelope, the dispatch of payloads to the party
 *  side, enclave_kind_train_party.c, and the coordinator side, enclave_kind_train_coord.c)
 *  and sending; PUBLISH and MODEL_SEAL are in enclave_kind_train_publish.c.
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
 *       ml_fed's party, which trains with DP-SGD when the config's epsilon is not 0. Two
 *       guarantees: the parties' DP-SGD (record-level, per party, accounted by ml_dp against
 *       the job's epsilon at its delta), and the aggregation's own (party-level, ml_fed.h):
 *       the coordinator clips each party's delta to agg_clip, combines the clipped deltas
 *       with the rule weighing parties equally and adds Gaussian noise of std z * sens
 *       (ml_robust_sensitivity), z the smallest that keeps the planned rounds within
 *       agg_eps at delta (checked by every party at TRAIN_PREPARE, charged per round by
 *       the coordinator's accountant), drawn from a stream seeded by libsodium's
 *       randombytes inside the enclave. The aggregation enclave is the only place where
 *       parties' updates exist in the clear; every global model leaving it is noised.
 *    3. After "done", every party trains a local-only model (plain SGD from zero, the same
 *       epochs x rounds, no DP: it leaves the party only into the aggregation enclave and
 *       only accuracies come out of the valuation; those accuracies and the contribution
 *       weights are NOT covered by the aggregation's guarantee) and sends it with the data ids it
 * used (LOCAL). The coordinator builds the model of every coalition of parties (the rule over the
 * coalition's local models; the plain mean where the rule needs more parties) and sends them with
 * the final global model (EVAL).
 *    4. Every party answers the number of its holdout samples each model classifies right,
 *       the global model's summed log-loss and its privacy spent (REPORT), then wipes its
 *       samples and its donations for the spec. The coordinator's utility of a coalition is
 *       the pooled holdout accuracy; contribution weights are exact Shapley values over the
 *       parties (ml_shapley_exact) for K <= 6, leave-one-out above, clipped at 0 and turned
 *       into basis points summing to 10000 (largest remainders).
 *  PUBLISH (coordinator) signs the proto_publish (records_root and the donor-seq bitmap of
 *  the used ids, parties, weights, metrics); MODEL_SEAL verifies a query enclave's quote
 *  offline and seals the model and the publication to it.
 *  Lost messages: at ticks 2, 4, 8, 16, ... of phases 1, 3 and 4 the coordinator sends the
 *  phase's message again to the parties it has not heard from, and a party answers a
 *  repeat with what it sent before (its STATS, LOCAL or REPORT, kept encoded); ml_fed's
 *  rounds resend on their own deadline (60 s). A phase that waits 5 minutes fails the job.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train_job.h"
#include "ml/ml_split.h"

static void s_free_vec(double **v, size_t n)
{
    if (*v)
        sodium_memzero(*v, n * sizeof **v);
    free(*v);
    *v = NULL;
}

/* Wipes the party's samples (after its evaluation, or with the job). */
static void s_job_free(enclave_job_t **jp)
{
    enclave_job_t *j = *jp;
    if (!j)
        return;
    enclave_job_party_wipe(j);
    ml_fed_coord_destroy(&j->fed);
    size_t p = j->cfg.p;
    s_free_vec(&j->sum, p);
    s_free_vec(&j->sumsq, p);
    s_free_vec(&j->mean, p);
    s_free_vec(&j->sd, p);
    for (size_t i = 0; i < ENCLAVE_WIRE_PARTIES_MAX; i++) {
        s_free_vec(&j->local[i], enclave_job_dim(j));
        free(j->ids[i]);
        free(j->done_msg[i]);
    }
    free(j->p_local);
    free(j->p_report);
    s_free_vec(&j->models, j->n_models * enclave_job_dim(j));
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
    for (size_t i = 0; i < ENCLAVE_JOBS_MAX; i++)
        s_job_free(&(*self_p)->jobs[i]);
    free(*self_p);
    *self_p = NULL;
}

enclave_job_t *enclave_jobs_find(enclave_jobs_t *js, const uint8_t job_id[32])
{
    for (size_t i = 0; i < ENCLAVE_JOBS_MAX; i++)
        if (js->jobs[i] && memcmp(js->jobs[i]->job_id, job_id, 32) == 0)
            return js->jobs[i];
    return NULL;
}

static bool s_finished(const enclave_job_t *j)
{
    if (enclave_job_is_coord(j))
        return j->cphase == ENCLAVE_JOB_C_DONE || j->cphase == ENCLAVE_JOB_C_FAILED;
    return j->pphase == ENCLAVE_JOB_P_EVALUATED || j->pphase == ENCLAVE_JOB_P_FAILED;
}

/* A free slot, evicting the oldest finished job when all are taken; NULL when none. */
static enclave_job_t **s_slot(enclave_jobs_t *js)
{
    for (size_t i = 0; i < ENCLAVE_JOBS_MAX; i++)
        if (!js->jobs[i])
            return &js->jobs[i];
    for (size_t i = 0; i < ENCLAVE_JOBS_MAX; i++)
        if (s_finished(js->jobs[i])) {
            s_job_free(&js->jobs[i]);
            return &js->jobs[i];
        }
    return NULL;
}

/* ---- TRAIN_PREPARE ---- */

/* Splits ALL into the job's training and holdout sets. */
static int s_split(enclave_job_t *j, const ml_dataset_t *all, char *err, size_t err_cap)
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
static int s_party_opts(enclave_job_t *j, double *eps, char *err, size_t err_cap)
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
        o->sgd.clip = ENCLAVE_JOB_CLIP;
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
static int s_job_fill(enclave_job_t *j, const enclave_state_t *st, const enclave_req_t *req,
                      char *err, size_t err_cap)
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
    double z = 0;
    if (rc == PROTO_OK)
        rc = enclave_train_config_rule(&j->cfg, j->k, &rule, err, err_cap);
    if (rc == PROTO_OK) /* the aggregation's budget, up front on every party */
        rc = enclave_train_config_agg_noise(&j->cfg, &z, err, err_cap);
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
    if (enclave_jobs_find(st->jobs, req->u.train_prepare.job_id))
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "job already prepared");
    enclave_job_t **slot = s_slot(st->jobs);
    if (!slot)
        return proto_err_fail(err, err_cap, ENCLAVE_E_FULL, "too many running jobs");
    enclave_job_t *j = calloc(1, sizeof *j);
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
    j->pphase = ENCLAVE_JOB_P_PREPARED;
    j->cphase = ENCLAVE_JOB_C_IDLE;
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
static int s_send_raw(enclave_job_io_t *io, uint32_t to, uint8_t **buf, size_t len)
{
    enclave_job_t *j = io->job;
    int rc = PROTO_OK;
    if (to == j->me) {
        if (io->q_head + io->q_n >= ENCLAVE_JOB_QUEUE_MAX)
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

int enclave_job_send(enclave_job_io_t *io, uint32_t to, const enclave_train_payload_t *p)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = enclave_train_payload_encode(p, &buf, &len);
    if (rc == PROTO_OK)
        rc = s_send_raw(io, to, &buf, len);
    return rc;
}

/* As s_send, keeping a copy of the encoded payload in *KEEP (replacing one kept before). */
int enclave_job_send_keep(enclave_job_io_t *io, uint32_t to, const enclave_train_payload_t *p,
                          uint8_t **keep, size_t *keep_len)
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
int enclave_job_resend(enclave_job_io_t *io, uint32_t to, const uint8_t *keep, size_t len)
{
    if (!keep)
        return PROTO_OK;
    uint8_t *buf = malloc(len);
    if (!buf)
        return PROTO_E_NOMEM;
    memcpy(buf, keep, len);
    return s_send_raw(io, to, &buf, len);
}

int enclave_job_broadcast(enclave_job_io_t *io, const enclave_train_payload_t *p)
{
    int rc = PROTO_OK;
    for (uint32_t i = 0; i < io->job->k && rc == PROTO_OK; i++)
        rc = enclave_job_send(io, i, p);
    return rc;
}

/* ---- dispatch ---- */

/* Handles one payload from party FROM (already authenticated). */
static int s_payload(enclave_job_io_t *io, uint32_t from, const uint8_t *buf, size_t len)
{
    enclave_job_t *j = io->job;
    enclave_train_payload_t in;
    int rc = enclave_train_payload_decode(buf, len, j->cfg.p, &in);
    if (rc != PROTO_OK) {
        enclave_train_payload_clear(&in);
        return ENCLAVE_E_FED_MSG;
    }
    bool from_coord = from == j->coord, to_coord = enclave_job_is_coord(j);
    ml_fed_msg_t fm;
    memset(&fm, 0, sizeof fm);
    switch (in.kind) {
    case ENCLAVE_TRAIN_P_START:
        rc = from_coord
                 ? (j->pphase == ENCLAVE_JOB_P_PREPARED ? enclave_job_party_start(io) : PROTO_OK)
                 : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_SCALE:
        rc = from_coord ? enclave_job_party_scale(io, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_EVAL:
        rc = from_coord ? enclave_job_party_eval(io, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_STATS:
        rc = to_coord ? enclave_job_coord_stats(io, from, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_LOCAL:
        rc = to_coord ? enclave_job_coord_local(io, from, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_REPORT:
        rc = to_coord ? enclave_job_coord_report(io, from, &in) : ENCLAVE_E_FED_MSG;
        break;
    case ENCLAVE_TRAIN_P_FED:
        /* updates go to the coordinator role, global and done messages to the party role */
        rc = ml_fed_msg_decode(in.fed, in.fed_len, enclave_job_dim(j), &fm);
        if (rc != PROTO_OK)
            rc = ENCLAVE_E_FED_MSG;
        else if (fm.kind == ML_FED_UPDATE)
            rc = to_coord && fm.party == from ? enclave_job_coord_fed(io, in.fed, in.fed_len)
                                              : ENCLAVE_E_FED_MSG;
        else if (from_coord) {
            if (fm.kind == ML_FED_GLOBAL && fm.round > j->round && !to_coord)
                j->round = fm.round;
            rc = enclave_job_party_fed(io, in.fed, in.fed_len, fm.kind);
        } else
            rc = ENCLAVE_E_FED_MSG;
        ml_fed_msg_clear(&fm);
        break;
    }
    enclave_train_payload_clear(&in);
    return rc;
}

static void s_io_clear(enclave_job_io_t *io)
{
    for (size_t i = 0; i < io->n_out; i++)
        free(io->out[i]);
    for (size_t i = io->q_head; i < io->q_head + io->q_n; i++) {
        sodium_memzero(io->queue[i], io->queue_len[i]);
        free(io->queue[i]);
    }
}

/* Packs the outgoing messages into one buffer (*BLOB) the answer points into. */
static int s_answer(enclave_job_io_t *io, enclave_ans_t *ans, uint8_t **blob)
{
    enclave_job_t *j = io->job;
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
    bool failed = enclave_job_is_coord(j) ? j->cphase == ENCLAVE_JOB_C_FAILED
                                          : j->pphase == ENCLAVE_JOB_P_FAILED;
    bool done = enclave_job_is_coord(j) ? j->cphase == ENCLAVE_JOB_C_DONE
                                        : j->pphase == ENCLAVE_JOB_P_EVALUATED;
    ans->u.fed_out.state = failed ? ENCLAVE_FED_FAILED
                           : done ? ENCLAVE_FED_DONE
                                  : ENCLAVE_FED_RUNNING;
    ans->u.fed_out.round = j->round;
    return PROTO_OK;
}

int enclave_kind_fed_step(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                          uint8_t **blob, char *err, size_t err_cap)
{
    enclave_job_t *j = enclave_jobs_find(st->jobs, req->u.fed_step.job_id);
    if (!j)
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "no such job");
    enclave_job_io_t *io = calloc(1, sizeof *io);
    if (!io)
        return PROTO_E_NOMEM;
    io->st = st;
    io->job = j;
    io->now = enclave_kind_now_ms();
    int rc = PROTO_OK;
    uint32_t from = req->u.fed_step.from;
    if (from == ENCLAVE_WIRE_FED_TICK) {
        rc = enclave_job_coord_tick(io);
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
        if (enclave_job_is_coord(j))
            j->cphase = ENCLAVE_JOB_C_FAILED;
        else
            j->pphase = ENCLAVE_JOB_P_FAILED;
    }
    s_io_clear(io);
    free(io);
    return rc;
}
