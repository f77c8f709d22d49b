/*  p2p_core: links, handshake, message dispatch, peer exchange and liveness.
 *
 *  The sans-IO heart of the p2p layer (see p2p_core.h). Gossip and rooms live in
 *  p2p_gossip.c, lookups and unicast in p2p_lookup.c, scoring, bans and rate limits in
 *  p2p_score.c; all of them share p2p_core_int.h.
 *  Every message goes through p2p_core_on_message in this order: link and ban checks,
 *  rate limit, deduplication by hash of the raw bytes (before any signature check),
 *  strict envelope decoding, signature verification, freshness, then the handler.
 */
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core_int.h"
#include "proto/proto_hex.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"

#define PEERS_SHARE 16

void p2p_params_default(p2p_params_t *p)
{
    *p = (p2p_params_t){.target_degree = 8,
                        .max_links = 32,
                        .flood_max = 4,
                        .mesh_degree = 2,
                        .room_min_links = 3,
                        .table_capacity = 1024,
                        .seen_capacity = 65536,
                        .seen_ttl_ms = 120000,
                        .mcache_capacity = 4096,
                        .mcache_bytes = 8u * 1024 * 1024,
                        .mcache_ttl_ms = 30000,
                        .heartbeat_ms = 200,
                        .ping_after_ms = 5000,
                        .expire_after_ms = 15000,
                        .hello_timeout_ms = 5000,
                        .backoff_max_ms = 60000,
                        .record_ttl_ms = 3600000,
                        .lookup_timeout_ms = 2000,
                        .send_retry_ms = 1000,
                        .rate_per_s = 20000,
                        .rate_burst = 40000,
                        .ban_score = -100,
                        .ban_ms = 600000,
                        .max_queued_unicast = 1024};
}

uint64_t p2p_rand(p2p_core_t *c)
{
    /* splitmix64: deterministic from the configured seed */
    uint64_t z = (c->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void p2p_short_id(const uint8_t id[static 32], char out[static 9])
{
    proto_hex_encode(id, 4, out);
}

/* ---- links ---- */

p2p_link_t *p2p_link_find(p2p_core_t *c, const uint8_t id[static 32])
{
    for (size_t i = 0; i < c->n_links_cap; i++)
        if (c->links[i].used && memcmp(c->links[i].id, id, 32) == 0)
            return &c->links[i];
    return NULL;
}

p2p_link_t *p2p_link_ready(p2p_core_t *c, const uint8_t id[static 32])
{
    p2p_link_t *l = p2p_link_find(c, id);
    return l && l->hello_recv ? l : NULL;
}

size_t p2p_link_count_ready(const p2p_core_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_links_cap; i++)
        n += c->links[i].used && c->links[i].hello_recv;
    return n;
}

/* Links that count against max_links (transient ones do not). */
size_t p2p_link_count_regular(const p2p_core_t *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_links_cap; i++)
        n += c->links[i].used && !c->links[i].transient;
    return n;
}

static p2p_link_t *s_link_alloc(p2p_core_t *c, const uint8_t id[static 32], uint64_t now)
{
    for (size_t i = 0; i < c->n_links_cap; i++) {
        p2p_link_t *l = &c->links[i];
        if (!l->used) {
            memset(l, 0, sizeof *l);
            l->used = true;
            memcpy(l->id, id, 32);
            l->opened_ms = l->last_recv_ms = l->last_use_ms = l->tokens_ms = l->score_ms = now;
            l->tokens = c->p.rate_burst;
            size_t cap = c->p.mcache_capacity / 2;
            cap = cap < P2P_KNOWN_MIN ? P2P_KNOWN_MIN : cap > P2P_KNOWN_MAX ? P2P_KNOWN_MAX : cap;
            l->known = p2p_seen_new(cap, c->p.mcache_ttl_ms);
            l->sent = p2p_seen_new(cap, c->p.mcache_ttl_ms);
            p2p_entry_t *e = p2p_table_get(c->table, id);
            if (e && e->score < 0)
                l->score = e->score; /* reconnecting does not wash a bad score */
            return l;
        }
    }
    return NULL;
}

void p2p_link_knows(p2p_link_t *l, const uint8_t id[static 32], uint64_t now)
{
    if (l && l->known)
        p2p_seen_add(l->known, id, now);
}

/* Forgets a link; the transport is told to hang up. */
void p2p_link_close(p2p_core_t *c, p2p_link_t *l, uint64_t now, bool failed)
{
    uint8_t id[32];
    memcpy(id, l->id, 32);
    bool was_ready = l->hello_recv;
    l->used = false;
    p2p_seen_destroy(&l->known);
    p2p_seen_destroy(&l->sent);
    p2p_entry_t *e = p2p_table_get(c->table, id);
    if (e) {
        e->linked = false;
        if (failed && !was_ready) {
            e->dial_failures++;
            uint64_t backoff = 1000ull << (e->dial_failures < 16 ? e->dial_failures : 16);
            if (backoff > c->p.backoff_max_ms)
                backoff = c->p.backoff_max_ms;
            e->next_dial_ms = now + backoff;
        }
    }
    c->io.hangup(c->io.ctx, id);
    p2p_gossip_link_gone(c, id);
    if (!was_ready)
        p2p_lookup_link_failed(c, id, now);
}

/* ---- sending ---- */

int p2p_send_msg(p2p_core_t *c, const uint8_t peer[static 32], uint32_t type, const uint8_t *body,
                 size_t len, uint64_t now)
{
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    int rc = proto_envelope_seal(c->key, type, ++c->seq, now, body, len, &buf, &buf_len);
    if (rc != PROTO_OK)
        return rc;
    (void)p2p_send_raw(c, p2p_link_find(c, peer), peer, buf, buf_len, now);
    free(buf);
    return 0;
}

bool p2p_send_raw(p2p_core_t *c, p2p_link_t *l, const uint8_t peer[static 32], const uint8_t *raw,
                  size_t len, uint64_t now)
{
    c->st.msgs_out++;
    c->st.bytes_out += len;
    if (c->io.send(c->io.ctx, peer, raw, len))
        return true;
    c->st.send_refused++;
    if (l)
        l->send_refused++;
    char s[9];
    p2p_short_id(peer, s);
    GLOG_LIMITED(&c->lim.refused, now, DEBUG, NET,
                 "the transport refused a message to %s (%llu refused on that link)", s,
                 (unsigned long long)(l ? l->send_refused : 0));
    return false;
}

int p2p_send_wr(p2p_core_t *c, const uint8_t peer[static 32], uint32_t type, proto_wr_t *w,
                uint64_t now)
{
    size_t len;
    const uint8_t *body = proto_wr_data(w, &len);
    int rc = body ? p2p_send_msg(c, peer, type, body, len, now) : P2P_E_NOMEM;
    proto_wr_free(w);
    return rc;
}

void p2p_send_hello(p2p_core_t *c, const uint8_t peer[static 32], bool have_yours, uint64_t now)
{
    p2p_hello_t h;
    memset(&h, 0, sizeof h);
    h.have_yours = have_yours;
    p2p_link_t *l = p2p_link_find(c, peer);
    if (l)
        l->last_hello_ms = now;
    memcpy(h.chain_id, c->chain_id, 32);
    h.record = c->self_rec;
    snprintf(h.agent, sizeof h.agent, "%s", c->agent);
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_hello(&w, &h);
    p2p_send_wr(c, peer, PROTO_MSG_HELLO, &w, now);
}

void p2p_send_bye(p2p_core_t *c, const uint8_t peer[static 32], const char *reason, uint64_t now)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_bye(&w, reason);
    p2p_send_wr(c, peer, PROTO_MSG_BYE, &w, now);
}

/* Sends up to PEERS_SHARE random known records to PEER. */
void p2p_send_peers(p2p_core_t *c, const uint8_t peer[static 32], uint64_t now)
{
    const p2p_record_t *recs[PEERS_SHARE];
    size_t n = 0, count = p2p_table_count(c->table);
    if (count == 0)
        return;
    size_t start = (size_t)(p2p_rand(c) % count);
    for (size_t k = 0; k < count && n < PEERS_SHARE; k++) {
        p2p_entry_t *e = p2p_table_at(c->table, (start + k) % count);
        if (memcmp(e->rec.id, peer, 32) == 0 || e->rec.expiry_ms <= now ||
            e->banned_until_ms > now || e->rec.n_endpoints == 0)
            continue;
        recs[n++] = &e->rec;
    }
    if (n == 0)
        return;
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_records(&w, false, 0, recs, n);
    p2p_send_wr(c, peer, PROTO_MSG_PEERS, &w, now);
}

p2p_link_t *p2p_link_dial(p2p_core_t *c, const uint8_t id[static 32], const char *endpoint,
                          bool transient, uint64_t now)
{
    if (memcmp(id, c->id, 32) == 0 || p2p_is_banned(c, id, now) || p2p_link_find(c, id))
        return NULL;
    if (!transient && p2p_link_count_regular(c) >= c->p.max_links)
        return NULL;
    p2p_link_t *l = s_link_alloc(c, id, now); /* NULL when even the slack is used up */
    if (!l)
        return NULL;
    l->outbound = true;
    l->transient = transient;
    p2p_entry_t *e = p2p_table_get(c->table, id);
    if (e)
        e->linked = true;
    c->io.dial(c->io.ctx, id, endpoint);
    p2p_send_hello(c, id, false, now);
    return l;
}

/* ---- records ---- */

void p2p_self_record_update(p2p_core_t *c, uint64_t now)
{
    c->self_rec.seq++;
    c->self_rec.expiry_ms = now + c->p.record_ttl_ms;
    p2p_record_sign(&c->self_rec, c->key);
    c->self_rec_refresh_ms = now + c->p.record_ttl_ms / 2;
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_record(&w, &c->self_rec);
    size_t len;
    const uint8_t *body = proto_wr_data(&w, &len);
    if (body)
        p2p_gossip_publish(c, "", P2P_KIND_RECORD, body, len, now);
    proto_wr_free(&w);
}

static bool s_record_fresh(const p2p_core_t *c, const p2p_record_t *rec, uint64_t now)
{
    return rec->expiry_ms > now && rec->expiry_ms <= now + 2 * c->p.record_ttl_ms;
}

/* Link L (may be NULL) takes table entry E's record when it is newer than its own. */
static void s_link_take_newer(p2p_link_t *l, p2p_entry_t *e)
{
    if (!l || !e)
        return;
    if (e->rec.seq > l->rec.seq)
        l->rec = e->rec;
    e->linked = true;
}

bool p2p_learn_record(p2p_core_t *c, const p2p_record_t *rec, uint64_t now)
{
    if (memcmp(rec->id, c->id, 32) == 0 || !s_record_fresh(c, rec, now))
        return false;
    p2p_entry_t *e = p2p_table_get(c->table, rec->id);
    p2p_link_t *l = p2p_link_ready(c, rec->id);
    if (e && e->rec.seq >= rec->seq) {
        /* nothing new: skip the signature check; but a link whose HELLO carried an older
           record than the table holds (the newer one came round by gossip first) routes
           by the newer one from now on, or it would miss the rooms joined in between */
        s_link_take_newer(l, e);
        return true;
    }
    if (!p2p_record_verify(rec))
        return false;
    p2p_table_put(c->table, rec, now);
    if (l && rec->seq > l->rec.seq)
        l->rec = *rec;
    if (l && (e = p2p_table_get(c->table, rec->id)))
        e->linked = true;
    return true;
}

/* ---- lifecycle ---- */

p2p_core_t *p2p_core_new(const p2p_core_config_t *cfg, const p2p_io_t *io, uint64_t now_ms)
{
    if (!cfg || !cfg->key || !io || !io->send || !io->dial || !io->hangup ||
        cfg->n_endpoints > P2P_REC_ENDPOINTS)
        return NULL;
    p2p_core_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->key = cfg->key;
    memcpy(c->id, proto_key_public(cfg->key), 32);
    memcpy(c->chain_id, cfg->chain_id, 32);
    c->p = cfg->params;
    if (c->p.max_links == 0)
        p2p_params_default(&c->p);
    c->io = *io;
    snprintf(c->agent, sizeof c->agent, "%s", cfg->agent ? cfg->agent : "genie");
    c->rng = cfg->rng_seed;
    c->seq = now_ms << 16; /* monotone across restarts */
    c->n_links_cap = c->p.max_links + P2P_TRANSIENT_SLACK;
    c->links = calloc(c->n_links_cap, sizeof *c->links);
    c->table = p2p_table_new(c->id, c->p.table_capacity);
    c->seen = p2p_seen_new(c->p.seen_capacity, c->p.seen_ttl_ms);
    c->mcache = p2p_mcache_new(c->p.mcache_capacity, c->p.mcache_bytes, c->p.mcache_ttl_ms);
    c->wanted = p2p_seen_new(P2P_WANTS_MAX / 4, P2P_WANT_RETRY_MS);
    c->ihave_refs = calloc(P2P_IHAVE_SCAN, sizeof *c->ihave_refs);
    c->batch = p2p_batch_new();
    if (!c->links || !c->table || !c->seen || !c->mcache || !c->wanted || !c->batch ||
        !c->ihave_refs) {
        p2p_core_destroy(&c);
        return NULL;
    }
    memcpy(c->self_rec.id, c->id, 32);
    for (size_t i = 0; i < cfg->n_endpoints; i++) {
        if (!p2p_endpoint_ok(cfg->endpoints[i])) {
            p2p_core_destroy(&c);
            return NULL;
        }
        snprintf(c->self_rec.endpoints[i], P2P_ENDPOINT_MAX, "%s", cfg->endpoints[i]);
    }
    c->self_rec.n_endpoints = (uint8_t)cfg->n_endpoints;
    c->self_rec.roles = cfg->roles;
    c->self_rec.seq = now_ms; /* a restarted node's records supersede its old ones */
    c->topics[0].used = true; /* node-wide topic "" */
    c->next_lookup_id = 1;
    c->next_send_id = 1;
    c->next_req = 1;
    c->last_heartbeat_ms = now_ms;
    c->last_peers_ms = now_ms;
    c->announce_pending = true;
    c->next_rotate_ms = now_ms + P2P_ROTATE_MS + p2p_rand(c) % P2P_ROTATE_MS;
    p2p_self_record_update(c, now_ms);
    return c;
}

void p2p_core_destroy(p2p_core_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    p2p_core_t *c = *self_p;
    p2p_lookup_free_all(c);
    for (size_t i = 0; c->links && i < c->n_links_cap; i++) {
        p2p_seen_destroy(&c->links[i].known);
        p2p_seen_destroy(&c->links[i].sent);
    }
    p2p_seen_destroy(&c->wanted);
    free(c->wants);
    free(c->ihave_refs);
    p2p_table_destroy(&c->table);
    p2p_seen_destroy(&c->seen);
    p2p_mcache_destroy(&c->mcache);
    p2p_batch_destroy(&c->batch);
    free(c->links);
    free(c);
    *self_p = NULL;
}

void p2p_core_shutdown(p2p_core_t *c, uint64_t now_ms)
{
    for (size_t i = 0; i < c->n_links_cap; i++)
        if (c->links[i].used)
            p2p_send_bye(c, c->links[i].id, "shutdown", now_ms);
}

int p2p_core_add_seed(p2p_core_t *c, const uint8_t id[static 32], const char *endpoint,
                      uint64_t now_ms)
{
    if (!p2p_endpoint_ok(endpoint))
        return P2P_E_ADDR_ENDPOINT;
    if (memcmp(id, c->id, 32) == 0)
        return P2P_E_SELF;
    p2p_seed_t *sd = NULL;
    for (size_t i = 0; i < P2P_MAX_SEEDS && !sd; i++)
        if (!c->seeds[i].used || memcmp(c->seeds[i].id, id, 32) == 0)
            sd = &c->seeds[i];
    if (!sd)
        return P2P_E_TOO_MANY_SEEDS;
    sd->used = true;
    memcpy(sd->id, id, 32);
    snprintf(sd->endpoint, sizeof sd->endpoint, "%s", endpoint);
    sd->fails = 0;
    sd->next_ms = now_ms + c->p.hello_timeout_ms + 1000;
    if (p2p_link_find(c, id))
        return 0;
    p2p_link_dial(c, id, endpoint, false, now_ms); /* may fail now: retried from the tick */
    return 0;
}

int p2p_core_save_peers(p2p_core_t *c, uint64_t now_ms, uint8_t **out, size_t *out_len)
{
    return p2p_table_save(c->table, now_ms, out, out_len);
}

int p2p_core_load_peers(p2p_core_t *c, const uint8_t *buf, size_t len, uint64_t now_ms)
{
    return p2p_table_load(c->table, buf, len, now_ms);
}

const uint8_t *p2p_core_id(const p2p_core_t *c)
{
    return c->id;
}

size_t p2p_core_link_count(const p2p_core_t *c)
{
    return p2p_link_count_ready(c);
}

size_t p2p_core_linked(const p2p_core_t *c, uint8_t (*out)[32], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n_links_cap && n < max; i++) {
        const p2p_link_t *l = &c->links[i];
        if (l->used && l->hello_recv && !l->transient)
            memcpy(out[n++], l->id, 32);
    }
    return n;
}

/* ---- handlers ---- */

static void s_on_hello(p2p_core_t *c, const uint8_t link_peer[static 32], p2p_link_t *l,
                       const proto_envelope_t *env, uint64_t now)
{
    p2p_hello_t h;
    char s[9];
    p2p_short_id(link_peer, s);
    if (p2p_msg_read_hello(env->body, env->body_len, &h) != PROTO_OK) {
        p2p_reject(c, l, link_peer, P2P_RJ_BODY, now);
        if (!l)
            c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    if (memcmp(h.chain_id, c->chain_id, 32) != 0) {
        char theirs[17], ours[17];
        proto_hex_encode(h.chain_id, 8, theirs);
        proto_hex_encode(c->chain_id, 8, ours);
        c->st.wrong_chain++;
        GLOG_LIMITED(&c->lim.wrong_chain, now, WARN, NET,
                     "peer %s is on chain %s, we are on %s: disconnecting", s, theirs, ours);
        p2p_send_bye(c, link_peer, "wrong chain id", now);
        if (l)
            p2p_link_close(c, l, now, true);
        else
            c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    if (memcmp(h.record.id, link_peer, 32) != 0 || !s_record_fresh(c, &h.record, now) ||
        !p2p_record_verify(&h.record)) {
        c->st.bad_sig++;
        GLOG_LIMITED(&c->lim.bad_hello, now, DEBUG, NET,
                     "peer %s sent a HELLO with a record that is not its own, expired or "
                     "badly signed: disconnecting",
                     s);
        if (l)
            p2p_link_close(c, l, now, true);
        else
            c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    if (!l) {
        /* Past max_links an inbound link is still taken as transient: the peer may need
           us only for a lookup or a direct message. */
        bool over = p2p_link_count_regular(c) >= c->p.max_links;
        if (!(l = s_link_alloc(c, link_peer, now))) {
            /* Full: help it find others, then say goodbye. */
            GLOG_LIMITED(&c->lim.full, now, DEBUG, NET,
                         "peer %s: no room for another link (%zu kept): sent peers and bye", s,
                         p2p_link_count_regular(c));
            p2p_table_put(c->table, &h.record, now);
            p2p_send_hello(c, link_peer, true, now);
            p2p_send_peers(c, link_peer, now);
            p2p_send_bye(c, link_peer, "too many peers", now);
            c->io.hangup(c->io.ctx, link_peer);
            return;
        }
        l->transient = over;
    }
    if (!h.have_yours)
        p2p_send_hello(c, link_peer, true, now); /* it lacks ours: (re)send it */
    bool first = !l->hello_recv;
    l->hello_recv = true;
    if (h.record.seq >= l->rec.seq)
        l->rec = h.record;
    p2p_table_put(c->table, &h.record, now);
    p2p_entry_t *e = p2p_table_get(c->table, link_peer);
    s_link_take_newer(l, e); /* its newer record may have come round by gossip first */
    if (e) {
        e->dial_failures = 0;
        e->next_dial_ms = 0;
        e->last_seen_ms = now;
    }
    if (first) {
        GLOG_LIMITED(&c->lim.link_up, now, INFO, NET, "link up with %s (%s, %zu links)", s,
                     l->outbound ? "outbound" : "inbound", p2p_link_count_ready(c));
        p2p_send_peers(c, link_peer, now);
        if (c->announce_pending) {
            /* our record went out when nobody could hear it: say it again now */
            c->announce_pending = false;
            p2p_self_record_update(c, now);
        }
        p2p_lookup_link_ready(c, link_peer, now);
    }
}

static void s_on_peers(p2p_core_t *c, p2p_link_t *l, const proto_envelope_t *env, uint64_t now)
{
    p2p_records_msg_t *m = &c->rx_records;
    if (p2p_msg_read_records(env->body, env->body_len, false, m) != PROTO_OK) {
        p2p_reject(c, l, l->id, P2P_RJ_BODY, now);
        return;
    }
    for (size_t i = 0; i < m->n_records; i++)
        p2p_learn_record(c, &m->records[i], now);
}

static void s_on_ping(p2p_core_t *c, p2p_link_t *l, const proto_envelope_t *env, uint64_t now)
{
    uint64_t nonce;
    if (p2p_msg_read_u64(env->body, env->body_len, &nonce) != PROTO_OK) {
        p2p_reject(c, l, l->id, P2P_RJ_BODY, now);
        return;
    }
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_u64(&w, nonce);
    p2p_send_wr(c, l->id, PROTO_MSG_PONG, &w, now);
}

static void s_on_bye(p2p_core_t *c, p2p_link_t *l, const proto_envelope_t *env, uint64_t now)
{
    char reason[P2P_REASON_MAX] = "";
    if (p2p_msg_read_bye(env->body, env->body_len, reason) != PROTO_OK)
        snprintf(reason, sizeof reason, "(unreadable)");
    char s[9];
    p2p_short_id(l->id, s);
    GLOG_LIMITED(&c->lim.link_down, now, INFO, NET, "link down with %s: it said bye (%s)", s,
                 reason);
    p2p_link_close(c, l, now, false);
}

/* Traffic from a peer we have no link with (we dropped it, it did not notice): tell it
   so it can reconnect, at a bounded rate since a BYE costs us a signature. */
static void s_stranger(p2p_core_t *c, const uint8_t peer[static 32], uint64_t now)
{
    if (now > c->stranger_ms) {
        c->stranger_tokens += (double)(now - c->stranger_ms) * 50 / 1000.0;
        if (c->stranger_tokens > 50)
            c->stranger_tokens = 50;
        c->stranger_ms = now;
    }
    if (c->stranger_tokens >= 1.0) {
        c->stranger_tokens -= 1.0;
        p2p_send_bye(c, peer, "no link", now);
    }
    c->io.hangup(c->io.ctx, peer);
}

void p2p_core_on_message(p2p_core_t *c, const uint8_t link_peer[static 32], const uint8_t *data,
                         size_t len, uint64_t now)
{
    p2p_on_one(c, link_peer, data, len, NULL, P2P_SIG_UNKNOWN, now);
}

void p2p_on_one(p2p_core_t *c, const uint8_t link_peer[static 32], const uint8_t *data, size_t len,
                const uint8_t *known_id, p2p_sig_t sig, uint64_t now)
{
    c->st.msgs_in++;
    c->st.bytes_in += len;
    if (p2p_is_banned(c, link_peer, now)) {
        c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    p2p_link_t *l = p2p_link_find(c, link_peer);
    if (l && !p2p_rate_ok(c, l, now)) {
        p2p_reject(c, l, link_peer, P2P_RJ_RATE, now);
        return;
    }
    if (len > PROTO_ENVELOPE_MAX) {
        p2p_reject(c, l, link_peer, P2P_RJ_OVERSIZED, now);
        if (!l)
            c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    uint8_t id[32];
    if (known_id)
        memcpy(id, known_id, 32);
    else
        proto_envelope_id(data, len, id);
    if (p2p_seen_has(c->seen, id, now)) {
        c->st.dup_dropped++;
        if (l) {
            l->last_recv_ms = now;
            p2p_link_knows(l, id, now); /* no need to advertise it to this peer */
        }
        return;
    }
    proto_envelope_t env;
    int rc = proto_envelope_decode(data, len, &env);
    if (rc == PROTO_E_VERSION) {
        char s[9];
        p2p_short_id(link_peer, s);
        GLOG_LIMITED(&c->lim.version, now, WARN, NET,
                     "peer %s speaks another protocol version (we speak %d): disconnecting", s,
                     PROTO_VERSION);
        c->st.malformed++;
        p2p_penalize(c, l, P2P_PEN_PROTOCOL, now); /* no free reconnects by garbage */
        if (l && l->used && memcmp(l->id, link_peer, 32) == 0)
            p2p_link_close(c, l, now, true);
        else
            c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    if (rc != PROTO_OK) {
        p2p_reject(c, l, link_peer, P2P_RJ_ENVELOPE, now);
        if (!l)
            c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    c->st.in_by_type[env.type < P2P_STATS_TYPES ? env.type : 0]++;
    /* Only a HELLO opens a conversation. */
    if ((!l || !l->hello_recv) && env.type != PROTO_MSG_HELLO && env.type != PROTO_MSG_BYE) {
        if (!l)
            s_stranger(c, link_peer, now);
        return; /* an outbound link may see traffic race ahead of the HELLO */
    }
    /* Direct messages come from the link peer itself; gossip may be relayed. */
    if (env.type != PROTO_MSG_GOSSIP && memcmp(env.sender, link_peer, 32) != 0) {
        p2p_reject(c, l, link_peer, P2P_RJ_NOT_SENDER, now);
        return;
    }
    p2p_seen_add(c->seen, id, now);
    if (sig == P2P_SIG_UNKNOWN && c->p.link_auth && env.type != PROTO_MSG_GOSSIP)
        sig = P2P_SIG_VALID; /* from the link peer itself, whose key the transport checked */
    if (sig == P2P_SIG_UNKNOWN)
        sig = proto_envelope_verify(&env) == PROTO_OK ? P2P_SIG_VALID : P2P_SIG_INVALID;
    if (sig != P2P_SIG_VALID) {
        p2p_reject(c, l, link_peer, P2P_RJ_BAD_SIG, now);
        if (!l)
            c->io.hangup(c->io.ctx, link_peer);
        return;
    }
    if (env.time_ms + FRESH_PAST_MS < now || env.time_ms > now + FRESH_FUTURE_MS) {
        p2p_reject(c, l, link_peer, P2P_RJ_STALE, now); /* a replay or a clock far off */
        return;
    }
    if (l) {
        l->last_recv_ms = now;
        p2p_entry_t *e = p2p_table_get(c->table, link_peer);
        if (e)
            e->last_seen_ms = now;
    }
    switch (env.type) {
    case PROTO_MSG_HELLO:
        s_on_hello(c, link_peer, l, &env, now);
        break;
    case PROTO_MSG_BYE:
        if (l)
            s_on_bye(c, l, &env, now);
        break;
    case PROTO_MSG_PING:
        s_on_ping(c, l, &env, now);
        break;
    case PROTO_MSG_PONG:
        break;
    case PROTO_MSG_PEERS:
        s_on_peers(c, l, &env, now);
        break;
    case PROTO_MSG_FIND_NODE:
        p2p_lookup_on_find_node(c, l, &env, now);
        break;
    case PROTO_MSG_NODES:
        p2p_lookup_on_nodes(c, l, &env, now);
        break;
    case PROTO_MSG_GOSSIP:
        p2p_gossip_on_msg(c, l, &env, data, len, id, now);
        break;
    case PROTO_MSG_IHAVE:
        p2p_repair_on_ihave(c, l, &env, now);
        break;
    case PROTO_MSG_IWANT:
        p2p_repair_on_iwant(c, l, &env, now);
        break;
    case PROTO_MSG_UNICAST:
        p2p_unicast_on_msg(c, l, &env, now);
        break;
    case PROTO_MSG_ACK:
        p2p_unicast_on_ack(c, l, &env, now);
        break;
    default:
        /* A type the registry knows but p2p does not carry directly. */
        p2p_reject(c, l, link_peer, P2P_RJ_PROTOCOL, now);
        break;
    }
}

void p2p_core_on_link_down(p2p_core_t *c, const uint8_t peer[static 32], uint64_t now_ms)
{
    p2p_link_t *l = p2p_link_find(c, peer);
    if (l)
        p2p_link_close(c, l, now_ms, true);
}
