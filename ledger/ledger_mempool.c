/*  ledger_mempool: bounded pool of admitted transactions (see ledger_mempool.h).
 *
 *  Two hash sets (open addressing, linear probing, backward-shift deletion, SipHash with
 *  a per-pool random key): txid -> entry and account -> per-account queue. Each queue is
 *  an array of entries sorted by nonce; the pool keeps an array of accounts for reaping.
 *  The "recently dropped" index is a ring of max_dropped records searched linearly (it
 *  answers tx_status, not the hot path).
 */
#include "ledger/ledger_mempool.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_state.h"

#define DEF_MAX_TXS 40000
#define DEF_MAX_BYTES (16u << 20)
#define DEF_PER_ACCOUNT 1024
#define DEF_NONCE_AHEAD 1024
#define DEF_GAP_EXPIRY_MS 60000
#define DEF_MAX_DROPPED 4096
#define REAP_FRAMING 5 /* bin32 header: the most a tx's framing in a block can take */

typedef struct s_acct s_acct_t;

typedef struct {
    uint8_t txid[LEDGER_ID_LEN]; /* first: the set's key */
    uint8_t *bytes;
    size_t len;
    uint64_t nonce;
    uint64_t spend; /* what it debits the sender's balance (a transfer's amount) */
    s_acct_t *acct;
    uint64_t gap_since_ms; /* first expire call that found it behind a gap; 0: ready */
    bool local;            /* accepted from this node's clients */
} s_ent_t;

struct s_acct {
    uint8_t pub[LEDGER_ID_LEN]; /* first: the set's key */
    s_ent_t **txs;              /* sorted by nonce */
    size_t n, cap;
    size_t idx;         /* position in pool->accts */
    uint64_t committed; /* committed nonce, as of the last add or update */
};

/* A set of objects whose first LEDGER_ID_LEN bytes are their key. */
typedef struct {
    void **slots;
    size_t nslots; /* power of two (0 before first insert) */
    size_t n;
} s_set_t;

struct ledger_mempool_t {
    ledger_store_t *store;
    ledger_state_t *view; /* committed state, for contracts' admit rules */
    ledger_mempool_limits_t lim;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    s_set_t by_id;
    s_set_t by_acct;
    s_acct_t **accts;
    size_t n_accts, cap_accts;
    size_t count, bytes;
    size_t n_local;
    size_t local_cursor; /* ledger_mempool_local resumes at this account */
    struct s_drop {
        uint8_t txid[LEDGER_ID_LEN];
        ledger_drop_t d;
    } * drops; /* ring of lim.max_dropped */
    size_t drop_next, drop_n;
};

/* ---- hash set ---- */

static size_t s_bucket(const ledger_mempool_t *p, const uint8_t *key, size_t mask)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, key, LEDGER_ID_LEN, p->hkey);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)v & mask;
}

static void *s_set_find(const ledger_mempool_t *p, const s_set_t *s, const uint8_t *key)
{
    if (s->nslots == 0)
        return NULL;
    size_t mask = s->nslots - 1;
    for (size_t i = s_bucket(p, key, mask); s->slots[i]; i = (i + 1) & mask)
        if (memcmp(s->slots[i], key, LEDGER_ID_LEN) == 0)
            return s->slots[i];
    return NULL;
}

static void s_set_place(const ledger_mempool_t *p, s_set_t *s, void *obj)
{
    size_t mask = s->nslots - 1;
    size_t i = s_bucket(p, obj, mask);
    while (s->slots[i])
        i = (i + 1) & mask;
    s->slots[i] = obj;
}

/* Inserts OBJ (key not present). LEDGER_OK or LEDGER_E_NOMEM. */
static int s_set_insert(const ledger_mempool_t *p, s_set_t *s, void *obj)
{
    if ((s->n + 1) * 2 > s->nslots) {
        size_t nslots = s->nslots ? s->nslots * 2 : 64;
        void **slots = calloc(nslots, sizeof *slots);
        if (!slots)
            return LEDGER_E_NOMEM;
        void **old = s->slots;
        size_t oldn = s->nslots;
        s->slots = slots;
        s->nslots = nslots;
        for (size_t i = 0; i < oldn; i++)
            if (old[i])
                s_set_place(p, s, old[i]);
        free(old);
    }
    s_set_place(p, s, obj);
    s->n++;
    return LEDGER_OK;
}

static void s_set_remove(const ledger_mempool_t *p, s_set_t *s, const void *obj)
{
    size_t mask = s->nslots - 1;
    size_t i = s_bucket(p, obj, mask);
    while (s->slots[i] != obj) {
        assert(s->slots[i] != NULL); /* removing an absent object is our bug */
        i = (i + 1) & mask;
    }
    s->slots[i] = NULL;
    s->n--;
    /* backward shift: re-place the rest of the cluster */
    for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
        void *o = s->slots[j];
        s->slots[j] = NULL;
        s_set_place(p, s, o);
    }
}

/* ---- accounts and entries ---- */

static s_acct_t *s_acct_get(ledger_mempool_t *p, const uint8_t *pub, bool create)
{
    s_acct_t *a = s_set_find(p, &p->by_acct, pub);
    if (a || !create)
        return a;
    if (p->n_accts == p->cap_accts) {
        size_t cap = p->cap_accts ? p->cap_accts * 2 : 64;
        s_acct_t **accts = realloc(p->accts, cap * sizeof *accts);
        if (!accts)
            return NULL;
        p->accts = accts;
        p->cap_accts = cap;
    }
    a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    memcpy(a->pub, pub, LEDGER_ID_LEN);
    if (s_set_insert(p, &p->by_acct, a) != LEDGER_OK) {
        free(a);
        return NULL;
    }
    a->idx = p->n_accts;
    p->accts[p->n_accts++] = a;
    return a;
}

static void s_acct_drop_if_empty(ledger_mempool_t *p, s_acct_t *a)
{
    if (a->n > 0)
        return;
    s_set_remove(p, &p->by_acct, a);
    size_t last = p->n_accts - 1;
    p->accts[a->idx] = p->accts[last];
    p->accts[a->idx]->idx = a->idx;
    p->n_accts = last;
    free(a->txs);
    free(a);
}

/* Records that TXID left the pool uncommitted (the oldest record gives way). */
static void s_record(ledger_mempool_t *p, const uint8_t *txid, ledger_drop_reason_t reason,
                     uint64_t nonce, const uint8_t *by)
{
    struct s_drop *r = &p->drops[p->drop_next];
    memset(r, 0, sizeof *r);
    memcpy(r->txid, txid, LEDGER_ID_LEN);
    r->d.reason = reason;
    r->d.nonce = nonce;
    if (by) {
        r->d.has_by = true;
        memcpy(r->d.by, by, LEDGER_ID_LEN);
    }
    p->drop_next = (p->drop_next + 1) % p->lim.max_dropped;
    if (p->drop_n < p->lim.max_dropped)
        p->drop_n++;
}

/* Unlinks entry E from its account queue (at position POS) and the txid set, frees it;
   drops the account if empty. */
static void s_ent_remove(ledger_mempool_t *p, s_ent_t *e)
{
    s_acct_t *a = e->acct;
    if (e->local)
        p->n_local--;
    size_t pos = 0;
    while (a->txs[pos] != e)
        pos++;
    memmove(&a->txs[pos], &a->txs[pos + 1], (a->n - pos - 1) * sizeof *a->txs);
    a->n--;
    s_set_remove(p, &p->by_id, e);
    p->count--;
    p->bytes -= e->len;
    free(e->bytes);
    free(e);
    s_acct_drop_if_empty(p, a);
}

/* ---- lifecycle ---- */

ledger_mempool_t *ledger_mempool_new(ledger_store_t *store, const ledger_mempool_limits_t *limits)
{
    ledger_mempool_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->store = store;
    if (!(p->view = ledger_state_new(store))) {
        free(p);
        return NULL;
    }
    if (limits)
        p->lim = *limits;
    if (!p->lim.max_txs)
        p->lim.max_txs = DEF_MAX_TXS;
    if (!p->lim.max_bytes)
        p->lim.max_bytes = DEF_MAX_BYTES;
    if (!p->lim.max_per_account)
        p->lim.max_per_account = DEF_PER_ACCOUNT;
    if (!p->lim.max_nonce_ahead)
        p->lim.max_nonce_ahead = DEF_NONCE_AHEAD;
    if (!p->lim.gap_expiry_ms)
        p->lim.gap_expiry_ms = DEF_GAP_EXPIRY_MS;
    if (!p->lim.max_dropped)
        p->lim.max_dropped = DEF_MAX_DROPPED;
    if (!(p->drops = calloc(p->lim.max_dropped, sizeof *p->drops))) {
        ledger_state_destroy(&p->view);
        free(p);
        return NULL;
    }
    crypto_shorthash_keygen(p->hkey);
    return p;
}

void ledger_mempool_destroy(ledger_mempool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_mempool_t *p = *self_p;
    for (size_t i = 0; i < p->n_accts; i++) {
        s_acct_t *a = p->accts[i];
        for (size_t k = 0; k < a->n; k++) {
            free(a->txs[k]->bytes);
            free(a->txs[k]);
        }
        free(a->txs);
        free(a);
    }
    free(p->accts);
    free(p->by_id.slots);
    free(p->by_acct.slots);
    free(p->drops);
    ledger_state_destroy(&p->view);
    free(p);
    *self_p = NULL;
}

/* ---- admission ---- */

static int s_insert(ledger_mempool_t *p, const ledger_tx_t *tx, const uint8_t *txid,
                    uint64_t committed, char *err, size_t err_cap)
{
    s_ent_t *e = calloc(1, sizeof *e);
    s_acct_t *a = NULL;
    if (!e || !(e->bytes = malloc(tx->len)))
        goto nomem;
    memcpy(e->txid, txid, LEDGER_ID_LEN);
    memcpy(e->bytes, tx->bytes, tx->len);
    e->len = tx->len;
    e->nonce = tx->nonce;
    e->spend = tx->type == LEDGER_TX_TRANSFER ? tx->body.transfer.amount : 0;
    if (!(a = s_acct_get(p, tx->from, true)))
        goto nomem;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        s_ent_t **txs = realloc(a->txs, cap * sizeof *txs);
        if (!txs)
            goto nomem;
        a->txs = txs;
        a->cap = cap;
    }
    if (s_set_insert(p, &p->by_id, e) != LEDGER_OK)
        goto nomem;
    size_t pos = a->n;
    while (pos > 0 && a->txs[pos - 1]->nonce > e->nonce)
        pos--;
    memmove(&a->txs[pos + 1], &a->txs[pos], (a->n - pos) * sizeof *a->txs);
    a->txs[pos] = e;
    a->n++;
    e->acct = a;
    a->committed = committed;
    p->count++;
    p->bytes += e->len;
    return LEDGER_OK;
nomem:
    if (e)
        free(e->bytes);
    free(e);
    if (a)
        s_acct_drop_if_empty(p, a);
    return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
}

static int s_add(ledger_mempool_t *pool, const uint8_t *bytes, size_t len, bool sig_verified,
                 uint8_t *txid, char *err, size_t err_cap)
{
    ledger_tx_t tx;
    ledger_chain_t chain;
    ledger_account_t acct;
    uint8_t id[LEDGER_ID_LEN];
    if (ledger_store_chain(pool->store, &chain) != LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_FOUND, "ledger has no genesis yet");
    if (len > LEDGER_TX_MAX_BYTES)
        return proto_err_fail(err, err_cap, LEDGER_E_TOO_BIG, "transaction larger than 64 KiB");
    int rc = ledger_tx_parse(bytes, len, chain.chain_id, false, &tx, err, err_cap);
    if (rc == LEDGER_E_MALFORMED || rc == LEDGER_E_UNKNOWN_TYPE || rc == LEDGER_E_TOO_BIG)
        return rc;
    ledger_tx_id(bytes, len, id);
    if (txid)
        memcpy(txid, id, LEDGER_ID_LEN);
    if (s_set_find(pool, &pool->by_id, id))
        return proto_err_fail(err, err_cap, LEDGER_E_DUPLICATE,
                              "transaction already in the mempool");
    if (rc != LEDGER_OK)
        return rc; /* wrong chain, stateless rule */
    if ((rc = ledger_store_account(pool->store, tx.from, &acct)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, rc, "cannot read the sender's account");
    if (tx.nonce < acct.nonce)
        return proto_err_fail(err, err_cap, LEDGER_E_NONCE_USED,
                              "nonce already used (replayed transaction)");
    if (tx.nonce - acct.nonce >= pool->lim.max_nonce_ahead)
        return proto_err_fail(err, err_cap, LEDGER_E_NONCE_GAP,
                              "nonce too far ahead of the account's next nonce");
    s_acct_t *a = s_acct_get(pool, tx.from, false);
    uint64_t ahead = 0; /* what the sender's pending txs before this one spend */
    if (a) {
        for (size_t i = 0; i < a->n; i++) {
            if (a->txs[i]->nonce == tx.nonce)
                return proto_err_fail(err, err_cap, LEDGER_E_NONCE_TAKEN,
                                      "another pending transaction has this nonce");
            if (a->txs[i]->nonce < tx.nonce)
                ahead =
                    a->txs[i]->spend > UINT64_MAX - ahead ? UINT64_MAX : ahead + a->txs[i]->spend;
        }
    }
    ledger_state_reset(pool->view);
    /* The sender's committed account, read above (the view need not read it again), less
       what its pending txs of lower nonces spend: a tx its balance cannot cover once those
       commit could never commit itself. */
    ledger_account_t after = acct;
    after.balance = ahead >= acct.balance ? 0 : acct.balance - ahead;
    if (ledger_state_set_account(pool->view, tx.from, &after) != LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    if ((rc = ledger_state_admit_tx(pool->view, &tx, err, err_cap)) != LEDGER_OK) {
        if (rc == LEDGER_E_FUNDS && ahead)
            proto_err_fail(err, err_cap, rc,
                           "insufficient balance once this sender's pending transactions commit");
        return rc;
    }
    if (pool->count >= pool->lim.max_txs || pool->bytes + len > pool->lim.max_bytes)
        return proto_err_fail(err, err_cap, LEDGER_E_FULL, "mempool is full");
    if (a && a->n >= pool->lim.max_per_account)
        return proto_err_fail(err, err_cap, LEDGER_E_FULL,
                              "too many pending transactions from this account");
    if (!sig_verified && !ledger_tx_verify_sig(&tx))
        return proto_err_fail(err, err_cap, LEDGER_E_BAD_SIG, "signature does not verify");
    return s_insert(pool, &tx, id, acct.nonce, err, err_cap);
}

int ledger_mempool_add(ledger_mempool_t *pool, const uint8_t *bytes, size_t len, uint8_t *txid,
                       char *err, size_t err_cap)
{
    return s_add(pool, bytes, len, false, txid, err, err_cap);
}

int ledger_mempool_add_verified(ledger_mempool_t *pool, const uint8_t *bytes, size_t len,
                                uint8_t *txid, char *err, size_t err_cap)
{
    return s_add(pool, bytes, len, true, txid, err, err_cap);
}

uint64_t ledger_mempool_next_nonce(ledger_mempool_t *pool, const uint8_t from[static LEDGER_ID_LEN],
                                   uint64_t committed)
{
    s_acct_t *a = s_acct_get(pool, from, false);
    uint64_t next = committed;
    for (size_t i = 0; a && i < a->n; i++) {
        if (a->txs[i]->nonce < next)
            continue;
        if (a->txs[i]->nonce != next)
            break;
        next++;
    }
    return next;
}

bool ledger_mempool_has(const ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN])
{
    return s_set_find(pool, &pool->by_id, txid) != NULL;
}

bool ledger_mempool_full(const ledger_mempool_t *pool)
{
    return pool->count >= pool->lim.max_txs ||
           pool->bytes + LEDGER_TX_MAX_BYTES > pool->lim.max_bytes;
}

size_t ledger_mempool_room(const ledger_mempool_t *pool)
{
    return ledger_mempool_full(pool) ? 0 : pool->lim.max_txs - pool->count;
}

size_t ledger_mempool_count(const ledger_mempool_t *pool)
{
    return pool->count;
}

size_t ledger_mempool_bytes(const ledger_mempool_t *pool)
{
    return pool->bytes;
}

bool ledger_mempool_remove(ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN])
{
    s_ent_t *e = s_set_find(pool, &pool->by_id, txid);
    if (!e)
        return false;
    s_record(pool, e->txid, LEDGER_DROP_REMOVED, e->nonce, NULL);
    s_ent_remove(pool, e);
    return true;
}

/* ---- reaping ---- */

size_t ledger_mempool_reap(ledger_mempool_t *pool, size_t max_txs, size_t max_bytes,
                           ledger_txref_t *out)
{
    size_t n = 0, used = 0;
    if (max_txs == 0 || pool->n_accts == 0)
        return 0;
    /* ready[i]: how many of account i's txs have contiguous nonces from its committed
       nonce; a ready account whose next tx does not fit is closed (nonce order). */
    size_t *ready = calloc(pool->n_accts, sizeof *ready);
    if (!ready)
        return 0;
    for (size_t i = 0; i < pool->n_accts; i++) {
        const s_acct_t *a = pool->accts[i];
        size_t r = 0;
        while (r < a->n && a->txs[r]->nonce == a->committed + r)
            r++;
        ready[i] = r;
    }
    bool progress = true;
    for (size_t pass = 0; progress && n < max_txs; pass++) {
        progress = false;
        for (size_t i = 0; i < pool->n_accts && n < max_txs; i++) {
            if (ready[i] <= pass)
                continue;
            const s_ent_t *e = pool->accts[i]->txs[pass];
            if (used + e->len + REAP_FRAMING > max_bytes) {
                ready[i] = 0; /* later txs of this account must wait for this one */
                continue;
            }
            out[n++] = (ledger_txref_t){.bytes = e->bytes, .len = e->len, .txid = e->txid};
            used += e->len + REAP_FRAMING;
            progress = true;
        }
    }
    free(ready);
    return n;
}

/* ---- after a commit ---- */

/* One committed tx of the block being applied: its (from, nonce) and txid. */
typedef struct {
    uint8_t from[LEDGER_ID_LEN];
    uint64_t nonce;
    uint8_t txid[LEDGER_ID_LEN];
} s_done_t;

/* Orders by (from, nonce): one sender's txs are adjacent, and bsearch finds a nonce. */
static int s_done_cmp(const void *x, const void *y)
{
    const s_done_t *a = x, *b = y;
    int c = memcmp(a->from, b->from, LEDGER_ID_LEN);
    if (c)
        return c;
    return (a->nonce > b->nonce) - (a->nonce < b->nonce);
}

/* Reads FROM's committed nonce from the store and drops its pending txs below it: each is
   recorded as replaced by the committed tx with its (from, nonce) when DONE (ND records,
   sorted by s_done_cmp; NULL when none could be collected) holds one, else as nonce-used.
   LEDGER_OK or LEDGER_E_STORE. */
static int s_settle(ledger_mempool_t *pool, const uint8_t *from, const s_done_t *done, size_t nd)
{
    s_acct_t *a = s_acct_get(pool, from, false);
    if (!a)
        return LEDGER_OK;
    ledger_account_t acct;
    if (ledger_store_account(pool->store, from, &acct) != LEDGER_OK)
        return LEDGER_E_STORE;
    a->committed = acct.nonce;
    /* the queue is sorted: the stale txs are at its front */
    while (a && a->n > 0 && a->txs[0]->nonce < acct.nonce) {
        bool last = a->n == 1;
        s_ent_t *e = a->txs[0];
        s_done_t key;
        memcpy(key.from, from, LEDGER_ID_LEN);
        key.nonce = e->nonce;
        const s_done_t *by = done ? bsearch(&key, done, nd, sizeof *done, s_done_cmp) : NULL;
        s_record(pool, e->txid, by ? LEDGER_DROP_REPLACED : LEDGER_DROP_NONCE_USED, e->nonce,
                 by ? by->txid : NULL);
        s_ent_remove(pool, e);
        if (last)
            a = NULL; /* freed with its last entry */
    }
    return LEDGER_OK;
}

int ledger_mempool_update(ledger_mempool_t *pool, const uint8_t *block, size_t len)
{
    ledger_block_t *b = NULL;
    int prc = ledger_block_decode(block, len, &b);
    if (prc != PROTO_OK)
        return prc == PROTO_E_NOMEM ? LEDGER_E_NOMEM : LEDGER_E_MALFORMED;
    int rc = LEDGER_OK;
    size_t ntx = ledger_block_tx_count(b), nd = 0;
    /* without this index the update still happens, one store read per tx and every
       stale tx recorded as nonce-used */
    s_done_t *done = ntx ? calloc(ntx, sizeof *done) : NULL;
    /* 1: every tx of the block leaves the pool first, so that a sender's later txs in
       the same block are never mistaken for stale ones below */
    for (size_t i = 0; i < ntx; i++) {
        size_t tlen;
        const uint8_t *tb = ledger_block_tx(b, i, &tlen);
        uint8_t id[LEDGER_ID_LEN];
        ledger_tx_id(tb, tlen, id);
        s_ent_t *e = s_set_find(pool, &pool->by_id, id);
        if (e)
            s_ent_remove(pool, e); /* committed: tx_status finds it in the store */
        ledger_tx_t tx;
        if (!done || ledger_tx_decode(tb, tlen, &tx) != PROTO_OK)
            continue;
        memcpy(done[nd].from, tx.from, LEDGER_ID_LEN);
        done[nd].nonce = tx.nonce;
        memcpy(done[nd].txid, id, LEDGER_ID_LEN);
        nd++;
    }
    /* 2: once per sender, its committed nonce and the pending txs it leaves stale */
    if (done) {
        qsort(done, nd, sizeof *done, s_done_cmp);
        for (size_t k = 0; k < nd; k++) {
            if (k > 0 && memcmp(done[k].from, done[k - 1].from, LEDGER_ID_LEN) == 0)
                continue;
            if (s_settle(pool, done[k].from, done, nd) != LEDGER_OK)
                rc = LEDGER_E_STORE;
        }
    } else {
        for (size_t i = 0; i < ntx; i++) {
            size_t tlen;
            const uint8_t *tb = ledger_block_tx(b, i, &tlen);
            ledger_tx_t tx;
            if (ledger_tx_decode(tb, tlen, &tx) == PROTO_OK &&
                s_settle(pool, tx.from, NULL, 0) != LEDGER_OK)
                rc = LEDGER_E_STORE;
        }
    }
    free(done);
    ledger_block_destroy(&b);
    return rc;
}

/* ---- nonce gaps, the dropped index, local txs ---- */

const char *ledger_drop_reason_str(ledger_drop_reason_t reason)
{
    switch (reason) {
    case LEDGER_DROP_EXPIRED:
        return "expired behind a nonce gap";
    case LEDGER_DROP_REPLACED:
        return "replaced";
    case LEDGER_DROP_NONCE_USED:
        return "nonce used by another committed transaction";
    case LEDGER_DROP_REMOVED: /* the node removes only txs a block failed to execute */
        return "removed (failed to execute in a block)";
    }
    return "dropped";
}

size_t ledger_mempool_expire(ledger_mempool_t *pool, uint64_t now_ms)
{
    size_t dropped = 0;
    uint64_t stamp = now_ms ? now_ms : 1;
    for (size_t i = 0; i < pool->n_accts;) {
        s_acct_t *a = pool->accts[i];
        size_t r = 0;
        for (; r < a->n && a->txs[r]->nonce == a->committed + r; r++)
            a->txs[r]->gap_since_ms = 0;
        bool gone = false;
        for (size_t k = r; k < a->n;) {
            s_ent_t *e = a->txs[k];
            if (!e->gap_since_ms || e->gap_since_ms > stamp) { /* new wait, or clock went back */
                e->gap_since_ms = stamp;
                k++;
                continue;
            }
            if (stamp - e->gap_since_ms < pool->lim.gap_expiry_ms) {
                k++;
                continue;
            }
            bool last = a->n == 1;
            s_record(pool, e->txid, LEDGER_DROP_EXPIRED, e->nonce, NULL);
            s_ent_remove(pool, e); /* the entries after it move down to K */
            dropped++;
            if (last) {
                gone = true; /* the account was freed; another took index I */
                break;
            }
        }
        if (!gone)
            i++;
    }
    return dropped;
}

bool ledger_mempool_dropped(const ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN],
                            ledger_drop_t *out)
{
    /* newest first: a txid dropped twice (re-submitted in between) answers its last drop */
    for (size_t k = 0; k < pool->drop_n; k++) {
        size_t i = (pool->drop_next + pool->lim.max_dropped - 1 - k) % pool->lim.max_dropped;
        if (memcmp(pool->drops[i].txid, txid, LEDGER_ID_LEN) == 0) {
            *out = pool->drops[i].d;
            return true;
        }
    }
    return false;
}

bool ledger_mempool_set_local(ledger_mempool_t *pool, const uint8_t txid[static LEDGER_ID_LEN])
{
    s_ent_t *e = s_set_find(pool, &pool->by_id, txid);
    if (!e)
        return false;
    if (!e->local)
        pool->n_local++;
    e->local = true;
    return true;
}

size_t ledger_mempool_local_count(const ledger_mempool_t *pool)
{
    return pool->n_local;
}

size_t ledger_mempool_local(ledger_mempool_t *pool, ledger_txref_t *out, size_t max)
{
    size_t n = 0, na = pool->n_accts;
    if (na == 0 || max == 0 || pool->n_local == 0)
        return 0;
    size_t start = pool->local_cursor % na, k = 0;
    for (; k < na && n < max; k++) {
        const s_acct_t *a = pool->accts[(start + k) % na];
        for (size_t j = 0; j < a->n && n < max; j++) {
            const s_ent_t *e = a->txs[j];
            if (e->local)
                out[n++] = (ledger_txref_t){.bytes = e->bytes, .len = e->len, .txid = e->txid};
        }
    }
    pool->local_cursor = (start + k) % na;
    return n;
}
