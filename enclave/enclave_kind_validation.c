/*  enclave_kind_validation: the validation kind (VALIDATE, VALIDATE_SEALED), and the data
 *  owner's helper that seals a buffer for it.
 *
 *  The readers and checks are ml/'s (ml_validate_buffer: 23andMe-style genotype files, VCF
 *  text, CSV phenotype tables): the enclave only commits to the data under the owner's
 *  salt, runs them, and signs what they found: the record count, and checks run / passed
 *  as ml/'s check bitmasks (ML_CHECK_*; the data is acceptable iff passed == run). A buffer
 *  that does not parse gets ml/'s code back (an ERROR answer), not a report.
 *  VALIDATE carries salt and data in clear through the runner; VALIDATE_SEALED carries
 *  them sealed to this enclave's box key (context "genie/validate/1" || data type), so the
 *  runner relays ciphertext only; the enclave opens them into sodium_malloc memory and
 *  frees (wipes) it after the answer. The loop wipes every request frame after it.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_prog.h"
#include "proto/proto_report.h"
#include "enclave/enclave_salted.h"
#include "enclave/enclave_seal.h"
#include "ml/ml_validate.h"

#define S_CTX_LEN 17u

/* "genie/validate/1" (16 bytes) || the data type (1 byte). */
static void s_context(uint32_t data_type, uint8_t out[S_CTX_LEN])
{
    memcpy(out, "genie/validate/1", 16);
    out[16] = (uint8_t)data_type;
}

/* Validates DATA as TYPE, commits to it under SALT, signs the report into *BLOB. */
static int s_validate(enclave_state_t *st, uint32_t type, const uint8_t salt[32],
                      const uint8_t *data, size_t len, enclave_ans_t *ans, uint8_t **blob,
                      char *err, size_t err_cap)
{
    if (type != PROTO_DATA_GENOTYPE && type != PROTO_DATA_PHENOTYPE)
        return proto_err_fail(err, err_cap, PROTO_E_RANGE, "unknown data type %u", type);
    ml_validation_t v;
    memset(&v, 0, sizeof v);
    int rc = ml_validate_buffer((ml_datatype_t)type, data, len, &v, err, err_cap);
    if (rc)
        goto out;
    proto_report_t r;
    memset(&r, 0, sizeof r);
    proto_data_commit(salt, data, len, r.data_commitment);
    r.data_type = (uint8_t)type;
    r.record_count = v.records;
    r.checks_run = v.checks_run;
    r.checks_passed = v.checks_passed;
    r.time_ms = enclave_kind_now_ms();
    size_t out_len = 0;
    if ((rc = proto_report_sign(&r, st->secrets->sign_sk)) ||
        (rc = proto_report_encode(&r, blob, &out_len)))
        goto out;
    ans->type = ENCLAVE_ANS_REPORT;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = out_len;
out:
    sodium_memzero(&v, sizeof v);
    return rc;
}

int enclave_kind_validate(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                          uint8_t **blob, char *err, size_t err_cap)
{
    if (req->type == ENCLAVE_REQ_VALIDATE)
        return s_validate(st, req->u.validate.data_type, req->u.validate.salt, req->u.validate.data,
                          req->u.validate.data_len, ans, blob, err, err_cap);
    const size_t sealed_len = req->u.validate_sealed.sealed_len;
    const size_t cap = enclave_seal_open_len(sealed_len);
    if (sealed_len < ENCLAVE_SEAL_TO_OVERHEAD + 32)
        return proto_err_fail(err, err_cap, PROTO_E_TRUNCATED, "sealed data too short");
    uint8_t *plain = sodium_malloc(cap);
    if (!plain)
        return PROTO_E_NOMEM;
    uint8_t ctx[S_CTX_LEN];
    s_context(req->u.validate_sealed.data_type, ctx);
    size_t len = 0;
    int rc = enclave_seal_open(st->box_pk, st->secrets->box_sk, ctx, sizeof ctx,
                               req->u.validate_sealed.sealed, sealed_len, plain, cap, &len);
    if (rc)
        rc = proto_err_fail(err, err_cap, rc, "data does not open with this enclave's key");
    else
        rc = s_validate(st, req->u.validate_sealed.data_type, plain, plain + 32, len - 32, ans,
                        blob, err, err_cap);
    sodium_free(plain); /* wipes, then unmaps */
    return rc;
}

int enclave_prog_validation_seal(const uint8_t box_pk[static 32], uint32_t data_type,
                                 const uint8_t salt[static 32], const uint8_t *data, size_t len,
                                 uint8_t **out, size_t *out_len)
{
    uint8_t ctx[S_CTX_LEN];
    s_context(data_type, ctx);
    return enclave_salted_seal(box_pk, ctx, sizeof ctx, salt, data, len, out, out_len);
}
