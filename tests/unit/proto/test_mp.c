/*  test_mp: the strict bounded msgpack reader and the canonical writer (proto_mp).
 *
 *  Covers round trips at every width boundary, every reader limit, truncation at every
 *  byte offset, rejection of non-shortest encodings, wrong types, strict UTF-8, sticky
 *  errors and the generic skipper. Inputs that are cut short are copied into exactly
 *  sized heap buffers so that AddressSanitizer sees any read past the end.
 *
 *  This file holds the shared helpers, the reader-wide cases (trailing bytes, sticky
 *  errors), the writer and main; the scalar cases are in mp_scalars.c, the container and
 *  skipper cases in mp_containers.c (declared in mp_cases.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_cases.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "testutil.h"

/* ---- helpers ---- */

/* Decodes HEX (no spaces) into OUT (CAP bytes); returns the length. Aborts on bad hex. */
size_t mpt_unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    if (n > cap || proto_hex_decode(hex, out, n) != 0) {
        fprintf(stderr, "bad test vector %s\n", hex);
        abort();
    }
    return n;
}

/* An exactly sized heap copy of BUF[0..LEN) (never NULL, even for LEN 0). */
uint8_t *mpt_dup(const uint8_t *buf, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        abort();
    if (len)
        memcpy(p, buf, len);
    return p;
}

/* True if W holds exactly the bytes written as HEX. */
bool mpt_wr_is(const proto_wr_t *w, const char *hex)
{
    uint8_t want[64];
    size_t want_len = mpt_unhex(hex, want, sizeof want);
    size_t len;
    const uint8_t *got = proto_wr_data(w, &len);
    return got && len == want_len && memcmp(got, want, len) == 0;
}

/* Reader over the bytes of HEX held in STORE. */
void mpt_rd_hex(proto_rd_t *r, const char *hex, uint8_t *store, size_t cap)
{
    size_t n = mpt_unhex(hex, store, cap);
    proto_rd_init(r, store, n);
}

/* ---- trailing bytes, sticky errors ---- */

void mpt_test_trailing(void)
{
    uint8_t buf[8];
    proto_rd_t r;
    uint64_t v;
    mpt_rd_hex(&r, "0102", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, 255, &v), PROTO_OK);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRAILING);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRAILING); /* sticky too */
    CHECK_EQ(r.err, PROTO_E_TRAILING);

    mpt_rd_hex(&r, "c0", buf, sizeof buf);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRAILING); /* nothing read yet */

    proto_rd_init(&r, NULL, 0);
    CHECK_EQ(proto_rd_finish(&r), PROTO_OK); /* nothing to read, nothing left */
}

void mpt_test_sticky(void)
{
    /* a type error first, then valid values of every kind: all fail the same way */
    uint8_t buf[64];
    proto_rd_t r;
    mpt_rd_hex(&r, "a1610193c0c3c401ffa161", buf, sizeof buf);
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
    mpt_rd_hex(&r, "01cd1000c0", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, 10, &v), PROTO_OK);
    CHECK_EQ(proto_rd_uint(&r, 10, &v), PROTO_E_RANGE);
    CHECK_EQ(proto_rd_nil(&r), PROTO_E_RANGE);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_RANGE);

    /* a truncation sticks as well */
    mpt_rd_hex(&r, "cd10", buf, sizeof buf);
    CHECK_EQ(proto_rd_uint(&r, UINT64_MAX, &v), PROTO_E_TRUNCATED);
    CHECK_EQ(proto_rd_skip(&r, 4), PROTO_E_TRUNCATED);
    CHECK_EQ(proto_rd_finish(&r), PROTO_E_TRUNCATED);
}

/* ---- writer ---- */

void mpt_test_writer_vectors(void)
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
    CHECK(mpt_wr_is(&w, "9601a26869c4020102c3c0cd012c"));
    proto_wr_free(&w);

    proto_wr_init(&w);
    proto_wr_bin(&w, NULL, 0);
    proto_wr_str(&w, NULL, 0);
    proto_wr_array(&w, 0);
    CHECK(mpt_wr_is(&w, "c400a090"));
    proto_wr_free(&w);

    /* str of 32 bytes uses str8; raw bytes are appended as given */
    proto_wr_init(&w);
    proto_wr_str(&w, "abcdefghijklmnopqrstuvwxyz012345", 32);
    proto_wr_raw(&w, "\x92\x01\x02", 3);
    CHECK(mpt_wr_is(&w, "d9206162636465666768696a6b6c6d6e6f70717273"
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
    CHECK(mpt_wr_is(&w, "01"));
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

void mpt_test_err_str(void)
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
    mpt_test_uint_roundtrip();
    mpt_test_uint_errors();
    mpt_test_blob_roundtrip(false);
    mpt_test_blob_roundtrip(true);
    mpt_test_blob_errors();
    mpt_test_utf8();
    mpt_test_str_copy();
    mpt_test_array_roundtrip();
    mpt_test_array_errors();
    mpt_test_bool_nil();
    mpt_test_trailing();
    mpt_test_sticky();
    mpt_test_skip_kinds();
    mpt_test_skip_depth();
    mpt_test_skip_deep();
    mpt_test_skip_errors();
    mpt_test_compound_truncation();
    mpt_test_writer_vectors();
    mpt_test_err_str();
    return testutil_done("test_mp");
}
