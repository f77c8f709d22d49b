/*  gen_ledger_proof_corpus: writes the seed corpus tests/fuzz/corpus/ledger_proof/ for
 *  fuzz_ledger_proof.c: real inclusion proofs and certified blocks of the harness's fixed
 *  chain (fuzz_ledger_proof_chain.h), built in a temporary LevelDB store:
 *    block 1: three transfers      -> proof_b1_tx0..2 (case byte 0x00)
 *    block 2: three votes adding the key of seed bytes 0x75 (a majority of four)
 *                                   -> advance_b2 (case byte 0x01: [block bin, cert bin])
 *    block 3: a transfer, certified by the new set of five
 *                                   -> proof_b3_newset (the fresh client refuses it),
 *                                      advance_b3
 *  plus proof_b1_trunc (cut in the middle) and proof_b1_v2 (version 2).
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Build and run by hand from the
 *  repository root (the sanitizer flags when the libraries are a sanitizer build):
 *      cmake --build build --target genie_ledger
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. -fsanitize=address,undefined \
 *         tests/fuzz/gen_ledger_proof_corpus.c build/libgenie_ledger.a build/libgenie_proto.a \
 *         -lleveldb $(pkg-config --libs libsodium jansson msgpack) -lpthread \
 *         -o /tmp/gen_ledger_proof_corpus
 *      /tmp/gen_ledger_proof_corpus tests/fuzz/corpus
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_proof.h"
#include "ledger/ledger_store.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_ledger_proof_chain.h"
#include "tests/fuzz/gen_util.h"

#define N_KEYS (FUZZ_LP_N_AUTH + 1)

static void s_die(const char *what)
{
    fprintf(stderr, "gen_ledger_proof_corpus: %s\n", what);
    exit(1);
}

static void s_write(const char *dir, const char *name, uint8_t kind, const uint8_t *p, size_t n)
{
    gen_put(dir, NULL, name, kind, p, n);
}

/* Certifies HASH at HEIGHT with every member of STORE's current set. */
static uint8_t *s_cert(ledger_store_t *store, proto_key_t **keys, const uint8_t *chain_id,
                       uint64_t height, const uint8_t *hash, size_t *len)
{
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    size_t n = 0;
    if (ledger_store_authorities(store, set, &n) != LEDGER_OK)
        s_die("authorities");
    ledger_cert_t c = {.height = height, .round = 0, .n_sigs = n};
    memcpy(c.block_hash, hash, 32);
    for (size_t i = 0; i < n; i++) {
        proto_key_t *k = NULL;
        for (int j = 0; j < N_KEYS; j++)
            if (memcmp(proto_key_public(keys[j]), set[i], 32) == 0)
                k = keys[j];
        if (!k)
            s_die("unknown authority");
        ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT, .height = height, .has_hash = true};
        memcpy(v.chain_id, chain_id, 32);
        memcpy(v.hash, hash, 32);
        ledger_vote_sign(&v, k);
        c.sigs[i].index = (uint8_t)i;
        memcpy(c.sigs[i].sig, v.sig, 64);
    }
    uint8_t *out = NULL;
    if (ledger_cert_encode(&c, &out, len) != PROTO_OK)
        s_die("cert");
    return out;
}

/* Commits TXS as the next block; writes an advance seed NAME when NAME is not NULL. */
static void s_commit(ledger_store_t *store, proto_key_t **keys, const uint8_t *chain_id,
                     uint8_t **txs, size_t *lens, size_t n, uint64_t time_ms, const char *dir,
                     const char *name)
{
    ledger_mempool_t *pool = ledger_mempool_new(store, NULL);
    char why[LEDGER_ERR_MAX] = "";
    for (size_t i = 0; i < n; i++)
        if (!pool || ledger_mempool_add(pool, txs[i], lens[i], NULL, why, sizeof why) != LEDGER_OK)
            s_die("mempool");
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    size_t n_set = 0;
    if (ledger_store_authorities(store, set, &n_set) != LEDGER_OK)
        s_die("authorities");
    ledger_build_params_t bp = {.time_ms = time_ms};
    memcpy(bp.proposer, set[0], 32);
    uint8_t *block = NULL, *cert = NULL;
    size_t blen = 0, clen = 0;
    ledger_state_t *st = NULL;
    ledger_block_t *b = NULL;
    if (ledger_block_build(store, pool, &bp, &block, &blen, &st) != LEDGER_OK ||
        ledger_block_decode(block, blen, &b) != PROTO_OK || ledger_block_tx_count(b) != n)
        s_die("build");
    cert =
        s_cert(store, keys, chain_id, ledger_block_header(b)->height, ledger_block_hash(b), &clen);
    if (ledger_store_commit(store, block, blen, cert, clen, st) != LEDGER_OK)
        s_die("commit");
    if (name) {
        proto_wr_t w;
        proto_wr_init(&w);
        proto_wr_array(&w, 2);
        proto_wr_bin(&w, block, blen);
        proto_wr_bin(&w, cert, clen);
        size_t len = 0;
        const uint8_t *d = proto_wr_data(&w, &len);
        if (!d)
            s_die("encode");
        s_write(dir, name, 0x01, d, len);
        proto_wr_free(&w);
    }
    for (size_t i = 0; i < n; i++)
        free(txs[i]);
    ledger_block_destroy(&b);
    ledger_state_destroy(&st);
    ledger_mempool_destroy(&pool);
    free(block);
    free(cert);
}

static void s_proof(ledger_store_t *store, const uint8_t *tx, size_t len, const char *dir,
                    const char *name, uint8_t **keep, size_t *keep_len)
{
    uint8_t id[32], *p = NULL;
    size_t plen = 0;
    ledger_tx_id(tx, len, id);
    if (ledger_store_tx_proof(store, id, &p, &plen, NULL) != LEDGER_OK)
        s_die("proof");
    s_write(dir, name, 0x00, p, plen);
    if (keep) {
        *keep = p;
        *keep_len = plen;
    } else {
        free(p);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || sodium_init() < 0)
        s_die("usage: gen_ledger_proof_corpus CORPUS_ROOT");
    char dir[512], tmp[] = "/tmp/gen_ledger_proof.XXXXXX", err[256];
    snprintf(dir, sizeof dir, "%s/ledger_proof", argv[1]);
    mkdir(dir, 0755);
    if (!mkdtemp(tmp))
        s_die("mkdtemp");
    proto_key_t *keys[N_KEYS], *alice = fuzz_lp_key(FUZZ_LP_ALICE_SEED),
                               *bob = fuzz_lp_key(FUZZ_LP_BOB_SEED);
    for (int i = 0; i < N_KEYS; i++)
        keys[i] = fuzz_lp_key((uint8_t)(FUZZ_LP_AUTH_SEED + i));
    ledger_genesis_t *g = fuzz_lp_genesis();
    ledger_store_t *store = NULL;
    if (!g || !alice || !bob || ledger_store_open(tmp, &store, err, sizeof err) != LEDGER_OK ||
        ledger_genesis_apply(g, store) != LEDGER_OK)
        s_die("chain");
    const uint8_t *cid = ledger_genesis_chain_id(g);

    /* block 1: three transfers, with copies kept for the proofs */
    uint8_t *txs[4], *copy[4];
    size_t lens[4];
    for (int i = 0; i < 3; i++) {
        txs[i] = ledger_contract_transfer_tx(alice, cid, (uint64_t)i, proto_key_public(bob),
                                             (uint64_t)(10 + i), &lens[i]);
        copy[i] = malloc(lens[i]);
        if (!txs[i] || !copy[i])
            s_die("tx");
        memcpy(copy[i], txs[i], lens[i]);
    }
    s_commit(store, keys, cid, txs, lens, 3, 2000, dir, NULL);
    uint8_t *p = NULL;
    size_t plen = 0;
    s_proof(store, copy[0], lens[0], dir, "proof_b1_tx0", &p, &plen);
    s_proof(store, copy[1], lens[1], dir, "proof_b1_tx1", NULL, NULL);
    s_proof(store, copy[2], lens[2], dir, "proof_b1_tx2", NULL, NULL);
    s_write(dir, "proof_b1_trunc", 0x00, p, plen / 2);
    p[1] = 2; /* version 2 */
    s_write(dir, "proof_b1_v2", 0x00, p, plen);
    free(p);
    for (int i = 0; i < 3; i++)
        free(copy[i]);

    /* block 2: three of four authorities vote the newcomer in */
    for (int i = 0; i < 3; i++) {
        txs[i] = ledger_contract_auth_vote_tx(keys[i], cid, 0, LEDGER_AUTH_ADD,
                                              proto_key_public(keys[FUZZ_LP_N_AUTH]), &lens[i]);
        if (!txs[i])
            s_die("vote");
    }
    s_commit(store, keys, cid, txs, lens, 3, 2100, dir, "advance_b2");

    /* block 3: a transfer certified by the set of five */
    txs[0] = ledger_contract_transfer_tx(alice, cid, 3, proto_key_public(bob), 7, &lens[0]);
    copy[0] = txs[0] ? malloc(lens[0]) : NULL;
    if (!copy[0])
        s_die("tx");
    memcpy(copy[0], txs[0], lens[0]);
    s_commit(store, keys, cid, txs, lens, 1, 2200, dir, "advance_b3");
    s_proof(store, copy[0], lens[0], dir, "proof_b3_newset", NULL, NULL);
    free(copy[0]);

    ledger_store_destroy(&store);
    ledger_genesis_destroy(&g);
    for (int i = 0; i < N_KEYS; i++)
        proto_key_destroy(&keys[i]);
    proto_key_destroy(&alice);
    proto_key_destroy(&bob);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        s_die("cleanup");
    printf("wrote seeds to %s\n", dir);
    return 0;
}
