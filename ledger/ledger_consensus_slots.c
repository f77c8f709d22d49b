/*  ledger_consensus_slots: the bounded memory of the consensus core (see
 *  ledger_consensus_int.h): block copies shared by reference count, the round slots of the
 *  current height with their vote tallies, and the buffer of next-height messages.
 *
 *  Slot policy: a message of round r is kept if r is at most CONS_FUTURE_ROUNDS ahead of
 *  our round. When all CONS_ROUND_SLOTS are used, the slot farthest from our round is
 *  evicted, never the slot of our round, of our locked or valid round, or of the pol_round
 *  of our round's proposal; a round farther away than every evictable slot is not kept.
 *  A dropped message is not lost for good: its sender re-sends it (rebroadcast).
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_consensus_int.h"

/* ---- blocks ---- */

ledger_cons_block_t *ledger_cons_block_new(const uint8_t *bytes, size_t len,
                                           const uint8_t hash[static PROTO_HASH_LEN])
{
    ledger_cons_block_t *b = malloc(sizeof *b + (len ? len : 1));
    if (!b)
        return NULL;
    b->refs = 1;
    b->validity = 0;
    memcpy(b->hash, hash, PROTO_HASH_LEN);
    b->len = len;
    if (len)
        memcpy(b->bytes, bytes, len);
    return b;
}

ledger_cons_block_t *ledger_cons_block_ref(ledger_cons_block_t *b)
{
    if (b)
        b->refs++;
    return b;
}

void ledger_cons_block_unref(ledger_cons_block_t **b_p)
{
    if (!b_p || !*b_p)
        return;
    if (--(*b_p)->refs == 0)
        free(*b_p);
    *b_p = NULL;
}

ledger_cons_block_t *ledger_cons_block_find(ledger_cons_t *c, const uint8_t hash[static 32])
{
    if (c->valid_block && memcmp(c->valid_block->hash, hash, PROTO_HASH_LEN) == 0)
        return c->valid_block;
    for (size_t i = 0; i < CONS_ROUND_SLOTS; i++) {
        ledger_cons_slot_t *s = &c->slots[i];
        if (s->used && s->block && memcmp(s->block->hash, hash, PROTO_HASH_LEN) == 0)
            return s->block;
    }
    return NULL;
}

/* ---- slots ---- */

static void s_slot_reset(ledger_cons_slot_t *s)
{
    ledger_cons_block_unref(&s->block);
    memset(s, 0, sizeof *s);
}

void ledger_cons_slots_clear(ledger_cons_t *c)
{
    for (size_t i = 0; i < CONS_ROUND_SLOTS; i++)
        s_slot_reset(&c->slots[i]);
}

ledger_cons_slot_t *ledger_cons_slot_find(ledger_cons_t *c, uint32_t round)
{
    for (size_t i = 0; i < CONS_ROUND_SLOTS; i++)
        if (c->slots[i].used && c->slots[i].round == round)
            return &c->slots[i];
    return NULL;
}

static bool s_protected(const ledger_cons_t *c, uint32_t round)
{
    if (round == c->round || (int64_t)round == c->locked_round || (int64_t)round == c->valid_round)
        return true;
    for (size_t i = 0; i < CONS_ROUND_SLOTS; i++) {
        const ledger_cons_slot_t *s = &c->slots[i];
        if (s->used && s->round == c->round && s->has_proposal &&
            (int64_t)s->pol_round == (int64_t)round)
            return true;
    }
    return false;
}

/* How far ROUND is from ours; past rounds count double, so that at equal distance the
   future (which we are heading into) is kept over the past. */
static uint64_t s_distance(const ledger_cons_t *c, uint32_t round)
{
    if (round >= c->round)
        return (uint64_t)(round - c->round) * 2;
    return (uint64_t)(c->round - round) * 2 + 1;
}

ledger_cons_slot_t *ledger_cons_slot_get(ledger_cons_t *c, uint32_t round)
{
    ledger_cons_slot_t *s = ledger_cons_slot_find(c, round);
    if (s)
        return s;
    if (round > c->round && round - c->round > CONS_FUTURE_ROUNDS)
        return NULL;
    ledger_cons_slot_t *victim = NULL;
    for (size_t i = 0; i < CONS_ROUND_SLOTS; i++) {
        ledger_cons_slot_t *t = &c->slots[i];
        if (!t->used) {
            victim = t;
            break;
        }
        if (s_protected(c, t->round))
            continue;
        if (!victim || s_distance(c, t->round) > s_distance(c, victim->round))
            victim = t;
    }
    if (!victim)
        return NULL;
    if (victim->used && !s_protected(c, round) &&
        s_distance(c, round) >= s_distance(c, victim->round))
        return NULL;
    s_slot_reset(victim);
    victim->used = true;
    victim->round = round;
    victim->pol_round = -1;
    return victim;
}

static bool s_entry_is(const ledger_cons_entry_t *e, bool has_hash, const uint8_t *hash)
{
    if (e->state == CONS_VOTE_NIL)
        return !has_hash;
    return e->state == CONS_VOTE_VALUE && has_hash && memcmp(e->hash, hash, PROTO_HASH_LEN) == 0;
}

const ledger_cons_entry_t *ledger_cons_slot_lookup(const ledger_cons_slot_t *s, uint8_t type,
                                                   size_t idx, bool has_hash,
                                                   const uint8_t hash[static 32])
{
    const ledger_cons_entry_t *e = &s->votes[type - 1][idx];
    if (s_entry_is(e, has_hash, hash))
        return e;
    for (size_t i = 0; i < s->n_extra[type - 1]; i++)
        if (s->extra_who[type - 1][i] == idx && s_entry_is(&s->extra[type - 1][i], has_hash, hash))
            return &s->extra[type - 1][i];
    return NULL;
}

bool ledger_cons_slot_has(const ledger_cons_slot_t *s, uint8_t type, size_t idx)
{
    return s->votes[type - 1][idx].state != CONS_VOTE_NONE;
}

static void s_count_value(ledger_cons_tally_t *t, bool has_hash, const uint8_t *hash)
{
    if (!has_hash) {
        t->nil++;
        return;
    }
    for (size_t i = 0; i < t->n_values; i++) {
        if (memcmp(t->values[i].hash, hash, PROTO_HASH_LEN) == 0) {
            t->values[i].count++;
            return;
        }
    }
    /* every vote held has room: a first vote per validator, CONS_EXTRA_MAX others */
    if (t->n_values < LEDGER_VALSET_MAX + CONS_EXTRA_MAX) {
        memcpy(t->values[t->n_values].hash, hash, PROTO_HASH_LEN);
        t->values[t->n_values].count = 1;
        t->n_values++;
    }
}

void ledger_cons_slot_add_vote(ledger_cons_slot_t *s, uint8_t type, size_t idx, bool has_hash,
                               const uint8_t hash[static 32], const uint8_t sig[static 64])
{
    ledger_cons_entry_t *e = &s->votes[type - 1][idx];
    ledger_cons_tally_t *t = &s->tally[type - 1];
    if (e->state != CONS_VOTE_NONE) {
        /* a conflicting vote: kept (and counted for its value) while there is room */
        size_t mine = 0, n = s->n_extra[type - 1];
        for (size_t i = 0; i < n; i++)
            mine += s->extra_who[type - 1][i] == idx;
        if (n >= CONS_EXTRA_MAX || mine >= CONS_EXTRA_PER_VALIDATOR)
            return;
        e = &s->extra[type - 1][n];
        s->extra_who[type - 1][n] = (uint8_t)idx;
        s->n_extra[type - 1]++;
    } else {
        t->any++;
    }
    e->state = has_hash ? CONS_VOTE_VALUE : CONS_VOTE_NIL;
    memset(e->hash, 0, PROTO_HASH_LEN);
    if (has_hash)
        memcpy(e->hash, hash, PROTO_HASH_LEN);
    memcpy(e->sig, sig, PROTO_SIG_LEN);
    s_count_value(t, has_hash, hash);
}

size_t ledger_cons_slot_signers(const ledger_cons_slot_t *s, uint8_t type, const uint8_t *hash,
                                size_t n_validators, uint8_t idx[LEDGER_VALSET_MAX],
                                const uint8_t *sigs[LEDGER_VALSET_MAX])
{
    static const uint8_t zero[PROTO_HASH_LEN];
    size_t k = 0;
    for (size_t i = 0; i < n_validators && i < LEDGER_VALSET_MAX; i++) {
        const ledger_cons_entry_t *e =
            ledger_cons_slot_lookup(s, type, i, hash != NULL, hash ? hash : zero);
        if (e) {
            idx[k] = (uint8_t)i;
            sigs[k] = e->sig;
            k++;
        }
    }
    return k;
}

size_t ledger_cons_slot_count(const ledger_cons_slot_t *s, uint8_t type, const uint8_t *hash)
{
    const ledger_cons_tally_t *t = &s->tally[type - 1];
    if (!hash)
        return t->nil;
    for (size_t i = 0; i < t->n_values; i++)
        if (memcmp(t->values[i].hash, hash, PROTO_HASH_LEN) == 0)
            return t->values[i].count;
    return 0;
}

size_t ledger_cons_slot_count_any(const ledger_cons_slot_t *s, uint8_t type)
{
    return s->tally[type - 1].any;
}

/* ---- next-height buffer ---- */

bool ledger_cons_future_add_vote(ledger_cons_t *c, const ledger_vote_t *v)
{
    if (v->round > CONS_FUTURE_ROUNDS || c->n_future_votes >= CONS_FUTURE_VOTES)
        return false;
    for (size_t i = 0; i < c->n_future_votes; i++) {
        const ledger_vote_t *o = &c->future_votes[i];
        if (o->height == v->height && o->round == v->round && o->type == v->type &&
            memcmp(o->validator, v->validator, PROTO_PUBKEY_LEN) == 0)
            return false; /* keep the first (checked when the height starts) */
    }
    c->future_votes[c->n_future_votes++] = *v;
    return true;
}

bool ledger_cons_future_add_proposal(ledger_cons_t *c, const ledger_proposal_t *p,
                                     const uint8_t *data, size_t len)
{
    if (p->round > CONS_FUTURE_ROUNDS)
        return false;
    /* The next height's set is not known yet; the current one is the likely one, and
       filters out proposals from validators that are not due to propose. */
    size_t who = ledger_valset_proposer(&c->valset, p->height, p->round);
    if (memcmp(c->valset.keys[who], p->proposer, PROTO_PUBKEY_LEN) != 0)
        return false;
    ledger_cons_future_prop_t *free_slot = NULL;
    for (size_t i = 0; i < CONS_FUTURE_PROPOSALS; i++) {
        ledger_cons_future_prop_t *f = &c->future_props[i];
        if (!f->data) {
            if (!free_slot)
                free_slot = f;
        } else if (f->height == p->height && f->round == p->round) {
            return false;
        }
    }
    if (!free_slot)
        return false;
    free_slot->data = malloc(len ? len : 1);
    if (!free_slot->data)
        return false;
    memcpy(free_slot->data, data, len);
    free_slot->len = len;
    free_slot->height = p->height;
    free_slot->round = p->round;
    return true;
}

void ledger_cons_future_clear(ledger_cons_t *c)
{
    c->n_future_votes = 0;
    for (size_t i = 0; i < CONS_FUTURE_PROPOSALS; i++) {
        free(c->future_props[i].data);
        memset(&c->future_props[i], 0, sizeof c->future_props[i]);
    }
}
