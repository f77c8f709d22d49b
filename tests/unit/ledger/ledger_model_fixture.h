/*  ledger_model_fixture: issue 16's world on top of ledger_data_fixture.h (test_ledger_model.c,
 *  test_ledger_settle.c): the data world plus a second training enclave T2 (seed 0x22, the
 *  spec's measurement), a query enclave Q (seed 0x23, measurement 0x03), and five donor
 *  records donated in this order (donor seqs 0..4): alice a1 -> T, bob b1 -> T2, alice a2 ->
 *  T2, bob b2 -> T, bob b3 -> T2. Publications and usage reports are signed with the
 *  enclaves' own keys (df_enclave_sk), as the real enclaves sign them. Header-only.
 */
#ifndef GENIE_TEST_LEDGER_MODEL_FIXTURE_H
#define GENIE_TEST_LEDGER_MODEL_FIXTURE_H

#include "ledger/ledger_model.h"
#include "ledger_data_fixture.h"
#include "proto/proto_publish.h"

#define MF_T2_SEED 0x22
#define MF_Q_SEED 0x23
#define MF_Q_M 0x03
#define MF_DONORS 5

typedef struct {
    df_chain_t c;
    uint8_t t2_id[32], q_id[32];
    uint8_t data[MF_DONORS][32]; /* by donor seq */
    const proto_key_t *owner[MF_DONORS];
    uint8_t enclave[MF_DONORS][32]; /* the enclave each went to */
} mf_world_t;

/* Records and donations up to (not including) seq UPTO; then the rest with mf_donate. */
static inline void mf_donate(mf_world_t *w, size_t from, size_t upto)
{
    static const char *tags[MF_DONORS] = {"a1", "b1", "a2", "b2", "b3"};
    for (size_t i = from; i < upto; i++) {
        size_t len;
        uint8_t seed = memcmp(w->enclave[i], w->c.t_id, 32) == 0 ? DF_T_SEED : MF_T2_SEED;
        REQUIRE(df_data(&w->c, w->owner[i], tags[i], DF_V_SEED, w->data[i], NULL, 0) == LEDGER_OK);
        uint8_t *rc = df_receipt(seed, w->c.spec_id, w->data[i], proto_key_public(w->owner[i]),
                                 w->data[i], &len);
        REQUIRE(df_donor(&w->c, w->owner[i], rc, len, NULL, 0) == LEDGER_OK);
    }
}

/* The world with UPTO of the five donations made (FUND units for the funded accounts). */
static inline void mf_world(mf_world_t *w, size_t upto, uint64_t fund)
{
    memset(w, 0, sizeof *w);
    df_world_funded(&w->c, fund);
    REQUIRE(df_enclave(&w->c, PROTO_ATTEST_KIND_TRAINING, DF_T_M, MF_T2_SEED, w->t2_id) ==
            LEDGER_OK);
    REQUIRE(df_enclave(&w->c, PROTO_ATTEST_KIND_QUERY, MF_Q_M, MF_Q_SEED, w->q_id) == LEDGER_OK);
    ledger_consent_t k;
    df_consent_init(&k, "prs", "research", 2000, 0, NULL);
    REQUIRE(df_consent(&w->c, w->c.bob, &k, NULL, 0) == LEDGER_OK);
    const proto_key_t *owners[MF_DONORS] = {w->c.alice, w->c.bob, w->c.alice, w->c.bob, w->c.bob};
    const uint8_t *encl[MF_DONORS] = {w->c.t_id, w->t2_id, w->t2_id, w->c.t_id, w->t2_id};
    for (size_t i = 0; i < MF_DONORS; i++) {
        w->owner[i] = owners[i];
        memcpy(w->enclave[i], encl[i], 32);
    }
    mf_donate(w, 0, upto);
}

static inline void mf_close(mf_world_t *w)
{
    df_close(&w->c);
}

/* TRAIN_START by K of SPEC with coordinator COORD; its job id in JOB (may be NULL). */
static inline int mf_train(mf_world_t *w, const proto_key_t *k, const uint8_t spec[32],
                           const uint8_t coord[32], uint32_t rounds, uint8_t *job, char *err,
                           size_t err_cap)
{
    uint8_t qm[32];
    size_t len;
    memset(qm, MF_Q_M, 32);
    uint8_t *tx = ledger_contract_train_start_tx(k, w->c.chain, df_nonce(&w->c, k), spec, coord,
                                                 rounds, qm, &len);
    REQUIRE(tx != NULL);
    if (job)
        ledger_tx_id(tx, len, job);
    return df_submit(&w->c, tx, len, err, err_cap);
}

/* A publication of JOB over the donor seqs whose bit is set in USED (bit i = seq i), with
   parties T (weight WT) and T2 (10000 - WT), their n_records counted from the world, the
   right records_root; unsigned (mf_sign). */
static inline void mf_pub(mf_world_t *w, const uint8_t job[32], uint32_t used, uint32_t wt,
                          proto_publish_t *p)
{
    memset(p, 0, sizeof *p);
    memcpy(p->job_id, job, 32);
    memcpy(p->spec_id, w->c.spec_id, 32);
    memset(p->model_hash, 0xab, 32);
    p->n_train = 4;
    p->n_test = 1;
    p->n_metrics = 1;
    strcpy(p->metrics[0].name, "accuracy");
    p->metrics[0].value_micro = 750000;
    p->n_parties = 2;
    memcpy(p->parties[0].enclave_id, w->c.t_id, 32);
    memcpy(p->parties[1].enclave_id, w->t2_id, 32);
    p->parties[0].weight_bp = wt;
    p->parties[1].weight_bp = 10000 - wt;
    uint8_t ids[MF_DONORS][32];
    size_t n = 0;
    for (size_t i = 0; i < MF_DONORS; i++) {
        if (!(used >> i & 1))
            continue;
        p->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
        p->bitmap_len = i / 8 + 1;
        p->parties[memcmp(w->enclave[i], w->c.t_id, 32) == 0 ? 0 : 1].n_records++;
        memcpy(ids[n++], w->data[i], 32);
    }
    p->n_records = (uint32_t)n;
    REQUIRE(proto_publish_records_root((const uint8_t(*)[32])ids, n, p->records_root) == PROTO_OK);
    p->time_ms = DF_T0 + 5000;
}

/* Signs P with the enclave key of seed SEED (PROTO_OK or its refusal). */
static inline int mf_sign(proto_publish_t *p, uint8_t seed)
{
    uint8_t sk[64], pk[32];
    df_enclave_sk(seed, sk, pk);
    int rc = proto_publish_sign(p, sk);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

/* Submits MODEL_PUBLISH of P (from the runner); the model id in MODEL (may be NULL). */
static inline int mf_publish(mf_world_t *w, const proto_publish_t *p, uint8_t *model, char *err,
                             size_t err_cap)
{
    uint8_t *enc = NULL;
    size_t elen = 0, len;
    REQUIRE(proto_publish_encode(p, &enc, &elen) == PROTO_OK);
    uint8_t *tx = ledger_contract_model_publish_tx(w->c.runner, w->c.chain,
                                                   df_nonce(&w->c, w->c.runner), enc, elen, &len);
    free(enc);
    REQUIRE(tx != NULL);
    if (model)
        ledger_tx_id(tx, len, model);
    return df_submit(&w->c, tx, len, err, err_cap);
}

/* Trains and publishes a model over USED with T's weight WT; its id in MODEL. */
static inline void mf_model(mf_world_t *w, uint32_t used, uint32_t wt, uint8_t model[32])
{
    uint8_t job[32];
    REQUIRE(mf_train(w, w->c.trainer, w->c.spec_id, w->c.t_id, 5, job, NULL, 0) == LEDGER_OK);
    proto_publish_t *p = malloc(sizeof *p);
    REQUIRE(p != NULL);
    mf_pub(w, job, used, wt, p);
    REQUIRE(mf_sign(p, DF_T_SEED) == PROTO_OK);
    REQUIRE(mf_publish(w, p, model, NULL, 0) == LEDGER_OK);
    free(p);
}

static inline int mf_buy(mf_world_t *w, const proto_key_t *k, const uint8_t model[32],
                         uint32_t count, uint8_t *buy, char *err, size_t err_cap)
{
    uint8_t code[32], h[32];
    size_t len;
    memset(code, 0xc0, 32);
    proto_access_code_hash(code, h);
    uint8_t *tx =
        ledger_contract_query_buy_tx(k, w->c.chain, df_nonce(&w->c, k), model, count, h, &len);
    REQUIRE(tx != NULL);
    if (buy)
        ledger_tx_id(tx, len, buy);
    return df_submit(&w->c, tx, len, err, err_cap);
}

/* A usage claim (submitted by the runner) of COUNT for BUY of MODEL signed by the enclave of
   seed SEED; FLIP flips a signature bit. */
static inline int mf_usage(mf_world_t *w, uint8_t seed, const uint8_t model[32],
                           const uint8_t buy[32], uint64_t count, bool flip, char *err,
                           size_t err_cap)
{
    proto_usage_t u;
    memset(&u, 0, sizeof u);
    memcpy(u.model_id, model, 32);
    memcpy(u.buy_id, buy, 32);
    u.count = count;
    u.time_ms = DF_T0 + 9000;
    uint8_t sk[64], pk[32], *enc = NULL;
    size_t elen = 0, len;
    df_enclave_sk(seed, sk, pk);
    REQUIRE(proto_usage_sign(&u, sk) == PROTO_OK);
    sodium_memzero(sk, sizeof sk);
    if (flip)
        u.sig[10] ^= 1;
    REQUIRE(proto_usage_encode(&u, &enc, &elen) == PROTO_OK);
    uint8_t *tx = ledger_contract_usage_claim_tx(w->c.runner, w->c.chain,
                                                 df_nonce(&w->c, w->c.runner), enc, elen, &len);
    free(enc);
    REQUIRE(tx != NULL);
    return df_submit(&w->c, tx, len, err, err_cap);
}

static inline int mf_claim(mf_world_t *w, const proto_key_t *k, const uint8_t *model, char *err,
                           size_t err_cap)
{
    size_t len;
    uint8_t *tx = ledger_contract_earnings_claim_tx(k, w->c.chain, df_nonce(&w->c, k), model, &len);
    REQUIRE(tx != NULL);
    return df_submit(&w->c, tx, len, err, err_cap);
}

static inline uint64_t mf_balance(mf_world_t *w, const proto_key_t *k)
{
    ledger_account_t a;
    CHECK_EQ(ledger_store_account(w->c.store, proto_key_public(k), &a), LEDGER_OK);
    return a.balance;
}

static inline uint64_t mf_role(mf_world_t *w, const proto_key_t *k)
{
    ledger_state_t *st = df_view(&w->c);
    uint64_t v = 0;
    CHECK_EQ(ledger_earnings_role(st, proto_key_public(k), &v), LEDGER_OK);
    ledger_state_destroy(&st);
    return v;
}

#endif
