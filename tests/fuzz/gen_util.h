/*  gen_util: what every seed-corpus generator under tests/fuzz/ (gen_*.c) shares: writing
 *  one seed file. Header-only, included once per generator.
 */
#ifndef GENIE_FUZZ_GEN_UTIL_H
#define GENIE_FUZZ_GEN_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/*  Writes DIR/SUB/NAME (SUB NULL: DIR/NAME; DIR/SUB is made if missing): the byte FIRST
 *  when it is 0..255 (a harness's selector byte), then P[0..N). A generator has no
 *  use for a partial corpus: any failure (P NULL included) prints the path and exits 1. */
static inline void gen_put(const char *dir, const char *sub, const char *name, int first,
                           const void *p, size_t n)
{
    char path[512];
    if (sub) {
        snprintf(path, sizeof path, "%s/%s", dir, sub);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    } else {
        snprintf(path, sizeof path, "%s/%s", dir, name);
    }
    FILE *f = p || n == 0 ? fopen(path, "wb") : NULL;
    if (!f || (first >= 0 && fputc(first, f) == EOF) || (n && fwrite(p, 1, n, f) != n) ||
        fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

#endif
