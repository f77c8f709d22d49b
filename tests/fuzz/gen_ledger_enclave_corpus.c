/*  gen_ledger_enclave_corpus: writes the enclave registry's seeds into the ledger tx
 *  corpus, tests/fuzz/corpus/ledger_tx/enclave_* (ENCLAVE_REGISTER, _AUDIT, _REVOKE txs).
 *
 *  The register seeds carry a quote certified by the attestation key fuzz_ledger_tx puts in
 *  its state (seed bytes 0x40), issued at time 0 and quoted at time 0, so that on the
 *  harness's in-memory state (clock 0) the valid one passes every check and registers; the
 *  others break one thing each (quote signature, kind, measurement, runner, certificate,
 *  report data bound to another chain id).
 *  The retire seeds name the harness world's enclaves (fuzz_ledger_data_world.h): T, whose
 *  runner is the sender (retired), V, whose runner is not (refused), and an unknown id.
 *
 *  Not built by CMake (the fuzz glob is fuzz_*.c). Deterministic. Build and run by hand
 *  from the repository root:
 *      cmake --build build --target genie_ledger
 *      cc -std=c11 -D_DEFAULT_SOURCE -I. tests/fuzz/gen_ledger_enclave_corpus.c \
 *         build/libgenie_ledger.a build/libgenie_proto.a \
 *         $(pkg-config --libs libsodium msgpack) -lleveldb -ljansson -o /tmp/gen_lec
 *      /tmp/gen_lec tests/fuzz/corpus
 *  (with a sanitizer build, add -fsanitize=address,undefined). Every file is under 2 KiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "proto/proto_attest.h"
#include "proto/proto_key.h"
#include "tests/fuzz/fuzz_ledger_data_world.h"
#include "tests/fuzz/gen_util.h"

static const char *s_root;

static void s_put(const char *name, const uint8_t *p, size_t n)
{
    if (!p) {
        fprintf(stderr, "cannot build %s\n", name);
        exit(1);
    }
    gen_put(s_root, "ledger_tx", name, -1, p, n);
}

static proto_key_t *s_key(uint8_t b)
{
    uint8_t seed[PROTO_SEED_LEN];
    memset(seed, b, sizeof seed);
    proto_key_t *k = proto_key_from_seed(seed);
    if (!k)
        exit(1);
    return k;
}

static const uint8_t s_chain[32] = {0x11, 0x22, 0x33};

/* A quote of KIND bound to CHAIN for RUNNER, certified by AS, signed by PLAT. */
static void s_quote_on(proto_attest_quote_t *q, const proto_key_t *as, const proto_key_t *plat,
                       const proto_key_t *runner, uint32_t kind, const uint8_t chain[static 32])
{
    memset(q, 0, sizeof *q);
    q->version = PROTO_ATTEST_QUOTE_VERSION;
    memset(q->measurement, 0xAB, 32);
    memset(q->body.sign_pk, 0x21, 32);
    memset(q->body.box_pk, 0x22, 32);
    proto_attest_report_data(kind, chain, q->body.report_data);
    q->time_ms = 0;
    memcpy(q->platform_pk, proto_key_public(plat), 32);
    if (proto_attest_cert_issue(as, q->platform_pk, "runner-1", proto_key_public(runner), 0,
                                1ull << 60, &q->cert, NULL, 0) != 0)
        exit(1);
    q->has_cert = true;
    uint8_t h[32];
    proto_attest_quote_signing_hash(q, h);
    proto_key_sign(plat, h, 32, q->sig);
}

/* s_quote_on the seeds' chain. */
static void s_quote(proto_attest_quote_t *q, const proto_key_t *as, const proto_key_t *plat,
                    const proto_key_t *runner, uint32_t kind)
{
    s_quote_on(q, as, plat, runner, kind, s_chain);
}

static void s_register(const char *name, const proto_key_t *from, uint32_t kind,
                       const uint8_t *measurement, const proto_attest_quote_t *q)
{
    uint8_t *qb, *tx;
    size_t qlen, len;
    if (proto_attest_quote_encode(q, &qb, &qlen) != 0)
        exit(1);
    tx = ledger_contract_enclave_register_tx(from, s_chain, 0, kind, measurement, qb, qlen, &len);
    s_put(name, tx, len);
    free(tx);
    free(qb);
}

int main(int argc, char **argv)
{
    if (argc != 2 || proto_crypto_init() != 0)
        return 2;
    s_root = argv[1];
    proto_key_t *as = s_key(0x40), *plat = s_key(0x41), *runner = s_key(0x42), *other = s_key(0x43);
    proto_attest_quote_t q;
    s_quote(&q, as, plat, runner, PROTO_ATTEST_KIND_TRAINING);
    s_register("enclave_register_valid", runner, PROTO_ATTEST_KIND_TRAINING, q.measurement, &q);
    s_register("enclave_register_kind", runner, PROTO_ATTEST_KIND_QUERY, q.measurement, &q);
    s_register("enclave_register_runner", other, PROTO_ATTEST_KIND_TRAINING, q.measurement, &q);
    uint8_t fake[32];
    memcpy(fake, s_chain, 32);
    fake[0] ^= 1;
    proto_attest_quote_t fq;
    s_quote_on(&fq, as, plat, runner, PROTO_ATTEST_KIND_TRAINING, fake);
    s_register("enclave_register_chain", runner, PROTO_ATTEST_KIND_TRAINING, fq.measurement, &fq);
    uint8_t m2[32];
    memset(m2, 0xAC, sizeof m2);
    s_register("enclave_register_measurement", runner, PROTO_ATTEST_KIND_TRAINING, m2, &q);
    q.sig[0] ^= 1;
    s_register("enclave_register_badsig", runner, PROTO_ATTEST_KIND_TRAINING, q.measurement, &q);
    s_quote(&q, other, plat, runner, PROTO_ATTEST_KIND_VALIDATION);
    s_register("enclave_register_rogue_as", runner, PROTO_ATTEST_KIND_VALIDATION, q.measurement,
               &q);
    s_quote(&q, as, plat, runner, PROTO_ATTEST_KIND_QUERY);
    q.has_cert = false;
    s_register("enclave_register_uncertified", runner, PROTO_ATTEST_KIND_QUERY, q.measurement, &q);

    uint8_t h[32];
    memset(h, 0x5c, sizeof h);
    size_t len;
    uint8_t *tx = ledger_contract_enclave_audit_tx(other, s_chain, 0, q.measurement, h,
                                                   LEDGER_AUDIT_OK, &len);
    s_put("enclave_audit_ok", tx, len);
    free(tx);
    tx = ledger_contract_enclave_audit_tx(other, s_chain, 0, q.measurement, h, 7, &len);
    s_put("enclave_audit_bad_verdict", tx, len);
    free(tx);
    tx = ledger_contract_enclave_revoke_tx(runner, s_chain, 0, LEDGER_REVOKE_PLATFORM,
                                           proto_key_public(plat), &len);
    s_put("enclave_revoke_platform", tx, len);
    free(tx);
    tx = ledger_contract_enclave_revoke_tx(runner, s_chain, 0, LEDGER_REVOKE_MEASUREMENT,
                                           q.measurement, &len);
    s_put("enclave_revoke_measurement", tx, len);
    free(tx);

    uint8_t pk[32], sk[64], id[32];
    fuzz_dw_enclave_keys(FUZZ_DW_T_SEED, pk, sk);
    ledger_enclave_id(pk, id);
    tx = ledger_contract_enclave_retire_tx(runner, s_chain, 0, id, &len);
    s_put("enclave_retire_valid", tx, len);
    free(tx);
    fuzz_dw_enclave_keys(FUZZ_DW_V_SEED, pk, sk);
    sodium_memzero(sk, sizeof sk);
    ledger_enclave_id(pk, id);
    tx = ledger_contract_enclave_retire_tx(runner, s_chain, 0, id, &len);
    s_put("enclave_retire_not_runner", tx, len);
    free(tx);
    memset(id, 0xEE, sizeof id);
    tx = ledger_contract_enclave_retire_tx(runner, s_chain, 0, id, &len);
    s_put("enclave_retire_unknown", tx, len);
    free(tx);
    proto_key_destroy(&as);
    proto_key_destroy(&plat);
    proto_key_destroy(&runner);
    proto_key_destroy(&other);
    return 0;
}
