/*  proto_mp: strict bounded msgpack reader and canonical writer (see proto_mp.h).
 *
 *  The reader never allocates and never trusts a declared length: every length is
 *  compared with the caller's limit and with the bytes actually left before use.
 */
#include "proto/proto_mp.h"

#include <sodium.h>
#include <math.h>
#include <string.h>

/* ---- reader ---- */

void proto_rd_init(proto_rd_t *r, const void *buf, size_t len)
{
    r->buf = buf;
    r->len = buf ? len : 0;
    r->pos = 0;
    r->err = PROTO_OK;
}

static int s_fail(proto_rd_t *r, int err)
{
    if (r->err == PROTO_OK)
        r->err = err;
    return r->err;
}

static size_t s_left(const proto_rd_t *r)
{
    return r->len - r->pos;
}

/* Reads an N-byte big-endian unsigned integer. */
static int s_be(proto_rd_t *r, int n, uint64_t *v)
{
    if (s_left(r) < (size_t)n)
        return s_fail(r, PROTO_E_TRUNCATED);
    uint64_t x = 0;
    for (int i = 0; i < n; i++)
        x = x << 8 | r->buf[r->pos + (size_t)i];
    r->pos += (size_t)n;
    *v = x;
    return PROTO_OK;
}

static int s_byte(proto_rd_t *r, uint8_t *b)
{
    if (r->err)
        return r->err;
    if (s_left(r) < 1)
        return s_fail(r, PROTO_E_TRUNCATED);
    *b = r->buf[r->pos++];
    return PROTO_OK;
}

/* Array header: count in *n, shortest form enforced. */
static int s_array_header(proto_rd_t *r, uint64_t *n)
{
    uint8_t b;
    int rc = s_byte(r, &b);
    if (rc)
        return rc;
    if (b >= 0x90 && b <= 0x9f) {
        *n = b & 0x0f;
        return PROTO_OK;
    }
    if (b == 0xdc) {
        if ((rc = s_be(r, 2, n)))
            return rc;
        return *n < 16 ? s_fail(r, PROTO_E_NONCANONICAL) : PROTO_OK;
    }
    if (b == 0xdd) {
        if ((rc = s_be(r, 4, n)))
            return rc;
        return *n < 65536 ? s_fail(r, PROTO_E_NONCANONICAL) : PROTO_OK;
    }
    r->pos--;
    return s_fail(r, PROTO_E_TYPE);
}

int proto_rd_array_exact(proto_rd_t *r, uint32_t n)
{
    uint64_t got;
    int rc = s_array_header(r, &got);
    if (rc)
        return rc;
    return got != n ? s_fail(r, PROTO_E_ARITY) : PROTO_OK;
}

int proto_rd_array_max(proto_rd_t *r, uint32_t max, uint32_t *n)
{
    uint64_t got;
    int rc = s_array_header(r, &got);
    if (rc)
        return rc;
    if (got > max)
        return s_fail(r, PROTO_E_TOO_LONG);
    /* Every element takes at least one byte: a count beyond what is left is a lie. */
    if (got > s_left(r))
        return s_fail(r, PROTO_E_TRUNCATED);
    *n = (uint32_t)got;
    return PROTO_OK;
}

int proto_rd_uint(proto_rd_t *r, uint64_t max, uint64_t *v)
{
    uint8_t b;
    uint64_t x;
    int rc = s_byte(r, &b);
    if (rc)
        return rc;
    if (b <= 0x7f) {
        x = b;
    } else if (b >= 0xcc && b <= 0xcf) {
        static const int widths[] = {1, 2, 4, 8};
        static const uint64_t mins[] = {0x80, 0x100, 0x10000, 0x100000000ull};
        int i = b - 0xcc;
        if ((rc = s_be(r, widths[i], &x)))
            return rc;
        if (x < mins[i])
            return s_fail(r, PROTO_E_NONCANONICAL);
    } else {
        r->pos--;
        return s_fail(r, PROTO_E_TYPE);
    }
    if (x > max)
        return s_fail(r, PROTO_E_RANGE);
    *v = x;
    return PROTO_OK;
}

int proto_rd_bool(proto_rd_t *r, bool *v)
{
    uint8_t b;
    int rc = s_byte(r, &b);
    if (rc)
        return rc;
    if (b != 0xc2 && b != 0xc3) {
        r->pos--;
        return s_fail(r, PROTO_E_TYPE);
    }
    *v = b == 0xc3;
    return PROTO_OK;
}

int proto_rd_f64(proto_rd_t *r, double *v)
{
    if (r->err)
        return r->err;
    if (s_left(r) == 0)
        return s_fail(r, PROTO_E_TRUNCATED);
    if (r->buf[r->pos] != 0xcb)
        return s_fail(r, PROTO_E_TYPE);
    if (s_left(r) < 9)
        return s_fail(r, PROTO_E_TRUNCATED);
    uint64_t u = 0;
    for (size_t i = 1; i <= 8; i++)
        u = u << 8 | r->buf[r->pos + i];
    double d;
    memcpy(&d, &u, sizeof d);
    if (!isfinite(d))
        return s_fail(r, PROTO_E_RANGE);
    r->pos += 9;
    *v = d;
    return PROTO_OK;
}

int proto_rd_nil(proto_rd_t *r)
{
    uint8_t b;
    int rc = s_byte(r, &b);
    if (rc)
        return rc;
    if (b != 0xc0) {
        r->pos--;
        return s_fail(r, PROTO_E_TYPE);
    }
    return PROTO_OK;
}

bool proto_rd_peek_nil(const proto_rd_t *r)
{
    return r->err == PROTO_OK && s_left(r) >= 1 && r->buf[r->pos] == 0xc0;
}

/* Header of a str (is_str) or bin value: length in *n, shortest form enforced. */
static int s_blob_header(proto_rd_t *r, bool is_str, uint64_t *n)
{
    uint8_t b;
    int rc = s_byte(r, &b);
    if (rc)
        return rc;
    int width = 0;
    if (is_str && b >= 0xa0 && b <= 0xbf) {
        *n = b & 0x1f;
        return PROTO_OK;
    }
    if (is_str && b >= 0xd9 && b <= 0xdb)
        width = 1 << (b - 0xd9);
    else if (!is_str && b >= 0xc4 && b <= 0xc6)
        width = 1 << (b - 0xc4);
    if (!width) {
        r->pos--;
        return s_fail(r, PROTO_E_TYPE);
    }
    if ((rc = s_be(r, width, n)))
        return rc;
    uint64_t min = width == 1 ? (is_str ? 32 : 0) : width == 2 ? 256 : 65536;
    return *n < min ? s_fail(r, PROTO_E_NONCANONICAL) : PROTO_OK;
}

int proto_rd_bin(proto_rd_t *r, size_t max, const uint8_t **p, size_t *len)
{
    uint64_t n;
    int rc = s_blob_header(r, false, &n);
    if (rc)
        return rc;
    if (n > max)
        return s_fail(r, PROTO_E_TOO_LONG);
    if (n > s_left(r))
        return s_fail(r, PROTO_E_TRUNCATED);
    *p = r->buf + r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return PROTO_OK;
}

int proto_rd_bin_exact(proto_rd_t *r, size_t n, uint8_t *out)
{
    const uint8_t *p;
    size_t len;
    int rc = proto_rd_bin(r, n, &p, &len);
    if (rc)
        return rc;
    if (len != n)
        return s_fail(r, PROTO_E_INVALID);
    memcpy(out, p, n);
    return PROTO_OK;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no NUL. */
static bool s_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            extra = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            extra = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

int proto_rd_str(proto_rd_t *r, size_t max, const char **p, size_t *len)
{
    uint64_t n;
    int rc = s_blob_header(r, true, &n);
    if (rc)
        return rc;
    if (n > max)
        return s_fail(r, PROTO_E_TOO_LONG);
    if (n > s_left(r))
        return s_fail(r, PROTO_E_TRUNCATED);
    if (!s_utf8_ok(r->buf + r->pos, (size_t)n))
        return s_fail(r, PROTO_E_INVALID);
    *p = (const char *)(r->buf + r->pos);
    *len = (size_t)n;
    r->pos += (size_t)n;
    return PROTO_OK;
}

int proto_rd_str_copy(proto_rd_t *r, char *out, size_t cap)
{
    const char *p;
    size_t len;
    if (cap == 0)
        return s_fail(r, PROTO_E_TOO_LONG);
    int rc = proto_rd_str(r, cap - 1, &p, &len);
    if (rc)
        return rc;
    memcpy(out, p, len);
    out[len] = '\0';
    return PROTO_OK;
}

static int s_skip_bytes(proto_rd_t *r, uint64_t n)
{
    if (n > s_left(r))
        return s_fail(r, PROTO_E_TRUNCATED);
    r->pos += (size_t)n;
    return PROTO_OK;
}

int proto_rd_skip(proto_rd_t *r, int depth)
{
    uint8_t b = 0;
    uint64_t n = 0;
    int rc = s_byte(r, &b);
    if (rc)
        return rc;
    if (depth <= 0)
        return s_fail(r, PROTO_E_TOO_LONG);
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return PROTO_OK;
    if (b >= 0xa0 && b <= 0xbf)
        return s_skip_bytes(r, b & 0x1f);
    uint64_t elems = 0;
    if (b >= 0x80 && b <= 0x8f) {
        elems = (uint64_t)(b & 0x0f) * 2;
    } else if (b >= 0x90 && b <= 0x9f) {
        elems = b & 0x0f;
    } else {
        switch (b) {
        case 0xc4:
        case 0xc5:
        case 0xc6:
            if ((rc = s_be(r, 1 << (b - 0xc4), &n)))
                return rc;
            return s_skip_bytes(r, n);
        case 0xd9:
        case 0xda:
        case 0xdb:
            if ((rc = s_be(r, 1 << (b - 0xd9), &n)))
                return rc;
            return s_skip_bytes(r, n);
        case 0xc7:
        case 0xc8:
        case 0xc9:
            if ((rc = s_be(r, 1 << (b - 0xc7), &n)))
                return rc;
            return s_skip_bytes(r, n + 1);
        case 0xca:
            return s_skip_bytes(r, 4);
        case 0xcb:
            return s_skip_bytes(r, 8);
        case 0xcc:
        case 0xd0:
            return s_skip_bytes(r, 1);
        case 0xcd:
        case 0xd1:
            return s_skip_bytes(r, 2);
        case 0xce:
        case 0xd2:
            return s_skip_bytes(r, 4);
        case 0xcf:
        case 0xd3:
            return s_skip_bytes(r, 8);
        case 0xd4:
            return s_skip_bytes(r, 2);
        case 0xd5:
            return s_skip_bytes(r, 3);
        case 0xd6:
            return s_skip_bytes(r, 5);
        case 0xd7:
            return s_skip_bytes(r, 9);
        case 0xd8:
            return s_skip_bytes(r, 17);
        case 0xdc:
        case 0xdd:
            if ((rc = s_be(r, b == 0xdc ? 2 : 4, &elems)))
                return rc;
            break;
        case 0xde:
        case 0xdf:
            if ((rc = s_be(r, b == 0xde ? 2 : 4, &elems)))
                return rc;
            elems *= 2;
            break;
        default:
            return s_fail(r, PROTO_E_TYPE); /* 0xc1 is never used */
        }
    }
    if (elems > s_left(r))
        return s_fail(r, PROTO_E_TRUNCATED);
    for (uint64_t i = 0; i < elems; i++)
        if ((rc = proto_rd_skip(r, depth - 1)))
            return rc;
    return PROTO_OK;
}

int proto_rd_finish(proto_rd_t *r)
{
    if (r->err)
        return r->err;
    return r->pos != r->len ? s_fail(r, PROTO_E_TRAILING) : PROTO_OK;
}

/* ---- writer ---- */

void proto_wr_init(proto_wr_t *w)
{
    msgpack_sbuffer_init(&w->sbuf);
    msgpack_packer_init(&w->pk, &w->sbuf, msgpack_sbuffer_write);
    w->err = PROTO_OK;
}

static void s_check(proto_wr_t *w, int rc)
{
    if (rc != 0 && w->err == PROTO_OK)
        w->err = PROTO_E_NOMEM;
}

void proto_wr_array(proto_wr_t *w, uint32_t n)
{
    s_check(w, msgpack_pack_array(&w->pk, n));
}

void proto_wr_uint(proto_wr_t *w, uint64_t v)
{
    s_check(w, msgpack_pack_uint64(&w->pk, v));
}

void proto_wr_bool(proto_wr_t *w, bool v)
{
    s_check(w, v ? msgpack_pack_true(&w->pk) : msgpack_pack_false(&w->pk));
}

void proto_wr_f64(proto_wr_t *w, double v)
{
    s_check(w, msgpack_pack_double(&w->pk, v));
}

void proto_wr_nil(proto_wr_t *w)
{
    s_check(w, msgpack_pack_nil(&w->pk));
}

/* msgpack lengths are 32-bit and msgpack-c truncates a longer one silently: refuse it. */
static bool s_len_ok(proto_wr_t *w, size_t n)
{
    if ((uint64_t)n <= UINT32_MAX)
        return true;
    if (w->err == PROTO_OK)
        w->err = PROTO_E_TOO_LONG;
    return false;
}

void proto_wr_bin(proto_wr_t *w, const void *p, size_t n)
{
    if (!s_len_ok(w, n))
        return;
    s_check(w, msgpack_pack_bin(&w->pk, n));
    if (n)
        s_check(w, msgpack_pack_bin_body(&w->pk, p, n));
}

void proto_wr_str(proto_wr_t *w, const char *s, size_t n)
{
    if (!s_len_ok(w, n))
        return;
    s_check(w, msgpack_pack_str(&w->pk, n));
    if (n)
        s_check(w, msgpack_pack_str_body(&w->pk, s, n));
}

void proto_wr_raw(proto_wr_t *w, const void *p, size_t n)
{
    if (n)
        s_check(w, msgpack_sbuffer_write(&w->sbuf, p, n));
}

const uint8_t *proto_wr_data(const proto_wr_t *w, size_t *len)
{
    if (w->err) {
        *len = 0;
        return NULL;
    }
    *len = w->sbuf.size;
    return (const uint8_t *)w->sbuf.data;
}

uint8_t *proto_wr_take(proto_wr_t *w, size_t *len)
{
    if (w->err) {
        proto_wr_free(w);
        *len = 0;
        return NULL;
    }
    *len = w->sbuf.size;
    uint8_t *data = (uint8_t *)msgpack_sbuffer_release(&w->sbuf);
    if (!data) /* nothing was written: hand out a valid empty allocation */
        data = calloc(1, 1);
    return data;
}

void proto_wr_free(proto_wr_t *w)
{
    if (w->sbuf.data)
        sodium_memzero(w->sbuf.data, w->sbuf.size); /* what was written; the rest never held data */
    msgpack_sbuffer_destroy(&w->sbuf);
    msgpack_sbuffer_init(&w->sbuf);
    w->err = PROTO_OK;
}
