/*  node_data: the data owner's encrypted store (see node_data.h): records, blobs, their
 *  atomic writes and strict reads, and the service's lifecycle.
 */
#include "node/service/node_data.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "enclave/enclave_blob.h"
#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/service/node_data_int.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_report.h"

#define RECORD_VERSION 1u
#define RECORD_MAX 512u /* an encoded record is about 250 bytes */

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*  A record: its public part and its secrets. */
typedef struct {
    node_data_info_t info;
    uint8_t salt[32];
    uint8_t key[32];
} s_record_t;

static void s_record_wipe(s_record_t *r)
{
    sodium_memzero(r, sizeof *r);
}

/* ---------------------------------------------------------------- names and paths */

uint32_t node_data_size_class(uint64_t bytes)
{
    uint32_t c = 0;
    while (c < 63 && ((uint64_t)1 << c) < bytes)
        c++;
    return c;
}

uint32_t node_data_type_parse(const char *name)
{
    if (name && strcmp(name, "genotype") == 0)
        return PROTO_DATA_GENOTYPE;
    if (name && strcmp(name, "phenotype") == 0)
        return PROTO_DATA_PHENOTYPE;
    return 0;
}

const char *node_data_type_name(uint32_t type)
{
    return type == PROTO_DATA_GENOTYPE    ? "genotype"
           : type == PROTO_DATA_PHENOTYPE ? "phenotype"
                                          : "?";
}

static bool s_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n > NODE_DATA_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (name[i] < 0x20 || name[i] > 0x7e)
            return false;
    return true;
}

static int s_path(char *out, const char *dir, const uint8_t id[static 32])
{
    char hex[65];
    proto_hex_encode(id, 32, hex);
    int n = snprintf(out, NODE_DATADIR_PATH_MAX, "%s/%s", dir, hex);
    return n > 0 && (size_t)n < NODE_DATADIR_PATH_MAX ? 0 : NODE_E_TOO_BIG;
}

/*  True if NAME is 64 lowercase hex characters; its bytes into ID. */
static bool s_hex_name(const char *name, uint8_t id[static 32])
{
    if (strlen(name) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return proto_hex_decode(name, id, 32) == 0;
}

/* ---------------------------------------------------------------- records */

/*  R encoded into W (the caller frees W, which wipes it). */
static void s_record_write(proto_wr_t *w, const s_record_t *r)
{
    proto_wr_array(w, 9);
    proto_wr_uint(w, RECORD_VERSION);
    proto_wr_bin(w, r->info.id, 32);
    proto_wr_bin(w, r->salt, 32);
    proto_wr_bin(w, r->key, 32);
    proto_wr_bin(w, r->info.address, 32);
    proto_wr_uint(w, r->info.type);
    proto_wr_str(w, r->info.name, strlen(r->info.name));
    proto_wr_uint(w, r->info.size);
    proto_wr_uint(w, r->info.created_ms);
}

/*  Strict decode of a record file's BUF (LEN bytes) that must be the record of WANT_ID.
 *  0, or NODE_E_CORRUPT with the reason. */
static int s_record_read(const uint8_t *buf, size_t len, const uint8_t want_id[static 32],
                         s_record_t *r, char *err, size_t cap)
{
    memset(r, 0, sizeof *r);
    proto_rd_t rd;
    proto_rd_init(&rd, buf, len);
    uint64_t version = 0, type = 0;
    int rc = proto_rd_array_exact(&rd, 9);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&rd, UINT32_MAX, &version);
    if (rc == PROTO_OK && version != RECORD_VERSION) {
        s_record_wipe(r);
        return proto_err_fail(err, cap, NODE_E_CORRUPT, "record version %llu is not %u",
                              (unsigned long long)version, RECORD_VERSION);
    }
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&rd, 32, r->info.id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&rd, 32, r->salt);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&rd, 32, r->key);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&rd, 32, r->info.address);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&rd, UINT32_MAX, &type);
    if (rc == PROTO_OK)
        rc = proto_rd_str_copy(&rd, r->info.name, sizeof r->info.name);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&rd, UINT64_MAX, &r->info.size);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&rd, UINT64_MAX, &r->info.created_ms);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&rd);
    if (rc != PROTO_OK) {
        s_record_wipe(r);
        return proto_err_fail(err, cap, NODE_E_CORRUPT, "the record does not decode: %s",
                              proto_err_str(rc));
    }
    r->info.type = (uint32_t)type;
    const char *why = NULL;
    if (sodium_memcmp(r->info.id, want_id, 32) != 0)
        why = "its id is not its file name";
    else if (type != PROTO_DATA_GENOTYPE && type != PROTO_DATA_PHENOTYPE)
        why = "unknown data type";
    else if (r->info.size == 0 || r->info.size > NODE_DATA_MAX)
        why = "size out of bounds";
    else if (!s_name_ok(r->info.name))
        why = "name not printable ASCII";
    if (why) {
        s_record_wipe(r);
        return proto_err_fail(err, cap, NODE_E_CORRUPT, "the record is refused: %s", why);
    }
    return 0;
}

int node_data_record_check(const uint8_t *buf, size_t len, const uint8_t want_id[static 32],
                           node_data_info_t *out, char *err, size_t cap)
{
    s_record_t r;
    int rc = s_record_read(buf, len, want_id, &r, err, cap);
    if (rc == 0)
        *out = r.info;
    s_record_wipe(&r);
    return rc;
}

/*  Loads the record of ID. 0, NODE_E_NOT_FOUND, NODE_E_CORRUPT, NODE_E_IO. */
static int s_record_load(node_data_t *self, const uint8_t id[static 32], s_record_t *r, char *err,
                         size_t cap)
{
    char path[NODE_DATADIR_PATH_MAX], msg[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (s_path(path, self->records, id) != 0)
        return proto_err_fail(err, cap, NODE_E_IO, "path too long");
    if (node_datadir_read_file(path, RECORD_MAX, &buf, &len, msg, sizeof msg) != 0) {
        if (errno == ENOENT)
            return proto_err_fail(err, cap, NODE_E_NOT_FOUND, "no local record of that id");
        if (errno == EFBIG)
            return proto_err_fail(err, cap, NODE_E_CORRUPT, "the record is refused: too large");
        return proto_err_fail(err, cap, NODE_E_IO, "%s", msg);
    }
    int rc = s_record_read(buf, len, id, r, err, cap);
    sodium_memzero(buf, len);
    free(buf);
    return rc;
}

static int s_record_store(node_data_t *self, const s_record_t *r, char *err, size_t cap)
{
    char path[NODE_DATADIR_PATH_MAX], msg[256];
    if (s_path(path, self->records, r->info.id) != 0)
        return proto_err_fail(err, cap, NODE_E_IO, "path too long");
    proto_wr_t w;
    proto_wr_init(&w);
    s_record_write(&w, r);
    size_t len = 0;
    const uint8_t *bytes = proto_wr_data(&w, &len);
    int rc = 0;
    if (!bytes)
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "cannot encode the record");
    else if (node_datadir_write_file(path, bytes, len, 0600, msg, sizeof msg) != 0)
        rc = proto_err_fail(err, cap, NODE_E_IO, "%s", msg);
    proto_wr_free(&w); /* wipes the key */
    return rc;
}

/* ---------------------------------------------------------------- blobs */

int node_data_blob(node_data_t *self, const uint8_t address[static 32], uint8_t **blob, size_t *len)
{
    char path[NODE_DATADIR_PATH_MAX], msg[256];
    *blob = NULL;
    *len = 0;
    if (s_path(path, self->blobs, address) != 0)
        return NODE_E_IO;
    uint8_t *buf = NULL;
    size_t n = 0;
    if (node_datadir_read_file(path, enclave_blob_sealed_len(NODE_DATA_MAX), &buf, &n, msg,
                               sizeof msg) != 0)
        return errno == ENOENT ? NODE_E_NOT_FOUND : errno == EFBIG ? NODE_E_CORRUPT : NODE_E_IO;
    uint8_t got[32];
    enclave_blob_address(buf, n, got);
    if (memcmp(got, address, 32) != 0) {
        free(buf);
        GLOG(WARN, NODE, "data store: the blob %s is not what its address names: refused", path);
        return NODE_E_CORRUPT;
    }
    *blob = buf;
    *len = n;
    return 0;
}

/* ---------------------------------------------------------------- public store API */

int node_data_put_blob(node_data_t *self, const uint8_t id[static 32],
                       const uint8_t salt[static 32], const uint8_t key[static 32],
                       const uint8_t *blob, size_t blob_len, uint64_t size, uint32_t type,
                       const char *name, node_data_info_t *out, char *err, size_t cap)
{
    if (size == 0 || size > NODE_DATA_MAX)
        return proto_err_fail(err, cap, NODE_E_PARAMS, "a data file has 1 to %u bytes",
                              NODE_DATA_MAX);
    if (type != PROTO_DATA_GENOTYPE && type != PROTO_DATA_PHENOTYPE)
        return proto_err_fail(err, cap, NODE_E_PARAMS, "unknown data type %u", type);
    if (name && !s_name_ok(name))
        return proto_err_fail(err, cap, NODE_E_PARAMS,
                              "a name has at most %u printable ASCII characters",
                              NODE_DATA_NAME_MAX);
    s_record_t r;
    memset(&r, 0, sizeof r);
    memcpy(r.info.id, id, 32);
    memcpy(r.salt, salt, 32);
    memcpy(r.key, key, 32);
    enclave_blob_address(blob, blob_len, r.info.address);
    r.info.type = type;
    snprintf(r.info.name, sizeof r.info.name, "%s", name ? name : "");
    r.info.size = size;
    r.info.created_ms = s_now_ms();
    char path[NODE_DATADIR_PATH_MAX], msg[256];
    int rc = 0;
    if (s_path(path, self->blobs, r.info.address) != 0) {
        rc = proto_err_fail(err, cap, NODE_E_IO, "path too long");
        goto out;
    }
    if (node_datadir_write_file(path, blob, blob_len, 0600, msg, sizeof msg) != 0) {
        rc = proto_err_fail(err, cap, NODE_E_IO, "%s", msg);
        goto out;
    }
    if ((rc = s_record_store(self, &r, err, cap)) != 0) {
        (void)unlink(path);
        goto out;
    }
    if (out)
        *out = r.info;
out:
    s_record_wipe(&r);
    return rc;
}

int node_data_put(node_data_t *self, const uint8_t *data, size_t len, const uint8_t salt[static 32],
                  uint32_t type, const char *name, node_data_info_t *out, char *err, size_t cap)
{
    if (len == 0 || len > NODE_DATA_MAX)
        return proto_err_fail(err, cap, NODE_E_PARAMS, "a data file has 1 to %u bytes",
                              NODE_DATA_MAX);
    uint8_t key[32], id[32];
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    enclave_blob_keygen(key);
    proto_data_commit(salt, data, len, id);
    int rc = enclave_blob_seal(key, data, len, &blob, &blob_len);
    if (rc != 0)
        rc = proto_err_fail(err, cap, rc, "cannot encrypt: %s", proto_err_str(rc));
    else
        rc =
            node_data_put_blob(self, id, salt, key, blob, blob_len, len, type, name, out, err, cap);
    sodium_memzero(key, sizeof key);
    free(blob);
    return rc;
}

int node_data_info(node_data_t *self, const uint8_t id[static 32], node_data_info_t *out, char *err,
                   size_t cap)
{
    s_record_t r;
    int rc = s_record_load(self, id, &r, err, cap);
    if (rc == 0)
        *out = r.info;
    s_record_wipe(&r);
    return rc;
}

int node_data_secrets(node_data_t *self, const uint8_t id[static 32], uint8_t key[static 32],
                      uint8_t salt[static 32], uint8_t address[static 32])
{
    s_record_t r;
    int rc = s_record_load(self, id, &r, NULL, 0);
    if (rc == 0) {
        memcpy(key, r.key, 32);
        memcpy(salt, r.salt, 32);
        memcpy(address, r.info.address, 32);
    }
    s_record_wipe(&r);
    return rc;
}

int node_data_plain(node_data_t *self, const uint8_t id[static 32], uint8_t **data, size_t *len,
                    uint8_t salt[static 32], char *err, size_t cap)
{
    *data = NULL;
    *len = 0;
    s_record_t r;
    uint8_t *blob = NULL, *plain = NULL;
    size_t blob_len = 0, plain_len = 0;
    int rc = s_record_load(self, id, &r, err, cap);
    if (rc != 0)
        goto out;
    rc = node_data_blob(self, r.info.address, &blob, &blob_len);
    if (rc == NODE_E_NOT_FOUND) {
        rc = proto_err_fail(err, cap, rc, "the record's blob is missing from the store");
        goto out;
    }
    if (rc != 0) {
        rc = proto_err_fail(err, cap, rc, "the record's blob is refused: %s", proto_err_str(rc));
        goto out;
    }
    rc = enclave_blob_open(r.key, blob, blob_len, &plain, &plain_len);
    if (rc != 0) {
        rc = proto_err_fail(err, cap, NODE_E_CORRUPT, "the blob does not decrypt: %s",
                            proto_err_str(rc));
        goto out;
    }
    uint8_t commit[32];
    proto_data_commit(r.salt, plain, plain_len, commit);
    if (plain_len != r.info.size || sodium_memcmp(commit, id, 32) != 0) {
        enclave_blob_plain_free(plain);
        rc = proto_err_fail(err, cap, NODE_E_CORRUPT,
                            "the blob decrypts to other data than the record commits to");
        goto out;
    }
    /* into a buffer of our own: node_data_plain_free is the one way to free it */
    *data = sodium_malloc(plain_len ? plain_len : 1);
    if (!*data) {
        enclave_blob_plain_free(plain);
        rc = proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(*data, plain, plain_len);
    enclave_blob_plain_free(plain);
    *len = plain_len;
    memcpy(salt, r.salt, 32);
out:
    free(blob);
    s_record_wipe(&r);
    return rc;
}

void node_data_plain_free(uint8_t *data, size_t len)
{
    (void)len; /* sodium_free wipes the whole allocation */
    sodium_free(data);
}

int node_data_remove(node_data_t *self, const uint8_t id[static 32])
{
    s_record_t r;
    char path[NODE_DATADIR_PATH_MAX];
    int rc = s_record_load(self, id, &r, NULL, 0);
    if (rc == 0 && s_path(path, self->blobs, r.info.address) == 0)
        (void)unlink(path);
    s_record_wipe(&r);
    if (s_path(path, self->records, id) != 0 || unlink(path) != 0)
        return NODE_E_NOT_FOUND;
    return 0;
}

static int s_cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

size_t node_data_ids(node_data_t *self, uint8_t (*out)[32], size_t max)
{
    DIR *d = opendir(self->records);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while (n < max && (e = readdir(d)) != NULL)
        if (s_hex_name(e->d_name, out[n]))
            n++;
    closedir(d);
    qsort(out, n, 32, s_cmp_id);
    return n;
}

/* ---------------------------------------------------------------- lifecycle */

void node_data_add_clear(node_data_add_t *add)
{
    if (add->plain)
        sodium_free(add->plain);
    sodium_memzero(add, sizeof *add);
}

static int s_mkdir(const char *path, char *err, size_t cap)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return proto_err_fail(err, cap, NODE_E_IO, "cannot create %s: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return proto_err_fail(err, cap, NODE_E_IO, "%s is not a directory", path);
    if ((st.st_mode & 077) != 0 && chmod(path, 0700) != 0)
        return proto_err_fail(err, cap, NODE_E_IO, "cannot make %s private: %s", path,
                              strerror(errno));
    return 0;
}

/*  Removes the temp files (NAME.tmp.PID) node_datadir_write_file leaves when a crash comes
 *  between its write and its rename: a record's may hold a data key. */
static void s_temps_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[NODE_DATADIR_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".tmp."))
            continue;
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n > 0 && (size_t)n < sizeof path && unlink(path) == 0)
            GLOG(INFO, NODE, "data store: removed %s, left by an interrupted write", path);
    }
    closedir(d);
}

node_data_t *node_data_new(node_app_t *app, const char *datadir, char *err, size_t cap)
{
    node_data_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, cap, PROTO_E_NOMEM, "out of memory");
        return NULL;
    }
    self->app = app;
    int n1 = snprintf(self->dir, sizeof self->dir, "%s/data", datadir);
    int n2 = snprintf(self->blobs, sizeof self->blobs, "%s/data/blobs", datadir);
    int n3 = snprintf(self->records, sizeof self->records, "%s/data/records", datadir);
    if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n3 + 66 >= sizeof self->records) {
        proto_err_fail(err, cap, NODE_E_IO, "datadir path too long");
        goto err;
    }
    if (s_mkdir(self->dir, err, cap) != 0 || s_mkdir(self->blobs, err, cap) != 0 ||
        s_mkdir(self->records, err, cap) != 0)
        goto err;
    s_temps_remove(self->records);
    s_temps_remove(self->blobs);
    return self;
err:
    free(self);
    return NULL;
}

void node_data_destroy(node_data_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_data_t *self = *self_p;
    for (size_t i = 0; i < NODE_DATA_ADDS_MAX; i++) {
        node_data_add_t *a = &self->adds[i];
        if (!a->used)
            continue;
        if (a->rpc_token && self->app)
            node_app_rpc_complete(self->app, a->rpc_token, NULL, NODE_RPC_E_APP,
                                  "the node is shutting down");
        node_data_add_clear(a);
    }
    sodium_memzero(self, sizeof *self);
    free(self);
    *self_p = NULL;
}
