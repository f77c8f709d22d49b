/*  ledger_data_fixture: a chain in a fresh LevelDB store for the data owner's contracts
 *  (test_ledger_data.c, test_ledger_market.c), with real enclaves registered through real
 *  quotes (a platform key certified by genesis's attestation service), and validation
 *  reports and donation receipts signed by those enclaves' keys (proto_report_sign,
 *  proto_receipt_sign). Every tx goes through parse, admit and apply (admit and apply
 *  must agree), and an accepted one is executed as a peer would and committed as a block.
 *
 *  Keys from fixed seeds (every byte the same): authority 1, attestation service 0x40,
 *  platform 0x41, runner 0x42, alice 0x50, bob 0x51, trainer 0x52, auditors 0x53..0x55;
 *  enclaves: validation V (seed 0x20, measurement 0x01), training T (seed 0x21,
 *  measurement 0x02), others as a test registers them. Header-only.
 */
#ifndef GENIE_TEST_LEDGER_DATA_FIXTURE_H
#define GENIE_TEST_LEDGER_DATA_FIXTURE_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_data.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "proto/proto_report.h"
#include "testutil.h"

#define DF_T0 1700000000000ull
#define DF_DAY (24ull * 3600 * 1000)
#define DF_V_SEED 0x20
#define DF_V_M 0x01
#define DF_T_SEED 0x21
#define DF_T_M 0x02

typedef struct {
    ledger_store_t *store;
    proto_key_t *auth, *as, *platform, *runner, *alice, *bob, *trainer, *aud[3];
    uint8_t chain[32];
    uint64_t now;
    uint8_t v_id[32], t_id[32]; /* enclave ids of V and T */
    uint8_t spec_id[32];        /* the world's spec (df_world) */
    uint8_t data_a[32];         /* alice's record (df_world) */
    uint8_t salt[32];
} df_chain_t;

static inline proto_key_t *df_key(uint8_t b)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, b, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    REQUIRE(k != NULL);
    return k;
}

/* df_open with FUND units in each of alice's, bob's, the trainer's and the runner's
   accounts at genesis (0: none). */
static inline void df_open_funded(df_chain_t *c, uint64_t fund)
{
    memset(c, 0, sizeof *c);
    c->auth = df_key(1);
    c->as = df_key(0x40);
    c->platform = df_key(0x41);
    c->runner = df_key(0x42);
    c->alice = df_key(0x50);
    c->bob = df_key(0x51);
    c->trainer = df_key(0x52);
    for (int i = 0; i < 3; i++)
        c->aud[i] = df_key((uint8_t)(0x53 + i));
    uint8_t keys[1][32];
    memcpy(keys[0], proto_key_public(c->auth), 32);
    ledger_genesis_params_t p = {.chain_name = "data",
                                 .block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = DF_T0};
    memcpy(p.attestation_service, proto_key_public(c->as), 32);
    ledger_genesis_t *g = NULL;
    char err[256];
    ledger_balance_t bal[4];
    const proto_key_t *funded[4] = {c->alice, c->bob, c->trainer, c->runner};
    for (size_t i = 0; i < 4; i++) {
        memcpy(bal[i].account, proto_key_public(funded[i]), 32);
        bal[i].amount = fund;
    }
    REQUIRE(ledger_genesis_new(&p, (const uint8_t(*)[32])keys, 1, bal, fund ? 4 : 0, &g, err,
                               sizeof err) == LEDGER_OK);
    memcpy(c->chain, ledger_genesis_chain_id(g), 32);
    REQUIRE(ledger_store_open(testutil_tmpdir(), &c->store, err, sizeof err) == LEDGER_OK);
    REQUIRE(ledger_genesis_apply(g, c->store) == LEDGER_OK);
    ledger_genesis_destroy(&g);
    c->now = DF_T0;
    memset(c->salt, 0x77, 32);
}

static inline void df_open(df_chain_t *c)
{
    df_open_funded(c, 0);
}

static inline void df_close(df_chain_t *c)
{
    ledger_store_destroy(&c->store);
    proto_key_t **keys[] = {&c->auth, &c->as,      &c->platform, &c->runner, &c->alice,
                            &c->bob,  &c->trainer, &c->aud[0],   &c->aud[1], &c->aud[2]};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        proto_key_destroy(keys[i]);
}

/* K's account nonce in STORE. */
static inline uint64_t df_store_nonce(ledger_store_t *store, const proto_key_t *k)
{
    ledger_account_t a;
    CHECK_EQ(ledger_store_account(store, proto_key_public(k), &a), LEDGER_OK);
    return a.nonce;
}

static inline uint64_t df_nonce(df_chain_t *c, const proto_key_t *k)
{
    return df_store_nonce(c->store, k);
}

/* A read view of the committed state (caller destroys). */
static inline ledger_state_t *df_view(df_chain_t *c)
{
    ledger_state_t *st = ledger_state_new(c->store);
    REQUIRE(st != NULL);
    return st;
}

/* Parses, admits and applies TX (takes it) on STORE (chain CHAIN) as the next block, one
   second after the head, proposed by PROPOSER; an accepted tx is executed like a peer would
   (reaching the same state root) and committed, and *NOW set to the block's time. Returns
   the code (admit's and apply's must agree); ERR (ERR_CAP bytes, may be NULL) the reason. Shared
   with test_ledger_enclave.c, whose chain has its own keys. */
static inline int df_store_submit(ledger_store_t *store, const uint8_t chain[static 32],
                                  const proto_key_t *proposer, uint8_t *tx, size_t len, char *err,
                                  size_t err_cap, uint64_t *now)
{
    REQUIRE(tx != NULL);
    ledger_head_t head;
    CHECK_EQ(ledger_store_head(store, &head), LEDGER_OK);
    ledger_tx_t t;
    char why[LEDGER_ERR_MAX] = "";
    int rc = ledger_tx_parse(tx, len, chain, true, &t, why, sizeof why);
    ledger_state_t *st = ledger_state_new(store);
    REQUIRE(st != NULL);
    if (rc == LEDGER_OK) {
        char why2[LEDGER_ERR_MAX] = "";
        int arc = ledger_state_admit_tx(st, &t, why2, sizeof why2);
        rc = ledger_state_apply_tx(st, &t, why, sizeof why);
        CHECK_EQ(arc, rc);
    }
    if (rc == LEDGER_OK) {
        uint8_t id[32];
        ledger_tx_id(tx, len, id);
        CHECK_EQ(ledger_state_end_block(st), LEDGER_OK);
        ledger_header_t h = {.height = head.height + 1, .time_ms = head.time_ms + 1000};
        memcpy(h.chain_id, chain, 32);
        memcpy(h.prev_hash, head.hash, 32);
        memcpy(h.proposer, proto_key_public(proposer), 32);
        ledger_block_tx_root((const uint8_t(*)[32])id, 1, h.tx_root);
        CHECK_EQ(ledger_state_finish(st, head.state_root, h.state_root), LEDGER_OK);
        size_t blen;
        const uint8_t *txs[1] = {tx};
        uint8_t *block = ledger_block_encode(&h, txs, &len, 1, &blen);
        REQUIRE(block != NULL);
        ledger_state_t *peer = NULL;
        CHECK_EQ(ledger_block_execute(store, block, blen, NULL, 0, &peer, NULL, NULL, 0),
                 LEDGER_OK);
        /* the peer's execution reaches the same root */
        uint8_t root[32];
        CHECK(ledger_state_finished(peer, root) && memcmp(root, h.state_root, 32) == 0);
        CHECK_EQ(ledger_store_commit(store, block, blen, (const uint8_t *)"cert", 4, peer),
                 LEDGER_OK);
        ledger_state_destroy(&peer);
        free(block);
        *now = h.time_ms;
    }
    ledger_state_destroy(&st);
    free(tx);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "%s", why);
    return rc;
}

/* df_store_submit on C's chain, proposed by its authority. */
static inline int df_submit(df_chain_t *c, uint8_t *tx, size_t len, char *err, size_t err_cap)
{
    return df_store_submit(c->store, c->chain, c->auth, tx, len, err, err_cap, &c->now);
}

/* The height of the head block. */
static inline uint64_t df_height(df_chain_t *c)
{
    ledger_head_t head;
    CHECK_EQ(ledger_store_head(c->store, &head), LEDGER_OK);
    return head.height;
}

/* The libsodium secret key (64 bytes) of the enclave whose key seed is SEED. */
static inline void df_enclave_sk(uint8_t seed_byte, uint8_t sk[64], uint8_t pk[32])
{
    uint8_t seed[32];
    memset(seed, seed_byte, sizeof seed);
    REQUIRE(crypto_sign_seed_keypair(pk, sk, seed) == 0);
}

/* Registers an honest enclave of KIND with measurement MBYTE and key seed SEED; its id in
   ID (may be NULL). Returns the code. */
static inline int df_enclave(df_chain_t *c, uint32_t kind, uint8_t mbyte, uint8_t seed, uint8_t *id)
{
    proto_attest_quote_t q;
    memset(&q, 0, sizeof q);
    q.version = PROTO_ATTEST_QUOTE_VERSION;
    memset(q.measurement, mbyte, 32);
    uint8_t sk[64];
    df_enclave_sk(seed, sk, q.body.sign_pk);
    sodium_memzero(sk, sizeof sk);
    memset(q.body.box_pk, seed ^ 0x5a, 32);
    proto_attest_report_data(kind, c->chain, q.body.report_data);
    memset(q.body.nonce, 7, sizeof q.body.nonce);
    q.time_ms = c->now;
    memcpy(q.platform_pk, proto_key_public(c->platform), 32);
    q.has_cert = true;
    char err[128];
    REQUIRE(proto_attest_cert_issue(c->as, q.platform_pk, "runner-1", proto_key_public(c->runner),
                                    DF_T0 - DF_DAY, DF_T0 + 365 * DF_DAY, &q.cert, err,
                                    sizeof err) == PROTO_OK);
    uint8_t h[32];
    proto_attest_quote_signing_hash(&q, h);
    proto_key_sign(c->platform, h, sizeof h, q.sig);
    uint8_t *bytes = NULL;
    size_t blen = 0, len;
    REQUIRE(proto_attest_quote_encode(&q, &bytes, &blen) == PROTO_OK);
    if (id)
        ledger_enclave_id(q.body.sign_pk, id);
    uint8_t *tx = ledger_contract_enclave_register_tx(c->runner, c->chain, df_nonce(c, c->runner),
                                                      kind, q.measurement, bytes, blen, &len);
    free(bytes);
    return df_submit(c, tx, len, NULL, 0);
}

/* An encoded validation report by the enclave of seed SEED. */
static inline uint8_t *df_report(uint8_t seed, const uint8_t commitment[32], uint8_t type,
                                 uint32_t run, uint32_t passed, size_t *len)
{
    proto_report_t r;
    memset(&r, 0, sizeof r);
    memcpy(r.data_commitment, commitment, 32);
    r.data_type = type;
    r.record_count = 100;
    r.checks_run = run;
    r.checks_passed = passed;
    r.time_ms = DF_T0;
    uint8_t sk[64], pk[32];
    df_enclave_sk(seed, sk, pk);
    REQUIRE(proto_report_sign(&r, sk) == PROTO_OK);
    sodium_memzero(sk, sizeof sk);
    uint8_t *out = NULL;
    REQUIRE(proto_report_encode(&r, &out, len) == PROTO_OK);
    return out;
}

/* An encoded donation receipt by the enclave of seed SEED. */
static inline uint8_t *df_receipt(uint8_t seed, const uint8_t spec[32], const uint8_t data[32],
                                  const uint8_t donor[32], const uint8_t commitment[32],
                                  size_t *len)
{
    proto_receipt_t r;
    memset(&r, 0, sizeof r);
    memcpy(r.spec_id, spec, 32);
    memcpy(r.data_id, data, 32);
    memcpy(r.donor, donor, 32);
    memcpy(r.data_commitment, commitment, 32);
    r.time_ms = DF_T0 + 42;
    uint8_t sk[64], pk[32];
    df_enclave_sk(seed, sk, pk);
    REQUIRE(proto_receipt_sign(&r, sk) == PROTO_OK);
    sodium_memzero(sk, sizeof sk);
    uint8_t *out = NULL;
    REQUIRE(proto_receipt_encode(&r, &out, len) == PROTO_OK);
    return out;
}

/* The commitment to the text TAG under c->salt. */
static inline void df_commit(df_chain_t *c, const char *tag, uint8_t out[32])
{
    proto_data_commit(c->salt, (const uint8_t *)tag, strlen(tag), out);
}

/* OWNER registers the data TAG validated by the enclave of seed VSEED; its id in ID. */
static inline int df_data(df_chain_t *c, const proto_key_t *owner, const char *tag, uint8_t vseed,
                          uint8_t id[32], char *err, size_t err_cap)
{
    size_t rlen, len;
    uint8_t addr[32];
    df_commit(c, tag, id);
    memset(addr, 0xad, 32);
    uint8_t *rep = df_report(vseed, id, PROTO_DATA_GENOTYPE, 5, 5, &rlen);
    uint8_t *tx = ledger_contract_data_register_tx(
        owner, c->chain, df_nonce(c, owner), PROTO_DATA_GENOTYPE, 20, id, addr, rep, rlen, &len);
    free(rep);
    return df_submit(c, tx, len, err, err_cap);
}

/* A consent allowing ALLOW_T for ALLOW_P (comma-free single names, or NULL for none) up
   to EPS, MIN_AUDITS audits, for DATA (NULL: the default). */
static inline void df_consent_init(ledger_consent_t *k, const char *allow_t, const char *allow_p,
                                   uint32_t eps, uint32_t min_audits, const uint8_t *data)
{
    memset(k, 0, sizeof *k);
    if (allow_t) {
        strcpy(k->allow_types.v[0], allow_t);
        k->allow_types.n = 1;
    }
    if (allow_p) {
        strcpy(k->allow_purposes.v[0], allow_p);
        k->allow_purposes.n = 1;
    }
    k->max_epsilon_milli = eps;
    k->min_audits = min_audits;
    if (data)
        memcpy(k->data_id, data, 32);
}

static inline int df_consent(df_chain_t *c, const proto_key_t *owner, const ledger_consent_t *k,
                             char *err, size_t err_cap)
{
    size_t len;
    uint8_t *tx = ledger_contract_consent_set_tx(owner, c->chain, df_nonce(c, owner), k, &len);
    return df_submit(c, tx, len, err, err_cap);
}

static inline int df_trainer(df_chain_t *c, const proto_key_t *k, const char *name)
{
    size_t len;
    uint8_t *tx = ledger_contract_trainer_register_tx(k, c->chain, df_nonce(c, k), name, &len);
    return df_submit(c, tx, len, NULL, 0);
}

/* A spec "prs"/"research" over two features, training in measurement MBYTE, epsilon EPS. */
static inline void df_spec_init(ledger_spec_t *s, uint8_t mbyte, uint32_t eps)
{
    memset(s, 0, sizeof *s);
    strcpy(s->model_type, "prs");
    strcpy(s->purpose, "research");
    strcpy(s->label, "height");
    strcpy(s->features[0], "rs123");
    strcpy(s->features[1], "rs456");
    s->n_features = 2;
    memset(s->measurement, mbyte, 32);
    s->min_donors = 3;
    s->max_epsilon_milli = eps;
    s->aggregation = LEDGER_AGG_MEAN;
    s->price = 10;
    s->share_donors_bp = 7000;
    s->share_trainer_bp = 2000;
    s->share_runner_bp = 1000;
}

/* K registers spec S; its id (the txid) in ID (may be NULL). */
static inline int df_spec(df_chain_t *c, const proto_key_t *k, const ledger_spec_t *s, uint8_t *id,
                          char *err, size_t err_cap)
{
    size_t len;
    uint8_t *tx = ledger_contract_spec_register_tx(k, c->chain, df_nonce(c, k), s, &len);
    REQUIRE(tx != NULL);
    if (id)
        ledger_tx_id(tx, len, id);
    return df_submit(c, tx, len, err, err_cap);
}

/* K registers as a donor with the receipt RC (RLEN bytes, taken). */
static inline int df_donor(df_chain_t *c, const proto_key_t *k, uint8_t *rc, size_t rlen, char *err,
                           size_t err_cap)
{
    size_t len;
    uint8_t *tx = ledger_contract_donor_register_tx(k, c->chain, df_nonce(c, k), rc, rlen, &len);
    free(rc);
    return df_submit(c, tx, len, err, err_cap);
}

static inline int df_key_auth(df_chain_t *c, const proto_key_t *k, const uint8_t data[32],
                              const uint8_t spec[32], const uint8_t enclave[32], uint8_t gbyte,
                              char *err, size_t err_cap)
{
    uint8_t grant[80];
    size_t len;
    memset(grant, gbyte, sizeof grant);
    uint8_t *tx = ledger_contract_key_authorize_tx(k, c->chain, df_nonce(c, k), data, spec, enclave,
                                                   grant, sizeof grant, &len);
    return df_submit(c, tx, len, err, err_cap);
}

static inline int df_withdraw(df_chain_t *c, const proto_key_t *k, const uint8_t data[32])
{
    size_t len;
    uint8_t *tx = ledger_contract_data_withdraw_tx(k, c->chain, df_nonce(c, k), data, &len);
    return df_submit(c, tx, len, NULL, 0);
}

static inline int df_revoke(df_chain_t *c, uint32_t what, const uint8_t target[32])
{
    size_t len;
    uint8_t *tx = ledger_contract_enclave_revoke_tx(c->auth, c->chain, df_nonce(c, c->auth), what,
                                                    target, &len);
    return df_submit(c, tx, len, NULL, 0);
}

static inline int df_audit(df_chain_t *c, const proto_key_t *k, uint8_t mbyte, uint32_t verdict)
{
    uint8_t m[32], h[32];
    size_t len;
    memset(m, mbyte, 32);
    memset(h, 0x33, 32);
    uint8_t *tx =
        ledger_contract_enclave_audit_tx(k, c->chain, df_nonce(c, k), m, h, verdict, &len);
    return df_submit(c, tx, len, NULL, 0);
}

/* The common world (df_world_funded: with FUND units for alice, bob, the trainer and the
   runner): V and T registered, the trainer and its spec (prs/research, T's
   measurement, epsilon 1.000), alice's record "alice-genome" validated by V, and alice's
   default consent allowing prs for research up to epsilon 2.000 with no audits. */
static inline void df_world_funded(df_chain_t *c, uint64_t fund)
{
    df_open_funded(c, fund);
    REQUIRE(df_enclave(c, PROTO_ATTEST_KIND_VALIDATION, DF_V_M, DF_V_SEED, c->v_id) == LEDGER_OK);
    REQUIRE(df_enclave(c, PROTO_ATTEST_KIND_TRAINING, DF_T_M, DF_T_SEED, c->t_id) == LEDGER_OK);
    REQUIRE(df_trainer(c, c->trainer, "Acme Genomics") == LEDGER_OK);
    ledger_spec_t s;
    df_spec_init(&s, DF_T_M, 1000);
    REQUIRE(df_spec(c, c->trainer, &s, c->spec_id, NULL, 0) == LEDGER_OK);
    REQUIRE(df_data(c, c->alice, "alice-genome", DF_V_SEED, c->data_a, NULL, 0) == LEDGER_OK);
    ledger_consent_t k;
    df_consent_init(&k, "prs", "research", 2000, 0, NULL);
    REQUIRE(df_consent(c, c->alice, &k, NULL, 0) == LEDGER_OK);
}

static inline void df_world(df_chain_t *c)
{
    df_world_funded(c, 0);
}

/* Alice's receipt from the enclave of seed SEED for the world's spec and her record. */
static inline uint8_t *df_alice_receipt(df_chain_t *c, uint8_t seed, size_t *len)
{
    return df_receipt(seed, c->spec_id, c->data_a, proto_key_public(c->alice), c->data_a, len);
}

#endif
