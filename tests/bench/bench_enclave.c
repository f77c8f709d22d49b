/*  bench_enclave: what the enclave path costs, with real genie-enclave processes.
 *
 *  Prints: spawn-to-quote time (measure the binary, fork, fexecve, lockdown, keys, INIT,
 *  platform quote); validation (send a phenotype table, ml/ checks, signed report back)
 *  and donation (seal to the enclave's key, send through the host, open, recompute and
 *  compare the commitment, keep, sign a receipt, receipt back and verified) for 1, 2, 4
 *  and 6 kB records, p50/p99; and an idle enclave's resident memory (VmRSS). Next to the
 *  published figures for the same record sizes: 58-725 ms without SGX and 278-1,366 ms with
 *  SGX. Targets: donation of 6 kB under 5 ms p99; idle enclave under 8 MiB resident.
 *  Run it from a Release build (scripts/bench.sh); sanitizer builds are several times
 *  slower. usage: bench_enclave [ITERATIONS]  (default 300 per size)
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto_attest.h"
#include "enclave/enclave_host.h"
#include "enclave/enclave_platform.h"
#include "enclave/enclave_prog.h"
#include "proto/proto_report.h"
#include "proto/proto_key.h"
#include "bench_enclave_util.h"

#ifndef GENIE_ENCLAVE_EXE
#error "GENIE_ENCLAVE_EXE must be defined by tests/CMakeLists.txt"
#endif

static long s_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* A phenotype CSV of about LEN bytes (the record a validation enclave checks). */
static size_t s_csv(char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "id,age,height,weight,smoker\n");
    for (unsigned row = 1; n + 40 < len; row++)
        n += (size_t)snprintf(buf + n, len - n, "%u,%u,%u.%u,%u.%u,%u\n", row, 20 + row % 60,
                              150 + row % 40, row % 10, 50 + row % 50, row % 10, row % 2);
    return n;
}

static enclave_host_t *s_start(enclave_kind_t kind, enclave_platform_t *plat)
{
    enclave_host_t *h = enclave_host_new(GENIE_ENCLAVE_EXE, kind, plat, NULL);
    char err[256] = "";
    if (!h || enclave_host_start(h, err, sizeof err) != 0) {
        fprintf(stderr, "bench_enclave: start: %s\n", err);
        exit(1);
    }
    return h;
}

int main(int argc, char **argv)
{
    size_t iters = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 300;
    if (iters < 10)
        iters = 10;
    if (proto_crypto_init() != 0)
        return 1;
    char dir[] = "/tmp/bench_enclave.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char err[256] = "";
    proto_key_t *as = NULL;
    enclave_platform_t *plat = bench_platform("bench_enclave", dir, 0, &as);
    if (!plat)
        return 1;
    printf("bench_enclave: %s, %zu iterations per size\n", GENIE_ENCLAVE_EXE, iters);

    /* spawn to quote */
    size_t spawns = 30;
    double *t = calloc(iters > spawns ? iters : spawns, sizeof *t), p50, p99;
    for (size_t i = 0; i < spawns; i++) {
        double t0 = bench_now_us();
        enclave_host_t *h = s_start(ENCLAVE_KIND_TRAINING, plat);
        t[i] = bench_now_us() - t0;
        enclave_host_destroy(&h);
    }
    bench_pct(t, spawns, &p50, &p99);
    printf("spawn to quote (measure, fork, fexecve, lockdown, keys, INIT, quote): p50 %.2f ms "
           "p99 %.2f ms (%zu spawns)\n",
           p50 / 1e3, p99 / 1e3, spawns);

    enclave_host_t *val = s_start(ENCLAVE_KIND_VALIDATION, plat);
    enclave_host_t *train = s_start(ENCLAVE_KIND_TRAINING, plat);
    printf("idle enclave resident memory: validation %ld KiB, training %ld KiB (target < 8192)\n",
           s_rss_kib(enclave_host_pid(val)), s_rss_kib(enclave_host_pid(train)));
    const uint8_t *box_pk = enclave_host_quote(train)->body.box_pk;
    const uint8_t *train_pk = enclave_host_quote(train)->body.sign_pk;
    const size_t sizes[] = {1024, 2048, 4096, 6144};
    printf("%-6s %-34s %-34s %s\n", "record", "validation p50 / p99 (ms)",
           "donation p50 / p99 (ms)", "published, same sizes");
    char *csv = malloc(8192);
    uint8_t *data = malloc(8192);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = s_csv(csv, sizes[s]);
        double vp50 = 0, vp99 = 0;
        for (size_t i = 0; i < iters; i++) {
            enclave_req_t req = {.type = ENCLAVE_REQ_VALIDATE};
            req.u.validate.data_type = PROTO_DATA_PHENOTYPE;
            randombytes_buf(req.u.validate.salt, 32);
            req.u.validate.data = (const uint8_t *)csv;
            req.u.validate.data_len = len;
            enclave_ans_t ans;
            uint8_t *frame = NULL;
            size_t flen = 0;
            double t0 = bench_now_us();
            int rc = enclave_host_call(val, &req, -1, &ans, &frame, &flen, err, sizeof err);
            t[i] = bench_now_us() - t0;
            if (rc) {
                fprintf(stderr, "bench_enclave: validate: %s\n", err);
                return 1;
            }
            free(frame);
        }
        bench_pct(t, iters, &vp50, &vp99);

        randombytes_buf(data, sizes[s]);
        for (size_t i = 0; i < iters; i++) {
            enclave_req_t req = {.type = ENCLAVE_REQ_DONATE};
            uint8_t salt[32];
            randombytes_buf(salt, 32);
            randombytes_buf(req.u.donate.data_id, 32);
            memset(req.u.donate.spec_id, 0x5e, 32);
            proto_data_commit(salt, data, sizes[s], req.u.donate.commitment);
            enclave_ans_t ans;
            uint8_t *frame = NULL, *sealed = NULL;
            size_t flen = 0, sealed_len = 0;
            double t0 = bench_now_us();
            int rc = enclave_prog_donation_seal(box_pk, req.u.donate.spec_id, req.u.donate.data_id,
                                                salt, data, sizes[s], &sealed, &sealed_len);
            req.u.donate.sealed = sealed;
            req.u.donate.sealed_len = sealed_len;
            if (rc == 0)
                rc = enclave_host_call(train, &req, -1, &ans, &frame, &flen, err, sizeof err);
            proto_receipt_t r;
            if (rc == 0)
                rc = proto_receipt_decode(ans.u.blob.bytes, ans.u.blob.len, &r);
            if (rc == 0)
                rc = proto_receipt_verify(&r, train_pk);
            t[i] = bench_now_us() - t0;
            if (rc) {
                fprintf(stderr, "bench_enclave: donate: %s (%s)\n", proto_err_str(rc), err);
                return 1;
            }
            free(frame);
            free(sealed);
            /* withdraw it again (untimed), so the enclave's bounded store never fills */
            enclave_req_t drop = {.type = ENCLAVE_REQ_DROP};
            memcpy(drop.u.drop.data_id, req.u.donate.data_id, 32);
            if (enclave_host_call(train, &drop, -1, &ans, &frame, &flen, err, sizeof err) != 0)
                return 1;
            free(frame);
        }
        double dp50 = 0, dp99 = 0;
        bench_pct(t, iters, &dp50, &dp99);
        printf("%2zu kB   %8.3f / %-23.3f %8.3f / %-23.3f 58-725 ms (no SGX), 278-1,366 ms (SGX)\n",
               sizes[s] / 1024, vp50 / 1e3, vp99 / 1e3, dp50 / 1e3, dp99 / 1e3);
        if (sizes[s] == 6144)
            printf("donation 6 kB p99 %.3f ms: %s the 5 ms target\n", dp99 / 1e3,
                   dp99 < 5000 ? "under" : "OVER");
    }
    printf("after the runs, resident memory: validation %ld KiB, training %ld KiB\n",
           s_rss_kib(enclave_host_pid(val)), s_rss_kib(enclave_host_pid(train)));
    enclave_host_destroy(&val);
    enclave_host_destroy(&train);
    enclave_platform_destroy(&plat);
    proto_key_destroy(&as);
    free(csv);
    free(data);
    free(t);
    bench_platform_remove(dir);
    return 0;
}
