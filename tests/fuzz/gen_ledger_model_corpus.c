/*  gen_ledger_model_corpus: writes issue 16's seeds into the ledger tx corpus,
 *  tests/fuzz/corpus/ledger_tx/model_* (tx types 15..19: TRAIN_START, MODEL_PUBLISH,
 *  QUERY_BUY, USAGE_CLAIM, EARNINGS_CLAIM).
 *
 *  The valid seed of each type passes every rule on the harness's world
 *  (fuzz_ledger_model_world.h): a TRAIN_START of the spec, the publication of the world's
 *  running job signed by its coordinator T, a buy of the world's model, a usage report of
 *  the world's buy signed by its query enclave Q, an earnings claim of the model; the
 *  others break one thing each (rounds 0, count 0, nothing owed), so the fuzzer starts
 *  next to the deep rules.
 *
 *  Not built by CMake. Deterministic. Build and run by hand from the repository root:
 *      cmake --build build --target genie_ledger
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. tests/fuzz/gen_ledger_model_corpus.c \
 *         build/libgenie_ledger.a build/libgenie_proto.a \
 *         $(pkg-config --libs libsodium msgpack) -lleveldb -ljansson -o /tmp/gen_lmc
 *      /tmp/gen_lmc tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_model.h"
#include "proto/proto_key.h"
#include "proto/proto_publish.h"
#include "tests/fuzz/fuzz_ledger_model_world.h"
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

#define PUT(name, expr)                                                                            \
    do {                                                                                           \
        uint8_t *p_ = (expr);                                                                      \
        s_put((name), p_, len);                                                                    \
    } while (0)

int main(int argc, char **argv)
{
    if (argc != 2 || proto_crypto_init() != 0)
        return 2;
    s_root = argv[1];
    uint8_t seed[PROTO_SEED_LEN], spec[32], tid[32], pk[32], sk[64], qm[32], model[32], code[32];
    memset(seed, 0x42, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    if (!k)
        return 1;
    memset(spec, FUZZ_DW_SPEC, 32);
    memset(qm, FUZZ_MW_QM, 32);
    memset(model, FUZZ_MW_MODEL, 32);
    memset(code, 0xc0, 32);
    fuzz_dw_enclave_keys(FUZZ_DW_T_SEED, pk, sk);
    ledger_enclave_id(pk, tid);
    size_t len, elen;

    PUT("model_train_start", ledger_contract_train_start_tx(k, s_chain, 0, spec, tid, 5, qm, &len));
    PUT("model_train_start_rounds0",
        ledger_contract_train_start_tx(k, s_chain, 0, spec, tid, 0, qm, &len));

    static proto_publish_t p;
    memset(p.job_id, FUZZ_MW_JOB, 32);
    memcpy(p.spec_id, spec, 32);
    memset(p.model_hash, 0xab, 32);
    p.n_train = 8;
    p.n_test = 2;
    p.n_metrics = 1;
    strcpy(p.metrics[0].name, "accuracy");
    p.metrics[0].value_micro = 800000;
    p.n_records = 1;
    p.bitmap_len = 1;
    p.bitmap[0] = 1;
    p.n_parties = 1;
    memcpy(p.parties[0].enclave_id, tid, 32);
    p.parties[0].n_records = 1;
    p.parties[0].weight_bp = 10000;
    uint8_t used[1][32];
    memset(used[0], FUZZ_DW_DATA, 32);
    proto_publish_records_root_inplace(used, 1, p.records_root);
    p.time_ms = 1700000000000ull;
    uint8_t *enc = NULL;
    if (proto_publish_sign(&p, sk) || proto_publish_encode(&p, &enc, &elen))
        return 1;
    PUT("model_publish", ledger_contract_model_publish_tx(k, s_chain, 0, enc, elen, &len));
    free(enc);

    uint8_t h[32];
    proto_access_code_hash(code, h);
    PUT("model_query_buy", ledger_contract_query_buy_tx(k, s_chain, 0, model, 10, h, &len));
    PUT("model_query_buy_count0", ledger_contract_query_buy_tx(k, s_chain, 0, model, 0, h, &len));

    proto_usage_t u;
    memset(&u, 0, sizeof u);
    memcpy(u.model_id, model, 32);
    memset(u.buy_id, FUZZ_MW_BUY, 32);
    u.count = 3;
    u.time_ms = 1700000000000ull;
    fuzz_dw_enclave_keys(FUZZ_MW_Q_SEED, pk, sk);
    if (proto_usage_sign(&u, sk) || proto_usage_encode(&u, &enc, &elen))
        return 1;
    PUT("model_usage_claim", ledger_contract_usage_claim_tx(k, s_chain, 0, enc, elen, &len));
    free(enc);

    PUT("model_earnings_claim_role", ledger_contract_earnings_claim_tx(k, s_chain, 0, NULL, &len));
    PUT("model_earnings_claim_model",
        ledger_contract_earnings_claim_tx(k, s_chain, 0, model, &len));
    proto_key_destroy(&k);
    return 0;
}
