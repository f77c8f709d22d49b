/*  ml_file: internal helper the ml/ loaders (ml_model_load, ml_prs_load_tsv) share: read a
 *  whole regular file of bounded size into memory. Not installed; included only by the .c
 *  files of ml/. */
#ifndef GENIE_ML_FILE_H
#define GENIE_ML_FILE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/proto_err.h"

/* Reads the regular file PATH of at most MAX bytes into a new buffer *BUF of *LEN bytes
   (never NULL on success, even when empty; the caller frees it). Errors: PROTO_E_IO
   (cannot open, not a regular file, short read), TOO_BIG (the caller's code) when larger
   than MAX, PROTO_E_NOMEM; *BUF is NULL on error, detail in ERR. */
static inline int ml_file_read(const char *path, size_t max, int too_big, uint8_t **buf,
                               size_t *len, char *err, size_t cap)
{
    *buf = NULL;
    *len = 0;
    int rc = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return proto_err_fail(err, cap, PROTO_E_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = proto_err_fail(err, cap, PROTO_E_IO, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = proto_err_fail(err, cap, too_big, "%s: %lld bytes", path, (long long)st.st_size);
        goto out;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *b = malloc(n ? n : 1);
    if (!b) {
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    if (fread(b, 1, n, f) != n) {
        free(b);
        rc = proto_err_fail(err, cap, PROTO_E_IO, "%s: short read", path);
        goto out;
    }
    *buf = b;
    *len = n;
out:
    fclose(f);
    return rc;
}

#endif
