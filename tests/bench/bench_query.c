/*  bench_query: paid queries through one query enclave (a real genie-enclave process driven
 *  by enclave_host over its socketpair; no network), for a logistic model.
 *
 *  Setup: a real chain in a LevelDB store (tests/unit/enclave/query_chain.h: the ledger's
 *  contracts, a MODEL_PUBLISH and a QUERY_BUY in certified blocks), CHAIN and MODEL_LOAD.
 *  Prints: the light client's proof check in-process (ledger_light_verify_tx), the first
 *  query (it carries the buy's proof, which the enclave verifies and caches), then queries
 *  of one row each without proof: queries per second and p50/p99 latency of the whole round
 *  trip as an asker sees it (seal the row to the enclave, host call, open the sealed answer
 *  with the reply key); and this machine's own Ed25519 verification rate measured in the
 *  same run (libsodium), as the reference the query rate is a ratio of.
 *  Target (issue 16): >= 1,000 queries/s with p99 < 20 ms on loopback.
 *  usage: bench_query [QUERIES]  (default 5000)
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_enclave_util.h"
#include "enclave/enclave_host.h"
#include "enclave/enclave_prog.h"
#include "query_chain.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE must be defined by tests/CMakeLists.txt"
#endif

/* Ed25519 verifications per second on this machine (libsodium, one 32-byte message). */
static double s_verify_rate(void)
{
    uint8_t pk[32], sk[64], msg[32], sig[64];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    int n = 0, ok = 0;
    double t0 = bench_now_us();
    while (bench_now_us() - t0 < 500000.0) {
        ok += crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0;
        n++;
    }
    double dt = bench_now_us() - t0;
    return ok == n ? (double)n / (dt / 1e6) : 0;
}

/* One call; 0 or the code, the answer in *ANS, its frame in *FRAME (caller frees). */
static int s_call(enclave_host_t *h, const enclave_req_t *req, enclave_ans_t *ans, uint8_t **frame)
{
    size_t flen = 0;
    char err[256] = "";
    int rc = enclave_host_call(h, req, 10000, ans, frame, &flen, err, sizeof err);
    if (rc)
        fprintf(stderr, "bench_query: call %d: %s (%s)\n", (int)req->type, proto_err_str(rc), err);
    return rc;
}

/* One query of one row X, opened; its round-trip time in *US. */
static int s_query(enclave_host_t *h, const uint8_t box_pk[32], const qc_t *q,
                   const uint8_t buy_id[32], const uint8_t code[32], const uint8_t *proof,
                   size_t plen, const uint8_t reply_pk[32], const uint8_t reply_sk[32],
                   const double x[QC_P], double *us)
{
    double t0 = bench_now_us(), pred = 0;
    uint8_t *sealed = NULL, *frame = NULL;
    size_t slen = 0, n = 0;
    int rc = enclave_prog_query_seal(box_pk, q->model_id, buy_id, reply_pk, code, x, 1, QC_P,
                                     &sealed, &slen);
    enclave_req_t req = {.type = ENCLAVE_REQ_QUERY};
    memcpy(req.u.query.model_id, q->model_id, 32);
    memcpy(req.u.query.buy_id, buy_id, 32);
    req.u.query.buy_proof = proof;
    req.u.query.buy_proof_len = plen;
    req.u.query.sealed = sealed;
    req.u.query.sealed_len = slen;
    enclave_ans_t ans;
    if (rc == 0)
        rc = s_call(h, &req, &ans, &frame);
    if (rc == 0)
        rc = enclave_prog_query_open(reply_pk, reply_sk, q->model_id, buy_id, ans.u.blob.bytes,
                                     ans.u.blob.len, &pred, 1, &n, NULL, NULL);
    *us = bench_now_us() - t0;
    free(frame);
    free(sealed);
    return rc == 0 && n == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    size_t iters = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 5000;
    if (iters < 100)
        iters = 100;
    if (sodium_init() < 0)
        return 1;
    qc_t q;
    qc_world(&q, "bench-query");
    uint8_t code[32], buy_id[32];
    randombytes_buf(code, sizeof code);
    qc_buy(&q, q.model_id, 1000000, code, buy_id);
    size_t plen = 0, mlen = 0;
    uint8_t *proof = qc_proof(&q, buy_id, &plen);
    uint8_t *mproof = qc_proof(&q, q.model_id, &mlen);

    /* the light client's check alone, in this process */
    ledger_light_t *light = NULL;
    char err[256] = "";
    if (ledger_light_new(q.genesis, q.genesis_len, &light, err, sizeof err) != 0) {
        fprintf(stderr, "bench_query: light client: %s\n", err);
        return 1;
    }
    double t0 = bench_now_us();
    int nv = 0;
    for (; nv < 2000; nv++) {
        ledger_light_tx_t lt;
        if (ledger_light_verify_tx(light, proof, plen, &lt, err, sizeof err) != 0) {
            fprintf(stderr, "bench_query: proof: %s\n", err);
            return 1;
        }
    }
    double proof_us = (bench_now_us() - t0) / nv;
    ledger_light_destroy(&light);

    char dir[] = "/tmp/genie-bench-query-XXXXXX";
    proto_key_t *as = NULL;
    enclave_platform_t *plat = mkdtemp(dir) ? bench_platform("bench_query", dir, 0xbe, &as) : NULL;
    enclave_host_opts_t ho;
    enclave_host_opts_default(&ho);
    memcpy(ho.chain_id, q.c.chain, 32); /* bound to the chain it then follows */
    enclave_host_t *h =
        plat ? enclave_host_new(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_QUERY, plat, &ho) : NULL;
    if (!h || enclave_host_start(h, err, sizeof err) != 0) {
        fprintf(stderr, "bench_query: enclave: %s\n", err);
        return 1;
    }
    uint8_t box_pk[32], reply_pk[32], reply_sk[32];
    memcpy(box_pk, enclave_host_quote(h)->body.box_pk, 32);
    crypto_box_keypair(reply_pk, reply_sk);
    enclave_req_t req = {.type = ENCLAVE_REQ_CHAIN};
    req.u.chain.genesis = q.genesis;
    req.u.chain.genesis_len = q.genesis_len;
    enclave_ans_t ans;
    uint8_t *frame = NULL;
    int rc = s_call(h, &req, &ans, &frame);
    free(frame);
    uint8_t *sealed = NULL;
    size_t slen = 0;
    if (rc == 0)
        rc = enclave_prog_model_seal(box_pk, q.model_bytes, q.model_len, q.pub, q.pub_len, &sealed,
                                     &slen);
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_MODEL_LOAD;
    req.u.model_load.sealed = sealed;
    req.u.model_load.sealed_len = slen;
    req.u.model_load.proof = mproof;
    req.u.model_load.proof_len = mlen;
    frame = NULL;
    if (rc == 0)
        rc = s_call(h, &req, &ans, &frame);
    free(frame);
    free(sealed);
    if (rc)
        return 1;

    double x[QC_P] = {0.5, -1.0}, first_us = 0;
    if (s_query(h, box_pk, &q, buy_id, code, proof, plen, reply_pk, reply_sk, x, &first_us))
        return 1;
    double *lat = malloc(iters * sizeof *lat);
    if (!lat)
        return 1;
    t0 = bench_now_us();
    for (size_t i = 0; i < iters; i++) {
        x[0] = (double)(i % 97) / 10.0;
        x[1] = (double)(i % 13) - 6.0;
        if (s_query(h, box_pk, &q, buy_id, code, NULL, 0, reply_pk, reply_sk, x, &lat[i]))
            return 1;
    }
    double wall = (bench_now_us() - t0) / 1e6, p50 = 0, p99 = 0;
    bench_pct(lat, iters, &p50, &p99);
    double qps = (double)iters / wall, vrate = s_verify_rate();

    printf("query enclave, logistic model (p = %d), one row per query, through enclave_host "
           "(socketpair, no network)\n",
           QC_P);
    printf("  light client proof check (in-process): %.1f us (%zu-byte proof)\n", proof_us, plen);
    printf("  first query (buy proof verified and cached): %.3f ms\n", first_us / 1000.0);
    printf("  %zu queries: %.0f queries/s, p50 %.3f ms, p99 %.3f ms (target >= 1,000/s, p99 "
           "< 20 ms)\n",
           iters, qps, p50 / 1000.0, p99 / 1000.0);
    printf("  Ed25519 verify on this machine, same run: %.0f /s; queries/s = %.3f x that\n", vrate,
           vrate > 0 ? qps / vrate : 0);
    free(lat);
    free(proof);
    free(mproof);
    enclave_host_destroy(&h);
    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    qc_close(&q);
    testutil_rmtree(dir);
    return 0;
}
