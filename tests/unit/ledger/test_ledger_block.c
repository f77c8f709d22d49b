/*  test_ledger_block: block codec and hash, decode limits, and block execution: a valid
 *  block executes and commits; every kind of bad block is refused with its reason; the
 *  proposer's builder leaves failing txs out. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "ledger_fixture.h"
#include "testutil.h"

static ledger_header_t s_header(void)
{
    ledger_header_t h;
    memset(&h, 0, sizeof h);
    for (int i = 0; i < 32; i++) {
        h.chain_id[i] = (uint8_t)i;
        h.prev_hash[i] = (uint8_t)(100 + i);
        h.proposer[i] = (uint8_t)(50 + i);
        h.tx_root[i] = (uint8_t)(150 + i);
        h.state_root[i] = (uint8_t)(200 + i);
    }
    h.height = 123456789;
    h.time_ms = 1700000000000ull;
    h.round = 3;
    return h;
}

static void test_codec(void)
{
    ledger_header_t h = s_header();
    const uint8_t *txs[3] = {(const uint8_t *)"a", (const uint8_t *)"bb", (const uint8_t *)""};
    size_t lens[3] = {1, 2, 0};
    size_t len;
    uint8_t *bytes = ledger_block_encode(&h, txs, lens, 3, &len);
    CHECK(bytes != NULL);
    ledger_block_t *b = NULL;
    CHECK_EQ(ledger_block_decode(bytes, len, &b), PROTO_OK);
    const ledger_header_t *g = ledger_block_header(b);
    CHECK(memcmp(g, &h, sizeof h) == 0);
    CHECK_EQ(ledger_block_tx_count(b), 3u);
    size_t tl;
    const uint8_t *t = ledger_block_tx(b, 1, &tl);
    CHECK(tl == 2 && memcmp(t, "bb", 2) == 0);
    ledger_block_tx(b, 2, &tl);
    CHECK_EQ(tl, 0u);
    size_t bl;
    CHECK(ledger_block_bytes(b, &bl) != bytes && bl == len); /* an owned copy */

    /* hash = H("genie/block/v1", header encoding) */
    uint8_t want[32];
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_header_write(&w, &h);
    size_t hn;
    const uint8_t *hb = proto_wr_data(&w, &hn);
    proto_hash("genie/block/v1", hb, hn, want);
    CHECK(memcmp(hb, bytes + 1, hn) == 0); /* the block embeds exactly that encoding */
    proto_wr_free(&w);
    CHECK(memcmp(ledger_block_hash(b), want, 32) == 0);
    uint8_t again[32];
    ledger_header_hash(&h, again);
    CHECK(memcmp(again, want, 32) == 0);
    /* every header field changes the hash */
    for (int f = 0; f < 8; f++) {
        ledger_header_t m = h;
        switch (f) {
        case 0:
            m.chain_id[0] ^= 1;
            break;
        case 1:
            m.height++;
            break;
        case 2:
            m.prev_hash[31] ^= 1;
            break;
        case 3:
            m.time_ms++;
            break;
        case 4:
            m.proposer[5] ^= 1;
            break;
        case 5:
            m.round++;
            break;
        case 6:
            m.tx_root[0] ^= 1;
            break;
        default:
            m.state_root[0] ^= 1;
            break;
        }
        ledger_header_hash(&m, again);
        CHECK(memcmp(again, want, 32) != 0);
    }
    ledger_block_destroy(&b);
    CHECK(b == NULL);

    /* decode limits: every prefix fails, trailing bytes fail */
    int ok = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t *p = malloc(i ? i : 1);
        memcpy(p, bytes, i);
        if (ledger_block_decode(p, i, &b) == PROTO_OK)
            ok++;
        ledger_block_destroy(&b);
        free(p);
    }
    CHECK_EQ(ok, 0);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, bytes, len);
    longer[len] = 0xc0;
    CHECK_EQ(ledger_block_decode(longer, len + 1, &b), PROTO_E_TRAILING);
    CHECK(b == NULL);
    free(longer);
    free(bytes);

    /* tx root: the Merkle root (ledger_merkle.h): two leaves give
     * H(node, H(leaf, id0) || H(leaf, id1)); no txs give H(empty, ""). */
    uint8_t ids[2][32], root[32], cat[64];
    memset(ids[0], 1, 32);
    memset(ids[1], 2, 32);
    proto_hash("genie/txroot/leaf/v2", ids[0], 32, cat);
    proto_hash("genie/txroot/leaf/v2", ids[1], 32, cat + 32);
    ledger_block_tx_root((const uint8_t(*)[32])ids, 2, root);
    proto_hash("genie/txroot/node/v2", cat, 64, want);
    CHECK(memcmp(root, want, 32) == 0);
    ledger_block_tx_root(NULL, 0, root);
    proto_hash("genie/txroot/empty/v2", cat, 0, want);
    CHECK(memcmp(root, want, 32) == 0);
}

static void test_limits(void)
{
    ledger_header_t h = s_header();
    ledger_block_t *b = NULL;
    size_t len;
    /* too many txs: the encoder refuses, and a forged count is refused on decode */
    static const uint8_t empty = 0;
    const uint8_t **txs = calloc(LEDGER_BLOCK_MAX_TXS + 1, sizeof *txs);
    size_t *lens = calloc(LEDGER_BLOCK_MAX_TXS + 1, sizeof *lens);
    for (size_t i = 0; i <= LEDGER_BLOCK_MAX_TXS; i++)
        txs[i] = &empty;
    CHECK(ledger_block_encode(&h, txs, lens, LEDGER_BLOCK_MAX_TXS + 1, &len) == NULL);
    uint8_t *ok = ledger_block_encode(&h, txs, lens, LEDGER_BLOCK_MAX_TXS, &len);
    CHECK(ok != NULL);
    CHECK_EQ(ledger_block_decode(ok, len, &b), PROTO_OK);
    CHECK_EQ(ledger_block_tx_count(b), (size_t)LEDGER_BLOCK_MAX_TXS);
    ledger_block_destroy(&b);
    free(ok);
    free(txs);
    free(lens);

    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    ledger_header_write(&w, &h);
    proto_wr_array(&w, LEDGER_BLOCK_MAX_TXS + 1);
    for (int i = 0; i <= LEDGER_BLOCK_MAX_TXS; i++)
        proto_wr_bin(&w, "", 0);
    const uint8_t *d = proto_wr_data(&w, &len);
    CHECK_EQ(ledger_block_decode(d, len, &b), PROTO_E_TOO_LONG);
    proto_wr_free(&w);

    /* an array count larger than the bytes left is a lie */
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    ledger_header_write(&w, &h);
    proto_wr_array(&w, 5000);
    d = proto_wr_data(&w, &len);
    CHECK_EQ(ledger_block_decode(d, len, &b), PROTO_E_TRUNCATED);
    proto_wr_free(&w);

    /* a tx over 64 KiB */
    uint8_t *bigtx = calloc(1, LEDGER_TX_MAX_BYTES + 1);
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    ledger_header_write(&w, &h);
    proto_wr_array(&w, 1);
    proto_wr_bin(&w, bigtx, LEDGER_TX_MAX_BYTES + 1);
    d = proto_wr_data(&w, &len);
    CHECK_EQ(ledger_block_decode(d, len, &b), PROTO_E_TOO_LONG);
    proto_wr_free(&w);
    free(bigtx);

    /* over the block size limit */
    uint8_t *huge = calloc(1, LEDGER_BLOCK_MAX_BYTES + 1);
    CHECK_EQ(ledger_block_decode(huge, LEDGER_BLOCK_MAX_BYTES + 1, &b), PROTO_E_TOO_BIG);
    free(huge);
    /* 16 txs of 64 KiB: within the tx limit, over the block limit */
    const uint8_t *many[16];
    size_t mlens[16];
    uint8_t *fat = calloc(1, LEDGER_TX_MAX_BYTES);
    for (int i = 0; i < 16; i++) {
        many[i] = fat;
        mlens[i] = LEDGER_TX_MAX_BYTES;
    }
    CHECK(ledger_block_encode(&h, many, mlens, 16, &len) == NULL);
    free(fat);

    /* wrong arity, wrong header arity, wrong types */
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    ledger_header_write(&w, &h);
    proto_wr_array(&w, 0);
    proto_wr_nil(&w);
    d = proto_wr_data(&w, &len);
    CHECK_EQ(ledger_block_decode(d, len, &b), PROTO_E_ARITY);
    proto_wr_free(&w);
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_array(&w, 7);
    d = proto_wr_data(&w, &len);
    CHECK_EQ(ledger_block_decode(d, len, &b), PROTO_E_ARITY);
    proto_wr_free(&w);
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    ledger_header_write(&w, &h);
    proto_wr_array(&w, 1);
    proto_wr_str(&w, "tx", 2);
    d = proto_wr_data(&w, &len);
    CHECK_EQ(ledger_block_decode(d, len, &b), PROTO_E_TYPE);
    proto_wr_free(&w);
}

/* ---- execution ---- */

typedef ledger_fixture_t s_env_t;

static void s_env_init(s_env_t *e, uint64_t max_block_txs, uint64_t max_block_bytes)
{
    ledger_fixture_open(e, "blocks", 1000, max_block_txs, max_block_bytes);
}

static void s_env_fini(s_env_t *e)
{
    ledger_fixture_close(e);
}

/* A block over the head with txs TXS (applied in order, must succeed) whose header the
   MUTATE callback may then change (after the state root is computed). */
typedef void (*s_mutate_fn)(ledger_header_t *h);

static uint8_t *s_make(s_env_t *e, uint8_t *const *txs, const size_t *lens, size_t n,
                       s_mutate_fn mutate, size_t *len)
{
    ledger_head_t head;
    CHECK_EQ(ledger_store_head(e->store, &head), LEDGER_OK);
    ledger_state_t *st = ledger_state_new(e->store);
    uint8_t(*ids)[32] = calloc(n + 1, 32);
    for (size_t i = 0; i < n; i++) {
        ledger_tx_t tx;
        char why[LEDGER_ERR_MAX] = "";
        if (ledger_tx_decode(txs[i], lens[i], &tx) == PROTO_OK) {
            int rc = ledger_state_apply_tx(st, &tx, why, sizeof why);
            (void)rc; /* some tests build blocks with txs that do not apply */
        }
        ledger_tx_id(txs[i], lens[i], ids[i]);
    }
    CHECK_EQ(ledger_state_end_block(st), LEDGER_OK);
    ledger_header_t h = {.height = head.height + 1, .time_ms = head.time_ms + 1};
    memcpy(h.chain_id, e->chain.chain_id, 32);
    memcpy(h.prev_hash, head.hash, 32);
    memcpy(h.proposer, proto_key_public(e->auth), 32);
    ledger_block_tx_root((const uint8_t(*)[32])ids, n, h.tx_root);
    CHECK_EQ(ledger_state_finish(st, head.state_root, h.state_root), LEDGER_OK);
    if (mutate)
        mutate(&h);
    uint8_t *b = ledger_block_encode(&h, (const uint8_t *const *)txs, lens, n, len);
    free(ids);
    ledger_state_destroy(&st);
    return b;
}

/* A refusal as ledger_block_execute reports it: the reason and the offending tx's index. */
typedef struct {
    char why[LEDGER_ERR_MAX];
    long tx_index;
} s_reject_t;

static int s_exec(s_env_t *e, uint8_t *block, size_t len, s_reject_t *why)
{
    ledger_state_t *st = NULL;
    int rc = ledger_block_execute(e->store, block, len, NULL, 0, &st, &why->tx_index, why->why,
                                  sizeof why->why);
    CHECK((rc == LEDGER_OK) == (st != NULL));
    ledger_state_destroy(&st);
    free(block);
    return rc;
}

static void m_chain(ledger_header_t *h)
{
    h->chain_id[0] ^= 1;
}
static void m_height(ledger_header_t *h)
{
    h->height++;
}
static void m_prev(ledger_header_t *h)
{
    h->prev_hash[0] ^= 1;
}
static void m_time(ledger_header_t *h)
{
    h->time_ms = 4999;
}
static void m_proposer(ledger_header_t *h)
{
    memset(h->proposer, 7, 32);
}
static void m_txroot(ledger_header_t *h)
{
    h->tx_root[0] ^= 1;
}
static void m_stateroot(ledger_header_t *h)
{
    h->state_root[0] ^= 1;
}

static void test_execute(void)
{
    s_env_t e;
    s_env_init(&e, 100, LEDGER_BLOCK_MAX_BYTES);
    const uint8_t *pb = proto_key_public(e.bob);
    size_t len, lens[4];
    uint8_t *txs[4];
    s_reject_t why;
    txs[0] = ledger_contract_transfer_tx(e.alice, e.chain.chain_id, 0, pb, 10, &lens[0]);
    txs[1] = ledger_contract_transfer_tx(e.alice, e.chain.chain_id, 1, pb, 20, &lens[1]);

    struct {
        s_mutate_fn fn;
        int code;
    } cases[] = {
        {m_chain, LEDGER_E_WRONG_CHAIN},   {m_height, LEDGER_E_BAD_BLOCK},
        {m_prev, LEDGER_E_BAD_BLOCK},      {m_time, LEDGER_E_BAD_BLOCK},
        {m_proposer, LEDGER_E_BAD_BLOCK},  {m_txroot, LEDGER_E_BAD_BLOCK},
        {m_stateroot, LEDGER_E_BAD_BLOCK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *b = s_make(&e, txs, lens, 2, cases[i].fn, &len);
        CHECK_EQ(s_exec(&e, b, len, &why), cases[i].code);
        CHECK(why.why[0] != '\0' && why.tx_index == -1);
    }
    /* malformed block */
    uint8_t junk[3] = {0x92, 0x98, 0xc4};
    ledger_state_t *st = NULL;
    CHECK_EQ(ledger_block_execute(e.store, junk, 3, NULL, 0, &st, &why.tx_index, why.why,
                                  sizeof why.why),
             LEDGER_E_MALFORMED);

    /* a tx whose signature is bad: refused, with its index */
    uint8_t *bad = malloc(lens[1]);
    memcpy(bad, txs[1], lens[1]);
    bad[lens[1] - 1] ^= 1;
    uint8_t *mixed[2] = {txs[0], bad};
    uint8_t *b = s_make(&e, mixed, lens, 2, NULL, &len);
    CHECK_EQ(s_exec(&e, b, len, &why), LEDGER_E_BAD_SIG);
    CHECK_EQ(why.tx_index, 1);
    /* ... unless told to trust signatures (own blocks, benchmarks) */
    b = s_make(&e, mixed, lens, 2, NULL, &len);
    CHECK_EQ(ledger_block_execute(e.store, b, len, NULL, LEDGER_EXEC_TRUST_SIGS, &st, &why.tx_index,
                                  why.why, sizeof why.why),
             LEDGER_OK);
    ledger_state_destroy(&st);
    free(b);
    free(bad);

    /* a tx that fails makes the whole block invalid */
    uint8_t *poor = ledger_contract_transfer_tx(e.bob, e.chain.chain_id, 0, pb, 5000, &len);
    uint8_t *with_poor[3] = {txs[0], poor, txs[1]};
    size_t plens[3] = {lens[0], len, lens[1]};
    b = s_make(&e, with_poor, plens, 3, NULL, &len);
    CHECK_EQ(s_exec(&e, b, len, &why), LEDGER_E_FUNDS);
    CHECK_EQ(why.tx_index, 1);
    free(poor);
    /* a tx for another chain */
    uint8_t other[32] = {9};
    size_t flen;
    uint8_t *foreign = ledger_contract_transfer_tx(e.alice, other, 0, pb, 1, &flen);
    b = s_make(&e, &foreign, &flen, 1, NULL, &len);
    CHECK_EQ(s_exec(&e, b, len, &why), LEDGER_E_WRONG_CHAIN);
    CHECK_EQ(why.tx_index, 0);
    free(foreign);
    /* a duplicated tx: the copy is a replay */
    uint8_t *dup[2] = {txs[0], txs[0]};
    size_t dlens[2] = {lens[0], lens[0]};
    b = s_make(&e, dup, dlens, 2, NULL, &len);
    CHECK_EQ(s_exec(&e, b, len, &why), LEDGER_E_NONCE_USED);
    CHECK_EQ(why.tx_index, 1);

    /* a good block executes and commits; its txs are indexed */
    ledger_head_t head;
    CHECK_EQ(ledger_store_head(e.store, &head), LEDGER_OK);
    CHECK_EQ(head.height, 0u);
    b = s_make(&e, txs, lens, 2, NULL, &len);
    CHECK_EQ(
        ledger_block_execute(e.store, b, len, NULL, 0, &st, &why.tx_index, why.why, sizeof why.why),
        LEDGER_OK);
    CHECK_EQ(ledger_store_commit(e.store, b, len, (const uint8_t *)"c", 1, st), LEDGER_OK);
    ledger_state_destroy(&st);
    CHECK_EQ(ledger_store_head(e.store, &head), LEDGER_OK);
    CHECK_EQ(head.height, 1u);
    uint8_t id[32];
    ledger_tx_id(txs[1], lens[1], id);
    ledger_txloc_t loc;
    CHECK_EQ(ledger_store_tx(e.store, id, &loc), LEDGER_OK);
    CHECK(loc.height == 1 && loc.index == 1 && loc.status == 0);
    /* the same block again no longer follows the head */
    CHECK_EQ(s_exec(&e, b, len, &why), LEDGER_E_BAD_BLOCK);
    free(txs[0]);
    free(txs[1]);
    s_env_fini(&e);

    /* the chain's limits on count and size */
    s_env_init(&e, 2, 1024);
    for (int i = 0; i < 3; i++)
        txs[i] =
            ledger_contract_transfer_tx(e.alice, e.chain.chain_id, (uint64_t)i, pb, 1, &lens[i]);
    b = s_make(&e, txs, lens, 3, NULL, &len);
    CHECK_EQ(s_exec(&e, b, len, &why), LEDGER_E_TOO_BIG);
    uint8_t *votes[8];
    size_t vlens[8];
    for (int i = 0; i < 8; i++)
        votes[i] =
            ledger_contract_transfer_tx(e.alice, e.chain.chain_id, (uint64_t)i, pb, 1, &vlens[i]);
    /* 2 txs fit the count; now blow the 1024-byte budget with 8 (count also too big, but
       size is checked first) */
    b = s_make(&e, votes, vlens, 8, NULL, &len);
    CHECK(len > 1024);
    CHECK_EQ(s_exec(&e, b, len, &why), LEDGER_E_TOO_BIG);
    CHECK(strstr(why.why, "larger") != NULL);
    for (int i = 0; i < 8; i++)
        free(votes[i]);
    for (int i = 0; i < 3; i++)
        free(txs[i]);
    s_env_fini(&e);
}

static void test_build(void)
{
    s_env_t e;
    s_env_init(&e, 100, LEDGER_BLOCK_MAX_BYTES);
    ledger_mempool_t *pool = ledger_mempool_new(e.store, NULL);
    const uint8_t *pa = proto_key_public(e.alice), *pb = proto_key_public(e.bob);
    char why[LEDGER_ERR_MAX] = "";
    size_t len;
    uint8_t *t;
    /* alice: 0 (ok), 1 (too much), 2 (waits on 1); bob: 0 (ok). Alice's arrive highest
       nonce first (as gossip may), so the mempool, which counts only the pending spends of
       lower nonces, admits all three, and the builder meets the one that fails. */
    uint8_t ids[4][32];
    t = ledger_contract_transfer_tx(e.alice, e.chain.chain_id, 2, pb, 1, &len);
    CHECK_EQ(ledger_mempool_add(pool, t, len, ids[2], why, sizeof why), LEDGER_OK);
    free(t);
    t = ledger_contract_transfer_tx(e.alice, e.chain.chain_id, 1, pb, 600, &len);
    CHECK_EQ(ledger_mempool_add(pool, t, len, ids[1], why, sizeof why), LEDGER_OK);
    free(t);
    t = ledger_contract_transfer_tx(e.alice, e.chain.chain_id, 0, pb, 600, &len);
    CHECK_EQ(ledger_mempool_add(pool, t, len, ids[0], why, sizeof why), LEDGER_OK);
    free(t);
    t = ledger_contract_transfer_tx(e.bob, e.chain.chain_id, 0, pa, 7, &len);
    CHECK_EQ(ledger_mempool_add(pool, t, len, ids[3], why, sizeof why), LEDGER_OK);
    free(t);

    ledger_build_params_t bp = {.time_ms = 9000, .round = 0};
    memcpy(bp.proposer, proto_key_public(e.auth), 32);
    uint8_t *block;
    ledger_state_t *st;
    CHECK_EQ(ledger_block_build(e.store, pool, &bp, &block, &len, &st), LEDGER_OK);
    ledger_block_t *b = NULL;
    CHECK_EQ(ledger_block_decode(block, len, &b), PROTO_OK);
    CHECK_EQ(ledger_block_tx_count(b), 2u); /* alice 0 and bob 0 */
    CHECK_EQ(ledger_block_header(b)->height, 1u);
    CHECK_EQ(ledger_block_header(b)->time_ms, 9000u);
    ledger_block_destroy(&b);
    /* the failing tx was dropped from the pool; the one behind it waits */
    CHECK(!ledger_mempool_has(pool, ids[1]));
    CHECK(ledger_mempool_has(pool, ids[2]));
    /* a peer validates the block (txs it holds are not re-verified) */
    ledger_state_t *peer = NULL;
    CHECK_EQ(ledger_block_execute(e.store, block, len, pool, 0, &peer, NULL, NULL, 0), LEDGER_OK);
    uint8_t r1[32], r2[32];
    CHECK(ledger_state_finished(st, r1) && ledger_state_finished(peer, r2));
    CHECK(memcmp(r1, r2, 32) == 0);
    ledger_state_destroy(&peer);
    CHECK_EQ(ledger_store_commit(e.store, block, len, (const uint8_t *)"cert", 4, st), LEDGER_OK);
    CHECK_EQ(ledger_mempool_update(pool, block, len), LEDGER_OK);
    CHECK(!ledger_mempool_has(pool, ids[0]) && !ledger_mempool_has(pool, ids[3]));
    CHECK_EQ(ledger_mempool_count(pool), 1u);
    ledger_state_destroy(&st);
    free(block);

    /* the waiting tx (nonce 2) cannot go until nonce 1 exists: an empty block */
    bp.time_ms = 1; /* below the head's time: raised to it */
    CHECK_EQ(ledger_block_build(e.store, pool, &bp, &block, &len, &st), LEDGER_OK);
    CHECK_EQ(ledger_block_decode(block, len, &b), PROTO_OK);
    CHECK_EQ(ledger_block_tx_count(b), 0u);
    CHECK_EQ(ledger_block_header(b)->time_ms, 9000u);
    ledger_block_destroy(&b);
    CHECK_EQ(ledger_store_commit(e.store, block, len, (const uint8_t *)"cert", 4, st), LEDGER_OK);
    ledger_state_destroy(&st);
    free(block);
    /* building without a pool also gives an empty block */
    CHECK_EQ(ledger_block_build(e.store, NULL, &bp, &block, &len, &st), LEDGER_OK);
    ledger_state_destroy(&st);
    free(block);

    ledger_mempool_destroy(&pool);
    s_env_fini(&e);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    test_codec();
    test_limits();
    test_execute();
    test_build();
    return testutil_done("test_ledger_block");
}
