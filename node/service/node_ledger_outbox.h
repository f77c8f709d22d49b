/*  node_ledger_outbox: the node's batching of admitted txs for gossip.
 *
 *  Txs admitted from the control API wait here at most NODE_LEDGER_OUTBOX_DELAY_MS after
 *  the first one (a one-shot zloop timer), or until NODE_LEDGER_OUTBOX_TXS txs or
 *  NODE_LEDGER_OUTBOX_BYTES bytes are waiting, and then go out together: one tx alone as a
 *  PROTO_MSG_TX broadcast, more as PROTO_MSG_TX_BATCH broadcasts (ledger_tx_batch_write) of
 *  at most those limits each. So many small submissions travel as a few envelopes (each
 *  costs every peer a signature check and a verifier job). If memory runs out a tx is
 *  sent at once rather than lost.
 *
 *  Runs on the loop's thread only.
 */
#ifndef GENIE_NODE_LEDGER_OUTBOX_H
#define GENIE_NODE_LEDGER_OUTBOX_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_tx.h"

#define NODE_LEDGER_OUTBOX_TXS LEDGER_TX_BATCH_MAX /* txs in one tx_batch broadcast */
#define NODE_LEDGER_OUTBOX_BYTES (200u * 1024u)    /* tx bytes in one tx_batch broadcast */
#define NODE_LEDGER_OUTBOX_DELAY_MS 10             /* longest wait of an admitted tx */

typedef struct node_ledger_outbox_t node_ledger_outbox_t;

/*  Broadcasts DATA (borrowed) as KIND (PROTO_MSG_TX or PROTO_MSG_TX_BATCH). 0, or a negative
 *  code if it could not go out (the caller of the outbox counts that; the txs are not kept). */
typedef int (*node_ledger_outbox_send_fn)(void *ctx, uint32_t kind, const uint8_t *data,
                                          size_t len);

/*  An empty outbox on LOOP (borrowed, must outlive it) sending through SEND with CTX. NULL
 *  if memory ran out. Caller destroys. */
node_ledger_outbox_t *node_ledger_outbox_new(zloop_t *loop, node_ledger_outbox_send_fn send,
                                             void *ctx);
/*  Ends its timer and frees it, dropping what waits (flush first to send it); tolerates
 *  NULL; sets *self_p to NULL. */
void node_ledger_outbox_destroy(node_ledger_outbox_t **self_p);

/*  Queues N txs TXS[i] (LENS[i] bytes each, copied); sends what is full at once and arms
 *  the timer for the rest. */
void node_ledger_outbox_add(node_ledger_outbox_t *self, const uint8_t *const *txs,
                            const size_t *lens, size_t n);
/*  Sends everything waiting now and ends the timer. */
void node_ledger_outbox_flush(node_ledger_outbox_t *self);
/*  Txs waiting. */
size_t node_ledger_outbox_pending(const node_ledger_outbox_t *self);

#endif
