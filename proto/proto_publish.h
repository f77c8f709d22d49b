/*  proto_publish: what enclaves sign about trained models and paid queries (issue 16):
 *  the model publication a training job's coordinating (aggregation) enclave signs, the
 *  usage report a query enclave signs for one buy, and the access code's hash.
 *
 *  Both are signed like proto_report's structures: a fixed-order msgpack array whose last
 *  element is the Ed25519 signature of BLAKE2b-256(domain || 0x00 || the other fields as
 *  an array), by the enclave signing key its quote attests.
 *
 *    model publication "genie/enclave/model-publication/v1", an array of 14:
 *      [version (1), job_id bin32, spec_id bin32, model_hash bin32, n_train u32,
 *       n_test u32, metrics [[name str, value int64]...] (0..8), records_root bin32,
 *       n_records u32, bitmap bin (1..8192 bytes), parties [[enclave_id bin32,
 *       n_records u32, weight_bp u32]...] (1..16), time_ms u64, enclave_pk bin32,
 *       sig bin64]
 *    usage report "genie/enclave/usage-report/v1", an array of 7:
 *      [version (1), model_id bin32, buy_id bin32, count u64, time_ms u64,
 *       enclave_pk bin32, sig bin64]
 *
 *  Publication rules (sign, decode and verify all enforce them; PROTO_E_INVALID):
 *  - metric names are [a-z0-9_]{1,16}, pairwise distinct; values are signed integers in
 *    millionths (value_micro), written in msgpack's shortest int form;
 *  - n_records >= 1 is the number of set bits of the bitmap and the sum of the parties'
 *    n_records; the bitmap (bit i = byte i/8, bit i%8 LSB first = donor seq i of the spec
 *    was used) has no trailing zero byte (its last byte is nonzero: one encoding per set);
 *  - parties' enclave ids are pairwise distinct, their weights sum to exactly 10000 basis
 *    points, party 0 has n_records >= 1 (the settlement's rounding remainder goes to it)
 *    and a party with no records has weight 0 (nothing it could pay out).
 *  What the ledger adds (the job, the enclaves, the donors behind the bits, records_root
 *  over their data ids) is in ledger/ledger_contract_model.c.
 *
 *  records_root = H("genie/records/v1", the data ids sorted ascending (memcmp) and
 *  concatenated), proto_hash's domain rule; an empty set hashes the empty string.
 *  Access code hash = H("genie/access-code/v1", code) for the 32-byte random code a buyer
 *  keeps (the QUERY_BUY tx carries only the hash).
 *
 *  Decoders are strict and canonical (decode(encode(x)) and encode(decode(b)) are
 *  identities); signing and verifying make no system call (they run in the enclave).
 */
#ifndef GENIE_PROTO_PUBLISH_H
#define GENIE_PROTO_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"
#include "proto/proto_mp.h"

#define PROTO_PUBLISH_VERSION 1
#define PROTO_USAGE_VERSION 1
#define PROTO_PUBLISH_PARTIES_MAX 16
#define PROTO_PUBLISH_METRICS_MAX 8
#define PROTO_PUBLISH_METRIC_NAME_MAX 16
#define PROTO_PUBLISH_BITMAP_MAX 8192 /* bytes: up to 65,536 donors of a spec */
#define PROTO_PUBLISH_WEIGHTS_BP 10000
#define PROTO_PUBLISH_MAX_BYTES 12288
#define PROTO_USAGE_MAX_BYTES 320

typedef struct {
    uint8_t enclave_id[32]; /* ledger_enclave_id of the party's signing key */
    uint32_t n_records;     /* records of this party among the used ones */
    uint32_t weight_bp;     /* contribution weight, basis points */
} proto_publish_party_t;

typedef struct {
    char name[PROTO_PUBLISH_METRIC_NAME_MAX + 1]; /* [a-z0-9_]{1,16}, NUL-terminated */
    int64_t value_micro;                          /* the value times 1,000,000 */
} proto_publish_metric_t;

/*  A model publication (plain data, about 8.7 KiB: keep it off small stacks). */
typedef struct {
    uint32_t version; /* PROTO_PUBLISH_VERSION */
    uint8_t job_id[32];
    uint8_t spec_id[32];
    uint8_t model_hash[32];   /* ml_model_hash of the published model */
    uint32_t n_train, n_test; /* samples */
    size_t n_metrics;
    proto_publish_metric_t metrics[PROTO_PUBLISH_METRICS_MAX];
    uint8_t records_root[32]; /* proto_publish_records_root of the used data ids */
    uint32_t n_records;       /* records used */
    size_t bitmap_len;
    uint8_t bitmap[PROTO_PUBLISH_BITMAP_MAX];
    size_t n_parties;
    proto_publish_party_t parties[PROTO_PUBLISH_PARTIES_MAX];
    uint64_t time_ms;
    uint8_t enclave_pk[32]; /* the coordinating (aggregation) enclave's signing key */
    uint8_t sig[64];
} proto_publish_t;

/*  A usage report (plain data). */
typedef struct {
    uint32_t version; /* PROTO_USAGE_VERSION */
    uint8_t model_id[32];
    uint8_t buy_id[32];
    uint64_t count; /* queries served for this buy by this enclave, cumulative */
    uint64_t time_ms;
    uint8_t enclave_pk[32]; /* the query enclave's signing key */
    uint8_t sig[64];
} proto_usage_t;

/* ---- records root and access code ---- */

/*  records_root of the N data ids IDS (any order, borrowed) into OUT. Sorts a copy: returns
 *  PROTO_OK, or PROTO_E_NOMEM (OUT zeroed) when the copy cannot be allocated. N = 0 is the
 *  empty set. */
int proto_publish_records_root(const uint8_t (*ids)[32], size_t n, uint8_t out[static 32]);
/*  The same without allocating: sorts IDS (N ids) in place first. */
void proto_publish_records_root_inplace(uint8_t (*ids)[32], size_t n, uint8_t out[static 32]);
/*  Number of set bits in the BITMAP of LEN bytes. */
uint32_t proto_publish_bitmap_count(const uint8_t *bitmap, size_t len);
/*  H("genie/access-code/v1", CODE) into OUT. */
void proto_access_code_hash(const uint8_t code[static 32], uint8_t out[static 32]);

/* ---- model publications ---- */

/*  Signs P with the enclave's libsodium Ed25519 secret key SIGN_SK (64 bytes, borrowed):
 *  sets p->version and p->enclave_pk (from SIGN_SK), then p->sig over every other field.
 *  Returns PROTO_OK, PROTO_E_INVALID (a rule above broken), PROTO_E_NOMEM. */
int proto_publish_sign(proto_publish_t *p, const uint8_t sign_sk[static 64]) PROTO_WUR;
/*  The hash P's signature covers into OUT. PROTO_OK or PROTO_E_NOMEM (OUT zeroed). */
int proto_publish_signing_hash(const proto_publish_t *p, uint8_t out[static 32]) PROTO_WUR;
void proto_publish_write(proto_wr_t *w, const proto_publish_t *p);
/*  New malloc'd encoding in *OUT, *LEN (the caller frees it). PROTO_OK, PROTO_E_INVALID (a
 *  count past its array), PROTO_E_NOMEM. */
int proto_publish_encode(const proto_publish_t *p, uint8_t **out, size_t *len) PROTO_WUR;
/*  Strict reads: proto_mp.h's reader errors, PROTO_E_VERSION, PROTO_E_INVALID (a rule
 *  above broken); decode also refuses trailing bytes and more than PROTO_PUBLISH_MAX_BYTES
 *  (PROTO_E_TOO_BIG). *OUT zeroed on error. */
int proto_publish_read(proto_rd_t *rd, proto_publish_t *out) PROTO_WUR;
int proto_publish_decode(const uint8_t *buf, size_t len, proto_publish_t *out) PROTO_WUR;
/*  Verifies P's rules and its signature by p->enclave_pk. Returns PROTO_OK,
 *  PROTO_E_VERSION, PROTO_E_INVALID, PROTO_E_BAD_SIG, PROTO_E_NOMEM. */
int proto_publish_verify(const proto_publish_t *p) PROTO_WUR;

/* ---- usage reports ---- */

/*  As proto_publish_sign, for a usage report. PROTO_OK or PROTO_E_NOMEM. */
int proto_usage_sign(proto_usage_t *u, const uint8_t sign_sk[static 64]) PROTO_WUR;
int proto_usage_signing_hash(const proto_usage_t *u, uint8_t out[static 32]) PROTO_WUR;
void proto_usage_write(proto_wr_t *w, const proto_usage_t *u);
int proto_usage_encode(const proto_usage_t *u, uint8_t **out, size_t *len) PROTO_WUR;
int proto_usage_read(proto_rd_t *rd, proto_usage_t *out) PROTO_WUR;
/*  As proto_publish_decode, bound PROTO_USAGE_MAX_BYTES. */
int proto_usage_decode(const uint8_t *buf, size_t len, proto_usage_t *out) PROTO_WUR;
/*  PROTO_OK, PROTO_E_VERSION, PROTO_E_BAD_SIG, PROTO_E_NOMEM. */
int proto_usage_verify(const proto_usage_t *u) PROTO_WUR;

#endif
