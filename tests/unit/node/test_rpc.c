/*  test_rpc: the JSON-RPC control API end to end. A server runs on an ephemeral loopback
 *  port in a temporary datadir; the main thread plays the node's main loop (poll the
 *  bridge socket, node_rpc_dispatch) while a second thread makes the calls, through
 *  node_rpc_client and through raw HTTP (libcurl) for what the client never sends.
 */
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_client.h"
#include "proto/proto_err.h"
#include "testutil.h"

#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char dir[256];
    uint16_t port;
    int notes; /* "note" calls seen by the handler (main thread only) */
    atomic_bool done;
    node_rpc_t *rpc; /* for "later" (main thread only) */
    uint64_t later;  /* the token "later" got from node_rpc_defer */
} s_test_t;

/*  The test's methods: echo returns its params, fail is an application error, slow takes
 *  300 ms, note counts calls; anything else is -32601. */
static json_t *s_handler(void *ctx, const char *method, json_t *params, int *code, char *msg,
                         size_t cap)
{
    s_test_t *t = ctx;
    if (strcmp(method, "echo") == 0)
        return params ? json_incref(params) : json_null();
    if (strcmp(method, "fail") == 0) {
        *code = NODE_RPC_E_APP;
        snprintf(msg, cap, "failed on purpose");
        return NULL;
    }
    if (strcmp(method, "slow") == 0) {
        usleep(300 * 1000);
        return json_true();
    }
    if (strcmp(method, "note") == 0) {
        t->notes++;
        return json_true();
    }
    if (strcmp(method, "later") == 0) { /* answered by node_rpc_complete */
        if ((t->later = node_rpc_defer(t->rpc)) != 0)
            return NULL;
        *code = NODE_RPC_E_APP;
        snprintf(msg, cap, "cannot defer");
        return NULL;
    }
    *code = NODE_RPC_E_METHOD;
    snprintf(msg, cap, "no method %s", method);
    return NULL;
}

/* ------------------------------------------------------------ raw HTTP helpers */

typedef struct {
    char *data;
    size_t len;
} s_buf_t;

static size_t s_collect(char *p, size_t size, size_t n, void *userp)
{
    s_buf_t *b = userp;
    char *d = realloc(b->data, b->len + size * n + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, size * n);
    b->data = d;
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

typedef struct {
    const char *data;
    size_t len;
    size_t off;
} s_src_t;

static size_t s_feed(char *p, size_t size, size_t n, void *userp)
{
    s_src_t *s = userp;
    size_t k = size * n < s->len - s->off ? size * n : s->len - s->off;
    memcpy(p, s->data + s->off, k);
    s->off += k;
    return k;
}

/*  Sends an HTTP request (METHOD "POST" or "GET") to PATH on the test server, with
 *  USERPWD as Basic credentials when non-NULL and BODY (LEN bytes; sent chunked when
 *  CHUNKED). Returns the HTTP status (0 if the transfer failed) and sets *OUT to the
 *  response body and, when HEADERS is not NULL, *HEADERS to the response headers (caller
 *  frees both; never NULL). */
static long s_http(uint16_t port, const char *method, const char *path, const char *userpwd,
                   const char *body, size_t len, bool chunked, char **out, char **headers)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    CURL *c = curl_easy_init();
    s_buf_t buf = {0}, hdr = {0};
    s_src_t src = {body, len, 0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (chunked)
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    if (userpwd)
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (chunked) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, s_feed);
        curl_easy_setopt(c, CURLOPT_READDATA, &src);
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    *out = buf.data ? buf.data : strdup("");
    if (headers)
        *headers = hdr.data ? hdr.data : strdup("");
    else
        free(hdr.data);
    return status;
}

/*  POSTs TEXT to / with USERPWD; returns the HTTP status, *OUT the parsed body or NULL. */
static long s_post(const s_test_t *t, const char *userpwd, const char *text, json_t **out)
{
    char *body;
    long status = s_http(t->port, "POST", "/", userpwd, text, strlen(text), false, &body, NULL);
    *out = json_loads(body, JSON_DECODE_ANY, NULL);
    free(body);
    return status;
}

/*  The "error"."code" of a response object, or 0. */
static int s_code(const json_t *resp)
{
    return (int)json_integer_value(json_object_get(json_object_get(resp, "error"), "code"));
}

static bool s_read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return true;
}

static bool s_exists(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

/* ------------------------------------------------------------ the client side */

/*  One of several clients calling at once; counts answers that went astray. */
typedef struct {
    const char *dir;
    int id;
    atomic_int *bad;
} s_worker_t;

static void *s_worker_main(void *arg)
{
    s_worker_t *w = arg;
    char err[256];
    node_rpc_client_t *c = node_rpc_client_from_datadir(w->dir, err, sizeof err);
    for (int i = 0; i < 25; i++) {
        json_t *res = NULL;
        int rc = c ? node_rpc_client_call(c, "echo", json_pack("[i, i]", w->id, i), 0, &res, err,
                                          sizeof err)
                   : -1;
        if (rc != 0 || json_integer_value(json_array_get(res, 0)) != w->id ||
            json_integer_value(json_array_get(res, 1)) != i)
            atomic_fetch_add(w->bad, 1);
        json_decref(res);
    }
    node_rpc_client_destroy(&c);
    return NULL;
}

static void s_client_calls(s_test_t *t)
{
    char err[256] = "";
    json_t *result = NULL;
    node_rpc_client_t *client = node_rpc_client_from_datadir(t->dir, err, sizeof err);
    CHECK(client != NULL);
    if (!client) {
        fprintf(stderr, "client: %s\n", err);
        return;
    }

    /* Round trips. */
    json_t *sent = json_pack("[s, i, {s:b}]", "hi", 42, "ok", 1);
    CHECK_EQ(node_rpc_client_call(client, "echo", json_incref(sent), 0, &result, err, sizeof err),
             0);
    CHECK(json_equal(result, sent));
    json_decref(result);
    json_decref(sent);
    CHECK_EQ(node_rpc_client_call(client, "echo", json_pack("{s:i}", "a", 1), 0, &result, err,
                                  sizeof err),
             0);
    CHECK_EQ(json_integer_value(json_object_get(result, "a")), 1);
    json_decref(result);
    CHECK_EQ(node_rpc_client_call(client, "echo", NULL, 0, &result, err, sizeof err), 0);
    CHECK(json_is_null(result));
    json_decref(result);

    /* Errors from the handler. */
    CHECK_EQ(node_rpc_client_call(client, "fail", NULL, 0, &result, err, sizeof err), NODE_E_RPC);
    CHECK_EQ(node_rpc_client_last_code(client), NODE_RPC_E_APP);
    CHECK(result == NULL);
    CHECK(strstr(err, "failed on purpose") != NULL);
    CHECK_EQ(node_rpc_client_call(client, "nosuch", NULL, 0, &result, err, sizeof err), NODE_E_RPC);
    CHECK_EQ(node_rpc_client_last_code(client), NODE_RPC_E_METHOD);

    /* A call that outlives its timeout; the next call still works. */
    CHECK_EQ(node_rpc_client_call(client, "slow", NULL, 100, &result, err, sizeof err),
             NODE_E_TRANSPORT);
    CHECK(strstr(err, "within 100 ms") != NULL);
    CHECK_EQ(node_rpc_client_call(client, "echo", json_pack("[i]", 7), 0, &result, err, sizeof err),
             0);
    CHECK_EQ(json_integer_value(json_array_get(result, 0)), 7);
    json_decref(result);

    /* Several clients at once. */
    atomic_int astray;
    atomic_init(&astray, 0);
    pthread_t workers[4];
    s_worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (s_worker_t){t->dir, i, &astray};
        CHECK_EQ(pthread_create(&workers[i], NULL, s_worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(workers[i], NULL);
    CHECK_EQ(atomic_load(&astray), 0);

    /* Credentials: a wrong token, then none at all. */
    char url[64], path[512];
    snprintf(url, sizeof url, "127.0.0.1:%u", (unsigned)t->port);
    snprintf(path, sizeof path, "%s/bad.cookie", t->dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fprintf(f, "__cookie__:%064d", 0);
        fclose(f);
    }
    node_rpc_client_t *bad = node_rpc_client_new(url, path, err, sizeof err);
    CHECK(bad != NULL);
    CHECK_EQ(node_rpc_client_call(bad, "echo", NULL, 0, &result, err, sizeof err), NODE_E_RPC);
    CHECK_EQ(node_rpc_client_last_code(bad), NODE_RPC_E_UNAUTHORIZED);
    CHECK(strstr(err, "unauthorized") != NULL);
    node_rpc_client_destroy(&bad);
    CHECK(bad == NULL);
    node_rpc_client_t *anon = node_rpc_client_new(url, NULL, err, sizeof err);
    CHECK(anon != NULL);
    CHECK_EQ(node_rpc_client_call(anon, "echo", NULL, 0, &result, err, sizeof err), NODE_E_RPC);
    CHECK_EQ(node_rpc_client_last_code(anon), NODE_RPC_E_UNAUTHORIZED);
    node_rpc_client_destroy(&anon);
    node_rpc_client_destroy(&anon); /* tolerates NULL */

    /* Cookie files the client refuses. */
    f = fopen(path, "w");
    if (f) {
        fputs("no colon here\n", f);
        fclose(f);
    }
    CHECK(node_rpc_client_new(url, path, err, sizeof err) == NULL);
    CHECK(strstr(err, "malformed cookie file") != NULL);
    snprintf(path, sizeof path, "%s/missing.cookie", t->dir);
    CHECK(node_rpc_client_new(url, path, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot read") != NULL);
    CHECK(node_rpc_client_new("https://127.0.0.1:1/", NULL, err, sizeof err) == NULL);

    /* Raw HTTP, authenticated with the real cookie. */
    char cookie[256];
    snprintf(path, sizeof path, "%s/rpc.cookie", t->dir);
    CHECK(s_read_file(path, cookie, sizeof cookie));
    json_t *r = NULL;

    CHECK_EQ(s_post(t, NULL, "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}", &r), 401);
    CHECK_EQ(s_code(r), NODE_RPC_E_UNAUTHORIZED);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie, "{\"jsonrpc\":\"2.0\",\"method\":", &r), 200);
    CHECK_EQ(s_code(r), NODE_RPC_E_PARSE);
    CHECK(json_is_null(json_object_get(r, "id")));
    json_decref(r);

    CHECK_EQ(s_post(t, cookie,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"method\":\"x\",\"id\":1}", &r),
             200);
    CHECK_EQ(s_code(r), NODE_RPC_E_PARSE); /* duplicate keys */
    json_decref(r);

    CHECK_EQ(s_post(t, cookie, "{\"jsonrpc\":\"1.0\",\"method\":\"echo\",\"id\":5}", &r), 200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    CHECK_EQ(json_integer_value(json_object_get(r, "id")), 5);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":\"x\",\"id\":1}", &r),
             200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie, "{\"jsonrpc\":\"2.0\",\"method\":7,\"id\":1}", &r), 200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":{\"not\":\"an id\"}}", &r),
             200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    CHECK(json_is_null(json_object_get(r, "id")));
    json_decref(r);

    char longreq[256];
    snprintf(longreq, sizeof longreq, "{\"jsonrpc\":\"2.0\",\"method\":\"%065d\",\"id\":1}", 0);
    CHECK_EQ(s_post(t, cookie, longreq, &r), 200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie, "{\"jsonrpc\":\"2.0\",\"method\":\"a\\nb\",\"id\":1}", &r), 200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie, "5", &r), 200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie, "{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\",\"id\":\"abc\"}", &r),
             200);
    CHECK_EQ(s_code(r), NODE_RPC_E_METHOD);
    CHECK(strcmp(json_string_value(json_object_get(r, "id")), "abc") == 0);
    CHECK(strcmp(json_string_value(json_object_get(r, "jsonrpc")), "2.0") == 0);
    json_decref(r);

    /* A notification runs but gets no body. */
    CHECK_EQ(s_post(t, cookie, "{\"jsonrpc\":\"2.0\",\"method\":\"note\"}", &r), 204);
    CHECK(r == NULL);

    /* Batches. */
    CHECK_EQ(s_post(t, cookie,
                    "[{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[1],\"id\":1},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":[2],\"id\":2}]",
                    &r),
             200);
    CHECK(json_is_array(r) && json_array_size(r) == 2);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(r, 0), "id")), 1);
    CHECK_EQ(json_integer_value(json_array_get(json_object_get(json_array_get(r, 1), "result"), 0)),
             2);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie,
                    "[{\"jsonrpc\":\"2.0\",\"method\":\"note\"},1,"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"fail\",\"id\":3}]",
                    &r),
             200);
    CHECK(json_is_array(r) && json_array_size(r) == 2);
    CHECK_EQ(s_code(json_array_get(r, 0)), NODE_RPC_E_INVALID_REQUEST);
    CHECK_EQ(s_code(json_array_get(r, 1)), NODE_RPC_E_APP);
    json_decref(r);

    CHECK_EQ(s_post(t, cookie,
                    "[{\"jsonrpc\":\"2.0\",\"method\":\"note\"},"
                    "{\"jsonrpc\":\"2.0\",\"method\":\"note\",\"params\":{}}]",
                    &r),
             204);
    CHECK(r == NULL);

    CHECK_EQ(s_post(t, cookie, "[]", &r), 200);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);

    char big_batch[2048] = "[";
    for (int i = 0; i < 33; i++)
        strcat(big_batch, i ? ",{}" : "{}");
    strcat(big_batch, "]");
    CHECK_EQ(s_post(t, cookie, big_batch, &r), 200);
    CHECK(json_is_object(r));
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);

    /* HTTP-level refusals. */
    char *body = NULL;
    char *headers = NULL;
    CHECK_EQ(s_http(t->port, "GET", "/", cookie, NULL, 0, false, &body, &headers), 405);
    CHECK(strstr(headers, "\nAllow: POST") != NULL);
    r = json_loads(body, 0, NULL);
    CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
    json_decref(r);
    free(body);
    free(headers);
    const char *req = "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"id\":1}";
    CHECK_EQ(
        s_http(t->port, "POST", "/", "__cookie__:wrong", req, strlen(req), false, &body, &headers),
        401);
    CHECK(strstr(headers, "\nWWW-Authenticate: Basic realm=") != NULL);
    CHECK(strstr(body, "-32001") != NULL);
    free(body);
    free(headers);
    CHECK_EQ(s_http(t->port, "POST", "/x", cookie, "{}", 2, false, &body, NULL), 404);
    free(body);

    /* 2 MiB: refused with 413 (Content-Length) or cut off (chunked); the server lives on. */
    size_t big = 2u * 1024 * 1024;
    char *huge = malloc(big);
    CHECK(huge != NULL);
    if (huge) {
        memset(huge, ' ', big);
        memcpy(huge, "[\"", 2);
        huge[big - 2] = '"';
        huge[big - 1] = ']';
        CHECK_EQ(s_http(t->port, "POST", "/", cookie, huge, big, false, &body, NULL), 413);
        r = json_loads(body, 0, NULL);
        CHECK_EQ(s_code(r), NODE_RPC_E_INVALID_REQUEST);
        json_decref(r);
        free(body);
        CHECK(s_http(t->port, "POST", "/", cookie, huge, big, true, &body, NULL) != 200);
        free(body);
        json_t *p = json_array();
        json_array_append_new(p, json_stringn(huge, big));
        CHECK(node_rpc_client_call(client, "echo", p, 0, &result, err, sizeof err) != 0);
        CHECK(strstr(err, "too large") != NULL);
        free(huge);
    }
    CHECK_EQ(node_rpc_client_call(client, "echo", json_pack("[s]", "still here"), 0, &result, err,
                                  sizeof err),
             0);
    CHECK(strcmp(json_string_value(json_array_get(result, 0)), "still here") == 0);
    json_decref(result);

    /* Idle connections that never authenticate cannot lock the owner out: with 80 open
     * (more than the old limit of 64 connections) and with 150 (more than the 128
     * unauthenticated ones the server keeps), an authenticated call still succeeds
     * (the server refuses connections past 128 until the idle ones time out, and the
     * client retries a refused connection). */
    const int floods[] = {80, 150};
    for (size_t k = 0; k < sizeof floods / sizeof floods[0]; k++) {
        int fds[150], open_n = 0;
        for (int i = 0; i < floods[k]; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(t->port)};
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                fds[open_n++] = fd;
            else if (fd >= 0)
                close(fd);
        }
        CHECK_EQ(open_n, floods[k]);
        /* a new client: an old one would reuse its kept-alive connection */
        node_rpc_client_t *fresh = node_rpc_client_from_datadir(t->dir, err, sizeof err);
        CHECK(fresh != NULL);
        CHECK_EQ(node_rpc_client_call(fresh, "echo", json_pack("[i]", floods[k]), 0, &result, err,
                                      sizeof err),
                 0);
        node_rpc_client_destroy(&fresh);
        if (result)
            CHECK_EQ(json_integer_value(json_array_get(result, 0)), floods[k]);
        json_decref(result);
        result = NULL;
        for (int i = 0; i < open_n; i++)
            close(fds[i]);
    }

    sodium_memzero(cookie, sizeof cookie);
    node_rpc_client_destroy(&client);
}

static void *s_client_main(void *arg)
{
    s_test_t *t = arg;
    s_client_calls(t);
    atomic_store(&t->done, true);
    return NULL;
}

/*  A request that is waiting on the main loop when the server is destroyed. */
typedef struct {
    uint16_t port;
    const char *cookie;
    const char *method; /* NULL: echo */
    long status;
    json_t *resp;
} s_pending_t;

static void *s_pending_main(void *arg)
{
    s_pending_t *p = arg;
    char *body, req[128];
    snprintf(req, sizeof req, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"id\":9}",
             p->method ? p->method : "echo");
    p->status = s_http(p->port, "POST", "/", p->cookie, req, strlen(req), false, &body, NULL);
    p->resp = json_loads(body, 0, NULL);
    free(body);
    return NULL;
}

static int64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    s_test_t t = {.notes = 0};
    atomic_init(&t.done, false);
    snprintf(t.dir, sizeof t.dir, "%s", testutil_tmpdir());
    char other[256];
    snprintf(other, sizeof other, "%s", testutil_tmpdir());
    char err[1024] = "", path[512], text[256], expect[1024];

    /* A stale cookie (world-readable) and a stale temp file get replaced. */
    snprintf(path, sizeof path, "%s/rpc.cookie", t.dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("__cookie__:stale", f);
        fclose(f);
    }
    chmod(path, 0644);
    snprintf(path, sizeof path, "%s/.rpc.cookie.tmp", t.dir);
    f = fopen(path, "w");
    if (f)
        fclose(f);

    node_rpc_t *rpc = node_rpc_new("127.0.0.1:0", t.dir, s_handler, &t, err, sizeof err);
    CHECK(rpc != NULL);
    if (!rpc) {
        fprintf(stderr, "node_rpc_new: %s\n", err);
        return testutil_done("test_rpc");
    }
    t.port = node_rpc_port(rpc);
    CHECK(t.port != 0);
    CHECK(node_rpc_socket(rpc) != NULL);

    /* The files. */
    struct stat st;
    snprintf(path, sizeof path, "%s/rpc.cookie", t.dir);
    CHECK(stat(path, &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    CHECK(s_read_file(path, text, sizeof text));
    CHECK_EQ(strlen(text), strlen("__cookie__:") + 64);
    CHECK(strncmp(text, "__cookie__:", 11) == 0);
    CHECK_EQ(strspn(text + 11, "0123456789abcdef"), 64);
    CHECK(!s_exists(t.dir, ".rpc.cookie.tmp"));
    snprintf(path, sizeof path, "%s/rpc.addr", t.dir);
    CHECK(s_read_file(path, text, sizeof text));
    snprintf(expect, sizeof expect, "127.0.0.1:%u\n", (unsigned)t.port);
    CHECK(strcmp(text, expect) == 0);

    /* Bind addresses that must be refused, and a port already taken. */
    const char *refused[] = {"0.0.0.0:0",       "10.1.2.3:0", "localhost:0", "[::1]:0",
                             "127.0.0.1:99999", "127.0.0.1",  "127.0.0.1:",  NULL};
    for (int i = 0; refused[i]; i++) {
        err[0] = '\0';
        node_rpc_t *no = node_rpc_new(refused[i], other, s_handler, &t, err, sizeof err);
        CHECK(no == NULL);
        CHECK(err[0] != '\0');
        node_rpc_destroy(&no);
    }
    CHECK(node_rpc_new("0.0.0.0:0", other, s_handler, &t, err, sizeof err) == NULL);
    CHECK(strstr(err, "loopback") != NULL);
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)t.port);
    CHECK(node_rpc_new(text, other, s_handler, &t, err, sizeof err) == NULL);
    snprintf(expect, sizeof expect, "cannot bind RPC to 127.0.0.1:%u: Address already in use",
             (unsigned)t.port);
    CHECK(strcmp(err, expect) == 0);
    CHECK(!s_exists(other, "rpc.cookie"));
    CHECK(!s_exists(other, "rpc.addr"));

    /* The calls, from a second thread, while this one runs the main loop. */
    pthread_t client;
    /* checked after the join: CHECK's counters are not shared with a running client */
    int started = pthread_create(&client, NULL, s_client_main, &t);
    if (started != 0)
        atomic_store(&t.done, true);
    zpoller_t *poller = zpoller_new(node_rpc_socket(rpc), NULL);
    while (!atomic_load(&t.done)) {
        zpoller_wait(poller, 20);
        node_rpc_dispatch(rpc);
    }
    if (started == 0)
        pthread_join(client, NULL);
    CHECK_EQ(started, 0);
    zpoller_destroy(&poller);
    CHECK_EQ(t.notes, 4); /* one alone, one beside an invalid element, two in a batch */

    char cookie[256];
    snprintf(path, sizeof path, "%s/rpc.cookie", t.dir);
    CHECK(s_read_file(path, cookie, sizeof cookie));

    /* A deferred answer: the handler keeps the request open (node_rpc_defer); the client
       gets nothing until node_rpc_complete, then the result under its own id. */
    t.rpc = rpc;
    s_pending_t later = {.port = t.port, .cookie = cookie, .method = "later"};
    pthread_t lw;
    CHECK_EQ(pthread_create(&lw, NULL, s_pending_main, &later), 0);
    zpoller_t *lp = zpoller_new(node_rpc_socket(rpc), NULL);
    REQUIRE(lp != NULL);
    while (t.later == 0 && zpoller_wait(lp, 30000) != NULL)
        node_rpc_dispatch(rpc);
    CHECK(t.later != 0);
    CHECK_EQ(node_rpc_complete(rpc, t.later + 1000, json_true(), 0, NULL),
             NODE_E_NOT_FOUND); /* no such */
    CHECK(later.resp == NULL);  /* still waiting */
    CHECK_EQ(node_rpc_complete(rpc, t.later, json_string("done later"), 0, NULL), 0);
    CHECK_EQ(node_rpc_complete(rpc, t.later, json_true(), 0, NULL),
             NODE_E_NOT_FOUND); /* answered once */
    pthread_join(lw, NULL);
    zpoller_destroy(&lp);
    CHECK_EQ(later.status, 200);
    CHECK(later.resp && json_is_string(json_object_get(later.resp, "result")) &&
          strcmp(json_string_value(json_object_get(later.resp, "result")), "done later") == 0);
    CHECK(later.resp && json_integer_value(json_object_get(later.resp, "id")) == 9);
    json_decref(later.resp);

    /* Destroy while a request waits for the main loop: it is answered or cut, quickly. */
    s_pending_t pending = {.port = t.port, .cookie = cookie};
    pthread_t waiter;
    CHECK_EQ(pthread_create(&waiter, NULL, s_pending_main, &pending), 0);
    /* wait until the request has reached the main-loop side (the bridge socket holds it),
     * without dispatching it: it is then waiting when the server is destroyed */
    zpoller_t *arrived = zpoller_new(node_rpc_socket(rpc), NULL);
    REQUIRE(arrived != NULL);
    CHECK(zpoller_wait(arrived, 30000) != NULL);
    zpoller_destroy(&arrived);
    int64_t start = s_now_ms();
    node_rpc_destroy(&rpc);
    CHECK(s_now_ms() - start < 3000);
    CHECK(rpc == NULL);
    node_rpc_destroy(&rpc); /* tolerates NULL */
    pthread_join(waiter, NULL);
    CHECK(pending.status == 0 ||
          (pending.status == 200 && s_code(pending.resp) == NODE_RPC_E_INTERNAL));
    json_decref(pending.resp);
    sodium_memzero(cookie, sizeof cookie);

    /* After destroy: files gone, nobody listening. */
    CHECK(!s_exists(t.dir, "rpc.cookie"));
    CHECK(!s_exists(t.dir, "rpc.addr"));
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)t.port);
    node_rpc_client_t *c = node_rpc_client_new(text, NULL, err, sizeof err);
    CHECK(c != NULL);
    json_t *result = NULL;
    CHECK_EQ(node_rpc_client_call(c, "echo", NULL, 1000, &result, err, sizeof err), NODE_E_CONNECT);
    snprintf(expect, sizeof expect, "cannot connect to node at 127.0.0.1:%u: Connection refused",
             (unsigned)t.port);
    CHECK(strcmp(err, expect) == 0);
    node_rpc_client_destroy(&c);
    CHECK(node_rpc_client_from_datadir(t.dir, err, sizeof err) == NULL);
    snprintf(expect, sizeof expect,
             "cannot read %s/rpc.addr: no such file (is genie-node running with --datadir %s?)",
             t.dir, t.dir);
    CHECK(strcmp(err, expect) == 0);

    testutil_rmtree(t.dir);
    testutil_rmtree(other);
    curl_global_cleanup();
    return testutil_done("test_rpc");
}
