/*  enclave_kind_train_publish: what the aggregation enclave gives out once a job is done.
 *  PUBLISH signs the proto_publish of the job (model hash, metrics on the pooled holdout,
 *  the records used as a records root and a bitmap over the spec's donor seq list, the
 *  parties with their record counts and contribution weights). The answer's model field
 *  stays empty: the issue wants the model weights to reach query enclaves only, sealed to
 *  them (a runner holding them could serve queries nobody paid for); the publication's
 *  model_hash is what a runner shows, and MODEL_SEAL carries the model. MODEL_SEAL verifies a query
 * enclave's quote offline (proto_attest, against the attestation-service key and the job's query
 *  measurement, report data of the query kind bound to this enclave's own chain, so a
 *  runner cannot get the model into a query enclave that follows a chain of its making) and
 *  seals model and publication to it:
 *  crypto_box_seal(box pk, [model bin, publication bin]). The quote has no age limit (a
 *  query enclave's registered quote is as old as its registration) and no revocation list
 *  (the enclave does not know the ledger's): the runner picks registered, active query
 *  enclaves; a certificate or quote time up to 10 minutes ahead of the enclave's clock is
 *  accepted, as the ledger does.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind_train_job.h"
#include "ml/ml_model.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_publish.h"

/* ---- PUBLISH ---- */

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* The union of the parties' used ids, sorted and unique, into a new *OUT. */
static int s_union(const enclave_job_t *j, uint8_t (**out)[32], size_t *n)
{
    size_t total = 0;
    for (uint32_t i = 0; i < j->k; i++)
        total += j->n_ids[i];
    uint8_t(*u)[32] = calloc(total ? total : 1, 32);
    if (!u)
        return PROTO_E_NOMEM;
    size_t k = 0;
    for (uint32_t i = 0; i < j->k; i++) {
        memcpy(u[k], j->ids[i], j->n_ids[i] * 32);
        k += j->n_ids[i];
    }
    qsort(u, k, 32, s_id_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++)
        if (m == 0 || memcmp(u[m - 1], u[i], 32) != 0)
            memmove(u[m++], u[i], 32);
    *out = u;
    *n = m;
    return PROTO_OK;
}

static void s_metric(proto_publish_t *p, const char *name, double v)
{
    proto_publish_metric_t *m = &p->metrics[p->n_metrics++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value_micro = (int64_t)llround(v * 1e6);
}

static int s_publication(const enclave_state_t *st, enclave_job_t *j,
                         const enclave_wire_ids_t *donors, proto_publish_t *p, char *err,
                         size_t err_cap)
{
    uint8_t(*u)[32] = NULL;
    size_t n = 0;
    int rc = s_union(j, &u, &n);
    if (rc)
        return rc;
    memset(p, 0, sizeof *p);
    p->version = 1;
    memcpy(p->job_id, j->job_id, 32);
    memcpy(p->spec_id, j->spec_id, 32);
    ml_model_t *m = NULL;
    char merr[64];
    rc = ml_model_decode(j->model, j->model_len, &m, merr, sizeof merr);
    if (rc == PROTO_OK)
        ml_model_hash(m, p->model_hash);
    ml_model_destroy(&m);
    uint64_t n_train = 0;
    for (uint32_t i = 0; i < j->k; i++)
        n_train += j->n_train[i];
    p->n_train = (uint32_t)n_train;
    p->n_test = (uint32_t)j->n_test;
    s_metric(p, "accuracy", (double)j->correct[0] / (double)j->n_test);
    s_metric(p, "logloss", j->loss / (double)j->n_test);
    s_metric(p, "epsilon", j->eps);
    s_metric(p, "rounds", j->cfg.rounds);
    /* the aggregation's party-level DP: epsilon spent (at the config's delta), noise
       multiplier z and clip norm S (ml_fed.h) */
    double z = 0;
    if (enclave_train_config_agg_noise(&j->cfg, &z, NULL, 0) != PROTO_OK)
        z = 0;
    s_metric(p, "agg_epsilon", j->fed ? ml_fed_coord_eps(j->fed) : 0.0);
    s_metric(p, "agg_noise", z);
    s_metric(p, "agg_clip", j->cfg.agg_clip);
    size_t found = 0;
    for (size_t i = 0; i < donors->n && rc == PROTO_OK; i++) {
        uint8_t id[32];
        enclave_wire_ids_get(donors, i, id);
        if (bsearch(id, u, n, 32, s_id_cmp)) {
            if (p->bitmap[i / 8] & (1u << (i % 8)))
                continue;
            p->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
            p->bitmap_len = i / 8 + 1; /* no trailing zero byte */
            found++;
        }
    }
    if (rc == PROTO_OK && found != n)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_JOB,
                            "%zu used records are not among the spec's donors", n - found);
    size_t total = 0;
    for (uint32_t i = 0; i < j->k; i++)
        total += j->n_ids[i];
    if (rc == PROTO_OK && total != n)
        rc = proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "a record used by two parties");
    if (rc == PROTO_OK) {
        proto_publish_records_root_inplace(u, n, p->records_root);
        p->n_records = (uint32_t)n;
        p->n_parties = j->k;
        for (uint32_t i = 0; i < j->k; i++) {
            proto_hash(ENCLAVE_JOB_ID_DOMAIN, j->sign_pk[i], 32, p->parties[i].enclave_id);
            p->parties[i].n_records = (uint32_t)j->n_ids[i];
            p->parties[i].weight_bp = j->weight_bp[i];
        }
        p->time_ms = enclave_kind_now_ms();
        memcpy(p->enclave_pk, st->sign_pk, 32);
        rc = proto_publish_sign(p, st->secrets->sign_sk);
    }
    free(u);
    return rc;
}

int enclave_kind_publish(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                         uint8_t **blob, char *err, size_t err_cap)
{
    enclave_job_t *j = enclave_jobs_find(st->jobs, req->u.publish.job_id);
    if (!j || !enclave_job_is_coord(j) || j->cphase != ENCLAVE_JOB_C_DONE)
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "no finished job coordinated here");
    if (req->u.publish.donors.n > PROTO_PUBLISH_BITMAP_MAX * 8u)
        return proto_err_fail(err, err_cap, PROTO_E_TOO_BIG, "too many donors");
    proto_publish_t *p = calloc(1, sizeof *p);
    if (!p)
        return PROTO_E_NOMEM;
    uint8_t *enc = NULL;
    size_t len = 0;
    int rc = s_publication(st, j, &req->u.publish.donors, p, err, err_cap);
    if (rc == PROTO_OK)
        rc = proto_publish_encode(p, &enc, &len);
    free(p);
    if (rc == PROTO_OK && !(*blob = malloc(len)))
        rc = PROTO_E_NOMEM;
    if (rc != PROTO_OK) {
        free(enc);
        return rc;
    }
    free(j->pub);
    j->pub = enc;
    j->pub_len = len;
    memcpy(*blob, enc, len);
    ans->type = ENCLAVE_ANS_PUBLICATION;
    ans->u.publication.publication = *blob;
    ans->u.publication.publication_len = len;
    ans->u.publication.model = NULL; /* the weights leave only sealed (MODEL_SEAL) */
    ans->u.publication.model_len = 0;
    return PROTO_OK;
}

/* ---- MODEL_SEAL ---- */

/* Q's report data must be a query enclave's bound to this enclave's chain: a query enclave
   bound to another chain (one whose authorities its runner controls) would accept forged
   payment proofs. ENCLAVE_E_KIND for another kind on this chain, ENCLAVE_E_CHAIN else. */
static int s_query_report_data(const enclave_state_t *st, const proto_attest_quote_t *q, char *err,
                               size_t err_cap)
{
    uint8_t rd[PROTO_ATTEST_REPORT_DATA_LEN];
    proto_attest_report_data(PROTO_ATTEST_KIND_QUERY, st->chain_id, rd);
    if (sodium_memcmp(rd, q->body.report_data, sizeof rd) == 0)
        return PROTO_OK;
    for (uint32_t k = PROTO_ATTEST_KIND_VALIDATION; k <= PROTO_ATTEST_KIND_QUERY; k++) {
        proto_attest_report_data(k, st->chain_id, rd);
        if (sodium_memcmp(rd, q->body.report_data, sizeof rd) == 0)
            return proto_err_fail(err, err_cap, ENCLAVE_E_KIND, "not a query enclave's quote");
    }
    return proto_err_fail(err, err_cap, ENCLAVE_E_CHAIN,
                          "quote's report data is not bound to this enclave's chain");
}

int enclave_kind_model_seal(enclave_state_t *st, const enclave_req_t *req, enclave_ans_t *ans,
                            uint8_t **blob, char *err, size_t err_cap)
{
    enclave_job_t *j = enclave_jobs_find(st->jobs, req->u.model_seal.job_id);
    if (!j || !enclave_job_is_coord(j) || !j->pub)
        return proto_err_fail(err, err_cap, ENCLAVE_E_JOB, "no published job coordinated here");
    proto_attest_quote_t q;
    int rc = proto_attest_quote_decode(req->u.model_seal.quote, req->u.model_seal.quote_len, &q);
    if (rc)
        return proto_err_fail(err, err_cap, rc, "not a quote");
    proto_attest_policy_t pol;
    memset(&pol, 0, sizeof pol);
    pol.want_measurement = j->query_measurement;
    pol.now_ms = enclave_kind_now_ms();
    pol.max_skew_ms = 600000;
    pol.cert_skew_ms = 600000;
    if ((rc = proto_attest_quote_verify(&q, j->attest_pk, &pol, err, err_cap)))
        return rc;
    if ((rc = s_query_report_data(st, &q, err, err_cap)))
        return rc;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_bin(&w, j->model, j->model_len);
    proto_wr_bin(&w, j->pub, j->pub_len);
    size_t plen = 0;
    const uint8_t *plain = proto_wr_data(&w, &plen);
    rc = plain ? PROTO_OK : PROTO_E_NOMEM;
    if (rc == PROTO_OK && !(*blob = malloc(plen + crypto_box_SEALBYTES)))
        rc = PROTO_E_NOMEM;
    if (rc == PROTO_OK && crypto_box_seal(*blob, plain, plen, q.body.box_pk) != 0)
        rc = proto_err_fail(err, err_cap, PROTO_E_CRYPTO, "the quote's box key is not usable");
    proto_wr_free(&w);
    if (rc != PROTO_OK)
        return rc;
    ans->type = ENCLAVE_ANS_SEALED_MODEL;
    ans->u.blob.bytes = *blob;
    ans->u.blob.len = plen + crypto_box_SEALBYTES;
    return PROTO_OK;
}
