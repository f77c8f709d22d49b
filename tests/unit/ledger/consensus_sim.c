/*  consensus_sim: the world of test_consensus_sim's simulation (declared in
 *  consensus_sim.h): the PRNG, failures and the trace digest, the event heap, messages and
 *  the network model (loss, delays, duplicates, partitions, corruption), GST and the
 *  minority phase, event dispatch with GENIE_SIM_TRACE, and one run of a scenario.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus_sim.h"
#include "ledger/ledger_consensus.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"

/* ---- PRNG (splitmix64) ---- */

uint64_t csim_rng_next(sim_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t csim_rng_range(sim_rng_t *r, uint64_t lo, uint64_t hi)
{
    return hi <= lo ? lo : lo + csim_rng_next(r) % (hi - lo + 1);
}

bool csim_rng_chance(sim_rng_t *r, double p)
{
    return p > 0 && (double)(csim_rng_next(r) >> 11) * 0x1.0p-53 < p;
}

/* ---- failure ---- */

void csim_fail(sim_t *sim, const char *fmt, ...)
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

void csim_digest(sim_t *sim, uint64_t v)
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

void csim_push(sim_t *sim, sim_event_t ev)
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

void csim_at(sim_t *sim, uint64_t delay, uint8_t kind, int node)
{
    sim_event_t ev = {.time = sim->now + delay, .kind = kind, .node = (int8_t)node};
    if (node >= 0)
        ev.epoch = sim->nodes[node].epoch;
    csim_push(sim, ev);
}

/* ---- messages ---- */

sim_msg_t *csim_msg_new(uint8_t kind, int from, const uint8_t *data, size_t len)
{
    sim_msg_t *m = malloc(sizeof *m + (len ? len : 1));
    if (!m)
        abort();
    m->refs = 1;
    m->kind = kind;
    m->from = (int8_t)from;
    m->corrupted = false;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    return m;
}

void csim_msg_unref(sim_msg_t *m)
{
    if (m && --m->refs == 0)
        free(m);
}

/* Sends M from FROM to TO through the network model (takes no reference of the caller). */
void csim_net_send(sim_t *sim, int from, int to, sim_msg_t *m)
{
    if (sim->group[from] != sim->group[to] || csim_rng_chance(&sim->rng, sim->loss)) {
        sim->totals->lost++;
        return;
    }
    int copies = 1 + csim_rng_chance(&sim->rng, sim->dup);
    for (int i = 0; i < copies; i++) {
        sim_event_t ev = {.time = sim->now + csim_rng_range(&sim->rng, sim->dmin, sim->dmax),
                          .kind = EV_DELIVER,
                          .node = (int8_t)to,
                          .msg = m};
        m->refs++;
        csim_push(sim, ev);
    }
    if (sim->sc->corrupt && (m->kind == MSG_PROPOSAL || m->kind == MSG_VOTE) &&
        csim_rng_chance(&sim->rng, 0.01)) {
        sim_msg_t *bad = csim_msg_new(m->kind, from, m->data, m->len);
        bad->corrupted = true;
        if (bad->len) {
            size_t at = (size_t)csim_rng_range(&sim->rng, 0, bad->len - 1);
            bad->data[at] ^= (uint8_t)csim_rng_range(&sim->rng, 1, 255);
            if (csim_rng_chance(&sim->rng, 0.3))
                bad->len = at; /* truncated too */
        }
        sim_event_t ev = {.time = sim->now + csim_rng_range(&sim->rng, sim->dmin, sim->dmax),
                          .kind = EV_DELIVER,
                          .node = (int8_t)to,
                          .msg = bad};
        csim_push(sim, ev);
        sim->totals->corrupted++;
    }
}

/* ---- GST ---- */

static void s_heal(sim_t *sim)
{
    for (int i = 0; i < sim->n; i++)
        sim->group[i] = 0;
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
        keep_down = (size_t)csim_rng_range(&sim->rng, 0, (uint64_t)sim->n - sim->quorum);
    for (size_t k = 0; k < keep_down; k++) {
        int i;
        do
            i = (int)csim_rng_range(&sim->rng, 0, (uint64_t)sim->n - 1);
        while (sim->nodes[i].stay_down);
        sim->nodes[i].stay_down = true;
        if (sim->nodes[i].up)
            csim_crash(sim, &sim->nodes[i]);
    }
    for (int i = 0; i < sim->n; i++)
        if (!sim->nodes[i].up && !sim->nodes[i].stay_down) {
            sim->totals->restarts++;
            csim_boot(sim, &sim->nodes[i]);
        }
    if (sim->sc->minority) {
        sim->halt_phase = true;
        sim->halt_cap = s_max_chain(sim) + 1;
        sim->totals->halts_checked++;
        csim_at(sim, csim_rng_range(&sim->rng, 1000, 4000), EV_GST2, -1);
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
            csim_boot(sim, &sim->nodes[i]);
            break;
        }
    }
    s_live_from_now(sim);
}

/* ---- late joiners ---- */

/* The late joiner ND boots once the chain reached sim->late_height; from then on every
   up node (it included) must gain SIM_K heights within SIM_LIVE_MS: it has to sync
   dozens of blocks first, in several requests. */
static void s_on_late(sim_t *sim, sim_node_t *nd)
{
    if (s_max_chain(sim) < sim->late_height) {
        if (sim->now > 300000)
            csim_fail(sim, "the chain never reached height %" PRIu64 " for the late joiner",
                      sim->late_height);
        csim_at(sim, 200, EV_LATE, nd->idx);
        return;
    }
    nd->late = false;
    nd->stay_down = false;
    sim->late_pending = false;
    sim->totals->late_joins++;
    csim_boot(sim, nd);
    nd->late = true; /* (only counts its synced blocks from now on) */
    s_live_from_now(sim);
}

/* ---- event dispatch ---- */

static void s_trace(const sim_t *sim, const sim_event_t *ev)
{
    static const char *const kinds[] = {"deliver", "timer", "start", "sync", "crash", "restart",
                                        "split",   "heal",  "gst",   "gst2", "late"};
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
            fprintf(stderr, " from %d: kind %d, %zu bytes%s", m->from, m->kind, m->len,
                    m->corrupted ? " corrupted" : "");
    }
    fprintf(stderr, "\n");
}

static void s_dispatch(sim_t *sim, sim_event_t *ev)
{
    sim_node_t *nd = ev->node >= 0 ? &sim->nodes[ev->node] : NULL;
    if (sim->trace)
        s_trace(sim, ev);
    csim_digest(sim, ev->time);
    csim_digest(sim, (uint64_t)ev->kind << 8 | (uint8_t)ev->node);
    switch (ev->kind) {
    case EV_DELIVER:
        if (nd->up)
            csim_on_deliver(sim, nd, ev->msg);
        break;
    case EV_TIMER:
        if (nd->up && nd->epoch == ev->epoch) {
            ledger_cons_on_timeout(nd->cons, ev->height, ev->round, (ledger_cons_step_t)ev->step,
                                   sim->now);
            csim_after_call(sim, nd);
        }
        break;
    case EV_START:
        if (nd->up && nd->epoch == ev->epoch) {
            csim_start_next(sim, nd);
            csim_after_call(sim, nd);
        }
        break;
    case EV_SYNC_TICK:
        if (nd->up) {
            csim_sync_tick(sim, nd);
            csim_after_call(sim, nd);
        }
        csim_at(sim, SIM_SYNC_MS + csim_rng_range(&sim->rng, 0, 50), EV_SYNC_TICK, ev->node);
        break;
    case EV_LATE:
        s_on_late(sim, nd);
        break;
    case EV_CRASH:
        if (nd->up && !sim->after_gst) {
            csim_crash(sim, nd);
            csim_at(sim, csim_rng_range(&sim->rng, 50, 2000), EV_RESTART, ev->node);
        }
        break;
    case EV_RESTART:
        if (!nd->up && !nd->stay_down && nd->epoch == ev->epoch) {
            sim->totals->restarts++;
            csim_boot(sim, nd);
        }
        break;
    case EV_PARTITION:
        if (!sim->after_gst && sim->n > 1) {
            /* two non-empty groups */
            int ones = 0;
            for (int i = 0; i < sim->n; i++) {
                sim->group[i] = (int)csim_rng_range(&sim->rng, 0, 1);
                ones += sim->group[i];
            }
            if (ones == 0 || ones == sim->n)
                sim->group[csim_rng_range(&sim->rng, 0, (uint64_t)sim->n - 1)] ^= 1;
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
        csim_msg_unref(ev.msg);
    }
    free(sim->heap);
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        csim_retire_core(sim, nd);
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
bool csim_run(const sim_scenario_t *sc, uint64_t seed, proto_key_t *const *keys, bool use_cache,
              sim_totals_t *totals, uint64_t *digest, bool verbose)
{
    sim_t *sim = calloc(1, sizeof *sim);
    if (!sim)
        abort();
    sim->sc = sc;
    sim->seed = seed;
    sim->rng.s = seed * 0x2545f4914f6cdd1dull + (uint64_t)(sc - csim_scenarios);
    sim->digest = 0xcbf29ce484222325ull;
    sim->totals = totals;
    sim->keys = keys;
    sim->nv = sc->n;
    sim->n = sc->n + (sc->late == SIM_LATE_FOLLOWER) + sc->forger + sc->authset;
    sim->use_cache = use_cache;
    sim->trace = getenv("GENIE_SIM_TRACE") != NULL;
    sim->vc = calloc(SIM_VC_CAP, sizeof *sim->vc);
    if (!sim->vc)
        abort();
    memcpy(sim->chain_id, "genie-sim-chain-id-0123456789abc", 32);
    sim->chain_id[31] = (uint8_t)seed;
    for (int i = 0; i < sim->nv; i++)
        if (ledger_valset_add(&sim->valset, proto_key_public(keys[i])) != 0)
            abort();
    sim->final_mask[0] = (1u << sim->nv) - 1;
    sim->quorum = ledger_valset_quorum(&sim->valset);
    sim->params = (ledger_cons_params_t){.timeout_propose_ms = 300,
                                         .timeout_prevote_ms = 150,
                                         .timeout_precommit_ms = 150,
                                         .timeout_delta_ms = 100,
                                         .timeout_max_ms = 3000,
                                         .rebroadcast_ms = 400,
                                         .propose_retry_ms = 40};
    /* this run's weather before GST */
    sim->loss = sc->loss * (double)csim_rng_range(&sim->rng, 0, 100) / 100.0;
    sim->dup = sc->dup * (double)csim_rng_range(&sim->rng, 0, 100) / 100.0;
    sim->dmin = 1;
    sim->dmax = csim_rng_range(&sim->rng, 10, sc->dmax);
    sim->persist_crash = sc->crashes ? 0.01 : 0;
    sim->persist_fail = sc->bad_blocks ? 0.01 : 0;
    uint64_t gst =
        sc->n == 1 ? csim_rng_range(&sim->rng, 300, 1500) : csim_rng_range(&sim->rng, 800, 3500);

    /* nodes: validators 0..nv-1, then the extra key (authset), the late follower, the
       forger */
    int next = sim->nv;
    int extra_key = sc->authset ? next++ : -1;
    int late = sc->late == SIM_LATE_FOLLOWER ? next++ : sc->late ? sim->nv - 1 : -1;
    int forger = sc->forger ? next++ : -1;
    (void)extra_key;
    for (int i = 0; i < sim->n; i++) {
        sim_node_t *nd = &sim->nodes[i];
        nd->sim = sim;
        nd->idx = i;
        nd->byz = i < sim->nv && i >= sim->nv - sc->byz;
        nd->follower = (i == late && sc->late == SIM_LATE_FOLLOWER) || i == forger;
        nd->forger = i == forger;
        nd->vmask = sim->final_mask[0];
    }
    if (late >= 0) {
        sim->late_height = csim_rng_range(&sim->rng, SIM_LATE_MIN, SIM_LATE_MAX);
        sim->late_pending = true;
        sim->nodes[late].stay_down = true;
        sim->nodes[late].late = true;
        csim_at(sim, 1000, EV_LATE, late);
    }
    for (int i = 0; i < sim->n; i++) {
        if (!sim->nodes[i].late)
            csim_boot(sim, &sim->nodes[i]);
        csim_at(sim, csim_rng_range(&sim->rng, 1, SIM_SYNC_MS), EV_SYNC_TICK, i);
    }
    if (sc->partitions) {
        uint64_t k = csim_rng_range(&sim->rng, 1, 3);
        for (uint64_t p = 0; p < k; p++) {
            uint64_t at = csim_rng_range(&sim->rng, 0, gst - 100);
            csim_at(sim, at, EV_PARTITION, -1);
            csim_at(sim, at + csim_rng_range(&sim->rng, 100, 1500), EV_HEAL, -1);
        }
    }
    if (sc->crashes) {
        uint64_t k = csim_rng_range(&sim->rng, 1, (uint64_t)sc->n + 1);
        for (uint64_t c = 0; c < k; c++)
            csim_at(sim, csim_rng_range(&sim->rng, 0, gst), EV_CRASH,
                    (int)csim_rng_range(&sim->rng, 0, (uint64_t)sim->n - 1));
    }
    csim_at(sim, gst, EV_GST, -1);

    uint64_t events = 0;
    while (!sim->failed && !sim->done && sim->n_ev > 0) {
        sim_event_t ev = s_pop(sim);
        sim->now = ev.time;
        s_dispatch(sim, &ev);
        csim_msg_unref(ev.msg);
        if (++events > SIM_EVENTS_MAX)
            csim_fail(sim, "runaway: more than %u events", SIM_EVENTS_MAX);
        csim_check_done(sim);
    }
    if (!sim->failed && !sim->done)
        csim_fail(sim, "the event queue ran dry");
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
