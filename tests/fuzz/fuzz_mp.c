/*  fuzz_mp: libFuzzer harness for the raw msgpack pull reader (proto_rd_*).
 *
 *  Input layout: byte 0 gives the number of reader calls K (1..32); bytes 1..K are the
 *  calls, each op byte's low nibble choosing the call and its high nibble the limit
 *  (from a table of boundary values); the rest of the input is the buffer read.
 *  After every call the harness checks:
 *    - the position never passes the end, and the first error sticks (every later call
 *      returns it and moves nothing);
 *    - a call's result is the reader's error, and a success leaves no error behind;
 *    - whatever a call accepts lies within its limit, and the bytes it consumed are
 *      exactly the canonical encoding that proto_wr_* produces for the value read;
 *    - strings agree with an independent UTF-8 validator (Unicode Table 3-7).
 *  A broken invariant calls abort().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_util.h"

#define MAX_OPS 32
#define COPY_CAP 300

static const uint64_t s_limits[16] = {
    0,
    1,
    2,
    15,
    16,
    31,
    32,
    64,
    255,
    256,
    65535,
    65536,
    0xffffffffull,
    0x100000000ull,
    1000000,
    UINT64_MAX,
};

/* Well-formed UTF-8 per Unicode Table 3-7, without NUL. */
static bool s_oracle_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint8_t lo = 0x80, hi = 0xbf;
        size_t more;
        if (c == 0x00)
            return false;
        if (c <= 0x7f) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            more = 1;
        else if (c == 0xe0)
            more = 2, lo = 0xa0;
        else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
            more = 2;
        else if (c == 0xed)
            more = 2, hi = 0x9f;
        else if (c == 0xf0)
            more = 3, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3)
            more = 3;
        else if (c == 0xf4)
            more = 3, hi = 0x8f;
        else
            return false;
        if (n - i - 1 < more)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= more; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += more + 1;
    }
    return true;
}

/* Span of the content of a str at the reader's position, if its header is canonical
   and the content is all there. */
static bool s_oracle_str_span(const proto_rd_t *r, size_t *off, size_t *n)
{
    const uint8_t *b = r->buf + r->pos;
    size_t left = r->len - r->pos;
    uint64_t len = 0;
    size_t hdr;
    if (left < 1)
        return false;
    if (b[0] >= 0xa0 && b[0] <= 0xbf) {
        hdr = 1;
        len = b[0] & 0x1f;
    } else if (b[0] >= 0xd9 && b[0] <= 0xdb) {
        hdr = 1 + ((size_t)1 << (b[0] - 0xd9));
        if (left < hdr)
            return false;
        for (size_t i = 1; i < hdr; i++)
            len = len << 8 | b[i];
        uint64_t min = hdr == 2 ? 32 : hdr == 3 ? 256 : 65536;
        if (len < min)
            return false;
    } else {
        return false;
    }
    if (len > left - hdr)
        return false;
    *off = r->pos + hdr;
    *n = (size_t)len;
    return true;
}

/* Checks that BUF[FROM..TO) is exactly the bytes in W. */
static void s_same_as(const proto_rd_t *r, size_t from, proto_wr_t *w, const char *what)
{
    size_t len;
    const uint8_t *enc = proto_wr_data(w, &len);
    fuzz_require(enc != NULL || len == 0, "writer failed");
    fuzz_require(r->pos - from == len && (len == 0 || memcmp(r->buf + from, enc, len) == 0), what);
    proto_wr_free(w);
}

static void s_run_op(proto_rd_t *r, uint8_t op)
{
    uint64_t lim = s_limits[op >> 4];
    size_t lim_sz = lim > SIZE_MAX ? SIZE_MAX : (size_t)lim;
    uint32_t lim32 = lim > UINT32_MAX ? UINT32_MAX : (uint32_t)lim;
    int prev_err = r->err;
    size_t pos0 = r->pos;
    int rc = PROTO_OK;
    proto_wr_t w;
    uint64_t v;
    bool flag;
    const uint8_t *p;
    const char *s;
    size_t n;
    uint32_t count;
    uint8_t exact[64];
    char copy[COPY_CAP + 1];
    size_t str_off = 0, str_n = 0;
    bool have_span = false;

    proto_wr_init(&w);
    switch (op & 0x0f) {
    case 0:
    case 12:
        if ((op & 0x0f) == 12)
            lim = UINT64_MAX;
        rc = proto_rd_uint(r, lim, &v);
        if (rc == PROTO_OK) {
            fuzz_require(v <= lim, "uint over its limit");
            proto_wr_uint(&w, v);
            s_same_as(r, pos0, &w, "uint not canonical");
        }
        break;
    case 1:
    case 14:
        if ((op & 0x0f) == 14)
            lim_sz = SIZE_MAX;
        rc = proto_rd_bin(r, lim_sz, &p, &n);
        if (rc == PROTO_OK) {
            fuzz_require(n <= lim_sz, "bin over its limit");
            fuzz_require(p + n == r->buf + r->pos, "bin does not end at the position");
            proto_wr_bin(&w, p, n);
            s_same_as(r, pos0, &w, "bin not canonical");
        }
        break;
    case 2:
        n = lim_sz < sizeof exact ? lim_sz : sizeof exact;
        rc = proto_rd_bin_exact(r, n, exact);
        if (rc == PROTO_OK) {
            proto_wr_bin(&w, exact, n);
            s_same_as(r, pos0, &w, "bin_exact not canonical");
        }
        break;
    case 3:
    case 13:
        if ((op & 0x0f) == 13)
            lim_sz = SIZE_MAX;
        have_span = s_oracle_str_span(r, &str_off, &str_n) && r->err == PROTO_OK;
        rc = proto_rd_str(r, lim_sz, &s, &n);
        if (rc == PROTO_OK) {
            fuzz_require(n <= lim_sz, "str over its limit");
            fuzz_require(have_span && str_n == n && (const uint8_t *)s == r->buf + str_off,
                         "str span disagrees with the oracle");
            fuzz_require(s_oracle_utf8((const uint8_t *)s, n), "str accepted bad UTF-8");
            proto_wr_str(&w, s, n);
            s_same_as(r, pos0, &w, "str not canonical");
        } else if (prev_err != PROTO_OK) {
            break;
        } else if (rc == PROTO_E_INVALID) {
            fuzz_require(have_span && !s_oracle_utf8(r->buf + str_off, str_n),
                         "str rejected good UTF-8");
        } else if (have_span && str_n <= lim_sz) {
            fuzz_require(false, "str refused a well-framed string within its limit");
        }
        break;
    case 4:
        n = lim_sz < sizeof copy ? lim_sz : sizeof copy;
        memset(copy, 'x', sizeof copy);
        rc = proto_rd_str_copy(r, copy, n);
        if (rc == PROTO_OK) {
            size_t got = strlen(copy);
            fuzz_require(got < n, "str_copy overran its capacity");
            proto_wr_str(&w, copy, got);
            s_same_as(r, pos0, &w, "str_copy not canonical");
        }
        break;
    case 5:
        rc = proto_rd_array_exact(r, lim32);
        if (rc == PROTO_OK) {
            proto_wr_array(&w, lim32);
            s_same_as(r, pos0, &w, "array_exact not canonical");
        }
        break;
    case 6:
        rc = proto_rd_array_max(r, lim32, &count);
        if (rc == PROTO_OK) {
            fuzz_require(count <= lim32, "array over its limit");
            fuzz_require(count <= r->len - r->pos, "array count beyond the bytes left");
            proto_wr_array(&w, count);
            s_same_as(r, pos0, &w, "array_max not canonical");
        }
        break;
    case 7:
        rc = proto_rd_bool(r, &flag);
        if (rc == PROTO_OK) {
            proto_wr_bool(&w, flag);
            s_same_as(r, pos0, &w, "bool not canonical");
        }
        break;
    case 8:
    case 9:
        if ((op & 0x0f) == 9) {
            bool is_nil = proto_rd_peek_nil(r);
            fuzz_require(r->pos == pos0 && r->err == prev_err, "peek_nil moved the reader");
            if (!is_nil)
                break;
        }
        rc = proto_rd_nil(r);
        fuzz_require((op & 0x0f) == 8 || rc == PROTO_OK, "peek_nil said nil, nil failed");
        if (rc == PROTO_OK) {
            proto_wr_nil(&w);
            s_same_as(r, pos0, &w, "nil not canonical");
        }
        break;
    case 10:
        rc = proto_rd_skip(r, (int)(op >> 4));
        fuzz_require(rc == PROTO_OK || r->pos >= pos0, "skip moved backwards");
        break;
    case 11:
        rc = proto_rd_finish(r);
        fuzz_require(rc != PROTO_OK || (r->pos == r->len && r->err == PROTO_OK),
                     "finish OK with bytes left");
        break;
    case 15:
        rc = proto_rd_skip(r, 32);
        break;
    }
    proto_wr_free(&w);

    fuzz_require(r->pos <= r->len, "position past the end");
    if (prev_err != PROTO_OK) {
        fuzz_require(r->err == prev_err, "error not sticky");
        fuzz_require(rc == prev_err || (op & 0x0f) == 9,
                     "call after an error returned another value");
        fuzz_require(r->pos == pos0, "call after an error moved the position");
    } else if (rc != PROTO_OK) {
        fuzz_require(rc == r->err, "result is not the reader's error");
        fuzz_require(rc >= PROTO_E_INVALID && rc < PROTO_OK, "stray error value");
    } else {
        fuzz_require(r->err == PROTO_OK, "success left an error behind");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t k = (size_t)(data[0] % MAX_OPS) + 1;
    if (k > size - 1)
        k = size - 1;
    const uint8_t *ops = data + 1;
    const uint8_t *buf = data + 1 + k;
    size_t len = size - 1 - k;

    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    for (size_t i = 0; i < k; i++)
        s_run_op(&r, ops[i]);

    /* the whole buffer as a stream of values, skipped one by one */
    proto_rd_init(&r, buf, len);
    while (r.pos < r.len) {
        size_t before = r.pos;
        if (proto_rd_skip(&r, 16) != PROTO_OK)
            break;
        fuzz_require(r.pos > before, "skip consumed nothing");
    }
    fuzz_require(r.pos <= r.len, "skip ran past the end");
    return 0;
}
