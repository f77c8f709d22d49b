/*  p2p_sim: a deterministic network simulator for the sans-IO p2p core (p2p_core.h).
 *
 *  Many cores run in one process over a simulated network. One seeded PRNG drives
 *  everything: virtual time in ms, an event queue (a binary heap ordered by time, then by
 *  insertion number) of message deliveries, failed-dial reports, timer ticks and scripted
 *  actions, random delays, loss, duplication, partitions and crashes. The cores' own
 *  randomness is seeded from the same PRNG, so a run is a pure function of its seed and
 *  any failure replays exactly.
 *
 *  Usage: a test includes this header and is built with p2p_sim.c (the world: PRNG, event
 *  queue, transport, core callbacks, run loop), p2p_sim_observe.c (checks, traces, tallies,
 *  reports) and p2p_sim_drive.c (boot, load, restarts, lookups, unicasts, abuse,
 *  partitions); tests/CMakeLists.txt lists them in unit_parts_test_p2p_sim:
 *
 *      sim_t *sim = psim_new("name", seed, 64, 0);      64 nodes, none hand-driven
 *      sim->loss = 0.05;
 *      psim_boot(sim);                                  start cores, one seed each
 *      psim_run_for(sim, 10000);                        10 s of virtual time
 *      psim_schedule(sim, sim->now + 500, psim_act_broadcast, 0, 0);
 *      psim_run_for(sim, 30000);
 *      sim_tally_t t = psim_tally(sim, from, to, true); who got which message how often
 *      psim_check_invariants(sim);
 *      psim_destroy(&sim);
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
 *  with psim_inject (an attacker), and what cores send them is dropped.
 *
 *  Debugging knobs (environment): GENIE_SIM_TRACE="A,B" or "A" prints every transport
 *  event between nodes A and B (or involving A); GENIE_SIM_VERBOSE=1 prints link counts,
 *  components and traffic by message type; GENIE_SIM_LOSS=p overrides the loss rate;
 *  GENIE_SIM_RESEED=1 re-gives nodes their boot seed every 2 s (see s_act_reseed in
 *  p2p_sim_drive.c); GENIE_SIM_FIFO=1 keeps per-pair message order.
 */
#ifndef GENIE_P2P_SIM_H
#define GENIE_P2P_SIM_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p_core.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

#define SIM_BASE_MS ((uint64_t)1700000000000u) /* virtual time starts at a realistic epoch */
#define SIM_TICK_MS 50u
#define SIM_MSGS_MAX 1024u /* registered gossip messages per run */
#define SIM_OPS_MAX 256u   /* lookups / unicasts per run */
#define SIM_KIND_BCAST 32u /* kind of our node-wide broadcasts (like a tx) */
#define SIM_ROOM "r1"
#define SIM_MAGIC_GOSSIP "GSIM"
#define SIM_MAGIC_UNICAST "GSUN"
#define SIM_UNICAST_KIND PROTO_MSG_TEXT /* receivers dispatch on the kind */
#define SIM_MAGIC_FLOOD "GSFL"
#define SIM_PAYLOAD_LEN 16u

/* ---------------------------------------------------------------- PRNG ---- */

/*  xoshiro256** seeded through splitmix64. */
typedef struct {
    uint64_t s[4];
} sim_rng_t;

/* -------------------------------------------------------------- structs ---- */

typedef struct sim_t sim_t;
typedef void (*sim_action_fn)(sim_t *sim, int node, int arg);

typedef enum { EV_MSG, EV_LINK_DOWN, EV_TICK, EV_ACTION } sim_ev_kind_t;

typedef struct {
    uint64_t time;
    uint64_t seq;
    sim_ev_kind_t kind;
    int node;         /* the node it happens at */
    int from;         /* EV_MSG: sending node */
    uint32_t inc;     /* NODE's incarnation when scheduled (stale events are dropped) */
    uint8_t peer[32]; /* EV_LINK_DOWN */
    uint8_t *data;    /* EV_MSG: owned copy */
    size_t len;
    sim_action_fn fn; /* EV_ACTION */
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
    bool external;  /* no core: a hand-driven (attacker) identity */
    bool member;    /* in SIM_ROOM (the application's intent; rejoined on restart) */
    bool ever_down; /* crashed at least once */
    uint32_t inc;   /* incarnation: bumped at each crash */
    uint32_t restarts;
    uint64_t up_since; /* when the current incarnation started */
    uint8_t *saved;    /* peers saved at the last crash */
    size_t saved_len;
    uint16_t *counts; /* deliveries per registered message, this incarnation */
    uint64_t delivered, dup_deliveries, nonmember_deliveries, unexpected, internal_kind;
    uint64_t flood_delivered;
    int pending_op; /* op being issued (a callback may fire inside the call) */
    int seed;       /* the node it was given as seed at boot, or -1 */
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
    uint64_t id;   /* lookup id or send id */
    bool known;    /* lookups: target was in src's table when issued */
    bool linked;   /* target was linked to src when issued */
    int done;      /* completion callbacks seen */
    int status;    /* unicast: on_send_done status */
    bool ok;       /* lookup: the right endpoint */
    uint32_t recv; /* unicast: deliveries at dst */
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
    bool *link; /* link[i*n+j]: i has a route to j (dialed it, or heard from it) */
    int *group; /* partition group per node */
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
    uint64_t fails;       /* SIM_CHECK failures in this run */
    uint64_t env_seq;     /* envelope numbers of hand-made (attacker) messages */
    double loss_override; /* GENIE_SIM_LOSS (debugging), or < 0 */
    int trace_a, trace_b; /* GENIE_SIM_TRACE */
    bool verbose;         /* GENIE_SIM_VERBOSE */
    bool fifo;            /* GENIE_SIM_FIFO: per-pair order kept (else delays reorder) */
    uint64_t *last_at;    /* [i*n+j]: last delivery time scheduled from i to j */
    uint64_t by_type[16]; /* sends per p2p message type (verbose only) */
};

/*  Delivery tally. The header does not say whether an origin hears its own messages;
 *  p2p_gossip.c delivers a room post to its poster once, at once ("the poster sees its own
 *  post once, like every other member"), and a node-wide broadcast never: both asserted. */
typedef struct {
    uint64_t expected, missing, extra, posted;
    uint64_t self_post_bad;  /* room posts not delivered exactly once to their poster */
    uint64_t self_bcast_bad; /* broadcasts delivered to their origin */
} sim_tally_t;

/* ------------------------------------------------- p2p_sim.c: the world ---- */

uint64_t psim_rng_next(sim_rng_t *r);
/*  Uniform in [0, n) (n > 0; the modulo bias is irrelevant here). */
uint64_t psim_rng_below(sim_rng_t *r, uint64_t n);
/*  Uniform in [lo, hi]. */
uint64_t psim_rng_range(sim_rng_t *r, uint64_t lo, uint64_t hi);
bool psim_rng_chance(sim_rng_t *r, double p);

/*  Runs FN(sim, NODE, ARG) at virtual time AT (absolute). */
void psim_schedule(sim_t *sim, uint64_t at, sim_action_fn fn, int node, int arg);
/*  Index of the node with ID, or -1. */
int psim_find(const sim_t *sim, const uint8_t id[static 32]);
/*  Starts node I's core at now (a fresh start, or a restart loading saved peers). */
int psim_node_start(sim_t *sim, int i);
/*  Crashes node I: saves its peers, destroys its core, tells some linked peers. */
void psim_node_crash(sim_t *sim, int i);
/*  Runs every event up to virtual time T (absolute). */
void psim_run_until(sim_t *sim, uint64_t t);
/*  Runs for MS of virtual time. */
void psim_run_for(sim_t *sim, uint64_t ms);
/*  A simulation of N nodes (the last N_EXTERNAL without a core), none started yet. */
sim_t *psim_new(const char *scenario, uint64_t seed, int n, int n_external);
void psim_destroy(sim_t **sim_p);

/* ------------------------------------- p2p_sim_observe.c: what is seen ---- */

/*  Records a check (testutil_check); a failure also prints the replay line and FMT. */
void psim_check(sim_t *sim, bool ok, const char *expr, const char *file, int line, const char *fmt,
                ...) __attribute__((format(printf, 6, 7)));
#define SIM_CHECK(sim, cond, ...) psim_check((sim), (cond), #cond, __FILE__, __LINE__, __VA_ARGS__)
/*  True if GENIE_SIM_TRACE asks for events between A and B (A == B: events of node A). */
bool psim_traced(const sim_t *sim, int a, int b);
/*  Prints one trace line if psim_traced(SIM, A, B). */
void psim_trace(const sim_t *sim, int a, int b, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/*  Message type name of an encoded envelope (for traces), written to OUT; returns OUT. */
const char *psim_type_name(const uint8_t *data, size_t len, char out[static 64]);
/*  True if A's core has a ready link to B; *KNOWN: B is in A's table. */
bool psim_core_linked(sim_t *sim, int a, int b, bool *known);
/*  With GENIE_SIM_VERBOSE set: every node's ready links and table size. */
void psim_print_links(sim_t *sim, const char *when);
void psim_print_transport(const sim_t *sim);
/*  Checks that hold in every run. */
void psim_check_invariants(sim_t *sim);
/*  Tallies deliveries of every accepted message made in [FROM_MS, TO_MS). */
sim_tally_t psim_tally(sim_t *sim, uint64_t from_ms, uint64_t to_ms, bool verbose);
/*  True if VICTIM's core has banned WHO. */
bool psim_banned(sim_t *sim, int victim, int who);
/*  Number of nodes that delivered registered message K. */
size_t psim_count_delivered(sim_t *sim, int k);

/* ------------------------------------- p2p_sim_drive.c: what is done ---- */

/*  Starts every core node at now; node i > 0 gets one seed, a random earlier node. */
void psim_boot(sim_t *sim);
/*  Registers a message from ORIGIN on TOPIC and returns its number. */
int psim_msg_new(sim_t *sim, const char *topic, int origin);
/*  Picks a random up node (a member of SIM_ROOM if MEMBERS), or -1. */
int psim_pick_up(sim_t *sim, bool members);
/*  Every up node joins SIM_ROOM, except about a quarter. */
void psim_join_room(sim_t *sim);
/*  Picks N pairs (src, dst) of up nodes where dst is not linked to src, as ops. */
void psim_pick_pairs(sim_t *sim, size_t n);
/*  Actions for psim_schedule: a room post or a broadcast from a random up node, a
 *  restart of NODE, lookup or unicast op ARG, healing every partition. */
void psim_act_post(sim_t *sim, int node, int arg);
void psim_act_broadcast(sim_t *sim, int node, int arg);
void psim_act_restart(sim_t *sim, int node, int arg);
void psim_act_lookup(sim_t *sim, int node, int arg);
void psim_act_send(sim_t *sim, int node, int arg);
void psim_act_heal(sim_t *sim, int node, int arg);
/*  Seals W's content as TYPE from KEY at now; frees W. Caller frees the result. */
uint8_t *psim_seal(sim_t *sim, const proto_key_t *key, uint32_t type, proto_wr_t *w, size_t *len);
/*  A HELLO from NODE, or a GOSSIP signed by SIGNER (caller frees). */
uint8_t *psim_make_hello(sim_t *sim, int node, size_t *len);
uint8_t *psim_make_gossip(sim_t *sim, int signer, const char *topic, uint32_t kind,
                          const uint8_t *payload, size_t plen, size_t *len);
/*  Feeds raw bytes to VICTIM as if they came over the link from node FROM. */
void psim_inject(sim_t *sim, int victim, int from, const uint8_t *data, size_t len);

#endif
