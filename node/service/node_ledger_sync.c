/*  node_ledger_sync: STATUS gossip and block sync of the node's ledger (see node_ledger.h
 *  for the messages).
 *
 *  Every node broadcasts STATUS [height, head hash] every NL_STATUS_MS; proposals and votes
 *  of height h also say their origin has committed h - 1. A node whose head is behind a
 *  peer's by two blocks or more (or by one for NL_SYNC_LAG_MS, which the consensus core
 *  alone would have closed) asks that peer, by unicast, for up to NL_SYNC_BATCH blocks
 *  from head + 1. The peer answers with one unicast per block: [SYNC_BLOCKS, height,
 *  block, certificate]. Answers are buffered by height (at most NL_SYNC_BATCH, each at
 *  most P2P_PAYLOAD_MAX) and applied in height order: decode, the certificate verified
 *  against the authority set after the previous block (ledger_cert_verify), executed
 *  (ledger_block_execute; txs the mempool holds were verified on admission), committed (ledger_store_commit). Then consensus
 *  starts at the new head + 1.
 *
 *  Bounds: one request in flight; no progress for NL_SYNC_TIMEOUT_MS, or a block that
 *  fails, counts against the peer and the next request goes to the peer with the fewest
 *  failures; blocks are accepted only from the peer asked and only for heights of the
 *  request; a node serves at most NL_SERVE_PER_S requests per second. Nothing a peer sends
 *  is applied without a valid certificate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_vote.h"
#include "node/service/node_ledger_int.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

/* ---------------------------------------------------------------- peers */

void nl_sync_peer_seen(node_ledger_t *self, const uint8_t from[static 32], uint64_t height)
{
    if (height > LEDGER_HEIGHT_MAX)
        return;
    uint64_t now = nl_now();
    nl_peer_t *slot = NULL, *oldest = &self->peers[0];
    for (size_t i = 0; i < NL_PEERS_MAX; i++) {
        nl_peer_t *p = &self->peers[i];
        if (p->used && memcmp(p->id, from, 32) == 0) {
            slot = p;
            break;
        }
        if (!p->used && (!slot || slot->used))
            slot = p;
        if (p->seen_ms < oldest->seen_ms)
            oldest = p;
    }
    if (!slot) {
        slot = oldest;
        slot->used = false;
    }
    if (!slot->used) {
        memset(slot, 0, sizeof *slot);
        slot->used = true;
        memcpy(slot->id, from, 32);
    }
    if (height > slot->height || now - slot->seen_ms > NL_PEER_TTL_MS)
        slot->height = height;
    slot->seen_ms = now;
}

/*  True if P's head is worth acting on: recent, and P has not failed us lately. */
static bool s_peer_usable(const nl_peer_t *p, uint64_t now)
{
    return p->used && now - p->seen_ms <= NL_PEER_TTL_MS && now >= p->ignore_until_ms;
}

/*  The highest head a usable peer reported. */
static uint64_t s_best_height(const node_ledger_t *self, uint64_t now)
{
    uint64_t best = 0;
    for (size_t i = 0; i < NL_PEERS_MAX; i++) {
        const nl_peer_t *p = &self->peers[i];
        if (s_peer_usable(p, now) && p->height > best)
            best = p->height;
    }
    return best;
}

/*  The recent peer ahead of HEAD with the fewest failures (ties: the highest head). */
static nl_peer_t *s_pick_peer(node_ledger_t *self, uint64_t head, uint64_t now)
{
    nl_peer_t *best = NULL;
    for (size_t i = 0; i < NL_PEERS_MAX; i++) {
        nl_peer_t *p = &self->peers[i];
        if (!s_peer_usable(p, now) || p->height <= head)
            continue;
        if (!best || p->fails < best->fails ||
            (p->fails == best->fails && p->height > best->height))
            best = p;
    }
    return best;
}

static nl_peer_t *s_peer(node_ledger_t *self, const uint8_t id[static 32])
{
    for (size_t i = 0; i < NL_PEERS_MAX; i++)
        if (self->peers[i].used && memcmp(self->peers[i].id, id, 32) == 0)
            return &self->peers[i];
    return NULL;
}

/* ---------------------------------------------------------------- buffered blocks */

static void s_fetched_free(nl_fetched_t *f)
{
    free(f->block);
    free(f->cert);
    memset(f, 0, sizeof *f);
}

void nl_sync_clear(node_ledger_t *self)
{
    for (size_t i = 0; i < NL_SYNC_BATCH; i++)
        s_fetched_free(&self->fetched[i]);
}

/*  The request failed: forget it and what it brought, count it against the peer. */
static void s_request_fail(node_ledger_t *self, const char *why)
{
    nl_peer_t *p = s_peer(self, self->req.peer);
    char hex[65];
    proto_hex_encode(self->req.peer, 32, hex);
    GLOG(DEBUG, LEDGER, "sync from %.16s failed: %s", hex, why);
    if (p && ++p->fails >= NL_PEER_MAX_FAILS) {
        GLOG(INFO, LEDGER, "sync: ignoring %.16s for %d s (%u failed requests)", hex,
             NL_PEER_IGNORE_MS / 1000, p->fails);
        p->ignore_until_ms = nl_now() + NL_PEER_IGNORE_MS;
        p->fails = 0;
    }
    self->req.active = false;
    nl_sync_clear(self);
}

/* ---------------------------------------------------------------- applying */

/*  Verifies and commits one fetched block at head + 1. 0, or -1 (logged). */
static int s_apply(node_ledger_t *self, const nl_fetched_t *f)
{
    ledger_block_t *b = NULL;
    ledger_cert_t cert;
    ledger_valset_t vs;
    ledger_state_t *state = NULL;
    ledger_reject_t why = {0, NULL, -1};
    int rc = -1;
    if (ledger_block_decode(f->block, f->len, &b) != PROTO_OK) {
        GLOG(DEBUG, LEDGER, "synced block %" PRIu64 ": malformed", f->height);
        goto out;
    }
    if (ledger_block_header(b)->height != f->height) {
        GLOG(DEBUG, LEDGER, "synced block %" PRIu64 ": header says another height", f->height);
        goto out;
    }
    if (ledger_cert_decode(f->cert, f->cert_len, &cert) != PROTO_OK || cert.height != f->height) {
        GLOG(DEBUG, LEDGER, "synced block %" PRIu64 ": malformed certificate", f->height);
        goto out;
    }
    if (nl_valset(self, &vs) != 0) {
        GLOG(ERROR, LEDGER, "cannot read the authority set");
        goto out;
    }
    int vrc = ledger_cert_verify(&cert, &vs, self->chain_id, ledger_block_hash(b));
    if (vrc != PROTO_OK) {
        GLOG(DEBUG, LEDGER, /* a peer can trigger this in bulk: not above DEBUG */
             "synced block %" PRIu64 " has a bad certificate (%s): not applied", f->height,
             proto_err_str(vrc));
        goto out;
    }
    int erc = ledger_block_execute(self->store, f->block, f->len, self->pool, 0, &state, &why);
    if (erc != LEDGER_OK) {
        GLOG(WARN, LEDGER, "certified block %" PRIu64 " does not execute: %s (%s)", f->height,
             ledger_err_str(erc), why.why ? why.why : "-");
        goto out;
    }
    erc = ledger_store_commit(self->store, f->block, f->len, f->cert, f->cert_len, state);
    if (erc != LEDGER_OK) {
        GLOG(ERROR, LEDGER, "cannot commit synced block %" PRIu64 ": %s", f->height,
             ledger_err_str(erc));
        goto out;
    }
    nl_after_commit(self, f->block, f->len);
    self->st.blocks_synced++;
    char hex[65];
    proto_hex_encode(ledger_block_hash(b), 32, hex);
    GLOG(INFO, LEDGER, "synced block %" PRIu64 " %.16s", f->height, hex);
    rc = 0;
out:
    ledger_state_destroy(&state);
    ledger_block_destroy(&b);
    return rc;
}

/*  Applies buffered blocks while the next one is there. */
static void s_apply_ready(node_ledger_t *self)
{
    bool moved = false;
    for (;;) {
        ledger_head_t head = nl_head(self);
        nl_fetched_t *next = NULL;
        for (size_t i = 0; i < NL_SYNC_BATCH; i++) {
            nl_fetched_t *f = &self->fetched[i];
            if (f->height && f->height <= head.height)
                s_fetched_free(f); /* the core committed it meanwhile */
            else if (f->height == head.height + 1)
                next = f;
        }
        if (!next)
            break;
        if (s_apply(self, next) != 0) {
            self->st.sync_bad_blocks++;
            s_request_fail(self, "a block did not verify");
            break;
        }
        s_fetched_free(next);
        moved = true;
        nl_peer_t *p = s_peer(self, self->req.peer);
        if (p)
            p->fails = 0; /* it brought a good block */
    }
    if (self->req.active && nl_head(self).height >= self->req.from + self->req.count - 1) {
        self->req.active = false;
        nl_sync_clear(self);
    }
    if (moved)
        nl_start_next(self, "synced");
}

/* ---------------------------------------------------------------- requests */

static void s_request(node_ledger_t *self, nl_peer_t *peer, uint64_t head, uint64_t now)
{
    p2p_node_t *p2p = node_app_p2p(self->app);
    if (!p2p)
        return;
    uint64_t count = peer->height - head;
    if (count > NL_SYNC_BATCH)
        count = NL_SYNC_BATCH;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_uint(&w, PROTO_MSG_SYNC_REQ);
    proto_wr_uint(&w, head + 1);
    proto_wr_uint(&w, count);
    size_t len = 0;
    const uint8_t *data = proto_wr_data(&w, &len);
    char why[128] = "";
    uint64_t id = data ? p2p_node_send(p2p, peer->id, PROTO_MSG_SYNC_REQ, data, len, why, sizeof why) : 0;
    proto_wr_free(&w);
    char hex[65];
    proto_hex_encode(peer->id, 32, hex);
    if (!id) {
        GLOG(DEBUG, LEDGER, "cannot ask %.16s for blocks: %s", hex, why);
        if (++peer->fails >= NL_PEER_MAX_FAILS) {
            peer->ignore_until_ms = now + NL_PEER_IGNORE_MS;
            peer->fails = 0;
        }
        return;
    }
    nl_sync_clear(self);
    self->req.active = true;
    memcpy(self->req.peer, peer->id, 32);
    self->req.from = head + 1;
    self->req.count = count;
    self->req.progress_ms = now;
    self->st.sync_requests++;
    GLOG(INFO, LEDGER, "syncing blocks %" PRIu64 "..%" PRIu64 " from %.16s (its head %" PRIu64 ")",
         head + 1, head + count, hex, peer->height);
}

static void s_status_send(node_ledger_t *self, uint64_t now)
{
    p2p_node_t *p2p = node_app_p2p(self->app);
    if (!p2p)
        return;
    ledger_head_t head = nl_head(self);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_uint(&w, head.height);
    proto_wr_bin(&w, head.hash, 32);
    size_t len = 0;
    const uint8_t *data = proto_wr_data(&w, &len);
    if (data && p2p_node_broadcast(p2p, PROTO_MSG_STATUS, data, len) == 0)
        self->last_status_ms = now;
    proto_wr_free(&w);
}

void nl_sync_tick(node_ledger_t *self, uint64_t now)
{
    if (now - self->last_status_ms >= NL_STATUS_MS)
        s_status_send(self, now);
    uint64_t head = nl_head(self).height;
    if (self->req.active && now - self->req.progress_ms > NL_SYNC_TIMEOUT_MS) {
        self->st.sync_timeouts++;
        s_request_fail(self, "timed out");
    }
    uint64_t best = s_best_height(self, now);
    if (best <= head) {
        self->behind_since = 0;
        return;
    }
    if (!self->behind_since)
        self->behind_since = now;
    if (self->req.active)
        return;
    if (best < head + 2 && now - self->behind_since < NL_SYNC_LAG_MS)
        return;
    nl_peer_t *peer = s_pick_peer(self, head, now);
    if (peer)
        s_request(self, peer, head, now);
}

/* ---------------------------------------------------------------- incoming */

void nl_sync_on_status(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                       size_t len)
{
    proto_rd_t r;
    uint64_t height = 0;
    uint8_t hash[32];
    proto_rd_init(&r, data, len);
    if (proto_rd_array_exact(&r, 2) != PROTO_OK ||
        proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &height) != PROTO_OK ||
        proto_rd_bin_exact(&r, 32, hash) != PROTO_OK || proto_rd_finish(&r) != PROTO_OK) {
        GLOG(DEBUG, LEDGER, "malformed status (%zu bytes)", len);
        return;
    }
    nl_sync_peer_seen(self, from, height);
}

/*  Answers a SYNC_REQ [type, from, count] (the type already read) from node FROM. */
static void s_serve(node_ledger_t *self, const uint8_t from[static 32], proto_rd_t *r)
{
    uint64_t first = 0, count = 0;
    if (proto_rd_uint(r, LEDGER_HEIGHT_MAX, &first) != PROTO_OK ||
        proto_rd_uint(r, NL_SYNC_BATCH, &count) != PROTO_OK || proto_rd_finish(r) != PROTO_OK ||
        first == 0 || count == 0) {
        GLOG(DEBUG, LEDGER, "malformed sync request");
        return;
    }
    uint64_t now = nl_now();
    if (now - self->serve_window_ms >= 1000) {
        self->serve_window_ms = now;
        self->serve_count = 0;
    }
    if (++self->serve_count > NL_SERVE_PER_S) {
        self->st.sync_refused++;
        GLOG(DEBUG, LEDGER, "sync request refused: too many this second");
        return;
    }
    p2p_node_t *p2p = node_app_p2p(self->app);
    uint64_t head = nl_head(self).height;
    for (uint64_t h = first; p2p && h <= head && h < first + count; h++) {
        uint8_t *block = NULL, *cert = NULL;
        size_t blen = 0, clen = 0;
        if (ledger_store_block(self->store, h, &block, &blen) != LEDGER_OK ||
            ledger_store_cert(self->store, h, &cert, &clen) != LEDGER_OK) {
            free(block);
            GLOG(WARN, LEDGER, "cannot read block %" PRIu64 " to serve it", h);
            return;
        }
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_array(&w, 4);
        proto_wr_uint(&w, PROTO_MSG_SYNC_BLOCKS);
        proto_wr_uint(&w, h);
        proto_wr_bin(&w, block, blen);
        proto_wr_bin(&w, cert, clen);
        free(block);
        free(cert);
        size_t len = 0;
        const uint8_t *data = proto_wr_data(&w, &len);
        char why[128] = "";
        uint64_t id = 0;
        if (data && len <= P2P_PAYLOAD_MAX)
            id = p2p_node_send(p2p, from, PROTO_MSG_SYNC_BLOCKS, data, len, why, sizeof why);
        else
            snprintf(why, sizeof why, "block of %zu bytes does not fit a unicast", blen);
        proto_wr_free(&w);
        if (!id) {
            GLOG(WARN, LEDGER, "cannot send block %" PRIu64 " to a syncing peer: %s", h, why);
            return;
        }
        self->st.sync_served++;
    }
}

/*  Takes a SYNC_BLOCKS [type, height, block, cert] (the type already read) from FROM. */
static void s_on_blocks(node_ledger_t *self, const uint8_t from[static 32], proto_rd_t *r)
{
    uint64_t height = 0;
    const uint8_t *block = NULL, *cert = NULL;
    size_t blen = 0, clen = 0;
    if (proto_rd_uint(r, LEDGER_HEIGHT_MAX, &height) != PROTO_OK ||
        proto_rd_bin(r, LEDGER_BLOCK_MAX_BYTES, &block, &blen) != PROTO_OK ||
        proto_rd_bin(r, LEDGER_CERT_MAX, &cert, &clen) != PROTO_OK ||
        proto_rd_finish(r) != PROTO_OK || clen == 0) {
        GLOG(DEBUG, LEDGER, "malformed sync answer");
        if (self->req.active && memcmp(from, self->req.peer, 32) == 0) {
            self->st.sync_bad_blocks++; /* the peer we asked: no need to wait for the timeout */
            s_request_fail(self, "a malformed answer");
        }
        return;
    }
    if (!self->req.active || memcmp(from, self->req.peer, 32) != 0 || height < self->req.from ||
        height >= self->req.from + self->req.count)
        return; /* not asked for (late, or from someone else) */
    if (height <= nl_head(self).height)
        return;
    nl_fetched_t *slot = &self->fetched[(height - self->req.from) % NL_SYNC_BATCH];
    if (slot->height == height)
        return; /* duplicate */
    s_fetched_free(slot);
    slot->block = malloc(blen);
    slot->cert = malloc(clen);
    if (!slot->block || !slot->cert) {
        s_fetched_free(slot);
        return;
    }
    memcpy(slot->block, block, blen);
    memcpy(slot->cert, cert, clen);
    slot->len = blen;
    slot->cert_len = clen;
    slot->height = height;
    self->req.progress_ms = nl_now();
    s_apply_ready(self);
}

void nl_sync_on_unicast(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                        size_t len)
{
    proto_rd_t r;
    uint32_t n = 0;
    uint64_t type = 0;
    proto_rd_init(&r, data, len);
    if (proto_rd_array_max(&r, 4, &n) != PROTO_OK ||
        proto_rd_uint(&r, UINT32_MAX, &type) != PROTO_OK) {
        GLOG(DEBUG, LEDGER, "malformed ledger unicast");
        return;
    }
    if (type == PROTO_MSG_SYNC_REQ && n == 3)
        s_serve(self, from, &r);
    else if (type == PROTO_MSG_SYNC_BLOCKS && n == 4)
        s_on_blocks(self, from, &r);
    else
        GLOG(DEBUG, LEDGER, "unexpected ledger unicast (type %" PRIu64 ", %u fields)", type, n);
}
