/*  fuzz_ledger_tx: libFuzzer harness for the ledger transaction decoder
 *  (ledger/ledger_tx.h) and the contracts behind it.
 *
 *  The whole input is a tx. For any input the decoder must not crash and must return
 *  PROTO_OK or a proto_err_t. When it succeeds: re-encoding the decoded tx gives the input
 *  back byte for byte (the decoder accepts only canonical encodings); the signed prefix
 *  lies inside the input; ledger_tx_parse agrees (never "malformed"); and the tx runs
 *  through the stateless check, signature verification and, on an in-memory state where
 *  the sender is a funded authority with the right nonce, apply, end of block and the
 *  state root, each returning a valid reason code. The state also holds a small data
 *  owner's world (fuzz_ledger_data_world.h) and issue 16's (fuzz_ledger_model_world.h) so the
 *  data and settlement contracts run their deep rules. A broken
 * invariant calls abort(), which libFuzzer (and tests/fuzz/replay_main.c) report as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_ledger_data_world.h"
#include "tests/fuzz/fuzz_ledger_model_world.h"
#include "tests/fuzz/fuzz_util.h"

static bool s_code_ok(int rc)
{
    if (rc <= LEDGER_OK && rc >= LEDGER_E_NOMEM && rc != LEDGER_E_NOMEM)
        return true;
    /* the enclave registry's codes (ledger_contract_enclave.c) */
    return rc == LEDGER_E_NO_ATTESTATION || rc == LEDGER_E_NOT_RUNNER ||
           rc == LEDGER_E_ENCLAVE_RULE || rc == LEDGER_E_DATA_RULE || rc == LEDGER_E_CONSENT ||
           rc == LEDGER_E_NOT_TRAINER || rc == LEDGER_E_RECEIPT ||
           /* issue 16's contracts (ledger_contract_model.c, ledger_contract_settle.c) */
           rc == LEDGER_E_JOB || rc == LEDGER_E_PUBLISH || rc == LEDGER_E_ESCROW ||
           rc == LEDGER_E_USAGE || rc == LEDGER_E_NOTHING_OWED ||
           (rc <= ENCLAVE_E_BAD_SIG && rc >= ENCLAVE_E_FUTURE) || rc == ENCLAVE_E_ATTEST ||
           rc == ENCLAVE_E_CHAIN || /* a quote bound to another chain */
           rc == PROTO_E_VERSION;
}

/* Applies TX on an in-memory state where the sender can act. */
static void s_apply(const ledger_tx_t *tx)
{
    ledger_state_t *st = ledger_state_new(NULL);
    fuzz_require(st != NULL, "out of memory");
    ledger_account_t a = {.balance = 1000000, .nonce = tx->nonce};
    uint8_t auth[2][LEDGER_ID_LEN];
    memcpy(auth[0], tx->from, LEDGER_ID_LEN);
    memset(auth[1], 0x5a, LEDGER_ID_LEN);
    if (memcmp(auth[0], auth[1], LEDGER_ID_LEN) == 0)
        auth[1][0] ^= 1;
    fuzz_require(ledger_state_set_account(st, tx->from, &a) == LEDGER_OK, "set account");
    fuzz_require(ledger_state_set_authorities(st, (const uint8_t(*)[LEDGER_ID_LEN])auth, 2) ==
                     LEDGER_OK,
                 "set authorities");
    /* an attestation service, so registrations reach quote verification (the corpus's
       seeds are certified by the key of seed 0x40 bytes, gen_corpus.c) */
    static const uint8_t as_key[2] = {LEDGER_KEY_CONFIG, LEDGER_CONFIG_ATTESTATION};
    uint8_t as_seed[PROTO_SEED_LEN];
    memset(as_seed, 0x40, sizeof as_seed);
    proto_key_t *as = proto_key_from_seed(as_seed);
    fuzz_require(as != NULL, "out of memory");
    fuzz_require(ledger_state_put(st, as_key, sizeof as_key, proto_key_public(as), LEDGER_ID_LEN) ==
                     LEDGER_OK,
                 "set attestation key");
    proto_key_destroy(&as);
    /* the data owner's world (fuzz_ledger_data_world.h), so types 6..13 reach their rules */
    fuzz_require(fuzz_dw_build(st, tx->from) == LEDGER_OK, "build the data world");
    /* issue 16's world (fuzz_ledger_model_world.h), so types 15..19 reach their rules */
    fuzz_require(fuzz_mw_build(st, tx->from) == LEDGER_OK, "build the model world");
    char why[LEDGER_ERR_MAX] = "";
    int rc = ledger_state_admit_tx(st, tx, why, sizeof why);
    fuzz_require(s_code_ok(rc) && (rc == LEDGER_OK || why[0] != '\0'), "admit code");
    why[0] = '\0';
    rc = ledger_state_apply_tx(st, tx, why, sizeof why);
    fuzz_require(s_code_ok(rc) && (rc == LEDGER_OK || why[0] != '\0'), "apply code");
    if (rc == LEDGER_OK) {
        ledger_account_t after;
        fuzz_require(ledger_state_account(st, tx->from, &after) == LEDGER_OK, "read back");
        fuzz_require(after.nonce == tx->nonce + 1, "nonce not bumped");
    }
    fuzz_require(ledger_state_end_block(st) == LEDGER_OK, "end block");
    uint8_t prev[LEDGER_ID_LEN] = {0}, root[LEDGER_ID_LEN];
    fuzz_require(ledger_state_finish(st, prev, root) == LEDGER_OK, "finish");
    ledger_state_destroy(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    ledger_tx_t tx;
    int rc = ledger_tx_decode(data, size, &tx);
    fuzz_require(rc <= PROTO_OK && rc >= PROTO_E_INVALID, "decoder returned a stray value");
    fuzz_require(rc != PROTO_E_NOMEM && rc != PROTO_E_BAD_SIG && rc != PROTO_E_VERSION,
                 "decoder returned an error it has no cause for");
    if (rc != PROTO_OK) {
        fuzz_require(tx.bytes == NULL && tx.len == 0, "fields left behind after an error");
        return 0;
    }
    fuzz_require(size <= LEDGER_TX_MAX_BYTES, "oversized tx accepted");
    fuzz_require(tx.bytes == data && tx.len == size, "bytes view wrong");
    fuzz_require(tx.signed_len > 0 && tx.signed_len + 2 + PROTO_SIG_LEN == size,
                 "signed prefix not followed by exactly the signature");
    fuzz_require(ledger_contract_find(tx.type) != NULL, "unknown type accepted");

    proto_wr_t w;
    proto_wr_init(&w);
    fuzz_require(ledger_tx_write(&w, &tx) == PROTO_OK, "re-encoding failed");
    size_t n;
    const uint8_t *again = proto_wr_data(&w, &n);
    fuzz_require(again && n == size && memcmp(again, data, size) == 0,
                 "encode(decode(b)) != b: a non-canonical encoding was accepted");
    proto_wr_free(&w);

    uint8_t id[LEDGER_ID_LEN], h[PROTO_HASH_LEN];
    ledger_tx_id(data, size, id);
    ledger_tx_sighash(&tx, h);
    bool verified = ledger_tx_verify_sig(&tx); /* any answer, but no crash */
    (void)verified;
    char why[LEDGER_ERR_MAX] = "";
    ledger_tx_t again_tx;
    int prc = ledger_tx_parse(data, size, tx.chain_id, false, &again_tx, why, sizeof why);
    fuzz_require(prc == LEDGER_OK || prc == LEDGER_E_INVALID, "parse disagrees with decode");
    fuzz_require(prc == LEDGER_OK || why[0] != '\0', "refusal without a reason");
    prc = ledger_tx_check(&tx, tx.chain_id, true, why, sizeof why);
    fuzz_require(prc == LEDGER_OK || prc == LEDGER_E_INVALID || prc == LEDGER_E_BAD_SIG,
                 "check returned a stray code");
    s_apply(&tx);
    return 0;
}
