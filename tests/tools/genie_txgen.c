/*  genie-txgen: a ledger load generator for the benchmark (tests/bench/bench_ledger_net.py).
 *
 *  Senders are unencrypted account keystore files (--key, repeatable) or N keys derived
 *  from a seed (--senders N --seed HEX: key i has the Ed25519 seed
 *  H("genie/txgen/v1", seed || u32 i)); `--print-senders N --seed HEX` prints those
 *  accounts' ids, one per line, so a benchmark can fund them in genesis.json.
 *
 *  It asks the node whose datadir is --datadir for the chain id ("status") and each
 *  sender's next nonce ("account"), pre-signs --count TRANSFERs of amount 1 (senders
 *  round-robin, nonces consecutive per sender, each to a fresh random account, or to
 *  --to ID) on two threads, then submits them with tx_submit_batch (--batch txs a request,
 *  at most 1,024) over --conns HTTP connections, one thread each, at --rate tx/s in all
 *  (0: as fast as the node takes them), bounded by --seconds. Sender s always goes over
 *  connection s mod C, so each sender's txs arrive in nonce order.
 *
 *  The node refuses a nonce at or beyond committed + 1,024 (mempool nonce window and
 *  per-account cap), so a sender with --window txs submitted but not committed waits:
 *  its connection re-reads the sender's committed nonce ("account") every 10 ms until
 *  the window opens.
 *
 *  A tx refused because the mempool is full is sent again after 20 ms (back-pressure).
 *
 *  Prints one line per second (submitted, accepted, rejected, rate) unless --quiet, and a
 *  summary; with --out FILE writes "TXID SUBMIT_MS" (wall clock, ms since the epoch, the
 *  moment the request holding the tx was posted) for every accepted tx. Exit 0, 3 when
 *  some tx was rejected, 1 on a failure, 2 on a usage error.
 *
 *    genie-txgen --datadir DIR (--key FILE... | --senders N --seed HEX) --count N
 *                [--rate TPS] [--seconds S] [--batch B] [--conns C] [--window W]
 *                [--to ID] [--out FILE] [--quiet] [--dry-run]
 *    (--dry-run prints "TXID HEX" for each pre-signed tx instead of submitting them)
 *    genie-txgen --print-senders N --seed HEX
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_hex.h"
#include "proto/proto_key.h"
#include "proto/proto_keystore.h"

#define MAX_SENDERS 4096
#define MAX_BATCH 1024
#define MAX_CONNS 16
#define SIGN_THREADS 2

typedef struct {
    char *hex; /* signed tx, hex */
    char txid[65];
    int sender;
    uint64_t nonce;
    double submit_ms; /* wall clock; 0: not accepted */
    bool done;        /* accepted or finally rejected (a full mempool is not final) */
} tx_t;

typedef struct {
    proto_key_t *key;
    char id[65];
    uint64_t committed; /* last known committed nonce (read by its connection only) */
    uint64_t base;      /* next_nonce when we started */
} sender_t;

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf_t;

/* Shared, read-only once the connections run (except the atomics and each tx's
 * submit_ms, written only by the connection owning the tx). */
typedef struct {
    tx_t *txs;
    long count;
    sender_t *snd;
    int nsnd;
    uint8_t chain[32];
    const uint8_t *to; /* fixed recipient or NULL */
    char url[160], cookie[256];
    long batch, window;
    int conns;
    double rate, start, deadline;
    atomic_long submitted, accepted, rejected, posts, window_waits, full_waits;
    atomic_llong post_us;
    atomic_int running;   /* connection threads not finished yet */
    pthread_mutex_t lock; /* first_err */
    char first_err[256];
} gen_t;

typedef struct {
    gen_t *g;
    int id;
    long sign_from; /* pre-signing: every SIGN_THREADS-th tx from here */
    int failed;
    pthread_t thread;
} worker_t;

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

/*  Sender I's key derived from SEED. */
static proto_key_t *s_derived_key(const uint8_t seed[static 32], uint32_t i)
{
    uint8_t in[36], ks[PROTO_HASH_LEN];
    memcpy(in, seed, 32);
    in[32] = (uint8_t)(i >> 24);
    in[33] = (uint8_t)(i >> 16);
    in[34] = (uint8_t)(i >> 8);
    in[35] = (uint8_t)i;
    proto_hash("genie/txgen/v1", in, sizeof in, ks);
    proto_key_t *k = proto_key_from_seed(ks);
    sodium_memzero(ks, sizeof ks);
    return k;
}

/* ---- HTTP with libcurl, one handle per connection ---- */

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

typedef struct {
    CURL *curl;
    struct curl_slist *headers;
    sbuf_t resp;
} conn_t;

static int s_conn_open(conn_t *c, const gen_t *g)
{
    memset(c, 0, sizeof *c);
    if (!(c->curl = curl_easy_init()))
        return -1;
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c->curl, CURLOPT_URL, g->url);
    curl_easy_setopt(c->curl, CURLOPT_PROXY, "");
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 60000L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c->curl, CURLOPT_USERPWD, g->cookie);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->resp);
    return 0;
}

static void s_conn_close(conn_t *c)
{
    curl_slist_free_all(c->headers);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->resp.buf);
}

/*  POSTs BODY; returns the JSON-RPC "result" of the answer (new reference) or NULL with
 *  ERR. */
static json_t *s_call(conn_t *c, const char *body, char *err, size_t cap)
{
    c->resp.len = 0;
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    CURLcode rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        snprintf(err, cap, "%s", curl_easy_strerror(rc));
        return NULL;
    }
    json_error_t je;
    json_t *doc = c->resp.len ? json_loadb(c->resp.buf, c->resp.len, 0, &je) : NULL;
    json_t *result = json_incref(json_object_get(doc, "result"));
    if (!result) {
        const char *m =
            json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
        snprintf(err, cap, "%s", m ? m : "unparsable answer");
    }
    json_decref(doc);
    return result;
}

static json_t *s_call_method(conn_t *c, const char *method, const char *params_json, char *err,
                             size_t cap)
{
    char body[512];
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params_json);
    return s_call(c, body, err, cap);
}

/*  Reads sender S's nonce and next_nonce. 0 or -1 with ERR. */
static int s_read_account(conn_t *c, sender_t *s, uint64_t *next, char *err, size_t cap)
{
    char params[96];
    snprintf(params, sizeof params, "{\"id\":\"%s\"}", s->id);
    json_t *acct = s_call_method(c, "account", params, err, cap);
    if (!acct)
        return -1;
    s->committed = (uint64_t)json_integer_value(json_object_get(acct, "nonce"));
    if (next)
        *next = (uint64_t)json_integer_value(json_object_get(acct, "next_nonce"));
    json_decref(acct);
    return 0;
}

/* ---- pre-signing ---- */

static void *s_sign_main(void *arg)
{
    worker_t *w = arg;
    gen_t *g = w->g;
    for (long i = w->sign_from; i < g->count; i += SIGN_THREADS) {
        int s = (int)(i % g->nsnd);
        uint64_t nonce = g->snd[s].base + (uint64_t)(i / g->nsnd);
        uint8_t to[32];
        if (g->to)
            memcpy(to, g->to, 32);
        else
            randombytes_buf(to, sizeof to);
        size_t len = 0;
        uint8_t *b = ledger_contract_transfer_tx(g->snd[s].key, g->chain, nonce, to, 1, &len);
        tx_t *t = &g->txs[i];
        if (!b || !(t->hex = malloc(2 * len + 1))) {
            free(b);
            w->failed = 1;
            return NULL;
        }
        uint8_t id[LEDGER_ID_LEN];
        ledger_tx_id(b, len, id);
        proto_hex_encode(id, 32, t->txid);
        proto_hex_encode(b, len, t->hex);
        free(b);
        t->sender = s;
        t->nonce = nonce;
    }
    return NULL;
}

/* ---- submitting: one thread per connection ---- */

static void s_note_error(gen_t *g, long i, const char *msg)
{
    pthread_mutex_lock(&g->lock);
    if (!g->first_err[0])
        snprintf(g->first_err, sizeof g->first_err, "tx %ld (nonce %" PRIu64 "): %.180s", i,
                 g->txs[i].nonce, msg ? msg : "?");
    pthread_mutex_unlock(&g->lock);
}

/*  Handles the answer to a request holding txs IDX[0..N-1], posted at SUB_MS. Returns how
 *  many were refused because the mempool was full: those are sent again later. */
static long s_take_results(gen_t *g, const long *idx, long n, json_t *res, double sub_ms,
                           const char *err)
{
    json_t *results = json_object_get(res, "results");
    long acc = 0, rej = 0, full = 0;
    for (long k = 0; k < n; k++) {
        json_t *r = json_array_get(results, (size_t)k);
        tx_t *t = &g->txs[idx[k]];
        const char *m = json_string_value(json_object_get(r, "error"));
        if (json_string_value(json_object_get(r, "txid"))) {
            t->submit_ms = sub_ms;
            t->done = true;
            acc++;
        } else if (m && strstr(m, "mempool is full")) {
            full++; /* back-pressure: not done, sent again */
        } else {
            s_note_error(g, idx[k], m ? m : err);
            t->done = true;
            rej++;
        }
    }
    atomic_fetch_add(&g->accepted, acc);
    atomic_fetch_add(&g->rejected, rej);
    atomic_fetch_add(&g->submitted, acc + rej);
    return full;
}

static void *s_conn_main(void *arg)
{
    worker_t *w = arg;
    gen_t *g = w->g;
    conn_t c;
    char err[256];
    long *idx = malloc((size_t)g->batch * sizeof *idx);
    size_t cap = (size_t)g->batch * (2 * 1024 + 4) + 128;
    char *body = malloc(cap);
    if (!idx || !body || s_conn_open(&c, g) != 0) {
        free(idx);
        free(body);
        w->failed = 1;
        atomic_fetch_sub(&g->running, 1);
        return NULL;
    }
    double rate = g->rate / g->conns; /* this connection's share */
    long mine = 0;                    /* txs of this connection handed out so far */
    long next = 0;                    /* scan position in txs */
    while (next < g->count && s_mono_s() < g->deadline) {
        /* skip txs of other connections and txs already done */
        while (next < g->count && (g->txs[next].sender % g->conns != w->id || g->txs[next].done))
            next++;
        if (next >= g->count)
            break;
        long want = g->batch;
        if (rate > 0) { /* tx number MINE of this connection is due at start + mine / rate */
            s_sleep_s(g->start + (double)mine / rate - s_mono_s());
            long due = (long)((s_mono_s() - g->start) * rate) + 1 - mine;
            if (due < want)
                want = due < 1 ? 1 : due;
        }
        long n = 0, scan = next, resume = -1;
        size_t off =
            (size_t)snprintf(body, cap,
                             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx_submit_batch\","
                             "\"params\":{\"txs\":[");
        while (n < want && scan < g->count) {
            tx_t *t = &g->txs[scan];
            if (t->sender % g->conns != w->id || t->done) {
                scan++;
                continue;
            }
            if (t->nonce >= g->snd[t->sender].committed + (uint64_t)g->window) {
                resume = scan; /* this sender is at its window: stop the batch here */
                break;
            }
            size_t hl = strlen(t->hex);
            if (off + hl + 8 > cap)
                break;
            body[off++] = n ? ',' : ' ';
            body[off++] = '"';
            memcpy(body + off, t->hex, hl);
            off += hl;
            body[off++] = '"';
            idx[n++] = scan++;
        }
        snprintf(body + off, cap - off, "]}}");
        if (n == 0) { /* the next tx's sender is at its window: re-read its nonce */
            atomic_fetch_add(&g->window_waits, 1);
            sender_t *s = &g->snd[g->txs[resume >= 0 ? resume : next].sender];
            uint64_t before = s->committed;
            if (s_read_account(&c, s, NULL, err, sizeof err) != 0 || s->committed == before)
                s_sleep_s(0.01);
            continue;
        }
        double sub_ms = s_now_ms(), p0 = s_mono_s();
        json_t *res = s_call(&c, body, err, sizeof err);
        atomic_fetch_add(&g->post_us, (long long)((s_mono_s() - p0) * 1e6));
        atomic_fetch_add(&g->posts, 1);
        long full = 0;
        if (!res && strstr(err, "mempool is full")) {
            full = n; /* refused as a whole before any check: send again */
        } else if (!res) {
            fprintf(stderr, "genie-txgen: conn %d: post failed: %s\n", w->id, err);
            s_note_error(g, idx[0], err);
            for (long k = 0; k < n; k++)
                g->txs[idx[k]].done = true;
            atomic_fetch_add(&g->rejected, n);
            atomic_fetch_add(&g->submitted, n);
        } else {
            full = s_take_results(g, idx, n, res, sub_ms, err);
            json_decref(res);
        }
        mine += n - full;
        if (full) { /* the node's mempool is full: wait for a block, then go on */
            atomic_fetch_add(&g->full_waits, 1);
            s_sleep_s(0.02);
        } else {
            next = idx[n - 1] + 1;
        }
    }
    free(idx);
    free(body);
    s_conn_close(&c);
    atomic_fetch_sub(&g->running, 1);
    return NULL;
}

/* ---- args ---- */

static int s_usage(void)
{
    fprintf(stderr,
            "usage: genie-txgen --datadir DIR (--key FILE... | --senders N --seed HEX) --count N\n"
            "                   [--rate TPS] [--seconds S] [--batch B] [--conns C] [--window W]\n"
            "                   [--to ID] [--out FILE] [--quiet] [--dry-run]\n"
            "       genie-txgen --print-senders N --seed HEX\n");
    return 2;
}

/*  Frees the signed txs and the sender keys, and ends libcurl. */
static void s_gen_free(gen_t *g)
{
    for (long i = 0; i < g->count; i++)
        free(g->txs[i].hex);
    free(g->txs);
    for (int s = 0; s < g->nsnd; s++)
        proto_key_destroy(&g->snd[s].key);
    free(g->snd);
    curl_global_cleanup();
}

/* Parses a whole decimal integer argument; false when S is not one (or out of range). */
static bool s_arg_long(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

/* Parses a whole decimal number argument; false when S is not one. */
static bool s_arg_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    const char *datadir = NULL, *out = NULL, *to_hex = NULL, *seed_hex = NULL;
    const char *keyfiles[64];
    int nkeys = 0, quiet = 0, dry_run = 0;
    long count = 0, batch = 256, window = 1000, senders = 0, print_senders = 0, conns = 2;
    double rate = 0, seconds = 600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quiet") || !strcmp(a, "--dry-run")) {
            *(strcmp(a, "--quiet") == 0 ? &quiet : &dry_run) = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h") || !v) {
            s_usage();
            return strcmp(a, "--help") != 0 && strcmp(a, "-h") != 0 ? 2 : 0;
        }
        i++;
        if (!strcmp(a, "--datadir"))
            datadir = v;
        else if (!strcmp(a, "--key") && nkeys < 64)
            keyfiles[nkeys++] = v;
        else if (!strcmp(a, "--senders")) {
            if (!s_arg_long(v, &senders))
                return s_usage();
        } else if (!strcmp(a, "--print-senders")) {
            if (!s_arg_long(v, &print_senders))
                return s_usage();
        } else if (!strcmp(a, "--seed"))
            seed_hex = v;
        else if (!strcmp(a, "--count")) {
            if (!s_arg_long(v, &count))
                return s_usage();
        } else if (!strcmp(a, "--rate")) {
            if (!s_arg_double(v, &rate))
                return s_usage();
        } else if (!strcmp(a, "--seconds")) {
            if (!s_arg_double(v, &seconds))
                return s_usage();
        } else if (!strcmp(a, "--batch")) {
            if (!s_arg_long(v, &batch))
                return s_usage();
        } else if (!strcmp(a, "--conns")) {
            if (!s_arg_long(v, &conns))
                return s_usage();
        } else if (!strcmp(a, "--window")) {
            if (!s_arg_long(v, &window))
                return s_usage();
        } else if (!strcmp(a, "--to"))
            to_hex = v;
        else if (!strcmp(a, "--out"))
            out = v;
        else
            return s_usage();
    }
    if (sodium_init() < 0)
        return s_die("%s", "libsodium init failed");
    uint8_t seed[32];
    if (seed_hex && (strlen(seed_hex) != 64 || proto_hex_decode(seed_hex, seed, 32) != 0))
        return s_die("--seed wants 64 hex characters, got %s", seed_hex);
    if (print_senders) {
        if (!seed_hex || print_senders < 1 || print_senders > MAX_SENDERS)
            return s_usage();
        for (long i = 0; i < print_senders; i++) {
            proto_key_t *k = s_derived_key(seed, (uint32_t)i);
            char id[65];
            if (!k)
                return s_die("%s", "cannot derive a key");
            proto_hex_encode(proto_key_public(k), 32, id);
            printf("%s\n", id);
            proto_key_destroy(&k);
        }
        return 0;
    }
    if (!datadir || (nkeys == 0) == (senders == 0) || (senders && !seed_hex) || senders < 0 ||
        senders > MAX_SENDERS || count <= 0 || batch < 1 || batch > MAX_BATCH || conns < 1 ||
        conns > MAX_CONNS || window < 1 || window > 1024 || rate < 0 || seconds <= 0)
        return s_usage();
    uint8_t fixed_to[32];
    if (to_hex && (strlen(to_hex) != 64 || proto_hex_decode(to_hex, fixed_to, 32) != 0))
        return s_die("--to wants 64 hex characters, got %s", to_hex);

    static gen_t g; /* large-ish and shared with the threads */
    pthread_mutex_init(&g.lock, NULL);
    g.count = count;
    g.batch = batch;
    g.window = window;
    g.conns = (int)conns;
    g.rate = rate;
    g.to = to_hex ? fixed_to : NULL;
    char path[4096], addr[128];
    snprintf(path, sizeof path, "%s/rpc.addr", datadir);
    if (s_read_file_line(path, addr, sizeof addr) != 0)
        return s_die("cannot read %s", path);
    snprintf(path, sizeof path, "%s/rpc.cookie", datadir);
    if (s_read_file_line(path, g.cookie, sizeof g.cookie) != 0)
        return s_die("cannot read %s", path);
    snprintf(g.url, sizeof g.url, "http://%s/", addr);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    conn_t c0;
    char err[512];
    if (s_conn_open(&c0, &g) != 0)
        return s_die("%s", "cannot start libcurl");
    json_t *st = s_call_method(&c0, "status", "{}", err, sizeof err);
    const char *chain_hex = json_string_value(json_object_get(st, "chain_id"));
    if (!chain_hex || proto_hex_decode(chain_hex, g.chain, 32) != 0)
        return s_die("status: %s", st ? "no chain_id" : err);
    json_decref(st);

    g.nsnd = nkeys ? nkeys : (int)senders;
    g.snd = calloc((size_t)g.nsnd, sizeof *g.snd);
    if (!g.snd)
        return s_die("%s", "out of memory");
    for (int s = 0; s < g.nsnd; s++) {
        if (nkeys) {
            if (proto_keystore_load(keyfiles[s], NULL, &g.snd[s].key, NULL) != PROTO_OK)
                return s_die("cannot load key %s (unencrypted keystore wanted)", keyfiles[s]);
        } else if (!(g.snd[s].key = s_derived_key(seed, (uint32_t)s))) {
            return s_die("%s", "cannot derive a key");
        }
        proto_hex_encode(proto_key_public(g.snd[s].key), 32, g.snd[s].id);
        if (s_read_account(&c0, &g.snd[s], &g.snd[s].base, err, sizeof err) != 0)
            return s_die("account %s: %s", g.snd[s].id, err);
    }
    s_conn_close(&c0);

    /* pre-sign */
    g.txs = calloc((size_t)count, sizeof *g.txs);
    if (!g.txs)
        return s_die("%s", "out of memory");
    double t0 = s_mono_s();
    worker_t signers[SIGN_THREADS] = {0};
    for (int i = 0; i < SIGN_THREADS; i++) {
        signers[i] = (worker_t){.g = &g, .id = i, .sign_from = i};
        if (pthread_create(&signers[i].thread, NULL, s_sign_main, &signers[i]) != 0)
            return s_die("%s", "cannot start a thread");
    }
    for (int i = 0; i < SIGN_THREADS; i++) {
        pthread_join(signers[i].thread, NULL);
        if (signers[i].failed)
            return s_die("%s", "cannot build a transfer");
    }
    double sign_s = s_mono_s() - t0;
    if (dry_run) { /* the signed txs, not submitted */
        for (long i = 0; i < count; i++)
            printf("%s %s\n", g.txs[i].txid, g.txs[i].hex);
        s_gen_free(&g);
        return 0;
    }
    printf("txgen: %ld transfers pre-signed by %d sender(s) in %.2f s (%.0f sign/s, %d threads)\n",
           count, g.nsnd, sign_s, (double)count / (sign_s > 0 ? sign_s : 1e-9), SIGN_THREADS);
    fflush(stdout);

    /* submit */
    g.start = s_mono_s();
    g.deadline = g.start + seconds;
    worker_t ws[MAX_CONNS] = {0};
    atomic_store(&g.running, g.conns);
    for (int i = 0; i < g.conns; i++) {
        ws[i] = (worker_t){.g = &g, .id = i};
        if (pthread_create(&ws[i].thread, NULL, s_conn_main, &ws[i]) != 0)
            return s_die("%s", "cannot start a thread");
    }
    long last_acc = 0;
    double tick = g.start + 1;
    while (atomic_load(&g.running) > 0) { /* the threads stop by --seconds at the latest */
        s_sleep_s(0.05);
        double now = s_mono_s();
        if (now >= tick) {
            long acc = atomic_load(&g.accepted);
            if (!quiet)
                printf("txgen: t=%5.1fs submitted=%ld accepted=%ld rejected=%ld rate=%.0f/s "
                       "window_waits=%ld\n",
                       now - g.start, atomic_load(&g.submitted), acc, atomic_load(&g.rejected),
                       (double)(acc - last_acc) / (now - tick + 1.0), atomic_load(&g.window_waits));
            fflush(stdout);
            last_acc = acc;
            tick = now + 1;
        }
    }
    int failed = 0;
    for (int i = 0; i < g.conns; i++) {
        pthread_join(ws[i].thread, NULL);
        failed |= ws[i].failed;
    }
    double el = s_mono_s() - g.start;
    long submitted = atomic_load(&g.submitted), accepted = atomic_load(&g.accepted);
    long rejected = atomic_load(&g.rejected), posts = atomic_load(&g.posts);
    double post_s = (double)atomic_load(&g.post_us) / 1e6;
    printf("txgen: done: %ld submitted, %ld accepted, %ld rejected in %.2f s = %.0f accepted/s; "
           "%ld posts over %d connections, %.2f ms per post of up to %ld, connections busy "
           "%.1f%% of the time inside RPC; waits: %ld on a full mempool, %ld on a sender's "
           "window%s\n",
           submitted, accepted, rejected, el, (double)accepted / (el > 0 ? el : 1e-9), posts,
           g.conns, posts ? 1e3 * post_s / (double)posts : 0, batch,
           el > 0 ? 100.0 * post_s / (el * g.conns) : 0, atomic_load(&g.full_waits),
           atomic_load(&g.window_waits), submitted < count ? " [stopped by --seconds]" : "");
    if (g.first_err[0])
        printf("txgen: first rejection: %s\n", g.first_err);
    fflush(stdout);
    if (out) {
        FILE *f = fopen(out, "w");
        if (!f)
            return s_die("cannot write %s", out);
        for (long i = 0; i < count; i++)
            if (g.txs[i].submit_ms > 0)
                fprintf(f, "%s %.3f\n", g.txs[i].txid, g.txs[i].submit_ms);
        fclose(f);
    }
    s_gen_free(&g);
    if (failed)
        return s_die("%s", "a connection thread failed");
    return rejected ? 3 : 0;
}
