/*  tool_link: one link to a real genie-node for the hostile-peer test tools (see
 *  tool_link.h). The connection set-up, HELLO, PING answering and flush barrier that
 *  genie-evil and genie-forge share.
 */
#include <czmq.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_hex.h"
#include "proto/proto_msgtype.h"
#include "tests/tools/tool_link.h"

#define LINK_LINGER_MS 5000
#define LINK_SNDTIMEO_MS 100
#define LINK_HWM 20000
#define LINK_RECONNECT_MS 100
#define LINK_RECORD_TTL_MS 3600000u
#define LINK_DRAIN_MAX 100000 /* messages read by one drain */

struct tool_link_t {
    proto_key_t *key; /* our node identity */
    zsock_t *sock;
    uint64_t seq;
    tool_link_rx_fn *on_rx;
    void *rx_ctx;
    tool_link_stats_t st;
};

int tool_link_parse_target(const char *text, uint8_t id[static 32],
                           char endpoint[static P2P_ENDPOINT_MAX])
{
    return p2p_address_parse(text, id, endpoint) == 0 ? 0 : -1;
}

tool_link_t *tool_link_new(const uint8_t target_id[static 32], const char *endpoint, char *err,
                           size_t err_cap)
{
    uint8_t server[32], pub[32], sec[32];
    tool_link_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    self->key = proto_key_generate();
    if (!self->key || proto_key_curve_public(target_id, server) != 0 ||
        proto_key_curve_public(proto_key_public(self->key), pub) != 0 ||
        proto_key_curve_secret(self->key, sec) != 0) {
        snprintf(err, err_cap, "cannot derive CURVE keys");
        goto fail;
    }
    self->sock = zsock_new(ZMQ_DEALER);
    if (!self->sock) {
        snprintf(err, err_cap, "cannot create a socket");
        goto fail;
    }
    zsock_set_curve_serverkey_bin(self->sock, server);
    zsock_set_curve_publickey_bin(self->sock, pub);
    zsock_set_curve_secretkey_bin(self->sock, sec);
    sodium_memzero(sec, sizeof sec);
    zsock_set_sndhwm(self->sock, LINK_HWM);
    zsock_set_rcvhwm(self->sock, LINK_HWM);
    zsock_set_sndtimeo(self->sock, LINK_SNDTIMEO_MS);
    zsock_set_linger(self->sock, LINK_LINGER_MS);
    zsock_set_reconnect_ivl(self->sock, LINK_RECONNECT_MS);
    if (zsock_connect(self->sock, "%s", endpoint) != 0) {
        snprintf(err, err_cap, "cannot connect to %s", endpoint);
        goto fail;
    }
    return self;
fail:
    sodium_memzero(sec, sizeof sec);
    tool_link_destroy(&self);
    return NULL;
}

void tool_link_destroy(tool_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    tool_link_t *self = *self_p;
    zsock_destroy(&self->sock);
    proto_key_destroy(&self->key);
    free(self);
    *self_p = NULL;
}

void tool_link_set_rx(tool_link_t *self, tool_link_rx_fn *fn, void *ctx)
{
    self->on_rx = fn;
    self->rx_ctx = ctx;
}

const proto_key_t *tool_link_key(const tool_link_t *self)
{
    return self->key;
}

const tool_link_stats_t *tool_link_stats(const tool_link_t *self)
{
    return &self->st;
}

/* ---- sending ---- */

int tool_link_send(tool_link_t *self, const uint8_t *data, size_t len, int64_t deadline_ms)
{
    void *h = zsock_resolve(self->sock);
    for (;;) {
        if (zmq_send(h, data, len, 0) >= 0) {
            self->st.sent++;
            self->st.sent_bytes += len;
            return 0;
        }
        if (zmq_errno() != EAGAIN || zclock_mono() >= deadline_ms) {
            self->st.send_failed++;
            return -1;
        }
        tool_link_drain(self, 0);
    }
}

int tool_link_seal(tool_link_t *self, const proto_key_t *key, uint32_t type, const uint8_t *body,
                   size_t len, uint8_t **out, size_t *out_len)
{
    int rc = proto_envelope_seal(key, type, ++self->seq, (uint64_t)zclock_time(), body, len, out,
                                 out_len);
    return rc == PROTO_OK ? 0 : -1;
}

int tool_link_seal_wr(tool_link_t *self, const proto_key_t *key, uint32_t type, proto_wr_t *w,
                      uint8_t **out, size_t *out_len)
{
    size_t len;
    const uint8_t *body = proto_wr_data(w, &len);
    int rc = body ? tool_link_seal(self, key, type, body, len, out, out_len) : -1;
    proto_wr_free(w);
    return rc;
}

int tool_link_send_wr(tool_link_t *self, uint32_t type, proto_wr_t *w, int64_t deadline_ms)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    int rc = -1;
    if (tool_link_seal_wr(self, self->key, type, w, &out, &out_len) == 0)
        rc = tool_link_send(self, out, out_len, deadline_ms);
    free(out);
    return rc;
}

int tool_link_ping(tool_link_t *self, const proto_key_t *key, uint8_t **out, size_t *out_len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    uint64_t nonce;
    randombytes_buf(&nonce, sizeof nonce);
    p2p_msg_write_u64(&w, nonce);
    return tool_link_seal_wr(self, key, PROTO_MSG_PING, &w, out, out_len);
}

int tool_link_hello(tool_link_t *self, const uint8_t chain_id[static 32], const char *agent,
                    int64_t deadline_ms)
{
    p2p_hello_t *h = calloc(1, sizeof *h);
    if (!h)
        return -1;
    memcpy(h->chain_id, chain_id, 32);
    uint64_t now = (uint64_t)zclock_time();
    h->record.n_endpoints = 0; /* never dialed back, never advertised */
    h->record.seq = now;
    h->record.expiry_ms = now + LINK_RECORD_TTL_MS;
    p2p_record_sign(&h->record, self->key);
    snprintf(h->agent, sizeof h->agent, "%s", agent);
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_hello(&w, h);
    free(h);
    return tool_link_send_wr(self, PROTO_MSG_HELLO, &w, deadline_ms);
}

/* ---- receiving ---- */

/* Answers the target's PING NONCE (best effort, never blocks). */
static void s_pong(tool_link_t *self, uint64_t nonce)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_u64(&w, nonce);
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (tool_link_seal_wr(self, self->key, PROTO_MSG_PONG, &w, &out, &out_len) == 0 &&
        zmq_send(zsock_resolve(self->sock), out, out_len, ZMQ_DONTWAIT) >= 0)
        self->st.pongs_sent++;
    free(out);
}

/* Handles one frame from the target: counts its type, notes the HELLO, keeps a BYE's
   reason, answers a PING, then hands the envelope to the tool. */
static void s_on_frame(tool_link_t *self, const uint8_t *data, size_t len)
{
    proto_envelope_t env;
    if (proto_envelope_decode(data, len, &env) != PROTO_OK) {
        self->st.rx_other++;
        return;
    }
    if (env.type < TOOL_LINK_RX_TYPES)
        self->st.rx[env.type]++;
    else
        self->st.rx_other++;
    uint64_t nonce;
    if (env.type == PROTO_MSG_HELLO)
        self->st.linked = true;
    else if (env.type == PROTO_MSG_BYE &&
             p2p_msg_read_bye(env.body, env.body_len, self->st.bye_reason) != PROTO_OK)
        snprintf(self->st.bye_reason, sizeof self->st.bye_reason, "(unreadable)");
    else if (env.type == PROTO_MSG_PING &&
             p2p_msg_read_u64(env.body, env.body_len, &nonce) == PROTO_OK)
        s_pong(self, nonce);
    if (self->on_rx)
        self->on_rx(self->rx_ctx, &env);
}

void tool_link_drain(tool_link_t *self, int wait_ms)
{
    void *h = zsock_resolve(self->sock);
    for (int i = 0; i < LINK_DRAIN_MAX; i++) {
        if (i == 0 && wait_ms > 0) {
            zmq_pollitem_t item = {.socket = h, .events = ZMQ_POLLIN};
            if (zmq_poll(&item, 1, wait_ms) <= 0)
                return;
        }
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return;
        }
        s_on_frame(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
        zmq_msg_close(&msg);
    }
}

bool tool_link_wait_type(tool_link_t *self, uint32_t type, uint64_t before, int wait_ms)
{
    if (type >= TOOL_LINK_RX_TYPES)
        return false;
    int64_t until = zclock_mono() + wait_ms;
    while (self->st.rx[type] <= before) {
        int64_t left = until - zclock_mono();
        if (left <= 0)
            return false;
        tool_link_drain(self, (int)(left < 100 ? left : 100));
    }
    return true;
}

bool tool_link_barrier(tool_link_t *self, int wait_ms)
{
    uint8_t *out = NULL;
    size_t out_len = 0;
    uint64_t before = self->st.rx[PROTO_MSG_PONG];
    bool ok = tool_link_ping(self, self->key, &out, &out_len) == 0 &&
              tool_link_send(self, out, out_len, zclock_mono() + wait_ms) == 0 &&
              tool_link_wait_type(self, PROTO_MSG_PONG, before, wait_ms);
    free(out);
    return ok;
}
