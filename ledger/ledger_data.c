/*  ledger_data: the state of the data owner's contracts (ledger_contract_data.c,
 *  ledger_contract_market.c): key layout, record codecs and the public reads of
 *  ledger_data.h (the body lists are read in ledger_data_body.c).
 *
 *  Records (integers big-endian; keys in ledger_state.h):
 *    data 'o' id (121 bytes): owner[32] data_type u32 size_class u32 address[32]
 *      validator[32] height u64 status u8 status_height u64
 *    Lists are indexed: the list at K is its length (u32) at K and entry I at K || I (u32),
 *    so appending writes two small values whatever the length:
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
 *    donor 'x' spec data (84 bytes): owner[32] enclave_id[32] time_ms u64 height u64
 *      seq u32 (its index in the spec's donor list)
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

/* ------------------------------------------------------------ indexed lists
   A list at KEY (KLEN bytes) is its length, u32 at KEY, and its entries, each at KEY ||
   index u32: appending writes two small values, never the whole list. */

/* KEY || I into OUT (KLEN + 4 bytes). */
static void s_entry_key(uint8_t *out, const uint8_t *key, size_t klen, uint32_t i)
{
    memcpy(out, key, klen);
    proto_be32_put(out + klen, i);
}

int ledger_data_list_count(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                           size_t *n)
{
    uint8_t *val = NULL;
    size_t vlen;
    *n = 0;
    int rc = s_get_opt(st, key, klen, &val, &vlen);
    if (rc != LEDGER_OK || !val)
        return rc;
    if (vlen != 4 || proto_be32_get(val) > max)
        rc = LEDGER_E_CORRUPT;
    else
        *n = proto_be32_get(val);
    free(val);
    return rc;
}

/* Entry I of the list at KEY, exactly LEN bytes, into OUT. */
static int s_list_at(ledger_state_t *st, const uint8_t *key, size_t klen, uint32_t i, uint8_t *out,
                     size_t len)
{
    uint8_t ekey[LEDGER_KEY_MAX], *val;
    size_t vlen;
    s_entry_key(ekey, key, klen, i);
    int rc = ledger_state_get(st, ekey, klen + 4, &val, &vlen);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_E_CORRUPT; /* the length names only stored entries */
    if (rc != LEDGER_OK)
        return rc;
    if (vlen != len)
        rc = LEDGER_E_CORRUPT;
    else
        memcpy(out, val, len);
    free(val);
    return rc;
}

/* Every entry (LEN bytes each) of the list at KEY: *OUT (malloc'd, NULL when empty) of *N. */
static int s_list_all(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max, size_t len,
                      uint8_t **out, size_t *n)
{
    size_t count = 0;
    *out = NULL;
    *n = 0;
    int rc = ledger_data_list_count(st, key, klen, max, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    uint8_t *all = malloc(count * len);
    if (!all)
        return LEDGER_E_NOMEM;
    for (size_t i = 0; i < count && rc == LEDGER_OK; i++)
        rc = s_list_at(st, key, klen, (uint32_t)i, all + i * len, len);
    if (rc != LEDGER_OK) {
        free(all);
        return rc;
    }
    *out = all;
    *n = count;
    return LEDGER_OK;
}

int ledger_data_list_room(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                          size_t room, const char *read_msg, const char *full_msg, char *err,
                          size_t err_cap, size_t *n)
{
    size_t count = 0;
    int rc = ledger_data_list_count(st, key, klen, max, &count);
    if (n)
        *n = count;
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "%s", read_msg);
    if (count >= room)
        return proto_err_fail(err, err_cap, LEDGER_E_DATA_RULE, "%s", full_msg);
    return LEDGER_OK;
}

/* Appends REC (LEN bytes) to the list at KEY unless it holds ROOM (<= MAX) entries. */
static int s_list_append(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                         size_t room, const uint8_t *rec, size_t len, const char *full_msg,
                         char *err, size_t err_cap)
{
    uint8_t ekey[LEDGER_KEY_MAX], cnt[4];
    size_t n = 0;
    int rc = ledger_data_list_room(st, key, klen, max, room, "cannot read the ledger state",
                                   full_msg, err, err_cap, &n);
    if (rc != LEDGER_OK)
        return rc;
    s_entry_key(ekey, key, klen, (uint32_t)n);
    proto_be32_put(cnt, (uint32_t)(n + 1));
    rc = ledger_state_put(st, ekey, klen + 4, rec, len);
    if (rc == LEDGER_OK)
        rc = ledger_state_put(st, key, klen, cnt, sizeof cnt);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
}

int ledger_data_ids(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max, uint8_t **ids,
                    size_t *n)
{
    return s_list_all(st, key, klen, max, 32, ids, n);
}

int ledger_data_ids_append(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max,
                           const uint8_t id[static 32], const char *full_msg, char *err,
                           size_t err_cap)
{
    return s_list_append(st, key, klen, max, max, id, 32, full_msg, err, err_cap);
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

/*  The records listed under the directory KEY (KLEN bytes, at most MAX ids) read one by
 *  one with GET (CTX passed on) into a new array *OUT of *N elements of ELEM bytes. An id
 *  whose record is missing means the state is corrupt. */
typedef int (*s_get_fn)(ledger_state_t *st, const void *ctx, const uint8_t id[static 32],
                        void *out);

static int s_read_all(ledger_state_t *st, const uint8_t *key, size_t klen, size_t max, size_t elem,
                      s_get_fn get, const void *ctx, void **out, size_t *n)
{
    uint8_t *ids = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    int rc = ledger_data_ids(st, key, klen, max, &ids, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    uint8_t *list = calloc(count, elem);
    if (!list) {
        free(ids);
        return LEDGER_E_NOMEM;
    }
    for (size_t i = 0; i < count && rc == LEDGER_OK; i++)
        rc = get(st, ctx, ids + i * 32, list + i * elem);
    free(ids);
    if (rc != LEDGER_OK) {
        free(list);
        return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
    }
    *out = list;
    *n = count;
    return LEDGER_OK;
}

static int s_get_data(ledger_state_t *st, const void *ctx, const uint8_t id[static 32], void *out)
{
    (void)ctx;
    return ledger_data_get(st, id, out);
}

int ledger_data_list(ledger_state_t *st, const uint8_t owner[static 32], ledger_data_t **out,
                     size_t *n)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    ledger_data_key1(key, LEDGER_KEY_DATA_OWNER, owner);
    return s_read_all(st, key, sizeof key, LEDGER_DATA_PER_OWNER_MAX, sizeof **out, s_get_data,
                      NULL, (void **)out, n);
}

int ledger_data_use_add(ledger_state_t *st, const uint8_t id[static 32], uint32_t use,
                        const uint8_t actor[static 32], const uint8_t *spec,
                        const uint8_t txid[static 32], uint64_t height, char *err, size_t err_cap)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], rec[LEDGER_DATA_USE_LEN];
    rec[0] = (uint8_t)use;
    proto_be64_put(rec + 1, height);
    memcpy(rec + 9, actor, 32);
    memcpy(rec + 41, spec ? spec : s_zero, 32);
    memcpy(rec + 73, txid, 32);
    ledger_data_key1(key, LEDGER_KEY_DATA_USES, id);
    /* the last slot is kept for the withdrawal */
    size_t room = use == LEDGER_USE_WITHDRAWN ? LEDGER_DATA_USES_MAX : LEDGER_DATA_USES_MAX - 1;
    return s_list_append(st, key, sizeof key, LEDGER_DATA_USES_MAX, room, rec, sizeof rec,
                         "the record's audit trail is full", err, err_cap);
}

int ledger_data_uses(ledger_state_t *st, const uint8_t id[static 32], ledger_use_entry_t **out,
                     size_t *n)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], *val = NULL;
    size_t count = 0;
    *out = NULL;
    *n = 0;
    ledger_data_key1(key, LEDGER_KEY_DATA_USES, id);
    int rc =
        s_list_all(st, key, sizeof key, LEDGER_DATA_USES_MAX, LEDGER_DATA_USE_LEN, &val, &count);
    if (rc != LEDGER_OK || count == 0)
        return rc;
    ledger_use_entry_t *list = calloc(count, sizeof *list);
    if (!list) {
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

/* ------------------------------------------------------------ msgpack records */

/* Stores what W wrote under KEY (LEDGER_E_NOMEM if W failed), then frees W. */
static int s_put_written(ledger_state_t *st, const uint8_t *key, size_t klen, proto_wr_t *w)
{
    size_t len;
    const uint8_t *data = proto_wr_data(w, &len);
    int rc = data ? ledger_state_put(st, key, klen, data, len) : LEDGER_E_NOMEM;
    proto_wr_free(w);
    return rc;
}

/* Reads the record at KEY with READ into OUT (SIZE bytes, zeroed first); nothing may follow
   it. LEDGER_E_NOT_FOUND, a store error, or LEDGER_E_CORRUPT (OUT zeroed) when READ or the
   finish check fails. */
static int s_get_read(ledger_state_t *st, const uint8_t *key, size_t klen,
                      int (*read)(proto_rd_t *r, void *out), void *out, size_t size)
{
    uint8_t *val;
    size_t vlen;
    memset(out, 0, size);
    int rc = ledger_state_get(st, key, klen, &val, &vlen);
    if (rc != LEDGER_OK)
        return rc;
    proto_rd_t r;
    proto_rd_init(&r, val, vlen);
    int prc = read(&r, out);
    if (prc == PROTO_OK)
        prc = proto_rd_finish(&r);
    free(val);
    if (prc != PROTO_OK) {
        memset(out, 0, size);
        return LEDGER_E_CORRUPT;
    }
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
    ledger_data_key2(key, LEDGER_KEY_CONSENT, c->owner, c->data_id);
    return s_put_written(st, key, sizeof key, &w);
}

static int s_rd_names(proto_rd_t *r, ledger_names_t *names)
{
    return ledger_rd_strs(r, LEDGER_CONSENT_LIST_MAX, &names->v[0][0], sizeof names->v[0],
                          &names->n);
}

static int s_consent_read(proto_rd_t *r, void *out)
{
    ledger_consent_t *c = out;
    uint64_t eps = 0, audits = 0;
    int prc = proto_rd_array_exact(r, 8);
    if (prc == PROTO_OK)
        prc = s_rd_names(r, &c->allow_types);
    if (prc == PROTO_OK)
        prc = s_rd_names(r, &c->allow_purposes);
    if (prc == PROTO_OK)
        prc = s_rd_names(r, &c->deny_types);
    if (prc == PROTO_OK)
        prc = s_rd_names(r, &c->deny_purposes);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(r, UINT32_MAX, &eps);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(r, UINT32_MAX, &audits);
    if (prc == PROTO_OK)
        prc = ledger_rd_bin32s(r, LEDGER_CONSENT_LIST_MAX, c->auditors, &c->n_auditors);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(r, UINT64_MAX, &c->height);
    c->max_epsilon_milli = (uint32_t)eps;
    c->min_audits = (uint32_t)audits;
    return prc;
}

int ledger_consent_get(ledger_state_t *st, const uint8_t owner[static 32],
                       const uint8_t data_id[static 32], ledger_consent_t *out)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN];
    ledger_data_key2(key, LEDGER_KEY_CONSENT, owner, data_id);
    int rc = s_get_read(st, key, sizeof key, s_consent_read, out, sizeof *out);
    if (rc != LEDGER_OK)
        return rc;
    memcpy(out->owner, owner, 32);
    memcpy(out->data_id, data_id, 32);
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
    ledger_data_key1(key, LEDGER_KEY_TRAINER, t->account);
    return s_put_written(st, key, sizeof key, &w);
}

static int s_trainer_read(proto_rd_t *r, void *out)
{
    ledger_trainer_t *t = out;
    int prc = proto_rd_array_exact(r, 2);
    if (prc == PROTO_OK)
        prc = proto_rd_str_copy(r, t->name, sizeof t->name);
    if (prc == PROTO_OK)
        prc = proto_rd_uint(r, UINT64_MAX, &t->height);
    return prc;
}

int ledger_trainer_get(ledger_state_t *st, const uint8_t account[static 32], ledger_trainer_t *out)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    ledger_data_key1(key, LEDGER_KEY_TRAINER, account);
    int rc = s_get_read(st, key, sizeof key, s_trainer_read, out, sizeof *out);
    if (rc != LEDGER_OK)
        return rc;
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
    ledger_data_key1(key, LEDGER_KEY_SPEC, s->id);
    return s_put_written(st, key, sizeof key, &w);
}

static int s_spec_read(proto_rd_t *r, void *out)
{
    ledger_spec_t *s = out;
    uint64_t v[8] = {0};
    int rc = proto_rd_array_exact(r, 14);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, 32, s->trainer);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(r, s->model_type, sizeof s->model_type);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(r, s->purpose, sizeof s->purpose);
    if (rc == PROTO_OK)
        rc = ledger_rd_strs(r, LEDGER_SPEC_FEATURES_MAX, &s->features[0][0], sizeof s->features[0],
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
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    size_t n = 0;
    ledger_data_key1(key, LEDGER_KEY_SPEC, id);
    int rc = s_get_read(st, key, sizeof key, s_spec_read, out, sizeof *out);
    if (rc != LEDGER_OK)
        return rc;
    memcpy(out->id, id, 32);
    ledger_data_key1(key, LEDGER_KEY_DONOR_DIR, id);
    rc = ledger_data_list_count(st, key, sizeof key, LEDGER_DONORS_PER_SPEC_MAX, &n);
    out->n_donors = (uint32_t)n;
    return rc;
}

static int s_get_spec(ledger_state_t *st, const void *ctx, const uint8_t id[static 32], void *out)
{
    (void)ctx;
    return ledger_spec_get(st, id, out);
}

int ledger_spec_list(ledger_state_t *st, ledger_spec_t **out, size_t *n)
{
    const uint8_t key[1] = {LEDGER_KEY_SPEC_DIR};
    return s_read_all(st, key, sizeof key, LEDGER_SPECS_MAX, sizeof **out, s_get_spec, NULL,
                      (void **)out, n);
}

/* ------------------------------------------------------------ donors and grants */

int ledger_donor_put(ledger_state_t *st, const ledger_donor_t *d)
{
    uint8_t key[LEDGER_DATA_KEY2_LEN], rec[LEDGER_DONOR_REC_LEN];
    memcpy(rec, d->owner, 32);
    memcpy(rec + 32, d->enclave_id, 32);
    proto_be64_put(rec + 64, d->time_ms);
    proto_be64_put(rec + 72, d->height);
    proto_be32_put(rec + 80, d->seq);
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
    out->seq = proto_be32_get(val + 80);
    free(val);
    return LEDGER_OK;
}

static int s_get_donor(ledger_state_t *st, const void *ctx, const uint8_t id[static 32], void *out)
{
    return ledger_donor_get(st, ctx, id, out);
}

int ledger_donor_list(ledger_state_t *st, const uint8_t spec_id[static 32], ledger_donor_t **out,
                      size_t *n)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN];
    ledger_data_key1(key, LEDGER_KEY_DONOR_DIR, spec_id);
    return s_read_all(st, key, sizeof key, LEDGER_DONORS_PER_SPEC_MAX, sizeof **out, s_get_donor,
                      spec_id, (void **)out, n);
}

int ledger_donor_by_seq(ledger_state_t *st, const uint8_t spec_id[static 32], uint32_t seq,
                        ledger_donor_t *out)
{
    uint8_t key[LEDGER_DATA_KEY1_LEN], data_id[32];
    size_t n = 0;
    memset(out, 0, sizeof *out);
    ledger_data_key1(key, LEDGER_KEY_DONOR_DIR, spec_id);
    int rc = ledger_data_list_count(st, key, sizeof key, LEDGER_DONORS_PER_SPEC_MAX, &n);
    if (rc != LEDGER_OK)
        return rc;
    if (seq >= n)
        return LEDGER_E_NOT_FOUND;
    if ((rc = s_list_at(st, key, sizeof key, seq, data_id, 32)) != LEDGER_OK)
        return rc;
    rc = ledger_donor_get(st, spec_id, data_id, out);
    return rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
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
