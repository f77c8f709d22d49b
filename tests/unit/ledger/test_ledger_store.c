/*  test_ledger_store: commits, reads and reopen; misuse refused; state roots chained
 *  identically on two stores and differently for another tx order; a corrupted head is
 *  detected on open; and crashes: a child process committing blocks in a loop is killed
 *  with SIGKILL at a random moment, several times, and the database must reopen
 *  consistent every time (head block readable and matching the stored root, every block
 *  up to the head readable and linked, balances conserved, nonces matching the blocks).
 */
#include <dirent.h>
#include <leveldb/c.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "proto/proto_key.h"
#include "testutil.h"

#define N_RICH 8
#define RICH_BALANCE 1000000u
#define CRASH_ROUNDS 10

static proto_key_t *s_key(uint8_t seed_byte)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, seed_byte, sizeof seed);
    return proto_key_from_seed(seed);
}

typedef struct {
    proto_key_t *auth;
    proto_key_t *rich[N_RICH];
    ledger_genesis_t *genesis;
} s_world_t;

static void s_world_init(s_world_t *w, const char *name)
{
    w->auth = s_key(1);
    uint8_t auth[1][32];
    memcpy(auth[0], proto_key_public(w->auth), 32);
    ledger_balance_t bal[N_RICH];
    for (int i = 0; i < N_RICH; i++) {
        w->rich[i] = s_key((uint8_t)(10 + i));
        memcpy(bal[i].account, proto_key_public(w->rich[i]), 32);
        bal[i].amount = RICH_BALANCE;
    }
    ledger_genesis_params_t p = {.block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = 1};
    snprintf(p.chain_name, sizeof p.chain_name, "%s", name);
    memcpy(p.attestation_service, auth[0], 32);
    char err[256];
    CHECK_EQ(ledger_genesis_new(&p, (const uint8_t(*)[32])auth, 1, bal, N_RICH, &w->genesis, err,
                                sizeof err),
             LEDGER_OK);
}

static void s_world_fini(s_world_t *w)
{
    proto_key_destroy(&w->auth);
    for (int i = 0; i < N_RICH; i++)
        proto_key_destroy(&w->rich[i]);
    ledger_genesis_destroy(&w->genesis);
}

static ledger_store_t *s_open(const char *dir)
{
    ledger_store_t *s = NULL;
    char err[256] = "";
    int rc = ledger_store_open(dir, &s, err, sizeof err);
    if (rc != LEDGER_OK)
        fprintf(stderr, "open %s: %s (%s)\n", dir, proto_err_str(rc), err);
    CHECK_EQ(rc, LEDGER_OK);
    return s;
}

/* Next block on S's head with TXS in order (all must apply), unfinished checks left to
   the callers. *st_out gets the finished state. */
static uint8_t *s_make(ledger_store_t *s, const proto_key_t *proposer, uint8_t *const *txs,
                       const size_t *lens, size_t n, ledger_state_t **st_out, size_t *len)
{
    ledger_head_t head;
    ledger_chain_t chain;
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
    CHECK_EQ(ledger_store_chain(s, &chain), LEDGER_OK);
    ledger_state_t *st = ledger_state_new(s);
    uint8_t(*ids)[32] = calloc(n + 1, 32);
    for (size_t i = 0; i < n; i++) {
        ledger_tx_t tx;
        char why[LEDGER_ERR_MAX] = "";
        CHECK_EQ(ledger_tx_decode(txs[i], lens[i], &tx), PROTO_OK);
        CHECK_EQ(ledger_state_apply_tx(st, &tx, why, sizeof why), LEDGER_OK);
        ledger_tx_id(txs[i], lens[i], ids[i]);
    }
    CHECK_EQ(ledger_state_end_block(st), LEDGER_OK);
    ledger_header_t h = {.height = head.height + 1, .time_ms = head.time_ms + 1};
    memcpy(h.chain_id, chain.chain_id, 32);
    memcpy(h.prev_hash, head.hash, 32);
    memcpy(h.proposer, proto_key_public(proposer), 32);
    ledger_block_tx_root((const uint8_t(*)[32])ids, n, h.tx_root);
    CHECK_EQ(ledger_state_finish(st, head.state_root, h.state_root), LEDGER_OK);
    free(ids);
    *st_out = st;
    return ledger_block_encode(&h, (const uint8_t *const *)txs, lens, n, len);
}

static void test_commit_reopen(void)
{
    s_world_t w;
    s_world_init(&w, "store");
    const char *dir = testutil_tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s", dir);
    ledger_store_t *s = s_open(path);
    ledger_head_t head;
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_E_NOT_FOUND);
    ledger_chain_t chain;
    CHECK_EQ(ledger_store_chain(s, &chain), LEDGER_E_NOT_FOUND);
    CHECK_EQ(ledger_genesis_apply(w.genesis, s), LEDGER_OK);
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
    CHECK_EQ(head.height, 0u);
    CHECK_EQ(ledger_store_chain(s, &chain), LEDGER_OK);
    CHECK(memcmp(chain.chain_id, ledger_genesis_chain_id(w.genesis), 32) == 0);
    /* genesis block: no txs, empty certificate */
    uint8_t *bytes, *cert;
    size_t len, clen;
    CHECK_EQ(ledger_store_block(s, 0, &bytes, &len), LEDGER_OK);
    free(bytes);
    CHECK_EQ(ledger_store_cert(s, 0, &cert, &clen), LEDGER_OK);
    CHECK_EQ(clen, 0u);
    free(cert);

    /* three blocks */
    uint8_t hashes[4][32];
    memcpy(hashes[0], head.hash, 32);
    uint8_t txids[3][32];
    const uint8_t *to = proto_key_public(w.rich[1]);
    for (int b = 1; b <= 3; b++) {
        size_t tlen;
        uint8_t *tx = ledger_contract_transfer_tx(w.rich[0], chain.chain_id, (uint64_t)b - 1, to,
                                                  (uint64_t)b, &tlen);
        ledger_tx_id(tx, tlen, txids[b - 1]);
        ledger_state_t *st;
        uint8_t *block = s_make(s, w.auth, &tx, &tlen, 1, &st, &len);
        char c[16];
        snprintf(c, sizeof c, "cert-%d", b);
        CHECK_EQ(ledger_store_commit(s, block, len, (const uint8_t *)c, strlen(c), st), LEDGER_OK);
        CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
        memcpy(hashes[b], head.hash, 32);
        ledger_state_destroy(&st);
        free(block);
        free(tx);
    }

    /* misuse is refused and changes nothing */
    size_t tlen;
    uint8_t *tx = ledger_contract_transfer_tx(w.rich[0], chain.chain_id, 3, to, 1, &tlen);
    ledger_state_t *st;
    uint8_t *block = s_make(s, w.auth, &tx, &tlen, 1, &st, &len);
    CHECK_EQ(ledger_store_commit(s, block, len, NULL, 0, st), LEDGER_E_BAD_BLOCK);
    uint8_t *huge = calloc(1, LEDGER_CERT_MAX_BYTES + 1);
    CHECK_EQ(ledger_store_commit(s, block, len, huge, LEDGER_CERT_MAX_BYTES + 1, st),
             LEDGER_E_TOO_BIG);
    free(huge);
    ledger_state_t *unfinished = ledger_state_new(s);
    CHECK_EQ(ledger_store_commit(s, block, len, (const uint8_t *)"c", 1, unfinished),
             LEDGER_E_BAD_BLOCK);
    ledger_state_destroy(&unfinished);
    CHECK_EQ(ledger_store_commit_genesis(s, &chain, block, len, st), LEDGER_E_BAD_BLOCK);
    CHECK_EQ(ledger_store_commit(s, block, len, (const uint8_t *)"c", 1, st), LEDGER_OK);
    /* the same block (and its state, made on the old head) a second time */
    CHECK_EQ(ledger_store_commit(s, block, len, (const uint8_t *)"c", 1, st), LEDGER_E_BAD_BLOCK);
    ledger_state_destroy(&st);
    free(block);
    free(tx);
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
    CHECK_EQ(head.height, 4u);
    ledger_head_t before = head;
    ledger_store_destroy(&s);

    /* reopen resumes at the head */
    s = s_open(path);
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
    CHECK(memcmp(&head, &before, sizeof head) == 0);
    CHECK_EQ(ledger_genesis_apply(w.genesis, s), LEDGER_OK); /* same chain: nothing to do */
    for (uint64_t hgt = 0; hgt <= 3; hgt++) {
        uint64_t got;
        CHECK_EQ(ledger_store_block_by_hash(s, hashes[hgt], &got, &bytes, &len), LEDGER_OK);
        CHECK_EQ(got, hgt);
        ledger_block_t *b = NULL;
        CHECK_EQ(ledger_block_decode(bytes, len, &b), PROTO_OK);
        CHECK(memcmp(ledger_block_hash(b), hashes[hgt], 32) == 0);
        ledger_block_destroy(&b);
        free(bytes);
    }
    CHECK_EQ(ledger_store_cert(s, 2, &cert, &clen), LEDGER_OK);
    CHECK(clen == 6 && memcmp(cert, "cert-2", 6) == 0);
    free(cert);
    ledger_txloc_t loc;
    CHECK_EQ(ledger_store_tx(s, txids[2], &loc), LEDGER_OK);
    CHECK(loc.height == 3 && loc.index == 0);
    uint8_t unknown[32] = {1};
    CHECK_EQ(ledger_store_tx(s, unknown, &loc), LEDGER_E_NOT_FOUND);
    CHECK_EQ(ledger_store_block(s, 99, &bytes, &len), LEDGER_E_NOT_FOUND);
    CHECK_EQ(ledger_store_block_by_hash(s, unknown, NULL, &bytes, &len), LEDGER_E_NOT_FOUND);
    ledger_account_t a;
    CHECK_EQ(ledger_store_account(s, proto_key_public(w.rich[0]), &a), LEDGER_OK);
    CHECK(a.balance == RICH_BALANCE - 7 && a.nonce == 4);
    CHECK_EQ(ledger_store_account(s, unknown, &a), LEDGER_OK);
    CHECK(a.balance == 0 && a.nonce == 0);
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    size_t n;
    CHECK_EQ(ledger_store_authorities(s, set, &n), LEDGER_OK);
    CHECK(n == 1 && memcmp(set[0], proto_key_public(w.auth), 32) == 0);
    CHECK(ledger_store_disk_size(s) > 0);

    /* a second open of the same directory fails cleanly (LevelDB's lock) */
    ledger_store_t *twice = NULL;
    char err[256] = "";
    CHECK_EQ(ledger_store_open(path, &twice, err, sizeof err), LEDGER_E_STORE);
    CHECK(twice == NULL && strlen(err) > 0);

    /* another genesis is refused */
    s_world_t other;
    s_world_init(&other, "other");
    CHECK_EQ(ledger_genesis_apply(other.genesis, s), LEDGER_E_WRONG_CHAIN);
    s_world_fini(&other);
    ledger_store_destroy(&s);

    /* a head record whose root differs from the head block's is detected on open */
    leveldb_options_t *o = leveldb_options_create();
    char *lerr = NULL;
    leveldb_t *db = leveldb_open(o, path, &lerr);
    CHECK(db != NULL && lerr == NULL);
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
    size_t hl;
    char *rec = leveldb_get(db, ro, "Mh", 2, &hl, &lerr);
    CHECK(rec != NULL && hl == 80);
    rec[8 + 32] ^= 1; /* state root */
    leveldb_put(db, wo, "Mh", 2, rec, hl, &lerr);
    leveldb_free(rec);
    leveldb_close(db);
    s = NULL;
    CHECK_EQ(ledger_store_open(path, &s, err, sizeof err), LEDGER_E_CORRUPT);
    CHECK(s == NULL && strstr(err, "state root") != NULL);
    /* and a missing head block */
    db = leveldb_open(o, path, &lerr);
    rec = leveldb_get(db, ro, "Mh", 2, &hl, &lerr);
    rec[8 + 32] ^= 1; /* repair */
    leveldb_put(db, wo, "Mh", 2, rec, hl, &lerr);
    leveldb_free(rec);
    uint8_t bkey[9] = {'B', 0, 0, 0, 0, 0, 0, 0, 4};
    leveldb_delete(db, wo, (const char *)bkey, sizeof bkey, &lerr);
    leveldb_close(db);
    CHECK_EQ(ledger_store_open(path, &s, err, sizeof err), LEDGER_E_CORRUPT);
    leveldb_readoptions_destroy(ro);
    leveldb_writeoptions_destroy(wo);
    leveldb_options_destroy(o);

    testutil_rmtree(path);
    s_world_fini(&w);
}

/* Root after a block that, on top of authorities {a, b}, votes (in ORDER) to remove b
   (votes 0, 1) and to remove a (votes 2, 3); *first gets the one authority left. */
static void s_vote_root(proto_key_t *ka, proto_key_t *kb, const uint8_t *chain, const int order[4],
                        uint8_t root[32], uint8_t first[32])
{
    ledger_state_t *st = ledger_state_new(NULL);
    uint8_t set[2][32];
    memcpy(set[0], proto_key_public(ka), 32);
    memcpy(set[1], proto_key_public(kb), 32);
    CHECK_EQ(ledger_state_set_authorities(st, (const uint8_t(*)[32])set, 2), LEDGER_OK);
    uint64_t na = 0, nb = 0;
    for (int i = 0; i < 4; i++) {
        int v = order[i];
        proto_key_t *voter = v % 2 == 0 ? ka : kb;
        const uint8_t *subject = v < 2 ? proto_key_public(kb) : proto_key_public(ka);
        size_t len;
        uint8_t *t = ledger_contract_auth_vote_tx(voter, chain, voter == ka ? na++ : nb++,
                                                  LEDGER_AUTH_REMOVE, subject, &len);
        ledger_tx_t tx;
        char why[LEDGER_ERR_MAX] = "";
        CHECK_EQ(ledger_tx_decode(t, len, &tx), PROTO_OK);
        CHECK_EQ(ledger_state_apply_tx(st, &tx, why, sizeof why), LEDGER_OK);
        free(t);
    }
    CHECK_EQ(ledger_state_end_block(st), LEDGER_OK);
    uint8_t got[LEDGER_AUTHORITIES_MAX][32];
    size_t n;
    CHECK_EQ(ledger_state_authorities(st, got, &n), LEDGER_OK);
    CHECK_EQ(n, 1u);
    memcpy(first, got[0], 32);
    const uint8_t zero[32] = {0};
    CHECK_EQ(ledger_state_finish(st, zero, root), LEDGER_OK);
    ledger_state_destroy(&st);
}

static void test_order(void)
{
    /* txs that do not commute: the order decides which removal wins, and the root shows */
    proto_key_t *ka = s_key(40), *kb = s_key(41);
    uint8_t chain[32] = {5}, r1[32], r2[32], f1[32], f2[32];
    const int remove_b_first[4] = {0, 1, 2, 3}, remove_a_first[4] = {2, 3, 0, 1};
    s_vote_root(ka, kb, chain, remove_b_first, r1, f1);
    s_vote_root(ka, kb, chain, remove_a_first, r2, f2);
    CHECK(memcmp(f1, proto_key_public(ka), 32) == 0);
    CHECK(memcmp(f2, proto_key_public(kb), 32) == 0);
    CHECK(memcmp(r1, r2, 32) != 0);
    proto_key_destroy(&ka);
    proto_key_destroy(&kb);
}

static void test_roots(void)
{
    s_world_t w;
    s_world_init(&w, "roots");
    char d1[256], d2[256], d3[256];
    snprintf(d1, sizeof d1, "%s", testutil_tmpdir());
    snprintf(d2, sizeof d2, "%s", testutil_tmpdir());
    snprintf(d3, sizeof d3, "%s", testutil_tmpdir());
    ledger_store_t *a = s_open(d1), *b = s_open(d2), *c = s_open(d3);
    CHECK_EQ(ledger_genesis_apply(w.genesis, a), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(w.genesis, b), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(w.genesis, c), LEDGER_OK);
    const uint8_t *chain = ledger_genesis_chain_id(w.genesis);

    /* blocks built on A, executed and committed by B: same roots at every height */
    int same = 0;
    for (int h = 1; h <= 5; h++) {
        uint8_t *txs[N_RICH];
        size_t lens[N_RICH];
        for (int i = 0; i < N_RICH; i++)
            txs[i] = ledger_contract_transfer_tx(w.rich[i], chain, (uint64_t)h - 1,
                                                 proto_key_public(w.rich[(i + h) % N_RICH]),
                                                 (uint64_t)(i + 1) * 10, &lens[i]);
        ledger_state_t *sa, *sb = NULL;
        size_t len;
        uint8_t *block = s_make(a, w.auth, txs, lens, N_RICH, &sa, &len);
        CHECK_EQ(ledger_block_execute(b, block, len, NULL, 0, &sb, NULL, NULL, 0), LEDGER_OK);
        CHECK_EQ(ledger_store_commit(a, block, len, (const uint8_t *)"x", 1, sa), LEDGER_OK);
        CHECK_EQ(ledger_store_commit(b, block, len, (const uint8_t *)"y", 1, sb), LEDGER_OK);
        ledger_head_t ha, hb;
        CHECK_EQ(ledger_store_head(a, &ha), LEDGER_OK);
        CHECK_EQ(ledger_store_head(b, &hb), LEDGER_OK);
        if (ha.height == (uint64_t)h && memcmp(ha.state_root, hb.state_root, 32) == 0 &&
            memcmp(ha.hash, hb.hash, 32) == 0)
            same++;
        /* C gets the same txs in reverse order (all independent senders) */
        uint8_t *rtxs[N_RICH];
        size_t rlens[N_RICH];
        for (int i = 0; i < N_RICH; i++) {
            rtxs[i] = txs[N_RICH - 1 - i];
            rlens[i] = lens[N_RICH - 1 - i];
        }
        ledger_state_t *sc;
        uint8_t *rblock = s_make(c, w.auth, rtxs, rlens, N_RICH, &sc, &len);
        CHECK_EQ(ledger_store_commit(c, rblock, len, (const uint8_t *)"z", 1, sc), LEDGER_OK);
        ledger_head_t hc;
        CHECK_EQ(ledger_store_head(c, &hc), LEDGER_OK);
        /* transfers commute: same writes, same root; the order is committed by the tx
           root, so the chains differ from here on anyway */
        CHECK(memcmp(hc.state_root, ha.state_root, 32) == 0);
        CHECK(memcmp(hc.hash, ha.hash, 32) != 0);
        ledger_state_destroy(&sa);
        ledger_state_destroy(&sb);
        ledger_state_destroy(&sc);
        free(block);
        free(rblock);
        for (int i = 0; i < N_RICH; i++)
            free(txs[i]);
    }
    CHECK_EQ(same, 5);
    /* the balances agree even though the roots do not: the root tracks history */
    for (int i = 0; i < N_RICH; i++) {
        ledger_account_t x, y;
        CHECK_EQ(ledger_store_account(a, proto_key_public(w.rich[i]), &x), LEDGER_OK);
        CHECK_EQ(ledger_store_account(c, proto_key_public(w.rich[i]), &y), LEDGER_OK);
        CHECK(x.balance == y.balance && x.nonce == y.nonce);
    }
    ledger_store_destroy(&a);
    ledger_store_destroy(&b);
    ledger_store_destroy(&c);
    testutil_rmtree(d1);
    testutil_rmtree(d2);
    testutil_rmtree(d3);
    s_world_fini(&w);
}

/* ---- compaction priority ---- */

/*  The nice value of thread TID of this process (from /proc), or -100 if unknown. */
static int s_thread_nice(const char *tid)
{
    char path[300], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -100;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may hold spaces: fields follow it */
    int nice = -100;
    /* after ")": state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt, majflt,
       cmajflt, utime, stime, cutime, cstime, priority, nice */
    if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %d",
                    &nice) != 1)
        nice = -100;
    return nice;
}

/*  The first store opened in this process started LevelDB's compaction thread at
 *  LEDGER_STORE_COMPACTION_NICE, and left the calling thread's priority alone. (Run at a
 *  nice value of that or more, nothing is changed: then only the latter is checked.) */
static void test_compaction_nice(void)
{
    char dir[256], self_tid[32];
    snprintf(dir, sizeof dir, "%s", testutil_tmpdir());
    snprintf(self_tid, sizeof self_tid, "%d", (int)getpid()); /* main thread: tid == pid */
    int before = s_thread_nice(self_tid);
    CHECK(before > -100);
    ledger_store_t *s = s_open(dir);
    CHECK_EQ(s_thread_nice(self_tid), before);
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    int niced = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && s_thread_nice(de->d_name) == LEDGER_STORE_COMPACTION_NICE)
            niced++;
    if (d)
        closedir(d);
    if (before < LEDGER_STORE_COMPACTION_NICE)
        CHECK_EQ(niced, 1);
    ledger_store_destroy(&s);
    testutil_rmtree(dir);
}

/* ---- crash test ---- */

#define CRASH_CHILD_ARG "--crash-child"

/* Child: commits blocks of random transfers forever, writing each committed height to
   FD. Never returns. */
static void s_child(const char *dir, s_world_t *w, int fd)
{
    ledger_store_t *s = NULL;
    char err[256];
    if (ledger_store_open(dir, &s, err, sizeof err) != LEDGER_OK)
        _exit(3);
    ledger_mempool_t *pool = ledger_mempool_new(s, NULL);
    if (!pool)
        _exit(4);
    const uint8_t *chain = ledger_genesis_chain_id(w->genesis);
    unsigned child_seed = (unsigned)getpid();
    fprintf(stderr, "crash child: seed %u (its pid)\n", child_seed);
    srand(child_seed);
    ledger_build_params_t bp = {.round = 0};
    memcpy(bp.proposer, proto_key_public(w->auth), 32);
    for (uint64_t iter = 0; iter < 1000000; iter++) {
        int n = 1 + rand() % 40;
        for (int k = 0; k < n; k++) {
            int from = rand() % N_RICH, to = rand() % N_RICH;
            ledger_account_t acct;
            if (ledger_store_account(s, proto_key_public(w->rich[from]), &acct) != LEDGER_OK)
                _exit(5);
            /* the next nonce: committed nonce plus what this account has pending (k
               iterations may pick it several times) */
            uint64_t nonce = acct.nonce;
            size_t len;
            uint8_t *tx;
            char why[LEDGER_ERR_MAX] = "";
            int rc;
            do {
                tx = ledger_contract_transfer_tx(w->rich[from], chain, nonce++,
                                                 proto_key_public(w->rich[to]),
                                                 1 + (uint64_t)(rand() % 100), &len);
                rc = ledger_mempool_add(pool, tx, len, NULL, why, sizeof why);
                free(tx);
            } while (rc == LEDGER_E_NONCE_TAKEN);
        }
        uint8_t *block;
        size_t len;
        ledger_state_t *st;
        bp.time_ms = (uint64_t)time(NULL) * 1000;
        if (ledger_block_build(s, pool, &bp, &block, &len, &st) != LEDGER_OK)
            _exit(6);
        if (ledger_store_commit(s, block, len, (const uint8_t *)"cert", 4, st) != LEDGER_OK)
            _exit(7);
        if (ledger_mempool_update(pool, block, len) != LEDGER_OK)
            _exit(8);
        ledger_head_t head;
        if (ledger_store_head(s, &head) != LEDGER_OK ||
            write(fd, &head.height, sizeof head.height) != (ssize_t)sizeof head.height)
            _exit(9);
        ledger_state_destroy(&st);
        free(block);
    }
    _exit(0);
}

/* Full consistency check of the database in DIR; returns the head height. */
static uint64_t s_verify(const char *dir, s_world_t *w)
{
    ledger_store_t *s = s_open(dir); /* open itself checks head vs stored root */
    if (!s)
        return 0;
    ledger_head_t head;
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
    uint8_t prev[32] = {0};
    uint64_t sent[N_RICH] = {0};
    int bad = 0;
    for (uint64_t h = 0; h <= head.height; h++) {
        uint8_t *bytes = NULL, *cert = NULL;
        size_t len, clen;
        ledger_block_t *b = NULL;
        if (ledger_store_block(s, h, &bytes, &len) != LEDGER_OK ||
            ledger_block_decode(bytes, len, &b) != PROTO_OK ||
            ledger_store_cert(s, h, &cert, &clen) != LEDGER_OK) {
            bad++;
            free(bytes);
            free(cert);
            continue;
        }
        const ledger_header_t *hd = ledger_block_header(b);
        uint64_t at;
        if (hd->height != h || memcmp(hd->prev_hash, prev, 32) != 0 ||
            ledger_store_height_of(s, ledger_block_hash(b), &at) != LEDGER_OK || at != h ||
            (h > 0 && clen != 4))
            bad++;
        if (h == head.height && (memcmp(ledger_block_hash(b), head.hash, 32) != 0 ||
                                 memcmp(hd->state_root, head.state_root, 32) != 0))
            bad++;
        memcpy(prev, ledger_block_hash(b), 32);
        for (size_t i = 0; i < ledger_block_tx_count(b); i++) {
            size_t tl;
            const uint8_t *tb = ledger_block_tx(b, i, &tl);
            ledger_tx_t tx;
            if (ledger_tx_decode(tb, tl, &tx) != PROTO_OK) {
                bad++;
                continue;
            }
            for (int k = 0; k < N_RICH; k++)
                if (memcmp(tx.from, proto_key_public(w->rich[k]), 32) == 0)
                    sent[k]++;
            uint8_t id[32];
            ledger_txloc_t loc;
            ledger_tx_id(tb, tl, id);
            if (ledger_store_tx(s, id, &loc) != LEDGER_OK || loc.height != h || loc.index != i)
                bad++;
        }
        ledger_block_destroy(&b);
        free(bytes);
        free(cert);
    }
    CHECK_EQ(bad, 0);
    uint64_t total = 0;
    int nonce_bad = 0;
    for (int k = 0; k < N_RICH; k++) {
        ledger_account_t a;
        CHECK_EQ(ledger_store_account(s, proto_key_public(w->rich[k]), &a), LEDGER_OK);
        total += a.balance;
        if (a.nonce != sent[k])
            nonce_bad++;
    }
    CHECK_EQ(total, (uint64_t)N_RICH * RICH_BALANCE);
    CHECK_EQ(nonce_bad, 0);
    ledger_store_destroy(&s);
    return head.height;
}

/* Path of the newest LevelDB log file in DIR (largest number), into OUT. */
static bool s_newest_log(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    unsigned long best = 0;
    bool found = false;
    while (d && (de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".log") == 0) {
            unsigned long num = strtoul(de->d_name, NULL, 10);
            if (!found || num > best) {
                best = num;
                found = true;
                snprintf(out, cap, "%s/%s", dir, de->d_name);
            }
        }
    }
    if (d)
        closedir(d);
    return found;
}

static void test_torn_write(void)
{
    /* a process killed while LevelDB writes a batch leaves a partial record at the end
       of the log: the block must vanish whole, the previous head stay intact */
    s_world_t w;
    s_world_init(&w, "torn");
    char dir[256], log[512];
    snprintf(dir, sizeof dir, "%s", testutil_tmpdir());
    ledger_store_t *s = s_open(dir);
    CHECK_EQ(ledger_genesis_apply(w.genesis, s), LEDGER_OK);
    const uint8_t *chain = ledger_genesis_chain_id(w.genesis);
    ledger_head_t before, after;
    for (int round = 0; round < 3; round++) {
        /* a big block: 300 txs, its batch spans several LevelDB log blocks */
        uint8_t *txs[300];
        size_t lens[300];
        ledger_account_t a;
        CHECK_EQ(ledger_store_account(s, proto_key_public(w.rich[0]), &a), LEDGER_OK);
        for (int i = 0; i < 300; i++)
            txs[i] = ledger_contract_transfer_tx(w.rich[0], chain, a.nonce + (uint64_t)i,
                                                 proto_key_public(w.rich[1 + i % 3]), 1, &lens[i]);
        CHECK_EQ(ledger_store_head(s, &before), LEDGER_OK);
        ledger_state_t *st;
        size_t len;
        uint8_t *block = s_make(s, w.auth, txs, lens, 300, &st, &len);
        CHECK(len > 40000);
        CHECK_EQ(ledger_store_commit(s, block, len, (const uint8_t *)"cert", 4, st), LEDGER_OK);
        ledger_state_destroy(&st);
        free(block);
        for (int i = 0; i < 300; i++)
            free(txs[i]);
        ledger_store_destroy(&s);
        /* cut the log inside the last batch */
        struct stat stt;
        CHECK(s_newest_log(dir, log, sizeof log));
        CHECK_EQ(stat(log, &stt), 0);
        CHECK(stt.st_size > 40000);
        off_t cut = stt.st_size - 1 - (off_t)(rand() % 30000);
        CHECK_EQ(truncate(log, cut), 0);
        s = s_open(dir);
        if (!s)
            break;
        CHECK_EQ(ledger_store_head(s, &after), LEDGER_OK);
        CHECK(memcmp(&after, &before, sizeof after) == 0);
        ledger_store_destroy(&s);
        CHECK_EQ(s_verify(dir, &w), before.height);
        s = s_open(dir); /* and the chain goes on from there */
    }
    ledger_store_destroy(&s);
    testutil_rmtree(dir);
    s_world_fini(&w);
}

static void test_crash(void)
{
    s_world_t w;
    s_world_init(&w, "crash");
    char dir[256];
    snprintf(dir, sizeof dir, "%s", testutil_tmpdir());
    ledger_store_t *s = s_open(dir);
    CHECK_EQ(ledger_genesis_apply(w.genesis, s), LEDGER_OK);
    ledger_store_destroy(&s);
    srand((unsigned)testutil_seed("test_crash"));
    uint64_t last_head = 0;
    int progressed = 0;
    for (int round = 0; round < CRASH_ROUNDS; round++) {
        int fds[2];
        CHECK_EQ(pipe(fds), 0);
        pid_t pid = fork();
        if (pid == 0) {
            /* a fresh process, not just a fork: LevelDB runs compactions on one thread per
               process, which this one started long ago; a forked child would believe it
               has that thread while fork copied only the calling one, and wait forever
               for its first compaction */
            close(fds[0]);
            char fd_arg[16];
            snprintf(fd_arg, sizeof fd_arg, "%d", fds[1]);
            execl("/proc/self/exe", "test_ledger_store", CRASH_CHILD_ARG, dir, fd_arg,
                  (char *)NULL);
            _exit(10);
        }
        close(fds[1]);
        /* wait for its first commit (so every round makes progress however loaded the
           machine is), let it commit for a random while, then kill it wherever it is:
           inside a commit, between two, while signing */
        uint64_t reported = 0, h;
        if (read(fds[0], &h, sizeof h) == (ssize_t)sizeof h)
            reported = h;
        usleep((useconds_t)(rand() % 300000));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        while (read(fds[0], &h, sizeof h) == (ssize_t)sizeof h)
            reported = h;
        close(fds[0]);
        uint64_t head = s_verify(dir, &w);
        /* everything the child saw committed survived; at most the block in flight more */
        CHECK(head >= reported && head <= reported + 1);
        CHECK(head >= last_head);
        if (head > last_head)
            progressed++;
        last_head = head;
    }
    CHECK_EQ(progressed, CRASH_ROUNDS);
    printf("crash test: %d rounds, head at %llu\n", CRASH_ROUNDS, (unsigned long long)last_head);
    testutil_rmtree(dir);
    s_world_fini(&w);
}

int main(int argc, char **argv)
{
    if (proto_crypto_init() != 0)
        return 1;
    if (argc == 4 && strcmp(argv[1], CRASH_CHILD_ARG) == 0) { /* test_crash's child */
        s_world_t w;
        s_world_init(&w, "crash");
        s_child(argv[2], &w, atoi(argv[3]));
    }
    test_compaction_nice(); /* first: no store opened before it in this process */
    test_commit_reopen();
    test_roots();
    test_order();
    test_torn_write();
    test_crash();
    return testutil_done("test_ledger_store");
}
