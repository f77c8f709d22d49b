/*  enclave_measure: BLAKE2b-256 measurement of an enclave executable and its kind
 *  (see enclave_measure.h for the exact input). */
#include "enclave/enclave_measure.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOMAIN "genie/enclave/measure/v1"
#define CHUNK (64u * 1024u)

bool enclave_kind_valid(const char *kind)
{
    if (!kind)
        return false;
    size_t n = strnlen(kind, ENCLAVE_KIND_MAX + 1);
    if (n == 0 || n > ENCLAVE_KIND_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = kind[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static void s_u64le(uint64_t v, uint8_t out[8])
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

/* Starts the hash: domain tag, separator, executable length. */
static void s_begin(crypto_generichash_state *st, uint64_t exe_len)
{
    static const uint8_t zero = 0;
    uint8_t len_le[8];
    crypto_generichash_init(st, NULL, 0, ENCLAVE_MEASUREMENT_LEN);
    crypto_generichash_update(st, (const uint8_t *)DOMAIN, sizeof DOMAIN - 1);
    crypto_generichash_update(st, &zero, 1);
    s_u64le(exe_len, len_le);
    crypto_generichash_update(st, len_le, sizeof len_le);
}

/* Ends the hash: kind length (one byte, KIND is valid) and kind. */
static void s_end(crypto_generichash_state *st, const char *kind, uint8_t *out)
{
    uint8_t klen = (uint8_t)strlen(kind);
    crypto_generichash_update(st, &klen, 1);
    crypto_generichash_update(st, (const uint8_t *)kind, klen);
    crypto_generichash_final(st, out, ENCLAVE_MEASUREMENT_LEN);
}

int enclave_measure_buf(const uint8_t *exe, size_t len, const char *kind,
                        uint8_t out[static ENCLAVE_MEASUREMENT_LEN])
{
    if (!enclave_kind_valid(kind))
        return ENCLAVE_E_KIND;
    if (len > ENCLAVE_EXE_MAX_BYTES)
        return PROTO_E_TOO_BIG;
    crypto_generichash_state st;
    s_begin(&st, len);
    if (len)
        crypto_generichash_update(&st, exe, len);
    s_end(&st, kind, out);
    return PROTO_OK;
}

int enclave_measure_fd(int fd, const char *kind, uint8_t out[static ENCLAVE_MEASUREMENT_LEN],
                       char *err, size_t err_cap)
{
    int rc = PROTO_OK;
    uint8_t *buf = NULL;
    if (!enclave_kind_valid(kind))
        return proto_err_fail(err, err_cap, ENCLAVE_E_KIND,
                              "kind must be 1..%d bytes of [a-z0-9._-]", ENCLAVE_KIND_MAX);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return proto_err_fail(err, err_cap, PROTO_E_IO, "fstat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return proto_err_fail(err, err_cap, PROTO_E_IO, "not a regular file");
    if (st.st_size < 0 || (uint64_t)st.st_size > ENCLAVE_EXE_MAX_BYTES)
        return proto_err_fail(err, err_cap, PROTO_E_TOO_BIG, "executable of %lld bytes",
                              (long long)st.st_size);
    buf = malloc(CHUNK);
    if (!buf)
        return proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");

    uint64_t size = (uint64_t)st.st_size, done = 0;
    crypto_generichash_state hs;
    s_begin(&hs, size);
    while (done < size) {
        size_t want = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        ssize_t got = pread(fd, buf, want, (off_t)done);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = proto_err_fail(err, err_cap, PROTO_E_IO, "read: %s", strerror(errno));
            goto out;
        }
        if (got == 0) {
            rc = proto_err_fail(err, err_cap, PROTO_E_IO, "file shrank while measured");
            goto out;
        }
        crypto_generichash_update(&hs, buf, (size_t)got);
        done += (uint64_t)got;
    }
    /* A file that grew while it was read would be measured in part: refuse it. */
    uint8_t probe;
    ssize_t more;
    do
        more = pread(fd, &probe, 1, (off_t)size);
    while (more < 0 && errno == EINTR);
    if (more != 0) {
        rc = proto_err_fail(err, err_cap, PROTO_E_IO, "file grew while measured");
        goto out;
    }
    s_end(&hs, kind, out);
out:
    sodium_memzero(&hs, sizeof hs);
    free(buf);
    return rc;
}

int enclave_measure_path(const char *path, const char *kind,
                         uint8_t out[static ENCLAVE_MEASUREMENT_LEN], char *err, size_t err_cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return proto_err_fail(err, err_cap, PROTO_E_IO, "%s: %s", path, strerror(errno));
    int rc = enclave_measure_fd(fd, kind, out, err, err_cap);
    close(fd);
    return rc;
}
