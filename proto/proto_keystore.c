/*  proto_keystore: key files in a node's datadir (see proto_keystore.h).
 *
 *  File format (version 1). The whole file is one canonical msgpack value, a fixed-order
 *  array of 9 elements, at most 4096 bytes, with nothing after it:
 *
 *    [ "genie-keystore",          str, exactly these 14 bytes
 *      1,                         uint, format version
 *      kind,                      uint, 1 = node key, 2 = account key
 *      pubkey,                    bin 32, the Ed25519 public key
 *      created_ms,                uint, wall-clock milliseconds since the Unix epoch
 *      encrypted,                 bool
 *      kdf,                       [opslimit uint, memlimit uint, salt bin 16] if encrypted,
 *                                 nil if not
 *      nonce,                     bin 24 if encrypted, nil if not
 *      secret ]                   bin 32: the Ed25519 seed in the clear, if not encrypted;
 *                                 bin 48: XChaCha20-Poly1305 ciphertext of the seed
 *                                 (32 bytes) followed by its tag (16 bytes), if encrypted
 *
 *  Encryption: key = crypto_pwhash(32 bytes, passphrase, salt, opslimit, memlimit,
 *  crypto_pwhash_ALG_ARGON2ID13) (Argon2id v1.3); secret =
 *  crypto_aead_xchacha20poly1305_ietf_encrypt(seed, ad, nonce, key) with the 33 bytes
 *  ad = pubkey || kind (kind as one byte), so a file whose public key or kind was changed
 *  fails to decrypt. New files use the INTERACTIVE limits (opslimit 2, memlimit 64 MiB);
 *  a file is accepted with opslimit in [1, 4] and memlimit in [8 KiB, 1 GiB] (libsodium's
 *  Argon2id MIN and SENSITIVE limits), so a crafted file cannot make us spend absurd
 *  time or memory. created_ms and the kdf parameters are not authenticated (changing the
 *  kdf parameters only makes decryption fail).
 *
 *  Checks on load: the file is a regular file, not readable/writable/executable by group
 *  or others (mode & 077 == 0), at most 4096 bytes, decodes strictly (canonical encodings,
 *  exact lengths, no trailing bytes), and the public key derived from the seed equals the
 *  stored one. proto_keystore_inspect runs the same checks without decrypting (it does
 *  check the derived key of an unencrypted file).
 *
 *  Saving writes PATH.tmp.<pid> (O_EXCL, mode 0600 forced with fchmod), fsyncs it, links
 *  it to PATH (link() fails if PATH exists, so nothing is ever overwritten), unlinks the
 *  temporary name and fsyncs the directory. A temporary file this call created is removed
 *  on every error path. Invalid arguments (NULL path or key, unknown kind) give
 *  PROTO_E_IO with errno EINVAL; an allocation failure of the encoder gives
 *  PROTO_E_IO with errno ENOMEM.
 */
#include "proto/proto_keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto_mp.h"

#define KS_MAGIC "genie-keystore"
#define KS_MAGIC_LEN (sizeof KS_MAGIC - 1)
#define KS_VERSION 1
#define KS_FIELDS 9
#define KS_KDF_FIELDS 3
#define KS_MAX_FILE 4096
#define KS_SALT_LEN 16
#define KS_NONCE_LEN 24
#define KS_KEY_LEN 32
#define KS_TAG_LEN 16
#define KS_SEALED_LEN (PROTO_SEED_LEN + KS_TAG_LEN)
#define KS_AD_LEN (PROTO_PUBKEY_LEN + 1)

#define KS_OPS_DEFAULT crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE
#define KS_MEM_DEFAULT crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE
#define KS_OPS_MIN crypto_pwhash_argon2id_OPSLIMIT_MIN
#define KS_OPS_MAX crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE
#define KS_MEM_MIN crypto_pwhash_argon2id_MEMLIMIT_MIN
#define KS_MEM_MAX crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE

_Static_assert(KS_SALT_LEN == crypto_pwhash_argon2id_SALTBYTES, "salt size");
_Static_assert(KS_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(KS_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(KS_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(PROTO_SEED_LEN == crypto_sign_SEEDBYTES, "seed size");

/*  A decoded file. SECRET points into the caller's file buffer. */
typedef struct {
    proto_ks_kind_t kind;
    uint8_t pub[PROTO_PUBKEY_LEN];
    uint64_t created_ms;
    bool encrypted;
    uint64_t opslimit;
    uint64_t memlimit;
    uint8_t salt[KS_SALT_LEN];
    uint8_t nonce[KS_NONCE_LEN];
    const uint8_t *secret;
    size_t secret_len;
} ks_file_t;

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void s_make_ad(uint8_t ad[static KS_AD_LEN], const uint8_t pub[static PROTO_PUBKEY_LEN],
                      proto_ks_kind_t kind)
{
    memcpy(ad, pub, PROTO_PUBKEY_LEN);
    ad[PROTO_PUBKEY_LEN] = (uint8_t)kind;
}

static bool s_have_passphrase(const char *passphrase)
{
    return passphrase && passphrase[0] != '\0';
}

/*  Argon2id key from PASSPHRASE. 0, or PROTO_E_CRYPTO (out of memory or limits refused). */
static int s_derive(uint8_t key[static KS_KEY_LEN], const char *passphrase,
                    const uint8_t salt[static KS_SALT_LEN], uint64_t opslimit, uint64_t memlimit)
{
    if (crypto_pwhash(key, KS_KEY_LEN, passphrase, strlen(passphrase), salt,
                      (unsigned long long)opslimit, (size_t)memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sodium_memzero(key, KS_KEY_LEN);
        return PROTO_E_CRYPTO;
    }
    return 0;
}

static int s_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return PROTO_E_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*  fsyncs the directory holding PATH. 0 or PROTO_E_IO (errno set). A file system that
 *  cannot fsync a directory (EINVAL) is not an error. */
static int s_fsync_dir(const char *path)
{
    int rc = PROTO_E_IO;
    int fd = -1;
    int saved_errno;
    char *dir = NULL;
    const char *slash = strrchr(path, '/');

    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        goto out;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        goto out;
    if (fsync(fd) != 0 && errno != EINVAL)
        goto out;
    rc = 0;
out:
    saved_errno = errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    errno = saved_errno;
    return rc;
}

/*  Encodes the file for KEY into W. Returns PROTO_OK, PROTO_E_CRYPTO or
 *  PROTO_E_IO (ENOMEM). */
static int s_encode(proto_wr_t *w, const proto_key_t *key, proto_ks_kind_t kind,
                    const char *passphrase)
{
    int rc = PROTO_E_CRYPTO;
    uint8_t seed[PROTO_SEED_LEN];
    uint8_t dk[KS_KEY_LEN];
    uint8_t salt[KS_SALT_LEN];
    uint8_t nonce[KS_NONCE_LEN];
    uint8_t ad[KS_AD_LEN];
    uint8_t sealed[KS_SEALED_LEN];
    const uint8_t *pub = proto_key_public(key);
    bool encrypt = s_have_passphrase(passphrase);
    size_t len;

    proto_key_seed(key, seed);
    proto_wr_array(w, KS_FIELDS);
    proto_wr_str(w, KS_MAGIC, KS_MAGIC_LEN);
    proto_wr_uint(w, KS_VERSION);
    proto_wr_uint(w, (uint64_t)kind);
    proto_wr_bin(w, pub, PROTO_PUBKEY_LEN);
    proto_wr_uint(w, s_now_ms());
    proto_wr_bool(w, encrypt);
    if (encrypt) {
        randombytes_buf(salt, sizeof salt);
        randombytes_buf(nonce, sizeof nonce);
        if (s_derive(dk, passphrase, salt, KS_OPS_DEFAULT, KS_MEM_DEFAULT) != 0)
            goto out;
        s_make_ad(ad, pub, kind);
        if (crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, NULL, seed, sizeof seed, ad,
                                                       sizeof ad, NULL, nonce, dk) != 0)
            goto out;
        proto_wr_array(w, KS_KDF_FIELDS);
        proto_wr_uint(w, KS_OPS_DEFAULT);
        proto_wr_uint(w, KS_MEM_DEFAULT);
        proto_wr_bin(w, salt, sizeof salt);
        proto_wr_bin(w, nonce, sizeof nonce);
        proto_wr_bin(w, sealed, sizeof sealed);
    } else {
        proto_wr_nil(w);
        proto_wr_nil(w);
        proto_wr_bin(w, seed, sizeof seed);
    }
    if (!proto_wr_data(w, &len)) {
        errno = ENOMEM;
        rc = PROTO_E_IO;
        goto out;
    }
    rc = PROTO_OK;
out:
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(dk, sizeof dk);
    return rc;
}

int proto_keystore_save(const char *path, const proto_key_t *key, proto_ks_kind_t kind,
                        const char *passphrase)
{
    int rc = PROTO_E_IO;
    int saved_errno;
    proto_wr_t w;
    const uint8_t *data;
    size_t len = 0;
    char *tmp = NULL;
    size_t tmp_cap;
    int fd = -1;
    bool tmp_made = false;
    struct stat st;

    if (!path || !*path || !key || (kind != PROTO_KS_NODE && kind != PROTO_KS_ACCOUNT)) {
        errno = EINVAL;
        return PROTO_E_IO;
    }
    /* Early, friendly answer; link() below is what really guarantees no overwrite. */
    if (lstat(path, &st) == 0)
        return PROTO_E_KS_EXISTS;
    if (errno != ENOENT)
        return PROTO_E_IO;

    proto_wr_init(&w);
    rc = s_encode(&w, key, kind, passphrase);
    if (rc != PROTO_OK)
        goto out;
    rc = PROTO_E_IO;
    data = proto_wr_data(&w, &len);

    tmp_cap = strlen(path) + 32;
    tmp = malloc(tmp_cap);
    if (!tmp)
        goto out;
    snprintf(tmp, tmp_cap, "%s.tmp.%ld", path, (long)getpid());
    fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    tmp_made = true;
    if (fchmod(fd, 0600) != 0 || s_write_all(fd, data, len) != 0 || fsync(fd) != 0)
        goto out;
    {
        int c = close(fd);
        fd = -1;
        if (c != 0)
            goto out;
    }
    if (link(tmp, path) != 0) {
        if (errno == EEXIST)
            rc = PROTO_E_KS_EXISTS;
        goto out;
    }
    (void)unlink(tmp);
    tmp_made = false;
    /* The key file is in place; a failing directory fsync still reports PROTO_E_IO. */
    if (s_fsync_dir(path) != 0)
        goto out;
    rc = PROTO_OK;
out:
    saved_errno = errno;
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        (void)unlink(tmp);
    free(tmp);
    proto_wr_free(&w); /* wipes: the buffer holds the seed of an unencrypted file */
    errno = saved_errno;
    return rc;
}

/*  Reads the file at PATH into BUF after the type, permission and size checks.
 *  PROTO_OK with *len set, or PROTO_E_IO / _FORMAT / _PERMS. */
static int s_read_file(const char *path, uint8_t buf[static KS_MAX_FILE + 1], size_t *len)
{
    int rc = PROTO_E_IO;
    int saved_errno;
    struct stat st;
    size_t got = 0;
    /* O_NONBLOCK: opening a FIFO must not hang; it is refused by the S_ISREG check. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return PROTO_E_IO;
    if (fstat(fd, &st) != 0)
        goto out;
    if (!S_ISREG(st.st_mode)) {
        rc = PROTO_E_KS_FORMAT;
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        rc = PROTO_E_KS_PERMS;
        goto out;
    }
    if (st.st_size > KS_MAX_FILE) {
        rc = PROTO_E_KS_FORMAT;
        goto out;
    }
    /* Read one byte past the limit so a file that grew since fstat is caught. */
    while (got <= KS_MAX_FILE) {
        ssize_t n = read(fd, buf + got, KS_MAX_FILE + 1 - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > KS_MAX_FILE) {
        rc = PROTO_E_KS_FORMAT;
        goto out;
    }
    *len = got;
    rc = PROTO_OK;
out:
    saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return rc;
}

/*  Strict decode of BUF into *f. PROTO_OK or PROTO_E_KS_FORMAT. */
static int s_decode(const uint8_t *buf, size_t len, ks_file_t *f)
{
    proto_rd_t r;
    const char *magic = NULL;
    size_t magic_len = 0;
    uint64_t version = 0;
    uint64_t kind = 0;

    memset(f, 0, sizeof *f);
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_exact(&r, KS_FIELDS) != PROTO_OK ||
        proto_rd_str(&r, 64, &magic, &magic_len) != PROTO_OK || magic_len != KS_MAGIC_LEN ||
        memcmp(magic, KS_MAGIC, KS_MAGIC_LEN) != 0 ||
        proto_rd_uint(&r, UINT64_MAX, &version) != PROTO_OK || version != KS_VERSION ||
        proto_rd_uint(&r, PROTO_KS_ACCOUNT, &kind) != PROTO_OK || kind < PROTO_KS_NODE ||
        proto_rd_bin_exact(&r, PROTO_PUBKEY_LEN, f->pub) != PROTO_OK ||
        proto_rd_uint(&r, UINT64_MAX, &f->created_ms) != PROTO_OK ||
        proto_rd_bool(&r, &f->encrypted) != PROTO_OK)
        return PROTO_E_KS_FORMAT;
    f->kind = (proto_ks_kind_t)kind;
    if (f->encrypted) {
        if (proto_rd_array_exact(&r, KS_KDF_FIELDS) != PROTO_OK ||
            proto_rd_uint(&r, KS_OPS_MAX, &f->opslimit) != PROTO_OK || f->opslimit < KS_OPS_MIN ||
            proto_rd_uint(&r, KS_MEM_MAX, &f->memlimit) != PROTO_OK || f->memlimit < KS_MEM_MIN ||
            proto_rd_bin_exact(&r, KS_SALT_LEN, f->salt) != PROTO_OK ||
            proto_rd_bin_exact(&r, KS_NONCE_LEN, f->nonce) != PROTO_OK ||
            proto_rd_bin(&r, KS_SEALED_LEN, &f->secret, &f->secret_len) != PROTO_OK ||
            f->secret_len != KS_SEALED_LEN)
            return PROTO_E_KS_FORMAT;
    } else {
        if (proto_rd_nil(&r) != PROTO_OK || proto_rd_nil(&r) != PROTO_OK ||
            proto_rd_bin(&r, PROTO_SEED_LEN, &f->secret, &f->secret_len) != PROTO_OK ||
            f->secret_len != PROTO_SEED_LEN)
            return PROTO_E_KS_FORMAT;
    }
    if (proto_rd_finish(&r) != PROTO_OK)
        return PROTO_E_KS_FORMAT;
    return PROTO_OK;
}

/*  The seed of decoded file F into SEED (caller wipes). PROTO_OK,
 *  PROTO_E_KS_NEED_PASSPHRASE, PROTO_E_KS_BAD_PASSPHRASE or PROTO_E_CRYPTO. */
static int s_unseal(const ks_file_t *f, const char *passphrase, uint8_t seed[static PROTO_SEED_LEN])
{
    int rc = PROTO_E_CRYPTO;
    uint8_t dk[KS_KEY_LEN];
    uint8_t ad[KS_AD_LEN];

    if (!f->encrypted) {
        memcpy(seed, f->secret, PROTO_SEED_LEN);
        return PROTO_OK;
    }
    if (!s_have_passphrase(passphrase))
        return PROTO_E_KS_NEED_PASSPHRASE;
    if (s_derive(dk, passphrase, f->salt, f->opslimit, f->memlimit) != 0)
        goto out;
    s_make_ad(ad, f->pub, f->kind);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL, f->secret, f->secret_len, ad,
                                                   sizeof ad, f->nonce, dk) != 0) {
        rc = PROTO_E_KS_BAD_PASSPHRASE;
        goto out;
    }
    rc = PROTO_OK;
out:
    sodium_memzero(dk, sizeof dk);
    if (rc != PROTO_OK)
        sodium_memzero(seed, PROTO_SEED_LEN);
    return rc;
}

/*  Shared body of load and inspect. With OUT NULL an encrypted file is not decrypted. */
static int s_open(const char *path, const char *passphrase, proto_key_t **out,
                  proto_ks_info_t *info)
{
    int rc;
    int saved_errno;
    uint8_t buf[KS_MAX_FILE + 1];
    size_t len = 0;
    ks_file_t f;
    uint8_t seed[PROTO_SEED_LEN];
    proto_key_t *key = NULL;

    memset(&f, 0, sizeof f);
    rc = s_read_file(path, buf, &len);
    if (rc != PROTO_OK)
        goto out;
    rc = s_decode(buf, len, &f);
    if (rc != PROTO_OK)
        goto out;
    if (f.encrypted && !out)
        goto done;
    rc = s_unseal(&f, passphrase, seed);
    if (rc != PROTO_OK)
        goto out;
    key = proto_key_from_seed(seed);
    if (!key) {
        rc = PROTO_E_CRYPTO;
        goto out;
    }
    if (memcmp(proto_key_public(key), f.pub, PROTO_PUBKEY_LEN) != 0) {
        rc = PROTO_E_KS_FORMAT;
        goto out;
    }
done:
    if (info) {
        info->kind = f.kind;
        memcpy(info->pub, f.pub, PROTO_PUBKEY_LEN);
        info->encrypted = f.encrypted;
        info->created_ms = f.created_ms;
    }
    if (out) {
        *out = key;
        key = NULL;
    }
    rc = PROTO_OK;
out:
    saved_errno = errno;
    proto_key_destroy(&key);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(&f, sizeof f);
    errno = saved_errno;
    return rc;
}

int proto_keystore_load(const char *path, const char *passphrase, proto_key_t **out,
                        proto_ks_info_t *info)
{
    if (out)
        *out = NULL;
    if (!path || !out) {
        errno = EINVAL;
        return PROTO_E_IO;
    }
    return s_open(path, passphrase, out, info);
}

int proto_keystore_inspect(const char *path, proto_ks_info_t *info)
{
    if (!path) {
        errno = EINVAL;
        return PROTO_E_IO;
    }
    return s_open(path, NULL, NULL, info);
}

const char *proto_keystore_strerror(int err)
{
    switch (err) {
    case PROTO_OK:
        return "ok";
    case PROTO_E_IO:
        return "cannot read or write the key file";
    case PROTO_E_KS_FORMAT:
        return "not a genie keystore file, or the file is corrupted";
    case PROTO_E_KS_PERMS:
        return "key file is accessible by group or others (chmod 600 it)";
    case PROTO_E_KS_NEED_PASSPHRASE:
        return "key file is encrypted and no passphrase was given";
    case PROTO_E_KS_BAD_PASSPHRASE:
        return "wrong passphrase, or the key file was tampered with";
    case PROTO_E_KS_EXISTS:
        return "key file already exists; refusing to overwrite it";
    case PROTO_E_CRYPTO:
        return "key derivation failed (out of memory?)";
    default:
        return "unknown keystore error";
    }
}
