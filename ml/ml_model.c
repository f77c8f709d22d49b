/*  ml_model: the model type, prediction, and its canonical msgpack file (see ml_model.h). */
#include "ml/ml_model.h"

#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ml/ml_file.h"
#include "proto/proto_mp.h"

struct ml_model_t {
    ml_model_kind_t kind;
    size_t p;
    char **ids;
    double *w;
    double b;
    double *mean, *sd; /* both NULL without scaling */
    size_t n_metrics;
    char *metric_name[ML_MODEL_MAX_METRICS];
    double metric_value[ML_MODEL_MAX_METRICS];
    size_t n_hashes, cap_hashes;
    uint8_t (*hashes)[32];
};

static const char s_hash_domain[] = "genie.ml.model.v1";

static bool s_kind_ok(uint64_t k)
{
    return k == ML_MODEL_LOGISTIC || k == ML_MODEL_LINEAR || k == ML_MODEL_PRS;
}

static bool s_all_finite(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

/* A bare model: P ids all NULL, zero weights. */
static ml_model_t *s_alloc(ml_model_kind_t kind, size_t p)
{
    ml_model_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->kind = kind;
    m->p = p;
    m->ids = calloc(p ? p : 1, sizeof *m->ids);
    m->w = calloc(p ? p : 1, sizeof *m->w);
    if (!m->ids || !m->w)
        ml_model_destroy(&m);
    return m;
}

static char *s_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

ml_model_t *ml_model_new(ml_model_kind_t kind, size_t p, char *const *feature_ids, const double *w,
                         double intercept)
{
    if (!s_kind_ok((uint64_t)kind) || p > ML_MODEL_MAX_P || !isfinite(intercept) ||
        (w && !s_all_finite(w, p)))
        return NULL;
    ml_model_t *m = s_alloc(kind, p);
    if (!m)
        return NULL;
    for (size_t i = 0; i < p; i++) {
        if (feature_ids && feature_ids[i]) {
            size_t n = strlen(feature_ids[i]);
            if (n == 0 || n > ML_MODEL_MAX_ID)
                goto err;
            m->ids[i] = s_strndup(feature_ids[i], n);
        } else {
            char buf[32];
            int n = snprintf(buf, sizeof buf, "f%zu", i);
            m->ids[i] = s_strndup(buf, (size_t)n);
        }
        if (!m->ids[i])
            goto err;
    }
    if (w && p)
        memcpy(m->w, w, p * sizeof *w);
    m->b = intercept;
    return m;
err:
    ml_model_destroy(&m);
    return NULL;
}

void ml_model_destroy(ml_model_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ml_model_t *m = *self_p;
    if (m->ids)
        for (size_t i = 0; i < m->p; i++)
            free(m->ids[i]);
    free(m->ids);
    free(m->w);
    free(m->mean);
    free(m->sd);
    for (size_t i = 0; i < m->n_metrics; i++)
        free(m->metric_name[i]);
    free(m->hashes);
    free(m);
    *self_p = NULL;
}

ml_model_t *ml_model_dup(const ml_model_t *m)
{
    ml_model_t *d = ml_model_new(m->kind, m->p, m->ids, m->w, m->b);
    if (!d)
        return NULL;
    if (m->mean) {
        ml_scale_t s = {m->p, m->mean, m->sd};
        if (ml_model_set_scaling(d, &s) != 0)
            goto err;
    }
    for (size_t i = 0; i < m->n_metrics; i++)
        if (ml_model_add_metric(d, m->metric_name[i], m->metric_value[i]) != 0)
            goto err;
    for (size_t i = 0; i < m->n_hashes; i++)
        if (ml_model_add_data_hash(d, m->hashes[i]) != 0)
            goto err;
    return d;
err:
    ml_model_destroy(&d);
    return NULL;
}

ml_model_kind_t ml_model_kind(const ml_model_t *m)
{
    return m->kind;
}

const char *ml_model_kind_name(ml_model_kind_t kind)
{
    switch (kind) {
    case ML_MODEL_LOGISTIC:
        return "logistic";
    case ML_MODEL_LINEAR:
        return "linear";
    case ML_MODEL_PRS:
        return "prs";
    default:
        return "?";
    }
}

size_t ml_model_p(const ml_model_t *m)
{
    return m->p;
}
const double *ml_model_weights(const ml_model_t *m)
{
    return m->w;
}
double ml_model_intercept(const ml_model_t *m)
{
    return m->b;
}
const char *ml_model_feature_id(const ml_model_t *m, size_t i)
{
    return i < m->p ? m->ids[i] : NULL;
}

int ml_model_set_params(ml_model_t *m, const double *w, double intercept)
{
    if (!m || (!w && m->p) || !isfinite(intercept) || (m->p && !s_all_finite(w, m->p)))
        return ML_E_ARG;
    if (m->p)
        memcpy(m->w, w, m->p * sizeof *w);
    m->b = intercept;
    return 0;
}

int ml_model_set_scaling(ml_model_t *m, const ml_scale_t *s)
{
    if (!m)
        return ML_E_ARG;
    if (!s) {
        free(m->mean);
        free(m->sd);
        m->mean = m->sd = NULL;
        return 0;
    }
    if (s->p != m->p)
        return ML_E_SHAPE;
    for (size_t j = 0; j < s->p; j++)
        if (!isfinite(s->mean[j]) || !isfinite(s->sd[j]) || !(s->sd[j] > 0.0))
            return ML_E_ARG;
    double *mean = malloc((m->p ? m->p : 1) * sizeof *mean);
    double *sd = malloc((m->p ? m->p : 1) * sizeof *sd);
    if (!mean || !sd) {
        free(mean);
        free(sd);
        return PROTO_E_NOMEM;
    }
    if (m->p) {
        memcpy(mean, s->mean, m->p * sizeof *mean);
        memcpy(sd, s->sd, m->p * sizeof *sd);
    }
    free(m->mean);
    free(m->sd);
    m->mean = mean;
    m->sd = sd;
    return 0;
}

bool ml_model_scaling(const ml_model_t *m, const double **mean, const double **sd)
{
    if (!m->mean)
        return false;
    if (mean)
        *mean = m->mean;
    if (sd)
        *sd = m->sd;
    return true;
}

static bool s_metric_name_ok(const char *name, size_t n)
{
    return n > 0 && n <= ML_MODEL_MAX_METRIC_NAME && memchr(name, '\0', n) == NULL;
}

int ml_model_add_metric(ml_model_t *m, const char *name, double value)
{
    if (!m || !name || !isfinite(value) || !s_metric_name_ok(name, strlen(name)))
        return ML_E_ARG;
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metric_name[i], name) == 0) {
            m->metric_value[i] = value;
            return 0;
        }
    if (m->n_metrics == ML_MODEL_MAX_METRICS)
        return PROTO_E_TOO_LONG;
    char *copy = s_strndup(name, strlen(name));
    if (!copy)
        return PROTO_E_NOMEM;
    m->metric_name[m->n_metrics] = copy;
    m->metric_value[m->n_metrics++] = value;
    return 0;
}

size_t ml_model_metric_count(const ml_model_t *m)
{
    return m->n_metrics;
}

int ml_model_metric(const ml_model_t *m, size_t i, const char **name, double *value)
{
    if (!m || i >= m->n_metrics)
        return ML_E_ARG;
    if (name)
        *name = m->metric_name[i];
    if (value)
        *value = m->metric_value[i];
    return 0;
}

bool ml_model_metric_get(const ml_model_t *m, const char *name, double *value)
{
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metric_name[i], name) == 0) {
            if (value)
                *value = m->metric_value[i];
            return true;
        }
    return false;
}

int ml_model_add_data_hash(ml_model_t *m, const uint8_t hash[static 32])
{
    for (size_t i = 0; i < m->n_hashes; i++)
        if (memcmp(m->hashes[i], hash, 32) == 0)
            return 0;
    if (m->n_hashes == ML_MODEL_MAX_HASHES)
        return PROTO_E_TOO_LONG;
    if (m->n_hashes == m->cap_hashes) {
        size_t cap = m->cap_hashes ? 2 * m->cap_hashes : 4;
        void *h = realloc(m->hashes, cap * 32);
        if (!h)
            return PROTO_E_NOMEM;
        m->hashes = h;
        m->cap_hashes = cap;
    }
    memcpy(m->hashes[m->n_hashes++], hash, 32);
    return 0;
}

size_t ml_model_data_hash_count(const ml_model_t *m)
{
    return m->n_hashes;
}
const uint8_t *ml_model_data_hash(const ml_model_t *m, size_t i)
{
    return i < m->n_hashes ? m->hashes[i] : NULL;
}

/* Prediction when folding the scaling into the weights overflows (an sd near the smallest
   double): each row is scaled into ROW first. */
static void s_predict_rowwise(const ml_model_t *m, const ml_mat_t *x, double *row, double *out)
{
    for (size_t i = 0; i < x->rows; i++) {
        const double *r = ml_mat_row(x, i);
        for (size_t j = 0; j < m->p; j++)
            row[j] = (r[j] - m->mean[j]) / m->sd[j];
        out[i] = m->b + cblas_ddot((int)m->p, m->w, 1, row, 1);
    }
}

int ml_model_predict(const ml_model_t *m, const ml_mat_t *x, double *out)
{
    if (!m || !x || (!out && x->rows))
        return ML_E_ARG;
    if (x->cols != m->p)
        return ML_E_SHAPE;
    size_t n = x->rows, p = m->p;
    if (n == 0)
        return 0;
    /* Scaling folded into the weights: w·((x - mean) / sd) + b = (w / sd)·x + b', with
       b' = b - sum w mean / sd, so X is read once by dgemv and never copied. */
    const double *w = m->w;
    double b = m->b;
    double *ws = NULL;
    bool folded = true;
    if (m->mean) {
        ws = malloc((p ? p : 1) * sizeof *ws);
        if (!ws)
            return PROTO_E_NOMEM;
        for (size_t j = 0; j < p; j++) {
            ws[j] = m->w[j] / m->sd[j];
            b -= ws[j] * m->mean[j];
            folded = folded && isfinite(ws[j]);
        }
        folded = folded && isfinite(b);
        w = ws;
    }
    if (folded) {
        for (size_t i = 0; i < n; i++)
            out[i] = b;
        if (p)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0, x->v, (int)p, w, 1, 1.0,
                        out, 1);
    } else {
        s_predict_rowwise(m, x, ws, out); /* ws is free scratch of p doubles now */
    }
    free(ws);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (m->kind == ML_MODEL_LOGISTIC)
            out[i] = out[i] >= 0 ? 1.0 / (1.0 + exp(-out[i])) : exp(out[i]) / (1.0 + exp(out[i]));
        if (!isfinite(out[i]))
            rc = ML_E_ARG; /* overflowed: w·x too large for a double (or inf - inf) */
    }
    return rc;
}

/* ---- encoding ---- */

static void s_wr_f64_array(proto_wr_t *w, const double *v, size_t n)
{
    proto_wr_array(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        proto_wr_f64(w, v[i]);
}

int ml_model_encode(const ml_model_t *m, uint8_t **out, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 8);
    proto_wr_uint(&w, ML_MODEL_VERSION);
    proto_wr_uint(&w, (uint64_t)m->kind);
    proto_wr_array(&w, (uint32_t)m->p);
    for (size_t i = 0; i < m->p; i++)
        proto_wr_str(&w, m->ids[i], strlen(m->ids[i]));
    s_wr_f64_array(&w, m->w, m->p);
    proto_wr_f64(&w, m->b);
    if (m->mean) {
        proto_wr_array(&w, 2);
        s_wr_f64_array(&w, m->mean, m->p);
        s_wr_f64_array(&w, m->sd, m->p);
    } else {
        proto_wr_nil(&w);
    }
    proto_wr_array(&w, (uint32_t)m->n_metrics);
    for (size_t i = 0; i < m->n_metrics; i++) {
        proto_wr_array(&w, 2);
        proto_wr_str(&w, m->metric_name[i], strlen(m->metric_name[i]));
        proto_wr_f64(&w, m->metric_value[i]);
    }
    proto_wr_array(&w, (uint32_t)m->n_hashes);
    for (size_t i = 0; i < m->n_hashes; i++)
        proto_wr_bin(&w, m->hashes[i], 32);
    size_t n = 0;
    uint8_t *buf = proto_wr_take(&w, &n);
    int rc = w.err ? w.err : PROTO_E_NOMEM;
    proto_wr_free(&w);
    if (!buf)
        return rc;
    if (n > ML_MODEL_MAX_BYTES) {
        free(buf);
        return PROTO_E_TOO_BIG;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- strict decoding ---- */

/* A float64 (0xcb) only; finite (else ML_E_MODEL). Sticky like the proto_rd_* calls. */
static int s_rd_f64(proto_rd_t *r, double *v)
{
    int rc = proto_rd_f64(r, v);
    if (rc == PROTO_E_RANGE)
        rc = r->err = ML_E_MODEL;
    return rc;
}

/* An array of exactly N float64 into V. */
static int s_rd_f64_array(proto_rd_t *r, size_t n, double *v)
{
    int rc = proto_rd_array_exact(r, (uint32_t)n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = s_rd_f64(r, &v[i]);
    return rc;
}

/* Bytes left in the reader: an upper bound on how many elements an array can hold. */
static size_t s_left(const proto_rd_t *r)
{
    return r->len - r->pos;
}

static int s_decode_body(proto_rd_t *r, ml_model_t **out, char *err, size_t cap)
{
    ml_model_t *m = NULL;
    uint64_t version = 0, kind = 0;
    uint32_t p = 0, n = 0;
    if (proto_rd_array_exact(r, 8) != 0 || proto_rd_uint(r, UINT32_MAX, &version) != 0)
        goto rd_err;
    if (version != ML_MODEL_VERSION)
        return proto_err_fail(err, cap, PROTO_E_VERSION, "model version %llu, expected %u",
                              (unsigned long long)version, ML_MODEL_VERSION);
    if (proto_rd_uint(r, 255, &kind) != 0)
        goto rd_err;
    if (!s_kind_ok(kind))
        return proto_err_fail(err, cap, ML_E_MODEL, "unknown model kind %llu",
                              (unsigned long long)kind);
    if (proto_rd_array_max(r, ML_MODEL_MAX_P, &p) != 0)
        goto rd_err;
    /* Each id takes at least 2 bytes and each weight 9: a claimed p beyond what the input
       can hold is refused before anything is allocated for it. */
    if ((size_t)p > s_left(r) / 11)
        return proto_err_fail(err, cap, PROTO_E_TRUNCATED, "%u features cannot fit in %zu bytes", p,
                              s_left(r));
    m = s_alloc((ml_model_kind_t)kind, p);
    if (!m)
        return proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < p; i++) {
        const char *s;
        size_t len;
        if (proto_rd_str(r, ML_MODEL_MAX_ID, &s, &len) != 0)
            goto rd_err;
        if (len == 0) {
            ml_model_destroy(&m);
            return proto_err_fail(err, cap, ML_E_MODEL, "feature id %zu is empty", i);
        }
        if (!(m->ids[i] = s_strndup(s, len)))
            goto nomem;
    }
    if (s_rd_f64_array(r, p, m->w) != 0 || s_rd_f64(r, &m->b) != 0)
        goto rd_err;
    if (proto_rd_peek_nil(r)) {
        if (proto_rd_nil(r) != 0)
            goto rd_err;
    } else {
        if (proto_rd_array_exact(r, 2) != 0)
            goto rd_err;
        m->mean = malloc((p ? p : 1) * sizeof(double));
        m->sd = malloc((p ? p : 1) * sizeof(double));
        if (!m->mean || !m->sd)
            goto nomem;
        if (s_rd_f64_array(r, p, m->mean) != 0 || s_rd_f64_array(r, p, m->sd) != 0)
            goto rd_err;
        for (size_t j = 0; j < p; j++)
            if (!(m->sd[j] > 0.0)) {
                ml_model_destroy(&m);
                return proto_err_fail(err, cap, ML_E_MODEL, "scaling sd %zu is not positive", j);
            }
    }
    if (proto_rd_array_max(r, ML_MODEL_MAX_METRICS, &n) != 0)
        goto rd_err;
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        double v;
        if (proto_rd_array_exact(r, 2) != 0 ||
            proto_rd_str(r, ML_MODEL_MAX_METRIC_NAME, &s, &len) != 0 || s_rd_f64(r, &v) != 0)
            goto rd_err;
        char *name = s_strndup(s, len);
        if (!name)
            goto nomem;
        bool dup = len == 0 || ml_model_metric_get(m, name, NULL);
        if (dup) {
            free(name);
            ml_model_destroy(&m);
            return proto_err_fail(err, cap, ML_E_MODEL, "metric %zu: empty or repeated name", i);
        }
        m->metric_name[m->n_metrics] = name;
        m->metric_value[m->n_metrics++] = v;
    }
    if (proto_rd_array_max(r, ML_MODEL_MAX_HASHES, &n) != 0)
        goto rd_err;
    for (size_t i = 0; i < n; i++) {
        uint8_t h[32];
        if (proto_rd_bin_exact(r, 32, h) != 0)
            goto rd_err;
        size_t before = m->n_hashes;
        int rc = ml_model_add_data_hash(m, h);
        if (rc != 0) {
            ml_model_destroy(&m);
            return proto_err_fail(err, cap, rc, "data hash %zu: %s", i, proto_err_str(rc));
        }
        if (m->n_hashes == before) {
            ml_model_destroy(&m);
            return proto_err_fail(err, cap, ML_E_MODEL, "data hash %zu repeated", i);
        }
    }
    if (proto_rd_finish(r) != 0)
        goto rd_err;
    *out = m;
    return 0;
nomem:
    ml_model_destroy(&m);
    return proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
rd_err:
    ml_model_destroy(&m);
    return proto_err_fail(err, cap, r->err ? r->err : PROTO_E_FAILED, "model: %s at byte %zu",
                          proto_err_str(r->err), r->pos);
}

int ml_model_decode(const uint8_t *buf, size_t len, ml_model_t **out, char *err, size_t cap)
{
    if (!buf || !out)
        return proto_err_fail(err, cap, ML_E_ARG, "NULL argument");
    if (len > ML_MODEL_MAX_BYTES)
        return proto_err_fail(err, cap, PROTO_E_TOO_BIG, "model of %zu bytes (max %u)", len,
                              ML_MODEL_MAX_BYTES);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    return s_decode_body(&r, out, err, cap);
}

void ml_model_hash(const ml_model_t *m, uint8_t out[static 32])
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ml_model_encode(m, &buf, &len) != 0) {
        memset(out, 0, 32);
        return;
    }
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)s_hash_domain, sizeof s_hash_domain);
    crypto_generichash_update(&st, buf, len);
    crypto_generichash_final(&st, out, 32);
    free(buf);
}

int ml_model_save(const ml_model_t *m, const char *path, char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = ml_model_encode(m, &buf, &len);
    if (rc != 0)
        return proto_err_fail(err, cap, rc, "encoding model: %s", proto_err_str(rc));
    char tmp[4096];
    int fd = -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        rc = proto_err_fail(err, cap, PROTO_E_IO, "path too long");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = proto_err_fail(err, cap, PROTO_E_IO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    for (size_t off = 0; off < len;) {
        ssize_t k = write(fd, buf + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = proto_err_fail(err, cap, PROTO_E_IO, "%s: %s", tmp, strerror(errno));
            goto out;
        }
        off += (size_t)k;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        rc = proto_err_fail(err, cap, PROTO_E_IO, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        rc = proto_err_fail(err, cap, PROTO_E_IO, "%s: %s", path, strerror(errno));
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    free(buf);
    return rc;
}

int ml_model_load(const char *path, ml_model_t **out, char *err, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = ml_file_read(path, ML_MODEL_MAX_BYTES, PROTO_E_TOO_BIG, &buf, &len, err, cap);
    if (rc == 0)
        rc = ml_model_decode(buf, len, out, err, cap);
    free(buf);
    return rc;
}
