/*  ledger_block: block codec and hash (see ledger_block.h). Execution (build, validate,
 *  apply) lives in ledger_block_exec.c. */
#include "ledger/ledger_block.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_merkle.h"
#include "proto/proto_err.h"

#define BLOCK_DOMAIN "genie/block/v1"

struct ledger_block_t {
    uint8_t *bytes; /* owned copy of the encoding */
    size_t len;
    ledger_header_t header;
    uint8_t hash[LEDGER_ID_LEN];
    size_t n_txs;
    uint32_t *tx_off; /* offset and length of each tx inside bytes */
    uint32_t *tx_len;
};

int ledger_header_read(proto_rd_t *r, ledger_header_t *h)
{
    uint64_t height = 0, time_ms = 0, round = 0;
    int rc = proto_rd_array_exact(r, LEDGER_HEADER_FIELDS);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, h->chain_id);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT64_MAX, &height);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, h->prev_hash);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT64_MAX, &time_ms);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, h->proposer);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(r, UINT32_MAX, &round);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, h->tx_root);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(r, LEDGER_ID_LEN, h->state_root);
    h->height = height;
    h->time_ms = time_ms;
    h->round = (uint32_t)round;
    return rc;
}

void ledger_header_write(proto_wr_t *w, const ledger_header_t *h)
{
    proto_wr_array(w, LEDGER_HEADER_FIELDS);
    proto_wr_bin(w, h->chain_id, LEDGER_ID_LEN);
    proto_wr_uint(w, h->height);
    proto_wr_bin(w, h->prev_hash, LEDGER_ID_LEN);
    proto_wr_uint(w, h->time_ms);
    proto_wr_bin(w, h->proposer, LEDGER_ID_LEN);
    proto_wr_uint(w, h->round);
    proto_wr_bin(w, h->tx_root, LEDGER_ID_LEN);
    proto_wr_bin(w, h->state_root, LEDGER_ID_LEN);
}

void ledger_header_hash(const ledger_header_t *h, uint8_t out[static LEDGER_ID_LEN])
{
    /* A header is at most 9 + 6*34 + 2*9 + 5 bytes: encode on the stack. */
    uint8_t buf[256];
    size_t n = 0;
    proto_wr_t w;
    proto_wr_init(&w);
    ledger_header_write(&w, h);
    const uint8_t *data = proto_wr_data(&w, &n);
    if (data && n <= sizeof buf)
        memcpy(buf, data, n);
    else
        n = 0; /* cannot happen: msgpack-c only fails on allocation */
    proto_wr_free(&w);
    proto_hash(BLOCK_DOMAIN, buf, n, out);
}

void ledger_block_tx_root(const uint8_t (*txids)[LEDGER_ID_LEN], size_t n,
                          uint8_t out[static LEDGER_ID_LEN])
{
    ledger_merkle_root(txids, n, out);
}

void ledger_block_destroy(ledger_block_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_block_t *b = *self_p;
    free(b->bytes);
    free(b->tx_off);
    free(b->tx_len);
    free(b);
    *self_p = NULL;
}

int ledger_block_decode(const uint8_t *buf, size_t len, ledger_block_t **out)
{
    *out = NULL;
    if (len > LEDGER_BLOCK_MAX_BYTES)
        return PROTO_E_TOO_BIG;
    ledger_block_t *b = calloc(1, sizeof *b);
    if (!b || !(b->bytes = malloc(len ? len : 1))) {
        free(b);
        return PROTO_E_NOMEM;
    }
    if (len)
        memcpy(b->bytes, buf, len);
    b->len = len;
    proto_rd_t r;
    proto_rd_init(&r, b->bytes, len);
    int rc = proto_rd_array_exact(&r, 2);
    size_t hstart = r.pos;
    if (rc == PROTO_OK)
        rc = ledger_header_read(&r, &b->header);
    if (rc == PROTO_OK)
        proto_hash(BLOCK_DOMAIN, b->bytes + hstart, r.pos - hstart, b->hash);
    uint32_t n = 0;
    if (rc == PROTO_OK)
        rc = proto_rd_array_max(&r, LEDGER_BLOCK_MAX_TXS, &n);
    if (rc != PROTO_OK)
        goto fail;
    if (n > 0) {
        b->tx_off = malloc(n * sizeof *b->tx_off);
        b->tx_len = malloc(n * sizeof *b->tx_len);
        if (!b->tx_off || !b->tx_len) {
            rc = PROTO_E_NOMEM;
            goto fail;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *p;
        size_t tlen;
        if ((rc = proto_rd_bin(&r, LEDGER_TX_MAX_BYTES, &p, &tlen)) != PROTO_OK)
            goto fail;
        b->tx_off[i] = (uint32_t)(p - b->bytes);
        b->tx_len[i] = (uint32_t)tlen;
    }
    if ((rc = proto_rd_finish(&r)) != PROTO_OK)
        goto fail;
    b->n_txs = n;
    *out = b;
    return PROTO_OK;
fail:
    ledger_block_destroy(&b);
    return rc;
}

const ledger_header_t *ledger_block_header(const ledger_block_t *b)
{
    return &b->header;
}

const uint8_t *ledger_block_hash(const ledger_block_t *b)
{
    return b->hash;
}

size_t ledger_block_tx_count(const ledger_block_t *b)
{
    return b->n_txs;
}

const uint8_t *ledger_block_tx(const ledger_block_t *b, size_t i, size_t *len)
{
    *len = b->tx_len[i];
    return b->bytes + b->tx_off[i];
}

const uint8_t *ledger_block_bytes(const ledger_block_t *b, size_t *len)
{
    *len = b->len;
    return b->bytes;
}

uint8_t *ledger_block_encode(const ledger_header_t *h, const uint8_t *const *txs,
                             const size_t *lens, size_t n, size_t *len)
{
    *len = 0;
    if (n > LEDGER_BLOCK_MAX_TXS)
        return NULL;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    ledger_header_write(&w, h);
    proto_wr_array(&w, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        if (lens[i] > LEDGER_TX_MAX_BYTES) {
            proto_wr_free(&w);
            return NULL;
        }
        proto_wr_bin(&w, txs[i], lens[i]);
    }
    size_t got;
    uint8_t *out = proto_wr_take(&w, &got);
    proto_wr_free(&w);
    if (out && got > LEDGER_BLOCK_MAX_BYTES) {
        free(out);
        return NULL;
    }
    if (out) { /* the writer grows by doubling: hand out an exactly sized buffer */
        uint8_t *fit = realloc(out, got ? got : 1);
        if (fit)
            out = fit;
    }
    if (out)
        *len = got;
    return out;
}
