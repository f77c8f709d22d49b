/*  node_rpc_main: the main-loop half of the control API (see node_rpc.c for the HTTP half):
 *  node_rpc_dispatch drains the bridge ROUTER, runs each request through the handler and
 *  sends the serialized answer back; a handler may instead keep its request open
 *  (node_rpc_defer) and answer it later (node_rpc_complete). Main thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "node/rpc/node_rpc_int.h"
#include "proto/proto_err.h"
#include "proto/proto_log.h"

/*  Runs one forwarded request through the handler. Returns the response text (malloc'd),
 *  or NULL for a notification (or when memory ran out: the HTTP side then answers). */
static char *s_call(node_rpc_t *self, const void *data, size_t size, const void *att,
                    size_t att_len)
{
    json_t *req = json_loadb(data, size, 0, NULL);
    const char *method = json_string_value(json_object_get(req, "method"));
    if (!method) { /* cannot happen: the HTTP side validated it */
        json_decref(req);
        return NULL;
    }
    json_t *params = json_object_get(req, "params");
    json_t *id = json_object_get(req, "id");
    int code = 0;
    char msg[256] = "";
    self->att = att;
    self->att_len = att_len;
    self->cur_id = id;
    self->cur_deferred = false;
    json_t *result = self->handler(self->ctx, method, params, &code, msg, sizeof msg);
    self->att = NULL;
    self->att_len = 0;
    self->cur_id = NULL;
    if (self->cur_deferred) { /* answered later by node_rpc_complete */
        GLOG(DEBUG, RPC, "call %s: answer deferred", method);
        json_decref(result);
        json_decref(req);
        return NULL;
    }
    msg[sizeof msg - 1] = '\0';
    if (!result && code == 0)
        code = NODE_RPC_E_INTERNAL;
    if (result)
        GLOG(DEBUG, RPC, "call %s%s: ok", method, id ? "" : " (notification)");
    else
        GLOG(DEBUG, RPC, "call %s%s: error %d", method, id ? "" : " (notification)", code);
    char *text = NULL;
    if (id)
        text = node_rpc_response_text(id, result, code, msg);
    else
        json_decref(result);
    json_decref(req);
    return text;
}

uint64_t node_rpc_defer(node_rpc_t *self)
{
    if (!self || !self->cur_identity || !self->cur_id || self->cur_deferred)
        return 0;
    for (size_t i = 0; i < NODE_RPC_DEFER_MAX; i++) {
        if (self->deferred[i].token)
            continue;
        zframe_t *identity = zframe_dup(self->cur_identity);
        if (!identity)
            return 0;
        self->deferred[i].token = ++self->next_token;
        self->deferred[i].identity = identity;
        self->deferred[i].id = json_incref(self->cur_id);
        self->cur_deferred = true;
        return self->deferred[i].token;
    }
    return 0;
}

int node_rpc_complete(node_rpc_t *self, uint64_t token, json_t *result, int code,
                      const char *message)
{
    for (size_t i = 0; self && token && i < NODE_RPC_DEFER_MAX; i++) {
        if (self->deferred[i].token != token)
            continue;
        char *text = node_rpc_response_text(self->deferred[i].id, result,
                                            result || code ? code : NODE_RPC_E_INTERNAL, message);
        zmsg_t *reply = zmsg_new();
        if (reply && zmsg_append(reply, &self->deferred[i].identity) == 0 &&
            zmsg_addmem(reply, text, text ? strlen(text) : 0) == 0)
            zmsg_send(&reply, self->router); /* dropped if the requester gave up */
        zmsg_destroy(&reply);
        free(text);
        zframe_destroy(&self->deferred[i].identity);
        json_decref(self->deferred[i].id);
        memset(&self->deferred[i], 0, sizeof self->deferred[i]);
        return 0;
    }
    json_decref(result);
    return NODE_E_NOT_FOUND;
}

void node_rpc_dispatch(node_rpc_t *self)
{
    if (!self)
        return;
    /* rcvtimeo is 0 on the ROUTER, so this stops as soon as nothing is waiting; at most
     * one request per connection is ever in flight, which bounds the loop. */
    zmsg_t *msg;
    while ((msg = zmsg_recv(self->router))) {
        zframe_t *identity = zmsg_pop(msg);
        zframe_t *body = zmsg_pop(msg);
        zframe_t *att = zmsg_pop(msg); /* only ever sent by our own prepare step */
        if (identity && body && zmsg_size(msg) == 0) {
            self->cur_identity = identity;
            char *text = s_call(self, zframe_data(body), zframe_size(body),
                                att ? zframe_data(att) : NULL, att ? zframe_size(att) : 0);
            self->cur_identity = NULL;
            if (self->cur_deferred) {
                self->cur_deferred = false;
                zframe_destroy(&identity);
                zframe_destroy(&body);
                zframe_destroy(&att);
                zmsg_destroy(&msg);
                continue;
            }
            zmsg_t *reply = zmsg_new();
            if (reply && zmsg_append(reply, &identity) == 0 &&
                zmsg_addmem(reply, text, text ? strlen(text) : 0) == 0)
                zmsg_send(&reply, self->router); /* dropped if the requester gave up */
            zmsg_destroy(&reply);
            free(text);
        }
        zframe_destroy(&identity);
        zframe_destroy(&body);
        zframe_destroy(&att);
        zmsg_destroy(&msg);
    }
}
