/*  gen_enclave_query_corpus: writes the seeds of tests/fuzz/corpus/enclave_request/ that
 *  reach the query enclave's light client: chain-real (CHAIN with a real canonical
 *  genesis; the replay feeds inputs in name order, so the fuzzed query enclave then follows
 *  that chain), model_load-real (the chain's real MODEL_PUBLISH proof, with a model sealed
 *  to a key the fuzzed enclave does not hold), query-real (the real proof of a QUERY_BUY)
 *  and query-real-flip (the same with one flipped bit); chain_block-probe (CHAIN_BLOCK
 *  asking the light height), chain_block-real (the chain's certified block holding an
 *  AUTH_VOTE that adds an authority, fed after chain-real) and chain_block-flip (its
 *  certificate with one flipped bit, named to be fed first). It prints the chain's id,
 *  which fuzz_enclave_request binds its enclaves to at INIT (its s_chain_id: update it if
 *  the genesis here changes).
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Build and run by hand from the
 *  repository root (add the sanitizer flags when the libraries are a sanitizer build):
 *      cmake --build build --target genie_enclave
 *      cc -std=c11 -D_GNU_SOURCE -I. -Itests/unit -Itests/unit/enclave \
 *         -isystem /usr/include/x86_64-linux-gnu/openblas-serial \
 *         tests/fuzz/gen_enclave_query_corpus.c tests/unit/testutil.c build/libgenie_enclave.a \
 *         build/libgenie_ml.a build/libgenie_ledger.a build/libgenie_proto.a -lleveldb \
 *         -ljansson -lsodium -lmsgpackc -lopenblas -lhts -llbfgs -lseccomp -lm -o /tmp/gen
 *      /tmp/gen tests/fuzz/corpus/enclave_request
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_prog.h"
#include "enclave/enclave_wire.h"
#include "query_chain.h"
#include "tests/fuzz/gen_util.h"

static void s_write(const char *dir, const char *name, const enclave_req_t *req)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    REQUIRE(enclave_wire_req_encode(req, &buf, &len) == 0);
    gen_put(dir, NULL, name, -1, buf, len);
    free(buf);
}

int main(int argc, char **argv)
{
    REQUIRE(argc == 2 && sodium_init() >= 0);
    qc_t q;
    qc_world(&q, "fuzz");
    uint8_t code[32], buy_id[32], box_pk[32], box_sk[32];
    memset(code, 0x5c, sizeof code);
    crypto_box_keypair(box_pk, box_sk);
    qc_buy(&q, q.model_id, 10, code, buy_id);
    size_t plen = 0, mlen = 0, slen = 0;
    uint8_t *proof = qc_proof(&q, buy_id, &plen), *mproof = qc_proof(&q, q.model_id, &mlen);
    uint8_t *sealed = NULL;
    REQUIRE(enclave_prog_model_seal(box_pk, q.model_bytes, q.model_len, q.pub, q.pub_len, &sealed,
                                    &slen) == 0);
    enclave_req_t r = {.type = ENCLAVE_REQ_CHAIN};
    r.u.chain.genesis = q.genesis;
    r.u.chain.genesis_len = q.genesis_len;
    s_write(argv[1], "chain-real", &r);
    /* fuzz_enclave_request binds its enclaves to this chain id (its s_chain_id) */
    printf("chain-real's chain id:");
    for (size_t i = 0; i < 32; i++)
        printf(" 0x%02x,", q.c.chain[i]);
    printf("\n");
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_MODEL_LOAD;
    r.u.model_load.sealed = sealed;
    r.u.model_load.sealed_len = slen;
    r.u.model_load.proof = mproof;
    r.u.model_load.proof_len = mlen;
    s_write(argv[1], "model_load-real", &r);
    free(sealed);
    double x[QC_P] = {1.0, -2.0};
    uint8_t reply_pk[32], reply_sk[32];
    crypto_box_keypair(reply_pk, reply_sk);
    REQUIRE(enclave_prog_query_seal(box_pk, q.model_id, buy_id, reply_pk, code, x, 1, QC_P, &sealed,
                                    &slen) == 0);
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_QUERY;
    memcpy(r.u.query.model_id, q.model_id, 32);
    memcpy(r.u.query.buy_id, buy_id, 32);
    r.u.query.buy_proof = proof;
    r.u.query.buy_proof_len = plen;
    r.u.query.sealed = sealed;
    r.u.query.sealed_len = slen;
    s_write(argv[1], "query-real", &r);
    proof[plen / 3] ^= 4;
    s_write(argv[1], "query-real-flip", &r);
    free(sealed);
    /* an authority vote in a certified block, after everything else */
    ledger_tx_body_t body;
    memset(&body, 0, sizeof body);
    body.auth_vote.action = LEDGER_AUTH_ADD;
    proto_key_t *newcomer = df_key(0x60);
    memcpy(body.auth_vote.subject, proto_key_public(newcomer), 32);
    proto_key_destroy(&newcomer);
    size_t vlen = 0, blen = 0, clen = 0;
    uint8_t *vtx = qc_tx(&q, q.c.auth, LEDGER_TX_AUTH_VOTE, &body, &vlen), vote_id[32];
    REQUIRE(qc_submit_certified(&q, vtx, vlen, vote_id, NULL, 0) == LEDGER_OK);
    ledger_head_t head;
    REQUIRE(ledger_store_head(q.c.store, &head) == LEDGER_OK);
    uint8_t *block = NULL, *cert = NULL;
    REQUIRE(ledger_store_block(q.c.store, head.height, &block, &blen) == LEDGER_OK);
    REQUIRE(ledger_store_cert(q.c.store, head.height, &cert, &clen) == LEDGER_OK);
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_CHAIN_BLOCK;
    s_write(argv[1], "chain_block-probe", &r);
    r.u.chain_block.height = head.height;
    r.u.chain_block.block = block;
    r.u.chain_block.block_len = blen;
    r.u.chain_block.cert = cert;
    r.u.chain_block.cert_len = clen;
    s_write(argv[1], "chain_block-real", &r);
    cert[clen - 1] ^= 1;
    s_write(argv[1], "chain_block-flip", &r);
    free(block);
    free(cert);
    free(proof);
    free(mproof);
    qc_close(&q);
    return testutil_done("gen_enclave_query_corpus");
}
