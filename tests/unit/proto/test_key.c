/*  test_key: Ed25519 keys, their Curve25519 forms, hex and domain-separated hashing
 *  (proto_key, proto_hex). Reads as a usage example: make a key from a seed, sign,
 *  verify, derive the CurveZMQ key pair.
 */
#include <sodium.h>
#include <string.h>

#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "testutil.h"

static void s_seed(uint8_t seed[static PROTO_SEED_LEN], uint8_t base)
{
    for (int i = 0; i < PROTO_SEED_LEN; i++)
        seed[i] = (uint8_t)(base + i);
}

static void s_test_seed(void)
{
    uint8_t seed[PROTO_SEED_LEN], seed2[PROTO_SEED_LEN], back[PROTO_SEED_LEN];
    s_seed(seed, 0);
    s_seed(seed2, 1);
    proto_key_t *a = proto_key_from_seed(seed);
    proto_key_t *b = proto_key_from_seed(seed);
    proto_key_t *c = proto_key_from_seed(seed2);
    CHECK(a && b && c);
    if (!a || !b || !c)
        goto out;
    CHECK(memcmp(proto_key_public(a), proto_key_public(b), PROTO_PUBKEY_LEN) == 0);
    CHECK(memcmp(proto_key_public(a), proto_key_public(c), PROTO_PUBKEY_LEN) != 0);
    proto_key_seed(a, back);
    CHECK(memcmp(back, seed, sizeof seed) == 0);
    sodium_memzero(back, sizeof back);

    /* RFC 8032 test 1: seed 9d61...7f60 has public key d75a...511a */
    uint8_t rfc_seed[32], rfc_pk[32];
    CHECK_EQ(proto_hex_decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                              rfc_seed, 32),
             0);
    CHECK_EQ(proto_hex_decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                              rfc_pk, 32),
             0);
    proto_key_t *rfc = proto_key_from_seed(rfc_seed);
    CHECK(rfc && memcmp(proto_key_public(rfc), rfc_pk, 32) == 0);
    /* its signature of the empty message is fixed by the RFC */
    uint8_t sig[PROTO_SIG_LEN], want[PROTO_SIG_LEN];
    CHECK_EQ(proto_hex_decode("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                              "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
                              want, sizeof want),
             0);
    if (rfc) {
        proto_key_sign(rfc, NULL, 0, sig);
        CHECK(memcmp(sig, want, sizeof sig) == 0);
    }
    proto_key_destroy(&rfc);
out:
    proto_key_destroy(&a);
    proto_key_destroy(&b);
    proto_key_destroy(&c);
    CHECK(a == NULL && b == NULL && c == NULL);
    proto_key_destroy(&a); /* tolerates an already-destroyed key */
    proto_key_destroy(NULL);
}

static void s_test_sign_verify(void)
{
    proto_key_t *a = proto_key_generate();
    proto_key_t *b = proto_key_generate();
    CHECK(a && b);
    if (!a || !b)
        goto out;
    CHECK(memcmp(proto_key_public(a), proto_key_public(b), PROTO_PUBKEY_LEN) != 0);

    uint8_t msg[100];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7);
    uint8_t sig[PROTO_SIG_LEN], sig2[PROTO_SIG_LEN];
    proto_key_sign(a, msg, sizeof msg, sig);
    proto_key_sign(a, msg, sizeof msg, sig2);
    CHECK(memcmp(sig, sig2, sizeof sig) == 0); /* deterministic */
    CHECK(proto_sig_verify(proto_key_public(a), msg, sizeof msg, sig));
    CHECK(!proto_sig_verify(proto_key_public(b), msg, sizeof msg, sig));
    CHECK(!proto_sig_verify(proto_key_public(a), msg, sizeof msg - 1, sig));

    /* any single-bit change of the message or the signature fails */
    int accepted = 0;
    for (size_t i = 0; i < sizeof msg; i++) {
        msg[i] ^= 0x01;
        accepted += proto_sig_verify(proto_key_public(a), msg, sizeof msg, sig);
        msg[i] ^= 0x01;
    }
    for (size_t i = 0; i < sizeof sig; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sig[i] ^= (uint8_t)(1u << bit);
            accepted += proto_sig_verify(proto_key_public(a), msg, sizeof msg, sig);
            sig[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_EQ(accepted, 0);
    CHECK(proto_sig_verify(proto_key_public(a), msg, sizeof msg, sig));

    /* the identity key with an all-identity signature verifies nothing */
    uint8_t id_pk[32] = {1}, id_sig[64] = {1};
    CHECK(!proto_sig_verify(id_pk, msg, sizeof msg, id_sig));
    uint8_t zero_pk[32] = {0}, zero_sig[64] = {0};
    CHECK(!proto_sig_verify(zero_pk, msg, sizeof msg, zero_sig));
out:
    proto_key_destroy(&a);
    proto_key_destroy(&b);
}

static void s_test_curve(void)
{
    proto_key_t *a = proto_key_generate();
    proto_key_t *b = proto_key_generate();
    CHECK(a && b);
    if (!a || !b)
        goto out;
    uint8_t a_sk[32], a_pk[32], b_sk[32], b_pk[32], derived[32];
    CHECK_EQ(proto_key_curve_secret(a, a_sk), 0);
    CHECK_EQ(proto_key_curve_public(proto_key_public(a), a_pk), 0);
    CHECK_EQ(proto_key_curve_secret(b, b_sk), 0);
    CHECK_EQ(proto_key_curve_public(proto_key_public(b), b_pk), 0);

    /* the halves match: the curve secret's base-point multiple is the curve public */
    CHECK_EQ(crypto_scalarmult_base(derived, a_sk), 0);
    CHECK(memcmp(derived, a_pk, 32) == 0);
    CHECK_EQ(crypto_scalarmult_base(derived, b_sk), 0);
    CHECK(memcmp(derived, b_pk, 32) == 0);

    /* and Diffie-Hellman agrees both ways, as CurveZMQ needs */
    uint8_t ab[32], ba[32];
    CHECK_EQ(crypto_scalarmult(ab, a_sk, b_pk), 0);
    CHECK_EQ(crypto_scalarmult(ba, b_sk, a_pk), 0);
    CHECK(memcmp(ab, ba, 32) == 0);
    sodium_memzero(a_sk, sizeof a_sk);
    sodium_memzero(b_sk, sizeof b_sk);
    sodium_memzero(ab, sizeof ab);
    sodium_memzero(ba, sizeof ba);

    /* invalid points: zero, identity, points of small order, p - 1 */
    static const char *bad[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "0200000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t pk[32];
        CHECK_EQ(proto_hex_decode(bad[i], pk, sizeof pk), 0);
        CHECK_EQ(proto_key_curve_public(pk, derived), PROTO_E_INVALID);
    }
out:
    proto_key_destroy(&a);
    proto_key_destroy(&b);
}

static void s_test_hex(void)
{
    uint8_t all[256], back[256];
    char text[2 * 256 + 1];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    proto_hex_encode(all, sizeof all, text);
    CHECK_EQ(strlen(text), 512u);
    CHECK(strncmp(text, "000102", 6) == 0);
    CHECK(strcmp(text + 500, "fafbfcfdfeff") == 0); /* lowercase */
    CHECK_EQ(proto_hex_decode(text, back, sizeof back), 0);
    CHECK(memcmp(all, back, sizeof all) == 0);

    uint8_t out[4] = {0};
    CHECK_EQ(proto_hex_decode("DEADbeef", out, 4), 0);
    CHECK(out[0] == 0xde && out[1] == 0xad && out[2] == 0xbe && out[3] == 0xef);

    /* wrong length, odd length, non-hex characters, NULL */
    CHECK_EQ(proto_hex_decode("deadbe", out, 4), -1);
    CHECK_EQ(proto_hex_decode("deadbeef00", out, 4), -1);
    CHECK_EQ(proto_hex_decode("deadbee", out, 4), -1);
    CHECK_EQ(proto_hex_decode("deadbeeg", out, 4), -1);
    CHECK_EQ(proto_hex_decode("dead beef", out, 4), -1);
    CHECK_EQ(proto_hex_decode(" deadbee", out, 4), -1);
    CHECK_EQ(proto_hex_decode("0xdeadbe", out, 4), -1);
    CHECK_EQ(proto_hex_decode("dead:eef", out, 4), -1);
    CHECK_EQ(proto_hex_decode("de\xff"
                              "dbeef",
                              out, 4),
             -1);
    CHECK_EQ(proto_hex_decode(NULL, out, 4), -1);

    /* empty */
    char empty[1];
    proto_hex_encode(NULL, 0, empty);
    CHECK_EQ(empty[0], '\0');
    CHECK_EQ(proto_hex_decode("", out, 0), 0);
    CHECK_EQ(proto_hex_decode("00", out, 0), -1);
}

static void s_test_hash(void)
{
    uint8_t h1[PROTO_HASH_LEN], h2[PROTO_HASH_LEN], h3[PROTO_HASH_LEN];
    static const uint8_t data[] = "some data";
    proto_hash("genie/a", data, sizeof data - 1, h1);
    proto_hash("genie/b", data, sizeof data - 1, h2);
    proto_hash("genie/a", data, sizeof data - 1, h3);
    CHECK(memcmp(h1, h2, sizeof h1) != 0); /* domains separate */
    CHECK(memcmp(h1, h3, sizeof h1) == 0); /* deterministic */

    /* the 0x00 separator keeps ("ab", "c") and ("a", "bc") apart */
    proto_hash("ab", (const uint8_t *)"c", 1, h1);
    proto_hash("a", (const uint8_t *)"bc", 2, h2);
    CHECK(memcmp(h1, h2, sizeof h1) != 0);
    proto_hash("", NULL, 0, h1);
    proto_hash("", (const uint8_t *)"", 0, h2);
    CHECK(memcmp(h1, h2, sizeof h1) == 0);

    /* it is BLAKE2b-256(domain || 0x00 || data), as documented */
    static const uint8_t joined[] = "genie/a\0some data";
    crypto_generichash(h2, sizeof h2, joined, sizeof joined - 1, NULL, 0);
    proto_hash("genie/a", data, sizeof data - 1, h1);
    CHECK(memcmp(h1, h2, sizeof h1) == 0);
}

int main(void)
{
    CHECK_EQ(proto_crypto_init(), 0);
    s_test_seed();
    s_test_sign_verify();
    s_test_curve();
    s_test_hex();
    s_test_hash();
    return testutil_done("test_key");
}
