/*  ledger_sync: the sans-IO block sync core of the ledger (catching up with peers).
 *
 *  One per node, like the consensus core (ledger_consensus.h): a pure state machine fed
 *  with (input, now_ms) — a peer's STATUS, a peer's height learnt elsewhere (a proposal or
 *  vote), a unicast from a peer (SYNC_REQ or SYNC_BLOCKS), a tick — that answers through
 *  the io callbacks below: announce our STATUS, send a unicast to one peer, apply a block
 *  whose certificate it checked, and report events (penalties, progress) to the shell. It
 *  reads the committed chain only through io (head, authority set, stored blocks), owns no
 *  socket, reads no clock, writes no store, so the deterministic simulation
 *  (tests/unit/ledger/test_consensus_sim.c) runs the very code a node runs.
 *
 *  Messages (encoded and decoded here; see proto/PROTOCOL.md, "Ledger sync"):
 *    STATUS       to linked peers, kind PROTO_MSG_STATUS: [height uint, head hash bin32]
 *    SYNC_REQ     unicast [PROTO_MSG_SYNC_REQ, from uint >= 1, count uint 1..batch]
 *    SYNC_BLOCKS  unicast [PROTO_MSG_SYNC_BLOCKS, height uint, block bin, cert bin]
 *    DECIDED      node-wide gossip, kind PROTO_MSG_DECIDED: [height uint >= 1,
 *                 block bin (1..LEDGER_BLOCK_MAX_BYTES), cert bin (1..LEDGER_CERT_MAX)],
 *                 a committed block and its certificate, sent by the validators after a
 *                 commit so that followers need no consensus traffic
 *  A unicast payload is a ledger message when it is a msgpack array whose first element is
 *  one of those two types (ledger_sync_unicast_kind).
 *
 *  Behaviour:
 *    - STATUS goes out (io.broadcast: the node sends it to its linked peers only, one hop)
 *      on the first tick, when it carries news: the head moved by blocks this core
 *      applied (at most once per status_min_ms; a head moved by consensus is no news, the
 *      neighbours saw the same proposal and votes), and every status_ms as a heartbeat.
 *      A STATUS from a peer whose head is below ours is answered with our STATUS to that
 *      peer alone (io.reply, optional; at most once per status_min_ms per peer), so a
 *      node that is behind learns it at once, chain moving or not. A peer's head counts
 *      for peer_ttl_ms (at most LEDGER_SYNC_PEERS peers are remembered; the least
 *      recently seen is replaced).
 *    - When a usable peer is ahead by two blocks or more (or by one for lag_ms, which the
 *      consensus core alone would have closed) and no request is in flight, one SYNC_REQ
 *      for up to `batch` blocks from head + 1 goes to the peer ahead with the fewest
 *      failures (ties: the highest head). One request in flight at a time.
 *    - Answers are taken only from the peer asked and only for heights of the request,
 *      buffered by height (at most `batch`), and applied in height order: the block must
 *      parse as a block of that height (io.identify, which gives its hash), its certificate
 *      must decode, be for that height and verify (ledger_cert_verify) against the
 *      authority set io.valset reads, i.e. the set after the previous block (io.apply of
 *      the previous block committed it); only then io.apply executes and commits it.
 *    - No progress for timeout_ms, a malformed answer from the peer asked, or a block
 *      that fails any check counts against that peer; max_fails failures make it ignored
 *      for ignore_ms. A failed request drops what it buffered.
 *    - At most serve_per_s requests are served per second (all peers together); an answer
 *      is one SYNC_BLOCKS per block, each at most msg_max bytes.
 *    - A DECIDED (ledger_sync_on_decided) of head + 1 goes through the very checks and io.apply
 *      a synced block does (identify, certificate against io.valset, apply); one of a
 *      height at or below our head is dropped after reading its height (a copy: no crypto);
 *      one beyond head + 1 is only a hint that we are behind: if its certificate is a quorum
 *      of the set we know for the block's hash, its origin is recorded at that height and
 *      the sync above asks it for the gap (a certificate of a set we do not know yet is not
 *      believed: STATUS and the next DECIDEDs bring us there). Applying a DECIDED does not
 *      count as news for STATUS (the neighbours got the same DECIDED).
 *  Nothing a peer sends is applied without a valid certificate; nothing it sends can grow
 *  memory beyond batch buffered blocks of at most LEDGER_BLOCK_MAX_BYTES each.
 *
 *  Re-entrancy: io callbacks must not call back into this core.
 */
#ifndef GENIE_LEDGER_SYNC_H
#define GENIE_LEDGER_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"

typedef struct ledger_sync_t ledger_sync_t;

#define LEDGER_SYNC_PEERS 32     /* peers whose head is remembered */
#define LEDGER_SYNC_BATCH_MAX 64 /* upper bound of params.batch */

/*  What a unicast payload is, for the ledger (ledger_sync_unicast_kind). */
typedef enum {
    LEDGER_SYNC_MSG_NONE = 0, /* not a ledger message */
    LEDGER_SYNC_MSG_REQ = 1,
    LEDGER_SYNC_MSG_BLOCKS = 2
} ledger_sync_msg_t;

/*  Events reported through io.event (for stats, logs and peer scores). PEER is the peer
 *  concerned (NULL when none), HEIGHT the height concerned (0 when none), CODE the reason
 *  where one is named (a negative code; else 0). */
typedef enum {
    LEDGER_SYNC_EV_REQUESTED = 1, /* a SYNC_REQ went out (HEIGHT: its first block) */
    LEDGER_SYNC_EV_SEND_FAILED,   /* io.send refused a request: counts as a failure */
    LEDGER_SYNC_EV_APPLIED,       /* HEIGHT was applied (verified, executed, committed) */
    LEDGER_SYNC_EV_CAUGHT_UP,     /* a run of applied blocks ended: start consensus above */
    LEDGER_SYNC_EV_BAD_BLOCK,     /* penalty: the block is not one of HEIGHT (io.identify) */
    LEDGER_SYNC_EV_BAD_CERT,      /* penalty: the certificate does not decode (CODE) or is
                                     for another height */
    LEDGER_SYNC_EV_CERT_REFUSED,  /* penalty: the certificate does not verify (CODE) */
    LEDGER_SYNC_EV_BAD_ANSWER,    /* penalty: a malformed SYNC_BLOCKS from the peer asked */
    LEDGER_SYNC_EV_APPLY_FAILED,  /* penalty: a certified block did not apply (CODE) */
    LEDGER_SYNC_EV_MALFORMED,     /* an undecodable STATUS / SYNC_REQ / SYNC_BLOCKS (CODE) */
    LEDGER_SYNC_EV_UNASKED,       /* blocks from a peer not asked, or heights not asked */
    LEDGER_SYNC_EV_TIMEOUT,       /* penalty: the request made no progress for timeout_ms */
    LEDGER_SYNC_EV_PEER_IGNORED,  /* PEER failed max_fails times: ignored for ignore_ms */
    LEDGER_SYNC_EV_SERVED,        /* a block was sent to a syncing peer */
    LEDGER_SYNC_EV_SERVE_REFUSED, /* over serve_per_s: a request was not answered */
    LEDGER_SYNC_EV_SERVE_FAILED   /* a block could not be read or sent */
} ledger_sync_event_t;

typedef struct {
    void *ctx;
    /* The committed head: its height (0: genesis only) and hash. false if it cannot be read
       (the core then does nothing this call). */
    bool (*head)(void *ctx, uint64_t *height, uint8_t hash[static 32]);
    /* The authority set after the committed head (the set that certifies head + 1).
       false if it cannot be read. */
    bool (*valset)(void *ctx, ledger_valset_t *vs);
    /* Committed block HEIGHT and its certificate, in new buffers the core frees with free().
       false if it is not there or cannot be read. */
    bool (*read)(void *ctx, uint64_t height, uint8_t **block, size_t *len, uint8_t **cert,
                 size_t *cert_len);
    /* True if BLOCK (LEN bytes) parses as a block of HEIGHT; OUT gets the hash its
       certificate names (the consensus io.hash of the same chain). */
    bool (*identify)(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                     uint8_t out[static 32]);
    /* Executes and commits block HEIGHT (its certificate verified; all borrowed). 0, or a
       negative code if it does not execute or cannot be committed. */
    int (*apply)(void *ctx, uint64_t height, const uint8_t *block, size_t len, const uint8_t *cert,
                 size_t cert_len);
    /* Sends DATA (borrowed) by unicast to PEER. false if it cannot be sent. */
    bool (*send)(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len);
    /* Announces our STATUS payload DATA (borrowed), kind PROTO_MSG_STATUS, to the peers
       that sync from us (the node: its linked peers). false if it could not go out (tried
       again on the next tick). */
    bool (*broadcast)(void *ctx, const uint8_t *data, size_t len);
    /* Optional: sends our STATUS payload DATA (borrowed), kind PROTO_MSG_STATUS, to PEER
       alone (the answer to a peer that is behind). false if it could not go out. */
    bool (*reply)(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len);
    /* Optional: something happened (see ledger_sync_event_t). */
    void (*event)(void *ctx, ledger_sync_event_t ev, const uint8_t *peer, uint64_t height,
                  int code);
} ledger_sync_io_t;

typedef struct {
    uint32_t batch;         /* blocks in one request, 1..LEDGER_SYNC_BATCH_MAX (16) */
    uint64_t status_ms;     /* STATUS heartbeat: at least this often (30000) */
    uint64_t status_min_ms; /* a synced head is announced, and a peer behind answered, at
                               most this often (5000) */
    uint64_t peer_ttl_ms;   /* a peer's head older than this is forgotten (90000) */
    uint64_t timeout_ms;    /* no progress on a request this long: a failure (8000) */
    uint64_t lag_ms;        /* behind by one block this long: sync (2500) */
    uint32_t serve_per_s;   /* requests served per second, all peers (16) */
    uint32_t max_fails;     /* failures before a peer is ignored (3) */
    uint64_t ignore_ms;     /* how long (60000) */
    size_t msg_max;         /* largest unicast payload sent; 0: no limit (0) */
} ledger_sync_params_t;

typedef struct {
    uint64_t requests, timeouts, bad_blocks, apply_failures, synced, served, refused;
    uint64_t malformed, unasked, ignored_peers;
    uint64_t decided_applied, decided_old, decided_ahead, decided_refused; /* DECIDEDs */
} ledger_sync_stats_t;

/*  What a DECIDED did (ledger_sync_on_decided). */
typedef enum {
    LEDGER_SYNC_DECIDED_REFUSED = 0, /* malformed, or a check failed: nothing changed */
    LEDGER_SYNC_DECIDED_APPLIED = 1, /* the block of head + 1: checked and applied */
    LEDGER_SYNC_DECIDED_OLD = 2,     /* a height at or below our head: dropped */
    LEDGER_SYNC_DECIDED_AHEAD = 3    /* beyond head + 1, certified: the sync will catch up */
} ledger_sync_decided_t;

/*  A DECIDED's fields, views into the buffer read (valid while it is). */
typedef struct {
    uint64_t height;
    const uint8_t *block;
    size_t len;
    const uint8_t *cert;
    size_t cert_len;
} ledger_sync_decided_msg_t;

/*  The defaults listed above. */
void ledger_sync_params_default(ledger_sync_params_t *p);

/*  A core for chain CHAIN_ID. IO is copied (every callback but event is required);
 *  PARAMS NULL means the defaults. NULL on allocation failure or bad params. Caller
 *  destroys. */
ledger_sync_t *ledger_sync_new(const uint8_t chain_id[static LEDGER_CHAIN_ID_LEN],
                               const ledger_sync_io_t *io, const ledger_sync_params_t *params);
/*  Frees everything (buffered blocks included); tolerates NULL; sets *self_p to NULL. */
void ledger_sync_destroy(ledger_sync_t **self_p);

/*  Periodic work: our STATUS when due, the timeout of the request in flight, a new request
 *  when a usable peer is ahead. Call every few hundred ms. */
void ledger_sync_tick(ledger_sync_t *self, uint64_t now_ms);

/*  Peer FROM has committed HEIGHT (a STATUS, or a proposal / vote of HEIGHT + 1 whose
 *  signature the caller checked when HEIGHT is beyond our head). */
void ledger_sync_peer_seen(ledger_sync_t *self, const uint8_t from[static 32], uint64_t height,
                           uint64_t now_ms);

/*  A STATUS from FROM (DATA borrowed; a neighbour's unicast, or an earlier node's gossip).
 *  PROTO_OK, or a PROTO_E_* code if it is malformed (nothing changes). */
int ledger_sync_on_status(ledger_sync_t *self, const uint8_t from[static 32], const uint8_t *data,
                          size_t len, uint64_t now_ms) PROTO_WUR;

/*  A ledger unicast (SYNC_REQ or SYNC_BLOCKS) from FROM (DATA borrowed): a request is
 *  served (bounded), blocks are buffered and applied when their turn comes. PROTO_OK, or a
 *  PROTO_E_* code if it is malformed (then, from the peer asked, the request fails). */
int ledger_sync_on_unicast(ledger_sync_t *self, const uint8_t from[static 32], const uint8_t *data,
                           size_t len, uint64_t now_ms) PROTO_WUR;

/*  A DECIDED from FROM (the gossip's origin; DATA borrowed), see the behaviour above.
 *  *WHAT says what it did. PROTO_OK when it was applied, dropped as old or taken as a
 *  hint; else the reason it was refused (a PROTO_E_* decoding code, PROTO_E_INVALID /
 *  PROTO_E_BAD_SIG for a block or certificate that does not check, io.apply's code), with
 *  the event reported. */
int ledger_sync_on_decided(ledger_sync_t *self, const uint8_t from[static 32], const uint8_t *data,
                           size_t len, uint64_t now_ms, ledger_sync_decided_t *what) PROTO_WUR;

/*  Reads a DECIDED payload strictly (exact arity, bounds, height >= 1, block and
 *  certificate not empty) into OUT (views into DATA). PROTO_OK or a PROTO_E_* code (OUT
 *  zeroed). Nothing is verified. */
int ledger_sync_decided_read(const uint8_t *data, size_t len,
                             ledger_sync_decided_msg_t *out) PROTO_WUR;

/*  What unicast payload DATA (LEN bytes) is: a ledger SYNC_REQ, SYNC_BLOCKS, or none
 *  (the payload's first element, read with the strict reader; nothing else is checked). */
ledger_sync_msg_t ledger_sync_unicast_kind(const uint8_t *data, size_t len);

/*  True while a request is in flight. */
bool ledger_sync_busy(const ledger_sync_t *self);
/*  The highest head a usable peer reported (0 if none). */
uint64_t ledger_sync_best_height(const ledger_sync_t *self, uint64_t now_ms);
void ledger_sync_stats(const ledger_sync_t *self, ledger_sync_stats_t *out);

/*  Encoders of the four messages, for the shell's and the tests' use: a new buffer in
 *  *OUT (caller frees). PROTO_OK or PROTO_E_NOMEM. */
int ledger_sync_status_encode(uint64_t height, const uint8_t hash[static 32], uint8_t **out,
                              size_t *out_len) PROTO_WUR;
int ledger_sync_req_encode(uint64_t from, uint64_t count, uint8_t **out, size_t *out_len) PROTO_WUR;
int ledger_sync_blocks_encode(uint64_t height, const uint8_t *block, size_t len,
                              const uint8_t *cert, size_t cert_len, uint8_t **out,
                              size_t *out_len) PROTO_WUR;
int ledger_sync_decided_encode(uint64_t height, const uint8_t *block, size_t len,
                               const uint8_t *cert, size_t cert_len, uint8_t **out,
                               size_t *out_len) PROTO_WUR;

#endif
