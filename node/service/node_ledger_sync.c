/*  node_ledger_sync: the node's shell around the sans-IO sync core (see
 *  node_ledger_sync.h and ledger/ledger_sync.h).
 */
#include "node/service/node_ledger_sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

struct node_ledger_sync_t {
    ledger_sync_t *core;
    ledger_store_t *store;
    ledger_mempool_t *pool;
    node_ledger_sync_deps_t deps;
    node_ledger_sync_stats_t st;
    bool decided; /* the block being applied came in a DECIDED (not a sync answer) */
};

/* ---------------------------------------------------------------- the core's io */

static bool s_io_head(void *ctx, uint64_t *height, uint8_t hash[static 32])
{
    node_ledger_sync_t *self = ctx;
    ledger_head_t h;
    if (ledger_store_head(self->store, &h) != LEDGER_OK) {
        GLOG(ERROR, LEDGER, "cannot read the ledger head");
        return false;
    }
    *height = h.height;
    memcpy(hash, h.hash, 32);
    return true;
}

static bool s_io_valset(void *ctx, ledger_valset_t *vs)
{
    node_ledger_sync_t *self = ctx;
    uint8_t keys[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n = 0;
    memset(vs, 0, sizeof *vs);
    if (ledger_store_authorities(self->store, keys, &n) == LEDGER_OK && n > 0) {
        size_t i = 0;
        while (i < n && ledger_valset_add(vs, keys[i]) == 0)
            i++;
        if (i == n)
            return true;
    }
    GLOG(ERROR, LEDGER, "cannot read the authority set");
    return false;
}

static bool s_io_read(void *ctx, uint64_t height, uint8_t **block, size_t *len, uint8_t **cert,
                      size_t *cert_len)
{
    node_ledger_sync_t *self = ctx;
    if (ledger_store_block(self->store, height, block, len) != LEDGER_OK)
        return false;
    if (ledger_store_cert(self->store, height, cert, cert_len) != LEDGER_OK) {
        free(*block);
        *block = NULL;
        return false;
    }
    return true;
}

static bool s_io_identify(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                          uint8_t out[static 32])
{
    (void)ctx;
    ledger_block_t *b = NULL;
    if (ledger_block_decode(block, len, &b) != PROTO_OK) {
        GLOG(DEBUG, LEDGER, "synced block %" PRIu64 ": malformed", height);
        return false;
    }
    bool ok = ledger_block_header(b)->height == height;
    if (ok)
        memcpy(out, ledger_block_hash(b), 32);
    else
        GLOG(DEBUG, LEDGER, "synced block %" PRIu64 ": header says another height", height);
    ledger_block_destroy(&b);
    return ok;
}

static int s_io_apply(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                      const uint8_t *cert, size_t cert_len)
{
    node_ledger_sync_t *self = ctx;
    ledger_state_t *state = NULL;
    char why[LEDGER_ERR_MAX] = "";
    int rc =
        ledger_block_execute(self->store, block, len, self->pool, 0, &state, NULL, why, sizeof why);
    if (rc != LEDGER_OK) {
        GLOG(WARN, LEDGER, "certified block %" PRIu64 " does not execute: %s (%s)", height,
             proto_err_str(rc), why);
        goto out;
    }
    rc = ledger_store_commit(self->store, block, len, cert, cert_len, state);
    if (rc != LEDGER_OK) {
        GLOG(ERROR, LEDGER, "cannot commit synced block %" PRIu64 ": %s", height,
             proto_err_str(rc));
        goto out;
    }
    if (self->deps.committed)
        self->deps.committed(self->deps.ctx, block, len);
    if (self->decided)
        self->st.blocks_decided++;
    else
        self->st.blocks_synced++;
    char hex[65];
    uint8_t hash[32];
    if (s_io_identify(ctx, height, block, len, hash)) {
        proto_hex_encode(hash, 32, hex);
        GLOG(INFO, LEDGER, "%s block %" PRIu64 " %.16s", self->decided ? "decided" : "synced",
             height, hex);
    }
out:
    ledger_state_destroy(&state);
    return rc;
}

static bool s_io_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    node_ledger_sync_t *self = ctx;
    return len <= P2P_PAYLOAD_MAX && self->deps.send(self->deps.ctx, peer, data, len);
}

static bool s_io_broadcast(void *ctx, const uint8_t *data, size_t len)
{
    node_ledger_sync_t *self = ctx;
    return self->deps.send_linked(self->deps.ctx, PROTO_MSG_STATUS, data, len);
}

static bool s_io_reply(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    node_ledger_sync_t *self = ctx;
    return self->deps.send_to(self->deps.ctx, peer, PROTO_MSG_STATUS, data, len);
}

static void s_io_event(void *ctx, ledger_sync_event_t ev, const uint8_t *peer, uint64_t height,
                       int code)
{
    node_ledger_sync_t *self = ctx;
    char hex[65] = "-";
    if (peer)
        proto_hex_encode(peer, 32, hex);
    switch (ev) {
    case LEDGER_SYNC_EV_REQUESTED:
        self->st.requests++;
        GLOG(INFO, LEDGER, "syncing blocks from %" PRIu64 " from %.16s", height, hex);
        break;
    case LEDGER_SYNC_EV_CAUGHT_UP:
        if (self->deps.caught_up)
            self->deps.caught_up(self->deps.ctx);
        break;
    case LEDGER_SYNC_EV_BAD_BLOCK: /* (identify logged why) */
        self->st.bad_blocks++;
        break;
    case LEDGER_SYNC_EV_BAD_CERT:
        self->st.bad_blocks++;
        GLOG(DEBUG, LEDGER, "synced block %" PRIu64 ": malformed certificate", height);
        break;
    case LEDGER_SYNC_EV_CERT_REFUSED:
        self->st.bad_blocks++;
        GLOG(DEBUG, LEDGER, /* a peer can trigger this in bulk: not above DEBUG */
             "synced block %" PRIu64 " has a bad certificate (%s): not applied", height,
             proto_err_str(code));
        break;
    case LEDGER_SYNC_EV_BAD_ANSWER:
        self->st.bad_blocks++;
        GLOG(DEBUG, LEDGER, "malformed sync answer from %.16s (%s)", hex, proto_err_str(code));
        break;
    case LEDGER_SYNC_EV_APPLY_FAILED: /* (apply logged why) */
        self->st.bad_blocks++;
        break;
    case LEDGER_SYNC_EV_TIMEOUT:
        self->st.timeouts++;
        GLOG(DEBUG, LEDGER, "sync from %.16s timed out", hex);
        break;
    case LEDGER_SYNC_EV_PEER_IGNORED:
        GLOG(INFO, LEDGER, "sync: ignoring %.16s for a while (failed requests)", hex);
        break;
    case LEDGER_SYNC_EV_SERVED:
        self->st.served++;
        break;
    case LEDGER_SYNC_EV_SERVE_REFUSED:
        self->st.refused++;
        GLOG(DEBUG, LEDGER, "sync request of %.16s refused: too many this second", hex);
        break;
    case LEDGER_SYNC_EV_SERVE_FAILED:
        GLOG(WARN, LEDGER, "cannot serve block %" PRIu64 " to %.16s", height, hex);
        break;
    case LEDGER_SYNC_EV_MALFORMED:
        GLOG(DEBUG, LEDGER, "malformed ledger sync message from %.16s (%s)", hex,
             proto_err_str(code));
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- the shell */

node_ledger_sync_t *node_ledger_sync_new(const uint8_t chain_id[static 32], ledger_store_t *store,
                                         ledger_mempool_t *pool,
                                         const node_ledger_sync_deps_t *deps,
                                         const ledger_sync_params_t *params)
{
    if (!store || !deps || !deps->send || !deps->send_linked)
        return NULL;
    node_ledger_sync_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->pool = pool;
    self->deps = *deps;
    ledger_sync_io_t io = {.ctx = self,
                           .head = s_io_head,
                           .valset = s_io_valset,
                           .read = s_io_read,
                           .identify = s_io_identify,
                           .apply = s_io_apply,
                           .send = s_io_send,
                           .broadcast = s_io_broadcast,
                           .reply = deps->send_to ? s_io_reply : NULL,
                           .event = s_io_event};
    ledger_sync_params_t p;
    if (params)
        p = *params;
    else
        ledger_sync_params_default(&p);
    if (p.msg_max == 0 || p.msg_max > P2P_PAYLOAD_MAX)
        p.msg_max = P2P_PAYLOAD_MAX;
    self->core = ledger_sync_new(chain_id, &io, &p);
    if (!self->core)
        node_ledger_sync_destroy(&self);
    return self;
}

void node_ledger_sync_destroy(node_ledger_sync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_sync_destroy(&(*self_p)->core);
    free(*self_p);
    *self_p = NULL;
}

void node_ledger_sync_peer_seen(node_ledger_sync_t *self, const uint8_t from[static 32],
                                uint64_t height, uint64_t now_ms)
{
    ledger_sync_peer_seen(self->core, from, height, now_ms);
}

void node_ledger_sync_tick(node_ledger_sync_t *self, uint64_t now_ms)
{
    ledger_sync_tick(self->core, now_ms);
}

void node_ledger_sync_on_status(node_ledger_sync_t *self, const uint8_t from[static 32],
                                const uint8_t *data, size_t len, uint64_t now_ms)
{
    if (ledger_sync_on_status(self->core, from, data, len, now_ms) != PROTO_OK)
        GLOG(DEBUG, LEDGER, "malformed status (%zu bytes)", len);
}

void node_ledger_sync_on_unicast(node_ledger_sync_t *self, const uint8_t from[static 32],
                                 const uint8_t *data, size_t len, uint64_t now_ms)
{
    int rc = ledger_sync_on_unicast(self->core, from, data, len, now_ms);
    if (rc != PROTO_OK)
        GLOG(DEBUG, LEDGER, "ledger unicast refused (%zu bytes): %s", len, proto_err_str(rc));
}

ledger_sync_decided_t node_ledger_sync_on_decided(node_ledger_sync_t *self,
                                                  const uint8_t from[static 32],
                                                  const uint8_t *data, size_t len, uint64_t now_ms)
{
    ledger_sync_decided_t what = LEDGER_SYNC_DECIDED_REFUSED;
    self->decided = true;
    int rc = ledger_sync_on_decided(self->core, from, data, len, now_ms, &what);
    self->decided = false;
    if (rc != PROTO_OK) {
        self->st.decided_refused++;
        GLOG(DEBUG, LEDGER, "decided block refused (%zu bytes): %s", len, proto_err_str(rc));
    }
    return what;
}

bool node_ledger_sync_busy(const node_ledger_sync_t *self)
{
    return ledger_sync_busy(self->core);
}

bool node_ledger_sync_behind(const node_ledger_sync_t *self, uint64_t now_ms, uint64_t *head,
                             uint64_t *best)
{
    ledger_head_t h;
    uint64_t b = ledger_sync_best_height(self->core, now_ms);
    uint64_t mine = ledger_store_head(self->store, &h) == LEDGER_OK ? h.height : b;
    if (head)
        *head = mine;
    if (best)
        *best = b;
    return b > mine + 1;
}

void node_ledger_sync_stats(const node_ledger_sync_t *self, node_ledger_sync_stats_t *out)
{
    *out = self->st;
}
