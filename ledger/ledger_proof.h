/*  ledger_proof: the inclusion proof of a committed tx, its strict codec.
 *
 *  proof = [1 (version), header bin, cert bin, tx bin, index uint, n_txs uint,
 *           path [bin32 ...]]                         (fixed-order msgpack array of 7)
 *    header  the block's encoded header (ledger_header_write), at most
 *            LEDGER_PROOF_HEADER_MAX bytes
 *    cert    the block's commit certificate as stored (ledger_cert_encode), 1..LEDGER_CERT_MAX
 *    tx      the tx bytes, 1..LEDGER_TX_MAX_BYTES
 *    index   the tx's position in the block, < n_txs
 *    n_txs   the block's tx count, 1..LEDGER_BLOCK_MAX_TXS
 *    path    the Merkle audit path of leaf index (ledger_merkle.h), at most
 *            LEDGER_MERKLE_DEPTH_MAX hashes
 *  At most LEDGER_PROOF_MAX_BYTES in all (a largest tx with a largest real certificate,
 *  4,404 bytes, and a path of 14 hashes fits). Decoding is strict (proto_mp: shortest
 *  encodings, exact arity, nothing after the array) and only structural: what the fields
 *  mean is checked by ledger_light_verify_tx. Made by ledger_store_tx_proof (ledger_store.h).
 *  Pure code (the enclave's light client decodes proofs).
 */
#ifndef GENIE_LEDGER_PROOF_H
#define GENIE_LEDGER_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/ledger_merkle.h"
#include "proto/proto_err.h"

#define LEDGER_PROOF_VERSION 1
#define LEDGER_PROOF_MAX_BYTES (72 * 1024)
#define LEDGER_PROOF_HEADER_MAX 256

typedef struct {
    const uint8_t *header; /* borrowed: the encoder's input or a view into the decoded buffer */
    size_t header_len;
    const uint8_t *cert; /* borrowed, likewise */
    size_t cert_len;
    const uint8_t *tx; /* borrowed, likewise */
    size_t tx_len;
    uint32_t index;
    uint32_t n_txs;
    size_t depth;
    uint8_t path[LEDGER_MERKLE_DEPTH_MAX][32];
} ledger_proof_t;

/*  Encodes P into a new buffer *OUT (caller frees), *LEN. LEDGER_OK, LEDGER_E_TOO_BIG (a
 *  field over its bound or the whole over LEDGER_PROOF_MAX_BYTES), LEDGER_E_INVALID (index
 *  not below n_txs, an empty field), LEDGER_E_NOMEM. */
int ledger_proof_encode(const ledger_proof_t *p, uint8_t **out, size_t *len) PROTO_WUR;

/*  Decodes BUF (LEN bytes) into OUT, whose pointers then point into BUF. OUT is zeroed
 *  on error. PROTO_OK, PROTO_E_TOO_BIG over LEDGER_PROOF_MAX_BYTES, PROTO_E_VERSION for a
 *  version other than 1, PROTO_E_RANGE for n_txs out of range or an index not below it,
 *  PROTO_E_INVALID for an empty cert or tx, or the reader's error (PROTO_E_TOO_LONG for a
 *  field over its bound, PROTO_E_TYPE, PROTO_E_ARITY, PROTO_E_TRAILING, ...). */
int ledger_proof_decode(const uint8_t *buf, size_t len, ledger_proof_t *out) PROTO_WUR;

#endif
