/*  ledger_tx: signed ledger transactions, their codec, ids and signatures, and the
 *  ledger's reason codes.
 *
 *  A transaction is a fixed-order msgpack array of six fields:
 *
 *      [chain_id bin32, from bin32, nonce uint64, type uint32, body, sig bin64]
 *
 *  - chain_id: the chain's genesis hash (ledger_genesis.h); a tx for another chain is
 *    rejected (LEDGER_E_WRONG_CHAIN).
 *  - from: the sending account, an Ed25519 public key.
 *  - nonce: the account's next nonce; a tx is valid only with nonce == the account's
 *    nonce in state, which then goes up by one (replay protection).
 *  - type: a native contract (ledger_contract.h); body is that contract's fixed-order
 *    array (LEDGER_TX_TRANSFER: [to bin32, amount uint64]; LEDGER_TX_AUTH_VOTE:
 *    [action uint32, subject bin32]; the enclave registry's four types and the data
 *    owner's eight and issue 16's five below, PROTOCOL.md lists them all).
 *  - sig: Ed25519(from, H("genie/tx/v1", msgpack([chain_id, from, nonce, type, body]))),
 *    i.e. the hash of the first five fields encoded as a 5-element array (the same rule as
 *    the p2p peer record). Since encodings are canonical this is the tx's own bytes up to
 *    the signature with the array header 0x96 replaced by 0x95.
 *
 *  There are no fees in version 1. A whole tx is at most LEDGER_TX_MAX_BYTES bytes.
 *  txid = H("genie/txid/v1", tx bytes) (so it covers the signature).
 *
 *  Decoding is strict and allocation-free (proto_mp): a decoded ledger_tx_t is a plain
 *  value that borrows the buffer it was decoded from (tx->bytes and any views in the
 *  body point into it), so keep the buffer alive as long as the struct.
 *
 *  Adding a tx type: a value in ledger_tx_type_t, its body struct in ledger_tx_body_t,
 *  its C functions in ledger_contract_<name>.c and one row in the contract table
 *  (ledger_contract.c). No other plumbing.
 */
#ifndef GENIE_LEDGER_TX_H
#define GENIE_LEDGER_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_key.h"
#include "proto/proto_err.h"
#include "proto/proto_mp.h"

#define LEDGER_ID_LEN 32 /* chain ids, accounts, hashes */
#define LEDGER_TX_MAX_BYTES (64 * 1024)
#define LEDGER_TX_FIELDS 6

/*  The ledger's codes (LEDGER_OK, LEDGER_E_*) are in proto/proto_err.h, in the ledger's
 *  range; proto_err_str() names them. Functions that refuse something also write a
 *  human-readable reason into an optional caller buffer `char *err, size_t err_cap`
 *  (proto_err_fail: written on refusal only, never on success). LEDGER_ERR_MAX bytes hold
 *  any reason the ledger writes. */
#define LEDGER_ERR_MAX 160

/*  Transaction types (the contract table, ledger_contract.c, has one row per type). */
typedef enum {
    LEDGER_TX_TRANSFER = 1,          /* token transfer (ledger_contract_token.c) */
    LEDGER_TX_AUTH_VOTE = 2,         /* authority add/remove vote (ledger_contract_authority.c) */
    LEDGER_TX_ENCLAVE_REGISTER = 3,  /* an attested enclave (ledger_contract_enclave.c) */
    LEDGER_TX_ENCLAVE_AUDIT = 4,     /* an auditor's verdict on a measurement (same file) */
    LEDGER_TX_ENCLAVE_REVOKE = 5,    /* an authority's revocation vote (same file) */
    LEDGER_TX_DATA_REGISTER = 6,     /* a validated data record (ledger_contract_data.c) */
    LEDGER_TX_DATA_WITHDRAW = 7,     /* the owner withdraws a record (same file) */
    LEDGER_TX_CONSENT_SET = 8,       /* an owner's default or per-record consent (same file) */
    LEDGER_TX_CONSENT_REVOKE = 9,    /* deletes a consent: deny by default (same file) */
    LEDGER_TX_TRAINER_REGISTER = 10, /* a trainer account (ledger_contract_market.c) */
    LEDGER_TX_SPEC_REGISTER = 11,    /* a trainer's model spec (same file) */
    LEDGER_TX_DONOR_REGISTER = 12,   /* a donation receipt makes the owner a donor (same file) */
    LEDGER_TX_KEY_AUTHORIZE = 13,    /* a data key granted to a training enclave (same file) */
    LEDGER_TX_ENCLAVE_RETIRE = 14,   /* a runner retires its enclave (ledger_contract_enclave.c) */
    LEDGER_TX_TRAIN_START = 15,      /* a trainer starts a training job (ledger_contract_model.c) */
    LEDGER_TX_MODEL_PUBLISH = 16,    /* a coordinator enclave's model publication (same file) */
    LEDGER_TX_QUERY_BUY = 17,        /* queries paid into escrow (ledger_contract_settle.c) */
    LEDGER_TX_USAGE_CLAIM = 18,      /* a query enclave's usage report settles fees (same file) */
    LEDGER_TX_EARNINGS_CLAIM = 19    /* earnings move into the sender's balance (same file) */
} ledger_tx_type_t;

typedef enum { LEDGER_AUTH_ADD = 1, LEDGER_AUTH_REMOVE = 2 } ledger_auth_action_t;

typedef struct {
    uint8_t to[LEDGER_ID_LEN];
    uint64_t amount;
} ledger_transfer_t;

typedef struct {
    uint32_t action; /* ledger_auth_action_t (any uint32 decodes; check() refuses others) */
    uint8_t subject[LEDGER_ID_LEN];
} ledger_auth_vote_t;

/*  ENCLAVE_REGISTER body: [kind uint32, measurement bin32, quote bin (<= 1,024)]. */
#define LEDGER_ENCLAVE_QUOTE_MAX 1024 /* = PROTO_ATTEST_QUOTE_MAX_BYTES */
typedef struct {
    uint32_t kind; /* PROTO_ATTEST_KIND_* (any uint32 decodes; check() refuses others) */
    uint8_t measurement[LEDGER_ID_LEN];
    const uint8_t *quote; /* view into the tx buffer: the quote's wire form */
    size_t quote_len;
} ledger_enclave_register_t;

typedef enum { LEDGER_AUDIT_OK = 1, LEDGER_AUDIT_BAD = 2 } ledger_audit_verdict_t;

/*  ENCLAVE_AUDIT body: [measurement bin32, report hash bin32, verdict uint32]. */
typedef struct {
    uint8_t measurement[LEDGER_ID_LEN];
    uint8_t report_hash[LEDGER_ID_LEN];
    uint32_t verdict; /* ledger_audit_verdict_t */
} ledger_enclave_audit_t;

/*  ENCLAVE_REVOKE body: [what uint32 (1 platform key, 2 measurement), target bin32]. */
typedef enum { LEDGER_REVOKE_PLATFORM = 1, LEDGER_REVOKE_MEASUREMENT = 2 } ledger_revoke_what_t;
typedef struct {
    uint32_t what; /* ledger_revoke_what_t */
    uint8_t target[LEDGER_ID_LEN];
} ledger_enclave_revoke_t;

/*  ENCLAVE_RETIRE body: [enclave_id bin32]. */
typedef struct {
    uint8_t enclave_id[LEDGER_ID_LEN];
} ledger_enclave_retire_t;

/* ---- the data owner's contracts (ledger/ledger_data.h has the limits and the reads) ---- */

/*  A list inside a body, left encoded: RAW (LEN bytes, a view into the tx buffer) is the
 *  whole msgpack array, N its element count. decode_body has checked every element's
 *  type and bound; ledger_data.c reads the elements back. */
typedef struct {
    const uint8_t *raw;
    size_t len;
    uint32_t n;
} ledger_list_view_t;

/*  DATA_REGISTER body: [data_type u32, size_class u32, commitment bin32, address bin32,
 *  report bin (<= PROTO_REPORT_MAX_BYTES)]. */
typedef struct {
    uint32_t data_type;  /* PROTO_DATA_* */
    uint32_t size_class; /* ceil(log2(bytes)), 0..LEDGER_SIZE_CLASS_MAX */
    uint8_t commitment[LEDGER_ID_LEN];
    uint8_t address[LEDGER_ID_LEN];
    const uint8_t *report; /* view: an encoded proto_report */
    size_t report_len;
} ledger_data_register_t;

/*  DATA_WITHDRAW and CONSENT_REVOKE body: [data_id bin32] (CONSENT_REVOKE: zero = the
 *  owner's default consent). */
typedef struct {
    uint8_t data_id[LEDGER_ID_LEN];
} ledger_data_ref_t;

/*  CONSENT_SET body: [data_id bin32 (zero = default), allow_types [str], allow_purposes
 *  [str], deny_types [str], deny_purposes [str], max_epsilon_milli u32, min_audits u32,
 *  auditors [bin32]]; each list <= LEDGER_CONSENT_LIST_MAX, names <= LEDGER_NAME_MAX. */
typedef struct {
    uint8_t data_id[LEDGER_ID_LEN];
    ledger_list_view_t allow_types, allow_purposes, deny_types, deny_purposes;
    uint32_t max_epsilon_milli;
    uint32_t min_audits;
    ledger_list_view_t auditors;
} ledger_consent_set_t;

/*  TRAINER_REGISTER body: [name str 1..64]. */
typedef struct {
    const char *name; /* view, not NUL-terminated */
    size_t name_len;
} ledger_trainer_register_t;

/*  SPEC_REGISTER body: [model_type str, purpose str, features [str] (1..64 of 1..64
 *  bytes), label str, measurement bin32, min_donors u32, max_epsilon_milli u32,
 *  aggregation u32, price u64, share_donors_bp u32, share_trainer_bp u32,
 *  share_runner_bp u32]. Strings are views, not NUL-terminated. */
typedef struct {
    const char *model_type;
    size_t model_type_len;
    const char *purpose;
    size_t purpose_len;
    ledger_list_view_t features;
    const char *label;
    size_t label_len;
    uint8_t measurement[LEDGER_ID_LEN];
    uint32_t min_donors;
    uint32_t max_epsilon_milli;
    uint32_t aggregation; /* ledger_aggregation_t */
    uint64_t price;
    uint32_t share_donors_bp, share_trainer_bp, share_runner_bp;
} ledger_spec_register_t;

/*  DONOR_REGISTER body: [receipt bin (an encoded proto_receipt)]. */
typedef struct {
    const uint8_t *receipt; /* view */
    size_t receipt_len;
} ledger_donor_register_t;

/*  KEY_AUTHORIZE body: [data_id bin32, spec_id bin32, enclave_id bin32, grant bin
 *  (<= LEDGER_GRANT_MAX)]. */
#define LEDGER_GRANT_MAX 256
typedef struct {
    uint8_t data_id[LEDGER_ID_LEN];
    uint8_t spec_id[LEDGER_ID_LEN];
    uint8_t enclave_id[LEDGER_ID_LEN];
    const uint8_t *grant; /* view */
    size_t grant_len;
} ledger_key_authorize_t;

/* ---- training jobs, models, paid queries and settlement (issue 16; ledger/ledger_model.h
        has the limits and the reads) ---- */

/*  TRAIN_START body: [spec_id bin32, coordinator enclave_id bin32, rounds u32 (1..100),
 *  query_measurement bin32]. */
typedef struct {
    uint8_t spec_id[LEDGER_ID_LEN];
    uint8_t coordinator[LEDGER_ID_LEN];
    uint32_t rounds;
    uint8_t query_measurement[LEDGER_ID_LEN];
} ledger_train_start_t;

/*  MODEL_PUBLISH body: [publication bin (an encoded proto_publish, <=
 *  PROTO_PUBLISH_MAX_BYTES)]. */
typedef struct {
    const uint8_t *publication; /* view */
    size_t publication_len;
} ledger_model_publish_t;

/*  QUERY_BUY body: [model_id bin32, count u32 (1..1,000,000), code_hash bin32]. */
typedef struct {
    uint8_t model_id[LEDGER_ID_LEN];
    uint32_t count;
    uint8_t code_hash[LEDGER_ID_LEN]; /* proto_access_code_hash of the buyer's code */
} ledger_query_buy_t;

/*  USAGE_CLAIM body: [usage bin (an encoded proto_usage, <= PROTO_USAGE_MAX_BYTES)]. */
typedef struct {
    const uint8_t *usage; /* view */
    size_t usage_len;
} ledger_usage_claim_t;

/*  EARNINGS_CLAIM body: [model_id bin32 (all zero: role earnings only)]. */
typedef struct {
    uint8_t model_id[LEDGER_ID_LEN];
} ledger_earnings_claim_t;

/*  One member per tx type. Views in a body point into the tx's buffer. */
typedef union {
    ledger_transfer_t transfer;
    ledger_auth_vote_t auth_vote;
    ledger_enclave_register_t enclave_register;
    ledger_enclave_audit_t enclave_audit;
    ledger_enclave_revoke_t enclave_revoke;
    ledger_enclave_retire_t enclave_retire;
    ledger_data_register_t data_register;
    ledger_data_ref_t data_withdraw;
    ledger_consent_set_t consent_set;
    ledger_data_ref_t consent_revoke;
    ledger_trainer_register_t trainer_register;
    ledger_spec_register_t spec_register;
    ledger_donor_register_t donor_register;
    ledger_key_authorize_t key_authorize;
    ledger_train_start_t train_start;
    ledger_model_publish_t model_publish;
    ledger_query_buy_t query_buy;
    ledger_usage_claim_t usage_claim;
    ledger_earnings_claim_t earnings_claim;
} ledger_tx_body_t;

typedef struct {
    uint8_t chain_id[LEDGER_ID_LEN];
    uint8_t from[LEDGER_ID_LEN];
    uint64_t nonce;
    uint32_t type;
    ledger_tx_body_t body;
    uint8_t sig[PROTO_SIG_LEN];
    /* Set by ledger_tx_decode / ledger_tx_sign: the whole encoding (borrowed) and the
       length of its signed prefix (everything before the signature field). */
    const uint8_t *bytes;
    size_t len;
    size_t signed_len;
} ledger_tx_t;

/*  Decodes a tx from BUF (LEN bytes) into *TX, which then borrows BUF. Returns PROTO_OK
 *  or a proto_err_t: PROTO_E_TOO_BIG over LEDGER_TX_MAX_BYTES, PROTO_E_UNKNOWN_TYPE for a
 *  type without a contract, the reader's error otherwise. Does not verify anything beyond
 *  the encoding (see ledger_tx_check). */
int ledger_tx_decode(const uint8_t *buf, size_t len, ledger_tx_t *tx) PROTO_WUR;

/*  Writes TX (all six fields, with tx->sig) to W. PROTO_OK, or PROTO_E_UNKNOWN_TYPE. */
int ledger_tx_write(proto_wr_t *w, const ledger_tx_t *tx) PROTO_WUR;

/*  Signs TX with KEY: sets tx->from to KEY's public key, encodes, signs, sets tx->sig,
 *  tx->bytes, tx->len and tx->signed_len. Returns the encoding (malloc'd, caller frees;
 *  tx->bytes points into it), or NULL if the type is unknown, the tx is over
 *  LEDGER_TX_MAX_BYTES or memory ran out. */
uint8_t *ledger_tx_sign(ledger_tx_t *tx, const proto_key_t *key, size_t *len);

/*  The hash the signature covers (tx->bytes must be set). */
void ledger_tx_sighash(const ledger_tx_t *tx, uint8_t out[static PROTO_HASH_LEN]);

/*  True if tx->sig is tx->from's signature of ledger_tx_sighash (tx->bytes must be set),
 *  under proto_sigbatch's rule, the one every tx signature check uses, single or batched. */
bool ledger_tx_verify_sig(const ledger_tx_t *tx) PROTO_WUR;

/*  txid of the encoded tx BYTES. */
void ledger_tx_id(const uint8_t *bytes, size_t len, uint8_t out[static LEDGER_ID_LEN]);

/*  Stateless validity: chain id equals CHAIN_ID, the contract's stateless check, and (if
 *  VERIFY_SIG) the signature. Returns LEDGER_OK or a reason code with the reason in ERR
 *  (ERR_CAP bytes, may be NULL). */
int ledger_tx_check(const ledger_tx_t *tx, const uint8_t chain_id[static LEDGER_ID_LEN],
                    bool verify_sig, char *err, size_t err_cap) PROTO_WUR;

/*  Decode + ledger_tx_check in one step, with proto errors mapped to reason codes
 *  (LEDGER_E_TOO_BIG, LEDGER_E_UNKNOWN_TYPE, LEDGER_E_MALFORMED). *TX borrows BUF. */
int ledger_tx_parse(const uint8_t *buf, size_t len, const uint8_t chain_id[static LEDGER_ID_LEN],
                    bool verify_sig, ledger_tx_t *tx, char *err, size_t err_cap) PROTO_WUR;

/*  tx_batch = [tx bin, ...] (PROTOCOL.md §6.2): several encoded txs in one message. */
#define LEDGER_TX_BATCH_MAX 4096u

/*  Visitor of one tx of a batch: TX (LEN bytes) borrows the batch. Nonzero stops the walk
 *  and is returned. */
typedef int(ledger_tx_visit_fn)(void *ctx, const uint8_t *tx, size_t len);

/*  Checks the whole batch BUF first (an array of 1..MAX (<= LEDGER_TX_BATCH_MAX) bins of
 *  at most LEDGER_TX_MAX_BYTES each, shortest encodings, nothing after it), then calls FN
 *  for each element in order. The elements themselves are not decoded. Returns PROTO_OK,
 *  the reader's error for a malformed batch (FN never called), or FN's nonzero result. */
int ledger_tx_batch_each(const uint8_t *buf, size_t len, uint32_t max, ledger_tx_visit_fn *fn,
                         void *ctx);

/*  Appends the batch of the N txs TXS[i] (LENS[i] bytes) to W. */
void ledger_tx_batch_write(proto_wr_t *w, const uint8_t *const *txs, const size_t *lens, size_t n);

#endif
