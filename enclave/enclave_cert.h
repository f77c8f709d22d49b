/*  enclave_cert: platform certificates, the attestation service's word that a platform key
 *  belongs to a real enclave-runner platform.
 *
 *  The attestation service (AS) is named in genesis by its Ed25519 public key; it plays the
 *  role Intel's attestation service plays for SGX. A certificate binds a platform's Ed25519
 *  quote-signing key to the runner operating it (a name and a ledger account) for a time
 *  window, and is signed by the AS key. Anyone holding the AS public key (that is, anyone
 *  holding genesis) verifies it offline.
 *
 *  Wire form: a fixed-order msgpack array of 7
 *      [version, platform pk (bin 32), runner name (str <= 64), runner account (bin 32),
 *       issued_ms, expires_ms, signature (bin 64)]
 *  The signature is the AS key's Ed25519 signature of
 *      BLAKE2b-256("genie/enclave/cert/v1" || 0x00 || the first six fields as an array of 6).
 *  Decoding is strict (proto_mp.h: canonical encodings only, exact arity, no trailing bytes),
 *  so decode(encode(c)) == c and encode(decode(b)) == b.
 */
#ifndef GENIE_ENCLAVE_CERT_H
#define GENIE_ENCLAVE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"

#define ENCLAVE_CERT_VERSION 1
/*  Longest runner name, in bytes (UTF-8, no NUL). */
#define ENCLAVE_RUNNER_NAME_MAX 64
/*  Largest encoded certificate (the real maximum is about 220 bytes). */
#define ENCLAVE_CERT_MAX_BYTES 320

/*  A platform certificate (plain data; copy freely). */
typedef struct {
    uint32_t version;
    uint8_t platform_pk[32];                       /* Ed25519 quote-signing key */
    char runner_name[ENCLAVE_RUNNER_NAME_MAX + 1]; /* NUL-terminated, not empty */
    uint8_t runner_account[32];                    /* the runner's ledger account */
    uint64_t issued_ms;                            /* valid from (Unix ms, inclusive) */
    uint64_t expires_ms;                           /* valid until (exclusive), > issued_ms */
    uint8_t sig[64];                               /* the AS signature */
} enclave_cert_t;

/*  Issues a certificate: fills OUT and signs it with AS_KEY (the attestation service's key,
 *  borrowed). RUNNER_NAME: 1..64 bytes of UTF-8 without control characters.
 *  Returns 0, PROTO_E_INVALID (bad name, or EXPIRES_MS <= ISSUED_MS) or PROTO_E_NOMEM; the
 *  detail goes to ERR (ERR_CAP bytes, may be NULL). `genie attest certify` calls this. */
int enclave_cert_issue(const proto_key_t *as_key, const uint8_t platform_pk[static 32],
                       const char *runner_name, const uint8_t runner_account[static 32],
                       uint64_t issued_ms, uint64_t expires_ms, enclave_cert_t *out, char *err,
                       size_t err_cap) PROTO_WUR;

/*  The 32-byte hash the AS signs (see above). */
void enclave_cert_signing_hash(const enclave_cert_t *cert, uint8_t out[static 32]);

/*  Appends CERT's wire form to W (errors stick in W). */
void enclave_cert_write(proto_wr_t *w, const enclave_cert_t *cert);
/*  Encodes CERT into a new malloc'd buffer (*OUT, *LEN; the caller frees it).
 *  Returns 0 or PROTO_E_NOMEM. */
int enclave_cert_encode(const enclave_cert_t *cert, uint8_t **out, size_t *len) PROTO_WUR;

/*  Reads one certificate from R (as embedded in a quote). On error *OUT is zeroed and the
 *  reader's error code is returned (PROTO_E_TRUNCATED, _TYPE, _ARITY, _TOO_LONG,
 *  _NONCANONICAL, _RANGE, _INVALID, _VERSION). */
int enclave_cert_read(proto_rd_t *r, enclave_cert_t *out) PROTO_WUR;
/*  Decodes exactly one certificate filling BUF (LEN bytes; no trailing bytes, at most
 *  ENCLAVE_CERT_MAX_BYTES, else PROTO_E_TOO_BIG). Errors as enclave_cert_read, plus
 *  PROTO_E_TRAILING. Does not check the signature (enclave_cert_verify does). */
int enclave_cert_decode(const uint8_t *buf, size_t len, enclave_cert_t *out) PROTO_WUR;

/*  Verifies CERT against the AS public key from genesis at time NOW_MS:
 *  ENCLAVE_E_CERT_BAD_SIG (signature, or a field out of its domain),
 *  ENCLAVE_E_CERT_NOT_YET_VALID (NOW_MS < issued_ms), ENCLAVE_E_CERT_EXPIRED
 *  (NOW_MS >= expires_ms), PROTO_E_VERSION, or 0. Detail in ERR. */
int enclave_cert_verify(const enclave_cert_t *cert, const uint8_t as_pk[static 32], uint64_t now_ms,
                        char *err, size_t err_cap) PROTO_WUR;

#endif
