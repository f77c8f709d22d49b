/*  proto_err: the error codes every decoder and verifier in genie returns.
 *  0 is success; every failure is a negative value with a stable name. */
#ifndef GENIE_PROTO_ERR_H
#define GENIE_PROTO_ERR_H

#include <stddef.h>

typedef enum {
    PROTO_OK = 0,
    PROTO_E_TRUNCATED = -1,    /* input ended inside a value */
    PROTO_E_TYPE = -2,         /* a value had the wrong msgpack type */
    PROTO_E_ARITY = -3,        /* an array had the wrong number of elements */
    PROTO_E_TOO_LONG = -4,     /* a string/bin/array exceeded its field limit */
    PROTO_E_TOO_BIG = -5,      /* the whole message exceeded its size limit */
    PROTO_E_TRAILING = -6,     /* bytes left over after the top-level value */
    PROTO_E_VERSION = -7,      /* unsupported protocol version */
    PROTO_E_UNKNOWN_TYPE = -8, /* message type not in the registry */
    PROTO_E_BAD_SIG = -9,      /* signature does not verify */
    PROTO_E_NONCANONICAL = -10,/* value not in its shortest encoding */
    PROTO_E_RANGE = -11,       /* an integer outside its allowed range */
    PROTO_E_NOMEM = -12,       /* allocation failed */
    PROTO_E_INVALID = -13      /* semantically invalid field (e.g. bad UTF-8, NUL in string) */
} proto_err_t;

/*  Stable lowercase name of an error code, e.g. "truncated". Never NULL. */
const char *proto_err_str(int err);

/*  Writes a formatted one-line reason into ERR (ERR_CAP bytes; nothing if ERR is NULL or
 *  ERR_CAP is 0) and returns -1, so failure paths read `return proto_err_set(err, cap, ...)`. */
int proto_err_set(char *err, size_t err_cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
