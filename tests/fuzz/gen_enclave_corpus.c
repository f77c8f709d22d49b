/*  gen_enclave_corpus: writes the seed corpora tests/fuzz/corpus/attest_quote/,
 *  attest_cert/ and proto_report/ (the enclave attestation decoders).
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Deterministic: keys come from fixed
 *  seeds and times are fixed, so rerunning it rewrites the same files. Build and run by
 *  hand from the repository root:
 *      cmake --build build --target genie_enclave
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. $(pkg-config --cflags msgpack) \
 *         tests/fuzz/gen_enclave_corpus.c build/libgenie_enclave.a build/libgenie_proto.a \
 *         $(pkg-config --libs libsodium msgpack) -o /tmp/gen_enclave_corpus
 *      /tmp/gen_enclave_corpus tests/fuzz/corpus
 *  (with a sanitizer build, add -fsanitize=address,undefined). Every file is under 1 KiB.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/proto_attest.h"
#include "proto/proto_report.h"
#include "proto/proto_key.h"
#include "tests/fuzz/gen_util.h"

static const char *s_root;

static void s_put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    gen_put(s_root, dir, name, -1, p, n);
}

static void s_fill(uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v + i * 7);
}

/* Writes the encoding in W under DIR/NAME and frees W. */
static void s_put_wr(const char *dir, const char *name, proto_wr_t *w)
{
    size_t n;
    const uint8_t *p = proto_wr_data(w, &n);
    if (!p)
        exit(1);
    s_put(dir, name, p, n);
    proto_wr_free(w);
}

static void s_quotes(const proto_key_t *as, const proto_key_t *plat)
{
    proto_attest_quote_t q = {.version = PROTO_ATTEST_QUOTE_VERSION, .time_ms = 1700000000000ull};
    s_fill(q.measurement, 32, 1);
    s_fill(q.body.sign_pk, 32, 2);
    s_fill(q.body.box_pk, 32, 3);
    s_fill(q.body.report_data, 64, 4);
    s_fill(q.body.nonce, 32, 5);
    memcpy(q.platform_pk, proto_key_public(plat), 32);
    uint8_t acct[32];
    s_fill(acct, 32, 6);
    if (proto_attest_cert_issue(as, q.platform_pk, "runner-1", acct, 1600000000000ull,
                                1800000000000ull, &q.cert, NULL, 0) != 0)
        exit(1);
    q.has_cert = true;
    uint8_t h[32];
    proto_attest_quote_signing_hash(&q, h);
    proto_key_sign(plat, h, 32, q.sig);

    proto_wr_t w;
    proto_wr_init(&w);
    proto_attest_quote_write(&w, &q);
    s_put_wr("attest_quote", "valid_certified", &w);

    proto_attest_quote_t u = q;
    u.has_cert = false;
    proto_wr_init(&w);
    proto_attest_quote_write(&w, &u);
    s_put_wr("attest_quote", "valid_uncertified", &w);

    proto_wr_init(&w);
    proto_attest_quote_write(&w, &q);
    proto_wr_nil(&w);
    s_put_wr("attest_quote", "trailing_nil", &w);

    proto_attest_quote_t v = q;
    v.version = 2;
    proto_wr_init(&w);
    proto_attest_quote_write(&w, &v);
    s_put_wr("attest_quote", "version_2", &w);

    proto_wr_init(&w);
    proto_attest_quote_write(&w, &q);
    size_t n;
    const uint8_t *p = proto_wr_data(&w, &n);
    s_put("attest_quote", "truncated_half", p, n / 2);
    proto_wr_free(&w);

    proto_wr_init(&w);
    proto_attest_cert_write(&w, &q.cert);
    s_put_wr("attest_cert", "valid", &w);
    proto_attest_cert_t c = q.cert;
    memset(c.runner_name, 'x', PROTO_ATTEST_RUNNER_NAME_MAX);
    proto_wr_init(&w);
    proto_attest_cert_write(&w, &c);
    s_put_wr("attest_cert", "name_at_limit", &w);
    c = q.cert;
    c.expires_ms = c.issued_ms;
    proto_wr_init(&w);
    proto_attest_cert_write(&w, &c);
    s_put_wr("attest_cert", "empty_window", &w);
    proto_wr_init(&w);
    proto_wr_array(&w, 6);
    proto_wr_uint(&w, 1);
    proto_wr_bin(&w, q.platform_pk, 32);
    proto_wr_str(&w, "r", 1);
    proto_wr_bin(&w, acct, 32);
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, 2);
    s_put_wr("attest_cert", "arity_6", &w);
}

static void s_reports(void)
{
    uint8_t seed[32], pk[32], sk[64];
    s_fill(seed, 32, 9);
    crypto_sign_seed_keypair(pk, sk, seed);
    proto_report_t r = {.data_type = PROTO_DATA_GENOTYPE,
                        .record_count = 600000,
                        .checks_run = 12,
                        .checks_passed = 11,
                        .time_ms = 1700000000000ull};
    uint8_t salt[32];
    s_fill(salt, 32, 10);
    proto_data_commit(salt, (const uint8_t *)"rs123\t1\t1000\tAA\n", 16, r.data_commitment);
    if (proto_report_sign(&r, sk) != 0)
        exit(1);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_report_write(&w, &r);
    s_put_wr("proto_report", "report_valid", &w);
    r.data_type = 3;
    proto_wr_init(&w);
    proto_report_write(&w, &r);
    s_put_wr("proto_report", "report_bad_type", &w);

    proto_receipt_t rc = {.time_ms = 1700000000001ull};
    s_fill(rc.spec_id, 32, 11);
    s_fill(rc.data_id, 32, 12);
    s_fill(rc.donor, 32, 13);
    memcpy(rc.data_commitment, r.data_commitment, 32);
    if (proto_receipt_sign(&rc, sk) != 0)
        exit(1);
    proto_wr_init(&w);
    proto_receipt_write(&w, &rc);
    s_put_wr("proto_report", "receipt_valid", &w);
    proto_wr_init(&w);
    proto_receipt_write(&w, &rc);
    proto_wr_uint(&w, 0);
    s_put_wr("proto_report", "receipt_trailing", &w);
    sodium_memzero(sk, sizeof sk);
}

int main(int argc, char **argv)
{
    if (argc != 2 || proto_crypto_init() != 0) {
        fprintf(stderr, "usage: %s CORPUS_ROOT\n", argv[0]);
        return 2;
    }
    s_root = argv[1];
    uint8_t seed[32];
    s_fill(seed, 32, 0x41);
    proto_key_t *as = proto_key_from_seed(seed);
    s_fill(seed, 32, 0x42);
    proto_key_t *plat = proto_key_from_seed(seed);
    if (!as || !plat)
        return 1;
    s_quotes(as, plat);
    s_reports();
    proto_key_destroy(&as);
    proto_key_destroy(&plat);
    return 0;
}
