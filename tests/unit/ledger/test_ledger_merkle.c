/*  test_ledger_merkle: the txid Merkle tree (ledger_merkle.h). Roots for n = 0..70 equal
 *  an independent, straightforward recursive computation written here from the rule
 *  (RFC 6962 shape, our domains); every audit path of every leaf verifies; tampered paths,
 *  indexes, tree sizes, leaves and roots are refused. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_merkle.h"
#include "testutil.h"

#define N_MAX 70

/* Reference: H(domain || 0x00 || data) written out with BLAKE2b directly. */
static void r_hash(const char *domain, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                   uint8_t out[32])
{
    crypto_generichash_state st;
    uint8_t zero = 0;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)domain, strlen(domain));
    crypto_generichash_update(&st, &zero, 1);
    if (alen)
        crypto_generichash_update(&st, a, alen);
    if (blen)
        crypto_generichash_update(&st, b, blen);
    crypto_generichash_final(&st, out, 32);
}

/* Reference MTH: split at the largest power of two below n, found by trying each. */
static void r_mth(uint8_t (*d)[32], size_t n, uint8_t out[32])
{
    if (n == 0) {
        r_hash("genie/txroot/empty/v2", NULL, 0, NULL, 0, out);
        return;
    }
    if (n == 1) {
        r_hash("genie/txroot/leaf/v2", d[0], 32, NULL, 0, out);
        return;
    }
    size_t k = 1;
    for (size_t p = 1; p < n; p *= 2)
        k = p;
    uint8_t l[32], r[32];
    r_mth(d, k, l);
    r_mth(d + k, n - k, r);
    r_hash("genie/txroot/node/v2", l, 32, r, 32, out);
}

/* Reference PATH(m, D[n]) (RFC 6962 2.1.1): deepest sibling first. */
static size_t r_path(uint8_t (*d)[32], size_t n, size_t m, uint8_t (*out)[32])
{
    if (n <= 1)
        return 0;
    size_t k = 1;
    for (size_t p = 1; p < n; p *= 2)
        k = p;
    size_t got;
    if (m < k) {
        got = r_path(d, k, m, out);
        r_mth(d + k, n - k, out[got]);
    } else {
        got = r_path(d + k, n - k, m - k, out);
        r_mth(d, k, out[got]);
    }
    return got + 1;
}

/* Reference shape of PATH(m, D[n]): for each path hash, deepest first, 1 when the
 * sibling is on the left. The root commits to the leaves, not to n: a path of (m, n) also
 * verifies as (m', n') exactly when the two shapes are equal (same position in a tree of
 * the same shape), which the tests below pin. */
static size_t r_dirs(size_t n, size_t m, uint8_t *out)
{
    if (n <= 1)
        return 0;
    size_t k = 1;
    for (size_t p = 1; p < n; p *= 2)
        k = p;
    size_t got;
    if (m < k) {
        got = r_dirs(k, m, out);
        out[got] = 0;
    } else {
        got = r_dirs(n - k, m - k, out);
        out[got] = 1;
    }
    return got + 1;
}

static bool r_same_shape(size_t m, size_t n, size_t m2, size_t n2)
{
    uint8_t a[64], b[64];
    if (m >= n || m2 >= n2)
        return false;
    size_t da = r_dirs(n, m, a), db = r_dirs(n2, m2, b);
    return da == db && memcmp(a, b, da) == 0;
}

static void test_roots_and_paths(uint8_t (*leaves)[32])
{
    uint8_t root[32], want[32], path[LEDGER_MERKLE_DEPTH_MAX][32], rpath[64][32];
    int bad_root = 0, bad_path = 0, bad_verify = 0, bad_tamper = 0, same_shape = 0;
    for (size_t n = 0; n <= N_MAX; n++) {
        ledger_merkle_root((const uint8_t(*)[32])leaves, n, root);
        r_mth(leaves, n, want);
        if (memcmp(root, want, 32) != 0)
            bad_root++;
        for (size_t i = 0; i < n; i++) {
            size_t depth = 99;
            if (ledger_merkle_path((const uint8_t(*)[32])leaves, n, i, path, &depth) != 0) {
                bad_path++;
                continue;
            }
            size_t rd = r_path(leaves, n, i, rpath);
            if (rd != depth || (depth && memcmp(path, rpath, depth * 32) != 0))
                bad_path++;
            const uint8_t(*cp)[32] = (const uint8_t(*)[32])path;
            if (!ledger_merkle_verify(leaves[i], i, n, cp, depth, root))
                bad_verify++;
            /* Another index of the same tree never verifies; another tree size
             * verifies only when the leaf sits at a position of the same shape. */
            for (size_t j = 0; j < n + 2; j++)
                if (j != i && ledger_merkle_verify(leaves[i], j, n, cp, depth, root))
                    bad_tamper++;
            for (size_t n2 = 1; n2 <= N_MAX + 2; n2++) {
                bool ok = ledger_merkle_verify(leaves[i], i, n2, cp, depth, root);
                if (ok != r_same_shape(i, n, i, n2))
                    bad_tamper++;
                if (n2 != n && ok)
                    same_shape++;
            }
            if (ledger_merkle_verify(leaves[(i + 1) % N_MAX], i, n, cp, depth, root))
                bad_tamper++;
            for (size_t j = 0; j < depth; j++) {
                for (int bit = 0; bit < 8; bit += 3) {
                    path[j][(j * 7 + (size_t)bit) % 32] ^= (uint8_t)(1u << bit);
                    if (ledger_merkle_verify(leaves[i], i, n, cp, depth, root))
                        bad_tamper++;
                    path[j][(j * 7 + (size_t)bit) % 32] ^= (uint8_t)(1u << bit);
                }
            }
            if (depth > 0 && ledger_merkle_verify(leaves[i], i, n, cp, depth - 1, root))
                bad_tamper++;
            if (depth < LEDGER_MERKLE_DEPTH_MAX) {
                memset(path[depth], 0, 32);
                if (ledger_merkle_verify(leaves[i], i, n, cp, depth + 1, root))
                    bad_tamper++;
            }
            uint8_t wrong[32];
            memcpy(wrong, root, 32);
            wrong[31] ^= 0x80;
            if (ledger_merkle_verify(leaves[i], i, n, cp, depth, wrong))
                bad_tamper++;
        }
        /* index out of range */
        size_t depth = 7;
        CHECK_EQ(ledger_merkle_path((const uint8_t(*)[32])leaves, n, n, path, &depth),
                 LEDGER_E_INVALID);
        CHECK_EQ(depth, 0);
    }
    CHECK_EQ(bad_root, 0);
    CHECK_EQ(bad_path, 0);
    CHECK_EQ(bad_verify, 0);
    CHECK_EQ(bad_tamper, 0);
    /* The shape coincidence does occur (so the tests above exercise it). */
    CHECK(same_shape > 0);
    printf("merkle: %d other-size acceptances, all of the same shape\n", same_shape);
}

/* The rule's values, written out for two small trees, so a change of domain or split
 * shows here even if the reference above were changed with it. */
static void test_fixed_shapes(uint8_t (*d)[32])
{
    uint8_t l[5][32], n01[32], n23[32], n0123[32], want[32], root[32];
    for (int i = 0; i < 5; i++)
        r_hash("genie/txroot/leaf/v2", d[i], 32, NULL, 0, l[i]);
    r_hash("genie/txroot/node/v2", l[0], 32, l[1], 32, n01);
    r_hash("genie/txroot/node/v2", l[2], 32, l[3], 32, n23);
    r_hash("genie/txroot/node/v2", n01, 32, n23, 32, n0123);
    /* n = 3: (01)(2) */
    r_hash("genie/txroot/node/v2", n01, 32, l[2], 32, want);
    ledger_merkle_root((const uint8_t(*)[32])d, 3, root);
    CHECK(memcmp(root, want, 32) == 0);
    /* n = 5: (0123)(4) */
    r_hash("genie/txroot/node/v2", n0123, 32, l[4], 32, want);
    ledger_merkle_root((const uint8_t(*)[32])d, 5, root);
    CHECK(memcmp(root, want, 32) == 0);
    /* n = 1: the leaf hash itself */
    ledger_merkle_root((const uint8_t(*)[32])d, 1, root);
    CHECK(memcmp(root, l[0], 32) == 0);
    /* path of leaf 4 of 5 is [n0123]; of leaf 2 of 5 is [l3, n01, l4] */
    uint8_t path[LEDGER_MERKLE_DEPTH_MAX][32];
    size_t depth = 0;
    CHECK_EQ(ledger_merkle_path((const uint8_t(*)[32])d, 5, 4, path, &depth), 0);
    CHECK_EQ(depth, 1);
    CHECK(memcmp(path[0], n0123, 32) == 0);
    CHECK_EQ(ledger_merkle_path((const uint8_t(*)[32])d, 5, 2, path, &depth), 0);
    CHECK_EQ(depth, 3);
    CHECK(memcmp(path[0], l[3], 32) == 0);
    CHECK(memcmp(path[1], n01, 32) == 0);
    CHECK(memcmp(path[2], l[4], 32) == 0);
    /* a leaf hash passed as a leaf, or an interior node as a leaf, does not verify */
    ledger_merkle_root((const uint8_t(*)[32])d, 4, root);
    CHECK(!ledger_merkle_verify(n01, 0, 2, (const uint8_t(*)[32])n23, 1, root));
    CHECK(!ledger_merkle_verify(l[0], 0, 4, (const uint8_t(*)[32])path, 0, root));
    /* depth over the maximum is refused before anything is read */
    CHECK(!ledger_merkle_verify(d[0], 0, 4, (const uint8_t(*)[32])path, LEDGER_MERKLE_DEPTH_MAX + 1,
                                root));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    uint64_t seed = testutil_seed("test_ledger_merkle");
    uint8_t(*leaves)[32] = malloc((N_MAX + 2) * sizeof *leaves);
    REQUIRE(leaves != NULL);
    uint8_t key[crypto_stream_chacha20_KEYBYTES] = {0},
            nonce[crypto_stream_chacha20_NONCEBYTES] = {0};
    memcpy(key, &seed, sizeof seed);
    crypto_stream_chacha20((uint8_t *)leaves, (N_MAX + 2) * 32, nonce, key);
    test_roots_and_paths(leaves);
    test_fixed_shapes(leaves);
    free(leaves);
    return testutil_done("test_ledger_merkle");
}
