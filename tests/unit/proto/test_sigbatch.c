/*  test_sigbatch: the cofactored Ed25519 rule of proto_sigbatch, single and batched,
 *  checked against libsodium's crypto_sign_verify_detached. Reads as a usage example:
 *  fill proto_sigcheck_t items, call proto_sig_check_batch, read the verdicts.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_sigbatch.h"
#include "proto/proto_sigbatch_int.h"
#include "testutil.h"

#define N_ITEMS 300

typedef struct {
    uint8_t pk[32];
    uint8_t sig[64];
    uint8_t msg[48];
    size_t len;
} s_item;

static void s_sign(s_item *it, uint32_t seed_no)
{
    uint8_t seed[32] = {0}, sk[64];
    memcpy(seed, &seed_no, sizeof seed_no);
    crypto_sign_seed_keypair(it->pk, sk, seed);
    it->len = 1 + seed_no % sizeof it->msg;
    randombytes_buf(it->msg, it->len);
    crypto_sign_detached(it->sig, NULL, it->msg, it->len, sk);
    sodium_memzero(sk, sizeof sk);
}

static proto_sigcheck_t s_check_of(const s_item *it)
{
    return (proto_sigcheck_t){.pk = it->pk, .sig = it->sig, .msg = it->msg, .len = it->len};
}

static bool s_sodium(const s_item *it)
{
    return crypto_sign_verify_detached(it->sig, it->msg, it->len, it->pk) == 0;
}

static bool s_single(const s_item *it)
{
    return proto_sig_check(it->pk, it->msg, it->len, it->sig);
}

/*  Batches of every size up to N give the single verdicts. */
static void s_expect_batches(const s_item *items, size_t n)
{
    static proto_sigcheck_t checks[N_ITEMS];
    static bool ok[N_ITEMS];
    for (size_t i = 0; i < n; i++)
        checks[i] = s_check_of(&items[i]);
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += s_single(&items[i]);
    /* without a key table; with a roomy one, cold then warm; with one of 2 slots, where
       keys keep evicting each other: the same verdicts every time */
    proto_sigkeys_t *roomy = proto_sigkeys_new(1024), *tiny = proto_sigkeys_new(2);
    CHECK(roomy && tiny);
    proto_sigkeys_t *tables[] = {NULL, roomy, roomy, tiny, tiny};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        memset(ok, 0, sizeof ok);
        CHECK_EQ(proto_sig_check_batch(tables[t], checks, n, ok), want);
        size_t same = 0;
        for (size_t i = 0; i < n; i++)
            same += ok[i] == s_single(&items[i]);
        CHECK_EQ(same, n);
    }
    uint64_t hits = 0, lookups = 0;
    proto_sigkeys_stats(roomy, &hits, &lookups);
    CHECK(hits <= lookups && lookups <= 2 * n);
    proto_sigkeys_destroy(&roomy);
    proto_sigkeys_destroy(&tiny);
    CHECK(roomy == NULL);
}

static void s_test_valid(void)
{
    static s_item items[N_ITEMS];
    size_t sodium_ok = 0, ours = 0;
    for (uint32_t i = 0; i < N_ITEMS; i++) {
        s_sign(&items[i], i);
        sodium_ok += s_sodium(&items[i]);
        ours += s_single(&items[i]);
    }
    CHECK_EQ(sodium_ok, (size_t)N_ITEMS);
    CHECK_EQ(ours, (size_t)N_ITEMS);
    static const size_t sizes[] = {0,
                                   1,
                                   2,
                                   3,
                                   39,
                                   40,
                                   79,
                                   80,
                                   PROTO_SIGBATCH_CHUNK - 1,
                                   PROTO_SIGBATCH_CHUNK,
                                   PROTO_SIGBATCH_CHUNK + 1,
                                   N_ITEMS};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        s_expect_batches(items, sizes[k]);
    bool ok[N_ITEMS];
    proto_sigcheck_t checks[N_ITEMS];
    for (size_t i = 0; i < N_ITEMS; i++)
        checks[i] = s_check_of(&items[i]);
    CHECK_EQ(proto_sig_check_batch(NULL, checks, N_ITEMS, ok), (size_t)N_ITEMS);
    /* a warm table answers from its entries: nearly every key of the second pass is a hit
       (a key evicted by two others of its slot pair is not: rare with 4 slots a key), and a
       signature of another message under a known key is still refused */
    proto_sigkeys_t *keys = proto_sigkeys_new(4 * N_ITEMS);
    CHECK(keys != NULL);
    CHECK_EQ(proto_sig_check_batch(keys, checks, N_ITEMS, ok), (size_t)N_ITEMS);
    CHECK_EQ(proto_sig_check_batch(keys, checks, N_ITEMS, ok), (size_t)N_ITEMS);
    uint64_t hits = 0, lookups = 0;
    proto_sigkeys_stats(keys, &hits, &lookups);
    CHECK_EQ(lookups, (uint64_t)(2 * N_ITEMS));
    CHECK(hits >= (uint64_t)N_ITEMS * 9 / 10);
    checks[0].sig = items[1].sig; /* key 0, message 0, key 1's signature */
    CHECK_EQ(proto_sig_check_batch(keys, checks, 2, ok), (size_t)1);
    CHECK(!ok[0] && ok[1]);
    proto_sigkeys_destroy(&keys);
}

/*  One changed bit anywhere makes libsodium and us refuse, single and batched. */
static void s_test_tampered(void)
{
    static s_item items[N_ITEMS];
    size_t bad = 0, sodium_refused = 0, refused = 0;
    for (uint32_t i = 0; i < N_ITEMS; i++) {
        s_sign(&items[i], 1000 + i);
        if (i % 7 != 3)
            continue;
        bad++;
        const uint32_t where = randombytes_uniform(4);
        const uint8_t bit = (uint8_t)(1u << randombytes_uniform(8));
        if (where == 0)
            items[i].msg[randombytes_uniform((uint32_t)items[i].len)] ^= bit;
        else if (where == 1)
            items[i].sig[randombytes_uniform(32)] ^= bit; /* R */
        else if (where == 2)
            items[i].sig[32 + randombytes_uniform(31)] ^= bit; /* s, below the top byte */
        else
            items[i].pk[randombytes_uniform(32)] ^= bit;
        sodium_refused += !s_sodium(&items[i]);
        refused += !s_single(&items[i]);
    }
    CHECK_EQ(sodium_refused, bad);
    CHECK_EQ(refused, bad);
    s_expect_batches(items, N_ITEMS);
    s_expect_batches(items, 10);
}

/*  s + L, small-order keys and R, non-canonical encodings: refused by both. */
static void s_test_malleable_and_small(void)
{
    static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,       0xd6,
                                      0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};
    s_item base;
    s_sign(&base, 77);
    CHECK(s_single(&base));

    s_item it = base; /* s + L */
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = it.sig[32 + i] + order[i] + carry;
        it.sig[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    CHECK(!s_sodium(&it));
    CHECK(!s_single(&it));

    /* the identity (y = 1), the point of order 2 (y = -1), y = 0 (order 4) */
    uint8_t small[3][32] = {{1}, {0xec}, {0}};
    memset(small[1] + 1, 0xff, 30);
    small[1][31] = 0x7f;
    for (int k = 0; k < 3; k++) {
        it = base;
        memcpy(it.pk, small[k], 32);
        CHECK(!s_single(&it));
        it = base;
        memcpy(it.sig, small[k], 32);
        CHECK(!s_sodium(&it));
        CHECK(!s_single(&it));
    }
    /* y = p (non-canonical 0) and y = p + 1 (non-canonical 1) as keys */
    uint8_t p_enc[32];
    memset(p_enc, 0xff, 32);
    p_enc[0] = 0xed;
    p_enc[31] = 0x7f;
    it = base;
    memcpy(it.pk, p_enc, 32);
    CHECK(!s_single(&it));
    p_enc[0] = 0xee;
    memcpy(it.pk, p_enc, 32);
    CHECK(!s_single(&it));
    /* x = 0 with the sign bit set: the identity's other encoding */
    it = base;
    memset(it.pk, 0, 32);
    it.pk[0] = 1;
    it.pk[31] = 0x80;
    CHECK(!s_single(&it));
    /* a non-canonical encoding of base's own key: y + p does not fit, so flip the sign
       bit instead: that is -A, a different key, and must fail too */
    it = base;
    it.pk[31] ^= 0x80;
    CHECK(!s_single(&it));

    static s_item mix[8];
    for (int k = 0; k < 8; k++)
        s_sign(&mix[k], 500 + (uint32_t)k);
    memcpy(mix[2].pk, small[0], 32);
    memcpy(mix[5].sig, small[1], 32);
    s_expect_batches(mix, 8);
}

/*  A signature whose R carries a point of order 2: libsodium refuses it, the cofactored
 *  rule accepts it, and single and batch agree every time (no dependence on the batch's
 *  random factors). Built from the key's secret scalar, as only its owner could. */
static void s_test_torsion(void)
{
    uint8_t seed[32] = {9}, pk[32], sk[64], a[32], wide[64] = {0}, r[32], R[32], check_pk[32];
    crypto_sign_seed_keypair(pk, sk, seed);
    CHECK_EQ(crypto_sign_ed25519_sk_to_curve25519(wide, sk), 0); /* clamped SHA-512(seed) */
    crypto_core_ed25519_scalar_reduce(a, wide);
    CHECK_EQ(crypto_scalarmult_ed25519_base_noclamp(check_pk, a), 0);
    CHECK(memcmp(check_pk, pk, 32) == 0);

    uint8_t t2[32]; /* (0, -1), of order 2 */
    memset(t2, 0xff, 32);
    t2[0] = 0xec;
    t2[31] = 0x7f;
    uint8_t twice[32], identity[32] = {1};
    CHECK_EQ(crypto_core_ed25519_add(twice, t2, t2), 0);
    CHECK(memcmp(twice, identity, 32) == 0);

    static s_item items[40];
    for (uint32_t i = 0; i < 40; i++)
        s_sign(&items[i], 2000 + i);
    for (int k = 0; k < 40; k += 9) {
        s_item *it = &items[k];
        memcpy(it->pk, pk, 32);
        crypto_core_ed25519_scalar_random(r);
        CHECK_EQ(crypto_scalarmult_ed25519_base_noclamp(R, r), 0);
        CHECK_EQ(crypto_core_ed25519_add(it->sig, R, t2), 0); /* R' = rB + T */
        uint8_t h[32], hash[64], ha[32];
        crypto_hash_sha512_state st;
        crypto_hash_sha512_init(&st);
        crypto_hash_sha512_update(&st, it->sig, 32);
        crypto_hash_sha512_update(&st, pk, 32);
        crypto_hash_sha512_update(&st, it->msg, it->len);
        crypto_hash_sha512_final(&st, hash);
        crypto_core_ed25519_scalar_reduce(h, hash);
        crypto_core_ed25519_scalar_mul(ha, h, a);
        crypto_core_ed25519_scalar_add(it->sig + 32, r, ha); /* s = r + h a */
        CHECK(!s_sodium(it));
        CHECK(s_single(it));
    }
    for (int round = 0; round < 20; round++)
        s_expect_batches(items, 40);
    proto_sigcheck_t checks[40];
    bool ok[40];
    for (size_t i = 0; i < 40; i++)
        checks[i] = s_check_of(&items[i]);
    CHECK_EQ(proto_sig_check_batch(NULL, checks, 40, ok), (size_t)40);
    items[9].msg[0] ^= 1;
    CHECK(!s_single(&items[9]));
    s_expect_batches(items, 40);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(a, sizeof a);
    sodium_memzero(wide, sizeof wide);
}

/*  Random bytes as keys and signatures: refused by both. */
static void s_test_garbage(void)
{
    static s_item items[200];
    size_t sodium_ok = 0, ours = 0;
    for (size_t i = 0; i < 200; i++) {
        randombytes_buf(&items[i], sizeof items[i]);
        items[i].len = i % sizeof items[i].msg;
        sodium_ok += s_sodium(&items[i]);
        ours += s_single(&items[i]);
    }
    CHECK_EQ(sodium_ok, 0);
    CHECK_EQ(ours, 0);
    s_expect_batches(items, 200);
}

/*  The multi-scalar multiplication of batches (proto_sigint_msm) against libsodium's
 *  products, with both of its table widths (a batch's z_i are below 2^128, its key and
 *  base coefficients are not) and zero, one and full-size scalars, at the sizes batches
 *  have (1 point up to 2 * PROTO_SIGBATCH_CHUNK + 1). Deterministic: scalars and points are
 *  hashes of their index. A wrong product would not change any verdict (a failed batch
 *  is checked one by one) but would silently cost every batch that fallback. */
static void s_test_msm_widths(void)
{
    static uint8_t k[2 * PROTO_SIGBATCH_CHUNK + 1][32], pts[2 * PROTO_SIGBATCH_CHUNK + 1][32];
    static const size_t sizes[] = {1, 2, 7, 21, 69, 72, 73, 2 * PROTO_SIGBATCH_CHUNK + 1};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        const size_t n = sizes[si];
        uint8_t want[32] = {1}, term[32], got[32], wide[64], in[16];
        for (size_t i = 0; i < n; i++) {
            uint8_t seed[32];
            memcpy(in, &i, sizeof i);
            memcpy(in + 8, &n, sizeof n);
            crypto_generichash(wide, sizeof wide, in, sizeof in, (const uint8_t *)"point", 5);
            crypto_core_ed25519_scalar_reduce(seed, wide);
            REQUIRE(crypto_scalarmult_ed25519_base_noclamp(pts[i], seed) == 0);
            crypto_generichash(wide, sizeof wide, in, sizeof in, (const uint8_t *)"scalar", 6);
            crypto_core_ed25519_scalar_reduce(k[i], wide);
            if (i % 2 == 0)
                memset(k[i] + 16, 0, 16); /* below 2^128, like a z_i */
            if (i % 11 == 3)
                memset(k[i], 0, 32);
            if (i % 11 == 5) {
                memset(k[i], 0, 32);
                k[i][0] = 1;
            }
            if (sodium_is_zero(k[i], 32))
                continue;
            REQUIRE(crypto_scalarmult_ed25519_noclamp(term, k[i], pts[i]) == 0);
            REQUIRE(crypto_core_ed25519_add(want, want, term) == 0);
        }
        CHECK(proto_sigint_msm(got, n, (const uint8_t(*)[32])k, (const uint8_t(*)[32])pts));
        CHECK(memcmp(got, want, 32) == 0);
    }
}

/*  The scratch a batch allocates per chunk is what proto_sigbatch.h says (about 244 KiB). */
static void s_test_scratch_size(void)
{
    const size_t n = proto_sigint_scratch_bytes();
    printf("test_sigbatch: %zu bytes of scratch per chunk of %d\n", n, PROTO_SIGBATCH_CHUNK);
    CHECK(n > 240 * 1024 && n < 248 * 1024);
}

int main(void)
{
    CHECK_EQ(proto_crypto_init(), 0);
    s_test_valid();
    s_test_tampered();
    s_test_malleable_and_small();
    s_test_torsion();
    s_test_garbage();
    s_test_scratch_size();
    s_test_msm_widths();
    return testutil_done("test_sigbatch");
}
