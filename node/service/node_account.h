/*  node_account: the account the node signs its own transactions with.
 *
 *  A data-owner or trainer node makes txs itself (data registration, consent, trainer
 *  and model-spec registration, donor registration), so it holds one account key: the
 *  key in DATADIR/accounts/ that --account names, else the only account key there. An
 *  encrypted key is opened with $GENIE_PASSPHRASE. It is loaded once at start
 *  (node_app) and kept in locked memory (proto_key) until the node stops.
 *
 *  The enclave runner keeps its own rule (the account its platform certificate names).
 */
#ifndef GENIE_NODE_ACCOUNT_H
#define GENIE_NODE_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_key.h"

typedef struct node_app_t node_app_t;

/*  Loads the account key of DATADIR: the one whose id is ID_HEX (64 hex characters), or
 *  with ID_HEX NULL the only account key. *KEY is the key (caller destroys), or NULL when
 *  ID_HEX is NULL and there is no account key or more than one (then 0, and ERR says
 *  which). Errors: NODE_E_NOT_FOUND (no key for ID_HEX), NODE_E_FAILED (the key file
 *  cannot be read or opened: permissions, passphrase) with ERR filled. */
int node_account_load(const char *datadir, const char *id_hex, proto_key_t **key, char *err,
                      size_t err_cap) PROTO_WUR;

/*  The nonce the node account's next tx takes (its pending txs counted). 0,
 *  NODE_E_NO_ACCOUNT, or a ledger code with ERR filled. */
int node_account_nonce(node_app_t *app, uint64_t *nonce, char *err, size_t err_cap) PROTO_WUR;

/*  Submits TX (LEN bytes, borrowed; signed by the node account) through the node's own
 *  ledger: TXID (32 bytes) set. 0; LEDGER_E_SYNCING while the node is behind the network
 *  (a nonce read now may be stale); NODE_E_FAILED on a node without a ledger; or the
 *  mempool's refusal code, with ERR saying why. */
int node_account_submit(node_app_t *app, const uint8_t *tx, size_t len, uint8_t txid[static 32],
                        char *err, size_t err_cap) PROTO_WUR;

#endif
