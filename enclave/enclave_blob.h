/*  enclave_blob: the encrypted data blob a data owner stores at home and an enclave opens
 *  with the data key the owner granted it (issue 15, key-authorization donation).
 *
 *  Format (every length fixed by the declared plaintext length, so nothing is optional):
 *
 *      "GNDB" (4) || version (1, = ENCLAVE_BLOB_VERSION) || plaintext length (u64 BE, 8)
 *      || secretstream header (24)
 *      || chunk 1 || ... || chunk n
 *
 *  The stream is libsodium's crypto_secretstream_xchacha20poly1305 under the 32-byte data
 *  key. The plaintext is cut into ENCLAVE_BLOB_CHUNK (64 KiB) pieces; n = max(1,
 *  ceil(length / 64 KiB)); every chunk but the last is full and tagged TAG_MESSAGE, the
 *  last (possibly empty, for an empty plaintext) is tagged TAG_FINAL; each chunk is its
 *  plaintext plus ENCLAVE_BLOB_CHUNK_ABYTES (17). The first chunk carries the 37 header
 *  bytes (magic, version, length, stream header) as additional data, so the declared
 *  length and version are authenticated too. The blob's length is therefore exactly
 *  enclave_blob_sealed_len(length), and the opener refuses anything else: a truncated
 *  blob, trailing bytes, swapped or repeated chunks (secretstream's chunk counter), a
 *  final tag early or missing, a changed length or version, another key.
 *
 *  The blob's address is BLAKE2b-256 of its bytes (the content address of the owner's
 *  store, registered on the ledger with DATA_REGISTER).
 *
 *  Everything here works in memory and makes no system call besides allocation (and the
 *  random generator's getrandom when sealing), so it runs inside the locked-down enclave.
 */
#ifndef GENIE_ENCLAVE_BLOB_H
#define GENIE_ENCLAVE_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

#define ENCLAVE_BLOB_VERSION 1u
/* Plaintext bytes per chunk. */
#define ENCLAVE_BLOB_CHUNK (64u * 1024u)
/* Bytes each chunk adds (secretstream's ABYTES). */
#define ENCLAVE_BLOB_CHUNK_ABYTES 17u
/* Bytes before the first chunk: magic, version, length, secretstream header. */
#define ENCLAVE_BLOB_HEADER_LEN (4u + 1u + 8u + 24u)
/* Largest plaintext a blob may hold (64 MiB: far above the 1,000 KiB data files of today;
   a bound so a declared length can never ask for an absurd allocation). */
#define ENCLAVE_BLOB_MAX_PLAIN (64ull * 1024ull * 1024ull)
/* Key length. */
#define ENCLAVE_BLOB_KEY_LEN 32u

/*  The exact blob length for a plaintext of PLAIN_LEN bytes (PLAIN_LEN must be at most
 *  ENCLAVE_BLOB_MAX_PLAIN; 0 is returned for more). */
size_t enclave_blob_sealed_len(uint64_t plain_len);

/*  Makes a fresh random data key into KEY (secret: the caller wipes it). */
void enclave_blob_keygen(uint8_t key[static ENCLAVE_BLOB_KEY_LEN]);

/*  Encrypts DATA (LEN bytes; DATA may be NULL when LEN is 0) under KEY into a new blob.
 *  *OUT (malloc'd, caller frees with free(): it is ciphertext) gets the blob, *OUT_LEN its
 *  length (enclave_blob_sealed_len(LEN)). Returns 0; ENCLAVE_E_BLOB (LEN over
 *  ENCLAVE_BLOB_MAX_PLAIN); PROTO_E_NOMEM; PROTO_E_CRYPTO. *OUT is NULL on failure. */
int enclave_blob_seal(const uint8_t key[static ENCLAVE_BLOB_KEY_LEN], const uint8_t *data,
                      size_t len, uint8_t **out, size_t *out_len) PROTO_WUR;

/*  Decrypts BLOB (LEN bytes) with KEY. *DATA gets the plaintext in sodium_malloc'd memory
 *  (free it with enclave_blob_plain_free, which wipes it; a valid pointer even for an empty
 *  plaintext), *DATA_LEN its length. Returns 0; ENCLAVE_E_BLOB (not a blob of this format:
 *  magic, version, a declared length over the maximum, or a length that does not match
 *  the blob's size: truncation, trailing bytes); ENCLAVE_E_BLOB_DECRYPT (a chunk does not
 *  authenticate: another key, tampered, reordered or repeated chunks, a changed header, a
 *  misplaced final tag); PROTO_E_NOMEM. On failure *DATA is NULL and no plaintext remains
 *  in memory. */
int enclave_blob_open(const uint8_t key[static ENCLAVE_BLOB_KEY_LEN], const uint8_t *blob,
                      size_t len, uint8_t **data, size_t *data_len) PROTO_WUR;

/*  Wipes and frees a plaintext from enclave_blob_open (NULL is fine). */
void enclave_blob_plain_free(uint8_t *data);

/*  The declared plaintext length of BLOB (LEN bytes), read from its header without
 *  decrypting (not authenticated: only enclave_blob_open proves it). 0 and *PLAIN_LEN, or
 *  ENCLAVE_E_BLOB (short, bad magic or version, over the maximum, or LEN is not the
 *  size that length implies). */
int enclave_blob_peek_len(const uint8_t *blob, size_t len, uint64_t *plain_len) PROTO_WUR;

/*  The blob's content address: BLAKE2b-256 of BLOB (LEN bytes) into OUT. */
void enclave_blob_address(const uint8_t *blob, size_t len, uint8_t out[static 32]);

#endif
