/*  node_ledger_outbox: batching of admitted txs for gossip (see node_ledger_outbox.h).
 *  The waiting txs are kept back to back in one growable buffer with their lengths.
 */
#include "node/service/node_ledger_outbox.h"

#include <stdlib.h>
#include <string.h>

#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

struct node_ledger_outbox_t {
    zloop_t *loop;
    node_ledger_outbox_send_fn send;
    void *ctx;
    uint8_t *buf; /* the waiting txs, back to back */
    size_t len, cap;
    size_t n;                            /* txs waiting */
    size_t lens[NODE_LEDGER_OUTBOX_TXS]; /* their lengths */
    int timer;                           /* one-shot; -1 when none */
};

node_ledger_outbox_t *node_ledger_outbox_new(zloop_t *loop, node_ledger_outbox_send_fn send,
                                             void *ctx)
{
    node_ledger_outbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->send = send;
    self->ctx = ctx;
    self->timer = -1;
    return self;
}

void node_ledger_outbox_destroy(node_ledger_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_ledger_outbox_t *self = *self_p;
    if (self->timer >= 0)
        zloop_timer_end(self->loop, self->timer);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

/*  Broadcasts N txs: one alone as a tx, more as tx_batch messages within the limits. */
static void s_send(node_ledger_outbox_t *self, const uint8_t *const *txs, const size_t *lens,
                   size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i == 1) { /* a lone tx goes as itself */
            self->send(self->ctx, PROTO_MSG_TX, txs[i], lens[i]);
            return;
        }
        size_t end = i, bytes = 0;
        while (end < n && end - i < NODE_LEDGER_OUTBOX_TXS &&
               (end == i || bytes + lens[end] <= NODE_LEDGER_OUTBOX_BYTES))
            bytes += lens[end++];
        proto_wr_t w;
        proto_wr_init(&w);
        ledger_tx_batch_write(&w, txs + i, lens + i, end - i);
        size_t blen = 0;
        const uint8_t *body = proto_wr_data(&w, &blen);
        if (!body || self->send(self->ctx, PROTO_MSG_TX_BATCH, body, blen) != 0)
            GLOG(WARN, LEDGER, "cannot gossip %zu txs (%zu bytes)", end - i, blen);
        proto_wr_free(&w);
        i = end;
    }
}

void node_ledger_outbox_flush(node_ledger_outbox_t *self)
{
    if (self->timer >= 0) {
        zloop_timer_end(self->loop, self->timer);
        self->timer = -1;
    }
    size_t n = self->n;
    const uint8_t **txs = n ? malloc(n * sizeof *txs) : NULL;
    if (n && !txs) {
        GLOG(WARN, LEDGER, "out of memory: %zu txs not gossiped (blocks will carry them)", n);
        n = 0;
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        txs[i] = self->buf + off;
        off += self->lens[i];
    }
    s_send(self, txs, self->lens, n);
    free(txs);
    self->len = 0;
    self->n = 0;
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    node_ledger_outbox_t *self = arg;
    if (timer_id == self->timer)
        self->timer = -1;
    node_ledger_outbox_flush(self);
    return 0;
}

/*  Room for LEN more bytes; false if memory ran out. */
static bool s_reserve(node_ledger_outbox_t *self, size_t len)
{
    if (self->len + len <= self->cap)
        return true;
    size_t cap = self->cap ? self->cap : 4096;
    while (cap < self->len + len)
        cap *= 2;
    uint8_t *nb = realloc(self->buf, cap);
    if (!nb)
        return false;
    self->buf = nb;
    self->cap = cap;
    return true;
}

void node_ledger_outbox_add(node_ledger_outbox_t *self, const uint8_t *const *txs,
                            const size_t *lens, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (self->n > 0 &&
            (self->n >= NODE_LEDGER_OUTBOX_TXS || self->len + lens[i] > NODE_LEDGER_OUTBOX_BYTES))
            node_ledger_outbox_flush(self);
        if (!s_reserve(self, lens[i])) {
            s_send(self, txs + i, lens + i, 1); /* no memory to wait: send it now */
            continue;
        }
        memcpy(self->buf + self->len, txs[i], lens[i]);
        self->len += lens[i];
        self->lens[self->n++] = lens[i];
    }
    if (self->n > 0 && self->timer < 0) {
        self->timer = zloop_timer(self->loop, NODE_LEDGER_OUTBOX_DELAY_MS, 1, s_on_timer, self);
        if (self->timer < 0) {
            GLOG(WARN, LEDGER, "cannot create the gossip timer: gossiping at once");
            node_ledger_outbox_flush(self);
        }
    }
}

size_t node_ledger_outbox_pending(const node_ledger_outbox_t *self)
{
    return self->n;
}
