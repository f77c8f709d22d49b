/*  node_ledger_rpc: the ledger's JSON-RPC methods (see node_ledger.h).
 *
 *    head                      -> {height, hash, state_root, time_ms}
 *    block {height} | {hash}   -> header fields (hex), hash, size, txids,
 *                                 certificate {height, round, signers, signer_indexes}
 *                                 (null for the genesis block)
 *    account {id}              -> {id, balance, nonce, next_nonce, syncing}; next_nonce
 *                                 counts the account's pending txs (the nonce a new tx
 *                                 should carry); syncing: this node is behind the network,
 *                                 so both nonces may be stale
 *    authorities               -> [hex key, ...] (sorted)
 *    tx_submit {tx: hex}       -> {txid}; refused txs answer -32000 "rejected: NAME: why";
 *                                 while the node is behind the network (a peer's head more
 *                                 than one block above its own) both submit methods refuse
 *                                 with "rejected: syncing: head H, network at least H2; ..."
 *    tx_submit_batch {txs: [hex, ...]} (1..NODE_LEDGER_SUBMIT_MAX)
 *                              -> {accepted, rejected, results: [{txid} | {error}, ...]}
 *                                 (one result per tx, in order; each tx stands alone);
 *                                 a mempool without room for all of them refuses the whole
 *                                 request at once, before any signature check, with
 *                                 -32000 "rejected: full: mempool is full"
 *    tx_status {txid}          -> {txid, status: committed|pending|dropped|replaced|unknown,
 *                                 height, index}; dropped and replaced add reason (e.g.
 *                                 "expired behind a nonce gap"), replaced adds replaced_by
 *                                 (the committed txid that took its (from, nonce)); a drop
 *                                 is remembered for the pool's last 4,096 drops
 *    ledger_proof {txid}       -> {txid, height, proof: hex}: the inclusion proof of a
 *                                 committed tx (ledger_store_tx_proof, ledger_proof.h), which
 *                                 a light client checks offline (ledger_light.h); a tx not
 *                                 committed here answers -32000 "not committed: TXID"
 *    enclave_list {kind?}      -> registered enclaves (node_ledger_enclave.h)
 *    ledger_stats              -> head, consensus, mempool, sync figures; the loop's time
 *                                 per stage (us_*); how late gossiped txs and proposals
 *                                 arrived and how long the verifier took ({count, mean_ms,
 *                                 max_ms, over_100ms}); decoded-key table hits and lookups
 *  Ids and hashes are lowercase hex; bad params answer -32602 naming the parameter.
 *  Params are an object, or an array in the order above.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/app/node_app.h"
#include "node/service/node_ledger_enclave.h"
#include "node/service/node_ledger_int.h"
#include "node/rpc/node_rpc.h"
#include "node/rpc/node_rpc_params.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

#define NO_LEDGER "this node runs without a ledger (start it with --genesis FILE)"

/*  The ledger, or NULL with the "no ledger" error set. */
static node_ledger_t *s_ledger(node_app_t *app, int *code, char *err, size_t cap)
{
    node_ledger_t *l = node_app_ledger(app);
    if (!l)
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", NO_LEDGER);
    return l;
}

static json_t *s_store_fail(int *code, char *err, size_t cap, int rc)
{
    *code = NODE_RPC_E_INTERNAL;
    snprintf(err, cap, "ledger read failed: %s", proto_err_str(rc));
    return NULL;
}

/* ---------------------------------------------------------------- methods */

static json_t *m_head(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                      size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    if (!l)
        return NULL;
    ledger_head_t h;
    int rc = ledger_store_head(l->store, &h);
    if (rc != LEDGER_OK)
        return s_store_fail(code, err, cap, rc);
    json_t *o = json_object();
    json_object_set_new(o, "height", json_integer((json_int_t)h.height));
    json_object_set_new(o, "hash", node_rpc_hex(h.hash, 32));
    json_object_set_new(o, "state_root", node_rpc_hex(h.state_root, 32));
    json_object_set_new(o, "time_ms", json_integer((json_int_t)h.time_ms));
    return o;
}

static json_t *s_cert_json(const uint8_t *cert, size_t len)
{
    ledger_cert_t c;
    if (len == 0 || ledger_cert_decode(cert, len, &c) != PROTO_OK)
        return json_null();
    json_t *idx = json_array();
    for (size_t i = 0; i < c.n_sigs; i++)
        json_array_append_new(idx, json_integer(c.sigs[i].index));
    json_t *o = json_object();
    json_object_set_new(o, "height", json_integer((json_int_t)c.height));
    json_object_set_new(o, "round", json_integer(c.round));
    json_object_set_new(o, "signers", json_integer((json_int_t)c.n_sigs));
    json_object_set_new(o, "signer_indexes", idx);
    return o;
}

static json_t *m_block(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                       size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    if (!l)
        return NULL;
    json_t *hv = node_rpc_param(params, "height", 0);
    json_t *hashv = json_is_object(params) ? json_object_get(params, "hash") : NULL;
    /* positional: a height (a number) or a hash (a string); by name, each its own type */
    if (json_is_array(params) && json_is_string(hv)) {
        hashv = hv;
        hv = NULL;
    }
    if (hv && !(json_is_integer(hv) && json_integer_value(hv) >= 0))
        return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                             "'height' must be a non-negative integer");
    uint64_t height = 0;
    uint8_t *bytes = NULL, *cert = NULL;
    size_t len = 0, clen = 0;
    int rc;
    if (json_is_integer(hv) && json_integer_value(hv) >= 0) {
        height = (uint64_t)json_integer_value(hv);
        rc = ledger_store_block(l->store, height, &bytes, &len);
    } else if (json_is_string(hashv)) {
        uint8_t hash[32];
        const char *s = json_string_value(hashv);
        if (strlen(s) != 64 || proto_hex_decode(s, hash, 32) != 0)
            return node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                                 "'hash' must be 64 hex characters");
        rc = ledger_store_block_by_hash(l->store, hash, &height, &bytes, &len);
    } else {
        return node_rpc_fail(
            code, NODE_RPC_E_PARAMS, err, cap,
            "give 'height' (a non-negative integer) or 'hash' (64 hex characters)");
    }
    if (rc == LEDGER_E_NOT_FOUND)
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "no such block");
    if (rc != LEDGER_OK)
        return s_store_fail(code, err, cap, rc);
    ledger_block_t *b = NULL;
    if (ledger_block_decode(bytes, len, &b) != PROTO_OK) {
        free(bytes);
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "stored block does not decode");
    }
    rc = ledger_store_cert(l->store, height, &cert, &clen);
    const ledger_header_t *h = ledger_block_header(b);
    json_t *txids = json_array();
    for (size_t i = 0; i < ledger_block_tx_count(b); i++) {
        size_t tlen = 0;
        const uint8_t *tx = ledger_block_tx(b, i, &tlen);
        uint8_t txid[32];
        ledger_tx_id(tx, tlen, txid);
        json_array_append_new(txids, node_rpc_hex(txid, 32));
    }
    json_t *o = json_object();
    json_object_set_new(o, "height", json_integer((json_int_t)h->height));
    json_object_set_new(o, "hash", node_rpc_hex(ledger_block_hash(b), 32));
    json_object_set_new(o, "chain_id", node_rpc_hex(h->chain_id, 32));
    json_object_set_new(o, "prev_hash", node_rpc_hex(h->prev_hash, 32));
    json_object_set_new(o, "time_ms", json_integer((json_int_t)h->time_ms));
    json_object_set_new(o, "proposer", node_rpc_hex(h->proposer, 32));
    json_object_set_new(o, "round", json_integer(h->round));
    json_object_set_new(o, "tx_root", node_rpc_hex(h->tx_root, 32));
    json_object_set_new(o, "state_root", node_rpc_hex(h->state_root, 32));
    json_object_set_new(o, "size", json_integer((json_int_t)len));
    json_object_set_new(o, "tx_count", json_integer((json_int_t)ledger_block_tx_count(b)));
    json_object_set_new(o, "txids", txids);
    json_object_set_new(o, "certificate", rc == LEDGER_OK ? s_cert_json(cert, clen) : json_null());
    free(cert);
    ledger_block_destroy(&b);
    free(bytes);
    return o;
}

static json_t *m_account(node_app_t *app, const char *method, json_t *params, int *code, char *err,
                         size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    uint8_t id[32];
    if (!l || node_rpc_param_id(params, "id", 0, id, code, err, cap) != 0)
        return NULL;
    ledger_account_t a;
    int rc = ledger_store_account(l->store, id, &a);
    if (rc != LEDGER_OK)
        return s_store_fail(code, err, cap, rc);
    json_t *o = json_object();
    json_object_set_new(o, "id", node_rpc_hex(id, 32));
    json_object_set_new(o, "balance", json_integer((json_int_t)a.balance));
    json_object_set_new(o, "nonce", json_integer((json_int_t)a.nonce));
    json_object_set_new(o, "next_nonce",
                        json_integer((json_int_t)ledger_mempool_next_nonce(l->pool, id, a.nonce)));
    /* behind the network, the nonce and next_nonce may be stale */
    json_object_set_new(
        o, "syncing",
        json_boolean(l->sync && node_ledger_sync_behind(l->sync, nl_now(), NULL, NULL)));
    return o;
}

static json_t *m_authorities(node_app_t *app, const char *method, json_t *params, int *code,
                             char *err, size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    if (!l)
        return NULL;
    uint8_t keys[LEDGER_AUTHORITIES_MAX][LEDGER_ID_LEN];
    size_t n = 0;
    int rc = ledger_store_authorities(l->store, keys, &n);
    if (rc != LEDGER_OK)
        return s_store_fail(code, err, cap, rc);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, node_rpc_hex(keys[i], 32));
    return arr;
}

/* ---------------------------------------------------------------- submitting txs
 *
 *  tx_submit and tx_submit_batch do their stateless work on the RPC connection's thread
 *  (the prepare step): hex decoding, parsing, the chain id, the contract's stateless
 *  check and the signature, so signatures of concurrent requests are verified in
 *  parallel, off the loop. The prepare step hands the loop an attachment of records
 *      [int32 rc][uint32 len][len bytes: the tx if rc is LEDGER_OK, else the reason]
 *  one per submitted tx, in order, and replaces the params by {"count": N}; the loop
 *  admits the verified txs (ledger_mempool_add_verified: nonce, duplicates, funds,
 *  bounds) and gossips the admitted ones together. */

/*  Decodes one hex tx into ARENA (at *USED, advanced) and hands it to the checker (no
 *  committed-nonce lookup: a client's txs are rarely stale, and the loop refuses those
 *  anyway). 0; 1 when it is not hex of the right length (recorded too); a negative code
 *  (NODE_E_NOMEM, the ledger's) if the check could not run. */
static int s_prepare_one(const char *hex, size_t hlen, node_ledger_checker_t *c, uint8_t *arena,
                         size_t *used)
{
    static const char bad_hex[] = "not a transaction in hex (at most 64 KiB)";
    if (!hex || hlen == 0 || hlen % 2 != 0 || hlen > 2 * LEDGER_TX_MAX_BYTES ||
        proto_hex_decode(hex, arena + *used, hlen / 2) != 0) {
        int rc = node_ledger_checker_refuse(c, LEDGER_E_MALFORMED, bad_hex);
        return rc == 0 ? 1 : rc;
    }
    const uint8_t *tx = arena + *used;
    *used += hlen / 2;
    return node_ledger_checker_add(c, tx, hlen / 2);
}

/*  The prepare step of both methods; BATCH selects the params' shape. */
static int s_prepare_submit(node_app_t *app, json_t *params, bool batch, json_t **new_params,
                            void **att, size_t *att_len, int *code, char *err, size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    if (!l)
        return NODE_E_FAILED;
    ledger_chain_t chain;
    if (ledger_store_chain(l->store, &chain) != LEDGER_OK) { /* locked: safe off the loop */
        node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "ledger has no genesis yet");
        return NODE_E_FAILED;
    }
    json_t *list = batch ? node_rpc_param(params, "txs", 0) : NULL;
    json_t *one = batch ? NULL : node_rpc_param(params, "tx", 0);
    size_t n = batch ? json_array_size(list) : 1;
    if (batch && (!json_is_array(list) || n == 0 || n > NODE_LEDGER_SUBMIT_MAX)) {
        *code = NODE_RPC_E_PARAMS;
        snprintf(err, cap, "'txs' must be an array of 1-%d signed transactions in hex",
                 NODE_LEDGER_SUBMIT_MAX);
        return NODE_E_FAILED;
    }
    if (!batch && !json_is_string(one)) {
        node_rpc_fail(code, NODE_RPC_E_PARAMS, err, cap,
                      "'tx' must be the signed transaction in hex (at most 64 KiB)");
        return NODE_E_FAILED;
    }
    /* refuse before spending signature checks; the margin leaves room for the requests of
     * other connections being checked at the same time */
    if (atomic_load(&l->pool_room) < n + NL_ROOM_MARGIN) {
        snprintf(err, cap, "rejected: %s: mempool is full", proto_err_str(LEDGER_E_FULL));
        *code = NODE_RPC_E_APP;
        return NODE_E_FAILED;
    }
    /* the txs stay decoded in one arena until the checker's last flush */
    size_t arena_len = 0, used = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = batch ? json_array_get(list, i) : one;
        if (json_string_length(v) <= 2 * LEDGER_TX_MAX_BYTES)
            arena_len += json_string_length(v) / 2;
    }
    node_ledger_recs_t out = {0};
    uint8_t *arena = malloc(arena_len ? arena_len : 1);
    node_ledger_checker_t *c = malloc(sizeof *c);
    int prc = arena && c ? 0 : NODE_E_NOMEM;
    if (c)
        node_ledger_checker_init(c, &out, chain.chain_id, NULL, l->sigkeys);
    for (size_t i = 0; i < n && prc == 0; i++) {
        json_t *v = batch ? json_array_get(list, i) : one;
        prc = s_prepare_one(json_string_value(v), json_string_length(v), c, arena, &used);
        if (prc > 0 && batch) /* a bad one in a batch only gets its record */
            prc = 0;
    }
    if (prc == 0)
        prc = node_ledger_checker_flush(c);
    free(c);
    free(arena);
    if (prc != 0) { /* a lone tx that is not hex: bad params */
        node_ledger_recs_free(&out);
        node_rpc_fail(code, prc < 0 ? NODE_RPC_E_INTERNAL : NODE_RPC_E_PARAMS, err, cap, "%s",
                      prc < 0 ? "out of memory"
                              : "'tx' must be the signed transaction in hex (at most 64 KiB)");
        return NODE_E_FAILED;
    }
    *new_params = json_pack("{s:I}", "count", (json_int_t)n);
    *att = out.buf; /* ownership passes to the RPC server */
    *att_len = out.len;
    return 0;
}

static int p_tx_submit(node_app_t *app, json_t *params, json_t **new_params, void **att,
                       size_t *att_len, int *code, char *err, size_t cap)
{
    return s_prepare_submit(app, params, false, new_params, att, att_len, code, err, cap);
}

static int p_tx_submit_batch(node_app_t *app, json_t *params, json_t **new_params, void **att,
                             size_t *att_len, int *code, char *err, size_t cap)
{
    return s_prepare_submit(app, params, true, new_params, att, att_len, code, err, cap);
}

/*  The loop's half: admits every record of the attachment. With RESULTS, appends {txid}
 *  or {error} per tx; without (a single tx), writes its txid in hex into TXID_HEX or the
 *  refusal into CODE/ERR. Returns the number admitted, or -1 when there is no attachment
 *  (cannot happen: the prepare step always makes one). */
static long s_admit_records(node_app_t *app, node_ledger_t *l, json_t *results,
                            char txid_hex[static 65], int *code, char *err, size_t cap)
{
    size_t att_len;
    const uint8_t *att = node_app_rpc_attachment(app, &att_len);
    if (!att)
        return NODE_E_FAILED;
    enum { CHUNK = 256 };
    const uint8_t *txs[CHUNK];
    size_t lens[CHUNK], pending = 0;
    long admitted = 0;
    size_t off = 0, plen;
    int32_t prc;
    const uint8_t *p;
    while (node_ledger_recs_next(att, att_len, &off, &prc, &p, &plen)) {
        uint8_t txid[32];
        char why[LEDGER_ERR_MAX] = "";
        int rc = prc;
        if (rc == LEDGER_OK)
            rc = nl_admit(l, p, plen, true, txid, why, sizeof why);
        else
            l->st.txs_rejected++;
        char msg[256];
        if (rc != LEDGER_OK) {
            if (prc != LEDGER_OK)
                snprintf(msg, sizeof msg, "rejected: %s: %.*s", proto_err_str(rc),
                         (int)(plen > 200 ? 200 : plen), (const char *)p);
            else
                snprintf(msg, sizeof msg, "rejected: %s: %s", proto_err_str(rc),
                         why[0] ? why : "-");
            if (results)
                json_array_append_new(results, json_pack("{s:s}", "error", msg));
            else
                node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "%s", msg);
            continue;
        }
        admitted++;
        ledger_mempool_set_local(l->pool, txid); /* offered again until it leaves */
        if (results)
            json_array_append_new(results, json_pack("{s:o}", "txid", node_rpc_hex(txid, 32)));
        else
            proto_hex_encode(txid, 32, txid_hex);
        txs[pending] = p;
        lens[pending++] = plen;
        if (pending == CHUNK) {
            nl_gossip_txs(l, txs, lens, pending);
            pending = 0;
        }
    }
    nl_gossip_txs(l, txs, lens, pending);
    if (admitted)
        nl_pace_check(l);
    return admitted;
}

/*  True, with the refusal in CODE/ERR (LEDGER_E_SYNCING), while this node is behind the
 *  network: its next nonces and admission checks read a stale state, so a tx accepted now
 *  might never commit. */
static bool s_syncing(node_ledger_t *l, int *code, char *err, size_t cap)
{
    uint64_t head = 0, best = 0;
    if (!l->sync || !node_ledger_sync_behind(l->sync, nl_now(), &head, &best))
        return false;
    l->st.txs_rejected++;
    node_rpc_fail(code, NODE_RPC_E_APP, err, cap,
                  "rejected: %s: head %llu, network at least %llu; try again or submit to a "
                  "node that is caught up",
                  proto_err_str(LEDGER_E_SYNCING), (unsigned long long)head,
                  (unsigned long long)best);
    return true;
}

static json_t *m_tx_submit(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    if (!l || s_syncing(l, code, err, cap))
        return NULL;
    char txid[2 * 32 + 1] = "";
    long n = s_admit_records(app, l, NULL, txid, code, err, cap);
    if (n < 0)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "transaction was not prepared");
    return n == 0 ? NULL : json_pack("{s:s}", "txid", txid);
}

static json_t *m_tx_submit_batch(node_app_t *app, const char *method, json_t *params, int *code,
                                 char *err, size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    if (!l || s_syncing(l, code, err, cap))
        return NULL;
    json_t *results = json_array();
    if (!results)
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
    char unused[65];
    long n = s_admit_records(app, l, results, unused, code, err, cap);
    if (n < 0) {
        json_decref(results);
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "transactions were not prepared");
    }
    size_t total = json_array_size(results);
    return json_pack("{s:I,s:I,s:o}", "accepted", (json_int_t)n, "rejected",
                     (json_int_t)(total - (size_t)n), "results", results);
}

static json_t *m_tx_status(node_app_t *app, const char *method, json_t *params, int *code,
                           char *err, size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    uint8_t txid[32];
    if (!l || node_rpc_param_id(params, "txid", 0, txid, code, err, cap) != 0)
        return NULL;
    ledger_txloc_t loc;
    int rc = ledger_store_tx(l->store, txid, &loc);
    if (rc != LEDGER_OK && rc != LEDGER_E_NOT_FOUND)
        return s_store_fail(code, err, cap, rc);
    json_t *o = json_object();
    json_object_set_new(o, "txid", node_rpc_hex(txid, 32));
    if (rc == LEDGER_OK) {
        json_object_set_new(o, "status", json_string("committed"));
        json_object_set_new(o, "height", json_integer((json_int_t)loc.height));
        json_object_set_new(o, "index", json_integer((json_int_t)loc.index));
    } else {
        ledger_drop_t d;
        const char *st = "unknown";
        if (ledger_mempool_has(l->pool, txid))
            st = "pending";
        else if (ledger_mempool_dropped(l->pool, txid, &d)) {
            st = d.has_by ? "replaced" : "dropped";
            json_object_set_new(o, "reason", json_string(ledger_drop_reason_str(d.reason)));
            if (d.has_by)
                json_object_set_new(o, "replaced_by", node_rpc_hex(d.by, 32));
        }
        json_object_set_new(o, "status", json_string(st));
        json_object_set_new(o, "height", json_null());
        json_object_set_new(o, "index", json_null());
    }
    return o;
}

static json_t *m_ledger_proof(node_app_t *app, const char *method, json_t *params, int *code,
                              char *err, size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    uint8_t txid[32];
    if (!l || node_rpc_param_id(params, "txid", 0, txid, code, err, cap) != 0)
        return NULL;
    uint8_t *proof = NULL;
    size_t len = 0;
    uint64_t height = 0;
    int rc = ledger_store_tx_proof(l->store, txid, &proof, &len, &height);
    if (rc == LEDGER_E_NOT_FOUND) {
        char hex[65];
        proto_hex_encode(txid, 32, hex);
        return node_rpc_fail(code, NODE_RPC_E_APP, err, cap, "not committed: %s", hex);
    }
    if (rc != LEDGER_OK)
        return s_store_fail(code, err, cap, rc);
    char *hex = malloc(2 * len + 1); /* node_rpc_hex stops at 64 bytes */
    if (!hex) {
        free(proof);
        return node_rpc_fail(code, NODE_RPC_E_INTERNAL, err, cap, "out of memory");
    }
    proto_hex_encode(proof, len, hex);
    free(proof);
    json_t *o = json_object();
    json_object_set_new(o, "txid", node_rpc_hex(txid, 32));
    json_object_set_new(o, "height", json_integer((json_int_t)height));
    json_object_set_new(o, "proof", json_string(hex));
    free(hex);
    return o;
}

static const char *s_step_name(ledger_cons_step_t s)
{
    switch (s) {
    case LEDGER_STEP_PROPOSE:
        return "propose";
    case LEDGER_STEP_PREVOTE:
        return "prevote";
    case LEDGER_STEP_PRECOMMIT:
        return "precommit";
    default:
        return "none";
    }
}

#define J(v) json_integer((json_int_t)(v))

static json_t *m_ledger_stats(node_app_t *app, const char *method, json_t *params, int *code,
                              char *err, size_t cap)
{
    node_ledger_t *l = s_ledger(app, code, err, cap);
    if (!l)
        return NULL;
    ledger_head_t head = nl_head(l);
    ledger_cons_stats_t cs;
    ledger_cons_stats(l->cons, &cs);
    json_t *cons = json_object();
    json_object_set_new(cons, "height", J(ledger_cons_height(l->cons)));
    json_object_set_new(cons, "round", J(ledger_cons_round(l->cons)));
    json_object_set_new(cons, "step", json_string(s_step_name(ledger_cons_step(l->cons))));
    json_object_set_new(cons, "decided", json_boolean(ledger_cons_decided(l->cons)));
    json_object_set_new(cons, "validator",
                        l->vkey ? node_rpc_hex(proto_key_public(l->vkey), 32) : json_null());
    const struct {
        const char *name;
        uint64_t v;
    } cf[] = {{"proposals_in", cs.proposals_in},
              {"votes_in", cs.votes_in},
              {"malformed", cs.malformed},
              {"wrong_chain", cs.wrong_chain},
              {"not_validator", cs.not_validator},
              {"wrong_proposer", cs.wrong_proposer},
              {"bad_hash", cs.bad_hash},
              {"bad_sig", cs.bad_sig},
              {"duplicates", cs.duplicates},
              {"equivocations", cs.equivocations},
              {"stale", cs.stale},
              {"buffered", cs.buffered},
              {"dropped", cs.dropped},
              {"rounds", cs.rounds},
              {"round_skips", cs.round_skips},
              {"signed_msgs", cs.signed_msgs},
              {"persist_failures", cs.persist_failures},
              {"sign_refused", cs.sign_refused},
              {"commits", cs.commits}};
    for (size_t i = 0; i < sizeof cf / sizeof cf[0]; i++)
        json_object_set_new(cons, cf[i].name, J(cf[i].v));
    json_t *pool = json_object();
    json_object_set_new(pool, "count", J(ledger_mempool_count(l->pool)));
    json_object_set_new(pool, "bytes", J(ledger_mempool_bytes(l->pool)));
    json_t *node = json_object();
    node_ledger_sync_stats_t ss;
    node_ledger_sync_stats(l->sync, &ss);
    const struct {
        const char *name;
        uint64_t v;
    } nf[] = {{"txs_in", l->st.txs_in},
              {"txs_rejected", l->st.txs_rejected},
              {"blocks_committed", l->st.blocks_committed},
              {"blocks_synced", ss.blocks_synced},
              {"blocks_decided", ss.blocks_decided},
              {"consensus_in", l->st.consensus_in},
              {"decided_in", l->st.decided_in},
              {"decided_sent", l->st.decided_sent},
              {"decided_backups", l->st.decided_backups},
              {"decided_refused", ss.decided_refused},
              {"sync_requests", ss.requests},
              {"sync_timeouts", ss.timeouts},
              {"sync_bad_blocks", ss.bad_blocks},
              {"sync_served", ss.served},
              {"sync_refused", ss.refused},
              {"broadcast_failures", l->st.broadcast_failures},
              {"timers_dropped", l->st.timers_dropped},
              {"persist_failures", l->st.persist_failures},
              {"txs_dropped_busy", l->st.txs_dropped_busy},
              {"txs_regossiped", l->st.txs_regossiped},
              {"txs_expired", l->st.txs_expired},
              {"us_build", l->st.us_build},
              {"us_validate", l->st.us_validate},
              {"us_persist", l->st.us_persist},
              {"us_commit", l->st.us_commit},
              {"us_pool_update", l->st.us_pool_update},
              {"us_height", l->st.us_height}};
    for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++)
        json_object_set_new(node, nf[i].name, J(nf[i].v));
    const struct {
        const char *name;
        const nl_delay_t *d;
    } df[] = {{"gossip_txs_late", &l->st.gossip_txs},
              {"gossip_proposals_late", &l->st.gossip_proposals},
              {"verifier_wait", &l->st.verifier}};
    for (size_t i = 0; i < sizeof df / sizeof df[0]; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "count", J(df[i].d->n));
        json_object_set_new(
            o, "mean_ms",
            json_real(df[i].d->n ? (double)df[i].d->sum_ms / (double)df[i].d->n : 0.0));
        json_object_set_new(o, "max_ms", J(df[i].d->max_ms));
        json_object_set_new(o, "over_100ms", J(df[i].d->over));
        json_object_set_new(node, df[i].name, o);
    }
    size_t timers = 0;
    for (size_t i = 0; i < NL_TIMERS_MAX; i++)
        timers += l->timers[i].used;
    json_object_set_new(node, "timers_pending", J(timers));
    json_object_set_new(node, "syncing", json_boolean(node_ledger_sync_busy(l->sync)));
    uint64_t key_hits = 0, key_lookups = 0;
    proto_sigkeys_stats(l->sigkeys, &key_hits, &key_lookups);
    json_object_set_new(node, "sigkeys_hits", J(key_hits));
    json_object_set_new(node, "sigkeys_lookups", J(key_lookups));
    json_t *o = json_object();
    json_object_set_new(o, "height", J(head.height));
    json_object_set_new(o, "hash", node_rpc_hex(head.hash, 32));
    json_object_set_new(o, "consensus", cons);
    json_object_set_new(o, "mempool", pool);
    json_object_set_new(o, "node", node);
    json_object_set_new(o, "disk_bytes", J(ledger_store_disk_size(l->store)));
    return o;
}

int node_ledger_register(node_app_t *app)
{
    static const struct {
        const char *name;
        node_app_method_fn *fn;
        node_app_prepare_fn *prepare;
    } methods[] = {
        {"head", m_head, NULL},
        {"block", m_block, NULL},
        {"account", m_account, NULL},
        {"authorities", m_authorities, NULL},
        {"tx_submit", m_tx_submit, p_tx_submit},
        {"tx_submit_batch", m_tx_submit_batch, p_tx_submit_batch},
        {"tx_status", m_tx_status, NULL},
        {"ledger_proof", m_ledger_proof, NULL},
        {"ledger_stats", m_ledger_stats, NULL},
        {"enclave_list", node_ledger_enclave_list, NULL}, /* node_ledger_enclave.c */
    };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        int rc =
            node_app_method_add_prepared(app, methods[i].name, methods[i].fn, methods[i].prepare);
        if (rc != 0)
            return rc;
    }
    return 0;
}
