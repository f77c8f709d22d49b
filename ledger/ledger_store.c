/*  ledger_store: LevelDB storage of blocks, certificates, state and indexes (see
 *  ledger_store.h). Every LevelDB error string is logged and freed here, at the
 *  boundary; callers see ledger_err_t values only.
 */
#include "ledger/ledger_store.h"

#include <dirent.h>
#include <errno.h>
#include <leveldb/c.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_merkle.h"
#include "ledger/ledger_proof.h"
#include "ledger/ledger_trim.h"
#include "proto/proto_log.h"
#include "proto/proto_bytes.h"

#define HEAD_LEN (8 + 2 * LEDGER_ID_LEN + 8)
#define CHAIN_LEN (LEDGER_ID_LEN + 8 + 8)
#define TXLOC_LEN (8 + 4 + 1)
#define CACHE_BYTES (4u << 20)
#define WRITE_BUFFER_BYTES (4u << 20)

struct ledger_store_t {
    char *dir;
    char *real_dir;      /* DIR as /proc/self/maps names it (absolute, no links), for trimming */
    ledger_trim_t *trim; /* the trimmer thread, NULL if stopped */
    leveldb_t *db;
    leveldb_options_t *opts;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *filter;
    leveldb_readoptions_t *ropts;
    leveldb_writeoptions_t *wopts; /* sync */
    pthread_mutex_t lock;          /* guards head, chain, has_head */
    bool has_head;
    ledger_head_t head;
    ledger_chain_t chain;
};

static const uint8_t s_key_head[2] = {'M', 'h'};
static const uint8_t s_key_chain[2] = {'M', 'c'};

/* ---- helpers ---- */

static void s_height_key(uint8_t key[9], char kind, uint64_t height)
{
    key[0] = (uint8_t)kind;
    proto_be64_put(key + 1, height);
}

/* Logs and frees a LevelDB error; copies it to ERR if given. Returns LEDGER_E_STORE. */
static int s_lverr(char *lerr, const char *what, char *err, size_t errlen)
{
    GLOG(ERROR, LEDGER, "leveldb %s: %s", what, lerr ? lerr : "?");
    if (err && errlen)
        snprintf(err, errlen, "leveldb %s: %s", what, lerr ? lerr : "?");
    leveldb_free(lerr);
    return LEDGER_E_STORE;
}

static void s_seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static void s_head_encode(const ledger_head_t *h, uint8_t out[HEAD_LEN])
{
    proto_be64_put(out, h->height);
    memcpy(out + 8, h->hash, LEDGER_ID_LEN);
    memcpy(out + 8 + LEDGER_ID_LEN, h->state_root, LEDGER_ID_LEN);
    proto_be64_put(out + 8 + 2 * LEDGER_ID_LEN, h->time_ms);
}

static void s_head_decode(const uint8_t in[HEAD_LEN], ledger_head_t *h)
{
    h->height = proto_be64_get(in);
    memcpy(h->hash, in + 8, LEDGER_ID_LEN);
    memcpy(h->state_root, in + 8 + LEDGER_ID_LEN, LEDGER_ID_LEN);
    h->time_ms = proto_be64_get(in + 8 + 2 * LEDGER_ID_LEN);
}

static void s_chain_encode(const ledger_chain_t *c, uint8_t out[CHAIN_LEN])
{
    memcpy(out, c->chain_id, LEDGER_ID_LEN);
    proto_be64_put(out + LEDGER_ID_LEN, c->max_block_bytes);
    proto_be64_put(out + LEDGER_ID_LEN + 8, c->max_block_txs);
}

static void s_chain_decode(const uint8_t in[CHAIN_LEN], ledger_chain_t *c)
{
    memcpy(c->chain_id, in, LEDGER_ID_LEN);
    c->max_block_bytes = proto_be64_get(in + LEDGER_ID_LEN);
    c->max_block_txs = proto_be64_get(in + LEDGER_ID_LEN + 8);
}

/* ---- raw reads ---- */

int ledger_store_get(ledger_store_t *s, const uint8_t *key, size_t klen, uint8_t **val,
                     size_t *vlen)
{
    char *lerr = NULL;
    size_t n = 0;
    *val = NULL;
    *vlen = 0;
    char *v = leveldb_get(s->db, s->ropts, (const char *)key, klen, &n, &lerr);
    if (lerr)
        return s_lverr(lerr, "get", NULL, 0);
    if (!v)
        return LEDGER_E_NOT_FOUND;
    uint8_t *copy = malloc(n ? n : 1);
    if (copy && n)
        memcpy(copy, v, n);
    leveldb_free(v);
    if (!copy)
        return LEDGER_E_NOMEM;
    *val = copy;
    *vlen = n;
    return LEDGER_OK;
}

int ledger_store_get_small(ledger_store_t *s, const uint8_t *key, size_t klen, uint8_t *buf,
                           size_t cap, size_t *vlen)
{
    char *lerr = NULL;
    size_t n = 0;
    *vlen = 0;
    char *v = leveldb_get(s->db, s->ropts, (const char *)key, klen, &n, &lerr);
    if (lerr)
        return s_lverr(lerr, "get", NULL, 0);
    if (!v)
        return LEDGER_E_NOT_FOUND;
    int rc = LEDGER_OK;
    if (n > cap) {
        rc = LEDGER_E_CORRUPT;
    } else {
        memcpy(buf, v, n);
        *vlen = n;
    }
    leveldb_free(v);
    return rc;
}

/* ---- open / close ---- */

/* Checks the stored head against the head block. */
static int s_check_head(ledger_store_t *s, char *err, size_t errlen)
{
    uint8_t *bytes = NULL;
    size_t len;
    ledger_block_t *b = NULL;
    int rc = ledger_store_block(s, s->head.height, &bytes, &len);
    if (rc != LEDGER_OK) {
        s_seterr(err, errlen, "head block is missing");
        rc = rc == LEDGER_E_NOT_FOUND ? LEDGER_E_CORRUPT : rc;
        goto out;
    }
    if (ledger_block_decode(bytes, len, &b) != PROTO_OK) {
        s_seterr(err, errlen, "head block does not decode");
        rc = LEDGER_E_CORRUPT;
        goto out;
    }
    const ledger_header_t *h = ledger_block_header(b);
    if (h->height != s->head.height ||
        memcmp(ledger_block_hash(b), s->head.hash, LEDGER_ID_LEN) != 0) {
        s_seterr(err, errlen, "head block does not match the head record");
        rc = LEDGER_E_CORRUPT;
    } else if (memcmp(h->state_root, s->head.state_root, LEDGER_ID_LEN) != 0) {
        s_seterr(err, errlen, "head block's state root differs from the stored root");
        rc = LEDGER_E_CORRUPT;
    } else if (memcmp(h->chain_id, s->chain.chain_id, LEDGER_ID_LEN) != 0) {
        s_seterr(err, errlen, "head block belongs to another chain");
        rc = LEDGER_E_CORRUPT;
    }
out:
    ledger_block_destroy(&b);
    free(bytes);
    return rc;
}

static int s_load_meta(ledger_store_t *s, char *err, size_t errlen)
{
    uint8_t head[HEAD_LEN], chain[CHAIN_LEN];
    size_t hn, cn;
    int rh = ledger_store_get_small(s, s_key_head, sizeof s_key_head, head, sizeof head, &hn);
    int rcn = ledger_store_get_small(s, s_key_chain, sizeof s_key_chain, chain, sizeof chain, &cn);
    if (rh == LEDGER_E_NOT_FOUND && rcn == LEDGER_E_NOT_FOUND)
        return LEDGER_OK; /* fresh database */
    if (rh == LEDGER_E_STORE || rcn == LEDGER_E_STORE) {
        s_seterr(err, errlen, "cannot read the head record");
        return LEDGER_E_STORE;
    }
    if (rh != LEDGER_OK || rcn != LEDGER_OK || hn != HEAD_LEN || cn != CHAIN_LEN) {
        s_seterr(err, errlen, "head or chain record missing or malformed");
        return LEDGER_E_CORRUPT;
    }
    s_head_decode(head, &s->head);
    s_chain_decode(chain, &s->chain);
    s->has_head = true;
    return s_check_head(s, err, errlen);
}

/*  LevelDB compacts on one background thread per process, created by the first thread
 *  that schedules a compaction, and a new Linux thread inherits its creator's nice value.
 *  The store is therefore opened on a short-lived thread niced to
 *  LEDGER_STORE_COMPACTION_NICE (ledger_store.h), which
 *  also makes sure the background thread exists when it ends: an empty forced flush of
 *  the memtable (a manual compaction of a key range above every key the ledger writes)
 *  schedules one. Compactions then yield the CPU to the threads that decide, execute
 *  and check blocks. They come in bursts: every few seconds a memtable flush and the
 *  compaction it sets off (LevelDB compacts a table whose lookups had to read on to a
 *  deeper level, which random keys such as fresh accounts make happen at once) rewrite
 *  several tables; run by every node of a machine at the same height, at normal priority,
 *  they made the heights around them 2-3 times slower (4 authorities, 5,000 tx/s).
 *  Best effort: a failed setpriority or thread start leaves the default behaviour. */
typedef struct {
    const leveldb_options_t *opts;
    const char *dir;
    leveldb_t *db;
    char *err;
} s_open_job_t;

static void *s_open_niced(void *arg)
{
    s_open_job_t *j = arg;
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, tid); /* -1 is a valid nice value: check errno */
    if (errno == 0 && nice < LEDGER_STORE_COMPACTION_NICE) /* never raise a priority */
        (void)setpriority(PRIO_PROCESS, tid, LEDGER_STORE_COMPACTION_NICE);
    j->db = leveldb_open(j->opts, j->dir, &j->err);
    if (j->db) {
        static const char above[8] = {'\xff', '\xff', '\xff', '\xff',
                                      '\xff', '\xff', '\xff', '\xff'};
        leveldb_compact_range(j->db, above, sizeof above, above, sizeof above);
    }
    return NULL;
}

static leveldb_t *s_open_db(const leveldb_options_t *opts, const char *dir, char **lerr)
{
    s_open_job_t j = {.opts = opts, .dir = dir};
    pthread_t t;
    if (pthread_create(&t, NULL, s_open_niced, &j) != 0)
        return leveldb_open(opts, dir, lerr);
    pthread_join(t, NULL);
    *lerr = j.err;
    return j.db;
}

int ledger_store_open(const char *dir, ledger_store_t **out, char *err, size_t errlen)
{
    *out = NULL;
    ledger_store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        s_seterr(err, errlen, "out of memory");
        return LEDGER_E_NOMEM;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->opts = leveldb_options_create();
    s->cache = leveldb_cache_create_lru(CACHE_BYTES);
    s->filter = leveldb_filterpolicy_create_bloom(10);
    s->ropts = leveldb_readoptions_create();
    s->wopts = leveldb_writeoptions_create();
    leveldb_options_set_create_if_missing(s->opts, 1);
    leveldb_options_set_cache(s->opts, s->cache);
    leveldb_options_set_filter_policy(s->opts, s->filter);
    leveldb_options_set_write_buffer_size(s->opts, WRITE_BUFFER_BYTES);
    leveldb_options_set_max_open_files(s->opts, 256);
    leveldb_writeoptions_set_sync(s->wopts, 1);
    char *lerr = NULL;
    s->db = s_open_db(s->opts, dir, &lerr);
    int rc;
    if (lerr) {
        rc = s_lverr(lerr, "open", err, errlen);
        goto fail;
    }
    if ((rc = s_load_meta(s, err, errlen)) != LEDGER_OK) {
        GLOG(ERROR, LEDGER, "store %s: %s", dir, proto_err_str(rc));
        goto fail;
    }
    /* the directory exists now that LevelDB opened it */
    if (!(s->real_dir = realpath(dir, NULL)) && !(s->real_dir = strdup(dir))) {
        s_seterr(err, errlen, "out of memory");
        rc = LEDGER_E_NOMEM;
        goto fail;
    }
    ledger_store_trim_start(s);
    *out = s;
    return LEDGER_OK;
fail:
    ledger_store_destroy(&s);
    return rc;
}

void ledger_store_destroy(ledger_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_store_t *s = *self_p;
    ledger_store_trim_stop(s); /* before LevelDB unmaps its tables */
    if (s->db)
        leveldb_close(s->db);
    leveldb_writeoptions_destroy(s->wopts);
    leveldb_readoptions_destroy(s->ropts);
    leveldb_options_destroy(s->opts);
    leveldb_filterpolicy_destroy(s->filter);
    leveldb_cache_destroy(s->cache);
    pthread_mutex_destroy(&s->lock);
    free(s->real_dir);
    free(s->dir);
    free(s);
    *self_p = NULL;
}

int ledger_store_head(ledger_store_t *s, ledger_head_t *out)
{
    pthread_mutex_lock(&s->lock);
    int rc = s->has_head ? LEDGER_OK : LEDGER_E_NOT_FOUND;
    if (s->has_head)
        *out = s->head;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int ledger_store_chain(ledger_store_t *s, ledger_chain_t *out)
{
    pthread_mutex_lock(&s->lock);
    int rc = s->has_head ? LEDGER_OK : LEDGER_E_NOT_FOUND;
    if (s->has_head)
        *out = s->chain;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- commit ---- */

/* Adds block B (at its height), CERT, the hash and tx indexes, STATE's writes and the new
   head to BATCH; fills *head. */
static int s_fill_batch(leveldb_writebatch_t *batch, const ledger_block_t *b, const uint8_t *cert,
                        size_t cert_len, const ledger_state_t *state, ledger_head_t *head)
{
    const ledger_header_t *h = ledger_block_header(b);
    uint8_t key[1 + LEDGER_ID_LEN], val[HEAD_LEN];
    size_t blen;
    const uint8_t *bytes = ledger_block_bytes(b, &blen);

    s_height_key(key, 'B', h->height);
    leveldb_writebatch_put(batch, (const char *)key, 9, (const char *)bytes, blen);
    s_height_key(key, 'C', h->height);
    leveldb_writebatch_put(batch, (const char *)key, 9, (const char *)(cert ? cert : val),
                           cert_len);
    key[0] = 'H';
    memcpy(key + 1, ledger_block_hash(b), LEDGER_ID_LEN);
    proto_be64_put(val, h->height);
    leveldb_writebatch_put(batch, (const char *)key, sizeof key, (const char *)val, 8);

    for (size_t i = 0; i < ledger_block_tx_count(b); i++) {
        size_t tlen;
        const uint8_t *tx = ledger_block_tx(b, i, &tlen);
        key[0] = 'T';
        ledger_tx_id(tx, tlen, key + 1);
        proto_be64_put(val, h->height);
        val[8] = (uint8_t)(i >> 24);
        val[9] = (uint8_t)(i >> 16);
        val[10] = (uint8_t)(i >> 8);
        val[11] = (uint8_t)i;
        val[12] = 0; /* applied */
        leveldb_writebatch_put(batch, (const char *)key, sizeof key, (const char *)val, TXLOC_LEN);
    }
    for (size_t i = 0; i < ledger_state_write_count(state); i++) {
        const uint8_t *k, *v;
        size_t klen, vlen;
        ledger_state_write_at(state, i, &k, &klen, &v, &vlen);
        if (v)
            leveldb_writebatch_put(batch, (const char *)k, klen, (const char *)v, vlen);
        else
            leveldb_writebatch_delete(batch, (const char *)k, klen);
    }
    head->height = h->height;
    memcpy(head->hash, ledger_block_hash(b), LEDGER_ID_LEN);
    memcpy(head->state_root, h->state_root, LEDGER_ID_LEN);
    head->time_ms = h->time_ms;
    s_head_encode(head, val);
    leveldb_writebatch_put(batch, (const char *)s_key_head, sizeof s_key_head, (const char *)val,
                           HEAD_LEN);
    return LEDGER_OK;
}

/* Common part of both commits: checks, batch, synced write, head update. CHAIN non-NULL
   for genesis. */
static int s_commit(ledger_store_t *s, const ledger_chain_t *chain, const uint8_t *block,
                    size_t len, const uint8_t *cert, size_t cert_len, const ledger_state_t *state)
{
    ledger_block_t *b = NULL;
    leveldb_writebatch_t *batch = NULL;
    ledger_head_t cur, next;
    ledger_chain_t ch;
    uint8_t root[LEDGER_ID_LEN];
    bool has = ledger_store_head(s, &cur) == LEDGER_OK;
    int rc = LEDGER_E_BAD_BLOCK;
    if (chain) {
        if (has)
            goto out; /* genesis only once */
        ch = *chain;
    } else if (!has || ledger_store_chain(s, &ch) != LEDGER_OK) {
        rc = LEDGER_E_NOT_FOUND;
        goto out;
    }
    if (cert_len > LEDGER_CERT_MAX_BYTES) {
        rc = LEDGER_E_TOO_BIG;
        goto out;
    }
    int prc = ledger_block_decode(block, len, &b);
    if (prc != PROTO_OK) {
        rc = prc == PROTO_E_NOMEM ? LEDGER_E_NOMEM : LEDGER_E_BAD_BLOCK;
        goto out;
    }
    const ledger_header_t *h = ledger_block_header(b);
    const uint8_t zero[LEDGER_ID_LEN] = {0};
    const uint8_t *base = has ? cur.hash : zero;
    if (!ledger_state_finished(state, root) || memcmp(root, h->state_root, LEDGER_ID_LEN) != 0 ||
        memcmp(ledger_state_base(state), base, LEDGER_ID_LEN) != 0 ||
        memcmp(h->chain_id, ch.chain_id, LEDGER_ID_LEN) != 0)
        goto out;
    if (has && (h->height != cur.height + 1 || memcmp(h->prev_hash, cur.hash, LEDGER_ID_LEN) != 0))
        goto out;
    if (!has && h->height != 0)
        goto out;
    if (!(batch = leveldb_writebatch_create())) {
        rc = LEDGER_E_NOMEM;
        goto out;
    }
    s_fill_batch(batch, b, cert, cert_len, state, &next);
    if (chain) {
        uint8_t cv[CHAIN_LEN];
        s_chain_encode(chain, cv);
        leveldb_writebatch_put(batch, (const char *)s_key_chain, sizeof s_key_chain,
                               (const char *)cv, sizeof cv);
    }
    char *lerr = NULL;
    leveldb_write(s->db, s->wopts, batch, &lerr);
    if (lerr) {
        rc = s_lverr(lerr, "write", NULL, 0);
        goto out;
    }
    pthread_mutex_lock(&s->lock);
    s->head = next;
    s->chain = ch;
    s->has_head = true;
    pthread_mutex_unlock(&s->lock);
    rc = LEDGER_OK;
out:
    if (batch)
        leveldb_writebatch_destroy(batch);
    ledger_block_destroy(&b);
    return rc;
}

int ledger_store_commit(ledger_store_t *s, const uint8_t *block, size_t len, const uint8_t *cert,
                        size_t cert_len, const ledger_state_t *state)
{
    if (!cert || cert_len == 0)
        return LEDGER_E_BAD_BLOCK; /* only genesis has no certificate */
    return s_commit(s, NULL, block, len, cert, cert_len, state);
}

int ledger_store_commit_genesis(ledger_store_t *s, const ledger_chain_t *chain,
                                const uint8_t *block, size_t len, const ledger_state_t *state)
{
    return s_commit(s, chain, block, len, NULL, 0, state);
}

/* ---- reads ---- */

int ledger_store_block(ledger_store_t *s, uint64_t height, uint8_t **block, size_t *len)
{
    uint8_t key[9];
    s_height_key(key, 'B', height);
    return ledger_store_get(s, key, sizeof key, block, len);
}

int ledger_store_cert(ledger_store_t *s, uint64_t height, uint8_t **cert, size_t *len)
{
    uint8_t key[9];
    s_height_key(key, 'C', height);
    return ledger_store_get(s, key, sizeof key, cert, len);
}

int ledger_store_height_of(ledger_store_t *s, const uint8_t hash[static LEDGER_ID_LEN],
                           uint64_t *height)
{
    uint8_t key[1 + LEDGER_ID_LEN] = {'H'}, val[8];
    memcpy(key + 1, hash, LEDGER_ID_LEN);
    size_t n;
    int rc = ledger_store_get_small(s, key, sizeof key, val, sizeof val, &n);
    if (rc != LEDGER_OK)
        return rc;
    if (n != 8)
        return LEDGER_E_CORRUPT;
    *height = proto_be64_get(val);
    return LEDGER_OK;
}

int ledger_store_block_by_hash(ledger_store_t *s, const uint8_t hash[static LEDGER_ID_LEN],
                               uint64_t *height, uint8_t **block, size_t *len)
{
    uint64_t h;
    *block = NULL;
    *len = 0;
    int rc = ledger_store_height_of(s, hash, &h);
    if (rc != LEDGER_OK)
        return rc;
    if (height)
        *height = h;
    return ledger_store_block(s, h, block, len);
}

int ledger_store_tx(ledger_store_t *s, const uint8_t txid[static LEDGER_ID_LEN],
                    ledger_txloc_t *out)
{
    uint8_t key[1 + LEDGER_ID_LEN] = {'T'}, val[TXLOC_LEN];
    memcpy(key + 1, txid, LEDGER_ID_LEN);
    size_t n;
    int rc = ledger_store_get_small(s, key, sizeof key, val, sizeof val, &n);
    if (rc != LEDGER_OK)
        return rc;
    if (n != TXLOC_LEN)
        return LEDGER_E_CORRUPT;
    out->height = proto_be64_get(val);
    out->index = (uint32_t)val[8] << 24 | (uint32_t)val[9] << 16 | (uint32_t)val[10] << 8 | val[11];
    out->status = val[12];
    return LEDGER_OK;
}

int ledger_store_tx_proof(ledger_store_t *s, const uint8_t txid[static LEDGER_ID_LEN],
                          uint8_t **out, size_t *len, uint64_t *height)
{
    *out = NULL;
    *len = 0;
    ledger_txloc_t loc;
    uint8_t *bytes = NULL, *cert = NULL, *hbytes = NULL;
    uint8_t(*ids)[LEDGER_ID_LEN] = NULL;
    size_t blen = 0, clen = 0, hlen = 0;
    ledger_block_t *b = NULL;
    ledger_proof_t p;
    memset(&p, 0, sizeof p);
    int rc = ledger_store_tx(s, txid, &loc);
    if (rc == LEDGER_OK)
        rc = ledger_store_block(s, loc.height, &bytes, &blen);
    if (rc == LEDGER_OK)
        rc = ledger_store_cert(s, loc.height, &cert, &clen);
    if (rc != LEDGER_OK)
        goto out;
    if (ledger_block_decode(bytes, blen, &b) != PROTO_OK) {
        rc = LEDGER_E_CORRUPT;
        goto out;
    }
    size_t n = ledger_block_tx_count(b);
    if (loc.index >= n || clen == 0) {
        rc = LEDGER_E_CORRUPT;
        goto out;
    }
    if (!(ids = malloc(n * sizeof *ids))) {
        rc = LEDGER_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t tlen;
        const uint8_t *tx = ledger_block_tx(b, i, &tlen);
        ledger_tx_id(tx, tlen, ids[i]);
    }
    if (memcmp(ids[loc.index], txid, LEDGER_ID_LEN) != 0 ||
        ledger_merkle_path((const uint8_t(*)[32])ids, n, loc.index, p.path, &p.depth) != 0) {
        rc = LEDGER_E_CORRUPT;
        goto out;
    }
    /* The header's bytes inside the block are its canonical encoding (decoding is strict). */
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_header_write(&w, ledger_block_header(b));
    hbytes = proto_wr_take(&w, &hlen);
    proto_wr_free(&w);
    if (!hbytes) {
        rc = LEDGER_E_NOMEM;
        goto out;
    }
    p.header = hbytes;
    p.header_len = hlen;
    p.cert = cert;
    p.cert_len = clen;
    p.tx = ledger_block_tx(b, loc.index, &p.tx_len);
    p.index = loc.index;
    p.n_txs = (uint32_t)n;
    rc = ledger_proof_encode(&p, out, len);
    if (rc == LEDGER_E_INVALID)
        rc = LEDGER_E_CORRUPT;
    if (rc == LEDGER_OK && height)
        *height = loc.height;
out:
    free(ids);
    free(hbytes);
    ledger_block_destroy(&b);
    free(cert);
    free(bytes);
    return rc;
}

int ledger_store_account(ledger_store_t *s, const uint8_t pub[static LEDGER_ID_LEN],
                         ledger_account_t *out)
{
    uint8_t key[1 + LEDGER_ID_LEN] = {LEDGER_KEY_ACCOUNT}, val[16];
    memcpy(key + 1, pub, LEDGER_ID_LEN);
    memset(out, 0, sizeof *out);
    size_t n;
    int rc = ledger_store_get_small(s, key, sizeof key, val, sizeof val, &n);
    if (rc == LEDGER_E_NOT_FOUND)
        return LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    if (n != 16)
        return LEDGER_E_CORRUPT;
    ledger_account_decode(val, out);
    return LEDGER_OK;
}

int ledger_store_authorities(ledger_store_t *s, uint8_t out[][LEDGER_ID_LEN], size_t *n)
{
    ledger_state_t *st = ledger_state_new(s);
    if (!st)
        return LEDGER_E_NOMEM;
    int rc = ledger_state_authorities(st, out, n);
    ledger_state_destroy(&st);
    return rc;
}

uint64_t ledger_store_disk_size(ledger_store_t *s)
{
    uint64_t total = 0;
    DIR *d = opendir(s->dir);
    if (!d)
        return 0;
    struct dirent *de;
    char path[4096];
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", s->dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    }
    closedir(d);
    return total;
}

long ledger_store_trim_resident(ledger_store_t *s)
{
    return ledger_trim_pass(s->real_dir);
}

void ledger_store_trim_start(ledger_store_t *s)
{
    if (!s->trim)
        s->trim = ledger_trim_new(s->real_dir);
}

void ledger_store_trim_stop(ledger_store_t *s)
{
    ledger_trim_destroy(&s->trim);
}
