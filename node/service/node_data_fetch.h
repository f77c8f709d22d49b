/*  node_data_fetch: moving a data owner's encrypted blob (enclave/enclave_blob.h) from the
 *  owner's node to an enclave-runner by p2p unicast, for a key-authorization donation
 *  (issue 15), and its two messages (proto/PROTOCOL.md, "Enclave relay"):
 *
 *    unicast kind 67 DATA_FETCH [67, fetch_id uint, address bin32, offset uint, max uint]
 *    unicast kind 68 DATA_CHUNK [68, fetch_id uint, error uint, total uint, offset uint,
 *                                bytes bin]
 *
 *  The runner asks the owner's node for the blob whose content address (BLAKE2b-256 of
 *  the blob, registered on the ledger by DATA_REGISTER) is ADDRESS, one chunk at a time:
 *  bytes [offset, offset + max) of it. The owner answers with a DATA_CHUNK of the same
 *  fetch_id: error 0, the blob's total length, the offset asked for and at most max bytes
 *  from it; or an error (the negated genie code: NODE_E_NOT_FOUND, NODE_E_BUSY, ...) with
 *  total, offset 0 and no bytes. Only ciphertext moves: the blob is what the owner's store
 *  holds, encrypted under a data key the runner never sees (the key travels in a grant
 *  sealed to the enclave).
 *
 *  Codecs are strict (proto_mp's bounded reader, exact arity, canonical encodings, no
 *  trailing bytes) and fuzzed (tests/fuzz/fuzz_data_fetch.c). Bounds: max is 1 ..
 *  NODE_DATA_FETCH_CHUNK_MAX (512 KiB); bytes at most NODE_DATA_FETCH_CHUNK_MAX; total at
 *  most NODE_DATA_FETCH_TOTAL_MAX (what one enclave request can carry); a chunk lies inside
 *  the blob (offset + len <= total) and is not empty unless offset == total.
 *
 *  The object is sans-IO: it never touches a socket, a timer or the clock. It sends through
 *  the SEND callback it is given, learns time from the NOW_MS arguments, and reads blobs
 *  through GET_BLOB, so it depends neither on the p2p node nor on the data store. Wiring
 *  it into a node (done by the node's enclave relay):
 *    - SEND wraps p2p_node_send(p2p, peer, kind, data, len, ...) (kinds 67 and 68);
 *    - the node's unicast routing hands kinds 67 and 68 to node_data_fetch_on_unicast;
 *    - a loop timer calls node_data_fetch_tick every ~NODE_DATA_FETCH_TICK_MS while
 *      node_data_fetch_busy() (timeouts, idle served transfers);
 *    - on a data owner's node GET_BLOB reads its store (node_data_blob); on a node
 *      without a store it is NULL and every DATA_FETCH gets NODE_E_NOT_FOUND.
 *
 *  Serving side: at most NODE_DATA_FETCH_SERVE_PER_PEER transfers served to one peer at a
 *  time and NODE_DATA_FETCH_SERVE_MAX in all (a new fetch_id beyond that gets NODE_E_BUSY);
 *  a transfer's blob is read once (GET_BLOB) and kept until its last byte was sent or it
 *  has been idle NODE_DATA_FETCH_IDLE_MS; each chunk sent is at most NODE_DATA_FETCH_SEND_MAX
 *  bytes (what fits one unicast payload, P2P_PAYLOAD_MAX) even if max asks for more. An
 *  optional ALLOW callback can refuse a peer or an address (NODE_E_NOT_FOUND: a refusal does
 *  not tell whether the blob exists).
 *
 *  Fetching side: node_data_fetch_start asks PEER for ADDRESS, chunk after chunk (one in
 *  flight per transfer, in order), reassembles, and on the last byte checks BLAKE2b-256 of
 *  the whole == ADDRESS; then the callback gets the blob. A chunk from another peer or for
 *  an unknown fetch id is ignored; a chunk at another offset than the one asked for, a
 *  total over the caller's bound or changing between chunks, more bytes than asked, or a
 *  wrong hash end the transfer with NODE_E_FETCH; a peer's error ends it with that code;
 *  no progress by the deadline ends it with NODE_E_TIMEOUT. At most NODE_DATA_FETCH_MAX
 *  transfers at a time.
 */
#ifndef GENIE_NODE_DATA_FETCH_H
#define GENIE_NODE_DATA_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/* Codec bound on max and on a chunk's bytes. */
#define NODE_DATA_FETCH_CHUNK_MAX (512u * 1024u)
/* Largest blob a transfer may carry (ENCLAVE_WIRE_MAX_BLOB: one enclave request). */
#define NODE_DATA_FETCH_TOTAL_MAX (16u * 1024u * 1024u - 4096u)
/* Bytes a server puts in one DATA_CHUNK at most (fits one unicast payload, P2P_UNICAST_MAX,
   with the message's own fields), and what a fetcher asks for per chunk. */
#define NODE_DATA_FETCH_SEND_MAX NODE_DATA_FETCH_CHUNK_MAX
/* Serving bounds. */
#define NODE_DATA_FETCH_SERVE_PER_PEER 4
#define NODE_DATA_FETCH_SERVE_MAX 32
#define NODE_DATA_FETCH_IDLE_MS 30000u
/* Fetching bounds. */
#define NODE_DATA_FETCH_MAX 16
#define NODE_DATA_FETCH_TIMEOUT_MS 30000u /* default: no chunk for this long ends a fetch */
/* How often the node should call node_data_fetch_tick while busy. */
#define NODE_DATA_FETCH_TICK_MS 1000u

/*  Decoded messages (byte fields point into the decoded buffer). */
typedef struct {
    uint64_t fetch_id;
    uint8_t address[32];
    uint64_t offset;
    uint32_t max; /* 1 .. NODE_DATA_FETCH_CHUNK_MAX */
} node_data_fetch_msg_t;

typedef struct {
    uint64_t fetch_id;
    uint32_t error; /* 0, or the negated genie code (then total, offset 0 and no bytes) */
    uint64_t total;
    uint64_t offset;
    const uint8_t *bytes;
    size_t len;
} node_data_chunk_msg_t;

/*  Encoders: *OUT malloc'd (caller frees), *OUT_LEN bytes. PROTO_OK, PROTO_E_INVALID (a
 *  field breaks a rule above) or PROTO_E_NOMEM. */
int node_data_fetch_encode(const node_data_fetch_msg_t *m, uint8_t **out,
                           size_t *out_len) PROTO_WUR;
int node_data_chunk_encode(const node_data_chunk_msg_t *m, uint8_t **out,
                           size_t *out_len) PROTO_WUR;
/*  Strict decoders of BUF (LEN bytes, borrowed: *OUT points into it). PROTO_OK, the
 *  reader's code (PROTO_E_TRUNCATED, _TYPE, _ARITY, _TOO_LONG, _RANGE, _NONCANONICAL,
 *  _TRAILING), or PROTO_E_INVALID (a rule above: wrong kind, max 0, a chunk outside the
 *  blob, an error with a body). *OUT is zeroed on failure. */
int node_data_fetch_decode(const uint8_t *buf, size_t len, node_data_fetch_msg_t *out) PROTO_WUR;
int node_data_chunk_decode(const uint8_t *buf, size_t len, node_data_chunk_msg_t *out) PROTO_WUR;

/*  Sends DATA (LEN bytes, borrowed) of unicast KIND (67 or 68) to PEER. 0 if queued, or a
 *  negative code (the object then treats the message as lost: a fetch fails at once). */
typedef int (*node_data_fetch_send_fn)(void *ctx, const uint8_t peer[32], uint32_t kind,
                                       const uint8_t *data, size_t len);
/*  The blob stored under ADDRESS: *BLOB malloc'd (the object frees it), *LEN. 0,
 *  NODE_E_NOT_FOUND, or another negative code (sent to the asker as the error). */
typedef int (*node_data_fetch_get_blob_fn)(void *ctx, const uint8_t address[32], uint8_t **blob,
                                           size_t *len);
/*  Whether PEER may fetch ADDRESS (optional). */
typedef bool (*node_data_fetch_allow_fn)(void *ctx, const uint8_t peer[32],
                                         const uint8_t address[32]);
/*  A transfer ended: RC 0 and BLOB (LEN bytes, borrowed for the call; its BLAKE2b-256 is
 *  the address asked for), or a negative code (NODE_E_FETCH, NODE_E_TIMEOUT, the peer's
 *  code, NODE_E_BUSY...) with WHY saying what happened. Runs exactly once per started
 *  transfer, from node_data_fetch_on_unicast, _tick or _destroy (rc NODE_E_FAILED, "shut
 *  down"), never from inside node_data_fetch_start. It must not destroy the object. */
typedef void (*node_data_fetch_done_fn)(void *ctx, int rc, const uint8_t *blob, size_t len,
                                        const char *why);

typedef struct {
    node_data_fetch_send_fn send;         /* required */
    node_data_fetch_get_blob_fn get_blob; /* NULL: this node serves nothing */
    node_data_fetch_allow_fn allow;       /* NULL: any peer may fetch any stored blob */
    void *ctx;                            /* passed to the three */
    uint64_t first_id; /* the first fetch id (then +1 each); 0: a random start, so a restarted
                          node does not reuse ids a peer still serves. Tests and simulations
                          set it to replay exactly. */
} node_data_fetch_io_t;

typedef struct node_data_fetch_t node_data_fetch_t;

/*  A fetcher and server talking through IO (copied). NULL without IO->send or out of
 *  memory. */
node_data_fetch_t *node_data_fetch_new(const node_data_fetch_io_t *io);
/*  Ends every transfer (their callbacks run with NODE_E_FAILED), frees every served blob;
 *  tolerates NULL; sets *self_p to NULL. */
void node_data_fetch_destroy(node_data_fetch_t **self_p);

/*  Starts fetching the blob ADDRESS from PEER, at most MAX_TOTAL bytes (1 ..
 *  NODE_DATA_FETCH_TOTAL_MAX), failing if no chunk arrives for TIMEOUT_MS (0: the default)
 *  from NOW_MS on. DONE(DONE_CTX, ...) runs once when it ends. *FETCH_ID (may be NULL)
 *  gets its id. Returns 0 (DONE will run), or NODE_E_PARAMS, NODE_E_BUSY (NODE_DATA_FETCH_MAX
 *  under way), PROTO_E_NOMEM or SEND's code (DONE will not run). */
int node_data_fetch_start(node_data_fetch_t *self, const uint8_t peer[static 32],
                          const uint8_t address[static 32], size_t max_total, uint32_t timeout_ms,
                          uint64_t now_ms, node_data_fetch_done_fn done, void *done_ctx,
                          uint64_t *fetch_id) PROTO_WUR;
/*  Ends transfer FETCH_ID without calling its callback (the caller gave up). True if it
 *  was under way. */
bool node_data_fetch_cancel(node_data_fetch_t *self, uint64_t fetch_id);

/*  Handles a unicast of KIND (67 or 68) from FROM (DATA, LEN borrowed) at NOW_MS: serves a
 *  DATA_FETCH, or feeds a DATA_CHUNK to its transfer. Returns 0 (handled or harmlessly
 *  ignored: a late chunk of an ended transfer), PROTO_E_* (malformed: the node may score
 *  the peer), or PROTO_E_UNKNOWN_TYPE (another kind). */
int node_data_fetch_on_unicast(node_data_fetch_t *self, const uint8_t from[static 32],
                               uint32_t kind, const uint8_t *data, size_t len, uint64_t now_ms);

/*  Ends transfers past their deadline (NODE_E_TIMEOUT) and forgets served transfers idle
 *  for NODE_DATA_FETCH_IDLE_MS. */
void node_data_fetch_tick(node_data_fetch_t *self, uint64_t now_ms);
/*  True while a transfer is fetched or served (the node keeps its tick timer running). */
bool node_data_fetch_busy(const node_data_fetch_t *self);

/*  Counts, for tests and status. */
typedef struct {
    size_t fetching; /* transfers under way */
    size_t serving;  /* transfers being served */
    uint64_t chunks_served;
    uint64_t refused_busy; /* DATA_FETCHes refused by the serving bounds */
} node_data_fetch_stats_t;
void node_data_fetch_stats(const node_data_fetch_t *self, node_data_fetch_stats_t *out);

#endif
