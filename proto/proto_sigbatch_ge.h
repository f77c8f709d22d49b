/*  proto_sigbatch_ge: the field (mod 2^255 - 19, five 51-bit limbs) and group (extended
 *  twisted Edwards coordinates, unified HWCD addition) arithmetic of proto_sigbatch.c, with
 *  the curve's constants. Internal: included by proto_sigbatch.c only, as static functions
 *  so that the hot ones inline into the multi-scalar multiplication (a separate object
 *  file would need link-time optimisation for that). Variable time: nothing here handles
 *  secrets.
 */
#ifndef GENIE_PROTO_SIGBATCH_GE_H
#define GENIE_PROTO_SIGBATCH_GE_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
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

/*  A point ready to be added to others (the HWCD addition's operands that depend on it
 *  alone, computed once): y + x, y - x, 2z and 2d t. */
typedef struct {
    s_fe ypx, ymx, z2, t2d;
} s_cached;

static void s_ge_cache(s_cached *c, const s_ge *p)
{
    s_fe_add(&c->ypx, &p->y, &p->x);
    s_fe_sub(&c->ymx, &p->y, &p->x);
    s_fe_add(&c->z2, &p->z, &p->z);
    s_fe_mul(&c->t2d, &p->t, &s_d2);
}

/*  r = p + q, or p - q when NEG: s_ge_add with q's share done (8 multiplications, 7
 *  without WITH_T, which leaves r->t stale: only a doubling may follow). r may alias p. */
static inline __attribute__((always_inline)) void
s_ge_add_cached(s_ge *r, const s_ge *p, const s_cached *q, bool neg, bool with_t)
{
    s_fe a, b, c, d, e, f, g, h;
    s_fe_sub(&a, &p->y, &p->x);
    s_fe_mul(&a, &a, neg ? &q->ypx : &q->ymx);
    s_fe_add(&b, &p->y, &p->x);
    s_fe_mul(&b, &b, neg ? &q->ymx : &q->ypx);
    s_fe_mul(&c, &p->t, &q->t2d);
    s_fe_mul(&d, &p->z, &q->z2);
    s_fe_sub(&e, &b, &a);
    if (neg) { /* -q's 2d t is -(2d t) */
        s_fe_add(&f, &d, &c);
        s_fe_sub(&g, &d, &c);
    } else {
        s_fe_sub(&f, &d, &c);
        s_fe_add(&g, &d, &c);
    }
    s_fe_add(&h, &b, &a);
    s_fe_mul(&r->x, &e, &f);
    s_fe_mul(&r->y, &g, &h);
    if (with_t)
        s_fe_mul(&r->t, &e, &h);
    s_fe_mul(&r->z, &f, &g);
}

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

#endif
