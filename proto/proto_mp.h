/*  proto_mp: strict, bounded msgpack reading and canonical msgpack writing.
 *
 *  Writing uses msgpack-c's packer, which always picks the shortest encoding, so the bytes
 *  of a fixed-order array are canonical and can be signed.
 *
 *  Reading is a zero-allocation pull parser over a caller's buffer. Each call reads one
 *  value of an expected type with an explicit limit; nothing is allocated from a length a
 *  peer declared, so a 5-byte message claiming a 4-billion-element array costs nothing.
 *  Non-shortest encodings are rejected (PROTO_E_NONCANONICAL) so that decode(encode(x))
 *  and encode(decode(b)) are both identities. The first error sticks: later calls return
 *  it too, so a decoder can read a whole struct and check once (but every call also
 *  returns its own result, and decoders are warned to check).
 */
#ifndef GENIE_PROTO_MP_H
#define GENIE_PROTO_MP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto_err.h"

/* ---- reader ---- */
typedef struct {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    int err; /* first error, PROTO_OK while none */
} proto_rd_t;

void proto_rd_init(proto_rd_t *r, const void *buf, size_t len);

/*  Array header with exactly N elements (else PROTO_E_ARITY). */
int proto_rd_array_exact(proto_rd_t *r, uint32_t n) PROTO_WUR;
/*  Array header with at most MAX elements; count in *n. */
int proto_rd_array_max(proto_rd_t *r, uint32_t max, uint32_t *n) PROTO_WUR;
/*  Unsigned integer no greater than MAX (else PROTO_E_RANGE). */
int proto_rd_uint(proto_rd_t *r, uint64_t max, uint64_t *v) PROTO_WUR;
int proto_rd_bool(proto_rd_t *r, bool *v) PROTO_WUR;
/*  A float64 (tag 0xcb and 8 big-endian bytes: the only float form genie's formats use)
 *  that is finite (NaN and infinities: PROTO_E_RANGE). */
int proto_rd_f64(proto_rd_t *r, double *v) PROTO_WUR;
int proto_rd_nil(proto_rd_t *r) PROTO_WUR;
/*  True if the next value is nil (does not consume it). */
bool proto_rd_peek_nil(const proto_rd_t *r);
/*  Binary value of at most MAX bytes; *p points into the reader's buffer. */
int proto_rd_bin(proto_rd_t *r, size_t max, const uint8_t **p, size_t *len) PROTO_WUR;
/*  Binary value of exactly N bytes, copied to OUT. */
int proto_rd_bin_exact(proto_rd_t *r, size_t n, uint8_t *out) PROTO_WUR;
/*  String of at most MAX bytes, valid UTF-8 without NUL; *p points into the buffer
 *  (not NUL-terminated). */
int proto_rd_str(proto_rd_t *r, size_t max, const char **p, size_t *len) PROTO_WUR;
/*  String copied NUL-terminated into OUT of CAP bytes (max length CAP-1). */
int proto_rd_str_copy(proto_rd_t *r, char *out, size_t cap) PROTO_WUR;
/*  Skips one whole value of any type, at most DEPTH levels of nesting. */
int proto_rd_skip(proto_rd_t *r, int depth) PROTO_WUR;
/*  PROTO_OK if the whole buffer was consumed without error, else the error
 *  (PROTO_E_TRAILING if bytes are left). */
int proto_rd_finish(proto_rd_t *r) PROTO_WUR;

/* ---- writer ---- */
typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    int err;
} proto_wr_t;

void proto_wr_init(proto_wr_t *w);
void proto_wr_array(proto_wr_t *w, uint32_t n);
void proto_wr_uint(proto_wr_t *w, uint64_t v);
void proto_wr_bool(proto_wr_t *w, bool v);
/*  A float64 (0xcb, never shortened to float32). */
void proto_wr_f64(proto_wr_t *w, double v);
void proto_wr_nil(proto_wr_t *w);
/*  bin/str longer than UINT32_MAX bytes (msgpack's limit) set the error PROTO_E_TOO_LONG. */
void proto_wr_bin(proto_wr_t *w, const void *p, size_t n);
void proto_wr_str(proto_wr_t *w, const char *s, size_t n);
/*  Appends bytes that already are one encoded msgpack value. */
void proto_wr_raw(proto_wr_t *w, const void *p, size_t n);
/*  Bytes written so far (owned by W), or NULL after an error. */
const uint8_t *proto_wr_data(const proto_wr_t *w, size_t *len);
/*  Hands the buffer to the caller (free() it); W is left empty. NULL after an error. */
uint8_t *proto_wr_take(proto_wr_t *w, size_t *len);
/*  Frees the buffer (wiping it first, since it may hold key material). */
void proto_wr_free(proto_wr_t *w);

#endif
