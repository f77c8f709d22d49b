/*  node_enclave_prepare: the runner's check of a TRAIN_PREPARE before it reaches its
 *  training enclave (see node_enclave_prepare.h): the job, the enclave, the parties and
 *  the eligible list against this runner's own reading of the ledger.
 */
#include "node/service/node_enclave_prepare.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_train_config.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_model.h"
#include "proto/proto_attest.h"
#include "proto/proto_hex.h"

static int s_cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* Whether the eligible list P->eligible holds exactly the ids WANT (N) as a set. 0, or
   NODE_E_REFUSED / NODE_E_FAILED with ERR. */
static int s_eligible_match(const struct enclave_req_train_prepare *p, uint8_t (*want)[32],
                            size_t n, char *err, size_t cap)
{
    size_t got_n = p->eligible.n;
    if (got_n != n)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "the eligible list names %zu records; this runner's ledger makes "
                              "%zu of this enclave's donor records eligible",
                              got_n, n);
    if (n == 0)
        return 0;
    uint8_t(*got)[32] = malloc(n * sizeof *got);
    if (!got)
        return proto_err_fail(err, cap, NODE_E_FAILED, "out of memory");
    for (size_t i = 0; i < n; i++)
        enclave_wire_ids_get(&p->eligible, i, got[i]);
    qsort(got, n, sizeof *got, s_cmp_id);
    qsort(want, n, sizeof *want, s_cmp_id);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (memcmp(got[i], want[i], 32) == 0 && (i == 0 || memcmp(got[i], got[i - 1], 32) != 0))
            continue;
        char hex[17];
        bool listed = bsearch(got[i], want, n, sizeof *want, s_cmp_id) != NULL;
        proto_hex_encode(listed ? want[i] : got[i], 8, hex);
        rc = proto_err_fail(err, cap, NODE_E_REFUSED,
                            listed ? "the eligible list leaves out eligible record %s..."
                                   : "the eligible list names record %s..., not an eligible donor "
                                     "record of this enclave on this runner's ledger",
                            hex);
    }
    free(got);
    return rc;
}

/* (b): party P->party of P's parties is L by its keys, and L is registered, ACTIVE, with
   the spec's measurement; the coordinator index names the job's coordinator. */
static int s_parties(ledger_state_t *st, const node_enclave_prepare_local_t *l,
                     const ledger_spec_t *spec, const ledger_job_t *job,
                     const struct enclave_req_train_prepare *p, char *err, size_t cap)
{
    uint8_t eid[32];
    ledger_enclave_t e;
    if (l->kind != ENCLAVE_KIND_TRAINING)
        return proto_err_fail(err, cap, NODE_E_REFUSED, "the enclave is not a training enclave");
    if (memcmp(l->measurement, spec->measurement, 32) != 0)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "the enclave's measurement is not the spec's");
    int rc = ledger_enclave_get(st, l->id, &e);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "the enclave is not registered on this runner's ledger");
    if (rc != LEDGER_OK)
        return proto_err_fail(err, cap, NODE_E_FAILED, "cannot read the enclave registry: %s",
                              proto_err_str(rc));
    if (e.status != LEDGER_ENCLAVE_ACTIVE || memcmp(e.measurement, spec->measurement, 32) != 0)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "the enclave is not active with the spec's measurement on the "
                              "ledger");
    if (p->n_parties == 0 || p->n_parties > ENCLAVE_WIRE_PARTIES_MAX || p->party >= p->n_parties ||
        p->coordinator >= p->n_parties)
        return proto_err_fail(err, cap, NODE_E_REFUSED, "party %u or coordinator %u of %zu parties",
                              p->party, p->coordinator, p->n_parties);
    ledger_enclave_id(p->sign_pk[p->party], eid);
    if (memcmp(eid, l->id, 32) != 0 || memcmp(p->box_pk[p->party], l->box_pk, 32) != 0 ||
        memcmp(p->box_pk[p->party], e.box_pk, 32) != 0)
        return proto_err_fail(err, cap, NODE_E_REFUSED, "party %u's keys are not this enclave's",
                              p->party);
    ledger_enclave_id(p->sign_pk[p->coordinator], eid);
    if (memcmp(eid, job->coordinator, 32) != 0)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "coordinator %u is not the job's coordinator enclave",
                              p->coordinator);
    return 0;
}

/* (e): P's job config is the spec's features, label, epsilon and aggregation rule and the
   job's rounds (what node_train.c's config carries; the other fields are the module's
   tuning, not the spec's). */
static int s_config(const ledger_spec_t *spec, const ledger_job_t *job,
                    const struct enclave_req_train_prepare *p, char *err, size_t cap)
{
    enclave_train_config_t c;
    char why[160] = "";
    if (enclave_train_config_decode(p->config, p->config_len, &c, why, sizeof why) != PROTO_OK)
        return proto_err_fail(err, cap, NODE_E_REFUSED, "the job config does not decode: %s", why);
    bool same = c.p == spec->n_features && strcmp(c.label, spec->label) == 0;
    for (size_t i = 0; same && i < c.p; i++)
        same = strcmp(c.features[i], spec->features[i]) == 0;
    if (!same)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "the job config's features or label are not the spec's");
    if (c.rounds != job->rounds || c.rule != spec->aggregation ||
        c.eps != (double)spec->max_epsilon_milli / 1000.0)
        return proto_err_fail(err, cap, NODE_E_REFUSED,
                              "the job config's rounds, aggregation rule or epsilon are not the "
                              "job's and spec's");
    return 0;
}

int node_enclave_prepare_check(ledger_state_t *st, const node_enclave_prepare_local_t *l,
                               const struct enclave_req_train_prepare *p, char *err, size_t err_cap)
{
    ledger_job_t job, cur;
    ledger_spec_t spec;
    uint8_t attest_pk[32];
    if (!st)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED,
                              "this runner has no ledger to check "
                              "a training job against");
    /* (a) the job */
    int rc = ledger_job_get(st, p->job_id, &job);
    if (rc == LEDGER_E_NOT_FOUND)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED, "no such training job on the ledger");
    if (rc != LEDGER_OK)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read the job: %s",
                              proto_err_str(rc));
    if (memcmp(job.spec_id, p->spec_id, 32) != 0)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED, "the job is of another spec");
    if (job.status != LEDGER_JOB_RUNNING)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED, "the job is not running (%s)",
                              job.status == LEDGER_JOB_PUBLISHED ? "published" : "replaced");
    if ((rc = ledger_job_current(st, p->spec_id, &cur)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read the spec's job: %s",
                              proto_err_str(rc));
    if (memcmp(cur.id, job.id, 32) != 0)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED,
                              "the job is not its spec's current job");
    if ((rc = ledger_spec_get(st, p->spec_id, &spec)) != LEDGER_OK)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read the spec: %s",
                              proto_err_str(rc));
    /* (b) the enclave and the parties */
    if ((rc = s_parties(st, l, &spec, &job, p, err, err_cap)) != 0)
        return rc;
    /* (c) what the job names */
    if (memcmp(p->query_measurement, job.query_measurement, 32) != 0)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED,
                              "the query measurement is not the job's");
    if (ledger_enclave_attestation_key(st, attest_pk) != LEDGER_OK ||
        memcmp(p->attest_pk, attest_pk, 32) != 0)
        return proto_err_fail(err, err_cap, NODE_E_REFUSED,
                              "the attestation key is not the ledger's");
    /* (d) the eligible list */
    uint8_t(*want)[32] = NULL;
    size_t n = 0;
    char why[160] = "";
    if (ledger_train_eligible(st, &spec, l->id, &want, &n, why, sizeof why) != LEDGER_OK)
        return proto_err_fail(err, err_cap, NODE_E_FAILED, "cannot read the donors: %s", why);
    rc = s_eligible_match(p, want, n, err, err_cap);
    free(want);
    if (rc != 0)
        return rc;
    /* (e) the job config */
    return s_config(&spec, &job, p, err, err_cap);
}
