/*  node_ledger: lifecycle, consensus io and pacing of the node's ledger (see
 *  node_ledger.h; the parts it is built from have their own files: node_ledger_sync (block
 *  sync), node_ledger_outbox (tx gossip batching), node_ledger_verifier and node_ledger_check
 *  (checks of incoming txs), node_ledger_keys (validator key, signing record); RPC methods
 *  are in node_ledger_rpc.c).
 *
 *  The consensus core (ledger_consensus.h) decides; this file gives it its io:
 *    broadcast        -> a post in the consensus room, wrapped [type, message]
 *                        (node_ledger_room.c: only validators are members)
 *    schedule_timeout -> one-shot zloop timers, at most NL_TIMERS_MAX pending; when full
 *                        the one of the lowest (height, round) is ended (the core ignores
 *                        stale timers anyway, and re-arms what it still needs)
 *    persist          -> appended to DIR/ledger/signstate and fdatasynced (node_signlog.h)
 *    get_block        -> ledger_block_build on the head, at most NODE_LEDGER_BLOCK_BYTES;
 *                        "not yet" while the mempool is empty and the head is younger
 *                        than the genesis heartbeat, so empty blocks come only that often
 *    validate         -> ledger_block_execute; the resulting state is kept (by block hash)
 *                        until the height is committed
 *    hash             -> the block's header hash (ledger_header_hash), so votes and
 *                        certificates sign exactly what the store calls the block hash
 *    commit           -> ledger_store_commit(block, cert, state), ledger_mempool_update;
 *                        the next height starts block_interval_ms after the block's
 *                        time (its proposal), not after its commit; then the block goes
 *                        to everyone as a DECIDED (node_ledger_room.c)
 *  Only a node with a validator key runs heights; a follower's core stays idle and its
 *  blocks come as DECIDEDs (and by sync when it is behind).
 *  The periodic tick (sync, pool upkeep, malloc_trim) runs every NL_TICK_MS while the sync
 *  has work (a request in flight, a peer's head above ours) and every NL_TICK_IDLE_MS
 *  otherwise; a peer seen ahead (STATUS, a DECIDED ahead, a proposal or vote) brings the
 *  fast tick back at once (nl_tick_check).
 *  Pacing: after a commit the next height starts once block_interval_ms has passed since
 *  the committed block's time (at most block_interval_ms from now, at least now) AND
 *  there is something to do: a tx in the mempool, the heartbeat due (head time +
 *  heartbeat_ms), or a proposal/vote of that height from a peer (so a node whose mempool
 *  is empty follows the others at once). Waiting before starting the height, rather than
 *  only answering "not yet" from get_block, keeps the other validators from timing the
 *  proposer out round after round while there is nothing to propose.
 */
#include "node/service/node_ledger.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/node_app.h"
#include "node/service/node_ledger_int.h"
#include "proto/proto_err.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

p2p_node_t *nl_p2p(node_ledger_t *self)
{
    return self->deps.p2p ? self->deps.p2p(self->deps.p2p_ctx) : NULL;
}

uint64_t nl_now(void)
{
    return (uint64_t)zclock_time();
}

ledger_head_t nl_head(node_ledger_t *self)
{
    ledger_head_t h;
    memset(&h, 0, sizeof h);
    if (ledger_store_head(self->store, &h) != LEDGER_OK) {
        GLOG(ERROR, LEDGER, "cannot read the ledger head");
        memset(&h, 0, sizeof h);
    }
    return h;
}

int nl_valset(node_ledger_t *self, ledger_valset_t *vs)
{
    uint8_t keys[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n = 0;
    memset(vs, 0, sizeof *vs);
    if (ledger_store_authorities(self->store, keys, &n) != LEDGER_OK || n == 0)
        return LEDGER_E_CORRUPT;
    for (size_t i = 0; i < n; i++)
        if (ledger_valset_add(vs, keys[i]) != 0)
            return LEDGER_E_CORRUPT;
    return 0;
}

/* ---------------------------------------------------------------- executed-state cache */

static void s_states_clear(node_ledger_t *self)
{
    for (size_t i = 0; i < NL_STATES_MAX; i++) {
        ledger_state_destroy(&self->states[i].state);
        self->states[i].used = false;
    }
}

/*  Keeps STATE (ownership taken) for the block HASH at HEIGHT; evicts slot 0's
 *  successor round-robin when full. */
static void s_states_put(node_ledger_t *self, const uint8_t hash[static 32], uint64_t height,
                         ledger_state_t **state)
{
    size_t slot = NL_STATES_MAX;
    for (size_t i = 0; i < NL_STATES_MAX && slot == NL_STATES_MAX; i++)
        if (!self->states[i].used || memcmp(self->states[i].hash, hash, 32) == 0)
            slot = i;
    if (slot == NL_STATES_MAX)
        slot = (size_t)(height % NL_STATES_MAX); /* any; full means many bad proposals */
    nl_cached_t *c = &self->states[slot];
    ledger_state_destroy(&c->state);
    c->used = true;
    memcpy(c->hash, hash, 32);
    c->height = height;
    c->state = *state;
    *state = NULL;
}

/*  Takes the state kept for HASH (caller destroys), or NULL. */
static ledger_state_t *s_states_take(node_ledger_t *self, const uint8_t hash[static 32])
{
    for (size_t i = 0; i < NL_STATES_MAX; i++) {
        nl_cached_t *c = &self->states[i];
        if (c->used && memcmp(c->hash, hash, 32) == 0) {
            ledger_state_t *st = c->state;
            c->state = NULL;
            c->used = false;
            return st;
        }
    }
    return NULL;
}

void nl_after_commit(node_ledger_t *self, const uint8_t *block, size_t len)
{
    s_states_clear(self);
    free(self->built);
    self->built = NULL;
    self->built_len = 0;
    if (ledger_mempool_update(self->pool, block, len) != LEDGER_OK)
        GLOG(WARN, LEDGER, "mempool update after a commit failed (the pool stays usable)");
    atomic_store(&self->pool_room, ledger_mempool_room(self->pool));
}

bool nl_block_header(const uint8_t *block, size_t len, ledger_header_t *h, uint8_t out[static 32])
{
    proto_rd_t r;
    proto_rd_init(&r, block, len);
    if (proto_rd_array_exact(&r, 2) != PROTO_OK || ledger_header_read(&r, h) != PROTO_OK)
        return false;
    ledger_header_hash(h, out);
    return true;
}

/*  Header hash of BLOCK without copying it: [header, txs] -> H(header). */
static bool s_block_hash(const uint8_t *block, size_t len, uint8_t out[static 32])
{
    ledger_header_t h;
    return nl_block_header(block, len, &h, out);
}

/* ---------------------------------------------------------------- timers */

/*  A consensus timer fired. ARG is the ledger; the slot is found by TIMER_ID, so a timer
 *  ended while already due (zloop ends timers lazily) finds no slot and does nothing. */
static int s_on_cons_timer(zloop_t *loop, int timer_id, void *arg)
{
    node_ledger_t *self = arg;
    for (size_t i = 0; i < NL_TIMERS_MAX; i++) {
        nl_timer_t *t = &self->timers[i];
        if (t->used && t->id == timer_id) {
            t->used = false;
            if (self->cons)
                ledger_cons_on_timeout(self->cons, t->height, t->round, t->step, nl_now());
            break;
        }
    }
    return 0;
}

static void s_io_schedule(void *ctx, uint64_t height, uint32_t round, ledger_cons_step_t step,
                          uint64_t delay_ms)
{
    node_ledger_t *self = ctx;
    nl_timer_t *slot = NULL;
    for (size_t i = 0; i < NL_TIMERS_MAX && !slot; i++)
        if (!self->timers[i].used)
            slot = &self->timers[i];
    if (!slot) { /* full: end the oldest-looking one (lowest height, then round) */
        slot = &self->timers[0];
        for (size_t i = 1; i < NL_TIMERS_MAX; i++) {
            nl_timer_t *t = &self->timers[i];
            if (t->height < slot->height || (t->height == slot->height && t->round < slot->round))
                slot = t;
        }
        zloop_timer_end(self->loop, slot->id);
        slot->used = false;
        self->st.timers_dropped++;
    }
    if (delay_ms > 3600u * 1000u)
        delay_ms = 3600u * 1000u;
    slot->height = height;
    slot->round = round;
    slot->step = step;
    slot->id = zloop_timer(self->loop, (size_t)(delay_ms ? delay_ms : 1), 1, s_on_cons_timer, self);
    if (slot->id < 0) {
        GLOG(ERROR, LEDGER, "cannot create a consensus timer");
        return;
    }
    slot->used = true;
}

/* ---------------------------------------------------------------- consensus io */

static void s_io_broadcast(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
    nl_room_post(ctx, type, data, len);
}

static int s_io_persist(void *ctx, const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    char err[512];
    int64_t t0 = zclock_usecs();
    int rc = node_signlog_append(self->signlog, data, len, err, sizeof err);
    self->st.us_persist += (uint64_t)(zclock_usecs() - t0);
    if (rc != 0) {
        self->st.persist_failures++;
        GLOG(ERROR, LEDGER, "cannot save the signing record: %s", err);
        return rc;
    }
    return 0;
}

static ledger_cons_block_rc_t s_io_get_block(void *ctx, uint64_t height, const uint8_t **block,
                                             size_t *len)
{
    node_ledger_t *self = ctx;
    ledger_head_t head = nl_head(self);
    uint64_t now = nl_now();
    if (height != head.height + 1 || !self->vkey)
        return LEDGER_CONS_BLOCK_ERROR;
    if (ledger_mempool_count(self->pool) == 0 && now < head.time_ms + self->params.heartbeat_ms)
        return LEDGER_CONS_BLOCK_NOT_YET;
    ledger_build_params_t bp;
    memset(&bp, 0, sizeof bp);
    bp.time_ms = now;
    memcpy(bp.proposer, proto_key_public(self->vkey), LEDGER_ID_LEN);
    bp.round = ledger_cons_round(self->cons);
    bp.max_bytes = NODE_LEDGER_BLOCK_BYTES;
    uint8_t *bytes = NULL;
    size_t n = 0;
    ledger_state_t *state = NULL;
    int64_t t0 = zclock_usecs();
    int rc = ledger_block_build(self->store, self->pool, &bp, &bytes, &n, &state);
    self->st.us_build += (uint64_t)(zclock_usecs() - t0);
    uint8_t hash[32];
    if (rc != LEDGER_OK || !s_block_hash(bytes, n, hash)) {
        GLOG(ERROR, LEDGER, "cannot build block %" PRIu64 ": %s", height, proto_err_str(rc));
        free(bytes);
        ledger_state_destroy(&state);
        return LEDGER_CONS_BLOCK_ERROR;
    }
    s_states_put(self, hash, height, &state);
    free(self->built);
    self->built = bytes;
    self->built_len = n;
    *block = bytes;
    *len = n;
    GLOG(DEBUG, LEDGER, "proposing block %" PRIu64 " (%zu bytes)", height, n);
    return LEDGER_CONS_BLOCK_READY;
}

static bool s_io_validate(void *ctx, uint64_t height, const uint8_t *block, size_t len)
{
    node_ledger_t *self = ctx;
    ledger_head_t head = nl_head(self);
    uint8_t hash[32];
    if (height != head.height + 1 || !s_block_hash(block, len, hash))
        return false;
    ledger_state_t *state = NULL;
    char why[LEDGER_ERR_MAX] = "";
    long why_tx = -1;
    int64_t t0 = zclock_usecs();
    int rc = ledger_block_execute(self->store, block, len, self->pool, 0, &state, &why_tx, why,
                                  sizeof why);
    self->st.us_validate += (uint64_t)(zclock_usecs() - t0);
    if (rc != LEDGER_OK) {
        bool ours = rc == LEDGER_E_STORE || rc == LEDGER_E_CORRUPT || rc == LEDGER_E_NOMEM;
        if (ours)
            GLOG(ERROR, LEDGER, "cannot execute proposed block %" PRIu64 ": %s", height,
                 proto_err_str(rc));
        else
            GLOG(DEBUG, LEDGER, "proposed block %" PRIu64 " refused: %s (%s, tx %ld)", height,
                 proto_err_str(rc), why, why_tx);
        ledger_state_destroy(&state);
        return false;
    }
    s_states_put(self, hash, height, &state);
    return true;
}

static bool s_io_hash(void *ctx, const uint8_t *block, size_t len, uint8_t out[static 32])
{
    return s_block_hash(block, len, out);
}

static void s_pace_arm(node_ledger_t *self, uint64_t delay_ms);

static void s_io_commit(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                        const uint8_t hash[static 32], const uint8_t *cert, size_t cert_len)
{
    node_ledger_t *self = ctx;
    ledger_head_t head = nl_head(self);
    if (height <= head.height)
        return; /* sync got there first */
    if (height != head.height + 1) {
        GLOG(ERROR, LEDGER, "consensus committed height %" PRIu64 " on head %" PRIu64, height,
             head.height);
        return;
    }
    ledger_state_t *state = s_states_take(self, hash);
    if (!state) {
        char why[LEDGER_ERR_MAX] = "";
        int rc = ledger_block_execute(self->store, block, len, self->pool, 0, &state, NULL, why,
                                      sizeof why);
        if (rc != LEDGER_OK) {
            GLOG(ERROR, LEDGER, "certified block %" PRIu64 " does not execute here: %s (%s)",
                 height, proto_err_str(rc), why);
            ledger_state_destroy(&state);
            return;
        }
    }
    int64_t t0 = zclock_usecs();
    int rc = ledger_store_commit(self->store, block, len, cert, cert_len, state);
    ledger_state_destroy(&state);
    if (rc != LEDGER_OK) {
        GLOG(ERROR, LEDGER, "cannot commit block %" PRIu64 ": %s", height, proto_err_str(rc));
        return;
    }
    int64_t t1 = zclock_usecs();
    self->st.us_commit += (uint64_t)(t1 - t0);
    self->st.us_height += (uint64_t)(t1 - self->height_started_us);
    self->st.blocks_committed++;
    nl_after_commit(self, block, len);
    self->st.us_pool_update += (uint64_t)(zclock_usecs() - t1);
    char hex[65];
    proto_hex_encode(hash, 32, hex);
    GLOG(INFO, LEDGER, "committed block %" PRIu64 " %.16s round %u (%zu bytes)", height, hex,
         ledger_cons_round(self->cons), len);
    nl_decided_committed(self, height, block, len, cert, cert_len);
    nl_pace_after_commit(self);
}

/* ---------------------------------------------------------------- pacing */

void nl_pace_after_commit(node_ledger_t *self)
{
    /* The interval counts from the block's own time (when it was proposed), so the time
     * the round took is not added to it; clamped to [now, now + interval] against a
     * proposer's clock that is off. */
    uint64_t now = nl_now(), iv = self->params.block_interval_ms;
    uint64_t due = nl_head(self).time_ms + iv;
    self->pace_not_before = due < now ? now : due > now + iv ? now + iv : due;
    if (self->vkey)
        s_pace_arm(self, self->pace_not_before - now);
}

static void s_start_height(node_ledger_t *self, const char *why)
{
    ledger_head_t head = nl_head(self);
    ledger_valset_t vs;
    if (!self->vkey || ledger_cons_height(self->cons) >= head.height + 1)
        return; /* a follower runs no heights: its blocks come as DECIDEDs */
    if (nl_valset(self, &vs) != 0) {
        GLOG(ERROR, LEDGER, "cannot read the authority set");
        return;
    }
    self->height_started_us = zclock_usecs();
    if (ledger_cons_start_height(self->cons, head.height + 1, &vs, nl_now()) != 0) {
        GLOG(ERROR, LEDGER, "cannot start height %" PRIu64, head.height + 1);
        return;
    }
    GLOG(DEBUG, LEDGER, "height %" PRIu64 " started (%s)", head.height + 1, why);
}

void nl_start_next(node_ledger_t *self, const char *why)
{
    if (self->started)
        s_start_height(self, why);
}

/*  Starts the next height if it is due; otherwise arms the pace timer for when it is. */
void nl_pace_check(node_ledger_t *self)
{
    if (!self->started || !self->vkey)
        return;
    ledger_head_t head = nl_head(self);
    if (ledger_cons_height(self->cons) >= head.height + 1)
        return;
    uint64_t now = nl_now();
    if (now < self->pace_not_before) {
        s_pace_arm(self, self->pace_not_before - now);
        return;
    }
    uint64_t due = head.time_ms + self->params.heartbeat_ms;
    if (ledger_mempool_count(self->pool) > 0 || now >= due) {
        s_start_height(self, ledger_mempool_count(self->pool) ? "txs waiting" : "heartbeat");
        return;
    }
    uint64_t wait = due - now;
    s_pace_arm(self, wait > self->params.heartbeat_ms ? self->params.heartbeat_ms : wait);
}

static int s_on_pace(zloop_t *loop, int timer_id, void *arg)
{
    node_ledger_t *self = arg;
    if (timer_id == self->pace_timer)
        self->pace_timer = -1;
    nl_pace_check(self);
    return 0;
}

static void s_pace_arm(node_ledger_t *self, uint64_t delay_ms)
{
    if (self->pace_timer >= 0)
        zloop_timer_end(self->loop, self->pace_timer);
    self->pace_timer =
        zloop_timer(self->loop, (size_t)(delay_ms ? delay_ms : 1), 1, s_on_pace, self);
    if (self->pace_timer < 0)
        GLOG(ERROR, LEDGER, "cannot create the pacing timer");
}

static int s_on_tick(zloop_t *loop, int timer_id, void *arg);

/*  The tick wanted now: NL_TICK_MS while the sync has work (a request in flight, a peer
 *  ahead of us), else NL_TICK_IDLE_MS. */
static uint64_t s_tick_delay(node_ledger_t *self, uint64_t now)
{
    uint64_t head = 0, best = 0;
    (void)node_ledger_sync_behind(self->sync, now, &head, &best);
    return node_ledger_sync_busy(self->sync) || best > head ? NL_TICK_MS : NL_TICK_IDLE_MS;
}

static void s_tick_arm(node_ledger_t *self, uint64_t delay_ms)
{
    if (self->tick_timer >= 0)
        zloop_timer_end(self->loop, self->tick_timer);
    self->tick_timer = zloop_timer(self->loop, (size_t)delay_ms, 1, s_on_tick, self);
    self->tick_due = nl_now() + delay_ms;
    if (self->tick_timer < 0)
        GLOG(ERROR, LEDGER, "cannot create the ledger tick");
}

void nl_tick_check(node_ledger_t *self)
{
    uint64_t now = nl_now();
    if (self->started && self->tick_timer >= 0 && self->tick_due > now + NL_TICK_MS &&
        s_tick_delay(self, now) == NL_TICK_MS)
        s_tick_arm(self, NL_TICK_MS);
}

static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    node_ledger_t *self = arg;
    if (timer_id != self->tick_timer)
        return 0;
    self->tick_timer = -1; /* one-shot: re-armed below */
    uint64_t now = nl_now();
    node_ledger_sync_tick(self->sync, now);
    nl_pool_tick(self, now);
    /* LevelDB's table pages are trimmed by the store's own thread (ledger_store_trim_*) */
#ifdef __GLIBC__
    /* RPC threads parse large submissions in their own malloc arenas; hand the freed
     * pages back so they do not stay resident between bursts */
    if (now - self->trimmed_ms >= NL_TRIM_MS) {
        self->trimmed_ms = now;
        malloc_trim(0);
    }
#endif
    s_tick_arm(self, s_tick_delay(self, now));
    return 0;
}

/* ---------------------------------------------------------------- p2p upcalls */

bool node_ledger_is_broadcast(uint32_t kind)
{
    return kind == PROTO_MSG_TX || kind == PROTO_MSG_TX_BATCH || kind == PROTO_MSG_PROPOSAL ||
           kind == PROTO_MSG_VOTE || kind == PROTO_MSG_STATUS || kind == PROTO_MSG_DECIDED;
}

/*  The unicast kind that carries a ledger sync payload (0 if DATA is not one). */
static uint32_t s_unicast_kind(const uint8_t *data, size_t len)
{
    switch (ledger_sync_unicast_kind(data, len)) {
    case LEDGER_SYNC_MSG_REQ:
        return PROTO_MSG_SYNC_REQ;
    case LEDGER_SYNC_MSG_BLOCKS:
        return PROTO_MSG_SYNC_BLOCKS;
    default:
        return 0;
    }
}

bool node_ledger_is_unicast(uint32_t kind, const uint8_t *data, size_t len)
{
    return kind != 0 && s_unicast_kind(data, len) == kind;
}

void node_ledger_on_broadcast(node_ledger_t *self, uint32_t kind, const uint8_t from[static 32],
                              const uint8_t *data, size_t len, uint64_t sent_ms)
{
    if (!self || !self->cons)
        return;
    uint64_t now = nl_now();
    uint64_t late = now > sent_ms ? now - sent_ms : 0;
    switch (kind) {
    case PROTO_MSG_TX:
    case PROTO_MSG_TX_BATCH:
        nl_delay_add(&self->st.gossip_txs, late);
        nl_on_gossip_txs(self, kind, data, len);
        break;
    case PROTO_MSG_PROPOSAL: /* node-wide, as nodes before the consensus room sent them */
    case PROTO_MSG_VOTE:
        nl_on_consensus(self, kind, from, data, len, sent_ms);
        break;
    case PROTO_MSG_DECIDED:
        nl_on_decided(self, from, data, len);
        break;
    case PROTO_MSG_STATUS:
        node_ledger_sync_on_status(self->sync, from, data, len, now);
        break;
    default:
        return;
    }
    nl_tick_check(self); /* a peer's head above ours: the sync needs the fast tick */
}

void node_ledger_on_unicast(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                            size_t len)
{
    if (self && self->cons)
        node_ledger_sync_on_unicast(self->sync, from, data, len, nl_now());
}

void node_ledger_on_status(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                           size_t len)
{
    if (self && self->cons) {
        node_ledger_sync_on_status(self->sync, from, data, len, nl_now());
        nl_tick_check(self);
    }
}

/* ---------------------------------------------------------------- sync's dependencies */

static bool s_sync_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    p2p_node_t *p2p = nl_p2p(self);
    char why[128] = "";
    uint32_t kind = s_unicast_kind(data, len);
    if (p2p && kind && p2p_node_send(p2p, peer, kind, data, len, why, sizeof why) != 0)
        return true;
    char hex[65];
    proto_hex_encode(peer, 32, hex);
    GLOG(DEBUG, LEDGER, "cannot send a sync message to %.16s: %s", hex, p2p ? why : "no p2p");
    return false;
}

/* STATUS is for the neighbours only (they sync from us): one hop, never flooded. */
static bool s_sync_send_linked(void *ctx, uint32_t kind, const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    p2p_node_t *p2p = nl_p2p(self);
    return p2p && p2p_node_send_linked(p2p, kind, data, len) > 0;
}

/* Our STATUS to one neighbour that is behind (rare: an acknowledged unicast). */
static bool s_sync_send_to(void *ctx, const uint8_t peer[static 32], uint32_t kind,
                           const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    p2p_node_t *p2p = nl_p2p(self);
    char why[128] = "";
    return p2p && p2p_node_send(p2p, peer, kind, data, len, why, sizeof why) != 0;
}

static void s_sync_committed(void *ctx, const uint8_t *block, size_t len)
{
    nl_after_commit(ctx, block, len);
}

static void s_sync_caught_up(void *ctx)
{
    nl_start_next(ctx, "synced");
}

/* ---------------------------------------------------------------- start-up */

static p2p_node_t *s_app_p2p(void *ctx)
{
    return node_app_p2p(ctx);
}

node_ledger_t *node_ledger_new(node_app_t *app, ledger_genesis_t **genesis, char *err,
                               size_t err_cap)
{
    node_ledger_deps_t deps = {
        .loop = node_app_loop(app),
        .datadir = node_datadir_path(node_app_datadir(app)),
        .authority = (node_config_roles(node_app_config(app)) & NODE_ROLE_AUTHORITY) != 0,
        .validator_key = node_config_validator_key(node_app_config(app)),
        .p2p = s_app_p2p,
        .p2p_ctx = app};
    return node_ledger_new_from(&deps, genesis, err, err_cap);
}

node_ledger_t *node_ledger_new_from(const node_ledger_deps_t *deps, ledger_genesis_t **genesis,
                                    char *err, size_t err_cap)
{
    node_ledger_t *self = calloc(1, sizeof *self);
    if (!self) {
        ledger_genesis_destroy(genesis);
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    atomic_init(&self->pool_room, 0);
    self->deps = *deps;
    self->loop = deps->loop;
    self->genesis = *genesis;
    *genesis = NULL;
    self->pace_timer = -1;
    self->tick_timer = -1;
    self->decided_timer = -1;
    self->params = *ledger_genesis_params(self->genesis);
    memcpy(self->chain_id, ledger_genesis_chain_id(self->genesis), LEDGER_ID_LEN);
    const char *datadir = deps->datadir;
    if ((size_t)snprintf(self->dir, sizeof self->dir, "%s/ledger", datadir) >= sizeof self->dir ||
        (size_t)snprintf(self->signstate, sizeof self->signstate, "%s/signstate", self->dir) >=
            sizeof self->signstate) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
        goto err;
    }
    char msg[512];
    if (ledger_store_open(self->dir, &self->store, msg, sizeof msg) != LEDGER_OK) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot open the ledger in %s: %s", self->dir,
                       msg);
        goto err;
    }
    int rc = ledger_genesis_apply(self->genesis, self->store);
    if (rc != LEDGER_OK) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "%s: %s", self->dir,
                       rc == LEDGER_E_WRONG_CHAIN ? "the database holds another chain"
                                                  : proto_err_str(rc));
        goto err;
    }
    self->pool = ledger_mempool_new(self->store, NULL);
    self->sigkeys = proto_sigkeys_new(NL_SIGKEYS_SLOTS);
    self->outbox = node_ledger_outbox_new(self->loop, nl_outbox_send, self);
    node_ledger_sync_deps_t sd = {.ctx = self,
                                  .send = s_sync_send,
                                  .send_linked = s_sync_send_linked,
                                  .send_to = s_sync_send_to,
                                  .committed = s_sync_committed,
                                  .caught_up = s_sync_caught_up};
    if (self->pool)
        self->sync = node_ledger_sync_new(self->chain_id, self->store, self->pool, &sd, NULL);
    if (!self->pool || !self->sigkeys || !self->outbox || !self->sync) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        goto err;
    }
    if (!deps->authority && deps->validator_key)
        GLOG(WARN, LEDGER, "--validator-key is ignored without --role authority");
    if (deps->authority) {
        const char *file = deps->validator_key;
        if ((file ? nl_key_from_file(self, file, err, err_cap)
                  : nl_key_from_accounts(self, err, err_cap)) != 0)
            goto err;
    }
    ledger_cons_io_t io = {.ctx = self,
                           .broadcast = s_io_broadcast,
                           .schedule_timeout = s_io_schedule,
                           .persist = self->vkey ? s_io_persist : NULL,
                           .get_block = s_io_get_block,
                           .validate = s_io_validate,
                           .hash = s_io_hash,
                           .verify = NULL,
                           .commit = s_io_commit};
    self->cons = ledger_cons_new(self->chain_id, self->vkey, &io, NULL);
    if (!self->cons) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create the consensus core");
        goto err;
    }
    if (self->vkey && nl_signlog_restore(self, err, err_cap) != 0)
        goto err;
    ledger_head_t head = nl_head(self);
    char hex[65];
    proto_hex_encode(head.hash, 32, hex);
    if (self->vkey) {
        char vhex[65];
        proto_hex_encode(proto_key_public(self->vkey), 32, vhex);
        GLOG(INFO, LEDGER, "ledger at height %" PRIu64 " (%.16s), validating as %s", head.height,
             hex, vhex);
    } else {
        GLOG(INFO, LEDGER, "ledger at height %" PRIu64 " (%.16s), following", head.height, hex);
    }
    return self;
err:
    node_ledger_destroy(&self);
    return NULL;
}

int node_ledger_start(node_ledger_t *self, char *err, size_t err_cap)
{
    s_tick_arm(self, NL_TICK_MS);
    if (self->tick_timer < 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create a timer");
    self->verifier = node_ledger_verifier_new(self->loop, self->chain_id, self->store,
                                              self->sigkeys, nl_on_verdicts, self, err, err_cap);
    if (!self->verifier)
        return NODE_E_FAILED;
    atomic_store(&self->pool_room, ledger_mempool_room(self->pool));
    if (self->vkey && nl_room_join(self, err, err_cap) != 0)
        return NODE_E_FAILED;
    self->started = true;
    /* Resume at once: a restarted validator's restored votes may be what the others
       wait for. */
    s_start_height(self, "start");
    return 0;
}

void node_ledger_destroy(node_ledger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_ledger_t *self = *self_p;
    if (self->loop) {
        for (size_t i = 0; i < NL_TIMERS_MAX; i++)
            if (self->timers[i].used)
                zloop_timer_end(self->loop, self->timers[i].id);
        if (self->pace_timer >= 0)
            zloop_timer_end(self->loop, self->pace_timer);
        if (self->tick_timer >= 0)
            zloop_timer_end(self->loop, self->tick_timer);
        if (self->decided_timer >= 0)
            zloop_timer_end(self->loop, self->decided_timer);
    }
    node_ledger_verifier_destroy(&self->verifier);
    ledger_cons_destroy(&self->cons);
    s_states_clear(self);
    node_ledger_sync_destroy(&self->sync);
    free(self->built);
    node_ledger_outbox_destroy(&self->outbox);
    ledger_mempool_destroy(&self->pool);
    proto_sigkeys_destroy(&self->sigkeys);
    ledger_store_destroy(&self->store);
    node_signlog_destroy(&self->signlog);
    proto_key_destroy(&self->vkey);
    ledger_genesis_destroy(&self->genesis);
    free(self);
    *self_p = NULL;
}
