/*  enclave_testutil: what the enclave unit tests share: the printed, replayable test seed
 *  (GENIE_TEST_SEED=N) and the deterministic bytes and keys derived from it by label.
 *  Header-only, included once per test executable. */
#ifndef GENIE_ENCLAVE_TESTUTIL_H
#define GENIE_ENCLAVE_TESTUTIL_H

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_key.h"

/* This test's seed, set once by enclave_testutil_seed_init at the start of main. */
static uint8_t enclave_testutil_seed[randombytes_SEEDBYTES];

/* Takes the seed from GENIE_TEST_SEED or draws one, prints it so a failure replays, and
   returns it. */
static inline unsigned long long enclave_testutil_seed_init(void)
{
    const char *env = getenv("GENIE_TEST_SEED");
    unsigned long long v = env ? strtoull(env, NULL, 10) : (unsigned long long)randombytes_random();
    printf("test seed: GENIE_TEST_SEED=%llu\n", v);
    memset(enclave_testutil_seed, 0, sizeof enclave_testutil_seed);
    memcpy(enclave_testutil_seed, &v, sizeof v);
    return v;
}

/* Deterministic bytes for LABEL under the test seed. */
static inline void enclave_testutil_bytes(const char *label, uint8_t *out, size_t n)
{
    uint8_t seed[randombytes_SEEDBYTES];
    crypto_generichash(seed, sizeof seed, (const uint8_t *)label, strlen(label),
                       enclave_testutil_seed, sizeof enclave_testutil_seed);
    randombytes_buf_deterministic(out, n, seed);
}

/* A deterministic signing key for LABEL (the caller destroys it). */
static inline proto_key_t *enclave_testutil_key(const char *label)
{
    uint8_t seed[32];
    enclave_testutil_bytes(label, seed, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    sodium_memzero(seed, sizeof seed);
    return k;
}

#endif
