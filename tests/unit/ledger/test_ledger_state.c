/*  test_ledger_state: the block write set, tx atomicity, and the chained state root.
 *  Runs on a state without a store (an empty database). */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "testutil.h"

static uint8_t s_chain[LEDGER_ID_LEN];

static proto_key_t *s_key(uint8_t seed_byte)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, seed_byte, sizeof seed);
    return proto_key_from_seed(seed);
}

static void test_raw(void)
{
    ledger_state_t *st = ledger_state_new(NULL);
    CHECK(st != NULL);
    static const uint8_t k1[] = {'z', 1}, k2[] = {'z', 2};
    uint8_t *v;
    size_t vlen;
    CHECK_EQ(ledger_state_get(st, k1, sizeof k1, &v, &vlen), LEDGER_E_NOT_FOUND);
    CHECK(v == NULL);
    CHECK_EQ(ledger_state_put(st, k1, sizeof k1, (const uint8_t *)"hello", 5), LEDGER_OK);
    CHECK_EQ(ledger_state_put(st, k2, sizeof k2, NULL, 0), LEDGER_OK); /* empty value */
    CHECK_EQ(ledger_state_get(st, k1, sizeof k1, &v, &vlen), LEDGER_OK);
    CHECK(vlen == 5 && memcmp(v, "hello", 5) == 0);
    free(v);
    CHECK_EQ(ledger_state_get(st, k2, sizeof k2, &v, &vlen), LEDGER_OK);
    CHECK(v != NULL && vlen == 0);
    free(v);
    CHECK_EQ(ledger_state_put(st, k1, sizeof k1, (const uint8_t *)"bye", 3), LEDGER_OK);
    CHECK_EQ(ledger_state_get(st, k1, sizeof k1, &v, &vlen), LEDGER_OK);
    CHECK(vlen == 3 && memcmp(v, "bye", 3) == 0);
    free(v);
    CHECK_EQ(ledger_state_del(st, k1, sizeof k1), LEDGER_OK);
    CHECK_EQ(ledger_state_get(st, k1, sizeof k1, &v, &vlen), LEDGER_E_NOT_FOUND);
    CHECK_EQ(ledger_state_write_count(st), 2u); /* a deletion is a write */

    /* many keys: the table grows and everything stays readable */
    int bad = 0;
    for (uint32_t i = 0; i < 5000; i++) {
        uint8_t k[5] = {'y', (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        if (ledger_state_put(st, k, sizeof k, k, sizeof k) != LEDGER_OK)
            bad++;
    }
    for (uint32_t i = 0; i < 5000; i++) {
        uint8_t k[5] = {'y', (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        if (ledger_state_get(st, k, sizeof k, &v, &vlen) != LEDGER_OK || vlen != 5 ||
            memcmp(v, k, 5) != 0)
            bad++;
        free(v);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(ledger_state_write_count(st), 5002u);

    ledger_state_reset(st);
    CHECK_EQ(ledger_state_write_count(st), 0u);
    CHECK_EQ(ledger_state_get(st, k2, sizeof k2, &v, &vlen), LEDGER_E_NOT_FOUND);
    ledger_state_destroy(&st);
    CHECK(st == NULL);
    ledger_state_destroy(&st); /* tolerates NULL */
}

static void test_typed(void)
{
    ledger_state_t *st = ledger_state_new(NULL);
    uint8_t pub[32];
    memset(pub, 9, sizeof pub);
    ledger_account_t a;
    CHECK_EQ(ledger_state_account(st, pub, &a), LEDGER_OK);
    CHECK(a.balance == 0 && a.nonce == 0);
    a.balance = UINT64_MAX;
    a.nonce = 42;
    CHECK_EQ(ledger_state_set_account(st, pub, &a), LEDGER_OK);
    ledger_account_t b;
    CHECK_EQ(ledger_state_account(st, pub, &b), LEDGER_OK);
    CHECK(b.balance == UINT64_MAX && b.nonce == 42);
    uint8_t enc[16];
    ledger_account_encode(&b, enc);
    CHECK(enc[0] == 0xff && enc[15] == 42 && enc[8] == 0);

    uint8_t keys[3][32], got[LEDGER_AUTHORITIES_MAX][32];
    size_t n;
    CHECK_EQ(ledger_state_authorities(st, got, &n), LEDGER_OK);
    CHECK_EQ(n, 0u);
    memset(keys[0], 3, 32);
    memset(keys[1], 1, 32);
    memset(keys[2], 2, 32);
    CHECK_EQ(ledger_state_set_authorities(st, (const uint8_t(*)[32])keys, 3), LEDGER_OK);
    CHECK_EQ(ledger_state_authorities(st, got, &n), LEDGER_OK);
    CHECK_EQ(n, 3u);
    CHECK(got[0][0] == 1 && got[1][0] == 2 && got[2][0] == 3);
    memset(keys[2], 1, 32);
    CHECK_EQ(ledger_state_set_authorities(st, (const uint8_t(*)[32])keys, 3), LEDGER_E_INVALID);
    CHECK_EQ(ledger_state_set_authorities(st, (const uint8_t(*)[32])keys, 0), LEDGER_E_INVALID);
    ledger_state_destroy(&st);
}

static void test_tx_atomicity(void)
{
    ledger_state_t *st = ledger_state_new(NULL);
    proto_key_t *alice = s_key(1), *bob = s_key(2);
    ledger_account_t a = {.balance = 100, .nonce = 0};
    CHECK_EQ(ledger_state_set_account(st, proto_key_public(alice), &a), LEDGER_OK);
    size_t before = ledger_state_write_count(st);

    size_t len;
    uint8_t *big = ledger_contract_transfer_tx(alice, s_chain, 0, proto_key_public(bob), 150, &len);
    ledger_tx_t tx;
    CHECK_EQ(ledger_tx_decode(big, len, &tx), PROTO_OK);
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(ledger_state_apply_tx(st, &tx, why, sizeof why), LEDGER_E_FUNDS);
    CHECK(strstr(why, "insufficient") != NULL);
    /* nothing written: not even the nonce bump */
    CHECK_EQ(ledger_state_write_count(st), before);
    CHECK_EQ(ledger_state_account(st, proto_key_public(alice), &a), LEDGER_OK);
    CHECK(a.balance == 100 && a.nonce == 0);
    ledger_account_t b;
    CHECK_EQ(ledger_state_account(st, proto_key_public(bob), &b), LEDGER_OK);
    CHECK(b.balance == 0 && b.nonce == 0);
    free(big);

    uint8_t *ok = ledger_contract_transfer_tx(alice, s_chain, 0, proto_key_public(bob), 60, &len);
    CHECK_EQ(ledger_tx_decode(ok, len, &tx), PROTO_OK);
    CHECK_EQ(ledger_state_apply_tx(st, &tx, why, sizeof why), LEDGER_OK);
    CHECK_EQ(ledger_state_account(st, proto_key_public(alice), &a), LEDGER_OK);
    CHECK(a.balance == 40 && a.nonce == 1);
    CHECK_EQ(ledger_state_account(st, proto_key_public(bob), &b), LEDGER_OK);
    CHECK(b.balance == 60 && b.nonce == 0);
    /* admit checks the balance (40 < 60 now) and writes nothing */
    size_t count = ledger_state_write_count(st);
    CHECK_EQ(ledger_state_admit_tx(st, &tx, why, sizeof why), LEDGER_E_FUNDS);
    CHECK_EQ(ledger_state_write_count(st), count);
    free(ok);

    proto_key_destroy(&alice);
    proto_key_destroy(&bob);
    ledger_state_destroy(&st);
}

/* Root of a state holding the given (key, value) writes, inserted in order ORDER. */
static void s_root_of(const uint8_t keys[][3], const char *const *vals, const size_t *order,
                      size_t n, const uint8_t prev[32], uint8_t root[32])
{
    ledger_state_t *st = ledger_state_new(NULL);
    for (size_t i = 0; i < n; i++) {
        size_t k = order[i];
        if (vals[k])
            CHECK_EQ(ledger_state_put(st, keys[k], 3, (const uint8_t *)vals[k], strlen(vals[k])),
                     LEDGER_OK);
        else
            CHECK_EQ(ledger_state_del(st, keys[k], 3), LEDGER_OK);
    }
    CHECK_EQ(ledger_state_finish(st, prev, root), LEDGER_OK);
    uint8_t again[32];
    CHECK(ledger_state_finished(st, again));
    CHECK(memcmp(again, root, 32) == 0);
    /* after finish, writes are listed in key order */
    for (size_t i = 1; i < ledger_state_write_count(st); i++) {
        const uint8_t *k0, *k1, *v;
        size_t l0, l1, vl;
        ledger_state_write_at(st, i - 1, &k0, &l0, &v, &vl);
        ledger_state_write_at(st, i, &k1, &l1, &v, &vl);
        CHECK(memcmp(k0, k1, 3) < 0);
    }
    /* reads still work after finish */
    uint8_t *v;
    size_t vl;
    if (n > 0 && vals[0]) {
        CHECK_EQ(ledger_state_get(st, keys[0], 3, &v, &vl), LEDGER_OK);
        free(v);
    }
    ledger_state_destroy(&st);
}

static void test_root(void)
{
    static const uint8_t keys[3][3] = {{'z', 0, 2}, {'z', 0, 1}, {'z', 1, 0}};
    const char *vals[3] = {"two", "one", NULL};
    const size_t fwd[3] = {0, 1, 2}, rev[3] = {2, 1, 0};
    uint8_t prev[32] = {0}, r1[32], r2[32], r3[32];
    s_root_of(keys, vals, fwd, 3, prev, r1);
    s_root_of(keys, vals, rev, 3, prev, r2);
    CHECK(memcmp(r1, r2, 32) == 0); /* insertion order does not matter */

    /* the documented formula */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_array(&w, 2);
    proto_wr_bin(&w, keys[1], 3);
    proto_wr_bin(&w, "one", 3);
    proto_wr_array(&w, 2);
    proto_wr_bin(&w, keys[0], 3);
    proto_wr_bin(&w, "two", 3);
    proto_wr_array(&w, 2);
    proto_wr_bin(&w, keys[2], 3);
    proto_wr_nil(&w);
    size_t n;
    const uint8_t *data = proto_wr_data(&w, &n);
    uint8_t chain[64], want[32];
    memcpy(chain, prev, 32);
    proto_hash("genie/writes/v1", data, n, chain + 32);
    proto_hash("genie/state/v1", chain, 64, want);
    proto_wr_free(&w);
    CHECK(memcmp(want, r1, 32) == 0);

    /* a different value, a deletion vs. a value, a different prev: different roots */
    const char *vals2[3] = {"two", "one!", NULL};
    s_root_of(keys, vals2, fwd, 3, prev, r3);
    CHECK(memcmp(r1, r3, 32) != 0);
    const char *vals3[3] = {"two", "one", ""};
    s_root_of(keys, vals3, fwd, 3, prev, r3);
    CHECK(memcmp(r1, r3, 32) != 0);
    uint8_t prev2[32] = {1};
    s_root_of(keys, vals, fwd, 3, prev2, r3);
    CHECK(memcmp(r1, r3, 32) != 0);
    /* chaining: an empty block still moves the root */
    s_root_of(keys, vals, fwd, 0, r1, r3);
    CHECK(memcmp(r1, r3, 32) != 0);

    /* a failed tx leaves no trace in the root */
    proto_key_t *alice = s_key(1);
    ledger_state_t *s1 = ledger_state_new(NULL), *s2 = ledger_state_new(NULL);
    ledger_account_t a = {.balance = 10, .nonce = 0};
    CHECK_EQ(ledger_state_set_account(s1, proto_key_public(alice), &a), LEDGER_OK);
    CHECK_EQ(ledger_state_set_account(s2, proto_key_public(alice), &a), LEDGER_OK);
    size_t len;
    uint8_t *t = ledger_contract_transfer_tx(alice, s_chain, 0, s_chain, 11, &len);
    ledger_tx_t tx;
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(ledger_tx_decode(t, len, &tx), PROTO_OK);
    CHECK_EQ(ledger_state_apply_tx(s1, &tx, why, sizeof why), LEDGER_E_FUNDS);
    CHECK_EQ(ledger_state_finish(s1, prev, r1), LEDGER_OK);
    CHECK_EQ(ledger_state_finish(s2, prev, r2), LEDGER_OK);
    CHECK(memcmp(r1, r2, 32) == 0);
    free(t);
    ledger_state_destroy(&s1);
    ledger_state_destroy(&s2);
    proto_key_destroy(&alice);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_hash("test/chain", (const uint8_t *)"a", 1, s_chain);
    test_raw();
    test_typed();
    test_tx_atomicity();
    test_root();
    return testutil_done("test_ledger_state");
}
