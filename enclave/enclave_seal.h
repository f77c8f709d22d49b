/*  enclave_seal: encryption to an enclave, and sealing an enclave's state to disk.
 *
 *  (a) To an enclave (end to end, anonymous sender). The sender makes a fresh X25519 key
 *      pair per message; the key is BLAKE2b-256("genie/enclave/seal-to/v1" || 0x00 ||
 *      X25519(ephemeral secret, enclave box pk) || ephemeral pk || enclave box pk), used
 *      once with XChaCha20-Poly1305-IETF (zero nonce: the key never repeats) and the
 *      CONTEXT as associated data. Sealed form: ephemeral pk (32) || ciphertext || tag (16).
 *      Only the holder of the enclave's box secret key opens it (the runner relays it
 *      and holds public keys only); bytes sealed under one context (e.g. a donation for
 *      one model spec and one data id, enclave_seal_donation_context) do not open under
 *      another (a wrong context is indistinguishable from tampering: both give
 *      PROTO_E_DECRYPT).
 *  (b) To disk. XChaCha20-Poly1305-IETF under the platform's seal key for the enclave's
 *      measurement (enclave_platform_seal_key), with a random 24-byte nonce and the
 *      measurement (framed by a domain tag) as associated data, so another binary or
 *      another platform cannot unseal. Sealed form: version (1) || nonce (24) ||
 *      ciphertext || tag (16).
 *
 *  Both work on caller buffers (no allocation) and make no system call besides the
 *  random generator's getrandom, so they run inside the locked-down enclave.
 */
#ifndef GENIE_ENCLAVE_SEAL_H
#define GENIE_ENCLAVE_SEAL_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/*  Longest plaintext sealed either way. */
#define ENCLAVE_SEAL_MAX_PLAIN (256u * 1024u * 1024u)
/*  Longest context. */
#define ENCLAVE_SEAL_CONTEXT_MAX 256
/*  Bytes enclave_seal_to adds to the plaintext. */
#define ENCLAVE_SEAL_TO_OVERHEAD (32u + 16u)
/*  Bytes enclave_seal_disk adds to the plaintext. */
#define ENCLAVE_SEAL_DISK_OVERHEAD (1u + 24u + 16u)
/*  Length of a donation context. */
#define ENCLAVE_SEAL_DONATION_CONTEXT_LEN (16u + 32u + 32u)

/*  Writes the context of a donation, "genie/donation/1" (16 bytes) || SPEC_ID || DATA_ID,
 *  into OUT. Both the donor and the training enclave build it from the request. */
void enclave_seal_donation_context(const uint8_t spec_id[static 32],
                                   const uint8_t data_id[static 32],
                                   uint8_t out[static ENCLAVE_SEAL_DONATION_CONTEXT_LEN]);

/*  Sealed length for PLAIN_LEN bytes (PLAIN_LEN + ENCLAVE_SEAL_TO_OVERHEAD). */
size_t enclave_seal_to_len(size_t plain_len);
/*  Plaintext length of SEALED_LEN sealed bytes (0 if shorter than the overhead). */
size_t enclave_seal_open_len(size_t sealed_len);

/*  Seals PLAIN (LEN bytes) to the enclave box key BOX_PK under CONTEXT (CTX_LEN bytes, may
 *  be 0) into OUT (OUT_CAP bytes, at least enclave_seal_to_len(LEN)); *OUT_LEN gets the
 *  length. Returns 0; PROTO_E_TOO_BIG (LEN or CTX_LEN over its maximum, or OUT_CAP too
 *  small); PROTO_E_CRYPTO (BOX_PK is a low-order point). */
int enclave_seal_to(const uint8_t box_pk[static 32], const uint8_t *context, size_t ctx_len,
                    const uint8_t *plain, size_t len, uint8_t *out, size_t out_cap,
                    size_t *out_len) PROTO_WUR;

/*  Opens SEALED (LEN bytes) with the enclave's box key pair (BOX_PK, BOX_SK, borrowed)
 *  under CONTEXT into OUT (OUT_CAP bytes, at least enclave_seal_open_len(LEN)).
 *  Returns 0; PROTO_E_TRUNCATED (shorter than the overhead); PROTO_E_TOO_BIG;
 *  PROTO_E_DECRYPT (another key, another context, or tampered bytes; OUT is wiped). */
int enclave_seal_open(const uint8_t box_pk[static 32], const uint8_t box_sk[static 32],
                      const uint8_t *context, size_t ctx_len, const uint8_t *sealed, size_t len,
                      uint8_t *out, size_t out_cap, size_t *out_len) PROTO_WUR;

/*  Sealed-to-disk length for PLAIN_LEN bytes (PLAIN_LEN + ENCLAVE_SEAL_DISK_OVERHEAD). */
size_t enclave_seal_disk_len(size_t plain_len);
/*  Plaintext length of SEALED_LEN disk-sealed bytes (0 if shorter than the overhead). */
size_t enclave_seal_disk_open_len(size_t sealed_len);

/*  Seals PLAIN (LEN bytes) under SEAL_KEY for MEASUREMENT into OUT (OUT_CAP bytes, at least
 *  enclave_seal_disk_len(LEN)). Returns 0 or PROTO_E_TOO_BIG. */
int enclave_seal_disk(const uint8_t seal_key[static 32], const uint8_t measurement[static 32],
                      const uint8_t *plain, size_t len, uint8_t *out, size_t out_cap,
                      size_t *out_len) PROTO_WUR;

/*  Unseals what enclave_seal_disk made. Returns 0; PROTO_E_TRUNCATED; PROTO_E_VERSION;
 *  PROTO_E_TOO_BIG (OUT_CAP too small); PROTO_E_DECRYPT (another key or measurement, or
 *  tampered bytes; OUT is wiped). */
int enclave_seal_disk_open(const uint8_t seal_key[static 32], const uint8_t measurement[static 32],
                           const uint8_t *sealed, size_t len, uint8_t *out, size_t out_cap,
                           size_t *out_len) PROTO_WUR;

#endif
