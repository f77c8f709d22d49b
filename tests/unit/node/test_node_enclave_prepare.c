/*  test_node_enclave_prepare: the runner's check of a TRAIN_PREPARE before it reaches its
 *  training enclave (node/service/node_enclave_prepare.h), on a real LevelDB ledger of
 *  issue 16's world (tests/unit/ledger/ledger_model_fixture.h: training enclaves T and T2,
 *  five donors, a RUNNING job coordinated by T). Each request goes through enclave_wire's
 *  encoder and decoder first, as a relayed one does.
 *
 *  Shows: the coordinator's request for T (its eligible records, in any order) passes; refused
 *  are a made-up job, a job of another spec, an empty eligible list, one missing an
 *  eligible record, one naming another enclave's record, a duplicate, another party's
 *  keys, a coordinator index naming another enclave, another query measurement or
 *  attestation key, an enclave that is not TRAINING or has another measurement than the
 *  spec's, a job config without the spec's DP or that does not decode; after a withdrawal the old
 * list is refused (the race) and the new one passes; a job replaced by a newer TRAIN_START is
 * refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "enclave/enclave_train_config.h"
#include "enclave/enclave_wire.h"
#include "ledger/ledger_model_fixture.h"
#include "node/service/node_enclave_prepare.h"

typedef struct {
    mf_world_t w;
    uint8_t job[32];
    node_enclave_prepare_local_t t; /* T as its runner knows it */
    uint8_t t_sign[32], t2_sign[32], t_box[32], t2_box[32], attest[32];
    uint8_t *config; /* the job config the coordinator sends */
    size_t config_len;
} s_ctx_t;

static void s_setup(s_ctx_t *x)
{
    memset(x, 0, sizeof *x);
    mf_world(&x->w, MF_DONORS, 0);
    REQUIRE(mf_train(&x->w, x->w.c.trainer, x->w.c.spec_id, x->w.c.t_id, 3, x->job, NULL, 0) ==
            LEDGER_OK);
    ledger_state_t *st = df_view(&x->w.c);
    ledger_enclave_t e;
    REQUIRE(ledger_enclave_get(st, x->w.c.t_id, &e) == LEDGER_OK);
    memcpy(x->t_sign, e.sign_pk, 32);
    memcpy(x->t_box, e.box_pk, 32);
    REQUIRE(ledger_enclave_get(st, x->w.t2_id, &e) == LEDGER_OK);
    memcpy(x->t2_sign, e.sign_pk, 32);
    memcpy(x->t2_box, e.box_pk, 32);
    REQUIRE(ledger_enclave_attestation_key(st, x->attest) == LEDGER_OK);
    ledger_state_destroy(&st);
    memcpy(x->t.id, x->w.c.t_id, 32);
    x->t.kind = ENCLAVE_KIND_TRAINING;
    memset(x->t.measurement, DF_T_M, 32);
    memcpy(x->t.box_pk, x->t_box, 32);
}

/* The job config node_train.c sends for X's job (3 rounds) into *OUT (malloc'd), with
   epsilon EPS_MILLI / 1000 (the spec's: 1000). */
static void s_config(s_ctx_t *x, uint32_t eps_milli, uint8_t **out, size_t *len)
{
    ledger_state_t *st = df_view(&x->w.c);
    ledger_spec_t spec;
    REQUIRE(ledger_spec_get(st, x->w.c.spec_id, &spec) == LEDGER_OK);
    ledger_state_destroy(&st);
    enclave_train_config_t c;
    enclave_train_config_default(&c);
    c.p = spec.n_features;
    for (size_t i = 0; i < c.p; i++)
        snprintf(c.features[i], sizeof c.features[i], "%s", spec.features[i]);
    snprintf(c.label, sizeof c.label, "%s", spec.label);
    c.rounds = 3;
    c.eps = (double)eps_milli / 1000.0;
    c.rule = spec.aggregation;
    char err[160];
    REQUIRE(enclave_train_config_encode(&c, out, len, err, sizeof err) == PROTO_OK);
}

/* The TRAIN_PREPARE the coordinator sends T (party 0 of [T, T2], coordinator 0), with
   the donor seqs SEQS (N) as its eligible list, into R. */
static void s_req(const s_ctx_t *x, const size_t *seqs, size_t n, uint8_t (*ids)[32],
                  enclave_req_t *r)
{
    memset(r, 0, sizeof *r);
    r->type = ENCLAVE_REQ_TRAIN_PREPARE;
    struct enclave_req_train_prepare *p = &r->u.train_prepare;
    memcpy(p->job_id, x->job, 32);
    memcpy(p->spec_id, x->w.c.spec_id, 32);
    p->config = x->config;
    p->config_len = x->config_len;
    p->party = 0;
    p->n_parties = 2;
    memcpy(p->sign_pk[0], x->t_sign, 32);
    memcpy(p->box_pk[0], x->t_box, 32);
    memcpy(p->sign_pk[1], x->t2_sign, 32);
    memcpy(p->box_pk[1], x->t2_box, 32);
    p->coordinator = 0;
    for (size_t i = 0; i < n; i++)
        memcpy(ids[i], x->w.data[seqs[i]], 32);
    p->eligible.ids = (const uint8_t(*)[32])ids;
    p->eligible.n = n;
    memset(p->query_measurement, MF_Q_M, 32);
    memcpy(p->attest_pk, x->attest, 32);
}

/* Encodes R, decodes it, and checks it for L; the check's code, its reason in WHY. */
static int s_check(s_ctx_t *x, const node_enclave_prepare_local_t *l, const enclave_req_t *r,
                   char *why, size_t cap)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(enclave_wire_req_encode(r, &buf, &len) == PROTO_OK);
    enclave_req_t d;
    REQUIRE(enclave_wire_req_decode(buf, len, &d) == PROTO_OK);
    ledger_state_t *st = df_view(&x->w.c);
    why[0] = '\0';
    int rc = node_enclave_prepare_check(st, l, &d.u.train_prepare, why, cap);
    ledger_state_destroy(&st);
    free(buf);
    return rc;
}

#define REFUSED(x, l, r, text)                                                                     \
    do {                                                                                           \
        char why_[256];                                                                            \
        CHECK_EQ(s_check((x), (l), (r), why_, sizeof why_), NODE_E_REFUSED);                       \
        CHECK(strstr(why_, (text)) != NULL);                                                       \
    } while (0)

static void test_prepare_check(void)
{
    s_ctx_t *x = calloc(1, sizeof *x);
    REQUIRE(x != NULL);
    s_setup(x);
    s_config(x, 1000, &x->config, &x->config_len);
    uint8_t ids[8][32];
    char why[256];
    enclave_req_t r;
    const size_t ok[] = {0, 3}, rev[] = {3, 0}, one[] = {0}, extra[] = {0, 3, 1}, dup[] = {0, 0};
    const size_t other[] = {0, 1};
    s_req(x, ok, 2, ids, &r);
    CHECK_EQ(s_check(x, &x->t, &r, why, sizeof why), 0);
    s_req(x, rev, 2, ids, &r); /* a set: any order */
    CHECK_EQ(s_check(x, &x->t, &r, why, sizeof why), 0);

    /* (a) the job */
    s_req(x, ok, 2, ids, &r);
    randombytes_buf(r.u.train_prepare.job_id, 32);
    REFUSED(x, &x->t, &r, "no such training job");
    s_req(x, ok, 2, ids, &r);
    randombytes_buf(r.u.train_prepare.spec_id, 32);
    REFUSED(x, &x->t, &r, "another spec");

    /* (d) the eligible list */
    s_req(x, NULL, 0, ids, &r);
    REFUSED(x, &x->t, &r, "names 0 records");
    s_req(x, one, 1, ids, &r);
    REFUSED(x, &x->t, &r, "names 1 records");
    s_req(x, extra, 3, ids, &r);
    REFUSED(x, &x->t, &r, "names 3 records");
    s_req(x, other, 2, ids, &r); /* T2's record instead of T's seq 3 */
    REFUSED(x, &x->t, &r, "eligible list");
    s_req(x, dup, 2, ids, &r);
    REFUSED(x, &x->t, &r, "eligible list");

    /* (b) the enclave and the parties */
    s_req(x, ok, 2, ids, &r);
    r.u.train_prepare.party = 1; /* T2's keys */
    REFUSED(x, &x->t, &r, "party 1's keys are not this enclave's");
    s_req(x, ok, 2, ids, &r); /* the wire decoder refuses it already; the check too */
    r.u.train_prepare.party = 2;
    {
        ledger_state_t *st = df_view(&x->w.c);
        CHECK_EQ(node_enclave_prepare_check(st, &x->t, &r.u.train_prepare, why, sizeof why),
                 NODE_E_REFUSED);
        CHECK(strstr(why, "of 2 parties") != NULL);
        ledger_state_destroy(&st);
    }
    s_req(x, ok, 2, ids, &r);
    memset(r.u.train_prepare.box_pk[0], 0x77, 32);
    REFUSED(x, &x->t, &r, "keys are not this enclave's");
    s_req(x, ok, 2, ids, &r);
    r.u.train_prepare.coordinator = 1;
    REFUSED(x, &x->t, &r, "not the job's coordinator");
    node_enclave_prepare_local_t l = x->t;
    l.kind = ENCLAVE_KIND_QUERY;
    s_req(x, ok, 2, ids, &r);
    REFUSED(x, &l, &r, "not a training enclave");
    l = x->t;
    memset(l.measurement, 0x09, 32);
    REFUSED(x, &l, &r, "measurement is not the spec's");
    l = x->t;
    memcpy(l.id, x->w.q_id, 32);
    REFUSED(x, &l, &r, "not active with the spec's measurement");

    /* (c) what the job names */
    s_req(x, ok, 2, ids, &r);
    memset(r.u.train_prepare.query_measurement, 0x04, 32);
    REFUSED(x, &x->t, &r, "query measurement");
    s_req(x, ok, 2, ids, &r);
    memset(r.u.train_prepare.attest_pk, 0x04, 32);
    REFUSED(x, &x->t, &r, "attestation key");

    /* (e) the job config: no DP where the spec asks for epsilon 1, or no config at all */
    uint8_t *good = x->config, *nodp = NULL;
    size_t good_len = x->config_len;
    s_config(x, 0, &nodp, &x->config_len);
    x->config = nodp;
    s_req(x, ok, 2, ids, &r);
    REFUSED(x, &x->t, &r, "epsilon");
    static const uint8_t empty_array[] = {0x90};
    r.u.train_prepare.config = empty_array;
    r.u.train_prepare.config_len = sizeof empty_array;
    REFUSED(x, &x->t, &r, "config does not decode");
    free(nodp);
    x->config = good;
    x->config_len = good_len;

    /* a withdrawal committed after the coordinator read the ledger: the old list is
       refused, the new one passes */
    REQUIRE(df_withdraw(&x->w.c, x->w.c.bob, x->w.data[3]) == LEDGER_OK);
    s_req(x, ok, 2, ids, &r);
    REFUSED(x, &x->t, &r, "names 2 records");
    s_req(x, one, 1, ids, &r);
    CHECK_EQ(s_check(x, &x->t, &r, why, sizeof why), 0);

    /* a job replaced by a newer TRAIN_START */
    uint8_t newer[32];
    REQUIRE(mf_train(&x->w, x->w.c.trainer, x->w.c.spec_id, x->w.c.t_id, 3, newer, NULL, 0) ==
            LEDGER_OK);
    REFUSED(x, &x->t, &r, "not running");
    memcpy(x->job, newer, 32);
    s_req(x, one, 1, ids, &r);
    CHECK_EQ(s_check(x, &x->t, &r, why, sizeof why), 0);

    /* no ledger at all */
    CHECK_EQ(node_enclave_prepare_check(NULL, &x->t, &r.u.train_prepare, why, sizeof why),
             NODE_E_REFUSED);
    mf_close(&x->w);
    free(x->config);
    free(x);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    test_prepare_check();
    return testutil_done("test_node_enclave_prepare");
}
