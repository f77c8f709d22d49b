/*  fuzz_proto_publish: libFuzzer harness for the model publication and usage report
 *  decoders (proto/proto_publish.h).
 *
 *  The whole input is tried as a publication and as a usage report (different arities: at
 *  most one accepts it). Each decoder must not crash, must return PROTO_OK or a reader code
 *  and leave a zeroed struct on error. When one succeeds: the input is within its bound;
 *  the publication's rules hold (weights sum to 10000, records = bits = the parties' sum);
 *  re-encoding gives the input back byte for byte; verification answers one of its
 *  documented codes. A broken invariant aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_publish.h"
#include "tests/fuzz/fuzz_enclave_util.h"

static bool s_verify_code_ok(int rc)
{
    return rc == PROTO_OK || rc == PROTO_E_BAD_SIG;
}

static void s_publication(const uint8_t *data, size_t size, bool *ok)
{
    proto_publish_t *p = malloc(sizeof *p);
    fuzz_require(p != NULL, "out of memory");
    int rc = proto_publish_decode(data, size, p);
    fuzz_require(fuzz_enclave_decode_rc_ok(rc), "publication decoder returned a stray code");
    fuzz_enclave_require_wiped(rc, p, sizeof *p);
    *ok = rc == PROTO_OK;
    if (*ok) {
        fuzz_require(size <= PROTO_PUBLISH_MAX_BYTES, "oversized publication accepted");
        uint64_t w = 0, r = 0;
        for (size_t i = 0; i < p->n_parties; i++) {
            w += p->parties[i].weight_bp;
            r += p->parties[i].n_records;
        }
        fuzz_require(p->n_parties >= 1 && p->n_parties <= PROTO_PUBLISH_PARTIES_MAX &&
                         w == PROTO_PUBLISH_WEIGHTS_BP && r == p->n_records &&
                         proto_publish_bitmap_count(p->bitmap, p->bitmap_len) == p->n_records,
                     "publication rules broken after decode");
        uint8_t *again = NULL;
        size_t n = 0;
        fuzz_require(proto_publish_encode(p, &again, &n) == PROTO_OK, "re-encoding");
        fuzz_require_same(again, n, data, size);
        free(again);
        fuzz_require(s_verify_code_ok(proto_publish_verify(p)), "publication verify code");
    }
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    bool pub_ok = false;
    s_publication(data, size, &pub_ok);

    proto_usage_t u;
    int rc = proto_usage_decode(data, size, &u);
    fuzz_require(fuzz_enclave_decode_rc_ok(rc), "usage decoder returned a stray code");
    fuzz_enclave_require_wiped(rc, &u, sizeof u);
    if (rc != PROTO_OK)
        return 0;
    fuzz_require(!pub_ok, "one input decoded as both a publication and a usage report");
    fuzz_require(size <= PROTO_USAGE_MAX_BYTES, "oversized usage report accepted");
    uint8_t *again = NULL;
    size_t n = 0;
    fuzz_require(proto_usage_encode(&u, &again, &n) == PROTO_OK, "usage re-encoding");
    fuzz_require_same(again, n, data, size);
    free(again);
    fuzz_require(s_verify_code_ok(proto_usage_verify(&u)), "usage verify code");
    return 0;
}
