/*  test_rpc_prepare: node_rpc's prepare step (node_rpc.h). It runs on the HTTP thread,
 *  may replace a request's params and attach bytes that only the handler sees, or refuse
 *  the request without it ever reaching the main loop. The main thread runs the bridge
 *  while a second thread makes the calls. */
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_client.h"
#include "proto/proto_err.h"
#include "testutil.h"

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

/*  "stamp": params {text} become {len}, and the text reversed is attached; "deny" is
 *  refused with -32602; anything else passes untouched. */
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

/*  Every method answers {params, attachment (string or null)}. */
static json_t *s_handler(void *ctx, const char *method, json_t *params, int *code, char *msg,
                         size_t cap)
{
    s_test_t *t = ctx;
    t->handled++;
    size_t len;
    const char *att = node_rpc_attachment(g_rpc, &len);
    return json_pack("{s:O?,s:o}", "params", params, "attachment",
                     att ? json_stringn(att, len) : json_null());
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
    CHECK_EQ(atomic_load(&t.prepared), 4);
    CHECK_EQ(t.handled, 3); /* "deny" never reached the loop */
    node_rpc_destroy(&g_rpc);
    testutil_rmtree(t.dir);
    return testutil_done("test_rpc_prepare");
}
