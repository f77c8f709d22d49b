/*  node_ledger_local: what the node's other services (the enclave runner) ask of its
 *  ledger, on the loop thread: the head, an account's next nonce, whether the node is
 *  behind the network, a registered enclave, and submitting a tx the node signed itself.
 *
 *  A local submission takes the tx_submit path: the tx is admitted to the mempool (its
 *  signature checked there, on the loop), marked local (offered to the network again
 *  until it leaves the pool) and gossiped through the outbox.
 */
#ifndef GENIE_NODE_LEDGER_LOCAL_H
#define GENIE_NODE_LEDGER_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "node/service/node_ledger.h"
#include "proto/proto_err.h"

/*  The committed head's HEIGHT and block HASH (32 bytes). LEDGER_OK or a store error. */
int node_ledger_local_head(node_ledger_t *self, uint64_t *height,
                           uint8_t hash[static 32]) PROTO_WUR;

/*  The chain id (32 bytes, owned by SELF). */
const uint8_t *node_ledger_local_chain_id(const node_ledger_t *self);

/*  The nonce a new tx from account ID takes (committed nonce plus its pending txs).
 *  LEDGER_OK or a store error. */
int node_ledger_local_next_nonce(node_ledger_t *self, const uint8_t id[static 32],
                                 uint64_t *nonce) PROTO_WUR;

/*  True while the node is behind the network (a tx admitted now may read a stale state). */
bool node_ledger_local_syncing(node_ledger_t *self);

/*  Admits TX (LEN bytes, borrowed) as if a client of this node submitted it. LEDGER_OK
 *  with TXID (32 bytes, may be NULL) set, or the refusal's code with the reason in ERR
 *  (ERR_CAP bytes, may be NULL). */
int node_ledger_local_submit(node_ledger_t *self, const uint8_t *tx, size_t len, uint8_t *txid,
                             char *err, size_t err_cap) PROTO_WUR;

/*  The committed data record ID into *OUT: LEDGER_OK, LEDGER_E_NOT_FOUND or a store
 *  error. */
int node_ledger_local_data(node_ledger_t *self, const uint8_t id[static 32],
                           ledger_data_t *out) PROTO_WUR;

/*  A read-only view of the committed state (ledger_state.h, ledger_data.h reads) for the
 *  loop thread; the caller destroys it (ledger_state_destroy) before returning to the
 *  loop. NULL when out of memory. */
ledger_state_t *node_ledger_local_state(node_ledger_t *self);

/*  The committed registration of enclave ID into *OUT: LEDGER_OK, LEDGER_E_NOT_FOUND or a
 *  store error. */
int node_ledger_local_enclave(node_ledger_t *self, const uint8_t id[static 32],
                              ledger_enclave_t *out) PROTO_WUR;

/*  The canonical genesis bytes the chain id hashes (ledger_genesis_canonical; owned by
 *  SELF, *LEN bytes): what a query enclave's CHAIN request carries. */
const uint8_t *node_ledger_local_genesis(const node_ledger_t *self, size_t *len);

/*  The inclusion proof (ledger_proof.h) of committed tx TXID: *OUT (malloc'd, caller
 *  frees), *LEN, *HEIGHT (may be NULL). LEDGER_E_NOT_FOUND when not committed here, or
 *  ledger_store_tx_proof's other codes. */
int node_ledger_local_tx_proof(node_ledger_t *self, const uint8_t txid[static 32], uint8_t **out,
                               size_t *len, uint64_t *height) PROTO_WUR;

/*  The committed block at HEIGHT (>= 1) into *BLOCK / *BLOCK_LEN and, when CERT is not NULL,
 *  its commit certificate into *CERT / *CERT_LEN (each malloc'd, caller frees; nothing is
 *  left allocated on error): what a query enclave's light client is fed (CHAIN_BLOCK).
 *  LEDGER_OK, LEDGER_E_NOT_FOUND (above the head) or a store error. */
int node_ledger_local_block(node_ledger_t *self, uint64_t height, uint8_t **block,
                            size_t *block_len, uint8_t **cert, size_t *cert_len) PROTO_WUR;

#endif
