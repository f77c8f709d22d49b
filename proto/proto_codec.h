/*  proto_codec: internal helpers the fixed-order msgpack formats share (certificates and
 *  quotes in proto_attest.c, reports and receipts in proto_report.c, recruitment posts in
 *  proto_recruit.c): encode one object into a new buffer, decode one whole object from a
 *  bounded buffer, read a format's array header and version, hash a signed part under its
 *  domain, and check a text field. Included only by those .c files. */
#ifndef GENIE_PROTO_CODEC_H
#define GENIE_PROTO_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/proto_key.h"
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

/* Hashes the signed part W wrote under DOMAIN into OUT, then frees W. Returns PROTO_OK, or
   PROTO_E_NOMEM when W failed (OUT zeroed: a hash nothing signs). */
static inline int proto_codec_hash(proto_wr_t *w, const char *domain, uint8_t out[static 32])
{
    size_t len;
    const uint8_t *data = proto_wr_data(w, &len);
    int rc = PROTO_OK;
    if (data) {
        proto_hash(domain, data, len, out);
    } else {
        memset(out, 0, 32);
        rc = PROTO_E_NOMEM;
    }
    proto_wr_free(w);
    return rc;
}

/* True if S (LEN bytes) holds no ASCII control character (below 0x20, or 0x7f). */
static inline bool proto_codec_no_controls(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* True if S (LEN bytes, at most MAX) is valid UTF-8 by the proto reader's own rule: written
   as a string, then read back with a bound of MAX. False also when the writer fails. */
static inline bool proto_codec_utf8_ok(const char *s, size_t len, size_t max)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_str(&w, s, len);
    size_t n;
    const uint8_t *p = proto_wr_data(&w, &n);
    bool ok = false;
    if (p) {
        proto_rd_t rd;
        const char *q;
        size_t qlen;
        proto_rd_init(&rd, p, n);
        ok = proto_rd_str(&rd, max, &q, &qlen) == PROTO_OK && proto_rd_finish(&rd) == PROTO_OK;
    }
    proto_wr_free(&w);
    return ok;
}

#endif
