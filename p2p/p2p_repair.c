/*  p2p_repair: IHAVE / IWANT, how a member gets the gossip messages it missed.
 *
 *  Forwarding (p2p_gossip.c) hands a message to the transport once per link it forwards
 *  to; a transport whose queue to a slow peer is full refuses it. So every second each
 *  link we forward a topic to (flood, or a mesh member) gets an IHAVE naming the topic's
 *  cached messages put since its previous round (p2p_mcache_after from the link's
 *  cursor, oldest first, at most P2P_IHAVE_SCAN a round, as many IHAVE messages of
 *  P2P_IDS_MAX ids as that takes) that the link is not known to have (it sent them to us
 *  or advertised them) and that the transport did not take for it (the message itself, or
 *  an earlier IHAVE naming it). A message refused on the way to a link is therefore
 *  advertised to it in the next round, however many messages came after it. A new link
 *  starts at the beginning of the cache, and every P2P_LONG_IHAVE_MS every link's cursor
 *  goes back there for a round, to every link in the topic (mesh or not), that skips only
 *  what the link is known to have: what the transport took may still have been lost
 *  (ZeroMQ drops a connection's queue when it reconnects under a live link), and a peer
 *  may have joined a room since.
 *
 *  The receiver queues the ids it has not seen (each once, with the first peer that named
 *  it) and asks for those that have not come P2P_WANT_GRACE_MS later (IWANT): under load
 *  an IHAVE often overtakes the message itself, queued on another link. An id that has
 *  not arrived P2P_WANT_RETRY_MS after it was asked for is asked for again (of the same
 *  peer while it is linked, else of another member of the topic), until it arrives or the
 *  cache time-to-live has passed, so an IWANT or an answer the transport refused is asked
 *  for again rather than lost.
 */
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core_int.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

/* Sends an IDS message of TYPE (IHAVE, IWANT) of IDS[0..K) for TOPIC to L; true if the
   transport took it. */
static bool s_ids_send(p2p_core_t *c, p2p_link_t *l, uint32_t type, const char *topic,
                       const uint8_t (*ids)[32], size_t k, uint64_t now)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_ids(&w, topic, ids, k);
    size_t body_len;
    const uint8_t *body = proto_wr_data(&w, &body_len);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    bool taken = false;
    if (body && proto_envelope_seal(c->key, type, ++c->seq, now, body, body_len, &raw, &raw_len) ==
                    PROTO_OK)
        taken = p2p_send_raw(c, l, l->id, raw, raw_len, now);
    free(raw);
    proto_wr_free(&w);
    return taken;
}

/* ---- receiving IHAVE: the want queue ---- */

static size_t s_topic_index(p2p_core_t *c, const char *name)
{
    p2p_topic_t *t = p2p_topic_find(c, name);
    return t ? (size_t)(t - c->topics) : P2P_MAX_TOPICS;
}

/* Room for one more want: the queue grows by doubling up to P2P_WANTS_MAX. */
static bool s_wants_room(p2p_core_t *c)
{
    if (c->n_wants < c->wants_cap)
        return true;
    if (c->wants_cap >= P2P_WANTS_MAX)
        return false;
    size_t cap = c->wants_cap ? 2 * c->wants_cap : 256;
    p2p_want_t *grown = realloc(c->wants, cap * sizeof *grown);
    if (!grown)
        return false;
    c->wants = grown;
    c->wants_cap = cap;
    return true;
}

void p2p_repair_on_ihave(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now)
{
    p2p_ids_msg_t *m = (p2p_ids_msg_t *)&c->rx_records; /* scratch, large enough */
    _Static_assert(sizeof(p2p_ids_msg_t) <= sizeof(p2p_records_msg_t), "scratch too small");
    if (p2p_msg_read_ids(env->body, env->body_len, m) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    size_t ti = s_topic_index(c, m->topic);
    if (ti == P2P_MAX_TOPICS)
        return;
    if (m->n_ids == 0) {
        p2p_gossip_on_graft(c, from, &c->topics[ti]); /* it picked us for its mesh */
        return;
    }
    /* Queue what we have not seen and have not queued in the last P2P_WANT_RETRY_MS:
       several peers advertise the same message, one copy is enough; s_wants_ask asks
       for it if it has not come P2P_WANT_GRACE_MS later (it is most often on its way
       over another link), and again every P2P_WANT_RETRY_MS. */
    for (size_t i = 0; i < m->n_ids; i++) {
        p2p_link_knows(from, m->ids[i], now);
        if (p2p_seen_has(c->seen, m->ids[i], now) || !s_wants_room(c) ||
            !p2p_seen_add(c->wanted, m->ids[i], now))
            continue; /* a full queue: the 10-second round names it again */
        p2p_want_t *w = &c->wants[c->n_wants++];
        memcpy(w->id, m->ids[i], 32);
        memcpy(w->peer, from->id, 32);
        w->topic = (uint8_t)ti;
        w->first_ms = now;
        w->due_ms = now + P2P_WANT_GRACE_MS;
        if (w->due_ms < c->wants_due_ms || c->n_wants == 1)
            c->wants_due_ms = w->due_ms;
    }
}

/* A ready link in topic TI, picked at random, or NULL. */
static p2p_link_t *s_other_member(p2p_core_t *c, size_t ti)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_links_cap; i++)
        n += c->links[i].used && c->links[i].hello_recv &&
             p2p_link_in_topic(&c->links[i], c->topics[ti].name);
    if (n == 0)
        return NULL;
    size_t pick = (size_t)(p2p_rand(c) % n);
    for (size_t i = 0; i < c->n_links_cap; i++) {
        p2p_link_t *l = &c->links[i];
        if (l->used && l->hello_recv && p2p_link_in_topic(l, c->topics[ti].name) && pick-- == 0)
            return l;
    }
    return NULL;
}

static int s_want_cmp(const void *a, const void *b)
{
    const p2p_want_t *x = a, *y = b;
    int d = memcmp(x->peer, y->peer, 32);
    return d ? d : (int)x->topic - (int)y->topic;
}

/* Asks for the queued ids that did not come: drops those that arrived or expired, and
   sends the due ones of each (link, topic) in IWANTs of up to P2P_IDS_MAX ids; each is
   due again P2P_WANT_RETRY_MS later. */
static void s_wants_ask(p2p_core_t *c, uint64_t now)
{
    if (c->n_wants == 0 || now < c->wants_due_ms)
        return;
    size_t due = 0;
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < c->n_wants;) {
        p2p_want_t *w = &c->wants[i];
        bool gone = p2p_seen_has(c->seen, w->id, now) || !c->topics[w->topic].used ||
                    now >= w->first_ms + c->p.mcache_ttl_ms;
        if (gone) {
            *w = c->wants[--c->n_wants];
            continue;
        }
        if (now >= w->due_ms) {
            p2p_link_t *l = p2p_link_ready(c, w->peer);
            if (!l || !p2p_link_in_topic(l, c->topics[w->topic].name))
                l = s_other_member(c, w->topic);
            if (l)
                memcpy(w->peer, l->id, 32);
            due += l != NULL;
        }
        i++;
    }
    if (due > 0) {
        /* the due ids of each (peer, topic) together: sorted, the queue is walked once */
        qsort(c->wants, c->n_wants, sizeof *c->wants, s_want_cmp);
        uint8_t(*ids)[32] = c->ihave_out;
        size_t k = 0;
        for (size_t i = 0; i < c->n_wants; i++) {
            p2p_want_t *w = &c->wants[i];
            if (now >= w->due_ms) {
                w->due_ms = now + P2P_WANT_RETRY_MS;
                memcpy(ids[k++], w->id, 32);
            }
            const p2p_want_t *nx = i + 1 < c->n_wants ? &c->wants[i + 1] : NULL;
            bool group_end = !nx || nx->topic != w->topic || memcmp(nx->peer, w->peer, 32) != 0;
            if (k == 0 || (k < P2P_IDS_MAX && !group_end))
                continue;
            p2p_link_t *l = p2p_link_ready(c, w->peer);
            if (l)
                (void)s_ids_send(c, l, PROTO_MSG_IWANT, c->topics[w->topic].name,
                                 (const uint8_t(*)[32])ids, k, now);
            k = 0;
        }
    }
    for (size_t i = 0; i < c->n_wants; i++)
        if (c->wants[i].due_ms < next)
            next = c->wants[i].due_ms;
    c->wants_due_ms = next;
}

/* ---- answering IWANT ---- */

void p2p_repair_on_iwant(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now)
{
    p2p_ids_msg_t *m = (p2p_ids_msg_t *)&c->rx_records;
    if (p2p_msg_read_ids(env->body, env->body_len, m) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    if (!p2p_link_in_topic(from, m->topic))
        return; /* only members get a room's messages */
    for (size_t i = 0; i < m->n_ids; i++) {
        size_t len;
        const uint8_t *raw = p2p_mcache_get(c->mcache, m->ids[i], now, &len);
        if (!raw)
            continue;
        /* a refused answer is asked for again by the peer's want queue */
        if (p2p_send_raw(c, from, from->id, raw, len, now) && from->sent)
            p2p_seen_add(from->sent, m->ids[i], now);
        c->st.iwant_served++;
    }
}

/* ---- sending IHAVE ---- */

/* One IHAVE round for link L over REFS[0..N) (put after its cursor, oldest first): for each
   topic L is in (unless WHOLE: that we forward to it), the ids it is not known to have and
   (unless WHOLE) was not sent, in IHAVEs of up to P2P_IDS_MAX. Returns the put number the
   cursor may move to: the last of REFS, or just before the first id of an IHAVE the
   transport refused (asked again next round). */
static uint64_t s_ihave_link(p2p_core_t *c, p2p_link_t *l, const p2p_mcache_ref_t *refs, size_t n,
                             bool whole, uint64_t now)
{
    uint64_t upto = refs[n - 1].seq;
    for (size_t ti = 0; ti < P2P_MAX_TOPICS; ti++) {
        p2p_topic_t *t = &c->topics[ti];
        if (!t->used || !p2p_link_in_topic(l, t->name) ||
            (!whole && !p2p_gossip_forwards_to(c, t, l)))
            continue;
        size_t k = 0;
        uint64_t first = 0;
        for (size_t i = 0; i < n; i++) {
            const bool last = i + 1 == n;
            if (strcmp(refs[i].topic, t->name) == 0 &&
                (!l->known || !p2p_seen_has(l->known, refs[i].id, now)) &&
                (whole || !l->sent || !p2p_seen_has(l->sent, refs[i].id, now))) {
                if (k == 0)
                    first = refs[i].seq;
                memcpy(c->ihave_out[k++], refs[i].id, 32);
            }
            if (k == 0 || (k < P2P_IDS_MAX && !last))
                continue;
            if (s_ids_send(c, l, PROTO_MSG_IHAVE, t->name, (const uint8_t(*)[32])c->ihave_out, k,
                           now)) {
                for (size_t j = 0; j < k && l->sent; j++)
                    p2p_seen_add(l->sent, c->ihave_out[j], now); /* told: not again */
            } else if (first - 1 < upto) {
                upto = first - 1;
            }
            k = 0;
        }
    }
    return upto;
}

void p2p_repair_tick(p2p_core_t *c, uint64_t now)
{
    s_wants_ask(c, now);
    if (now < c->last_ihave_ms + P2P_IHAVE_MS)
        return;
    c->last_ihave_ms = now;
    bool whole = now >= c->last_long_ihave_ms + P2P_LONG_IHAVE_MS;
    if (whole)
        c->last_long_ihave_ms = now;
    for (size_t i = 0; i < c->n_links_cap; i++) {
        p2p_link_t *l = &c->links[i];
        if (!l->used || !l->hello_recv)
            continue;
        if (whole)
            l->ihave_seq = 0;
        size_t n = p2p_mcache_after(c->mcache, l->ihave_seq, now, c->ihave_refs, P2P_IHAVE_SCAN);
        if (n > 0)
            l->ihave_seq = s_ihave_link(c, l, c->ihave_refs, n, whole, now);
    }
}
