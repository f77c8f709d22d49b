/*  p2p_upkeep: the core's timers: link liveness (ping, expiry, score recovery, HELLO
 *  retransmission, pruning of idle transient links), seeds, degree and room upkeep, overlay
 *  rotation, periodic peer exchange, record refresh, and the peer listing and counters.
 *  Part of the sans-IO core (see p2p_core.h); shares p2p_core_int.h.
 */
#include <string.h>

#include "p2p/p2p_core_int.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

#define PEERS_EVERY_MS 10000u

/* ---- timers ---- */

static void s_maintain_links(p2p_core_t *c, uint64_t now)
{
    for (size_t i = 0; i < c->n_links_cap; i++) {
        p2p_link_t *l = &c->links[i];
        if (!l->used)
            continue;
        /* score recovers by one point per second */
        if (l->score < 0 && now >= l->score_ms + 1000) {
            l->score += (int32_t)((now - l->score_ms) / 1000);
            if (l->score > 0)
                l->score = 0;
            l->score_ms = now;
            p2p_entry_t *se = p2p_table_get(c->table, l->id);
            if (se)
                se->score = l->score;
        } else if (l->score >= 0) {
            l->score_ms = now;
        }
        if (!l->hello_recv) {
            if (now > l->opened_ms + c->p.hello_timeout_ms)
                p2p_link_close(c, l, now, true);
            else if (l->outbound && now >= l->last_hello_ms + P2P_HELLO_RESEND_MS)
                p2p_send_hello(c, l->id, false, now); /* the first one may have been lost */
            continue;
        }
        if (now > l->last_recv_ms + c->p.expire_after_ms) {
            char s[9];
            p2p_short_id(l->id, s);
            GLOG_LIMITED(&c->lim.link_down, now, INFO, NET, "link down with %s: silent for %llu ms",
                         s, (unsigned long long)(now - l->last_recv_ms));
            p2p_link_close(c, l, now, true);
            continue;
        }
        if (now > l->last_recv_ms + c->p.ping_after_ms &&
            now > l->last_ping_ms + c->p.ping_after_ms) {
            l->last_ping_ms = now;
            proto_wr_t w;
            proto_wr_init(&w);
            p2p_msg_write_u64(&w, p2p_rand(c));
            p2p_send_wr(c, l->id, PROTO_MSG_PING, &w, now);
        }
        if (l->transient && now > l->last_use_ms + 30000 &&
            p2p_link_count_ready(c) > c->p.target_degree) {
            p2p_send_bye(c, l->id, "idle", now);
            p2p_link_close(c, l, now, false);
        }
    }
}

/* Dials one random dialable table entry matching ROOM (NULL: any). True if dialed. */
static bool s_dial_random(p2p_core_t *c, const char *room, uint64_t now)
{
    size_t count = p2p_table_count(c->table);
    if (count == 0)
        return false;
    size_t start = (size_t)(p2p_rand(c) % count);
    for (size_t k = 0; k < count; k++) {
        p2p_entry_t *e = p2p_table_at(c->table, (start + k) % count);
        if (e->linked || e->next_dial_ms > now || e->banned_until_ms > now ||
            e->rec.n_endpoints == 0 || e->rec.expiry_ms <= now || p2p_link_find(c, e->rec.id))
            continue;
        if (room && !p2p_record_has_room(&e->rec, room))
            continue;
        uint8_t id[32];
        char ep[P2P_ENDPOINT_MAX];
        memcpy(id, e->rec.id, 32);
        memcpy(ep, e->rec.endpoints[0], sizeof ep);
        /* back off before the attempt, so a silent failure also spaces retries out */
        e->next_dial_ms = now + c->p.hello_timeout_ms;
        return p2p_link_dial(c, id, ep, false, now) != NULL;
    }
    return false;
}

/* Seeds are dialed until their record is in the table; from then on the table's own
   dialing and backoff take over. */
static void s_maintain_seeds(p2p_core_t *c, uint64_t now)
{
    for (size_t i = 0; i < P2P_MAX_SEEDS; i++) {
        p2p_seed_t *sd = &c->seeds[i];
        if (!sd->used || now < sd->next_ms)
            continue;
        if (p2p_table_get(c->table, sd->id)) {
            sd->used = false;
            continue;
        }
        sd->fails++;
        uint64_t backoff = 1000ull << (sd->fails < 6 ? sd->fails : 6);
        if (backoff > c->p.backoff_max_ms)
            backoff = c->p.backoff_max_ms;
        sd->next_ms = now + c->p.hello_timeout_ms + backoff;
        if (!p2p_link_find(c, sd->id))
            p2p_link_dial(c, sd->id, sd->endpoint, false, now);
    }
}

/* Now and then dial one more known peer, and drop one outbound link when well above the
   target degree: the overlay keeps changing, so two halves that lost each other in a
   partition (each happy with its own degree) meet again once the network heals. */
static void s_rotate(p2p_core_t *c, uint64_t now)
{
    if (now < c->next_rotate_ms)
        return;
    c->next_rotate_ms = now + P2P_ROTATE_MS / 2 + p2p_rand(c) % P2P_ROTATE_MS;
    size_t links = p2p_link_count_regular(c);
    if (links < c->p.max_links)
        s_dial_random(c, NULL, now);
    for (size_t t = 1; t < P2P_MAX_TOPICS; t++)
        if (c->topics[t].used && p2p_link_count_regular(c) < c->p.max_links)
            s_dial_random(c, c->topics[t].name, now); /* rooms rotate too */
    if (links <= c->p.target_degree + 2)
        return;
    size_t pick = (size_t)(p2p_rand(c) % c->n_links_cap);
    for (size_t k = 0; k < c->n_links_cap; k++) {
        p2p_link_t *l = &c->links[(pick + k) % c->n_links_cap];
        if (!l->used || !l->hello_recv || !l->outbound || l->transient || l->rec.n_rooms)
            continue; /* keep links to room members: rooms are sparser than the overlay */
        p2p_send_bye(c, l->id, "rotating", now);
        p2p_link_close(c, l, now, false);
        return;
    }
}

static void s_maintain_degree(p2p_core_t *c, uint64_t now)
{
    s_maintain_seeds(c, now);
    s_rotate(c, now);
    size_t links = p2p_link_count_regular(c);
    for (int tries = 0; tries < 2 && links < c->p.target_degree; tries++)
        if (s_dial_random(c, NULL, now))
            links++;
    for (size_t t = 1; t < P2P_MAX_TOPICS; t++) {
        p2p_topic_t *tp = &c->topics[t];
        if (!tp->used)
            continue;
        size_t members = 0;
        for (size_t i = 0; i < c->n_links_cap; i++)
            if (c->links[i].used && c->links[i].hello_recv &&
                p2p_link_in_topic(&c->links[i], tp->name))
                members++;
        if (members < c->p.room_min_links && p2p_link_count_regular(c) < c->p.max_links)
            s_dial_random(c, tp->name, now);
    }
}

void p2p_core_tick(p2p_core_t *c, uint64_t now_ms)
{
    p2p_core_flush_acks(c, now_ms);
    s_maintain_links(c, now_ms);
    if (now_ms >= c->last_heartbeat_ms + c->p.heartbeat_ms) {
        c->last_heartbeat_ms = now_ms;
        s_maintain_degree(c, now_ms);
        p2p_gossip_heartbeat(c, now_ms);
        p2p_table_expire(c->table, now_ms);
    }
    if (now_ms >= c->last_peers_ms + PEERS_EVERY_MS) {
        c->last_peers_ms = now_ms;
        /* peer exchange with one random link keeps tables fresh */
        size_t ready = p2p_link_count_ready(c);
        if (ready) {
            size_t pick = (size_t)(p2p_rand(c) % ready);
            for (size_t i = 0; i < c->n_links_cap; i++)
                if (c->links[i].used && c->links[i].hello_recv && pick-- == 0) {
                    p2p_send_peers(c, c->links[i].id, now_ms);
                    break;
                }
        }
    }
    if (now_ms >= c->self_rec_refresh_ms)
        p2p_self_record_update(c, now_ms);
    p2p_lookup_tick(c, now_ms);
}

/* ---- listing ---- */

size_t p2p_core_peers(p2p_core_t *c, uint64_t now_ms, p2p_peer_info_t *out, size_t max)
{
    size_t n = 0, count = p2p_table_count(c->table);
    for (size_t i = 0; i < count && n < max; i++) {
        p2p_entry_t *e = p2p_table_at(c->table, i);
        p2p_peer_info_t *o = &out[n++];
        memset(o, 0, sizeof *o);
        memcpy(o->id, e->rec.id, 32);
        if (e->rec.n_endpoints)
            memcpy(o->endpoint, e->rec.endpoints[0], P2P_ENDPOINT_MAX);
        o->roles = e->rec.roles;
        memcpy(o->rooms, e->rec.rooms, sizeof o->rooms);
        o->n_rooms = e->rec.n_rooms;
        o->last_seen_ms = e->last_seen_ms;
        p2p_link_t *l = p2p_link_ready(c, e->rec.id);
        o->score = l ? l->score : e->score;
        o->linked = l != NULL;
        o->banned = e->banned_until_ms > now_ms;
    }
    return n;
}

void p2p_core_stats(const p2p_core_t *c, p2p_stats_t *out)
{
    *out = c->st;
    out->seen_entries = p2p_seen_count(c->seen);
    out->mcache_entries = p2p_mcache_count(c->mcache);
    out->mcache_bytes = p2p_mcache_bytes(c->mcache);
    out->table_entries = p2p_table_count(c->table);
    out->links = p2p_link_count_ready(c);
}
