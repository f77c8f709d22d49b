/*  enclave_kind_train: internal to genie-enclave, what the federated training files share
 *  (enclave_kind_train_fed.c: jobs and their protocol; enclave_kind_train_msg.c: the
 *  sealed and signed enclave-to-enclave envelope and the payload codecs;
 *  enclave_kind_train_data.c: samples from held donations). Not for callers outside
 *  enclave/.
 */
#ifndef GENIE_ENCLAVE_KIND_TRAIN_H
#define GENIE_ENCLAVE_KIND_TRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_train_config.h"
#include "enclave/enclave_wire.h"
#include "ml/ml_mat.h"
#include "ml/ml_robust.h"

/* ---- the job config: enclave_train_config.h ---- */

/* ---- the envelope ---- */

/*  msg = crypto_box_seal(recipient box pk, [job_id bin32, from u32, to u32, payload bin,
 *  sig bin64]), sig = Ed25519 by the sender's enclave key over
 *  H("genie/fed-msg/v1", job_id || from (4 bytes BE) || to (4 bytes BE) || payload). */
int enclave_train_msg_seal(const uint8_t job_id[static 32], uint32_t from, uint32_t to,
                           const uint8_t *payload, size_t len, const uint8_t sign_sk[static 64],
                           const uint8_t to_box_pk[static 32], uint8_t **out,
                           size_t *out_len) PROTO_WUR;
/*  Opens MSG with this enclave's box keys, checks it names JOB_ID, FROM and TO and that
 *  FROM_SIGN_PK signed it. *PAYLOAD / *LEN point into *PLAIN (malloc'd, the caller wipes
 *  and frees it, also on error). ENCLAVE_E_FED_MSG for any refusal. */
int enclave_train_msg_open(const uint8_t *msg, size_t len, const uint8_t box_pk[static 32],
                           const uint8_t box_sk[static 32], const uint8_t job_id[static 32],
                           uint32_t from, uint32_t to, const uint8_t from_sign_pk[static 32],
                           uint8_t **plain, size_t *plain_len, const uint8_t **payload,
                           size_t *payload_len) PROTO_WUR;

/* ---- payloads: msgpack [kind u32, body...] ---- */

typedef enum {
    ENCLAVE_TRAIN_P_START = 1, /* coordinator -> party: []: send your STATS */
    ENCLAVE_TRAIN_P_STATS = 2, /* party -> coordinator: [n u64, sum [f64 p], sumsq [f64 p]] */
    ENCLAVE_TRAIN_P_SCALE = 3, /* coordinator -> party: [mean [f64 p], sd [f64 p]] */
    ENCLAVE_TRAIN_P_FED = 4,   /* both: [ml_fed message bin] */
    ENCLAVE_TRAIN_P_LOCAL = 5, /* party -> coordinator: [w [f64 dim], used ids [bin32]] */
    ENCLAVE_TRAIN_P_EVAL = 6,  /* coordinator -> party: [models [[f64 dim]...]] */
    ENCLAVE_TRAIN_P_REPORT = 7 /* party -> coordinator: [n_test u64, correct [u64], loss f64,
                                  eps f64] */
} enclave_train_pkind_t;

/*  Models one EVAL carries: the global model and the coalitions (2^6 exact, or K + 1 LOO). */
#define ENCLAVE_TRAIN_EVAL_MAX 65u

/*  A decoded payload. Arrays are malloc'd and owned by it (enclave_train_payload_clear). */
typedef struct {
    enclave_train_pkind_t kind;
    uint64_t n;         /* STATS: samples; REPORT: n_test */
    size_t dim;         /* doubles per vector in A / B / models */
    double *a, *b;      /* STATS: sum, sumsq; SCALE: mean, sd; LOCAL: w (a only) */
    const uint8_t *fed; /* FED: the ml_fed message (a view into the decoded buffer) */
    size_t fed_len;
    uint8_t (*ids)[32]; /* LOCAL: used data ids */
    size_t n_ids;
    double *models; /* EVAL: n_models x dim */
    size_t n_models;
    uint64_t *correct; /* REPORT: n_models counts */
    double loss, eps;  /* REPORT */
} enclave_train_payload_t;

/*  Encodes P (its kind's fields) into a new buffer *OUT (free()). PROTO_E_NOMEM,
 *  PROTO_E_INVALID for a non-finite double. */
int enclave_train_payload_encode(const enclave_train_payload_t *p, uint8_t **out,
                                 size_t *len) PROTO_WUR;
/*  Strict decode; DIM is the job's vector length for STATS/SCALE (p) or LOCAL/EVAL (p + 1),
 *  chosen by kind: P_DIM features, P_DIM + 1 weights. *OUT is the caller's to clear, also
 *  on error. */
int enclave_train_payload_decode(const uint8_t *buf, size_t len, size_t p_dim,
                                 enclave_train_payload_t *out) PROTO_WUR;
void enclave_train_payload_clear(enclave_train_payload_t *p);

/* ---- samples ---- */

/*  Builds the samples of a job from the donations of SPEC_ID held in T: the donations whose
 *  data id is not in ELIGIBLE are wiped first (*DROPPED counts them). A donation is a
 *  phenotype CSV (ml_csv: an id column, then columns; every row with a 0/1 LABEL and every
 *  CSV feature numeric is a sample) or a 23andMe genotype file (ml_geno_scan_23andme). A
 *  feature "RSID:ALLELE" is the count (0..2) of ALLELE in the call at RSID of the same
 *  donor's genotype file (a missing call takes the party's mean); any other feature is a
 *  CSV column. A donor's rows need its genotype file when the config names SNP features.
 *  *OUT gets the data set (n x p, labels 0/1), *USED the ids of the donations that gave a
 *  sample (malloc'd, sorted ascending), *N_USED their count. Errors: ML_E_EMPTY (no
 *  sample), PROTO_E_NOMEM. */
int enclave_train_samples(enclave_train_t *t, const uint8_t spec_id[static 32],
                          const enclave_wire_ids_t *eligible, const enclave_train_config_t *cfg,
                          ml_dataset_t **out, uint8_t (**used)[32], size_t *n_used,
                          uint32_t *dropped, char *err, size_t err_cap) PROTO_WUR;

/*  Zeroes a data set's values, labels and ids, then frees it (tolerates NULL). */
void enclave_train_dataset_wipe(ml_dataset_t **d);

#endif
