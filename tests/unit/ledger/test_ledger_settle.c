/*  test_ledger_settle: paid queries and settlement (ledger_contract_settle.c) on a real chain
 *  (ledger_model_fixture.h; every tx through parse, admit and apply, committed as a block a
 *  peer re-executes).
 *
 *  Shows: QUERY_BUY moves exactly price * count from the balance into escrow and is refused
 *  for count 0 / past 1,000,000, an unknown model, a short balance and a cost past
 *  UINT64_MAX; USAGE_CLAIM splits the fee exactly (runner and trainer floors, donor parts by
 *  weight with the remainder to party 0) into role earnings and pools, is capped by what is
 *  left of the buy, refuses the same count twice, a spent buy, an unknown buy, a buy of
 *  another model, a bad signature, a signer that is not a registered query enclave of the
 *  model's query measurement, and a revoked one, while a retired one may still claim;
 *  EARNINGS_CLAIM moves exactly what ledger_earnings_owed / ledger_earnings_role said
 *  (floor(pool / n_records) - paid per record, dust left in the pool) and refuses when
 *  nothing is owed. A randomized run of buys, usage claims and earnings claims keeps
 *  balances + escrows + role earnings + pools constant to the unit after every block
 *  (seed printed; GENIE_TEST_SEED=N replays).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_model_fixture.h"

#define FUND 1000000u

static uint64_t s_pool_left(mf_world_t *w, const uint8_t model[32], uint32_t party)
{
    ledger_state_t *st = df_view(&w->c);
    uint64_t credited = 0, paid = 0;
    CHECK_EQ(ledger_pool_get(st, model, party, &credited, &paid), LEDGER_OK);
    ledger_state_destroy(&st);
    return credited - paid;
}

static ledger_buy_t s_buy_get(mf_world_t *w, const uint8_t id[32])
{
    ledger_buy_t b;
    ledger_state_t *st = df_view(&w->c);
    CHECK_EQ(ledger_buy_get(st, id, &b), LEDGER_OK);
    ledger_state_destroy(&st);
    return b;
}

static uint64_t s_owed(mf_world_t *w, const proto_key_t *k, const uint8_t model[32])
{
    ledger_model_owed_t o;
    ledger_state_t *st = df_view(&w->c);
    CHECK_EQ(ledger_earnings_owed(st, proto_key_public(k), model, &o), LEDGER_OK);
    ledger_state_destroy(&st);
    return o.owed;
}

static void test_buy_usage_claim(void)
{
    mf_world_t w;
    mf_world(&w, MF_DONORS, FUND);
    char why[LEDGER_ERR_MAX] = "";
    uint8_t model[32], model2[32], buy[32], buy2[32], bogus[32];
    memset(bogus, 0x99, 32);
    mf_model(&w, 0x0f, 6000, model); /* party 0 = T (a1, b2), party 1 = T2 (b1, a2) */
    mf_model(&w, 0x1e, 2500, model2);

    /* buys */
    CHECK_EQ(mf_buy(&w, w.c.bob, model, 0, NULL, why, sizeof why), LEDGER_E_INVALID);
    CHECK_EQ(mf_buy(&w, w.c.bob, model, LEDGER_BUY_COUNT_MAX + 1, NULL, why, sizeof why),
             LEDGER_E_INVALID);
    CHECK_EQ(mf_buy(&w, w.c.bob, bogus, 5, NULL, why, sizeof why), LEDGER_E_ESCROW);
    CHECK_EQ(mf_buy(&w, w.c.auth, model, 5, NULL, why, sizeof why), LEDGER_E_FUNDS);
    CHECK_EQ(mf_buy(&w, w.c.bob, model, 7, buy, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_balance(&w, w.c.bob), (uint64_t)FUND - 70);
    ledger_buy_t b = s_buy_get(&w, buy);
    CHECK(b.count == 7 && b.claimed == 0 && b.price == 10 && b.escrow == 70);
    CHECK(memcmp(b.buyer, proto_key_public(w.c.bob), 32) == 0 &&
          memcmp(b.model_id, model, 32) == 0 && b.height == df_height(&w.c));
    uint8_t code[32], h[32];
    memset(code, 0xc0, 32);
    proto_access_code_hash(code, h);
    CHECK(memcmp(b.code_hash, h, 32) == 0);

    /* usage refusals */
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, bogus, 3, false, why, sizeof why), LEDGER_E_ESCROW);
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy, 3, true, why, sizeof why), LEDGER_E_USAGE);
    CHECK(strstr(why, "signature") != NULL);
    CHECK_EQ(mf_usage(&w, DF_T_SEED, model, buy, 3, false, why, sizeof why), LEDGER_E_USAGE);
    CHECK(strstr(why, "not a query enclave") != NULL);
    CHECK_EQ(mf_usage(&w, 0x2f, model, buy, 3, false, why, sizeof why), LEDGER_E_USAGE);
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model2, buy, 3, false, why, sizeof why), LEDGER_E_USAGE);
    CHECK(strstr(why, "another model") != NULL);
    CHECK_EQ(df_enclave(&w.c, PROTO_ATTEST_KIND_QUERY, 0x06, 0x26, NULL), LEDGER_OK);
    CHECK_EQ(mf_usage(&w, 0x26, model, buy, 3, false, why, sizeof why), LEDGER_E_USAGE);
    CHECK(strstr(why, "measurement") != NULL);
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy, 0, false, why, sizeof why), LEDGER_E_USAGE);

    /* 3 queries: fee 30 = runner 3 + trainer 6 + donors 21 (party 0: 12 + remainder 1,
       party 1: 8) */
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy, 3, false, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_role(&w, w.c.runner), 3u);
    CHECK_EQ(mf_role(&w, w.c.trainer), 6u);
    CHECK_EQ(s_pool_left(&w, model, 0), 13u);
    CHECK_EQ(s_pool_left(&w, model, 1), 8u);
    b = s_buy_get(&w, buy);
    CHECK(b.claimed == 3 && b.escrow == 40);
    ledger_state_t *st = df_view(&w.c);
    uint64_t claimed = 0;
    CHECK_EQ(ledger_buy_claimed(st, buy, w.q_id, &claimed), LEDGER_OK);
    CHECK_EQ(claimed, 3u);
    ledger_state_destroy(&st);
    /* the same count again adds nothing */
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy, 3, false, why, sizeof why), LEDGER_E_USAGE);
    CHECK(strstr(why, "no queries") != NULL);
    /* 10 served, 4 left: capped at 4, fee 40 = 4 + 8 + 28 (16 + 1, 11) */
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy, 10, false, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_role(&w, w.c.runner), 7u);
    CHECK_EQ(mf_role(&w, w.c.trainer), 14u);
    CHECK_EQ(s_pool_left(&w, model, 0), 30u);
    CHECK_EQ(s_pool_left(&w, model, 1), 19u);
    b = s_buy_get(&w, buy);
    CHECK(b.claimed == 7 && b.escrow == 0);
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy, 11, false, why, sizeof why), LEDGER_E_ESCROW);
    CHECK(strstr(why, "spent") != NULL);

    /* earnings: alice a1 (party 0) 15 + a2 (party 1) 9; bob b2 15 + b1 9 */
    CHECK_EQ(s_owed(&w, w.c.alice, model), 24u);
    CHECK_EQ(s_owed(&w, w.c.bob, model), 24u);
    uint64_t before = mf_balance(&w, w.c.alice);
    CHECK_EQ(mf_claim(&w, w.c.alice, model, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_balance(&w, w.c.alice), before + 24);
    CHECK_EQ(mf_claim(&w, w.c.alice, model, why, sizeof why), LEDGER_E_NOTHING_OWED);
    CHECK_EQ(mf_claim(&w, w.c.alice, NULL, why, sizeof why), LEDGER_E_NOTHING_OWED);
    CHECK_EQ(mf_claim(&w, w.c.alice, bogus, why, sizeof why), LEDGER_E_ESCROW);
    CHECK_EQ(s_owed(&w, w.c.alice, model), 0u);
    before = mf_balance(&w, w.c.bob);
    CHECK_EQ(mf_claim(&w, w.c.bob, model, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_balance(&w, w.c.bob), before + 24);
    CHECK_EQ(s_pool_left(&w, model, 0), 0u);
    CHECK_EQ(s_pool_left(&w, model, 1), 1u); /* the dust */
    /* bob is no donor of model2's... he is (b1, b2, b3): nothing credited there yet */
    CHECK_EQ(mf_claim(&w, w.c.bob, model2, why, sizeof why), LEDGER_E_NOTHING_OWED);
    before = mf_balance(&w, w.c.runner);
    CHECK_EQ(mf_claim(&w, w.c.runner, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_balance(&w, w.c.runner), before + 7);
    CHECK_EQ(mf_role(&w, w.c.runner), 0u);
    CHECK_EQ(mf_claim(&w, w.c.runner, NULL, why, sizeof why), LEDGER_E_NOTHING_OWED);
    /* the trainer claims role earnings along with a model where it has no records */
    before = mf_balance(&w, w.c.trainer);
    CHECK_EQ(mf_claim(&w, w.c.trainer, model, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_balance(&w, w.c.trainer), before + 14);
    /* 70 paid = 24 + 24 + 7 + 14 + 1 dust */

    /* a retired query enclave may still claim what it served; a revoked one may not */
    CHECK_EQ(mf_buy(&w, w.c.alice, model, 5, buy2, why, sizeof why), LEDGER_OK);
    size_t len;
    uint8_t *tx = ledger_contract_enclave_retire_tx(w.c.runner, w.c.chain,
                                                    df_nonce(&w.c, w.c.runner), w.q_id, &len);
    CHECK_EQ(df_submit(&w.c, tx, len, why, sizeof why), LEDGER_OK);
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy2, 2, false, why, sizeof why), LEDGER_OK);
    uint8_t qm[32];
    memset(qm, MF_Q_M, 32);
    CHECK_EQ(df_revoke(&w.c, LEDGER_REVOKE_MEASUREMENT, qm), LEDGER_OK);
    CHECK_EQ(mf_usage(&w, MF_Q_SEED, model, buy2, 3, false, why, sizeof why), LEDGER_E_USAGE);
    CHECK(strstr(why, "revoked") != NULL);
    mf_close(&w);
}

/* A spec priced at 2^63: a buy of 2 overflows, a buy of 1 is past the balance. */
static void test_buy_overflow(void)
{
    mf_world_t w;
    mf_world(&w, 0, FUND);
    ledger_spec_t s;
    df_spec_init(&s, DF_T_M, 1000);
    s.price = 1ull << 63;
    s.min_donors = 1;
    REQUIRE(df_spec(&w.c, w.c.trainer, &s, w.c.spec_id, NULL, 0) == LEDGER_OK);
    mf_donate(&w, 0, 1);
    uint8_t model[32];
    mf_model(&w, 0x01, 10000, model);
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(mf_buy(&w, w.c.bob, model, 2, NULL, why, sizeof why), LEDGER_E_ESCROW);
    CHECK(strstr(why, "UINT64_MAX") != NULL);
    CHECK_EQ(mf_buy(&w, w.c.bob, model, 1, NULL, why, sizeof why), LEDGER_E_FUNDS);
    CHECK_EQ(mf_balance(&w, w.c.bob), (uint64_t)FUND);
    mf_close(&w);
}

/* ---- conservation over a randomized run ---- */

#define BUYS_MAX 128

typedef struct {
    mf_world_t w;
    uint8_t models[2][32];
    uint8_t buys[BUYS_MAX][32];
    size_t n_buys;
    uint64_t rng;
} s_run_t;

static uint64_t s_rand(s_run_t *r, uint64_t n)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng % n;
}

static uint64_t s_total(s_run_t *r)
{
    mf_world_t *w = &r->w;
    const proto_key_t *accts[5] = {w->c.alice, w->c.bob, w->c.trainer, w->c.runner, w->c.auth};
    uint64_t total = 0;
    ledger_state_t *st = df_view(&w->c);
    for (size_t i = 0; i < 5; i++) {
        ledger_account_t a;
        uint64_t e = 0;
        CHECK_EQ(ledger_state_account(st, proto_key_public(accts[i]), &a), LEDGER_OK);
        CHECK_EQ(ledger_earnings_role(st, proto_key_public(accts[i]), &e), LEDGER_OK);
        total += a.balance + e;
    }
    for (size_t i = 0; i < r->n_buys; i++) {
        ledger_buy_t b;
        CHECK_EQ(ledger_buy_get(st, r->buys[i], &b), LEDGER_OK);
        CHECK_EQ(b.escrow, b.price * (b.count - b.claimed));
        total += b.escrow;
    }
    for (size_t m = 0; m < 2; m++)
        for (uint32_t p = 0; p < 2; p++) {
            uint64_t credited = 0, paid = 0;
            CHECK_EQ(ledger_pool_get(st, r->models[m], p, &credited, &paid), LEDGER_OK);
            CHECK(paid <= credited);
            total += credited - paid;
        }
    ledger_state_destroy(&st);
    return total;
}

static void test_conservation(void)
{
    s_run_t *r = calloc(1, sizeof *r);
    REQUIRE(r != NULL);
    r->rng = testutil_seed("test_ledger_settle conservation") | 1;
    mf_world_t *w = &r->w;
    mf_world(w, MF_DONORS, FUND);
    mf_model(w, 0x0f, 6000, r->models[0]);
    mf_model(w, 0x1e, 2500, r->models[1]);
    const proto_key_t *accts[4] = {w->c.alice, w->c.bob, w->c.trainer, w->c.runner};
    const uint64_t start = s_total(r);
    CHECK_EQ(start, 4ull * FUND);
    uint64_t served[BUYS_MAX] = {0};
    int ok = 0, refused = 0;
    for (int step = 0; step < 240; step++) {
        char why[LEDGER_ERR_MAX] = "";
        int rc;
        uint64_t kind = s_rand(r, 3);
        if (kind == 0 || r->n_buys == 0) {
            if (r->n_buys == BUYS_MAX)
                continue;
            const proto_key_t *k = accts[s_rand(r, 4)];
            uint32_t count = (uint32_t)(1 + s_rand(r, 40));
            rc = mf_buy(w, k, r->models[s_rand(r, 2)], count, r->buys[r->n_buys], why, sizeof why);
            CHECK(rc == LEDGER_OK || rc == LEDGER_E_FUNDS);
            if (rc == LEDGER_OK)
                r->n_buys++;
        } else if (kind == 1) {
            size_t i = (size_t)s_rand(r, r->n_buys);
            ledger_buy_t b = s_buy_get(w, r->buys[i]);
            uint64_t count = served[i] + s_rand(r, 12); /* may add nothing */
            rc = mf_usage(w, MF_Q_SEED, b.model_id, r->buys[i], count, false, why, sizeof why);
            CHECK(rc == LEDGER_OK || rc == LEDGER_E_USAGE || rc == LEDGER_E_ESCROW);
            if (rc == LEDGER_OK) {
                served[i] = count;
                CHECK_EQ(s_buy_get(w, r->buys[i]).claimed,
                         (uint32_t)(count < b.count ? count : b.count));
            }
        } else {
            const proto_key_t *k = accts[s_rand(r, 4)];
            uint64_t pick = s_rand(r, 3);
            const uint8_t *model = pick == 2 ? NULL : r->models[pick];
            uint64_t expect = mf_role(w, k) + (model ? s_owed(w, k, model) : 0);
            uint64_t before = mf_balance(w, k);
            rc = mf_claim(w, k, model, why, sizeof why);
            CHECK(rc == (expect ? LEDGER_OK : LEDGER_E_NOTHING_OWED));
            CHECK_EQ(mf_balance(w, k), before + (rc == LEDGER_OK ? expect : 0));
        }
        if (rc == LEDGER_OK)
            ok++;
        else
            refused++;
        uint64_t now = s_total(r);
        if (now != start) {
            fprintf(stderr, "conservation broken at step %d: %llu != %llu\n", step,
                    (unsigned long long)now, (unsigned long long)start);
            CHECK(now == start);
            break;
        }
    }
    printf("conservation: %d accepted, %d refused, %zu buys, total %llu\n", ok, refused, r->n_buys,
           (unsigned long long)start);
    CHECK(ok > 50 && refused > 0);
    mf_close(w);
    free(r);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    test_buy_usage_claim();
    test_buy_overflow();
    test_conservation();
    return testutil_done("test_ledger_settle");
}
