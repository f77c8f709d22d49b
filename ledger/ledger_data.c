/*  ledger_data: the state of the data owner's contracts (ledger_contract_data.c,
 *  ledger_contract_market.c): key layout, record codecs, the body list readers, and the
 *  public reads of ledger_data.h.
 *
 *  Records (integers big-endian; keys in ledger_state.h):
 *    data 'o' id (121 bytes): owner[32] data_type u32 size_class u32 address[32]
 *      validator[32] height u64 status u8 status_height u64
 *    owner's records 'p' owner: data ids[32], registration order (<= LEDGER_DATA_PER_OWNER_MAX)
 *    audit trail 'i' id: entries of 105 bytes, oldest first (<= LEDGER_DATA_USES_MAX):
 *      use u8 height u64 actor[32] spec_id[32] txid[32]
 *    consent 'c' owner data_id: msgpack [allow_types [str], allow_purposes [str],
 *      deny_types [str], deny_purposes [str], max_epsilon_milli, min_audits,
 *      auditors [bin32], height]
 *    trainer 't' account: msgpack [name str, height]
 *    spec 's' id: msgpack [trainer bin32, model_type, purpose, features [str], label,
 *      measurement bin32, min_donors, max_epsilon_milli, aggregation, price,
 *      share_donors_bp, share_trainer_bp, share_runner_bp, height]
 *    spec directory 'l': spec ids, registration order (<= LEDGER_SPECS_MAX)
 *    donor 'x' spec data (80 bytes): owner[32] enclave_id[32] time_ms u64 height u64
 *    spec's donors 'y' spec: data ids, registration order (<= LEDGER_DONORS_PER_SPEC_MAX)
 *    grant 'k' data enclave: spec_id[32] || grant (<= LEDGER_GRANT_MAX bytes)
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_data_int.h"
#include "ledger/ledger_state.h"
#include "proto/proto_bytes.h"

static const uint8_t s_zero[32];

void ledger_data_key1(uint8_t key[LEDGER_DATA_KEY1_LEN], uint8_t prefix, const uint8_t a[static 32])
{
    key[0] = prefix;
    memcpy(key + 1, a, 32);
}

void ledger_data_key2(uint8_t key[LEDGER_DATA_KEY2_LEN], uint8_t prefix, const uint8_t a[static 32],
                      const uint8_t b[static 32])
{
    key[0] = prefix;
    memcpy(key + 1, a, 32);
    memcpy(key + 33, b, 32);
}

/* The value at KEY, *VAL NULL when absent. */
static int s_get_opt(ledger_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                     size_t *vlen)
{
    int rc = ledger_state_get(st, key, klen, val, vlen);
    if (rc == LEDGER_E_NOT_FOUND) {
        *val = NULL;
        *vlen = 0;
        return LEDGER_OK;
    }
    return rc;
}

/* ------------------------------------------------------------ body lists */

int ledger_list_rd_str(proto_rd_t *r, uint32_t max_n, size_t max_len, ledger_list_view_t *v)
{
    size_t start = r->pos;
    uint32_t n = 0;
    int rc = proto_rd_array_max(r, max_n, &n);
    for (uint32_t i = 0; rc == PROTO_OK && i < n; i++) {
        const char *p;
        size_t len;
        rc = proto_rd_str(r, max_len, &p, &len);
    }
    if (rc != PROTO_OK)
        return rc;
    v->raw = r->buf + start;
    v->len = r->pos - start;
    v->n = n;
    return PROTO_OK;
}

int ledger_list_rd_bin32(proto_rd_t *r, uint32_t max_n, ledger_list_view_t *v)
{
    size_t start = r->pos;
    uint32_t n = 0;
    uint8_t tmp[32];
    int rc = proto_rd_array_max(r, max_n, &n);
    for (uint32_t i = 0; rc == PROTO_OK && i < n; i++)
        rc = proto_rd_bin_exact(r, 32, tmp);
    if (rc != PROTO_OK)
        return rc;
    v->raw = r->buf + start;
    v->len = r->pos - start;
    v->n = n;
    return PROTO_OK;
}

/* Reads a string array of at most MAX_N into OUT rows of CAP bytes; *N its count. */
static int s_rd_strs(proto_rd_t *r, uint32_t max_n, char *out, size_t cap, uint32_t *n)
{
    int rc = proto_rd_array_max(r, max_n, n);
    for (uint32_t i = 0; rc == PROTO_OK && i < *n; i++)
        rc = proto_rd_str_copy(r, out + i * cap, cap);
    return rc;
}

static int s_rd_bin32s(proto_rd_t *r, uint32_t max_n, uint8_t (*out)[32], uint32_t *n)
{
    int rc = proto_rd_array_max(r, max_n, n);
    for (uint32_t i = 0; rc == PROTO_OK && i < *n; i++)
        rc = proto_rd_bin_exact(r, 32, out[i]);
    return rc;
}

int ledger_list_strs(const ledger_list_view_t *v, char *out, size_t cap)
{
    proto_rd_t r;
    uint32_t n;
    proto_rd_init(&r, v->raw, v->len);
    int rc = s_rd_strs(&r, v->n, out, cap, &n);
    return rc == PROTO_OK ? proto_rd_finish(&r) : rc;
}

int ledger_list_bin32(const ledger_list_view_t *v, uint8_t (*out)[32])
{
    proto_rd_t r;
    uint32_t n;
    proto_rd_init(&r, v->raw, v->len);
    int rc = s_rd_bin32s(&r, v->n, out, &n);
    return rc == PROTO_OK ? proto_rd_finish(&r) : rc;
}

static int s_names_view(const ledger_list_view_t *v, ledger_names_t *out)
{
    out->n = v->n;
    return ledger_list_strs(v, &out->v[0][0], sizeof out->v[0]);
}

int ledger_consent_from_body(const ledger_consent_set_t *b, ledger_consent_t *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->data_id, b->data_id, 32);
    int rc = s_names_view(&b->allow_types, &out->allow_types);
    if (rc == PROTO_OK)
        rc = s_names_view(&b->allow_purposes, &out->allow_purposes);
    if (rc == PROTO_OK)
        rc = s_names_view(&b->deny_types, &out->deny_types);
    if (rc == PROTO_OK)
        rc = s_names_view(&b->deny_purposes, &out->deny_purposes);
    out->max_epsilon_milli = b->max_epsilon_milli;
    out->min_audits = b->min_audits;
    out->n_auditors = b->auditors.n;
    if (rc == PROTO_OK)
        rc = ledger_list_bin32(&b->auditors, out->auditors);
    return rc;
}

/* Copies LEN bytes of S into OUT (CAP bytes, LEN < CAP), NUL-terminated. */
static int s_copy_str(char *out, size_t cap, const char *s, size_t len)
{
    if (len >= cap)
        return PROTO_E_TOO_LONG;
    memcpy(out, s, len);
    out[len] = '\0';
    return PROTO_OK;
}

int ledger_spec_from_body(const ledger_spec_register_t *b, ledger_spec_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = s_copy_str(out->model_type, sizeof out->model_type, b->model_type, b->model_type_len);
    if (rc == PROTO_OK)
        rc = s_copy_str(out->purpose, sizeof out->purpose, b->purpose, b->purpose_len);
    if (rc == PROTO_OK)
        rc = s_copy_str(out->label, sizeof out->label, b->label, b->label_len);
    out->n_features = b->features.n;
    if (rc == PROTO_OK)
        rc = ledger_list_strs(&b->features, &out->features[0][0], sizeof out->features[0]);
    memcpy(out->measurement, b->measurement, 32);
    out->min_donors = b->min_donors;
    out->max_epsilon_milli = b->max_epsilon_milli;
    out->aggregation = b->aggregation;
    out->price = b->price;
    out->share_donors_bp = b->share_donors_bp;
    out->share_trainer_bp = b->share_trainer_bp;
    out->share_runner_bp = b->share_runner_bp;
    return rc;
}

/* ------------------------------------------------------------ id lists */

int ledger_data_ids(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max, uint8_t **ids,
                    size_t *n)
{
    size_t vlen;
    *n = 0;
    int rc = s_get_opt(st, key, klen, ids, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    if (vlen % 32 != 0 || vlen / 32 > max) {
        free(*ids);
        *ids = NULL;
        return LEDGER_E_CORRUPT;
    }
    *n = vlen / 32;
    return LEDGER_OK;
}

int ledger_data_ids_append(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                           const uint8_t id[static 32], const char *full_why, const char **why)
{
    uint8_t *ids = NULL;
    size_t n = 0;
    int rc = ledger_data_ids(st, key, klen, max, &ids, &n);
    if (rc != LEDGER_OK) {
        *why = "cannot read the ledger state";
        return rc;
    }
    if (n >= max) {
        free(ids);
        *why = full_why;
        return LEDGER_E_DATA_RULE;
    }
    uint8_t *grown = realloc(ids, (n + 1) * 32);
    if (!grown) {
        free(ids);
        *why = "out of memory";
        return LEDGER_E_NOMEM;
    }
    memcpy(grown + n * 32, id, 32);
    rc = ledger_state_put(st, key, klen, grown, (n + 1) * 32);
    free(grown);
    if (rc != LEDGER_OK)
        *why = "out of memory";
    return rc;
}

/* ------------------------------------------------------------ data records */

int ledger_data_put(ledger_state_t *st, const ledger_data_t *d)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], rec[LEDGER_DATA_REC_LEN], *p = rec;
    memcpy(p, d->owner, 32);
    p += 32;
    proto_be32_put(p, d->data_type);
    p += 4;
    proto_be32_put(p, d->size_class);
    p += 4;
    memcpy(p, d->address, 32);
    p += 32;
    memcpy(p, d->validator, 32);
    p += 32;
    proto_be64_put(p, d->height);
    p += 8;
    *p++ = (uint8_t)d->status;
    proto_be64_put(p, d->status_height);
    ledger_data_key1(key, LEDGER_KEY_DATA, d->id);
    return ledger_state_put(st, key, sizeof key, rec, sizeof rec);
}

int ledger_data_get(ledger_state_t *st, const uint8_t id[static 32], ledger_data_t *out)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *val;
    size_t vlen;
    memset(out, 0, sizeof *out);
    ledger_data_key1(key, LEDGER_KEY_DATA, id);
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    if (vlen != LEDGER_DATA_REC_LEN) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    const uint8_t *p = val;
    memcpy(out->id, id, 32);
    memcpy(out->owner, p, 32);
    p += 32;
    out->data_type = proto_be32_get(p);
    p += 4;
    out->size_class = proto_be32_get(p);
    p += 4;
    memcpy(out->address, p, 32);
    p += 32;
    memcpy(out->validator, p, 32);
    p += 32;
    out->height = proto_be64_get(p);
    p += 8;
    out->status = *p++;
    out->status_height = proto_be64_get(p);
    free(val);
    return LEDGER_OK;
}

int ledger_data_list(ledger_state_t *st, const uint8_t owner[static 32], ledger_data_t **out,
                     size_t *n)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *ids = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    ledger_data_key1(key, LEDGER_KEY_DATA_OWNER, owner);
    int rc = ledger_data_ids(st, key, sizeof key, LEDGER_DATA_PER_OWNER_MAX, &ids, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    ledger_data_t *list = calloc(count, sizeof *list);
    if (!list) {
        free(ids);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count && rc == LEDGER_OK; i++)
        rc = ledger_data_get(st, ids + i * 32, &list[i]);
    free(ids);
    if (rc != LEDGER_OK) {
        free(list);
        return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
    }
    *out = list;
    *n = count;
    return LEDGER_OK;
}

int ledger_data_use_add(ledger_state_t *st, const uint8_t id[static 32], uint32_t use,
                        const uint8_t actor[static 32], const uint8_t *spec,
                        const uint8_t txid[static 32], uint64_t height, const char **why)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *val = NULL;
    size_t vlen;
    ledger_data_key1(key, LEDGER_KEY_DATA_USES, id);
    int rc = s_get_opt(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK) {
        *why = "cannot read the audit trail";
        return rc;
    }
    if (vlen % LEDGER_DATA_USE_LEN != 0 || vlen / LEDGER_DATA_USE_LEN > LEDGER_DATA_USES_MAX) {
        free(val);
        *why = "audit trail corrupt";
        return LEDGER_E_CORRUPT;
    }
    /* the last slot is kept for the withdrawal */
    size_t room = use == LEDGER_USE_WITHDRAWN ? LEDGER_DATA_USES_MAX : LEDGER_DATA_USES_MAX - 1;
    if (vlen / LEDGER_DATA_USE_LEN >= room) {
        free(val);
        *why = "the record's audit trail is full";
        return LEDGER_E_DATA_RULE;
    }
    uint8_t *grown = realloc(val, vlen + LEDGER_DATA_USE_LEN);
    if (!grown) {
        free(val);
        *why = "out of memory";
        return LEDGER_E_NOMEM;
    }
    uint8_t *p = grown + vlen;
    p[0] = (uint8_t)use;
    proto_be64_put(p + 1, height);
    memcpy(p + 9, actor, 32);
    memcpy(p + 41, spec ? spec : s_zero, 32);
    memcpy(p + 73, txid, 32);
    rc = ledger_state_put(st, key, sizeof key, grown, vlen + LEDGER_DATA_USE_LEN);
    free(grown);
    if (rc != LEDGER_OK)
        *why = "out of memory";
    return rc;
}

int ledger_data_uses(ledger_state_t *st, const uint8_t id[static 32], ledger_use_entry_t **out,
                     size_t *n)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *val = NULL;
    size_t vlen;
    *out = NULL;
    *n = 0;
    ledger_data_key1(key, LEDGER_KEY_DATA_USES, id);
    int rc = s_get_opt(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK || !val)
        return rc;
    size_t count = vlen / LEDGER_DATA_USE_LEN;
    if (vlen % LEDGER_DATA_USE_LEN != 0 || count > LEDGER_DATA_USES_MAX) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    ledger_use_entry_t *list = count ? calloc(count, sizeof *list) : NULL;
    if (count && !list) {
        free(val);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = val + i * LEDGER_DATA_USE_LEN;
        list[i].use = p[0];
        list[i].height = proto_be64_get(p + 1);
        memcpy(list[i].actor, p + 9, 32);
        memcpy(list[i].spec_id, p + 41, 32);
        memcpy(list[i].txid, p + 73, 32);
    }
    free(val);
    *out = list;
    *n = count;
    return LEDGER_OK;
}

/* ------------------------------------------------------------ consents */

static void s_wr_names(proto_wr_t *w, const ledger_names_t *names)
{
    proto_wr_array(w, names->n);
    for (uint32_t i = 0; i < names->n; i++)
        proto_wr_str(w, names->v[i], strlen(names->v[i]));
}

int ledger_consent_put(ledger_state_t *st, const ledger_consent_t *c)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN];
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 8);
    s_wr_names(&w, &c->allow_types);
    s_wr_names(&w, &c->allow_purposes);
    s_wr_names(&w, &c->deny_types);
    s_wr_names(&w, &c->deny_purposes);
    proto_wr_uint(&w, c->max_epsilon_milli);
    proto_wr_uint(&w, c->min_audits);
    proto_wr_array(&w, c->n_auditors);
    for (uint32_t i = 0; i < c->n_auditors; i++)
        proto_wr_bin(&w, c->auditors[i], 32);
    proto_wr_uint(&w, c->height);
    size_t len;
    const uint8_t *data = proto_wr_data(&w, &len);
    int rc = LEDGER_E_NOMEM;
    ledger_data_key2(key, LEDGER_KEY_CONSENT, c->owner, c->data_id);
    if (data)
        rc = ledger_state_put(st, key, sizeof key, data, len);
    proto_wr_free(&w);
    return rc;
}

static int s_rd_names(proto_rd_t *r, ledger_names_t *names)
{
    return s_rd_strs(r, LEDGER_CONSENT_LIST_MAX, &names->v[0][0], sizeof names->v[0], &names->n);
}

int ledger_consent_get(ledger_state_t *st, const uint8_t owner[static 32],
                       const uint8_t data_id[static 32], ledger_consent_t *out)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN], *val;
    size_t vlen;
    uint64_t eps = 0, audits = 0, height = 0;
    memset(out, 0, sizeof *out);
    ledger_data_key2(key, LEDGER_KEY_CONSENT, owner, data_id);
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    proto_rd_t r;
    proto_rd_init(&r, val, vlen);
    int prc = proto_rd_array_exact(&r, 8);
    if (prc == PROTO_OK)
        prc = s_rd_names(&r, &out->allow_types);
    if (prc == PROTO_OK)
        prc = s_rd_names(&r, &out->allow_purposes);
    if (prc == PROTO_OK)
        prc = s_rd_names(&r, &out->deny_types);
    if (prc == PROTO_OK)
        prc = s_rd_names(&r, &out->deny_purposes);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(&r, UINT32_MAX, &eps);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(&r, UINT32_MAX, &audits);
    if (prc == PROTO_OK)
        prc = s_rd_bin32s(&r, LEDGER_CONSENT_LIST_MAX, out->auditors, &out->n_auditors);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(&r, UINT64_MAX, &height);
    if (prc == PROTO_OK)
        prc = proto_rd_finish(&r);
    free(val);
    if (prc != PROTO_OK) {
        memset(out, 0, sizeof *out);
        return LEDGER_E_CORRUPT;
    }
    memcpy(out->owner, owner, 32);
    memcpy(out->data_id, data_id, 32);
    out->max_epsilon_milli = (uint32_t)eps;
    out->min_audits = (uint32_t)audits;
    out->height = height;
    return LEDGER_OK;
}

int ledger_consent_effective(ledger_state_t *st, const ledger_data_t *d, ledger_consent_t *out)
{
    int rc = ledger_consent_get(st, d->owner, d->id, out);
    if (rc == LEDGER_E_NOT_FOUND)
        rc = ledger_consent_get(st, d->owner, s_zero, out);
    return rc;
}

/* ------------------------------------------------------------ trainers */

int ledger_trainer_put(ledger_state_t *st, const ledger_trainer_t *t)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_str(&w, t->name, strlen(t->name));
    proto_wr_uint(&w, t->height);
    size_t len;
    const uint8_t *data = proto_wr_data(&w, &len);
    int rc = LEDGER_E_NOMEM;
    ledger_data_key1(key, LEDGER_KEY_TRAINER, t->account);
    if (data)
        rc = ledger_state_put(st, key, sizeof key, data, len);
    proto_wr_free(&w);
    return rc;
}

int ledger_trainer_get(ledger_state_t *st, const uint8_t account[static 32], ledger_trainer_t *out)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *val;
    size_t vlen;
    memset(out, 0, sizeof *out);
    ledger_data_key1(key, LEDGER_KEY_TRAINER, account);
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    proto_rd_t r;
    proto_rd_init(&r, val, vlen);
    int prc = proto_rd_array_exact(&r, 2);
    if (prc == PROTO_OK)
        prc = proto_rd_str_copy(&r, out->name, sizeof out->name);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(&r, UINT64_MAX, &out->height);
    if (prc == PROTO_OK)
        prc = proto_rd_finish(&r);
    free(val);
    if (prc != PROTO_OK) {
        memset(out, 0, sizeof *out);
        return LEDGER_E_CORRUPT;
    }
    memcpy(out->account, account, 32);
    return LEDGER_OK;
}

/* ------------------------------------------------------------ specs */

int ledger_spec_put(ledger_state_t *st, const ledger_spec_t *s)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 14);
    proto_wr_bin(&w, s->trainer, 32);
    proto_wr_str(&w, s->model_type, strlen(s->model_type));
    proto_wr_str(&w, s->purpose, strlen(s->purpose));
    proto_wr_array(&w, s->n_features);
    for (uint32_t i = 0; i < s->n_features; i++)
        proto_wr_str(&w, s->features[i], strlen(s->features[i]));
    proto_wr_str(&w, s->label, strlen(s->label));
    proto_wr_bin(&w, s->measurement, 32);
    proto_wr_uint(&w, s->min_donors);
    proto_wr_uint(&w, s->max_epsilon_milli);
    proto_wr_uint(&w, s->aggregation);
    proto_wr_uint(&w, s->price);
    proto_wr_uint(&w, s->share_donors_bp);
    proto_wr_uint(&w, s->share_trainer_bp);
    proto_wr_uint(&w, s->share_runner_bp);
    proto_wr_uint(&w, s->height);
    size_t len;
    const uint8_t *data = proto_wr_data(&w, &len);
    int rc = LEDGER_E_NOMEM;
    ledger_data_key1(key, LEDGER_KEY_SPEC, s->id);
    if (data)
        rc = ledger_state_put(st, key, sizeof key, data, len);
    proto_wr_free(&w);
    return rc;
}

static int s_spec_read(proto_rd_t *r, ledger_spec_t *s)
{
    uint64_t v[8] = {0};
    int rc = proto_rd_array_exact(r, 14);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, s->trainer);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(r, s->model_type, sizeof s->model_type);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(r, s->purpose, sizeof s->purpose);
    if (rc == PROTO_OK)
        rc = s_rd_strs(r, LEDGER_SPEC_FEATURES_MAX, &s->features[0][0], sizeof s->features[0],
                       &s->n_features);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(r, s->label, sizeof s->label);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, s->measurement);
    for (size_t i = 0; i < 7 && rc == PROTO_OK; i++)
        rc = proto_rd_uint(r, i == 3 ? UINT64_MAX : UINT32_MAX, &v[i]);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT64_MAX, &s->height);
    s->min_donors = (uint32_t)v[0];
    s->max_epsilon_milli = (uint32_t)v[1];
    s->aggregation = (uint32_t)v[2];
    s->price = v[3];
    s->share_donors_bp = (uint32_t)v[4];
    s->share_trainer_bp = (uint32_t)v[5];
    s->share_runner_bp = (uint32_t)v[6];
    return rc;
}

int ledger_spec_get(ledger_state_t *st, const uint8_t id[static 32], ledger_spec_t *out)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *val, *ids = NULL;
    size_t vlen, n = 0;
    memset(out, 0, sizeof *out);
    ledger_data_key1(key, LEDGER_KEY_SPEC, id);
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    proto_rd_t r;
    proto_rd_init(&r, val, vlen);
    int prc = s_spec_read(&r, out);
    if (prc == PROTO_OK)
        prc = proto_rd_finish(&r);
    free(val);
    if (prc != PROTO_OK) {
        memset(out, 0, sizeof *out);
        return LEDGER_E_CORRUPT;
    }
    memcpy(out->id, id, 32);
    ledger_data_key1(key, LEDGER_KEY_DONOR_DIR, id);
    rc = ledger_data_ids(st, key, sizeof key, LEDGER_DONORS_PER_SPEC_MAX, &ids, &n);
    free(ids);
    out->n_donors = (uint32_t)n;
    return rc;
}

int ledger_spec_list(ledger_state_t *st, ledger_spec_t **out, size_t *n)
{
    const uint8_t key[1] = {LEDGER_KEY_SPEC_DIR};
    uint8_t *ids = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    int rc = ledger_data_ids(st, key, sizeof key, LEDGER_SPECS_MAX, &ids, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    ledger_spec_t *list = calloc(count, sizeof *list);
    if (!list) {
        free(ids);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count && rc == LEDGER_OK; i++)
        rc = ledger_spec_get(st, ids + i * 32, &list[i]);
    free(ids);
    if (rc != LEDGER_OK) {
        free(list);
        return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
    }
    *out = list;
    *n = count;
    return LEDGER_OK;
}

/* ------------------------------------------------------------ donors and grants */

int ledger_donor_put(ledger_state_t *st, const ledger_donor_t *d)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN], rec[LEDGER_DONOR_REC_LEN];
    memcpy(rec, d->owner, 32);
    memcpy(rec + 32, d->enclave_id, 32);
    proto_be64_put(rec + 64, d->time_ms);
    proto_be64_put(rec + 72, d->height);
    ledger_data_key2(key, LEDGER_KEY_DONOR, d->spec_id, d->data_id);
    return ledger_state_put(st, key, sizeof key, rec, sizeof rec);
}

int ledger_donor_get(ledger_state_t *st, const uint8_t spec_id[static 32],
                     const uint8_t data_id[static 32], ledger_donor_t *out)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN], *val;
    size_t vlen;
    memset(out, 0, sizeof *out);
    ledger_data_key2(key, LEDGER_KEY_DONOR, spec_id, data_id);
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    if (vlen != LEDGER_DONOR_REC_LEN) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    memcpy(out->spec_id, spec_id, 32);
    memcpy(out->data_id, data_id, 32);
    memcpy(out->owner, val, 32);
    memcpy(out->enclave_id, val + 32, 32);
    out->time_ms = proto_be64_get(val + 64);
    out->height = proto_be64_get(val + 72);
    free(val);
    return LEDGER_OK;
}

int ledger_donor_list(ledger_state_t *st, const uint8_t spec_id[static 32], ledger_donor_t **out,
                      size_t *n)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *ids = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    ledger_data_key1(key, LEDGER_KEY_DONOR_DIR, spec_id);
    int rc = ledger_data_ids(st, key, sizeof key, LEDGER_DONORS_PER_SPEC_MAX, &ids, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    ledger_donor_t *list = calloc(count, sizeof *list);
    if (!list) {
        free(ids);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count && rc == LEDGER_OK; i++)
        rc = ledger_donor_get(st, spec_id, ids + i * 32, &list[i]);
    free(ids);
    if (rc != LEDGER_OK) {
        free(list);
        return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
    }
    *out = list;
    *n = count;
    return LEDGER_OK;
}

int ledger_key_grant_put(ledger_state_t *st, const uint8_t data_id[static 32],
                         const uint8_t enclave_id[static 32], const uint8_t spec_id[static 32],
                         const uint8_t *grant, size_t len)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN], val[32 + LEDGER_GRANT_MAX];
    if (len > LEDGER_GRANT_MAX)
        return LEDGER_E_TOO_BIG;
    memcpy(val, spec_id, 32);
    if (len)
        memcpy(val + 32, grant, len);
    ledger_data_key2(key, LEDGER_KEY_GRANT, data_id, enclave_id);
    return ledger_state_put(st, key, sizeof key, val, 32 + len);
}

int ledger_key_grant_get(ledger_state_t *st, const uint8_t data_id[static 32],
                         const uint8_t enclave_id[static 32], uint8_t *grant, size_t cap,
                         size_t *len, uint8_t spec_id[static 32])
{
    uint8_t key[LEDGER_DATA_KEY2_LEN], *val;
    size_t vlen;
    ledger_data_t d;
    *len = 0;
    int rc = ledger_data_get(st, data_id, &d);
    if (rc != LEDGER_OK)
        return rc;
    if (d.status != LEDGER_DATA_ACTIVE)
        return LEDGER_E_NOT_FOUND;
    ledger_data_key2(key, LEDGER_KEY_GRANT, data_id, enclave_id);
    if ((rc = ledger_state_get(st, key, sizeof key, &val, &vlen)) != LEDGER_OK)
        return rc;
    if (vlen < 32 || vlen - 32 > LEDGER_GRANT_MAX)
        rc = LEDGER_E_CORRUPT;
    else if (vlen - 32 > cap)
        rc = LEDGER_E_TOO_BIG;
    else {
        memcpy(spec_id, val, 32);
        if (vlen > 32)
            memcpy(grant, val + 32, vlen - 32);
        *len = vlen - 32;
    }
    free(val);
    return rc;
}
