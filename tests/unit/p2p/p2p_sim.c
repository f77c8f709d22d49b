/*  p2p_sim: a deterministic network simulator for the sans-IO p2p core (p2p_core.h).
 *
 *  Many cores run in one process over a simulated network. One seeded PRNG drives
 *  everything: virtual time in ms, an event queue (a binary heap ordered by time, then by
 *  insertion number) of message deliveries, failed-dial reports, timer ticks and scripted
 *  actions, random delays, loss, duplication, partitions and crashes. The cores' own
 *  randomness is seeded from the same PRNG, so a run is a pure function of its seed and
 *  any failure replays exactly.
 *
 *  Usage: a test #includes this file (tests/CMakeLists.txt builds only test_*.c, so the
 *  harness is compiled as part of the test that includes it; everything here is static):
 *
 *      sim_t *sim = s_sim_new("name", seed, 64, 0);     64 nodes, none hand-driven
 *      sim->loss = 0.05;
 *      s_boot(sim);                                     start cores, one seed each
 *      s_run_for(sim, 10000);                           10 s of virtual time
 *      s_schedule(sim, sim->now + 500, s_act_broadcast, 0, 0);
 *      s_run_for(sim, 30000);
 *      sim_tally_t t = s_tally(sim, from, to, true);    who got which message how often
 *      s_check_invariants(sim);
 *      s_sim_destroy(&sim);
 *
 *  The simulated transport, in the core's terms:
 *    - send(peer, data): a copy is delivered to PEER after 1..50 ms, dropped with
 *      probability LOSS, duplicated with probability DUP (the copy has its own delay),
 *      never across a partition nor to a down node (or to a later incarnation of it).
 *      Independent delays reorder messages between the same two nodes; GENIE_SIM_FIFO=1
 *      keeps each pair's order instead, as one TCP connection would.
 *      The receiver's core is told the link peer is the SENDER's id (the transport
 *      authenticates link peers).
 *    - dial(peer, endpoint): "tcp://node<i>:7000" names node i; if it is up, reachable
 *      and its id is PEER, the link simply works (sends just flow); otherwise
 *      on_link_down(peer) is reported to the dialer 20..200 ms later.
 *    - hangup(peer): recorded; the route is forgotten (a later send counts as unrouted,
 *      but is still delivered: the harness only counts it).
 *    - a crash saves the node's peers (p2p_core_save_peers), destroys its core and marks
 *      it down; each peer linked to it hears on_link_down with probability 1/2 (as if TCP
 *      saw the reset), the others find out by silence. A restart makes a new core with
 *      the same key and a new PRNG seed, loads the saved peers (no seed) and rejoins the
 *      rooms it was in.
 *  Nodes marked external have no core: a test feeds their hand-made messages to a victim
 *  with s_inject (an attacker), and what cores send them is dropped.
 *
 *  Debugging knobs (environment): GENIE_SIM_TRACE="A,B" or "A" prints every transport
 *  event between nodes A and B (or involving A); GENIE_SIM_VERBOSE=1 prints link counts,
 *  components and traffic by message type; GENIE_SIM_LOSS=p overrides the loss rate;
 *  GENIE_SIM_RESEED=1 re-gives nodes their boot seed every 2 s (see s_act_reseed);
 *  GENIE_SIM_FIFO=1 keeps per-pair message order.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "p2p/p2p_record.h"
#include "proto/proto_envelope.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define SIM_BASE_MS ((uint64_t) 1700000000000u) /* virtual time starts at a realistic epoch */
#define SIM_TICK_MS 50u
#define SIM_MSGS_MAX 1024u           /* registered gossip messages per run */
#define SIM_OPS_MAX 256u             /* lookups / unicasts per run */
#define SIM_KIND_BCAST 32u           /* kind of our node-wide broadcasts (like a tx) */
#define SIM_ROOM "r1"
#define SIM_MAGIC_GOSSIP "GSIM"
#define SIM_MAGIC_UNICAST "GSUN"
#define SIM_MAGIC_FLOOD "GSFL"
#define SIM_PAYLOAD_LEN 16u

/* ---------------------------------------------------------------- PRNG ---- */

/*  xoshiro256** seeded through splitmix64. */
typedef struct {
    uint64_t s[4];
} sim_rng_t;

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

static uint64_t s_rng_next(sim_rng_t *r)
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
static uint64_t s_rng_below(sim_rng_t *r, uint64_t n)
{
    return s_rng_next(r) % n;
}

/*  Uniform in [lo, hi]. */
static uint64_t s_rng_range(sim_rng_t *r, uint64_t lo, uint64_t hi)
{
    return lo + s_rng_below(r, hi - lo + 1);
}

static bool s_rng_chance(sim_rng_t *r, double p)
{
    return p > 0 && (double) (s_rng_next(r) >> 11) * 0x1.0p-53 < p;
}

/* -------------------------------------------------------------- structs ---- */

typedef struct sim_t sim_t;
typedef void (*sim_action_fn)(sim_t *sim, int node, int arg);

typedef enum { EV_MSG, EV_LINK_DOWN, EV_TICK, EV_ACTION } sim_ev_kind_t;

typedef struct {
    uint64_t time;
    uint64_t seq;
    sim_ev_kind_t kind;
    int node;        /* the node it happens at */
    int from;        /* EV_MSG: sending node */
    uint32_t inc;    /* NODE's incarnation when scheduled (stale events are dropped) */
    uint8_t peer[32];/* EV_LINK_DOWN */
    uint8_t *data;   /* EV_MSG: owned copy */
    size_t len;
    sim_action_fn fn;/* EV_ACTION */
    int arg;
} sim_ev_t;

typedef struct {
    sim_t *sim;
    int idx;
    proto_key_t *key;
    uint8_t id[32];
    char endpoint[48];
    p2p_core_t *core;
    bool up;
    bool external;      /* no core: a hand-driven (attacker) identity */
    bool member;        /* in SIM_ROOM (the application's intent; rejoined on restart) */
    bool ever_down;     /* crashed at least once */
    uint32_t inc;       /* incarnation: bumped at each crash */
    uint32_t restarts;
    uint64_t up_since;  /* when the current incarnation started */
    uint8_t *saved;     /* peers saved at the last crash */
    size_t saved_len;
    uint16_t *counts;   /* deliveries per registered message, this incarnation */
    uint64_t delivered, dup_deliveries, nonmember_deliveries, unexpected, internal_kind;
    uint64_t flood_delivered;
    int pending_op;     /* op being issued (a callback may fire inside the call) */
    int seed;           /* the node it was given as seed at boot, or -1 */
} sim_node_t;

typedef struct {
    char topic[P2P_ROOM_NAME_MAX];
    int origin;
    uint32_t origin_inc;
    uint64_t time;
    bool posted; /* the core accepted it */
    uint8_t payload[SIM_PAYLOAD_LEN];
} sim_msg_t;

typedef struct {
    int src, dst;
    uint64_t id;     /* lookup id or send id */
    bool known;      /* lookups: target was in src's table when issued */
    bool linked;     /* target was linked to src when issued */
    int done;        /* completion callbacks seen */
    int status;      /* unicast: on_send_done status */
    bool ok;         /* lookup: the right endpoint */
    uint32_t recv;   /* unicast: deliveries at dst */
    uint64_t issued_ms, done_ms;
} sim_op_t;

struct sim_t {
    const char *scenario;
    uint64_t seed;
    sim_rng_t rng;
    uint64_t now;
    uint64_t next_seq;
    sim_ev_t *heap;
    size_t n_ev, cap_ev;
    int n;
    sim_node_t *nodes;
    bool *link;        /* link[i*n+j]: i has a route to j (dialed it, or heard from it) */
    int *group;        /* partition group per node */
    double loss, dup;
    bool crash_notify;
    uint8_t chain_id[32];
    p2p_params_t params;
    sim_msg_t *msgs;
    size_t n_msgs;
    sim_op_t ops[SIM_OPS_MAX];
    size_t n_ops;
    /* transport counters */
    uint64_t sends, delivered, lost, dropped_down, dropped_part, dups, unrouted, self_sends,
        unknown_dest, dials, dial_fails, hangups, to_external;
    uint64_t fails;   /* SIM_CHECK failures in this run */
    uint64_t env_seq; /* envelope numbers of hand-made (attacker) messages */
    double loss_override; /* GENIE_SIM_LOSS (debugging), or < 0 */
    int trace_a, trace_b; /* GENIE_SIM_TRACE */
    bool verbose;          /* GENIE_SIM_VERBOSE */
    bool fifo;             /* GENIE_SIM_FIFO: per-pair order kept (else delays reorder) */
    uint64_t *last_at;     /* [i*n+j]: last delivery time scheduled from i to j */
    uint64_t by_type[16];  /* sends per p2p message type (verbose only) */
};

/* --------------------------------------------------------------- checks ---- */

static void s_check(sim_t *sim, bool ok, const char *expr, const char *file, int line,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void s_check(sim_t *sim, bool ok, const char *expr, const char *file, int line,
                    const char *fmt, ...)
{
    testutil_check(ok, expr, file, line);
    if (ok)
        return;
    sim->fails++;
    fprintf(stderr, "  [replay: GENIE_SIM_SCENARIO=%s GENIE_SIM_SEED=%" PRIu64 "] t=%" PRIu64
                    " ms: ",
            sim->scenario, sim->seed, sim->now - SIM_BASE_MS);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

#define SIM_CHECK(sim, cond, ...) s_check((sim), (cond), #cond, __FILE__, __LINE__, __VA_ARGS__)

/*  GENIE_SIM_TRACE="A,B" (or "A") prints every transport event between nodes A and B
 *  (or involving A), their starts and crashes, and their lookup/unicast callbacks, for
 *  replaying a failure. */
static bool s_traced(const sim_t *sim, int a, int b)
{
    if (sim->trace_a < 0)
        return false;
    if (a == b) /* an event of one node (start, crash) */
        return a == sim->trace_a || a == sim->trace_b;
    if (sim->trace_b < 0)
        return a == sim->trace_a || b == sim->trace_a;
    return (a == sim->trace_a && b == sim->trace_b) || (a == sim->trace_b && b == sim->trace_a);
}

static void s_trace(const sim_t *sim, int a, int b, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_trace(const sim_t *sim, int a, int b, const char *fmt, ...)
{
    if (!s_traced(sim, a, b))
        return;
    printf("    trace t=%" PRIu64 " ", sim->now - SIM_BASE_MS);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/*  Message type name of an encoded envelope (for traces), with the number of records of
 *  NODES and PEERS, written to OUT; returns OUT. */
static const char *s_type_name(const uint8_t *data, size_t len, char out[static 64])
{
    proto_envelope_t env;
    if (proto_envelope_decode(data, len, &env) != PROTO_OK)
        return "(undecodable)";
    snprintf(out, 64, "%s", proto_msgtype_name(env.type));
    if (env.type == PROTO_MSG_NODES || env.type == PROTO_MSG_PEERS) {
        p2p_records_msg_t *m = malloc(sizeof *m);
        if (m && p2p_msg_read_records(env.body, env.body_len, env.type == PROTO_MSG_NODES, m) ==
                     PROTO_OK)
            snprintf(out, 64, "%s[%zu records]", proto_msgtype_name(env.type),
                     m->n_records);
        free(m);
    }
    return out;
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

static void s_schedule(sim_t *sim, uint64_t at, sim_action_fn fn, int node, int arg)
{
    sim_ev_t ev = {.time = at, .kind = EV_ACTION, .node = node, .fn = fn, .arg = arg};
    s_push(sim, ev);
}

/* ------------------------------------------------------------ transport ---- */

static int s_find(const sim_t *sim, const uint8_t id[static 32])
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

static void s_io_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    sim->sends++;
    int j = s_find(sim, peer);
    if (j < 0) {
        sim->unknown_dest++;
        return;
    }
    if (j == nd->idx) {
        sim->self_sends++;
        return;
    }
    if (!sim->link[nd->idx * sim->n + j])
        sim->unrouted++;
    sim_node_t *to = &sim->nodes[j];
    if (to->external) {
        sim->to_external++;
        return;
    }
    double loss = sim->loss_override >= 0 ? sim->loss_override : sim->loss;
    int copies = s_rng_chance(&sim->rng, sim->dup) ? 2 : 1;
    sim->dups += (uint64_t) (copies - 1);
    if (sim->verbose) {
        proto_envelope_t env;
        if (proto_envelope_decode(data, len, &env) == PROTO_OK && env.type < 16)
            sim->by_type[env.type]++;
    }
    if (s_traced(sim, nd->idx, j)) {
        char tn[64];
        s_trace(sim, nd->idx, j, "%d -> %d send %s (%zu bytes)%s", nd->idx, j,
                s_type_name(data, len, tn), len, copies > 1 ? " duplicated" : "");
    }
    for (int k = 0; k < copies; k++) {
        if (s_rng_chance(&sim->rng, loss)) {
            sim->lost++;
            s_trace(sim, nd->idx, j, "%d -> %d   lost", nd->idx, j);
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
        uint64_t at = sim->now + s_rng_range(&sim->rng, 1, 50);
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
    return (int) i;
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
        s_trace(sim, nd->idx, j, "%d dials %d: ok", nd->idx, j);
        return;
    }
    s_trace(sim, nd->idx, j, "%d dials %d (%s): fails", nd->idx, j, endpoint);
    sim->dial_fails++;
    sim_ev_t ev = {.time = sim->now + s_rng_range(&sim->rng, 20, 200),
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
    int j = s_find(sim, peer);
    if (j >= 0)
        sim->link[nd->idx * sim->n + j] = false;
    s_trace(sim, nd->idx, j, "%d hangs up on %d", nd->idx, j);
}

/* --------------------------------------------------------------- events ---- */

/*  Registered message number in a sim payload with MAGIC, or -1. */
static long s_payload_index(const uint8_t *data, size_t len, const char *magic)
{
    if (len != SIM_PAYLOAD_LEN || memcmp(data, magic, 4) != 0)
        return -1;
    uint32_t v = (uint32_t) data[4] << 24 | (uint32_t) data[5] << 16 | (uint32_t) data[6] << 8 |
                 data[7];
    return (long) v;
}

static void s_on_deliver(void *ctx, const char *topic, uint32_t kind,
                         const uint8_t origin[static 32], const uint8_t *data, size_t len,
                         uint64_t time_ms)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    (void) time_ms;
    if (len == SIM_PAYLOAD_LEN && memcmp(data, SIM_MAGIC_FLOOD, 4) == 0) {
        nd->flood_delivered++;
        return;
    }
    long i = s_payload_index(data, len, SIM_MAGIC_GOSSIP);
    if (i < 0 || (size_t) i >= sim->n_msgs) {
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

static void s_on_unicast(void *ctx, const uint8_t from[static 32], const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    long i = s_payload_index(data, len, SIM_MAGIC_UNICAST);
    s_trace(sim, s_find(sim, from), nd->idx, "%d: on_unicast from %d, op %ld", nd->idx,
            s_find(sim, from), i);
    if (i < 0 || (size_t) i >= sim->n_ops || sim->ops[i].dst != nd->idx ||
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
    s_trace(sim, nd->idx, op->dst, "%d: on_lookup_done id %" PRIu64 ": %s", nd->idx, lookup_id,
            endpoint ? endpoint : "(failed)");
    op->done++;
    op->done_ms = sim->now;
    op->ok = endpoint && strcmp(endpoint, want) == 0 &&
             memcmp(target, sim->nodes[op->dst].id, 32) == 0;
}

static void s_on_send_done(void *ctx, uint64_t send_id, int status, const char *reason)
{
    sim_node_t *nd = ctx;
    sim_op_t *op = s_op_for(nd, send_id);
    s_trace(nd->sim, nd->idx, op ? op->dst : -1, "%d: on_send_done id %" PRIu64 " status %d (%s)",
            nd->idx, send_id, status, reason ? reason : "");
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
static int s_node_start(sim_t *sim, int i)
{
    sim_node_t *nd = &sim->nodes[i];
    p2p_core_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.key = nd->key;
    memcpy(cfg.chain_id, sim->chain_id, 32);
    cfg.endpoints[0] = nd->endpoint;
    cfg.n_endpoints = 1;
    cfg.rng_seed = s_rng_next(&sim->rng);
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
    s_trace(sim, i, i, "%d starts%s", i, nd->saved ? " (restart)" : "");
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
    s_tick_at(sim, i, sim->now + s_rng_range(&sim->rng, 1, SIM_TICK_MS));
    return 0;
}

static void s_node_crash(sim_t *sim, int i)
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
    s_trace(sim, i, i, "%d crashes", i);
    nd->up = false;
    nd->ever_down = true;
    nd->inc++;
    for (int j = 0; j < sim->n; j++) {
        bool linked = sim->link[i * sim->n + j] || sim->link[j * sim->n + i];
        sim->link[i * sim->n + j] = false;
        if (!linked || !sim->nodes[j].up || sim->nodes[j].external)
            continue;
        if (sim->crash_notify && s_rng_chance(&sim->rng, 0.5)) {
            sim->link[j * sim->n + i] = false;
            sim_ev_t ev = {.time = sim->now + s_rng_range(&sim->rng, 100, 1000),
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
            if (s_traced(sim, ev->from, ev->node)) {
                char tn[64];
                s_trace(sim, ev->from, ev->node, "%d -> %d   delivered %s", ev->from, ev->node,
                        s_type_name(ev->data, ev->len, tn));
            }
            p2p_core_on_message(nd->core, sim->nodes[ev->from].id, ev->data, ev->len, sim->now);
        }
        free(ev->data);
        break;
    case EV_LINK_DOWN:
        s_trace(sim, ev->node, s_find(sim, ev->peer), "%d: link down to %d%s", ev->node,
                s_find(sim, ev->peer), live ? "" : " (stale)");
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
static void s_run_until(sim_t *sim, uint64_t t)
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
static void s_run_for(sim_t *sim, uint64_t ms)
{
    s_run_until(sim, sim->now + ms);
}

/* ------------------------------------------------------------ lifecycle ---- */

/*  A simulation of N nodes (the last N_EXTERNAL without a core), none started yet. */
static sim_t *s_sim_new(const char *scenario, uint64_t seed, int n, int n_external)
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
        sim->trace_a = (int) strtol(tr, &end, 10);
        if (end && *end == ',')
            sim->trace_b = (int) strtol(end + 1, NULL, 10);
    }
    uint64_t mix = seed ^ 0x5eed5eed5eed5eedull;
    for (const char *p = scenario; *p; p++)
        mix = mix * 131 + (uint8_t) *p;
    s_rng_seed(&sim->rng, mix);
    sim->now = SIM_BASE_MS;
    sim->n = n;
    size_t un = (size_t) (n > 0 && n <= 4096 ? n : 1);
    sim->nodes = calloc(un, sizeof *sim->nodes);
    sim->link = calloc(un * un, sizeof *sim->link);
    sim->group = calloc(un, sizeof *sim->group);
    sim->last_at = calloc(un * un, sizeof *sim->last_at);
    sim->msgs = calloc(SIM_MSGS_MAX, sizeof *sim->msgs);
    if (!sim->nodes || !sim->link || !sim->group || !sim->msgs || !sim->last_at)
        abort();
    proto_hash("genie/sim-chain", (const uint8_t *) "sim", 3, sim->chain_id);
    p2p_params_default(&sim->params);
    sim->crash_notify = true;
    for (int i = 0; i < n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        nd->sim = sim;
        nd->idx = i;
        nd->external = i >= n - n_external;
        nd->pending_op = -1;
        nd->seed = -1;
        uint8_t kseed[32];
        uint64_t x = seed * 0x100000001b3ull + (uint64_t) i * 0x9e3779b97f4a7c15ull + 1;
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

static void s_sim_destroy(sim_t **sim_p)
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

/*  True if A's core has a ready link to B; *KNOWN: B is in A's table. */
static bool s_core_linked(sim_t *sim, int a, int b, bool *known)
{
    p2p_peer_info_t *info = calloc((size_t) sim->params.table_capacity + 1, sizeof *info);
    if (!info)
        abort();
    size_t n = p2p_core_peers(sim->nodes[a].core, sim->now, info, sim->params.table_capacity);
    bool linked = false;
    *known = false;
    for (size_t k = 0; k < n; k++)
        if (memcmp(info[k].id, sim->nodes[b].id, 32) == 0) {
            *known = true;
            linked = info[k].linked;
        }
    free(info);
    return linked;
}

/*  GENIE_SIM_RESEED=1 (exploration only, off by default): every 2 s, a node that does not
 *  know its boot seed yet is given it again, as a shell could do. Lets the other
 *  scenarios run past the "lost seed handshake strands a node" problem. */
static void s_act_reseed(sim_t *sim, int node, int arg)
{
    (void) node;
    (void) arg;
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        bool known;
        if (nd->seed < 0 || !nd->up || !sim->nodes[nd->seed].up)
            continue;
        s_core_linked(sim, i, nd->seed, &known);
        if (!known)
            (void) p2p_core_add_seed(nd->core, sim->nodes[nd->seed].id,
                                     sim->nodes[nd->seed].endpoint, sim->now);
    }
    s_schedule(sim, sim->now + 2000, s_act_reseed, 0, 0);
}

/*  Starts every core node at now; node i > 0 gets one seed, a random earlier node. */
static void s_boot(sim_t *sim)
{
    for (int i = 0; i < sim->n; i++) {
        if (sim->nodes[i].external)
            continue;
        if (s_node_start(sim, i) != 0)
            continue;
        if (i == 0)
            continue;
        int s = (int) s_rng_below(&sim->rng, (uint64_t) i);
        sim->nodes[i].seed = s;
        int rc = p2p_core_add_seed(sim->nodes[i].core, sim->nodes[s].id, sim->nodes[s].endpoint,
                                   sim->now);
        SIM_CHECK(sim, rc == 0, "node %d: add_seed(node %d) failed", i, s);
    }
    const char *reseed = getenv("GENIE_SIM_RESEED");
    if (reseed && *reseed && *reseed != '0')
        s_schedule(sim, sim->now + 2000, s_act_reseed, 0, 0);
}

static int s_uf_find(int *parent, int x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

/*  Connected components of the overlay among up nodes (an edge where either end's core
 *  reports a ready link), or among the members of SIM_ROOM only (the room's own overlay:
 *  room posts travel over member-to-member links only), and the size of the largest. */
static int s_components(sim_t *sim, bool members_only, int *largest)
{
    size_t n_nodes = (size_t) (sim->n > 0 ? sim->n : 1);
    int *parent = calloc(n_nodes, sizeof *parent);
    int *size = calloc(n_nodes, sizeof *size);
    p2p_peer_info_t *info = calloc(sim->params.table_capacity + 1, sizeof *info);
    if (!parent || !size || !info)
        abort();
    for (int i = 0; i < sim->n; i++)
        parent[i] = i;
    for (int i = 0; i < sim->n; i++) {
        if (!sim->nodes[i].up || (members_only && !sim->nodes[i].member))
            continue;
        size_t n = p2p_core_peers(sim->nodes[i].core, sim->now, info, sim->params.table_capacity);
        for (size_t k = 0; k < n; k++) {
            int j = info[k].linked ? s_find(sim, info[k].id) : -1;
            if (j >= 0 && sim->nodes[j].up && (!members_only || sim->nodes[j].member))
                parent[s_uf_find(parent, i)] = s_uf_find(parent, j);
        }
    }
    int comps = 0;
    *largest = 0;
    for (int i = 0; i < sim->n; i++) {
        if (!sim->nodes[i].up || (members_only && !sim->nodes[i].member))
            continue;
        int r = s_uf_find(parent, i);
        if (size[r]++ == 0)
            comps++;
        if (size[r] > *largest)
            *largest = size[r];
    }
    free(parent);
    free(size);
    free(info);
    return comps;
}

/*  With GENIE_SIM_VERBOSE set: every node's ready links and table size. */
static void s_print_links(sim_t *sim, const char *when)
{
    if (!sim->verbose)
        return;
    printf("    links %s (t=%" PRIu64 ", sends so far %" PRIu64 ", cpu %.1fs):", when,
           sim->now - SIM_BASE_MS, sim->sends, (double) clock() / CLOCKS_PER_SEC);
    for (int i = 0; i < sim->n; i++) {
        if (!sim->nodes[i].up) {
            printf(" %d:down", i);
            continue;
        }
        p2p_stats_t st;
        p2p_core_stats(sim->nodes[i].core, &st);
        printf(" %d:%zu/%zu", i, st.links, st.table_entries);
    }
    int largest, comps = s_components(sim, false, &largest);
    int r_largest, r_comps = s_components(sim, true, &r_largest);
    printf("\n    components: %d, largest %d; room %s: %d, largest %d; seeds never learned:", comps,
           largest, SIM_ROOM, r_comps, r_largest);
    for (int i = 0; i < sim->n; i++) {
        bool known;
        int s = sim->nodes[i].seed;
        if (s >= 0 && sim->nodes[i].up && sim->nodes[s].up) {
            s_core_linked(sim, i, s, &known);
            if (!known)
                printf(" %d->%d", i, s);
        }
    }
    printf("\n");
}

static void s_print_transport(const sim_t *sim)
{
    printf("    transport: sends=%" PRIu64 " delivered=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
           " down=%" PRIu64 " part=%" PRIu64 " unrouted=%" PRIu64 " dials=%" PRIu64
           " dial_fail=%" PRIu64 " hangups=%" PRIu64 "\n",
           sim->sends, sim->delivered, sim->lost, sim->dups, sim->dropped_down,
           sim->dropped_part, sim->unrouted, sim->dials, sim->dial_fails, sim->hangups);
    if (sim->verbose) {
        printf("    by type:");
        for (uint32_t t = 1; t < 16; t++)
            if (sim->by_type[t])
                printf(" %s=%" PRIu64, proto_msgtype_name(t), sim->by_type[t]);
        printf("\n");
    }
}

/*  Checks that hold in every run: no message to oneself or to an unknown id, no
 *  unexpected or duplicate delivery, no room post delivered to a non-member. */
static void s_check_invariants(sim_t *sim)
{
    uint64_t unexpected = 0, dups = 0, nonmember = 0;
    for (int i = 0; i < sim->n; i++) {
        unexpected += sim->nodes[i].unexpected;
        dups += sim->nodes[i].dup_deliveries;
        nonmember += sim->nodes[i].nonmember_deliveries;
    }
    SIM_CHECK(sim, sim->self_sends == 0, "%" PRIu64 " sends to self", sim->self_sends);
    SIM_CHECK(sim, sim->unknown_dest == 0, "%" PRIu64 " sends to unknown ids", sim->unknown_dest);
    SIM_CHECK(sim, unexpected == 0, "%" PRIu64 " unexpected deliveries/callbacks", unexpected);
    SIM_CHECK(sim, dups == 0, "%" PRIu64 " duplicate deliveries within one incarnation", dups);
    SIM_CHECK(sim, nonmember == 0, "%" PRIu64 " room posts delivered to non-members", nonmember);
}

/* ---------------------------------------------------------- gossip load ---- */

/*  Registers a message from ORIGIN on TOPIC and returns its number. */
static int s_msg_new(sim_t *sim, const char *topic, int origin)
{
    if (sim->n_msgs >= SIM_MSGS_MAX)
        abort();
    int k = (int) sim->n_msgs++;
    sim_msg_t *m = &sim->msgs[k];
    snprintf(m->topic, sizeof m->topic, "%s", topic);
    m->origin = origin;
    m->origin_inc = sim->nodes[origin].inc;
    m->time = sim->now;
    memcpy(m->payload, SIM_MAGIC_GOSSIP, 4);
    m->payload[4] = (uint8_t) (k >> 24);
    m->payload[5] = (uint8_t) (k >> 16);
    m->payload[6] = (uint8_t) (k >> 8);
    m->payload[7] = (uint8_t) k;
    uint64_t r = s_rng_next(&sim->rng);
    memcpy(m->payload + 8, &r, 8);
    return k;
}

/*  Picks a random up node (a member of SIM_ROOM if MEMBERS), or -1. */
static int s_pick_up(sim_t *sim, bool members)
{
    int cand[1024], n = 0;
    for (int i = 0; i < sim->n && n < 1024; i++) {
        sim_node_t *nd = &sim->nodes[i];
        if (nd->up && !nd->external && (!members || nd->member))
            cand[n++] = i;
    }
    return n ? cand[s_rng_below(&sim->rng, (uint64_t) n)] : -1;
}

static void s_act_post(sim_t *sim, int node, int arg)
{
    (void) node;
    (void) arg;
    int o = s_pick_up(sim, true);
    if (o < 0)
        return;
    int k = s_msg_new(sim, SIM_ROOM, o);
    sim_msg_t *m = &sim->msgs[k];
    int rc = p2p_core_room_post(sim->nodes[o].core, SIM_ROOM, m->payload, SIM_PAYLOAD_LEN,
                                sim->now);
    SIM_CHECK(sim, rc == 0, "node %d: room_post refused", o);
    m->posted = rc == 0;
}

static void s_act_broadcast(sim_t *sim, int node, int arg)
{
    (void) node;
    (void) arg;
    int o = s_pick_up(sim, false);
    if (o < 0)
        return;
    int k = s_msg_new(sim, "", o);
    sim_msg_t *m = &sim->msgs[k];
    int rc = p2p_core_broadcast(sim->nodes[o].core, SIM_KIND_BCAST, m->payload, SIM_PAYLOAD_LEN,
                                sim->now);
    SIM_CHECK(sim, rc == 0, "node %d: broadcast refused", o);
    m->posted = rc == 0;
}

/*  Every up node joins SIM_ROOM, except about a quarter. */
static void s_join_room(sim_t *sim)
{
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        if (nd->external || s_rng_chance(&sim->rng, 0.25))
            continue;
        nd->member = true;
        if (!nd->up)
            continue;
        int rc = p2p_core_room_join(nd->core, SIM_ROOM, sim->now);
        SIM_CHECK(sim, rc == 0, "node %d: room_join failed", i);
    }
}

/*  Delivery tally. The header does not say whether an origin hears its own messages;
 *  p2p_gossip.c delivers a room post to its poster once, at once ("the poster sees its own
 *  post once, like every other member"), and a node-wide broadcast never: both asserted. */
typedef struct {
    uint64_t expected, missing, extra, posted;
    uint64_t self_post_bad;  /* room posts not delivered exactly once to their poster */
    uint64_t self_bcast_bad; /* broadcasts delivered to their origin */
} sim_tally_t;

/*  Tallies deliveries of every accepted message made in [FROM_MS, TO_MS) at every node
 *  that must have it: up since boot, never crashed, a member (for room posts). */
static sim_tally_t s_tally(sim_t *sim, uint64_t from_ms, uint64_t to_ms, bool verbose)
{
    sim_tally_t t = {0};
    int shown = 0;
    for (size_t k = 0; k < sim->n_msgs; k++) {
        sim_msg_t *m = &sim->msgs[k];
        if (!m->posted || m->time < from_ms || m->time >= to_ms)
            continue;
        t.posted++;
        bool room = m->topic[0] != '\0';
        for (int i = 0; i < sim->n; i++) {
            sim_node_t *nd = &sim->nodes[i];
            if (nd->external)
                continue;
            uint16_t c = nd->counts[k];
            if (i == m->origin) {
                /* counts[] restart at 0 with each incarnation: judge the poster only if
                   it is still the incarnation that posted */
                if (nd->inc == m->origin_inc) {
                    t.self_post_bad += room && c != 1;
                    t.self_bcast_bad += !room && c != 0;
                }
                continue;
            }
            bool must = !nd->ever_down && (!room || nd->member);
            if (!must)
                continue;
            t.expected++;
            if (c == 0) {
                t.missing++;
                if (verbose && shown++ < 8)
                    fprintf(stderr,
                            "    missing: msg %zu (%s from node %d at t=%" PRIu64
                            ") at node %d (links %zu)\n",
                            k, room ? m->topic : "broadcast", m->origin, m->time - SIM_BASE_MS,
                            i, p2p_core_link_count(nd->core));
            } else if (c > 1) {
                t.extra++;
            }
        }
    }
    return t;
}

static void s_act_restart(sim_t *sim, int node, int arg)
{
    (void) arg;
    if (!sim->nodes[node].up)
        s_node_start(sim, node);
}

/* ------------------------------------------------------ lookup, unicast ---- */

/*  Picks N pairs (src, dst) of up nodes where dst is not linked to src, preferring dst
 *  unknown to src, and registers them as ops. */
static void s_pick_pairs(sim_t *sim, size_t n)
{
    for (size_t tries = 0; sim->n_ops < n && tries < 100 * n; tries++) {
        int a = s_pick_up(sim, false), b = s_pick_up(sim, false);
        if (a < 0 || b < 0 || a == b)
            continue;
        bool dup = false;
        for (size_t k = 0; k < sim->n_ops; k++)
            dup |= sim->ops[k].src == a && sim->ops[k].dst == b;
        bool known;
        if (dup || s_core_linked(sim, a, b, &known))
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

static void s_act_lookup(sim_t *sim, int node, int arg)
{
    (void) node;
    sim_op_t *op = &sim->ops[arg];
    sim_node_t *nd = &sim->nodes[op->src];
    if (!nd->up)
        return;
    op->linked = s_core_linked(sim, op->src, op->dst, &op->known);
    op->issued_ms = sim->now;
    nd->pending_op = arg;
    op->id = p2p_core_lookup(nd->core, sim->nodes[op->dst].id, sim->now);
    nd->pending_op = -1;
    s_trace(sim, op->src, op->dst, "%d: lookup op %d of %d: id %" PRIu64, op->src, arg, op->dst,
            op->id);
    SIM_CHECK(sim, op->id != 0, "node %d: lookup of node %d refused", op->src, op->dst);
}

static void s_act_send(sim_t *sim, int node, int arg)
{
    (void) node;
    sim_op_t *op = &sim->ops[arg];
    sim_node_t *nd = &sim->nodes[op->src];
    if (!nd->up)
        return;
    uint8_t payload[SIM_PAYLOAD_LEN];
    memcpy(payload, SIM_MAGIC_UNICAST, 4);
    payload[4] = (uint8_t) (arg >> 24);
    payload[5] = (uint8_t) (arg >> 16);
    payload[6] = (uint8_t) (arg >> 8);
    payload[7] = (uint8_t) arg;
    uint64_t r = s_rng_next(&sim->rng);
    memcpy(payload + 8, &r, 8);
    op->linked = s_core_linked(sim, op->src, op->dst, &op->known);
    op->issued_ms = sim->now;
    nd->pending_op = arg;
    op->id = p2p_core_send(nd->core, sim->nodes[op->dst].id, payload, sizeof payload, sim->now);
    nd->pending_op = -1;
    s_trace(sim, op->src, op->dst, "%d: send op %d to %d: id %" PRIu64, op->src, arg, op->dst,
            op->id);
    SIM_CHECK(sim, op->id != 0, "node %d: send to node %d refused", op->src, op->dst);
}

/* ---------------------------------------------------------------- abuse ---- */

/*  Seals W's content as TYPE from KEY at now; frees W. Caller frees the result. */
static uint8_t *s_seal(sim_t *sim, const proto_key_t *key, uint32_t type, proto_wr_t *w,
                       size_t *len)
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

static uint8_t *s_make_hello(sim_t *sim, int node, size_t *len)
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
    return s_seal(sim, nd->key, PROTO_MSG_HELLO, &w, len);
}

static uint8_t *s_make_gossip(sim_t *sim, int signer, const char *topic, uint32_t kind,
                              const uint8_t *payload, size_t plen, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, topic, kind, payload, plen);
    return s_seal(sim, sim->nodes[signer].key, PROTO_MSG_GOSSIP, &w, len);
}

/*  Feeds raw bytes to VICTIM as if they came over the link from node FROM. */
static void s_inject(sim_t *sim, int victim, int from, const uint8_t *data, size_t len)
{
    if (s_traced(sim, from, victim)) {
        bool known;
        char tn[64];
        s_trace(sim, from, victim, "%d injects %s (%zu bytes) into %d (linked: %d)", from,
                s_type_name(data, len, tn), len, victim, s_core_linked(sim, victim, from, &known));
    }
    p2p_core_on_message(sim->nodes[victim].core, sim->nodes[from].id, data, len, sim->now);
}

static bool s_banned(sim_t *sim, int victim, int who)
{
    p2p_peer_info_t info[64];
    size_t n = p2p_core_peers(sim->nodes[victim].core, sim->now, info, 64);
    for (size_t k = 0; k < n; k++)
        if (memcmp(info[k].id, sim->nodes[who].id, 32) == 0 && info[k].banned)
            return true;
    return false;
}

static size_t s_count_delivered(sim_t *sim, int k)
{
    size_t n = 0;
    for (int i = 0; i < sim->n; i++)
        n += sim->nodes[i].counts[k] > 0;
    return n;
}

/* ------------------------------------------------------------ partition ---- */

static void s_act_heal(sim_t *sim, int node, int arg)
{
    (void) node;
    (void) arg;
    memset(sim->group, 0, (size_t) sim->n * sizeof *sim->group);
}
