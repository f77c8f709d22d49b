/*  proto_sigbatch_int: proto_sigbatch's own field and group arithmetic, exposed to tests and
 *  fuzz harnesses only (tests/fuzz/fuzz_sigdiff.c checks it against libsodium's point
 *  operations, test_sigbatch reads the scratch size, test_sigvectors compares the single
 *  check's two paths). Nothing in the chain's code includes
 *  this header: it verifies signatures through proto_sigbatch.h.
 *
 *  Points are 32-byte encodings. An input point must decode as the signature rule decodes
 *  (canonical, on the curve; small order allowed), else the function returns false and
 *  writes nothing. Outputs are canonical encodings; the identity is 01 00 ... 00.
 *  Scalars are 256-bit little-endian integers, used unreduced.
 */
#ifndef GENIE_PROTO_SIGBATCH_INT_H
#define GENIE_PROTO_SIGBATCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  True if P decodes; *SMALL then says whether it is one of the points of small order. */
bool proto_sigint_decode(const uint8_t p[32], bool *small);
/*  OUT = P + Q (the unified addition used everywhere). */
bool proto_sigint_add(uint8_t out[32], const uint8_t p[32], const uint8_t q[32]);
/*  OUT = 2P (the doubling formulas). */
bool proto_sigint_dbl(uint8_t out[32], const uint8_t p[32]);
/*  OUT = [A]P + [B]Base: the Straus double multiplication of single checks. */
bool proto_sigint_mul2(uint8_t out[32], const uint8_t a[32], const uint8_t p[32],
                       const uint8_t b[32]);
/*  OUT = sum of [K[i]]P[i] for N points (1 .. 2 * PROTO_SIGBATCH_CHUNK + 1): the
 *  multi-scalar multiplication of batch checks (Straus up to 72 points, Pippenger's
 *  buckets above). False also if memory ran out. */
bool proto_sigint_msm(uint8_t out[32], size_t n, const uint8_t (*k)[32], const uint8_t (*p)[32]);
/*  True if P decodes and [8]P is the identity. */
bool proto_sigint_times8_identity(const uint8_t p[32]);
/*  The rule for one signature by this module's arithmetic alone, without the fast path
 *  through libsodium that proto_sig_check takes first (test_sigvectors compares them). */
bool proto_sig_check_rule(const uint8_t pk[static 32], const uint8_t *msg, size_t len,
                          const uint8_t sig[static 64]);
/*  Bytes of scratch memory one batch chunk allocates. */
size_t proto_sigint_scratch_bytes(void);

#endif
