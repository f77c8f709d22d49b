/*  bench_ledger_light: the cost of the Merkle tx root and of checking an inclusion proof
 *  as a light client (a query enclave checking a payment) does it.
 *
 *  Usage: bench_ledger_light
 *
 *  Printed, on this machine, one thread:
 *  - tx_root of a block of 10,000 txids: the Merkle root (ledger_block_tx_root) next to
 *    the flat hash of the 320,000 bytes the previous rule used (H("genie/txroot/v1", ids)),
 *    the one cost the consensus path gains per block;
 *  - an audit path of one leaf of those 10,000 (ledger_merkle_path, what
 *    ledger_store_tx_proof computes besides its reads) and the path check alone
 *    (ledger_merkle_verify);
 *  - proof size and ledger_light_verify_tx per second for a chain of 4 and of 64
 *    authorities (certificates of a bare quorum: 3 and 43 Ed25519 signatures), the tx a
 *    leaf of a full 10,000-tx block.
 *  Build Release for meaningful numbers.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_light.h"
#include "ledger/ledger_merkle.h"
#include "ledger/ledger_proof.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_key.h"

#define N_TXS 10000
#define TX_LEN 200

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void s_die(const char *what)
{
    fprintf(stderr, "bench_ledger_light: %s\n", what);
    exit(1);
}

/* A proof of tx INDEX of a full block on a chain of N_AUTH authorities, and that chain's
   light client. */
static void s_setup(size_t n_auth, const uint8_t *txs, const uint8_t (*ids)[32], size_t index,
                    ledger_light_t **light, uint8_t **proof, size_t *len)
{
    proto_key_t *keys[LEDGER_AUTHORITIES_MAX];
    uint8_t auth[LEDGER_AUTHORITIES_MAX][32];
    for (size_t i = 0; i < n_auth; i++) {
        uint8_t seed[PROTO_SEED_LEN];
        memset(seed, (int)(i + 1), sizeof seed);
        if (!(keys[i] = proto_key_from_seed(seed)))
            s_die("key");
        memcpy(auth[i], proto_key_public(keys[i]), 32);
    }
    ledger_genesis_params_t p = {.block_interval_ms = 1000,
                                 .heartbeat_ms = 10000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = 1000};
    snprintf(p.chain_name, sizeof p.chain_name, "bench-light");
    ledger_genesis_t *g = NULL;
    if (ledger_genesis_new(&p, (const uint8_t(*)[32])auth, n_auth, NULL, 0, &g, NULL, 0) !=
        LEDGER_OK)
        s_die("genesis");
    size_t glen = 0;
    const uint8_t *gb = ledger_genesis_canonical(g, &glen);
    if (ledger_light_new(gb, glen, light, NULL, 0) != LEDGER_OK)
        s_die("light client");
    const ledger_valset_t *vs = ledger_light_authorities(*light);
    ledger_header_t h = {.height = 7, .time_ms = 5000};
    memcpy(h.chain_id, ledger_genesis_chain_id(g), 32);
    ledger_merkle_root(ids, N_TXS, h.tx_root);
    uint8_t hash[32];
    ledger_header_hash(&h, hash);
    ledger_cert_t cert = {.height = h.height, .n_sigs = ledger_valset_quorum(vs)};
    memcpy(cert.block_hash, hash, 32);
    for (size_t i = 0; i < cert.n_sigs; i++) {
        ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT, .height = h.height, .has_hash = true};
        memcpy(v.chain_id, h.chain_id, 32);
        memcpy(v.hash, hash, 32);
        for (size_t k = 0; k < n_auth; k++)
            if (memcmp(proto_key_public(keys[k]), vs->keys[i], 32) == 0)
                ledger_vote_sign(&v, keys[k]);
        cert.sigs[i].index = (uint8_t)i;
        memcpy(cert.sigs[i].sig, v.sig, 64);
    }
    uint8_t *cbytes = NULL;
    size_t clen = 0;
    if (ledger_cert_encode(&cert, &cbytes, &clen) != PROTO_OK)
        s_die("cert");
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_header_write(&w, &h);
    size_t hlen = 0;
    uint8_t *hbytes = proto_wr_take(&w, &hlen);
    proto_wr_free(&w);
    ledger_proof_t pr = {.header = hbytes,
                         .header_len = hlen,
                         .cert = cbytes,
                         .cert_len = clen,
                         .tx = txs + index * TX_LEN,
                         .tx_len = TX_LEN,
                         .index = (uint32_t)index,
                         .n_txs = N_TXS};
    if (!hbytes || ledger_merkle_path(ids, N_TXS, index, pr.path, &pr.depth) != 0 ||
        ledger_proof_encode(&pr, proof, len) != LEDGER_OK)
        s_die("proof");
    free(hbytes);
    free(cbytes);
    ledger_genesis_destroy(&g);
    for (size_t i = 0; i < n_auth; i++)
        proto_key_destroy(&keys[i]);
}

int main(void)
{
    if (sodium_init() < 0)
        s_die("sodium_init");
    uint8_t *txs = malloc((size_t)N_TXS * TX_LEN);
    uint8_t(*ids)[32] = malloc(N_TXS * sizeof *ids);
    if (!txs || !ids)
        s_die("out of memory");
    randombytes_buf(txs, (size_t)N_TXS * TX_LEN);
    for (size_t i = 0; i < N_TXS; i++)
        ledger_tx_id(txs + i * TX_LEN, TX_LEN, ids[i]);
    const uint8_t(*cids)[32] = (const uint8_t(*)[32])ids;

    uint8_t root[32];
    int reps = 50;
    double t0 = s_now();
    for (int r = 0; r < reps; r++)
        ledger_block_tx_root(cids, N_TXS, root);
    double merkle = (s_now() - t0) / reps;
    t0 = s_now();
    for (int r = 0; r < reps; r++)
        proto_hash("genie/txroot/v1", &ids[0][0], N_TXS * 32, root);
    double flat = (s_now() - t0) / reps;
    printf("tx_root of %d txids: merkle %.3f ms, flat hash (previous rule) %.3f ms\n", N_TXS,
           merkle * 1e3, flat * 1e3);

    uint8_t path[LEDGER_MERKLE_DEPTH_MAX][32];
    size_t depth = 0;
    t0 = s_now();
    for (int r = 0; r < reps; r++)
        if (ledger_merkle_path(cids, N_TXS, (size_t)r * 199, path, &depth) != 0)
            s_die("path");
    double tpath = (s_now() - t0) / reps;
    ledger_merkle_root(cids, N_TXS, root);
    if (ledger_merkle_path(cids, N_TXS, 4321, path, &depth) != 0)
        s_die("path");
    int vreps = 20000, ok = 0;
    t0 = s_now();
    for (int r = 0; r < vreps; r++)
        ok += ledger_merkle_verify(ids[4321], 4321, N_TXS, (const uint8_t(*)[32])path, depth, root);
    double tver = (s_now() - t0) / vreps;
    if (ok != vreps)
        s_die("path check");
    printf("audit path of 1 of %d (depth %zu): build %.3f ms, check %.2f us\n", N_TXS, depth,
           tpath * 1e3, tver * 1e6);

    const size_t sets[2] = {4, 64};
    for (int s = 0; s < 2; s++) {
        ledger_light_t *light = NULL;
        uint8_t *proof = NULL;
        size_t len = 0;
        s_setup(sets[s], txs, cids, 4321, &light, &proof, &len);
        int n = sets[s] == 4 ? 5000 : 300;
        ledger_light_tx_t out;
        t0 = s_now();
        for (int r = 0; r < n; r++)
            if (ledger_light_verify_tx(light, proof, len, &out, NULL, 0) != LEDGER_OK)
                s_die("verify");
        double dt = (s_now() - t0) / n;
        printf("light verify, %zu authorities (quorum %zu): proof %zu bytes, %.3f ms/proof, "
               "%.0f proofs/s\n",
               sets[s], ledger_valset_quorum(ledger_light_authorities(light)), len, dt * 1e3,
               1.0 / dt);
        free(proof);
        ledger_light_destroy(&light);
    }
    free(txs);
    free(ids);
    return 0;
}
