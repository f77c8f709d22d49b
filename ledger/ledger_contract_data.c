/*  ledger_contract_data: the data owner's records and consents, four native contracts.
 *
 *  DATA_REGISTER   body = [data_type u32, size_class u32, commitment bin32, address bin32,
 *                          report bin (<= PROTO_REPORT_MAX_BYTES)]
 *  - check: data_type is genotype (1) or phenotype (2); size_class <= LEDGER_SIZE_CLASS_MAX.
 *  - apply: the report decodes and its signature verifies (LEDGER_E_RECEIPT); it is about
 *    this commitment and this data type, and every check it ran passed (LEDGER_E_RECEIPT);
 *    its signer, the enclave ledger_enclave_id(report.enclave_pk), is registered, of kind
 *    VALIDATION, active, its platform key and measurement not revoked (LEDGER_E_RECEIPT);
 *    the commitment (the data id) is not registered yet and the sender has fewer than
 *    LEDGER_DATA_PER_OWNER_MAX records (LEDGER_E_DATA_RULE). Writes the record (owner =
 *    sender), appends it to the owner's list and starts its audit trail with VALIDATED
 *    (actor = the validation enclave).
 *  DATA_WITHDRAW   body = [data_id bin32]
 *  - the record exists, the sender owns it, it is active (LEDGER_E_DATA_RULE): it becomes
 *    withdrawn at this height; audit trail WITHDRAWN (actor = the owner). The trail keeps
 *    its last slot for the withdrawal, so a full trail never blocks one.
 *  CONSENT_SET     body = [data_id bin32 (zero: the default), allow_types [str],
 *                          allow_purposes [str], deny_types [str], deny_purposes [str],
 *                          max_epsilon_milli u32, min_audits u32, auditors [bin32]]
 *  - check: every list <= LEDGER_CONSENT_LIST_MAX (decode), every name valid
 *    (ledger_name_valid, "*" allowed).
 *  - apply: a per-record consent names a record the sender owns (LEDGER_E_DATA_RULE);
 *    replaces the consent of (sender, data_id).
 *  CONSENT_REVOKE  body = [data_id bin32 (zero: the default)]
 *  - the consent of (sender, data_id) exists (LEDGER_E_DATA_RULE); it is deleted (deny by
 *    default, or the default consent for a record whose override goes).
 *  admit (mempool) runs the same rules as apply against committed state, writing nothing.
 *  Heights are the block's (base height + 1); nothing reads a clock.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_attest.h"
#include "proto/proto_report.h"

static const uint8_t s_zero[32];

_Static_assert(PROTO_DATA_GENOTYPE == 1 && PROTO_DATA_PHENOTYPE == 2, "data types");

int ledger_data_enclave_usable(ledger_state_t *st, const uint8_t id[static 32], uint32_t kind,
                               int code, ledger_enclave_t *e, char *err, size_t err_cap)
{
    bool rev_p = false, rev_m = false;
    int rc = ledger_enclave_get(st, id, e);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, code, "%s",
                              kind == PROTO_ATTEST_KIND_VALIDATION
                                  ? "validation enclave not registered"
                                  : "training enclave not registered");
    if (rc == LEDGER_OK)
        rc = ledger_enclave_revoked(st, LEDGER_REVOKE_PLATFORM, e->platform_pk, &rev_p, NULL);
    if (rc == LEDGER_OK)
        rc = ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, e->measurement, &rev_m, NULL);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the enclave registry");
    if (e->kind != kind)
        return proto_err_fail(err, err_cap, code, "%s",
                              kind == PROTO_ATTEST_KIND_VALIDATION
                                  ? "enclave is not a validation enclave"
                                  : "enclave is not a training enclave");
    if (e->status != LEDGER_ENCLAVE_ACTIVE)
        return proto_err_fail(err, err_cap, code, "%s",
                              e->status == LEDGER_ENCLAVE_RETIRED ? "enclave retired"
                                                                  : "enclave revoked");
    if (rev_p)
        return proto_err_fail(err, err_cap, code, "enclave's platform key revoked");
    if (rev_m)
        return proto_err_fail(err, err_cap, code, "enclave's measurement revoked");
    return LEDGER_OK;
}

int ledger_data_owned(ledger_state_t *st, const uint8_t id[static 32],
                      const uint8_t from[static 32], ledger_data_t *d, char *err, size_t err_cap)
{
    int rc = ledger_data_get(st, id, d);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "no such data record");
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the data record");
    if (memcmp(d->owner, from, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE,
                              "sender does not own the data record");
    return LEDGER_OK;
}

/* ------------------------------------------------------------ DATA_REGISTER */

int ledger_contract_data_register_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_data_register_t *b = &body->data_register;
    uint64_t type = 0, size = 0;
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 5);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &type);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &size);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->commitment);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->address);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(r, PROTO_REPORT_MAX_BYTES, &b->report, &b->report_len);
    b->data_type = (uint32_t)type;
    b->size_class = (uint32_t)size;
    return rc;
}

void ledger_contract_data_register_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_data_register_t *b = &body->data_register;
    proto_wr_array(w, 5);
    proto_wr_uint(w, b->data_type);
    proto_wr_uint(w, b->size_class);
    proto_wr_bin(w, b->commitment, 32);
    proto_wr_bin(w, b->address, 32);
    proto_wr_bin(w, b->report, b->report_len);
}

int ledger_contract_data_register_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const ledger_data_register_t *b = &tx->body.data_register;
    if (b->data_type != PROTO_DATA_GENOTYPE && b->data_type != PROTO_DATA_PHENOTYPE)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "data type must be genotype (1) or phenotype (2)");
    if (b->size_class > LEDGER_SIZE_CLASS_MAX)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID, "size class above 40");
    return LEDGER_OK;
}

static int s_register_rules(ledger_state_t *st, const ledger_tx_t *tx, uint8_t enclave[static 32],
                            char *err, size_t err_cap)
{
    const ledger_data_register_t *b = &tx->body.data_register;
    proto_report_t rep;
    ledger_enclave_t e;
    ledger_data_t old;
    if (proto_report_decode(b->report, b->report_len, &rep) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT, "validation report does not decode");
    if (proto_report_verify(&rep, NULL) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "validation report signature does not verify");
    if (memcmp(rep.data_commitment, b->commitment, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "validation report is about other data");
    if (rep.data_type != b->data_type)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "validation report names another data type");
    if (rep.checks_passed != rep.checks_run)
        return proto_err_fail(err, err_cap, LEDGER_E_RECEIPT,
                              "validation report: not every check passed");
    ledger_enclave_id(rep.enclave_pk, enclave);
    int rc = ledger_data_enclave_usable(st, enclave, PROTO_ATTEST_KIND_VALIDATION, LEDGER_E_RECEIPT,
                                        &e, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    rc = ledger_data_get(st, b->commitment, &old);
    if (rc == LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "data already registered");
    if (rc != LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, rc, "cannot read the data registry");
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    ledger_data_key1(key, LEDGER_KEY_DATA_OWNER, tx->from);
    return ledger_data_list_room(st, key, sizeof key, LEDGER_DATA_PER_OWNER_MAX,
                                 LEDGER_DATA_PER_OWNER_MAX, "cannot read the owner's records",
                                 "the owner has registered the most records an account may", err,
                                 err_cap, NULL);
}

int ledger_contract_data_register_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    uint8_t enclave[32];
    return s_register_rules(st, tx, enclave, err, err_cap);
}

int ledger_contract_data_register_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    const ledger_data_register_t *b = &tx->body.data_register;
    uint8_t enclave[32], txid[32], key[LEDGER_DATA_KEY1_LEN];
    int rc = s_register_rules(st, tx, enclave, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    uint64_t height = ledger_state_base_height(st) + 1;
    ledger_data_t d = {.data_type = b->data_type,
                       .size_class = b->size_class,
                       .height = height,
                       .status = LEDGER_DATA_ACTIVE};
    memcpy(d.id, b->commitment, 32);
    memcpy(d.owner, tx->from, 32);
    memcpy(d.address, b->address, 32);
    memcpy(d.validator, enclave, 32);
    if ((rc = ledger_data_put(st, &d)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "out of memory");
    ledger_data_key1(key, LEDGER_KEY_DATA_OWNER, tx->from);
    rc = ledger_data_ids_append(st, key, sizeof key, LEDGER_DATA_PER_OWNER_MAX, d.id,
                                "the owner has registered the most records an account may", err,
                                err_cap);
    if (rc != LEDGER_OK)
        return rc;
    ledger_tx_id(tx->bytes, tx->len, txid);
    return ledger_data_use_add(st, d.id, LEDGER_USE_VALIDATED, enclave, NULL, txid, height, err,
                               err_cap);
}

/* ------------------------------------------------------------ DATA_WITHDRAW */

static int s_ref_decode(proto_rd_t *r, ledger_data_ref_t *b)
{
    memset(b, 0, sizeof *b);
    return ledger_body_id_decode(r, b->data_id);
}

static void s_ref_encode(proto_wr_t *w, const ledger_data_ref_t *b)
{
    ledger_body_bin_encode(w, b->data_id, 32);
}

int ledger_contract_data_withdraw_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    return s_ref_decode(r, &body->data_withdraw);
}

void ledger_contract_data_withdraw_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    s_ref_encode(w, &body->data_withdraw);
}

static int s_withdraw_rules(ledger_state_t *st, const ledger_tx_t *tx, ledger_data_t *d, char *err,
                            size_t err_cap)
{
    int rc = ledger_data_owned(st, tx->body.data_withdraw.data_id, tx->from, d, err, err_cap);
    if (rc == LEDGER_OK && d->status != LEDGER_DATA_ACTIVE) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "data record already withdrawn");
    }
    return rc;
}

int ledger_contract_data_withdraw_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    ledger_data_t d;
    return s_withdraw_rules(st, tx, &d, err, err_cap);
}

int ledger_contract_data_withdraw_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    ledger_data_t d;
    uint8_t txid[32];
    int rc = s_withdraw_rules(st, tx, &d, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    d.status = LEDGER_DATA_WITHDRAWN;
    d.status_height = ledger_state_base_height(st) + 1;
    if ((rc = ledger_data_put(st, &d)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "out of memory");
    ledger_tx_id(tx->bytes, tx->len, txid);
    return ledger_data_use_add(st, d.id, LEDGER_USE_WITHDRAWN, tx->from, NULL, txid,
                               d.status_height, err, err_cap);
}

/* ------------------------------------------------------------ CONSENT_SET */

int ledger_contract_consent_set_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_consent_set_t *b = &body->consent_set;
    uint64_t eps = 0, audits = 0;
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 8);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, b->data_id);
    ledger_list_view_t *lists[4] = {&b->allow_types, &b->allow_purposes, &b->deny_types,
                                    &b->deny_purposes};
    for (size_t i = 0; i < 4 && rc == PROTO_OK; i++)
        rc = ledger_list_rd_str(r, LEDGER_CONSENT_LIST_MAX, LEDGER_NAME_MAX, lists[i]);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &eps);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &audits);
    if (rc == PROTO_OK)
        rc = ledger_list_rd_bin32(r, LEDGER_CONSENT_LIST_MAX, &b->auditors);
    b->max_epsilon_milli = (uint32_t)eps;
    b->min_audits = (uint32_t)audits;
    return rc;
}

void ledger_contract_consent_set_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_consent_set_t *b = &body->consent_set;
    proto_wr_array(w, 8);
    proto_wr_bin(w, b->data_id, 32);
    proto_wr_raw(w, b->allow_types.raw, b->allow_types.len);
    proto_wr_raw(w, b->allow_purposes.raw, b->allow_purposes.len);
    proto_wr_raw(w, b->deny_types.raw, b->deny_types.len);
    proto_wr_raw(w, b->deny_purposes.raw, b->deny_purposes.len);
    proto_wr_uint(w, b->max_epsilon_milli);
    proto_wr_uint(w, b->min_audits);
    proto_wr_raw(w, b->auditors.raw, b->auditors.len);
}

static bool s_names_ok(const ledger_names_t *names)
{
    for (uint32_t i = 0; i < names->n; i++)
        if (!ledger_name_valid(names->v[i], strlen(names->v[i]), true))
            return false;
    return true;
}

int ledger_contract_consent_set_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    ledger_consent_t c;
    if (ledger_consent_from_body(&tx->body.consent_set, &c) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "consent lists do not decode");
    if (!s_names_ok(&c.allow_types) || !s_names_ok(&c.allow_purposes) ||
        !s_names_ok(&c.deny_types) || !s_names_ok(&c.deny_purposes))
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "a consent name is not 1..32 bytes of [a-z0-9_-] or \"*\"");
    return LEDGER_OK;
}

static int s_consent_rules(ledger_state_t *st, const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const uint8_t *id = tx->body.consent_set.data_id;
    ledger_data_t d;
    if (memcmp(id, s_zero, 32) == 0)
        return LEDGER_OK;
    return ledger_data_owned(st, id, tx->from, &d, err, err_cap);
}

int ledger_contract_consent_set_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                      size_t err_cap)
{
    return s_consent_rules(st, tx, err, err_cap);
}

int ledger_contract_consent_set_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                      size_t err_cap)
{
    ledger_consent_t c;
    int rc = s_consent_rules(st, tx, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if (ledger_consent_from_body(&tx->body.consent_set, &c) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "consent lists do not decode");
    memcpy(c.owner, tx->from, 32);
    c.height = ledger_state_base_height(st) + 1;
    if ((rc = ledger_consent_put(st, &c)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ CONSENT_REVOKE */

int ledger_contract_consent_revoke_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    return s_ref_decode(r, &body->consent_revoke);
}

void ledger_contract_consent_revoke_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    s_ref_encode(w, &body->consent_revoke);
}

static int s_revoke_rules(ledger_state_t *st, const ledger_tx_t *tx, char *err, size_t err_cap)
{
    ledger_consent_t c;
    int rc = ledger_consent_get(st, tx->from, tx->body.consent_revoke.data_id, &c);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "no such consent to revoke");
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "cannot read the consent");
    return rc;
}

int ledger_contract_consent_revoke_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    return s_revoke_rules(st, tx, err, err_cap);
}

int ledger_contract_consent_revoke_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN];
    int rc = s_revoke_rules(st, tx, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    ledger_data_key2(key, LEDGER_KEY_CONSENT, tx->from, tx->body.consent_revoke.data_id);
    if ((rc = ledger_state_del(st, key, sizeof key)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ client helpers */

uint8_t *ledger_data_sign(ledger_tx_t *tx, const proto_key_t *key,
                          const uint8_t chain_id[static 32], uint64_t nonce, uint32_t type,
                          size_t *len)
{
    memcpy(tx->chain_id, chain_id, 32);
    tx->nonce = nonce;
    tx->type = type;
    return ledger_tx_sign(tx, key, len);
}

uint8_t *ledger_contract_data_register_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, uint32_t data_type, uint32_t size_class,
                                          const uint8_t commitment[static 32],
                                          const uint8_t address[static 32], const uint8_t *report,
                                          size_t report_len, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (report_len > PROTO_REPORT_MAX_BYTES || (!report && report_len))
        return NULL;
    ledger_data_register_t *b = &tx.body.data_register;
    b->data_type = data_type;
    b->size_class = size_class;
    memcpy(b->commitment, commitment, 32);
    memcpy(b->address, address, 32);
    b->report = report;
    b->report_len = report_len;
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_DATA_REGISTER, len);
}

uint8_t *ledger_contract_data_withdraw_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                          uint64_t nonce, const uint8_t data_id[static 32],
                                          size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.body.data_withdraw.data_id, data_id, 32);
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_DATA_WITHDRAW, len);
}

uint8_t *ledger_contract_consent_revoke_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static 32], uint64_t nonce,
                                           const uint8_t data_id[static 32], size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.body.consent_revoke.data_id, data_id, 32);
    return ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_CONSENT_REVOKE, len);
}

/* Writes NAMES as a string array to W and records its span (from START) in V. */
static void s_wr_list(proto_wr_t *w, const ledger_names_t *names, size_t *start, size_t *end)
{
    size_t len = 0;
    (void)proto_wr_data(w, &len);
    *start = len;
    proto_wr_array(w, names->n);
    for (uint32_t i = 0; i < names->n; i++)
        proto_wr_str(w, names->v[i], strnlen(names->v[i], sizeof names->v[i]));
    (void)proto_wr_data(w, end);
}

uint8_t *ledger_contract_consent_set_tx(const proto_key_t *key, const uint8_t chain_id[static 32],
                                        uint64_t nonce, const ledger_consent_t *c, size_t *len)
{
    const ledger_names_t *names[4] = {&c->allow_types, &c->allow_purposes, &c->deny_types,
                                      &c->deny_purposes};
    for (size_t i = 0; i < 4; i++)
        if (names[i]->n > LEDGER_CONSENT_LIST_MAX)
            return NULL;
    if (c->n_auditors > LEDGER_CONSENT_LIST_MAX)
        return NULL;
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    ledger_consent_set_t *b = &tx.body.consent_set;
    ledger_list_view_t *views[5] = {&b->allow_types, &b->allow_purposes, &b->deny_types,
                                    &b->deny_purposes, &b->auditors};
    size_t span[5][2];
    proto_wr_t w;
    proto_wr_init(&w);
    for (size_t i = 0; i < 4; i++)
        s_wr_list(&w, names[i], &span[i][0], &span[i][1]);
    (void)proto_wr_data(&w, &span[4][0]);
    proto_wr_array(&w, c->n_auditors);
    for (uint32_t i = 0; i < c->n_auditors; i++)
        proto_wr_bin(&w, c->auditors[i], 32);
    size_t total = 0;
    const uint8_t *data = proto_wr_data(&w, &total);
    span[4][1] = total;
    uint8_t *out = NULL;
    if (data) {
        for (size_t i = 0; i < 5; i++) {
            views[i]->raw = data + span[i][0];
            views[i]->len = span[i][1] - span[i][0];
            views[i]->n = i < 4 ? names[i]->n : c->n_auditors;
        }
        memcpy(b->data_id, c->data_id, 32);
        b->max_epsilon_milli = c->max_epsilon_milli;
        b->min_audits = c->min_audits;
        out = ledger_data_sign(&tx, key, chain_id, nonce, LEDGER_TX_CONSENT_SET, len);
    }
    proto_wr_free(&w);
    return out;
}
