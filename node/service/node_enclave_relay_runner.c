/*  node_enclave_relay_runner: the relay's runner side (see node_enclave_relay.h): a peer's
 *  ENCLAVE_CALL relayed to an enclave of this node (node_enclave_relay_start) and answered
 *  by unicast when the enclave answers; a keyed donation without its blob fetches the blob
 *  from the owner's node first (node_data_fetch). Everything runs on the node's loop.
 */
#include "node/service/node_enclave_relay_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enclave/enclave_blob.h"
#include "enclave/enclave_wire.h"
#include "ledger/ledger_data.h"
#include "node/app/node_app.h"
#include "node/service/node_data.h"
#include "node/service/node_enclave.h"
#include "node/service/node_ledger_local.h"
#include "p2p/p2p_node.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

/* The runner's TRACE dump of the bytes it relays: the first TRACE_MAX bytes of each request
   and answer, in hex, TRACE_SEG bytes a line (a log line holds 1 KiB), each line starting
   TRACE_STEP bytes after the previous one: lines overlap by TRACE_SEG - TRACE_STEP bytes,
   so any run of at most that many bytes is whole on one line (what a test greps for). */
#define TRACE_MAX 4096u
#define TRACE_SEG 320u
#define TRACE_STEP 256u

uint64_t ner_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*  At TRACE level only: the first TRACE_MAX bytes of DATA (LEN), what the runner relays for
 *  call CALL_ID from peer FROM, in hex lines of TRACE_SEG bytes overlapping by
 *  TRACE_SEG - TRACE_STEP (not rate-limited: TRACE is for tests and debugging). */
static void s_trace_hex(const char *what, uint64_t call_id, const uint8_t from[static 32],
                        const uint8_t *data, size_t len)
{
    if (!proto_log_enabled(LOG_LVL_TRACE))
        return;
    char peer[17], hex[2 * TRACE_SEG + 1];
    proto_hex_encode(from, 8, peer);
    size_t n = len < TRACE_MAX ? len : TRACE_MAX;
    GLOG(TRACE, NODE, "relay %s of call %llu with %s: %zu bytes, the first %zu in hex below", what,
         (unsigned long long)call_id, peer, len, n);
    for (size_t off = 0; off < n; off += TRACE_STEP) {
        size_t k = n - off < TRACE_SEG ? n - off : TRACE_SEG;
        proto_hex_encode(data + off, k, hex);
        GLOG(TRACE, NODE, "relay %s of call %llu +%zu: %s", what, (unsigned long long)call_id, off,
             hex);
        if (off + k == n)
            break;
    }
}

/*  Sends FROM the ENCLAVE_ANSWER to its call CALL_ID: the encoded answer ANS (RC 0) or the
 *  failure RC with MSG. */
static void s_answer(node_enclave_relay_t *self, const uint8_t from[static 32], uint64_t call_id,
                     int rc, const char *msg, const uint8_t *ans, size_t ans_len)
{
    node_enclave_answer_msg_t a;
    memset(&a, 0, sizeof a);
    a.call_id = call_id;
    snprintf(a.msg, sizeof a.msg, "%s", msg ? msg : "");
    if (rc == 0 && ans_len > NODE_ENCLAVE_RELAY_ANS_MAX) {
        rc = NODE_E_FAILED;
        snprintf(a.msg, sizeof a.msg, "the enclave's answer is too large to relay");
    }
    if (rc == 0) {
        a.ans = ans;
        a.ans_len = ans_len;
        a.msg[0] = '\0';
        s_trace_hex("answer", call_id, from, ans, ans_len);
    } else {
        a.error = (uint32_t)(rc < 0 && rc >= -(int)ERR_MAX ? -rc : -NODE_E_FAILED);
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    p2p_node_t *p2p = node_app_p2p(self->app);
    char err[128];
    if (node_enclave_answer_encode(&a, &out, &out_len) == PROTO_OK && p2p &&
        p2p_node_send(p2p, from, PROTO_MSG_ENCLAVE_ANSWER, out, out_len, err, sizeof err) == 0)
        GLOG(DEBUG, NODE, "cannot answer an enclave_call: %s", err);
    free(out);
}

/*  A peer's call relayed to an enclave of this runner, waiting for its answer. */
typedef struct {
    node_enclave_relay_t *relay;
    uint8_t from[32];
    uint64_t call_id;
} s_runner_call_t;

/*  node_enclave_relay_start's callback: the answer goes back to the caller by unicast. */
static void s_on_enclave_answer(void *ctx, int rc, const uint8_t *ans, size_t ans_len,
                                const char *why)
{
    s_runner_call_t *c = ctx;
    char msg[NODE_ENCLAVE_RELAY_MSG_MAX + 1];
    snprintf(msg, sizeof msg, "%s", why ? why : "");
    s_answer(c->relay, c->from, c->call_id, rc, msg, ans, ans_len);
    free(c);
}

/*  Relays REQ to the local enclave ID; FROM's call CALL_ID is answered when the enclave
 *  answers (or now, when it cannot be relayed). */
static void s_relay_answer(node_enclave_relay_t *self, const uint8_t from[static 32],
                           uint64_t call_id, const uint8_t id[static 32], const uint8_t *req,
                           size_t len)
{
    char msg[NODE_ENCLAVE_RELAY_MSG_MAX + 1] = "";
    node_enclave_t *enc = node_app_enclave(self->app);
    s_runner_call_t *c = enc ? calloc(1, sizeof *c) : NULL;
    int rc = NODE_E_NO_ENCLAVE;
    if (!enc) {
        snprintf(msg, sizeof msg, "this node is not an enclave runner");
    } else if (!c) {
        rc = NODE_E_FAILED;
        snprintf(msg, sizeof msg, "out of memory");
    } else {
        c->relay = self;
        memcpy(c->from, from, 32);
        c->call_id = call_id;
        rc = node_enclave_relay_start(enc, id, req, len, s_on_enclave_answer, c, msg, sizeof msg);
        if (rc == 0)
            return; /* answered from the callback */
    }
    free(c);
    s_answer(self, from, call_id, rc, msg, NULL, 0);
}

/*  A keyed donation's blob arrived from the owner (or did not): the request is completed
 *  with it and relayed. */
static void s_keyed_done(void *ctx, int rc, const uint8_t *blob, size_t len, const char *why)
{
    ner_keyed_t *k = ctx;
    node_enclave_relay_t *self = k->relay;
    enclave_req_t r;
    uint8_t *full = NULL;
    size_t full_len = 0;
    char msg[NODE_ENCLAVE_RELAY_MSG_MAX + 1];
    if (rc != 0) {
        snprintf(msg, sizeof msg, "cannot fetch the data blob from its owner: %.100s", why);
        s_answer(self, k->from, k->call_id, rc, msg, NULL, 0);
    } else if (enclave_wire_req_decode(k->req, k->req_len, &r) != PROTO_OK ||
               (r.u.donate_keyed.blob = blob, r.u.donate_keyed.blob_len = len,
                enclave_wire_req_encode(&r, &full, &full_len)) != PROTO_OK) {
        s_answer(self, k->from, k->call_id, NODE_E_FAILED, "cannot complete the request", NULL, 0);
    } else {
        GLOG(INFO, NODE,
             "keyed donation: fetched the data blob (%zu bytes of ciphertext) from "
             "its owner's node",
             len);
        s_relay_answer(self, k->from, k->call_id, k->enclave, full, full_len);
    }
    free(full);
    free(k->req);
    memset(k, 0, sizeof *k);
}

/*  A DONATE_KEYED call without its blob (M, from FROM) for an enclave of this runner: the
 *  blob the ledger registered for the data id is fetched from FROM (node_data_fetch),
 *  then relayed (s_keyed_done). True if it was taken on (answered or under way). */
static bool s_keyed_fetch(node_enclave_relay_t *self, const uint8_t from[static 32],
                          const node_enclave_call_msg_t *m)
{
    enclave_req_t r;
    if (!node_app_enclave(self->app) || enclave_wire_req_decode(m->req, m->req_len, &r) != 0 ||
        r.type != ENCLAVE_REQ_DONATE_KEYED || r.u.donate_keyed.blob_len != 0)
        return false;
    ner_keyed_t *k = NULL;
    for (size_t i = 0; i < KEYED_MAX && !k; i++)
        if (!self->keyed[i].used)
            k = &self->keyed[i];
    node_ledger_t *ledger = node_app_ledger(self->app);
    ledger_data_t d;
    int rc =
        ledger ? node_ledger_local_data(ledger, r.u.donate_keyed.data_id, &d) : LEDGER_E_NOT_FOUND;
    if (!k) {
        s_answer(self, from, m->call_id, NODE_E_BUSY, "too many keyed donations under way", NULL,
                 0);
        return true;
    }
    if (rc != LEDGER_OK || d.status != LEDGER_DATA_ACTIVE) {
        s_answer(self, from, m->call_id, NODE_E_NOT_FOUND,
                 "no active data record with that id on the ledger", NULL, 0);
        return true;
    }
    k->req = malloc(m->req_len);
    if (!k->req) {
        s_answer(self, from, m->call_id, NODE_E_FAILED, "out of memory", NULL, 0);
        return true;
    }
    memcpy(k->req, m->req, m->req_len);
    k->req_len = m->req_len;
    k->used = true;
    k->relay = self;
    k->call_id = m->call_id;
    memcpy(k->from, from, 32);
    memcpy(k->enclave, m->enclave_id, 32);
    rc = node_data_fetch_start(self->fetch, from, d.address, enclave_blob_sealed_len(NODE_DATA_MAX),
                               0, ner_now_ms(), s_keyed_done, k, NULL);
    if (rc != 0) {
        free(k->req);
        memset(k, 0, sizeof *k);
        s_answer(self, from, m->call_id, rc, "cannot fetch the data blob from its owner", NULL, 0);
        return true;
    }
    ner_timer_start(self);
    return true;
}

void ner_on_call(node_enclave_relay_t *self, const uint8_t from[static 32], const uint8_t *data,
                 size_t len)
{
    node_enclave_call_msg_t m;
    if (node_enclave_call_decode(data, len, &m) != PROTO_OK) {
        GLOG(DEBUG, NODE, "dropped a malformed enclave_call");
        return;
    }
    s_trace_hex("request", m.call_id, from, m.req, m.req_len);
    if (s_keyed_fetch(self, from, &m))
        return;
    s_relay_answer(self, from, m.call_id, m.enclave_id, m.req, m.req_len);
}
