/*  test_consensus_sim: deterministic simulation of the sans-IO consensus core
 *  (ledger/ledger_consensus.h), plus directed tests of the core's edges.
 *
 *  N validators (1, 4 or 7) run in one process over a simulated network. One seeded PRNG
 *  drives everything: virtual time in ms, an event queue (a binary heap ordered by time,
 *  then insertion number) of message deliveries, timers, block-interval starts, sync
 *  ticks, crashes, restarts, partitions and the global stabilisation time (GST). So a run
 *  is a pure function of (scenario, seed), and any failure replays exactly:
 *
 *      GENIE_SIM_SCENARIO=n4-chaos GENIE_SIM_SEED=1234 ./test_consensus_sim
 *      GENIE_SIM_RUNS=20000 ./test_consensus_sim     (more runs; default 2000)
 *      GENIE_SIM_VERBOSE=1 ...                        (one line per run)
 *      GENIE_SIM_TRACE=1 ...                          (every event, to stderr)
 *
 *  The world, in the core's terms:
 *    - broadcast: each other node gets a copy after a random delay (reordering follows),
 *      unless it is across a partition or lost; a copy may be duplicated. Before GST: loss
 *      up to the scenario's rate, delays up to its maximum, partitions (two groups for a
 *      while), crashes. After GST: partitions healed, delays 1..50 ms, little or no loss.
 *    - a crash destroys the core (all memory lost) at an event boundary or right after
 *      io.persist wrote a record (before the core could broadcast what it signed); a
 *      restart makes a new core from the durable part only: the last persisted record
 *      (ledger_cons_restore) and the committed chain, and starts the next height.
 *    - each node's application: blocks are "height:proposer:nonce" text; validate accepts
 *      those of the right height (in some scenarios proposers sometimes build "BAD" blocks
 *      that every validator rejects, or say "not yet" for a while); after a commit it
 *      waits a block interval and starts the next height; every ~300 ms it tells two
 *      peers its height and a peer that is ahead answers with blocks and certificates,
 *      each checked with ledger_cert_verify before it is applied (the app's sync).
 *    - byzantine scenarios: f validators equivocate: each of their proposals and votes
 *      goes out in two versions (another block, nil instead of a value, ...), a different
 *      one to different peers, sometimes both.
 *
 *  Checked on every run:
 *    SAFETY: no two honest nodes commit different hashes at one height (every commit and
 *      every synced block against a global height -> hash map); every certificate a core
 *      emits, and every one received by sync, verifies with ledger_cert_verify; no honest
 *      validator ever signs two different things for one (height, round, step), across
 *      crashes and restarts included (a global map of everything broadcast), nor sends
 *      anything it signed that its durable signing record does not cover; every message
 *      a core gets from the simulation is accepted (PROTO_OK) unless it was corrupted.
 *    LIVENESS: once, after GST, more than 2/3 of the validators are honest, up and
 *      connected, every such node's chain grows by SIM_K heights within SIM_LIVE_MS of
 *      virtual time.
 *    HALT: in the "minority" scenarios only 2/3 or fewer are up for a while after GST:
 *      nothing beyond one height above what was already possible is committed then (and
 *      safety holds); when one more validator comes back, liveness as above.
 *
 *  Signature checks go through io.verify with a cache shared by the nodes of a run (each
 *  distinct signature is checked once, as a node's signature cache would); every tenth
 *  run checks every signature itself. Certificates are always checked with
 *  ledger_cert_verify (once per distinct certificate).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/ledger_consensus.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

#define SIM_NODES_MAX 7
#define SIM_K 3                 /* heights required after GST */
#define SIM_LIVE_MS 60000u      /* ... within this much virtual time */
#define SIM_HEIGHT_MAX 400u     /* a run stops growing its chains here */
#define SIM_EVENTS_MAX 4000000u /* runaway guard */
#define SIM_SYNC_MS 300u
#define SIM_SYNC_BATCH 4u
#define SIM_VC_CAP 16384u /* signature cache slots */
#define SIM_DEFAULT_RUNS 2000u

/* ---- PRNG (splitmix64) ---- */

typedef struct {
    uint64_t s;
} sim_rng_t;

static uint64_t s_rng_next(sim_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t s_rng_range(sim_rng_t *r, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + s_rng_next(r) % (hi - lo + 1);
}

static bool s_rng_chance(sim_rng_t *r, double p)
{
    return p > 0 && (double)(s_rng_next(r) >> 11) * 0x1.0p-53 < p;
}

/* ---- scenarios ---- */

typedef struct {
    const char *name;
    int n;
    int byz;          /* equivocating validators (the last BYZ indexes) */
    double loss, dup; /* before GST: upper bounds, each run draws below them */
    uint64_t dmax;    /* before GST, ms */
    bool partitions, crashes, minority, lazy, bad_blocks, corrupt;
    double post_loss; /* after GST */
} sim_scenario_t;

static const sim_scenario_t s_scenarios[] = {
    /* name, n, byz, loss, dup, dmax, partitions, crashes, minority, lazy, bad_blocks,
       corrupt, post_loss */
    {"solo", 1, 0, 0.0, 0.0, 20, false, false, false, true, false, false, 0.0},
    {"solo-crash", 1, 0, 0.0, 0.0, 20, false, true, false, false, false, false, 0.0},
    {"n4-calm", 4, 0, 0.0, 0.0, 60, false, false, false, false, false, false, 0.0},
    {"n4-lossy", 4, 0, 0.35, 0.15, 400, false, false, false, true, false, false, 0.03},
    {"n4-partition", 4, 0, 0.1, 0.05, 200, true, false, false, false, false, false, 0.0},
    {"n4-crash", 4, 0, 0.05, 0.05, 200, false, true, false, false, false, false, 0.0},
    {"n4-chaos", 4, 0, 0.25, 0.1, 400, true, true, false, true, true, true, 0.02},
    {"n4-byz", 4, 1, 0.1, 0.05, 200, true, false, false, false, true, false, 0.0},
    {"n4-byz-crash", 4, 1, 0.1, 0.05, 200, true, true, false, false, true, false, 0.0},
    {"n4-minority", 4, 0, 0.1, 0.05, 200, false, true, true, false, false, false, 0.0},
    {"n7-calm", 7, 0, 0.0, 0.0, 60, false, false, false, false, false, false, 0.0},
    {"n7-lossy", 7, 0, 0.3, 0.1, 400, false, false, false, false, false, false, 0.02},
    {"n7-partition", 7, 0, 0.1, 0.05, 200, true, false, false, false, false, false, 0.0},
    {"n7-crash", 7, 0, 0.05, 0.05, 200, false, true, false, false, false, false, 0.0},
    {"n7-chaos", 7, 0, 0.2, 0.1, 400, true, true, false, true, true, true, 0.02},
    {"n7-byz", 7, 2, 0.1, 0.05, 200, true, false, false, false, true, false, 0.0},
    {"n7-minority", 7, 0, 0.1, 0.05, 200, false, true, true, false, false, false, 0.0},
    {"n7-byz-crash", 7, 2, 0.1, 0.05, 200, true, true, false, false, true, false, 0.0},
};
/* The order of the default runs: run i plays s_scenarios[s_order[i % len]] with seed
   base + i (the chaotic 4-validator scenarios come up more often). */
static const uint8_t s_order[] = {0,  1,  2,  3,  4,  5,  6,  7, 8, 9, 10,
                                  11, 12, 13, 14, 15, 16, 17, 6, 5, 8, 3};
#define SIM_SCENARIOS (sizeof s_scenarios / sizeof s_scenarios[0])

static const sim_scenario_t *s_scenario_find(const char *name)
{
    for (size_t i = 0; i < SIM_SCENARIOS; i++)
        if (strcmp(s_scenarios[i].name, name) == 0)
            return &s_scenarios[i];
    return NULL;
}

/* ---- messages and events ---- */

enum { MSG_PROPOSAL, MSG_VOTE, MSG_STATUS, MSG_SYNC };

typedef struct {
    int refs;
    uint8_t kind;
    int8_t from;
    bool corrupted;
    uint64_t a, b; /* STATUS: the sender's height; SYNC: heights a..b of the sender's chain */
    size_t len;
    uint8_t data[];
} sim_msg_t;

enum {
    EV_DELIVER,
    EV_TIMER,
    EV_START,
    EV_SYNC_TICK,
    EV_CRASH,
    EV_RESTART,
    EV_PARTITION,
    EV_HEAL,
    EV_GST,
    EV_GST2
};

typedef struct {
    uint64_t time, seq;
    uint8_t kind;
    int8_t node;
    uint8_t step;
    uint32_t epoch;
    uint32_t round;
    uint64_t height;
    sim_msg_t *msg;
} sim_event_t;

/* ---- nodes and the world ---- */

typedef struct {
    uint8_t hash[32];
    uint8_t *block;
    size_t block_len;
    uint8_t *cert;
    size_t cert_len;
} sim_entry_t;

typedef struct sim sim_t;

typedef struct {
    sim_t *sim;
    int idx;
    bool up, byz, dying, stay_down;
    uint32_t epoch;
    ledger_cons_t *cons;
    /* durable: survives a crash */
    uint8_t *record;
    size_t record_len;
    sim_entry_t *chain; /* chain[i] is height i + 1 */
    size_t chain_len, chain_cap;
    /* application scratch */
    char blockbuf[96];
    uint64_t started_ms; /* when the current height started (lazy proposers) */
} sim_node_t;

typedef struct {
    bool used;
    int8_t who;
    uint8_t kind; /* 0 proposal, 1 prevote, 2 precommit */
    uint32_t round;
    uint64_t height;
    bool has_hash;
    uint8_t hash[32];
} sim_sig_t;

typedef struct {
    uint8_t key[16];
    uint8_t state; /* 0 empty, 1 good, 2 bad */
} sim_vc_t;

typedef struct {
    uint64_t runs, commits, synced, crashes, persist_crashes, restarts, partitions;
    uint64_t delivered, lost, equivocations, dups, rounds, skips, refused, events;
    uint64_t max_round, byz_msgs, corrupted, halts_checked;
    uint64_t sig_checks, cert_checks, signed_msgs;
    uint64_t virt_ms;
} sim_totals_t;

struct sim {
    const sim_scenario_t *sc;
    uint64_t seed;
    sim_rng_t rng;
    uint64_t now;
    uint64_t seq;
    sim_event_t *heap;
    size_t n_ev, cap_ev;
    int n;
    sim_node_t nodes[SIM_NODES_MAX];
    proto_key_t *const *keys;
    ledger_valset_t valset;
    size_t quorum;
    uint8_t chain_id[32];
    ledger_cons_params_t params;
    int group[SIM_NODES_MAX];
    double loss, dup, persist_crash, persist_fail;
    uint64_t dmin, dmax;
    bool after_gst, halt_phase, live_phase, use_cache;
    uint64_t halt_cap, t0, h0;
    /* global truth */
    uint8_t final_hash[SIM_HEIGHT_MAX + 2][32];
    bool final_set[SIM_HEIGHT_MAX + 2];
    sim_sig_t *sigs;
    size_t n_sigs, cap_sigs;
    sim_vc_t *vc;
    uint8_t byz_alt[32];
    bool byz_alt_set;
    /* outcome */
    bool failed, done, trace;
    uint64_t digest;
    sim_totals_t *totals;
};

/* ---- failure ---- */

static void s_fail(sim_t *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void s_fail(sim_t *sim, const char *fmt, ...)
{
    if (sim->failed)
        return;
    sim->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr,
            "FAIL [replay: GENIE_SIM_SEED=%" PRIu64 " GENIE_SIM_SCENARIO=%s] t=%" PRIu64
            " ms: %s\n",
            sim->seed, sim->sc->name, sim->now, msg);
}

static void s_digest(sim_t *sim, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        sim->digest ^= (v >> (8 * i)) & 0xff;
        sim->digest *= 0x100000001b3ull;
    }
}

/* ---- event heap ---- */

static bool s_ev_less(const sim_event_t *a, const sim_event_t *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

static void s_push(sim_t *sim, sim_event_t ev)
{
    if (sim->n_ev == sim->cap_ev) {
        size_t cap = sim->cap_ev ? sim->cap_ev * 2 : 1024;
        sim_event_t *grown = realloc(sim->heap, cap * sizeof *grown);
        if (!grown)
            abort();
        sim->heap = grown;
        sim->cap_ev = cap;
    }
    ev.seq = sim->seq++;
    size_t i = sim->n_ev++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!s_ev_less(&ev, &sim->heap[p]))
            break;
        sim->heap[i] = sim->heap[p];
        i = p;
    }
    sim->heap[i] = ev;
}

static sim_event_t s_pop(sim_t *sim)
{
    sim_event_t top = sim->heap[0];
    sim_event_t last = sim->heap[--sim->n_ev];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sim_event_t *best = &last;
        if (l < sim->n_ev && s_ev_less(&sim->heap[l], best)) {
            m = l;
            best = &sim->heap[l];
        }
        if (r < sim->n_ev && s_ev_less(&sim->heap[r], best))
            m = r;
        if (m == i)
            break;
        sim->heap[i] = sim->heap[m];
        i = m;
    }
    if (sim->n_ev > 0)
        sim->heap[i] = last;
    return top;
}

static void s_at(sim_t *sim, uint64_t delay, uint8_t kind, int node)
{
    sim_event_t ev = {.time = sim->now + delay, .kind = kind, .node = (int8_t)node};
    if (node >= 0)
        ev.epoch = sim->nodes[node].epoch;
    s_push(sim, ev);
}

/* ---- messages ---- */

static sim_msg_t *s_msg_new(uint8_t kind, int from, const uint8_t *data, size_t len)
{
    sim_msg_t *m = malloc(sizeof *m + (len ? len : 1));
    if (!m)
        abort();
    m->refs = 1;
    m->kind = kind;
    m->from = (int8_t)from;
    m->corrupted = false;
    m->a = m->b = 0;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    return m;
}

static void s_msg_unref(sim_msg_t *m)
{
    if (m && --m->refs == 0)
        free(m);
}

/* Sends M from FROM to TO through the network model (takes no reference of the caller). */
static void s_net_send(sim_t *sim, int from, int to, sim_msg_t *m)
{
    if (sim->group[from] != sim->group[to] || s_rng_chance(&sim->rng, sim->loss)) {
        sim->totals->lost++;
        return;
    }
    int copies = 1 + s_rng_chance(&sim->rng, sim->dup);
    for (int i = 0; i < copies; i++) {
        sim_event_t ev = {.time = sim->now + s_rng_range(&sim->rng, sim->dmin, sim->dmax),
                          .kind = EV_DELIVER,
                          .node = (int8_t)to,
                          .msg = m};
        m->refs++;
        s_push(sim, ev);
    }
    if (sim->sc->corrupt && (m->kind == MSG_PROPOSAL || m->kind == MSG_VOTE) &&
        s_rng_chance(&sim->rng, 0.01)) {
        sim_msg_t *bad = s_msg_new(m->kind, from, m->data, m->len);
        bad->corrupted = true;
        if (bad->len) {
            size_t at = (size_t)s_rng_range(&sim->rng, 0, bad->len - 1);
            bad->data[at] ^= (uint8_t)s_rng_range(&sim->rng, 1, 255);
            if (s_rng_chance(&sim->rng, 0.3))
                bad->len = at; /* truncated too */
        }
        sim_event_t ev = {.time = sim->now + s_rng_range(&sim->rng, sim->dmin, sim->dmax),
                          .kind = EV_DELIVER,
                          .node = (int8_t)to,
                          .msg = bad};
        s_push(sim, ev);
        sim->totals->corrupted++;
    }
}

/* ---- global checks ---- */

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Everything an honest validator signs goes through here: one value per (h, r, kind). */
static void s_check_signature(sim_t *sim, int who, uint8_t kind, uint64_t h, uint32_t r,
                              bool has_hash, const uint8_t *hash)
{
    if (sim->n_sigs * 2 >= sim->cap_sigs) {
        size_t cap = sim->cap_sigs ? sim->cap_sigs * 2 : 1024;
        sim_sig_t *t = calloc(cap, sizeof *t);
        if (!t)
            abort();
        for (size_t i = 0; i < sim->cap_sigs; i++) {
            if (!sim->sigs[i].used)
                continue;
            const sim_sig_t *o = &sim->sigs[i];
            size_t j = s_mix(o->height * 1315423911u + o->round * 2654435761u +
                             (uint64_t)o->who * 97 + o->kind) &
                       (cap - 1);
            while (t[j].used)
                j = (j + 1) & (cap - 1);
            t[j] = *o;
        }
        free(sim->sigs);
        sim->sigs = t;
        sim->cap_sigs = cap;
    }
    size_t j =
        s_mix(h * 1315423911u + r * 2654435761u + (uint64_t)who * 97 + kind) & (sim->cap_sigs - 1);
    while (sim->sigs[j].used) {
        sim_sig_t *o = &sim->sigs[j];
        if (o->who == who && o->kind == kind && o->height == h && o->round == r) {
            if (o->has_hash != has_hash || (has_hash && memcmp(o->hash, hash, 32) != 0))
                s_fail(sim,
                       "DOUBLE SIGN: validator %d signed two %s at height %" PRIu64 " round %u",
                       who,
                       kind == 0   ? "proposals"
                       : kind == 1 ? "prevotes"
                                   : "precommits",
                       h, r);
            return;
        }
        j = (j + 1) & (sim->cap_sigs - 1);
    }
    sim_sig_t *e = &sim->sigs[j];
    e->used = true;
    e->who = (int8_t)who;
    e->kind = kind;
    e->height = h;
    e->round = r;
    e->has_hash = has_hash;
    if (has_hash)
        memcpy(e->hash, hash, 32);
    sim->n_sigs++;
}

/* A cache slot for KEY16 (probing a few slots); *found tells whether it held KEY16. */
static sim_vc_t *s_vc_slot(sim_t *sim, const uint8_t key[16], bool *found)
{
    uint64_t h;
    memcpy(&h, key, sizeof h);
    for (size_t p = 0; p < 16; p++) {
        sim_vc_t *e = &sim->vc[(h + p) & (SIM_VC_CAP - 1)];
        if (e->state == 0 || memcmp(e->key, key, 16) == 0) {
            *found = e->state != 0;
            return e;
        }
    }
    *found = false;
    return &sim->vc[h & (SIM_VC_CAP - 1)]; /* full around here: overwrite */
}

/* The certificate CERT for HASH at height H must verify against the run's validator set. */
static void s_check_cert(sim_t *sim, int who, uint64_t h, const uint8_t hash[32],
                         const uint8_t *cert, size_t len, const char *origin)
{
    uint8_t key[32];
    proto_hash("sim/cert", cert, len, key);
    bool found;
    sim_vc_t *slot = s_vc_slot(sim, key, &found);
    if (found && slot->state == 1)
        return;
    ledger_cert_t c;
    sim->totals->cert_checks++;
    int rc = ledger_cert_decode(cert, len, &c);
    if (rc == PROTO_OK)
        rc = ledger_cert_verify(&c, &sim->valset, sim->chain_id, hash);
    if (rc != PROTO_OK || c.height != h) {
        s_fail(sim, "node %d: %s certificate for height %" PRIu64 " does not verify (%s)", who,
               origin, h, proto_err_str(rc));
        return;
    }
    memcpy(slot->key, key, 16);
    slot->state = 1;
}

/* ---- application ---- */

static bool s_is_honest(const sim_t *sim, int i)
{
    return !sim->nodes[i].byz;
}

/* Appends a final block to node I's chain after the checks; false if refused. */
static bool s_chain_append(sim_t *sim, sim_node_t *nd, uint64_t h, const uint8_t *block, size_t len,
                           const uint8_t hash[32], const uint8_t *cert, size_t cert_len,
                           const char *origin)
{
    if (h <= nd->chain_len) { /* already have it: must be the same */
        if (memcmp(nd->chain[h - 1].hash, hash, 32) != 0 && s_is_honest(sim, nd->idx))
            s_fail(sim, "SAFETY: node %d got a second block for height %" PRIu64 " (%s)", nd->idx,
                   h, origin);
        return false;
    }
    if (h != nd->chain_len + 1) {
        s_fail(sim, "node %d: %s of height %" PRIu64 " on a chain of %zu", nd->idx, origin, h,
               nd->chain_len);
        return false;
    }
    if (s_is_honest(sim, nd->idx)) {
        if (strcmp(origin, "synced") != 0) /* (sync checked it before) */
            s_check_cert(sim, nd->idx, h, hash, cert, cert_len, origin);
        if (h <= SIM_HEIGHT_MAX + 1) {
            if (sim->final_set[h] && memcmp(sim->final_hash[h], hash, 32) != 0)
                s_fail(sim, "SAFETY: node %d %s a different block at height %" PRIu64, nd->idx,
                       origin, h);
            memcpy(sim->final_hash[h], hash, 32);
            sim->final_set[h] = true;
        }
        if (sim->halt_phase && h > sim->halt_cap)
            s_fail(sim, "HALT: height %" PRIu64 " final with 2/3 or fewer validators up", h);
    }
    if (nd->chain_len == nd->chain_cap) {
        size_t cap = nd->chain_cap ? nd->chain_cap * 2 : 32;
        sim_entry_t *grown = realloc(nd->chain, cap * sizeof *grown);
        if (!grown)
            abort();
        nd->chain = grown;
        nd->chain_cap = cap;
    }
    sim_entry_t *e = &nd->chain[nd->chain_len++];
    memcpy(e->hash, hash, 32);
    e->block = malloc(len ? len : 1);
    e->cert = malloc(cert_len ? cert_len : 1);
    if (!e->block || !e->cert)
        abort();
    memcpy(e->block, block, len);
    memcpy(e->cert, cert, cert_len);
    e->block_len = len;
    e->cert_len = cert_len;
    s_digest(sim, h);
    s_digest(sim, hash[0] | (uint64_t)hash[1] << 8);
    return true;
}

static void s_io_broadcast(void *ctx, uint32_t type, const uint8_t *data, size_t len);

static void s_io_schedule(void *ctx, uint64_t height, uint32_t round, ledger_cons_step_t step,
                          uint64_t delay_ms)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    if (nd->dying)
        return;
    sim_event_t ev = {.time = sim->now + delay_ms,
                      .kind = EV_TIMER,
                      .node = (int8_t)nd->idx,
                      .epoch = nd->epoch,
                      .height = height,
                      .round = round,
                      .step = (uint8_t)step};
    s_push(sim, ev);
}

static int s_io_persist(void *ctx, const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    if (nd->dying)
        return -1;
    if (s_rng_chance(&sim->rng, sim->persist_fail))
        return -1; /* the disk said no: nothing may be signed */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    free(nd->record);
    nd->record = copy;
    nd->record_len = len;
    if (s_rng_chance(&sim->rng, sim->persist_crash)) {
        nd->dying = true; /* on disk, but the power goes before anything is sent */
        sim->totals->persist_crashes++;
    }
    return 0;
}

static ledger_cons_block_rc_t s_io_get_block(void *ctx, uint64_t height, const uint8_t **block,
                                             size_t *len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    if (sim->sc->lazy && sim->now < nd->started_ms + 150 && s_rng_chance(&sim->rng, 0.5))
        return LEDGER_CONS_BLOCK_NOT_YET;
    bool bad = sim->sc->bad_blocks && s_rng_chance(&sim->rng, 0.15);
    int n = snprintf(nd->blockbuf, sizeof nd->blockbuf, "%" PRIu64 ":%d:%s%016" PRIx64, height,
                     nd->idx, bad ? "BAD:" : "", s_rng_next(&sim->rng));
    *block = (const uint8_t *)nd->blockbuf;
    *len = (size_t)n;
    return LEDGER_CONS_BLOCK_READY;
}

static bool s_io_validate(void *ctx, uint64_t height, const uint8_t *block, size_t len)
{
    (void)ctx;
    char text[96];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, block, len);
    text[len] = '\0';
    char *end = NULL;
    unsigned long long h = strtoull(text, &end, 10);
    return end && *end == ':' && h == height && !strstr(text, ":BAD:");
}

static bool s_io_verify(void *ctx, const uint8_t pk[static 32], const uint8_t *msg, size_t len,
                        const uint8_t sig[static 64])
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    if (!sim->use_cache || len != 32)
        return proto_sig_verify(pk, msg, len, sig);
    uint8_t buf[128], key[32];
    memcpy(buf, pk, 32);
    memcpy(buf + 32, msg, 32);
    memcpy(buf + 64, sig, 64);
    proto_hash("sim/sigcache", buf, sizeof buf, key);
    bool found;
    sim_vc_t *slot = s_vc_slot(sim, key, &found);
    if (found)
        return slot->state == 1;
    bool ok = proto_sig_verify(pk, msg, len, sig);
    sim->totals->sig_checks++;
    memcpy(slot->key, key, 16);
    slot->state = ok ? 1 : 2;
    return ok;
}

static void s_io_commit(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                        const uint8_t hash[static 32], const uint8_t *cert, size_t cert_len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    if (nd->dying)
        return; /* never became durable */
    uint8_t expect[32];
    ledger_vote_value_hash(block, len, expect);
    if (memcmp(expect, hash, 32) != 0)
        s_fail(sim, "node %d: commit hash is not the block's", nd->idx);
    if (!s_io_validate(ctx, height, block, len) && s_is_honest(sim, nd->idx))
        s_fail(sim, "node %d: committed an invalid block at %" PRIu64, nd->idx, height);
    if (s_chain_append(sim, nd, height, block, len, hash, cert, cert_len, "committed"))
        sim->totals->commits++;
    s_at(sim, s_rng_range(&sim->rng, 50, 250), EV_START, nd->idx); /* the block interval */
}

static const ledger_cons_io_t s_io_template = {
    .broadcast = s_io_broadcast,
    .schedule_timeout = s_io_schedule,
    .persist = s_io_persist,
    .get_block = s_io_get_block,
    .validate = s_io_validate,
    .hash = NULL, /* the default value hash */
    .verify = s_io_verify,
    .commit = s_io_commit,
};

/* ---- byzantine behaviour ---- */

/* A second, conflicting version of node ND's own message M (NULL if none). */
static sim_msg_t *s_byz_twin(sim_t *sim, sim_node_t *nd, const sim_msg_t *m)
{
    proto_key_t *key = sim->keys[nd->idx];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (m->kind == MSG_PROPOSAL) {
        ledger_proposal_t p;
        if (ledger_proposal_decode(m->data, m->len, &p) != PROTO_OK)
            return NULL;
        char alt[96];
        int n = snprintf(alt, sizeof alt, "%" PRIu64 ":%d:ALT:%016" PRIx64, p.height, nd->idx,
                         s_rng_next(&sim->rng));
        p.block = (const uint8_t *)alt;
        p.block_len = (size_t)n;
        ledger_vote_value_hash(p.block, p.block_len, p.block_hash);
        memcpy(sim->byz_alt, p.block_hash, 32);
        sim->byz_alt_set = true;
        ledger_proposal_sign(&p, key);
        if (ledger_proposal_encode(&p, &buf, &len) != PROTO_OK)
            return NULL;
    } else {
        ledger_vote_t v;
        if (ledger_vote_decode(m->data, m->len, &v) != PROTO_OK)
            return NULL;
        if (v.has_hash && s_rng_chance(&sim->rng, 0.5)) {
            v.has_hash = false;
            memset(v.hash, 0, 32);
        } else {
            v.has_hash = true;
            if (sim->byz_alt_set && s_rng_chance(&sim->rng, 0.7))
                memcpy(v.hash, sim->byz_alt, 32);
            else
                for (int i = 0; i < 32; i++)
                    v.hash[i] = (uint8_t)s_rng_next(&sim->rng);
        }
        ledger_vote_sign(&v, key);
        if (ledger_vote_encode(&v, &buf, &len) != PROTO_OK)
            return NULL;
    }
    sim_msg_t *twin = s_msg_new(m->kind, nd->idx, buf, len);
    free(buf);
    return twin;
}

/* Whatever an honest validator sends that it signed must already be covered by its
   durable record: (H, R, STEP) at or below the record's last (height, round, step), read
   from the record's first fields ([version, height, round, step, ...]). */
static void s_check_persisted(sim_t *sim, const sim_node_t *nd, uint64_t h, uint32_t r,
                              uint8_t step)
{
    proto_rd_t rd;
    uint32_t n = 0;
    uint64_t version = 0, rh = 0, rr = 0, rs = 0;
    proto_rd_init(&rd, nd->record, nd->record_len);
    if (!nd->record || proto_rd_array_max(&rd, 64, &n) || proto_rd_uint(&rd, 255, &version) ||
        proto_rd_uint(&rd, UINT64_MAX, &rh) || proto_rd_uint(&rd, UINT64_MAX, &rr) ||
        proto_rd_uint(&rd, UINT64_MAX, &rs)) {
        s_fail(sim, "node %d sent a signed message with no signing record on disk", nd->idx);
        return;
    }
    bool covered = h != rh ? h < rh : r != rr ? r < rr : step <= rs;
    if (!covered)
        s_fail(sim,
               "node %d sent (%" PRIu64 ", %u, step %u) beyond its durable record (%" PRIu64
               ", %" PRIu64 ", step %" PRIu64 ")",
               nd->idx, h, r, step, rh, rr, rs);
}

static void s_io_broadcast(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    if (nd->dying)
        return; /* crashed right after persisting: this never left the machine */
    const uint8_t *me = proto_key_public(sim->keys[nd->idx]);
    bool own = false;
    uint8_t kind = MSG_VOTE;
    if (type == PROTO_MSG_PROPOSAL) {
        ledger_proposal_t p;
        kind = MSG_PROPOSAL;
        if (ledger_proposal_decode(data, len, &p) != PROTO_OK) {
            s_fail(sim, "node %d broadcast a malformed proposal", nd->idx);
            return;
        }
        own = memcmp(p.proposer, me, 32) == 0;
        if (own && s_is_honest(sim, nd->idx)) {
            s_check_signature(sim, nd->idx, 0, p.height, p.round, true, p.block_hash);
            s_check_persisted(sim, nd, p.height, p.round, LEDGER_STEP_PROPOSE);
        }
    } else if (type == PROTO_MSG_VOTE) {
        ledger_vote_t v;
        if (ledger_vote_decode(data, len, &v) != PROTO_OK) {
            s_fail(sim, "node %d broadcast a malformed vote", nd->idx);
            return;
        }
        own = memcmp(v.validator, me, 32) == 0;
        if (own && s_is_honest(sim, nd->idx)) {
            s_check_signature(sim, nd->idx, v.type, v.height, v.round, v.has_hash, v.hash);
            s_check_persisted(sim, nd, v.height, v.round,
                              v.type == LEDGER_VOTE_PREVOTE ? LEDGER_STEP_PREVOTE
                                                            : LEDGER_STEP_PRECOMMIT);
        }
    } else {
        s_fail(sim, "node %d broadcast message type %u", nd->idx, type);
        return;
    }
    sim_msg_t *m = s_msg_new(kind, nd->idx, data, len);
    sim_msg_t *twin = nd->byz && own ? s_byz_twin(sim, nd, m) : NULL;
    if (twin)
        sim->totals->byz_msgs++;
    for (int to = 0; to < sim->n; to++) {
        if (to == nd->idx)
            continue;
        if (!twin) {
            s_net_send(sim, nd->idx, to, m);
            continue;
        }
        int pick = (int)s_rng_range(&sim->rng, 0, 9);
        if (pick < 5 || pick == 9)
            s_net_send(sim, nd->idx, to, m);
        if (pick >= 5)
            s_net_send(sim, nd->idx, to, twin);
    }
    s_msg_unref(twin);
    s_msg_unref(m);
}

/* ---- node lifecycle ---- */

static void s_crash(sim_t *sim, sim_node_t *nd)
{
    ledger_cons_stats_t st;
    ledger_cons_stats(nd->cons, &st);
    sim->totals->equivocations += st.equivocations;
    sim->totals->dups += st.duplicates;
    sim->totals->rounds += st.rounds;
    sim->totals->skips += st.round_skips;
    sim->totals->refused += st.sign_refused;
    sim->totals->signed_msgs += st.signed_msgs;
    ledger_cons_destroy(&nd->cons);
    nd->up = false;
    nd->dying = false;
    nd->epoch++;
    sim->totals->crashes++;
}

static void s_start_next(sim_t *sim, sim_node_t *nd)
{
    uint64_t next = nd->chain_len + 1;
    if (!nd->up || ledger_cons_height(nd->cons) >= next || next > SIM_HEIGHT_MAX)
        return;
    nd->started_ms = sim->now;
    if (ledger_cons_start_height(nd->cons, next, &sim->valset, sim->now) != 0)
        s_fail(sim, "node %d: start_height(%" PRIu64 ") refused", nd->idx, next);
}

/* After every call into a core: a crash inside persist takes effect now. */
static void s_after_call(sim_t *sim, sim_node_t *nd)
{
    if (!nd->dying)
        return;
    s_crash(sim, nd);
    if (!sim->after_gst && !nd->stay_down)
        s_at(sim, s_rng_range(&sim->rng, 50, 1500), EV_RESTART, nd->idx);
}

static void s_boot(sim_t *sim, sim_node_t *nd)
{
    nd->cons = NULL;
    ledger_cons_io_t io = s_io_template;
    io.ctx = nd;
    nd->cons = ledger_cons_new(sim->chain_id, sim->keys[nd->idx], &io, &sim->params);
    if (!nd->cons) {
        s_fail(sim, "ledger_cons_new failed");
        return;
    }
    if (nd->record) {
        int rc = ledger_cons_restore(nd->cons, nd->record, nd->record_len);
        if (rc != PROTO_OK)
            s_fail(sim, "node %d: restore of its own record failed (%s)", nd->idx,
                   proto_err_str(rc));
    }
    nd->up = true;
    nd->dying = false;
    s_start_next(sim, nd);
    s_after_call(sim, nd);
}

/* ---- event handlers ---- */

static void s_on_deliver(sim_t *sim, sim_node_t *nd, sim_msg_t *m)
{
    sim->totals->delivered++;
    if (m->kind == MSG_PROPOSAL || m->kind == MSG_VOTE) {
        int rc = m->kind == MSG_PROPOSAL
                     ? ledger_cons_on_proposal(nd->cons, m->data, m->len, sim->now)
                     : ledger_cons_on_vote(nd->cons, m->data, m->len, sim->now);
        if (rc != PROTO_OK && !m->corrupted)
            s_fail(sim, "node %d refused a %s from node %d: %s", nd->idx,
                   m->kind == MSG_PROPOSAL ? "proposal" : "vote", m->from, proto_err_str(rc));
        s_after_call(sim, nd);
        return;
    }
    if (m->kind == MSG_STATUS) { /* a peer's height: answer with blocks it lacks */
        if (m->a >= nd->chain_len)
            return;
        sim_msg_t *r = s_msg_new(MSG_SYNC, nd->idx, NULL, 0);
        r->a = m->a + 1;
        r->b = nd->chain_len < m->a + SIM_SYNC_BATCH ? nd->chain_len : m->a + SIM_SYNC_BATCH;
        s_net_send(sim, nd->idx, m->from, r);
        s_msg_unref(r);
        return;
    }
    /* MSG_SYNC: blocks a..b of the sender's (append-only, durable) chain */
    const sim_node_t *src = &sim->nodes[m->from];
    bool grew = false;
    for (uint64_t h = m->a; h <= m->b && h <= src->chain_len; h++) {
        if (h != nd->chain_len + 1)
            continue;
        const sim_entry_t *e = &src->chain[h - 1];
        uint8_t hash[32];
        ledger_vote_value_hash(e->block, e->block_len, hash);
        /* the certificate is checked with ledger_cert_verify (s_check_cert, once per
           distinct certificate) before the block is applied */
        s_check_cert(sim, nd->idx, h, hash, e->cert, e->cert_len, "synced");
        if (sim->failed)
            return;
        if (s_chain_append(sim, nd, h, e->block, e->block_len, hash, e->cert, e->cert_len,
                           "synced")) {
            sim->totals->synced++;
            grew = true;
        }
    }
    if (grew) {
        s_start_next(sim, nd);
        s_after_call(sim, nd);
    }
}

static void s_heal(sim_t *sim)
{
    for (int i = 0; i < sim->n; i++)
        sim->group[i] = 0;
}

static size_t s_up_honest(const sim_t *sim)
{
    size_t k = 0;
    for (int i = 0; i < sim->n; i++)
        k += sim->nodes[i].up && s_is_honest(sim, i);
    return k;
}

static uint64_t s_max_chain(const sim_t *sim)
{
    uint64_t m = 0;
    for (int i = 0; i < sim->n; i++)
        if (sim->nodes[i].chain_len > m)
            m = sim->nodes[i].chain_len;
    return m;
}

static void s_live_from_now(sim_t *sim)
{
    sim->live_phase = true;
    sim->t0 = sim->now;
    sim->h0 = s_max_chain(sim);
}

static void s_on_gst(sim_t *sim)
{
    sim->after_gst = true;
    s_heal(sim);
    sim->loss = sim->sc->post_loss;
    sim->dmin = 1;
    sim->dmax = 50;
    sim->persist_crash = 0;
    sim->persist_fail = 0;
    /* who stays down: in a liveness run at most n - quorum honest nodes, in a minority
       run exactly enough that only quorum - 1 are up */
    size_t keep_down = 0;
    if (sim->sc->minority)
        keep_down = (size_t)sim->n - (sim->quorum - 1);
    else if (sim->sc->crashes && sim->sc->byz == 0)
        keep_down = (size_t)s_rng_range(&sim->rng, 0, (uint64_t)sim->n - sim->quorum);
    for (size_t k = 0; k < keep_down; k++) {
        int i;
        do
            i = (int)s_rng_range(&sim->rng, 0, (uint64_t)sim->n - 1);
        while (sim->nodes[i].stay_down);
        sim->nodes[i].stay_down = true;
        if (sim->nodes[i].up)
            s_crash(sim, &sim->nodes[i]);
    }
    for (int i = 0; i < sim->n; i++)
        if (!sim->nodes[i].up && !sim->nodes[i].stay_down) {
            sim->totals->restarts++;
            s_boot(sim, &sim->nodes[i]);
        }
    if (sim->sc->minority) {
        sim->halt_phase = true;
        sim->halt_cap = s_max_chain(sim) + 1;
        sim->totals->halts_checked++;
        s_at(sim, s_rng_range(&sim->rng, 1000, 4000), EV_GST2, -1);
    } else {
        s_live_from_now(sim);
    }
}

static void s_on_gst2(sim_t *sim)
{
    /* one more validator returns: a quorum is up again */
    sim->halt_phase = false;
    for (int i = 0; i < sim->n; i++) {
        if (sim->nodes[i].stay_down) {
            sim->nodes[i].stay_down = false;
            sim->totals->restarts++;
            s_boot(sim, &sim->nodes[i]);
            break;
        }
    }
    s_live_from_now(sim);
}

static void s_check_done(sim_t *sim)
{
    if (!sim->live_phase)
        return;
    bool all = true;
    for (int i = 0; i < sim->n && all; i++) {
        const sim_node_t *nd = &sim->nodes[i];
        if (nd->up && s_is_honest(sim, i) && nd->chain_len < sim->h0 + SIM_K &&
            nd->chain_len < SIM_HEIGHT_MAX)
            all = false;
    }
    if (all) {
        sim->done = true;
        return;
    }
    if (sim->now > sim->t0 + SIM_LIVE_MS) {
        char heights[128] = "";
        size_t off = 0;
        for (int i = 0; i < sim->n; i++) {
            const sim_node_t *nd = &sim->nodes[i];
            off += (size_t)snprintf(heights + off, sizeof heights - off, " %d:%s%zu/r%u", i,
                                    nd->up ? "" : "down:", nd->chain_len,
                                    nd->up && nd->cons ? ledger_cons_round(nd->cons) : 0);
            if (off >= sizeof heights)
                break;
        }
        for (int i = 0; sim->trace && i < sim->n; i++) {
            const sim_node_t *nd = &sim->nodes[i];
            ledger_cons_stats_t st;
            if (!nd->cons)
                continue;
            ledger_cons_stats(nd->cons, &st);
            fprintf(stderr,
                    "node %d: step %d signed %" PRIu64 " refused %" PRIu64
                    " persist failures %" PRIu64 " dups %" PRIu64 " equiv %" PRIu64
                    " bad sig %" PRIu64 " dropped %" PRIu64 "\n",
                    i, (int)ledger_cons_step(nd->cons), st.signed_msgs, st.sign_refused,
                    st.persist_failures, st.duplicates, st.equivocations, st.bad_sig, st.dropped);
        }
        s_fail(sim,
               "LIVENESS: %zu of %d honest validators up since t=%" PRIu64
               " but no %d heights above %" PRIu64 " (height/round:%s)",
               s_up_honest(sim), sim->n, sim->t0, SIM_K, sim->h0, heights);
    }
}

static void s_trace(const sim_t *sim, const sim_event_t *ev)
{
    static const char *const kinds[] = {"deliver", "timer", "start", "sync", "crash",
                                        "restart", "split", "heal",  "gst",  "gst2"};
    const sim_node_t *nd = ev->node >= 0 ? &sim->nodes[ev->node] : NULL;
    fprintf(stderr, "t=%-6" PRIu64 " %-7s node %2d", sim->now, kinds[ev->kind], ev->node);
    if (nd && nd->up && nd->cons)
        fprintf(stderr, " [h%" PRIu64 " r%u s%d%s chain %zu]", ledger_cons_height(nd->cons),
                ledger_cons_round(nd->cons), (int)ledger_cons_step(nd->cons),
                ledger_cons_decided(nd->cons) ? " decided" : "", nd->chain_len);
    if (ev->kind == EV_TIMER)
        fprintf(stderr, " timer h%" PRIu64 " r%u step %d", ev->height, ev->round, ev->step);
    if (ev->kind == EV_DELIVER) {
        const sim_msg_t *m = ev->msg;
        ledger_vote_t v;
        ledger_proposal_t p;
        if (m->kind == MSG_VOTE && ledger_vote_decode(m->data, m->len, &v) == PROTO_OK)
            fprintf(stderr, " from %d: %s by %d h%" PRIu64 " r%u %s%02x", m->from,
                    v.type == 1 ? "prevote" : "precommit",
                    ledger_valset_find(&sim->valset, v.validator), v.height, v.round,
                    v.has_hash ? "" : "nil ", v.has_hash ? v.hash[0] : 0);
        else if (m->kind == MSG_PROPOSAL && ledger_proposal_decode(m->data, m->len, &p) == PROTO_OK)
            fprintf(stderr, " from %d: proposal h%" PRIu64 " r%u pol %d %02x", m->from, p.height,
                    p.round, p.pol_round, p.block_hash[0]);
        else
            fprintf(stderr, " from %d: kind %d %" PRIu64 "..%" PRIu64 "%s", m->from, m->kind, m->a,
                    m->b, m->corrupted ? " corrupted" : "");
    }
    fprintf(stderr, "\n");
}

static void s_dispatch(sim_t *sim, sim_event_t *ev)
{
    sim_node_t *nd = ev->node >= 0 ? &sim->nodes[ev->node] : NULL;
    if (sim->trace)
        s_trace(sim, ev);
    s_digest(sim, ev->time);
    s_digest(sim, (uint64_t)ev->kind << 8 | (uint8_t)ev->node);
    switch (ev->kind) {
    case EV_DELIVER:
        if (nd->up)
            s_on_deliver(sim, nd, ev->msg);
        break;
    case EV_TIMER:
        if (nd->up && nd->epoch == ev->epoch) {
            ledger_cons_on_timeout(nd->cons, ev->height, ev->round, (ledger_cons_step_t)ev->step,
                                   sim->now);
            s_after_call(sim, nd);
        }
        break;
    case EV_START:
        if (nd->up && nd->epoch == ev->epoch) {
            s_start_next(sim, nd);
            s_after_call(sim, nd);
        }
        break;
    case EV_SYNC_TICK:
        if (nd->up) {
            sim_msg_t *m = s_msg_new(MSG_STATUS, nd->idx, NULL, 0);
            m->a = nd->chain_len;
            for (int k = 0; k < 2 && sim->n > 1; k++) { /* two random peers */
                int to = (int)s_rng_range(&sim->rng, 0, (uint64_t)sim->n - 2);
                s_net_send(sim, nd->idx, to >= nd->idx ? to + 1 : to, m);
            }
            s_msg_unref(m);
        }
        s_at(sim, SIM_SYNC_MS + s_rng_range(&sim->rng, 0, 50), EV_SYNC_TICK, ev->node);
        break;
    case EV_CRASH:
        if (nd->up && !sim->after_gst) {
            s_crash(sim, nd);
            s_at(sim, s_rng_range(&sim->rng, 50, 2000), EV_RESTART, ev->node);
        }
        break;
    case EV_RESTART:
        if (!nd->up && !nd->stay_down && nd->epoch == ev->epoch) {
            sim->totals->restarts++;
            s_boot(sim, nd);
        }
        break;
    case EV_PARTITION:
        if (!sim->after_gst && sim->n > 1) {
            /* two non-empty groups */
            int ones = 0;
            for (int i = 0; i < sim->n; i++) {
                sim->group[i] = (int)s_rng_range(&sim->rng, 0, 1);
                ones += sim->group[i];
            }
            if (ones == 0 || ones == sim->n)
                sim->group[s_rng_range(&sim->rng, 0, (uint64_t)sim->n - 1)] ^= 1;
            sim->totals->partitions++;
        }
        break;
    case EV_HEAL:
        s_heal(sim);
        break;
    case EV_GST:
        s_on_gst(sim);
        break;
    case EV_GST2:
        s_on_gst2(sim);
        break;
    default:
        abort();
    }
}

/* ---- a run ---- */

static void s_sim_free(sim_t *sim)
{
    while (sim->n_ev > 0) {
        sim_event_t ev = s_pop(sim);
        s_msg_unref(ev.msg);
    }
    free(sim->heap);
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        if (nd->cons) {
            ledger_cons_stats_t st;
            ledger_cons_stats(nd->cons, &st);
            sim->totals->equivocations += st.equivocations;
            sim->totals->dups += st.duplicates;
            sim->totals->rounds += st.rounds;
            sim->totals->skips += st.round_skips;
            sim->totals->refused += st.sign_refused;
            sim->totals->signed_msgs += st.signed_msgs;
            if (ledger_cons_round(nd->cons) > sim->totals->max_round)
                sim->totals->max_round = ledger_cons_round(nd->cons);
        }
        ledger_cons_destroy(&nd->cons);
        for (size_t h = 0; h < nd->chain_len; h++) {
            free(nd->chain[h].block);
            free(nd->chain[h].cert);
        }
        free(nd->chain);
        free(nd->record);
    }
    free(sim->sigs);
    free(sim->vc);
}

/* Runs SC with SEED; true if every check held. *DIGEST gets the trace digest. */
static bool s_run(const sim_scenario_t *sc, uint64_t seed, proto_key_t *const *keys, bool use_cache,
                  sim_totals_t *totals, uint64_t *digest, bool verbose)
{
    sim_t *sim = calloc(1, sizeof *sim);
    if (!sim)
        abort();
    sim->sc = sc;
    sim->seed = seed;
    sim->rng.s = seed * 0x2545f4914f6cdd1dull + (uint64_t)(sc - s_scenarios);
    sim->digest = 0xcbf29ce484222325ull;
    sim->totals = totals;
    sim->keys = keys;
    sim->n = sc->n;
    sim->use_cache = use_cache;
    sim->trace = getenv("GENIE_SIM_TRACE") != NULL;
    sim->vc = calloc(SIM_VC_CAP, sizeof *sim->vc);
    if (!sim->vc)
        abort();
    memcpy(sim->chain_id, "genie-sim-chain-id-0123456789abc", 32);
    sim->chain_id[31] = (uint8_t)seed;
    for (int i = 0; i < sc->n; i++)
        if (ledger_valset_add(&sim->valset, proto_key_public(keys[i])) != 0)
            abort();
    sim->quorum = ledger_valset_quorum(&sim->valset);
    sim->params = (ledger_cons_params_t){.timeout_propose_ms = 300,
                                         .timeout_prevote_ms = 150,
                                         .timeout_precommit_ms = 150,
                                         .timeout_delta_ms = 100,
                                         .timeout_max_ms = 3000,
                                         .rebroadcast_ms = 400,
                                         .propose_retry_ms = 40};
    /* this run's weather before GST */
    sim->loss = sc->loss * (double)s_rng_range(&sim->rng, 0, 100) / 100.0;
    sim->dup = sc->dup * (double)s_rng_range(&sim->rng, 0, 100) / 100.0;
    sim->dmin = 1;
    sim->dmax = s_rng_range(&sim->rng, 10, sc->dmax);
    sim->persist_crash = sc->crashes ? 0.01 : 0;
    sim->persist_fail = sc->bad_blocks ? 0.01 : 0;
    uint64_t gst =
        sc->n == 1 ? s_rng_range(&sim->rng, 300, 1500) : s_rng_range(&sim->rng, 800, 3500);

    for (int i = 0; i < sc->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        nd->sim = sim;
        nd->idx = i;
        nd->byz = i >= sc->n - sc->byz;
    }
    for (int i = 0; i < sc->n; i++) {
        s_boot(sim, &sim->nodes[i]);
        s_at(sim, s_rng_range(&sim->rng, 1, SIM_SYNC_MS), EV_SYNC_TICK, i);
    }
    if (sc->partitions) {
        uint64_t k = s_rng_range(&sim->rng, 1, 3);
        for (uint64_t p = 0; p < k; p++) {
            uint64_t at = s_rng_range(&sim->rng, 0, gst - 100);
            s_at(sim, at, EV_PARTITION, -1);
            s_at(sim, at + s_rng_range(&sim->rng, 100, 1500), EV_HEAL, -1);
        }
    }
    if (sc->crashes) {
        uint64_t k = s_rng_range(&sim->rng, 1, (uint64_t)sc->n + 1);
        for (uint64_t c = 0; c < k; c++)
            s_at(sim, s_rng_range(&sim->rng, 0, gst), EV_CRASH,
                 (int)s_rng_range(&sim->rng, 0, (uint64_t)sc->n - 1));
    }
    s_at(sim, gst, EV_GST, -1);

    uint64_t events = 0;
    while (!sim->failed && !sim->done && sim->n_ev > 0) {
        sim_event_t ev = s_pop(sim);
        sim->now = ev.time;
        s_dispatch(sim, &ev);
        s_msg_unref(ev.msg);
        if (++events > SIM_EVENTS_MAX)
            s_fail(sim, "runaway: more than %u events", SIM_EVENTS_MAX);
        s_check_done(sim);
    }
    if (!sim->failed && !sim->done)
        s_fail(sim, "the event queue ran dry");
    totals->events += events;
    totals->virt_ms += sim->now;
    totals->runs++;
    if (verbose)
        printf("run %-12s seed %-8" PRIu64 " %s t=%" PRIu64 " ms, height %" PRIu64 ", %" PRIu64
               " events\n",
               sc->name, seed, sim->failed ? "FAIL" : "ok", sim->now, s_max_chain(sim), events);
    bool ok = !sim->failed;
    *digest = sim->digest;
    s_sim_free(sim);
    free(sim);
    return ok;
}

/* ==== directed tests of the core ==== */

/* A hand-driven io: records what the core asks for. */
#define H_OUT_MAX 64

typedef struct {
    proto_key_t *const *keys;
    int self;
    uint8_t chain_id[32];
    struct {
        uint32_t type;
        uint8_t data[512];
        size_t len;
    } out[H_OUT_MAX];
    size_t n_out;
    int persists, persist_rc, commits, timers;
    bool broadcast_before_persist;
    uint8_t record[4096];
    size_t record_len;
    uint8_t commit_hash[32];
    uint8_t cert[8192];
    size_t cert_len;
    uint64_t commit_height;
    const char *block;
} h_io_t;

static void h_broadcast(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
    h_io_t *h = ctx;
    if (h->persists == 0)
        h->broadcast_before_persist = true;
    if (h->n_out < H_OUT_MAX && len <= sizeof h->out[0].data) {
        h->out[h->n_out].type = type;
        memcpy(h->out[h->n_out].data, data, len);
        h->out[h->n_out].len = len;
        h->n_out++;
    }
}

static void h_schedule(void *ctx, uint64_t height, uint32_t round, ledger_cons_step_t step,
                       uint64_t delay)
{
    (void)height;
    (void)round;
    (void)step;
    (void)delay;
    ((h_io_t *)ctx)->timers++;
}

static int h_persist(void *ctx, const uint8_t *data, size_t len)
{
    h_io_t *h = ctx;
    if (h->persist_rc != 0)
        return h->persist_rc;
    h->persists++;
    if (len <= sizeof h->record) {
        memcpy(h->record, data, len);
        h->record_len = len;
    }
    return 0;
}

static ledger_cons_block_rc_t h_get_block(void *ctx, uint64_t height, const uint8_t **block,
                                          size_t *len)
{
    h_io_t *h = ctx;
    (void)height;
    *block = (const uint8_t *)h->block;
    *len = strlen(h->block);
    return LEDGER_CONS_BLOCK_READY;
}

static bool h_validate(void *ctx, uint64_t height, const uint8_t *block, size_t len)
{
    (void)ctx;
    (void)height;
    return len > 0 && block[0] != 'X';
}

static void h_commit(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                     const uint8_t hash[static 32], const uint8_t *cert, size_t cert_len)
{
    h_io_t *h = ctx;
    (void)block;
    (void)len;
    h->commits++;
    h->commit_height = height;
    memcpy(h->commit_hash, hash, 32);
    if (cert_len <= sizeof h->cert) {
        memcpy(h->cert, cert, cert_len);
        h->cert_len = cert_len;
    }
}

static ledger_cons_t *h_core(h_io_t *h, proto_key_t *const *keys, int self)
{
    memset(h, 0, sizeof *h);
    h->keys = keys;
    h->self = self;
    memcpy(h->chain_id, "directed-test-chain-id-000000000", 32);
    h->block = "block-A";
    ledger_cons_io_t io = {.ctx = h,
                           .broadcast = h_broadcast,
                           .schedule_timeout = h_schedule,
                           .persist = h_persist,
                           .get_block = h_get_block,
                           .validate = h_validate,
                           .commit = h_commit};
    return ledger_cons_new(h->chain_id, self >= 0 ? keys[self] : NULL, &io, NULL);
}

static ledger_valset_t h_valset(proto_key_t *const *keys, int n)
{
    ledger_valset_t vs = {0};
    for (int i = 0; i < n; i++)
        if (ledger_valset_add(&vs, proto_key_public(keys[i])) != 0)
            abort();
    return vs;
}

/* Encodes a vote by KEYS[who]. */
static size_t h_vote(const h_io_t *h, int who, uint8_t type, uint64_t height, uint32_t round,
                     const uint8_t *hash, uint8_t out[static 256])
{
    ledger_vote_t v = {.type = type, .height = height, .round = round, .has_hash = hash != NULL};
    memcpy(v.chain_id, h->chain_id, 32);
    if (hash)
        memcpy(v.hash, hash, 32);
    ledger_vote_sign(&v, h->keys[who]);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ledger_vote_encode(&v, &buf, &len) != PROTO_OK || len > 256)
        abort();
    memcpy(out, buf, len);
    free(buf);
    return len;
}

/* Encodes a proposal by KEYS[who] of BLOCK; *hash gets its hash. */
static uint8_t *h_proposal(const h_io_t *h, int who, uint64_t height, uint32_t round, int32_t pol,
                           const char *block, uint8_t hash[32], size_t *len)
{
    ledger_proposal_t p = {.height = height,
                           .round = round,
                           .pol_round = pol,
                           .timestamp_ms = 5,
                           .block = (const uint8_t *)block,
                           .block_len = strlen(block)};
    memcpy(p.chain_id, h->chain_id, 32);
    ledger_vote_value_hash(p.block, p.block_len, p.block_hash);
    memcpy(hash, p.block_hash, 32);
    ledger_proposal_sign(&p, h->keys[who]);
    uint8_t *buf = NULL;
    if (ledger_proposal_encode(&p, &buf, len) != PROTO_OK)
        abort();
    return buf;
}

/* The votes our core broadcast of TYPE at (HEIGHT, ROUND): count, and the last one in *V. */
static int h_find_votes(const h_io_t *h, uint8_t type, uint64_t height, uint32_t round,
                        ledger_vote_t *v)
{
    int k = 0;
    for (size_t i = 0; i < h->n_out; i++) {
        ledger_vote_t d;
        if (h->out[i].type != PROTO_MSG_VOTE ||
            ledger_vote_decode(h->out[i].data, h->out[i].len, &d) != PROTO_OK)
            continue;
        if (d.type == type && d.height == height && d.round == round &&
            memcmp(d.validator, proto_key_public(h->keys[h->self]), 32) == 0) {
            *v = d;
            k++;
        }
    }
    return k;
}

static void test_solo(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 0);
    CHECK(c != NULL);
    ledger_valset_t vs = h_valset(keys, 1);
    CHECK_EQ(ledger_cons_start_height(c, 1, &vs, 1000), 0);
    /* one validator: propose, prevote, precommit and commit in one call */
    CHECK_EQ(h.commits, 1);
    CHECK_EQ(h.commit_height, 1u);
    CHECK(ledger_cons_decided(c));
    CHECK(!h.broadcast_before_persist);
    CHECK_EQ(h.persists, 3); /* proposal, prevote, precommit: each persisted first */
    ledger_cert_t cert;
    CHECK_EQ(ledger_cert_decode(h.cert, h.cert_len, &cert), PROTO_OK);
    CHECK_EQ(ledger_cert_verify(&cert, &vs, h.chain_id, h.commit_hash), PROTO_OK);
    uint8_t expect[32];
    ledger_vote_value_hash((const uint8_t *)"block-A", 7, expect);
    CHECK(memcmp(expect, h.commit_hash, 32) == 0);
    /* the same height again, or a lower one, is refused; the next one commits */
    CHECK_EQ(ledger_cons_start_height(c, 1, &vs, 1001), -1);
    CHECK_EQ(ledger_cons_start_height(c, 2, &vs, 1001), 0);
    CHECK_EQ(h.commits, 2);
    CHECK_EQ(ledger_cons_height(c), 2u);
    /* a bad set */
    ledger_valset_t empty = {0};
    CHECK_EQ(ledger_cons_start_height(c, 3, &empty, 1002), -1);
    ledger_valset_t twice = vs;
    memcpy(twice.keys[1], twice.keys[0], 32);
    twice.n = 2;
    CHECK_EQ(ledger_cons_start_height(c, 3, &twice, 1002), -1);
    ledger_cons_destroy(&c);
    CHECK(c == NULL);
    ledger_cons_destroy(&c);

    /* a validator without persist is refused at creation */
    ledger_cons_io_t io = {.broadcast = h_broadcast,
                           .schedule_timeout = h_schedule,
                           .get_block = h_get_block,
                           .validate = h_validate,
                           .commit = h_commit};
    CHECK(ledger_cons_new(h.chain_id, keys[0], &io, NULL) == NULL);
    ledger_cons_t *follower = ledger_cons_new(h.chain_id, NULL, &io, NULL);
    CHECK(follower != NULL);
    ledger_cons_destroy(&follower);
}

static void test_persist_failure(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 0);
    h.persist_rc = -1;
    ledger_valset_t vs = h_valset(keys, 1);
    CHECK_EQ(ledger_cons_start_height(c, 1, &vs, 0), 0);
    CHECK_EQ(h.n_out, 0u); /* nothing durable, nothing signed */
    CHECK_EQ(h.commits, 0);
    ledger_cons_stats_t st;
    ledger_cons_stats(c, &st);
    CHECK(st.persist_failures >= 1);
    CHECK_EQ(st.signed_msgs, 0u);
    ledger_cons_destroy(&c);
}

static void test_bad_input(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 1); /* validator 1 of 4 */
    ledger_valset_t vs = h_valset(keys, 4);
    CHECK_EQ(ledger_cons_start_height(c, 5, &vs, 0), 0);
    uint8_t buf[256];
    uint8_t hash[32];
    size_t n;

    uint8_t garbage[] = {0x97, 0x01};
    CHECK_EQ(ledger_cons_on_vote(c, garbage, sizeof garbage, 1), PROTO_E_TYPE);
    CHECK(ledger_cons_on_proposal(c, garbage, sizeof garbage, 1) != PROTO_OK);

    /* a vote from a key outside the set */
    n = h_vote(&h, 5, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_E_INVALID);
    /* a vote on another chain */
    h_io_t other = h;
    other.chain_id[0] ^= 1;
    n = h_vote(&other, 2, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_E_INVALID);
    /* a bad signature */
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    buf[n - 1] ^= 1;
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_E_BAD_SIG);
    /* a good one, then it again (duplicate), then a conflicting one (equivocation) */
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 5, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    memset(hash, 7, 32);
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 5, 0, hash, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    /* a past height is ignored quietly */
    n = h_vote(&h, 2, LEDGER_VOTE_PREVOTE, 4, 0, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);

    /* proposals: the proposer of (5, 0) is 5 mod 4 = 1 (us); of (5, 1) it is 2 */
    size_t plen;
    uint8_t *p = h_proposal(&h, 3, 5, 1, -1, "block-B", hash, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_E_INVALID); /* not its turn */
    free(p);
    p = h_proposal(&h, 2, 5, 1, -1, "block-B", hash, &plen);
    p[plen - 1] ^= 1; /* the block no longer matches its hash */
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_E_INVALID);
    p[plen - 1] ^= 1;
    p[80] ^= 1; /* inside the signed block hash */
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_E_BAD_SIG);
    p[80] ^= 1;
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK); /* duplicate */
    free(p);
    p = h_proposal(&h, 2, 5, 1, -1, "block-C", hash, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK); /* equivocation: ignored */
    free(p);

    ledger_cons_stats_t st;
    ledger_cons_stats(c, &st);
    CHECK_EQ(st.malformed, 2u);
    CHECK_EQ(st.not_validator, 1u);
    CHECK_EQ(st.wrong_chain, 1u);
    CHECK(st.bad_sig >= 2);
    CHECK_EQ(st.duplicates, 2u);
    CHECK_EQ(st.equivocations, 2u);
    CHECK_EQ(st.wrong_proposer, 1u);
    CHECK_EQ(st.bad_hash, 1u);
    CHECK_EQ(st.stale, 1u);

    /* next-height messages are buffered, within bounds */
    for (int r = 0; r < 40; r++)
        for (int who = 0; who < 4; who++) {
            n = h_vote(&h, who, LEDGER_VOTE_PRECOMMIT, 6, (uint32_t)r, NULL, buf);
            CHECK_EQ(ledger_cons_on_vote(c, buf, n, 2), PROTO_OK);
        }
    ledger_cons_stats(c, &st);
    CHECK_EQ(st.buffered, 20u); /* rounds 0..4 of 4 validators */
    CHECK(st.dropped >= 140u);
    ledger_cons_destroy(&c);
}

/* Drives validator 1 of 4 to a lock, crashes it, restarts it from its record and checks it
   neither double-signs nor forgets its lock. */
static void test_restore(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, 1);
    ledger_valset_t vs = h_valset(keys, 4);
    uint8_t buf[256], va[32], vb[32];
    size_t n, plen;
    /* height 3: proposer of round 0 is 3 */
    CHECK_EQ(ledger_cons_start_height(c, 3, &vs, 0), 0);
    uint8_t *p = h_proposal(&h, 3, 3, 0, -1, "block-A", va, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 1), PROTO_OK);
    free(p);
    ledger_vote_t mine;
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    /* a polka for A: we lock and precommit A */
    for (int who = 2; who < 4; who++) {
        n = h_vote(&h, who, LEDGER_VOTE_PREVOTE, 3, 0, va, buf);
        CHECK_EQ(ledger_cons_on_vote(c, buf, n, 2), PROTO_OK);
    }
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PRECOMMIT, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    CHECK(!h.broadcast_before_persist);

    /* crash: only the record survives */
    uint8_t record[4096];
    size_t record_len = h.record_len;
    memcpy(record, h.record, record_len);
    ledger_cons_destroy(&c);
    c = h_core(&h, keys, 1);
    CHECK_EQ(ledger_cons_restore(c, record, record_len - 1), PROTO_E_TRUNCATED);
    CHECK_EQ(ledger_cons_restore(c, record, record_len), PROTO_OK);
    CHECK_EQ(ledger_cons_start_height(c, 3, &vs, 10), 0);
    CHECK_EQ(ledger_cons_round(c), 0u);
    CHECK_EQ(ledger_cons_step(c), LEDGER_STEP_PRECOMMIT); /* where the record left us */
    /* it re-sends its votes of round 0 exactly as they were */
    ledger_cons_on_timeout(c, 3, 0, LEDGER_STEP_REBROADCAST, 10); /* not stuck yet */
    CHECK_EQ(h.n_out, 0u);
    ledger_cons_on_timeout(c, 3, 0, LEDGER_STEP_REBROADCAST, 11); /* stuck */
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PRECOMMIT, 3, 0, &mine), 1);
    CHECK(mine.has_hash && memcmp(mine.hash, va, 32) == 0);
    h.n_out = 0;
    CHECK_EQ(ledger_cons_restore(c, record, record_len), PROTO_E_INVALID); /* too late */
    /* the proposer equivocates: a proposal of B in round 0. We must not prevote it (we
       already prevoted A in round 0), nor precommit anything but A. */
    p = h_proposal(&h, 3, 3, 0, -1, "block-B", vb, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 11), PROTO_OK);
    free(p);
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 0, &mine), 0);
    n = h_vote(&h, 3, LEDGER_VOTE_PREVOTE, 3, 0, vb, buf); /* 3 equivocates (f = 1) */
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 12), PROTO_OK);
    n = h_vote(&h, 0, LEDGER_VOTE_PREVOTE, 3, 0, vb, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 12), PROTO_OK);
    int k = h_find_votes(&h, LEDGER_VOTE_PRECOMMIT, 3, 0, &mine);
    CHECK(k == 0 || (mine.has_hash && memcmp(mine.hash, va, 32) == 0));

    /* round 1 (proposer 0) proposes B without a proof of lock: locked on A, we prevote nil */
    ledger_cons_on_timeout(c, 3, 0, LEDGER_STEP_PRECOMMIT, 20);
    CHECK_EQ(ledger_cons_round(c), 1u);
    p = h_proposal(&h, 0, 3, 1, -1, "block-B", vb, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 21), PROTO_OK);
    free(p);
    CHECK_EQ(h_find_votes(&h, LEDGER_VOTE_PREVOTE, 3, 1, &mine), 1);
    CHECK(!mine.has_hash);

    /* round 2 is ours (3 + 2 = 5, 5 mod 4 = 1): we re-propose A with pol_round 0, from the
       restored valid value, preceded by the prevotes that prove it */
    ledger_cons_on_timeout(c, 3, 1, LEDGER_STEP_PRECOMMIT, 30);
    CHECK_EQ(ledger_cons_round(c), 2u);
    bool found = false;
    int pol_votes = 0;
    for (size_t i = 0; i < h.n_out; i++) {
        ledger_proposal_t d;
        ledger_vote_t v;
        if (h.out[i].type == PROTO_MSG_PROPOSAL &&
            ledger_proposal_decode(h.out[i].data, h.out[i].len, &d) == PROTO_OK && d.round == 2) {
            found = d.pol_round == 0 && memcmp(d.block_hash, va, 32) == 0;
        }
        if (h.out[i].type == PROTO_MSG_VOTE &&
            ledger_vote_decode(h.out[i].data, h.out[i].len, &v) == PROTO_OK &&
            v.type == LEDGER_VOTE_PREVOTE && v.round == 0 && v.has_hash &&
            memcmp(v.hash, va, 32) == 0)
            pol_votes++;
    }
    CHECK(found);
    CHECK(pol_votes >= 3);
    ledger_cons_destroy(&c);
}

/* Round skipping and a late proposal completing a commit. */
static void test_skip_and_late_block(proto_key_t *const *keys)
{
    h_io_t h;
    ledger_cons_t *c = h_core(&h, keys, -1); /* a follower */
    ledger_valset_t vs = h_valset(keys, 4);
    uint8_t buf[256], va[32];
    size_t n, plen;
    CHECK_EQ(ledger_cons_start_height(c, 8, &vs, 0), 0);
    /* one validator at round 6: no skip (it might be lying); two: skip */
    n = h_vote(&h, 0, LEDGER_VOTE_PREVOTE, 8, 6, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_round(c), 0u);
    n = h_vote(&h, 1, LEDGER_VOTE_PREVOTE, 8, 3, NULL, buf);
    CHECK_EQ(ledger_cons_on_vote(c, buf, n, 1), PROTO_OK);
    CHECK_EQ(ledger_cons_round(c), 3u); /* two validators are at round >= 3 */
    /* precommits for A in round 3 first, the proposal after: commit once */
    uint8_t *p = h_proposal(&h, (8 + 3) % 4, 8, 3, -1, "block-A", va, &plen);
    for (int who = 0; who < 4; who++) {
        n = h_vote(&h, who, LEDGER_VOTE_PRECOMMIT, 8, 3, va, buf);
        CHECK_EQ(ledger_cons_on_vote(c, buf, n, 2), PROTO_OK);
    }
    CHECK_EQ(h.commits, 0);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 3), PROTO_OK);
    CHECK_EQ(h.commits, 1);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 3), PROTO_OK);
    CHECK_EQ(h.commits, 1);
    ledger_cert_t cert;
    CHECK_EQ(ledger_cert_decode(h.cert, h.cert_len, &cert), PROTO_OK);
    CHECK_EQ(cert.n_sigs, 4u);
    CHECK_EQ(ledger_cert_verify(&cert, &vs, h.chain_id, va), PROTO_OK);
    free(p);
    /* an invalid block never commits */
    CHECK_EQ(ledger_cons_start_height(c, 9, &vs, 4), 0);
    p = h_proposal(&h, 9 % 4, 9, 0, -1, "X-invalid", va, &plen);
    CHECK_EQ(ledger_cons_on_proposal(c, p, plen, 5), PROTO_OK);
    for (int who = 0; who < 4; who++) {
        n = h_vote(&h, who, LEDGER_VOTE_PRECOMMIT, 9, 0, va, buf);
        CHECK_EQ(ledger_cons_on_vote(c, buf, n, 6), PROTO_OK);
    }
    CHECK_EQ(h.commits, 1);
    free(p);
    ledger_cons_destroy(&c);
}

/* ==== main ==== */

static uint64_t s_env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 0) : dflt;
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_log_set_level(LOG_LVL_ERROR);
    proto_key_t *keys[SIM_NODES_MAX + 1];
    for (int i = 0; i <= SIM_NODES_MAX; i++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)(0xa0 + i);
        keys[i] = proto_key_from_seed(seed);
        if (!keys[i])
            return 1;
    }

    test_solo(keys);
    test_persist_failure(keys);
    test_bad_input(keys);
    test_restore(keys);
    test_skip_and_late_block(keys);

    bool verbose = getenv("GENIE_SIM_VERBOSE") != NULL;
    const char *only = getenv("GENIE_SIM_SCENARIO");
    const sim_scenario_t *one = only && *only ? s_scenario_find(only) : NULL;
    if (only && *only && !one) {
        fprintf(stderr, "unknown GENIE_SIM_SCENARIO %s; known:", only);
        for (size_t i = 0; i < SIM_SCENARIOS; i++)
            fprintf(stderr, " %s", s_scenarios[i].name);
        fprintf(stderr, "\n");
        return 1;
    }
    sim_totals_t totals;
    memset(&totals, 0, sizeof totals);
    struct timespec t_start, t_end;
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    uint64_t failures = 0;

    if (getenv("GENIE_SIM_SEED")) {
        /* replay one run exactly */
        uint64_t seed = s_env_u64("GENIE_SIM_SEED", 1);
        const sim_scenario_t *sc = one ? one : &s_scenarios[0];
        uint64_t d1, d2;
        bool ok = s_run(sc, seed, keys, seed % 10 != 0, &totals, &d1, true);
        bool again = s_run(sc, seed, keys, seed % 10 != 0, &totals, &d2, false);
        CHECK(ok);
        CHECK(ok == again && d1 == d2); /* the replay is exact */
        failures += !ok;
    } else {
        uint64_t runs = s_env_u64("GENIE_SIM_RUNS", SIM_DEFAULT_RUNS);
        uint64_t base = s_env_u64("GENIE_SIM_BASE_SEED", 1);
        for (uint64_t i = 0; i < runs; i++) {
            const sim_scenario_t *sc =
                one ? one : &s_scenarios[s_order[i % (sizeof s_order / sizeof s_order[0])]];
            uint64_t seed = base + i;
            uint64_t d;
            if (!s_run(sc, seed, keys, seed % 10 != 0, &totals, &d, verbose))
                failures++;
        }
        /* determinism: the first run of each of two scenarios, twice */
        for (size_t k = 0; k < 2 && !one; k++) {
            const sim_scenario_t *sc = &s_scenarios[k == 0 ? 6 : 14];
            uint64_t d1, d2;
            sim_totals_t scratch;
            memset(&scratch, 0, sizeof scratch);
            bool a = s_run(sc, base + 99, keys, true, &scratch, &d1, false);
            bool b = s_run(sc, base + 99, keys, true, &scratch, &d2, false);
            CHECK(a == b && d1 == d2);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    double secs =
        (double)(t_end.tv_sec - t_start.tv_sec) + (double)(t_end.tv_nsec - t_start.tv_nsec) / 1e9;
    CHECK_EQ(failures, 0u);
    printf("consensus sim: %" PRIu64 " runs (%" PRIu64 " failed) in %.1f s; %" PRIu64
           " virtual s; %" PRIu64 " events, %" PRIu64 " delivered, %" PRIu64 " lost\n",
           totals.runs, failures, secs, totals.virt_ms / 1000, totals.events, totals.delivered,
           totals.lost);
    printf("  %" PRIu64 " commits, %" PRIu64 " blocks synced, %" PRIu64 " rounds (%" PRIu64
           " skipped to), %" PRIu64 " crashes (%" PRIu64 " right after persist), %" PRIu64
           " restarts, %" PRIu64 " partitions, %" PRIu64 " halts checked\n",
           totals.commits, totals.synced, totals.rounds, totals.skips, totals.crashes,
           totals.persist_crashes, totals.restarts, totals.partitions, totals.halts_checked);
    printf("  %" PRIu64 " equivocations detected (%" PRIu64 " byzantine twins sent), %" PRIu64
           " duplicates, %" PRIu64 " signatures refused by the guard, %" PRIu64
           " corrupted copies\n",
           totals.equivocations, totals.byz_msgs, totals.dups, totals.refused, totals.corrupted);
    printf("  crypto: %" PRIu64 " signatures made, %" PRIu64 " checked (cache misses), %" PRIu64
           " certificates checked\n",
           totals.signed_msgs, totals.sig_checks, totals.cert_checks);
    for (int i = 0; i <= SIM_NODES_MAX; i++)
        proto_key_destroy(&keys[i]);
    return testutil_done("test_consensus_sim");
}
