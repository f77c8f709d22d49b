/*  bench_enclave_keyed: what a key-authorization donation costs, next to the machine's
 *  encryption rate.
 *
 *  Prints, for 1 kB, 10 kB, 100 kB and 1,000 KiB data files, p50/p99: sealing the owner's
 *  blob (enclave_blob_seal: secretstream over 64 KiB chunks), opening it
 *  (enclave_blob_open), and the whole keyed donation through a real training enclave
 *  (owner: seal the grant; runner: encode the DONATE_KEYED request with the blob and send
 *  it to the enclave process; enclave: open the grant, open the blob, recompute and compare
 *  the salted commitment, keep the data, sign a receipt; back: the receipt decoded and
 *  verified against the quoted key). The blob fetch over p2p is not in it (see
 *  test_node_data_fetch for its logic; its cost is the network's). And the raw
 *  XChaCha20-Poly1305 rate on 1 MiB (one crypto_aead call) as the machine's ceiling.
 *  Run from a Release build (scripts/bench.sh). usage: bench_enclave_keyed [ITERATIONS]
 *  (default 100 per size)
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_blob.h"
#include "enclave/enclave_grant.h"
#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_report.h"
#include "bench_enclave_util.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE must be defined by tests/CMakeLists.txt"
#endif

/* One keyed donation of DATA (LEN) to H, then a DROP so the enclave's memory stays
   bounded; the donation's time in *US. 0 or the failing code. */
static int s_donate(enclave_host_t *h, const uint8_t *data, size_t len, const uint8_t *blob,
                    size_t blen, const uint8_t salt[32], const uint8_t key[32], uint32_t round,
                    double *us)
{
    const proto_attest_quote_t *q = enclave_host_quote(h);
    enclave_req_t req;
    memset(&req, 0, sizeof req);
    req.type = ENCLAVE_REQ_DONATE_KEYED;
    memset(req.u.donate_keyed.spec_id, 0x51, 32);
    memcpy(req.u.donate_keyed.spec_id, &round, sizeof round);
    proto_data_commit(salt, data, len, req.u.donate_keyed.data_id);
    memset(req.u.donate_keyed.donor, 0xd0, 32);
    uint8_t *grant = NULL, *frame = NULL;
    size_t glen = 0, flen = 0;
    enclave_ans_t ans;
    proto_receipt_t r;
    double t0 = bench_now_us();
    int rc = enclave_grant_seal(q->body.box_pk, req.u.donate_keyed.spec_id,
                                req.u.donate_keyed.data_id, salt, key, &grant, &glen);
    if (rc == 0) {
        req.u.donate_keyed.grant = grant;
        req.u.donate_keyed.grant_len = glen;
        req.u.donate_keyed.blob = blob;
        req.u.donate_keyed.blob_len = blen;
        rc = enclave_host_call(h, &req, -1, &ans, &frame, &flen, NULL, 0);
    }
    if (rc == 0 && (ans.type != ENCLAVE_ANS_RECEIPT ||
                    proto_receipt_decode(ans.u.blob.bytes, ans.u.blob.len, &r) != 0 ||
                    proto_receipt_verify(&r, q->body.sign_pk) != 0))
        rc = -1;
    *us = bench_now_us() - t0;
    free(frame);
    free(grant);
    if (rc == 0) {
        enclave_req_t drop = {.type = ENCLAVE_REQ_DROP};
        memcpy(drop.u.drop.data_id, req.u.donate_keyed.data_id, 32);
        frame = NULL;
        rc = enclave_host_call(h, &drop, -1, &ans, &frame, &flen, NULL, 0);
        free(frame);
    }
    return rc;
}

int main(int argc, char **argv)
{
    size_t iters = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 100;
    if (iters < 2 || proto_crypto_init() != 0)
        return 1;
    char dir[] = "/tmp/bench_keyed.XXXXXX", err[256] = "";
    if (!mkdtemp(dir))
        return 1;
    proto_key_t *as = NULL;
    enclave_platform_t *plat = bench_platform("bench_enclave_keyed", dir, 0xac, &as);
    if (!plat)
        return 1;
    enclave_host_t *h = enclave_host_new(GENIE_ENCLAVE_EXE, ENCLAVE_KIND_TRAINING, plat, NULL);
    if (!h || enclave_host_start(h, err, sizeof err) != 0) {
        fprintf(stderr, "bench_enclave_keyed: start: %s\n", err);
        return 1;
    }

    /* the ceiling: one AEAD call over 1 MiB */
    size_t mib = 1024u * 1024u;
    uint8_t *m = malloc(mib), *c = malloc(mib + 16), k[32], nonce[24] = {0};
    randombytes_buf(m, mib);
    randombytes_buf(k, 32);
    double *v = calloc(iters, sizeof *v);
    if (!m || !c || !v)
        return 1;
    for (size_t i = 0; i < iters; i++) {
        double t0 = bench_now_us();
        crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, m, mib, NULL, 0, NULL, nonce, k);
        v[i] = bench_now_us() - t0;
    }
    double p50, p99;
    bench_pct(v, iters, &p50, &p99);
    printf("bench_enclave_keyed: %zu iterations per size\n", iters);
    printf("raw XChaCha20-Poly1305, 1 MiB: p50 %.3f ms (%.0f MB/s)\n", p50 / 1e3,
           (double)mib / p50);
    printf("%-10s %-26s %-26s %s\n", "data", "blob seal p50/p99 (ms)", "blob open p50/p99 (ms)",
           "keyed donation p50/p99 (ms)");

    static const size_t sizes[] = {1000, 10000, 100000, 1000u * 1024u};
    uint8_t salt[32], key[32];
    randombytes_buf(salt, 32);
    enclave_blob_keygen(key);
    double *vs = calloc(iters, sizeof *vs), *vo = calloc(iters, sizeof *vo);
    if (!vs || !vo)
        return 1;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        uint8_t *blob = NULL, *plain = NULL;
        size_t blen = 0, plen = 0;
        for (size_t i = 0; i < iters; i++) {
            double t0 = bench_now_us();
            if (enclave_blob_seal(key, m, len, &blob, &blen) != 0)
                return 1;
            vs[i] = bench_now_us() - t0;
            t0 = bench_now_us();
            if (enclave_blob_open(key, blob, blen, &plain, &plen) != 0)
                return 1;
            vo[i] = bench_now_us() - t0;
            enclave_blob_plain_free(plain);
            double us = 0;
            int rc = s_donate(h, m, len, blob, blen, salt, key, (uint32_t)i, &us);
            if (rc != 0) {
                fprintf(stderr, "bench_enclave_keyed: donation: %s\n", proto_err_str(rc));
                return 1;
            }
            v[i] = us;
            free(blob);
        }
        double s50, s99, o50, o99;
        bench_pct(vs, iters, &s50, &s99);
        bench_pct(vo, iters, &o50, &o99);
        bench_pct(v, iters, &p50, &p99);
        printf("%-10zu %8.3f / %-15.3f %8.3f / %-15.3f %8.3f / %.3f\n", len, s50 / 1e3, s99 / 1e3,
               o50 / 1e3, o99 / 1e3, p50 / 1e3, p99 / 1e3);
    }
    free(vs);
    free(vo);
    free(v);
    free(m);
    free(c);
    enclave_host_destroy(&h);
    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    bench_platform_remove(dir);
    return 0;
}
