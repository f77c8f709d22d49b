/*  ledger_mempool: transactions waiting for a block.
 *
 *  Admission (ledger_mempool_add) checks, cheapest first: size (LEDGER_E_TOO_BIG),
 *  encoding (LEDGER_E_MALFORMED / LEDGER_E_UNKNOWN_TYPE), duplicate txid
 *  (LEDGER_E_DUPLICATE), chain id (LEDGER_E_WRONG_CHAIN), the contract's stateless check
 *  (LEDGER_E_INVALID), the nonce against the sender's committed nonce (below:
 *  LEDGER_E_NONCE_USED, a replay; max_nonce_ahead or more above: LEDGER_E_NONCE_GAP),
 *  another pending tx with the same (from, nonce) (LEDGER_E_NONCE_TAKEN; there is no
 *  replacement, as there are no fees), the contract's admission rule against committed
 *  state (e.g. LEDGER_E_FUNDS, LEDGER_E_NOT_AUTHORITY), the bounds (LEDGER_E_FULL), and
 *  last, once, the signature (LEDGER_E_BAD_SIG). A tx that passes is never verified again
 *  on this node (ledger_block_execute skips txs the pool holds).
 *
 *  The pool is bounded in transactions, bytes and transactions per account; when full
 *  it refuses new txs (no eviction). Per account, txs are kept in nonce order;
 *  ledger_mempool_reap hands out only "ready" txs (nonces contiguous from the committed
 *  nonce), round-robin across accounts, in nonce order within each account.
 *  ledger_mempool_update, called after each commit, drops the block's txs and every
 *  tx whose nonce is now used (recorded as replaced by the block's tx with that
 *  (from, nonce), or as nonce-used when the block holds none).
 *
 *  A tx that cannot be included because an earlier nonce of its sender is missing (a
 *  nonce gap) leaves the pool once it has waited gap_expiry_ms (ledger_mempool_expire,
 *  which holds the only clock). Every tx that leaves the pool uncommitted is recorded,
 *  with its reason, in a bounded "recently dropped" index (ledger_mempool_dropped; the
 *  oldest records are forgotten first).
 *
 *  Txs marked local (ledger_mempool_set_local: accepted from this node's own clients)
 *  are listed by ledger_mempool_local, so the node can keep offering them to the network
 *  until they commit or leave the pool.
 *
 *  Not thread-safe: one thread (the node's ledger loop) owns the pool.
 */
#ifndef GENIE_LEDGER_MEMPOOL_H
#define GENIE_LEDGER_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_store.h"
#include "ledger/ledger_tx.h"

/* ledger_mempool_t is declared in ledger_block.h too */
typedef struct ledger_mempool_t ledger_mempool_t;

typedef struct {
    size_t max_txs;           /* default 40,000 */
    size_t max_bytes;         /* sum of tx sizes; default 16 MiB */
    size_t max_per_account;   /* default 1,024 */
    uint64_t max_nonce_ahead; /* nonce < committed nonce + this; default 1,024 */
    uint64_t gap_expiry_ms;   /* how long a tx may wait behind a nonce gap; default 60 s */
    size_t max_dropped;       /* records in the "recently dropped" index; default 4,096 */
} ledger_mempool_limits_t;

/*  Why a tx left the pool without being committed. */
typedef enum {
    LEDGER_DROP_EXPIRED = 1, /* waited gap_expiry_ms behind a nonce gap of its sender */
    LEDGER_DROP_REPLACED,    /* a committed tx (ledger_drop_t.by) took its (from, nonce) */
    LEDGER_DROP_NONCE_USED,  /* its nonce was used by a committed tx this pool did not see */
    LEDGER_DROP_REMOVED      /* ledger_mempool_remove (a tx that failed execution) */
} ledger_drop_reason_t;

/*  A "recently dropped" record. */
typedef struct {
    ledger_drop_reason_t reason;
    bool has_by; /* REPLACED: BY holds the txid that took its place */
    uint8_t by[LEDGER_ID_LEN];
    uint64_t nonce; /* the dropped tx's nonce */
} ledger_drop_t;

/*  A short static description of REASON ("expired behind a nonce gap", ...). */
const char *ledger_drop_reason_str(ledger_drop_reason_t reason);

/*  A tx handed out by reap: borrowed from the pool, valid until the pool next changes
 *  (add, remove, update, destroy). */
typedef struct {
    const uint8_t *bytes;
    size_t len;
    const uint8_t *txid;
} ledger_txref_t;

/*  New empty pool reading committed state from STORE (borrowed; must outlive the pool
 *  and have its genesis applied before txs are added). LIMITS may be NULL (defaults;
 *  zero fields also take defaults). NULL on allocation failure. Caller destroys. */
ledger_mempool_t *ledger_mempool_new(ledger_store_t *store, const ledger_mempool_limits_t *limits);
/*  Frees the pool and its txs; tolerates NULL; sets *self_p to NULL. */
void ledger_mempool_destroy(ledger_mempool_t **self_p);

/*  Admits the tx BYTES (LEN bytes, copied). Returns LEDGER_OK or a reason code (above)
 *  with the reason in ERR (ERR_CAP bytes, may be NULL; written only on refusal); TXID (may be NULL)
 * receives the txid whenever the tx decoded. */
int ledger_mempool_add(ledger_mempool_t *pool, const uint8_t *bytes, size_t len, uint8_t *txid,
                       char *err, size_t err_cap) PROTO_WUR;

/*  ledger_mempool_add for a tx whose signature the caller has already verified, with
 *  ledger_tx_parse(..., verify_sig = true) on these exact BYTES (e.g. on an RPC thread,
 *  so verification runs in parallel with the loop): every other check is made, the
 *  signature is not checked again. */
int ledger_mempool_add_verified(ledger_mempool_t *pool, const uint8_t *bytes, size_t len,
                                uint8_t *txid, char *err, size_t err_cap) PROTO_WUR;

/*  True when the pool is at its bound in txs, or within a largest tx of its byte bound:
 *  a new tx would most likely be refused as LEDGER_E_FULL. */
bool ledger_mempool_full(const ledger_mempool_t *pool);

/*  How many more txs the pool takes before it is full (0 when ledger_mempool_full). */
size_t ledger_mempool_room(const ledger_mempool_t *pool);

/*  The nonce a new tx from FROM should carry: COMMITTED (the account's committed nonce)
 *  plus the number of pending txs of FROM whose nonces continue it without a gap. */
uint64_t ledger_mempool_next_nonce(ledger_mempool_t *pool, const uint8_t from[static LEDGER_ID_LEN],
                                   uint64_t committed);

/*  True if the pool holds TXID. */
bool ledger_mempool_has(const ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN]);
size_t ledger_mempool_count(const ledger_mempool_t *pool);
size_t ledger_mempool_bytes(const ledger_mempool_t *pool);

/*  Fills OUT (room for MAX_TXS) with up to MAX_TXS ready txs whose sizes plus 5 bytes of
 *  framing each sum to at most MAX_BYTES, and returns how many. The txs stay in the pool
 *  until ledger_mempool_update or ledger_mempool_remove. */
size_t ledger_mempool_reap(ledger_mempool_t *pool, size_t max_txs, size_t max_bytes,
                           ledger_txref_t *out);

/*  Removes TXID (recorded as LEDGER_DROP_REMOVED); true if it was there. */
bool ledger_mempool_remove(ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN]);

/*  After BLOCK (LEN bytes) was committed to the store: removes its txs and, for each of
 *  its senders, every pending tx whose nonce is below the new committed nonce. Returns
 *  LEDGER_OK, LEDGER_E_MALFORMED (block does not decode), LEDGER_E_STORE or
 *  LEDGER_E_NOMEM (the pool stays usable either way). */
int ledger_mempool_update(ledger_mempool_t *pool, const uint8_t *block, size_t len) PROTO_WUR;

/*  Drops every tx that has waited gap_expiry_ms or longer behind a nonce gap, as seen
 *  by the calls to this function (a tx's wait starts at the first call that finds it not
 *  ready, and ends when it becomes ready): call it periodically (e.g. every second) with
 *  a wall or monotonic clock NOW_MS. Each drop is recorded as LEDGER_DROP_EXPIRED.
 *  Returns how many txs were dropped. */
size_t ledger_mempool_expire(ledger_mempool_t *pool, uint64_t now_ms);

/*  If TXID left the pool uncommitted recently (within the last max_dropped drops), fills
 *  *OUT and returns true; false otherwise (pending, committed or never seen). */
bool ledger_mempool_dropped(const ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN],
                            ledger_drop_t *out);

/*  Marks pending TXID as local (accepted from this node's own clients); false if the
 *  pool does not hold it. */
bool ledger_mempool_set_local(ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN]);

/*  Fills OUT (room for MAX) with up to MAX pending local txs, account by account in nonce
 *  order, starting after where the previous call stopped (so a bounded MAX still offers
 *  every local tx in turn), and returns how many. Borrowed as for reap. */
size_t ledger_mempool_local(ledger_mempool_t *pool, ledger_txref_t *out, size_t max);
size_t ledger_mempool_local_count(const ledger_mempool_t *pool);

#endif
