/*  node_enclave_relay: the enclave relay's messages, its runner side and its caller side
 *  (see node_enclave_relay.h). Everything runs on the node's loop.
 */
#include "node/service/node_enclave_relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/app/node_app.h"
#include "node/app/node_config.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_enclave.h"
#include "p2p/p2p_node.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

#define ERR_MAX 999u       /* largest negated genie code */
#define CANDIDATES 8       /* runners tried in turn when the caller names none */
#define RELAY_CHECK_MS 200 /* timeouts of calls a deferred RPC waits for */
/* The runner's TRACE dump of the bytes it relays: the first TRACE_MAX bytes of each request
   and answer, in hex, TRACE_SEG bytes a line (a log line holds 1 KiB), each line starting
   TRACE_STEP bytes after the previous one: lines overlap by TRACE_SEG - TRACE_STEP bytes,
   so any run of at most that many bytes is whole on one line (what a test greps for). */
#define TRACE_MAX 4096u
#define TRACE_SEG 320u
#define TRACE_STEP 256u

typedef enum { CALL_FREE = 0, CALL_PENDING, CALL_DONE, CALL_FAILED } s_state_t;

typedef struct {
    s_state_t state;
    uint64_t id;
    uint8_t runner[32];
    uint64_t send_op;
    uint64_t started_ms;
    uint8_t *answer;
    size_t answer_len;
    char error[NODE_ENCLAVE_RELAY_MSG_MAX + 64];
    uint8_t *msg; /* the encoded ENCLAVE_CALL, kept while other runners may be tried */
    size_t msg_len;
    uint8_t next[CANDIDATES][32]; /* runners still to try, when this one does not run it */
    size_t n_next;
    uint64_t rpc_token;       /* an enclave_call with wait: its deferred RPC answer (0: none) */
    int code;                 /* CALL_FAILED: the genie code of the failure */
    node_enclave_relay_cb cb; /* a service's call: told once when it finishes (NULL: none) */
    void *cb_ctx;
} s_call_t;

struct node_enclave_relay_t {
    node_app_t *app;
    s_call_t calls[NODE_ENCLAVE_RELAY_CALLS];
    uint64_t next_id;
    int timer; /* checks waiting calls for timeouts; -1 until the first waits */
};

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---------------------------------------------------------------- messages */

int node_enclave_call_encode(const node_enclave_call_msg_t *m, uint8_t **out, size_t *out_len)
{
    if (m->req_len > NODE_ENCLAVE_RELAY_REQ_MAX)
        return PROTO_E_TOO_BIG;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 4);
    proto_wr_uint(&w, PROTO_MSG_ENCLAVE_CALL);
    proto_wr_uint(&w, m->call_id);
    proto_wr_bin(&w, m->enclave_id, 32);
    proto_wr_bin(&w, m->req, m->req_len);
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

int node_enclave_answer_encode(const node_enclave_answer_msg_t *m, uint8_t **out, size_t *out_len)
{
    size_t mlen = strnlen(m->msg, sizeof m->msg);
    if (m->ans_len > NODE_ENCLAVE_RELAY_ANS_MAX || m->error > ERR_MAX ||
        mlen > NODE_ENCLAVE_RELAY_MSG_MAX)
        return PROTO_E_TOO_BIG;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_uint(&w, PROTO_MSG_ENCLAVE_ANSWER);
    proto_wr_uint(&w, m->call_id);
    proto_wr_uint(&w, m->error);
    proto_wr_bin(&w, m->ans, m->ans_len);
    proto_wr_str(&w, m->msg, mlen);
    *out = proto_wr_take(&w, out_len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

int node_enclave_call_decode(const uint8_t *buf, size_t len, node_enclave_call_msg_t *out)
{
    memset(out, 0, sizeof *out);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t type = 0;
    int rc = proto_rd_array_exact(&r, 4);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, PROTO_MSG_ENCLAVE_CALL, &type);
    if (rc == PROTO_OK && type != PROTO_MSG_ENCLAVE_CALL)
        rc = PROTO_E_INVALID;
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &out->call_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, 32, out->enclave_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, NODE_ENCLAVE_RELAY_REQ_MAX, &out->req, &out->req_len);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    return rc;
}

int node_enclave_answer_decode(const uint8_t *buf, size_t len, node_enclave_answer_msg_t *out)
{
    memset(out, 0, sizeof *out);
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t type = 0, error = 0;
    int rc = proto_rd_array_exact(&r, 5);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, PROTO_MSG_ENCLAVE_ANSWER, &type);
    if (rc == PROTO_OK && type != PROTO_MSG_ENCLAVE_ANSWER)
        rc = PROTO_E_INVALID;
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &out->call_id);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, ERR_MAX, &error);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, NODE_ENCLAVE_RELAY_ANS_MAX, &out->ans, &out->ans_len);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(&r, out->msg, sizeof out->msg);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    out->error = (uint32_t)error;
    return rc;
}

/* ---------------------------------------------------------------- lifecycle */

node_enclave_relay_t *node_enclave_relay_new(node_app_t *app)
{
    node_enclave_relay_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->app = app;
    self->next_id = 1;
    self->timer = -1;
    return self;
}

static void s_call_free(s_call_t *c)
{
    free(c->answer);
    free(c->msg);
    memset(c, 0, sizeof *c);
}

void node_enclave_relay_destroy(node_enclave_relay_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_enclave_relay_t *self = *self_p;
    if (self->timer >= 0 && node_app_loop(self->app))
        zloop_timer_end(node_app_loop(self->app), self->timer);
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
        s_call_free(&self->calls[i]);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- runner side */

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

static void s_on_call(node_enclave_relay_t *self, const uint8_t from[static 32],
                      const uint8_t *data, size_t len)
{
    node_enclave_call_msg_t m;
    if (node_enclave_call_decode(data, len, &m) != PROTO_OK) {
        GLOG(DEBUG, NODE, "dropped a malformed enclave_call");
        return;
    }
    s_trace_hex("request", m.call_id, from, m.req, m.req_len);
    node_enclave_answer_msg_t a;
    memset(&a, 0, sizeof a);
    a.call_id = m.call_id;
    uint8_t *ans = NULL;
    size_t ans_len = 0;
    node_enclave_t *enc = node_app_enclave(self->app);
    int rc = NODE_E_NO_ENCLAVE;
    if (!enc)
        snprintf(a.msg, sizeof a.msg, "this node is not an enclave runner");
    else
        rc = node_enclave_relay(enc, m.enclave_id, m.req, m.req_len, &ans, &ans_len, a.msg,
                                sizeof a.msg);
    if (rc == 0 && ans_len > NODE_ENCLAVE_RELAY_ANS_MAX) {
        rc = NODE_E_FAILED;
        snprintf(a.msg, sizeof a.msg, "the enclave's answer is too large to relay");
    }
    if (rc == 0) {
        a.ans = ans;
        a.ans_len = ans_len;
        s_trace_hex("answer", m.call_id, from, ans, ans_len);
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
    free(ans);
}

/* ---------------------------------------------------------------- caller side */

static s_call_t *s_call_find(node_enclave_relay_t *self, uint64_t id)
{
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
        if (self->calls[i].state != CALL_FREE && self->calls[i].id == id)
            return &self->calls[i];
    return NULL;
}

/*  Sends C's call to its next candidate runner. True if one took it. */
static bool s_try_next(node_enclave_relay_t *self, s_call_t *c)
{
    p2p_node_t *p2p = node_app_p2p(self->app);
    char why[128];
    while (p2p && c->msg && c->n_next > 0) {
        memcpy(c->runner, c->next[0], 32);
        memmove(c->next[0], c->next[1], (c->n_next - 1) * 32);
        c->n_next--;
        uint64_t op = p2p_node_send(p2p, c->runner, PROTO_MSG_ENCLAVE_CALL, c->msg, c->msg_len, why,
                                    sizeof why);
        if (op) {
            c->send_op = op;
            c->started_ms = s_now_ms();
            return true;
        }
    }
    return false;
}

/*  The enclave_call_result answer for the finished call C ({state, answer | error}). */
static json_t *s_call_json(const s_call_t *c);

/*  If C finished and an RPC or a service waits for it, tells it and frees C. */
static void s_settle(node_enclave_relay_t *self, s_call_t *c)
{
    if ((!c->rpc_token && !c->cb) || c->state == CALL_PENDING || c->state == CALL_FREE)
        return;
    if (c->cb) {
        /* C is freed first (the callback may start another call in its slot) */
        s_call_t done = *c;
        memset(c, 0, sizeof *c);
        if (done.state == CALL_DONE)
            done.cb(done.cb_ctx, 0, done.answer, done.answer_len, "");
        else
            done.cb(done.cb_ctx, done.code ? done.code : NODE_E_FAILED, NULL, 0, done.error);
        s_call_free(&done);
        return;
    }
    node_app_rpc_complete(self->app, c->rpc_token, s_call_json(c), NODE_RPC_E_INTERNAL,
                          "out of memory");
    s_call_free(c);
}

static void s_on_answer(node_enclave_relay_t *self, const uint8_t from[static 32],
                        const uint8_t *data, size_t len)
{
    node_enclave_answer_msg_t m;
    if (node_enclave_answer_decode(data, len, &m) != PROTO_OK) {
        GLOG(DEBUG, NODE, "dropped a malformed enclave_answer");
        return;
    }
    s_call_t *c = s_call_find(self, m.call_id);
    if (!c || c->state != CALL_PENDING || memcmp(c->runner, from, 32) != 0) {
        GLOG(DEBUG, NODE, "dropped an enclave_answer to no call of ours");
        return;
    }
    if (m.error == (uint32_t)-NODE_E_NO_ENCLAVE && s_try_next(self, c))
        return;   /* that runner does not run it: ask the next one */
    free(c->msg); /* finished: no other runner is tried */
    c->msg = NULL;
    if (m.error) {
        c->state = CALL_FAILED;
        c->code = -(int)m.error;
        snprintf(c->error, sizeof c->error, "runner: %s (%s)", m.msg, proto_err_str(-(int)m.error));
        return;
    }
    c->answer = malloc(m.ans_len ? m.ans_len : 1);
    if (!c->answer) {
        c->state = CALL_FAILED;
        snprintf(c->error, sizeof c->error, "out of memory");
        return;
    }
    memcpy(c->answer, m.ans, m.ans_len);
    c->answer_len = m.ans_len;
    c->state = CALL_DONE;
}

void node_enclave_relay_on_unicast(void *ctx, const uint8_t from[static 32], uint32_t kind,
                                   const uint8_t *data, size_t len)
{
    node_enclave_relay_t *self = ctx;
    if (kind == PROTO_MSG_ENCLAVE_CALL)
        s_on_call(self, from, data, len);
    else if (kind == PROTO_MSG_ENCLAVE_ANSWER) {
        s_on_answer(self, from, data, len);
        for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
            s_settle(self, &self->calls[i]);
    }
}

/*  Times out pending calls and fails those whose unicast p2p could not deliver. */
static void s_calls_check(node_enclave_relay_t *self)
{
    uint64_t now = s_now_ms();
    p2p_node_t *p2p = node_app_p2p(self->app);
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++) {
        s_call_t *c = &self->calls[i];
        if (c->state != CALL_PENDING)
            continue;
        char reason[128] = "";
        if (p2p && p2p_node_send_result(p2p, c->send_op, reason) == P2P_OP_FAILED) {
            if (s_try_next(self, c))
                continue;
            free(c->msg);
            c->msg = NULL;
            c->state = CALL_FAILED;
            c->code = NODE_E_CONNECT;
            snprintf(c->error, sizeof c->error, "cannot reach the runner: %s", reason);
        } else if (now - c->started_ms > NODE_ENCLAVE_RELAY_TIMEOUT_MS) {
            free(c->msg);
            c->msg = NULL;
            c->state = CALL_FAILED;
            c->code = NODE_E_TIMEOUT;
            snprintf(c->error, sizeof c->error, "timeout: the runner did not answer in %d ms",
                     NODE_ENCLAVE_RELAY_TIMEOUT_MS);
        }
        s_settle(self, c);
    }
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    node_enclave_relay_t *self = arg;
    s_calls_check(self);
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
        if (self->calls[i].state == CALL_PENDING)
            return 0;
    zloop_timer_end(loop, timer_id); /* nothing waits: no wakeups while idle */
    self->timer = -1;
    return 0;
}

/*  Linked peers that announced the enclave-runner role, into OUT (at most MAX); their
 *  number. */
static size_t s_find_runners(node_app_t *app, uint8_t (*out)[32], size_t max)
{
    p2p_node_t *p2p = node_app_p2p(app);
    enum { MAXP = 128 };
    p2p_peer_info_t *peers = p2p ? malloc(MAXP * sizeof *peers) : NULL;
    size_t n = peers ? p2p_node_peers(p2p, peers, MAXP) : 0, found = 0;
    for (size_t i = 0; i < n && found < max; i++)
        if (peers[i].linked && (peers[i].roles & NODE_ROLE_ENCLAVE_RUNNER))
            memcpy(out[found++], peers[i].id, 32);
    free(peers);
    return found;
}

/* ---------------------------------------------------------------- RPC methods */

/*  P (N bytes) as a hex JSON string of any length (node_rpc_hex is for ids). */
static json_t *s_hex(const uint8_t *p, size_t n)
{
    char *buf = malloc(2 * n + 1);
    if (!buf)
        return NULL;
    proto_hex_encode(p, n, buf);
    json_t *s = json_string(buf);
    free(buf);
    return s;
}

static node_enclave_relay_t *s_relay(node_app_t *app, int *code, char *err, size_t cap)
{
    node_enclave_relay_t *self = node_app_enclave_relay(app);
    if (!self)
        node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "no enclave relay");
    return self;
}

/*  Starts the timeout timer if it is not running. */
static void s_timer_start(node_enclave_relay_t *self)
{
    zloop_t *loop = node_app_loop(self->app);
    if (self->timer < 0 && loop)
        self->timer = zloop_timer(loop, RELAY_CHECK_MS, 0, s_on_timer, self);
}

/*  Starts a call of ENCLAVE_ID with REQ through RUNNER (NULL: the linked runners in turn)
 *  in a free slot; *OUT the slot. 0 or an error with ERR filled. */
static int s_call_start(node_enclave_relay_t *self, const uint8_t eid[static 32],
                        const uint8_t *req, size_t len, const uint8_t *runner, s_call_t **out,
                        char *err, size_t cap)
{
    uint8_t cand[CANDIDATES][32];
    size_t n_cand = 0;
    if (runner)
        memcpy(cand[n_cand++], runner, 32);
    else if ((n_cand = s_find_runners(self->app, cand, CANDIDATES)) == 0)
        return proto_err_fail(err, cap, NODE_E_NO_ENCLAVE,
                              "no linked peer runs enclaves (give runner: its node id)");
    s_calls_check(self);
    s_call_t *slot = NULL;
    size_t to_runner = 0;
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++) {
        s_call_t *c = &self->calls[i];
        if (c->state == CALL_FREE && !slot)
            slot = c;
        else if (c->state == CALL_PENDING && memcmp(c->runner, cand[0], 32) == 0)
            to_runner++;
    }
    if (!slot || to_runner >= NODE_ENCLAVE_RELAY_PEER_MAX)
        return proto_err_fail(err, cap, NODE_E_BUSY,
                              "too many enclave calls in flight (%s); try again",
                              slot ? "to this runner" : "in all");
    node_enclave_call_msg_t m = {self->next_id, {0}, req, len};
    memcpy(m.enclave_id, eid, 32);
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    if (node_enclave_call_encode(&m, &buf, &buf_len) != PROTO_OK)
        return proto_err_fail(err, cap, NODE_E_PARAMS, "cannot encode the call (over %u bytes?)",
                              NODE_ENCLAVE_RELAY_REQ_MAX);
    memset(slot, 0, sizeof *slot);
    slot->msg = buf; /* kept to try the other candidates */
    slot->msg_len = buf_len;
    memcpy(slot->next, cand, n_cand * 32);
    slot->n_next = n_cand;
    if (!s_try_next(self, slot)) {
        s_call_free(slot);
        return proto_err_fail(err, cap, NODE_E_CONNECT, "cannot send to the runner");
    }
    slot->state = CALL_PENDING;
    slot->id = self->next_id++;
    s_timer_start(self);
    *out = slot;
    return 0;
}

int node_enclave_relay_call(node_enclave_relay_t *self, const uint8_t enclave_id[static 32],
                            const uint8_t *req, size_t len, const uint8_t *runner,
                            node_enclave_relay_cb cb, void *ctx, char *err, size_t cap)
{
    if (!self || !cb || !req || len == 0 || len > NODE_ENCLAVE_RELAY_REQ_MAX)
        return proto_err_fail(err, cap, NODE_E_PARAMS, "an enclave request of 1 to %u bytes",
                              NODE_ENCLAVE_RELAY_REQ_MAX);
    node_enclave_t *enc = node_app_enclave(self->app);
    if (enc && !runner) {
        uint8_t *ans = NULL;
        size_t ans_len = 0;
        char msg[256] = "";
        int rc = node_enclave_relay(enc, enclave_id, req, len, &ans, &ans_len, msg, sizeof msg);
        if (rc != NODE_E_NO_ENCLAVE) { /* this node runs it: answered now */
            cb(ctx, rc, rc == 0 ? ans : NULL, rc == 0 ? ans_len : 0, msg);
            free(ans);
            return 0;
        }
    }
    s_call_t *slot = NULL;
    int rc = s_call_start(self, enclave_id, req, len, runner, &slot, err, cap);
    if (rc == 0) {
        slot->cb = cb;
        slot->cb_ctx = ctx;
    }
    return rc;
}

static json_t *m_call(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                      size_t cap)
{
    (void)method;
    node_enclave_relay_t *self = s_relay(app, code, err, cap);
    uint8_t eid[32], runner[32];
    bool have_runner = false;
    if (!self || node_rpc_param_id(params, "enclave", 0, eid, code, err, cap) != 0)
        return NULL;
    const char *hex = node_rpc_param_str(params, "request", 1, code, err, cap);
    if (!hex)
        return NULL;
    size_t hlen = strlen(hex);
    if (hlen % 2 || hlen / 2 > NODE_ENCLAVE_RELAY_REQ_MAX || hlen == 0)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "request: hex of an encoded enclave request of at most %u bytes",
                             NODE_ENCLAVE_RELAY_REQ_MAX);
    json_t *rv = node_rpc_param(params, "runner", 2);
    if (rv && !json_is_null(rv)) {
        if (node_rpc_param_id(params, "runner", 2, runner, code, err, cap) != 0)
            return NULL;
        have_runner = true;
    }
    uint8_t *req = malloc(hlen / 2);
    if (!req || proto_hex_decode(hex, req, hlen / 2) != 0) {
        free(req);
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "request: not hex");
    }
    json_t *out = NULL;
    node_enclave_t *enc = node_app_enclave(app);
    uint8_t *ans = NULL;
    size_t ans_len = 0;
    char msg[256];
    int rc = enc ? node_enclave_relay(enc, eid, req, hlen / 2, &ans, &ans_len, msg, sizeof msg)
                 : NODE_E_NO_ENCLAVE;
    if (rc == 0) { /* this node runs it */
        out = json_pack("{s:o}", "answer", s_hex(ans, ans_len));
        goto done;
    }
    if (rc != NODE_E_NO_ENCLAVE) { /* this node runs it, and the call failed */
        out = node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "enclave call failed: %s", msg);
        goto done;
    }
    s_call_t *slot = NULL;
    if (s_call_start(self, eid, req, hlen / 2, have_runner ? runner : NULL, &slot, msg,
                     sizeof msg) != 0) {
        out = node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", msg);
        goto done;
    }
    json_t *wv = node_rpc_param(params, "wait", 3);
    if (wv && json_is_true(wv) && (slot->rpc_token = node_app_rpc_defer(app)) != 0)
        goto done; /* answered when the runner answers: out stays NULL */
    out = json_pack("{s:I, s:o}", "call", (json_int_t)slot->id, "runner",
                    node_rpc_hex(slot->runner, 32));
done:
    free(req);
    free(ans);
    return out;
}

static json_t *m_call_result(node_app_t *app, const char *method, json_t *params, int *code,
                             char *err, size_t cap)
{
    (void)method;
    node_enclave_relay_t *self = s_relay(app, code, err, cap);
    if (!self)
        return NULL;
    uint64_t id = node_rpc_param_u64(params, "call", 0, 0);
    s_calls_check(self);
    s_call_t *c = id ? s_call_find(self, id) : NULL;
    if (!c)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "call: no such pending call");
    if (c->state == CALL_PENDING)
        return json_pack("{s:s}", "state", "pending");
    if (c->rpc_token)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "call: answered to its caller");
    json_t *out = s_call_json(c);
    s_call_free(c);
    return out;
}

static json_t *s_call_json(const s_call_t *c)
{
    if (c->state == CALL_DONE)
        return json_pack("{s:s, s:o}", "state", "done", "answer", s_hex(c->answer, c->answer_len));
    return json_pack("{s:s, s:s}", "state", "failed", "error", c->error);
}

int node_enclave_relay_register(node_app_t *app)
{
    int rc = 0;
    rc |= node_app_method_add(app, "enclave_call", m_call);
    rc |= node_app_method_add(app, "enclave_call_result", m_call_result);
    return rc;
}
