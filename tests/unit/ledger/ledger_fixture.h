/*  ledger_fixture: a one-authority chain in a fresh LevelDB store under a temporary
 *  directory, for the ledger unit tests that execute blocks or admit transactions.
 *  Keys from fixed seeds (every byte the same): authority 1, alice 2, bob 3 (both funded
 *  with the given balance), outsider 4 (no account); genesis at time 5000 ms, block interval
 *  100 ms, heartbeat 1000 ms, the authority also the attestation service. Header-only. */
#ifndef GENIE_TEST_LEDGER_FIXTURE_H
#define GENIE_TEST_LEDGER_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "ledger/ledger_genesis.h"
#include "ledger/ledger_store.h"
#include "proto/proto_key.h"
#include "testutil.h"

typedef struct {
    char dir[256];
    ledger_store_t *store;
    proto_key_t *auth, *alice, *bob, *outsider;
    ledger_chain_t chain;
} ledger_fixture_t;

/*  The key whose seed is 32 copies of SEED_BYTE (caller destroys). */
static inline proto_key_t *ledger_fixture_key(uint8_t seed_byte)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, seed_byte, sizeof seed);
    return proto_key_from_seed(seed);
}

/*  Makes the chain NAME with BALANCE for alice and bob and the block limits given. */
static inline void ledger_fixture_open(ledger_fixture_t *f, const char *name, uint64_t balance,
                                       uint64_t max_block_txs, uint64_t max_block_bytes)
{
    f->auth = ledger_fixture_key(1);
    f->alice = ledger_fixture_key(2);
    f->bob = ledger_fixture_key(3);
    f->outsider = ledger_fixture_key(4);
    REQUIRE(f->auth && f->alice && f->bob && f->outsider);
    uint8_t auth[1][32];
    memcpy(auth[0], proto_key_public(f->auth), 32);
    ledger_balance_t bal[2];
    memcpy(bal[0].account, proto_key_public(f->alice), 32);
    bal[0].amount = balance;
    memcpy(bal[1].account, proto_key_public(f->bob), 32);
    bal[1].amount = balance;
    ledger_genesis_params_t p = {.block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = max_block_bytes,
                                 .max_block_txs = max_block_txs,
                                 .genesis_time_ms = 5000};
    snprintf(p.chain_name, sizeof p.chain_name, "%s", name);
    memcpy(p.attestation_service, auth[0], 32);
    ledger_genesis_t *g = NULL;
    char err[256];
    REQUIRE(ledger_genesis_new(&p, (const uint8_t(*)[32])auth, 1, bal, 2, &g, err, sizeof err) ==
            LEDGER_OK);
    strcpy(f->dir, testutil_tmpdir());
    REQUIRE(ledger_store_open(f->dir, &f->store, err, sizeof err) == LEDGER_OK);
    REQUIRE(ledger_genesis_apply(g, f->store) == LEDGER_OK);
    REQUIRE(ledger_store_chain(f->store, &f->chain) == LEDGER_OK);
    ledger_genesis_destroy(&g);
}

static inline void ledger_fixture_close(ledger_fixture_t *f)
{
    ledger_store_destroy(&f->store);
    testutil_rmtree(f->dir);
    proto_key_destroy(&f->auth);
    proto_key_destroy(&f->alice);
    proto_key_destroy(&f->bob);
    proto_key_destroy(&f->outsider);
}

#endif
