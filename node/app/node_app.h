/*  node_app: the running genie-node, wiring everything together.
 *
 *  node_app_new does the whole start-up in order: logging, signal handling (SIGINT and
 *  SIGTERM stop the loop), datadir and its lock, node key, chain id, the zloop, the ledger
 *  (node_ledger.h; only with a ledger genesis), the p2p node (binds --listen) and the
 *  JSON-RPC server (writes rpc.addr and rpc.cookie last, so
 *  rpc.addr appearing means the node is ready). node_app_run runs the loop until a signal
 *  or the "stop" method; node_app_destroy shuts down in reverse and logs
 *  "shutdown complete".
 *
 *  RPC methods live in a table: adding one is a handler plus one node_app_method_add line
 *  (in s_methods_register in node_app.c, or in a register function of another file that
 *  node_app_new calls). Handlers run on the loop's thread, one at a time.
 */
#ifndef GENIE_NODE_APP_H
#define GENIE_NODE_APP_H

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/app/node_config.h"
#include "node/app/node_datadir.h"
#include "p2p/p2p_node.h"
#include "proto/proto_key.h"

#define NODE_APP_METHODS_MAX 128
#define NODE_APP_METHOD_NAME_MAX 64

typedef struct node_app_t node_app_t;

/*  An RPC method. METHOD and PARAMS (array, object or NULL) are borrowed. Returns a new
 *  reference to the result, or NULL after setting *err_code (NODE_RPC_E_PARAMS,
 *  NODE_RPC_E_APP, ...) and writing one line into ERR_MSG (ERR_CAP bytes). */
typedef json_t *(node_app_method_fn)(node_app_t *app, const char *method, json_t *params,
                                     int *err_code, char *err_msg, size_t err_cap);

/*  Starts the node described by CFG (borrowed; must outlive the app). NULL with one
 *  line in ERR (no program prefix) on any start-up failure: datadir in use, unreadable
 *  genesis, chain id mismatch, listen port taken, ... Caller destroys. */
node_app_t *node_app_new(const node_config_t *cfg, char *err, size_t err_cap);

/*  Runs the event loop until SIGINT/SIGTERM or the "stop" method. Returns 0. */
int node_app_run(node_app_t *self);

/*  Shuts down in reverse order (p2p, RPC, ledger, loop, datadir lock, key); tolerates NULL;
 *  sets *self_p to NULL. */
void node_app_destroy(node_app_t **self_p);

/*  Adds RPC method NAME (copied; at most NODE_APP_METHOD_NAME_MAX - 1 chars) handled by
 *  FN. 0, or node_app_method_add_prepared's code (name taken, too long, table full). */
int node_app_method_add(node_app_t *self, const char *name, node_app_method_fn *fn);

/*  One row of a service's method table. */
typedef struct {
    const char *name;
    node_app_method_fn *fn;
} node_app_method_t;
/*  node_app_method_add for each of the N rows of TABLE; 0, or the code of the first that
 *  fails. */
int node_app_methods_add(node_app_t *self, const node_app_method_t *table, size_t n);

/*  A method's prepare step (see node_rpc_prepare_fn): runs on an HTTP thread before the
 *  request reaches the loop, concurrently with the loop, so it may only touch what is
 *  read-only while the node runs or locked (e.g. the ledger store's chain record). The
 *  method's handler reads the attachment with node_app_rpc_attachment(). */
typedef int(node_app_prepare_fn)(node_app_t *app, json_t *params, json_t **new_params,
                                 void **attachment, size_t *att_len, int *err_code, char *err_msg,
                                 size_t err_cap);

/*  node_app_method_add with a prepare step (may be NULL). Methods are added before the
 *  RPC server starts. 0, NODE_E_PARAMS (NULL or bad name, no handler, or the RPC server
 *  already started), NODE_E_FULL (NODE_APP_METHODS_MAX methods) or NODE_E_EXISTS (NAME
 *  is taken). */
int node_app_method_add_prepared(node_app_t *self, const char *name, node_app_method_fn *fn,
                                 node_app_prepare_fn *prepare);

/*  node_app_method_add_prepared; with BINARY the prepare step (then required) also gets the
 *  request's binary part in *ATTACHMENT on entry (node_rpc.h), and takes it by replacing
 *  it with its own buffer. Without BINARY a request with a binary part is refused (-32602)
 *  before its step runs. */
int node_app_method_add_binary(node_app_t *self, const char *name, node_app_method_fn *fn,
                               node_app_prepare_fn *prepare, bool binary);

/*  In a method handler: the attachment its prepare step made (NULL, *LEN 0: none). */
const void *node_app_rpc_attachment(const node_app_t *self, size_t *len);
/*  node_rpc_defer / node_rpc_complete on the node's RPC server (0 / NODE_E_NOT_FOUND
 *  without one). */
uint64_t node_app_rpc_defer(node_app_t *self);
int node_app_rpc_complete(node_app_t *self, uint64_t token, json_t *result, int code,
                          const char *message);

/*  Asks the loop to stop after the current handler returns (replies already queued
 *  are sent first). */
void node_app_stop(node_app_t *self);

/*  Borrowed parts, for method handlers in other files. */
const node_config_t *node_app_config(const node_app_t *self);
zloop_t *node_app_loop(node_app_t *self);
p2p_node_t *node_app_p2p(node_app_t *self);
struct node_p2p_t *node_app_p2p_state(node_app_t *self);
/*  The ledger part, or NULL when the node runs without a ledger (no ledger genesis). */
struct node_ledger_t *node_app_ledger(node_app_t *self);
/*  The enclave-runner service, or NULL when the node is not an enclave runner. */
struct node_enclave_t *node_app_enclave(node_app_t *self);
/*  The account key the node signs its own txs with (node/service/node_account.h), or
 *  NULL when it has none (or no ledger). Owned by SELF. */
const proto_key_t *node_app_account(node_app_t *self);
/*  The enclave relay (every node has one once started). */
struct node_enclave_relay_t *node_app_enclave_relay(node_app_t *self);
const proto_key_t *node_app_key(const node_app_t *self);
node_datadir_t *node_app_datadir(node_app_t *self);
/*  Node id as 64 hex characters. */
const char *node_app_node_id(const node_app_t *self);
/*  32-byte chain id. */
const uint8_t *node_app_chain_id(const node_app_t *self);

#endif
