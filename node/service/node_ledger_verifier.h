/*  node_ledger_verifier: the worker thread that checks gossiped txs off the node's loop.
 *
 *  Signature checks are the costly part of admitting a tx (one Ed25519 verification, about
 *  55 us), so txs gossiped by peers (tx, tx_batch) are copied to one worker thread behind
 *  an inproc PAIR pipe, which checks each (node_ledger_check_gossip) and sends back its
 *  check records; on the loop, the verdicts callback then admits the good ones without
 *  checking them again. So a burst of txs never holds up proposals and votes waiting
 *  behind it on the loop.
 *
 *  Bounds: at most NODE_LEDGER_VERIFY_QUEUE jobs (copies of at most 256 KiB each) wait for
 *  the worker; node_ledger_verifier_submit refuses more (the caller counts the drop: a
 *  dropped tx that makes it into a block is verified when the block is executed).
 *  Answers come back in the order the jobs went out.
 */
#ifndef GENIE_NODE_LEDGER_VERIFIER_H
#define GENIE_NODE_LEDGER_VERIFIER_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_store.h"
#include "proto/proto_sigbatch.h"

#define NODE_LEDGER_VERIFY_QUEUE 32 /* jobs waiting for the worker */

typedef struct node_ledger_verifier_t node_ledger_verifier_t;

/*  Called on the loop with the check records RECS (LEN bytes, borrowed; see
 *  node_ledger_check.h) of one job, WAITED_MS after it was submitted. */
typedef void (*node_ledger_verdicts_fn)(void *ctx, const uint8_t *recs, size_t len,
                                        uint64_t waited_ms);

/*  Starts the worker for chain CHAIN_ID (copied), reading STORE (committed nonces) and
 *  filling KEYS (may be NULL), both thread-safe and borrowed: they must outlive the
 *  verifier. Verdicts come to FN (with CTX) through a reader on LOOP. NULL with one line in
 *  ERR on failure. Caller destroys. */
node_ledger_verifier_t *node_ledger_verifier_new(zloop_t *loop, const uint8_t chain_id[static 32],
                                                 ledger_store_t *store, proto_sigkeys_t *keys,
                                                 node_ledger_verdicts_fn fn, void *ctx, char *err,
                                                 size_t err_cap);
/*  Stops the worker (after the jobs it holds) and frees everything; verdicts not yet
 *  delivered are dropped. Tolerates NULL; sets *self_p to NULL. */
void node_ledger_verifier_destroy(node_ledger_verifier_t **self_p);

/*  Queues a copy of the payload DATA (LEN bytes) of a gossiped KIND (PROTO_MSG_TX or
 *  PROTO_MSG_TX_BATCH). 0; NODE_E_BUSY when the queue is full or the pipe refused it, or
 *  NODE_E_NOMEM (dropped). */
int node_ledger_verifier_submit(node_ledger_verifier_t *self, uint32_t kind, const uint8_t *data,
                                size_t len);
/*  Jobs submitted whose verdicts have not come back. */
size_t node_ledger_verifier_inflight(const node_ledger_verifier_t *self);

#endif
