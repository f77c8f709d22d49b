/*  fuzz_ml_model: libFuzzer harness for the model file decoder (ml/ml_model.h).
 *
 *  The whole input is a model file. For any input ml_model_decode must not crash and must
 *  return 0 or a negative proto/ml code. When it succeeds: re-encoding gives the input back
 *  byte for byte (only canonical encodings are accepted); a deep copy hashes the same; and
 *  the model predicts two rows of ones into finite numbers, probabilities in [0, 1] for a
 *  logistic model (or refuses an overflow with ML_E_ARG), so
 *  every decoded field is exercised. A broken invariant calls abort().
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml/ml_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ml_model: invariant broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ml_model_t *m = NULL;
    char err[256];
    int rc = ml_model_decode(data, size, &m, err, sizeof err);
    s_require(rc <= 0 && rc > -500 && (rc > -100 || rc <= -400), "code in proto or ml range");
    s_require((rc == 0) == (m != NULL), "model iff success");
    if (!m)
        return 0;
    uint8_t *enc = NULL;
    size_t len = 0;
    s_require(ml_model_encode(m, &enc, &len) == 0, "re-encode");
    s_require(len == size && memcmp(enc, data, size) == 0, "canonical round trip");
    free(enc);
    ml_model_t *d = ml_model_dup(m);
    s_require(d != NULL, "dup");
    uint8_t h1[32], h2[32];
    ml_model_hash(m, h1);
    ml_model_hash(d, h2);
    s_require(memcmp(h1, h2, 32) == 0, "dup hashes equal");
    ml_model_destroy(&d);
    size_t p = ml_model_p(m);
    ml_mat_t *x = ml_mat_new(2, p);
    if (x) {
        for (size_t k = 0; k < 2 * p; k++)
            x->v[k] = 1.0;
        double out[2];
        int prc = ml_model_predict(m, x, out);
        s_require(prc == 0 || prc == PROTO_E_NOMEM || prc == ML_E_ARG, "predict code");
        for (int i = 0; prc == 0 && i < 2; i++) {
            s_require(isfinite(out[i]), "prediction finite when predict succeeds");
            if (ml_model_kind(m) == ML_MODEL_LOGISTIC)
                s_require(out[i] >= 0.0 && out[i] <= 1.0, "probability in [0, 1]");
        }
        ml_mat_destroy(&x);
    }
    ml_model_destroy(&m);
    return 0;
}
