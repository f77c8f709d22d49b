/*  test_enclave_seal: sealing to an enclave and to disk (enclave_seal).
 *
 *  Shows, for several sizes up to 100 kB: data sealed to enclave A opens with A's key
 *  under the same context; it does not open with enclave B's key, with a key made from
 *  public values only (the runner's position), under another context (another spec or
 *  data id), or after any single-byte change; two seals of the same data differ; short and
 *  oversized inputs are refused with their codes, and a low-order key is refused.
 *  Disk sealing: what a platform seals for a measurement unseals with the same platform
 *  and measurement only, not under another measurement or another platform secret, and
 *  not with its version byte or any byte changed. Keys and data derive from a seed
 *  printed at start (GENIE_TEST_SEED=N replays it).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_platform.h"
#include "enclave/enclave_seal.h"
#include "enclave_testutil.h"
#include "testutil.h"

typedef struct {
    uint8_t pk[32];
    uint8_t sk[32];
} s_box_t;

static void s_box(const char *label, s_box_t *b)
{
    uint8_t seed[32];
    enclave_testutil_bytes(label, seed, 32);
    crypto_box_seed_keypair(b->pk, b->sk, seed);
    sodium_memzero(seed, sizeof seed);
}

static void test_seal_to(void)
{
    s_box_t a, b;
    s_box("enclave-a", &a);
    s_box("enclave-b", &b);
    uint8_t spec[32], data_id[32], other_id[32];
    enclave_testutil_bytes("spec", spec, 32);
    enclave_testutil_bytes("data-id", data_id, 32);
    enclave_testutil_bytes("other-id", other_id, 32);
    uint8_t ctx[ENCLAVE_SEAL_DONATION_CONTEXT_LEN], ctx2[ENCLAVE_SEAL_DONATION_CONTEXT_LEN];
    enclave_seal_donation_context(spec, data_id, ctx);
    enclave_seal_donation_context(spec, other_id, ctx2);
    CHECK(memcmp(ctx, "genie/donation/1", 16) == 0 && memcmp(ctx + 16, spec, 32) == 0);

    const size_t sizes[] = {0, 1, 1024, 6144, 100000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        uint8_t *plain = malloc(n + 1), *sealed = malloc(enclave_seal_to_len(n));
        uint8_t *sealed2 = malloc(enclave_seal_to_len(n)), *opened = malloc(n + 1);
        enclave_testutil_bytes("plain", plain, n);
        size_t slen = 0, olen = 0, slen2 = 0;
        CHECK_EQ(
            enclave_seal_to(a.pk, ctx, sizeof ctx, plain, n, sealed, enclave_seal_to_len(n), &slen),
            PROTO_OK);
        CHECK_EQ(slen, n + ENCLAVE_SEAL_TO_OVERHEAD);
        CHECK_EQ(enclave_seal_open_len(slen), n);
        CHECK_EQ(enclave_seal_open(a.pk, a.sk, ctx, sizeof ctx, sealed, slen, opened, n, &olen),
                 PROTO_OK);
        CHECK(olen == n && (n == 0 || memcmp(opened, plain, n) == 0));
        /* a fresh ephemeral key each time: the same data seals differently */
        CHECK_EQ(enclave_seal_to(a.pk, ctx, sizeof ctx, plain, n, sealed2, slen, &slen2), PROTO_OK);
        CHECK(slen2 == slen && memcmp(sealed, sealed2, slen) != 0);
        /* enclave B cannot open it, nor B's secret with A's public key */
        CHECK_EQ(enclave_seal_open(b.pk, b.sk, ctx, sizeof ctx, sealed, slen, opened, n, &olen),
                 PROTO_E_DECRYPT);
        CHECK_EQ(enclave_seal_open(a.pk, b.sk, ctx, sizeof ctx, sealed, slen, opened, n, &olen),
                 PROTO_E_DECRYPT);
        /* the runner holds public values only: the enclave's pk, the ephemeral pk */
        CHECK_EQ(enclave_seal_open(a.pk, a.pk, ctx, sizeof ctx, sealed, slen, opened, n, &olen),
                 PROTO_E_DECRYPT);
        CHECK_EQ(enclave_seal_open(a.pk, sealed, ctx, sizeof ctx, sealed, slen, opened, n, &olen),
                 PROTO_E_DECRYPT);
        /* another context: another data id, none at all */
        CHECK_EQ(enclave_seal_open(a.pk, a.sk, ctx2, sizeof ctx2, sealed, slen, opened, n, &olen),
                 PROTO_E_DECRYPT);
        CHECK_EQ(enclave_seal_open(a.pk, a.sk, NULL, 0, sealed, slen, opened, n, &olen),
                 PROTO_E_DECRYPT);
        CHECK(olen == 0);
        /* out buffer too small; truncated */
        if (n > 0)
            CHECK_EQ(
                enclave_seal_open(a.pk, a.sk, ctx, sizeof ctx, sealed, slen, opened, n - 1, &olen),
                PROTO_E_TOO_BIG);
        CHECK_EQ(enclave_seal_open(a.pk, a.sk, ctx, sizeof ctx, sealed, slen - 1, opened, n, &olen),
                 n == 0 ? PROTO_E_TRUNCATED : PROTO_E_DECRYPT);
        CHECK_EQ(enclave_seal_to(a.pk, ctx, sizeof ctx, plain, n, sealed2, slen - 1, &slen2),
                 PROTO_E_TOO_BIG);
        /* single-byte changes (every byte for small inputs, a sample for large ones) */
        int opened_bad = 0;
        size_t step = slen > 2000 ? slen / 997 : 1;
        for (size_t i = 0; i < slen; i += step) {
            sealed[i] ^= 0x20;
            opened_bad += enclave_seal_open(a.pk, a.sk, ctx, sizeof ctx, sealed, slen, opened, n,
                                            &olen) == PROTO_OK;
            sealed[i] ^= 0x20;
        }
        CHECK_EQ(opened_bad, 0);
        free(plain);
        free(sealed);
        free(sealed2);
        free(opened);
    }

    uint8_t small[ENCLAVE_SEAL_TO_OVERHEAD], out[8];
    size_t olen;
    memset(small, 0, sizeof small);
    CHECK_EQ(enclave_seal_open(a.pk, a.sk, NULL, 0, small, sizeof small - 1, out, 8, &olen),
             PROTO_E_TRUNCATED);
    CHECK_EQ(enclave_seal_open_len(3), 0);
    /* an all-zero ephemeral key (low order) is refused, not opened */
    CHECK_EQ(enclave_seal_open(a.pk, a.sk, NULL, 0, small, sizeof small, out, 8, &olen),
             PROTO_E_DECRYPT);
    /* sealing to a low-order key is refused */
    uint8_t zero_pk[32] = {0}, sealed[ENCLAVE_SEAL_TO_OVERHEAD + 4];
    CHECK_EQ(
        enclave_seal_to(zero_pk, NULL, 0, (const uint8_t *)"data", 4, sealed, sizeof sealed, &olen),
        PROTO_E_CRYPTO);
    /* an oversized context */
    uint8_t big_ctx[ENCLAVE_SEAL_CONTEXT_MAX + 1] = {0};
    CHECK_EQ(enclave_seal_to(a.pk, big_ctx, sizeof big_ctx, (const uint8_t *)"data", 4, sealed,
                             sizeof sealed, &olen),
             PROTO_E_TOO_BIG);
    CHECK_EQ(enclave_seal_to(a.pk, big_ctx, ENCLAVE_SEAL_CONTEXT_MAX, (const uint8_t *)"data", 4,
                             sealed, sizeof sealed, &olen),
             PROTO_OK);
    sodium_memzero(&a, sizeof a);
    sodium_memzero(&b, sizeof b);
}

static void test_seal_disk(void)
{
    const char *d1 = testutil_tmpdir(), *d2 = testutil_tmpdir();
    char err[160];
    enclave_platform_t *p1 = enclave_platform_sim_open(d1, err, sizeof err);
    enclave_platform_t *p2 = enclave_platform_sim_open(d2, err, sizeof err);
    CHECK(p1 != NULL && p2 != NULL);
    if (!p1 || !p2)
        return;
    uint8_t m1[32], m2[32], k11[32], k12[32], k21[32];
    enclave_testutil_bytes("measurement-1", m1, 32);
    enclave_testutil_bytes("measurement-2", m2, 32);
    CHECK_EQ(enclave_platform_seal_key(p1, m1, k11), PROTO_OK);
    CHECK_EQ(enclave_platform_seal_key(p1, m2, k12), PROTO_OK);
    CHECK_EQ(enclave_platform_seal_key(p2, m1, k21), PROTO_OK);

    uint8_t state[3000], out[3000];
    enclave_testutil_bytes("enclave-state", state, sizeof state);
    uint8_t sealed[sizeof state + ENCLAVE_SEAL_DISK_OVERHEAD], sealed2[sizeof sealed];
    size_t slen = 0, olen = 0, slen2 = 0;
    CHECK_EQ(enclave_seal_disk(k11, m1, state, sizeof state, sealed, sizeof sealed, &slen),
             PROTO_OK);
    CHECK_EQ(slen, enclave_seal_disk_len(sizeof state));
    CHECK_EQ(enclave_seal_disk_open_len(slen), sizeof state);
    CHECK_EQ(enclave_seal_disk_open(k11, m1, sealed, slen, out, sizeof out, &olen), PROTO_OK);
    CHECK(olen == sizeof state && memcmp(out, state, olen) == 0);
    /* a random nonce: sealing twice gives different bytes, both open */
    CHECK_EQ(enclave_seal_disk(k11, m1, state, sizeof state, sealed2, sizeof sealed2, &slen2),
             PROTO_OK);
    CHECK(memcmp(sealed, sealed2, slen) != 0);
    CHECK_EQ(enclave_seal_disk_open(k11, m1, sealed2, slen2, out, sizeof out, &olen), PROTO_OK);

    /* another binary: its own key does not open it, nor does this key under its name */
    CHECK_EQ(enclave_seal_disk_open(k12, m2, sealed, slen, out, sizeof out, &olen),
             PROTO_E_DECRYPT);
    CHECK_EQ(enclave_seal_disk_open(k11, m2, sealed, slen, out, sizeof out, &olen),
             PROTO_E_DECRYPT);
    CHECK_EQ(enclave_seal_disk_open(k12, m1, sealed, slen, out, sizeof out, &olen),
             PROTO_E_DECRYPT);
    /* another platform secret, same measurement */
    CHECK_EQ(enclave_seal_disk_open(k21, m1, sealed, slen, out, sizeof out, &olen),
             PROTO_E_DECRYPT);
    CHECK(olen == 0);
    /* the same platform reopened derives the same key and unseals */
    enclave_platform_destroy(&p1);
    p1 = enclave_platform_sim_open(d1, NULL, 0);
    CHECK(p1 != NULL);
    uint8_t k11b[32];
    CHECK_EQ(enclave_platform_seal_key(p1, m1, k11b), PROTO_OK);
    CHECK_EQ(enclave_seal_disk_open(k11b, m1, sealed, slen, out, sizeof out, &olen), PROTO_OK);

    /* any changed byte, the version byte, truncation, a short buffer */
    int opened_bad = 0;
    for (size_t i = 1; i < slen; i += 7) {
        sealed[i] ^= 0x01;
        opened_bad += enclave_seal_disk_open(k11, m1, sealed, slen, out, sizeof out, &olen) == 0;
        sealed[i] ^= 0x01;
    }
    CHECK_EQ(opened_bad, 0);
    sealed[0] = 2;
    CHECK_EQ(enclave_seal_disk_open(k11, m1, sealed, slen, out, sizeof out, &olen),
             PROTO_E_VERSION);
    sealed[0] = 1;
    CHECK_EQ(enclave_seal_disk_open(k11, m1, sealed, ENCLAVE_SEAL_DISK_OVERHEAD - 1, out,
                                    sizeof out, &olen),
             PROTO_E_TRUNCATED);
    CHECK_EQ(enclave_seal_disk_open(k11, m1, sealed, slen - 1, out, sizeof out, &olen),
             PROTO_E_DECRYPT);
    CHECK_EQ(enclave_seal_disk_open(k11, m1, sealed, slen, out, sizeof state - 1, &olen),
             PROTO_E_TOO_BIG);
    CHECK_EQ(enclave_seal_disk(k11, m1, state, sizeof state, sealed, slen - 1, &slen),
             PROTO_E_TOO_BIG);
    /* empty state */
    CHECK_EQ(enclave_seal_disk(k11, m1, NULL, 0, sealed, sizeof sealed, &slen), PROTO_OK);
    CHECK_EQ(enclave_seal_disk_open(k11, m1, sealed, slen, out, 0, &olen), PROTO_OK);
    CHECK(olen == 0);

    sodium_memzero(k11, 32);
    sodium_memzero(k11b, 32);
    sodium_memzero(k12, 32);
    sodium_memzero(k21, 32);
    enclave_platform_destroy(&p1);
    enclave_platform_destroy(&p2);
    testutil_rmtree(d1);
    testutil_rmtree(d2);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    enclave_testutil_seed_init();
    test_seal_to();
    test_seal_disk();
    return testutil_done("test_enclave_seal");
}
