/*  fuzz_data_fetch: libFuzzer harness for the blob transfer's codecs and state machines
 *  (node/service/node_data_fetch.h): DATA_FETCH and DATA_CHUNK arrive from any peer.
 *
 *  The first input byte picks the case, the rest is BODY:
 *  - 0: BODY is a DATA_FETCH. The decoder returns 0 or a proto_err_t, leaves nothing
 *    behind on error, and what it accepts re-encodes to BODY byte for byte with max in
 *    1 .. 512 KiB.
 *  - 1: BODY is a DATA_CHUNK, likewise; an accepted chunk lies inside its blob and an
 *    error carries no body.
 *  - 2, 3: BODY is a conversation: records [kind byte, length (2 bytes LE), bytes]. Each
 *    is delivered to a runner fetching a fixed 100-byte blob from the owner (as coming from
 *    the owner, or for odd kind bytes from a stranger), and to that owner serving the blob
 *    (as coming from the runner), at a time that moves forward, with ticks between. Nothing
 *    may crash; the fetch's callback runs at most once and, with rc 0, hands over exactly
 *    the blob; every message either side sends decodes with its strict decoder; the
 *    runner's fetch id is 1 (so a seed can answer it: see gen_keyed_corpus.c); the
 *    owner never serves more than 4 transfers to one peer.
 *  A broken invariant calls abort().
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_data_fetch.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "tests/fuzz/fuzz_util.h"

static const uint8_t s_blob[100] = "genie fuzz blob: a data owner's ciphertext stands here, "
                                   "100 bytes of it, hashed to its address.";

static int s_case_fetch(const uint8_t *b, size_t n)
{
    node_data_fetch_msg_t m;
    int rc = node_data_fetch_decode(b, n, &m);
    fuzz_require_decoder_rc(rc);
    if (rc != PROTO_OK) {
        static const node_data_fetch_msg_t zero;
        fuzz_require(memcmp(&m, &zero, sizeof m) == 0, "left behind after an error");
        return rc;
    }
    fuzz_require(m.max >= 1 && m.max <= NODE_DATA_FETCH_CHUNK_MAX, "max out of its bounds");
    uint8_t *again = NULL;
    size_t len = 0;
    fuzz_require(node_data_fetch_encode(&m, &again, &len) == PROTO_OK, "re-encoding failed");
    fuzz_require_same(again, len, b, n);
    free(again);
    return rc;
}

static int s_case_chunk(const uint8_t *b, size_t n)
{
    node_data_chunk_msg_t m;
    int rc = node_data_chunk_decode(b, n, &m);
    fuzz_require_decoder_rc(rc);
    if (rc != PROTO_OK) {
        fuzz_require(m.bytes == NULL && m.len == 0 && m.total == 0, "left behind after an error");
        return rc;
    }
    fuzz_require(m.len == 0 || (m.bytes >= b && m.bytes + m.len <= b + n), "view outside input");
    if (m.error)
        fuzz_require(m.len == 0 && m.total == 0 && m.offset == 0, "error with a body");
    else
        fuzz_require(m.offset <= m.total && m.len <= m.total - m.offset &&
                         m.total <= NODE_DATA_FETCH_TOTAL_MAX,
                     "chunk outside its blob");
    uint8_t *again = NULL;
    size_t len = 0;
    fuzz_require(node_data_chunk_encode(&m, &again, &len) == PROTO_OK, "re-encoding failed");
    fuzz_require_same(again, len, b, n);
    free(again);
    return rc;
}

/* ---------------------------------------------------------------- conversation */

typedef struct {
    uint8_t id[32];
    int sent;
} s_side_t;

typedef struct {
    int calls;
    int rc;
} s_done_t;

static int s_send(void *ctx, const uint8_t peer[32], uint32_t kind, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)peer;
    int rc;
    if (kind == PROTO_MSG_DATA_FETCH) {
        node_data_fetch_msg_t m;
        rc = node_data_fetch_decode(data, len, &m);
    } else {
        fuzz_require(kind == PROTO_MSG_DATA_CHUNK, "sent an unknown kind");
        node_data_chunk_msg_t m;
        rc = node_data_chunk_decode(data, len, &m);
    }
    fuzz_require(rc == PROTO_OK, "sent a message its own decoder refuses");
    ((s_side_t *)ctx)->sent++;
    return 0;
}

static int s_get_blob(void *ctx, const uint8_t address[32], uint8_t **blob, size_t *len)
{
    (void)ctx;
    uint8_t h[32];
    crypto_generichash(h, 32, s_blob, sizeof s_blob, NULL, 0);
    if (memcmp(h, address, 32) != 0)
        return NODE_E_NOT_FOUND;
    *blob = malloc(sizeof s_blob);
    fuzz_require(*blob != NULL, "out of memory");
    memcpy(*blob, s_blob, sizeof s_blob);
    *len = sizeof s_blob;
    return 0;
}

static void s_done(void *ctx, int rc, const uint8_t *blob, size_t len, const char *why)
{
    s_done_t *d = ctx;
    d->calls++;
    d->rc = rc;
    fuzz_require(why != NULL, "no reason");
    if (rc == 0)
        fuzz_require(len == sizeof s_blob && memcmp(blob, s_blob, len) == 0,
                     "a fetch completed with other bytes than its address names");
}

static int s_case_conversation(const uint8_t *b, size_t n)
{
    s_side_t runner_side, owner_side;
    memset(&runner_side, 0, sizeof runner_side);
    memset(&owner_side, 0, sizeof owner_side);
    memset(runner_side.id, 0x11, 32);
    memset(owner_side.id, 0x22, 32);
    uint8_t stranger[32], address[32];
    memset(stranger, 0x33, 32);
    crypto_generichash(address, 32, s_blob, sizeof s_blob, NULL, 0);
    node_data_fetch_io_t rio = {.send = s_send, .ctx = &runner_side, .first_id = 1};
    node_data_fetch_io_t oio = {.send = s_send, .get_blob = s_get_blob, .ctx = &owner_side};
    node_data_fetch_t *runner = node_data_fetch_new(&rio);
    node_data_fetch_t *owner = node_data_fetch_new(&oio);
    fuzz_require(runner && owner, "out of memory");
    s_done_t done = {0};
    uint64_t id = 0, now = 1000;
    fuzz_require(node_data_fetch_start(runner, owner_side.id, address, 4096, 5000, now, s_done,
                                       &done, &id) == 0,
                 "start");
    size_t at = 0;
    while (at + 3 <= n) {
        uint8_t kb = b[at];
        size_t len = (size_t)b[at + 1] | ((size_t)b[at + 2] << 8);
        at += 3;
        if (len > n - at)
            len = n - at;
        const uint8_t *msg = b + at;
        at += len;
        uint32_t kind = (kb & 2) ? PROTO_MSG_DATA_CHUNK : PROTO_MSG_DATA_FETCH;
        if (kb & 4)
            kind = kb; /* now and then a kind that is neither */
        const uint8_t *from = (kb & 1) ? stranger : owner_side.id;
        int rc = node_data_fetch_on_unicast(runner, from, kind, msg, len, now);
        fuzz_require(rc <= 0 && rc >= PROTO_E_INVALID, "runner: stray code");
        rc = node_data_fetch_on_unicast(owner, (kb & 1) ? stranger : runner_side.id, kind, msg, len,
                                        now);
        fuzz_require(rc <= 0 && rc >= PROTO_E_INVALID, "owner: stray code");
        now += (kb >> 3) * 1000u;
        node_data_fetch_tick(runner, now);
        node_data_fetch_tick(owner, now);
        fuzz_require(done.calls <= 1, "callback ran twice");
        node_data_fetch_stats_t st;
        node_data_fetch_stats(owner, &st);
        fuzz_require(st.serving <= 2 * NODE_DATA_FETCH_SERVE_PER_PEER, "serving bound broken");
    }
    node_data_fetch_destroy(&runner);
    fuzz_require(done.calls == 1, "a fetch ended without its callback");
    node_data_fetch_destroy(&owner);
    return PROTO_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    static fuzz_case_fn *const cases[] = {s_case_fetch, s_case_chunk, s_case_conversation,
                                          s_case_conversation};
    (void)fuzz_dispatch(data, size, cases, sizeof cases / sizeof cases[0]);
    return 0;
}
