/*  ledger_block: blocks, their codec and hash, and block execution (build a block as
 *  proposer, validate and execute a received one).
 *
 *  block  = [header, txs]                       (fixed-order msgpack array of 2)
 *  header = [chain_id bin32, height uint64, prev_hash bin32, time_ms uint64,
 *            proposer bin32, round uint32, tx_root bin32, state_root bin32]
 *  txs    = array (<= LEDGER_BLOCK_MAX_TXS) of bin (each a whole tx, <= 64 KiB)
 *
 *  - block hash = H("genie/block/v1", header encoding) (the header's own bytes, which
 *    are canonical); the commit certificate signs it and is stored beside the block, not
 *    inside it.
 *  - tx_root = the Merkle root of the block's txids in block order (ledger_merkle.h:
 *    RFC 6962's tree with domains "genie/txroot/leaf/v2", "genie/txroot/node/v2", and
 *    H("genie/txroot/empty/v2", "") for a block without txs), so one tx's inclusion has
 *    a proof of log2(n) hashes (ledger_store_tx_proof, ledger_light.h).
 *  - state_root = the state root after applying this block (ledger_state.h).
 *  - Height 0 is the genesis block: prev_hash zero, proposer zero, round 0, no txs,
 *    time = genesis_time_ms, state_root = root of the genesis state
 *    (ledger_genesis_apply writes it). Block h >= 1 has prev_hash = hash(block h-1).
 *  - A whole block is at most LEDGER_BLOCK_MAX_BYTES (1 MiB less 32 KiB, so a block with
 *    its certificate and message framing fits the 1 MiB proposal / sync envelopes); the
 *    chain's genesis may set lower limits (max_block_bytes, max_block_txs).
 *
 *  Validity (ledger_block_execute): chain id is the store's; height = head + 1;
 *  prev_hash = head hash; time_ms >= head time; proposer is a current authority; within
 *  the chain's size and count limits; tx_root matches; every tx decodes, is for this
 *  chain, passes its stateless check and signature, and applies. A block with any failing
 *  tx is invalid as a whole (the proposer, who built it with ledger_block_build, leaves
 *  failing txs out); there are no failed receipts. Finally the computed state root must
 *  equal the header's.
 *
 *  How a node drives the ledger (the consensus core decides *when*):
 *    start:     ledger_genesis_load, ledger_store_open, ledger_genesis_apply,
 *               ledger_mempool_new; the head (ledger_store_head) is where consensus
 *               resumes; the validator set for height h+1 is ledger_store_authorities
 *               after block h (sorted by key bytes).
 *    tx in:     ledger_mempool_add (RPC or gossip); gossip it on LEDGER_OK.
 *    propose:   ledger_block_build -> block bytes + finished state (keep the state).
 *    validate:  ledger_block_execute(store, proposal's block, pool) -> prevote for it on
 *               LEDGER_OK (keep the state, keyed by block hash); a refusal with
 *               LEDGER_E_STORE / LEDGER_E_CORRUPT / LEDGER_E_NOMEM is this node's
 *               failure, not the block's.
 *    commit:    once a certificate verifies (ledger_cert_verify against the set above):
 *               ledger_store_commit(store, block, cert, state), then
 *               ledger_mempool_update(pool, block).
 *    sync:      for each fetched block in height order: verify its certificate against
 *               the current set, ledger_block_execute (pool NULL), ledger_store_commit.
 *  The block hash the certificate signs is ledger_block_hash (H over the header), which
 *  commits to the txs through tx_root and to the state through state_root.
 */
#ifndef GENIE_LEDGER_BLOCK_H
#define GENIE_LEDGER_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_state.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_mp.h"

#define LEDGER_BLOCK_MAX_BYTES (1024 * 1024 - 32 * 1024)
#define LEDGER_BLOCK_MAX_TXS 10000
#define LEDGER_HEADER_FIELDS 8
#define LEDGER_CERT_MAX_BYTES (16 * 1024)

typedef struct ledger_mempool_t ledger_mempool_t;

typedef struct {
    uint8_t chain_id[LEDGER_ID_LEN];
    uint64_t height;
    uint8_t prev_hash[LEDGER_ID_LEN];
    uint64_t time_ms;
    uint8_t proposer[LEDGER_ID_LEN];
    uint32_t round;
    uint8_t tx_root[LEDGER_ID_LEN];
    uint8_t state_root[LEDGER_ID_LEN];
} ledger_header_t;

/*  Reads one header value from R. PROTO_OK or a proto_err_t. */
int ledger_header_read(proto_rd_t *r, ledger_header_t *h) PROTO_WUR;
void ledger_header_write(proto_wr_t *w, const ledger_header_t *h);
/*  Block hash of H (encodes it and hashes the encoding). */
void ledger_header_hash(const ledger_header_t *h, uint8_t out[static LEDGER_ID_LEN]);

/*  tx_root of N txids (ledger_merkle_root; TXIDS may be NULL when N is 0). */
void ledger_block_tx_root(const uint8_t (*txids)[LEDGER_ID_LEN], size_t n,
                          uint8_t out[static LEDGER_ID_LEN]);

typedef struct ledger_block_t ledger_block_t;

/*  Decodes BUF (LEN bytes, copied) into a new block in *OUT (caller destroys). Returns
 *  PROTO_OK, PROTO_E_TOO_BIG over LEDGER_BLOCK_MAX_BYTES, PROTO_E_NOMEM, or the reader's
 *  error. Txs are not decoded (ledger_block_execute does it). */
int ledger_block_decode(const uint8_t *buf, size_t len, ledger_block_t **out) PROTO_WUR;
void ledger_block_destroy(ledger_block_t **self_p);

const ledger_header_t *ledger_block_header(const ledger_block_t *b);
/*  Block hash (computed at decode). */
const uint8_t *ledger_block_hash(const ledger_block_t *b);
size_t ledger_block_tx_count(const ledger_block_t *b);
/*  Bytes of tx I (owned by B). */
const uint8_t *ledger_block_tx(const ledger_block_t *b, size_t i, size_t *len);
/*  The whole encoding (owned by B). */
const uint8_t *ledger_block_bytes(const ledger_block_t *b, size_t *len);

/*  Encodes a block from H and N txs (TXS[i], LENS[i] bytes). Returns the bytes (malloc'd,
 *  caller frees) and *len, or NULL on allocation failure or over LEDGER_BLOCK_MAX_BYTES /
 *  LEDGER_BLOCK_MAX_TXS. Does not check that tx_root matches. */
uint8_t *ledger_block_encode(const ledger_header_t *h, const uint8_t *const *txs,
                             const size_t *lens, size_t n, size_t *len);

/* ---- execution ---- */

/*  Skip every signature check: only for blocks this node built itself from its own
 *  mempool (whose txs were verified on admission), and for benchmarks. */
#define LEDGER_EXEC_TRUST_SIGS 1u

/*  Validates BLOCK (LEN bytes) against STORE's head and executes it (see the rules at
 *  the top). Signatures are verified except for txs POOL (may be NULL) already holds
 *  (verified on admission), or all of them with LEDGER_EXEC_TRUST_SIGS. On LEDGER_OK,
 *  *state_out holds the block's finished write set, ready for ledger_store_commit once
 *  the block is certified (caller destroys it). Otherwise returns the reason code
 *  (ledger_err_t) with the reason in ERR (ERR_CAP bytes, may be NULL) and, in *TX_INDEX
 *  (may be NULL), the index of the offending tx, or -1 when the block itself is at fault
 *  (-1 too on success). Does not look at the certificate (the consensus core checks it). */
int ledger_block_execute(ledger_store_t *store, const uint8_t *block, size_t len,
                         ledger_mempool_t *pool, unsigned flags, ledger_state_t **state_out,
                         long *tx_index, char *err, size_t err_cap) PROTO_WUR;

typedef struct {
    uint64_t time_ms;                /* >= the head's time (raised to it if lower) */
    uint8_t proposer[LEDGER_ID_LEN]; /* this node's authority key */
    uint32_t round;
    size_t max_txs;   /* 0: the chain's limit; never above it */
    size_t max_bytes; /* 0: the chain's limit; never above it */
} ledger_build_params_t;

/*  Proposer: builds the next block on STORE's head from POOL's ready txs (in per-account
 *  nonce order, ledger_mempool_reap), applying each and leaving out those that fail;
 *  failing txs are removed from POOL unless they failed only for a nonce gap. On
 *  LEDGER_OK returns the block in *block_out (malloc'd, caller frees), *len_out, and its
 *  finished write set in *state_out (caller destroys), ready for ledger_store_commit
 *  once certified. An empty pool gives an empty block (the consensus core decides when
 *  to propose one). Errors: LEDGER_E_NOT_FOUND (no genesis), LEDGER_E_STORE,
 *  LEDGER_E_CORRUPT, LEDGER_E_NOMEM. */
int ledger_block_build(ledger_store_t *store, ledger_mempool_t *pool,
                       const ledger_build_params_t *params, uint8_t **block_out, size_t *len_out,
                       ledger_state_t **state_out) PROTO_WUR;

#endif
