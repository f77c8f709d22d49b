/*  ledger_market: the market's rules over committed state (see ledger_data.h): which
 *  training enclave a donation goes to, whether a record may be donated to a spec, whether
 *  a donor is registered, and what the recruitment room admits. Reads only; no clock (the
 *  caller passes NOW), no I/O beyond the state's reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "proto/proto_attest.h"

int ledger_donation_enclave(ledger_state_t *st, const ledger_spec_t *spec, ledger_enclave_t *out,
                            char *why, size_t why_cap)
{
    bool revoked = false;
    int rc =
        ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, spec->measurement, &revoked, NULL);
    if (rc != LEDGER_OK)
        return proto_err_fail(why, why_cap, rc, "cannot read the enclave registry");
    if (revoked)
        return proto_err_fail(why, why_cap, LEDGER_E_ENCLAVE_RULE,
                              "the spec's enclave measurement is revoked");
    ledger_enclave_t *list = NULL;
    size_t n = 0;
    if ((rc = ledger_enclave_list(st, PROTO_ATTEST_KIND_TRAINING, &list, &n)) != LEDGER_OK)
        return proto_err_fail(why, why_cap, rc, "cannot read the enclave registry");
    bool found = false, platform_revoked = false, inactive = false;
    for (size_t i = n; i-- > 0 && !found;) { /* the newest first */
        const ledger_enclave_t *e = &list[i];
        if (memcmp(e->measurement, spec->measurement, 32) != 0)
            continue;
        if (e->status != LEDGER_ENCLAVE_ACTIVE) {
            inactive = true;
            continue;
        }
        bool rev = false;
        if (ledger_enclave_revoked(st, LEDGER_REVOKE_PLATFORM, e->platform_pk, &rev, NULL) !=
                LEDGER_OK ||
            rev) {
            platform_revoked = true;
            continue;
        }
        *out = *e;
        found = true;
    }
    free(list);
    if (found)
        return LEDGER_OK;
    return proto_err_fail(why, why_cap, LEDGER_E_ENCLAVE_RULE, "%s",
                          platform_revoked ? "the training enclave's platform is revoked"
                          : inactive       ? "the spec's training enclave is revoked or retired"
                                           : "no training enclave with the spec's measurement is "
                                             "registered");
}

int ledger_donation_allowed(ledger_state_t *st, const ledger_spec_t *spec,
                            const ledger_audit_t *audits, size_t n, const uint8_t id[static 32],
                            const uint8_t account[static 32], char *why, size_t why_cap)
{
    ledger_data_t d;
    int rc = ledger_data_get(st, id, &d);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(why, why_cap, LEDGER_E_DATA_RULE, "not registered on the ledger");
    if (rc != LEDGER_OK)
        return proto_err_fail(why, why_cap, rc, "ledger read failed: %s", proto_err_str(rc));
    if (d.status != LEDGER_DATA_ACTIVE)
        return proto_err_fail(why, why_cap, LEDGER_E_DATA_RULE, "withdrawn");
    if (memcmp(d.owner, account, 32) != 0)
        return proto_err_fail(why, why_cap, LEDGER_E_DATA_RULE,
                              "registered by another account than this node's");
    ledger_consent_t c;
    rc = ledger_consent_effective(st, &d, &c);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(why, why_cap, LEDGER_E_CONSENT, "no consent set (deny by default)");
    if (rc != LEDGER_OK)
        return proto_err_fail(why, why_cap, rc, "ledger read failed: %s", proto_err_str(rc));
    return ledger_consent_match(&c, spec, audits, n, why, why_cap);
}

int ledger_train_donors(ledger_state_t *st, const ledger_spec_t *spec, ledger_train_donor_t **out,
                        size_t *n, char *err, size_t err_cap)
{
    ledger_donor_t *d = NULL;
    ledger_audit_t *au = NULL;
    size_t n_d = 0, n_au = 0;
    *out = NULL;
    *n = 0;
    int rc = ledger_donor_list(st, spec->id, &d, &n_d);
    if (rc != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "cannot read the spec's donors: %s", proto_err_str(rc));
        goto out;
    }
    if ((rc = ledger_enclave_audits(st, spec->measurement, &au, &n_au)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "cannot read the measurement's audits: %s",
                       proto_err_str(rc));
        goto out;
    }
    if (n_d && !(*out = calloc(n_d, sizeof **out))) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_d; i++) {
        char why[160];
        ledger_train_donor_t *o = &(*out)[i];
        o->donor = d[i];
        rc = ledger_donation_allowed(st, spec, au, n_au, d[i].data_id, d[i].owner, why, sizeof why);
        if (rc != LEDGER_OK && rc != LEDGER_E_DATA_RULE && rc != LEDGER_E_CONSENT) {
            proto_err_fail(err, err_cap, rc, "cannot read a donor's record: %s", why);
            free(*out);
            *out = NULL;
            goto out;
        }
        o->eligible = rc == LEDGER_OK;
        rc = LEDGER_OK;
    }
    *n = n_d;
out:
    free(d);
    free(au);
    return rc;
}

int ledger_train_eligible(ledger_state_t *st, const ledger_spec_t *spec,
                          const uint8_t enclave_id[static 32], uint8_t (**ids)[32], size_t *n,
                          char *err, size_t err_cap)
{
    ledger_train_donor_t *d = NULL;
    size_t n_d = 0, k = 0;
    *ids = NULL;
    *n = 0;
    int rc = ledger_train_donors(st, spec, &d, &n_d, err, err_cap);
    if (rc != LEDGER_OK)
        return rc;
    for (size_t i = 0; i < n_d; i++)
        k += d[i].eligible && memcmp(d[i].donor.enclave_id, enclave_id, 32) == 0;
    if (k && !(*ids = malloc(k * sizeof **ids))) {
        free(d);
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n_d; i++)
        if (d[i].eligible && memcmp(d[i].donor.enclave_id, enclave_id, 32) == 0)
            memcpy((*ids)[(*n)++], d[i].donor.data_id, 32);
    free(d);
    return LEDGER_OK;
}

bool ledger_donor_exists(ledger_state_t *st, const uint8_t spec_id[static 32],
                         const uint8_t data_id[static 32])
{
    ledger_donor_t d;
    return ledger_donor_get(st, spec_id, data_id, &d) == LEDGER_OK;
}

int ledger_recruit_check(ledger_state_t *st, const proto_recruit_t *post, uint64_t now_ms,
                         char *err, size_t err_cap)
{
    if (!proto_recruit_fresh(post, now_ms)) { /* before the costlier checks */
        return proto_err_fail(err, err_cap, LEDGER_E_INVALID,
                              "not fresh (more than 10 minutes from our clock)");
    }
    if (proto_recruit_verify(post) != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_BAD_SIG, "bad signature");
    ledger_spec_t spec;
    ledger_trainer_t tr;
    if (ledger_spec_get(st, post->spec_id, &spec) != LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_TRAINER, "names no registered spec");
    if (memcmp(spec.trainer, post->trainer, 32) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_TRAINER,
                              "signed by another account than the spec's trainer");
    if (ledger_trainer_get(st, post->trainer, &tr) != LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_TRAINER,
                              "the signer is not a registered trainer");
    return LEDGER_OK;
}
