/*  test_p2p_policy: a room post the posting policy refuses costs the peer that relayed it.
 *
 *  A p2p core in room "recruitment" with a policy that accepts only posts starting with
 *  "ok" is driven directly (no sockets), as in test_p2p_core. A linked peer relays posts
 *  made by a third node (the envelope's origin), so the test also shows who pays: the
 *  link peer, not the origin. Checks: an accepted post is delivered and costs nothing;
 *  each refused one is not delivered, counts in policy_dropped and takes 10 points from
 *  the relaying link; the tenth refusal in a row (score -100) bans the link peer (its
 *  link is closed, its CURVE key refused), while the origin, which never had a link, is
 *  not banned. Times are fixed (no clock, no sleep).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/p2p_core.h"
#include "p2p/p2p_msg.h"
#include "proto/proto_envelope.h"
#include "proto/proto_log.h"
#include "proto/proto_msgtype.h"
#include "p2p_core_testutil.h"
#include "testutil.h"

#define T0 1700000000000ull
#define ROOM "recruitment"

typedef struct {
    size_t delivered, policy_calls, hangups;
    uint8_t last_origin[32];
} t_io_t;

static void t_hangup(void *ctx, const uint8_t peer[static 32])
{
    t_io_t *io = ctx;
    io->hangups++;
    (void)peer;
}

static void t_deliver(void *ctx, const char *topic, uint32_t kind, const uint8_t origin[static 32],
                      const uint8_t *data, size_t len, uint64_t time_ms)
{
    t_io_t *io = ctx;
    if (strcmp(topic, ROOM) == 0)
        io->delivered++;
    memcpy(io->last_origin, origin, 32);
    (void)kind;
    (void)data;
    (void)len;
    (void)time_ms;
}

static bool t_policy(void *ctx, const char *topic, const uint8_t origin[static 32],
                     const uint8_t *data, size_t len)
{
    t_io_t *io = ctx;
    io->policy_calls++;
    (void)origin;
    return strcmp(topic, ROOM) != 0 || (len >= 2 && memcmp(data, "ok", 2) == 0);
}

static p2p_core_t *t_core(const proto_key_t *key, t_io_t *io)
{
    p2p_core_config_t cfg;
    p2p_testutil_config(&cfg, key, 0x42, 1);
    p2p_io_t tio = {.ctx = io,
                    .send = p2p_testutil_send_taken,
                    .dial = p2p_testutil_dial_none,
                    .hangup = t_hangup,
                    .on_deliver = t_deliver,
                    .policy = t_policy};
    return p2p_core_new(&cfg, &tio, T0);
}

/* ORIGIN's post TEXT in the room, relayed by link peer LINK at NOW. */
static void t_post(p2p_core_t *c, const proto_key_t *origin, const proto_key_t *link,
                   const char *text, uint64_t seq, uint64_t now)
{
    proto_wr_t w;
    proto_wr_init(&w);
    p2p_msg_write_gossip(&w, ROOM, 1, (const uint8_t *)text, strlen(text));
    size_t len;
    uint8_t *m = p2p_testutil_seal(origin, PROTO_MSG_GOSSIP, &w, seq, now, &len);
    CHECK(m != NULL);
    if (m)
        p2p_core_on_message(c, proto_key_public(link), m, len, now);
    free(m);
}

static int32_t t_score(p2p_core_t *c, const uint8_t id[static 32], uint64_t now, bool *banned)
{
    p2p_peer_info_t peers[8];
    size_t n = p2p_core_peers(c, now, peers, 8);
    for (size_t i = 0; i < n; i++)
        if (memcmp(peers[i].id, id, 32) == 0) {
            *banned = peers[i].banned;
            return peers[i].score;
        }
    *banned = false;
    return 0;
}

static void test_policy_ban(void)
{
    t_io_t io = {0};
    proto_key_t *key = proto_key_generate(), *relay = proto_key_generate();
    proto_key_t *origin = proto_key_generate();
    REQUIRE(key && relay && origin);
    p2p_core_t *c = t_core(key, &io);
    REQUIRE(c != NULL);
    CHECK_EQ(p2p_core_room_join(c, ROOM, T0), 0);
    REQUIRE(p2p_testutil_link(c, relay, 0x42, ROOM, T0));
    CHECK_EQ(p2p_core_link_count(c), 1u);

    /* an accepted post: delivered, free */
    t_post(c, origin, relay, "ok: a registered trainer's post", 1, T0 + 1);
    CHECK_EQ(io.delivered, 1u);
    CHECK(memcmp(io.last_origin, proto_key_public(origin), 32) == 0);
    p2p_stats_t st;
    p2p_core_stats(c, &st);
    CHECK_EQ(st.policy_dropped, 0u);
    bool banned;
    CHECK_EQ(t_score(c, proto_key_public(relay), T0 + 1, &banned), 0);

    /* refused posts, all within one second (no time to recover a point) */
    for (uint64_t i = 1; i <= 10; i++) {
        char text[64];
        snprintf(text, sizeof text, "spam %llu", (unsigned long long)i);
        t_post(c, origin, relay, text, 1 + i, T0 + 2 + i);
        p2p_core_stats(c, &st);
        CHECK_EQ(st.policy_dropped, i);
        CHECK_EQ(io.delivered, 1u);
        if (i < 10) {
            CHECK_EQ(t_score(c, proto_key_public(relay), T0 + 2 + i, &banned), -10 * (int32_t)i);
            CHECK(!banned);
            CHECK_EQ(st.banned, 0u);
            CHECK_EQ(p2p_core_link_count(c), 1u);
        }
    }
    CHECK_EQ(st.banned, 1u);
    CHECK_EQ(p2p_core_link_count(c), 0u);
    CHECK(io.hangups >= 1);
    uint8_t curve[32];
    CHECK(proto_key_curve_public(proto_key_public(relay), curve) == 0);
    CHECK(p2p_core_curve_banned(c, curve, T0 + 20));
    CHECK(proto_key_curve_public(proto_key_public(origin), curve) == 0);
    CHECK(!p2p_core_curve_banned(c, curve, T0 + 20));
    /* nothing more from the banned peer reaches the policy */
    size_t calls = io.policy_calls;
    t_post(c, origin, relay, "ok: after the ban", 100, T0 + 30);
    CHECK_EQ(io.policy_calls, calls);
    CHECK_EQ(io.delivered, 1u);

    p2p_core_destroy(&c);
    proto_key_destroy(&key);
    proto_key_destroy(&relay);
    proto_key_destroy(&origin);
}

int main(void)
{
    if (proto_crypto_init() != 0) {
        fprintf(stderr, "cannot initialise libsodium\n");
        return 1;
    }
    proto_log_set_level(LOG_LVL_ERROR);
    test_policy_ban();
    return testutil_done("test_p2p_policy");
}
