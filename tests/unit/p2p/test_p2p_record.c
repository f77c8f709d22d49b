/*  test_p2p_record: endpoint and room-name syntax, signing and verifying peer records,
 *  and the strict wire form (round trips, every limit, truncation, trailing bytes,
 *  arity). Also a usage example:
 *
 *      p2p_record_t rec = {0};
 *      snprintf(rec.endpoints[0], P2P_ENDPOINT_MAX, "tcp://10.0.0.1:7000");
 *      rec.n_endpoints = 1;
 *      rec.seq = 1;
 *      rec.expiry_ms = now_ms + 3600 * 1000;
 *      p2p_record_sign(&rec, node_key);           // fills rec.id and rec.sig
 *      proto_wr_t w; proto_wr_init(&w);
 *      p2p_record_write(&w, &rec);                 // wire form
 *      ...
 *      proto_rd_t r; proto_rd_init(&r, buf, len);
 *      if (p2p_record_read(&r, &rec) || proto_rd_finish(&r)) reject(r.err);
 *      if (!p2p_record_verify(&rec)) reject(PROTO_E_BAD_SIG);
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_record.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "testutil.h"

/* Longest valid endpoint: "tcp://" + 112-char host + ":65535" = 124 chars. */
#define HOST_MAX (P2P_ENDPOINT_MAX - 16)

/* ---- helpers ---- */

/* Fills S with N copies of C and a NUL. */
static void s_fill(char *s, char c, size_t n)
{
    memset(s, c, n);
    s[n] = '\0';
}

/* A record with no endpoints and no rooms, all numbers zero, signed by KEY. */
static void s_make_empty(p2p_record_t *rec, const proto_key_t *key)
{
    memset(rec, 0, sizeof *rec);
    p2p_record_sign(rec, key);
}

/* A record with every field at its limit, signed by KEY. */
static void s_make_max(p2p_record_t *rec, const proto_key_t *key)
{
    memset(rec, 0, sizeof *rec);
    for (int i = 0; i < P2P_REC_ENDPOINTS; i++) {
        char host[HOST_MAX + 1];
        s_fill(host, 'a', HOST_MAX);
        host[0] = (char)('a' + i); /* distinct endpoints */
        snprintf(rec->endpoints[i], P2P_ENDPOINT_MAX, "tcp://%s:65535", host);
    }
    rec->n_endpoints = P2P_REC_ENDPOINTS;
    rec->roles = UINT32_MAX;
    for (int i = 0; i < P2P_REC_ROOMS; i++) {
        s_fill(rec->rooms[i], 'r', P2P_ROOM_NAME_MAX - 1);
        snprintf(rec->rooms[i], 3, "%02d", i); /* distinct; overwrites the first 2 chars */
        rec->rooms[i][2] = 'r';
    }
    rec->n_rooms = P2P_REC_ROOMS;
    rec->seq = UINT64_MAX;
    rec->expiry_ms = UINT64_MAX;
    p2p_record_sign(rec, key);
}

/* A small typical record signed by KEY. */
static void s_make_typical(p2p_record_t *rec, const proto_key_t *key)
{
    memset(rec, 0, sizeof *rec);
    snprintf(rec->endpoints[0], P2P_ENDPOINT_MAX, "tcp://10.0.0.1:7000");
    snprintf(rec->endpoints[1], P2P_ENDPOINT_MAX, "tcp://[2001:db8::1]:7000");
    rec->n_endpoints = 2;
    rec->roles = 5;
    snprintf(rec->rooms[0], P2P_ROOM_NAME_MAX, "cohort-a");
    snprintf(rec->rooms[1], P2P_ROOM_NAME_MAX, "study.b_2");
    rec->n_rooms = 2;
    rec->seq = 42;
    rec->expiry_ms = 1700000000000ull;
    p2p_record_sign(rec, key);
}

static bool s_rec_eq(const p2p_record_t *a, const p2p_record_t *b)
{
    if (memcmp(a->id, b->id, P2P_ID_LEN) || a->n_endpoints != b->n_endpoints ||
        a->roles != b->roles || a->n_rooms != b->n_rooms || a->seq != b->seq ||
        a->expiry_ms != b->expiry_ms || memcmp(a->sig, b->sig, PROTO_SIG_LEN))
        return false;
    for (int i = 0; i < a->n_endpoints; i++)
        if (strcmp(a->endpoints[i], b->endpoints[i]))
            return false;
    for (int i = 0; i < a->n_rooms; i++)
        if (strcmp(a->rooms[i], b->rooms[i]))
            return false;
    return true;
}

/* Encodes REC; caller frees. */
static uint8_t *s_encode(const p2p_record_t *rec, size_t *len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_record_write(&w, rec);
    return proto_wr_take(&w, len);
}

/* Decodes exactly one record filling BUF[0..len), from an exact-size heap copy so that
   ASan catches any read past the end. */
static int s_decode(const uint8_t *buf, size_t len, p2p_record_t *rec)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, buf, len);
    proto_rd_t r;
    proto_rd_init(&r, copy, len);
    int rc = p2p_record_read(&r, rec);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    else
        CHECK_EQ(r.err, rc); /* errors are sticky in the reader, semantic ones too */
    free(copy);
    return rc;
}

/* Raw record writer for crafting invalid records: any strings, any counts. */
typedef struct {
    uint32_t arity;
    size_t id_len;
    const char *const *eps;
    uint32_t n_eps;
    uint64_t roles;
    const char *const *rooms;
    uint32_t n_rooms;
    size_t sig_len;
} raw_t;

static uint8_t *s_raw(const raw_t *raw, size_t *len)
{
    static const uint8_t zeros[128];
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, raw->arity);
    proto_wr_bin(&w, zeros, raw->id_len);
    proto_wr_array(&w, raw->n_eps);
    for (uint32_t i = 0; i < raw->n_eps; i++)
        proto_wr_str(&w, raw->eps[i], strlen(raw->eps[i]));
    proto_wr_uint(&w, raw->roles);
    proto_wr_array(&w, raw->n_rooms);
    for (uint32_t i = 0; i < raw->n_rooms; i++)
        proto_wr_str(&w, raw->rooms[i], strlen(raw->rooms[i]));
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, 2);
    proto_wr_bin(&w, zeros, raw->sig_len);
    if (raw->arity == 8)
        proto_wr_uint(&w, 3);
    return proto_wr_take(&w, len);
}

/* Decodes a crafted record and returns the result. */
static int s_raw_decode(const raw_t *raw)
{
    size_t len;
    uint8_t *buf = s_raw(raw, &len);
    p2p_record_t rec;
    int rc = s_decode(buf, len, &rec);
    free(buf);
    return rc;
}

static raw_t s_raw_ok(void)
{
    static const char *const eps[] = {"tcp://h:1"};
    static const char *const rooms[] = {"a"};
    return (raw_t){.arity = 7,
                   .id_len = P2P_ID_LEN,
                   .eps = eps,
                   .n_eps = 1,
                   .rooms = rooms,
                   .n_rooms = 1,
                   .sig_len = PROTO_SIG_LEN};
}

/* ---- syntax ---- */

static void test_endpoint_syntax(void)
{
    char buf[P2P_ENDPOINT_MAX + 32];
    char host[HOST_MAX + 2];

    CHECK(p2p_endpoint_ok("tcp://127.0.0.1:5555"));
    CHECK(p2p_endpoint_ok("tcp://h:1"));
    CHECK(p2p_endpoint_ok("tcp://h:65535"));
    CHECK(p2p_endpoint_ok("tcp://node-1.Example.ORG:7000"));
    CHECK(p2p_endpoint_ok("tcp://[::1]:80"));
    CHECK(p2p_endpoint_ok("tcp://[2001:db8::1]:9000"));
    CHECK(p2p_endpoint_ok("tcp://[::ffff:1.2.3.4]:1"));
    s_fill(host, 'x', HOST_MAX);
    snprintf(buf, sizeof buf, "tcp://%s:65535", host);
    CHECK(p2p_endpoint_ok(buf)); /* longest valid endpoint */
    CHECK(strlen(buf) < P2P_ENDPOINT_MAX);

    CHECK(!p2p_endpoint_ok(NULL));
    CHECK(!p2p_endpoint_ok(""));
    CHECK(!p2p_endpoint_ok("tcp://"));
    CHECK(!p2p_endpoint_ok("tcp://:1"));
    CHECK(!p2p_endpoint_ok("tcp://h:0"));
    CHECK(!p2p_endpoint_ok("tcp://h:65536"));
    CHECK(!p2p_endpoint_ok("tcp://h:99999"));
    CHECK(!p2p_endpoint_ok("tcp://h:123456"));
    CHECK(!p2p_endpoint_ok("udp://h:1"));
    CHECK(!p2p_endpoint_ok("TCP://h:1"));
    CHECK(!p2p_endpoint_ok("ipc://h:1"));
    CHECK(!p2p_endpoint_ok("tcp://h:1x"));
    CHECK(!p2p_endpoint_ok("tcp://h:1 "));
    CHECK(!p2p_endpoint_ok("tcp://h:1/"));
    CHECK(!p2p_endpoint_ok("tcp://h"));
    CHECK(!p2p_endpoint_ok("tcp://h:"));
    CHECK(!p2p_endpoint_ok("tcp://h:01"));
    CHECK(!p2p_endpoint_ok("tcp://h:-1"));
    CHECK(!p2p_endpoint_ok("tcp://h:+1"));
    CHECK(!p2p_endpoint_ok("tcp://h h:1"));
    CHECK(!p2p_endpoint_ok("tcp://h/x:1"));
    CHECK(!p2p_endpoint_ok("tcp://h_x:1"));
    CHECK(!p2p_endpoint_ok("tcp://*:1"));
    CHECK(!p2p_endpoint_ok("tcp://u@h:1"));
    CHECK(!p2p_endpoint_ok("tcp://::1:80"));
    CHECK(!p2p_endpoint_ok("tcp://[::1]"));
    CHECK(!p2p_endpoint_ok("tcp://[::1:80"));
    CHECK(!p2p_endpoint_ok("tcp://::1]:80"));
    CHECK(!p2p_endpoint_ok("tcp://[]:80"));
    CHECK(!p2p_endpoint_ok("tcp://[zz]:80"));
    CHECK(!p2p_endpoint_ok("tcp://[1.2.3.4]:80"));
    CHECK(!p2p_endpoint_ok("tcp://[::1]x:80"));
    CHECK(!p2p_endpoint_ok("tcp://[::1%eth0]:80"));
    CHECK(!p2p_endpoint_ok(" tcp://h:1"));
    s_fill(host, 'x', HOST_MAX + 1);
    snprintf(buf, sizeof buf, "tcp://%s:1", host);
    CHECK(!p2p_endpoint_ok(buf)); /* host one char too long */

    /* Not NUL-terminated within P2P_ENDPOINT_MAX: rejected without over-reading. */
    char *unterminated = malloc(P2P_ENDPOINT_MAX);
    memcpy(unterminated, "tcp://", 6);
    memset(unterminated + 6, 'x', P2P_ENDPOINT_MAX - 6);
    CHECK(!p2p_endpoint_ok(unterminated));
    free(unterminated);
}

static void test_room_syntax(void)
{
    char name[P2P_ROOM_NAME_MAX + 1];

    CHECK(p2p_room_name_ok("a"));
    CHECK(p2p_room_name_ok("0"));
    CHECK(p2p_room_name_ok("cohort-a"));
    CHECK(p2p_room_name_ok("x.y_z-0"));
    s_fill(name, 'z', P2P_ROOM_NAME_MAX - 1);
    CHECK(p2p_room_name_ok(name)); /* 63 chars */

    CHECK(!p2p_room_name_ok(NULL));
    CHECK(!p2p_room_name_ok(""));
    CHECK(!p2p_room_name_ok("A"));
    CHECK(!p2p_room_name_ok("a b"));
    CHECK(!p2p_room_name_ok("a/b"));
    CHECK(!p2p_room_name_ok("a\n"));
    CHECK(!p2p_room_name_ok("caf\xc3\xa9"));
    s_fill(name, 'z', P2P_ROOM_NAME_MAX);
    CHECK(!p2p_room_name_ok(name)); /* 64 chars */
}

/* ---- signing ---- */

static void test_sign_verify(const proto_key_t *k1, const proto_key_t *k2)
{
    p2p_record_t rec, bad;

    s_make_typical(&rec, k1);
    CHECK(memcmp(rec.id, proto_key_public(k1), P2P_ID_LEN) == 0);
    CHECK(p2p_record_verify(&rec));

    bad = rec;
    bad.id[0] ^= 1;
    CHECK(!p2p_record_verify(&bad));
    bad = rec;
    memcpy(bad.id, proto_key_public(k2), P2P_ID_LEN);
    CHECK(!p2p_record_verify(&bad));

    bad = rec;
    bad.endpoints[0][strlen(bad.endpoints[0]) - 1] = '1';
    CHECK(!p2p_record_verify(&bad));
    bad = rec;
    snprintf(bad.endpoints[1], P2P_ENDPOINT_MAX, "tcp://[2001:db8::2]:7000");
    CHECK(!p2p_record_verify(&bad));
    bad = rec;
    bad.n_endpoints = 1; /* dropping an endpoint */
    CHECK(!p2p_record_verify(&bad));

    bad = rec;
    bad.roles ^= 1u << 31;
    CHECK(!p2p_record_verify(&bad));

    bad = rec;
    bad.rooms[1][0] = 't';
    CHECK(!p2p_record_verify(&bad));
    bad = rec;
    snprintf(bad.rooms[2], P2P_ROOM_NAME_MAX, "extra");
    bad.n_rooms = 3; /* adding a room */
    CHECK(!p2p_record_verify(&bad));

    bad = rec;
    bad.seq++;
    CHECK(!p2p_record_verify(&bad));
    bad = rec;
    bad.expiry_ms++;
    CHECK(!p2p_record_verify(&bad));
    bad = rec;
    bad.sig[10] ^= 0x40;
    CHECK(!p2p_record_verify(&bad));

    /* Same content signed by another key, claimed as k1's. */
    bad = rec;
    p2p_record_sign(&bad, k2);
    CHECK(p2p_record_verify(&bad)); /* k2's own record verifies */
    memcpy(bad.id, proto_key_public(k1), P2P_ID_LEN);
    CHECK(!p2p_record_verify(&bad));

    /* Corrupt counts never verify (and are not over-read). */
    bad = rec;
    bad.n_rooms = P2P_REC_ROOMS + 1;
    CHECK(!p2p_record_verify(&bad));
    bad = rec;
    bad.n_endpoints = P2P_REC_ENDPOINTS + 1;
    CHECK(!p2p_record_verify(&bad));

    /* Re-signing after a change makes it verify again, with the new content. */
    bad = rec;
    bad.seq = 43;
    p2p_record_sign(&bad, k1);
    CHECK(p2p_record_verify(&bad));
    CHECK(memcmp(bad.sig, rec.sig, PROTO_SIG_LEN) != 0);

    /* Empty and maximal records sign and verify, and still verify after a round trip. */
    p2p_record_t recs[3], back;
    s_make_empty(&recs[0], k1);
    s_make_max(&recs[1], k2);
    recs[2] = rec;
    for (int i = 0; i < 3; i++) {
        CHECK(p2p_record_verify(&recs[i]));
        size_t len;
        uint8_t *buf = s_encode(&recs[i], &len);
        CHECK_EQ(s_decode(buf, len, &back), PROTO_OK);
        CHECK(p2p_record_verify(&back));
        free(buf);
    }
}

/* ---- wire form ---- */

static void test_round_trip(const proto_key_t *key)
{
    p2p_record_t recs[3], back;
    s_make_empty(&recs[0], key);
    s_make_max(&recs[1], key);
    s_make_typical(&recs[2], key);

    for (int i = 0; i < 3; i++) {
        size_t len, len2;
        uint8_t *buf = s_encode(&recs[i], &len);
        CHECK(buf != NULL);
        CHECK(len <= P2P_RECORD_MAX_BYTES);
        CHECK_EQ(s_decode(buf, len, &back), PROTO_OK);
        CHECK(s_rec_eq(&recs[i], &back));
        uint8_t *buf2 = s_encode(&back, &len2);
        CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
        free(buf2);

        /* Truncation at every offset is an error (never a crash or a success). */
        int truncated_ok = 0;
        for (size_t cut = 0; cut < len; cut++)
            if (s_decode(buf, cut, &back) == PROTO_OK)
                truncated_ok++;
        CHECK_EQ(truncated_ok, 0);

        /* One trailing byte. */
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, buf, len);
        longer[len] = 0xc0;
        CHECK_EQ(s_decode(longer, len + 1, &back), PROTO_E_TRAILING);
        free(longer);
        free(buf);
    }

    /* The maximal record's exact size is within the advertised bound. */
    size_t len;
    uint8_t *buf = s_encode(&recs[1], &len);
    printf("maximal record: %zu bytes (bound %d)\n", len, (int)P2P_RECORD_MAX_BYTES);
    free(buf);
}

static void test_limits(void)
{
    raw_t raw = s_raw_ok();
    CHECK_EQ(s_raw_decode(&raw), PROTO_OK);

    /* Arity. */
    raw = s_raw_ok();
    raw.arity = 8;
    CHECK_EQ(s_raw_decode(&raw), PROTO_E_ARITY);
    {
        /* 6 fields: the signature missing. */
        proto_wr_t w;
        size_t len;
        proto_wr_init(&w);
        proto_wr_array(&w, 6);
        proto_wr_bin(&w, (const uint8_t[32]){0}, 32);
        proto_wr_array(&w, 0);
        proto_wr_uint(&w, 0);
        proto_wr_array(&w, 0);
        proto_wr_uint(&w, 0);
        proto_wr_uint(&w, 0);
        uint8_t *buf = proto_wr_take(&w, &len);
        p2p_record_t rec;
        CHECK_EQ(s_decode(buf, len, &rec), PROTO_E_ARITY);
        free(buf);
    }
    {
        /* Not an array at all. */
        const uint8_t map[] = {0x80};
        p2p_record_t rec;
        CHECK_EQ(s_decode(map, sizeof map, &rec), PROTO_E_TYPE);
    }

    /* Id and signature sizes. */
    raw = s_raw_ok();
    raw.id_len = 31;
    CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
    raw.id_len = 33;
    CHECK_EQ(s_raw_decode(&raw), PROTO_E_TOO_LONG);
    raw = s_raw_ok();
    raw.sig_len = 63;
    CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
    raw.sig_len = 65;
    CHECK_EQ(s_raw_decode(&raw), PROTO_E_TOO_LONG);

    /* Roles fit uint32. */
    raw = s_raw_ok();
    raw.roles = UINT32_MAX;
    CHECK_EQ(s_raw_decode(&raw), PROTO_OK);
    raw.roles = (uint64_t)UINT32_MAX + 1;
    CHECK_EQ(s_raw_decode(&raw), PROTO_E_RANGE);

    /* Endpoint count: 0 (a node that does not listen) and 4 are fine, 5 is too many. */
    static const char *const eps5[] = {"tcp://a:1", "tcp://b:1", "tcp://c:1", "tcp://d:1",
                                       "tcp://e:1"};
    raw = s_raw_ok();
    raw.eps = eps5;
    raw.n_eps = 0;
    CHECK_EQ(s_raw_decode(&raw), PROTO_OK);
    raw.n_eps = 4;
    CHECK_EQ(s_raw_decode(&raw), PROTO_OK);
    raw.n_eps = 5;
    CHECK_EQ(s_raw_decode(&raw), PROTO_E_TOO_LONG);

    /* Endpoint length: 127 bytes fits the buffer (but is not a valid endpoint), 128 does
       not fit. */
    {
        char long_ep[P2P_ENDPOINT_MAX + 1];
        const char *eps[] = {long_ep};
        s_fill(long_ep, 'x', P2P_ENDPOINT_MAX - 1);
        memcpy(long_ep, "tcp://", 6);
        memcpy(long_ep + P2P_ENDPOINT_MAX - 3, ":1", 2);
        raw = s_raw_ok();
        raw.eps = eps;
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
        s_fill(long_ep, 'x', P2P_ENDPOINT_MAX);
        memcpy(long_ep, "tcp://", 6);
        memcpy(long_ep + P2P_ENDPOINT_MAX - 2, ":1", 2);
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_TOO_LONG);
    }

    /* Endpoint syntax is checked on decode. */
    static const char *const bad_eps[] = {"tcp://:1",   "tcp://h:0", "tcp://h:65536", "udp://h:1",
                                          "tcp://h:1x", "",          "tcp://[::1]"};
    for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
        const char *eps[] = {"tcp://ok:1", bad_eps[i]};
        raw = s_raw_ok();
        raw.eps = eps;
        raw.n_eps = 2;
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
    }
    {
        /* Strings that are not UTF-8 or hold a NUL are refused by the reader itself. */
        const char *eps[] = {"tcp://h\xff:1"};
        raw = s_raw_ok();
        raw.eps = eps;
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
    }

    /* Room count: 32 fine, 33 too many. */
    {
        char names[P2P_REC_ROOMS + 1][8];
        const char *rooms[P2P_REC_ROOMS + 1];
        for (int i = 0; i <= P2P_REC_ROOMS; i++) {
            snprintf(names[i], sizeof names[i], "r%d", i);
            rooms[i] = names[i];
        }
        raw = s_raw_ok();
        raw.rooms = rooms;
        raw.n_rooms = P2P_REC_ROOMS;
        CHECK_EQ(s_raw_decode(&raw), PROTO_OK);
        raw.n_rooms = P2P_REC_ROOMS + 1;
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_TOO_LONG);
        raw.n_rooms = 0;
        CHECK_EQ(s_raw_decode(&raw), PROTO_OK);

        /* Duplicate rooms (adjacent and not). */
        rooms[5] = rooms[4];
        raw.n_rooms = 6;
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
        rooms[5] = rooms[0];
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
    }

    /* Room names: syntax and length. */
    {
        char r63[P2P_ROOM_NAME_MAX], r64[P2P_ROOM_NAME_MAX + 1];
        s_fill(r63, 'q', P2P_ROOM_NAME_MAX - 1);
        s_fill(r64, 'q', P2P_ROOM_NAME_MAX);
        const char *rooms[] = {"a", r63};
        raw = s_raw_ok();
        raw.rooms = rooms;
        raw.n_rooms = 2;
        CHECK_EQ(s_raw_decode(&raw), PROTO_OK);
        rooms[1] = r64;
        CHECK_EQ(s_raw_decode(&raw), PROTO_E_TOO_LONG);
        static const char *const bad[] = {"", "A", "a b", "a/b", "caf\xc3\xa9"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            rooms[1] = bad[i];
            CHECK_EQ(s_raw_decode(&raw), PROTO_E_INVALID);
        }
    }
}

static void test_noncanonical(const proto_key_t *key)
{
    /* roles = 5 re-encoded as uint32 (0xce 00 00 00 05) is rejected, not normalised. */
    p2p_record_t rec, back;
    s_make_empty(&rec, key);
    rec.roles = 5;
    size_t len;
    uint8_t *buf = s_encode(&rec, &len);
    /* layout: 0x97, 0xc4 0x20 id[32], 0x90, roles ... */
    size_t roles_at = 1 + 2 + P2P_ID_LEN + 1;
    CHECK_EQ(buf[roles_at], 0x05);
    uint8_t *wide = malloc(len + 4);
    memcpy(wide, buf, roles_at);
    const uint8_t u32[] = {0xce, 0, 0, 0, 5};
    memcpy(wide + roles_at, u32, sizeof u32);
    memcpy(wide + roles_at + sizeof u32, buf + roles_at + 1, len - roles_at - 1);
    CHECK_EQ(s_decode(wide, len + 4, &back), PROTO_E_NONCANONICAL);
    CHECK_EQ(s_decode(buf, len, &back), PROTO_OK);
    free(wide);
    free(buf);
}

static void test_has_room(const proto_key_t *key)
{
    p2p_record_t rec;
    s_make_typical(&rec, key);
    CHECK(p2p_record_has_room(&rec, "cohort-a"));
    CHECK(p2p_record_has_room(&rec, "study.b_2"));
    CHECK(!p2p_record_has_room(&rec, "cohort"));
    CHECK(!p2p_record_has_room(&rec, "cohort-ab"));
    CHECK(!p2p_record_has_room(&rec, ""));
    rec.n_rooms = 1;
    CHECK(!p2p_record_has_room(&rec, "study.b_2"));
    s_make_empty(&rec, key);
    CHECK(!p2p_record_has_room(&rec, "cohort-a"));
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "proto_crypto_init failed\n");
        return 1;
    }
    proto_key_t *k1 = proto_key_generate();
    proto_key_t *k2 = proto_key_generate();
    CHECK(k1 != NULL && k2 != NULL);
    if (k1 && k2) {
        test_endpoint_syntax();
        test_room_syntax();
        test_sign_verify(k1, k2);
        test_round_trip(k1);
        test_limits();
        test_noncanonical(k1);
        test_has_room(k1);
    }
    proto_key_destroy(&k1);
    proto_key_destroy(&k2);
    return testutil_done("test_p2p_record");
}
