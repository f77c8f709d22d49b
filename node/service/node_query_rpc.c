/*  node_query_rpc: the query service's RPC methods (see node_query.h): query_run (the
 *  user's side: seal, send, open) and query_status (the runner's query enclaves and usage
 *  claims).
 *
 *  A query_run the relay has no room for (NODE_ENCLAVE_RELAY_PEER_MAX calls in flight to
 *  the runner already, or the runner's enclave queue full) is not refused: it waits, its
 *  request sealed once, and is sent when one of this node's query calls ends (or at the
 *  service's next tick), oldest first; one that waits over NODE_ENCLAVE_RELAY_TIMEOUT_MS
 *  fails. At most NQ_RUNS_MAX runs are in flight (a deferred RPC answer each).
 */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_wire.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_model.h"
#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_enclave_relay.h"
#include "node/service/node_ledger_local.h"
#include "node/service/node_query_int.h"
#include "node/service/node_settle_rpc.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"

#define NQ_CANDS_MAX 8
#define NQ_COLS_MAX 1024
#define NQ_SECRET_LEN 96

_Static_assert(NQ_RUNS_MAX <= 64, "a run's slot is a bit of run_slots");
_Static_assert(NQ_RUNS_MAX >= NODE_RPC_DEFER_MAX, "a slot for every deferred query_run");

/* One query_run in flight. Secrets (code, reply key) in a slot of the service's locked
   memory (run_secrets: allocated once, not per query: sodium_malloc's mmap, mlock and
   mprotect calls cost more than the query's own crypto on the user's node). */
struct nq_run_t {
    node_query_t *q;
    uint64_t token;
    uint8_t model_id[32], buy_id[32];
    uint8_t *secret; /* run_secrets slot: code (32) || reply_pk (32) || reply_sk (32) */
    int slot;        /* its index, or -1 */
    double *rows;
    size_t n_rows, n_cols;
    ledger_enclave_t cands[NQ_CANDS_MAX];
    size_t n_cands, at;
    bool with_proof, proof_retried;
    uint8_t *req; /* the QUERY for cands[at], kept while parked */
    size_t req_len;
    bool waiting;           /* parked: the relay had no room for its call (nq_runs_kick) */
    uint64_t waiting_since; /* nq_now() when first parked, 0 when not */
    nq_run_t *prev, *next;
};

#define RUN_CODE(r) ((r)->secret)
#define RUN_PK(r) ((r)->secret + 32)
#define RUN_SK(r) ((r)->secret + 64)

static void s_run_free(nq_run_t *r)
{
    node_query_t *q = r->q;
    if (r->prev)
        r->prev->next = r->next;
    else if (q->runs == r)
        q->runs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->secret) {
        sodium_memzero(r->secret, NQ_SECRET_LEN);
        q->run_slots &= ~(UINT64_C(1) << r->slot);
    }
    if (r->rows) {
        sodium_memzero(r->rows, r->n_rows * r->n_cols * sizeof *r->rows);
        free(r->rows);
    }
    free(r->req);
    free(r);
}

/* A free slot of Q's locked memory for a run's secrets (allocated at the first run), its
   index in *SLOT; NULL when out of memory or every slot is taken. */
static uint8_t *s_secret_take(node_query_t *q, int *slot)
{
    if (!q->run_secrets && !(q->run_secrets = sodium_malloc(NQ_RUNS_MAX * NQ_SECRET_LEN)))
        return NULL;
    for (int i = 0; i < NQ_RUNS_MAX; i++)
        if (!(q->run_slots & (UINT64_C(1) << i))) {
            q->run_slots |= UINT64_C(1) << i;
            *slot = i;
            return q->run_secrets + (size_t)i * NQ_SECRET_LEN;
        }
    return NULL;
}

void nq_runs_drop(node_query_t *q)
{
    while (q->runs)
        s_run_free(q->runs);
    if (q->run_secrets) {
        sodium_free(q->run_secrets); /* wipes it */
        q->run_secrets = NULL;
    }
}

static void s_run_fail(nq_run_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_run_fail(nq_run_t *r, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    node_app_rpc_complete(r->q->app, r->token, NULL, NODE_RPC_E_APP, msg);
    s_run_free(r);
}

static bool s_run_send(nq_run_t *r);
static void s_answered(nq_run_t *r, int rc, const uint8_t *ans, size_t ans_len, const char *why);

/* R waits for room: the next nq_runs_kick sends it again. */
static void s_park(nq_run_t *r)
{
    r->waiting = true;
    if (!r->waiting_since)
        r->waiting_since = nq_now();
}

/* The relay's callback: R's call ended. Its relay slot is free again, so the runs that
   wait for room go on after R's answer is handled. */
static void s_on_answer(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    nq_run_t *r = ctx;
    node_query_t *q = r->q;
    s_answered(r, rc, ans, ans_len, why);
    nq_runs_kick(q);
}

void nq_runs_kick(node_query_t *q)
{
    if (q->kicking)
        return;
    q->kicking = true;
    uint64_t now = nq_now();
    for (size_t guard = 0; guard < NQ_RUNS_MAX; guard++) {
        nq_run_t *w = NULL;
        for (nq_run_t *x = q->runs; x; x = x->next) /* newest first: the last one is oldest */
            if (x->waiting)
                w = x;
        if (!w)
            break;
        w->waiting = false;
        if (now - w->waiting_since > NODE_ENCLAVE_RELAY_TIMEOUT_MS) {
            s_run_fail(w, "the relay to the query enclave's runner stayed full for %d ms",
                       NODE_ENCLAVE_RELAY_TIMEOUT_MS);
            continue;
        }
        if (s_run_send(w))
            break; /* parked again: no room yet */
    }
    q->kicking = false;
}

/* R's call ended: RC 0 with the enclave's answer ANS (ANS_LEN), or the relay's failure
   (WHY). R goes on (another enclave, the proof, parked) or is answered and freed. */
static void s_answered(nq_run_t *r, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    const ledger_enclave_t *e = &r->cands[r->at];
    enclave_ans_t a;
    if (rc == NODE_E_BUSY) { /* the runner's enclave queue is full: the same one, later */
        s_park(r);
        return;
    }
    if (rc != 0) { /* unreachable: the next enclave */
        char eid[17];
        proto_hex_encode(e->id, 8, eid);
        GLOG(INFO, NODE, "query enclave %s unreachable: %s", eid, why ? why : proto_err_str(rc));
        r->at++;
        r->proof_retried = false;
        if (r->at >= r->n_cands) {
            s_run_fail(r, "no query enclave of the model could be reached (last: %s)",
                       why ? why : proto_err_str(rc));
            return;
        }
        s_run_send(r);
        return;
    }
    if (enclave_wire_ans_decode(ans, ans_len, &a) != PROTO_OK) {
        s_run_fail(r, "%s", "the query enclave's answer does not decode");
        return;
    }
    if (a.type == ENCLAVE_ANS_ERROR) {
        if (!r->with_proof && !r->proof_retried) { /* it may not know the buy: prove it */
            r->with_proof = true;
            r->proof_retried = true;
            s_run_send(r);
            return;
        }
        const char *name = proto_err_str(a.u.error.code);
        bool same = strcmp(name, a.u.error.msg) == 0;
        s_run_fail(r, "the query enclave refused: %s%s%s%s", a.u.error.msg, same ? "" : " (",
                   same ? "" : name, same ? "" : ")");
        return;
    }
    if (a.type != ENCLAVE_ANS_QUERY) {
        s_run_fail(r, "%s", "the query enclave gave another answer than QUERY");
        return;
    }
    double *pred = calloc(r->n_rows, sizeof *pred);
    size_t n = 0;
    uint64_t used = 0, count = 0;
    if (!pred) {
        s_run_fail(r, "%s", "out of memory");
        return;
    }
    rc = enclave_prog_query_open(RUN_PK(r), RUN_SK(r), r->model_id, r->buy_id, a.u.blob.bytes,
                                 a.u.blob.len, pred, r->n_rows, &n, &used, &count);
    if (rc != 0 || n != r->n_rows) {
        free(pred);
        s_run_fail(r, "the answer cannot be opened: %s",
                   rc ? proto_err_str(rc) : "another number of predictions");
        return;
    }
    if (r->with_proof)
        nq_sent_add(r->q, r->buy_id, e->id);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_real(pred[i]));
    free(pred);
    json_t *out =
        json_pack("{s:o,s:o,s:o,s:o,s:I,s:I}", "model", node_rpc_hex(r->model_id, 32), "buy",
                  node_rpc_hex(r->buy_id, 32), "enclave", node_rpc_hex(e->id, 32), "predictions",
                  arr ? arr : json_null(), "used", (json_int_t)used, "count", (json_int_t)count);
    node_app_rpc_complete(r->q->app, r->token, out, out ? 0 : NODE_RPC_E_INTERNAL,
                          out ? NULL : "out of memory");
    s_run_free(r);
}

/* The QUERY for R's current candidate into R->req: the rows sealed to its box key, and the
   buy's proof when this node has not sent it that buy yet. 0, or R failed (answered and
   freed). */
static int s_run_request(nq_run_t *r)
{
    node_app_t *app = r->q->app;
    const ledger_enclave_t *e = &r->cands[r->at];
    uint8_t *sealed = NULL, *proof = NULL;
    size_t sealed_len = 0, proof_len = 0;
    if (!r->proof_retried)
        r->with_proof = !nq_sent(r->q, r->buy_id, e->id);
    int rc = enclave_prog_query_seal(e->box_pk, r->model_id, r->buy_id, RUN_PK(r), RUN_CODE(r),
                                     r->rows, r->n_rows, r->n_cols, &sealed, &sealed_len);
    if (rc != 0) {
        s_run_fail(r, "cannot seal the rows: %s", proto_err_str(rc));
        return rc;
    }
    if (r->with_proof && (rc = node_ledger_local_tx_proof(node_app_ledger(app), r->buy_id, &proof,
                                                          &proof_len, NULL)) != 0) {
        free(sealed);
        s_run_fail(r, "no proof of the buy on this node's ledger (not committed yet?): %s",
                   proto_err_str(rc));
        return rc;
    }
    enclave_req_t q;
    memset(&q, 0, sizeof q);
    q.type = ENCLAVE_REQ_QUERY;
    memcpy(q.u.query.model_id, r->model_id, 32);
    memcpy(q.u.query.buy_id, r->buy_id, 32);
    q.u.query.buy_proof = proof;
    q.u.query.buy_proof_len = proof_len;
    q.u.query.sealed = sealed;
    q.u.query.sealed_len = sealed_len;
    rc = enclave_wire_req_encode(&q, &r->req, &r->req_len);
    free(sealed);
    free(proof);
    if (rc != PROTO_OK) {
        r->req = NULL;
        s_run_fail(r, "cannot encode the query: %s", proto_err_str(rc));
    }
    return rc;
}

/* Sends R's QUERY to its current candidate (sealed once: a parked run keeps its request).
   True when R was parked (the relay has too many calls in flight: nq_runs_kick sends it
   later); else R goes on (its callback runs later) or was answered. */
static bool s_run_send(nq_run_t *r)
{
    const ledger_enclave_t *e = &r->cands[r->at];
    char why[256] = "";
    if (!r->req && s_run_request(r) != 0)
        return false;
    /* the callback runs later, on the loop, and frees R */
    int rc = node_enclave_relay_call(node_app_enclave_relay(r->q->app), e->id, r->req, r->req_len,
                                     NULL, s_on_answer, r, why, sizeof why);
    if (rc == NODE_E_BUSY) { /* too many calls in flight to the runner: wait for room */
        s_park(r);
        return true;
    }
    free(r->req); /* the relay copied it */
    r->req = NULL;
    r->waiting_since = 0;
    if (rc != 0)
        s_answered(r, rc, NULL, 0, why);
    return false;
}

/* ---------------------------------------------------------------- query_run */

/* The newest buy of MODEL_ID with an access code in DATADIR (of ACCOUNT when not NULL).
   0, or NODE_E_NOT_FOUND. */
static int s_buy_find(ledger_state_t *st, const char *datadir, const uint8_t model_id[static 32],
                      const uint8_t *account, uint8_t out[32])
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", datadir, NODE_SETTLE_ACCESS_DIR);
    DIR *d = opendir(dir);
    if (!d)
        return NODE_E_NOT_FOUND; /* no access codes kept here */
    uint64_t best = 0;
    bool found = false;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint8_t id[32];
        char hex[65];
        ledger_buy_t b;
        if (strlen(de->d_name) != 69 || strcmp(de->d_name + 64, ".code") != 0)
            continue;
        memcpy(hex, de->d_name, 64);
        hex[64] = '\0';
        if (proto_hex_decode(hex, id, 32) != 0 || ledger_buy_get(st, id, &b) != LEDGER_OK ||
            memcmp(b.model_id, model_id, 32) != 0 ||
            (account && memcmp(b.buyer, account, 32) != 0) || b.claimed >= b.count)
            continue;
        if (!found || b.height > best) {
            memcpy(out, id, 32);
            best = b.height;
            found = true;
        }
    }
    closedir(d);
    return found ? 0 : NODE_E_NOT_FOUND;
}

/* The query enclaves that may run MODEL (newest first) into R->cands. */
static void s_cands(ledger_state_t *st, const ledger_model_t *model, nq_run_t *r)
{
    ledger_enclave_t *all = NULL;
    size_t n = 0;
    if (ledger_enclave_list(st, PROTO_ATTEST_KIND_QUERY, &all, &n) != LEDGER_OK)
        return;
    for (size_t i = n; i-- > 0 && r->n_cands < NQ_CANDS_MAX;)
        if (all[i].status == LEDGER_ENCLAVE_ACTIVE &&
            memcmp(all[i].measurement, model->query_measurement, 32) == 0)
            r->cands[r->n_cands++] = all[i];
    free(all);
}

/* The rows of PARAMS (columns / rows) as the spec's features into R. 0, or NODE_E_PARAMS
   (NODE_E_NOMEM) with ERR. */
static int s_rows(json_t *params, const ledger_spec_t *spec, nq_run_t *r, char *err, size_t cap)
{
    json_t *cols = node_rpc_param(params, "columns", 1);
    json_t *rows = node_rpc_param(params, "rows", 2);
    size_t idx[LEDGER_SPEC_FEATURES_MAX];
    if (!json_is_array(cols) || json_array_size(cols) > NQ_COLS_MAX || !json_is_array(rows) ||
        json_array_size(rows) == 0 || json_array_size(rows) > ENCLAVE_QUERY_MAX_ROWS) {
        snprintf(err, cap, "columns: [names], rows: 1 to %u arrays of numbers",
                 ENCLAVE_QUERY_MAX_ROWS);
        return NODE_E_PARAMS;
    }
    if (spec->n_features == 0 || spec->n_features > LEDGER_SPEC_FEATURES_MAX) {
        snprintf(err, cap, "the model's spec names no features");
        return NODE_E_PARAMS;
    }
    for (uint32_t f = 0; f < spec->n_features; f++) {
        size_t k = 0;
        for (; k < json_array_size(cols); k++) {
            const char *name = json_string_value(json_array_get(cols, k));
            if (name && strcmp(name, spec->features[f]) == 0)
                break;
        }
        if (k == json_array_size(cols)) {
            snprintf(err, cap, "the input has no column %s (a feature of the model)",
                     spec->features[f]);
            return NODE_E_PARAMS;
        }
        idx[f] = k;
    }
    r->n_rows = json_array_size(rows);
    r->n_cols = spec->n_features;
    if (!(r->rows = calloc(r->n_rows * r->n_cols, sizeof *r->rows))) {
        snprintf(err, cap, "out of memory");
        return NODE_E_NOMEM;
    }
    for (size_t i = 0; i < r->n_rows; i++) {
        json_t *row = json_array_get(rows, i);
        if (!json_is_array(row) || json_array_size(row) != json_array_size(cols)) {
            snprintf(err, cap, "row %zu: not an array of %zu values", i + 1, json_array_size(cols));
            return NODE_E_PARAMS;
        }
        for (size_t f = 0; f < r->n_cols; f++) {
            json_t *v = json_array_get(row, idx[f]);
            double x = json_is_number(v) ? json_number_value(v) : NAN;
            if (!isfinite(x)) {
                snprintf(err, cap, "row %zu: feature %s missing or not a finite number", i + 1,
                         spec->features[f]);
                return NODE_E_PARAMS;
            }
            r->rows[i * r->n_cols + f] = x;
        }
    }
    return 0;
}

static json_t *s_m_run(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    (void)method;
    node_query_t *q = node_app_query(app);
    node_ledger_t *ledger = node_app_ledger(app);
    uint8_t model_id[32];
    if (!q || !ledger)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node runs without a ledger (start it with --genesis FILE)");
    if (node_rpc_param_id(params, "model", 0, model_id, code, err, cap) != 0)
        return NULL;
    nq_run_t *r = calloc(1, sizeof *r);
    ledger_state_t *st = node_ledger_local_state(ledger);
    ledger_model_t model;
    ledger_spec_t spec;
    char why[256];
    if (r)
        r->slot = -1;
    if (!r || !st || !(r->secret = s_secret_take(q, &r->slot))) {
        node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory (or too many queries)");
        goto err;
    }
    r->q = q;
    memcpy(r->model_id, model_id, 32);
    if (ledger_model_get(st, model_id, &model) != LEDGER_OK ||
        ledger_spec_get(st, model.spec_id, &spec) != LEDGER_OK) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no such model on the ledger");
        goto err;
    }
    if (s_rows(params, &spec, r, why, sizeof why) != 0) {
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "%s", why);
        goto err;
    }
    json_t *b = node_rpc_param(params, "buy", 3);
    const char *datadir = node_datadir_path(node_app_datadir(app));
    const proto_key_t *acct = node_app_account(app);
    if (b && !json_is_null(b)) {
        if (node_rpc_param_id(params, "buy", 3, r->buy_id, code, err, cap) != 0)
            goto err;
    } else if (s_buy_find(st, datadir, model_id, acct ? proto_key_public(acct) : NULL, r->buy_id) !=
               0) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      "no buy of this model with queries left has its access code here: "
                      "'genie query buy MODEL --count N' first");
        goto err;
    }
    ledger_buy_t buy;
    if (ledger_buy_get(st, r->buy_id, &buy) != LEDGER_OK ||
        memcmp(buy.model_id, model_id, 32) != 0) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no such buy of this model on the ledger");
        goto err;
    }
    if (node_settle_access_load(datadir, r->buy_id, RUN_CODE(r), why, sizeof why) != 0) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
        goto err;
    }
    crypto_box_keypair(RUN_PK(r), RUN_SK(r));
    s_cands(st, &model, r);
    ledger_state_destroy(&st);
    if (r->n_cands == 0) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      "no active query enclave with the model's query measurement");
        goto err;
    }
    if (!(r->token = node_app_rpc_defer(app))) {
        node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "cannot defer the answer");
        goto err;
    }
    r->next = q->runs;
    if (q->runs)
        q->runs->prev = r;
    q->runs = r;
    s_run_send(r); /* answers the deferred call, now or later */
    return NULL;
err:
    ledger_state_destroy(&st);
    if (r) {
        r->q = q;
        s_run_free(r);
    }
    return NULL;
}

/* ---------------------------------------------------------------- query_status */

static json_t *s_m_status(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap)
{
    (void)method;
    node_query_t *q = node_app_query(app);
    if (!q)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "this node runs without a ledger");
    if (json_is_true(node_rpc_param(params, "flush", 0)))
        node_query_flush(q);
    json_t *encs = json_array(), *usage = json_array();
    for (size_t i = 0; encs && i < NODE_ENCLAVE_MAX; i++) {
        const nq_enclave_t *e = &q->enclaves[i];
        if (!e->used)
            continue;
        json_t *models = json_array();
        for (size_t k = 0; models && k < e->n_models; k++)
            json_array_append_new(models,
                                  json_pack("{s:o,s:o}", "model", node_rpc_hex(e->models[k], 32),
                                            "model_hash", node_rpc_hex(e->hashes[k], 32)));
        json_array_append_new(encs,
                              json_pack("{s:o,s:b,s:I,s:o,s:s}", "enclave", node_rpc_hex(e->id, 32),
                                        "chain", e->chain_ok, "light", (json_int_t)e->light,
                                        "models", models ? models : json_null(), "why", e->why));
    }
    node_query_entry_t en;
    for (size_t i = 0; usage && node_query_core_entry(q->core, i, &en); i++)
        json_array_append_new(usage, json_pack("{s:o,s:o,s:I,s:I,s:I,s:b}", "enclave",
                                               node_rpc_hex(en.enclave_id, 32), "buy",
                                               node_rpc_hex(en.buy_id, 32), "reported",
                                               (json_int_t)en.reported, "submitted",
                                               (json_int_t)en.submitted, "confirmed",
                                               (json_int_t)en.confirmed, "dirty", en.dirty));
    json_t *out = json_pack("{s:o,s:o,s:I,s:I}", "enclaves", encs ? encs : json_null(), "usage",
                            usage ? usage : json_null(), "scanned",
                            (json_int_t)(node_query_core_scan_from(q->core) - 1), "vote_blocks",
                            (json_int_t)node_query_core_votes(q->core));
    if (!out)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
    return out;
}

int node_query_register(node_app_t *app)
{
    static const node_app_method_t methods[] = {
        {"query_run", s_m_run},
        {"query_status", s_m_status},
    };
    return node_app_methods_add(app, methods, sizeof methods / sizeof methods[0]);
}
