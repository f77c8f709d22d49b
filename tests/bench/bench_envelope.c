/*  bench_envelope: throughput of the signed envelope, next to raw Ed25519 on this machine.
 *
 *  Prints one line per measurement: seal (encode + sign), decode, verify and open
 *  (decode + verify) per second for a 256-byte and a 16 KiB body, then raw libsodium
 *  crypto_sign_detached / crypto_sign_verify_detached on 32 bytes, and the ratio of
 *  envelope verify/s to raw verify/s (how much the envelope costs on top of the curve).
 *  Then proto_sigbatch's checks of 32-byte messages, which every tx signature goes
 *  through, and since the one signature rule (PROTOCOL.md §2.1) every envelope, vote,
 *  proposal and peer record too: one at a time, and in batches of PROTO_SIGBATCH_CHUNK
 *  distinct keys (per signature), with the ratios of the single and the batch rates to the
 *  raw libsodium rate (crypto_sign_verify_detached is no longer the rule, only the
 *  yardstick: "envelope verify" is proto_sig_check plus hashing); and the same
 *  batches with the keys already in a decoded-key table (proto_sigkeys_t), as a node
 *  checks txs of senders it has seen before; and batches signed by 4 keys in turn, full
 *  (128) and small (16), as a node checks the gossip of a few origins drained in one
 *  wakeup (signatures by one key share a point in the batch equation).
 *  Each measurement runs for about one second of CLOCK_MONOTONIC in five slices taken in
 *  turn with the others of its group (the best slice is reported), with a bounded
 *  iteration count. With --sig, only the checks a node's gossip goes through, per
 *  signature, as bench_p2p prints them: raw libsodium, proto_sig_check (libsodium's fast
 *  path first), the module's own single check without it (proto_sig_check_rule), and
 *  batches of 4 signers' signatures of 2, 3, 4, 16 and PROTO_SIGBATCH_CHUNK. Build without
 *  sanitizers (Release) for meaningful numbers.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/proto_envelope.h"
#include "proto/proto_msgtype.h"
#include "proto/proto_sigbatch.h"
#include "proto/proto_sigbatch_int.h"

#define BENCH_SECONDS 1.0
#define BENCH_SLICES 5
#define BENCH_MAX_ITERS 20000000ull /* per slice */
#define FEW_SIGNERS 4
#define SMALL_BATCH 16

typedef struct {
    proto_key_t *key;
    const uint8_t *body;
    size_t body_len;
    uint8_t *sealed; /* one sealed envelope of body_len bytes */
    size_t sealed_len;
    proto_envelope_t env; /* its decoded form */
    uint8_t raw_msg[32];
    uint8_t raw_sig[crypto_sign_BYTES];
    uint8_t raw_pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t raw_sk[crypto_sign_SECRETKEYBYTES];
    struct {
        uint8_t pk[32], sig[64], msg[32];
    } many[PROTO_SIGBATCH_CHUNK];
    proto_sigcheck_t checks[PROTO_SIGBATCH_CHUNK];
    proto_sigkeys_t *keys; /* warm: holds every key of CHECKS */
    struct {
        uint8_t pk[32], sig[64], msg[32];
    } few[PROTO_SIGBATCH_CHUNK]; /* signed by FEW_SIGNERS keys in turn, like gossip */
    proto_sigcheck_t few_checks[PROTO_SIGBATCH_CHUNK];
    uint64_t seq;
    uint64_t sink; /* results folded in so nothing is optimised away */
} bench_ctx_t;

typedef int (*bench_fn)(bench_ctx_t *ctx);

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs FN for one slice of BENCH_SECONDS / BENCH_SLICES; operations per second, or -1
   if an operation failed. */
static double s_slice(bench_ctx_t *ctx, bench_fn fn)
{
    uint64_t iters = 0, batch = 1;
    double start = s_now(), elapsed = 0;
    while (elapsed < BENCH_SECONDS / BENCH_SLICES && iters < BENCH_MAX_ITERS) {
        for (uint64_t i = 0; i < batch; i++)
            if (fn(ctx) != 0)
                return -1;
        iters += batch;
        elapsed = s_now() - start;
        if (batch < 4096 && elapsed < BENCH_SECONDS / BENCH_SLICES / 100)
            batch *= 2; /* fast operations: read the clock less often */
    }
    return (double)iters / elapsed;
}

/* Measures the N functions FNS for about BENCH_SECONDS each, their slices taken in turn
   so that all of them see the same machine load; RATES[i] is FNS[i]'s best slice (other
   processes only ever slow a slice down), or -1 if it failed. */
static void s_rates(bench_ctx_t *ctx, const bench_fn *fns, size_t n, double *rates)
{
    for (size_t i = 0; i < n; i++)
        rates[i] = 0;
    for (int slice = 0; slice < BENCH_SLICES; slice++) {
        for (size_t i = 0; i < n; i++) {
            if (rates[i] < 0)
                continue;
            double r = s_slice(ctx, fns[i]);
            if (r < 0 || r > rates[i])
                rates[i] = r;
        }
    }
}

static int s_seal(bench_ctx_t *ctx)
{
    uint8_t *out;
    size_t len;
    int rc = proto_envelope_seal(ctx->key, PROTO_MSG_GOSSIP, ctx->seq++, 1700000000000ull,
                                 ctx->body, ctx->body_len, &out, &len);
    if (rc)
        return rc;
    ctx->sink += out[len - 1];
    free(out);
    return 0;
}

static int s_decode(bench_ctx_t *ctx)
{
    proto_envelope_t env;
    int rc = proto_envelope_decode(ctx->sealed, ctx->sealed_len, &env);
    ctx->sink += env.seq;
    return rc;
}

static int s_verify(bench_ctx_t *ctx)
{
    return proto_envelope_verify(&ctx->env);
}

static int s_open(bench_ctx_t *ctx)
{
    proto_envelope_t env;
    int rc = proto_envelope_open(ctx->sealed, ctx->sealed_len, &env);
    ctx->sink += env.body_len;
    return rc;
}

static int s_raw_sign(bench_ctx_t *ctx)
{
    ctx->raw_msg[0]++;
    int rc =
        crypto_sign_detached(ctx->raw_sig, NULL, ctx->raw_msg, sizeof ctx->raw_msg, ctx->raw_sk);
    ctx->sink += ctx->raw_sig[0];
    return rc;
}

static int s_raw_verify(bench_ctx_t *ctx)
{
    return crypto_sign_verify_detached(ctx->raw_sig, ctx->raw_msg, sizeof ctx->raw_msg,
                                       ctx->raw_pk);
}

static int s_check_one(bench_ctx_t *ctx)
{
    return proto_sig_check(ctx->raw_pk, ctx->raw_msg, sizeof ctx->raw_msg, ctx->raw_sig) ? 0 : -1;
}

/*  One call checks PROTO_SIGBATCH_CHUNK signatures. */
static int s_check_batch(bench_ctx_t *ctx)
{
    bool ok[PROTO_SIGBATCH_CHUNK];
    return proto_sig_check_batch(NULL, ctx->checks, PROTO_SIGBATCH_CHUNK, ok) ==
                   PROTO_SIGBATCH_CHUNK
               ? 0
               : -1;
}

/*  The same, with the keys decoded before (a warm table). */
static int s_check_batch_keys(bench_ctx_t *ctx)
{
    bool ok[PROTO_SIGBATCH_CHUNK];
    return proto_sig_check_batch(ctx->keys, ctx->checks, PROTO_SIGBATCH_CHUNK, ok) ==
                   PROTO_SIGBATCH_CHUNK
               ? 0
               : -1;
}

/*  PROTO_SIGBATCH_CHUNK signatures by FEW_SIGNERS keys (warm table): the gossip of a few
 *  origins that one wakeup of a node drains. */
static int s_check_few(bench_ctx_t *ctx)
{
    bool ok[PROTO_SIGBATCH_CHUNK];
    return proto_sig_check_batch(ctx->keys, ctx->few_checks, PROTO_SIGBATCH_CHUNK, ok) ==
                   PROTO_SIGBATCH_CHUNK
               ? 0
               : -1;
}

/*  One signature by this module's arithmetic alone (proto_sig_check without its fast path
 *  through libsodium). */
static int s_check_rule_one(bench_ctx_t *ctx)
{
    return proto_sig_check_rule(ctx->raw_pk, ctx->raw_msg, sizeof ctx->raw_msg, ctx->raw_sig) ? 0
                                                                                              : -1;
}

/*  The tiny batches a lightly loaded node drains in one wakeup: 2, 3 and 4 signatures. */
static int s_check_few_n(bench_ctx_t *ctx, size_t n)
{
    bool ok[4];
    return proto_sig_check_batch(ctx->keys, ctx->few_checks, n, ok) == n ? 0 : -1;
}

static int s_check_few_2(bench_ctx_t *ctx)
{
    return s_check_few_n(ctx, 2);
}

static int s_check_few_3(bench_ctx_t *ctx)
{
    return s_check_few_n(ctx, 3);
}

static int s_check_few_4(bench_ctx_t *ctx)
{
    return s_check_few_n(ctx, 4);
}

/*  The same with a small wakeup's worth: SMALL_BATCH signatures. */
static int s_check_few_small(bench_ctx_t *ctx)
{
    bool ok[SMALL_BATCH];
    return proto_sig_check_batch(ctx->keys, ctx->few_checks, SMALL_BATCH, ok) == SMALL_BATCH ? 0
                                                                                             : -1;
}

static void s_print(const char *what, size_t body_len, double rate)
{
    if (rate < 0)
        printf("%-24s body=%-6zu FAILED\n", what, body_len);
    else
        printf("%-24s body=%-6zu %12.0f /s\n", what, body_len, rate);
}

/* --sig: only the signature checks a node's gossip goes through (one at a time, and in
   batches of 4 signers, small and full), per signature: the yardstick bench_p2p prints
   next to its CPU per delivered copy. */
static int s_sig_only(bench_ctx_t *ctx)
{
    static const bench_fn fns[] = {s_raw_verify,  s_check_one,   s_check_rule_one,  s_check_few_2,
                                   s_check_few_3, s_check_few_4, s_check_few_small, s_check_few};
    static const char *names[] = {"raw ed25519 verify",     "sigbatch check one",
                                  "sigbatch rule one",      "sigbatch 4 signers x2",
                                  "sigbatch 4 signers x3",  "sigbatch 4 signers x4",
                                  "sigbatch 4 signers x16", "sigbatch 4 signers"};
    static const double per_call[] = {1, 1, 1, 2, 3, 4, SMALL_BATCH, PROTO_SIGBATCH_CHUNK};
    enum { N_SIG = sizeof fns / sizeof fns[0] };
    double rates[N_SIG];
    int failed = 0;
    s_rates(ctx, fns, N_SIG, rates);
    for (size_t k = 0; k < N_SIG; k++) {
        s_print(names[k], 32, rates[k] < 0 ? rates[k] : rates[k] * per_call[k]);
        failed |= rates[k] < 0;
    }
    return failed;
}

int main(int argc, char **argv)
{
    const bool sig_only = argc > 1 && strcmp(argv[1], "--sig") == 0;
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "bench_envelope: libsodium init failed\n");
        return 1;
    }
    static const size_t sizes[] = {256, 16 * 1024};
    bench_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.key = proto_key_generate();
    uint8_t *body = malloc(16 * 1024);
    if (!ctx.key || !body) {
        fprintf(stderr, "bench_envelope: out of memory\n");
        return 1;
    }
    randombytes_buf(body, 16 * 1024);
    ctx.body = body;

    crypto_sign_keypair(ctx.raw_pk, ctx.raw_sk);
    randombytes_buf(ctx.raw_msg, sizeof ctx.raw_msg);
    crypto_sign_detached(ctx.raw_sig, NULL, ctx.raw_msg, sizeof ctx.raw_msg, ctx.raw_sk);
    for (size_t i = 0; i < PROTO_SIGBATCH_CHUNK; i++) {
        uint8_t sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_keypair(ctx.many[i].pk, sk);
        randombytes_buf(ctx.many[i].msg, sizeof ctx.many[i].msg);
        crypto_sign_detached(ctx.many[i].sig, NULL, ctx.many[i].msg, 32, sk);
        sodium_memzero(sk, sizeof sk);
        ctx.checks[i] = (proto_sigcheck_t){
            .pk = ctx.many[i].pk, .sig = ctx.many[i].sig, .msg = ctx.many[i].msg, .len = 32};
    }

    uint8_t few_sk[FEW_SIGNERS][crypto_sign_SECRETKEYBYTES];
    uint8_t few_pk[FEW_SIGNERS][crypto_sign_PUBLICKEYBYTES];
    for (size_t i = 0; i < FEW_SIGNERS; i++)
        crypto_sign_keypair(few_pk[i], few_sk[i]);
    for (size_t i = 0; i < PROTO_SIGBATCH_CHUNK; i++) {
        memcpy(ctx.few[i].pk, few_pk[i % FEW_SIGNERS], 32);
        randombytes_buf(ctx.few[i].msg, sizeof ctx.few[i].msg);
        crypto_sign_detached(ctx.few[i].sig, NULL, ctx.few[i].msg, 32, few_sk[i % FEW_SIGNERS]);
        ctx.few_checks[i] = (proto_sigcheck_t){
            .pk = ctx.few[i].pk, .sig = ctx.few[i].sig, .msg = ctx.few[i].msg, .len = 32};
    }
    sodium_memzero(few_sk, sizeof few_sk);

    /* the 256-byte group also holds raw sign/verify, so the ratio compares measurements
       taken side by side */
    ctx.keys = proto_sigkeys_new(4 * PROTO_SIGBATCH_CHUNK);
    bool warm[PROTO_SIGBATCH_CHUNK];
    if (!ctx.keys ||
        proto_sig_check_batch(ctx.keys, ctx.checks, PROTO_SIGBATCH_CHUNK, warm) !=
            PROTO_SIGBATCH_CHUNK ||
        proto_sig_check_batch(ctx.keys, ctx.few_checks, PROTO_SIGBATCH_CHUNK, warm) !=
            PROTO_SIGBATCH_CHUNK) {
        fprintf(stderr, "bench_envelope: cannot fill the key table\n");
        return 1;
    }
    if (sig_only) {
        int rc = s_sig_only(&ctx);
        proto_sigkeys_destroy(&ctx.keys);
        sodium_memzero(ctx.raw_sk, sizeof ctx.raw_sk);
        proto_key_destroy(&ctx.key);
        free(body);
        return rc;
    }
    static const bench_fn fns[] = {
        s_seal,      s_decode,      s_verify,           s_open,      s_raw_sign,       s_raw_verify,
        s_check_one, s_check_batch, s_check_batch_keys, s_check_few, s_check_few_small};
    static const char *names[] = {
        "envelope seal",      "envelope decode",       "envelope verify",
        "envelope open",      "raw ed25519 sign",      "raw ed25519 verify",
        "sigbatch check one", "sigbatch check batch",  "sigbatch batch warm keys",
        "sigbatch 4 signers", "sigbatch 4 signers x16"};
    static const double per_call[] = {1,
                                      1,
                                      1,
                                      1,
                                      1,
                                      1,
                                      1,
                                      PROTO_SIGBATCH_CHUNK,
                                      PROTO_SIGBATCH_CHUNK,
                                      PROTO_SIGBATCH_CHUNK,
                                      SMALL_BATCH};
    enum { N_FNS = sizeof fns / sizeof fns[0] };
    double rates[2][N_FNS];
    int failed = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        ctx.body_len = sizes[i];
        if (proto_envelope_seal(ctx.key, PROTO_MSG_GOSSIP, 1, 1700000000000ull, ctx.body,
                                ctx.body_len, &ctx.sealed, &ctx.sealed_len) != PROTO_OK ||
            proto_envelope_decode(ctx.sealed, ctx.sealed_len, &ctx.env) != PROTO_OK) {
            fprintf(stderr, "bench_envelope: cannot seal a %zu-byte body\n", sizes[i]);
            return 1;
        }
        s_rates(&ctx, fns, i == 0 ? N_FNS : 4, rates[i]);
        for (size_t k = 0; k < 4; k++) {
            s_print(names[k], sizes[i], rates[i][k]);
            failed |= rates[i][k] < 0;
        }
        free(ctx.sealed);
        ctx.sealed = NULL;
    }
    _Static_assert(sizeof per_call / sizeof per_call[0] == N_FNS, "one entry per measurement");
    for (size_t k = 7; k < N_FNS; k++)
        if (rates[0][k] > 0)
            rates[0][k] *= per_call[k]; /* per signature */
    for (size_t k = 4; k < N_FNS; k++) {
        s_print(names[k], sizeof ctx.raw_msg, rates[0][k]);
        failed |= rates[0][k] < 0;
    }
    if (rates[0][5] > 0 && rates[0][2] > 0)
        printf("%-24s body=%-6d %12.3f\n", "verify ratio env/raw", 256, rates[0][2] / rates[0][5]);
    if (rates[0][5] > 0 && rates[0][6] > 0)
        printf("%-24s body=%-6d %12.3f\n", "verify ratio one/raw", 32, rates[0][6] / rates[0][5]);
    if (rates[0][5] > 0 && rates[0][7] > 0)
        printf("%-24s body=%-6d %12.3f\n", "verify ratio batch/raw", 32, rates[0][7] / rates[0][5]);

    proto_sigkeys_destroy(&ctx.keys);
    sodium_memzero(ctx.raw_sk, sizeof ctx.raw_sk);
    proto_key_destroy(&ctx.key);
    free(body);
    volatile uint64_t keep = ctx.sink; /* the results were used */
    (void)keep;
    return failed;
}
