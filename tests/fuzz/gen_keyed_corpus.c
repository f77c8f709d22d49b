/*  gen_keyed_corpus: writes the seed corpus tests/fuzz/corpus/enclave_blob/ (real blobs
 *  under the harness's fixed key, and round-trip seeds).
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

static const char *s_root;

/* Must equal fuzz_enclave_blob.c's key. */
static const uint8_t s_key[32] = {'g', 'e', 'n', 'i', 'e', '-', 'f', 'u', 'z', 'z', '-',
                                  'b', 'l', 'o', 'b', '-', 'k', 'e', 'y', '-', '0', '0',
                                  '0', '0', '0', '0', '0', '0', '0', '0', '0', '1'};

static void s_put(const char *dir, const char *name, uint8_t first, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", s_root, dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", s_root, dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(first, f) == EOF || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
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
    return 0;
}
