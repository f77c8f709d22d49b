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
 *      GENIE_SIM_SCENARIO=n4-forger GENIE_SIM_RUNS=500 ...  (one scenario, many seeds)
 *      GENIE_SIM_SYNC_ONLY=1 GENIE_SIM_RUNS=500 ...   (the sync scenarios only, in turn)
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
 *      waits a block interval and starts the next height.
 *    - block sync: every node runs the REAL sync core (ledger/ledger_sync.h, the code a
 *      node runs) with the node's bounds and its times scaled down, ticked every ~300 ms:
 *      STATUS broadcasts, SYNC_REQ / SYNC_BLOCKS unicasts as real wire bytes through the
 *      simulated network, certificates checked by the core against the authority set the
 *      node's chain leads to (consensus_sim_sync.c). Sync scenarios (one default run in
 *      SIM_SYNC_EVERY): a validator or a follower boots when the chain is 16..32 heights
 *      long and must catch up, SIM_SYNC_BATCH blocks per request; a forger claims a higher head and
 * answers with bad certificates, blocks of another height, altered blocks and blocks nobody asked
 *      for; proposers change the authority set (blocks "h:p:S<mask>:..." make the set all
 *      n + 1 keys but one) while a node is away, so it must verify later certificates
 *      against the new sets.
 *    - byzantine scenarios: f validators equivocate: each of their proposals and votes
 *      goes out in two versions (another block, nil instead of a value, ...), a different
 *      one to different peers, sometimes both.
 *
 *  Checked on every run:
 *    SAFETY: no two honest nodes commit different hashes at one height (every commit and
 *      every synced block against a global height -> hash map); every certificate a core
 *      emits, and every one sync applies, verifies with ledger_cert_verify against the
 *      true authority set of its height; sync never reports a bad block or a malformed
 *      message from an honest peer, and never hands over a block that fails to apply; no honest
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
 *
 *  This file holds the scenarios and main; the simulation is declared in consensus_sim.h:
 *  the world (event queue, network, faults, a run) in consensus_sim.c, each node's core
 *  and application in consensus_sim_node.c, the global checks in consensus_sim_check.c,
 *  and the directed tests of the core's edges in consensus_sim_directed.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consensus_sim.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "testutil.h"

#define SIM_DEFAULT_RUNS 2000u

/* ---- scenarios ---- */

const sim_scenario_t csim_scenarios[] = {
    /* name, n, byz, loss, dup, dmax, partitions, crashes, minority, lazy, bad_blocks,
       corrupt, post_loss, late, forger, authset */
    {"solo", 1, 0, 0.0, 0.0, 20, false, false, false, true, false, false, 0.0, SIM_LATE_NONE, false,
     false},
    {"solo-crash", 1, 0, 0.0, 0.0, 20, false, true, false, false, false, false, 0.0, SIM_LATE_NONE,
     false, false},
    {"n4-calm", 4, 0, 0.0, 0.0, 60, false, false, false, false, false, false, 0.0, SIM_LATE_NONE,
     false, false},
    {"n4-lossy", 4, 0, 0.35, 0.15, 400, false, false, false, true, false, false, 0.03,
     SIM_LATE_NONE, false, false},
    {"n4-partition", 4, 0, 0.1, 0.05, 200, true, false, false, false, false, false, 0.0,
     SIM_LATE_NONE, false, false},
    {"n4-crash", 4, 0, 0.05, 0.05, 200, false, true, false, false, false, false, 0.0, SIM_LATE_NONE,
     false, false},
    {"n4-chaos", 4, 0, 0.25, 0.1, 400, true, true, false, true, true, true, 0.02, SIM_LATE_NONE,
     false, false},
    {"n4-byz", 4, 1, 0.1, 0.05, 200, true, false, false, false, true, false, 0.0, SIM_LATE_NONE,
     false, false},
    {"n4-byz-crash", 4, 1, 0.1, 0.05, 200, true, true, false, false, true, false, 0.0,
     SIM_LATE_NONE, false, false},
    {"n4-minority", 4, 0, 0.1, 0.05, 200, false, true, true, false, false, false, 0.0,
     SIM_LATE_NONE, false, false},
    {"n7-calm", 7, 0, 0.0, 0.0, 60, false, false, false, false, false, false, 0.0, SIM_LATE_NONE,
     false, false},
    {"n7-lossy", 7, 0, 0.3, 0.1, 400, false, false, false, false, false, false, 0.02, SIM_LATE_NONE,
     false, false},
    {"n7-partition", 7, 0, 0.1, 0.05, 200, true, false, false, false, false, false, 0.0,
     SIM_LATE_NONE, false, false},
    {"n7-crash", 7, 0, 0.05, 0.05, 200, false, true, false, false, false, false, 0.0, SIM_LATE_NONE,
     false, false},
    {"n7-chaos", 7, 0, 0.2, 0.1, 400, true, true, false, true, true, true, 0.02, SIM_LATE_NONE,
     false, false},
    {"n7-byz", 7, 2, 0.1, 0.05, 200, true, false, false, false, true, false, 0.0, SIM_LATE_NONE,
     false, false},
    {"n7-minority", 7, 0, 0.1, 0.05, 200, false, true, true, false, false, false, 0.0,
     SIM_LATE_NONE, false, false},
    {"n7-byz-crash", 7, 2, 0.1, 0.05, 200, true, true, false, false, true, false, 0.0,
     SIM_LATE_NONE, false, false},
    /* block sync: late joiners dozens of heights behind, a peer serving forged blocks,
       authority-set changes while a node is away */
    {"n4-late-val", 4, 0, 0.05, 0.05, 100, false, false, false, false, false, false, 0.0,
     SIM_LATE_VALIDATOR, false, false},
    {"n4-late-follower", 4, 0, 0.05, 0.05, 100, false, false, false, false, false, false, 0.0,
     SIM_LATE_FOLLOWER, false, false},
    {"n4-forger", 4, 0, 0.05, 0.05, 100, false, false, false, false, false, false, 0.0,
     SIM_LATE_FOLLOWER, true, false},
    {"n4-authset", 4, 0, 0.05, 0.05, 100, false, false, false, false, false, false, 0.0,
     SIM_LATE_VALIDATOR, false, true},
    {"n4-authset-forger", 4, 0, 0.05, 0.05, 100, false, false, false, false, false, false, 0.0,
     SIM_LATE_FOLLOWER, true, true},
};
/* The order of the default runs: run i plays csim_scenarios[s_order[i % len]] with seed
   base + i (the chaotic 4-validator scenarios come up more often). */
static const uint8_t s_order[] = {0,  1,  2,  3,  4,  5,  6,  7, 8, 9, 10,
                                  11, 12, 13, 14, 15, 16, 17, 6, 5, 8, 3};
/* The sync scenarios (a late joiner syncs 16+ blocks: about five times the cost of a run
   above) take every SIM_SYNC_EVERY-th default run, in turn; GENIE_SIM_SYNC_ONLY=1 runs
   nothing else (ctest's sim.consensus_sync). */
static const uint8_t s_sync_order[] = {18, 19, 20, 21, 22};
#define SIM_SYNC_EVERY 20u
#define SIM_SCENARIOS (sizeof csim_scenarios / sizeof csim_scenarios[0])

static const sim_scenario_t *s_scenario_find(const char *name)
{
    for (size_t i = 0; i < SIM_SCENARIOS; i++)
        if (strcmp(csim_scenarios[i].name, name) == 0)
            return &csim_scenarios[i];
    return NULL;
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

    csim_test_solo(keys);
    csim_test_persist_failure(keys);
    csim_test_bad_input(keys);
    csim_test_restore(keys);
    csim_test_skip_and_late_block(keys);

    bool verbose = getenv("GENIE_SIM_VERBOSE") != NULL;
    const char *only = getenv("GENIE_SIM_SCENARIO");
    const sim_scenario_t *one = only && *only ? s_scenario_find(only) : NULL;
    if (only && *only && !one) {
        fprintf(stderr, "unknown GENIE_SIM_SCENARIO %s; known:", only);
        for (size_t i = 0; i < SIM_SCENARIOS; i++)
            fprintf(stderr, " %s", csim_scenarios[i].name);
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
        const sim_scenario_t *sc = one ? one : &csim_scenarios[0];
        uint64_t d1, d2;
        bool ok = csim_run(sc, seed, keys, seed % 10 != 0, &totals, &d1, true);
        bool again = csim_run(sc, seed, keys, seed % 10 != 0, &totals, &d2, false);
        CHECK(ok);
        CHECK(ok == again && d1 == d2); /* the replay is exact */
        failures += !ok;
    } else {
        uint64_t runs = s_env_u64("GENIE_SIM_RUNS", SIM_DEFAULT_RUNS);
        uint64_t base = s_env_u64("GENIE_SIM_BASE_SEED", 1);
        uint64_t sync_every = s_env_u64("GENIE_SIM_SYNC_ONLY", 0) ? 1 : SIM_SYNC_EVERY;
        for (uint64_t i = 0; i < runs; i++) {
            size_t k = i % sync_every == sync_every - 1
                           ? s_sync_order[(i / sync_every) % sizeof s_sync_order]
                           : s_order[i % sizeof s_order];
            const sim_scenario_t *sc = one ? one : &csim_scenarios[k];
            uint64_t seed = base + i;
            uint64_t d;
            if (!csim_run(sc, seed, keys, seed % 10 != 0, &totals, &d, verbose))
                failures++;
        }
        /* determinism: the first run of each of two scenarios, twice */
        for (size_t k = 0; k < 2 && !one; k++) {
            const sim_scenario_t *sc = &csim_scenarios[k == 0 ? 6 : 14];
            uint64_t d1, d2;
            sim_totals_t scratch;
            memset(&scratch, 0, sizeof scratch);
            bool a = csim_run(sc, base + 99, keys, true, &scratch, &d1, false);
            bool b = csim_run(sc, base + 99, keys, true, &scratch, &d2, false);
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
    printf("  sync: %" PRIu64 " requests, %" PRIu64 " timed out, %" PRIu64
           " peers ignored; %" PRIu64 " late joiners synced %" PRIu64 " blocks; %" PRIu64
           " forged answers, %" PRIu64 " refused; %" PRIu64 " unasked blocks dropped; %" PRIu64
           " authority-set changes applied\n",
           totals.sync_requests, totals.sync_timeouts, totals.peers_ignored, totals.late_joins,
           totals.late_synced, totals.forged, totals.forged_refused, totals.unasked,
           totals.set_changes);
    printf("  crypto: %" PRIu64 " signatures made, %" PRIu64 " checked (cache misses), %" PRIu64
           " certificates checked\n",
           totals.signed_msgs, totals.sig_checks, totals.cert_checks);
    for (int i = 0; i <= SIM_NODES_MAX; i++)
        proto_key_destroy(&keys[i]);
    return testutil_done("test_consensus_sim");
}
