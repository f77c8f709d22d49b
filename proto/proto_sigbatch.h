/*  proto_sigbatch: the chain's Ed25519 signature rule (proto/PROTOCOL.md §2.1), checked one
 *  at a time or many at once.
 *
 *  Every signature a node judges goes through here: transactions in batches, envelopes,
 *  votes, proposals and peer records one at a time (proto_sig_verify is proto_sig_check).
 *  Checking N signatures together (one multi-scalar multiplication over a random linear
 *  combination) costs a fraction of N separate checks, less still when signers repeat
 *  (signatures by one key share one point of the multiplication). For a batch and a single check to
 *  agree on every input, both use the same "cofactored" rule, implemented here with this
 *  module's own group arithmetic (libsodium has no batch check, and the rule of its
 *  crypto_sign_verify_detached is cofactorless and has changed between releases):
 *
 *    a signature (R, s) by key A over MSG is valid when
 *      - s < L (the group order), A and R are canonical encodings of curve points
 *        (y < p; x = 0 only with the sign bit clear), neither of small order, and
 *      - [8](R + hA - sB) is the identity, with h = SHA-512(R || A || MSG) mod L.
 *
 *  libsodium 1.0.18's crypto_sign_verify_detached accepts a subset: it also refuses
 *  signatures whose R + hA - sB is a nonzero point of order 2, 4 or 8 (65 of the public
 *  edge-case vectors, listed by test_sigvectors). Only the key's owner can make those (with
 *  a key carrying a small-order component or a crafted R), and they prove as much as a
 *  standard signature does. What matters for consensus is that every node, single or
 *  batch, gives the same verdict: the batch equation is the single one scaled by random
 *  factors z_i of 128 bits with the lowest set (127 bits of entropy), so a batch with an
 *  invalid signature passes with probability at most 2^-127 and is then checked one by one.
 *
 *  Fast path: a single check (and a batch of one, which a random linear combination
 *  would not make cheaper) asks crypto_sign_verify_detached first, and
 *  runs this module's check only when libsodium refuses. Since libsodium 1.0.18 accepts
 *  only signatures the rule accepts, the verdicts are the rule's; the fast path is taken
 *  only with that library version (10.3), and test_sigvectors checks the premise on the
 *  public vectors and on random signatures with small-order components.
 *
 *  Stateless and thread-safe; a batch allocates scratch memory for up to
 *  PROTO_SIGBATCH_CHUNK signatures at a time (249,952 bytes, about 244 KiB, on x86-64:
 *  mostly the tables of odd multiples of the Straus multiplication used up to 72 points,
 *  and the digits and buckets of Pippenger's method used above).
 */
#ifndef GENIE_PROTO_SIGBATCH_H
#define GENIE_PROTO_SIGBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "proto/proto_err.h"

/*  Signatures checked by one multi-scalar multiplication. */
#define PROTO_SIGBATCH_CHUNK 128

/*  One signature to check. All pointers are borrowed. */
typedef struct {
    const uint8_t *pk;  /* 32-byte Ed25519 public key */
    const uint8_t *sig; /* 64-byte signature */
    const uint8_t *msg;
    size_t len;
} proto_sigcheck_t;

/*  True if SIG is PK's signature of MSG under the rule above. */
bool proto_sig_check(const uint8_t pk[static 32], const uint8_t *msg, size_t len,
                     const uint8_t sig[static 64]) PROTO_WUR;

/*  Decoded public keys, kept to skip the costly part of decoding a key seen before (a
 *  square root mod p: about a quarter of a batched check, since a signature's R must be
 *  decoded anyway). A fixed table of SLOTS entries (rounded up to a power of two, about
 *  80 bytes each) indexed by a keyed hash, two ways per index, newest first; a key that
 *  does not fit evicts an older one, so the table never grows. Only keys that decode (and
 *  are not of small order) are kept, so the verdicts are exactly those without the table.
 *  Thread-safe (an internal mutex, held only for a lookup or an insert). */
typedef struct proto_sigkeys_t proto_sigkeys_t;
/*  New empty table of SLOTS entries (at least 2, at most 2^20). NULL if memory ran out. */
proto_sigkeys_t *proto_sigkeys_new(size_t slots);
/*  Frees the table; tolerates NULL; sets *self_p to NULL. */
void proto_sigkeys_destroy(proto_sigkeys_t **self_p);
/*  Lookups that found their key, and all lookups, since the table was made. */
void proto_sigkeys_stats(proto_sigkeys_t *self, uint64_t *hits, uint64_t *lookups);

/*  Checks the N signatures in ITEMS: OK[i] is what proto_sig_check would answer for
 *  ITEMS[i] (except with probability 2^-128 per chunk). A chunk whose batch equation fails
 *  is checked one by one, so bad signatures cost about what N single checks cost. KEYS
 *  (may be NULL) is a table of decoded public keys to use and fill. Returns the number of
 *  valid signatures. */
size_t proto_sig_check_batch(proto_sigkeys_t *keys, const proto_sigcheck_t *items, size_t n,
                             bool *ok);

#endif
