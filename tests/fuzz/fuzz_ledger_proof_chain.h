/*  fuzz_ledger_proof_chain: the fixed chain fuzz_ledger_proof checks proofs against, and
 *  gen_ledger_proof_corpus.c builds its seeds on: genesis "fuzz-proof" with four
 *  authorities (key seeds of bytes FUZZ_LP_AUTH_SEED + 0..3), one funded account (seed
 *  bytes FUZZ_LP_ALICE_SEED), genesis time 1000 ms. Header-only.
 */
#ifndef GENIE_FUZZ_LEDGER_PROOF_CHAIN_H
#define GENIE_FUZZ_LEDGER_PROOF_CHAIN_H

#include <stdio.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_genesis.h"
#include "proto/proto_key.h"

#define FUZZ_LP_AUTH_SEED 0x71
#define FUZZ_LP_N_AUTH 4
#define FUZZ_LP_ALICE_SEED 0x7a
#define FUZZ_LP_BOB_SEED 0x7b

/* The key of seed bytes B (caller destroys), NULL on failure. */
static inline proto_key_t *fuzz_lp_key(uint8_t b)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, b, sizeof seed);
    return proto_key_from_seed(seed);
}

/* The fixed genesis (caller destroys), NULL on failure. */
static inline ledger_genesis_t *fuzz_lp_genesis(void)
{
    uint8_t auth[FUZZ_LP_N_AUTH][32];
    ledger_balance_t bal[1];
    for (int i = 0; i <= FUZZ_LP_N_AUTH; i++) {
        proto_key_t *k =
            fuzz_lp_key(i < FUZZ_LP_N_AUTH ? (uint8_t)(FUZZ_LP_AUTH_SEED + i) : FUZZ_LP_ALICE_SEED);
        if (!k)
            return NULL;
        memcpy(i < FUZZ_LP_N_AUTH ? auth[i] : bal[0].account, proto_key_public(k), 32);
        proto_key_destroy(&k);
    }
    bal[0].amount = 1000000;
    ledger_genesis_params_t p = {.block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = 1000};
    snprintf(p.chain_name, sizeof p.chain_name, "fuzz-proof");
    ledger_genesis_t *g = NULL;
    if (ledger_genesis_new(&p, (const uint8_t(*)[32])auth, FUZZ_LP_N_AUTH, bal, 1, &g, NULL, 0) !=
        LEDGER_OK)
        return NULL;
    return g;
}

#endif
