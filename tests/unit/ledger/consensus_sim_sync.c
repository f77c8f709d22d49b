/*  consensus_sim_sync: each node of test_consensus_sim's simulation runs the real block
 *  sync core (ledger/ledger_sync.h) with the io below: the head and the stored blocks are
 *  the node's chain, the authority set is the one its chain leads to (blocks may carry a
 *  new set), identify parses a sim block of that height and hashes it as the consensus
 *  core does, apply appends to the chain through the global safety checks, and unicasts
 *  and STATUS broadcasts go through the simulated network as real wire bytes.
 *
 *  The forger (scenarios with `forger`) is a follower whose chain is true but which lies:
 *  its STATUS claims SIM_FORGER_LIE heights more than it has (so syncing nodes ask it
 *  first), it answers with a bad certificate, a block of another height, or an altered
 *  block (each as often as a true answer), and it sends blocks nobody asked for. Checks:
 *  no honest node applies anything the truth does not hold (csim_chain_append), a bad
 *  block or a malformed message from an honest peer fails the run, and an apply never
 *  fails (what the core hands over is certified).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus_sim.h"
#include "ledger/ledger_sync.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

void csim_valset(const sim_t *sim, uint32_t mask, ledger_valset_t *vs)
{
    memset(vs, 0, sizeof *vs);
    for (int i = 0; i < SIM_NODES_MAX; i++)
        if ((mask >> i) & 1)
            if (ledger_valset_add(vs, proto_key_public(sim->keys[i])) != 0)
                abort();
}

uint32_t csim_mask_for(const sim_t *sim, uint64_t h)
{
    return h >= 1 && h - 1 <= SIM_HEIGHT_MAX + 1 ? sim->final_mask[h - 1] : sim->final_mask[0];
}

static int s_index(const sim_t *sim, const uint8_t id[32])
{
    for (int i = 0; i < sim->n; i++)
        if (memcmp(proto_key_public(sim->keys[i]), id, 32) == 0)
            return i;
    return -1;
}

/* ---- the core's io ---- */

static bool s_head(void *ctx, uint64_t *height, uint8_t hash[static 32])
{
    const sim_node_t *nd = ctx;
    *height = nd->chain_len;
    if (nd->chain_len)
        memcpy(hash, nd->chain[nd->chain_len - 1].hash, 32);
    else
        memset(hash, 0, 32);
    return true;
}

static bool s_valset(void *ctx, ledger_valset_t *vs)
{
    const sim_node_t *nd = ctx;
    csim_valset(nd->sim, nd->vmask, vs);
    return true;
}

static uint8_t *s_dup(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    if (!c)
        abort();
    memcpy(c, p, n);
    return c;
}

static bool s_read(void *ctx, uint64_t height, uint8_t **block, size_t *len, uint8_t **cert,
                   size_t *cert_len)
{
    const sim_node_t *nd = ctx;
    if (height == 0 || height > nd->chain_len)
        return false;
    const sim_entry_t *e = &nd->chain[height - 1];
    *block = s_dup(e->block, e->block_len);
    *len = e->block_len;
    *cert = s_dup(e->cert, e->cert_len);
    *cert_len = e->cert_len;
    return true;
}

static bool s_identify(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                       uint8_t out[static 32])
{
    const sim_node_t *nd = ctx;
    uint64_t h = 0;
    uint32_t mask = 0;
    if (!csim_block_parse(nd->sim, block, len, &h, &mask) || h != height)
        return false;
    ledger_vote_value_hash(block, len, out);
    return true;
}

static int s_apply(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                   const uint8_t *cert, size_t cert_len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    uint8_t hash[32];
    ledger_vote_value_hash(block, len, hash);
    if (!csim_chain_append(sim, nd, height, block, len, hash, cert, cert_len, "synced"))
        return -1;
    sim->totals->synced++;
    if (nd->late)
        sim->totals->late_synced++;
    return 0;
}

/* The forger's version of its answer M (a SYNC_BLOCKS): a new message, or NULL to send
   the true one. */
static sim_msg_t *s_forge(sim_t *sim, sim_node_t *nd, const uint8_t *data, size_t len)
{
    proto_rd_t r;
    uint64_t type = 0, h = 0;
    const uint8_t *block = NULL, *cert = NULL;
    size_t blen = 0, clen = 0;
    proto_rd_init(&r, data, len);
    if (proto_rd_array_exact(&r, 4) != PROTO_OK || proto_rd_uint(&r, UINT32_MAX, &type) ||
        type != PROTO_MSG_SYNC_BLOCKS || proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &h) ||
        proto_rd_bin(&r, 1u << 20, &block, &blen) || proto_rd_bin(&r, 1u << 20, &cert, &clen) ||
        clen < 64 || blen == 0)
        return NULL;
    uint8_t *b = s_dup(block, blen), *c = s_dup(cert, clen);
    size_t bl = blen;
    int how = (int)csim_rng_range(&sim->rng, 0, 3);
    if (how == 1 && h + 1 > nd->chain_len)
        how = 2;
    if (how == 0) { /* a bad certificate: a bit of a signature flipped */
        c[clen - 1 - csim_rng_range(&sim->rng, 0, 63)] ^= 0x10;
    } else if (how == 1) { /* a block of another height under this height's certificate */
        const sim_entry_t *e = &nd->chain[h];
        free(b);
        b = s_dup(e->block, e->block_len);
        bl = e->block_len;
    } else if (how == 2) { /* an altered block (a tx changed, for a real block) */
        b[bl - 1] ^= 0x01;
    }
    sim_msg_t *m = NULL;
    if (how <= 2) {
        uint8_t *out = NULL;
        size_t olen = 0;
        if (ledger_sync_blocks_encode(h, b, bl, c, clen, &out, &olen) != PROTO_OK)
            abort();
        m = csim_msg_new(MSG_SYNC, nd->idx, out, olen);
        free(out);
        sim->totals->forged++;
    }
    free(b);
    free(c);
    return m;
}

static bool s_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    int to = s_index(sim, peer);
    if (to < 0 || to == nd->idx) {
        csim_fail(sim, "node %d: sync sends to an unknown peer", nd->idx);
        return false;
    }
    sim_msg_t *m = nd->forger ? s_forge(sim, nd, data, len) : NULL;
    if (!m)
        m = csim_msg_new(MSG_SYNC, nd->idx, data, len);
    csim_net_send(sim, nd->idx, to, m);
    csim_msg_unref(m);
    return true;
}

static bool s_broadcast(void *ctx, const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    uint8_t *lie = NULL;
    size_t lie_len = 0;
    if (nd->forger) { /* a head it does not have, so that it gets asked */
        uint64_t h = 0;
        uint8_t hash[32];
        s_head(nd, &h, hash);
        if (ledger_sync_status_encode(h + SIM_FORGER_LIE, hash, &lie, &lie_len) != PROTO_OK)
            abort();
        data = lie;
        len = lie_len;
    }
    sim_msg_t *m = csim_msg_new(MSG_STATUS, nd->idx, data, len);
    for (int to = 0; to < sim->n; to++)
        if (to != nd->idx)
            csim_net_send(sim, nd->idx, to, m);
    csim_msg_unref(m);
    free(lie);
    return true;
}

static void s_event(void *ctx, ledger_sync_event_t ev, const uint8_t *peer, uint64_t height,
                    int code)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    int from = peer ? s_index(sim, peer) : -1;
    bool liar = from >= 0 && sim->nodes[from].forger;
    switch (ev) {
    case LEDGER_SYNC_EV_CAUGHT_UP:
        csim_start_next(sim, nd);
        break;
    case LEDGER_SYNC_EV_BAD_BLOCK:
    case LEDGER_SYNC_EV_MALFORMED:
        if (liar)
            sim->totals->forged_refused++;
        else
            csim_fail(sim, "node %d: %s from honest node %d at height %" PRIu64, nd->idx,
                      ev == LEDGER_SYNC_EV_BAD_BLOCK ? "a bad block" : "a malformed message", from,
                      height);
        break;
    case LEDGER_SYNC_EV_APPLY_FAILED:
        csim_fail(sim, "node %d: a certified block %" PRIu64 " did not apply", nd->idx, height);
        break;
    default:
        break;
    }
}

ledger_sync_t *csim_sync_new(sim_t *sim, sim_node_t *nd)
{
    ledger_sync_io_t io = {.ctx = nd,
                           .head = s_head,
                           .valset = s_valset,
                           .read = s_read,
                           .identify = s_identify,
                           .apply = s_apply,
                           .send = s_send,
                           .broadcast = s_broadcast,
                           .event = s_event};
    ledger_sync_params_t p;
    ledger_sync_params_default(&p); /* the node's bounds, its times scaled to the sim's */
    p.batch = SIM_SYNC_BATCH;
    p.status_ms = 2 * SIM_SYNC_MS;
    p.peer_ttl_ms = 5000;
    p.timeout_ms = 1200;
    p.lag_ms = 600;
    p.ignore_ms = 3000;
    return ledger_sync_new(sim->chain_id, &io, &p);
}

void csim_sync_deliver(sim_t *sim, sim_node_t *nd, const sim_msg_t *m)
{
    const uint8_t *from = proto_key_public(sim->keys[m->from]);
    int rc = m->kind == MSG_STATUS
                 ? ledger_sync_on_status(nd->sync, from, m->data, m->len, sim->now)
                 : ledger_sync_on_unicast(nd->sync, from, m->data, m->len, sim->now);
    if (rc != PROTO_OK && !sim->nodes[m->from].forger)
        csim_fail(sim, "node %d refused a sync message of node %d: %s", nd->idx, m->from,
                  proto_err_str(rc));
}

void csim_sync_tick(sim_t *sim, sim_node_t *nd)
{
    ledger_sync_tick(nd->sync, sim->now);
    if (!nd->forger || nd->chain_len == 0 || sim->n < 2)
        return;
    /* a true block nobody asked for, to someone */
    uint64_t h = csim_rng_range(&sim->rng, 1, nd->chain_len);
    int to = (int)csim_rng_range(&sim->rng, 0, (uint64_t)sim->n - 2);
    to = to >= nd->idx ? to + 1 : to;
    const sim_entry_t *e = &nd->chain[h - 1];
    uint8_t *out = NULL;
    size_t len = 0;
    if (ledger_sync_blocks_encode(h, e->block, e->block_len, e->cert, e->cert_len, &out, &len) !=
        PROTO_OK)
        abort();
    sim_msg_t *m = csim_msg_new(MSG_SYNC, nd->idx, out, len);
    free(out);
    csim_net_send(sim, nd->idx, to, m);
    csim_msg_unref(m);
}
