/*  test_ledger_enclave: the enclave registry contracts (ledger_contract_enclave.c) on a real
 *  store, with quotes made by hand from proto_attest (a platform key signs, an attestation
 *  service certifies it), so every refusal can be provoked on its own:
 *  - a good quote registers (record fields, directory, list by kind); the same enclave
 *    twice is refused;
 *  - bad quote signature, uncertified platform, certificate from another AS, expired
 *    certificate, certificate issued too far after the block's clock, stale and future quote times,
 * measurement mismatch, wrong kind, report data bound to another chain id (ENCLAVE_E_CHAIN,
 * every kind), a sender that is not the certified runner: each refused with its own code, in
 * apply and admit;
 *  - a genesis without an attestation service registers nothing;
 *  - audits are stored per (measurement, auditor), replaced, bounded to one per auditor;
 *  - a revocation needs a strict majority of the authorities; it marks the enclaves under
 *    the target revoked and refuses new registrations under it (platform and measurement);
 *  - a runner retires its own active enclave (RETIRED at that height, still listed); another
 *    account, a second retirement, an unknown or a revoked enclave are refused; a donation
 *    receipt from a retired training enclave no longer makes a donor (one from its
 *    successor does);
 *  - the four bodies round-trip byte for byte and malformed ones are refused.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_contract.h"
#include "ledger/ledger_genesis.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "ledger_data_fixture.h"
#include "testutil.h"

#define T0 1700000000000ull /* genesis time (ms) */
#define DAY (24ull * 3600 * 1000)
#define MIN (60ull * 1000)

typedef struct {
    ledger_store_t *store;
    proto_key_t *auth[3];
    size_t n_auth;
    proto_key_t *as;       /* attestation service */
    proto_key_t *platform; /* the runner's platform key */
    proto_key_t *runner;   /* the runner's account */
    uint8_t chain[32];
    uint64_t now; /* time of the head block */
} s_chain_t;

static void s_chain_open(s_chain_t *c, size_t n_auth, bool with_as)
{
    memset(c, 0, sizeof *c);
    uint8_t keys[3][32];
    c->n_auth = n_auth;
    for (size_t i = 0; i < n_auth; i++) {
        c->auth[i] = df_key((uint8_t)(1 + i));
        memcpy(keys[i], proto_key_public(c->auth[i]), 32);
    }
    c->as = df_key(0x40);
    c->platform = df_key(0x41);
    c->runner = df_key(0x42);
    ledger_genesis_params_t p = {.chain_name = "enclaves",
                                 .block_interval_ms = 100,
                                 .heartbeat_ms = 1000,
                                 .max_block_bytes = LEDGER_BLOCK_MAX_BYTES,
                                 .max_block_txs = LEDGER_BLOCK_MAX_TXS,
                                 .genesis_time_ms = T0};
    if (with_as)
        memcpy(p.attestation_service, proto_key_public(c->as), 32);
    ledger_genesis_t *g = NULL;
    char err[256];
    CHECK_EQ(
        ledger_genesis_new(&p, (const uint8_t(*)[32])keys, n_auth, NULL, 0, &g, err, sizeof err),
        LEDGER_OK);
    memcpy(c->chain, ledger_genesis_chain_id(g), 32);
    CHECK_EQ(ledger_store_open(testutil_tmpdir(), &c->store, err, sizeof err), LEDGER_OK);
    CHECK_EQ(ledger_genesis_apply(g, c->store), LEDGER_OK);
    ledger_genesis_destroy(&g);
    c->now = T0;
}

static void s_chain_close(s_chain_t *c)
{
    ledger_store_destroy(&c->store);
    for (size_t i = 0; i < 3; i++)
        proto_key_destroy(&c->auth[i]);
    proto_key_destroy(&c->as);
    proto_key_destroy(&c->platform);
    proto_key_destroy(&c->runner);
}

static uint64_t s_nonce(s_chain_t *c, const proto_key_t *k)
{
    return df_store_nonce(c->store, k);
}

/* The next block with TX (takes it), proposed by the first authority: df_store_submit. */
static int s_submit(s_chain_t *c, uint8_t *tx, size_t len, char *err, size_t err_cap)
{
    return df_store_submit(c->store, c->chain, c->auth[0], tx, len, err, err_cap, &c->now);
}

/* An honest quote of KIND with MEASUREMENT (byte MBYTE), enclave keys from SEED, certified
   by AS for RUNNER with the window [issued, expires), quoted at TIME. */
typedef struct {
    proto_attest_quote_t q;
    uint8_t *bytes;
    size_t len;
} s_quote_t;

static void s_quote_sign(s_quote_t *sq, const proto_key_t *platform)
{
    uint8_t h[32];
    proto_attest_quote_signing_hash(&sq->q, h);
    proto_key_sign(platform, h, sizeof h, sq->q.sig);
}

static void s_quote_encode(s_quote_t *sq)
{
    free(sq->bytes);
    CHECK_EQ(proto_attest_quote_encode(&sq->q, &sq->bytes, &sq->len), PROTO_OK);
}

static void s_quote_make(s_quote_t *sq, s_chain_t *c, const proto_key_t *as, uint32_t kind,
                         uint8_t mbyte, uint8_t seed, uint64_t time_ms, uint64_t expires_ms)
{
    memset(sq, 0, sizeof *sq);
    proto_attest_quote_t *q = &sq->q;
    q->version = PROTO_ATTEST_QUOTE_VERSION;
    memset(q->measurement, mbyte, 32);
    proto_key_t *ek = df_key(seed);
    memcpy(q->body.sign_pk, proto_key_public(ek), 32);
    proto_key_destroy(&ek);
    memset(q->body.box_pk, seed ^ 0x5a, 32);
    proto_attest_report_data(kind, c->chain, q->body.report_data);
    memset(q->body.nonce, 7, sizeof q->body.nonce);
    q->time_ms = time_ms;
    memcpy(q->platform_pk, proto_key_public(c->platform), 32);
    q->has_cert = true;
    char err[128];
    CHECK_EQ(proto_attest_cert_issue(as, q->platform_pk, "runner-1", proto_key_public(c->runner),
                                     T0 - DAY, expires_ms, &q->cert, err, sizeof err),
             PROTO_OK);
    s_quote_sign(sq, c->platform);
    s_quote_encode(sq);
}

/* Replaces SQ's certificate by one issued by C's AS for [ISSUED, EXPIRES), re-signs. */
static void s_quote_recert(s_quote_t *sq, s_chain_t *c, uint64_t issued, uint64_t expires)
{
    char err[128];
    CHECK_EQ(proto_attest_cert_issue(c->as, sq->q.platform_pk, "runner-1",
                                     proto_key_public(c->runner), issued, expires, &sq->q.cert, err,
                                     sizeof err),
             PROTO_OK);
    s_quote_sign(sq, c->platform);
    s_quote_encode(sq);
}

static int s_register(s_chain_t *c, const proto_key_t *from, uint32_t kind,
                      const uint8_t *measurement, const s_quote_t *sq, char *err, size_t err_cap)
{
    size_t len;
    uint8_t *tx = ledger_contract_enclave_register_tx(from, c->chain, s_nonce(c, from), kind,
                                                      measurement, sq->bytes, sq->len, &len);
    CHECK(tx != NULL);
    return s_submit(c, tx, len, err, err_cap);
}

static int s_revoke(s_chain_t *c, const proto_key_t *from, uint32_t what, const uint8_t *target)
{
    size_t len;
    uint8_t *tx =
        ledger_contract_enclave_revoke_tx(from, c->chain, s_nonce(c, from), what, target, &len);
    CHECK(tx != NULL);
    return s_submit(c, tx, len, NULL, 0);
}

/* Registers a fresh honest enclave (SEED) of KIND, measurement MBYTE; returns the code. */
static int s_register_honest(s_chain_t *c, uint32_t kind, uint8_t mbyte, uint8_t seed)
{
    s_quote_t sq;
    s_quote_make(&sq, c, c->as, kind, mbyte, seed, c->now, T0 + 365 * DAY);
    int rc = s_register(c, c->runner, kind, sq.q.measurement, &sq, NULL, 0);
    free(sq.bytes);
    return rc;
}

static ledger_state_t *s_view(s_chain_t *c)
{
    ledger_state_t *st = ledger_state_new(c->store);
    CHECK(st != NULL);
    return st;
}

static void test_register_good(void)
{
    s_chain_t c;
    s_chain_open(&c, 1, true);
    s_quote_t sq;
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_TRAINING, 0xAA, 0x10, c.now - 1000,
                 T0 + 30 * DAY);
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(s_register(&c, c.runner, PROTO_ATTEST_KIND_TRAINING, sq.q.measurement, &sq, why,
                        sizeof why),
             LEDGER_OK);
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_QUERY, 0xBB, 0x11), LEDGER_OK);

    ledger_state_t *st = s_view(&c);
    ledger_enclave_t *list = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_enclave_list(st, 0, &list, &n), LEDGER_OK);
    CHECK_EQ(n, 2u);
    if (n == 2) {
        uint8_t id[32];
        ledger_enclave_id(sq.q.body.sign_pk, id);
        CHECK(memcmp(list[0].id, id, 32) == 0);
        CHECK(memcmp(list[0].runner, proto_key_public(c.runner), 32) == 0);
        CHECK_EQ(list[0].kind, (uint32_t)PROTO_ATTEST_KIND_TRAINING);
        CHECK(memcmp(list[0].measurement, sq.q.measurement, 32) == 0);
        CHECK(memcmp(list[0].sign_pk, sq.q.body.sign_pk, 32) == 0);
        CHECK(memcmp(list[0].box_pk, sq.q.body.box_pk, 32) == 0);
        CHECK(memcmp(list[0].platform_pk, proto_key_public(c.platform), 32) == 0);
        CHECK_EQ(list[0].height, 1u);
        CHECK_EQ(list[0].status, (uint32_t)LEDGER_ENCLAVE_ACTIVE);
        CHECK_EQ(list[1].kind, (uint32_t)PROTO_ATTEST_KIND_QUERY);
        CHECK_EQ(list[1].height, 2u);
    }
    free(list);
    CHECK_EQ(ledger_enclave_list(st, PROTO_ATTEST_KIND_QUERY, &list, &n), LEDGER_OK);
    CHECK_EQ(n, 1u);
    free(list);
    CHECK_EQ(ledger_enclave_list(st, PROTO_ATTEST_KIND_VALIDATION, &list, &n), LEDGER_OK);
    CHECK_EQ(n, 0u);
    CHECK(list == NULL);
    ledger_state_destroy(&st);

    /* the same enclave again (its quote is still fresh) */
    CHECK_EQ(s_register(&c, c.runner, PROTO_ATTEST_KIND_TRAINING, sq.q.measurement, &sq, why,
                        sizeof why),
             LEDGER_E_ENCLAVE_RULE);
    free(sq.bytes);
    s_chain_close(&c);
}

/* Each refusal, one at a time, against an otherwise honest quote. */
static void test_register_refusals(void)
{
    s_chain_t c;
    s_chain_open(&c, 1, true);
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_VALIDATION, 0x01, 0x20), LEDGER_OK);
    uint64_t far = T0 + 365 * DAY;
    char why[LEDGER_ERR_MAX] = "";
    s_quote_t sq;

    /* bad quote signature */
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x02, 0x21, c.now, far);
    sq.q.sig[5] ^= 1;
    s_quote_encode(&sq);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             ENCLAVE_E_BAD_SIG);
    CHECK(strstr(why, "signature") != NULL);
    /* a field changed after signing */
    sq.q.sig[5] ^= 1;
    sq.q.body.box_pk[0] ^= 1;
    s_quote_encode(&sq);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             ENCLAVE_E_BAD_SIG);
    free(sq.bytes);

    /* uncertified platform */
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x02, 0x21, c.now, far);
    sq.q.has_cert = false;
    s_quote_encode(&sq);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             ENCLAVE_E_UNCERTIFIED);
    free(sq.bytes);

    /* certified by someone who is not genesis's attestation service */
    proto_key_t *rogue = df_key(0x66);
    s_quote_make(&sq, &c, rogue, PROTO_ATTEST_KIND_VALIDATION, 0x02, 0x21, c.now, far);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             ENCLAVE_E_CERT_BAD_SIG);
    free(sq.bytes);
    proto_key_destroy(&rogue);

    /* certificate expired at the block's clock (the head's time) */
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x02, 0x21, c.now, c.now);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             ENCLAVE_E_CERT_EXPIRED);
    free(sq.bytes);

    /* a certificate issued after the block's clock: accepted within the clock's lag
       allowance, refused as not yet valid beyond it */
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x05, 0x23, c.now, far);
    s_quote_recert(&sq, &c, c.now + LEDGER_ENCLAVE_QUOTE_MAX_SKEW_MS + 1, far);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             ENCLAVE_E_CERT_NOT_YET_VALID);
    s_quote_recert(&sq, &c, c.now + 60000, far);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why), LEDGER_OK);
    free(sq.bytes);

    /* stale and future quote times */
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x02, 0x21,
                 c.now - LEDGER_ENCLAVE_QUOTE_MAX_AGE_MS - 1, far);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why), ENCLAVE_E_STALE);
    free(sq.bytes);
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x02, 0x21,
                 c.now + LEDGER_ENCLAVE_QUOTE_MAX_SKEW_MS + 1, far);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why), ENCLAVE_E_FUTURE);
    free(sq.bytes);
    /* at the edge of the window: accepted */
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x02, 0x21,
                 c.now - LEDGER_ENCLAVE_QUOTE_MAX_AGE_MS, far);
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why), LEDGER_OK);
    free(sq.bytes);

    /* measurement in the body is not the quoted one; a quote of another kind */
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x03, 0x22, c.now, far);
    uint8_t other[32];
    memset(other, 0x04, sizeof other);
    CHECK_EQ(s_register(&c, c.runner, 1, other, &sq, why, sizeof why),
             ENCLAVE_E_MEASUREMENT_MISMATCH);
    CHECK_EQ(
        s_register(&c, c.runner, PROTO_ATTEST_KIND_QUERY, sq.q.measurement, &sq, why, sizeof why),
        ENCLAVE_E_ATTEST);
    CHECK_EQ(s_register(&c, c.runner, 9, sq.q.measurement, &sq, why, sizeof why), LEDGER_E_INVALID);
    /* an enclave bound at INIT to another chain (one whose genesis its runner wrote: it would
       accept that chain's forged proofs), of the declared kind and every other: refused */
    for (uint32_t k = PROTO_ATTEST_KIND_VALIDATION; k <= PROTO_ATTEST_KIND_QUERY; k++) {
        s_quote_t oq;
        s_quote_make(&oq, &c, c.as, k, 0x06, 0x24, c.now, far);
        uint8_t fake[32];
        memcpy(fake, c.chain, 32);
        fake[31] ^= 0x01;
        proto_attest_report_data(k, fake, oq.q.body.report_data);
        s_quote_sign(&oq, c.platform);
        s_quote_encode(&oq);
        CHECK_EQ(s_register(&c, c.runner, k, oq.q.measurement, &oq, why, sizeof why),
                 ENCLAVE_E_CHAIN);
        CHECK(strstr(why, "not bound to this chain") != NULL);
        /* the same enclave bound to this chain registers */
        proto_attest_report_data(k, c.chain, oq.q.body.report_data);
        s_quote_sign(&oq, c.platform);
        s_quote_encode(&oq);
        if (k == PROTO_ATTEST_KIND_QUERY)
            CHECK_EQ(s_register(&c, c.runner, k, oq.q.measurement, &oq, why, sizeof why),
                     LEDGER_OK);
        free(oq.bytes);
    }
    /* sent by an account that is not the certified runner */
    CHECK_EQ(s_register(&c, c.auth[0], 1, sq.q.measurement, &sq, why, sizeof why),
             LEDGER_E_NOT_RUNNER);
    /* a quote that does not decode */
    sq.len -= 3;
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             LEDGER_E_MALFORMED);
    free(sq.bytes);

    ledger_state_t *st = s_view(&c);
    ledger_enclave_t *list;
    size_t n;
    CHECK_EQ(ledger_enclave_list(st, 0, &list, &n), LEDGER_OK);
    CHECK_EQ(n, 4u); /* the first honest one, the lagging-clock one, the one at the edge,
                        the query enclave bound to this chain */
    free(list);
    ledger_state_destroy(&st);
    s_chain_close(&c);
}

static void test_no_attestation_service(void)
{
    s_chain_t c;
    s_chain_open(&c, 1, false);
    s_quote_t sq;
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_VALIDATION, 0x01, 0x20, c.now, T0 + DAY);
    char why[LEDGER_ERR_MAX] = "";
    CHECK_EQ(s_register(&c, c.runner, 1, sq.q.measurement, &sq, why, sizeof why),
             LEDGER_E_NO_ATTESTATION);
    free(sq.bytes);
    s_chain_close(&c);
}

static int s_audit(s_chain_t *c, const proto_key_t *from, const uint8_t *m, uint8_t hbyte,
                   uint32_t verdict)
{
    uint8_t h[32];
    memset(h, hbyte, sizeof h);
    size_t len;
    uint8_t *tx =
        ledger_contract_enclave_audit_tx(from, c->chain, s_nonce(c, from), m, h, verdict, &len);
    CHECK(tx != NULL);
    return s_submit(c, tx, len, NULL, 0);
}

static void test_audit(void)
{
    s_chain_t c;
    s_chain_open(&c, 1, true);
    uint8_t m[32];
    memset(m, 0xAB, sizeof m);
    proto_key_t *a1 = df_key(0x71), *a2 = df_key(0x72);
    CHECK_EQ(s_audit(&c, a2, m, 0x01, LEDGER_AUDIT_OK), LEDGER_OK);
    CHECK_EQ(s_audit(&c, a1, m, 0x02, LEDGER_AUDIT_BAD), LEDGER_OK);
    CHECK_EQ(s_audit(&c, a2, m, 0x03, LEDGER_AUDIT_BAD), LEDGER_OK); /* replaces a2's */
    CHECK_EQ(s_audit(&c, a1, m, 0x04, 3), LEDGER_E_INVALID);

    ledger_state_t *st = s_view(&c);
    ledger_audit_t *au = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_enclave_audits(st, m, &au, &n), LEDGER_OK);
    CHECK_EQ(n, 2u);
    if (n == 2) {
        CHECK(memcmp(au[0].auditor, au[1].auditor, 32) < 0); /* sorted */
        for (size_t i = 0; i < 2; i++) {
            bool is_a2 = memcmp(au[i].auditor, proto_key_public(a2), 32) == 0;
            CHECK_EQ(au[i].report_hash[0], is_a2 ? 0x03 : 0x02);
            CHECK_EQ(au[i].verdict, (uint32_t)LEDGER_AUDIT_BAD);
            CHECK_EQ(au[i].height, is_a2 ? 3u : 2u);
        }
    }
    free(au);
    uint8_t none[32] = {0};
    CHECK_EQ(ledger_enclave_audits(st, none, &au, &n), LEDGER_OK);
    CHECK_EQ(n, 0u);
    ledger_state_destroy(&st);
    proto_key_destroy(&a1);
    proto_key_destroy(&a2);
    s_chain_close(&c);
}

static void s_expect_status(s_chain_t *c, uint32_t want0, uint32_t want1)
{
    ledger_state_t *st = s_view(c);
    ledger_enclave_t *list = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_enclave_list(st, 0, &list, &n), LEDGER_OK);
    CHECK_EQ(n, 2u);
    if (n == 2) {
        CHECK_EQ(list[0].status, want0);
        CHECK_EQ(list[1].status, want1);
    }
    free(list);
    ledger_state_destroy(&st);
}

static void test_revoke(void)
{
    s_chain_t c;
    s_chain_open(&c, 3, true);
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_TRAINING, 0x01, 0x30), LEDGER_OK);
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_TRAINING, 0x02, 0x31), LEDGER_OK);
    uint8_t m1[32], platform[32];
    memset(m1, 0x01, sizeof m1);
    memcpy(platform, proto_key_public(c.platform), 32);
    bool revoked = true;

    /* measurement m1: one vote of three is not a majority */
    CHECK_EQ(s_revoke(&c, c.auth[0], LEDGER_REVOKE_MEASUREMENT, m1), LEDGER_OK);
    CHECK_EQ(s_revoke(&c, c.auth[0], LEDGER_REVOKE_MEASUREMENT, m1), LEDGER_E_ENCLAVE_RULE);
    CHECK_EQ(s_revoke(&c, c.runner, LEDGER_REVOKE_MEASUREMENT, m1), LEDGER_E_NOT_AUTHORITY);
    ledger_state_t *st = s_view(&c);
    CHECK_EQ(ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, m1, &revoked, NULL), LEDGER_OK);
    CHECK(!revoked);
    ledger_state_destroy(&st);
    s_expect_status(&c, LEDGER_ENCLAVE_ACTIVE, LEDGER_ENCLAVE_ACTIVE);
    /* the second vote of three is a strict majority: revoked at once */
    CHECK_EQ(s_revoke(&c, c.auth[2], LEDGER_REVOKE_MEASUREMENT, m1), LEDGER_OK);
    uint64_t at = 0;
    st = s_view(&c);
    CHECK_EQ(ledger_enclave_revoked(st, LEDGER_REVOKE_MEASUREMENT, m1, &revoked, &at), LEDGER_OK);
    CHECK(revoked);
    CHECK_EQ(at, 4u);
    ledger_enclave_t *list = NULL;
    size_t n = 0;
    CHECK_EQ(ledger_enclave_list(st, 0, &list, &n), LEDGER_OK);
    if (n == 2)
        CHECK_EQ(list[0].status_height, 4u);
    free(list);
    ledger_state_destroy(&st);
    s_expect_status(&c, LEDGER_ENCLAVE_REVOKED, LEDGER_ENCLAVE_ACTIVE);
    CHECK_EQ(s_revoke(&c, c.auth[1], LEDGER_REVOKE_MEASUREMENT, m1), LEDGER_E_ENCLAVE_RULE);
    /* a new enclave of the revoked measurement is refused */
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_TRAINING, 0x01, 0x32),
             ENCLAVE_E_REVOKED_MEASUREMENT);

    /* the platform key: two votes of three */
    CHECK_EQ(s_revoke(&c, c.auth[1], LEDGER_REVOKE_PLATFORM, platform), LEDGER_OK);
    s_expect_status(&c, LEDGER_ENCLAVE_REVOKED, LEDGER_ENCLAVE_ACTIVE);
    CHECK_EQ(s_revoke(&c, c.auth[0], LEDGER_REVOKE_PLATFORM, platform), LEDGER_OK);
    s_expect_status(&c, LEDGER_ENCLAVE_REVOKED, LEDGER_ENCLAVE_REVOKED);
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_QUERY, 0x03, 0x33),
             ENCLAVE_E_REVOKED_PLATFORM);
    /* a bad target kind is refused by the stateless check */
    CHECK_EQ(s_revoke(&c, c.auth[0], 3, platform), LEDGER_E_INVALID);
    s_chain_close(&c);
}

static int s_retire(s_chain_t *c, const proto_key_t *from, const uint8_t *id, char *err,
                    size_t err_cap)
{
    size_t len;
    uint8_t *tx = ledger_contract_enclave_retire_tx(from, c->chain, s_nonce(c, from), id, &len);
    CHECK(tx != NULL);
    return s_submit(c, tx, len, err, err_cap);
}

/* The enclave ID's record (it must exist). */
static ledger_enclave_t s_get(s_chain_t *c, const uint8_t *id)
{
    ledger_enclave_t e;
    memset(&e, 0, sizeof e);
    ledger_state_t *st = s_view(c);
    CHECK_EQ(ledger_enclave_get(st, id, &e), LEDGER_OK);
    ledger_state_destroy(&st);
    return e;
}

static void s_id_of(uint8_t seed, uint8_t id[32])
{
    proto_key_t *ek = df_key(seed);
    ledger_enclave_id(proto_key_public(ek), id);
    proto_key_destroy(&ek);
}

static void test_retire(void)
{
    s_chain_t c;
    s_chain_open(&c, 3, true);
    uint8_t a[32], b[32], r[32], unknown[32];
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_TRAINING, 0x01, 0x50), LEDGER_OK);
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_TRAINING, 0x01, 0x51), LEDGER_OK);
    CHECK_EQ(s_register_honest(&c, PROTO_ATTEST_KIND_QUERY, 0x07, 0x52), LEDGER_OK);
    s_id_of(0x50, a);
    s_id_of(0x51, b);
    s_id_of(0x52, r);
    memset(unknown, 0xEE, sizeof unknown);
    char why[LEDGER_ERR_MAX] = "";

    /* another account (an authority, the attestation service) may not retire it */
    CHECK_EQ(s_retire(&c, c.auth[0], a, why, sizeof why), LEDGER_E_NOT_RUNNER);
    CHECK(strstr(why, "runner") != NULL);
    CHECK_EQ(s_retire(&c, c.as, a, why, sizeof why), LEDGER_E_NOT_RUNNER);
    CHECK_EQ(s_get(&c, a).status, (uint32_t)LEDGER_ENCLAVE_ACTIVE);
    /* an unknown enclave */
    CHECK_EQ(s_retire(&c, c.runner, unknown, why, sizeof why), LEDGER_E_ENCLAVE_RULE);
    CHECK(strstr(why, "no such") != NULL);

    /* its runner retires it: RETIRED at the block that holds the tx, still listed */
    CHECK_EQ(s_retire(&c, c.runner, a, why, sizeof why), LEDGER_OK);
    ledger_state_t *st = s_view(&c);
    uint64_t h = ledger_state_base_height(st);
    ledger_state_destroy(&st);
    ledger_enclave_t e = s_get(&c, a);
    CHECK_EQ(e.status, (uint32_t)LEDGER_ENCLAVE_RETIRED);
    CHECK_EQ(e.status_height, h);
    CHECK(e.status_height > e.height);
    CHECK(strcmp(ledger_enclave_status_name(e.status), "retired") == 0);
    CHECK_EQ(s_get(&c, b).status, (uint32_t)LEDGER_ENCLAVE_ACTIVE); /* the other untouched */
    CHECK_EQ(s_get(&c, b).status_height, 0u);
    /* twice */
    CHECK_EQ(s_retire(&c, c.runner, a, why, sizeof why), LEDGER_E_ENCLAVE_RULE);
    CHECK(strstr(why, "already retired") != NULL);
    CHECK_EQ(s_get(&c, a).status_height, h);

    /* a revocation of the measurement leaves the retired one retired, revokes b; a revoked
       enclave cannot be retired */
    uint8_t m1[32];
    memset(m1, 0x01, sizeof m1);
    CHECK_EQ(s_revoke(&c, c.auth[0], LEDGER_REVOKE_MEASUREMENT, m1), LEDGER_OK);
    CHECK_EQ(s_revoke(&c, c.auth[1], LEDGER_REVOKE_MEASUREMENT, m1), LEDGER_OK);
    CHECK_EQ(s_get(&c, a).status, (uint32_t)LEDGER_ENCLAVE_RETIRED);
    CHECK_EQ(s_get(&c, a).status_height, h);
    CHECK_EQ(s_get(&c, b).status, (uint32_t)LEDGER_ENCLAVE_REVOKED);
    CHECK_EQ(s_retire(&c, c.runner, b, why, sizeof why), LEDGER_E_ENCLAVE_RULE);
    CHECK(strstr(why, "revoked") != NULL);
    CHECK_EQ(s_get(&c, b).status, (uint32_t)LEDGER_ENCLAVE_REVOKED);
    /* the query enclave is still the runner's to retire */
    CHECK_EQ(s_get(&c, r).status, (uint32_t)LEDGER_ENCLAVE_ACTIVE);
    CHECK_EQ(s_retire(&c, c.runner, r, why, sizeof why), LEDGER_OK);
    CHECK_EQ(s_get(&c, r).status, (uint32_t)LEDGER_ENCLAVE_RETIRED);

    /* the status names */
    CHECK(strcmp(ledger_enclave_status_name(LEDGER_ENCLAVE_ACTIVE), "active") == 0);
    CHECK(strcmp(ledger_enclave_status_name(LEDGER_ENCLAVE_REVOKED), "revoked") == 0);
    CHECK(strcmp(ledger_enclave_status_name(0), "unknown") == 0);
    s_chain_close(&c);
}

/* A donation receipt signed by a retired training enclave does not make a donor; the same
   donation through the training enclave that replaced it (same measurement) does. */
static void test_retire_receipt(void)
{
    df_chain_t c;
    df_world(&c);
    char why[LEDGER_ERR_MAX] = "";
    size_t len;
    uint8_t *tx =
        ledger_contract_enclave_retire_tx(c.runner, c.chain, df_nonce(&c, c.runner), c.t_id, &len);
    CHECK(tx != NULL);
    CHECK_EQ(df_submit(&c, tx, len, why, sizeof why), LEDGER_OK);
    ledger_state_t *st = df_view(&c);
    ledger_enclave_t e;
    CHECK_EQ(ledger_enclave_get(st, c.t_id, &e), LEDGER_OK);
    CHECK_EQ(e.status, (uint32_t)LEDGER_ENCLAVE_RETIRED);
    ledger_state_destroy(&st);

    uint8_t *rc = df_alice_receipt(&c, DF_T_SEED, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_E_RECEIPT);
    CHECK(strstr(why, "retired") != NULL);

    /* the restarted enclave (new keys, same measurement) registers and signs receipts */
    uint8_t t2[32];
    CHECK_EQ(df_enclave(&c, PROTO_ATTEST_KIND_TRAINING, DF_T_M, 0x2e, t2), LEDGER_OK);
    rc = df_alice_receipt(&c, 0x2e, &len);
    CHECK_EQ(df_donor(&c, c.alice, rc, len, why, sizeof why), LEDGER_OK);
    /* a data key goes to the new enclave, not to the retired one */
    CHECK(df_key_auth(&c, c.alice, c.data_a, c.spec_id, c.t_id, 0x11, why, sizeof why) !=
          LEDGER_OK);
    CHECK(strstr(why, "retired") != NULL);
    CHECK_EQ(df_key_auth(&c, c.alice, c.data_a, c.spec_id, t2, 0x11, why, sizeof why), LEDGER_OK);
    df_close(&c);
}

/* The four bodies round-trip byte for byte; malformed ones are refused. */
static void test_codec(void)
{
    s_chain_t c;
    s_chain_open(&c, 1, true);
    s_quote_t sq;
    s_quote_make(&sq, &c, c.as, PROTO_ATTEST_KIND_QUERY, 0x09, 0x40, c.now, T0 + DAY);
    uint8_t h[32];
    memset(h, 3, sizeof h);
    size_t lens[4];
    uint8_t *txs[4] = {
        ledger_contract_enclave_register_tx(c.runner, c.chain, 0, PROTO_ATTEST_KIND_QUERY,
                                            sq.q.measurement, sq.bytes, sq.len, &lens[0]),
        ledger_contract_enclave_audit_tx(c.runner, c.chain, 0, h, h, LEDGER_AUDIT_OK, &lens[1]),
        ledger_contract_enclave_revoke_tx(c.auth[0], c.chain, 0, LEDGER_REVOKE_PLATFORM, h,
                                          &lens[2]),
        ledger_contract_enclave_retire_tx(c.runner, c.chain, 0, h, &lens[3]),
    };
    const uint32_t types[4] = {LEDGER_TX_ENCLAVE_REGISTER, LEDGER_TX_ENCLAVE_AUDIT,
                               LEDGER_TX_ENCLAVE_REVOKE, LEDGER_TX_ENCLAVE_RETIRE};
    for (size_t i = 0; i < 4; i++) {
        CHECK(txs[i] != NULL);
        ledger_tx_t t;
        CHECK_EQ(ledger_tx_decode(txs[i], lens[i], &t), PROTO_OK);
        CHECK_EQ(t.type, types[i]);
        proto_wr_t w;
        proto_wr_init(&w);
        CHECK_EQ(ledger_tx_write(&w, &t), PROTO_OK);
        size_t n;
        const uint8_t *p = proto_wr_data(&w, &n);
        CHECK(p && n == lens[i] && memcmp(p, txs[i], n) == 0);
        proto_wr_free(&w);
        /* every truncation is refused */
        for (size_t cut = 0; cut < lens[i]; cut++)
            CHECK(ledger_tx_decode(txs[i], cut, &t) != PROTO_OK);
        free(txs[i]);
    }
    free(sq.bytes);
    s_chain_close(&c);
}

int main(void)
{
    if (proto_crypto_init() != 0)
        return 1;
    test_register_good();
    test_register_refusals();
    test_no_attestation_service();
    test_audit();
    test_revoke();
    test_retire();
    test_retire_receipt();
    test_codec();
    return testutil_done("test_ledger_enclave");
}
