/*  p2p_gossip: topics (the node-wide topic "" and rooms), forwarding, repair.
 *
 *  A gossip message is an envelope of type GOSSIP signed by its origin and relayed
 *  verbatim, so every relay can check the origin's signature and every node computes the
 *  same message id (the hash of the bytes). Forwarding goes only to linked peers that are
 *  members of the topic (every node is a member of ""): to all of them while there are at
 *  most flood_max, otherwise to the topic's mesh: the peers it picked (until the mesh has
 *  mesh_degree members), each told so by a graft (an IHAVE without ids), and the peers
 *  that picked it. A mesh edge thus carries messages both ways, and no member is left
 *  without a peer that forwards to it (with one-way picks, a node no one had picked got
 *  every message only through IHAVE, a second later). What a link
 *  did not get that way (a mesh skips it, or the transport refused the message) is
 *  advertised to it by IHAVE and fetched by IWANT from the message cache (p2p_repair.c).
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

static bool s_in_list(const uint8_t (*list)[32], size_t n, const uint8_t id[static 32])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(list[i], id, 32) == 0)
            return true;
    return false;
}

/* In the topic's mesh: picked by us or by it. */
static bool s_in_mesh(const p2p_topic_t *t, const uint8_t id[static 32])
{
    return s_in_list((const uint8_t(*)[32])t->mesh, t->n_mesh, id) ||
           s_in_list((const uint8_t(*)[32])t->grafted, t->n_grafted, id);
}

static void s_mesh_remove(p2p_topic_t *t, const uint8_t id_in[static 32])
{
    uint8_t id[32];
    memcpy(id, id_in, 32); /* ID_IN may be a slot this overwrites */
    for (size_t i = 0; i < t->n_mesh; i++) {
        if (memcmp(t->mesh[i], id, 32) == 0) {
            t->n_mesh--;
            memmove(t->mesh[i], t->mesh[t->n_mesh], 32);
            t->told[i] = t->told[t->n_mesh];
            break;
        }
    }
    for (size_t i = 0; i < t->n_grafted; i++) {
        if (memcmp(t->grafted[i], id, 32) == 0) {
            t->n_grafted--;
            memmove(t->grafted[i], t->grafted[t->n_grafted], 32);
            break;
        }
    }
}

void p2p_gossip_link_gone(p2p_core_t *c, const uint8_t id[static 32])
{
    for (size_t i = 0; i < P2P_MAX_TOPICS; i++)
        if (c->topics[i].used)
            s_mesh_remove(&c->topics[i], id);
}

void p2p_gossip_on_graft(p2p_core_t *c, p2p_link_t *from, p2p_topic_t *t)
{
    (void)c;
    if (!p2p_link_in_topic(from, t->name) ||
        s_in_list((const uint8_t(*)[32])t->grafted, t->n_grafted, from->id) ||
        t->n_grafted == sizeof t->grafted / sizeof t->grafted[0])
        return;
    memcpy(t->grafted[t->n_grafted++], from->id, 32);
}

/* Tells mesh member I of T that we picked it (an IHAVE without ids), until the transport
   takes it. */
static void s_graft_send(p2p_core_t *c, p2p_topic_t *t, size_t i, uint64_t now)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_ids(&w, t->name, NULL, 0);
    size_t body_len;
    const uint8_t *body = proto_wr_data(&w, &body_len);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    if (body && proto_envelope_seal(c->key, PROTO_MSG_IHAVE, ++c->seq, now, body, body_len, &raw,
                                    &raw_len) == PROTO_OK)
        t->told[i] = p2p_send_raw(c, p2p_link_find(c, t->mesh[i]), t->mesh[i], raw, raw_len, now);
    free(raw);
    proto_wr_free(&w);
}

static size_t s_topic_links(p2p_core_t *c, const char *topic)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_links_cap; i++)
        n += c->links[i].used && c->links[i].hello_recv && p2p_link_in_topic(&c->links[i], topic);
    return n;
}

/* Drops mesh members that left; while the mesh (ours and theirs) is smaller than
   mesh_degree, picks more at random and tells them; tells those not told yet. */
static void s_mesh_refresh(p2p_core_t *c, p2p_topic_t *t, uint64_t now)
{
    for (size_t i = 0; i < t->n_mesh;) {
        p2p_link_t *l = p2p_link_ready(c, t->mesh[i]);
        if (!l || !p2p_link_in_topic(l, t->name))
            s_mesh_remove(t, t->mesh[i]);
        else
            i++;
    }
    for (size_t i = 0; i < t->n_grafted;) {
        p2p_link_t *l = p2p_link_ready(c, t->grafted[i]);
        if (!l || !p2p_link_in_topic(l, t->name))
            s_mesh_remove(t, t->grafted[i]);
        else
            i++;
    }
    size_t want = c->p.mesh_degree < 16 ? c->p.mesh_degree : 16;
    size_t cand = s_topic_links(c, t->name);
    /* links in the topic that are in neither list */
    size_t size = t->n_mesh;
    for (size_t i = 0; i < t->n_grafted; i++)
        size += !s_in_list((const uint8_t(*)[32])t->mesh, t->n_mesh, t->grafted[i]);
    size_t free_links = cand > size ? cand - size : 0;
    while (size < want && free_links > 0 && t->n_mesh < 16) {
        size_t pick = (size_t)(p2p_rand(c) % free_links);
        for (size_t i = 0; i < c->n_links_cap; i++) {
            p2p_link_t *l = &c->links[i];
            if (!l->used || !l->hello_recv || !p2p_link_in_topic(l, t->name) || s_in_mesh(t, l->id))
                continue;
            if (pick-- == 0) {
                memcpy(t->mesh[t->n_mesh], l->id, 32);
                t->told[t->n_mesh++] = false;
                break;
            }
        }
        size++;
        free_links--;
    }
    for (size_t i = 0; i < t->n_mesh; i++)
        if (!t->told[i])
            s_graft_send(c, t, i, now);
}

bool p2p_gossip_forwards_to(p2p_core_t *c, p2p_topic_t *t, const p2p_link_t *l)
{
    return p2p_link_in_topic(l, t->name) &&
           (s_topic_links(c, t->name) <= c->p.flood_max || s_in_mesh(t, l->id));
}

/* Sends RAW (message ID) to the topic's peers except EX1 and EX2 (may be NULL). */
static void s_forward(p2p_core_t *c, p2p_topic_t *t, const uint8_t *raw, size_t len,
                      const uint8_t id[static 32], const uint8_t *ex1, const uint8_t *ex2,
                      uint64_t now)
{
    bool flood = s_topic_links(c, t->name) <= c->p.flood_max;
    if (!flood && t->n_mesh + t->n_grafted < c->p.mesh_degree)
        s_mesh_refresh(c, t, now);
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
        if (p2p_send_raw(c, l, l->id, raw, len, now) && l->sent)
            p2p_seen_add(l->sent, id, now);
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

void p2p_gossip_heartbeat(p2p_core_t *c, uint64_t now)
{
    for (size_t ti = 0; ti < P2P_MAX_TOPICS; ti++) {
        p2p_topic_t *t = &c->topics[ti];
        if (t->used && s_topic_links(c, t->name) > c->p.flood_max)
            s_mesh_refresh(c, t, now);
    }
    p2p_repair_tick(c, now);
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
