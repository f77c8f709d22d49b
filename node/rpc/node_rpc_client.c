/*  node_rpc_client: the CLI's side of the control API (see node_rpc_client.h).
 *
 *  One libcurl easy handle per client, reused across calls. The cookie ("user:password")
 *  lives in sodium_malloc'd memory and is wiped on destroy; libcurl keeps its own copy
 *  only for the duration of a call. Proxies are disabled (the node is on loopback) and
 *  only plain http:// is allowed. Answers are read up to 16 MiB.
 */
#include "node/rpc/node_rpc_client.h"
#include "node/rpc/node_rpc.h"
#include "proto/proto_err.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_RESPONSE ((size_t)16 << 20) /* 16 MiB */
#define S_MAX_COOKIE 256
#define S_DEFAULT_TIMEOUT_MS 30000L
#define S_RETRY_MS 8000L /* connections reset before an answer are retried this long */
#define S_RETRY_SLICE_MS 200L

struct node_rpc_client_t {
    CURL *curl;
    char *url;      /* http://host:port/ */
    char *hostport; /* host:port, for messages */
    char *userpwd;  /* "__cookie__:<hex>", sodium_malloc'd; NULL: no credentials */
    json_int_t next_id;
    int last_code; /* JSON-RPC code of the last NODE_E_RPC answer */
};

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool too_big;
} s_buf_t;

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_status = CURLE_FAILED_INIT;

static void s_curl_init(void)
{
    s_curl_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*  Reads a small file whole into BUF (CAP bytes, NUL-terminated), trailing newlines
 *  dropped. Returns its length, or -1 with errno (EFBIG when it does not fit). */
static ssize_t s_read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        if (len == cap - 1) { /* full: one byte more means too big */
            char extra;
            ssize_t r = read(fd, &extra, 1);
            if (r != 0) {
                close(fd);
                errno = r > 0 ? EFBIG : errno;
                return -1;
            }
            break;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    return (ssize_t)len;
}

node_rpc_client_t *node_rpc_client_new(const char *url, const char *cookie_file, char *err,
                                       size_t err_cap)
{
    if (!url || !*url) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "no node URL given");
        return NULL;
    }
    if (sodium_init() < 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot initialise libsodium");
        return NULL;
    }
    pthread_once(&s_curl_once, s_curl_init);
    if (s_curl_status != CURLE_OK) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot initialise libcurl: %s",
                       curl_easy_strerror(s_curl_status));
        return NULL;
    }
    node_rpc_client_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->next_id = 1;

    /* "http://host:port[/...]" is taken as is; a bare "host:port" becomes
     * "http://host:port/". */
    const char *rest = url;
    if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    else if (strstr(url, "://")) {
        proto_err_fail(err, err_cap, NODE_E_FAILED,
                       "unsupported node URL '%s' (want http://127.0.0.1:PORT/)", url);
        goto err;
    }
    size_t hp_len = strcspn(rest, "/");
    if (hp_len == 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED,
                       "bad node URL '%s' (want http://127.0.0.1:PORT/)", url);
        goto err;
    }
    self->hostport = strndup(rest, hp_len);
    if (rest == url) {
        size_t n = strlen(url) + sizeof "http:///";
        self->url = malloc(n);
        if (self->url)
            snprintf(self->url, n, "http://%s/", url);
    } else {
        self->url = strdup(url);
    }
    if (!self->hostport || !self->url) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        goto err;
    }

    if (cookie_file) {
        self->userpwd = sodium_malloc(S_MAX_COOKIE);
        if (!self->userpwd) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
            goto err;
        }
        ssize_t n = s_read_small(cookie_file, self->userpwd, S_MAX_COOKIE);
        if (n < 0) {
            proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: %s", cookie_file,
                           errno == EFBIG ? "too large for a cookie file" : strerror(errno));
            goto err;
        }
        if (n == 0 || !strchr(self->userpwd, ':')) {
            proto_err_fail(err, err_cap, NODE_E_FAILED,
                           "malformed cookie file %s (want user:password)", cookie_file);
            goto err;
        }
    }

    self->curl = curl_easy_init();
    if (!self->curl) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create a libcurl handle");
        goto err;
    }
    return self;
err:
    node_rpc_client_destroy(&self);
    return NULL;
}

node_rpc_client_t *node_rpc_client_from_datadir(const char *datadir, char *err, size_t err_cap)
{
    char addr_path[4096], cookie_path[4096], addr[128];
    if (!datadir || !*datadir) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "no datadir given");
        return NULL;
    }
    if (snprintf(addr_path, sizeof addr_path, "%s/rpc.addr", datadir) >= (int)sizeof addr_path ||
        snprintf(cookie_path, sizeof cookie_path, "%s/rpc.cookie", datadir) >=
            (int)sizeof cookie_path) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "datadir path too long: %s", datadir);
        return NULL;
    }
    ssize_t n = s_read_small(addr_path, addr, sizeof addr);
    if (n < 0 && errno == ENOENT) {
        proto_err_fail(err, err_cap, NODE_E_FAILED,
                       "cannot read %s: no such file (is genie-node running with --datadir %s?)",
                       addr_path, datadir);
        return NULL;
    }
    if (n < 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read %s: %s", addr_path,
                       errno == EFBIG ? "file too large" : strerror(errno));
        return NULL;
    }
    if (n == 0 || addr[strcspn(addr, " \t\r\n/")] != '\0') {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "malformed %s (want 127.0.0.1:PORT)",
                       addr_path);
        return NULL;
    }
    return node_rpc_client_new(addr, cookie_path, err, err_cap);
}

void node_rpc_client_destroy(node_rpc_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_rpc_client_t *self = *self_p;
    if (self->curl)
        curl_easy_cleanup(self->curl);
    if (self->userpwd)
        sodium_free(self->userpwd); /* wipes */
    free(self->url);
    free(self->hostport);
    free(self);
    *self_p = NULL;
}

static size_t s_on_data(char *data, size_t size, size_t nmemb, void *userp)
{
    s_buf_t *buf = userp;
    size_t n = size * nmemb;
    if (n > S_MAX_RESPONSE - buf->len) {
        buf->too_big = true;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    if (buf->len + n + 1 > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 4096;
        while (cap < buf->len + n + 1)
            cap *= 2;
        char *p = realloc(buf->data, cap);
        if (!p)
            return 0;
        buf->data = p;
        buf->cap = cap;
    }
    memcpy(buf->data + buf->len, data, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return n;
}

/*  Turns a transport failure into a one-line message. */
static void s_transport_error(node_rpc_client_t *self, CURLcode rc, const s_buf_t *buf,
                              long timeout_ms, const char *detail, char *err, size_t cap)
{
    long os_errno = 0;
    curl_easy_getinfo(self->curl, CURLINFO_OS_ERRNO, &os_errno);
    if (rc == CURLE_COULDNT_CONNECT)
        proto_err_fail(err, cap, NODE_E_FAILED, "cannot connect to node at %s: %s", self->hostport,
                       os_errno ? strerror((int)os_errno) : curl_easy_strerror(rc));
    else if (rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING)
        proto_err_fail(err, cap, NODE_E_FAILED,
                       "node at %s accepted the connection but closed it without an answer (%s): "
                       "it is running, but too many control connections may be open",
                       self->hostport, *detail ? detail : curl_easy_strerror(rc));
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        proto_err_fail(err, cap, NODE_E_FAILED, "no answer from node at %s within %ld ms",
                       self->hostport, timeout_ms);
    else if (rc == CURLE_WRITE_ERROR && buf->too_big)
        proto_err_fail(err, cap, NODE_E_FAILED, "answer from node at %s is larger than %zu MiB",
                       self->hostport, S_MAX_RESPONSE >> 20);
    else
        proto_err_fail(err, cap, NODE_E_FAILED, "RPC to node at %s failed: %s", self->hostport,
                       *detail ? detail : curl_easy_strerror(rc));
}

/*  Reads a JSON-RPC answer for request ID. Returns as node_rpc_client_call does. */
static int s_answer(node_rpc_client_t *self, long status, const s_buf_t *buf, json_int_t id,
                    json_t **result, char *err, size_t cap)
{
    json_t *doc = buf->len ? json_loadb(buf->data, buf->len, 0, NULL) : NULL;
    json_t *error = json_object_get(doc, "error");
    json_t *res = json_object_get(doc, "result");
    int rc = NODE_E_TRANSPORT;
    if (json_is_object(error)) {
        json_t *code = json_object_get(error, "code");
        const char *msg = json_string_value(json_object_get(error, "message"));
        json_int_t c = json_integer_value(code);
        if (!json_is_integer(code)) {
            proto_err_fail(err, cap, NODE_E_FAILED, "malformed error answer from node at %s",
                           self->hostport);
        } else if (c < -1 && c >= INT_MIN) {
            rc = NODE_E_RPC;
            self->last_code = (int)c;
            if (c == -32001)
                proto_err_fail(err, cap, NODE_E_FAILED,
                               "%s: wrong or missing credentials (stale cookie file?)",
                               msg ? msg : "unauthorized");
            else
                proto_err_fail(err, cap, NODE_E_FAILED, "%s", msg ? msg : "error");
        } else {
            proto_err_fail(err, cap, NODE_E_FAILED, "node error %" JSON_INTEGER_FORMAT ": %s", c,
                           msg ? msg : "error");
        }
    } else if (status != 200) {
        proto_err_fail(err, cap, NODE_E_FAILED, "node at %s answered HTTP %ld", self->hostport,
                       status);
    } else if (!res) {
        proto_err_fail(err, cap, NODE_E_FAILED, "malformed answer from node at %s", self->hostport);
    } else if (!json_is_integer(json_object_get(doc, "id")) ||
               json_integer_value(json_object_get(doc, "id")) != id) {
        proto_err_fail(err, cap, NODE_E_FAILED, "answer from node at %s does not match the request",
                       self->hostport);
    } else {
        if (result)
            *result = json_incref(res);
        rc = 0;
    }
    json_decref(doc);
    return rc;
}

int node_rpc_client_call(node_rpc_client_t *self, const char *method, json_t *params,
                         long timeout_ms, json_t **result, char *err, size_t err_cap)
{
    return node_rpc_client_call_bin(self, method, params, NULL, 0, timeout_ms, result, err,
                                    err_cap);
}

/*  The request body: the JSON text TEXT (freed here), and with a binary part BIN (LEN bytes)
 *  a NUL and the part (node_rpc.h). Returns it (malloc'd, *BODY_LEN bytes) or NULL. */
static char *s_body(char *text, const void *bin, size_t len, size_t *body_len)
{
    size_t tlen = text ? strlen(text) : 0;
    *body_len = tlen;
    if (!text || !bin)
        return text;
    char *body = len <= SIZE_MAX - tlen - 1 ? malloc(tlen + 1 + len) : NULL;
    if (body) {
        memcpy(body, text, tlen);
        body[tlen] = '\0';
        if (len)
            memcpy(body + tlen + 1, bin, len);
        *body_len = tlen + 1 + len;
    }
    free(text);
    return body;
}

int node_rpc_client_call_bin(node_rpc_client_t *self, const char *method, json_t *params,
                             const void *bin, size_t bin_len, long timeout_ms, json_t **result,
                             char *err, size_t err_cap)
{
    if (result)
        *result = NULL;
    if (!self || !method) {
        json_decref(params);
        proto_err_fail(err, err_cap, NODE_E_FAILED,
                       "node_rpc_client_call: client and method are required");
        return NODE_E_PARAMS;
    }
    if (timeout_ms <= 0)
        timeout_ms = S_DEFAULT_TIMEOUT_MS;
    self->last_code = 0;
    json_int_t id = self->next_id++;
    json_t *req = json_pack("{s:s, s:s, s:I}", "jsonrpc", "2.0", "method", method, "id", id);
    if (req && params)
        json_object_set_new(req, "params", params);
    else
        json_decref(params);
    size_t body_len = 0;
    char *body = s_body(req ? json_dumps(req, JSON_COMPACT) : NULL, bin, bin_len, &body_len);
    json_decref(req);
    if (!body) {
        proto_err_fail(err, err_cap, NODE_E_FAILED,
                       "cannot encode the request (method not UTF-8?)");
        return NODE_E_PARAMS;
    }

    CURL *c = self->curl;
    s_buf_t buf = {0};
    char detail[CURL_ERROR_SIZE] = "";
    struct curl_slist *headers = curl_slist_append(NULL, bin ? "Content-Type: " NODE_RPC_BINARY_TYPE
                                                             : "Content-Type: application/json");
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, self->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    if (self->userpwd) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, self->userpwd);
    }
    CURLcode crc = headers ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
    /* A node that is shedding idle unauthenticated connections may reset ours before
     * reading it: nothing was done, so try again, for up to S_RETRY_MS. */
    for (long waited = 0;
         (crc == CURLE_RECV_ERROR || crc == CURLE_SEND_ERROR || crc == CURLE_GOT_NOTHING) &&
         buf.len == 0 && waited < S_RETRY_MS;
         waited += S_RETRY_SLICE_MS) {
        struct timespec ts = {0, S_RETRY_SLICE_MS * 1000000L};
        nanosleep(&ts, NULL);
        detail[0] = '\0';
        crc = curl_easy_perform(c);
    }
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

    int rc;
    if (crc != CURLE_OK) {
        s_transport_error(self, crc, &buf, timeout_ms, detail, err, err_cap);
        rc = crc == CURLE_COULDNT_CONNECT ? NODE_E_CONNECT : NODE_E_TRANSPORT;
    } else {
        rc = s_answer(self, status, &buf, id, result, err, err_cap);
    }
    /* Drop libcurl's copy of the credentials and everything pointing into this frame. */
    curl_easy_reset(c);
    curl_slist_free_all(headers);
    free(buf.data);
    free(body);
    return rc;
}

int node_rpc_client_last_code(const node_rpc_client_t *self)
{
    return self ? self->last_code : 0;
}
