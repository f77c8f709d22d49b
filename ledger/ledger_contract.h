/*  ledger_contract: the registry of native contracts, one row per transaction type.
 *
 *  A native contract is a set of C functions that decode, check and apply one tx type.
 *  The framework (ledger_state_apply_tx) does everything common to all types: it checks
 *  and bumps the sender's nonce, runs the contract's apply inside a per-tx write overlay,
 *  and throws the overlay away if apply refuses the tx, so a contract never has to undo
 *  anything. At the end of every block each contract's end_block hook (if any) runs in
 *  table order. Contracts keep their data under their own state key prefix
 *  (ledger_state.h lists the prefixes).
 *
 *  Adding a contract (e.g. a Genie registry): a tx type value and body struct in
 *  ledger_tx.h, a ledger_contract_<name>.c with its functions, and one row in
 *  ledger_contract.c. Rows are static and const; there is no run-time registration.
 *
 *  Rules every contract follows:
 *  - decode_body reads exactly one msgpack value (the body) with proto_mp's strict reader
 *    and enforces every size limit; encode_body writes the same bytes back.
 *  - check is stateless and cheap; apply and admit read/write state only through
 *    ledger_state; all three return LEDGER_OK or a reason code and set *why to a static
 *    message on refusal.
 *  - apply must be deterministic: same state and tx, same writes, on every machine.
 */
#ifndef GENIE_LEDGER_CONTRACT_H
#define GENIE_LEDGER_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_tx.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"

typedef struct ledger_state_t ledger_state_t;

typedef struct {
    uint32_t type;    /* ledger_tx_type_t */
    const char *name; /* stable lowercase name, e.g. "transfer" */
    /* Reads the body into BODY. Returns PROTO_OK or a proto_err_t. */
    int (*decode_body)(proto_rd_t *r, ledger_tx_body_t *body);
    void (*encode_body)(proto_wr_t *w, const ledger_tx_body_t *body);
    /* Stateless rules. */
    int (*check)(const ledger_tx_t *tx, const char **why);
    /* Mempool sanity against committed state, nonce aside (e.g. balance covers the
       amount). NULL: nothing to check. Must not write. */
    int (*admit)(ledger_state_t *st, const ledger_tx_t *tx, const char **why);
    /* Applies TX to ST (the nonce is already checked and bumped). */
    int (*apply)(ledger_state_t *st, const ledger_tx_t *tx, const char **why);
    /* End-of-block work (e.g. authority set changes). NULL: none. LEDGER_OK or an error
       (store/memory failures only: a refusal here would make the block unappliable). */
    int (*end_block)(ledger_state_t *st);
} ledger_contract_t;

/*  Row for TYPE, or NULL if no contract handles it. */
const ledger_contract_t *ledger_contract_find(uint32_t type);

/*  All rows, in table order; *count set to their number. */
const ledger_contract_t *ledger_contract_all(size_t *count);

/* ---- the rows' functions (ledger_contract_token.c, ledger_contract_authority.c) ---- */

int ledger_contract_transfer_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_transfer_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_transfer_check(const ledger_tx_t *tx, const char **why);
int ledger_contract_transfer_admit(ledger_state_t *st, const ledger_tx_t *tx, const char **why);
int ledger_contract_transfer_apply(ledger_state_t *st, const ledger_tx_t *tx, const char **why);

int ledger_contract_auth_vote_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_auth_vote_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_auth_vote_check(const ledger_tx_t *tx, const char **why);
int ledger_contract_auth_vote_admit(ledger_state_t *st, const ledger_tx_t *tx, const char **why);
int ledger_contract_auth_vote_apply(ledger_state_t *st, const ledger_tx_t *tx, const char **why);
int ledger_contract_authority_end_block(ledger_state_t *st);

/* ---- client helpers: build and sign a tx in one call ---- */

/*  Signed TRANSFER of AMOUNT from KEY's account to TO. Returns the tx bytes (malloc'd,
 *  caller frees) and *len, or NULL on failure. */
uint8_t *ledger_contract_transfer_tx(const proto_key_t *key,
                                     const uint8_t chain_id[static LEDGER_ID_LEN], uint64_t nonce,
                                     const uint8_t to[static LEDGER_ID_LEN], uint64_t amount,
                                     size_t *len);

/*  Signed AUTH_VOTE (ACTION on SUBJECT) from KEY. Same ownership as above. */
uint8_t *ledger_contract_auth_vote_tx(const proto_key_t *key,
                                      const uint8_t chain_id[static LEDGER_ID_LEN], uint64_t nonce,
                                      uint32_t action, const uint8_t subject[static LEDGER_ID_LEN],
                                      size_t *len);

#endif
