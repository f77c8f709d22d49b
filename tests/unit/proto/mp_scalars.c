/*  mp_scalars: test_mp's cases for scalar values of proto_mp: uints at every width
 *  boundary, bin and str (lengths, limits, truncation, non-shortest headers, wrong
 *  types), strict UTF-8, str_copy, and bool / nil. Run from test_mp.c's main.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_cases.h"
#include "testutil.h"

/* ---- uints ---- */

void mpt_test_uint_roundtrip(void)
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
        CHECK(mpt_wr_is(&w, vec[i].hex));

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
            uint8_t *p = mpt_dup(data, cut);
            proto_rd_init(&r, p, cut);
            CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &got), PROTO_E_TRUNCATED);
            free(p);
        }
        proto_wr_free(&w);
    }
}

void mpt_test_uint_errors(void)
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
        mpt_rd_hex(&r, noncanon[i], buf, sizeof buf);
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
        mpt_rd_hex(&r, wrong[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TYPE);
        CHECK_EQ(r.pos, 0u); /* a type error does not consume the byte */
    }

    /* empty input */
    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TRUNCATED);

    /* max 0 admits only 0 */
    mpt_rd_hex(&r, "01", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, 0, &v), PROTO_E_RANGE);
}

/* ---- bin / str ---- */

void mpt_test_blob_roundtrip(bool is_str)
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

        uint8_t *copy = mpt_dup(data, len);
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
            uint8_t *q = mpt_dup(copy, cut);
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

void mpt_test_blob_errors(void)
{
    uint8_t buf[64];
    proto_rd_t r;
    const uint8_t *p;
    const char *s;
    size_t n;

    /* non-shortest headers */
    static const char *bin_noncanon[] = {"c50003616263", "c500ff", "c60000ffff", "c600000000"};
    for (size_t i = 0; i < sizeof bin_noncanon / sizeof bin_noncanon[0]; i++) {
        mpt_rd_hex(&r, bin_noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_bin(&r, SIZE_MAX, &p, &n), PROTO_E_NONCANONICAL);
    }
    static const char *str_noncanon[] = {"d90568656c6c6f", "d900", "d91f", "da00ff", "db0000ffff"};
    for (size_t i = 0; i < sizeof str_noncanon / sizeof str_noncanon[0]; i++) {
        mpt_rd_hex(&r, str_noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_NONCANONICAL);
    }
    /* bin8 of length 0..255 is canonical (bin has no fix form) */
    mpt_rd_hex(&r, "c400", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin(&r, 0, &p, &n), PROTO_OK);
    CHECK_EQ(n, 0u);

    /* wrong types: str is not bin and bin is not str */
    static const char *not_bin[] = {"a161", "d90161", "01", "c0", "90", "c2", "c70101ff"};
    for (size_t i = 0; i < sizeof not_bin / sizeof not_bin[0]; i++) {
        mpt_rd_hex(&r, not_bin[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_bin(&r, SIZE_MAX, &p, &n), PROTO_E_TYPE);
    }
    static const char *not_str[] = {"c40161", "01", "c0", "90", "c3", "80"};
    for (size_t i = 0; i < sizeof not_str / sizeof not_str[0]; i++) {
        mpt_rd_hex(&r, not_str[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_TYPE);
    }

    /* a length beyond the input is caught before use (limit checked first) */
    mpt_rd_hex(&r, "c6ffffffff00", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin(&r, SIZE_MAX, &p, &n), PROTO_E_TRUNCATED);
    mpt_rd_hex(&r, "c6ffffffff00", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin(&r, 1024, &p, &n), PROTO_E_TOO_LONG);
    mpt_rd_hex(&r, "dbffffffff61", buf, sizeof buf);
    CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_TRUNCATED);

    /* bin_exact: shorter is invalid, longer is too long, exact copies */
    uint8_t out[4] = {0};
    mpt_rd_hex(&r, "c403010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin_exact(&r, 4, out), PROTO_E_INVALID);
    mpt_rd_hex(&r, "c4050102030405", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin_exact(&r, 4, out), PROTO_E_TOO_LONG);
    mpt_rd_hex(&r, "c40401020304", buf, sizeof buf);
    CHECK_EQ(proto_rd_bin_exact(&r, 4, out), PROTO_OK);
    CHECK(out[0] == 1 && out[3] == 4);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
}

void mpt_test_utf8(void)
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
        mpt_rd_hex(&r, bad[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_E_INVALID);
        mpt_rd_hex(&r, bad[i], buf, sizeof buf);
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
        mpt_rd_hex(&r, good[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_str(&r, SIZE_MAX, &s, &n), PROTO_OK);
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    }
}

void mpt_test_str_copy(void)
{
    uint8_t buf[64];
    proto_rd_t r;
    char out[8];

    mpt_rd_hex(&r, "a568656c6c6f", buf, sizeof buf); /* "hello" */
    memset(out, 'x', sizeof out);
    CHECK_EQ(proto_rd_str_copy(&r, out, 6), PROTO_OK);
    CHECK(strcmp(out, "hello") == 0);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);

    mpt_rd_hex(&r, "a568656c6c6f", buf, sizeof buf);
    memset(out, 'x', sizeof out);
    CHECK_EQ(proto_rd_str_copy(&r, out, 5), PROTO_E_TOO_LONG); /* no room for NUL */
    CHECK_EQ(out[0], 'x');                                     /* nothing written */

    mpt_rd_hex(&r, "a568656c6c6f", buf, sizeof buf);
    CHECK_EQ(proto_rd_str_copy(&r, out, 0), PROTO_E_TOO_LONG);

    mpt_rd_hex(&r, "a0", buf, sizeof buf);
    CHECK_EQ(proto_rd_str_copy(&r, out, 1), PROTO_OK);
    CHECK_EQ(out[0], '\0');

    mpt_rd_hex(&r, "c40161", buf, sizeof buf);
    CHECK_EQ(proto_rd_str_copy(&r, out, sizeof out), PROTO_E_TYPE);
}

/* ---- bool / nil ---- */

void mpt_test_bool_nil(void)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_bool(&w, true);
    proto_wr_bool(&w, false);
    proto_wr_nil(&w);
    proto_wr_uint(&w, 0);
    CHECK(mpt_wr_is(&w, "c3c2c000"));
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
        mpt_rd_hex(&r, not_bool[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_bool(&r, &b), PROTO_E_TYPE);
    }
    static const char *not_nil[] = {"c2", "c3", "00", "a0", "90", "c1"};
    for (size_t i = 0; i < sizeof not_nil / sizeof not_nil[0]; i++) {
        mpt_rd_hex(&r, not_nil[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_nil(&r), PROTO_E_TYPE);
    }
    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_bool(&r, &b), PROTO_E_TRUNCATED);
    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_nil(&r), PROTO_E_TRUNCATED);

    /* peek_nil after an error is false even if the next byte is nil */
    mpt_rd_hex(&r, "c0", buf, sizeof buf);
    CHECK_EQ(proto_rd_bool(&r, &b), PROTO_E_TYPE);
    CHECK(!proto_rd_peek_nil(&r));
}
