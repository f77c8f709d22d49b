/*  bench_enclave_attest: latency of the attestation primitives, each alone.
 *
 *  Prints p50 and p99 (microseconds) over a fixed number of runs of: measuring a 2 MiB
 *  executable; making a quote (simulated platform: hash + Ed25519 sign); verifying a quote
 *  offline (certificate + quote signatures and the policy); sealing to an enclave and
 *  opening, for 1, 2, 4 and 6 kB records (the crypto part of a donation, without the
 *  process hop); sealing to disk and unsealing 6 kB; signing and verifying a donation
 *  receipt. The whole donation path (seal, relay, open, check, receipt) through a real
 *  enclave process is bench_enclave's (enclave-proc). Build without sanitizers (Release)
 *  for meaningful numbers; the platform directory is a fresh temporary one.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_measure.h"
#include "enclave/enclave_platform.h"
#include "proto/proto_attest.h"
#include "proto/proto_report.h"
#include "enclave/enclave_seal.h"

#define RUNS 2000

static double s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void s_report(const char *what, double *t, size_t n)
{
    qsort(t, n, sizeof *t, s_cmp);
    printf("%-44s p50 %9.1f us   p99 %9.1f us   (%zu runs)\n", what, t[n / 2], t[(n * 99) / 100],
           n);
}

static int s_fail(const char *what)
{
    fprintf(stderr, "bench_enclave_attest: %s failed\n", what);
    return 1;
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    static double t[RUNS];
    char dir[] = "/tmp/genie-bench-attest-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return s_fail("mkdtemp");
    snprintf(path, sizeof path, "%s/exe", dir);

    size_t exe_len = 2u << 20;
    uint8_t *exe = malloc(exe_len);
    randombytes_buf(exe, exe_len);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(exe, 1, exe_len, f) != exe_len || fclose(f) != 0)
        return s_fail("write exe");
    uint8_t m[32];
    for (int i = 0; i < 50; i++) {
        double t0 = s_now_us();
        if (enclave_measure_path(path, "training", m, NULL, 0) != 0)
            return s_fail("measure");
        t[i] = s_now_us() - t0;
    }
    s_report("measure 2 MiB executable", t, 50);

    char err[160];
    enclave_platform_t *p = enclave_platform_sim_open(dir, err, sizeof err);
    proto_key_t *as = proto_key_generate();
    if (!p || !as)
        return s_fail("platform");
    uint8_t ppk[32], acct[32] = {0};
    enclave_platform_pubkey(p, ppk);
    proto_attest_cert_t cert;
    uint64_t now = (uint64_t)time(NULL) * 1000u;
    if (proto_attest_cert_issue(as, ppk, "bench", acct, now - 1000, now + 3600000, &cert, NULL,
                                0) ||
        enclave_platform_set_cert(p, &cert))
        return s_fail("certify");
    proto_attest_body_t body;
    randombytes_buf(&body, sizeof body);
    proto_attest_quote_t q;
    for (int i = 0; i < RUNS; i++) {
        double t0 = s_now_us();
        if (enclave_platform_quote(p, m, &body, &q) != 0)
            return s_fail("quote");
        t[i] = s_now_us() - t0;
    }
    s_report("platform quote (sign)", t, RUNS);
    proto_attest_policy_t pol = {
        .want_measurement = m, .want_nonce = body.nonce, .now_ms = q.time_ms, .max_age_ms = 60000};
    for (int i = 0; i < RUNS; i++) {
        double t0 = s_now_us();
        if (proto_attest_quote_verify(&q, proto_key_public(as), &pol, NULL, 0) != 0)
            return s_fail("verify");
        t[i] = s_now_us() - t0;
    }
    s_report("quote verify (offline, 2 signatures)", t, RUNS);

    uint8_t box_pk[32], box_sk[32], spec[32] = {1}, data_id[32] = {2};
    crypto_box_keypair(box_pk, box_sk);
    uint8_t ctx[ENCLAVE_SEAL_DONATION_CONTEXT_LEN];
    enclave_seal_donation_context(spec, data_id, ctx);
    const size_t sizes[] = {1024, 2048, 4096, 6144};
    uint8_t plain[6144], sealed[6144 + 64], opened[6144];
    randombytes_buf(plain, sizeof plain);
    for (size_t s = 0; s < 4; s++) {
        size_t n = sizes[s], sl, ol;
        for (int i = 0; i < RUNS; i++) {
            double t0 = s_now_us();
            if (enclave_seal_to(box_pk, ctx, sizeof ctx, plain, n, sealed, sizeof sealed, &sl) ||
                enclave_seal_open(box_pk, box_sk, ctx, sizeof ctx, sealed, sl, opened,
                                  sizeof opened, &ol))
                return s_fail("seal_to");
            t[i] = s_now_us() - t0;
        }
        char what[64];
        snprintf(what, sizeof what, "seal to enclave + open, %zu B", n);
        s_report(what, t, RUNS);
    }
    uint8_t key[32];
    if (enclave_platform_seal_key(p, m, key))
        return s_fail("seal key");
    for (int i = 0; i < RUNS; i++) {
        size_t sl, ol;
        double t0 = s_now_us();
        if (enclave_seal_disk(key, m, plain, 6144, sealed, sizeof sealed, &sl) ||
            enclave_seal_disk_open(key, m, sealed, sl, opened, sizeof opened, &ol))
            return s_fail("seal_disk");
        t[i] = s_now_us() - t0;
    }
    s_report("seal to disk + unseal, 6144 B", t, RUNS);

    uint8_t spk[32], ssk[64];
    crypto_sign_keypair(spk, ssk);
    proto_receipt_t r = {.time_ms = now};
    for (int i = 0; i < RUNS; i++) {
        double t0 = s_now_us();
        if (proto_receipt_sign(&r, ssk) || proto_receipt_verify(&r, spk))
            return s_fail("receipt");
        t[i] = s_now_us() - t0;
    }
    s_report("receipt sign + verify", t, RUNS);

    sodium_memzero(key, sizeof key);
    sodium_memzero(box_sk, sizeof box_sk);
    sodium_memzero(ssk, sizeof ssk);
    enclave_platform_destroy(&p);
    proto_key_destroy(&as);
    free(exe);
    unlink(path);
    char kp[64];
    snprintf(kp, sizeof kp, "%s/platform.key", dir);
    unlink(kp);
    snprintf(kp, sizeof kp, "%s/platform.cert", dir);
    unlink(kp);
    rmdir(dir);
    return 0;
}
