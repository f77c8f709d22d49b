/*  consensus_sim_check: the global checks of test_consensus_sim's simulation (declared in
 *  consensus_sim.h): no honest double signing, the signature and certificate cache,
 *  certificates against the run's validator set, signed messages covered by the durable
 *  record, and liveness after GST.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus_sim.h"
#include "ledger/ledger_consensus.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"

/* ---- global checks ---- */

static uint64_t s_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

/* Everything an honest validator signs goes through here: one value per (h, r, kind). */
void csim_check_signature(sim_t *sim, int who, uint8_t kind, uint64_t h, uint32_t r, bool has_hash,
                          const uint8_t *hash)
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
                csim_fail(sim,
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
sim_vc_t *csim_vc_slot(sim_t *sim, const uint8_t key[16], bool *found)
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
void csim_check_cert(sim_t *sim, int who, uint64_t h, const uint8_t hash[32], const uint8_t *cert,
                     size_t len, const char *origin)
{
    uint8_t key[32];
    proto_hash("sim/cert", cert, len, key);
    bool found;
    sim_vc_t *slot = csim_vc_slot(sim, key, &found);
    if (found && slot->state == 1)
        return;
    ledger_cert_t c;
    sim->totals->cert_checks++;
    int rc = ledger_cert_decode(cert, len, &c);
    ledger_valset_t vs;
    csim_valset(sim, csim_mask_for(sim, h), &vs);
    if (rc == PROTO_OK)
        rc = ledger_cert_verify(&c, &vs, sim->chain_id, hash);
    if (rc != PROTO_OK || c.height != h) {
        csim_fail(sim, "node %d: %s certificate for height %" PRIu64 " does not verify (%s)", who,
                  origin, h, proto_err_str(rc));
        return;
    }
    memcpy(slot->key, key, 16);
    slot->state = 1;
}

/* Whatever an honest validator sends that it signed must already be covered by its
   durable record: (H, R, STEP) at or below the record's last (height, round, step), read
   from the record's first fields ([version, height, round, step, ...]). */
void csim_check_persisted(sim_t *sim, const sim_node_t *nd, uint64_t h, uint32_t r, uint8_t step)
{
    proto_rd_t rd;
    uint32_t n = 0;
    uint64_t version = 0, rh = 0, rr = 0, rs = 0;
    proto_rd_init(&rd, nd->record, nd->record_len);
    if (!nd->record || proto_rd_array_max(&rd, 64, &n) || proto_rd_uint(&rd, 255, &version) ||
        proto_rd_uint(&rd, UINT64_MAX, &rh) || proto_rd_uint(&rd, UINT64_MAX, &rr) ||
        proto_rd_uint(&rd, UINT64_MAX, &rs)) {
        csim_fail(sim, "node %d sent a signed message with no signing record on disk", nd->idx);
        return;
    }
    bool covered = h != rh ? h < rh : r != rr ? r < rr : step <= rs;
    if (!covered)
        csim_fail(sim,
                  "node %d sent (%" PRIu64 ", %u, step %u) beyond its durable record (%" PRIu64
                  ", %" PRIu64 ", step %" PRIu64 ")",
                  nd->idx, h, r, step, rh, rr, rs);
}

/* ---- liveness ---- */

static size_t s_up_honest(const sim_t *sim)
{
    size_t k = 0;
    for (int i = 0; i < sim->n; i++)
        k += sim->nodes[i].up && csim_is_honest(sim, i);
    return k;
}

void csim_check_done(sim_t *sim)
{
    if (!sim->live_phase || sim->late_pending)
        return;
    bool all = true;
    for (int i = 0; i < sim->n && all; i++) {
        const sim_node_t *nd = &sim->nodes[i];
        if (nd->up && csim_is_honest(sim, i) && nd->chain_len < sim->h0 + SIM_K &&
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
        csim_fail(sim,
                  "LIVENESS: %zu of %d honest validators up since t=%" PRIu64
                  " but no %d heights above %" PRIu64 " (height/round:%s)",
                  s_up_honest(sim), sim->n, sim->t0, SIM_K, sim->h0, heights);
    }
}
