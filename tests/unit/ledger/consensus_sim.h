/*  consensus_sim: private to test_consensus_sim. The simulation's types (scenarios,
 *  messages, events, nodes, the world) and the functions its files share; the world, the
 *  faults and what is checked are described at the top of test_consensus_sim.c.
 *
 *    consensus_sim.c            the world: PRNG, failures, event heap, network, GST, runs
 *    consensus_sim_node.c       a node: its application, consensus io, byzantine
 *                               twins, crash and boot, delivered messages
 *    consensus_sim_sync.c       a node's real sync core (ledger_sync) and its io; the
 *                               forger's lies
 *    consensus_sim_check.c      global checks: double signing, certificates, durable
 *                               record, liveness
 *    consensus_sim_directed.c   directed tests of the core's edges
 *    test_consensus_sim.c       the scenarios table and main
 */
#ifndef GENIE_CONSENSUS_SIM_H
#define GENIE_CONSENSUS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_consensus.h"
#include "ledger/ledger_sync.h"
#include "proto/proto_key.h"

#define SIM_NODES_MAX 7
#define SIM_K 3                 /* heights required after GST */
#define SIM_LIVE_MS 60000u      /* ... within this much virtual time */
#define SIM_HEIGHT_MAX 400u     /* a run stops growing its chains here */
#define SIM_EVENTS_MAX 4000000u /* runaway guard */
#define SIM_SYNC_MS 300u        /* sync tick period (plus up to 50 ms) */
#define SIM_LATE_MIN 16u        /* a late joiner boots when the chain reaches this height ... */
#define SIM_LATE_MAX 32u        /* ... or up to this one */
#define SIM_SYNC_BATCH 4u  /* blocks per sync request (node: 16): several requests per catch-up */
#define SIM_FORGER_LIE 40u /* the forger claims a head this far above its own */
#define SIM_VC_CAP 16384u  /* signature cache slots */

/* ---- PRNG (splitmix64) ---- */

typedef struct {
    uint64_t s;
} sim_rng_t;

/* ---- scenarios ---- */

typedef struct {
    const char *name;
    int n;
    int byz;          /* equivocating validators (the last BYZ indexes) */
    double loss, dup; /* before GST: upper bounds, each run draws below them */
    uint64_t dmax;    /* before GST, ms */
    bool partitions, crashes, minority, lazy, bad_blocks, corrupt;
    double post_loss; /* after GST */
    /* block sync (every node runs ledger_sync; these make it work hard) */
    uint8_t late; /* 0; SIM_LATE_VALIDATOR: validator n-1 boots dozens of heights late;
                     SIM_LATE_FOLLOWER: an extra follower does */
    bool forger;  /* an extra follower that claims a higher head and serves forged blocks */
    bool authset; /* an extra key: proposers sometimes change the authority set to a
                     random n-subset of the n + 1 keys (blocks carry the new set) */
} sim_scenario_t;

enum { SIM_LATE_NONE = 0, SIM_LATE_VALIDATOR = 1, SIM_LATE_FOLLOWER = 2 };

/* The scenarios (test_consensus_sim.c); a run's PRNG is seeded from its index. */
extern const sim_scenario_t csim_scenarios[];

/* ---- messages and events ---- */

enum { MSG_PROPOSAL, MSG_VOTE, MSG_STATUS, MSG_SYNC };

typedef struct {
    int refs;
    uint8_t kind;
    int8_t from;
    bool corrupted;
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
    EV_GST2,
    EV_LATE /* is it time for the late joiner to boot? */
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
    bool follower; /* has no say in consensus (its core has no key) */
    bool forger;   /* serves forged blocks, claims a head it does not have */
    bool late;     /* boots only once the chain reached late_height */
    uint32_t epoch;
    ledger_cons_t *cons;
    ledger_sync_t *sync; /* the real sync core: memory, lost in a crash */
    uint32_t vmask;      /* authority set after its head: bit i is key i */
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
    uint64_t byz_msgs, corrupted, halts_checked;
    uint64_t late_joins, late_synced, forged, forged_refused, unasked, set_changes;
    uint64_t sync_requests, sync_timeouts, peers_ignored;
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
    int n;  /* nodes: validators, then the followers / extra key */
    int nv; /* validators of the initial set (keys 0..nv-1) */
    sim_node_t nodes[SIM_NODES_MAX];
    uint64_t late_height; /* the late joiner boots at this chain height */
    bool late_pending;
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
    uint32_t final_mask[SIM_HEIGHT_MAX + 2]; /* authority set after each final height */
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

/* ---- the world (consensus_sim.c) ---- */

uint64_t csim_rng_next(sim_rng_t *r);
uint64_t csim_rng_range(sim_rng_t *r, uint64_t lo, uint64_t hi);
bool csim_rng_chance(sim_rng_t *r, double p);
/* Fails the run (the first failure only) and prints its replay line. */
void csim_fail(sim_t *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Folds V into the run's trace digest. */
void csim_digest(sim_t *sim, uint64_t v);
void csim_push(sim_t *sim, sim_event_t ev);
/* Schedules an event of KIND at NODE (-1: none) DELAY ms from now. */
void csim_at(sim_t *sim, uint64_t delay, uint8_t kind, int node);
sim_msg_t *csim_msg_new(uint8_t kind, int from, const uint8_t *data, size_t len);
void csim_msg_unref(sim_msg_t *m);
/* Sends M from FROM to TO through the network model (takes no reference of the caller). */
void csim_net_send(sim_t *sim, int from, int to, sim_msg_t *m);
/* Runs SC with SEED; true if every check held. *DIGEST gets the trace digest. */
bool csim_run(const sim_scenario_t *sc, uint64_t seed, proto_key_t *const *keys, bool use_cache,
              sim_totals_t *totals, uint64_t *digest, bool verbose);

/* ---- a validator (consensus_sim_node.c) ---- */

bool csim_is_honest(const sim_t *sim, int i);
/* Adds ND's core's counters to the totals and destroys the core (NULL: nothing). */
void csim_retire_core(sim_t *sim, sim_node_t *nd);
/* The authority set of MASK (bit i: key i). */
void csim_valset(const sim_t *sim, uint32_t mask, ledger_valset_t *vs);
/* The authority set that certifies height H (the truth: after the final block H - 1). */
uint32_t csim_mask_for(const sim_t *sim, uint64_t h);
/* Destroys ND's cores: only its record and chain survive. */
void csim_crash(sim_t *sim, sim_node_t *nd);
/* Starts the height after ND's chain, unless its core is there already. */
void csim_start_next(sim_t *sim, sim_node_t *nd);
/* After every call into a core: a crash inside persist takes effect now. */
void csim_after_call(sim_t *sim, sim_node_t *nd);
/* A new core for ND, restored from its durable record if it has one. */
void csim_boot(sim_t *sim, sim_node_t *nd);
void csim_on_deliver(sim_t *sim, sim_node_t *nd, sim_msg_t *m);
/* Parses a sim block "height:proposer:[Smask:][BAD:]nonce": false if malformed or BAD;
 *MASK gets the new authority set it carries (0: none). */
bool csim_block_parse(const sim_t *sim, const uint8_t *block, size_t len, uint64_t *height,
                      uint32_t *mask);
/* Appends a final block to ND's chain after the global checks; false if refused. */
bool csim_chain_append(sim_t *sim, sim_node_t *nd, uint64_t h, const uint8_t *block, size_t len,
                       const uint8_t hash[32], const uint8_t *cert, size_t cert_len,
                       const char *origin);

/* ---- a node's sync core and its io (consensus_sim_sync.c) ---- */

/* A new ledger_sync core for ND (NULL on failure). */
ledger_sync_t *csim_sync_new(sim_t *sim, sim_node_t *nd);
/* A STATUS or sync unicast delivered to ND. */
void csim_sync_deliver(sim_t *sim, sim_node_t *nd, const sim_msg_t *m);
/* ND's sync tick (and, for the forger, an unsolicited block to someone). */
void csim_sync_tick(sim_t *sim, sim_node_t *nd);

/* ---- global checks (consensus_sim_check.c) ---- */

/* Everything an honest validator signs goes through here: one value per (h, r, kind). */
void csim_check_signature(sim_t *sim, int who, uint8_t kind, uint64_t h, uint32_t r, bool has_hash,
                          const uint8_t *hash);
/* A cache slot for KEY16 (probing a few slots); *found tells whether it held KEY16. */
sim_vc_t *csim_vc_slot(sim_t *sim, const uint8_t key[16], bool *found);
/* The certificate CERT for HASH at height H must verify against the authority set of the
   run's truth for H (csim_mask_for). */
void csim_check_cert(sim_t *sim, int who, uint64_t h, const uint8_t hash[32], const uint8_t *cert,
                     size_t len, const char *origin);
/* What an honest validator sends that it signed must be covered by its durable record. */
void csim_check_persisted(sim_t *sim, const sim_node_t *nd, uint64_t h, uint32_t r, uint8_t step);
/* Liveness: marks the run done, or fails it once SIM_LIVE_MS passed without SIM_K heights. */
void csim_check_done(sim_t *sim);

/* ---- directed tests (consensus_sim_directed.c) ---- */

void csim_test_solo(proto_key_t *const *keys);
void csim_test_persist_failure(proto_key_t *const *keys);
void csim_test_bad_input(proto_key_t *const *keys);
void csim_test_restore(proto_key_t *const *keys);
void csim_test_skip_and_late_block(proto_key_t *const *keys);

#endif
