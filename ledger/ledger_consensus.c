/*  ledger_consensus: the rules of the consensus core, its timers and what it sends (see
 *  ledger_consensus.h for the contract, ledger_consensus_int.h for the state).
 *
 *  Every input updates the state (a message is checked and stored in its round slot, a
 *  timer moves the step) and then s_progress() applies the rules of the algorithm until
 *  none fires. Each rule that fires changes the state so that it cannot fire again the
 *  same way (a step moves forward, a "first time" flag is set, the round grows, the height
 *  is decided), so the loop ends. Line numbers refer to Algorithm 1 of arXiv 1807.04938.
 */
#include "ledger/ledger_consensus.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_consensus_int.h"
#include "proto/proto_err.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

void ledger_cons_params_default(ledger_cons_params_t *p)
{
    p->timeout_propose_ms = 3000;
    p->timeout_prevote_ms = 1000;
    p->timeout_precommit_ms = 1000;
    p->timeout_delta_ms = 500;
    p->timeout_max_ms = 60000;
    p->rebroadcast_ms = 1000;
    p->propose_retry_ms = 100;
}

static void s_record_free(ledger_cons_record_t **rec_p)
{
    if (!*rec_p)
        return;
    ledger_cons_record_clear(*rec_p);
    free(*rec_p);
    *rec_p = NULL;
}

ledger_cons_t *ledger_cons_new(const uint8_t chain_id[static LEDGER_CHAIN_ID_LEN],
                               const proto_key_t *key, const ledger_cons_io_t *io,
                               const ledger_cons_params_t *params)
{
    if (!io || !io->broadcast || !io->schedule_timeout || !io->validate || !io->commit)
        return NULL;
    if (key && (!io->persist || !io->get_block))
        return NULL;
    ledger_cons_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    memcpy(c->chain_id, chain_id, LEDGER_CHAIN_ID_LEN);
    c->key = key;
    if (key)
        memcpy(c->pub, proto_key_public(key), PROTO_PUBKEY_LEN);
    c->io = *io;
    if (params)
        c->params = *params;
    else
        ledger_cons_params_default(&c->params);
    c->my_index = -1;
    c->locked_round = -1;
    c->valid_round = -1;
    c->step = LEDGER_STEP_PROPOSE;
    return c;
}

void ledger_cons_destroy(ledger_cons_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_cons_t *c = *self_p;
    ledger_cons_slots_clear(c);
    ledger_cons_block_unref(&c->valid_block);
    ledger_cons_future_clear(c);
    s_record_free(&c->record);
    free(c);
    *self_p = NULL;
}

int ledger_cons_restore(ledger_cons_t *self, const uint8_t *data, size_t len)
{
    if (self->height != 0)
        return PROTO_E_INVALID; /* only before the first height */
    ledger_cons_record_t *rec = malloc(sizeof *rec);
    if (!rec)
        return PROTO_E_NOMEM;
    int rc = ledger_cons_record_decode(data, len, rec);
    if (rc != PROTO_OK) {
        free(rec);
        return rc;
    }
    s_record_free(&self->record);
    self->record = rec;
    self->last = rec->last;
    return PROTO_OK;
}

uint64_t ledger_cons_height(const ledger_cons_t *self)
{
    return self->height;
}

uint32_t ledger_cons_round(const ledger_cons_t *self)
{
    return self->round;
}

ledger_cons_step_t ledger_cons_step(const ledger_cons_t *self)
{
    return self->step;
}

bool ledger_cons_decided(const ledger_cons_t *self)
{
    return self->decided;
}

void ledger_cons_stats(const ledger_cons_t *self, ledger_cons_stats_t *out)
{
    *out = self->stats;
}

/* ---- helpers ---- */

static uint64_t s_timeout(const ledger_cons_t *c, ledger_cons_step_t step, uint32_t round)
{
    const ledger_cons_params_t *p = &c->params;
    uint64_t base = step == LEDGER_STEP_PROPOSE   ? p->timeout_propose_ms
                    : step == LEDGER_STEP_PREVOTE ? p->timeout_prevote_ms
                                                  : p->timeout_precommit_ms;
    uint64_t t;
    if (p->timeout_delta_ms && round > (p->timeout_max_ms / p->timeout_delta_ms))
        t = p->timeout_max_ms;
    else
        t = base + (uint64_t)round * p->timeout_delta_ms;
    return t < p->timeout_max_ms ? t : p->timeout_max_ms;
}

static void s_schedule(ledger_cons_t *c, uint32_t round, ledger_cons_step_t step, uint64_t delay)
{
    c->io.schedule_timeout(c->io.ctx, c->height, round, step, delay);
}

static bool s_block_valid(ledger_cons_t *c, ledger_cons_block_t *b)
{
    if (b->validity == 0)
        b->validity = c->io.validate(c->io.ctx, c->height, b->bytes, b->len) ? 1 : -1;
    return b->validity > 0;
}

static bool s_is_proposer(const ledger_cons_t *c, uint32_t round)
{
    return c->my_index >= 0 &&
           ledger_valset_proposer(&c->valset, c->height, round) == (size_t)c->my_index;
}

/* The slot of our round: made by s_start_round and never evicted. */
static ledger_cons_slot_t *s_cur(ledger_cons_t *c)
{
    ledger_cons_slot_t *s = ledger_cons_slot_find(c, c->round);
    assert(s != NULL);
    return s;
}

/* ---- sending ---- */

/* Broadcasts validator IDX's vote of TYPE at ROUND for HASH (NULL: nil) with SIG. */
static void s_send_vote(ledger_cons_t *c, uint8_t type, uint32_t round, size_t idx,
                        const uint8_t *hash, const uint8_t sig[static PROTO_SIG_LEN])
{
    ledger_vote_t v = {.type = type, .height = c->height, .round = round, .has_hash = hash != NULL};
    memcpy(v.chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN);
    if (hash)
        memcpy(v.hash, hash, PROTO_HASH_LEN);
    memcpy(v.validator, c->valset.keys[idx], PROTO_PUBKEY_LEN);
    memcpy(v.sig, sig, PROTO_SIG_LEN);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ledger_vote_encode(&v, &buf, &len) == PROTO_OK)
        c->io.broadcast(c->io.ctx, PROTO_MSG_VOTE, buf, len);
    free(buf);
}

/* Broadcasts validator IDX's stored vote E of TYPE at ROUND. */
static void s_send_entry(ledger_cons_t *c, uint8_t type, uint32_t round, size_t idx,
                         const ledger_cons_entry_t *e)
{
    s_send_vote(c, type, round, idx, e->state == CONS_VOTE_VALUE ? e->hash : NULL, e->sig);
}

/* Broadcasts the proposal stored in S, preceded by the prevotes that justify its
   pol_round (so that validators locked below it can accept it, line 28). */
static void s_send_proposal(ledger_cons_t *c, const ledger_cons_slot_t *s)
{
    ledger_cons_slot_t *pol =
        s->pol_round >= 0 ? ledger_cons_slot_find(c, (uint32_t)s->pol_round) : NULL;
    if (pol) {
        uint8_t idx[LEDGER_VALSET_MAX];
        const uint8_t *sigs[LEDGER_VALSET_MAX];
        size_t n = ledger_cons_slot_signers(pol, LEDGER_VOTE_PREVOTE, s->block->hash, c->valset.n,
                                            idx, sigs);
        for (size_t i = 0; i < n; i++)
            s_send_vote(c, LEDGER_VOTE_PREVOTE, pol->round, idx[i], s->block->hash, sigs[i]);
    }
    ledger_proposal_t p = {.height = c->height,
                           .round = s->round,
                           .pol_round = s->pol_round,
                           .timestamp_ms = s->timestamp_ms,
                           .block = s->block->bytes,
                           .block_len = s->block->len};
    memcpy(p.chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN);
    memcpy(p.proposer, c->valset.keys[ledger_valset_proposer(&c->valset, c->height, s->round)],
           PROTO_PUBKEY_LEN);
    memcpy(p.block_hash, s->block->hash, PROTO_HASH_LEN);
    memcpy(p.sig, s->prop_sig, PROTO_SIG_LEN);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ledger_proposal_encode(&p, &buf, &len) == PROTO_OK)
        c->io.broadcast(c->io.ctx, PROTO_MSG_PROPOSAL, buf, len);
    free(buf);
}

/* Signs, records and broadcasts our vote of TYPE in our round for HASH (NULL: nil). */
static void s_vote(ledger_cons_t *c, uint8_t type, const uint8_t *hash)
{
    if (c->my_index < 0)
        return;
    uint8_t step = type == LEDGER_VOTE_PREVOTE ? LEDGER_STEP_PREVOTE : LEDGER_STEP_PRECOMMIT;
    ledger_vote_t v = {.type = type, .height = c->height, .round = c->round};
    memcpy(v.chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN);
    if (c->last.step == step && c->last.height == c->height && c->last.round == c->round) {
        /* We voted at this very (height, round, step) before a restart: that vote stands. */
        v.has_hash = c->last.has_hash;
        memcpy(v.hash, c->last.hash, PROTO_HASH_LEN);
    } else if (hash) {
        v.has_hash = true;
        memcpy(v.hash, hash, PROTO_HASH_LEN);
    }
    if (!ledger_cons_may_sign(c, v.height, v.round, step, v.has_hash, v.hash)) {
        c->stats.sign_refused++;
        return;
    }
    ledger_vote_sign(&v, c->key); /* signed, but sent only once the record is durable */
    if (ledger_cons_sign_prepare(c, v.height, v.round, step, v.has_hash, v.hash, v.sig) != 0) {
        c->retry = true; /* the disk failed: try again later, in this round */
        c->retry_type = type;
        c->retry_has_hash = v.has_hash;
        memcpy(c->retry_hash, v.hash, PROTO_HASH_LEN);
        return;
    }
    c->stats.signed_msgs++;
    ledger_cons_slot_add_vote(s_cur(c), type, (size_t)c->my_index, v.has_hash, v.hash, v.sig);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ledger_vote_encode(&v, &buf, &len) == PROTO_OK)
        c->io.broadcast(c->io.ctx, PROTO_MSG_VOTE, buf, len);
    free(buf);
}

/* If we are the proposer of our round and have not proposed: propose our valid value, or
   a new block from the application (lines 14-19). */
static void s_propose(ledger_cons_t *c, uint64_t now_ms)
{
    if (c->proposed || c->decided || c->step != LEDGER_STEP_PROPOSE || !s_is_proposer(c, c->round))
        return;
    ledger_cons_block_t *b = NULL;
    int32_t pol = -1;
    if (c->valid_block && s_block_valid(c, c->valid_block)) {
        b = ledger_cons_block_ref(c->valid_block);
        pol = (int32_t)c->valid_round;
    } else {
        const uint8_t *bytes = NULL;
        size_t len = 0;
        uint8_t hash[PROTO_HASH_LEN];
        ledger_cons_block_rc_t rc = c->io.get_block(c->io.ctx, c->height, &bytes, &len);
        if (rc == LEDGER_CONS_BLOCK_NOT_YET) {
            s_schedule(c, c->round, LEDGER_STEP_PROPOSE_RETRY, c->params.propose_retry_ms);
            return;
        }
        if (rc != LEDGER_CONS_BLOCK_READY || len > LEDGER_PROPOSAL_BLOCK_MAX || (!bytes && len) ||
            !ledger_cons_block_hash(c, bytes, len, hash)) {
            c->proposed = true; /* nothing to propose this round */
            return;
        }
        b = ledger_cons_block_new(bytes, len, hash);
        if (!b)
            return;      /* out of memory: the propose timeout moves the round on */
        b->validity = 1; /* the application built it */
    }
    c->proposed = true;
    if (!ledger_cons_may_sign(c, c->height, c->round, LEDGER_STEP_PROPOSE, true, b->hash)) {
        c->stats.sign_refused++;
        ledger_cons_block_unref(&b);
        return;
    }
    if (ledger_cons_sign_prepare(c, c->height, c->round, LEDGER_STEP_PROPOSE, true, b->hash,
                                 NULL) != 0) {
        ledger_cons_block_unref(&b); /* the disk failed: try again shortly */
        c->proposed = false;
        s_schedule(c, c->round, LEDGER_STEP_PROPOSE_RETRY, c->params.propose_retry_ms);
        return;
    }
    ledger_proposal_t p = {.height = c->height,
                           .round = c->round,
                           .pol_round = pol,
                           .timestamp_ms = now_ms,
                           .block = b->bytes,
                           .block_len = b->len};
    memcpy(p.chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN);
    memcpy(p.block_hash, b->hash, PROTO_HASH_LEN);
    ledger_proposal_sign(&p, c->key);
    c->stats.signed_msgs++;
    ledger_cons_slot_t *s = s_cur(c);
    ledger_cons_block_unref(&s->block); /* a proposal relayed from before a restart */
    s->has_proposal = true;
    s->pol_round = pol;
    s->timestamp_ms = now_ms;
    memcpy(s->prop_sig, p.sig, PROTO_SIG_LEN);
    s->block = b;
    s_send_proposal(c, s);
}

/* StartRound (line 11). */
static void s_start_round(ledger_cons_t *c, uint32_t round, uint64_t now_ms)
{
    c->round = round;
    c->step = LEDGER_STEP_PROPOSE;
    c->proposed = false;
    c->retry = false;
    ledger_cons_slot_t *s = ledger_cons_slot_get(c, round);
    assert(s != NULL); /* our round is protected and at most 4 of 8 slots are */
    (void)s;
    c->stats.rounds++;
    s_schedule(c, round, LEDGER_STEP_PROPOSE, s_timeout(c, LEDGER_STEP_PROPOSE, round));
    s_propose(c, now_ms);
}

/* Broadcasts every vote held in S (first and conflicting ones). */
static void s_relay_slot(ledger_cons_t *c, const ledger_cons_slot_t *s)
{
    for (uint8_t type = LEDGER_VOTE_PREVOTE; type <= LEDGER_VOTE_PRECOMMIT; type++) {
        for (size_t i = 0; i < c->valset.n; i++)
            if (s->votes[type - 1][i].state != CONS_VOTE_NONE)
                s_send_entry(c, type, s->round, i, &s->votes[type - 1][i]);
        for (size_t i = 0; i < s->n_extra[type - 1]; i++)
            s_send_entry(c, type, s->round, s->extra_who[type - 1][i], &s->extra[type - 1][i]);
    }
}

/* Re-sends what others may have lost (the algorithm assumes that after GST whatever a
   correct validator received, every correct validator receives): our proposal, every
   vote we hold of this round and of the round before (a validator still there needs a
   quorum of them to time out and follow us; one further behind catches up by the f + 1
   round skip), and our precommit that decided the previous height. */
static void s_rebroadcast(ledger_cons_t *c)
{
    if (c->prev_precommit_len)
        c->io.broadcast(c->io.ctx, PROTO_MSG_VOTE, c->prev_precommit, c->prev_precommit_len);
    if (c->my_index < 0)
        return;
    ledger_cons_slot_t *s = s_cur(c);
    if (c->retry) {
        c->retry = false;
        if (!ledger_cons_slot_has(s, c->retry_type, (size_t)c->my_index))
            s_vote(c, c->retry_type, c->retry_has_hash ? c->retry_hash : NULL);
    }
    if (s->has_proposal && s_is_proposer(c, c->round))
        s_send_proposal(c, s);
    s_relay_slot(c, s);
    ledger_cons_slot_t *prev = c->round > 0 ? ledger_cons_slot_find(c, c->round - 1) : NULL;
    if (prev)
        s_relay_slot(c, prev);
}

/* ---- commit (line 49) ---- */

static bool s_commit(ledger_cons_t *c, const ledger_cons_slot_t *s, ledger_cons_block_t *b)
{
    ledger_cert_t cert = {.height = c->height, .round = s->round};
    uint8_t idx[LEDGER_VALSET_MAX];
    const uint8_t *sigs[LEDGER_VALSET_MAX];
    memcpy(cert.block_hash, b->hash, PROTO_HASH_LEN);
    cert.n_sigs =
        ledger_cons_slot_signers(s, LEDGER_VOTE_PRECOMMIT, b->hash, c->valset.n, idx, sigs);
    for (size_t i = 0; i < cert.n_sigs; i++) {
        cert.sigs[i].index = idx[i];
        memcpy(cert.sigs[i].sig, sigs[i], PROTO_SIG_LEN);
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (ledger_cert_encode(&cert, &bytes, &len) != PROTO_OK)
        return false; /* out of memory: tried again on the next input */
    c->decided = true;
    c->stats.commits++;
    c->prev_precommit_len = 0;
    if (c->my_index >= 0) {
        const ledger_cons_entry_t *mine = &s->votes[LEDGER_VOTE_PRECOMMIT - 1][c->my_index];
        if (mine->state == CONS_VOTE_VALUE && memcmp(mine->hash, b->hash, PROTO_HASH_LEN) == 0) {
            ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT,
                               .height = c->height,
                               .round = s->round,
                               .has_hash = true};
            memcpy(v.chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN);
            memcpy(v.hash, b->hash, PROTO_HASH_LEN);
            memcpy(v.validator, c->pub, PROTO_PUBKEY_LEN);
            memcpy(v.sig, mine->sig, PROTO_SIG_LEN);
            proto_wr_t w;
            size_t n = 0;
            proto_wr_init(&w);
            ledger_vote_write(&w, &v);
            const uint8_t *data = proto_wr_data(&w, &n);
            if (data && n <= sizeof c->prev_precommit) {
                memcpy(c->prev_precommit, data, n);
                c->prev_precommit_len = n;
            }
            proto_wr_free(&w);
        }
    }
    GLOG(DEBUG, LEDGER, "consensus: height %llu final in round %u with %zu precommits",
         (unsigned long long)c->height, s->round, cert.n_sigs);
    c->io.commit(c->io.ctx, c->height, b->bytes, b->len, b->hash, bytes, len);
    free(bytes);
    return true;
}

/* A quorum of precommits in any round for a block we hold and find valid. */
static bool s_try_commit(ledger_cons_t *c)
{
    for (size_t i = 0; i < CONS_ROUND_SLOTS; i++) {
        const ledger_cons_slot_t *s = &c->slots[i];
        if (!s->used || s->tally[LEDGER_VOTE_PRECOMMIT - 1].any < c->quorum)
            continue;
        const ledger_cons_tally_t *t = &s->tally[LEDGER_VOTE_PRECOMMIT - 1];
        for (size_t k = 0; k < t->n_values; k++) {
            if (t->values[k].count < c->quorum)
                continue;
            ledger_cons_block_t *b = ledger_cons_block_find(c, t->values[k].hash);
            if (b && s_block_valid(c, b) && s_commit(c, s, b))
                return true;
        }
    }
    return false;
}

/* Line 55, in the form: the highest round that at least f + 1 validators have reached
   above ours (so at least one correct validator is there). */
static bool s_skip_target(const ledger_cons_t *c, uint32_t *out)
{
    uint32_t above[LEDGER_VALSET_MAX];
    size_t k = 0;
    for (size_t i = 0; i < c->valset.n; i++)
        if (c->seen[i] && c->seen_round[i] > c->round)
            above[k++] = c->seen_round[i];
    if (k < c->weak)
        return false;
    /* the weak-th largest: sort descending (k <= 64) */
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && above[j] > above[j - 1]; j--) {
            uint32_t t = above[j];
            above[j] = above[j - 1];
            above[j - 1] = t;
        }
    *out = above[c->weak - 1];
    return true;
}

/* Applies the first rule that fires; false if none does. */
static bool s_rules_once(ledger_cons_t *c, uint64_t now_ms)
{
    if (c->height == 0 || c->decided)
        return false;
    if (s_try_commit(c))
        return true;
    uint32_t target;
    if (s_skip_target(c, &target)) {
        c->stats.round_skips++;
        s_start_round(c, target, now_ms);
        return true;
    }
    ledger_cons_slot_t *cur = s_cur(c);
    const uint8_t *v = cur->has_proposal ? cur->block->hash : NULL;

    /* lines 22 and 28: the proposal of our round, while in the propose step */
    if (c->step == LEDGER_STEP_PROPOSE && v) {
        bool act = false, yes = false;
        bool locked_on_v = c->locked_round >= 0 && memcmp(c->locked_hash, v, PROTO_HASH_LEN) == 0;
        if (cur->pol_round < 0) {
            act = true;
            yes = s_block_valid(c, cur->block) && (c->locked_round < 0 || locked_on_v);
        } else {
            ledger_cons_slot_t *pol = ledger_cons_slot_find(c, (uint32_t)cur->pol_round);
            if (pol && ledger_cons_slot_count(pol, LEDGER_VOTE_PREVOTE, v) >= c->quorum) {
                act = true;
                yes = s_block_valid(c, cur->block) &&
                      (c->locked_round <= cur->pol_round || locked_on_v);
            }
        }
        if (act) {
            c->step = LEDGER_STEP_PREVOTE;
            s_vote(c, LEDGER_VOTE_PREVOTE, yes ? v : NULL);
            return true;
        }
    }
    /* line 34 */
    if (c->step == LEDGER_STEP_PREVOTE && !cur->prevote_timer &&
        ledger_cons_slot_count_any(cur, LEDGER_VOTE_PREVOTE) >= c->quorum) {
        cur->prevote_timer = true;
        s_schedule(c, c->round, LEDGER_STEP_PREVOTE, s_timeout(c, LEDGER_STEP_PREVOTE, c->round));
        return true;
    }
    /* line 36: a polka for the proposal of our round */
    if (c->step >= LEDGER_STEP_PREVOTE && v && !cur->polka_seen &&
        ledger_cons_slot_count(cur, LEDGER_VOTE_PREVOTE, v) >= c->quorum &&
        s_block_valid(c, cur->block)) {
        cur->polka_seen = true;
        ledger_cons_block_unref(&c->valid_block);
        c->valid_block = ledger_cons_block_ref(cur->block);
        c->valid_round = c->round;
        if (c->step == LEDGER_STEP_PREVOTE) {
            c->locked_round = c->round;
            memcpy(c->locked_hash, v, PROTO_HASH_LEN);
            c->step = LEDGER_STEP_PRECOMMIT;
            s_vote(c, LEDGER_VOTE_PRECOMMIT, v); /* persists the lock first */
        }
        return true;
    }
    /* line 44 */
    if (c->step == LEDGER_STEP_PREVOTE &&
        ledger_cons_slot_count(cur, LEDGER_VOTE_PREVOTE, NULL) >= c->quorum) {
        c->step = LEDGER_STEP_PRECOMMIT;
        s_vote(c, LEDGER_VOTE_PRECOMMIT, NULL);
        return true;
    }
    /* line 47 */
    if (!cur->precommit_timer &&
        ledger_cons_slot_count_any(cur, LEDGER_VOTE_PRECOMMIT) >= c->quorum) {
        cur->precommit_timer = true;
        s_schedule(c, c->round, LEDGER_STEP_PRECOMMIT,
                   s_timeout(c, LEDGER_STEP_PRECOMMIT, c->round));
        return true;
    }
    return false;
}

static void s_progress(ledger_cons_t *c, uint64_t now_ms)
{
    while (s_rules_once(c, now_ms)) {
    }
}

int ledger_cons_on_vote(ledger_cons_t *self, const uint8_t *data, size_t len, uint64_t now_ms)
{
    ledger_vote_t v;
    self->stats.votes_in++;
    int rc = ledger_vote_decode(data, len, &v);
    if (rc != PROTO_OK) {
        self->stats.malformed++;
        return rc;
    }
    rc = ledger_cons_handle_vote(self, &v);
    s_progress(self, now_ms);
    return rc;
}

int ledger_cons_on_proposal(ledger_cons_t *self, const uint8_t *data, size_t len, uint64_t now_ms)
{
    ledger_proposal_t p;
    self->stats.proposals_in++;
    int rc = ledger_proposal_decode(data, len, &p);
    if (rc != PROTO_OK) {
        self->stats.malformed++;
        return rc;
    }
    rc = ledger_cons_handle_proposal(self, &p, data, len);
    s_progress(self, now_ms);
    return rc;
}

void ledger_cons_on_timeout(ledger_cons_t *self, uint64_t height, uint32_t round,
                            ledger_cons_step_t step, uint64_t now_ms)
{
    ledger_cons_t *c = self;
    if (c->height == 0 || height != c->height || c->decided)
        return; /* stale: timers are never cancelled */
    switch (step) {
    case LEDGER_STEP_PROPOSE: /* line 57 */
        if (round == c->round && c->step == LEDGER_STEP_PROPOSE) {
            c->step = LEDGER_STEP_PREVOTE;
            s_vote(c, LEDGER_VOTE_PREVOTE, NULL);
        }
        break;
    case LEDGER_STEP_PREVOTE: /* line 61 */
        if (round == c->round && c->step == LEDGER_STEP_PREVOTE) {
            c->step = LEDGER_STEP_PRECOMMIT;
            s_vote(c, LEDGER_VOTE_PRECOMMIT, NULL);
        }
        break;
    case LEDGER_STEP_PRECOMMIT: /* line 65 */
        if (round == c->round && round < LEDGER_ROUND_MAX)
            s_start_round(c, round + 1, now_ms);
        break;
    case LEDGER_STEP_REBROADCAST:
        /* only when we have not moved for a whole period: a healthy network pays nothing */
        if (c->tick_height == c->height && c->tick_round == c->round && c->tick_step == c->step)
            s_rebroadcast(c);
        c->tick_height = c->height;
        c->tick_round = c->round;
        c->tick_step = c->step;
        if (c->params.rebroadcast_ms)
            s_schedule(c, c->round, LEDGER_STEP_REBROADCAST, c->params.rebroadcast_ms);
        break;
    case LEDGER_STEP_PROPOSE_RETRY:
        if (round == c->round)
            s_propose(c, now_ms);
        break;
    default:
        return;
    }
    s_progress(c, now_ms);
}

/* ---- heights ---- */

/* Applies the restored record of this height: the votes it held, the lock, the valid
   value and the prevotes that justify it. Our round is already the record's. */
static void s_apply_record(ledger_cons_t *c)
{
    ledger_cons_record_t *rec = c->record;
    for (size_t i = 0; i < rec->n_votes; i++) {
        ledger_vote_t v = {.type = rec->votes[i].type,
                           .height = c->height,
                           .round = rec->votes[i].round,
                           .has_hash = rec->votes[i].has_hash};
        memcpy(v.chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN);
        memcpy(v.hash, rec->votes[i].hash, PROTO_HASH_LEN);
        memcpy(v.validator, rec->votes[i].validator, PROTO_PUBKEY_LEN);
        memcpy(v.sig, rec->votes[i].sig, PROTO_SIG_LEN);
        (void)ledger_cons_handle_vote(c, &v); /* checked like any vote */
    }
    c->locked_round = rec->locked_round;
    memcpy(c->locked_hash, rec->locked_hash, PROTO_HASH_LEN);
    if (rec->valid_round < 0 || !rec->valid_block)
        return;
    uint8_t hash[PROTO_HASH_LEN];
    if (!ledger_cons_block_hash(c, rec->valid_block, rec->valid_len, hash) ||
        memcmp(hash, rec->valid_hash, PROTO_HASH_LEN) != 0)
        return;
    c->valid_block = ledger_cons_block_new(rec->valid_block, rec->valid_len, hash);
    if (!c->valid_block)
        return;
    c->valid_round = rec->valid_round;
    ledger_cons_slot_t *s = ledger_cons_slot_get(c, (uint32_t)rec->valid_round);
    for (size_t i = 0; s && i < rec->n_pol; i++) {
        ledger_vote_t v = {.type = LEDGER_VOTE_PREVOTE,
                           .height = c->height,
                           .round = (uint32_t)rec->valid_round,
                           .has_hash = true};
        memcpy(v.chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN);
        memcpy(v.hash, hash, PROTO_HASH_LEN);
        memcpy(v.validator, rec->pol_pk[i], PROTO_PUBKEY_LEN);
        memcpy(v.sig, rec->pol_sig[i], PROTO_SIG_LEN);
        (void)ledger_cons_handle_vote(c, &v); /* checked like any vote */
    }
}

int ledger_cons_start_height(ledger_cons_t *self, uint64_t height, const ledger_valset_t *valset,
                             uint64_t now_ms)
{
    ledger_cons_t *c = self;
    if (height == 0 || height <= c->height || height > LEDGER_HEIGHT_MAX || !valset ||
        valset->n == 0 || valset->n > LEDGER_VALSET_MAX)
        return LEDGER_E_INVALID;
    for (size_t i = 0; i < valset->n; i++)
        for (size_t j = i + 1; j < valset->n; j++)
            if (memcmp(valset->keys[i], valset->keys[j], PROTO_PUBKEY_LEN) == 0)
                return LEDGER_E_INVALID;
    if (height != c->height + 1)
        c->prev_precommit_len = 0;
    ledger_cons_slots_clear(c);
    ledger_cons_block_unref(&c->valid_block);
    c->height = height;
    c->valset = *valset;
    c->quorum = ledger_valset_quorum(valset);
    c->weak = valset->n - c->quorum + 1;
    c->my_index = c->key ? ledger_valset_find(valset, c->pub) : -1;
    c->round = 0;
    c->step = LEDGER_STEP_PROPOSE;
    c->decided = false;
    c->proposed = false;
    c->locked_round = -1;
    c->valid_round = -1;
    memset(c->locked_hash, 0, sizeof c->locked_hash);
    memset(c->seen, 0, sizeof c->seen);
    memset(c->seen_round, 0, sizeof c->seen_round);
    /* A record of an earlier height says nothing about this one (but its guard stays in
       c->last); one of this height puts us back where we were. */
    bool apply = c->record && c->record->last.height == height;
    if (apply)
        c->round = c->record->last.round;
    (void)ledger_cons_slot_get(c, c->round);
    if (apply)
        s_apply_record(c);
    if (c->record && c->record->last.height <= height)
        s_record_free(&c->record);
    if (c->params.rebroadcast_ms)
        s_schedule(c, c->round, LEDGER_STEP_REBROADCAST, c->params.rebroadcast_ms);
    s_start_round(c, c->round, now_ms);
    if (apply && c->my_index >= 0) {
        /* back at the step our restored votes say we had reached */
        const ledger_cons_slot_t *s = s_cur(c);
        if (s->votes[LEDGER_VOTE_PRECOMMIT - 1][c->my_index].state != CONS_VOTE_NONE)
            c->step = LEDGER_STEP_PRECOMMIT;
        else if (s->votes[LEDGER_VOTE_PREVOTE - 1][c->my_index].state != CONS_VOTE_NONE)
            c->step = LEDGER_STEP_PREVOTE;
    }
    ledger_cons_replay_future(c);
    s_progress(c, now_ms);
    return 0;
}
