/*  mp_containers: test_mp's cases for arrays and the generic skipper of proto_mp: array
 *  headers at every width boundary and their limits, skipping every msgpack family,
 *  depth limits, malformed input, and a compound value truncated at every offset. Run
 *  from test_mp.c's main.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_cases.h"
#include "testutil.h"

/* ---- arrays ---- */

void mpt_test_array_roundtrip(void)
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
        CHECK(mpt_wr_is(&w, vec[i].hex));
        size_t hdr_len;
        const uint8_t *hdr = proto_wr_data(&w, &hdr_len);
        proto_rd_t r;
        uint32_t got;

        /* header only: exact arity accepts it, array_max refuses a count the bytes
           left cannot hold */
        uint8_t *copy = mpt_dup(hdr, hdr_len);
        proto_rd_init(&r, copy, hdr_len);
        CHECK_EQ(proto_rd_array_exact(&r, n), PROTO_OK);
        CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
        proto_rd_init(&r, copy, hdr_len);
        CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &got), n ? PROTO_E_TRUNCATED : PROTO_OK);
        for (size_t cut = 0; cut < hdr_len; cut++) {
            uint8_t *q = mpt_dup(copy, cut);
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
        copy = mpt_dup(data, len);
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

void mpt_test_array_errors(void)
{
    uint8_t buf[64];
    proto_rd_t r;
    uint32_t n;

    /* non-shortest: array16 with 2 elements, array16 with 15, array32 with 65535 */
    static const char *noncanon[] = {"dc00020102", "dc000f", "dd0000ffff", "dd00000000"};
    for (size_t i = 0; i < sizeof noncanon / sizeof noncanon[0]; i++) {
        mpt_rd_hex(&r, noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &n), PROTO_E_NONCANONICAL);
        mpt_rd_hex(&r, noncanon[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_exact(&r, 2), PROTO_E_NONCANONICAL);
    }

    /* declared count larger than the bytes left */
    mpt_rd_hex(&r, "dc00200102030405", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 100, &n), PROTO_E_TRUNCATED);
    mpt_rd_hex(&r, "ddffffffff", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &n), PROTO_E_TRUNCATED);
    mpt_rd_hex(&r, "930102", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 3, &n), PROTO_E_TRUNCATED);
    mpt_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 3, &n), PROTO_OK);
    CHECK_EQ(n, 3u);

    /* limit and arity */
    mpt_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_max(&r, 2, &n), PROTO_E_TOO_LONG);
    mpt_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_exact(&r, 2), PROTO_E_ARITY);
    mpt_rd_hex(&r, "93010203", buf, sizeof buf);
    CHECK_EQ(proto_rd_array_exact(&r, 4), PROTO_E_ARITY);

    /* wrong types: maps, scalars, strings */
    static const char *wrong[] = {"80", "8101", "de0000", "00", "c0", "a0", "c400", "c1"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        mpt_rd_hex(&r, wrong[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_max(&r, UINT32_MAX, &n), PROTO_E_TYPE);
        mpt_rd_hex(&r, wrong[i], buf, sizeof buf);
        CHECK_EQ(proto_rd_array_exact(&r, 0), PROTO_E_TYPE);
    }
}

/* ---- skip ---- */

void mpt_test_skip_kinds(void)
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

    uint8_t *copy = mpt_dup((const uint8_t *)sb.data, sb.size);
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
        uint8_t *q = mpt_dup((const uint8_t *)whole.data, cut);
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

void mpt_test_skip_depth(void)
{
    /* [[[[1]]]]: four arrays and a scalar are five levels */
    uint8_t buf[16];
    proto_rd_t r;
    mpt_rd_hex(&r, "9191919101", buf, sizeof buf);
    CHECK_EQ(proto_rd_skip(&r, 5), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    mpt_rd_hex(&r, "9191919101", buf, sizeof buf);
    CHECK(proto_rd_skip(&r, 4) != PROTO_OK);
    CHECK(proto_rd_finish(&r) != PROTO_OK);
    mpt_rd_hex(&r, "01", buf, sizeof buf);
    CHECK(proto_rd_skip(&r, 0) != PROTO_OK);
    mpt_rd_hex(&r, "90", buf, sizeof buf);
    CHECK_EQ(proto_rd_skip(&r, 1), PROTO_OK);
    /* maps count a level too: {1: {2: 3}} */
    mpt_rd_hex(&r, "8101810203", buf, sizeof buf);
    CHECK_EQ(proto_rd_skip(&r, 3), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK);
    mpt_rd_hex(&r, "8101810203", buf, sizeof buf);
    CHECK(proto_rd_skip(&r, 2) != PROTO_OK);
}

void mpt_test_skip_deep(void)
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

void mpt_test_skip_errors(void)
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
        size_t n = mpt_unhex(bad[i], buf, sizeof buf);
        uint8_t *q = mpt_dup(buf, n);
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

void mpt_test_compound_truncation(void)
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
        uint8_t *q = mpt_dup(data, cut);
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
