/*  fuzz_ledger_vote: libFuzzer harness for the consensus messages and the consensus core's
 *  inputs (ledger/ledger_vote.h, ledger/ledger_consensus.h).
 *
 *  The first input byte chooses the target (modulo the number of targets, so every byte
 *  selects one; the seed corpus uses 0..4) and the rest is the body:
 *      0 vote decoder   1 proposal decoder   2 certificate decoder (and ledger_cert_verify
 *      against a fixed set of 4)   3 ledger_cons_restore of a signing record, then a height
 *      started from it   4 the body handed to a running core as a vote and as a proposal
 *  For any body nothing may crash, and a decoder returns PROTO_OK or a proto_err_t. When a
 *  decoder succeeds, the fields must obey their limits, and re-encoding them must give the
 *  body back byte for byte (decoders accept only canonical encodings, so anything else is
 *  a bug). A broken invariant calls abort(), which libFuzzer (and tests/fuzz/replay_main.c)
 *  report as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_consensus.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_util.h"

/* The fixed world of the harness: chain id "fuzz-chain" and validators from seeds 1..4. */
static const uint8_t s_chain[32] = {'f', 'u', 'z', 'z', '-', 'c', 'h', 'a', 'i', 'n'};

static void s_require_same(uint8_t *again, size_t n, int rc, const uint8_t *body, size_t len)
{
    fuzz_require(rc == PROTO_OK, "re-encoding failed");
    fuzz_require_same(again, n, body, len);
    free(again);
}

static void s_keys(proto_key_t *keys[4], ledger_valset_t *vs)
{
    memset(vs, 0, sizeof *vs);
    for (int i = 0; i < 4; i++) {
        uint8_t seed[32] = {0};
        seed[0] = (uint8_t)(i + 1);
        keys[i] = proto_key_from_seed(seed);
        fuzz_require(keys[i] != NULL, "out of memory");
        fuzz_require(ledger_valset_add(vs, proto_key_public(keys[i])) == 0, "valset");
    }
}

static void s_keys_free(proto_key_t *keys[4])
{
    for (int i = 0; i < 4; i++)
        proto_key_destroy(&keys[i]);
}

static int s_vote(const uint8_t *body, size_t len)
{
    ledger_vote_t v;
    int rc = ledger_vote_decode(body, len, &v);
    if (rc == PROTO_OK) {
        fuzz_require(v.type == LEDGER_VOTE_PREVOTE || v.type == LEDGER_VOTE_PRECOMMIT, "type");
        fuzz_require(v.height <= LEDGER_HEIGHT_MAX && v.round <= LEDGER_ROUND_MAX, "range");
        bool ok = ledger_vote_verify(&v); /* any answer, but no crash */
        (void)ok;
        uint8_t *again = NULL;
        size_t n = 0;
        int erc = ledger_vote_encode(&v, &again, &n);
        s_require_same(again, n, erc, body, len);
    }
    return rc;
}

static int s_proposal(const uint8_t *body, size_t len)
{
    ledger_proposal_t p;
    int rc = ledger_proposal_decode(body, len, &p);
    if (rc == PROTO_OK) {
        fuzz_require(p.height <= LEDGER_HEIGHT_MAX && p.round <= LEDGER_ROUND_MAX, "range");
        fuzz_require(p.pol_round >= -1 && (p.pol_round < 0 || (uint32_t)p.pol_round < p.round),
                     "pol_round");
        fuzz_require(p.block_len <= LEDGER_PROPOSAL_BLOCK_MAX && p.block_len <= len &&
                         (p.block_len == 0 ||
                          (p.block >= body && (size_t)(p.block - body) <= len - p.block_len)),
                     "block outside the input");
        bool ok = ledger_proposal_verify(&p);
        (void)ok;
        uint8_t *again = NULL;
        size_t n = 0;
        int erc = ledger_proposal_encode(&p, &again, &n);
        s_require_same(again, n, erc, body, len);
    }
    return rc;
}

static int s_cert(const uint8_t *body, size_t len)
{
    ledger_cert_t c;
    int rc = ledger_cert_decode(body, len, &c);
    if (rc == PROTO_OK) {
        fuzz_require(c.n_sigs >= 1 && c.n_sigs <= LEDGER_VALSET_MAX, "entries");
        for (size_t i = 1; i < c.n_sigs; i++)
            fuzz_require(c.sigs[i].index > c.sigs[i - 1].index, "indexes not increasing");
        proto_key_t *keys[4];
        ledger_valset_t vs;
        s_keys(keys, &vs);
        int vrc = ledger_cert_verify(&c, &vs, s_chain, c.block_hash);
        fuzz_require(vrc == PROTO_OK || vrc == PROTO_E_INVALID || vrc == PROTO_E_BAD_SIG,
                     "verify result");
        s_keys_free(keys);
        uint8_t *again = NULL;
        size_t n = 0;
        int erc = ledger_cert_encode(&c, &again, &n);
        s_require_same(again, n, erc, body, len);
    }
    return rc;
}

/* ---- a core with inert io ---- */

static void s_io_broadcast(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)type;
    (void)data;
    (void)len;
}

static void s_io_schedule(void *ctx, uint64_t height, uint32_t round, ledger_cons_step_t step,
                          uint64_t delay)
{
    (void)ctx;
    (void)height;
    (void)round;
    (void)step;
    (void)delay;
}

static int s_io_persist(void *ctx, const uint8_t *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    return 0;
}

static ledger_cons_block_rc_t s_io_get_block(void *ctx, uint64_t height, const uint8_t **block,
                                             size_t *len)
{
    (void)ctx;
    (void)height;
    *block = (const uint8_t *)"fuzz-block";
    *len = 10;
    return LEDGER_CONS_BLOCK_READY;
}

static bool s_io_validate(void *ctx, uint64_t height, const uint8_t *block, size_t len)
{
    (void)ctx;
    (void)height;
    return len > 0 && block[0] != 'X';
}

static void s_io_commit(void *ctx, uint64_t height, const uint8_t *block, size_t len,
                        const uint8_t hash[static 32], const uint8_t *cert, size_t cert_len)
{
    (void)ctx;
    (void)height;
    (void)block;
    (void)len;
    (void)hash;
    (void)cert;
    (void)cert_len;
}

static ledger_cons_t *s_core(proto_key_t *key)
{
    ledger_cons_io_t io = {.broadcast = s_io_broadcast,
                           .schedule_timeout = s_io_schedule,
                           .persist = s_io_persist,
                           .get_block = s_io_get_block,
                           .validate = s_io_validate,
                           .commit = s_io_commit};
    ledger_cons_t *c = ledger_cons_new(s_chain, key, &io, NULL);
    fuzz_require(c != NULL, "ledger_cons_new");
    return c;
}

static int s_record(const uint8_t *body, size_t len)
{
    proto_key_t *keys[4];
    ledger_valset_t vs;
    s_keys(keys, &vs);
    ledger_cons_t *c = s_core(keys[1]);
    int rc = ledger_cons_restore(c, body, len);
    if (rc == PROTO_OK) {
        /* resume wherever the record says (heights 1..3 are the interesting ones) */
        for (uint64_t h = 1; h <= 3; h++)
            fuzz_require(ledger_cons_start_height(c, h, &vs, 1000 + h) == 0, "start_height");
        ledger_cons_on_timeout(c, 3, ledger_cons_round(c), LEDGER_STEP_PROPOSE, 2000);
        ledger_cons_on_timeout(c, 3, ledger_cons_round(c), LEDGER_STEP_REBROADCAST, 3000);
        ledger_cons_on_timeout(c, 3, ledger_cons_round(c), LEDGER_STEP_REBROADCAST, 4000);
    }
    ledger_cons_destroy(&c);
    s_keys_free(keys);
    return rc;
}

static int s_core_inputs(const uint8_t *body, size_t len)
{
    proto_key_t *keys[4];
    ledger_valset_t vs;
    s_keys(keys, &vs);
    ledger_cons_t *c = s_core(keys[2]);
    fuzz_require(ledger_cons_start_height(c, 1, &vs, 1000) == 0, "start_height");
    int a = ledger_cons_on_vote(c, body, len, 1001);
    int b = ledger_cons_on_proposal(c, body, len, 1002);
    fuzz_require(a <= PROTO_OK && a >= PROTO_E_INVALID && b <= PROTO_OK && b >= PROTO_E_INVALID,
                 "core returned a stray value");
    ledger_cons_on_timeout(c, 1, 0, LEDGER_STEP_PROPOSE, 1300);
    ledger_cons_destroy(&c);
    s_keys_free(keys);
    return PROTO_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_case_fn *const cases[] = {s_vote, s_proposal, s_cert, s_record, s_core_inputs};
    if (proto_crypto_init() != 0)
        abort();
    fuzz_require_decoder_rc(fuzz_dispatch(data, size, cases, sizeof cases / sizeof cases[0]));
    return 0;
}
