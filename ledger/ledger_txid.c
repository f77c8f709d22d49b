/*  ledger_txid: the txid (ledger_tx_id, declared in ledger_tx.h), in a file of its own so
 *  that pure code (the light client, which enclaves link) gets it without ledger_tx.c,
 *  whose contract table reaches the ledger's state and LevelDB. */
#include "ledger/ledger_tx.h"
#include "proto/proto_key.h"

#define TXID_DOMAIN "genie/txid/v1"

void ledger_tx_id(const uint8_t *bytes, size_t len, uint8_t out[static LEDGER_ID_LEN])
{
    proto_hash(TXID_DOMAIN, bytes, len, out);
}
