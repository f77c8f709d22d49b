/*  enclave_quote: quotes, the platform's signed statement of what runs in an enclave, and
 *  their offline verification from genesis alone.
 *
 *  As in SGX: the enclave makes its key pairs inside and fills a report body (its Ed25519
 *  signing key, its X25519 box key, 64 bytes of report data it chooses, and the verifier's
 *  32-byte nonce); the platform (enclave_platform.h, playing the CPU and Intel's quoting
 *  enclave) adds the measurement of the code it started and the time, and signs the whole
 *  with its platform key. The quote travels with the platform's certificate
 *  (enclave_cert.h), issued by the attestation service named in genesis, so a verifier
 *  needs nothing but the AS public key: certificate signature and validity, platform key
 *  match, quote signature, revocations, measurement, nonce and freshness.
 *
 *  Wire form: a fixed-order msgpack array of 10
 *      [version, measurement (bin 32), enclave sign pk (bin 32), enclave box pk (bin 32),
 *       report data (bin 64), nonce (bin 32), time_ms, platform pk (bin 32),
 *       signature (bin 64), certificate (enclave_cert.h's array, or nil if uncertified)]
 *  The platform signs BLAKE2b-256("genie/enclave/quote/v1" || 0x00 || the first eight
 *  fields as an array of 8). Decoding is strict and canonical (encode(decode(b)) == b).
 */
#ifndef GENIE_ENCLAVE_QUOTE_H
#define GENIE_ENCLAVE_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_cert.h"
#include "proto/proto_err.h"
#include "proto/proto_mp.h"

#define ENCLAVE_QUOTE_VERSION 1
#define ENCLAVE_REPORT_DATA_LEN 64
#define ENCLAVE_NONCE_LEN 32
/*  Largest encoded quote (the real maximum is about 560 bytes). */
#define ENCLAVE_QUOTE_MAX_BYTES 1024

/*  What the enclave itself states (made inside the enclave). */
typedef struct {
    uint8_t sign_pk[32];                          /* enclave Ed25519 signing key */
    uint8_t box_pk[32];                           /* enclave X25519 box key */
    uint8_t report_data[ENCLAVE_REPORT_DATA_LEN]; /* enclave-chosen binding */
    uint8_t nonce[ENCLAVE_NONCE_LEN];             /* the verifier's challenge */
} enclave_report_body_t;

/*  A quote (plain data; copy freely). */
typedef struct {
    uint32_t version;
    uint8_t measurement[32];
    enclave_report_body_t body;
    uint64_t time_ms;        /* platform time when quoted (Unix ms) */
    uint8_t platform_pk[32]; /* Ed25519 key that signed */
    uint8_t sig[64];
    bool has_cert;       /* false: the platform was not certified when it quoted */
    enclave_cert_t cert; /* valid when has_cert */
} enclave_quote_t;

/*  Who is revoked. A callback answers for one key at a time; WHAT is
 *  ENCLAVE_REVOKED_PLATFORM or ENCLAVE_REVOKED_MEASUREMENT. */
enum { ENCLAVE_REVOKED_PLATFORM = 1, ENCLAVE_REVOKED_MEASUREMENT = 2 };
typedef bool (*enclave_revoked_fn)(void *ctx, int what, const uint8_t id[static 32]);

/*  What a verifier wants. Zero-initialise, then set what matters. All pointers borrowed. */
typedef struct {
    const uint8_t *want_measurement;        /* 32 bytes, or NULL for any measurement */
    const uint8_t *want_nonce;              /* 32 bytes, or NULL not to check the nonce */
    uint64_t now_ms;                        /* the verifier's time (Unix ms); certificates too */
    uint64_t max_age_ms;                    /* refuse quotes older than this; 0: no age limit */
    uint64_t max_skew_ms;                   /* tolerate quote times this far ahead of now_ms */
    const uint8_t (*revoked_platforms)[32]; /* list of revoked platform keys, or NULL */
    size_t n_revoked_platforms;
    const uint8_t (*revoked_measurements)[32]; /* list of revoked measurements, or NULL */
    size_t n_revoked_measurements;
    enclave_revoked_fn is_revoked; /* optional callback, asked after the lists */
    void *revoked_ctx;
} enclave_quote_policy_t;

/*  The 32-byte hash the platform signs (see above). */
void enclave_quote_signing_hash(const enclave_quote_t *q, uint8_t out[static 32]);

/*  Appends Q's wire form to W (errors stick in W). */
void enclave_quote_write(proto_wr_t *w, const enclave_quote_t *q);
/*  Encodes Q into a new malloc'd buffer (*OUT, *LEN; the caller frees it).
 *  Returns 0 or PROTO_E_NOMEM. */
int enclave_quote_encode(const enclave_quote_t *q, uint8_t **out, size_t *len) PROTO_WUR;

/*  Reads one quote from R (as embedded in a message or a tx). On error *OUT is zeroed and
 *  the reader's error is returned (PROTO_E_TRUNCATED, _TYPE, _ARITY, _TOO_LONG,
 *  _NONCANONICAL, _RANGE, _INVALID, _VERSION). */
int enclave_quote_read(proto_rd_t *r, enclave_quote_t *out) PROTO_WUR;
/*  Decodes exactly one quote filling BUF (LEN bytes, at most ENCLAVE_QUOTE_MAX_BYTES else
 *  PROTO_E_TOO_BIG; trailing bytes give PROTO_E_TRAILING). Checks no signature. */
int enclave_quote_decode(const uint8_t *buf, size_t len, enclave_quote_t *out) PROTO_WUR;

/*  Verifies Q offline against the AS public key AS_PK (from genesis) and the policy POL
 *  (required). Checks, in this order, each refusal its own code:
 *    PROTO_E_VERSION                 unknown quote version
 *    ENCLAVE_E_UNCERTIFIED           no certificate carried
 *    ENCLAVE_E_CERT_BAD_SIG          certificate not signed by AS_PK
 *    ENCLAVE_E_CERT_NOT_YET_VALID / ENCLAVE_E_CERT_EXPIRED   certificate window vs now_ms
 *    ENCLAVE_E_PLATFORM_MISMATCH     quote signed by a key other than the certified one
 *    ENCLAVE_E_REVOKED_PLATFORM      platform key in the list or the callback
 *    ENCLAVE_E_BAD_SIG               quote signature does not verify
 *    ENCLAVE_E_REVOKED_MEASUREMENT   measurement in the list or the callback
 *    ENCLAVE_E_MEASUREMENT_MISMATCH  not want_measurement
 *    ENCLAVE_E_NONCE_MISMATCH        not want_nonce
 *    ENCLAVE_E_FUTURE                time_ms > now_ms + max_skew_ms
 *    ENCLAVE_E_STALE                 max_age_ms and now_ms - time_ms > max_age_ms
 *  Returns 0 if all pass. Detail in ERR (ERR_CAP bytes, may be NULL). Signatures are
 *  checked with proto_sig_check (the chain's one Ed25519 rule). */
int enclave_quote_verify(const enclave_quote_t *q, const uint8_t as_pk[static 32],
                         const enclave_quote_policy_t *pol, char *err, size_t err_cap) PROTO_WUR;

#endif
