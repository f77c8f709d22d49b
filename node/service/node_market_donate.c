/*  node_market_donate: donation of local records to an offer's training enclave, the
 *  donate method and --auto-donate (see node_market.h for the checks and the modes).
 *
 *  Key mode: the data key and salt are sealed to the enclave for (spec, record) (a grant,
 *  enclave_grant.h), published in a KEY_AUTHORIZE tx (the ledger keeps it and records the
 *  use), and sent with the stored ciphertext blob in a DONATE_KEYED request: the runner
 *  relays the grant and the ciphertext, never the plaintext or the key. (The runner does
 *  not fetch the blob from the owner's store itself here: the owner pushes it with the
 *  request.)
 *
 *  A donation in flight holds only ids and keys (the plaintext is sealed and wiped before
 *  the call leaves). Its end (receipt verified and DONOR_REGISTER submitted, or the reason
 *  it failed) is written into its batch: the donate method's answer, given once every
 *  donation of the call ended (deferred when one waits on a runner), or nothing for
 *  --auto-donate (logged).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_grant.h"
#include "enclave/enclave_prog.h"
#include "enclave/enclave_wire.h"
#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_account.h"
#include "node/service/node_data.h"
#include "node/service/node_enclave_relay.h"
#include "node/service/node_market_int.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_report.h"

struct nm_batch_t {
    node_app_t *app;
    uint64_t token; /* the deferred RPC answer (0: none) */
    json_t *out;    /* {offer, donations: [...]} */
    size_t pending; /* donations not ended yet */
    bool starting;  /* the method is still starting donations */
};

struct nm_donation_t {
    node_market_t *m;
    nm_batch_t *batch; /* NULL: --auto-donate */
    json_t *entry;     /* its row in batch->out (borrowed), or NULL */
    uint8_t spec_id[32], data_id[32], enclave_id[32], sign_pk[32], donor[32];
};

/* ---------------------------------------------------------------- batches */

static nm_batch_t *s_batch_new(node_app_t *app, const uint8_t spec_id[static 32])
{
    nm_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->app = app;
    b->starting = true;
    b->out = json_pack("{s:o,s:[]}", "offer", node_rpc_hex(spec_id, 32), "donations");
    if (!b->out) {
        free(b);
        return NULL;
    }
    return b;
}

static json_t *s_entry(nm_batch_t *b, const uint8_t data_id[static 32])
{
    json_t *e = json_pack("{s:o,s:b,s:s}", "data_id", node_rpc_hex(data_id, 32), "ok", 0, "state",
                          "pending");
    if (b && e)
        json_array_append_new(json_object_get(b->out, "donations"), e);
    return b ? e : (json_decref(e), NULL);
}

/* Answers B's deferred RPC once nothing is pending and the method is done; frees B. */
static void s_batch_maybe_end(nm_batch_t *b)
{
    if (!b || b->starting || b->pending)
        return;
    if (b->token) {
        node_app_rpc_complete(b->app, b->token, b->out, 0, NULL);
        b->out = NULL;
    }
    json_decref(b->out);
    free(b);
}

/* ---------------------------------------------------------------- one donation */

static void s_end(nm_donation_t *d, bool ok, const char *error, const proto_receipt_t *rec,
                  const uint8_t *txid)
{
    node_market_t *m = d->m;
    for (size_t i = 0; i < NODE_MARKET_DONATIONS_MAX; i++)
        if (m->donations[i] == d)
            m->donations[i] = NULL;
    char sid[17], did[17];
    proto_hex_encode(d->spec_id, 8, sid);
    proto_hex_encode(d->data_id, 8, did);
    if (ok)
        GLOG(INFO, NODE, "donated record %s to spec %s", did, sid);
    else
        GLOG(WARN, NODE, "donation of record %s to spec %s failed: %s", did, sid, error);
    if (d->entry) {
        json_object_set_new(d->entry, "ok", json_boolean(ok));
        json_object_set_new(d->entry, "state", json_string(ok ? "donated" : "failed"));
        json_object_set_new(d->entry, "enclave", node_rpc_hex(d->enclave_id, 32));
        if (rec)
            json_object_set_new(d->entry, "receipt_time_ms",
                                json_integer((json_int_t)rec->time_ms));
        if (txid)
            json_object_set_new(d->entry, "txid", node_rpc_hex(txid, 32));
        if (error)
            json_object_set_new(d->entry, "error", json_string(error));
    }
    nm_batch_t *b = d->batch;
    free(d);
    if (b) {
        b->pending--;
        s_batch_maybe_end(b);
    }
}

/* The relay's answer: verify the receipt, register the donor. */
static void s_on_answer(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    nm_donation_t *d = ctx;
    node_app_t *app = d->m->app;
    char msg[256];
    enclave_ans_t a;
    proto_receipt_t rec;
    if (rc != 0) {
        snprintf(msg, sizeof msg, "enclave call failed: %s", why ? why : proto_err_str(rc));
        s_end(d, false, msg, NULL, NULL);
        return;
    }
    if (enclave_wire_ans_decode(ans, ans_len, &a) != PROTO_OK) {
        s_end(d, false, "the enclave's answer does not decode", NULL, NULL);
        return;
    }
    if (a.type == ENCLAVE_ANS_ERROR) {
        snprintf(msg, sizeof msg, "the enclave refused: %s (%s)", a.u.error.msg,
                 proto_err_str(a.u.error.code));
        s_end(d, false, msg, NULL, NULL);
        return;
    }
    if (a.type != ENCLAVE_ANS_RECEIPT ||
        proto_receipt_decode(a.u.blob.bytes, a.u.blob.len, &rec) != PROTO_OK) {
        s_end(d, false, "the enclave did not answer a donation receipt", NULL, NULL);
        return;
    }
    if (d->entry) { /* the owner keeps its receipt (the encoded one the ledger gets) */
        char hex[2 * PROTO_REPORT_MAX_BYTES + 1]; /* a decoded receipt is at most that */
        proto_hex_encode(a.u.blob.bytes, a.u.blob.len, hex);
        json_object_set_new(d->entry, "receipt", json_string(hex));
    }
    int vrc = proto_receipt_verify(&rec, d->sign_pk);
    if (vrc != PROTO_OK) {
        snprintf(msg, sizeof msg, "the receipt is not signed by the registered enclave key: %s",
                 proto_err_str(vrc));
        s_end(d, false, msg, &rec, NULL);
        return;
    }
    if (memcmp(rec.spec_id, d->spec_id, 32) != 0 || memcmp(rec.data_id, d->data_id, 32) != 0 ||
        memcmp(rec.donor, d->donor, 32) != 0 || memcmp(rec.data_commitment, d->data_id, 32) != 0) {
        s_end(d, false, "the receipt names another spec, record or donor", &rec, NULL);
        return;
    }
    const proto_key_t *key = node_app_account(app);
    uint64_t nonce = 0;
    if (!key || memcmp(proto_key_public(key), d->donor, 32) != 0 ||
        node_account_nonce(app, &nonce, msg, sizeof msg) != 0) {
        s_end(d, false, "the node account is gone or its nonce cannot be read", &rec, NULL);
        return;
    }
    size_t len = 0;
    uint8_t *tx = ledger_contract_donor_register_tx(key, node_app_chain_id(app), nonce,
                                                    a.u.blob.bytes, a.u.blob.len, &len);
    uint8_t txid[32];
    char why2[200];
    if (!tx) {
        s_end(d, false, "cannot build DONOR_REGISTER", &rec, NULL);
        return;
    }
    rc = node_account_submit(app, tx, len, txid, why2, sizeof why2);
    free(tx);
    if (rc != 0) {
        snprintf(msg, sizeof msg, "DONOR_REGISTER refused: %s", why2);
        s_end(d, false, msg, &rec, NULL);
        return;
    }
    s_end(d, true, NULL, &rec, txid);
}

static bool s_in_flight(node_market_t *m, const uint8_t spec_id[static 32],
                        const uint8_t data_id[static 32])
{
    for (size_t i = 0; i < NODE_MARKET_DONATIONS_MAX; i++)
        if (m->donations[i] && memcmp(m->donations[i]->spec_id, spec_id, 32) == 0 &&
            memcmp(m->donations[i]->data_id, data_id, 32) == 0)
            return true;
    return false;
}

/* Seals local record DATA_ID to enclave E in a DONATE request for SPEC into *REQ. */
static int s_request(node_data_t *data, const ledger_spec_t *spec, const ledger_enclave_t *e,
                     const uint8_t data_id[static 32], const uint8_t donor[static 32],
                     uint8_t **req, size_t *req_len, char *why, size_t cap)
{
    uint8_t salt[32], *plain = NULL, *sealed = NULL;
    size_t len = 0, sealed_len = 0;
    char msg[160];
    int rc = node_data_plain(data, data_id, &plain, &len, salt, msg, sizeof msg);
    if (rc != 0) {
        sodium_memzero(salt, sizeof salt);
        return proto_err_fail(why, cap, rc, "cannot read the local record: %s", msg);
    }
    rc = enclave_prog_donation_seal(e->box_pk, spec->id, data_id, salt, plain, len, &sealed,
                                    &sealed_len);
    node_data_plain_free(plain, len); /* the plaintext is not needed past this point */
    sodium_memzero(salt, sizeof salt);
    if (rc != PROTO_OK)
        return proto_err_fail(why, cap, rc, "cannot seal the record: %s", proto_err_str(rc));
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_DONATE;
    memcpy(r.u.donate.spec_id, spec->id, 32);
    memcpy(r.u.donate.data_id, data_id, 32);
    memcpy(r.u.donate.donor, donor, 32);
    memcpy(r.u.donate.commitment, data_id, 32);
    r.u.donate.sealed = sealed;
    r.u.donate.sealed_len = sealed_len;
    rc = enclave_wire_req_encode(&r, req, req_len);
    free(sealed);
    if (rc != PROTO_OK)
        return proto_err_fail(why, cap, rc, "cannot encode the request: %s", proto_err_str(rc));
    return 0;
}

/* Key mode: seals the data key and salt of local record DATA_ID to enclave E for SPEC (the
   grant), publishes it in a KEY_AUTHORIZE tx signed by KEY, and builds the DONATE_KEYED
   request carrying the grant and the stored ciphertext blob into *REQ. */
static int s_request_keyed(node_app_t *app, node_data_t *data, const proto_key_t *key,
                           const ledger_spec_t *spec, const ledger_enclave_t *e,
                           const uint8_t data_id[static 32], uint8_t **req, size_t *req_len,
                           char *why, size_t cap)
{
    uint8_t dkey[32], salt[32], address[32], *grant = NULL, *blob = NULL, *tx = NULL;
    size_t grant_len = 0, blob_len = 0, tx_len = 0;
    uint64_t nonce = 0;
    char msg[200];
    int rc = node_data_secrets(data, data_id, dkey, salt, address);
    if (rc == 0)
        rc = enclave_grant_seal(e->box_pk, spec->id, data_id, salt, dkey, &grant, &grant_len);
    sodium_memzero(dkey, sizeof dkey);
    sodium_memzero(salt, sizeof salt);
    if (rc != 0) {
        proto_err_fail(why, cap, rc, "cannot make the key grant: %s", proto_err_str(rc));
        goto out;
    }
    /* the blob is not sent: the runner fetches it from this node's store (its address is
       the registered one) while the call waits; an enclave of this node gets it filled in
       by the relay */
    if ((rc = node_data_blob(data, address, &blob, &blob_len)) != 0) {
        proto_err_fail(why, cap, rc, "cannot read the stored blob: %s", proto_err_str(rc));
        goto out;
    }
    free(blob);
    blob = NULL;
    blob_len = 0;
    if ((rc = node_account_nonce(app, &nonce, msg, sizeof msg)) != 0) {
        proto_err_fail(why, cap, rc, "cannot read the account's nonce: %s", msg);
        goto out;
    }
    tx = ledger_contract_key_authorize_tx(key, node_app_chain_id(app), nonce, data_id, spec->id,
                                          e->id, grant, grant_len, &tx_len);
    uint8_t txid[32];
    if (!tx) {
        rc = proto_err_fail(why, cap, NODE_E_FAILED, "cannot build KEY_AUTHORIZE");
        goto out;
    }
    if ((rc = node_account_submit(app, tx, tx_len, txid, msg, sizeof msg)) != 0) {
        proto_err_fail(why, cap, rc, "KEY_AUTHORIZE refused: %s", msg);
        goto out;
    }
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_DONATE_KEYED;
    memcpy(r.u.donate_keyed.spec_id, spec->id, 32);
    memcpy(r.u.donate_keyed.data_id, data_id, 32);
    memcpy(r.u.donate_keyed.donor, proto_key_public(key), 32);
    r.u.donate_keyed.grant = grant;
    r.u.donate_keyed.grant_len = grant_len;
    r.u.donate_keyed.blob = blob;
    r.u.donate_keyed.blob_len = blob_len;
    if ((rc = enclave_wire_req_encode(&r, req, req_len)) != PROTO_OK)
        proto_err_fail(why, cap, rc, "cannot encode the request: %s", proto_err_str(rc));
out:
    free(tx);
    free(grant);
    free(blob);
    return rc;
}

/* Runs every check on donating DATA_ID to SPEC (AU: the N_AU audits of its measurement)
   and starts the sealed donation. 0 (started: its end goes to BATCH / ENTRY), or an error
   with WHY filled (nothing left the node). */
static int s_start(node_market_t *m, ledger_state_t *st, const ledger_spec_t *spec,
                   const ledger_audit_t *au, size_t n_au, const uint8_t data_id[static 32],
                   bool keyed, nm_batch_t *batch, json_t *entry, char *why, size_t cap)
{
    node_app_t *app = m->app;
    const proto_key_t *key = node_app_account(app);
    node_data_t *data = node_app_data(app);
    if (!key)
        return proto_err_fail(why, cap, NODE_E_NO_ACCOUNT, "this node has no account key");
    if (!data)
        return proto_err_fail(why, cap, NODE_E_PARAMS, "this node is not a data-owner");
    if (ledger_donation_allowed(st, spec, au, n_au, data_id, proto_key_public(key), why, cap) !=
        LEDGER_OK)
        return NODE_E_PARAMS;
    if (ledger_donor_exists(st, spec->id, data_id))
        return proto_err_fail(why, cap, NODE_E_PARAMS, "already a registered donor of this spec");
    if (s_in_flight(m, spec->id, data_id))
        return proto_err_fail(why, cap, NODE_E_BUSY, "a donation of it to this spec is under way");
    ledger_enclave_t e;
    if (ledger_donation_enclave(st, spec, &e, why, cap) != LEDGER_OK)
        return NODE_E_PARAMS;
    size_t slot = NODE_MARKET_DONATIONS_MAX;
    for (size_t i = 0; i < NODE_MARKET_DONATIONS_MAX && slot == NODE_MARKET_DONATIONS_MAX; i++)
        if (!m->donations[i])
            slot = i;
    if (slot == NODE_MARKET_DONATIONS_MAX)
        return proto_err_fail(why, cap, NODE_E_BUSY, "%d donations under way: try again later",
                              NODE_MARKET_DONATIONS_MAX);
    nm_donation_t *d = calloc(1, sizeof *d);
    if (!d)
        return proto_err_fail(why, cap, NODE_E_FAILED, "out of memory");
    d->m = m;
    d->batch = batch;
    d->entry = entry;
    memcpy(d->spec_id, spec->id, 32);
    memcpy(d->data_id, data_id, 32);
    memcpy(d->enclave_id, e.id, 32);
    memcpy(d->sign_pk, e.sign_pk, 32);
    memcpy(d->donor, proto_key_public(key), 32);
    uint8_t *req = NULL;
    size_t req_len = 0;
    int rc = keyed ? s_request_keyed(app, data, key, spec, &e, data_id, &req, &req_len, why, cap)
                   : s_request(data, spec, &e, data_id, d->donor, &req, &req_len, why, cap);
    if (rc != 0) {
        free(d);
        return rc;
    }
    m->donations[slot] = d;
    if (batch)
        batch->pending++;
    /* the callback may run before this returns (an enclave of this node) and free D */
    rc = node_enclave_relay_call(node_app_enclave_relay(app), e.id, req, req_len, NULL, s_on_answer,
                                 d, why, cap);
    free(req);
    if (rc != 0) {
        m->donations[slot] = NULL;
        if (batch)
            batch->pending--;
        free(d);
    }
    return rc;
}

void nm_donations_drop(node_market_t *self)
{
    for (size_t i = 0; i < NODE_MARKET_DONATIONS_MAX; i++) {
        nm_donation_t *d = self->donations[i];
        if (!d)
            continue;
        self->donations[i] = NULL;
        if (d->batch && --d->batch->pending == 0 && !d->batch->starting) {
            json_decref(d->batch->out);
            free(d->batch);
        }
        free(d);
    }
}

/* ---------------------------------------------------------------- auto-donate */

static bool s_auto_seen(const node_market_t *m, const uint8_t pair[static 64])
{
    for (size_t i = 0; i < m->n_auto_done; i++)
        if (memcmp(m->auto_done[i], pair, 64) == 0)
            return true;
    return false;
}

static void s_auto_add(node_market_t *m, const uint8_t pair[static 64])
{
    if (!m->auto_done && !(m->auto_done = calloc(NODE_MARKET_AUTO_MAX, 64)))
        return;
    memcpy(m->auto_done[m->auto_next], pair, 64);
    m->auto_next = (m->auto_next + 1) % NODE_MARKET_AUTO_MAX;
    if (m->n_auto_done < NODE_MARKET_AUTO_MAX)
        m->n_auto_done++;
}

void nm_auto_donate(node_market_t *self, const nm_offer_t *o)
{
    node_data_t *data = node_app_data(self->app);
    char why[NM_WHY_MAX];
    if (!data || !node_app_account(self->app))
        return;
    ledger_state_t *st = nm_state(self->app, why, sizeof why);
    if (!st)
        return;
    ledger_spec_t spec;
    ledger_audit_t *au = NULL;
    size_t n_au = 0;
    uint8_t(*ids)[32] = calloc(NODE_DATA_RECORDS_MAX, 32);
    if (!ids || ledger_spec_get(st, o->post.spec_id, &spec) != LEDGER_OK ||
        ledger_enclave_audits(st, spec.measurement, &au, &n_au) != LEDGER_OK)
        goto out;
    size_t n = node_data_ids(data, ids, NODE_DATA_RECORDS_MAX);
    for (size_t i = 0; i < n; i++) {
        uint8_t pair[64];
        memcpy(pair, spec.id, 32);
        memcpy(pair + 32, ids[i], 32);
        if (s_auto_seen(self, pair))
            continue;
        if (s_start(self, st, &spec, au, n_au, ids[i], false, NULL, NULL, why, sizeof why) == 0) {
            s_auto_add(self, pair);
        } else {
            char did[17];
            proto_hex_encode(ids[i], 8, did);
            GLOG(INFO, NODE, "auto-donate: record %s not donated: %s", did, why);
        }
    }
out:
    free(au);
    free(ids);
    ledger_state_destroy(&st);
}

/* ---------------------------------------------------------------- the donate method */

json_t *nm_m_donate(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                    size_t cap)
{
    (void)method;
    node_market_t *m = node_app_market(app);
    uint8_t spec_id[32], one[32];
    bool have_one = false;
    if (!m)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node runs without a ledger (start it with --genesis FILE)");
    if (node_rpc_param_id(params, "offer", 0, spec_id, code, err, cap) != 0)
        return NULL;
    json_t *v = node_rpc_param(params, "data_id", 1);
    if (v && !json_is_null(v)) {
        if (node_rpc_param_id(params, "data_id", 1, one, code, err, cap) != 0)
            return NULL;
        have_one = true;
    }
    v = node_rpc_param(params, "mode", 2);
    const char *mode = json_is_string(v) ? json_string_value(v) : "sealed";
    bool keyed = strcmp(mode, "key") == 0;
    if (!keyed && strcmp(mode, "sealed") != 0)
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap, "mode: sealed or key");
    if (!nm_offer_find(m, spec_id))
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "no such offer (see 'genie offers'): the trainer has not posted it "
                             "to this node");
    node_data_t *data = node_app_data(app);
    if (!data)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "this node is not a data-owner");
    char why[NM_WHY_MAX];
    ledger_state_t *st = nm_state(app, why, sizeof why);
    if (!st)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", why);
    ledger_spec_t spec;
    ledger_audit_t *au = NULL;
    size_t n_au = 0, n = 0;
    nm_batch_t *b = NULL;
    json_t *out = NULL;
    uint8_t(*ids)[32] = calloc(NODE_DATA_RECORDS_MAX, 32);
    if (!ids || !(b = s_batch_new(app, spec_id))) {
        node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
        goto out;
    }
    if (ledger_spec_get(st, spec_id, &spec) != LEDGER_OK ||
        ledger_enclave_audits(st, spec.measurement, &au, &n_au) != LEDGER_OK) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "the offer's spec is not on the ledger");
        goto out;
    }
    if (have_one) {
        memcpy(ids[0], one, 32);
        n = 1;
    } else {
        n = node_data_ids(data, ids, NODE_DATA_RECORDS_MAX);
    }
    if (n == 0) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "this node holds no data records");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = s_entry(b, ids[i]);
        if (s_start(m, st, &spec, au, n_au, ids[i], keyed, b, e, why, sizeof why) != 0 && e) {
            json_object_set_new(e, "state", json_string("refused"));
            json_object_set_new(e, "error", json_string(why));
        }
    }
    b->starting = false;
    if (b->pending && (b->token = node_app_rpc_defer(app)) != 0) {
        b = NULL; /* answered when the last donation ends */
        goto out;
    }
    /* every donation ended already (or no answer can wait: the rest end unseen) */
    out = json_incref(b->out);
    if (b->pending) {
        b->starting = false;
        b = NULL; /* freed by the last donation to end */
    }
out:
    if (b) {
        b->starting = false;
        if (!b->pending) {
            json_decref(b->out);
            free(b);
        }
    }
    free(ids);
    free(au);
    ledger_state_destroy(&st);
    return out;
}
