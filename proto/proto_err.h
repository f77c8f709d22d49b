/*  proto_err: genie's one error convention, for every library and for node/.
 *
 *  The rule, in STYLE terms:
 *  - A function that can fail returns `int`: 0 on success, or a NEGATIVE code from one of the
 *    enums below. Never a bare -1, never a positive "count or error" mix (a function that
 *    returns a count returns it through an out-parameter). Predicates return `bool`.
 *  - Each layer owns one typed enum in a disjoint range, so a code says which layer produced
 *    it and means one thing everywhere:
 *        proto    -1 ..  -99   PROTO_E_*     wire format, keys, keystore, files
 *        p2p    -100 .. -199   P2P_E_*       transport, peers, gossip, rooms
 *        ledger -200 .. -299   LEDGER_E_*    txs, blocks, state, store, consensus, sync
 *        enclave-300 .. -399   ENCLAVE_E_*   enclave protocol, platform, quotes, sealing
 *        ml     -400 .. -499   ML_E_*        data parsing, validation, models, training
 *        node   -500 .. -599   NODE_E_*      daemon, config, datadir, RPC, CLI
 *    A layer passes a lower layer's code up unchanged when it has nothing to add.
 *  - One string function, proto_err_str(), names every code of every layer.
 *  - One attribute, PROTO_WUR, on every decode / verify / decrypt / parse / load function.
 *  - A human-readable detail (a file's line and column, the field that was refused) travels
 *    beside the code in an optional caller buffer `char *err, size_t err_cap`; fill it with
 *    proto_err_fail(), which returns the code, so a failure path reads
 *        return proto_err_fail(err, err_cap, ML_E_PARSE, "line %zu: ...", line);
 *    Library errors (LevelDB's errptr, errno, msgpack's unpack result) are converted to a
 *    code at the boundary and never passed up.
 */
#ifndef GENIE_PROTO_ERR_H
#define GENIE_PROTO_ERR_H

#include <stddef.h>

/*  The one warn-unused-result attribute. */
#define PROTO_WUR __attribute__((warn_unused_result))

typedef enum {
    PROTO_OK = 0,
    PROTO_E_TRUNCATED = -1,     /* input ended inside a value */
    PROTO_E_TYPE = -2,          /* a value had the wrong msgpack type */
    PROTO_E_ARITY = -3,         /* an array had the wrong number of elements */
    PROTO_E_TOO_LONG = -4,      /* a string/bin/array exceeded its field limit */
    PROTO_E_TOO_BIG = -5,       /* the whole message exceeded its size limit */
    PROTO_E_TRAILING = -6,      /* bytes left over after the top-level value */
    PROTO_E_VERSION = -7,       /* unsupported protocol version */
    PROTO_E_UNKNOWN_TYPE = -8,  /* message type not in the registry */
    PROTO_E_BAD_SIG = -9,       /* signature does not verify */
    PROTO_E_NONCANONICAL = -10, /* value not in its shortest encoding */
    PROTO_E_RANGE = -11,        /* an integer outside its allowed range */
    PROTO_E_NOMEM = -12,        /* allocation failed */
    PROTO_E_INVALID = -13,      /* semantically invalid field (e.g. bad UTF-8, NUL in string) */
    PROTO_E_IO = -14,           /* a file or socket could not be read or written */
    PROTO_E_CRYPTO = -15,       /* a primitive failed (key derivation out of memory, ...) */
    PROTO_E_DECRYPT = -16,      /* authenticated decryption failed: wrong key or tampering */
    PROTO_E_FAILED = -99        /* unspecified failure (detail in the err buffer) */
} proto_err_t;

typedef enum {
    P2P_E_FIRST = -100,
    P2P_E_ADDR_FORM = -101,     /* a node address is not NODEID@ENDPOINT */
    P2P_E_ADDR_ID = -102,       /* a node address's id is not 64 hex characters */
    P2P_E_ADDR_ENDPOINT = -103, /* a node address's endpoint is not tcp://HOST:PORT */
    P2P_E_FAILED = -199 /* unspecified failure (detail in the err buffer) */
} p2p_err_t;

typedef enum {
    LEDGER_E_FIRST = -200,
    LEDGER_E_FAILED_ = -299 /* unspecified failure (detail in the err buffer) */
} ledger_err_range_t;

typedef enum {
    ENCLAVE_E_FIRST = -300,
    ENCLAVE_E_FAILED = -399 /* unspecified failure (detail in the err buffer) */
} enclave_err_t;

typedef enum {
    ML_E_FIRST = -400,
    ML_E_FAILED = -499 /* unspecified failure (detail in the err buffer) */
} ml_err_t;

typedef enum {
    NODE_E_FIRST = -500,
    NODE_E_PARAMS = -501,    /* a request parameter or command-line argument was refused */
    NODE_E_CONNECT = -502,   /* no node answers at the control API address (not running?) */
    NODE_E_TRANSPORT = -503, /* the control API connection failed after connecting (reset,
                                timeout, HTTP error, oversized or malformed answer) */
    NODE_E_RPC = -504,       /* the node answered with a JSON-RPC error */
    NODE_E_FAILED = -599 /* unspecified failure (detail in the err buffer) */
} node_err_t;

/*  Stable lowercase name of any layer's error code, e.g. "truncated". Never NULL. */
const char *proto_err_str(int err);

/*  Writes a formatted one-line detail into ERR (ERR_CAP bytes; nothing if ERR is NULL or
 *  ERR_CAP is 0) and returns CODE (a negative code of the convention above). */
int proto_err_fail(char *err, size_t err_cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*  Older form being retired (it returns -1, which names no layer): as proto_err_fail with
 *  no code. New code must not use it. */
int proto_err_set(char *err, size_t err_cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
