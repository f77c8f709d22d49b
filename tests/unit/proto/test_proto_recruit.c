/*  test_proto_recruit: recruitment posts (proto_recruit).
 *
 *  Shows: a signed post verifies and names its signer as the trainer; a change to any
 *  field (spec, trainer, time, note, signature, version) fails; a post re-signed by
 *  another account verifies as that account's, never as the first; encode(decode(b)) == b;
 *  the decoder refuses every proper prefix, every single-bit flip (decoder or signature),
 *  trailing bytes, more than PROTO_RECRUIT_MAX_BYTES, wrong arity, another version, a
 *  note of 257 bytes or with a control character, and a donation receipt's bytes; the
 *  largest post (a 256-byte note) fits the bound; the signing hash is the documented
 *  domain-separated BLAKE2b-256 of the first five fields; freshness is strictly within
 *  10 minutes either side. Keys derive from a printed seed (GENIE_TEST_SEED=N replays it).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_recruit.h"
#include "proto/proto_report.h"
#include "enclave/enclave_testutil.h"
#include "testutil.h"

#define T0 1765000000000ull

/* Decodes a post; with VERIFY, also verifies it and checks the signer is the key CTX. */
static int s_take(const uint8_t *b, size_t len, bool verify, const void *ctx)
{
    proto_recruit_t d;
    int rc = proto_recruit_decode(b, len, &d);
    if (rc == PROTO_OK && verify) {
        rc = proto_recruit_verify(&d);
        if (rc == PROTO_OK && memcmp(d.trainer, proto_key_public(ctx), 32) != 0)
            rc = PROTO_E_BAD_SIG;
    }
    return rc;
}

static proto_recruit_t s_post(const proto_key_t *key, const char *note)
{
    proto_recruit_t r;
    memset(&r, 0, sizeof r);
    enclave_testutil_bytes("spec", r.spec_id, 32);
    r.time_ms = T0;
    snprintf(r.note, sizeof r.note, "%s", note);
    CHECK_EQ(proto_recruit_sign(&r, key), PROTO_OK);
    return r;
}

static void test_sign_verify(void)
{
    proto_key_t *k = enclave_testutil_key("trainer"), *k2 = enclave_testutil_key("other");
    REQUIRE(k && k2);
    proto_recruit_t r = s_post(k, "type 2 diabetes PRS, 500 donors wanted"), t;
    CHECK_EQ(r.version, PROTO_RECRUIT_VERSION);
    CHECK(memcmp(r.trainer, proto_key_public(k), 32) == 0);
    CHECK_EQ(proto_recruit_verify(&r), PROTO_OK);

    t = r;
    t.spec_id[0] ^= 1;
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_BAD_SIG);
    t = r;
    memcpy(t.trainer, proto_key_public(k2), 32); /* claims another trainer */
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_BAD_SIG);
    t = r;
    t.time_ms++;
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_BAD_SIG);
    t = r;
    t.note[0] = 'T';
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_BAD_SIG);
    t = r;
    t.note[strlen(t.note)] = '!'; /* one byte longer */
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_BAD_SIG);
    t = r;
    t.sig[63] ^= 0x10;
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_BAD_SIG);
    t = r;
    t.version = 2;
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_VERSION);
    t = r;
    memset(t.note, 'a', sizeof t.note); /* no terminator */
    CHECK_EQ(proto_recruit_verify(&t), PROTO_E_INVALID);
    /* re-signed by another account: its own post now, not the first trainer's */
    t = r;
    CHECK_EQ(proto_recruit_sign(&t, k2), PROTO_OK);
    CHECK_EQ(proto_recruit_verify(&t), PROTO_OK);
    CHECK(memcmp(t.trainer, proto_key_public(k), 32) != 0);

    /* the documented signing hash */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_uint(&w, 1);
    proto_wr_bin(&w, r.spec_id, 32);
    proto_wr_bin(&w, r.trainer, 32);
    proto_wr_uint(&w, r.time_ms);
    proto_wr_str(&w, r.note, strlen(r.note));
    size_t n;
    const uint8_t *p = proto_wr_data(&w, &n);
    REQUIRE(p != NULL);
    uint8_t *msg = malloc(21 + n), want[32], got[32];
    REQUIRE(msg != NULL);
    memcpy(msg, "genie/recruitment/v1", 20);
    msg[20] = 0;
    memcpy(msg + 21, p, n);
    crypto_generichash(want, 32, msg, 21 + n, NULL, 0);
    proto_recruit_signing_hash(&r, got);
    CHECK(memcmp(want, got, 32) == 0);
    CHECK(crypto_sign_verify_detached(r.sig, got, 32, r.trainer) == 0);
    free(msg);
    proto_wr_free(&w);

    /* notes the signer refuses */
    t = r;
    memset(t.note, 0, sizeof t.note);
    memcpy(t.note, "line\nbreak", 10);
    CHECK_EQ(proto_recruit_sign(&t, k), PROTO_E_INVALID);
    memcpy(t.note, "esc\x1b[2J", 8);
    CHECK_EQ(proto_recruit_sign(&t, k), PROTO_E_INVALID);
    memset(t.note, 0, sizeof t.note);
    memcpy(t.note, "\xc3\x28", 2); /* invalid UTF-8 */
    CHECK_EQ(proto_recruit_sign(&t, k), PROTO_E_INVALID);
    memset(t.note, 0, sizeof t.note);
    memcpy(t.note, "caf\xc3\xa9 \xe2\x82\xac", 9); /* UTF-8 is fine */
    CHECK_EQ(proto_recruit_sign(&t, k), PROTO_OK);
    CHECK_EQ(proto_recruit_verify(&t), PROTO_OK);
    CHECK(proto_recruit_note_ok("", 0));
    CHECK(!proto_recruit_note_ok("x", PROTO_RECRUIT_NOTE_MAX + 1));
    CHECK(!proto_recruit_note_ok("a\x7f", 2));
    proto_key_destroy(&k);
    proto_key_destroy(&k2);
}

static void test_encoding(void)
{
    proto_key_t *k = enclave_testutil_key("trainer");
    REQUIRE(k != NULL);
    proto_recruit_t r = s_post(k, "cohort for LDL regression"), d;
    uint8_t *b = NULL, *again = NULL;
    size_t len = 0, alen = 0;
    CHECK_EQ(proto_recruit_encode(&r, &b, &len), PROTO_OK);
    REQUIRE(b != NULL);
    CHECK(len <= PROTO_RECRUIT_MAX_BYTES);
    CHECK_EQ(proto_recruit_decode(b, len, &d), PROTO_OK);
    CHECK(memcmp(&d, &r, sizeof d) == 0);
    CHECK_EQ(proto_recruit_encode(&d, &again, &alen), PROTO_OK);
    CHECK(again && alen == len && memcmp(again, b, len) == 0);
    free(again);
    CHECK_EQ(enclave_testutil_prefixes_accepted(b, len, s_take, k), 0);
    CHECK_EQ(enclave_testutil_flips_accepted(b, len, s_take, k), 0);
    int bounds[2];
    enclave_testutil_bounds(b, len, PROTO_RECRUIT_MAX_BYTES, s_take, k, bounds);
    CHECK_EQ(bounds[0], PROTO_E_TRAILING);
    CHECK_EQ(bounds[1], PROTO_E_TOO_BIG);
    free(b);

    /* the largest post fits the bound */
    char full[PROTO_RECRUIT_NOTE_MAX + 1];
    memset(full, 'n', PROTO_RECRUIT_NOTE_MAX);
    full[PROTO_RECRUIT_NOTE_MAX] = 0;
    r = s_post(k, full);
    CHECK_EQ(proto_recruit_encode(&r, &b, &len), PROTO_OK);
    CHECK(len <= PROTO_RECRUIT_MAX_BYTES);
    CHECK_EQ(proto_recruit_decode(b, len, &d), PROTO_OK);
    CHECK_EQ(proto_recruit_verify(&d), PROTO_OK);
    CHECK_EQ(strlen(d.note), (size_t)PROTO_RECRUIT_NOTE_MAX);
    free(b);

    /* a receipt is not a post */
    proto_receipt_t rc;
    memset(&rc, 0, sizeof rc);
    uint8_t sk[64], pk[32], seed[32];
    enclave_testutil_bytes("enclave", seed, 32);
    crypto_sign_seed_keypair(pk, sk, seed);
    CHECK_EQ(proto_receipt_sign(&rc, sk), PROTO_OK);
    CHECK_EQ(proto_receipt_encode(&rc, &b, &len), PROTO_OK);
    CHECK(proto_recruit_decode(b, len, &d) != PROTO_OK);
    free(b);
    sodium_memzero(sk, sizeof sk);

    /* written by hand: arity, version, note bounds and characters */
    struct {
        uint32_t arity;
        uint64_t version;
        const char *note;
        size_t note_len;
        int want;
    } cases[] = {
        {6, 1, "ok", 2, PROTO_OK},
        {5, 1, "ok", 2, PROTO_E_ARITY},
        {7, 1, "ok", 2, PROTO_E_ARITY},
        {6, 0, "ok", 2, PROTO_E_VERSION},
        {6, 2, "ok", 2, PROTO_E_VERSION},
        {6, 1, full, PROTO_RECRUIT_NOTE_MAX, PROTO_OK},
        {6, 1, NULL, PROTO_RECRUIT_NOTE_MAX + 1, PROTO_E_TOO_LONG},
        {6, 1, "tab\there", 8, PROTO_E_INVALID},
        {6, 1, "nul\0here", 8, PROTO_E_INVALID},
        {6, 1, "del\x7f", 4, PROTO_E_INVALID},
    };
    char long_note[PROTO_RECRUIT_NOTE_MAX + 1];
    memset(long_note, 'x', sizeof long_note);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_array(&w, cases[i].arity);
        proto_wr_uint(&w, cases[i].version);
        proto_wr_bin(&w, r.spec_id, 32);
        proto_wr_bin(&w, r.trainer, 32);
        proto_wr_uint(&w, T0);
        proto_wr_str(&w, cases[i].note ? cases[i].note : long_note, cases[i].note_len);
        if (cases[i].arity >= 6)
            proto_wr_bin(&w, r.sig, 64);
        for (uint32_t x = 6; x < cases[i].arity; x++)
            proto_wr_nil(&w);
        size_t n;
        const uint8_t *p = proto_wr_data(&w, &n);
        CHECK(p != NULL);
        int got = p ? proto_recruit_decode(p, n, &d) : PROTO_E_NOMEM;
        if (got != cases[i].want)
            printf("case %zu: got %d (%s), want %d\n", i, got, proto_err_str(got), cases[i].want);
        CHECK_EQ(got, cases[i].want);
        proto_wr_free(&w);
    }
    proto_key_destroy(&k);
}

static void test_fresh(void)
{
    proto_recruit_t r;
    memset(&r, 0, sizeof r);
    r.time_ms = T0;
    CHECK(proto_recruit_fresh(&r, T0));
    CHECK(proto_recruit_fresh(&r, T0 + PROTO_RECRUIT_FRESH_MS - 1));
    CHECK(!proto_recruit_fresh(&r, T0 + PROTO_RECRUIT_FRESH_MS));
    CHECK(proto_recruit_fresh(&r, T0 - PROTO_RECRUIT_FRESH_MS + 1));
    CHECK(!proto_recruit_fresh(&r, T0 - PROTO_RECRUIT_FRESH_MS));
    r.time_ms = UINT64_MAX;
    CHECK(!proto_recruit_fresh(&r, 0));
    CHECK(proto_recruit_fresh(&r, UINT64_MAX));
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    enclave_testutil_seed_init();
    test_sign_verify();
    test_encoding();
    test_fresh();
    return testutil_done("test_proto_recruit");
}
