/*  node_train: the coordinator runner's training-job driver, the shell around
 *  node_train_core (see node_train.h): ledger reads, enclave requests through the relay,
 *  MODEL_PUBLISH submission, the loop timer. The train_status method is in
 *  node_train_rpc.c.
 */
#include "node/service/node_train.h"

#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_train_config.h"
#include "enclave/enclave_wire.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_model.h"
#include "node/app/node_app.h"
#include "node/service/node_account.h"
#include "node/service/node_enclave.h"
#include "node/service/node_enclave_relay.h"
#include "node/service/node_ledger_local.h"
#include "node/service/node_train_int.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_publish.h"

/* A relay call in flight: which job (slot and generation) and which action. */
struct nt_call_t {
    node_train_t *t;
    size_t slot;
    uint64_t gen;
    uint64_t tag;
    node_train_act_kind_t kind;
    nt_call_t *prev, *next;
};

static uint64_t s_now(void)
{
    return (uint64_t)zclock_mono();
}

static void s_short(const uint8_t id[static 32], char out[17])
{
    proto_hex_encode(id, 8, out);
}

/* ---------------------------------------------------------------- calls */

static nt_call_t *s_call_new(node_train_t *t, size_t slot, uint64_t tag, node_train_act_kind_t kind)
{
    nt_call_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->t = t;
    c->slot = slot;
    c->gen = t->jobs[slot].gen;
    c->tag = tag;
    c->kind = kind;
    c->next = t->calls;
    if (t->calls)
        t->calls->prev = c;
    t->calls = c;
    return c;
}

static void s_call_free(nt_call_t *c)
{
    node_train_t *t = c->t;
    if (c->prev)
        c->prev->next = c->next;
    else
        t->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
}

/* ---------------------------------------------------------------- requests */

/* The job config TRAIN_PREPARE carries (enclave_train_config.h): the spec's features,
   label, epsilon and aggregation rule, the job's rounds, a seed from the job id, and the
   module's defaults for the rest, among them the aggregation's party-level DP, ON:
   agg_clip ML_FED_AGG_CLIP_DEFAULT, agg_eps ML_FED_AGG_EPS_DEFAULT at delta 1e-5 (the
   ledger's spec has no field for them yet). */
static int s_config(const nt_job_t *j, uint8_t **out, size_t *len)
{
    const ledger_spec_t *s = &j->spec;
    enclave_train_config_t c;
    char err[160];
    enclave_train_config_default(&c);
    if (s->n_features > ENCLAVE_TRAIN_FEATURES_MAX)
        return NODE_E_PARAMS;
    c.p = s->n_features;
    for (uint32_t i = 0; i < s->n_features; i++)
        snprintf(c.features[i], sizeof c.features[i], "%s", s->features[i]);
    snprintf(c.label, sizeof c.label, "%s", s->label);
    c.rounds = node_train_core_job(j->core)->rounds;
    c.eps = (double)s->max_epsilon_milli / 1000.0;
    c.rule = s->aggregation;
    c.seed = 0;
    for (int i = 0; i < 8; i++)
        c.seed = (c.seed << 8) | j->job.id[i];
    return enclave_train_config_encode(&c, out, len, err, sizeof err);
}

/* The enclave request of action A of job J into *REQ (malloc'd). */
static int s_request(const nt_job_t *j, const node_train_act_t *a, uint8_t **req, size_t *len)
{
    node_train_core_t *c = j->core;
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    uint8_t *config = NULL;
    int rc = 0;
    switch (a->kind) {
    case NODE_TRAIN_ACT_PREPARE: {
        r.type = ENCLAVE_REQ_TRAIN_PREPARE;
        struct enclave_req_train_prepare *p = &r.u.train_prepare;
        memcpy(p->job_id, j->job.id, 32);
        memcpy(p->spec_id, j->job.spec_id, 32);
        if ((rc = s_config(j, &config, &p->config_len)) != 0)
            return rc;
        p->config = config;
        p->party = a->party;
        p->n_parties = node_train_core_n_parties(c);
        for (uint32_t i = 0; i < p->n_parties; i++) {
            node_train_enclave_t e;
            if (node_train_core_party(c, i, NULL, &e)) {
                memcpy(p->sign_pk[i], e.sign_pk, 32);
                memcpy(p->box_pk[i], e.box_pk, 32);
            }
        }
        p->coordinator = node_train_core_coordinator(c);
        p->eligible.ids = node_train_core_party_eligible(c, a->party, &p->eligible.n);
        memcpy(p->query_measurement, j->job.query_measurement, 32);
        memcpy(p->attest_pk, j->attest_pk, 32);
        break;
    }
    case NODE_TRAIN_ACT_STEP:
        r.type = ENCLAVE_REQ_FED_STEP;
        memcpy(r.u.fed_step.job_id, j->job.id, 32);
        r.u.fed_step.from = a->from;
        r.u.fed_step.msg = a->msg;
        r.u.fed_step.msg_len = a->msg_len;
        break;
    case NODE_TRAIN_ACT_PUBLISH:
        r.type = ENCLAVE_REQ_PUBLISH;
        memcpy(r.u.publish.job_id, j->job.id, 32);
        r.u.publish.donors.ids = node_train_core_donors(c, &r.u.publish.donors.n);
        break;
    case NODE_TRAIN_ACT_SUBMIT:
        return NODE_E_PARAMS;
    }
    rc = enclave_wire_req_encode(&r, req, len);
    free(config);
    return rc;
}

/* ---------------------------------------------------------------- answers */

/* Checks the publication P (LEN bytes) of job J: decodes, verifies, names the job and is
   signed by the coordinator. 0, or NODE_E_REFUSED (NODE_E_NOMEM) with WHY. */
static int s_publication_check(const nt_job_t *j, const uint8_t *p, size_t len, char *why,
                               size_t cap)
{
    proto_publish_t *pub = calloc(1, sizeof *pub);
    uint8_t eid[32];
    int rc = NODE_E_REFUSED;
    if (!pub)
        return proto_err_fail(why, cap, NODE_E_NOMEM, "out of memory");
    if (proto_publish_decode(p, len, pub) != PROTO_OK)
        snprintf(why, cap, "the publication does not decode");
    else if (proto_publish_verify(pub) != PROTO_OK)
        snprintf(why, cap, "the publication's signature does not verify");
    else if (memcmp(pub->job_id, j->job.id, 32) != 0 || memcmp(pub->spec_id, j->job.spec_id, 32))
        snprintf(why, cap, "the publication names another job or spec");
    else if (ledger_enclave_id(pub->enclave_pk, eid), memcmp(eid, j->job.coordinator, 32) != 0)
        snprintf(why, cap, "the publication is not signed by the job's coordinator");
    else
        rc = 0;
    free(pub);
    return rc;
}

/* Decodes the encoded answer ANS into *OUT for the core (OUT_MSGS: room for the FED_OUT
   messages; WHY: room for a reason). */
static void s_answer_decode(const nt_job_t *j, node_train_act_kind_t kind, const uint8_t *ans,
                            size_t len, node_train_ans_t *out, node_train_out_t *msgs, char *why,
                            size_t cap)
{
    enclave_ans_t a;
    memset(out, 0, sizeof *out);
    out->why = why;
    if (enclave_wire_ans_decode(ans, len, &a) != PROTO_OK) {
        out->refused = true;
        snprintf(why, cap, "the enclave's answer does not decode");
        return;
    }
    if (a.type == ENCLAVE_ANS_ERROR) {
        out->refused = true;
        snprintf(why, cap, "%s (%s)", a.u.error.msg, proto_err_str(a.u.error.code));
        return;
    }
    if (kind == NODE_TRAIN_ACT_PREPARE && a.type == ENCLAVE_ANS_PREPARED) {
        out->n_records = a.u.prepared.n_records;
        out->n_train = a.u.prepared.n_train;
        out->n_test = a.u.prepared.n_test;
        out->dropped = a.u.prepared.dropped;
        return;
    }
    if (kind == NODE_TRAIN_ACT_STEP && a.type == ENCLAVE_ANS_FED_OUT) {
        out->state = a.u.fed_out.state;
        out->round = a.u.fed_out.round;
        out->n_out = a.u.fed_out.n_out;
        for (size_t i = 0; i < a.u.fed_out.n_out && i < ENCLAVE_WIRE_FED_OUT_MAX; i++) {
            msgs[i].to = a.u.fed_out.out[i].to;
            msgs[i].msg = a.u.fed_out.out[i].msg;
            msgs[i].len = a.u.fed_out.out[i].len;
        }
        out->out = msgs;
        return;
    }
    if (kind == NODE_TRAIN_ACT_PUBLISH && a.type == ENCLAVE_ANS_PUBLICATION) {
        if (s_publication_check(j, a.u.publication.publication, a.u.publication.publication_len,
                                why, cap) != 0) {
            out->refused = true;
            return;
        }
        out->publication = a.u.publication.publication;
        out->publication_len = a.u.publication.publication_len;
        return;
    }
    out->refused = true;
    snprintf(why, cap, "unexpected answer type %d", (int)a.type);
}

static void s_feed(node_train_t *t, size_t slot, uint64_t tag, node_train_act_kind_t kind, int rc,
                   const uint8_t *ans, size_t len, const char *why)
{
    nt_job_t *j = &t->jobs[slot];
    node_train_ans_t a;
    node_train_out_t msgs[ENCLAVE_WIRE_FED_OUT_MAX];
    char msg[256];
    if (rc != 0) {
        memset(&a, 0, sizeof a);
        a.rc = rc;
        snprintf(msg, sizeof msg, "%s", why ? why : proto_err_str(rc));
        a.why = msg;
    } else {
        s_answer_decode(j, kind, ans, len, &a, msgs, msg, sizeof msg);
    }
    node_train_core_answer(j->core, tag, &a, s_now());
}

static void s_on_relay(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    nt_call_t *c = ctx;
    node_train_t *t = c->t;
    size_t slot = c->slot;
    uint64_t gen = c->gen, tag = c->tag;
    node_train_act_kind_t kind = c->kind;
    s_call_free(c);
    nt_job_t *j = &t->jobs[slot];
    if (!j->used || j->gen != gen || !j->core)
        return; /* the job is gone */
    s_feed(t, slot, tag, kind, rc, ans, ans_len, why);
    nt_pump(t);
}

/* ---------------------------------------------------------------- actions */

static void s_submit(node_train_t *t, nt_job_t *j, const node_train_act_t *a)
{
    node_app_t *app = t->app;
    const proto_key_t *key = node_app_account(app);
    uint64_t nonce = 0;
    char why[256] = "";
    uint8_t txid[32];
    int rc = key ? node_account_nonce(app, &nonce, why, sizeof why) : NODE_E_NO_ACCOUNT;
    if (!key)
        snprintf(why, sizeof why, "this runner has no account key to sign MODEL_PUBLISH with");
    if (rc == 0) {
        size_t len = 0;
        uint8_t *tx = ledger_contract_model_publish_tx(key, node_app_chain_id(app), nonce, a->msg,
                                                       a->msg_len, &len);
        if (!tx) {
            rc = NODE_E_FAILED;
            snprintf(why, sizeof why, "cannot build MODEL_PUBLISH");
        } else {
            rc = node_account_submit(app, tx, len, txid, why, sizeof why);
            free(tx);
        }
    }
    if (rc == 0) {
        char hex[17], jid[17];
        s_short(txid, hex);
        s_short(j->job.id, jid);
        GLOG(INFO, NODE, "training job %s: MODEL_PUBLISH %s submitted", jid, hex);
    }
    node_train_core_submitted(j->core, a->tag, rc, rc == 0 ? txid : NULL, why, s_now());
}

/* PUBLISH to the local coordinator, queued to the enclave (node_enclave_call_start): the
   core is fed from the callback (s_on_relay); the answer is wiped after it. */
static void s_publish(node_train_t *t, size_t slot, const node_train_act_t *a)
{
    nt_job_t *j = &t->jobs[slot];
    node_enclave_t *enc = node_app_enclave(t->app);
    uint8_t *req = NULL;
    size_t req_len = 0;
    char why[256] = "";
    nt_call_t *c = NULL;
    int rc = s_request(j, a, &req, &req_len);
    if (rc != 0)
        snprintf(why, sizeof why, "cannot encode PUBLISH: %s", proto_err_str(rc));
    else if (!enc)
        rc = proto_err_fail(why, sizeof why, NODE_E_NO_ENCLAVE, "this node runs no enclaves");
    else if (!(c = s_call_new(t, slot, a->tag, a->kind)))
        rc = proto_err_fail(why, sizeof why, NODE_E_FAILED, "out of memory");
    else
        rc = node_enclave_call_start(enc, j->job.coordinator, req, req_len, s_on_relay, c, why,
                                     sizeof why);
    free(req);
    if (rc != 0) {
        if (c)
            s_call_free(c);
        s_feed(t, slot, a->tag, a->kind, rc, NULL, 0, why);
    }
}

/* Sends the PREPARE or STEP action A to its party's enclave through the relay. */
static void s_relay(node_train_t *t, size_t slot, const node_train_act_t *a)
{
    nt_job_t *j = &t->jobs[slot];
    node_train_enclave_t e;
    uint8_t *req = NULL;
    size_t req_len = 0;
    char why[256] = "";
    int rc = s_request(j, a, &req, &req_len);
    if (rc != 0 || !node_train_core_party(j->core, a->party, NULL, &e)) {
        free(req);
        snprintf(why, sizeof why, "cannot encode the request: %s", proto_err_str(rc));
        s_feed(t, slot, a->tag, a->kind, NODE_E_FAILED, NULL, 0, why);
        return;
    }
    nt_call_t *c = s_call_new(t, slot, a->tag, a->kind);
    if (!c) {
        free(req);
        s_feed(t, slot, a->tag, a->kind, NODE_E_FAILED, NULL, 0, "out of memory");
        return;
    }
    /* the callback runs later, on the loop, and frees C */
    rc = node_enclave_relay_call(node_app_enclave_relay(t->app), e.id, req, req_len, NULL,
                                 s_on_relay, c, why, sizeof why);
    free(req);
    if (rc != 0) {
        s_call_free(c);
        s_feed(t, slot, a->tag, a->kind, rc, NULL, 0, why);
    }
}

/* Rounds done as status shows them (the enclave counts rounds + 1 once trained). */
static uint32_t s_round(const nt_job_t *j)
{
    uint32_t r = node_train_core_round(j->core);
    return r > j->job.rounds ? j->job.rounds : r;
}

static void s_log_phase(nt_job_t *j)
{
    node_train_phase_t ph = node_train_core_phase(j->core);
    if (ph == j->logged)
        return;
    j->logged = ph;
    char jid[17];
    s_short(j->job.id, jid);
    if (ph == NODE_TRAIN_FAILED)
        GLOG(WARN, NODE, "training job %s failed: %s", jid, node_train_core_why(j->core));
    else
        GLOG(INFO, NODE, "training job %s: %s (round %u of %u)", jid,
             node_train_core_phase_name(ph), s_round(j), j->job.rounds);
}

void nt_pump(node_train_t *t)
{
    if (t->pumping) {
        t->again = true;
        return;
    }
    t->pumping = true;
    do {
        t->again = false;
        for (size_t s = 0; s < NODE_TRAIN_JOBS_MAX; s++) {
            nt_job_t *j = &t->jobs[s];
            node_train_act_t a;
            for (int guard = 0;
                 j->used && j->core && guard < 256 && node_train_core_next(j->core, s_now(), &a);
                 guard++) {
                if (a.kind == NODE_TRAIN_ACT_SUBMIT)
                    s_submit(t, j, &a);
                else if (a.kind == NODE_TRAIN_ACT_PUBLISH)
                    s_publish(t, s, &a);
                else
                    s_relay(t, s, &a);
            }
            if (j->used && j->core)
                s_log_phase(j);
        }
    } while (t->again);
    t->pumping = false;
}

/* ---------------------------------------------------------------- the ledger */

/* The usable training enclaves of SPEC into *OUT (malloc'd) of *N. */
static int s_usable(ledger_state_t *st, const ledger_spec_t *spec, node_train_enclave_t **out,
                    size_t *n)
{
    ledger_enclave_t *all = NULL;
    size_t n_all = 0;
    *out = NULL;
    *n = 0;
    int rc = ledger_enclave_list(st, PROTO_ATTEST_KIND_TRAINING, &all, &n_all);
    if (rc != LEDGER_OK)
        return rc;
    bool m_revoked = false;
    if ((rc = ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, spec->measurement, &m_revoked,
                                     NULL)) != LEDGER_OK ||
        m_revoked || n_all == 0)
        goto out;
    if (!(*out = calloc(n_all, sizeof **out))) {
        rc = LEDGER_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_all; i++) {
        const ledger_enclave_t *e = &all[i];
        bool p_revoked = true;
        if (e->status != LEDGER_ENCLAVE_ACTIVE || memcmp(e->measurement, spec->measurement, 32) ||
            ledger_enclave_revoked(st, LEDGER_REVOKE_PLATFORM, e->platform_pk, &p_revoked, NULL) !=
                LEDGER_OK ||
            p_revoked)
            continue;
        node_train_enclave_t *u = &(*out)[(*n)++];
        memcpy(u->id, e->id, 32);
        memcpy(u->sign_pk, e->sign_pk, 32);
        memcpy(u->box_pk, e->box_pk, 32);
    }
out:
    free(all);
    return rc;
}

/* The spec's donors in seq order, each with its eligibility (ledger_train_donors: the rule
   each party's runner checks TRAIN_PREPARE's eligible list against), into *OUT of *N. */
static int s_donors(ledger_state_t *st, const ledger_spec_t *spec, node_train_donor_t **out,
                    size_t *n)
{
    ledger_train_donor_t *d = NULL;
    size_t n_d = 0;
    char err[160];
    *out = NULL;
    *n = 0;
    int rc = ledger_train_donors(st, spec, &d, &n_d, err, sizeof err);
    if (rc == LEDGER_OK && n_d && !(*out = calloc(n_d, sizeof **out)))
        rc = LEDGER_E_NOMEM;
    for (size_t i = 0; rc == LEDGER_OK && i < n_d; i++) {
        node_train_donor_t *o = &(*out)[i];
        memcpy(o->data_id, d[i].donor.data_id, 32);
        memcpy(o->enclave_id, d[i].donor.enclave_id, 32);
        o->eligible = d[i].eligible;
    }
    if (rc == LEDGER_OK)
        *n = n_d;
    free(d);
    return rc;
}

static nt_job_t *s_job_find(node_train_t *t, const uint8_t job_id[static 32])
{
    for (size_t s = 0; s < NODE_TRAIN_JOBS_MAX; s++)
        if (t->jobs[s].used && memcmp(t->jobs[s].job.id, job_id, 32) == 0)
            return &t->jobs[s];
    return NULL;
}

/* A slot for a new job: a free one, else the oldest finished one (NULL: all busy). */
static nt_job_t *s_slot(node_train_t *t)
{
    nt_job_t *best = NULL;
    for (size_t s = 0; s < NODE_TRAIN_JOBS_MAX; s++) {
        nt_job_t *j = &t->jobs[s];
        if (!j->used)
            return j;
        node_train_phase_t ph = j->core ? node_train_core_phase(j->core) : NODE_TRAIN_FAILED;
        if ((ph == NODE_TRAIN_DONE || ph == NODE_TRAIN_FAILED) &&
            (!best || j->started_ms < best->started_ms))
            best = j;
    }
    return best;
}

static void s_job_start(node_train_t *t, ledger_state_t *st, const ledger_job_t *job)
{
    char jid[17], why[256] = "";
    s_short(job->id, jid);
    nt_job_t *j = s_slot(t);
    if (!j) {
        GLOG(WARN, NODE, "training job %s waits: %d jobs run on this runner already", jid,
             NODE_TRAIN_JOBS_MAX);
        return;
    }
    ledger_spec_t spec;
    node_train_donor_t *donors = NULL;
    node_train_enclave_t *usable = NULL;
    size_t n_donors = 0, n_usable = 0;
    uint8_t attest_pk[32] = {0};
    memset(&spec, 0, sizeof spec);
    int rc = ledger_spec_get(st, job->spec_id, &spec);
    if (rc == LEDGER_OK)
        rc = ledger_enclave_attestation_key(st, attest_pk);
    if (rc == LEDGER_OK)
        rc = s_donors(st, &spec, &donors, &n_donors);
    if (rc == LEDGER_OK)
        rc = s_usable(st, &spec, &usable, &n_usable);
    node_train_job_t cj;
    memset(&cj, 0, sizeof cj);
    memcpy(cj.job_id, job->id, 32);
    memcpy(cj.spec_id, job->spec_id, 32);
    memcpy(cj.coordinator, job->coordinator, 32);
    cj.rounds = job->rounds;
    cj.deadline_ms = s_now() + NODE_TRAIN_JOB_TIMEOUT_MS;
    node_train_core_t *core = NULL;
    if (rc != LEDGER_OK)
        snprintf(why, sizeof why, "cannot read the ledger: %s", proto_err_str(rc));
    else if (strcmp(spec.model_type, "logistic") != 0)
        rc = proto_err_fail(why, sizeof why, NODE_E_PARAMS,
                            "model type %s: the training enclaves train logistic models only",
                            spec.model_type);
    else
        rc = node_train_core_new(&cj, donors, n_donors, usable, n_usable, s_now(), &core, why,
                                 sizeof why);
    free(donors);
    free(usable);
    /* the slot is (re)used either way: a job that cannot start shows why in status */
    node_train_core_destroy(&j->core);
    uint64_t gen = j->gen + 1;
    memset(j, 0, sizeof *j);
    j->used = true;
    j->gen = gen;
    j->job = *job;
    j->spec = spec;
    memcpy(j->attest_pk, attest_pk, 32);
    j->started_ms = s_now();
    if (rc != 0) {
        snprintf(j->why, sizeof j->why, "%s", why);
        GLOG(WARN, NODE, "training job %s cannot start: %s", jid, why);
        return;
    }
    j->core = core;
    GLOG(INFO, NODE, "training job %s: %zu parties, %zu records left out, %u rounds", jid,
         node_train_core_n_parties(core), node_train_core_n_excluded(core), job->rounds);
}

/* Once a second: new jobs for our coordinators, and the fate of ours on the ledger. */
static void s_poll(node_train_t *t)
{
    node_ledger_t *ledger = node_app_ledger(t->app);
    node_enclave_t *enc = node_app_enclave(t->app);
    if (!ledger || !enc || node_ledger_local_syncing(ledger))
        return;
    ledger_state_t *st = node_ledger_local_state(ledger);
    if (!st)
        return;
    /* our jobs: published, or replaced */
    for (size_t s = 0; s < NODE_TRAIN_JOBS_MAX; s++) {
        nt_job_t *j = &t->jobs[s];
        ledger_job_t now;
        if (!j->used || !j->core || ledger_job_get(st, j->job.id, &now) != LEDGER_OK)
            continue;
        if (now.status == LEDGER_JOB_PUBLISHED)
            node_train_core_published(j->core, s_now());
        else if (now.status != LEDGER_JOB_RUNNING)
            node_train_core_abort(j->core, "the ledger no longer runs this job (replaced by a "
                                           "newer one)");
    }
    node_enclave_info_t local[NODE_ENCLAVE_MAX];
    size_t n_local = node_enclave_list_local(enc, ENCLAVE_KIND_TRAINING, local, NODE_ENCLAVE_MAX);
    ledger_spec_t *specs = NULL;
    size_t n_specs = 0;
    if (n_local && ledger_spec_list(st, &specs, &n_specs) == LEDGER_OK) {
        for (size_t i = 0; i < n_specs; i++) {
            ledger_job_t job;
            if (ledger_job_current(st, specs[i].id, &job) != LEDGER_OK ||
                job.status != LEDGER_JOB_RUNNING || s_job_find(t, job.id))
                continue;
            for (size_t k = 0; k < n_local; k++)
                if (memcmp(local[k].id, job.coordinator, 32) == 0) {
                    s_job_start(t, st, &job);
                    break;
                }
        }
    }
    free(specs);
    ledger_state_destroy(&st);
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    node_train_t *t = arg;
    uint64_t now = s_now();
    if (now >= t->last_poll + NODE_TRAIN_POLL_MS) {
        t->last_poll = now;
        s_poll(t);
    }
    nt_pump(t);
    return 0;
}

/* ---------------------------------------------------------------- life */

node_train_t *node_train_new(node_app_t *app, char *err, size_t err_cap)
{
    node_train_t *t = calloc(1, sizeof *t);
    if (!t) {
        proto_err_fail(err, err_cap, NODE_E_FAILED, "out of memory");
        return NULL;
    }
    t->app = app;
    t->timer = zloop_timer(node_app_loop(app), NODE_TRAIN_PUMP_MS, 0, s_on_timer, t);
    if (t->timer < 0) {
        free(t);
        proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot create the training timer");
        return NULL;
    }
    return t;
}

void node_train_destroy(node_train_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_train_t *t = *self_p;
    if (t->timer >= 0 && node_app_loop(t->app))
        zloop_timer_end(node_app_loop(t->app), t->timer);
    while (t->calls)
        s_call_free(t->calls);
    for (size_t s = 0; s < NODE_TRAIN_JOBS_MAX; s++)
        node_train_core_destroy(&t->jobs[s].core);
    free(t);
    *self_p = NULL;
}
