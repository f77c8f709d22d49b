/*  test_p2p_sim: deterministic simulation tests of the sans-IO p2p core (p2p_core.h),
 *  on the simulator in p2p_sim.h. Each scenario runs over a number of seeds; a failure
 *  prints its seed and scenario and replays exactly:
 *
 *      GENIE_SIM_SCENARIO=churn GENIE_SIM_SEED=7 ./test_p2p_sim
 *      GENIE_SIM_SEEDS=50 ./test_p2p_sim            (long soak: 50 seeds of each)
 *      GENIE_SIM_LOG=debug ...                        (the cores' own logging)
 *      GENIE_SIM_TRACE=12,40 ...                      (transport events between 12 and 40)
 *
 *  Scenarios:
 *    gossip     64 nodes, 5% loss, 5% duplication, one seed each; 3/4 join a room; 50 room
 *               posts and 50 broadcasts: every member gets every post exactly once, no
 *               non-member gets any, every node gets every broadcast exactly once.
 *    churn      the same while nodes crash and restart from their saved peers: nodes up
 *               all along get everything exactly once; restarted nodes relink.
 *    lookup     iterative lookups between unlinked pairs: all succeed without loss,
 *    lookuploss and at least 90% at 5% loss.
 *    unicast    acknowledged unicast between unlinked pairs at 5% loss: every send is
 *               acknowledged and arrives exactly once.
 *    abuse      garbage, truncated envelopes, a forged signature and 10,000 copies of one
 *               message from one link: delivered once, counted, attacker banned, honest
 *               peers still served.
 *    flood      20,000 distinct valid messages from one link into small caches: the
 *               seen and message caches never exceed their capacities.
 *    partition  a 20 s split into two halves, then healed: the overlay re-merges.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "p2p_sim.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

/* ------------------------------------------------------------ scenarios ---- */

/*  1 and 2: rooms and broadcasts over 64 nodes with 5% loss and 5% duplication;
 *  CHURN crashes a random node every 1..3 s (at most 10% down) for 2..5 s. */
static void s_scn_gossip_common(const char *name, uint64_t seed, bool churn)
{
    clock_t c0 = clock();
    sim_t *sim = psim_new(name, seed, 64, 0);
    sim->loss = 0.05;
    sim->dup = 0.05;
    uint64_t t0 = sim->now;
    psim_boot(sim);
    psim_run_for(sim, 10000);
    psim_print_links(sim, "before join");
    psim_join_room(sim);
    psim_run_for(sim, 2000);
    psim_print_links(sim, "after join");
    uint64_t posts_from = sim->now;
    for (int k = 0; k < 50; k++) {
        psim_schedule(sim, posts_from + psim_rng_below(&sim->rng, 10000), psim_act_post, 0, 0);
        psim_schedule(sim, posts_from + psim_rng_below(&sim->rng, 10000), psim_act_broadcast, 0, 0);
    }
    uint64_t end = posts_from + 40000;
    int max_down = sim->n / 10, crashes = 0;
    if (churn) {
        for (uint64_t t = t0 + 3000; t < end - 8000;) {
            psim_run_until(sim, t);
            int down = 0;
            for (int i = 0; i < sim->n; i++)
                down += !sim->nodes[i].up;
            if (down < max_down) {
                int v = psim_pick_up(sim, false);
                psim_node_crash(sim, v);
                crashes++;
                uint64_t back = sim->now + psim_rng_range(&sim->rng, 2000, 5000);
                sim->nodes[v].restarts++;
                psim_schedule(sim, back, psim_act_restart, v, 0);
            }
            t += psim_rng_range(&sim->rng, 1000, 3000);
        }
    }
    psim_run_until(sim, end);
    psim_print_links(sim, "at the end");

    sim_tally_t t = psim_tally(sim, posts_from, end, true);
    psim_check_invariants(sim);
    SIM_CHECK(sim, t.missing == 0, "%" PRIu64 " of %" PRIu64 " required deliveries missing",
              t.missing, t.expected);
    SIM_CHECK(sim, t.extra == 0, "%" PRIu64 " deliveries more than once", t.extra);
    SIM_CHECK(sim, t.self_post_bad == 0,
              "%" PRIu64 " room posts not delivered once to their poster", t.self_post_bad);
    SIM_CHECK(sim, t.self_bcast_bad == 0, "%" PRIu64 " broadcasts delivered to their origin",
              t.self_bcast_bad);
    size_t stranded = 0, min_links = SIZE_MAX;
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        if (!nd->up)
            continue;
        size_t l = p2p_core_link_count(nd->core);
        if (l < min_links)
            min_links = l;
        if (nd->restarts > 0 && l == 0) {
            stranded++;
            fprintf(stderr, "    node %d restarted %u times, last at t=%" PRIu64 ", has no link\n",
                    i, nd->restarts, nd->up_since - SIM_BASE_MS);
        }
    }
    SIM_CHECK(sim, stranded == 0, "%zu restarted nodes have no link at the end", stranded);
    printf("  %-9s seed=%-4" PRIu64 " nodes=%d msgs=%" PRIu64 " required=%" PRIu64
           " missing=%" PRIu64 " extra=%" PRIu64 " crashes=%d min_links=%zu cpu=%.1fs\n",
           name, seed, sim->n, t.posted, t.expected, t.missing, t.extra, crashes, min_links,
           (double)(clock() - c0) / CLOCKS_PER_SEC);
    psim_print_transport(sim);
    psim_destroy(&sim);
}

static void s_scn_gossip(uint64_t seed)
{
    s_scn_gossip_common("gossip", seed, false);
}

static void s_scn_churn(uint64_t seed)
{
    s_scn_gossip_common("churn", seed, true);
}

/*  3: iterative lookups between unlinked pairs of a 64-node overlay. All must succeed
 *  without loss; with 5% loss, at least 90%. */
static void s_scn_lookup_common(const char *name, uint64_t seed, double loss)
{
    clock_t c0 = clock();
    sim_t *sim = psim_new(name, seed, 64, 0);
    sim->loss = loss;
    psim_boot(sim);
    psim_run_for(sim, 10000);
    psim_print_links(sim, "before lookups");
    psim_pick_pairs(sim, 40);
    uint64_t from = sim->now;
    for (size_t k = 0; k < sim->n_ops; k++)
        psim_schedule(sim, from + psim_rng_below(&sim->rng, 5000), psim_act_lookup, 0, (int)k);
    psim_run_until(sim, from + 5000 + 20000);

    size_t ok = 0, unknown = 0, not_done = 0, multi = 0;
    uint64_t worst = 0;
    for (size_t k = 0; k < sim->n_ops; k++) {
        sim_op_t *op = &sim->ops[k];
        unknown += !op->known;
        not_done += op->done == 0;
        multi += op->done > 1;
        if (op->done && op->ok) {
            ok++;
            if (op->done_ms - op->issued_ms > worst)
                worst = op->done_ms - op->issued_ms;
        } else if (op->done == 0 || !op->ok) {
            fprintf(stderr, "    lookup %zu: node %d -> node %d (%s) %s\n", k, op->src, op->dst,
                    op->known ? "known" : "unknown", op->done ? "failed" : "never completed");
        }
    }
    psim_check_invariants(sim);
    SIM_CHECK(sim, not_done == 0, "%zu lookups never completed", not_done);
    SIM_CHECK(sim, multi == 0, "%zu lookups completed more than once", multi);
    if (loss == 0)
        SIM_CHECK(sim, ok == sim->n_ops, "%zu of %zu lookups failed without loss", sim->n_ops - ok,
                  sim->n_ops);
    else
        SIM_CHECK(sim, ok * 10 >= sim->n_ops * 9, "%zu of %zu lookups failed at %.0f%% loss",
                  sim->n_ops - ok, sim->n_ops, loss * 100);
    printf("  %-11s seed=%-4" PRIu64 " lookups=%zu unknown_targets=%zu ok=%zu worst=%" PRIu64
           "ms cpu=%.1fs\n",
           name, seed, sim->n_ops, unknown, ok, worst, (double)(clock() - c0) / CLOCKS_PER_SEC);
    psim_print_transport(sim);
    psim_destroy(&sim);
}

static void s_scn_lookup(uint64_t seed)
{
    s_scn_lookup_common("lookup", seed, 0.0);
}

static void s_scn_lookup_loss(uint64_t seed)
{
    s_scn_lookup_common("lookuploss", seed, 0.05);
}

/*  4: acknowledged unicast between unlinked pairs at 5% loss: every send is
 *  acknowledged (status 0) and arrives exactly once. */
static void s_scn_unicast(uint64_t seed)
{
    clock_t c0 = clock();
    sim_t *sim = psim_new("unicast", seed, 64, 0);
    sim->loss = 0.05;
    sim->dup = 0.05;
    psim_boot(sim);
    psim_run_for(sim, 10000);
    psim_pick_pairs(sim, 40);
    uint64_t from = sim->now;
    for (size_t k = 0; k < sim->n_ops; k++)
        psim_schedule(sim, from + psim_rng_below(&sim->rng, 5000), psim_act_send, 0, (int)k);
    psim_run_until(sim, from + 5000 + 25000);

    size_t acked = 0, arrived = 0, twice = 0, bad = 0, unknown = 0;
    for (size_t k = 0; k < sim->n_ops; k++) {
        sim_op_t *op = &sim->ops[k];
        unknown += !op->known;
        acked += op->done == 1 && op->status == 0;
        arrived += op->recv >= 1;
        twice += op->recv > 1;
        if (op->done != 1 || op->status != 0 || op->recv != 1) {
            bad++;
            fprintf(stderr, "    send %zu: node %d -> node %d (%s): done=%d status=%d recv=%u\n", k,
                    op->src, op->dst, op->known ? "known" : "unknown", op->done, op->status,
                    op->recv);
        }
        SIM_CHECK(sim, !(op->done && op->status == 0 && op->recv == 0),
                  "send %zu acknowledged but never delivered", k);
    }
    psim_check_invariants(sim);
    SIM_CHECK(sim, acked == sim->n_ops, "%zu of %zu sends not acknowledged", sim->n_ops - acked,
              sim->n_ops);
    SIM_CHECK(sim, arrived == sim->n_ops, "%zu of %zu sends never arrived", sim->n_ops - arrived,
              sim->n_ops);
    SIM_CHECK(sim, twice == 0, "%zu sends delivered more than once", twice);
    printf("  %-9s seed=%-4" PRIu64 " sends=%zu unknown_dest=%zu acked=%zu arrived=%zu twice=%zu"
           " cpu=%.1fs\n",
           "unicast", seed, sim->n_ops, unknown, acked, arrived, twice,
           (double)(clock() - c0) / CLOCKS_PER_SEC);
    psim_print_transport(sim);
    psim_destroy(&sim);
}

/*  5: a malicious link (node 8, no core) against node 0 of an 8-node overlay. */
static void s_scn_abuse(uint64_t seed)
{
    clock_t c0 = clock();
    sim_t *sim = psim_new("abuse", seed, 9, 1);
    const int V = 0, M = 8, H = 1, honest = 8;
    psim_boot(sim);
    psim_run_for(sim, 5000);
    p2p_core_t *vc = sim->nodes[V].core;
    p2p_stats_t st0, st;

    /* A proper handshake first: only a HELLO opens a conversation. */
    size_t len;
    uint8_t *hello = psim_make_hello(sim, M, &len);
    psim_inject(sim, V, M, hello, len);
    free(hello);
    bool known;
    SIM_CHECK(sim, psim_core_linked(sim, V, M, &known), "the victim did not accept the HELLO");

    /* 10,000 copies of one valid broadcast: delivered once at the victim, and once by
       everyone else through it; the copies are dropped by hash. */
    p2p_core_stats(vc, &st0);
    int g = psim_msg_new(sim, "", M);
    sim->msgs[g].posted = true;
    uint8_t *gos =
        psim_make_gossip(sim, M, "", SIM_KIND_BCAST, sim->msgs[g].payload, SIM_PAYLOAD_LEN, &len);
    for (int k = 0; k < 10000; k++)
        psim_inject(sim, V, M, gos, len);
    free(gos);
    p2p_core_stats(vc, &st);
    SIM_CHECK(sim, sim->nodes[V].counts[g] == 1, "victim delivered the flooded message %u times",
              sim->nodes[V].counts[g]);
    SIM_CHECK(sim, st.dup_dropped - st0.dup_dropped >= 9999, "dup_dropped rose by only %" PRIu64,
              st.dup_dropped - st0.dup_dropped);
    SIM_CHECK(sim, !psim_banned(sim, V, M), "duplicates alone got the sender banned");
    psim_run_for(sim, 3000);
    SIM_CHECK(sim, psim_count_delivered(sim, g) == (size_t)honest,
              "the flooded message reached %zu of %d honest nodes", psim_count_delivered(sim, g),
              honest);

    /* A forged signature: well-formed, claims to be from H, signed by M. */
    p2p_core_stats(vc, &st0);
    int f = psim_msg_new(sim, "", H);
    uint8_t *forged =
        psim_make_gossip(sim, M, "", SIM_KIND_BCAST, sim->msgs[f].payload, SIM_PAYLOAD_LEN, &len);
    uint8_t *at = NULL;
    for (size_t k = 0; k + 32 <= len && !at; k++)
        if (memcmp(forged + k, sim->nodes[M].id, 32) == 0)
            at = forged + k;
    SIM_CHECK(sim, at != NULL, "sender field not found in the envelope");
    if (at)
        memcpy(at, sim->nodes[H].id, 32);
    psim_inject(sim, V, M, forged, len);
    free(forged);
    p2p_core_stats(vc, &st);
    SIM_CHECK(sim, st.bad_sig == st0.bad_sig + 1, "bad_sig rose by %" PRIu64,
              st.bad_sig - st0.bad_sig);
    SIM_CHECK(sim, psim_count_delivered(sim, f) == 0, "a forged message was delivered");

    /* Truncated envelopes and a signed envelope whose body is not a PING body (score
       -20 -30 -10 = -60 with p2p_core_int.h's penalties). */
    p2p_core_stats(vc, &st0);
    int bad_sent = 0;
    int t = psim_msg_new(sim, "", M);
    uint8_t *whole =
        psim_make_gossip(sim, M, "", SIM_KIND_BCAST, sim->msgs[t].payload, SIM_PAYLOAD_LEN, &len);
    for (int k = 0; k < 3 && !psim_banned(sim, V, M); k++, bad_sent++)
        psim_inject(sim, V, M, whole, (size_t)psim_rng_below(&sim->rng, len));
    free(whole);
    if (!psim_banned(sim, V, M)) {
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_str(&w, "not a nonce", 11);
        uint8_t *ping = psim_seal(sim, sim->nodes[M].key, PROTO_MSG_PING, &w, &len);
        psim_inject(sim, V, M, ping, len);
        free(ping);
        bad_sent++;
    }
    /* Ban evasion: say BYE and come back with a fresh HELLO. The score must survive. */
    bool relinked = false;
    if (!psim_banned(sim, V, M)) {
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_bye(&w, "brb");
        uint8_t *bye = psim_seal(sim, sim->nodes[M].key, PROTO_MSG_BYE, &w, &len);
        psim_inject(sim, V, M, bye, len);
        free(bye);
        hello = psim_make_hello(sim, M, &len);
        psim_inject(sim, V, M, hello, len);
        free(hello);
        relinked = psim_core_linked(sim, V, M, &known);
    }
    /* Garbage until banned. (A first byte 0x97 could read as an envelope of another
       protocol version, which disconnects without a penalty: keep garbage garbage.) */
    int garbage = 0;
    while (!psim_banned(sim, V, M) && garbage < 1000) {
        uint8_t junk[256];
        size_t jl = (size_t)psim_rng_range(&sim->rng, 1, sizeof junk);
        for (size_t k = 0; k < jl; k++)
            junk[k] = (uint8_t)psim_rng_next(&sim->rng);
        if (junk[0] == 0x97)
            junk[0] = 0xc1; /* never used in msgpack */
        psim_inject(sim, V, M, junk, jl);
        garbage++;
        bad_sent++;
    }
    SIM_CHECK(sim, !relinked || garbage <= 4,
              "misbehaviour score reset by BYE + HELLO: banned only after %d more malformed"
              " messages (4 expected at score -60)",
              garbage);
    p2p_core_stats(vc, &st);
    SIM_CHECK(sim, psim_banned(sim, V, M), "not banned after %d bad messages", bad_sent);
    SIM_CHECK(sim, st.malformed - st0.malformed == (uint64_t)bad_sent,
              "malformed rose by %" PRIu64 " for %d malformed messages",
              st.malformed - st0.malformed, bad_sent);
    SIM_CHECK(sim, st.banned >= 1, "stats.banned is %" PRIu64, st.banned);
    uint8_t curve[32];
    SIM_CHECK(sim, proto_key_curve_public(sim->nodes[M].id, curve) == 0, "curve form of M");
    SIM_CHECK(sim, p2p_core_curve_banned(vc, curve, sim->now), "the transport would admit M");
    SIM_CHECK(sim, !psim_core_linked(sim, V, M, &known), "the banned link is still up");

    /* Banned: even a valid message (and a new HELLO) is ignored... */
    hello = psim_make_hello(sim, M, &len);
    psim_inject(sim, V, M, hello, len);
    free(hello);
    int after = psim_msg_new(sim, "", M);
    sim->msgs[after].posted = true;
    gos = psim_make_gossip(sim, M, "", SIM_KIND_BCAST, sim->msgs[after].payload, SIM_PAYLOAD_LEN,
                           &len);
    psim_inject(sim, V, M, gos, len);
    free(gos);
    SIM_CHECK(sim, sim->nodes[V].counts[after] == 0, "a banned peer's message was delivered");
    /* ...while honest peers are still served both ways. */
    int in = psim_msg_new(sim, "", H), out = psim_msg_new(sim, "", V);
    sim->msgs[in].posted = sim->msgs[out].posted = true;
    SIM_CHECK(sim,
              p2p_core_broadcast(sim->nodes[H].core, SIM_KIND_BCAST, sim->msgs[in].payload,
                                 SIM_PAYLOAD_LEN, sim->now) == 0,
              "H broadcast");
    SIM_CHECK(sim,
              p2p_core_broadcast(vc, SIM_KIND_BCAST, sim->msgs[out].payload, SIM_PAYLOAD_LEN,
                                 sim->now) == 0,
              "V broadcast");
    psim_run_for(sim, 5000);
    size_t got_in = 0, got_out = 0;
    for (int i = 0; i < honest; i++) {
        got_in += i != H && sim->nodes[i].counts[in] == 1;
        got_out += i != V && sim->nodes[i].counts[out] == 1;
    }
    SIM_CHECK(sim, got_in == (size_t)honest - 1, "H's broadcast reached %zu of %d", got_in,
              honest - 1);
    SIM_CHECK(sim, got_out == (size_t)honest - 1, "V's broadcast reached %zu of %d", got_out,
              honest - 1);
    SIM_CHECK(sim, p2p_core_link_count(vc) >= 1, "the victim lost its honest links");
    SIM_CHECK(sim, psim_count_delivered(sim, after) == 0, "a banned peer's message spread");
    psim_check_invariants(sim);
    p2p_core_stats(vc, &st);
    printf("  %-9s seed=%-4" PRIu64 " bad_before_ban=%d (after relink %d) dup_dropped=%" PRIu64
           " bad_sig=%" PRIu64 " malformed=%" PRIu64 " banned=%" PRIu64 " links=%zu cpu=%.1fs\n",
           "abuse", seed, bad_sent, garbage, st.dup_dropped, st.bad_sig, st.malformed, st.banned,
           p2p_core_link_count(vc), (double)(clock() - c0) / CLOCKS_PER_SEC);
    psim_destroy(&sim);
}

/*  5b: 20,000 distinct valid broadcasts from one link (10 per ms) into a core with
 *  small caches (20 times the seen cache, 100 times the message cache): seen and mcache
 *  never exceed their capacities, nothing is lost. GENIE_SIM_FLOOD sets another count. */
static void s_scn_flood(uint64_t seed)
{
    clock_t c0 = clock();
    sim_t *sim = psim_new("flood", seed, 2, 1);
    const int V = 0, F = 1;
    sim->params.seen_capacity = 1000;
    sim->params.mcache_capacity = 200;
    psim_boot(sim);
    size_t len;
    uint8_t *hello = psim_make_hello(sim, F, &len);
    psim_inject(sim, V, F, hello, len);
    free(hello);
    const char *env = getenv("GENIE_SIM_FLOOD");
    uint32_t total = env ? (uint32_t)strtoul(env, NULL, 10) : 20000;
    size_t max_seen = 0, max_mcache = 0;
    uint64_t start = sim->now;
    p2p_stats_t st;
    for (uint32_t k = 0; k < total; k++) {
        psim_run_until(sim, start + k / 10);
        uint8_t payload[SIM_PAYLOAD_LEN];
        memcpy(payload, SIM_MAGIC_FLOOD, 4);
        memcpy(payload + 4, &k, 4);
        memcpy(payload + 8, &seed, 8);
        uint8_t *gos = psim_make_gossip(sim, F, "", SIM_KIND_BCAST, payload, sizeof payload, &len);
        psim_inject(sim, V, F, gos, len);
        free(gos);
        if (k % 100 == 99) {
            p2p_core_stats(sim->nodes[V].core, &st);
            if (st.seen_entries > max_seen)
                max_seen = st.seen_entries;
            if (st.mcache_entries > max_mcache)
                max_mcache = st.mcache_entries;
        }
    }
    psim_run_for(sim, 1000);
    p2p_core_stats(sim->nodes[V].core, &st);
    bool known;
    SIM_CHECK(sim, max_seen <= sim->params.seen_capacity, "seen grew to %zu", max_seen);
    SIM_CHECK(sim, max_mcache <= sim->params.mcache_capacity, "mcache grew to %zu", max_mcache);
    SIM_CHECK(sim, st.seen_entries <= sim->params.seen_capacity, "seen %zu", st.seen_entries);
    SIM_CHECK(sim, st.mcache_entries <= sim->params.mcache_capacity, "mcache %zu",
              st.mcache_entries);
    SIM_CHECK(sim, sim->nodes[V].flood_delivered == total, "delivered %" PRIu64 " of %u",
              sim->nodes[V].flood_delivered, total);
    SIM_CHECK(sim, psim_core_linked(sim, V, F, &known), "an honest heavy sender lost its link");
    psim_check_invariants(sim);
    printf("  %-9s seed=%-4" PRIu64 " msgs=%u delivered=%" PRIu64 " max_seen=%zu max_mcache=%zu"
           " rate_limited=%" PRIu64 " cpu=%.1fs\n",
           "flood", seed, total, sim->nodes[V].flood_delivered, max_seen, max_mcache,
           st.rate_limited, (double)(clock() - c0) / CLOCKS_PER_SEC);
    psim_destroy(&sim);
}

/*  6: 32 nodes split in two halves for 20 s, then healed: broadcasts made from 15 s
 *  after the heal reach every node exactly once (the overlay re-merged). */
static void s_scn_partition(uint64_t seed)
{
    clock_t c0 = clock();
    sim_t *sim = psim_new("partition", seed, 32, 0);
    sim->loss = 0.02;
    psim_boot(sim);
    psim_run_for(sim, 10000);
    for (int i = 0; i < sim->n; i++)
        sim->group[i] = psim_rng_chance(&sim->rng, 0.5);
    uint64_t split = sim->now;
    for (int k = 0; k < 10; k++)
        psim_schedule(sim, split + 2000 + psim_rng_below(&sim->rng, 16000), psim_act_broadcast, 0,
                      0);
    psim_schedule(sim, split + 20000, psim_act_heal, 0, 0);
    uint64_t from = split + 35000;
    for (int k = 0; k < 30; k++)
        psim_schedule(sim, from + psim_rng_below(&sim->rng, 10000), psim_act_broadcast, 0, 0);
    int group_of[32];
    for (int i = 0; i < sim->n; i++)
        group_of[i] = sim->group[i];
    psim_run_until(sim, split + 19999);
    psim_print_links(sim, "before the heal");
    psim_run_until(sim, from);
    psim_print_links(sim, "15 s after the heal");
    psim_run_until(sim, from + 40000);
    psim_print_links(sim, "at the end");
    /* Report (not asserted): how far the messages made during the split spread. */
    uint64_t same = 0, same_got = 0, cross_got = 0, cross = 0;
    for (size_t k = 0; k < sim->n_msgs; k++) {
        sim_msg_t *m = &sim->msgs[k];
        if (m->time >= split + 20000 || !m->posted)
            continue;
        for (int i = 0; i < sim->n; i++) {
            if (i == m->origin)
                continue;
            bool sg = group_of[i] == group_of[m->origin];
            same += sg;
            cross += !sg;
            same_got += sg && sim->nodes[i].counts[k];
            cross_got += !sg && sim->nodes[i].counts[k];
        }
    }
    sim_tally_t t = psim_tally(sim, from, from + 40000, true);
    psim_check_invariants(sim);
    SIM_CHECK(sim, t.missing == 0, "%" PRIu64 " of %" PRIu64 " deliveries missing after the heal",
              t.missing, t.expected);
    SIM_CHECK(sim, t.extra == 0, "%" PRIu64 " extra deliveries", t.extra);
    printf("  %-9s seed=%-4" PRIu64 " during split: same side %" PRIu64 "/%" PRIu64
           ", other side %" PRIu64 "/%" PRIu64 "; after heal: msgs=%" PRIu64 " missing=%" PRIu64
           " cpu=%.1fs\n",
           "partition", seed, same_got, same, cross_got, cross, t.posted, t.missing,
           (double)(clock() - c0) / CLOCKS_PER_SEC);
    psim_print_transport(sim);
    psim_destroy(&sim);
}

/* ----------------------------------------------------------------- main ---- */

typedef struct {
    const char *name;
    void (*run)(uint64_t seed);
    unsigned seeds; /* default number of seeds */
} sim_scenario_t;

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "proto_crypto_init failed\n");
        return 1;
    }
    proto_log_level_t lvl = LOG_LVL_WARN;
    const char *log = getenv("GENIE_SIM_LOG");
    if (log && proto_log_level_parse(log, &lvl) != 0)
        lvl = LOG_LVL_WARN;
    proto_log_set_level(lvl);

    static const sim_scenario_t scenarios[] = {
        /* Default seeds keep the whole run under a minute with ASan on 2 cores; about
           87% of the time goes to Ed25519 in libsodium (every hop signs and verifies). */
        {"gossip", s_scn_gossip, 1},   {"churn", s_scn_churn, 2},
        {"lookup", s_scn_lookup, 1},   {"lookuploss", s_scn_lookup_loss, 2},
        {"unicast", s_scn_unicast, 2}, {"abuse", s_scn_abuse, 3},
        {"flood", s_scn_flood, 1},     {"partition", s_scn_partition, 1},
    };
    const char *only = getenv("GENIE_SIM_SCENARIO");
    const char *one_seed = getenv("GENIE_SIM_SEED");
    const char *n_seeds = getenv("GENIE_SIM_SEEDS");
    bool matched = false;
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        const sim_scenario_t *sc = &scenarios[s];
        if (only && *only && strcmp(only, sc->name) != 0)
            continue;
        matched = true;
        clock_t c0 = clock();
        if (one_seed && *one_seed) {
            sc->run(strtoull(one_seed, NULL, 10));
        } else {
            unsigned n = n_seeds && *n_seeds ? (unsigned)strtoul(n_seeds, NULL, 10) : sc->seeds;
            for (unsigned seed = 1; seed <= n; seed++)
                sc->run(seed);
        }
        printf("%s: %.1fs cpu\n", sc->name, (double)(clock() - c0) / CLOCKS_PER_SEC);
    }
    CHECK(matched);
    return testutil_done("test_p2p_sim");
}
