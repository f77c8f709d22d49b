/*  proto_attest: platform certificates and quotes, the wire forms of genie's (simulated,
 *  SGX-shaped) remote attestation, and their offline verification from the attestation
 *  service's public key alone.
 *
 *  These are pure functions over bytes (libsodium and proto_mp only), so every layer can
 *  check an enclave's attestation: enclave/ makes quotes (enclave_platform.h), the ledger's
 *  ENCLAVE_REGISTER contract verifies them against the key genesis names, and `genie quote
 *  verify` checks a quote file. Refusals use the attestation codes of the enclave range of
 *  proto_err.h (ENCLAVE_E_BAD_SIG .. ENCLAVE_E_FUTURE): they name what was wrong with an
 *  attestation wherever it is checked. PROTOCOL.md ("Attestation") documents both formats.
 *
 *  ---- Platform certificates ----
 *
 *  The attestation service (AS) is named in genesis by its Ed25519 public key; it plays the
 *  role Intel's attestation service plays for SGX. A certificate binds a platform's Ed25519
 *  quote-signing key to the runner operating it (a name and a ledger account) for a time
 *  window, and is signed by the AS key.
 *
 *  Wire form: a fixed-order msgpack array of 7
 *      [version, platform pk (bin 32), runner name (str <= 64), runner account (bin 32),
 *       issued_ms, expires_ms, signature (bin 64)]
 *  The signature is the AS key's Ed25519 signature of
 *      BLAKE2b-256("genie/enclave/cert/v1" || 0x00 || the first six fields as an array of 6).
 *
 *  ---- Quotes ----
 *
 *  As in SGX: the enclave makes its key pairs inside and fills a report body (its Ed25519
 *  signing key, its X25519 box key, 64 bytes of report data it chooses, and the verifier's
 *  32-byte nonce); the platform adds the measurement of the code it started and the time,
 *  and signs the whole with its platform key. The quote travels with the platform's
 *  certificate, so a verifier needs nothing but the AS public key.
 *
 *  Wire form: a fixed-order msgpack array of 10
 *      [version, measurement (bin 32), enclave sign pk (bin 32), enclave box pk (bin 32),
 *       report data (bin 64), nonce (bin 32), time_ms, platform pk (bin 32),
 *       signature (bin 64), certificate (the array above, or nil if uncertified)]
 *  The platform signs BLAKE2b-256("genie/enclave/quote/v1" || 0x00 || the first eight
 *  fields as an array of 8).
 *
 *  Decoding is strict (proto_mp.h: canonical encodings only, exact arity, no trailing
 *  bytes), so decode(encode(x)) == x and encode(decode(b)) == b.
 */
#ifndef GENIE_PROTO_ATTEST_H
#define GENIE_PROTO_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"

/* ---- platform certificates ---- */

#define PROTO_ATTEST_CERT_VERSION 1
/*  Longest runner name, in bytes (UTF-8, no NUL). */
#define PROTO_ATTEST_RUNNER_NAME_MAX 64
/*  Largest encoded certificate (the real maximum is about 220 bytes). */
#define PROTO_ATTEST_CERT_MAX_BYTES 320

/*  A platform certificate (plain data; copy freely). */
typedef struct {
    uint32_t version;
    uint8_t platform_pk[32];                            /* Ed25519 quote-signing key */
    char runner_name[PROTO_ATTEST_RUNNER_NAME_MAX + 1]; /* NUL-terminated, not empty */
    uint8_t runner_account[32];                         /* the runner's ledger account */
    uint64_t issued_ms;                                 /* valid from (Unix ms, inclusive) */
    uint64_t expires_ms;                                /* valid until (exclusive), > issued_ms */
    uint8_t sig[64];                                    /* the AS signature */
} proto_attest_cert_t;

/*  Issues a certificate: fills OUT and signs it with AS_KEY (the attestation service's key,
 *  borrowed). RUNNER_NAME: 1..64 bytes of UTF-8 without control characters.
 *  Returns 0, PROTO_E_INVALID (bad name, or EXPIRES_MS <= ISSUED_MS) or PROTO_E_NOMEM; the
 *  detail goes to ERR (ERR_CAP bytes, may be NULL). `genie attest certify` calls this. */
int proto_attest_cert_issue(const proto_key_t *as_key, const uint8_t platform_pk[static 32],
                            const char *runner_name, const uint8_t runner_account[static 32],
                            uint64_t issued_ms, uint64_t expires_ms, proto_attest_cert_t *out,
                            char *err, size_t err_cap) PROTO_WUR;

/*  The 32-byte hash the AS signs (see above). */
void proto_attest_cert_signing_hash(const proto_attest_cert_t *cert, uint8_t out[static 32]);

/*  Appends CERT's wire form to W (errors stick in W). */
void proto_attest_cert_write(proto_wr_t *w, const proto_attest_cert_t *cert);
/*  Encodes CERT into a new malloc'd buffer (*OUT, *LEN; the caller frees it).
 *  Returns 0 or PROTO_E_NOMEM. */
int proto_attest_cert_encode(const proto_attest_cert_t *cert, uint8_t **out, size_t *len) PROTO_WUR;

/*  Reads one certificate from R (as embedded in a quote). On error *OUT is zeroed and the
 *  reader's error code is returned (PROTO_E_TRUNCATED, _TYPE, _ARITY, _TOO_LONG,
 *  _NONCANONICAL, _RANGE, _INVALID, _VERSION). */
int proto_attest_cert_read(proto_rd_t *r, proto_attest_cert_t *out) PROTO_WUR;
/*  Decodes exactly one certificate filling BUF (LEN bytes; no trailing bytes, at most
 *  PROTO_ATTEST_CERT_MAX_BYTES, else PROTO_E_TOO_BIG). Errors as proto_attest_cert_read, plus
 *  PROTO_E_TRAILING. Does not check the signature (proto_attest_cert_verify does). */
int proto_attest_cert_decode(const uint8_t *buf, size_t len, proto_attest_cert_t *out) PROTO_WUR;

/*  Verifies CERT against the AS public key from genesis at time NOW_MS:
 *  ENCLAVE_E_CERT_BAD_SIG (signature, or a field out of its domain),
 *  ENCLAVE_E_CERT_NOT_YET_VALID (NOW_MS < issued_ms), ENCLAVE_E_CERT_EXPIRED
 *  (NOW_MS >= expires_ms), PROTO_E_VERSION, or 0. Detail in ERR. */
int proto_attest_cert_verify(const proto_attest_cert_t *cert, const uint8_t as_pk[static 32],
                             uint64_t now_ms, char *err, size_t err_cap) PROTO_WUR;

/* ---- quotes ---- */

#define PROTO_ATTEST_QUOTE_VERSION 1
#define PROTO_ATTEST_REPORT_DATA_LEN 64
#define PROTO_ATTEST_NONCE_LEN 32
/*  Largest encoded quote (the real maximum is about 560 bytes). */
#define PROTO_ATTEST_QUOTE_MAX_BYTES 1024

/*  What the enclave itself states (made inside the enclave). */
typedef struct {
    uint8_t sign_pk[32];                               /* enclave Ed25519 signing key */
    uint8_t box_pk[32];                                /* enclave X25519 box key */
    uint8_t report_data[PROTO_ATTEST_REPORT_DATA_LEN]; /* enclave-chosen binding */
    uint8_t nonce[PROTO_ATTEST_NONCE_LEN];             /* the verifier's challenge */
} proto_attest_body_t;

/*  A quote (plain data; copy freely). */
typedef struct {
    uint32_t version;
    uint8_t measurement[32];
    proto_attest_body_t body;
    uint64_t time_ms;        /* platform time when quoted (Unix ms) */
    uint8_t platform_pk[32]; /* Ed25519 key that signed */
    uint8_t sig[64];
    bool has_cert;            /* false: the platform was not certified when it quoted */
    proto_attest_cert_t cert; /* valid when has_cert */
} proto_attest_quote_t;

/*  Who is revoked. A callback answers for one key at a time; WHAT is
 *  PROTO_ATTEST_REVOKED_PLATFORM or PROTO_ATTEST_REVOKED_MEASUREMENT. */
enum { PROTO_ATTEST_REVOKED_PLATFORM = 1, PROTO_ATTEST_REVOKED_MEASUREMENT = 2 };
typedef bool (*proto_attest_revoked_fn)(void *ctx, int what, const uint8_t id[static 32]);

/*  What a verifier wants. Zero-initialise, then set what matters. All pointers borrowed. */
typedef struct {
    const uint8_t *want_measurement; /* 32 bytes, or NULL for any measurement */
    const uint8_t *want_nonce;       /* 32 bytes, or NULL not to check the nonce */
    uint64_t now_ms;                 /* the verifier's time (Unix ms); certificates too */
    uint64_t max_age_ms;             /* refuse quotes older than this; 0: no age limit */
    uint64_t max_skew_ms;            /* tolerate quote times this far ahead of now_ms */
    uint64_t cert_skew_ms; /* tolerate certificates issued this far after now_ms (a verifier
                              whose clock lags, e.g. the ledger's block time); 0: none */
    const uint8_t (*revoked_platforms)[32]; /* list of revoked platform keys, or NULL */
    size_t n_revoked_platforms;
    const uint8_t (*revoked_measurements)[32]; /* list of revoked measurements, or NULL */
    size_t n_revoked_measurements;
    proto_attest_revoked_fn is_revoked; /* optional callback, asked after the lists */
    void *revoked_ctx;
} proto_attest_policy_t;

/*  The 32-byte hash the platform signs (see above). */
void proto_attest_quote_signing_hash(const proto_attest_quote_t *q, uint8_t out[static 32]);

/*  Appends Q's wire form to W (errors stick in W). */
void proto_attest_quote_write(proto_wr_t *w, const proto_attest_quote_t *q);
/*  Encodes Q into a new malloc'd buffer (*OUT, *LEN; the caller frees it).
 *  Returns 0 or PROTO_E_NOMEM. */
int proto_attest_quote_encode(const proto_attest_quote_t *q, uint8_t **out, size_t *len) PROTO_WUR;

/*  Reads one quote from R (as embedded in a message or a tx). On error *OUT is zeroed and
 *  the reader's error is returned (PROTO_E_TRUNCATED, _TYPE, _ARITY, _TOO_LONG,
 *  _NONCANONICAL, _RANGE, _INVALID, _VERSION). */
int proto_attest_quote_read(proto_rd_t *r, proto_attest_quote_t *out) PROTO_WUR;
/*  Decodes exactly one quote filling BUF (LEN bytes, at most PROTO_ATTEST_QUOTE_MAX_BYTES else
 *  PROTO_E_TOO_BIG; trailing bytes give PROTO_E_TRAILING). Checks no signature. */
int proto_attest_quote_decode(const uint8_t *buf, size_t len, proto_attest_quote_t *out) PROTO_WUR;

/*  Verifies Q offline against the AS public key AS_PK (from genesis) and the policy POL
 *  (required). Checks, in this order, each refusal its own code:
 *    PROTO_E_VERSION                 unknown quote version
 *    ENCLAVE_E_UNCERTIFIED           no certificate carried
 *    ENCLAVE_E_CERT_BAD_SIG          certificate not signed by AS_PK
 *    ENCLAVE_E_CERT_NOT_YET_VALID / ENCLAVE_E_CERT_EXPIRED   certificate window vs now_ms
 *                                    (issued at most cert_skew_ms after now_ms is accepted)
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
int proto_attest_quote_verify(const proto_attest_quote_t *q, const uint8_t as_pk[static 32],
                              const proto_attest_policy_t *pol, char *err,
                              size_t err_cap) PROTO_WUR;

/* ---- enclave kinds and the report data that binds them ---- */

/*  The enclave kinds (the values of enclave_wire's enclave_kind_t and of the ledger's
 *  ENCLAVE_REGISTER body). */
enum {
    PROTO_ATTEST_KIND_VALIDATION = 1,
    PROTO_ATTEST_KIND_TRAINING = 2,
    PROTO_ATTEST_KIND_QUERY = 3
};
/*  The version of the enclave protocol the report data names (enclave_wire's). */
#define PROTO_ATTEST_REPORT_DATA_VERSION 1u

/*  "validation", "training" or "query"; NULL for any other value. */
const char *proto_attest_kind_name(uint32_t kind);

/*  The length of a chain id (the ledger's genesis hash, ledger_genesis_chain_id). */
#define PROTO_ATTEST_CHAIN_ID_LEN 32

/*  The 64 report-data bytes an honest enclave of KIND bound at INIT to the chain CHAIN_ID
 *  puts in its report body, so a quote says which kind it was started as and which one
 *  chain it follows:
 *      BLAKE2b-512("genie-enclave report data v2" || 0x00 || kind name || 0x00 || version u8
 *                  || chain id (32))
 *  (for a KIND without a name, the name and its NUL are left out). A verifier compares it
 *  with the value for its own chain id: a quote bound to another chain never matches. */
void proto_attest_report_data(uint32_t kind,
                              const uint8_t chain_id[static PROTO_ATTEST_CHAIN_ID_LEN],
                              uint8_t out[static PROTO_ATTEST_REPORT_DATA_LEN]);

#endif
