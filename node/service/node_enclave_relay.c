/*  node_enclave_relay: the enclave relay's blob fetch io, lifecycle, caller side and RPC
 *  methods (see node_enclave_relay.h; the runner side is node_enclave_relay_runner.c).
 *  Everything runs on the node's loop.
 */
#include "node/service/node_enclave_relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "enclave/enclave_wire.h"
#include "node/service/node_data.h"
#include "node/service/node_data_fetch.h"
#include "node/service/node_enclave.h"
#include "p2p/p2p_node.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

#include "node/service/node_enclave_relay_int.h"

/* ---------------------------------------------------------------- blob fetch io */

static int s_fetch_send(void *ctx, const uint8_t peer[32], uint32_t kind, const uint8_t *data,
                        size_t len)
{
    node_enclave_relay_t *self = ctx;
    p2p_node_t *p2p = node_app_p2p(self->app);
    char why[128];
    return p2p && p2p_node_send(p2p, peer, kind, data, len, why, sizeof why) != 0 ? 0
                                                                                  : NODE_E_CONNECT;
}

static int s_fetch_get_blob(void *ctx, const uint8_t address[32], uint8_t **blob, size_t *len)
{
    node_enclave_relay_t *self = ctx;
    node_data_t *data = node_app_data(self->app);
    return data ? node_data_blob(data, address, blob, len) : NODE_E_NOT_FOUND;
}

/*  A peer may fetch a blob of our store only while we wait for its answer to our keyed
 *  donation of exactly that blob. */
static bool s_fetch_allow(void *ctx, const uint8_t peer[32], const uint8_t address[32])
{
    node_enclave_relay_t *self = ctx;
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++) {
        const ner_call_t *c = &self->calls[i];
        if (c->state == CALL_PENDING && c->keyed && memcmp(c->runner, peer, 32) == 0 &&
            memcmp(c->blob_address, address, 32) == 0)
            return true;
    }
    return false;
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
    node_data_fetch_io_t io = {
        .send = s_fetch_send, .get_blob = s_fetch_get_blob, .allow = s_fetch_allow, .ctx = self};
    if (!(self->fetch = node_data_fetch_new(&io))) {
        free(self);
        return NULL;
    }
    return self;
}

static void s_call_free(ner_call_t *c)
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
    node_data_fetch_destroy(&self->fetch); /* its callbacks answer nothing: no p2p by now */
    for (size_t i = 0; i < KEYED_MAX; i++)
        free(self->keyed[i].req);
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
        s_call_free(&self->calls[i]);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- caller side */

static ner_call_t *s_call_find(node_enclave_relay_t *self, uint64_t id)
{
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
        if (self->calls[i].state != CALL_FREE && self->calls[i].id == id)
            return &self->calls[i];
    return NULL;
}

/*  Sends C's call to its next candidate runner. True if one took it. */
static bool s_try_next(node_enclave_relay_t *self, ner_call_t *c)
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
            c->started_ms = ner_now_ms();
            return true;
        }
    }
    return false;
}

/*  The enclave_call_result answer for the finished call C ({state, answer | error}). */
static json_t *s_call_json(const ner_call_t *c);

/*  If C finished and an RPC or a service waits for it, tells it and frees C. */
static void s_settle(node_enclave_relay_t *self, ner_call_t *c)
{
    if ((!c->rpc_token && !c->cb) || c->state == CALL_PENDING || c->state == CALL_FREE)
        return;
    if (c->cb) {
        /* C is freed first (the callback may start another call in its slot) */
        ner_call_t done = *c;
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
    ner_call_t *c = s_call_find(self, m.call_id);
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
    if (kind == PROTO_MSG_DATA_FETCH || kind == PROTO_MSG_DATA_CHUNK) {
        if (node_data_fetch_on_unicast(self->fetch, from, kind, data, len, ner_now_ms()) != 0)
            GLOG(DEBUG, NODE, "dropped a malformed %s", proto_msgtype_name(kind));
        if (node_data_fetch_busy(self->fetch))
            ner_timer_start(self);
        return;
    }
    if (kind == PROTO_MSG_ENCLAVE_CALL)
        ner_on_call(self, from, data, len);
    else if (kind == PROTO_MSG_ENCLAVE_ANSWER) {
        s_on_answer(self, from, data, len);
        for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
            s_settle(self, &self->calls[i]);
    }
}

/*  Times out pending calls and fails those whose unicast p2p could not deliver. */
static void s_calls_check(node_enclave_relay_t *self)
{
    uint64_t now = ner_now_ms();
    p2p_node_t *p2p = node_app_p2p(self->app);
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++) {
        ner_call_t *c = &self->calls[i];
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
    node_data_fetch_tick(self->fetch, ner_now_ms());
    if (node_data_fetch_busy(self->fetch))
        return 0;
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++)
        if (self->calls[i].state == CALL_PENDING)
            return 0;
    zloop_timer_end(loop, timer_id); /* nothing waits: no wakeups while idle */
    self->timer = -1;
    return 0;
}

/*  Peers that announced the enclave-runner role, into OUT (at most MAX): the linked ones
 *  first, then those known but not linked now (p2p dials them). Links rotate, so the
 *  runner of an enclave is not always a neighbour: a training coordinator's runner on a
 *  14-node testnet found none of its linked runners running a party's enclave. Never a
 *  banned peer. Their number. */
static size_t s_find_runners(node_app_t *app, uint8_t (*out)[32], size_t max)
{
    p2p_node_t *p2p = node_app_p2p(app);
    enum { MAXP = 128 };
    p2p_peer_info_t *peers = p2p ? malloc(MAXP * sizeof *peers) : NULL;
    size_t n = peers ? p2p_node_peers(p2p, peers, MAXP) : 0, found = 0;
    for (int linked = 1; linked >= 0; linked--)
        for (size_t i = 0; i < n && found < max; i++)
            if (peers[i].linked == (linked == 1) && !peers[i].banned &&
                (peers[i].roles & NODE_ROLE_ENCLAVE_RUNNER))
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
void ner_timer_start(node_enclave_relay_t *self)
{
    zloop_t *loop = node_app_loop(self->app);
    if (self->timer < 0 && loop)
        self->timer = zloop_timer(loop, RELAY_CHECK_MS, 0, s_on_timer, self);
}

/*  Starts a call of ENCLAVE_ID with REQ through RUNNER (NULL: the linked runners in turn)
 *  in a free slot; *OUT the slot. 0 or an error with ERR filled. */
static int s_call_start(node_enclave_relay_t *self, const uint8_t eid[static 32],
                        const uint8_t *req, size_t len, const uint8_t *runner, ner_call_t **out,
                        char *err, size_t cap)
{
    uint8_t cand[CANDIDATES][32];
    size_t n_cand = 0;
    if (runner)
        memcpy(cand[n_cand++], runner, 32);
    else if ((n_cand = s_find_runners(self->app, cand, CANDIDATES)) == 0)
        return proto_err_fail(err, cap, NODE_E_NO_ENCLAVE,
                              "no known peer runs enclaves (give runner: its node id)");
    s_calls_check(self);
    ner_call_t *slot = NULL;
    size_t to_runner = 0;
    for (size_t i = 0; i < NODE_ENCLAVE_RELAY_CALLS; i++) {
        ner_call_t *c = &self->calls[i];
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
    ner_timer_start(self);
    *out = slot;
    return 0;
}

/*  If REQ is a keyed donation without its blob of a record in our store, *FULL (malloc'd)
 *  is the request with the blob. 0, NODE_E_NOT_FOUND (not such a request, or the blob is
 *  not here) or the encoder's code. */
static int s_fill_blob(node_enclave_relay_t *self, const uint8_t *req, size_t len, uint8_t **full,
                       size_t *full_len)
{
    enclave_req_t r;
    node_data_t *data = node_app_data(self->app);
    uint8_t key[32], salt[32], address[32], *blob = NULL;
    size_t blob_len = 0;
    int rc = NODE_E_NOT_FOUND;
    if (data && enclave_wire_req_decode(req, len, &r) == PROTO_OK &&
        r.type == ENCLAVE_REQ_DONATE_KEYED && r.u.donate_keyed.blob_len == 0 &&
        node_data_secrets(data, r.u.donate_keyed.data_id, key, salt, address) == 0 &&
        node_data_blob(data, address, &blob, &blob_len) == 0) {
        r.u.donate_keyed.blob = blob;
        r.u.donate_keyed.blob_len = blob_len;
        rc = enclave_wire_req_encode(&r, full, full_len);
    }
    sodium_memzero(key, sizeof key);
    sodium_memzero(salt, sizeof salt);
    free(blob);
    return rc;
}

/*  If REQ is a keyed donation without its blob, SLOT's runner may fetch that blob of our
 *  store while the call waits (s_fetch_allow). */
static void s_call_keyed(node_enclave_relay_t *self, ner_call_t *slot, const uint8_t *req,
                         size_t len)
{
    enclave_req_t r;
    node_data_t *data = node_app_data(self->app);
    uint8_t key[32], salt[32];
    if (data && enclave_wire_req_decode(req, len, &r) == PROTO_OK &&
        r.type == ENCLAVE_REQ_DONATE_KEYED && r.u.donate_keyed.blob_len == 0 &&
        node_data_secrets(data, r.u.donate_keyed.data_id, key, salt, slot->blob_address) == 0)
        slot->keyed = true;
    sodium_memzero(key, sizeof key);
    sodium_memzero(salt, sizeof salt);
}

int node_enclave_relay_call(node_enclave_relay_t *self, const uint8_t enclave_id[static 32],
                            const uint8_t *req, size_t len, const uint8_t *runner,
                            node_enclave_relay_cb cb, void *ctx, char *err, size_t cap)
{
    if (!self || !cb || !req || len == 0 || len > NODE_ENCLAVE_RELAY_REQ_MAX)
        return proto_err_fail(err, cap, NODE_E_PARAMS, "an enclave request of 1 to %u bytes",
                              NODE_ENCLAVE_RELAY_REQ_MAX);
    node_enclave_t *enc = node_app_enclave(self->app);
    if (enc && !runner && node_enclave_runs(enc, enclave_id)) {
        /* this node runs it: queued to the enclave, CB runs when it answers */
        uint8_t *full = NULL;
        size_t full_len = 0;
        if (s_fill_blob(self, req, len, &full, &full_len) == 0) {
            req = full; /* a keyed donation to an enclave of ours: our own blob */
            len = full_len;
        }
        int rc = node_enclave_relay_start(enc, enclave_id, req, len, cb, ctx, err, cap);
        if (full) {
            sodium_memzero(full, full_len);
            free(full);
        }
        return rc;
    }
    ner_call_t *slot = NULL;
    int rc = s_call_start(self, enclave_id, req, len, runner, &slot, err, cap);
    if (rc == 0) {
        slot->cb = cb;
        slot->cb_ctx = ctx;
        s_call_keyed(self, slot, req, len);
    }
    return rc;
}

/*  An enclave_call RPC for an enclave of this node, waiting for its answer. */
typedef struct {
    node_app_t *app;
    uint64_t token;
} s_rpc_call_t;

static void s_on_rpc_answer(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    s_rpc_call_t *c = ctx;
    if (rc == 0) {
        json_t *hex = s_hex(ans, ans_len);
        json_t *res = hex ? json_pack("{s:o}", "answer", hex) : NULL;
        node_app_rpc_complete(c->app, c->token, res, NODE_RPC_E_INTERNAL, "out of memory");
    } else {
        char text[300];
        snprintf(text, sizeof text, "enclave call failed: %s", why ? why : proto_err_str(rc));
        node_app_rpc_complete(c->app, c->token, NULL, NODE_RPC_E_APP, text);
    }
    free(c);
}

/*  enclave_call's prepare step, on an HTTP thread (node_app_prepare_fn). The request comes
 *  as the binary part (NODE_RPC_BINARY_TYPE: what the CLI sends; the part is copied into
 *  the attachment after a size check), or as hex in the params (the bulk of a call: twice
 *  the sealed record), decoded here, off the loop, into the attachment, the params the
 *  loop gets losing it. Either way the loop neither copies nor parses nor decodes text.
 *  Pure (touches nothing of the node). A hex request it cannot decode is left in the
 *  params for m_call to refuse with its usual message. */
static int s_call_prepare(node_app_t *app, json_t *params, json_t **new_params, void **att,
                          size_t *att_len, int *code, char *err, size_t cap)
{
    (void)app;
    json_t *v = node_rpc_param(params, "request", 1);
    if (*att) { /* the binary part (the server's: copied, never kept) */
        if (v && !json_is_null(v)) {
            node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                          "request: in the params or as the binary part, not both");
            return -1;
        }
        if (*att_len == 0 || *att_len > NODE_ENCLAVE_RELAY_REQ_MAX) {
            node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                          "request: an encoded enclave request of 1 to %u bytes",
                          NODE_ENCLAVE_RELAY_REQ_MAX);
            return -1;
        }
        uint8_t *copy = malloc(*att_len);
        if (!copy) {
            node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
            return -1;
        }
        memcpy(copy, *att, *att_len);
        *att = copy;
        return 0;
    }
    size_t hlen = json_is_string(v) ? json_string_length(v) : 0;
    if (hlen == 0 || hlen % 2 || hlen / 2 > NODE_ENCLAVE_RELAY_REQ_MAX)
        return 0;
    uint8_t *req = malloc(hlen / 2);
    json_t *rest = req ? json_copy(params) : NULL;
    if (!rest || proto_hex_decode(json_string_value(v), req, hlen / 2) != 0 ||
        (json_is_object(rest) ? json_object_del(rest, "request")
                              : json_array_set_new(rest, 1, json_null())) != 0) {
        bool nomem = !rest;
        free(req);
        json_decref(rest);
        if (!nomem)
            return 0; /* not hex: m_call says so */
        node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
        return -1;
    }
    *att = req;
    *att_len = hlen / 2;
    *new_params = rest;
    return 0;
}

/*  The request of an enclave_call: the prepare step's attachment (*OWNED NULL), else
 *  decoded from the params' hex into *OWNED (malloc'd, the caller frees). NULL with the
 *  RPC error set when there is none or it is malformed. */
static const uint8_t *s_call_request(node_app_t *app, json_t *params, size_t *len, uint8_t **owned,
                                     int *code, char *err, size_t cap)
{
    *owned = NULL;
    const uint8_t *att = node_app_rpc_attachment(app, len);
    if (att && *len > 0)
        return att;
    const char *hex = node_rpc_param_str(params, "request", 1, code, err, cap);
    if (!hex)
        return NULL;
    size_t hlen = strlen(hex);
    if (hlen % 2 || hlen / 2 > NODE_ENCLAVE_RELAY_REQ_MAX || hlen == 0) {
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                      "request: hex of an encoded enclave request of at most %u bytes",
                      NODE_ENCLAVE_RELAY_REQ_MAX);
        return NULL;
    }
    *owned = malloc(hlen / 2);
    if (!*owned || proto_hex_decode(hex, *owned, hlen / 2) != 0) {
        free(*owned);
        *owned = NULL;
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "request: not hex");
        return NULL;
    }
    *len = hlen / 2;
    return *owned;
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
    json_t *rv = node_rpc_param(params, "runner", 2);
    if (rv && !json_is_null(rv)) {
        if (node_rpc_param_id(params, "runner", 2, runner, code, err, cap) != 0)
            return NULL;
        have_runner = true;
    }
    uint8_t *owned = NULL;
    size_t len = 0;
    const uint8_t *req = s_call_request(app, params, &len, &owned, code, err, cap);
    if (!req)
        return NULL;
    json_t *out = NULL;
    node_enclave_t *enc = node_app_enclave(app);
    char msg[256];
    if (enc && node_enclave_runs(enc, eid)) {
        /* this node runs it: answered when the enclave answers */
        s_rpc_call_t *rc_ctx = calloc(1, sizeof *rc_ctx);
        uint64_t token = rc_ctx ? node_app_rpc_defer(app) : 0;
        if (!token) {
            free(rc_ctx);
            out = node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                                "too many answers waiting; try again");
            goto done;
        }
        rc_ctx->app = app;
        rc_ctx->token = token;
        if (node_enclave_relay_start(enc, eid, req, len, s_on_rpc_answer, rc_ctx, msg,
                                     sizeof msg) != 0) {
            char text[300];
            snprintf(text, sizeof text, "enclave call failed: %s", msg);
            node_app_rpc_complete(app, token, NULL, NODE_RPC_E_APP, text);
            free(rc_ctx);
        }
        goto done; /* deferred: out stays NULL */
    }
    ner_call_t *slot = NULL;
    if (s_call_start(self, eid, req, len, have_runner ? runner : NULL, &slot, msg, sizeof msg) !=
        0) {
        out = node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", msg);
        goto done;
    }
    json_t *wv = node_rpc_param(params, "wait", 3);
    if (wv && json_is_true(wv) && (slot->rpc_token = node_app_rpc_defer(app)) != 0)
        goto done; /* answered when the runner answers: out stays NULL */
    out = json_pack("{s:I, s:o}", "call", (json_int_t)slot->id, "runner",
                    node_rpc_hex(slot->runner, 32));
done:
    free(owned);
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
    ner_call_t *c = id ? s_call_find(self, id) : NULL;
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

static json_t *s_call_json(const ner_call_t *c)
{
    if (c->state == CALL_DONE)
        return json_pack("{s:s, s:o}", "state", "done", "answer", s_hex(c->answer, c->answer_len));
    return json_pack("{s:s, s:s}", "state", "failed", "error", c->error);
}

int node_enclave_relay_register(node_app_t *app)
{
    int rc = node_app_method_add_binary(app, "enclave_call", m_call, s_call_prepare, true);
    return rc ? rc : node_app_method_add(app, "enclave_call_result", m_call_result);
}
