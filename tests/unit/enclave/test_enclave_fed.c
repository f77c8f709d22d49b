/*  test_enclave_fed: federated training across three real genie-enclave processes
 *  (training kind, under their seccomp filter), driven through enclave_host as a runner
 *  would: synthetic donors (a phenotype CSV and a 23andMe file each, joined inside the
 *  enclave on the "rs1:A" feature) are donated sealed to each enclave; TRAIN_PREPARE goes to
 *  every party with one record left out of the eligible list (it is dropped); the test
 *  relays the sealed FED_STEP messages between the enclaves until the job is done, and
 *  shows that a relayed message with a flipped byte, claimed from the wrong party or
 *  delivered to the wrong party is refused; PUBLISH gives a publication that verifies,
 *  whose records_root and bitmap name exactly the records used, whose weights sum to
 *  10000, and whose model (hash on the publication) classifies a clean held-out set about
 *  as well as a model trained centrally on the same data (ml_logistic_fit), WITH the
 *  aggregation's party-level DP noise at the default settings (the publication's
 *  agg_epsilon shows the budget spent; a budget no noise meets is refused up front). Then a
 *  poisoned party (many donors, labels flipped) under the median, noise on, still meets
 *  that threshold while the plain (sample-weighted, no aggregation DP) mean does not.
 *  MODEL_SEAL is refused for a quote of the wrong measurement and for a query enclave's
 *  bound to another chain than the coordinator's (its INIT chain id), and accepted for the
 *  query enclave's; the publication's model field is empty, and the model comes only
 *  sealed (to a quote the test makes for a key it holds), with the same publication,
 *  hashing to its model_hash. A DP-SGD job spends its epsilon within the budget (a budget
 *  no noise meets is refused up front) while relayed messages are lost and sent again. A
 *  canary in every donated file shows in no answer, error or relayed message. After each
 *  job STATS shows the donations wiped. The seed is printed (GENIE_TEST_SEED replays it).
 */
#define _GNU_SOURCE
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "enclave/enclave_prog.h"
#include "enclave/enclave_train_config.h"
#include "enclave_host_testutil.h"
#include "enclave_testutil.h"
#include "fed_world.h"
#include "ml/ml_linear.h"
#include "ml/ml_model.h"
#include "ml/ml_scale.h"
#include "ml/ml_split.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "proto/proto_publish.h"
#include "proto/proto_report.h"
#include "testutil.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE (the genie-enclave binary) must be defined by tests/CMakeLists.txt"
#endif

#define P 4 /* age, bmi, x1, rs1:A */
#define N_CLEAN 2000
#define MAX_RECS 2048

static const char *const s_features[P] = {"age", "bmi", "x1", "rs1:A"};
static uint64_t s_rng;

static uint8_t s_as_pk[32];
static enclave_platform_t *s_plat;
static uint8_t s_qm[32];    /* the query enclave's measurement */
static uint8_t s_chain[32]; /* the chain id every enclave of the test is bound to */

/* A donated record: its id, its party, and whether it will be used. */
typedef struct {
    uint8_t id[32];
    int party;
    bool used;
} s_rec_t;

static double s_unif(void)
{
    return (double)(ml_rng_next(&s_rng) >> 11) * 0x1.0p-53;
}

static double s_gauss(void)
{
    double u = s_unif(), v = s_unif();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(2.0 * M_PI * v);
}

/* One person: features (raw) and the label. */
static void s_person(double x[P], int *y)
{
    x[0] = 20 + floor(s_unif() * 60);
    x[1] = 18 + s_unif() * 17;
    x[2] = s_gauss();
    x[3] = (s_unif() < 0.3) + (s_unif() < 0.3);
    double z = 0.06 * (x[0] - 50) + 0.15 * (x[1] - 26.5) + 1.5 * x[2] + 1.0 * (x[3] - 0.6);
    *y = s_unif() < 1.0 / (1.0 + exp(-z));
}

static void s_donate_one(fed_party_t *pt, const uint8_t spec[32], const uint8_t donor[32],
                         const char *data, uint8_t id_out[32])
{
    uint8_t salt[32];
    randombytes_buf(salt, 32);
    size_t len = strlen(data);
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE;
    memcpy(req.u.donate.spec_id, spec, 32);
    proto_data_commit(salt, (const uint8_t *)data, len, req.u.donate.commitment);
    memcpy(req.u.donate.data_id, req.u.donate.commitment, 32);
    memcpy(req.u.donate.donor, donor, 32);
    uint8_t *sealed = NULL;
    size_t sealed_len = 0;
    REQUIRE(enclave_prog_donation_seal(pt->box_pk, spec, req.u.donate.data_id, salt,
                                       (const uint8_t *)data, len, &sealed, &sealed_len) == 0);
    req.u.donate.sealed = sealed;
    req.u.donate.sealed_len = sealed_len;
    proto_receipt_t r;
    CHECK_EQ(enclave_testutil_call_receipt(pt->h, &req, &r), 0);
    memcpy(id_out, req.u.donate.data_id, 32);
    free(sealed);
}

/* Donates N donors to party PI (a CSV and a 23andMe file each), labels flipped when FLIP;
   appends the records to RECS and the donors' rows to the pooled set (X, Y) when not NULL. */
static void s_donate(fed_party_t *ps, int pi, const uint8_t spec[32], size_t n, bool flip,
                     s_rec_t *recs, size_t *n_recs, double *x, double *y, size_t *n_xy)
{
    for (size_t d = 0; d < n; d++) {
        double f[P];
        int lab;
        s_person(f, &lab);
        if (flip)
            lab = !lab;
        char csv[256], g23[256];
        snprintf(csv, sizeof csv, "id,age,bmi,x1,trait,note\nP%d_%zu,%.0f,%.3f,%.4f,%d,%s\n", pi, d,
                 f[0], f[1], f[2], lab, S_CANARY);
        const char *gt = f[3] == 2 ? "AA" : f[3] == 1 ? "AG" : "GG";
        snprintf(g23, sizeof g23, "# synthetic %s\nrs1\t1\t1000\t%s\nrs2\t1\t2000\tCT\n", S_CANARY,
                 gt);
        uint8_t donor[32];
        randombytes_buf(donor, 32);
        REQUIRE(*n_recs + 2 <= MAX_RECS);
        s_donate_one(&ps[pi], spec, donor, csv, recs[*n_recs].id);
        recs[*n_recs].party = pi;
        recs[(*n_recs)++].used = true;
        s_donate_one(&ps[pi], spec, donor, g23, recs[*n_recs].id);
        recs[*n_recs].party = pi;
        recs[(*n_recs)++].used = true;
        if (x) {
            memcpy(x + *n_xy * P, f, sizeof f);
            y[(*n_xy)++] = lab;
        }
    }
}

/* The job config through the node's encoder (enclave_train_config.h). */
static uint8_t *s_config(uint32_t rule, double eps, double agg_eps, size_t *len)
{
    enclave_train_config_t c;
    enclave_train_config_default(&c);
    /* the default: the aggregation's party-level DP is on */
    CHECK(c.agg_eps == ML_FED_AGG_EPS_DEFAULT && c.agg_clip == ML_FED_AGG_CLIP_DEFAULT &&
          c.agg_eps > 0);
    c.p = P;
    for (int i = 0; i < P; i++)
        snprintf(c.features[i], sizeof c.features[i], "%s", s_features[i]);
    snprintf(c.label, sizeof c.label, "trait");
    c.rounds = 10;
    c.epochs = 2;
    c.lr = 0.1;
    c.batch = 16;
    c.l2 = 0.001;
    c.eps = eps;
    c.delta = 1e-5;
    c.rule = rule; /* 1 mean, 2 median */
    c.seed = 7;
    c.holdout = 25;
    c.agg_eps = agg_eps;
    if (agg_eps == 0)
        c.agg_clip = 0; /* the plain rules, sample-weighted mean included */
    uint8_t *out = NULL;
    char err[128] = "";
    int rc = enclave_train_config_encode(&c, &out, len, err, sizeof err);
    if (rc)
        printf("config: %s\n", err);
    REQUIRE(rc == 0);
    enclave_train_config_t back;
    REQUIRE(enclave_train_config_decode(out, *len, &back, err, sizeof err) == 0);
    CHECK(back.p == P && back.rule == rule && back.eps == eps && back.holdout == 25 &&
          back.agg_eps == c.agg_eps && back.agg_clip == c.agg_clip);
    /* what the enclave would refuse, the encoder refuses */
    uint8_t *bad = NULL;
    size_t blen = 0;
    c.rule = 9;
    CHECK_EQ(enclave_train_config_encode(&c, &bad, &blen, err, sizeof err), ML_E_SPEC);
    c.rule = rule;
    double clip = c.agg_clip;
    c.agg_clip = 0; /* noise without a clip norm */
    c.agg_eps = 1;
    CHECK_EQ(enclave_train_config_encode(&c, &bad, &blen, err, sizeof err), ML_E_SPEC);
    c.agg_clip = clip;
    c.agg_eps = agg_eps;
    snprintf(c.features[1], sizeof c.features[1], "%s", s_features[0]);
    CHECK_EQ(enclave_train_config_encode(&c, &bad, &blen, err, sizeof err), ML_E_SPEC);
    CHECK(bad == NULL);
    return out;
}

/* ---- one job ---- */

typedef struct {
    uint32_t rule;
    size_t n_donors[K];
    int flip; /* the poisoned party, or -1 */
    bool drop_one;
    bool seal;      /* check MODEL_SEAL */
    double eps;     /* DP-SGD at the parties (0: none) */
    double agg_eps; /* the aggregation's party-level epsilon (0: no noise, no clipping) */
    bool lossy;     /* lose some relayed messages (s_relay) */
} s_job_opts_t;

/* Accuracy of the model bytes M on the clean set. */
static double s_accuracy(const uint8_t *m, size_t len, const ml_mat_t *x, const double *y)
{
    ml_model_t *model = NULL;
    char err[128] = "";
    REQUIRE(ml_model_decode(m, len, &model, err, sizeof err) == 0);
    double *pr = calloc(x->rows, sizeof *pr);
    REQUIRE(pr != NULL);
    REQUIRE(ml_model_predict(model, x, pr) == 0);
    size_t ok = 0;
    for (size_t i = 0; i < x->rows; i++)
        ok += (pr[i] >= 0.5) == (y[i] != 0);
    free(pr);
    ml_model_destroy(&model);
    return (double)ok / (double)x->rows;
}

static int s_id_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* A quote (encoded, malloc'd, *QLEN bytes) the test makes on its platform for the query
   measurement (S_QM), a box key it holds (secret into BOX_SK, body into *BODY) and the
   report data of a query enclave bound to CHAIN, as such an enclave's would be. */
static uint8_t *s_query_quote(const uint8_t chain[32], proto_attest_body_t *body,
                              uint8_t box_sk[32], size_t *qlen)
{
    memset(body, 0, sizeof *body);
    crypto_box_keypair(body->box_pk, box_sk);
    randombytes_buf(body->sign_pk, 32);
    proto_attest_report_data(PROTO_ATTEST_KIND_QUERY, chain, body->report_data);
    proto_attest_quote_t q;
    REQUIRE(enclave_platform_quote(s_plat, s_qm, body, &q) == 0);
    uint8_t *qb = NULL;
    REQUIRE(proto_attest_quote_encode(&q, &qb, qlen) == 0);
    return qb;
}

/* MODEL_SEAL of JOB at COORD to a quote of s_query_quote for the test's chain; opens the
   answer, checks the publication inside equals PUB (LEN), returns the model bytes. */
static uint8_t *s_sealed_model(enclave_host_t *coord, const uint8_t job[32], const uint8_t *pub,
                               size_t pub_len, size_t *mlen)
{
    proto_attest_body_t body;
    uint8_t box_sk[32];
    size_t qlen = 0;
    uint8_t *qb = s_query_quote(s_chain, &body, box_sk, &qlen);
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_MODEL_SEAL;
    memcpy(req.u.model_seal.job_id, job, 32);
    req.u.model_seal.quote = qb;
    req.u.model_seal.quote_len = qlen;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    char err[256] = "";
    int rc = enclave_host_call(coord, &req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc)
        printf("MODEL_SEAL: %s (%s)\n", proto_err_str(rc), err);
    REQUIRE(rc == 0 && ans.type == ENCLAVE_ANS_SEALED_MODEL &&
            ans.u.blob.len > crypto_box_SEALBYTES);
    size_t plen = ans.u.blob.len - crypto_box_SEALBYTES;
    uint8_t *plain = malloc(plen);
    REQUIRE(plain != NULL);
    REQUIRE(crypto_box_seal_open(plain, ans.u.blob.bytes, ans.u.blob.len, body.box_pk, box_sk) ==
            0);
    proto_rd_t r;
    proto_rd_init(&r, plain, plen);
    const uint8_t *m = NULL, *pb = NULL;
    size_t ml = 0, pl = 0;
    REQUIRE(proto_rd_array_exact(&r, 2) == 0 && proto_rd_bin(&r, 1u << 24, &m, &ml) == 0 &&
            proto_rd_bin(&r, 1u << 24, &pb, &pl) == 0 && proto_rd_finish(&r) == 0);
    CHECK(pl == pub_len && memcmp(pb, pub, pl) == 0);
    CHECK(fed_no_canary(plain, plen)); /* nor in the model */
    uint8_t *out = malloc(ml + 1);
    REQUIRE(out != NULL);
    memcpy(out, m, ml);
    *mlen = ml;
    /* another key cannot open it */
    uint8_t other_pk[32], other_sk[32];
    crypto_box_keypair(other_pk, other_sk);
    CHECK(crypto_box_seal_open(plain, ans.u.blob.bytes, ans.u.blob.len, other_pk, other_sk) != 0);
    sodium_memzero(plain, plen);
    sodium_memzero(box_sk, sizeof box_sk);
    free(plain);
    CHECK(fed_no_canary(frame, flen));
    free(frame);
    free(qb);
    return out;
}

/* TRAIN_PREPARE of JOB to party I (coordinator 0, the query enclave's measurement in
   S_QM); the call's code; the answer's counts into *OUT when not NULL. */
static int s_prepare(fed_party_t *ps, uint32_t i, const uint8_t job[32], const uint8_t spec[32],
                     const uint8_t *cfg, size_t clen, const uint8_t (*eligible)[32], size_t n_el,
                     enclave_ans_t *out)
{
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_TRAIN_PREPARE;
    memcpy(req.u.train_prepare.job_id, job, 32);
    memcpy(req.u.train_prepare.spec_id, spec, 32);
    req.u.train_prepare.config = cfg;
    req.u.train_prepare.config_len = clen;
    req.u.train_prepare.party = i;
    req.u.train_prepare.n_parties = K;
    for (int k = 0; k < K; k++) {
        memcpy(req.u.train_prepare.sign_pk[k], ps[k].sign_pk, 32);
        memcpy(req.u.train_prepare.box_pk[k], ps[k].box_pk, 32);
    }
    req.u.train_prepare.coordinator = 0;
    req.u.train_prepare.eligible.ids = eligible;
    req.u.train_prepare.eligible.n = n_el;
    memcpy(req.u.train_prepare.query_measurement, s_qm, 32);
    memcpy(req.u.train_prepare.attest_pk, s_as_pk, 32);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    size_t flen = 0;
    char err[256] = "";
    int rc = enclave_host_call(ps[i].h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc && out)
        printf("TRAIN_PREPARE %u: %s (%s)\n", i, proto_err_str(rc), err);
    if (out)
        *out = ans; /* PREPARED has no byte views */
    CHECK(fed_no_canary(frame, flen));
    free(frame);
    return rc;
}

/* Runs one job end to end and returns the published model's accuracy on the clean set. */
static double s_job(fed_party_t *ps, enclave_host_t *query, const s_job_opts_t *o, const char *tag,
                    const ml_mat_t *cx, const double *cy, double *px, double *py, size_t *pn)
{
    uint8_t spec[32], job[32];
    enclave_testutil_bytes(tag, spec, 32);
    crypto_generichash(job, 32, spec, 32, NULL, 0);
    s_rec_t *recs = calloc(MAX_RECS, sizeof *recs);
    REQUIRE(recs != NULL);
    size_t n_recs = 0;
    for (int i = 0; i < K; i++)
        s_donate(ps, i, spec, o->n_donors[i], i == o->flip, recs, &n_recs, px, py, pn);
    /* one phenotype record of party 1 is no longer allowed: it and its donor's genotype
       file go unused */
    size_t dropped_at = 0;
    if (o->drop_one) {
        for (dropped_at = 0; recs[dropped_at].party != 1; dropped_at++)
            ;
        recs[dropped_at].used = recs[dropped_at + 1].used = false;
    }
    uint8_t(*eligible)[32] = calloc(n_recs + 1, 32);
    size_t n_el = 0;
    for (size_t i = 0; i < n_recs; i++)
        if (!o->drop_one || i != dropped_at)
            memcpy(eligible[n_el++], recs[i].id, 32);

    size_t clen = 0;
    uint8_t *cfg = NULL;
    if (o->eps > 0) {
        /* a budget no noise can meet: refused up front, nothing trained, nothing wiped */
        cfg = s_config(o->rule, 1e-6, o->agg_eps, &clen);
        CHECK_EQ(s_prepare(ps, 0, job, spec, cfg, clen, (const uint8_t(*)[32])eligible, n_el, NULL),
                 ML_E_BUDGET);
        free(cfg);
    }
    if (o->agg_eps > 0) {
        /* an aggregation budget no noise can meet: refused up front as well */
        cfg = s_config(o->rule, o->eps, 1e-6, &clen);
        CHECK_EQ(s_prepare(ps, 0, job, spec, cfg, clen, (const uint8_t(*)[32])eligible, n_el, NULL),
                 ML_E_BUDGET);
        free(cfg);
    }
    cfg = s_config(o->rule, o->eps, o->agg_eps, &clen);
    const uint32_t coord = 0;
    enclave_host_measurement(query, s_qm);
    for (uint32_t i = 0; i < K; i++) {
        enclave_ans_t ans;
        int rc = s_prepare(ps, i, job, spec, cfg, clen, (const uint8_t(*)[32])eligible, n_el, &ans);
        REQUIRE(rc == 0 && ans.type == ENCLAVE_ANS_PREPARED);
        size_t want = 0;
        for (size_t r = 0; r < n_recs; r++)
            want += recs[r].party == (int)i && recs[r].used;
        CHECK_EQ(ans.u.prepared.n_records, (uint32_t)want);
        CHECK_EQ(ans.u.prepared.dropped, (uint32_t)(o->drop_one && i == 1));
        CHECK_EQ(ans.u.prepared.n_train + ans.u.prepared.n_test, (uint32_t)(want / 2));
        /* the same job twice: refused */
        if (i == 0)
            CHECK_EQ(
                s_prepare(ps, i, job, spec, cfg, clen, (const uint8_t(*)[32])eligible, n_el, NULL),
                ENCLAVE_E_JOB);
    }
    free(cfg);
    free(eligible);

    CHECK_EQ(fed_relay(ps, job, coord, o->drop_one, o->lossy), (uint32_t)ENCLAVE_FED_DONE);

    enclave_req_t req;
    enclave_ans_t ans;
    uint8_t *frame = NULL, *qbytes = NULL;
    size_t flen = 0, qlen = 0;
    char err[256] = "";
    memset(&req, 0, sizeof req);
    if (o->seal) { /* before PUBLISH: nothing to seal */
        req.type = ENCLAVE_REQ_MODEL_SEAL;
        memcpy(req.u.model_seal.job_id, job, 32);
        REQUIRE(proto_attest_quote_encode(enclave_host_quote(query), &qbytes, &qlen) == 0);
        req.u.model_seal.quote = qbytes;
        req.u.model_seal.quote_len = qlen;
        CHECK_EQ(enclave_host_call(ps[coord].h, &req, -1, &ans, &frame, &flen, err, sizeof err),
                 ENCLAVE_E_JOB);
    }
    /* PUBLISH with the donor seq list (registration order = donation order) */
    uint8_t(*seq)[32] = calloc(n_recs + 1, 32);
    for (size_t i = 0; i < n_recs; i++)
        memcpy(seq[i], recs[i].id, 32);
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_PUBLISH;
    memcpy(req.u.publish.job_id, job, 32);
    req.u.publish.donors.ids = (const uint8_t(*)[32])seq;
    req.u.publish.donors.n = n_recs;
    CHECK_EQ(enclave_host_call(ps[1].h, &req, -1, &ans, &frame, &flen, err, sizeof err),
             ENCLAVE_E_JOB); /* not the coordinator */
    int rc = enclave_host_call(ps[coord].h, &req, -1, &ans, &frame, &flen, err, sizeof err);
    if (rc)
        printf("PUBLISH: %s (%s)\n", proto_err_str(rc), err);
    REQUIRE(rc == 0 && ans.type == ENCLAVE_ANS_PUBLICATION);
    proto_publish_t *pub = calloc(1, sizeof *pub);
    REQUIRE(proto_publish_decode(ans.u.publication.publication, ans.u.publication.publication_len,
                                 pub) == 0);
    CHECK_EQ(proto_publish_verify(pub), 0);
    CHECK(memcmp(pub->enclave_pk, ps[coord].sign_pk, 32) == 0);
    CHECK(memcmp(pub->job_id, job, 32) == 0 && memcmp(pub->spec_id, spec, 32) == 0);
    /* the weights do not leave in the clear; sealed to a quoted query key they do, with
       the same publication, and hash to the publication's model_hash */
    CHECK_EQ(ans.u.publication.model_len, (size_t)0);
    size_t mlen = 0;
    uint8_t *mbytes = s_sealed_model(ps[coord].h, job, ans.u.publication.publication,
                                     ans.u.publication.publication_len, &mlen);
    ml_model_t *model = NULL;
    REQUIRE(ml_model_decode(mbytes, mlen, &model, err, sizeof err) == 0);
    uint8_t mh[32];
    ml_model_hash(model, mh);
    CHECK(memcmp(mh, pub->model_hash, 32) == 0);
    CHECK_EQ(ml_model_p(model), (size_t)P);
    ml_model_destroy(&model);
    /* exactly the used records: root, bitmap, counts */
    uint8_t(*used)[32] = calloc(n_recs + 1, 32);
    size_t n_used = 0, per[K] = {0};
    for (size_t i = 0; i < n_recs; i++) {
        bool bit = i / 8 < pub->bitmap_len && (pub->bitmap[i / 8] >> (i % 8) & 1);
        CHECK_EQ(bit, recs[i].used);
        if (recs[i].used) {
            memcpy(used[n_used++], recs[i].id, 32);
            per[recs[i].party]++;
        }
    }
    qsort(used, n_used, 32, s_id_cmp);
    uint8_t root[32];
    REQUIRE(proto_publish_records_root((const uint8_t(*)[32])used, n_used, root) == 0);
    CHECK(memcmp(root, pub->records_root, 32) == 0);
    CHECK_EQ(pub->n_records, (uint32_t)n_used);
    CHECK_EQ(pub->n_parties, (size_t)K);
    uint32_t wsum = 0;
    for (int i = 0; i < K; i++) {
        uint8_t eid[32];
        proto_hash("genie/enclave/id/v1", ps[i].sign_pk, 32, eid);
        CHECK(memcmp(pub->parties[i].enclave_id, eid, 32) == 0);
        CHECK_EQ(pub->parties[i].n_records, (uint32_t)per[i]);
        wsum += pub->parties[i].weight_bp;
    }
    CHECK_EQ(wsum, 10000u);
    int n_agg = 0;
    for (size_t m = 0; m < pub->n_metrics; m++)
        if (strcmp(pub->metrics[m].name, "epsilon") == 0) {
            double e = (double)pub->metrics[m].value_micro / 1e6;
            CHECK(o->eps > 0 ? e > 0 && e <= o->eps + 1e-6 : e == 0);
        } else if (strcmp(pub->metrics[m].name, "agg_epsilon") == 0) {
            /* every planned round was charged: the budget is spent to within 1 % */
            double e = (double)pub->metrics[m].value_micro / 1e6;
            CHECK(o->agg_eps > 0 ? e > 0.99 * o->agg_eps && e <= o->agg_eps + 1e-6 : e == 0);
            n_agg++;
        } else if (strcmp(pub->metrics[m].name, "agg_noise") == 0) {
            CHECK(o->agg_eps > 0 ? pub->metrics[m].value_micro > 0
                                 : pub->metrics[m].value_micro == 0);
            n_agg++;
        }
    CHECK_EQ(n_agg, 2);
    double acc = s_accuracy(mbytes, mlen, cx, cy);
    sodium_memzero(mbytes, mlen);
    free(mbytes);
    printf("  %s: clean accuracy %.4f, published", tag, acc);
    for (size_t m = 0; m < pub->n_metrics; m++)
        printf(" %s=%.4f", pub->metrics[m].name, (double)pub->metrics[m].value_micro / 1e6);
    printf(", weights %u/%u/%u bp\n", pub->parties[0].weight_bp, pub->parties[1].weight_bp,
           pub->parties[2].weight_bp);
    CHECK(fed_no_canary(frame, flen));
    free(frame);
    frame = NULL;

    if (o->seal) {
        /* a training enclave's quote: not the query measurement */
        uint8_t *wq = NULL;
        size_t wlen = 0;
        REQUIRE(proto_attest_quote_encode(enclave_host_quote(ps[1].h), &wq, &wlen) == 0);
        memset(&req, 0, sizeof req);
        req.type = ENCLAVE_REQ_MODEL_SEAL;
        memcpy(req.u.model_seal.job_id, job, 32);
        req.u.model_seal.quote = wq;
        req.u.model_seal.quote_len = wlen;
        CHECK_EQ(enclave_host_call(ps[coord].h, &req, -1, &ans, &frame, &flen, err, sizeof err),
                 ENCLAVE_E_MEASUREMENT_MISMATCH);
        free(wq);
        /* a query enclave of the right measurement bound to another chain (one whose
           genesis its runner wrote, so it would take forged payment proofs): refused */
        uint8_t fake[32], fsk[32];
        memcpy(fake, s_chain, 32);
        fake[0] ^= 0x80;
        proto_attest_body_t fbody;
        wq = s_query_quote(fake, &fbody, fsk, &wlen);
        sodium_memzero(fsk, sizeof fsk);
        req.u.model_seal.quote = wq;
        req.u.model_seal.quote_len = wlen;
        CHECK_EQ(enclave_host_call(ps[coord].h, &req, -1, &ans, &frame, &flen, err, sizeof err),
                 ENCLAVE_E_CHAIN);
        free(wq);
        req.u.model_seal.quote = qbytes;
        req.u.model_seal.quote_len = qlen;
        rc = enclave_host_call(ps[coord].h, &req, -1, &ans, &frame, &flen, err, sizeof err);
        if (rc)
            printf("MODEL_SEAL: %s (%s)\n", proto_err_str(rc), err);
        CHECK(rc == 0 && ans.type == ENCLAVE_ANS_SEALED_MODEL);
        CHECK(rc == 0 && ans.u.blob.len > crypto_box_SEALBYTES + 100);
        CHECK(fed_no_canary(frame, flen));
        free(frame);
        frame = NULL;
        free(qbytes);
    }
    /* every party wiped the spec's donations after its evaluation */
    for (int i = 0; i < K; i++) {
        uint64_t n = 1, bytes = 1;
        enclave_testutil_stats(ps[i].h, &n, &bytes);
        CHECK(n == 0 && bytes == 0);
    }
    free(pub);
    free(used);
    free(seq);
    free(recs);
    return acc;
}

/* A centrally trained reference on (X, Y) (N rows): its accuracy on the clean set. */
static double s_reference(const double *x, const double *y, size_t n, const ml_mat_t *cx,
                          const double *cy)
{
    ml_dataset_t *d = ml_dataset_new(n, P);
    REQUIRE(d != NULL);
    memcpy(d->x->v, x, n * P * sizeof *x);
    memcpy(d->y, y, n * sizeof *y);
    ml_scale_t *sc = NULL;
    REQUIRE(ml_scale_fit(d->x, &sc) == 0);
    REQUIRE(ml_scale_apply(sc, d->x) == 0);
    ml_fit_opts_t fo = {.l2 = 1.0};
    ml_model_t *m = NULL;
    char err[128] = "";
    REQUIRE(ml_logistic_fit(d, &fo, &m, err, sizeof err) == 0);
    REQUIRE(ml_model_set_scaling(m, sc) == 0);
    uint8_t *b = NULL;
    size_t len = 0;
    REQUIRE(ml_model_encode(m, &b, &len) == 0);
    double acc = s_accuracy(b, len, cx, cy);
    free(b);
    ml_model_destroy(&m);
    ml_scale_destroy(&sc);
    ml_dataset_destroy(&d);
    return acc;
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    s_rng = enclave_testutil_seed_init();
    const char *dir = testutil_tmpdir();
    proto_key_t *as = NULL;
    enclave_platform_t *plat = enclave_testutil_platform(dir, "runner-fed", &as);
    s_plat = plat;
    memcpy(s_as_pk, proto_key_public(as), 32);

    fed_party_t ps[K];
    enclave_host_opts_t ho;
    enclave_host_opts_default(&ho);
    ho.inherit_stderr = true;
    memset(s_chain, 0xc4, sizeof s_chain); /* any id: no ledger runs here */
    memcpy(ho.chain_id, s_chain, 32);
    for (int i = 0; i < K; i++) {
        ps[i].h = enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, plat, &ho);
        memcpy(ps[i].sign_pk, enclave_host_quote(ps[i].h)->body.sign_pk, 32);
        memcpy(ps[i].box_pk, enclave_host_quote(ps[i].h)->body.box_pk, 32);
    }
    enclave_host_t *query =
        enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_QUERY, plat, &ho);

    /* a clean held-out population the enclaves never see */
    ml_mat_t *cx = ml_mat_new(N_CLEAN, P);
    double *cy = calloc(N_CLEAN, sizeof *cy);
    REQUIRE(cx && cy);
    for (size_t i = 0; i < N_CLEAN; i++) {
        int lab;
        s_person(ml_mat_row(cx, i), &lab);
        ml_mat_row(cx, i)[0] = round(ml_mat_row(cx, i)[0]);
        cy[i] = lab;
    }

    /* 1. three honest parties, one record dropped, tampered messages, model sealing */
    double *px = calloc(MAX_RECS * P, sizeof *px), *py = calloc(MAX_RECS, sizeof *py);
    size_t pn = 0;
    REQUIRE(px && py);
    s_job_opts_t o1 = {.rule = 2,
                       .n_donors = {150, 150, 150},
                       .flip = -1,
                       .drop_one = true,
                       .seal = true,
                       .agg_eps = ML_FED_AGG_EPS_DEFAULT};
    double acc = s_job(ps, query, &o1, "clean", cx, cy, px, py, &pn);
    double ref = s_reference(px, py, pn, cx, cy);
    double threshold = ref - 0.05;
    printf("reference (central, %zu samples): %.4f, threshold %.4f\n", pn, ref, threshold);
    CHECK(acc >= threshold);

    /* 2. DP-SGD at the parties (epsilon 4 at delta 1e-5): the budget holds; some relayed
       messages are lost and sent again */
    s_job_opts_t od = {.rule = 2,
                       .n_donors = {150, 150, 150},
                       .flip = -1,
                       .eps = 4.0,
                       .lossy = true,
                       .agg_eps = ML_FED_AGG_EPS_DEFAULT};
    double acc_dp = s_job(ps, query, &od, "dp", cx, cy, NULL, NULL, NULL);
    CHECK(acc_dp > 0.6);

    /* 3. a poisoned party with most of the records, labels flipped: the median holds WITH
       the aggregation's noise at the default settings, the sample-weighted mean (no
       aggregation DP: with it the mean weighs parties equally) follows the poisoner */
    s_job_opts_t o2 = {
        .rule = 2, .n_donors = {150, 150, 400}, .flip = 2, .agg_eps = ML_FED_AGG_EPS_DEFAULT};
    double acc_median = s_job(ps, query, &o2, "poisoned-median", cx, cy, NULL, NULL, NULL);
    s_job_opts_t o3 = {.rule = 1, .n_donors = {150, 150, 400}, .flip = 2};
    double acc_mean = s_job(ps, query, &o3, "poisoned-mean", cx, cy, NULL, NULL, NULL);
    CHECK(acc_median >= threshold);
    CHECK(acc_mean < threshold);
    CHECK(acc_mean < acc_median);

    free(px);
    free(py);
    free(cy);
    ml_mat_destroy(&cx);
    for (int i = 0; i < K; i++)
        enclave_host_destroy(&ps[i].h);
    enclave_host_destroy(&query);
    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    testutil_rmtree(dir);
    return testutil_done("test_enclave_fed");
}
