/*  ledger_sync: the sans-IO block sync core (see ledger_sync.h for the behaviour, the
 *  messages and the bounds). Everything a peer sends is read with the strict bounded
 *  msgpack reader; every time comes in as now_ms; every effect goes out through io.
 */
#include "ledger/ledger_sync.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

typedef struct {
    bool used;
    uint8_t id[32];
    uint64_t height;
    uint64_t seen_ms;
    uint32_t fails;           /* requests to it that timed out or brought bad blocks */
    uint64_t ignore_until_ms; /* after max_fails fails: not asked until then */
    uint64_t replied_ms;      /* when our STATUS last answered it (it was behind) */
    bool replied;
} s_peer_t;

typedef struct {
    uint64_t height; /* 0: empty slot */
    uint8_t *block;
    size_t len;
    uint8_t *cert;
    size_t cert_len;
} s_fetched_t;

struct ledger_sync_t {
    uint8_t chain_id[LEDGER_CHAIN_ID_LEN];
    ledger_sync_io_t io;
    ledger_sync_params_t p;
    s_peer_t peers[LEDGER_SYNC_PEERS];
    bool active; /* a request in flight */
    uint8_t req_peer[32];
    uint64_t req_from, req_count;
    uint64_t progress_ms; /* when the request was sent or last brought a block */
    s_fetched_t fetched[LEDGER_SYNC_BATCH_MAX];
    uint64_t behind_since; /* 0: not behind */
    bool status_sent;
    uint64_t status_ms; /* when our last STATUS went out */
    bool news;          /* blocks applied since: the head moved without consensus */
    uint64_t serve_window_ms;
    uint32_t serve_count;
    ledger_sync_stats_t st;
};

void ledger_sync_params_default(ledger_sync_params_t *p)
{
    *p = (ledger_sync_params_t){.batch = 16,
                                .status_ms = 30000,
                                .status_min_ms = 5000,
                                .peer_ttl_ms = 90000,
                                .timeout_ms = 8000,
                                .lag_ms = 2500,
                                .serve_per_s = 16,
                                .max_fails = 3,
                                .ignore_ms = 60000,
                                .msg_max = 0};
}

ledger_sync_t *ledger_sync_new(const uint8_t chain_id[static LEDGER_CHAIN_ID_LEN],
                               const ledger_sync_io_t *io, const ledger_sync_params_t *params)
{
    if (!io || !io->head || !io->valset || !io->read || !io->identify || !io->apply || !io->send ||
        !io->broadcast)
        return NULL;
    ledger_sync_params_t p;
    if (params)
        p = *params;
    else
        ledger_sync_params_default(&p);
    if (p.batch == 0 || p.batch > LEDGER_SYNC_BATCH_MAX || p.max_fails == 0)
        return NULL;
    ledger_sync_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    memcpy(self->chain_id, chain_id, LEDGER_CHAIN_ID_LEN);
    self->io = *io;
    self->p = p;
    return self;
}

static void s_fetched_free(s_fetched_t *f)
{
    free(f->block);
    free(f->cert);
    memset(f, 0, sizeof *f);
}

static void s_clear(ledger_sync_t *self)
{
    for (size_t i = 0; i < LEDGER_SYNC_BATCH_MAX; i++)
        s_fetched_free(&self->fetched[i]);
}

void ledger_sync_destroy(ledger_sync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_clear(*self_p);
    free(*self_p);
    *self_p = NULL;
}

static void s_event_code(ledger_sync_t *self, ledger_sync_event_t ev, const uint8_t *peer,
                         uint64_t h, int code)
{
    if (self->io.event)
        self->io.event(self->io.ctx, ev, peer, h, code);
}

static void s_event(ledger_sync_t *self, ledger_sync_event_t ev, const uint8_t *peer, uint64_t h)
{
    s_event_code(self, ev, peer, h, 0);
}

static bool s_head(ledger_sync_t *self, uint64_t *height)
{
    uint8_t hash[32];
    return self->io.head(self->io.ctx, height, hash);
}

/* ---------------------------------------------------------------- peers */

static bool s_peer_usable(const ledger_sync_t *self, const s_peer_t *p, uint64_t now)
{
    return p->used && now - p->seen_ms <= self->p.peer_ttl_ms && now >= p->ignore_until_ms;
}

static s_peer_t *s_peer(ledger_sync_t *self, const uint8_t id[static 32])
{
    for (size_t i = 0; i < LEDGER_SYNC_PEERS; i++)
        if (self->peers[i].used && memcmp(self->peers[i].id, id, 32) == 0)
            return &self->peers[i];
    return NULL;
}

void ledger_sync_peer_seen(ledger_sync_t *self, const uint8_t from[static 32], uint64_t height,
                           uint64_t now_ms)
{
    if (height > LEDGER_HEIGHT_MAX)
        return;
    s_peer_t *slot = s_peer(self, from);
    if (!slot) {
        s_peer_t *oldest = &self->peers[0];
        for (size_t i = 0; i < LEDGER_SYNC_PEERS && !slot; i++) {
            if (!self->peers[i].used)
                slot = &self->peers[i];
            else if (self->peers[i].seen_ms < oldest->seen_ms)
                oldest = &self->peers[i];
        }
        if (!slot)
            slot = oldest;
        memset(slot, 0, sizeof *slot);
        slot->used = true;
        memcpy(slot->id, from, 32);
    }
    if (height > slot->height || now_ms - slot->seen_ms > self->p.peer_ttl_ms)
        slot->height = height;
    slot->seen_ms = now_ms;
}

uint64_t ledger_sync_best_height(const ledger_sync_t *self, uint64_t now_ms)
{
    uint64_t best = 0;
    for (size_t i = 0; i < LEDGER_SYNC_PEERS; i++) {
        const s_peer_t *p = &self->peers[i];
        if (s_peer_usable(self, p, now_ms) && p->height > best)
            best = p->height;
    }
    return best;
}

/*  The usable peer ahead of HEAD with the fewest failures (ties: the highest head). */
static s_peer_t *s_pick_peer(ledger_sync_t *self, uint64_t head, uint64_t now)
{
    s_peer_t *best = NULL;
    for (size_t i = 0; i < LEDGER_SYNC_PEERS; i++) {
        s_peer_t *p = &self->peers[i];
        if (!s_peer_usable(self, p, now) || p->height <= head)
            continue;
        if (!best || p->fails < best->fails ||
            (p->fails == best->fails && p->height > best->height))
            best = p;
    }
    return best;
}

/*  One failure of PEER (NULL: forgotten meanwhile); max_fails make it ignored. */
static void s_peer_fail(ledger_sync_t *self, s_peer_t *p, uint64_t now)
{
    if (!p || ++p->fails < self->p.max_fails)
        return;
    p->ignore_until_ms = now + self->p.ignore_ms;
    p->fails = 0;
    self->st.ignored_peers++;
    s_event(self, LEDGER_SYNC_EV_PEER_IGNORED, p->id, 0);
}

/*  The request failed: forget it and what it brought, count it against the peer. */
static void s_request_fail(ledger_sync_t *self, uint64_t now)
{
    s_peer_fail(self, s_peer(self, self->req_peer), now);
    self->active = false;
    s_clear(self);
}

/* ---------------------------------------------------------------- applying */

/*  Checks block BLOCK (LEN bytes) of HEIGHT = head + 1 with its certificate CERT and
 *  applies it. 0, or the event that failed with its reason in *CODE. */
static ledger_sync_event_t s_apply(ledger_sync_t *self, uint64_t height, const uint8_t *block,
                                   size_t len, const uint8_t *cert_bytes, size_t cert_len,
                                   int *code)
{
    uint8_t hash[32];
    ledger_cert_t cert;
    ledger_valset_t vs;
    *code = PROTO_E_INVALID;
    if (!self->io.identify(self->io.ctx, height, block, len, hash))
        return LEDGER_SYNC_EV_BAD_BLOCK;
    int rc = ledger_cert_decode(cert_bytes, cert_len, &cert);
    if (rc != PROTO_OK || cert.height != height) {
        *code = rc != PROTO_OK ? rc : PROTO_E_INVALID;
        return LEDGER_SYNC_EV_BAD_CERT;
    }
    if (!self->io.valset(self->io.ctx, &vs)) {
        *code = PROTO_E_IO;
        return LEDGER_SYNC_EV_APPLY_FAILED;
    }
    rc = ledger_cert_verify(&cert, &vs, self->chain_id, hash);
    if (rc != PROTO_OK) {
        *code = rc;
        return LEDGER_SYNC_EV_CERT_REFUSED;
    }
    rc = self->io.apply(self->io.ctx, height, block, len, cert_bytes, cert_len);
    if (rc != 0) {
        *code = rc < 0 ? rc : PROTO_E_FAILED;
        return LEDGER_SYNC_EV_APPLY_FAILED;
    }
    return 0;
}

/*  Applies buffered blocks while the next one is there. */
static void s_apply_ready(ledger_sync_t *self, uint64_t now)
{
    bool moved = false;
    uint64_t head = 0;
    while (self->active && s_head(self, &head)) {
        s_fetched_t *next = NULL;
        for (size_t i = 0; i < self->p.batch; i++) {
            s_fetched_t *f = &self->fetched[i];
            if (f->height && f->height <= head)
                s_fetched_free(f); /* the consensus core committed it meanwhile */
            else if (f->height == head + 1)
                next = f;
        }
        if (!next)
            break;
        uint64_t h = next->height;
        int code = 0;
        ledger_sync_event_t ev =
            s_apply(self, h, next->block, next->len, next->cert, next->cert_len, &code);
        if (ev) {
            if (ev == LEDGER_SYNC_EV_APPLY_FAILED)
                self->st.apply_failures++;
            else
                self->st.bad_blocks++;
            s_event_code(self, ev, self->req_peer, h, code);
            s_request_fail(self, now);
            break;
        }
        s_fetched_free(next);
        moved = true;
        self->news = true;
        self->st.synced++;
        s_event(self, LEDGER_SYNC_EV_APPLIED, self->req_peer, h);
        s_peer_t *p = s_peer(self, self->req_peer);
        if (p)
            p->fails = 0; /* it brought a good block */
    }
    if (self->active && s_head(self, &head) && head >= self->req_from + self->req_count - 1) {
        self->active = false;
        s_clear(self);
    }
    if (moved && s_head(self, &head))
        s_event(self, LEDGER_SYNC_EV_CAUGHT_UP, NULL, head);
}

/* ---------------------------------------------------------------- encoders */

static int s_take(proto_wr_t *w, uint8_t **out, size_t *out_len)
{
    *out = proto_wr_take(w, out_len);
    proto_wr_free(w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

int ledger_sync_status_encode(uint64_t height, const uint8_t hash[static 32], uint8_t **out,
                              size_t *out_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_uint(&w, height);
    proto_wr_bin(&w, hash, 32);
    return s_take(&w, out, out_len);
}

int ledger_sync_req_encode(uint64_t from, uint64_t count, uint8_t **out, size_t *out_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_uint(&w, PROTO_MSG_SYNC_REQ);
    proto_wr_uint(&w, from);
    proto_wr_uint(&w, count);
    return s_take(&w, out, out_len);
}

int ledger_sync_blocks_encode(uint64_t height, const uint8_t *block, size_t len,
                              const uint8_t *cert, size_t cert_len, uint8_t **out, size_t *out_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, PROTO_MSG_SYNC_BLOCKS);
    proto_wr_uint(&w, height);
    proto_wr_bin(&w, block, len);
    proto_wr_bin(&w, cert, cert_len);
    return s_take(&w, out, out_len);
}

/* ---------------------------------------------------------------- requests */

static void s_request(ledger_sync_t *self, s_peer_t *peer, uint64_t head, uint64_t now)
{
    uint64_t count = peer->height - head;
    if (count > self->p.batch)
        count = self->p.batch;
    uint8_t *msg = NULL;
    size_t len = 0;
    bool sent = ledger_sync_req_encode(head + 1, count, &msg, &len) == PROTO_OK &&
                self->io.send(self->io.ctx, peer->id, msg, len);
    free(msg);
    if (!sent) {
        s_event(self, LEDGER_SYNC_EV_SEND_FAILED, peer->id, head + 1);
        s_peer_fail(self, peer, now);
        return;
    }
    s_clear(self);
    self->active = true;
    memcpy(self->req_peer, peer->id, 32);
    self->req_from = head + 1;
    self->req_count = count;
    self->progress_ms = now;
    self->st.requests++;
    s_event(self, LEDGER_SYNC_EV_REQUESTED, peer->id, head + 1);
}

/* Our STATUS when due: the first tick, news (blocks applied since the last one; at most
   once per status_min_ms), or the heartbeat (status_ms). */
static void s_status_tick(ledger_sync_t *self, uint64_t now)
{
    uint64_t since = now - self->status_ms; /* a clock that went back: huge, so due */
    if (self->status_sent && since < self->p.status_ms &&
        !(self->news && since >= self->p.status_min_ms))
        return;
    uint64_t height = 0;
    uint8_t hash[32];
    if (!self->io.head(self->io.ctx, &height, hash))
        return;
    uint8_t *msg = NULL;
    size_t len = 0;
    if (ledger_sync_status_encode(height, hash, &msg, &len) != PROTO_OK)
        return;
    if (self->io.broadcast(self->io.ctx, msg, len)) {
        self->status_sent = true;
        self->status_ms = now;
        self->news = false;
    }
    free(msg);
}

/* Answers peer P's STATUS of HEIGHT with ours when P is behind (at most once per
   status_min_ms per peer). */
static void s_status_reply(ledger_sync_t *self, s_peer_t *p, uint64_t height, uint64_t now)
{
    uint64_t head = 0;
    uint8_t hash[32];
    if (!self->io.reply || (p->replied && now - p->replied_ms < self->p.status_min_ms) ||
        !self->io.head(self->io.ctx, &head, hash) || height >= head)
        return;
    uint8_t *msg = NULL;
    size_t len = 0;
    if (ledger_sync_status_encode(head, hash, &msg, &len) != PROTO_OK)
        return;
    if (self->io.reply(self->io.ctx, p->id, msg, len)) {
        p->replied = true;
        p->replied_ms = now;
    }
    free(msg);
}

void ledger_sync_tick(ledger_sync_t *self, uint64_t now_ms)
{
    s_status_tick(self, now_ms);
    uint64_t head = 0;
    if (!s_head(self, &head))
        return;
    if (self->active && now_ms - self->progress_ms > self->p.timeout_ms) {
        self->st.timeouts++;
        s_event(self, LEDGER_SYNC_EV_TIMEOUT, self->req_peer, self->req_from);
        s_request_fail(self, now_ms);
    }
    uint64_t best = ledger_sync_best_height(self, now_ms);
    if (best <= head) {
        self->behind_since = 0;
        return;
    }
    if (!self->behind_since)
        self->behind_since = now_ms ? now_ms : 1;
    if (self->active)
        return;
    if (best < head + 2 && now_ms - self->behind_since < self->p.lag_ms)
        return;
    s_peer_t *peer = s_pick_peer(self, head, now_ms);
    if (peer)
        s_request(self, peer, head, now_ms);
}

bool ledger_sync_busy(const ledger_sync_t *self)
{
    return self->active;
}

void ledger_sync_stats(const ledger_sync_t *self, ledger_sync_stats_t *out)
{
    *out = self->st;
}

/* ---------------------------------------------------------------- incoming */

int ledger_sync_on_status(ledger_sync_t *self, const uint8_t from[static 32], const uint8_t *data,
                          size_t len, uint64_t now_ms)
{
    proto_rd_t r;
    uint64_t height = 0;
    uint8_t hash[32];
    proto_rd_init(&r, data, len);
    int rc = proto_rd_array_exact(&r, 2);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &height);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, 32, hash);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    if (rc != PROTO_OK) {
        self->st.malformed++;
        s_event_code(self, LEDGER_SYNC_EV_MALFORMED, from, 0, rc);
        return rc;
    }
    ledger_sync_peer_seen(self, from, height, now_ms);
    s_peer_t *p = s_peer(self, from);
    if (p)
        s_status_reply(self, p, height, now_ms);
    return PROTO_OK;
}

/*  Answers a SYNC_REQ [type, from, count] (the type already read) from FROM. */
static int s_serve(ledger_sync_t *self, const uint8_t from[static 32], proto_rd_t *r, uint64_t now)
{
    uint64_t first = 0, count = 0;
    int rc = proto_rd_uint(r, LEDGER_HEIGHT_MAX, &first);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, self->p.batch, &count);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(r);
    if (rc == PROTO_OK && (first == 0 || count == 0))
        rc = PROTO_E_RANGE;
    if (rc != PROTO_OK) {
        self->st.malformed++;
        s_event_code(self, LEDGER_SYNC_EV_MALFORMED, from, 0, rc);
        return rc;
    }
    if (now - self->serve_window_ms >= 1000 || now < self->serve_window_ms) {
        self->serve_window_ms = now;
        self->serve_count = 0;
    }
    if (++self->serve_count > self->p.serve_per_s) {
        self->st.refused++;
        s_event(self, LEDGER_SYNC_EV_SERVE_REFUSED, from, first);
        return PROTO_OK;
    }
    uint64_t head = 0;
    if (!s_head(self, &head))
        return PROTO_OK;
    for (uint64_t h = first; h <= head && h < first + count; h++) {
        uint8_t *block = NULL, *cert = NULL, *msg = NULL;
        size_t blen = 0, clen = 0, len = 0;
        bool ok = self->io.read(self->io.ctx, h, &block, &blen, &cert, &clen) &&
                  ledger_sync_blocks_encode(h, block, blen, cert, clen, &msg, &len) == PROTO_OK &&
                  (self->p.msg_max == 0 || len <= self->p.msg_max) &&
                  self->io.send(self->io.ctx, from, msg, len);
        free(block);
        free(cert);
        free(msg);
        if (!ok) {
            s_event(self, LEDGER_SYNC_EV_SERVE_FAILED, from, h);
            return PROTO_OK;
        }
        self->st.served++;
        s_event(self, LEDGER_SYNC_EV_SERVED, from, h);
    }
    return PROTO_OK;
}

/*  Takes a SYNC_BLOCKS [type, height, block, cert] (the type already read) from FROM. */
static int s_on_blocks(ledger_sync_t *self, const uint8_t from[static 32], proto_rd_t *r,
                       uint64_t now)
{
    uint64_t height = 0;
    const uint8_t *block = NULL, *cert = NULL;
    size_t blen = 0, clen = 0;
    int rc = proto_rd_uint(r, LEDGER_HEIGHT_MAX, &height);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(r, LEDGER_BLOCK_MAX_BYTES, &block, &blen);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(r, LEDGER_CERT_MAX, &cert, &clen);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(r);
    if (rc == PROTO_OK && (clen == 0 || height == 0))
        rc = PROTO_E_RANGE;
    bool asked = self->active && memcmp(from, self->req_peer, 32) == 0;
    if (rc != PROTO_OK) {
        self->st.malformed++;
        if (asked) { /* the peer we asked: no need to wait for the timeout */
            self->st.bad_blocks++;
            s_event_code(self, LEDGER_SYNC_EV_BAD_ANSWER, from, height, rc);
            s_request_fail(self, now);
        } else {
            s_event_code(self, LEDGER_SYNC_EV_MALFORMED, from, height, rc);
        }
        return rc;
    }
    if (!asked || height < self->req_from || height >= self->req_from + self->req_count) {
        self->st.unasked++; /* late, or from someone else: dropped, no penalty */
        s_event(self, LEDGER_SYNC_EV_UNASKED, from, height);
        return PROTO_OK;
    }
    uint64_t head = 0;
    if (!s_head(self, &head) || height <= head)
        return PROTO_OK;
    s_fetched_t *slot = &self->fetched[(height - self->req_from) % self->p.batch];
    if (slot->height == height)
        return PROTO_OK; /* duplicate */
    s_fetched_free(slot);
    slot->block = malloc(blen ? blen : 1);
    slot->cert = malloc(clen);
    if (!slot->block || !slot->cert) {
        s_fetched_free(slot);
        return PROTO_E_NOMEM;
    }
    if (blen)
        memcpy(slot->block, block, blen);
    memcpy(slot->cert, cert, clen);
    slot->len = blen;
    slot->cert_len = clen;
    slot->height = height;
    self->progress_ms = now;
    s_apply_ready(self, now);
    return PROTO_OK;
}

ledger_sync_msg_t ledger_sync_unicast_kind(const uint8_t *data, size_t len)
{
    proto_rd_t r;
    uint32_t n = 0;
    uint64_t type = 0;
    proto_rd_init(&r, data, len);
    if (proto_rd_array_max(&r, 4, &n) != PROTO_OK || n < 3 ||
        proto_rd_uint(&r, UINT32_MAX, &type) != PROTO_OK)
        return LEDGER_SYNC_MSG_NONE;
    if (type == PROTO_MSG_SYNC_REQ && n == 3)
        return LEDGER_SYNC_MSG_REQ;
    if (type == PROTO_MSG_SYNC_BLOCKS && n == 4)
        return LEDGER_SYNC_MSG_BLOCKS;
    return LEDGER_SYNC_MSG_NONE;
}

int ledger_sync_on_unicast(ledger_sync_t *self, const uint8_t from[static 32], const uint8_t *data,
                           size_t len, uint64_t now_ms)
{
    proto_rd_t r;
    uint32_t n = 0;
    uint64_t type = 0;
    proto_rd_init(&r, data, len);
    int rc = proto_rd_array_max(&r, 4, &n);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT32_MAX, &type);
    if (rc == PROTO_OK && type == PROTO_MSG_SYNC_REQ && n == 3)
        return s_serve(self, from, &r, now_ms);
    if (rc == PROTO_OK && type == PROTO_MSG_SYNC_BLOCKS && n == 4)
        return s_on_blocks(self, from, &r, now_ms);
    rc = rc != PROTO_OK ? rc : PROTO_E_UNKNOWN_TYPE;
    self->st.malformed++;
    s_event_code(self, LEDGER_SYNC_EV_MALFORMED, from, 0, rc);
    return rc;
}

/* ---------------------------------------------------------------- decided blocks */

int ledger_sync_decided_encode(uint64_t height, const uint8_t *block, size_t len,
                               const uint8_t *cert, size_t cert_len, uint8_t **out, size_t *out_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_uint(&w, height);
    proto_wr_bin(&w, block, len);
    proto_wr_bin(&w, cert, cert_len);
    return s_take(&w, out, out_len);
}

int ledger_sync_decided_read(const uint8_t *data, size_t len, ledger_sync_decided_msg_t *out)
{
    proto_rd_t r;
    memset(out, 0, sizeof *out);
    proto_rd_init(&r, data, len);
    int rc = proto_rd_array_exact(&r, 3);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &out->height);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, LEDGER_BLOCK_MAX_BYTES, &out->block, &out->len);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, LEDGER_CERT_MAX, &out->cert, &out->cert_len);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    if (rc == PROTO_OK && (out->height == 0 || out->len == 0 || out->cert_len == 0))
        rc = PROTO_E_RANGE;
    if (rc != PROTO_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/*  A DECIDED beyond head + 1: believed (FROM recorded at its height, so the sync asks
 *  FROM) only if its certificate is a quorum of the set we know for its hash. */
static int s_decided_ahead(ledger_sync_t *self, const uint8_t from[static 32],
                           const ledger_sync_decided_msg_t *m, uint64_t now)
{
    uint8_t hash[32];
    ledger_cert_t cert;
    ledger_valset_t vs;
    ledger_sync_event_t ev = LEDGER_SYNC_EV_BAD_BLOCK;
    int rc = PROTO_E_INVALID;
    if (!self->io.identify(self->io.ctx, m->height, m->block, m->len, hash))
        goto refused;
    ev = LEDGER_SYNC_EV_BAD_CERT;
    rc = ledger_cert_decode(m->cert, m->cert_len, &cert);
    if (rc == PROTO_OK && cert.height != m->height)
        rc = PROTO_E_INVALID;
    if (rc != PROTO_OK)
        goto refused;
    if (!self->io.valset(self->io.ctx, &vs))
        return PROTO_E_IO;
    ev = LEDGER_SYNC_EV_CERT_REFUSED;
    rc = ledger_cert_verify(&cert, &vs, self->chain_id, hash);
    if (rc != PROTO_OK)
        goto refused;
    ledger_sync_peer_seen(self, from, m->height, now);
    self->st.decided_ahead++;
    return PROTO_OK;
refused:
    self->st.decided_refused++;
    s_event_code(self, ev, from, m->height, rc);
    return rc;
}

int ledger_sync_on_decided(ledger_sync_t *self, const uint8_t from[static 32], const uint8_t *data,
                           size_t len, uint64_t now_ms, ledger_sync_decided_t *what)
{
    ledger_sync_decided_msg_t m;
    *what = LEDGER_SYNC_DECIDED_REFUSED;
    int rc = ledger_sync_decided_read(data, len, &m);
    if (rc != PROTO_OK) {
        self->st.malformed++;
        self->st.decided_refused++;
        s_event_code(self, LEDGER_SYNC_EV_MALFORMED, from, 0, rc);
        return rc;
    }
    uint64_t head = 0;
    if (!s_head(self, &head))
        return PROTO_E_IO;
    if (m.height <= head) { /* a copy, or news we had: the cheap drop */
        self->st.decided_old++;
        *what = LEDGER_SYNC_DECIDED_OLD;
        return PROTO_OK;
    }
    if (m.height > head + 1) {
        rc = s_decided_ahead(self, from, &m, now_ms);
        if (rc == PROTO_OK)
            *what = LEDGER_SYNC_DECIDED_AHEAD;
        return rc;
    }
    int code = 0;
    ledger_sync_event_t ev = s_apply(self, m.height, m.block, m.len, m.cert, m.cert_len, &code);
    if (ev) {
        self->st.decided_refused++;
        if (ev == LEDGER_SYNC_EV_APPLY_FAILED)
            self->st.apply_failures++;
        else
            self->st.bad_blocks++;
        s_event_code(self, ev, from, m.height, code);
        return code;
    }
    self->st.decided_applied++;
    s_event(self, LEDGER_SYNC_EV_APPLIED, from, m.height);
    *what = LEDGER_SYNC_DECIDED_APPLIED;
    if (self->active) /* drops what the request buffered up to here, ends it if complete */
        s_apply_ready(self, now_ms);
    return PROTO_OK;
}
