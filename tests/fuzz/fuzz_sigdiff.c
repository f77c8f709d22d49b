/*  fuzz_sigdiff: differential harness for the field and group arithmetic of proto_sigbatch
 *  (proto_sigbatch_int.h) against libsodium's point operations. The signature rule stands
 *  on that arithmetic; libsodium's is the reference it must agree with bit for bit.
 *
 *  Input: [k1 32][k2 32][raw point 32][t 1][n 1][flags 1], zero-padded when shorter;
 *  scalars are 256-bit little-endian and used unreduced by proto_sigbatch (reduced mod L
 *  for libsodium, which clears the top bit). Invariants (a broken one calls abort()):
 *  - decoding RAW: what crypto_core_ed25519_is_valid_point accepts decodes, is not of
 *    small order and re-encodes to the same bytes; a point that decodes, is not of small
 *    order and has [L]P = O is one libsodium accepts; [8]P = O exactly for small order;
 *  - with P = [k1]B, Q = [k2]B (crypto_scalarmult_ed25519_base_noclamp) and T the t-th
 *    small-order point: P + Q, 2P, P + T, (P + T) + Q, 2(P + T) equal
 *    crypto_core_ed25519_add's results;
 *  - the Straus double multiplication of single checks: [k1]Q, [k2]B, [k1]Q + [k2]B and
 *    [k1](P + T) equal what crypto_scalarmult_ed25519_noclamp, _base_noclamp and
 *    crypto_core_ed25519_add give ([k1]T as k1 mod 8 additions of T);
 *  - the Pippenger multi-scalar multiplication of batch checks over n points (1..8; 40..63
 *    with flags bit 2, 161 with flags bit 1, so every window width is used), some with a
 *    torsion part (flags bit 0), equals the sum of libsodium's products.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"
#include "proto/proto_sigbatch_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSM_MAX 161

/* the eight points of small order, canonical encodings */
static const uint8_t s_small[8][32] = {
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x00},
    {[31] = 0x80},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x85},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0xfa}};

static const uint8_t s_identity[32] = {1};
static const uint8_t s_zero[32] = {0};
/* L, little-endian */
static const uint8_t s_order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,       0xd6,
                                    0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};

static void s_require(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_sigdiff: invariant broken: %s\n", what);
        abort();
    }
}

static void s_reduce(uint8_t out[32], const uint8_t k[32])
{
    uint8_t wide[64] = {0};
    memcpy(wide, k, 32);
    crypto_core_ed25519_scalar_reduce(out, wide);
}

/*  libsodium's [K]P for P of prime order (K reduced here); the identity when it is. */
static void s_sod_mul(uint8_t out[32], const uint8_t k[32], const uint8_t *p)
{
    uint8_t kr[32];
    s_reduce(kr, k);
    const int rc = p ? crypto_scalarmult_ed25519_noclamp(out, kr, p)
                     : crypto_scalarmult_ed25519_base_noclamp(out, kr);
    if (rc != 0)
        memcpy(out, s_identity, 32); /* libsodium refuses to return the identity */
}

static void s_sod_add(uint8_t out[32], const uint8_t p[32], const uint8_t q[32])
{
    s_require(crypto_core_ed25519_add(out, p, q) == 0, "libsodium add refused a point");
}

/*  [K mod 8]T by additions: T has order dividing 8. */
static void s_sod_torsion(uint8_t out[32], const uint8_t k[32], const uint8_t t[32])
{
    memcpy(out, s_identity, 32);
    for (int i = 0; i < (k[0] & 7); i++)
        s_sod_add(out, out, t);
}

static void s_check_decode(const uint8_t raw[32])
{
    bool small = false;
    const bool ours = proto_sigint_decode(raw, &small);
    const bool sod = crypto_core_ed25519_is_valid_point(raw) == 1;
    uint8_t out[32];
    if (sod) {
        s_require(ours && !small, "libsodium-valid point refused or called small");
        s_require(proto_sigint_add(out, raw, s_identity) && memcmp(out, raw, 32) == 0,
                  "valid point does not re-encode to itself");
    }
    if (!ours)
        return;
    s_require(proto_sigint_times8_identity(raw) == small, "[8]P = O iff small order");
    if (!small) {
        s_require(proto_sigint_mul2(out, s_order, raw, s_zero), "[L]P");
        const bool in_subgroup = memcmp(out, s_identity, 32) == 0;
        s_require(in_subgroup == sod, "prime-order point judged differently");
    }
}

static void s_check_group(const uint8_t k1[32], const uint8_t k2[32], unsigned t)
{
    uint8_t p[32], q[32], pm[32], want[32], got[32], a[32], b[32];
    s_sod_mul(p, k1, NULL);
    s_sod_mul(q, k2, NULL);
    const uint8_t *tp = s_small[t & 7];

    s_sod_add(want, p, q);
    s_require(proto_sigint_add(got, p, q) && memcmp(got, want, 32) == 0, "P + Q");
    s_sod_add(want, p, p);
    s_require(proto_sigint_dbl(got, p) && memcmp(got, want, 32) == 0, "2P (doubling)");
    s_require(proto_sigint_add(got, p, p) && memcmp(got, want, 32) == 0, "P + P (addition)");
    s_sod_add(pm, p, tp);
    s_require(proto_sigint_add(got, p, tp) && memcmp(got, pm, 32) == 0, "P + T");
    s_sod_add(want, pm, q);
    s_require(proto_sigint_add(got, pm, q) && memcmp(got, want, 32) == 0, "(P + T) + Q");
    s_sod_add(want, pm, pm);
    s_require(proto_sigint_dbl(got, pm) && memcmp(got, want, 32) == 0, "2(P + T)");

    /* the single-check path */
    s_sod_mul(a, k1, q);
    s_require(proto_sigint_mul2(got, k1, q, s_zero) && memcmp(got, a, 32) == 0, "[k1]Q");
    s_sod_mul(b, k2, NULL);
    s_require(proto_sigint_mul2(got, s_zero, q, k2) && memcmp(got, b, 32) == 0, "[k2]B");
    s_sod_add(want, a, b);
    s_require(proto_sigint_mul2(got, k1, q, k2) && memcmp(got, want, 32) == 0, "[k1]Q + [k2]B");
    s_sod_mul(a, k1, p);
    s_sod_torsion(b, k1, tp);
    s_sod_add(want, a, b);
    s_require(proto_sigint_mul2(got, k1, pm, s_zero) && memcmp(got, want, 32) == 0, "[k1](P + T)");
}

static void s_check_msm(const uint8_t *data, size_t size, size_t n, bool torsion)
{
    static uint8_t k[MSM_MAX][32], pts[MSM_MAX][32];
    uint8_t want[32], term[32], got[32], h[64];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, data, size);
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(want, s_identity, 32);
    for (size_t i = 0; i < n; i++) {
        uint8_t seed[32];
        crypto_generichash(seed, 32, (const uint8_t *)&i, sizeof i, h, 32);
        crypto_generichash(k[i], 32, seed, 32, h + 32, 32); /* any 256-bit value */
        if (i < 2 && size >= 32 * (i + 1))
            memcpy(k[i], data + 32 * i, 32); /* the fuzzer's own scalars first */
        uint8_t p[32];
        s_sod_mul(p, seed, NULL);
        s_sod_mul(term, k[i], p);
        s_sod_add(want, want, term);
        memcpy(pts[i], p, 32);
        if (torsion && (i % 3) == 0) {
            const uint8_t *tp = s_small[(seed[0] + i) & 7];
            s_sod_add(pts[i], p, tp);
            s_sod_torsion(term, k[i], tp);
            s_sod_add(want, want, term);
        }
    }
    s_require(proto_sigint_msm(got, n, (const uint8_t(*)[32])k, (const uint8_t(*)[32])pts),
              "msm refused its points");
    s_require(memcmp(got, want, 32) == 0, "multi-scalar multiplication");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    uint8_t in[99] = {0};
    memcpy(in, data, size < sizeof in ? size : sizeof in);
    s_check_decode(in + 64);
    s_check_group(in, in + 32, in[96]);
    /* mostly a few points (fast runs), sometimes enough for the 5- and 6-bit windows */
    const size_t n = (in[98] & 2) ? MSM_MAX : (in[98] & 4) ? 40 + in[97] % 24 : 1 + in[97] % 8;
    s_check_msm(data, size, n, in[98] & 1);
    return 0;
}
