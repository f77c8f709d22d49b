/*  test_enclave_keyed: key-authorization donation (DONATE_KEYED): key grants
 *  (enclave_grant) in process, then real genie-enclave training processes spawned and
 *  attested through enclave_host on a simulated, certified platform.
 *
 *  Shows, for grants: a grant opens in the enclave it was sealed to, for its spec and data
 *  id, giving back salt and key; it is refused (ENCLAVE_E_GRANT, salt and key wiped) with
 *  another enclave's key, for another spec or data id, with any byte flipped, cut or added,
 *  and a low-order box key cannot be granted to.
 *  With real enclaves: a keyed donation (the owner's stored blob + a grant sealed to
 *  training enclave A) is accepted by A, whose receipt verifies with A's quoted key and
 *  names the spec, the data id (= the commitment) and the donor; a 1,000 KiB blob (16
 *  chunks) too; the request the runner relays holds neither the plaintext, nor the salt,
 *  nor the data key. Refused: A's grant sent to enclave B (ENCLAVE_E_GRANT), a grant for
 *  another spec (ENCLAVE_E_GRANT), a blob under another key (ENCLAVE_E_BLOB_DECRYPT), a
 *  truncated blob (ENCLAVE_E_BLOB), a data id the data does not match (ENCLAVE_E_COMMIT,
 *  the grant being made for that id), the same donation twice, and DONATE_KEYED sent to a
 *  validation enclave (ENCLAVE_E_WRONG_KIND). STATS counts what was accepted only.
 *  The test data's seed is printed (GENIE_TEST_SEED=N replays it).
 */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave/enclave_blob.h"
#include "enclave/enclave_grant.h"
#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "enclave_host_testutil.h"
#include "enclave_testutil.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_report.h"
#include "testutil.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE (the genie-enclave binary) must be defined by tests/CMakeLists.txt"
#endif

static int s_grant_open_rc(const uint8_t pk[32], const uint8_t sk[32], const uint8_t spec[32],
                           const uint8_t id[32], const uint8_t *g, size_t len)
{
    uint8_t salt[32], key[32];
    memset(salt, 0xee, 32);
    memset(key, 0xee, 32);
    int rc = enclave_grant_open(pk, sk, spec, id, g, len, salt, key);
    if (rc != PROTO_OK) {
        static const uint8_t zero[32];
        CHECK(memcmp(salt, zero, 32) == 0 && memcmp(key, zero, 32) == 0);
    }
    return rc;
}

static void test_grant(void)
{
    uint8_t apk[32], ask[32], bpk[32], bsk[32], seed[32];
    enclave_testutil_bytes("box a", seed, 32);
    crypto_box_seed_keypair(apk, ask, seed);
    enclave_testutil_bytes("box b", seed, 32);
    crypto_box_seed_keypair(bpk, bsk, seed);
    uint8_t spec[32], id[32], salt[32], key[32], other[32];
    enclave_testutil_bytes("spec", spec, 32);
    enclave_testutil_bytes("id", id, 32);
    enclave_testutil_bytes("salt", salt, 32);
    enclave_testutil_bytes("key", key, 32);
    enclave_testutil_bytes("other", other, 32);

    uint8_t *g = NULL;
    size_t glen = 0;
    REQUIRE(enclave_grant_seal(apk, spec, id, salt, key, &g, &glen) == PROTO_OK);
    CHECK_EQ(glen, (size_t)ENCLAVE_GRANT_LEN);
    CHECK(memmem(g, glen, salt, 32) == NULL && memmem(g, glen, key, 32) == NULL);
    uint8_t s2[32], k2[32];
    CHECK_EQ(enclave_grant_open(apk, ask, spec, id, g, glen, s2, k2), PROTO_OK);
    CHECK(memcmp(s2, salt, 32) == 0 && memcmp(k2, key, 32) == 0);
    CHECK_EQ(s_grant_open_rc(bpk, bsk, spec, id, g, glen), ENCLAVE_E_GRANT);
    CHECK_EQ(s_grant_open_rc(apk, ask, other, id, g, glen), ENCLAVE_E_GRANT);
    CHECK_EQ(s_grant_open_rc(apk, ask, spec, other, g, glen), ENCLAVE_E_GRANT);
    CHECK_EQ(s_grant_open_rc(apk, ask, spec, id, g, glen - 1), ENCLAVE_E_GRANT);
    CHECK_EQ(s_grant_open_rc(apk, ask, spec, id, NULL, 0), ENCLAVE_E_GRANT);
    uint8_t longer[ENCLAVE_GRANT_LEN + 1];
    memcpy(longer, g, glen);
    longer[glen] = 0;
    CHECK_EQ(s_grant_open_rc(apk, ask, spec, id, longer, sizeof longer), ENCLAVE_E_GRANT);
    int flips_ok = 0;
    for (size_t i = 0; i < glen; i++) {
        g[i] ^= 0x01;
        flips_ok += s_grant_open_rc(apk, ask, spec, id, g, glen) == PROTO_OK;
        g[i] ^= 0x01;
    }
    CHECK_EQ(flips_ok, 0);
    free(g);
    /* a low-order point (all zero) as the box key: refused, nothing made */
    static const uint8_t zero_pk[32];
    g = (uint8_t *)1;
    CHECK(enclave_grant_seal(zero_pk, spec, id, salt, key, &g, &glen) != PROTO_OK);
    CHECK(g == NULL && glen == 0);
    sodium_memzero(ask, 32);
    sodium_memzero(bsk, 32);
}

static uint8_t s_as_pk[32];

static enclave_host_t *s_spawn(enclave_kind_t kind, enclave_platform_t *plat)
{
    enclave_host_opts_t o;
    enclave_host_opts_default(&o);
    o.inherit_stderr = true;
    enclave_host_t *h = enclave_testutil_host_start(GENIE_ENCLAVE_EXE, kind, plat, &o);
    /* the quote verifies offline against the AS key */
    CHECK_EQ(enclave_testutil_quote_verify(h, s_as_pk, NULL), 0);
    return h;
}

/* One keyed donation as the owner's node and the runner build it. */
typedef struct {
    uint8_t spec[32], data_id[32], donor[32];
    const uint8_t *grant;
    size_t grant_len;
    const uint8_t *blob;
    size_t blob_len;
    /* what must not appear in the relayed request */
    const uint8_t *plain;
    size_t plain_len;
    const uint8_t *salt, *key;
} s_keyed_t;

/* Sends K to H as a DONATE_KEYED request; the call's code; on success the receipt in *R. */
static int s_donate_keyed(enclave_host_t *h, const s_keyed_t *k, proto_receipt_t *r)
{
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE_KEYED;
    memcpy(req.u.donate_keyed.spec_id, k->spec, 32);
    memcpy(req.u.donate_keyed.data_id, k->data_id, 32);
    memcpy(req.u.donate_keyed.donor, k->donor, 32);
    req.u.donate_keyed.grant = k->grant;
    req.u.donate_keyed.grant_len = k->grant_len;
    req.u.donate_keyed.blob = k->blob;
    req.u.donate_keyed.blob_len = k->blob_len;
    /* the runner relays exactly these bytes: no plaintext, salt or key in them */
    uint8_t *wire = NULL;
    size_t wire_len = 0;
    CHECK_EQ(enclave_wire_req_encode(&req, &wire, &wire_len), 0);
    CHECK(enclave_wire_req_relayable(req.type));
    if (wire) {
        size_t probe = k->plain_len < 64 ? k->plain_len : 64;
        CHECK(probe < 16 || memmem(wire, wire_len, k->plain, probe) == NULL);
        CHECK(memmem(wire, wire_len, k->salt, 32) == NULL);
        CHECK(memmem(wire, wire_len, k->key, 32) == NULL);
        free(wire);
    }
    return enclave_testutil_call_receipt(h, &req, r);
}

/* Makes DATA's blob under KEY. */
static uint8_t *s_blob(const uint8_t key[32], const uint8_t *data, size_t len, size_t *blen)
{
    uint8_t *b = NULL;
    CHECK_EQ(enclave_blob_seal(key, data, len, &b, blen), PROTO_OK);
    return b;
}

static void test_keyed_donation(enclave_platform_t *plat)
{
    enclave_host_t *a = s_spawn(ENCLAVE_KIND_TRAINING, plat);
    enclave_host_t *b = s_spawn(ENCLAVE_KIND_TRAINING, plat);
    enclave_host_t *v = s_spawn(ENCLAVE_KIND_VALIDATION, plat);
    const uint8_t *a_box = enclave_host_quote(a)->body.box_pk;
    const uint8_t *b_box = enclave_host_quote(b)->body.box_pk;

    uint8_t data[6000], salt[32], key[32], key2[32];
    const char *bases = "ACGT";
    uint8_t pick[sizeof data];
    enclave_testutil_bytes("genotype", pick, sizeof pick);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)bases[pick[i] % 4];
    enclave_testutil_bytes("salt", salt, 32);
    enclave_testutil_bytes("data key", key, 32);
    enclave_testutil_bytes("another key", key2, 32);

    s_keyed_t k;
    memset(&k, 0, sizeof k);
    enclave_testutil_bytes("spec", k.spec, 32);
    memset(k.donor, 0xd0, 32);
    proto_data_commit(salt, data, sizeof data, k.data_id);
    k.plain = data;
    k.plain_len = sizeof data;
    k.salt = salt;
    k.key = key;
    size_t blen = 0, blen2 = 0;
    uint8_t *blob = s_blob(key, data, sizeof data, &blen);
    uint8_t *blob2 = s_blob(key2, data, sizeof data, &blen2);
    uint8_t *grant_a = NULL, *grant_b = NULL, *grant_spec = NULL;
    size_t glen = 0;
    REQUIRE(enclave_grant_seal(a_box, k.spec, k.data_id, salt, key, &grant_a, &glen) == 0);
    REQUIRE(enclave_grant_seal(b_box, k.spec, k.data_id, salt, key, &grant_b, &glen) == 0);
    uint8_t spec2[32];
    enclave_testutil_bytes("another spec", spec2, 32);
    REQUIRE(enclave_grant_seal(b_box, spec2, k.data_id, salt, key, &grant_spec, &glen) == 0);
    k.grant_len = glen;
    k.blob = blob;
    k.blob_len = blen;

    /* accepted by A with A's grant */
    proto_receipt_t r;
    k.grant = grant_a;
    CHECK_EQ(s_donate_keyed(a, &k, &r), 0);
    CHECK_EQ(proto_receipt_verify(&r, enclave_host_quote(a)->body.sign_pk), 0);
    CHECK(memcmp(r.spec_id, k.spec, 32) == 0 && memcmp(r.data_id, k.data_id, 32) == 0 &&
          memcmp(r.data_commitment, k.data_id, 32) == 0 && memcmp(r.donor, k.donor, 32) == 0);
    CHECK(proto_receipt_verify(&r, enclave_host_quote(b)->body.sign_pk) != 0);
    /* twice: refused */
    CHECK_EQ(s_donate_keyed(a, &k, &r), PROTO_E_INVALID);
    /* A's grant sent to B: refused */
    CHECK_EQ(s_donate_keyed(b, &k, &r), ENCLAVE_E_GRANT);
    /* B's grant but a blob under another key: refused */
    k.grant = grant_b;
    k.blob = blob2;
    k.blob_len = blen2;
    CHECK_EQ(s_donate_keyed(b, &k, &r), ENCLAVE_E_BLOB_DECRYPT);
    /* B's grant, the right blob truncated: refused */
    k.blob = blob;
    k.blob_len = blen - 1;
    CHECK_EQ(s_donate_keyed(b, &k, &r), ENCLAVE_E_BLOB);
    k.blob_len = blen;
    /* a grant to B made for another spec, presented for this one: refused */
    k.grant = grant_spec;
    CHECK_EQ(s_donate_keyed(b, &k, &r), ENCLAVE_E_GRANT);
    /* a data id the data does not match, with a grant made for that id: refused */
    uint8_t *grant_bad = NULL;
    uint8_t bad_id[32];
    memcpy(bad_id, k.data_id, 32);
    bad_id[7] ^= 0x20;
    REQUIRE(enclave_grant_seal(b_box, k.spec, bad_id, salt, key, &grant_bad, &glen) == 0);
    memcpy(k.data_id, bad_id, 32);
    k.grant = grant_bad;
    CHECK_EQ(s_donate_keyed(b, &k, &r), ENCLAVE_E_COMMIT);
    /* a validation enclave does not serve it */
    CHECK_EQ(s_donate_keyed(v, &k, &r), ENCLAVE_E_WRONG_KIND);
    free(grant_bad);

    uint64_t n = 0, bytes = 0;
    enclave_testutil_stats(a, &n, &bytes);
    CHECK(n == 1 && bytes == sizeof data);
    enclave_testutil_stats(b, &n, &bytes);
    CHECK(n == 0 && bytes == 0);

    /* the largest data file (1,000 KiB: 16 chunks) donated to B for another spec */
    const size_t big_len = 1000u * 1024u;
    uint8_t *big = malloc(big_len);
    REQUIRE(big != NULL);
    enclave_testutil_bytes("big", big, big_len);
    s_keyed_t kb = k;
    memcpy(kb.spec, spec2, 32);
    proto_data_commit(salt, big, big_len, kb.data_id);
    size_t bblen = 0;
    uint8_t *bblob = s_blob(key, big, big_len, &bblen);
    uint8_t *bgrant = NULL;
    REQUIRE(enclave_grant_seal(b_box, kb.spec, kb.data_id, salt, key, &bgrant, &glen) == 0);
    kb.grant = bgrant;
    kb.blob = bblob;
    kb.blob_len = bblen;
    kb.plain = big;
    kb.plain_len = big_len;
    CHECK_EQ(s_donate_keyed(b, &kb, &r), 0);
    CHECK_EQ(proto_receipt_verify(&r, enclave_host_quote(b)->body.sign_pk), 0);
    CHECK(memcmp(r.data_id, kb.data_id, 32) == 0);
    enclave_testutil_stats(b, &n, &bytes);
    CHECK(n == 1 && bytes == big_len);
    free(bgrant);
    free(bblob);
    free(big);

    free(grant_a);
    free(grant_b);
    free(grant_spec);
    free(blob);
    free(blob2);
    sodium_memzero(key, 32);
    sodium_memzero(key2, 32);
    sodium_memzero(salt, 32);
    enclave_host_destroy(&a);
    enclave_host_destroy(&b);
    enclave_host_destroy(&v);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    enclave_testutil_seed_init();
    test_grant();

    const char *dir = testutil_tmpdir();
    proto_key_t *as = NULL;
    enclave_platform_t *plat = enclave_testutil_platform(dir, "runner-test", &as);
    memcpy(s_as_pk, proto_key_public(as), 32);

    test_keyed_donation(plat);

    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    testutil_rmtree(dir);
    return testutil_done("test_enclave_keyed");
}
