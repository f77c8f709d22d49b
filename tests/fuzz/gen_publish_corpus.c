/*  gen_publish_corpus: writes the seed corpus tests/fuzz/corpus/proto_publish/ (the model
 *  publication and usage report decoders, fuzz_proto_publish.c).
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Deterministic (fixed key seed, fixed
 *  fields). Build and run by hand from the repository root:
 *      cmake --build build --target genie_proto
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. $(pkg-config --cflags msgpack) \
 *         tests/fuzz/gen_publish_corpus.c build/libgenie_proto.a \
 *         $(pkg-config --libs libsodium msgpack) -o /tmp/gen_publish_corpus
 *      /tmp/gen_publish_corpus tests/fuzz/corpus
 *  (with a sanitizer build, add -fsanitize=address,undefined).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/proto_key.h"
#include "proto/proto_publish.h"
#include "tests/fuzz/gen_util.h"

static const char *s_root;

static void s_put(const char *name, const uint8_t *p, size_t n)
{
    gen_put(s_root, "proto_publish", name, -1, p, n);
}

static void s_sample(proto_publish_t *p)
{
    memset(p, 0, sizeof *p);
    memset(p->job_id, 0x11, 32);
    memset(p->spec_id, 0x22, 32);
    memset(p->model_hash, 0x33, 32);
    p->n_train = 80;
    p->n_test = 20;
    p->n_metrics = 2;
    strcpy(p->metrics[0].name, "accuracy");
    p->metrics[0].value_micro = 875000;
    strcpy(p->metrics[1].name, "delta");
    p->metrics[1].value_micro = -40000;
    memset(p->records_root, 0x44, 32);
    p->n_records = 6;
    p->bitmap_len = 2;
    p->bitmap[0] = 0x2d; /* 0,2,3,5 */
    p->bitmap[1] = 0x81; /* 8,15 */
    p->n_parties = 2;
    memset(p->parties[0].enclave_id, 0x55, 32);
    p->parties[0].n_records = 4;
    p->parties[0].weight_bp = 6500;
    memset(p->parties[1].enclave_id, 0x66, 32);
    p->parties[1].n_records = 2;
    p->parties[1].weight_bp = 3500;
    p->time_ms = 1700000000000ull;
}

int main(int argc, char **argv)
{
    if (argc != 2 || proto_crypto_init() != 0)
        return 2;
    s_root = argv[1];
    uint8_t seed[32], pk[32], sk[64], *buf;
    size_t len;
    memset(seed, 0x42, 32);
    crypto_sign_seed_keypair(pk, sk, seed);
    static proto_publish_t p;
    s_sample(&p);
    if (proto_publish_sign(&p, sk) || proto_publish_encode(&p, &buf, &len))
        return 1;
    s_put("publication_valid", buf, len);
    s_put("publication_truncated", buf, len - 5);
    buf[len - 1] ^= 1;
    s_put("publication_badsig", buf, len);
    free(buf);
    /* weights off by one (encode does not check the rules; decode refuses it) */
    p.parties[1].weight_bp = 3501;
    if (proto_publish_encode(&p, &buf, &len))
        return 1;
    s_put("publication_weights", buf, len);
    free(buf);
    s_sample(&p);
    p.n_metrics = 1;
    p.metrics[0].value_micro = INT64_MIN;
    if (proto_publish_sign(&p, sk) || proto_publish_encode(&p, &buf, &len))
        return 1;
    s_put("publication_int64_min", buf, len);
    free(buf);
    proto_usage_t u;
    memset(&u, 0, sizeof u);
    memset(u.model_id, 0x77, 32);
    memset(u.buy_id, 0x88, 32);
    u.count = 300;
    u.time_ms = 1700000000000ull;
    if (proto_usage_sign(&u, sk) || proto_usage_encode(&u, &buf, &len))
        return 1;
    s_put("usage_valid", buf, len);
    buf[3] ^= 1;
    s_put("usage_badsig", buf, len);
    free(buf);
    sodium_memzero(sk, sizeof sk);
    return 0;
}
