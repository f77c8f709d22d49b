/*  genie-txgen: a ledger load generator for the benchmark (tests/bench/bench_ledger_net.py).
 *
 *  Loads one or more unencrypted account keystore files (--key, repeatable), asks the node
 *  whose datadir is --datadir for the chain id ("status") and each sender's next nonce
 *  ("account"), pre-signs --count TRANSFERs of amount 1 (senders taken round-robin, nonces
 *  consecutive per sender, to a fresh random account each, or to --to ID), then submits
 *  them as JSON-RPC batches of tx_submit (--batch, at most 32: the node's batch limit) at
 *  --rate tx/s (0: as fast as the node takes them), bounded by --seconds.
 *
 *  The node refuses a nonce at or beyond committed + 1,024 (mempool nonce window and
 *  per-account cap), so a sender with --window txs submitted but not committed waits:
 *  txgen re-reads its committed nonce ("account") every few ms until the window opens.
 *
 *  Prints one line per second (submitted, accepted, rejected, rate, waits on the window)
 *  and a summary; with --out FILE writes "TXID SUBMIT_MS" (wall clock, ms since the epoch,
 *  the moment the batch holding the tx was posted) for every accepted tx.
 *
 *    genie-txgen --datadir DIR --key FILE [--key FILE...] --count N [--rate TPS]
 *                [--seconds S] [--batch B] [--window W] [--to ID] [--out FILE]
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_tx.h"
#include "node/node_rpc_client.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_keystore.h"

#define MAX_SENDERS 64
#define MAX_BATCH 32

typedef struct {
    char *hex;          /* signed tx, hex */
    char txid[65];
    int sender;
    uint64_t nonce;
    double submit_ms;   /* wall clock; 0: not accepted */
} tx_t;

typedef struct {
    proto_key_t *key;
    char id[65];
    uint64_t committed; /* last known committed nonce */
    uint64_t base;      /* next_nonce when we started */
} sender_t;

static double s_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static double s_mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void s_sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

__attribute__((format(printf, 1, 2))) static int s_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "genie-txgen: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int s_read_file_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, (int)cap, f)) {
        fclose(f);
        return -1;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/* ---- raw batch POST with libcurl (node_rpc_client does single calls only) ---- */

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf_t;

static size_t s_write_cb(char *p, size_t sz, size_t n, void *ud)
{
    sbuf_t *b = ud;
    size_t add = sz * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = (b->len + add + 1) * 2;
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return 0;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, add);
    b->len += add;
    b->buf[b->len] = '\0';
    return add;
}

static CURL *g_curl;
static struct curl_slist *g_headers;
static sbuf_t g_resp;

static json_t *s_post(const char *body, char *err, size_t cap)
{
    g_resp.len = 0;
    curl_easy_setopt(g_curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(g_curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    CURLcode rc = curl_easy_perform(g_curl);
    if (rc != CURLE_OK) {
        snprintf(err, cap, "%s", curl_easy_strerror(rc));
        return NULL;
    }
    json_error_t je;
    json_t *doc = g_resp.len ? json_loadb(g_resp.buf, g_resp.len, 0, &je) : NULL;
    if (!doc)
        snprintf(err, cap, "unparsable answer");
    return doc;
}

/* ---- args ---- */

static void s_usage(void)
{
    fprintf(stderr,
            "usage: genie-txgen --datadir DIR --key FILE [--key FILE...] --count N\n"
            "                   [--rate TPS] [--seconds S] [--batch B] [--window W]\n"
            "                   [--to ID] [--out FILE] [--quiet]\n");
}

int main(int argc, char **argv)
{
    const char *datadir = NULL, *out = NULL, *to_hex = NULL;
    const char *keyfiles[MAX_SENDERS];
    int nkeys = 0, quiet = 0;
    long count = 0, batch = MAX_BATCH, window = 1000;
    double rate = 0, seconds = 600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quiet")) {
            quiet = 1;
            continue;
        }
        if (!v) {
            s_usage();
            return 2;
        }
        i++;
        if (!strcmp(a, "--datadir"))
            datadir = v;
        else if (!strcmp(a, "--key") && nkeys < MAX_SENDERS)
            keyfiles[nkeys++] = v;
        else if (!strcmp(a, "--count"))
            count = atol(v);
        else if (!strcmp(a, "--rate"))
            rate = atof(v);
        else if (!strcmp(a, "--seconds"))
            seconds = atof(v);
        else if (!strcmp(a, "--batch"))
            batch = atol(v);
        else if (!strcmp(a, "--window"))
            window = atol(v);
        else if (!strcmp(a, "--to"))
            to_hex = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else {
            s_usage();
            return 2;
        }
    }
    if (!datadir || nkeys == 0 || count <= 0 || batch < 1 || batch > MAX_BATCH || window < 1 ||
        window > 1024 || rate < 0 || seconds <= 0) {
        s_usage();
        return 2;
    }
    if (sodium_init() < 0)
        return s_die("%s", "libsodium init failed");
    uint8_t fixed_to[32];
    if (to_hex && (strlen(to_hex) != 64 || proto_hex_decode(to_hex, fixed_to, 32) != 0))
        return s_die("--to wants 64 hex characters, got %s", to_hex);

    char err[512];
    node_rpc_client_t *cli = node_rpc_client_from_datadir(datadir, err, sizeof err);
    if (!cli)
        return s_die("%s", err);
    json_t *st = NULL;
    if (node_rpc_client_call(cli, "status", NULL, 0, &st, err, sizeof err) != 0)
        return s_die("status: %s", err);
    uint8_t chain[32];
    const char *chain_hex = json_string_value(json_object_get(st, "chain_id"));
    if (!chain_hex || proto_hex_decode(chain_hex, chain, 32) != 0)
        return s_die("%s", "status: no chain_id");
    json_decref(st);

    sender_t *snd = calloc((size_t)nkeys, sizeof *snd);
    for (int s = 0; s < nkeys; s++) {
        int ks = proto_keystore_load(keyfiles[s], NULL, &snd[s].key, NULL);
        if (ks != PROTO_KS_OK)
            return s_die("cannot load key %s (unencrypted keystore wanted)", keyfiles[s]);
        proto_hex_encode(proto_key_public(snd[s].key), 32, snd[s].id);
        json_t *acct = NULL;
        if (node_rpc_client_call(cli, "account", json_pack("{s:s}", "id", snd[s].id), 0, &acct,
                                 err, sizeof err) != 0)
            return s_die("account: %s", err);
        snd[s].base = (uint64_t)json_integer_value(json_object_get(acct, "next_nonce"));
        snd[s].committed = (uint64_t)json_integer_value(json_object_get(acct, "nonce"));
        json_decref(acct);
    }

    /* pre-sign */
    tx_t *txs = calloc((size_t)count, sizeof *txs);
    if (!txs)
        return s_die("%s", "out of memory");
    double t0 = s_mono_s();
    for (long i = 0; i < count; i++) {
        int s = (int)(i % nkeys);
        uint64_t nonce = snd[s].base + (uint64_t)(i / nkeys);
        uint8_t to[32];
        if (to_hex)
            memcpy(to, fixed_to, 32);
        else
            randombytes_buf(to, sizeof to);
        size_t len = 0;
        uint8_t *b = ledger_contract_transfer_tx(snd[s].key, chain, nonce, to, 1, &len);
        if (!b)
            return s_die("%s", "cannot build a transfer");
        uint8_t id[LEDGER_ID_LEN];
        ledger_tx_id(b, len, id);
        proto_hex_encode(id, 32, txs[i].txid);
        txs[i].hex = malloc(2 * len + 1);
        proto_hex_encode(b, len, txs[i].hex);
        free(b);
        txs[i].sender = s;
        txs[i].nonce = nonce;
    }
    double sign_s = s_mono_s() - t0;
    printf("txgen: %ld transfers pre-signed by %d sender(s) in %.2f s (%.0f sign/s)\n", count,
           nkeys, sign_s, count / (sign_s > 0 ? sign_s : 1e-9));
    fflush(stdout);

    /* batch connection */
    char addr[128], cookie[256], path[4096], url[160];
    snprintf(path, sizeof path, "%s/rpc.addr", datadir);
    if (s_read_file_line(path, addr, sizeof addr) != 0)
        return s_die("cannot read %s", path);
    snprintf(path, sizeof path, "%s/rpc.cookie", datadir);
    if (s_read_file_line(path, cookie, sizeof cookie) != 0)
        return s_die("cannot read %s", path);
    snprintf(url, sizeof url, "http://%s/", addr);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_curl = curl_easy_init();
    g_headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(g_curl, CURLOPT_URL, url);
    curl_easy_setopt(g_curl, CURLOPT_PROXY, "");
    curl_easy_setopt(g_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(g_curl, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(g_curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(g_curl, CURLOPT_USERPWD, cookie);
    curl_easy_setopt(g_curl, CURLOPT_HTTPHEADER, g_headers);
    curl_easy_setopt(g_curl, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(g_curl, CURLOPT_WRITEDATA, &g_resp);

    /* submit */
    long next = 0, accepted = 0, rejected = 0, window_waits = 0, posts = 0;
    long last_acc = 0, last_sub = 0;
    double post_s = 0;
    char first_err[256] = "";
    double start = s_mono_s(), deadline = start + seconds, tick = start + 1;
    size_t cap = (size_t)batch * 1200 + 64;
    char *body = malloc(cap);
    while (next < count && s_mono_s() < deadline) {
        /* pacing: tx number NEXT is due at start + next / rate */
        if (rate > 0) {
            double due = start + (double)next / rate;
            s_sleep_s(due - s_mono_s());
        }
        long n = 0;
        size_t off = 0;
        off += (size_t)snprintf(body + off, cap - off, "[");
        long want = batch;
        if (rate > 0) { /* never run more than one batch ahead of the schedule */
            long due_n = (long)((s_mono_s() - start) * rate) + 1 - next;
            if (due_n < want)
                want = due_n < 1 ? 1 : due_n;
        }
        while (n < want && next + n < count) {
            tx_t *t = &txs[next + n];
            sender_t *s = &snd[t->sender];
            if (t->nonce >= s->committed + (uint64_t)window)
                break;
            off += (size_t)snprintf(body + off, cap - off,
                                    "%s{\"jsonrpc\":\"2.0\",\"id\":%ld,\"method\":\"tx_submit\","
                                    "\"params\":{\"tx\":\"%s\"}}",
                                    n ? "," : "", next + n, t->hex);
            n++;
        }
        snprintf(body + off, cap - off, "]");
        if (n == 0) { /* the head tx's sender is at its window: re-read its nonce */
            window_waits++;
            sender_t *s = &snd[txs[next].sender];
            json_t *acct = NULL;
            if (node_rpc_client_call(cli, "account", json_pack("{s:s}", "id", s->id), 0, &acct,
                                     err, sizeof err) == 0) {
                s->committed = (uint64_t)json_integer_value(json_object_get(acct, "nonce"));
                json_decref(acct);
            }
            if (txs[next].nonce >= s->committed + (uint64_t)window)
                s_sleep_s(0.01);
            continue;
        }
        double sub_ms = s_now_ms(), p0 = s_mono_s();
        json_t *resp = s_post(body, err, sizeof err);
        post_s += s_mono_s() - p0;
        posts++;
        if (!resp || !json_is_array(resp)) {
            fprintf(stderr, "genie-txgen: batch post failed: %s\n", resp ? "not a batch" : err);
            json_decref(resp);
            rejected += n;
            next += n;
            continue;
        }
        size_t k;
        json_t *el;
        json_array_foreach(resp, k, el)
        {
            long id = (long)json_integer_value(json_object_get(el, "id"));
            if (id < next || id >= next + n)
                continue;
            if (json_object_get(el, "result")) {
                txs[id].submit_ms = sub_ms;
                accepted++;
            } else {
                rejected++;
                if (!first_err[0]) {
                    json_t *e = json_object_get(el, "error");
                    snprintf(first_err, sizeof first_err, "tx %ld (nonce %" PRIu64 "): %s", id,
                             txs[id].nonce,
                             json_string_value(json_object_get(e, "message"))
                                 ? json_string_value(json_object_get(e, "message"))
                                 : "?");
                }
            }
        }
        json_decref(resp);
        next += n;
        double now = s_mono_s();
        if (now >= tick) {
            if (!quiet)
                printf("txgen: t=%5.1fs submitted=%ld accepted=%ld rejected=%ld "
                       "rate=%.0f/s window_waits=%ld\n",
                       now - start, next, accepted, rejected,
                       (double)(accepted - last_acc) / (now - tick + 1.0), window_waits);
            fflush(stdout);
            (void)last_sub;
            last_acc = accepted;
            last_sub = next;
            tick = now + 1;
        }
    }
    double el = s_mono_s() - start;
    printf("txgen: done: %ld submitted, %ld accepted, %ld rejected in %.2f s = %.0f accepted/s; "
           "%ld posts, %.1f%% of the time inside RPC (%.2f ms per post of up to %ld)%s\n",
           next, accepted, rejected, el, accepted / (el > 0 ? el : 1e-9), posts,
           el > 0 ? 100.0 * post_s / el : 0, posts ? 1e3 * post_s / (double)posts : 0, batch,
           next < count ? " [stopped by --seconds]" : "");
    if (first_err[0])
        printf("txgen: first rejection: %s\n", first_err);
    fflush(stdout);
    if (out) {
        FILE *f = fopen(out, "w");
        if (!f)
            return s_die("cannot write %s", out);
        for (long i = 0; i < count; i++)
            if (txs[i].submit_ms > 0)
                fprintf(f, "%s %.3f\n", txs[i].txid, txs[i].submit_ms);
        fclose(f);
    }
    for (long i = 0; i < count; i++)
        free(txs[i].hex);
    free(txs);
    free(body);
    for (int s = 0; s < nkeys; s++)
        proto_key_destroy(&snd[s].key);
    free(snd);
    curl_slist_free_all(g_headers);
    curl_easy_cleanup(g_curl);
    free(g_resp.buf);
    node_rpc_client_destroy(&cli);
    return rejected ? 3 : 0;
}
