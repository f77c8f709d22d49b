/*  test_ledger_syncshell: the node's shell around the sync core
 *  (node/service/node_ledger_sync.h) over two real stores of one chain.
 *
 *  Node A commits 40 real blocks (some with transfers), each with a certificate signed
 *  by the chain's authority; node B, at genesis, catches up through its shell: B's STATUS
 *  and requests go to A's shell, A serves from its store, B identifies, verifies, executes
 *  and commits each block, and ends with A's head hash and state (balances). A block whose
 *  tx was altered keeps its header (so its certificate still verifies) but does not
 *  execute (its tx root is wrong): it is never committed and counts as a bad block. Then
 *  STATUS timing: a node without news sends it only as the 30 s heartbeat, a head moved by
 *  consensus being no news; a node behind learns the head of the node ahead at once, from
 *  its answer to the STATUS of the node behind. The messages travel through queues the
 *  test delivers; the clock is an argument.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_store.h"
#include "ledger/ledger_vote.h"
#include "node/service/node_ledger_sync.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define BLOCKS 40
#define QMAX 512

typedef struct {
    int from, to;
    bool status;
    uint8_t *data;
    size_t len;
} msg_t;

typedef struct node node_t;
struct node {
    int idx;
    char dir[256];
    ledger_store_t *store;
    ledger_mempool_t *pool;
    node_ledger_sync_t *sync;
    uint8_t id[32];
    int committed, caught_up;
    int statuses; /* STATUS messages sent (to the linked peer) */
    int answers;  /* STATUS messages sent to one peer behind (send_to) */
};

static node_t s_nodes[2];
static msg_t s_q[QMAX];
static size_t s_nq;

static void s_push(int from, int to, bool status, const uint8_t *data, size_t len)
{
    CHECK(s_nq < QMAX);
    if (s_nq == QMAX)
        return;
    msg_t *m = &s_q[s_nq++];
    *m = (msg_t){.from = from, .to = to, .status = status, .data = malloc(len), .len = len};
    memcpy(m->data, data, len);
}

static bool s_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    node_t *n = ctx;
    int to = memcmp(peer, s_nodes[0].id, 32) == 0 ? 0 : 1;
    s_push(n->idx, to, false, data, len);
    return true;
}

static bool s_send_linked(void *ctx, uint32_t kind, const uint8_t *data, size_t len)
{
    node_t *n = ctx;
    CHECK_EQ(kind, (uint32_t)PROTO_MSG_STATUS);
    n->statuses++;
    s_push(n->idx, 1 - n->idx, true, data, len);
    return true;
}

static bool s_answers_on; /* send_to works (off: refused, nothing queued) */

static bool s_send_to(void *ctx, const uint8_t peer[static 32], uint32_t kind, const uint8_t *data,
                      size_t len)
{
    node_t *n = ctx;
    CHECK_EQ(kind, (uint32_t)PROTO_MSG_STATUS);
    if (!s_answers_on)
        return false;
    n->answers++;
    s_push(n->idx, memcmp(peer, s_nodes[0].id, 32) == 0 ? 0 : 1, true, data, len);
    return true;
}

static void s_committed(void *ctx, const uint8_t *block, size_t len)
{
    node_t *n = ctx;
    n->committed++;
    CHECK_EQ(ledger_mempool_update(n->pool, block, len), LEDGER_OK);
}

static void s_caught_up(void *ctx)
{
    ((node_t *)ctx)->caught_up++;
}

/* Delivers what is queued now (not what that causes); false if nothing was queued. */
static bool s_deliver_once(uint64_t now)
{
    static msg_t batch[QMAX];
    if (!s_nq)
        return false;
    {
        size_t k = s_nq;
        memcpy(batch, s_q, k * sizeof *batch);
        s_nq = 0;
        for (size_t i = 0; i < k; i++) {
            node_t *to = &s_nodes[batch[i].to];
            const uint8_t *from = s_nodes[batch[i].from].id;
            if (batch[i].status)
                node_ledger_sync_on_status(to->sync, from, batch[i].data, batch[i].len, now);
            else
                node_ledger_sync_on_unicast(to->sync, from, batch[i].data, batch[i].len, now);
            free(batch[i].data);
        }
    }
    return true;
}

static void s_deliver(uint64_t now)
{
    while (s_deliver_once(now))
        ;
}

static void s_head(node_t *n, ledger_head_t *h)
{
    CHECK_EQ(ledger_store_head(n->store, h), LEDGER_OK);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_log_set_level(LOG_LVL_ERROR);
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, 7, sizeof seed);
    proto_key_t *auth = proto_key_from_seed(seed);
    memset(seed, 8, sizeof seed);
    proto_key_t *alice = proto_key_from_seed(seed);
    uint8_t a[1][32];
    memcpy(a[0], proto_key_public(auth), 32);
    ledger_balance_t bal[1];
    memcpy(bal[0].account, proto_key_public(alice), 32);
    bal[0].amount = 1000000;
    ledger_genesis_params_t gp = {.chain_name = "syncshell",
                                  .block_interval_ms = 100,
                                  .heartbeat_ms = 1000,
                                  .max_block_bytes = 512 * 1024,
                                  .max_block_txs = 1000,
                                  .genesis_time_ms = 5000};
    memcpy(gp.attestation_service, a[0], 32);
    ledger_chain_t chain;
    char err[256];
    node_ledger_sync_deps_t deps = {.send = s_send,
                                    .send_linked = s_send_linked,
                                    .send_to = s_send_to,
                                    .committed = s_committed,
                                    .caught_up = s_caught_up};
    for (int i = 0; i < 2; i++) {
        node_t *n = &s_nodes[i];
        n->idx = i;
        n->id[0] = (uint8_t)(0xa0 + i);
        ledger_genesis_t *g = NULL;
        CHECK_EQ(ledger_genesis_new(&gp, (const uint8_t(*)[32])a, 1, bal, 1, &g, err, sizeof err),
                 LEDGER_OK);
        strcpy(n->dir, testutil_tmpdir());
        CHECK_EQ(ledger_store_open(n->dir, &n->store, err, sizeof err), LEDGER_OK);
        CHECK_EQ(ledger_genesis_apply(g, n->store), LEDGER_OK);
        ledger_genesis_destroy(&g);
        CHECK_EQ(ledger_store_chain(n->store, &chain), LEDGER_OK);
        n->pool = ledger_mempool_new(n->store, NULL);
        deps.ctx = n;
        n->sync = node_ledger_sync_new(chain.chain_id, n->store, n->pool, &deps, NULL);
        CHECK(n->sync != NULL);
    }

    /* node A: BLOCKS certified blocks, every third with a transfer */
    node_t *A = &s_nodes[0], *B = &s_nodes[1];
    uint8_t *bad_block = NULL, *bad_cert = NULL;
    size_t bad_len = 0, bad_cert_len = 0;
    for (uint64_t h = 1; h <= BLOCKS; h++) {
        if (h % 3 == 0) {
            size_t tl = 0;
            char why[LEDGER_ERR_MAX] = "";
            uint8_t *tx =
                ledger_contract_transfer_tx(alice, chain.chain_id, h / 3 - 1, a[0], h, &tl);
            CHECK_EQ(ledger_mempool_add(A->pool, tx, tl, NULL, why, sizeof why), LEDGER_OK);
            free(tx);
        }
        ledger_build_params_t bp = {.time_ms = 10000 + h * 100, .round = 0};
        memcpy(bp.proposer, a[0], 32);
        uint8_t *block = NULL;
        size_t len = 0;
        ledger_state_t *st = NULL;
        CHECK_EQ(ledger_block_build(A->store, A->pool, &bp, &block, &len, &st), LEDGER_OK);
        ledger_block_t *b = NULL;
        CHECK_EQ(ledger_block_decode(block, len, &b), PROTO_OK);
        ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT, .height = h, .has_hash = true};
        memcpy(v.chain_id, chain.chain_id, 32);
        memcpy(v.hash, ledger_block_hash(b), 32);
        ledger_vote_sign(&v, auth);
        ledger_cert_t c = {.height = h, .n_sigs = 1};
        memcpy(c.block_hash, v.hash, 32);
        memcpy(c.sigs[0].sig, v.sig, 64);
        uint8_t *cert = NULL;
        size_t cl = 0;
        CHECK_EQ(ledger_cert_encode(&c, &cert, &cl), PROTO_OK);
        CHECK_EQ(ledger_store_commit(A->store, block, len, cert, cl, st), LEDGER_OK);
        CHECK_EQ(ledger_mempool_update(A->pool, block, len), LEDGER_OK);
        if (h == 3) { /* keep block 3 (with a tx) to alter it later */
            const uint8_t *txs[1];
            size_t tlen[1];
            txs[0] = ledger_block_tx(b, 0, &tlen[0]);
            uint8_t *alt = malloc(tlen[0]);
            memcpy(alt, txs[0], tlen[0]);
            alt[tlen[0] - 2] ^= 1; /* the tx altered, the header (and certificate) kept */
            const uint8_t *alts[1] = {alt};
            bad_block = ledger_block_encode(ledger_block_header(b), alts, tlen, 1, &bad_len);
            free(alt);
            bad_cert = malloc(cl);
            memcpy(bad_cert, cert, cl);
            bad_cert_len = cl;
        }
        ledger_block_destroy(&b);
        ledger_state_destroy(&st);
        free(block);
        free(cert);
    }
    ledger_head_t ha, hb;
    s_head(A, &ha);
    CHECK_EQ(ha.height, (uint64_t)BLOCKS);

    /* B syncs up to block 2 from A, then gets an altered block 3 from A */
    uint64_t now = 100000;
    uint64_t mine = 99, best = 99;
    CHECK(!node_ledger_sync_behind(B->sync, now, &mine, &best)); /* no peer heard yet */
    CHECK_EQ(mine, 0u);
    CHECK_EQ(best, 0u);
    node_ledger_sync_tick(A->sync, now); /* A's STATUS */
    s_deliver(now);
    /* B heard A's head: it knows it is behind (tx_submit refuses, "syncing") */
    CHECK(node_ledger_sync_behind(B->sync, now, &mine, &best));
    CHECK_EQ(mine, 0u);
    CHECK_EQ(best, (uint64_t)BLOCKS);
    CHECK(!node_ledger_sync_behind(A->sync, now, NULL, NULL));
    node_ledger_sync_tick(B->sync, now); /* B asks A for 1..16 */
    CHECK(node_ledger_sync_busy(B->sync));
    node_ledger_sync_tick(B->sync, now); /* (nothing more: one request in flight) */
    CHECK(s_deliver_once(now));          /* B's STATUS and request reach A */
    /* A's answers (blocks 1..16) are queued: hand B the first two, then the altered 3 */
    CHECK_EQ(s_nq, 16u);
    for (size_t i = 0; i < 2; i++)
        node_ledger_sync_on_unicast(B->sync, A->id, s_q[i].data, s_q[i].len, now);
    uint8_t *msg = NULL;
    size_t mlen = 0;
    CHECK_EQ(ledger_sync_blocks_encode(3, bad_block, bad_len, bad_cert, bad_cert_len, &msg, &mlen),
             PROTO_OK);
    node_ledger_sync_on_unicast(B->sync, A->id, msg, mlen, now);
    free(msg);
    for (size_t i = 0; i < s_nq; i++)
        free(s_q[i].data);
    s_nq = 0;
    s_head(B, &hb);
    CHECK_EQ(hb.height, 2u); /* the altered block 3 was not committed */
    CHECK_EQ(B->committed, 2);
    node_ledger_sync_stats_t st;
    node_ledger_sync_stats(B->sync, &st);
    CHECK_EQ(st.bad_blocks, 1u);
    CHECK(!node_ledger_sync_busy(B->sync)); /* the request failed */

    /* then the true blocks: B ends at A's head, with A's state */
    for (int round = 0; round < 10 && hb.height < BLOCKS; round++) {
        now += 300;
        node_ledger_sync_tick(B->sync, now);
        s_deliver(now);
        s_head(B, &hb);
    }
    CHECK_EQ(hb.height, (uint64_t)BLOCKS);
    CHECK(!node_ledger_sync_behind(B->sync, now, &mine, &best)); /* caught up */
    CHECK_EQ(mine, (uint64_t)BLOCKS);
    CHECK(memcmp(ha.hash, hb.hash, 32) == 0);
    CHECK(memcmp(ha.state_root, hb.state_root, 32) == 0);
    CHECK_EQ(B->committed, BLOCKS);
    CHECK(B->caught_up >= 3);
    node_ledger_sync_stats(B->sync, &st);
    CHECK_EQ(st.blocks_synced, (uint64_t)BLOCKS);
    CHECK_EQ(st.bad_blocks, 1u);
    node_ledger_sync_stats(A->sync, &st);
    CHECK(st.served >= (uint64_t)BLOCKS);
    ledger_account_t acct_a, acct_b;
    CHECK_EQ(ledger_store_account(A->store, proto_key_public(alice), &acct_a), LEDGER_OK);
    CHECK_EQ(ledger_store_account(B->store, proto_key_public(alice), &acct_b), LEDGER_OK);
    CHECK(acct_a.balance == acct_b.balance && acct_a.nonce == acct_b.nonce);
    CHECK_EQ(acct_b.nonce, (uint64_t)(BLOCKS / 3));

    /* STATUS timing: nothing new, nothing sent before the heartbeat (30 s); a head moved
       by consensus (committed here directly) is no news either; B, behind, gets A's head
       at once in A's answer to B's STATUS */
    s_deliver(now);
    now += 40000;
    int sent = A->statuses;
    node_ledger_sync_tick(A->sync, now); /* heartbeat due */
    CHECK_EQ(A->statuses, ++sent);
    for (uint64_t t = 250; t < 30000; t += 250)
        node_ledger_sync_tick(A->sync, now + t);
    CHECK_EQ(A->statuses, sent);
    node_ledger_sync_tick(A->sync, now + 30000);
    CHECK_EQ(A->statuses, sent + 1);
    now += 30000;
    s_deliver(now);
    size_t tl = 0;
    char why[LEDGER_ERR_MAX] = "";
    uint8_t *tx = ledger_contract_transfer_tx(alice, chain.chain_id, BLOCKS / 3, a[0], 1, &tl);
    CHECK_EQ(ledger_mempool_add(A->pool, tx, tl, NULL, why, sizeof why), LEDGER_OK);
    free(tx);
    for (int k = 0; k < 2; k++) { /* two new heads 100 ms apart */
        ledger_build_params_t bp = {.time_ms = 20000 + (uint64_t)k * 100, .round = 0};
        memcpy(bp.proposer, a[0], 32);
        uint8_t *block = NULL, *cert = NULL;
        size_t len = 0, cl = 0;
        ledger_state_t *st2 = NULL;
        CHECK_EQ(ledger_block_build(A->store, A->pool, &bp, &block, &len, &st2), LEDGER_OK);
        ledger_block_t *b = NULL;
        CHECK_EQ(ledger_block_decode(block, len, &b), PROTO_OK);
        ledger_vote_t v = {
            .type = LEDGER_VOTE_PRECOMMIT, .height = BLOCKS + 1 + (uint64_t)k, .has_hash = true};
        memcpy(v.chain_id, chain.chain_id, 32);
        memcpy(v.hash, ledger_block_hash(b), 32);
        ledger_vote_sign(&v, auth);
        ledger_cert_t c = {.height = v.height, .n_sigs = 1};
        memcpy(c.block_hash, v.hash, 32);
        memcpy(c.sigs[0].sig, v.sig, 64);
        CHECK_EQ(ledger_cert_encode(&c, &cert, &cl), PROTO_OK);
        CHECK_EQ(ledger_store_commit(A->store, block, len, cert, cl, st2), LEDGER_OK);
        CHECK_EQ(ledger_mempool_update(A->pool, block, len), LEDGER_OK);
        ledger_block_destroy(&b);
        ledger_state_destroy(&st2);
        free(block);
        free(cert);
        now += 100;
        node_ledger_sync_tick(A->sync, now);
        CHECK_EQ(A->statuses, sent + 1); /* no news */
    }
    for (uint64_t t = 250; t < 10000; t += 250)
        node_ledger_sync_tick(A->sync, now + t);
    CHECK_EQ(A->statuses, sent + 1); /* still none: the heartbeat is not due */
    now += 10000;
    s_answers_on = true;
    int b_sent = B->statuses;
    node_ledger_sync_tick(B->sync, now); /* B's heartbeat (30 s since its last) */
    CHECK_EQ(B->statuses, b_sent + 1);
    CHECK(!node_ledger_sync_behind(B->sync, now, &mine, &best));
    s_deliver(now);
    CHECK_EQ(A->answers, 1); /* to B alone */
    CHECK_EQ(B->answers, 0);
    CHECK(node_ledger_sync_behind(B->sync, now, &mine, &best)); /* B learnt A's new head */
    CHECK_EQ(best, (uint64_t)BLOCKS + 2);
    CHECK_EQ(A->statuses, sent + 1);

    free(bad_block);
    free(bad_cert);
    for (int i = 0; i < 2; i++) {
        node_ledger_sync_destroy(&s_nodes[i].sync);
        CHECK(s_nodes[i].sync == NULL);
        ledger_mempool_destroy(&s_nodes[i].pool);
        ledger_store_destroy(&s_nodes[i].store);
        testutil_rmtree(s_nodes[i].dir);
    }
    node_ledger_sync_destroy(NULL);
    proto_key_destroy(&auth);
    proto_key_destroy(&alice);
    return testutil_done("test_ledger_syncshell");
}
