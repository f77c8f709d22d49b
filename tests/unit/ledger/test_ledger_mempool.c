/*  test_ledger_mempool: admission with reasons, bounds, per-account nonce order,
 *  round-robin reaping, and cleanup after a committed block; txs behind a nonce gap
 *  expire after gap_expiry_ms (the clock is an argument); every uncommitted departure is
 *  in the bounded "recently dropped" index with its reason (expired, replaced by TXID,
 *  nonce used, removed); local txs are listed, in turn, until they leave. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_store.h"
#include "proto/proto_key.h"
#include "testutil.h"

typedef struct {
    char dir[256];
    ledger_store_t *store;
    proto_key_t *auth, *a, *b, *c, *poor;
    const uint8_t *chain;
    ledger_genesis_t *g;
} s_env_t;

static proto_key_t *s_key(uint8_t seed_byte)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, seed_byte, sizeof seed);
    return proto_key_from_seed(seed);
}

static void s_env_init(s_env_t *e)
{
    e->auth = s_key(1);
    e->a = s_key(2);
    e->b = s_key(3);
    e->c = s_key(4);
    e->poor = s_key(5);
    uint8_t auth[1][32];
    memcpy(auth[0], proto_key_public(e->auth), 32);
    ledger_balance_t bal[3];
    proto_key_t *rich[3] = {e->a, e->b, e->c};
    for (int i = 0; i < 3; i++) {
        memcpy(bal[i].account, proto_key_public(rich[i]), 32);
        bal[i].amount = 1000;
    }
    ledger_genesis_params_t p = {.chain_name = "pool",
                                 .block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = 1};
    memcpy(p.attestation_service, auth[0], 32);
    char err[256];
    CHECK_EQ(ledger_genesis_new(&p, (const uint8_t(*)[32])auth, 1, bal, 3, &e->g, err, sizeof err),
             LEDGER_OK);
    e->chain = ledger_genesis_chain_id(e->g);
    strcpy(e->dir, testutil_tmpdir());
    CHECK_EQ(ledger_store_open(e->dir, &e->store, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(e->g, e->store), LEDGER_OK);
}

static void s_env_fini(s_env_t *e)
{
    ledger_store_destroy(&e->store);
    testutil_rmtree(e->dir);
    ledger_genesis_destroy(&e->g);
    proto_key_destroy(&e->auth);
    proto_key_destroy(&e->a);
    proto_key_destroy(&e->b);
    proto_key_destroy(&e->c);
    proto_key_destroy(&e->poor);
}

/* Adds a transfer FROM -> TO; returns the code; *id (may be NULL) the txid. */
static int s_add(ledger_mempool_t *pool, s_env_t *e, proto_key_t *from, uint64_t nonce,
                 uint64_t amount, uint8_t *id, char *err, size_t err_cap)
{
    size_t len;
    uint8_t *t =
        ledger_contract_transfer_tx(from, e->chain, nonce, proto_key_public(e->c), amount, &len);
    char w[LEDGER_ERR_MAX] = "";
    int rc = ledger_mempool_add(pool, t, len, id, w, sizeof w);
    if (rc != LEDGER_OK) {
        CHECK(w[0] != '\0');
        proto_err_fail(err, err_cap, rc, "%s", w);
    }
    free(t);
    return rc;
}

/* Builds and commits a block from POOL; updates POOL. Returns the tx count. */
static size_t s_commit(s_env_t *e, ledger_mempool_t *pool, ledger_mempool_t *build_from)
{
    ledger_build_params_t bp = {.time_ms = 10};
    memcpy(bp.proposer, proto_key_public(e->auth), 32);
    uint8_t *block;
    size_t len;
    ledger_state_t *st;
    CHECK_EQ(ledger_block_build(e->store, build_from, &bp, &block, &len, &st), LEDGER_OK);
    CHECK_EQ(ledger_store_commit(e->store, block, len, (const uint8_t *)"c", 1, st), LEDGER_OK);
    CHECK_EQ(ledger_mempool_update(pool, block, len), LEDGER_OK);
    if (build_from != pool)
        CHECK_EQ(ledger_mempool_update(build_from, block, len), LEDGER_OK);
    ledger_block_t *b = NULL;
    CHECK_EQ(ledger_block_decode(block, len, &b), PROTO_OK);
    size_t n = ledger_block_tx_count(b);
    ledger_block_destroy(&b);
    ledger_state_destroy(&st);
    free(block);
    return n;
}

static void test_admission(void)
{
    s_env_t e;
    s_env_init(&e);
    ledger_mempool_limits_t lim = {.max_nonce_ahead = 10};
    ledger_mempool_t *pool = ledger_mempool_new(e.store, &lim);
    char why[LEDGER_ERR_MAX] = "";
    uint8_t id[32];
    size_t len;

    CHECK_EQ(s_add(pool, &e, e.a, 0, 10, id, why, sizeof why), LEDGER_OK);
    CHECK(ledger_mempool_has(pool, id));
    CHECK_EQ(ledger_mempool_count(pool), 1u);
    CHECK(ledger_mempool_bytes(pool) > 100);
    /* duplicate */
    CHECK_EQ(s_add(pool, &e, e.a, 0, 10, NULL, why, sizeof why), LEDGER_E_DUPLICATE);
    /* same nonce, another tx */
    CHECK_EQ(s_add(pool, &e, e.a, 0, 11, NULL, why, sizeof why), LEDGER_E_NONCE_TAKEN);
    /* too far ahead: committed nonce 0, window 10 */
    CHECK_EQ(s_add(pool, &e, e.a, 9, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 10, 1, NULL, why, sizeof why), LEDGER_E_NONCE_GAP);
    CHECK_EQ(s_add(pool, &e, e.a, UINT64_MAX, 1, NULL, why, sizeof why), LEDGER_E_NONCE_GAP);
    /* insufficient funds (against committed state) and zero amount */
    CHECK_EQ(s_add(pool, &e, e.poor, 0, 1, NULL, why, sizeof why), LEDGER_E_FUNDS);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 1001, NULL, why, sizeof why), LEDGER_E_FUNDS);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 0, NULL, why, sizeof why), LEDGER_E_INVALID);
    /* wrong chain */
    uint8_t other[32] = {1};
    uint8_t *t = ledger_contract_transfer_tx(e.a, other, 1, other, 1, &len);
    CHECK_EQ(ledger_mempool_add(pool, t, len, NULL, why, sizeof why), LEDGER_E_WRONG_CHAIN);
    free(t);
    /* forged / tampered */
    t = ledger_contract_transfer_tx(e.a, e.chain, 1, other, 1, &len);
    t[len - 5] ^= 0x10;
    CHECK_EQ(ledger_mempool_add(pool, t, len, NULL, why, sizeof why), LEDGER_E_BAD_SIG);
    free(t);
    t = ledger_contract_transfer_tx(e.poor, e.chain, 1, other, 1, &len);
    memcpy(t + 37, proto_key_public(e.b), 32); /* claim to be b */
    CHECK_EQ(ledger_mempool_add(pool, t, len, NULL, why, sizeof why), LEDGER_E_BAD_SIG);
    free(t);
    /* malformed, oversized */
    static const uint8_t junk[] = {0x96, 0x00};
    CHECK_EQ(ledger_mempool_add(pool, junk, sizeof junk, NULL, why, sizeof why),
             LEDGER_E_MALFORMED);
    uint8_t *big = calloc(1, LEDGER_TX_MAX_BYTES + 1);
    CHECK_EQ(ledger_mempool_add(pool, big, LEDGER_TX_MAX_BYTES + 1, NULL, why, sizeof why),
             LEDGER_E_TOO_BIG);
    free(big);
    /* a vote from a non-authority */
    t = ledger_contract_auth_vote_tx(e.a, e.chain, 1, LEDGER_AUTH_ADD, proto_key_public(e.b), &len);
    CHECK_EQ(ledger_mempool_add(pool, t, len, NULL, why, sizeof why), LEDGER_E_NOT_AUTHORITY);
    free(t);
    t = ledger_contract_auth_vote_tx(e.auth, e.chain, 0, LEDGER_AUTH_ADD, proto_key_public(e.b),
                                     &len);
    CHECK_EQ(ledger_mempool_add(pool, t, len, NULL, why, sizeof why), LEDGER_OK);
    free(t);
    CHECK_EQ(ledger_mempool_count(pool), 3u);

    /* replay after commit: a's nonce 0 is now used */
    CHECK_EQ(s_commit(&e, pool, pool), 2u); /* a0 and the vote; a9 waits */
    CHECK(!ledger_mempool_has(pool, id));
    CHECK_EQ(ledger_mempool_count(pool), 1u);
    CHECK_EQ(s_add(pool, &e, e.a, 0, 10, NULL, why, sizeof why), LEDGER_E_NONCE_USED);
    CHECK(strstr(why, "replay") != NULL);
    /* the window moved with the committed nonce */
    CHECK_EQ(s_add(pool, &e, e.a, 10, 1, NULL, why, sizeof why), LEDGER_OK);

    /* remove */
    CHECK_EQ(s_add(pool, &e, e.b, 0, 1, id, why, sizeof why), LEDGER_OK);
    CHECK(ledger_mempool_remove(pool, id));
    CHECK(!ledger_mempool_remove(pool, id));
    CHECK(!ledger_mempool_has(pool, id));
    ledger_mempool_destroy(&pool);
    CHECK(pool == NULL);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

static void test_bounds(void)
{
    s_env_t e;
    s_env_init(&e);
    char why[LEDGER_ERR_MAX] = "";
    ledger_mempool_limits_t lim = {.max_txs = 3};
    ledger_mempool_t *pool = ledger_mempool_new(e.store, &lim);
    CHECK_EQ(s_add(pool, &e, e.a, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.b, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.b, 1, 1, NULL, why, sizeof why), LEDGER_E_FULL);
    CHECK_EQ(ledger_mempool_count(pool), 3u);
    ledger_mempool_destroy(&pool);

    size_t one = 0;
    uint8_t *t = ledger_contract_transfer_tx(e.a, e.chain, 0, e.chain, 1, &one);
    free(t);
    lim = (ledger_mempool_limits_t){.max_bytes = 2 * one + one / 2};
    pool = ledger_mempool_new(e.store, &lim);
    CHECK_EQ(s_add(pool, &e, e.a, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.b, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.c, 0, 1, NULL, why, sizeof why), LEDGER_E_FULL);
    CHECK(ledger_mempool_bytes(pool) <= lim.max_bytes);
    ledger_mempool_destroy(&pool);

    lim = (ledger_mempool_limits_t){.max_per_account = 2};
    pool = ledger_mempool_new(e.store, &lim);
    CHECK_EQ(s_add(pool, &e, e.a, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 2, 1, NULL, why, sizeof why), LEDGER_E_FULL);
    CHECK(strstr(why, "account") != NULL);
    CHECK_EQ(s_add(pool, &e, e.b, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    ledger_mempool_destroy(&pool);

    /* many accounts and txs: the sets grow and shrink */
    pool = ledger_mempool_new(e.store, NULL);
    uint8_t ids[300][32];
    int bad = 0;
    for (int i = 0; i < 300; i++)
        if (s_add(pool, &e, i % 2 ? e.a : e.b, (uint64_t)i / 2, 1, ids[i], why, sizeof why) !=
            LEDGER_OK)
            bad++;
    CHECK_EQ(bad, 0);
    for (int i = 0; i < 300; i += 3)
        if (!ledger_mempool_remove(pool, ids[i]))
            bad++;
    for (int i = 0; i < 300; i++)
        if (ledger_mempool_has(pool, ids[i]) != (i % 3 != 0))
            bad++;
    CHECK_EQ(bad, 0);
    CHECK_EQ(ledger_mempool_count(pool), 200u);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

static bool s_is(const ledger_txref_t *r, proto_key_t *from, uint64_t nonce)
{
    ledger_tx_t tx;
    return ledger_tx_decode(r->bytes, r->len, &tx) == PROTO_OK &&
           memcmp(tx.from, proto_key_public(from), 32) == 0 && tx.nonce == nonce;
}

static void test_order(void)
{
    s_env_t e;
    s_env_init(&e);
    char why[LEDGER_ERR_MAX] = "";
    ledger_mempool_t *pool = ledger_mempool_new(e.store, NULL);
    /* a: nonces 2, 0, 1 (out of order); b: 0, 1; c: 1 only (gap) */
    CHECK_EQ(s_add(pool, &e, e.a, 2, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.b, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.b, 1, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.c, 1, 1, NULL, why, sizeof why), LEDGER_OK);
    ledger_txref_t out[16];
    size_t n = ledger_mempool_reap(pool, 16, 1 << 20, out);
    CHECK_EQ(n, 5u); /* c's tx is not ready */
    /* round-robin across accounts, nonce order within each */
    CHECK(s_is(&out[0], e.a, 0) && s_is(&out[1], e.b, 0) && s_is(&out[2], e.a, 1) &&
          s_is(&out[3], e.b, 1) && s_is(&out[4], e.a, 2));
    for (size_t i = 0; i < n; i++) {
        uint8_t id[32];
        ledger_tx_id(out[i].bytes, out[i].len, id);
        CHECK(memcmp(id, out[i].txid, 32) == 0);
    }
    /* limits on count and bytes */
    CHECK_EQ(ledger_mempool_reap(pool, 2, 1 << 20, out), 2u);
    CHECK_EQ(ledger_mempool_reap(pool, 16, out[0].len + 5, out), 1u);
    CHECK_EQ(ledger_mempool_reap(pool, 16, 0, out), 0u);
    CHECK_EQ(ledger_mempool_reap(pool, 0, 1 << 20, out), 0u);
    /* reaping does not remove */
    CHECK_EQ(ledger_mempool_count(pool), 6u);

    /* commit: included txs leave the pool; c's gap tx stays */
    CHECK_EQ(s_commit(&e, pool, pool), 5u);
    CHECK_EQ(ledger_mempool_count(pool), 1u);
    CHECK_EQ(ledger_mempool_reap(pool, 16, 1 << 20, out), 0u);
    /* filling the gap makes both ready, in order */
    CHECK_EQ(s_add(pool, &e, e.c, 0, 1, NULL, why, sizeof why), LEDGER_OK);
    n = ledger_mempool_reap(pool, 16, 1 << 20, out);
    CHECK(n == 2 && s_is(&out[0], e.c, 0) && s_is(&out[1], e.c, 1));

    /* stale: another node's block uses a's nonce 3 with a different tx */
    ledger_mempool_t *other = ledger_mempool_new(e.store, NULL);
    uint8_t mine[32];
    CHECK_EQ(s_add(pool, &e, e.a, 3, 7, mine, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 4, 7, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(other, &e, e.a, 3, 8, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_commit(&e, pool, other), 1u);
    CHECK(!ledger_mempool_has(pool, mine)); /* dropped: nonce 3 is used */
    n = ledger_mempool_reap(pool, 16, 1 << 20, out);
    CHECK_EQ(n, 3u); /* c0, c1, a4 */
    ledger_mempool_destroy(&other);
    /* update with garbage */
    CHECK_EQ(ledger_mempool_update(pool, (const uint8_t *)"x", 1), LEDGER_E_MALFORMED);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

/* ledger_mempool_add_verified skips only the signature; ledger_mempool_full. */
static void test_verified(void)
{
    s_env_t e;
    s_env_init(&e);
    ledger_mempool_limits_t lim = {.max_txs = 2};
    ledger_mempool_t *pool = ledger_mempool_new(e.store, &lim);
    size_t len;
    uint8_t *t = ledger_contract_transfer_tx(e.a, e.chain, 0, proto_key_public(e.c), 1, &len);
    t[len - 1] ^= 1; /* last byte of the signature */
    char why[LEDGER_ERR_MAX] = "";
    uint8_t id[32];
    CHECK_EQ(ledger_mempool_add(pool, t, len, id, why, sizeof why), LEDGER_E_BAD_SIG);
    CHECK(!ledger_mempool_has(pool, id));
    /* the caller vouches for the signature: admitted (which is why only code that checked
       it, on these bytes, may call this) */
    CHECK_EQ(ledger_mempool_add_verified(pool, t, len, id, why, sizeof why), LEDGER_OK);
    CHECK(ledger_mempool_has(pool, id));
    CHECK(!ledger_mempool_full(pool));
    /* every other rule still holds */
    CHECK_EQ(ledger_mempool_add_verified(pool, t, len, NULL, why, sizeof why), LEDGER_E_DUPLICATE);
    free(t);
    t = ledger_contract_transfer_tx(e.a, e.chain, 0, e.chain, 2, &len); /* same nonce */
    CHECK_EQ(ledger_mempool_add_verified(pool, t, len, NULL, why, sizeof why),
             LEDGER_E_NONCE_TAKEN);
    free(t);
    t = ledger_contract_transfer_tx(e.poor, e.chain, 0, e.chain, 5, &len);
    CHECK_EQ(ledger_mempool_add_verified(pool, t, len, NULL, why, sizeof why), LEDGER_E_FUNDS);
    free(t);
    t = ledger_contract_transfer_tx(e.b, e.chain, 0, e.chain, 1, &len);
    CHECK_EQ(ledger_mempool_add_verified(pool, t, len, NULL, why, sizeof why), LEDGER_OK);
    CHECK(ledger_mempool_full(pool));
    free(t);
    t = ledger_contract_transfer_tx(e.c, e.chain, 0, e.chain, 1, &len);
    CHECK_EQ(ledger_mempool_add_verified(pool, t, len, NULL, why, sizeof why), LEDGER_E_FULL);
    free(t);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

/* A tx behind a nonce gap expires after gap_expiry_ms, recorded as such; ready txs and
   the gap's filler never expire; the dropped index is bounded. */
static void test_gap_expiry(void)
{
    s_env_t e;
    s_env_init(&e);
    char why[LEDGER_ERR_MAX] = "";
    ledger_mempool_limits_t lim = {.gap_expiry_ms = 60000, .max_dropped = 3};
    ledger_mempool_t *pool = ledger_mempool_new(e.store, &lim);
    uint8_t ready[32], gap2[32], gap3[32], b1[32];
    CHECK_EQ(s_add(pool, &e, e.a, 0, 1, ready, why, sizeof why), LEDGER_OK); /* a: 0 ready */
    CHECK_EQ(s_add(pool, &e, e.b, 2, 1, gap2, why, sizeof why),
             LEDGER_OK); /* b: 2, 3 behind a gap */
    CHECK_EQ(s_add(pool, &e, e.b, 3, 1, gap3, why, sizeof why), LEDGER_OK);
    uint64_t t0 = 1000000;
    CHECK_EQ(ledger_mempool_expire(pool, t0), 0u); /* the wait starts */
    CHECK_EQ(ledger_mempool_expire(pool, t0 + 59999), 0u);
    /* b's nonce 1 arrives later: still a gap (0 missing); it waits from its own start */
    CHECK_EQ(s_add(pool, &e, e.b, 1, 1, b1, why, sizeof why), LEDGER_OK);
    CHECK_EQ(ledger_mempool_expire(pool, t0 + 59999), 0u);
    ledger_drop_t d;
    CHECK(!ledger_mempool_dropped(pool, gap2, &d));
    CHECK_EQ(ledger_mempool_expire(pool, t0 + 60000), 2u); /* 2 and 3 waited 60 s */
    CHECK(!ledger_mempool_has(pool, gap2) && !ledger_mempool_has(pool, gap3));
    CHECK(ledger_mempool_has(pool, ready) && ledger_mempool_has(pool, b1));
    CHECK(ledger_mempool_dropped(pool, gap2, &d));
    CHECK_EQ(d.reason, LEDGER_DROP_EXPIRED);
    CHECK(!d.has_by);
    CHECK_EQ(d.nonce, 2u);
    CHECK(strcmp(ledger_drop_reason_str(d.reason), "expired behind a nonce gap") == 0);
    CHECK(ledger_mempool_dropped(pool, gap3, &d) && d.reason == LEDGER_DROP_EXPIRED);
    CHECK(!ledger_mempool_dropped(pool, ready, &d)); /* pending is not dropped */
    /* the filler arrives in time: b0, b1 ready, nothing more expires, ever */
    uint8_t b0[32];
    CHECK_EQ(s_add(pool, &e, e.b, 0, 1, b0, why, sizeof why), LEDGER_OK);
    CHECK_EQ(ledger_mempool_expire(pool, t0 + 500000), 0u);
    CHECK_EQ(ledger_mempool_count(pool), 3u);
    /* a clock that goes back restarts a wait instead of expiring it */
    uint8_t c5[32];
    CHECK_EQ(s_add(pool, &e, e.c, 5, 1, c5, why, sizeof why), LEDGER_OK);
    CHECK_EQ(ledger_mempool_expire(pool, t0 + 600000), 0u);
    CHECK_EQ(ledger_mempool_expire(pool, t0), 0u);
    CHECK_EQ(ledger_mempool_expire(pool, t0 + 59999), 0u);
    CHECK_EQ(ledger_mempool_expire(pool, t0 + 60000), 1u);
    /* the index holds the last max_dropped (3) drops: a removal pushes gap2 out */
    CHECK(ledger_mempool_remove(pool, ready));
    CHECK(ledger_mempool_dropped(pool, ready, &d) && d.reason == LEDGER_DROP_REMOVED);
    CHECK(ledger_mempool_dropped(pool, c5, &d) && d.reason == LEDGER_DROP_EXPIRED);
    CHECK(ledger_mempool_dropped(pool, gap3, &d));
    CHECK(!ledger_mempool_dropped(pool, gap2, &d));
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

/* A pending tx whose (from, nonce) a committed tx took is "replaced by" that tx; committed
   txs are not in the dropped index. */
static void test_replaced(void)
{
    s_env_t e;
    s_env_init(&e);
    char why[LEDGER_ERR_MAX] = "";
    ledger_mempool_t *pool = ledger_mempool_new(e.store, NULL);
    ledger_mempool_t *other = ledger_mempool_new(e.store, NULL);
    uint8_t mine[32], theirs[32];
    CHECK_EQ(s_add(pool, &e, e.a, 0, 7, mine, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(other, &e, e.a, 0, 8, theirs, why, sizeof why), LEDGER_OK);
    CHECK(memcmp(mine, theirs, 32) != 0);
    CHECK_EQ(s_commit(&e, pool, other), 1u); /* the block holds theirs */
    CHECK(!ledger_mempool_has(pool, mine));
    ledger_drop_t d;
    CHECK(ledger_mempool_dropped(pool, mine, &d));
    CHECK_EQ(d.reason, LEDGER_DROP_REPLACED);
    CHECK(d.has_by && memcmp(d.by, theirs, 32) == 0);
    CHECK(!ledger_mempool_dropped(other, theirs, &d)); /* committed, not dropped */
    ledger_mempool_destroy(&other);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

/* A block holding several txs of one sender (interleaved with another's, as reaping
   orders them) commits all of them: none is recorded as dropped or "replaced by" itself,
   while a pending tx whose nonce the block took from another tx is replaced by it. */
static void test_same_block(void)
{
    s_env_t e;
    s_env_init(&e);
    char why[LEDGER_ERR_MAX] = "";
    ledger_mempool_t *pool = ledger_mempool_new(e.store, NULL);
    ledger_mempool_t *other = ledger_mempool_new(e.store, NULL);
    uint8_t mine0[32], theirs0[32], a[4][32], b[3][32];
    CHECK_EQ(s_add(pool, &e, e.a, 0, 7, mine0, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(other, &e, e.a, 0, 8, theirs0, why, sizeof why), LEDGER_OK);
    for (uint64_t n = 1; n < 4; n++) { /* same bytes, same txid in both pools */
        CHECK_EQ(s_add(pool, &e, e.a, n, 1, a[n], why, sizeof why), LEDGER_OK);
        CHECK_EQ(s_add(other, &e, e.a, n, 1, NULL, why, sizeof why), LEDGER_OK);
    }
    for (uint64_t n = 0; n < 3; n++) {
        CHECK_EQ(s_add(pool, &e, e.b, n, 1, b[n], why, sizeof why), LEDGER_OK);
        CHECK_EQ(s_add(other, &e, e.b, n, 1, NULL, why, sizeof why), LEDGER_OK);
    }
    CHECK_EQ(s_commit(&e, pool, other), 7u);
    CHECK_EQ(ledger_mempool_count(pool), 0u);
    CHECK_EQ(ledger_mempool_count(other), 0u);
    ledger_drop_t d;
    CHECK(ledger_mempool_dropped(pool, mine0, &d));
    CHECK_EQ(d.reason, LEDGER_DROP_REPLACED);
    CHECK(d.has_by && memcmp(d.by, theirs0, 32) == 0);
    for (int n = 1; n < 4; n++)
        CHECK(!ledger_mempool_dropped(pool, a[n], &d));
    for (int n = 0; n < 3; n++)
        CHECK(!ledger_mempool_dropped(pool, b[n], &d));
    CHECK(!ledger_mempool_dropped(other, theirs0, &d));
    /* the committed nonces moved: the next txs are ready at once */
    CHECK_EQ(s_add(pool, &e, e.a, 4, 1, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 3, 1, NULL, why, sizeof why), LEDGER_E_NONCE_USED);
    CHECK_EQ(s_commit(&e, pool, pool), 1u);
    ledger_mempool_destroy(&other);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

/* Local txs: marked, counted, listed in turn with a bounded MAX, gone once committed. */
static void test_local(void)
{
    s_env_t e;
    s_env_init(&e);
    char why[LEDGER_ERR_MAX] = "";
    ledger_mempool_t *pool = ledger_mempool_new(e.store, NULL);
    uint8_t a0[32], a1[32], b0[32], c0[32], zero[32] = {0};
    CHECK_EQ(s_add(pool, &e, e.a, 0, 1, a0, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 1, a1, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.b, 0, 1, b0, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.c, 0, 1, c0, why, sizeof why), LEDGER_OK); /* gossiped: not local */
    ledger_txref_t out[8];
    CHECK_EQ(ledger_mempool_local(pool, out, 8), 0u);
    CHECK(ledger_mempool_set_local(pool, a0));
    CHECK(ledger_mempool_set_local(pool, a1));
    CHECK(ledger_mempool_set_local(pool, b0));
    CHECK(ledger_mempool_set_local(pool, b0)); /* twice: counted once */
    CHECK(!ledger_mempool_set_local(pool, zero));
    CHECK_EQ(ledger_mempool_local_count(pool), 3u);
    size_t n = ledger_mempool_local(pool, out, 8);
    CHECK_EQ(n, 3u);
    bool seen_a0 = false, seen_a1 = false, seen_b0 = false;
    for (size_t i = 0; i < n; i++) {
        seen_a0 |= memcmp(out[i].txid, a0, 32) == 0;
        seen_a1 |= memcmp(out[i].txid, a1, 32) == 0;
        seen_b0 |= memcmp(out[i].txid, b0, 32) == 0;
        CHECK(memcmp(out[i].txid, c0, 32) != 0);
    }
    CHECK(seen_a0 && seen_a1 && seen_b0);
    /* one at a time: successive calls go round every account's local txs */
    seen_a0 = seen_b0 = false;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(ledger_mempool_local(pool, out, 1), 1u);
        seen_a0 |= memcmp(out[0].txid, a0, 32) == 0;
        seen_b0 |= memcmp(out[0].txid, b0, 32) == 0;
    }
    CHECK(seen_a0 && seen_b0);
    CHECK_EQ(s_commit(&e, pool, pool), 4u);
    CHECK_EQ(ledger_mempool_local_count(pool), 0u);
    CHECK_EQ(ledger_mempool_local(pool, out, 8), 0u);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

/* A transfer the sender's balance covers only before its own pending transfers of lower
   nonces commit is refused: it could never commit. Pending txs of higher nonces (gossip
   out of order) do not count against it. */
static void test_pending_spend(void)
{
    s_env_t e;
    s_env_init(&e);
    ledger_mempool_limits_t lim = {.max_nonce_ahead = 10};
    ledger_mempool_t *pool = ledger_mempool_new(e.store, &lim);
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(s_add(pool, &e, e.a, 0, 600, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 600, NULL, why, sizeof why), LEDGER_E_FUNDS);
    CHECK(strstr(why, "pending") != NULL);
    CHECK_EQ(s_add(pool, &e, e.a, 1, 400, NULL, why, sizeof why), LEDGER_OK); /* exactly the rest */
    CHECK_EQ(s_add(pool, &e, e.a, 2, 1, NULL, why, sizeof why), LEDGER_E_FUNDS);
    /* b: nonce 1 arrives before nonce 0; each fits the committed balance alone */
    CHECK_EQ(s_add(pool, &e, e.b, 1, 700, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_add(pool, &e, e.b, 0, 700, NULL, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_commit(&e, pool, pool), 3u); /* a0, a1, b0 (b1 fails in the block, b0 first) */
    /* After the commit a has 0 left: nothing more from a fits. */
    CHECK_EQ(s_add(pool, &e, e.a, 2, 1, NULL, why, sizeof why), LEDGER_E_FUNDS);
    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    test_admission();
    test_bounds();
    test_order();
    test_verified();
    test_gap_expiry();
    test_replaced();
    test_same_block();
    test_local();
    test_pending_spend();
    return testutil_done("test_ledger_mempool");
}
