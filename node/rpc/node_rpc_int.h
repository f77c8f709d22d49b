/*  node_rpc_int: the control API's state, shared by its HTTP half (node_rpc.c) and its
 *  main-loop half (node_rpc_main.c). Not part of the public API.
 */
#ifndef GENIE_NODE_RPC_INT_H
#define GENIE_NODE_RPC_INT_H

#include <czmq.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "node/rpc/node_rpc.h"

struct node_rpc_t {
    struct MHD_Daemon *daemon;
    zsock_t *router; /* main thread only */
    char endpoint[96];
    node_rpc_handler_fn *handler;
    node_rpc_prepare_fn *prepare; /* NULL: none; read-only once started */
    void *ctx;
    const void *att; /* the running handler's attachment (main thread) */
    size_t att_len;
    zframe_t *cur_identity; /* the running handler's requester (main thread) */
    json_t *cur_id;         /* its JSON-RPC id (borrowed; NULL: a notification) */
    bool cur_deferred;      /* the running handler called node_rpc_defer */
    struct {
        uint64_t token; /* 0: free */
        zframe_t *identity;
        json_t *id;
    } deferred[NODE_RPC_DEFER_MAX]; /* main thread only */
    uint64_t next_token;
    char *token; /* S_TOKEN_HEX hex chars + NUL, sodium_malloc'd; read-only once started */
    char host[INET_ADDRSTRLEN];
    uint16_t port;
    atomic_bool stopping;
    atomic_uint unauth;              /* open connections that have not shown the cookie yet */
    _Atomic uint64_t refused_log_ms; /* last "refusing connections" warning (monotonic) */
    bool cookie_written;
    bool addr_written;
    char cookie_path[PATH_MAX];
    char addr_path[PATH_MAX];
};

/*  The JSON-RPC 2.0 response text (malloc'd) for ID: RESULT (stolen) or, when RESULT is
 *  NULL, the error CODE with MESSAGE (the code's standard message when empty). NULL when
 *  memory ran out. */
char *node_rpc_response_text(json_t *id, json_t *result, int code, const char *message);

#endif
