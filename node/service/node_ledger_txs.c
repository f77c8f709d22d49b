/*  node_ledger_txs: how transactions reach the node's mempool (see node_ledger_int.h).
 *
 *  Signature checks are the costly part of admitting a tx (one Ed25519 verification, about
 *  55 us), so they never run on the loop for txs from outside:
 *  - txs submitted over RPC are checked on the connection's thread (node_ledger_rpc.c);
 *  - txs gossiped by peers (tx, tx_batch) are copied to the verifier, one worker thread
 *    behind an inproc PAIR pipe, which parses and checks each one and sends back the
 *    verdicts; the loop then admits the good ones without checking them again. So a burst
 *    of txs never holds up proposals and votes waiting behind it on the loop.
 *  Both hand the loop "check records": [int32 rc][uint32 len][len bytes], the tx itself
 *  when rc is LEDGER_OK, else the static reason text. Records only ever travel inside the
 *  process, so they are in host byte order.
 *
 *  Bounds: at most NL_VERIFY_QUEUE batches (copies of at most 256 KiB each) wait for the
 *  verifier; more are dropped and
 *  counted (txs_dropped_busy): a dropped tx that makes it into a block is verified when
 *  the block is executed, like any tx the pool does not hold.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_ledger_int.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

typedef struct {
    int32_t rc;
    uint32_t len;
} s_rec_t;

/* ---------------------------------------------------------------- check records */

int nl_rec_add(nl_recbuf_t *b, int32_t rc, const void *p, size_t n)
{
    size_t need = b->len + sizeof(s_rec_t) + n;
    if (need > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < need)
            c *= 2;
        uint8_t *nb = realloc(b->buf, c);
        if (!nb)
            return -1;
        b->buf = nb;
        b->cap = c;
    }
    s_rec_t rec = {.rc = rc, .len = (uint32_t)n};
    memcpy(b->buf + b->len, &rec, sizeof rec);
    if (n)
        memcpy(b->buf + b->len + sizeof rec, p, n);
    b->len = need;
    return 0;
}

void nl_checker_init(nl_checker_t *c, nl_recbuf_t *out, const uint8_t chain_id[static 32],
                     ledger_store_t *store, proto_sigkeys_t *keys)
{
    c->keys = keys;
    c->out = out;
    c->chain_id = chain_id;
    c->store = store;
    c->n = 0;
}

int nl_checker_refuse(nl_checker_t *c, int32_t rc, const char *why)
{
    if (c->n == NL_CHECK_CHUNK && nl_checker_flush(c) != 0)
        return -1;
    c->item[c->n].tx = (const uint8_t *)why;
    c->item[c->n].len = strlen(why);
    c->item[c->n++].rc = rc;
    return 0;
}

int nl_checker_add(nl_checker_t *c, const uint8_t *tx, size_t len)
{
    if (c->n == NL_CHECK_CHUNK && nl_checker_flush(c) != 0)
        return -1;
    c->item[c->n].tx = tx;
    c->item[c->n].len = len;
    c->item[c->n++].rc = LEDGER_OK;
    return 0;
}

int nl_checker_flush(nl_checker_t *c)
{
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->item[i].rc == LEDGER_OK) {
            c->txs[m] = c->item[i].tx;
            c->lens[m++] = c->item[i].len;
        }
    if (m && ledger_admit_check(c->txs, c->lens, m, c->chain_id, c->store, c->keys, NULL,
                                c->verdict) != LEDGER_OK)
        return -1;
    int rc = 0;
    size_t j = 0;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        const nl_check_item_t *it = &c->item[i];
        if (it->rc != LEDGER_OK) {
            rc = nl_rec_add(c->out, it->rc, it->tx, it->len);
            continue;
        }
        const ledger_admit_verdict_t *v = &c->verdict[j++];
        rc = v->rc == LEDGER_OK ? nl_rec_add(c->out, LEDGER_OK, it->tx, it->len)
                                : nl_rec_add(c->out, v->rc, v->why, strlen(v->why));
    }
    c->n = 0;
    return rc;
}

bool nl_rec_next(const uint8_t *buf, size_t len, size_t *off, int32_t *rc, const uint8_t **p,
                 size_t *n)
{
    s_rec_t rec;
    if (!buf || *off + sizeof rec > len)
        return false;
    memcpy(&rec, buf + *off, sizeof rec);
    if (rec.len > len - *off - sizeof rec)
        return false;
    *rc = rec.rc;
    *p = buf + *off + sizeof rec;
    *n = rec.len;
    *off += sizeof rec + rec.len;
    return true;
}

void nl_recbuf_free(nl_recbuf_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

/* ---------------------------------------------------------------- admission, gossip */

int nl_admit(node_ledger_t *self, const uint8_t *tx, size_t len, bool sig_verified, uint8_t *txid,
             const char **why)
{
    const char *w = NULL;
    int rc = sig_verified ? ledger_mempool_add_verified(self->pool, tx, len, txid, &w)
                          : ledger_mempool_add(self->pool, tx, len, txid, &w);
    if (why)
        *why = w;
    if (rc == LEDGER_OK) {
        self->st.txs_in++;
        atomic_store(&self->pool_room, ledger_mempool_room(self->pool));
    } else {
        self->st.txs_rejected++;
        GLOG(DEBUG, LEDGER, "tx refused: %s (%s)", ledger_err_str(rc), w ? w : "-");
    }
    return rc;
}

/*  The outbox's sender: a p2p broadcast, counted when it fails. */
int nl_outbox_send(void *ctx, uint32_t kind, const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    p2p_node_t *p2p = node_app_p2p(self->app);
    if (p2p && p2p_node_broadcast(p2p, kind, data, len) == 0)
        return 0;
    self->st.broadcast_failures++;
    return -1;
}

void nl_gossip_txs(node_ledger_t *self, const uint8_t *const *txs, const size_t *lens, size_t n)
{
    node_ledger_outbox_add(self->outbox, txs, lens, n);
}

/* ---------------------------------------------------------------- the verifier */

static int s_visit(void *ctx, const uint8_t *tx, size_t len)
{
    return nl_checker_add(ctx, tx, len) == 0 ? 0 : 1;
}

/*  Checks the payload of one gossiped message of KIND (a tx, or a tx_batch) into
 *  records. A tx_batch that does not decode (ledger_tx_batch_each) gives one
 *  LEDGER_E_MALFORMED record. -1 if memory ran out. */
static int s_check_job(uint8_t kind, const uint8_t *data, size_t len,
                       const uint8_t chain_id[static 32], ledger_store_t *store,
                       proto_sigkeys_t *keys, nl_recbuf_t *out)
{
    static const char bad[] = "malformed tx_batch";
    nl_checker_t *c = malloc(sizeof *c);
    if (!c)
        return -1;
    nl_checker_init(c, out, chain_id, store, keys);
    int rc = kind == NL_JOB_TX
                 ? (nl_checker_add(c, data, len) == 0 ? PROTO_OK : 1)
                 : ledger_tx_batch_each(data, len, NODE_LEDGER_OUTBOX_TXS, s_visit, c);
    if (rc == PROTO_OK)
        rc = nl_checker_flush(c);
    else if (rc == 1) /* memory ran out */
        rc = -1;
    else /* the batch does not decode (checked whole before any tx): nothing was added */
        rc = nl_rec_add(out, LEDGER_E_MALFORMED, bad, sizeof bad - 1);
    free(c);
    return rc == 0 ? 0 : -1;
}

typedef struct {
    char endpoint[96];
    uint8_t chain_id[32];
    ledger_store_t *store; /* read-only use: committed nonces (thread-safe reads) */
    proto_sigkeys_t *keys; /* thread-safe */
} s_worker_args_t;

/*  The worker: answers every job with its records (empty on memory failure) until an
 *  empty frame (or the context ending) stops it. */
static void *s_worker(void *arg)
{
    s_worker_args_t *a = arg;
    zsock_t *pipe = zsock_new(ZMQ_PAIR);
    if (!pipe || zsock_connect(pipe, "%s", a->endpoint) != 0) {
        zsock_destroy(&pipe);
        return NULL;
    }
    for (;;) {
        zframe_t *job = zframe_recv(pipe);
        if (!job || zframe_size(job) == 0) {
            zframe_destroy(&job);
            break;
        }
        nl_recbuf_t out = {0};
        const uint8_t *jd = zframe_data(job);
        if (s_check_job(jd[0], jd + 1, zframe_size(job) - 1, a->chain_id, a->store, a->keys,
                        &out) != 0)
            out.len = 0;
        zframe_destroy(&job);
        zframe_t *ans = zframe_new(out.buf, out.len);
        nl_recbuf_free(&out);
        if (!ans || zframe_send(&ans, pipe, 0) != 0) {
            zframe_destroy(&ans);
            break;
        }
    }
    zsock_destroy(&pipe);
    return NULL;
}

/*  Admits the verified txs of the records BUF (LEN bytes), counts the others; runs the
 *  pacing check if any was admitted. */
static void s_admit_verdicts(node_ledger_t *self, const uint8_t *buf, size_t len)
{
    size_t off = 0, n, admitted = 0;
    int32_t rc;
    const uint8_t *p;
    while (nl_rec_next(buf, len, &off, &rc, &p, &n)) {
        if (rc == LEDGER_OK) {
            admitted += nl_admit(self, p, n, true, NULL, NULL) == LEDGER_OK;
        } else {
            self->st.txs_rejected++;
            GLOG(DEBUG, LEDGER, "gossiped tx refused: %s (%.*s)", ledger_err_str(rc), (int)n,
                 (const char *)p);
        }
    }
    if (admitted)
        nl_pace_check(self);
}

/*  Verdicts back from the worker. */
static int s_on_verdicts(zloop_t *loop, zsock_t *sock, void *arg)
{
    node_ledger_t *self = arg;
    zframe_t *ans;
    while ((ans = zframe_recv(sock))) { /* rcvtimeo 0: stops when nothing waits */
        if (self->verify_inflight > 0) {
            uint64_t sent = self->verify_sent_ms[self->verify_first], now = nl_now();
            nl_delay_add(&self->st.verifier, now > sent ? now - sent : 0);
            self->verify_first = (self->verify_first + 1) % NL_VERIFY_QUEUE;
            self->verify_inflight--;
        }
        s_admit_verdicts(self, zframe_data(ans), zframe_size(ans));
        zframe_destroy(&ans);
    }
    return 0;
}

void nl_on_gossip_txs(node_ledger_t *self, uint32_t kind, const uint8_t *data, size_t len)
{
    uint8_t jk = kind == PROTO_MSG_TX ? NL_JOB_TX : NL_JOB_BATCH;
    if (!self->verifier) { /* not started yet: check on the loop */
        nl_recbuf_t out = {0};
        if (s_check_job(jk, data, len, self->chain_id, self->store, self->sigkeys, &out) == 0)
            s_admit_verdicts(self, out.buf, out.len);
        nl_recbuf_free(&out);
        return;
    }
    if (self->verify_inflight >= NL_VERIFY_QUEUE) {
        self->st.txs_dropped_busy++;
        GLOG_RATELIMITED(DEBUG, LEDGER, "verifier busy: a gossiped %s dropped",
                         kind == PROTO_MSG_TX ? "tx" : "tx_batch");
        return;
    }
    zframe_t *job = zframe_new(NULL, len + 1);
    if (!job)
        return;
    zframe_data(job)[0] = jk;
    memcpy(zframe_data(job) + 1, data, len);
    if (zframe_send(&job, self->verifier, ZFRAME_DONTWAIT) != 0) {
        zframe_destroy(&job);
        self->st.txs_dropped_busy++;
        return;
    }
    self->verify_sent_ms[(self->verify_first + self->verify_inflight) % NL_VERIFY_QUEUE] = nl_now();
    self->verify_inflight++;
}

int nl_verifier_start(node_ledger_t *self, char *err, size_t err_cap)
{
    s_worker_args_t *a = calloc(1, sizeof *a);
    if (!a)
        return proto_err_set(err, err_cap, "out of memory");
    snprintf(a->endpoint, sizeof a->endpoint, "inproc://genie-verify-%p", (void *)self);
    memcpy(a->chain_id, self->chain_id, 32);
    a->store = self->store;
    a->keys = self->sigkeys;
    self->verifier = zsock_new(ZMQ_PAIR);
    if (!self->verifier || zsock_bind(self->verifier, "%s", a->endpoint) != 0) {
        free(a);
        zsock_destroy(&self->verifier);
        return proto_err_set(err, err_cap, "cannot create the verifier pipe");
    }
    zsock_set_sndhwm(self->verifier, 2 * NL_VERIFY_QUEUE);
    zsock_set_rcvtimeo(self->verifier, 0);
    if (pthread_create(&self->verifier_thread, NULL, s_worker, a) != 0) {
        free(a);
        zsock_destroy(&self->verifier);
        return proto_err_set(err, err_cap, "cannot start the verifier thread");
    }
    self->verifier_args = a;
    if (zloop_reader(self->loop, self->verifier, s_on_verdicts, self) != 0) {
        nl_verifier_stop(self);
        return proto_err_set(err, err_cap, "cannot watch the verifier pipe");
    }
    return 0;
}

void nl_verifier_stop(node_ledger_t *self)
{
    if (!self->verifier)
        return;
    zloop_reader_end(self->loop, self->verifier);
    zframe_t *stop = zframe_new(NULL, 0);
    /* the worker reads every job, so the stop frame gets through unless it is gone */
    zsock_set_sndtimeo(self->verifier, 2000);
    if (stop && zframe_send(&stop, self->verifier, 0) != 0)
        zframe_destroy(&stop);
    pthread_join(self->verifier_thread, NULL);
    zsock_destroy(&self->verifier);
    free(self->verifier_args);
    self->verifier_args = NULL;
}
