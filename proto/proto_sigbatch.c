/*  proto_sigbatch: the chain's Ed25519 signature rule (PROTOCOL.md §2.1), single and
 *  batched; the test hooks of proto_sigbatch_int.h at the end.
 *
 *  Field elements mod p = 2^255 - 19 are five 51-bit limbs; points are extended twisted
 *  Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, on -x^2 + y^2 = 1 + d x^2 y^2.
 *  Addition uses the unified formulas of Hisil, Wong, Carter and Dawson (2008), complete on
 *  this curve because d is not a square. Scalars mod L come from libsodium's
 *  crypto_core_ed25519_scalar_* functions. Nothing here handles secrets, so nothing needs
 *  constant time; everything is variable time.
 */
#include "proto_sigbatch.h"
#include "proto_sigbatch_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

__extension__ typedef unsigned __int128 s_u128;

typedef struct {
    uint64_t v[5];
} s_fe;

typedef struct {
    s_fe x, y, z, t;
} s_ge;

#define S_MASK ((UINT64_C(1) << 51) - 1)

/* d = -121665/121666, 2d, sqrt(-1) and the base point (y = 4/5, x even), all mod p */
static const s_fe s_d = {{0x34dca135978a3ULL, 0x1a8283b156ebdULL, 0x5e7a26001c029ULL,
                          0x739c663a03cbbULL, 0x52036cee2b6ffULL}};
static const s_fe s_d2 = {{0x69b9426b2f159ULL, 0x35050762add7aULL, 0x3cf44c0038052ULL,
                           0x6738cc7407977ULL, 0x2406d9dc56dffULL}};
static const s_fe s_sqrtm1 = {{0x61b274a0ea0b0ULL, 0x0d5a5fc8f189dULL, 0x7ef5e9cbd0c60ULL,
                               0x78595a6804c9eULL, 0x2b8324804fc1dULL}};
static const s_ge s_base = {{{0x62d608f25d51aULL, 0x412a4b4f6592aULL, 0x75b7171a4b31dULL,
                              0x1ff60527118feULL, 0x216936d3cd6e5ULL}},
                            {{0x6666666666658ULL, 0x4ccccccccccccULL, 0x1999999999999ULL,
                              0x3333333333333ULL, 0x6666666666666ULL}},
                            {{1, 0, 0, 0, 0}},
                            {{0x68ab3a5b7dda3ULL, 0x00eea2a5eadbbULL, 0x2af8df483c27eULL,
                              0x332b375274732ULL, 0x67875f0fd78b7ULL}}};

/* The y of the eight points of small order (1, -1, 0 and the two y of order 8), whose
 * canonical encodings (sign bit aside) are the only ones of small order. */
static const uint8_t s_small_y[5][32] = {
    {1},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}};

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian */
static const uint8_t s_order[32] = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};

/* ---- field ---------------------------------------------------------------------- */

/*  Limbs below 2^51 (limb 0 below 2^51 + 2^8); input limbs below 2^60. */
static inline __attribute__((always_inline)) void s_fe_carry(s_fe *h)
{
    uint64_t c;
    for (int i = 0; i < 4; i++) {
        c = h->v[i] >> 51;
        h->v[i] &= S_MASK;
        h->v[i + 1] += c;
    }
    c = h->v[4] >> 51;
    h->v[4] &= S_MASK;
    h->v[0] += 19 * c;
}

/*  Not carried: limbs stay below 2^53 for carried inputs, which s_fe_mul, s_fe_sq and the
 *  first operand of s_fe_sub take as they are. Never pass a sum as s_fe_sub's second. */
static void s_fe_add(s_fe *h, const s_fe *f, const s_fe *g)
{
    for (int i = 0; i < 5; i++)
        h->v[i] = f->v[i] + g->v[i];
}

/*  f - g + 4p, carried; no limb goes negative when g is carried (limbs below 2^52). */
static inline __attribute__((always_inline)) void s_fe_sub(s_fe *h, const s_fe *f, const s_fe *g)
{
    h->v[0] = f->v[0] + UINT64_C(0x1fffffffffffb4) - g->v[0];
    for (int i = 1; i < 5; i++)
        h->v[i] = f->v[i] + UINT64_C(0x1ffffffffffffc) - g->v[i];
    s_fe_carry(h);
}

static void s_fe_neg(s_fe *h, const s_fe *f)
{
    static const s_fe zero = {{0, 0, 0, 0, 0}};
    s_fe_sub(h, &zero, f);
}

/*  Products of limbs below 2^54 (times 19 below 2^59) sum below 2^116, within 128 bits. */
static inline __attribute__((always_inline)) void s_fe_reduce_wide(s_fe *h, s_u128 r0, s_u128 r1,
                                                                   s_u128 r2, s_u128 r3, s_u128 r4)
{
    r1 += (uint64_t)(r0 >> 51);
    r2 += (uint64_t)(r1 >> 51);
    r3 += (uint64_t)(r2 >> 51);
    r4 += (uint64_t)(r3 >> 51);
    s_u128 t = (s_u128)(uint64_t)(r4 >> 51) * 19 + ((uint64_t)r0 & S_MASK);
    h->v[0] = (uint64_t)t & S_MASK;
    h->v[1] = ((uint64_t)r1 & S_MASK) + (uint64_t)(t >> 51);
    h->v[2] = (uint64_t)r2 & S_MASK;
    h->v[3] = (uint64_t)r3 & S_MASK;
    h->v[4] = (uint64_t)r4 & S_MASK;
}

static inline __attribute__((always_inline)) void s_fe_mul(s_fe *h, const s_fe *f, const s_fe *g)
{
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t g0 = g->v[0], g1 = g->v[1], g2 = g->v[2], g3 = g->v[3], g4 = g->v[4];
    const uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
    s_u128 r0 = (s_u128)f0 * g0 + (s_u128)f1 * g4_19 + (s_u128)f2 * g3_19 + (s_u128)f3 * g2_19 +
                (s_u128)f4 * g1_19;
    s_u128 r1 = (s_u128)f0 * g1 + (s_u128)f1 * g0 + (s_u128)f2 * g4_19 + (s_u128)f3 * g3_19 +
                (s_u128)f4 * g2_19;
    s_u128 r2 = (s_u128)f0 * g2 + (s_u128)f1 * g1 + (s_u128)f2 * g0 + (s_u128)f3 * g4_19 +
                (s_u128)f4 * g3_19;
    s_u128 r3 =
        (s_u128)f0 * g3 + (s_u128)f1 * g2 + (s_u128)f2 * g1 + (s_u128)f3 * g0 + (s_u128)f4 * g4_19;
    s_u128 r4 =
        (s_u128)f0 * g4 + (s_u128)f1 * g3 + (s_u128)f2 * g2 + (s_u128)f3 * g1 + (s_u128)f4 * g0;
    s_fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static inline __attribute__((always_inline)) void s_fe_sq(s_fe *h, const s_fe *f)
{
    const uint64_t f0 = f->v[0], f1 = f->v[1], f2 = f->v[2], f3 = f->v[3], f4 = f->v[4];
    const uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1, f1_38 = 38 * f1, f2_38 = 38 * f2, f3_38 = 38 * f3,
                   f3_19 = 19 * f3, f4_19 = 19 * f4;
    s_u128 r0 = (s_u128)f0 * f0 + (s_u128)f1_38 * f4 + (s_u128)f2_38 * f3;
    s_u128 r1 = (s_u128)f0_2 * f1 + (s_u128)f2_38 * f4 + (s_u128)f3_19 * f3;
    s_u128 r2 = (s_u128)f0_2 * f2 + (s_u128)f1 * f1 + (s_u128)f3_38 * f4;
    s_u128 r3 = (s_u128)f0_2 * f3 + (s_u128)f1_2 * f2 + (s_u128)f4_19 * f4;
    s_u128 r4 = (s_u128)f0_2 * f4 + (s_u128)f1_2 * f3 + (s_u128)f2 * f2;
    s_fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void s_fe_sqn(s_fe *h, const s_fe *f, int n)
{
    s_fe_sq(h, f);
    for (int i = 1; i < n; i++)
        s_fe_sq(h, h);
}

static void s_fe_frombytes(s_fe *h, const uint8_t s[32])
{
    uint64_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = 0;
        for (int j = 7; j >= 0; j--)
            w[i] = (w[i] << 8) | s[8 * i + j];
    }
    w[3] &= UINT64_C(0x7fffffffffffffff);
    h->v[0] = w[0] & S_MASK;
    h->v[1] = ((w[0] >> 51) | (w[1] << 13)) & S_MASK;
    h->v[2] = ((w[1] >> 38) | (w[2] << 26)) & S_MASK;
    h->v[3] = ((w[2] >> 25) | (w[3] << 39)) & S_MASK;
    h->v[4] = w[3] >> 12;
}

/*  The canonical encoding (value mod p, below p). */
static void s_fe_tobytes(uint8_t s[32], const s_fe *f)
{
    s_fe h = *f;
    s_fe_carry(&h);
    s_fe_carry(&h);
    uint64_t q = (h.v[0] + 19) >> 51;
    for (int i = 1; i < 5; i++)
        q = (h.v[i] + q) >> 51;
    h.v[0] += 19 * q;
    for (int i = 0; i < 4; i++) {
        h.v[i + 1] += h.v[i] >> 51;
        h.v[i] &= S_MASK;
    }
    h.v[4] &= S_MASK;
    const uint64_t w[4] = {h.v[0] | (h.v[1] << 51), (h.v[1] >> 13) | (h.v[2] << 38),
                           (h.v[2] >> 26) | (h.v[3] << 25), (h.v[3] >> 39) | (h.v[4] << 12)};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            s[8 * i + j] = (uint8_t)(w[i] >> (8 * j));
}

static bool s_fe_iszero(const s_fe *f)
{
    uint8_t s[32];
    s_fe_tobytes(s, f);
    return sodium_is_zero(s, sizeof s) == 1;
}

static bool s_fe_equal(const s_fe *f, const s_fe *g)
{
    s_fe d;
    s_fe_sub(&d, f, g);
    return s_fe_iszero(&d);
}

static int s_fe_parity(const s_fe *f)
{
    uint8_t s[32];
    s_fe_tobytes(s, f);
    return s[0] & 1;
}

/*  z^((p-5)/8) = z^(2^252 - 3), the square-root helper. */
static void s_fe_pow22523(s_fe *out, const s_fe *z)
{
    s_fe t0, t1, t2;
    s_fe_sq(&t0, z);         /* z^2 */
    s_fe_sqn(&t1, &t0, 2);   /* z^8 */
    s_fe_mul(&t1, z, &t1);   /* z^9 */
    s_fe_mul(&t0, &t0, &t1); /* z^11 */
    s_fe_sq(&t0, &t0);       /* z^22 */
    s_fe_mul(&t0, &t1, &t0); /* z^(2^5 - 1) */
    s_fe_sqn(&t1, &t0, 5);
    s_fe_mul(&t0, &t1, &t0); /* z^(2^10 - 1) */
    s_fe_sqn(&t1, &t0, 10);
    s_fe_mul(&t1, &t1, &t0); /* z^(2^20 - 1) */
    s_fe_sqn(&t2, &t1, 20);
    s_fe_mul(&t1, &t2, &t1); /* z^(2^40 - 1) */
    s_fe_sqn(&t1, &t1, 10);
    s_fe_mul(&t0, &t1, &t0); /* z^(2^50 - 1) */
    s_fe_sqn(&t1, &t0, 50);
    s_fe_mul(&t1, &t1, &t0); /* z^(2^100 - 1) */
    s_fe_sqn(&t2, &t1, 100);
    s_fe_mul(&t1, &t2, &t1); /* z^(2^200 - 1) */
    s_fe_sqn(&t1, &t1, 50);
    s_fe_mul(&t0, &t1, &t0); /* z^(2^250 - 1) */
    s_fe_sqn(&t0, &t0, 2);
    s_fe_mul(out, &t0, z); /* z^(2^252 - 3) */
}

/* ---- group ---------------------------------------------------------------------- */

static bool s_ge_is_identity(const s_ge *p)
{
    return s_fe_iszero(&p->x) && s_fe_equal(&p->y, &p->z);
}

static void s_ge_neg(s_ge *r, const s_ge *p)
{
    s_fe_neg(&r->x, &p->x);
    r->y = p->y;
    r->z = p->z;
    s_fe_neg(&r->t, &p->t);
}

/*  r = p + q (r may alias either). */
static void s_ge_add(s_ge *r, const s_ge *p, const s_ge *q)
{
    s_fe a, b, c, d, e, f, g, h, t;
    s_fe_sub(&a, &p->y, &p->x);
    s_fe_sub(&t, &q->y, &q->x);
    s_fe_mul(&a, &a, &t);
    s_fe_add(&b, &p->y, &p->x);
    s_fe_add(&t, &q->y, &q->x);
    s_fe_mul(&b, &b, &t);
    s_fe_mul(&c, &p->t, &q->t);
    s_fe_mul(&c, &c, &s_d2);
    s_fe_mul(&d, &p->z, &q->z);
    s_fe_add(&d, &d, &d);
    s_fe_sub(&e, &b, &a);
    s_fe_sub(&f, &d, &c);
    s_fe_add(&g, &d, &c);
    s_fe_add(&h, &b, &a);
    s_fe_mul(&r->x, &e, &f);
    s_fe_mul(&r->y, &g, &h);
    s_fe_mul(&r->t, &e, &h);
    s_fe_mul(&r->z, &f, &g);
}

/*  r = 2p (r may alias p). */
/*  r = 2p (r may alias p); without WITH_T, r->t is left stale: only a doubling may follow
 *  (doublings read x, y and z alone), not an addition. */
static void s_ge_dbl_t(s_ge *r, const s_ge *p, bool with_t)
{
    s_fe a, b, c, e, f, g, h;
    s_fe_sq(&a, &p->x);
    s_fe_sq(&b, &p->y);
    s_fe_sq(&c, &p->z);
    s_fe_add(&c, &c, &c);
    s_fe_carry(&c);
    s_fe_add(&e, &p->x, &p->y);
    s_fe_sq(&e, &e);
    s_fe_sub(&e, &e, &a);
    s_fe_sub(&e, &e, &b); /* 2xy */
    s_fe_sub(&g, &b, &a); /* -x^2 + y^2 */
    s_fe_sub(&f, &g, &c);
    s_fe_neg(&h, &a);
    s_fe_sub(&h, &h, &b); /* -x^2 - y^2 */
    s_fe_mul(&r->x, &e, &f);
    s_fe_mul(&r->y, &g, &h);
    if (with_t)
        s_fe_mul(&r->t, &e, &h);
    s_fe_mul(&r->z, &f, &g);
}

static void s_ge_dbl(s_ge *r, const s_ge *p)
{
    s_ge_dbl_t(r, p, true);
}

/*  [8]P is the identity. */
static bool s_ge_times8_identity(const s_ge *p)
{
    s_ge q; /* the identity test reads x, y and z alone */
    s_ge_dbl_t(&q, p, false);
    s_ge_dbl_t(&q, &q, false);
    s_ge_dbl_t(&q, &q, false);
    return s_ge_is_identity(&q);
}

/*  Decodes a canonical point encoding: y below p, x = 0 only with the sign bit clear. */
static bool s_ge_frombytes(s_ge *r, const uint8_t s[32])
{
    s_fe y, u, v, v3, x, t;
    uint8_t canon[32];
    s_fe_frombytes(&y, s);
    s_fe_tobytes(canon, &y);
    canon[31] |= (uint8_t)(s[31] & 0x80);
    if (memcmp(canon, s, 32) != 0)
        return false;
    const int sign = s[31] >> 7;
    static const s_fe one = {{1, 0, 0, 0, 0}};
    s_fe_sq(&u, &y);
    s_fe_mul(&v, &u, &s_d);
    s_fe_sub(&u, &u, &one); /* y^2 - 1 */
    s_fe_add(&v, &v, &one); /* d y^2 + 1 */
    s_fe_sq(&v3, &v);
    s_fe_mul(&v3, &v3, &v); /* v^3 */
    s_fe_sq(&x, &v3);
    s_fe_mul(&x, &x, &v);
    s_fe_mul(&x, &x, &u); /* u v^7 */
    s_fe_pow22523(&x, &x);
    s_fe_mul(&x, &x, &v3);
    s_fe_mul(&x, &x, &u); /* candidate u v^3 (u v^7)^((p-5)/8) */
    s_fe_sq(&t, &x);
    s_fe_mul(&t, &t, &v); /* v x^2 */
    if (!s_fe_equal(&t, &u)) {
        s_fe_add(&t, &t, &u);
        if (!s_fe_iszero(&t))
            return false; /* not on the curve */
        s_fe_mul(&x, &x, &s_sqrtm1);
    }
    if (s_fe_iszero(&x) && sign)
        return false;
    if (s_fe_parity(&x) != sign)
        s_fe_neg(&x, &x);
    r->x = x;
    r->y = y;
    memset(&r->z, 0, sizeof r->z);
    r->z.v[0] = 1;
    s_fe_mul(&r->t, &x, &y);
    return true;
}

/* ---- multi-scalar multiplication ------------------------------------------------ */

/*  Signed radix-2^C digits of the 256-bit little-endian K, each in [-2^(C-1), 2^(C-1)). */
static void s_recode(int8_t *digits, size_t nw, const uint8_t k[32], unsigned c)
{
    int carry = 0;
    for (size_t j = 0; j < nw; j++) {
        const size_t pos = j * c;
        unsigned bits = 0;
        if (pos < 256) {
            unsigned w = k[pos / 8];
            if (pos / 8 + 1 < 32)
                w |= (unsigned)k[pos / 8 + 1] << 8;
            bits = (w >> (pos % 8)) & ((1u << c) - 1);
        }
        int v = (int)bits + carry;
        carry = v >= (1 << (c - 1));
        if (carry)
            v -= 1 << c;
        digits[j] = (int8_t)v;
    }
}

static size_t s_windows(unsigned c)
{
    return 256 / c + 2;
}

/*  acc += P (or -P when NEG); acc = that when *empty. */
static void s_acc_add(s_ge *acc, bool *empty, const s_ge *p, int neg)
{
    s_ge q;
    if (neg) {
        s_ge_neg(&q, p);
        p = &q;
    }
    if (*empty)
        *acc = *p;
    else
        s_ge_add(acc, acc, p);
    *empty = false;
}

/*  Pippenger's bucket method over N points whose digits (NW per point) are in DIGITS.
 *  BUCKETS holds 2^(C-1) points and EMPTY as many flags. OUT is the sum; *out_empty says
 *  it is the identity. */
static void s_msm_buckets(s_ge *out, bool *out_empty, const s_ge *pts, const int8_t *digits,
                          size_t n, unsigned c, s_ge *buckets, bool *empty)
{
    const size_t nw = s_windows(c), nb = (size_t)1 << (c - 1);
    *out_empty = true;
    for (size_t j = nw; j-- > 0;) {
        if (!*out_empty)
            for (unsigned b = 0; b < c; b++)
                s_ge_dbl_t(out, out, b == c - 1);
        for (size_t b = 0; b < nb; b++)
            empty[b] = true;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            const int d = digits[i * nw + j];
            if (d == 0)
                continue;
            const size_t idx = (size_t)(d < 0 ? -d : d) - 1;
            s_acc_add(&buckets[idx], &empty[idx], &pts[i], d < 0);
            any = true;
        }
        if (!any)
            continue;
        /* sum of (b + 1) * bucket[b]: a running sum from the top, added up */
        s_ge run, tot;
        bool run_empty = true, tot_empty = true;
        for (size_t b = nb; b-- > 0;) {
            if (!empty[b])
                s_acc_add(&run, &run_empty, &buckets[b], 0);
            if (!run_empty)
                s_acc_add(&tot, &tot_empty, &run, 0);
        }
        s_acc_add(out, out_empty, &tot, 0);
    }
}

/* ---- the rule --------------------------------------------------------------------- */

typedef struct {
    s_ge a, r;
    uint8_t h[32]; /* SHA-512(R || A || M) mod L */
    uint8_t s[32];
    const uint8_t *pk; /* A's encoding (borrowed from the item) */
} s_prep;

static bool s_scalar_canonical(const uint8_t s[32])
{
    for (int i = 31; i >= 0; i--) {
        if (s[i] != s_order[i])
            return s[i] < s_order[i];
    }
    return false; /* s == L */
}

/*  For a canonical encoding S: true if its point has small order. */
static bool s_small_encoding(const uint8_t s[32])
{
    uint8_t y[32];
    memcpy(y, s, 32);
    y[31] &= 0x7f;
    for (size_t i = 0; i < sizeof s_small_y / sizeof s_small_y[0]; i++)
        if (memcmp(y, s_small_y[i], 32) == 0)
            return true;
    return false;
}

/* ---- decoded keys ------------------------------------------------------------------ */

#define S_KEYS_MAX (1u << 20)

typedef struct {
    uint8_t pk[32];
    s_fe x; /* y comes from the key's bytes (it is canonical: checked when it was decoded) */
    bool used;
} s_key_slot;

struct proto_sigkeys_t {
    pthread_mutex_t mu;
    size_t mask; /* slots - 1; slot pairs are (2i, 2i + 1), newest first */
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    uint64_t hits, lookups;
    s_key_slot slot[];
};

proto_sigkeys_t *proto_sigkeys_new(size_t slots)
{
    size_t n = 2;
    while (n < slots && n < S_KEYS_MAX)
        n *= 2;
    proto_sigkeys_t *self = calloc(1, sizeof *self + n * sizeof(s_key_slot));
    if (!self)
        return NULL;
    if (pthread_mutex_init(&self->mu, NULL) != 0) {
        free(self);
        return NULL;
    }
    self->mask = n - 1;
    randombytes_buf(self->hkey, sizeof self->hkey); /* nobody can aim keys at one pair */
    return self;
}

void proto_sigkeys_destroy(proto_sigkeys_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pthread_mutex_destroy(&(*self_p)->mu);
    free(*self_p);
    *self_p = NULL;
}

void proto_sigkeys_stats(proto_sigkeys_t *self, uint64_t *hits, uint64_t *lookups)
{
    pthread_mutex_lock(&self->mu);
    *hits = self->hits;
    *lookups = self->lookups;
    pthread_mutex_unlock(&self->mu);
}

static size_t s_keys_pair(const proto_sigkeys_t *k, const uint8_t pk[32])
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, pk, 32, k->hkey);
    memcpy(&v, h, sizeof v);
    return (size_t)v & k->mask & ~(size_t)1;
}

/*  Decodes the public key PK into A (see s_prepare), through KEYS when given. */
static bool s_key_decode(proto_sigkeys_t *keys, s_ge *a, const uint8_t pk[32])
{
    if (!keys)
        return s_ge_frombytes(a, pk) && !s_small_encoding(pk);
    const size_t i = s_keys_pair(keys, pk);
    s_key_slot *s = keys->slot + i;
    pthread_mutex_lock(&keys->mu);
    keys->lookups++;
    for (int w = 0; w < 2; w++)
        if (s[w].used && memcmp(s[w].pk, pk, 32) == 0) {
            a->x = s[w].x;
            keys->hits++;
            pthread_mutex_unlock(&keys->mu);
            s_fe_frombytes(&a->y, pk);
            memset(&a->z, 0, sizeof a->z);
            a->z.v[0] = 1;
            s_fe_mul(&a->t, &a->x, &a->y);
            return true;
        }
    pthread_mutex_unlock(&keys->mu);
    if (!s_ge_frombytes(a, pk) || s_small_encoding(pk))
        return false;
    pthread_mutex_lock(&keys->mu);
    if (s[0].used)
        s[1] = s[0]; /* the older one makes room */
    memcpy(s[0].pk, pk, 32);
    s[0].x = a->x;
    s[0].used = true;
    pthread_mutex_unlock(&keys->mu);
    return true;
}

/*  Everything but the group equation; false when the signature is invalid already. */
static bool s_prepare(proto_sigkeys_t *keys, s_prep *p, const proto_sigcheck_t *it)
{
    if (!s_scalar_canonical(it->sig + 32))
        return false;
    if (!s_key_decode(keys, &p->a, it->pk))
        return false;
    if (!s_ge_frombytes(&p->r, it->sig) || s_small_encoding(it->sig))
        return false;
    crypto_hash_sha512_state st;
    uint8_t wide[64];
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, it->sig, 32);
    crypto_hash_sha512_update(&st, it->pk, 32);
    crypto_hash_sha512_update(&st, it->msg, it->len);
    crypto_hash_sha512_final(&st, wide);
    crypto_core_ed25519_scalar_reduce(p->h, wide);
    memcpy(p->s, it->sig + 32, 32);
    p->pk = it->pk;
    return true;
}

#define S_NAF_MAX 15  /* largest digit: odd multiples 1P, 3P, ..., 15P are tabulated */
#define S_NAF_LEN 257 /* a 256-bit scalar may carry into one more digit */

/*  Sliding-window non-adjacent form of the 256-bit little-endian K: K = sum r[i] 2^i, every
 *  r[i] zero or odd with |r[i]| <= S_NAF_MAX, nonzero digits at least 5 apart. */
static void s_naf(int8_t r[S_NAF_LEN], const uint8_t k[32])
{
    for (int i = 0; i < 256; i++)
        r[i] = (int8_t)((k[i >> 3] >> (i & 7)) & 1);
    r[256] = 0;
    for (int i = 0; i < S_NAF_LEN; i++) {
        if (!r[i])
            continue;
        for (int b = 1; b <= 6 && i + b < S_NAF_LEN; b++) {
            if (!r[i + b])
                continue;
            const int up = r[i + b] * (1 << b);
            if (r[i] + up <= S_NAF_MAX) {
                r[i] = (int8_t)(r[i] + up);
                r[i + b] = 0;
            } else if (r[i] - up >= -S_NAF_MAX) {
                r[i] = (int8_t)(r[i] - up);
                for (int c = i + b; c < S_NAF_LEN; c++) { /* + 2^(i+b), carried */
                    if (!r[c]) {
                        r[c] = 1;
                        break;
                    }
                    r[c] = 0;
                }
            } else {
                break;
            }
        }
    }
}

/*  *acc = [K0]P0 + [K1]P1 (K little-endian, 256 bits, used unreduced) by one pass over
 *  both scalars' sliding-window forms (Straus' trick, 256 doublings at most);
 *  *empty says it is the identity. */
static void s_double_mul(s_ge *acc, bool *empty, const uint8_t k0[32], const s_ge *p0,
                         const uint8_t k1[32], const s_ge *p1)
{
    const uint8_t *k[2] = {k0, k1};
    const s_ge *pts[2] = {p0, p1};
    int8_t naf[2][S_NAF_LEN];
    s_ge tab[2][(S_NAF_MAX + 1) / 2]; /* tab[i][m] = (2m + 1) P_i */
    for (int i = 0; i < 2; i++) {
        s_ge twice;
        s_naf(naf[i], k[i]);
        tab[i][0] = *pts[i];
        s_ge_dbl(&twice, pts[i]);
        for (int m = 1; m < (S_NAF_MAX + 1) / 2; m++)
            s_ge_add(&tab[i][m], &tab[i][m - 1], &twice);
    }
    *empty = true;
    for (int j = S_NAF_LEN; j-- > 0;) {
        if (!*empty) /* t only where an addition follows (or the caller may add) */
            s_ge_dbl_t(acc, acc, j == 0 || naf[0][j] != 0 || naf[1][j] != 0);
        for (int i = 0; i < 2; i++) {
            const int d = naf[i][j];
            if (d != 0)
                s_acc_add(acc, empty, &tab[i][(d < 0 ? -d : d) / 2], d < 0);
        }
    }
}

/*  [8](R + hA - sB) == O for one prepared signature. */
static bool s_check_one(const s_prep *p)
{
    uint8_t neg_s[32];
    crypto_core_ed25519_scalar_negate(neg_s, p->s);
    s_ge acc;
    bool empty;
    s_double_mul(&acc, &empty, p->h, &p->a, neg_s, &s_base);
    s_acc_add(&acc, &empty, &p->r, 0);
    return s_ge_times8_identity(&acc);
}

bool proto_sig_check(const uint8_t pk[static 32], const uint8_t *msg, size_t len,
                     const uint8_t sig[static 64])
{
    const proto_sigcheck_t it = {.pk = pk, .sig = sig, .msg = msg, .len = len};
    s_prep p;
    return s_prepare(NULL, &p, &it) && s_check_one(&p);
}

/*  Scratch for one chunk. */
typedef struct {
    s_prep prep[PROTO_SIGBATCH_CHUNK];
    size_t idx[PROTO_SIGBATCH_CHUNK]; /* item index of prep[i] */
    s_ge pts[2 * PROTO_SIGBATCH_CHUNK + 1];
    uint8_t k[2 * PROTO_SIGBATCH_CHUNK + 1][32];
    int8_t digits[(2 * PROTO_SIGBATCH_CHUNK + 1) * (256 / 4 + 2)];
    const uint8_t *keys[PROTO_SIGBATCH_CHUNK]; /* the distinct public keys of the chunk */
    s_ge buckets[1u << 7];
    bool empty[1u << 7];
} s_scratch;

static unsigned s_window_for(size_t points)
{
    return points >= 160 ? 6 : points >= 40 ? 5 : 4;
}

/*  Random-linear-combination check of M prepared signatures:
 *  [8](sum z_i R_i + sum (z_i h_i) A_i - (sum z_i s_i) B) == O.
 *  Signatures by the same key share one point: its coefficient is the sum of their z_i h_i
 *  (the same sum, so the same verdict), and a chunk from a few signers (gossip from a few
 *  origins, txs from a few senders) costs a multiplication of about M + keys points
 *  instead of 2M. */
static bool s_check_many(s_scratch *w, size_t m)
{
    uint8_t zs[32] = {0}, t[32];
    size_t na = 0;
    randombytes_buf(w->k, m * 32); /* one call; the top halves are cleared below */
    for (size_t i = 0; i < m; i++) {
        uint8_t *z = w->k[i];
        memset(z + 16, 0, 16);
        z[0] |= 1; /* never zero: 127 bits of entropy */
        w->pts[i] = w->prep[i].r;
        size_t j = 0;
        while (j < na && memcmp(w->keys[j], w->prep[i].pk, 32) != 0)
            j++;
        crypto_core_ed25519_scalar_mul(t, z, w->prep[i].h);
        if (j < na) {
            crypto_core_ed25519_scalar_add(w->k[m + j], w->k[m + j], t);
        } else {
            w->keys[na] = w->prep[i].pk;
            w->pts[m + na] = w->prep[i].a;
            memcpy(w->k[m + na], t, 32);
            na++;
        }
        crypto_core_ed25519_scalar_mul(t, z, w->prep[i].s);
        crypto_core_ed25519_scalar_add(zs, zs, t);
    }
    w->pts[m + na] = s_base;
    crypto_core_ed25519_scalar_negate(w->k[m + na], zs);
    const size_t n = m + na + 1;
    const unsigned c = s_window_for(n);
    const size_t nw = s_windows(c);
    for (size_t i = 0; i < n; i++)
        s_recode(&w->digits[i * nw], nw, w->k[i], c);
    s_ge acc;
    bool empty;
    s_msm_buckets(&acc, &empty, w->pts, w->digits, n, c, w->buckets, w->empty);
    return empty || s_ge_times8_identity(&acc);
}

size_t proto_sig_check_batch(proto_sigkeys_t *keys, const proto_sigcheck_t *items, size_t n,
                             bool *ok)
{
    if (n == 1) { /* nothing to share: no scratch, but the key table still helps */
        s_prep p;
        ok[0] = s_prepare(keys, &p, &items[0]) && s_check_one(&p);
        return ok[0];
    }
    s_scratch *w = malloc(sizeof *w);
    size_t valid = 0;
    for (size_t base = 0; base < n; base += PROTO_SIGBATCH_CHUNK) {
        const size_t end = n - base < PROTO_SIGBATCH_CHUNK ? n : base + PROTO_SIGBATCH_CHUNK;
        if (!w) { /* no scratch: one by one */
            for (size_t i = base; i < end; i++)
                valid += ok[i] =
                    proto_sig_check(items[i].pk, items[i].msg, items[i].len, items[i].sig);
            continue;
        }
        size_t m = 0;
        for (size_t i = base; i < end; i++) {
            ok[i] = s_prepare(keys, &w->prep[m], &items[i]);
            if (ok[i])
                w->idx[m++] = i;
        }
        if (m == 0)
            continue;
        if (m == 1 ? s_check_one(&w->prep[0]) : s_check_many(w, m)) {
            valid += m;
            continue;
        }
        for (size_t j = 0; j < m; j++)
            valid += ok[w->idx[j]] = s_check_one(&w->prep[j]);
    }
    free(w);
    return valid;
}

/* ---- test hooks (proto_sigbatch_int.h) ------------------------------------------------ */

/*  The canonical encoding of P: y, with x's parity in bit 255. */
static void s_ge_tobytes(uint8_t out[32], const s_ge *p)
{
    s_fe zi, t, x, y;
    s_fe_pow22523(&t, &p->z); /* z^(2^252 - 3) */
    s_fe_sqn(&t, &t, 3);      /* z^(2^255 - 24) */
    s_fe_sq(&zi, &p->z);
    s_fe_mul(&zi, &zi, &p->z);
    s_fe_mul(&zi, &zi, &t); /* z^(p - 2) = 1/z */
    s_fe_mul(&x, &p->x, &zi);
    s_fe_mul(&y, &p->y, &zi);
    s_fe_tobytes(out, &y);
    out[31] |= (uint8_t)(s_fe_parity(&x) << 7);
}

static void s_out(uint8_t out[32], const s_ge *p, bool empty)
{
    static const uint8_t identity[32] = {1};
    if (empty)
        memcpy(out, identity, 32);
    else
        s_ge_tobytes(out, p);
}

bool proto_sigint_decode(const uint8_t p[32], bool *small)
{
    s_ge g;
    if (!s_ge_frombytes(&g, p))
        return false;
    *small = s_small_encoding(p);
    return true;
}

bool proto_sigint_add(uint8_t out[32], const uint8_t p[32], const uint8_t q[32])
{
    s_ge a, b;
    if (!s_ge_frombytes(&a, p) || !s_ge_frombytes(&b, q))
        return false;
    s_ge_add(&a, &a, &b);
    s_ge_tobytes(out, &a);
    return true;
}

bool proto_sigint_dbl(uint8_t out[32], const uint8_t p[32])
{
    s_ge a;
    if (!s_ge_frombytes(&a, p))
        return false;
    s_ge_dbl(&a, &a);
    s_ge_tobytes(out, &a);
    return true;
}

bool proto_sigint_mul2(uint8_t out[32], const uint8_t a[32], const uint8_t p[32],
                       const uint8_t b[32])
{
    s_ge g, acc;
    bool empty;
    if (!s_ge_frombytes(&g, p))
        return false;
    s_double_mul(&acc, &empty, a, &g, b, &s_base);
    s_out(out, &acc, empty);
    return true;
}

bool proto_sigint_msm(uint8_t out[32], size_t n, const uint8_t (*k)[32], const uint8_t (*p)[32])
{
    if (n == 0 || n > 2 * PROTO_SIGBATCH_CHUNK + 1)
        return false;
    s_scratch *w = malloc(sizeof *w);
    bool ok = w != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = s_ge_frombytes(&w->pts[i], p[i]);
    if (ok) {
        const unsigned c = s_window_for(n);
        const size_t nw = s_windows(c);
        for (size_t i = 0; i < n; i++)
            s_recode(&w->digits[i * nw], nw, k[i], c);
        s_ge acc;
        bool empty;
        s_msm_buckets(&acc, &empty, w->pts, w->digits, n, c, w->buckets, w->empty);
        s_out(out, &acc, empty);
    }
    free(w);
    return ok;
}

bool proto_sigint_times8_identity(const uint8_t p[32])
{
    s_ge g;
    return s_ge_frombytes(&g, p) && s_ge_times8_identity(&g);
}

size_t proto_sigint_scratch_bytes(void)
{
    return sizeof(s_scratch);
}
