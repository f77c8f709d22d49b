/*  ledger_enclave: the enclave registry's state, read and written by the registry's
 *  contracts (ledger_contract_enclave.c) and read by anyone holding a ledger_state
 *  (the node's enclave_list RPC): key layout, the record codec, the public reads
 *  (ledger_contract.h, "the enclave registry") and the internal helpers
 *  (ledger_enclave_int.h).
 *
 *  Record ('e' id, 181 bytes, integers big-endian): runner[32] kind u32 measurement[32]
 *  sign_pk[32] box_pk[32] platform_pk[32] height u64 status u8 status_height u64.
 *  Audit entry ('d' measurement, 73 bytes each, sorted by auditor): auditor[32]
 *  report_hash[32] verdict u8 height u64. Directory ('n'): ids, registration order.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_enclave_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_bytes.h"
#include "proto/proto_key.h"

#define ID_DOMAIN "genie/enclave/id/v1"

/* ---------------------------------------------------------------- helpers */

void ledger_enclave_key(uint8_t *key, uint8_t prefix, const uint8_t id[static LEDGER_ID_LEN])
{
    key[0] = prefix;
    memcpy(key + 1, id, LEDGER_ID_LEN);
}

void ledger_enclave_tkey(uint8_t key[LEDGER_ENCLAVE_TKEY_LEN], uint8_t prefix, uint32_t what,
                         const uint8_t target[static LEDGER_ID_LEN])
{
    key[0] = prefix;
    key[1] = (uint8_t)what;
    memcpy(key + 2, target, LEDGER_ID_LEN);
}

void ledger_enclave_id(const uint8_t sign_pk[static 32], uint8_t out[static LEDGER_ID_LEN])
{
    proto_hash(ID_DOMAIN, sign_pk, 32, out);
}

void ledger_enclave_rec_encode(const ledger_enclave_t *e, uint8_t out[LEDGER_ENCLAVE_REC_LEN])
{
    uint8_t *p = out;
    memcpy(p, e->runner, 32);
    p += 32;
    proto_be32_put(p, e->kind);
    p += 4;
    memcpy(p, e->measurement, 32);
    p += 32;
    memcpy(p, e->sign_pk, 32);
    p += 32;
    memcpy(p, e->box_pk, 32);
    p += 32;
    memcpy(p, e->platform_pk, 32);
    p += 32;
    proto_be64_put(p, e->height);
    p += 8;
    *p++ = (uint8_t)e->status;
    proto_be64_put(p, e->status_height);
}

static void s_rec_decode(const uint8_t in[LEDGER_ENCLAVE_REC_LEN],
                         const uint8_t id[static LEDGER_ID_LEN], ledger_enclave_t *e)
{
    const uint8_t *p = in;
    memcpy(e->id, id, LEDGER_ID_LEN);
    memcpy(e->runner, p, 32);
    p += 32;
    e->kind = proto_be32_get(p);
    p += 4;
    memcpy(e->measurement, p, 32);
    p += 32;
    memcpy(e->sign_pk, p, 32);
    p += 32;
    memcpy(e->box_pk, p, 32);
    p += 32;
    memcpy(e->platform_pk, p, 32);
    p += 32;
    e->height = proto_be64_get(p);
    p += 8;
    e->status = *p++;
    e->status_height = proto_be64_get(p);
}

int ledger_enclave_get_opt(ledger_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                           size_t *vlen)
{
    int rc = ledger_state_get(st, key, klen, val, vlen);
    if (rc == LEDGER_E_NOT_FOUND) {
        *val = NULL;
        *vlen = 0;
        return LEDGER_OK;
    }
    return rc;
}

/* ------------------------------------------------------------ public reads */

const char *ledger_enclave_status_name(uint32_t status)
{
    switch (status) {
    case LEDGER_ENCLAVE_ACTIVE:
        return "active";
    case LEDGER_ENCLAVE_REVOKED:
        return "revoked";
    case LEDGER_ENCLAVE_RETIRED:
        return "retired";
    default:
        return "unknown";
    }
}

int ledger_enclave_attestation_key(ledger_state_t *st, uint8_t out[static LEDGER_ID_LEN])
{
    const uint8_t key[2] = {LEDGER_KEY_CONFIG, LEDGER_CONFIG_ATTESTATION};
    uint8_t *val;
    size_t vlen;
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    if (vlen != LEDGER_ID_LEN)
        rc = LEDGER_E_CORRUPT;
    else
        memcpy(out, val, LEDGER_ID_LEN);
    free(val);
    return rc;
}

int ledger_enclave_get(ledger_state_t *st, const uint8_t id[static LEDGER_ID_LEN],
                       ledger_enclave_t *out)
{
    uint8_t key[LEDGER_ENCLAVE_EKEY_LEN], *val;
    size_t vlen;
    memset(out, 0, sizeof *out);
    ledger_enclave_key(key, LEDGER_KEY_ENCLAVE, id);
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    if (vlen != LEDGER_ENCLAVE_REC_LEN)
        rc = LEDGER_E_CORRUPT;
    else
        s_rec_decode(val, id, out);
    free(val);
    return rc;
}

int ledger_enclave_revoked(ledger_state_t *st, uint32_t what,
                           const uint8_t target[static LEDGER_ID_LEN], bool *revoked,
                           uint64_t *height)
{
    uint8_t key[LEDGER_ENCLAVE_TKEY_LEN], *val;
    size_t vlen;
    *revoked = false;
    if (height)
        *height = 0;
    ledger_enclave_tkey(key, LEDGER_KEY_REVOKED, what, target);
    int rc = ledger_enclave_get_opt(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK || !val)
        return rc;
    if (vlen != 8) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    *revoked = true;
    if (height)
        *height = proto_be64_get(val);
    free(val);
    return LEDGER_OK;
}

int ledger_enclave_dir(ledger_state_t *st, uint8_t **ids, size_t *n)
{
    const uint8_t key[1] = {LEDGER_KEY_ENCLAVE_DIR};
    size_t vlen;
    int rc = ledger_enclave_get_opt(st, key, sizeof key, ids, &vlen);
    *n = 0;
    if (rc != LEDGER_OK)
        return rc;
    if (vlen % LEDGER_ID_LEN != 0 || vlen / LEDGER_ID_LEN > LEDGER_ENCLAVES_MAX) {
        free(*ids);
        *ids = NULL;
        return LEDGER_E_CORRUPT;
    }
    *n = vlen / LEDGER_ID_LEN;
    return LEDGER_OK;
}

int ledger_enclave_list(ledger_state_t *st, uint32_t kind, ledger_enclave_t **out, size_t *n)
{
    uint8_t *ids = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    int rc = ledger_enclave_dir(st, &ids, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    ledger_enclave_t *list = calloc(count, sizeof *list);
    if (!list) {
        free(ids);
        return LEDGER_E_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < count; i++) {
        if ((rc = ledger_enclave_get(st, ids + i * LEDGER_ID_LEN, &list[k])) != LEDGER_OK) {
            if (rc == LEDGER_E_NOT_FOUND)
                rc = LEDGER_E_CORRUPT; /* the directory names only stored records */
            free(list);
            free(ids);
            return rc;
        }
        if (kind == 0 || list[k].kind == kind)
            k++;
    }
    free(ids);
    if (k == 0) {
        free(list);
        return LEDGER_OK;
    }
    *out = list;
    *n = k;
    return LEDGER_OK;
}

int ledger_enclave_audits(ledger_state_t *st, const uint8_t measurement[static LEDGER_ID_LEN],
                          ledger_audit_t **out, size_t *n)
{
    uint8_t key[LEDGER_ENCLAVE_EKEY_LEN], *val;
    size_t vlen;
    *out = NULL;
    *n = 0;
    ledger_enclave_key(key, LEDGER_KEY_AUDIT, measurement);
    int rc = ledger_enclave_get_opt(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK || !val)
        return rc;
    size_t count = vlen / LEDGER_ENCLAVE_AUDIT_LEN;
    if (vlen % LEDGER_ENCLAVE_AUDIT_LEN != 0 || count > LEDGER_ENCLAVE_AUDITS_MAX) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    ledger_audit_t *a = count ? calloc(count, sizeof *a) : NULL;
    if (count && !a) {
        free(val);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = val + i * LEDGER_ENCLAVE_AUDIT_LEN;
        memcpy(a[i].auditor, p, 32);
        memcpy(a[i].report_hash, p + 32, 32);
        a[i].verdict = p[64];
        a[i].height = proto_be64_get(p + 65);
    }
    free(val);
    *out = a;
    *n = count;
    return LEDGER_OK;
}
