/*  ledger_admit: the one admission check of transactions, shared by the mempool's
 *  entrances (the node's RPC submissions and gossiped txs) and block execution.
 *
 *  Each tx is parsed (ledger_tx_parse: decode, chain id, the contract's stateless rules);
 *  optionally a nonce the store has already committed is refused (a replay, not worth a
 *  signature check); then the signatures of the txs still standing, and not exempted by
 *  the caller (trusted, or verified when a mempool took them), are checked together,
 *  PROTO_SIGBATCH_CHUNK at a time, with proto_sig_check_batch (the rule of
 *  proto_sigbatch.h, the one every tx signature check uses). The verdict of each tx is
 *  its own: one bad tx does not change another's.
 *
 *  Stateless apart from the optional store read; thread-safe (the store and the key table
 *  are thread-safe).
 */
#ifndef GENIE_LEDGER_ADMIT_H
#define GENIE_LEDGER_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_store.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_sigbatch.h"

typedef struct {
    int rc; /* LEDGER_OK, or the reason code (LEDGER_E_BAD_SIG, LEDGER_E_NONCE_USED,
               or ledger_tx_parse's) */
    char why[LEDGER_ERR_MAX]; /* the reason text; "" when rc is LEDGER_OK */
    ledger_tx_t tx;           /* the parsed tx when rc is LEDGER_OK (borrows the caller's bytes) */
} ledger_admit_verdict_t;

/*  Checks the N txs TXS[i] (LENS[i] bytes, borrowed; OUT[i].tx points into them) of chain
 *  CHAIN_ID into OUT[0..N). STORE (may be NULL): refuse a nonce below the sender's
 *  committed nonce. KEYS (may be NULL): a table of decoded public keys to use and fill.
 *  SKIP_SIG (may be NULL): SKIP_SIG[i] true exempts tx i from the signature check. Returns
 *  LEDGER_OK (every verdict set) or LEDGER_E_NOMEM (none to be trusted). */
int ledger_admit_check(const uint8_t *const *txs, const size_t *lens, size_t n,
                       const uint8_t chain_id[static LEDGER_ID_LEN], ledger_store_t *store,
                       proto_sigkeys_t *keys, const bool *skip_sig,
                       ledger_admit_verdict_t *out) PROTO_WUR;

#endif
