/*  test_keystore: proto_keystore save/load/inspect, permissions, atomic creation, and
 *  rejection of damaged or crafted files. Also a usage example:
 *
 *      proto_key_t *k = proto_key_generate();
 *      if (proto_keystore_save(path, k, PROTO_KS_NODE, passphrase) != PROTO_OK) ...
 *      proto_key_t *back = NULL;
 *      int rc = proto_keystore_load(path, passphrase, &back, NULL);
 *      if (rc != PROTO_OK) fprintf(stderr, "%s\n", proto_keystore_strerror(rc));
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto_key.h"
#include "proto/proto_keystore.h"
#include "proto/proto_mp.h"
#include "testutil.h"

static const char *s_dir;

static void s_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", s_dir, name);
}

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*  Reads a whole small file into BUF; returns its length or -1. */
static long s_slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, cap, fp);
    fclose(fp);
    return (long)n;
}

/*  Writes BUF to PATH with MODE (replacing it). 0 or -1. */
static int s_spit(const char *path, const uint8_t *buf, size_t len, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode);
    if (fd < 0)
        return -1;
    int rc = fchmod(fd, mode);
    if (len && write(fd, buf, len) != (ssize_t)len)
        rc = -1;
    close(fd);
    return rc;
}

static long s_find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return (long)i;
    return -1;
}

/*  Number of directory entries (besides . and ..) in the test dir. */
static int s_count_entries(void)
{
    int n = 0;
    DIR *d = opendir(s_dir);
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/*  Signs with LOADED and verifies against PUB. */
static bool s_signs_as(const proto_key_t *loaded, const uint8_t *pub)
{
    static const uint8_t msg[] = "genie keystore test";
    uint8_t sig[PROTO_SIG_LEN];
    proto_key_sign(loaded, msg, sizeof msg, sig);
    return proto_sig_verify(pub, msg, sizeof msg, sig);
}

static void test_roundtrip_clear(void)
{
    char path[512];
    s_path(path, sizeof path, "node.key");
    proto_key_t *k = proto_key_generate();
    proto_key_t *back = NULL;
    proto_ks_info_t info;
    uint64_t t0 = s_now_ms();
    CHECK(k != NULL);

    CHECK_EQ(proto_keystore_save(path, k, PROTO_KS_NODE, NULL), PROTO_OK);
    uint64_t t1 = s_now_ms();
    memset(&info, 0xaa, sizeof info);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, &info), PROTO_OK);
    CHECK(back != NULL);
    if (back) {
        CHECK(memcmp(proto_key_public(back), proto_key_public(k), PROTO_PUBKEY_LEN) == 0);
        CHECK(s_signs_as(back, proto_key_public(k)));
    }
    CHECK_EQ(info.kind, PROTO_KS_NODE);
    CHECK(!info.encrypted);
    CHECK(memcmp(info.pub, proto_key_public(k), PROTO_PUBKEY_LEN) == 0);
    CHECK(info.created_ms >= t0 && info.created_ms <= t1);
    proto_key_destroy(&back);

    /* A passphrase given for an unencrypted file is ignored. */
    CHECK_EQ(proto_keystore_load(path, "whatever", &back, NULL), PROTO_OK);
    CHECK(back != NULL);
    proto_key_destroy(&back);

    /* "" means unencrypted too. */
    char path2[512];
    s_path(path2, sizeof path2, "empty-pass.key");
    CHECK_EQ(proto_keystore_save(path2, k, PROTO_KS_ACCOUNT, ""), PROTO_OK);
    CHECK_EQ(proto_keystore_inspect(path2, &info), PROTO_OK);
    CHECK(!info.encrypted);
    CHECK_EQ(info.kind, PROTO_KS_ACCOUNT);

    /* The seed is in the file in the clear; the public key is also stored. */
    uint8_t buf[4096];
    uint8_t seed[PROTO_SEED_LEN];
    long n = s_slurp(path, buf, sizeof buf);
    proto_key_seed(k, seed);
    CHECK(n > 0 && s_find(buf, (size_t)n, seed, sizeof seed) >= 0);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(buf, sizeof buf);
    unlink(path);
    unlink(path2);
    proto_key_destroy(&k);
}

static void test_roundtrip_encrypted(void)
{
    char path[512];
    s_path(path, sizeof path, "account.key");
    proto_key_t *k = proto_key_generate();
    proto_key_t *back = NULL;
    proto_ks_info_t info;
    CHECK(k != NULL);

    CHECK_EQ(proto_keystore_save(path, k, PROTO_KS_ACCOUNT, "correct horse"), PROTO_OK);

    /* The seed is not in the file. */
    uint8_t buf[4096];
    uint8_t seed[PROTO_SEED_LEN];
    long n = s_slurp(path, buf, sizeof buf);
    proto_key_seed(k, seed);
    CHECK(n > 100 && s_find(buf, (size_t)n, seed, sizeof seed) < 0);
    sodium_memzero(seed, sizeof seed);
    if (n <= 100) {
        unlink(path);
        proto_key_destroy(&k);
        return;
    }

    /* Inspect needs no passphrase. */
    memset(&info, 0, sizeof info);
    CHECK_EQ(proto_keystore_inspect(path, &info), PROTO_OK);
    CHECK(info.encrypted);
    CHECK_EQ(info.kind, PROTO_KS_ACCOUNT);
    CHECK(memcmp(info.pub, proto_key_public(k), PROTO_PUBKEY_LEN) == 0);
    CHECK(info.created_ms > 0);
    CHECK_EQ(proto_keystore_inspect(path, NULL), PROTO_OK);

    /* Load without a passphrase: needs one; out stays NULL. */
    back = (proto_key_t *)&info; /* any non-NULL value: load must reset it */
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_NEED_PASSPHRASE);
    CHECK(back == NULL);
    CHECK_EQ(proto_keystore_load(path, "", &back, NULL), PROTO_E_KS_NEED_PASSPHRASE);
    CHECK(back == NULL);

    CHECK_EQ(proto_keystore_load(path, "wrong horse", &back, NULL), PROTO_E_KS_BAD_PASSPHRASE);
    CHECK(back == NULL);

    memset(&info, 0, sizeof info);
    CHECK_EQ(proto_keystore_load(path, "correct horse", &back, &info), PROTO_OK);
    CHECK(back != NULL);
    if (back) {
        CHECK(memcmp(proto_key_public(back), proto_key_public(k), PROTO_PUBKEY_LEN) == 0);
        CHECK(s_signs_as(back, proto_key_public(k)));
    }
    CHECK(info.encrypted);
    CHECK_EQ(info.kind, PROTO_KS_ACCOUNT);
    proto_key_destroy(&back);

    /* A flipped byte in the ciphertext (the last field, at the end of the file). */
    char bad[512];
    s_path(bad, sizeof bad, "flipped.key");
    uint8_t copy[4096];
    memcpy(copy, buf, (size_t)n);
    copy[n - 20] ^= 0x01;
    CHECK_EQ(s_spit(bad, copy, (size_t)n, 0600), 0);
    CHECK_EQ(proto_keystore_load(bad, "correct horse", &back, NULL), PROTO_E_KS_BAD_PASSPHRASE);
    CHECK(back == NULL);

    /* The public key replaced: the additional data no longer matches. */
    long at = s_find(buf, (size_t)n, proto_key_public(k), PROTO_PUBKEY_LEN);
    CHECK(at > 0);
    if (at > 0) {
        memcpy(copy, buf, (size_t)n);
        copy[at + 3] ^= 0x40;
        CHECK_EQ(s_spit(bad, copy, (size_t)n, 0600), 0);
        int rc = proto_keystore_load(bad, "correct horse", &back, NULL);
        CHECK(rc == PROTO_E_KS_BAD_PASSPHRASE || rc == PROTO_E_KS_FORMAT);
        CHECK(back == NULL);
    }

    /* The kind changed from account (2) to node (1): the byte right before the pubkey's
     * bin header is the kind. */
    if (at > 3 && buf[at - 3] == PROTO_KS_ACCOUNT) {
        memcpy(copy, buf, (size_t)n);
        copy[at - 3] = PROTO_KS_NODE;
        CHECK_EQ(s_spit(bad, copy, (size_t)n, 0600), 0);
        int rc = proto_keystore_load(bad, "correct horse", &back, NULL);
        CHECK(rc == PROTO_E_KS_BAD_PASSPHRASE);
        CHECK(back == NULL);
    } else {
        CHECK(!"kind byte not where expected");
    }

    unlink(bad);
    unlink(path);
    proto_key_destroy(&k);
}

static void test_mode_and_no_overwrite(void)
{
    char path[512];
    s_path(path, sizeof path, "mode.key");
    proto_key_t *k1 = proto_key_generate();
    proto_key_t *k2 = proto_key_generate();
    proto_key_t *back = NULL;
    struct stat st;
    CHECK(k1 && k2);

    int entries = s_count_entries();
    mode_t old = umask(0);
    CHECK_EQ(proto_keystore_save(path, k1, PROTO_KS_NODE, NULL), PROTO_OK);
    umask(old);
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);
    CHECK(S_ISREG(st.st_mode));
    CHECK_EQ(s_count_entries(), entries + 1); /* no temporary file left */

    /* A restrictive umask must not leave the file unreadable for its owner. */
    char path_u[512];
    s_path(path_u, sizeof path_u, "umask.key");
    old = umask(0277);
    CHECK_EQ(proto_keystore_save(path_u, k1, PROTO_KS_NODE, NULL), PROTO_OK);
    umask(old);
    CHECK_EQ(stat(path_u, &st), 0);
    CHECK_EQ(st.st_mode & 07777, 0600);
    unlink(path_u);

    uint8_t before[4096], after[4096];
    long nb = s_slurp(path, before, sizeof before);
    CHECK_EQ(proto_keystore_save(path, k2, PROTO_KS_NODE, NULL), PROTO_E_KS_EXISTS);
    long na = s_slurp(path, after, sizeof after);
    CHECK(nb > 0 && nb == na && memcmp(before, after, (size_t)nb) == 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_OK);
    if (back)
        CHECK(memcmp(proto_key_public(back), proto_key_public(k1), PROTO_PUBKEY_LEN) == 0);
    proto_key_destroy(&back);
    CHECK_EQ(s_count_entries(), entries + 1);

    /* A dangling symlink counts as existing too (nothing is created through it). */
    char link_path[512], target[512];
    s_path(link_path, sizeof link_path, "dangling.key");
    s_path(target, sizeof target, "target-does-not-exist");
    CHECK_EQ(symlink(target, link_path), 0);
    CHECK_EQ(proto_keystore_save(link_path, k2, PROTO_KS_NODE, NULL), PROTO_E_KS_EXISTS);
    CHECK(access(target, F_OK) != 0);
    unlink(link_path);

    /* Permissions: group/other bits are refused, by load and inspect alike. */
    proto_ks_info_t info;
    CHECK_EQ(chmod(path, 0644), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_PERMS);
    CHECK(back == NULL);
    CHECK_EQ(proto_keystore_inspect(path, &info), PROTO_E_KS_PERMS);
    CHECK_EQ(chmod(path, 0640), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_PERMS);
    CHECK_EQ(chmod(path, 0602), 0);
    CHECK_EQ(proto_keystore_inspect(path, &info), PROTO_E_KS_PERMS);
    CHECK_EQ(chmod(path, 0400), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_OK);
    proto_key_destroy(&back);

    /* A stale temporary file of the same name is not ours: error, and it is left alone. */
    char other[512], tmp[600];
    s_path(other, sizeof other, "other.key");
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", other, (long)getpid());
    CHECK_EQ(s_spit(tmp, (const uint8_t *)"x", 1, 0600), 0);
    CHECK_EQ(proto_keystore_save(other, k2, PROTO_KS_NODE, NULL), PROTO_E_IO);
    CHECK_EQ(errno, EEXIST);
    CHECK_EQ(access(tmp, F_OK), 0);
    CHECK(access(other, F_OK) != 0);
    unlink(tmp);

    /* A directory that does not exist. */
    char nodir[512];
    s_path(nodir, sizeof nodir, "no/such/dir/node.key");
    CHECK_EQ(proto_keystore_save(nodir, k2, PROTO_KS_NODE, NULL), PROTO_E_IO);
    CHECK_EQ(errno, ENOENT);

    /* Bad arguments. */
    CHECK_EQ(proto_keystore_save(other, k2, (proto_ks_kind_t)3, NULL), PROTO_E_IO);
    CHECK_EQ(proto_keystore_save(other, NULL, PROTO_KS_NODE, NULL), PROTO_E_IO);
    CHECK(access(other, F_OK) != 0);

    CHECK_EQ(chmod(path, 0600), 0);
    unlink(path);
    proto_key_destroy(&k1);
    proto_key_destroy(&k2);
}

/*  Writes a keystore file by hand (as documented in proto_keystore.c) with the given
 *  fields. ENC selects the encrypted layout. */
static int s_craft(const char *path, uint64_t version, uint64_t kind, const uint8_t *pub, bool enc,
                   uint64_t ops, uint64_t mem, const uint8_t *secret, size_t slen)
{
    static const uint8_t salt[16] = {1, 2, 3};
    static const uint8_t nonce[24] = {4, 5, 6};
    proto_wr_t w;
    size_t len;
    proto_wr_init(&w);
    proto_wr_array(&w, 9);
    proto_wr_str(&w, "genie-keystore", 14);
    proto_wr_uint(&w, version);
    proto_wr_uint(&w, kind);
    proto_wr_bin(&w, pub, PROTO_PUBKEY_LEN);
    proto_wr_uint(&w, 1700000000000ull);
    proto_wr_bool(&w, enc);
    if (enc) {
        proto_wr_array(&w, 3);
        proto_wr_uint(&w, ops);
        proto_wr_uint(&w, mem);
        proto_wr_bin(&w, salt, sizeof salt);
        proto_wr_bin(&w, nonce, sizeof nonce);
    } else {
        proto_wr_nil(&w);
        proto_wr_nil(&w);
    }
    proto_wr_bin(&w, secret, slen);
    const uint8_t *data = proto_wr_data(&w, &len);
    int rc = data ? s_spit(path, data, len, 0600) : -1;
    proto_wr_free(&w);
    return rc;
}

static void test_crafted(void)
{
    char path[512];
    s_path(path, sizeof path, "crafted.key");
    uint8_t seed[PROTO_SEED_LEN];
    uint8_t junk[48];
    proto_key_t *k, *back = NULL;
    proto_ks_info_t info;
    int rc;

    for (int i = 0; i < PROTO_SEED_LEN; i++)
        seed[i] = (uint8_t)i;
    memset(junk, 0x5a, sizeof junk);
    k = proto_key_from_seed(seed);
    CHECK(k != NULL);
    const uint8_t *pub = proto_key_public(k);

    /* The documented layout, written independently, loads. */
    CHECK_EQ(s_craft(path, 1, 1, pub, false, 0, 0, seed, 32), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, &info), PROTO_OK);
    if (back)
        CHECK(memcmp(proto_key_public(back), pub, PROTO_PUBKEY_LEN) == 0);
    CHECK_EQ(info.created_ms, 1700000000000ull);
    proto_key_destroy(&back);

    /* Unencrypted with a public key that does not match the seed. */
    uint8_t pub2[PROTO_PUBKEY_LEN];
    memcpy(pub2, pub, sizeof pub2);
    pub2[0] ^= 1;
    CHECK_EQ(s_craft(path, 1, 1, pub2, false, 0, 0, seed, 32), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK(back == NULL);
    CHECK_EQ(proto_keystore_inspect(path, &info), PROTO_E_KS_FORMAT);

    /* Wrong version, wrong kind, short seed. */
    CHECK_EQ(s_craft(path, 2, 1, pub, false, 0, 0, seed, 32), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(s_craft(path, 1, 3, pub, false, 0, 0, seed, 32), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(s_craft(path, 1, 0, pub, false, 0, 0, seed, 32), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(s_craft(path, 1, 1, pub, false, 0, 0, seed, 31), 0);
    CHECK_EQ(proto_keystore_load(path, NULL, &back, NULL), PROTO_E_KS_FORMAT);

    /* Control: an encrypted file with sane (minimal) limits and a junk ciphertext decodes
     * and fails only at decryption, so the FORMAT answers below are the limits' doing. */
    CHECK_EQ(s_craft(path, 1, 2, pub, true, crypto_pwhash_argon2id_OPSLIMIT_MIN,
                     crypto_pwhash_argon2id_MEMLIMIT_MIN, junk, 48),
             0);
    CHECK_EQ(proto_keystore_inspect(path, &info), PROTO_OK);
    CHECK(info.encrypted);
    CHECK_EQ(proto_keystore_load(path, "pw", &back, NULL), PROTO_E_KS_BAD_PASSPHRASE);

    /* Absurd memory limit (1 TiB), absurd ops, limits below the minimum. */
    CHECK_EQ(s_craft(path, 1, 2, pub, true, 2, 1ull << 40, junk, 48), 0);
    CHECK_EQ(proto_keystore_load(path, "pw", &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(proto_keystore_inspect(path, &info), PROTO_E_KS_FORMAT);
    CHECK_EQ(s_craft(path, 1, 2, pub, true, crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, /* allowed */
                     (uint64_t)crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE + 1, junk, 48),
             0);
    CHECK_EQ(proto_keystore_load(path, "pw", &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(s_craft(path, 1, 2, pub, true, UINT64_MAX, 65536, junk, 48), 0);
    CHECK_EQ(proto_keystore_load(path, "pw", &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(s_craft(path, 1, 2, pub, true, 0, 65536, junk, 48), 0);
    CHECK_EQ(proto_keystore_load(path, "pw", &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(s_craft(path, 1, 2, pub, true, 2, 1024, junk, 48), 0);
    CHECK_EQ(proto_keystore_load(path, "pw", &back, NULL), PROTO_E_KS_FORMAT);
    /* Encrypted with a seed-sized (unsealed) secret. */
    CHECK_EQ(s_craft(path, 1, 2, pub, true, 1, 8192, junk, 32), 0);
    rc = proto_keystore_load(path, "pw", &back, NULL);
    CHECK_EQ(rc, PROTO_E_KS_FORMAT);
    CHECK(back == NULL);

    unlink(path);
    sodium_memzero(seed, sizeof seed);
    proto_key_destroy(&k);
}

static void test_damaged_files(void)
{
    char path[512], bad[512];
    s_path(path, sizeof path, "good.key");
    s_path(bad, sizeof bad, "bad.key");
    proto_key_t *k = proto_key_generate();
    proto_key_t *back = NULL;
    proto_ks_info_t info;
    uint8_t buf[8192];
    CHECK(k != NULL);
    CHECK_EQ(proto_keystore_save(path, k, PROTO_KS_NODE, NULL), PROTO_OK);
    long n = s_slurp(path, buf, sizeof buf);
    CHECK(n > 40);
    if (n <= 40) {
        unlink(path);
        proto_key_destroy(&k);
        return;
    }

    /* Every proper prefix is rejected. */
    int prefixes_ok = 0;
    for (long cut = 0; cut < n; cut++) {
        CHECK_EQ(s_spit(bad, buf, (size_t)cut, 0600), 0);
        if (proto_keystore_load(bad, NULL, &back, NULL) == PROTO_E_KS_FORMAT && !back &&
            proto_keystore_inspect(bad, &info) == PROTO_E_KS_FORMAT)
            prefixes_ok++;
    }
    CHECK_EQ(prefixes_ok, n);

    /* Empty file. */
    CHECK_EQ(s_spit(bad, buf, 0, 0600), 0);
    CHECK_EQ(proto_keystore_load(bad, NULL, &back, NULL), PROTO_E_KS_FORMAT);

    /* A trailing byte. */
    buf[n] = 0xc0;
    CHECK_EQ(s_spit(bad, buf, (size_t)n + 1, 0600), 0);
    CHECK_EQ(proto_keystore_load(bad, NULL, &back, NULL), PROTO_E_KS_FORMAT);

    /* A flipped byte in the clear seed: the derived public key no longer matches. */
    uint8_t copy[8192];
    memcpy(copy, buf, (size_t)n);
    copy[n - 1] ^= 0x80;
    CHECK_EQ(s_spit(bad, copy, (size_t)n, 0600), 0);
    CHECK_EQ(proto_keystore_load(bad, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK(back == NULL);

    /* The magic altered. */
    memcpy(copy, buf, (size_t)n);
    copy[2] ^= 0x01;
    CHECK_EQ(s_spit(bad, copy, (size_t)n, 0600), 0);
    CHECK_EQ(proto_keystore_load(bad, NULL, &back, NULL), PROTO_E_KS_FORMAT);

    /* Garbage. */
    uint8_t garbage[300];
    randombytes_buf(garbage, sizeof garbage);
    CHECK_EQ(s_spit(bad, garbage, sizeof garbage, 0600), 0);
    CHECK_EQ(proto_keystore_load(bad, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(proto_keystore_inspect(bad, &info), PROTO_E_KS_FORMAT);
    CHECK(back == NULL);

    /* Too big (even if it starts with a good file). */
    memset(copy, 0, sizeof copy);
    memcpy(copy, buf, (size_t)n);
    CHECK_EQ(s_spit(bad, copy, 5000, 0600), 0);
    CHECK_EQ(proto_keystore_load(bad, NULL, &back, NULL), PROTO_E_KS_FORMAT);

    /* Not a regular file: a directory and a FIFO (which must not block). */
    char dir[512], fifo[512];
    s_path(dir, sizeof dir, "a-dir.key");
    s_path(fifo, sizeof fifo, "a-fifo.key");
    CHECK_EQ(mkdir(dir, 0700), 0);
    CHECK_EQ(proto_keystore_load(dir, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(mkfifo(fifo, 0600), 0);
    CHECK_EQ(proto_keystore_load(fifo, NULL, &back, NULL), PROTO_E_KS_FORMAT);
    CHECK_EQ(proto_keystore_inspect(fifo, &info), PROTO_E_KS_FORMAT);
    rmdir(dir);
    unlink(fifo);

    /* Missing file. */
    char missing[512];
    s_path(missing, sizeof missing, "missing.key");
    CHECK_EQ(proto_keystore_load(missing, NULL, &back, NULL), PROTO_E_IO);
    CHECK_EQ(errno, ENOENT);
    CHECK_EQ(proto_keystore_inspect(missing, &info), PROTO_E_IO);
    CHECK(back == NULL);

    /* NULL arguments. */
    CHECK_EQ(proto_keystore_load(path, NULL, NULL, NULL), PROTO_E_IO);
    CHECK_EQ(proto_keystore_load(NULL, NULL, &back, NULL), PROTO_E_IO);
    CHECK_EQ(proto_keystore_inspect(NULL, &info), PROTO_E_IO);

    sodium_memzero(buf, sizeof buf);
    sodium_memzero(copy, sizeof copy);
    unlink(bad);
    unlink(path);
    proto_key_destroy(&k);
}

static void test_strerror(void)
{
    static const int codes[] = {PROTO_OK,
                                PROTO_E_IO,
                                PROTO_E_KS_FORMAT,
                                PROTO_E_KS_PERMS,
                                PROTO_E_KS_NEED_PASSPHRASE,
                                PROTO_E_KS_BAD_PASSPHRASE,
                                PROTO_E_KS_EXISTS,
                                PROTO_E_CRYPTO};
    const size_t n = sizeof codes / sizeof codes[0];
    const char *unknown = proto_keystore_strerror(42);
    CHECK(unknown != NULL && *unknown);
    if (!unknown)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *m = proto_keystore_strerror(codes[i]);
        CHECK(m != NULL && *m);
        if (!m)
            continue;
        CHECK(strcmp(m, unknown) != 0);
        for (size_t j = 0; j < i; j++) {
            const char *other = proto_keystore_strerror(codes[j]);
            CHECK(other == NULL || strcmp(m, other) != 0);
        }
    }
}

int main(void)
{
    char dir[256];
    CHECK_EQ(proto_crypto_init(), 0);
    snprintf(dir, sizeof dir, "%s", testutil_tmpdir());
    s_dir = dir;

    test_roundtrip_clear();
    test_roundtrip_encrypted();
    test_mode_and_no_overwrite();
    test_crafted();
    test_damaged_files();
    test_strerror();

    CHECK_EQ(s_count_entries(), 0); /* every test cleaned up, no temporary files left */
    testutil_rmtree(dir);
    return testutil_done("test_keystore");
}
