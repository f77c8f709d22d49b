/*  bench_ledger: ledger throughput on this machine: one million transfers applied and
 *  committed to a LevelDB store, next to the Ed25519 verification rate that bounds it.
 *
 *  Usage: bench_ledger [TOTAL_TXS [TXS_PER_BLOCK]]   (default 1,000,000 and 5,000)
 *
 *  A chain with one authority and SENDERS funded accounts lives in a fresh temporary
 *  directory. For each block, untimed: the senders sign TXS_PER_BLOCK transfers (each
 *  sender a run of consecutive nonces) to accounts drawn from RECEIVERS pseudo-random
 *  ids, and a proposer executes them to get the block's state root and encode it.
 *  Timed, as a validating node does it: (1) ledger_block_execute with signatures trusted
 *  plus ledger_store_commit (one synced LevelDB batch per block) and (2) decoding and
 *  verifying every tx signature of the block. Printed: tx/s for (1), tx/s for (1)+(2),
 *  the tx-signature verification rate, the mempool's cost per tx (3: admitting the block's
 *  txs with ledger_mempool_add_verified before the block, 4: ledger_mempool_update after
 *  its commit, which must leave the pool empty), raw Ed25519 verify/s (libsodium, one thread,
 *  sampled after every block so that it sees the same machine load), per-block
 *  execute+commit latency, resident memory (VmHWM, and the anonymous / file-backed
 *  split at the end: LevelDB maps its table files) and the
 *  database size on disk after the run (store closed). Build Release for meaningful
 *  numbers.
 */
#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "proto/proto_key.h"

#define SENDERS 100
#define RECEIVERS 100000
#define SENDER_BALANCE 1000000000000ull

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static uint64_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* A "Name:   123 kB" line of /proc/self/status, in KiB (-1 if absent). */
static long s_status_kib(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t n = strlen(name);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, name, n) == 0 && line[n] == ':')
            kib = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return kib;
}

static uint64_t s_dir_bytes(const char *dir)
{
    uint64_t total = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4096];
    while (d && (de = readdir(d)) != NULL) {
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    }
    if (d)
        closedir(d);
    return total;
}

static void s_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[4096];
    while (d && (de = readdir(d)) != NULL) {
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (de->d_name[0] != '.')
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t msg[32];
    uint8_t sig[crypto_sign_BYTES];
} s_raw_t;

static void s_raw_init(s_raw_t *r)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(r->pk, sk);
    memset(r->msg, 1, sizeof r->msg);
    crypto_sign_detached(r->sig, NULL, r->msg, sizeof r->msg, sk);
    sodium_memzero(sk, sizeof sk);
}

/* Times N raw libsodium verifications (seconds), or -1 if one failed. */
static double s_raw_verify(const s_raw_t *r, size_t n)
{
    size_t ok = 0;
    double start = s_now();
    for (size_t i = 0; i < n; i++)
        ok += crypto_sign_verify_detached(r->sig, r->msg, sizeof r->msg, r->pk) == 0;
    return ok == n ? s_now() - start : -1;
}

static void s_loadavg(char *out, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f || !fgets(out, (int)cap, f))
        snprintf(out, cap, "?\n");
    if (f)
        fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

int main(int argc, char **argv)
{
    size_t total = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    size_t per_block = argc > 2 ? strtoul(argv[2], NULL, 10) : 5000;
    if (total == 0 || per_block == 0 || per_block > LEDGER_BLOCK_MAX_TXS ||
        proto_crypto_init() != 0) {
        fprintf(stderr, "usage: %s [TOTAL_TXS [TXS_PER_BLOCK <= %d]]\n", argv[0],
                LEDGER_BLOCK_MAX_TXS);
        return 1;
    }
    char dir[] = "/tmp/genie-bench-ledger-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }

    /* chain: one authority, SENDERS funded accounts */
    proto_key_t *auth = proto_key_generate();
    proto_key_t *senders[SENDERS];
    uint64_t nonces[SENDERS] = {0};
    ledger_balance_t bal[SENDERS];
    for (int i = 0; i < SENDERS; i++) {
        senders[i] = proto_key_generate();
        memcpy(bal[i].account, proto_key_public(senders[i]), 32);
        bal[i].amount = SENDER_BALANCE;
    }
    uint8_t(*receivers)[32] = malloc((size_t)RECEIVERS * 32);
    for (size_t i = 0; i < RECEIVERS; i++)
        for (int k = 0; k < 4; k++) {
            uint64_t r = s_rand();
            memcpy(receivers[i] + 8 * k, &r, 8);
        }
    uint8_t auth_key[1][32];
    memcpy(auth_key[0], proto_key_public(auth), 32);
    ledger_genesis_params_t p = {.chain_name = "bench",
                                 .block_interval_ms = 1000,
                                 .heartbeat_ms = 10000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = 1};
    memcpy(p.attestation_service, auth_key[0], 32);
    ledger_genesis_t *g = NULL;
    ledger_store_t *store = NULL;
    char err[256];
    if (ledger_genesis_new(&p, (const uint8_t(*)[32])auth_key, 1, bal, SENDERS, &g, err,
                           sizeof err) != LEDGER_OK ||
        ledger_store_open(dir, &store, err, sizeof err) != LEDGER_OK ||
        ledger_genesis_apply(g, store) != LEDGER_OK) {
        fprintf(stderr, "setup failed: %s\n", err);
        return 1;
    }
    const uint8_t *chain = ledger_genesis_chain_id(g);
    s_raw_t raw_sig;
    s_raw_init(&raw_sig);
    double t_raw = 0;
    size_t n_raw = 0;
    char load_start[128], load_end[128];
    s_loadavg(load_start, sizeof load_start);

    size_t n_blocks = (total + per_block - 1) / per_block;
    uint8_t **txs = calloc(per_block, sizeof *txs);
    size_t *lens = calloc(per_block, sizeof *lens);
    uint8_t(*ids)[32] = malloc(per_block * 32);
    double *commit_lat = calloc(n_blocks, sizeof *commit_lat);
    double t_exec = 0, t_commit = 0, t_verify = 0, t_setup = 0, t_pool_add = 0, t_pool_upd = 0;
    ledger_mempool_limits_t lim = {.max_txs = per_block, .max_bytes = 64u << 20};
    ledger_mempool_t *pool = ledger_mempool_new(store, &lim);
    if (!pool)
        return 1;
    size_t done = 0, bytes_total = 0;
    int failed = 0;
    for (size_t blk = 0; blk < n_blocks && !failed; blk++) {
        size_t n = total - done < per_block ? total - done : per_block;
        double t0 = s_now();
        /* untimed: sign the txs, execute them as the proposer, encode the block */
        ledger_head_t head;
        if (ledger_store_head(store, &head) != LEDGER_OK)
            return 1;
        ledger_state_t *prop = ledger_state_new(store);
        for (size_t i = 0; i < n; i++) {
            size_t s = (i * SENDERS) / n; /* contiguous runs per sender: nonce order */
            txs[i] = ledger_contract_transfer_tx(senders[s], chain, nonces[s]++,
                                                 receivers[s_rand() % RECEIVERS],
                                                 1 + s_rand() % 1000, &lens[i]);
            ledger_tx_t tx;
            char why[LEDGER_ERR_MAX] = "";
            if (!txs[i] || ledger_tx_decode(txs[i], lens[i], &tx) != PROTO_OK ||
                ledger_state_apply_tx(prop, &tx, why, sizeof why) != LEDGER_OK) {
                fprintf(stderr, "tx %zu of block %zu failed\n", i, blk + 1);
                return 1;
            }
            ledger_tx_id(txs[i], lens[i], ids[i]);
        }
        ledger_header_t h = {.height = head.height + 1, .time_ms = head.time_ms + 1000};
        memcpy(h.chain_id, chain, 32);
        memcpy(h.prev_hash, head.hash, 32);
        memcpy(h.proposer, auth_key[0], 32);
        ledger_block_tx_root((const uint8_t(*)[32])ids, n, h.tx_root);
        if (ledger_state_end_block(prop) != LEDGER_OK ||
            ledger_state_finish(prop, head.state_root, h.state_root) != LEDGER_OK)
            return 1;
        ledger_state_destroy(&prop);
        size_t blen;
        uint8_t *block = ledger_block_encode(&h, (const uint8_t *const *)txs, lens, n, &blen);
        if (!block)
            return 1;
        bytes_total += blen;
        double t1 = s_now();
        t_setup += t1 - t0;

        /* timed (3): the block's txs enter a mempool (their signatures taken as checked) */
        for (size_t i = 0; i < n && !failed; i++) {
            char pwhy[LEDGER_ERR_MAX] = "";
            if (ledger_mempool_add_verified(pool, txs[i], lens[i], NULL, pwhy, sizeof pwhy) !=
                LEDGER_OK) {
                fprintf(stderr, "mempool refused tx %zu of block %zu: %s\n", i, blk + 1, pwhy);
                failed = 1;
            }
        }
        double t1p = s_now();
        t_pool_add += t1p - t1;
        t1 = t1p;

        /* timed (1): execute without signatures, commit */
        ledger_state_t *st = NULL;
        char why[LEDGER_ERR_MAX] = "";
        long why_tx = -1;
        int rc = ledger_block_execute(store, block, blen, NULL, LEDGER_EXEC_TRUST_SIGS, &st,
                                      &why_tx, why, sizeof why);
        double t2 = s_now();
        if (rc != LEDGER_OK) {
            fprintf(stderr, "block %zu refused: %s (%s, tx %ld)\n", blk + 1, proto_err_str(rc), why,
                    why_tx);
            failed = 1;
        } else if (ledger_store_commit(store, block, blen, (const uint8_t *)"bench-cert", 10, st) !=
                   LEDGER_OK) {
            fprintf(stderr, "commit %zu failed\n", blk + 1);
            failed = 1;
        }
        double t3 = s_now();
        ledger_state_destroy(&st);
        /* timed (4): the mempool after the commit: every tx of the block leaves */
        if (!failed && (ledger_mempool_update(pool, block, blen) != LEDGER_OK ||
                        ledger_mempool_count(pool) != 0)) {
            fprintf(stderr, "mempool update after block %zu failed\n", blk + 1);
            failed = 1;
        }
        double t3p = s_now();
        t_pool_upd += t3p - t3;
        /* timed (2): verify every signature as a validator would */
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            ledger_tx_t tx;
            if (ledger_tx_decode(txs[i], lens[i], &tx) != PROTO_OK || !ledger_tx_verify_sig(&tx))
                bad++;
        }
        double t4 = s_now();
        /* raw Ed25519 on the same load: a tenth as many, right after */
        double tr = s_raw_verify(&raw_sig, n / 10 + 1);
        if (tr < 0)
            bad++;
        t_raw += tr;
        n_raw += n / 10 + 1;
        if (bad) {
            fprintf(stderr, "%zu signatures failed\n", bad);
            failed = 1;
        }
        t_exec += t2 - t1;
        t_commit += t3 - t2;
        t_verify += t4 - t3p;
        commit_lat[blk] = (t3 - t1) * 1000;
        for (size_t i = 0; i < n; i++)
            free(txs[i]);
        free(block);
        done += n;
    }
    double raw = (double)n_raw / t_raw;
    s_loadavg(load_end, sizeof load_end);
    ledger_mempool_destroy(&pool);
    ledger_head_t head;
    int hrc = ledger_store_head(store, &head);
    long hwm = s_status_kib("VmHWM"), anon = s_status_kib("RssAnon"),
         file = s_status_kib("RssFile");
    ledger_store_destroy(&store);
    uint64_t disk = s_dir_bytes(dir);
    if (failed || hrc != LEDGER_OK)
        return 1;

    qsort(commit_lat, n_blocks, sizeof *commit_lat, s_cmp_double);
    double ac = t_exec + t_commit;
    printf("bench_ledger: %zu transfers in %zu blocks of %zu (%d senders, %d receivers), "
           "head %llu, %.1f MiB of blocks\n",
           done, n_blocks, per_block, SENDERS, RECEIVERS, (unsigned long long)head.height,
           (double)bytes_total / (1 << 20));
    printf("  apply+commit, no sig verify : %10.0f tx/s  (execute %.2f s, commit %.2f s)\n",
           (double)done / ac, t_exec, t_commit);
    printf("  with sig verification       : %10.0f tx/s  (verify %.2f s = %.0f tx sigs/s)\n",
           (double)done / (ac + t_verify), t_verify, (double)done / t_verify);
    printf("  mempool add (sigs trusted)  : %10.0f tx/s  (%.3f ms per block)\n",
           (double)done / t_pool_add, t_pool_add * 1000 / (double)n_blocks);
    printf("  mempool update after commit : %10.0f tx/s  (%.3f ms per block)\n",
           (double)done / t_pool_upd, t_pool_upd * 1000 / (double)n_blocks);
    printf("  ed25519 verify, raw, 1 core : %10.0f /s  (libsodium, sampled after each block)\n",
           raw);
    printf("  block execute+commit (ms)   : p50 %.1f  p99 %.1f  max %.1f\n",
           commit_lat[n_blocks / 2], commit_lat[(n_blocks * 99) / 100], commit_lat[n_blocks - 1]);
    printf("  resident memory (VmHWM)     : %10.1f MiB  (at the end: anonymous %.1f MiB, "
           "file-backed %.1f MiB incl. LevelDB's mmapped tables)\n",
           (double)hwm / 1024, (double)anon / 1024, (double)file / 1024);
    printf("  database on disk            : %10.1f MiB\n", (double)disk / (1 << 20));
    printf("  (untimed signing and proposing: %.1f s; load average at start %s, at end %s)\n",
           t_setup, load_start, load_end);

    s_rmdir(dir);
    free(commit_lat);
    free(ids);
    free(lens);
    free(txs);
    free(receivers);
    ledger_genesis_destroy(&g);
    for (int i = 0; i < SENDERS; i++)
        proto_key_destroy(&senders[i]);
    proto_key_destroy(&auth);
    return 0;
}
