/*  node_train_rpc: the train_status method (see node_train.h): the ledger's job and model
 *  of a spec, and on the runner that drives the job, its progress.
 */
#include <stdio.h>
#include <string.h>

#include "node/app/node_app.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "node/service/node_ledger_local.h"
#include "node/service/node_train_int.h"

static bool s_zero(const uint8_t id[static 32])
{
    static const uint8_t z[32];
    return memcmp(id, z, 32) == 0;
}

static json_t *s_job_json(const ledger_job_t *j)
{
    json_t *o =
        json_pack("{s:o,s:o,s:I,s:s,s:I,s:o}", "id", node_rpc_hex(j->id, 32), "coordinator",
                  node_rpc_hex(j->coordinator, 32), "rounds", (json_int_t)j->rounds, "status",
                  ledger_job_status_name(j->status), "height", (json_int_t)j->height,
                  "query_measurement", node_rpc_hex(j->query_measurement, 32));
    if (o && !s_zero(j->model_id))
        json_object_set_new(o, "model_id", node_rpc_hex(j->model_id, 32));
    return o;
}

static json_t *s_model_json(const ledger_model_t *m)
{
    json_t *metrics = json_object(), *parties = json_array();
    for (size_t i = 0; metrics && i < m->n_metrics; i++)
        json_object_set_new(metrics, m->metrics[i].name,
                            json_real((double)m->metrics[i].value_micro / 1e6));
    for (size_t i = 0; parties && i < m->n_parties; i++)
        json_array_append_new(parties, json_pack("{s:o,s:I,s:I}", "enclave",
                                                 node_rpc_hex(m->parties[i].enclave_id, 32),
                                                 "n_records", (json_int_t)m->parties[i].n_records,
                                                 "weight_bp", (json_int_t)m->parties[i].weight_bp));
    return json_pack("{s:o,s:o,s:I,s:I,s:I,s:o,s:o,s:I}", "id", node_rpc_hex(m->id, 32),
                     "model_hash", node_rpc_hex(m->model_hash, 32), "n_train",
                     (json_int_t)m->n_train, "n_test", (json_int_t)m->n_test, "n_records",
                     (json_int_t)m->n_records, "metrics", metrics ? metrics : json_null(),
                     "parties", parties ? parties : json_null(), "height", (json_int_t)m->height);
}

static json_t *s_local_json(const nt_job_t *j)
{
    if (!j->core)
        return json_pack("{s:s,s:s}", "phase", "failed", "why", j->why);
    const node_train_core_t *c = j->core;
    json_t *parties = json_array();
    for (uint32_t p = 0; parties && p < node_train_core_n_parties(c); p++) {
        node_train_party_t st;
        if (!node_train_core_party(c, p, &st, NULL))
            continue;
        json_array_append_new(
            parties,
            json_pack("{s:o,s:b,s:I,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "enclave",
                      node_rpc_hex(st.enclave_id, 32), "coordinator",
                      p == node_train_core_coordinator(c), "eligible", (json_int_t)st.n_eligible,
                      "prepared", st.prepared, "n_records", (json_int_t)st.n_records, "n_train",
                      (json_int_t)st.n_train, "n_test", (json_int_t)st.n_test, "dropped",
                      (json_int_t)st.dropped, "state", (json_int_t)st.state, "delivered",
                      (json_int_t)st.delivered, "refused", (json_int_t)st.refused));
    }
    json_t *o =
        json_pack("{s:s,s:I,s:I,s:s,s:o,s:I,s:I}", "phase",
                  node_train_core_phase_name(node_train_core_phase(c)), "round",
                  (json_int_t)(node_train_core_round(c) > j->job.rounds ? j->job.rounds
                                                                        : node_train_core_round(c)),
                  "rounds", (json_int_t)j->job.rounds, "why", node_train_core_why(c), "parties",
                  parties ? parties : json_null(), "queued", (json_int_t)node_train_core_queued(c),
                  "excluded", (json_int_t)node_train_core_n_excluded(c));
    uint8_t txid[32];
    if (o && node_train_core_txid(c, txid))
        json_object_set_new(o, "txid", node_rpc_hex(txid, 32));
    return o;
}

static json_t *s_m_status(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                          size_t cap)
{
    (void)method;
    uint8_t spec_id[32];
    node_ledger_t *ledger = node_app_ledger(app);
    if (!ledger)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                             "this node runs without a ledger (start it with --genesis FILE)");
    if (node_rpc_param_id(params, "spec", 0, spec_id, code, err, cap) != 0)
        return NULL;
    ledger_state_t *st = node_ledger_local_state(ledger);
    if (!st)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
    ledger_spec_t spec;
    ledger_job_t job;
    ledger_model_t model;
    json_t *out = NULL;
    if (ledger_spec_get(st, spec_id, &spec) != LEDGER_OK) {
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no such spec on the ledger");
        goto out;
    }
    bool have_job = ledger_job_current(st, spec_id, &job) == LEDGER_OK;
    bool have_model = have_job && !s_zero(job.model_id) &&
                      ledger_model_get(st, job.model_id, &model) == LEDGER_OK;
    out = json_pack("{s:o,s:o,s:o,s:n}", "spec", node_rpc_hex(spec_id, 32), "job",
                    have_job ? s_job_json(&job) : json_null(), "model",
                    have_model ? s_model_json(&model) : json_null(), "local");
    node_train_t *t = node_app_train(app);
    const nt_job_t *mine = NULL;
    for (size_t s = 0; t && s < NODE_TRAIN_JOBS_MAX; s++) {
        const nt_job_t *j = &t->jobs[s];
        if (j->used && memcmp(j->job.spec_id, spec_id, 32) == 0 &&
            (!mine || j->started_ms > mine->started_ms))
            mine = j;
    }
    if (out && mine)
        json_object_set_new(out, "local", s_local_json(mine));
    if (!out)
        node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
out:
    ledger_state_destroy(&st);
    return out;
}

int node_train_register(node_app_t *app)
{
    return node_app_method_add(app, "train_status", s_m_status);
}
