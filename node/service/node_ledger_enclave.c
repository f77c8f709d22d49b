/*  node_ledger_enclave: the enclave_list method (see node_ledger_enclave.h): registered
 *  enclaves, their status and their measurement's audits, read through a read-only
 *  ledger_state over the committed store (never written, never committed).
 */
#include "node/service/node_ledger_enclave.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_state.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_ledger_int.h"
#include "proto/proto_attest.h"

#define J(v) json_integer((json_int_t)(v))

/* The enclave E as JSON, with its audits and revocation flags read from ST. */
static int s_enclave_json(ledger_state_t *st, const ledger_enclave_t *e, json_t **out)
{
    ledger_audit_t *au = NULL;
    size_t n = 0;
    bool rev_m = false, rev_p = false;
    int rc = ledger_enclave_audits(st, e->measurement, &au, &n);
    if (rc == LEDGER_OK)
        rc = ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, e->measurement, &rev_m, NULL);
    if (rc == LEDGER_OK)
        rc = ledger_enclave_revoked(st, LEDGER_REVOKE_PLATFORM, e->platform_pk, &rev_p, NULL);
    if (rc != LEDGER_OK) {
        free(au);
        return rc;
    }
    const char *kind = proto_attest_kind_name(e->kind);
    json_t *o = json_object();
    json_object_set_new(o, "id", node_rpc_hex(e->id, 32));
    json_object_set_new(o, "runner", node_rpc_hex(e->runner, 32));
    json_object_set_new(o, "kind", json_string(kind ? kind : "unknown"));
    json_object_set_new(o, "measurement", node_rpc_hex(e->measurement, 32));
    json_object_set_new(o, "sign_pk", node_rpc_hex(e->sign_pk, 32));
    json_object_set_new(o, "box_pk", node_rpc_hex(e->box_pk, 32));
    json_object_set_new(o, "platform_pk", node_rpc_hex(e->platform_pk, 32));
    json_object_set_new(o, "height", J(e->height));
    json_object_set_new(o, "status", json_string(ledger_enclave_status_name(e->status)));
    if (e->status == LEDGER_ENCLAVE_REVOKED)
        json_object_set_new(o, "revoked_height", J(e->status_height));
    if (e->status == LEDGER_ENCLAVE_RETIRED)
        json_object_set_new(o, "retired_height", J(e->status_height));
    json_object_set_new(o, "measurement_revoked", json_boolean(rev_m));
    json_object_set_new(o, "platform_revoked", json_boolean(rev_p));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_object();
        json_object_set_new(a, "auditor", node_rpc_hex(au[i].auditor, 32));
        json_object_set_new(a, "report_hash", node_rpc_hex(au[i].report_hash, 32));
        json_object_set_new(a, "verdict",
                            json_string(au[i].verdict == LEDGER_AUDIT_OK ? "ok" : "bad"));
        json_object_set_new(a, "height", J(au[i].height));
        json_array_append_new(arr, a);
    }
    json_object_set_new(o, "audits", arr);
    free(au);
    *out = o;
    return LEDGER_OK;
}

json_t *node_ledger_enclave_list(node_app_t *app, const char *method, json_t *params, int *code,
                                 char *err, size_t cap)
{
    (void)method;
    node_ledger_t *l = node_app_ledger(app);
    if (!l)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node runs without a ledger (start it with --genesis FILE)");
    uint32_t kind = 0;
    json_t *k = node_rpc_param(params, "kind", 0);
    if (k && !json_is_null(k)) {
        const char *name = json_is_string(k) ? json_string_value(k) : "";
        for (uint32_t i = PROTO_ATTEST_KIND_VALIDATION; i <= PROTO_ATTEST_KIND_QUERY; i++)
            if (strcmp(name, proto_attest_kind_name(i)) == 0)
                kind = i;
        if (kind == 0)
            return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                                 "kind: validation, training or query");
    }
    ledger_state_t *st = ledger_state_new(l->store);
    if (!st)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
    ledger_enclave_t *list = NULL;
    size_t n = 0;
    json_t *arr = NULL;
    int rc = ledger_enclave_list(st, kind, &list, &n);
    if (rc == LEDGER_OK) {
        arr = json_array();
        for (size_t i = 0; i < n && rc == LEDGER_OK; i++) {
            json_t *o = NULL;
            if ((rc = s_enclave_json(st, &list[i], &o)) == LEDGER_OK)
                json_array_append_new(arr, o);
        }
    }
    free(list);
    ledger_state_destroy(&st);
    if (rc != LEDGER_OK) {
        json_decref(arr);
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "ledger read failed: %s",
                             proto_err_str(rc));
    }
    return arr;
}
