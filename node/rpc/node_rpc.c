/*  node_rpc: the node's JSON-RPC 2.0 control API over HTTP on loopback (see node_rpc.h).
 *
 *  The file has two halves that share one contract:
 *  - the HTTP half runs on libmicrohttpd's threads (one thread per connection). It checks
 *    the HTTP method, path, credentials and size before reading the body, then parses and
 *    validates the JSON-RPC envelope, runs the optional prepare step (node_rpc.h), and
 *    forwards each valid request as JSON text (plus the prepare step's attachment as a
 *    second frame, which only this code ever adds) to the
 *    main thread over the connection's DEALER connected to the rpc's inproc ROUTER,
 *    waiting (bounded) for the answer. The DEALER lives as long as the HTTP connection
 *    (creating one per request cost more than a small request itself), unless a request
 *    gave up waiting: then it is dropped with whatever late answer may still come;
 *  - the main-loop half (node_rpc_dispatch) drains the ROUTER without blocking, calls the
 *    handler and sends each DEALER back the serialized JSON-RPC response.
 *  Every JSON-RPC response object is built by node_rpc_response_text(), on either side.
 *
 *  Decisions:
 *  - a notification (no "id") is run but not answered: HTTP 204 with no body; a batch
 *    answers only its non-notification elements, and a batch of notifications only is a 204;
 *  - a batch holds 1..32 elements, handled in order; an empty or bigger batch is answered
 *    with one -32600 error;
 *  - JSON-RPC answers, errors included, are HTTP 200; other HTTP statuses are kept for
 *    refusals before JSON-RPC: 401 (credentials), 404 (path), 405 (method), 413 (size),
 *    each with a JSON-RPC error body (id null);
 *  - a body larger than 1 MiB announced by Content-Length is refused with 413 before it is
 *    read; a chunked body that grows past 1 MiB gets the connection closed;
 *  - a body of Content-Type NODE_RPC_BINARY_TYPE is one JSON-RPC request (not a batch), a
 *    NUL byte, then a binary part of any bytes (node_rpc.h): the part is offered to the
 *    prepare step, which alone may turn it into the attachment (by copying it); a part no
 *    prepare step takes is refused with -32602, so a handler still sees only what a
 *    prepare step made. It spares bulk bytes (an enclave call's sealed record) the JSON
 *    text, the hex and their parsing on both sides.
 */
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_int.h"
#include "node/rpc/node_rpc_os.h"

#include "proto/proto_log.h"
#include "proto/proto_err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <strings.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_COOKIE_USER "__cookie__"
#define S_TOKEN_BYTES 32
#define S_TOKEN_HEX 64
_Static_assert(S_TOKEN_HEX == 2 * S_TOKEN_BYTES, "hex is two chars a byte");
#define S_MAX_BODY ((size_t)1 << 20) /* 1 MiB */
#define S_MAX_BATCH 32
#define S_MAX_METHOD 64
#define S_MAX_CONNECTIONS 160u /* one thread each */
#define S_MAX_UNAUTH 128u      /* connections not yet authenticated; more are refused */
#define S_UNAUTH_TIMEOUT_S 2u  /* idle time allowed before a connection authenticates */
#define S_CONN_TIMEOUT_S 30u   /* idle time allowed to an authenticated connection */
#define S_REPLY_TIMEOUT_MS 60000
#define S_WAIT_SLICE_MS 100
#define S_REALM "genie"

/*  Per-connection state, for the connection's life (the MHD socket context): its DEALER
 *  and whether it has authenticated. */
typedef struct {
    zsock_t *dealer;
    bool authed;
} s_link_t;

/*  Per-connection state of one HTTP request, owned by its MHD thread. */
typedef struct {
    char *body;
    size_t len;
    size_t cap;
    bool answered; /* a refusal was queued before the body */
    bool binary;   /* Content-Type NODE_RPC_BINARY_TYPE: JSON, NUL, binary part */
} s_conn_t;

static const char *s_code_message(int code)
{
    switch (code) {
    case NODE_RPC_E_PARSE:
        return "parse error";
    case NODE_RPC_E_INVALID_REQUEST:
        return "invalid request";
    case NODE_RPC_E_METHOD:
        return "method not found";
    case NODE_RPC_E_PARAMS:
        return "invalid params";
    case NODE_RPC_E_INTERNAL:
        return "internal error";
    case NODE_RPC_E_UNAUTHORIZED:
        return "unauthorized";
    default:
        return "error";
    }
}

/*  The one place JSON-RPC responses are made. Builds and serializes a response holding
 *  RESULT when it is non-NULL (stolen), else an error with CODE and MESSAGE (NULL: the
 *  code's standard message). ID is borrowed; NULL stands for null. Returns a malloc'd
 *  string (caller frees), or NULL if memory ran out. */
char *node_rpc_response_text(json_t *id, json_t *result, int code, const char *message)
{
    json_t *resp = json_object();
    if (!resp) {
        json_decref(result);
        return NULL;
    }
    json_object_set_new(resp, "jsonrpc", json_string("2.0"));
    if (result) {
        json_object_set_new(resp, "result", result);
    } else {
        json_t *msg = json_string(message && *message ? message : s_code_message(code));
        if (!msg) /* not UTF-8: a handler bug, but the client still deserves an answer */
            msg = json_string(s_code_message(code));
        json_t *error = json_object();
        json_object_set_new(error, "code", json_integer(code));
        json_object_set_new(error, "message", msg);
        json_object_set_new(resp, "error", error);
    }
    json_object_set(resp, "id", id ? id : json_null());
    char *text = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    return text;
}

/* ---------------------------------------------------------------- HTTP-thread half */

/*  Returns NULL when REQ is a valid JSON-RPC 2.0 request, else why not. Sets *ID to the
 *  request's id (borrowed) when it has a well-typed one, NULL otherwise. */
static const char *s_request_check(json_t *req, json_t **id)
{
    *id = NULL;
    if (!json_is_object(req))
        return "request must be an object";
    json_t *v = json_object_get(req, "id");
    if (v && !json_is_string(v) && !json_is_number(v) && !json_is_null(v))
        return "id must be a string, a number or null";
    *id = v;
    v = json_object_get(req, "jsonrpc");
    if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
        return "jsonrpc must be \"2.0\"";
    v = json_object_get(req, "method");
    if (!json_is_string(v))
        return "method must be a string";
    if (json_string_length(v) > S_MAX_METHOD)
        return "method name too long";
    for (const unsigned char *p = (const unsigned char *)json_string_value(v); *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return "method name has control characters";
    v = json_object_get(req, "params");
    if (v && !json_is_array(v) && !json_is_object(v))
        return "params must be an array or an object";
    return NULL;
}

/*  True, with the reason in ERR, when a request must stop waiting for the main thread. */
static bool s_gave_up(node_rpc_t *self, int64_t deadline, char *err, size_t err_cap)
{
    if (atomic_load(&self->stopping))
        proto_err_fail(err, err_cap, NODE_E_BUSY, "node shutting down");
    else if (zclock_mono() >= deadline)
        proto_err_fail(err, err_cap, NODE_E_BUSY, "node busy");
    else
        return false;
    return true;
}

/*  Sends TEXT to the main thread and waits for its answer until DEADLINE (zclock_mono).
 *  *DEALER_P is created on first use; the caller destroys it. Returns 0 and sets *REPLY
 *  (malloc'd, NULL for an empty answer), or NODE_E_BUSY (shutting down, the
 *  deadline passed) or NODE_E_FAILED with the reason in ERR. Once a request has given up it
 *  sends nothing more, so a late answer is never taken for the next one. */
static int s_bridge(node_rpc_t *self, zsock_t **dealer_p, const char *text, const void *att,
                    size_t att_len, int64_t deadline, char **reply, char *err, size_t err_cap)
{
    *reply = NULL;
    if (s_gave_up(self, deadline, err, err_cap))
        return NODE_E_BUSY;
    if (!*dealer_p) {
        *dealer_p = zsock_new(ZMQ_DEALER);
        if (!*dealer_p)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error");
        zsock_set_linger(*dealer_p, 0);
        zsock_set_sndtimeo(*dealer_p, S_WAIT_SLICE_MS);
        zsock_set_rcvtimeo(*dealer_p, S_WAIT_SLICE_MS);
        if (zsock_connect(*dealer_p, "%s", self->endpoint) != 0)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error");
    }
    /* zmq_send copies its data, so a send that timed out (queue full) can be retried; the
     * second frame of a multipart message is queued at once once the first one was. */
    while (zmq_send(zsock_resolve(*dealer_p), text, strlen(text), att ? ZMQ_SNDMORE : 0) < 0) {
        if (errno != EAGAIN && errno != EINTR)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error");
        if (s_gave_up(self, deadline, err, err_cap))
            return NODE_E_BUSY;
    }
    while (att && zmq_send(zsock_resolve(*dealer_p), att, att_len, 0) < 0) {
        if (errno != EAGAIN && errno != EINTR)
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error");
        if (s_gave_up(self, deadline, err, err_cap))
            return NODE_E_BUSY;
    }
    for (;;) {
        zframe_t *answer = zframe_recv(*dealer_p);
        if (answer) {
            size_t n = zframe_size(answer);
            if (n > 0 && (*reply = malloc(n + 1))) {
                memcpy(*reply, zframe_data(answer), n);
                (*reply)[n] = '\0';
            }
            zframe_destroy(&answer);
            if (n > 0 && !*reply)
                return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error");
            return 0;
        }
        if (errno != EAGAIN && errno != EINTR) /* context terminated */
            return proto_err_fail(err, err_cap, NODE_E_FAILED, "internal error");
        if (s_gave_up(self, deadline, err, err_cap)) /* a wait slice ran out */
            return NODE_E_BUSY;
    }
}

/*  Handles one request object, with the client's binary part BIN (BIN_LEN bytes, owned by
 *  the caller; NULL: none). Returns 0 and sets *OUT to the response text (malloc'd) or NULL
 *  when nothing is to be answered (a notification); NODE_E_NOMEM if memory ran out. */
static int s_handle_one(node_rpc_t *self, zsock_t **dealer_p, int64_t deadline, json_t *req,
                        void *bin, size_t bin_len, char **out)
{
    json_t *id;
    const char *why = s_request_check(req, &id);
    *out = NULL;
    if (why) {
        GLOG(DEBUG, RPC, "invalid request: %s", why);
        *out = node_rpc_response_text(id, NULL, NODE_RPC_E_INVALID_REQUEST, why);
        return *out ? 0 : NODE_E_NOMEM;
    }
    /* the attachment starts as the client's part: only a prepare step's own buffer, never
     * that part itself, goes on to the handler (node_rpc.h) */
    void *att = bin;
    size_t att_len = bin ? bin_len : 0;
    if (self->prepare) {
        json_t *params = json_object_get(req, "params"), *new_params = NULL;
        int code = 0;
        char msg[256] = "";
        if (self->prepare(self->ctx, json_string_value(json_object_get(req, "method")), params,
                          &new_params, &att, &att_len, &code, msg, sizeof msg) != 0) {
            if (att != bin)
                free(att);
            json_decref(new_params);
            msg[sizeof msg - 1] = '\0';
            if (!id)
                return 0;
            *out = node_rpc_response_text(id, NULL, code ? code : NODE_RPC_E_INTERNAL, msg);
            return *out ? 0 : NODE_E_NOMEM;
        }
        if (new_params && json_object_set_new(req, "params", new_params) != 0) {
            if (att != bin)
                free(att);
            return NODE_E_NOMEM;
        }
    }
    if (bin && att == bin) {
        GLOG(DEBUG, RPC, "refused a binary part no prepare step takes");
        if (!id)
            return 0;
        *out =
            node_rpc_response_text(id, NULL, NODE_RPC_E_PARAMS, "this method takes no binary part");
        return *out ? 0 : NODE_E_NOMEM;
    }
    char *text = json_dumps(req, JSON_COMPACT);
    if (!text) {
        free(att); /* never BIN here */
        return NODE_E_NOMEM;
    }
    char why_not[64] = "internal error"; /* also the answer to an empty reply */
    int rc = s_bridge(self, dealer_p, text, att, att_len, deadline, out, why_not, sizeof why_not);
    free(text);
    free(att);
    if (rc != 0) /* an answer may still come: never take it for the next request */
        zsock_destroy(dealer_p);
    if (rc == 0 && (*out || !id))
        return 0;
    if (rc != 0)
        GLOG(DEBUG, RPC, "request not handled: %s", why_not);
    if (!id)
        return 0;
    *out = node_rpc_response_text(id, NULL, NODE_RPC_E_INTERNAL, why_not);
    return *out ? 0 : NODE_E_NOMEM;
}

/*  Answers a batch: "[r1,r2,...]" of the non-notification elements, in order; *OUT is
 *  NULL when all were notifications. Returns 0, or NODE_E_NOMEM if memory ran out. */
static int s_handle_batch(node_rpc_t *self, zsock_t **dealer_p, int64_t deadline, json_t *doc,
                          char **out)
{
    char *parts[S_MAX_BATCH] = {0};
    size_t n = json_array_size(doc), total = 2, count = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = s_handle_one(self, dealer_p, deadline, json_array_get(doc, i), NULL, 0, &parts[i]);
        if (parts[i]) {
            total += strlen(parts[i]) + 1;
            count++;
        }
    }
    *out = NULL;
    if (rc == 0 && count > 0 && !(*out = malloc(total)))
        rc = NODE_E_NOMEM;
    if (rc == 0 && count > 0) {
        char *p = *out;
        *p++ = '[';
        for (size_t i = 0; i < n; i++) {
            if (!parts[i])
                continue;
            if (p != *out + 1)
                *p++ = ',';
            size_t len = strlen(parts[i]);
            memcpy(p, parts[i], len);
            p += len;
        }
        *p++ = ']';
        *p = '\0';
    }
    for (size_t i = 0; i < n; i++)
        free(parts[i]);
    return rc;
}

/*  Answers a parsed body (a request or a batch; with a binary part BIN of BIN_LEN bytes, or
 *  NULL) through *DEALER_P (the connection's, made on first use). Same contract as
 *  s_handle_batch. */
static int s_handle_doc(node_rpc_t *self, zsock_t **dealer_p, json_t *doc, void *bin,
                        size_t bin_len, char **out)
{
    int64_t deadline = zclock_mono() + S_REPLY_TIMEOUT_MS;
    int rc;
    size_t n = json_array_size(doc);
    if (!json_is_array(doc)) {
        rc = s_handle_one(self, dealer_p, deadline, doc, bin, bin_len, out);
    } else if (bin) {
        *out = node_rpc_response_text(NULL, NULL, NODE_RPC_E_INVALID_REQUEST,
                                      "a binary part goes with one request, not a batch");
        rc = *out ? 0 : NODE_E_NOMEM;
    } else if (n == 0 || n > S_MAX_BATCH) {
        *out = node_rpc_response_text(NULL, NULL, NODE_RPC_E_INVALID_REQUEST,
                                      n == 0 ? "empty batch"
                                             : "batch too large (at most 32 requests)");
        rc = *out ? 0 : NODE_E_NOMEM;
    } else {
        rc = s_handle_batch(self, dealer_p, deadline, doc, out);
    }
    return rc;
}

/*  Queues an HTTP answer with BODY (freed here; NULL for an empty body). */
static enum MHD_Result s_answer(struct MHD_Connection *conn, unsigned int status, char *body)
{
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
    free(body);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ret = MHD_YES;
    if (len > 0)
        ret = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (ret == MHD_YES && status == MHD_HTTP_METHOD_NOT_ALLOWED)
        ret = MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "POST");
    if (ret == MHD_YES && status == MHD_HTTP_UNAUTHORIZED)
        ret = MHD_queue_basic_auth_fail_response(conn, S_REALM, resp);
    else if (ret == MHD_YES)
        ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/*  Queues an HTTP refusal carrying a JSON-RPC error body with id null. */
static enum MHD_Result s_refuse(struct MHD_Connection *conn, s_conn_t *c, unsigned int status,
                                int code, const char *message)
{
    char *body = node_rpc_response_text(NULL, NULL, code, message);
    if (!body)
        return MHD_NO;
    c->answered = true;
    return s_answer(conn, status, body);
}

/*  True when the request carries Basic credentials __cookie__:<token>. The password is
 *  compared in constant time and wiped. */
static bool s_authorized(const node_rpc_t *self, struct MHD_Connection *conn)
{
    char *password = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &password);
    bool ok = user && password && strcmp(user, S_COOKIE_USER) == 0 &&
              strlen(password) == S_TOKEN_HEX &&
              sodium_memcmp(password, self->token, S_TOKEN_HEX) == 0;
    if (password) {
        sodium_memzero(password, strlen(password));
        MHD_free(password);
    }
    if (user)
        MHD_free(user);
    return ok;
}

/*  The connection's s_link_t, or NULL if it could not be allocated. */
static s_link_t *s_link(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/*  Checks made once the headers are in, before any of the body is read. */
static enum MHD_Result s_on_headers(node_rpc_t *self, struct MHD_Connection *conn, s_conn_t *c,
                                    const char *url, const char *method)
{
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return s_refuse(conn, c, MHD_HTTP_METHOD_NOT_ALLOWED, NODE_RPC_E_INVALID_REQUEST,
                        "only POST is accepted");
    if (strcmp(url, "/") != 0)
        return s_refuse(conn, c, MHD_HTTP_NOT_FOUND, NODE_RPC_E_INVALID_REQUEST,
                        "no such path; POST to /");
    if (!s_authorized(self, conn)) {
        GLOG(DEBUG, RPC, "refused a request without valid credentials");
        return s_refuse(conn, c, MHD_HTTP_UNAUTHORIZED, NODE_RPC_E_UNAUTHORIZED, "unauthorized");
    }
    const char *type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t tlen = sizeof NODE_RPC_BINARY_TYPE - 1;
    c->binary = type && strncasecmp(type, NODE_RPC_BINARY_TYPE, tlen) == 0 &&
                (type[tlen] == '\0' || type[tlen] == ';' || type[tlen] == ' ');
    s_link_t *link = s_link(conn);
    if (link && !link->authed) {
        link->authed = true;
        atomic_fetch_sub(&self->unauth, 1);
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, S_CONN_TIMEOUT_S);
    }
    const char *length =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(length, &end, 10);
        if (end != length && (errno == ERANGE || n > S_MAX_BODY))
            return s_refuse(conn, c, MHD_HTTP_CONTENT_TOO_LARGE, NODE_RPC_E_INVALID_REQUEST,
                            "request too large (at most 1 MiB)");
    }
    return MHD_YES;
}

static enum MHD_Result s_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **con_cls)
{
    node_rpc_t *self = cls;
    s_conn_t *c = *con_cls;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        return s_on_headers(self, conn, c, url, method);
    }
    if (c->answered) {
        *upload_data_size = 0; /* discard whatever MHD still hands us */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        if (n > S_MAX_BODY - c->len) {
            /* microhttpd 0.9.75 cannot queue an answer in the middle of an upload, so a
             * chunked body past the limit (Content-Length ones were refused with 413
             * before reading) ends the connection: reading stops here. */
            GLOG(DEBUG, RPC, "closing a connection whose body passed 1 MiB");
            return MHD_NO;
        }
        if (c->len + n > c->cap) {
            size_t cap = c->cap ? c->cap : 4096;
            while (cap < c->len + n)
                cap *= 2;
            char *body = realloc(c->body, cap);
            if (!body)
                return MHD_NO;
            c->body = body;
            c->cap = cap;
        }
        memcpy(c->body + c->len, upload_data, n);
        c->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* The whole body is in: JSON text, or with a binary type JSON text, NUL, binary part. */
    json_error_t jerr;
    size_t json_len = c->len;
    void *bin = NULL;
    size_t bin_len = 0;
    if (c->binary) {
        char *nul = c->body ? memchr(c->body, '\0', c->len) : NULL;
        json_len = nul ? (size_t)(nul - c->body) : 0; /* no NUL: a parse error below */
        bin = nul ? nul + 1 : NULL;
        bin_len = nul ? c->len - json_len - 1 : 0;
    }
    json_t *doc = json_loadb(c->body ? c->body : "", json_len,
                             JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    char *out = NULL;
    int rc;
    if (!doc) {
        /* jerr.text can quote the body, which may hold secrets: log the position only. */
        GLOG(DEBUG, RPC, "unparsable request (line %d, column %d)", jerr.line, jerr.column);
        out = node_rpc_response_text(NULL, NULL, NODE_RPC_E_PARSE, "parse error");
        rc = out ? 0 : NODE_E_NOMEM;
    } else {
        s_link_t *link = s_link(conn);
        zsock_t *scratch = NULL, **dealer_p = link ? &link->dealer : &scratch;
        rc = s_handle_doc(self, dealer_p, doc, bin, bin_len, &out);
        zsock_destroy(&scratch);
        json_decref(doc);
    }
    if (rc != 0)
        return MHD_NO;
    return s_answer(conn, out ? MHD_HTTP_OK : MHD_HTTP_NO_CONTENT, out);
}

static void s_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    s_conn_t *c = *con_cls;
    if (c) {
        free(c->body);
        free(c);
        *con_cls = NULL;
    }
}

/*  A connection's context is its s_link_t (see the top of the file): made when the
 *  connection opens, its DEALER destroyed when it closes (on the connection's thread, or
 *  on the one stopping the daemon after that thread ended). Until it authenticates, a
 *  connection counts in self->unauth and may idle only S_UNAUTH_TIMEOUT_S: idle
 *  connections that never show the cookie cannot hold the slots the owner's CLI needs. */
static void s_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode toe)
{
    node_rpc_t *self = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        s_link_t *link = calloc(1, sizeof *link); /* if NULL: one DEALER a request */
        *socket_context = link;
        atomic_fetch_add(&self->unauth, 1);
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, S_UNAUTH_TIMEOUT_S);
        return;
    }
    s_link_t *link = *socket_context;
    if (!link || !link->authed)
        atomic_fetch_sub(&self->unauth, 1);
    if (link) {
        zsock_destroy(&link->dealer);
        free(link);
        *socket_context = NULL;
    }
}

/*  Refuses a new connection while S_MAX_UNAUTH unauthenticated ones are open (they time
 *  out within S_UNAUTH_TIMEOUT_S; the CLI retries a refused connection). */
static enum MHD_Result s_on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    node_rpc_t *self = cls;
    if (atomic_load(&self->unauth) < S_MAX_UNAUTH)
        return MHD_YES;
    uint64_t now = (uint64_t)zclock_mono(), last = atomic_load(&self->refused_log_ms);
    if (now - last >= 10000 && atomic_compare_exchange_strong(&self->refused_log_ms, &last, now))
        GLOG(WARN, RPC,
             "control API: %u connections have not authenticated; refusing new ones until "
             "they time out (%u s)",
             S_MAX_UNAUTH, S_UNAUTH_TIMEOUT_S);
    return MHD_NO;
}

static void s_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    GLOG(DEBUG, RPC, "microhttpd: %s", line);
}

/* ---------------------------------------------------------------- life cycle */

/*  Writes the cookie (mode 0600) and address files. */
static int s_write_files(node_rpc_t *self, const char *datadir, char *err, size_t cap)
{
    char cookie[sizeof S_COOKIE_USER + S_TOKEN_HEX + 1];
    int n = snprintf(cookie, sizeof cookie, "%s:%s", S_COOKIE_USER, self->token);
    int rc = node_rpc_os_write_file(datadir, "rpc.cookie", cookie, (size_t)n, 0600,
                                    self->cookie_path, err, cap);
    sodium_memzero(cookie, sizeof cookie);
    if (rc != 0)
        return NODE_E_FAILED;
    self->cookie_written = true;
    char addr[INET_ADDRSTRLEN + 8];
    n = snprintf(addr, sizeof addr, "%s:%u\n", self->host, (unsigned)self->port);
    if (node_rpc_os_write_file(datadir, "rpc.addr", addr, (size_t)n, 0644, self->addr_path, err,
                               cap) != 0)
        return NODE_E_FAILED;
    self->addr_written = true;
    return 0;
}

node_rpc_t *node_rpc_new(const char *bind, const char *datadir, node_rpc_handler_fn *handler,
                         void *ctx, char *err, size_t err_cap)
{
    return node_rpc_new_prepared(bind, datadir, handler, NULL, ctx, err, err_cap);
}

const void *node_rpc_attachment(const node_rpc_t *self, size_t *len)
{
    *len = self ? self->att_len : 0;
    return self ? self->att : NULL;
}

node_rpc_t *node_rpc_new_prepared(const char *bind, const char *datadir,
                                  node_rpc_handler_fn *handler, node_rpc_prepare_fn *prepare,
                                  void *ctx, char *err, size_t err_cap)
{
    struct sockaddr_in sa;
    char host[INET_ADDRSTRLEN];
    if (!datadir || !handler) {
        proto_err_fail(err, err_cap, NODE_E_FAILED,
                       "node_rpc_new: datadir and handler are required");
        return NULL;
    }
    if (node_rpc_os_parse_bind(bind, &sa, host, err, err_cap) != 0)
        return NULL;
    if (sodium_init() < 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot initialise libsodium");
        return NULL;
    }
    node_rpc_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->handler = handler;
    self->prepare = prepare;
    self->ctx = ctx;
    atomic_init(&self->stopping, false);
    atomic_init(&self->unauth, 0);
    atomic_init(&self->refused_log_ms, 0);
    memcpy(self->host, host, sizeof host);

    self->token = sodium_malloc(S_TOKEN_HEX + 1);
    if (!self->token) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        goto err;
    }
    uint8_t raw[S_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(self->token, S_TOKEN_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);

    snprintf(self->endpoint, sizeof self->endpoint, "inproc://genie-rpc-%p-%08" PRIx32,
             (void *)self, randombytes_random());
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router || zsock_bind(self->router, "%s", self->endpoint) != 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create the RPC bridge socket %s",
                       self->endpoint);
        goto err;
    }
    zsock_set_rcvtimeo(self->router, 0);
    zsock_set_sndtimeo(self->router, 0);

    /* clang-format off */
    self->daemon = MHD_start_daemon(
        MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        0, s_on_accept, self, s_on_request, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
        MHD_OPTION_CONNECTION_LIMIT, S_MAX_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, S_CONN_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, s_on_connection, self,
        MHD_OPTION_END);
    /* clang-format on */
    if (!self->daemon) {
        node_rpc_os_bind_error(&sa, host, err, err_cap);
        goto err;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot learn the RPC port");
        goto err;
    }
    self->port = info->port;
    if (s_write_files(self, datadir, err, err_cap) != 0)
        goto err;
    GLOG(INFO, RPC, "JSON-RPC listening on %s:%u", self->host, (unsigned)self->port);
    return self;
err:
    node_rpc_destroy(&self);
    return NULL;
}

void node_rpc_destroy(node_rpc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_rpc_t *self = *self_p;
    /* Requests waiting for the main loop give up within a wait slice, so stopping the
     * daemon (which joins the connection threads) is quick. */
    atomic_store(&self->stopping, true);
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    for (size_t i = 0; i < NODE_RPC_DEFER_MAX; i++) {
        zframe_destroy(&self->deferred[i].identity);
        json_decref(self->deferred[i].id);
    }
    zsock_destroy(&self->router);
    if (self->cookie_written)
        unlink(self->cookie_path);
    if (self->addr_written)
        unlink(self->addr_path);
    if (self->token)
        sodium_free(self->token); /* wipes */
    free(self);
    *self_p = NULL;
}

zsock_t *node_rpc_socket(node_rpc_t *self)
{
    return self->router;
}

uint16_t node_rpc_port(const node_rpc_t *self)
{
    return self->port;
}
