/*  ledger_model: the state of issue 16's contracts (ledger_contract_model.c,
 *  ledger_contract_settle.c): key layout, record codecs and the reads of ledger_model.h.
 *
 *  Records (integers big-endian; key prefixes in ledger_state.h):
 *    job 'j' id (141 bytes): spec_id[32] coordinator[32] rounds u32 query_measurement[32]
 *      height u64 status u8 model_id[32]
 *    spec's jobs 'h' spec (36 bytes): current job id[32] jobs started u32
 *    model 'm' id: msgpack [spec_id bin32, job_id bin32, model_hash bin32,
 *      query_measurement bin32, coordinator bin32, n_train, n_test, n_records,
 *      metrics [[name str, value u64 (the int64's two's complement)]...],
 *      parties [[enclave_id bin32, n_records, weight_bp]...], time_ms, height]
 *    model directory 'f': model ids, publication order (<= LEDGER_MODELS_MAX); the spec's
 *      models 'f' spec: model ids (<= LEDGER_MODELS_PER_SPEC_MAX) (lists as ledger_data.c's)
 *    used records 'q' model owner: entries of 33 bytes data_id[32] party u8, sorted by data
 *      id (<= LEDGER_DATA_PER_OWNER_MAX); an owner's models 'q' owner: model ids
 *      (<= LEDGER_MODELS_MAX)
 *    buy 'b' id (128 bytes): buyer[32] model_id[32] code_hash[32] count u32 claimed u32
 *      price u64 escrow u64 height u64
 *    claimed 'b' buy enclave: u64, the cumulative count that enclave has claimed
 *    role earnings 'z' account: u64
 *    pool 'z' model party u8 (16 bytes): credited u64 paid u64
 *    record paid 'z' model data: u64
 */
#include "ledger/ledger_model.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_model_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_bytes.h"

#define JOB_REC_LEN (32 + 32 + 4 + 32 + 8 + 1 + 32)
#define SPEC_JOBS_LEN (32 + 4)
#define BUY_REC_LEN (32 + 32 + 32 + 4 + 4 + 8 + 8 + 8)
#define USED_REC_LEN 33
#define POOL_LEN 16
#define MODEL_FIELDS 12

uint64_t ledger_bp_of(uint64_t amount, uint32_t bp)
{
    /* amount = q * 10000 + r: q * bp <= amount, r * bp < 10000 * 10000 */
    uint64_t q = amount / LEDGER_SHARES_BP, r = amount % LEDGER_SHARES_BP;
    return q * bp + r * bp / LEDGER_SHARES_BP;
}

uint64_t ledger_record_owed(uint64_t credited, uint32_t n_records, uint64_t paid)
{
    if (n_records == 0)
        return 0;
    uint64_t due = credited / n_records;
    return due > paid ? due - paid : 0;
}

const char *ledger_job_status_name(uint32_t status)
{
    switch (status) {
    case LEDGER_JOB_RUNNING:
        return "running";
    case LEDGER_JOB_PUBLISHED:
        return "published";
    case LEDGER_JOB_REPLACED:
        return "replaced";
    default:
        return "unknown";
    }
}

/* KEY = PREFIX || A || B, B of BLEN bytes (0 for none); its length. */
static size_t s_key(uint8_t key[1 + 32 + 32], uint8_t prefix, const uint8_t a[static 32],
                    const uint8_t *b, size_t blen)
{
    key[0] = prefix;
    memcpy(key + 1, a, 32);
    if (blen)
        memcpy(key + 33, b, blen);
    return 33 + blen;
}

/* The value at KEY of exactly LEN bytes into OUT; LEDGER_E_NOT_FOUND when absent. */
static int s_get_fixed(ledger_state_t *st, const uint8_t *key, size_t klen, uint8_t *out,
                       size_t len)
{
    uint8_t *val;
    size_t vlen;
    int rc = ledger_state_get(st, key, klen, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    if (vlen != len)
        rc = LEDGER_E_CORRUPT;
    else
        memcpy(out, val, len);
    free(val);
    return rc;
}

/* A u64 at KEY into *V, 0 when absent. */
static int s_get_u64(ledger_state_t *st, const uint8_t *key, size_t klen, uint64_t *v)
{
    uint8_t b[8];
    *v = 0;
    int rc = s_get_fixed(st, key, klen, b, sizeof b);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK;
    if (rc == LEDGER_OK)
        *v = proto_be64_get(b);
    return rc;
}

static int s_put_u64(ledger_state_t *st, const uint8_t *key, size_t klen, uint64_t v)
{
    uint8_t b[8];
    proto_be64_put(b, v);
    return ledger_state_put(st, key, klen, b, sizeof b);
}

/* ------------------------------------------------------------ jobs */

int ledger_job_put(ledger_state_t *st, const ledger_job_t *j)
{
    uint8_t key[65], rec[JOB_REC_LEN], *p = rec;
    memcpy(p, j->spec_id, 32);
    p += 32;
    memcpy(p, j->coordinator, 32);
    p += 32;
    proto_be32_put(p, j->rounds);
    p += 4;
    memcpy(p, j->query_measurement, 32);
    p += 32;
    proto_be64_put(p, j->height);
    p += 8;
    *p++ = (uint8_t)j->status;
    memcpy(p, j->model_id, 32);
    size_t klen = s_key(key, LEDGER_KEY_JOB, j->id, NULL, 0);
    return ledger_state_put(st, key, klen, rec, sizeof rec);
}

int ledger_job_get(ledger_state_t *st, const uint8_t id[static 32], ledger_job_t *out)
{
    uint8_t key[65], rec[JOB_REC_LEN];
    const uint8_t *p = rec;
    memset(out, 0, sizeof *out);
    size_t klen = s_key(key, LEDGER_KEY_JOB, id, NULL, 0);
    int rc = s_get_fixed(st, key, klen, rec, sizeof rec);
    if (rc != LEDGER_OK)
        return rc;
    memcpy(out->id, id, 32);
    memcpy(out->spec_id, p, 32);
    p += 32;
    memcpy(out->coordinator, p, 32);
    p += 32;
    out->rounds = proto_be32_get(p);
    p += 4;
    memcpy(out->query_measurement, p, 32);
    p += 32;
    out->height = proto_be64_get(p);
    p += 8;
    out->status = *p++;
    memcpy(out->model_id, p, 32);
    return LEDGER_OK;
}

int ledger_spec_jobs(ledger_state_t *st, const uint8_t spec_id[static 32], uint8_t cur[static 32],
                     uint32_t *started)
{
    uint8_t key[65], rec[SPEC_JOBS_LEN];
    memset(cur, 0, 32);
    *started = 0;
    size_t klen = s_key(key, LEDGER_KEY_SPEC_JOB, spec_id, NULL, 0);
    int rc = s_get_fixed(st, key, klen, rec, sizeof rec);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    memcpy(cur, rec, 32);
    *started = proto_be32_get(rec + 32);
    return *started > LEDGER_JOBS_PER_SPEC_MAX ? LEDGER_E_CORRUPT : LEDGER_OK;
}

int ledger_spec_jobs_put(ledger_state_t *st, const uint8_t spec_id[static 32],
                         const uint8_t cur[static 32], uint32_t started)
{
    uint8_t key[65], rec[SPEC_JOBS_LEN];
    memcpy(rec, cur, 32);
    proto_be32_put(rec + 32, started);
    size_t klen = s_key(key, LEDGER_KEY_SPEC_JOB, spec_id, NULL, 0);
    return ledger_state_put(st, key, klen, rec, sizeof rec);
}

int ledger_job_current(ledger_state_t *st, const uint8_t spec_id[static 32], ledger_job_t *out)
{
    static const uint8_t zero[32];
    uint8_t cur[32];
    uint32_t started;
    memset(out, 0, sizeof *out);
    int rc = ledger_spec_jobs(st, spec_id, cur, &started);
    if (rc != LEDGER_OK)
        return rc;
    if (memcmp(cur, zero, 32) == 0)
        return LEDGER_E_NOT_FOUND;
    rc = ledger_job_get(st, cur, out);
    return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
}

/* ------------------------------------------------------------ models */

int ledger_model_put(ledger_state_t *st, const ledger_model_t *m)
{
    uint8_t key[65];
    if (m->n_metrics > PROTO_PUBLISH_METRICS_MAX || m->n_parties > PROTO_PUBLISH_PARTIES_MAX)
        return LEDGER_E_INVALID;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, MODEL_FIELDS);
    proto_wr_bin(&w, m->spec_id, 32);
    proto_wr_bin(&w, m->job_id, 32);
    proto_wr_bin(&w, m->model_hash, 32);
    proto_wr_bin(&w, m->query_measurement, 32);
    proto_wr_bin(&w, m->coordinator, 32);
    proto_wr_uint(&w, m->n_train);
    proto_wr_uint(&w, m->n_test);
    proto_wr_uint(&w, m->n_records);
    proto_wr_array(&w, (uint32_t)m->n_metrics);
    for (size_t i = 0; i < m->n_metrics; i++) {
        proto_wr_array(&w, 2);
        proto_wr_str(&w, m->metrics[i].name,
                     strnlen(m->metrics[i].name, PROTO_PUBLISH_METRIC_NAME_MAX));
        proto_wr_uint(&w, (uint64_t)m->metrics[i].value_micro);
    }
    proto_wr_array(&w, (uint32_t)m->n_parties);
    for (size_t i = 0; i < m->n_parties; i++) {
        proto_wr_array(&w, 3);
        proto_wr_bin(&w, m->parties[i].enclave_id, 32);
        proto_wr_uint(&w, m->parties[i].n_records);
        proto_wr_uint(&w, m->parties[i].weight_bp);
    }
    proto_wr_uint(&w, m->time_ms);
    proto_wr_uint(&w, m->height);
    size_t len, klen = s_key(key, LEDGER_KEY_MODEL, m->id, NULL, 0);
    const uint8_t *data = proto_wr_data(&w, &len);
    int rc = data ? ledger_state_put(st, key, klen, data, len) : LEDGER_E_NOMEM;
    proto_wr_free(&w);
    return rc;
}

static int s_model_read(proto_rd_t *r, ledger_model_t *m)
{
    uint64_t v[3] = {0}, x = 0, y = 0;
    uint32_t n = 0;
    if (proto_rd_array_exact(r, MODEL_FIELDS) || proto_rd_bin_exact(r, 32, m->spec_id) ||
        proto_rd_bin_exact(r, 32, m->job_id) || proto_rd_bin_exact(r, 32, m->model_hash) ||
        proto_rd_bin_exact(r, 32, m->query_measurement) ||
        proto_rd_bin_exact(r, 32, m->coordinator))
        return r->err;
    for (size_t i = 0; i < 3; i++)
        if (proto_rd_uint(r, UINT32_MAX, &v[i]))
            return r->err;
    m->n_train = (uint32_t)v[0];
    m->n_test = (uint32_t)v[1];
    m->n_records = (uint32_t)v[2];
    if (proto_rd_array_max(r, PROTO_PUBLISH_METRICS_MAX, &n))
        return r->err;
    m->n_metrics = n;
    for (uint32_t i = 0; i < n; i++) {
        if (proto_rd_array_exact(r, 2) ||
            proto_rd_str_copy(r, m->metrics[i].name, sizeof m->metrics[i].name) ||
            proto_rd_uint(r, UINT64_MAX, &x))
            return r->err;
        m->metrics[i].value_micro = (int64_t)x;
    }
    if (proto_rd_array_max(r, PROTO_PUBLISH_PARTIES_MAX, &n))
        return r->err;
    m->n_parties = n;
    for (uint32_t i = 0; i < n; i++) {
        if (proto_rd_array_exact(r, 3) || proto_rd_bin_exact(r, 32, m->parties[i].enclave_id) ||
            proto_rd_uint(r, UINT32_MAX, &x) || proto_rd_uint(r, UINT32_MAX, &y))
            return r->err;
        m->parties[i].n_records = (uint32_t)x;
        m->parties[i].weight_bp = (uint32_t)y;
    }
    if (proto_rd_uint(r, UINT64_MAX, &m->time_ms) || proto_rd_uint(r, UINT64_MAX, &m->height))
        return r->err;
    return proto_rd_finish(r);
}

int ledger_model_get(ledger_state_t *st, const uint8_t id[static 32], ledger_model_t *out)
{
    uint8_t key[65], *val;
    size_t vlen;
    memset(out, 0, sizeof *out);
    size_t klen = s_key(key, LEDGER_KEY_MODEL, id, NULL, 0);
    int rc = ledger_state_get(st, key, klen, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    proto_rd_t r;
    proto_rd_init(&r, val, vlen);
    int prc = s_model_read(&r, out);
    free(val);
    if (prc != PROTO_OK) {
        memset(out, 0, sizeof *out);
        return LEDGER_E_CORRUPT;
    }
    memcpy(out->id, id, 32);
    return LEDGER_OK;
}

int ledger_model_list(ledger_state_t *st, const uint8_t *spec_id, ledger_model_t **out, size_t *n)
{
    uint8_t key[65], *ids = NULL;
    size_t count = 0, klen = 1;
    *out = NULL;
    *n = 0;
    key[0] = LEDGER_KEY_MODEL_DIR;
    if (spec_id)
        klen = s_key(key, LEDGER_KEY_MODEL_DIR, spec_id, NULL, 0);
    int rc = ledger_data_ids(
        st, key, klen, spec_id ? LEDGER_MODELS_PER_SPEC_MAX : LEDGER_MODELS_MAX, &ids, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    ledger_model_t *list = calloc(count, sizeof *list);
    if (!list) {
        free(ids);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count && rc == LEDGER_OK; i++)
        rc = ledger_model_get(st, ids + 32 * i, &list[i]);
    free(ids);
    if (rc != LEDGER_OK) {
        free(list);
        return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
    }
    *out = list;
    *n = count;
    return LEDGER_OK;
}

int ledger_model_used_put(ledger_state_t *st, const uint8_t model_id[static 32],
                          const uint8_t owner[static 32], const ledger_used_rec_t *recs, size_t n)
{
    uint8_t key[65];
    if (n == 0 || n > LEDGER_DATA_PER_OWNER_MAX)
        return LEDGER_E_INVALID;
    uint8_t *val = malloc(n * USED_REC_LEN);
    if (!val)
        return LEDGER_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        memcpy(val + i * USED_REC_LEN, recs[i].data_id, 32);
        val[i * USED_REC_LEN + 32] = recs[i].party;
    }
    size_t klen = s_key(key, LEDGER_KEY_MODEL_USED, model_id, owner, 32);
    int rc = ledger_state_put(st, key, klen, val, n * USED_REC_LEN);
    free(val);
    return rc;
}

int ledger_model_used_get(ledger_state_t *st, const uint8_t model_id[static 32],
                          const uint8_t owner[static 32], ledger_used_rec_t **out, size_t *n)
{
    uint8_t key[65], *val;
    size_t vlen;
    *out = NULL;
    *n = 0;
    size_t klen = s_key(key, LEDGER_KEY_MODEL_USED, model_id, owner, 32);
    int rc = ledger_state_get(st, key, klen, &val, &vlen);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    size_t count = vlen / USED_REC_LEN;
    if (vlen % USED_REC_LEN || count == 0 || count > LEDGER_DATA_PER_OWNER_MAX) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    ledger_used_rec_t *list = calloc(count, sizeof *list);
    if (!list) {
        free(val);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        memcpy(list[i].data_id, val + i * USED_REC_LEN, 32);
        list[i].party = val[i * USED_REC_LEN + 32];
    }
    free(val);
    *out = list;
    *n = count;
    return LEDGER_OK;
}

/* ------------------------------------------------------------ buys */

int ledger_buy_put(ledger_state_t *st, const ledger_buy_t *b)
{
    uint8_t key[65], rec[BUY_REC_LEN], *p = rec;
    memcpy(p, b->buyer, 32);
    p += 32;
    memcpy(p, b->model_id, 32);
    p += 32;
    memcpy(p, b->code_hash, 32);
    p += 32;
    proto_be32_put(p, b->count);
    p += 4;
    proto_be32_put(p, b->claimed);
    p += 4;
    proto_be64_put(p, b->price);
    p += 8;
    proto_be64_put(p, b->escrow);
    p += 8;
    proto_be64_put(p, b->height);
    size_t klen = s_key(key, LEDGER_KEY_BUY, b->id, NULL, 0);
    return ledger_state_put(st, key, klen, rec, sizeof rec);
}

int ledger_buy_get(ledger_state_t *st, const uint8_t id[static 32], ledger_buy_t *out)
{
    uint8_t key[65], rec[BUY_REC_LEN];
    const uint8_t *p = rec;
    memset(out, 0, sizeof *out);
    size_t klen = s_key(key, LEDGER_KEY_BUY, id, NULL, 0);
    int rc = s_get_fixed(st, key, klen, rec, sizeof rec);
    if (rc != LEDGER_OK)
        return rc;
    memcpy(out->id, id, 32);
    memcpy(out->buyer, p, 32);
    p += 32;
    memcpy(out->model_id, p, 32);
    p += 32;
    memcpy(out->code_hash, p, 32);
    p += 32;
    out->count = proto_be32_get(p);
    p += 4;
    out->claimed = proto_be32_get(p);
    p += 4;
    out->price = proto_be64_get(p);
    p += 8;
    out->escrow = proto_be64_get(p);
    p += 8;
    out->height = proto_be64_get(p);
    return out->claimed > out->count ? LEDGER_E_CORRUPT : LEDGER_OK;
}

int ledger_buy_claimed(ledger_state_t *st, const uint8_t buy_id[static 32],
                       const uint8_t enclave_id[static 32], uint64_t *count)
{
    uint8_t key[65];
    size_t klen = s_key(key, LEDGER_KEY_BUY, buy_id, enclave_id, 32);
    return s_get_u64(st, key, klen, count);
}

int ledger_buy_claimed_put(ledger_state_t *st, const uint8_t buy_id[static 32],
                           const uint8_t enclave_id[static 32], uint64_t count)
{
    uint8_t key[65];
    size_t klen = s_key(key, LEDGER_KEY_BUY, buy_id, enclave_id, 32);
    return s_put_u64(st, key, klen, count);
}

/* ------------------------------------------------------------ earnings */

int ledger_earnings_role(ledger_state_t *st, const uint8_t account[static 32], uint64_t *out)
{
    uint8_t key[65];
    size_t klen = s_key(key, LEDGER_KEY_EARN, account, NULL, 0);
    return s_get_u64(st, key, klen, out);
}

int ledger_earnings_role_put(ledger_state_t *st, const uint8_t account[static 32], uint64_t v)
{
    uint8_t key[65];
    size_t klen = s_key(key, LEDGER_KEY_EARN, account, NULL, 0);
    if (v == 0)
        return ledger_state_del(st, key, klen);
    return s_put_u64(st, key, klen, v);
}

int ledger_pool_get(ledger_state_t *st, const uint8_t model_id[static 32], uint32_t party,
                    uint64_t *credited, uint64_t *paid)
{
    uint8_t key[65], p = (uint8_t)party, rec[POOL_LEN];
    *credited = *paid = 0;
    if (party >= PROTO_PUBLISH_PARTIES_MAX)
        return LEDGER_E_NOT_FOUND;
    size_t klen = s_key(key, LEDGER_KEY_EARN, model_id, &p, 1);
    int rc = s_get_fixed(st, key, klen, rec, sizeof rec);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    *credited = proto_be64_get(rec);
    *paid = proto_be64_get(rec + 8);
    return *paid > *credited ? LEDGER_E_CORRUPT : LEDGER_OK;
}

int ledger_pool_put(ledger_state_t *st, const uint8_t model_id[static 32], uint32_t party,
                    uint64_t credited, uint64_t paid)
{
    uint8_t key[65], p = (uint8_t)party, rec[POOL_LEN];
    if (party >= PROTO_PUBLISH_PARTIES_MAX || paid > credited)
        return LEDGER_E_INVALID;
    proto_be64_put(rec, credited);
    proto_be64_put(rec + 8, paid);
    size_t klen = s_key(key, LEDGER_KEY_EARN, model_id, &p, 1);
    return ledger_state_put(st, key, klen, rec, sizeof rec);
}

int ledger_record_paid(ledger_state_t *st, const uint8_t model_id[static 32],
                       const uint8_t data_id[static 32], uint64_t *paid)
{
    uint8_t key[65];
    size_t klen = s_key(key, LEDGER_KEY_EARN, model_id, data_id, 32);
    return s_get_u64(st, key, klen, paid);
}

int ledger_record_paid_put(ledger_state_t *st, const uint8_t model_id[static 32],
                           const uint8_t data_id[static 32], uint64_t paid)
{
    uint8_t key[65];
    size_t klen = s_key(key, LEDGER_KEY_EARN, model_id, data_id, 32);
    return s_put_u64(st, key, klen, paid);
}

int ledger_earnings_owed(ledger_state_t *st, const uint8_t account[static 32],
                         const uint8_t model_id[static 32], ledger_model_owed_t *out)
{
    ledger_used_rec_t *recs = NULL;
    size_t n = 0;
    uint64_t credited[PROTO_PUBLISH_PARTIES_MAX] = {0}, paid_p = 0;
    bool have[PROTO_PUBLISH_PARTIES_MAX] = {false};
    memset(out, 0, sizeof *out);
    memcpy(out->model_id, model_id, 32);
    ledger_model_t *m = malloc(sizeof *m);
    if (!m)
        return LEDGER_E_NOMEM;
    int rc = ledger_model_get(st, model_id, m);
    if (rc == LEDGER_OK)
        rc = ledger_model_used_get(st, model_id, account, &recs, &n);
    for (size_t i = 0; i < n && rc == LEDGER_OK; i++) {
        uint32_t p = recs[i].party;
        uint64_t paid = 0;
        if (p >= m->n_parties) {
            rc = LEDGER_E_CORRUPT;
            break;
        }
        if (!have[p]) {
            rc = ledger_pool_get(st, model_id, p, &credited[p], &paid_p);
            have[p] = true;
        }
        if (rc == LEDGER_OK)
            rc = ledger_record_paid(st, model_id, recs[i].data_id, &paid);
        if (rc == LEDGER_OK) {
            uint64_t owed = ledger_record_owed(credited[p], m->parties[p].n_records, paid);
            if (out->owed > UINT64_MAX - owed)
                rc = LEDGER_E_CORRUPT;
            else
                out->owed += owed;
        }
    }
    if (rc == LEDGER_OK)
        out->n_records = (uint32_t)n;
    free(recs);
    free(m);
    return rc;
}

int ledger_earnings_models(ledger_state_t *st, const uint8_t account[static 32],
                           ledger_model_owed_t **out, size_t *n)
{
    uint8_t key[65], *ids = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    size_t klen = s_key(key, LEDGER_KEY_MODEL_USED, account, NULL, 0);
    int rc = ledger_data_ids(st, key, klen, LEDGER_MODELS_MAX, &ids, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    ledger_model_owed_t *list = calloc(count, sizeof *list);
    if (!list) {
        free(ids);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count && rc == LEDGER_OK; i++)
        rc = ledger_earnings_owed(st, account, ids + 32 * i, &list[i]);
    free(ids);
    if (rc != LEDGER_OK) {
        free(list);
        return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
    }
    *out = list;
    *n = count;
    return LEDGER_OK;
}
