/*  node_market: the offers book, the recruitment room policy, matching, and the trainer,
 *  spec, recruit and offers methods (see node_market.h; donation is node_market_donate.c).
 */
#include "node/service/node_market.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_account.h"
#include "node/service/node_data.h"
#include "node/service/node_ledger_int.h"
#include "node/service/node_market_int.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"

#define J(v) json_integer((json_int_t)(v))

static const char *const s_agg_names[] = {NULL, "mean", "median", "trimmed", "krum"};

/* ---------------------------------------------------------------- lifecycle */

node_market_t *node_market_new(node_app_t *app, char *err, size_t cap)
{
    node_market_t *self = calloc(1, sizeof *self);
    if (!self) {
        proto_err_fail(err, cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    self->app = app;
    self->repost_timer = -1;
    uint32_t roles = node_config_roles(node_app_config(app));
    if ((roles & (NODE_ROLE_DATA_OWNER | NODE_ROLE_TRAINER)) && node_app_p2p(app)) {
        char why[256];
        if (p2p_node_room_join(node_app_p2p(app), NODE_MARKET_ROOM, why, sizeof why) != 0) {
            proto_err_fail(err, cap, NODE_E_FAILED, "cannot join room %s: %s", NODE_MARKET_ROOM,
                           why);
            free(self);
            return NULL;
        }
    }
    return self;
}

void node_market_destroy(node_market_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_market_t *self = *self_p;
    if (self->repost_timer >= 0)
        zloop_timer_end(node_app_loop(self->app), self->repost_timer);
    nm_donations_drop(self);
    free(self->auto_done);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- shared reads */

ledger_state_t *nm_state(node_app_t *app, char *why, size_t cap)
{
    node_ledger_t *l = node_app_ledger(app);
    if (!l) {
        snprintf(why, cap, "this node runs without a ledger (start it with --genesis FILE)");
        return NULL;
    }
    ledger_state_t *st = ledger_state_new(l->store);
    if (!st)
        snprintf(why, cap, "out of memory");
    return st;
}

nm_offer_t *nm_offer_find(node_market_t *self, const uint8_t spec_id[static 32])
{
    for (size_t i = 0; i < NODE_MARKET_OFFERS_MAX; i++)
        if (self->offers[i].used && memcmp(self->offers[i].post.spec_id, spec_id, 32) == 0)
            return &self->offers[i];
    return NULL;
}

json_t *nm_spec_json(const ledger_spec_t *s)
{
    json_t *features = json_array();
    for (uint32_t i = 0; i < s->n_features && i < LEDGER_SPEC_FEATURES_MAX; i++)
        json_array_append_new(features, json_string(s->features[i]));
    const char *agg =
        s->aggregation >= 1 && s->aggregation <= 4 ? s_agg_names[s->aggregation] : "unknown";
    json_t *o = json_object();
    json_object_set_new(o, "spec_id", node_rpc_hex(s->id, 32));
    json_object_set_new(o, "trainer", node_rpc_hex(s->trainer, 32));
    json_object_set_new(o, "model_type", json_string(s->model_type));
    json_object_set_new(o, "purpose", json_string(s->purpose));
    json_object_set_new(o, "label", json_string(s->label));
    json_object_set_new(o, "features", features);
    json_object_set_new(o, "measurement", node_rpc_hex(s->measurement, 32));
    json_object_set_new(o, "min_donors", J(s->min_donors));
    json_object_set_new(o, "max_epsilon_milli", J(s->max_epsilon_milli));
    json_object_set_new(o, "aggregation", json_string(agg));
    json_object_set_new(o, "price", J(s->price));
    json_t *shares = json_pack("[I,I,I]", (json_int_t)s->share_donors_bp,
                               (json_int_t)s->share_trainer_bp, (json_int_t)s->share_runner_bp);
    json_object_set_new(o, "shares_bp", shares);
    json_object_set_new(o, "height", J(s->height));
    json_object_set_new(o, "donors", J(s->n_donors));
    return o;
}

/* ---------------------------------------------------------------- room policy and book */

/*  The verdict on a recruitment post DATA (LEN): 0 when it passes (*POST decoded), else
 *  NODE_E_REFUSED or ledger_recruit_check's code (its rule against the committed ledger)
 *  with the reason in ERR (may be NULL). */
static int s_judge(node_market_t *self, const uint8_t *data, size_t len, proto_recruit_t *post,
                   char *err, size_t err_cap)
{
    if (proto_recruit_decode(data, len, post) != PROTO_OK)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED, "not a recruitment post");
    char why[NM_WHY_MAX];
    ledger_state_t *st = nm_state(self->app, why, sizeof why);
    if (!st)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED, "no ledger to check it against");
    int rc = ledger_recruit_check(st, post, (uint64_t)zclock_time(), err, err_cap);
    ledger_state_destroy(&st);
    return rc;
}

bool node_market_policy(node_market_t *self, const uint8_t from[static 32], const uint8_t *data,
                        size_t len)
{
    if (!self)
        return false;
    proto_recruit_t post;
    char why[LEDGER_ERR_MAX] = "";
    if (s_judge(self, data, len, &post, why, sizeof why) != 0) {
        char id[9];
        proto_hex_encode(from, 4, id);
        GLOG(DEBUG, NODE, "refused a recruitment post from node %s: %s", id, why);
        return false;
    }
    return true;
}

void node_market_on_post(node_market_t *self, const uint8_t from[static 32], const uint8_t *data,
                         size_t len)
{
    proto_recruit_t post;
    /* our own posts skip the p2p policy on the way out: judge them all the same */
    if (!self || s_judge(self, data, len, &post, NULL, 0) != 0)
        return;
    nm_offer_t *o = nm_offer_find(self, post.spec_id);
    if (o && o->post.time_ms >= post.time_ms)
        return; /* an older or the same post of a spec we have */
    if (!o) {
        o = &self->offers[0];
        for (size_t i = 0; i < NODE_MARKET_OFFERS_MAX; i++) {
            if (!self->offers[i].used) {
                o = &self->offers[i];
                break;
            }
            if (self->offers[i].seq < o->seq)
                o = &self->offers[i];
        }
    }
    o->used = true;
    o->post = post;
    memcpy(o->origin, from, 32);
    o->recv_ms = (uint64_t)zclock_time();
    o->seq = ++self->seq;
    char id[17];
    proto_hex_encode(post.spec_id, 8, id);
    GLOG(INFO, NODE, "recruitment offer for spec %s", id);
    if (node_config_auto_donate(node_app_config(self->app)))
        nm_auto_donate(self, o);
}

static node_market_t *s_market(node_app_t *app, int *code, char *err, size_t cap)
{
    node_market_t *m = node_app_market(app);
    if (!m)
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                      "this node runs without a ledger (start it with --genesis FILE)");
    return m;
}

/* ---------------------------------------------------------------- methods */

/* Signs nothing itself: BUILD made TX (LEN) with the node account; submits it. */
static json_t *s_submit(node_app_t *app, uint8_t *tx, size_t len, int *code, char *err, size_t cap,
                        uint8_t txid[static 32])
{
    char why[256];
    if (!tx)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "the transaction could not be built (a field out of its bounds)");
    int rc = node_account_submit(app, tx, len, txid, why, sizeof why);
    free(tx);
    if (rc != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "submit failed: %s", why);
    return json_object();
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

static json_t *m_trainer_register(node_app_t *app, const char *method, json_t *params, int *code,
                                  char *err, size_t cap)
{
    (void)method;
    const char *name = node_rpc_param_str(params, "name", 0, code, err, cap);
    if (!name || !s_market(app, code, err, cap))
        return NULL;
    if (!ledger_text_valid(name, strlen(name)))
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "name: 1..%d characters of printable ASCII", LEDGER_TEXT_MAX);
    uint64_t nonce;
    const proto_key_t *key = s_account(app, &nonce, code, err, cap);
    if (!key)
        return NULL;
    size_t len = 0;
    uint8_t *tx =
        ledger_contract_trainer_register_tx(key, node_app_chain_id(app), nonce, name, &len);
    uint8_t txid[32];
    json_t *out = s_submit(app, tx, len, code, err, cap, txid);
    if (out) {
        json_object_set_new(out, "txid", node_rpc_hex(txid, 32));
        json_object_set_new(out, "account", node_rpc_hex(proto_key_public(key), 32));
    }
    return out;
}

/* Copies the JSON array of names / texts ARR into the fixed table OUT (MAX rows of CAP
   bytes); false when it is not an array of at most MAX strings that fit. */
static bool s_strings(const json_t *arr, char *out, size_t max, size_t cap, uint32_t *n)
{
    if (!json_is_array(arr) || json_array_size(arr) > max)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) >= cap)
            return false;
        memcpy(out + i * cap, json_string_value(v), json_string_length(v) + 1);
    }
    *n = (uint32_t)json_array_size(arr);
    return true;
}

/* Spec fields from PARAMS into S; NULL (S filled) or the refused parameter's message. */
static const char *s_spec_params(json_t *params, ledger_spec_t *s)
{
    memset(s, 0, sizeof *s);
    const json_t *v;
    const char *names[] = {"model_type", "purpose", "label"};
    char *dst[] = {s->model_type, s->purpose, s->label};
    size_t caps[] = {sizeof s->model_type, sizeof s->purpose, sizeof s->label};
    for (int i = 0; i < 3; i++) {
        v = node_rpc_param(params, names[i], 0);
        if (!json_is_string(v) || json_string_length(v) >= caps[i])
            return i == 2 ? "label: 1..64 characters of printable ASCII"
                          : "model_type and purpose: 1..32 characters of [a-z0-9_-]";
        memcpy(dst[i], json_string_value(v), json_string_length(v) + 1);
    }
    if (!ledger_name_valid(s->model_type, strlen(s->model_type), false) ||
        !ledger_name_valid(s->purpose, strlen(s->purpose), false))
        return "model_type and purpose: 1..32 characters of [a-z0-9_-] (no wildcard)";
    if (!ledger_text_valid(s->label, strlen(s->label)))
        return "label: 1..64 characters of printable ASCII";
    if (!s_strings(node_rpc_param(params, "features", 0), &s->features[0][0],
                   LEDGER_SPEC_FEATURES_MAX, sizeof s->features[0], &s->n_features) ||
        s->n_features == 0)
        return "features: 1..64 names of 1..64 printable ASCII characters";
    for (uint32_t i = 0; i < s->n_features; i++)
        if (!ledger_text_valid(s->features[i], strlen(s->features[i])))
            return "features: 1..64 names of 1..64 printable ASCII characters";
    v = node_rpc_param(params, "measurement", 0);
    if (!json_is_string(v) || json_string_length(v) != 64 ||
        proto_hex_decode(json_string_value(v), s->measurement, 32) != 0)
        return "measurement: 64 hex characters";
    struct {
        const char *name;
        uint64_t max;
        uint64_t *u64;
        uint32_t *u32;
    } ints[] = {{"min_donors", UINT32_MAX, NULL, &s->min_donors},
                {"max_epsilon_milli", UINT32_MAX, NULL, &s->max_epsilon_milli},
                {"price", UINT64_MAX, &s->price, NULL}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        v = node_rpc_param(params, ints[i].name, 0);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            (uint64_t)json_integer_value(v) > ints[i].max)
            return "min_donors, max_epsilon_milli and price: non-negative integers";
        if (ints[i].u64)
            *ints[i].u64 = (uint64_t)json_integer_value(v);
        else
            *ints[i].u32 = (uint32_t)json_integer_value(v);
    }
    if (s->min_donors < 1)
        return "min_donors: at least 1";
    v = node_rpc_param(params, "aggregation", 0);
    for (uint32_t a = 1; a <= 4 && json_is_string(v); a++)
        if (strcmp(json_string_value(v), s_agg_names[a]) == 0)
            s->aggregation = a;
    if (s->aggregation == 0)
        return "aggregation: mean, median, trimmed or krum";
    v = node_rpc_param(params, "shares", 0);
    uint64_t sh[3];
    for (size_t i = 0; i < 3; i++) {
        const json_t *e = json_is_array(v) && json_array_size(v) == 3 ? json_array_get(v, i) : NULL;
        if (!json_is_integer(e) || json_integer_value(e) < 0 ||
            json_integer_value(e) > LEDGER_SHARES_BP)
            return "shares: [donors_bp, trainer_bp, runner_bp] summing to 10000";
        sh[i] = (uint64_t)json_integer_value(e);
    }
    if (sh[0] + sh[1] + sh[2] != LEDGER_SHARES_BP)
        return "shares: [donors_bp, trainer_bp, runner_bp] summing to 10000";
    s->share_donors_bp = (uint32_t)sh[0];
    s->share_trainer_bp = (uint32_t)sh[1];
    s->share_runner_bp = (uint32_t)sh[2];
    return NULL;
}

static json_t *m_spec_register(node_app_t *app, const char *method, json_t *params, int *code,
                               char *err, size_t cap)
{
    (void)method;
    if (!s_market(app, code, err, cap))
        return NULL;
    ledger_spec_t *s = malloc(sizeof *s);
    if (!s)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
    json_t *out = NULL;
    const char *bad = s_spec_params(params, s);
    uint64_t nonce;
    const proto_key_t *key = NULL;
    if (bad)
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "%s", bad);
    else if ((key = s_account(app, &nonce, code, err, cap)) != NULL) {
        size_t len = 0;
        uint8_t *tx = ledger_contract_spec_register_tx(key, node_app_chain_id(app), nonce, s, &len);
        uint8_t txid[32];
        out = s_submit(app, tx, len, code, err, cap, txid);
        if (out) {
            json_object_set_new(out, "txid", node_rpc_hex(txid, 32));
            json_object_set_new(out, "spec_id", node_rpc_hex(txid, 32));
        }
    }
    free(s);
    return out;
}

static json_t *m_spec_list(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    (void)method;
    (void)params;
    char why[NM_WHY_MAX];
    if (!s_market(app, code, err, cap))
        return NULL;
    ledger_state_t *st = nm_state(app, why, sizeof why);
    if (!st)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    ledger_spec_t *list = NULL;
    size_t n = 0;
    int rc = ledger_spec_list(st, &list, &n);
    json_t *arr = rc == LEDGER_OK ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = nm_spec_json(&list[i]);
        ledger_trainer_t tr;
        if (ledger_trainer_get(st, list[i].trainer, &tr) == LEDGER_OK)
            json_object_set_new(o, "trainer_name", json_string(tr.name));
        json_array_append_new(arr, o);
    }
    free(list);
    ledger_state_destroy(&st);
    if (!arr)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "ledger read failed: %s",
                             proto_err_str(rc));
    return arr;
}

/* ---------------------------------------------------------------- recruitment posts */

/*  Posts the signed POST in the room (joined first: idempotent). 0, or NODE_E_FAILED with
 *  the reason in ERR. */
static int s_post(node_app_t *app, const proto_recruit_t *post, size_t *len_out, char *err,
                  size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (proto_recruit_encode(post, &buf, &len) != PROTO_OK)
        return proto_err_fail(err, cap, NODE_E_FAILED, "cannot encode the post");
    char why[256];
    p2p_node_t *p2p = node_app_p2p(app);
    int rc = 0;
    if (p2p_node_room_join(p2p, NODE_MARKET_ROOM, why, sizeof why) != 0)
        rc = proto_err_fail(err, cap, NODE_E_FAILED, "cannot join %s: %s", NODE_MARKET_ROOM, why);
    else if (p2p_node_room_post(p2p, NODE_MARKET_ROOM, buf, len, why, sizeof why) != 0)
        rc = proto_err_fail(err, cap, NODE_E_FAILED, "cannot post: %s", why);
    free(buf);
    if (len_out)
        *len_out = len;
    return rc;
}

/*  Whether POST may still be posted by this node: its spec is on our ledger and its
 *  trainer is this node's account. 0, or NODE_E_REFUSED with the reason in ERR. */
static int s_own_check(node_app_t *app, const proto_recruit_t *post, char *err, size_t cap)
{
    const proto_key_t *key = node_app_account(app);
    if (!key)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "this node has no account key (DATADIR/accounts/, --account ID)");
    char why[NM_WHY_MAX];
    ledger_state_t *st = nm_state(app, why, sizeof why);
    if (!st)
        return proto_err_fail(err, cap, NODE_E_REFUSED, "%s", why);
    ledger_spec_t spec;
    int rc = ledger_spec_get(st, post->spec_id, &spec);
    ledger_state_destroy(&st);
    if (rc != LEDGER_OK)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "spec_id: no such spec on this node's ledger (committed yet?)");
    if (memcmp(spec.trainer, proto_key_public(key), 32) != 0)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "the spec's trainer is another account than this node's");
    return 0;
}

/*  Every NODE_MARKET_REPOST_MS: posts each spec we recruit for again (signed anew once
 *  the post is NODE_MARKET_RESIGN_MS old); forgets one that is no longer ours to post. */
static int s_on_repost(zloop_t *loop, int timer_id, void *arg)
{
    node_market_t *self = arg;
    const proto_key_t *key = node_app_account(self->app);
    uint64_t now = (uint64_t)zclock_time();
    size_t left = 0;
    for (size_t i = 0; i < NODE_MARKET_OWN_MAX; i++) {
        nm_own_t *o = &self->own[i];
        if (!o->used)
            continue;
        char why[NM_WHY_MAX];
        char id[17];
        proto_hex_encode(o->post.spec_id, 8, id);
        if (s_own_check(self->app, &o->post, why, sizeof why) != 0) {
            GLOG(INFO, NODE, "no longer posting recruitment for spec %s: %s", id, why);
            memset(o, 0, sizeof *o);
            continue;
        }
        left++;
        if (now >= o->post.time_ms + NODE_MARKET_RESIGN_MS) {
            o->post.time_ms = now;
            if (proto_recruit_sign(&o->post, key) != PROTO_OK)
                continue;
        }
        if (s_post(self->app, &o->post, NULL, why, sizeof why) != 0)
            GLOG(WARN, NODE, "re-posting recruitment for spec %s: %s", id, why);
        else
            GLOG(DEBUG, NODE, "re-posted recruitment for spec %s", id);
    }
    if (left == 0) {
        zloop_timer_end(loop, timer_id);
        self->repost_timer = -1;
    }
    return 0;
}

/*  Remembers POST as the one to re-post for its spec (replacing that spec's, else a free
 *  slot, else the oldest) and starts the re-post timer if it is not running. */
static void s_own_keep(node_market_t *self, const proto_recruit_t *post)
{
    nm_own_t *slot = NULL;
    for (size_t i = 0; i < NODE_MARKET_OWN_MAX && !slot; i++)
        if (self->own[i].used && memcmp(self->own[i].post.spec_id, post->spec_id, 32) == 0)
            slot = &self->own[i];
    for (size_t i = 0; i < NODE_MARKET_OWN_MAX && !slot; i++)
        if (!self->own[i].used)
            slot = &self->own[i];
    if (!slot) {
        slot = &self->own[0];
        for (size_t i = 1; i < NODE_MARKET_OWN_MAX; i++)
            if (self->own[i].seq < slot->seq)
                slot = &self->own[i];
    }
    slot->used = true;
    slot->post = *post;
    slot->seq = ++self->seq;
    if (self->repost_timer < 0) {
        self->repost_timer =
            zloop_timer(node_app_loop(self->app), NODE_MARKET_REPOST_MS, 0, s_on_repost, self);
        if (self->repost_timer < 0)
            GLOG(WARN, NODE, "cannot start the recruitment re-post timer: posted once only");
    }
}

static json_t *m_recruit(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                         size_t cap)
{
    (void)method;
    proto_recruit_t post;
    memset(&post, 0, sizeof post);
    node_market_t *self = s_market(app, code, err, cap);
    if (!self || node_rpc_param_id(params, "spec_id", 0, post.spec_id, code, err, cap) != 0)
        return NULL;
    json_t *nv = node_rpc_param(params, "note", 1);
    if (nv && !json_is_null(nv)) {
        if (!json_is_string(nv) ||
            !proto_recruit_note_ok(json_string_value(nv), json_string_length(nv)) ||
            strlen(json_string_value(nv)) != json_string_length(nv))
            return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                                 "note: at most %d bytes of text without control characters",
                                 PROTO_RECRUIT_NOTE_MAX);
        memcpy(post.note, json_string_value(nv), json_string_length(nv));
    }
    char why[NM_WHY_MAX];
    if (s_own_check(app, &post, why, sizeof why) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    post.time_ms = (uint64_t)zclock_time();
    size_t len = 0;
    if (proto_recruit_sign(&post, node_app_account(app)) != PROTO_OK)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "cannot sign the post");
    if (s_post(app, &post, &len, why, sizeof why) != 0)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    s_own_keep(self, &post);
    return json_pack("{s:o,s:o,s:I,s:I}", "spec_id", node_rpc_hex(post.spec_id, 32), "trainer",
                     node_rpc_hex(post.trainer, 32), "time_ms", (json_int_t)post.time_ms, "bytes",
                     (json_int_t)len);
}

/* The records part of one offer: each local record matched against SPEC. */
static json_t *s_records_json(node_app_t *app, ledger_state_t *st, const ledger_spec_t *spec,
                              const ledger_audit_t *au, size_t n_au)
{
    json_t *arr = json_array();
    node_data_t *data = node_app_data(app);
    const proto_key_t *key = node_app_account(app);
    if (!data)
        return arr;
    uint8_t(*ids)[32] = calloc(NODE_DATA_RECORDS_MAX, 32);
    size_t n = ids ? node_data_ids(data, ids, NODE_DATA_RECORDS_MAX) : 0;
    for (size_t i = 0; i < n; i++) {
        char why[NM_WHY_MAX] = "";
        bool match = false;
        if (!key)
            snprintf(why, sizeof why, "this node has no account key");
        else if (spec)
            match = ledger_donation_allowed(st, spec, au, n_au, ids[i], proto_key_public(key), why,
                                            sizeof why) == LEDGER_OK;
        else
            snprintf(why, sizeof why, "the spec is not on this node's ledger");
        node_data_info_t info;
        char ierr[128];
        json_t *o = json_object();
        json_object_set_new(o, "data_id", node_rpc_hex(ids[i], 32));
        if (node_data_info(data, ids[i], &info, ierr, sizeof ierr) == 0)
            json_object_set_new(o, "name", json_string(info.name));
        json_object_set_new(o, "match", json_boolean(match));
        json_object_set_new(o, "why", json_string(why));
        json_object_set_new(o, "donated",
                            json_boolean(spec && ledger_donor_exists(st, spec->id, ids[i])));
        json_array_append_new(arr, o);
    }
    free(ids);
    return arr;
}

static json_t *s_offer_json(node_app_t *app, ledger_state_t *st, const nm_offer_t *of)
{
    const proto_recruit_t *p = &of->post;
    json_t *o = json_object();
    json_object_set_new(o, "offer", node_rpc_hex(p->spec_id, 32));
    json_object_set_new(o, "spec_id", node_rpc_hex(p->spec_id, 32));
    json_object_set_new(o, "trainer", node_rpc_hex(p->trainer, 32));
    ledger_trainer_t tr;
    if (ledger_trainer_get(st, p->trainer, &tr) == LEDGER_OK)
        json_object_set_new(o, "trainer_name", json_string(tr.name));
    json_object_set_new(o, "time_ms", J(p->time_ms));
    json_object_set_new(o, "recv_ms", J(of->recv_ms));
    json_object_set_new(o, "note", json_string(p->note));
    json_object_set_new(o, "origin", node_rpc_hex(of->origin, 32));
    ledger_spec_t spec;
    bool have_spec = ledger_spec_get(st, p->spec_id, &spec) == LEDGER_OK;
    ledger_audit_t *au = NULL;
    size_t n_au = 0;
    if (have_spec && ledger_enclave_audits(st, spec.measurement, &au, &n_au) != LEDGER_OK) {
        au = NULL;
        n_au = 0;
    }
    json_object_set_new(o, "spec", have_spec ? nm_spec_json(&spec) : json_null());
    ledger_enclave_t e;
    char why[NM_WHY_MAX] = "the spec is not on this node's ledger";
    if (have_spec && ledger_donation_enclave(st, &spec, &e, why, sizeof why) == LEDGER_OK) {
        json_object_set_new(o, "enclave",
                            json_pack("{s:o,s:o,s:I}", "id", node_rpc_hex(e.id, 32), "runner",
                                      node_rpc_hex(e.runner, 32), "audits", (json_int_t)n_au));
        json_object_set_new(o, "enclave_why", json_string(""));
    } else {
        json_object_set_new(o, "enclave", json_null());
        json_object_set_new(o, "enclave_why", json_string(why));
    }
    json_object_set_new(o, "records", s_records_json(app, st, have_spec ? &spec : NULL, au, n_au));
    free(au);
    return o;
}

static json_t *m_offers(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                        size_t cap)
{
    (void)method;
    (void)params;
    node_market_t *self = s_market(app, code, err, cap);
    if (!self)
        return NULL;
    char why[NM_WHY_MAX];
    ledger_state_t *st = nm_state(app, why, sizeof why);
    if (!st)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    /* newest first */
    const nm_offer_t *order[NODE_MARKET_OFFERS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < NODE_MARKET_OFFERS_MAX; i++)
        if (self->offers[i].used)
            order[n++] = &self->offers[i];
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && order[j - 1]->seq < order[j]->seq; j--) {
            const nm_offer_t *t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, s_offer_json(app, st, order[i]));
    ledger_state_destroy(&st);
    return arr;
}

int node_market_register(node_app_t *app)
{
    static const node_app_method_t methods[] = {
        {"trainer_register", m_trainer_register},
        {"spec_register", m_spec_register},
        {"spec_list", m_spec_list},
        {"recruit", m_recruit},
        {"offers", m_offers},
        {"donate", nm_m_donate},
    };
    return node_app_methods_add(app, methods, sizeof methods / sizeof methods[0]);
}
