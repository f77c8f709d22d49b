/*  enclave_kind: internal to genie-enclave, what enclave_prog.c shares with the per-kind
 *  files (enclave_kind_validation.c, enclave_kind_training.c, enclave_kind_query.c).
 *  Not for callers outside enclave/.
 *
 *  A kind handler gets a decoded request and fills an answer; byte fields of the answer it
 *  makes (a report, a receipt, a sealed result) are malloc'd into *BLOB, which the loop
 *  frees after sending. A handler returns 0 with *ANS filled, or a negative code that the
 *  loop sends back as an ERROR answer with the detail in ERR.
 */
#ifndef GENIE_ENCLAVE_KIND_H
#define GENIE_ENCLAVE_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_wire.h"
#include "proto/proto_mp.h"

/* The enclave's secrets, in one sodium_malloc'd block (locked, guard pages, wiped). */
typedef struct {
    uint8_t sign_sk[64];  /* libsodium Ed25519 secret key */
    uint8_t box_sk[32];   /* X25519 secret key */
    uint8_t seal_key[32]; /* the platform's seal key for this measurement, from INIT */
} enclave_secrets_t;

typedef struct enclave_train_t enclave_train_t;
typedef struct enclave_jobs_t enclave_jobs_t;
typedef struct enclave_query_t enclave_query_t;
typedef struct ledger_light_t ledger_light_t;

/* The running enclave. */
typedef struct {
    enclave_kind_t kind;
    enclave_secrets_t *secrets; /* sodium_malloc */
    uint8_t sign_pk[32];
    uint8_t box_pk[32];
    uint8_t chain_id[32];   /* the chain bound at INIT (report data; CHAIN must match it) */
    enclave_train_t *train; /* training kind only */
    enclave_jobs_t *jobs;   /* training kind only: federated jobs (enclave_kind_train_fed.c) */
    /* issue 16 */
    ledger_light_t *light;  /* the chain the enclave follows (CHAIN, any kind); NULL before */
    enclave_query_t *query; /* query kind only: loaded models, buys and their counters */
} enclave_state_t;

/* Current Unix time in ms (CLOCK_REALTIME: the simulated platform's clock is the OS's). */
uint64_t enclave_kind_now_ms(void);

int enclave_kind_validate(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                          uint8_t **blob, char *err, size_t err_cap);

enclave_train_t *enclave_train_new(void);
/* Wipes every held donation and frees the store; tolerates NULL; sets *self_p to NULL. */
void enclave_train_destroy(enclave_train_t **self_p);
int enclave_kind_donate(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                        uint8_t **blob, char *err, size_t err_cap);
/* DONATE_KEYED: opens the grant, then the blob with the granted key, checks the commitment
   against the data id, keeps the data and signs a receipt as DONATE does. */
int enclave_kind_donate_keyed(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                              uint8_t **blob, char *err, size_t err_cap);
int enclave_kind_stats(enclave_state_t *st, enclave_ans_t *ans);
int enclave_kind_drop(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans);

/* ---- held donations, as the training jobs read them ---- */

/* One held donation; the pointers live until the donation is wiped or the store destroyed. */
typedef struct {
    const uint8_t *spec_id, *data_id, *donor; /* 32 bytes each */
    const uint8_t *data;                      /* the donated bytes (salt excluded) */
    size_t len;
} enclave_donation_view_t;

size_t enclave_train_count(const enclave_train_t *t);
/* Donation I (< count) into *OUT. */
void enclave_train_view(const enclave_train_t *t, size_t i, enclave_donation_view_t *out);
/* Wipes the donation (SPEC_ID, DATA_ID) if held (true); views taken before are invalid. */
bool enclave_train_wipe(enclave_train_t *t, const uint8_t spec_id[static 32],
                        const uint8_t data_id[static 32]);
/* Wipes every donation of SPEC_ID; their number. */
size_t enclave_train_wipe_spec(enclave_train_t *t, const uint8_t spec_id[static 32]);

/* ---- federated training (enclave_kind_train_fed.c) ---- */

enclave_jobs_t *enclave_jobs_new(void);
/* Wipes every job (data sets, models) and frees them; tolerates NULL; sets *self_p to NULL. */
void enclave_jobs_destroy(enclave_jobs_t **self_p);
int enclave_kind_train_prepare(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                               char *err, size_t err_cap);
int enclave_kind_fed_step(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                          uint8_t **blob, char *err, size_t err_cap);
int enclave_kind_publish(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                         uint8_t **blob, char *err, size_t err_cap);
int enclave_kind_model_seal(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                            uint8_t **blob, char *err, size_t err_cap);

/* ---- query enclaves and the light client (enclave_kind_query.c) ---- */

enclave_query_t *enclave_query_new(void);
/* Frees the models (their weights wiped) and the buy table; tolerates NULL; sets *self_p to
   NULL. */
void enclave_query_destroy(enclave_query_t **self_p);
/* CHAIN (any kind): becomes a light client of the genesis, which must give the chain id
   bound at INIT (another is refused: ENCLAVE_E_CHAIN); the same genesis again answers the
   same chain id. */
int enclave_kind_chain(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans, char *err,
                       size_t err_cap);
/* CHAIN_BLOCK (any kind with a chain): feeds a certified block to the light client
   (ledger_light_advance), in height order; answers LIGHT with the light height. A block at
   or below it is answered at once (idempotent); AFTER not the light height is refused
   (ENCLAVE_E_GAP), a block that does not follow (forged, another chain, bad certificate,
   a refused vote) too (ENCLAVE_E_PROOF), with the client unchanged. */
int enclave_kind_chain_block(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                             char *err, size_t err_cap);
/* MODEL_LOAD: opens the sealed model, checks it is the one the proven MODEL_PUBLISH tx
   published, keeps it (ENCLAVE_QUERY_MAX_MODELS). */
int enclave_kind_model_load(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                            char *err, size_t err_cap);
/* QUERY: checks the payment (the proven QUERY_BUY, its access code and count), predicts,
   seals the result to the asker's reply key into *BLOB. */
int enclave_kind_query(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                       uint8_t **blob, char *err, size_t err_cap);
/* USAGE: the signed proto_usage of one buy into *BLOB. */
int enclave_kind_usage(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                       uint8_t **blob, char *err, size_t err_cap);

/* Shared by the enclave and the askers (enclave_query_seal.c): the sealing context of a
   query (RESULT false: "genie/query/2") or of its result ("genie/query-result/2"), followed
   by MODEL_ID and BUY_ID, into OUT; returns its length. */
#define ENCLAVE_QUERY_CONTEXT_MAX 96u
size_t enclave_query_context(bool result, const uint8_t model_id[static 32],
                             const uint8_t buy_id[static 32],
                             uint8_t out[static ENCLAVE_QUERY_CONTEXT_MAX]);

#endif
