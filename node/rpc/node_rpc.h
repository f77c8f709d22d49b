/*  node_rpc: the node's control API, JSON-RPC 2.0 over HTTP on 127.0.0.1.
 *
 *  Authentication is a cookie token, as bitcoind does it: on start the server writes
 *  DATADIR/rpc.cookie (mode 0600) holding "__cookie__:<64 hex chars>" and DATADIR/rpc.addr
 *  holding "127.0.0.1:<port>\n"; a client sends HTTP Basic auth with that user:password.
 *  Both files are removed on destroy.
 *
 *  The HTTP side runs on libmicrohttpd's threads. Each authenticated, well-formed request
 *  is passed through an inproc ZeroMQ socket to the node's main loop, which calls the
 *  handler, so handlers run single-threaded with the rest of the node and need no locks.
 *  The main loop polls node_rpc_socket() and calls node_rpc_dispatch() when readable.
 *
 *  A request may carry bulk bytes beside its JSON: a body of Content-Type
 *  NODE_RPC_BINARY_TYPE is the JSON text of one request (not a batch), a NUL byte, then
 *  the binary part. Only a method's prepare step can take that part (below); one no step
 *  takes is refused with -32602.
 *
 *  Errors follow JSON-RPC 2.0: -32700 parse error, -32600 invalid request, -32601 method
 *  not found, -32602 invalid params, -32603 internal error; HTTP 401 with a JSON-RPC error
 *  body (code -32001) for missing or wrong credentials; requests over 1 MiB are refused.
 */
#ifndef GENIE_NODE_RPC_H
#define GENIE_NODE_RPC_H

#include <czmq.h>
#include <jansson.h>
#include <stdint.h>

#define NODE_RPC_E_PARSE (-32700)
#define NODE_RPC_E_INVALID_REQUEST (-32600)
#define NODE_RPC_E_METHOD (-32601)
#define NODE_RPC_E_PARAMS (-32602)
#define NODE_RPC_E_INTERNAL (-32603)
#define NODE_RPC_E_UNAUTHORIZED (-32001)
#define NODE_RPC_E_APP (-32000) /* application error: message says what */

/*  The Content-Type of a request with a binary part (JSON, NUL, the part). */
#define NODE_RPC_BINARY_TYPE "application/x-genie-rpc"

typedef struct node_rpc_t node_rpc_t;

/*  Request handler, called on the main thread. METHOD and PARAMS (an array, an object,
 *  or NULL when absent) are borrowed. Returns a new reference to the result, or NULL
 *  after setting *err_code and writing a message into ERR_MSG (ERR_CAP bytes). */
typedef json_t *(node_rpc_handler_fn)(void *ctx, const char *method, json_t *params, int *err_code,
                                      char *err_msg, size_t err_cap);

/*  Optional per-request step run on the HTTP thread before a request is forwarded, for
 *  work that should not hold up the main loop (e.g. signature checks, which then run in
 *  parallel on the connections' threads). It runs concurrently with other HTTP threads
 *  and with the main loop, so it may only use what is read-only or locked. METHOD and
 *  PARAMS are borrowed. On entry *ATTACHMENT / *ATT_LEN are the request's binary part
 *  (NODE_RPC_BINARY_TYPE; owned by the server, read-only: never freed nor kept by the
 *  step) or NULL / 0. It returns:
 *    0   forward the request; it may set *NEW_PARAMS (a new reference replacing the
 *        request's params) and *ATTACHMENT (malloc'd, *ATT_LEN bytes, ownership passes to
 *        the server): the handler reads it with node_rpc_attachment(). A step that takes
 *        the binary part sets *ATTACHMENT to its own buffer (a checked copy of it, say);
 *        a part left in place is refused (-32602, "this method takes no binary part").
 *        Clients cannot supply an attachment themselves, so a handler may trust what its
 *        prepare step put there;
 *    -1  answer with the error in *ERR_CODE / ERR_MSG (ERR_CAP bytes) without forwarding. */
typedef int(node_rpc_prepare_fn)(void *ctx, const char *method, json_t *params, json_t **new_params,
                                 void **attachment, size_t *att_len, int *err_code, char *err_msg,
                                 size_t err_cap);

/*  Starts the server on BIND ("127.0.0.1:PORT"; PORT 0 picks a free port; any address
 *  other than a loopback one is refused) and writes the cookie and address files into
 *  DATADIR. Returns NULL with a one-line reason in ERR (ERR_CAP bytes) on failure
 *  (e.g. port taken). */
node_rpc_t *node_rpc_new(const char *bind, const char *datadir, node_rpc_handler_fn *handler,
                         void *ctx, char *err, size_t err_cap);

/*  Same, with a prepare step (may be NULL) called with CTX. */
node_rpc_t *node_rpc_new_prepared(const char *bind, const char *datadir,
                                  node_rpc_handler_fn *handler, node_rpc_prepare_fn *prepare,
                                  void *ctx, char *err, size_t err_cap);

/*  While a handler runs: the attachment the prepare step made for this request (NULL and
 *  *LEN 0 when there is none). Main thread only. */
const void *node_rpc_attachment(const node_rpc_t *self, size_t *len);

/*  Most answers this many requests can wait for at once (node_rpc_defer). */
#define NODE_RPC_DEFER_MAX 64

/*  While a handler runs: keeps the request open so that its answer can be given later by
 *  node_rpc_complete (for a method that waits on the network), and returns a token (> 0);
 *  the handler then returns NULL and its error code is ignored. Returns 0 (nothing kept:
 *  answer now) for a notification or when NODE_RPC_DEFER_MAX answers already wait. The
 *  client's own wait (60 s) bounds how long a deferred answer can take to matter. Main
 *  thread only. */
uint64_t node_rpc_defer(node_rpc_t *self);

/*  Answers the deferred request TOKEN with RESULT (stolen) or, when RESULT is NULL, the
 *  error CODE and MESSAGE. Returns 0, or NODE_E_NOT_FOUND if TOKEN waits for nothing (RESULT is
 *  freed).
 *  Main thread only. */
int node_rpc_complete(node_rpc_t *self, uint64_t token, json_t *result, int code,
                      const char *message);

/*  Stops the server, removes the cookie and address files, frees everything; tolerates
 *  NULL; sets *self_p to NULL. */
void node_rpc_destroy(node_rpc_t **self_p);

/*  Socket for the main loop to poll; readable when a request waits. Owned by RPC. */
zsock_t *node_rpc_socket(node_rpc_t *self);

/*  Handles every request waiting on the socket (non-blocking). */
void node_rpc_dispatch(node_rpc_t *self);

/*  The port actually bound. */
uint16_t node_rpc_port(const node_rpc_t *self);

#endif
