/*  proto_sigbatch: the chain's Ed25519 signature rule (PROTOCOL.md §2.1), single and
 *  batched; the test hooks of proto_sigbatch_int.h at the end.
 *
 *  Field elements mod p = 2^255 - 19 are five 51-bit limbs; points are extended twisted
 *  Edwards coordinates (X:Y:Z:T), x = X/Z, y = Y/Z, xy = T/Z, on -x^2 + y^2 = 1 + d x^2 y^2.
 *  Addition uses the unified formulas of Hisil, Wong, Carter and Dawson (2008), complete on
 *  this curve because d is not a square. That arithmetic is in proto_sigbatch_ge.h. Scalars mod L
 * come from libsodium's crypto_core_ed25519_scalar_* functions. Nothing here handles secrets, so
 * nothing needs constant time; everything is variable time.
 */
#include "proto_sigbatch.h"
#include "proto_sigbatch_ge.h"
#include "proto_sigbatch_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

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
 *  r[i] zero or odd with |r[i]| <= MAX (7 or 15), nonzero digits at least 4 (MAX 7) or
 *  5 (MAX 15) apart. */
static void s_naf(int8_t r[S_NAF_LEN], const uint8_t k[32], int max)
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
            if (r[i] + up <= max) {
                r[i] = (int8_t)(r[i] + up);
                r[i + b] = 0;
            } else if (r[i] - up >= -max) {
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
        s_naf(naf[i], k[i], S_NAF_MAX);
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

/*  The fast path of a single check: libsodium's crypto_sign_verify_detached (assembly
 *  field arithmetic, about a quarter faster than s_check_one). In libsodium 1.0.18 it
 *  accepts only signatures the rule accepts: it refuses a non-canonical s, a key or R of
 *  small order, a key that is not a canonical point, and otherwise accepts only when
 *  [s]B - [h]A encodes to R's bytes exactly, so R is canonical and R + hA - sB is the
 *  identity, [8] of which is too. Its refusals are not the rule's (it also refuses a
 *  nonzero R + hA - sB of order 2, 4 or 8), so a refusal is only the cue to run the rule.
 *  Another libsodium might accept more (its rule has changed between releases): the fast
 *  path is taken only with the library version this reasoning is about (10.3, release
 *  1.0.18); test_sigvectors checks the two paths agree. */
static bool s_sodium_accepts(const proto_sigcheck_t *it)
{
    return sodium_library_version_major() == 10 && sodium_library_version_minor() == 3 &&
           crypto_sign_verify_detached(it->sig, it->msg, it->len, it->pk) == 0;
}

/*  The rule for one signature: libsodium's acceptance, else this module's check. */
static bool s_check_single(proto_sigkeys_t *keys, const proto_sigcheck_t *it)
{
    if (s_sodium_accepts(it))
        return true;
    s_prep p;
    return s_prepare(keys, &p, it) && s_check_one(&p);
}

bool proto_sig_check(const uint8_t pk[static 32], const uint8_t *msg, size_t len,
                     const uint8_t sig[static 64])
{
    const proto_sigcheck_t it = {.pk = pk, .sig = sig, .msg = msg, .len = len};
    return s_check_single(NULL, &it);
}

bool proto_sig_check_rule(const uint8_t pk[static 32], const uint8_t *msg, size_t len,
                          const uint8_t sig[static 64])
{
    const proto_sigcheck_t it = {.pk = pk, .sig = sig, .msg = msg, .len = len};
    s_prep p;
    return s_prepare(NULL, &p, &it) && s_check_one(&p);
}

/*  Batches of up to this many are checked one by one: libsodium's single check is then
 *  cheaper than the random linear combination (bench_envelope --sig measures both). With
 *  the Straus multiplication two signatures together already cost less than two single
 *  checks (callgrind, distinct keys already decoded: 448k instructions per signature for
 *  a pair, 369k in a triple, 639k for libsodium's single check). */
#ifndef S_SMALL
#define S_SMALL 1
#endif

#define S_MSM_MAX (2 * PROTO_SIGBATCH_CHUNK + 1) /* points of one multiplication */
/* Straus (per-point tables, one run of doublings) up to this many points, Pippenger's
   buckets above: at 128 distinct signers the buckets win (bench_envelope "sigbatch check
   batch": Straus alone was 10-25% slower there, and its tables for 257 points made the
   scratch 486 KiB), at 16 signatures by 4 signers Straus is 23% cheaper */
#define S_STRAUS_MAX 72
#define S_TAB ((S_NAF_MAX + 1) / 2) /* odd multiples tabulated per point */

/*  Scratch for one chunk. */
typedef struct {
    s_prep prep[PROTO_SIGBATCH_CHUNK];
    size_t idx[PROTO_SIGBATCH_CHUNK]; /* item index of prep[i] */
    s_ge pts[S_MSM_MAX];
    uint8_t k[S_MSM_MAX][32];
    int8_t naf[S_NAF_LEN][S_STRAUS_MAX];      /* naf[j][i]: digit j of k[i] (Straus) */
    s_cached tab[S_STRAUS_MAX][S_TAB];        /* tab[i][m] = (2m + 1) pts[i] (Straus) */
    uint16_t adds[S_STRAUS_MAX];              /* the points adding at one position (Straus) */
    int8_t digits[S_MSM_MAX * (256 / 4 + 2)]; /* radix-2^c digits (buckets) */
    s_ge buckets[1u << 7];
    bool empty[1u << 7];
    const uint8_t *keys[PROTO_SIGBATCH_CHUNK]; /* the distinct public keys of the chunk */
} s_scratch;

/*  *OUT = sum of [W->k[i]] W->pts[i] for i < N (N <= S_STRAUS_MAX; scalars 256-bit, used
 *  unreduced; every point with its t) by Straus' method: one run of doublings over all
 *  the scalars' sliding-window forms at once, each point adding its own odd multiples.
 *  A small batch's points are few and half of them carry 128-bit scalars (the z_i of the
 *  R_i): about 26 additions each plus a table of 4, against the bucket method's additions
 *  of every point in every window, with the buckets' sums on top (s_msm picks by size). *OUT's t is
 *  left stale (only doublings, the identity test and the encoding may follow). */
static void s_msm_straus(s_ge *out, s_scratch *w, size_t n)
{
    int top = -1;
    for (size_t i = 0; i < n; i++) {
        bool half = true; /* below 2^128: a narrower table (1P .. 7P) is cheaper to build */
        for (size_t b = 16; b < 32 && half; b++)
            half = w->k[i][b] == 0;
        const int max = half ? 7 : S_NAF_MAX;
        int8_t r[S_NAF_LEN];
        s_naf(r, w->k[i], max);
        for (int j = 0; j < S_NAF_LEN; j++) {
            w->naf[j][i] = r[j];
            if (r[j] && j > top)
                top = j;
        }
        s_ge_cache(&w->tab[i][0], &w->pts[i]);
        s_ge twice, acc = w->pts[i];
        s_cached twice_c;
        s_ge_dbl(&twice, &w->pts[i]);
        s_ge_cache(&twice_c, &twice);
        for (int m = 1; m < (max + 1) / 2; m++) {
            s_ge_add_cached(&acc, &acc, &twice_c, false, true);
            s_ge_cache(&w->tab[i][m], &acc);
        }
    }
    static const s_ge identity = {.y = {{1}}, .z = {{1}}};
    *out = identity;
    for (int j = top; j >= 0; j--) {
        size_t cnt = 0;
        const int8_t *row = w->naf[j];
        for (size_t i = 0; i < n; i++)
            if (row[i])
                w->adds[cnt++] = (uint16_t)i;
        if (j < top) /* t only where an addition follows */
            s_ge_dbl_t(out, out, cnt > 0);
        for (size_t q = 0; q < cnt; q++) {
            const size_t i = w->adds[q];
            const int d = row[i];
            s_ge_add_cached(out, out, &w->tab[i][(d < 0 ? -d : d) / 2], d < 0, q + 1 < cnt);
        }
    }
}

static unsigned s_window_for(size_t points)
{
    return points >= 160 ? 6 : points >= 40 ? 5 : 4;
}

/*  *OUT = sum of [W->k[i]] W->pts[i] for i < N (N <= S_MSM_MAX); *EMPTY says it is the
 *  identity (the Straus sum is never flagged so: its identity is a point). */
static void s_msm(s_ge *out, bool *empty, s_scratch *w, size_t n)
{
    if (n <= S_STRAUS_MAX) {
        s_msm_straus(out, w, n);
        *empty = false;
        return;
    }
    const unsigned c = s_window_for(n);
    const size_t nw = s_windows(c);
    for (size_t i = 0; i < n; i++)
        s_recode(&w->digits[i * nw], nw, w->k[i], c);
    s_msm_buckets(out, empty, w->pts, w->digits, n, c, w->buckets, w->empty);
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
    s_ge acc;
    bool empty;
    s_msm(&acc, &empty, w, m + na + 1);
    return empty || s_ge_times8_identity(&acc);
}

size_t proto_sig_check_batch(proto_sigkeys_t *keys, const proto_sigcheck_t *items, size_t n,
                             bool *ok)
{
    if (n <= S_SMALL) { /* too few to share much: one by one, fast path first */
        size_t valid = 0;
        for (size_t i = 0; i < n; i++)
            valid += ok[i] = s_check_single(keys, &items[i]);
        return valid;
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
        s_ge acc;
        bool empty;
        memcpy(w->k, k, n * 32);
        s_msm(&acc, &empty, w, n);
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
