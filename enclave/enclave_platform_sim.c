/*  enclave_platform_sim: the simulated platform backend (see enclave_platform.h).
 *
 *  State on disk, in the runner's platform directory:
 *    platform.key   msgpack [1, Ed25519 seed (bin 32), platform secret (bin 32)], mode 0600,
 *                   owned by the runner's user; created once with fresh random bytes,
 *                   written to a temporary file, synced and linked into place (link, not
 *                   rename, so two processes starting at once never replace each other's
 *                   key: the loser loads the winner's).
 *    platform.cert  the certificate's wire form (proto/proto_attest.h), if one was installed.
 *  In memory the secrets sit in one sodium_malloc block (guard pages, locked, wiped on
 *  free) that is kept inaccessible (sodium_mprotect_noaccess) except while a quote is
 *  signed or a seal key derived: a stray read elsewhere in the runner faults instead of
 *  leaking them. That is as far as software goes; root reading the key file or the
 *  runner's memory defeats it, which only hardware prevents (enclave/README.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_platform.h"
#include "proto/proto_mp.h"

#define KEY_FILE "platform.key"
#define CERT_FILE "platform.cert"
#define KEY_FILE_VERSION 1
#define KEY_FILE_MAX 128
#define SEAL_DOMAIN "genie/enclave/seal-key/v1"

typedef struct {
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    uint8_t secret[32];
} s_secrets_t;

typedef struct {
    char *dir;
    uint8_t pk[32];
    s_secrets_t *sec; /* sodium_malloc, PROT_NONE while idle */
} s_sim_t;

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int s_path(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void s_sim_pubkey(void *impl, uint8_t pk[static 32])
{
    memcpy(pk, ((s_sim_t *)impl)->pk, 32);
}

static int s_sim_sign_quote(void *impl, proto_attest_quote_t *q)
{
    s_sim_t *sim = impl;
    static const uint8_t zero[32];
    uint8_t hash[32];
    q->time_ms = s_now_ms();
    memcpy(q->platform_pk, sim->pk, 32);
    proto_attest_quote_signing_hash(q, hash);
    if (sodium_memcmp(hash, zero, 32) == 0) /* the hash's allocation failed */
        return PROTO_E_NOMEM;
    sodium_mprotect_readonly(sim->sec);
    crypto_sign_detached(q->sig, NULL, hash, sizeof hash, sim->sec->sk);
    sodium_mprotect_noaccess(sim->sec);
    return PROTO_OK;
}

static int s_sim_seal_key(void *impl, const uint8_t measurement[static 32], uint8_t key[static 32])
{
    s_sim_t *sim = impl;
    uint8_t msg[sizeof SEAL_DOMAIN + 32]; /* domain, its NUL as separator, measurement */
    memcpy(msg, SEAL_DOMAIN, sizeof SEAL_DOMAIN);
    memcpy(msg + sizeof SEAL_DOMAIN, measurement, 32);
    sodium_mprotect_readonly(sim->sec);
    int rc = crypto_generichash(key, 32, msg, sizeof msg, sim->sec->secret, 32);
    sodium_mprotect_noaccess(sim->sec);
    return rc == 0 ? PROTO_OK : PROTO_E_CRYPTO;
}

/* Writes BYTES to a fresh temporary file in DIR (mode 0600) and syncs it; the path goes to
   TMP. 0 or PROTO_E_IO. */
static int s_write_tmp(const char *dir, const char *name, const uint8_t *bytes, size_t len,
                       char *tmp, size_t tmp_cap)
{
    char leaf[64];
    snprintf(leaf, sizeof leaf, ".%s.tmp.%ld", name, (long)getpid());
    if (s_path(tmp, tmp_cap, dir, leaf) != 0)
        return PROTO_E_IO;
    (void)unlink(tmp); /* left by a crash of a process that had our pid */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return PROTO_E_IO;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, bytes + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    int rc = done == len && fsync(fd) == 0 ? PROTO_OK : PROTO_E_IO;
    if (close(fd) != 0)
        rc = PROTO_E_IO;
    if (rc != PROTO_OK)
        (void)unlink(tmp);
    return rc;
}

static void s_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static int s_sim_store_cert(void *impl, const uint8_t *bytes, size_t len)
{
    s_sim_t *sim = impl;
    char tmp[PATH_MAX], path[PATH_MAX];
    if (s_path(path, sizeof path, sim->dir, CERT_FILE) != 0)
        return PROTO_E_IO;
    int rc = s_write_tmp(sim->dir, CERT_FILE, bytes, len, tmp, sizeof tmp);
    if (rc != PROTO_OK)
        return rc;
    if (rename(tmp, path) != 0) {
        (void)unlink(tmp);
        return PROTO_E_IO;
    }
    s_sync_dir(sim->dir);
    return PROTO_OK;
}

static void s_sim_destroy(void *impl)
{
    s_sim_t *sim = impl;
    if (sim->sec)
        sodium_free(sim->sec); /* wipes; works on a PROT_NONE block */
    free(sim->dir);
    free(sim);
}

static const enclave_platform_ops_t s_sim_ops = {
    .name = "sim",
    .pubkey = s_sim_pubkey,
    .sign_quote = s_sim_sign_quote,
    .seal_key = s_sim_seal_key,
    .store_cert = s_sim_store_cert,
    .destroy = s_sim_destroy,
};

/* Reads the small file at PATH (at most CAP bytes) into BUF (*LEN bytes), refusing
   anything but a regular file (and, with SECRET, one that is not ours or that group or
   others may access). Returns 0 or a code; *MISSING is set when the file does not exist. */
static int s_read_small(const char *path, bool secret, uint8_t *buf, size_t cap, size_t *len,
                        bool *missing, char *err, size_t err_cap)
{
    *missing = false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *missing = errno == ENOENT;
        return proto_err_fail(err, err_cap, PROTO_E_IO, "%s: %s", path, strerror(errno));
    }
    int rc = PROTO_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = proto_err_fail(err, err_cap, PROTO_E_IO, "%s: not a regular file", path);
        goto out;
    }
    if (secret && (st.st_uid != geteuid() || (st.st_mode & 077) != 0)) {
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_KEY_PERMS,
                            "%s: mode %03o, owner %ld: must be 0600 and ours", path,
                            (unsigned)(st.st_mode & 0777), (long)st.st_uid);
        goto out;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > cap) {
        rc = proto_err_fail(err, err_cap, PROTO_E_TOO_BIG, "%s: %lld bytes", path,
                            (long long)st.st_size);
        goto out;
    }
    size_t done = 0, want = (size_t)st.st_size;
    while (done < want) {
        ssize_t n = read(fd, buf + done, want - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = proto_err_fail(err, err_cap, PROTO_E_IO, "%s: short read", path);
            goto out;
        }
        done += (size_t)n;
    }
    *len = done;
out:
    close(fd);
    return rc;
}

/* Decodes the key file's bytes into SIM's secrets and public key. */
static int s_parse_key(s_sim_t *sim, const uint8_t *buf, size_t len, char *err, size_t err_cap)
{
    uint8_t *seed = sodium_malloc(32);
    if (!seed)
        return proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
    uint64_t version = 0;
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    int rc = PROTO_OK;
    if (proto_rd_array_exact(&r, 3) || proto_rd_uint(&r, UINT32_MAX, &version) ||
        proto_rd_bin_exact(&r, 32, seed) || proto_rd_bin_exact(&r, 32, sim->sec->secret) ||
        proto_rd_finish(&r)) {
        rc = proto_err_fail(err, err_cap, r.err, "platform key file: %s", proto_err_str(r.err));
        goto out;
    }
    if (version != KEY_FILE_VERSION) {
        rc = proto_err_fail(err, err_cap, PROTO_E_VERSION, "platform key file version %llu",
                            (unsigned long long)version);
        goto out;
    }
    if (crypto_sign_seed_keypair(sim->pk, sim->sec->sk, seed) != 0)
        rc = proto_err_fail(err, err_cap, PROTO_E_CRYPTO, "key derivation failed");
out:
    sodium_free(seed);
    return rc;
}

/* Creates DIR/platform.key with fresh secrets unless it appeared meanwhile.
   0 (created or already there: the caller loads it) or a code. */
static int s_create_key(const char *dir, const char *path, char *err, size_t err_cap)
{
    uint8_t *raw = sodium_malloc(64);
    if (!raw)
        return proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
    randombytes_buf(raw, 64);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_uint(&w, KEY_FILE_VERSION);
    proto_wr_bin(&w, raw, 32);
    proto_wr_bin(&w, raw + 32, 32);
    sodium_free(raw);
    size_t len;
    const uint8_t *bytes = proto_wr_data(&w, &len);
    char tmp[PATH_MAX];
    int rc = bytes ? s_write_tmp(dir, KEY_FILE, bytes, len, tmp, sizeof tmp) : PROTO_E_NOMEM;
    proto_wr_free(&w); /* wipes the encoded secrets */
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, rc, "%s: cannot write the new platform key", dir);
    if (link(tmp, path) != 0 && errno != EEXIST) {
        rc = proto_err_fail(err, err_cap, PROTO_E_IO, "%s: %s", path, strerror(errno));
    }
    (void)unlink(tmp);
    s_sync_dir(dir);
    return rc;
}

/* Makes DIR if missing (0700) and refuses one others may write into. */
static int s_check_dir(const char *dir, char *err, size_t err_cap)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return proto_err_fail(err, err_cap, PROTO_E_IO, "%s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return proto_err_fail(err, err_cap, PROTO_E_IO, "%s: not a directory", dir);
    if ((st.st_mode & 022) != 0 || st.st_uid != geteuid())
        return proto_err_fail(err, err_cap, ENCLAVE_E_KEY_PERMS,
                              "%s: others may write into it (mode %03o) or not ours", dir,
                              (unsigned)(st.st_mode & 0777));
    return PROTO_OK;
}

/* Loads DIR/platform.cert into CERT if present. *HAVE says whether it was. */
static int s_load_cert(const s_sim_t *sim, proto_attest_cert_t *cert, bool *have, char *err,
                       size_t err_cap)
{
    char path[PATH_MAX];
    uint8_t buf[PROTO_ATTEST_CERT_MAX_BYTES];
    size_t len = 0;
    bool missing;
    *have = false;
    if (s_path(path, sizeof path, sim->dir, CERT_FILE) != 0)
        return proto_err_fail(err, err_cap, PROTO_E_IO, "path too long");
    int rc = s_read_small(path, false, buf, sizeof buf, &len, &missing, err, err_cap);
    if (rc != PROTO_OK)
        return missing ? PROTO_OK : rc;
    rc = proto_attest_cert_decode(buf, len, cert);
    if (rc != PROTO_OK)
        return proto_err_fail(err, err_cap, rc, "%s: %s", path, proto_err_str(rc));
    if (memcmp(cert->platform_pk, sim->pk, 32) != 0)
        return proto_err_fail(err, err_cap, ENCLAVE_E_PLATFORM_MISMATCH,
                              "%s: certifies another platform key", path);
    *have = true;
    return PROTO_OK;
}

enclave_platform_t *enclave_platform_sim_open(const char *dir, char *err, size_t err_cap)
{
    char path[PATH_MAX];
    uint8_t *buf = NULL;
    enclave_platform_t *self = NULL;
    s_sim_t *sim = calloc(1, sizeof *sim);
    if (!sim || !(sim->dir = strdup(dir)) || !(sim->sec = sodium_malloc(sizeof *sim->sec)) ||
        !(buf = sodium_malloc(KEY_FILE_MAX))) {
        proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
        goto err;
    }
    if (s_check_dir(dir, err, err_cap) != PROTO_OK)
        goto err;
    if (s_path(path, sizeof path, dir, KEY_FILE) != 0) {
        proto_err_fail(err, err_cap, PROTO_E_IO, "path too long");
        goto err;
    }
    size_t len = 0;
    bool missing;
    int rc = s_read_small(path, true, buf, KEY_FILE_MAX, &len, &missing, err, err_cap);
    if (rc != PROTO_OK && missing) {
        if (s_create_key(dir, path, err, err_cap) != PROTO_OK)
            goto err;
        rc = s_read_small(path, true, buf, KEY_FILE_MAX, &len, &missing, err, err_cap);
    }
    if (rc != PROTO_OK || s_parse_key(sim, buf, len, err, err_cap) != PROTO_OK)
        goto err;
    sodium_free(buf);
    buf = NULL;
    sodium_mprotect_noaccess(sim->sec);

    proto_attest_cert_t cert;
    bool have_cert;
    if (s_load_cert(sim, &cert, &have_cert, err, err_cap) != PROTO_OK)
        goto err;
    self = enclave_platform_new(&s_sim_ops, sim, have_cert ? &cert : NULL);
    if (!self) {
        proto_err_fail(err, err_cap, PROTO_E_NOMEM, "out of memory");
        goto err;
    }
    return self;
err:
    if (buf)
        sodium_free(buf);
    if (sim)
        s_sim_destroy(sim);
    return NULL;
}
