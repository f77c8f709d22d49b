/*  node_query_chain: the chain feed of a query runner (see node_query.h and
 *  node_query_core.h, "the chain feed"). A query enclave checks payment and model proofs
 *  against the authority set it follows from the genesis (CHAIN); it follows a change of
 *  that set only when it is fed the certified blocks holding AUTH_VOTE txs. This file
 *  scans the committed blocks once each, in height order and a bounded number per tick,
 *  notes the vote blocks in node_query_core, and feeds every query enclave of this runner
 *  (once it follows this chain) the vote blocks above its light height, one CHAIN_BLOCK
 *  call at a time, the next as soon as the last is answered.
 *
 *  CHAIN_BLOCK carries AFTER (the light height this runner believes the enclave has); an
 *  enclave that answers ENCLAVE_E_GAP is asked its height (a probe) and fed from there. A
 *  block the enclave refuses otherwise is tried again after NODE_QUERY_RETRY_MS (doubling,
 *  up to NODE_QUERY_RETRY_MAX_MS), with the reason in query_status.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave/enclave_wire.h"
#include "ledger/ledger_block.h"
#include "ledger/ledger_tx.h"
#include "node/app/node_app.h"
#include "node/service/node_ledger_local.h"
#include "node/service/node_query_int.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"

/* A CHAIN_BLOCK call in flight: to which enclave, for which height (0: a probe). */
typedef struct {
    node_query_t *q;
    uint8_t enclave_id[32];
    uint64_t height;
} s_call_t;

/* The type of tx BYTES (LEN): [chain_id bin32, from bin32, nonce, type, ...]. */
static int s_tx_type(const uint8_t *bytes, size_t len, uint64_t *type)
{
    proto_rd_t r;
    proto_rd_init(&r, bytes, len);
    uint8_t id[32];
    uint64_t nonce = 0;
    if (proto_rd_array_exact(&r, LEDGER_TX_FIELDS) || proto_rd_bin_exact(&r, 32, id) ||
        proto_rd_bin_exact(&r, 32, id) || proto_rd_uint(&r, UINT64_MAX, &nonce) ||
        proto_rd_uint(&r, UINT32_MAX, type))
        return r.err;
    return PROTO_OK;
}

/* Whether committed block BLOCK (LEN bytes) holds an AUTH_VOTE tx. */
static int s_has_vote(const uint8_t *block, size_t len, bool *vote)
{
    ledger_block_t *b = NULL;
    int rc = ledger_block_decode(block, len, &b);
    *vote = false;
    for (size_t i = 0; rc == PROTO_OK && !*vote && i < ledger_block_tx_count(b); i++) {
        size_t tlen = 0;
        const uint8_t *tx = ledger_block_tx(b, i, &tlen);
        uint64_t type = 0;
        rc = s_tx_type(tx, tlen, &type);
        *vote = rc == PROTO_OK && type == LEDGER_TX_AUTH_VOTE;
    }
    ledger_block_destroy(&b);
    return rc;
}

void nq_chain_scan(node_query_t *q)
{
    node_ledger_t *ledger = node_app_ledger(q->app);
    uint64_t head = 0;
    uint8_t hash[32];
    bool any = false; /* a node without query enclaves reads no block */
    for (size_t i = 0; i < NODE_ENCLAVE_MAX && !any; i++)
        any = q->enclaves[i].used;
    if (!any || !ledger || node_ledger_local_head(ledger, &head, hash) != LEDGER_OK)
        return;
    for (unsigned i = 0; i < NODE_QUERY_SCAN_MAX; i++) {
        uint64_t h = node_query_core_scan_from(q->core);
        if (h > head)
            return;
        uint8_t *block = NULL;
        size_t len = 0;
        bool vote = false;
        int rc = node_ledger_local_block(ledger, h, &block, &len, NULL, NULL);
        if (rc == LEDGER_OK)
            rc = s_has_vote(block, len, &vote);
        free(block);
        if (rc == PROTO_OK && !node_query_core_scanned(q->core, h, vote))
            rc = PROTO_E_NOMEM;
        if (rc != PROTO_OK) { /* tried again at the next tick */
            GLOG(WARN, NODE, "chain feed: committed block %" PRIu64 " not scanned: %s", h,
                 proto_err_str(rc));
            return;
        }
    }
}

/* Puts off E's feed after a refusal WHY. */
static void s_feed_trouble(nq_enclave_t *e, const char *why)
{
    char eid[17];
    proto_hex_encode(e->id, 8, eid);
    snprintf(e->why, sizeof e->why, "%s", why);
    e->feed_retry_at = nq_now() + e->feed_backoff;
    e->feed_backoff = e->feed_backoff * 2 > NODE_QUERY_RETRY_MAX_MS ? NODE_QUERY_RETRY_MAX_MS
                                                                    : e->feed_backoff * 2;
    GLOG(INFO, NODE, "query enclave %s: %s", eid, why);
}

static void s_send(node_query_t *q, nq_enclave_t *e, uint64_t height);

/* E's answer to the CHAIN_BLOCK of HEIGHT (0: a probe): RC, ANS (ANS_LEN) or WHY_IN. */
static void s_fed(node_query_t *q, nq_enclave_t *e, uint64_t height, int rc, const uint8_t *ans,
                  size_t ans_len, const char *why_in)
{
    char why[192] = "";
    enclave_ans_t a;
    if (rc != 0) {
        snprintf(why, sizeof why, "CHAIN_BLOCK %" PRIu64 " failed: %.140s", height,
                 why_in ? why_in : proto_err_str(rc));
    } else if (enclave_wire_ans_decode(ans, ans_len, &a) != PROTO_OK) {
        snprintf(why, sizeof why, "the CHAIN_BLOCK answer does not decode");
    } else if (a.type == ENCLAVE_ANS_ERROR && a.u.error.code == ENCLAVE_E_GAP && height) {
        s_send(q, e, 0); /* ask its height, then go on from there */
        return;
    } else if (a.type == ENCLAVE_ANS_ERROR) {
        snprintf(why, sizeof why, "refused the block at %" PRIu64 ": %.128s", height,
                 a.u.error.msg);
    } else if (a.type != ENCLAVE_ANS_LIGHT || (height && a.u.light.height < height)) {
        snprintf(why, sizeof why, "answered the block at %" PRIu64 " without taking it", height);
    } else {
        if (a.u.light.height > e->light && height) {
            char eid[17];
            proto_hex_encode(e->id, 8, eid);
            GLOG(INFO, NODE, "query enclave %s follows the authority votes up to block %" PRIu64,
                 eid, a.u.light.height);
        }
        e->light = a.u.light.height;
        e->feed_backoff = NODE_QUERY_RETRY_MS;
        nq_chain_feed(q, e); /* the next one, if any */
        return;
    }
    s_feed_trouble(e, why);
}

static void s_on_fed(void *ctx, int rc, const uint8_t *ans, size_t ans_len, const char *why)
{
    s_call_t *c = ctx;
    nq_enclave_t *e = nq_enclave(c->q, c->enclave_id);
    if (e) { /* else the enclave restarted or stopped meanwhile */
        e->feed_busy = false;
        s_fed(c->q, e, c->height, rc, ans, ans_len, why);
    }
    free(c);
}

/* CHAIN_BLOCK of the committed block at HEIGHT (0: a probe) to E, queued to it. */
static void s_send(node_query_t *q, nq_enclave_t *e, uint64_t height)
{
    node_ledger_t *ledger = node_app_ledger(q->app);
    node_enclave_t *enc = node_app_enclave(q->app);
    uint8_t *block = NULL, *cert = NULL, *req = NULL;
    size_t blen = 0, clen = 0, req_len = 0;
    char why[192] = "";
    s_call_t *c = NULL;
    int rc = ledger && enc ? PROTO_OK : NODE_E_FAILED;
    if (rc == PROTO_OK && height &&
        (rc = node_ledger_local_block(ledger, height, &block, &blen, &cert, &clen)) != LEDGER_OK)
        snprintf(why, sizeof why, "block %" PRIu64 " not read: %s", height, proto_err_str(rc));
    enclave_req_t r;
    memset(&r, 0, sizeof r);
    r.type = ENCLAVE_REQ_CHAIN_BLOCK;
    if (height) {
        r.u.chain_block.after = e->light;
        r.u.chain_block.height = height;
        r.u.chain_block.block = block;
        r.u.chain_block.block_len = blen;
        r.u.chain_block.cert = cert;
        r.u.chain_block.cert_len = clen;
    }
    if (rc == PROTO_OK && (rc = enclave_wire_req_encode(&r, &req, &req_len)) != PROTO_OK)
        snprintf(why, sizeof why, "cannot encode CHAIN_BLOCK %" PRIu64, height);
    if (rc == PROTO_OK && !(c = calloc(1, sizeof *c)))
        rc = proto_err_fail(why, sizeof why, NODE_E_FAILED, "out of memory");
    if (rc == PROTO_OK) {
        c->q = q;
        memcpy(c->enclave_id, e->id, 32);
        c->height = height;
        rc = node_enclave_call_start(enc, e->id, req, req_len, s_on_fed, c, why, sizeof why);
    }
    free(block);
    free(cert);
    free(req);
    if (rc == 0) {
        e->feed_busy = true; /* s_on_fed goes on */
        return;
    }
    free(c);
    s_feed_trouble(e, why[0] ? why : "CHAIN_BLOCK failed");
}

void nq_chain_feed(node_query_t *q, nq_enclave_t *e)
{
    uint64_t height = 0;
    if (!e->used || !e->chain_ok || e->feed_busy || nq_now() < e->feed_retry_at ||
        !node_query_core_feed_next(q->core, e->light, &height))
        return;
    s_send(q, e, height);
}
