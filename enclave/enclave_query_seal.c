/*  enclave_query_seal: the sealed formats of the query kind, both sides (see enclave_prog.h):
 *  the asker's helpers that seal a query and open its result, the helper that seals a model
 *  for MODEL_LOAD, and the pieces the enclave shares with them (contexts, float64 codec).
 *  Pure: memory, libsodium and the random generator only (it runs inside the enclave too).
 */
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_kind.h"
#include "enclave/enclave_prog.h"
#include "enclave/enclave_seal.h"

static const char s_query_ctx[] = "genie/query/2";
static const char s_result_ctx[] = "genie/query-result/2";

_Static_assert(sizeof s_result_ctx - 1 + 64 <= ENCLAVE_QUERY_CONTEXT_MAX,
               "a query context fits its buffer");

size_t enclave_query_context(bool result, const uint8_t model_id[static 32],
                             const uint8_t buy_id[static 32],
                             uint8_t out[static ENCLAVE_QUERY_CONTEXT_MAX])
{
    const char *tag = result ? s_result_ctx : s_query_ctx;
    size_t n = strlen(tag);
    memcpy(out, tag, n);
    memcpy(out + n, model_id, 32);
    memcpy(out + n + 32, buy_id, 32);
    return n + 64;
}

/* ---- the asker's side ---- */

int enclave_prog_query_seal(const uint8_t box_pk[static 32], const uint8_t model_id[static 32],
                            const uint8_t buy_id[static 32], const uint8_t reply_pk[static 32],
                            const uint8_t access_code[static 32], const double *rows, size_t n_rows,
                            size_t n_cols, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (n_rows == 0 || n_rows > ENCLAVE_QUERY_MAX_ROWS || n_cols == 0 ||
        n_cols > ENCLAVE_WIRE_MAX_BLOB / 9 / n_rows || !rows)
        return PROTO_E_RANGE;
    for (size_t i = 0; i < n_rows * n_cols; i++)
        if (!isfinite(rows[i]))
            return PROTO_E_RANGE;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 3);
    proto_wr_bin(&w, reply_pk, 32);
    proto_wr_bin(&w, access_code, 32);
    proto_wr_array(&w, (uint32_t)n_rows);
    for (size_t i = 0; i < n_rows; i++) {
        proto_wr_array(&w, (uint32_t)n_cols);
        for (size_t j = 0; j < n_cols; j++)
            proto_wr_f64(&w, rows[i * n_cols + j]);
    }
    size_t plen = 0;
    const uint8_t *plain = proto_wr_data(&w, &plen);
    int rc = plain ? PROTO_OK : (w.err ? w.err : PROTO_E_NOMEM);
    uint8_t ctx[ENCLAVE_QUERY_CONTEXT_MAX];
    size_t ctx_len = enclave_query_context(false, model_id, buy_id, ctx);
    size_t cap = plain ? enclave_seal_to_len(plen) : 0;
    if (rc == PROTO_OK && !(*out = malloc(cap)))
        rc = PROTO_E_NOMEM;
    if (rc == PROTO_OK)
        rc = enclave_seal_to(box_pk, ctx, ctx_len, plain, plen, *out, cap, out_len);
    if (rc != PROTO_OK) {
        free(*out);
        *out = NULL;
        *out_len = 0;
    }
    proto_wr_free(&w); /* wipes the plaintext: the access code and the rows */
    return rc;
}

int enclave_prog_query_open(const uint8_t reply_pk[static 32], const uint8_t reply_sk[static 32],
                            const uint8_t model_id[static 32], const uint8_t buy_id[static 32],
                            const uint8_t *sealed, size_t len, double *out, size_t cap, size_t *n,
                            uint64_t *used, uint64_t *count)
{
    *n = 0;
    if (len < ENCLAVE_SEAL_TO_OVERHEAD)
        return PROTO_E_TRUNCATED;
    size_t plen = enclave_seal_open_len(len), got = 0;
    uint8_t *plain = malloc(plen ? plen : 1);
    if (!plain)
        return PROTO_E_NOMEM;
    uint8_t ctx[ENCLAVE_QUERY_CONTEXT_MAX];
    size_t ctx_len = enclave_query_context(true, model_id, buy_id, ctx);
    int rc = enclave_seal_open(reply_pk, reply_sk, ctx, ctx_len, sealed, len, plain, plen, &got);
    if (rc)
        goto out;
    proto_rd_t r;
    proto_rd_init(&r, plain, got);
    uint64_t u = 0, c = 0;
    uint32_t k = 0;
    if (proto_rd_array_exact(&r, 3) || proto_rd_uint(&r, UINT64_MAX, &u) ||
        proto_rd_uint(&r, UINT64_MAX, &c) || proto_rd_array_max(&r, ENCLAVE_QUERY_MAX_ROWS, &k)) {
        rc = r.err;
        goto out;
    }
    if (k > cap) {
        rc = PROTO_E_TOO_LONG;
        goto out;
    }
    for (uint32_t i = 0; i < k; i++)
        if ((rc = proto_rd_f64(&r, &out[i])))
            goto out;
    if ((rc = proto_rd_finish(&r)))
        goto out;
    *n = k;
    if (used)
        *used = u;
    if (count)
        *count = c;
out:
    sodium_memzero(plain, plen);
    free(plain);
    return rc;
}

int enclave_prog_model_seal(const uint8_t box_pk[static 32], const uint8_t *model, size_t model_len,
                            const uint8_t *publication, size_t publication_len, uint8_t **out,
                            size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    proto_wr_t w;
    proto_wr_init(&w);
    proto_wr_array(&w, 2);
    proto_wr_bin(&w, model, model_len);
    proto_wr_bin(&w, publication, publication_len);
    size_t plen = 0;
    const uint8_t *plain = proto_wr_data(&w, &plen);
    int rc = plain ? PROTO_OK : (w.err ? w.err : PROTO_E_NOMEM);
    if (rc == PROTO_OK && plen > ENCLAVE_WIRE_MAX_BLOB - crypto_box_SEALBYTES)
        rc = PROTO_E_TOO_BIG;
    if (rc == PROTO_OK && !(*out = malloc(plen + crypto_box_SEALBYTES)))
        rc = PROTO_E_NOMEM;
    if (rc == PROTO_OK && crypto_box_seal(*out, plain, plen, box_pk) != 0)
        rc = PROTO_E_CRYPTO;
    if (rc == PROTO_OK) {
        *out_len = plen + crypto_box_SEALBYTES;
    } else {
        free(*out);
        *out = NULL;
    }
    proto_wr_free(&w); /* wipes the model's weights */
    return rc == PROTO_E_TOO_LONG ? PROTO_E_TOO_BIG : rc;
}
