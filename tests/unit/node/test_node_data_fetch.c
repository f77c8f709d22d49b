/*  test_node_data_fetch: the blob transfer between a data owner's node and a runner
 *  (node/service/node_data_fetch.h), with two objects wired by an in-memory message queue.
 *
 *  Shows, for the codecs: DATA_FETCH and DATA_CHUNK round-trip field for field and
 *  re-encode to the same bytes; every truncation, a trailing byte and the other kind are
 *  refused; max 0 or over 512 KiB, a chunk outside the blob, an empty chunk before the end,
 *  an error with a body, a total over the bound are refused by decoder and encoder.
 *  For the transfer: a real 1,000 KiB enclave_blob is fetched in 2 chunks of at most
 *  512 KiB and arrives byte for byte (and an empty blob and a one-chunk blob too); the
 *  owner forgets the transfer after its last byte. Refused: a blob the owner does not
 *  hold and one its ALLOW refuses (NODE_E_NOT_FOUND), a store file that does not hash to
 *  its address (NODE_E_NOT_FOUND); from a lying owner (hand-made chunks): a wrong content
 *  hash, a total over the fetcher's bound, an offset not asked for, a total that changes,
 *  all NODE_E_FETCH; a peer's error code is passed on. A chunk from another peer is
 *  ignored. No chunk by the deadline: NODE_E_TIMEOUT (not before). Bounds: a fifth
 *  transfer from one peer gets NODE_E_BUSY until idle ones are forgotten after 30 s; a
 *  17th fetch cannot start; a failed first send starts nothing; destroy ends a fetch with
 *  NODE_E_FAILED. Random bytes are from the printed seed.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_blob.h"
#include "node/service/node_data_fetch.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "tests/unit/testutil.h"

/* Test bytes: deterministic from the printed seed (GENIE_TEST_SEED=N replays). */
static uint8_t s_seed[randombytes_SEEDBYTES];
static uint64_t s_draws;

static void s_rand(void *buf, size_t n)
{
    uint8_t seed[randombytes_SEEDBYTES];
    memcpy(seed, s_seed, sizeof seed);
    s_draws++;
    memcpy(seed, &s_draws, sizeof s_draws);
    randombytes_buf_deterministic(buf, n, seed);
}

/* ---------------------------------------------------------------- codecs */

static void test_fetch_codec(void)
{
    node_data_fetch_msg_t m = {.fetch_id = UINT64_MAX, .offset = 12345, .max = 512 * 1024};
    s_rand(m.address, 32);
    uint8_t *buf = NULL, *again = NULL;
    size_t len = 0, alen = 0;
    REQUIRE(node_data_fetch_encode(&m, &buf, &len) == PROTO_OK);
    node_data_fetch_msg_t d;
    CHECK_EQ(node_data_fetch_decode(buf, len, &d), PROTO_OK);
    CHECK(d.fetch_id == m.fetch_id && d.offset == m.offset && d.max == m.max &&
          memcmp(d.address, m.address, 32) == 0);
    CHECK_EQ(node_data_fetch_encode(&d, &again, &alen), PROTO_OK);
    CHECK(alen == len && memcmp(again, buf, len) == 0);
    free(again);
    int ok = 0;
    for (size_t n = 0; n < len; n++)
        ok += node_data_fetch_decode(buf, n, &d) == PROTO_OK;
    CHECK_EQ(ok, 0);
    uint8_t *longer = malloc(len + 1);
    REQUIRE(longer != NULL);
    memcpy(longer, buf, len);
    longer[len] = 0xc0;
    CHECK_EQ(node_data_fetch_decode(longer, len + 1, &d), PROTO_E_TRAILING);
    free(longer);
    CHECK(node_data_chunk_decode(buf, len, &(node_data_chunk_msg_t){0}) != PROTO_OK);
    free(buf);

    node_data_fetch_msg_t bad = m;
    bad.max = 0;
    CHECK_EQ(node_data_fetch_encode(&bad, &buf, &len), PROTO_E_INVALID);
    bad.max = 512 * 1024 + 1;
    CHECK_EQ(node_data_fetch_encode(&bad, &buf, &len), PROTO_E_INVALID);
    /* hand-made: max 0 and max over the bound */
    for (int i = 0; i < 2; i++) {
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_array(&w, 5);
        proto_wr_uint(&w, PROTO_MSG_DATA_FETCH);
        proto_wr_uint(&w, 1);
        proto_wr_bin(&w, m.address, 32);
        proto_wr_uint(&w, 0);
        proto_wr_uint(&w, i == 0 ? 0 : 512 * 1024 + 1);
        const uint8_t *p = proto_wr_data(&w, &len);
        CHECK(node_data_fetch_decode(p, len, &d) != PROTO_OK);
        proto_wr_free(&w);
    }
}

/* Encodes a chunk by hand (no encoder rules). */
static uint8_t *s_raw_chunk(uint64_t id, uint64_t error, uint64_t total, uint64_t offset,
                            const uint8_t *bytes, size_t n, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 6);
    proto_wr_uint(&w, PROTO_MSG_DATA_CHUNK);
    proto_wr_uint(&w, id);
    proto_wr_uint(&w, error);
    proto_wr_uint(&w, total);
    proto_wr_uint(&w, offset);
    proto_wr_bin(&w, bytes, n);
    uint8_t *out = proto_wr_take(&w, len);
    proto_wr_free(&w);
    return out;
}

static void test_chunk_codec(void)
{
    static uint8_t bytes[1000];
    s_rand(bytes, sizeof bytes);
    node_data_chunk_msg_t m = {
        .fetch_id = 7, .total = 5000, .offset = 4000, .bytes = bytes, .len = 1000};
    uint8_t *buf = NULL, *again = NULL;
    size_t len = 0, alen = 0;
    REQUIRE(node_data_chunk_encode(&m, &buf, &len) == PROTO_OK);
    node_data_chunk_msg_t d;
    CHECK_EQ(node_data_chunk_decode(buf, len, &d), PROTO_OK);
    CHECK(d.fetch_id == 7 && d.error == 0 && d.total == 5000 && d.offset == 4000 && d.len == 1000 &&
          memcmp(d.bytes, bytes, 1000) == 0);
    CHECK_EQ(node_data_chunk_encode(&d, &again, &alen), PROTO_OK);
    CHECK(alen == len && memcmp(again, buf, len) == 0);
    free(again);
    int ok = 0;
    for (size_t n = 0; n < len; n++)
        ok += node_data_chunk_decode(buf, n, &d) == PROTO_OK;
    CHECK_EQ(ok, 0);
    node_data_fetch_msg_t f;
    CHECK(node_data_fetch_decode(buf, len, &f) != PROTO_OK);
    free(buf);

    /* an error answer: no body */
    node_data_chunk_msg_t e = {.fetch_id = 9, .error = 508};
    REQUIRE(node_data_chunk_encode(&e, &buf, &len) == PROTO_OK);
    CHECK_EQ(node_data_chunk_decode(buf, len, &d), PROTO_OK);
    CHECK(d.error == 508 && d.len == 0);
    free(buf);

    /* the rules, by hand and through the encoder */
    struct {
        uint64_t error, total, offset;
        size_t n;
    } bad[] = {
        {0, 5000, 4500, 1000},                        /* past the end */
        {0, 5000, 6000, 0},                           /* offset past the end */
        {0, 5000, 100, 0},                            /* empty before the end */
        {508, 0, 0, 10},                              /* an error with a body */
        {508, 5000, 0, 0},                            /* an error with a total */
        {600, 0, 0, 0},                               /* error over 599 */
        {0, NODE_DATA_FETCH_TOTAL_MAX + 1ull, 0, 10}, /* total over the bound */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *raw =
            s_raw_chunk(1, bad[i].error, bad[i].total, bad[i].offset, bytes, bad[i].n, &len);
        REQUIRE(raw != NULL);
        CHECK(node_data_chunk_decode(raw, len, &d) != PROTO_OK);
        free(raw);
        node_data_chunk_msg_t c = {.fetch_id = 1,
                                   .error = (uint32_t)bad[i].error,
                                   .total = bad[i].total,
                                   .offset = bad[i].offset,
                                   .bytes = bytes,
                                   .len = bad[i].n};
        CHECK_EQ(node_data_chunk_encode(&c, &buf, &len), PROTO_E_INVALID);
    }
    /* the end: an empty chunk at offset == total is well formed (an empty blob) */
    uint8_t *raw = s_raw_chunk(1, 0, 0, 0, NULL, 0, &len);
    CHECK_EQ(node_data_chunk_decode(raw, len, &d), PROTO_OK);
    free(raw);
}

/* ---------------------------------------------------------------- a two-node network */

#define QMAX 256

typedef struct {
    uint8_t from[32], to[32];
    uint32_t kind;
    uint8_t *data;
    size_t len;
} s_msg_t;

typedef struct s_net_t s_net_t;

typedef struct {
    s_net_t *net;
    uint8_t id[32];
    node_data_fetch_t *nf;
    /* the store (owner side) */
    uint8_t *blob;
    size_t blob_len;
    uint8_t address[32];
    bool deny; /* ALLOW refuses */
    bool fail_send;
} s_node_t;

struct s_net_t {
    s_msg_t q[QMAX];
    size_t head, tail;
    s_node_t *nodes[3];
    size_t n_nodes;
    uint64_t now;
};

static int s_send(void *ctx, const uint8_t peer[32], uint32_t kind, const uint8_t *data, size_t len)
{
    s_node_t *n = ctx;
    if (n->fail_send)
        return NODE_E_TRANSPORT;
    s_net_t *net = n->net;
    REQUIRE(net->tail - net->head < QMAX);
    s_msg_t *m = &net->q[net->tail++ % QMAX];
    memcpy(m->from, n->id, 32);
    memcpy(m->to, peer, 32);
    m->kind = kind;
    m->data = malloc(len);
    REQUIRE(m->data != NULL);
    memcpy(m->data, data, len);
    m->len = len;
    return 0;
}

static int s_get_blob(void *ctx, const uint8_t address[32], uint8_t **blob, size_t *len)
{
    s_node_t *n = ctx;
    if (!n->blob || memcmp(address, n->address, 32) != 0)
        return NODE_E_NOT_FOUND;
    *blob = malloc(n->blob_len ? n->blob_len : 1);
    if (!*blob)
        return PROTO_E_NOMEM;
    memcpy(*blob, n->blob, n->blob_len);
    *len = n->blob_len;
    return 0;
}

static bool s_allow(void *ctx, const uint8_t peer[32], const uint8_t address[32])
{
    (void)peer;
    (void)address;
    return !((s_node_t *)ctx)->deny;
}

static void s_node_init(s_net_t *net, s_node_t *n, uint8_t id_byte)
{
    memset(n, 0, sizeof *n);
    n->net = net;
    memset(n->id, id_byte, 32);
    node_data_fetch_io_t io = {.send = s_send, .get_blob = s_get_blob, .allow = s_allow, .ctx = n};
    n->nf = node_data_fetch_new(&io);
    REQUIRE(n->nf != NULL);
    net->nodes[net->n_nodes++] = n;
}

/* Delivers queued messages until none is left (or MAX delivered); how many. Messages to a
   node not in the network are dropped. */
static size_t s_pump(s_net_t *net, size_t max)
{
    size_t done = 0;
    while (net->head < net->tail && done < max) {
        s_msg_t m = net->q[net->head++ % QMAX];
        for (size_t i = 0; i < net->n_nodes; i++)
            if (memcmp(net->nodes[i]->id, m.to, 32) == 0)
                CHECK_EQ(node_data_fetch_on_unicast(net->nodes[i]->nf, m.from, m.kind, m.data,
                                                    m.len, net->now),
                         PROTO_OK);
        free(m.data);
        done++;
    }
    return done;
}

static void s_drop_queue(s_net_t *net)
{
    while (net->head < net->tail)
        free(net->q[net->head++ % QMAX].data);
}

/* What a fetch's callback saw. */
typedef struct {
    int calls;
    int rc;
    uint8_t *blob;
    size_t len;
    char why[160];
} s_result_t;

static void s_done(void *ctx, int rc, const uint8_t *blob, size_t len, const char *why)
{
    s_result_t *r = ctx;
    r->calls++;
    r->rc = rc;
    free(r->blob);
    r->blob = NULL;
    r->len = len;
    if (rc == 0) {
        r->blob = malloc(len ? len : 1);
        if (r->blob && len)
            memcpy(r->blob, blob, len);
    }
    snprintf(r->why, sizeof r->why, "%s", why ? why : "");
}

static void s_store(s_node_t *owner, const uint8_t *blob, size_t len)
{
    free(owner->blob);
    owner->blob = malloc(len ? len : 1);
    REQUIRE(owner->blob != NULL);
    if (len)
        memcpy(owner->blob, blob, len);
    owner->blob_len = len;
    enclave_blob_address(blob, len, owner->address);
}

/* ---------------------------------------------------------------- transfers */

static void test_transfer(void)
{
    s_net_t net;
    memset(&net, 0, sizeof net);
    s_node_t runner, owner;
    s_node_init(&net, &runner, 0x11);
    s_node_init(&net, &owner, 0x22);

    /* a real 1,000 KiB data file's blob */
    size_t plain_len = 1000u * 1024u;
    uint8_t *plain = malloc(plain_len), key[32];
    REQUIRE(plain != NULL);
    s_rand(plain, plain_len);
    enclave_blob_keygen(key);
    uint8_t *blob = NULL;
    size_t blen = 0;
    REQUIRE(enclave_blob_seal(key, plain, plain_len, &blob, &blen) == 0);
    s_store(&owner, blob, blen);

    s_result_t r = {0};
    uint64_t id = 0;
    CHECK_EQ(node_data_fetch_start(runner.nf, owner.id, owner.address, NODE_DATA_FETCH_TOTAL_MAX, 0,
                                   net.now, s_done, &r, &id),
             0);
    CHECK(node_data_fetch_busy(runner.nf));
    CHECK_EQ(r.calls, 0); /* never from inside start */
    size_t msgs = s_pump(&net, 1000);
    CHECK_EQ(msgs, (size_t)4); /* 2 fetches, 2 chunks of <= 512 KiB */
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.rc, 0);
    CHECK(r.len == blen && r.blob && memcmp(r.blob, blob, blen) == 0);
    node_data_fetch_stats_t st;
    node_data_fetch_stats(owner.nf, &st);
    CHECK(st.serving == 0 && st.chunks_served == 2);
    node_data_fetch_stats(runner.nf, &st);
    CHECK_EQ(st.fetching, (size_t)0);
    CHECK(!node_data_fetch_busy(runner.nf) && !node_data_fetch_busy(owner.nf));
    /* and the fetched blob opens with the key */
    uint8_t *back = NULL;
    size_t back_len = 0;
    CHECK_EQ(enclave_blob_open(key, r.blob, r.len, &back, &back_len), 0);
    CHECK(back_len == plain_len && memcmp(back, plain, plain_len) == 0);
    enclave_blob_plain_free(back);

    /* one chunk, and an empty "blob" (total 0) */
    s_store(&owner, blob, 1000);
    CHECK_EQ(node_data_fetch_start(runner.nf, owner.id, owner.address, 5000, 0, net.now, s_done, &r,
                                   NULL),
             0);
    s_pump(&net, 1000);
    CHECK(r.calls == 2 && r.rc == 0 && r.len == 1000 && memcmp(r.blob, blob, 1000) == 0);
    s_store(&owner, blob, 0);
    CHECK_EQ(node_data_fetch_start(runner.nf, owner.id, owner.address, 5000, 0, net.now, s_done, &r,
                                   NULL),
             0);
    s_pump(&net, 1000);
    CHECK(r.calls == 3 && r.rc == 0 && r.len == 0);

    /* not held / not allowed / corrupt file */
    uint8_t other[32];
    s_rand(other, 32);
    CHECK_EQ(node_data_fetch_start(runner.nf, owner.id, other, 5000, 0, net.now, s_done, &r, NULL),
             0);
    s_pump(&net, 1000);
    CHECK(r.calls == 4 && r.rc == NODE_E_NOT_FOUND);
    s_store(&owner, blob, 500);
    owner.deny = true;
    CHECK_EQ(node_data_fetch_start(runner.nf, owner.id, owner.address, 5000, 0, net.now, s_done, &r,
                                   NULL),
             0);
    s_pump(&net, 1000);
    CHECK(r.calls == 5 && r.rc == NODE_E_NOT_FOUND);
    owner.deny = false;
    owner.blob[10] ^= 1; /* the file no longer hashes to its name */
    CHECK_EQ(node_data_fetch_start(runner.nf, owner.id, owner.address, 5000, 0, net.now, s_done, &r,
                                   NULL),
             0);
    s_pump(&net, 1000);
    CHECK(r.calls == 6 && r.rc == NODE_E_NOT_FOUND);

    /* oversize for the fetcher's bound */
    s_store(&owner, blob, blen);
    CHECK_EQ(node_data_fetch_start(runner.nf, owner.id, owner.address, blen - 1, 0, net.now, s_done,
                                   &r, NULL),
             0);
    s_pump(&net, 1000);
    CHECK(r.calls == 7 && r.rc == NODE_E_FETCH);
    node_data_fetch_stats(owner.nf, &st);
    CHECK_EQ(st.serving, (size_t)1); /* the owner keeps it until idle */
    net.now += NODE_DATA_FETCH_IDLE_MS;
    node_data_fetch_tick(owner.nf, net.now);
    node_data_fetch_stats(owner.nf, &st);
    CHECK_EQ(st.serving, (size_t)0);

    free(r.blob);
    free(blob);
    free(plain);
    free(owner.blob);
    sodium_memzero(key, sizeof key);
    node_data_fetch_destroy(&runner.nf);
    node_data_fetch_destroy(&owner.nf);
    CHECK(runner.nf == NULL);
    s_drop_queue(&net);
}

/* The runner's fetch of ADDRESS from a lying owner whose chunks the test writes: starts it
   and returns the fetch id (the first DATA_FETCH is dropped). */
static uint64_t s_lied_start(s_net_t *net, s_node_t *runner, const uint8_t owner[32],
                             const uint8_t address[32], size_t max_total, s_result_t *r)
{
    uint64_t id = 0;
    CHECK_EQ(node_data_fetch_start(runner->nf, owner, address, max_total, 1000, net->now, s_done, r,
                                   &id),
             0);
    s_drop_queue(net);
    return id;
}

static int s_feed(s_node_t *runner, const uint8_t from[32], uint64_t id, uint64_t error,
                  uint64_t total, uint64_t offset, const uint8_t *bytes, size_t n, uint64_t now)
{
    size_t len = 0;
    uint8_t *raw = s_raw_chunk(id, error, total, offset, bytes, n, &len);
    REQUIRE(raw != NULL);
    int rc = node_data_fetch_on_unicast(runner->nf, from, PROTO_MSG_DATA_CHUNK, raw, len, now);
    free(raw);
    return rc;
}

static void test_lying_owner(void)
{
    s_net_t net;
    memset(&net, 0, sizeof net);
    s_node_t runner;
    s_node_init(&net, &runner, 0x11);
    uint8_t owner[32], stranger[32], bytes[3000], address[32];
    memset(owner, 0x22, 32);
    memset(stranger, 0x33, 32);
    s_rand(bytes, sizeof bytes);
    crypto_generichash(address, 32, bytes, sizeof bytes, NULL, 0);
    s_result_t r = {0};

    /* the right bytes in two chunks, with a stranger's chunk in between (ignored) */
    uint64_t id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 0, bytes, 1000, net.now), 0);
    CHECK_EQ(net.tail - net.head, (size_t)1); /* it asked for the next chunk */
    s_drop_queue(&net);
    CHECK_EQ(s_feed(&runner, stranger, id, 0, 3000, 1000, bytes + 1000, 2000, net.now), 0);
    CHECK_EQ(r.calls, 0);
    CHECK_EQ(s_feed(&runner, owner, id + 999, 0, 3000, 1000, bytes + 1000, 2000, net.now), 0);
    CHECK_EQ(r.calls, 0);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 1000, bytes + 1000, 2000, net.now), 0);
    CHECK(r.calls == 1 && r.rc == 0 && r.len == 3000 && memcmp(r.blob, bytes, 3000) == 0);
    /* a late duplicate of an ended transfer: ignored */
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 1000, bytes + 1000, 2000, net.now), 0);
    CHECK_EQ(r.calls, 1);

    /* other bytes than the address names */
    uint8_t wrong[3000];
    memcpy(wrong, bytes, sizeof wrong);
    wrong[2999] ^= 1;
    id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 0, wrong, 3000, net.now), 0);
    CHECK(r.calls == 2 && r.rc == NODE_E_FETCH);
    /* a total over the fetcher's bound */
    id = s_lied_start(&net, &runner, owner, address, 2999, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 0, bytes, 1000, net.now), 0);
    CHECK(r.calls == 3 && r.rc == NODE_E_FETCH);
    /* out of order: offset 1000 when 0 was asked for */
    id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 1000, bytes + 1000, 1000, net.now), 0);
    CHECK(r.calls == 4 && r.rc == NODE_E_FETCH);
    /* out of order later: 0, then 2000 instead of 1000 */
    id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 0, bytes, 1000, net.now), 0);
    s_drop_queue(&net);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 2000, bytes + 2000, 1000, net.now), 0);
    CHECK(r.calls == 5 && r.rc == NODE_E_FETCH);
    /* the total changes */
    id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 0, bytes, 1000, net.now), 0);
    s_drop_queue(&net);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 4000, 1000, bytes + 1000, 1000, net.now), 0);
    CHECK(r.calls == 6 && r.rc == NODE_E_FETCH);
    /* the peer's own error is passed on */
    id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 507, 0, 0, NULL, 0, net.now), 0);
    CHECK(r.calls == 7 && r.rc == NODE_E_BUSY);
    /* malformed: refused with a code, the transfer goes on */
    id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK(s_feed(&runner, owner, id, 0, 3000, 2500, bytes, 1000, net.now) != 0);
    CHECK_EQ(r.calls, 7);
    uint8_t junk[3] = {0x93, 0x01, 0x02};
    CHECK(node_data_fetch_on_unicast(runner.nf, owner, PROTO_MSG_DATA_CHUNK, junk, 3, net.now) !=
          0);
    CHECK_EQ(node_data_fetch_on_unicast(runner.nf, owner, 99, junk, 3, net.now),
             PROTO_E_UNKNOWN_TYPE);
    /* ... until its deadline: nothing before, NODE_E_TIMEOUT at it */
    node_data_fetch_tick(runner.nf, net.now + 999);
    CHECK_EQ(r.calls, 7);
    node_data_fetch_tick(runner.nf, net.now + 1000);
    CHECK(r.calls == 8 && r.rc == NODE_E_TIMEOUT);
    CHECK(!node_data_fetch_busy(runner.nf));

    /* a chunk pushes the deadline out */
    id = s_lied_start(&net, &runner, owner, address, 5000, &r);
    CHECK_EQ(s_feed(&runner, owner, id, 0, 3000, 0, bytes, 1000, net.now + 900), 0);
    s_drop_queue(&net);
    node_data_fetch_tick(runner.nf, net.now + 1500);
    CHECK_EQ(r.calls, 8);
    /* cancel: no callback */
    CHECK(node_data_fetch_cancel(runner.nf, id));
    CHECK(!node_data_fetch_cancel(runner.nf, id));
    node_data_fetch_tick(runner.nf, net.now + 100000);
    CHECK_EQ(r.calls, 8);

    /* bounds: 16 fetches at a time; a failed first send starts nothing */
    s_result_t many[NODE_DATA_FETCH_MAX + 1];
    memset(many, 0, sizeof many);
    for (int i = 0; i < NODE_DATA_FETCH_MAX; i++)
        CHECK_EQ(node_data_fetch_start(runner.nf, owner, address, 5000, 0, net.now, s_done,
                                       &many[i], NULL),
                 0);
    CHECK_EQ(node_data_fetch_start(runner.nf, owner, address, 5000, 0, net.now, s_done,
                                   &many[NODE_DATA_FETCH_MAX], NULL),
             NODE_E_BUSY);
    s_drop_queue(&net);
    CHECK_EQ(node_data_fetch_start(runner.nf, owner, address, 0, 0, net.now, s_done, &r, NULL),
             NODE_E_PARAMS);
    /* destroy ends the 16 with NODE_E_FAILED */
    node_data_fetch_destroy(&runner.nf);
    int failed = 0;
    for (int i = 0; i < NODE_DATA_FETCH_MAX; i++)
        failed += many[i].calls == 1 && many[i].rc == NODE_E_FAILED;
    CHECK_EQ(failed, NODE_DATA_FETCH_MAX);
    CHECK_EQ(many[NODE_DATA_FETCH_MAX].calls, 0);

    s_node_t r2;
    s_node_init(&net, &r2, 0x44);
    r2.fail_send = true;
    CHECK_EQ(node_data_fetch_start(r2.nf, owner, address, 5000, 0, net.now, s_done, &r, NULL),
             NODE_E_TRANSPORT);
    CHECK(!node_data_fetch_busy(r2.nf));
    node_data_fetch_destroy(&r2.nf);
    CHECK_EQ(r.calls, 8);
    free(r.blob);
    for (int i = 0; i <= NODE_DATA_FETCH_MAX; i++)
        free(many[i].blob);
}

/* Sends a DATA_FETCH of (ID, ADDRESS, OFFSET, MAX) from FROM to OWNER. */
static void s_ask(s_node_t *owner, const uint8_t from[32], uint64_t id, const uint8_t address[32],
                  uint64_t offset, uint32_t max, uint64_t now)
{
    node_data_fetch_msg_t m = {.fetch_id = id, .offset = offset, .max = max};
    memcpy(m.address, address, 32);
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(node_data_fetch_encode(&m, &buf, &len) == 0);
    CHECK_EQ(node_data_fetch_on_unicast(owner->nf, from, PROTO_MSG_DATA_FETCH, buf, len, now), 0);
    free(buf);
}

/* The last answer in the queue, decoded (its bytes freed: only the header fields stay). */
static node_data_chunk_msg_t s_last_answer(s_net_t *net)
{
    node_data_chunk_msg_t c;
    memset(&c, 0, sizeof c);
    REQUIRE(net->tail > net->head);
    s_msg_t *m = &net->q[(net->tail - 1) % QMAX];
    CHECK_EQ(m->kind, (uint32_t)PROTO_MSG_DATA_CHUNK);
    CHECK_EQ(node_data_chunk_decode(m->data, m->len, &c), 0);
    c.bytes = NULL;
    s_drop_queue(net);
    return c;
}

static void test_serving_bounds(void)
{
    s_net_t net;
    memset(&net, 0, sizeof net);
    s_node_t owner;
    s_node_init(&net, &owner, 0x22);
    uint8_t blob[4000], a[32], b[32];
    s_rand(blob, sizeof blob);
    s_store(&owner, blob, sizeof blob);
    memset(a, 0xa1, 32);
    memset(b, 0xb1, 32);

    /* four transfers from A under way (one byte each so far): a fifth id is refused */
    for (uint64_t id = 1; id <= 4; id++) {
        s_ask(&owner, a, id, owner.address, 0, 1, net.now);
        node_data_chunk_msg_t c = s_last_answer(&net);
        CHECK(c.error == 0 && c.total == sizeof blob && c.len == 1);
    }
    s_ask(&owner, a, 5, owner.address, 0, 1, net.now);
    CHECK_EQ(s_last_answer(&net).error, (uint32_t)-NODE_E_BUSY);
    /* another peer is served meanwhile; an asked max above what one unicast carries is cut */
    s_ask(&owner, b, 5, owner.address, 0, 512 * 1024, net.now);
    node_data_chunk_msg_t c = s_last_answer(&net);
    CHECK(c.error == 0 && c.len == sizeof blob);
    /* an existing transfer goes on; one id, one blob; an offset past the end is refused */
    s_ask(&owner, a, 1, owner.address, 1, 100, net.now);
    c = s_last_answer(&net);
    CHECK(c.error == 0 && c.offset == 1 && c.len == 100);
    s_ask(&owner, a, 2, b, 1, 100, net.now);
    CHECK_EQ(s_last_answer(&net).error, (uint32_t)-NODE_E_PARAMS);
    s_ask(&owner, a, 3, owner.address, sizeof blob + 1, 100, net.now);
    CHECK_EQ(s_last_answer(&net).error, (uint32_t)-NODE_E_PARAMS);
    node_data_fetch_stats_t st;
    node_data_fetch_stats(owner.nf, &st);
    CHECK(st.serving == 2 && st.refused_busy == 1);
    /* idle transfers are forgotten after 30 s, then A is served again */
    node_data_fetch_tick(owner.nf, net.now + NODE_DATA_FETCH_IDLE_MS - 1);
    node_data_fetch_stats(owner.nf, &st);
    CHECK_EQ(st.serving, (size_t)2);
    net.now += NODE_DATA_FETCH_IDLE_MS;
    node_data_fetch_tick(owner.nf, net.now);
    node_data_fetch_stats(owner.nf, &st);
    CHECK_EQ(st.serving, (size_t)0);
    s_ask(&owner, a, 5, owner.address, 0, 1, net.now);
    CHECK_EQ(s_last_answer(&net).error, 0u);

    /* a node without a store serves nothing */
    s_node_t bare;
    memset(&bare, 0, sizeof bare);
    bare.net = &net;
    memset(bare.id, 0x55, 32);
    node_data_fetch_io_t io = {.send = s_send, .ctx = &bare};
    bare.nf = node_data_fetch_new(&io);
    REQUIRE(bare.nf != NULL);
    s_ask(&bare, a, 1, owner.address, 0, 1, net.now);
    CHECK_EQ(s_last_answer(&net).error, (uint32_t)-NODE_E_NOT_FOUND);
    node_data_fetch_io_t none = {0};
    CHECK(node_data_fetch_new(&none) == NULL);
    node_data_fetch_destroy(&bare.nf);
    node_data_fetch_destroy(&owner.nf);
    node_data_fetch_destroy(&owner.nf); /* tolerated */
    free(owner.blob);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    uint64_t seed = testutil_seed("test_node_data_fetch");
    memcpy(s_seed + 16, &seed, sizeof seed);
    test_fetch_codec();
    test_chunk_codec();
    test_transfer();
    test_lying_owner();
    test_serving_bounds();
    return testutil_done("test_node_data_fetch");
}
