/*  node_ledger_sync: the node's shell around the sans-IO sync core (ledger/ledger_sync.h,
 *  which holds the behaviour, the messages and every bound).
 *
 *  This file only translates: the p2p STATUS broadcasts and ledger unicasts, and the
 *  NL_TICK_MS zloop tick, become the core's inputs (with the wall clock as now_ms); the
 *  core's io becomes store reads (head, authority set, stored blocks to serve), the
 *  block identity (decode, header height, header hash), the apply step (execute on the
 *  head, ledger_store_commit, then the mempool and the executed-state cache via
 *  nl_after_commit), p2p unicast sends and STATUS broadcasts, and its events become
 *  the ledger_stats counters and logs (anything a peer can trigger at DEBUG). After a run
 *  of synced blocks the consensus core starts at the new head + 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_sync.h"
#include "node/service/node_ledger_int.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

/* ---------------------------------------------------------------- the core's io */

static bool s_io_head(void *ctx, uint64_t *height, uint8_t hash[static 32])
{
    node_ledger_t *self = ctx;
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
    node_ledger_t *self = ctx;
    if (nl_valset(self, vs) == 0)
        return true;
    GLOG(ERROR, LEDGER, "cannot read the authority set");
    return false;
}

static bool s_io_read(void *ctx, uint64_t height, uint8_t **block, size_t *len, uint8_t **cert,
                      size_t *cert_len)
{
    node_ledger_t *self = ctx;
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
    node_ledger_t *self = ctx;
    ledger_state_t *state = NULL;
    ledger_reject_t why = {0, NULL, -1};
    int rc = ledger_block_execute(self->store, block, len, self->pool, 0, &state, &why);
    if (rc != LEDGER_OK) {
        GLOG(WARN, LEDGER, "certified block %" PRIu64 " does not execute: %s (%s)", height,
             ledger_err_str(rc), why.why ? why.why : "-");
        goto out;
    }
    rc = ledger_store_commit(self->store, block, len, cert, cert_len, state);
    if (rc != LEDGER_OK) {
        GLOG(ERROR, LEDGER, "cannot commit synced block %" PRIu64 ": %s", height,
             ledger_err_str(rc));
        goto out;
    }
    nl_after_commit(self, block, len);
    self->st.blocks_synced++;
    char hex[65];
    uint8_t hash[32];
    if (s_io_identify(ctx, height, block, len, hash)) {
        proto_hex_encode(hash, 32, hex);
        GLOG(INFO, LEDGER, "synced block %" PRIu64 " %.16s", height, hex);
    }
out:
    ledger_state_destroy(&state);
    return rc;
}

static bool s_io_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    p2p_node_t *p2p = node_app_p2p(self->app);
    char why[128] = "";
    if (!p2p || len > P2P_PAYLOAD_MAX)
        return false;
    if (p2p_node_send(p2p, peer, data, len, why, sizeof why) != 0)
        return true;
    char hex[65];
    proto_hex_encode(peer, 32, hex);
    GLOG(DEBUG, LEDGER, "cannot send a sync message to %.16s: %s", hex, why);
    return false;
}

static bool s_io_broadcast(void *ctx, const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    p2p_node_t *p2p = node_app_p2p(self->app);
    return p2p && p2p_node_broadcast(p2p, PROTO_MSG_STATUS, data, len) == 0;
}

static void s_io_event(void *ctx, ledger_sync_event_t ev, const uint8_t *peer, uint64_t height)
{
    node_ledger_t *self = ctx;
    char hex[65] = "-";
    if (peer)
        proto_hex_encode(peer, 32, hex);
    switch (ev) {
    case LEDGER_SYNC_EV_REQUESTED:
        self->st.sync_requests++;
        GLOG(INFO, LEDGER, "syncing blocks from %" PRIu64 " from %.16s", height, hex);
        break;
    case LEDGER_SYNC_EV_CAUGHT_UP:
        nl_start_next(self, "synced");
        break;
    case LEDGER_SYNC_EV_BAD_BLOCK:
        self->st.sync_bad_blocks++;
        GLOG(DEBUG, LEDGER, "sync from %.16s: block %" PRIu64 " did not verify", hex, height);
        break;
    case LEDGER_SYNC_EV_APPLY_FAILED:
        self->st.sync_bad_blocks++;
        break;
    case LEDGER_SYNC_EV_TIMEOUT:
        self->st.sync_timeouts++;
        GLOG(DEBUG, LEDGER, "sync from %.16s timed out", hex);
        break;
    case LEDGER_SYNC_EV_PEER_IGNORED:
        GLOG(INFO, LEDGER, "sync: ignoring %.16s for a while (failed requests)", hex);
        break;
    case LEDGER_SYNC_EV_SERVED:
        self->st.sync_served++;
        break;
    case LEDGER_SYNC_EV_SERVE_REFUSED:
        self->st.sync_refused++;
        GLOG(DEBUG, LEDGER, "sync request of %.16s refused: too many this second", hex);
        break;
    case LEDGER_SYNC_EV_SERVE_FAILED:
        GLOG(WARN, LEDGER, "cannot serve block %" PRIu64 " to %.16s", height, hex);
        break;
    case LEDGER_SYNC_EV_MALFORMED:
        GLOG(DEBUG, LEDGER, "malformed ledger sync message from %.16s", hex);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- the shell */

int nl_sync_new(node_ledger_t *self)
{
    ledger_sync_io_t io = {.ctx = self,
                           .head = s_io_head,
                           .valset = s_io_valset,
                           .read = s_io_read,
                           .identify = s_io_identify,
                           .apply = s_io_apply,
                           .send = s_io_send,
                           .broadcast = s_io_broadcast,
                           .event = s_io_event};
    ledger_sync_params_t p;
    ledger_sync_params_default(&p);
    p.batch = NL_SYNC_BATCH;
    p.status_ms = NL_STATUS_MS;
    p.peer_ttl_ms = NL_PEER_TTL_MS;
    p.timeout_ms = NL_SYNC_TIMEOUT_MS;
    p.lag_ms = NL_SYNC_LAG_MS;
    p.serve_per_s = NL_SERVE_PER_S;
    p.max_fails = NL_PEER_MAX_FAILS;
    p.ignore_ms = NL_PEER_IGNORE_MS;
    p.msg_max = P2P_PAYLOAD_MAX;
    self->sync = ledger_sync_new(self->chain_id, &io, &p);
    return self->sync ? 0 : -1;
}

void nl_sync_peer_seen(node_ledger_t *self, const uint8_t from[static 32], uint64_t height)
{
    ledger_sync_peer_seen(self->sync, from, height, nl_now());
}

void nl_sync_tick(node_ledger_t *self, uint64_t now)
{
    ledger_sync_tick(self->sync, now);
}

void nl_sync_on_status(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                       size_t len)
{
    if (ledger_sync_on_status(self->sync, from, data, len, nl_now()) != PROTO_OK)
        GLOG(DEBUG, LEDGER, "malformed status (%zu bytes)", len);
}

void nl_sync_on_unicast(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                        size_t len)
{
    int rc = ledger_sync_on_unicast(self->sync, from, data, len, nl_now());
    if (rc != PROTO_OK)
        GLOG(DEBUG, LEDGER, "ledger unicast refused (%zu bytes): %s", len, proto_err_str(rc));
}
