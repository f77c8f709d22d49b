/*  ledger_contract_enclave: the enclave registry, four native contracts that put attested
 *  enclaves, their audits, their revocations and their retirement on the ledger.
 *
 *  ENCLAVE_REGISTER  body = [kind uint32, measurement bin32, quote bin (<= 1,024)]
 *  - check (stateless): kind is validation (1), training (2) or query (3).
 *  - apply: genesis must name an attestation service (LEDGER_E_NO_ATTESTATION); the quote
 *    decodes strictly (proto_attest.h; LEDGER_E_MALFORMED); its measurement is the body's
 *    (ENCLAVE_E_MEASUREMENT_MISMATCH); its report data is the one an enclave of the
 *    declared kind bound at INIT to THIS chain's id makes (proto_attest_report_data with
 *    the tx's chain id, which ledger_tx_check holds to this chain's): ENCLAVE_E_ATTEST for
 *    a quote of another kind of this chain, ENCLAVE_E_CHAIN for one bound to another chain
 *    (an enclave its runner could feed a genesis of its own making); when it carries a
 *    certificate, that certificate names the sender as the runner (LEDGER_E_NOT_RUNNER);
 *    the quote and its certificate verify against that key (proto_attest_quote_verify) at the
 *    registry's clock, the time of the block this one builds on (ledger_state_base_time):
 *    certificate valid then (or issued at most LEDGER_ENCLAVE_QUOTE_MAX_SKEW_MS after it: the
 *    clock lags real time), quote time at most LEDGER_ENCLAVE_QUOTE_MAX_AGE_MS before it
 *    and at most LEDGER_ENCLAVE_QUOTE_MAX_SKEW_MS after it, platform key and measurement
 *    not revoked; each refusal is its own ENCLAVE_E_* code. The enclave id is
 *    H("genie/enclave/id/v1", enclave sign pk); an id already registered is refused, as
 *    is a registration past LEDGER_ENCLAVES_MAX enclaves (LEDGER_E_ENCLAVE_RULE).
 *    Stores 'e' id -> record and appends id to the directory 'n'.
 *  ENCLAVE_AUDIT     body = [measurement bin32, report hash bin32, verdict uint32 (1 ok, 2 bad)]
 *  - any account; one audit per (measurement, auditor), a new one replaces the old; at
 *    most LEDGER_ENCLAVE_AUDITS_MAX auditors per measurement. Stored under 'd' measurement.
 *  ENCLAVE_REVOKE    body = [what uint32 (1 platform key, 2 measurement), target bin32]
 *  - an authority's vote (LEDGER_E_NOT_AUTHORITY otherwise), once per target, not for a
 *    target already revoked (LEDGER_E_ENCLAVE_RULE). Voters are kept under 'w' (pruned to
 *    the current authorities whenever written). The vote that makes a strict majority of
 *    the current authorities revokes the target at once (in apply, so in tx order: the same
 *    on every node): 'r' what target -> height, the votes are deleted, and every enclave
 *    of the directory registered under that platform key or measurement is marked revoked
 *    at this height. Registrations under a revoked target are refused from then on.
 *  ENCLAVE_RETIRE    body = [enclave_id bin32]
 *  - the runner that registered the enclave (ledger_enclave_t.runner) says the process it
 *    names is gone (a restart makes new keys and a new registration): the enclave must be
 *    registered (LEDGER_E_ENCLAVE_RULE), the sender its runner (LEDGER_E_NOT_RUNNER) and
 *    it ACTIVE (LEDGER_E_ENCLAVE_RULE: retired or revoked already). It becomes RETIRED at
 *    this height; like a revoked one it stays listed and is no longer usable.
 *  admit (mempool) runs the same rules as apply against committed state, writing nothing.
 *
 *  The state layout and the reads are in ledger_enclave.c.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_enclave_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_attest.h"
#include "proto/proto_bytes.h"
#include "proto/proto_err.h"

_Static_assert(LEDGER_ENCLAVE_QUOTE_MAX == PROTO_ATTEST_QUOTE_MAX_BYTES, "quote bound");
_Static_assert((int)LEDGER_REVOKE_PLATFORM == (int)PROTO_ATTEST_REVOKED_PLATFORM &&
                   (int)LEDGER_REVOKE_MEASUREMENT == (int)PROTO_ATTEST_REVOKED_MEASUREMENT,
               "revocation kinds are proto_attest's");

static bool s_has(const uint8_t *keys, size_t n, const uint8_t *k)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys + i * LEDGER_ID_LEN, k, LEDGER_ID_LEN) == 0)
            return true;
    return false;
}

/* A static message for an attestation refusal. */
static const char *s_attest_why(int rc)
{
    switch (rc) {
    case PROTO_E_VERSION:
        return "quote: unknown version";
    case ENCLAVE_E_UNCERTIFIED:
        return "quote carries no platform certificate";
    case ENCLAVE_E_CERT_BAD_SIG:
        return "platform certificate not signed by the attestation service named in genesis";
    case ENCLAVE_E_CERT_NOT_YET_VALID:
        return "platform certificate not yet valid at the block's time";
    case ENCLAVE_E_CERT_EXPIRED:
        return "platform certificate expired at the block's time";
    case ENCLAVE_E_PLATFORM_MISMATCH:
        return "quote signed by a platform key its certificate does not name";
    case ENCLAVE_E_REVOKED_PLATFORM:
        return "platform key revoked";
    case ENCLAVE_E_BAD_SIG:
        return "quote signature does not verify";
    case ENCLAVE_E_REVOKED_MEASUREMENT:
        return "measurement revoked";
    case ENCLAVE_E_MEASUREMENT_MISMATCH:
        return "quote measurement is not the registered one";
    case ENCLAVE_E_FUTURE:
        return "quote time too far ahead of the block's time";
    case ENCLAVE_E_STALE:
        return "quote too old for the block's time";
    default:
        return "quote refused";
    }
}

/* ------------------------------------------------------------ REGISTER */

int ledger_contract_enclave_register_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_enclave_register_t *b = &body->enclave_register;
    uint64_t kind = 0;
    memset(b, 0, sizeof *b);
    int rc = proto_rd_array_exact(r, 3);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &kind);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, b->measurement);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(r, LEDGER_ENCLAVE_QUOTE_MAX, &b->quote, &b->quote_len);
    b->kind = (uint32_t)kind;
    return rc;
}

void ledger_contract_enclave_register_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_enclave_register_t *b = &body->enclave_register;
    proto_wr_array(w, 3);
    proto_wr_uint(w, b->kind);
    proto_wr_bin(w, b->measurement, LEDGER_ID_LEN);
    proto_wr_bin(w, b->quote, b->quote_len);
}

int ledger_contract_enclave_register_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    if (!proto_attest_kind_name(tx->body.enclave_register.kind))
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "enclave kind must be validation (1), training (2) or query (3)");
    return LEDGER_OK;
}

/* The quote's own rules, with the decoded quote in *Q (apply and admit: check() answers
   LEDGER_E_INVALID only, these have their own codes). */
static int s_register_quote(const ledger_tx_t *tx, proto_attest_quote_t *q, char *err,
                            size_t err_cap)
{
    const ledger_enclave_register_t *b = &tx->body.enclave_register;
    if (proto_attest_quote_decode(b->quote, b->quote_len, q) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "quote does not decode");
    if (memcmp(q->measurement, b->measurement, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_MEASUREMENT_MISMATCH,
                              "quote measurement is not the registered one");
    /* tx->chain_id is this chain's: ledger_tx_check refused any other before apply/admit */
    uint8_t want[PROTO_ATTEST_REPORT_DATA_LEN];
    proto_attest_report_data(b->kind, tx->chain_id, want);
    if (memcmp(want, q->body.report_data, sizeof want) != 0) {
        for (uint32_t k = PROTO_ATTEST_KIND_VALIDATION; k <= PROTO_ATTEST_KIND_QUERY; k++) {
            proto_attest_report_data(k, tx->chain_id, want);
            if (memcmp(want, q->body.report_data, sizeof want) == 0)
                return proto_err_fail(
                    err, err_cap, ENCLAVE_E_ATTEST,
                    "quote's report data is not that of an enclave of the declared kind");
        }
        return proto_err_fail(err, err_cap, ENCLAVE_E_CHAIN,
                              "quote's report data is not bound to this chain: the enclave "
                              "follows another chain id");
    }
    if (q->has_cert && memcmp(q->cert.runner_account, tx->from, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_RUNNER,
                              "sender is not the runner account the platform certificate names");
    return LEDGER_OK;
}

/* The rules shared by admit and apply: on success *Q holds the verified quote and ID the
   new enclave's id. */
static int s_register_rules(ledger_state_t *st, const ledger_tx_t *tx, proto_attest_quote_t *q,
                            uint8_t id[static LEDGER_ID_LEN], char *err, size_t err_cap)
{
    uint8_t as_pk[LEDGER_ID_LEN];
    int rc = ledger_enclave_attestation_key(st, as_pk);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_NO_ATTESTATION,
                              "genesis names no attestation service: no enclave can register");
    if (rc == LEDGER_OK && (rc = s_register_quote(tx, q, err, err_cap)) != LEDGER_OK)
        return rc;
    bool rev_platform, rev_measurement;
    if (rc != LEDGER_OK ||
        (rc = ledger_enclave_revoked(st, LEDGER_REVOKE_PLATFORM, q->platform_pk, &rev_platform,
                                     NULL)) != LEDGER_OK ||
        (rc = ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, q->measurement,
                                     &rev_measurement, NULL)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the enclave registry");
    proto_attest_policy_t pol;
    memset(&pol, 0, sizeof pol);
    pol.want_measurement = tx->body.enclave_register.measurement;
    pol.now_ms = ledger_state_base_time(st);
    pol.max_age_ms = LEDGER_ENCLAVE_QUOTE_MAX_AGE_MS;
    pol.max_skew_ms = LEDGER_ENCLAVE_QUOTE_MAX_SKEW_MS;
    pol.cert_skew_ms = LEDGER_ENCLAVE_QUOTE_MAX_SKEW_MS; /* the clock lags real time */
    pol.revoked_platforms = rev_platform ? (const uint8_t(*)[32])q->platform_pk : NULL;
    pol.n_revoked_platforms = rev_platform ? 1 : 0;
    pol.revoked_measurements = rev_measurement ? (const uint8_t(*)[32])q->measurement : NULL;
    pol.n_revoked_measurements = rev_measurement ? 1 : 0;
    if ((rc = proto_attest_quote_verify(q, as_pk, &pol, NULL, 0)) != PROTO_OK)
        return proto_err_fail(err, err_cap, rc, "%s", s_attest_why(rc));
    ledger_enclave_t old;
    ledger_enclave_id(q->body.sign_pk, id);
    rc = ledger_enclave_get(st, id, &old);
    if (rc == LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE, "enclave already registered");
    if (rc != LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, rc, "cannot read the enclave registry");
    return LEDGER_OK;
}

int ledger_contract_enclave_register_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                           size_t err_cap)
{
    proto_attest_quote_t q;
    uint8_t id[LEDGER_ID_LEN];
    return s_register_rules(st, tx, &q, id, err, err_cap);
}

int ledger_contract_enclave_register_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                           size_t err_cap)
{
    proto_attest_quote_t q;
    uint8_t id[LEDGER_ID_LEN], key[LEDGER_ENCLAVE_EKEY_LEN], rec[LEDGER_ENCLAVE_REC_LEN],
        *ids = NULL;
    size_t n = 0;
    int rc = s_register_rules(st, tx, &q, id, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    if ((rc = ledger_enclave_dir(st, &ids, &n)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the enclave directory");
    if (n >= LEDGER_ENCLAVES_MAX) {
        free(ids);
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE, "the enclave registry is full");
    }
    uint8_t *grown = realloc(ids, (n + 1) * LEDGER_ID_LEN);
    if (!grown) {
        free(ids);
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    }
    memcpy(grown + n * LEDGER_ID_LEN, id, LEDGER_ID_LEN);
    ledger_enclave_t e = {.kind = tx->body.enclave_register.kind,
                          .height = ledger_state_base_height(st) + 1,
                          .status = LEDGER_ENCLAVE_ACTIVE};
    memcpy(e.runner, tx->from, LEDGER_ID_LEN);
    memcpy(e.measurement, q.measurement, 32);
    memcpy(e.sign_pk, q.body.sign_pk, 32);
    memcpy(e.box_pk, q.body.box_pk, 32);
    memcpy(e.platform_pk, q.platform_pk, 32);
    ledger_enclave_rec_encode(&e, rec);
    ledger_enclave_key(key, LEDGER_KEY_ENCLAVE, id);
    const uint8_t dkey[1] = {LEDGER_KEY_ENCLAVE_DIR};
    rc = ledger_state_put(st, key, sizeof key, rec, sizeof rec);
    if (rc == LEDGER_OK)
        rc = ledger_state_put(st, dkey, sizeof dkey, grown, (n + 1) * LEDGER_ID_LEN);
    free(grown);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ AUDIT */

int ledger_contract_enclave_audit_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_enclave_audit_t *a = &body->enclave_audit;
    uint64_t verdict = 0;
    memset(a, 0, sizeof *a);
    int rc = proto_rd_array_exact(r, 3);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, a->measurement);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, a->report_hash);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &verdict);
    a->verdict = (uint32_t)verdict;
    return rc;
}

void ledger_contract_enclave_audit_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    const ledger_enclave_audit_t *a = &body->enclave_audit;
    proto_wr_array(w, 3);
    proto_wr_bin(w, a->measurement, LEDGER_ID_LEN);
    proto_wr_bin(w, a->report_hash, LEDGER_ID_LEN);
    proto_wr_uint(w, a->verdict);
}

int ledger_contract_enclave_audit_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    uint32_t v = tx->body.enclave_audit.verdict;
    if (v != LEDGER_AUDIT_OK && v != LEDGER_AUDIT_BAD)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "audit verdict must be ok (1) or bad (2)");
    return LEDGER_OK;
}

/* Reads the audit list of the tx's measurement into *VAL (*VLEN bytes) and finds the
   sender's slot: *POS, *FOUND. Refuses a new auditor past the bound. */
static int s_audit_rules(ledger_state_t *st, const ledger_tx_t *tx, uint8_t **val, size_t *vlen,
                         size_t *pos, bool *found, char *err, size_t err_cap)
{
    uint8_t key[LEDGER_ENCLAVE_EKEY_LEN];
    ledger_enclave_key(key, LEDGER_KEY_AUDIT, tx->body.enclave_audit.measurement);
    int rc = ledger_enclave_get_opt(st, key, sizeof key, val, vlen);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the audits");
    size_t n = *vlen / LEDGER_ENCLAVE_AUDIT_LEN;
    if (*vlen % LEDGER_ENCLAVE_AUDIT_LEN != 0 || n > LEDGER_ENCLAVE_AUDITS_MAX)
        return proto_err_fail(err, err_cap, LEDGER_E_CORRUPT, "audit list corrupt");
    *pos = 0;
    *found = false;
    while (*pos < n) {
        int c = memcmp(*val + *pos * LEDGER_ENCLAVE_AUDIT_LEN, tx->from, LEDGER_ID_LEN);
        if (c >= 0) {
            *found = c == 0;
            break;
        }
        (*pos)++;
    }
    if (!*found && n >= LEDGER_ENCLAVE_AUDITS_MAX)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE,
                              "this measurement has the most auditors it may have");
    return LEDGER_OK;
}

int ledger_contract_enclave_audit_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    uint8_t *val = NULL;
    size_t vlen, pos;
    bool found;
    int rc = s_audit_rules(st, tx, &val, &vlen, &pos, &found, err, err_cap);
    free(val);
    return rc;
}

int ledger_contract_enclave_audit_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                        size_t err_cap)
{
    const ledger_enclave_audit_t *a = &tx->body.enclave_audit;
    uint8_t *val = NULL, key[LEDGER_ENCLAVE_EKEY_LEN];
    size_t vlen = 0, pos = 0;
    bool found = false;
    int rc = s_audit_rules(st, tx, &val, &vlen, &pos, &found, err, err_cap);
    if (rc != LEDGER_OK) {
        free(val);
        return rc;
    }
    size_t nlen = found ? vlen : vlen + LEDGER_ENCLAVE_AUDIT_LEN;
    uint8_t *list = malloc(nlen);
    if (!list) {
        free(val);
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    }
    size_t head = pos * LEDGER_ENCLAVE_AUDIT_LEN,
           tail = found ? head + LEDGER_ENCLAVE_AUDIT_LEN : head;
    if (head)
        memcpy(list, val, head);
    uint8_t *p = list + head;
    memcpy(p, tx->from, 32);
    memcpy(p + 32, a->report_hash, 32);
    p[64] = (uint8_t)a->verdict;
    proto_be64_put(p + 65, ledger_state_base_height(st) + 1);
    if (vlen > tail)
        memcpy(p + LEDGER_ENCLAVE_AUDIT_LEN, val + tail, vlen - tail);
    free(val);
    ledger_enclave_key(key, LEDGER_KEY_AUDIT, a->measurement);
    rc = ledger_state_put(st, key, sizeof key, list, nlen);
    free(list);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ REVOKE */

int ledger_contract_enclave_revoke_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    ledger_enclave_revoke_t *v = &body->enclave_revoke;
    uint64_t what = 0;
    memset(v, 0, sizeof *v);
    int rc = proto_rd_array_exact(r, 2);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &what);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, v->target);
    v->what = (uint32_t)what;
    return rc;
}

void ledger_contract_enclave_revoke_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    proto_wr_array(w, 2);
    proto_wr_uint(w, body->enclave_revoke.what);
    proto_wr_bin(w, body->enclave_revoke.target, LEDGER_ID_LEN);
}

int ledger_contract_enclave_revoke_check(const ledger_tx_t *tx, char *err, size_t err_cap)
{
    uint32_t w = tx->body.enclave_revoke.what;
    if (w != LEDGER_REVOKE_PLATFORM && w != LEDGER_REVOKE_MEASUREMENT)
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "revocation target must be a platform key (1) or a measurement (2)");
    return LEDGER_OK;
}

typedef struct {
    uint8_t keys[LEDGER_AUTHORITIES_MAX * LEDGER_ID_LEN];
    size_t n;
} s_keys_t;

/* The rules shared by admit and apply: AUTH gets the current set, VOTERS the target's
   voters still in it (sorted), *POS where the sender goes. */
static int s_revoke_rules(ledger_state_t *st, const ledger_tx_t *tx, s_keys_t *auth,
                          s_keys_t *voters, size_t *pos, char *err, size_t err_cap)
{
    const ledger_enclave_revoke_t *v = &tx->body.enclave_revoke;
    uint8_t key[LEDGER_ENCLAVE_TKEY_LEN], *val = NULL;
    size_t vlen;
    bool revoked;
    int rc = ledger_state_authorities(st, (uint8_t(*)[LEDGER_ID_LEN])auth->keys, &auth->n);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the authority set");
    if (!s_has(auth->keys, auth->n, tx->from))
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_AUTHORITY,
                              "sender is not a current authority");
    if ((rc = ledger_enclave_revoked(st, v->what, v->target, &revoked, NULL)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the revocations");
    if (revoked)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE, "target already revoked");
    ledger_enclave_tkey(key, LEDGER_KEY_REVOKE_VOTE, v->what, v->target);
    if ((rc = ledger_enclave_get_opt(st, key, sizeof key, &val, &vlen)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the revocation votes");
    voters->n = 0;
    if (vlen % LEDGER_ID_LEN != 0 || vlen / LEDGER_ID_LEN > LEDGER_AUTHORITIES_MAX) {
        free(val);
        return proto_err_fail(err, err_cap, LEDGER_E_CORRUPT, "revocation votes corrupt");
    }
    for (size_t i = 0; i < vlen / LEDGER_ID_LEN; i++)
        if (s_has(auth->keys, auth->n, val + i * LEDGER_ID_LEN))
            memcpy(voters->keys + voters->n++ * LEDGER_ID_LEN, val + i * LEDGER_ID_LEN,
                   LEDGER_ID_LEN);
    free(val);
    *pos = 0;
    while (*pos < voters->n &&
           memcmp(voters->keys + *pos * LEDGER_ID_LEN, tx->from, LEDGER_ID_LEN) < 0)
        (*pos)++;
    if (*pos < voters->n &&
        memcmp(voters->keys + *pos * LEDGER_ID_LEN, tx->from, LEDGER_ID_LEN) == 0)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE,
                              "already voted to revoke this target");
    return LEDGER_OK;
}

int ledger_contract_enclave_revoke_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    s_keys_t auth, voters;
    size_t pos;
    return s_revoke_rules(st, tx, &auth, &voters, &pos, err, err_cap);
}

/* Marks every active enclave of the directory registered under (WHAT, TARGET) revoked at
   HEIGHT, in directory order. */
static int s_revoke_enclaves(ledger_state_t *st, uint32_t what, const uint8_t *target,
                             uint64_t height)
{
    uint8_t *ids = NULL, key[LEDGER_ENCLAVE_EKEY_LEN], rec[LEDGER_ENCLAVE_REC_LEN];
    size_t n = 0;
    int rc = ledger_enclave_dir(st, &ids, &n);
    for (size_t i = 0; rc == LEDGER_OK && i < n; i++) {
        ledger_enclave_t e;
        if ((rc = ledger_enclave_get(st, ids + i * LEDGER_ID_LEN, &e)) != LEDGER_OK)
            break;
        const uint8_t *k = what == LEDGER_REVOKE_PLATFORM ? e.platform_pk : e.measurement;
        if (e.status != LEDGER_ENCLAVE_ACTIVE || memcmp(k, target, LEDGER_ID_LEN) != 0)
            continue;
        e.status = LEDGER_ENCLAVE_REVOKED;
        e.status_height = height;
        ledger_enclave_rec_encode(&e, rec);
        ledger_enclave_key(key, LEDGER_KEY_ENCLAVE, e.id);
        rc = ledger_state_put(st, key, sizeof key, rec, sizeof rec);
    }
    free(ids);
    return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
}

int ledger_contract_enclave_revoke_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    const ledger_enclave_revoke_t *v = &tx->body.enclave_revoke;
    s_keys_t auth, voters;
    size_t pos;
    uint8_t key[LEDGER_ENCLAVE_TKEY_LEN];
    int rc = s_revoke_rules(st, tx, &auth, &voters, &pos, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    /* voters.n < auth.n: the sender is a member not yet in it */
    memmove(voters.keys + (pos + 1) * LEDGER_ID_LEN, voters.keys + pos * LEDGER_ID_LEN,
            (voters.n - pos) * LEDGER_ID_LEN);
    memcpy(voters.keys + pos * LEDGER_ID_LEN, tx->from, LEDGER_ID_LEN);
    voters.n++;
    ledger_enclave_tkey(key, LEDGER_KEY_REVOKE_VOTE, v->what, v->target);
    if (voters.n * 2 <= auth.n) {
        if ((rc = ledger_state_put(st, key, sizeof key, voters.keys, voters.n * LEDGER_ID_LEN)) !=
            LEDGER_OK)
            return proto_err_fail(err, err_cap, rc, "out of memory");
        return LEDGER_OK;
    }
    /* a strict majority: revoke now */
    uint64_t height = ledger_state_base_height(st) + 1;
    uint8_t hb[8], rkey[LEDGER_ENCLAVE_TKEY_LEN];
    proto_be64_put(hb, height);
    ledger_enclave_tkey(rkey, LEDGER_KEY_REVOKED, v->what, v->target);
    if ((rc = ledger_state_del(st, key, sizeof key)) != LEDGER_OK ||
        (rc = ledger_state_put(st, rkey, sizeof rkey, hb, sizeof hb)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "out of memory");
    if ((rc = s_revoke_enclaves(st, v->what, v->target, height)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "cannot update the enclave registry");
    return rc;
}

/* ------------------------------------------------------------ RETIRE */

int ledger_contract_enclave_retire_decode(proto_rd_t *r, ledger_tx_body_t *body)
{
    memset(&body->enclave_retire, 0, sizeof body->enclave_retire);
    return ledger_body_id_decode(r, body->enclave_retire.enclave_id);
}

void ledger_contract_enclave_retire_encode(proto_wr_t *w, const ledger_tx_body_t *body)
{
    ledger_body_bin_encode(w, body->enclave_retire.enclave_id, 32);
}

/* The rules shared by admit and apply: on success *E is the enclave to retire. */
static int s_retire_rules(ledger_state_t *st, const ledger_tx_t *tx, ledger_enclave_t *e, char *err,
                          size_t err_cap)
{
    int rc = ledger_enclave_get(st, tx->body.enclave_retire.enclave_id, e);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE, "no such enclave");
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the enclave registry");
    if (memcmp(e->runner, tx->from, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_RUNNER,
                              "sender is not the runner that registered this enclave");
    if (e->status != LEDGER_ENCLAVE_ACTIVE)
        return proto_err_fail(err, err_cap, LEDGER_E_ENCLAVE_RULE, "%s",
                              e->status == LEDGER_ENCLAVE_RETIRED ? "enclave already retired"
                                                                  : "enclave not active (revoked)");
    return LEDGER_OK;
}

int ledger_contract_enclave_retire_admit(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    ledger_enclave_t e;
    return s_retire_rules(st, tx, &e, err, err_cap);
}

int ledger_contract_enclave_retire_apply(ledger_state_t *st, const ledger_tx_t *tx, char *err,
                                         size_t err_cap)
{
    ledger_enclave_t e;
    uint8_t key[LEDGER_ENCLAVE_EKEY_LEN], rec[LEDGER_ENCLAVE_REC_LEN];
    int rc = s_retire_rules(st, tx, &e, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    e.status = LEDGER_ENCLAVE_RETIRED;
    e.status_height = ledger_state_base_height(st) + 1;
    ledger_enclave_rec_encode(&e, rec);
    ledger_enclave_key(key, LEDGER_KEY_ENCLAVE, e.id);
    rc = ledger_state_put(st, key, sizeof key, rec, sizeof rec);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ client helpers */

static uint8_t *s_sign(ledger_tx_t *tx, const proto_key_t *key,
                       const uint8_t chain_id[static LEDGER_ID_LEN], uint64_t nonce, uint32_t type,
                       size_t *len)
{
    memcpy(tx->chain_id, chain_id, LEDGER_ID_LEN);
    tx->nonce = nonce;
    tx->type = type;
    return ledger_tx_sign(tx, key, len);
}

uint8_t *ledger_contract_enclave_register_tx(const proto_key_t *key,
                                             const uint8_t chain_id[static LEDGER_ID_LEN],
                                             uint64_t nonce, uint32_t kind,
                                             const uint8_t measurement[static LEDGER_ID_LEN],
                                             const uint8_t *quote, size_t quote_len, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    if (quote_len > LEDGER_ENCLAVE_QUOTE_MAX)
        return NULL;
    tx.body.enclave_register.kind = kind;
    memcpy(tx.body.enclave_register.measurement, measurement, LEDGER_ID_LEN);
    tx.body.enclave_register.quote = quote;
    tx.body.enclave_register.quote_len = quote_len;
    return s_sign(&tx, key, chain_id, nonce, LEDGER_TX_ENCLAVE_REGISTER, len);
}

uint8_t *ledger_contract_enclave_audit_tx(const proto_key_t *key,
                                          const uint8_t chain_id[static LEDGER_ID_LEN],
                                          uint64_t nonce,
                                          const uint8_t measurement[static LEDGER_ID_LEN],
                                          const uint8_t report_hash[static LEDGER_ID_LEN],
                                          uint32_t verdict, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.body.enclave_audit.measurement, measurement, LEDGER_ID_LEN);
    memcpy(tx.body.enclave_audit.report_hash, report_hash, LEDGER_ID_LEN);
    tx.body.enclave_audit.verdict = verdict;
    return s_sign(&tx, key, chain_id, nonce, LEDGER_TX_ENCLAVE_AUDIT, len);
}

uint8_t *ledger_contract_enclave_revoke_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static LEDGER_ID_LEN],
                                           uint64_t nonce, uint32_t what,
                                           const uint8_t target[static LEDGER_ID_LEN], size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    tx.body.enclave_revoke.what = what;
    memcpy(tx.body.enclave_revoke.target, target, LEDGER_ID_LEN);
    return s_sign(&tx, key, chain_id, nonce, LEDGER_TX_ENCLAVE_REVOKE, len);
}

uint8_t *ledger_contract_enclave_retire_tx(const proto_key_t *key,
                                           const uint8_t chain_id[static LEDGER_ID_LEN],
                                           uint64_t nonce,
                                           const uint8_t enclave_id[static LEDGER_ID_LEN],
                                           size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.body.enclave_retire.enclave_id, enclave_id, LEDGER_ID_LEN);
    return s_sign(&tx, key, chain_id, nonce, LEDGER_TX_ENCLAVE_RETIRE, len);
}
