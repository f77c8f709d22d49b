/*  ledger_consensus_input: checking and storing the proposals and votes a consensus core
 *  receives (see ledger_consensus_int.h).
 *
 *  Order of checks, cheapest first, nothing kept before its signature is good (but for the
 *  small next-height buffer): the
 *  chain id; the height (past: ignored; next: buffered unverified, checked when that height
 *  starts; further: dropped); the signer (a validator; for a proposal, the proposer of its
 *  round); a message already held (same value and signature: a duplicate, not checked
 *  again); the signature; for a proposal, the block against its hash. A validator's second
 *  vote of another value in one round is kept too (an equivocation, counted), see
 *  ledger_cons_slot_add_vote.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_consensus_int.h"
#include "proto/proto_err.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"

bool ledger_cons_block_hash(const ledger_cons_t *c, const uint8_t *block, size_t len,
                            uint8_t out[static PROTO_HASH_LEN])
{
    if (c->io.hash)
        return c->io.hash(c->io.ctx, block, len, out);
    ledger_vote_value_hash(block, len, out);
    return true;
}

static void s_note_round(ledger_cons_t *c, size_t idx, uint32_t round)
{
    if (!c->seen[idx] || round > c->seen_round[idx]) {
        c->seen[idx] = true;
        c->seen_round[idx] = round;
    }
}

static bool s_vote_sig_ok(const ledger_cons_t *c, const ledger_vote_t *v)
{
    uint8_t h[PROTO_HASH_LEN];
    ledger_vote_signing_hash(v, h);
    return ledger_cons_verify(c, v->validator, h, v->sig);
}

static bool s_proposal_sig_ok(const ledger_cons_t *c, const ledger_proposal_t *p)
{
    uint8_t h[PROTO_HASH_LEN];
    ledger_proposal_signing_hash(p, h);
    return ledger_cons_verify(c, p->proposer, h, p->sig);
}

/* Where a message of HEIGHT goes: 1 now, 0 the next-height buffer, -1 nowhere. */
static int s_height_class(ledger_cons_t *c, uint64_t height)
{
    if (c->height == 0 || height < c->height || (height == c->height && c->decided)) {
        c->stats.stale++;
        return -1;
    }
    if (height == c->height)
        return 1;
    if (height == c->height + 1)
        return 0;
    c->stats.dropped++;
    return -1;
}

static void s_log_equivocation(const uint8_t who[static 32], uint64_t height, uint32_t round,
                               const char *what)
{
    char hex[17];
    proto_hex_encode(who, 8, hex);
    GLOG_RATELIMITED(WARN, LEDGER, "consensus: validator %s signed two %ss at %llu/%u", hex, what,
                     (unsigned long long)height, round);
}

int ledger_cons_handle_vote(ledger_cons_t *c, const ledger_vote_t *v)
{
    if (memcmp(v->chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN) != 0) {
        c->stats.wrong_chain++;
        return PROTO_E_INVALID;
    }
    int cls = s_height_class(c, v->height);
    if (cls < 0)
        return PROTO_OK;
    if (cls == 0) {
        if (ledger_cons_future_add_vote(c, v))
            c->stats.buffered++;
        else
            c->stats.dropped++;
        return PROTO_OK;
    }
    int idx = ledger_valset_find(&c->valset, v->validator);
    if (idx < 0) {
        c->stats.not_validator++;
        return PROTO_E_INVALID;
    }
    ledger_cons_slot_t *s = ledger_cons_slot_find(c, v->round);
    const ledger_cons_entry_t *e =
        s ? ledger_cons_slot_lookup(s, v->type, (size_t)idx, v->has_hash, v->hash) : NULL;
    if (e && memcmp(e->sig, v->sig, PROTO_SIG_LEN) == 0) {
        c->stats.duplicates++; /* checked when it first came */
        return PROTO_OK;
    }
    if (!s_vote_sig_ok(c, v)) {
        c->stats.bad_sig++;
        return PROTO_E_BAD_SIG;
    }
    if (e) { /* the same vote with another valid signature */
        c->stats.duplicates++;
        return PROTO_OK;
    }
    s_note_round(c, (size_t)idx, v->round);
    if (!s)
        s = ledger_cons_slot_get(c, v->round);
    if (!s) {
        c->stats.dropped++; /* too far ahead: counted for round skipping only */
        return PROTO_OK;
    }
    if (ledger_cons_slot_has(s, v->type, (size_t)idx)) {
        /* a second value: the first still counts as its vote, this one for its value */
        c->stats.equivocations++;
        s_log_equivocation(v->validator, v->height, v->round,
                           v->type == LEDGER_VOTE_PREVOTE ? "prevote" : "precommit");
    }
    ledger_cons_slot_add_vote(s, v->type, (size_t)idx, v->has_hash, v->hash, v->sig);
    return PROTO_OK;
}

int ledger_cons_handle_proposal(ledger_cons_t *c, const ledger_proposal_t *p, const uint8_t *data,
                                size_t len)
{
    if (memcmp(p->chain_id, c->chain_id, LEDGER_CHAIN_ID_LEN) != 0) {
        c->stats.wrong_chain++;
        return PROTO_E_INVALID;
    }
    int cls = s_height_class(c, p->height);
    if (cls < 0)
        return PROTO_OK;
    if (cls == 0) {
        if (ledger_cons_future_add_proposal(c, p, data, len))
            c->stats.buffered++;
        else
            c->stats.dropped++;
        return PROTO_OK;
    }
    size_t who = ledger_valset_proposer(&c->valset, c->height, p->round);
    if (memcmp(c->valset.keys[who], p->proposer, PROTO_PUBKEY_LEN) != 0) {
        c->stats.wrong_proposer++;
        return PROTO_E_INVALID;
    }
    ledger_cons_slot_t *s = ledger_cons_slot_find(c, p->round);
    if (s && s->has_proposal) {
        if (memcmp(s->prop_sig, p->sig, PROTO_SIG_LEN) == 0 &&
            memcmp(s->block->hash, p->block_hash, PROTO_HASH_LEN) == 0 &&
            s->pol_round == p->pol_round && s->timestamp_ms == p->timestamp_ms) {
            c->stats.duplicates++;
            return PROTO_OK;
        }
        if (!s_proposal_sig_ok(c, p)) {
            c->stats.bad_sig++;
            return PROTO_E_BAD_SIG;
        }
        c->stats.equivocations++; /* the first proposal stands */
        s_log_equivocation(p->proposer, p->height, p->round, "proposal");
        return PROTO_OK;
    }
    if (!s_proposal_sig_ok(c, p)) {
        c->stats.bad_sig++;
        return PROTO_E_BAD_SIG;
    }
    uint8_t hash[PROTO_HASH_LEN];
    if (!ledger_cons_block_hash(c, p->block, p->block_len, hash) ||
        memcmp(hash, p->block_hash, PROTO_HASH_LEN) != 0) {
        c->stats.bad_hash++;
        return PROTO_E_INVALID;
    }
    s_note_round(c, who, p->round);
    if (!s)
        s = ledger_cons_slot_get(c, p->round);
    if (!s) {
        c->stats.dropped++;
        return PROTO_OK;
    }
    ledger_cons_block_t *b = ledger_cons_block_find(c, hash);
    b = b ? ledger_cons_block_ref(b) : ledger_cons_block_new(p->block, p->block_len, hash);
    if (!b)
        return PROTO_E_NOMEM;
    s->has_proposal = true;
    s->pol_round = p->pol_round;
    s->timestamp_ms = p->timestamp_ms;
    memcpy(s->prop_sig, p->sig, PROTO_SIG_LEN);
    s->block = b;
    return PROTO_OK;
}

/* Feeds the buffered messages of our (new) height back in; drops the rest. */
void ledger_cons_replay_future(ledger_cons_t *c)
{
    /* Handling a message of our height never adds to the buffer, so it is read in place. */
    for (size_t i = 0; i < c->n_future_votes; i++)
        if (c->future_votes[i].height == c->height)
            (void)ledger_cons_handle_vote(c, &c->future_votes[i]);
    for (size_t i = 0; i < CONS_FUTURE_PROPOSALS; i++) {
        ledger_cons_future_prop_t *f = &c->future_props[i];
        ledger_proposal_t p;
        if (f->data && f->height == c->height &&
            ledger_proposal_decode(f->data, f->len, &p) == PROTO_OK)
            (void)ledger_cons_handle_proposal(c, &p, f->data, f->len);
    }
    ledger_cons_future_clear(c);
}
