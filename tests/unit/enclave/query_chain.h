/*  query_chain: a real chain for the query enclave's tests and benchmark
 *  (test_enclave_query.c, bench_query.c): a LevelDB store under a temporary directory,
 *  built by the ledger's own contracts (ledger_data_fixture.h's helpers: enclaves
 *  registered with quotes, a trainer and its spec, a validated record, its donation), then
 *  a TRAIN_START, a MODEL_PUBLISH of a logistic model signed by the coordinator (training)
 *  enclave's key, and QUERY_BUY txs. The blocks the enclave checks (MODEL_PUBLISH,
 *  QUERY_BUY) carry real commit certificates by the chain's authority; the others carry the
 *  fixture's placeholder certificate, which no light client ever sees. Header-only.
 */
#ifndef GENIE_TEST_QUERY_CHAIN_H
#define GENIE_TEST_QUERY_CHAIN_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_data_fixture.h"
#include "ledger/ledger_light.h"
#include "ledger/ledger_model.h"
#include "ledger/ledger_proof.h"
#include "ledger/ledger_vote.h"
#include "ml/ml_model.h"
#include "proto/proto_publish.h"

#define QC_P 2 /* the model's features: the fixture spec's rs123, rs456 */

typedef struct {
    df_chain_t c;
    char dir[256];    /* the store's temporary directory, removed by qc_close */
    uint8_t *genesis; /* canonical genesis bytes (malloc'd) */
    size_t genesis_len;
    uint8_t job_id[32];
    uint8_t model_id[32]; /* txid of the MODEL_PUBLISH */
    ml_model_t *model;
    uint8_t *model_bytes; /* ml_model_encode */
    size_t model_len;
    uint8_t *pub; /* the encoded publication */
    size_t pub_len;
    uint8_t model_hash[32];
} qc_t;

/* The fixture's chain (df_open), named NAME, with BALANCE for bob, keeping the canonical
   genesis. */
static inline void qc_open(qc_t *q, const char *name, uint64_t balance)
{
    memset(q, 0, sizeof *q);
    df_chain_t *c = &q->c;
    c->auth = df_key(1);
    c->as = df_key(0x40);
    c->platform = df_key(0x41);
    c->runner = df_key(0x42);
    c->alice = df_key(0x50);
    c->bob = df_key(0x51);
    c->trainer = df_key(0x52);
    for (int i = 0; i < 3; i++)
        c->aud[i] = df_key((uint8_t)(0x53 + i));
    uint8_t keys[1][32];
    memcpy(keys[0], proto_key_public(c->auth), 32);
    ledger_balance_t bal;
    memcpy(bal.account, proto_key_public(c->bob), 32);
    bal.amount = balance;
    ledger_genesis_params_t p = {.block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = DF_T0};
    snprintf(p.chain_name, sizeof p.chain_name, "%s", name);
    memcpy(p.attestation_service, proto_key_public(c->as), 32);
    ledger_genesis_t *g = NULL;
    char err[256];
    REQUIRE(ledger_genesis_new(&p, (const uint8_t(*)[32])keys, 1, &bal, 1, &g, err, sizeof err) ==
            LEDGER_OK);
    memcpy(c->chain, ledger_genesis_chain_id(g), 32);
    const uint8_t *canon = ledger_genesis_canonical(g, &q->genesis_len);
    q->genesis = malloc(q->genesis_len);
    REQUIRE(q->genesis != NULL);
    memcpy(q->genesis, canon, q->genesis_len);
    snprintf(q->dir, sizeof q->dir, "%s", testutil_tmpdir());
    REQUIRE(ledger_store_open(q->dir, &c->store, err, sizeof err) == LEDGER_OK);
    REQUIRE(ledger_genesis_apply(g, c->store) == LEDGER_OK);
    ledger_genesis_destroy(&g);
    c->now = DF_T0;
    memset(c->salt, 0x77, 32);
}

static inline void qc_close(qc_t *q)
{
    df_close(&q->c);
    if (q->dir[0])
        testutil_rmtree(q->dir);
    ml_model_destroy(&q->model);
    free(q->genesis);
    free(q->model_bytes);
    free(q->pub);
    memset(q, 0, sizeof *q);
}

/* KEY's precommit signature of the block HASH at HEIGHT on Q's chain into the certificate
   CERT, as validator INDEX. */
static inline void qc_cert_sign(const qc_t *q, ledger_cert_t *cert, const proto_key_t *key,
                                uint8_t index, uint64_t height, const uint8_t hash[32])
{
    ledger_vote_t v;
    memset(&v, 0, sizeof v);
    v.type = LEDGER_VOTE_PRECOMMIT;
    v.height = height;
    v.has_hash = true;
    memcpy(v.chain_id, q->c.chain, 32);
    memcpy(v.hash, hash, 32);
    ledger_vote_sign(&v, key);
    cert->sigs[cert->n_sigs].index = index;
    memcpy(cert->sigs[cert->n_sigs++].sig, v.sig, 64);
}

/* CERT (of HEIGHT / HASH) encoded (malloc'd, *LEN bytes). */
static inline uint8_t *qc_cert_encode(ledger_cert_t *cert, uint64_t height, const uint8_t hash[32],
                                      size_t *len)
{
    cert->height = height;
    memcpy(cert->block_hash, hash, 32);
    uint8_t *out = NULL;
    REQUIRE(ledger_cert_encode(cert, &out, len) == PROTO_OK);
    return out;
}

/* The commit certificate of the block with hash HASH at HEIGHT on Q's chain, signed by KEY
   as validator INDEX of the set (the chain's one authority is index 0). Malloc'd. */
static inline uint8_t *qc_cert(const qc_t *q, const proto_key_t *key, uint8_t index,
                               uint64_t height, const uint8_t hash[32], size_t *len)
{
    ledger_cert_t cert;
    memset(&cert, 0, sizeof cert);
    qc_cert_sign(q, &cert, key, index, height, hash);
    return qc_cert_encode(&cert, height, hash, len);
}

/* A certificate of HEIGHT / HASH signed by those of the N keys SIGNERS that are in SET, at
   their places in SET's order (malloc'd, *LEN bytes). */
static inline uint8_t *qc_cert_by(const qc_t *q, const ledger_valset_t *set,
                                  proto_key_t *const *signers, size_t n, uint64_t height,
                                  const uint8_t hash[32], size_t *len)
{
    ledger_cert_t cert;
    memset(&cert, 0, sizeof cert);
    for (size_t k = 0; k < set->n; k++) /* in the set's order */
        for (size_t i = 0; i < n; i++)
            if (memcmp(set->keys[k], proto_key_public(signers[i]), 32) == 0)
                qc_cert_sign(q, &cert, signers[i], (uint8_t)k, height, hash);
    return qc_cert_encode(&cert, height, hash, len);
}

/* Commits TX (taken) as the next block with a real certificate by the N keys SIGNERS of
   SET (SET NULL: by the authority alone); its txid in TXID. The code of the tx (LEDGER_OK
   when committed). */
static inline int qc_submit_by(qc_t *q, uint8_t *tx, size_t len, const ledger_valset_t *set,
                               proto_key_t *const *signers, size_t n, uint8_t txid[32], char *err,
                               size_t err_cap)
{
    df_chain_t *c = &q->c;
    REQUIRE(tx != NULL);
    ledger_tx_id(tx, len, txid);
    ledger_head_t head;
    REQUIRE(ledger_store_head(c->store, &head) == LEDGER_OK);
    ledger_header_t h = {.height = head.height + 1, .time_ms = head.time_ms + 1000};
    memcpy(h.chain_id, c->chain, 32);
    memcpy(h.prev_hash, head.hash, 32);
    memcpy(h.proposer, proto_key_public(c->auth), 32);
    ledger_block_tx_root((const uint8_t(*)[32])txid, 1, h.tx_root);
    ledger_state_t *st = ledger_state_new(c->store);
    REQUIRE(st != NULL);
    ledger_tx_t t;
    char why[LEDGER_ERR_MAX] = "";
    int rc = ledger_tx_parse(tx, len, c->chain, true, &t, why, sizeof why);
    if (rc == LEDGER_OK)
        rc = ledger_state_apply_tx(st, &t, why, sizeof why);
    if (rc == LEDGER_OK)
        rc = ledger_state_end_block(st);
    if (rc == LEDGER_OK)
        rc = ledger_state_finish(st, head.state_root, h.state_root);
    ledger_state_destroy(&st);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "%s", why);
    if (rc != LEDGER_OK) {
        free(tx);
        return rc;
    }
    size_t blen = 0;
    const uint8_t *txs[1] = {tx};
    uint8_t *block = ledger_block_encode(&h, txs, &len, 1, &blen);
    REQUIRE(block != NULL);
    ledger_state_t *peer = NULL;
    REQUIRE(ledger_block_execute(c->store, block, blen, NULL, 0, &peer, NULL, NULL, 0) ==
            LEDGER_OK);
    uint8_t hash[32];
    ledger_header_hash(&h, hash);
    size_t cert_len = 0;
    uint8_t *cert = set ? qc_cert_by(q, set, signers, n, h.height, hash, &cert_len)
                        : qc_cert(q, c->auth, 0, h.height, hash, &cert_len);
    REQUIRE(ledger_store_commit(c->store, block, blen, cert, cert_len, peer) == LEDGER_OK);
    ledger_state_destroy(&peer);
    free(cert);
    free(block);
    free(tx);
    c->now = h.time_ms;
    return LEDGER_OK;
}

/* Commits TX (taken) as the next block with a real certificate by the authority; its
   txid in TXID. The code of the tx (LEDGER_OK when committed). */
static inline int qc_submit_certified(qc_t *q, uint8_t *tx, size_t len, uint8_t txid[32], char *err,
                                      size_t err_cap)
{
    return qc_submit_by(q, tx, len, NULL, NULL, 0, txid, err, err_cap);
}

/* K's tx of TYPE with BODY, signed, at K's next nonce (malloc'd). */
static inline uint8_t *qc_tx(qc_t *q, const proto_key_t *k, uint32_t type,
                             const ledger_tx_body_t *body, size_t *len)
{
    ledger_tx_t tx;
    memset(&tx, 0, sizeof tx);
    memcpy(tx.chain_id, q->c.chain, 32);
    tx.nonce = df_nonce(&q->c, k);
    tx.type = type;
    tx.body = *body;
    uint8_t *out = ledger_tx_sign(&tx, k, len);
    REQUIRE(out != NULL);
    return out;
}

/* The logistic model of Q (weights W, intercept B, a scaling), its encoding and hash. */
static inline ml_model_t *qc_model(const double w[QC_P], double b)
{
    char *ids[QC_P] = {"rs123", "rs456"};
    ml_model_t *m = ml_model_new(ML_MODEL_LOGISTIC, QC_P, ids, w, b);
    REQUIRE(m != NULL);
    ml_scale_t *s = ml_scale_new(QC_P);
    REQUIRE(s != NULL);
    s->mean[0] = 1.5;
    s->mean[1] = -0.25;
    s->sd[0] = 2.0;
    s->sd[1] = 0.5;
    REQUIRE(ml_model_set_scaling(m, s) == PROTO_OK);
    ml_scale_destroy(&s);
    REQUIRE(ml_model_add_metric(m, "auc_test", 0.81) == PROTO_OK);
    return m;
}

/* The world: the fixture's enclaves, trainer and spec (one donor needed), alice's record
   donated, a job coordinated by the training enclave T, and the publication of a logistic
   model by T in a certified block (Q->model_id). */
static inline void qc_world(qc_t *q, const char *name)
{
    df_chain_t *c = &q->c;
    qc_open(q, name, 1000000000);
    REQUIRE(df_enclave(c, PROTO_ATTEST_KIND_VALIDATION, DF_V_M, DF_V_SEED, c->v_id) == LEDGER_OK);
    REQUIRE(df_enclave(c, PROTO_ATTEST_KIND_TRAINING, DF_T_M, DF_T_SEED, c->t_id) == LEDGER_OK);
    REQUIRE(df_trainer(c, c->trainer, "Acme Genomics") == LEDGER_OK);
    ledger_spec_t s;
    df_spec_init(&s, DF_T_M, 1000);
    s.min_donors = 1;
    REQUIRE(df_spec(c, c->trainer, &s, c->spec_id, NULL, 0) == LEDGER_OK);
    REQUIRE(df_data(c, c->alice, "alice-genome", DF_V_SEED, c->data_a, NULL, 0) == LEDGER_OK);
    ledger_consent_t k;
    df_consent_init(&k, "prs", "research", 2000, 0, NULL);
    REQUIRE(df_consent(c, c->alice, &k, NULL, 0) == LEDGER_OK);
    size_t rlen = 0;
    uint8_t *rc = df_alice_receipt(c, DF_T_SEED, &rlen);
    REQUIRE(df_donor(c, c->alice, rc, rlen, NULL, 0) == LEDGER_OK);

    ledger_tx_body_t body;
    memset(&body, 0, sizeof body);
    memcpy(body.train_start.spec_id, c->spec_id, 32);
    memcpy(body.train_start.coordinator, c->t_id, 32);
    body.train_start.rounds = 1;
    memset(body.train_start.query_measurement, 0x03, 32);
    size_t len = 0;
    uint8_t *tx = qc_tx(q, c->trainer, LEDGER_TX_TRAIN_START, &body, &len);
    ledger_tx_id(tx, len, q->job_id);
    char why[LEDGER_ERR_MAX] = "";
    int code = df_submit(c, tx, len, why, sizeof why);
    if (code)
        printf("TRAIN_START: %s\n", why);
    REQUIRE(code == LEDGER_OK);

    const double w[QC_P] = {0.8, -1.3};
    q->model = qc_model(w, 0.2);
    REQUIRE(ml_model_encode(q->model, &q->model_bytes, &q->model_len) == PROTO_OK);
    ml_model_hash(q->model, q->model_hash);
    proto_publish_t *p = calloc(1, sizeof *p);
    REQUIRE(p != NULL);
    p->version = PROTO_PUBLISH_VERSION;
    memcpy(p->job_id, q->job_id, 32);
    memcpy(p->spec_id, c->spec_id, 32);
    memcpy(p->model_hash, q->model_hash, 32);
    p->n_train = 80;
    p->n_test = 20;
    p->n_metrics = 1;
    strcpy(p->metrics[0].name, "auc_test");
    p->metrics[0].value_micro = 810000;
    REQUIRE(proto_publish_records_root((const uint8_t(*)[32])c->data_a, 1, p->records_root) ==
            PROTO_OK);
    p->n_records = 1;
    p->bitmap_len = 1;
    p->bitmap[0] = 1; /* donor seq 0: alice */
    p->n_parties = 1;
    memcpy(p->parties[0].enclave_id, c->t_id, 32);
    p->parties[0].n_records = 1;
    p->parties[0].weight_bp = 10000;
    p->time_ms = c->now;
    uint8_t sk[64];
    df_enclave_sk(DF_T_SEED, sk, p->enclave_pk);
    REQUIRE(proto_publish_sign(p, sk) == PROTO_OK);
    sodium_memzero(sk, sizeof sk);
    REQUIRE(proto_publish_encode(p, &q->pub, &q->pub_len) == PROTO_OK);
    free(p);
    memset(&body, 0, sizeof body);
    body.model_publish.publication = q->pub;
    body.model_publish.publication_len = q->pub_len;
    tx = qc_tx(q, c->runner, LEDGER_TX_MODEL_PUBLISH, &body, &len);
    code = qc_submit_certified(q, tx, len, q->model_id, why, sizeof why);
    if (code)
        printf("MODEL_PUBLISH: %s\n", why);
    REQUIRE(code == LEDGER_OK);
}

/* Bob buys COUNT queries of MODEL_ID with the access code CODE, in a certified block; the
   buy id in BUY_ID. */
static inline void qc_buy(qc_t *q, const uint8_t model_id[32], uint32_t count,
                          const uint8_t code[32], uint8_t buy_id[32])
{
    ledger_tx_body_t body;
    memset(&body, 0, sizeof body);
    memcpy(body.query_buy.model_id, model_id, 32);
    body.query_buy.count = count;
    proto_access_code_hash(code, body.query_buy.code_hash);
    size_t len = 0;
    uint8_t *tx = qc_tx(q, q->c.bob, LEDGER_TX_QUERY_BUY, &body, &len);
    char why[LEDGER_ERR_MAX] = "";
    int rc = qc_submit_certified(q, tx, len, buy_id, why, sizeof why);
    if (rc)
        printf("QUERY_BUY: %s\n", why);
    REQUIRE(rc == LEDGER_OK);
}

/* The inclusion proof of committed tx TXID (malloc'd). */
static inline uint8_t *qc_proof(qc_t *q, const uint8_t txid[32], size_t *len)
{
    uint8_t *out = NULL;
    uint64_t height = 0;
    REQUIRE(ledger_store_tx_proof(q->c.store, txid, &out, len, &height) == LEDGER_OK);
    return out;
}

#endif
