/*  test_enclave_query: paid queries through a real genie-enclave process (enclave_host) that
 *  checks a real chain by itself as a light client.
 *
 *  The chain (query_chain.h) is built in a LevelDB store by the ledger's contracts: enclaves,
 *  a trainer's spec, a donated record, a training job, the MODEL_PUBLISH of a logistic model
 *  signed by the coordinator enclave's key, and QUERY_BUY txs, the last two in blocks
 *  certified by the chain's authority; proofs come from ledger_store_tx_proof.
 *
 *  Shows: an enclave is bound at INIT to one chain id, named in its quote's report data:
 *  one bound to the real chain refuses a runner's fake genesis even as its first CHAIN (and
 *  then loads no model proven on the fake chain), one bound to the fake chain refuses the
 *  real genesis; CHAIN makes the enclave follow the genesis (same genesis again: same chain
 *  id; another: refused); MODEL_LOAD refuses a model whose hash is not the published one, and a
 *  proof of another tx type, and loads the published model (its id and hash answered); a
 *  paid query is answered, the answer opens only with the reply key and equals ml/'s own
 *  prediction; refused each with its own code: a query of an unknown buy without proof
 *  (ENCLAVE_E_PAYMENT), with a forged proof (a flipped bit anywhere in it, a proof from
 *  another chain, a certificate by a non-authority: ENCLAVE_E_PROOF), with a proof of a tx
 *  that is not a buy (ENCLAVE_E_PAYMENT), for another model (ENCLAVE_E_WRONG_MODEL), with a
 *  wrong access code (ENCLAVE_E_ACCESS_CODE), past the count bought (ENCLAVE_E_SPENT); the
 *  buy is remembered (later queries carry no proof); USAGE is signed by the enclave's
 *  quoted key and counts exactly the rows served; refused queries count nothing; 150 buys
 *  of one query each are each answered once and then spent (the buy table grows).
 *  The random seed (inputs, access codes) is printed.
 */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_host.h"
#include "enclave/enclave_prog.h"
#include "enclave_host_testutil.h"
#include "query_chain.h"
#include "testutil.h"

typedef struct {
    qc_t q;
    enclave_platform_t *plat;
    proto_key_t *as;
    enclave_host_t *h;
    uint8_t box_pk[32];
    uint8_t reply_pk[32], reply_sk[32];
} world_t;

static void s_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rand();
}

/* Calls H with REQ; the code, and the answer in *ANS (frame in *FRAME, caller frees). */
static int s_call(world_t *w, const enclave_req_t *req, enclave_ans_t *ans, uint8_t **frame)
{
    size_t flen = 0;
    char err[256] = "";
    *frame = NULL;
    return enclave_host_call(w->h, req, -1, ans, frame, &flen, err, sizeof err);
}

/* CHAIN with GENESIS; the code, and the chain id into ID when answered. */
static int s_chain(world_t *w, const uint8_t *genesis, size_t len, uint8_t id[32])
{
    enclave_req_t req = {.type = ENCLAVE_REQ_CHAIN};
    req.u.chain.genesis = genesis;
    req.u.chain.genesis_len = len;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    int rc = s_call(w, &req, &ans, &frame);
    if (rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_CHAIN);
        memcpy(id, ans.u.chain.chain_id, 32);
    }
    free(frame);
    return rc;
}

/* MODEL_LOAD of MODEL (encoded) and PUB sealed to the enclave, with PROOF; the code. */
static int s_load(world_t *w, const uint8_t *model, size_t mlen, const uint8_t *pub, size_t pub_len,
                  const uint8_t *proof, size_t proof_len, enclave_ans_t *out)
{
    uint8_t *sealed = NULL, *frame = NULL;
    size_t slen = 0;
    CHECK_EQ(enclave_prog_model_seal(w->box_pk, model, mlen, pub, pub_len, &sealed, &slen), 0);
    enclave_req_t req = {.type = ENCLAVE_REQ_MODEL_LOAD};
    req.u.model_load.sealed = sealed;
    req.u.model_load.sealed_len = slen;
    req.u.model_load.proof = proof;
    req.u.model_load.proof_len = proof_len;
    enclave_ans_t ans;
    int rc = s_call(w, &req, &ans, &frame);
    if (rc == 0 && out)
        *out = ans; /* LOADED holds no views */
    free(frame);
    free(sealed);
    return rc;
}

/* A query of N rows X (N x QC_P) for MODEL_ID under BUY_ID with CODE and PROOF (may be
   NULL); the code; when answered, the predictions into PRED and the counters. */
static int s_query(world_t *w, const uint8_t model_id[32], const uint8_t buy_id[32],
                   const uint8_t code[32], const uint8_t *proof, size_t proof_len, const double *x,
                   size_t n, double *pred, uint64_t *used, uint64_t *count)
{
    uint8_t *sealed = NULL, *frame = NULL;
    size_t slen = 0, got = 0;
    CHECK_EQ(enclave_prog_query_seal(w->box_pk, model_id, buy_id, w->reply_pk, code, x, n, QC_P,
                                     &sealed, &slen),
             0);
    enclave_req_t req = {.type = ENCLAVE_REQ_QUERY};
    memcpy(req.u.query.model_id, model_id, 32);
    memcpy(req.u.query.buy_id, buy_id, 32);
    req.u.query.buy_proof = proof;
    req.u.query.buy_proof_len = proof ? proof_len : 0;
    req.u.query.sealed = sealed;
    req.u.query.sealed_len = slen;
    enclave_ans_t ans;
    int rc = s_call(w, &req, &ans, &frame);
    if (rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_QUERY);
        CHECK_EQ(enclave_prog_query_open(w->reply_pk, w->reply_sk, model_id, buy_id,
                                         ans.u.blob.bytes, ans.u.blob.len, pred, n, &got, used,
                                         count),
                 0);
        CHECK_EQ(got, n);
        /* another key, or the same key under another buy, does not open it */
        uint8_t opk[32], osk[32], other[32];
        crypto_box_keypair(opk, osk);
        memcpy(other, buy_id, 32);
        other[0] ^= 1;
        double tmp[ENCLAVE_QUERY_MAX_ROWS];
        CHECK_EQ(enclave_prog_query_open(opk, osk, model_id, buy_id, ans.u.blob.bytes,
                                         ans.u.blob.len, tmp, n, &got, NULL, NULL),
                 PROTO_E_DECRYPT);
        CHECK_EQ(enclave_prog_query_open(w->reply_pk, w->reply_sk, model_id, other,
                                         ans.u.blob.bytes, ans.u.blob.len, tmp, n, &got, NULL,
                                         NULL),
                 PROTO_E_DECRYPT);
    }
    free(frame);
    free(sealed);
    return rc;
}

/* USAGE of BUY_ID, decoded and verified into *U; the code. */
static int s_usage(world_t *w, const uint8_t buy_id[32], proto_usage_t *u)
{
    enclave_req_t req = {.type = ENCLAVE_REQ_USAGE};
    memcpy(req.u.usage.buy_id, buy_id, 32);
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    int rc = s_call(w, &req, &ans, &frame);
    if (rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_USAGE);
        CHECK_EQ(proto_usage_decode(ans.u.blob.bytes, ans.u.blob.len, u), 0);
        CHECK_EQ(proto_usage_verify(u), 0);
        CHECK(memcmp(u->enclave_pk, enclave_host_quote(w->h)->body.sign_pk, 32) == 0);
    }
    free(frame);
    return rc;
}

/* ml/'s own prediction (OpenBLAS, in this process) of X's N rows. */
static void s_want(const ml_model_t *m, const double *x, size_t n, double *out)
{
    ml_mat_t *mx = ml_mat_new(n, QC_P);
    REQUIRE(mx != NULL);
    memcpy(mx->v, x, n * QC_P * sizeof *x);
    CHECK_EQ(ml_model_predict(m, mx, out), 0);
    ml_mat_destroy(&mx);
}

static bool s_close(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= 1e-12 * (1 + fabs(b[i]))))
            return false;
    return true;
}

static void s_test_chain_and_load(world_t *w)
{
    uint8_t id[32];
    CHECK_EQ(s_chain(w, w->q.genesis, w->q.genesis_len, id), 0);
    CHECK(memcmp(id, w->q.c.chain, 32) == 0);
    CHECK_EQ(s_chain(w, w->q.genesis, w->q.genesis_len, id), 0); /* again: the same */
    qc_t other;
    qc_open(&other, "another", 0);
    CHECK_EQ(s_chain(w, other.genesis, other.genesis_len, id), ENCLAVE_E_CHAIN);
    qc_close(&other);

    size_t plen = 0;
    uint8_t *proof = qc_proof(&w->q, w->q.model_id, &plen);
    /* a model with other weights under the same publication: not the published hash */
    const double w2[QC_P] = {0.8, -1.2999};
    ml_model_t *m2 = qc_model(w2, 0.2);
    uint8_t *b2 = NULL;
    size_t l2 = 0;
    REQUIRE(ml_model_encode(m2, &b2, &l2) == 0);
    CHECK_EQ(s_load(w, b2, l2, w->q.pub, w->q.pub_len, proof, plen, NULL), ENCLAVE_E_MODEL);
    free(b2);
    ml_model_destroy(&m2);
    /* the right model with a flipped bit in its proof */
    proof[plen / 2] ^= 0x10;
    CHECK_EQ(s_load(w, w->q.model_bytes, w->q.model_len, w->q.pub, w->q.pub_len, proof, plen, NULL),
             ENCLAVE_E_PROOF);
    proof[plen / 2] ^= 0x10;
    enclave_ans_t ans;
    CHECK_EQ(s_load(w, w->q.model_bytes, w->q.model_len, w->q.pub, w->q.pub_len, proof, plen, &ans),
             0);
    CHECK_EQ(ans.type, ENCLAVE_ANS_LOADED);
    CHECK(memcmp(ans.u.loaded.model_id, w->q.model_id, 32) == 0);
    CHECK(memcmp(ans.u.loaded.model_hash, w->q.model_hash, 32) == 0);
    free(proof);
}

/* The fake-genesis hole: a runner gives its query enclave a genesis whose authorities it
   controls, copies the real MODEL_PUBLISH into a block it certifies itself, and forges
   buys. An enclave is bound to one chain id at INIT (its quote's report data names it):
   a fresh enclave bound to the real chain refuses the fake genesis even as its first
   CHAIN, so it loads nothing proven on the fake chain; one bound to the fake chain (what
   the runner would need) refuses the real genesis, and its quote's report data is not the
   real chain's, so neither the ledger nor a training enclave's MODEL_SEAL accepts it. */
static void s_test_bound(world_t *w, const enclave_host_opts_t *base)
{
    enclave_host_t *real = w->h;
    qc_t fake;
    qc_world(&fake, "fake");
    uint8_t id[32], rd[64];
    enclave_host_opts_t o = *base;
    memcpy(o.chain_id, w->q.c.chain, 32);
    w->h = enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_QUERY, w->plat, &o);
    memcpy(w->box_pk, enclave_host_quote(w->h)->body.box_pk, 32);
    enclave_wire_report_data(ENCLAVE_KIND_QUERY, w->q.c.chain, rd);
    CHECK(memcmp(enclave_host_quote(w->h)->body.report_data, rd, 64) == 0);
    CHECK_EQ(s_chain(w, fake.genesis, fake.genesis_len, id), ENCLAVE_E_CHAIN);
    size_t plen = 0;
    uint8_t *proof = qc_proof(&fake, fake.model_id, &plen);
    CHECK_EQ(s_load(w, fake.model_bytes, fake.model_len, fake.pub, fake.pub_len, proof, plen, NULL),
             ENCLAVE_E_CHAIN); /* no chain followed: nothing proven loads */
    free(proof);
    CHECK_EQ(s_chain(w, w->q.genesis, w->q.genesis_len, id), 0);
    CHECK(memcmp(id, w->q.c.chain, 32) == 0);
    enclave_host_destroy(&w->h);

    memcpy(o.chain_id, fake.c.chain, 32);
    w->h = enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_QUERY, w->plat, &o);
    CHECK(memcmp(enclave_host_quote(w->h)->body.report_data, rd, 64) != 0);
    CHECK_EQ(s_chain(w, w->q.genesis, w->q.genesis_len, id), ENCLAVE_E_CHAIN);
    CHECK_EQ(s_chain(w, fake.genesis, fake.genesis_len, id), 0);
    enclave_host_destroy(&w->h);

    w->h = real;
    memcpy(w->box_pk, enclave_host_quote(w->h)->body.box_pk, 32);
    qc_close(&fake);
}

/* Flips one bit at each of STEPS positions across PROOF; every copy must be refused as a
   forged proof, whatever part the bit falls in (header, certificate, tx, path, framing). */
static void s_test_flips(world_t *w, const uint8_t buy_id[32], const uint8_t code[32],
                         const uint8_t *proof, size_t plen)
{
    uint8_t *bad = malloc(plen);
    REQUIRE(bad != NULL);
    double x[QC_P] = {1, 2}, pred[1];
    int refused = 0, steps = 0;
    for (size_t pos = 0; pos < plen; pos += 1 + plen / 40, steps++) {
        memcpy(bad, proof, plen);
        bad[pos] ^= (uint8_t)(1u << (pos % 8));
        int rc = s_query(w, w->q.model_id, buy_id, code, bad, plen, x, 1, pred, NULL, NULL);
        if (rc == ENCLAVE_E_PROOF)
            refused++;
        else
            printf("flip at %zu of %zu: %s\n", pos, plen, proto_err_str(rc));
    }
    CHECK_EQ(refused, steps);
    free(bad);
}

/* N_BUYS buys of one query each, each proven on its first query (the enclave's buy table
   grows from 64 slots past 128): every one answered once, then spent, its usage 1. */
#define N_BUYS 150
static void s_test_many_buys(world_t *w)
{
    uint8_t(*ids)[32] = malloc(N_BUYS * sizeof *ids);
    uint8_t code[32];
    REQUIRE(ids != NULL);
    s_fill(code, 32);
    for (size_t i = 0; i < N_BUYS; i++)
        qc_buy(&w->q, w->q.model_id, 1, code, ids[i]);
    double x[QC_P] = {0.5, 0.25}, pred[1];
    int answered = 0, spent = 0, counted = 0;
    for (size_t i = 0; i < N_BUYS; i++) {
        size_t plen = 0;
        uint8_t *proof = qc_proof(&w->q, ids[i], &plen);
        answered +=
            s_query(w, w->q.model_id, ids[i], code, proof, plen, x, 1, pred, NULL, NULL) == 0;
        free(proof);
    }
    for (size_t i = 0; i < N_BUYS; i++) {
        proto_usage_t u;
        spent += s_query(w, w->q.model_id, ids[i], code, NULL, 0, x, 1, pred, NULL, NULL) ==
                 ENCLAVE_E_SPENT;
        counted += s_usage(w, ids[i], &u) == 0 && u.count == 1;
    }
    CHECK_EQ(answered, N_BUYS);
    CHECK_EQ(spent, N_BUYS);
    CHECK_EQ(counted, N_BUYS);
    free(ids);
}

/* PROOF with its certificate replaced by one the outsider key signs (malloc'd). */
static uint8_t *s_recertify(world_t *w, const uint8_t *proof, size_t plen, size_t *out_len)
{
    ledger_proof_t p;
    REQUIRE(ledger_proof_decode(proof, plen, &p) == PROTO_OK);
    ledger_header_t h;
    proto_rd_t r;
    proto_rd_init(&r, p.header, p.header_len);
    REQUIRE(ledger_header_read(&r, &h) == PROTO_OK);
    uint8_t hash[32];
    ledger_header_hash(&h, hash);
    size_t clen = 0;
    uint8_t *cert = qc_cert(&w->q, w->q.c.aud[0], 0, h.height, hash, &clen);
    p.cert = cert;
    p.cert_len = clen;
    uint8_t *out = NULL;
    REQUIRE(ledger_proof_encode(&p, &out, out_len) == LEDGER_OK);
    free(cert);
    return out;
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    uint64_t seed = testutil_seed("test_enclave_query");
    srand((unsigned)seed);
    world_t w;
    memset(&w, 0, sizeof w);
    qc_world(&w.q, "query");
    char *dir = strdup(testutil_tmpdir());
    w.plat = enclave_testutil_platform(dir, "runner-q", &w.as);
    enclave_host_opts_t o;
    enclave_host_opts_default(&o);
    o.inherit_stderr = true;
    memcpy(o.chain_id, w.q.c.chain, 32);
    w.h = enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_QUERY, w.plat, &o);
    memcpy(w.box_pk, enclave_host_quote(w.h)->body.box_pk, 32);
    crypto_box_keypair(w.reply_pk, w.reply_sk);

    s_test_bound(&w, &o);
    s_test_chain_and_load(&w);

    uint8_t code[32], wrong[32], buy_id[32];
    s_fill(code, 32);
    s_fill(wrong, 32);
    qc_buy(&w.q, w.q.model_id, 5, code, buy_id);
    size_t plen = 0;
    uint8_t *proof = qc_proof(&w.q, buy_id, &plen);
    double x[5 * QC_P], pred[5], want[5];
    for (size_t i = 0; i < 5 * QC_P; i++)
        x[i] = (double)(rand() % 2000) / 100.0 - 10.0;
    uint64_t used = 0, count = 0;

    /* unknown buy, no proof */
    CHECK_EQ(s_query(&w, w.q.model_id, buy_id, code, NULL, 0, x, 1, pred, NULL, NULL),
             ENCLAVE_E_PAYMENT);
    /* forged proofs: flipped bits, another chain's, a non-authority's certificate */
    s_test_flips(&w, buy_id, code, proof, plen);
    qc_t other;
    qc_world(&other, "another");
    uint8_t obuy[32];
    qc_buy(&other, other.model_id, 5, code, obuy);
    size_t olen = 0;
    uint8_t *oproof = qc_proof(&other, obuy, &olen);
    CHECK_EQ(s_query(&w, w.q.model_id, obuy, code, oproof, olen, x, 1, pred, NULL, NULL),
             ENCLAVE_E_PROOF);
    free(oproof);
    qc_close(&other);
    size_t rlen = 0;
    uint8_t *recert = s_recertify(&w, proof, plen, &rlen);
    CHECK_EQ(s_query(&w, w.q.model_id, buy_id, code, recert, rlen, x, 1, pred, NULL, NULL),
             ENCLAVE_E_PROOF);
    free(recert);
    /* a proof of another tx than the buy named, and of a tx that is not a buy */
    size_t mlen = 0;
    uint8_t *mproof = qc_proof(&w.q, w.q.model_id, &mlen);
    CHECK_EQ(s_query(&w, w.q.model_id, buy_id, code, mproof, mlen, x, 1, pred, NULL, NULL),
             ENCLAVE_E_PROOF);
    CHECK_EQ(s_query(&w, w.q.model_id, w.q.model_id, code, mproof, mlen, x, 1, pred, NULL, NULL),
             ENCLAVE_E_PAYMENT);
    free(mproof);
    /* the buy is for another model than the one asked */
    uint8_t other_model[32];
    memcpy(other_model, w.q.model_id, 32);
    other_model[31] ^= 0x80;
    CHECK_EQ(s_query(&w, other_model, buy_id, code, proof, plen, x, 1, pred, NULL, NULL),
             ENCLAVE_E_WRONG_MODEL);
    /* a wrong access code */
    CHECK_EQ(s_query(&w, w.q.model_id, buy_id, wrong, proof, plen, x, 1, pred, NULL, NULL),
             ENCLAVE_E_ACCESS_CODE);
    proto_usage_t u;
    CHECK_EQ(s_usage(&w, buy_id, &u), 0);
    CHECK_EQ(u.count, 0u); /* refusals count nothing */

    /* paid: 3 rows with the proof, then 2 without (the buy is remembered) */
    CHECK_EQ(s_query(&w, w.q.model_id, buy_id, code, proof, plen, x, 3, pred, &used, &count), 0);
    s_want(w.q.model, x, 3, want);
    CHECK(s_close(pred, want, 3));
    CHECK(used == 3 && count == 5);
    CHECK_EQ(s_query(&w, w.q.model_id, buy_id, code, NULL, 0, x + 3 * QC_P, 2, pred, &used, &count),
             0);
    s_want(w.q.model, x + 3 * QC_P, 2, want);
    CHECK(s_close(pred, want, 2));
    CHECK(used == 5 && count == 5);
    /* spent: the count is used */
    CHECK_EQ(s_query(&w, w.q.model_id, buy_id, code, proof, plen, x, 1, pred, NULL, NULL),
             ENCLAVE_E_SPENT);
    CHECK_EQ(s_usage(&w, buy_id, &u), 0);
    CHECK_EQ(u.count, 5u);
    CHECK(memcmp(u.buy_id, buy_id, 32) == 0 && memcmp(u.model_id, w.q.model_id, 32) == 0);
    uint8_t unknown[32];
    s_fill(unknown, 32);
    CHECK_EQ(s_usage(&w, unknown, &u), ENCLAVE_E_PAYMENT);
    s_test_many_buys(&w);

    free(proof);
    enclave_host_destroy(&w.h);
    enclave_platform_destroy(&w.plat);
    proto_key_destroy(&w.as);
    qc_close(&w.q);
    testutil_rmtree(dir);
    free(dir);
    return testutil_done("test_enclave_query");
}
