/*  node_settle_rpc: training jobs, models, paid queries and settlement on the control API
 *  (see node_settle_rpc.h for the methods). Every method reads the committed ledger
 *  through a read-only ledger_state; the ones that make txs sign them with the node
 *  account and submit them through the node's own ledger, whose mempool runs the
 *  contracts' rules (ledger_contract_model.c, ledger_contract_settle.c) and answers a
 *  refusal with its reason.
 */
#include "node/service/node_settle_rpc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ledger/ledger_data.h"
#include "ledger/ledger_model.h"
#include "node/app/node_app.h"
#include "node/app/node_datadir.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_account.h"
#include "node/service/node_ledger_int.h"
#include "node/service/node_market_int.h"
#include "node/service/node_query.h"
#include "proto/proto_hex.h"
#include "proto/proto_publish.h"

#define J(v) json_integer((json_int_t)(v))

/* ---------------------------------------------------------------- access codes */

int node_settle_access_path(const char *datadir, const uint8_t buy_id[static 32], char *out,
                            size_t cap)
{
    char hex[65];
    proto_hex_encode(buy_id, 32, hex);
    int n = snprintf(out, cap, "%s/%s/%s.code", datadir, NODE_SETTLE_ACCESS_DIR, hex);
    return n > 0 && (size_t)n < cap ? 0 : NODE_E_TOO_BIG;
}

int node_settle_access_load(const char *datadir, const uint8_t buy_id[static 32],
                            uint8_t code[static 32], char *err, size_t err_cap)
{
    char path[NODE_DATADIR_PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;
    struct stat sb;
    memset(code, 0, 32);
    if (node_settle_access_path(datadir, buy_id, path, sizeof path) != 0)
        return proto_err_fail(err, err_cap, NODE_E_PARAMS, "datadir path too long");
    if (stat(path, &sb) != 0)
        return proto_err_fail(err, err_cap, errno == ENOENT ? NODE_E_NOT_FOUND : NODE_E_IO,
                              "no access code for that buy in %s: %s", path, strerror(errno));
    if (sb.st_mode & 077)
        return proto_err_fail(err, err_cap, NODE_E_CORRUPT,
                              "%s is readable by group or others (chmod 600 it)", path);
    if (node_datadir_read_file(path, 80, &data, &len, err, err_cap) != 0)
        return NODE_E_IO;
    int rc = 0;
    char text[65];
    memset(text, 0, sizeof text);
    if (len >= 64)
        memcpy(text, data, 64);
    if (!(len == 64 || (len == 65 && data[64] == '\n')) || proto_hex_decode(text, code, 32) != 0) {
        memset(code, 0, 32);
        rc = proto_err_fail(err, err_cap, NODE_E_CORRUPT, "%s is not 64 hex characters", path);
    }
    sodium_memzero(text, sizeof text);
    sodium_memzero(data, len);
    free(data);
    return rc;
}

/*  Makes a new access code for BUY_ID, writes it to DATADIR/access/ (0600, atomically) and
 *  its hash into CODE_HASH; the path into PATH. 0, or NODE_E_TOO_BIG (path), NODE_E_IO
 *  (mkdir) or node_datadir_write_file's code, with ERR. */
static int s_access_new(const char *datadir, const uint8_t buy_id[static 32],
                        const uint8_t code[static 32], char *path, size_t path_cap, char *err,
                        size_t err_cap)
{
    char dir[NODE_DATADIR_PATH_MAX], text[66];
    int n = snprintf(dir, sizeof dir, "%s/%s", datadir, NODE_SETTLE_ACCESS_DIR);
    if (n < 0 || (size_t)n >= sizeof dir ||
        node_settle_access_path(datadir, buy_id, path, path_cap) != 0) {
        snprintf(err, err_cap, "datadir path too long");
        return NODE_E_TOO_BIG;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_cap, "cannot create %.200s: %s", dir, strerror(errno));
        return NODE_E_IO;
    }
    proto_hex_encode(code, 32, text);
    text[64] = '\n';
    text[65] = 0;
    int rc = node_datadir_write_file(path, text, 65, 0600, err, err_cap);
    sodium_memzero(text, sizeof text);
    return rc;
}

/* ---------------------------------------------------------------- shared */

static ledger_state_t *s_state(node_app_t *app, int *code, char *err, size_t cap)
{
    node_ledger_t *l = node_app_ledger(app);
    ledger_state_t *st = l ? ledger_state_new(l->store) : NULL;
    if (!st)
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      l ? "out of memory" : "this node runs without a ledger (--genesis FILE)");
    return st;
}

static json_t *s_ledger_fail(int *code, char *err, size_t cap, int rc)
{
    return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "ledger read failed: %s",
                         proto_err_str(rc));
}

/* The node account and its next nonce, or NULL with the RPC error set. */
static const proto_key_t *s_account(node_app_t *app, uint64_t *nonce, int *code, char *err,
                                    size_t cap)
{
    const proto_key_t *key = node_app_account(app);
    if (!key) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      "this node has no account key (DATADIR/accounts/, --account ID)");
        return NULL;
    }
    char why[200];
    if (node_account_nonce(app, nonce, why, sizeof why) != 0) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "cannot read the account's nonce: %s", why);
        return NULL;
    }
    return key;
}

/*  Submits TX (LEN bytes, freed here; NULL: the builder refused) as WHAT; its id in TXID.
 *  0, or NODE_E_PARAMS / node_account_submit's code with the RPC error set. */
static int s_submit(node_app_t *app, uint8_t *tx, size_t len, const char *what,
                    uint8_t txid[static 32], int *code, char *err, size_t cap)
{
    if (!tx) {
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "%s: an argument is out of bounds", what);
        return NODE_E_PARAMS;
    }
    char msg[256];
    int rc = node_account_submit(app, tx, len, txid, msg, sizeof msg);
    free(tx);
    if (rc != 0) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "the ledger refused %s: %s", what, msg);
        return rc;
    }
    return 0;
}

static json_t *s_model_json(const ledger_model_t *m)
{
    json_t *o = json_object(), *metrics = json_object(), *parties = json_array();
    json_object_set_new(o, "model_id", node_rpc_hex(m->id, 32));
    json_object_set_new(o, "spec_id", node_rpc_hex(m->spec_id, 32));
    json_object_set_new(o, "job_id", node_rpc_hex(m->job_id, 32));
    json_object_set_new(o, "model_hash", node_rpc_hex(m->model_hash, 32));
    json_object_set_new(o, "query_measurement", node_rpc_hex(m->query_measurement, 32));
    json_object_set_new(o, "coordinator", node_rpc_hex(m->coordinator, 32));
    json_object_set_new(o, "n_train", J(m->n_train));
    json_object_set_new(o, "n_test", J(m->n_test));
    json_object_set_new(o, "n_records", J(m->n_records));
    for (size_t i = 0; i < m->n_metrics && i < PROTO_PUBLISH_METRICS_MAX; i++)
        json_object_set_new(metrics, m->metrics[i].name,
                            json_real((double)m->metrics[i].value_micro / 1e6));
    json_object_set_new(o, "metrics", metrics);
    for (size_t i = 0; i < m->n_parties && i < PROTO_PUBLISH_PARTIES_MAX; i++)
        json_array_append_new(parties, json_pack("{s:o,s:I,s:I}", "enclave_id",
                                                 node_rpc_hex(m->parties[i].enclave_id, 32),
                                                 "n_records", (json_int_t)m->parties[i].n_records,
                                                 "weight_bp", (json_int_t)m->parties[i].weight_bp));
    json_object_set_new(o, "parties", parties);
    json_object_set_new(o, "time_ms", J(m->time_ms));
    json_object_set_new(o, "height", J(m->height));
    return o;
}

static json_t *s_job_json(const ledger_job_t *j)
{
    static const uint8_t zero[32];
    json_t *o = json_object();
    json_object_set_new(o, "job_id", node_rpc_hex(j->id, 32));
    json_object_set_new(o, "spec_id", node_rpc_hex(j->spec_id, 32));
    json_object_set_new(o, "coordinator", node_rpc_hex(j->coordinator, 32));
    json_object_set_new(o, "rounds", J(j->rounds));
    json_object_set_new(o, "query_measurement", node_rpc_hex(j->query_measurement, 32));
    json_object_set_new(o, "height", J(j->height));
    json_object_set_new(o, "status", json_string(ledger_job_status_name(j->status)));
    if (memcmp(j->model_id, zero, 32) != 0)
        json_object_set_new(o, "model_id", node_rpc_hex(j->model_id, 32));
    return o;
}

static json_t *s_buy_json(const ledger_buy_t *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "buy_id", node_rpc_hex(b->id, 32));
    json_object_set_new(o, "buyer", node_rpc_hex(b->buyer, 32));
    json_object_set_new(o, "model_id", node_rpc_hex(b->model_id, 32));
    json_object_set_new(o, "code_hash", node_rpc_hex(b->code_hash, 32));
    json_object_set_new(o, "count", J(b->count));
    json_object_set_new(o, "claimed", J(b->claimed));
    json_object_set_new(o, "price", J(b->price));
    json_object_set_new(o, "escrow", J(b->escrow));
    json_object_set_new(o, "height", J(b->height));
    return o;
}

/* ---------------------------------------------------------------- jobs and models */

static json_t *m_train_start(node_app_t *app, const char *method, json_t *params, int *code,
                             char *err, size_t cap)
{
    (void)method;
    uint8_t spec[32], coord[32], qm[32], txid[32];
    uint64_t nonce = 0;
    if (node_rpc_param_id(params, "spec_id", 0, spec, code, err, cap) != 0 ||
        node_rpc_param_id(params, "coordinator", 1, coord, code, err, cap) != 0 ||
        node_rpc_param_id(params, "query_measurement", 3, qm, code, err, cap) != 0)
        return NULL;
    uint64_t rounds = node_rpc_param_u64(params, "rounds", 2, 0);
    if (rounds < 1 || rounds > LEDGER_TRAIN_ROUNDS_MAX)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "rounds: 1..%d",
                             LEDGER_TRAIN_ROUNDS_MAX);
    const proto_key_t *key = s_account(app, &nonce, code, err, cap);
    if (!key)
        return NULL;
    size_t len = 0;
    uint8_t *tx = ledger_contract_train_start_tx(key, node_app_chain_id(app), nonce, spec, coord,
                                                 (uint32_t)rounds, qm, &len);
    if (s_submit(app, tx, len, "TRAIN_START", txid, code, err, cap) != 0)
        return NULL;
    return json_pack("{s:o,s:o}", "txid", node_rpc_hex(txid, 32), "job_id", node_rpc_hex(txid, 32));
}

static json_t *m_models(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                        size_t cap)
{
    (void)method;
    uint8_t spec[32];
    json_t *v = node_rpc_param(params, "spec_id", 0);
    bool by_spec = v && !json_is_null(v);
    if (by_spec && node_rpc_param_id(params, "spec_id", 0, spec, code, err, cap) != 0)
        return NULL;
    ledger_state_t *st = s_state(app, code, err, cap);
    if (!st)
        return NULL;
    ledger_model_t *list = NULL;
    size_t n = 0;
    int rc = ledger_model_list(st, by_spec ? spec : NULL, &list, &n);
    ledger_state_destroy(&st);
    if (rc != LEDGER_OK)
        return s_ledger_fail(code, err, cap, rc);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, s_model_json(&list[i]));
    free(list);
    return arr;
}

static json_t *m_model_show(node_app_t *app, const char *method, json_t *params, int *code,
                            char *err, size_t cap)
{
    (void)method;
    uint8_t id[32];
    if (node_rpc_param_id(params, "model_id", 0, id, code, err, cap) != 0)
        return NULL;
    ledger_state_t *st = s_state(app, code, err, cap);
    if (!st)
        return NULL;
    ledger_model_t *m = malloc(sizeof *m);
    ledger_spec_t *s = malloc(sizeof *s);
    ledger_job_t j;
    json_t *out = NULL;
    int rc = m && s ? ledger_model_get(st, id, m) : LEDGER_E_NOMEM;
    if (rc == LEDGER_E_NOT_FOUND) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no model of that id on the ledger");
        goto out;
    }
    if (rc == LEDGER_OK)
        rc = ledger_job_get(st, m->job_id, &j);
    if (rc == LEDGER_OK)
        rc = ledger_spec_get(st, m->spec_id, s);
    if (rc != LEDGER_OK) {
        s_ledger_fail(code, err, cap, rc);
        goto out;
    }
    out = s_model_json(m);
    json_object_set_new(out, "job", s_job_json(&j));
    json_object_set_new(out, "spec", nm_spec_json(s));
out:
    free(m);
    free(s);
    ledger_state_destroy(&st);
    return out;
}

/* ---------------------------------------------------------------- buys */

static json_t *m_query_buy(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    (void)method;
    uint8_t model_id[32], buy_id[32], txid[32], access[32], hash[32];
    char path[NODE_DATADIR_PATH_MAX], why[256];
    uint64_t nonce = 0;
    if (node_rpc_param_id(params, "model_id", 0, model_id, code, err, cap) != 0)
        return NULL;
    uint64_t count = node_rpc_param_u64(params, "count", 1, 0);
    if (count < 1 || count > LEDGER_BUY_COUNT_MAX)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "count: 1..%d queries",
                             LEDGER_BUY_COUNT_MAX);
    ledger_state_t *st = s_state(app, code, err, cap);
    if (!st)
        return NULL;
    ledger_model_t *m = malloc(sizeof *m);
    ledger_spec_t *s = malloc(sizeof *s);
    int rc = m && s ? ledger_model_get(st, model_id, m) : LEDGER_E_NOMEM;
    if (rc == LEDGER_OK)
        rc = ledger_spec_get(st, m->spec_id, s);
    uint64_t price = rc == LEDGER_OK ? s->price : 0;
    free(m);
    free(s);
    ledger_state_destroy(&st);
    if (rc == LEDGER_E_NOT_FOUND)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no model of that id on the ledger");
    if (rc != LEDGER_OK)
        return s_ledger_fail(code, err, cap, rc);
    const proto_key_t *key = s_account(app, &nonce, code, err, cap);
    if (!key)
        return NULL;
    randombytes_buf(access, sizeof access);
    proto_access_code_hash(access, hash);
    size_t len = 0;
    uint8_t *tx = ledger_contract_query_buy_tx(key, node_app_chain_id(app), nonce, model_id,
                                               (uint32_t)count, hash, &len);
    if (!tx) {
        sodium_memzero(access, sizeof access);
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "cannot build QUERY_BUY");
    }
    ledger_tx_id(tx, len, buy_id);
    /* the code is on disk before the buy can commit: a crash never loses a paid code */
    rc = s_access_new(node_datadir_path(node_app_datadir(app)), buy_id, access, path, sizeof path,
                      why, sizeof why);
    sodium_memzero(access, sizeof access);
    if (rc != 0) {
        free(tx);
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "cannot keep the access code: %s",
                             why);
    }
    if (s_submit(app, tx, len, "QUERY_BUY", txid, code, err, cap) != 0) {
        (void)unlink(path);
        return NULL;
    }
    json_t *out = json_object();
    json_object_set_new(out, "txid", node_rpc_hex(txid, 32));
    json_object_set_new(out, "buy_id", node_rpc_hex(buy_id, 32));
    json_object_set_new(out, "model_id", node_rpc_hex(model_id, 32));
    json_object_set_new(out, "count", J(count));
    json_object_set_new(out, "price", J(price));
    json_object_set_new(out, "cost", J(price * count)); /* the ledger refuses an overflow */
    json_object_set_new(out, "code_file", json_string(path));
    return out;
}

static json_t *m_buy_show(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap)
{
    (void)method;
    uint8_t id[32];
    if (node_rpc_param_id(params, "buy_id", 0, id, code, err, cap) != 0)
        return NULL;
    ledger_state_t *st = s_state(app, code, err, cap);
    if (!st)
        return NULL;
    ledger_buy_t b;
    int rc = ledger_buy_get(st, id, &b);
    ledger_state_destroy(&st);
    if (rc == LEDGER_E_NOT_FOUND)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no buy of that id on the ledger");
    if (rc != LEDGER_OK)
        return s_ledger_fail(code, err, cap, rc);
    return s_buy_json(&b);
}

/* ---------------------------------------------------------------- earnings */

/*  ACCOUNT's earnings: role, the models where it is a donor with what it is owed there
 *  (*LIST, caller frees, *N), the total. LEDGER_OK or a read error. */
static int s_earnings(ledger_state_t *st, const uint8_t account[static 32], uint64_t *role,
                      ledger_model_owed_t **list, size_t *n, uint64_t *owed)
{
    int rc = ledger_earnings_role(st, account, role);
    if (rc == LEDGER_OK)
        rc = ledger_earnings_models(st, account, list, n);
    *owed = *role;
    for (size_t i = 0; rc == LEDGER_OK && i < *n; i++)
        *owed += (*list)[i].owed;
    return rc;
}

static json_t *s_owed_json(const ledger_model_owed_t *list, size_t n, bool owed_only)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        if (!owed_only || list[i].owed)
            json_array_append_new(arr, json_pack("{s:o,s:I,s:I}", "model_id",
                                                 node_rpc_hex(list[i].model_id, 32), "n_records",
                                                 (json_int_t)list[i].n_records, "owed",
                                                 (json_int_t)list[i].owed));
    return arr;
}

static json_t *m_earnings(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap)
{
    (void)method;
    (void)params;
    const proto_key_t *key = node_app_account(app);
    if (!key)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node has no account key (DATADIR/accounts/, --account ID)");
    ledger_state_t *st = s_state(app, code, err, cap);
    if (!st)
        return NULL;
    ledger_account_t a;
    ledger_model_owed_t *list = NULL;
    size_t n = 0;
    uint64_t role = 0, owed = 0;
    int rc = ledger_state_account(st, proto_key_public(key), &a);
    if (rc == LEDGER_OK)
        rc = s_earnings(st, proto_key_public(key), &role, &list, &n, &owed);
    ledger_state_destroy(&st);
    if (rc != LEDGER_OK) {
        free(list);
        return s_ledger_fail(code, err, cap, rc);
    }
    json_t *out = json_object();
    json_object_set_new(out, "account", node_rpc_hex(proto_key_public(key), 32));
    json_object_set_new(out, "balance", J(a.balance));
    json_object_set_new(out, "role", J(role));
    json_object_set_new(out, "models", s_owed_json(list, n, false));
    json_object_set_new(out, "owed", J(owed));
    free(list);
    return out;
}

/*  Submits one EARNINGS_CLAIM (MODEL NULL: role only) and appends its txid to TXIDS. */
static int s_claim_one(node_app_t *app, const uint8_t *model, json_t *txids, int *code, char *err,
                       size_t cap)
{
    uint64_t nonce = 0;
    uint8_t txid[32];
    const proto_key_t *key = s_account(app, &nonce, code, err, cap);
    if (!key)
        return node_app_account(app) ? NODE_E_FAILED : NODE_E_NO_ACCOUNT;
    size_t len = 0;
    uint8_t *tx =
        ledger_contract_earnings_claim_tx(key, node_app_chain_id(app), nonce, model, &len);
    int rc = s_submit(app, tx, len, "EARNINGS_CLAIM", txid, code, err, cap);
    if (rc != 0)
        return rc;
    json_array_append_new(txids, node_rpc_hex(txid, 32));
    return 0;
}

/*  claim {model_id?}: EARNINGS_CLAIM of what the ledger owes this node's account (one
 *  model, or every model owing something, or the role earnings alone). On a runner of
 *  query enclaves (node_app_query not NULL) it first claims usage: node_query_flush asks
 *  every served buy's USAGE now and submits the USAGE_CLAIMs that grew, before the
 *  earnings claim is built (those count once committed: a later claim takes them). */
static json_t *m_claim(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    (void)method;
    if (node_app_query(app))
        node_query_flush(node_app_query(app));
    uint8_t model[32];
    json_t *v = node_rpc_param(params, "model_id", 0);
    bool one = v && !json_is_null(v);
    if (one && node_rpc_param_id(params, "model_id", 0, model, code, err, cap) != 0)
        return NULL;
    const proto_key_t *key = node_app_account(app);
    if (!key)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node has no account key (DATADIR/accounts/, --account ID)");
    ledger_state_t *st = s_state(app, code, err, cap);
    if (!st)
        return NULL;
    ledger_model_owed_t *list = NULL, single;
    size_t n = 0;
    uint64_t role = 0, owed = 0;
    int rc = s_earnings(st, proto_key_public(key), &role, &list, &n, &owed);
    if (rc == LEDGER_OK && one) {
        free(list);
        list = NULL;
        n = 0;
        rc = ledger_earnings_owed(st, proto_key_public(key), model, &single);
        if (rc == LEDGER_E_NOT_FOUND) {
            ledger_state_destroy(&st);
            return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                                 "no model of that id on the ledger");
        }
        owed = role + single.owed;
    }
    ledger_state_destroy(&st);
    if (rc != LEDGER_OK) {
        free(list);
        return s_ledger_fail(code, err, cap, rc);
    }
    if (owed == 0) {
        free(list);
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "refused: nothing is owed to this account%s",
                             one ? " in that model" : "");
    }
    json_t *txids = json_array();
    int src = 0;
    size_t sent = 0;
    if (one) {
        src = s_claim_one(app, model, txids, code, err, cap);
    } else {
        for (size_t i = 0; src == 0 && i < n; i++)
            if (list[i].owed) {
                src = s_claim_one(app, list[i].model_id, txids, code, err, cap);
                sent++;
            }
        if (src == 0 && sent == 0) /* role earnings only */
            src = s_claim_one(app, NULL, txids, code, err, cap);
    }
    if (src != 0 && json_array_size(txids) == 0) {
        free(list);
        json_decref(txids);
        return NULL;
    }
    json_t *out = json_object();
    json_object_set_new(out, "txids", txids);
    json_object_set_new(out, "role", J(role));
    json_object_set_new(out, "models",
                        one ? s_owed_json(&single, 1, false) : s_owed_json(list, n, true));
    json_object_set_new(out, "owed", J(owed));
    if (src != 0) /* some were submitted before a refusal: say so, keep the txids */
        json_object_set_new(out, "error", json_string(err));
    free(list);
    *code = 0;
    return out;
}

int node_settle_register(node_app_t *app)
{
    static const node_app_method_t methods[] = {
        {"train_start", m_train_start},
        {"models", m_models},
        {"model_show", m_model_show},
        {"query_buy", m_query_buy},
        {"buy_show", m_buy_show},
        {"earnings", m_earnings},
        {"claim", m_claim},
    };
    return node_app_methods_add(app, methods, sizeof methods / sizeof methods[0]);
}
