/*  p2p_sim_observe: what the p2p simulator sees of a run (declared in p2p_sim.h): failed
 *  checks with their replay line (SIM_CHECK), GENIE_SIM_TRACE traces, whether a core has
 *  a link, overlay components and GENIE_SIM_VERBOSE reports, the invariants of every run,
 *  delivery tallies and the abuse scenario's probes (banned, delivered counts).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "p2p_sim.h"
#include "proto/proto_envelope.h"
#include "proto/proto_msgtype.h"
#include "testutil.h"

/* --------------------------------------------------------------- checks ---- */

void psim_check(sim_t *sim, bool ok, const char *expr, const char *file, int line, const char *fmt,
                ...)
{
    testutil_check(ok, expr, file, line);
    if (ok)
        return;
    sim->fails++;
    fprintf(stderr,
            "  [replay: GENIE_SIM_SCENARIO=%s GENIE_SIM_SEED=%" PRIu64 "] t=%" PRIu64 " ms: ",
            sim->scenario, sim->seed, sim->now - SIM_BASE_MS);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/*  GENIE_SIM_TRACE="A,B" (or "A") prints every transport event between nodes A and B
 *  (or involving A), their starts and crashes, and their lookup/unicast callbacks, for
 *  replaying a failure. */
bool psim_traced(const sim_t *sim, int a, int b)
{
    if (sim->trace_a < 0)
        return false;
    if (a == b) /* an event of one node (start, crash) */
        return a == sim->trace_a || a == sim->trace_b;
    if (sim->trace_b < 0)
        return a == sim->trace_a || b == sim->trace_a;
    return (a == sim->trace_a && b == sim->trace_b) || (a == sim->trace_b && b == sim->trace_a);
}

void psim_trace(const sim_t *sim, int a, int b, const char *fmt, ...)
{
    if (!psim_traced(sim, a, b))
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
const char *psim_type_name(const uint8_t *data, size_t len, char out[static 64])
{
    proto_envelope_t env;
    if (proto_envelope_decode(data, len, &env) != PROTO_OK)
        return "(undecodable)";
    snprintf(out, 64, "%s", proto_msgtype_name(env.type));
    if (env.type == PROTO_MSG_NODES || env.type == PROTO_MSG_PEERS) {
        p2p_records_msg_t *m = malloc(sizeof *m);
        if (m && p2p_msg_read_records(env.body, env.body_len, env.type == PROTO_MSG_NODES, m) ==
                     PROTO_OK)
            snprintf(out, 64, "%s[%zu records]", proto_msgtype_name(env.type), m->n_records);
        free(m);
    }
    return out;
}

/*  True if A's core has a ready link to B; *KNOWN: B is in A's table. */
bool psim_core_linked(sim_t *sim, int a, int b, bool *known)
{
    p2p_peer_info_t *info = calloc((size_t)sim->params.table_capacity + 1, sizeof *info);
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
    size_t n_nodes = (size_t)(sim->n > 0 ? sim->n : 1);
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
            int j = info[k].linked ? psim_find(sim, info[k].id) : -1;
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
void psim_print_links(sim_t *sim, const char *when)
{
    if (!sim->verbose)
        return;
    printf("    links %s (t=%" PRIu64 ", sends so far %" PRIu64 ", cpu %.1fs):", when,
           sim->now - SIM_BASE_MS, sim->sends, (double)clock() / CLOCKS_PER_SEC);
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
            psim_core_linked(sim, i, s, &known);
            if (!known)
                printf(" %d->%d", i, s);
        }
    }
    printf("\n");
}

void psim_print_transport(const sim_t *sim)
{
    printf("    transport: sends=%" PRIu64 " delivered=%" PRIu64 " lost=%" PRIu64 " dup=%" PRIu64
           " down=%" PRIu64 " part=%" PRIu64 " unrouted=%" PRIu64 " dials=%" PRIu64
           " dial_fail=%" PRIu64 " hangups=%" PRIu64 "\n",
           sim->sends, sim->delivered, sim->lost, sim->dups, sim->dropped_down, sim->dropped_part,
           sim->unrouted, sim->dials, sim->dial_fails, sim->hangups);
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
void psim_check_invariants(sim_t *sim)
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

/*  Tallies deliveries of every accepted message made in [FROM_MS, TO_MS) at every node
 *  that must have it: up since boot, never crashed, a member (for room posts). */
sim_tally_t psim_tally(sim_t *sim, uint64_t from_ms, uint64_t to_ms, bool verbose)
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
                            k, room ? m->topic : "broadcast", m->origin, m->time - SIM_BASE_MS, i,
                            p2p_core_link_count(nd->core));
            } else if (c > 1) {
                t.extra++;
            }
        }
    }
    return t;
}

bool psim_banned(sim_t *sim, int victim, int who)
{
    p2p_peer_info_t info[64];
    size_t n = p2p_core_peers(sim->nodes[victim].core, sim->now, info, 64);
    for (size_t k = 0; k < n; k++)
        if (memcmp(info[k].id, sim->nodes[who].id, 32) == 0 && info[k].banned)
            return true;
    return false;
}

size_t psim_count_delivered(sim_t *sim, int k)
{
    size_t n = 0;
    for (int i = 0; i < sim->n; i++)
        n += sim->nodes[i].counts[k] > 0;
    return n;
}
