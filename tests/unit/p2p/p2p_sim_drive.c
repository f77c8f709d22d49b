/*  p2p_sim_drive: what tests do to the p2p simulator's world (declared in p2p_sim.h):
 *  boot (one seed each, GENIE_SIM_RESEED), gossip load (registered messages, room posts,
 *  broadcasts, joining the room), restarts, lookups and unicasts between chosen pairs,
 *  hand-made (attacker) messages fed to a victim, and healing a partition.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "p2p/p2p_record.h"
#include "p2p_sim.h"
#include "proto/proto_envelope.h"
#include "proto/proto_key.h"
#include "proto/proto_msgtype.h"

/* ---------------------------------------------------------------- boot ---- */

/*  GENIE_SIM_RESEED=1 (exploration only, off by default): every 2 s, a node that does not
 *  know its boot seed yet is given it again, as a shell could do. Lets the other
 *  scenarios run past the "lost seed handshake strands a node" problem. */
static void s_act_reseed(sim_t *sim, int node, int arg)
{
    (void)node;
    (void)arg;
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        bool known;
        if (nd->seed < 0 || !nd->up || !sim->nodes[nd->seed].up)
            continue;
        psim_core_linked(sim, i, nd->seed, &known);
        if (!known)
            (void)p2p_core_add_seed(nd->core, sim->nodes[nd->seed].id,
                                    sim->nodes[nd->seed].endpoint, sim->now);
    }
    psim_schedule(sim, sim->now + 2000, s_act_reseed, 0, 0);
}

/*  Starts every core node at now; node i > 0 gets one seed, a random earlier node. */
void psim_boot(sim_t *sim)
{
    for (int i = 0; i < sim->n; i++) {
        if (sim->nodes[i].external)
            continue;
        if (psim_node_start(sim, i) != 0)
            continue;
        if (i == 0)
            continue;
        int s = (int)psim_rng_below(&sim->rng, (uint64_t)i);
        sim->nodes[i].seed = s;
        int rc = p2p_core_add_seed(sim->nodes[i].core, sim->nodes[s].id, sim->nodes[s].endpoint,
                                   sim->now);
        SIM_CHECK(sim, rc == 0, "node %d: add_seed(node %d) failed", i, s);
    }
    const char *reseed = getenv("GENIE_SIM_RESEED");
    if (reseed && *reseed && *reseed != '0')
        psim_schedule(sim, sim->now + 2000, s_act_reseed, 0, 0);
}

/* ---------------------------------------------------------- gossip load ---- */

/*  Registers a message from ORIGIN on TOPIC and returns its number. */
int psim_msg_new(sim_t *sim, const char *topic, int origin)
{
    if (sim->n_msgs >= SIM_MSGS_MAX)
        abort();
    int k = (int)sim->n_msgs++;
    sim_msg_t *m = &sim->msgs[k];
    snprintf(m->topic, sizeof m->topic, "%s", topic);
    m->origin = origin;
    m->origin_inc = sim->nodes[origin].inc;
    m->time = sim->now;
    memcpy(m->payload, SIM_MAGIC_GOSSIP, 4);
    m->payload[4] = (uint8_t)(k >> 24);
    m->payload[5] = (uint8_t)(k >> 16);
    m->payload[6] = (uint8_t)(k >> 8);
    m->payload[7] = (uint8_t)k;
    uint64_t r = psim_rng_next(&sim->rng);
    memcpy(m->payload + 8, &r, 8);
    return k;
}

/*  Picks a random up node (a member of SIM_ROOM if MEMBERS), or -1. */
int psim_pick_up(sim_t *sim, bool members)
{
    int cand[1024], n = 0;
    for (int i = 0; i < sim->n && n < 1024; i++) {
        sim_node_t *nd = &sim->nodes[i];
        if (nd->up && !nd->external && (!members || nd->member))
            cand[n++] = i;
    }
    return n ? cand[psim_rng_below(&sim->rng, (uint64_t)n)] : -1;
}

void psim_act_post(sim_t *sim, int node, int arg)
{
    (void)node;
    (void)arg;
    int o = psim_pick_up(sim, true);
    if (o < 0)
        return;
    int k = psim_msg_new(sim, SIM_ROOM, o);
    sim_msg_t *m = &sim->msgs[k];
    int rc =
        p2p_core_room_post(sim->nodes[o].core, SIM_ROOM, m->payload, SIM_PAYLOAD_LEN, sim->now);
    SIM_CHECK(sim, rc == 0, "node %d: room_post refused", o);
    m->posted = rc == 0;
}

void psim_act_broadcast(sim_t *sim, int node, int arg)
{
    (void)node;
    (void)arg;
    int o = psim_pick_up(sim, false);
    if (o < 0)
        return;
    int k = psim_msg_new(sim, "", o);
    sim_msg_t *m = &sim->msgs[k];
    int rc = p2p_core_broadcast(sim->nodes[o].core, SIM_KIND_BCAST, m->payload, SIM_PAYLOAD_LEN,
                                sim->now);
    SIM_CHECK(sim, rc == 0, "node %d: broadcast refused", o);
    m->posted = rc == 0;
}

/*  Every up node joins SIM_ROOM, except about a quarter. */
void psim_join_room(sim_t *sim)
{
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        if (nd->external || psim_rng_chance(&sim->rng, 0.25))
            continue;
        nd->member = true;
        if (!nd->up)
            continue;
        int rc = p2p_core_room_join(nd->core, SIM_ROOM, sim->now);
        SIM_CHECK(sim, rc == 0, "node %d: room_join failed", i);
    }
}

void psim_act_restart(sim_t *sim, int node, int arg)
{
    (void)arg;
    if (!sim->nodes[node].up)
        psim_node_start(sim, node);
}

/* ------------------------------------------------------ lookup, unicast ---- */

/*  Picks N pairs (src, dst) of up nodes where dst is not linked to src, preferring dst
 *  unknown to src, and registers them as ops. */
void psim_pick_pairs(sim_t *sim, size_t n)
{
    for (size_t tries = 0; sim->n_ops < n && tries < 100 * n; tries++) {
        int a = psim_pick_up(sim, false), b = psim_pick_up(sim, false);
        if (a < 0 || b < 0 || a == b)
            continue;
        bool dup = false;
        for (size_t k = 0; k < sim->n_ops; k++)
            dup |= sim->ops[k].src == a && sim->ops[k].dst == b;
        bool known;
        if (dup || psim_core_linked(sim, a, b, &known))
            continue;
        if (known && tries < 50 * n) /* the first half of the tries insist on strangers */
            continue;
        sim_op_t *op = &sim->ops[sim->n_ops++];
        memset(op, 0, sizeof *op);
        op->src = a;
        op->dst = b;
        op->status = 99;
    }
}

void psim_act_lookup(sim_t *sim, int node, int arg)
{
    (void)node;
    sim_op_t *op = &sim->ops[arg];
    sim_node_t *nd = &sim->nodes[op->src];
    if (!nd->up)
        return;
    op->linked = psim_core_linked(sim, op->src, op->dst, &op->known);
    op->issued_ms = sim->now;
    nd->pending_op = arg;
    op->id = p2p_core_lookup(nd->core, sim->nodes[op->dst].id, sim->now);
    nd->pending_op = -1;
    psim_trace(sim, op->src, op->dst, "%d: lookup op %d of %d: id %" PRIu64, op->src, arg, op->dst,
               op->id);
    SIM_CHECK(sim, op->id != 0, "node %d: lookup of node %d refused", op->src, op->dst);
}

void psim_act_send(sim_t *sim, int node, int arg)
{
    (void)node;
    sim_op_t *op = &sim->ops[arg];
    sim_node_t *nd = &sim->nodes[op->src];
    if (!nd->up)
        return;
    uint8_t payload[SIM_PAYLOAD_LEN];
    memcpy(payload, SIM_MAGIC_UNICAST, 4);
    payload[4] = (uint8_t)(arg >> 24);
    payload[5] = (uint8_t)(arg >> 16);
    payload[6] = (uint8_t)(arg >> 8);
    payload[7] = (uint8_t)arg;
    uint64_t r = psim_rng_next(&sim->rng);
    memcpy(payload + 8, &r, 8);
    op->linked = psim_core_linked(sim, op->src, op->dst, &op->known);
    op->issued_ms = sim->now;
    nd->pending_op = arg;
    op->id = p2p_core_send(nd->core, sim->nodes[op->dst].id, SIM_UNICAST_KIND, payload,
                           sizeof payload, sim->now);
    nd->pending_op = -1;
    psim_trace(sim, op->src, op->dst, "%d: send op %d to %d: id %" PRIu64, op->src, arg, op->dst,
               op->id);
    SIM_CHECK(sim, op->id != 0, "node %d: send to node %d refused", op->src, op->dst);
}

/* ---------------------------------------------------------------- abuse ---- */

/*  Seals W's content as TYPE from KEY at now; frees W. Caller frees the result. */
uint8_t *psim_seal(sim_t *sim, const proto_key_t *key, uint32_t type, proto_wr_t *w, size_t *len)
{
    size_t blen = 0;
    const uint8_t *body = proto_wr_data(w, &blen);
    uint8_t *out = NULL;
    if (!body ||
        proto_envelope_seal(key, type, ++sim->env_seq, sim->now, body, blen, &out, len) != 0) {
        fprintf(stderr, "test_p2p_sim: cannot seal an envelope\n");
        abort();
    }
    proto_wr_free(w);
    return out;
}

uint8_t *psim_make_hello(sim_t *sim, int node, size_t *len)
{
    sim_node_t *nd = &sim->nodes[node];
    p2p_hello_t *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    memcpy(h->chain_id, sim->chain_id, 32);
    snprintf(h->record.endpoints[0], P2P_ENDPOINT_MAX, "%s", nd->endpoint);
    h->record.n_endpoints = 1;
    h->record.seq = sim->now;
    h->record.expiry_ms = sim->now + 3600000;
    p2p_record_sign(&h->record, nd->key);
    snprintf(h->agent, sizeof h->agent, "evil/1");
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_hello(&w, h);
    free(h);
    return psim_seal(sim, nd->key, PROTO_MSG_HELLO, &w, len);
}

uint8_t *psim_make_gossip(sim_t *sim, int signer, const char *topic, uint32_t kind,
                          const uint8_t *payload, size_t plen, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, topic, kind, payload, plen);
    return psim_seal(sim, sim->nodes[signer].key, PROTO_MSG_GOSSIP, &w, len);
}

/*  Feeds raw bytes to VICTIM as if they came over the link from node FROM. */
void psim_inject(sim_t *sim, int victim, int from, const uint8_t *data, size_t len)
{
    if (psim_traced(sim, from, victim)) {
        bool known;
        char tn[64];
        psim_trace(sim, from, victim, "%d injects %s (%zu bytes) into %d (linked: %d)", from,
                   psim_type_name(data, len, tn), len, victim,
                   psim_core_linked(sim, victim, from, &known));
    }
    p2p_core_on_message(sim->nodes[victim].core, sim->nodes[from].id, data, len, sim->now);
}

/* ------------------------------------------------------------ partition ---- */

void psim_act_heal(sim_t *sim, int node, int arg)
{
    (void)node;
    (void)arg;
    memset(sim->group, 0, (size_t)sim->n * sizeof *sim->group);
}
