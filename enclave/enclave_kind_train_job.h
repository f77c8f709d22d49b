/*  enclave_kind_train_job: internal to genie-enclave, the state of one federated training
 *  job and what the files that run it share: enclave_kind_train_fed.c (the job store,
 *  TRAIN_PREPARE, FED_STEP's envelope and dispatch, sending), enclave_kind_train_party.c
 *  (every party's side), enclave_kind_train_coord.c (the aggregation enclave's side),
 *  enclave_kind_train_publish.c (PUBLISH, MODEL_SEAL). The protocol is described at the top
 *  of enclave_kind_train_fed.c. Not for callers outside enclave/.
 */
#ifndef GENIE_ENCLAVE_KIND_TRAIN_JOB_H
#define GENIE_ENCLAVE_KIND_TRAIN_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_kind_train.h"
#include "ml/ml_fed.h"

#define ENCLAVE_JOBS_MAX 4                          /* jobs one enclave holds at a time */
#define ENCLAVE_JOB_ROUND_TIMEOUT_MS 60000u         /* ml_fed's round deadline */
#define ENCLAVE_JOB_PHASE_TIMEOUT_MS 300000u        /* the other phases' */
#define ENCLAVE_JOB_MAX_RETRIES 3u                  /* ml_fed's resends of a round */
#define ENCLAVE_JOB_CLIP 1.0                        /* DP-SGD's per-example clip norm */
#define ENCLAVE_JOB_SHAPLEY_EXACT_K 6u              /* exact Shapley up to this many parties */
#define ENCLAVE_JOB_ID_DOMAIN "genie/enclave/id/v1" /* ledger_enclave_id's */
#define ENCLAVE_JOB_QUEUE_MAX 64u                   /* messages to itself in one FED_STEP */

/* The party side. */
typedef enum {
    ENCLAVE_JOB_P_PREPARED = 1,
    ENCLAVE_JOB_P_SCALED,
    ENCLAVE_JOB_P_TRAINED,
    ENCLAVE_JOB_P_EVALUATED,
    ENCLAVE_JOB_P_FAILED
} enclave_job_pphase_t;
/* The coordinator side. */
typedef enum {
    ENCLAVE_JOB_C_IDLE = 1,
    ENCLAVE_JOB_C_STATS,
    ENCLAVE_JOB_C_FED,
    ENCLAVE_JOB_C_LOCAL,
    ENCLAVE_JOB_C_EVAL,
    ENCLAVE_JOB_C_DONE,
    ENCLAVE_JOB_C_FAILED
} enclave_job_cphase_t;

typedef struct {
    uint8_t job_id[32], spec_id[32];
    enclave_train_config_t cfg;
    uint32_t me, coord, k;
    uint8_t sign_pk[ENCLAVE_WIRE_PARTIES_MAX][32], box_pk[ENCLAVE_WIRE_PARTIES_MAX][32];
    uint8_t query_measurement[32], attest_pk[32];
    uint32_t round;
    /* party */
    enclave_job_pphase_t pphase;
    ml_dataset_t *train, *test;
    uint8_t (*used)[32];
    size_t n_used;
    ml_fed_party_opts_t popts;
    ml_fed_party_t *party;
    uint8_t *p_local, *p_report; /* what it sent last (LOCAL, REPORT), resent on a repeat */
    size_t p_local_len, p_report_len;
    /* coordinator (me == coord) */
    enclave_job_cphase_t cphase;
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
} enclave_job_t;

/* The jobs of one enclave (enclave_state_t.jobs). */
struct enclave_jobs_t {
    enclave_job_t *jobs[ENCLAVE_JOBS_MAX];
};

/* What one FED_STEP makes: messages to other parties, and messages to this enclave itself
   (the coordinator is a party too), handled in order before answering. */
typedef struct {
    const enclave_state_t *st;
    enclave_job_t *job;
    uint64_t now;
    size_t n_out;
    uint32_t out_to[ENCLAVE_WIRE_FED_OUT_MAX];
    uint8_t *out[ENCLAVE_WIRE_FED_OUT_MAX];
    size_t out_len[ENCLAVE_WIRE_FED_OUT_MAX];
    size_t q_head, q_n;
    uint8_t *queue[ENCLAVE_JOB_QUEUE_MAX];
    size_t queue_len[ENCLAVE_JOB_QUEUE_MAX];
} enclave_job_io_t;

static inline size_t enclave_job_dim(const enclave_job_t *j)
{
    return j->cfg.p + 1;
}

static inline bool enclave_job_is_coord(const enclave_job_t *j)
{
    return j->me == j->coord;
}

/* ---- enclave_kind_train_fed.c ---- */

/*  The job JOB_ID of JS, or NULL. */
enclave_job_t *enclave_jobs_find(enclave_jobs_t *js, const uint8_t job_id[32]);
/*  Encodes P and sends it to party TO: sealed and signed into the answer, or queued when TO
 *  is this enclave. PROTO_E_TOO_BIG past ENCLAVE_WIRE_FED_OUT_MAX / the queue, encoding
 *  and sealing errors. */
int enclave_job_send(enclave_job_io_t *io, uint32_t to, const enclave_train_payload_t *p);
/*  As enclave_job_send, keeping a copy of the encoded payload in *KEEP (malloc'd, replacing
 *  one kept before; the job frees it). */
int enclave_job_send_keep(enclave_job_io_t *io, uint32_t to, const enclave_train_payload_t *p,
                          uint8_t **keep, size_t *keep_len);
/*  Sends a copy of the kept encoded payload KEEP (LEN bytes) again; nothing when NULL. */
int enclave_job_resend(enclave_job_io_t *io, uint32_t to, const uint8_t *keep, size_t len);
/*  enclave_job_send to every party, this one included. */
int enclave_job_broadcast(enclave_job_io_t *io, const enclave_train_payload_t *p);

/* ---- enclave_kind_train_party.c: payloads to the party role ---- */

/*  Wipes the party's samples and its ml_fed party (after its evaluation, or with the job). */
void enclave_job_party_wipe(enclave_job_t *j);
/*  START: sends STATS (count, per-feature sums and sums of squares of the training set). */
int enclave_job_party_start(enclave_job_io_t *io);
/*  SCALE: standardises the training and holdout sets, makes the ml_fed party. */
int enclave_job_party_scale(enclave_job_io_t *io, const enclave_train_payload_t *in);
/*  An ml_fed message of KIND (global or done) from the coordinator. */
int enclave_job_party_fed(enclave_job_io_t *io, const uint8_t *msg, size_t len, ml_fed_kind_t kind);
/*  EVAL: counts the holdout samples each model classifies right, sends REPORT, wipes. */
int enclave_job_party_eval(enclave_job_io_t *io, const enclave_train_payload_t *in);

/* ---- enclave_kind_train_coord.c: payloads to the coordinator role, and time ---- */

int enclave_job_coord_stats(enclave_job_io_t *io, uint32_t from, const enclave_train_payload_t *in);
/*  An ml_fed update; ENCLAVE_E_FED_MSG when ml_fed refuses the message itself. */
int enclave_job_coord_fed(enclave_job_io_t *io, const uint8_t *msg, size_t len);
/*  LOCAL (takes IN's vectors). */
int enclave_job_coord_local(enclave_job_io_t *io, uint32_t from, enclave_train_payload_t *in);
int enclave_job_coord_report(enclave_job_io_t *io, uint32_t from,
                             const enclave_train_payload_t *in);
/*  A tick: starts the job, runs ml_fed's deadlines, resends what a phase misses, fails a
 *  phase past its deadline. */
int enclave_job_coord_tick(enclave_job_io_t *io);

#endif
