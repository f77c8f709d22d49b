/*  p2p_lookup: Kademlia iterative lookup and acknowledged unicast.
 *
 *  A lookup keeps a shortlist of the P2P_SHORTLIST closest candidates by XOR distance to
 *  the target and queries the closest unqueried ones, at most P2P_LOOKUP_ALPHA at a
 *  time, dialing those we have no link with (such links are transient and pruned when
 *  idle). It ends when a verified record of the target itself arrives, or when no
 *  candidate is left to ask. Unicast resolves the destination (link, then table, then
 *  lookup), sends, and retries until the destination acknowledges; the destination
 *  deduplicates by (sender, msg_id) and always acknowledges.
 */
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core_int.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

#define LOOKUP_TOTAL_FACTOR 5
#define UNICAST_DEADLINE_MS 20000u
#define UNICAST_RESOLVES 3

static void s_unicast_resolved(p2p_core_t *c, uint64_t send_id, const char *endpoint, uint64_t now);

/* ---- lookups ---- */

static void s_lookup_finish(p2p_core_t *c, p2p_lookup_t *lk, const char *endpoint, uint64_t now)
{
    uint64_t id = lk->id, send_id = lk->send_id;
    uint8_t target[32];
    memcpy(target, lk->target, 32);
    lk->used = false;
    if (send_id)
        s_unicast_resolved(c, send_id, endpoint, now);
    else if (c->io.on_lookup_done)
        c->io.on_lookup_done(c->io.ctx, id, target, endpoint);
}

/* Inserts a candidate keeping the shortlist sorted by distance; drops the farthest. */
static void s_cand_insert(p2p_lookup_t *lk, const uint8_t id[static 32], const char *endpoint)
{
    for (size_t i = 0; i < lk->n_cands; i++)
        if (memcmp(lk->cands[i].id, id, 32) == 0)
            return;
    size_t pos = lk->n_cands;
    while (pos > 0 && p2p_xor_cmp(lk->target, id, lk->cands[pos - 1].id) < 0)
        pos--;
    if (pos >= P2P_SHORTLIST)
        return;
    size_t last = lk->n_cands < P2P_SHORTLIST ? lk->n_cands : P2P_SHORTLIST - 1;
    memmove(&lk->cands[pos + 1], &lk->cands[pos], (last - pos) * sizeof lk->cands[0]);
    p2p_cand_t *cd = &lk->cands[pos];
    memset(cd, 0, sizeof *cd);
    memcpy(cd->id, id, 32);
    snprintf(cd->endpoint, sizeof cd->endpoint, "%s", endpoint);
    if (lk->n_cands < P2P_SHORTLIST)
        lk->n_cands++;
}

static void s_query(p2p_core_t *c, p2p_cand_t *cd, const uint8_t target[static 32], uint64_t now)
{
    p2p_find_node_t q;
    q.req_id = c->next_req++;
    memcpy(q.target, target, 32);
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_find_node(&w, &q);
    p2p_send_wr(c, cd->id, PROTO_MSG_FIND_NODE, &w, now);
    cd->state = LK_QUERIED;
    cd->req_id = q.req_id;
    cd->sent_ms = now;
}

static void s_lookup_step(p2p_core_t *c, p2p_lookup_t *lk, uint64_t now)
{
    size_t inflight = 0;
    for (size_t i = 0; i < lk->n_cands; i++)
        inflight += lk->cands[i].state == LK_DIALING || lk->cands[i].state == LK_QUERIED;
    for (size_t i = 0; i < lk->n_cands && inflight < P2P_LOOKUP_ALPHA; i++) {
        p2p_cand_t *cd = &lk->cands[i];
        if (cd->state != LK_NEW)
            continue;
        p2p_link_t *l = p2p_link_find(c, cd->id);
        if (l && l->hello_recv) {
            s_query(c, cd, lk->target, now);
        } else if (l) {
            cd->state = LK_DIALING; /* a link is being opened already */
            cd->sent_ms = now;
        } else if (cd->endpoint[0] && p2p_link_dial(c, cd->id, cd->endpoint, true, now)) {
            cd->state = LK_DIALING;
            cd->sent_ms = now;
        } else {
            cd->state = LK_FAILED;
            continue;
        }
        inflight++;
    }
    if (inflight == 0)
        s_lookup_finish(c, lk, NULL, now);
}

static uint64_t s_lookup_start(p2p_core_t *c, const uint8_t target[static 32], uint64_t send_id,
                               uint64_t now)
{
    p2p_lookup_t *lk = NULL;
    for (size_t i = 0; i < P2P_MAX_LOOKUPS && !lk; i++)
        if (!c->lookups[i].used)
            lk = &c->lookups[i];
    if (!lk)
        return 0;
    memset(lk, 0, sizeof *lk);
    lk->used = true;
    lk->id = c->next_lookup_id++;
    lk->send_id = send_id;
    memcpy(lk->target, target, 32);
    lk->started_ms = now;
    uint64_t id = lk->id;
    if (memcmp(target, c->id, 32) == 0) {
        s_lookup_finish(c, lk, c->self_rec.n_endpoints ? c->self_rec.endpoints[0] : NULL, now);
        return id;
    }
    p2p_entry_t *e = p2p_table_get(c->table, target);
    if (e && e->rec.n_endpoints && e->rec.expiry_ms > now) {
        char ep[P2P_ENDPOINT_MAX];
        memcpy(ep, e->rec.endpoints[0], sizeof ep);
        s_lookup_finish(c, lk, ep, now);
        return id;
    }
    p2p_entry_t *close[P2P_BUCKET_K];
    size_t n = p2p_table_closest(c->table, target, now, close, P2P_BUCKET_K);
    for (size_t i = 0; i < n; i++)
        s_cand_insert(lk, close[i]->rec.id,
                      close[i]->rec.n_endpoints ? close[i]->rec.endpoints[0] : "");
    /* Links still in their handshake (a seed just dialed) are not in the table yet: ask
       them as soon as they are up rather than give up with nobody to ask. */
    for (size_t i = 0; i < c->n_links_cap; i++) {
        p2p_link_t *l = &c->links[i];
        if (!l->used || l->hello_recv)
            continue;
        s_cand_insert(lk, l->id, "");
        for (size_t k = 0; k < lk->n_cands; k++)
            if (memcmp(lk->cands[k].id, l->id, 32) == 0 && lk->cands[k].state == LK_NEW) {
                lk->cands[k].state = LK_DIALING;
                lk->cands[k].sent_ms = now;
            }
    }
    s_lookup_step(c, lk, now);
    return id;
}

uint64_t p2p_core_lookup(p2p_core_t *c, const uint8_t target[static 32], uint64_t now_ms)
{
    return s_lookup_start(c, target, 0, now_ms);
}

void p2p_lookup_on_find_node(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env,
                             uint64_t now)
{
    p2p_find_node_t q;
    if (p2p_msg_read_find_node(env->body, env->body_len, &q) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    const p2p_record_t *recs[P2P_NODES_MAX];
    size_t n = 0;
    if (memcmp(q.target, c->id, 32) == 0)
        recs[n++] = &c->self_rec;
    p2p_entry_t *close[P2P_NODES_MAX];
    size_t m = p2p_table_closest(c->table, q.target, now, close, P2P_NODES_MAX - n);
    for (size_t i = 0; i < m; i++)
        if (close[i]->rec.expiry_ms > now)
            recs[n++] = &close[i]->rec;
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_records(&w, true, q.req_id, recs, n);
    p2p_send_wr(c, from->id, PROTO_MSG_NODES, &w, now);
}

void p2p_lookup_on_nodes(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now)
{
    p2p_records_msg_t *m = &c->rx_records;
    if (p2p_msg_read_records(env->body, env->body_len, true, m) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    p2p_lookup_t *lk = NULL;
    for (size_t i = 0; i < P2P_MAX_LOOKUPS && !lk; i++) {
        p2p_lookup_t *x = &c->lookups[i];
        if (!x->used)
            continue;
        for (size_t k = 0; k < x->n_cands; k++) {
            p2p_cand_t *cd = &x->cands[k];
            if (cd->state == LK_QUERIED && cd->req_id == m->req_id &&
                memcmp(cd->id, from->id, 32) == 0) {
                cd->state = LK_DONE;
                lk = x;
                break;
            }
        }
    }
    if (!lk) {
        /* late answer: still useful knowledge */
        for (size_t i = 0; i < m->n_records; i++)
            p2p_learn_record(c, &m->records[i], now);
        return;
    }
    for (size_t i = 0; i < m->n_records; i++) {
        const p2p_record_t *r = &m->records[i];
        if (!p2p_learn_record(c, r, now) && memcmp(r->id, c->id, 32) != 0)
            continue;
        if (memcmp(r->id, lk->target, 32) == 0 && r->n_endpoints) {
            s_lookup_finish(c, lk, r->endpoints[0], now);
            return;
        }
        if (memcmp(r->id, c->id, 32) != 0)
            s_cand_insert(lk, r->id, r->n_endpoints ? r->endpoints[0] : "");
    }
    s_lookup_step(c, lk, now);
}

void p2p_lookup_link_ready(p2p_core_t *c, const uint8_t id[static 32], uint64_t now)
{
    for (size_t i = 0; i < P2P_MAX_LOOKUPS; i++) {
        p2p_lookup_t *lk = &c->lookups[i];
        if (!lk->used)
            continue;
        for (size_t k = 0; k < lk->n_cands; k++)
            if (lk->cands[k].state == LK_DIALING && memcmp(lk->cands[k].id, id, 32) == 0)
                s_query(c, &lk->cands[k], lk->target, now);
    }
    for (p2p_unicast_pending_t *p = c->unicasts; p; p = p->next) {
        if (memcmp(p->dest, id, 32) == 0 && p->resolving) {
            p->resolving = false;
            p->next_ms = now; /* send on this tick */
        }
    }
}

void p2p_lookup_link_failed(p2p_core_t *c, const uint8_t id[static 32], uint64_t now)
{
    for (size_t i = 0; i < P2P_MAX_LOOKUPS; i++) {
        p2p_lookup_t *lk = &c->lookups[i];
        if (!lk->used)
            continue;
        bool changed = false;
        for (size_t k = 0; k < lk->n_cands; k++) {
            p2p_cand_t *cd = &lk->cands[k];
            if ((cd->state == LK_DIALING || cd->state == LK_QUERIED) &&
                memcmp(cd->id, id, 32) == 0) {
                cd->state = LK_FAILED;
                changed = true;
            }
        }
        if (changed)
            s_lookup_step(c, lk, now);
    }
    for (p2p_unicast_pending_t *p = c->unicasts; p; p = p->next)
        if (memcmp(p->dest, id, 32) == 0)
            p->resolving = false;
}

/* ---- unicast ---- */

static void s_unicast_free(p2p_core_t *c, p2p_unicast_pending_t *p, int status, const char *why)
{
    p2p_unicast_pending_t **pp = &c->unicasts;
    while (*pp && *pp != p)
        pp = &(*pp)->next;
    if (*pp)
        *pp = p->next;
    c->n_unicasts--;
    c->unicast_bytes -= p->len;
    uint64_t send_id = p->send_id;
    free(p->payload);
    free(p);
    if (c->io.on_send_done)
        c->io.on_send_done(c->io.ctx, send_id, status, why);
}

static p2p_unicast_pending_t *s_unicast_find(p2p_core_t *c, uint64_t send_id)
{
    for (p2p_unicast_pending_t *p = c->unicasts; p; p = p->next)
        if (p->send_id == send_id)
            return p;
    return NULL;
}

static void s_unicast_transmit(p2p_core_t *c, p2p_unicast_pending_t *p, p2p_link_t *l, uint64_t now)
{
    p2p_unicast_t u;
    memcpy(u.dest, p->dest, 32);
    u.msg_id = p->msg_id;
    u.kind = p->kind;
    u.payload = p->payload;
    u.payload_len = p->len;
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_unicast(&w, &u);
    p2p_send_wr(c, p->dest, PROTO_MSG_UNICAST, &w, now);
    p->tries++;
    p->next_ms = now + c->p.send_retry_ms;
    l->last_use_ms = now;
}

/* Moves P forward: transmit over a link, or open one, or look the destination up. */
static void s_unicast_drive(p2p_core_t *c, p2p_unicast_pending_t *p, uint64_t now)
{
    p2p_link_t *l = p2p_link_find(c, p->dest);
    if (l && l->hello_recv) {
        if (now >= p->next_ms) {
            if (p->tries >= P2P_SEND_TRIES)
                s_unicast_free(c, p, -1, "no acknowledgement from the destination");
            else
                s_unicast_transmit(c, p, l, now);
        }
        return;
    }
    if (l || p->resolving || now < p->next_ms)
        return; /* a dial or lookup is under way, or the last one failed just now */
    if (p->resolves >= UNICAST_RESOLVES) {
        s_unicast_free(c, p, -1, "cannot reach the destination");
        return;
    }
    p->resolves++;
    p->resolving = true;
    p2p_entry_t *e = p2p_table_get(c->table, p->dest);
    if (e && e->rec.n_endpoints && p->resolves == 1) {
        char ep[P2P_ENDPOINT_MAX];
        memcpy(ep, e->rec.endpoints[0], sizeof ep);
        if (p2p_link_dial(c, p->dest, ep, true, now))
            return;
    }
    /* A lookup may finish at once and settle (free) P: do not touch P after it started. */
    uint8_t dest[32];
    memcpy(dest, p->dest, 32);
    if (!s_lookup_start(c, dest, p->send_id, now))
        p->resolving = false; /* no lookup slot now: try again next tick */
}

static void s_unicast_resolved(p2p_core_t *c, uint64_t send_id, const char *endpoint, uint64_t now)
{
    p2p_unicast_pending_t *p = s_unicast_find(c, send_id);
    if (!p)
        return;
    if (!endpoint) {
        if (p->resolves >= UNICAST_RESOLVES) {
            s_unicast_free(c, p, -1, "node not found");
        } else { /* the network may still be forming: ask again a little later */
            p->resolving = false;
            p->next_ms = now + c->p.send_retry_ms;
        }
        return;
    }
    if (!p2p_link_find(c, p->dest) && !p2p_link_dial(c, p->dest, endpoint, true, now))
        p->resolving = false;
}

uint64_t p2p_core_send(p2p_core_t *c, const uint8_t dest[static 32], uint32_t kind,
                       const uint8_t *data, size_t len, uint64_t now_ms)
{
    if (kind < P2P_KIND_USER_MIN || len > P2P_UNICAST_MAX || memcmp(dest, c->id, 32) == 0 ||
        c->n_unicasts >= c->p.max_queued_unicast ||
        c->unicast_bytes + len > P2P_UNICAST_QUEUE_BYTES)
        return 0;
    p2p_unicast_pending_t *p = calloc(1, sizeof *p);
    if (!p)
        return 0;
    p->payload = malloc(len ? len : 1);
    if (!p->payload) {
        free(p);
        return 0;
    }
    if (len)
        memcpy(p->payload, data, len);
    p->len = len;
    p->kind = kind;
    memcpy(p->dest, dest, 32);
    p->send_id = c->next_send_id++;
    do /* 0 is the unacknowledged unicast's */
        p->msg_id = p2p_rand(c);
    while (p->msg_id == 0);
    p->deadline_ms = now_ms + UNICAST_DEADLINE_MS;
    p->next_ms = now_ms;
    p->next = c->unicasts;
    c->unicasts = p;
    c->n_unicasts++;
    c->unicast_bytes += len;
    uint64_t id = p->send_id;
    s_unicast_drive(c, p, now_ms);
    return id;
}

bool p2p_core_send_once(p2p_core_t *c, const uint8_t dest[static 32], uint32_t kind,
                        const uint8_t *data, size_t len, uint64_t now_ms)
{
    if (kind < P2P_KIND_USER_MIN || len > P2P_UNICAST_MAX || !p2p_link_ready(c, dest))
        return false;
    p2p_unicast_t u = {.msg_id = 0, .kind = kind, .payload = data, .payload_len = len};
    memcpy(u.dest, dest, 32);
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_unicast(&w, &u);
    return p2p_send_wr(c, dest, PROTO_MSG_UNICAST, &w, now_ms) == 0;
}

void p2p_unicast_on_msg(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now)
{
    p2p_unicast_t u;
    if (p2p_msg_read_unicast(env->body, env->body_len, &u) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    if (memcmp(u.dest, c->id, 32) != 0) {
        p2p_reject(c, from, from->id, P2P_RJ_PROTOCOL, now);
        return;
    }
    from->last_use_ms = now;
    if (u.msg_id == 0) { /* unacknowledged: delivered as it comes */
        if (c->io.on_unicast)
            c->io.on_unicast(c->io.ctx, env->sender, u.kind, u.payload, u.payload_len);
        return;
    }
    uint8_t key[40], dedup[32];
    memcpy(key, env->sender, 32);
    for (int i = 0; i < 8; i++)
        key[32 + i] = (uint8_t)(u.msg_id >> (8 * i));
    proto_hash("genie/unicast-dedup/v1", key, sizeof key, dedup);
    bool fresh = p2p_seen_add(c->seen, dedup, now);
    from->last_use_ms = now;
    if (c->n_acks == P2P_ACKS_MAX)
        p2p_core_flush_acks(c, now);
    memcpy(c->acks[c->n_acks].to, from->id, 32);
    c->acks[c->n_acks++].msg_id = u.msg_id; /* after what the message asks for */
    if (fresh && c->io.on_unicast)
        c->io.on_unicast(c->io.ctx, env->sender, u.kind, u.payload, u.payload_len);
}

size_t p2p_core_acks_pending(const p2p_core_t *c)
{
    return c ? c->n_acks : 0;
}

void p2p_core_flush_acks(p2p_core_t *c, uint64_t now)
{
    if (!c)
        return;
    size_t n = c->n_acks;
    c->n_acks = 0; /* a send that re-enters (a link refused, dropped) sees an empty queue */
    for (size_t i = 0; i < n; i++) {
        proto_wr_t w;
        proto_wr_init(&w);
        p2p_msg_write_u64(&w, c->acks[i].msg_id);
        p2p_send_wr(c, c->acks[i].to, PROTO_MSG_ACK, &w, now);
    }
}

void p2p_unicast_on_ack(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now)
{
    uint64_t msg_id;
    if (p2p_msg_read_u64(env->body, env->body_len, &msg_id) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    for (p2p_unicast_pending_t *p = c->unicasts; p; p = p->next) {
        if (p->msg_id == msg_id && memcmp(p->dest, from->id, 32) == 0) {
            s_unicast_free(c, p, 0, NULL);
            return;
        }
    }
}

void p2p_lookup_tick(p2p_core_t *c, uint64_t now)
{
    for (size_t i = 0; i < P2P_MAX_LOOKUPS; i++) {
        p2p_lookup_t *lk = &c->lookups[i];
        if (!lk->used)
            continue;
        if (now > lk->started_ms + LOOKUP_TOTAL_FACTOR * c->p.lookup_timeout_ms) {
            s_lookup_finish(c, lk, NULL, now);
            continue;
        }
        bool changed = false;
        for (size_t k = 0; k < lk->n_cands; k++) {
            p2p_cand_t *cd = &lk->cands[k];
            if ((cd->state == LK_DIALING || cd->state == LK_QUERIED) &&
                now > cd->sent_ms + c->p.lookup_timeout_ms) {
                cd->state = LK_FAILED;
                changed = true;
            }
        }
        if (changed)
            s_lookup_step(c, lk, now);
    }
    p2p_unicast_pending_t *p = c->unicasts;
    while (p) {
        p2p_unicast_pending_t *next = p->next;
        if (now >= p->deadline_ms)
            s_unicast_free(c, p, -1, "timed out");
        else
            s_unicast_drive(c, p, now);
        p = next;
    }
}

void p2p_lookup_free_all(p2p_core_t *c)
{
    while (c->unicasts) {
        p2p_unicast_pending_t *p = c->unicasts;
        c->unicasts = p->next;
        free(p->payload);
        free(p);
    }
    c->n_unicasts = 0;
    c->unicast_bytes = 0;
}
