/*  node_ledger_room: where the consensus messages travel, and how decided blocks reach
 *  everyone (see node_ledger.h and proto/PROTOCOL.md, "Consensus room" and "DECIDED").
 *
 *  Proposals and votes are needed only by the validators, so they are posts in the p2p
 *  room NODE_LEDGER_ROOM, which only nodes started with a validator key join: a room's
 *  posts reach its members only, and p2p keeps links between members, so followers
 *  neither receive, check nor relay them. A room post has one gossip kind, so the payload
 *  carries the message type: [type uint (PROTO_MSG_PROPOSAL or PROTO_MSG_VOTE), message
 *  bin]. The room's posting policy (node_ledger_room_policy) is what an honest relay
 *  checks before it passes a post on. Proposals and votes that arrive (room posts, or the
 *  node-wide broadcasts of earlier nodes) go to the consensus core, and their height tells
 *  the sync and the pacing where the validators are (nl_on_consensus).
 *
 *  Followers get each committed block as one node-wide DECIDED [height, block, cert]
 *  (ledger_sync.h), applied through the sync core's checks. The block's proposer sends it
 *  right after its commit; every other validator arms a backup: if no DECIDED of that
 *  height (the same block, with a certificate that verifies) came within
 *  NL_DECIDED_BACKUP_MS plus NL_DECIDED_STAGGER_MS per validator between it and the
 *  proposer in the set's order, it sends the block itself, so a proposer that dies right
 *  after the commit costs followers about a second, not the STATUS heartbeat.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_ledger_int.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_err.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

/*  The room post's [type, message]: TYPE and a view of the message. PROTO_OK or a code. */
static int s_unwrap(const uint8_t *data, size_t len, uint32_t *type, const uint8_t **msg,
                    size_t *msg_len)
{
    proto_rd_t r;
    uint64_t t = 0;
    proto_rd_init(&r, data, len);
    int rc = proto_rd_array_exact(&r, 2);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT32_MAX, &t);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, P2P_PAYLOAD_MAX, msg, msg_len);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    if (rc == PROTO_OK && t != PROTO_MSG_PROPOSAL && t != PROTO_MSG_VOTE)
        rc = PROTO_E_UNKNOWN_TYPE;
    *type = (uint32_t)t;
    return rc;
}

int nl_room_join(node_ledger_t *self, char *err, size_t err_cap)
{
    p2p_node_t *p2p = nl_p2p(self);
    char why[128] = "";
    if (!p2p) {
        GLOG(WARN, LEDGER, "no p2p node: consensus messages go nowhere");
        return 0;
    }
    if (p2p_node_room_join(p2p, NODE_LEDGER_ROOM, why, sizeof why) != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot join the %s room: %s",
                              NODE_LEDGER_ROOM, why);
    GLOG(INFO, LEDGER, "in the %s room (validator key present)", NODE_LEDGER_ROOM);
    return 0;
}

void nl_room_post(node_ledger_t *self, uint32_t type, const uint8_t *data, size_t len)
{
    p2p_node_t *p2p = nl_p2p(self);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_uint(&w, type);
    proto_wr_bin(&w, data, len);
    size_t n = 0;
    const uint8_t *buf = proto_wr_data(&w, &n);
    char why[128] = "no p2p node";
    if (!buf || !p2p || p2p_node_room_post(p2p, NODE_LEDGER_ROOM, buf, n, why, sizeof why) != 0) {
        self->st.broadcast_failures++;
        GLOG(WARN, LEDGER, "cannot post a %s of %zu bytes: %s", proto_msgtype_name(type), len,
             buf ? why : "out of memory");
    }
    proto_wr_free(&w);
}

void node_ledger_on_room_post(node_ledger_t *self, const uint8_t from[static 32],
                              const uint8_t *data, size_t len, uint64_t sent_ms)
{
    if (!self || !self->cons)
        return;
    p2p_node_t *p2p = nl_p2p(self);
    if (p2p && memcmp(from, p2p_node_id(p2p), 32) == 0)
        return; /* our own post, handed back by p2p: the core has it already */
    uint32_t type = 0;
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    if (s_unwrap(data, len, &type, &msg, &msg_len) != PROTO_OK) {
        GLOG(DEBUG, LEDGER, "malformed %s room post (%zu bytes)", NODE_LEDGER_ROOM, len);
        return;
    }
    nl_on_consensus(self, type, from, msg, msg_len, sent_ms);
    nl_tick_check(self); /* a validator ahead of us: the sync needs the fast tick */
}

bool node_ledger_room_policy(node_ledger_t *self, const uint8_t from[static 32],
                             const uint8_t *data, size_t len)
{
    (void)from; /* the origin node; what counts is the validator key that signed */
    uint32_t type = 0;
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    if (!self || !self->cons || s_unwrap(data, len, &type, &msg, &msg_len) != PROTO_OK)
        return false;
    ledger_proposal_t p;
    ledger_vote_t v;
    const uint8_t *chain = NULL, *signer = NULL;
    uint64_t height = 0;
    if (type == PROTO_MSG_PROPOSAL) {
        if (ledger_proposal_decode(msg, msg_len, &p) != PROTO_OK)
            return false;
        chain = p.chain_id;
        signer = p.proposer;
        height = p.height;
    } else {
        if (ledger_vote_decode(msg, msg_len, &v) != PROTO_OK)
            return false;
        chain = v.chain_id;
        signer = v.validator;
        height = v.height;
    }
    if (memcmp(chain, self->chain_id, LEDGER_ID_LEN) != 0)
        return false;
    ledger_valset_t vs;
    if (height <= nl_head(self).height + 1 &&
        (nl_valset(self, &vs) != 0 || ledger_valset_find(&vs, signer) < 0))
        return false;
    return type == PROTO_MSG_PROPOSAL ? ledger_proposal_verify(&p) : ledger_vote_verify(&v);
}

/*  A proposal or vote of HEIGHT signed by SIGNER (SIGNED: its signature verifies) came
 *  from node FROM: FROM has committed HEIGHT - 1. If HEIGHT is the one after our head,
 *  start it now (the others are there). A height beyond that makes us sync, so it is
 *  believed only from a current authority's valid signature (a node could otherwise
 *  send us after blocks nobody has; the core itself ignores such far heights). */
static void s_consensus_seen(node_ledger_t *self, const uint8_t from[static 32], uint64_t height,
                             const uint8_t signer[static 32], bool signed_ok)
{
    ledger_head_t head = nl_head(self);
    ledger_valset_t vs;
    if (height == 0 || height <= head.height)
        return;
    if (height > head.height + 1 &&
        (!signed_ok || nl_valset(self, &vs) != 0 || ledger_valset_find(&vs, signer) < 0))
        return;
    node_ledger_sync_peer_seen(self->sync, from, height - 1, nl_now());
    if (height == head.height + 1 && ledger_cons_height(self->cons) < height)
        nl_start_next(self, "a peer is there");
}

/*  True if a message of HEIGHT would be a sync hint that needs its signature checked. */
static bool s_far(node_ledger_t *self, uint64_t height)
{
    return height > nl_head(self).height + 1;
}

void nl_on_consensus(node_ledger_t *self, uint32_t kind, const uint8_t from[static 32],
                     const uint8_t *data, size_t len, uint64_t sent_ms)
{
    uint64_t now = nl_now();
    self->st.consensus_in++;
    if (kind == PROTO_MSG_PROPOSAL) {
        nl_delay_add(&self->st.gossip_proposals, now > sent_ms ? now - sent_ms : 0);
        ledger_proposal_t p;
        if (ledger_proposal_decode(data, len, &p) != PROTO_OK) {
            GLOG(DEBUG, LEDGER, "malformed proposal (%zu bytes)", len);
            return;
        }
        s_consensus_seen(self, from, p.height, p.proposer,
                         s_far(self, p.height) && ledger_proposal_verify(&p));
        int rc = ledger_cons_on_proposal(self->cons, data, len, now);
        if (rc != PROTO_OK)
            GLOG(DEBUG, LEDGER, "proposal %" PRIu64 "/%u refused: %s", p.height, p.round,
                 proto_err_str(rc));
    } else if (kind == PROTO_MSG_VOTE) {
        ledger_vote_t v;
        if (ledger_vote_decode(data, len, &v) != PROTO_OK) {
            GLOG(DEBUG, LEDGER, "malformed vote (%zu bytes)", len);
            return;
        }
        s_consensus_seen(self, from, v.height, v.validator,
                         s_far(self, v.height) && ledger_vote_verify(&v));
        int rc = ledger_cons_on_vote(self->cons, data, len, now);
        if (rc != PROTO_OK)
            GLOG(DEBUG, LEDGER, "vote %" PRIu64 "/%u refused: %s", v.height, v.round,
                 proto_err_str(rc));
    }
}

/* ---------------------------------------------------------------- DECIDED */

/*  Sends the DECIDED of block HEIGHT node-wide. */
static void s_decided_send(node_ledger_t *self, uint64_t height, const uint8_t *block, size_t len,
                           const uint8_t *cert, size_t cert_len)
{
    p2p_node_t *p2p = nl_p2p(self);
    uint8_t *msg = NULL;
    size_t n = 0;
    if (!p2p ||
        ledger_sync_decided_encode(height, block, len, cert, cert_len, &msg, &n) != PROTO_OK)
        goto out;
    if (n > P2P_PAYLOAD_MAX) { /* followers get this one by sync */
        GLOG(DEBUG, LEDGER, "block %" PRIu64 " too big for a DECIDED (%zu bytes)", height, n);
        goto out;
    }
    if (p2p_node_broadcast(p2p, PROTO_MSG_DECIDED, msg, n) != 0) {
        self->st.broadcast_failures++;
        GLOG(WARN, LEDGER, "cannot broadcast the DECIDED of block %" PRIu64, height);
        goto out;
    }
    self->st.decided_sent++;
    if (height > self->decided_seen)
        self->decided_seen = height;
out:
    free(msg);
}

static void s_backup_end(node_ledger_t *self)
{
    if (self->decided_timer >= 0)
        zloop_timer_end(self->loop, self->decided_timer);
    self->decided_timer = -1;
    self->decided_pending = 0;
}

/*  The backup delay ran out: send the DECIDED of decided_pending if none came. */
static int s_on_backup(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    node_ledger_t *self = arg;
    if (timer_id != self->decided_timer)
        return 0;
    uint64_t height = self->decided_pending;
    self->decided_timer = -1;
    self->decided_pending = 0;
    if (height == 0 || self->decided_seen >= height)
        return 0;
    uint8_t *block = NULL, *cert = NULL;
    size_t len = 0, cert_len = 0;
    if (ledger_store_block(self->store, height, &block, &len) == LEDGER_OK &&
        ledger_store_cert(self->store, height, &cert, &cert_len) == LEDGER_OK) {
        GLOG(INFO, LEDGER, "no DECIDED of block %" PRIu64 " came: sending it", height);
        self->st.decided_backups++;
        s_decided_send(self, height, block, len, cert, cert_len);
    }
    free(block);
    free(cert);
    return 0;
}

void nl_decided_committed(node_ledger_t *self, uint64_t height, const uint8_t *block, size_t len,
                          const uint8_t *cert, size_t cert_len)
{
    ledger_header_t h;
    uint8_t hash[32];
    ledger_valset_t vs;
    if (!self->vkey || self->decided_seen >= height || !nl_block_header(block, len, &h, hash))
        return;
    const uint8_t *me = proto_key_public(self->vkey);
    if (memcmp(h.proposer, me, 32) == 0) {
        s_backup_end(self);
        s_decided_send(self, height, block, len, cert, cert_len);
        return;
    }
    if (nl_valset(self, &vs) != 0 || vs.n == 0)
        return;
    int mine = ledger_valset_find(&vs, me), prop = ledger_valset_find(&vs, h.proposer);
    if (mine < 0)
        return; /* no validator (any more): the others send it */
    size_t n = vs.n, rank = prop < 0 ? (size_t)mine : ((size_t)mine + n - (size_t)prop - 1) % n;
    s_backup_end(self);
    self->decided_timer =
        zloop_timer(self->loop, (size_t)(NL_DECIDED_BACKUP_MS + rank * NL_DECIDED_STAGGER_MS), 1,
                    s_on_backup, self);
    if (self->decided_timer < 0) {
        GLOG(ERROR, LEDGER, "cannot create the DECIDED backup timer");
        return;
    }
    self->decided_pending = height;
}

/*  True if M is the block we committed at its height with a certificate that verifies
 *  against the current set (a backup is then not needed). */
static bool s_decided_genuine(node_ledger_t *self, const ledger_sync_decided_msg_t *m)
{
    uint8_t *ours = NULL;
    size_t len = 0;
    ledger_header_t h;
    uint8_t hash[32];
    ledger_cert_t cert;
    ledger_valset_t vs;
    bool same = ledger_store_block(self->store, m->height, &ours, &len) == LEDGER_OK &&
                len == m->len && memcmp(ours, m->block, len) == 0;
    free(ours);
    return same && nl_block_header(m->block, m->len, &h, hash) &&
           ledger_cert_decode(m->cert, m->cert_len, &cert) == PROTO_OK &&
           cert.height == m->height && nl_valset(self, &vs) == 0 &&
           ledger_cert_verify(&cert, &vs, self->chain_id, hash) == PROTO_OK;
}

void nl_on_decided(node_ledger_t *self, const uint8_t from[static 32], const uint8_t *data,
                   size_t len)
{
    self->st.decided_in++;
    ledger_sync_decided_t what = node_ledger_sync_on_decided(self->sync, from, data, len, nl_now());
    ledger_sync_decided_msg_t m;
    if (what == LEDGER_SYNC_DECIDED_REFUSED || ledger_sync_decided_read(data, len, &m) != PROTO_OK)
        return;
    if (what == LEDGER_SYNC_DECIDED_APPLIED) {
        if (m.height > self->decided_seen)
            self->decided_seen = m.height;
        nl_pace_after_commit(self);
        nl_start_next(self, "decided"); /* a validator's core was still at that height */
        return;
    }
    if (what == LEDGER_SYNC_DECIDED_OLD && self->decided_pending == m.height &&
        s_decided_genuine(self, &m)) {
        if (m.height > self->decided_seen)
            self->decided_seen = m.height;
        s_backup_end(self);
    }
}
