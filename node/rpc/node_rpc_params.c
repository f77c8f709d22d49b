/*  node_rpc_params: JSON-RPC parameter readers and answer helpers (see node_rpc_params.h). */
#include "node/rpc/node_rpc_params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node/rpc/node_rpc.h"
#include "proto/proto_err.h"
#include "proto/proto_hex.h"

json_t *node_rpc_param(json_t *params, const char *name, size_t pos)
{
    if (json_is_object(params))
        return json_object_get(params, name);
    if (json_is_array(params))
        return json_array_get(params, pos);
    return NULL;
}

const char *node_rpc_param_str(json_t *params, const char *name, size_t pos, int *code, char *err,
                               size_t cap)
{
    const char *s = json_string_value(node_rpc_param(params, name, pos));
    if (!s)
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "missing string parameter '%s'", name);
    return s;
}

int node_rpc_param_id(json_t *params, const char *name, size_t pos, uint8_t out[static 32],
                      int *code, char *err, size_t cap)
{
    const char *s = json_string_value(node_rpc_param(params, name, pos));
    if (!s || strlen(s) != 64 || proto_hex_decode(s, out, 32) != 0) {
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "'%s' must be 64 hex characters", name);
        return NODE_E_PARAMS;
    }
    return 0;
}

uint64_t node_rpc_param_u64(json_t *params, const char *name, size_t pos, uint64_t dflt)
{
    json_t *v = node_rpc_param(params, name, pos);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v)
                                                            : dflt;
}

json_t *node_rpc_fail(int *code, int value, char *err, size_t cap, const char *fmt, ...)
{
    *code = value;
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

json_t *node_rpc_hex(const uint8_t *p, size_t n)
{
    char buf[2 * 64 + 1];
    if (n > 64)
        return json_null();
    proto_hex_encode(p, n, buf);
    return json_string(buf);
}
