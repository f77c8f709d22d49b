/*  node_ledger_check: check records, and the checker that fills them, for txs that reach
 *  the node from outside (RPC submissions on the connection's thread, gossiped txs on the
 *  verifier thread).
 *
 *  A check record is [int32 rc][uint32 len][len bytes]: the tx itself when rc is
 *  LEDGER_OK, else the static reason text. Records only ever travel inside the process,
 *  so they are in host byte order. The checker runs the ledger's one admission check
 *  (ledger_admit_check: parse, chain id, stateless rules, with a store a nonce already
 *  committed refused, then the signatures in batches) on chunks of
 *  NODE_LEDGER_CHECK_CHUNK txs and writes one record per tx, in the order they went in.
 */
#ifndef GENIE_NODE_LEDGER_CHECK_H
#define GENIE_NODE_LEDGER_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_admit.h"
#include "ledger/ledger_store.h"
#include "proto/proto_sigbatch.h"

/*  A growable buffer of check records; zero-initialise, free with node_ledger_recs_free. */
typedef struct {
    uint8_t *buf;
    size_t len, cap;
} node_ledger_recs_t;

/*  Appends a record (RC, N bytes of P). 0, or NODE_E_NOMEM. */
int node_ledger_recs_add(node_ledger_recs_t *b, int32_t rc, const void *p, size_t n);
/*  Next record of BUF (LEN bytes) at *OFF: *RC, *P (borrowed) and *N; false at the end or
 *  on a cut record. */
bool node_ledger_recs_next(const uint8_t *buf, size_t len, size_t *off, int32_t *rc,
                           const uint8_t **p, size_t *n);
void node_ledger_recs_free(node_ledger_recs_t *b);

#define NODE_LEDGER_CHECK_CHUNK PROTO_SIGBATCH_CHUNK

typedef struct {
    const uint8_t *tx; /* the tx, or the reason text when refused before parsing */
    size_t len;
    int32_t rc; /* LEDGER_OK: to be checked; else refused already */
} node_ledger_check_item_t;

/*  The checker: about 30 KiB, so allocate it; one per thread (the store and the key table
 *  it uses are thread-safe). Tx bytes are borrowed until the next flush. */
typedef struct {
    node_ledger_recs_t *out;
    const uint8_t *chain_id;
    ledger_store_t *store;
    proto_sigkeys_t *keys; /* may be NULL */
    size_t n;
    node_ledger_check_item_t item[NODE_LEDGER_CHECK_CHUNK];
    const uint8_t *txs[NODE_LEDGER_CHECK_CHUNK]; /* the items to check, and their verdicts */
    size_t lens[NODE_LEDGER_CHECK_CHUNK];
    ledger_admit_verdict_t verdict[NODE_LEDGER_CHECK_CHUNK];
} node_ledger_checker_t;

/*  Starts a checker writing to OUT for chain CHAIN_ID (borrowed); STORE and KEYS may be
 *  NULL (no committed-nonce check; no key table). */
void node_ledger_checker_init(node_ledger_checker_t *c, node_ledger_recs_t *out,
                              const uint8_t chain_id[static 32], ledger_store_t *store,
                              proto_sigkeys_t *keys);
/*  Adds TX (LEN bytes, borrowed). 0, or node_ledger_checker_flush's code (a full chunk is
 *  checked first). */
int node_ledger_checker_add(node_ledger_checker_t *c, const uint8_t *tx, size_t len);
/*  A tx refused before it could be parsed, with static reason text WHY. 0, or
 *  node_ledger_checker_flush's code. */
int node_ledger_checker_refuse(node_ledger_checker_t *c, int32_t rc, const char *why);
/*  Checks what was added and writes the records. 0, NODE_E_NOMEM, or ledger_admit_check's
 *  code when the check itself could not run. */
int node_ledger_checker_flush(node_ledger_checker_t *c);

/*  Checks the payload of one gossiped message of KIND (PROTO_MSG_TX, or PROTO_MSG_TX_BATCH
 *  of at most LEDGER_TX_BATCH_MAX txs) into OUT. A tx_batch that does not decode gives one
 *  LEDGER_E_MALFORMED record. 0, NODE_E_NOMEM, or
 *  node_ledger_checker_flush's code. */
int node_ledger_check_gossip(uint32_t kind, const uint8_t *data, size_t len,
                             const uint8_t chain_id[static 32], ledger_store_t *store,
                             proto_sigkeys_t *keys, node_ledger_recs_t *out);

#endif
