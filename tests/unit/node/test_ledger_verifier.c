/*  test_ledger_verifier: the node's check of incoming txs (node/service/node_ledger_check.h)
 *  and the worker thread that runs it for gossiped txs (node_ledger_verifier.h).
 *
 *  The checker writes one record per tx in the order they went in, across signature
 *  chunks and with refusals in between; a gossiped tx_batch gives one record per tx and a
 *  malformed one a single LEDGER_E_MALFORMED record. The verifier, on a real zloop, answers
 *  every job in order with the same records the checker gives on the caller's thread;
 *  more than NODE_LEDGER_VERIFY_QUEUE jobs waiting are refused; destroying it with jobs
 *  out stops the worker cleanly. The loop ends when the verdicts are in (a guard timer
 *  only fails the test if they never come). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_store.h"
#include "node/service/node_ledger_check.h"
#include "node/service/node_ledger_verifier.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define NTX 300

static proto_key_t *s_key(uint8_t b)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, b, sizeof seed);
    return proto_key_from_seed(seed);
}

typedef struct {
    int answers, want;
    node_ledger_recs_t got; /* every record received, in order */
} sink_t;

static void s_on_verdicts(void *ctx, const uint8_t *recs, size_t len, uint64_t waited_ms)
{
    (void)waited_ms;
    sink_t *k = ctx;
    k->answers++;
    size_t off = 0, n;
    int32_t rc;
    const uint8_t *p;
    while (node_ledger_recs_next(recs, len, &off, &rc, &p, &n))
        CHECK_EQ(node_ledger_recs_add(&k->got, rc, p, n), 0);
    CHECK_EQ(off, len);
}

static int s_until_answered(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sink_t *k = arg;
    return k->answers >= k->want ? -1 : 0;
}

static int s_guard(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return -1;
}

static void s_run(zloop_t *loop, sink_t *k)
{
    int t1 = zloop_timer(loop, 1, 0, s_until_answered, k);
    int t2 = zloop_timer(loop, 30000, 1, s_guard, NULL);
    zloop_start(loop);
    zloop_timer_end(loop, t1);
    zloop_timer_end(loop, t2);
    CHECK_EQ(k->answers, k->want);
}

/* The rcs of the records in BUF, into RCS (at most MAX); their count. */
static size_t s_rcs(const node_ledger_recs_t *b, int32_t *rcs, size_t max)
{
    size_t off = 0, n, k = 0;
    int32_t rc;
    const uint8_t *p;
    while (node_ledger_recs_next(b->buf, b->len, &off, &rc, &p, &n))
        if (k < max)
            rcs[k++] = rc;
    return k;
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_log_set_level(LOG_LVL_ERROR);
    zsys_init();
    zsys_set_logstream(NULL);
    proto_key_t *auth = s_key(1), *alice = s_key(2);
    uint8_t a[1][32];
    memcpy(a[0], proto_key_public(auth), 32);
    ledger_balance_t bal[1];
    memcpy(bal[0].account, proto_key_public(alice), 32);
    bal[0].amount = 1000000;
    ledger_genesis_params_t gp = {.chain_name = "verifier",
                                  .block_interval_ms = 100,
                                  .heartbeat_ms = 1000,
                                  .max_block_bytes = 512 * 1024,
                                  .max_block_txs = 1000,
                                  .genesis_time_ms = 5000};
    memcpy(gp.attestation_service, a[0], 32);
    ledger_genesis_t *g = NULL;
    char err[256];
    CHECK_EQ(ledger_genesis_new(&gp, (const uint8_t(*)[32])a, 1, bal, 1, &g, err, sizeof err),
             LEDGER_OK);
    char dir[256];
    strcpy(dir, testutil_tmpdir());
    ledger_store_t *store = NULL;
    CHECK_EQ(ledger_store_open(dir, &store, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(g, store), LEDGER_OK);
    ledger_chain_t chain;
    CHECK_EQ(ledger_store_chain(store, &chain), LEDGER_OK);
    ledger_genesis_destroy(&g);

    /* NTX txs: every 5th with a broken signature */
    static uint8_t *txs[NTX];
    static size_t lens[NTX];
    static int32_t want[NTX + 8], got[NTX + 8];
    for (size_t i = 0; i < NTX; i++) {
        txs[i] = ledger_contract_transfer_tx(alice, chain.chain_id, i, a[0], 1 + i, &lens[i]);
        CHECK(txs[i] != NULL);
        if (i % 5 == 4)
            txs[i][lens[i] - 3] ^= 0x08;
        want[i] = i % 5 == 4 ? LEDGER_E_BAD_SIG : LEDGER_OK;
    }

    /* the checker: order kept across chunks and refusals */
    node_ledger_recs_t out = {0};
    node_ledger_checker_t *c = malloc(sizeof *c);
    node_ledger_checker_init(c, &out, chain.chain_id, store, NULL);
    for (size_t i = 0; i < NTX; i++) {
        CHECK_EQ(node_ledger_checker_add(c, txs[i], lens[i]), 0);
        if (i == 150)
            CHECK_EQ(node_ledger_checker_refuse(c, LEDGER_E_MALFORMED, "not hex"), 0);
    }
    CHECK_EQ(node_ledger_checker_flush(c), 0);
    free(c);
    size_t n = s_rcs(&out, got, NTX + 8);
    CHECK_EQ(n, (size_t)NTX + 1);
    for (size_t i = 0, j = 0; i < n; i++) {
        if (i == 151) {
            CHECK_EQ(got[i], LEDGER_E_MALFORMED);
            continue;
        }
        CHECK_EQ(got[i], want[j++]);
    }
    node_ledger_recs_free(&out);

    /* a batch of the first 40 txs, checked on this thread */
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_tx_batch_write(&w, (const uint8_t *const *)txs, lens, 40);
    size_t blen = 0;
    const uint8_t *batch = proto_wr_data(&w, &blen);
    node_ledger_recs_t direct = {0};
    CHECK_EQ(node_ledger_check_gossip(PROTO_MSG_TX_BATCH, batch, blen, chain.chain_id, store, NULL,
                                      &direct),
             0);
    CHECK_EQ(s_rcs(&direct, got, NTX), 40u);
    static const uint8_t junk[] = {0x92, 0xc4, 0x01};
    node_ledger_recs_t bad = {0};
    CHECK_EQ(node_ledger_check_gossip(PROTO_MSG_TX_BATCH, junk, sizeof junk, chain.chain_id, store,
                                      NULL, &bad),
             0);
    CHECK_EQ(s_rcs(&bad, got, 4), 1u);
    CHECK_EQ(got[0], LEDGER_E_MALFORMED);
    node_ledger_recs_free(&bad);

    /* the verifier: a tx, the batch, junk; answers in order, the same records */
    zloop_t *loop = zloop_new();
    proto_sigkeys_t *keys = proto_sigkeys_new(64);
    sink_t k;
    memset(&k, 0, sizeof k);
    node_ledger_verifier_t *v = node_ledger_verifier_new(loop, chain.chain_id, store, keys,
                                                         s_on_verdicts, &k, err, sizeof err);
    CHECK(v != NULL);
    CHECK_EQ(node_ledger_verifier_submit(v, PROTO_MSG_TX, txs[4], lens[4]), 0);
    CHECK_EQ(node_ledger_verifier_submit(v, PROTO_MSG_TX_BATCH, batch, blen), 0);
    CHECK_EQ(node_ledger_verifier_submit(v, PROTO_MSG_TX_BATCH, junk, sizeof junk), 0);
    CHECK_EQ(node_ledger_verifier_inflight(v), 3u);
    k.want = 3;
    s_run(loop, &k);
    CHECK_EQ(node_ledger_verifier_inflight(v), 0u);
    n = s_rcs(&k.got, got, NTX);
    CHECK_EQ(n, 42u);
    CHECK_EQ(got[0], LEDGER_E_BAD_SIG);
    CHECK(k.got.len > 0 && direct.len > 0);
    /* the batch's records are byte for byte those of the direct check */
    size_t off = 0, rn;
    int32_t rrc;
    const uint8_t *rp;
    CHECK(node_ledger_recs_next(k.got.buf, k.got.len, &off, &rrc, &rp, &rn));
    CHECK(k.got.len - off >= direct.len && memcmp(k.got.buf + off, direct.buf, direct.len) == 0);
    CHECK_EQ(got[41], LEDGER_E_MALFORMED);

    /* the queue bound: NODE_LEDGER_VERIFY_QUEUE jobs out, the next refused */
    size_t taken = 0, busy = 0;
    for (size_t i = 0; i < NODE_LEDGER_VERIFY_QUEUE + 4; i++) {
        int src = node_ledger_verifier_submit(v, PROTO_MSG_TX, txs[i], lens[i]);
        taken += src == 0;
        busy += src == NODE_E_BUSY; /* a refusal says the bound was reached */
    }
    CHECK_EQ(taken, (size_t)NODE_LEDGER_VERIFY_QUEUE);
    CHECK_EQ(busy, 4u);
    k.want = k.answers + NODE_LEDGER_VERIFY_QUEUE;
    s_run(loop, &k);
    CHECK_EQ(node_ledger_verifier_submit(v, PROTO_MSG_TX, txs[0], lens[0]), 0); /* room again */
    /* destroyed with a job out: the worker stops cleanly */
    node_ledger_verifier_destroy(&v);
    CHECK(v == NULL);
    node_ledger_verifier_destroy(&v);

    node_ledger_recs_free(&k.got);
    node_ledger_recs_free(&direct);
    proto_wr_free(&w);
    proto_sigkeys_destroy(&keys);
    zloop_destroy(&loop);
    for (size_t i = 0; i < NTX; i++)
        free(txs[i]);
    ledger_store_destroy(&store);
    testutil_rmtree(dir);
    proto_key_destroy(&auth);
    proto_key_destroy(&alice);
    return testutil_done("test_ledger_verifier");
}
