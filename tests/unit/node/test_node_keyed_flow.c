/*  test_node_keyed_flow: the key-authorization donation end to end, as the pieces fit
 *  together on a runner (what the node's enclave relay wires): the owner's node serves its
 *  stored blob through node_data_fetch, the runner fetches it, completes the owner's
 *  DONATE_KEYED request with it and calls a real genie-enclave training process.
 *
 *  Shows: the owner's ENCLAVE_CALL (a DONATE_KEYED request with the grant and an empty
 *  blob) fits the relay's bound and is relayable; the runner fetches the 1,000 KiB blob
 *  by its address in chunks over the (in-memory) unicast queue; the enclave accepts the
 *  completed request and its receipt verifies with the enclave's quoted key and names the
 *  data id; and the canary rule: a unique canary string in the data file, the salt and the
 *  data key appear in none of the bytes that crossed the network (every DATA_FETCH and
 *  DATA_CHUNK, the ENCLAVE_CALL) nor in the request the runner handed the enclave. A grant
 *  for another enclave, a blob fetched under a wrong address (the owner holds another
 *  file) are refused on the way. Random bytes come from the printed seed.
 */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave/enclave_blob.h"
#include "enclave/enclave_grant.h"
#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "node/service/node_data_fetch.h"
#include "node/service/node_enclave_relay.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_report.h"
#include "tests/unit/enclave/enclave_host_testutil.h"
#include "tests/unit/testutil.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE (the genie-enclave binary) must be defined by tests/CMakeLists.txt"
#endif

static const char s_canary[] = "CANARY-genie-keyed-7f3a91c2d4e5";

/* Everything that crossed the network, for the canary check. */
typedef struct {
    uint8_t *bytes;
    size_t len, cap;
} s_tap_t;

static void s_tap(s_tap_t *t, const uint8_t *p, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        uint8_t *b = realloc(t->bytes, cap);
        REQUIRE(b != NULL);
        t->bytes = b;
        t->cap = cap;
    }
    memcpy(t->bytes + t->len, p, n);
    t->len += n;
    t->bytes[t->len++] = 0; /* a separator, so no match spans two messages */
}

/* The in-memory unicast network between the owner (0x22) and the runner (0x11). */
#define QMAX 64
typedef struct {
    uint8_t from[32], to[32];
    uint32_t kind;
    uint8_t *data;
    size_t len;
} s_msg_t;

typedef struct {
    s_msg_t q[QMAX];
    size_t head, tail;
    s_tap_t tap;
    node_data_fetch_t *owner, *runner;
    uint8_t owner_id[32], runner_id[32];
    uint8_t *blob; /* the owner's store: one blob */
    size_t blob_len;
} s_net_t;

typedef struct {
    s_net_t *net;
    const uint8_t *self;
} s_end_t;

static int s_send(void *ctx, const uint8_t peer[32], uint32_t kind, const uint8_t *data, size_t len)
{
    s_end_t *e = ctx;
    s_net_t *net = e->net;
    REQUIRE(net->tail - net->head < QMAX);
    s_msg_t *m = &net->q[net->tail++ % QMAX];
    memcpy(m->from, e->self, 32);
    memcpy(m->to, peer, 32);
    m->kind = kind;
    m->data = malloc(len);
    REQUIRE(m->data != NULL);
    memcpy(m->data, data, len);
    m->len = len;
    s_tap(&net->tap, data, len);
    return 0;
}

static int s_get_blob(void *ctx, const uint8_t address[32], uint8_t **blob, size_t *len)
{
    s_net_t *net = ((s_end_t *)ctx)->net;
    uint8_t h[32];
    crypto_generichash(h, 32, net->blob, net->blob_len, NULL, 0);
    if (memcmp(h, address, 32) != 0)
        return NODE_E_NOT_FOUND;
    *blob = malloc(net->blob_len);
    REQUIRE(*blob != NULL);
    memcpy(*blob, net->blob, net->blob_len);
    *len = net->blob_len;
    return 0;
}

static void s_pump(s_net_t *net)
{
    while (net->head < net->tail) {
        s_msg_t m = net->q[net->head++ % QMAX];
        node_data_fetch_t *to = memcmp(m.to, net->owner_id, 32) == 0 ? net->owner : net->runner;
        CHECK_EQ(node_data_fetch_on_unicast(to, m.from, m.kind, m.data, m.len, 0), 0);
        free(m.data);
    }
}

/* The runner's side of one keyed donation: what it does when the fetch ends. */
typedef struct {
    enclave_host_t *enclave;
    const uint8_t *call; /* the owner's ENCLAVE_CALL (kept while fetching) */
    size_t call_len;
    s_tap_t *handed; /* what the runner gave the enclave */
    int rc;          /* the fetch's, then the enclave's */
    proto_receipt_t receipt;
    int done;
} s_runner_job_t;

static void s_fetched(void *ctx, int rc, const uint8_t *blob, size_t len, const char *why)
{
    s_runner_job_t *job = ctx;
    job->done++;
    job->rc = rc;
    if (rc != 0) {
        printf("fetch ended: %s (%s)\n", proto_err_str(rc), why);
        return;
    }
    node_enclave_call_msg_t call;
    enclave_req_t req;
    CHECK_EQ(node_enclave_call_decode(job->call, job->call_len, &call), 0);
    CHECK_EQ(enclave_wire_req_decode(call.req, call.req_len, &req), 0);
    CHECK(req.type == ENCLAVE_REQ_DONATE_KEYED && req.u.donate_keyed.blob_len == 0);
    req.u.donate_keyed.blob = blob; /* complete the owner's request with the blob */
    req.u.donate_keyed.blob_len = len;
    uint8_t *wire = NULL;
    size_t wire_len = 0;
    CHECK_EQ(enclave_wire_req_encode(&req, &wire, &wire_len), 0);
    if (wire)
        s_tap(job->handed, wire, wire_len);
    free(wire);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    job->rc = enclave_host_call(job->enclave, &req, -1, &ans, &frame, &flen, NULL, 0);
    if (job->rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_RECEIPT);
        CHECK_EQ(proto_receipt_decode(ans.u.blob.bytes, ans.u.blob.len, &job->receipt), 0);
    }
    free(frame);
}

/* The owner's ENCLAVE_CALL for a keyed donation of DATA_ID for SPEC with GRANT. */
static uint8_t *s_owner_call(const uint8_t enclave_id[32], const uint8_t spec[32],
                             const uint8_t data_id[32], const uint8_t *grant, size_t glen,
                             size_t *len)
{
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE_KEYED;
    memcpy(req.u.donate_keyed.spec_id, spec, 32);
    memcpy(req.u.donate_keyed.data_id, data_id, 32);
    memset(req.u.donate_keyed.donor, 0xd0, 32);
    req.u.donate_keyed.grant = grant;
    req.u.donate_keyed.grant_len = glen;
    uint8_t *r = NULL, *out = NULL;
    size_t rlen = 0;
    CHECK_EQ(enclave_wire_req_encode(&req, &r, &rlen), 0);
    CHECK(enclave_wire_req_relayable(req.type));
    node_enclave_call_msg_t call = {.call_id = 1, .req = r, .req_len = rlen};
    memcpy(call.enclave_id, enclave_id, 32);
    CHECK_EQ(node_enclave_call_encode(&call, &out, len), 0); /* within the relay's bound */
    free(r);
    return out;
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    uint64_t seed = testutil_seed("test_node_keyed_flow");
    uint8_t dseed[randombytes_SEEDBYTES] = {0};
    memcpy(dseed, &seed, sizeof seed);

    /* a platform, certified, and a training enclave on it */
    const char *dir = testutil_tmpdir();
    proto_key_t *as = NULL;
    enclave_platform_t *plat = enclave_testutil_platform(dir, "runner", &as);
    enclave_host_t *enc =
        enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, plat, NULL);
    const proto_attest_quote_t *q = enclave_host_quote(enc);
    uint8_t enclave_id[32];
    crypto_generichash(enclave_id, 32, q->body.sign_pk, 32, NULL, 0); /* any id: not checked here */

    /* the owner's file (1,000 KiB, a canary inside), its blob, commitment and grant */
    size_t len = 1000u * 1024u;
    uint8_t *data = malloc(len);
    REQUIRE(data != NULL);
    randombytes_buf_deterministic(data, len, dseed);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)("ACGT\n"[data[i] % 5]);
    memcpy(data + len / 2, s_canary, sizeof s_canary - 1);
    uint8_t salt[32], key[32], spec[32], data_id[32];
    dseed[31] ^= 1;
    randombytes_buf_deterministic(salt, 32, dseed);
    dseed[31] ^= 2;
    randombytes_buf_deterministic(spec, 32, dseed);
    enclave_blob_keygen(key);
    proto_data_commit(salt, data, len, data_id);

    s_net_t net;
    memset(&net, 0, sizeof net);
    memset(net.owner_id, 0x22, 32);
    memset(net.runner_id, 0x11, 32);
    REQUIRE(enclave_blob_seal(key, data, len, &net.blob, &net.blob_len) == 0);
    uint8_t address[32];
    enclave_blob_address(net.blob, net.blob_len, address);
    s_end_t owner_end = {&net, net.owner_id}, runner_end = {&net, net.runner_id};
    node_data_fetch_io_t oio = {.send = s_send, .get_blob = s_get_blob, .ctx = &owner_end};
    node_data_fetch_io_t rio = {.send = s_send, .ctx = &runner_end};
    net.owner = node_data_fetch_new(&oio);
    net.runner = node_data_fetch_new(&rio);
    REQUIRE(net.owner && net.runner);

    uint8_t *grant = NULL;
    size_t glen = 0;
    REQUIRE(enclave_grant_seal(q->body.box_pk, spec, data_id, salt, key, &grant, &glen) == 0);
    size_t call_len = 0;
    uint8_t *call = s_owner_call(enclave_id, spec, data_id, grant, glen, &call_len);
    REQUIRE(call != NULL);
    s_tap(&net.tap, call, call_len);

    /* the runner: fetch the blob named by the ledger's DATA_REGISTER (here: ADDRESS) */
    s_tap_t handed = {0};
    s_runner_job_t job = {.enclave = enc, .call = call, .call_len = call_len, .handed = &handed};
    CHECK_EQ(node_data_fetch_start(net.runner, net.owner_id, address, NODE_DATA_FETCH_TOTAL_MAX, 0,
                                   0, s_fetched, &job, NULL),
             0);
    s_pump(&net);
    CHECK_EQ(job.done, 1);
    CHECK_EQ(job.rc, 0);
    CHECK_EQ(proto_receipt_verify(&job.receipt, q->body.sign_pk), 0);
    CHECK(memcmp(job.receipt.data_id, data_id, 32) == 0 &&
          memcmp(job.receipt.spec_id, spec, 32) == 0);

    /* the canary rule */
    const uint8_t *cn = (const uint8_t *)s_canary;
    size_t cl = sizeof s_canary - 1;
    CHECK(net.tap.len > net.blob_len); /* the blob did cross */
    CHECK(memmem(net.tap.bytes, net.tap.len, cn, cl) == NULL);
    CHECK(memmem(net.tap.bytes, net.tap.len, salt, 32) == NULL);
    CHECK(memmem(net.tap.bytes, net.tap.len, key, 32) == NULL);
    CHECK(handed.len > net.blob_len);
    CHECK(memmem(handed.bytes, handed.len, cn, cl) == NULL);
    CHECK(memmem(handed.bytes, handed.len, salt, 32) == NULL);
    CHECK(memmem(handed.bytes, handed.len, key, 32) == NULL);

    /* a grant to another enclave: the enclave refuses (after the fetch) */
    uint8_t other_pk[32], other_sk[32];
    crypto_box_keypair(other_pk, other_sk);
    uint8_t *grant2 = NULL, spec2[32];
    memcpy(spec2, spec, 32);
    spec2[0] ^= 1;
    REQUIRE(enclave_grant_seal(other_pk, spec2, data_id, salt, key, &grant2, &glen) == 0);
    size_t call2_len = 0;
    uint8_t *call2 = s_owner_call(enclave_id, spec2, data_id, grant2, glen, &call2_len);
    s_runner_job_t job2 = {.enclave = enc, .call = call2, .call_len = call2_len, .handed = &handed};
    CHECK_EQ(node_data_fetch_start(net.runner, net.owner_id, address, NODE_DATA_FETCH_TOTAL_MAX, 0,
                                   0, s_fetched, &job2, NULL),
             0);
    s_pump(&net);
    CHECK(job2.done == 1 && job2.rc == ENCLAVE_E_GRANT);
    /* a wrong address: the owner does not hold it */
    uint8_t wrong[32];
    memcpy(wrong, address, 32);
    wrong[0] ^= 1;
    s_runner_job_t job3 = {.enclave = enc, .call = call, .call_len = call_len, .handed = &handed};
    CHECK_EQ(node_data_fetch_start(net.runner, net.owner_id, wrong, NODE_DATA_FETCH_TOTAL_MAX, 0, 0,
                                   s_fetched, &job3, NULL),
             0);
    s_pump(&net);
    CHECK(job3.done == 1 && job3.rc == NODE_E_NOT_FOUND);

    free(call2);
    free(grant2);
    sodium_memzero(other_sk, 32);
    free(call);
    free(grant);
    free(net.blob);
    free(net.tap.bytes);
    free(handed.bytes);
    free(data);
    sodium_memzero(key, 32);
    sodium_memzero(salt, 32);
    node_data_fetch_destroy(&net.owner);
    node_data_fetch_destroy(&net.runner);
    enclave_host_destroy(&enc);
    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    testutil_rmtree(dir);
    return testutil_done("test_node_keyed_flow");
}
