/*  ledger_contract_market: trainers, model specs, donors and key grants, four native
 *  contracts of the data owner's side (the records and consents they check are in
 *  ledger_contract_data.c).
 *
 *  TRAINER_REGISTER  body = [name str 1..64]
 *  - check: the name is 1..LEDGER_TEXT_MAX bytes of printable ASCII.
 *  - apply: any account; once per account, again renames (the height is the latest).
 *  SPEC_REGISTER     body = [model_type, purpose, features [str], label, measurement bin32,
 *                            min_donors u32, max_epsilon_milli u32, aggregation u32,
 *                            price u64, share_donors_bp u32, share_trainer_bp u32,
 *                            share_runner_bp u32]
 *  - check: model type and purpose are names without the wildcard; 1..64 distinct
 *    features and the label are 1..64 bytes of printable ASCII; min_donors >= 1;
 *    aggregation is mean (1), median (2), trimmed mean (3) or krum (4); the three shares
 *    sum to exactly 10000 basis points.
 *  - apply: the sender is a registered trainer (LEDGER_E_NOT_TRAINER); fewer than
 *    LEDGER_SPECS_MAX specs exist (LEDGER_E_DATA_RULE). The spec id is the txid.
 *  DONOR_REGISTER    body = [receipt bin (an encoded proto_receipt)]
 *  - apply: the receipt decodes and its signature verifies, names the sender as the donor,
 *    and its signer ledger_enclave_id(receipt.enclave_pk) is registered, of kind TRAINING,
 *    active, platform key and measurement not revoked (LEDGER_E_RECEIPT); the spec exists
 *    (LEDGER_E_DATA_RULE) and the enclave runs its measurement (LEDGER_E_RECEIPT); the
 *    record exists, the sender owns it, it is active (LEDGER_E_DATA_RULE) and its id is the
 *    commitment the enclave recomputed (LEDGER_E_RECEIPT); the consent in force for the
 *    record (its override, else the owner's default; none denies) allows the spec given
 *    the OK audits of its measurement (ledger_consent_match; LEDGER_E_CONSENT); (spec,
 *    data) is not a donor yet (a replayed receipt: LEDGER_E_RECEIPT); the spec has fewer
 *    than LEDGER_DONORS_PER_SPEC_MAX donors and the record's audit trail has room
 *    (LEDGER_E_DATA_RULE). Writes the donor record (time = the receipt's, seq = the
 *    spec's donor count before it: registration order, 0-based), appends it to the spec's
 *    donors, audit trail DONATED (actor = the enclave, spec).
 *  KEY_AUTHORIZE     body = [data_id bin32, spec_id bin32, enclave_id bin32, grant bin
 *                            (1..LEDGER_GRANT_MAX)]
 *  - apply: the sender owns the record, it is active, the spec exists
 *    (LEDGER_E_DATA_RULE); the enclave is registered, of kind TRAINING, active, not revoked
 *    and runs the spec's measurement (LEDGER_E_ENCLAVE_RULE); the consent in force allows
 *    the spec (LEDGER_E_CONSENT); the trail has room. Stores the grant under (data,
 *    enclave), replacing an earlier one; audit trail KEY_AUTHORIZED (actor = the enclave).
 *  admit (mempool) runs the same rules as apply against committed state, writing nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_attest.h"
#include "proto/proto_report.h"

/* Whether the uses trail of record ID has room for one more (non-withdrawal) entry. */
static int s_trail_room(ledger_state_t *st, const uint8_t id[static 32], char *err, size_t err_cap)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    ledger_data_key1(key, LEDGER_KEY_DATA_USES, id);
    return ledger_data_list_room(st, key, sizeof key, LEDGER_DATA_USES_MAX,
                                 LEDGER_DATA_USES_MAX - 1, "cannot read the audit trail",
                                 "the record's audit trail is full", err, err_cap, NULL);
}

/* The spec ID into *S (LEDGER_E_DATA_RULE when there is none). */
static int s_spec(ledger_state_t *st, const uint8_t id[static 32], ledger_spec_t *s, char *err,
                  size_t err_cap)
{
    int rc = ledger_spec_get(st, id, s);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "no such model spec");
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "cannot read the model spec");
    return rc;
}

/* Record ID, owned by FROM and active, into *D. */
static int s_active_owned(ledger_state_t *st, const uint8_t id[static 32],
                          const uint8_t from[static 32], ledger_data_t *d, char *err,
                          size_t err_cap)
{
    int rc = ledger_data_owned(st, id, from, d, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if (d->status != LEDGER_DATA_ACTIVE)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "data record withdrawn");
    return LEDGER_OK;
}

/* Whether the consent in force for D allows spec S given the audits of its measurement. */
static int s_consent_allows(ledger_state_t *st, const ledger_data_t *d, const ledger_spec_t *s,
                            char *err, size_t err_cap)
{
    ledger_consent_t c;
    ledger_audit_t *audits = NULL;
    size_t n = 0;
    int rc = ledger_consent_effective(st, d, &c);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_CONSENT,
                              "no consent in force for the record: denied by default");
    if (rc == LEDGER_OK)
        rc = ledger_enclave_audits(st, s->measurement, &audits, &n);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the consent or the audits");
    rc = ledger_consent_match(&c, s, audits, n, NULL, 0);
    free(audits);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc,
                       "the consent in force does not allow this spec (see ledger_consent_match)");
    return rc;
}

/* ------------------------------------------------------------ TRAINER_REGISTER */

int ledger_contract_trainer_register_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_trainer_register_t *b = &body->trainer_register;
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 1);
    if (rc == PROTO_OK)
        rc = proto_rd_str(r, LEDGER_TEXT_MAX, &b->name, &b->name_len);
    return rc;
}

void ledger_contract_trainer_register_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    proto_wr_array(w, 1);
    proto_wr_str(w, body->trainer_register.name, body->trainer_register.name_len);
}

int ledger_contract_trainer_register_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const ledger_trainer_register_t *b = &tx->body.trainer_register;
    if (!ledger_text_valid(b->name, b->name_len))
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "trainer name must be 1..64 bytes of printable ASCII");
    return LEDGER_OK;
}

int ledger_contract_trainer_register_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                           size_t err_cap)
{
    const ledger_trainer_register_t *b = &tx->body.trainer_register;
    ledger_trainer_t t = {.height = ledger_state_base_height(st) + 1};
    memcpy(t.account, tx->from, 32);
    memcpy(t.name, b->name, b->name_len); /* <= LEDGER_TEXT_MAX: decode's bound */
    int rc = ledger_trainer_put(st, &t);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ SPEC_REGISTER */

int ledger_contract_spec_register_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_spec_register_t *b = &body->spec_register;
    uint64_t v[8] = {0};
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 12);
    if (rc == PROTO_OK)
        rc = proto_rd_str(r, LEDGER_NAME_MAX, &b->model_type, &b->model_type_len);
    if (rc == PROTO_OK)
        rc = proto_rd_str(r, LEDGER_NAME_MAX, &b->purpose, &b->purpose_len);
    if (rc == PROTO_OK)
        rc = ledger_list_rd_str(r, LEDGER_SPEC_FEATURES_MAX, LEDGER_TEXT_MAX, &b->features);
    if (rc == PROTO_OK)
        rc = proto_rd_str(r, LEDGER_TEXT_MAX, &b->label, &b->label_len);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->measurement);
    for (size_t i = 0; i < 7 && rc == PROTO_OK; i++)
        rc = proto_rd_uint(r, i == 3 ? UINT64_MAX : UINT32_MAX, &v[i]);
    b->min_donors = (uint32_t)v[0];
    b->max_epsilon_milli = (uint32_t)v[1];
    b->aggregation = (uint32_t)v[2];
    b->price = v[3];
    b->share_donors_bp = (uint32_t)v[4];
    b->share_trainer_bp = (uint32_t)v[5];
    b->share_runner_bp = (uint32_t)v[6];
    return rc;
}

void ledger_contract_spec_register_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_spec_register_t *b = &body->spec_register;
    proto_wr_array(w, 12);
    proto_wr_str(w, b->model_type, b->model_type_len);
    proto_wr_str(w, b->purpose, b->purpose_len);
    proto_wr_raw(w, b->features.raw, b->features.len);
    proto_wr_str(w, b->label, b->label_len);
    proto_wr_bin(w, b->measurement, 32);
    proto_wr_uint(w, b->min_donors);
    proto_wr_uint(w, b->max_epsilon_milli);
    proto_wr_uint(w, b->aggregation);
    proto_wr_uint(w, b->price);
    proto_wr_uint(w, b->share_donors_bp);
    proto_wr_uint(w, b->share_trainer_bp);
    proto_wr_uint(w, b->share_runner_bp);
}

/* The spec's stateless rules on its decoded form S. */
static int s_spec_rules(const ledger_spec_t *s, char *err, size_t err_cap)
{
    if (!ledger_name_valid(s->model_type, strlen(s->model_type), false))
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "spec model type must be 1..32 bytes of [a-z0-9_-]");
    if (!ledger_name_valid(s->purpose, strlen(s->purpose), false))
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "spec purpose must be 1..32 bytes of [a-z0-9_-]");
    if (s->n_features == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "spec has no features");
    for (uint32_t i = 0; i < s->n_features; i++) {
        if (!ledger_text_valid(s->features[i], strlen(s->features[i])))
            return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                                  "a feature must be 1..64 bytes of printable ASCII");
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(s->features[i], s->features[j]) == 0)
                return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "spec lists a feature twice");
    }
    if (!ledger_text_valid(s->label, strlen(s->label)))
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "spec label must be 1..64 bytes of printable ASCII");
    if (s->min_donors < 1)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "spec needs at least one donor");
    if (s->aggregation < LEDGER_AGG_MEAN || s->aggregation > LEDGER_AGG_KRUM)
        return proto_err_fail(
            err, err_cap, LEDGER_E_INVALID,
            "aggregation must be mean (1), median (2), trimmed mean (3) or krum (4)");
    if ((uint64_t)s->share_donors_bp + s->share_trainer_bp + s->share_runner_bp != LEDGER_SHARES_BP)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "revenue shares must sum to 10000 basis points");
    return LEDGER_OK;
}

int ledger_contract_spec_register_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    ledger_spec_t s;
    if (ledger_spec_from_body(&tx->body.spec_register, &s) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "spec features do not decode");
    return s_spec_rules(&s, err, err_cap);
}

static int s_spec_register_rules(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                 size_t err_cap)
{
    ledger_trainer_t t;
    const uint8_t key[1] = {LEDGER_KEY_SPEC_DIR};
    const char *read_msg = "cannot read the trainers or specs";
    int rc = ledger_trainer_get(st, tx->from, &t);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_TRAINER,
                              "sender is not a registered trainer");
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "%s", read_msg);
    return ledger_data_list_room(st, key, sizeof key, LEDGER_SPECS_MAX, LEDGER_SPECS_MAX, read_msg,
                                 "the spec registry is full", err, err_cap, NULL);
}

int ledger_contract_spec_register_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    return s_spec_register_rules(st, tx, err, err_cap);
}

int ledger_contract_spec_register_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    const uint8_t key[1] = {LEDGER_KEY_SPEC_DIR};
    ledger_spec_t s;
    int rc = s_spec_register_rules(st, tx, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if (ledger_spec_from_body(&tx->body.spec_register, &s) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "spec features do not decode");
    ledger_tx_id(tx->bytes, tx->len, s.id);
    memcpy(s.trainer, tx->from, 32);
    s.height = ledger_state_base_height(st) + 1;
    if ((rc = ledger_spec_put(st, &s)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "out of memory");
    return ledger_data_ids_append(st, key, sizeof key, LEDGER_SPECS_MAX, s.id,
                                  "the spec registry is full", err, err_cap);
}

/* ------------------------------------------------------------ DONOR_REGISTER */

int ledger_contract_donor_register_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    memset(&body->donor_register, 0, sizeof body->donor_register);
    return ledger_body_bin_decode(r, PROTO_REPORT_MAX_BYTES, &body->donor_register.receipt,
                                  &body->donor_register.receipt_len);
}

void ledger_contract_donor_register_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    ledger_body_bin_encode(w, body->donor_register.receipt, body->donor_register.receipt_len);
}

typedef struct {
    proto_receipt_t rc;
    uint8_t enclave[32];
    ledger_spec_t spec;
    ledger_data_t data;
} s_donation_t;

static int s_donor_rules(ledger_state_t *st, const ledger_tx_t *tx, s_donation_t *x, char *err,
                         size_t err_cap)
{
    const ledger_donor_register_t *b = &tx->body.donor_register;
    ledger_enclave_t e;
    ledger_donor_t old;
    if (proto_receipt_decode(b->receipt, b->receipt_len, &x->rc) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT, "donation receipt does not decode");
    if (proto_receipt_verify(&x->rc, NULL) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "donation receipt signature does not verify");
    if (memcmp(x->rc.donor, tx->from, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "donation receipt names another donor");
    ledger_enclave_id(x->rc.enclave_pk, x->enclave);
    int rc = ledger_data_enclave_usable(st, x->enclave, PROTO_ATTEST_KIND_TRAINING,
                                        LEDGER_E_RECEIPT, &e, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_spec(st, x->rc.spec_id, &x->spec, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if (memcmp(e.measurement, x->spec.measurement, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "the receipt's enclave does not run the spec's measurement");
    if ((rc = s_active_owned(st, x->rc.data_id, tx->from, &x->data, err, err_cap)) != LEDGER_OK)
        return rc;
    if (memcmp(x->rc.data_commitment, x->data.id, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "the receipt's commitment is not the record's");
    if ((rc = s_consent_allows(st, &x->data, &x->spec, err, err_cap)) != LEDGER_OK)
        return rc;
    rc = ledger_donor_get(st, x->spec.id, x->data.id, &old);
    if (rc == LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "already a donor of this spec with this record: receipt replayed");
    if (rc != LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, rc, "cannot read the donors");
    if (x->spec.n_donors >= LEDGER_DONORS_PER_SPEC_MAX)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE,
                              "the spec has the most donors it may have");
    return s_trail_room(st, x->data.id, err, err_cap);
}

int ledger_contract_donor_register_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    s_donation_t *x = malloc(sizeof *x);
    if (!x)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_donor_rules(st, tx, x, err, err_cap);
    free(x);
    return rc;
}

int ledger_contract_donor_register_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], txid[32];
    s_donation_t *x = malloc(sizeof *x);
    if (!x)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_donor_rules(st, tx, x, err, err_cap);
    if (rc != LEDGER_OK)
        goto out;
    ledger_donor_t d = {.time_ms = x->rc.time_ms,
                        .height = ledger_state_base_height(st) + 1,
                        .seq = x->spec.n_donors}; /* its index in the donor list below */
    memcpy(d.spec_id, x->spec.id, 32);
    memcpy(d.data_id, x->data.id, 32);
    memcpy(d.owner, tx->from, 32);
    memcpy(d.enclave_id, x->enclave, 32);
    if ((rc = ledger_donor_put(st, &d)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "out of memory");
        goto out;
    }
    ledger_data_key1(key, LEDGER_KEY_DONOR_DIR, d.spec_id);
    rc = ledger_data_ids_append(st, key, sizeof key, LEDGER_DONORS_PER_SPEC_MAX, d.data_id,
                                "the spec has the most donors it may have", err, err_cap);
    if (rc != LEDGER_OK)
        goto out;
    ledger_tx_id(tx->bytes, tx->len, txid);
    rc = ledger_data_use_add(st, d.data_id, LEDGER_USE_DONATED, d.enclave_id, d.spec_id, txid,
                             d.height, err, err_cap);
out:
    free(x);
    return rc;
}

/* ------------------------------------------------------------ KEY_AUTHORIZE */

int ledger_contract_key_authorize_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_key_authorize_t *b = &body->key_authorize;
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 4);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->data_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->spec_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->enclave_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(r, LEDGER_GRANT_MAX, &b->grant, &b->grant_len);
    return rc;
}

void ledger_contract_key_authorize_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_key_authorize_t *b = &body->key_authorize;
    proto_wr_array(w, 4);
    proto_wr_bin(w, b->data_id, 32);
    proto_wr_bin(w, b->spec_id, 32);
    proto_wr_bin(w, b->enclave_id, 32);
    proto_wr_bin(w, b->grant, b->grant_len);
}

int ledger_contract_key_authorize_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    if (tx->body.key_authorize.grant_len == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "empty key grant");
    return LEDGER_OK;
}

static int s_key_rules(ledger_state_t *st, const ledger_tx_t *tx, ledger_spec_t *s, char *err,
                       size_t err_cap)
{
    const ledger_key_authorize_t *b = &tx->body.key_authorize;
    ledger_data_t d;
    ledger_enclave_t e;
    int rc = s_active_owned(st, b->data_id, tx->from, &d, err, err_cap);
    if (rc == LEDGER_OK)
        rc = s_spec(st, b->spec_id, s, err, err_cap);
    if (rc == LEDGER_OK)
        rc = ledger_data_enclave_usable(st, b->enclave_id, PROTO_ATTEST_KIND_TRAINING,
                                        LEDGER_E_ENCLAVE_RULE, &e, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if (memcmp(e.measurement, s->measurement, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE,
                              "the enclave does not run the spec's measurement");
    if ((rc = s_consent_allows(st, &d, s, err, err_cap)) != LEDGER_OK)
        return rc;
    return s_trail_room(st, d.id, err, err_cap);
}

int ledger_contract_key_authorize_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    ledger_spec_t *s = malloc(sizeof *s);
    if (!s)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_key_rules(st, tx, s, err, err_cap);
    free(s);
    return rc;
}

int ledger_contract_key_authorize_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    const ledger_key_authorize_t *b = &tx->body.key_authorize;
    uint8_t txid[32];
    ledger_spec_t *s = malloc(sizeof *s);
    if (!s)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    int rc = s_key_rules(st, tx, s, err, err_cap);
    free(s);
    if (rc != LEDGER_OK)
        return rc;
    rc = ledger_key_grant_put(st, b->data_id, b->enclave_id, b->spec_id, b->grant, b->grant_len);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "out of memory");
    ledger_tx_id(tx->bytes, tx->len, txid);
    return ledger_data_use_add(st, b->data_id, LEDGER_USE_KEY_AUTHORIZED, b->enclave_id, b->spec_id,
                               txid, ledger_state_base_height(st) + 1, err, err_cap);
}

/* ------------------------------------------------------------ client helpers */

uint8_t *ledger_contract_trainer_register_tx(const proto_key_t *key,
                                             const uint8_t chain_id[static 32], uint64_t nonce,
                                             const char *name, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    size_t n = strlen(name);
    if (n > LEDGER_TEXT_MAX)
        return NULL;
    tx.body.trainer_register.name = name;
    tx.body.trainer_register.name_len = n;
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_TRAINER_REGISTER, len);
}

uint8_t *ledger_contract_spec_register_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const ledger_spec_t *s, size_t *len)
{
    size_t lt = strnlen(s->model_type, sizeof s->model_type),
           lp = strnlen(s->purpose, sizeof s->purpose), ll = strnlen(s->label, sizeof s->label);
    if (s->n_features > LEDGER_SPEC_FEATURES_MAX || lt > LEDGER_NAME_MAX || lp > LEDGER_NAME_MAX ||
        ll > LEDGER_TEXT_MAX)
        return NULL;
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    ledger_spec_register_t *b = &tx.body.spec_register;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, s->n_features);
    for (uint32_t i = 0; i < s->n_features; i++)
        proto_wr_str(&w, s->features[i], strnlen(s->features[i], sizeof s->features[i]));
    b->features.raw = proto_wr_data(&w, &b->features.len);
    b->features.n = s->n_features;
    uint8_t *out = NULL;
    if (b->features.raw) {
        b->model_type = s->model_type;
        b->model_type_len = lt;
        b->purpose = s->purpose;
        b->purpose_len = lp;
        b->label = s->label;
        b->label_len = ll;
        memcpy(b->measurement, s->measurement, 32);
        b->min_donors = s->min_donors;
        b->max_epsilon_milli = s->max_epsilon_milli;
        b->aggregation = s->aggregation;
        b->price = s->price;
        b->share_donors_bp = s->share_donors_bp;
        b->share_trainer_bp = s->share_trainer_bp;
        b->share_runner_bp = s->share_runner_bp;
        out = ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_SPEC_REGISTER, len);
    }
    proto_wr_free(&w);
    return out;
}

uint8_t *ledger_contract_donor_register_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static 32], uint64_t nonce,
                                           const uint8_t *receipt, size_t receipt_len, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (receipt_len > PROTO_REPORT_MAX_BYTES || (!receipt && receipt_len))
        return NULL;
    tx.body.donor_register.receipt = receipt;
    tx.body.donor_register.receipt_len = receipt_len;
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_DONOR_REGISTER, len);
}

uint8_t *ledger_contract_key_authorize_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const uint8_t data_id[static 32],
                                          const uint8_t spec_id[static 32],
                                          const uint8_t enclave_id[static 32], const uint8_t *grant,
                                          size_t grant_len, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (grant_len > LEDGER_GRANT_MAX || (!grant && grant_len))
        return NULL;
    ledger_key_authorize_t *b = &tx.body.key_authorize;
    memcpy(b->data_id, data_id, 32);
    memcpy(b->spec_id, spec_id, 32);
    memcpy(b->enclave_id, enclave_id, 32);
    b->grant = grant;
    b->grant_len = grant_len;
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_KEY_AUTHORIZE, len);
}
