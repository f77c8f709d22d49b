/*  node_enclave_rpc: the enclave-runner RPC methods (listed in node_enclave.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_measure.h"
#include "ledger/ledger_contract.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_enclave_int.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"

static node_enclave_t *s_runner(node_app_t *app, int *code, char *err, size_t cap)
{
    node_enclave_t *self = node_app_enclave(app);
    if (!self)
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      "this node is not an enclave runner (start it with --role enclave-runner)");
    return self;
}

static const char *s_status(const ne_slot_t *s)
{
    if (s->stopped)
        return "stopped";
    if (enclave_host_given_up(s->host))
        return "given-up";
    return enclave_host_running(s->host) ? "running" : "restarting";
}

static json_t *s_registration(const node_enclave_t *self, const ne_slot_t *s)
{
    static const char *const names[] = {"none", "pending", "submitted", "registered", "refused"};
    if (s->reg == REG_REFUSED || (s->reg != REG_DONE && s->why[0]))
        return json_sprintf("%s: %s", names[s->reg], s->why);
    if (s->reg == REG_PENDING && !self->runner_key)
        return json_string("pending (no certificate naming a runner account held here)");
    return json_string(names[s->reg]);
}

static json_t *m_local(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    (void)method;
    (void)params;
    node_enclave_t *self = s_runner(app, code, err, cap);
    if (!self)
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        const ne_slot_t *s = &self->slots[i];
        if (!s->used)
            continue;
        uint8_t m[32];
        enclave_host_measurement(s->host, m);
        json_t *o = json_object();
        json_object_set_new(o, "local", json_integer(s->local));
        json_object_set_new(o, "id", s->have_quote ? node_rpc_hex(s->id, 32) : json_null());
        json_object_set_new(o, "kind", json_string(enclave_kind_name(s->kind)));
        json_object_set_new(o, "pid", json_integer(enclave_host_pid(s->host)));
        json_object_set_new(o, "status", json_string(s_status(s)));
        json_object_set_new(o, "restarts", json_integer(enclave_host_restarts(s->host)));
        json_object_set_new(o, "registered_height", json_integer((json_int_t)s->reg_height));
        json_object_set_new(o, "registration", s_registration(self, s));
        json_object_set_new(o, "measurement", node_rpc_hex(m, 32));
        json_object_set_new(o, "calls", json_integer((json_int_t)s->q_n));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *m_spawn(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    (void)method;
    node_enclave_t *self = s_runner(app, code, err, cap);
    const char *name = self ? node_rpc_param_str(params, "kind", 0, code, err, cap) : NULL;
    if (!name)
        return NULL;
    enclave_kind_t kind;
    if (enclave_kind_parse(name, &kind) != 0)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "kind: validation, training or query");
    uint32_t local = 0;
    char msg[256];
    int rc = node_enclave_spawn(self, kind, &local, msg, sizeof msg);
    if (rc != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "cannot spawn: %s", msg);
    const ne_slot_t *s = NULL;
    for (size_t i = 0; i < NODE_ENCLAVE_MAX && !s; i++)
        if (self->slots[i].used && self->slots[i].local == local)
            s = &self->slots[i];
    return json_pack("{s:i, s:s, s:i, s:o}", "local", (int)local, "kind", name, "pid",
                     (int)enclave_host_pid(s->host), "id", node_rpc_hex(s->id, 32));
}

static json_t *m_stop(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                      size_t cap)
{
    (void)method;
    node_enclave_t *self = s_runner(app, code, err, cap);
    json_t *v = self ? node_rpc_param(params, "id", 0) : NULL;
    if (!self)
        return NULL;
    char text[80];
    if (json_is_integer(v))
        snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(text, sizeof text, "%s", json_string_value(v));
    else
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "id: a local enclave number or an enclave id (hex)");
    ne_slot_t *s = ne_slot_find(self, text);
    if (!s || s->stopped)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no running enclave %.70s here", text);
    int status = -1;
    ne_slot_stop(self, s, &status); /* its queued calls fail */
    GLOG(INFO, NODE, "enclave %u stopped on request", s->local);
    ne_retire_queue(self, s, true); /* its registration, and any earlier one not retired yet */
    ne_retire_ready(self, s->local);
    return json_pack("{s:b, s:i}", "stopped", 1, "local", (int)s->local);
}

static json_t *m_platform(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap)
{
    (void)method;
    (void)params;
    node_enclave_t *self = s_runner(app, code, err, cap);
    if (!self)
        return NULL;
    uint8_t pk[32];
    enclave_platform_pubkey(self->platform, pk);
    const proto_attest_cert_t *c = enclave_platform_cert(self->platform);
    json_t *o = json_pack("{s:o, s:s, s:b}", "platform_pk", node_rpc_hex(pk, 32), "backend",
                          enclave_platform_backend(self->platform), "certified", c != NULL);
    if (c) {
        json_object_set_new(o, "runner_account", node_rpc_hex(c->runner_account, 32));
        json_object_set_new(o, "runner_name", json_string(c->runner_name));
        json_object_set_new(o, "expires_ms", json_integer((json_int_t)c->expires_ms));
    }
    return o;
}

static json_t *m_cert_install(node_app_t *app, const char *method, json_t *params, int *code,
                              char *err, size_t cap)
{
    node_enclave_t *self = s_runner(app, code, err, cap);
    const char *hex = self ? node_rpc_param_str(params, "cert", 0, code, err, cap) : NULL;
    if (!hex)
        return NULL;
    size_t n = strlen(hex) / 2;
    uint8_t buf[PROTO_ATTEST_CERT_MAX_BYTES];
    if (strlen(hex) % 2 || n > sizeof buf || proto_hex_decode(hex, buf, n) != 0)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "cert: hex of a certificate");
    char msg[256];
    if (ne_cert_install(self, buf, n, msg, sizeof msg) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", msg);
    GLOG(INFO, NODE, "platform certificate installed over RPC");
    return m_platform(app, method, params, code, err, cap);
}

int node_enclave_register(node_app_t *app)
{
    static const node_app_method_t methods[] = {
        {"enclave_spawn", m_spawn},
        {"enclave_stop", m_stop},
        {"enclave_local", m_local},
        {"enclave_platform", m_platform},
        {"enclave_cert_install", m_cert_install},
    };
    return node_app_methods_add(app, methods, sizeof methods / sizeof methods[0]);
}
