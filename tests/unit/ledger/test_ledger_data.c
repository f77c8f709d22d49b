/*  test_ledger_data: the data records and consents (ledger_contract_data.c) on a real
 *  LevelDB store, with real enclaves registered from quotes and reports signed by their
 *  keys (ledger_data_fixture.h):
 *  - DATA_REGISTER: a validated record is stored (fields, owner's list, audit trail
 *    VALIDATED); refused: a forged report, a report about other data / another type / with
 *    a failed check, from a training enclave, from an unregistered enclave, from an enclave
 *    whose measurement or platform is revoked; the same data twice; bad type or size class;
 *  - DATA_WITHDRAW: owner only, once; the record is marked and its grants are no longer
 *    handed out;
 *  - CONSENT_SET / CONSENT_REVOKE: default and per-record consents, only on one's own
 *    records, names checked, lists bounded; the override falls back to the default when
 *    revoked; revoking nothing is refused;
 *  - the bounds of the owner's record list and of the audit trail (its last slot kept for
 *    the withdrawal);
 *  - every new body round-trips byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_data_fixture.h"
#include "proto/proto_bytes.h"

static const uint8_t s_zero[32];

static void test_data_register(void)
{
    df_chain_t c;
    df_open(&c);
    CHECK_EQ(df_enclave(&c, PROTO_ATTEST_KIND_VALIDATION, DF_V_M, DF_V_SEED, c.v_id), LEDGER_OK);
    CHECK_EQ(df_enclave(&c, PROTO_ATTEST_KIND_TRAINING, DF_T_M, DF_T_SEED, c.t_id), LEDGER_OK);
    char why[LEDGER_ERR_MAX] = "";
    uint8_t id[32], other[32], addr[32];
    size_t rlen, len;

    /* accepted */
    CHECK_EQ(df_data(&c, c.alice, "genome-1", DF_V_SEED, id, why, sizeof why), LEDGER_OK);
    uint64_t h = df_height(&c);
    ledger_state_t *st = df_view(&c);
    ledger_data_t d;
    CHECK_EQ(ledger_data_get(st, id, &d), LEDGER_OK);
    CHECK(memcmp(d.id, id, 32) == 0);
    CHECK(memcmp(d.owner, proto_key_public(c.alice), 32) == 0);
    CHECK_EQ(d.data_type, (uint32_t)PROTO_DATA_GENOTYPE);
    CHECK_EQ(d.size_class, 20u);
    memset(addr, 0xad, 32);
    CHECK(memcmp(d.address, addr, 32) == 0);
    CHECK(memcmp(d.validator, c.v_id, 32) == 0);
    CHECK_EQ(d.height, h);
    CHECK_EQ(d.status, (uint32_t)LEDGER_DATA_ACTIVE);
    ledger_data_t *list = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_data_list(st, proto_key_public(c.alice), &list, &n), LEDGER_OK);
    CHECK_EQ(n, 1u);
    free(list);
    CHECK_EQ(ledger_data_list(st, proto_key_public(c.bob), &list, &n), LEDGER_OK);
    CHECK(n == 0 && list == NULL);
    ledger_use_entry_t *uses = NULL;
    CHECK_EQ(ledger_data_uses(st, id, &uses, &n), LEDGER_OK);
    CHECK_EQ(n, 1u);
    if (n == 1) {
        CHECK_EQ(uses[0].use, (uint32_t)LEDGER_USE_VALIDATED);
        CHECK_EQ(uses[0].height, h);
        CHECK(memcmp(uses[0].actor, c.v_id, 32) == 0);
        CHECK(memcmp(uses[0].spec_id, s_zero, 32) == 0);
    }
    free(uses);
    CHECK_EQ(ledger_data_get(st, s_zero, &d), LEDGER_E_NOT_FOUND);
    ledger_state_destroy(&st);

    /* the same data again, by anyone */
    CHECK_EQ(df_data(&c, c.alice, "genome-1", DF_V_SEED, id, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK_EQ(df_data(&c, c.bob, "genome-1", DF_V_SEED, id, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "already") != NULL);
    /* from a training enclave, from an unregistered one */
    CHECK_EQ(df_data(&c, c.alice, "genome-2", DF_T_SEED, id, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "not a validation enclave") != NULL);
    CHECK_EQ(df_data(&c, c.alice, "genome-2", 0x29, id, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "not registered") != NULL);

    /* forged report: a flipped signature bit, and a field changed after signing */
    df_commit(&c, "genome-2", id);
    uint8_t *rep = df_report(DF_V_SEED, id, PROTO_DATA_GENOTYPE, 5, 5, &rlen);
    rep[rlen - 3] ^= 1;
    uint8_t *tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20,
                                                   id, addr, rep, rlen, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "signature") != NULL);
    free(rep);
    /* a report about other data */
    df_commit(&c, "genome-3", other);
    rep = df_report(DF_V_SEED, other, PROTO_DATA_GENOTYPE, 5, 5, &rlen);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20, id, addr,
                                          rep, rlen, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "other data") != NULL);
    free(rep);
    /* another data type; a failed check; garbage */
    rep = df_report(DF_V_SEED, id, PROTO_DATA_PHENOTYPE, 5, 5, &rlen);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20, id, addr,
                                          rep, rlen, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "data type") != NULL);
    free(rep);
    rep = df_report(DF_V_SEED, id, PROTO_DATA_GENOTYPE, 5, 4, &rlen);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20, id, addr,
                                          rep, rlen, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "check") != NULL);
    free(rep);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20, id, addr,
                                          (const uint8_t *)"junk", 4, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_RECEIPT);
    /* stateless: type and size class */
    rep = df_report(DF_V_SEED, id, PROTO_DATA_GENOTYPE, 5, 5, &rlen);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 3, 20, id, addr,
                                          rep, rlen, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_INVALID);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 41, id, addr,
                                          rep, rlen, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_E_INVALID);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 40, id, addr,
                                          rep, rlen, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_OK); /* the honest one, at the bound */
    free(rep);

    /* a revoked measurement: V's reports are refused from then on */
    uint8_t m[32];
    memset(m, DF_V_M, 32);
    CHECK_EQ(df_revoke(&c, LEDGER_REVOKE_MEASUREMENT, m), LEDGER_OK);
    CHECK_EQ(df_data(&c, c.alice, "genome-4", DF_V_SEED, id, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "revoked") != NULL);
    /* a new validation enclave on the same platform works until the platform is revoked */
    uint8_t v2[32];
    CHECK_EQ(df_enclave(&c, PROTO_ATTEST_KIND_VALIDATION, 0x03, 0x23, v2), LEDGER_OK);
    CHECK_EQ(df_data(&c, c.alice, "genome-4", 0x23, id, why, sizeof why), LEDGER_OK);
    /* alice's records, in registration order, each with its validator */
    st = df_view(&c);
    CHECK_EQ(ledger_data_list(st, proto_key_public(c.alice), &list, &n), LEDGER_OK);
    CHECK_EQ(n, 3u);
    if (n == 3) {
        uint8_t first[32];
        df_commit(&c, "genome-1", first);
        CHECK(memcmp(list[0].id, first, 32) == 0 && memcmp(list[0].validator, c.v_id, 32) == 0);
        CHECK(memcmp(list[2].id, id, 32) == 0 && memcmp(list[2].validator, v2, 32) == 0);
        CHECK(list[0].height < list[1].height && list[1].height < list[2].height);
    }
    free(list);
    ledger_state_destroy(&st);
    CHECK_EQ(df_revoke(&c, LEDGER_REVOKE_PLATFORM, proto_key_public(c.platform)), LEDGER_OK);
    CHECK_EQ(df_data(&c, c.alice, "genome-5", 0x23, id, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "revoked") != NULL);
    df_close(&c);
}

static void test_withdraw(void)
{
    df_chain_t c;
    df_world(&c);
    uint8_t bogus[32];
    memset(bogus, 0x99, 32);
    CHECK_EQ(df_withdraw(&c, c.bob, c.data_a), LEDGER_E_DATA_RULE); /* not the owner */
    CHECK_EQ(df_withdraw(&c, c.alice, bogus), LEDGER_E_DATA_RULE);  /* no such record */
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 0x11, NULL, 0), LEDGER_OK);
    ledger_state_t *st = df_view(&c);
    uint8_t grant[LEDGER_GRANT_MAX], spec[32];
    size_t glen;
    CHECK_EQ(ledger_key_grant_get(st, c.data_a, c.t_id, grant, sizeof grant, &glen, spec),
             LEDGER_OK);
    CHECK(glen == 80 && grant[0] == 0x11 && memcmp(spec, c.spec_id, 32) == 0);
    CHECK_EQ(ledger_key_grant_get(st, c.data_a, c.t_id, grant, 10, &glen, spec), LEDGER_E_TOO_BIG);
    CHECK_EQ(ledger_key_grant_get(st, c.data_a, c.v_id, grant, sizeof grant, &glen, spec),
             LEDGER_E_NOT_FOUND);
    ledger_state_destroy(&st);

    CHECK_EQ(df_withdraw(&c, c.alice, c.data_a), LEDGER_OK);
    uint64_t h = df_height(&c);
    CHECK_EQ(df_withdraw(&c, c.alice, c.data_a), LEDGER_E_DATA_RULE); /* already */
    st = df_view(&c);
    ledger_data_t d;
    CHECK_EQ(ledger_data_get(st, c.data_a, &d), LEDGER_OK);
    CHECK_EQ(d.status, (uint32_t)LEDGER_DATA_WITHDRAWN);
    CHECK_EQ(d.status_height, h);
    /* its grants are no longer handed out */
    CHECK_EQ(ledger_key_grant_get(st, c.data_a, c.t_id, grant, sizeof grant, &glen, spec),
             LEDGER_E_NOT_FOUND);
    ledger_state_destroy(&st);
    /* and it can be neither donated nor granted */
    char why[LEDGER_ERR_MAX] = "";
    uint8_t *rc = df_alice_receipt(&c, DF_T_SEED, &glen);
    CHECK_EQ(df_donor(&c, c.alice, rc, glen, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "withdrawn") != NULL);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 0x12, why, sizeof why),
             LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "withdrawn") != NULL);
    df_close(&c);
}

static void test_consent_contracts(void)
{
    df_chain_t c;
    df_world(&c);
    char why[LEDGER_ERR_MAX] = "";
    uint8_t bob_data[32];
    CHECK_EQ(df_data(&c, c.bob, "bob-genome", DF_V_SEED, bob_data, NULL, 0), LEDGER_OK);
    ledger_state_t *st = df_view(&c);
    ledger_consent_t k;
    CHECK_EQ(ledger_consent_get(st, proto_key_public(c.alice), s_zero, &k), LEDGER_OK);
    CHECK(k.allow_types.n == 1 && strcmp(k.allow_types.v[0], "prs") == 0);
    CHECK(k.allow_purposes.n == 1 && strcmp(k.allow_purposes.v[0], "research") == 0);
    CHECK_EQ(k.max_epsilon_milli, 2000u);
    CHECK(memcmp(k.owner, proto_key_public(c.alice), 32) == 0);
    CHECK_EQ(k.height, df_height(&c) - 1);
    CHECK_EQ(ledger_consent_get(st, proto_key_public(c.bob), s_zero, &k), LEDGER_E_NOT_FOUND);
    ledger_data_t d;
    CHECK_EQ(ledger_data_get(st, bob_data, &d), LEDGER_OK);
    CHECK_EQ(ledger_consent_effective(st, &d, &k), LEDGER_E_NOT_FOUND); /* bob has none */
    ledger_state_destroy(&st);

    /* a per-record consent on someone else's record, or on no record */
    df_consent_init(&k, "*", "*", 5000, 0, bob_data);
    CHECK_EQ(df_consent(&c, c.alice, &k, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "own") != NULL);
    memset(k.data_id, 0x99, 32);
    CHECK_EQ(df_consent(&c, c.alice, &k, why, sizeof why), LEDGER_E_DATA_RULE);
    /* names: upper case, a space, an empty name */
    const char *bad[] = {"PRS", "p s", ""};
    for (size_t i = 0; i < 3; i++) {
        df_consent_init(&k, "prs", "research", 1000, 0, NULL);
        strcpy(k.deny_purposes.v[0], bad[i]);
        k.deny_purposes.n = 1;
        CHECK_EQ(df_consent(&c, c.alice, &k, why, sizeof why), LEDGER_E_INVALID);
    }
    /* a full override with every list, on alice's own record */
    df_consent_init(&k, "*", "research", 3000, 2, c.data_a);
    strcpy(k.allow_purposes.v[1], "clinical");
    k.allow_purposes.n = 2;
    strcpy(k.deny_types.v[0], "gwas");
    k.deny_types.n = 1;
    strcpy(k.deny_purposes.v[0], "commercial");
    k.deny_purposes.n = 1;
    memcpy(k.auditors[0], proto_key_public(c.aud[0]), 32);
    k.n_auditors = 1;
    CHECK_EQ(df_consent(&c, c.alice, &k, why, sizeof why), LEDGER_OK);
    st = df_view(&c);
    ledger_consent_t got;
    CHECK_EQ(ledger_data_get(st, c.data_a, &d), LEDGER_OK);
    CHECK_EQ(ledger_consent_effective(st, &d, &got), LEDGER_OK);
    CHECK(memcmp(got.data_id, c.data_a, 32) == 0);
    CHECK(got.allow_purposes.n == 2 && strcmp(got.allow_purposes.v[1], "clinical") == 0);
    CHECK(got.deny_types.n == 1 && strcmp(got.deny_types.v[0], "gwas") == 0);
    CHECK(got.deny_purposes.n == 1 && strcmp(got.deny_purposes.v[0], "commercial") == 0);
    CHECK(got.n_auditors == 1 && memcmp(got.auditors[0], proto_key_public(c.aud[0]), 32) == 0);
    CHECK(got.min_audits == 2 && got.max_epsilon_milli == 3000);
    ledger_state_destroy(&st);

    /* revoke the override: the default is in force again; revoke that: nothing */
    size_t len;
    uint8_t *tx =
        ledger_contract_consent_revoke_tx(c.alice, c.chain, df_nonce(&c, c.alice), c.data_a, &len);
    CHECK_EQ(df_submit(&c, tx, len, NULL, 0), LEDGER_OK);
    tx = ledger_contract_consent_revoke_tx(c.alice, c.chain, df_nonce(&c, c.alice), c.data_a, &len);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why),
             LEDGER_E_DATA_RULE); /* nothing left to revoke */
    st = df_view(&c);
    CHECK_EQ(ledger_consent_effective(st, &d, &got), LEDGER_OK);
    CHECK(memcmp(got.data_id, s_zero, 32) == 0);
    ledger_state_destroy(&st);
    tx = ledger_contract_consent_revoke_tx(c.alice, c.chain, df_nonce(&c, c.alice), s_zero, &len);
    CHECK_EQ(df_submit(&c, tx, len, NULL, 0), LEDGER_OK);
    st = df_view(&c);
    CHECK_EQ(ledger_consent_effective(st, &d, &got), LEDGER_E_NOT_FOUND);
    ledger_state_destroy(&st);
    /* bob cannot revoke alice's: he has nothing of his own */
    tx = ledger_contract_consent_revoke_tx(c.bob, c.chain, df_nonce(&c, c.bob), s_zero, &len);
    CHECK_EQ(df_submit(&c, tx, len, NULL, 0), LEDGER_E_DATA_RULE);

    /* a list of 17 names is refused by the decoder (hand-built body past the bound) */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 17);
    for (int i = 0; i < 17; i++)
        proto_wr_str(&w, "a", 1);
    ledger_tx_t t;
    memset(&t, 0, sizeof t);
    memcpy(t.chain_id, c.chain, 32);
    t.type = LEDGER_TX_CONSENT_SET;
    ledger_consent_set_t *b = &t.body.consent_set;
    b->allow_types.raw = proto_wr_data(&w, &b->allow_types.len);
    b->allow_types.n = 17;
    const uint8_t empty[1] = {0x90};
    ledger_list_view_t ev = {.raw = empty, .len = 1, .n = 0};
    b->allow_purposes = b->deny_types = b->deny_purposes = b->auditors = ev;
    tx = ledger_tx_sign(&t, c.alice, &len);
    REQUIRE(tx != NULL);
    ledger_tx_t parsed;
    CHECK_EQ(ledger_tx_parse(tx, len, c.chain, true, &parsed, why, sizeof why), LEDGER_E_MALFORMED);
    free(tx);
    proto_wr_free(&w);
    /* the builder refuses past the bounds */
    df_consent_init(&k, "prs", "research", 1000, 0, NULL);
    k.allow_types.n = LEDGER_CONSENT_LIST_MAX + 1;
    CHECK(ledger_contract_consent_set_tx(c.alice, c.chain, 0, &k, &len) == NULL);
    df_close(&c);
}

/* Applies TX (taken) on the committed state after writing KEY = VAL, without committing. */
static int s_apply_over(df_chain_t *c, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, uint8_t *tx, size_t len, char *err, size_t err_cap)
{
    ledger_tx_t t;
    int rc = ledger_tx_parse(tx, len, c->chain, true, &t, err, err_cap);
    ledger_state_t *st = df_view(c);
    CHECK_EQ(ledger_state_put(st, key, klen, val, vlen), LEDGER_OK);
    if (rc == LEDGER_OK) {
        int arc = ledger_state_admit_tx(st, &t, err, err_cap);
        rc = ledger_state_apply_tx(st, &t, err, err_cap);
        CHECK_EQ(arc, rc);
    }
    ledger_state_destroy(&st);
    free(tx);
    return rc;
}

static void test_bounds(void)
{
    df_chain_t c;
    df_world(&c);
    char why[LEDGER_ERR_MAX] = "";
    size_t len, rlen;
    /* an owner with LEDGER_DATA_PER_OWNER_MAX records registers no more (the list's length
       written directly; one short of it, the record goes in at that index) */
    uint8_t key[1 + 32], id[32], addr[32] = {0}, cnt[4];
    key[0] = LEDGER_KEY_DATA_OWNER;
    memcpy(key + 1, proto_key_public(c.alice), 32);
    df_commit(&c, "one-too-many", id);
    uint8_t *rep = df_report(DF_V_SEED, id, PROTO_DATA_GENOTYPE, 5, 5, &rlen);
    uint8_t *tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20,
                                                   id, addr, rep, rlen, &len);
    proto_be32_put(cnt, LEDGER_DATA_PER_OWNER_MAX);
    CHECK_EQ(s_apply_over(&c, key, sizeof key, cnt, 4, tx, len, why, sizeof why),
             LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "most records") != NULL);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20, id, addr,
                                          rep, rlen, &len);
    proto_be32_put(cnt, LEDGER_DATA_PER_OWNER_MAX + 1);
    CHECK_EQ(s_apply_over(&c, key, sizeof key, cnt, 4, tx, len, why, sizeof why), LEDGER_E_CORRUPT);
    tx = ledger_contract_data_register_tx(c.alice, c.chain, df_nonce(&c, c.alice), 1, 20, id, addr,
                                          rep, rlen, &len);
    proto_be32_put(cnt, LEDGER_DATA_PER_OWNER_MAX - 1);
    CHECK_EQ(s_apply_over(&c, key, sizeof key, cnt, 4, tx, len, why, sizeof why), LEDGER_OK);
    free(rep);

    /* the audit trail: VALIDATED + KEY_AUTHORIZED up to one short of the bound, then key
       grants are refused but the withdrawal still fits */
    for (size_t i = 1; i + 1 < LEDGER_DATA_USES_MAX; i++)
        REQUIRE(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, (uint8_t)i, NULL, 0) ==
                LEDGER_OK);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 0xff, why, sizeof why),
             LEDGER_E_DATA_RULE);
    CHECK(strstr(why, "trail is full") != NULL);
    CHECK_EQ(df_withdraw(&c, c.alice, c.data_a), LEDGER_OK);
    ledger_state_t *st = df_view(&c);
    ledger_use_entry_t *uses = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_data_uses(st, c.data_a, &uses, &n), LEDGER_OK);
    CHECK_EQ(n, (size_t)LEDGER_DATA_USES_MAX);
    if (n == LEDGER_DATA_USES_MAX)
        CHECK_EQ(uses[n - 1].use, (uint32_t)LEDGER_USE_WITHDRAWN);
    free(uses);
    ledger_state_destroy(&st);
    df_close(&c);
}

/* Every new body: decode(encode) is the identity on the tx bytes. */
static void test_roundtrip(void)
{
    df_chain_t c;
    df_open(&c);
    uint8_t a[32], b[32], e[32];
    memset(a, 1, 32);
    memset(b, 2, 32);
    memset(e, 3, 32);
    size_t len[8], rlen;
    uint8_t *rep = df_report(DF_V_SEED, a, 1, 1, 1, &rlen);
    ledger_consent_t k;
    df_consent_init(&k, "prs", "*", 1500, 1, a);
    memcpy(k.auditors[0], b, 32);
    k.n_auditors = 1;
    ledger_spec_t s;
    df_spec_init(&s, 4, 800);
    uint8_t *txs[8] = {
        ledger_contract_data_register_tx(c.alice, c.chain, 1, 1, 12, a, b, rep, rlen, &len[0]),
        ledger_contract_data_withdraw_tx(c.alice, c.chain, 2, a, &len[1]),
        ledger_contract_consent_set_tx(c.alice, c.chain, 3, &k, &len[2]),
        ledger_contract_consent_revoke_tx(c.alice, c.chain, 4, s_zero, &len[3]),
        ledger_contract_trainer_register_tx(c.alice, c.chain, 5, "lab", &len[4]),
        ledger_contract_spec_register_tx(c.alice, c.chain, 6, &s, &len[5]),
        ledger_contract_donor_register_tx(c.alice, c.chain, 7, rep, rlen, &len[6]),
        ledger_contract_key_authorize_tx(c.alice, c.chain, 8, a, b, e, rep, 20, &len[7]),
    };
    for (size_t i = 0; i < 8; i++) {
        REQUIRE(txs[i] != NULL);
        ledger_tx_t t;
        char why[LEDGER_ERR_MAX] = "";
        CHECK_EQ(ledger_tx_parse(txs[i], len[i], c.chain, true, &t, why, sizeof why), LEDGER_OK);
        CHECK_EQ(t.type, (uint32_t)(LEDGER_TX_DATA_REGISTER + i));
        proto_wr_t w;
        proto_wr_init(&w);
        CHECK_EQ(ledger_tx_write(&w, &t), PROTO_OK);
        size_t wl;
        const uint8_t *wb = proto_wr_data(&w, &wl);
        CHECK(wb && wl == len[i] && memcmp(wb, txs[i], wl) == 0);
        proto_wr_free(&w);
        /* every truncation is refused */
        for (size_t cut = 0; cut < len[i]; cut += 7)
            CHECK(ledger_tx_decode(txs[i], cut, &t) != PROTO_OK);
        free(txs[i]);
    }
    free(rep);
    CHECK(strcmp(ledger_contract_find(LEDGER_TX_KEY_AUTHORIZE)->name, "key_authorize") == 0);
    CHECK(strcmp(proto_err_str(LEDGER_E_RECEIPT), "receipt") == 0);
    df_close(&c);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    test_data_register();
    test_withdraw();
    test_consent_contracts();
    test_bounds();
    test_roundtrip();
    return testutil_done("test_ledger_data");
}
