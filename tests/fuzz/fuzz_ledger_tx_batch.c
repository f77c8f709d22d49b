/*  fuzz_ledger_tx_batch: libFuzzer harness for the tx_batch decoder
 *  (ledger_tx_batch_each, ledger/ledger_tx.h), which a node runs on every tx_batch a peer
 *  gossips.
 *
 *  The whole input is a batch. For any input the walk must not crash and must return
 *  PROTO_OK or a proto_err_t; on an error the visitor was never called (a batch is checked
 *  whole before any tx is looked at). When it succeeds: the visitor saw 1..max elements,
 *  each inside the input and at most LEDGER_TX_MAX_BYTES; writing them back with
 *  ledger_tx_batch_write gives the input byte for byte (only canonical batches pass); and
 *  each element goes through ledger_tx_parse (no signature check) returning a valid reason
 *  code. A visitor that stops early stops the walk with its own value. A broken invariant
 *  calls abort().
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_tx.h"
#include "proto/proto_err.h"
#include "proto/proto_mp.h"
#include "tests/fuzz/fuzz_util.h"

#define MAX_SEEN 64 /* elements remembered for the round trip; larger batches skip it */

typedef struct {
    const uint8_t *base;
    size_t size;
    uint32_t count;
    uint32_t stop_at; /* 0: never stop */
    const uint8_t *txs[MAX_SEEN];
    size_t lens[MAX_SEEN];
} s_walk_t;

static int s_visit(void *ctx, const uint8_t *tx, size_t len)
{
    s_walk_t *w = ctx;
    fuzz_require(tx >= w->base && len <= w->size && tx + len <= w->base + w->size,
                 "element outside the input");
    fuzz_require(len <= LEDGER_TX_MAX_BYTES, "element over the tx size limit");
    if (w->count < MAX_SEEN) {
        w->txs[w->count] = tx;
        w->lens[w->count] = len;
    }
    w->count++;
    static const uint8_t chain[LEDGER_ID_LEN] = {0};
    ledger_tx_t parsed;
    char why[LEDGER_ERR_MAX] = "";
    int rc = ledger_tx_parse(tx, len, chain, false, &parsed, why, sizeof why);
    fuzz_require(rc <= LEDGER_OK && rc >= LEDGER_E_NOMEM, "parse code");
    return w->stop_at && w->count == w->stop_at ? 7 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_walk_t w = {.base = data, .size = size};
    int rc = ledger_tx_batch_each(data, size, LEDGER_TX_BATCH_MAX, s_visit, &w);
    fuzz_require(rc == PROTO_OK || (rc < 0 && w.count == 0), "error after visiting");
    if (rc != PROTO_OK)
        return 0;
    fuzz_require(w.count >= 1 && w.count <= LEDGER_TX_BATCH_MAX, "element count");
    if (w.count <= MAX_SEEN) {
        proto_wr_t wr;
        proto_wr_init(&wr);
        ledger_tx_batch_write(&wr, w.txs, w.lens, w.count);
        size_t len;
        const uint8_t *out = proto_wr_data(&wr, &len);
        fuzz_require(out && len == size && memcmp(out, data, size) == 0, "round trip");
        proto_wr_free(&wr);
    }
    /* a visitor that stops at the first element stops the walk with its value */
    s_walk_t again = {.base = data, .size = size, .stop_at = 1};
    fuzz_require(ledger_tx_batch_each(data, size, LEDGER_TX_BATCH_MAX, s_visit, &again) == 7 &&
                     again.count == 1,
                 "early stop");
    /* a smaller limit refuses longer batches without visiting */
    if (w.count > 1) {
        s_walk_t lim = {.base = data, .size = size};
        fuzz_require(ledger_tx_batch_each(data, size, w.count - 1, s_visit, &lim) != PROTO_OK &&
                         lim.count == 0,
                     "limit");
    }
    return 0;
}
