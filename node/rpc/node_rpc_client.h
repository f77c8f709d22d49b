/*  node_rpc_client: the CLI's side of the control API (libcurl, JSON-RPC 2.0).
 *
 *  Finds the node either from its datadir (DATADIR/rpc.addr and DATADIR/rpc.cookie) or
 *  from an explicit URL plus cookie file.
 */
#ifndef GENIE_NODE_RPC_CLIENT_H
#define GENIE_NODE_RPC_CLIENT_H

#include <jansson.h>
#include <stddef.h>

typedef struct node_rpc_client_t node_rpc_client_t;

/*  Client for the node whose datadir is DATADIR. NULL with a one-line reason in ERR when
 *  the files are missing (node not running?) or unreadable. */
node_rpc_client_t *node_rpc_client_from_datadir(const char *datadir, char *err, size_t err_cap);

/*  Client for URL ("http://127.0.0.1:PORT/" or "127.0.0.1:PORT") with credentials read
 *  from COOKIE_FILE (may be NULL: then no credentials are sent). NULL with ERR on failure. */
node_rpc_client_t *node_rpc_client_new(const char *url, const char *cookie_file, char *err,
                                       size_t err_cap);

void node_rpc_client_destroy(node_rpc_client_t **self_p);

/*  Calls METHOD with PARAMS (stolen; may be NULL). Returns 0 and sets *result (new
 *  reference, caller decrefs); or NODE_E_CONNECT (nothing listens at the address: the
 *  node is not running), NODE_E_TRANSPORT (connected, but the connection was reset or
 *  timed out, or the answer was not JSON-RPC), or NODE_E_RPC (an error answer: its
 *  JSON-RPC code is node_rpc_client_last_code()); each writes a one-line message into ERR.
 *  A connection reset before any answer (the node was shedding unauthenticated
 *  connections) is retried for up to 8 s. TIMEOUT_MS bounds each try (0 = 30 s default). */
int node_rpc_client_call(node_rpc_client_t *self, const char *method, json_t *params,
                         long timeout_ms, json_t **result, char *err, size_t err_cap);

/*  node_rpc_client_call with a binary part: BIN (BIN_LEN bytes, borrowed; NULL: none, as
 *  node_rpc_client_call) goes beside the JSON as raw bytes (NODE_RPC_BINARY_TYPE, see
 *  node_rpc.h), for a method whose prepare step takes it (others refuse it: NODE_E_RPC
 *  with -32602). Same returns. */
int node_rpc_client_call_bin(node_rpc_client_t *self, const char *method, json_t *params,
                             const void *bin, size_t bin_len, long timeout_ms, json_t **result,
                             char *err, size_t err_cap);

/*  The JSON-RPC error code of the last call that returned NODE_E_RPC (e.g. -32601), 0
 *  after any other outcome. */
int node_rpc_client_last_code(const node_rpc_client_t *self);

#endif
