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
    PROTO_E_KS_FORMAT = -20,    /* not a genie keystore file, or corrupted */
    PROTO_E_KS_PERMS = -21,     /* a key file readable by group or others */
    PROTO_E_KS_NEED_PASSPHRASE = -22, /* the key file is encrypted; no passphrase given */
    PROTO_E_KS_BAD_PASSPHRASE = -23,  /* wrong passphrase, or the file was tampered with */
    PROTO_E_KS_EXISTS = -24,          /* refusing to overwrite an existing key file */
    PROTO_E_FAILED = -99              /* unspecified failure (detail in the err buffer) */
} proto_err_t;

typedef enum {
    P2P_E_FIRST = -100,
    P2P_E_ADDR_FORM = -101,      /* a node address is not NODEID@ENDPOINT */
    P2P_E_ADDR_ID = -102,        /* a node address's id is not 64 hex characters */
    P2P_E_ADDR_ENDPOINT = -103,  /* a node address's endpoint is not tcp://HOST:PORT */
    P2P_E_ROOM_NAME = -104,      /* a room name is not 1-63 characters of a-z 0-9 . _ - */
    P2P_E_TOO_MANY_ROOMS = -105, /* joining would pass P2P_REC_ROOMS rooms */
    P2P_E_NOT_MEMBER = -106,     /* leave or post in a room we are not a member of */
    P2P_E_TOO_BIG = -107,        /* a payload or message past its size bound */
    P2P_E_KIND = -108,           /* a message kind reserved for the p2p layer (< USER_MIN) */
    P2P_E_NOMEM = -109,          /* allocation failed */
    P2P_E_SELF = -110,           /* the peer named is this node itself */
    P2P_E_TOO_MANY_SEEDS = -111, /* the seed list is full (P2P_MAX_SEEDS) */
    P2P_E_LISTEN = -112,         /* a listen endpoint could not be bound */
    P2P_E_PEER_LIST = -113,      /* a saved peer list is not a well-formed record list */
    P2P_E_ARG = -114,            /* an invalid argument (a NULL topic, NULL data with a length) */
    P2P_E_FAILED = -199          /* unspecified failure (detail in the err buffer) */
} p2p_err_t;

typedef enum {
    LEDGER_OK = 0,
    LEDGER_E_FIRST = -200,
    LEDGER_E_MALFORMED = -201,      /* not a valid encoding (msgpack, arity, field sizes) */
    LEDGER_E_TOO_BIG = -202,        /* over a size or count limit */
    LEDGER_E_UNKNOWN_TYPE = -203,   /* no contract for this tx type */
    LEDGER_E_WRONG_CHAIN = -204,    /* chain id is not this chain's */
    LEDGER_E_BAD_SIG = -205,        /* signature does not verify */
    LEDGER_E_NONCE_USED = -206,     /* nonce below the account's nonce: a replay */
    LEDGER_E_NONCE_GAP = -207,      /* nonce above the account's nonce (or too far ahead) */
    LEDGER_E_INVALID = -208,        /* body breaks a stateless rule (e.g. amount 0) */
    LEDGER_E_FUNDS = -209,          /* insufficient balance */
    LEDGER_E_OVERFLOW = -210,       /* a balance would pass UINT64_MAX */
    LEDGER_E_NOT_AUTHORITY = -211,  /* sender is not a current authority */
    LEDGER_E_AUTH_RULE = -212,      /* vote refused: already member, not member, last one... */
    LEDGER_E_DUPLICATE = -213,      /* already known (mempool) */
    LEDGER_E_NONCE_TAKEN = -214,    /* mempool holds another tx with this (from, nonce) */
    LEDGER_E_FULL = -215,           /* mempool bound reached */
    LEDGER_E_BAD_BLOCK = -216,      /* block header or contents inconsistent */
    LEDGER_E_NOT_FOUND = -217,      /* no such block / tx / key */
    LEDGER_E_STORE = -218,          /* database I/O error (details logged) */
    LEDGER_E_CORRUPT = -219,        /* database content inconsistent */
    LEDGER_E_NOMEM = -220,          /* allocation failed */
    LEDGER_E_SYNCING = -221,        /* this node is behind the network: submit later or elsewhere */
    LEDGER_E_EXPIRED = -222,        /* a pending tx waited too long behind a nonce gap */
    LEDGER_E_NO_ATTESTATION = -223, /* genesis names no attestation service: no enclaves */
    LEDGER_E_NOT_RUNNER = -224,     /* sender is not the runner the platform certificate names */
    LEDGER_E_ENCLAVE_RULE = -225,   /* enclave registry rule: already registered / revoked /
                                       voted, or a per-key bound reached */
    LEDGER_E_DATA_RULE = -226,      /* data/market rule: unknown or withdrawn record, not the
                                       owner, already registered, unknown spec, a bound reached */
    LEDGER_E_CONSENT = -227,        /* the consent in force does not allow this spec */
    LEDGER_E_NOT_TRAINER = -228,    /* sender is not a registered trainer */
    LEDGER_E_RECEIPT = -229,        /* a report or receipt that does not decode or verify, or
                                       whose enclave is unregistered, revoked or the wrong kind */
    LEDGER_E_PROOF = -230,          /* an inclusion proof that does not decode or verify
                                       (ledger_light.h) */
    LEDGER_E_DOUBLE_SIGN = -231,    /* signing refused: it would contradict a vote or proposal
                                       this validator already signed (ledger_consensus) */
    /* issue 16 (ledger_contract_model.c, ledger_contract_settle.c); -240.. leaves room */
    LEDGER_E_JOB = -240,          /* training job rule: not enough donors, no running job... */
    LEDGER_E_PUBLISH = -241,      /* a model publication that does not decode, verify or match
                                     its job, parties and donors */
    LEDGER_E_ESCROW = -242,       /* a query buy: unknown model or buy, spent, cost overflow */
    LEDGER_E_USAGE = -243,        /* a usage report that does not verify or adds nothing */
    LEDGER_E_NOTHING_OWED = -244, /* an earnings claim with nothing to pay */
    LEDGER_E_FAILED = -299        /* unspecified failure (detail in the err buffer) */
} ledger_err_t;

typedef enum {
    ENCLAVE_E_FIRST = -300,
    /* -301 .. -339: attestation (measurement, platform, certificates, quotes, sealing,
       reports and receipts). -340 .. -398 are left to the enclave process, its wire
       protocol and the host side. */
    ENCLAVE_E_BAD_SIG = -301,              /* a quote's platform signature does not verify */
    ENCLAVE_E_CERT_BAD_SIG = -302,         /* a platform certificate's AS signature fails */
    ENCLAVE_E_CERT_EXPIRED = -303,         /* the certificate's expiry is at or before now */
    ENCLAVE_E_CERT_NOT_YET_VALID = -304,   /* the certificate is issued after now */
    ENCLAVE_E_PLATFORM_MISMATCH = -305,    /* quote and certificate name different platforms */
    ENCLAVE_E_UNCERTIFIED = -306,          /* no platform certificate carried / installed */
    ENCLAVE_E_REVOKED_PLATFORM = -307,     /* the platform key is revoked */
    ENCLAVE_E_REVOKED_MEASUREMENT = -308,  /* the measurement is revoked */
    ENCLAVE_E_MEASUREMENT_MISMATCH = -309, /* not the measurement the policy wants */
    ENCLAVE_E_NONCE_MISMATCH = -310,       /* not the nonce the verifier sent */
    ENCLAVE_E_STALE = -311,                /* quote older than the policy's maximum age */
    ENCLAVE_E_FUTURE = -312,               /* quote time ahead of now beyond the allowed skew */
    ENCLAVE_E_KEY_PERMS = -313,            /* a platform key file others may read or own */
    ENCLAVE_E_REPORT_BAD_SIG = -314,       /* a report's / receipt's enclave signature fails */
    ENCLAVE_E_SIGNER_MISMATCH = -315,      /* signed by another enclave key than expected */
    ENCLAVE_E_KIND = -316,                 /* an invalid kind / program identifier */
    /* -350..-359: the enclave process, its sandbox and its wire protocol (enclave_wire,
       enclave_sandbox, enclave_prog, enclave_host) */
    ENCLAVE_E_TIMEOUT = -350,    /* the enclave did not answer in time */
    ENCLAVE_E_DEAD = -351,       /* the enclave process is gone (or was never started) */
    ENCLAVE_E_PROTOCOL = -352,   /* an answer of the wrong type, or a request out of order */
    ENCLAVE_E_WRONG_KIND = -353, /* a request this enclave's kind does not serve */
    ENCLAVE_E_COMMIT = -354,     /* donated data does not match the registered commitment */
    ENCLAVE_E_FULL = -355,       /* the enclave's bounded memory for held data is full */
    ENCLAVE_E_SANDBOX = -356,    /* lockdown (prctl, rlimit, seccomp) could not be applied */
    ENCLAVE_E_SPAWN = -357,      /* the enclave executable could not be started */
    ENCLAVE_E_ATTEST = -359,     /* the enclave's report body is not what its kind makes */
    /* -360..-369: data blobs and key grants (enclave_blob, key-authorization donation) */
    ENCLAVE_E_BLOB = -360,         /* not an enclave_blob: magic, version, length vs size */
    ENCLAVE_E_BLOB_DECRYPT = -361, /* a blob chunk does not authenticate (key, tampering) */
    ENCLAVE_E_GRANT = -362,        /* a key grant does not open here or is malformed */
    /* federated training (enclave_kind_train_*.c) */
    ENCLAVE_E_JOB = -370,     /* no such training job, or a request out of the job's order */
    ENCLAVE_E_FED_MSG = -371, /* a relayed enclave-to-enclave message refused (seal, signer,
                                 job, sender or recipient) */
    /* -380..-389: query enclaves (light client, published models, paid queries) */
    ENCLAVE_E_CHAIN = -380,       /* no chain set (CHAIN first), another chain's genesis, or a
                                     quote bound to another chain than the verifier's */
    ENCLAVE_E_PROOF = -381,       /* an inclusion proof does not verify: forged, another chain,
                                     a certificate not by the authorities, another tx */
    ENCLAVE_E_PAYMENT = -382,     /* no payment: an unknown buy without a proof, or a proof of
                                     a tx that is not a QUERY_BUY */
    ENCLAVE_E_SPENT = -383,       /* the buy's query count is used up */
    ENCLAVE_E_ACCESS_CODE = -384, /* the access code is not the buy's */
    ENCLAVE_E_WRONG_MODEL = -385, /* the buy is for another model */
    ENCLAVE_E_NO_MODEL = -386,    /* the model is not loaded in this enclave */
    ENCLAVE_E_MODEL = -387,       /* a sealed model is not the published one (hash, publication,
                                     tx type) */
    ENCLAVE_E_GAP = -388,         /* CHAIN_BLOCK: the host's idea of the light height is not the
                                     enclave's (a block would be skipped): ask, then resend */
    ENCLAVE_E_FAILED = -399       /* unspecified failure (detail in the err buffer) */
} enclave_err_t;

typedef enum {
    ML_E_FIRST = -400,
    /* data readers and validation (ml_csv, ml_geno, ml_join, ml_validate, ml_synth) */
    ML_E_PARSE = -401,     /* malformed input (the err buffer says line and column) */
    ML_E_TOO_BIG = -402,   /* input past a bound: bytes, rows, columns, field length */
    ML_E_ARG = -403,       /* invalid argument (bad parameter, unknown data type) */
    ML_E_NOT_FOUND = -404, /* a named column, rsid or sample id is absent */
    ML_E_ALLELE = -405,    /* alleles inconsistent with the reference (not ref/alt/flip) */
    ML_E_EMPTY = -406,     /* no records where some were required */
    ML_E_HTS = -407,       /* htslib could not open, read or write a VCF/BCF/BGZF file */
    /* models and metrics (ml_metrics, ml_linear, ml_prs, ml_model): -420 .. -439 */
    ML_E_ONE_CLASS = -420,     /* a binary metric or fit needs both classes present */
    ML_E_SHAPE = -421,         /* dimensions disagree (rows, columns, feature count) */
    ML_E_NOT_CONVERGED = -423, /* the optimiser stopped far from a minimum */
    ML_E_SINGULAR = -424,      /* a system matrix is not positive definite */
    ML_E_MODEL = -425,         /* a model file is well-formed msgpack but not a valid model */
    ML_E_WEIGHTS = -426,       /* a PRS weights file is malformed */
    ML_E_NO_VARIANCE = -427,   /* a label or feature has no variance where one is needed */
    /* federated training, robust aggregation, differential privacy, valuation */
    ML_E_SPEC = -440,       /* invalid training / aggregation / privacy parameters */
    ML_E_BUDGET = -441,     /* the next step would pass the privacy budget (epsilon max) */
    ML_E_FED_MSG = -442,    /* a federated message is well-formed but not acceptable here */
    ML_E_FED_QUORUM = -443, /* a round ended too many times without enough updates */
    ML_E_FAILED = -499      /* unspecified failure (detail in the err buffer) */
} ml_err_t;

typedef enum {
    NODE_E_FIRST = -500,
    NODE_E_PARAMS = -501,     /* a request parameter or command-line argument was refused */
    NODE_E_CONNECT = -502,    /* no node answers at the control API address (not running?) */
    NODE_E_TRANSPORT = -503,  /* the control API connection failed after connecting (reset,
                                 timeout, HTTP error, oversized or malformed answer) */
    NODE_E_RPC = -504,        /* the node answered with a JSON-RPC error */
    NODE_E_NO_ENCLAVE = -505, /* this runner runs no enclave with that id (relay) */
    NODE_E_TIMEOUT = -506,    /* a peer or an enclave did not answer in time */
    NODE_E_BUSY = -507,       /* a bound on work in flight was reached: try again */
    NODE_E_NOT_FOUND = -508,  /* no such local record, file or key */
    NODE_E_NO_ACCOUNT = -509, /* the node has no account key to sign its own txs with */
    /* the data owner's store and service (node_data) */
    NODE_E_CORRUPT = -511, /* a stored record or blob is refused (reason in the err buffer) */
    NODE_E_IO = -512,      /* a file (of the store, a passphrase...) cannot be read or written */
    NODE_E_REFUSED = -513, /* a data file or request is refused (validation failed, ...) */
    /* the daemon's own tables, files and memory (node_app, node_rpc, node_cli, ledger wiring) */
    NODE_E_NOMEM = -514,   /* allocation failed */
    NODE_E_EXISTS = -515,  /* already there (an RPC method name registered twice, ...) */
    NODE_E_FULL = -516,    /* a fixed-size table is full (RPC methods, ...) */
    NODE_E_TOO_BIG = -517, /* an input past its bound (a line, a path, ...) */
    NODE_E_FETCH = -540,   /* a blob transfer from a peer broke its rules (size, order,
                              content hash) */
    NODE_E_FAILED = -599   /* unspecified failure (detail in the err buffer) */
} node_err_t;

/*  Stable lowercase name of any layer's error code, e.g. "truncated". Never NULL. */
const char *proto_err_str(int err);

/*  Writes a formatted one-line detail into ERR (ERR_CAP bytes; nothing if ERR is NULL or
 *  ERR_CAP is 0) and returns CODE (a negative code of the convention above). */
int proto_err_fail(char *err, size_t err_cap, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
