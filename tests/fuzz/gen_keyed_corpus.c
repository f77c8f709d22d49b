/*  gen_keyed_corpus: writes the seed corpus tests/fuzz/corpus/enclave_blob/ (real blobs
 *  under the harness's fixed key, and round-trip seeds) and the DONATE_KEYED seeds of
 *  tests/fuzz/corpus/enclave_request/ (a real grant and blob; the fuzzed enclave's keys are
 *  random, so the grant reaches enclave_grant_open and is refused there), and
 *  tests/fuzz/corpus/data_fetch/ (messages and conversations of fuzz_data_fetch.c, whose
 *  fixed 100-byte blob and fetch id 1 they answer).
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). The blobs differ on each run (a fresh
 *  secretstream header), which is fine for seeds. Build and run by hand from the
 *  repository root:
 *      cmake --build build --target genie_enclave
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. tests/fuzz/gen_keyed_corpus.c \
 *         build/libgenie_enclave.a build/libgenie_proto.a $(pkg-config --libs libsodium) \
 *         -o /tmp/gen_keyed_corpus
 *      /tmp/gen_keyed_corpus tests/fuzz/corpus
 *  (with a sanitizer build, add -fsanitize=address,undefined).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "enclave/enclave_blob.h"
#include "enclave/enclave_grant.h"
#include "enclave/enclave_wire.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"
#include "tests/fuzz/gen_util.h"

static const char *s_root;

/* Must equal fuzz_enclave_blob.c's key. */
static const uint8_t s_key[32] = {'g', 'e', 'n', 'i', 'e', '-', 'f', 'u', 'z', 'z', '-',
                                  'b', 'l', 'o', 'b', '-', 'k', 'e', 'y', '-', '0', '0',
                                  '0', '0', '0', '0', '0', '0', '0', '0', '0', '1'};

/* Writes P (N bytes) to ROOT/DIR/NAME; FIRST (when >= 0) is written before it. */
static void s_put(const char *dir, const char *name, int first, const uint8_t *p, size_t n)
{
    gen_put(s_root, dir, name, first, p, n);
}

static void s_blob(const char *name, size_t len)
{
    uint8_t *data = malloc(len ? len : 1), *blob = NULL;
    size_t blen = 0;
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)("rs123 AA\n"[i % 9]);
    if (!data || enclave_blob_seal(s_key, data, len, &blob, &blen) != 0) {
        fprintf(stderr, "seal failed\n");
        exit(1);
    }
    s_put("enclave_blob", name, 0, blob, blen);
    free(blob);
    free(data);
}

static void s_donate_keyed(const char *name, size_t data_len, size_t grant_len)
{
    uint8_t spec[32], id[32], salt[32], key[32], pk[32], sk[32];
    memset(spec, 0x51, 32);
    memset(id, 0x1d, 32);
    memset(salt, 0x5a, 32);
    memcpy(key, s_key, 32);
    crypto_box_keypair(pk, sk);
    uint8_t *grant = NULL, *blob = NULL, *frame = NULL;
    size_t glen = 0, blen = 0, flen = 0;
    uint8_t data[200];
    memset(data, 'A', sizeof data);
    if (enclave_grant_seal(pk, spec, id, salt, key, &grant, &glen) != 0 ||
        enclave_blob_seal(key, data, data_len, &blob, &blen) != 0) {
        fprintf(stderr, "seal failed\n");
        exit(1);
    }
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE_KEYED;
    memcpy(req.u.donate_keyed.spec_id, spec, 32);
    memcpy(req.u.donate_keyed.data_id, id, 32);
    memset(req.u.donate_keyed.donor, 0xd0, 32);
    req.u.donate_keyed.grant = grant;
    req.u.donate_keyed.grant_len = grant_len < glen ? grant_len : glen;
    req.u.donate_keyed.blob = blob;
    req.u.donate_keyed.blob_len = blen;
    if (enclave_wire_req_encode(&req, &frame, &flen) != 0) {
        fprintf(stderr, "encode failed\n");
        exit(1);
    }
    s_put("enclave_request", name, -1, frame, flen);
    free(frame);
    free(grant);
    free(blob);
}

/* Must equal fuzz_data_fetch.c's blob. */
static const uint8_t s_fblob[100] = "genie fuzz blob: a data owner's ciphertext stands here, "
                                    "100 bytes of it, hashed to its address.";

static size_t s_fetch_msg(uint8_t *out, uint64_t id, uint64_t offset, uint64_t max)
{
    uint8_t addr[32];
    crypto_generichash(addr, 32, s_fblob, sizeof s_fblob, NULL, 0);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 5);
    proto_wr_uint(&w, PROTO_MSG_DATA_FETCH);
    proto_wr_uint(&w, id);
    proto_wr_bin(&w, addr, 32);
    proto_wr_uint(&w, offset);
    proto_wr_uint(&w, max);
    size_t n = 0;
    const uint8_t *p = proto_wr_data(&w, &n);
    memcpy(out, p, n);
    proto_wr_free(&w);
    return n;
}

static size_t s_chunk_msg(uint8_t *out, uint64_t id, uint64_t error, uint64_t total,
                          uint64_t offset, size_t len)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 6);
    proto_wr_uint(&w, PROTO_MSG_DATA_CHUNK);
    proto_wr_uint(&w, id);
    proto_wr_uint(&w, error);
    proto_wr_uint(&w, total);
    proto_wr_uint(&w, offset);
    proto_wr_bin(&w, s_fblob + offset, len);
    size_t n = 0;
    const uint8_t *p = proto_wr_data(&w, &n);
    memcpy(out, p, n);
    proto_wr_free(&w);
    return n;
}

/* Appends a conversation record (KB, MSG of N bytes) to BUF at *AT. */
static void s_record(uint8_t *buf, size_t *at, uint8_t kb, const uint8_t *msg, size_t n)
{
    buf[(*at)++] = kb;
    buf[(*at)++] = (uint8_t)(n & 0xff);
    buf[(*at)++] = (uint8_t)(n >> 8);
    memcpy(buf + *at, msg, n);
    *at += n;
}

static void s_data_fetch(void)
{
    uint8_t m[512], conv[2048];
    size_t n, at;
    n = s_fetch_msg(m, 7, 0, 50);
    s_put("data_fetch", "fetch", 0, m, n);
    n = s_chunk_msg(m, 7, 0, 100, 40, 60);
    s_put("data_fetch", "chunk", 1, m, n);
    n = s_chunk_msg(m, 7, 508, 0, 0, 0);
    s_put("data_fetch", "chunk-error", 1, m, n);
    at = 0; /* the whole blob in one chunk answers fetch 1 */
    n = s_chunk_msg(m, 1, 0, 100, 0, 100);
    s_record(conv, &at, 2, m, n);
    s_put("data_fetch", "conv-complete", 2, conv, at);
    at = 0; /* two chunks, a stranger's copy between them */
    n = s_chunk_msg(m, 1, 0, 100, 0, 40);
    s_record(conv, &at, 2, m, n);
    n = s_chunk_msg(m, 1, 0, 100, 40, 60);
    s_record(conv, &at, 3, m, n);
    s_record(conv, &at, 2, m, n);
    s_put("data_fetch", "conv-two-chunks", 2, conv, at);
    at = 0; /* the owner serves a transfer in two pieces, then the clock runs out */
    n = s_fetch_msg(m, 9, 0, 50);
    s_record(conv, &at, 0, m, n);
    n = s_fetch_msg(m, 9, 50, 50);
    s_record(conv, &at, 0, m, n);
    n = s_fetch_msg(m, 10, 0, 1);
    s_record(conv, &at, (uint8_t)(40u << 3), m, n);
    s_put("data_fetch", "conv-serve-timeout", 3, conv, at);
}

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: gen_keyed_corpus CORPUS_ROOT\n");
        return 1;
    }
    s_root = argv[1];
    s_blob("open-empty", 0);
    s_blob("open-1", 1);
    s_blob("open-100", 100);
    s_blob("open-1000", 1000);
    s_put("enclave_blob", "open-garbage", 2, (const uint8_t *)"GNDB\x01", 5);
    static const uint8_t rt1[] = {0x00, 0x10, 'r', 's', '1', '\t', 'A', 'G'};
    s_put("enclave_blob", "rt-small", 1, rt1, sizeof rt1);
    static const uint8_t rt2[] = {0x40, 0x00, 'x'};
    s_put("enclave_blob", "rt-two-chunks", 1, rt2, sizeof rt2);
    static const uint8_t rt3[] = {0x55, 0x55, 0x00, 0x01, 0x02};
    s_put("enclave_blob", "rt-four-chunks", 3, rt3, sizeof rt3);
    s_put("enclave_blob", "rt-empty", 1, NULL, 0);
    s_donate_keyed("donate_keyed", 200, ENCLAVE_GRANT_LEN);
    s_donate_keyed("donate_keyed-empty", 0, ENCLAVE_GRANT_LEN);
    s_donate_keyed("donate_keyed-short-grant", 10, 40);
    s_data_fetch();
    return 0;
}
