/*  p2p_node_rx: receiving for the ZeroMQ shell (see p2p_node.c).
 *
 *  Every link socket the loop finds ready (the ROUTER, DEALERs) is drained into one batch
 *  of up to P2P_NODE_RECV_BATCH messages, which goes to the core in one call
 *  (p2p_core_on_messages: the gossip signatures of a batch are checked together) when it
 *  is full, or at once when the node is quiet, or under load (gossip messages less than
 *  P2P_NODE_REST_MS apart) P2P_NODE_COALESCE_MS after its first message (a one-shot
 *  timer), so that the messages of several wakeups and links share the checks: under a
 *  stream of gossip a node wakes for one or two messages at a time, and a batch of one
 *  saves nothing. A quiet node does not wait for the other sockets of the loop's pass (a
 *  zero-delay timer would cost one more pass over every socket, for a batch of a few,
 *  which costs about what single checks do). An empty socket is never read (a failed
 *  read is a system call in ZeroMQ).
 *  A ROUTER message is attributed to a node id by
 *  its CURVE key (the first message of a connection must be signed by the node id whose
 *  Curve25519 form the key is); a DEALER's come from the peer it is pinned to;
 *  multi-frame messages are not ours and are dropped.
 */
#include <string.h>

#include "p2p/p2p_node_int.h"
#include "proto/proto_envelope.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

static p2p_route_t *s_route_by_curve(p2p_node_t *n, const uint8_t curve[static 32])
{
    for (size_t i = 0; i < P2P_NODE_MAX_ROUTES; i++)
        if (n->routes[i].used && memcmp(n->routes[i].curve, curve, 32) == 0)
            return &n->routes[i];
    return NULL;
}

static p2p_route_t *s_route_add(p2p_node_t *n)
{
    p2p_route_t *oldest = &n->routes[0];
    for (size_t i = 0; i < P2P_NODE_MAX_ROUTES; i++) {
        if (!n->routes[i].used)
            return &n->routes[i];
        if (n->routes[i].last_ms < oldest->last_ms)
            oldest = &n->routes[i];
    }
    return oldest;
}

/* Attributes a ROUTER message to a node id by its CURVE key; false if it cannot be. */
static bool s_attribute(p2p_node_t *n, zmq_msg_t *rid, zmq_msg_t *payload, uint8_t out[static 32])
{
    const char *user = zmq_msg_gets(payload, "User-Id");
    uint8_t curve[32];
    if (!user || proto_hex_decode(user, curve, 32) != 0)
        return false;
    uint64_t now = p2p_node_now();
    if (p2p_core_curve_banned(n->core, curve, now))
        return false; /* its connection predates the ban: ignore it cheaply */
    p2p_route_t *r = s_route_by_curve(n, curve);
    if (!r) {
        proto_envelope_t env;
        uint8_t derived[32];
        if (proto_envelope_decode(zmq_msg_data(payload), zmq_msg_size(payload), &env) != PROTO_OK ||
            proto_key_curve_public(env.sender, derived) != 0 || memcmp(derived, curve, 32) != 0) {
            n->forged++;
            return false;
        }
        r = s_route_add(n);
        memset(r, 0, sizeof *r);
        r->used = true;
        memcpy(r->curve, curve, 32);
        memcpy(r->id, env.sender, 32);
    }
    size_t rl = zmq_msg_size(rid);
    if (rl > sizeof r->rid)
        return false;
    memcpy(r->rid, zmq_msg_data(rid), rl);
    r->rid_len = rl;
    r->last_ms = now;
    memcpy(out, r->id, 32);
    return true;
}

/* Receives and drops the remaining frames of a multi-frame message (not ours). */
static void s_drop_rest(void *h)
{
    for (bool more = true; more;) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        if (zmq_msg_recv(&extra, h, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&extra);
            return;
        }
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
}

/* Receives one message from D into the batch; false when it has none. */
static bool s_recv_dealer(p2p_node_t *n, p2p_dealer_t *d)
{
    void *h = zsock_resolve(d->sock);
    p2p_rx_t *rx = &n->rx[n->n_rx];
    zmq_msg_init(&rx->msg);
    if (zmq_msg_recv(&rx->msg, h, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&rx->msg);
        return false;
    }
    if (zmq_msg_more(&rx->msg)) {
        zmq_msg_close(&rx->msg);
        s_drop_rest(h);
        return true;
    }
    memcpy(rx->peer, d->id, 32);
    n->n_rx++;
    return true;
}

/* Receives one ROUTER message into the batch (if it can be attributed); false when there
   is none. */
static bool s_recv_router(p2p_node_t *n)
{
    void *h = zsock_resolve(n->router);
    zmq_msg_t rid;
    zmq_msg_init(&rid);
    if (zmq_msg_recv(&rid, h, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&rid);
        return false;
    }
    p2p_rx_t *rx = &n->rx[n->n_rx];
    zmq_msg_init(&rx->msg);
    bool ok = zmq_msg_more(&rid) && zmq_msg_recv(&rx->msg, h, ZMQ_DONTWAIT) >= 0;
    bool more = ok && zmq_msg_more(&rx->msg);
    if (ok && !more && s_attribute(n, &rid, &rx->msg, rx->peer)) {
        n->n_rx++;
    } else {
        GLOG_RATELIMITED(DEBUG, NET, "dropped an unattributable inbound message");
        zmq_msg_close(&rx->msg);
    }
    zmq_msg_close(&rid);
    if (more)
        s_drop_rest(h);
    return true;
}

p2p_rx_class_t p2p_node_rx_class(const uint8_t *p, size_t len)
{
    uint32_t type;
    if (proto_envelope_peek_type(p, len, &type) != PROTO_OK)
        return P2P_RX_JUNK;
    return type == PROTO_MSG_GOSSIP ? P2P_RX_GOSSIP : P2P_RX_DIRECT;
}

/* Sends the acks the core holds (p2p_core_flush_acks). */
static int s_ack_timer(zloop_t *loop, int timer_id, void *arg)
{
    p2p_node_t *n = arg;
    n->ack_timer = -1;
    p2p_core_flush_acks(n->core, p2p_node_now());
    (void)loop;
    (void)timer_id;
    return 0;
}

/* Hands the batch to the core (one call: their gossip signatures are checked together),
   then has the acks of its unicasts sent P2P_ACK_DELAY_MS later: after the answers. */
static void s_flush(p2p_node_t *n)
{
    if (n->n_rx == 0)
        return;
    for (size_t i = 0; i < n->n_rx; i++)
        n->rx_in[i] = (p2p_inmsg_t){.peer = n->rx[i].peer,
                                    .data = zmq_msg_data(&n->rx[i].msg),
                                    .len = zmq_msg_size(&n->rx[i].msg)};
    p2p_core_on_messages(n->core, n->rx_in, n->n_rx, p2p_node_now());
    for (size_t i = 0; i < n->n_rx; i++)
        zmq_msg_close(&n->rx[i].msg);
    n->n_rx = 0;
    if (n->ack_timer < 0 && p2p_core_acks_pending(n->core) > 0) {
        n->ack_timer = zloop_timer(n->loop, P2P_ACK_DELAY_MS, 1, s_ack_timer, n);
        if (n->ack_timer < 0)
            p2p_core_flush_acks(n->core, p2p_node_now()); /* no timer: now */
    }
}

/* Zero-delay one-shot timer: the loop runs it first thing in its next iteration, after
   every socket found ready in this one has been drained into the batch. */
static int s_flush_timer(zloop_t *loop, int timer_id, void *arg)
{
    p2p_node_t *n = arg;
    n->flush_timer = -1;
    s_flush(n);
    (void)loop;
    (void)timer_id;
    return 0;
}

/* Takes what the ready socket holds (up to P2P_NODE_DRAIN_MAX messages: the loop's timers,
   the control API and the other links get their turn) into the batch, which goes to the
   core when full, or else once every ready socket of this loop iteration has had its turn.
   Only a socket the loop found ready is read: an empty one costs a system call. */
static void s_drain(p2p_node_t *n, p2p_dealer_t *d)
{
    zsock_t *sock = d ? d->sock : n->router;
    size_t taken = 0;
    bool gossip = false, direct = false;
    for (; taken < P2P_NODE_DRAIN_MAX; taken++) {
        size_t had = n->n_rx;
        if (d ? !d->used || d->sock != sock || !s_recv_dealer(n, d) : !s_recv_router(n))
            break; /* empty, or hung up by the core while handling a full batch */
        /* a frame the receive dropped (multi-part, unattributable) added nothing */
        if (n->n_rx > had) {
            zmq_msg_t *m = &n->rx[n->n_rx - 1].msg;
            p2p_rx_class_t k = p2p_node_rx_class(zmq_msg_data(m), zmq_msg_size(m));
            gossip = gossip || k == P2P_RX_GOSSIP;
            direct = direct || k == P2P_RX_DIRECT; /* junk does not hurry the batch */
        }
        if (n->n_rx == P2P_NODE_RECV_BATCH)
            s_flush(n);
    }
    uint64_t now = p2p_node_now();
    bool busy = false;
    if (gossip) {
        busy = now < n->last_rx_ms + P2P_NODE_REST_MS;
        n->last_rx_ms = now;
    }
    switch (p2p_node_rx_step(direct, busy, n->flush_timer >= 0)) {
    case P2P_RX_FLUSH:
        if (n->flush_timer >= 0) /* what waited goes with the direct message */
            zloop_timer_end(n->loop, n->flush_timer);
        n->flush_timer = -1;
        s_flush(n);
        break;
    case P2P_RX_ARM:
        if (n->n_rx == 0)
            break;
        n->flush_timer = zloop_timer(n->loop, P2P_NODE_COALESCE_MS, 1, s_flush_timer, n);
        if (n->flush_timer < 0)
            s_flush(n); /* no timer (out of memory): hand it over now */
        break;
    case P2P_RX_WAIT:
        break;
    }
}

p2p_rx_step_t p2p_node_rx_step(bool direct, bool busy, bool timer_armed)
{
    /* only a stream of gossip waits: its signatures are what a batch shares; a direct
       message (a unicast and its ack, a request and its answer) never waits for company,
       nor for a batch that was waiting before it came */
    if (direct)
        return P2P_RX_FLUSH;
    /* a quiet node (a network at rest): what this socket held goes now. A zero-delay
       timer to gather the other ready sockets' messages would cost the loop one more pass
       over every socket, for batches of a few signatures, which cost about what single
       checks do (proto_sig_check_batch) */
    if (!busy && !timer_armed)
        return P2P_RX_FLUSH;
    /* under load, the messages of the next few milliseconds join the batch */
    return timer_armed ? P2P_RX_WAIT : P2P_RX_ARM;
}

void p2p_node_rx_discard(p2p_node_t *n)
{
    if (n->flush_timer >= 0)
        zloop_timer_end(n->loop, n->flush_timer);
    n->flush_timer = -1;
    if (n->ack_timer >= 0)
        zloop_timer_end(n->loop, n->ack_timer);
    n->ack_timer = -1;
    p2p_core_flush_acks(n->core, p2p_node_now()); /* the senders need not retry */
    for (size_t i = 0; i < n->n_rx; i++)
        zmq_msg_close(&n->rx[i].msg);
    n->n_rx = 0;
}

int p2p_node_dealer_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    p2p_dealer_t *d = arg;
    s_drain(d->owner, d);
    (void)loop;
    (void)sock;
    return 0;
}

int p2p_node_router_readable(zloop_t *loop, zsock_t *sock, void *arg)
{
    s_drain(arg, NULL);
    (void)loop;
    (void)sock;
    return 0;
}
