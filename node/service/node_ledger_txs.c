/*  node_ledger_txs: how transactions reach the node's mempool (see node_ledger_int.h).
 *
 *  Signature checks are the costly part of admitting a tx, so they never run on the loop
 *  for txs from outside: txs submitted over RPC are checked on the connection's thread
 *  (node_ledger_rpc.c), txs gossiped by peers on the verifier thread
 *  (node_ledger_verifier.h); both hand the loop check records (node_ledger_check.h), and
 *  the loop admits the good ones without checking them again (nl_admit). Admitted txs
 *  are gossiped through the outbox (node_ledger_outbox.h). A gossiped job the verifier
 *  cannot take is dropped and counted (txs_dropped_busy): a dropped tx that makes it into
 *  a block is verified when the block is executed, like any tx the pool does not hold.
 *  Periodic pool work (nl_pool_tick): txs behind a nonce gap expire, and the txs this
 *  node's clients submitted are offered again every NL_REGOSSIP_MS until they leave the
 *  pool (committed, replaced or expired).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/service/node_ledger_int.h"
#include "proto/proto_log.h"
#include "proto/proto_mp.h"
#include "proto/proto_msgtype.h"

/* ---------------------------------------------------------------- admission, gossip */

int nl_admit(node_ledger_t *self, const uint8_t *tx, size_t len, bool sig_verified, uint8_t *txid,
             char *err, size_t err_cap)
{
    char w[LEDGER_ERR_MAX] = "";
    int rc = sig_verified ? ledger_mempool_add_verified(self->pool, tx, len, txid, w, sizeof w)
                          : ledger_mempool_add(self->pool, tx, len, txid, w, sizeof w);
    if (rc != LEDGER_OK)
        proto_err_fail(err, err_cap, rc, "%s", w);
    if (rc == LEDGER_OK) {
        self->st.txs_in++;
        atomic_store(&self->pool_room, ledger_mempool_room(self->pool));
    } else {
        self->st.txs_rejected++;
        GLOG(DEBUG, LEDGER, "tx refused: %s (%s)", proto_err_str(rc), w);
    }
    return rc;
}

/*  The outbox's sender: a p2p broadcast, counted when it fails. */
int nl_outbox_send(void *ctx, uint32_t kind, const uint8_t *data, size_t len)
{
    node_ledger_t *self = ctx;
    p2p_node_t *p2p = nl_p2p(self);
    if (p2p && p2p_node_broadcast(p2p, kind, data, len) == 0)
        return 0;
    self->st.broadcast_failures++;
    return NODE_E_FAILED;
}

void nl_gossip_txs(node_ledger_t *self, const uint8_t *const *txs, const size_t *lens, size_t n)
{
    node_ledger_outbox_add(self->outbox, txs, lens, n);
}

void nl_pool_tick(node_ledger_t *self, uint64_t now_ms)
{
    if (now_ms - self->expired_ms >= NL_EXPIRE_MS || now_ms < self->expired_ms) {
        self->expired_ms = now_ms;
        size_t n = ledger_mempool_expire(self->pool, now_ms);
        if (n) {
            self->st.txs_expired += n;
            atomic_store(&self->pool_room, ledger_mempool_room(self->pool));
            GLOG(INFO, LEDGER, "%zu pending tx(s) expired behind a nonce gap", n);
        }
    }
    if (now_ms - self->regossiped_ms < NL_REGOSSIP_MS && now_ms >= self->regossiped_ms)
        return;
    self->regossiped_ms = now_ms;
    if (ledger_mempool_local_count(self->pool) == 0)
        return;
    ledger_txref_t *refs = malloc(NL_REGOSSIP_MAX * sizeof *refs);
    const uint8_t **txs = malloc(NL_REGOSSIP_MAX * sizeof *txs);
    size_t *lens = malloc(NL_REGOSSIP_MAX * sizeof *lens);
    size_t n = refs && txs && lens ? ledger_mempool_local(self->pool, refs, NL_REGOSSIP_MAX) : 0;
    for (size_t i = 0; i < n; i++) {
        txs[i] = refs[i].bytes;
        lens[i] = refs[i].len;
    }
    if (n) { /* the outbox copies them before the pool can change */
        nl_gossip_txs(self, txs, lens, n);
        self->st.txs_regossiped += n;
        GLOG(DEBUG, LEDGER, "offered %zu pending local tx(s) again", n);
    }
    free(refs);
    free(txs);
    free(lens);
}

/* ---------------------------------------------------------------- gossiped txs */

void nl_on_verdicts(void *ctx, const uint8_t *buf, size_t len, uint64_t waited_ms)
{
    node_ledger_t *self = ctx;
    nl_delay_add(&self->st.verifier, waited_ms);
    size_t off = 0, n, admitted = 0;
    int32_t rc;
    const uint8_t *p;
    while (node_ledger_recs_next(buf, len, &off, &rc, &p, &n)) {
        if (rc == LEDGER_OK) {
            admitted += nl_admit(self, p, n, true, NULL, NULL, 0) == LEDGER_OK;
        } else {
            self->st.txs_rejected++;
            GLOG(DEBUG, LEDGER, "gossiped tx refused: %s (%.*s)", proto_err_str(rc), (int)n,
                 (const char *)p);
        }
    }
    if (admitted)
        nl_pace_check(self);
}

void nl_on_gossip_txs(node_ledger_t *self, uint32_t kind, const uint8_t *data, size_t len)
{
    if (!self->verifier) { /* not started yet: check on the loop */
        node_ledger_recs_t out = {0};
        if (node_ledger_check_gossip(kind, data, len, self->chain_id, self->store, self->sigkeys,
                                     &out) == 0)
            nl_on_verdicts(self, out.buf, out.len, 0);
        node_ledger_recs_free(&out);
        return;
    }
    if (node_ledger_verifier_submit(self->verifier, kind, data, len) != 0) {
        self->st.txs_dropped_busy++;
        GLOG_RATELIMITED(DEBUG, LEDGER, "verifier busy: a gossiped %s dropped",
                         kind == PROTO_MSG_TX ? "tx" : "tx_batch");
    }
}
