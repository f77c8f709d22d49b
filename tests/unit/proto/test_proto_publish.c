/*  test_proto_publish: model publications, usage reports, the records root and the access
 *  code hash (proto_publish).
 *
 *  Shows: a signed publication and usage report round-trip byte for byte and verify; every
 *  field rule (metric names and count, duplicate names, parties count and distinctness,
 *  weights summing to 10000, records = bits = sum of the parties' records, bitmap bounds and
 *  its trailing zero byte, party 0 without records) is refused by sign, decode and verify;
 *  any field changed after signing, and any byte flipped in the encoding, fails; the two
 *  structures' signatures do not carry over (domains); truncation at every length, trailing
 *  bytes, oversize and non-shortest integers (unsigned and negative metric values) are
 *  refused; negative metric values at every width round-trip; records_root does not depend
 *  on the input order and equals the documented hash of the sorted ids. Keys and ids come
 *  from a printed seed (GENIE_TEST_SEED=N replays it).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_publish.h"
#include "testutil.h"

static uint64_t s_rng;

static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void s_bytes(uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)s_next();
}

static void s_signer(uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    s_bytes(seed, 32);
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(seed, sizeof seed);
}

/* A valid publication of 3 parties over 10 records (bits 0..9 of a 2-byte bitmap). */
static void s_sample(proto_publish_t *p)
{
    memset(p, 0, sizeof *p);
    s_bytes(p->job_id, 32);
    s_bytes(p->spec_id, 32);
    s_bytes(p->model_hash, 32);
    p->n_train = 800;
    p->n_test = 200;
    p->n_metrics = 3;
    strcpy(p->metrics[0].name, "accuracy");
    p->metrics[0].value_micro = 912345;
    strcpy(p->metrics[1].name, "auc");
    p->metrics[1].value_micro = 950000;
    strcpy(p->metrics[2].name, "log_loss_delta");
    p->metrics[2].value_micro = -123456789012LL;
    s_bytes(p->records_root, 32);
    p->n_records = 10;
    p->bitmap_len = 2;
    p->bitmap[0] = 0xff;
    p->bitmap[1] = 0x03;
    p->n_parties = 3;
    const uint32_t recs[3] = {5, 3, 2}, weights[3] = {5000, 3000, 2000};
    for (size_t i = 0; i < 3; i++) {
        s_bytes(p->parties[i].enclave_id, 32);
        p->parties[i].n_records = recs[i];
        p->parties[i].weight_bp = weights[i];
    }
    p->time_ms = 1700000000123ull;
}

static int s_decode_verify(const uint8_t *buf, size_t len)
{
    proto_publish_t *p = malloc(sizeof *p);
    REQUIRE(p != NULL);
    int rc = proto_publish_decode(buf, len, p);
    if (rc == PROTO_OK)
        rc = proto_publish_verify(p);
    free(p);
    return rc;
}

static void test_publish_roundtrip(const uint8_t sk[64], const uint8_t pk[32])
{
    proto_publish_t *p = malloc(sizeof *p), *q = malloc(sizeof *q);
    REQUIRE(p && q);
    s_sample(p);
    CHECK_EQ(proto_publish_sign(p, sk), PROTO_OK);
    CHECK(memcmp(p->enclave_pk, pk, 32) == 0);
    CHECK_EQ(p->version, PROTO_PUBLISH_VERSION);
    CHECK_EQ(proto_publish_verify(p), PROTO_OK);
    uint8_t *buf = NULL, *again = NULL;
    size_t len = 0, n = 0;
    REQUIRE(proto_publish_encode(p, &buf, &len) == PROTO_OK);
    CHECK(len <= PROTO_PUBLISH_MAX_BYTES);
    CHECK_EQ(proto_publish_decode(buf, len, q), PROTO_OK);
    CHECK(memcmp(p, q, sizeof *p) == 0);
    CHECK_EQ(proto_publish_verify(q), PROTO_OK);
    CHECK(q->metrics[2].value_micro == -123456789012LL);
    REQUIRE(proto_publish_encode(q, &again, &n) == PROTO_OK);
    CHECK(n == len && memcmp(buf, again, len) == 0);
    free(again);

    /* every byte flipped: the decoder or the signature refuses it */
    size_t refused = 0;
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x01;
        if (s_decode_verify(buf, len) != PROTO_OK)
            refused++;
        buf[i] ^= 0x01;
    }
    CHECK_EQ(refused, len);
    /* truncated at every length; trailing byte; oversize */
    size_t truncs = 0;
    for (size_t i = 0; i < len; i++)
        truncs += proto_publish_decode(buf, i, q) != PROTO_OK;
    CHECK_EQ(truncs, len);
    uint8_t *longer = malloc(PROTO_PUBLISH_MAX_BYTES + 1);
    REQUIRE(longer != NULL);
    memcpy(longer, buf, len);
    longer[len] = 0xc0;
    CHECK_EQ(proto_publish_decode(longer, len + 1, q), PROTO_E_TRAILING);
    CHECK(q->n_parties == 0 && q->n_records == 0); /* zeroed on error */
    memset(longer + len, 0, PROTO_PUBLISH_MAX_BYTES + 1 - len);
    CHECK_EQ(proto_publish_decode(longer, PROTO_PUBLISH_MAX_BYTES + 1, q), PROTO_E_TOO_BIG);
    free(longer);
    /* the usage decoder does not take it */
    proto_usage_t u;
    CHECK(proto_usage_decode(buf, len, &u) != PROTO_OK);
    free(buf);

    /* each field changed after signing breaks the signature */
    proto_publish_t *t = q;
#define TAMPER(stmt)                                                                               \
    do {                                                                                           \
        *t = *p;                                                                                   \
        stmt;                                                                                      \
        CHECK(proto_publish_verify(t) != PROTO_OK);                                                \
    } while (0)
    TAMPER(t->job_id[0] ^= 1);
    TAMPER(t->spec_id[31] ^= 1);
    TAMPER(t->model_hash[5] ^= 1);
    TAMPER(t->n_train++);
    TAMPER(t->n_test--);
    TAMPER(t->metrics[0].value_micro++);
    TAMPER(t->metrics[1].name[0] = 'b');
    TAMPER(t->records_root[0] ^= 0x80);
    TAMPER((t->parties[0].weight_bp--, t->parties[1].weight_bp++));
    TAMPER(t->parties[2].enclave_id[3] ^= 1);
    TAMPER((t->bitmap[1] = 0x06, (void)0)); /* same count, other records */
    TAMPER(t->time_ms++);
    TAMPER(t->enclave_pk[0] ^= 1);
    TAMPER(t->sig[63] ^= 1);
    TAMPER(t->version = 2);
#undef TAMPER
    free(p);
    free(q);
}

/* Each rule broken: sign, encode+decode and verify all refuse (PROTO_E_INVALID). */
static void test_publish_rules(const uint8_t sk[64])
{
    proto_publish_t *p = malloc(sizeof *p), *q = malloc(sizeof *q);
    REQUIRE(p && q);
    int cases = 0, ok = 0;
#define RULE(stmt)                                                                                 \
    do {                                                                                           \
        s_sample(p);                                                                               \
        REQUIRE(proto_publish_sign(p, sk) == PROTO_OK);                                            \
        stmt;                                                                                      \
        uint8_t *b_ = NULL;                                                                        \
        size_t l_ = 0;                                                                             \
        cases++;                                                                                   \
        int enc_ = proto_publish_encode(p, &b_, &l_);                                              \
        int dec_ = enc_ == PROTO_OK ? proto_publish_decode(b_, l_, q) : PROTO_E_INVALID;           \
        free(b_);                                                                                  \
        proto_publish_t *c_ = malloc(sizeof *c_);                                                  \
        REQUIRE(c_ != NULL);                                                                       \
        *c_ = *p;                                                                                  \
        int sig_ = proto_publish_sign(c_, sk);                                                     \
        free(c_);                                                                                  \
        if (dec_ == PROTO_E_INVALID && proto_publish_verify(p) == PROTO_E_INVALID &&               \
            sig_ == PROTO_E_INVALID)                                                               \
            ok++;                                                                                  \
        else                                                                                       \
            fprintf(stderr, "rule not enforced: %s (dec %d)\n", #stmt, dec_);                      \
    } while (0)
    RULE(strcpy(p->metrics[0].name, ""));
    RULE(strcpy(p->metrics[0].name, "Accuracy"));
    RULE(strcpy(p->metrics[0].name, "acc-uracy"));
    RULE(strcpy(p->metrics[1].name, "accuracy"));
    RULE(p->n_parties = 0);
    RULE((p->parties[1].weight_bp = 2999, (void)0));
    RULE((p->parties[1].weight_bp = 3001, (void)0));
    RULE(memcpy(p->parties[2].enclave_id, p->parties[0].enclave_id, 32));
    RULE(p->n_records = 11);
    RULE(p->n_records = 0);
    RULE(p->parties[0].n_records = 6);
    RULE(p->bitmap[1] = 0x07);
    RULE((p->bitmap_len = 3, p->bitmap[2] = 0));
    RULE(p->bitmap_len = 0);
    RULE((p->parties[0].n_records = 0, p->parties[1].n_records = 8));
    RULE((p->parties[2].n_records = 0, p->parties[1].n_records = 5));
    CHECK_EQ(ok, cases);
    /* a party without records and weight is fine (not party 0) */
    s_sample(p);
    p->parties[1].n_records = 5;
    p->parties[2].n_records = 0;
    p->parties[0].weight_bp = 7000;
    p->parties[2].weight_bp = 0;
    CHECK_EQ(proto_publish_sign(p, sk), PROTO_OK);
    CHECK_EQ(proto_publish_verify(p), PROTO_OK);
    /* the largest: 16 parties, 8 metrics of 16 bytes, a full bitmap of 65,536 records */
    s_sample(p);
    p->n_metrics = PROTO_PUBLISH_METRICS_MAX;
    for (size_t i = 0; i < p->n_metrics; i++) {
        memcpy(p->metrics[i].name, "metric_000000000", 17);
        p->metrics[i].name[15] = (char)('0' + i);
        p->metrics[i].value_micro = INT64_MIN + (int64_t)i;
    }
    p->bitmap_len = PROTO_PUBLISH_BITMAP_MAX;
    memset(p->bitmap, 0xff, p->bitmap_len);
    p->n_records = PROTO_PUBLISH_BITMAP_MAX * 8;
    p->n_parties = PROTO_PUBLISH_PARTIES_MAX;
    for (size_t i = 0; i < p->n_parties; i++) {
        s_bytes(p->parties[i].enclave_id, 32);
        p->parties[i].n_records = p->n_records / PROTO_PUBLISH_PARTIES_MAX;
        p->parties[i].weight_bp = PROTO_PUBLISH_WEIGHTS_BP / PROTO_PUBLISH_PARTIES_MAX;
    }
    p->parties[0].weight_bp += PROTO_PUBLISH_WEIGHTS_BP % PROTO_PUBLISH_PARTIES_MAX;
    p->time_ms = UINT64_MAX;
    p->n_train = p->n_test = UINT32_MAX;
    CHECK_EQ(proto_publish_sign(p, sk), PROTO_OK);
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(proto_publish_encode(p, &buf, &len) == PROTO_OK);
    CHECK(len <= PROTO_PUBLISH_MAX_BYTES);
    CHECK_EQ(s_decode_verify(buf, len), PROTO_OK);
    free(buf);
    /* counts past their arrays: encode refuses rather than read out of bounds */
    p->n_parties = PROTO_PUBLISH_PARTIES_MAX + 1;
    CHECK_EQ(proto_publish_encode(p, &buf, &len), PROTO_E_INVALID);
    CHECK(buf == NULL);
    CHECK_EQ(proto_publish_verify(p), PROTO_E_INVALID);
    free(p);
    free(q);
}

/* Hand-written encodings: array counts past their bounds, non-shortest integers. */
static void test_publish_wire(const uint8_t sk[64])
{
    proto_publish_t *p = malloc(sizeof *p), *q = malloc(sizeof *q);
    REQUIRE(p && q);
    s_sample(p);
    REQUIRE(proto_publish_sign(p, sk) == PROTO_OK);
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(proto_publish_encode(p, &buf, &len) == PROTO_OK);
    /* the metrics array header (0x93, 3 metrics) sits after version, 3 bins32, n_train
       (0xcd 2 bytes), n_test (0xcc 1 byte): 1 + 1 + 3*34 + 3 + 2 */
    size_t at = 1 + 1 + 3 * 34 + 3 + 2;
    CHECK_EQ(buf[at], 0x93);
    buf[at] = 0x99; /* 9 metrics: past the bound */
    CHECK_EQ(proto_publish_decode(buf, len, q), PROTO_E_TOO_LONG);
    buf[at] = 0x93;
    /* n_test = 200 written as uint16 (0xcd 0x00 0xc8) instead of uint8 (0xcc 0xc8) */
    uint8_t *wide = malloc(len + 1);
    REQUIRE(wide != NULL);
    size_t nt = at - 2;
    CHECK_EQ(buf[nt], 0xcc);
    memcpy(wide, buf, nt);
    wide[nt] = 0xcd;
    wide[nt + 1] = 0x00;
    memcpy(wide + nt + 2, buf + nt + 1, len - nt - 1);
    CHECK_EQ(proto_publish_decode(wide, len + 1, q), PROTO_E_NONCANONICAL);
    free(wide);
    free(buf);

    /* negative metric values at every width round-trip; wider forms are refused */
    static const int64_t vals[] = {
        -1,        -32, -33, -128, -129,     -32768, -32769, INT32_MIN, (int64_t)INT32_MIN - 1,
        INT64_MIN, 0,   127, 128,  INT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        s_sample(p);
        p->n_metrics = 1;
        p->metrics[0].value_micro = vals[i];
        REQUIRE(proto_publish_sign(p, sk) == PROTO_OK);
        REQUIRE(proto_publish_encode(p, &buf, &len) == PROTO_OK);
        CHECK_EQ(s_decode_verify(buf, len), PROTO_OK);
        CHECK_EQ(proto_publish_decode(buf, len, q), PROTO_OK);
        CHECK(q->metrics[0].value_micro == vals[i]);
        free(buf);
    }
    /* -1 as int8 (0xd0 0xff) instead of the fixint 0xff */
    s_sample(p);
    p->n_metrics = 1;
    strcpy(p->metrics[0].name, "m");
    p->metrics[0].value_micro = -1;
    REQUIRE(proto_publish_sign(p, sk) == PROTO_OK);
    REQUIRE(proto_publish_encode(p, &buf, &len) == PROTO_OK);
    size_t v = at + 1 + 1 + 2; /* metrics header, [2] header, "m" str */
    CHECK_EQ(buf[v], 0xff);
    uint8_t *w2 = malloc(len + 1);
    REQUIRE(w2 != NULL);
    memcpy(w2, buf, v);
    w2[v] = 0xd0;
    w2[v + 1] = 0xff;
    memcpy(w2 + v + 2, buf + v + 1, len - v - 1);
    CHECK_EQ(proto_publish_decode(w2, len + 1, q), PROTO_E_NONCANONICAL);
    w2[v] = 0xd0;
    w2[v + 1] = 0x05; /* a positive value in a signed form */
    CHECK_EQ(proto_publish_decode(w2, len + 1, q), PROTO_E_NONCANONICAL);
    free(w2);
    free(buf);
    free(p);
    free(q);
}

static void test_usage(const uint8_t sk[64], const uint8_t pk[32])
{
    proto_usage_t u, d;
    memset(&u, 0, sizeof u);
    s_bytes(u.model_id, 32);
    s_bytes(u.buy_id, 32);
    u.count = 12345;
    u.time_ms = 1700000000000ull;
    CHECK_EQ(proto_usage_sign(&u, sk), PROTO_OK);
    CHECK(memcmp(u.enclave_pk, pk, 32) == 0);
    CHECK_EQ(proto_usage_verify(&u), PROTO_OK);
    uint8_t *buf = NULL, *again = NULL;
    size_t len = 0, n = 0;
    REQUIRE(proto_usage_encode(&u, &buf, &len) == PROTO_OK);
    CHECK(len <= PROTO_USAGE_MAX_BYTES);
    CHECK_EQ(proto_usage_decode(buf, len, &d), PROTO_OK);
    CHECK(memcmp(&u, &d, sizeof u) == 0);
    REQUIRE(proto_usage_encode(&d, &again, &n) == PROTO_OK);
    CHECK(n == len && memcmp(again, buf, n) == 0);
    free(again);
    size_t refused = 0;
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x10;
        refused += proto_usage_decode(buf, len, &d) != PROTO_OK || proto_usage_verify(&d) != 0;
        buf[i] ^= 0x10;
    }
    CHECK_EQ(refused, len);
    size_t truncs = 0;
    for (size_t i = 0; i < len; i++)
        truncs += proto_usage_decode(buf, i, &d) != PROTO_OK;
    CHECK_EQ(truncs, len);
    free(buf);
    d = u;
    d.count++;
    CHECK_EQ(proto_usage_verify(&d), PROTO_E_BAD_SIG);
    d = u;
    d.buy_id[0] ^= 1;
    CHECK_EQ(proto_usage_verify(&d), PROTO_E_BAD_SIG);
    d = u;
    d.model_id[0] ^= 1;
    CHECK_EQ(proto_usage_verify(&d), PROTO_E_BAD_SIG);
    d = u;
    d.version = 2;
    CHECK_EQ(proto_usage_verify(&d), PROTO_E_VERSION);
    /* a publication's signature does not make a usage report (domains differ): sign the
       usage report's hash under the publication domain by hand */
    uint8_t h[32];
    REQUIRE(proto_usage_signing_hash(&u, h) == PROTO_OK);
    d = u;
    uint8_t raw[200];
    memcpy(raw, "genie/enclave/model-publication/v1", 34);
    raw[34] = 0;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 6);
    proto_wr_uint(&w, u.version);
    proto_wr_bin(&w, u.model_id, 32);
    proto_wr_bin(&w, u.buy_id, 32);
    proto_wr_uint(&w, u.count);
    proto_wr_uint(&w, u.time_ms);
    proto_wr_bin(&w, u.enclave_pk, 32);
    size_t wl;
    const uint8_t *wd = proto_wr_data(&w, &wl);
    REQUIRE(wd && wl + 35 <= sizeof raw);
    memcpy(raw + 35, wd, wl);
    uint8_t other[32];
    crypto_generichash(other, 32, raw, 35 + wl, NULL, 0);
    proto_wr_free(&w);
    CHECK(memcmp(other, h, 32) != 0);
    crypto_sign_detached(d.sig, NULL, other, 32, sk);
    CHECK_EQ(proto_usage_verify(&d), PROTO_E_BAD_SIG);
}

static void test_records_root(void)
{
    enum { N = 300 };
    uint8_t(*ids)[32] = malloc(N * 32), (*shuf)[32] = malloc(N * 32),
    (*sorted)[32] = malloc(N * 32);
    REQUIRE(ids && shuf && sorted);
    s_bytes(&ids[0][0], N * 32);
    memcpy(shuf, ids, N * 32);
    for (size_t i = N - 1; i > 0; i--) {
        size_t j = (size_t)(s_next() % (i + 1));
        uint8_t tmp[32];
        memcpy(tmp, shuf[i], 32);
        memcpy(shuf[i], shuf[j], 32);
        memcpy(shuf[j], tmp, 32);
    }
    uint8_t r1[32], r2[32], r3[32], expect[32];
    CHECK_EQ(proto_publish_records_root((const uint8_t(*)[32])ids, N, r1), PROTO_OK);
    CHECK_EQ(proto_publish_records_root((const uint8_t(*)[32])shuf, N, r2), PROTO_OK);
    CHECK(memcmp(r1, r2, 32) == 0);
    /* the documented hash: sorted ascending, concatenated, under the domain */
    memcpy(sorted, ids, N * 32);
    for (size_t i = 1; i < N; i++) /* insertion sort, independent of the library's qsort */
        for (size_t j = i; j > 0 && memcmp(sorted[j - 1], sorted[j], 32) > 0; j--) {
            uint8_t tmp[32];
            memcpy(tmp, sorted[j], 32);
            memcpy(sorted[j], sorted[j - 1], 32);
            memcpy(sorted[j - 1], tmp, 32);
        }
    proto_hash("genie/records/v1", &sorted[0][0], N * 32, expect);
    CHECK(memcmp(r1, expect, 32) == 0);
    proto_publish_records_root_inplace(shuf, N, r3);
    CHECK(memcmp(r3, expect, 32) == 0);
    CHECK(memcmp(shuf, sorted, N * 32) == 0); /* sorted in place */
    /* a different set differs; the empty set is the empty string's hash */
    CHECK_EQ(proto_publish_records_root((const uint8_t(*)[32])ids, N - 1, r2), PROTO_OK);
    CHECK(memcmp(r1, r2, 32) != 0);
    CHECK_EQ(proto_publish_records_root(NULL, 0, r2), PROTO_OK);
    proto_hash("genie/records/v1", NULL, 0, expect);
    CHECK(memcmp(r2, expect, 32) == 0);
    free(ids);
    free(shuf);
    free(sorted);

    uint8_t bm[3] = {0x01, 0x80, 0xff};
    CHECK_EQ(proto_publish_bitmap_count(bm, 3), 10u);
    uint8_t code[32], h1[32], h2[32];
    s_bytes(code, 32);
    proto_access_code_hash(code, h1);
    proto_hash("genie/access-code/v1", code, 32, h2);
    CHECK(memcmp(h1, h2, 32) == 0);
    code[0] ^= 1;
    proto_access_code_hash(code, h2);
    CHECK(memcmp(h1, h2, 32) != 0);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    s_rng = testutil_seed("test_proto_publish") | 1;
    uint8_t pk[32], sk[64];
    s_signer(pk, sk);
    test_publish_roundtrip(sk, pk);
    test_publish_rules(sk);
    test_publish_wire(sk);
    test_usage(sk, pk);
    test_records_root();
    sodium_memzero(sk, sizeof sk);
    return testutil_done("test_proto_publish");
}
