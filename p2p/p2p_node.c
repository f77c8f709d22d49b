/*  p2p_node: the ZeroMQ shell around p2p_core (see p2p_node.h).
 *
 *  Sockets: one ROUTER inbox (CURVE server) bound to the listen endpoints, one DEALER
 *  (CURVE client pinned to the peer's key) per peer we dial, and a ZAP handler (REP on
 *  inproc://zeromq.zap.01) that admits any CURVE client that is not banned and stamps
 *  its messages with the client's key ("User-Id"). A message arriving on the ROUTER is
 *  attributed to the Ed25519 node id whose Curve25519 form equals that key: the first
 *  message of a connection must be signed by such an id (its HELLO), so a peer cannot
 *  speak for a node id whose CURVE key it does not hold. Messages on a DEALER come from
 *  the peer it is pinned to. Replies to a peer we did not dial go back through the
 *  ROUTER by routing id. Every socket has bounded queues and a maximum message size.
 *  What arrives is received in batches (p2p_node_rx.c) and handed to the core together.
 *  One p2p_node per process (the ZAP endpoint is per ZeroMQ context).
 */
#include "p2p/p2p_node.h"
#include "p2p/p2p_node_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#include "p2p/p2p_msg.h"
#include "proto/proto_envelope.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"

#define LINKED_MAX 256 /* links p2p_node_send_linked reaches (max_peers is below) */

static void s_short(const uint8_t id[static 32], char out[static 9])
{
    proto_hex_encode(id, 4, out);
}

/* ---- dealers and routes ---- */

static p2p_dealer_t *s_dealer_find(p2p_node_t *n, const uint8_t id[static 32])
{
    for (size_t i = 0; i < n->n_dealers; i++)
        if (n->dealers[i].used && memcmp(n->dealers[i].id, id, 32) == 0)
            return &n->dealers[i];
    return NULL;
}

static void s_dealer_close(p2p_node_t *n, p2p_dealer_t *d)
{
    if (!d->used)
        return;
    zloop_reader_end(n->loop, d->sock);
    zsock_destroy(&d->sock);
    d->used = false;
}

static p2p_route_t *s_route_by_id(p2p_node_t *n, const uint8_t id[static 32])
{
    for (size_t i = 0; i < P2P_NODE_MAX_ROUTES; i++)
        if (n->routes[i].used && memcmp(n->routes[i].id, id, 32) == 0)
            return &n->routes[i];
    return NULL;
}

/* ---- io callbacks from the core ---- */

static bool s_io_send(void *ctx, const uint8_t peer[static 32], const uint8_t *data, size_t len)
{
    p2p_node_t *n = ctx;
    p2p_dealer_t *d = s_dealer_find(n, peer);
    if (d) {
        if (zmq_send(zsock_resolve(d->sock), data, len, ZMQ_DONTWAIT) < 0) {
            n->dropped_sends++;
            return false;
        }
        return true;
    }
    p2p_route_t *r = s_route_by_id(n, peer);
    void *h = zsock_resolve(n->router);
    if (!r || zmq_send(h, r->rid, r->rid_len, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0 ||
        zmq_send(h, data, len, ZMQ_DONTWAIT) < 0) {
        n->dropped_sends++;
        return false;
    }
    return true;
}

static void s_io_dial(void *ctx, const uint8_t peer[static 32], const char *endpoint)
{
    p2p_node_t *n = ctx;
    char s[9];
    s_short(peer, s);
    p2p_dealer_t *d = s_dealer_find(n, peer);
    if (d)
        return;
    for (size_t i = 0; i < n->n_dealers && !d; i++)
        if (!n->dealers[i].used)
            d = &n->dealers[i];
    uint8_t server[32];
    if (!d || proto_key_curve_public(peer, server) != 0) {
        GLOG(DEBUG, NET, "cannot dial %s at %s", s, endpoint);
        return;
    }
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return;
    zsock_set_curve_serverkey_bin(sock, server);
    zsock_set_curve_publickey_bin(sock, n->curve_pub);
    zsock_set_curve_secretkey_bin(sock, n->curve_sec);
    zsock_set_sndhwm(sock, P2P_NODE_HWM);
    zsock_set_rcvhwm(sock, P2P_NODE_HWM);
    zsock_set_linger(sock, 0);
    zsock_set_maxmsgsize(sock, P2P_NODE_FRAME_MAX);
    zsock_set_reconnect_ivl(sock, 200);
    zsock_set_reconnect_ivl_max(sock, 5000);
    if (zsock_connect(sock, "%s", endpoint) != 0) {
        GLOG(DEBUG, NET, "cannot connect to %s at %s", s, endpoint);
        zsock_destroy(&sock);
        return;
    }
    d->used = true;
    memcpy(d->id, peer, 32);
    d->sock = sock;
    d->owner = n;
    zloop_reader(n->loop, sock, p2p_node_dealer_readable, d);
    zloop_reader_set_tolerant(n->loop, sock);
    GLOG(DEBUG, NET, "dialing %s at %s", s, endpoint);
}

static void s_io_hangup(void *ctx, const uint8_t peer[static 32])
{
    p2p_node_t *n = ctx;
    p2p_dealer_t *d = s_dealer_find(n, peer);
    if (d)
        s_dealer_close(n, d);
    p2p_route_t *r = s_route_by_id(n, peer);
    if (r)
        r->used = false;
}

static void s_io_deliver(void *ctx, const char *topic, uint32_t kind,
                         const uint8_t origin[static 32], const uint8_t *data, size_t len,
                         uint64_t time_ms)
{
    p2p_node_t *n = ctx;
    if (topic[0]) {
        if (n->cfg.cb.on_room_post)
            n->cfg.cb.on_room_post(n->cfg.cb.ctx, topic, origin, data, len, time_ms);
    } else if (n->cfg.cb.on_broadcast) {
        n->cfg.cb.on_broadcast(n->cfg.cb.ctx, kind, origin, data, len, time_ms);
    }
}

static void s_io_unicast(void *ctx, const uint8_t from[static 32], uint32_t kind,
                         const uint8_t *data, size_t len)
{
    p2p_node_t *n = ctx;
    if (n->cfg.cb.on_unicast)
        n->cfg.cb.on_unicast(n->cfg.cb.ctx, from, kind, data, len);
}

static p2p_op_t *s_op_slot(p2p_node_t *n, uint64_t id, bool is_send)
{
    /* ids of both kinds come from separate counters: keep them apart by the flag */
    p2p_op_t *o = &n->ops[(id * 2 + is_send) % P2P_NODE_OPS_RING];
    return o;
}

static void s_io_lookup_done(void *ctx, uint64_t id, const uint8_t target[static 32],
                             const char *endpoint)
{
    p2p_node_t *n = ctx;
    p2p_op_t *o = s_op_slot(n, id, false);
    o->id = id;
    o->is_send = false;
    o->state = endpoint ? P2P_OP_DONE : P2P_OP_FAILED;
    snprintf(o->text, sizeof o->text, "%s", endpoint ? endpoint : "node not found");
    (void)target;
}

static void s_io_send_done(void *ctx, uint64_t id, int status, const char *reason)
{
    p2p_node_t *n = ctx;
    p2p_op_t *o = s_op_slot(n, id, true);
    o->id = id;
    o->is_send = true;
    o->state = status == 0 ? P2P_OP_DONE : P2P_OP_FAILED;
    snprintf(o->text, sizeof o->text, "%s", reason ? reason : "");
}

static bool s_io_policy(void *ctx, const char *topic, const uint8_t origin[static 32],
                        const uint8_t *data, size_t len)
{
    p2p_node_t *n = ctx;
    return n->cfg.cb.room_policy(n->cfg.cb.ctx, topic, origin, data, len);
}

/* ---- socket handlers ---- */

/* ZAP (RFC 27): admit CURVE clients that are not banned; User-Id = hex client key. */
static int s_zap_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    p2p_node_t *n = arg;
    zmsg_t *req = zmsg_recv(sock);
    if (!req)
        return 0;
    char *version = zmsg_popstr(req);
    char *request_id = zmsg_popstr(req);
    char *domain = zmsg_popstr(req);
    char *address = zmsg_popstr(req);
    zframe_t *identity = zmsg_pop(req);
    char *mechanism = zmsg_popstr(req);
    zframe_t *key = zmsg_pop(req);
    const char *status = "400", *text = "denied";
    char user[65] = "";
    if (version && strcmp(version, "1.0") == 0 && mechanism && strcmp(mechanism, "CURVE") == 0 &&
        key && zframe_size(key) == 32) {
        if (p2p_core_curve_banned(n->core, zframe_data(key), p2p_node_now())) {
            text = "banned";
        } else {
            proto_hex_encode(zframe_data(key), 32, user);
            status = "200";
            text = "OK";
        }
    }
    zstr_sendm(sock, "1.0");
    zstr_sendm(sock, request_id ? request_id : "");
    zstr_sendm(sock, status);
    zstr_sendm(sock, text);
    zstr_sendm(sock, user);
    zstr_send(sock, "");
    free(version);
    free(request_id);
    free(domain);
    free(address);
    free(mechanism);
    zframe_destroy(&identity);
    zframe_destroy(&key);
    zmsg_destroy(&req);
    (void)loop;
    return 0;
}

/* ---- persistence ---- */

static void s_save_peers(p2p_node_t *n, uint64_t now)
{
    if (!n->peers_path)
        return;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (p2p_core_save_peers(n->core, now, &buf, &len) != 0)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", n->peers_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (ok && rename(tmp, n->peers_path) == 0)
        n->last_save_ms = now;
    else {
        unlink(tmp);
        GLOG(WARN, NET, "cannot save known peers to %s: %s", n->peers_path, strerror(errno));
    }
    free(buf);
}

static void s_load_peers(p2p_node_t *n, uint64_t now)
{
    FILE *f = fopen(n->peers_path, "rb");
    if (!f)
        return;
    size_t cap = 4u * 1024 * 1024;
    uint8_t *buf = malloc(cap);
    size_t len = buf ? fread(buf, 1, cap, f) : 0;
    fclose(f);
    int got = buf ? p2p_core_load_peers(n->core, buf, len, now) : -1;
    free(buf);
    if (got < 0)
        GLOG(WARN, NET, "ignoring unreadable %s", n->peers_path);
    else
        GLOG(INFO, NET, "loaded %d known peers from %s", got, n->peers_path);
}

static int s_tick(zloop_t *loop, int timer_id, void *arg);

/* Runs the core's tick every MS (a new timer if the period changes). */
static void s_tick_arm(p2p_node_t *n, uint64_t ms)
{
    if (n->timer_id >= 0 && n->tick_ms == ms)
        return;
    if (n->timer_id >= 0)
        zloop_timer_end(n->loop, n->timer_id);
    n->tick_ms = ms;
    n->timer_id = zloop_timer(n->loop, (size_t)ms, 0, s_tick, n);
    if (n->timer_id < 0)
        GLOG(ERROR, NET, "cannot create the p2p tick timer");
}

/* The fast tick while the core has work the tick drives (forming links below the target
   degree; sends, lookups and room changes for P2P_NODE_BUSY_MS after the call), the slow
   one at rest: what the tick does then (pings after 5 s of silence, the IHAVE rounds every
   1 s and 10 s, upkeep every few seconds) needs no finer clock. */
static void s_tick_pace(p2p_node_t *n, uint64_t now)
{
    bool busy = now < n->busy_until_ms || p2p_core_link_count(n->core) < n->target_degree;
    s_tick_arm(n, busy ? P2P_NODE_TICK_MS : P2P_NODE_TICK_REST_MS);
}

/* A call started work the tick drives: the fast tick for P2P_NODE_BUSY_MS. */
static void s_busy(p2p_node_t *n)
{
    uint64_t now = p2p_node_now();
    n->busy_until_ms = now + P2P_NODE_BUSY_MS;
    s_tick_pace(n, now);
}

static int s_tick(zloop_t *loop, int timer_id, void *arg)
{
    p2p_node_t *n = arg;
    uint64_t now = p2p_node_now();
    p2p_core_tick(n->core, now);
    if (now >= n->last_save_ms + P2P_NODE_SAVE_EVERY_MS)
        s_save_peers(n, now);
    s_tick_pace(n, now);
    (void)loop;
    (void)timer_id;
    return 0;
}

/* ---- lifecycle ---- */

static int s_bind(p2p_node_t *n, const char *endpoint, char *err, size_t err_cap)
{
    if (!p2p_endpoint_ok(endpoint)) {
        snprintf(err, err_cap, "bad listen endpoint %s (want tcp://IP:PORT)", endpoint);
        return P2P_E_ADDR_ENDPOINT;
    }
    if (zsock_bind(n->router, "%s", endpoint) < 0) {
        snprintf(err, err_cap, "cannot listen on %s: %s", endpoint, zmq_strerror(zmq_errno()));
        return P2P_E_LISTEN;
    }
    char last[256] = "";
    size_t sz = sizeof last;
    if (zmq_getsockopt(zsock_resolve(n->router), ZMQ_LAST_ENDPOINT, last, &sz) != 0)
        snprintf(last, sizeof last, "%s", endpoint);
    snprintf(n->listen[n->n_listen++], P2P_ENDPOINT_MAX, "%.*s", (int)P2P_ENDPOINT_MAX - 1, last);
    return 0;
}

p2p_node_t *p2p_node_new(const p2p_config_t *cfg, zloop_t *loop, char *err, size_t err_cap)
{
    if (!zsys_has_curve()) {
        snprintf(err, err_cap, "libzmq was built without CURVE support");
        return NULL;
    }
    p2p_node_t *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    n->cfg = *cfg;
    n->loop = loop;
    n->timer_id = -1;
    n->flush_timer = -1;
    n->ack_timer = -1;
    memcpy(n->id, proto_key_public(cfg->key), 32);
    if (proto_key_curve_public(n->id, n->curve_pub) != 0 ||
        proto_key_curve_secret(cfg->key, n->curve_sec) != 0) {
        snprintf(err, err_cap, "cannot derive the CURVE key from the node key");
        goto fail;
    }
    n->zap = zsock_new(ZMQ_REP);
    if (!n->zap || zsock_bind(n->zap, "inproc://zeromq.zap.01") != 0) {
        snprintf(err, err_cap, "cannot start the authentication handler");
        goto fail;
    }
    n->router = zsock_new(ZMQ_ROUTER);
    if (!n->router) {
        snprintf(err, err_cap, "cannot create the inbox socket");
        goto fail;
    }
    zsock_set_zap_domain(n->router, "genie");
    zsock_set_curve_server(n->router, 1);
    zsock_set_curve_publickey_bin(n->router, n->curve_pub);
    zsock_set_curve_secretkey_bin(n->router, n->curve_sec);
    zsock_set_rcvhwm(n->router, P2P_NODE_HWM);
    zsock_set_sndhwm(n->router, P2P_NODE_HWM);
    zsock_set_linger(n->router, 0);
    zsock_set_maxmsgsize(n->router, P2P_NODE_FRAME_MAX);
    zsock_set_router_mandatory(n->router, 1);
    for (size_t i = 0; i < cfg->n_listen; i++)
        if (s_bind(n, cfg->listen[i], err, err_cap) != 0)
            goto fail;

    p2p_params_t params;
    p2p_params_default(&params);
    if (cfg->max_peers) {
        params.max_links = cfg->max_peers;
        if (params.target_degree > params.max_links)
            params.target_degree = params.max_links;
    }
    params.link_auth = true; /* every link is CURVE, keyed by the node id (s_attribute) */
    n->n_dealers = params.max_links + P2P_TRANSIENT_SLACK;
    n->dealers = calloc(n->n_dealers, sizeof *n->dealers);
    if (!n->dealers) {
        snprintf(err, err_cap, "out of memory");
        goto fail;
    }
    p2p_core_config_t cc = {
        .key = cfg->key, .roles = cfg->roles, .agent = "genie/0.1.0", .params = params};
    memcpy(cc.chain_id, cfg->chain_id, 32);
    randombytes_buf(&cc.rng_seed, sizeof cc.rng_seed);
    for (size_t i = 0; i < n->n_listen; i++)
        cc.endpoints[cc.n_endpoints++] = n->listen[i];
    p2p_io_t io = {.ctx = n,
                   .send = s_io_send,
                   .dial = s_io_dial,
                   .hangup = s_io_hangup,
                   .on_deliver = s_io_deliver,
                   .on_unicast = s_io_unicast,
                   .on_lookup_done = s_io_lookup_done,
                   .on_send_done = s_io_send_done,
                   .policy = cfg->cb.room_policy ? s_io_policy : NULL};
    uint64_t now = p2p_node_now();
    n->core = p2p_core_new(&cc, &io, now);
    if (!n->core) {
        snprintf(err, err_cap, "cannot start the p2p core (bad endpoint?)");
        goto fail;
    }
    if (cfg->datadir) {
        size_t len = strlen(cfg->datadir) + 16;
        n->peers_path = malloc(len);
        if (n->peers_path) {
            snprintf(n->peers_path, len, "%s/peers.dat", cfg->datadir);
            s_load_peers(n, now);
        }
    }
    n->last_save_ms = now;
    zloop_reader(loop, n->zap, s_zap_readable, n);
    zloop_reader(loop, n->router, p2p_node_router_readable, n);
    zloop_reader_set_tolerant(loop, n->router);
    n->target_degree = params.target_degree;
    s_tick_arm(n, P2P_NODE_TICK_MS);
    for (size_t i = 0; i < cfg->n_seeds; i++) {
        uint8_t sid[32];
        char ep[P2P_ENDPOINT_MAX];
        if (p2p_address_parse(cfg->seeds[i], sid, ep) != 0) {
            snprintf(err, err_cap, "bad peer %s (want NODEID@tcp://IP:PORT)", cfg->seeds[i]);
            goto fail;
        }
        if (memcmp(sid, n->id, 32) == 0)
            continue; /* a testnet may list every node, ourselves included */
        if (p2p_core_add_seed(n->core, sid, ep, now) != 0)
            GLOG(WARN, NET, "cannot use peer %s", cfg->seeds[i]);
    }
    for (size_t i = 0; i < n->n_listen; i++)
        GLOG(INFO, NET, "listening on %s", n->listen[i]);
    return n;
fail:
    p2p_node_destroy(&n);
    return NULL;
}

void p2p_node_destroy(p2p_node_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    p2p_node_t *n = *self_p;
    if (n->core) {
        uint64_t now = p2p_node_now();
        p2p_core_shutdown(n->core, now);
        s_save_peers(n, now);
        /* let the goodbyes leave: a short linger on every socket that carries them */
        for (size_t i = 0; n->dealers && i < n->n_dealers; i++)
            if (n->dealers[i].used)
                zsock_set_linger(n->dealers[i].sock, P2P_NODE_SHUTDOWN_LINGER_MS);
        if (n->router)
            zsock_set_linger(n->router, P2P_NODE_SHUTDOWN_LINGER_MS);
    }
    if (n->timer_id >= 0)
        zloop_timer_end(n->loop, n->timer_id);
    p2p_node_rx_discard(n);
    for (size_t i = 0; n->dealers && i < n->n_dealers; i++)
        s_dealer_close(n, &n->dealers[i]);
    if (n->router) {
        zloop_reader_end(n->loop, n->router);
        zsock_destroy(&n->router);
    }
    if (n->zap) {
        zloop_reader_end(n->loop, n->zap);
        zsock_destroy(&n->zap);
    }
    p2p_core_destroy(&n->core);
    sodium_memzero(n->curve_sec, sizeof n->curve_sec);
    free(n->dealers);
    free(n->peers_path);
    free(n);
    *self_p = NULL;
}

/* ---- API ---- */

size_t p2p_node_listen_count(const p2p_node_t *self)
{
    return self->n_listen;
}

const char *p2p_node_listen_endpoint(const p2p_node_t *self, size_t i)
{
    return i < self->n_listen ? self->listen[i] : NULL;
}

const uint8_t *p2p_node_id(const p2p_node_t *self)
{
    return self->id;
}

int p2p_node_room_join(p2p_node_t *self, const char *room, char *err, size_t err_cap)
{
    if (!p2p_room_name_ok(room)) {
        snprintf(err, err_cap, "bad room name (1-63 characters of a-z 0-9 . _ -)");
        return P2P_E_ROOM_NAME;
    }
    if (p2p_core_room_join(self->core, room, p2p_node_now()) != 0) {
        snprintf(err, err_cap, "cannot join more than %d rooms", P2P_REC_ROOMS);
        return P2P_E_TOO_MANY_ROOMS;
    }
    s_busy(self); /* links to the room's members are dialed by the tick */
    return 0;
}

int p2p_node_room_leave(p2p_node_t *self, const char *room, char *err, size_t err_cap)
{
    if (p2p_core_room_leave(self->core, room, p2p_node_now()) != 0) {
        snprintf(err, err_cap, "not a member of room %s", room);
        return P2P_E_NOT_MEMBER;
    }
    return 0;
}

int p2p_node_room_post(p2p_node_t *self, const char *room, const uint8_t *data, size_t len,
                       char *err, size_t err_cap)
{
    if (!p2p_core_room_member(self->core, room)) {
        snprintf(err, err_cap, "not a member of room %s: join it first", room);
        return P2P_E_NOT_MEMBER;
    }
    if (len > P2P_PAYLOAD_MAX) {
        snprintf(err, err_cap, "post too large (%zu bytes, at most %u)", len, P2P_PAYLOAD_MAX);
        return P2P_E_TOO_BIG;
    }
    if (p2p_core_room_post(self->core, room, data, len, p2p_node_now()) != 0) {
        snprintf(err, err_cap, "cannot post to room %s", room);
        return P2P_E_FAILED;
    }
    return 0;
}

size_t p2p_node_rooms(const p2p_node_t *self, const char **names, size_t max)
{
    return p2p_core_rooms(self->core, names, max);
}

int p2p_node_broadcast(p2p_node_t *self, uint32_t kind, const uint8_t *data, size_t len)
{
    return p2p_core_broadcast(self->core, kind, data, len, p2p_node_now());
}

uint64_t p2p_node_lookup(p2p_node_t *self, const uint8_t target[static 32], char *err,
                         size_t err_cap)
{
    /* Mark pending before starting: a known target completes inside the call. */
    uint64_t id = p2p_core_lookup(self->core, target, p2p_node_now());
    if (!id) {
        snprintf(err, err_cap, "too many lookups in progress");
        return 0;
    }
    s_busy(self); /* its timeouts are the tick's */
    p2p_op_t *o = s_op_slot(self, id, false);
    if (o->id != id) {
        o->id = id;
        o->is_send = false;
        o->state = P2P_OP_PENDING;
        o->text[0] = '\0';
    }
    return id;
}

p2p_op_state_t p2p_node_lookup_result(p2p_node_t *self, uint64_t id, char *endpoint)
{
    p2p_op_t *o = s_op_slot(self, id, false);
    if (o->id != id || o->is_send)
        return P2P_OP_UNKNOWN;
    if (o->state != P2P_OP_PENDING)
        snprintf(endpoint, P2P_ENDPOINT_MAX, "%s", o->text);
    return o->state;
}

uint64_t p2p_node_send(p2p_node_t *self, const uint8_t dest[static 32], uint32_t kind,
                       const uint8_t *data, size_t len, char *err, size_t err_cap)
{
    if (kind < P2P_KIND_USER_MIN) {
        snprintf(err, err_cap, "message kind %u is reserved for the p2p layer", kind);
        return 0;
    }
    if (memcmp(dest, self->id, 32) == 0) {
        snprintf(err, err_cap, "cannot send to ourselves");
        return 0;
    }
    if (len > P2P_UNICAST_MAX) {
        snprintf(err, err_cap, "message too large (%zu bytes, at most %u)", len, P2P_UNICAST_MAX);
        return 0;
    }
    uint64_t id = p2p_core_send(self->core, dest, kind, data, len, p2p_node_now());
    if (!id) {
        snprintf(err, err_cap, "too many messages waiting to be delivered");
        return 0;
    }
    s_busy(self); /* its retries and timeout are the tick's */
    p2p_op_t *o = s_op_slot(self, id, true);
    if (o->id != id) {
        o->id = id;
        o->is_send = true;
        o->state = P2P_OP_PENDING;
        o->text[0] = '\0';
    }
    return id;
}

size_t p2p_node_send_linked(p2p_node_t *self, uint32_t kind, const uint8_t *data, size_t len)
{
    if (kind < P2P_KIND_USER_MIN || len > P2P_UNICAST_MAX)
        return 0;
    uint8_t(*ids)[32] = malloc(LINKED_MAX * sizeof *ids);
    size_t n = ids ? p2p_core_linked(self->core, ids, LINKED_MAX) : 0, queued = 0;
    uint64_t now = p2p_node_now();
    for (size_t i = 0; i < n; i++) {
        queued += p2p_core_send_once(self->core, ids[i], kind, data, len, now);
    }
    free(ids);
    return queued;
}

p2p_op_state_t p2p_node_send_result(p2p_node_t *self, uint64_t id, char *reason)
{
    p2p_op_t *o = s_op_slot(self, id, true);
    if (o->id != id || !o->is_send)
        return P2P_OP_UNKNOWN;
    if (o->state == P2P_OP_FAILED)
        snprintf(reason, 128, "%s", o->text);
    return o->state;
}

size_t p2p_node_peers(p2p_node_t *self, p2p_peer_info_t *out, size_t max)
{
    return p2p_core_peers(self->core, p2p_node_now(), out, max);
}

void p2p_node_stats(const p2p_node_t *self, p2p_stats_t *out)
{
    p2p_core_stats(self->core, out);
}
