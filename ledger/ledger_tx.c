/*  ledger_tx: transaction codec, signatures and reason codes (see ledger_tx.h; the txid is
 *  ledger_txid.c's). */
#include "ledger/ledger_tx.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_contract.h"
#include "proto/proto_err.h"
#include "proto/proto_sigbatch.h"

#define TX_SIG_DOMAIN "genie/tx/v1"

int ledger_tx_decode(const uint8_t *buf, size_t len, ledger_tx_t *tx)
{
    memset(tx, 0, sizeof *tx);
    if (len > LEDGER_TX_MAX_BYTES)
        return PROTO_E_TOO_BIG;
    proto_rd_t r;
    proto_rd_init(&r, buf, len);
    uint64_t nonce = 0, type = 0;
    int rc = proto_rd_array_exact(&r, LEDGER_TX_FIELDS);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, LEDGER_ID_LEN, tx->chain_id);
    if (rc == PROTO_OK)
        rc = proto_rd_bin_exact(&r, LEDGER_ID_LEN, tx->from);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT64_MAX, &nonce);
    if (rc == PROTO_OK)
        rc = proto_rd_uint(&r, UINT32_MAX, &type);
    if (rc != PROTO_OK)
        goto err;
    const ledger_contract_t *c = ledger_contract_find((uint32_t)type);
    if (!c) {
        rc = PROTO_E_UNKNOWN_TYPE;
        goto err;
    }
    if ((rc = c->decode_body(&r, &tx->body)) != PROTO_OK)
        goto err;
    size_t signed_len = r.pos;
    if ((rc = proto_rd_bin_exact(&r, PROTO_SIG_LEN, tx->sig)) != PROTO_OK)
        goto err;
    if ((rc = proto_rd_finish(&r)) != PROTO_OK)
        goto err;
    tx->nonce = nonce;
    tx->type = (uint32_t)type;
    tx->bytes = buf;
    tx->len = len;
    tx->signed_len = signed_len;
    return PROTO_OK;
err:
    memset(tx, 0, sizeof *tx);
    return rc;
}

/* Writes the five signed fields (without the array header). */
static int s_write_fields(proto_wr_t *w, const ledger_tx_t *tx)
{
    const ledger_contract_t *c = ledger_contract_find(tx->type);
    if (!c)
        return PROTO_E_UNKNOWN_TYPE;
    proto_wr_bin(w, tx->chain_id, LEDGER_ID_LEN);
    proto_wr_bin(w, tx->from, LEDGER_ID_LEN);
    proto_wr_uint(w, tx->nonce);
    proto_wr_uint(w, tx->type);
    c->encode_body(w, &tx->body);
    return PROTO_OK;
}

int ledger_tx_write(proto_wr_t *w, const ledger_tx_t *tx)
{
    if (!ledger_contract_find(tx->type))
        return PROTO_E_UNKNOWN_TYPE;
    proto_wr_array(w, LEDGER_TX_FIELDS);
    int rc = s_write_fields(w, tx);
    proto_wr_bin(w, tx->sig, PROTO_SIG_LEN);
    return rc;
}

/* H(domain || 0x00 || 0x95 || bytes[1..signed_len)): proto_hash of the five fields as a
   5-element array, computed without re-encoding. */
static void s_sighash(const uint8_t *bytes, size_t signed_len, uint8_t out[PROTO_HASH_LEN])
{
    static const uint8_t sep_and_header[2] = {0x00, 0x95};
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, PROTO_HASH_LEN);
    crypto_generichash_update(&st, (const uint8_t *)TX_SIG_DOMAIN, strlen(TX_SIG_DOMAIN));
    crypto_generichash_update(&st, sep_and_header, sizeof sep_and_header);
    if (signed_len > 1)
        crypto_generichash_update(&st, bytes + 1, signed_len - 1);
    crypto_generichash_final(&st, out, PROTO_HASH_LEN);
}

void ledger_tx_sighash(const ledger_tx_t *tx, uint8_t out[static PROTO_HASH_LEN])
{
    s_sighash(tx->bytes, tx->signed_len, out);
}

uint8_t *ledger_tx_sign(ledger_tx_t *tx, const proto_key_t *key, size_t *len)
{
    uint8_t *out = NULL;
    proto_wr_t w;
    proto_wr_init(&w);
    memcpy(tx->from, proto_key_public(key), LEDGER_ID_LEN);
    proto_wr_array(&w, LEDGER_TX_FIELDS);
    if (s_write_fields(&w, tx) != PROTO_OK)
        goto out;
    size_t signed_len;
    const uint8_t *data = proto_wr_data(&w, &signed_len);
    if (!data || signed_len + 2 + PROTO_SIG_LEN > LEDGER_TX_MAX_BYTES)
        goto out;
    uint8_t h[PROTO_HASH_LEN];
    s_sighash(data, signed_len, h);
    proto_key_sign(key, h, sizeof h, tx->sig);
    proto_wr_bin(&w, tx->sig, PROTO_SIG_LEN);
    out = proto_wr_take(&w, len);
    if (out) {
        /* the writer's buffer starts at 8 KiB: hand out an exactly sized one */
        uint8_t *fit = realloc(out, *len);
        if (fit)
            out = fit;
        tx->bytes = out;
        tx->len = *len;
        tx->signed_len = signed_len;
    }
out:
    proto_wr_free(&w);
    return out;
}

bool ledger_tx_verify_sig(const ledger_tx_t *tx)
{
    if (!tx->bytes || tx->signed_len == 0)
        return false;
    uint8_t h[PROTO_HASH_LEN];
    s_sighash(tx->bytes, tx->signed_len, h);
    return proto_sig_check(tx->from, h, sizeof h, tx->sig);
}

int ledger_tx_check(const ledger_tx_t *tx, const uint8_t chain_id[static LEDGER_ID_LEN],
                    bool verify_sig, char *err, size_t err_cap)
{
    const ledger_contract_t *c = ledger_contract_find(tx->type);
    if (!c)
        return proto_err_fail(err, err_cap, LEDGER_E_UNKNOWN_TYPE, "unknown transaction type");
    if (sodium_memcmp(tx->chain_id, chain_id, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_WRONG_CHAIN,
                              "transaction is for another chain");
    int rc = c->check ? c->check(tx, err, err_cap) : LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    if (verify_sig && !ledger_tx_verify_sig(tx))
        return proto_err_fail(err, err_cap, LEDGER_E_BAD_SIG, "signature does not verify");
    return LEDGER_OK;
}

int ledger_tx_parse(const uint8_t *buf, size_t len, const uint8_t chain_id[static LEDGER_ID_LEN],
                    bool verify_sig, ledger_tx_t *tx, char *err, size_t err_cap)
{
    int rc = ledger_tx_decode(buf, len, tx);
    switch (rc) {
    case PROTO_OK:
        return ledger_tx_check(tx, chain_id, verify_sig, err, err_cap);
    case PROTO_E_TOO_BIG:
        return proto_err_fail(err, err_cap, LEDGER_E_TOO_BIG, "transaction larger than 64 KiB");
    case PROTO_E_UNKNOWN_TYPE:
        return proto_err_fail(err, err_cap, LEDGER_E_UNKNOWN_TYPE, "unknown transaction type");
    default:
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "%s", proto_err_str(rc));
    }
}

int ledger_tx_batch_each(const uint8_t *buf, size_t len, uint32_t max, ledger_tx_visit_fn *fn,
                         void *ctx)
{
    proto_rd_t r;
    uint32_t n = 0;
    const uint8_t *tx;
    size_t tlen;
    if (max > LEDGER_TX_BATCH_MAX)
        max = LEDGER_TX_BATCH_MAX;
    proto_rd_init(&r, buf, len);
    int rc = proto_rd_array_max(&r, max, &n);
    if (rc == PROTO_OK && n == 0)
        rc = PROTO_E_ARITY;
    for (uint32_t i = 0; rc == PROTO_OK && i < n; i++)
        rc = proto_rd_bin(&r, LEDGER_TX_MAX_BYTES, &tx, &tlen);
    if (rc == PROTO_OK)
        rc = proto_rd_finish(&r);
    if (rc != PROTO_OK)
        return rc;
    proto_rd_init(&r, buf, len);
    if (proto_rd_array_max(&r, max, &n) != PROTO_OK)
        return PROTO_E_INVALID; /* cannot happen: checked above */
    for (uint32_t i = 0; i < n; i++) {
        if (proto_rd_bin(&r, LEDGER_TX_MAX_BYTES, &tx, &tlen) != PROTO_OK)
            return PROTO_E_INVALID; /* cannot happen: checked above */
        int frc = fn(ctx, tx, tlen);
        if (frc != 0)
            return frc;
    }
    return PROTO_OK;
}

void ledger_tx_batch_write(proto_wr_t *w, const uint8_t *const *txs, const size_t *lens, size_t n)
{
    proto_wr_array(w, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        proto_wr_bin(w, txs[i], lens[i]);
}
