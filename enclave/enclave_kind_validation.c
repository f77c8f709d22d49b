/*  enclave_kind_validation: the validation kind (VALIDATE).
 *
 *  The data arrives in the request (the owner talks to the enclave through the runner's
 *  relay; sealing the request end to end comes with the p2p relay). The readers and checks
 *  are ml/'s (ml_validate_buffer: 23andMe-style genotype files, CSV phenotype tables): the
 *  enclave only commits to the data under the owner's salt, runs them, and signs what they
 *  found: the record count, and checks run / passed as ml/'s check bitmasks (ML_CHECK_*;
 *  the data is acceptable iff passed == run). A buffer that does not parse gets ml/'s
 *  code back (an ERROR answer), not a report. The request frame holding the data is wiped
 *  by the loop after the answer.
 */
#include <sodium.h>
#include <string.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_report.h"
#include "ml/ml_validate.h"

int enclave_kind_validate(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                          uint8_t **blob, char *err, size_t err_cap)
{
    const uint32_t type = req->u.validate.data_type;
    if (type != ENCLAVE_DATA_GENOTYPE && type != ENCLAVE_DATA_PHENOTYPE)
        return proto_err_fail(err, err_cap, PROTO_E_RANGE, "unknown data type %u", type);
    ml_validation_t v;
    memset(&v, 0, sizeof v);
    int rc = ml_validate_buffer((ml_datatype_t)type, req->u.validate.data, req->u.validate.data_len,
                                &v, err, err_cap);
    if (rc)
        goto out;
    enclave_report_t r;
    memset(&r, 0, sizeof r);
    enclave_data_commit(req->u.validate.salt, req->u.validate.data, req->u.validate.data_len,
                        r.data_commitment);
    r.data_type = (uint8_t)type;
    r.record_count = v.records;
    r.checks_run = v.checks_run;
    r.checks_passed = v.checks_passed;
    r.time_ms = enclave_kind_now_ms();
    size_t len = 0;
    if ((rc = enclave_report_sign(&r, st->secrets->sign_sk)) ||
        (rc = enclave_report_encode(&r, blob, &len)))
        goto out;
    ans->type = ENCLAVE_ANS_REPORT;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = len;
out:
    sodium_memzero(&v, sizeof v);
    return rc;
}
