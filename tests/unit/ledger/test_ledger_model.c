/*  test_ledger_model: training jobs and model publications (ledger_contract_model.c,
 *  ledger_model.c) on a real chain (ledger_model_fixture.h): every tx goes through parse,
 *  admit and apply (which must agree) and is committed as a block a peer re-executes.
 *
 *  Shows: donors carry their registration seq (ledger_donor_by_seq, ledger_donor_list);
 *  TRAIN_START is refused below min_donors (LEDGER_E_JOB) and accepted at it, refused from
 *  a non-trainer, for an unknown spec, with rounds 0 / 101 or no query measurement, with a
 *  coordinator that is unregistered, not a training enclave or of another measurement; a
 *  newer job replaces a running one (REPLACED) and the old job can no longer publish.
 *  MODEL_PUBLISH is refused (each with its code) for a bad signature, a signer that is not
 *  the coordinator, an unknown job, another spec, a party's n_records not matching its
 *  donors, a bit past the donor count, a used record whose enclave is not a party, an
 *  unregistered or wrong-kind party, a wrong records_root; accepted, it writes the model
 *  (reads: get, list all / per spec), marks the job PUBLISHED, writes TRAINED audit entries
 *  on exactly the used records (not on the unused one), indexes each owner's used records,
 *  and a second publication of the job is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_model_fixture.h"

static void test_donor_seq(void)
{
    mf_world_t w;
    mf_world(&w, MF_DONORS, 0);
    ledger_state_t *st = df_view(&w.c);
    ledger_donor_t d, *all = NULL;
    size_t n = 0;
    for (uint32_t i = 0; i < MF_DONORS; i++) {
        CHECK_EQ(ledger_donor_by_seq(st, w.c.spec_id, i, &d), LEDGER_OK);
        CHECK_EQ(d.seq, i);
        CHECK(memcmp(d.data_id, w.data[i], 32) == 0);
        CHECK(memcmp(d.enclave_id, w.enclave[i], 32) == 0);
    }
    CHECK_EQ(ledger_donor_by_seq(st, w.c.spec_id, MF_DONORS, &d), LEDGER_E_NOT_FOUND);
    CHECK_EQ(ledger_donor_list(st, w.c.spec_id, &all, &n), LEDGER_OK);
    CHECK_EQ(n, (size_t)MF_DONORS);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(all[i].seq, (uint32_t)i);
    free(all);
    ledger_state_destroy(&st);
    mf_close(&w);
}

static void test_train_start(void)
{
    mf_world_t w;
    mf_world(&w, 2, 0); /* min_donors is 3 */
    char why[LEDGER_ERR_MAX] = "";
    uint8_t job1[32], job2[32], bogus[32], other_m[32];
    memset(bogus, 0x99, 32);
    proto_key_t *tr = w.c.trainer;
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, w.c.t_id, 5, NULL, why, sizeof why), LEDGER_E_JOB);
    CHECK(strstr(why, "min_donors") != NULL);
    mf_donate(&w, 2, 3);
    /* stateless: rounds, query measurement */
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, w.c.t_id, 0, NULL, why, sizeof why), LEDGER_E_INVALID);
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, w.c.t_id, 101, NULL, why, sizeof why), LEDGER_E_INVALID);
    uint8_t zero[32] = {0};
    size_t len;
    uint8_t *tx = ledger_contract_train_start_tx(tr, w.c.chain, df_nonce(&w.c, tr), w.c.spec_id,
                                                 w.c.t_id, 5, zero, &len);
    CHECK_EQ(df_submit(&w.c, tx, len, why, sizeof why), LEDGER_E_INVALID);
    /* sender, spec, coordinator */
    CHECK_EQ(mf_train(&w, w.c.alice, w.c.spec_id, w.c.t_id, 5, NULL, why, sizeof why),
             LEDGER_E_NOT_TRAINER);
    CHECK_EQ(mf_train(&w, tr, bogus, w.c.t_id, 5, NULL, why, sizeof why), LEDGER_E_DATA_RULE);
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, bogus, 5, NULL, why, sizeof why), LEDGER_E_ENCLAVE_RULE);
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, w.c.v_id, 5, NULL, why, sizeof why),
             LEDGER_E_ENCLAVE_RULE);
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, w.q_id, 5, NULL, why, sizeof why),
             LEDGER_E_ENCLAVE_RULE);
    CHECK_EQ(df_enclave(&w.c, PROTO_ATTEST_KIND_TRAINING, 0x05, 0x25, other_m), LEDGER_OK);
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, other_m, 5, NULL, why, sizeof why),
             LEDGER_E_ENCLAVE_RULE);
    CHECK(strstr(why, "measurement") != NULL);
    /* at min_donors: accepted */
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, w.c.t_id, 5, job1, why, sizeof why), LEDGER_OK);
    uint64_t h1 = df_height(&w.c);
    ledger_state_t *st = df_view(&w.c);
    ledger_job_t j;
    CHECK_EQ(ledger_job_current(st, w.c.spec_id, &j), LEDGER_OK);
    CHECK(memcmp(j.id, job1, 32) == 0 && memcmp(j.spec_id, w.c.spec_id, 32) == 0);
    CHECK(memcmp(j.coordinator, w.c.t_id, 32) == 0 && j.rounds == 5);
    CHECK(j.status == LEDGER_JOB_RUNNING && j.height == h1);
    CHECK(j.query_measurement[0] == MF_Q_M && j.query_measurement[31] == MF_Q_M);
    CHECK_EQ(ledger_job_current(st, bogus, &j), LEDGER_E_NOT_FOUND);
    ledger_state_destroy(&st);
    /* a newer job (coordinator T2) replaces the running one */
    CHECK_EQ(mf_train(&w, tr, w.c.spec_id, w.t2_id, 3, job2, why, sizeof why), LEDGER_OK);
    st = df_view(&w.c);
    CHECK_EQ(ledger_job_get(st, job1, &j), LEDGER_OK);
    CHECK_EQ(j.status, (uint32_t)LEDGER_JOB_REPLACED);
    CHECK_EQ(ledger_job_current(st, w.c.spec_id, &j), LEDGER_OK);
    CHECK(memcmp(j.id, job2, 32) == 0 && j.status == LEDGER_JOB_RUNNING);
    CHECK(strcmp(ledger_job_status_name(LEDGER_JOB_REPLACED), "replaced") == 0);
    ledger_state_destroy(&st);
    /* the replaced job's coordinator cannot publish for it */
    proto_publish_t *p = malloc(sizeof *p);
    REQUIRE(p != NULL);
    mf_pub(&w, job1, 0x07, 5000, p);
    REQUIRE(mf_sign(p, DF_T_SEED) == PROTO_OK);
    CHECK_EQ(mf_publish(&w, p, NULL, why, sizeof why), LEDGER_E_JOB);
    CHECK(strstr(why, "current") != NULL);
    free(p);
    mf_close(&w);
}

/* Signs P by SEED and submits it; returns the code. */
static int s_pub(mf_world_t *w, proto_publish_t *p, uint8_t seed, char *err, size_t err_cap)
{
    REQUIRE(mf_sign(p, seed) == PROTO_OK);
    return mf_publish(w, p, NULL, err, err_cap);
}

static void test_publish(void)
{
    mf_world_t w;
    mf_world(&w, MF_DONORS, 0);
    char why[LEDGER_ERR_MAX] = "";
    uint8_t job[32], model[32], bogus[32];
    memset(bogus, 0x99, 32);
    CHECK_EQ(mf_train(&w, w.c.trainer, w.c.spec_id, w.c.t_id, 5, job, why, sizeof why), LEDGER_OK);
    proto_publish_t *p = malloc(sizeof *p);
    REQUIRE(p != NULL);
    const uint32_t used = 0x0f; /* seqs 0..3: a1, b1, a2, b2 (not b3) */

    /* a flipped signature bit */
    mf_pub(&w, job, used, 6000, p);
    REQUIRE(mf_sign(p, DF_T_SEED) == PROTO_OK);
    p->sig[5] ^= 1;
    CHECK_EQ(mf_publish(&w, p, NULL, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "signature") != NULL);
    /* signed by a party that is not the coordinator */
    mf_pub(&w, job, used, 6000, p);
    CHECK_EQ(s_pub(&w, p, MF_T2_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "coordinator") != NULL);
    /* an unknown job; another spec */
    mf_pub(&w, bogus, used, 6000, p);
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_JOB);
    mf_pub(&w, job, used, 6000, p);
    memset(p->spec_id, 0x98, 32);
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "spec") != NULL);
    /* a party's n_records not its count of donors (the sum still right) */
    mf_pub(&w, job, used, 6000, p);
    p->parties[0].n_records++;
    p->parties[1].n_records--;
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "n_records") != NULL);
    /* a bit past the donor count (seq 5 of 5 donors; seq 12 in a second byte) */
    mf_pub(&w, job, used, 6000, p);
    p->bitmap[0] |= 0x20;
    p->n_records++;
    p->parties[0].n_records++;
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "donor count") != NULL);
    mf_pub(&w, job, used, 6000, p);
    p->bitmap[1] = 0x10;
    p->bitmap_len = 2;
    p->n_records++;
    p->parties[0].n_records++;
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    /* a used record whose enclave is not a party: T only, over seq 0 (T) and 1 (T2) */
    mf_pub(&w, job, 0x03, 6000, p);
    p->n_parties = 1;
    p->parties[0].weight_bp = 10000;
    p->parties[0].n_records = 2;
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "not a party") != NULL);
    /* a third party, unregistered / a query enclave (no records, no weight) */
    mf_pub(&w, job, used, 6000, p);
    p->n_parties = 3;
    memcpy(p->parties[2].enclave_id, bogus, 32);
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "registered") != NULL);
    memcpy(p->parties[2].enclave_id, w.q_id, 32);
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    /* records_root of other ids (seq 4 in place of seq 3, same parties' counts) */
    mf_pub(&w, job, 0x17, 6000, p);
    uint8_t root[32];
    memcpy(root, p->records_root, 32);
    mf_pub(&w, job, used, 6000, p);
    memcpy(p->records_root, root, 32);
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_PUBLISH);
    CHECK(strstr(why, "records_root") != NULL);
    /* nothing was written by the refusals */
    ledger_state_t *st = df_view(&w.c);
    ledger_model_t *models = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_model_list(st, NULL, &models, &n), LEDGER_OK);
    CHECK_EQ(n, 0u);
    ledger_state_destroy(&st);

    /* the honest publication */
    mf_pub(&w, job, used, 6000, p);
    REQUIRE(mf_sign(p, DF_T_SEED) == PROTO_OK);
    CHECK_EQ(mf_publish(&w, p, model, why, sizeof why), LEDGER_OK);
    uint64_t h = df_height(&w.c);
    st = df_view(&w.c);
    ledger_model_t m;
    CHECK_EQ(ledger_model_get(st, model, &m), LEDGER_OK);
    CHECK(memcmp(m.id, model, 32) == 0 && memcmp(m.spec_id, w.c.spec_id, 32) == 0);
    CHECK(memcmp(m.job_id, job, 32) == 0 && memcmp(m.model_hash, p->model_hash, 32) == 0);
    CHECK(memcmp(m.coordinator, w.c.t_id, 32) == 0 && m.query_measurement[0] == MF_Q_M);
    CHECK(m.n_records == 4 && m.n_parties == 2 && m.parties[0].n_records == 2 &&
          m.parties[1].n_records == 2 && m.parties[0].weight_bp == 6000);
    CHECK(m.n_metrics == 1 && strcmp(m.metrics[0].name, "accuracy") == 0 &&
          m.metrics[0].value_micro == 750000);
    CHECK(m.height == h && m.time_ms == p->time_ms && m.n_train == 4 && m.n_test == 1);
    CHECK_EQ(ledger_model_list(st, NULL, &models, &n), LEDGER_OK);
    CHECK(n == 1 && memcmp(models[0].id, model, 32) == 0);
    free(models);
    CHECK_EQ(ledger_model_list(st, w.c.spec_id, &models, &n), LEDGER_OK);
    CHECK_EQ(n, 1u);
    free(models);
    CHECK_EQ(ledger_model_list(st, bogus, &models, &n), LEDGER_OK);
    CHECK(n == 0 && models == NULL);
    ledger_job_t j;
    CHECK_EQ(ledger_job_get(st, job, &j), LEDGER_OK);
    CHECK(j.status == LEDGER_JOB_PUBLISHED && memcmp(j.model_id, model, 32) == 0);
    /* TRAINED on exactly the used records */
    for (size_t i = 0; i < MF_DONORS; i++) {
        ledger_use_entry_t *uses = NULL;
        size_t nu = 0, trained = 0;
        CHECK_EQ(ledger_data_uses(st, w.data[i], &uses, &nu), LEDGER_OK);
        for (size_t k = 0; k < nu; k++)
            if (uses[k].use == LEDGER_USE_TRAINED) {
                trained++;
                CHECK(memcmp(uses[k].actor, w.c.t_id, 32) == 0);
                CHECK(memcmp(uses[k].spec_id, w.c.spec_id, 32) == 0);
                CHECK(memcmp(uses[k].txid, model, 32) == 0 && uses[k].height == h);
            }
        CHECK_EQ(trained, (size_t)((used >> i & 1) ? 1 : 0));
        free(uses);
    }
    /* each owner's used records, nothing owed yet */
    ledger_model_owed_t o, *all = NULL;
    CHECK_EQ(ledger_earnings_owed(st, proto_key_public(w.c.alice), model, &o), LEDGER_OK);
    CHECK(o.n_records == 2 && o.owed == 0);
    CHECK_EQ(ledger_earnings_owed(st, proto_key_public(w.c.bob), model, &o), LEDGER_OK);
    CHECK(o.n_records == 2 && o.owed == 0);
    CHECK_EQ(ledger_earnings_owed(st, proto_key_public(w.c.trainer), model, &o), LEDGER_OK);
    CHECK(o.n_records == 0 && o.owed == 0);
    CHECK_EQ(ledger_earnings_models(st, proto_key_public(w.c.bob), &all, &n), LEDGER_OK);
    CHECK(n == 1 && memcmp(all[0].model_id, model, 32) == 0);
    free(all);
    ledger_state_destroy(&st);
    /* published: the same job again is refused */
    mf_pub(&w, job, used, 6000, p);
    p->time_ms++;
    CHECK_EQ(s_pub(&w, p, DF_T_SEED, why, sizeof why), LEDGER_E_JOB);
    free(p);
    mf_close(&w);
}

int main(void)
{
    REQUIRE(proto_crypto_init() == 0);
    test_donor_seq();
    test_train_start();
    test_publish();
    return testutil_done("test_ledger_model");
}
