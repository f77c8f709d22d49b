/*  gen_corpus: writes the seed corpora tests/fuzz/corpus/envelope/ and tests/fuzz/corpus/mp/.
 *
 *  Also writes tests/fuzz/corpus/sigbatch/, and the UNICAST seeds of
 *  tests/fuzz/corpus/p2p_msg/ (08-unicast4-*: the four-field body with a kind; the other
 *  p2p_msg seeds, and the three-field 08-unicast* ones kept as arity refusals, were
 *  written by hand).
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Deterministic: keys come from fixed
 *  seeds and "random" bytes from a fixed xorshift, so rerunning it rewrites the same
 *  files. Build and run by hand from the repository root:
 *      cmake --build build --target genie_proto
 *      cc -std=c11 -D_POSIX_C_SOURCE=200809L -I. tests/fuzz/gen_corpus.c \
 *         build/libgenie_proto.a $(pkg-config --libs libsodium msgpack) -o /tmp/gen_corpus
 *      /tmp/gen_corpus tests/fuzz/corpus
 *  Every file is under 4 KiB except envelope/valid_proposal_near_limit (a 1 MiB body).
 *  The mp inputs follow fuzz_mp.c's layout: [K-1][K op bytes][buffer]; the sigbatch
 *  inputs fuzz_sigbatch.c's: [key][signature][message].
 */
#include <errno.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/proto_envelope.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "tests/fuzz/gen_util.h"

/* fuzz_mp op codes (low nibble) and limit indexes (high nibble) */
enum {
    UINT = 0,
    BIN,
    BIN_EXACT,
    STR,
    STR_COPY,
    ARR_EXACT,
    ARR_MAX,
    BOOL,
    NIL,
    PEEK_NIL,
    SKIP,
    FINISH,
    UINT_ANY,
    STR_ANY,
    BIN_ANY,
    SKIP32
};
enum {
    L0 = 0,
    L1,
    L2,
    L15,
    L16,
    L31,
    L32,
    L64,
    L255,
    L256,
    L65535,
    L65536,
    LU32,
    LU32P1,
    L1M,
    LMAX
};
#define OP(code, lim) ((uint8_t)((lim) << 4 | (code)))

static const char *s_root;
static int s_failed;

static void s_put(const char *sub, const char *name, const void *data, size_t len)
{
    gen_put(s_root, sub, name, -1, data, len);
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static uint8_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return (uint8_t)s_rng;
}

static proto_key_t *s_key(uint8_t base)
{
    uint8_t seed[PROTO_SEED_LEN];
    for (int i = 0; i < PROTO_SEED_LEN; i++)
        seed[i] = (uint8_t)(base + i);
    proto_key_t *key = proto_key_from_seed(seed);
    if (!key)
        abort();
    return key;
}

static uint8_t *s_seal(const proto_key_t *key, uint32_t type, uint64_t seq, uint64_t time_ms,
                       size_t body_len, size_t *len)
{
    uint8_t *body = malloc(body_len ? body_len : 1);
    uint8_t *out = NULL;
    if (!body)
        abort();
    for (size_t i = 0; i < body_len; i++)
        body[i] = (uint8_t)(i * 13 + type);
    if (proto_envelope_seal(key, type, seq, time_ms, body, body_len, &out, len) != PROTO_OK)
        abort();
    free(body);
    return out;
}

/* Writes the 7 fields by hand so each can be wrong. */
static uint8_t *s_hand(uint32_t arity, uint64_t version, uint64_t type, size_t sender_len,
                       size_t body_len, size_t sig_len, size_t *len)
{
    static const uint8_t zeros[2048];
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, arity);
    proto_wr_uint(&w, version);
    proto_wr_uint(&w, type);
    proto_wr_bin(&w, zeros, sender_len);
    proto_wr_uint(&w, 1);
    proto_wr_uint(&w, 2);
    proto_wr_bin(&w, zeros, body_len);
    if (arity >= 7)
        proto_wr_bin(&w, zeros, sig_len);
    if (arity >= 8)
        proto_wr_nil(&w);
    uint8_t *out = proto_wr_take(&w, len);
    if (!out)
        abort();
    return out;
}

static void s_envelope_corpus(void)
{
    const char *d = "envelope";
    proto_key_t *key = s_key(0x11);
    proto_key_t *other = s_key(0x77);
    size_t len;
    uint8_t *b;
    char name[64];

    static const struct {
        uint32_t type;
        size_t body;
        uint64_t seq, time_ms;
    } valid[] = {
        {PROTO_MSG_PING, 0, 0, 0},
        {PROTO_MSG_PING, 8, 1, 1700000000000ull},
        {PROTO_MSG_PONG, 8, 2, 1700000000001ull},
        {PROTO_MSG_HELLO, 100, 1, 127},
        {PROTO_MSG_HELLO, 3000, 128, 65535},
        {PROTO_MSG_FIND_NODE, 32, 65536, 0xffffffffull},
        {PROTO_MSG_NODES, 200, 0x100000000ull, UINT64_MAX},
        {PROTO_MSG_GOSSIP, 31, 3, 4},
        {PROTO_MSG_GOSSIP, 256, 5, 6},
        {PROTO_MSG_ACK, 1, UINT64_MAX, 7},
        {PROTO_MSG_BYE, 0, 9, 9},
        {PROTO_MSG_TX, 500, 10, 10},
        {PROTO_MSG_VOTE, 96, 11, 11},
        {PROTO_MSG_STATUS, 40, 12, 12},
        {PROTO_MSG_QUOTE, 1000, 13, 13},
        {PROTO_MSG_DONATION_RECEIPT, 300, 14, 14},
        {PROTO_MSG_QUERY, 64, 15, 15},
    };
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        b = s_seal(key, valid[i].type, valid[i].seq, valid[i].time_ms, valid[i].body, &len);
        snprintf(name, sizeof name, "valid_%s_%zu", proto_msgtype_name(valid[i].type),
                 valid[i].body);
        s_put(d, name, b, len);
        free(b);
    }
    b = s_seal(key, PROTO_MSG_PROPOSAL, 1, 1, 1024 * 1024, &len);
    s_put(d, "valid_proposal_near_limit", b, len);
    free(b);

    /* a valid ping, then broken copies of it */
    uint8_t *ping = s_seal(key, PROTO_MSG_PING, 42, 1700000000000ull, 16, &len);
    size_t ping_len = len;
    static const size_t cuts[] = {0, 1, 2, 3, 5, 20, 37, 40, 50, 60};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        snprintf(name, sizeof name, "trunc_ping_%zu", cuts[i]);
        s_put(d, name, ping, cuts[i]);
    }
    s_put(d, "trunc_ping_last", ping, ping_len - 1);
    uint8_t tmp[4096];
    memcpy(tmp, ping, ping_len);
    tmp[ping_len - 1] ^= 1;
    s_put(d, "badsig_ping_flip_sig", tmp, ping_len);
    memcpy(tmp, ping, ping_len);
    tmp[ping_len - 70] ^= 0x40; /* inside the body */
    s_put(d, "badsig_ping_flip_body", tmp, ping_len);
    memcpy(tmp, ping, ping_len);
    tmp[ping_len] = 0xc0;
    s_put(d, "trailing_nil", tmp, ping_len + 1);
    memcpy(tmp, ping, ping_len);
    memcpy(tmp + 5, proto_key_public(other), PROTO_PUBKEY_LEN);
    s_put(d, "badsig_other_sender", tmp, ping_len);
    free(ping);

    static const struct {
        const char *name;
        uint32_t arity;
        uint64_t version, type;
        size_t sender, body, sig;
    } hand[] = {
        {"bad_version_2", 7, 2, PROTO_MSG_PING, 32, 4, 64},
        {"bad_version_256", 7, 256, PROTO_MSG_PING, 32, 4, 64},
        {"bad_type_0", 7, 1, 0, 32, 4, 64},
        {"bad_type_999", 7, 1, 999, 32, 4, 64},
        {"bad_type_65538", 7, 1, 65538, 32, 4, 64},
        {"bad_arity_6", 6, 1, PROTO_MSG_PING, 32, 4, 64},
        {"bad_arity_8", 8, 1, PROTO_MSG_PING, 32, 4, 64},
        {"bad_sender_31", 7, 1, PROTO_MSG_PING, 31, 4, 64},
        {"bad_sender_33", 7, 1, PROTO_MSG_PING, 33, 4, 64},
        {"bad_sig_63", 7, 1, PROTO_MSG_PING, 32, 4, 63},
        {"bad_sig_65", 7, 1, PROTO_MSG_PING, 32, 4, 65},
        {"bad_body_over_ping_max", 7, 1, PROTO_MSG_PING, 32, 65, 64},
        {"zero_key_zero_sig", 7, 1, PROTO_MSG_ACK, 32, 0, 64},
        {"hello_body_bin16_zero_sig", 7, 1, PROTO_MSG_HELLO, 32, 1500, 64},
    };
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        b = s_hand(hand[i].arity, hand[i].version, hand[i].type, hand[i].sender, hand[i].body,
                   hand[i].sig, &len);
        s_put(d, hand[i].name, b, len);
        free(b);
    }

    /* oversized headers and non-canonical forms */
    static const struct {
        const char *name;
        const char *bytes;
        size_t len;
    } raw[] = {
        {"hdr_sender_bin32_4g", "\x97\x01\x02\xc6\xff\xff\xff\xff\x00", 9},
        {"hdr_array32_4g", "\xdd\xff\xff\xff\xff\x01", 6},
        {"hdr_array16_7", "\xdc\x00\x07\x01\x02", 5},
        {"hdr_map32", "\xdf\xff\xff\xff\xff\x01\x02", 7},
        {"hdr_version_uint8", "\x97\xcc\x01\x02", 4},
        {"hdr_type_uint16", "\x97\x01\xcd\x00\x02", 5},
        {"hdr_type_uint64_big", "\x97\x01\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 11},
        {"hdr_negative_version", "\x97\xff\x02", 3},
        {"hdr_str_sender", "\x97\x01\x02\xa2\x61\x62", 6},
        {"hdr_ext_value", "\x97\x01\x02\xc7\x01\x05\x00", 7},
        {"single_c1", "\xc1", 1},
        {"single_nil", "\xc0", 1},
        {"fixarray7_only", "\x97", 1},
        {"empty", "", 0},
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        s_put(d, raw[i].name, raw[i].bytes, raw[i].len);

    /* deep nesting for the skip walk; random garbage */
    memset(tmp, 0x91, 200);
    tmp[200] = 0xc0;
    s_put(d, "deep_nesting_200", tmp, 201);
    for (int g = 0; g < 4; g++) {
        size_t n = (size_t)16 << g;
        for (size_t i = 0; i < n; i++)
            tmp[i] = s_rand();
        snprintf(name, sizeof name, "garbage_%zu", n);
        s_put(d, name, tmp, n);
    }
    proto_key_destroy(&key);
    proto_key_destroy(&other);
}

/* Writes one fuzz_mp input: K ops then BUF. */
static void s_mp(const char *name, const uint8_t *ops, size_t k, const void *buf, size_t len)
{
    uint8_t out[4096];
    if (k < 1 || k > 32 || 1 + k + len > sizeof out)
        abort();
    out[0] = (uint8_t)(k - 1);
    memcpy(out + 1, ops, k);
    if (len)
        memcpy(out + 1 + k, buf, len);
    s_put("mp", name, out, 1 + k + len);
}

#define MP(name, ops_init, buf, len)                                                               \
    do {                                                                                           \
        static const uint8_t ops_[] = ops_init;                                                    \
        s_mp(name, ops_, sizeof ops_, buf, len);                                                   \
    } while (0)
#define LIST(...)                                                                                  \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

static void s_mp_corpus(void)
{
    uint8_t buf[3000];
    size_t n;

    static const uint8_t uints[] = {0x00, 0x7f, 0xcc, 0x80, 0xcc, 0xff, 0xcd, 0x01, 0x00, 0xcd,
                                    0xff, 0xff, 0xce, 0x00, 0x01, 0x00, 0x00, 0xce, 0xff, 0xff,
                                    0xff, 0xff, 0xcf, 0,    0,    0,    1,    0,    0,    0,
                                    0,    0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    MP("uint_boundaries",
       LIST(OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(UINT_ANY, 0),
            OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(UINT_ANY, 0),
            OP(FINISH, 0)),
       uints, sizeof uints);
    MP("uint_range", LIST(OP(UINT, L255), OP(UINT, L255)), "\xcc\xff\xcd\x01\x00", 5);
    MP("uint_noncanon", LIST(OP(UINT_ANY, 0), OP(UINT_ANY, 0)), "\xcc\x05\xcd\x00\x10", 5);
    MP("uint_negative", LIST(OP(UINT_ANY, 0), OP(UINT_ANY, 0)), "\xff\xd0\x80", 3);

    n = 0;
    memcpy(buf + n, "\xc4\x00\xc4\x03\x01\x02\x03\xc5\x01\x00", 10);
    n += 10;
    memset(buf + n, 0xab, 256);
    n += 256;
    MP("bin_sizes", LIST(OP(BIN_ANY, 0), OP(BIN, L15), OP(BIN, L256), OP(FINISH, 0)), buf, n);
    MP("bin_over_limit", LIST(OP(BIN, L2)), "\xc4\x03\x01\x02\x03", 5);
    MP("bin_noncanon", LIST(OP(BIN_ANY, 0)), "\xc5\x00\x03\x01\x02\x03", 6);
    MP("bin32_4g", LIST(OP(BIN_ANY, 0)), "\xc6\xff\xff\xff\xff\x00", 6);
    n = 0;
    buf[n++] = 0xc4;
    buf[n++] = 32;
    for (int i = 0; i < 32; i++)
        buf[n++] = (uint8_t)i;
    MP("bin_exact_32", LIST(OP(BIN_EXACT, L32), OP(FINISH, 0)), buf, n);
    MP("bin_exact_short", LIST(OP(BIN_EXACT, L32)), "\xc4\x1f", 2);

    n = 0;
    memcpy(buf + n,
           "\xa0\xa3"
           "abc"
           "\xd9\x20",
           7);
    n += 7;
    memset(buf + n, 'z', 32);
    n += 32;
    memcpy(buf + n, "\xa9\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10);
    n += 10;
    MP("str_mixed",
       LIST(OP(STR_ANY, 0), OP(STR, L15), OP(STR, L32), OP(STR_COPY, L1M), OP(FINISH, 0)), buf, n);
    MP("str_overlong", LIST(OP(STR_ANY, 0)), "\xa2\xc0\x80", 3);
    MP("str_surrogate", LIST(OP(STR_ANY, 0)), "\xa3\xed\xa0\x80", 4);
    MP("str_f5", LIST(OP(STR_ANY, 0)), "\xa4\xf5\x80\x80\x80", 5);
    MP("str_truncated_utf8", LIST(OP(STR_ANY, 0)), "\xa2\xe2\x82", 3);
    MP("str_nul", LIST(OP(STR_ANY, 0)), "\xa3\x61\x00\x62", 4);
    MP("str_noncanon", LIST(OP(STR_ANY, 0)), "\xd9\x05hello", 7);
    MP("str_copy_small", LIST(OP(STR_COPY, L2), OP(STR_COPY, L16)), "\xa5hello", 6);

    MP("array_max",
       LIST(OP(ARR_MAX, L15), OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(UINT_ANY, 0), OP(FINISH, 0)),
       "\x93\x01\x02\x03", 4);
    MP("array_exact_65536", LIST(OP(ARR_EXACT, L65536), OP(ARR_MAX, LU32)), "\xdd\x00\x01\x00\x00",
       5);
    MP("array16_noncanon", LIST(OP(ARR_MAX, LMAX)), "\xdc\x00\x02\x01\x02", 5);
    MP("array_count_lie", LIST(OP(ARR_MAX, LU32)), "\xdc\x00\x20\x01\x02", 5);
    n = 0;
    buf[n++] = 0xdc;
    buf[n++] = 0x00;
    buf[n++] = 0x10;
    for (int i = 0; i < 16; i++)
        buf[n++] = 0xc0;
    MP("array16_nils", LIST(OP(ARR_EXACT, L16), OP(PEEK_NIL, 0), OP(NIL, 0), OP(SKIP32, 0)), buf,
       n);

    MP("bool_nil_peek",
       LIST(OP(PEEK_NIL, 0), OP(NIL, 0), OP(BOOL, 0), OP(BOOL, 0), OP(PEEK_NIL, 0), OP(FINISH, 0)),
       "\xc0\xc3\xc2", 3);
    MP("sticky_type", LIST(OP(UINT_ANY, 0), OP(STR_ANY, 0), OP(SKIP32, 0), OP(FINISH, 0)),
       "\xa1\x61", 2);
    MP("trailing", LIST(OP(UINT_ANY, 0), OP(FINISH, 0)), "\x01\x02", 2);
    MP("empty_buffer", LIST(OP(UINT_ANY, 0), OP(FINISH, 0)), "", 0);

    /* every family for skip */
    static const uint8_t kinds[] = {
        0x82, 0x01, 0xc0, 0xa1, 0x6b, 0x92, 0xc3, 0xc2,          /* fixmap */
        0xde, 0x00, 0x01, 0x01, 0x02,                            /* map16 */
        0xca, 0x3f, 0xc0, 0x00, 0x00,                            /* float32 */
        0xcb, 0x40, 0x02, 0,    0,    0,    0,    0,    0,       /* float64 */
        0xd4, 0x07, 0x01, 0xd5, 0x07, 0x01, 0x02,                /* fixext1, fixext2 */
        0xd6, 0x07, 1,    2,    3,    4,                         /* fixext4 */
        0xd7, 0x07, 1,    2,    3,    4,    5,    6,    7,    8, /* fixext8 */
        0xd8, 0x07, 1,    2,    3,    4,    5,    6,    7,    8,    9,    10,
        11,   12,   13,   14,   15,   16,   0xc7, 0x03, 0x07, 1,    2,    3, /* ext8 */
        0xc8, 0x00, 0x01, 0x07, 1,                                           /* ext16 */
        0xc9, 0x00, 0x00, 0x00, 0x00, 0x07,                                  /* ext32 */
        0xff, 0xd0, 0x80, 0xd1, 0x80, 0x00,                                  /* negative ints */
        0xd2, 0x80, 0,    0,    0,    0xd3, 0x80, 0,    0,    0,    0,    0,
        0,    0,    0xda, 0x00, 0x01, 0x61, 0xdb, 0x00, 0x00, 0x00, 0x01, 0x61,
        0xc6, 0x00, 0x00, 0x00, 0x01, 0x00, 0x91, 0x91, 0x91, 0x91, 0x01, /* nested arrays */
    };
    MP("skip_kinds",
       LIST(OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0),
            OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0),
            OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0),
            OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0),
            OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(SKIP32, 0), OP(FINISH, 0)),
       kinds, sizeof kinds);
    MP("skip_depth_4", LIST(OP(SKIP, 4), OP(SKIP, 5)), "\x91\x91\x91\x91\x01", 5);
    MP("skip_c1", LIST(OP(SKIP32, 0)), "\xc1", 1);
    MP("skip_map32_lie", LIST(OP(SKIP32, 0)), "\xdf\xff\xff\xff\xff\x00", 6);

    /* a real envelope read field by field */
    proto_key_t *key = s_key(0x22);
    uint8_t *env;
    size_t len;
    static const uint8_t body[10] = {1, 2, 3};
    if (proto_envelope_seal(key, PROTO_MSG_PING, 300, 1700000000000ull, body, sizeof body, &env,
                            &len) != PROTO_OK)
        abort();
    MP("envelope_fields",
       LIST(OP(ARR_MAX, L15), OP(UINT, L255), OP(UINT, L65535), OP(BIN_EXACT, L32), OP(UINT_ANY, 0),
            OP(UINT_ANY, 0), OP(BIN, L64), OP(BIN_EXACT, L64), OP(FINISH, 0)),
       env, len);
    MP("envelope_skip", LIST(OP(SKIP32, 0), OP(FINISH, 0)), env, len);
    free(env);
    proto_key_destroy(&key);

    for (int g = 0; g < 3; g++) {
        char name[32];
        n = (size_t)24 << g;
        for (size_t i = 0; i < n; i++)
            buf[i] = s_rand();
        snprintf(name, sizeof name, "garbage_%zu", n);
        s_put("mp", name, buf, n);
    }
}

/* ---- sigbatch: [32 key][64 signature][message] ---- */

static void s_sig_put(const char *name, const uint8_t pk[32], const uint8_t sig[64],
                      const uint8_t *msg, size_t mlen)
{
    uint8_t buf[96 + 64];
    memcpy(buf, pk, 32);
    memcpy(buf + 32, sig, 64);
    memcpy(buf + 96, msg, mlen);
    s_put("sigbatch", name, buf, 96 + mlen);
}

static void s_sigbatch_corpus(void)
{
    static const uint8_t order[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,       0xd6,
                                      0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};
    uint8_t seed[32], pk[32], sk[64], sig[64], msg[32], t[64];
    for (int i = 0; i < 32; i++) {
        seed[i] = (uint8_t)(0x40 + i);
        msg[i] = s_rand();
    }
    crypto_sign_seed_keypair(pk, sk, seed);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    s_sig_put("valid", pk, sig, msg, sizeof msg);
    crypto_sign_detached(t, NULL, msg, 0, sk);
    s_sig_put("valid_empty_message", pk, t, msg, 0);

    memcpy(t, sig, 64); /* s + L */
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned v = t[32 + i] + order[i] + carry;
        t[32 + i] = (uint8_t)v;
        carry = v >> 8;
    }
    s_sig_put("s_plus_order", pk, t, msg, sizeof msg);

    uint8_t ident[32] = {1}, minus1[32], y_p[32];
    memset(minus1, 0xff, 32);
    minus1[0] = 0xec;
    minus1[31] = 0x7f;
    memcpy(y_p, minus1, 32);
    y_p[0] = 0xed; /* y = p: a non-canonical 0 */
    s_sig_put("key_identity", ident, sig, msg, sizeof msg);
    s_sig_put("key_order2", minus1, sig, msg, sizeof msg);
    s_sig_put("key_noncanonical", y_p, sig, msg, sizeof msg);
    memcpy(t, sig, 64);
    memcpy(t, minus1, 32);
    s_sig_put("r_order2", pk, t, msg, sizeof msg);

    /* R' = rB + (0,-1), s = r + H(R',A,M) a: valid under the cofactored rule only */
    uint8_t a[32], wide[64] = {0}, r[32], R[32], h[32], ha[32];
    if (crypto_sign_ed25519_sk_to_curve25519(wide, sk) != 0)
        abort();
    crypto_core_ed25519_scalar_reduce(a, wide);
    memset(wide, 0, sizeof wide);
    for (int i = 0; i < 32; i++)
        wide[i] = s_rand();
    crypto_core_ed25519_scalar_reduce(r, wide);
    if (crypto_scalarmult_ed25519_base_noclamp(R, r) != 0 ||
        crypto_core_ed25519_add(t, R, minus1) != 0)
        abort();
    crypto_hash_sha512_state st;
    crypto_hash_sha512_init(&st);
    crypto_hash_sha512_update(&st, t, 32);
    crypto_hash_sha512_update(&st, pk, 32);
    crypto_hash_sha512_update(&st, msg, sizeof msg);
    crypto_hash_sha512_final(&st, wide);
    crypto_core_ed25519_scalar_reduce(h, wide);
    crypto_core_ed25519_scalar_mul(ha, h, a);
    crypto_core_ed25519_scalar_add(t + 32, r, ha);
    s_sig_put("torsion_r", pk, t, msg, sizeof msg);

    for (int i = 0; i < 64; i++)
        t[i] = s_rand();
    s_sig_put("garbage", t, t, msg, 7);
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(a, sizeof a);
    sodium_memzero(seed, sizeof seed);
}

/* One fuzz_p2p_msg input: selector 8 (unicast) then
   [dest bin32, msg_id u64, kind KIND, payload bin] (ARITY fields written, 3 or 4). */
static void s_unicast_put(const char *name, uint32_t arity, uint64_t kind, const char *payload,
                          size_t cut, bool trail)
{
    uint8_t dest[32];
    memset(dest, 0x33, sizeof dest);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, arity);
    proto_wr_bin(&w, dest, sizeof dest);
    proto_wr_uint(&w, 123456789);
    if (arity == 4)
        proto_wr_uint(&w, kind);
    proto_wr_bin(&w, (const uint8_t *)payload, strlen(payload));
    size_t len = 0;
    const uint8_t *body = proto_wr_data(&w, &len);
    uint8_t buf[512];
    if (!body || len + 2 > sizeof buf) {
        s_failed = 1;
        proto_wr_free(&w);
        return;
    }
    buf[0] = 8;
    memcpy(buf + 1, body, len);
    size_t n = 1 + len;
    if (cut)
        n -= cut;
    if (trail)
        buf[n++] = 0xc0;
    s_put("p2p_msg", name, buf, n);
    proto_wr_free(&w);
}

static void s_p2p_unicast_corpus(void)
{
    s_unicast_put("08-unicast4-text", 4, PROTO_MSG_TEXT, "hello, cohort", 0, false);
    s_unicast_put("08-unicast4-empty", 4, PROTO_MSG_TEXT, "", 0, false);
    s_unicast_put("08-unicast4-sync-req", 4, PROTO_MSG_SYNC_REQ, "\x93\x23\x05\x10", 0, false);
    s_unicast_put("08-unicast4-kind-max", 4, UINT32_MAX, "x", 0, false);
    s_unicast_put("08-unicast4-kind-reserved", 4, 1, "x", 0, false);
    s_unicast_put("08-unicast4-kind-too-big", 4, (uint64_t)UINT32_MAX + 1, "x", 0, false);
    s_unicast_put("08-unicast4-text.trail", 4, PROTO_MSG_TEXT, "hello, cohort", 0, true);
    s_unicast_put("08-unicast4-text.trunc", 4, PROTO_MSG_TEXT, "hello, cohort", 1, false);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_ROOT (e.g. tests/fuzz/corpus)\n", argv[0]);
        return 1;
    }
    if (proto_crypto_init() != 0)
        return 1;
    s_root = argv[1];
    char path[512];
    mkdir(s_root, 0755);
    snprintf(path, sizeof path, "%s/envelope", s_root);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return 1;
    snprintf(path, sizeof path, "%s/mp", s_root);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return 1;
    snprintf(path, sizeof path, "%s/sigbatch", s_root);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return 1;
    snprintf(path, sizeof path, "%s/p2p_msg", s_root);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return 1;
    s_envelope_corpus();
    s_mp_corpus();
    s_sigbatch_corpus();
    s_p2p_unicast_corpus();
    return s_failed;
}
