/*  ledger_state: a block's write set over the committed state (see ledger_state.h).
 *
 *  Block writes live in an insertion-ordered array of entries indexed by an
 *  open-addressing hash table (SipHash with a per-state random key, so a peer cannot
 *  grind account keys into one bucket). The current tx's writes live in a small overlay
 *  array, searched newest first, and are moved into the block writes when the tx
 *  succeeds (capacity is reserved first, so a successful tx can always be merged).
 */
#include "ledger/ledger_state.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_store.h"
#include "proto/proto_bytes.h"

#define WRITES_DOMAIN "genie/writes/v1"
#define STATE_DOMAIN "genie/state/v1"

typedef struct {
    uint8_t *key;
    uint8_t *val; /* NULL: deleted */
    uint32_t klen;
    uint32_t vlen;
} s_kv_t;

struct ledger_state_t {
    ledger_store_t *store;
    uint8_t base[LEDGER_ID_LEN];
    uint64_t base_height, base_time;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    s_kv_t *ents; /* block writes, insertion order (key order once frozen) */
    size_t n, cap;
    uint32_t *slots; /* index + 1 into ents, 0 = empty */
    size_t nslots;   /* power of two */
    s_kv_t *ovl;     /* current tx's writes */
    size_t novl, capovl;
    bool in_tx;
    bool frozen;
    uint8_t root[LEDGER_ID_LEN];
};

/* ---- helpers ---- */

static uint64_t s_hash(const ledger_state_t *st, const uint8_t *key, size_t klen)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, klen, st->hkey);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return v;
}

static bool s_key_eq(const s_kv_t *e, const uint8_t *key, size_t klen)
{
    return e->klen == klen && memcmp(e->key, key, klen) == 0;
}

static uint8_t *s_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static void s_kv_free(s_kv_t *e)
{
    free(e->key);
    free(e->val);
    e->key = e->val = NULL;
}

/* Slot holding KEY, or the empty slot where it would go. */
static size_t s_slot(const ledger_state_t *st, const uint8_t *key, size_t klen)
{
    size_t mask = st->nslots - 1;
    size_t i = (size_t)s_hash(st, key, klen) & mask;
    while (st->slots[i] != 0 && !s_key_eq(&st->ents[st->slots[i] - 1], key, klen))
        i = (i + 1) & mask;
    return i;
}

static int s_rehash(ledger_state_t *st, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return LEDGER_E_NOMEM;
    free(st->slots);
    st->slots = slots;
    st->nslots = nslots;
    for (size_t k = 0; k < st->n; k++) {
        size_t i = s_slot(st, st->ents[k].key, st->ents[k].klen);
        st->slots[i] = (uint32_t)(k + 1);
    }
    return LEDGER_OK;
}

/* Room for EXTRA more block entries without allocating. */
static int s_reserve(ledger_state_t *st, size_t extra)
{
    size_t need = st->n + extra;
    if (need > st->cap) {
        size_t cap = st->cap ? st->cap : 256;
        while (cap < need)
            cap *= 2;
        s_kv_t *ents = realloc(st->ents, cap * sizeof *ents);
        if (!ents)
            return LEDGER_E_NOMEM;
        st->ents = ents;
        st->cap = cap;
    }
    if (need * 2 > st->nslots) {
        size_t nslots = st->nslots ? st->nslots : 512;
        while (need * 2 > nslots)
            nslots *= 2;
        return s_rehash(st, nslots);
    }
    return LEDGER_OK;
}

/* Stores (KEY, VAL) in the block writes, taking ownership of KEY and VAL (both
   malloc'd). Capacity must have been reserved. */
static void s_map_take(ledger_state_t *st, uint8_t *key, uint32_t klen, uint8_t *val, uint32_t vlen)
{
    size_t i = s_slot(st, key, klen);
    if (st->slots[i]) {
        s_kv_t *e = &st->ents[st->slots[i] - 1];
        free(e->val);
        e->val = val;
        e->vlen = vlen;
        free(key);
        return;
    }
    assert(st->n < st->cap && (st->n + 1) * 2 <= st->nslots);
    st->ents[st->n] = (s_kv_t){.key = key, .val = val, .klen = klen, .vlen = vlen};
    st->slots[i] = (uint32_t)(++st->n);
}

/* The entry holding KEY in the overlay (current tx) or the block writes, or NULL. */
static const s_kv_t *s_find(const ledger_state_t *st, const uint8_t *key, size_t klen)
{
    for (size_t i = st->novl; i-- > 0;)
        if (s_key_eq(&st->ovl[i], key, klen))
            return &st->ovl[i];
    if (st->nslots == 0)
        return NULL;
    size_t i = s_slot(st, key, klen);
    return st->slots[i] ? &st->ents[st->slots[i] - 1] : NULL;
}

static void s_ovl_clear(ledger_state_t *st)
{
    for (size_t i = 0; i < st->novl; i++)
        s_kv_free(&st->ovl[i]);
    st->novl = 0;
}

/* Writes (KEY, VAL or deletion) into the overlay inside a tx, else the block writes. */
static int s_write(ledger_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, bool del)
{
    assert(!st->frozen); /* writing after finish is our bug */
    assert(klen > 0 && klen <= LEDGER_KEY_MAX && vlen <= LEDGER_VALUE_MAX);
    uint8_t *v = NULL;
    if (!del && !(v = s_dup(val, vlen)))
        return LEDGER_E_NOMEM;
    if (st->in_tx) {
        for (size_t i = st->novl; i-- > 0;) {
            if (s_key_eq(&st->ovl[i], key, klen)) {
                free(st->ovl[i].val);
                st->ovl[i].val = v;
                st->ovl[i].vlen = (uint32_t)vlen;
                return LEDGER_OK;
            }
        }
        if (st->novl == st->capovl) {
            size_t cap = st->capovl ? st->capovl * 2 : 16;
            s_kv_t *ovl = realloc(st->ovl, cap * sizeof *ovl);
            if (!ovl)
                goto nomem;
            st->ovl = ovl;
            st->capovl = cap;
        }
        uint8_t *k = s_dup(key, klen);
        if (!k)
            goto nomem;
        st->ovl[st->novl++] =
            (s_kv_t){.key = k, .val = v, .klen = (uint32_t)klen, .vlen = (uint32_t)vlen};
        return LEDGER_OK;
    }
    uint8_t *k = s_dup(key, klen);
    if (!k || s_reserve(st, 1) != LEDGER_OK) {
        free(k);
        goto nomem;
    }
    s_map_take(st, k, (uint32_t)klen, v, (uint32_t)vlen);
    return LEDGER_OK;
nomem:
    free(v);
    return LEDGER_E_NOMEM;
}

/* ---- lifecycle ---- */

ledger_state_t *ledger_state_new(ledger_store_t *store)
{
    ledger_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->store = store;
    crypto_shorthash_keygen(st->hkey);
    ledger_state_reset(st);
    return st;
}

void ledger_state_destroy(ledger_state_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_state_t *st = *self_p;
    ledger_state_reset(st);
    free(st->ents);
    free(st->slots);
    free(st->ovl);
    free(st);
    *self_p = NULL;
}

void ledger_state_reset(ledger_state_t *st)
{
    s_ovl_clear(st);
    for (size_t i = 0; i < st->n; i++)
        s_kv_free(&st->ents[i]);
    st->n = 0;
    if (st->slots)
        memset(st->slots, 0, st->nslots * sizeof *st->slots);
    st->in_tx = false;
    st->frozen = false;
    memset(st->root, 0, sizeof st->root);
    memset(st->base, 0, sizeof st->base);
    st->base_height = st->base_time = 0;
    ledger_head_t head;
    if (st->store && ledger_store_head(st->store, &head) == LEDGER_OK) {
        memcpy(st->base, head.hash, LEDGER_ID_LEN);
        st->base_height = head.height;
        st->base_time = head.time_ms;
    }
}

const uint8_t *ledger_state_base(const ledger_state_t *st)
{
    return st->base;
}

uint64_t ledger_state_base_height(const ledger_state_t *st)
{
    return st->base_height;
}

uint64_t ledger_state_base_time(const ledger_state_t *st)
{
    return st->base_time;
}

/* ---- raw access ---- */

int ledger_state_get(ledger_state_t *st, const uint8_t *key, size_t klen, uint8_t **val,
                     size_t *vlen)
{
    *val = NULL;
    *vlen = 0;
    const s_kv_t *e = s_find(st, key, klen);
    if (e) {
        if (!e->val)
            return LEDGER_E_NOT_FOUND;
        if (!(*val = s_dup(e->val, e->vlen)))
            return LEDGER_E_NOMEM;
        *vlen = e->vlen;
        return LEDGER_OK;
    }
    if (!st->store)
        return LEDGER_E_NOT_FOUND;
    int rc = ledger_store_get(st->store, key, klen, val, vlen);
    if (rc == LEDGER_OK && *vlen > LEDGER_VALUE_MAX) {
        free(*val);
        *val = NULL;
        *vlen = 0;
        return LEDGER_E_CORRUPT;
    }
    return rc;
}

int ledger_state_put(ledger_state_t *st, const uint8_t *key, size_t klen, const uint8_t *val,
                     size_t vlen)
{
    return s_write(st, key, klen, val, vlen, false);
}

int ledger_state_del(ledger_state_t *st, const uint8_t *key, size_t klen)
{
    return s_write(st, key, klen, NULL, 0, true);
}

/* ---- typed access ---- */

void ledger_account_encode(const ledger_account_t *a, uint8_t out[static 16])
{
    proto_be64_put(out, a->balance);
    proto_be64_put(out + 8, a->nonce);
}

void ledger_account_decode(const uint8_t in[static 16], ledger_account_t *a)
{
    a->balance = proto_be64_get(in);
    a->nonce = proto_be64_get(in + 8);
}

int ledger_state_account(ledger_state_t *st, const uint8_t pub[static LEDGER_ID_LEN],
                         ledger_account_t *out)
{
    uint8_t key[1 + LEDGER_ID_LEN] = {LEDGER_KEY_ACCOUNT};
    memcpy(key + 1, pub, LEDGER_ID_LEN);
    memset(out, 0, sizeof *out);
    const s_kv_t *e = s_find(st, key, sizeof key);
    if (e) {
        if (!e->val)
            return LEDGER_OK;
        if (e->vlen != 16)
            return LEDGER_E_CORRUPT;
        ledger_account_decode(e->val, out);
        return LEDGER_OK;
    }
    if (!st->store)
        return LEDGER_OK;
    uint8_t buf[16];
    size_t n;
    int rc = ledger_store_get_small(st->store, key, sizeof key, buf, sizeof buf, &n);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    if (n != 16)
        return LEDGER_E_CORRUPT;
    ledger_account_decode(buf, out);
    return LEDGER_OK;
}

int ledger_state_set_account(ledger_state_t *st, const uint8_t pub[static LEDGER_ID_LEN],
                             const ledger_account_t *acct)
{
    uint8_t key[1 + LEDGER_ID_LEN] = {LEDGER_KEY_ACCOUNT};
    memcpy(key + 1, pub, LEDGER_ID_LEN);
    uint8_t val[16];
    ledger_account_encode(acct, val);
    return ledger_state_put(st, key, sizeof key, val, sizeof val);
}

int ledger_state_authorities(ledger_state_t *st, uint8_t out[][LEDGER_ID_LEN], size_t *n)
{
    static const uint8_t key[1] = {LEDGER_KEY_AUTHORITIES};
    *n = 0;
    uint8_t *val;
    size_t vlen;
    int rc = ledger_state_get(st, key, sizeof key, &val, &vlen);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK; /* before genesis */
    if (rc != LEDGER_OK)
        return rc;
    if (vlen == 0 || vlen % LEDGER_ID_LEN != 0 || vlen / LEDGER_ID_LEN > LEDGER_AUTHORITIES_MAX) {
        free(val);
        return LEDGER_E_CORRUPT;
    }
    memcpy(out, val, vlen);
    *n = vlen / LEDGER_ID_LEN;
    free(val);
    return LEDGER_OK;
}

static int s_cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, LEDGER_ID_LEN);
}

int ledger_state_set_authorities(ledger_state_t *st, const uint8_t (*keys)[LEDGER_ID_LEN], size_t n)
{
    static const uint8_t key[1] = {LEDGER_KEY_AUTHORITIES};
    if (n == 0 || n > LEDGER_AUTHORITIES_MAX)
        return LEDGER_E_INVALID;
    uint8_t sorted[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    memcpy(sorted, keys, n * LEDGER_ID_LEN);
    qsort(sorted, n, LEDGER_ID_LEN, s_cmp_id);
    for (size_t i = 1; i < n; i++)
        if (memcmp(sorted[i - 1], sorted[i], LEDGER_ID_LEN) == 0)
            return LEDGER_E_INVALID;
    return ledger_state_put(st, key, sizeof key, &sorted[0][0], n * LEDGER_ID_LEN);
}

/* ---- execution ---- */

static void s_tx_begin(ledger_state_t *st)
{
    assert(!st->frozen && !st->in_tx);
    st->in_tx = true;
    st->novl = 0;
}

static void s_tx_abort(ledger_state_t *st)
{
    s_ovl_clear(st);
    st->in_tx = false;
}

static int s_tx_commit(ledger_state_t *st)
{
    int rc = s_reserve(st, st->novl);
    if (rc != LEDGER_OK) {
        s_tx_abort(st);
        return rc;
    }
    for (size_t i = 0; i < st->novl; i++)
        s_map_take(st, st->ovl[i].key, st->ovl[i].klen, st->ovl[i].val, st->ovl[i].vlen);
    st->novl = 0;
    st->in_tx = false;
    return LEDGER_OK;
}

int ledger_state_apply_tx(ledger_state_t *st, const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const ledger_contract_t *c = ledger_contract_find(tx->type);
    if (!c)
        return proto_err_fail(err, err_cap, LEDGER_E_UNKNOWN_TYPE, "unknown transaction type");
    s_tx_begin(st);
    ledger_account_t a;
    int rc = ledger_state_account(st, tx->from, &a);
    if (rc != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "cannot read the sender's account");
        goto fail;
    }
    if (tx->nonce < a.nonce) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NONCE_USED,
                            "nonce already used (replayed transaction)");
        goto fail;
    }
    if (tx->nonce > a.nonce) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NONCE_GAP,
                            "nonce ahead of the account's next nonce");
        goto fail;
    }
    if (a.nonce == UINT64_MAX) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_INVALID, "account nonce exhausted");
        goto fail;
    }
    a.nonce++;
    if ((rc = ledger_state_set_account(st, tx->from, &a)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "out of memory");
        goto fail;
    }
    if ((rc = c->apply(st, tx, err, err_cap)) != LEDGER_OK)
        goto fail;
    if ((rc = s_tx_commit(st)) != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "out of memory");
    return rc;
fail:
    s_tx_abort(st);
    return rc;
}

int ledger_state_admit_tx(ledger_state_t *st, const ledger_tx_t *tx, char *err, size_t err_cap)
{
    const ledger_contract_t *c = ledger_contract_find(tx->type);
    if (!c)
        return proto_err_fail(err, err_cap, LEDGER_E_UNKNOWN_TYPE, "unknown transaction type");
    if (!c->admit)
        return LEDGER_OK;
    s_tx_begin(st);
    int rc = c->admit(st, tx, err, err_cap);
    s_tx_abort(st); /* admit must not write; drop anything it did */
    return rc;
}

int ledger_state_end_block(ledger_state_t *st)
{
    size_t n;
    const ledger_contract_t *all = ledger_contract_all(&n);
    for (size_t i = 0; i < n; i++) {
        if (!all[i].end_block)
            continue;
        int rc = all[i].end_block(st);
        if (rc != LEDGER_OK)
            return rc;
    }
    return LEDGER_OK;
}

static int s_cmp_kv(const void *pa, const void *pb)
{
    const s_kv_t *a = pa, *b = pb;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    return a->klen < b->klen ? -1 : a->klen > b->klen ? 1 : 0;
}

int ledger_state_finish(ledger_state_t *st, const uint8_t prev_root[static LEDGER_ID_LEN],
                        uint8_t root[static LEDGER_ID_LEN])
{
    assert(!st->in_tx && !st->frozen);
    if (st->n > 1)
        qsort(st->ents, st->n, sizeof *st->ents, s_cmp_kv);
    if (st->nslots && s_rehash(st, st->nslots) != LEDGER_OK)
        return LEDGER_E_NOMEM;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, (uint32_t)st->n);
    for (size_t i = 0; i < st->n; i++) {
        const s_kv_t *e = &st->ents[i];
        proto_wr_array(&w, 2);
        proto_wr_bin(&w, e->key, e->klen);
        if (e->val)
            proto_wr_bin(&w, e->val, e->vlen);
        else
            proto_wr_nil(&w);
    }
    size_t len;
    const uint8_t *data = proto_wr_data(&w, &len);
    if (!data) {
        proto_wr_free(&w);
        return LEDGER_E_NOMEM;
    }
    uint8_t chain[2 * LEDGER_ID_LEN];
    memcpy(chain, prev_root, LEDGER_ID_LEN);
    proto_hash(WRITES_DOMAIN, data, len, chain + LEDGER_ID_LEN);
    proto_wr_free(&w);
    proto_hash(STATE_DOMAIN, chain, sizeof chain, st->root);
    memcpy(root, st->root, LEDGER_ID_LEN);
    st->frozen = true;
    return LEDGER_OK;
}

bool ledger_state_finished(const ledger_state_t *st, uint8_t *root)
{
    if (st->frozen && root)
        memcpy(root, st->root, LEDGER_ID_LEN);
    return st->frozen;
}

size_t ledger_state_write_count(const ledger_state_t *st)
{
    return st->n;
}

void ledger_state_write_at(const ledger_state_t *st, size_t i, const uint8_t **key, size_t *klen,
                           const uint8_t **val, size_t *vlen)
{
    assert(i < st->n);
    const s_kv_t *e = &st->ents[i];
    *key = e->key;
    *klen = e->klen;
    *val = e->val;
    *vlen = e->vlen;
}
