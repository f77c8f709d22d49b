/*  ledger_data: the data owner's side of the ledger: data records, consents, trainers,
 *  model specs, donors, key grants and every record's audit trail (issue 15), as read by
 *  the node's services, plus the pure consent match and the client tx builders.
 *
 *  The eight contracts (tx types 6..13, bodies in ledger_tx.h) live in
 *  ledger_contract_data.c (DATA_REGISTER, DATA_WITHDRAW, CONSENT_SET, CONSENT_REVOKE) and
 *  ledger_contract_market.c (TRAINER_REGISTER, SPEC_REGISTER, DONOR_REGISTER,
 *  KEY_AUTHORIZE); their rules are written at the top of each file and in PROTOCOL.md.
 *  The state layout is in ledger_data.c.
 *
 *  Identifiers: a data id is the salted commitment itself (proto_data_commit); a spec id is
 *  the txid of its SPEC_REGISTER; an enclave id is ledger_enclave_id(sign_pk).
 *  Names (model types, purposes): 1..LEDGER_NAME_MAX bytes of [a-z0-9_-], or exactly "*"
 *  (the explicit wildcard, meaningful in allow lists only; in a deny list it denies all).
 *
 *  Every on-chain collection is bounded (below); a tx that would pass a bound is refused
 *  with LEDGER_E_DATA_RULE and a reason.
 *
 *  Reads return LEDGER_OK, LEDGER_E_NOT_FOUND, or LEDGER_E_STORE / _CORRUPT / _NOMEM.
 */
#ifndef GENIE_LEDGER_DATA_H
#define GENIE_LEDGER_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_contract.h"
#include "proto/proto_key.h"
#include "proto/proto_recruit.h"

#define LEDGER_NAME_MAX 32              /* bytes in a model type / purpose name */
#define LEDGER_CONSENT_LIST_MAX 16      /* entries in each consent list */
#define LEDGER_TEXT_MAX 64              /* bytes in a trainer name, spec label or feature */
#define LEDGER_SPEC_FEATURES_MAX 64     /* features of a spec */
#define LEDGER_SIZE_CLASS_MAX 40        /* ceil(log2(bytes)) of a data file */
#define LEDGER_SHARES_BP 10000          /* the revenue shares of a spec sum to this */
#define LEDGER_DATA_PER_OWNER_MAX 1024  /* data records an account may register, ever */
#define LEDGER_DATA_USES_MAX 256        /* audit trail entries per data record */
#define LEDGER_SPECS_MAX 4096           /* model specs, ever */
#define LEDGER_DONORS_PER_SPEC_MAX 8192 /* donors of one spec */

typedef enum { LEDGER_DATA_ACTIVE = 1, LEDGER_DATA_WITHDRAWN = 2 } ledger_data_status_t;

typedef enum {
    LEDGER_AGG_MEAN = 1,
    LEDGER_AGG_MEDIAN = 2,
    LEDGER_AGG_TRIMMED_MEAN = 3,
    LEDGER_AGG_KRUM = 4
} ledger_aggregation_t;

/*  A data record. */
typedef struct {
    uint8_t id[32]; /* the salted commitment */
    uint8_t owner[32];
    uint32_t data_type;     /* PROTO_DATA_* */
    uint32_t size_class;    /* ceil(log2(bytes)) */
    uint8_t address[32];    /* BLAKE2b-256 of the stored ciphertext blob */
    uint8_t validator[32];  /* the validation enclave's id */
    uint64_t height;        /* registered at */
    uint32_t status;        /* ledger_data_status_t */
    uint64_t status_height; /* withdrawn at (0 while active) */
} ledger_data_t;

/*  A list of names, each NUL-terminated. */
typedef struct {
    char v[LEDGER_CONSENT_LIST_MAX][LEDGER_NAME_MAX + 1];
    uint32_t n;
} ledger_names_t;

/*  A consent: the owner's default (data_id all zero) or a per-record override. */
typedef struct {
    uint8_t owner[32];
    uint8_t data_id[32];
    ledger_names_t allow_types, allow_purposes, deny_types, deny_purposes;
    uint32_t max_epsilon_milli; /* the largest spec epsilon allowed, in thousandths */
    uint32_t min_audits;        /* OK audits of the enclave's measurement required */
    uint8_t auditors[LEDGER_CONSENT_LIST_MAX][32]; /* trusted auditors (none: anyone) */
    uint32_t n_auditors;
    uint64_t height; /* set at */
} ledger_consent_t;

typedef struct {
    uint8_t account[32];
    char name[LEDGER_TEXT_MAX + 1];
    uint64_t height; /* registered (or last renamed) at */
} ledger_trainer_t;

typedef struct {
    uint8_t id[32]; /* the txid of its SPEC_REGISTER */
    uint8_t trainer[32];
    char model_type[LEDGER_NAME_MAX + 1];
    char purpose[LEDGER_NAME_MAX + 1];
    char label[LEDGER_TEXT_MAX + 1];
    char features[LEDGER_SPEC_FEATURES_MAX][LEDGER_TEXT_MAX + 1];
    uint32_t n_features;
    uint8_t measurement[32]; /* the training enclave measurement */
    uint32_t min_donors;
    uint32_t max_epsilon_milli;
    uint32_t aggregation; /* ledger_aggregation_t */
    uint64_t price;       /* per query */
    uint32_t share_donors_bp, share_trainer_bp, share_runner_bp;
    uint64_t height;
    uint32_t n_donors; /* registered donors so far (a read fills it) */
} ledger_spec_t;

typedef struct {
    uint8_t spec_id[32];
    uint8_t data_id[32];
    uint8_t owner[32];
    uint8_t enclave_id[32];
    uint64_t time_ms; /* the receipt's time */
    uint64_t height;
    uint32_t seq; /* registration order among the spec's donors, 0-based (issue 16) */
} ledger_donor_t;

typedef enum {
    LEDGER_USE_VALIDATED = 1,
    LEDGER_USE_DONATED = 2,
    LEDGER_USE_KEY_AUTHORIZED = 3,
    LEDGER_USE_TRAINED = 4 /* issue 16 */,
    LEDGER_USE_WITHDRAWN = 5
} ledger_use_t;

/*  One entry of a record's audit trail. ACTOR: the enclave id (validated, donated,
 *  key authorized, trained) or the owner's account (withdrawn); SPEC_ID zero when none. */
typedef struct {
    uint32_t use; /* ledger_use_t */
    uint64_t height;
    uint8_t actor[32];
    uint8_t spec_id[32];
    uint8_t txid[32];
} ledger_use_entry_t;

/* ---- reads ---- */

/*  The data record ID. */
int ledger_data_get(ledger_state_t *st, const uint8_t id[static 32], ledger_data_t *out) PROTO_WUR;
/*  OWNER's records in registration order: *OUT (malloc'd, caller frees; NULL when none)
 *  of *N. LEDGER_OK (also when none) or a store error. */
int ledger_data_list(ledger_state_t *st, const uint8_t owner[static 32], ledger_data_t **out,
                     size_t *n) PROTO_WUR;
/*  Record ID's audit trail, oldest first: *OUT (malloc'd, caller frees; NULL when none) of
 *  *N. LEDGER_OK (also when none) or a store error. */
int ledger_data_uses(ledger_state_t *st, const uint8_t id[static 32], ledger_use_entry_t **out,
                     size_t *n) PROTO_WUR;
/*  The consent record of (OWNER, DATA_ID or all zero for the default); LEDGER_E_NOT_FOUND
 *  when none. */
int ledger_consent_get(ledger_state_t *st, const uint8_t owner[static 32],
                       const uint8_t data_id[static 32], ledger_consent_t *out) PROTO_WUR;
/*  The consent in force for record D: its override, else its owner's default;
 *  LEDGER_E_NOT_FOUND when neither (deny by default). */
int ledger_consent_effective(ledger_state_t *st, const ledger_data_t *d,
                             ledger_consent_t *out) PROTO_WUR;
int ledger_trainer_get(ledger_state_t *st, const uint8_t account[static 32],
                       ledger_trainer_t *out) PROTO_WUR;
/*  The spec ID, n_donors filled. */
int ledger_spec_get(ledger_state_t *st, const uint8_t id[static 32], ledger_spec_t *out) PROTO_WUR;
/*  Every spec in registration order: *OUT (malloc'd, caller frees; NULL when none) of *N. */
int ledger_spec_list(ledger_state_t *st, ledger_spec_t **out, size_t *n) PROTO_WUR;
/*  SPEC_ID's donors in registration order, which is seq order (out[i].seq == i): *OUT
 *  (malloc'd, caller frees; NULL when none). */
int ledger_donor_list(ledger_state_t *st, const uint8_t spec_id[static 32], ledger_donor_t **out,
                      size_t *n) PROTO_WUR;
/*  The donor of SPEC_ID with sequence number SEQ (LEDGER_E_NOT_FOUND past the spec's donor
 *  count). */
int ledger_donor_by_seq(ledger_state_t *st, const uint8_t spec_id[static 32], uint32_t seq,
                        ledger_donor_t *out) PROTO_WUR;
/*  The key grant of record DATA_ID to ENCLAVE_ID: its bytes into GRANT (CAP bytes;
 *  LEDGER_E_TOO_BIG if CAP is short), *LEN, and the spec it was granted for.
 *  LEDGER_E_NOT_FOUND when none, or when the record is withdrawn (a withdrawn record's
 *  grants are never handed out). */
int ledger_key_grant_get(ledger_state_t *st, const uint8_t data_id[static 32],
                         const uint8_t enclave_id[static 32], uint8_t *grant, size_t cap,
                         size_t *len, uint8_t spec_id[static 32]) PROTO_WUR;

/* ---- pure rules (no state, no I/O) ---- */

/*  Whether S (LEN bytes, not NUL-terminated) is a name: 1..LEDGER_NAME_MAX bytes of
 *  [a-z0-9_-], or "*" when WILDCARD_OK. */
bool ledger_name_valid(const char *s, size_t len, bool wildcard_ok);
/*  Whether S (LEN bytes) is 1..LEDGER_TEXT_MAX bytes of printable ASCII (0x20..0x7e). */
bool ledger_text_valid(const char *s, size_t len);

/*  Does consent C allow spec S in an enclave whose measurement has the audits AUDITS (N,
 *  may be NULL when 0)? LEDGER_OK, or LEDGER_E_CONSENT with a one-line reason in WHY
 *  (WHY_CAP bytes, may be NULL/0): "purpose commercial is denied", "model type prs not
 *  allowed", "needs 2 audits, has 1", "spec epsilon 2.000 above the 1.000 allowed"; on
 *  LEDGER_OK, WHY says why it matches. Rules in order: a deny list naming the value or "*"
 *  denies; the model type must be in allow_types (or "*"), the purpose in allow_purposes
 *  (or "*"), an empty allow list allowing nothing; s->max_epsilon_milli <=
 *  c->max_epsilon_milli; audits with verdict OK from distinct auditors (only those in
 *  c->auditors when it is not empty) >= c->min_audits. */
/* ---- the market's rules over committed state (ledger_market.c): what a data owner's node
        decides before anything leaves it, and what a node's recruitment room admits ---- */

/*  The training enclave a donation to SPEC goes to: the newest registered, active TRAINING
 *  enclave with the spec's measurement whose platform is not revoked (the measurement
 *  itself not revoked either), into *OUT. LEDGER_OK, or LEDGER_E_ENCLAVE_RULE with WHY
 *  (WHY_CAP bytes) saying why none, or a store error. */
int ledger_donation_enclave(ledger_state_t *st, const ledger_spec_t *spec, ledger_enclave_t *out,
                            char *why, size_t why_cap) PROTO_WUR;

/*  Whether record ID may be donated to SPEC by ACCOUNT (AUDITS: the N audits of the spec's
 *  measurement): registered, active, owned by ACCOUNT, and allowed by the consent in force
 *  (deny by default). LEDGER_OK with WHY saying why it matches, or LEDGER_E_DATA_RULE /
 *  LEDGER_E_CONSENT / a store error with WHY saying why not. */
int ledger_donation_allowed(ledger_state_t *st, const ledger_spec_t *spec,
                            const ledger_audit_t *audits, size_t n, const uint8_t id[static 32],
                            const uint8_t account[static 32], char *why, size_t why_cap) PROTO_WUR;

/*  One donor record of a spec and whether a training job may use it now. */
typedef struct {
    ledger_donor_t donor;
    bool eligible; /* ledger_donation_allowed says yes for its owner (record active, the
                      consent in force allows the spec with its measurement's audits) */
} ledger_train_donor_t;

/*  SPEC's donor records in donor seq order, each with its training eligibility (the one
 *  rule both the coordinator runner, planning a job, and a party's runner, checking the
 *  TRAIN_PREPARE it relays, apply): *OUT (malloc'd, caller frees; NULL when none) of *N.
 *  LEDGER_OK, or a store error / LEDGER_E_NOMEM with ERR (ERR_CAP bytes, may be NULL/0)
 *  saying which read failed. */
int ledger_train_donors(ledger_state_t *st, const ledger_spec_t *spec, ledger_train_donor_t **out,
                        size_t *n, char *err, size_t err_cap) PROTO_WUR;

/*  The data ids of SPEC's eligible donor records held by the training enclave ENCLAVE_ID
 *  (the records whose receipt names it), in donor seq order: *IDS (malloc'd, caller frees;
 *  NULL when none) of *N. What TRAIN_PREPARE's eligible list for that enclave must be.
 *  LEDGER_OK, or as ledger_train_donors. */
int ledger_train_eligible(ledger_state_t *st, const ledger_spec_t *spec,
                          const uint8_t enclave_id[static 32], uint8_t (**ids)[32], size_t *n,
                          char *err, size_t err_cap) PROTO_WUR;

/*  Whether (SPEC_ID, DATA_ID) is a registered donor already (one keyed read). */
bool ledger_donor_exists(ledger_state_t *st, const uint8_t spec_id[static 32],
                         const uint8_t data_id[static 32]);

/*  The `recruitment` room's posting rule for a decoded POST at NOW_MS: fresh (within 10
 *  minutes of NOW_MS), signed by its trainer account, naming a registered spec whose
 *  trainer is that registered account. LEDGER_OK, or LEDGER_E_INVALID / LEDGER_E_BAD_SIG /
 *  LEDGER_E_NOT_TRAINER with the reason in ERR (ERR_CAP bytes, may be NULL). */
int ledger_recruit_check(ledger_state_t *st, const proto_recruit_t *post, uint64_t now_ms,
                         char *err, size_t err_cap) PROTO_WUR;

int ledger_consent_match(const ledger_consent_t *c, const ledger_spec_t *s,
                         const ledger_audit_t *audits, size_t n, char *why, size_t why_cap);

/* ---- client helpers: build and sign a tx in one call ----
 *  Each returns the signed tx (malloc'd, caller frees) and *LEN, or NULL when an argument
 *  breaks a bound of the body (the contract's stateless rules are not all run here: the
 *  ledger answers those) or memory ran out. */

uint8_t *ledger_contract_data_register_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, uint32_t data_type, uint32_t size_class,
                                          const uint8_t commitment[static 32],
                                          const uint8_t address[static 32], const uint8_t *report,
                                          size_t report_len, size_t *len);
uint8_t *ledger_contract_data_withdraw_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const uint8_t data_id[static 32],
                                          size_t *len);
/*  C's data_id (zero: the default), lists, epsilon, audits and auditors; owner and height
 *  are ignored. */
uint8_t *ledger_contract_consent_set_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                        uint64_t nonce, const ledger_consent_t *c, size_t *len);
uint8_t *ledger_contract_consent_revoke_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static 32], uint64_t nonce,
                                           const uint8_t data_id[static 32], size_t *len);
/*  NAME is NUL-terminated. */
uint8_t *ledger_contract_trainer_register_tx(const proto_key_t *key,
                                             const uint8_t chain_id[static 32], uint64_t nonce,
                                             const char *name, size_t *len);
/*  S's model_type, purpose, features, label, measurement, min_donors, max_epsilon_milli,
 *  aggregation, price and shares; id, trainer, height and n_donors are ignored. */
uint8_t *ledger_contract_spec_register_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const ledger_spec_t *s, size_t *len);
uint8_t *ledger_contract_donor_register_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static 32], uint64_t nonce,
                                           const uint8_t *receipt, size_t receipt_len, size_t *len);
uint8_t *ledger_contract_key_authorize_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const uint8_t data_id[static 32],
                                          const uint8_t spec_id[static 32],
                                          const uint8_t enclave_id[static 32], const uint8_t *grant,
                                          size_t grant_len, size_t *len);

#endif
