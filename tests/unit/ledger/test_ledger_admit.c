/*  test_ledger_admit: the one admission check of txs (ledger/ledger_admit.h).
 *
 *  300 txs (more than two signature batches) of every kind — good, a flipped signature
 *  bit, another chain, a zero amount, truncated, garbage — are checked at once; each
 *  verdict must equal what the single checks say for that tx alone (ledger_tx_parse, then
 *  ledger_tx_verify_sig), exempted txs skip only the signature check, a key table gives the
 *  same verdicts, and with a store a nonce already committed is refused before any
 *  signature check. Then a block executes through the same function: a bad signature in a
 *  block is refused with the tx's index, and the same block with the tx exempted (a
 *  mempool held it) executes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_admit.h"
#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_store.h"
#include "proto/proto_key.h"
#include "proto/proto_log.h"
#include "ledger_fixture.h"
#include "testutil.h"

#define N 300

typedef ledger_fixture_t env_t;

static void s_env_init(env_t *e)
{
    ledger_fixture_open(e, "admit", 1000000, 1000, 512 * 1024);
}

static void s_env_fini(env_t *e)
{
    ledger_fixture_close(e);
}

/* What the single checks say about TX alone. */
static int s_reference(const uint8_t *tx, size_t len, const uint8_t chain_id[32], bool skip)
{
    ledger_tx_t t;
    char why[LEDGER_ERR_MAX] = "";
    int rc = ledger_tx_parse(tx, len, chain_id, false, &t, why, sizeof why);
    if (rc == LEDGER_OK && !skip && !ledger_tx_verify_sig(&t))
        rc = LEDGER_E_BAD_SIG;
    return rc;
}

static void test_verdicts(env_t *e)
{
    static uint8_t *txs[N];
    static size_t lens[N];
    static bool skip[N];
    static ledger_admit_verdict_t v[N], v2[N];
    uint8_t other_chain[32];
    memcpy(other_chain, e->chain.chain_id, 32);
    other_chain[0] ^= 1;
    const uint8_t *pb = proto_key_public(e->bob);
    int kinds[6] = {0};
    for (size_t i = 0; i < N; i++) {
        int kind = (int)(i % 6);
        kinds[kind]++;
        if (kind == 4) {
            static const uint8_t garbage[] = {0xc1, 0x00, 0x01};
            txs[i] = malloc(sizeof garbage);
            memcpy(txs[i], garbage, sizeof garbage);
            lens[i] = sizeof garbage;
        } else {
            txs[i] =
                ledger_contract_transfer_tx(e->alice, kind == 2 ? other_chain : e->chain.chain_id,
                                            i, pb, kind == 3 ? 0 : 1 + i, &lens[i]);
            CHECK(txs[i] != NULL);
            if (kind == 1)
                txs[i][lens[i] - 7] ^= 0x04; /* a bit of the signature */
            if (kind == 5)
                lens[i] /= 2; /* truncated */
        }
        skip[i] = kind == 1 && i % 4 == 1; /* some bad signatures exempted */
    }
    CHECK_EQ(ledger_admit_check((const uint8_t *const *)txs, lens, N, e->chain.chain_id, NULL, NULL,
                                skip, v),
             LEDGER_OK);
    size_t ok = 0, bad_sig = 0;
    for (size_t i = 0; i < N; i++) {
        int ref = s_reference(txs[i], lens[i], e->chain.chain_id, skip[i]);
        CHECK_EQ(v[i].rc, ref);
        CHECK((v[i].rc == LEDGER_OK) == (v[i].why[0] == '\0'));
        if (v[i].rc == LEDGER_OK) {
            ok++;
            CHECK(v[i].tx.bytes == txs[i] && v[i].tx.nonce == i);
        }
        bad_sig += v[i].rc == LEDGER_E_BAD_SIG;
    }
    printf("admit: %zu ok, %zu bad signatures of %d txs\n", ok, bad_sig, N);
    CHECK(bad_sig > 0 && ok > (size_t)kinds[0]); /* the exempted bad ones pass */
    /* a key table gives the same verdicts (filled on the first pass, used on the second) */
    proto_sigkeys_t *keys = proto_sigkeys_new(64);
    for (int pass = 0; pass < 2; pass++) {
        CHECK_EQ(ledger_admit_check((const uint8_t *const *)txs, lens, N, e->chain.chain_id, NULL,
                                    keys, skip, v2),
                 LEDGER_OK);
        for (size_t i = 0; i < N; i++)
            CHECK_EQ(v2[i].rc, v[i].rc);
    }
    uint64_t hits = 0, lookups = 0;
    proto_sigkeys_stats(keys, &hits, &lookups);
    CHECK(hits > 0);
    proto_sigkeys_destroy(&keys);
    /* nothing to check, and one alone */
    CHECK_EQ(ledger_admit_check(NULL, NULL, 0, e->chain.chain_id, NULL, NULL, NULL, v2), LEDGER_OK);
    CHECK_EQ(ledger_admit_check((const uint8_t *const *)&txs[1], &lens[1], 1, e->chain.chain_id,
                                NULL, NULL, NULL, v2),
             LEDGER_OK);
    CHECK_EQ(v2[0].rc, LEDGER_E_BAD_SIG);
    for (size_t i = 0; i < N; i++)
        free(txs[i]);
}

/* A committed nonce is refused with the store; a bad signature inside a block makes the
   block fail at that tx, unless a mempool took the tx (then it was checked there). */
static void test_store_and_block(env_t *e)
{
    const uint8_t *pb = proto_key_public(e->bob);
    ledger_mempool_t *pool = ledger_mempool_new(e->store, NULL);
    size_t len = 0;
    char why[LEDGER_ERR_MAX] = "";
    uint8_t *t0 = ledger_contract_transfer_tx(e->alice, e->chain.chain_id, 0, pb, 5, &len);
    CHECK_EQ(ledger_mempool_add(pool, t0, len, NULL, why, sizeof why), LEDGER_OK);
    ledger_build_params_t bp = {.time_ms = 9000, .round = 0};
    memcpy(bp.proposer, proto_key_public(e->auth), 32);
    uint8_t *block = NULL;
    size_t blen = 0;
    ledger_state_t *st = NULL;
    CHECK_EQ(ledger_block_build(e->store, pool, &bp, &block, &blen, &st), LEDGER_OK);
    CHECK_EQ(ledger_store_commit(e->store, block, blen, (const uint8_t *)"cert", 4, st), LEDGER_OK);
    ledger_state_destroy(&st);
    free(block);
    ledger_admit_verdict_t v[2];
    size_t l1 = 0;
    uint8_t *t1 = ledger_contract_transfer_tx(e->alice, e->chain.chain_id, 1, pb, 5, &l1);
    const uint8_t *both[2] = {t0, t1};
    size_t lens[2] = {len, l1};
    CHECK_EQ(ledger_admit_check(both, lens, 2, e->chain.chain_id, e->store, NULL, NULL, v),
             LEDGER_OK);
    CHECK_EQ(v[0].rc, LEDGER_E_NONCE_USED); /* committed in block 1 */
    CHECK_EQ(v[1].rc, LEDGER_OK);
    CHECK_EQ(ledger_admit_check(both, lens, 2, e->chain.chain_id, NULL, NULL, NULL, v), LEDGER_OK);
    CHECK_EQ(v[0].rc, LEDGER_OK); /* without the store: only stateless checks */

    /* block 2 with t1 whose signature is broken */
    ledger_mempool_destroy(&pool);
    pool = ledger_mempool_new(e->store, NULL);
    CHECK_EQ(ledger_mempool_add(pool, t1, l1, NULL, why, sizeof why), LEDGER_OK);
    bp.time_ms = 9100;
    CHECK_EQ(ledger_block_build(e->store, pool, &bp, &block, &blen, &st), LEDGER_OK);
    ledger_state_destroy(&st);
    /* flip a signature bit of the tx inside the block: its txid (and so the tx root)
       changes, so rebuild the block around the broken tx instead */
    ledger_block_t *b = NULL;
    CHECK_EQ(ledger_block_decode(block, blen, &b), PROTO_OK);
    ledger_header_t h = *ledger_block_header(b);
    ledger_block_destroy(&b);
    free(block);
    uint8_t *bad = malloc(l1);
    memcpy(bad, t1, l1);
    bad[l1 - 9] ^= 0x40;
    uint8_t id[32];
    ledger_tx_id(bad, l1, id);
    ledger_block_tx_root((const uint8_t(*)[32])id, 1, h.tx_root);
    const uint8_t *one[1] = {bad};
    block = ledger_block_encode(&h, one, &l1, 1, &blen);
    CHECK(block != NULL);
    char rj[LEDGER_ERR_MAX] = "";
    long rj_tx = -1;
    CHECK_EQ(ledger_block_execute(e->store, block, blen, NULL, 0, &st, &rj_tx, rj, sizeof rj),
             LEDGER_E_BAD_SIG);
    CHECK_EQ(rj_tx, 0);
    ledger_state_destroy(&st);
    /* trusted (the flag a node's own replay uses): the signature is not checked, the block
       executes up to its state root (which was computed for the good tx: the same state) */
    CHECK_EQ(ledger_block_execute(e->store, block, blen, NULL, LEDGER_EXEC_TRUST_SIGS, &st, &rj_tx,
                                  rj, sizeof rj),
             LEDGER_OK);
    ledger_state_destroy(&st);
    free(block);
    free(bad);
    free(t0);
    free(t1);
    ledger_mempool_destroy(&pool);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    proto_log_set_level(LOG_LVL_ERROR);
    env_t e;
    s_env_init(&e);
    test_verdicts(&e);
    test_store_and_block(&e);
    s_env_fini(&e);
    return testutil_done("test_ledger_admit");
}
