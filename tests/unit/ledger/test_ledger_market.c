/*  test_ledger_market: trainers, model specs, donors and key grants
 *  (ledger_contract_market.c) on a real LevelDB store with real enclaves, receipts signed
 *  by their keys (ledger_data_fixture.h):
 *  - TRAINER_REGISTER: registers and renames; bad names refused;
 *  - SPEC_REGISTER: only by a trainer; each stateless rule refused on its own; the spec id
 *    is the txid; read back, listed; the spec directory's bound;
 *  - DONOR_REGISTER: a verified receipt makes a donor; refused: a forged receipt, a
 *    receipt naming another donor, for another owner's data, from an unregistered
 *    enclave, from a validation enclave, from an enclave of another measurement, for an
 *    unknown spec, with another commitment, replayed, without consent, against a deny,
 *    from an enclave whose measurement or platform is revoked; consent audits (min audits,
 *    trusted auditors) decided on the ledger's audits; the spec's donor bound;
 *  - KEY_AUTHORIZE: stores the grant; owner only, training enclave of the spec's
 *    measurement only, consent required; empty grant refused;
 *  - the audit trail lists VALIDATED, KEY_AUTHORIZED, DONATED, WITHDRAWN in order with
 *    their heights, actors, specs and txids;
 *  - ledger_train_donors / ledger_train_eligible (ledger_model_fixture.h's five donors):
 *    every donor in seq order, each enclave's eligible ids in seq order and only its own;
 *    a withdrawn record and one whose consent override now denies the spec are left out,
 *    the others stay; an unknown enclave has none.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_data_fixture.h"
#include "ledger_model_fixture.h"
#include "proto/proto_bytes.h"

static void test_trainer_spec(void)
{
    df_chain_t c;
    df_open(&c);
    char why[LEDGER_ERR_MAX] = "";
    ledger_spec_t s, got;
    uint8_t id[32];
    df_spec_init(&s, DF_T_M, 1000);
    CHECK_EQ(df_spec(&c, c.trainer, &s, id, why, sizeof why), LEDGER_E_NOT_TRAINER);
    CHECK_EQ(df_trainer(&c, c.trainer, ""), LEDGER_E_INVALID);
    CHECK_EQ(df_trainer(&c, c.trainer, "tab\there"), LEDGER_E_INVALID);
    CHECK_EQ(df_trainer(&c, c.trainer, "Acme"), LEDGER_OK);
    CHECK_EQ(df_trainer(&c, c.trainer, "Acme Genomics Ltd"), LEDGER_OK); /* rename */
    ledger_state_t *st = df_view(&c);
    ledger_trainer_t t;
    CHECK_EQ(ledger_trainer_get(st, proto_key_public(c.trainer), &t), LEDGER_OK);
    CHECK(strcmp(t.name, "Acme Genomics Ltd") == 0 && t.height == df_height(&c));
    CHECK_EQ(ledger_trainer_get(st, proto_key_public(c.bob), &t), LEDGER_E_NOT_FOUND);
    ledger_state_destroy(&st);

    /* each stateless rule on its own */
    for (int rule = 0; rule < 10; rule++) {
        df_spec_init(&s, DF_T_M, 1000);
        switch (rule) {
        case 0:
            strcpy(s.model_type, "*");
            break;
        case 1:
            strcpy(s.purpose, "*");
            break;
        case 2:
            strcpy(s.purpose, "Research");
            break;
        case 3:
            s.n_features = 0;
            break;
        case 4:
            strcpy(s.features[1], "rs123");
            break;
        case 5:
            strcpy(s.label, "bad\x01");
            break;
        case 6:
            s.min_donors = 0;
            break;
        case 7:
            s.aggregation = 5;
            break;
        case 8:
            s.share_runner_bp = 999;
            break;
        case 9:
            strcpy(s.features[0], "");
            break;
        }
        CHECK_EQ(df_spec(&c, c.trainer, &s, id, why, sizeof why), LEDGER_E_INVALID);
    }
    df_spec_init(&s, DF_T_M, 1000);
    s.aggregation = LEDGER_AGG_KRUM;
    CHECK_EQ(df_spec(&c, c.trainer, &s, id, why, sizeof why), LEDGER_OK);
    uint64_t h = df_height(&c);
    st = df_view(&c);
    CHECK_EQ(ledger_spec_get(st, id, &got), LEDGER_OK);
    CHECK(memcmp(got.id, id, 32) == 0 && memcmp(got.trainer, proto_key_public(c.trainer), 32) == 0);
    CHECK(strcmp(got.model_type, "prs") == 0 && strcmp(got.purpose, "research") == 0);
    CHECK(strcmp(got.label, "height") == 0 && got.n_features == 2);
    CHECK(strcmp(got.features[1], "rs456") == 0);
    CHECK(memcmp(got.measurement, s.measurement, 32) == 0);
    CHECK(got.min_donors == 3 && got.max_epsilon_milli == 1000 && got.aggregation == 4);
    CHECK(got.price == 10 && got.share_donors_bp == 7000 && got.share_trainer_bp == 2000 &&
          got.share_runner_bp == 1000);
    CHECK(got.height == h && got.n_donors == 0);
    ledger_spec_t *list = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_spec_list(st, &list, &n), LEDGER_OK);
    CHECK(n == 1 && list && memcmp(list[0].id, id, 32) == 0);
    free(list);
    ledger_state_destroy(&st);
    /* a second spec: listed after the first */
    uint8_t id2[32];
    strcpy(s.purpose, "clinical");
    CHECK_EQ(df_spec(&c, c.trainer, &s, id2, why, sizeof why), LEDGER_OK);
    st = df_view(&c);
    CHECK_EQ(ledger_spec_list(st, &list, &n), LEDGER_OK);
    CHECK(n == 2 && list && memcmp(list[0].id, id, 32) == 0 && memcmp(list[1].id, id2, 32) == 0 &&
          strcmp(list[1].purpose, "clinical") == 0);
    free(list);
    ledger_state_destroy(&st);

    /* the directory's bound: a full directory (its length) refuses one more */
    uint8_t cnt[4];
    proto_be32_put(cnt, LEDGER_SPECS_MAX);
    const uint8_t key[1] = {LEDGER_KEY_SPEC_DIR};
    size_t len;
    uint8_t *tx =
        ledger_contract_spec_register_tx(c.trainer, c.chain, df_nonce(&c, c.trainer), &s, &len);
    ledger_tx_t ptx;
    CHECK_EQ(ledger_tx_parse(tx, len, c.chain, true, &ptx, why, sizeof why), LEDGER_OK);
    st = df_view(&c);
    CHECK_EQ(ledger_state_put(st, key, 1, cnt, 4), LEDGER_OK);
    CHECK_EQ(ledger_state_admit_tx(st, &ptx, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK_EQ(ledger_state_apply_tx(st, &ptx, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "full") != NULL);
    ledger_state_destroy(&st);
    free(tx);
    df_close(&c);
}

static void test_donor(void)
{
    df_chain_t c;
    df_world(&c);
    char why[LEDGER_ERR_MAX] = "";
    size_t len;
    uint8_t *rc;
    uint8_t bob_data[32], other[32], bogus[32];
    const uint8_t *alice = proto_key_public(c.alice), *bob = proto_key_public(c.bob);
    memset(bogus, 0x99, 32);
    CHECK_EQ(df_data(&c, c.bob, "bob-genome", DF_V_SEED, bob_data, NULL, 0), LEDGER_OK);
    /* a second training enclave of another measurement */
    CHECK_EQ(df_enclave(&c, PROTO_ATTEST_KIND_TRAINING, 0x05, 0x25, NULL), LEDGER_OK);

    /* forged: a flipped signature bit */
    rc = df_alice_receipt(&c, DF_T_SEED, &len);
    rc[len - 1] ^= 0x40;
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "signature") != NULL);
    /* garbage */
    rc = malloc(4);
    REQUIRE(rc != NULL);
    memcpy(rc, "junk", 4);
    CHECK_EQ(df_donor(&c, c.alice, rc, 4, why, sizeof why), LEDGER_E_RECEIPT);
    /* alice's receipt submitted by bob */
    rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.bob, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "another donor") != NULL);
    /* a receipt naming bob for alice's data: another owner's record */
    rc = df_receipt(DF_T_SEED, c.spec_id, c.data_a, bob, c.data_a, &len);
    CHECK_EQ(df_donor(&c, c.bob, rc, len, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "own") != NULL);
    /* unregistered enclave; validation enclave; enclave of another measurement */
    rc = df_alice_receipt(&c, 0x2f, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "not registered") != NULL);
    rc = df_alice_receipt(&c, DF_V_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "not a training enclave") != NULL);
    rc = df_alice_receipt(&c, 0x25, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "measurement") != NULL);
    /* unknown spec; unknown record; another commitment */
    rc = df_receipt(DF_T_SEED, bogus, c.data_a, alice, c.data_a, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "spec") != NULL);
    rc = df_receipt(DF_T_SEED, c.spec_id, bogus, alice, bogus, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_DATA_RULE);
    df_commit(&c, "something else", other);
    rc = df_receipt(DF_T_SEED, c.spec_id, c.data_a, alice, other, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "commitment") != NULL);
    /* bob has no consent at all: deny by default */
    rc = df_receipt(DF_T_SEED, c.spec_id, bob_data, bob, bob_data, &len);
    CHECK_EQ(df_donor(&c, c.bob, rc, len, why, sizeof why), LEDGER_E_CONSENT);
    CHECK(strstr(why, "default") != NULL);
    /* bob allows prs, but for another purpose; then allows it but denies research */
    ledger_consent_t k;
    df_consent_init(&k, "prs", "clinical", 5000, 0, NULL);
    CHECK_EQ(df_consent(&c, c.bob, &k, NULL, 0), LEDGER_OK);
    rc = df_receipt(DF_T_SEED, c.spec_id, bob_data, bob, bob_data, &len);
    CHECK_EQ(df_donor(&c, c.bob, rc, len, why, sizeof why), LEDGER_E_CONSENT);
    df_consent_init(&k, "*", "*", 5000, 0, bob_data);
    strcpy(k.deny_purposes.v[0], "research");
    k.deny_purposes.n = 1;
    CHECK_EQ(df_consent(&c, c.bob, &k, NULL, 0), LEDGER_OK);
    rc = df_receipt(DF_T_SEED, c.spec_id, bob_data, bob, bob_data, &len);
    CHECK_EQ(df_donor(&c, c.bob, rc, len, why, sizeof why), LEDGER_E_CONSENT);
    /* an epsilon above what bob accepts */
    df_consent_init(&k, "*", "*", 999, 0, bob_data);
    CHECK_EQ(df_consent(&c, c.bob, &k, NULL, 0), LEDGER_OK);
    rc = df_receipt(DF_T_SEED, c.spec_id, bob_data, bob, bob_data, &len);
    CHECK_EQ(df_donor(&c, c.bob, rc, len, why, sizeof why), LEDGER_E_CONSENT);
    /* wildcards at epsilon 1.000 exactly: accepted */
    df_consent_init(&k, "*", "*", 1000, 0, bob_data);
    CHECK_EQ(df_consent(&c, c.bob, &k, NULL, 0), LEDGER_OK);
    rc = df_receipt(DF_T_SEED, c.spec_id, bob_data, bob, bob_data, &len);
    CHECK_EQ(df_donor(&c, c.bob, rc, len, why, sizeof why), LEDGER_OK);

    /* alice, honest: accepted once; the same receipt again is a replay */
    rc = df_alice_receipt(&c, DF_T_SEED, &len);
    uint8_t *again = malloc(len);
    REQUIRE(again != NULL);
    memcpy(again, rc, len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_OK);
    uint64_t h = df_height(&c);
    CHECK_EQ(df_donor(&c, c.alice, again, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "replayed") != NULL);
    ledger_state_t *st = df_view(&c);
    ledger_donor_t *donors = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_donor_list(st, c.spec_id, &donors, &n), LEDGER_OK);
    CHECK_EQ(n, 2u);
    if (n == 2) {
        CHECK(memcmp(donors[0].data_id, bob_data, 32) == 0);
        CHECK(memcmp(donors[1].data_id, c.data_a, 32) == 0);
        CHECK(memcmp(donors[1].owner, alice, 32) == 0);
        CHECK(memcmp(donors[1].enclave_id, c.t_id, 32) == 0);
        CHECK(memcmp(donors[1].spec_id, c.spec_id, 32) == 0);
        CHECK(donors[1].time_ms == DF_T0 + 42 && donors[1].height == h);
    }
    free(donors);
    ledger_spec_t s;
    CHECK_EQ(ledger_spec_get(st, c.spec_id, &s), LEDGER_OK);
    CHECK_EQ(s.n_donors, 2u);
    ledger_state_destroy(&st);
    df_close(&c);
}

/* Audits required by the consent, counted from the ledger's ENCLAVE_AUDIT records. */
static void test_donor_audits(void)
{
    df_chain_t c;
    df_world(&c);
    char why[LEDGER_ERR_MAX] = "";
    size_t len;
    ledger_consent_t k;
    df_consent_init(&k, "prs", "research", 2000, 2, NULL);
    memcpy(k.auditors[0], proto_key_public(c.aud[0]), 32);
    memcpy(k.auditors[1], proto_key_public(c.aud[1]), 32);
    k.n_auditors = 2;
    CHECK_EQ(df_consent(&c, c.alice, &k, NULL, 0), LEDGER_OK);
    uint8_t *rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_CONSENT); /* no audits */
    CHECK_EQ(df_audit(&c, c.aud[0], DF_T_M, LEDGER_AUDIT_OK), LEDGER_OK);
    CHECK_EQ(df_audit(&c, c.aud[2], DF_T_M, LEDGER_AUDIT_OK), LEDGER_OK);  /* untrusted */
    CHECK_EQ(df_audit(&c, c.aud[1], DF_T_M, LEDGER_AUDIT_BAD), LEDGER_OK); /* not ok */
    rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_CONSENT);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 1, why, sizeof why),
             LEDGER_E_CONSENT);
    CHECK_EQ(df_audit(&c, c.aud[1], DF_T_M, LEDGER_AUDIT_OK), LEDGER_OK); /* replaces */
    rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_OK);
    df_close(&c);

    /* without a trusted list, any two auditors do */
    df_world(&c);
    df_consent_init(&k, "prs", "research", 2000, 2, NULL);
    CHECK_EQ(df_consent(&c, c.alice, &k, NULL, 0), LEDGER_OK);
    CHECK_EQ(df_audit(&c, c.aud[2], DF_T_M, LEDGER_AUDIT_OK), LEDGER_OK);
    rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_CONSENT);
    CHECK_EQ(df_audit(&c, c.aud[0], DF_T_M, LEDGER_AUDIT_OK), LEDGER_OK);
    rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_OK);
    df_close(&c);
}

/* Receipts from a revoked training enclave: by measurement, then (new chain) platform. */
static void test_donor_revoked(void)
{
    for (int what = LEDGER_REVOKE_PLATFORM; what <= LEDGER_REVOKE_MEASUREMENT; what++) {
        df_chain_t c;
        df_world(&c);
        char why[LEDGER_ERR_MAX] = "";
        size_t len;
        uint8_t m[32];
        memset(m, DF_T_M, 32);
        CHECK_EQ(df_revoke(&c, (uint32_t)what,
                           what == LEDGER_REVOKE_PLATFORM ? proto_key_public(c.platform) : m),
                 LEDGER_OK);
        uint8_t *rc = df_alice_receipt(&c, DF_T_SEED, &len);
        CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
        CHECK(strstr(why, "revoked") != NULL);
        CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 1, why, sizeof why),
                 LEDGER_E_ENCLAVE_RULE);
        CHECK(strstr(why, "revoked") != NULL);
        df_close(&c);
    }
}

static void test_key_authorize(void)
{
    df_chain_t c;
    df_world(&c);
    char why[LEDGER_ERR_MAX] = "";
    uint8_t bogus[32], other_t[32];
    memset(bogus, 0x99, 32);
    CHECK_EQ(df_enclave(&c, PROTO_ATTEST_KIND_TRAINING, 0x05, 0x25, other_t), LEDGER_OK);
    CHECK_EQ(df_key_auth(&c, c.bob, c.data_a, c.spec_id, c.t_id, 1, why, sizeof why),
             LEDGER_E_DATA_RULE);
    CHECK_EQ(df_key_auth(&c, c.alice, bogus, c.spec_id, c.t_id, 1, why, sizeof why),
             LEDGER_E_DATA_RULE);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, bogus, c.t_id, 1, why, sizeof why),
             LEDGER_E_DATA_RULE);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, bogus, 1, why, sizeof why),
             LEDGER_E_ENCLAVE_RULE);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.v_id, 1, why, sizeof why),
             LEDGER_E_ENCLAVE_RULE);
    CHECK(strstr(why, "training") != NULL);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, other_t, 1, why, sizeof why),
             LEDGER_E_ENCLAVE_RULE);
    CHECK(strstr(why, "measurement") != NULL);
    /* an empty grant */
    size_t len;
    uint8_t *tx = ledger_contract_key_authorize_tx(c.alice, c.chain, df_nonce(&c, c.alice),
                                                   c.data_a, c.spec_id, c.t_id, NULL, 0, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_INVALID);
    /* a per-record override that denies prs beats the default */
    ledger_consent_t k;
    df_consent_init(&k, "*", "*", 5000, 0, c.data_a);
    strcpy(k.deny_types.v[0], "prs");
    k.deny_types.n = 1;
    CHECK_EQ(df_consent(&c, c.alice, &k, NULL, 0), LEDGER_OK);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 1, why, sizeof why),
             LEDGER_E_CONSENT);
    tx = ledger_contract_consent_revoke_tx(c.alice, c.chain, df_nonce(&c, c.alice), c.data_a, &len);
    CHECK_EQ(df_submit(&c, tx, len, NULL, 0), LEDGER_OK);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 7, why, sizeof why), LEDGER_OK);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 8, why, sizeof why), LEDGER_OK);
    ledger_state_t *st = df_view(&c);
    uint8_t grant[LEDGER_GRANT_MAX], spec[32];
    size_t glen;
    CHECK_EQ(ledger_key_grant_get(st, c.data_a, c.t_id, grant, sizeof grant, &glen, spec),
             LEDGER_OK);
    CHECK(glen == 80 && grant[79] == 8); /* the latest replaces */
    ledger_state_destroy(&st);
    df_close(&c);
}

static void test_audit_trail(void)
{
    df_chain_t c;
    df_world(&c);
    uint64_t h_valid = df_height(&c) - 1; /* the consent came after the record */
    size_t len;
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 1, NULL, 0), LEDGER_OK);
    uint64_t h_key = df_height(&c);
    uint8_t *rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, NULL, 0), LEDGER_OK);
    uint64_t h_don = df_height(&c);
    CHECK_EQ(df_withdraw(&c, c.alice, c.data_a), LEDGER_OK);
    uint64_t h_wd = df_height(&c);
    ledger_state_t *st = df_view(&c);
    ledger_use_entry_t *u = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_data_uses(st, c.data_a, &u, &n), LEDGER_OK);
    CHECK_EQ(n, 4u);
    if (n == 4) {
        const uint32_t want[4] = {LEDGER_USE_VALIDATED, LEDGER_USE_KEY_AUTHORIZED,
                                  LEDGER_USE_DONATED, LEDGER_USE_WITHDRAWN};
        const uint64_t heights[4] = {h_valid, h_key, h_don, h_wd};
        const uint8_t *actors[4] = {c.v_id, c.t_id, c.t_id, proto_key_public(c.alice)};
        for (size_t i = 0; i < 4; i++) {
            CHECK_EQ(u[i].use, want[i]);
            CHECK_EQ(u[i].height, heights[i]);
            CHECK(memcmp(u[i].actor, actors[i], 32) == 0);
            /* each txid is the one the block at that height carries */
            uint8_t *block = NULL;
            size_t blen = 0;
            CHECK_EQ(ledger_store_block(c.store, heights[i], &block, &blen), LEDGER_OK);
            ledger_block_t *b = NULL;
            if (block && ledger_block_decode(block, blen, &b) == LEDGER_OK) {
                uint8_t id[32];
                size_t tlen = 0;
                const uint8_t *tx = ledger_block_tx(b, 0, &tlen);
                REQUIRE(tx != NULL);
                ledger_tx_id(tx, tlen, id);
                CHECK(memcmp(u[i].txid, id, 32) == 0);
            } else {
                CHECK(false);
            }
            ledger_block_destroy(&b);
            free(block);
        }
        CHECK(memcmp(u[1].spec_id, c.spec_id, 32) == 0);
        CHECK(memcmp(u[2].spec_id, c.spec_id, 32) == 0);
    }
    free(u);
    ledger_state_destroy(&st);
    df_close(&c);
}

/* A spec with LEDGER_DONORS_PER_SPEC_MAX donors takes no more. */
static void test_donor_bound(void)
{
    df_chain_t c;
    df_world(&c);
    char why[LEDGER_ERR_MAX] = "";
    size_t len;
    uint8_t cnt[4];
    proto_be32_put(cnt, LEDGER_DONORS_PER_SPEC_MAX);
    uint8_t key[33];
    key[0] = LEDGER_KEY_DONOR_DIR;
    memcpy(key + 1, c.spec_id, 32);
    uint8_t *rc = df_alice_receipt(&c, DF_T_SEED, &len);
    size_t tlen;
    uint8_t *tx =
        ledger_contract_donor_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), rc, len, &tlen);
    ledger_tx_t t;
    CHECK_EQ(ledger_tx_parse(tx, tlen, c.chain, true, &t, why, sizeof why), LEDGER_OK);
    ledger_state_t *st = df_view(&c);
    CHECK_EQ(ledger_state_put(st, key, sizeof key, cnt, 4), LEDGER_OK);
    CHECK_EQ(ledger_state_admit_tx(st, &t, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK_EQ(ledger_state_apply_tx(st, &t, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "most donors") != NULL);
    ledger_state_destroy(&st);
    free(tx);
    free(rc);
    df_close(&c);
}

/*  The market's rules a data owner's node and the recruitment room ask of the ledger
 *  (ledger_market.c): the enclave a donation goes to, whether a record may be donated,
 *  whether it is a donor already, and which recruitment posts pass. */
static void test_market_rules(void)
{
    df_chain_t c;
    df_world(&c);
    ledger_state_t *st = df_view(&c);
    REQUIRE(st != NULL);
    ledger_spec_t spec;
    REQUIRE(ledger_spec_get(st, c.spec_id, &spec) == LEDGER_OK);
    ledger_enclave_t e;
    char why[160];
    CHECK_EQ(ledger_donation_enclave(st, &spec, &e, why, sizeof why), LEDGER_OK);
    CHECK(memcmp(e.id, c.t_id, 32) == 0);
    CHECK_EQ(ledger_donation_allowed(st, &spec, NULL, 0, c.data_a, proto_key_public(c.alice), why,
                                     sizeof why),
             LEDGER_OK);
    CHECK_EQ(ledger_donation_allowed(st, &spec, NULL, 0, c.data_a, proto_key_public(c.bob), why,
                                     sizeof why),
             LEDGER_E_DATA_RULE); /* not bob's record */
    CHECK(strstr(why, "another account") != NULL);
    CHECK(!ledger_donor_exists(st, c.spec_id, c.data_a));
    /* a post by the spec's trainer passes; by another key, stale, or for no spec, not */
    proto_recruit_t post;
    memset(&post, 0, sizeof post);
    memcpy(post.spec_id, c.spec_id, 32);
    post.time_ms = DF_T0;
    REQUIRE(proto_recruit_sign(&post, c.trainer) == PROTO_OK);
    char w[LEDGER_ERR_MAX] = "";
    CHECK_EQ(ledger_recruit_check(st, &post, DF_T0 + 1000, w, sizeof w), LEDGER_OK);
    CHECK_EQ(ledger_recruit_check(st, &post, DF_T0 + DF_DAY, w, sizeof w), LEDGER_E_INVALID);
    proto_recruit_t other = post;
    REQUIRE(proto_recruit_sign(&other, c.bob) == PROTO_OK);
    CHECK_EQ(ledger_recruit_check(st, &other, DF_T0 + 1000, w, sizeof w), LEDGER_E_NOT_TRAINER);
    CHECK(strstr(w, "another account") != NULL);
    other = post;
    other.spec_id[0] ^= 1;
    REQUIRE(proto_recruit_sign(&other, c.trainer) == PROTO_OK);
    CHECK_EQ(ledger_recruit_check(st, &other, DF_T0 + 1000, w, sizeof w), LEDGER_E_NOT_TRAINER);
    other = post;
    other.time_ms++;
    CHECK_EQ(ledger_recruit_check(st, &other, DF_T0 + 1000, w, sizeof w), LEDGER_E_BAD_SIG);
    ledger_state_destroy(&st);
    /* donated: a donor; the measurement revoked: no enclave to donate to */
    size_t len;
    uint8_t *rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, NULL, 0), LEDGER_OK);
    uint8_t m[32];
    memset(m, DF_T_M, 32);
    CHECK_EQ(df_revoke(&c, LEDGER_REVOKE_MEASUREMENT, m), LEDGER_OK);
    st = df_view(&c);
    REQUIRE(st != NULL);
    CHECK(ledger_donor_exists(st, c.spec_id, c.data_a));
    CHECK_EQ(ledger_donation_enclave(st, &spec, &e, why, sizeof why), LEDGER_E_ENCLAVE_RULE);
    CHECK(strstr(why, "revoked") != NULL);
    ledger_state_destroy(&st);
    df_close(&c);
}

/* Eligible data ids of enclave EID, compared with the donor seqs in WANT (N). */
static void s_check_eligible(ledger_state_t *st, const mf_world_t *w, const uint8_t eid[32],
                             const size_t *want, size_t n)
{
    ledger_spec_t spec;
    REQUIRE(ledger_spec_get(st, w->c.spec_id, &spec) == LEDGER_OK);
    uint8_t(*ids)[32] = NULL;
    size_t got = 99;
    char err[160];
    CHECK(ledger_train_eligible(st, &spec, eid, &ids, &got, err, sizeof err) == LEDGER_OK);
    CHECK_EQ(got, n);
    for (size_t i = 0; i < n && i < got; i++)
        CHECK(memcmp(ids[i], w->data[want[i]], 32) == 0);
    free(ids);
}

static void test_train_eligible(void)
{
    mf_world_t w;
    mf_world(&w, MF_DONORS, 0);
    ledger_state_t *st = df_view(&w.c);
    ledger_spec_t spec;
    REQUIRE(ledger_spec_get(st, w.c.spec_id, &spec) == LEDGER_OK);
    ledger_train_donor_t *d = NULL;
    size_t n = 0;
    char err[160];
    CHECK(ledger_train_donors(st, &spec, &d, &n, err, sizeof err) == LEDGER_OK);
    CHECK_EQ(n, (size_t)MF_DONORS);
    for (size_t i = 0; i < n && i < MF_DONORS; i++) {
        CHECK(d[i].donor.seq == i && d[i].eligible);
        CHECK(memcmp(d[i].donor.data_id, w.data[i], 32) == 0);
        CHECK(memcmp(d[i].donor.enclave_id, w.enclave[i], 32) == 0);
    }
    free(d);
    /* T holds seqs 0 and 3, T2 seqs 1, 2 and 4, in seq order; another enclave none */
    const size_t t_all[] = {0, 3}, t2_all[] = {1, 2, 4};
    s_check_eligible(st, &w, w.c.t_id, t_all, 2);
    s_check_eligible(st, &w, w.t2_id, t2_all, 3);
    s_check_eligible(st, &w, w.q_id, NULL, 0);
    ledger_state_destroy(&st);
    /* alice withdraws a2 (seq 2, T2); bob's override for b2 (seq 3, T) allows nothing */
    CHECK(df_withdraw(&w.c, w.c.alice, w.data[2]) == LEDGER_OK);
    ledger_consent_t k;
    df_consent_init(&k, NULL, NULL, 2000, 0, w.data[3]);
    CHECK(df_consent(&w.c, w.c.bob, &k, NULL, 0) == LEDGER_OK);
    st = df_view(&w.c);
    CHECK(ledger_train_donors(st, &spec, &d, &n, err, sizeof err) == LEDGER_OK);
    CHECK_EQ(n, (size_t)MF_DONORS); /* every donor is still listed, in seq order */
    for (size_t i = 0; i < n && i < MF_DONORS; i++)
        CHECK(d[i].donor.seq == i && d[i].eligible == (i != 2 && i != 3));
    free(d);
    const size_t t_now[] = {0}, t2_now[] = {1, 4};
    s_check_eligible(st, &w, w.c.t_id, t_now, 1);
    s_check_eligible(st, &w, w.t2_id, t2_now, 2);
    ledger_state_destroy(&st);
    mf_close(&w);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    test_trainer_spec();
    test_donor();
    test_donor_audits();
    test_donor_revoked();
    test_key_authorize();
    test_audit_trail();
    test_donor_bound();
    test_market_rules();
    test_train_eligible();
    return testutil_done("test_ledger_market");
}
