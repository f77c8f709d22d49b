/*  proto_err: names of the decoder/verifier error codes. */
#include "proto/proto_err.h"

#include <stdarg.h>
#include <stdio.h>

const char *proto_err_str(int err)
{
    switch (err) {
    case PROTO_OK: return "ok";
    case PROTO_E_TRUNCATED: return "truncated";
    case PROTO_E_TYPE: return "wrong type";
    case PROTO_E_ARITY: return "wrong arity";
    case PROTO_E_TOO_LONG: return "field too long";
    case PROTO_E_TOO_BIG: return "message too big";
    case PROTO_E_TRAILING: return "trailing bytes";
    case PROTO_E_VERSION: return "unsupported version";
    case PROTO_E_UNKNOWN_TYPE: return "unknown message type";
    case PROTO_E_BAD_SIG: return "bad signature";
    case PROTO_E_NONCANONICAL: return "non-canonical encoding";
    case PROTO_E_RANGE: return "integer out of range";
    case PROTO_E_NOMEM: return "out of memory";
    case PROTO_E_INVALID: return "invalid field";
    default: return "unknown error";
    }
}

int proto_err_set(char *err, size_t err_cap, const char *fmt, ...)
{
    if (err && err_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}
