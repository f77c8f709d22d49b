/*  fuzz_ml_prs_tsv: libFuzzer harness for the PRS scoring-file parser (ml/ml_prs.h).
 *
 *  The whole input is a scoring file. ml_prs_parse_tsv must not crash and must return 0 or
 *  a negative ml/proto code; on success the model is a PRS whose every feature id is
 *  "RSID:ALLELE" and which survives an encode/decode round trip. abort() on a broken
 *  invariant.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_prs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ml_prs_tsv: invariant broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ml_model_t *m = NULL;
    char err[256];
    int rc = ml_prs_parse_tsv((const char *)data, size, &m, err, sizeof err);
    s_require(rc <= 0 && rc > -500 && (rc > -100 || rc <= -400), "code in proto or ml range");
    s_require((rc == 0) == (m != NULL), "model iff success");
    if (!m)
        return 0;
    s_require(ml_model_kind(m) == ML_MODEL_PRS && ml_model_p(m) > 0, "a PRS with weights");
    for (size_t i = 0; i < ml_model_p(m); i++) {
        const char *id = ml_model_feature_id(m, i);
        const char *c = strrchr(id, ':');
        s_require(c && c != id && c[1], "id is RSID:ALLELE");
    }
    uint8_t *enc = NULL;
    size_t len = 0;
    s_require(ml_model_encode(m, &enc, &len) == 0, "encode");
    ml_model_t *d = NULL;
    s_require(ml_model_decode(enc, len, &d, err, sizeof err) == 0, "decode of own encoding");
    free(enc);
    ml_model_destroy(&d);
    ml_model_destroy(&m);
    return 0;
}
