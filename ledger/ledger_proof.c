/*  ledger_proof: the inclusion proof codec (see ledger_proof.h). */
#include "ledger/ledger_proof.h"

#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_block.h"
#include "ledger/ledger_tx.h"
#include "ledger/ledger_vote.h"
#include "proto/proto_mp.h"

#define PROOF_FIELDS 7

int ledger_proof_encode(const ledger_proof_t *p, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (p->header_len == 0 || p->cert_len == 0 || p->tx_len == 0 || p->n_txs == 0 ||
        p->index >= p->n_txs)
        return LEDGER_E_INVALID;
    if (p->header_len > LEDGER_PROOF_HEADER_MAX || p->cert_len > LEDGER_CERT_MAX ||
        p->tx_len > LEDGER_TX_MAX_BYTES || p->n_txs > LEDGER_BLOCK_MAX_TXS ||
        p->depth > LEDGER_MERKLE_DEPTH_MAX)
        return LEDGER_E_TOO_BIG;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, PROOF_FIELDS);
    proto_wr_uint(&w, LEDGER_PROOF_VERSION);
    proto_wr_bin(&w, p->header, p->header_len);
    proto_wr_bin(&w, p->cert, p->cert_len);
    proto_wr_bin(&w, p->tx, p->tx_len);
    proto_wr_uint(&w, p->index);
    proto_wr_uint(&w, p->n_txs);
    proto_wr_array(&w, (uint32_t)p->depth);
    for (size_t i = 0; i < p->depth; i++)
        proto_wr_bin(&w, p->path[i], 32);
    uint8_t *buf = proto_wr_take(&w, len);
    proto_wr_free(&w);
    if (!buf)
        return LEDGER_E_NOMEM;
    if (*len > LEDGER_PROOF_MAX_BYTES) {
        free(buf);
        *len = 0;
        return LEDGER_E_TOO_BIG;
    }
    *out = buf;
    return LEDGER_OK;
}

int ledger_proof_decode(const uint8_t *buf, size_t len, ledger_proof_t *out)
{
    memset(out, 0, sizeof *out);
    if (len > LEDGER_PROOF_MAX_BYTES)
        return PROTO_E_TOO_BIG;
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t version = 0, index = 0, n_txs = 0;
    uint32_t depth = 0;
    ledger_proof_t p;
    memset(&p, 0, sizeof p);
    int rc = proto_rd_array_exact(&r, PROOF_FIELDS);
    if (rc == PROTO_OK && (rc = proto_rd_uint(&r, UINT64_MAX, &version)) == PROTO_OK &&
        version != LEDGER_PROOF_VERSION)
        rc = PROTO_E_VERSION;
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, LEDGER_PROOF_HEADER_MAX, &p.header, &p.header_len);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, LEDGER_CERT_MAX, &p.cert, &p.cert_len);
    if (rc == PROTO_OK)
        rc = proto_rd_bin(&r, LEDGER_TX_MAX_BYTES, &p.tx, &p.tx_len);
    if (rc == PROTO_OK && (p.cert_len == 0 || p.tx_len == 0))
        rc = PROTO_E_INVALID;
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, LEDGER_BLOCK_MAX_TXS - 1, &index);
    if (rc == PROTO_OK && (rc = proto_rd_uint(&r, LEDGER_BLOCK_MAX_TXS, &n_txs)) == PROTO_OK &&
        (n_txs == 0 || index >= n_txs))
        rc = PROTO_E_RANGE;
    if (rc == PROTO_OK)
        rc = proto_rd_array_max(&r, LEDGER_MERKLE_DEPTH_MAX, &depth);
    for (uint32_t i = 0; rc == PROTO_OK && i < depth; i++)
        rc = proto_rd_bin_exact(&r, 32, p.path[i]);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    if (rc != PROTO_OK)
        return rc;
    p.index = (uint32_t)index;
    p.n_txs = (uint32_t)n_txs;
    p.depth = depth;
    *out = p;
    return PROTO_OK;
}
