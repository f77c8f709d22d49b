/*  ledger_merkle: the Merkle tree over a block's txids (the header's tx_root) and its
 *  audit paths, so that one tx's inclusion in a block is a proof of log2(n) hashes.
 *
 *  The tree is RFC 6962's (section 2.1) with our own hash domains (proto_hash,
 *  BLAKE2b-256 of domain || 0x00 || data):
 *    MTH({})      = H("genie/txroot/empty/v2", "")
 *    MTH({d0})    = H("genie/txroot/leaf/v2", d0)                 (d0 a 32-byte txid)
 *    MTH(D[0:n])  = H("genie/txroot/node/v2", MTH(D[0:k]) || MTH(D[k:n]))
 *                   for n > 1, k the largest power of two < n.
 *  Leaf and interior hashes use different domains, so no interior node can pass for a
 *  leaf (the second-preimage attack on plain Merkle trees). This is a consensus rule
 *  (proto/PROTOCOL.md, "Blocks").
 *
 *  An audit path lists the sibling subtree roots from the leaf up to the root (RFC 6962
 *  PATH order: deepest first); a tree of n leaves has paths of at most ceil(log2 n)
 *  hashes. Pure code: no allocation, no I/O (the light client in an enclave uses it).
 */
#ifndef GENIE_LEDGER_MERKLE_H
#define GENIE_LEDGER_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/* Deepest path supported: trees of up to 2^32 leaves (blocks hold at most 10,000 txs). */
#define LEDGER_MERKLE_DEPTH_MAX 32

#define LEDGER_MERKLE_LEAF_DOMAIN "genie/txroot/leaf/v2"
#define LEDGER_MERKLE_NODE_DOMAIN "genie/txroot/node/v2"
#define LEDGER_MERKLE_EMPTY_DOMAIN "genie/txroot/empty/v2"

/*  Root of the tree over the N 32-byte LEAVES (txids) into OUT. LEAVES may be NULL when
 *  N is 0. Cost: 2n - 1 hashes. */
void ledger_merkle_root(const uint8_t (*leaves)[32], size_t n, uint8_t out[static 32]);

/*  Audit path of leaf INDEX (< N) of the tree over the N LEAVES: *DEPTH hashes written to
 *  PATH, which has room for LEDGER_MERKLE_DEPTH_MAX. Returns 0, or LEDGER_E_INVALID when
 *  INDEX >= N or the tree is deeper than LEDGER_MERKLE_DEPTH_MAX (N > 2^32). Cost: about
 *  2n hashes (every sibling subtree root is computed). */
int ledger_merkle_path(const uint8_t (*leaves)[32], size_t n, size_t index, uint8_t path[][32],
                       size_t *depth) PROTO_WUR;

/*  True if LEAF (a txid, hashed here as a leaf) at INDEX of a tree of N leaves, with the
 *  DEPTH hashes of PATH, gives ROOT. False for INDEX >= N, a path of the wrong length for
 *  (INDEX, N), or any hash mismatch (RFC 9162 section 2.1.3.2's algorithm). */
bool ledger_merkle_verify(const uint8_t leaf[static 32], size_t index, size_t n,
                          const uint8_t (*path)[32], size_t depth, const uint8_t root[static 32]);

#endif
