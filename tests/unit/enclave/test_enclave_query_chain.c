/*  test_enclave_query_chain: a query enclave follows an authority change through
 *  CHAIN_BLOCK (issue 16), in a real genie-enclave process (enclave_host).
 *
 *  The chain (query_chain.h) has one authority A. A votes B in (AUTH_VOTE ADD, in a block
 *  certified by A); from the next height the set is {A, B}, and a QUERY_BUY is committed in
 *  a block certified by A and B together (the new set's quorum).
 *
 *  Shows:
 *  - before the vote block is fed, the buy's proof is refused (ENCLAVE_E_PROOF) and the
 *    light height (a probe: height 0) is 0;
 *  - refused feeds leave the light client unchanged (probe still 0, the proof still
 *    refused): the vote block with a certificate by an outsider, with a flipped bit in its
 *    certificate, with a flipped bit in the block, another chain's certified block,
 *    garbage bytes, the block under another height than its own (ENCLAVE_E_PROOF), and
 *    an AFTER that is not the light height (ENCLAVE_E_GAP);
 *  - the genuine vote block is answered with its height, and again (idempotent); a block
 *    at or below the light height is answered at once;
 *  - after it, the new set's proof is accepted and the query answered with ml/'s own
 *    prediction, while a later buy certified by A alone (no longer a quorum) is refused;
 *  - malformed CHAIN_BLOCK requests do not encode (a probe with bytes, a block without
 *    its certificate, AFTER not below HEIGHT); before CHAIN the request is refused
 *    (ENCLAVE_E_CHAIN), and another kind of enclave follows the chain the same way.
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
    proto_key_t *b;        /* the authority voted in */
    ledger_valset_t after; /* {A, B} */
} world_t;

static void s_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rand();
}

static int s_call(enclave_host_t *h, const enclave_req_t *req, enclave_ans_t *ans, uint8_t **frame)
{
    size_t flen = 0;
    char err[256] = "";
    *frame = NULL;
    return enclave_host_call(h, req, -1, ans, frame, &flen, err, sizeof err);
}

/* CHAIN_BLOCK [AFTER, HEIGHT, BLOCK, CERT] to H; the code, the light height into *AT. */
static int s_feed(enclave_host_t *h, uint64_t after, uint64_t height, const uint8_t *block,
                  size_t blen, const uint8_t *cert, size_t clen, uint64_t *at)
{
    enclave_req_t req = {.type = ENCLAVE_REQ_CHAIN_BLOCK};
    req.u.chain_block.after = after;
    req.u.chain_block.height = height;
    req.u.chain_block.block = block;
    req.u.chain_block.block_len = blen;
    req.u.chain_block.cert = cert;
    req.u.chain_block.cert_len = clen;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    int rc = s_call(h, &req, &ans, &frame);
    if (rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_LIGHT);
        if (at)
            *at = ans.u.light.height;
    }
    free(frame);
    return rc;
}

/* The light height of H (a probe); UINT64_MAX when refused. */
static uint64_t s_probe(enclave_host_t *h)
{
    uint64_t at = UINT64_MAX;
    if (s_feed(h, 0, 0, NULL, 0, NULL, 0, &at) != 0)
        return UINT64_MAX;
    return at;
}

static void s_chain(enclave_host_t *h, const qc_t *q)
{
    enclave_req_t req = {.type = ENCLAVE_REQ_CHAIN};
    req.u.chain.genesis = q->genesis;
    req.u.chain.genesis_len = q->genesis_len;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    CHECK_EQ(s_call(h, &req, &ans, &frame), 0);
    CHECK(memcmp(ans.u.chain.chain_id, q->c.chain, 32) == 0);
    free(frame);
}

/* A query of N rows X under BUY_ID with CODE and PROOF; the code, the predictions. */
static int s_query(world_t *w, const uint8_t buy_id[32], const uint8_t code[32],
                   const uint8_t *proof, size_t proof_len, const double *x, size_t n, double *pred)
{
    uint8_t *sealed = NULL, *frame = NULL;
    size_t slen = 0, got = 0;
    CHECK_EQ(enclave_prog_query_seal(w->box_pk, w->q.model_id, buy_id, w->reply_pk, code, x, n,
                                     QC_P, &sealed, &slen),
             0);
    enclave_req_t req = {.type = ENCLAVE_REQ_QUERY};
    memcpy(req.u.query.model_id, w->q.model_id, 32);
    memcpy(req.u.query.buy_id, buy_id, 32);
    req.u.query.buy_proof = proof;
    req.u.query.buy_proof_len = proof_len;
    req.u.query.sealed = sealed;
    req.u.query.sealed_len = slen;
    enclave_ans_t ans;
    int rc = s_call(w->h, &req, &ans, &frame);
    if (rc == 0) {
        CHECK_EQ(ans.type, ENCLAVE_ANS_QUERY);
        CHECK_EQ(enclave_prog_query_open(w->reply_pk, w->reply_sk, w->q.model_id, buy_id,
                                         ans.u.blob.bytes, ans.u.blob.len, pred, n, &got, NULL,
                                         NULL),
                 0);
        CHECK_EQ(got, n);
    }
    free(frame);
    free(sealed);
    return rc;
}

/* Commits TX (taken) as the next block, certified by the N keys SIGNERS of SET; its txid in
   TXID. */
static void s_commit(qc_t *q, uint8_t *tx, size_t len, const ledger_valset_t *set,
                     proto_key_t *const *signers, size_t n, uint8_t txid[32])
{
    char why[256] = "";
    int rc = qc_submit_by(q, tx, len, set, signers, n, txid, why, sizeof why);
    if (rc != LEDGER_OK)
        printf("tx refused: %s\n", why);
    REQUIRE(rc == LEDGER_OK);
}

/* Bob's QUERY_BUY of 5 rows with CODE, certified by SIGNERS of SET; its proof (malloc'd). */
static uint8_t *s_buy(world_t *w, const ledger_valset_t *set, proto_key_t *const *signers, size_t n,
                      const uint8_t code[32], uint8_t buy_id[32], size_t *plen)
{
    ledger_tx_body_t body;
    memset(&body, 0, sizeof body);
    memcpy(body.query_buy.model_id, w->q.model_id, 32);
    body.query_buy.count = 5;
    proto_access_code_hash(code, body.query_buy.code_hash);
    size_t len = 0;
    uint8_t *tx = qc_tx(&w->q, w->q.c.bob, LEDGER_TX_QUERY_BUY, &body, &len);
    s_commit(&w->q, tx, len, set, signers, n, buy_id);
    return qc_proof(&w->q, buy_id, plen);
}

/* Loads Q's published model into W's enclave. */
static void s_load(world_t *w)
{
    size_t plen = 0, slen = 0;
    uint8_t *proof = qc_proof(&w->q, w->q.model_id, &plen), *sealed = NULL, *frame = NULL;
    CHECK_EQ(enclave_prog_model_seal(w->box_pk, w->q.model_bytes, w->q.model_len, w->q.pub,
                                     w->q.pub_len, &sealed, &slen),
             0);
    enclave_req_t req = {.type = ENCLAVE_REQ_MODEL_LOAD};
    req.u.model_load.sealed = sealed;
    req.u.model_load.sealed_len = slen;
    req.u.model_load.proof = proof;
    req.u.model_load.proof_len = plen;
    enclave_ans_t ans;
    CHECK_EQ(s_call(w->h, &req, &ans, &frame), 0);
    CHECK_EQ(ans.type, ENCLAVE_ANS_LOADED);
    free(frame);
    free(sealed);
    free(proof);
}

/* Every forged feed of the vote block (BLOCK, CERT at HEIGHT) is refused, and leaves the
   client at 0 and the new set's PROOF refused. */
static void s_test_forged(world_t *w, uint64_t height, const uint8_t *block, size_t blen,
                          const uint8_t *cert, size_t clen, const uint8_t buy_id[32],
                          const uint8_t code[32], const uint8_t *proof, size_t plen)
{
    double x[QC_P] = {1, 2}, pred[1];
    uint8_t *bad = malloc(blen > clen ? blen : clen);
    REQUIRE(bad != NULL);
    /* a certificate by an outsider */
    uint8_t hash[32];
    ledger_block_t *b = NULL;
    REQUIRE(ledger_block_decode(block, blen, &b) == PROTO_OK);
    memcpy(hash, ledger_block_hash(b), 32);
    ledger_block_destroy(&b);
    size_t olen = 0;
    uint8_t *ocert = qc_cert(&w->q, w->q.c.aud[0], 0, height, hash, &olen);
    CHECK_EQ(s_feed(w->h, 0, height, block, blen, ocert, olen, NULL), ENCLAVE_E_PROOF);
    free(ocert);
    /* a flipped bit in the certificate (its last signature byte), in the block (a middle
       byte and the last one) */
    memcpy(bad, cert, clen);
    bad[clen - 1] ^= 0x01;
    CHECK_EQ(s_feed(w->h, 0, height, block, blen, bad, clen, NULL), ENCLAVE_E_PROOF);
    size_t flips[2] = {blen / 2, blen - 1};
    for (size_t i = 0; i < 2; i++) {
        memcpy(bad, block, blen);
        bad[flips[i]] ^= 0x04;
        CHECK_EQ(s_feed(w->h, 0, height, bad, blen, cert, clen, NULL), ENCLAVE_E_PROOF);
    }
    /* garbage, and the block under another height */
    s_fill(bad, blen);
    CHECK_EQ(s_feed(w->h, 0, height, bad, blen, cert, clen, NULL), ENCLAVE_E_PROOF);
    CHECK_EQ(s_feed(w->h, 0, height + 1, block, blen, cert, clen, NULL), ENCLAVE_E_PROOF);
    /* another chain's certified block (its MODEL_PUBLISH, height 1 ... of its own chain) */
    qc_t other;
    qc_world(&other, "another");
    ledger_head_t oh;
    REQUIRE(ledger_store_head(other.c.store, &oh) == LEDGER_OK);
    uint8_t *ob = NULL, *oc = NULL;
    size_t oblen = 0, oclen = 0;
    REQUIRE(ledger_store_block(other.c.store, oh.height, &ob, &oblen) == LEDGER_OK);
    REQUIRE(ledger_store_cert(other.c.store, oh.height, &oc, &oclen) == LEDGER_OK);
    CHECK_EQ(s_feed(w->h, 0, oh.height, ob, oblen, oc, oclen, NULL), ENCLAVE_E_PROOF);
    free(ob);
    free(oc);
    qc_close(&other);
    /* AFTER is not the light height: a gap */
    CHECK_EQ(s_feed(w->h, 1, height, block, blen, cert, clen, NULL), ENCLAVE_E_GAP);
    CHECK_EQ(s_probe(w->h), 0u);
    CHECK_EQ(s_query(w, buy_id, code, proof, plen, x, 1, pred), ENCLAVE_E_PROOF);
    free(bad);
}

/* Malformed CHAIN_BLOCK requests do not encode. */
static void s_test_shape(void)
{
    uint8_t byte = 1, *out = NULL;
    size_t len = 0;
    enclave_req_t r = {.type = ENCLAVE_REQ_CHAIN_BLOCK};
    r.u.chain_block.block = &byte;
    r.u.chain_block.block_len = 1;
    CHECK_EQ(enclave_wire_req_encode(&r, &out, &len), PROTO_E_INVALID); /* probe with bytes */
    r.u.chain_block.height = 3;
    CHECK_EQ(enclave_wire_req_encode(&r, &out, &len), PROTO_E_INVALID); /* no cert */
    r.u.chain_block.cert = &byte;
    r.u.chain_block.cert_len = 1;
    r.u.chain_block.after = 3;
    CHECK_EQ(enclave_wire_req_encode(&r, &out, &len), PROTO_E_INVALID); /* after >= height */
    r.u.chain_block.after = 2;
    CHECK_EQ(enclave_wire_req_encode(&r, &out, &len), 0);
    enclave_req_t back;
    CHECK_EQ(enclave_wire_req_decode(out, len, &back), 0);
    CHECK(back.u.chain_block.after == 2 && back.u.chain_block.height == 3);
    CHECK(!enclave_wire_req_relayable(ENCLAVE_REQ_CHAIN_BLOCK));
    free(out);
}

int main(void)
{
    REQUIRE(sodium_init() >= 0);
    uint64_t seed = testutil_seed("test_enclave_query_chain");
    srand((unsigned)seed);
    s_test_shape();
    world_t w;
    memset(&w, 0, sizeof w);
    qc_world(&w.q, "qchain");
    char *dir = strdup(testutil_tmpdir());
    w.plat = enclave_testutil_platform(dir, "runner-qc", &w.as);
    enclave_host_opts_t o;
    enclave_host_opts_default(&o);
    o.inherit_stderr = true;
    memcpy(o.chain_id, w.q.c.chain, 32); /* bound to the chain it then follows */
    w.h = enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_QUERY, w.plat, &o);
    memcpy(w.box_pk, enclave_host_quote(w.h)->body.box_pk, 32);
    crypto_box_keypair(w.reply_pk, w.reply_sk);
    CHECK_EQ(s_probe(w.h), UINT64_MAX); /* no chain yet */
    CHECK_EQ(s_feed(w.h, 0, 0, NULL, 0, NULL, 0, NULL), ENCLAVE_E_CHAIN);
    s_chain(w.h, &w.q);
    CHECK_EQ(s_probe(w.h), 0u);
    s_load(&w);

    /* A votes B in; the set {A, B} certifies from the next height */
    w.b = df_key(0x60);
    ledger_valset_t before;
    memset(&before, 0, sizeof before);
    memset(&w.after, 0, sizeof w.after);
    REQUIRE(ledger_valset_add(&before, proto_key_public(w.q.c.auth)) == 0);
    /* the set is sorted by key (ledger_light, ledger_authority) */
    bool a_first = memcmp(proto_key_public(w.q.c.auth), proto_key_public(w.b), 32) < 0;
    REQUIRE(ledger_valset_add(&w.after, proto_key_public(a_first ? w.q.c.auth : w.b)) == 0);
    REQUIRE(ledger_valset_add(&w.after, proto_key_public(a_first ? w.b : w.q.c.auth)) == 0);
    ledger_tx_body_t body;
    memset(&body, 0, sizeof body);
    body.auth_vote.action = LEDGER_AUTH_ADD;
    memcpy(body.auth_vote.subject, proto_key_public(w.b), 32);
    size_t len = 0;
    uint8_t *tx = qc_tx(&w.q, w.q.c.auth, LEDGER_TX_AUTH_VOTE, &body, &len);
    uint8_t vote_id[32];
    proto_key_t *a_only[1] = {w.q.c.auth}, *both[2] = {w.q.c.auth, w.b};
    s_commit(&w.q, tx, len, &before, a_only, 1, vote_id);
    ledger_head_t head;
    REQUIRE(ledger_store_head(w.q.c.store, &head) == LEDGER_OK);
    uint64_t hv = head.height;
    uint8_t auths[4][32];
    size_t n_auths = 4;
    REQUIRE(ledger_store_authorities(w.q.c.store, auths, &n_auths) == LEDGER_OK);
    CHECK_EQ(n_auths, 2u); /* the ledger moved its set */

    uint8_t code[32], buy_id[32], buy2[32];
    s_fill(code, 32);
    size_t plen = 0, plen2 = 0;
    uint8_t *proof = s_buy(&w, &w.after, both, 2, code, buy_id, &plen);
    double x[2 * QC_P], pred[2], want[2];
    for (size_t i = 0; i < 2 * QC_P; i++)
        x[i] = (double)(rand() % 2000) / 100.0 - 10.0;
    /* not fed: the new set is unknown to the enclave */
    CHECK_EQ(s_query(&w, buy_id, code, proof, plen, x, 1, pred), ENCLAVE_E_PROOF);

    uint8_t *block = NULL, *cert = NULL;
    size_t blen = 0, clen = 0;
    REQUIRE(ledger_store_block(w.q.c.store, hv, &block, &blen) == LEDGER_OK);
    REQUIRE(ledger_store_cert(w.q.c.store, hv, &cert, &clen) == LEDGER_OK);
    s_test_forged(&w, hv, block, blen, cert, clen, buy_id, code, proof, plen);

    /* the genuine vote block, twice; an earlier one after it is answered at once */
    uint64_t at = 0;
    CHECK_EQ(s_feed(w.h, 0, hv, block, blen, cert, clen, &at), 0);
    CHECK_EQ(at, hv);
    CHECK_EQ(s_feed(w.h, 0, hv, block, blen, cert, clen, &at), 0);
    CHECK_EQ(at, hv);
    CHECK_EQ(s_feed(w.h, 0, hv - 1, block, blen, cert, clen, &at), 0);
    CHECK_EQ(at, hv);
    CHECK_EQ(s_probe(w.h), hv);

    /* the new set's proof is accepted now; A alone is no longer a quorum */
    int qrc = s_query(&w, buy_id, code, proof, plen, x, 2, pred);
    if (qrc)
        printf("query after the vote block: %s\n", proto_err_str(qrc));
    CHECK_EQ(qrc, 0);
    ml_mat_t *mx = ml_mat_new(2, QC_P);
    REQUIRE(mx != NULL);
    memcpy(mx->v, x, sizeof x);
    CHECK_EQ(ml_model_predict(w.q.model, mx, want), 0);
    ml_mat_destroy(&mx);
    for (size_t i = 0; i < 2; i++)
        CHECK(fabs(pred[i] - want[i]) <= 1e-12 * (1 + fabs(want[i])));
    uint8_t *proof2 = s_buy(&w, &w.after, a_only, 1, code, buy2, &plen2);
    CHECK_EQ(s_query(&w, buy2, code, proof2, plen2, x, 1, pred), ENCLAVE_E_PROOF);
    free(proof2);

    /* a training enclave follows the chain the same way */
    enclave_host_t *t =
        enclave_testutil_host_start(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, w.plat, &o);
    s_chain(t, &w.q);
    CHECK_EQ(s_feed(t, 0, hv, block, blen, cert, clen, &at), 0);
    CHECK_EQ(at, hv);
    enclave_host_destroy(&t);

    free(block);
    free(cert);
    free(proof);
    proto_key_destroy(&w.b);
    enclave_host_destroy(&w.h);
    enclave_platform_destroy(&w.plat);
    proto_key_destroy(&w.as);
    qc_close(&w.q);
    testutil_rmtree(dir);
    free(dir);
    return testutil_done("test_enclave_query_chain");
}
