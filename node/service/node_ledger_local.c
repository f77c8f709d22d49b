/*  node_ledger_local: the ledger as the node's other services see it (see
 *  node_ledger_local.h). Reads go to the committed store; a submission goes through
 *  nl_admit like an RPC client's tx.
 */
#include "node/service/node_ledger_local.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_state.h"
#include "node/service/node_ledger_int.h"

int node_ledger_local_head(node_ledger_t *self, uint64_t *height, uint8_t hash[static 32])
{
    ledger_head_t h;
    int rc = ledger_store_head(self->store, &h);
    if (rc != LEDGER_OK)
        return rc;
    *height = h.height;
    memcpy(hash, h.hash, 32);
    return LEDGER_OK;
}

const uint8_t *node_ledger_local_chain_id(const node_ledger_t *self)
{
    return self->chain_id;
}

int node_ledger_local_next_nonce(node_ledger_t *self, const uint8_t id[static 32], uint64_t *nonce)
{
    ledger_account_t a;
    int rc = ledger_store_account(self->store, id, &a);
    if (rc != LEDGER_OK)
        return rc;
    *nonce = ledger_mempool_next_nonce(self->pool, id, a.nonce);
    return LEDGER_OK;
}

bool node_ledger_local_syncing(node_ledger_t *self)
{
    uint64_t head = 0, best = 0;
    return self->sync && node_ledger_sync_behind(self->sync, nl_now(), &head, &best);
}

int node_ledger_local_submit(node_ledger_t *self, const uint8_t *tx, size_t len, uint8_t *txid,
                             char *err, size_t err_cap)
{
    uint8_t id[32];
    int rc = nl_admit(self, tx, len, false, id, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    ledger_mempool_set_local(self->pool, id);
    const uint8_t *txs[1] = {tx};
    size_t lens[1] = {len};
    nl_gossip_txs(self, txs, lens, 1);
    nl_pace_check(self);
    if (txid)
        memcpy(txid, id, 32);
    return LEDGER_OK;
}

int node_ledger_local_enclave(node_ledger_t *self, const uint8_t id[static 32],
                              ledger_enclave_t *out)
{
    ledger_state_t *st = ledger_state_new(self->store);
    if (!st)
        return LEDGER_E_NOMEM;
    int rc = ledger_enclave_get(st, id, out);
    ledger_state_destroy(&st);
    return rc;
}

ledger_state_t *node_ledger_local_state(node_ledger_t *self)
{
    return ledger_state_new(self->store);
}

int node_ledger_local_data(node_ledger_t *self, const uint8_t id[static 32], ledger_data_t *out)
{
    ledger_state_t *st = ledger_state_new(self->store);
    if (!st)
        return LEDGER_E_NOMEM;
    int rc = ledger_data_get(st, id, out);
    ledger_state_destroy(&st);
    return rc;
}

const uint8_t *node_ledger_local_genesis(const node_ledger_t *self, size_t *len)
{
    return ledger_genesis_canonical(self->genesis, len);
}

int node_ledger_local_tx_proof(node_ledger_t *self, const uint8_t txid[static 32], uint8_t **out,
                               size_t *len, uint64_t *height)
{
    return ledger_store_tx_proof(self->store, txid, out, len, height);
}

int node_ledger_local_block(node_ledger_t *self, uint64_t height, uint8_t **block,
                            size_t *block_len, uint8_t **cert, size_t *cert_len)
{
    *block = NULL;
    int rc = ledger_store_block(self->store, height, block, block_len);
    if (rc == LEDGER_OK && cert) {
        *cert = NULL;
        rc = ledger_store_cert(self->store, height, cert, cert_len);
        if (rc != LEDGER_OK) {
            free(*block);
            *block = NULL;
        }
    }
    return rc;
}
