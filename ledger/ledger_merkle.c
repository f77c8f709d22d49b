/*  ledger_merkle: the txid Merkle tree, its audit paths and their check (see
 *  ledger_merkle.h for the exact rule). */
#include "ledger/ledger_merkle.h"

#include <sodium.h>
#include <string.h>

#include "proto/proto_key.h"

static void s_leaf(const uint8_t leaf[static 32], uint8_t out[static 32])
{
    proto_hash(LEDGER_MERKLE_LEAF_DOMAIN, leaf, 32, out);
}

static void s_node(const uint8_t left[static 32], const uint8_t right[static 32],
                   uint8_t out[static 32])
{
    uint8_t both[64];
    memcpy(both, left, 32);
    memcpy(both + 32, right, 32);
    proto_hash(LEDGER_MERKLE_NODE_DOMAIN, both, sizeof both, out);
}

/* Largest power of two strictly below N (N >= 2). */
static size_t s_split(size_t n)
{
    size_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

/* MTH of the N >= 1 leaves. Recursion depth is ceil(log2 n) <= 64. */
static void s_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[static 32])
{
    if (n == 1) {
        s_leaf(leaves[0], out);
        return;
    }
    size_t k = s_split(n);
    uint8_t left[32], right[32];
    s_root(leaves, k, left);
    s_root(leaves + k, n - k, right);
    s_node(left, right, out);
}

void ledger_merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[static 32])
{
    if (n == 0) {
        proto_hash(LEDGER_MERKLE_EMPTY_DOMAIN, (const uint8_t *)"", 0, out);
        return;
    }
    s_root(leaves, n, out);
}

/* Number of hashes in the path of INDEX in a tree of N leaves. */
static size_t s_depth(size_t index, size_t n)
{
    size_t d = 0;
    while (n > 1) {
        size_t k = s_split(n);
        if (index < k) {
            n = k;
        } else {
            index -= k;
            n -= k;
        }
        d++;
    }
    return d;
}

int ledger_merkle_path(const uint8_t (*leaves)[32], size_t n, size_t index, uint8_t path[][32],
                       size_t *depth)
{
    *depth = 0;
    if (index >= n)
        return LEDGER_E_INVALID;
    size_t d = s_depth(index, n);
    if (d > LEDGER_MERKLE_DEPTH_MAX)
        return LEDGER_E_INVALID;
    /* Walk down from the root; the sibling met at level i (from the top) is path entry
     * d - 1 - i, since the path lists the deepest sibling first. */
    size_t lo = 0, size = n, at = d;
    while (size > 1) {
        size_t k = s_split(size);
        at--;
        if (index - lo < k) {
            s_root(leaves + lo + k, size - k, path[at]);
            size = k;
        } else {
            s_root(leaves + lo, k, path[at]);
            lo += k;
            size -= k;
        }
    }
    *depth = d;
    return 0;
}

bool ledger_merkle_verify(const uint8_t leaf[static 32], size_t index, size_t n,
                          const uint8_t (*path)[32], size_t depth, const uint8_t root[static 32])
{
    if (index >= n || depth > LEDGER_MERKLE_DEPTH_MAX)
        return false;
    size_t fn = index, sn = n - 1;
    uint8_t r[32];
    s_leaf(leaf, r);
    for (size_t i = 0; i < depth; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1u) || fn == sn) {
            s_node(path[i], r, r);
            while (!(fn & 1u) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            s_node(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, 32) == 0;
}
