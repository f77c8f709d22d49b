/*  bench_crypto_rate: this machine's libsodium encryption rates, the yardstick next to
 *  which the data owner's timings (tests/bench/bench_donate.py) are read.
 *
 *  For a 1 MB (1,000,000-byte) message it measures, in MB/s (10^6 bytes per second):
 *    secretstream_push  crypto_secretstream_xchacha20poly1305 encryption in 64 KiB chunks
 *                       (the store's blob format, enclave_blob: init_push, one push per
 *                       chunk, the last tagged FINAL)
 *    secretstream_pull  the matching decryption (init_pull, one pull per chunk)
 *    box_seal           crypto_box_seal of the whole message to a Curve25519 key (what a
 *                       sealed upload to an enclave costs)
 *    box_seal_open      crypto_box_seal_open of it
 *  Each runs in three slices of about 0.3 s of CLOCK_MONOTONIC (bounded iteration count);
 *  the best slice is reported. Output: one line per measurement, "NAME RATE MB/s", or with
 *  --json one JSON object {"NAME": RATE, ...} (what the python bench reads).
 *  Build without sanitizers (Release) for meaningful numbers. No pass/fail.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RATE_MSG_BYTES 1000000u
#define RATE_CHUNK (64u * 1024u)
#define RATE_SLICES 3
#define RATE_SLICE_S 0.3
#define RATE_MAX_ITERS 100000u

typedef struct {
    uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
    uint8_t pk[crypto_box_PUBLICKEYBYTES];
    uint8_t sk[crypto_box_SECRETKEYBYTES];
    uint8_t *msg;    /* RATE_MSG_BYTES */
    uint8_t *stream; /* header + chunks: the secretstream ciphertext */
    size_t stream_len;
    uint8_t *sealed; /* crypto_box_seal of msg */
    uint8_t *plain;  /* decryption target */
} rate_ctx_t;

typedef int (*rate_fn)(rate_ctx_t *c);

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t s_stream_cap(void)
{
    size_t chunks = (RATE_MSG_BYTES + RATE_CHUNK - 1) / RATE_CHUNK;
    return crypto_secretstream_xchacha20poly1305_HEADERBYTES + RATE_MSG_BYTES +
           chunks * crypto_secretstream_xchacha20poly1305_ABYTES;
}

static int s_push(rate_ctx_t *c)
{
    crypto_secretstream_xchacha20poly1305_state st;
    uint8_t *out = c->stream;
    if (crypto_secretstream_xchacha20poly1305_init_push(&st, out, c->key) != 0)
        return -1;
    out += crypto_secretstream_xchacha20poly1305_HEADERBYTES;
    for (size_t off = 0; off < RATE_MSG_BYTES; off += RATE_CHUNK) {
        size_t n = RATE_MSG_BYTES - off < RATE_CHUNK ? RATE_MSG_BYTES - off : RATE_CHUNK;
        uint8_t tag =
            off + n == RATE_MSG_BYTES ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0;
        unsigned long long clen = 0;
        if (crypto_secretstream_xchacha20poly1305_push(&st, out, &clen, c->msg + off, n, NULL, 0,
                                                       tag) != 0)
            return -1;
        out += clen;
    }
    c->stream_len = (size_t)(out - c->stream);
    sodium_memzero(&st, sizeof st);
    return 0;
}

static int s_pull(rate_ctx_t *c)
{
    crypto_secretstream_xchacha20poly1305_state st;
    const uint8_t *in = c->stream;
    const uint8_t *end = c->stream + c->stream_len;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&st, in, c->key) != 0)
        return -1;
    in += crypto_secretstream_xchacha20poly1305_HEADERBYTES;
    size_t got = 0;
    uint8_t tag = 0;
    while (in < end && tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
        size_t clen = RATE_CHUNK + crypto_secretstream_xchacha20poly1305_ABYTES;
        if ((size_t)(end - in) < clen)
            clen = (size_t)(end - in);
        unsigned long long mlen = 0;
        if (crypto_secretstream_xchacha20poly1305_pull(&st, c->plain + got, &mlen, &tag, in, clen,
                                                       NULL, 0) != 0)
            return -1;
        got += (size_t)mlen;
        in += clen;
    }
    sodium_memzero(&st, sizeof st);
    return got == RATE_MSG_BYTES && tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL ? 0 : -1;
}

static int s_seal(rate_ctx_t *c)
{
    return crypto_box_seal(c->sealed, c->msg, RATE_MSG_BYTES, c->pk);
}

static int s_seal_open(rate_ctx_t *c)
{
    return crypto_box_seal_open(c->plain, c->sealed, RATE_MSG_BYTES + crypto_box_SEALBYTES, c->pk,
                                c->sk);
}

/* The best of RATE_SLICES slices of FN, in MB/s; negative when FN failed. */
static double s_rate(rate_ctx_t *c, rate_fn fn)
{
    double best = 0.0;
    for (int s = 0; s < RATE_SLICES; s++) {
        double t0 = s_now(), t = t0;
        unsigned iters = 0;
        while (iters < RATE_MAX_ITERS && t - t0 < RATE_SLICE_S) {
            if (fn(c) != 0)
                return -1.0;
            iters++;
            t = s_now();
        }
        double mbps = (double)iters * RATE_MSG_BYTES / 1e6 / (t - t0);
        if (mbps > best)
            best = mbps;
    }
    return best;
}

int main(int argc, char **argv)
{
    bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: bench_crypto_rate [--json]\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "bench_crypto_rate: sodium_init failed\n");
        return 1;
    }
    int ret = 1;
    rate_ctx_t c;
    memset(&c, 0, sizeof c);
    c.msg = malloc(RATE_MSG_BYTES);
    c.plain = malloc(RATE_MSG_BYTES);
    c.stream = malloc(s_stream_cap());
    c.sealed = malloc(RATE_MSG_BYTES + crypto_box_SEALBYTES);
    if (!c.msg || !c.plain || !c.stream || !c.sealed) {
        fprintf(stderr, "bench_crypto_rate: out of memory\n");
        goto out;
    }
    randombytes_buf(c.msg, RATE_MSG_BYTES);
    crypto_secretstream_xchacha20poly1305_keygen(c.key);
    crypto_box_keypair(c.pk, c.sk);
    /* the decryptions need one ciphertext of each kind first */
    if (s_push(&c) != 0 || s_seal(&c) != 0) {
        fprintf(stderr, "bench_crypto_rate: encryption failed\n");
        goto out;
    }
    static const struct {
        const char *name;
        rate_fn fn;
    } runs[] = {{"secretstream_push", s_push},
                {"secretstream_pull", s_pull},
                {"box_seal", s_seal},
                {"box_seal_open", s_seal_open}};
    double rates[sizeof runs / sizeof runs[0]];
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        rates[i] = s_rate(&c, runs[i].fn);
        if (rates[i] < 0) {
            fprintf(stderr, "bench_crypto_rate: %s failed\n", runs[i].name);
            goto out;
        }
    }
    if (json)
        printf("{");
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        if (json)
            printf("%s\"%s\": %.1f", i ? ", " : "", runs[i].name, rates[i]);
        else
            printf("%-18s %9.1f MB/s (1 MB messages%s)\n", runs[i].name, rates[i],
                   strncmp(runs[i].name, "secretstream", 12) == 0 ? ", 64 KiB chunks" : "");
    }
    if (json)
        printf("}\n");
    ret = 0;
out:
    sodium_memzero(c.key, sizeof c.key);
    sodium_memzero(c.sk, sizeof c.sk);
    free(c.msg);
    free(c.plain);
    free(c.stream);
    free(c.sealed);
    return ret;
}
