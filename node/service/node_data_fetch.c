/*  node_data_fetch: the blob transfer between a data owner's node and an enclave-runner
 *  (DATA_FETCH / DATA_CHUNK), sans-IO; see node_data_fetch.h.
 */
#include "node/service/node_data_fetch.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_msg.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

#define ERR_MAX 599u /* error fields carry a negated genie code */
/* Blob bytes the server keeps in memory for transfers under way, in all. */
#define SERVE_BYTES_MAX (64u * 1024u * 1024u)

/* A chunk's own fields (array, kind, fetch id, error, total, offset, bin32 header) fit in
   this; SEND_MAX + this must fit one unicast payload. */
#define CHUNK_OVERHEAD 64u
_Static_assert(NODE_DATA_FETCH_SEND_MAX + CHUNK_OVERHEAD <= P2P_UNICAST_MAX,
               "a chunk must fit one unicast payload");
_Static_assert(NODE_DATA_FETCH_SEND_MAX <= NODE_DATA_FETCH_CHUNK_MAX, "send within the codec");

typedef struct {
    bool used;
    uint64_t id;
    uint8_t peer[32];
    uint8_t address[32];
    size_t max_total;
    uint32_t timeout_ms;
    uint64_t deadline_ms;
    bool have_total;
    size_t total;
    size_t got; /* bytes received: the offset asked for next */
    uint8_t *buf;
    node_data_fetch_done_fn done;
    void *done_ctx;
} s_fetch_t;

typedef struct {
    bool used;
    uint8_t peer[32];
    uint64_t id; /* the asker's fetch id */
    uint8_t address[32];
    uint8_t *blob;
    size_t len;
    uint64_t last_ms;
} s_serve_t;

struct node_data_fetch_t {
    node_data_fetch_io_t io;
    uint64_t next_id;
    s_fetch_t fetches[NODE_DATA_FETCH_MAX];
    s_serve_t serves[NODE_DATA_FETCH_SERVE_MAX];
    size_t serve_bytes;
    uint64_t chunks_served;
    uint64_t refused_busy;
};

/* ---------------------------------------------------------------- messages */

int node_data_fetch_encode(const node_data_fetch_msg_t *m, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (m->max == 0 || m->max > NODE_DATA_FETCH_CHUNK_MAX || m->offset > NODE_DATA_FETCH_TOTAL_MAX)
        return PROTO_E_INVALID;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_uint(&w, PROTO_MSG_DATA_FETCH);
    proto_wr_uint(&w, m->fetch_id);
    proto_wr_bin(&w, m->address, 32);
    proto_wr_uint(&w, m->offset);
    proto_wr_uint(&w, m->max);
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

/* The rules of a chunk's fields beyond their types (shared by encoder and decoder). */
static bool s_chunk_ok(const node_data_chunk_msg_t *m)
{
    if (m->error > ERR_MAX || m->len > NODE_DATA_FETCH_CHUNK_MAX || (m->len && !m->bytes))
        return false;
    if (m->error != 0)
        return m->total == 0 && m->offset == 0 && m->len == 0;
    return m->total <= NODE_DATA_FETCH_TOTAL_MAX && m->offset <= m->total &&
           m->len <= m->total - m->offset && (m->len > 0 || m->offset == m->total);
}

int node_data_chunk_encode(const node_data_chunk_msg_t *m, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!s_chunk_ok(m))
        return PROTO_E_INVALID;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 6);
    proto_wr_uint(&w, PROTO_MSG_DATA_CHUNK);
    proto_wr_uint(&w, m->fetch_id);
    proto_wr_uint(&w, m->error);
    proto_wr_uint(&w, m->total);
    proto_wr_uint(&w, m->offset);
    proto_wr_bin(&w, m->bytes, m->len);
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

/* Reads the array head and the kind, which must be KIND. */
static int s_rd_head(proto_rd_t *r, uint32_t arity, uint64_t kind)
{
    uint64_t k = 0;
    int rc = proto_rd_array_exact(r, arity);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &k);
    if (rc == PROTO_OK && k != kind)
        rc = PROTO_E_INVALID;
    return rc;
}

int node_data_fetch_decode(const uint8_t *buf, size_t len, node_data_fetch_msg_t *out)
{
    memset(out, 0, sizeof *out);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t max = 0;
    int rc = s_rd_head(&r, 5, PROTO_MSG_DATA_FETCH);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &out->fetch_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, 32, out->address);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, NODE_DATA_FETCH_TOTAL_MAX, &out->offset);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, NODE_DATA_FETCH_CHUNK_MAX, &max);
    if (rc == PROTO_OK && max == 0)
        rc = PROTO_E_INVALID;
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    out->max = (uint32_t)max;
    if (rc != PROTO_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

int node_data_chunk_decode(const uint8_t *buf, size_t len, node_data_chunk_msg_t *out)
{
    memset(out, 0, sizeof *out);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t error = 0;
    int rc = s_rd_head(&r, 6, PROTO_MSG_DATA_CHUNK);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &out->fetch_id);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, ERR_MAX, &error);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, NODE_DATA_FETCH_TOTAL_MAX, &out->total);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, NODE_DATA_FETCH_TOTAL_MAX, &out->offset);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, NODE_DATA_FETCH_CHUNK_MAX, &out->bytes, &out->len);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    out->error = (uint32_t)error;
    if (rc == PROTO_OK && !s_chunk_ok(out))
        rc = PROTO_E_INVALID;
    if (rc != PROTO_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ---------------------------------------------------------------- lifecycle */

node_data_fetch_t *node_data_fetch_new(const node_data_fetch_io_t *io)
{
    if (!io || !io->send)
        return NULL;
    node_data_fetch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->io = *io;
    /* ids from a random start, so a restarted node does not reuse a live peer's ids */
    self->next_id = io->first_id ? io->first_id : ((uint64_t)randombytes_random() << 20) + 1;
    return self;
}

static void s_serve_drop(node_data_fetch_t *self, s_serve_t *s)
{
    self->serve_bytes -= s->len;
    free(s->blob);
    memset(s, 0, sizeof *s);
}

/* Ends F: frees its slot first (so DONE may start another fetch), then calls DONE. */
static void s_finish(s_fetch_t *f, int rc, const char *why)
{
    s_fetch_t done = *f;
    memset(f, 0, sizeof *f);
    if (rc == PROTO_OK)
        done.done(done.done_ctx, PROTO_OK, done.buf ? done.buf : (const uint8_t *)"", done.total,
                  why);
    else
        done.done(done.done_ctx, rc, NULL, 0, why);
    free(done.buf);
}

void node_data_fetch_destroy(node_data_fetch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_data_fetch_t *self = *self_p;
    for (size_t i = 0; i < NODE_DATA_FETCH_MAX; i++)
        if (self->fetches[i].used)
            s_finish(&self->fetches[i], NODE_E_FAILED, "shut down");
    for (size_t i = 0; i < NODE_DATA_FETCH_SERVE_MAX; i++)
        if (self->serves[i].used)
            s_serve_drop(self, &self->serves[i]);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- fetching */

/* Asks F's peer for the next chunk. 0 or SEND's / the encoder's code. */
static int s_ask(node_data_fetch_t *self, s_fetch_t *f)
{
    node_data_fetch_msg_t m = {
        .fetch_id = f->id, .offset = f->got, .max = NODE_DATA_FETCH_SEND_MAX};
    memcpy(m.address, f->address, 32);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = node_data_fetch_encode(&m, &buf, &len);
    if (rc == PROTO_OK)
        rc = self->io.send(self->io.ctx, f->peer, PROTO_MSG_DATA_FETCH, buf, len);
    free(buf);
    return rc;
}

int node_data_fetch_start(node_data_fetch_t *self, const uint8_t peer[static 32],
                          const uint8_t address[static 32], size_t max_total, uint32_t timeout_ms,
                          uint64_t now_ms, node_data_fetch_done_fn done, void *done_ctx,
                          uint64_t *fetch_id)
{
    if (!done || max_total == 0 || max_total > NODE_DATA_FETCH_TOTAL_MAX)
        return NODE_E_PARAMS;
    s_fetch_t *f = NULL;
    for (size_t i = 0; i < NODE_DATA_FETCH_MAX && !f; i++)
        if (!self->fetches[i].used)
            f = &self->fetches[i];
    if (!f)
        return NODE_E_BUSY;
    memset(f, 0, sizeof *f);
    f->id = self->next_id++;
    memcpy(f->peer, peer, 32);
    memcpy(f->address, address, 32);
    f->max_total = max_total;
    f->timeout_ms = timeout_ms ? timeout_ms : NODE_DATA_FETCH_TIMEOUT_MS;
    f->deadline_ms = now_ms + f->timeout_ms;
    f->done = done;
    f->done_ctx = done_ctx;
    int rc = s_ask(self, f);
    if (rc != PROTO_OK) {
        memset(f, 0, sizeof *f);
        return rc;
    }
    f->used = true;
    if (fetch_id)
        *fetch_id = f->id;
    return PROTO_OK;
}

bool node_data_fetch_cancel(node_data_fetch_t *self, uint64_t fetch_id)
{
    for (size_t i = 0; i < NODE_DATA_FETCH_MAX; i++) {
        s_fetch_t *f = &self->fetches[i];
        if (f->used && f->id == fetch_id) {
            free(f->buf);
            memset(f, 0, sizeof *f);
            return true;
        }
    }
    return false;
}

/* Feeds chunk M from FROM to its transfer. */
static void s_on_chunk(node_data_fetch_t *self, const uint8_t from[32],
                       const node_data_chunk_msg_t *m, uint64_t now_ms)
{
    s_fetch_t *f = NULL;
    for (size_t i = 0; i < NODE_DATA_FETCH_MAX && !f; i++)
        if (self->fetches[i].used && self->fetches[i].id == m->fetch_id &&
            memcmp(self->fetches[i].peer, from, 32) == 0)
            f = &self->fetches[i];
    if (!f)
        return; /* late, or not ours: ignored */
    char why[160];
    if (m->error != 0) {
        int code = -(int)m->error;
        snprintf(why, sizeof why, "the owner's node refused: %s", proto_err_str(code));
        s_finish(f, code, why);
        return;
    }
    if (m->offset != f->got) {
        snprintf(why, sizeof why, "chunk at offset %llu, %zu asked for",
                 (unsigned long long)m->offset, f->got);
        s_finish(f, NODE_E_FETCH, why);
        return;
    }
    if (m->len > NODE_DATA_FETCH_SEND_MAX) {
        s_finish(f, NODE_E_FETCH, "chunk larger than asked for");
        return;
    }
    if (!f->have_total) {
        if (m->total > f->max_total) {
            snprintf(why, sizeof why, "blob of %llu bytes, at most %zu expected",
                     (unsigned long long)m->total, f->max_total);
            s_finish(f, NODE_E_FETCH, why);
            return;
        }
        f->total = (size_t)m->total;
        f->have_total = true;
        if (f->total && !(f->buf = malloc(f->total))) {
            s_finish(f, PROTO_E_NOMEM, "out of memory");
            return;
        }
    } else if (m->total != f->total) {
        s_finish(f, NODE_E_FETCH, "blob length changed between chunks");
        return;
    }
    /* the decoder ensured offset + len <= total and progress unless offset == total */
    if (m->len)
        memcpy(f->buf + f->got, m->bytes, m->len);
    f->got += m->len;
    f->deadline_ms = now_ms + f->timeout_ms;
    if (f->got < f->total) {
        int rc = s_ask(self, f);
        if (rc != PROTO_OK)
            s_finish(f, rc, "could not ask for the next chunk");
        return;
    }
    uint8_t h[32];
    crypto_generichash(h, sizeof h, f->buf, f->total, NULL, 0);
    if (sodium_memcmp(h, f->address, 32) != 0) {
        s_finish(f, NODE_E_FETCH, "blob does not hash to its address");
        return;
    }
    s_finish(f, PROTO_OK, "fetched");
}

/* ---------------------------------------------------------------- serving */

static size_t s_serving_for(const node_data_fetch_t *self, const uint8_t peer[32])
{
    size_t n = 0;
    for (size_t i = 0; i < NODE_DATA_FETCH_SERVE_MAX; i++)
        n += self->serves[i].used && memcmp(self->serves[i].peer, peer, 32) == 0;
    return n;
}

/* Sends chunk M to PEER. */
static void s_send_chunk(node_data_fetch_t *self, const uint8_t peer[32],
                         const node_data_chunk_msg_t *m)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (node_data_chunk_encode(m, &buf, &len) == PROTO_OK)
        (void)self->io.send(self->io.ctx, peer, PROTO_MSG_DATA_CHUNK, buf, len);
    free(buf);
}

static void s_refuse(node_data_fetch_t *self, const uint8_t peer[32], uint64_t fetch_id, int code)
{
    node_data_chunk_msg_t m = {.fetch_id = fetch_id, .error = (uint32_t)(-code)};
    s_send_chunk(self, peer, &m);
}

/* Finds or opens the served transfer of (FROM, M); NULL after answering with an error. */
static s_serve_t *s_serve_slot(node_data_fetch_t *self, const uint8_t from[32],
                               const node_data_fetch_msg_t *m, uint64_t now_ms)
{
    for (size_t i = 0; i < NODE_DATA_FETCH_SERVE_MAX; i++) {
        s_serve_t *s = &self->serves[i];
        if (s->used && s->id == m->fetch_id && memcmp(s->peer, from, 32) == 0) {
            if (memcmp(s->address, m->address, 32) != 0) { /* one id, one blob */
                s_serve_drop(self, s);
                s_refuse(self, from, m->fetch_id, NODE_E_PARAMS);
                return NULL;
            }
            return s;
        }
    }
    if (!self->io.get_blob || (self->io.allow && !self->io.allow(self->io.ctx, from, m->address))) {
        s_refuse(self, from, m->fetch_id, NODE_E_NOT_FOUND);
        return NULL;
    }
    s_serve_t *s = NULL;
    for (size_t i = 0; i < NODE_DATA_FETCH_SERVE_MAX && !s; i++)
        if (!self->serves[i].used)
            s = &self->serves[i];
    if (!s || s_serving_for(self, from) >= NODE_DATA_FETCH_SERVE_PER_PEER ||
        self->serve_bytes >= SERVE_BYTES_MAX) {
        self->refused_busy++;
        s_refuse(self, from, m->fetch_id, NODE_E_BUSY);
        return NULL;
    }
    uint8_t *blob = NULL;
    size_t len = 0;
    int rc = self->io.get_blob(self->io.ctx, m->address, &blob, &len);
    if (rc == PROTO_OK && len > NODE_DATA_FETCH_TOTAL_MAX)
        rc = NODE_E_FETCH;
    if (rc == PROTO_OK) { /* the store is content-addressed: never serve a corrupt file */
        uint8_t h[32];
        crypto_generichash(h, sizeof h, blob, len, NULL, 0);
        if (memcmp(h, m->address, 32) != 0)
            rc = NODE_E_NOT_FOUND;
    }
    if (rc != PROTO_OK) {
        free(blob);
        s_refuse(self, from, m->fetch_id, rc < 0 && rc >= -(int)ERR_MAX ? rc : NODE_E_FAILED);
        return NULL;
    }
    s->used = true;
    memcpy(s->peer, from, 32);
    s->id = m->fetch_id;
    memcpy(s->address, m->address, 32);
    s->blob = blob;
    s->len = len;
    s->last_ms = now_ms;
    self->serve_bytes += len;
    return s;
}

static void s_on_fetch(node_data_fetch_t *self, const uint8_t from[32],
                       const node_data_fetch_msg_t *m, uint64_t now_ms)
{
    s_serve_t *s = s_serve_slot(self, from, m, now_ms);
    if (!s)
        return;
    if (m->offset > s->len) {
        s_serve_drop(self, s);
        s_refuse(self, from, m->fetch_id, NODE_E_PARAMS);
        return;
    }
    size_t n = s->len - (size_t)m->offset;
    if (n > m->max)
        n = m->max;
    if (n > NODE_DATA_FETCH_SEND_MAX)
        n = NODE_DATA_FETCH_SEND_MAX;
    node_data_chunk_msg_t c = {.fetch_id = m->fetch_id,
                               .total = s->len,
                               .offset = m->offset,
                               .bytes = s->blob + m->offset,
                               .len = n};
    s_send_chunk(self, from, &c);
    self->chunks_served++;
    s->last_ms = now_ms;
    if (m->offset + n >= s->len) /* the last byte went out: the transfer is over */
        s_serve_drop(self, s);
}

/* ---------------------------------------------------------------- the node's upcalls */

int node_data_fetch_on_unicast(node_data_fetch_t *self, const uint8_t from[static 32],
                               uint32_t kind, const uint8_t *data, size_t len, uint64_t now_ms)
{
    int rc;
    if (kind == PROTO_MSG_DATA_FETCH) {
        node_data_fetch_msg_t m;
        if ((rc = node_data_fetch_decode(data, len, &m)) == PROTO_OK)
            s_on_fetch(self, from, &m, now_ms);
        return rc;
    }
    if (kind == PROTO_MSG_DATA_CHUNK) {
        node_data_chunk_msg_t m;
        if ((rc = node_data_chunk_decode(data, len, &m)) == PROTO_OK)
            s_on_chunk(self, from, &m, now_ms);
        return rc;
    }
    return PROTO_E_UNKNOWN_TYPE;
}

void node_data_fetch_tick(node_data_fetch_t *self, uint64_t now_ms)
{
    for (size_t i = 0; i < NODE_DATA_FETCH_MAX; i++) {
        s_fetch_t *f = &self->fetches[i];
        if (f->used && now_ms >= f->deadline_ms) {
            char why[96];
            snprintf(why, sizeof why, "no chunk from the owner's node for %u ms", f->timeout_ms);
            s_finish(f, NODE_E_TIMEOUT, why);
        }
    }
    for (size_t i = 0; i < NODE_DATA_FETCH_SERVE_MAX; i++) {
        s_serve_t *s = &self->serves[i];
        if (s->used && now_ms >= s->last_ms + NODE_DATA_FETCH_IDLE_MS)
            s_serve_drop(self, s);
    }
}

bool node_data_fetch_busy(const node_data_fetch_t *self)
{
    node_data_fetch_stats_t st;
    node_data_fetch_stats(self, &st);
    return st.fetching > 0 || st.serving > 0;
}

void node_data_fetch_stats(const node_data_fetch_t *self, node_data_fetch_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < NODE_DATA_FETCH_MAX; i++)
        out->fetching += self->fetches[i].used;
    for (size_t i = 0; i < NODE_DATA_FETCH_SERVE_MAX; i++)
        out->serving += self->serves[i].used;
    out->chunks_served = self->chunks_served;
    out->refused_busy = self->refused_busy;
}
