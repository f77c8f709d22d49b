/*  fuzz_ledger_proof: libFuzzer harness for the inclusion proof decoder (ledger/ledger_proof.h)
 *  and the light client (ledger/ledger_light.h) of a fixed chain
 *  (fuzz_ledger_proof_chain.h).
 *
 *  The first byte picks the case:
 *  - even: the rest is a proof. The decoder returns PROTO_OK or a wire-format code; when it
 *    succeeds, re-encoding gives the input back byte for byte. ledger_light_verify_tx
 *    returns LEDGER_OK or LEDGER_E_PROOF (never anything else, never a crash); when it
 *    accepts, it accepted exactly the decoded proof: the tx it returns lies inside the
 *    input, is the proof's tx, its txid is that tx's, and the height and time are the
 *    header's.
 *  - odd: the rest is [block bin, cert bin], fed to a fresh client with
 *    ledger_light_advance: LEDGER_OK, LEDGER_E_PROOF or LEDGER_E_FULL only; on success the
 *    client's height is the block's and its set is a valid one (1..64 sorted distinct keys).
 *  The seeds (gen_ledger_proof_corpus.c) are real proofs and certified blocks of the chain.
 *  A broken invariant aborts.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_light.h"
#include "ledger/ledger_proof.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_ledger_proof_chain.h"
#include "tests/fuzz/fuzz_util.h"

/* The fixed chain's canonical genesis, made once. */
static const uint8_t *s_genesis(size_t *len)
{
    static uint8_t *bytes;
    static size_t n;
    if (!bytes) {
        fuzz_require(sodium_init() >= 0, "sodium_init");
        ledger_genesis_t *g = fuzz_lp_genesis();
        fuzz_require(g != NULL, "genesis");
        const uint8_t *c = ledger_genesis_canonical(g, &n);
        bytes = malloc(n);
        fuzz_require(bytes != NULL, "out of memory");
        memcpy(bytes, c, n);
        ledger_genesis_destroy(&g);
    }
    *len = n;
    return bytes;
}

static ledger_light_t *s_client(void)
{
    size_t len = 0;
    const uint8_t *g = s_genesis(&len);
    ledger_light_t *l = NULL;
    fuzz_require(ledger_light_new(g, len, &l, NULL, 0) == LEDGER_OK, "light client");
    return l;
}

static int s_proof(const uint8_t *body, size_t len)
{
    ledger_proof_t p;
    int rc = ledger_proof_decode(body, len, &p);
    fuzz_require(rc <= PROTO_OK && rc >= PROTO_E_INVALID && rc != PROTO_E_BAD_SIG &&
                     rc != PROTO_E_UNKNOWN_TYPE,
                 "proof decoder returned a stray code");
    if (rc == PROTO_OK) {
        uint8_t *again = NULL;
        size_t n = 0;
        fuzz_require(ledger_proof_encode(&p, &again, &n) == LEDGER_OK, "re-encode");
        fuzz_require_same(again, n, body, len);
        free(again);
    }
    ledger_light_t *l = s_client();
    ledger_light_tx_t out;
    char err[256];
    int vrc = ledger_light_verify_tx(l, body, len, &out, err, sizeof err);
    fuzz_require(vrc == LEDGER_OK || vrc == LEDGER_E_PROOF, "verify returned a stray code");
    fuzz_require(vrc != LEDGER_OK || rc == PROTO_OK,
                 "verify accepted a proof that does not decode");
    if (vrc == LEDGER_OK) {
        fuzz_require(out.tx == p.tx && out.tx_len == p.tx_len, "verify returned another tx");
        fuzz_require(out.tx >= body && out.tx + out.tx_len <= body + len, "tx outside the input");
        uint8_t id[32];
        ledger_tx_id(out.tx, out.tx_len, id);
        fuzz_require(memcmp(id, out.txid, 32) == 0, "txid is not the tx's");
        ledger_header_t h;
        proto_rd_t r;
        proto_rd_init(&r, p.header, p.header_len);
        fuzz_require(ledger_header_read(&r, &h) == PROTO_OK, "accepted header does not decode");
        fuzz_require(h.height == out.height && h.time_ms == out.time_ms, "height/time");
        fuzz_require(memcmp(h.chain_id, ledger_light_chain_id(l), 32) == 0, "another chain");
    }
    ledger_light_destroy(&l);
    return rc;
}

static int s_advance(const uint8_t *body, size_t len)
{
    proto_rd_t r;
    const uint8_t *block = NULL, *cert = NULL;
    size_t blen = 0, clen = 0;
    proto_rd_init(&r, body, len);
    int rc = proto_rd_array_exact(&r, 2);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, LEDGER_BLOCK_MAX_BYTES, &block, &blen);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, LEDGER_CERT_MAX, &cert, &clen);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    if (rc != PROTO_OK)
        return rc;
    ledger_light_t *l = s_client();
    char err[256];
    int arc = ledger_light_advance(l, block, blen, cert, clen, err, sizeof err);
    fuzz_require(arc == LEDGER_OK || arc == LEDGER_E_PROOF || arc == LEDGER_E_FULL,
                 "advance returned a stray code");
    const ledger_valset_t *vs = ledger_light_authorities(l);
    fuzz_require(vs->n >= 1 && vs->n <= LEDGER_VALSET_MAX, "set size");
    for (size_t i = 1; i < vs->n; i++)
        fuzz_require(memcmp(vs->keys[i - 1], vs->keys[i], 32) < 0, "set not sorted");
    if (arc == LEDGER_OK) {
        ledger_block_t *b = NULL;
        fuzz_require(ledger_block_decode(block, blen, &b) == PROTO_OK, "fed block decodes");
        fuzz_require(ledger_light_height(l) == ledger_block_header(b)->height, "height");
        ledger_block_destroy(&b);
    } else {
        fuzz_require(ledger_light_height(l) == 0, "refused block changed the client");
    }
    ledger_light_destroy(&l);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fuzz_case_fn *const cases[] = {s_proof, s_advance};
    (void)fuzz_dispatch(data, size, cases, 2);
    return 0;
}
