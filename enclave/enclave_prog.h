/*  enclave_prog: the genie-enclave program's request loop, and the sender-side helpers that
 *  build what a data owner or a model user seals to an enclave.
 *
 *  enclave_prog_run() is what genie-enclave (enclave/bin/main_enclave.c) runs once it has
 *  checked its fds and locked itself down (enclave_sandbox.h). It makes the enclave's key
 *  pairs (Ed25519 signing, X25519 box) in sodium_malloc memory, answers the host's INIT
 *  with its report body, then serves requests until the host closes the socket, and wipes
 *  every secret and every held donation before it returns. The kind decides which requests
 *  are served (validation: VALIDATE, VALIDATE_SEALED; training: DONATE, DONATE_KEYED, STATS,
 *  DROP; query: MODEL_LOAD, QUERY, USAGE; every kind: PING and CHAIN); any other request, or
 *  a malformed one, gets an ERROR answer.
 *
 *  Sealed payloads (sealed with enclave_seal_to, enclave_seal.h, to the enclave's box key):
 *    validation context "genie/validate/1" || data type (1 byte); plaintext salt (32) || data
 *    donation  context enclave_seal_donation_context(spec id, data id);
 *              plaintext salt (32) || data
 *    query     context "genie/query/2" || model id (32) || buy id (32); plaintext the
 *              msgpack array [reply box pk bin32, access code bin32, rows [[float64 ...]
 *              ...]] (1..ENCLAVE_QUERY_MAX_ROWS rows of the model's p features each)
 *    result    sealed to the reply box pk, context "genie/query-result/2" || model id ||
 *              buy id; plaintext the msgpack array [used uint, count uint, predictions
 *              [float64 ...]] (one per row; used: rows served for the buy so far, this
 *              query's included; count: rows the buy paid for)
 *    model     libsodium crypto_box_seal to the box pk (what a training enclave's MODEL_SEAL
 *              answers); plaintext the msgpack array [model bin (ml_model_encode),
 *              publication bin (proto_publish_encode)]
 *  Every float64 is msgpack's 0xcb form (never shortened), finite. The reply key travels
 *  inside the sealed query, so a runner relaying it cannot swap in its own key and read the
 *  result; the contexts bind a sealed query and its result to one model and one buy.
 */
#ifndef GENIE_ENCLAVE_PROG_H
#define GENIE_ENCLAVE_PROG_H

#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_wire.h"
#include "proto/proto_err.h"

/* Bounds of the query kind: rows per QUERY, models and buys one enclave holds. */
#define ENCLAVE_QUERY_MAX_ROWS 1024u
#define ENCLAVE_QUERY_MAX_MODELS 8u
#define ENCLAVE_QUERY_MAX_BUYS 65536u
/* Bounds on what one training enclave holds in memory. */
#define ENCLAVE_TRAIN_MAX_DONATIONS 4096
#define ENCLAVE_TRAIN_MAX_BYTES (64u * 1024u * 1024u)

typedef struct enclave_prog_t enclave_prog_t;

/*  The enclave's protocol core, without I/O (what enclave_prog_run drives over its socket,
 *  and what the fuzz harness drives directly): a new enclave of KIND with fresh key pairs
 *  in sodium_malloc memory. NULL on a bad kind or out of memory. */
enclave_prog_t *enclave_prog_new(enclave_kind_t kind);
/*  Wipes the keys and every held donation, frees; tolerates NULL; sets *self_p to NULL. */
void enclave_prog_destroy(enclave_prog_t **self_p);
/*  Handles one request frame REQ (LEN bytes, borrowed; the caller wipes it) and makes the
 *  answer frame *OUT (malloc'd, *OUT_LEN bytes; the caller sends it, then wipes and frees
 *  it). Every request gets an answer, refusals included (an ERROR answer), so the result
 *  is 0, or PROTO_E_NOMEM when no answer could be made. */
int enclave_prog_handle(enclave_prog_t *self, const uint8_t *req, size_t len, uint8_t **out,
                        size_t *out_len) PROTO_WUR;

/*  Serves the host on FD as an enclave of KIND until the host closes the socket.
 *  Call it after enclave_sandbox_apply(). Returns 0 after a clean close, or a negative code
 *  (PROTO_E_IO / PROTO_E_TOO_BIG: the stream broke; PROTO_E_NOMEM) after which the process
 *  should exit non-zero. Never returns secrets or data through the socket. */
int enclave_prog_run(int fd, enclave_kind_t kind);

/*  Sender side of a donation: seals SALT || DATA (LEN bytes) to the enclave box key BOX_PK
 *  for (SPEC_ID, DATA_ID). *OUT is malloc'd (caller frees), *OUT_LEN its length.
 *  0, PROTO_E_TOO_BIG, PROTO_E_CRYPTO or PROTO_E_NOMEM. */
int enclave_prog_donation_seal(const uint8_t box_pk[static 32], const uint8_t spec_id[static 32],
                               const uint8_t data_id[static 32], const uint8_t salt[static 32],
                               const uint8_t *data, size_t len, uint8_t **out,
                               size_t *out_len) PROTO_WUR;

/*  Data owner's side of a sealed validation (VALIDATE_SEALED): seals SALT || DATA (LEN
 *  bytes) to the validation enclave's box key BOX_PK under the context of DATA_TYPE
 *  ("genie/validate/1" || data type). *OUT is malloc'd (caller frees), *OUT_LEN its
 *  length. 0, PROTO_E_TOO_BIG, PROTO_E_CRYPTO or PROTO_E_NOMEM. */
int enclave_prog_validation_seal(const uint8_t box_pk[static 32], uint32_t data_type,
                                 const uint8_t salt[static 32], const uint8_t *data, size_t len,
                                 uint8_t **out, size_t *out_len) PROTO_WUR;

/*  Sender side of a query: seals [REPLY_PK, ACCESS_CODE, rows] to the query enclave's box
 *  key BOX_PK under the context of (MODEL_ID, BUY_ID). ROWS holds N_ROWS x N_COLS doubles,
 *  row-major (1 <= N_ROWS <= ENCLAVE_QUERY_MAX_ROWS, N_COLS >= 1, every value finite).
 *  *OUT is malloc'd (caller wipes and frees: it is ciphertext, but the habit is cheap),
 *  *OUT_LEN its length. 0, PROTO_E_RANGE (a row count, width or value out of bounds),
 *  PROTO_E_TOO_BIG, PROTO_E_CRYPTO or PROTO_E_NOMEM. */
int enclave_prog_query_seal(const uint8_t box_pk[static 32], const uint8_t model_id[static 32],
                            const uint8_t buy_id[static 32], const uint8_t reply_pk[static 32],
                            const uint8_t access_code[static 32], const double *rows, size_t n_rows,
                            size_t n_cols, uint8_t **out, size_t *out_len) PROTO_WUR;

/*  Opens a query result (the blob of an ENCLAVE_ANS_QUERY answer) with the asker's reply
 *  box key pair, for (MODEL_ID, BUY_ID). The predictions go to OUT (room for CAP values),
 *  *N their count; *USED and *COUNT (either may be NULL) the buy's rows served so far and
 *  paid for. 0, or PROTO_E_DECRYPT (another key, model or buy, or tampered bytes),
 *  PROTO_E_TRUNCATED, PROTO_E_TOO_LONG (more than CAP predictions), or a reader error. */
int enclave_prog_query_open(const uint8_t reply_pk[static 32], const uint8_t reply_sk[static 32],
                            const uint8_t model_id[static 32], const uint8_t buy_id[static 32],
                            const uint8_t *sealed, size_t len, double *out, size_t cap, size_t *n,
                            uint64_t *used, uint64_t *count) PROTO_WUR;

/*  The sealed model a query enclave's MODEL_LOAD takes: crypto_box_seal to BOX_PK of
 *  [MODEL bin, PUBLICATION bin] (what a training enclave's MODEL_SEAL makes; for tests,
 *  benchmarks and tools). *OUT malloc'd (caller frees), *OUT_LEN its length. 0,
 *  PROTO_E_TOO_BIG, PROTO_E_CRYPTO or PROTO_E_NOMEM. */
int enclave_prog_model_seal(const uint8_t box_pk[static 32], const uint8_t *model, size_t model_len,
                            const uint8_t *publication, size_t publication_len, uint8_t **out,
                            size_t *out_len) PROTO_WUR;

#endif
