/*  ledger_consensus: the sans-IO BFT consensus core of the ledger (Tendermint-style).
 *
 *  A pure state machine, one per node. It is fed signed proposals and votes (raw bytes
 *  from the network), timer expiries and "start height h" from the application, each with
 *  the current time; it answers through the io callbacks below: broadcast a message,
 *  schedule a timer, persist its signing state, ask for a block to propose, ask whether a
 *  block is valid, and report a committed block with its certificate. It owns no socket,
 *  reads no clock and draws no random numbers, so a deterministic simulation runs many
 *  cores in one process and replays any seed (tests/unit/ledger/test_consensus_sim.c).
 *
 *  The algorithm is the one of Buchman, Kwon and Milosevic, "The latest gossip on BFT
 *  consensus" (arXiv 1807.04938), with n validators of equal power, a quorum of
 *  floor(2n/3) + 1 and f + 1 = n - quorum + 1 for round skipping:
 *    - round r of height h: the proposer validators[(h + r) mod n] proposes its valid
 *      value (with pol_round = its valid round) or a new block from io.get_block;
 *    - prevote the proposal if it is valid and we are not locked on something else (or
 *      it carries a proof of lock, a quorum of prevotes at pol_round >= our locked round),
 *      else nil; prevote nil when the propose timeout fires;
 *    - a quorum of prevotes for the proposal ("polka"): lock on it and precommit it, and
 *      remember it as the valid value; a quorum of nil prevotes, or the prevote timeout
 *      after a quorum of any prevotes: precommit nil;
 *    - a quorum of precommits for a block we hold and find valid: commit (exactly once per
 *      height, through io.commit with the certificate); the precommit timeout after a
 *      quorum of any precommits: next round;
 *    - messages of a higher round from f + 1 validators: skip to the highest round that
 *      f + 1 of them have reached.
 *  Timeouts grow by delta_ms per round up to timeout_max_ms.
 *
 *  Beyond the paper, for a network that loses messages (the paper assumes that after GST
 *  whatever a correct validator received, every correct validator receives): when the core
 *  has not moved (same height, round and step) for a whole rebroadcast_ms, it re-sends its
 *  own proposal and votes of the current round, every vote it holds of the round before
 *  (so that validators still there can time out and follow), and its precommit that
 *  decided the previous height; a proposer whose proposal carries a pol_round sends the
 *  quorum of prevotes that proves it along with it. Messages for the next height are
 *  buffered (bounded) until the application starts that height.
 *
 *  Double-signing protection: before anything it signed is sent, the core hands
 *  io.persist its signing state (last height/round/step signed and the value, locked round
 *  and value, valid round, value and block bytes with the prevotes that justify them, and
 *  the votes it holds of its last two rounds); the io must make it durable before
 *  returning 0. Nothing is broadcast if persist fails (the vote is tried again on the next
 *  rebroadcast). After a crash, ledger_cons_restore() with the last persisted bytes makes
 *  the core refuse to sign anything at or below that (height, round, step) except the
 *  very same vote again, and puts it back in its round, step and lock with those votes
 *  (which the others may need to reach a quorum). Restarting without the record can make
 *  a validator double-sign. The record is small except for the valid block, which is set
 *  at most once per round and cleared by the next height.
 *
 *  Application duties: call ledger_cons_start_height(h + 1, valset') after each commit
 *  (the validator set may change with the committed block) or after its sync applied
 *  blocks fetched from peers (a lagging node is caught up by the application, not by the
 *  core); call ledger_cons_on_timeout() when a scheduled timer expires (stale timers are
 *  ignored, so timers are never cancelled). Pacing is the application's too: it decides
 *  when to start the next height (the block interval) and what io.get_block returns; a
 *  get_block that answers "nothing yet" makes the proposer ask again every
 *  propose_retry_ms while its propose step lasts (an application that wants empty blocks
 *  only every heartbeat should rather wait before starting the next height, since the
 *  other validators move to the next round when the propose timeout expires).
 *
 *  Equivocation: of a validator's votes for one (round, type) the first counts as its vote;
 *  a conflicting one is kept too (two per validator at most) and counts for the value it
 *  names, since a quorum another validator saw may rest on it (two quorums still share an
 *  honest validator, so this is safe); of a proposer's proposals the first stands. Both are
 *  counted in the stats.
 *
 *  Memory is bounded: 8 round slots per height (the votes of up to 64 validators and 64
 *  conflicting ones, and at most one proposal each: about 40 KiB), the next-height buffer
 *  (256 votes, 2 proposals), and the block copies those refer to (each at most
 *  LEDGER_PROPOSAL_BLOCK_MAX).
 *
 *  Re-entrancy: io callbacks must not call back into the core; they queue or send.
 */
#ifndef GENIE_LEDGER_CONSENSUS_H
#define GENIE_LEDGER_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_vote.h"
#include "proto/proto_key.h"
#include "proto/proto_err.h"

typedef struct ledger_cons_t ledger_cons_t;

/*  Steps of a round, and the kinds of timer the core schedules. */
typedef enum {
    LEDGER_STEP_PROPOSE = 1,
    LEDGER_STEP_PREVOTE = 2,
    LEDGER_STEP_PRECOMMIT = 3,
    LEDGER_STEP_REBROADCAST = 4,  /* timer only: re-send our messages */
    LEDGER_STEP_PROPOSE_RETRY = 5 /* timer only: ask io.get_block again */
} ledger_cons_step_t;

/*  What io.get_block answers. */
typedef enum {
    LEDGER_CONS_BLOCK_ERROR = -1,
    LEDGER_CONS_BLOCK_NOT_YET = 0, /* nothing to propose yet: ask again later */
    LEDGER_CONS_BLOCK_READY = 1
} ledger_cons_block_rc_t;

typedef struct {
    void *ctx;
    /* Sends DATA (borrowed) to every node. TYPE is PROTO_MSG_PROPOSAL or PROTO_MSG_VOTE. */
    void (*broadcast)(void *ctx, uint32_t type, const uint8_t *data, size_t len);
    /* Calls ledger_cons_on_timeout(HEIGHT, ROUND, STEP) in DELAY_MS. */
    void (*schedule_timeout)(void *ctx, uint64_t height, uint32_t round, ledger_cons_step_t step,
                             uint64_t delay_ms);
    /* Makes DATA (borrowed) durable, replacing the previous record; 0 once it is on disk,
       a negative code on failure (nothing is then signed). NULL only for a non-validator. */
    int (*persist)(void *ctx, const uint8_t *data, size_t len);
    /* A block to propose at HEIGHT: *BLOCK (borrowed until the core returns) and *LEN.
       Called only when this node is the proposer and holds no valid value. */
    ledger_cons_block_rc_t (*get_block)(void *ctx, uint64_t height, const uint8_t **block,
                                        size_t *len);
    /* True if BLOCK is valid at HEIGHT (on top of the committed chain). Called at most once
       per distinct block per height; a block the core got from get_block is not asked. */
    bool (*validate)(void *ctx, uint64_t height, const uint8_t *block, size_t len);
    /* Optional: the block's identity (e.g. its header hash); false if BLOCK cannot even be
       parsed. NULL: ledger_vote_value_hash(). Votes and certificates name this hash. */
    bool (*hash)(void *ctx, const uint8_t *block, size_t len, uint8_t out[static 32]);
    /* Optional signature check (e.g. a shared cache of verified signatures); NULL:
       proto_sig_verify(). Must answer exactly what proto_sig_verify would. */
    bool (*verify)(void *ctx, const uint8_t pk[static 32], const uint8_t *msg, size_t len,
                   const uint8_t sig[static 64]);
    /* HEIGHT is final: BLOCK (LEN bytes) with HASH, proven by the certificate CERT
       (ledger_cert_decode format). All borrowed. Called once per height. */
    void (*commit)(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                   const uint8_t hash[static 32], const uint8_t *cert, size_t cert_len);
} ledger_cons_io_t;

typedef struct {
    uint64_t timeout_propose_ms;   /* (3000) */
    uint64_t timeout_prevote_ms;   /* (1000) */
    uint64_t timeout_precommit_ms; /* (1000) */
    uint64_t timeout_delta_ms;     /* added per round to each of the three (500) */
    uint64_t timeout_max_ms;       /* cap of a grown timeout (60000) */
    uint64_t rebroadcast_ms;       /* re-send when stuck this long, 0 = never (1000) */
    uint64_t propose_retry_ms;     /* get_block said "not yet" (100) */
} ledger_cons_params_t;

/*  The defaults listed above. */
void ledger_cons_params_default(ledger_cons_params_t *p);

typedef struct {
    uint64_t proposals_in, votes_in; /* messages handed to the core */
    uint64_t malformed;              /* could not be decoded */
    uint64_t wrong_chain, not_validator, wrong_proposer, bad_hash;
    uint64_t bad_sig;
    uint64_t duplicates;          /* the same message again */
    uint64_t equivocations;       /* a validator signed two different things */
    uint64_t stale;               /* for a past height */
    uint64_t buffered, dropped;   /* future height kept / not kept */
    uint64_t rounds, round_skips; /* rounds started; rounds skipped to */
    uint64_t signed_msgs, persist_failures, sign_refused;
    uint64_t commits;
} ledger_cons_stats_t;

/*  A core for chain CHAIN_ID. KEY (borrowed, must outlive the core) is this node's
 *  validator key, or NULL for a node that only follows. IO is copied; PARAMS NULL means
 *  the defaults. NULL on allocation failure or if a validator's io lacks persist. */
ledger_cons_t *ledger_cons_new(const uint8_t chain_id[static LEDGER_CHAIN_ID_LEN],
                               const proto_key_t *key, const ledger_cons_io_t *io,
                               const ledger_cons_params_t *params);
/*  Frees everything; tolerates NULL; sets *self_p to NULL. Does not call io. */
void ledger_cons_destroy(ledger_cons_t **self_p);

/*  Loads the signing state last given to io.persist (before the first start_height).
 *  PROTO_OK, or a proto_err_t if DATA is not such a record (the core is then unchanged;
 *  running a validator without its record risks double-signing). */
int ledger_cons_restore(ledger_cons_t *self, const uint8_t *data, size_t len) PROTO_WUR;

/*  Starts consensus on HEIGHT (>= 1, above the current height) with validator set VALSET
 *  (copied, 1..LEDGER_VALSET_MAX keys): round 0, or the round of the restored record.
 *  Replays the buffered messages of HEIGHT. 0, or LEDGER_E_INVALID for a bad height or set
 *  (empty, too large, a key twice). */
int ledger_cons_start_height(ledger_cons_t *self, uint64_t height, const ledger_valset_t *valset,
                             uint64_t now_ms);

/*  A proposal / vote from the network (DATA borrowed). PROTO_OK if it was well-formed and
 *  correctly signed, or harmlessly ignored (a duplicate, another height); a proto_err_t
 *  if the sender misbehaved: malformed, PROTO_E_BAD_SIG, or PROTO_E_INVALID (another
 *  chain, a signer that is not a validator or not the proposer, a block hash that does not
 *  match the block). Counted in the stats either way. */
int ledger_cons_on_proposal(ledger_cons_t *self, const uint8_t *data, size_t len, uint64_t now_ms);
int ledger_cons_on_vote(ledger_cons_t *self, const uint8_t *data, size_t len, uint64_t now_ms);

/*  A timer scheduled through io.schedule_timeout expired. */
void ledger_cons_on_timeout(ledger_cons_t *self, uint64_t height, uint32_t round,
                            ledger_cons_step_t step, uint64_t now_ms);

/*  Current height (0 before the first start_height), round and step. */
uint64_t ledger_cons_height(const ledger_cons_t *self);
uint32_t ledger_cons_round(const ledger_cons_t *self);
ledger_cons_step_t ledger_cons_step(const ledger_cons_t *self);
/*  True once the current height is committed (until the next start_height). */
bool ledger_cons_decided(const ledger_cons_t *self);
void ledger_cons_stats(const ledger_cons_t *self, ledger_cons_stats_t *out);

#endif
