/*  fuzz_ml_validate: libFuzzer harness for the validation enclave's entry point,
 *  ml_validate_buffer (ml/ml_validate.h).
 *
 *  The first byte picks the data type (even: genotype, odd: phenotype); the rest is the
 *  buffer, so VCF text (through htslib's header and record parsers), 23andMe files and
 *  CSVs are all reached. For any input the call returns 0 or an ML_E_* / NOMEM code, and
 *  the report is coherent: the passed checks are a subset of those run, FORMAT always
 *  runs, a failure reports FORMAT only and nothing passed, HWE runs only on genotypes,
 *  RANGES only on phenotypes, the call rate is in [0, 1], the reason is a terminated
 *  string that says "ok" iff everything run passed. A broken invariant calls abort().
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_geno.h"
#include "ml/ml_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ml_validate: invariant broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ml_geno_hts_quiet();
    ml_datatype_t type = (data[0] & 1) ? ML_DATA_PHENOTYPE : ML_DATA_GENOTYPE;
    ml_validation_t r;
    memset(&r, 0xA5, sizeof r);
    char err[256] = "";
    int rc = ml_validate_buffer(type, data + 1, size - 1, &r, err, sizeof err);
    s_require(rc == 0 || (rc <= ML_E_FIRST && rc > ML_E_FAILED) || rc == PROTO_E_NOMEM,
              "known code");
    s_require(r.type == type, "type");
    s_require((r.checks_passed & ~r.checks_run) == 0, "passed within run");
    s_require(memchr(r.reason, 0, sizeof r.reason) != NULL, "reason terminated");
    if (rc) {
        s_require(r.checks_run == ML_CHECK_FORMAT && r.checks_passed == 0, "failure report");
        s_require(err[0] != 0 && strncmp(r.reason, "format: ", 8) == 0, "failure message");
        return 0;
    }
    s_require(r.checks_run & r.checks_passed & ML_CHECK_FORMAT, "format passed");
    s_require(r.call_rate >= 0.0 && r.call_rate <= 1.0, "call rate");
    if (type == ML_DATA_GENOTYPE)
        s_require(!(r.checks_run & ML_CHECK_RANGES), "no ranges on genotypes");
    else
        s_require(!(r.checks_run & (ML_CHECK_HWE | ML_CHECK_ALLELES | ML_CHECK_CALL_RATE)) &&
                      r.hwe_failures == 0,
                  "no genotype checks on phenotypes");
    s_require((r.checks_passed == r.checks_run) == (strcmp(r.reason, "ok") == 0),
              "reason ok iff all passed");
    return 0;
}
