/*  fuzz_ledger_block: libFuzzer harness for the ledger block decoder
 *  (ledger/ledger_block.h).
 *
 *  The whole input is a block. For any input the decoder must not crash and must return
 *  PROTO_OK or a proto_err_t. When it succeeds: the block's txs lie inside its bytes and
 *  within their limits; re-encoding the header and txs gives the input back byte for
 *  byte; the block hash equals the hash of the re-encoded header; and every tx inside
 *  either fails to decode with a proto_err_t or re-encodes to its own bytes. A broken
 *  invariant calls abort(), which libFuzzer (and tests/fuzz/replay_main.c) report as a
 *  crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_tx.h"
#include "proto/proto_err.h"
#include "proto/proto_key.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_util.h"

static void s_check_tx(const uint8_t *p, size_t len)
{
    ledger_tx_t tx;
    int rc = ledger_tx_decode(p, len, &tx);
    fuzz_require(rc <= PROTO_OK && rc >= PROTO_E_INVALID && rc != PROTO_E_NOMEM,
                 "tx decoder returned a stray value");
    if (rc != PROTO_OK)
        return;
    proto_wr_t w;
    proto_wr_init(&w);
    fuzz_require(ledger_tx_write(&w, &tx) == PROTO_OK, "tx re-encoding failed");
    size_t n;
    const uint8_t *again = proto_wr_data(&w, &n);
    fuzz_require(again && n == len && memcmp(again, p, len) == 0, "tx: encode(decode(b)) != b");
    proto_wr_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (proto_crypto_init() != 0)
        abort();
    ledger_block_t *b = NULL;
    int rc = ledger_block_decode(data, size, &b);
    fuzz_require(rc <= PROTO_OK && rc >= PROTO_E_INVALID, "decoder returned a stray value");
    fuzz_require(rc != PROTO_E_BAD_SIG && rc != PROTO_E_VERSION && rc != PROTO_E_UNKNOWN_TYPE,
                 "decoder returned an error it has no cause for");
    if (rc != PROTO_OK) {
        fuzz_require(b == NULL, "block left behind after an error");
        return 0;
    }
    fuzz_require(size <= LEDGER_BLOCK_MAX_BYTES, "oversized block accepted");
    size_t n = ledger_block_tx_count(b), blen;
    const uint8_t *bytes = ledger_block_bytes(b, &blen);
    fuzz_require(blen == size && memcmp(bytes, data, size) == 0, "stored bytes differ");
    fuzz_require(n <= LEDGER_BLOCK_MAX_TXS, "too many txs accepted");
    const uint8_t **txs = calloc(n + 1, sizeof *txs);
    size_t *lens = calloc(n + 1, sizeof *lens);
    fuzz_require(txs && lens, "out of memory");
    for (size_t i = 0; i < n; i++) {
        txs[i] = ledger_block_tx(b, i, &lens[i]);
        fuzz_require(lens[i] <= LEDGER_TX_MAX_BYTES, "tx too long accepted");
        fuzz_require(txs[i] >= bytes && (size_t)(txs[i] - bytes) + lens[i] <= blen,
                     "tx outside the block");
        s_check_tx(txs[i], lens[i]);
    }
    size_t len;
    uint8_t *again = ledger_block_encode(ledger_block_header(b), txs, lens, n, &len);
    fuzz_require(again && len == size && memcmp(again, data, size) == 0,
                 "encode(decode(b)) != b: a non-canonical encoding was accepted");
    uint8_t h[LEDGER_ID_LEN];
    ledger_header_hash(ledger_block_header(b), h);
    fuzz_require(memcmp(h, ledger_block_hash(b), LEDGER_ID_LEN) == 0, "hash differs from header's");
    free(again);
    free(txs);
    free(lens);
    ledger_block_destroy(&b);
    return 0;
}
