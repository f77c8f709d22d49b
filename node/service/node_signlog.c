/*  node_signlog: the signing record as an append-only log (see node_signlog.h). */
#include "node/service/node_signlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/app/node_datadir.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"

#define CHECK_LEN 16
#define HEAD_LEN 12 /* len u32 + seq u64 */
#define DOMAIN "genie/signlog/v1"

struct node_signlog_t {
    char path[NODE_DATADIR_PATH_MAX];
    int fd; /* open for writing at END; -1 after a failure (the next append rewrites) */
    size_t end;
    uint64_t seq; /* of the newest record */
    size_t max_record, compact_bytes;
    uint64_t appends, rewrites;
};

static void s_put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t s_get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

size_t node_signlog_encode(const uint8_t *data, size_t len, uint64_t seq, uint8_t *out)
{
    memmove(out + HEAD_LEN, data, len);
    s_put_le(out, len, 4);
    s_put_le(out + 4, seq, 8);
    uint8_t full[PROTO_HASH_LEN]; /* check = H(domain, len | seq | data), first CHECK_LEN */
    proto_hash(DOMAIN, out, HEAD_LEN + len, full);
    memcpy(out + HEAD_LEN + len, full, CHECK_LEN);
    return len + NODE_SIGNLOG_OVERHEAD;
}

int node_signlog_parse(const uint8_t *buf, size_t len, size_t max_record, const uint8_t **rec,
                       size_t *rec_len, uint64_t *seq)
{
    *rec = NULL;
    *rec_len = 0;
    *seq = 0;
    if (len < NODE_SIGNLOG_MAGIC_LEN || memcmp(buf, NODE_SIGNLOG_MAGIC, NODE_SIGNLOG_MAGIC_LEN)) {
        if (len == 0 || len > max_record) /* a whole-file record of an earlier version */
            return NODE_E_NOT_FOUND;
        *rec = buf;
        *rec_len = len;
        return 0;
    }
    size_t at = NODE_SIGNLOG_MAGIC_LEN;
    bool found = false;
    while (len - at >= HEAD_LEN + CHECK_LEN) {
        uint64_t n = s_get_le(buf + at, 4), s = s_get_le(buf + at + 4, 8);
        if (n == 0 || n > max_record || n > len - at - HEAD_LEN - CHECK_LEN || (found && s <= *seq))
            break;
        uint8_t check[PROTO_HASH_LEN];
        proto_hash(DOMAIN, buf + at, HEAD_LEN + (size_t)n, check);
        if (memcmp(check, buf + at + HEAD_LEN + n, CHECK_LEN) != 0)
            break;
        *rec = buf + at + HEAD_LEN;
        *rec_len = (size_t)n;
        *seq = s;
        found = true;
        at += HEAD_LEN + (size_t)n + CHECK_LEN;
    }
    return found ? 0 : NODE_E_NOT_FOUND;
}

/*  Replaces the file with the magic and (if DATA) one record of sequence SEQ, atomically,
 *  and opens it for appending. */
static int s_rewrite(node_signlog_t *self, const uint8_t *data, size_t len, uint64_t seq, char *err,
                     size_t err_cap)
{
    if (self->fd >= 0)
        close(self->fd);
    self->fd = -1;
    size_t total = NODE_SIGNLOG_MAGIC_LEN + (data ? len + NODE_SIGNLOG_OVERHEAD : 0);
    uint8_t *buf = malloc(total);
    if (!buf)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    memcpy(buf, NODE_SIGNLOG_MAGIC, NODE_SIGNLOG_MAGIC_LEN);
    if (data)
        node_signlog_encode(data, len, seq, buf + NODE_SIGNLOG_MAGIC_LEN);
    int rc = node_datadir_write_file(self->path, buf, total, 0600, err, err_cap);
    free(buf);
    if (rc != 0)
        return NODE_E_FAILED;
    self->rewrites++;
    self->fd = open(self->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (self->fd < 0)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot open %s: %s", self->path,
                              strerror(errno));
    self->end = total;
    if (data)
        self->seq = seq;
    return 0;
}

node_signlog_t *node_signlog_open(const char *path, size_t max_record, size_t compact_bytes,
                                  uint8_t **last, size_t *last_len, char *err, size_t err_cap)
{
    *last = NULL;
    *last_len = 0;
    size_t one = NODE_SIGNLOG_MAGIC_LEN + max_record + NODE_SIGNLOG_OVERHEAD;
    if (max_record == 0 || max_record > UINT32_MAX || compact_bytes < one) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "signlog: bad limits");
        return NULL;
    }
    node_signlog_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->fd = -1;
    self->max_record = max_record;
    self->compact_bytes = compact_bytes;
    if ((size_t)snprintf(self->path, sizeof self->path, "%s", path) >= sizeof self->path) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "path too long: %s", path);
        goto err;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    char msg[512];
    const uint8_t *rec = NULL;
    size_t rec_len = 0;
    uint64_t seq = 0;
    if (node_datadir_read_file(path, compact_bytes, &buf, &len, msg, sizeof msg) != 0) {
        if (errno != ENOENT) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "%s", msg);
            goto err;
        }
    } else if (node_signlog_parse(buf, len, max_record, &rec, &rec_len, &seq) != 0 &&
               len != NODE_SIGNLOG_MAGIC_LEN) { /* only the magic: an empty log */
        free(buf);
        proto_err_fail(err, err_cap, NODE_E_FAILED, "%s holds no valid signing record", path);
        goto err;
    }
    if (rec) {
        *last = malloc(rec_len);
        if (!*last) {
            free(buf);
            proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
            goto err;
        }
        memcpy(*last, rec, rec_len);
        *last_len = rec_len;
    }
    free(buf);
    if (s_rewrite(self, *last, *last_len, seq + 1, err, err_cap) != 0)
        goto err;
    return self;
err:
    free(*last);
    *last = NULL;
    *last_len = 0;
    node_signlog_destroy(&self);
    return NULL;
}

int node_signlog_append(node_signlog_t *self, const uint8_t *data, size_t len, char *err,
                        size_t err_cap)
{
    if (len == 0 || len > self->max_record)
        return proto_err_fail(err, err_cap, NODE_E_FAILED,
                              "signing record of %zu bytes (limit %zu)", len, self->max_record);
    uint64_t seq = self->seq + 1;
    if (self->fd < 0 || self->end + len + NODE_SIGNLOG_OVERHEAD > self->compact_bytes)
        return s_rewrite(self, data, len, seq, err, err_cap);
    uint8_t *rec = malloc(len + NODE_SIGNLOG_OVERHEAD);
    if (!rec)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
    size_t n = node_signlog_encode(data, len, seq, rec), done = 0;
    while (done < n) {
        ssize_t w = pwrite(self->fd, rec + done, n - done, (off_t)(self->end + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int e = errno;
    free(rec);
    errno = e;
    if (done < n)
        goto fail;
    if (fdatasync(self->fd) != 0)
        goto fail;
    self->end += n;
    self->seq = seq;
    self->appends++;
    return 0;
fail:
    proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot append to %s: %s", self->path,
                   strerror(errno));
    close(self->fd);
    self->fd = -1;
    return NODE_E_FAILED;
}

uint64_t node_signlog_appends(const node_signlog_t *self)
{
    return self->appends;
}

uint64_t node_signlog_rewrites(const node_signlog_t *self)
{
    return self->rewrites;
}

void node_signlog_destroy(node_signlog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_signlog_t *self = *self_p;
    if (self->fd >= 0)
        close(self->fd);
    free(self);
    *self_p = NULL;
}
