/*  node_ledger_check: check records and the checker (see node_ledger_check.h).
 */
#include "node/service/node_ledger_check.h"

#include <stdlib.h>
#include <string.h>

#include "proto/proto_err.h"
#include "proto/proto_msgtype.h"

typedef struct {
    int32_t rc;
    uint32_t len;
} s_rec_t;

int node_ledger_recs_add(node_ledger_recs_t *b, int32_t rc, const void *p, size_t n)
{
    size_t need = b->len + sizeof(s_rec_t) + n;
    if (need > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < need)
            c *= 2;
        uint8_t *nb = realloc(b->buf, c);
        if (!nb)
            return NODE_E_NOMEM;
        b->buf = nb;
        b->cap = c;
    }
    s_rec_t rec = {.rc = rc, .len = (uint32_t)n};
    memcpy(b->buf + b->len, &rec, sizeof rec);
    if (n)
        memcpy(b->buf + b->len + sizeof rec, p, n);
    b->len = need;
    return 0;
}

void node_ledger_checker_init(node_ledger_checker_t *c, node_ledger_recs_t *out,
                              const uint8_t chain_id[static 32], ledger_store_t *store,
                              proto_sigkeys_t *keys)
{
    c->keys = keys;
    c->out = out;
    c->chain_id = chain_id;
    c->store = store;
    c->n = 0;
}

int node_ledger_checker_refuse(node_ledger_checker_t *c, int32_t rc, const char *why)
{
    int frc = c->n == NODE_LEDGER_CHECK_CHUNK ? node_ledger_checker_flush(c) : 0;
    if (frc != 0)
        return frc;
    c->item[c->n].tx = (const uint8_t *)why;
    c->item[c->n].len = strlen(why);
    c->item[c->n++].rc = rc;
    return 0;
}

int node_ledger_checker_add(node_ledger_checker_t *c, const uint8_t *tx, size_t len)
{
    int frc = c->n == NODE_LEDGER_CHECK_CHUNK ? node_ledger_checker_flush(c) : 0;
    if (frc != 0)
        return frc;
    c->item[c->n].tx = tx;
    c->item[c->n].len = len;
    c->item[c->n++].rc = LEDGER_OK;
    return 0;
}

int node_ledger_checker_flush(node_ledger_checker_t *c)
{
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->item[i].rc == LEDGER_OK) {
            c->txs[m] = c->item[i].tx;
            c->lens[m++] = c->item[i].len;
        }
    int rc =
        m ? ledger_admit_check(c->txs, c->lens, m, c->chain_id, c->store, c->keys, NULL, c->verdict)
          : LEDGER_OK;
    if (rc != LEDGER_OK)
        return rc;
    size_t j = 0;
    for (size_t i = 0; i < c->n && rc == 0; i++) {
        const node_ledger_check_item_t *it = &c->item[i];
        if (it->rc != LEDGER_OK) {
            rc = node_ledger_recs_add(c->out, it->rc, it->tx, it->len);
            continue;
        }
        const ledger_admit_verdict_t *v = &c->verdict[j++];
        rc = v->rc == LEDGER_OK ? node_ledger_recs_add(c->out, LEDGER_OK, it->tx, it->len)
                                : node_ledger_recs_add(c->out, v->rc, v->why, strlen(v->why));
    }
    c->n = 0;
    return rc;
}

bool node_ledger_recs_next(const uint8_t *buf, size_t len, size_t *off, int32_t *rc,
                           const uint8_t **p, size_t *n)
{
    s_rec_t rec;
    if (!buf || *off + sizeof rec > len)
        return false;
    memcpy(&rec, buf + *off, sizeof rec);
    if (rec.len > len - *off - sizeof rec)
        return false;
    *rc = rec.rc;
    *p = buf + *off + sizeof rec;
    *n = rec.len;
    *off += sizeof rec + rec.len;
    return true;
}

void node_ledger_recs_free(node_ledger_recs_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

static int s_visit(void *ctx, const uint8_t *tx, size_t len)
{
    return node_ledger_checker_add(ctx, tx, len) == 0 ? 0 : 1;
}

int node_ledger_check_gossip(uint32_t kind, const uint8_t *data, size_t len,
                             const uint8_t chain_id[static 32], ledger_store_t *store,
                             proto_sigkeys_t *keys, node_ledger_recs_t *out)
{
    static const char bad[] = "malformed tx_batch";
    node_ledger_checker_t *c = malloc(sizeof *c);
    if (!c)
        return NODE_E_NOMEM;
    node_ledger_checker_init(c, out, chain_id, store, keys);
    int rc = kind == PROTO_MSG_TX
                 ? (node_ledger_checker_add(c, data, len) == 0 ? PROTO_OK : 1)
                 : ledger_tx_batch_each(data, len, LEDGER_TX_BATCH_MAX, s_visit, c);
    if (rc == PROTO_OK)
        rc = node_ledger_checker_flush(c);
    else if (rc == 1) /* memory ran out */
        rc = NODE_E_NOMEM;
    else /* the batch does not decode (checked whole before any tx): nothing was added */
        rc = node_ledger_recs_add(out, LEDGER_E_MALFORMED, bad, sizeof bad - 1);
    free(c);
    return rc;
}
