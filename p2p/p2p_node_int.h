/*  p2p_node_int: the ZeroMQ shell's state, shared by p2p_node.c (sockets, io callbacks,
 *  lifecycle, API) and p2p_node_rx.c (receiving in batches). Not part of the public API.
 */
#ifndef GENIE_P2P_NODE_INT_H
#define GENIE_P2P_NODE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_node.h"
#include "proto/proto_envelope.h"

#define P2P_NODE_TICK_MS 200       /* the core's tick while it has work in hand... */
#define P2P_NODE_TICK_REST_MS 1000 /* ...and at rest (links at the target degree, no call) */
/* How long a call that starts work the tick drives (a send, a lookup, a room change) keeps
   the fast tick: a unicast's whole life (5 tries, 20 s) and a lookup's. */
#define P2P_NODE_BUSY_MS 25000
#define P2P_NODE_SAVE_EVERY_MS 30000
#define P2P_NODE_HWM 4000
#define P2P_NODE_RECV_BATCH 256 /* messages handed to the core at once */
#define P2P_NODE_DRAIN_MAX 2048 /* messages per wakeup */
/* Under load (gossip came less than P2P_NODE_REST_MS before the last) a batch is handed
   to the core P2P_NODE_COALESCE_MS after its first message (or when full), so that the
   messages of a few wakeups share one batched signature check; at rest at once. */
#define P2P_NODE_COALESCE_MS 3
#define P2P_NODE_REST_MS 50
#define P2P_NODE_MAX_ROUTES 256
#define P2P_NODE_OPS_RING 256
#define P2P_NODE_SHUTDOWN_LINGER_MS 200
/* CurveZMQ's per-message overhead: the MESSAGE command name (8), nonce (8), MAC (16) and
   flags (1); ZeroMQ's maxmsgsize applies to the encrypted frame. */
#define P2P_NODE_CURVE_OVERHEAD 33
/* Frames up to twice the envelope maximum reach the core, which refuses (and scores)
   those above PROTO_ENVELOPE_MAX; ZeroMQ closes a connection that carries a larger one. */
#define P2P_NODE_FRAME_MAX (2 * (int64_t)PROTO_ENVELOPE_MAX + P2P_NODE_CURVE_OVERHEAD)

typedef struct {
    bool used;
    uint8_t id[32];
    zsock_t *sock;
    p2p_node_t *owner;
} p2p_dealer_t;

typedef struct {
    bool used;
    uint8_t curve[32];
    uint8_t id[32];
    uint8_t rid[256];
    size_t rid_len;
    uint64_t last_ms;
} p2p_route_t;

typedef struct {
    zmq_msg_t msg;
    uint8_t peer[32];
} p2p_rx_t;

typedef struct {
    uint64_t id;
    bool is_send;
    p2p_op_state_t state;
    char text[P2P_ENDPOINT_MAX];
} p2p_op_t;

struct p2p_node_t {
    p2p_config_t cfg;
    zloop_t *loop;
    zsock_t *router;
    zsock_t *zap;
    int timer_id;
    uint64_t tick_ms;       /* the period of timer_id */
    uint64_t busy_until_ms; /* the fast tick until then (P2P_NODE_BUSY_MS after a call) */
    size_t target_degree;   /* links wanted: fewer keep the fast tick (forming) */
    p2p_core_t *core;
    uint8_t id[32];
    uint8_t curve_pub[32];
    uint8_t curve_sec[32];
    char listen[P2P_MAX_LISTEN][P2P_ENDPOINT_MAX];
    size_t n_listen;
    char *peers_path;
    uint64_t last_save_ms;
    p2p_dealer_t *dealers;
    size_t n_dealers;
    p2p_route_t routes[P2P_NODE_MAX_ROUTES];
    p2p_op_t ops[P2P_NODE_OPS_RING];
    uint64_t dropped_sends;
    uint64_t forged;
    p2p_rx_t rx[P2P_NODE_RECV_BATCH]; /* the batch being received */
    p2p_inmsg_t rx_in[P2P_NODE_RECV_BATCH];
    size_t n_rx;
    int flush_timer;     /* the zloop timer that hands the batch over, or -1 */
    int ack_timer;       /* the zloop timer that sends the core's waiting acks, or -1 */
    uint64_t last_rx_ms; /* when a socket last held gossip */
};

/* The loop's clock (ms). */
static inline uint64_t p2p_node_now(void)
{
    return (uint64_t)zclock_time();
}

/* p2p_node_rx.c: zloop reader handlers of a DEALER (ARG: its p2p_dealer_t) and of the
   ROUTER (ARG: the node); both drain every link socket into batches for the core. */
int p2p_node_dealer_readable(zloop_t *loop, zsock_t *sock, void *arg);
int p2p_node_router_readable(zloop_t *loop, zsock_t *sock, void *arg);
/*  What a socket's drain does with the batch of received messages: hand it to the core
 *  now, start the P2P_NODE_COALESCE_MS timer, or leave it to the timer already started.
 *  DIRECT: the drain took an envelope that is not gossip (P2P_RX_DIRECT: it goes now,
 *  with what waited); BUSY: gossip came less than P2P_NODE_REST_MS before; TIMER_ARMED:
 *  a timer is started. */
typedef enum { P2P_RX_FLUSH, P2P_RX_ARM, P2P_RX_WAIT } p2p_rx_step_t;
p2p_rx_step_t p2p_node_rx_step(bool direct, bool busy, bool timer_armed);
/* Drops a batch not yet handed over and its timer, and sends the acks the core holds
   (before the node is destroyed). */
void p2p_node_rx_discard(p2p_node_t *n);
/*  What the frame P[0..LEN) starts like (proto_envelope_peek_type: the array head, version
 *  and type only): a GOSSIP envelope, another envelope (a direct message), or neither. For
 *  the batching only (only gossip waits to share a batch, a direct message hands it over,
 *  junk neither hurries nor holds it): the core judges every message in full. */
typedef enum { P2P_RX_JUNK, P2P_RX_GOSSIP, P2P_RX_DIRECT } p2p_rx_class_t;
p2p_rx_class_t p2p_node_rx_class(const uint8_t *p, size_t len);

#endif
