/*  node_query: the query runner's side (see node_query.h): CHAIN for each query enclave,
 *  loading published models (MODEL_SEAL at the coordinator, MODEL_LOAD here), usage
 *  claims (node_query_core's decisions), the timer. query_run and query_status are in
 *  node_query_rpc.c.
 */
#include "node/service/node_query.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_wire.h"
#include "ledger/ledger_model.h"
#include "node/app/node_app.h"
#include "node/service/node_account.h"
#include "node/service/node_enclave_relay.h"
#include "node/service/node_ledger_local.h"
#include "node/service/node_query_int.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_publish.h"

/* A MODEL_SEAL call in flight: for which enclave (by id) and which model. */
struct nq_seal_t {
    node_query_t *q;
    uint8_t enclave_id[32];
    uint8_t model_id[32];
    uint8_t model_hash[32];
    nq_seal_t *prev, *next;
};

uint64_t nq_now(void)
{
    return (uint64_t)zclock_mono();
}

static void s_short(const uint8_t id[static 32], char out[17])
{
    proto_hex_encode(id, 8, out);
}

bool nq_sent(const node_query_t *q, const uint8_t buy_id[static 32],
             const uint8_t enclave_id[static 32])
{
    for (size_t i = 0; i < q->n_sent; i++)
        if (memcmp(q->sent[i], buy_id, 32) == 0 && memcmp(q->sent[i] + 32, enclave_id, 32) == 0)
            return true;
    return false;
}

void nq_sent_add(node_query_t *q, const uint8_t buy_id[static 32],
                 const uint8_t enclave_id[static 32])
{
    if (nq_sent(q, buy_id, enclave_id))
        return;
    memcpy(q->sent[q->sent_next], buy_id, 32);
    memcpy(q->sent[q->sent_next] + 32, enclave_id, 32);
    q->sent_next = (q->sent_next + 1) % NQ_SENT_MAX;
    if (q->n_sent < NQ_SENT_MAX)
        q->n_sent++;
}

nq_enclave_t *nq_enclave(node_query_t *q, const uint8_t id[static 32])
{
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++)
        if (q->enclaves[i].used && memcmp(q->enclaves[i].id, id, 32) == 0)
            return &q->enclaves[i];
    return NULL;
}

static void s_trouble(nq_enclave_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_trouble(nq_enclave_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->why, sizeof e->why, fmt, ap);
    va_end(ap);
    e->retry_at = nq_now() + e->backoff;
    e->backoff =
        e->backoff * 2 > NODE_QUERY_RETRY_MAX_MS ? NODE_QUERY_RETRY_MAX_MS : e->backoff * 2;
    char eid[17];
    s_short(e->id, eid);
    GLOG(INFO, NODE, "query enclave %s: %s", eid, e->why);
}

/* ---------------------------------------------------------------- CHAIN */

/* A CHAIN, MODEL_LOAD or USAGE call to an enclave of this runner, in flight. */
typedef struct {
    node_query_t *q;
    uint8_t enclave_id[32];
    uint64_t tag;       /* USAGE: the core's action */
    uint8_t buy_id[32]; /* USAGE: the buy asked about */
} nq_call_t;

static nq_call_t *s_call_new(node_query_t *q, const uint8_t enclave_id[static 32])
{
    nq_call_t *c = calloc(1, sizeof *c);
    if (c) {
        c->q = q;
        memcpy(c->enclave_id, enclave_id, 32);
    }
    return c;
}

static void s_chained(node_query_t *q, nq_enclave_t *e, int rc, const uint8_t *ans, size_t ans_len,
                      const char *why_in)
{
    char why[192] = "";
    enclave_ans_t a;
    if (rc != 0)
        snprintf(why, sizeof why, "%.180s", why_in);
    else if (enclave_wire_ans_decode(ans, ans_len, &a) != PROTO_OK)
        snprintf(why, sizeof why, "the CHAIN answer does not decode");
    else if (a.type == ENCLAVE_ANS_CHAIN &&
             memcmp(a.u.chain.chain_id, node_app_chain_id(q->app), 32) == 0) {
        e->chain_ok = true;
        e->why[0] = '\0';
    } else if (a.type == ENCLAVE_ANS_ERROR) {
        snprintf(why, sizeof why, "refused CHAIN: %.128s", a.u.error.msg);
    } else {
        snprintf(why, sizeof why, "answered CHAIN with another chain id");
    }
    if (!e->chain_ok)
        s_trouble(e, "%s", why[0] ? why : "CHAIN failed");
    else {
        char eid[17];
        s_short(e->id, eid);
        GLOG(INFO, NODE, "query enclave %s follows this chain", eid);
    }
}

static void s_on_chain(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    nq_call_t *c = ctx;
    nq_enclave_t *e = nq_enclave(c->q, c->enclave_id);
    if (e) { /* else the enclave restarted or stopped meanwhile */
        e->chain_busy = false;
        s_chained(c->q, e, rc, ans, ans_len, why);
    }
    free(c);
}

static void s_chain(node_query_t *q, nq_enclave_t *e)
{
    node_ledger_t *ledger = node_app_ledger(q->app);
    node_enclave_t *enc = node_app_enclave(q->app);
    size_t glen = 0;
    const uint8_t *genesis = ledger ? node_ledger_local_genesis(ledger, &glen) : NULL;
    if (!genesis || !enc)
        return;
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_CHAIN;
    r.u.chain.genesis = genesis;
    r.u.chain.genesis_len = glen;
    uint8_t *req = NULL;
    size_t req_len = 0;
    char why[192] = "";
    nq_call_t *c = NULL;
    int rc = enclave_wire_req_encode(&r, &req, &req_len);
    if (rc != PROTO_OK)
        snprintf(why, sizeof why, "cannot encode CHAIN");
    else if (!(c = s_call_new(q, e->id)))
        rc = proto_err_fail(why, sizeof why, NODE_E_FAILED, "out of memory");
    else
        rc = node_enclave_call_start(enc, e->id, req, req_len, s_on_chain, c, why, sizeof why);
    free(req);
    if (rc == 0) {
        e->chain_busy = true; /* s_on_chain goes on */
        return;
    }
    free(c);
    s_trouble(e, "%s", why[0] ? why : "CHAIN failed");
}

/* ---------------------------------------------------------------- models */

static void s_seal_free(nq_seal_t *c)
{
    node_query_t *q = c->q;
    if (c->prev)
        c->prev->next = c->next;
    else
        q->seals = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

/* E's answer to the MODEL_LOAD of C's model: RC, ANS (ANS_LEN), or WHY_IN. */
static void s_loaded_answer(nq_enclave_t *e, const nq_seal_t *c, int rc, const uint8_t *ans,
                            size_t ans_len, const char *why_in)
{
    char why[192] = "", mid[17];
    enclave_ans_t a;
    s_short(c->model_id, mid);
    if (rc == 0 && enclave_wire_ans_decode(ans, ans_len, &a) == PROTO_OK) {
        if (a.type == ENCLAVE_ANS_LOADED && memcmp(a.u.loaded.model_id, c->model_id, 32) == 0 &&
            memcmp(a.u.loaded.model_hash, c->model_hash, 32) == 0) {
            if (e->n_models < ENCLAVE_QUERY_MAX_MODELS) {
                memcpy(e->models[e->n_models], a.u.loaded.model_id, 32);
                memcpy(e->hashes[e->n_models++], a.u.loaded.model_hash, 32);
            }
            char eid[17], hash[65];
            s_short(e->id, eid);
            proto_hex_encode(a.u.loaded.model_hash, 32, hash);
            GLOG(INFO, NODE, "query enclave %s loaded model %s (hash %s)", eid, mid, hash);
            e->why[0] = '\0';
            e->backoff = NODE_QUERY_RETRY_MS;
            return;
        }
        if (a.type == ENCLAVE_ANS_ERROR)
            snprintf(why, sizeof why, "model %s: MODEL_LOAD refused: %.128s", mid, a.u.error.msg);
        else
            snprintf(why, sizeof why, "model %s: MODEL_LOAD answered another model or hash", mid);
    } else if (rc == 0) {
        snprintf(why, sizeof why, "model %s: the MODEL_LOAD answer does not decode", mid);
    } else {
        snprintf(why, sizeof why, "model %s: MODEL_LOAD failed: %.140s", mid, why_in);
    }
    s_trouble(e, "%s", why);
}

static void s_on_loaded(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    nq_seal_t *c = ctx;
    nq_enclave_t *e = nq_enclave(c->q, c->enclave_id);
    if (e) { /* else the enclave restarted or stopped meanwhile */
        e->busy = false;
        s_loaded_answer(e, c, rc, ans, ans_len, why);
    }
    s_seal_free(c);
}

/* MODEL_LOAD of SEALED (the coordinator's answer) with the MODEL_PUBLISH proof into E,
   queued to the enclave: C (the MODEL_SEAL's call, taken over) goes to s_on_loaded, or is
   freed here on failure; E stays busy meanwhile. */
static void s_load(node_query_t *q, nq_enclave_t *e, nq_seal_t *c, const uint8_t *sealed,
                   size_t sealed_len)
{
    node_ledger_t *ledger = node_app_ledger(q->app);
    node_enclave_t *enc = node_app_enclave(q->app);
    uint8_t *proof = NULL, *req = NULL;
    size_t proof_len = 0, req_len = 0;
    char why[192] = "", mid[17];
    s_short(c->model_id, mid);
    int rc = ledger && enc
                 ? node_ledger_local_tx_proof(ledger, c->model_id, &proof, &proof_len, NULL)
                 : NODE_E_FAILED;
    if (rc != 0) {
        snprintf(why, sizeof why, "model %s: no proof of its MODEL_PUBLISH: %s", mid,
                 proto_err_str(rc));
        goto fail;
    }
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_MODEL_LOAD;
    r.u.model_load.sealed = sealed;
    r.u.model_load.sealed_len = sealed_len;
    r.u.model_load.proof = proof;
    r.u.model_load.proof_len = proof_len;
    rc = enclave_wire_req_encode(&r, &req, &req_len);
    free(proof);
    if (rc == PROTO_OK)
        rc = node_enclave_call_start(enc, e->id, req, req_len, s_on_loaded, c, why, sizeof why);
    else
        snprintf(why, sizeof why, "model %s: cannot encode MODEL_LOAD", mid);
    free(req);
    if (rc == 0)
        return; /* s_on_loaded goes on */
fail:
    e->busy = false;
    s_seal_free(c);
    s_trouble(e, "%s", why[0] ? why : "MODEL_LOAD failed");
}

static void s_on_sealed(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    nq_seal_t *c = ctx;
    node_query_t *q = c->q;
    nq_enclave_t *e = nq_enclave(q, c->enclave_id);
    char msg[192] = "";
    if (!e) { /* the enclave restarted or stopped meanwhile */
        s_seal_free(c);
        return;
    }
    enclave_ans_t a;
    if (rc != 0) {
        snprintf(msg, sizeof msg, "MODEL_SEAL at the coordinator failed: %.140s",
                 why ? why : proto_err_str(rc));
    } else if (enclave_wire_ans_decode(ans, ans_len, &a) != PROTO_OK) {
        snprintf(msg, sizeof msg, "the coordinator's MODEL_SEAL answer does not decode");
    } else if (a.type == ENCLAVE_ANS_ERROR) {
        snprintf(msg, sizeof msg, "the coordinator refused MODEL_SEAL: %.128s", a.u.error.msg);
    } else if (a.type != ENCLAVE_ANS_SEALED_MODEL) {
        snprintf(msg, sizeof msg, "the coordinator answered MODEL_SEAL with type %d", (int)a.type);
    } else {
        s_load(q, e, c, a.u.blob.bytes, a.u.blob.len); /* takes C over; E stays busy */
        return;
    }
    e->busy = false;
    s_trouble(e, "%s", msg);
    s_seal_free(c);
}

static bool s_loaded(const nq_enclave_t *e, const uint8_t model_id[static 32])
{
    for (size_t i = 0; i < e->n_models; i++)
        if (memcmp(e->models[i], model_id, 32) == 0)
            return true;
    return false;
}

/* Starts loading the newest model of E's measurement it lacks (one at a time), once E's
   light client has the authority votes scanned so far (a MODEL_PUBLISH certified by a newer
   set would be refused before), unless feeding them fails. */
static void s_models(node_query_t *q, nq_enclave_t *e, ledger_state_t *st)
{
    uint64_t pending = 0;
    if (e->busy || !e->chain_ok || nq_now() < e->retry_at ||
        e->n_models >= ENCLAVE_QUERY_MAX_MODELS ||
        (node_query_core_feed_next(q->core, e->light, &pending) &&
         e->feed_backoff <= NODE_QUERY_RETRY_MS))
        return;
    ledger_model_t *models = NULL;
    size_t n = 0, seen = 0;
    if (ledger_model_list(st, NULL, &models, &n) != LEDGER_OK)
        return;
    const ledger_model_t *want = NULL;
    for (size_t i = n; i-- > 0 && !want && seen < ENCLAVE_QUERY_MAX_MODELS;) {
        if (memcmp(models[i].query_measurement, e->measurement, 32) != 0)
            continue;
        seen++;
        if (!s_loaded(e, models[i].id))
            want = &models[i];
    }
    uint8_t *quote = NULL, *req = NULL;
    size_t quote_len = 0, req_len = 0;
    char why[192] = "";
    nq_seal_t *c = NULL;
    if (!want)
        goto out;
    if (node_enclave_quote(node_app_enclave(q->app), e->id, &quote, &quote_len) != 0) {
        s_trouble(e, "%s", "its quote cannot be encoded");
        goto out;
    }
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_MODEL_SEAL;
    memcpy(r.u.model_seal.job_id, want->job_id, 32);
    r.u.model_seal.quote = quote;
    r.u.model_seal.quote_len = quote_len;
    if (enclave_wire_req_encode(&r, &req, &req_len) != PROTO_OK || !(c = calloc(1, sizeof *c))) {
        s_trouble(e, "%s", "cannot make the MODEL_SEAL request");
        goto out;
    }
    c->q = q;
    memcpy(c->enclave_id, e->id, 32);
    memcpy(c->model_id, want->id, 32);
    memcpy(c->model_hash, want->model_hash, 32);
    c->next = q->seals;
    if (q->seals)
        q->seals->prev = c;
    q->seals = c;
    e->busy = true;
    /* the callback runs later, on the loop (the coordinator may be ours) */
    int rc = node_enclave_relay_call(node_app_enclave_relay(q->app), want->coordinator, req,
                                     req_len, NULL, s_on_sealed, c, why, sizeof why);
    if (rc != 0) {
        e->busy = false;
        s_seal_free(c);
        s_trouble(e, "MODEL_SEAL cannot be sent to the coordinator: %s", why);
    }
out:
    free(req);
    free(quote);
    free(models);
}

/* ---------------------------------------------------------------- usage */

void node_query_served(node_query_t *self, const uint8_t enclave_id[static 32],
                       const uint8_t buy_id[static 32])
{
    if (!self)
        return;
    if (!node_query_core_served(self->core, enclave_id, buy_id, nq_now())) {
        char bid[17];
        s_short(buy_id, bid);
        GLOG(WARN, NODE, "usage of buy %s not tracked: every usage entry is unsettled", bid);
    }
}

void node_query_flush(node_query_t *self)
{
    if (!self)
        return;
    node_query_core_flush(self->core);
    nq_usage_pump(self);
}

static void s_on_usage(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    (void)why;
    nq_call_t *c = ctx;
    node_query_t *q = c->q;
    enclave_ans_t ea;
    proto_usage_t u;
    uint8_t eid[32];
    uint64_t count = 0;
    const uint8_t *rep = NULL;
    size_t rep_len = 0;
    if (rc == 0) {
        rc = NODE_E_REFUSED;
        if (enclave_wire_ans_decode(ans, ans_len, &ea) == PROTO_OK &&
            ea.type == ENCLAVE_ANS_USAGE &&
            proto_usage_decode(ea.u.blob.bytes, ea.u.blob.len, &u) == PROTO_OK &&
            proto_usage_verify(&u) == PROTO_OK && memcmp(u.buy_id, c->buy_id, 32) == 0 &&
            (ledger_enclave_id(u.enclave_pk, eid), memcmp(eid, c->enclave_id, 32) == 0)) {
            rc = 0;
            count = u.count;
            rep = ea.u.blob.bytes;
            rep_len = ea.u.blob.len;
        }
    }
    node_query_core_usage(q->core, c->tag, rc, count, rep, rep_len, nq_now());
    free(c);
    nq_usage_pump(q); /* a report in hand: its claim */
}

/* USAGE of the action A's buy from its (local) enclave, queued to it: s_on_usage feeds the
   core with the answer. */
static void s_usage_ask(node_query_t *q, const node_query_act_t *a)
{
    node_enclave_t *enc = node_app_enclave(q->app);
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_USAGE;
    memcpy(r.u.usage.buy_id, a->buy_id, 32);
    uint8_t *req = NULL;
    size_t req_len = 0;
    char why[192];
    nq_call_t *c = NULL;
    int rc = enc ? enclave_wire_req_encode(&r, &req, &req_len) : NODE_E_NO_ENCLAVE;
    if (rc == PROTO_OK && !(c = s_call_new(q, a->enclave_id)))
        rc = NODE_E_FAILED;
    if (rc == PROTO_OK) {
        c->tag = a->tag;
        memcpy(c->buy_id, a->buy_id, 32);
        rc = node_enclave_call_start(enc, a->enclave_id, req, req_len, s_on_usage, c, why,
                                     sizeof why);
    }
    free(req);
    if (rc != 0) {
        free(c);
        node_query_core_usage(q->core, a->tag, rc, 0, NULL, 0, nq_now());
    }
}

static void s_usage_claim(node_query_t *q, const node_query_act_t *a)
{
    node_app_t *app = q->app;
    const proto_key_t *key = node_app_account(app);
    uint64_t nonce = 0;
    char why[256] = "no account key to sign USAGE_CLAIM with";
    uint8_t txid[32];
    int rc = key ? node_account_nonce(app, &nonce, why, sizeof why) : NODE_E_NO_ACCOUNT;
    if (rc == 0) {
        size_t len = 0;
        uint8_t *tx = ledger_contract_usage_claim_tx(key, node_app_chain_id(app), nonce, a->usage,
                                                     a->usage_len, &len);
        rc = tx ? node_account_submit(app, tx, len, txid, why, sizeof why) : NODE_E_FAILED;
        free(tx);
    }
    char bid[17];
    s_short(a->buy_id, bid);
    if (rc == 0)
        GLOG(INFO, NODE, "usage of buy %s claimed: %" PRIu64 " queries", bid, a->count);
    else
        GLOG(INFO, NODE, "usage claim of buy %s not submitted: %s", bid, why);
    node_query_core_submitted(q->core, a->tag, rc, nq_now());
}

void nq_usage_pump(node_query_t *q)
{
    if (q->pumping)
        return;
    q->pumping = true;
    node_query_act_t a;
    for (int guard = 0; guard < 256 && node_query_core_next(q->core, nq_now(), &a); guard++) {
        if (a.kind == NODE_QUERY_ACT_USAGE)
            s_usage_ask(q, &a);
        else
            s_usage_claim(q, &a);
    }
    q->pumping = false;
}

/* The ledger's claimed counts for the entries with a claim in flight. */
static void s_usage_confirm(node_query_t *q, ledger_state_t *st)
{
    node_query_entry_t e;
    for (size_t i = 0; node_query_core_entry(q->core, i, &e); i++) {
        uint64_t claimed = 0;
        if (e.submitted > e.confirmed &&
            ledger_buy_claimed(st, e.buy_id, e.enclave_id, &claimed) == LEDGER_OK)
            node_query_core_confirmed(q->core, e.enclave_id, e.buy_id, claimed);
    }
}

/* ---------------------------------------------------------------- the timer */

/* Our query enclaves as they run now (a restarted one has a new id: a new entry). */
static void s_sync_enclaves(node_query_t *q)
{
    node_enclave_info_t local[NODE_ENCLAVE_MAX];
    size_t n = node_enclave_list_local(node_app_enclave(q->app), ENCLAVE_KIND_QUERY, local,
                                       NODE_ENCLAVE_MAX);
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        nq_enclave_t *e = &q->enclaves[i];
        bool alive = false;
        for (size_t k = 0; k < n && e->used && !alive; k++)
            alive = memcmp(local[k].id, e->id, 32) == 0;
        if (e->used && !alive)
            memset(e, 0, sizeof *e);
    }
    for (size_t k = 0; k < n; k++) {
        if (!local[k].registered || nq_enclave(q, local[k].id))
            continue;
        for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
            nq_enclave_t *e = &q->enclaves[i];
            if (e->used)
                continue;
            e->used = true;
            memcpy(e->id, local[k].id, 32);
            memcpy(e->measurement, local[k].measurement, 32);
            e->backoff = NODE_QUERY_RETRY_MS;
            e->feed_backoff = NODE_QUERY_RETRY_MS;
            break;
        }
    }
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    node_query_t *q = arg;
    nq_runs_kick(q); /* the user's side: query_run calls parked for room in the relay */
    node_ledger_t *ledger = node_app_ledger(q->app);
    if (!ledger || !node_app_enclave(q->app) || node_ledger_local_syncing(ledger))
        return 0;
    s_sync_enclaves(q);
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++) {
        nq_enclave_t *e = &q->enclaves[i];
        if (e->used && !e->chain_ok && !e->chain_busy && nq_now() >= e->retry_at)
            s_chain(q, e);
    }
    nq_chain_scan(q);
    for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++)
        if (q->enclaves[i].used)
            nq_chain_feed(q, &q->enclaves[i]);
    ledger_state_t *st = node_ledger_local_state(ledger);
    if (st) {
        for (size_t i = 0; i < NODE_ENCLAVE_MAX; i++)
            if (q->enclaves[i].used)
                s_models(q, &q->enclaves[i], st);
        s_usage_confirm(q, st);
        ledger_state_destroy(&st);
    }
    nq_usage_pump(q);
    return 0;
}

/* ---------------------------------------------------------------- life */

node_query_t *node_query_new(node_app_t *app, char *err, size_t err_cap)
{
    node_query_t *q = calloc(1, sizeof *q);
    if (!q || !(q->core = node_query_core_new()) || !(q->sent = calloc(NQ_SENT_MAX, 64))) {
        if (q) {
            node_query_core_destroy(&q->core);
            free(q);
        }
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    q->app = app;
    q->timer = zloop_timer(node_app_loop(app), NODE_QUERY_POLL_MS, 0, s_on_timer, q);
    if (q->timer < 0) {
        node_query_core_destroy(&q->core);
        free(q->sent);
        free(q);
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create the query timer");
        return NULL;
    }
    return q;
}

void node_query_destroy(node_query_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_query_t *q = *self_p;
    if (q->timer >= 0 && node_app_loop(q->app))
        zloop_timer_end(node_app_loop(q->app), q->timer);
    while (q->seals)
        s_seal_free(q->seals);
    nq_runs_drop(q);
    node_query_core_destroy(&q->core);
    free(q->sent);
    free(q);
    *self_p = NULL;
}
