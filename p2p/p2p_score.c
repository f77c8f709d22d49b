/*  p2p_score: what a peer's behaviour costs it: refusals counted and scored
 *  (p2p_reject), scores (p2p_penalize), bans by node id and by CURVE key, and the
 *  per-link token bucket. Part of the sans-IO core (p2p_core_int.h).
 */
#include <string.h>

#include "p2p/p2p_core_int.h"
#include "proto/proto_log.h"

bool p2p_is_banned(const p2p_core_t *c, const uint8_t id[static 32], uint64_t now)
{
    if (now >= c->bans_until_ms)
        return false; /* every ban has run out: the usual case, checked per message */
    for (size_t i = 0; i < P2P_BANS; i++)
        if (c->bans[i].until_ms > now && memcmp(c->bans[i].id, id, 32) == 0)
            return true;
    return false;
}

static void s_ban(p2p_core_t *c, p2p_link_t *l, uint64_t now)
{
    size_t slot = 0;
    for (size_t i = 0; i < P2P_BANS; i++) {
        if (c->bans[i].until_ms <= now) {
            slot = i;
            break;
        }
        if (c->bans[i].until_ms < c->bans[slot].until_ms)
            slot = i;
    }
    p2p_ban_t *b = &c->bans[slot];
    memcpy(b->id, l->id, 32);
    if (proto_key_curve_public(l->id, b->curve) != 0)
        memset(b->curve, 0, 32);
    b->until_ms = now + c->p.ban_ms;
    if (b->until_ms > c->bans_until_ms)
        c->bans_until_ms = b->until_ms;
    p2p_entry_t *e = p2p_table_get(c->table, l->id);
    if (e)
        e->banned_until_ms = b->until_ms;
    c->st.banned++;
    char s[9];
    p2p_short_id(l->id, s);
    GLOG_LIMITED(&c->lim.ban, now, WARN, NET, "banning peer %s for %llu s (score %d)", s,
                 (unsigned long long)(c->p.ban_ms / 1000), (int)l->score);
    p2p_link_close(c, l, now, false);
}

void p2p_penalize(p2p_core_t *c, p2p_link_t *l, int32_t points, uint64_t now)
{
    if (!l)
        return;
    l->score -= points;
    p2p_entry_t *e = p2p_table_get(c->table, l->id);
    if (e)
        e->score = l->score;
    if (l->score <= c->p.ban_score)
        s_ban(c, l, now);
}

static const struct {
    const char *what;
    int32_t points;
} s_rejects[P2P_RJ_COUNT] = {
    [P2P_RJ_OVERSIZED] = {"an oversized frame", P2P_PEN_OVERSIZED},
    [P2P_RJ_ENVELOPE] = {"an undecodable envelope", P2P_PEN_MALFORMED},
    [P2P_RJ_BODY] = {"an undecodable message body", P2P_PEN_MALFORMED},
    [P2P_RJ_PROTOCOL] = {"a message against the protocol", P2P_PEN_PROTOCOL},
    [P2P_RJ_NOT_SENDER] = {"a direct message signed by another node", P2P_PEN_BAD_SIG},
    [P2P_RJ_BAD_SIG] = {"a bad signature", P2P_PEN_BAD_SIG},
    [P2P_RJ_STALE] = {"a message signed too far from our clock", 0},
    [P2P_RJ_RATE] = {"a message over the rate limit", P2P_PEN_RATE},
    [P2P_RJ_POLICY] = {"a room post the posting policy refuses", P2P_PEN_POLICY},
};

void p2p_reject(p2p_core_t *c, p2p_link_t *l, const uint8_t peer[static 32], p2p_reject_t why,
                uint64_t now)
{
    switch (why) {
    case P2P_RJ_OVERSIZED:
        c->st.oversized++;
        c->st.malformed++;
        break;
    case P2P_RJ_STALE:
        c->st.stale++;
        c->st.malformed++;
        break;
    case P2P_RJ_NOT_SENDER:
    case P2P_RJ_BAD_SIG:
        c->st.bad_sig++;
        break;
    case P2P_RJ_RATE:
        c->st.rate_limited++;
        break;
    case P2P_RJ_POLICY:
        c->st.policy_dropped++;
        break;
    default:
        c->st.malformed++;
        break;
    }
    if ((unsigned)why >= P2P_RJ_COUNT)
        return;
    char s[9];
    p2p_short_id(peer, s);
    GLOG_LIMITED(&c->lim.reject[why], now, DEBUG, NET, "refused %s from peer %s (score %d)",
                 s_rejects[why].what, s, l ? (int)(l->score - s_rejects[why].points) : 0);
    if (s_rejects[why].points)
        p2p_penalize(c, l, s_rejects[why].points, now);
}

/* Token bucket per link. */
bool p2p_rate_ok(p2p_core_t *c, p2p_link_t *l, uint64_t now)
{
    if (now > l->tokens_ms) {
        l->tokens += (double)(now - l->tokens_ms) * c->p.rate_per_s / 1000.0;
        if (l->tokens > c->p.rate_burst)
            l->tokens = c->p.rate_burst;
        l->tokens_ms = now;
    }
    if (l->tokens < 1.0)
        return false;
    l->tokens -= 1.0;
    return true;
}

bool p2p_core_curve_banned(p2p_core_t *c, const uint8_t curve_pub[static 32], uint64_t now_ms)
{
    if (now_ms >= c->bans_until_ms)
        return false;
    for (size_t i = 0; i < P2P_BANS; i++)
        if (c->bans[i].until_ms > now_ms && memcmp(c->bans[i].curve, curve_pub, 32) == 0)
            return true;
    return false;
}
