/*  test_ledger_light: inclusion proofs (ledger_store_tx_proof, ledger_proof.h) and the
 *  light client (ledger_light.h) over a real chain: four authorities, blocks built from a
 *  mempool and committed with real commit certificates in a LevelDB store.
 *  - every committed tx's proof verifies and yields the tx bytes, txid, height and time;
 *  - a swapped tx, a flipped path byte, a wrong index, a header of another chain, a cert
 *    with too few signatures, by non-authorities, for another height or hash, truncated
 *    bytes: each refused (LEDGER_E_PROOF); no single-bit flip of a proof makes it prove
 *    anything else;
 *  - authority changes: votes spread over two blocks add an authority, a later block
 *    removes one; a client fed those blocks follows the store's set exactly and verifies
 *    proofs certified by the new sets (and still the old ones), a client not fed them
 *    refuses the new sets' proofs; bad feeds are refused and change nothing;
 *  - two changes decided in one block, the second impossible after the first: the client
 *    applies the first written and drops the other, as the contract does;
 *  - random votes over many blocks (seeded): a client fed every block with votes holds
 *    the store's authority set after each one (the shared rule, open lists across blocks,
 *    pruning of removed voters);
 *  - the proof codec's bounds (version, empty cert, index and n_txs ranges, path depth,
 *    trailing bytes, total size), and its round trip;
 *  - the canonical genesis reader: chain id as ledger_genesis_chain_id, malformed bytes
 *    refused. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_light.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_proof.h"
#include "ledger/ledger_store.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "testutil.h"

#define N_KEYS                                                                                     \
    8 /* authorities 0..3 (seeds 1..4), newcomer 4 (seed 5), others 5..7 (seeds 6..8)              \
       */

typedef struct {
    char dir[256];
    ledger_store_t *store;
    ledger_genesis_t *genesis;
    proto_key_t *keys[N_KEYS];
    proto_key_t *alice, *bob;
    uint64_t alice_nonce;
    uint64_t auth_nonce[N_KEYS];
    uint64_t time_ms;
} chain_t;

static proto_key_t *s_key(uint8_t seed_byte)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, seed_byte, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    REQUIRE(k != NULL);
    return k;
}

static void s_chain_open_n(chain_t *c, const char *name, size_t n_auth)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < N_KEYS; i++)
        c->keys[i] = s_key((uint8_t)(i + 1));
    c->alice = s_key(10);
    c->bob = s_key(11);
    uint8_t auth[4][32];
    for (size_t i = 0; i < n_auth && i < 4; i++)
        memcpy(auth[i], proto_key_public(c->keys[i]), 32);
    ledger_balance_t bal[1];
    memcpy(bal[0].account, proto_key_public(c->alice), 32);
    bal[0].amount = 1000000;
    ledger_genesis_params_t p = {.block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = 5000};
    snprintf(p.chain_name, sizeof p.chain_name, "%s", name);
    char err[256];
    REQUIRE(ledger_genesis_new(&p, (const uint8_t(*)[32])auth, n_auth, bal, 1, &c->genesis, err,
                               sizeof err) == LEDGER_OK);
    strcpy(c->dir, testutil_tmpdir());
    REQUIRE(ledger_store_open(c->dir, &c->store, err, sizeof err) == LEDGER_OK);
    REQUIRE(ledger_genesis_apply(c->genesis, c->store) == LEDGER_OK);
    c->time_ms = 6000;
}

static void s_chain_open(chain_t *c, const char *name)
{
    s_chain_open_n(c, name, 4);
}

static void s_chain_close(chain_t *c)
{
    ledger_store_destroy(&c->store);
    testutil_rmtree(c->dir);
    ledger_genesis_destroy(&c->genesis);
    for (int i = 0; i < N_KEYS; i++)
        proto_key_destroy(&c->keys[i]);
    proto_key_destroy(&c->alice);
    proto_key_destroy(&c->bob);
}

static proto_key_t *s_key_of(chain_t *c, const uint8_t *pub)
{
    for (int i = 0; i < N_KEYS; i++)
        if (memcmp(proto_key_public(c->keys[i]), pub, 32) == 0)
            return c->keys[i];
    return NULL;
}

/* A certificate of HASH at HEIGHT on CHAIN_ID: SIGNERS[i] signs as index IDX[i]. */
static uint8_t *s_cert_by(const uint8_t chain_id[32], uint64_t height, const uint8_t hash[32],
                          proto_key_t *const *signers, const uint8_t *idx, size_t n, size_t *len)
{
    ledger_cert_t cert = {.height = height, .round = 0};
    memcpy(cert.block_hash, hash, 32);
    for (size_t i = 0; i < n; i++) {
        ledger_vote_t v = {.type = LEDGER_VOTE_PRECOMMIT, .height = height, .has_hash = true};
        memcpy(v.chain_id, chain_id, 32);
        memcpy(v.hash, hash, 32);
        ledger_vote_sign(&v, signers[i]);
        cert.sigs[i].index = idx[i];
        memcpy(cert.sigs[i].sig, v.sig, 64);
    }
    cert.n_sigs = n;
    uint8_t *out = NULL;
    CHECK_EQ(ledger_cert_encode(&cert, &out, len), PROTO_OK);
    return out;
}

/* A certificate of HASH at HEIGHT by the first N members of the store's current set. */
static uint8_t *s_cert(chain_t *c, uint64_t height, const uint8_t hash[32], size_t n, size_t *len)
{
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    size_t n_set = 0;
    CHECK_EQ(ledger_store_authorities(c->store, set, &n_set), LEDGER_OK);
    proto_key_t *signers[LEDGER_AUTHORITIES_MAX];
    uint8_t idx[LEDGER_AUTHORITIES_MAX];
    for (size_t i = 0; i < n && i < n_set; i++) {
        signers[i] = s_key_of(c, set[i]);
        REQUIRE(signers[i] != NULL);
        idx[i] = (uint8_t)i;
    }
    return s_cert_by(ledger_genesis_chain_id(c->genesis), height, hash, signers, idx,
                     n < n_set ? n : n_set, len);
}

/* Builds the next block from TXS (N, all admitted), certifies it with every current
   authority and commits it. Returns the block's height; *BLOCK / *CERT (may be NULL) get
   copies (caller frees). */
static uint64_t s_commit(chain_t *c, uint8_t **txs, const size_t *lens, size_t n,
                         uint8_t **block_out, size_t *blen_out, uint8_t **cert_out,
                         size_t *clen_out)
{
    ledger_mempool_t *pool = ledger_mempool_new(c->store, NULL);
    REQUIRE(pool != NULL);
    char why[LEDGER_ERR_MAX] = "";
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(ledger_mempool_add(pool, txs[i], lens[i], NULL, why, sizeof why), LEDGER_OK);
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    size_t n_set = 0;
    CHECK_EQ(ledger_store_authorities(c->store, set, &n_set), LEDGER_OK);
    ledger_build_params_t bp = {.time_ms = c->time_ms += 100, .round = 0};
    memcpy(bp.proposer, set[0], 32);
    uint8_t *block = NULL;
    size_t blen = 0;
    ledger_state_t *st = NULL;
    CHECK_EQ(ledger_block_build(c->store, pool, &bp, &block, &blen, &st), LEDGER_OK);
    ledger_block_t *b = NULL;
    REQUIRE(ledger_block_decode(block, blen, &b) == PROTO_OK);
    CHECK_EQ(ledger_block_tx_count(b), n);
    uint64_t height = ledger_block_header(b)->height;
    size_t clen = 0;
    uint8_t *cert = s_cert(c, height, ledger_block_hash(b), n_set, &clen);
    CHECK_EQ(ledger_store_commit(c->store, block, blen, cert, clen, st), LEDGER_OK);
    ledger_block_destroy(&b);
    ledger_state_destroy(&st);
    ledger_mempool_destroy(&pool);
    for (size_t i = 0; i < n; i++)
        free(txs[i]);
    if (block_out) {
        *block_out = block;
        *blen_out = blen;
    } else {
        free(block);
    }
    if (cert_out) {
        *cert_out = cert;
        *clen_out = clen;
    } else {
        free(cert);
    }
    return height;
}

/* N transfers from alice to bob in one block; their txids into IDS. */
static uint64_t s_transfers(chain_t *c, size_t n, uint8_t (*ids)[32])
{
    uint8_t *txs[16];
    size_t lens[16];
    REQUIRE(n <= 16);
    for (size_t i = 0; i < n; i++) {
        txs[i] = ledger_contract_transfer_tx(c->alice, ledger_genesis_chain_id(c->genesis),
                                             c->alice_nonce++, proto_key_public(c->bob), 1 + i,
                                             &lens[i]);
        REQUIRE(txs[i] != NULL);
        ledger_tx_id(txs[i], lens[i], ids[i]);
    }
    return s_commit(c, txs, lens, n, NULL, NULL, NULL, NULL);
}

static ledger_light_t *s_light(chain_t *c)
{
    size_t len = 0;
    const uint8_t *g = ledger_genesis_canonical(c->genesis, &len);
    ledger_light_t *l = NULL;
    char err[256];
    REQUIRE(ledger_light_new(g, len, &l, err, sizeof err) == LEDGER_OK);
    return l;
}

static uint8_t *s_proof(chain_t *c, const uint8_t txid[32], size_t *len)
{
    uint8_t *p = NULL;
    uint64_t h = 0;
    CHECK_EQ(ledger_store_tx_proof(c->store, txid, &p, len, &h), LEDGER_OK);
    REQUIRE(p != NULL);
    return p;
}

static int s_verify(const ledger_light_t *l, const uint8_t *p, size_t len)
{
    ledger_light_tx_t out;
    char err[256] = "";
    return ledger_light_verify_tx(l, p, len, &out, err, sizeof err);
}

/* Re-encodes the decoded proof P (pointers into live buffers). */
static uint8_t *s_reencode(const ledger_proof_t *p, size_t *len)
{
    uint8_t *out = NULL;
    CHECK_EQ(ledger_proof_encode(p, &out, len), LEDGER_OK);
    return out;
}

/* A proof array with the given fields (PATH: DEPTH hashes of byte 0x11; EXTRA: a byte
   after the array when >= 0). */
static uint8_t *s_raw_proof(uint64_t version, size_t cert_len, uint64_t index, uint64_t n_txs,
                            uint32_t depth, int extra, size_t *len)
{
    static const uint8_t header[8] = {1}, cert[16] = {2}, tx[8] = {3};
    uint8_t h[32];
    memset(h, 0x11, sizeof h);
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 7);
    proto_wr_uint(&w, version);
    proto_wr_bin(&w, header, sizeof header);
    proto_wr_bin(&w, cert, cert_len);
    proto_wr_bin(&w, tx, sizeof tx);
    proto_wr_uint(&w, index);
    proto_wr_uint(&w, n_txs);
    proto_wr_array(&w, depth);
    for (uint32_t i = 0; i < depth; i++)
        proto_wr_bin(&w, h, 32);
    if (extra >= 0)
        proto_wr_uint(&w, (uint64_t)extra);
    uint8_t *out = proto_wr_take(&w, len);
    proto_wr_free(&w);
    REQUIRE(out != NULL);
    return out;
}

/* The codec's bounds, field by field (structure only: no signature is looked at). */
static void test_codec(void)
{
    struct {
        uint64_t version;
        size_t cert_len;
        uint64_t index, n_txs;
        uint32_t depth;
        int extra, want;
    } cases[] = {
        {1, 16, 0, 1, 0, -1, PROTO_OK},
        {1, 16, 9999, 10000, 14, -1, PROTO_OK},
        {1, 16, 0, 1, LEDGER_MERKLE_DEPTH_MAX, -1, PROTO_OK},
        {2, 16, 0, 1, 0, -1, PROTO_E_VERSION},
        {0, 16, 0, 1, 0, -1, PROTO_E_VERSION},
        {1, 0, 0, 1, 0, -1, PROTO_E_INVALID},
        {1, 16, 1, 1, 0, -1, PROTO_E_RANGE},
        {1, 16, 0, 0, 0, -1, PROTO_E_RANGE},
        {1, 16, 0, 10001, 0, -1, PROTO_E_RANGE},
        {1, 16, 10000, 10000, 0, -1, PROTO_E_RANGE},
        {1, 16, 0, 1, LEDGER_MERKLE_DEPTH_MAX + 1, -1, PROTO_E_TOO_LONG},
        {1, 16, 0, 1, 0, 0, PROTO_E_TRAILING},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t len = 0;
        uint8_t *b = s_raw_proof(cases[k].version, cases[k].cert_len, cases[k].index,
                                 cases[k].n_txs, cases[k].depth, cases[k].extra, &len);
        ledger_proof_t p;
        int rc = ledger_proof_decode(b, len, &p);
        CHECK_EQ(rc, cases[k].want);
        if (rc == PROTO_OK) {
            uint8_t *again = NULL;
            size_t alen = 0;
            CHECK_EQ(ledger_proof_encode(&p, &again, &alen), LEDGER_OK);
            CHECK(alen == len && memcmp(again, b, len) == 0);
            free(again);
        } else {
            CHECK(p.tx == NULL && p.depth == 0); /* zeroed */
        }
        free(b);
    }
    /* over the size bound before anything is read */
    uint8_t *big = calloc(1, LEDGER_PROOF_MAX_BYTES + 1);
    REQUIRE(big != NULL);
    ledger_proof_t p;
    CHECK_EQ(ledger_proof_decode(big, LEDGER_PROOF_MAX_BYTES + 1, &p), PROTO_E_TOO_BIG);
    free(big);
    /* the encoder refuses what the decoder would */
    uint8_t *out = NULL;
    size_t len = 0;
    ledger_proof_t bad = {.header = (const uint8_t *)"h",
                          .header_len = 1,
                          .cert = (const uint8_t *)"c",
                          .cert_len = 1,
                          .tx = (const uint8_t *)"t",
                          .tx_len = 1,
                          .index = 1,
                          .n_txs = 1};
    CHECK_EQ(ledger_proof_encode(&bad, &out, &len), LEDGER_E_INVALID);
    bad.index = 0;
    bad.depth = LEDGER_MERKLE_DEPTH_MAX + 1;
    CHECK_EQ(ledger_proof_encode(&bad, &out, &len), LEDGER_E_TOO_BIG);
    CHECK(out == NULL);
}

static void test_genesis(chain_t *c)
{
    size_t len = 0;
    const uint8_t *g = ledger_genesis_canonical(c->genesis, &len);
    ledger_light_t *l = s_light(c);
    CHECK(memcmp(ledger_light_chain_id(l), ledger_genesis_chain_id(c->genesis), 32) == 0);
    CHECK_EQ(ledger_light_authorities(l)->n, 4);
    CHECK_EQ(ledger_light_height(l), 0);
    ledger_light_destroy(&l);
    ledger_light_destroy(&l); /* NULL-safe */
    char err[256];
    int bad = 0;
    for (size_t cut = 0; cut < len; cut++)
        if (ledger_light_new(g, cut, &l, err, sizeof err) != LEDGER_E_MALFORMED || l)
            bad++;
    CHECK_EQ(bad, 0);
    uint8_t *copy = malloc(len + 1);
    REQUIRE(copy != NULL);
    memcpy(copy, g, len);
    copy[len] = 0xc0;
    CHECK_EQ(ledger_light_new(copy, len + 1, &l, err, sizeof err), LEDGER_E_MALFORMED);
    memcpy(copy, g, len);
    copy[1] = 2; /* version 2 */
    CHECK_EQ(ledger_light_new(copy, len, &l, err, sizeof err), LEDGER_E_MALFORMED);
    CHECK(strstr(err, "version") != NULL);
    free(copy);
}

static void test_proofs(chain_t *c, chain_t *other)
{
    uint8_t ids1[5][32], ids2[1][32], ido[3][32];
    uint64_t h1 = s_transfers(c, 5, ids1);
    uint64_t h2 = s_transfers(c, 1, ids2);
    s_transfers(other, 3, ido);
    CHECK_EQ(h1, 1);
    CHECK_EQ(h2, 2);
    ledger_light_t *l = s_light(c);
    char err[256];

    /* every proof verifies and gives the tx */
    for (int i = 0; i < 5; i++) {
        size_t len = 0;
        uint8_t *p = s_proof(c, ids1[i], &len);
        CHECK(len <= LEDGER_PROOF_MAX_BYTES);
        ledger_light_tx_t out;
        CHECK_EQ(ledger_light_verify_tx(l, p, len, &out, err, sizeof err), LEDGER_OK);
        CHECK(memcmp(out.txid, ids1[i], 32) == 0);
        CHECK_EQ(out.height, 1);
        CHECK_EQ(out.time_ms, 6100);
        uint8_t id[32];
        ledger_tx_id(out.tx, out.tx_len, id);
        CHECK(memcmp(id, ids1[i], 32) == 0);
        CHECK(out.tx > p && out.tx + out.tx_len <= p + len);
        free(p);
    }
    size_t len = 0, len2 = 0, leno = 0;
    uint8_t *p = s_proof(c, ids1[2], &len);
    uint8_t *p2 = s_proof(c, ids2[0], &len2);
    uint8_t *po = s_proof(other, ido[0], &leno);
    CHECK_EQ(s_verify(l, p2, len2), LEDGER_OK);
    /* unknown tx */
    uint8_t *none = NULL;
    size_t nlen = 0;
    uint8_t zero[32] = {0};
    CHECK_EQ(ledger_store_tx_proof(c->store, zero, &none, &nlen, NULL), LEDGER_E_NOT_FOUND);
    CHECK(none == NULL);

    ledger_proof_t d, d2, dof;
    REQUIRE(ledger_proof_decode(p, len, &d) == PROTO_OK);
    REQUIRE(ledger_proof_decode(p2, len2, &d2) == PROTO_OK);
    REQUIRE(ledger_proof_decode(po, leno, &dof) == PROTO_OK);
    CHECK_EQ(d.index, 2);
    CHECK_EQ(d.n_txs, 5);
    CHECK_EQ(d.depth, 3);
    size_t tl = 0;
    uint8_t *t = s_reencode(&d, &tl); /* encode(decode(b)) == b */
    CHECK(tl == len && memcmp(t, p, len) == 0);
    free(t);

    ledger_proof_t m;
    /* a tx swapped for another block's tx (and for a sibling of the same block) */
    m = d;
    m.tx = d2.tx;
    m.tx_len = d2.tx_len;
    t = s_reencode(&m, &tl);
    CHECK_EQ(ledger_light_verify_tx(l, t, tl, &(ledger_light_tx_t){0}, err, sizeof err),
             LEDGER_E_PROOF);
    CHECK(strstr(err, "Merkle") != NULL);
    free(t);
    /* a path byte flipped, at every level */
    for (size_t k = 0; k < d.depth; k++) {
        m = d;
        m.path[k][k * 5] ^= 0x10;
        t = s_reencode(&m, &tl);
        CHECK_EQ(s_verify(l, t, tl), LEDGER_E_PROOF);
        free(t);
    }
    /* a path level missing or added */
    m = d;
    m.depth--;
    t = s_reencode(&m, &tl);
    CHECK_EQ(s_verify(l, t, tl), LEDGER_E_PROOF);
    free(t);
    /* every other index of the block */
    for (uint32_t i = 0; i < 5; i++) {
        if (i == d.index)
            continue;
        m = d;
        m.index = i;
        t = s_reencode(&m, &tl);
        CHECK_EQ(s_verify(l, t, tl), LEDGER_E_PROOF);
        free(t);
    }
    /* a header of another chain (with its own valid certificate and path) */
    CHECK_EQ(s_verify(l, po, leno), LEDGER_E_PROOF);
    m = d;
    m.header = dof.header;
    m.header_len = dof.header_len;
    t = s_reencode(&m, &tl);
    CHECK_EQ(ledger_light_verify_tx(l, t, tl, &(ledger_light_tx_t){0}, err, sizeof err),
             LEDGER_E_PROOF);
    CHECK(strstr(err, "another chain") != NULL);
    free(t);
    /* the other chain's whole proof against its own client passes */
    ledger_light_t *lo = s_light(other);
    CHECK_EQ(s_verify(lo, po, leno), LEDGER_OK);
    CHECK_EQ(s_verify(lo, p, len), LEDGER_E_PROOF);
    ledger_light_destroy(&lo);

    /* certificates */
    ledger_block_t *b = NULL;
    uint8_t *bb = NULL;
    size_t bl = 0;
    REQUIRE(ledger_store_block(c->store, 1, &bb, &bl) == LEDGER_OK);
    REQUIRE(ledger_block_decode(bb, bl, &b) == PROTO_OK);
    const uint8_t *hash = ledger_block_hash(b);
    const uint8_t *cid = ledger_genesis_chain_id(c->genesis);
    struct {
        const char *what;
        size_t n;
        uint64_t height;
        int keybase; /* signers: keys[keybase + i] as index i */
        bool wrong_hash;
    } cases[] = {
        {"quorum of 4 (3 signatures)", 3, 1, -1, false},
        {"too few signatures (2 of 4)", 2, 1, -1, false},
        {"non-authorities", 3, 1, 3, false}, /* keys 3,4,5: two outsiders */
        {"another height", 4, 2, -1, false},
        {"another hash", 4, 1, -1, true},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        proto_key_t *signers[4];
        uint8_t idx[4];
        uint8_t set[LEDGER_AUTHORITIES_MAX][32];
        size_t n_set = 0;
        CHECK_EQ(ledger_store_authorities(c->store, set, &n_set), LEDGER_OK);
        for (size_t i = 0; i < cases[k].n; i++) {
            signers[i] =
                cases[k].keybase < 0 ? s_key_of(c, set[i]) : c->keys[cases[k].keybase + (int)i];
            idx[i] = (uint8_t)i;
        }
        uint8_t h2x[32];
        memcpy(h2x, hash, 32);
        if (cases[k].wrong_hash)
            h2x[0] ^= 1;
        size_t cl = 0;
        uint8_t *cert = s_cert_by(cid, cases[k].height, h2x, signers, idx, cases[k].n, &cl);
        m = d;
        m.cert = cert;
        m.cert_len = cl;
        t = s_reencode(&m, &tl);
        int rc = ledger_light_verify_tx(l, t, tl, &(ledger_light_tx_t){0}, err, sizeof err);
        if (k == 0)
            CHECK_EQ(rc, LEDGER_OK);
        else
            CHECK_EQ(rc, LEDGER_E_PROOF);
        printf("cert case %s: %s\n", cases[k].what, rc == LEDGER_OK ? "accepted" : err);
        free(t);
        free(cert);
    }
    /* the certificate of block 2 with block 1's header */
    m = d;
    m.cert = d2.cert;
    m.cert_len = d2.cert_len;
    t = s_reencode(&m, &tl);
    CHECK_EQ(s_verify(l, t, tl), LEDGER_E_PROOF);
    free(t);
    ledger_block_destroy(&b);
    free(bb);

    /* truncated: every prefix; and a byte more */
    int bad = 0;
    for (size_t cut = 0; cut < len; cut++)
        if (s_verify(l, p, cut) != LEDGER_E_PROOF)
            bad++;
    CHECK_EQ(bad, 0);
    uint8_t *longer = malloc(len + 1);
    REQUIRE(longer != NULL);
    memcpy(longer, p, len);
    longer[len] = 0;
    CHECK_EQ(s_verify(l, longer, len + 1), LEDGER_E_PROOF);
    /* single-bit flips of every byte: refused, or (index / n_txs of the same path shape)
       accepted as proving the very same tx in the very same block */
    int accepted = 0, wrong = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            memcpy(longer, p, len);
            longer[i] ^= (uint8_t)(1u << bit);
            ledger_light_tx_t out;
            if (ledger_light_verify_tx(l, longer, len, &out, err, sizeof err) != LEDGER_OK)
                continue;
            accepted++;
            if (memcmp(out.txid, ids1[2], 32) != 0 || out.height != 1)
                wrong++;
        }
    }
    CHECK_EQ(wrong, 0);
    printf("bit flips of a %zu-byte proof: %d accepted, all proving the same tx\n", len, accepted);
    free(longer);
    free(p);
    free(p2);
    free(po);
    ledger_light_destroy(&l);
}

static bool s_same_set(chain_t *c, const ledger_light_t *l)
{
    uint8_t set[LEDGER_AUTHORITIES_MAX][32];
    size_t n = 0;
    CHECK_EQ(ledger_store_authorities(c->store, set, &n), LEDGER_OK);
    const ledger_valset_t *vs = ledger_light_authorities(l);
    return vs->n == n && memcmp(vs->keys, set, n * 32) == 0;
}

/* Votes of authority keys VOTERS for ACTION on key SUBJECT, in one block. */
static uint64_t s_votes(chain_t *c, const int *voters, size_t n, uint32_t action, int subject,
                        uint8_t **block, size_t *blen, uint8_t **cert, size_t *clen)
{
    uint8_t *txs[8];
    size_t lens[8];
    for (size_t i = 0; i < n; i++) {
        txs[i] = ledger_contract_auth_vote_tx(
            c->keys[voters[i]], ledger_genesis_chain_id(c->genesis), c->auth_nonce[voters[i]]++,
            action, proto_key_public(c->keys[subject]), &lens[i]);
        REQUIRE(txs[i] != NULL);
    }
    return s_commit(c, txs, lens, n, block, blen, cert, clen);
}

static void test_advance(chain_t *c)
{
    ledger_light_t *l = s_light(c), *stale = s_light(c);
    char err[256];
    uint8_t old_id[1][32];
    s_transfers(c, 1, old_id); /* a block of the genesis set */
    uint64_t base = ledger_light_height(l);
    CHECK_EQ(base, 0);

    /* add key 4: two votes in one block (2 of 4: not a majority), a third in another */
    uint8_t *b1, *c1, *b2, *c2, *b3, *c3;
    size_t bl1, cl1, bl2, cl2, bl3, cl3;
    int first[2] = {0, 1}, third[1] = {2};
    s_votes(c, first, 2, LEDGER_AUTH_ADD, 4, &b1, &bl1, &c1, &cl1);
    CHECK_EQ(ledger_light_advance(l, b1, bl1, c1, cl1, err, sizeof err), LEDGER_OK);
    CHECK(s_same_set(c, l));
    CHECK_EQ(ledger_light_authorities(l)->n, 4);
    /* the same block again, or an older one: refused, nothing changes */
    CHECK_EQ(ledger_light_advance(l, b1, bl1, c1, cl1, err, sizeof err), LEDGER_E_PROOF);
    uint64_t h2 = s_votes(c, third, 1, LEDGER_AUTH_ADD, 4, &b2, &bl2, &c2, &cl2);
    /* with another block's certificate, or a truncated block: refused */
    CHECK_EQ(ledger_light_advance(l, b2, bl2, c1, cl1, err, sizeof err), LEDGER_E_PROOF);
    CHECK_EQ(ledger_light_advance(l, b2, bl2 - 1, c2, cl2, err, sizeof err), LEDGER_E_PROOF);
    CHECK_EQ(ledger_light_advance(l, b2, bl2, c2, cl2 - 1, err, sizeof err), LEDGER_E_PROOF);
    CHECK_EQ(ledger_light_authorities(l)->n, 4);
    CHECK_EQ(ledger_light_advance(l, b2, bl2, c2, cl2, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_light_height(l), h2);
    CHECK_EQ(ledger_light_authorities(l)->n, 5);
    CHECK(s_same_set(c, l));

    /* a block certified by the new set of 5 (quorum 4: the newcomer signs too) */
    uint8_t ids[2][32];
    s_transfers(c, 2, ids);
    size_t len = 0;
    uint8_t *p = s_proof(c, ids[1], &len);
    CHECK_EQ(s_verify(l, p, len), LEDGER_OK);
    CHECK_EQ(s_verify(stale, p, len), LEDGER_E_PROOF); /* not fed the change */
    free(p);
    /* a proof of a block of the genesis set still verifies on the advanced client */
    p = s_proof(c, old_id[0], &len);
    CHECK_EQ(s_verify(l, p, len), LEDGER_OK);
    CHECK_EQ(s_verify(stale, p, len), LEDGER_OK);
    free(p);

    /* remove key 0: three votes of five in one block (votes of 1, 2, 4) */
    int rm[3] = {1, 2, 4};
    s_votes(c, rm, 3, LEDGER_AUTH_REMOVE, 0, &b3, &bl3, &c3, &cl3);
    CHECK_EQ(ledger_light_advance(l, b3, bl3, c3, cl3, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_light_authorities(l)->n, 4);
    CHECK(s_same_set(c, l));
    s_transfers(c, 1, ids);
    p = s_proof(c, ids[0], &len);
    CHECK_EQ(s_verify(l, p, len), LEDGER_OK);
    CHECK_EQ(s_verify(stale, p, len), LEDGER_E_PROOF);
    free(p);
    /* the stale client cannot take block b2 without b1: b2's vote alone is no majority,
       so it keeps the genesis set (and refuses b1 afterwards: not above) */
    CHECK_EQ(ledger_light_advance(stale, b2, bl2, c2, cl2, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_light_authorities(stale)->n, 4);
    CHECK(!s_same_set(c, stale));
    CHECK_EQ(ledger_light_advance(stale, b1, bl1, c1, cl1, err, sizeof err), LEDGER_E_PROOF);
    /* b3 is certified by the set of 5, which the stale client never learnt */
    CHECK_EQ(ledger_light_advance(stale, b3, bl3, c3, cl3, err, sizeof err), LEDGER_E_PROOF);
    free(b1);
    free(c1);
    free(b2);
    free(c2);
    free(b3);
    free(c3);
    ledger_light_destroy(&l);
    ledger_light_destroy(&stale);
}

/* Random authority votes over BLOCKS blocks: after each, the client fed the blocks that
   hold votes has the store's set. */
static void test_random_votes(uint64_t seed)
{
    enum { BLOCKS = 40 };
    chain_t c;
    s_chain_open(&c, "light-random");
    ledger_light_t *l = s_light(&c);
    const uint8_t *cid = ledger_genesis_chain_id(c.genesis);
    uint64_t rng = seed | 1;
    int changes = 0, fed = 0, votes = 0;
    char err[256];
    for (int blk = 0; blk < BLOCKS; blk++) {
        uint8_t set[LEDGER_AUTHORITIES_MAX][32];
        size_t n_set = 0;
        CHECK_EQ(ledger_store_authorities(c.store, set, &n_set), LEDGER_OK);
        ledger_mempool_t *pool = ledger_mempool_new(c.store, NULL);
        REQUIRE(pool != NULL);
        for (size_t a = 0; a < n_set; a++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
            if (rng % 2)
                continue;
            proto_key_t *voter = s_key_of(&c, set[a]);
            REQUIRE(voter != NULL);
            int subject = (int)((rng >> 8) % 7);
            bool member = false;
            for (size_t k = 0; k < n_set; k++)
                member |= memcmp(set[k], proto_key_public(c.keys[subject]), 32) == 0;
            uint32_t action = member ? LEDGER_AUTH_REMOVE : LEDGER_AUTH_ADD;
            ledger_account_t acct;
            CHECK_EQ(ledger_store_account(c.store, set[a], &acct), LEDGER_OK);
            size_t tl = 0;
            uint8_t *tx = ledger_contract_auth_vote_tx(voter, cid, acct.nonce, action,
                                                       proto_key_public(c.keys[subject]), &tl);
            REQUIRE(tx != NULL);
            char why[LEDGER_ERR_MAX] = "";
            int arc = ledger_mempool_add(pool, tx, tl, NULL, why, sizeof why);
            CHECK(arc == LEDGER_OK || arc == LEDGER_E_AUTH_RULE); /* a repeated vote */
            free(tx);
        }
        ledger_build_params_t bp = {.time_ms = c.time_ms += 100};
        memcpy(bp.proposer, set[0], 32);
        uint8_t *block = NULL, *cert = NULL;
        size_t blen = 0, clen = 0;
        ledger_state_t *st = NULL;
        ledger_block_t *b = NULL;
        CHECK_EQ(ledger_block_build(c.store, pool, &bp, &block, &blen, &st), LEDGER_OK);
        REQUIRE(ledger_block_decode(block, blen, &b) == PROTO_OK);
        size_t n_txs = ledger_block_tx_count(b);
        cert = s_cert(&c, ledger_block_header(b)->height, ledger_block_hash(b), n_set, &clen);
        CHECK_EQ(ledger_store_commit(c.store, block, blen, cert, clen, st), LEDGER_OK);
        size_t before = ledger_light_authorities(l)->n;
        uint8_t old[LEDGER_AUTHORITIES_MAX][32];
        memcpy(old, ledger_light_authorities(l)->keys, before * 32);
        if (n_txs > 0) { /* blocks without votes need not be fed */
            CHECK_EQ(ledger_light_advance(l, block, blen, cert, clen, err, sizeof err), LEDGER_OK);
            fed++;
            votes += (int)n_txs;
        }
        CHECK(s_same_set(&c, l));
        const ledger_valset_t *now = ledger_light_authorities(l);
        if (now->n != before || memcmp(now->keys, old, before * 32) != 0)
            changes++;
        ledger_block_destroy(&b);
        ledger_state_destroy(&st);
        ledger_mempool_destroy(&pool);
        free(block);
        free(cert);
    }
    printf("random votes: %d blocks, %d fed, %d votes, %d set changes\n", BLOCKS, fed, votes,
           changes);
    CHECK(changes > 0);
    ledger_light_destroy(&l);
    s_chain_close(&c);
}

/* Two authorities each vote to remove each of them in one block: both lists reach a
   majority; the first written applies, the second would empty the set and is dropped. The
   client decides in the same order as the contract. */
static void test_decision_order(void)
{
    chain_t c;
    s_chain_open_n(&c, "light-order", 2);
    ledger_light_t *l = s_light(&c);
    const uint8_t *cid = ledger_genesis_chain_id(c.genesis);
    uint8_t *txs[4], *block = NULL, *cert = NULL;
    size_t lens[4], blen = 0, clen = 0;
    for (int i = 0; i < 4; i++) {
        int voter = i % 2, subject = i / 2;
        txs[i] =
            ledger_contract_auth_vote_tx(c.keys[voter], cid, (uint64_t)(i / 2), LEDGER_AUTH_REMOVE,
                                         proto_key_public(c.keys[subject]), &lens[i]);
        REQUIRE(txs[i] != NULL);
    }
    s_commit(&c, txs, lens, 4, &block, &blen, &cert, &clen);
    char err[256];
    CHECK_EQ(ledger_light_advance(l, block, blen, cert, clen, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_light_authorities(l)->n, 1);
    CHECK(s_same_set(&c, l));
    free(block);
    free(cert);
    ledger_light_destroy(&l);
    s_chain_close(&c);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    chain_t c, other;
    s_chain_open(&c, "light-main");
    s_chain_open(&other, "light-other");
    test_codec();
    test_genesis(&c);
    test_proofs(&c, &other);
    test_advance(&c);
    test_decision_order();
    test_random_votes(testutil_seed("test_ledger_light"));
    s_chain_close(&c);
    s_chain_close(&other);
    return testutil_done("test_ledger_light");
}
