/*  consensus_sim_node: one node of test_consensus_sim's simulation (declared in
 *  consensus_sim.h): its application (chain, the consensus io: timers, persist, blocks,
 *  validation, cached signature checks, commits, broadcasts), byzantine twins, crash,
 *  boot from the durable record, and the handling of delivered messages (consensus
 *  messages, and STATUS / sync unicasts for its real sync core: consensus_sim_sync.c).
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
#include "proto/proto_msgtype.h"

/* ---- application ---- */

bool csim_is_honest(const sim_t *sim, int i)
{
    return !sim->nodes[i].byz;
}

/* Appends a final block to node I's chain after the checks; false if refused. */
bool csim_chain_append(sim_t *sim, sim_node_t *nd, uint64_t h, const uint8_t *block, size_t len,
                       const uint8_t hash[32], const uint8_t *cert, size_t cert_len,
                       const char *origin)
{
    if (h <= nd->chain_len) { /* already have it: must be the same */
        if (memcmp(nd->chain[h - 1].hash, hash, 32) != 0 && csim_is_honest(sim, nd->idx))
            csim_fail(sim, "SAFETY: node %d got a second block for height %" PRIu64 " (%s)",
                      nd->idx, h, origin);
        return false;
    }
    if (h != nd->chain_len + 1) {
        csim_fail(sim, "node %d: %s of height %" PRIu64 " on a chain of %zu", nd->idx, origin, h,
                  nd->chain_len);
        return false;
    }
    if (csim_is_honest(sim, nd->idx)) {
        csim_check_cert(sim, nd->idx, h, hash, cert, cert_len, origin);
        if (h <= SIM_HEIGHT_MAX + 1) {
            if (sim->final_set[h] && memcmp(sim->final_hash[h], hash, 32) != 0)
                csim_fail(sim, "SAFETY: node %d %s a different block at height %" PRIu64, nd->idx,
                          origin, h);
            memcpy(sim->final_hash[h], hash, 32);
            sim->final_set[h] = true;
        }
        if (sim->halt_phase && h > sim->halt_cap)
            csim_fail(sim, "HALT: height %" PRIu64 " final with 2/3 or fewer validators up", h);
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
    uint64_t bh = 0;
    uint32_t mask = 0;
    if (csim_block_parse(sim, block, len, &bh, &mask) && mask && mask != nd->vmask) {
        nd->vmask = mask; /* the authority vote takes effect for the next height */
        sim->totals->set_changes++;
    }
    if (h <= SIM_HEIGHT_MAX + 1 && csim_is_honest(sim, nd->idx))
        sim->final_mask[h] = nd->vmask;
    csim_digest(sim, h);
    csim_digest(sim, hash[0] | (uint64_t)hash[1] << 8);
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
    csim_push(sim, ev);
}

static int s_io_persist(void *ctx, const uint8_t *data, size_t len)
{
    sim_node_t *nd = ctx;
    sim_t *sim = nd->sim;
    if (nd->dying)
        return -1;
    if (csim_rng_chance(&sim->rng, sim->persist_fail))
        return -1; /* the disk said no: nothing may be signed */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, data, len);
    free(nd->record);
    nd->record = copy;
    nd->record_len = len;
    if (csim_rng_chance(&sim->rng, sim->persist_crash)) {
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
    if (sim->sc->lazy && sim->now < nd->started_ms + 150 && csim_rng_chance(&sim->rng, 0.5))
        return LEDGER_CONS_BLOCK_NOT_YET;
    bool bad = sim->sc->bad_blocks && csim_rng_chance(&sim->rng, 0.15);
    char set[16] = "";
    if (sim->sc->authset && csim_rng_chance(&sim->rng, 0.08)) {
        /* an authority vote: the set becomes all n + 1 keys but one */
        uint32_t all = (1u << (sim->nv + 1)) - 1;
        uint32_t out = 1u << csim_rng_range(&sim->rng, 0, (uint64_t)sim->nv);
        snprintf(set, sizeof set, "S%02x:", all & ~out);
    }
    int n = snprintf(nd->blockbuf, sizeof nd->blockbuf, "%" PRIu64 ":%d:%s%s%016" PRIx64, height,
                     nd->idx, set, bad ? "BAD:" : "", csim_rng_next(&sim->rng));
    *block = (const uint8_t *)nd->blockbuf;
    *len = (size_t)n;
    return LEDGER_CONS_BLOCK_READY;
}

bool csim_block_parse(const sim_t *sim, const uint8_t *block, size_t len, uint64_t *height,
                      uint32_t *mask)
{
    char text[96];
    *mask = 0;
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, block, len);
    text[len] = '\0';
    char *end = NULL;
    unsigned long long h = strtoull(text, &end, 10);
    if (!end || *end != ':' || strstr(text, ":BAD:"))
        return false;
    *height = h;
    const char *set = strstr(text, ":S");
    if (set) { /* a new authority set: non-empty, of the run's keys */
        unsigned long m = strtoul(set + 2, &end, 16);
        int keys = sim->nv + (sim->sc->authset ? 1 : 0);
        if (!end || *end != ':' || m == 0 || m >= (1ul << keys))
            return false;
        *mask = (uint32_t)m;
    }
    return true;
}

static bool s_io_validate(void *ctx, uint64_t height, const uint8_t *block, size_t len)
{
    const sim_node_t *nd = ctx;
    uint64_t h = 0;
    uint32_t mask = 0;
    return csim_block_parse(nd->sim, block, len, &h, &mask) && h == height;
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
    sim_vc_t *slot = csim_vc_slot(sim, key, &found);
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
        csim_fail(sim, "node %d: commit hash is not the block's", nd->idx);
    if (!s_io_validate(ctx, height, block, len) && csim_is_honest(sim, nd->idx))
        csim_fail(sim, "node %d: committed an invalid block at %" PRIu64, nd->idx, height);
    if (csim_chain_append(sim, nd, height, block, len, hash, cert, cert_len, "committed"))
        sim->totals->commits++;
    csim_at(sim, csim_rng_range(&sim->rng, 50, 250), EV_START, nd->idx); /* the block interval */
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
                         csim_rng_next(&sim->rng));
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
        if (v.has_hash && csim_rng_chance(&sim->rng, 0.5)) {
            v.has_hash = false;
            memset(v.hash, 0, 32);
        } else {
            v.has_hash = true;
            if (sim->byz_alt_set && csim_rng_chance(&sim->rng, 0.7))
                memcpy(v.hash, sim->byz_alt, 32);
            else
                for (int i = 0; i < 32; i++)
                    v.hash[i] = (uint8_t)csim_rng_next(&sim->rng);
        }
        ledger_vote_sign(&v, key);
        if (ledger_vote_encode(&v, &buf, &len) != PROTO_OK)
            return NULL;
    }
    sim_msg_t *twin = csim_msg_new(m->kind, nd->idx, buf, len);
    free(buf);
    return twin;
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
            csim_fail(sim, "node %d broadcast a malformed proposal", nd->idx);
            return;
        }
        own = memcmp(p.proposer, me, 32) == 0;
        if (own && csim_is_honest(sim, nd->idx)) {
            csim_check_signature(sim, nd->idx, 0, p.height, p.round, true, p.block_hash);
            csim_check_persisted(sim, nd, p.height, p.round, LEDGER_STEP_PROPOSE);
        }
    } else if (type == PROTO_MSG_VOTE) {
        ledger_vote_t v;
        if (ledger_vote_decode(data, len, &v) != PROTO_OK) {
            csim_fail(sim, "node %d broadcast a malformed vote", nd->idx);
            return;
        }
        own = memcmp(v.validator, me, 32) == 0;
        if (own && csim_is_honest(sim, nd->idx)) {
            csim_check_signature(sim, nd->idx, v.type, v.height, v.round, v.has_hash, v.hash);
            csim_check_persisted(sim, nd, v.height, v.round,
                                 v.type == LEDGER_VOTE_PREVOTE ? LEDGER_STEP_PREVOTE
                                                               : LEDGER_STEP_PRECOMMIT);
        }
    } else {
        csim_fail(sim, "node %d broadcast message type %u", nd->idx, type);
        return;
    }
    sim_msg_t *m = csim_msg_new(kind, nd->idx, data, len);
    sim_msg_t *twin = nd->byz && own ? s_byz_twin(sim, nd, m) : NULL;
    if (twin)
        sim->totals->byz_msgs++;
    for (int to = 0; to < sim->n; to++) {
        if (to == nd->idx)
            continue;
        if (!twin) {
            csim_net_send(sim, nd->idx, to, m);
            continue;
        }
        int pick = (int)csim_rng_range(&sim->rng, 0, 9);
        if (pick < 5 || pick == 9)
            csim_net_send(sim, nd->idx, to, m);
        if (pick >= 5)
            csim_net_send(sim, nd->idx, to, twin);
    }
    csim_msg_unref(twin);
    csim_msg_unref(m);
}

/* ---- node lifecycle ---- */

void csim_retire_core(sim_t *sim, sim_node_t *nd)
{
    if (nd->sync) {
        ledger_sync_stats_t ss;
        ledger_sync_stats(nd->sync, &ss);
        sim->totals->unasked += ss.unasked;
        sim->totals->sync_requests += ss.requests;
        sim->totals->sync_timeouts += ss.timeouts;
        sim->totals->peers_ignored += ss.ignored_peers;
        ledger_sync_destroy(&nd->sync);
    }
    if (!nd->cons)
        return;
    ledger_cons_stats_t st;
    ledger_cons_stats(nd->cons, &st);
    sim->totals->equivocations += st.equivocations;
    sim->totals->dups += st.duplicates;
    sim->totals->rounds += st.rounds;
    sim->totals->skips += st.round_skips;
    sim->totals->refused += st.sign_refused;
    sim->totals->signed_msgs += st.signed_msgs;
    ledger_cons_destroy(&nd->cons);
}

void csim_crash(sim_t *sim, sim_node_t *nd)
{
    csim_retire_core(sim, nd);
    nd->up = false;
    nd->dying = false;
    nd->epoch++;
    sim->totals->crashes++;
}

void csim_start_next(sim_t *sim, sim_node_t *nd)
{
    uint64_t next = nd->chain_len + 1;
    if (!nd->up || ledger_cons_height(nd->cons) >= next || next > SIM_HEIGHT_MAX)
        return;
    nd->started_ms = sim->now;
    ledger_valset_t vs;
    csim_valset(sim, nd->vmask, &vs);
    if (ledger_cons_start_height(nd->cons, next, &vs, sim->now) != 0)
        csim_fail(sim, "node %d: start_height(%" PRIu64 ") refused", nd->idx, next);
}

/* After every call into a core: a crash inside persist takes effect now. */
void csim_after_call(sim_t *sim, sim_node_t *nd)
{
    if (!nd->dying)
        return;
    csim_crash(sim, nd);
    if (!sim->after_gst && !nd->stay_down)
        csim_at(sim, csim_rng_range(&sim->rng, 50, 1500), EV_RESTART, nd->idx);
}

void csim_boot(sim_t *sim, sim_node_t *nd)
{
    nd->cons = NULL;
    ledger_cons_io_t io = s_io_template;
    io.ctx = nd;
    if (nd->follower)
        io.persist = NULL;
    nd->cons =
        ledger_cons_new(sim->chain_id, nd->follower ? NULL : sim->keys[nd->idx], &io, &sim->params);
    nd->sync = csim_sync_new(sim, nd);
    if (!nd->cons || !nd->sync) {
        csim_fail(sim, "ledger_cons_new / ledger_sync_new failed");
        return;
    }
    if (nd->record) {
        int rc = ledger_cons_restore(nd->cons, nd->record, nd->record_len);
        if (rc != PROTO_OK)
            csim_fail(sim, "node %d: restore of its own record failed (%s)", nd->idx,
                      proto_err_str(rc));
    }
    nd->up = true;
    nd->dying = false;
    csim_start_next(sim, nd);
    csim_after_call(sim, nd);
}

/* ---- event handlers ---- */

void csim_on_deliver(sim_t *sim, sim_node_t *nd, sim_msg_t *m)
{
    sim->totals->delivered++;
    if (m->kind == MSG_PROPOSAL || m->kind == MSG_VOTE) {
        int rc = m->kind == MSG_PROPOSAL
                     ? ledger_cons_on_proposal(nd->cons, m->data, m->len, sim->now)
                     : ledger_cons_on_vote(nd->cons, m->data, m->len, sim->now);
        if (rc != PROTO_OK && !m->corrupted)
            csim_fail(sim, "node %d refused a %s from node %d: %s", nd->idx,
                      m->kind == MSG_PROPOSAL ? "proposal" : "vote", m->from, proto_err_str(rc));
        csim_after_call(sim, nd);
        /* as the node does (s_consensus_seen): a message of height h says its sender has
           h - 1; beyond our head + 1 only with a current authority's valid signature */
        ledger_proposal_t p;
        ledger_vote_t v;
        uint64_t h = 0;
        const uint8_t *signer = NULL;
        bool sig_ok = false;
        if (m->kind == MSG_PROPOSAL && ledger_proposal_decode(m->data, m->len, &p) == PROTO_OK) {
            h = p.height;
            signer = p.proposer;
            sig_ok = h > nd->chain_len + 1 && ledger_proposal_verify(&p);
        } else if (m->kind == MSG_VOTE && ledger_vote_decode(m->data, m->len, &v) == PROTO_OK) {
            h = v.height;
            signer = v.validator;
            sig_ok = h > nd->chain_len + 1 && ledger_vote_verify(&v);
        }
        ledger_valset_t vs;
        csim_valset(sim, nd->vmask, &vs);
        if (nd->up && nd->sync && h > nd->chain_len + 1 && sig_ok &&
            ledger_valset_find(&vs, signer) >= 0)
            ledger_sync_peer_seen(nd->sync, proto_key_public(sim->keys[m->from]), h - 1, sim->now);
        return;
    }
    csim_sync_deliver(sim, nd, m);
    csim_after_call(sim, nd);
}
