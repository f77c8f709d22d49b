/*  test_rpc_prepare: node_rpc's prepare step (node_rpc.h). It runs on the HTTP thread,
 *  may replace a request's params and attach bytes that only the handler sees, or refuse
 *  the request without it ever reaching the main loop. A request's binary part
 *  (NODE_RPC_BINARY_TYPE) reaches a handler only through a step that copies it: a part
 *  no step takes, a part with a batch and a binary body without its NUL are refused. The
 *  main thread runs the bridge while a second thread makes the calls. */
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_client.h"
#include "proto/proto_err.h"
#include "testutil.h"

#include <curl/curl.h>
#include <sodium.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char dir[256];
    int handled; /* handler calls (main thread) */
    atomic_int prepared;
    atomic_bool done;
} s_test_t;

/*  "stamp": params {text} become {len}, and the text reversed is attached (a binary part
 *  is dropped); "take": the binary part is copied into the attachment; "deny" is refused
 *  with -32602; anything else passes untouched (a binary part stays where it was). */
static int s_prepare(void *ctx, const char *method, json_t *params, json_t **new_params, void **att,
                     size_t *att_len, int *code, char *msg, size_t cap)
{
    s_test_t *t = ctx;
    atomic_fetch_add(&t->prepared, 1);
    if (strcmp(method, "deny") == 0) {
        *code = NODE_RPC_E_PARAMS;
        snprintf(msg, cap, "denied before the loop");
        return -1;
    }
    if (strcmp(method, "take") == 0 && *att) {
        char *copy = malloc(*att_len + 1);
        if (!copy)
            return -1;
        memcpy(copy, *att, *att_len); /* the server's part: copied, never kept */
        *att = copy;
        return 0;
    }
    if (strcmp(method, "stamp") != 0)
        return 0;
    const char *text = json_string_value(json_object_get(params, "text"));
    size_t n = text ? strlen(text) : 0;
    char *r = malloc(n + 1);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++)
        r[i] = text[n - 1 - i];
    *att = r;
    *att_len = n;
    *new_params = json_pack("{s:I}", "len", (json_int_t)n);
    return 0;
}

static node_rpc_t *g_rpc; /* the server (main thread) */

/*  Every method answers {params, attachment (string, or null), attachment_hex}: a part
 *  with a NUL is read in hex (a JSON string cannot carry one). */
static json_t *s_handler(void *ctx, const char *method, json_t *params, int *code, char *msg,
                         size_t cap)
{
    s_test_t *t = ctx;
    t->handled++;
    size_t len;
    const char *att = node_rpc_attachment(g_rpc, &len);
    char hex[64] = "";
    if (att && len < sizeof hex / 2)
        sodium_bin2hex(hex, sizeof hex, (const unsigned char *)att, len);
    bool text = att && !memchr(att, '\0', len);
    return json_pack("{s:O?,s:o,s:s}", "params", params, "attachment",
                     text ? json_stringn(att, len) : json_null(), "attachment_hex", hex);
}

static size_t s_collect(char *p, size_t size, size_t n, void *userp)
{
    char **buf = userp;
    size_t have = *buf ? strlen(*buf) : 0;
    char *d = realloc(*buf, have + size * n + 1);
    if (!d)
        return 0;
    memcpy(d + have, p, size * n);
    d[have + size * n] = '\0';
    *buf = d;
    return size * n;
}

/*  POSTs BODY (LEN bytes) as NODE_RPC_BINARY_TYPE to the server of datadir DIR with its
 *  cookie; the JSON-RPC error code of the answer (0: none, -1: no answer). */
static int s_raw_binary(const char *dir, const char *body, size_t len)
{
    char path[512], addr[64] = "", cookie[160] = "", url[96];
    snprintf(path, sizeof path, "%s/rpc.addr", dir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(addr, sizeof addr, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    addr[strcspn(addr, "\n")] = '\0';
    snprintf(path, sizeof path, "%s/rpc.cookie", dir);
    f = fopen(path, "r");
    if (!f || !fgets(cookie, sizeof cookie, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    snprintf(url, sizeof url, "http://%s/", addr);
    CURL *c = curl_easy_init();
    char *out = NULL;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: " NODE_RPC_BINARY_TYPE);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERPWD, cookie);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    int code = -1;
    if (curl_easy_perform(c) == CURLE_OK && out) {
        json_t *doc = json_loads(out, JSON_DECODE_ANY, NULL);
        code = doc ? (int)json_integer_value(json_object_get(json_object_get(doc, "error"), "code"))
                   : -1;
        json_decref(doc);
    }
    free(out);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return code;
}

/*  The binary part's calls (counted in main: 4 prepared, 2 handled). */
static void s_binary_calls(s_test_t *t, node_rpc_client_t *c)
{
    char err[256] = "";
    json_t *r = NULL;
    const char part[] = {'a', 'b', '\0', 'c', 'd'}; /* bytes, a NUL among them */
    /* a step that takes the part hands the handler exactly its bytes */
    CHECK_EQ(node_rpc_client_call_bin(c, "take", json_pack("{s:s}", "x", "y"), part, sizeof part, 0,
                                      &r, err, sizeof err),
             0);
    const char *a = json_string_value(json_object_get(r, "attachment_hex"));
    CHECK(a && strcmp(a, "6162006364") == 0);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(r, "params"), "x")), "y") == 0);
    json_decref(r);
    r = NULL;
    /* a part no step takes never reaches the handler */
    CHECK_EQ(node_rpc_client_call_bin(c, "plain", NULL, part, sizeof part, 0, &r, err, sizeof err),
             NODE_E_RPC);
    CHECK_EQ(node_rpc_client_last_code(c), NODE_RPC_E_PARAMS);
    CHECK(r == NULL && strstr(err, "takes no binary part") != NULL);
    /* a step that refuses: the server's part is not the step's to free (ASan checks) */
    CHECK_EQ(node_rpc_client_call_bin(c, "deny", NULL, part, sizeof part, 0, &r, err, sizeof err),
             NODE_E_RPC);
    CHECK(r == NULL && strstr(err, "denied before the loop") != NULL);
    /* a step that makes its own attachment: that one goes on, the part is dropped */
    CHECK_EQ(node_rpc_client_call_bin(c, "stamp", json_pack("{s:s}", "text", "genie"), part,
                                      sizeof part, 0, &r, err, sizeof err),
             0);
    CHECK(strcmp(json_string_value(json_object_get(r, "attachment")), "eineg") == 0);
    json_decref(r);
    /* refused before any step: a batch with a part, a binary body without its NUL */
    const char batch[] = "[{\"jsonrpc\":\"2.0\",\"method\":\"take\",\"id\":1}]\0ab";
    CHECK_EQ(s_raw_binary(t->dir, batch, sizeof batch - 1), NODE_RPC_E_INVALID_REQUEST);
    const char no_nul[] = "{\"jsonrpc\":\"2.0\",\"method\":\"take\",\"id\":1}";
    CHECK_EQ(s_raw_binary(t->dir, no_nul, sizeof no_nul - 1), NODE_RPC_E_PARSE);
}

static void *s_client_main(void *arg)
{
    s_test_t *t = arg;
    char err[256] = "";
    json_t *r = NULL;
    node_rpc_client_t *c = node_rpc_client_from_datadir(t->dir, err, sizeof err);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ(node_rpc_client_call(c, "stamp", json_pack("{s:s}", "text", "genie"), 0, &r, err,
                                      sizeof err),
                 0);
        CHECK_EQ(json_integer_value(json_object_get(json_object_get(r, "params"), "len")), 5);
        CHECK(json_object_get(json_object_get(r, "params"), "text") == NULL);
        CHECK(strcmp(json_string_value(json_object_get(r, "attachment")), "eineg") == 0);
        json_decref(r);
        /* a client cannot hand the handler an attachment: it only ever sees params */
        CHECK_EQ(node_rpc_client_call(c, "plain", json_pack("{s:s}", "attachment", "forged"), 0, &r,
                                      err, sizeof err),
                 0);
        CHECK(json_is_null(json_object_get(r, "attachment")));
        CHECK(strcmp(json_string_value(json_object_get(json_object_get(r, "params"), "attachment")),
                     "forged") == 0);
        json_decref(r);
        r = NULL;
        CHECK_EQ(node_rpc_client_call(c, "deny", NULL, 0, &r, err, sizeof err), NODE_E_RPC);
        CHECK_EQ(node_rpc_client_last_code(c), NODE_RPC_E_PARAMS);
        CHECK(r == NULL && strstr(err, "denied before the loop") != NULL);
        /* the attachment of one call does not leak into the next */
        CHECK_EQ(node_rpc_client_call(c, "plain", NULL, 0, &r, err, sizeof err), 0);
        CHECK(json_is_null(json_object_get(r, "attachment")));
        json_decref(r);
        s_binary_calls(t, c);
        node_rpc_client_destroy(&c);
    }
    atomic_store(&t->done, true);
    return NULL;
}

int main(void)
{
    s_test_t t = {.handled = 0};
    atomic_init(&t.prepared, 0);
    atomic_init(&t.done, false);
    snprintf(t.dir, sizeof t.dir, "%s", testutil_tmpdir());
    char err[512];
    g_rpc = node_rpc_new_prepared("127.0.0.1:0", t.dir, s_handler, s_prepare, &t, err, sizeof err);
    CHECK(g_rpc != NULL);
    if (!g_rpc) {
        fprintf(stderr, "node_rpc_new_prepared: %s\n", err);
        return testutil_done("test_rpc_prepare");
    }
    size_t len = 99;
    CHECK(node_rpc_attachment(g_rpc, &len) == NULL && len == 0); /* outside a handler */
    pthread_t client;
    /* checked after the join: CHECK's counters are not shared with a running client */
    int started = pthread_create(&client, NULL, s_client_main, &t);
    if (started != 0)
        atomic_store(&t.done, true);
    zpoller_t *poller = zpoller_new(node_rpc_socket(g_rpc), NULL);
    while (!atomic_load(&t.done)) {
        zpoller_wait(poller, 20);
        node_rpc_dispatch(g_rpc);
    }
    if (started == 0)
        pthread_join(client, NULL);
    CHECK_EQ(started, 0);
    zpoller_destroy(&poller);
    CHECK_EQ(atomic_load(&t.prepared), 8);
    CHECK_EQ(t.handled, 5); /* "deny" and the untaken part never reached the loop */
    node_rpc_destroy(&g_rpc);
    testutil_rmtree(t.dir);
    return testutil_done("test_rpc_prepare");
}
