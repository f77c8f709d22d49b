/*  ledger_model_int: what the issue 16 contracts (ledger_contract_model.c,
 *  ledger_contract_settle.c) share with their state module (ledger_model.c): record writers,
 *  the small counters and the contract rows' functions (the table in ledger_contract.c).
 *  Not for other modules (they use ledger_model.h).
 */
#ifndef GENIE_LEDGER_MODEL_INT_H
#define GENIE_LEDGER_MODEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_model.h"
#include "ledger/ledger_tx.h"

/*  One used record of a model, in the owner's index ('q' model owner). */
typedef struct {
    uint8_t data_id[32];
    uint8_t party; /* index into the model's parties */
} ledger_used_rec_t;

int ledger_job_put(ledger_state_t *st, const ledger_job_t *j) PROTO_WUR;
/*  The spec's current job id (zero when none) and how many jobs it started. */
int ledger_spec_jobs(ledger_state_t *st, const uint8_t spec_id[static 32], uint8_t cur[static 32],
                     uint32_t *started) PROTO_WUR;
int ledger_spec_jobs_put(ledger_state_t *st, const uint8_t spec_id[static 32],
                         const uint8_t cur[static 32], uint32_t started) PROTO_WUR;
/*  Writes model M under its id (the directories are appended by the contract). */
int ledger_model_put(ledger_state_t *st, const ledger_model_t *m) PROTO_WUR;
/*  OWNER's used records in MODEL_ID (N <= LEDGER_DATA_PER_OWNER_MAX entries). */
int ledger_model_used_put(ledger_state_t *st, const uint8_t model_id[static 32],
                          const uint8_t owner[static 32], const ledger_used_rec_t *recs,
                          size_t n) PROTO_WUR;
/*  OWNER's used records in MODEL_ID: *OUT (malloc'd, caller frees; NULL when none) of *N. */
int ledger_model_used_get(ledger_state_t *st, const uint8_t model_id[static 32],
                          const uint8_t owner[static 32], ledger_used_rec_t **out,
                          size_t *n) PROTO_WUR;
int ledger_buy_put(ledger_state_t *st, const ledger_buy_t *b) PROTO_WUR;
int ledger_buy_claimed_put(ledger_state_t *st, const uint8_t buy_id[static 32],
                           const uint8_t enclave_id[static 32], uint64_t count) PROTO_WUR;
int ledger_earnings_role_put(ledger_state_t *st, const uint8_t account[static 32],
                             uint64_t v) PROTO_WUR;
int ledger_pool_put(ledger_state_t *st, const uint8_t model_id[static 32], uint32_t party,
                    uint64_t credited, uint64_t paid) PROTO_WUR;
/*  What record DATA_ID was paid from model MODEL_ID so far (0 when nothing). */
int ledger_record_paid(ledger_state_t *st, const uint8_t model_id[static 32],
                       const uint8_t data_id[static 32], uint64_t *paid) PROTO_WUR;
int ledger_record_paid_put(ledger_state_t *st, const uint8_t model_id[static 32],
                           const uint8_t data_id[static 32], uint64_t paid) PROTO_WUR;
/*  floor(credited / n_records) - paid for one record of a pool (0 when N_RECORDS is 0 or
 *  the record is paid up). */
uint64_t ledger_record_owed(uint64_t credited, uint32_t n_records, uint64_t paid);

LEDGER_CONTRACT_ROW_DECL(train_start)
LEDGER_CONTRACT_ROW_DECL(model_publish)
LEDGER_CONTRACT_ROW_DECL(query_buy)
LEDGER_CONTRACT_ROW_DECL(usage_claim)
LEDGER_CONTRACT_ROW_DECL(earnings_claim)

#endif
