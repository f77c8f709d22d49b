/*  node_p2p: the node's side of the p2p layer: the logs that keep received room posts and
 *  unicast messages for the control API, the callbacks that fill them (and the room
 *  posting policy, which hands room `recruitment` to node_market), and the RPC
 *  methods peers, lookup, lookup_result, send, send_result, rooms, room_join,
 *  room_leave, room_post, room_tail, inbox and p2p_stats.
 */
#ifndef GENIE_NODE_P2P_H
#define GENIE_NODE_P2P_H

#include "node/app/node_app.h"
#include "p2p/p2p_node.h"

typedef struct node_p2p_t node_p2p_t;
struct node_market_t;

node_p2p_t *node_p2p_new(void);
void node_p2p_destroy(node_p2p_t **self_p);
/*  Fills CB with callbacks whose context is SELF (to put in p2p_config_t). */
void node_p2p_callbacks(node_p2p_t *self, p2p_callbacks_t *cb);
/*  Routes ledger broadcasts and ledger-framed unicasts (node_ledger.h) to LEDGER
 *  (borrowed; NULL: none) instead of the inbox. */
void node_p2p_set_ledger(node_p2p_t *self, struct node_ledger_t *ledger);
/*  The market service (borrowed; NULL: none) judges and receives the posts of room
 *  `recruitment` (the room's posting policy, node_market.h). */
void node_p2p_set_market(node_p2p_t *self, struct node_market_t *market);
/*  Routes unicasts of the enclave relay (kinds PROTO_MSG_ENCLAVE_CALL and _ANSWER) to FN
 *  with CTX (borrowed; NULL: dropped). */
typedef void(node_p2p_unicast_fn)(void *ctx, const uint8_t from[static 32], uint32_t kind,
                                  const uint8_t *data, size_t len);
void node_p2p_set_enclave(node_p2p_t *self, node_p2p_unicast_fn *fn, void *ctx);
/*  Adds the p2p RPC methods to APP. 0 or -1. */
int node_p2p_register(node_app_t *app);

#endif
