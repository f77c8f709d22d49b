/*  node_p2p: message logs, p2p callbacks and the p2p RPC methods (see node_p2p.h). */
#include "node/service/node_p2p.h"

#include <stdlib.h>
#include <string.h>

#include "node/service/node_ledger.h"
#include "node/service/node_market.h"
#include "node/service/node_msglog.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

#define ROOM_LOG_CAP 4096
#define ROOM_LOG_BYTES (4u * 1024 * 1024)
#define INBOX_CAP 4096
#define INBOX_BYTES (4u * 1024 * 1024)
#define READ_MAX 512
#define PEERS_MAX 1024

typedef struct {
    char name[P2P_ROOM_NAME_MAX];
    node_msglog_t *log;
} s_room_t;

/* A paced series of posts (room_post_many), for load tests and benchmarks. */
typedef struct {
    bool active;
    char room[P2P_ROOM_NAME_MAX];
    uint64_t sent, count, rate, size, started_ms, failed;
    int timer;
} s_flood_t;

struct node_p2p_t {
    s_room_t rooms[P2P_REC_ROOMS];
    node_msglog_t *inbox;
    s_flood_t flood;
    node_app_t *app;
    node_ledger_t *ledger;           /* borrowed; NULL without a ledger */
    node_market_t *market;           /* borrowed; NULL: recruitment posts are refused */
    node_p2p_unicast_fn *enclave_fn; /* the enclave relay's upcall, or NULL */
    void *enclave_ctx;
};

node_p2p_t *node_p2p_new(void)
{
    node_p2p_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->inbox = node_msglog_new(INBOX_CAP, INBOX_BYTES);
    if (!self->inbox) {
        free(self);
        return NULL;
    }
    return self;
}

void node_p2p_destroy(node_p2p_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_p2p_t *self = *self_p;
    for (size_t i = 0; i < P2P_REC_ROOMS; i++)
        node_msglog_destroy(&self->rooms[i].log);
    node_msglog_destroy(&self->inbox);
    free(self);
    *self_p = NULL;
}

static s_room_t *s_room(node_p2p_t *self, const char *name)
{
    for (size_t i = 0; i < P2P_REC_ROOMS; i++)
        if (self->rooms[i].log && strcmp(self->rooms[i].name, name) == 0)
            return &self->rooms[i];
    return NULL;
}

static void s_on_room_post(void *ctx, const char *room, const uint8_t from[static 32],
                           const uint8_t *data, size_t len, uint64_t time_ms)
{
    node_p2p_t *self = ctx;
    s_room_t *r = s_room(self, room);
    if (strcmp(room, NODE_LEDGER_ROOM) == 0) { /* proposals and votes: not logged */
        if (self->ledger)
            node_ledger_on_room_post(self->ledger, from, data, len, time_ms);
        return;
    }
    if (r)
        node_msglog_append(r->log, from, time_ms, (uint64_t)zclock_time(), data, len);
    if (strcmp(room, NODE_MARKET_ROOM) == 0)
        node_market_on_post(self->market, from, data, len);
}

/* The posting policy: `recruitment` posts are the market's to judge (node_market.h),
   `consensus` posts the ledger's (node_ledger_room_policy: signed proposals and votes of
   validators only); the other rooms are open to their members. */
static bool s_room_policy(void *ctx, const char *room, const uint8_t from[static 32],
                          const uint8_t *data, size_t len)
{
    node_p2p_t *self = ctx;
    if (strcmp(room, NODE_LEDGER_ROOM) == 0)
        return self->ledger && node_ledger_room_policy(self->ledger, from, data, len);
    if (strcmp(room, NODE_MARKET_ROOM) != 0)
        return true;
    return node_market_policy(self->market, from, data, len);
}

/* Dispatch on the unicast's registered kind: ledger status and sync to the ledger, text to
   the inbox; any other kind has no reader on this node and is dropped. */
static void s_on_unicast(void *ctx, const uint8_t from[static 32], uint32_t kind,
                         const uint8_t *data, size_t len)
{
    node_p2p_t *self = ctx;
    if (kind == PROTO_MSG_STATUS) { /* a neighbour's ledger head */
        if (self->ledger)
            node_ledger_on_status(self->ledger, from, data, len);
        return;
    }
    if (kind == PROTO_MSG_SYNC_REQ || kind == PROTO_MSG_SYNC_BLOCKS) {
        if (self->ledger && node_ledger_is_unicast(kind, data, len))
            node_ledger_on_unicast(self->ledger, from, data, len);
        return;
    }
    if (kind == PROTO_MSG_ENCLAVE_CALL || kind == PROTO_MSG_ENCLAVE_ANSWER ||
        kind == PROTO_MSG_DATA_FETCH || kind == PROTO_MSG_DATA_CHUNK) {
        if (self->enclave_fn)
            self->enclave_fn(self->enclave_ctx, from, kind, data, len);
        return;
    }
    if (kind != PROTO_MSG_TEXT) {
        GLOG(DEBUG, NET, "dropped a unicast of kind %u (%s): nothing here reads it", kind,
             proto_msgtype_name(kind));
        return;
    }
    uint64_t now = (uint64_t)zclock_time();
    node_msglog_append(self->inbox, from, now, now, data, len);
}

static void s_on_broadcast(void *ctx, uint32_t type, const uint8_t from[static 32],
                           const uint8_t *data, size_t len, uint64_t time_ms)
{
    node_p2p_t *self = ctx;
    if (self->ledger && node_ledger_is_broadcast(type))
        node_ledger_on_broadcast(self->ledger, type, from, data, len, time_ms);
}

void node_p2p_callbacks(node_p2p_t *self, p2p_callbacks_t *cb)
{
    cb->ctx = self;
    cb->on_room_post = s_on_room_post;
    cb->on_unicast = s_on_unicast;
    cb->on_broadcast = s_on_broadcast;
    cb->room_policy = s_room_policy;
}

void node_p2p_set_ledger(node_p2p_t *self, node_ledger_t *ledger)
{
    self->ledger = ledger;
}

void node_p2p_set_market(node_p2p_t *self, node_market_t *market)
{
    self->market = market;
}

void node_p2p_set_enclave(node_p2p_t *self, node_p2p_unicast_fn *fn, void *ctx)
{
    self->enclave_fn = fn;
    self->enclave_ctx = ctx;
}

/* A message as JSON: text when it is UTF-8, hex otherwise. */
static json_t *s_msg_json(const node_msg_t *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer((json_int_t)m->seq));
    json_object_set_new(o, "from", node_rpc_hex(m->from, 32));
    json_object_set_new(o, "time_ms", json_integer((json_int_t)m->time_ms));
    json_object_set_new(o, "recv_ms", json_integer((json_int_t)m->recv_ms));
    json_t *text = json_stringn((const char *)m->data, m->len);
    if (text) {
        json_object_set_new(o, "text", text);
    } else {
        char *hex = malloc(2 * m->len + 1);
        if (hex) {
            proto_hex_encode(m->data, m->len, hex);
            json_object_set_new(o, "hex", json_string(hex));
            free(hex);
        }
    }
    return o;
}

static json_t *s_log_json(const node_msglog_t *log, uint64_t after)
{
    node_msg_t *msgs = calloc(READ_MAX, sizeof *msgs);
    json_t *arr = json_array();
    size_t n = msgs ? node_msglog_after(log, after, msgs, READ_MAX) : 0;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, s_msg_json(&msgs[i]));
    free(msgs);
    json_t *o = json_object();
    json_object_set_new(o, "messages", arr);
    json_object_set_new(o, "last", json_integer((json_int_t)node_msglog_last(log)));
    return o;
}

static node_p2p_t *s_self(node_app_t *app)
{
    return node_app_p2p_state(app);
}

/* ---- methods ---- */

static json_t *s_roles_json(uint32_t roles)
{
    json_t *arr = json_array();
    for (int b = 0; b < 32; b++) {
        const char *name = (roles >> b) & 1 ? node_config_role_name(1u << b) : NULL;
        if (name)
            json_array_append_new(arr, json_string(name));
    }
    return arr;
}

static json_t *m_peers(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    p2p_peer_info_t *peers = calloc(PEERS_MAX, sizeof *peers);
    if (!peers)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "out of memory");
    size_t n = p2p_node_peers(node_app_p2p(app), peers, PEERS_MAX);
    uint64_t now = (uint64_t)zclock_time();
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", node_rpc_hex(peers[i].id, 32));
        json_object_set_new(o, "endpoint", json_string(peers[i].endpoint));
        json_object_set_new(o, "roles", s_roles_json(peers[i].roles));
        json_t *rooms = json_array();
        for (size_t k = 0; k < peers[i].n_rooms && k < P2P_REC_ROOMS; k++)
            json_array_append_new(rooms, json_string(peers[i].rooms[k]));
        json_object_set_new(o, "rooms", rooms);
        json_object_set_new(o, "linked", json_boolean(peers[i].linked));
        json_object_set_new(o, "banned", json_boolean(peers[i].banned));
        json_object_set_new(o, "score", json_integer(peers[i].score));
        if (peers[i].last_seen_ms) {
            json_object_set_new(o, "last_seen_ms", json_integer((json_int_t)peers[i].last_seen_ms));
            json_object_set_new(o, "last_seen_ago_s",
                                json_integer((json_int_t)((now - peers[i].last_seen_ms) / 1000)));
        } else {
            json_object_set_new(o, "last_seen_ms", json_null());
            json_object_set_new(o, "last_seen_ago_s", json_null());
        }
        json_array_append_new(arr, o);
    }
    free(peers);
    (void)method;
    (void)params;
    return arr;
}

static json_t *m_lookup(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                        size_t cap)
{
    uint8_t target[32];
    if (node_rpc_param_id(params, "node_id", 0, target, code, err, cap) != 0)
        return NULL;
    char why[128];
    uint64_t id = p2p_node_lookup(node_app_p2p(app), target, why, sizeof why);
    if (!id)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    (void)method;
    return json_pack("{s:I}", "id", (json_int_t)id);
}

static const char *s_state_name(p2p_op_state_t st)
{
    switch (st) {
    case P2P_OP_PENDING:
        return "pending";
    case P2P_OP_DONE:
        return "done";
    case P2P_OP_FAILED:
        return "failed";
    default:
        return "unknown";
    }
}

static json_t *m_lookup_result(node_app_t *app, const char *method, json_t *params, int *code,
                               char *err, size_t cap)
{
    uint64_t id = node_rpc_param_u64(params, "id", 0, 0);
    char endpoint[P2P_ENDPOINT_MAX] = "";
    p2p_op_state_t st = p2p_node_lookup_result(node_app_p2p(app), id, endpoint);
    if (st == P2P_OP_UNKNOWN)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no such lookup (or too old)");
    json_t *o = json_pack("{s:s}", "state", s_state_name(st));
    if (st == P2P_OP_DONE)
        json_object_set_new(o, "endpoint", json_string(endpoint));
    if (st == P2P_OP_FAILED)
        json_object_set_new(o, "reason", json_string(endpoint));
    (void)method;
    return o;
}

static json_t *m_send(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                      size_t cap)
{
    uint8_t dest[32];
    if (node_rpc_param_id(params, "node_id", 0, dest, code, err, cap) != 0)
        return NULL;
    json_t *text = node_rpc_param(params, "text", 1);
    if (!json_is_string(text)) {
        *code = NODE_RPC_E_PARAMS;
        snprintf(err, cap, "missing string parameter 'text'");
        return NULL;
    }
    char why[128];
    uint64_t id = p2p_node_send(node_app_p2p(app), dest, PROTO_MSG_TEXT,
                                (const uint8_t *)json_string_value(text), json_string_length(text),
                                why, sizeof why);
    if (!id)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    (void)method;
    return json_pack("{s:I}", "id", (json_int_t)id);
}

static json_t *m_send_result(node_app_t *app, const char *method, json_t *params, int *code,
                             char *err, size_t cap)
{
    uint64_t id = node_rpc_param_u64(params, "id", 0, 0);
    char reason[128] = "";
    p2p_op_state_t st = p2p_node_send_result(node_app_p2p(app), id, reason);
    if (st == P2P_OP_UNKNOWN)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no such send (or too old)");
    json_t *o = json_pack("{s:s}", "state", s_state_name(st));
    if (st == P2P_OP_FAILED)
        json_object_set_new(o, "reason", json_string(reason));
    (void)method;
    return o;
}

static json_t *m_rooms(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    const char *names[P2P_REC_ROOMS];
    size_t n = p2p_node_rooms(node_app_p2p(app), names, P2P_REC_ROOMS);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        s_room_t *r = s_room(s_self(app), names[i]);
        json_array_append_new(arr, json_pack("{s:s,s:I}", "room", names[i], "last",
                                             (json_int_t)(r ? node_msglog_last(r->log) : 0)));
    }
    (void)method;
    (void)params;
    (void)code;
    (void)err;
    (void)cap;
    return arr;
}

static json_t *m_room_join(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    node_p2p_t *self = s_self(app);
    const char *room = node_rpc_param_str(params, "room", 0, code, err, cap);
    if (!room)
        return NULL;
    char why[128];
    if (p2p_node_room_join(node_app_p2p(app), room, why, sizeof why) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    if (!s_room(self, room)) {
        for (size_t i = 0; i < P2P_REC_ROOMS; i++) {
            if (!self->rooms[i].log) {
                self->rooms[i].log = node_msglog_new(ROOM_LOG_CAP, ROOM_LOG_BYTES);
                snprintf(self->rooms[i].name, sizeof self->rooms[i].name, "%s", room);
                break;
            }
        }
    }
    (void)method;
    return json_pack("{s:s,s:b}", "room", room, "member", 1);
}

static json_t *m_room_leave(node_app_t *app, const char *method, json_t *params, int *code,
                            char *err, size_t cap)
{
    const char *room = node_rpc_param_str(params, "room", 0, code, err, cap);
    if (!room)
        return NULL;
    char why[128];
    if (p2p_node_room_leave(node_app_p2p(app), room, why, sizeof why) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    s_room_t *r = s_room(s_self(app), room);
    if (r)
        node_msglog_destroy(&r->log);
    (void)method;
    return json_pack("{s:s,s:b}", "room", room, "member", 0);
}

static json_t *m_room_post(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    const char *room = node_rpc_param_str(params, "room", 0, code, err, cap);
    if (!room)
        return NULL;
    json_t *text = node_rpc_param(params, "text", 1);
    if (!json_is_string(text)) {
        *code = NODE_RPC_E_PARAMS;
        snprintf(err, cap, "missing string parameter 'text'");
        return NULL;
    }
    if (strcmp(room, NODE_MARKET_ROOM) == 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "room %s takes signed recruitment posts only: use 'genie recruit'",
                             NODE_MARKET_ROOM);
    if (strcmp(room, NODE_LEDGER_ROOM) == 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "room %s takes the validators' consensus messages only",
                             NODE_LEDGER_ROOM);
    char why[128];
    if (p2p_node_room_post(node_app_p2p(app), room, (const uint8_t *)json_string_value(text),
                           json_string_length(text), why, sizeof why) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    (void)method;
    return json_pack("{s:s,s:b}", "room", room, "posted", 1);
}

#define FLOOD_TICK_MS 5
#define FLOOD_MAX_COUNT 1000000
#define FLOOD_MAX_RATE 100000

static int s_flood_tick(zloop_t *loop, int timer_id, void *arg)
{
    node_p2p_t *self = arg;
    s_flood_t *f = &self->flood;
    uint64_t now = (uint64_t)zclock_time();
    uint64_t due = (now - f->started_ms) * f->rate / 1000 + 1;
    if (due > f->count)
        due = f->count;
    char why[128];
    uint8_t *buf = malloc(f->size + 64);
    while (buf && f->sent < due) {
        int n = snprintf((char *)buf, f->size + 64, "flood %llu ", (unsigned long long)f->sent);
        size_t len = f->size > (size_t)n ? f->size : (size_t)n;
        memset(buf + n, 'x', len - (size_t)n);
        if (p2p_node_room_post(node_app_p2p(self->app), f->room, buf, len, why, sizeof why) != 0)
            f->failed++;
        f->sent++;
    }
    free(buf);
    if (f->sent >= f->count) {
        f->active = false;
        zloop_timer_end(loop, timer_id);
    }
    return 0;
}

static json_t *m_room_post_many(node_app_t *app, const char *method, json_t *params, int *code,
                                char *err, size_t cap)
{
    node_p2p_t *self = s_self(app);
    const char *room = node_rpc_param_str(params, "room", 0, code, err, cap);
    if (!room)
        return NULL;
    if (!s_room(self, room))
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "not a member of that room: join it first");
    if (strcmp(room, NODE_MARKET_ROOM) == 0 || strcmp(room, NODE_LEDGER_ROOM) == 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "room %s takes signed messages of its own kind only", room);
    if (self->flood.active)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "a series of posts is already running");
    uint64_t count = node_rpc_param_u64(params, "count", 1, 0),
             rate = node_rpc_param_u64(params, "rate", 2, 100),
             size = node_rpc_param_u64(params, "size", 3, 64);
    if (count == 0 || count > FLOOD_MAX_COUNT || rate == 0 || rate > FLOOD_MAX_RATE ||
        size > 64 * 1024) {
        *code = NODE_RPC_E_PARAMS;
        snprintf(err, cap, "want count 1-%d, rate 1-%d per second, size 0-65536 bytes",
                 FLOOD_MAX_COUNT, FLOOD_MAX_RATE);
        return NULL;
    }
    s_flood_t *f = &self->flood;
    memset(f, 0, sizeof *f);
    snprintf(f->room, sizeof f->room, "%s", room);
    f->count = count;
    f->rate = rate;
    f->size = size;
    f->started_ms = (uint64_t)zclock_time();
    self->app = app;
    f->timer = zloop_timer(node_app_loop(app), FLOOD_TICK_MS, 0, s_flood_tick, self);
    if (f->timer < 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "cannot start a timer");
    f->active = true;
    (void)method;
    return json_pack("{s:s,s:I,s:I}", "room", room, "count", (json_int_t)count, "rate",
                     (json_int_t)rate);
}

static json_t *m_room_tail(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    const char *room = node_rpc_param_str(params, "room", 0, code, err, cap);
    if (!room)
        return NULL;
    s_room_t *r = s_room(s_self(app), room);
    if (!r)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "not a member of that room: join it first");
    (void)method;
    return s_log_json(r->log, node_rpc_param_u64(params, "after", 1, 0));
}

static json_t *m_inbox(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    (void)method;
    (void)code;
    (void)err;
    (void)cap;
    return s_log_json(s_self(app)->inbox, node_rpc_param_u64(params, "after", 0, 0));
}

static json_t *m_p2p_stats(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    p2p_stats_t st;
    p2p_node_stats(node_app_p2p(app), &st);
    (void)method;
    (void)params;
    (void)code;
    (void)err;
    (void)cap;
    json_t *o = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "msgs_in",
        (json_int_t)st.msgs_in, "msgs_out", (json_int_t)st.msgs_out, "bytes_in",
        (json_int_t)st.bytes_in, "bytes_out", (json_int_t)st.bytes_out, "dup_dropped",
        (json_int_t)st.dup_dropped, "bad_sig", (json_int_t)st.bad_sig, "malformed",
        (json_int_t)st.malformed, "rate_limited", (json_int_t)st.rate_limited, "policy_dropped",
        (json_int_t)st.policy_dropped, "banned", (json_int_t)st.banned, "delivered",
        (json_int_t)st.delivered, "iwant_served", (json_int_t)st.iwant_served, "seen_entries",
        (json_int_t)st.seen_entries, "mcache_entries", (json_int_t)st.mcache_entries,
        "mcache_bytes", (json_int_t)st.mcache_bytes, "table_entries", (json_int_t)st.table_entries,
        "links", (json_int_t)st.links);
    if (o) {
        json_object_set_new(o, "oversized", json_integer((json_int_t)st.oversized));
        json_object_set_new(o, "stale", json_integer((json_int_t)st.stale));
        json_object_set_new(o, "wrong_chain", json_integer((json_int_t)st.wrong_chain));
        json_object_set_new(o, "send_refused", json_integer((json_int_t)st.send_refused));
        static const char *const names[P2P_STATS_TYPES] = {
            "other",  "hello",   "ping", "pong",      "find_node", "nodes", "peers",
            "gossip", "unicast", "ack",  "subscribe", "ihave",     "bye",   "iwant"};
        json_t *by = json_object();
        for (size_t i = 0; by && i < P2P_STATS_TYPES; i++)
            json_object_set_new(by, names[i], json_integer((json_int_t)st.in_by_type[i]));
        json_object_set_new(o, "in_by_type", by);
    }
    return o;
}

int node_p2p_register(node_app_t *app)
{
    static const node_app_method_t methods[] = {
        {"peers", m_peers},
        {"lookup", m_lookup},
        {"lookup_result", m_lookup_result},
        {"send", m_send},
        {"send_result", m_send_result},
        {"rooms", m_rooms},
        {"room_join", m_room_join},
        {"room_leave", m_room_leave},
        {"room_post", m_room_post},
        {"room_tail", m_room_tail},
        {"inbox", m_inbox},
        {"p2p_stats", m_p2p_stats},
        {"room_post_many", m_room_post_many},
    };
    return node_app_methods_add(app, methods, sizeof methods / sizeof methods[0]);
}
