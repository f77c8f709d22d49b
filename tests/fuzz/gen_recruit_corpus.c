/*  gen_recruit_corpus: writes the seed corpus tests/fuzz/corpus/proto_recruit/ (the
 *  recruitment post decoder, fuzz_proto_recruit.c).
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Deterministic: the key comes from a
 *  fixed seed and times are fixed, so rerunning it rewrites the same files. Build and run
 *  by hand from the repository root:
 *      cmake --build build --target genie_proto
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. $(pkg-config --cflags msgpack) \
 *         tests/fuzz/gen_recruit_corpus.c build/libgenie_proto.a \
 *         $(pkg-config --libs libsodium msgpack) -o /tmp/gen_recruit_corpus
 *      /tmp/gen_recruit_corpus tests/fuzz/corpus
 *  (with a sanitizer build, add -fsanitize=address,undefined). Every file is under 1 KiB.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/proto_key.h"
#include "proto/proto_recruit.h"
#include "tests/fuzz/gen_util.h"

static const char *s_root;

static void s_put(const char *name, const uint8_t *p, size_t n)
{
    gen_put(s_root, "proto_recruit", name, -1, p, n);
}

/* A hand-written post: ARITY fields, VERSION, NOTE of NOTE_LEN bytes. */
static void s_raw(const char *name, uint32_t arity, uint64_t version, const char *note,
                  size_t note_len, const proto_recruit_t *r)
{
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, arity);
    proto_wr_uint(&w, version);
    proto_wr_bin(&w, r->spec_id, 32);
    proto_wr_bin(&w, r->trainer, 32);
    proto_wr_uint(&w, r->time_ms);
    proto_wr_str(&w, note, note_len);
    if (arity >= 6)
        proto_wr_bin(&w, r->sig, 64);
    size_t n;
    const uint8_t *p = proto_wr_data(&w, &n);
    if (!p)
        exit(1);
    s_put(name, p, n);
    proto_wr_free(&w);
}

int main(int argc, char **argv)
{
    if (argc != 2 || proto_crypto_init() != 0)
        return 2;
    s_root = argv[1];
    uint8_t seed[32];
    memset(seed, 0x5a, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    if (!k)
        return 1;
    proto_recruit_t r;
    memset(&r, 0, sizeof r);
    memset(r.spec_id, 0x11, 32);
    r.time_ms = 1765000000000ull;
    snprintf(r.note, sizeof r.note, "PRS for type 2 diabetes: 500 genotypes wanted");
    if (proto_recruit_sign(&r, k) != PROTO_OK)
        return 1;
    uint8_t *b;
    size_t n;
    if (proto_recruit_encode(&r, &b, &n) != PROTO_OK)
        return 1;
    s_put("valid", b, n);
    uint8_t *t = malloc(n + 1);
    memcpy(t, b, n);
    t[n] = 0;
    s_put("trailing", t, n + 1);
    t[n - 1] ^= 1;
    s_put("bad_sig", t, n);
    free(t);
    free(b);

    proto_recruit_t e = r;
    e.note[0] = 0;
    if (proto_recruit_sign(&e, k) != PROTO_OK || proto_recruit_encode(&e, &b, &n) != PROTO_OK)
        return 1;
    s_put("empty_note", b, n);
    free(b);

    char full[PROTO_RECRUIT_NOTE_MAX + 2];
    memset(full, 'n', sizeof full);
    memcpy(e.note, full, PROTO_RECRUIT_NOTE_MAX);
    e.note[PROTO_RECRUIT_NOTE_MAX] = 0;
    if (proto_recruit_sign(&e, k) != PROTO_OK || proto_recruit_encode(&e, &b, &n) != PROTO_OK)
        return 1;
    s_put("longest_note", b, n);
    free(b);

    s_raw("note_too_long", 6, 1, full, PROTO_RECRUIT_NOTE_MAX + 1, &r);
    s_raw("note_control", 6, 1, "a\nb", 3, &r);
    s_raw("version_2", 6, 2, r.note, strlen(r.note), &r);
    s_raw("arity_5", 5, 1, r.note, strlen(r.note), &r);
    proto_key_destroy(&k);
    return 0;
}
