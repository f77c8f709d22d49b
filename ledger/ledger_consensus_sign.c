/*  ledger_consensus_sign: double-signing protection of the consensus core.
 *
 *  Before the core sends anything it signed it records (height, round, step, value) as the
 *  last thing signed and hands io.persist the signing record; only once that returned 0
 *  does it broadcast. The rule (as a remote signer's "last sign state"): a signature
 *  at (h, r, s) is allowed only above the last one in (h, r, s) order, or at the same
 *  (h, r, s) for the very same vote (Ed25519 is deterministic, so it is the same bytes).
 *
 *  The record (msgpack, fixed-order array of 12):
 *    [version 1, last_height uint, last_round uint, last_step uint (1..3),
 *     last_hash bin32|nil, locked_round uint|nil, locked_hash bin32|nil,
 *     valid_round uint|nil, valid_hash bin32|nil, valid_block bin|nil,
 *     [[validator bin32, prevote signature bin64], ...],
 *     [[round uint, type uint (1 prevote, 2 precommit), validator bin32, hash bin32|nil,
 *       signature bin64], ...]]
 *  The lock (safety) and the valid value with the prevotes that justify it (liveness: so
 *  that a restarted validator can re-propose it to validators locked on it) belong to
 *  last_height. The last field holds the votes held at last_height in last_round and the
 *  round before (first votes, ours included: at most 4n) and our own votes of the latest
 *  earlier round we voted in: a restarted validator counts and re-sends them. The guard
 *  would not let it sign its own again, and the others may need them all: a validator
 *  that went on to round r on the strength of a quorum of precommits of r - 1 (some from
 *  validators since gone) while the others stayed in r - 1 must, after losing its memory,
 *  still hand them that quorum, or none of them may time out and follow it (the
 *  simulation found exactly these deadlocks). The block makes the
 *  record up to a block's size, but the valid value is set at most once per round and is
 *  reset by a new height.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_consensus_int.h"
#include "proto/proto_err.h"
#include "proto/proto_mp.h"

#define RECORD_FIELDS 12

bool ledger_cons_verify(const ledger_cons_t *c, const uint8_t pk[static 32],
                        const uint8_t hash[static 32], const uint8_t sig[static 64])
{
    if (c->io.verify)
        return c->io.verify(c->io.ctx, pk, hash, PROTO_HASH_LEN, sig);
    return proto_sig_verify(pk, hash, PROTO_HASH_LEN, sig);
}

bool ledger_cons_may_sign(const ledger_cons_t *c, uint64_t h, uint32_t r, uint8_t step,
                          bool has_hash, const uint8_t *hash)
{
    const ledger_cons_last_t *l = &c->last;
    if (l->step == 0)
        return true;
    if (h != l->height)
        return h > l->height;
    if (r != l->round)
        return r > l->round;
    if (step != l->step)
        return step > l->step;
    /* The same (h, r, s): only the same vote again. A proposal is never re-signed (the
       core keeps its own proposal and re-sends those bytes). */
    if (step == LEDGER_STEP_PROPOSE || has_hash != l->has_hash)
        return false;
    return !has_hash || memcmp(hash, l->hash, PROTO_HASH_LEN) == 0;
}

static void s_wr_opt_hash(proto_wr_t *w, bool present, const uint8_t *hash)
{
    if (present)
        proto_wr_bin(w, hash, PROTO_HASH_LEN);
    else
        proto_wr_nil(w);
}

/* Encodes the record; PENDING_SIG is the signature of the vote being made (of step
   c->last.step with c->last's value), NULL if none. */
static int s_record_encode(ledger_cons_t *c, const uint8_t *pending_sig, uint8_t **out,
                           size_t *out_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, RECORD_FIELDS);
    proto_wr_uint(&w, CONS_RECORD_VERSION);
    proto_wr_uint(&w, c->last.height);
    proto_wr_uint(&w, c->last.round);
    proto_wr_uint(&w, c->last.step);
    s_wr_opt_hash(&w, c->last.has_hash, c->last.hash);
    if (c->locked_round >= 0) {
        proto_wr_uint(&w, (uint64_t)c->locked_round);
        proto_wr_bin(&w, c->locked_hash, PROTO_HASH_LEN);
    } else {
        proto_wr_nil(&w);
        proto_wr_nil(&w);
    }
    const ledger_cons_slot_t *pol = NULL;
    if (c->valid_round >= 0 && c->valid_block) {
        proto_wr_uint(&w, (uint64_t)c->valid_round);
        proto_wr_bin(&w, c->valid_block->hash, PROTO_HASH_LEN);
        proto_wr_bin(&w, c->valid_block->bytes, c->valid_block->len);
        pol = ledger_cons_slot_find(c, (uint32_t)c->valid_round);
    } else {
        proto_wr_nil(&w);
        proto_wr_nil(&w);
        proto_wr_nil(&w);
    }
    uint8_t idx[LEDGER_VALSET_MAX];
    const uint8_t *sigs[LEDGER_VALSET_MAX];
    size_t n = pol ? ledger_cons_slot_signers(pol, LEDGER_VOTE_PREVOTE, c->valid_block->hash,
                                              c->valset.n, idx, sigs)
                   : 0;
    proto_wr_array(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        proto_wr_array(&w, 2);
        proto_wr_bin(&w, c->valset.keys[idx[i]], PROTO_PUBKEY_LEN);
        proto_wr_bin(&w, sigs[i], PROTO_SIG_LEN);
    }
    /* the votes held (first votes) of this round and the round before, our vote being
       made, and our own votes of the latest earlier round we voted in */
    const ledger_cons_slot_t *held[3] = {
        ledger_cons_slot_find(c, c->last.round),
        c->last.round > 0 ? ledger_cons_slot_find(c, c->last.round - 1) : NULL, NULL};
    for (size_t i = 0; i < CONS_ROUND_SLOTS && c->my_index >= 0; i++) {
        const ledger_cons_slot_t *s = &c->slots[i];
        if (s->used && s->round + 1 < c->last.round && (!held[2] || s->round > held[2]->round) &&
            (ledger_cons_slot_has(s, LEDGER_VOTE_PREVOTE, (size_t)c->my_index) ||
             ledger_cons_slot_has(s, LEDGER_VOTE_PRECOMMIT, (size_t)c->my_index)))
            held[2] = s;
    }
    uint8_t pending_type =
        c->last.step == LEDGER_STEP_PREVOTE ? LEDGER_VOTE_PREVOTE : LEDGER_VOTE_PRECOMMIT;
    uint32_t n_votes = pending_sig ? 1 : 0;
    for (int k = 0; k < 3; k++)
        for (uint8_t t = LEDGER_VOTE_PREVOTE; held[k] && t <= LEDGER_VOTE_PRECOMMIT; t++)
            for (size_t i = 0; i < c->valset.n; i++)
                n_votes +=
                    ledger_cons_slot_has(held[k], t, i) && (k < 2 || i == (size_t)c->my_index);
    proto_wr_array(&w, n_votes);
    if (pending_sig) {
        proto_wr_array(&w, 5);
        proto_wr_uint(&w, c->last.round);
        proto_wr_uint(&w, pending_type);
        proto_wr_bin(&w, c->pub, PROTO_PUBKEY_LEN);
        s_wr_opt_hash(&w, c->last.has_hash, c->last.hash);
        proto_wr_bin(&w, pending_sig, PROTO_SIG_LEN);
    }
    for (int k = 0; k < 3; k++)
        for (uint8_t t = LEDGER_VOTE_PREVOTE; held[k] && t <= LEDGER_VOTE_PRECOMMIT; t++)
            for (size_t i = 0; i < c->valset.n; i++) {
                const ledger_cons_entry_t *e = &held[k]->votes[t - 1][i];
                if (e->state == CONS_VOTE_NONE || (k == 2 && i != (size_t)c->my_index))
                    continue;
                proto_wr_array(&w, 5);
                proto_wr_uint(&w, held[k]->round);
                proto_wr_uint(&w, t);
                proto_wr_bin(&w, c->valset.keys[i], PROTO_PUBKEY_LEN);
                s_wr_opt_hash(&w, e->state == CONS_VOTE_VALUE, e->hash);
                proto_wr_bin(&w, e->sig, PROTO_SIG_LEN);
            }
    int err = w.err;
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : (err ? err : PROTO_E_NOMEM);
}

int ledger_cons_sign_prepare(ledger_cons_t *c, uint64_t h, uint32_t r, uint8_t step, bool has_hash,
                             const uint8_t *hash, const uint8_t *sig)
{
    if (!ledger_cons_may_sign(c, h, r, step, has_hash, hash)) {
        c->stats.sign_refused++;
        return LEDGER_E_DOUBLE_SIGN;
    }
    ledger_cons_last_t prev = c->last;
    c->last.height = h;
    c->last.round = r;
    c->last.step = step;
    c->last.has_hash = has_hash;
    if (has_hash)
        memcpy(c->last.hash, hash, PROTO_HASH_LEN);
    else
        memset(c->last.hash, 0, PROTO_HASH_LEN);
    uint8_t *rec = NULL;
    size_t len = 0;
    int rc = s_record_encode(c, sig, &rec, &len);
    if (rc == PROTO_OK)
        rc = c->io.persist(c->io.ctx, rec, len) == 0 ? PROTO_OK : LEDGER_E_STORE;
    free(rec);
    if (rc != PROTO_OK) {
        /* Not durable: not signed. (If the record did reach the disk, signing a different
           vote later is still safe, since this one was never sent.) */
        c->last = prev;
        c->stats.persist_failures++;
        return rc;
    }
    return 0;
}

static void s_record_init(ledger_cons_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->locked_round = -1;
    rec->valid_round = -1;
}

void ledger_cons_record_clear(ledger_cons_record_t *rec)
{
    free(rec->valid_block);
    s_record_init(rec);
}

static int s_rd_opt_round(proto_rd_t *r, int64_t *round)
{
    uint64_t v = 0;
    if (proto_rd_peek_nil(r)) {
        *round = -1;
        return proto_rd_nil(r);
    }
    int rc = proto_rd_uint(r, LEDGER_ROUND_MAX, &v);
    *round = (int64_t)v;
    return rc;
}

static int s_rd_opt_hash(proto_rd_t *r, bool *present, uint8_t out[static 32])
{
    if (proto_rd_peek_nil(r)) {
        *present = false;
        return proto_rd_nil(r);
    }
    *present = true;
    return proto_rd_bin_exact(r, PROTO_HASH_LEN, out);
}

int ledger_cons_record_decode(const uint8_t *buf, size_t len, ledger_cons_record_t *rec)
{
    proto_rd_t r;
    uint64_t version = 0, round = 0, step = 0;
    bool has_locked = false, has_valid = false, has_block = false;
    const uint8_t *block = NULL;
    size_t block_len = 0;
    uint32_t n = 0, n_votes = 0;
    s_record_init(rec);
    if (len > CONS_RECORD_MAX)
        return PROTO_E_TOO_BIG;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, RECORD_FIELDS) ||
        proto_rd_uint(&r, CONS_RECORD_VERSION, &version) ||
        proto_rd_uint(&r, LEDGER_HEIGHT_MAX, &rec->last.height) ||
        proto_rd_uint(&r, LEDGER_ROUND_MAX, &round) ||
        proto_rd_uint(&r, LEDGER_STEP_PRECOMMIT, &step) ||
        s_rd_opt_hash(&r, &rec->last.has_hash, rec->last.hash) ||
        s_rd_opt_round(&r, &rec->locked_round) ||
        s_rd_opt_hash(&r, &has_locked, rec->locked_hash) || s_rd_opt_round(&r, &rec->valid_round) ||
        s_rd_opt_hash(&r, &has_valid, rec->valid_hash))
        goto fail;
    if (proto_rd_peek_nil(&r)) {
        if (proto_rd_nil(&r))
            goto fail;
    } else {
        if (proto_rd_bin(&r, LEDGER_PROPOSAL_BLOCK_MAX, &block, &block_len))
            goto fail;
        has_block = true;
    }
    if (proto_rd_array_max(&r, LEDGER_VALSET_MAX, &n))
        goto fail;
    for (uint32_t i = 0; i < n; i++)
        if (proto_rd_array_exact(&r, 2) ||
            proto_rd_bin_exact(&r, PROTO_PUBKEY_LEN, rec->pol_pk[i]) ||
            proto_rd_bin_exact(&r, PROTO_SIG_LEN, rec->pol_sig[i]))
            goto fail;
    if (proto_rd_array_max(&r, CONS_RECORD_VOTES, &n_votes))
        goto fail;
    for (uint32_t i = 0; i < n_votes; i++) {
        uint64_t type = 0, vround = 0;
        if (proto_rd_array_exact(&r, 5) || proto_rd_uint(&r, LEDGER_ROUND_MAX, &vround) ||
            proto_rd_uint(&r, LEDGER_VOTE_PRECOMMIT, &type) ||
            proto_rd_bin_exact(&r, PROTO_PUBKEY_LEN, rec->votes[i].validator) ||
            s_rd_opt_hash(&r, &rec->votes[i].has_hash, rec->votes[i].hash) ||
            proto_rd_bin_exact(&r, PROTO_SIG_LEN, rec->votes[i].sig))
            goto fail;
        if (type < LEDGER_VOTE_PREVOTE || vround > round) {
            r.err = PROTO_E_INVALID;
            goto fail;
        }
        rec->votes[i].type = (uint8_t)type;
        rec->votes[i].round = (uint32_t)vround;
    }
    if (proto_rd_finish(&r))
        goto fail;
    /* the pairs go together, and a signature always precedes a record */
    if (version != CONS_RECORD_VERSION || step < LEDGER_STEP_PROPOSE ||
        has_locked != (rec->locked_round >= 0) || has_valid != (rec->valid_round >= 0) ||
        has_valid != has_block || (n > 0 && !has_valid)) {
        r.err = PROTO_E_INVALID;
        goto fail;
    }
    rec->last.round = (uint32_t)round;
    rec->last.step = (uint8_t)step;
    rec->n_pol = n;
    rec->n_votes = n_votes;
    if (has_block) {
        rec->valid_block = malloc(block_len ? block_len : 1);
        if (!rec->valid_block) {
            r.err = PROTO_E_NOMEM;
            goto fail;
        }
        if (block_len)
            memcpy(rec->valid_block, block, block_len);
        rec->valid_len = block_len;
    }
    return PROTO_OK;
fail:
    ledger_cons_record_clear(rec);
    return r.err != PROTO_OK ? r.err : PROTO_E_INVALID;
}
