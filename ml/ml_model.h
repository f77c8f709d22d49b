/*  ml_model: a trained model (logistic, linear/ridge or polygenic risk score) and its file.
 *
 *  A model is: kind, p feature ids, p weights, an intercept, an optional scaling (mean and
 *  sd per feature, applied to inputs before the weights), metrics (name/value pairs, e.g.
 *  "auc_test") and the 32-byte hashes of the data commitments it was trained on.
 *
 *  File format (version 1): one canonical msgpack fixed-order array of 8 elements
 *      [ version: uint = 1,
 *        kind: uint (1 logistic, 2 linear, 3 prs),
 *        feature_ids: [ str, ... ]          (p non-empty UTF-8 strings, <= 256 bytes)
 *        weights: [ float64, ... ]          (p finite values)
 *        intercept: float64,
 *        scaling: nil | [ [float64 mean]*p, [float64 sd > 0]*p ],
 *        metrics: [ [ str name, float64 value ], ... ]   (<= 64, names unique, <= 64 bytes)
 *        data_hashes: [ bin32, ... ] ]      (<= 1024, unique)
 *  Every double is a msgpack float64 (0xcb, bit-exact, never shortened; NaN and infinities
 *  refused), every other value in msgpack's shortest form, so encode(decode(b)) == b and
 *  the BLAKE2b hash of the bytes identifies the model. A PRS model's feature ids are
 *  "RSID:EFFECT_ALLELE" (see ml_prs.h). p <= ML_MODEL_MAX_P.
 */
#ifndef GENIE_ML_MODEL_H
#define GENIE_ML_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/ml_mat.h"
#include "ml/ml_scale.h"
#include "proto/proto_err.h"

#define ML_MODEL_VERSION 1u
#define ML_MODEL_MAX_P (1u << 20)
#define ML_MODEL_MAX_ID 256u
#define ML_MODEL_MAX_METRICS 64u
#define ML_MODEL_MAX_METRIC_NAME 64u
#define ML_MODEL_MAX_HASHES 1024u
#define ML_MODEL_MAX_BYTES (64u * 1024u * 1024u)

typedef enum { ML_MODEL_LOGISTIC = 1, ML_MODEL_LINEAR = 2, ML_MODEL_PRS = 3 } ml_model_kind_t;

typedef struct ml_model_t ml_model_t;

/*  New model of KIND over P features. FEATURE_IDS (P strings, copied) may be NULL, and so
 *  may any of its entries (as in a fresh ml_dataset_t): id i is then "f{i}". W (P weights, copied)
 * may be NULL: zeros. No scaling, metrics or hashes yet. NULL if KIND is unknown, P >
 * ML_MODEL_MAX_P, an id is empty or too long, a value is not finite, or memory ran out. Free with
 * ml_model_destroy. */
ml_model_t *ml_model_new(ml_model_kind_t kind, size_t p, char *const *feature_ids, const double *w,
                         double intercept);
/*  Frees the model; tolerates NULL; sets *self_p to NULL. */
void ml_model_destroy(ml_model_t **self_p);
/*  Deep copy; NULL if memory ran out. */
ml_model_t *ml_model_dup(const ml_model_t *m);

ml_model_kind_t ml_model_kind(const ml_model_t *m);
const char *ml_model_kind_name(ml_model_kind_t kind); /* "logistic", "linear", "prs", "?" */
size_t ml_model_p(const ml_model_t *m);
/*  The P weights (owned by the model; valid until it is changed or destroyed). */
const double *ml_model_weights(const ml_model_t *m);
double ml_model_intercept(const ml_model_t *m);
/*  Feature id I (I < p), owned by the model. */
const char *ml_model_feature_id(const ml_model_t *m, size_t i);
/*  Replaces the weights (P values copied) and intercept, e.g. after a federated round.
 *  Errors: ML_E_ARG (NULL or a non-finite value). */
int ml_model_set_params(ml_model_t *m, const double *w, double intercept) PROTO_WUR;

/*  Copies S (S->p must equal the model's p, every sd > 0 and finite) as the model's input
 *  scaling; S NULL removes it. Errors: ML_E_SHAPE, ML_E_ARG, PROTO_E_NOMEM. */
int ml_model_set_scaling(ml_model_t *m, const ml_scale_t *s) PROTO_WUR;
/*  True if the model has a scaling; then *MEAN and *SD (P values each, owned by the model)
 *  are set. */
bool ml_model_scaling(const ml_model_t *m, const double **mean, const double **sd);

/*  Sets metric NAME (copied, 1..64 bytes, no NUL) to VALUE (finite), replacing a metric of
 *  that name or appending. Errors: ML_E_ARG, PROTO_E_TOO_LONG (more than
 *  ML_MODEL_MAX_METRICS), PROTO_E_NOMEM. */
int ml_model_add_metric(ml_model_t *m, const char *name, double value) PROTO_WUR;
size_t ml_model_metric_count(const ml_model_t *m);
/*  Metric I: *NAME owned by the model. Errors: ML_E_ARG (I out of range). */
int ml_model_metric(const ml_model_t *m, size_t i, const char **name, double *value) PROTO_WUR;
/*  Looks a metric up by name; false if absent. */
bool ml_model_metric_get(const ml_model_t *m, const char *name, double *value);

/*  Records the hash of a data commitment the model was trained on (appended; a hash
 *  already present is not added twice). Errors: PROTO_E_TOO_LONG, PROTO_E_NOMEM. */
int ml_model_add_data_hash(ml_model_t *m, const uint8_t hash[static 32]) PROTO_WUR;
size_t ml_model_data_hash_count(const ml_model_t *m);
/*  Hash I (I < count), 32 bytes owned by the model. */
const uint8_t *ml_model_data_hash(const ml_model_t *m, size_t i);

/*  Predicts the X->rows samples of X (X->cols must equal p) into OUT (X->rows values):
 *  applies the model's scaling first, then w·x + intercept; logistic models give the
 *  probability 1 / (1 + exp(-z)), linear and PRS models the value. Uses CBLAS dgemv.
 *  Errors: ML_E_SHAPE, ML_E_ARG (NULL, or a prediction that overflowed to NaN or, for
 *  linear/PRS, infinity; OUT is then filled but holds those values), PROTO_E_NOMEM. */
int ml_model_predict(const ml_model_t *m, const ml_mat_t *x, double *out) PROTO_WUR;

/*  Canonical encoding (format above) into a new buffer *OUT of *LEN bytes (free() it).
 *  Errors: PROTO_E_NOMEM, PROTO_E_TOO_BIG (over ML_MODEL_MAX_BYTES). */
int ml_model_encode(const ml_model_t *m, uint8_t **out, size_t *len) PROTO_WUR;
/*  Strict decode of BUF (LEN <= ML_MODEL_MAX_BYTES) into a new *OUT (the caller's).
 *  Refuses anything encode would not produce: wrong types/arity (PROTO_E_*), non-shortest
 *  forms, trailing bytes, version != 1 (PROTO_E_VERSION), bounds exceeded
 *  (PROTO_E_TOO_LONG), and semantic faults (ML_E_MODEL: unknown kind, p mismatch, empty
 *  id, non-finite double, sd <= 0, duplicate metric or hash). Detail in ERR. Never
 *  allocates more than a constant times LEN. */
int ml_model_decode(const uint8_t *buf, size_t len, ml_model_t **out, char *err,
                    size_t cap) PROTO_WUR;

/*  BLAKE2b-256 over "genie.ml.model.v1" || 0x00 || canonical encoding: the id the ledger
 *  records. If the encoding cannot be built (out of memory) OUT is all zeros. */
void ml_model_hash(const ml_model_t *m, uint8_t out[static 32]);

/*  Writes the encoding to PATH atomically (PATH.tmp, fsync, rename). Errors: PROTO_E_IO,
 *  PROTO_E_NOMEM; detail in ERR. */
int ml_model_save(const ml_model_t *m, const char *path, char *err, size_t cap) PROTO_WUR;
/*  Reads and decodes PATH (at most ML_MODEL_MAX_BYTES) into a new *OUT. Errors:
 *  PROTO_E_IO, PROTO_E_TOO_BIG, and ml_model_decode's. */
int ml_model_load(const char *path, ml_model_t **out, char *err, size_t cap) PROTO_WUR;

#endif
