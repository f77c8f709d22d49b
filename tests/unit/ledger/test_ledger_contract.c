/*  test_ledger_contract: native contract semantics on a real store.
 *  TRANSFER: balances, insufficient funds, overflow, self-transfer, replay, nonce gap.
 *  AUTH_VOTE: majority adds/removes at the end of the block, non-authority votes, the
 *  last authority, double votes, impossible changes. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "proto/proto_key.h"
#include "testutil.h"

#define MAXK 8

static proto_key_t *s_key(uint8_t seed_byte)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, seed_byte, sizeof seed);
    return proto_key_from_seed(seed);
}

/* A store in a fresh directory with a genesis of the given authorities (each with
   BALANCE). */
static ledger_store_t *s_chain_new(proto_key_t **auth, size_t n, uint64_t balance, char *dir_out)
{
    uint8_t keys[MAXK][32];
    ledger_balance_t bal[MAXK];
    for (size_t i = 0; i < n; i++) {
        memcpy(keys[i], proto_key_public(auth[i]), 32);
        memcpy(bal[i].account, keys[i], 32);
        bal[i].amount = balance;
    }
    ledger_genesis_params_t p = {.chain_name = "test",
                                 .block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = 1000};
    memcpy(p.attestation_service, keys[0], 32);
    ledger_genesis_t *g = NULL;
    char err[256];
    CHECK_EQ(ledger_genesis_new(&p, (const uint8_t(*)[32])keys, n, bal, n, &g, err, sizeof err),
             LEDGER_OK);
    strcpy(dir_out, testutil_tmpdir());
    ledger_store_t *s = NULL;
    CHECK_EQ(ledger_store_open(dir_out, &s, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(g, s), LEDGER_OK);
    ledger_genesis_destroy(&g);
    return s;
}

static uint64_t s_nonce(ledger_store_t *s, proto_key_t *k)
{
    ledger_account_t a;
    CHECK_EQ(ledger_store_account(s, proto_key_public(k), &a), LEDGER_OK);
    return a.nonce;
}

static uint64_t s_balance(ledger_store_t *s, const uint8_t *pub)
{
    ledger_account_t a;
    CHECK_EQ(ledger_store_account(s, pub, &a), LEDGER_OK);
    return a.balance;
}

/* Applies the N txs in order as the next block, validates it like a peer would and
   commits it. Returns LEDGER_OK or the first refusal (*bad_index set); nothing is
   committed then. */
static int s_block(ledger_store_t *s, uint8_t *const *txs, const size_t *lens, size_t n,
                   const uint8_t *proposer, size_t *bad_index)
{
    ledger_head_t head;
    ledger_chain_t chain;
    CHECK_EQ(ledger_store_head(s, &head), LEDGER_OK);
    CHECK_EQ(ledger_store_chain(s, &chain), LEDGER_OK);
    ledger_state_t *st = ledger_state_new(s);
    uint8_t(*ids)[32] = calloc(n + 1, 32);
    int rc = LEDGER_OK;
    for (size_t i = 0; i < n && rc == LEDGER_OK; i++) {
        ledger_tx_t tx;
        char why[LEDGER_ERR_MAX] = "";
        rc = ledger_tx_parse(txs[i], lens[i], chain.chain_id, true, &tx, why, sizeof why);
        if (rc == LEDGER_OK)
            rc = ledger_state_apply_tx(st, &tx, why, sizeof why);
        if (rc != LEDGER_OK && bad_index)
            *bad_index = i;
        ledger_tx_id(txs[i], lens[i], ids[i]);
    }
    if (rc == LEDGER_OK) {
        CHECK_EQ(ledger_state_end_block(st), LEDGER_OK);
        ledger_header_t h = {.height = head.height + 1, .time_ms = head.time_ms + 10};
        memcpy(h.chain_id, chain.chain_id, 32);
        memcpy(h.prev_hash, head.hash, 32);
        memcpy(h.proposer, proposer, 32);
        ledger_block_tx_root((const uint8_t(*)[32])ids, n, h.tx_root);
        CHECK_EQ(ledger_state_finish(st, head.state_root, h.state_root), LEDGER_OK);
        size_t blen;
        uint8_t *block = ledger_block_encode(&h, (const uint8_t *const *)txs, lens, n, &blen);
        CHECK(block != NULL);
        ledger_state_t *peer = NULL;
        rc = ledger_block_execute(s, block, blen, NULL, 0, &peer, NULL, NULL, 0);
        CHECK_EQ(rc, LEDGER_OK);
        if (rc == LEDGER_OK)
            CHECK_EQ(ledger_store_commit(s, block, blen, (const uint8_t *)"cert", 4, peer),
                     LEDGER_OK);
        ledger_state_destroy(&peer);
        free(block);
    }
    free(ids);
    ledger_state_destroy(&st);
    return rc;
}

/* One tx as a block. LEN is read only once TX has been built (argument order). */
static int s_one(ledger_store_t *s, uint8_t *tx, const size_t *len, const uint8_t *proposer)
{
    int rc = s_block(s, &tx, len, 1, proposer, NULL);
    free(tx);
    return rc;
}

static bool s_is_auth(ledger_store_t *s, const uint8_t *pub, size_t *n_out)
{
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    size_t n;
    CHECK_EQ(ledger_store_authorities(s, set, &n), LEDGER_OK);
    if (n_out)
        *n_out = n;
    for (size_t i = 0; i < n; i++)
        if (memcmp(set[i], pub, 32) == 0)
            return true;
    return false;
}

static void test_transfer(void)
{
    proto_key_t *a = s_key(1), *b = s_key(2);
    char dir[256];
    ledger_store_t *s = s_chain_new(&a, 1, 1000, dir);
    const uint8_t *chain = NULL;
    ledger_chain_t ch;
    CHECK_EQ(ledger_store_chain(s, &ch), LEDGER_OK);
    chain = ch.chain_id;
    const uint8_t *pa = proto_key_public(a), *pb = proto_key_public(b);
    size_t len;

    /* plain transfer creates the receiver */
    CHECK_EQ(s_one(s, ledger_contract_transfer_tx(a, chain, 0, pb, 300, &len), &len, pa),
             LEDGER_OK);
    CHECK_EQ(s_balance(s, pa), 700u);
    CHECK_EQ(s_balance(s, pb), 300u);
    CHECK_EQ(s_nonce(s, a), 1u);
    CHECK_EQ(s_nonce(s, b), 0u);

    /* insufficient balance: refused, nothing changes */
    CHECK_EQ(s_one(s, ledger_contract_transfer_tx(b, chain, 0, pa, 301, &len), &len, pa),
             LEDGER_E_FUNDS);
    CHECK_EQ(s_balance(s, pb), 300u);
    CHECK_EQ(s_nonce(s, b), 0u);
    /* exactly the balance is fine */
    CHECK_EQ(s_one(s, ledger_contract_transfer_tx(b, chain, 0, pa, 300, &len), &len, pa),
             LEDGER_OK);
    CHECK_EQ(s_balance(s, pb), 0u);
    CHECK_EQ(s_balance(s, pa), 1000u);

    /* self-transfer: allowed, only the nonce moves; still needs the balance */
    CHECK_EQ(s_one(s, ledger_contract_transfer_tx(a, chain, 1, pa, 1000, &len), &len, pa),
             LEDGER_OK);
    CHECK_EQ(s_balance(s, pa), 1000u);
    CHECK_EQ(s_nonce(s, a), 2u);
    CHECK_EQ(s_one(s, ledger_contract_transfer_tx(a, chain, 2, pa, 1001, &len), &len, pa),
             LEDGER_E_FUNDS);

    /* replay: the exact same tx again */
    uint8_t *t = ledger_contract_transfer_tx(a, chain, 2, pb, 5, &len);
    uint8_t *copy = malloc(len);
    memcpy(copy, t, len);
    CHECK_EQ(s_one(s, t, &len, pa), LEDGER_OK);
    CHECK_EQ(s_one(s, copy, &len, pa), LEDGER_E_NONCE_USED);
    /* wrong nonce: ahead */
    CHECK_EQ(s_one(s, ledger_contract_transfer_tx(a, chain, 9, pb, 5, &len), &len, pa),
             LEDGER_E_NONCE_GAP);
    /* zero amount */
    CHECK_EQ(s_one(s, ledger_contract_transfer_tx(a, chain, 3, pb, 0, &len), &len, pa),
             LEDGER_E_INVALID);
    /* several txs of one sender in one block, in nonce order */
    uint8_t *txs[3];
    size_t lens[3];
    for (int i = 0; i < 3; i++)
        txs[i] = ledger_contract_transfer_tx(a, chain, 3 + (uint64_t)i, pb, 10, &lens[i]);
    CHECK_EQ(s_block(s, txs, lens, 3, pa, NULL), LEDGER_OK);
    CHECK_EQ(s_balance(s, pb), 35u);
    CHECK_EQ(s_nonce(s, a), 6u);
    /* out of order in one block: refused as a whole */
    for (int i = 0; i < 3; i++)
        free(txs[i]);
    txs[0] = ledger_contract_transfer_tx(a, chain, 7, pb, 1, &lens[0]);
    txs[1] = ledger_contract_transfer_tx(a, chain, 6, pb, 1, &lens[1]);
    size_t bad = 99;
    CHECK_EQ(s_block(s, txs, lens, 2, pa, &bad), LEDGER_E_NONCE_GAP);
    CHECK_EQ(bad, 0u);
    CHECK_EQ(s_nonce(s, a), 6u);
    free(txs[0]);
    free(txs[1]);

    ledger_store_destroy(&s);
    testutil_rmtree(dir);

    /* overflow: the receiver's balance would pass 2^64-1 (state-level: genesis caps the
       supply, so build the balances directly) */
    ledger_state_t *st = ledger_state_new(NULL);
    ledger_account_t acc = {.balance = 100, .nonce = 0};
    CHECK_EQ(ledger_state_set_account(st, pa, &acc), LEDGER_OK);
    acc.balance = UINT64_MAX - 10;
    CHECK_EQ(ledger_state_set_account(st, pb, &acc), LEDGER_OK);
    uint8_t *o = ledger_contract_transfer_tx(a, chain, 0, pb, 11, &len);
    ledger_tx_t tx;
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(ledger_tx_decode(o, len, &tx), PROTO_OK);
    CHECK_EQ(ledger_state_apply_tx(st, &tx, why, sizeof why), LEDGER_E_OVERFLOW);
    free(o);
    o = ledger_contract_transfer_tx(a, chain, 0, pb, 10, &len);
    CHECK_EQ(ledger_tx_decode(o, len, &tx), PROTO_OK);
    CHECK_EQ(ledger_state_apply_tx(st, &tx, why, sizeof why), LEDGER_OK);
    CHECK_EQ(ledger_state_account(st, pb, &acc), LEDGER_OK);
    CHECK_EQ(acc.balance, UINT64_MAX);
    free(o);
    ledger_state_destroy(&st);

    proto_key_destroy(&a);
    proto_key_destroy(&b);
}

static void test_votes(void)
{
    proto_key_t *k[6];
    for (int i = 0; i < 6; i++)
        k[i] = s_key((uint8_t)(10 + i));
    proto_key_t *outsider = k[5], *x = k[4];
    const uint8_t *px = proto_key_public(x);
    char dir[256];
    ledger_store_t *s = s_chain_new(k, 4, 100, dir); /* authorities k0..k3 */
    ledger_chain_t ch;
    CHECK_EQ(ledger_store_chain(s, &ch), LEDGER_OK);
    const uint8_t *chain = ch.chain_id;
    const uint8_t *p0 = proto_key_public(k[0]);
    size_t len, n;

    /* a non-authority cannot vote */
    CHECK_EQ(s_one(s, ledger_contract_auth_vote_tx(outsider, chain, 0, LEDGER_AUTH_ADD, px, &len),
                   &len, p0),
             LEDGER_E_NOT_AUTHORITY);
    /* add an existing member / remove a non-member */
    CHECK_EQ(s_one(s,
                   ledger_contract_auth_vote_tx(k[0], chain, 0, LEDGER_AUTH_ADD,
                                                proto_key_public(k[1]), &len),
                   &len, p0),
             LEDGER_E_AUTH_RULE);
    CHECK_EQ(s_one(s, ledger_contract_auth_vote_tx(k[0], chain, 0, LEDGER_AUTH_REMOVE, px, &len),
                   &len, p0),
             LEDGER_E_AUTH_RULE);

    /* votes across blocks: 1/4, 2/4 (not more than half), 3/4 adds x */
    CHECK_EQ(
        s_one(s, ledger_contract_auth_vote_tx(k[0], chain, 0, LEDGER_AUTH_ADD, px, &len), &len, p0),
        LEDGER_OK);
    CHECK(!s_is_auth(s, px, &n));
    CHECK_EQ(n, 4u);
    /* voting twice is refused */
    CHECK_EQ(
        s_one(s, ledger_contract_auth_vote_tx(k[0], chain, 1, LEDGER_AUTH_ADD, px, &len), &len, p0),
        LEDGER_E_AUTH_RULE);
    CHECK_EQ(
        s_one(s, ledger_contract_auth_vote_tx(k[1], chain, 0, LEDGER_AUTH_ADD, px, &len), &len, p0),
        LEDGER_OK);
    CHECK(!s_is_auth(s, px, &n));
    /* the vote list is stored sorted under 'v' 1 subject */
    uint8_t vkey[34] = {'v', LEDGER_AUTH_ADD};
    memcpy(vkey + 2, px, 32);
    uint8_t *val;
    size_t vlen;
    CHECK_EQ(ledger_store_get(s, vkey, sizeof vkey, &val, &vlen), LEDGER_OK);
    CHECK_EQ(vlen, 64u);
    free(val);
    CHECK_EQ(
        s_one(s, ledger_contract_auth_vote_tx(k[2], chain, 0, LEDGER_AUTH_ADD, px, &len), &len, p0),
        LEDGER_OK);
    CHECK(s_is_auth(s, px, &n));
    CHECK_EQ(n, 5u);
    /* votes cleared */
    CHECK_EQ(ledger_store_get(s, vkey, sizeof vkey, &val, &vlen), LEDGER_E_NOT_FOUND);

    /* the new member votes; majority inside one block applies at the end of that block,
       and a member removed in a block can still vote in it */
    const uint8_t *p3 = proto_key_public(k[3]);
    uint8_t *txs[3];
    size_t lens[3];
    txs[0] = ledger_contract_auth_vote_tx(x, chain, 0, LEDGER_AUTH_REMOVE, p3, &lens[0]);
    txs[1] = ledger_contract_auth_vote_tx(k[0], chain, 1, LEDGER_AUTH_REMOVE, p3, &lens[1]);
    txs[2] = ledger_contract_auth_vote_tx(k[1], chain, 1, LEDGER_AUTH_REMOVE, p3, &lens[2]);
    CHECK_EQ(s_block(s, txs, lens, 3, p0, NULL), LEDGER_OK); /* 3/5 > half */
    CHECK(!s_is_auth(s, p3, &n));
    CHECK_EQ(n, 4u);
    for (int i = 0; i < 3; i++)
        free(txs[i]);

    /* the change applies only at the end of the block: a newly added member cannot vote
       in the block that adds it */
    proto_key_t *y = k[5];
    const uint8_t *py = proto_key_public(y);
    txs[0] = ledger_contract_auth_vote_tx(k[0], chain, 2, LEDGER_AUTH_ADD, py, &lens[0]);
    txs[1] = ledger_contract_auth_vote_tx(k[1], chain, 2, LEDGER_AUTH_ADD, py, &lens[1]);
    txs[2] = ledger_contract_auth_vote_tx(k[2], chain, 1, LEDGER_AUTH_ADD, py, &lens[2]);
    CHECK_EQ(s_block(s, txs, lens, 3, p0, NULL), LEDGER_OK); /* 3/4 */
    CHECK(s_is_auth(s, py, &n));
    CHECK_EQ(n, 5u);
    for (int i = 0; i < 3; i++)
        free(txs[i]);
    size_t bad = 99;
    txs[0] = ledger_contract_auth_vote_tx(k[0], chain, 3, LEDGER_AUTH_ADD, p3, &lens[0]);
    txs[1] = ledger_contract_auth_vote_tx(k[1], chain, 3, LEDGER_AUTH_ADD, p3, &lens[1]);
    txs[2] = ledger_contract_auth_vote_tx(k[2], chain, 2, LEDGER_AUTH_ADD, p3, &lens[2]);
    uint8_t *t3[4] = {txs[0], txs[1], txs[2], NULL};
    size_t l3[4] = {lens[0], lens[1], lens[2], 0};
    t3[3] = ledger_contract_auth_vote_tx(k[3], chain, 0, LEDGER_AUTH_ADD, px, &l3[3]);
    CHECK_EQ(s_block(s, t3, l3, 4, p0, &bad), LEDGER_E_NOT_AUTHORITY); /* k3 not yet back */
    CHECK_EQ(bad, 3u);
    CHECK(!s_is_auth(s, p3, &n));
    for (int i = 0; i < 4; i++)
        free(t3[i]);

    ledger_store_destroy(&s);
    testutil_rmtree(dir);
    for (int i = 0; i < 6; i++)
        proto_key_destroy(&k[i]);
}

static void test_last_authority(void)
{
    proto_key_t *a = s_key(30), *b = s_key(31);
    const uint8_t *pa = proto_key_public(a), *pb = proto_key_public(b);
    char dir[256];
    ledger_store_t *s = s_chain_new(&a, 1, 0, dir);
    ledger_chain_t ch;
    CHECK_EQ(ledger_store_chain(s, &ch), LEDGER_OK);
    size_t len, n;
    /* the only authority cannot remove itself */
    CHECK_EQ(s_one(s, ledger_contract_auth_vote_tx(a, ch.chain_id, 0, LEDGER_AUTH_REMOVE, pa, &len),
                   &len, pa),
             LEDGER_E_AUTH_RULE);
    /* alone, one vote is a majority: b joins at once */
    CHECK_EQ(s_one(s, ledger_contract_auth_vote_tx(a, ch.chain_id, 0, LEDGER_AUTH_ADD, pb, &len),
                   &len, pa),
             LEDGER_OK);
    CHECK(s_is_auth(s, pb, &n));
    CHECK_EQ(n, 2u);
    /* with two, both vote to remove b and to remove a in one block: the first change to
       reach a majority applies, the second would empty the set and is dropped */
    uint8_t *txs[4];
    size_t lens[4];
    txs[0] = ledger_contract_auth_vote_tx(a, ch.chain_id, 1, LEDGER_AUTH_REMOVE, pb, &lens[0]);
    txs[1] = ledger_contract_auth_vote_tx(a, ch.chain_id, 2, LEDGER_AUTH_REMOVE, pa, &lens[1]);
    txs[2] = ledger_contract_auth_vote_tx(b, ch.chain_id, 0, LEDGER_AUTH_REMOVE, pa, &lens[2]);
    txs[3] = ledger_contract_auth_vote_tx(b, ch.chain_id, 1, LEDGER_AUTH_REMOVE, pb, &lens[3]);
    CHECK_EQ(s_block(s, txs, lens, 4, pa, NULL), LEDGER_OK);
    CHECK(s_is_auth(s, pa, &n));
    CHECK_EQ(n, 1u);
    CHECK(!s_is_auth(s, pb, NULL));
    /* both proposals' votes are cleared */
    uint8_t vkey[34] = {'v', LEDGER_AUTH_REMOVE};
    uint8_t *val;
    size_t vlen;
    memcpy(vkey + 2, pa, 32);
    CHECK_EQ(ledger_store_get(s, vkey, sizeof vkey, &val, &vlen), LEDGER_E_NOT_FOUND);
    memcpy(vkey + 2, pb, 32);
    CHECK_EQ(ledger_store_get(s, vkey, sizeof vkey, &val, &vlen), LEDGER_E_NOT_FOUND);
    for (int i = 0; i < 4; i++)
        free(txs[i]);
    /* the removed authority's votes no longer count, and it cannot propose */
    CHECK_EQ(s_one(s, ledger_contract_auth_vote_tx(b, ch.chain_id, 2, LEDGER_AUTH_ADD, pb, &len),
                   &len, pa),
             LEDGER_E_NOT_AUTHORITY);

    ledger_store_destroy(&s);
    testutil_rmtree(dir);
    proto_key_destroy(&a);
    proto_key_destroy(&b);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    test_transfer();
    test_votes();
    test_last_authority();
    return testutil_done("test_ledger_contract");
}
