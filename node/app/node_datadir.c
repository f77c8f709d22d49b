/*  node_datadir: the node's data directory (see node_datadir.h).
 *
 *  The lock is flock(2) on DIR/LOCK. Because we unlink LOCK on a clean stop, a node
 *  that opened the old file just before the unlink could lock an orphaned inode while a
 *  third one locks a new file; to close that race, after locking we check that the path
 *  still names the inode we locked, and start over if not.
 */
#include "node/app/node_datadir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_err.h"

#define LOCK_ATTEMPTS 5
#define CHAIN_ID_FILE_MAX 256

struct node_datadir_t {
    char path[NODE_DATADIR_PATH_MAX];
    char lock_path[NODE_DATADIR_PATH_MAX];
    int lock_fd;
};

/*  OUT = DIR "/" NAME; -1 if it does not fit. */
static int s_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/*  mkdir -p with mode 0700 for every directory we create. */
static int s_mkdirs(const char *path, char *err, size_t err_cap)
{
    char buf[NODE_DATADIR_PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "bad directory path '%s'", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create directory %s: %s",
                                  buf, strerror(errno));
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot use directory %s: %s", path,
                              strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s exists and is not a directory",
                              path);
    return 0;
}

/*  fsync of the directory holding PATH, so a rename in it is durable. 0, or NODE_E_IO with
 *  errno set. */
static int s_fsync_parent(const char *path)
{
    char dir[NODE_DATADIR_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return NODE_E_IO;
    int rc = fsync(fd) == 0 ? 0 : NODE_E_IO;
    int saved_errno = errno;
    close(fd);
    errno = saved_errno;
    return rc;
}

int node_datadir_read_file(const char *path, size_t max, uint8_t **data, size_t *len, char *err,
                           size_t err_cap)
{
    int rc = NODE_E_FAILED;
    int saved_errno = 0;
    uint8_t *buf = NULL;
    size_t got = 0;
    struct stat st;
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        saved_errno = errno;
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        saved_errno = errno;
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        saved_errno = EINVAL;
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        saved_errno = EFBIG;
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: larger than %zu bytes", path,
                       max);
        goto out;
    }
    buf = malloc(max + 1);
    if (!buf) {
        saved_errno = ENOMEM;
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: out of memory", path);
        goto out;
    }
    for (;;) {
        if (got == max + 1)
            break;
        ssize_t n = read(fd, buf + got, max + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved_errno = errno;
            proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: %s", path,
                           strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > max) {
        saved_errno = EFBIG;
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: larger than %zu bytes", path,
                       max);
        goto out;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    if (fd >= 0)
        close(fd);
    errno = saved_errno;
    return rc;
}

int node_datadir_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                            size_t err_cap)
{
    int rc = NODE_E_FAILED;
    int fd = -1;
    char tmp[NODE_DATADIR_PATH_MAX];
    bool tmp_made = false;
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "path too long: %s", path);
    (void)unlink(tmp); /* a leftover of an earlier crash of a process with our pid */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    tmp_made = true;
    if (fchmod(fd, mode) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot chmod %s: %s", tmp, strerror(errno));
        goto out;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot write %s: %s", tmp,
                           strerror(errno));
            goto out;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot sync %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot rename %s to %s: %s", tmp, path,
                       strerror(errno));
        goto out;
    }
    tmp_made = false;
    if (s_fsync_parent(path) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot sync the directory of %s: %s", path,
                       strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (tmp_made)
        (void)unlink(tmp);
    return rc;
}

/*  Reads the pid written in an open LOCK file, or 0 if there is none yet. */
static long s_lock_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end = NULL;
    long pid = strtol(buf, &end, 10);
    return (end != buf && pid > 0) ? pid : 0;
}

/*  Takes the lock on SELF->lock_path into SELF->lock_fd. */
static int s_lock(node_datadir_t *self, char *err, size_t err_cap)
{
    for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
        int fd = open(self->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot open %s: %s",
                                  self->lock_path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            if (e == EWOULDBLOCK) {
                long pid = s_lock_pid(fd);
                close(fd);
                if (pid > 0)
                    return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                          "datadir %s is in use by another genie-node (pid %ld)",
                                          self->path, pid);
                return proto_err_fail(err, err_cap, NODE_E_FAILED,
                                      "datadir %s is in use by another genie-node", self->path);
            }
            close(fd);
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot lock %s: %s",
                                  self->lock_path, strerror(e));
        }
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(self->lock_path, &named) == 0 &&
            held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            self->lock_fd = fd;
            return 0;
        }
        close(fd); /* the previous owner removed it under us: lock the new file */
    }
    return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot lock %s: it keeps being replaced",
                          self->lock_path);
}

static int s_lock_write_pid(node_datadir_t *self, char *err, size_t err_cap)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(self->lock_fd, 0) != 0 || pwrite(self->lock_fd, buf, (size_t)n, 0) != n)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot write %s: %s", self->lock_path,
                              strerror(errno));
    return 0;
}

node_datadir_t *node_datadir_open(const char *path, char *err, size_t err_cap)
{
    char accounts[NODE_DATADIR_PATH_MAX];
    node_datadir_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->lock_fd = -1;
    if (strlen(path) >= sizeof self->path - 32) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
        goto err;
    }
    snprintf(self->path, sizeof self->path, "%s", path);
    if (s_join(self->lock_path, sizeof self->lock_path, path, "LOCK") != 0 ||
        s_join(accounts, sizeof accounts, path, "accounts") != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
        goto err;
    }
    if (s_mkdirs(path, err, err_cap) != 0)
        goto err;
    if (s_lock(self, err, err_cap) != 0)
        goto err;
    if (s_lock_write_pid(self, err, err_cap) != 0)
        goto err;
    if (mkdir(accounts, 0700) != 0 && errno != EEXIST) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create directory %s: %s", accounts,
                       strerror(errno));
        goto err;
    }
    GLOG(DEBUG, NODE, "datadir %s locked", self->path);
    return self;
err:
    node_datadir_destroy(&self);
    return NULL;
}

void node_datadir_destroy(node_datadir_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_datadir_t *self = *self_p;
    if (self->lock_fd >= 0) {
        /* Unlink while still holding the lock; see the race note at the top. */
        (void)unlink(self->lock_path);
        close(self->lock_fd);
    }
    free(self);
    *self_p = NULL;
}

const char *node_datadir_path(const node_datadir_t *self)
{
    return self->path;
}

/*  One line for a keystore error, with errno for I/O errors. */
static int s_ks_fail(char *err, size_t err_cap, const char *what, const char *path, int rc)
{
    if (rc == PROTO_E_IO)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s %s: %s", what, path,
                              strerror(errno));
    return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s %s: %s", what, path,
                          proto_keystore_strerror(rc));
}

int node_datadir_node_key(node_datadir_t *self, proto_key_t **key, bool *created, char *err,
                          size_t err_cap)
{
    char path[NODE_DATADIR_PATH_MAX];
    proto_key_t *k = NULL;
    proto_ks_info_t info;
    struct stat st;
    *key = NULL;
    *created = false;
    if (s_join(path, sizeof path, self->path, "node.key") != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
    if (lstat(path, &st) != 0 && errno == ENOENT) {
        k = proto_key_generate();
        if (!k)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot generate the node key");
        int rc = proto_keystore_save(path, k, PROTO_KS_NODE, NULL);
        if (rc != PROTO_OK) {
            proto_key_destroy(&k);
            return s_ks_fail(err, err_cap, "cannot write node key", path, rc);
        }
        *key = k;
        *created = true;
        return 0;
    }
    int rc = proto_keystore_load(path, NULL, &k, &info);
    if (rc == PROTO_E_KS_NEED_PASSPHRASE)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "node key %s is encrypted; genie-node needs an unencrypted node key",
                              path);
    if (rc != PROTO_OK)
        return s_ks_fail(err, err_cap, "cannot load node key", path, rc);
    if (info.kind != PROTO_KS_NODE) {
        proto_key_destroy(&k);
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "%s holds an account key, not a node key", path);
    }
    *key = k;
    return 0;
}

int node_datadir_chain_bind(node_datadir_t *self, const uint8_t chain_id[static 32],
                            const uint8_t *genesis, size_t len, char *err, size_t err_cap)
{
    char path[NODE_DATADIR_PATH_MAX];
    char hex[65];
    uint8_t *stored = NULL;
    size_t stored_len = 0;
    char msg[256];
    proto_hex_encode(chain_id, 32, hex);
    if (s_join(path, sizeof path, self->path, "chain_id") != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
    if (node_datadir_read_file(path, CHAIN_ID_FILE_MAX, &stored, &stored_len, msg, sizeof msg) ==
        0) {
        char *text = (char *)stored;
        while (stored_len > 0 && (text[stored_len - 1] == '\n' || text[stored_len - 1] == '\r' ||
                                  text[stored_len - 1] == ' '))
            text[--stored_len] = '\0';
        bool same = strcmp(text, hex) == 0;
        int rc = same
                     ? 0
                     : proto_err_fail(err, err_cap, NODE_E_FAILED,
                                      "datadir %s belongs to chain %.16s..., but the genesis given "
                                      "is chain %.16s... (use the genesis this datadir was made "
                                      "with, or another --datadir)",
                                      self->path, text, hex);
        free(stored);
        return rc;
    }
    if (errno != ENOENT)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "%s", msg);
    if (genesis) {
        char gpath[NODE_DATADIR_PATH_MAX];
        if (s_join(gpath, sizeof gpath, self->path, "genesis.json") != 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
        if (node_datadir_write_file(gpath, genesis, len, 0600, err, err_cap) != 0)
            return NODE_E_FAILED;
    }
    char line[66];
    snprintf(line, sizeof line, "%s\n", hex);
    if (node_datadir_write_file(path, line, strlen(line), 0600, err, err_cap) != 0)
        return NODE_E_FAILED;
    GLOG(INFO, NODE, "datadir %s bound to chain %s", self->path, hex);
    return 0;
}

static int s_cmp_names(const void *a, const void *b)
{
    const char *const *x = a;
    const char *const *y = b;
    return strcmp(*x, *y);
}

/*  Appends PATH's public facts to *list. */
static int s_list_add(node_datadir_keyinfo_t **list, size_t *count, size_t *cap, const char *path,
                      char *err, size_t err_cap)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        node_datadir_keyinfo_t *grown = realloc(*list, ncap * sizeof **list);
        if (!grown)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        *list = grown;
        *cap = ncap;
    }
    node_datadir_keyinfo_t *e = &(*list)[*count];
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", path);
    e->rc = proto_keystore_inspect(path, &e->info);
    (*count)++;
    return 0;
}

int node_datadir_key_list(const char *datadir, node_datadir_keyinfo_t **list, size_t *count,
                          char *err, size_t err_cap)
{
    int rc = NODE_E_FAILED;
    char path[NODE_DATADIR_PATH_MAX];
    char accounts[NODE_DATADIR_PATH_MAX];
    node_datadir_keyinfo_t *out = NULL;
    size_t n = 0, cap = 0;
    char **names = NULL;
    size_t n_names = 0, names_cap = 0;
    DIR *dir = NULL;
    struct stat st;
    *list = NULL;
    *count = 0;
    if (proto_crypto_init() != 0) { /* inspect derives public keys: needs libsodium */
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot initialise libsodium");
        goto out;
    }
    if (s_join(path, sizeof path, datadir, "node.key") != 0 ||
        s_join(accounts, sizeof accounts, datadir, "accounts") != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
        goto out;
    }
    if (lstat(path, &st) == 0 && s_list_add(&out, &n, &cap, path, err, err_cap) != 0)
        goto out;
    dir = opendir(accounts);
    if (!dir && errno != ENOENT) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot list %s: %s", accounts,
                       strerror(errno));
        goto out;
    }
    for (struct dirent *d = dir ? readdir(dir) : NULL; d; d = readdir(dir)) {
        size_t len = strlen(d->d_name);
        if (d->d_name[0] == '.' || len < 5 || strcmp(d->d_name + len - 4, ".key") != 0)
            continue;
        if (n_names == names_cap) {
            size_t ncap = names_cap ? names_cap * 2 : 16;
            char **grown = realloc(names, ncap * sizeof *names);
            if (!grown) {
                proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
                goto out;
            }
            names = grown;
            names_cap = ncap;
        }
        names[n_names] = strdup(d->d_name);
        if (!names[n_names]) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
            goto out;
        }
        n_names++;
    }
    if (n_names > 0)
        qsort(names, n_names, sizeof *names, s_cmp_names);
    for (size_t i = 0; i < n_names; i++) {
        if (s_join(path, sizeof path, accounts, names[i]) != 0) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "path too long in %s", accounts);
            goto out;
        }
        if (s_list_add(&out, &n, &cap, path, err, err_cap) != 0)
            goto out;
    }
    *list = out;
    *count = n;
    out = NULL;
    rc = 0;
out:
    if (dir)
        closedir(dir);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(out);
    return rc;
}

int node_datadir_account_new(const char *datadir, const char *passphrase,
                             uint8_t pub[static PROTO_PUBKEY_LEN], char *path_out, size_t path_cap,
                             char *err, size_t err_cap)
{
    char accounts[NODE_DATADIR_PATH_MAX];
    char path[NODE_DATADIR_PATH_MAX];
    char name[2 * PROTO_PUBKEY_LEN + 8];
    proto_key_t *key = NULL;
    int rc = NODE_E_FAILED;
    if (proto_crypto_init() != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot initialise libsodium");
    if (s_join(accounts, sizeof accounts, datadir, "accounts") != 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
    if (s_mkdirs(accounts, err, err_cap) != 0)
        return NODE_E_FAILED;
    key = proto_key_generate();
    if (!key)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot generate a key");
    proto_hex_encode(proto_key_public(key), PROTO_PUBKEY_LEN, name);
    strcat(name, ".key");
    if (s_join(path, sizeof path, accounts, name) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long");
        goto out;
    }
    int ks = proto_keystore_save(path, key, PROTO_KS_ACCOUNT, passphrase);
    if (ks != PROTO_OK) {
        s_ks_fail(err, err_cap, "cannot write account key", path, ks);
        goto out;
    }
    memcpy(pub, proto_key_public(key), PROTO_PUBKEY_LEN);
    if (path_out && path_cap)
        snprintf(path_out, path_cap, "%s", path);
    rc = 0;
out:
    proto_key_destroy(&key);
    return rc;
}
