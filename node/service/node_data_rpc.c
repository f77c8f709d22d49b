/*  node_data_rpc: the data owner's RPC methods other than data_add (see
 * node_data.h): records (data_list, data_show, data_withdraw), consent
 * (consent_set, consent_show, consent_revoke) and the audit trail (audit).
 * Reads come from the committed ledger through a read-only ledger_state; txs
 * are signed with the node account and submitted through the node's own ledger
 * (node_account_submit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ledger/ledger_data.h"
#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_account.h"
#include "node/service/node_data_int.h"
#include "node/service/node_ledger_int.h"
#include "proto/proto_hex.h"
#include "proto/proto_report.h"

#define J(v) json_integer((json_int_t)(v))

static const uint8_t s_zero[32];

ledger_state_t *node_data_ledger_state(node_app_t *app)
{
    node_ledger_t *l = node_app_ledger(app);
    return l ? ledger_state_new(l->store) : NULL;
}

/*  The service, the account key and a ledger state for a method; NULL after
 * setting the error. The caller destroys *ST. */
static node_data_t *s_begin(node_app_t *app, const proto_key_t **key, ledger_state_t **st,
                            int *code, char *err, size_t cap)
{
    node_data_t *self = node_app_data(app);
    if (!self) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      "this node is not a data-owner (start it with --role data-owner)");
        return NULL;
    }
    if (!(*key = node_app_account(app))) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "this node has no account key");
        return NULL;
    }
    if (!(*st = node_data_ledger_state(app))) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "this node runs without a ledger");
        return NULL;
    }
    return self;
}

static const char *s_status_name(uint32_t s)
{
    return s == LEDGER_DATA_ACTIVE ? "active" : s == LEDGER_DATA_WITHDRAWN ? "withdrawn" : "?";
}

static const char *s_use_name(uint32_t u)
{
    switch (u) {
    case LEDGER_USE_VALIDATED:
        return "VALIDATED";
    case LEDGER_USE_DONATED:
        return "DONATED";
    case LEDGER_USE_KEY_AUTHORIZED:
        return "KEY_AUTHORIZED";
    case LEDGER_USE_TRAINED:
        return "TRAINED";
    case LEDGER_USE_WITHDRAWN:
        return "WITHDRAWN";
    default:
        return "?";
    }
}

/*  The JSON of a record: the ledger's D (may be NULL) and the local INFO (may
 * be NULL). */
static json_t *s_record_json(const ledger_data_t *d, const node_data_info_t *info)
{
    json_t *o = json_object();
    json_object_set_new(o, "data_id", node_rpc_hex(d ? d->id : info->id, 32));
    json_object_set_new(o, "type", json_string(node_data_type_name(d ? d->data_type : info->type)));
    json_object_set_new(o, "name", json_string(info ? info->name : ""));
    json_object_set_new(o, "local", json_boolean(info != NULL));
    if (info)
        json_object_set_new(o, "size", J(info->size));
    json_object_set_new(o, "status", json_string(d ? s_status_name(d->status) : "unregistered"));
    if (d) {
        json_object_set_new(o, "size_class", J(d->size_class));
        json_object_set_new(o, "height", J(d->height));
        if (d->status == LEDGER_DATA_WITHDRAWN)
            json_object_set_new(o, "status_height", J(d->status_height));
    }
    return o;
}

static json_t *s_ledger_fail(int *code, char *err, size_t cap, int rc)
{
    return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "ledger read failed: %s",
                         proto_err_str(rc));
}

static json_t *m_list(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                      size_t cap)
{
    (void)method;
    (void)params;
    const proto_key_t *key = NULL;
    ledger_state_t *st = NULL;
    node_data_t *self = s_begin(app, &key, &st, code, err, cap);
    if (!self)
        return NULL;
    ledger_data_t *list = NULL;
    size_t n = 0;
    int rc = ledger_data_list(st, proto_key_public(key), &list, &n);
    if (rc != LEDGER_OK) {
        ledger_state_destroy(&st);
        return s_ledger_fail(code, err, cap, rc);
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        node_data_info_t info;
        bool local = node_data_info(self, list[i].id, &info, NULL, 0) == 0;
        json_array_append_new(arr, s_record_json(&list[i], local ? &info : NULL));
    }
    uint8_t(*ids)[32] = malloc(NODE_DATA_RECORDS_MAX * 32);
    size_t m = ids ? node_data_ids(self, ids, NODE_DATA_RECORDS_MAX) : 0;
    for (size_t i = 0; i < m; i++) { /* local records the ledger does not have (yet) */
        ledger_data_t d;
        node_data_info_t info;
        if (ledger_data_get(st, ids[i], &d) == LEDGER_E_NOT_FOUND &&
            node_data_info(self, ids[i], &info, NULL, 0) == 0)
            json_array_append_new(arr, s_record_json(NULL, &info));
    }
    free(ids);
    free(list);
    ledger_state_destroy(&st);
    return arr;
}

/*  The audit trail of record D as JSON entries appended to ARR. */
static int s_uses_json(ledger_state_t *st, const uint8_t id[static 32], json_t *arr)
{
    ledger_use_entry_t *u = NULL;
    size_t n = 0;
    int rc = ledger_data_uses(st, id, &u, &n);
    for (size_t i = 0; rc == LEDGER_OK && i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "data_id", node_rpc_hex(id, 32));
        json_object_set_new(o, "use", json_string(s_use_name(u[i].use)));
        json_object_set_new(o, "height", J(u[i].height));
        json_object_set_new(o, "actor", node_rpc_hex(u[i].actor, 32));
        if (memcmp(u[i].spec_id, s_zero, 32) != 0)
            json_object_set_new(o, "spec_id", node_rpc_hex(u[i].spec_id, 32));
        json_object_set_new(o, "txid", node_rpc_hex(u[i].txid, 32));
        json_array_append_new(arr, o);
    }
    free(u);
    return rc;
}

static json_t *m_show(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                      size_t cap)
{
    (void)method;
    const proto_key_t *key = NULL;
    ledger_state_t *st = NULL;
    uint8_t id[32];
    if (node_rpc_param_id(params, "data_id", 0, id, code, err, cap) != 0)
        return NULL;
    node_data_t *self = s_begin(app, &key, &st, code, err, cap);
    if (!self)
        return NULL;
    node_data_info_t info;
    char why[256] = "";
    int lrc = node_data_info(self, id, &info, why, sizeof why);
    ledger_data_t d;
    int rc = ledger_data_get(st, id, &d);
    json_t *out = NULL;
    if (rc != LEDGER_OK && rc != LEDGER_E_NOT_FOUND) {
        out = s_ledger_fail(code, err, cap, rc);
    } else if (rc == LEDGER_E_NOT_FOUND && lrc != 0) {
        out = node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                            "no data record of that id, local or on the ledger%s%.200s",
                            lrc == NODE_E_CORRUPT ? "; the local one: " : "",
                            lrc == NODE_E_CORRUPT ? why : "");
    } else {
        out = s_record_json(rc == LEDGER_OK ? &d : NULL, lrc == 0 ? &info : NULL);
        if (lrc == 0)
            json_object_set_new(out, "address", node_rpc_hex(info.address, 32));
        else if (lrc != NODE_E_NOT_FOUND)
            json_object_set_new(out, "local_error", json_string(why));
        if (rc == LEDGER_OK) {
            json_object_set_new(out, "owner", node_rpc_hex(d.owner, 32));
            json_object_set_new(out, "validator", node_rpc_hex(d.validator, 32));
            json_object_set_new(out, "ledger_address", node_rpc_hex(d.address, 32));
            json_t *uses = json_array();
            (void)s_uses_json(st, id, uses);
            json_object_set_new(out, "uses", uses);
        }
    }
    ledger_state_destroy(&st);
    return out;
}

/*  Submits TX (LEN bytes, freed here; NULL: the builder refused) as WHAT. */
static json_t *s_submit(node_app_t *app, uint8_t *tx, size_t len, const char *what, int *code,
                        char *err, size_t cap)
{
    if (!tx)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "%s: an argument is out of bounds",
                             what);
    uint8_t txid[32];
    char msg[256];
    int rc = node_account_submit(app, tx, len, txid, msg, sizeof msg);
    free(tx);
    if (rc != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "the ledger refused %s: %s", what,
                             msg);
    return json_pack("{s:o}", "txid", node_rpc_hex(txid, 32));
}

static int s_nonce(node_app_t *app, uint64_t *nonce, int *code, char *err, size_t cap)
{
    char msg[256];
    int rc = node_account_nonce(app, nonce, msg, sizeof msg);
    if (rc != 0)
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no nonce for the node account: %s", msg);
    return rc;
}

/*  Record ID from the ledger into *D; destroys *ST either way. -1 after setting the error
 * when the ledger has no such record or the read fails. */
static int s_record_get(ledger_state_t **st, const uint8_t id[static 32], ledger_data_t *d,
                        int *code, char *err, size_t cap)
{
    int rc = ledger_data_get(*st, id, d);
    ledger_state_destroy(st);
    if (rc == LEDGER_E_NOT_FOUND) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      "refused: no data record of that id on the ledger");
        return NODE_E_NOT_FOUND;
    }
    if (rc != LEDGER_OK) {
        s_ledger_fail(code, err, cap, rc);
        return rc;
    }
    return 0;
}

static json_t *m_withdraw(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap)
{
    (void)method;
    const proto_key_t *key = NULL;
    ledger_state_t *st = NULL;
    uint8_t id[32];
    uint64_t nonce = 0;
    if (node_rpc_param_id(params, "data_id", 0, id, code, err, cap) != 0)
        return NULL;
    ledger_data_t d;
    if (!s_begin(app, &key, &st, code, err, cap) || s_record_get(&st, id, &d, code, err, cap) != 0)
        return NULL;
    if (memcmp(d.owner, proto_key_public(key), 32) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "refused: the record belongs to another account");
    if (d.status != LEDGER_DATA_ACTIVE)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "refused: the record was withdrawn at height %llu",
                             (unsigned long long)d.status_height);
    if (s_nonce(app, &nonce, code, err, cap) != 0)
        return NULL;
    size_t len = 0;
    uint8_t *tx = ledger_contract_data_withdraw_tx(key, node_app_chain_id(app), nonce, id, &len);
    return s_submit(app, tx, len, "DATA_WITHDRAW", code, err, cap);
}

/* ---------------------------------------------------------------- consent */

/*  The optional data_id param into ID (zero when absent: the owner's default).
 */
static int s_target(json_t *params, uint8_t id[static 32], int *code, char *err, size_t cap)
{
    memset(id, 0, 32);
    json_t *v = node_rpc_param(params, "data_id", 0);
    if (!v || json_is_null(v))
        return 0;
    return node_rpc_param_id(params, "data_id", 0, id, code, err, cap);
}

/*  "default" for the zero id (the owner's default consent), else ID in hex. */
static json_t *s_target_json(const uint8_t id[static 32])
{
    return memcmp(id, s_zero, 32) == 0 ? json_string("default") : node_rpc_hex(id, 32);
}

static int s_names(json_t *params, const char *key, ledger_names_t *out, bool wildcard, int *code,
                   char *err, size_t cap)
{
    memset(out, 0, sizeof *out);
    json_t *arr = json_object_get(params, key);
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) > LEDGER_CONSENT_LIST_MAX) {
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "%s: a list of at most %d names", key,
                      LEDGER_CONSENT_LIST_MAX);
        return NODE_E_PARAMS;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (!s || !ledger_name_valid(s, strlen(s), wildcard)) {
            node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                          "%s: '%.40s' is not a name (1..%d of a-z 0-9 _ -%s)", key,
                          s ? s : "(not a string)", LEDGER_NAME_MAX, wildcard ? ", or *" : "");
            return NODE_E_PARAMS;
        }
        snprintf(out->v[out->n++], sizeof out->v[0], "%s", s);
    }
    return 0;
}

static json_t *m_consent_set(node_app_t *app, const char *method, json_t *params, int *code,
                             char *err, size_t cap)
{
    (void)method;
    const proto_key_t *key = NULL;
    ledger_state_t *st = NULL;
    ledger_consent_t c;
    memset(&c, 0, sizeof c);
    if (!json_is_object(params))
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "params: an object");
    if (s_target(params, c.data_id, code, err, cap) != 0 ||
        s_names(params, "allow_types", &c.allow_types, true, code, err, cap) != 0 ||
        s_names(params, "allow_purposes", &c.allow_purposes, true, code, err, cap) != 0 ||
        s_names(params, "deny_types", &c.deny_types, true, code, err, cap) != 0 ||
        s_names(params, "deny_purposes", &c.deny_purposes, true, code, err, cap) != 0)
        return NULL;
    json_t *eps = json_object_get(params, "max_epsilon_milli");
    json_t *aud = json_object_get(params, "min_audits");
    if ((eps && (!json_is_integer(eps) || json_integer_value(eps) < 0 ||
                 json_integer_value(eps) > UINT32_MAX)) ||
        (aud && (!json_is_integer(aud) || json_integer_value(aud) < 0 ||
                 json_integer_value(aud) > UINT32_MAX)))
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "max_epsilon_milli and min_audits: integers 0..4294967295");
    c.max_epsilon_milli = eps ? (uint32_t)json_integer_value(eps) : 0;
    c.min_audits = aud ? (uint32_t)json_integer_value(aud) : 0;
    json_t *auditors = json_object_get(params, "auditors");
    if (auditors && !json_is_null(auditors)) {
        if (!json_is_array(auditors) || json_array_size(auditors) > LEDGER_CONSENT_LIST_MAX)
            return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                                 "auditors: a list of at most %d account ids",
                                 LEDGER_CONSENT_LIST_MAX);
        size_t i;
        json_t *v;
        json_array_foreach(auditors, i, v)
        {
            const char *s = json_string_value(v);
            if (!s || strlen(s) != 64 || proto_hex_decode(s, c.auditors[c.n_auditors], 32) != 0)
                return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                                     "auditors: 64 hex characters each");
            c.n_auditors++;
        }
    }
    if (!s_begin(app, &key, &st, code, err, cap))
        return NULL;
    ledger_data_t d;
    bool per_record = memcmp(c.data_id, s_zero, 32) != 0;
    if (!per_record)
        ledger_state_destroy(&st);
    else if (s_record_get(&st, c.data_id, &d, code, err, cap) != 0)
        return NULL;
    if (per_record && memcmp(d.owner, proto_key_public(key), 32) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "refused: a per-record consent only for the owner's records");
    uint64_t nonce = 0;
    if (s_nonce(app, &nonce, code, err, cap) != 0)
        return NULL;
    size_t len = 0;
    uint8_t *tx = ledger_contract_consent_set_tx(key, node_app_chain_id(app), nonce, &c, &len);
    return s_submit(app, tx, len, "CONSENT_SET", code, err, cap);
}

static json_t *s_names_json(const ledger_names_t *n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n->n; i++)
        json_array_append_new(a, json_string(n->v[i]));
    return a;
}

static json_t *s_consent_json(const ledger_consent_t *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "target", s_target_json(c->data_id));
    json_object_set_new(o, "allow_types", s_names_json(&c->allow_types));
    json_object_set_new(o, "allow_purposes", s_names_json(&c->allow_purposes));
    json_object_set_new(o, "deny_types", s_names_json(&c->deny_types));
    json_object_set_new(o, "deny_purposes", s_names_json(&c->deny_purposes));
    json_object_set_new(o, "max_epsilon_milli", J(c->max_epsilon_milli));
    json_object_set_new(o, "min_audits", J(c->min_audits));
    json_t *a = json_array();
    for (uint32_t i = 0; i < c->n_auditors; i++)
        json_array_append_new(a, node_rpc_hex(c->auditors[i], 32));
    json_object_set_new(o, "auditors", a);
    json_object_set_new(o, "height", J(c->height));
    bool none = c->allow_types.n == 0 || c->allow_purposes.n == 0;
    json_object_set_new(o, "allows",
                        json_string(none ? "nothing (an empty allow list allows nothing)"
                                         : "what the lists allow"));
    return o;
}

static json_t *m_consent_show(node_app_t *app, const char *method, json_t *params, int *code,
                              char *err, size_t cap)
{
    (void)method;
    const proto_key_t *key = NULL;
    ledger_state_t *st = NULL;
    uint8_t id[32];
    if (s_target(params, id, code, err, cap) != 0 || !s_begin(app, &key, &st, code, err, cap))
        return NULL;
    ledger_consent_t c;
    json_t *out = NULL;
    int rc = ledger_consent_get(st, proto_key_public(key), id, &c);
    if (rc == LEDGER_OK) {
        out = s_consent_json(&c);
        json_object_set_new(out, "set", json_true());
    } else if (rc == LEDGER_E_NOT_FOUND) {
        out = json_pack("{s:b, s:o, s:s}", "set", 0, "target", s_target_json(id), "allows",
                        "nothing (deny by default: no consent is set)");
    } else {
        ledger_state_destroy(&st);
        return s_ledger_fail(code, err, cap, rc);
    }
    ledger_data_t d;
    if (memcmp(id, s_zero, 32) != 0 && ledger_data_get(st, id, &d) == LEDGER_OK) {
        rc = ledger_consent_effective(st, &d, &c);
        if (rc == LEDGER_OK)
            json_object_set_new(out, "effective", s_consent_json(&c));
        else if (rc == LEDGER_E_NOT_FOUND)
            json_object_set_new(out, "effective",
                                json_string("nothing (deny by default: no consent in force)"));
    }
    ledger_state_destroy(&st);
    return out;
}

static json_t *m_consent_revoke(node_app_t *app, const char *method, json_t *params, int *code,
                                char *err, size_t cap)
{
    (void)method;
    const proto_key_t *key = NULL;
    ledger_state_t *st = NULL;
    uint8_t id[32];
    if (s_target(params, id, code, err, cap) != 0 || !s_begin(app, &key, &st, code, err, cap))
        return NULL;
    ledger_consent_t c;
    int rc = ledger_consent_get(st, proto_key_public(key), id, &c);
    ledger_state_destroy(&st);
    if (rc == LEDGER_E_NOT_FOUND)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "refused: no consent is set for that target");
    if (rc != LEDGER_OK)
        return s_ledger_fail(code, err, cap, rc);
    uint64_t nonce = 0;
    if (s_nonce(app, &nonce, code, err, cap) != 0)
        return NULL;
    size_t len = 0;
    uint8_t *tx = ledger_contract_consent_revoke_tx(key, node_app_chain_id(app), nonce, id, &len);
    return s_submit(app, tx, len, "CONSENT_REVOKE", code, err, cap);
}

/* ---------------------------------------------------------------- audit */

static json_t *m_audit(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    (void)method;
    const proto_key_t *key = NULL;
    ledger_state_t *st = NULL;
    uint8_t id[32];
    if (s_target(params, id, code, err, cap) != 0 || !s_begin(app, &key, &st, code, err, cap))
        return NULL;
    json_t *arr = json_array();
    int rc = LEDGER_OK;
    if (memcmp(id, s_zero, 32) != 0) {
        ledger_data_t d;
        rc = ledger_data_get(st, id, &d);
        if (rc == LEDGER_OK && memcmp(d.owner, proto_key_public(key), 32) != 0)
            rc = LEDGER_E_NOT_FOUND; /* the audit is the owner's */
        if (rc == LEDGER_OK)
            rc = s_uses_json(st, id, arr);
    } else {
        ledger_data_t *list = NULL;
        size_t n = 0;
        rc = ledger_data_list(st, proto_key_public(key), &list, &n);
        for (size_t i = 0; rc == LEDGER_OK && i < n; i++)
            rc = s_uses_json(st, list[i].id, arr);
        free(list);
    }
    ledger_state_destroy(&st);
    if (rc == LEDGER_E_NOT_FOUND) {
        json_decref(arr);
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "no data record of that id belongs to this node's account");
    }
    if (rc != LEDGER_OK) {
        json_decref(arr);
        return s_ledger_fail(code, err, cap, rc);
    }
    return arr;
}

int node_data_register(node_app_t *app)
{
    static const node_app_method_t methods[] = {
        {"data_add", node_data_rpc_add},
        {"data_list", m_list},
        {"data_show", m_show},
        {"data_withdraw", m_withdraw},
        {"consent_set", m_consent_set},
        {"consent_show", m_consent_show},
        {"consent_revoke", m_consent_revoke},
        {"audit", m_audit},
    };
    return node_app_methods_add(app, methods, sizeof methods / sizeof methods[0]);
}
