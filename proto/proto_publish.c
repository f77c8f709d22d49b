/*  proto_publish: model publications, usage reports, the records root and the access code
 *  hash (see proto_publish.h for the formats and rules). */
#include "proto/proto_publish.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_codec.h"
#include "proto/proto_key.h"
#include "proto/proto_sigbatch.h"

#define PUBLISH_DOMAIN "genie/enclave/model-publication/v1"
#define USAGE_DOMAIN "genie/enclave/usage-report/v1"
#define RECORDS_DOMAIN "genie/records/v1"
#define ACCESS_DOMAIN "genie/access-code/v1"
#define PUBLISH_FIELDS 14
#define USAGE_FIELDS 7

/* ---- records root and access code ---- */

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

void proto_publish_records_root_inplace(uint8_t (*ids)[32], size_t n, uint8_t out[static 32])
{
    if (n > 1)
        qsort(ids, n, 32, s_id_cmp);
    proto_hash(RECORDS_DOMAIN, n ? ids[0] : NULL, n * 32, out);
}

int proto_publish_records_root(const uint8_t (*ids)[32], size_t n, uint8_t out[static 32])
{
    if (n == 0) {
        proto_hash(RECORDS_DOMAIN, NULL, 0, out);
        return PROTO_OK;
    }
    uint8_t(*copy)[32] = malloc(n * 32);
    if (!copy) {
        memset(out, 0, 32);
        return PROTO_E_NOMEM;
    }
    memcpy(copy, ids, n * 32);
    proto_publish_records_root_inplace(copy, n, out);
    free(copy);
    return PROTO_OK;
}

uint32_t proto_publish_bitmap_count(const uint8_t *bitmap, size_t len)
{
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++)
        for (uint8_t b = bitmap[i]; b; b &= (uint8_t)(b - 1))
            n++;
    return n;
}

void proto_access_code_hash(const uint8_t code[static 32], uint8_t out[static 32])
{
    proto_hash(ACCESS_DOMAIN, code, 32, out);
}

/* ---- signed integers (metric values): msgpack's shortest form, as msgpack-c packs them */

static void s_wr_int(proto_wr_t *w, int64_t v)
{
    if (v >= 0) {
        proto_wr_uint(w, (uint64_t)v);
        return;
    }
    uint8_t b[9];
    size_t n;
    uint64_t u = (uint64_t)v; /* two's complement bytes */
    if (v >= -32) {
        b[0] = (uint8_t)u;
        n = 1;
    } else {
        int width = v >= INT8_MIN ? 1 : v >= INT16_MIN ? 2 : v >= INT32_MIN ? 4 : 8;
        b[0] = width == 1 ? 0xd0 : width == 2 ? 0xd1 : width == 4 ? 0xd2 : 0xd3;
        for (int i = 0; i < width; i++)
            b[1 + i] = (uint8_t)(u >> (8 * (width - 1 - i)));
        n = 1 + (size_t)width;
    }
    proto_wr_raw(w, b, n);
}

/* Reads a signed integer into *V: a non-negative one must be in its shortest unsigned
   form (proto_rd_uint), a negative one in its shortest signed form. */
static int s_rd_int(proto_rd_t *r, int64_t *v)
{
    *v = 0;
    if (r->err)
        return r->err;
    if (r->pos >= r->len)
        return r->err = PROTO_E_TRUNCATED;
    uint8_t b = r->buf[r->pos];
    if (b <= 0x7f || (b >= 0xcc && b <= 0xcf)) {
        uint64_t u;
        if (proto_rd_uint(r, INT64_MAX, &u))
            return r->err;
        *v = (int64_t)u;
        return PROTO_OK;
    }
    if (b >= 0xe0) {
        r->pos++;
        *v = (int64_t)(int8_t)b;
        return PROTO_OK;
    }
    if (b < 0xd0 || b > 0xd3)
        return r->err = PROTO_E_TYPE;
    size_t width = (size_t)1 << (b - 0xd0);
    if (r->len - r->pos - 1 < width)
        return r->err = PROTO_E_TRUNCATED;
    uint64_t u = 0;
    for (size_t i = 0; i < width; i++)
        u = (u << 8) | r->buf[r->pos + 1 + i];
    if (width < 8 && (u >> (8 * width - 1)) & 1) /* sign-extend */
        u |= ~(uint64_t)0 << (8 * width);
    int64_t x = (int64_t)u;
    static const int64_t mins[] = {-32, INT8_MIN, INT16_MIN, INT32_MIN};
    int k = b - 0xd0; /* the value must need this width: below the next narrower form */
    if (x >= mins[k])
        return r->err = PROTO_E_NONCANONICAL;
    r->pos += 1 + width;
    *v = x;
    return PROTO_OK;
}

/* ---- model publications ---- */

static bool s_metric_name_ok(const char *s)
{
    size_t n = strnlen(s, PROTO_PUBLISH_METRIC_NAME_MAX + 1);
    if (n == 0 || n > PROTO_PUBLISH_METRIC_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* The publication's rules (proto_publish.h). */
static bool s_publish_fields_ok(const proto_publish_t *p)
{
    if (p->n_metrics > PROTO_PUBLISH_METRICS_MAX || p->n_parties == 0 ||
        p->n_parties > PROTO_PUBLISH_PARTIES_MAX || p->bitmap_len == 0 ||
        p->bitmap_len > PROTO_PUBLISH_BITMAP_MAX || p->bitmap[p->bitmap_len - 1] == 0 ||
        p->n_records == 0)
        return false;
    for (size_t i = 0; i < p->n_metrics; i++) {
        if (!s_metric_name_ok(p->metrics[i].name))
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->metrics[i].name, p->metrics[j].name) == 0)
                return false;
    }
    uint64_t weights = 0, records = 0;
    for (size_t i = 0; i < p->n_parties; i++) {
        const proto_publish_party_t *q = &p->parties[i];
        if (q->n_records == 0 && (q->weight_bp != 0 || i == 0))
            return false;
        weights += q->weight_bp;
        records += q->n_records;
        for (size_t j = 0; j < i; j++)
            if (memcmp(q->enclave_id, p->parties[j].enclave_id, 32) == 0)
                return false;
    }
    return weights == PROTO_PUBLISH_WEIGHTS_BP && records == p->n_records &&
           proto_publish_bitmap_count(p->bitmap, p->bitmap_len) == p->n_records;
}

/* Whether P's counts fit their arrays (what the writer needs to stay in bounds). */
static bool s_publish_counts_ok(const proto_publish_t *p)
{
    return p->n_metrics <= PROTO_PUBLISH_METRICS_MAX && p->n_parties <= PROTO_PUBLISH_PARTIES_MAX &&
           p->bitmap_len <= PROTO_PUBLISH_BITMAP_MAX;
}

static void s_publish_part(proto_wr_t *w, const proto_publish_t *p, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, p->version);
    proto_wr_bin(w, p->job_id, 32);
    proto_wr_bin(w, p->spec_id, 32);
    proto_wr_bin(w, p->model_hash, 32);
    proto_wr_uint(w, p->n_train);
    proto_wr_uint(w, p->n_test);
    proto_wr_array(w, (uint32_t)p->n_metrics);
    for (size_t i = 0; i < p->n_metrics; i++) {
        proto_wr_array(w, 2);
        proto_wr_str(w, p->metrics[i].name,
                     strnlen(p->metrics[i].name, PROTO_PUBLISH_METRIC_NAME_MAX));
        s_wr_int(w, p->metrics[i].value_micro);
    }
    proto_wr_bin(w, p->records_root, 32);
    proto_wr_uint(w, p->n_records);
    proto_wr_bin(w, p->bitmap, p->bitmap_len);
    proto_wr_array(w, (uint32_t)p->n_parties);
    for (size_t i = 0; i < p->n_parties; i++) {
        proto_wr_array(w, 3);
        proto_wr_bin(w, p->parties[i].enclave_id, 32);
        proto_wr_uint(w, p->parties[i].n_records);
        proto_wr_uint(w, p->parties[i].weight_bp);
    }
    proto_wr_uint(w, p->time_ms);
    proto_wr_bin(w, p->enclave_pk, 32);
}

int proto_publish_signing_hash(const proto_publish_t *p, uint8_t out[static 32])
{
    if (!s_publish_counts_ok(p)) {
        memset(out, 0, 32);
        return PROTO_E_INVALID;
    }
    proto_wr_t w;
    proto_wr_init(&w);
    s_publish_part(&w, p, PUBLISH_FIELDS - 1);
    return proto_codec_hash(&w, PUBLISH_DOMAIN, out);
}

int proto_publish_sign(proto_publish_t *p, const uint8_t sign_sk[static 64])
{
    if (!s_publish_fields_ok(p))
        return PROTO_E_INVALID;
    p->version = PROTO_PUBLISH_VERSION;
    crypto_sign_ed25519_sk_to_pk(p->enclave_pk, sign_sk);
    uint8_t hash[32];
    int rc = proto_publish_signing_hash(p, hash);
    if (rc != PROTO_OK)
        return rc;
    crypto_sign_detached(p->sig, NULL, hash, 32, sign_sk);
    return PROTO_OK;
}

void proto_publish_write(proto_wr_t *w, const proto_publish_t *p)
{
    if (!s_publish_counts_ok(p)) {
        if (w->err == PROTO_OK)
            w->err = PROTO_E_INVALID;
        return;
    }
    s_publish_part(w, p, PUBLISH_FIELDS);
    proto_wr_bin(w, p->sig, 64);
}

int proto_publish_encode(const proto_publish_t *p, uint8_t **out, size_t *len)
{
    if (!s_publish_counts_ok(p)) {
        *out = NULL;
        *len = 0;
        return PROTO_E_INVALID;
    }
    proto_wr_t w;
    proto_wr_init(&w);
    proto_publish_write(&w, p);
    *out = proto_wr_take(&w, len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

static int s_rd_metrics(proto_rd_t *rd, proto_publish_t *out)
{
    uint32_t n;
    if (proto_rd_array_max(rd, PROTO_PUBLISH_METRICS_MAX, &n))
        return rd->err;
    out->n_metrics = n;
    for (uint32_t i = 0; i < n; i++)
        if (proto_rd_array_exact(rd, 2) ||
            proto_rd_str_copy(rd, out->metrics[i].name, sizeof out->metrics[i].name) ||
            s_rd_int(rd, &out->metrics[i].value_micro))
            return rd->err;
    return PROTO_OK;
}

static int s_rd_parties(proto_rd_t *rd, proto_publish_t *out)
{
    uint32_t n;
    if (proto_rd_array_max(rd, PROTO_PUBLISH_PARTIES_MAX, &n))
        return rd->err;
    out->n_parties = n;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t recs, weight;
        if (proto_rd_array_exact(rd, 3) || proto_rd_bin_exact(rd, 32, out->parties[i].enclave_id) ||
            proto_rd_uint(rd, UINT32_MAX, &recs) ||
            proto_rd_uint(rd, PROTO_PUBLISH_WEIGHTS_BP, &weight))
            return rd->err;
        out->parties[i].n_records = (uint32_t)recs;
        out->parties[i].weight_bp = (uint32_t)weight;
    }
    return PROTO_OK;
}

int proto_publish_read(proto_rd_t *rd, proto_publish_t *out)
{
    uint64_t n_train, n_test, n_records, time_ms;
    const uint8_t *bitmap;
    size_t bitmap_len;
    memset(out, 0, sizeof *out);
    if (proto_codec_read_head(rd, PUBLISH_FIELDS, PROTO_PUBLISH_VERSION))
        goto err;
    if (proto_rd_bin_exact(rd, 32, out->job_id) || proto_rd_bin_exact(rd, 32, out->spec_id) ||
        proto_rd_bin_exact(rd, 32, out->model_hash) || proto_rd_uint(rd, UINT32_MAX, &n_train) ||
        proto_rd_uint(rd, UINT32_MAX, &n_test) || s_rd_metrics(rd, out) ||
        proto_rd_bin_exact(rd, 32, out->records_root) ||
        proto_rd_uint(rd, UINT32_MAX, &n_records) ||
        proto_rd_bin(rd, PROTO_PUBLISH_BITMAP_MAX, &bitmap, &bitmap_len) || s_rd_parties(rd, out) ||
        proto_rd_uint(rd, UINT64_MAX, &time_ms) || proto_rd_bin_exact(rd, 32, out->enclave_pk) ||
        proto_rd_bin_exact(rd, 64, out->sig))
        goto err;
    out->version = PROTO_PUBLISH_VERSION;
    out->n_train = (uint32_t)n_train;
    out->n_test = (uint32_t)n_test;
    out->n_records = (uint32_t)n_records;
    out->bitmap_len = bitmap_len;
    if (bitmap_len)
        memcpy(out->bitmap, bitmap, bitmap_len);
    out->time_ms = time_ms;
    if (!s_publish_fields_ok(out)) {
        rd->err = PROTO_E_INVALID;
        goto err;
    }
    return PROTO_OK;
err:
    return proto_codec_fail(rd, out, sizeof *out);
}

static int s_publish_read(proto_rd_t *rd, void *out)
{
    return proto_publish_read(rd, out);
}

int proto_publish_decode(const uint8_t *buf, size_t len, proto_publish_t *out)
{
    return proto_codec_decode(s_publish_read, buf, len, PROTO_PUBLISH_MAX_BYTES, out, sizeof *out);
}

int proto_publish_verify(const proto_publish_t *p)
{
    if (p->version != PROTO_PUBLISH_VERSION)
        return PROTO_E_VERSION;
    if (!s_publish_fields_ok(p))
        return PROTO_E_INVALID;
    uint8_t hash[32];
    int rc = proto_publish_signing_hash(p, hash);
    if (rc != PROTO_OK)
        return rc;
    return proto_sig_check(p->enclave_pk, hash, 32, p->sig) ? PROTO_OK : PROTO_E_BAD_SIG;
}

/* ---- usage reports ---- */

static void s_usage_part(proto_wr_t *w, const proto_usage_t *u, uint32_t n)
{
    proto_wr_array(w, n);
    proto_wr_uint(w, u->version);
    proto_wr_bin(w, u->model_id, 32);
    proto_wr_bin(w, u->buy_id, 32);
    proto_wr_uint(w, u->count);
    proto_wr_uint(w, u->time_ms);
    proto_wr_bin(w, u->enclave_pk, 32);
}

int proto_usage_signing_hash(const proto_usage_t *u, uint8_t out[static 32])
{
    proto_wr_t w;
    proto_wr_init(&w);
    s_usage_part(&w, u, USAGE_FIELDS - 1);
    return proto_codec_hash(&w, USAGE_DOMAIN, out);
}

int proto_usage_sign(proto_usage_t *u, const uint8_t sign_sk[static 64])
{
    u->version = PROTO_USAGE_VERSION;
    crypto_sign_ed25519_sk_to_pk(u->enclave_pk, sign_sk);
    uint8_t hash[32];
    int rc = proto_usage_signing_hash(u, hash);
    if (rc != PROTO_OK)
        return rc;
    crypto_sign_detached(u->sig, NULL, hash, 32, sign_sk);
    return PROTO_OK;
}

void proto_usage_write(proto_wr_t *w, const proto_usage_t *u)
{
    s_usage_part(w, u, USAGE_FIELDS);
    proto_wr_bin(w, u->sig, 64);
}

static void s_usage_write(proto_wr_t *w, const void *u)
{
    proto_usage_write(w, u);
}

int proto_usage_encode(const proto_usage_t *u, uint8_t **out, size_t *len)
{
    return proto_codec_encode(s_usage_write, u, out, len);
}

int proto_usage_read(proto_rd_t *rd, proto_usage_t *out)
{
    memset(out, 0, sizeof *out);
    if (proto_codec_read_head(rd, USAGE_FIELDS, PROTO_USAGE_VERSION))
        goto err;
    if (proto_rd_bin_exact(rd, 32, out->model_id) || proto_rd_bin_exact(rd, 32, out->buy_id) ||
        proto_rd_uint(rd, UINT64_MAX, &out->count) ||
        proto_rd_uint(rd, UINT64_MAX, &out->time_ms) ||
        proto_rd_bin_exact(rd, 32, out->enclave_pk) || proto_rd_bin_exact(rd, 64, out->sig))
        goto err;
    out->version = PROTO_USAGE_VERSION;
    return PROTO_OK;
err:
    return proto_codec_fail(rd, out, sizeof *out);
}

static int s_usage_read(proto_rd_t *rd, void *out)
{
    return proto_usage_read(rd, out);
}

int proto_usage_decode(const uint8_t *buf, size_t len, proto_usage_t *out)
{
    return proto_codec_decode(s_usage_read, buf, len, PROTO_USAGE_MAX_BYTES, out, sizeof *out);
}

int proto_usage_verify(const proto_usage_t *u)
{
    if (u->version != PROTO_USAGE_VERSION)
        return PROTO_E_VERSION;
    uint8_t hash[32];
    int rc = proto_usage_signing_hash(u, hash);
    if (rc != PROTO_OK)
        return rc;
    return proto_sig_check(u->enclave_pk, hash, 32, u->sig) ? PROTO_OK : PROTO_E_BAD_SIG;
}
