/*  fuzz_enclave_train: libFuzzer harness for the federated training formats inside
 *  genie-enclave (enclave/enclave_kind_train.h) that fuzz_enclave_request cannot reach:
 *  the payloads arrive sealed to the enclave's key, so a fuzzer of whole requests never
 *  gets past the seal.
 *
 *  The first input byte picks the target: 0 = the job config (TRAIN_PREPARE's config),
 *  anything else = a payload decoded for (byte % 64) + 1 features. For any input: the
 *  decoder returns 0 or a negative code without crashing, a decoded payload re-encodes to
 *  the input byte for byte (canonical only), and a decoded config is in range.
 *  A broken invariant calls abort().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_enclave_train: invariant broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *buf = data + 1;
    size_t len = size - 1;
    if (data[0] == 0) {
        enclave_train_config_t cfg;
        char err[128];
        int rc = enclave_train_config_decode(buf, len, &cfg, err, sizeof err);
        s_require(rc <= 0, "config decoder returned a positive code");
        if (rc == 0)
            s_require(cfg.p >= 1 && cfg.p <= ENCLAVE_TRAIN_FEATURES_MAX && cfg.rounds >= 1 &&
                          cfg.rounds <= 100 && cfg.rule >= 1 && cfg.rule <= 4 && cfg.holdout >= 1 &&
                          cfg.holdout <= 50 && cfg.lr > 0 && cfg.agg_clip >= 0 &&
                          cfg.agg_clip <= 100 && cfg.agg_eps >= 0 && cfg.agg_eps <= 10000 &&
                          (cfg.agg_eps == 0 || (cfg.agg_clip > 0 && cfg.delta > 0)),
                      "decoded config out of range");
        return 0;
    }
    size_t p = (size_t)(data[0] % 64) + 1;
    enclave_train_payload_t pl;
    int rc = enclave_train_payload_decode(buf, len, p, &pl);
    s_require(rc <= 0, "payload decoder returned a positive code");
    if (rc == 0) {
        uint8_t *again = NULL;
        size_t n = 0;
        s_require(enclave_train_payload_encode(&pl, &again, &n) == 0, "payload re-encoding");
        s_require(n == len && memcmp(again, buf, len) == 0, "encode(decode(b)) != b");
        free(again);
    }
    enclave_train_payload_clear(&pl);
    return 0;
}
