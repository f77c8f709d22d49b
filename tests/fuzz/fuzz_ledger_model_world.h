/*  fuzz_ledger_model_world: issue 16's part of the world fuzz_ledger_tx writes into its
 *  in-memory state (on top of fuzz_ledger_data_world.h), so that tx types 15..19 reach
 *  their deep rules, and the constants gen_ledger_model_corpus.c signs its seeds with.
 *  Written directly as records:
 *  - the sender's record FUZZ_DW_DATA is donor seq 0 of the spec, donated to T;
 *  - a query enclave Q (key seed bytes FUZZ_MW_Q_SEED, measurement FUZZ_MW_QM bytes),
 *    active, its runner the sender;
 *  - the job FUZZ_MW_JOB (bytes 0x1B), RUNNING, coordinator T, query measurement QM, the
 *    spec's current job (one started);
 *  - the model FUZZ_MW_MODEL (bytes 0x4D) of an earlier job, over that record (party T,
 *    weight 10000), query measurement QM, its party pool credited 100; the sender's used
 *    record indexed;
 *  - the buy FUZZ_MW_BUY (bytes 0xB0) of 10 queries of the model at 10 each, escrow 100.
 *  Header-only.
 */
#ifndef GENIE_FUZZ_LEDGER_MODEL_WORLD_H
#define GENIE_FUZZ_LEDGER_MODEL_WORLD_H

#include "ledger/ledger_model.h"
#include "ledger/ledger_model_int.h"
#include "tests/fuzz/fuzz_ledger_data_world.h"

#define FUZZ_MW_Q_SEED 0x62
#define FUZZ_MW_QM 0x03
#define FUZZ_MW_JOB 0x1B
#define FUZZ_MW_MODEL 0x4D
#define FUZZ_MW_BUY 0xB0

/* Writes issue 16's world for sender FROM into ST (after fuzz_dw_build). LEDGER_OK or
   LEDGER_E_NOMEM. */
static inline int fuzz_mw_build(ledger_state_t *st, const uint8_t from[static 32])
{
    uint8_t spec[32], tid[32], pk[32], sk[64], key[LEDGER_DATA_KEY1_LEN], qdir[32];
    char why[LEDGER_ERR_MAX] = "";
    memset(spec, FUZZ_DW_SPEC, 32);
    fuzz_dw_enclave_keys(FUZZ_DW_T_SEED, pk, sk);
    sodium_memzero(sk, sizeof sk);
    ledger_enclave_id(pk, tid);
    ledger_donor_t d = {.time_ms = 1, .height = 1, .seq = 0};
    memcpy(d.spec_id, spec, 32);
    memset(d.data_id, FUZZ_DW_DATA, 32);
    memcpy(d.owner, from, 32);
    memcpy(d.enclave_id, tid, 32);
    int rc = ledger_donor_put(st, &d);
    ledger_data_key1(key, LEDGER_KEY_DONOR_DIR, spec);
    if (rc == LEDGER_OK)
        rc = ledger_data_ids_append(st, key, sizeof key, LEDGER_DONORS_PER_SPEC_MAX, d.data_id,
                                    "full", why, sizeof why);
    if (rc == LEDGER_OK)
        rc =
            fuzz_dw_enclave(st, FUZZ_MW_Q_SEED, PROTO_ATTEST_KIND_QUERY, FUZZ_MW_QM, from, qdir, 0);
    ledger_job_t j = {.rounds = 3, .height = 1, .status = LEDGER_JOB_RUNNING};
    memset(j.id, FUZZ_MW_JOB, 32);
    memcpy(j.spec_id, spec, 32);
    memcpy(j.coordinator, tid, 32);
    memset(j.query_measurement, FUZZ_MW_QM, 32);
    if (rc == LEDGER_OK)
        rc = ledger_job_put(st, &j);
    if (rc == LEDGER_OK)
        rc = ledger_spec_jobs_put(st, spec, j.id, 1);
    ledger_model_t m;
    memset(&m, 0, sizeof m);
    memset(m.id, FUZZ_MW_MODEL, 32);
    memcpy(m.spec_id, spec, 32);
    memset(m.job_id, 0x1A, 32);
    memset(m.model_hash, 0xAB, 32);
    memset(m.query_measurement, FUZZ_MW_QM, 32);
    memcpy(m.coordinator, tid, 32);
    m.n_records = 1;
    m.n_parties = 1;
    memcpy(m.parties[0].enclave_id, tid, 32);
    m.parties[0].n_records = 1;
    m.parties[0].weight_bp = 10000;
    m.height = 1;
    const uint8_t dir[1] = {LEDGER_KEY_MODEL_DIR};
    if (rc == LEDGER_OK)
        rc = ledger_model_put(st, &m);
    if (rc == LEDGER_OK)
        rc = ledger_data_ids_append(st, dir, 1, LEDGER_MODELS_MAX, m.id, "full", why, sizeof why);
    ledger_used_rec_t u = {.party = 0};
    memset(u.data_id, FUZZ_DW_DATA, 32);
    if (rc == LEDGER_OK)
        rc = ledger_model_used_put(st, m.id, from, &u, 1);
    ledger_data_key1(key, LEDGER_KEY_MODEL_USED, from);
    if (rc == LEDGER_OK)
        rc = ledger_data_ids_append(st, key, sizeof key, LEDGER_MODELS_MAX, m.id, "full", why,
                                    sizeof why);
    if (rc == LEDGER_OK)
        rc = ledger_pool_put(st, m.id, 0, 100, 0);
    ledger_buy_t b = {.count = 10, .price = 10, .escrow = 100, .height = 1};
    memset(b.id, FUZZ_MW_BUY, 32);
    memcpy(b.buyer, from, 32);
    memcpy(b.model_id, m.id, 32);
    memset(b.code_hash, 0xC0, 32);
    if (rc == LEDGER_OK)
        rc = ledger_buy_put(st, &b);
    return rc;
}

#endif
