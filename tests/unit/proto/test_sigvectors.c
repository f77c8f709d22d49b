/*  test_sigvectors: the public Ed25519 edge-case vectors (ed25519_vectors.h: the C2SP CCTV
 *  set and the "Taming the many EdDSAs" cases) get the verdicts pinned there from every
 *  way the chain checks a signature: proto_sig_check, proto_sig_verify (what envelopes,
 *  votes, proposals and peer records use) and proto_sig_check_batch (alone, with a key
 *  table, and mixed into batches of valid signatures). A change of rule or of library
 *  fails here. libsodium's crypto_sign_verify_detached is not the rule: its verdicts are
 *  only counted and listed, to show where it differs. But proto_sig_check asks libsodium
 *  first and runs the module's own check (proto_sig_check_rule) only on its refusal, which
 *  is right only if libsodium never accepts what the rule refuses: checked here on every
 *  vector, and on random signatures, valid, tampered with, and made with keys and R values
 *  carrying a small-order component (which the rule accepts and libsodium mostly refuses),
 *  where the two paths and small batches (checked one by one) must all agree.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ed25519_vectors.h"
#include "proto/proto_key.h"
#include "proto/proto_sigbatch.h"
#include "proto/proto_sigbatch_int.h"
#include "testutil.h"

#define N_CCTV (sizeof s_cctv / sizeof s_cctv[0])
#define N_SPEC (sizeof s_speccheck / sizeof s_speccheck[0])
#define N_VEC (N_CCTV + N_SPEC)
#define N_GOOD 200 /* valid signatures the vectors are mixed with */
#define MIX 64     /* batch size for one vector among valid signatures */

typedef struct {
    uint8_t pk[32];
    uint8_t sig[64];
    uint8_t msg[64];
    size_t len;
    bool ok; /* the pinned verdict */
    const char *name;
} s_vec;

static void s_unhex(const char *hex, uint8_t *out, size_t want)
{
    size_t len = 0;
    if (sodium_hex2bin(out, want, hex, strlen(hex), NULL, &len, NULL) != 0 || len != want) {
        fprintf(stderr, "bad hex in a vector: %s\n", hex);
        abort();
    }
}

static void s_load(s_vec *v, char names[][24])
{
    for (size_t i = 0; i < N_CCTV; i++) {
        const s_cctv_t *c = &s_cctv[i];
        s_unhex(c->a, v[i].pk, 32);
        s_unhex(c->r, v[i].sig, 32);
        s_unhex(c->s, v[i].sig + 32, 32);
        int n = c->msg < 0
                    ? snprintf((char *)v[i].msg, sizeof v[i].msg, "ed25519vectors")
                    : snprintf((char *)v[i].msg, sizeof v[i].msg, "ed25519vectors %d", c->msg);
        v[i].len = (size_t)n;
        v[i].ok = c->ok;
        snprintf(names[i], 24, "cctv #%d", c->number);
        v[i].name = names[i];
    }
    for (size_t i = 0; i < N_SPEC; i++) {
        const s_speccheck_t *c = &s_speccheck[i];
        s_vec *o = &v[N_CCTV + i];
        s_unhex(c->pk, o->pk, 32);
        s_unhex(c->sig, o->sig, 64);
        o->len = strlen(c->msg) / 2;
        s_unhex(c->msg, o->msg, o->len);
        o->ok = c->ok;
        snprintf(names[N_CCTV + i], 24, "speccheck %zu", i);
        o->name = names[N_CCTV + i];
    }
}

static proto_sigcheck_t s_item(const s_vec *v)
{
    return (proto_sigcheck_t){.pk = v->pk, .sig = v->sig, .msg = v->msg, .len = v->len};
}

/*  The rule as the CCTV flags state it: refused exactly when A or R is of small order or
 *  not canonically encoded; the cofactored equation holds for every vector of the set. */
static void test_flags_state_the_rule(void)
{
    size_t accepted = 0;
    for (size_t i = 0; i < N_CCTV; i++) {
        const int refuse = F_LOW_A | F_LOW_R | F_NONCANON_A | F_NONCANON_R;
        CHECK_EQ(s_cctv[i].ok, (s_cctv[i].flags & refuse) == 0);
        accepted += s_cctv[i].ok;
    }
    CHECK_EQ(accepted, (size_t)106);
}

/*  One at a time, through every entry point; libsodium's verdicts listed. */
static void test_single(const s_vec *v)
{
    size_t differ = 0, sodium_ok = 0;
    for (size_t i = 0; i < N_VEC; i++) {
        const bool rule = proto_sig_check(v[i].pk, v[i].msg, v[i].len, v[i].sig);
        if (rule != v[i].ok)
            fprintf(stderr, "%s: rule says %d, pinned %d\n", v[i].name, rule, v[i].ok);
        CHECK_EQ(rule, v[i].ok);
        CHECK_EQ(proto_sig_verify(v[i].pk, v[i].msg, v[i].len, v[i].sig), v[i].ok);
        const bool sodium = crypto_sign_verify_detached(v[i].sig, v[i].msg, v[i].len, v[i].pk) == 0;
        sodium_ok += sodium;
        if (sodium != v[i].ok) {
            printf("  libsodium %s differs on %s (rule: %s)\n", SODIUM_VERSION_STRING, v[i].name,
                   v[i].ok ? "valid" : "invalid");
            differ++;
        }
    }
    printf("test_sigvectors: %zu vectors, rule accepts %zu; libsodium %s accepts %zu and "
           "differs from the rule on %zu (not the rule: reported, not checked)\n",
           (size_t)N_VEC, (size_t)106 + 3, SODIUM_VERSION_STRING, sodium_ok, differ);
}

/*  Each vector as a batch of one, without and with a key table. */
static void test_batch_alone(const s_vec *v, proto_sigkeys_t *keys)
{
    for (size_t i = 0; i < N_VEC; i++) {
        const proto_sigcheck_t it = s_item(&v[i]);
        bool ok = !v[i].ok;
        CHECK_EQ(proto_sig_check_batch(NULL, &it, 1, &ok), (size_t)v[i].ok);
        CHECK_EQ(ok, v[i].ok);
        ok = !v[i].ok;
        CHECK_EQ(proto_sig_check_batch(keys, &it, 1, &ok), (size_t)v[i].ok);
        CHECK_EQ(ok, v[i].ok);
    }
}

static void s_make_good(s_vec *good, uint32_t seed)
{
    for (uint32_t i = 0; i < N_GOOD; i++) {
        uint8_t kseed[32] = {0}, sk[64];
        memcpy(kseed, &i, sizeof i);
        memcpy(kseed + 4, &seed, sizeof seed);
        crypto_sign_seed_keypair(good[i].pk, sk, kseed);
        good[i].len = 1 + (i * 7 + seed) % sizeof good[i].msg;
        for (size_t b = 0; b < good[i].len; b++)
            good[i].msg[b] = (uint8_t)(b * 31 + i + seed);
        crypto_sign_detached(good[i].sig, NULL, good[i].msg, good[i].len, sk);
        sodium_memzero(sk, sizeof sk);
        good[i].ok = true;
        good[i].name = "valid";
    }
}

/*  Each vector in a batch of MIX with valid signatures around it, at a varying place. */
static void test_one_among_valid(const s_vec *v, const s_vec *good, proto_sigkeys_t *keys)
{
    proto_sigcheck_t items[MIX];
    bool ok[MIX];
    for (size_t i = 0; i < N_VEC; i++) {
        const size_t at = (i * 13) % MIX;
        for (size_t j = 0; j < MIX; j++)
            items[j] = s_item(j == at ? &v[i] : &good[(i + j) % N_GOOD]);
        const size_t want = MIX - 1 + v[i].ok;
        CHECK_EQ(proto_sig_check_batch((i & 1) ? keys : NULL, items, MIX, ok), want);
        for (size_t j = 0; j < MIX; j++)
            CHECK_EQ(ok[j], j == at ? v[i].ok : true);
    }
}

/*  All vectors and the valid signatures shuffled together (seeded), in one call that
 *  spans several chunks. */
static void test_all_shuffled(const s_vec *v, const s_vec *good, proto_sigkeys_t *keys,
                              uint32_t seed)
{
    enum { N = N_VEC + N_GOOD };
    static const s_vec *order[N];
    static proto_sigcheck_t items[N];
    static bool ok[N];
    for (size_t i = 0; i < N_VEC; i++)
        order[i] = &v[i];
    for (size_t i = 0; i < N_GOOD; i++)
        order[N_VEC + i] = &good[i];
    uint64_t x = seed | UINT64_C(1) << 40;
    for (size_t i = N - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const size_t j = (size_t)(x % (i + 1));
        const s_vec *t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    size_t want = 0;
    for (size_t i = 0; i < N; i++) {
        items[i] = s_item(order[i]);
        want += order[i]->ok;
    }
    for (int pass = 0; pass < 2; pass++) {
        CHECK_EQ(proto_sig_check_batch(pass ? keys : NULL, items, N, ok), want);
        for (size_t i = 0; i < N; i++)
            CHECK_EQ(ok[i], order[i]->ok);
    }
}

/*  Every small-order encoding (the eight points and the six non-canonical encodings) is
 *  refused as A and as R, whatever s. */
static void test_small_order_encodings(const s_vec *good)
{
    static const char *const enc[] = {P_L0, P_L1, P_L2, P_L3, P_L4, P_L5, P_L6,
                                      P_L7, P_N0, P_N1, P_N2, P_N3, P_N4, P_N5};
    for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
        uint8_t p[32], sig[64];
        s_unhex(enc[i], p, 32);
        memcpy(sig, good[0].sig, 64);
        CHECK(!proto_sig_check(p, good[0].msg, good[0].len, sig)); /* as A */
        memcpy(sig, p, 32);
        CHECK(!proto_sig_check(good[0].pk, good[0].msg, good[0].len, sig)); /* as R */
        memset(sig + 32, 0, 32);
        CHECK(!proto_sig_check(p, good[0].msg, good[0].len, sig)); /* both, s = 0 */
    }
}

/*  The fast path's premise on every vector: libsodium accepts only what the rule accepts,
 *  and the module's own check, the fast path and batches of 2 and 3 (checked one by one)
 *  all give the pinned verdict. */
static void test_fast_path_vectors(const s_vec *v, const s_vec *good, proto_sigkeys_t *keys)
{
    for (size_t i = 0; i < N_VEC; i++) {
        const bool sodium = crypto_sign_verify_detached(v[i].sig, v[i].msg, v[i].len, v[i].pk) == 0;
        if (sodium && !v[i].ok)
            fprintf(stderr, "%s: libsodium accepts what the rule refuses\n", v[i].name);
        CHECK(!sodium || v[i].ok);
        CHECK_EQ(proto_sig_check_rule(v[i].pk, v[i].msg, v[i].len, v[i].sig), v[i].ok);
        for (size_t n = 2; n <= 3; n++) {
            proto_sigcheck_t items[3];
            bool ok[3];
            const size_t at = i % n;
            for (size_t j = 0; j < n; j++)
                items[j] = s_item(j == at ? &v[i] : &good[(i + j) % N_GOOD]);
            CHECK_EQ(proto_sig_check_batch((i & 1) ? keys : NULL, items, n, ok), n - 1 + v[i].ok);
            for (size_t j = 0; j < n; j++)
                CHECK_EQ(ok[j], j == at ? v[i].ok : true);
        }
    }
}

#define N_RANDOM 1500

/*  A signature made by hand: key A = aB + TA, R = rB + TR, s = r + h a with
 *  h = SHA-512(R || A || MSG) mod L, so R + hA - sB = TR + h TA (small order: valid under
 *  the rule, and under libsodium only when that sum is the identity). */
static void s_sign_mixed(uint8_t pk[32], uint8_t sig[64], const uint8_t *msg, size_t len,
                         const uint8_t *ta, const uint8_t *tr)
{
    uint8_t a[32], r[32], h[32], wide[64], t[32];
    crypto_core_ed25519_scalar_random(a);
    crypto_core_ed25519_scalar_random(r);
    REQUIRE(crypto_scalarmult_ed25519_base_noclamp(pk, a) == 0);
    REQUIRE(crypto_scalarmult_ed25519_base_noclamp(sig, r) == 0);
    if (ta)
        REQUIRE(crypto_core_ed25519_add(pk, pk, ta) == 0);
    if (tr)
        REQUIRE(crypto_core_ed25519_add(sig, sig, tr) == 0);
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, sig, 32);
    crypto_hash_sha512_update(&st, pk, 32);
    crypto_hash_sha512_update(&st, msg, len);
    crypto_hash_sha512_final(&st, wide);
    crypto_core_ed25519_scalar_reduce(h, wide);
    crypto_core_ed25519_scalar_mul(t, h, a);
    crypto_core_ed25519_scalar_add(sig + 32, r, t);
    sodium_memzero(a, sizeof a);
    sodium_memzero(r, sizeof r);
}

/*  Random signatures, honest and with small-order components, as they are and tampered
 *  with (a bit of the message, of R, of s, of the key flipped; s + L): the fast path
 *  (proto_sig_check), the module alone and a batch of one agree on each, and libsodium
 *  never accepts what the rule refuses. Each outcome occurs: both accept, only the rule
 *  accepts (the fast path's refusal is overruled), both refuse. */
static void test_fast_path_random(uint32_t seed, proto_sigkeys_t *keys)
{
    static const char *const small[] = {P_L1, P_L3, P_L4, P_L5, P_L6, P_L7};
    uint8_t pts[6][32];
    for (size_t i = 0; i < 6; i++)
        s_unhex(small[i], pts[i], 32);
    uint64_t x = seed | UINT64_C(1) << 33;
    size_t both = 0, rule_only = 0, neither = 0;
    for (size_t i = 0; i < N_RANDOM; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint8_t pk[32], sig[64], msg[64];
        const size_t len = (size_t)(x >> 8) % (sizeof msg + 1);
        for (size_t b = 0; b < len; b++)
            msg[b] = (uint8_t)(x >> (b % 7 * 8)) ^ (uint8_t)b;
        const unsigned kind = (unsigned)(x >> 20) % 4; /* honest, small A, small R, both */
        const uint8_t *ta = (kind & 1) ? pts[(x >> 24) % 6] : NULL;
        const uint8_t *tr = (kind & 2) ? pts[(x >> 28) % 6] : NULL;
        s_sign_mixed(pk, sig, msg, len, ta, tr);
        switch ((x >> 32) % 8) { /* half as made, half tampered with */
        case 0:
            if (len > 0)
                msg[(x >> 40) % len] ^= (uint8_t)(1u << ((x >> 48) % 8));
            break;
        case 1:
            sig[(x >> 40) % 32] ^= (uint8_t)(1u << ((x >> 48) % 8));
            break;
        case 2:
            sig[32 + (x >> 40) % 32] ^= (uint8_t)(1u << ((x >> 48) % 8));
            break;
        case 3:
            pk[(x >> 40) % 32] ^= (uint8_t)(1u << ((x >> 48) % 8));
            break;
        default:
            break;
        }
        const bool sodium = crypto_sign_verify_detached(sig, msg, len, pk) == 0;
        const bool rule = proto_sig_check_rule(pk, msg, len, sig);
        if (sodium && !rule)
            fprintf(stderr, "random case %zu: libsodium accepts what the rule refuses\n", i);
        CHECK(!sodium || rule);
        CHECK_EQ(proto_sig_check(pk, msg, len, sig), rule);
        CHECK_EQ(proto_sig_verify(pk, msg, len, sig), rule);
        const proto_sigcheck_t it = {.pk = pk, .sig = sig, .msg = msg, .len = len};
        bool ok = !rule;
        CHECK_EQ(proto_sig_check_batch((i & 1) ? keys : NULL, &it, 1, &ok), (size_t)rule);
        CHECK_EQ(ok, rule);
        both += sodium;
        rule_only += rule && !sodium;
        neither += !rule;
    }
    printf("test_sigvectors: %d random signatures: both accept %zu, only the rule %zu, "
           "both refuse %zu\n",
           N_RANDOM, both, rule_only, neither);
    CHECK(both > 0);
    CHECK(rule_only > 0);
    CHECK(neither > 0);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    const char *env = getenv("GENIE_TEST_SEED");
    const uint32_t seed = env ? (uint32_t)strtoul(env, NULL, 10) : (uint32_t)time(NULL);
    printf("test_sigvectors: seed %u (GENIE_TEST_SEED=%u replays)\n", seed, seed);

    static s_vec v[N_VEC], good[N_GOOD];
    static char names[N_VEC][24];
    s_load(v, names);
    s_make_good(good, seed);
    proto_sigkeys_t *keys = proto_sigkeys_new(256);
    CHECK(keys != NULL);
    if (!keys)
        return testutil_done("test_sigvectors");

    test_flags_state_the_rule();
    test_single(v);
    test_batch_alone(v, keys);
    test_one_among_valid(v, good, keys);
    test_all_shuffled(v, good, keys, seed);
    test_small_order_encodings(good);
    test_fast_path_vectors(v, good, keys);
    test_fast_path_random(seed, keys);

    proto_sigkeys_destroy(&keys);
    return testutil_done("test_sigvectors");
}
