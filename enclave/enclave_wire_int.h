/*  enclave_wire_int: what enclave_wire.c shares with its two parts, enclave_wire_train.c
 *  (federated training: requests 11-14, answers 72-75) and enclave_wire_query.c (query
 *  enclaves: requests 10, 15, 16, answers 76-78). Not for use outside enclave_wire*.c.
 *
 *  Each part answers for its own message types only: an arity of 0, a false from a fields
 *  writer, PROTO_E_UNKNOWN_TYPE from a body reader mean "not one of mine". The body readers
 *  are called after the head and the arity were checked; a run of reads is checked once
 *  (the reader's first error sticks).
 */
#ifndef GENIE_ENCLAVE_WIRE_INT_H
#define GENIE_ENCLAVE_WIRE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enclave/enclave_wire.h"
#include "proto/proto_mp.h"

/*  True when a caller's variable-length field is too long or missing its bytes. */
bool enclave_wire_bad_bytes(const uint8_t *bytes, size_t len, size_t max);

/* ---- federated training (enclave_wire_train.c) ---- */

/*  The element count (version and type included) of a training message; 0 if not one. */
uint32_t enclave_wire_req_arity_train(enclave_req_type_t type);
uint32_t enclave_wire_ans_arity_train(enclave_ans_type_t type);
/*  Writes the fields after the head; false when not encodable (or not a training type). */
bool enclave_wire_req_fields_train(proto_wr_t *w, const enclave_req_t *req);
bool enclave_wire_ans_fields_train(proto_wr_t *w, const enclave_ans_t *ans);
/*  Reads the fields after the head into OUT (OUT->type set). PROTO_OK or a proto_err_t. */
int enclave_wire_req_body_train(proto_rd_t *r, enclave_req_t *out) PROTO_WUR;
int enclave_wire_ans_body_train(proto_rd_t *r, enclave_ans_t *out) PROTO_WUR;

/* ---- query enclaves (enclave_wire_query.c) ---- */

uint32_t enclave_wire_req_arity_query(enclave_req_type_t type);
uint32_t enclave_wire_ans_arity_query(enclave_ans_type_t type);
bool enclave_wire_req_fields_query(proto_wr_t *w, const enclave_req_t *req);
bool enclave_wire_ans_fields_query(proto_wr_t *w, const enclave_ans_t *ans);
int enclave_wire_req_body_query(proto_rd_t *r, enclave_req_t *out) PROTO_WUR;
int enclave_wire_ans_body_query(proto_rd_t *r, enclave_ans_t *out) PROTO_WUR;
/*  True for the query requests another host may relay (MODEL_LOAD, USAGE). */
bool enclave_wire_req_relayable_query(enclave_req_type_t t);

#endif
