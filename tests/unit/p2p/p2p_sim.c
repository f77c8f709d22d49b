/*  p2p_sim: the simulated world of the p2p simulator (declared in p2p_sim.h): the PRNG,
 *  the event queue, the transport the cores are given (send, dial, hangup), the cores'
 *  callbacks (deliveries, unicasts, lookup and send completions, tallied per node and op),
 *  node start and crash, the run loop, and a simulation's creation and destruction.
 *  Observation (checks, traces, tallies, reports) is in p2p_sim_observe.c, what tests do
 *  to the world (boot, load, abuse, partitions) in p2p_sim_drive.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p_sim.h"
#include "proto/proto_envelope.h"
#include "proto/proto_key.h"

/* ---------------------------------------------------------------- PRNG ---- */

static uint64_t s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void s_rng_seed(sim_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix(&seed);
}

static uint64_t s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t psim_rng_next(sim_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t out = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return out;
}

/*  Uniform in [0, n) (n > 0; the modulo bias is irrelevant here). */
uint64_t psim_rng_below(sim_rng_t *r, uint64_t n)
{
    return psim_rng_next(r) % n;
}

/*  Uniform in [lo, hi]. */
uint64_t psim_rng_range(sim_rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + psim_rng_below(r, hi - lo + 1);
}

bool psim_rng_chance(sim_rng_t *r, double p)
{
    return p > 0 && (double)(psim_rng_next(r) >> 11) * 0x1.0p-53 < p;
}

/* --------------------------------------------------------- event queue ---- */

static bool s_ev_before(const sim_ev_t *a, const sim_ev_t *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void s_push(sim_t *sim, sim_ev_t ev)
{
    if (sim->n_ev == sim->cap_ev) {
        size_t cap = sim->cap_ev ? sim->cap_ev * 2 : 1024;
        sim_ev_t *h = realloc(sim->heap, cap * sizeof *h);
        if (!h) {
            fprintf(stderr, "test_p2p_sim: out of memory\n");
            abort();
        }
        sim->heap = h;
        sim->cap_ev = cap;
    }
    ev.seq = sim->next_seq++;
    size_t i = sim->n_ev++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!s_ev_before(&ev, &sim->heap[parent]))
            break;
        sim->heap[i] = sim->heap[parent];
        i = parent;
    }
    sim->heap[i] = ev;
}

static sim_ev_t s_pop(sim_t *sim)
{
    sim_ev_t top = sim->heap[0];
    sim_ev_t last = sim->heap[--sim->n_ev];
    size_t i = 0, n = sim->n_ev;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && s_ev_before(&sim->heap[c + 1], &sim->heap[c]))
            c++;
        if (!s_ev_before(&sim->heap[c], &last))
            break;
        sim->heap[i] = sim->heap[c];
        i = c;
    }
    if (n > 0)
        sim->heap[i] = last;
    return top;
}

void psim_schedule(sim_t *sim, uint64_t at, sim_action_fn fn, int node, int arg)
{
    sim_ev_t ev = {.time = at, .kind = EV_ACTION, .node = node, .fn = fn, .arg = arg};
    s_push(sim, ev);
}

/* ------------------------------------------------------------ transport ---- */

int psim_find(const sim_t *sim, const uint8_t id[static 32])
{
    for (int i = 0; i < sim->n; i++)
        if (memcmp(sim->nodes[i].id, id, 32) == 0)
            return i;
    return -1;
}

static bool s_reachable(const sim_t *sim, int a, int b)
{
    return sim->group[a] == sim->group[b];
}

static bool s_io_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    sim->sends++;
    int j = psim_find(sim, peer);
    if (j < 0) {
        sim->unknown_dest++;
        return false;
    }
    if (j == nd->idx) {
        sim->self_sends++;
        return false;
    }
    if (!sim->link[nd->idx * sim->n + j])
        sim->unrouted++;
    sim_node_t *to = &sim->nodes[j];
    if (to->external) {
        sim->to_external++;
        return true;
    }
    double loss = sim->loss_override >= 0 ? sim->loss_override : sim->loss;
    int copies = psim_rng_chance(&sim->rng, sim->dup) ? 2 : 1;
    sim->dups += (uint64_t)(copies - 1);
    if (sim->verbose) {
        proto_envelope_t env;
        if (proto_envelope_decode(data, len, &env) == PROTO_OK && env.type < 16)
            sim->by_type[env.type]++;
    }
    if (psim_traced(sim, nd->idx, j)) {
        char tn[64];
        psim_trace(sim, nd->idx, j, "%d -> %d send %s (%zu bytes)%s", nd->idx, j,
                   psim_type_name(data, len, tn), len, copies > 1 ? " duplicated" : "");
    }
    for (int k = 0; k < copies; k++) {
        if (psim_rng_chance(&sim->rng, loss)) {
            sim->lost++;
            psim_trace(sim, nd->idx, j, "%d -> %d   lost", nd->idx, j);
            continue;
        }
        if (!to->up) {
            sim->dropped_down++;
            continue;
        }
        if (!s_reachable(sim, nd->idx, j)) {
            sim->dropped_part++;
            continue;
        }
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            abort();
        memcpy(copy, data, len);
        uint64_t at = sim->now + psim_rng_range(&sim->rng, 1, 50);
        if (sim->fifo) { /* TCP-like: never overtake an earlier message on this pair */
            uint64_t *last = &sim->last_at[nd->idx * sim->n + j];
            if (at < *last)
                at = *last;
            *last = at;
        }
        sim_ev_t ev = {.time = at,
                       .kind = EV_MSG,
                       .node = j,
                       .from = nd->idx,
                       .inc = to->inc,
                       .data = copy,
                       .len = len};
        s_push(sim, ev);
    }
    return true;
}

/*  Node index named by "tcp://node<i>:7000", or -1. */
static int s_endpoint_node(const sim_t *sim, const char *ep)
{
    const char *pre = "tcp://node";
    if (strncmp(ep, pre, strlen(pre)) != 0)
        return -1;
    char *end = NULL;
    long i = strtol(ep + strlen(pre), &end, 10);
    if (end == ep + strlen(pre) || strcmp(end, ":7000") != 0 || i < 0 || i >= sim->n)
        return -1;
    return (int)i;
}

static void s_io_dial(void *ctx, const uint8_t peer[static 32], const char *endpoint)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    sim->dials++;
    int j = s_endpoint_node(sim, endpoint);
    if (j >= 0 && j != nd->idx && sim->nodes[j].up && s_reachable(sim, nd->idx, j) &&
        memcmp(sim->nodes[j].id, peer, 32) == 0) {
        sim->link[nd->idx * sim->n + j] = true;
        psim_trace(sim, nd->idx, j, "%d dials %d: ok", nd->idx, j);
        return;
    }
    psim_trace(sim, nd->idx, j, "%d dials %d (%s): fails", nd->idx, j, endpoint);
    sim->dial_fails++;
    sim_ev_t ev = {.time = sim->now + psim_rng_range(&sim->rng, 20, 200),
                   .kind = EV_LINK_DOWN,
                   .node = nd->idx,
                   .inc = nd->inc};
    memcpy(ev.peer, peer, 32);
    s_push(sim, ev);
}

static void s_io_hangup(void *ctx, const uint8_t peer[static 32])
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    sim->hangups++;
    int j = psim_find(sim, peer);
    if (j >= 0)
        sim->link[nd->idx * sim->n + j] = false;
    psim_trace(sim, nd->idx, j, "%d hangs up on %d", nd->idx, j);
}

/* --------------------------------------------------------------- events ---- */

/*  Registered message number in a sim payload with MAGIC, or -1. */
static long s_payload_index(const uint8_t *data, size_t len, const char *magic)
{
    if (len != SIM_PAYLOAD_LEN || memcmp(data, magic, 4) != 0)
        return -1;
    uint32_t v =
        (uint32_t)data[4] << 24 | (uint32_t)data[5] << 16 | (uint32_t)data[6] << 8 | data[7];
    return (long)v;
}

static void s_on_deliver(void *ctx, const char *topic, uint32_t kind,
                         const uint8_t origin[static 32], const uint8_t *data, size_t len,
                         uint64_t time_ms)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    (void)time_ms;
    if (len == SIM_PAYLOAD_LEN && memcmp(data, SIM_MAGIC_FLOOD, 4) == 0) {
        nd->flood_delivered++;
        return;
    }
    long i = s_payload_index(data, len, SIM_MAGIC_GOSSIP);
    if (i < 0 || (size_t)i >= sim->n_msgs) {
        if (kind == 0)
            nd->internal_kind++; /* the core's own record gossip, if it surfaces */
        else
            nd->unexpected++;
        return;
    }
    sim_msg_t *m = &sim->msgs[i];
    if (strcmp(topic, m->topic) != 0 || memcmp(origin, sim->nodes[m->origin].id, 32) != 0 ||
        memcmp(data, m->payload, SIM_PAYLOAD_LEN) != 0 ||
        (m->topic[0] == '\0' && kind != SIM_KIND_BCAST)) {
        nd->unexpected++;
        return;
    }
    if (m->topic[0] != '\0' && !nd->member)
        nd->nonmember_deliveries++;
    nd->delivered++;
    if (++nd->counts[i] > 1)
        nd->dup_deliveries++;
}

static sim_op_t *s_op_for(sim_node_t *nd, uint64_t id)
{
    sim_t *sim = nd->sim;
    for (size_t k = 0; k < sim->n_ops; k++)
        if (sim->ops[k].src == nd->idx && sim->ops[k].id == id && id != 0)
            return &sim->ops[k];
    if (nd->pending_op >= 0) /* fired inside the call, before we learned the id */
        return &sim->ops[nd->pending_op];
    return NULL;
}

static void s_on_unicast(void *ctx, const uint8_t from[static 32], uint32_t kind,
                         const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    long i = kind == SIM_UNICAST_KIND ? s_payload_index(data, len, SIM_MAGIC_UNICAST) : -1;
    psim_trace(sim, psim_find(sim, from), nd->idx, "%d: on_unicast from %d, op %ld", nd->idx,
               psim_find(sim, from), i);
    if (i < 0 || (size_t)i >= sim->n_ops || sim->ops[i].dst != nd->idx ||
        memcmp(from, sim->nodes[sim->ops[i].src].id, 32) != 0) {
        nd->unexpected++;
        return;
    }
    sim->ops[i].recv++;
}

static void s_on_lookup_done(void *ctx, uint64_t lookup_id, const uint8_t target[static 32],
                             const char *endpoint)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    sim_op_t *op = s_op_for(nd, lookup_id);
    if (!op) {
        nd->unexpected++;
        return;
    }
    char want[48];
    snprintf(want, sizeof want, "tcp://node%d:7000", op->dst);
    psim_trace(sim, nd->idx, op->dst, "%d: on_lookup_done id %" PRIu64 ": %s", nd->idx, lookup_id,
               endpoint ? endpoint : "(failed)");
    op->done++;
    op->done_ms = sim->now;
    op->ok =
        endpoint && strcmp(endpoint, want) == 0 && memcmp(target, sim->nodes[op->dst].id, 32) == 0;
}

static void s_on_send_done(void *ctx, uint64_t send_id, int status, const char *reason)
{
    sim_node_t *nd = ctx;
    sim_op_t *op = s_op_for(nd, send_id);
    psim_trace(nd->sim, nd->idx, op ? op->dst : -1,
               "%d: on_send_done id %" PRIu64 " status %d (%s)", nd->idx, send_id, status,
               reason ? reason : "");
    if (!op) {
        nd->unexpected++;
        return;
    }
    op->done++;
    op->done_ms = nd->sim->now;
    op->status = status;
}

/* ---------------------------------------------------------------- nodes ---- */

static void s_tick_at(sim_t *sim, int i, uint64_t at)
{
    sim_ev_t ev = {.time = at, .kind = EV_TICK, .node = i, .inc = sim->nodes[i].inc};
    s_push(sim, ev);
}

/*  Starts node I's core at now (a fresh start, or a restart loading saved peers). */
int psim_node_start(sim_t *sim, int i)
{
    sim_node_t *nd = &sim->nodes[i];
    p2p_core_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.key = nd->key;
    memcpy(cfg.chain_id, sim->chain_id, 32);
    cfg.endpoints[0] = nd->endpoint;
    cfg.n_endpoints = 1;
    cfg.rng_seed = psim_rng_next(&sim->rng);
    cfg.agent = "genie-sim/0";
    cfg.params = sim->params;
    p2p_io_t io = {.ctx = nd,
                   .send = s_io_send,
                   .dial = s_io_dial,
                   .hangup = s_io_hangup,
                   .on_deliver = s_on_deliver,
                   .on_unicast = s_on_unicast,
                   .on_lookup_done = s_on_lookup_done,
                   .on_send_done = s_on_send_done,
                   .policy = NULL};
    nd->core = p2p_core_new(&cfg, &io, sim->now);
    SIM_CHECK(sim, nd->core != NULL, "p2p_core_new failed for node %d", i);
    if (!nd->core)
        return -1;
    nd->up = true;
    nd->up_since = sim->now;
    psim_trace(sim, i, i, "%d starts%s", i, nd->saved ? " (restart)" : "");
    memset(nd->counts, 0, SIM_MSGS_MAX * sizeof *nd->counts);
    if (nd->saved) {
        int loaded = p2p_core_load_peers(nd->core, nd->saved, nd->saved_len, sim->now);
        SIM_CHECK(sim, loaded >= 0, "node %d could not load its saved peers", i);
        free(nd->saved);
        nd->saved = NULL;
        nd->saved_len = 0;
    }
    if (nd->member) {
        int rc = p2p_core_room_join(nd->core, SIM_ROOM, sim->now);
        SIM_CHECK(sim, rc == 0, "node %d could not rejoin %s", i, SIM_ROOM);
    }
    s_tick_at(sim, i, sim->now + psim_rng_range(&sim->rng, 1, SIM_TICK_MS));
    return 0;
}

void psim_node_crash(sim_t *sim, int i)
{
    sim_node_t *nd = &sim->nodes[i];
    if (!nd->up || nd->external)
        return;
    free(nd->saved);
    nd->saved = NULL;
    nd->saved_len = 0;
    int rc = p2p_core_save_peers(nd->core, sim->now, &nd->saved, &nd->saved_len);
    SIM_CHECK(sim, rc == 0, "node %d could not save its peers", i);
    p2p_core_destroy(&nd->core);
    psim_trace(sim, i, i, "%d crashes", i);
    nd->up = false;
    nd->ever_down = true;
    nd->inc++;
    for (int j = 0; j < sim->n; j++) {
        bool linked = sim->link[i * sim->n + j] || sim->link[j * sim->n + i];
        sim->link[i * sim->n + j] = false;
        if (!linked || !sim->nodes[j].up || sim->nodes[j].external)
            continue;
        if (sim->crash_notify && psim_rng_chance(&sim->rng, 0.5)) {
            sim->link[j * sim->n + i] = false;
            sim_ev_t ev = {.time = sim->now + psim_rng_range(&sim->rng, 100, 1000),
                           .kind = EV_LINK_DOWN,
                           .node = j,
                           .inc = sim->nodes[j].inc};
            memcpy(ev.peer, nd->id, 32);
            s_push(sim, ev);
        }
    }
}

static void s_process(sim_t *sim, sim_ev_t *ev)
{
    sim_node_t *nd = &sim->nodes[ev->node];
    bool live = nd->up && !nd->external && nd->inc == ev->inc;
    switch (ev->kind) {
    case EV_MSG:
        if (!live) {
            sim->dropped_down++;
        } else if (!s_reachable(sim, ev->from, ev->node)) {
            sim->dropped_part++;
        } else {
            sim->delivered++;
            sim->link[ev->node * sim->n + ev->from] = true; /* it can answer on this route */
            if (psim_traced(sim, ev->from, ev->node)) {
                char tn[64];
                psim_trace(sim, ev->from, ev->node, "%d -> %d   delivered %s", ev->from, ev->node,
                           psim_type_name(ev->data, ev->len, tn));
            }
            p2p_core_on_message(nd->core, sim->nodes[ev->from].id, ev->data, ev->len, sim->now);
        }
        free(ev->data);
        break;
    case EV_LINK_DOWN:
        psim_trace(sim, ev->node, psim_find(sim, ev->peer), "%d: link down to %d%s", ev->node,
                   psim_find(sim, ev->peer), live ? "" : " (stale)");
        if (live)
            p2p_core_on_link_down(nd->core, ev->peer, sim->now);
        break;
    case EV_TICK:
        if (live) {
            p2p_core_tick(nd->core, sim->now);
            s_tick_at(sim, ev->node, sim->now + SIM_TICK_MS);
        }
        break;
    case EV_ACTION:
        ev->fn(sim, ev->node, ev->arg);
        break;
    }
}

/*  Runs every event up to virtual time T (absolute). */
void psim_run_until(sim_t *sim, uint64_t t)
{
    while (sim->n_ev > 0 && sim->heap[0].time <= t) {
        sim_ev_t ev = s_pop(sim);
        if (ev.time > sim->now)
            sim->now = ev.time;
        s_process(sim, &ev);
    }
    if (t > sim->now)
        sim->now = t;
}

/*  Runs for MS of virtual time. */
void psim_run_for(sim_t *sim, uint64_t ms)
{
    psim_run_until(sim, sim->now + ms);
}

/* ------------------------------------------------------------ lifecycle ---- */

/*  A simulation of N nodes (the last N_EXTERNAL without a core), none started yet. */
sim_t *psim_new(const char *scenario, uint64_t seed, int n, int n_external)
{
    sim_t *sim = calloc(1, sizeof *sim);
    if (!sim)
        abort();
    sim->scenario = scenario;
    sim->seed = seed;
    sim->loss_override = getenv("GENIE_SIM_LOSS") ? strtod(getenv("GENIE_SIM_LOSS"), NULL) : -1;
    sim->verbose = getenv("GENIE_SIM_VERBOSE") != NULL;
    const char *fifo = getenv("GENIE_SIM_FIFO");
    sim->fifo = fifo && *fifo && *fifo != '0';
    sim->trace_a = sim->trace_b = -1;
    const char *tr = getenv("GENIE_SIM_TRACE");
    if (tr && *tr) {
        char *end = NULL;
        sim->trace_a = (int)strtol(tr, &end, 10);
        if (end && *end == ',')
            sim->trace_b = (int)strtol(end + 1, NULL, 10);
    }
    uint64_t mix = seed ^ 0x5eed5eed5eed5eedull;
    for (const char *p = scenario; *p; p++)
        mix = mix * 131 + (uint8_t)*p;
    s_rng_seed(&sim->rng, mix);
    sim->now = SIM_BASE_MS;
    sim->n = n;
    size_t un = (size_t)(n > 0 && n <= 4096 ? n : 1);
    sim->nodes = calloc(un, sizeof *sim->nodes);
    sim->link = calloc(un * un, sizeof *sim->link);
    sim->group = calloc(un, sizeof *sim->group);
    sim->last_at = calloc(un * un, sizeof *sim->last_at);
    sim->msgs = calloc(SIM_MSGS_MAX, sizeof *sim->msgs);
    if (!sim->nodes || !sim->link || !sim->group || !sim->msgs || !sim->last_at)
        abort();
    proto_hash("genie/sim-chain", (const uint8_t *)"sim", 3, sim->chain_id);
    p2p_params_default(&sim->params);
    sim->params.link_auth = true; /* as the node's CURVE links: the sim delivers by true id */
    sim->crash_notify = true;
    for (int i = 0; i < n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        nd->sim = sim;
        nd->idx = i;
        nd->external = i >= n - n_external;
        nd->pending_op = -1;
        nd->seed = -1;
        uint8_t kseed[32];
        uint64_t x = seed * 0x100000001b3ull + (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;
        for (int w = 0; w < 4; w++) {
            uint64_t v = s_splitmix(&x);
            memcpy(kseed + 8 * w, &v, 8);
        }
        nd->key = proto_key_from_seed(kseed);
        if (!nd->key)
            abort();
        memcpy(nd->id, proto_key_public(nd->key), 32);
        snprintf(nd->endpoint, sizeof nd->endpoint, "tcp://node%d:7000", i);
        nd->counts = calloc(SIM_MSGS_MAX, sizeof *nd->counts);
        if (!nd->counts)
            abort();
    }
    return sim;
}

void psim_destroy(sim_t **sim_p)
{
    sim_t *sim = *sim_p;
    if (!sim)
        return;
    for (size_t k = 0; k < sim->n_ev; k++)
        free(sim->heap[k].data);
    free(sim->heap);
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        p2p_core_destroy(&nd->core);
        proto_key_destroy(&nd->key);
        free(nd->saved);
        free(nd->counts);
    }
    free(sim->nodes);
    free(sim->link);
    free(sim->group);
    free(sim->last_at);
    free(sim->msgs);
    free(sim);
    *sim_p = NULL;
}
