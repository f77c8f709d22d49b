/*  ledger_consensus_int: the consensus core's state, shared by ledger_consensus.c (the
 *  rules of the algorithm, timers, what the core sends), ledger_consensus_input.c
 *  (checking received messages), ledger_consensus_slots.c (round slots, vote tallies,
 *  block copies, the future-height buffer) and ledger_consensus_sign.c (the signing guard
 *  and the persisted signing record). Not for use outside those files.
 */
#ifndef GENIE_LEDGER_CONSENSUS_INT_H
#define GENIE_LEDGER_CONSENSUS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_consensus.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"

#define CONS_ROUND_SLOTS 8      /* rounds of the current height kept at once */
#define CONS_FUTURE_ROUNDS 4    /* rounds ahead of ours whose messages are kept */
#define CONS_FUTURE_VOTES 256   /* next-height votes buffered */
#define CONS_FUTURE_PROPOSALS 2 /* next-height proposals buffered */
#define CONS_EXTRA_MAX 64       /* conflicting votes kept per round and type */
#define CONS_EXTRA_PER_VALIDATOR 2
#define CONS_RECORD_VERSION 1
#define CONS_RECORD_VOTES (4 * LEDGER_VALSET_MAX + 2)
#define CONS_RECORD_MAX (LEDGER_PROPOSAL_BLOCK_MAX + 65536u)

enum { CONS_VOTE_NONE = 0, CONS_VOTE_NIL = 1, CONS_VOTE_VALUE = 2 };

/* A block's bytes, shared by the slots and the valid value that refer to it. */
typedef struct {
    int refs;
    int8_t validity; /* 0 not asked yet, 1 valid, -1 invalid (at the current height) */
    uint8_t hash[PROTO_HASH_LEN];
    size_t len;
    uint8_t bytes[];
} ledger_cons_block_t;

/* One validator's prevote or precommit in one round. */
typedef struct {
    uint8_t state; /* CONS_VOTE_* */
    uint8_t hash[PROTO_HASH_LEN];
    uint8_t sig[PROTO_SIG_LEN];
} ledger_cons_entry_t;

/* Votes per distinct value of one type in one round: each validator counts once in "any"
   (its first vote) and once for each value it signed (an equivocator in several). */
typedef struct {
    size_t any, nil;
    size_t n_values;
    struct {
        uint8_t hash[PROTO_HASH_LEN];
        size_t count;
    } values[LEDGER_VALSET_MAX + CONS_EXTRA_MAX];
} ledger_cons_tally_t;

/* Everything known about one round of the current height. */
typedef struct {
    bool used;
    uint32_t round;
    ledger_cons_entry_t votes[2][LEDGER_VALSET_MAX]; /* [type - 1][validator]: first votes */
    /* votes conflicting with a validator's first one: they still count for the value they
       name, as a quorum for that value (a polka another validator saw, a commit) may rest
       on them, and two quorums still share an honest validator */
    ledger_cons_entry_t extra[2][CONS_EXTRA_MAX];
    uint8_t extra_who[2][CONS_EXTRA_MAX];
    size_t n_extra[2];
    ledger_cons_tally_t tally[2];
    /* the proposal of this round, from its proposer */
    bool has_proposal;
    int32_t pol_round;
    uint64_t timestamp_ms;
    uint8_t prop_sig[PROTO_SIG_LEN];
    ledger_cons_block_t *block;
    /* the paper's "for the first time" conditions */
    bool prevote_timer, precommit_timer, polka_seen;
} ledger_cons_slot_t;

/* The last thing signed: nothing at or below it is signed again but the same vote. */
typedef struct {
    uint64_t height;
    uint32_t round;
    uint8_t step; /* 0: nothing signed yet; else LEDGER_STEP_PROPOSE..PRECOMMIT */
    bool has_hash;
    uint8_t hash[PROTO_HASH_LEN];
} ledger_cons_last_t;

/* The persisted signing state, as decoded by ledger_cons_record_decode. */
typedef struct {
    ledger_cons_last_t last;
    int64_t locked_round; /* -1: none */
    uint8_t locked_hash[PROTO_HASH_LEN];
    int64_t valid_round; /* -1: none */
    uint8_t valid_hash[PROTO_HASH_LEN];
    uint8_t *valid_block; /* owned (malloc), NULL if none */
    size_t valid_len;
    size_t n_pol; /* prevotes for the valid value at valid_round */
    uint8_t pol_pk[LEDGER_VALSET_MAX][PROTO_PUBKEY_LEN];
    uint8_t pol_sig[LEDGER_VALSET_MAX][PROTO_SIG_LEN];
    size_t n_votes; /* votes held at last.height (see ledger_consensus_sign.c) */
    struct {
        uint32_t round;
        uint8_t type;
        uint8_t validator[PROTO_PUBKEY_LEN];
        bool has_hash;
        uint8_t hash[PROTO_HASH_LEN];
        uint8_t sig[PROTO_SIG_LEN];
    } votes[CONS_RECORD_VOTES];
} ledger_cons_record_t;

/* A buffered next-height proposal (raw bytes, checked when its height starts). */
typedef struct {
    uint64_t height;
    uint32_t round;
    uint8_t *data;
    size_t len;
} ledger_cons_future_prop_t;

struct ledger_cons_t {
    uint8_t chain_id[LEDGER_CHAIN_ID_LEN];
    const proto_key_t *key; /* borrowed; NULL for a follower */
    uint8_t pub[PROTO_PUBKEY_LEN];
    ledger_cons_io_t io;
    ledger_cons_params_t params;
    ledger_cons_stats_t stats;

    /* the current height */
    uint64_t height; /* 0 before the first start_height */
    ledger_valset_t valset;
    size_t quorum, weak; /* 2f+1 and f+1 */
    int my_index;        /* in valset; -1 if we do not vote at this height */
    uint32_t round;
    ledger_cons_step_t step;
    bool decided;
    bool proposed; /* we proposed (or may not propose) in this round */
    int64_t locked_round;
    uint8_t locked_hash[PROTO_HASH_LEN];
    int64_t valid_round;
    ledger_cons_block_t *valid_block; /* its hash is the valid value */
    bool seen[LEDGER_VALSET_MAX];     /* highest round heard from each validator */
    uint32_t seen_round[LEDGER_VALSET_MAX];
    ledger_cons_slot_t slots[CONS_ROUND_SLOTS];

    /* (height, round, step) at the last rebroadcast tick: re-send only when stuck */
    uint64_t tick_height;
    uint32_t tick_round;
    ledger_cons_step_t tick_step;

    /* a vote of our round that could not be persisted, tried again on the next rebroadcast */
    bool retry;
    uint8_t retry_type;
    bool retry_has_hash;
    uint8_t retry_hash[PROTO_HASH_LEN];

    /* our precommit that decided the previous height, re-sent for laggards */
    uint8_t prev_precommit[LEDGER_VOTE_MAX];
    size_t prev_precommit_len;

    /* double-signing protection */
    ledger_cons_last_t last;
    ledger_cons_record_t *record; /* a restored record not applied yet (owned) */

    /* messages for the next height */
    ledger_vote_t future_votes[CONS_FUTURE_VOTES];
    size_t n_future_votes;
    ledger_cons_future_prop_t future_props[CONS_FUTURE_PROPOSALS];
};

/* ---- ledger_consensus_slots.c ---- */

/*  A block copy with one reference, or NULL on allocation failure. */
ledger_cons_block_t *ledger_cons_block_new(const uint8_t *bytes, size_t len,
                                           const uint8_t hash[static PROTO_HASH_LEN]);
ledger_cons_block_t *ledger_cons_block_ref(ledger_cons_block_t *b);
/*  Drops one reference (freeing at zero); tolerates NULL; sets *b_p to NULL. */
void ledger_cons_block_unref(ledger_cons_block_t **b_p);
/*  The block with HASH held by a slot or as the valid value, or NULL. */
ledger_cons_block_t *ledger_cons_block_find(ledger_cons_t *c, const uint8_t hash[static 32]);

/*  The slot of ROUND, or NULL. */
ledger_cons_slot_t *ledger_cons_slot_find(ledger_cons_t *c, uint32_t round);
/*  The slot of ROUND, made if needed and allowed (not too far ahead of our round; another
 *  slot evicted if all are used and one is less useful). NULL if not kept. */
ledger_cons_slot_t *ledger_cons_slot_get(ledger_cons_t *c, uint32_t round);
/*  Empties every slot (new height). */
void ledger_cons_slots_clear(ledger_cons_t *c);
/*  What S holds of validator IDX's TYPE vote for (HAS_HASH, HASH), or NULL. */
const ledger_cons_entry_t *ledger_cons_slot_lookup(const ledger_cons_slot_t *s, uint8_t type,
                                                   size_t idx, bool has_hash,
                                                   const uint8_t hash[static 32]);
/*  True if S holds any vote of TYPE by validator IDX. */
bool ledger_cons_slot_has(const ledger_cons_slot_t *s, uint8_t type, size_t idx);
/*  Records validator IDX's vote of TYPE (already verified, not yet held) in S: as its first
 *  vote, or as a conflicting one while there is room. */
void ledger_cons_slot_add_vote(ledger_cons_slot_t *s, uint8_t type, size_t idx, bool has_hash,
                               const uint8_t hash[static 32], const uint8_t sig[static 64]);
/*  The votes of TYPE in S for HASH (NULL: nil), one per validator, in validator order:
 *  their indexes in IDX and signatures in SIGS (each with room for LEDGER_VALSET_MAX).
 *  Returns their number. */
size_t ledger_cons_slot_signers(const ledger_cons_slot_t *s, uint8_t type, const uint8_t *hash,
                                size_t n_validators, uint8_t idx[LEDGER_VALSET_MAX],
                                const uint8_t *sigs[LEDGER_VALSET_MAX]);
/*  Votes of TYPE in S for HASH (NULL: for nil). */
size_t ledger_cons_slot_count(const ledger_cons_slot_t *s, uint8_t type, const uint8_t *hash);
/*  Votes of TYPE in S for anything. */
size_t ledger_cons_slot_count_any(const ledger_cons_slot_t *s, uint8_t type);

/*  Buffers a decoded next-height vote / raw next-height proposal; false if not kept. */
bool ledger_cons_future_add_vote(ledger_cons_t *c, const ledger_vote_t *v);
bool ledger_cons_future_add_proposal(ledger_cons_t *c, const ledger_proposal_t *p,
                                     const uint8_t *data, size_t len);
/*  Frees the whole future buffer. */
void ledger_cons_future_clear(ledger_cons_t *c);

/* ---- ledger_consensus_input.c ---- */

/*  The block's identity: io.hash, or ledger_vote_value_hash. False if io.hash says the
 *  bytes are not a block. */
bool ledger_cons_block_hash(const ledger_cons_t *c, const uint8_t *block, size_t len,
                            uint8_t out[static PROTO_HASH_LEN]);
/*  Checks a decoded vote / proposal (DATA, LEN: its bytes, for the next-height buffer) and
 *  stores it in its round slot; the rules are applied by the caller. PROTO_OK (also for
 *  what is ignored) or the sender's fault (PROTO_E_INVALID, PROTO_E_BAD_SIG). */
int ledger_cons_handle_vote(ledger_cons_t *c, const ledger_vote_t *v);
int ledger_cons_handle_proposal(ledger_cons_t *c, const ledger_proposal_t *p, const uint8_t *data,
                                size_t len);
/*  Feeds the buffered messages of our (new) height in and empties the buffer. */
void ledger_cons_replay_future(ledger_cons_t *c);

/* ---- ledger_consensus_sign.c ---- */

/*  True if (H, R, STEP, value) may be signed given c->last. */
bool ledger_cons_may_sign(const ledger_cons_t *c, uint64_t h, uint32_t r, uint8_t step,
                          bool has_hash, const uint8_t *hash);
/*  Makes (H, R, STEP, value) the last signed thing and persists the signing state, which
 *  includes SIG, the signature of our vote being made (NULL for a proposal). H and R are
 *  our height and round. 0, or (nothing may be sent) LEDGER_E_DOUBLE_SIGN when the guard
 *  refused, LEDGER_E_STORE when persist failed, or the record encoder's PROTO_E_* code. */
int ledger_cons_sign_prepare(ledger_cons_t *c, uint64_t h, uint32_t r, uint8_t step, bool has_hash,
                             const uint8_t *hash, const uint8_t *sig);
/*  Decodes a persisted record into REC (overwritten, not freed; its valid_block is
 *  malloc'd). PROTO_OK or error (REC then empty). */
int ledger_cons_record_decode(const uint8_t *buf, size_t len, ledger_cons_record_t *rec) PROTO_WUR;
/*  Frees REC's block and zeroes it. */
void ledger_cons_record_clear(ledger_cons_record_t *rec);
/*  Hash check through io.verify or proto_sig_verify. */
bool ledger_cons_verify(const ledger_cons_t *c, const uint8_t pk[static 32],
                        const uint8_t hash[static 32], const uint8_t sig[static 64]);

#endif
