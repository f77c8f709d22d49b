/*  enclave_train_config: the config of a federated training job, the `config` field of
 *  TRAIN_PREPARE (enclave_wire.h, type 11). Public: the node (the coordinator's runner)
 *  fills one from the spec and the job and encodes it; genie-enclave decodes it strictly.
 *
 *  config = one canonical msgpack array of 16:
 *      [features [str] (1..64 names of 1..64 bytes, distinct), label str (1..64),
 *       model_type str ("logistic"), rounds u32 (1..100), epochs u32 (1..100),
 *       lr f64 (0, 10], batch u32 (1..65536), l2 f64 [0, 100], eps f64 [0, 100] (0: no
 *       DP), delta f64 (in (0, 0.1] when eps > 0; not read otherwise), rule u32 (the
 *       ledger's aggregation values: 1 mean, 2 median, 3 trimmed mean, 4 Krum), trim f64
 *       [0, 0.5) (the trimmed mean's beta), seed u64 (holdout split; SGD streams without
 *       DP), holdout_pct u32 (1..50), agg_clip f64 [0, 100] (the L2 norm S each party's
 *       update delta is clipped to at the aggregation; 0: no clipping), agg_eps f64
 *       [0, 10000] (the party-level epsilon, at delta, of the aggregation's Gaussian noise
 *       over all the rounds; 0: no noise; > 0 needs agg_clip > 0 and delta in (0, 0.1])]
 *  every f64 a msgpack float64 (0xcb) and finite. A feature "RSID:ALLELE" (ALLELE one of
 *  A C G T D I) is the count of ALLELE in the donor's 23andMe file; any other feature and
 *  the label are phenotype CSV columns (enclave_kind_train_data.c).
 */
#ifndef GENIE_ENCLAVE_TRAIN_CONFIG_H
#define GENIE_ENCLAVE_TRAIN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ml/ml_fed.h"
#include "ml/ml_robust.h"
#include "proto/proto_err.h"

#define ENCLAVE_TRAIN_FEATURES_MAX 64u
#define ENCLAVE_TRAIN_NAME_MAX 64u

/*  A job config (plain data, about 4.3 KiB). */
typedef struct {
    size_t p; /* features */
    char features[ENCLAVE_TRAIN_FEATURES_MAX][ENCLAVE_TRAIN_NAME_MAX + 1];
    char label[ENCLAVE_TRAIN_NAME_MAX + 1];
    uint32_t rounds;  /* 1..100 */
    uint32_t epochs;  /* 1..100 */
    double lr;        /* (0, 10] */
    uint32_t batch;   /* 1..65536 */
    double l2;        /* [0, 100] */
    double eps;       /* [0, 100]; 0: no DP */
    double delta;     /* (0, 0.1] when eps > 0 or agg_eps > 0 (both guarantees' delta) */
    uint32_t rule;    /* 1..4 */
    double trim;      /* [0, 0.5): the trimmed mean's beta */
    uint64_t seed;    /* holdout split and (without DP) SGD streams */
    uint32_t holdout; /* percent, 1..50 */
    double agg_clip;  /* [0, 100]: S of the aggregation's DP (ml_fed.h); 0: no clipping */
    double agg_eps;   /* [0, 10000]: its party-level epsilon over all rounds; 0: no noise */
} enclave_train_config_t;

/*  Defaults for everything but the features and the label: 10 rounds, 2 epochs, lr 0.1,
 *  batch 16, l2 0.001, no DP-SGD at the parties (eps 0), delta 1e-5, rule 1 (mean),
 *  trim 0.1, seed 1, holdout 20 %, and the aggregation's DP ON: agg_clip
 *  ML_FED_AGG_CLIP_DEFAULT, agg_eps ML_FED_AGG_EPS_DEFAULT (party-level). */
void enclave_train_config_default(enclave_train_config_t *out);

/*  Encodes C (checked as the decoder checks it) into a new buffer *OUT of *LEN bytes
 *  (free()). ML_E_SPEC (detail in ERR) for a value out of range, PROTO_E_NOMEM. */
int enclave_train_config_encode(const enclave_train_config_t *c, uint8_t **out, size_t *len,
                                char *err, size_t err_cap) PROTO_WUR;
/*  Strict decode. PROTO_E_* for malformed msgpack, ML_E_SPEC for a value out of range or a
 *  model type other than "logistic" (detail in ERR). */
int enclave_train_config_decode(const uint8_t *buf, size_t len, enclave_train_config_t *out,
                                char *err, size_t err_cap) PROTO_WUR;
/*  The ml_robust rule of CFG for K parties: 1 mean, 2 median, 3 trimmed mean (beta =
 *  trim), 4 Krum with f = floor((K - 3) / 2) (the most K tolerates; K >= 3). ML_E_SPEC when
 *  the rule cannot aggregate K vectors. */
int enclave_train_config_rule(const enclave_train_config_t *cfg, size_t k, ml_robust_rule_t *out,
                              char *err, size_t err_cap) PROTO_WUR;
/*  The noise multiplier z of the aggregation's DP for CFG into *Z: the smallest that keeps
 *  cfg->rounds aggregations within (agg_eps, delta) party-level (ml_fed_agg_noise_for); 0
 *  when agg_eps is 0. ML_E_BUDGET (detail in ERR) when no z meets the budget. */
int enclave_train_config_agg_noise(const enclave_train_config_t *cfg, double *z, char *err,
                                   size_t err_cap) PROTO_WUR;

#endif
