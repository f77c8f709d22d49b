/*  p2p_node: the ZeroMQ shell of the p2p layer.
 *
 *  Owns the CURVE-secured ROUTER inbox bound to the listen endpoints and one DEALER per
 *  connected peer, and feeds what arrives to the sans-IO protocol core (p2p_core), whose
 *  outputs it turns back into socket sends, connections and events for the layer above.
 *  It registers its sockets and timers on the caller's zloop; everything runs on the
 *  loop's thread.
 *
 *  The layer above (node/) talks to it through this header only: configuration in,
 *  callbacks out, and calls for broadcast, rooms, unicast and lookup. p2p never includes
 *  ledger code; a room posting policy is a callback.
 */
#ifndef GENIE_P2P_NODE_H
#define GENIE_P2P_NODE_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_record.h"
#include "proto/proto_key.h"

#define P2P_MAX_LISTEN 4

typedef struct p2p_node_t p2p_node_t;

/*  Upcalls into the layer above. Any may be NULL. Buffers are borrowed for the call. */
typedef struct {
    void *ctx;
    /* A post in a room we are a member of, delivered once. FROM is the origin node. */
    void (*on_room_post)(void *ctx, const char *room, const uint8_t from[static 32],
                         const uint8_t *data, size_t len, uint64_t time_ms);
    /* A unicast message of KIND (a registered message type, proto/proto_msgtype.h)
     * addressed to us, delivered once (already acknowledged to the sender). */
    void (*on_unicast)(void *ctx, const uint8_t from[static 32], uint32_t kind, const uint8_t *data,
                       size_t len);
    /* A broadcast (non-room gossip) of message TYPE from the layer above (tx, block...).
     * TIME_MS is the origin's clock when it sent it (wall clock, ms since the epoch). */
    void (*on_broadcast)(void *ctx, uint32_t type, const uint8_t from[static 32],
                         const uint8_t *data, size_t len, uint64_t time_ms);
    /* Posting policy for ROOM: may the origin node FROM post DATA? NULL = everyone may. */
    bool (*room_policy)(void *ctx, const char *room, const uint8_t from[static 32],
                        const uint8_t *data, size_t len);
} p2p_callbacks_t;

typedef struct {
    const proto_key_t *key; /* node key, borrowed; must outlive the node */
    const char *listen[P2P_MAX_LISTEN];
    size_t n_listen;
    const char *const *seeds; /* "NODEID@tcp://IP:PORT" */
    size_t n_seeds;
    uint8_t chain_id[32];
    uint32_t roles;      /* bitmask owned by node/, carried opaquely in HELLO */
    uint32_t max_peers;  /* links kept (0 = default 32); dials up to min(this, 8) */
    const char *datadir; /* known peers are persisted in DATADIR/peers.dat */
    p2p_callbacks_t cb;
} p2p_config_t;

/*  Binds the listen endpoints and registers on LOOP. NULL with a one-line reason in ERR
 *  (e.g. "cannot listen on tcp://127.0.0.1:7000: Address already in use"). */
p2p_node_t *p2p_node_new(const p2p_config_t *cfg, zloop_t *loop, char *err, size_t err_cap);

/*  Says goodbye to peers, saves the peer table, closes sockets; tolerates NULL. */
void p2p_node_destroy(p2p_node_t **self_p);

/*  Endpoints actually bound (port 0 resolved), for status output. */
size_t p2p_node_listen_count(const p2p_node_t *self);
const char *p2p_node_listen_endpoint(const p2p_node_t *self, size_t i);

/*  Our node id (32 bytes, owned by the node). */
const uint8_t *p2p_node_id(const p2p_node_t *self);

/*  Rooms: 0, or a negative code with a reason in ERR: join P2P_E_ROOM_NAME or
 *  P2P_E_TOO_MANY_ROOMS; leave P2P_E_NOT_MEMBER; post P2P_E_NOT_MEMBER, P2P_E_TOO_BIG
 *  (LEN > P2P_PAYLOAD_MAX) or P2P_E_FAILED (the envelope could not be made). */
int p2p_node_room_join(p2p_node_t *self, const char *room, char *err, size_t err_cap);
int p2p_node_room_leave(p2p_node_t *self, const char *room, char *err, size_t err_cap);
int p2p_node_room_post(p2p_node_t *self, const char *room, const uint8_t *data, size_t len,
                       char *err, size_t err_cap);
/*  Names of the rooms we are in (borrowed until the next join/leave). */
size_t p2p_node_rooms(const p2p_node_t *self, const char **names, size_t max);

/*  Node-wide broadcast of KIND (>= 16; e.g. a proto message type such as PROTO_MSG_TX).
 *  0 or p2p_core_broadcast's code. */
int p2p_node_broadcast(p2p_node_t *self, uint32_t kind, const uint8_t *data, size_t len);

/*  Asynchronous operations: start returns an id (> 0) or 0 with a reason in ERR; the
 *  result is polled with the id. Results are kept for the last 256 operations. */
typedef enum {
    P2P_OP_PENDING = 0,
    P2P_OP_DONE = 1,
    P2P_OP_FAILED = 2,
    P2P_OP_UNKNOWN = 3
} p2p_op_state_t;
uint64_t p2p_node_lookup(p2p_node_t *self, const uint8_t target[static 32], char *err,
                         size_t err_cap);
/*  State of lookup ID; when DONE, ENDPOINT (P2P_ENDPOINT_MAX bytes) holds the answer. */
p2p_op_state_t p2p_node_lookup_result(p2p_node_t *self, uint64_t id, char *endpoint);
/*  Unicast of KIND (>= P2P_KIND_USER_MIN, e.g. PROTO_MSG_TEXT, PROTO_MSG_SYNC_REQ) to DEST;
 *  DATA (at most P2P_UNICAST_MAX bytes) is copied. */
uint64_t p2p_node_send(p2p_node_t *self, const uint8_t dest[static 32], uint32_t kind,
                       const uint8_t *data, size_t len, char *err, size_t err_cap);
/*  Unacknowledged unicast of KIND (p2p_core_send_once) to each peer we are linked with,
 *  for messages only neighbours need and may miss (e.g. PROTO_MSG_STATUS): nothing travels
 *  further than one hop, nothing is retried. Returns how many were handed to the
 *  transport (0: no link, bad kind or size). */
size_t p2p_node_send_linked(p2p_node_t *self, uint32_t kind, const uint8_t *data, size_t len);
/*  State of send ID; when FAILED, REASON (128 bytes) says why. */
p2p_op_state_t p2p_node_send_result(p2p_node_t *self, uint64_t id, char *reason);

/*  Known peers (linked or not), at most MAX. */
size_t p2p_node_peers(p2p_node_t *self, p2p_peer_info_t *out, size_t max);
void p2p_node_stats(const p2p_node_t *self, p2p_stats_t *out);

#endif
