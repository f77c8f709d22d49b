/*  ledger_model: training jobs, published models, paid queries and their settlement
 *  (issue 16), as the node's services and the CLI read them, plus the client tx builders.
 *
 *  The five contracts (tx types 15..19, bodies in ledger_tx.h) live in
 *  ledger_contract_model.c (TRAIN_START, MODEL_PUBLISH) and ledger_contract_settle.c
 *  (QUERY_BUY, USAGE_CLAIM, EARNINGS_CLAIM); their rules are written at the top of each
 *  file and in PROTOCOL.md. The state layout is in ledger_model.c.
 *
 *  Identifiers: job id = txid of TRAIN_START; model id = txid of MODEL_PUBLISH; buy id =
 *  txid of QUERY_BUY.
 *
 *  Money: a buy moves price * count from the buyer's balance into the buy's escrow; each
 *  usage claim moves price * (new queries) out of the escrow into earnings: role earnings
 *  of the runner and the trainer (one amount per account) and the donor pools of the
 *  model (one per party); an earnings claim moves role earnings and a donor's owed share
 *  into its balance. balances + escrows + role earnings + pools (credited - paid) is
 *  constant.
 *
 *  Bounds: jobs per spec, models (in all and per spec) and each account's model list are
 *  bounded below; a model's used records are the spec's donors (<= 8,192) and an owner's
 *  share of them its records (<= 1,024). Buys, like accounts, are keyed records made one
 *  per tx (each costs its price and a nonce); a buy has one claim record per query enclave
 *  that claimed it (<= the enclave registry's bound).
 *
 *  Reads return LEDGER_OK, LEDGER_E_NOT_FOUND, or LEDGER_E_STORE / _CORRUPT / _NOMEM.
 */
#ifndef GENIE_LEDGER_MODEL_H
#define GENIE_LEDGER_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_contract.h"
#include "proto/proto_key.h"
#include "proto/proto_publish.h"

#define LEDGER_TRAIN_ROUNDS_MAX 100    /* rounds of a training job */
#define LEDGER_JOBS_PER_SPEC_MAX 256   /* training jobs a spec may start, ever */
#define LEDGER_MODELS_MAX 4096         /* published models, ever */
#define LEDGER_MODELS_PER_SPEC_MAX 256 /* published models of one spec (<= its jobs) */
#define LEDGER_BUY_COUNT_MAX 1000000   /* queries in one buy */

/*  RUNNING until its model is published (PUBLISHED) or a newer job of the spec starts
 *  before that (REPLACED). */
typedef enum {
    LEDGER_JOB_RUNNING = 1,
    LEDGER_JOB_PUBLISHED = 2,
    LEDGER_JOB_REPLACED = 3
} ledger_job_status_t;

/*  A training job. */
typedef struct {
    uint8_t id[32]; /* the txid of its TRAIN_START */
    uint8_t spec_id[32];
    uint8_t coordinator[32]; /* the coordinating (aggregation) training enclave's id */
    uint32_t rounds;
    uint8_t query_measurement[32]; /* query enclaves that may load the model */
    uint64_t height;               /* started at */
    uint32_t status;               /* ledger_job_status_t */
    uint8_t model_id[32];          /* the published model (zero while running) */
} ledger_job_t;

/*  A published model (what the ledger keeps of its publication). */
typedef struct {
    uint8_t id[32]; /* the txid of its MODEL_PUBLISH */
    uint8_t spec_id[32];
    uint8_t job_id[32];
    uint8_t model_hash[32];
    uint8_t query_measurement[32]; /* the job's */
    uint8_t coordinator[32];       /* the signing enclave's id */
    uint32_t n_train, n_test, n_records;
    size_t n_metrics;
    proto_publish_metric_t metrics[PROTO_PUBLISH_METRICS_MAX];
    size_t n_parties;
    proto_publish_party_t parties[PROTO_PUBLISH_PARTIES_MAX];
    uint64_t time_ms; /* the publication's */
    uint64_t height;  /* published at */
} ledger_model_t;

/*  A buy of queries and its escrow. */
typedef struct {
    uint8_t id[32]; /* the txid of its QUERY_BUY */
    uint8_t buyer[32];
    uint8_t model_id[32];
    uint8_t code_hash[32];
    uint32_t count;   /* queries bought */
    uint32_t claimed; /* queries paid out to query enclaves so far */
    uint64_t price;   /* per query, the spec's at buy time */
    uint64_t escrow;  /* left in escrow: price * (count - claimed) */
    uint64_t height;
} ledger_buy_t;

/*  A donor's owed share in one model. */
typedef struct {
    uint8_t model_id[32];
    uint32_t n_records; /* the account's records used by the model */
    uint64_t owed;      /* what an EARNINGS_CLAIM of that model would pay now */
} ledger_model_owed_t;

/* ---- reads ---- */

int ledger_job_get(ledger_state_t *st, const uint8_t id[static 32], ledger_job_t *out) PROTO_WUR;
/*  The spec's current job (the latest started), LEDGER_E_NOT_FOUND when none. */
int ledger_job_current(ledger_state_t *st, const uint8_t spec_id[static 32],
                       ledger_job_t *out) PROTO_WUR;
int ledger_model_get(ledger_state_t *st, const uint8_t id[static 32],
                     ledger_model_t *out) PROTO_WUR;
/*  Published models, oldest first: those of SPEC_ID, or every model when SPEC_ID is NULL.
 *  *OUT (malloc'd, caller frees; NULL when none) of *N. */
int ledger_model_list(ledger_state_t *st, const uint8_t *spec_id, ledger_model_t **out,
                      size_t *n) PROTO_WUR;
int ledger_buy_get(ledger_state_t *st, const uint8_t id[static 32], ledger_buy_t *out) PROTO_WUR;
/*  The cumulative count query enclave ENCLAVE_ID has claimed for buy BUY_ID (0 when none). */
int ledger_buy_claimed(ledger_state_t *st, const uint8_t buy_id[static 32],
                       const uint8_t enclave_id[static 32], uint64_t *count) PROTO_WUR;
/*  ACCOUNT's role earnings (runner and trainer credits not yet claimed; 0 when none). */
int ledger_earnings_role(ledger_state_t *st, const uint8_t account[static 32],
                         uint64_t *out) PROTO_WUR;
/*  ACCOUNT's owed donor share in model MODEL_ID into *OUT (n_records 0, owed 0 when it has
 *  no used record there). */
int ledger_earnings_owed(ledger_state_t *st, const uint8_t account[static 32],
                         const uint8_t model_id[static 32], ledger_model_owed_t *out) PROTO_WUR;
/*  Every model where ACCOUNT has used records, oldest first, with what it is owed there:
 *  *OUT (malloc'd, caller frees; NULL when none) of *N. */
int ledger_earnings_models(ledger_state_t *st, const uint8_t account[static 32],
                           ledger_model_owed_t **out, size_t *n) PROTO_WUR;
/*  Donor pool PARTY of model MODEL_ID: everything credited to it and paid out of it. */
int ledger_pool_get(ledger_state_t *st, const uint8_t model_id[static 32], uint32_t party,
                    uint64_t *credited, uint64_t *paid) PROTO_WUR;

/*  "running", "published", "replaced" or "unknown" (static). */
const char *ledger_job_status_name(uint32_t status);

/* ---- pure arithmetic ---- */

/*  floor(AMOUNT * BP / 10000) without overflow (BP <= 10000). */
uint64_t ledger_bp_of(uint64_t amount, uint32_t bp);

/* ---- client helpers: build and sign a tx in one call ----
 *  Each returns the signed tx (malloc'd, caller frees) and *LEN, or NULL when an argument
 *  breaks a bound of the body or memory ran out. */

uint8_t *ledger_contract_train_start_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                        uint64_t nonce, const uint8_t spec_id[static 32],
                                        const uint8_t coordinator[static 32], uint32_t rounds,
                                        const uint8_t query_measurement[static 32], size_t *len);
/*  PUBLICATION: an encoded proto_publish (PUB_LEN <= PROTO_PUBLISH_MAX_BYTES, borrowed). */
uint8_t *ledger_contract_model_publish_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const uint8_t *publication,
                                          size_t pub_len, size_t *len);
uint8_t *ledger_contract_query_buy_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                      uint64_t nonce, const uint8_t model_id[static 32],
                                      uint32_t count, const uint8_t code_hash[static 32],
                                      size_t *len);
/*  USAGE: an encoded proto_usage (USAGE_LEN <= PROTO_USAGE_MAX_BYTES, borrowed). */
uint8_t *ledger_contract_usage_claim_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                        uint64_t nonce, const uint8_t *usage, size_t usage_len,
                                        size_t *len);
/*  MODEL_ID: the model whose donor share to claim, or NULL for role earnings only. */
uint8_t *ledger_contract_earnings_claim_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static 32], uint64_t nonce,
                                           const uint8_t *model_id, size_t *len);

#endif
