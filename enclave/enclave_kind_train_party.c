/*  enclave_kind_train_party: a party's side of a federated training job (see the protocol
 *  at the top of enclave_kind_train_fed.c): its statistics for the pooled standardisation,
 *  its ml_fed rounds (DP-SGD when the job has an epsilon), its local-only valuation model,
 *  its evaluation of the coordinator's models on its holdout, and the wipe of its samples
 *  and donations once that evaluation is sent. What it sent last is kept (encoded) and
 *  sent again when the coordinator repeats a message.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train_job.h"

void enclave_job_party_wipe(enclave_job_t *j)
{
    ml_fed_party_destroy(&j->party);
    enclave_train_dataset_wipe(&j->train);
    enclave_train_dataset_wipe(&j->test);
    free(j->used);
    j->used = NULL;
}

/* ---- the party side ---- */

int enclave_job_party_start(enclave_job_io_t *io)
{
    enclave_job_t *j = io->job;
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
        rc = enclave_job_send(io, j->coord, &out);
    enclave_train_payload_clear(&out);
    return rc;
}

static void s_apply_scale(ml_mat_t *x, const double *mean, const double *sd)
{
    for (size_t i = 0; i < x->rows; i++)
        for (size_t c = 0; c < x->cols; c++)
            ml_mat_row(x, i)[c] = (ml_mat_row(x, i)[c] - mean[c]) / sd[c];
}

int enclave_job_party_scale(enclave_job_io_t *io, const enclave_train_payload_t *in)
{
    enclave_job_t *j = io->job;
    if (j->pphase != ENCLAVE_JOB_P_PREPARED)
        return PROTO_OK; /* a repeat */
    for (size_t c = 0; c < j->cfg.p; c++)
        if (!(in->b[c] > 0))
            return ENCLAVE_E_FED_MSG;
    s_apply_scale(j->train->x, in->a, in->b);
    s_apply_scale(j->test->x, in->a, in->b);
    j->party = ml_fed_party_new(&j->popts, j->train->x, j->train->y);
    if (!j->party)
        return PROTO_E_NOMEM;
    j->pphase = ENCLAVE_JOB_P_SCALED;
    return PROTO_OK;
}

/* The party's local-only model (valuation only): plain SGD from zero. */
static int s_p_local(enclave_job_io_t *io)
{
    enclave_job_t *j = io->job;
    enclave_train_payload_t out = {.kind = ENCLAVE_TRAIN_P_LOCAL, .dim = enclave_job_dim(j)};
    out.a = calloc(enclave_job_dim(j), sizeof(double));
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
        rc = enclave_job_send_keep(io, j->coord, &out, &j->p_local, &j->p_local_len);
    out.ids = NULL;
    enclave_train_payload_clear(&out);
    return rc;
}

int enclave_job_party_fed(enclave_job_io_t *io, const uint8_t *msg, size_t len, ml_fed_kind_t kind)
{
    enclave_job_t *j = io->job;
    if (j->pphase == ENCLAVE_JOB_P_TRAINED &&
        kind == ML_FED_DONE) /* "done" again: LOCAL was lost */
        return enclave_job_resend(io, j->coord, j->p_local, j->p_local_len);
    if (j->pphase != ENCLAVE_JOB_P_SCALED)
        return j->pphase == ENCLAVE_JOB_P_PREPARED ? ENCLAVE_E_JOB : PROTO_OK;
    uint8_t *up = NULL;
    size_t up_len = 0;
    char err[128];
    int rc = ml_fed_party_step(j->party, msg, len, &up, &up_len, err, sizeof err);
    if (rc != PROTO_OK) {
        if (rc == ML_E_BUDGET)
            j->pphase = ENCLAVE_JOB_P_FAILED;
        return rc;
    }
    if (up) {
        enclave_train_payload_t p = {.kind = ENCLAVE_TRAIN_P_FED, .fed = up, .fed_len = up_len};
        rc = enclave_job_send(io, j->coord, &p);
        free(up);
    }
    if (rc == PROTO_OK && ml_fed_party_final(j->party)) {
        j->pphase = ENCLAVE_JOB_P_TRAINED;
        rc = s_p_local(io);
    }
    return rc;
}

int enclave_job_party_eval(enclave_job_io_t *io, const enclave_train_payload_t *in)
{
    enclave_job_t *j = io->job;
    if (j->pphase == ENCLAVE_JOB_P_EVALUATED) /* EVAL again: REPORT was lost */
        return enclave_job_resend(io, j->coord, j->p_report, j->p_report_len);
    if (j->pphase != ENCLAVE_JOB_P_TRAINED)
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
    int rc = enclave_job_send_keep(io, j->coord, &out, &j->p_report, &j->p_report_len);
    enclave_train_payload_clear(&out);
    /* the evaluation is sent: the data goes */
    enclave_job_party_wipe(j);
    (void)enclave_train_wipe_spec(io->st->train, j->spec_id);
    j->pphase = ENCLAVE_JOB_P_EVALUATED;
    return rc;
}
