/*  enclave_train_config: the federated training job's config (see enclave_train_config.h),
 *  encoded by the node and decoded strictly inside genie-enclave.
 */
#include "enclave/enclave_train_config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_mp.h"

/* ---- config ---- */

/* Reads a string of 1..ENCLAVE_TRAIN_NAME_MAX bytes into OUT (NUL-terminated). */
static int s_rd_name(proto_rd_t *r, char out[static ENCLAVE_TRAIN_NAME_MAX + 1])
{
    const char *p = NULL;
    size_t n = 0;
    if (proto_rd_str(r, ENCLAVE_TRAIN_NAME_MAX, &p, &n))
        return r->err;
    if (n == 0)
        return r->err = PROTO_E_INVALID;
    memcpy(out, p, n);
    out[n] = '\0';
    return PROTO_OK;
}

int enclave_train_config_decode(const uint8_t *buf, size_t len, enclave_train_config_t *out,
                                char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint32_t n = 0;
    uint64_t v[6] = {0};
    char model_type[ENCLAVE_TRAIN_NAME_MAX + 1] = "";
    if (proto_rd_array_exact(&r, 16) || proto_rd_array_max(&r, ENCLAVE_TRAIN_FEATURES_MAX, &n))
        return proto_err_fail(err, err_cap, r.err, "config: not [features, ...]");
    out->p = n;
    for (uint32_t i = 0; i < n; i++)
        if (s_rd_name(&r, out->features[i]))
            return proto_err_fail(err, err_cap, r.err, "config: feature %u", i);
    if (s_rd_name(&r, out->label) || s_rd_name(&r, model_type) ||
        proto_rd_uint(&r, UINT32_MAX, &v[0]) || proto_rd_uint(&r, UINT32_MAX, &v[1]) ||
        proto_rd_f64(&r, &out->lr) || proto_rd_uint(&r, UINT32_MAX, &v[2]) ||
        proto_rd_f64(&r, &out->l2) || proto_rd_f64(&r, &out->eps) ||
        proto_rd_f64(&r, &out->delta) || proto_rd_uint(&r, UINT32_MAX, &v[3]) ||
        proto_rd_f64(&r, &out->trim) || proto_rd_uint(&r, UINT64_MAX, &v[4]) ||
        proto_rd_uint(&r, UINT32_MAX, &v[5]) || proto_rd_f64(&r, &out->agg_clip) ||
        proto_rd_f64(&r, &out->agg_eps) || proto_rd_finish(&r))
        return proto_err_fail(err, err_cap, r.err, "config: malformed");
    out->rounds = (uint32_t)v[0];
    out->epochs = (uint32_t)v[1];
    out->batch = (uint32_t)v[2];
    out->rule = (uint32_t)v[3];
    out->seed = v[4];
    out->holdout = (uint32_t)v[5];
    if (n == 0)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "config: no feature");
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(out->features[i], out->features[j]) == 0)
                return proto_err_fail(err, err_cap, ML_E_SPEC, "config: feature twice");
    if (strcmp(model_type, "logistic") != 0)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "config: model type not logistic");
    if (out->rounds < 1 || out->rounds > 100 || out->epochs < 1 || out->epochs > 100 ||
        out->batch < 1 || out->batch > 65536 || out->holdout < 1 || out->holdout > 50)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "config: a count out of range");
    if (!(out->lr > 0 && out->lr <= 10) || !(out->l2 >= 0 && out->l2 <= 100) ||
        !(out->eps >= 0 && out->eps <= 100) || !(out->trim >= 0 && out->trim < 0.5) ||
        ((out->eps > 0 || out->agg_eps > 0) && !(out->delta > 0 && out->delta <= 0.1)))
        return proto_err_fail(err, err_cap, ML_E_SPEC, "config: a rate out of range");
    if (!(out->agg_clip >= 0 && out->agg_clip <= 100) ||
        !(out->agg_eps >= 0 && out->agg_eps <= 10000) || (out->agg_eps > 0 && out->agg_clip == 0))
        return proto_err_fail(err, err_cap, ML_E_SPEC,
                              "config: aggregation clip or epsilon out of range");
    if (out->rule < 1 || out->rule > 4)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "config: unknown aggregation rule");
    return PROTO_OK;
}

int enclave_train_config_rule(const enclave_train_config_t *cfg, size_t k, ml_robust_rule_t *out,
                              char *err, size_t err_cap)
{
    memset(out, 0, sizeof *out);
    switch (cfg->rule) {
    case 1:
        out->kind = ML_ROBUST_MEAN;
        break;
    case 2:
        out->kind = ML_ROBUST_MEDIAN;
        break;
    case 3:
        out->kind = ML_ROBUST_TRIMMED_MEAN;
        out->param = cfg->trim;
        break;
    case 4:
        out->kind = ML_ROBUST_KRUM;
        out->param = k >= 3 ? floor((double)(k - 3) / 2.0) : 0;
        break;
    default:
        return proto_err_fail(err, err_cap, ML_E_SPEC, "unknown aggregation rule");
    }
    return ml_robust_check(out, k, err, err_cap);
}

void enclave_train_config_default(enclave_train_config_t *out)
{
    memset(out, 0, sizeof *out);
    out->rounds = 10;
    out->epochs = 2;
    out->lr = 0.1;
    out->batch = 16;
    out->l2 = 0.001;
    out->delta = 1e-5;
    out->rule = 1;
    out->trim = 0.1;
    out->seed = 1;
    out->holdout = 20;
    out->agg_clip = ML_FED_AGG_CLIP_DEFAULT;
    out->agg_eps = ML_FED_AGG_EPS_DEFAULT;
}

int enclave_train_config_agg_noise(const enclave_train_config_t *cfg, double *z, char *err,
                                   size_t err_cap)
{
    *z = 0.0;
    if (cfg->agg_eps == 0)
        return PROTO_OK;
    if (ml_fed_agg_noise_for(cfg->agg_eps, cfg->delta, cfg->rounds, z) != PROTO_OK)
        return proto_err_fail(err, err_cap, ML_E_BUDGET,
                              "no aggregation noise keeps %u rounds within party-level epsilon %g",
                              cfg->rounds, cfg->agg_eps);
    return PROTO_OK;
}

int enclave_train_config_encode(const enclave_train_config_t *c, uint8_t **out, size_t *len,
                                char *err, size_t err_cap)
{
    *out = NULL;
    *len = 0;
    if (c->p > ENCLAVE_TRAIN_FEATURES_MAX)
        return proto_err_fail(err, err_cap, ML_E_SPEC, "config: too many features");
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 16);
    proto_wr_array(&w, (uint32_t)c->p);
    for (size_t i = 0; i < c->p; i++)
        proto_wr_str(&w, c->features[i], strnlen(c->features[i], ENCLAVE_TRAIN_NAME_MAX + 1));
    proto_wr_str(&w, c->label, strnlen(c->label, ENCLAVE_TRAIN_NAME_MAX + 1));
    proto_wr_str(&w, "logistic", 8);
    proto_wr_uint(&w, c->rounds);
    proto_wr_uint(&w, c->epochs);
    proto_wr_f64(&w, c->lr);
    proto_wr_uint(&w, c->batch);
    proto_wr_f64(&w, c->l2);
    proto_wr_f64(&w, c->eps);
    proto_wr_f64(&w, c->delta);
    proto_wr_uint(&w, c->rule);
    proto_wr_f64(&w, c->trim);
    proto_wr_uint(&w, c->seed);
    proto_wr_uint(&w, c->holdout);
    proto_wr_f64(&w, c->agg_clip);
    proto_wr_f64(&w, c->agg_eps);
    *out = proto_wr_take(&w, len);
    int rc = *out ? PROTO_OK : (w.err ? w.err : PROTO_E_NOMEM);
    proto_wr_free(&w);
    if (rc != PROTO_OK)
        return rc == PROTO_E_TOO_LONG ? ML_E_SPEC : rc;
    /* what the enclave would refuse is refused here */
    enclave_train_config_t back;
    rc = enclave_train_config_decode(*out, *len, &back, err, err_cap);
    if (rc != PROTO_OK) {
        free(*out);
        *out = NULL;
        *len = 0;
        return rc == PROTO_E_NOMEM ? rc : ML_E_SPEC;
    }
    return PROTO_OK;
}
