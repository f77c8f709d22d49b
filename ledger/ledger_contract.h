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
 *    ledger_state; all three return LEDGER_OK or a reason code, and on refusal write the
 *    reason into the optional buffer `char *err, size_t err_cap` with proto_err_fail
 *    (never on success: these run for every tx of every block).
 *  - apply must be deterministic: same state and tx, same writes, on every machine.
 */
#ifndef GENIE_LEDGER_CONTRACT_H
#define GENIE_LEDGER_CONTRACT_H

#include <stdbool.h>
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
    /* Stateless rules. NULL: the body's decode is its whole check. */
    int (*check)(const ledger_tx_t *tx, char *err, size_t err_cap);
    /* Mempool sanity against committed state, nonce aside (e.g. balance covers the
       amount). NULL: nothing to check. Must not write. */
    int (*admit)(ledger_state_t *st, const ledger_tx_t *tx, char *err, size_t err_cap);
    /* Applies TX to ST (the nonce is already checked and bumped). */
    int (*apply)(ledger_state_t *st, const ledger_tx_t *tx, char *err, size_t err_cap);
    /* End-of-block work (e.g. authority set changes). NULL: none. LEDGER_OK or an error
       (store/memory failures only: a refusal here would make the block unappliable). */
    int (*end_block)(ledger_state_t *st);
} ledger_contract_t;

/*  The functions of contract NAME that a row may name (ledger_contract_NAME_decode,
 *  _encode, _check, _admit, _apply). A contract defines check and admit only when its row
 *  names them (NULL otherwise). */
#define LEDGER_CONTRACT_ROW_DECL(name)                                                             \
    int ledger_contract_##name##_decode(proto_rd_t *r, ledger_tx_body_t *body);                    \
    void ledger_contract_##name##_encode(proto_wr_t *w, const ledger_tx_body_t *body);             \
    int ledger_contract_##name##_check(const ledger_tx_t *tx, char *err, size_t err_cap);          \
    int ledger_contract_##name##_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,       \
                                       size_t err_cap);                                            \
    int ledger_contract_##name##_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,       \
                                       size_t err_cap);

/*  Bodies of one field, the shape of many contracts: [bin of at most MAX bytes] (*BYTES
 *  points into R's buffer) and [bin32]. PROTO_OK or proto_rd's code. */
int ledger_body_bin_decode(proto_rd_t *r, size_t max, const uint8_t **bytes, size_t *len) PROTO_WUR;
int ledger_body_id_decode(proto_rd_t *r, uint8_t id[static 32]) PROTO_WUR;
/*  Writes the body [bin] of LEN bytes. */
void ledger_body_bin_encode(proto_wr_t *w, const uint8_t *bytes, size_t len);

/*  Row for TYPE, or NULL if no contract handles it. */
const ledger_contract_t *ledger_contract_find(uint32_t type);

/*  All rows, in table order; *count set to their number. */
const ledger_contract_t *ledger_contract_all(size_t *count);

/* ---- the rows' functions (ledger_contract_token.c, ledger_contract_authority.c,
        ledger_contract_enclave.c) ---- */

int ledger_contract_transfer_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_transfer_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_transfer_check(const ledger_tx_t *tx, char *err, size_t err_cap);
int ledger_contract_transfer_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                   size_t err_cap);
int ledger_contract_transfer_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                   size_t err_cap);

int ledger_contract_auth_vote_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_auth_vote_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_auth_vote_check(const ledger_tx_t *tx, char *err, size_t err_cap);
int ledger_contract_auth_vote_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                    size_t err_cap);
int ledger_contract_auth_vote_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                    size_t err_cap);
int ledger_contract_authority_end_block(ledger_state_t *st);

/* ---- the enclave registry (ledger_enclave.c: state and reads; ledger_contract_enclave.c:
        the three contracts) ---- */

#define LEDGER_ENCLAVES_MAX 4096     /* registered enclaves, ever (the directory's bound) */
#define LEDGER_ENCLAVE_AUDITS_MAX 64 /* auditors per measurement */
#define LEDGER_ENCLAVE_QUOTE_MAX_AGE_MS (10u * 60u * 1000u)  /* quote older than the clock */
#define LEDGER_ENCLAVE_QUOTE_MAX_SKEW_MS (10u * 60u * 1000u) /* quote newer than the clock */

/*  An enclave's status: ACTIVE until an authority majority revokes its platform key or
 *  measurement (REVOKED) or its runner retires it (RETIRED: the process it named is gone,
 *  e.g. restarted with new keys). Only ACTIVE enclaves are usable. */
typedef enum {
    LEDGER_ENCLAVE_ACTIVE = 1,
    LEDGER_ENCLAVE_REVOKED = 2,
    LEDGER_ENCLAVE_RETIRED = 3
} ledger_enclave_status_t;

/*  "active", "revoked", "retired" or "unknown" (static). */
const char *ledger_enclave_status_name(uint32_t status);

/*  A registered enclave (plain data). */
typedef struct {
    uint8_t id[LEDGER_ID_LEN];     /* H("genie/enclave/id/v1", sign_pk) */
    uint8_t runner[LEDGER_ID_LEN]; /* the account that registered it */
    uint32_t kind;                 /* PROTO_ATTEST_KIND_* */
    uint8_t measurement[LEDGER_ID_LEN];
    uint8_t sign_pk[32];     /* enclave Ed25519 key */
    uint8_t box_pk[32];      /* enclave X25519 key */
    uint8_t platform_pk[32]; /* the certified platform key that quoted it */
    uint64_t height;         /* height it was registered at */
    uint32_t status;         /* ledger_enclave_status_t */
    uint64_t status_height;  /* height it was revoked or retired at (0 while active) */
} ledger_enclave_t;

/*  An audit of a measurement. */
typedef struct {
    uint8_t auditor[LEDGER_ID_LEN];
    uint8_t report_hash[LEDGER_ID_LEN];
    uint32_t verdict; /* ledger_audit_verdict_t */
    uint64_t height;  /* height of the audit's latest version */
} ledger_audit_t;

/*  The enclave id of the enclave signing key SIGN_PK. */
void ledger_enclave_id(const uint8_t sign_pk[static 32], uint8_t out[static LEDGER_ID_LEN]);
/*  The attestation service's key from genesis: LEDGER_OK, LEDGER_E_NOT_FOUND (genesis
 *  names none), LEDGER_E_STORE / _CORRUPT / _NOMEM. */
int ledger_enclave_attestation_key(ledger_state_t *st, uint8_t out[static LEDGER_ID_LEN]) PROTO_WUR;
/*  The enclave ID: LEDGER_OK, LEDGER_E_NOT_FOUND or a store error. */
int ledger_enclave_get(ledger_state_t *st, const uint8_t id[static LEDGER_ID_LEN],
                       ledger_enclave_t *out) PROTO_WUR;
/*  Registered enclaves of KIND (0: every kind) in registration order: *OUT (malloc'd,
 *  caller frees; NULL when none) of *N. LEDGER_OK or a store error / LEDGER_E_NOMEM. */
int ledger_enclave_list(ledger_state_t *st, uint32_t kind, ledger_enclave_t **out,
                        size_t *n) PROTO_WUR;
/*  Audits of MEASUREMENT sorted by auditor: *OUT (malloc'd, caller frees; NULL when none)
 *  of *N. LEDGER_OK or a store error / LEDGER_E_NOMEM. */
int ledger_enclave_audits(ledger_state_t *st, const uint8_t measurement[static LEDGER_ID_LEN],
                          ledger_audit_t **out, size_t *n) PROTO_WUR;
/*  Whether TARGET (a platform key, WHAT = LEDGER_REVOKE_PLATFORM, or a measurement) is
 *  revoked, and since which height (HEIGHT may be NULL). LEDGER_OK or a store error. */
int ledger_enclave_revoked(ledger_state_t *st, uint32_t what,
                           const uint8_t target[static LEDGER_ID_LEN], bool *revoked,
                           uint64_t *height) PROTO_WUR;

int ledger_contract_enclave_register_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_enclave_register_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_enclave_register_check(const ledger_tx_t *tx, char *err, size_t err_cap);
int ledger_contract_enclave_register_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                           size_t err_cap);
int ledger_contract_enclave_register_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                           size_t err_cap);
int ledger_contract_enclave_audit_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_enclave_audit_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_enclave_audit_check(const ledger_tx_t *tx, char *err, size_t err_cap);
int ledger_contract_enclave_audit_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap);
int ledger_contract_enclave_audit_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap);
int ledger_contract_enclave_revoke_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_enclave_revoke_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_enclave_revoke_check(const ledger_tx_t *tx, char *err, size_t err_cap);
int ledger_contract_enclave_revoke_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap);
int ledger_contract_enclave_revoke_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap);
int ledger_contract_enclave_retire_decode(proto_rd_t *r, ledger_tx_body_t *body);
void ledger_contract_enclave_retire_encode(proto_wr_t *w, const ledger_tx_body_t *body);
int ledger_contract_enclave_retire_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap);
int ledger_contract_enclave_retire_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap);

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

/*  Signed ENCLAVE_REGISTER of an enclave of KIND with MEASUREMENT and the quote's wire form
 *  QUOTE (QUOTE_LEN <= LEDGER_ENCLAVE_QUOTE_MAX bytes, borrowed) from KEY (the runner
 *  account). Same ownership as above. */
uint8_t *ledger_contract_enclave_register_tx(const proto_key_t *key,
                                             const uint8_t chain_id[static LEDGER_ID_LEN],
                                             uint64_t nonce, uint32_t kind,
                                             const uint8_t measurement[static LEDGER_ID_LEN],
                                             const uint8_t *quote, size_t quote_len, size_t *len);
/*  Signed ENCLAVE_AUDIT (VERDICT on MEASUREMENT, the audit report's hash) from KEY. */
uint8_t *ledger_contract_enclave_audit_tx(const proto_key_t *key,
                                          const uint8_t chain_id[static LEDGER_ID_LEN],
                                          uint64_t nonce,
                                          const uint8_t measurement[static LEDGER_ID_LEN],
                                          const uint8_t report_hash[static LEDGER_ID_LEN],
                                          uint32_t verdict, size_t *len);
/*  Signed ENCLAVE_REVOKE vote (WHAT: LEDGER_REVOKE_PLATFORM / _MEASUREMENT, TARGET) from
 *  KEY (an authority). */
uint8_t *ledger_contract_enclave_revoke_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static LEDGER_ID_LEN],
                                           uint64_t nonce, uint32_t what,
                                           const uint8_t target[static LEDGER_ID_LEN], size_t *len);
/*  Signed ENCLAVE_RETIRE of ENCLAVE_ID from KEY (the runner account that registered it).
 *  Same ownership as above. */
uint8_t *ledger_contract_enclave_retire_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static LEDGER_ID_LEN],
                                           uint64_t nonce,
                                           const uint8_t enclave_id[static LEDGER_ID_LEN],
                                           size_t *len);

#endif
