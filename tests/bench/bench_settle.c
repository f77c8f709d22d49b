/*  bench_settle: what paid queries cost the ledger, per 1,000 queries.
 *
 *  Usage: bench_settle [ROUNDS]   (default 3)
 *
 *  A chain in a fresh temporary LevelDB store with issue 16's world (the unit tests'
 *  fixture, tests/unit/ledger/ledger_model_fixture.h): a spec, two training enclaves, a
 *  query enclave, five donor records and a published model. Then three ways to pay for
 *  1,000 queries, each as blocks a validator executes (signatures checked, as for a block
 *  from a peer) and commits (one synced LevelDB batch per block):
 *    bulk     one QUERY_BUY of 1,000 queries; the runner claims its usage every 100
 *             queries (10 USAGE_CLAIMs, cumulative counts)
 *    single   1,000 QUERY_BUYs of one query each and 1,000 USAGE_CLAIMs (every buy its
 *             own claim: the worst case)
 *    payout   the EARNINGS_CLAIMs that move everyone's share into balances afterwards
 *             (runner, trainer, and each donor for the model)
 *  Printed per scenario: txs, bytes of txs on the chain, execute+commit CPU time, per
 *  1,000 queries; next to the same run's cost of 1,000 plain TRANSFERs in blocks of the
 *  same size, and libsodium's Ed25519 verifications per second (the bound on every tx).
 *  ROUNDS repeats each measurement (fresh world each round) and prints every round, so the
 *  spread shows. Build Release for meaningful numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/ledger_model.h"
#include "ledger_model_fixture.h"

#define QUERIES 1000u
#define PER_CLAIM 100u
#define BLOCK_TXS 500u
#define FUNDS 1000000000ull

static double s_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
    uint8_t **txs;
    size_t *lens;
    size_t n, cap;
} s_list_t;

static void s_push(s_list_t *l, uint8_t *tx, size_t len)
{
    REQUIRE(tx != NULL);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->txs = realloc(l->txs, l->cap * sizeof *l->txs);
        l->lens = realloc(l->lens, l->cap * sizeof *l->lens);
        REQUIRE(l->txs && l->lens);
    }
    l->txs[l->n] = tx;
    l->lens[l->n++] = len;
}

static void s_clear(s_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->txs[i]);
    free(l->txs);
    free(l->lens);
    memset(l, 0, sizeof *l);
}

typedef struct {
    size_t txs, bytes;
    double cpu; /* execute + commit, seconds */
} s_cost_t;

/* Builds blocks of at most BLOCK_TXS from L (in order: nonces ascend per sender) as the
   proposer (untimed), then executes each as a validator with signature checks and commits
   it (timed). Every tx must apply. */
static s_cost_t s_run_blocks(mf_world_t *w, const s_list_t *l)
{
    s_cost_t cost = {0};
    uint8_t(*ids)[32] = malloc(BLOCK_TXS * 32);
    REQUIRE(ids != NULL);
    for (size_t at = 0; at < l->n; at += BLOCK_TXS) {
        size_t n = l->n - at < BLOCK_TXS ? l->n - at : BLOCK_TXS;
        ledger_head_t head;
        REQUIRE(ledger_store_head(w->c.store, &head) == LEDGER_OK);
        ledger_state_t *prop = ledger_state_new(w->c.store);
        REQUIRE(prop != NULL);
        for (size_t i = 0; i < n; i++) {
            ledger_tx_t tx;
            char why[LEDGER_ERR_MAX] = "";
            int rc = ledger_tx_decode(l->txs[at + i], l->lens[at + i], &tx);
            if (rc == PROTO_OK)
                rc = ledger_state_apply_tx(prop, &tx, why, sizeof why);
            if (rc != LEDGER_OK) {
                fprintf(stderr, "bench_settle: tx %zu (%zu bytes) refused: %s (%s)\n", at + i,
                        l->lens[at + i], proto_err_str(rc), why);
                exit(1);
            }
            ledger_tx_id(l->txs[at + i], l->lens[at + i], ids[i]);
            cost.bytes += l->lens[at + i];
        }
        ledger_header_t h = {.height = head.height + 1, .time_ms = head.time_ms + 1000};
        memcpy(h.chain_id, w->c.chain, 32);
        memcpy(h.prev_hash, head.hash, 32);
        memcpy(h.proposer, proto_key_public(w->c.auth), 32);
        ledger_block_tx_root((const uint8_t(*)[32])ids, n, h.tx_root);
        REQUIRE(ledger_state_end_block(prop) == LEDGER_OK);
        REQUIRE(ledger_state_finish(prop, head.state_root, h.state_root) == LEDGER_OK);
        ledger_state_destroy(&prop);
        size_t blen = 0;
        uint8_t *block =
            ledger_block_encode(&h, (const uint8_t *const *)(l->txs + at), l->lens + at, n, &blen);
        REQUIRE(block != NULL);

        double t0 = s_cpu();
        ledger_state_t *st = NULL;
        char why[LEDGER_ERR_MAX] = "";
        long why_tx = -1;
        int rc =
            ledger_block_execute(w->c.store, block, blen, NULL, 0, &st, &why_tx, why, sizeof why);
        if (rc != LEDGER_OK) {
            fprintf(stderr, "bench_settle: block refused: %s (%s, tx %ld)\n", proto_err_str(rc),
                    why, why_tx);
            exit(1);
        }
        REQUIRE(ledger_store_commit(w->c.store, block, blen, (const uint8_t *)"bench", 5, st) ==
                LEDGER_OK);
        cost.cpu += s_cpu() - t0;
        ledger_state_destroy(&st);
        free(block);
        cost.txs += n;
    }
    free(ids);
    return cost;
}

/* A USAGE_CLAIM from the runner of COUNT served for BUY, signed by the query enclave. */
static uint8_t *s_usage_tx(mf_world_t *w, const uint8_t model[32], const uint8_t buy[32],
                           uint64_t count, uint64_t nonce, size_t *len)
{
    proto_usage_t u;
    memset(&u, 0, sizeof u);
    u.version = 1;
    memcpy(u.model_id, model, 32);
    memcpy(u.buy_id, buy, 32);
    u.count = count;
    u.time_ms = DF_T0 + 9000;
    uint8_t sk[64], pk[32], *enc = NULL;
    size_t elen = 0;
    df_enclave_sk(MF_Q_SEED, sk, pk);
    REQUIRE(proto_usage_sign(&u, sk) == PROTO_OK);
    sodium_memzero(sk, sizeof sk);
    REQUIRE(proto_usage_encode(&u, &enc, &elen) == PROTO_OK);
    uint8_t *tx = ledger_contract_usage_claim_tx(w->c.runner, w->c.chain, nonce, enc, elen, len);
    free(enc);
    return tx;
}

static uint8_t *s_buy_tx(mf_world_t *w, const uint8_t model[32], uint32_t count, uint64_t nonce,
                         uint8_t id[32], size_t *len)
{
    uint8_t code[32], h[32];
    randombytes_buf(code, sizeof code);
    proto_access_code_hash(code, h);
    uint8_t *tx = ledger_contract_query_buy_tx(w->c.bob, w->c.chain, nonce, model, count, h, len);
    REQUIRE(tx != NULL);
    ledger_tx_id(tx, *len, id);
    return tx;
}

/* Scenario bulk (SINGLE false) or single (true): buys, then claims. */
static s_cost_t s_pay(mf_world_t *w, const uint8_t model[32], bool single)
{
    s_list_t buys = {0}, claims = {0};
    uint64_t bn = df_nonce(&w->c, w->c.bob), rn = df_nonce(&w->c, w->c.runner);
    size_t n_buys = single ? QUERIES : 1;
    uint8_t(*ids)[32] = malloc(n_buys * 32);
    REQUIRE(ids != NULL);
    for (size_t i = 0; i < n_buys; i++) {
        size_t len = 0;
        uint8_t *tx = s_buy_tx(w, model, single ? 1 : QUERIES, bn++, ids[i], &len);
        s_push(&buys, tx, len);
    }
    s_cost_t a = s_run_blocks(w, &buys);
    for (size_t i = 0; i < (single ? QUERIES : QUERIES / PER_CLAIM); i++) {
        size_t len = 0;
        uint8_t *tx = single ? s_usage_tx(w, model, ids[i], 1, rn++, &len)
                             : s_usage_tx(w, model, ids[0], (i + 1) * PER_CLAIM, rn++, &len);
        s_push(&claims, tx, len);
    }
    s_cost_t b = s_run_blocks(w, &claims);
    s_clear(&buys);
    s_clear(&claims);
    free(ids);
    return (s_cost_t){a.txs + b.txs, a.bytes + b.bytes, a.cpu + b.cpu};
}

static s_cost_t s_payout(mf_world_t *w, const uint8_t model[32])
{
    s_list_t l = {0};
    const proto_key_t *who[] = {w->c.runner, w->c.trainer, w->c.alice, w->c.bob};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        size_t len = 0;
        bool role = who[i] == w->c.runner || who[i] == w->c.trainer;
        uint8_t *tx = ledger_contract_earnings_claim_tx(who[i], w->c.chain, df_nonce(&w->c, who[i]),
                                                        role ? NULL : model, &len);
        s_push(&l, tx, len);
    }
    s_cost_t c = s_run_blocks(w, &l);
    s_clear(&l);
    return c;
}

static s_cost_t s_transfers(mf_world_t *w, size_t n)
{
    s_list_t l = {0};
    uint64_t nonce = df_nonce(&w->c, w->c.bob);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        uint8_t *tx = ledger_contract_transfer_tx(w->c.bob, w->c.chain, nonce++,
                                                  proto_key_public(w->c.alice), 1, &len);
        s_push(&l, tx, len);
    }
    s_cost_t c = s_run_blocks(w, &l);
    s_clear(&l);
    return c;
}

static double s_verify_rate(void)
{
    uint8_t pk[32], sk[64], sig[64], msg[32] = {1};
    crypto_sign_keypair(pk, sk);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    size_t n = 0;
    double t0 = s_cpu(), t;
    do {
        for (int i = 0; i < 200; i++)
            n += crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0;
        t = s_cpu() - t0;
    } while (t < 0.3);
    return (double)n / t;
}

static void s_print(const char *name, s_cost_t c, double per_k)
{
    printf("  %-8s %5zu txs, %7zu bytes, %8.2f ms CPU (execute + commit) per 1,000 queries\n", name,
           (size_t)((double)c.txs * per_k), (size_t)((double)c.bytes * per_k),
           c.cpu * 1000 * per_k);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    if (rounds < 1 || rounds > 100 || proto_crypto_init() != 0) {
        fprintf(stderr, "usage: bench_settle [ROUNDS (1..100)]\n");
        return 2;
    }
    printf("bench_settle: the ledger's cost of paying for %u queries (blocks of up to %u "
           "txs, signatures checked, one synced commit per block)\n",
           QUERIES, BLOCK_TXS);
    for (int r = 1; r <= rounds; r++) {
        mf_world_t w;
        mf_world(&w, MF_DONORS, FUNDS);
        uint8_t model[32];
        mf_model(&w, 0x1f, 5000, model);
        s_cost_t bulk = s_pay(&w, model, false);
        s_cost_t single = s_pay(&w, model, true);
        s_cost_t payout = s_payout(&w, model);
        s_cost_t xfer = s_transfers(&w, QUERIES);
        double vps = s_verify_rate();
        printf("round %d:\n", r);
        s_print("bulk", bulk, 1.0);
        s_print("single", single, 1.0);
        s_print("payout", payout, 1.0);
        s_print("transfer", xfer, 1.0);
        printf("  single / transfer CPU: %.2f; libsodium Ed25519 verify %.0f/s (%.2f ms per "
               "1,000)\n",
               single.cpu / xfer.cpu, vps, 1000.0 / vps * 1000);
        mf_close(&w);
    }
    return testutil_done("bench_settle") == 0 ? 0 : 1;
}
