/*  fuzz_envelope: libFuzzer harness for the envelope decoder and the msgpack reader.
 *
 *  For any input: proto_envelope_decode must not crash; if it succeeds, verify must answer
 *  OK or BAD_SIG, the fields must lie within their limits, and re-encoding the decoded
 *  fields with proto_wr_* must reproduce the input byte for byte (decode enforces the
 *  canonical form, so anything else is a bug). The same bytes are also walked by
 *  proto_rd_skip and by a typed proto_rd_* walk, whose answers must agree with each
 *  other and with the decoder. A broken invariant calls abort(), which libFuzzer (and
 *  tests/fuzz/replay_main.c) report as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_envelope.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "tests/fuzz/fuzz_util.h"

#define WALK_DEPTH 32

/* Reads one value with the typed reader calls, choosing by its first byte; containers
   recurse. Maps, floats, ext and signed ints have no typed reader and are skipped. */
static int s_typed_walk(proto_rd_t *r, int depth)
{
    if (depth <= 0)
        return PROTO_E_TOO_LONG;
    if (r->err || r->pos >= r->len)
        return proto_rd_nil(r); /* returns the sticky error or TRUNCATED */
    uint8_t b = r->buf[r->pos];
    uint64_t v;
    bool flag;
    const uint8_t *p;
    const char *s;
    size_t n;
    uint32_t count;
    if (b <= 0x7f || (b >= 0xcc && b <= 0xcf))
        return proto_rd_uint(r, UINT64_MAX, &v);
    if (b == 0xc0)
        return proto_rd_nil(r);
    if (b == 0xc2 || b == 0xc3)
        return proto_rd_bool(r, &flag);
    if (b >= 0xc4 && b <= 0xc6)
        return proto_rd_bin(r, SIZE_MAX, &p, &n);
    if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb))
        return proto_rd_str(r, SIZE_MAX, &s, &n);
    if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
        int rc = proto_rd_array_max(r, UINT32_MAX, &count);
        for (uint32_t i = 0; rc == PROTO_OK && i < count; i++)
            rc = s_typed_walk(r, depth - 1);
        return rc;
    }
    return proto_rd_skip(r, depth);
}

static void s_check_envelope(const uint8_t *data, size_t size, const proto_envelope_t *env)
{
    const proto_msgtype_info_t *info = proto_msgtype_lookup(env->type);
    fuzz_require(size <= PROTO_ENVELOPE_MAX, "decoded size over the limit");
    fuzz_require(env->version == PROTO_VERSION, "decoded version");
    fuzz_require(info != NULL, "decoded an unknown type");
    fuzz_require(env->body_len <= info->max_body, "decoded body over the type's limit");
    fuzz_require(env->body_len == 0 || (env->body >= data && env->body_len <= size &&
                                        (size_t)(env->body - data) <= size - env->body_len),
                 "body points outside the input");
    fuzz_require(size <= env->body_len + PROTO_ENVELOPE_OVERHEAD, "overhead bound");

    /* canonical re-encoding reproduces the input exactly */
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 7);
    proto_wr_uint(&w, env->version);
    proto_wr_uint(&w, env->type);
    proto_wr_bin(&w, env->sender, PROTO_PUBKEY_LEN);
    proto_wr_uint(&w, env->seq);
    proto_wr_uint(&w, env->time_ms);
    proto_wr_bin(&w, env->body, env->body_len);
    proto_wr_bin(&w, env->sig, PROTO_SIG_LEN);
    size_t len;
    const uint8_t *again = proto_wr_data(&w, &len);
    fuzz_require(again != NULL, "re-encoding failed");
    fuzz_require(len == size && memcmp(again, data, size) == 0,
                 "encode(decode(b)) != b: a non-canonical encoding was accepted");
    proto_wr_free(&w);

    int vrc = proto_envelope_verify(env);
    fuzz_require(vrc == PROTO_OK || vrc == PROTO_E_BAD_SIG,
                 "verify answered neither OK nor BAD_SIG");
    proto_envelope_t env2;
    fuzz_require(proto_envelope_open(data, size, &env2) == vrc,
                 "open disagrees with decode+verify");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();

    proto_envelope_t env;
    int drc = proto_envelope_decode(data, size, &env);
    fuzz_require(drc <= PROTO_OK && drc >= PROTO_E_INVALID, "decode returned a stray value");
    if (drc == PROTO_OK)
        s_check_envelope(data, size, &env);

    /* generic skip */
    proto_rd_t r;
    proto_rd_init(&r, data, size);
    int src = proto_rd_skip(&r, WALK_DEPTH);
    fuzz_require(r.pos <= r.len, "skip ran past the end");
    fuzz_require(src == r.err, "skip result is not the sticky error");
    int sfin = proto_rd_finish(&r);
    if (drc == PROTO_OK)
        fuzz_require(src == PROTO_OK && sfin == PROTO_OK, "skip rejects a decodable envelope");

    /* typed walk: stricter than skip, so whatever it accepts skip accepts too */
    proto_rd_t t;
    proto_rd_init(&t, data, size);
    int trc = s_typed_walk(&t, WALK_DEPTH);
    fuzz_require(t.pos <= t.len, "typed walk ran past the end");
    if (trc == PROTO_OK) {
        fuzz_require(src == PROTO_OK, "skip rejects what the typed walk accepts");
        fuzz_require(t.pos == r.pos, "skip and typed walk end at different places");
    }
    if (drc == PROTO_OK)
        fuzz_require(trc == PROTO_OK && proto_rd_finish(&t) == PROTO_OK,
                     "typed walk rejects a decodable envelope");
    return 0;
}
