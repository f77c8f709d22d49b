/*  node_rpc_params: reading JSON-RPC parameters and writing common answer values, shared by
 *  every RPC method of every service (ledger, p2p, and those to come).
 *
 *  Params are an object (by name) or an array (by position); each helper takes both the
 *  name and the position. A refused parameter sets *CODE to NODE_RPC_E_PARAMS and ERR to a
 *  message naming the parameter, as JSON-RPC's "invalid params" answer.
 */
#ifndef GENIE_NODE_RPC_PARAMS_H
#define GENIE_NODE_RPC_PARAMS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*  Param NAME from an object, or the element at POS of an array; NULL if absent.
 *  Borrowed reference. */
json_t *node_rpc_param(json_t *params, const char *name, size_t pos);

/*  Param NAME as a string (borrowed from PARAMS), or NULL with the error set. */
const char *node_rpc_param_str(json_t *params, const char *name, size_t pos, int *code, char *err,
                               size_t cap);

/*  Param NAME as 32 bytes given as 64 hex characters into OUT. 0, or NODE_E_PARAMS with
 *  the error set. */
int node_rpc_param_id(json_t *params, const char *name, size_t pos, uint8_t out[static 32],
                      int *code, char *err, size_t cap);

/*  Param NAME as a non-negative integer, or DFLT when it is absent or not one. */
uint64_t node_rpc_param_u64(json_t *params, const char *name, size_t pos, uint64_t dflt);

/*  Sets *CODE to VALUE and ERR to the formatted message; returns NULL, so a method's
 *  failure reads `return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "...")`. */
json_t *node_rpc_fail(int *code, int value, char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*  N bytes (at most 64) as a lowercase hex JSON string; JSON null when N is over 64. New
 *  reference. */
json_t *node_rpc_hex(const uint8_t *p, size_t n);

#endif
