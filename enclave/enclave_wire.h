/*  enclave_wire: the protocol between a host (enclave-runner) and a genie-enclave process.
 *
 *  Framing: the two ends share one SOCK_STREAM unix socket; every message is a frame of a
 *  4-byte big-endian length followed by that many bytes, at most ENCLAVE_WIRE_MAX_FRAME.
 *  A frame holds one msgpack fixed-order array that starts with the protocol version and a
 *  message type, then that type's fields in a fixed order (see PROTOCOL in
 *  enclave/README.md). Decoders are strict (proto/proto_mp.h's bounded reader: exact arity,
 *  exact key sizes, canonical encodings, no trailing bytes) and fuzzed
 *  (tests/fuzz/fuzz_enclave_request.c).
 *
 *  Decoded requests and answers do not copy their byte fields: the pointers in
 *  enclave_req_t / enclave_ans_t point into the buffer that was decoded, which must outlive
 *  them.
 *
 *  There is no message that carries data out of an enclave: answers carry public keys,
 *  signed reports and receipts, counts, errors, query results sealed to the asker, training
 *  messages sealed to another training enclave, signed model publications, and models
 *  sealed to a query enclave.
 */
#ifndef GENIE_ENCLAVE_WIRE_H
#define GENIE_ENCLAVE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

#define ENCLAVE_WIRE_VERSION 1u
/* The largest frame either side sends or accepts (bytes after the length prefix). */
#define ENCLAVE_WIRE_MAX_FRAME (16u * 1024u * 1024u)
/* The largest data buffer a VALIDATE request carries. */
#define ENCLAVE_WIRE_MAX_DATA (ENCLAVE_WIRE_MAX_FRAME - 4096u)
/* The largest sealed blob (DONATE, QUERY) or signed report/receipt an answer carries. */
#define ENCLAVE_WIRE_MAX_BLOB (ENCLAVE_WIRE_MAX_FRAME - 4096u)
/* The largest key grant a DONATE_KEYED request carries (enclave_grant.h: a grant is
   ENCLAVE_GRANT_LEN = 112 bytes today; the bound is the ledger's KEY_AUTHORIZE bound). */
#define ENCLAVE_WIRE_MAX_GRANT 256u
/* The largest ledger inclusion proof a MODEL_LOAD or QUERY request carries
   (= LEDGER_PROOF_MAX_BYTES, ledger/ledger_light.h). */
#define ENCLAVE_WIRE_MAX_PROOF (72u * 1024u)
/* The longest error message in an ERROR answer. */
#define ENCLAVE_WIRE_MAX_MSG 128u
/* The fd a genie-enclave process finds its socket on. */
#define ENCLAVE_WIRE_FD 3

/*  Enclave kinds, chosen at spawn and fixed for the process's life. */
typedef enum {
    ENCLAVE_KIND_VALIDATION = 1, /* VALIDATE, VALIDATE_SEALED */
    ENCLAVE_KIND_TRAINING = 2,   /* DONATE, DONATE_KEYED, STATS, DROP */
    ENCLAVE_KIND_QUERY = 3       /* MODEL_LOAD, QUERY, USAGE */
} enclave_kind_t;

/*  "validation", "training" or "query"; NULL for anything else. */
const char *enclave_kind_name(enclave_kind_t kind);
/*  Parses a kind name. 0 and *out set, or PROTO_E_INVALID. */
int enclave_kind_parse(const char *name, enclave_kind_t *out) PROTO_WUR;

/*  The 64 report-data bytes an honest enclave of KIND bound (at INIT) to the chain CHAIN_ID
 *  puts in its report body: BLAKE2b-512("genie-enclave report data v2" || kind name ||
 *  protocol version || chain id) (proto_attest_report_data). The host checks the INIT
 *  answer against it before asking the platform for a quote; the ledger's registry and a
 *  coordinating training enclave's MODEL_SEAL compare a quote's with their own chain's. */
void enclave_wire_report_data(enclave_kind_t kind, const uint8_t chain_id[static 32],
                              uint8_t out[static 64]);

typedef enum {
    ENCLAVE_REQ_INIT = 1,            /* first: kind, nonce, seal key, chain id */
    ENCLAVE_REQ_PING = 2,            /* liveness */
    ENCLAVE_REQ_VALIDATE = 3,        /* validate a data buffer, sign a report */
    ENCLAVE_REQ_DONATE = 4,          /* accept sealed data, sign a receipt */
    ENCLAVE_REQ_STATS = 5,           /* counts of what a training enclave holds */
    ENCLAVE_REQ_DROP = 6,            /* withdraw (wipe) one donation */
    ENCLAVE_REQ_QUERY = 7,           /* a paid query: payment proof, sealed rows */
    ENCLAVE_REQ_VALIDATE_SEALED = 8, /* VALIDATE with salt and data sealed to the enclave */
    ENCLAVE_REQ_DONATE_KEYED = 9,    /* a stored blob and a key grant, sign a receipt */
    /* federated training (enclave_kind_train_fed.c) */
    ENCLAVE_REQ_TRAIN_PREPARE = 11, /* a job: config, parties, eligible records */
    ENCLAVE_REQ_FED_STEP = 12,      /* one sealed enclave-to-enclave message in, or a tick */
    ENCLAVE_REQ_PUBLISH = 13,       /* coordinator: the signed publication and the model */
    ENCLAVE_REQ_MODEL_SEAL = 14,    /* coordinator: the model sealed to a query enclave */
    /* query enclaves and the light client (issue 16) */
    ENCLAVE_REQ_CHAIN = 10,      /* the chain's genesis: the enclave becomes a light client */
    ENCLAVE_REQ_MODEL_LOAD = 15, /* a sealed model and the proof of its MODEL_PUBLISH tx */
    ENCLAVE_REQ_USAGE = 16,      /* the signed usage count of one buy */
    ENCLAVE_REQ_CHAIN_BLOCK = 17 /* a certified block for the light client (authority votes) */
} enclave_req_type_t;

/*  CHAIN_BLOCK's bounds: a block (= LEDGER_BLOCK_MAX_BYTES) and its commit certificate
 *  (= LEDGER_CERT_MAX_BYTES, ledger/ledger_block.h). */
#define ENCLAVE_WIRE_MAX_BLOCK (1024u * 1024u - 32u * 1024u)
#define ENCLAVE_WIRE_MAX_CERT (16u * 1024u)

/* ---- federated training: bounds and list views (types 11-14, answers 72-75) ---- */

/*  Parties of one job (proto_publish's PROTO_PUBLISH_PARTIES_MAX). */
#define ENCLAVE_WIRE_PARTIES_MAX 16u
/*  Data ids in one list (TRAIN_PREPARE's eligible ids, PUBLISH's donor seq list). */
#define ENCLAVE_WIRE_IDS_MAX 65536u
/*  Bytes of TRAIN_PREPARE's config (a msgpack array, enclave_kind_train_fed.c). */
#define ENCLAVE_WIRE_CONFIG_MAX 4096u
/*  Messages one FED_OUT answer carries. */
#define ENCLAVE_WIRE_FED_OUT_MAX 64u
/*  FED_STEP's `from` for a tick (the enclave reads its clock). */
#define ENCLAVE_WIRE_FED_TICK 0xFFFFFFFFu
/*  A quote MODEL_SEAL carries (proto_attest's PROTO_ATTEST_QUOTE_MAX_BYTES). */
#define ENCLAVE_WIRE_QUOTE_MAX 1024u

/*  A list of N 32-byte ids: to encode, IDS points at N ids (RAW NULL); a decoded list has
 *  RAW pointing at its first element in the decoded buffer (each a canonical msgpack bin8
 *  of 32 bytes: 2 header bytes then the id) and IDS NULL. Read with enclave_wire_ids_get. */
typedef struct {
    const uint8_t (*ids)[32];
    const uint8_t *raw;
    size_t n;
} enclave_wire_ids_t;

/*  Copies id I (< L->n) of L into OUT. */
void enclave_wire_ids_get(const enclave_wire_ids_t *l, size_t i, uint8_t out[static 32]);

/*  FED_OUT's job states. */
typedef enum {
    ENCLAVE_FED_RUNNING = 1,
    ENCLAVE_FED_DONE = 2, /* trained, evaluated and (coordinator) weighted */
    ENCLAVE_FED_FAILED = 3
} enclave_fed_state_t;

typedef struct {
    enclave_req_type_t type;
    union {
        struct {
            enclave_kind_t kind;
            uint8_t nonce[32];
            uint8_t seal_key[32]; /* the platform's seal key for this measurement */
            uint8_t chain_id[32]; /* the one chain the enclave follows for its life: its
                                     report data names it, CHAIN must be its genesis */
        } init;
        struct {
            uint32_t data_type; /* ml_datatype_t: 1 genotype, 2 phenotype */
            uint8_t salt[32];
            const uint8_t *data;
            size_t data_len;
        } validate;
        struct {
            uint32_t data_type;    /* ml_datatype_t */
            const uint8_t *sealed; /* enclave_prog_validation_seal: salt(32) || data */
            size_t sealed_len;
        } validate_sealed;
        struct {
            uint8_t spec_id[32];
            uint8_t data_id[32];
            uint8_t donor[32];
            uint8_t commitment[32]; /* the owner's registered proto_data_commit */
            const uint8_t *sealed;  /* enclave_seal_to(box pk, salt(32) || data) */
            size_t sealed_len;
        } donate;
        struct {
            uint8_t spec_id[32];
            uint8_t data_id[32]; /* the registered commitment proto_data_commit(salt, data) */
            uint8_t donor[32];
            const uint8_t *grant; /* enclave_grant_seal(box pk, spec, data, salt, key) */
            size_t grant_len;     /* <= ENCLAVE_WIRE_MAX_GRANT */
            const uint8_t *blob;  /* the owner's enclave_blob under that key */
            size_t blob_len;      /* <= ENCLAVE_WIRE_MAX_BLOB */
        } donate_keyed;
        struct {
            uint8_t data_id[32];
        } drop;
        /* query enclaves (issue 16) */
        struct {
            const uint8_t *genesis; /* ledger_genesis_canonical bytes */
            size_t genesis_len;     /* <= ENCLAVE_WIRE_MAX_BLOB */
        } chain;
        struct {
            const uint8_t *sealed; /* crypto_box_seal(box pk, [model bin, publication bin]) */
            size_t sealed_len;     /* <= ENCLAVE_WIRE_MAX_BLOB */
            const uint8_t *proof;  /* inclusion proof of the MODEL_PUBLISH tx */
            size_t proof_len;      /* <= ENCLAVE_WIRE_MAX_PROOF */
        } model_load;
        struct {
            uint8_t model_id[32];     /* txid of the MODEL_PUBLISH tx */
            const uint8_t *buy_proof; /* inclusion proof of the QUERY_BUY tx; may be empty */
            size_t buy_proof_len;     /* 0 .. ENCLAVE_WIRE_MAX_PROOF */
            uint8_t buy_id[32];       /* txid of the QUERY_BUY tx */
            const uint8_t *sealed;    /* enclave_prog_query_seal: reply key, code, rows */
            size_t sealed_len;        /* <= ENCLAVE_WIRE_MAX_BLOB */
        } query;
        /* ---- federated training ---- */
        struct enclave_req_train_prepare {
            uint8_t job_id[32];
            uint8_t spec_id[32];
            const uint8_t *config; /* <= ENCLAVE_WIRE_CONFIG_MAX bytes */
            size_t config_len;
            uint32_t party;   /* this enclave's index among the parties */
            size_t n_parties; /* 1..ENCLAVE_WIRE_PARTIES_MAX */
            uint8_t sign_pk[ENCLAVE_WIRE_PARTIES_MAX][32]; /* each party's enclave keys */
            uint8_t box_pk[ENCLAVE_WIRE_PARTIES_MAX][32];
            uint32_t coordinator;          /* the aggregation party's index */
            enclave_wire_ids_t eligible;   /* data ids that may be used (<= IDS_MAX) */
            uint8_t query_measurement[32]; /* MODEL_SEAL's wanted measurement */
            uint8_t attest_pk[32];         /* the attestation service's key (genesis) */
        } train_prepare;
        struct {
            uint8_t job_id[32];
            uint32_t from;      /* a party index, or ENCLAVE_WIRE_FED_TICK */
            const uint8_t *msg; /* a sealed message (empty for a tick) */
            size_t msg_len;     /* <= ENCLAVE_WIRE_MAX_BLOB */
        } fed_step;
        struct {
            uint8_t job_id[32];
            enclave_wire_ids_t donors; /* the spec's donors' data ids in donor seq order */
        } publish;
        struct {
            uint8_t job_id[32];
            const uint8_t *quote; /* an encoded proto_attest quote, <= ENCLAVE_WIRE_QUOTE_MAX */
            size_t quote_len;
        } model_seal;
        struct {
            uint8_t buy_id[32];
        } usage;
        /* CHAIN_BLOCK: HEIGHT 0 with no block and no cert asks the light height only;
           otherwise BLOCK (1..ENCLAVE_WIRE_MAX_BLOCK bytes) is the committed block at
           HEIGHT, CERT (1..ENCLAVE_WIRE_MAX_CERT) its commit certificate, and AFTER the
           light height the host believes the enclave has (the last block it fed) */
        struct enclave_req_chain_block {
            uint64_t after;
            uint64_t height;
            const uint8_t *block;
            size_t block_len;
            const uint8_t *cert;
            size_t cert_len;
        } chain_block;
    } u;
} enclave_req_t;

typedef enum {
    ENCLAVE_ANS_ERROR = 64, /* a refusal: code and message */
    ENCLAVE_ANS_INIT = 65,  /* the report body */
    ENCLAVE_ANS_PONG = 66,
    ENCLAVE_ANS_REPORT = 67,  /* an encoded signed validation report */
    ENCLAVE_ANS_RECEIPT = 68, /* an encoded signed donation receipt */
    ENCLAVE_ANS_STATS = 69,
    ENCLAVE_ANS_DROPPED = 70,
    ENCLAVE_ANS_QUERY = 71, /* the result sealed to the asker's reply key */
    /* federated training */
    ENCLAVE_ANS_PREPARED = 72,     /* TRAIN_PREPARE: counts */
    ENCLAVE_ANS_FED_OUT = 73,      /* FED_STEP: state, round, sealed messages to relay */
    ENCLAVE_ANS_PUBLICATION = 74,  /* PUBLISH: the signed proto_publish (model field empty) */
    ENCLAVE_ANS_SEALED_MODEL = 75, /* MODEL_SEAL: crypto_box_seal([model, publication]) */
    /* query enclaves and the light client (issue 16) */
    ENCLAVE_ANS_CHAIN = 76,  /* the chain id the enclave follows */
    ENCLAVE_ANS_LOADED = 77, /* a model loaded: its id and hash */
    ENCLAVE_ANS_USAGE = 78,  /* an encoded signed proto_usage */
    ENCLAVE_ANS_LIGHT = 79   /* CHAIN_BLOCK: the light client's height */
} enclave_ans_type_t;

typedef struct {
    enclave_ans_type_t type;
    union {
        struct {
            int code;                           /* a negative genie error code */
            char msg[ENCLAVE_WIRE_MAX_MSG + 1]; /* NUL-terminated */
        } error;
        struct {
            uint8_t sign_pk[32];
            uint8_t box_pk[32];
            uint8_t report_data[64];
            uint8_t nonce[32];
        } init;
        struct {
            const uint8_t *bytes; /* encoded report or receipt, or sealed query result */
            size_t len;
        } blob; /* REPORT, RECEIPT, QUERY, SEALED_MODEL, USAGE */
        struct {
            uint64_t donations;
            uint64_t bytes;
        } stats;
        struct {
            bool found;
        } dropped;
        /* ---- federated training ---- */
        struct {
            uint32_t n_records; /* eligible data ids held and used for samples */
            uint32_t n_train;   /* samples */
            uint32_t n_test;
            uint32_t dropped; /* donations of the spec wiped: not eligible */
        } prepared;
        struct {
            uint32_t state; /* enclave_fed_state_t */
            uint32_t round; /* ml_fed round in progress (rounds + 1 once trained) */
            size_t n_out;   /* <= ENCLAVE_WIRE_FED_OUT_MAX */
            struct {
                uint32_t to;        /* party index */
                const uint8_t *msg; /* sealed to that party */
                size_t len;
            } out[ENCLAVE_WIRE_FED_OUT_MAX];
        } fed_out;
        struct {
            const uint8_t *publication; /* encoded signed proto_publish */
            size_t publication_len;
            const uint8_t *model; /* empty from genie-enclave: the weights go only sealed
                                     to query enclaves (MODEL_SEAL); the field stays for
                                     the wire's shape */
            size_t model_len;
        } publication;
        /* query enclaves (issue 16) */
        struct {
            uint8_t chain_id[32];
        } chain;
        struct {
            uint8_t model_id[32];
            uint8_t model_hash[32];
        } loaded;
        struct {
            uint64_t height; /* the last block fed (0: none) */
        } light;
    } u;
} enclave_ans_t;

/*  Encode a request / an answer as one msgpack array (without the frame prefix).
 *  *OUT is malloc'd (caller frees; it may hold a seal key: wipe it first, as
 *  enclave_wire_send_free does). 0, PROTO_E_INVALID for a bad field (unknown type, oversize
 *  byte field, error code not negative), or PROTO_E_NOMEM. */
int enclave_wire_req_encode(const enclave_req_t *req, uint8_t **out, size_t *out_len) PROTO_WUR;
int enclave_wire_ans_encode(const enclave_ans_t *ans, uint8_t **out, size_t *out_len) PROTO_WUR;

/*  Strict decoders. On success *OUT's byte views point into BUF. On failure *OUT is zeroed
 *  and the result is a proto_err_t: PROTO_E_VERSION, PROTO_E_UNKNOWN_TYPE, PROTO_E_ARITY,
 *  PROTO_E_TYPE, PROTO_E_TOO_LONG, PROTO_E_RANGE, PROTO_E_TRUNCATED, PROTO_E_TRAILING,
 *  PROTO_E_NONCANONICAL, PROTO_E_TOO_BIG, PROTO_E_INVALID. */
int enclave_wire_req_decode(const uint8_t *buf, size_t len, enclave_req_t *out) PROTO_WUR;
/*  True if a request of type T may come from outside the host (through a runner's relay):
 *  it carries its data sealed to the enclave's key, or no data at all. False for INIT (the
 *  host's own), the plaintext VALIDATE, and CHAIN (the genesis decides which chain the
 *  enclave believes: the host's own too). */
bool enclave_wire_req_relayable(enclave_req_type_t t);
int enclave_wire_ans_decode(const uint8_t *buf, size_t len, enclave_ans_t *out) PROTO_WUR;

/*  Writes one frame (length prefix + LEN bytes) to FD, retrying on EINTR and short writes.
 *  0, PROTO_E_TOO_BIG (LEN > ENCLAVE_WIRE_MAX_FRAME) or PROTO_E_IO (peer gone: the socket
 *  is written with send(MSG_NOSIGNAL), so that is EPIPE, never a SIGPIPE). */
int enclave_wire_send(int fd, const uint8_t *buf, size_t len) PROTO_WUR;
/*  As enclave_wire_send, then wipes and frees *BUF_P (LEN bytes) and sets it to NULL,
 *  whatever the result. */
int enclave_wire_send_free(int fd, uint8_t **buf_p, size_t len) PROTO_WUR;

/*  Reads one frame from FD. *OUT (malloc'd, caller frees) gets the payload, *OUT_LEN its
 *  length. TIMEOUT_MS < 0 blocks; otherwise the whole frame must arrive within it (poll).
 *  0, PROTO_E_IO (read error, or the peer closed; *OUT_LEN is then 0 if it closed cleanly
 *  between frames, nonzero if inside one), PROTO_E_TOO_BIG (declared length over
 * ENCLAVE_WIRE_MAX_FRAME: nothing allocated; the stream is then out of sync and must be closed),
 * ENCLAVE_E_TIMEOUT, or PROTO_E_NOMEM. */
int enclave_wire_recv(int fd, int timeout_ms, uint8_t **out, size_t *out_len) PROTO_WUR;

#endif
