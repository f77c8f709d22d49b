/*  proto_codec: internal helpers the fixed-order msgpack formats share (certificates and
 *  quotes in proto_attest.c, reports and receipts in proto_report.c, recruitment posts in
 *  proto_recruit.c): encode one object into a new buffer, decode one whole object from a
 *  bounded buffer, and read a format's array header and version. Included only by those .c
 *  files. */
#ifndef GENIE_PROTO_CODEC_H
#define GENIE_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/proto_mp.h"

/* Writes OBJ with WRITE_FN into a new buffer *OUT of *LEN bytes (the caller frees it).
   Returns PROTO_OK or PROTO_E_NOMEM (*OUT NULL). */
static inline int proto_codec_encode(void (*write_fn)(proto_wr_t *, const void *), const void *obj,
                                     uint8_t **out, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    write_fn(&w, obj);
    *out = proto_wr_take(&w, len);
    proto_wr_free(&w);
    return *out ? PROTO_OK : PROTO_E_NOMEM;
}

/* Decodes exactly one object from BUF (LEN <= MAX_LEN, else PROTO_E_TOO_BIG) with READ_FN
   into OUT (SIZE bytes); nothing may follow it. OUT is zeroed on any error. */
PROTO_WUR static inline int proto_codec_decode(int (*read_fn)(proto_rd_t *, void *),
                                               const uint8_t *buf, size_t len, size_t max_len,
                                               void *out, size_t size)
{
    proto_rd_t rd;
    memset(out, 0, size);
    if (len > max_len)
        return PROTO_E_TOO_BIG;
    proto_rd_init(&rd, buf, len);
    int rc = read_fn(&rd, out);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&rd);
    if (rc != PROTO_OK)
        memset(out, 0, size);
    return rc;
}

/* Reads an array header of exactly N elements and a version that must be WANT
   (PROTO_E_VERSION otherwise); returns the reader's (sticky) error. */
PROTO_WUR static inline int proto_codec_read_head(proto_rd_t *rd, uint32_t n, uint64_t want)
{
    uint64_t version;
    if (proto_rd_array_exact(rd, n) || proto_rd_uint(rd, UINT32_MAX, &version))
        return rd->err;
    if (version != want)
        rd->err = PROTO_E_VERSION;
    return rd->err;
}

/* The error exit of a format's reader: zeroes OUT (SIZE bytes) and returns the reader's
   error, PROTO_E_INVALID when the reader itself saw none. */
static inline int proto_codec_fail(const proto_rd_t *rd, void *out, size_t size)
{
    memset(out, 0, size);
    return rd->err ? rd->err : PROTO_E_INVALID;
}

#endif
