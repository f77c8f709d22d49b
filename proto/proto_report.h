/*  proto_report: what an enclave signs for the outside world: validation reports,
 *  donation receipts, and the salted data commitment both carry.
 *
 *  Both are signed by the enclave's Ed25519 signing key (the one its quote attests, made
 *  inside the enclave), so a verifier who accepted the quote accepts what the key signs.
 *  Each is a fixed-order msgpack array whose last element is the signature of
 *  BLAKE2b-256(domain || 0x00 || the other fields as an array), with its own domain:
 *    validation report "genie/enclave/validation-report/v1", an array of 9:
 *      [version, enclave sign pk (bin 32), data commitment (bin 32), data type (1 genotype,
 *       2 phenotype), record count, checks run, checks passed (<= checks run), time_ms,
 *       signature (bin 64)]
 *    donation receipt  "genie/enclave/donation-receipt/v1", an array of 8:
 *      [version, enclave sign pk (bin 32), model spec id (bin 32), data id (bin 32),
 *       donor account (bin 32), data commitment (bin 32), time_ms, signature (bin 64)]
 *  (A usage report for queries will be a third structure with a third domain.)
 *  Decoders are strict and canonical. Signing and verifying make no system call, so they
 *  run inside the locked-down enclave.
 *
 *  The data commitment is keyed, never a plain hash (genotypes are guessable):
 *      commitment = BLAKE2b-256 keyed with SALT (32 random bytes the owner keeps) of
 *                   "genie/data-commit/v1" || 0x00 || data
 */
#ifndef GENIE_PROTO_REPORT_H
#define GENIE_PROTO_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_mp.h"

#define PROTO_REPORT_VERSION 1
#define PROTO_RECEIPT_VERSION 1
/*  Largest encoded report or receipt (both are about 200 bytes). */
#define PROTO_REPORT_MAX_BYTES 320

/*  Data types a validation report names (the values ml/ uses too). */
enum { PROTO_DATA_GENOTYPE = 1, PROTO_DATA_PHENOTYPE = 2 };

/*  A validation report (plain data). */
typedef struct {
    uint32_t version;
    uint8_t enclave_pk[32];      /* the signing enclave's Ed25519 key */
    uint8_t data_commitment[32]; /* proto_data_commit(salt, data) */
    uint8_t data_type;           /* PROTO_DATA_* */
    uint64_t record_count;
    uint32_t checks_run;
    uint32_t checks_passed;
    uint64_t time_ms;
    uint8_t sig[64];
} proto_report_t;

/*  A donation receipt (plain data). */
typedef struct {
    uint32_t version;
    uint8_t enclave_pk[32];
    uint8_t spec_id[32];         /* the model spec donated to */
    uint8_t data_id[32];         /* the data registration donated */
    uint8_t donor[32];           /* the donor's ledger account */
    uint8_t data_commitment[32]; /* the commitment the enclave recomputed and matched */
    uint64_t time_ms;
    uint8_t sig[64];
} proto_receipt_t;

/*  The salted commitment to DATA (LEN bytes) under SALT, into OUT (see above). */
void proto_data_commit(const uint8_t salt[static 32], const uint8_t *data, size_t len,
                       uint8_t out[static 32]);

/* ---- validation reports ---- */

/*  Signs R with the enclave's libsodium Ed25519 secret key SIGN_SK (64 bytes, borrowed):
 *  sets r->version and r->enclave_pk (from SIGN_SK), then r->sig over every other field.
 *  Returns 0; PROTO_E_INVALID (data type not 1 or 2, or checks_passed > checks_run);
 *  PROTO_E_NOMEM. */
int proto_report_sign(proto_report_t *r, const uint8_t sign_sk[static 64]) PROTO_WUR;
void proto_report_signing_hash(const proto_report_t *r, uint8_t out[static 32]);
void proto_report_write(proto_wr_t *w, const proto_report_t *r);
/*  New malloc'd encoding in *OUT, *LEN (the caller frees it). 0 or PROTO_E_NOMEM. */
int proto_report_encode(const proto_report_t *r, uint8_t **out, size_t *len) PROTO_WUR;
/*  Strict reads (errors as proto_mp.h's reader, plus PROTO_E_VERSION, PROTO_E_INVALID for
 *  a field out of its domain; *OUT zeroed on error). decode also refuses trailing bytes and
 *  more than PROTO_REPORT_MAX_BYTES (PROTO_E_TOO_BIG). */
int proto_report_read(proto_rd_t *rd, proto_report_t *out) PROTO_WUR;
int proto_report_decode(const uint8_t *buf, size_t len, proto_report_t *out) PROTO_WUR;
/*  Verifies R's signature by r->enclave_pk; with WANT_PK (32 bytes, or NULL) also that the
 *  signer is that key (the one a verified quote attests). Returns 0,
 *  ENCLAVE_E_SIGNER_MISMATCH, ENCLAVE_E_REPORT_BAD_SIG (also for a field out of its
 *  domain), PROTO_E_VERSION or PROTO_E_NOMEM. */
int proto_report_verify(const proto_report_t *r, const uint8_t *want_pk) PROTO_WUR;

/* ---- donation receipts ---- */

/*  As proto_report_sign, for a receipt. Returns 0 or PROTO_E_NOMEM. */
int proto_receipt_sign(proto_receipt_t *r, const uint8_t sign_sk[static 64]) PROTO_WUR;
void proto_receipt_signing_hash(const proto_receipt_t *r, uint8_t out[static 32]);
void proto_receipt_write(proto_wr_t *w, const proto_receipt_t *r);
int proto_receipt_encode(const proto_receipt_t *r, uint8_t **out, size_t *len) PROTO_WUR;
int proto_receipt_read(proto_rd_t *rd, proto_receipt_t *out) PROTO_WUR;
int proto_receipt_decode(const uint8_t *buf, size_t len, proto_receipt_t *out) PROTO_WUR;
/*  As proto_report_verify. */
int proto_receipt_verify(const proto_receipt_t *r, const uint8_t *want_pk) PROTO_WUR;

#endif
