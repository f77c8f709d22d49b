/*  ledger_sync_world: the hand-driven world of test_ledger_sync: a few nodes with their own
 *  chain in memory (blocks "h:tag" certified by precommits of real keys), each wired to its
 *  sans-IO sync core (ledger/ledger_sync.h) through a message queue the test delivers in
 *  order, reversed or not at all; the io callbacks, the chains and the queue. No clock, no
 *  randomness. Header-only, included once (by test_ledger_sync.c).
 */
#ifndef GENIE_LEDGER_SYNC_WORLD_H
#define GENIE_LEDGER_SYNC_WORLD_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_sync.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define NODES 3
#define CHAIN_MAX 64
#define KEYS 5
#define QUEUE_MAX 256

static const uint8_t s_chain_id[32] = "test-ledger-sync-chain-id-000000";
static proto_key_t *s_keys[KEYS];

typedef struct {
    uint8_t block[32];
    size_t len;
    uint8_t *cert;
    size_t cert_len;
    uint32_t mask_after; /* authority set after this block (bit i: key i) */
} entry_t;

typedef struct world world_t;

typedef struct {
    world_t *w;
    int idx;
    uint8_t id[32];
    ledger_sync_t *core;
    entry_t chain[CHAIN_MAX];
    size_t len;
    uint32_t mask0;
    int events[32]; /* counts per ledger_sync_event_t */
    bool fail_apply;
    int statuses, replies; /* STATUS broadcasts; STATUS answers to one peer (io.reply) */
} node_t;

typedef struct {
    int from, to; /* to -1: a broadcast */
    bool status;  /* a STATUS to one peer (io.reply) */
    uint8_t *data;
    size_t len;
} msg_t;

struct world {
    node_t nodes[NODES];
    msg_t q[QUEUE_MAX];
    size_t nq;
};

/* ---- chains ---- */

static inline void s_valset(uint32_t mask, ledger_valset_t *vs)
{
    memset(vs, 0, sizeof *vs);
    for (int i = 0; i < KEYS; i++)
        if ((mask >> i) & 1)
            CHECK_EQ(ledger_valset_add(vs, proto_key_public(s_keys[i])), 0);
}

/* A certificate for HASH at H by the keys of MASK (all of them). */
static inline uint8_t *s_cert(uint64_t h, const uint8_t hash[32], uint32_t mask, size_t *len)
{
    ledger_valset_t vs;
    s_valset(mask, &vs);
    ledger_cert_t c = {.height = h, .round = 0};
    memcpy(c.block_hash, hash, 32);
    for (size_t i = 0; i < vs.n; i++) {
        int k = 0;
        while (memcmp(proto_key_public(s_keys[k]), vs.keys[i], 32) != 0)
            k++;
        ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT, .height = h, .has_hash = true};
        memcpy(v.chain_id, s_chain_id, 32);
        memcpy(v.hash, hash, 32);
        ledger_vote_sign(&v, s_keys[k]);
        c.sigs[c.n_sigs].index = (uint8_t)i;
        memcpy(c.sigs[c.n_sigs].sig, v.sig, 64);
        c.n_sigs++;
    }
    uint8_t *out = NULL;
    CHECK_EQ(ledger_cert_encode(&c, &out, len), PROTO_OK);
    return out;
}

static inline uint32_t s_mask_after(const node_t *n, uint64_t h)
{
    return h == 0 ? n->mask0 : n->chain[h - 1].mask_after;
}

/* Appends block H to N's chain, certified by the set after H - 1; the block "h:S<m>"
   changes the set to M. */
static inline void s_grow(node_t *n, uint32_t new_mask)
{
    uint64_t h = n->len + 1;
    entry_t *e = &n->chain[n->len];
    uint32_t mask = s_mask_after(n, h - 1);
    e->len = (size_t)snprintf((char *)e->block, sizeof e->block, "%" PRIu64 ":S%02x", h,
                              new_mask ? new_mask : mask);
    uint8_t hash[32];
    ledger_vote_value_hash(e->block, e->len, hash);
    e->cert = s_cert(h, hash, mask, &e->cert_len);
    e->mask_after = new_mask ? new_mask : mask;
    n->len++;
}

/* ---- io ---- */

static inline bool s_io_head(void *ctx, uint64_t *height, uint8_t hash[static 32])
{
    node_t *n = ctx;
    *height = n->len;
    memset(hash, 0, 32);
    if (n->len)
        ledger_vote_value_hash(n->chain[n->len - 1].block, n->chain[n->len - 1].len, hash);
    return true;
}

static inline bool s_io_valset(void *ctx, ledger_valset_t *vs)
{
    node_t *n = ctx;
    s_valset(s_mask_after(n, n->len), vs);
    return true;
}

static inline bool s_io_read(void *ctx, uint64_t height, uint8_t **block, size_t *len,
                             uint8_t **cert, size_t *cert_len)
{
    node_t *n = ctx;
    if (height == 0 || height > n->len)
        return false;
    const entry_t *e = &n->chain[height - 1];
    *block = malloc(e->len);
    *cert = malloc(e->cert_len);
    if (!*block || !*cert)
        abort();
    memcpy(*block, e->block, e->len);
    memcpy(*cert, e->cert, e->cert_len);
    *len = e->len;
    *cert_len = e->cert_len;
    return true;
}

/* "h:Smm": height H and the set it leads to. */
static inline bool s_parse(const uint8_t *block, size_t len, uint64_t *h, uint32_t *mask)
{
    char text[40];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, block, len);
    text[len] = '\0';
    unsigned long long hh = 0;
    unsigned m = 0;
    if (sscanf(text, "%llu:S%x", &hh, &m) != 2 || m == 0)
        return false;
    *h = hh;
    *mask = m;
    return true;
}

static inline bool s_io_identify(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                                 uint8_t out[static 32])
{
    (void)ctx;
    uint64_t h = 0;
    uint32_t m = 0;
    if (!s_parse(block, len, &h, &m) || h != height)
        return false;
    ledger_vote_value_hash(block, len, out);
    return true;
}

static inline int s_io_apply(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                             const uint8_t *cert, size_t cert_len)
{
    node_t *n = ctx;
    uint64_t h = 0;
    uint32_t m = 0;
    CHECK(height == n->len + 1); /* in height order, never twice */
    if (n->fail_apply || !s_parse(block, len, &h, &m) || n->len == CHAIN_MAX)
        return -1;
    entry_t *e = &n->chain[n->len++];
    memcpy(e->block, block, len);
    e->len = len;
    e->cert = malloc(cert_len);
    if (!e->cert)
        abort();
    memcpy(e->cert, cert, cert_len);
    e->cert_len = cert_len;
    e->mask_after = m;
    return 0;
}

static inline void s_queue(world_t *w, int from, int to, const uint8_t *data, size_t len)
{
    CHECK(w->nq < QUEUE_MAX);
    if (w->nq == QUEUE_MAX)
        return;
    msg_t *m = &w->q[w->nq++];
    m->from = from;
    m->to = to;
    m->status = false;
    m->data = malloc(len);
    if (!m->data)
        abort();
    memcpy(m->data, data, len);
    m->len = len;
}

static inline bool s_io_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data,
                             size_t len)
{
    node_t *n = ctx;
    for (int i = 0; i < NODES; i++)
        if (memcmp(n->w->nodes[i].id, peer, 32) == 0) {
            s_queue(n->w, n->idx, i, data, len);
            return true;
        }
    return false;
}

static inline bool s_io_broadcast(void *ctx, const uint8_t *data, size_t len)
{
    node_t *n = ctx;
    n->statuses++;
    s_queue(n->w, n->idx, -1, data, len);
    return true;
}

static inline bool s_io_reply(void *ctx, const uint8_t peer[static 32], const uint8_t *data,
                              size_t len)
{
    node_t *n = ctx;
    for (int i = 0; i < NODES; i++)
        if (memcmp(n->w->nodes[i].id, peer, 32) == 0) {
            s_queue(n->w, n->idx, i, data, len);
            n->w->q[n->w->nq - 1].status = true;
            n->replies++;
            return true;
        }
    return false;
}

static inline void s_io_event(void *ctx, ledger_sync_event_t ev, const uint8_t *peer,
                              uint64_t height, int code)
{
    (void)peer;
    (void)height;
    CHECK(code <= 0);
    node_t *n = ctx;
    if ((int)ev > 0 && (int)ev < 32)
        n->events[ev]++;
}

static inline ledger_sync_params_t s_params(void)
{
    ledger_sync_params_t p;
    ledger_sync_params_default(&p);
    return p;
}

/* The world of NODES nodes; REPLY: their cores answer a peer behind (io.reply). */
static inline void s_world_init_io(world_t *w, const ledger_sync_params_t *p, uint32_t mask0,
                                   bool reply)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < NODES; i++) {
        node_t *n = &w->nodes[i];
        n->w = w;
        n->idx = i;
        n->mask0 = mask0;
        memcpy(n->id, proto_key_public(s_keys[i]), 32);
        ledger_sync_io_t io = {.ctx = n,
                               .head = s_io_head,
                               .valset = s_io_valset,
                               .read = s_io_read,
                               .identify = s_io_identify,
                               .apply = s_io_apply,
                               .send = s_io_send,
                               .broadcast = s_io_broadcast,
                               .reply = reply ? s_io_reply : NULL,
                               .event = s_io_event};
        n->core = ledger_sync_new(s_chain_id, &io, p);
        CHECK(n->core != NULL);
    }
}

static inline void s_world_init(world_t *w, const ledger_sync_params_t *p, uint32_t mask0)
{
    s_world_init_io(w, p, mask0, false);
}

static inline void s_world_free(world_t *w)
{
    for (size_t i = 0; i < w->nq; i++)
        free(w->q[i].data);
    for (int i = 0; i < NODES; i++) {
        ledger_sync_destroy(&w->nodes[i].core);
        CHECK(w->nodes[i].core == NULL);
        for (size_t h = 0; h < w->nodes[i].len; h++)
            free(w->nodes[i].chain[h].cert);
    }
}

/* Delivers the queued messages (and what they cause), oldest first or REVERSED. Messages
   to node DROP_TO (-1: none) are lost. */
static inline void s_deliver(world_t *w, uint64_t now, bool reversed, int drop_to)
{
    static msg_t batch[QUEUE_MAX];
    while (w->nq > 0) {
        size_t k = w->nq;
        memcpy(batch, w->q, k * sizeof *batch);
        w->nq = 0;
        for (size_t j = 0; j < k; j++) {
            msg_t *m = &batch[reversed ? k - 1 - j : j];
            for (int to = 0; to < NODES; to++) {
                if (to == m->from || (m->to >= 0 && to != m->to) || to == drop_to)
                    continue;
                node_t *n = &w->nodes[to];
                const uint8_t *from = w->nodes[m->from].id;
                int rc = m->to < 0 || m->status
                             ? ledger_sync_on_status(n->core, from, m->data, m->len, now)
                             : ledger_sync_on_unicast(n->core, from, m->data, m->len, now);
                CHECK_EQ(rc, PROTO_OK);
            }
            free(m->data);
        }
    }
}

static inline void s_drop_queue(world_t *w)
{
    for (size_t i = 0; i < w->nq; i++)
        free(w->q[i].data);
    w->nq = 0;
}

/* The destination of the last unicast queued (-1: none). */
static inline int s_asked(const world_t *w)
{
    for (size_t i = w->nq; i-- > 0;)
        if (w->q[i].to >= 0)
            return w->q[i].to;
    return -1;
}

static inline bool s_same_chain(const node_t *a, const node_t *b, size_t len)
{
    for (size_t h = 0; h < len; h++)
        if (a->chain[h].len != b->chain[h].len ||
            memcmp(a->chain[h].block, b->chain[h].block, a->chain[h].len) != 0)
            return false;
    return true;
}

/* Sends node I's STATUS to the others (a tick broadcasts it the first time). */
static inline void s_status(world_t *w, int i, uint64_t now)
{
    uint64_t h = 0;
    uint8_t hash[32];
    uint8_t *msg = NULL;
    size_t len = 0;
    s_io_head(&w->nodes[i], &h, hash);
    CHECK_EQ(ledger_sync_status_encode(h, hash, &msg, &len), PROTO_OK);
    for (int to = 0; to < NODES; to++)
        if (to != i)
            CHECK_EQ(ledger_sync_on_status(w->nodes[to].core, w->nodes[i].id, msg, len, now),
                     PROTO_OK);
    free(msg);
}

#endif
