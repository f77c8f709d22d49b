/*  test_enclave_wire: the host <-> enclave protocol's codecs and frames.
 *
 *  Shows: every request and answer type round-trips (decode(encode(x)) == x, and
 *  encode(decode(b)) == b); every proper prefix of a valid message is refused; a wrong
 *  version, an unknown type, a wrong arity, a key of the wrong size, trailing bytes and a
 *  non-canonical integer are refused with their codes; encoders refuse what decoders would;
 *  frames cross a socketpair whole, one of up to 16 KiB in one write (a reader never wakes
 *  for its prefix alone), a declared length over the maximum is refused without
 *  allocating, a silent peer times out, and a clean close is told from a close mid-frame.
 *  The query enclave's messages (CHAIN, MODEL_LOAD, QUERY, USAGE and their answers) keep
 *  every field through a round trip; an empty genesis and a proof over the bound are
 *  refused both ways; CHAIN is the host's own (not relayable).
 *  Random contents come from a printed seed.
 */
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_train_config.h"
#include "enclave/enclave_wire.h"
#include "proto/proto_mp.h"
#include "testutil.h"

static uint8_t s_blob[300];

static void s_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rand();
}

/* One request of each type with random contents. */
static size_t s_requests(enclave_req_t *out)
{
    size_t n = 0;
    memset(out, 0, 9 * sizeof *out);
    out[n].type = ENCLAVE_REQ_INIT;
    out[n].u.init.kind = ENCLAVE_KIND_TRAINING;
    s_fill(out[n].u.init.nonce, 32);
    s_fill(out[n].u.init.seal_key, 32);
    s_fill(out[n++].u.init.chain_id, 32);
    out[n++].type = ENCLAVE_REQ_PING;
    out[n].type = ENCLAVE_REQ_VALIDATE;
    out[n].u.validate.data_type = 1;
    s_fill(out[n].u.validate.salt, 32);
    out[n].u.validate.data = s_blob;
    out[n++].u.validate.data_len = sizeof s_blob;
    out[n].type = ENCLAVE_REQ_DONATE;
    s_fill(out[n].u.donate.spec_id, 32);
    s_fill(out[n].u.donate.data_id, 32);
    s_fill(out[n].u.donate.donor, 32);
    s_fill(out[n].u.donate.commitment, 32);
    out[n].u.donate.sealed = s_blob;
    out[n++].u.donate.sealed_len = 100;
    out[n++].type = ENCLAVE_REQ_STATS;
    out[n].type = ENCLAVE_REQ_DROP;
    s_fill(out[n++].u.drop.data_id, 32);
    out[n].type = ENCLAVE_REQ_VALIDATE_SEALED;
    out[n].u.validate_sealed.data_type = 2;
    out[n].u.validate_sealed.sealed = s_blob;
    out[n++].u.validate_sealed.sealed_len = 150;
    out[n].type = ENCLAVE_REQ_QUERY;
    out[n].u.query.sealed = s_blob;
    out[n++].u.query.sealed_len = 0; /* empty is well formed on the wire */
    out[n].type = ENCLAVE_REQ_DONATE_KEYED;
    s_fill(out[n].u.donate_keyed.spec_id, 32);
    s_fill(out[n].u.donate_keyed.data_id, 32);
    s_fill(out[n].u.donate_keyed.donor, 32);
    out[n].u.donate_keyed.grant = s_blob + 10;
    out[n].u.donate_keyed.grant_len = 112;
    out[n].u.donate_keyed.blob = s_blob;
    out[n++].u.donate_keyed.blob_len = 290;
    return n;
}

static bool s_req_equal(const enclave_req_t *a, const enclave_req_t *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case ENCLAVE_REQ_INIT:
        return memcmp(&a->u.init, &b->u.init, sizeof a->u.init) == 0;
    case ENCLAVE_REQ_VALIDATE:
        return a->u.validate.data_type == b->u.validate.data_type &&
               memcmp(a->u.validate.salt, b->u.validate.salt, 32) == 0 &&
               a->u.validate.data_len == b->u.validate.data_len &&
               memcmp(a->u.validate.data, b->u.validate.data, a->u.validate.data_len) == 0;
    case ENCLAVE_REQ_DONATE:
        return memcmp(a->u.donate.spec_id, b->u.donate.spec_id, 32) == 0 &&
               memcmp(a->u.donate.data_id, b->u.donate.data_id, 32) == 0 &&
               memcmp(a->u.donate.donor, b->u.donate.donor, 32) == 0 &&
               memcmp(a->u.donate.commitment, b->u.donate.commitment, 32) == 0 &&
               a->u.donate.sealed_len == b->u.donate.sealed_len &&
               memcmp(a->u.donate.sealed, b->u.donate.sealed, a->u.donate.sealed_len) == 0;
    case ENCLAVE_REQ_VALIDATE_SEALED:
        return a->u.validate_sealed.data_type == b->u.validate_sealed.data_type &&
               a->u.validate_sealed.sealed_len == b->u.validate_sealed.sealed_len &&
               memcmp(a->u.validate_sealed.sealed, b->u.validate_sealed.sealed,
                      a->u.validate_sealed.sealed_len) == 0;
    case ENCLAVE_REQ_DONATE_KEYED:
        return memcmp(a->u.donate_keyed.spec_id, b->u.donate_keyed.spec_id, 32) == 0 &&
               memcmp(a->u.donate_keyed.data_id, b->u.donate_keyed.data_id, 32) == 0 &&
               memcmp(a->u.donate_keyed.donor, b->u.donate_keyed.donor, 32) == 0 &&
               a->u.donate_keyed.grant_len == b->u.donate_keyed.grant_len &&
               memcmp(a->u.donate_keyed.grant, b->u.donate_keyed.grant,
                      a->u.donate_keyed.grant_len) == 0 &&
               a->u.donate_keyed.blob_len == b->u.donate_keyed.blob_len &&
               memcmp(a->u.donate_keyed.blob, b->u.donate_keyed.blob, a->u.donate_keyed.blob_len) ==
                   0;
    case ENCLAVE_REQ_DROP:
        return memcmp(a->u.drop.data_id, b->u.drop.data_id, 32) == 0;
    case ENCLAVE_REQ_QUERY:
        return a->u.query.sealed_len == b->u.query.sealed_len;
    default:
        return true;
    }
}

/* True if BUF is exactly one complete msgpack object by msgpack-c's own parser: an array
   header must announce exactly the elements that follow (the wire's reader, which reads
   fields in order, would not see a header that claims one element too many at the end). */
static bool s_one_object(const uint8_t *buf, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack_next(&u, (const char *)buf, len, &off);
    msgpack_unpacked_destroy(&u);
    return rc == MSGPACK_UNPACK_SUCCESS && off == len;
}

static void s_test_requests(void)
{
    enclave_req_t reqs[9];
    size_t n = s_requests(reqs);
    for (size_t i = 0; i < n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        CHECK_EQ(enclave_wire_req_encode(&reqs[i], &buf, &len), 0);
        CHECK(s_one_object(buf, len));
        enclave_req_t back;
        CHECK_EQ(enclave_wire_req_decode(buf, len, &back), 0);
        CHECK(s_req_equal(&reqs[i], &back));
        uint8_t *again = NULL;
        size_t again_len = 0;
        CHECK_EQ(enclave_wire_req_encode(&back, &again, &again_len), 0);
        CHECK(again_len == len && memcmp(again, buf, len) == 0);
        free(again);
        /* every proper prefix is refused */
        int bad = 0;
        for (size_t cut = 0; cut < len; cut++) {
            enclave_req_t r;
            if (enclave_wire_req_decode(buf, cut, &r) == 0)
                bad++;
        }
        CHECK_EQ(bad, 0);
        /* a trailing byte is refused */
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, buf, len);
        longer[len] = 0xc0;
        enclave_req_t r;
        CHECK_EQ(enclave_wire_req_decode(longer, len + 1, &r), PROTO_E_TRAILING);
        /* an answer decoder refuses a request (types are disjoint) */
        enclave_ans_t a;
        CHECK_EQ(enclave_wire_ans_decode(buf, len, &a), PROTO_E_UNKNOWN_TYPE);
        free(longer);
        free(buf);
    }
}

/* Encodes a raw array of N msgpack uints/bins given by the caller. */
static void s_raw(proto_wr_t *w, uint32_t n, uint64_t version, uint64_t type)
{
    proto_wr_init(w);
    proto_wr_array(w, n);
    proto_wr_uint(w, version);
    proto_wr_uint(w, type);
}

static void s_test_refusals(void)
{
    uint8_t k32[32] = {0}, k31[31] = {0};
    enclave_req_t r;
    proto_wr_t w;
    size_t len;
    const uint8_t *p;

    s_raw(&w, 2, 2, ENCLAVE_REQ_PING); /* version 2 */
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_VERSION);
    proto_wr_free(&w);

    s_raw(&w, 2, 1, 99); /* unknown type */
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_UNKNOWN_TYPE);
    proto_wr_free(&w);

    s_raw(&w, 3, 1, ENCLAVE_REQ_PING); /* PING with an extra field */
    proto_wr_uint(&w, 0);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_ARITY);
    proto_wr_free(&w);

    s_raw(&w, 3, 1, ENCLAVE_REQ_DROP); /* a 31-byte data id */
    proto_wr_bin(&w, k31, sizeof k31);
    p = proto_wr_data(&w, &len);
    CHECK(enclave_wire_req_decode(p, len, &r) != 0);
    proto_wr_free(&w);

    s_raw(&w, 3, 1, ENCLAVE_REQ_DROP); /* a string where a bin belongs */
    proto_wr_str(&w, (const char *)"abcdefghabcdefghabcdefghabcdefgh", 32);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_TYPE);
    proto_wr_free(&w);

    s_raw(&w, 6, 1, ENCLAVE_REQ_INIT); /* kind 9 */
    proto_wr_uint(&w, 9);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_RANGE);
    proto_wr_free(&w);
    s_raw(&w, 5, 1, ENCLAVE_REQ_INIT); /* the v1 INIT: no chain id */
    proto_wr_uint(&w, ENCLAVE_KIND_QUERY);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_ARITY);
    proto_wr_free(&w);
    s_raw(&w, 6, 1, ENCLAVE_REQ_INIT); /* a 31-byte chain id */
    proto_wr_uint(&w, ENCLAVE_KIND_QUERY);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k31, sizeof k31);
    p = proto_wr_data(&w, &len);
    CHECK(enclave_wire_req_decode(p, len, &r) != 0);
    proto_wr_free(&w);

    /* DONATE_KEYED: a grant over ENCLAVE_WIRE_MAX_GRANT is refused both ways */
    uint8_t big_grant[ENCLAVE_WIRE_MAX_GRANT + 1];
    memset(big_grant, 7, sizeof big_grant);
    s_raw(&w, 7, 1, ENCLAVE_REQ_DONATE_KEYED);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, big_grant, sizeof big_grant);
    proto_wr_bin(&w, k32, 32);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_TOO_LONG);
    proto_wr_free(&w);
    enclave_req_t kr = {.type = ENCLAVE_REQ_DONATE_KEYED};
    kr.u.donate_keyed.grant = big_grant;
    kr.u.donate_keyed.grant_len = sizeof big_grant;
    uint8_t *kbuf = NULL;
    size_t klen = 0;
    CHECK_EQ(enclave_wire_req_encode(&kr, &kbuf, &klen), PROTO_E_INVALID);
    free(kbuf);
    s_raw(&w, 6, 1, ENCLAVE_REQ_DONATE_KEYED); /* the blob missing */
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_ARITY);
    proto_wr_free(&w);

    /* a non-canonical version (uint8 0xcc 0x01 instead of fixint 1) */
    const uint8_t noncanon[] = {0x92, 0xcc, 0x01, 0x02};
    CHECK_EQ(enclave_wire_req_decode(noncanon, sizeof noncanon, &r), PROTO_E_NONCANONICAL);
    /* a bin32 header claiming 4 GiB in a 10-byte message: refused, nothing allocated */
    const uint8_t huge[] = {0x93, 0x01, 0x07, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00};
    CHECK(enclave_wire_req_decode(huge, sizeof huge, &r) != 0);
    CHECK_EQ(enclave_wire_req_decode(NULL, 0, &r), PROTO_E_TRUNCATED);

    /* encoders refuse what decoders would */
    uint8_t *buf = NULL;
    r.type = (enclave_req_type_t)42;
    CHECK_EQ(enclave_wire_req_encode(&r, &buf, &len), PROTO_E_INVALID);
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_INIT;
    r.u.init.kind = (enclave_kind_t)7;
    CHECK_EQ(enclave_wire_req_encode(&r, &buf, &len), PROTO_E_INVALID);
    enclave_ans_t a;
    memset(&a, 0, sizeof a);
    a.type = ENCLAVE_ANS_ERROR;
    a.u.error.code = 5; /* codes are negative */
    CHECK_EQ(enclave_wire_ans_encode(&a, &buf, &len), PROTO_E_INVALID);
    CHECK(buf == NULL);
}

static void s_test_answers(void)
{
    enclave_ans_t as[8];
    memset(as, 0, sizeof as);
    size_t n = 0;
    as[n].type = ENCLAVE_ANS_ERROR;
    as[n].u.error.code = ENCLAVE_E_COMMIT;
    strcpy(as[n++].u.error.msg, "data does not match");
    as[n].type = ENCLAVE_ANS_INIT;
    s_fill(as[n].u.init.sign_pk, 32);
    s_fill(as[n].u.init.box_pk, 32);
    uint8_t chain[32];
    s_fill(chain, 32);
    enclave_wire_report_data(ENCLAVE_KIND_QUERY, chain, as[n].u.init.report_data);
    s_fill(as[n++].u.init.nonce, 32);
    as[n++].type = ENCLAVE_ANS_PONG;
    as[n].type = ENCLAVE_ANS_REPORT;
    as[n].u.blob.bytes = s_blob;
    as[n++].u.blob.len = 200;
    as[n].type = ENCLAVE_ANS_RECEIPT;
    as[n].u.blob.bytes = s_blob;
    as[n++].u.blob.len = 190;
    as[n].type = ENCLAVE_ANS_STATS;
    as[n].u.stats.donations = 3;
    as[n++].u.stats.bytes = 1ull << 40;
    as[n].type = ENCLAVE_ANS_DROPPED;
    as[n++].u.dropped.found = true;
    as[n].type = ENCLAVE_ANS_QUERY;
    as[n].u.blob.bytes = s_blob;
    as[n++].u.blob.len = 56;
    for (size_t i = 0; i < n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        CHECK_EQ(enclave_wire_ans_encode(&as[i], &buf, &len), 0);
        CHECK(s_one_object(buf, len));
        enclave_ans_t back;
        CHECK_EQ(enclave_wire_ans_decode(buf, len, &back), 0);
        CHECK_EQ(back.type, as[i].type);
        uint8_t *again = NULL;
        size_t again_len = 0;
        CHECK_EQ(enclave_wire_ans_encode(&back, &again, &again_len), 0);
        CHECK(again_len == len && memcmp(again, buf, len) == 0);
        if (as[i].type == ENCLAVE_ANS_ERROR) {
            CHECK_EQ(back.u.error.code, ENCLAVE_E_COMMIT);
            CHECK(strcmp(back.u.error.msg, "data does not match") == 0);
        }
        int bad = 0;
        for (size_t cut = 0; cut < len; cut++) {
            enclave_ans_t a;
            if (enclave_wire_ans_decode(buf, cut, &a) == 0)
                bad++;
        }
        CHECK_EQ(bad, 0);
        free(again);
        free(buf);
    }
}

static void s_test_frames(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    uint8_t msg[1000];
    s_fill(msg, sizeof msg);
    CHECK_EQ(enclave_wire_send(sv[0], msg, sizeof msg), 0);
    CHECK_EQ(enclave_wire_send(sv[0], msg, 0), 0);
    uint8_t *got = NULL;
    size_t len = 0;
    CHECK_EQ(enclave_wire_recv(sv[1], 1000, &got, &len), 0);
    CHECK(len == sizeof msg && memcmp(got, msg, len) == 0);
    free(got);
    CHECK_EQ(enclave_wire_recv(sv[1], -1, &got, &len), 0);
    CHECK_EQ(len, 0u);
    free(got);
    /* nothing sent: the deadline passes */
    CHECK_EQ(enclave_wire_recv(sv[1], 20, &got, &len), ENCLAVE_E_TIMEOUT);
    CHECK(got == NULL);
    /* a declared length over the maximum: refused before any allocation */
    const uint8_t big[4] = {0x01, 0x00, 0x00, 0x01};
    CHECK(write(sv[0], big, 4) == 4);
    CHECK_EQ(enclave_wire_recv(sv[1], 1000, &got, &len), PROTO_E_TOO_BIG);
    CHECK_EQ(enclave_wire_send(sv[0], msg, ENCLAVE_WIRE_MAX_FRAME + 1u), PROTO_E_TOO_BIG);
    /* a frame cut short by the peer's close, then a clean close */
    const uint8_t part[6] = {0x00, 0x00, 0x00, 0x10, 0xaa, 0xbb};
    CHECK(write(sv[0], part, sizeof part) == (ssize_t)sizeof part);
    close(sv[0]);
    CHECK_EQ(enclave_wire_recv(sv[1], 1000, &got, &len), PROTO_E_IO);
    CHECK(len != 0);
    CHECK_EQ(enclave_wire_recv(sv[1], 1000, &got, &len), PROTO_E_IO);
    CHECK_EQ(len, 0u);
    close(sv[1]);
    /* sending to a closed peer is an error, not SIGPIPE */
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    close(sv[1]);
    CHECK_EQ(enclave_wire_send(sv[0], msg, 10), PROTO_E_IO);
    close(sv[0]);
}

/*  A frame of up to 16 KiB (prefix included) leaves in one write, so its reader wakes once
 *  for it, never for a prefix alone; a bigger one is the prefix, then the body. On a
 *  SEQPACKET pair each write is one record, which shows the writes. */
static void s_test_one_write(void)
{
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == 0);
    const size_t sizes[] = {0, 1, 6000, 16384 - 4, 16384 - 3, 40000};
    uint8_t *body = malloc(40000), *rec = malloc(40004 + 1);
    REQUIRE(body && rec);
    s_fill(body, 40000);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        CHECK_EQ(enclave_wire_send(sp[0], body, len), 0);
        ssize_t n = recv(sp[1], rec, 40004 + 1, 0);
        if (len + 4 <= 16384) {
            CHECK(n == (ssize_t)(len + 4)); /* one record: the whole frame */
            CHECK(n >= 4 && rec[0] == (uint8_t)(len >> 24) && rec[1] == (uint8_t)(len >> 16) &&
                  rec[2] == (uint8_t)(len >> 8) && rec[3] == (uint8_t)len);
            CHECK(n == (ssize_t)(len + 4) && memcmp(rec + 4, body, len) == 0);
        } else {
            CHECK(n == 4); /* the prefix alone, then the body */
            n = recv(sp[1], rec, 40004 + 1, 0);
            CHECK(n == (ssize_t)len && memcmp(rec, body, len) == 0);
        }
    }
    free(body);
    free(rec);
    close(sp[0]);
    close(sp[1]);
}

static void s_test_kinds(void)
{
    enclave_kind_t k;
    CHECK(enclave_kind_parse("validation", &k) == 0 && k == ENCLAVE_KIND_VALIDATION);
    CHECK(enclave_kind_parse("training", &k) == 0 && k == ENCLAVE_KIND_TRAINING);
    CHECK(enclave_kind_parse("query", &k) == 0 && k == ENCLAVE_KIND_QUERY);
    CHECK(enclave_kind_parse("Query", &k) == PROTO_E_INVALID);
    CHECK(enclave_kind_parse(NULL, &k) == PROTO_E_INVALID);
    CHECK(enclave_kind_name((enclave_kind_t)0) == NULL);
    /* report data names the kind and the chain: each changes it */
    uint8_t a[64], b[64], c[64], chain[32], other[32];
    for (size_t i = 0; i < 32; i++)
        chain[i] = (uint8_t)i;
    memcpy(other, chain, 32);
    other[31] ^= 1;
    enclave_wire_report_data(ENCLAVE_KIND_TRAINING, chain, a);
    enclave_wire_report_data(ENCLAVE_KIND_QUERY, chain, b);
    enclave_wire_report_data(ENCLAVE_KIND_QUERY, other, c);
    CHECK(memcmp(a, b, 64) != 0);
    CHECK(memcmp(b, c, 64) != 0);
    /* pinned (PROTOCOL.md's formula, computed apart with Python's hashlib.blake2b):
       BLAKE2b-512("genie-enclave report data v2\0" "query\0" 0x01 || 00 01 .. 1f) */
    static const char want[] = "5aeb11096af1dedd61b1ccab1d64a51ccf6e98a968e3bdf01ccbc37238d218e8"
                               "6c6cb07fe56ee215d2badb100dfc092265927df31cef91c54cd53b31cd5b00da";
    uint8_t pinned[64];
    for (size_t i = 0; i < 64; i++) {
        unsigned v = 0;
        CHECK_EQ(sscanf(want + 2 * i, "%2x", &v), 1);
        pinned[i] = (uint8_t)v;
    }
    CHECK(memcmp(b, pinned, 64) == 0);
}

/* Only requests that carry sealed data, or none, may come through a runner's relay. */
static void test_relayable(void)
{
    CHECK(!enclave_wire_req_relayable(ENCLAVE_REQ_INIT));
    CHECK(!enclave_wire_req_relayable(ENCLAVE_REQ_VALIDATE));
    CHECK(!enclave_wire_req_relayable((enclave_req_type_t)0));
    CHECK(!enclave_wire_req_relayable((enclave_req_type_t)99));
    const enclave_req_type_t ok[] = {
        ENCLAVE_REQ_PING,         ENCLAVE_REQ_DONATE,        ENCLAVE_REQ_STATS,
        ENCLAVE_REQ_DROP,         ENCLAVE_REQ_QUERY,         ENCLAVE_REQ_VALIDATE_SEALED,
        ENCLAVE_REQ_DONATE_KEYED, ENCLAVE_REQ_TRAIN_PREPARE, ENCLAVE_REQ_FED_STEP,
        ENCLAVE_REQ_PUBLISH,      ENCLAVE_REQ_MODEL_SEAL};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK(enclave_wire_req_relayable(ok[i]));
}

/* The wire's bounds for the training requests: the decoder checks party and coordinator
   indices, id sizes and counts; the encoder refuses what it could not send. */
static void test_train_wire(void)
{
    uint8_t ids[3][32];
    randombytes_buf(ids, sizeof ids);
    enclave_train_config_t c;
    enclave_train_config_default(&c);
    c.p = 1;
    snprintf(c.features[0], sizeof c.features[0], "age");
    snprintf(c.label, sizeof c.label, "trait");
    size_t clen = 0;
    uint8_t *cfg = NULL;
    char err[128] = "";
    REQUIRE(enclave_train_config_encode(&c, &cfg, &clen, err, sizeof err) == 0);
    enclave_req_t r, d;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_TRAIN_PREPARE;
    r.u.train_prepare.config = cfg;
    r.u.train_prepare.config_len = clen;
    r.u.train_prepare.party = 1;
    r.u.train_prepare.n_parties = 2;
    r.u.train_prepare.eligible.ids = (const uint8_t(*)[32])ids;
    r.u.train_prepare.eligible.n = 3;
    uint8_t *b = NULL;
    size_t n = 0;
    REQUIRE(enclave_wire_req_encode(&r, &b, &n) == 0);
    CHECK(s_one_object(b, n));
    REQUIRE(enclave_wire_req_decode(b, n, &d) == 0);
    CHECK_EQ(d.u.train_prepare.eligible.n, (size_t)3);
    uint8_t id[32];
    enclave_wire_ids_get(&d.u.train_prepare.eligible, 2, id);
    CHECK(memcmp(id, ids[2], 32) == 0);
    CHECK(enclave_wire_req_relayable(ENCLAVE_REQ_FED_STEP));
    /* the last id one byte short: a bin of 31 bytes, refused */
    CHECK_EQ(b[n - 101], 32); /* the third id's length (three bin32 of 34 bytes from the end) */
    b[n - 101] = 31;
    CHECK_EQ(enclave_wire_req_decode(b, n, &d), PROTO_E_INVALID);
    free(b);
    r.u.train_prepare.party = 2; /* not among 2 parties */
    REQUIRE(enclave_wire_req_encode(&r, &b, &n) == 0);
    CHECK(s_one_object(b, n));
    CHECK_EQ(enclave_wire_req_decode(b, n, &d), PROTO_E_RANGE);
    free(b);
    r.u.train_prepare.party = 0;
    r.u.train_prepare.n_parties = ENCLAVE_WIRE_PARTIES_MAX + 1;
    CHECK_EQ(enclave_wire_req_encode(&r, &b, &n), PROTO_E_INVALID);
    enclave_ans_t a;
    memset(&a, 0, sizeof a);
    a.type = ENCLAVE_ANS_FED_OUT;
    a.u.fed_out.state = ENCLAVE_FED_RUNNING;
    a.u.fed_out.n_out = ENCLAVE_WIRE_FED_OUT_MAX + 1;
    CHECK_EQ(enclave_wire_ans_encode(&a, &b, &n), PROTO_E_INVALID);
    free(cfg);
}

/* ---- query enclaves (issue 16) ---- */

/* Encodes X, decodes it into *BACK, checks re-encoding gives the same bytes and every
   proper prefix is refused; returns the encoding (caller frees). */
static uint8_t *s_req_roundtrip(const enclave_req_t *x, enclave_req_t *back, size_t *len)
{
    uint8_t *buf = NULL, *again = NULL;
    size_t again_len = 0;
    CHECK_EQ(enclave_wire_req_encode(x, &buf, len), 0);
    CHECK(s_one_object(buf, *len));
    CHECK_EQ(enclave_wire_req_decode(buf, *len, back), 0);
    CHECK_EQ(back->type, x->type);
    CHECK_EQ(enclave_wire_req_encode(back, &again, &again_len), 0);
    CHECK(again_len == *len && memcmp(again, buf, *len) == 0);
    free(again);
    for (size_t cut = 0; cut < *len; cut++) {
        enclave_req_t r;
        CHECK(enclave_wire_req_decode(buf, cut, &r) != 0);
    }
    return buf;
}

static void s_test_query_requests(void)
{
    enclave_req_t x, b;
    size_t len = 0;
    uint8_t *buf = NULL;
    memset(&x, 0, sizeof x);
    x.type = ENCLAVE_REQ_CHAIN;
    x.u.chain.genesis = s_blob;
    x.u.chain.genesis_len = 120;
    free(buf);
    buf = s_req_roundtrip(&x, &b, &len);
    CHECK(b.u.chain.genesis_len == 120 && memcmp(b.u.chain.genesis, s_blob, 120) == 0);

    memset(&x, 0, sizeof x);
    x.type = ENCLAVE_REQ_MODEL_LOAD;
    x.u.model_load.sealed = s_blob;
    x.u.model_load.sealed_len = 250;
    x.u.model_load.proof = s_blob + 7;
    x.u.model_load.proof_len = 200;
    free(buf);
    buf = s_req_roundtrip(&x, &b, &len);
    CHECK(b.u.model_load.sealed_len == 250 && memcmp(b.u.model_load.sealed, s_blob, 250) == 0);
    CHECK(b.u.model_load.proof_len == 200 && memcmp(b.u.model_load.proof, s_blob + 7, 200) == 0);

    memset(&x, 0, sizeof x);
    x.type = ENCLAVE_REQ_QUERY;
    s_fill(x.u.query.model_id, 32);
    s_fill(x.u.query.buy_id, 32);
    x.u.query.buy_proof = s_blob + 3;
    x.u.query.buy_proof_len = 180;
    x.u.query.sealed = s_blob + 1;
    x.u.query.sealed_len = 99;
    free(buf);
    buf = s_req_roundtrip(&x, &b, &len);
    CHECK(memcmp(b.u.query.model_id, x.u.query.model_id, 32) == 0);
    CHECK(memcmp(b.u.query.buy_id, x.u.query.buy_id, 32) == 0);
    CHECK(b.u.query.buy_proof_len == 180 && memcmp(b.u.query.buy_proof, s_blob + 3, 180) == 0);
    CHECK(b.u.query.sealed_len == 99 && memcmp(b.u.query.sealed, s_blob + 1, 99) == 0);
    x.u.query.buy_proof_len = 0; /* a known buy: no proof */
    free(buf);
    buf = s_req_roundtrip(&x, &b, &len);
    CHECK_EQ(b.u.query.buy_proof_len, 0u);

    memset(&x, 0, sizeof x);
    x.type = ENCLAVE_REQ_USAGE;
    s_fill(x.u.usage.buy_id, 32);
    free(buf);
    buf = s_req_roundtrip(&x, &b, &len);
    CHECK(memcmp(b.u.usage.buy_id, x.u.usage.buy_id, 32) == 0);
    free(buf);
}

static void s_test_query_refusals(void)
{
    uint8_t k32[32] = {0}, *buf = NULL;
    size_t len = 0;
    const uint8_t *p;
    proto_wr_t w;
    enclave_req_t r;
    /* CHAIN with an empty genesis: refused both ways */
    s_raw(&w, 3, 1, ENCLAVE_REQ_CHAIN);
    proto_wr_bin(&w, k32, 0);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_INVALID);
    proto_wr_free(&w);
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_CHAIN;
    CHECK_EQ(enclave_wire_req_encode(&r, &buf, &len), PROTO_E_INVALID);
    /* a proof over ENCLAVE_WIRE_MAX_PROOF: refused both ways */
    uint8_t *big = calloc(1, ENCLAVE_WIRE_MAX_PROOF + 1);
    REQUIRE(big != NULL);
    s_raw(&w, 4, 1, ENCLAVE_REQ_MODEL_LOAD);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, big, ENCLAVE_WIRE_MAX_PROOF + 1);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_TOO_LONG);
    proto_wr_free(&w);
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_QUERY;
    r.u.query.buy_proof = big;
    r.u.query.buy_proof_len = ENCLAVE_WIRE_MAX_PROOF + 1;
    CHECK_EQ(enclave_wire_req_encode(&r, &buf, &len), PROTO_E_INVALID);
    free(big);
    /* QUERY: the old one-field form, and a 31-byte model id */
    s_raw(&w, 3, 1, ENCLAVE_REQ_QUERY);
    proto_wr_bin(&w, k32, 32);
    p = proto_wr_data(&w, &len);
    CHECK_EQ(enclave_wire_req_decode(p, len, &r), PROTO_E_ARITY);
    proto_wr_free(&w);
    s_raw(&w, 6, 1, ENCLAVE_REQ_QUERY);
    proto_wr_bin(&w, k32, 31);
    proto_wr_bin(&w, k32, 0);
    proto_wr_bin(&w, k32, 32);
    proto_wr_bin(&w, k32, 32);
    p = proto_wr_data(&w, &len);
    CHECK(enclave_wire_req_decode(p, len, &r) != 0);
    proto_wr_free(&w);
    /* relaying: MODEL_LOAD and USAGE may come from afar, CHAIN only from the host */
    CHECK(!enclave_wire_req_relayable(ENCLAVE_REQ_CHAIN));
    CHECK(enclave_wire_req_relayable(ENCLAVE_REQ_MODEL_LOAD));
    CHECK(enclave_wire_req_relayable(ENCLAVE_REQ_USAGE));
    CHECK(enclave_wire_req_relayable(ENCLAVE_REQ_QUERY));
}

static void s_test_query_answers(void)
{
    enclave_ans_t as[3];
    memset(as, 0, sizeof as);
    as[0].type = ENCLAVE_ANS_CHAIN;
    s_fill(as[0].u.chain.chain_id, 32);
    as[1].type = ENCLAVE_ANS_LOADED;
    s_fill(as[1].u.loaded.model_id, 32);
    s_fill(as[1].u.loaded.model_hash, 32);
    as[2].type = ENCLAVE_ANS_USAGE;
    as[2].u.blob.bytes = s_blob;
    as[2].u.blob.len = 230;
    for (size_t i = 0; i < 3; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        CHECK_EQ(enclave_wire_ans_encode(&as[i], &buf, &len), 0);
        CHECK(s_one_object(buf, len));
        enclave_ans_t back;
        CHECK_EQ(enclave_wire_ans_decode(buf, len, &back), 0);
        CHECK_EQ(back.type, as[i].type);
        if (i == 0)
            CHECK(memcmp(back.u.chain.chain_id, as[0].u.chain.chain_id, 32) == 0);
        if (i == 1)
            CHECK(memcmp(&back.u.loaded, &as[1].u.loaded, sizeof back.u.loaded) == 0);
        if (i == 2)
            CHECK(back.u.blob.len == 230 && memcmp(back.u.blob.bytes, s_blob, 230) == 0);
        for (size_t cut = 0; cut < len; cut++) {
            enclave_ans_t a;
            CHECK(enclave_wire_ans_decode(buf, cut, &a) != 0);
        }
        enclave_req_t r; /* types are disjoint */
        CHECK_EQ(enclave_wire_req_decode(buf, len, &r), PROTO_E_UNKNOWN_TYPE);
        free(buf);
    }
}

int main(void)
{
    CHECK(sodium_init() >= 0);
    unsigned seed = (unsigned)time(NULL);
    printf("seed %u\n", seed);
    srand(seed);
    s_fill(s_blob, sizeof s_blob);
    test_relayable();
    test_train_wire();
    s_test_kinds();
    s_test_requests();
    s_test_refusals();
    s_test_answers();
    s_test_frames();
    s_test_one_write();
    s_test_query_requests();
    s_test_query_refusals();
    s_test_query_answers();
    return testutil_done("test_enclave_wire");
}
