/*  test_ledger_outbox: the node's batching of admitted txs for gossip
 *  (node/service/node_ledger_outbox.h). One tx goes alone as a tx; several as one tx_batch
 *  whose elements are exactly the txs, in order; a full batch (by count or by bytes) goes
 *  at once while the rest waits; the timer sends what waits (a real zloop, ended by the
 *  send itself); a failing send loses nothing else; destroying with txs waiting frees
 *  them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_tx.h"
#include "node/service/node_ledger_outbox.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

typedef struct {
    int sends, txs_sent, fail;
    uint32_t last_kind;
    size_t last_count;
    uint8_t *txs[8];
    size_t lens[8];
    size_t n; /* of the last message */
    bool stop_loop;
} sink_t;

static int s_collect(void *ctx, const uint8_t *tx, size_t len)
{
    sink_t *k = ctx;
    if (k->n < 8) {
        k->txs[k->n] = malloc(len);
        memcpy(k->txs[k->n], tx, len);
        k->lens[k->n] = len;
    }
    k->n++;
    return 0;
}

static void s_sink_clear(sink_t *k)
{
    for (size_t i = 0; i < 8 && i < k->n; i++)
        free(k->txs[i]);
    k->n = 0;
}

static int s_send(void *ctx, uint32_t kind, const uint8_t *data, size_t len)
{
    sink_t *k = ctx;
    k->sends++;
    k->last_kind = kind;
    s_sink_clear(k);
    if (kind == PROTO_MSG_TX) {
        s_collect(k, data, len);
    } else {
        CHECK_EQ(kind, (uint32_t)PROTO_MSG_TX_BATCH);
        CHECK_EQ(ledger_tx_batch_each(data, len, NODE_LEDGER_OUTBOX_TXS, s_collect, k), PROTO_OK);
    }
    k->last_count = k->n;
    k->txs_sent += (int)k->n;
    k->stop_loop = true;
    return k->fail ? -1 : 0;
}

static uint8_t s_tx[NODE_LEDGER_OUTBOX_TXS + 8][16];

static void s_txs(const uint8_t **txs, size_t *lens, size_t n, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t b = 0; b < sizeof s_tx[i]; b++)
            s_tx[i][b] = (uint8_t)(i * 7 + b);
        txs[i] = s_tx[i];
        lens[i] = len;
    }
}

static int s_end_when_sent(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    return ((sink_t *)arg)->stop_loop ? -1 : 0;
}

static int s_guard(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    (void)arg;
    return -1; /* the outbox timer never fired: the CHECKs below fail */
}

int main(void)
{
    zsys_init();
    zsys_set_logstream(NULL);
    zloop_t *loop = zloop_new();
    sink_t k;
    memset(&k, 0, sizeof k);
    node_ledger_outbox_t *ob = node_ledger_outbox_new(loop, s_send, &k);
    CHECK(ob != NULL);
    static const uint8_t *txs[NODE_LEDGER_OUTBOX_TXS + 8];
    static size_t lens[NODE_LEDGER_OUTBOX_TXS + 8];

    /* one tx: a tx of its own */
    s_txs(txs, lens, 1, 16);
    node_ledger_outbox_add(ob, txs, lens, 1);
    CHECK_EQ(node_ledger_outbox_pending(ob), 1u);
    CHECK_EQ(k.sends, 0);
    node_ledger_outbox_flush(ob);
    CHECK_EQ(k.sends, 1);
    CHECK_EQ(k.last_kind, (uint32_t)PROTO_MSG_TX);
    CHECK(k.lens[0] == 16 && memcmp(k.txs[0], s_tx[0], 16) == 0);
    CHECK_EQ(node_ledger_outbox_pending(ob), 0u);
    node_ledger_outbox_flush(ob); /* nothing waits: nothing sent */
    CHECK_EQ(k.sends, 1);

    /* three: one tx_batch with the three, in order */
    s_txs(txs, lens, 3, 12);
    node_ledger_outbox_add(ob, txs, lens, 2);
    node_ledger_outbox_add(ob, txs + 2, lens + 2, 1);
    node_ledger_outbox_flush(ob);
    CHECK_EQ(k.sends, 2);
    CHECK_EQ(k.last_kind, (uint32_t)PROTO_MSG_TX_BATCH);
    CHECK_EQ(k.last_count, 3u);
    for (size_t i = 0; i < 3; i++)
        CHECK(k.lens[i] == 12 && memcmp(k.txs[i], s_tx[i], 12) == 0);

    /* count limit: a full batch goes at once, the rest waits */
    s_txs(txs, lens, NODE_LEDGER_OUTBOX_TXS + 5, 8);
    node_ledger_outbox_add(ob, txs, lens, NODE_LEDGER_OUTBOX_TXS + 5);
    CHECK_EQ(k.sends, 3);
    CHECK_EQ(k.last_count, (size_t)NODE_LEDGER_OUTBOX_TXS);
    CHECK_EQ(node_ledger_outbox_pending(ob), 5u);

    /* the timer sends what waits (the loop ends once something was sent) */
    k.stop_loop = false;
    CHECK(zloop_timer(loop, 1, 0, s_end_when_sent, &k) >= 0);
    CHECK(zloop_timer(loop, 10000, 1, s_guard, NULL) >= 0);
    zloop_start(loop);
    CHECK(k.stop_loop);
    CHECK_EQ(k.sends, 4);
    CHECK_EQ(k.last_count, 5u);
    CHECK_EQ(node_ledger_outbox_pending(ob), 0u);

    /* byte limit: big txs (the tx bytes come from one 64 KiB buffer) */
    static uint8_t big[64 * 1024];
    memset(big, 0x5a, sizeof big);
    const uint8_t *bt[4] = {big, big, big, big};
    size_t bl[4] = {60000, 60000, 60000, 60000};
    int before = k.sends;
    node_ledger_outbox_add(ob, bt, bl, 4);
    CHECK_EQ(k.sends, before + 1); /* 3 x 60000 fit 200 KiB, the fourth does not */
    CHECK_EQ(k.last_count, 3u);
    CHECK_EQ(node_ledger_outbox_pending(ob), 1u);

    /* a failing send: the txs are gone, nothing breaks */
    k.fail = 1;
    node_ledger_outbox_flush(ob);
    CHECK_EQ(k.sends, before + 2);
    CHECK_EQ(node_ledger_outbox_pending(ob), 0u);
    k.fail = 0;

    /* destroyed with txs waiting (and its timer armed): freed */
    s_txs(txs, lens, 2, 16);
    node_ledger_outbox_add(ob, txs, lens, 2);
    node_ledger_outbox_destroy(&ob);
    CHECK(ob == NULL);
    node_ledger_outbox_destroy(&ob);
    s_sink_clear(&k);
    zloop_destroy(&loop);
    return testutil_done("test_ledger_outbox");
}
