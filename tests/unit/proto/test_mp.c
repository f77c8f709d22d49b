/*  test_mp: the strict bounded msgpack reader and the canonical writer (proto_mp).
 *
 *  Covers round trips at every width boundary, every reader limit, truncation at every
 *  byte offset, rejection of non-shortest encodings, wrong types, strict UTF-8, sticky
 *  errors and the generic skipper. Inputs that are cut short are copied into exactly
 *  sized heap buffers so that AddressSanitizer sees any read past the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "testutil.h"

/* ---- helpers ---- */

/* Decodes HEX (no spaces) into OUT (CAP bytes); returns the length. Aborts on bad hex. */
static size_t s_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap || proto_hex_decode(hex, out, n) != 0) {
        fprintf(stderr, "bad test vector %s\n", hex);
        abort();
    }
    return n;
}

/* An exactly sized heap copy of BUF[0..LEN) (never NULL, even for LEN 0). */
static uint8_t *s_dup(const uint8_t *buf, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        abort();
    if (len)
        memcpy(p, buf, len);
    return p;
}

/* True if W holds exactly the bytes written as HEX. */
static bool s_wr_is(const proto_wr_t *w, const char *hex)
{
    uint8_t want[64];
    size_t want_len = s_unhex(hex, want, sizeof want);
    size_t len;
    const uint8_t *got = proto_wr_data(w, &len);
    return got && len == want_len && memcmp(got, want, len) == 0;
}

/* Reader over the bytes of HEX held in STORE. */
static void s_rd_hex(proto_rd_t *r, const char *hex, uint8_t *store, size_t cap)
{
    size_t n = s_unhex(hex, store, cap);
    proto_rd_init(r, store, n);
}

/* ---- uints ---- */

static void s_test_uint_roundtrip(void)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } vec[] = {
        {0, "00"},
        {127, "7f"},
        {128, "cc80"},
        {255, "ccff"},
        {256, "cd0100"},
        {65535, "cdffff"},
        {65536, "ce00010000"},
        {0xffffffffull, "ceffffffff"},
        {0x100000000ull, "cf0000000100000000"},
        {UINT64_MAX, "cfffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_uint(&w, vec[i].v);
        CHECK(s_wr_is(&w, vec[i].hex));

        size_t len;
        const uint8_t *data = proto_wr_data(&w, &len);
        proto_rd_t r;
        uint64_t got = 1234;
        proto_rd_init(&r, data, len);
        CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &got), PROTO_OK);
        CHECK_EQ(got, vec[i].v);
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);

        /* max == v is allowed, max == v - 1 is not */
        proto_rd_init(&r, data, len);
        CHECK_EQ(proto_rd_uint(&r, vec[i].v, &got), PROTO_OK);
        if (vec[i].v > 0) {
            proto_rd_init(&r, data, len);
            got = 77;
            CHECK_EQ(proto_rd_uint(&r, vec[i].v - 1, &got), PROTO_E_RANGE);
            CHECK_EQ(got, 77u); /* output untouched on failure */
            CHECK_EQ(proto_rd_finish(&r), PROTO_E_RANGE);
        }

        /* every proper prefix is truncated */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *p = s_dup(data, cut);
            proto_rd_init(&r, p, cut);
            CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &got), PROTO_E_TRUNCATED);
            free(p);
        }
        proto_wr_free(&w);
    }
}

static void s_test_uint_errors(void)
{
    uint8_t buf[32];
    proto_rd_t r;
    uint64_t v;

    /* non-shortest encodings */
    static const char *noncanon[] = {
        "cc05",
        "cc7f",
        "cd0010",
        "cd00ff",
        "ce00001000",
        "ce0000ffff",
        "cf0000000010000000",
        "cf00000000ffffffff",
        "cf0000000000000000",
    };
    for (size_t i = 0; i < sizeof noncanon / sizeof noncanon[0]; i++) {
        s_rd_hex(&r, noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_NONCANONICAL);
    }

    /* negative integers, signed encodings, other types */
    static const char *wrong[] = {
        "ff",
        "e0",
        "d0ff",
        "d005",
        "d1ff00",
        "d2ffffffff",
        "d3ffffffffffffffff",
        "d30000000000000001",
        "c0",
        "c2",
        "c3",
        "a0",
        "a161",
        "c400",
        "90",
        "80",
        "ca00000000",
        "cb0000000000000000",
        "c1",
        "d40100",
        "d90161",
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        s_rd_hex(&r, wrong[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TYPE);
        CHECK_EQ(r.pos, 0u); /* a type error does not consume the byte */
    }

    /* empty input */
    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TRUNCATED);

    /* max 0 admits only 0 */
    s_rd_hex(&r, "01", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, 0, &v), PROTO_E_RANGE);
}

/* ---- bin / str ---- */

static void s_test_blob_roundtrip(bool is_str)
{
    static const size_t sizes[] = {0, 31, 32, 255, 256, 65535, 65536};
    uint8_t *content = malloc(65536);
    if (!content)
        abort();
    for (size_t i = 0; i < 65536; i++)
        content[i] = (uint8_t)('a' + i % 26);

    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        proto_wr_t w;
        proto_wr_init(&w);
        if (is_str)
            proto_wr_str(&w, (const char *)content, n);
        else
            proto_wr_bin(&w, content, n);
        size_t len;
        const uint8_t *data = proto_wr_data(&w, &len);
        CHECK(data != NULL || n == 0);

        /* header: the shortest form for the length */
        size_t hdr;
        if (is_str && n < 32) {
            hdr = 1;
            CHECK(data && data[0] == (0xa0 | n));
        } else if (n < 256) {
            hdr = 2;
            CHECK(data && data[0] == (is_str ? 0xd9 : 0xc4) && data[1] == n);
        } else if (n < 65536) {
            hdr = 3;
            CHECK(data && data[0] == (is_str ? 0xda : 0xc5));
        } else {
            hdr = 5;
            CHECK(data && data[0] == (is_str ? 0xdb : 0xc6));
        }
        CHECK_EQ(len, hdr + n);

        uint8_t *copy = s_dup(data, len);
        proto_rd_t r;
        const uint8_t *p = NULL;
        const char *sp = NULL;
        size_t got = 99;
        proto_rd_init(&r, copy, len);
        if (is_str) {
            CHECK_EQ(proto_rd_str(&r, n, &sp, &got), PROTO_OK);
            p = (const uint8_t *)sp;
        } else {
            CHECK_EQ(proto_rd_bin(&r, n, &p, &got), PROTO_OK);
        }
        CHECK_EQ(got, n);
        CHECK(p == copy + hdr); /* zero-copy: points into the buffer */
        CHECK(memcmp(p, content, n) == 0);
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);

        /* one byte over the limit */
        if (n > 0) {
            proto_rd_init(&r, copy, len);
            int rc =
                is_str ? proto_rd_str(&r, n - 1, &sp, &got) : proto_rd_bin(&r, n - 1, &p, &got);
            CHECK_EQ(rc, PROTO_E_TOO_LONG);
        }

        /* every proper prefix is truncated */
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *q = s_dup(copy, cut);
            proto_rd_init(&r, q, cut);
            int rc = is_str ? proto_rd_str(&r, SIZE_MAX, &sp, &got)
                            : proto_rd_bin(&r, SIZE_MAX, &p, &got);
            free(q);
            if (rc != PROTO_E_TRUNCATED) {
                CHECK_EQ(rc, PROTO_E_TRUNCATED);
                break;
            }
        }
        free(copy);
        proto_wr_free(&w);
    }
    free(content);
}

static void s_test_blob_errors(void)
{
    uint8_t buf[64];
    proto_rd_t r;
    const uint8_t *p;
    const char *s;
    size_t n;

    /* non-shortest headers */
    static const char *bin_noncanon[] = {"c50003616263", "c500ff", "c60000ffff", "c600000000"};
    for (size_t i = 0; i < sizeof bin_noncanon / sizeof bin_noncanon[0]; i++) {
        s_rd_hex(&r, bin_noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_bin(&r, SIZE_MAX, &p, &n), PROTO_E_NONCANONICAL);
    }
    static const char *str_noncanon[] = {"d90568656c6c6f", "d900", "d91f", "da00ff", "db0000ffff"};
    for (size_t i = 0; i < sizeof str_noncanon / sizeof str_noncanon[0]; i++) {
        s_rd_hex(&r, str_noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_NONCANONICAL);
    }
    /* bin8 of length 0..255 is canonical (bin has no fix form) */
    s_rd_hex(&r, "c400", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin(&r, 0, &p, &n), PROTO_OK);
    CHECK_EQ(n, 0u);

    /* wrong types: str is not bin and bin is not str */
    static const char *not_bin[] = {"a161", "d90161", "01", "c0", "90", "c2", "c70101ff"};
    for (size_t i = 0; i < sizeof not_bin / sizeof not_bin[0]; i++) {
        s_rd_hex(&r, not_bin[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_bin(&r, SIZE_MAX, &p, &n), PROTO_E_TYPE);
    }
    static const char *not_str[] = {"c40161", "01", "c0", "90", "c3", "80"};
    for (size_t i = 0; i < sizeof not_str / sizeof not_str[0]; i++) {
        s_rd_hex(&r, not_str[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_TYPE);
    }

    /* a length beyond the input is caught before use (limit checked first) */
    s_rd_hex(&r, "c6ffffffff00", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin(&r, SIZE_MAX, &p, &n), PROTO_E_TRUNCATED);
    s_rd_hex(&r, "c6ffffffff00", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin(&r, 1024, &p, &n), PROTO_E_TOO_LONG);
    s_rd_hex(&r, "dbffffffff61", buf, sizeof buf);
    CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_TRUNCATED);

    /* bin_exact: shorter is invalid, longer is too long, exact copies */
    uint8_t out[4] = {0};
    s_rd_hex(&r, "c403010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin_exact(&r, 4, out), PROTO_E_INVALID);
    s_rd_hex(&r, "c4050102030405", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin_exact(&r, 4, out), PROTO_E_TOO_LONG);
    s_rd_hex(&r, "c40401020304", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin_exact(&r, 4, out), PROTO_OK);
    CHECK(out[0] == 1 && out[3] == 4);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
}

static void s_test_utf8(void)
{
    static const char *bad[] = {
        "a2c080",                             /* overlong NUL */
        "a2c1bf",                             /* overlong 2-byte */
        "a3e08080",                           /* overlong 3-byte */
        "a3e09fbf",                           /* overlong 3-byte (U+07FF) */
        "a4f0808080",                         /* overlong 4-byte */
        "a4f08fbfbf",                         /* overlong 4-byte (U+FFFF) */
        "a3eda080",                           /* surrogate U+D800 */
        "a3edbfbf",                           /* surrogate U+DFFF */
        "a4f4908080",                         /* above U+10FFFF */
        "a4f5808080",                         /* lead byte 0xf5 */
        "a1f8",       "a1fe", "a1ff", "a180", /* lone continuation */
        "a1c3",                               /* truncated 2-byte */
        "a2e282",                             /* truncated 3-byte */
        "a3f09f98",                           /* truncated 4-byte */
        "a2c341",                             /* bad continuation */
        "a3e2a841",                           /* bad continuation */
        "a100",                               /* NUL */
        "a3610062",                           /* embedded NUL */
        "a26100",                             /* trailing NUL */
    };
    uint8_t buf[64];
    proto_rd_t r;
    const char *s;
    size_t n;
    char out[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_rd_hex(&r, bad[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_INVALID);
        s_rd_hex(&r, bad[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str_copy(&r, out, sizeof out), PROTO_E_INVALID);
    }
    static const char *good[] = {
        "a0",         /* empty */
        "a3616263",   /* ascii */
        "a17f",       /* DEL */
        "a2c280",     /* U+0080 */
        "a2c3a9",     /* e-acute */
        "a2dfbf",     /* U+07FF */
        "a3e0a080",   /* U+0800 */
        "a3e282ac",   /* euro sign */
        "a3ed9fbf",   /* U+D7FF */
        "a3ee8080",   /* U+E000 */
        "a3efbfbf",   /* U+FFFF */
        "a4f0908080", /* U+10000 */
        "a4f09f9880", /* emoji */
        "a4f48fbfbf", /* U+10FFFF */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        s_rd_hex(&r, good[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_OK);
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    }
}

static void s_test_str_copy(void)
{
    uint8_t buf[64];
    proto_rd_t r;
    char out[8];

    s_rd_hex(&r, "a568656c6c6f", buf, sizeof buf); /* "hello" */
    memset(out, 'x', sizeof out);
    CHECK_EQ(proto_rd_str_copy(&r, out, 6), PROTO_OK);
    CHECK(strcmp(out, "hello") == 0);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);

    s_rd_hex(&r, "a568656c6c6f", buf, sizeof buf);
    memset(out, 'x', sizeof out);
    CHECK_EQ(proto_rd_str_copy(&r, out, 5), PROTO_E_TOO_LONG); /* no room for NUL */
    CHECK_EQ(out[0], 'x');                                     /* nothing written */

    s_rd_hex(&r, "a568656c6c6f", buf, sizeof buf);
    CHECK_EQ(proto_rd_str_copy(&r, out, 0), PROTO_E_TOO_LONG);

    s_rd_hex(&r, "a0", buf, sizeof buf);
    CHECK_EQ(proto_rd_str_copy(&r, out, 1), PROTO_OK);
    CHECK_EQ(out[0], '\0');

    s_rd_hex(&r, "c40161", buf, sizeof buf);
    CHECK_EQ(proto_rd_str_copy(&r, out, sizeof out), PROTO_E_TYPE);
}

/* ---- arrays ---- */

static void s_test_array_roundtrip(void)
{
    static const struct {
        uint32_t n;
        const char *hex;
    } vec[] = {
        {0, "90"}, {15, "9f"}, {16, "dc0010"}, {65535, "dcffff"}, {65536, "dd00010000"},
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        uint32_t n = vec[i].n;
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_array(&w, n);
        CHECK(s_wr_is(&w, vec[i].hex));
        size_t hdr_len;
        const uint8_t *hdr = proto_wr_data(&w, &hdr_len);
        proto_rd_t r;
        uint32_t got;

        /* header only: exact arity accepts it, array_max refuses a count the bytes
           left cannot hold */
        uint8_t *copy = s_dup(hdr, hdr_len);
        proto_rd_init(&r, copy, hdr_len);
        CHECK_EQ(proto_rd_array_exact(&r, n), PROTO_OK);
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
        proto_rd_init(&r, copy, hdr_len);
        CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &got), n ? PROTO_E_TRUNCATED : PROTO_OK);
        for (size_t cut = 0; cut < hdr_len; cut++) {
            uint8_t *q = s_dup(copy, cut);
            proto_rd_init(&r, q, cut);
            CHECK_EQ(proto_rd_array_exact(&r, n), PROTO_E_TRUNCATED);
            free(q);
        }
        free(copy);

        /* whole array of N nils */
        for (uint32_t k = 0; k < n; k++)
            proto_wr_nil(&w);
        size_t len;
        const uint8_t *data = proto_wr_data(&w, &len);
        CHECK_EQ(len, hdr_len + n);
        copy = s_dup(data, len);
        proto_rd_init(&r, copy, len);
        CHECK_EQ(proto_rd_array_max(&r, n, &got), PROTO_OK);
        CHECK_EQ(got, n);
        for (uint32_t k = 0; k < got; k++)
            if (proto_rd_nil(&r) != PROTO_OK)
                break;
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);

        if (n > 0) {
            proto_rd_init(&r, copy, len);
            CHECK_EQ(proto_rd_array_max(&r, n - 1, &got), PROTO_E_TOO_LONG);
            proto_rd_init(&r, copy, len);
            CHECK_EQ(proto_rd_array_exact(&r, n - 1), PROTO_E_ARITY);
        }
        proto_rd_init(&r, copy, len);
        CHECK_EQ(proto_rd_array_exact(&r, n + 1), PROTO_E_ARITY);
        proto_rd_init(&r, copy, len);
        CHECK_EQ(proto_rd_skip(&r, 2), PROTO_OK);
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
        free(copy);
        proto_wr_free(&w);
    }
}

static void s_test_array_errors(void)
{
    uint8_t buf[64];
    proto_rd_t r;
    uint32_t n;

    /* non-shortest: array16 with 2 elements, array16 with 15, array32 with 65535 */
    static const char *noncanon[] = {"dc00020102", "dc000f", "dd0000ffff", "dd00000000"};
    for (size_t i = 0; i < sizeof noncanon / sizeof noncanon[0]; i++) {
        s_rd_hex(&r, noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &n), PROTO_E_NONCANONICAL);
        s_rd_hex(&r, noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_exact(&r, 2), PROTO_E_NONCANONICAL);
    }

    /* declared count larger than the bytes left */
    s_rd_hex(&r, "dc00200102030405", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 100, &n), PROTO_E_TRUNCATED);
    s_rd_hex(&r, "ddffffffff", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &n), PROTO_E_TRUNCATED);
    s_rd_hex(&r, "930102", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 3, &n), PROTO_E_TRUNCATED);
    s_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 3, &n), PROTO_OK);
    CHECK_EQ(n, 3u);

    /* limit and arity */
    s_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 2, &n), PROTO_E_TOO_LONG);
    s_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_exact(&r, 2), PROTO_E_ARITY);
    s_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_exact(&r, 4), PROTO_E_ARITY);

    /* wrong types: maps, scalars, strings */
    static const char *wrong[] = {"80", "8101", "de0000", "00", "c0", "a0", "c400", "c1"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        s_rd_hex(&r, wrong[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &n), PROTO_E_TYPE);
        s_rd_hex(&r, wrong[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_exact(&r, 0), PROTO_E_TYPE);
    }
}

/* ---- bool / nil ---- */

static void s_test_bool_nil(void)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_bool(&w, true);
    proto_wr_bool(&w, false);
    proto_wr_nil(&w);
    proto_wr_uint(&w, 0);
    CHECK(s_wr_is(&w, "c3c2c000"));
    size_t len;
    const uint8_t *data = proto_wr_data(&w, &len);

    proto_rd_t r;
    bool b = false;
    proto_rd_init(&r, data, len);
    CHECK(!proto_rd_peek_nil(&r));
    CHECK_EQ(proto_rd_bool(&r, &b), PROTO_OK);
    CHECK(b);
    CHECK_EQ(proto_rd_bool(&r, &b), PROTO_OK);
    CHECK(!b);
    CHECK(proto_rd_peek_nil(&r));
    CHECK(proto_rd_peek_nil(&r)); /* peeking does not consume */
    CHECK_EQ(r.pos, 2u);
    CHECK_EQ(proto_rd_nil(&r), PROTO_OK);
    CHECK(!proto_rd_peek_nil(&r)); /* a 0, not nil */
    uint64_t v;
    CHECK_EQ(proto_rd_uint(&r, 0, &v), PROTO_OK);
    CHECK(!proto_rd_peek_nil(&r)); /* at the end */
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    proto_wr_free(&w);

    uint8_t buf[8];
    static const char *not_bool[] = {"c0", "00", "01", "a0", "90", "c1"};
    for (size_t i = 0; i < sizeof not_bool / sizeof not_bool[0]; i++) {
        s_rd_hex(&r, not_bool[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_bool(&r, &b), PROTO_E_TYPE);
    }
    static const char *not_nil[] = {"c2", "c3", "00", "a0", "90", "c1"};
    for (size_t i = 0; i < sizeof not_nil / sizeof not_nil[0]; i++) {
        s_rd_hex(&r, not_nil[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_nil(&r), PROTO_E_TYPE);
    }
    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_bool(&r, &b), PROTO_E_TRUNCATED);
    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_nil(&r), PROTO_E_TRUNCATED);

    /* peek_nil after an error is false even if the next byte is nil */
    s_rd_hex(&r, "c0", buf, sizeof buf);
    CHECK_EQ(proto_rd_bool(&r, &b), PROTO_E_TYPE);
    CHECK(!proto_rd_peek_nil(&r));
}

/* ---- trailing bytes, sticky errors ---- */

static void s_test_trailing(void)
{
    uint8_t buf[8];
    proto_rd_t r;
    uint64_t v;
    s_rd_hex(&r, "0102", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, 255, &v), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRAILING);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRAILING); /* sticky too */
    CHECK_EQ(r.err, PROTO_E_TRAILING);

    s_rd_hex(&r, "c0", buf, sizeof buf);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRAILING); /* nothing read yet */

    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK); /* nothing to read, nothing left */
}

static void s_test_sticky(void)
{
    /* a type error first, then valid values of every kind: all fail the same way */
    uint8_t buf[64];
    proto_rd_t r;
    s_rd_hex(&r, "a1610193c0c3c401ffa161", buf, sizeof buf);
    uint64_t v = 5;
    bool b;
    const uint8_t *p;
    const char *s;
    size_t n;
    uint32_t cnt;
    char out[8];
    uint8_t one[1];
    CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_str(&r, 10, &s, &n), PROTO_E_TYPE); /* it is a str, but too late */
    CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TYPE);
    CHECK_EQ(v, 5u);
    CHECK_EQ(proto_rd_array_max(&r, 10, &cnt), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_array_exact(&r, 3), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_nil(&r), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_bool(&r, &b), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_bin(&r, 10, &p, &n), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_bin_exact(&r, 1, one), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_str_copy(&r, out, sizeof out), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_str_copy(&r, out, 0), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_skip(&r, 8), PROTO_E_TYPE);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TYPE);
    CHECK_EQ(r.err, PROTO_E_TYPE);
    CHECK_EQ(r.pos, 0u);

    /* a range error after a successful read: the position stays past the bad value's
       head, later calls keep returning RANGE */
    s_rd_hex(&r, "01cd1000c0", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, 10, &v), PROTO_OK);
    CHECK_EQ(proto_rd_uint(&r, 10, &v), PROTO_E_RANGE);
    CHECK_EQ(proto_rd_nil(&r), PROTO_E_RANGE);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_RANGE);

    /* a truncation sticks as well */
    s_rd_hex(&r, "cd10", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TRUNCATED);
    CHECK_EQ(proto_rd_skip(&r, 4), PROTO_E_TRUNCATED);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRUNCATED);
}

/* ---- skip ---- */

static void s_test_skip_kinds(void)
{
    /* every msgpack family, packed with msgpack-c directly */
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    static const uint8_t bytes[300] = {0};
    int values = 0;

#define PK(expr) (CHECK_EQ((expr), 0), values++)
    PK(msgpack_pack_nil(&pk));
    PK(msgpack_pack_true(&pk));
    PK(msgpack_pack_false(&pk));
    PK(msgpack_pack_uint64(&pk, 5));
    PK(msgpack_pack_uint64(&pk, 200));
    PK(msgpack_pack_uint64(&pk, 60000));
    PK(msgpack_pack_uint64(&pk, 4000000000u));
    PK(msgpack_pack_uint64(&pk, UINT64_MAX));
    PK(msgpack_pack_int64(&pk, -1));
    PK(msgpack_pack_int64(&pk, -100));
    PK(msgpack_pack_int64(&pk, -30000));
    PK(msgpack_pack_int64(&pk, -2000000000));
    PK(msgpack_pack_int64(&pk, INT64_MIN));
    PK(msgpack_pack_float(&pk, 1.5f));
    PK(msgpack_pack_double(&pk, 2.25));
    PK((msgpack_pack_str(&pk, 3), msgpack_pack_str_body(&pk, "abc", 3)));
    PK((msgpack_pack_str(&pk, 40), msgpack_pack_str_body(&pk, bytes, 40)));
    PK((msgpack_pack_str(&pk, 300), msgpack_pack_str_body(&pk, bytes, 300)));
    PK((msgpack_pack_bin(&pk, 3), msgpack_pack_bin_body(&pk, bytes, 3)));
    PK((msgpack_pack_bin(&pk, 300), msgpack_pack_bin_body(&pk, bytes, 300)));
    static const size_t ext_sizes[] = {1, 2, 4, 8, 16, 3, 0, 255, 256};
    for (size_t i = 0; i < sizeof ext_sizes / sizeof ext_sizes[0]; i++)
        PK((msgpack_pack_ext(&pk, ext_sizes[i], 7),
            ext_sizes[i] ? msgpack_pack_ext_body(&pk, bytes, ext_sizes[i]) : 0));
    /* map {1: [true, {"k": nil}], "x": 2.0} */
    PK((msgpack_pack_map(&pk, 2), msgpack_pack_uint64(&pk, 1), msgpack_pack_array(&pk, 2),
        msgpack_pack_true(&pk), msgpack_pack_map(&pk, 1), msgpack_pack_str(&pk, 1),
        msgpack_pack_str_body(&pk, "k", 1), msgpack_pack_nil(&pk), msgpack_pack_str(&pk, 1),
        msgpack_pack_str_body(&pk, "x", 1), msgpack_pack_double(&pk, 2.0)));
    /* map16 with 20 entries, array16 with 20 nested empty arrays */
    msgpack_pack_map(&pk, 20);
    for (int i = 0; i < 20; i++) {
        msgpack_pack_uint64(&pk, (uint64_t)i);
        msgpack_pack_nil(&pk);
    }
    values++;
    msgpack_pack_array(&pk, 20);
    for (int i = 0; i < 20; i++)
        msgpack_pack_array(&pk, 0);
    values++;
    /* hand-made map32 and array32 headers with a few entries (non-canonical, but
       skip only frames) */
    static const uint8_t map32[] = {0xdf, 0, 0, 0, 1, 0x01, 0x02};
    static const uint8_t arr32[] = {0xdd, 0, 0, 0, 2, 0xc0, 0xc0};
    msgpack_sbuffer_write(&sb, (const char *)map32, sizeof map32);
    values++;
    msgpack_sbuffer_write(&sb, (const char *)arr32, sizeof arr32);
    values++;
#undef PK

    uint8_t *copy = s_dup((const uint8_t *)sb.data, sb.size);
    proto_rd_t r;
    proto_rd_init(&r, copy, sb.size);
    int skipped = 0;
    while (r.pos < r.len && proto_rd_skip(&r, 4) == PROTO_OK)
        skipped++;
    CHECK_EQ(skipped, values);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);

    /* every proper prefix of the whole stream, as one array, fails to skip */
    msgpack_sbuffer whole;
    msgpack_sbuffer_init(&whole);
    msgpack_packer pk2;
    msgpack_packer_init(&pk2, &whole, msgpack_sbuffer_write);
    msgpack_pack_array(&pk2, (size_t)values);
    msgpack_sbuffer_write(&whole, sb.data, sb.size);
    proto_rd_init(&r, whole.data, whole.size);
    CHECK_EQ(proto_rd_skip(&r, 5), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    for (size_t cut = 0; cut < whole.size; cut++) {
        uint8_t *q = s_dup((const uint8_t *)whole.data, cut);
        proto_rd_init(&r, q, cut);
        int rc = proto_rd_skip(&r, 5);
        free(q);
        if (rc == PROTO_OK) {
            CHECK(rc != PROTO_OK);
            break;
        }
    }
    free(copy);
    msgpack_sbuffer_destroy(&whole);
    msgpack_sbuffer_destroy(&sb);
}

static void s_test_skip_depth(void)
{
    /* [[[[1]]]]: four arrays and a scalar are five levels */
    uint8_t buf[16];
    proto_rd_t r;
    s_rd_hex(&r, "9191919101", buf, sizeof buf);
    CHECK_EQ(proto_rd_skip(&r, 5), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    s_rd_hex(&r, "9191919101", buf, sizeof buf);
    CHECK(proto_rd_skip(&r, 4) != PROTO_OK);
    CHECK(proto_rd_finish(&r) != PROTO_OK);
    s_rd_hex(&r, "01", buf, sizeof buf);
    CHECK(proto_rd_skip(&r, 0) != PROTO_OK);
    s_rd_hex(&r, "90", buf, sizeof buf);
    CHECK_EQ(proto_rd_skip(&r, 1), PROTO_OK);
    /* maps count a level too: {1: {2: 3}} */
    s_rd_hex(&r, "8101810203", buf, sizeof buf);
    CHECK_EQ(proto_rd_skip(&r, 3), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    s_rd_hex(&r, "8101810203", buf, sizeof buf);
    CHECK(proto_rd_skip(&r, 2) != PROTO_OK);
}

static void s_test_skip_deep(void)
{
    /* 100000 nested arrays: refused at the depth limit, without recursing further */
    size_t depth = 100000;
    uint8_t *deep = malloc(depth + 1);
    if (!deep)
        abort();
    memset(deep, 0x91, depth);
    deep[depth] = 0xc0;
    proto_rd_t r;
    proto_rd_init(&r, deep, depth + 1);
    CHECK(proto_rd_skip(&r, 32) != PROTO_OK);
    /* the same with map and array16 nesting */
    for (size_t i = 0; i + 1 < depth; i += 2) {
        deep[i] = 0x81;
        deep[i + 1] = 0xc0;
    }
    proto_rd_init(&r, deep, depth + 1);
    CHECK(proto_rd_skip(&r, 32) != PROTO_OK);
    free(deep);
}

static void s_test_skip_errors(void)
{
    static const char *bad[] = {
        "c1",             /* never used */
        "dcffff",         /* array16 count beyond input */
        "ddffffffff00",   /* array32 count beyond input */
        "deffff",         /* map16 count beyond input */
        "dfffffffff0000", /* map32: 2*count beyond input */
        "8201",           /* fixmap short */
        "c7ff01",         /* ext8 length beyond input */
        "c8ffff01",       /* ext16 */
        "c9ffffffff01",   /* ext32 */
        "c9fffffffe",     /* ext32 (length + type byte) */
        "c6ffffffff",     /* bin32 */
        "dbffffffff",     /* str32 */
        "d8010203",       /* fixext16 short */
        "cb00",           /* float64 short */
        "ca",             /* float32 short */
        "d3000000",       /* int64 short */
        "a5616263",       /* fixstr short */
        "",               /* nothing */
    };
    uint8_t buf[32];
    proto_rd_t r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = s_unhex(bad[i], buf, sizeof buf);
        uint8_t *q = s_dup(buf, n);
        proto_rd_init(&r, q, n);
        int rc = proto_rd_skip(&r, 32);
        CHECK(rc != PROTO_OK);
        CHECK_EQ(rc, r.err);
        free(q);
    }
}

/* ---- compound value: truncation at every offset ---- */

/* Reads [uint, bin, str, bool, nil, [uint, str], array16 of nils] */
static int s_read_compound(proto_rd_t *r)
{
    uint64_t v;
    const uint8_t *p;
    const char *s;
    size_t n;
    bool b;
    uint32_t cnt;
    if (proto_rd_array_exact(r, 7) || proto_rd_uint(r, UINT64_MAX, &v) ||
        proto_rd_bin(r, 1000, &p, &n) || proto_rd_str(r, 1000, &s, &n) || proto_rd_bool(r, &b) ||
        proto_rd_nil(r) || proto_rd_array_exact(r, 2) || proto_rd_uint(r, 1000, &v) ||
        proto_rd_str(r, 1000, &s, &n) || proto_rd_array_max(r, 100, &cnt))
        return r->err;
    for (uint32_t i = 0; i < cnt; i++)
        if (proto_rd_nil(r))
            return r->err;
    return proto_rd_finish(r);
}

static void s_test_compound_truncation(void)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 7);
    proto_wr_uint(&w, 0x123456789abcull);
    proto_wr_bin(&w, "\x01\x02\x03", 3);
    proto_wr_str(&w, "h\xc3\xa9llo w\xe2\x82\xacrld", 14);
    proto_wr_bool(&w, true);
    proto_wr_nil(&w);
    proto_wr_array(&w, 2);
    proto_wr_uint(&w, 300);
    proto_wr_str(&w, "a string longer than thirty-one bytes", 37);
    proto_wr_array(&w, 20);
    for (int i = 0; i < 20; i++)
        proto_wr_nil(&w);
    size_t len;
    const uint8_t *data = proto_wr_data(&w, &len);

    proto_rd_t r;
    proto_rd_init(&r, data, len);
    CHECK_EQ(s_read_compound(&r), PROTO_OK);
    proto_rd_init(&r, data, len);
    CHECK_EQ(proto_rd_skip(&r, 3), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);

    int bad = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *q = s_dup(data, cut);
        proto_rd_init(&r, q, cut);
        int rc = s_read_compound(&r);
        if (rc == PROTO_OK || rc != r.err)
            bad++;
        proto_rd_init(&r, q, cut);
        rc = proto_rd_skip(&r, 3);
        if (rc == PROTO_OK && proto_rd_finish(&r) == PROTO_OK)
            bad++;
        free(q);
    }
    CHECK_EQ(bad, 0);

    /* one extra byte is trailing */
    uint8_t *longer = malloc(len + 1);
    if (!longer)
        abort();
    memcpy(longer, data, len);
    longer[len] = 0xc0;
    proto_rd_init(&r, longer, len + 1);
    CHECK_EQ(s_read_compound(&r), PROTO_E_TRAILING);
    free(longer);
    proto_wr_free(&w);
}

/* ---- writer ---- */

static void s_test_writer_vectors(void)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 6);
    proto_wr_uint(&w, 1);
    proto_wr_str(&w, "hi", 2);
    proto_wr_bin(&w, "\x01\x02", 2);
    proto_wr_bool(&w, true);
    proto_wr_nil(&w);
    proto_wr_uint(&w, 300);
    CHECK(s_wr_is(&w, "9601a26869c4020102c3c0cd012c"));
    proto_wr_free(&w);

    proto_wr_init(&w);
    proto_wr_bin(&w, NULL, 0);
    proto_wr_str(&w, NULL, 0);
    proto_wr_array(&w, 0);
    CHECK(s_wr_is(&w, "c400a090"));
    proto_wr_free(&w);

    /* str of 32 bytes uses str8; raw bytes are appended as given */
    proto_wr_init(&w);
    proto_wr_str(&w, "abcdefghijklmnopqrstuvwxyz012345", 32);
    proto_wr_raw(&w, "\x92\x01\x02", 3);
    CHECK(s_wr_is(&w, "d9206162636465666768696a6b6c6d6e6f70717273"
                      "7475767778797a303132333435920102"));
    proto_wr_free(&w);

    /* take: caller owns the buffer; the writer is left empty and reusable */
    proto_wr_init(&w);
    proto_wr_uint(&w, 65536);
    size_t len = 0;
    uint8_t *taken = proto_wr_take(&w, &len);
    CHECK(taken != NULL);
    CHECK_EQ(len, 5u);
    CHECK(taken && memcmp(taken, "\xce\x00\x01\x00\x00", 5) == 0);
    free(taken);
    proto_wr_uint(&w, 1);
    CHECK(s_wr_is(&w, "01"));
    proto_wr_free(&w);

    /* take of an empty writer is a valid empty allocation */
    proto_wr_init(&w);
    taken = proto_wr_take(&w, &len);
    CHECK(taken != NULL);
    CHECK_EQ(len, 0u);
    free(taken);
    proto_wr_free(&w);

    /* a bin/str length that does not fit msgpack's 32 bits is an error, not a
       silently truncated header (nothing is read from the too-short source) */
    if (SIZE_MAX > UINT32_MAX) {
        static const uint8_t tiny[1] = {0};
        proto_wr_init(&w);
        proto_wr_uint(&w, 1);
        proto_wr_bin(&w, tiny, (size_t)((uint64_t)UINT32_MAX + 1));
        proto_wr_uint(&w, 2);
        CHECK(proto_wr_data(&w, &len) == NULL);
        CHECK_EQ(len, 0u);
        CHECK(proto_wr_take(&w, &len) == NULL);
        proto_wr_free(&w);
        proto_wr_init(&w);
        proto_wr_str(&w, (const char *)tiny, SIZE_MAX);
        CHECK(w.err != PROTO_OK);
        CHECK(proto_wr_data(&w, &len) == NULL);
        proto_wr_free(&w);
    }

    /* free twice is harmless; data of an empty writer has length 0 */
    proto_wr_init(&w);
    proto_wr_free(&w);
    proto_wr_free(&w);
    (void)proto_wr_data(&w, &len);
    CHECK_EQ(len, 0u);
}

static void s_test_err_str(void)
{
    for (int e = PROTO_E_INVALID; e <= PROTO_OK; e++) {
        const char *s = proto_err_str(e);
        CHECK(s != NULL && strcmp(s, "unknown error") != 0);
        for (int f = PROTO_E_INVALID; f < e; f++)
            CHECK(strcmp(s, proto_err_str(f)) != 0);
    }
    CHECK(strcmp(proto_err_str(-100), "unknown error") == 0);
    CHECK(strcmp(proto_err_str(5), "unknown error") == 0);
}

int main(void)
{
    CHECK_EQ(proto_crypto_init(), 0);
    s_test_uint_roundtrip();
    s_test_uint_errors();
    s_test_blob_roundtrip(false);
    s_test_blob_roundtrip(true);
    s_test_blob_errors();
    s_test_utf8();
    s_test_str_copy();
    s_test_array_roundtrip();
    s_test_array_errors();
    s_test_bool_nil();
    s_test_trailing();
    s_test_sticky();
    s_test_skip_kinds();
    s_test_skip_depth();
    s_test_skip_deep();
    s_test_skip_errors();
    s_test_compound_truncation();
    s_test_writer_vectors();
    s_test_err_str();
    return testutil_done("test_mp");
}
