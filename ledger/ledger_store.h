/*  ledger_store: the ledger's LevelDB database: blocks, certificates, state, indexes.
 *
 *  Each commit writes a block, its commit certificate (opaque bytes, at most
 *  LEDGER_CERT_MAX_BYTES; the node verifies it with the consensus core before calling
 *  commit), the block's state writes (ledger_state) and its indexes in ONE LevelDB write
 *  batch written with sync=true. A crash at any moment therefore leaves the database at
 *  the last committed block, whole. On open the head is read back and checked: the head
 *  block is readable, hashes to the head hash, and its header's state root equals the
 *  stored current root; otherwise the open fails with LEDGER_E_CORRUPT.
 *
 *  Keys (store keys start with an uppercase letter, state keys with a lowercase one,
 *  ledger_state.h; integers big-endian so heights sort in order):
 *      'B' height u64        -> block bytes
 *      'C' height u64        -> certificate bytes (empty for the genesis block)
 *      'H' block hash[32]    -> height u64
 *      'T' txid[32]          -> height u64 || index u32 || status u8 (0 = applied)
 *      'M' 'h'               -> head: height u64 || hash[32] || state_root[32] || time_ms u64
 *      'M' 'c'               -> chain: chain_id[32] || max_block_bytes u64 || max_block_txs u64
 *
 *  LevelDB errors are logged (LEDGER category) and returned as LEDGER_E_STORE; they are
 *  never passed up raw. Reads may be called from any thread (LevelDB is thread-safe and
 *  the cached head is locked); commits come from one thread (the node's ledger loop).
 */
#ifndef GENIE_LEDGER_STORE_H
#define GENIE_LEDGER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_state.h"
#include "ledger/ledger_tx.h"

/* ledger_store_t is declared in ledger_state.h */

typedef struct {
    uint64_t height;
    uint8_t hash[LEDGER_ID_LEN];
    uint8_t state_root[LEDGER_ID_LEN];
    uint64_t time_ms;
} ledger_head_t;

/*  What the store must know of the chain to validate blocks (from genesis). */
typedef struct {
    uint8_t chain_id[LEDGER_ID_LEN];
    uint64_t max_block_bytes;
    uint64_t max_block_txs;
} ledger_chain_t;

typedef struct {
    uint64_t height;
    uint32_t index;
    uint8_t status; /* 0: applied (version 1 blocks hold only applied txs) */
} ledger_txloc_t;

/*  The nice value of LevelDB's compaction thread, which the first store opened in a
 *  process starts (see ledger_store_open in ledger_store.c): compactions yield the CPU to
 *  the threads that decide and execute blocks. */
#define LEDGER_STORE_COMPACTION_NICE 10

/*  Opens (creating if needed) the database in directory DIR. On success *OUT is the store
 *  (caller destroys). Errors: LEDGER_E_STORE (cannot open, e.g. locked by another
 *  process) or LEDGER_E_CORRUPT (inconsistent head), with a message in ERR (ERRLEN bytes,
 *  may be NULL). A fresh store has no head until ledger_genesis_apply. */
int ledger_store_open(const char *dir, ledger_store_t **out, char *err, size_t errlen) PROTO_WUR;
/*  Closes the database; tolerates NULL; sets *self_p to NULL. */
void ledger_store_destroy(ledger_store_t **self_p);

/*  Head of the chain: LEDGER_OK, or LEDGER_E_NOT_FOUND before genesis. */
int ledger_store_head(ledger_store_t *s, ledger_head_t *out) PROTO_WUR;
/*  Chain parameters: LEDGER_OK, or LEDGER_E_NOT_FOUND before genesis. */
int ledger_store_chain(ledger_store_t *s, ledger_chain_t *out) PROTO_WUR;

/*  Commits block BLOCK (LEN bytes) at height head + 1 with certificate CERT (CERT_LEN
 *  bytes, 1..LEDGER_CERT_MAX_BYTES, opaque here) and the block's finished write set
 *  STATE (from ledger_block_execute or ledger_block_build, on this store's current
 *  head). Checks that the block decodes, follows the head, is for this chain and carries
 *  STATE's root; then writes everything in one synced batch. LEDGER_OK, or
 *  LEDGER_E_BAD_BLOCK / LEDGER_E_TOO_BIG (misuse), LEDGER_E_STORE, LEDGER_E_NOMEM. */
int ledger_store_commit(ledger_store_t *s, const uint8_t *block, size_t len, const uint8_t *cert,
                        size_t cert_len, const ledger_state_t *state) PROTO_WUR;

/*  Commits the genesis block (height 0, no certificate) with CHAIN's parameters and the
 *  genesis state, into an empty store (ledger_genesis_apply calls it). */
int ledger_store_commit_genesis(ledger_store_t *s, const ledger_chain_t *chain,
                                const uint8_t *block, size_t len,
                                const ledger_state_t *state) PROTO_WUR;

/* ---- reads: LEDGER_OK, LEDGER_E_NOT_FOUND, LEDGER_E_STORE, LEDGER_E_NOMEM ---- */

/*  Block at HEIGHT: *block (malloc'd, caller frees), *len. */
int ledger_store_block(ledger_store_t *s, uint64_t height, uint8_t **block, size_t *len) PROTO_WUR;
/*  Certificate of the block at HEIGHT: *cert (malloc'd, caller frees; empty at 0). */
int ledger_store_cert(ledger_store_t *s, uint64_t height, uint8_t **cert, size_t *len) PROTO_WUR;
/*  Height of the block with hash HASH. */
int ledger_store_height_of(ledger_store_t *s, const uint8_t hash[static LEDGER_ID_LEN],
                           uint64_t *height) PROTO_WUR;
/*  Block with hash HASH (*height may be NULL). */
int ledger_store_block_by_hash(ledger_store_t *s, const uint8_t hash[static LEDGER_ID_LEN],
                               uint64_t *height, uint8_t **block, size_t *len) PROTO_WUR;
/*  Where the tx TXID was committed. */
int ledger_store_tx(ledger_store_t *s, const uint8_t txid[static LEDGER_ID_LEN],
                    ledger_txloc_t *out) PROTO_WUR;
/*  Inclusion proof (ledger_proof.h) of the committed tx TXID: its block's header and
 *  certificate, the tx, and its Merkle audit path. *OUT (malloc'd, caller frees), *LEN,
 *  and *HEIGHT (may be NULL) the block's height. LEDGER_E_NOT_FOUND for a tx this store
 *  has not committed, LEDGER_E_CORRUPT when the stored block does not hold it as indexed,
 *  LEDGER_E_TOO_BIG if the proof would pass LEDGER_PROOF_MAX_BYTES (a certificate larger
 *  than any real one), LEDGER_E_STORE, LEDGER_E_NOMEM. */
int ledger_store_tx_proof(ledger_store_t *s, const uint8_t txid[static LEDGER_ID_LEN],
                          uint8_t **out, size_t *len, uint64_t *height) PROTO_WUR;
/*  Committed account PUB (zero balance and nonce if never seen: LEDGER_OK). */
int ledger_store_account(ledger_store_t *s, const uint8_t pub[static LEDGER_ID_LEN],
                         ledger_account_t *out) PROTO_WUR;
/*  Committed authority set (sorted) into OUT (room for LEDGER_AUTHORITIES_MAX). */
int ledger_store_authorities(ledger_store_t *s, uint8_t out[][LEDGER_ID_LEN], size_t *n) PROTO_WUR;

/*  Raw read of KEY: *val (malloc'd, caller frees, non-NULL even if empty). */
int ledger_store_get(ledger_store_t *s, const uint8_t *key, size_t klen, uint8_t **val,
                     size_t *vlen) PROTO_WUR;
/*  Raw read into BUF (CAP bytes): LEDGER_E_CORRUPT if the value is larger. */
int ledger_store_get_small(ledger_store_t *s, const uint8_t *key, size_t klen, uint8_t *buf,
                           size_t cap, size_t *vlen) PROTO_WUR;

/*  Bytes the database files take on disk (approximate, from LevelDB). */
uint64_t ledger_store_disk_size(ledger_store_t *s);

/*  LevelDB reads table files through read-only shared mappings, so every table page it
 *  touches (lookups, compaction) would stay counted in the process's resident set until
 *  the table is closed: the resident set would grow with the database (ledger_trim.h).
 *  ledger_store_open therefore starts a trimmer thread (ledger_store_trim_start) that
 *  drops those pages from the resident set within LEDGER_TRIM_POLL_MS of them growing by
 *  LEDGER_TRIM_GROW_BYTES (and only then); if the thread cannot
 *  start, the open still succeeds (logged), the store only uses more memory.
 *  ledger_store_destroy stops it first, before LevelDB closes.
 *
 *  One trim pass now, from any thread, with or without the trimmer: MADV_PAGEOUT on the
 *  mappings of this store's .ldb files found in /proc/self/maps, each checked first to be
 *  still that file's mapping (ledger_trim_pass). The data stays on disk and the next read
 *  faults it back in. Returns the bytes of mappings advised, or -1 if /proc/self/maps
 *  cannot be read. */
long ledger_store_trim_resident(ledger_store_t *s);
/*  Starts the trimmer thread if it is not running (ledger_store_open does). */
void ledger_store_trim_start(ledger_store_t *s);
/*  Stops and joins the trimmer thread if it runs (ledger_store_destroy does), for callers
 *  that trim on their own schedule; returns at once, without waiting for a poll period.
 *  Start and stop are called from the thread that owns the store, never concurrently. */
void ledger_store_trim_stop(ledger_store_t *s);

#endif
