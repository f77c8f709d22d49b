/*  bench_enclave_util: what the enclave benchmarks that run real genie-enclave processes
 *  share (bench_enclave, bench_enclave_keyed): the clocks, p50/p99 of a sample, and a
 *  simulated platform certified by a fresh test attestation service, and its directory
 *  removed afterwards. bench_wakeup_ring, the yardstick of the enclave call path, takes
 *  the clock and the comparison. Header-only. */
#ifndef GENIE_BENCH_ENCLAVE_UTIL_H
#define GENIE_BENCH_ENCLAVE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enclave/enclave_platform.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"

/* The monotonic clock in microseconds (for intervals). */
static inline double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The wall clock in ms since the epoch (what certificates are timed by). */
static inline uint64_t bench_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts V (N > 0 samples) and gives its median and 99th percentile. */
static inline void bench_pct(double *v, size_t n, double *p50, double *p99)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    *p50 = v[n / 2];
    size_t i = (size_t)((double)n * 0.99);
    *p99 = v[i >= n ? n - 1 : i];
}

/* A simulated platform in DIR whose key is certified for runner "bench" (account: 32 times
   ACCOUNT_BYTE; valid from a second ago for an hour) by a new attestation-service key *AS.
   NULL (a line on stderr naming WHO) when any step fails. The caller destroys both. */
static inline enclave_platform_t *bench_platform(const char *who, const char *dir,
                                                 uint8_t account_byte, proto_key_t **as)
{
    char err[256] = "";
    enclave_platform_t *plat = enclave_platform_sim_open(dir, err, sizeof err);
    *as = proto_key_generate();
    if (!plat || !*as) {
        fprintf(stderr, "%s: platform: %s\n", who, err);
        goto fail;
    }
    uint8_t pk[32], account[32];
    enclave_platform_pubkey(plat, pk);
    memset(account, account_byte, 32);
    proto_attest_cert_t cert;
    uint64_t now = bench_unix_ms();
    if (proto_attest_cert_issue(*as, pk, "bench", account, now - 1000, now + 3600000, &cert, err,
                                sizeof err) != 0 ||
        enclave_platform_set_cert(plat, &cert) != 0) {
        fprintf(stderr, "%s: certificate: %s\n", who, err);
        goto fail;
    }
    return plat;
fail:
    enclave_platform_destroy(&plat);
    proto_key_destroy(as);
    return NULL;
}

/* Removes the platform directory DIR that bench_platform used (its key and certificate,
   then DIR itself), best effort. */
static inline void bench_platform_remove(const char *dir)
{
    const char *files[] = {"platform.key", "platform.cert"};
    for (size_t i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

#endif
