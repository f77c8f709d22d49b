/*  fuzz_ledger_data_world: the small data-owner world fuzz_ledger_tx writes into its
 *  in-memory state before applying a tx, so that the data owner's contracts (tx types
 *  6..13) reach their deep rules, and the constants gen_ledger_data_corpus.c signs its
 *  seeds with. Written directly as records (cheap per input), never through txs:
 *  - a validation enclave V (key seed bytes FUZZ_DW_V_SEED, measurement bytes 0x01) and a
 *    training enclave T (FUZZ_DW_T_SEED, measurement 0x02), active, on platform 0x41; T's
 *    runner is the sender (so ENCLAVE_RETIRE of T passes), V's the zero account;
 *  - the sender is a registered trainer, owns the active record FUZZ_DW_DATA (bytes 0xD0)
 *    and has a default consent allowing every type and purpose, epsilon 100.000, no audits;
 *  - the spec FUZZ_DW_SPEC (bytes 0x5E), prs/research, training in T's measurement.
 *  Header-only.
 */
#ifndef GENIE_FUZZ_LEDGER_DATA_WORLD_H
#define GENIE_FUZZ_LEDGER_DATA_WORLD_H

#include <sodium.h>
#include <string.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_enclave_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_attest.h"

#define FUZZ_DW_V_SEED 0x60
#define FUZZ_DW_T_SEED 0x61
#define FUZZ_DW_DATA 0xD0
#define FUZZ_DW_SPEC 0x5E

/* The enclave key pair of seed bytes B. */
static inline void fuzz_dw_enclave_keys(uint8_t b, uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    memset(seed, b, sizeof seed);
    if (crypto_sign_seed_keypair(pk, sk, seed) != 0)
        abort();
}

static inline int fuzz_dw_enclave(ledger_state_t *st, uint8_t seed, uint32_t kind, uint8_t mbyte,
                                  const uint8_t *runner, uint8_t *dir, size_t at)
{
    ledger_enclave_t e;
    uint8_t sk[64], key[LEDGER_ENCLAVE_EKEY_LEN], rec[LEDGER_ENCLAVE_REC_LEN];
    memset(&e, 0, sizeof e);
    fuzz_dw_enclave_keys(seed, e.sign_pk, sk);
    sodium_memzero(sk, sizeof sk);
    ledger_enclave_id(e.sign_pk, e.id);
    e.kind = kind;
    memset(e.measurement, mbyte, 32);
    memset(e.box_pk, seed ^ 0x5a, 32);
    memset(e.platform_pk, 0x41, 32);
    e.status = LEDGER_ENCLAVE_ACTIVE;
    if (runner)
        memcpy(e.runner, runner, 32);
    ledger_enclave_rec_encode(&e, rec);
    ledger_enclave_key(key, LEDGER_KEY_ENCLAVE, e.id);
    memcpy(dir + at * 32, e.id, 32);
    return ledger_state_put(st, key, sizeof key, rec, sizeof rec);
}

/* Writes the world for sender FROM into ST. LEDGER_OK or LEDGER_E_NOMEM. */
static inline int fuzz_dw_build(ledger_state_t *st, const uint8_t from[static 32])
{
    uint8_t dir[64];
    int rc = fuzz_dw_enclave(st, FUZZ_DW_V_SEED, PROTO_ATTEST_KIND_VALIDATION, 0x01, NULL, dir, 0);
    if (rc == LEDGER_OK)
        rc = fuzz_dw_enclave(st, FUZZ_DW_T_SEED, PROTO_ATTEST_KIND_TRAINING, 0x02, from, dir, 1);
    const uint8_t dkey[1] = {LEDGER_KEY_ENCLAVE_DIR};
    if (rc == LEDGER_OK)
        rc = ledger_state_put(st, dkey, 1, dir, sizeof dir);
    ledger_trainer_t t = {.height = 1};
    memcpy(t.account, from, 32);
    strcpy(t.name, "fuzz lab");
    if (rc == LEDGER_OK)
        rc = ledger_trainer_put(st, &t);
    ledger_spec_t s;
    memset(&s, 0, sizeof s);
    memset(s.id, FUZZ_DW_SPEC, 32);
    memcpy(s.trainer, from, 32);
    strcpy(s.model_type, "prs");
    strcpy(s.purpose, "research");
    strcpy(s.label, "y");
    strcpy(s.features[0], "x");
    s.n_features = 1;
    memset(s.measurement, 0x02, 32);
    s.min_donors = 1;
    s.max_epsilon_milli = 1000;
    s.aggregation = LEDGER_AGG_MEAN;
    s.share_donors_bp = LEDGER_SHARES_BP;
    s.height = 1;
    if (rc == LEDGER_OK)
        rc = ledger_spec_put(st, &s);
    const uint8_t skey[1] = {LEDGER_KEY_SPEC_DIR};
    char why[LEDGER_ERR_MAX] = "";
    if (rc == LEDGER_OK)
        rc = ledger_data_ids_append(st, skey, 1, LEDGER_SPECS_MAX, s.id, "full", why, sizeof why);
    ledger_data_t d = {.data_type = 1, .size_class = 10, .height = 1, .status = LEDGER_DATA_ACTIVE};
    memset(d.id, FUZZ_DW_DATA, 32);
    memcpy(d.owner, from, 32);
    memcpy(d.validator, dir, 32);
    if (rc == LEDGER_OK)
        rc = ledger_data_put(st, &d);
    uint8_t okey[LEDGER_DATA_KEY1_LEN];
    ledger_data_key1(okey, LEDGER_KEY_DATA_OWNER, from);
    if (rc == LEDGER_OK)
        rc = ledger_data_ids_append(st, okey, sizeof okey, LEDGER_DATA_PER_OWNER_MAX, d.id, "full",
                                    why, sizeof why);
    ledger_consent_t c;
    memset(&c, 0, sizeof c);
    memcpy(c.owner, from, 32);
    strcpy(c.allow_types.v[0], "*");
    c.allow_types.n = 1;
    strcpy(c.allow_purposes.v[0], "*");
    c.allow_purposes.n = 1;
    c.max_epsilon_milli = 100000;
    if (rc == LEDGER_OK)
        rc = ledger_consent_put(st, &c);
    return rc;
}

#endif
