/*  p2p_gossip: topics (the node-wide topic "" and rooms), forwarding, repair.
 *
 *  A gossip message is an envelope of type GOSSIP signed by its origin and relayed
 *  verbatim, so every relay can check the origin's signature and every node computes the
 *  same message id (the hash of the bytes). Forwarding goes only to linked peers that are
 *  members of the topic (every node is a member of ""): to all of them while there are at
 *  most flood_max, otherwise to a mesh of mesh_degree of them kept per topic. Every
 *  second a node advertises the ids it received lately (IHAVE) to the topic's peers that
 *  are not known to have them (each link remembers the ids it sent us as messages or in
 *  an IHAVE, and those we sent it or advertised to it: each id once per link, and again
 *  only in the whole-cache IHAVE every 10 s), which ask for what they missed (IWANT, once
 *  per id per second however many advertise it) and get the original bytes from the
 *  message cache: lost messages are repaired without any retransmission state.
 */
#include <string.h>

#include "p2p/p2p_core_int.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

#define P2P_KIND_ROOM_POST 1u

p2p_topic_t *p2p_topic_find(p2p_core_t *c, const char *name)
{
    for (size_t i = 0; i < P2P_MAX_TOPICS; i++)
        if (c->topics[i].used && strcmp(c->topics[i].name, name) == 0)
            return &c->topics[i];
    return NULL;
}

bool p2p_link_in_topic(const p2p_link_t *l, const char *topic)
{
    return topic[0] == '\0' || p2p_record_has_room(&l->rec, topic);
}

static bool s_in_mesh(const p2p_topic_t *t, const uint8_t id[static 32])
{
    for (size_t i = 0; i < t->n_mesh; i++)
        if (memcmp(t->mesh[i], id, 32) == 0)
            return true;
    return false;
}

static void s_mesh_remove(p2p_topic_t *t, const uint8_t id[static 32])
{
    for (size_t i = 0; i < t->n_mesh; i++) {
        if (memcmp(t->mesh[i], id, 32) == 0) {
            memmove(t->mesh[i], t->mesh[t->n_mesh - 1], 32);
            t->n_mesh--;
            return;
        }
    }
}

void p2p_gossip_link_gone(p2p_core_t *c, const uint8_t id[static 32])
{
    for (size_t i = 0; i < P2P_MAX_TOPICS; i++)
        if (c->topics[i].used)
            s_mesh_remove(&c->topics[i], id);
}

static size_t s_topic_links(p2p_core_t *c, const char *topic)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_links_cap; i++)
        n += c->links[i].used && c->links[i].hello_recv && p2p_link_in_topic(&c->links[i], topic);
    return n;
}

/* Drops mesh members that left; fills the mesh up to mesh_degree at random. */
static void s_mesh_refresh(p2p_core_t *c, p2p_topic_t *t)
{
    for (size_t i = 0; i < t->n_mesh;) {
        p2p_link_t *l = p2p_link_ready(c, t->mesh[i]);
        if (!l || !p2p_link_in_topic(l, t->name))
            s_mesh_remove(t, t->mesh[i]);
        else
            i++;
    }
    size_t want = c->p.mesh_degree < 16 ? c->p.mesh_degree : 16;
    size_t cand = s_topic_links(c, t->name);
    while (t->n_mesh < want && t->n_mesh < cand) {
        size_t pick = (size_t)(p2p_rand(c) % cand);
        for (size_t i = 0; i < c->n_links_cap; i++) {
            p2p_link_t *l = &c->links[i];
            if (!l->used || !l->hello_recv || !p2p_link_in_topic(l, t->name))
                continue;
            if (pick-- == 0) {
                if (!s_in_mesh(t, l->id))
                    memcpy(t->mesh[t->n_mesh++], l->id, 32);
                break;
            }
        }
    }
}

/* Sends RAW (message ID) to the topic's peers except EX1 and EX2 (may be NULL). */
static void s_forward(p2p_core_t *c, p2p_topic_t *t, const uint8_t *raw, size_t len,
                      const uint8_t id[static 32], const uint8_t *ex1, const uint8_t *ex2,
                      uint64_t now)
{
    bool flood = s_topic_links(c, t->name) <= c->p.flood_max;
    if (!flood && t->n_mesh < c->p.mesh_degree)
        s_mesh_refresh(c, t);
    for (size_t i = 0; i < c->n_links_cap; i++) {
        p2p_link_t *l = &c->links[i];
        if (!l->used || !l->hello_recv || !p2p_link_in_topic(l, t->name))
            continue;
        if ((ex1 && memcmp(l->id, ex1, 32) == 0) || (ex2 && memcmp(l->id, ex2, 32) == 0))
            continue;
        if (!flood && !s_in_mesh(t, l->id))
            continue;
        if (l->known && p2p_seen_has(l->known, id, now))
            continue; /* it sent or advertised this message to us */
        if (c->io.send(c->io.ctx, l->id, raw, len) && l->sent)
            p2p_seen_add(l->sent, id, now);
        c->st.msgs_out++;
        c->st.bytes_out += len;
    }
}

int p2p_gossip_publish(p2p_core_t *c, const char *topic, uint32_t kind, const uint8_t *data,
                       size_t len, uint64_t now)
{
    p2p_topic_t *t = p2p_topic_find(c, topic);
    if (!t || len > P2P_PAYLOAD_MAX)
        return !t ? P2P_E_NOT_MEMBER : P2P_E_TOO_BIG;
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, topic, kind, data, len);
    size_t body_len;
    const uint8_t *body = proto_wr_data(&w, &body_len);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    int rc = body ? proto_envelope_seal(c->key, PROTO_MSG_GOSSIP, ++c->seq, now, body, body_len,
                                        &raw, &raw_len)
                  : PROTO_E_NOMEM;
    proto_wr_free(&w);
    if (rc != PROTO_OK)
        return rc;
    uint8_t id[32];
    proto_envelope_id(raw, raw_len, id);
    p2p_seen_add(c->seen, id, now);
    p2p_mcache_put(c->mcache, id, topic, raw, raw_len, now);
    if (kind == P2P_KIND_ROOM_POST && c->io.on_deliver) {
        /* the poster sees its own post once, like every other member */
        c->io.on_deliver(c->io.ctx, topic, kind, c->id, data, len, now);
        c->st.delivered++;
    }
    s_forward(c, t, raw, raw_len, id, NULL, NULL, now);
    free(raw);
    return 0;
}

void p2p_gossip_on_msg(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env,
                       const uint8_t *raw, size_t raw_len, const uint8_t id[static 32],
                       uint64_t now)
{
    p2p_gossip_t g;
    if (p2p_msg_read_gossip(env->body, env->body_len, &g) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    if (memcmp(env->sender, c->id, 32) == 0)
        return; /* our own message came back */
    p2p_topic_t *t = p2p_topic_find(c, g.topic);
    if (!t)
        return; /* we left the room and the peer has not heard yet */
    if (g.topic[0] == '\0' && g.kind == P2P_KIND_RECORD) {
        p2p_record_t rec;
        if (p2p_msg_read_record(g.payload, g.payload_len, &rec) != PROTO_OK ||
            memcmp(rec.id, env->sender, 32) != 0) {
            p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
            return;
        }
        p2p_learn_record(c, &rec, now);
    } else if (g.topic[0] != '\0') {
        if (g.kind != P2P_KIND_ROOM_POST) {
            p2p_reject(c, from, from->id, P2P_RJ_PROTOCOL, now);
            return;
        }
        if (c->io.policy &&
            !c->io.policy(c->io.ctx, g.topic, env->sender, g.payload, g.payload_len)) {
            p2p_reject(c, from, env->sender, P2P_RJ_POLICY, now);
            return;
        }
    } else if (g.kind < P2P_KIND_USER_MIN) {
        p2p_reject(c, from, from->id, P2P_RJ_PROTOCOL, now);
        return;
    }
    p2p_mcache_put(c->mcache, id, g.topic, raw, raw_len, now);
    p2p_link_knows(from, id, now);
    if (g.kind != P2P_KIND_RECORD && c->io.on_deliver) {
        c->io.on_deliver(c->io.ctx, g.topic, g.kind, env->sender, g.payload, g.payload_len,
                         env->time_ms);
        c->st.delivered++;
    }
    s_forward(c, t, raw, raw_len, id, from ? from->id : NULL, env->sender, now);
}

void p2p_gossip_on_ihave(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now)
{
    p2p_ids_msg_t *m = (p2p_ids_msg_t *)&c->rx_records; /* scratch, large enough */
    _Static_assert(sizeof(p2p_ids_msg_t) <= sizeof(p2p_records_msg_t), "scratch too small");
    if (p2p_msg_read_ids(env->body, env->body_len, m) != PROTO_OK) {
        p2p_reject(c, from, from->id, P2P_RJ_BODY, now);
        return;
    }
    if (!p2p_topic_find(c, m->topic))
        return;
    /* Ask for what we have not seen and have not asked anyone for in the last
       P2P_WANT_RETRY_MS: several peers advertise the same message, one copy is enough. */
    size_t want = 0;
    for (size_t i = 0; i < m->n_ids; i++) {
        p2p_link_knows(from, m->ids[i], now);
        if (!p2p_seen_has(c->seen, m->ids[i], now) && p2p_seen_add(c->wanted, m->ids[i], now))
            memmove(m->ids[want++], m->ids[i], 32);
    }
    if (want == 0)
        return;
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_ids(&w, m->topic, (const uint8_t(*)[32])m->ids, want);
    p2p_send_wr(c, from->id, PROTO_MSG_IWANT, &w, now);
}

void p2p_gossip_on_iwant(p2p_core_t *c, p2p_link_t *from, const proto_envelope_t *env, uint64_t now)
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
        if (c->io.send(c->io.ctx, from->id, raw, len) && from->sent)
            p2p_seen_add(from->sent, m->ids[i], now);
        c->st.msgs_out++;
        c->st.bytes_out += len;
        c->st.iwant_served++;
    }
}

/* Seals an IHAVE of c->ihave_out[0..K) for TOPIC and hands it to the transport for LINK;
   true if the transport took it. */
static bool s_ihave_send(p2p_core_t *c, p2p_link_t *l, const char *topic, size_t k, uint64_t now)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_ids(&w, topic, (const uint8_t(*)[32])c->ihave_out, k);
    size_t body_len;
    const uint8_t *body = proto_wr_data(&w, &body_len);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    bool taken = false;
    if (body && proto_envelope_seal(c->key, PROTO_MSG_IHAVE, ++c->seq, now, body, body_len, &raw,
                                    &raw_len) == PROTO_OK) {
        taken = c->io.send(c->io.ctx, l->id, raw, raw_len);
        c->st.msgs_out++;
        c->st.bytes_out += raw_len;
    }
    free(raw);
    proto_wr_free(&w);
    return taken;
}

/* Sends LINK an IHAVE of those of IDS[0..N) it is not known to have. The per-second IHAVE
   (WHOLE false) also skips what the transport took for the link, the message itself or an
   earlier IHAVE naming it: on a stream transport that arrives unless the link breaks, so
   each id is advertised to a link once, and a link at rest gets no IHAVE at all. The
   whole-cache IHAVE (WHOLE) counts only what the link sent us as knowing, since what we
   sent may have been lost with a broken link: an id goes on being advertised there every
   whole round until the link sends it, advertises it or the cache drops it. */
static bool s_ihave_link(p2p_core_t *c, p2p_link_t *l, const char *topic, const uint8_t (*ids)[32],
                         size_t n, bool whole, uint64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((!l->known || !p2p_seen_has(l->known, ids[i], now)) &&
            (whole || !l->sent || !p2p_seen_has(l->sent, ids[i], now)))
            memcpy(c->ihave_out[k++], ids[i], 32);
    if (k == 0)
        return false;
    if (s_ihave_send(c, l, topic, k, now) && l->sent)
        for (size_t i = 0; i < k; i++)
            p2p_seen_add(l->sent, c->ihave_out[i], now); /* told: not again each second */
    return true;
}

void p2p_gossip_heartbeat(p2p_core_t *c, uint64_t now)
{
    uint8_t(*ids)[32] = ((p2p_ids_msg_t *)&c->rx_records)->ids;
    bool ihave = now >= c->last_ihave_ms + P2P_IHAVE_MS;
    uint64_t window = P2P_IHAVE_WINDOW_MS;
    bool whole = false;
    if (ihave)
        c->last_ihave_ms = now;
    if (ihave && now >= c->last_long_ihave_ms + P2P_LONG_IHAVE_MS) {
        whole = true;
        /* now and then advertise the whole cache, so a peer that was cut off for a while
           (a partition, a split room) recovers what it missed while the cache holds it */
        c->last_long_ihave_ms = now;
        window = c->p.mcache_ttl_ms;
    }
    for (size_t ti = 0; ti < P2P_MAX_TOPICS; ti++) {
        p2p_topic_t *t = &c->topics[ti];
        if (!t->used)
            continue;
        if (s_topic_links(c, t->name) > c->p.flood_max)
            s_mesh_refresh(c, t);
        if (!ihave)
            continue;
        /* A peer that sent us a message or advertised it is not told about it again. */
        size_t n = p2p_mcache_recent(c->mcache, t->name, now > window ? now - window : 0, now, ids,
                                     P2P_IDS_MAX);
        for (size_t i = 0; n && i < c->n_links_cap; i++) {
            p2p_link_t *l = &c->links[i];
            if (l->used && l->hello_recv && p2p_link_in_topic(l, t->name))
                (void)s_ihave_link(c, l, t->name, (const uint8_t(*)[32])ids, n, whole, now);
        }
    }
}

/* ---- public API: rooms and broadcast ---- */

int p2p_core_broadcast(p2p_core_t *c, uint32_t kind, const uint8_t *data, size_t len,
                       uint64_t now_ms)
{
    if (kind < P2P_KIND_USER_MIN)
        return P2P_E_KIND;
    return p2p_gossip_publish(c, "", kind, data, len, now_ms);
}

bool p2p_core_room_member(const p2p_core_t *c, const char *room)
{
    if (!room || !room[0])
        return false;
    for (size_t i = 1; i < P2P_MAX_TOPICS; i++)
        if (c->topics[i].used && strcmp(c->topics[i].name, room) == 0)
            return true;
    return false;
}

int p2p_core_room_join(p2p_core_t *c, const char *room, uint64_t now_ms)
{
    if (!p2p_room_name_ok(room))
        return P2P_E_ROOM_NAME;
    if (p2p_core_room_member(c, room))
        return 0;
    for (size_t i = 1; i < P2P_MAX_TOPICS; i++) {
        p2p_topic_t *t = &c->topics[i];
        if (t->used)
            continue;
        memset(t, 0, sizeof *t);
        t->used = true;
        snprintf(t->name, sizeof t->name, "%s", room);
        p2p_record_t *r = &c->self_rec;
        snprintf(r->rooms[r->n_rooms++], P2P_ROOM_NAME_MAX, "%s", room);
        p2p_self_record_update(c, now_ms);
        GLOG(INFO, NET, "joined room %s", room);
        return 0;
    }
    return P2P_E_TOO_MANY_ROOMS;
}

int p2p_core_room_leave(p2p_core_t *c, const char *room, uint64_t now_ms)
{
    if (!p2p_core_room_member(c, room))
        return P2P_E_NOT_MEMBER;
    p2p_topic_t *t = p2p_topic_find(c, room);
    t->used = false;
    p2p_record_t *r = &c->self_rec;
    for (size_t i = 0; i < r->n_rooms; i++) {
        if (strcmp(r->rooms[i], room) == 0) {
            memmove(r->rooms[i], r->rooms[r->n_rooms - 1], P2P_ROOM_NAME_MAX);
            r->n_rooms--;
            break;
        }
    }
    p2p_self_record_update(c, now_ms);
    GLOG(INFO, NET, "left room %s", room);
    return 0;
}

int p2p_core_room_post(p2p_core_t *c, const char *room, const uint8_t *data, size_t len,
                       uint64_t now_ms)
{
    if (!p2p_core_room_member(c, room))
        return P2P_E_NOT_MEMBER;
    return p2p_gossip_publish(c, room, P2P_KIND_ROOM_POST, data, len, now_ms);
}

size_t p2p_core_rooms(const p2p_core_t *c, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 1; i < P2P_MAX_TOPICS && n < max; i++)
        if (c->topics[i].used)
            names[n++] = c->topics[i].name;
    return n;
}
