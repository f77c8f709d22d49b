/*  proto_err: names of every layer's error codes (see proto_err.h for the convention). */
#include "proto/proto_err.h"

#include <stdarg.h>
#include <stdio.h>

static const char *s_proto_name(int err)
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
    case PROTO_E_IO: return "i/o error";
    case PROTO_E_CRYPTO: return "cryptographic primitive failed";
    case PROTO_E_DECRYPT: return "decryption failed";
    case PROTO_E_FAILED: return "failed";
    default: return NULL;
    }
}

const char *proto_err_str(int err)
{
    const char *name = NULL;
    if (err <= 0 && err > -100)
        name = s_proto_name(err);
    else if (err == P2P_E_ADDR_FORM)
        name = "not a node address (NODEID@tcp://HOST:PORT)";
    else if (err == P2P_E_ADDR_ID)
        name = "bad node id (want 64 hex characters)";
    else if (err == P2P_E_ADDR_ENDPOINT)
        name = "bad endpoint (want tcp://HOST:PORT)";
    else if (err == NODE_E_PARAMS)
        name = "bad parameter";
    else if (err == NODE_E_CONNECT)
        name = "cannot connect to the node";
    else if (err == NODE_E_TRANSPORT)
        name = "control API connection failed";
    else if (err == NODE_E_RPC)
        name = "the node answered with an error";
    else if (err == P2P_E_FAILED || err == LEDGER_E_FAILED_ || err == ENCLAVE_E_FAILED ||
             err == ML_E_FAILED || err == NODE_E_FAILED)
        name = "failed";
    return name ? name : "unknown error";
}

static void s_format(char *err, size_t err_cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void s_format(char *err, size_t err_cap, const char *fmt, va_list ap)
{
    if (err && err_cap)
        vsnprintf(err, err_cap, fmt, ap);
}

int proto_err_fail(char *err, size_t err_cap, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_format(err, err_cap, fmt, ap);
    va_end(ap);
    return code;
}

int proto_err_set(char *err, size_t err_cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_format(err, err_cap, fmt, ap);
    va_end(ap);
    return -1;
}
