/*  gen_ledger_data_corpus: writes the data owner's seeds into the ledger tx corpus,
 *  tests/fuzz/corpus/ledger_tx/data_* (tx types 6..13: DATA_REGISTER, DATA_WITHDRAW,
 *  CONSENT_SET, CONSENT_REVOKE, TRAINER_REGISTER, SPEC_REGISTER, DONOR_REGISTER,
 *  KEY_AUTHORIZE).
 *
 *  Reports and receipts are signed by the enclaves of the world fuzz_ledger_tx builds
 *  (fuzz_ledger_data_world.h), so the valid seed of each type passes every rule on the
 *  harness's state; the others break one thing each (signature, enclave kind, name,
 *  shares, ...), so the fuzzer starts next to every refusal.
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Deterministic. Build and run by hand
 *  from the repository root:
 *      cmake --build build --target genie_ledger
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. tests/fuzz/gen_ledger_data_corpus.c \
 *         build/libgenie_ledger.a build/libgenie_proto.a \
 *         $(pkg-config --libs libsodium msgpack) -lleveldb -ljansson -o /tmp/gen_ldc
 *      /tmp/gen_ldc tests/fuzz/corpus
 *  (with a sanitizer build, add -fsanitize=address,undefined). Every file is under 2 KiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_data.h"
#include "proto/proto_key.h"
#include "proto/proto_report.h"
#include "tests/fuzz/fuzz_ledger_data_world.h"
#include "tests/fuzz/gen_util.h"

static const char *s_root;
static const uint8_t s_chain[32] = {0x11, 0x22, 0x33};

static void s_put(const char *name, uint8_t *p, size_t n)
{
    if (!p) {
        fprintf(stderr, "cannot build %s\n", name);
        exit(1);
    }
    gen_put(s_root, "ledger_tx", name, -1, p, n);
    free(p);
}

/* Evaluates EXPR (which sets len) before writing it as NAME. */
#define PUT(name, expr)                                                                            \
    do {                                                                                           \
        uint8_t *p_ = (expr);                                                                      \
        s_put((name), p_, len);                                                                    \
    } while (0)

static uint8_t *s_report(uint8_t seed, const uint8_t commit[32], size_t *len)
{
    proto_report_t r;
    uint8_t pk[32], sk[64], *out = NULL;
    memset(&r, 0, sizeof r);
    memcpy(r.data_commitment, commit, 32);
    r.data_type = PROTO_DATA_GENOTYPE;
    r.record_count = 10;
    r.checks_run = r.checks_passed = 3;
    fuzz_dw_enclave_keys(seed, pk, sk);
    if (proto_report_sign(&r, sk) != 0 || proto_report_encode(&r, &out, len) != 0)
        exit(1);
    return out;
}

static uint8_t *s_receipt(uint8_t seed, const uint8_t donor[32], size_t *len)
{
    proto_receipt_t r;
    uint8_t pk[32], sk[64], *out = NULL;
    memset(&r, 0, sizeof r);
    memset(r.spec_id, FUZZ_DW_SPEC, 32);
    memset(r.data_id, FUZZ_DW_DATA, 32);
    memset(r.data_commitment, FUZZ_DW_DATA, 32);
    memcpy(r.donor, donor, 32);
    r.time_ms = 1;
    fuzz_dw_enclave_keys(seed, pk, sk);
    if (proto_receipt_sign(&r, sk) != 0 || proto_receipt_encode(&r, &out, len) != 0)
        exit(1);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 2 || proto_crypto_init() != 0)
        return 2;
    s_root = argv[1];
    uint8_t seed[PROTO_SEED_LEN], commit[32], data[32], spec[32], zero[32] = {0}, tid[32], vid[32],
                                                                  pk[32], sk[64];
    memset(seed, 0x42, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    if (!k)
        return 1;
    const uint8_t *me = proto_key_public(k);
    memset(commit, 0xC2, 32);
    memset(data, FUZZ_DW_DATA, 32);
    memset(spec, FUZZ_DW_SPEC, 32);
    fuzz_dw_enclave_keys(FUZZ_DW_T_SEED, pk, sk);
    ledger_enclave_id(pk, tid);
    fuzz_dw_enclave_keys(FUZZ_DW_V_SEED, pk, sk);
    ledger_enclave_id(pk, vid);
    size_t len, rlen;
    uint8_t addr[32];
    memset(addr, 0xAD, 32);

    /* DATA_REGISTER */
    uint8_t *rep = s_report(FUZZ_DW_V_SEED, commit, &rlen);
    PUT("data_register_valid",
        ledger_contract_data_register_tx(k, s_chain, 0, 1, 12, commit, addr, rep, rlen, &len));
    rep[rlen - 1] ^= 1;
    PUT("data_register_badsig",
        ledger_contract_data_register_tx(k, s_chain, 0, 1, 12, commit, addr, rep, rlen, &len));
    free(rep);
    rep = s_report(FUZZ_DW_T_SEED, commit, &rlen);
    PUT("data_register_training",
        ledger_contract_data_register_tx(k, s_chain, 0, 1, 12, commit, addr, rep, rlen, &len));
    free(rep);
    /* DATA_WITHDRAW */
    PUT("data_withdraw_valid", ledger_contract_data_withdraw_tx(k, s_chain, 0, data, &len));
    PUT("data_withdraw_unknown", ledger_contract_data_withdraw_tx(k, s_chain, 0, commit, &len));
    /* CONSENT_SET / CONSENT_REVOKE */
    ledger_consent_t c;
    memset(&c, 0, sizeof c);
    strcpy(c.allow_types.v[0], "prs");
    strcpy(c.allow_types.v[1], "logistic");
    c.allow_types.n = 2;
    strcpy(c.allow_purposes.v[0], "research");
    c.allow_purposes.n = 1;
    strcpy(c.deny_types.v[0], "gwas");
    c.deny_types.n = 1;
    strcpy(c.deny_purposes.v[0], "commercial");
    c.deny_purposes.n = 1;
    c.max_epsilon_milli = 2000;
    c.min_audits = 1;
    memset(c.auditors[0], 0xA1, 32);
    c.n_auditors = 1;
    PUT("data_consent_set_default", ledger_contract_consent_set_tx(k, s_chain, 0, &c, &len));
    memcpy(c.data_id, data, 32);
    PUT("data_consent_set_record", ledger_contract_consent_set_tx(k, s_chain, 0, &c, &len));
    strcpy(c.deny_purposes.v[0], "Bad Name");
    PUT("data_consent_set_badname", ledger_contract_consent_set_tx(k, s_chain, 0, &c, &len));
    PUT("data_consent_revoke_default",
        ledger_contract_consent_revoke_tx(k, s_chain, 0, zero, &len));
    PUT("data_consent_revoke_missing",
        ledger_contract_consent_revoke_tx(k, s_chain, 0, data, &len));
    /* TRAINER_REGISTER */
    PUT("data_trainer_register_valid",
        ledger_contract_trainer_register_tx(k, s_chain, 0, "Acme Genomics", &len));
    PUT("data_trainer_register_ctrl",
        ledger_contract_trainer_register_tx(k, s_chain, 0, "a\tb", &len));
    /* SPEC_REGISTER */
    ledger_spec_t s;
    memset(&s, 0, sizeof s);
    strcpy(s.model_type, "prs");
    strcpy(s.purpose, "research");
    strcpy(s.label, "height");
    strcpy(s.features[0], "rs1");
    strcpy(s.features[1], "rs2");
    s.n_features = 2;
    memset(s.measurement, 0x02, 32);
    s.min_donors = 2;
    s.max_epsilon_milli = 1000;
    s.aggregation = LEDGER_AGG_TRIMMED_MEAN;
    s.price = 5;
    s.share_donors_bp = 6000;
    s.share_trainer_bp = 3000;
    s.share_runner_bp = 1000;
    PUT("data_spec_register_valid", ledger_contract_spec_register_tx(k, s_chain, 0, &s, &len));
    s.share_runner_bp = 999;
    PUT("data_spec_register_shares", ledger_contract_spec_register_tx(k, s_chain, 0, &s, &len));
    /* DONOR_REGISTER */
    uint8_t *rc = s_receipt(FUZZ_DW_T_SEED, me, &rlen);
    PUT("data_donor_register_valid",
        ledger_contract_donor_register_tx(k, s_chain, 0, rc, rlen, &len));
    rc[rlen - 1] ^= 1;
    PUT("data_donor_register_badsig",
        ledger_contract_donor_register_tx(k, s_chain, 0, rc, rlen, &len));
    free(rc);
    rc = s_receipt(FUZZ_DW_V_SEED, me, &rlen);
    PUT("data_donor_register_validation",
        ledger_contract_donor_register_tx(k, s_chain, 0, rc, rlen, &len));
    free(rc);
    /* KEY_AUTHORIZE */
    uint8_t grant[120];
    memset(grant, 0x6b, sizeof grant);
    PUT("data_key_authorize_valid", ledger_contract_key_authorize_tx(k, s_chain, 0, data, spec, tid,
                                                                     grant, sizeof grant, &len));
    PUT("data_key_authorize_validation",
        ledger_contract_key_authorize_tx(k, s_chain, 0, data, spec, vid, grant, sizeof grant,
                                         &len));
    proto_key_destroy(&k);
    return 0;
}
