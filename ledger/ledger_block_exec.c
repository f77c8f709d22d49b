/*  ledger_block_exec: block execution, split from ledger_block.c by concern. Validates
 *  and executes a received block, and builds the next block from the mempool (see
 *  ledger_block.h for the rules).
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_admit.h"
#include "ledger/ledger_block.h"
#include "ledger/ledger_mempool.h"
#include "ledger/ledger_state.h"
#include "ledger/ledger_store.h"
#include "proto/proto_err.h"

#define HEADER_ROOM 512 /* header and framing, counted out of max_bytes when building */

static bool s_is_member(const uint8_t (*keys)[LEDGER_ID_LEN], size_t n, const uint8_t *k)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(keys[i], k, LEDGER_ID_LEN) == 0)
            return true;
    return false;
}

/* Header checks against the head and the chain. */
static int s_check_header(const ledger_header_t *h, const ledger_head_t *head,
                          const ledger_chain_t *chain, size_t n_txs, char *err, size_t err_cap)
{
    if (memcmp(h->chain_id, chain->chain_id, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_WRONG_CHAIN, "block is for another chain");
    if (h->height != head->height + 1)
        return proto_err_fail(err, err_cap, LEDGER_E_BAD_BLOCK, "height does not follow the head");
    if (memcmp(h->prev_hash, head->hash, LEDGER_ID_LEN) != 0)
        return proto_err_fail(err, err_cap, LEDGER_E_BAD_BLOCK,
                              "previous hash is not the head's hash");
    if (h->time_ms < head->time_ms)
        return proto_err_fail(err, err_cap, LEDGER_E_BAD_BLOCK,
                              "time is before the previous block's");
    if (n_txs > chain->max_block_txs)
        return proto_err_fail(err, err_cap, LEDGER_E_TOO_BIG,
                              "more transactions than the chain allows");
    return LEDGER_OK;
}

/*  The admission verdict of each of the N txs of B (ledger_admit_check: parse, chain id,
 *  stateless rules, and one batched signature check of the txs that need one: not
 *  trusted, and not verified already when POOL took them). LEDGER_OK or LEDGER_E_NOMEM. */
static int s_admit(const ledger_block_t *b, size_t n, const uint8_t (*txids)[LEDGER_ID_LEN],
                   const uint8_t chain_id[static LEDGER_ID_LEN], ledger_mempool_t *pool,
                   unsigned flags, ledger_admit_verdict_t *out)
{
    const uint8_t **txs = malloc(n * sizeof *txs);
    size_t *lens = malloc(n * sizeof *lens);
    bool *skip = malloc(n);
    int rc = LEDGER_E_NOMEM;
    if (!txs || !lens || !skip)
        goto out;
    for (size_t i = 0; i < n; i++) {
        txs[i] = ledger_block_tx(b, i, &lens[i]);
        skip[i] = (flags & LEDGER_EXEC_TRUST_SIGS) || (pool && ledger_mempool_has(pool, txids[i]));
    }
    rc = ledger_admit_check(txs, lens, n, chain_id, NULL, NULL, skip, out);
out:
    free(txs);
    free(lens);
    free(skip);
    return rc;
}

int ledger_block_execute(ledger_store_t *store, const uint8_t *block, size_t len,
                         ledger_mempool_t *pool, unsigned flags, ledger_state_t **state_out,
                         long *tx_index, char *err, size_t err_cap)
{
    ledger_block_t *b = NULL;
    ledger_state_t *st = NULL;
    uint8_t(*txids)[LEDGER_ID_LEN] = NULL;
    ledger_admit_verdict_t *verdict = NULL;
    ledger_head_t head;
    ledger_chain_t chain;
    uint8_t auth[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n_auth;
    uint8_t root[LEDGER_ID_LEN];
    int rc;

    *state_out = NULL;
    if (tx_index)
        *tx_index = -1;
    if (ledger_store_head(store, &head) != LEDGER_OK ||
        ledger_store_chain(store, &chain) != LEDGER_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_NOT_FOUND, "ledger has no genesis yet");
    if (len > chain.max_block_bytes || len > LEDGER_BLOCK_MAX_BYTES)
        return proto_err_fail(err, err_cap, LEDGER_E_TOO_BIG, "block larger than the chain allows");
    int prc = ledger_block_decode(block, len, &b);
    if (prc == PROTO_E_NOMEM)
        return proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
    if (prc != PROTO_OK)
        return proto_err_fail(err, err_cap, LEDGER_E_MALFORMED, "%s", proto_err_str(prc));
    const ledger_header_t *h = ledger_block_header(b);
    size_t n = ledger_block_tx_count(b);
    if ((rc = s_check_header(h, &head, &chain, n, err, err_cap)) != LEDGER_OK)
        goto out;

    /* tx root first: cheap, and it catches a mangled block before any work */
    if (n > 0 &&
        (!(txids = malloc(n * sizeof *txids)) || !(verdict = malloc(n * sizeof *verdict)))) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t tlen;
        const uint8_t *tb = ledger_block_tx(b, i, &tlen);
        ledger_tx_id(tb, tlen, txids[i]);
    }
    ledger_block_tx_root((const uint8_t(*)[LEDGER_ID_LEN])txids, n, root);
    if (memcmp(root, h->tx_root, LEDGER_ID_LEN) != 0) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_BAD_BLOCK,
                            "tx root does not match the transactions");
        goto out;
    }

    if (!(st = ledger_state_new(store))) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = ledger_state_authorities(st, auth, &n_auth)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "cannot read the authority set");
        goto out;
    }
    if (!s_is_member((const uint8_t(*)[LEDGER_ID_LEN])auth, n_auth, h->proposer)) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_BAD_BLOCK, "proposer is not an authority");
        goto out;
    }
    if (n > 0 && s_admit(b, n, (const uint8_t(*)[LEDGER_ID_LEN])txids, chain.chain_id, pool, flags,
                         verdict) != LEDGER_OK) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ledger_admit_verdict_t *v = &verdict[i];
        if ((rc = v->rc) != LEDGER_OK ||
            (rc = ledger_state_apply_tx(st, &v->tx, v->why, sizeof v->why)) != LEDGER_OK) {
            if (tx_index)
                *tx_index = (long)i;
            proto_err_fail(err, err_cap, rc, "%s", v->why);
            goto out;
        }
    }
    if ((rc = ledger_state_end_block(st)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "end-of-block processing failed");
        goto out;
    }
    if ((rc = ledger_state_finish(st, head.state_root, root)) != LEDGER_OK) {
        proto_err_fail(err, err_cap, rc, "out of memory");
        goto out;
    }
    if (memcmp(root, h->state_root, LEDGER_ID_LEN) != 0) {
        rc = proto_err_fail(err, err_cap, LEDGER_E_BAD_BLOCK, "state root does not match");
        goto out;
    }
    *state_out = st;
    st = NULL;
    rc = LEDGER_OK;
out:
    ledger_state_destroy(&st);
    free(txids);
    free(verdict);
    ledger_block_destroy(&b);
    return rc;
}

static size_t s_min_nz(size_t want, uint64_t limit)
{
    return want == 0 || want > limit ? (size_t)limit : want;
}

int ledger_block_build(ledger_store_t *store, ledger_mempool_t *pool,
                       const ledger_build_params_t *params, uint8_t **block_out, size_t *len_out,
                       ledger_state_t **state_out)
{
    ledger_head_t head;
    ledger_chain_t chain;
    ledger_txref_t *refs = NULL;
    const uint8_t **ptrs = NULL;
    size_t *lens = NULL;
    uint8_t(*txids)[LEDGER_ID_LEN] = NULL;
    uint8_t(*failed)[LEDGER_ID_LEN] = NULL;
    size_t n_failed = 0, n_in = 0, n_ref = 0;
    ledger_state_t *st = NULL;
    uint8_t *out = NULL;
    int rc;

    *block_out = NULL;
    *len_out = 0;
    *state_out = NULL;
    if ((rc = ledger_store_head(store, &head)) != LEDGER_OK ||
        (rc = ledger_store_chain(store, &chain)) != LEDGER_OK)
        return rc;
    uint64_t chain_txs =
        chain.max_block_txs < LEDGER_BLOCK_MAX_TXS ? chain.max_block_txs : LEDGER_BLOCK_MAX_TXS;
    uint64_t chain_bytes = chain.max_block_bytes < LEDGER_BLOCK_MAX_BYTES ? chain.max_block_bytes
                                                                          : LEDGER_BLOCK_MAX_BYTES;
    size_t max_txs = s_min_nz(params->max_txs, chain_txs);
    size_t max_bytes = s_min_nz(params->max_bytes, chain_bytes);
    size_t budget = max_bytes > HEADER_ROOM ? max_bytes - HEADER_ROOM : 0;

    rc = LEDGER_E_NOMEM;
    if (!(st = ledger_state_new(store)))
        goto out;
    if (pool && max_txs > 0) {
        if (!(refs = malloc(max_txs * sizeof *refs)))
            goto out;
        n_ref = ledger_mempool_reap(pool, max_txs, budget, refs);
    }
    if (n_ref > 0) {
        ptrs = malloc(n_ref * sizeof *ptrs);
        lens = malloc(n_ref * sizeof *lens);
        txids = malloc(n_ref * sizeof *txids);
        failed = malloc(n_ref * sizeof *failed);
        if (!ptrs || !lens || !txids || !failed)
            goto out;
    }
    for (size_t i = 0; i < n_ref; i++) {
        ledger_tx_t tx;
        int trc = ledger_tx_parse(refs[i].bytes, refs[i].len, chain.chain_id, false, &tx, NULL, 0);
        if (trc == LEDGER_OK)
            trc = ledger_state_apply_tx(st, &tx, NULL, 0);
        if (trc == LEDGER_E_NOMEM || trc == LEDGER_E_STORE || trc == LEDGER_E_CORRUPT) {
            rc = trc;
            goto out;
        }
        if (trc != LEDGER_OK) {
            if (trc != LEDGER_E_NONCE_GAP)
                memcpy(failed[n_failed++], refs[i].txid, LEDGER_ID_LEN);
            continue;
        }
        ptrs[n_in] = refs[i].bytes;
        lens[n_in] = refs[i].len;
        memcpy(txids[n_in], refs[i].txid, LEDGER_ID_LEN);
        n_in++;
    }
    if ((rc = ledger_state_end_block(st)) != LEDGER_OK)
        goto out;

    ledger_header_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.chain_id, chain.chain_id, LEDGER_ID_LEN);
    h.height = head.height + 1;
    memcpy(h.prev_hash, head.hash, LEDGER_ID_LEN);
    h.time_ms = params->time_ms > head.time_ms ? params->time_ms : head.time_ms;
    memcpy(h.proposer, params->proposer, LEDGER_ID_LEN);
    h.round = params->round;
    ledger_block_tx_root((const uint8_t(*)[LEDGER_ID_LEN])txids, n_in, h.tx_root);
    if ((rc = ledger_state_finish(st, head.state_root, h.state_root)) != LEDGER_OK)
        goto out;
    size_t len;
    if (!(out = ledger_block_encode(&h, ptrs, lens, n_in, &len))) {
        rc = LEDGER_E_NOMEM;
        goto out;
    }
    /* refs are borrowed from the pool: only now may it change */
    for (size_t i = 0; i < n_failed; i++)
        ledger_mempool_remove(pool, failed[i]);
    *block_out = out;
    *len_out = len;
    *state_out = st;
    out = NULL;
    st = NULL;
    rc = LEDGER_OK;
out:
    free(out);
    ledger_state_destroy(&st);
    free(failed);
    free(txids);
    free(lens);
    free(ptrs);
    free(refs);
    return rc;
}
